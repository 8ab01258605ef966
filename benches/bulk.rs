//! Bulk enrollment on the test bench, side by side with the manual workflow: N = 1, 10 and 50
//! enrollments, wall time and time per enrollment, and the ratio.
//!
//! Not a test: it prints a table. Targets (issue "Bulk enrollment"): ykmfa at least 50x faster
//! per enrollment than the manual workflow's mean; 10 tokens enrolled in parallel in under 3 s
//! wall.
//!
//! - ykmfa: one `ykmfa bulk apply` process per manifest, timed whole (start-up, reaching IAM,
//!   finding the tokens, the enrollments, the journal's fsyncs, the report). pcscd serves at most
//!   16 readers, and a manifest gives each token one row, so N = 50 is five manifests of 10 rows on
//!   the same 10 tokens, run one after another; its wall time is their sum.
//! - The manual workflow, as a person does it, one enrollment after another:
//!   `aws iam create-virtual-mfa-device` (the AWS CLI from PyPI, seed to a file),
//!   `ykman oath accounts add`, `ykman oath accounts code`, waiting for the next 30 s step,
//!   `ykman oath accounts code` again, `aws iam enable-mfa-device`. The wait is the protocol's, so
//!   the workflow costs 15 s on average and up to 30 s per enrollment whatever the machine; it is
//!   run for N = 1 and N = 10 (about five minutes), and N = 50's figure is 50 x the measured mean,
//!   printed as extrapolated. `YKMFA_BENCH_MANUAL_MAX` caps the measured N (default 10; 50 runs
//!   it for real, about 25 minutes).
//!
//! Run as root after bench/setup: `cargo bench --bench bulk`.

// A failed expectation ends the benchmark with its reason, as in the tests.
#![allow(clippy::expect_used)]

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;
use support::{Bench, Spec, YubiKeySpec};

const TOKENS: usize = 10;
const FIRST_SERIAL: u32 = 30_000_001;

fn main() {
    let manual_max: usize = std::env::var("YKMFA_BENCH_MANUAL_MAX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let bench = Bench::start(Spec {
        yubikeys: YubiKeySpec::many_5_7(FIRST_SERIAL, TOKENS),
        nitrokey: false,
        iam: true,
    });
    println!(
        "bulk enrollment on the bench: {TOKENS} virtual YubiKeys on one pcscd, the strict IAM endpoint, binary {}",
        support::ykmfa_bin().display()
    );

    // ykmfa
    let mut ykmfa = Vec::new();
    let mut user = 0;
    for n in [1usize, 10, 50] {
        let mut wall = Duration::ZERO;
        let mut left = n;
        let mut wave = 0;
        while left > 0 {
            let rows = left.min(TOKENS);
            let mut csv = String::from("user,serial\n");
            for t in 0..rows {
                let name = format!("bulk{user}");
                user += 1;
                bench.aws(&["iam", "create-user", "--user-name", &name]);
                csv.push_str(&format!("{name},{}\n", FIRST_SERIAL + t as u32));
            }
            let manifest = bench.dir.join("home").join(format!("n{n}-wave{wave}.csv"));
            std::fs::write(&manifest, csv).expect("manifest");
            let started = Instant::now();
            let out = bench
                .ykmfa(&["bulk", "apply", &manifest.display().to_string()])
                .output()
                .expect("run ykmfa");
            wall += started.elapsed();
            bench.record_output(format!("bulk n={n} wave {wave} stdout"), out.stdout.clone());
            bench.record_output(format!("bulk n={n} wave {wave} stderr"), out.stderr.clone());
            assert!(
                out.status.success(),
                "ykmfa bulk apply failed: {}",
                support::text(&out.stderr)
            );
            left -= rows;
            wave += 1;
        }
        ykmfa.push((n, wall));
    }

    // The manual workflow, measured for N up to manual_max.
    let manual_dir = bench.dir.join("manual");
    std::fs::create_dir_all(&manual_dir).expect("manual dir");
    let mut manual_runs: Vec<(usize, Duration)> = Vec::new();
    let mut all_manual = Vec::new();
    for n in [1usize, 10, 50] {
        if n > manual_max {
            continue;
        }
        let mut wall = Duration::ZERO;
        for i in 0..n {
            let token = &bench.tokens[i % TOKENS];
            let name = format!("manual{user}");
            user += 1;
            bench.aws(&["iam", "create-user", "--user-name", &name]);
            let took = manual_enrollment(&bench, &manual_dir, &name, &token.reader);
            wall += took;
            all_manual.push(took);
            eprintln!("  manual enrollment {name}: {:.1} s", took.as_secs_f64());
        }
        manual_runs.push((n, wall));
    }
    let manual_mean = all_manual.iter().sum::<Duration>().as_secs_f64() / all_manual.len() as f64;

    println!();
    println!(
        "{:>4}  {:>11}  {:>14}  {:>13}  {:>14}  {:>7}",
        "N", "ykmfa wall", "ykmfa per enr.", "manual wall", "manual per", "ratio"
    );
    let mut ratios = Vec::new();
    for (n, wall) in &ykmfa {
        let per = wall.as_secs_f64() / *n as f64;
        let (manual_wall, label) = match manual_runs.iter().find(|(m, _)| m == n) {
            Some((_, w)) => (w.as_secs_f64(), ""),
            None => (manual_mean * *n as f64, " (extrapolated)"),
        };
        let manual_per = manual_wall / *n as f64;
        let ratio = manual_per / per;
        ratios.push(ratio);
        println!(
            "{n:>4}  {:>9.3} s  {:>12.3} s  {:>11.1} s  {:>12.1} s  {:>6.0}x{label}",
            wall.as_secs_f64(),
            per,
            manual_wall,
            manual_per,
            ratio
        );
    }
    println!();
    println!(
        "manual workflow: {} enrollments measured, mean {manual_mean:.1} s, min {:.1} s, max {:.1} s (the wait for the next 30 s step is most of it)",
        all_manual.len(),
        all_manual.iter().min().map_or(0.0, Duration::as_secs_f64),
        all_manual.iter().max().map_or(0.0, Duration::as_secs_f64),
    );
    if manual_max < 50 {
        println!("N = 50 manual: 50 x the measured mean (extrapolated, not run: it would take about {:.0} minutes)", 50.0 * manual_mean / 60.0);
    }
    println!("N = 50 ykmfa: five manifests of 10 rows on the same 10 tokens, one after another (one row per token per manifest)");
    let ten = ykmfa
        .iter()
        .find(|(n, _)| *n == 10)
        .map_or(0.0, |(_, w)| w.as_secs_f64());
    let worst = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "targets: per enrollment at least 50x faster than manual: {} (worst {worst:.0}x); 10 tokens in parallel under 3 s wall: {} ({ten:.2} s)",
        if worst >= 50.0 { "met" } else { "NOT met" },
        if ten < 3.0 { "met" } else { "NOT met" }
    );
    let seeds = bench.assert_no_seed_leaked();
    println!("seed scan: {seeds} seeds searched for in every ykmfa output and every file under HOME (manifests, journals, reports): none found");
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64()
}

/// One enrollment as a person does it with the AWS CLI and ykman; returns its wall time. The
/// seed file is the AWS CLI's (`--outfile`), outside the bench's HOME, removed at the end.
fn manual_enrollment(bench: &Bench, dir: &Path, user: &str, reader: &str) -> Duration {
    let started = Instant::now();
    let seed_file = dir.join(format!("{user}.seed"));
    let created = bench.aws_cli(&[
        "iam",
        "create-virtual-mfa-device",
        "--virtual-mfa-device-name",
        user,
        "--outfile",
        &seed_file.display().to_string(),
        "--bootstrap-method",
        "Base32StringSeed",
    ]);
    let arn = created["VirtualMFADevice"]["SerialNumber"]
        .as_str()
        .expect("serial")
        .to_owned();
    let seed = std::fs::read_to_string(&seed_file).expect("seed file");
    let label = format!("Amazon Web Services:{user}");
    ykman(
        bench,
        reader,
        &[
            "oath",
            "accounts",
            "add",
            "--force",
            "--issuer",
            "Amazon Web Services",
            user,
            seed.trim(),
        ],
    );
    drop(seed);
    let _ = std::fs::remove_file(&seed_file);
    let code1 = ykman(
        bench,
        reader,
        &["oath", "accounts", "code", "--single", &label],
    );
    // The next 30 s step (a person watches the authenticator's countdown).
    let next = ((unix_now() / 30.0).floor() + 1.0) * 30.0;
    std::thread::sleep(Duration::from_secs_f64((next - unix_now()).max(0.0) + 0.2));
    let code2 = ykman(
        bench,
        reader,
        &["oath", "accounts", "code", "--single", &label],
    );
    bench.aws_cli(&[
        "iam",
        "enable-mfa-device",
        "--user-name",
        user,
        "--serial-number",
        &arn,
        "--authentication-code1",
        code1.trim(),
        "--authentication-code2",
        code2.trim(),
    ]);
    let took = started.elapsed();
    let check = bench.iam_call("GET", &format!("/_bench/device?serial={arn}"), json!({}));
    assert_eq!(
        check["assigned"], true,
        "manual enrollment of {user}: {check}"
    );
    took
}

fn ykman(bench: &Bench, reader: &str, args: &[&str]) -> String {
    let out = bench.ykman(reader, args);
    assert!(
        out.status.success(),
        "ykman {:?}: {}",
        &args[..2],
        support::text(&out.stderr)
    );
    support::text(&out.stdout)
}
