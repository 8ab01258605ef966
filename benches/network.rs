//! Every command at a real network's distance: the bench's IAM endpoint behind a latency front
//! (bench/iam/latency_front.py: a fixed one-way delay, a round trip more per new connection, IAM
//! and STS on separate hosts as on AWS, connections kept alive), at 0 ms and at 80 ms round trip.
//!
//! Not a test: it prints a table. Per command: wall time of the whole process (median of
//! `YKMFA_BENCH_ROUNDS`, default 10), IAM+STS requests and connections per run, round trips
//! (wall / RTT, and the part the network added: (wall - wall at 0 ms) / RTT), beside the floor:
//! the fewest round trips the command's IAM calls can take, each floor explained in [`FLOORS`].
//! Targets (issue "Fast on a real network"): enroll at most 5 round trips at 80 ms; revoke,
//! resync and status within 1.5x their floor; bulk apply of 10 rows no more round trips than one
//! enroll.
//!
//! Run as root after bench/setup: `cargo bench --bench network`; `YKMFA_BIN=PATH` measures
//! another binary (e.g. `YKMFA_BIN=target/release/ykmfa cargo bench --profile dev --bench network`
//! after `bench/package`, which builds the release binary a user gets).

// A failed expectation ends the benchmark with its reason, as in the tests.
#![allow(clippy::expect_used)]

use std::time::Instant;

use support::{Bench, Front, Spec, Traffic, YubiKeySpec};

const TOKENS: usize = 10;
const FIRST_SERIAL: u32 = 40_000_001;
const RTTS_MS: [f64; 2] = [0.0, 80.0];

/// The floor of each command in round trips, and why.
const FLOORS: &[(&str, u32, &str)] = &[
    ("enroll", 4, "connect; the read-only preflight at once; CreateVirtualMFADevice; EnableMFADevice"),
    ("status", 3, "connect; the user's devices; their tags (they need the devices' serials)"),
    ("resync", 4, "connect (to IAM, and to STS for the clock, at once); the user's devices; their tags; ResyncMFADevice"),
    ("revoke", 5, "connect; the user's devices; their tags; DeactivateMFADevice; DeleteVirtualMFADevice"),
    ("doctor", 4, "connect to STS; who the caller is (and the clock); connect to IAM; the permission check, which needs the caller's ARN"),
    ("bulk apply", 4, "as one enroll: the rows run side by side"),
];

struct Measure {
    walls: Vec<f64>,
    iam: Traffic,
    sts: Traffic,
}

impl Measure {
    fn new() -> Self {
        Measure {
            walls: Vec::new(),
            iam: Traffic::default(),
            sts: Traffic::default(),
        }
    }

    fn median(&self) -> f64 {
        let mut w = self.walls.clone();
        w.sort_by(f64::total_cmp);
        w[w.len() / 2]
    }

    fn per_run(&self, n: u64) -> f64 {
        n as f64 / self.walls.len() as f64
    }
}

fn main() {
    let serial = FIRST_SERIAL.to_string();
    let rounds: usize = std::env::var("YKMFA_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    // One admin's token for the commands one by one (each user enrolled, shown, resynced and
    // revoked before the next: the token holds one credential, as an admin's does), ten for bulk.
    let single = Bench::start(Spec {
        yubikeys: vec![YubiKeySpec::firmware_5_7(FIRST_SERIAL)],
        nitrokey: false,
        iam: true,
    });
    let bulk_bench = Bench::start(Spec {
        yubikeys: YubiKeySpec::many_5_7(FIRST_SERIAL, TOKENS),
        nitrokey: false,
        iam: true,
    });
    let mut results: Vec<(f64, Vec<(&str, Measure)>)> = Vec::new();
    let mut next_user = 0;
    for rtt in RTTS_MS {
        let (mut enroll, mut status, mut resync, mut revoked, mut doctor, mut bulk) = (
            Measure::new(),
            Measure::new(),
            Measure::new(),
            Measure::new(),
            Measure::new(),
            Measure::new(),
        );
        for (bench, is_bulk) in [(&single, false), (&bulk_bench, true)] {
            let front = Front::start(bench, rtt);
            let env = front.env(bench);
            let run = |label: &str, args: &[&str], m: &mut Measure| {
                front.reset();
                let mut cmd = bench.ykmfa(args);
                cmd.envs(env.iter().map(|(k, v)| (k, v)));
                let started = Instant::now();
                let out = cmd.output().expect("run ykmfa");
                m.walls.push(started.elapsed().as_secs_f64());
                bench.record_output(format!("{label} stdout"), out.stdout.clone());
                bench.record_output(format!("{label} stderr"), out.stderr.clone());
                assert!(
                    out.status.success(),
                    "ykmfa {args:?} failed at {rtt} ms:\n{}",
                    support::text(&out.stderr)
                );
                let (iam, sts) = front.traffic();
                m.iam.requests += iam.requests;
                m.iam.connections += iam.connections;
                m.sts.requests += sts.requests;
                m.sts.connections += sts.connections;
            };
            let mut new_user = || {
                next_user += 1;
                let user = format!("net{next_user}");
                bench.aws(&["iam", "create-user", "--user-name", &user]);
                user
            };
            if !is_bulk {
                let revoke = |u: &str, m: &mut Measure| {
                    let args = [
                        "revoke",
                        "--user",
                        u,
                        "--serial",
                        &serial,
                        "--allow-last",
                        "--yes",
                    ];
                    run("revoke", &args, m);
                };
                for _ in 0..rounds {
                    let u = &new_user();
                    run("enroll", &["enroll", "--user", u], &mut enroll);
                    run("status", &["status", "--user", u], &mut status);
                    revoke(u, &mut revoked);
                    run("doctor", &["doctor"], &mut doctor);
                }
                // Resync without its wait: AWS takes no code twice, so a device enrolled in this
                // time step resyncs only with the next step's codes. The devices are enrolled
                // first, then resynced once a new step has begun.
                let users: Vec<String> = (0..rounds).map(|_| new_user()).collect();
                let mut untimed = Measure::new();
                for u in &users {
                    run("enroll", &["enroll", "--user", u], &mut untimed);
                }
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .expect("clock")
                    .as_secs_f64();
                std::thread::sleep(std::time::Duration::from_secs_f64(31.0 - now % 30.0));
                for u in &users {
                    run("resync", &["resync", "--user", u, "--yes"], &mut resync);
                }
                for u in &users {
                    revoke(u, &mut untimed);
                }
                continue;
            }
            for wave in 0..rounds {
                let mut csv = String::from("user,serial\n");
                for t in 0..TOKENS {
                    let user = new_user();
                    csv.push_str(&format!("{user},{}\n", FIRST_SERIAL + t as u32));
                }
                let manifest = bench.dir.join("home").join(format!("net-{rtt}-{wave}.csv"));
                std::fs::write(&manifest, csv).expect("manifest");
                let path = manifest.display().to_string();
                run("bulk apply", &["bulk", "apply", &path], &mut bulk);
            }
        }
        results.push((
            rtt,
            vec![
                ("enroll", enroll),
                ("status", status),
                ("resync", resync),
                ("revoke", revoked),
                ("doctor", doctor),
                ("bulk apply", bulk),
            ],
        ));
    }

    println!(
        "every command behind a latency front (IAM and STS on separate hosts, keep-alive, a round trip per new connection); median of {rounds} runs, binary {}",
        support::ykmfa_bin().display()
    );
    println!(
        "{:<11} {:>6}  {:>9}  {:>8}  {:>11}  {:>11}  {:>9}  {:>5}",
        "command", "RTT", "wall", "requests", "connections", "round trips", "network", "floor"
    );
    let at_zero: Vec<f64> = results[0].1.iter().map(|(_, m)| m.median()).collect();
    for (rtt, measures) in &results {
        for (i, (name, m)) in measures.iter().enumerate() {
            let wall = m.median();
            let floor = FLOORS.iter().find(|f| f.0 == *name).map_or(0, |f| f.1);
            let (trips, network) = if *rtt > 0.0 {
                let ms = wall * 1000.0;
                (
                    format!("{:.1}", ms / rtt),
                    format!("{:.1}", (ms - at_zero[i] * 1000.0) / rtt),
                )
            } else {
                ("-".to_owned(), "-".to_owned())
            };
            println!(
                "{name:<11} {:>3} ms  {:>7.3} s  {:>8.1}  {:>11.1}  {trips:>11}  {network:>9}  {floor:>5}",
                rtt,
                wall,
                m.per_run(m.iam.requests + m.sts.requests),
                m.per_run(m.iam.connections + m.sts.connections),
            );
        }
    }
    println!();
    println!("floors (round trips):");
    for (name, floor, why) in FLOORS {
        println!("  {name:<11} {floor}  {why}");
    }
    println!("(requests and connections: IAM + STS per run; bulk apply: per manifest of {TOKENS} rows on {TOKENS} tokens)");
    let seeds = single.assert_no_seed_leaked() + bulk_bench.assert_no_seed_leaked();
    println!("seed scan: {seeds} seeds searched for in every output: none found");
}
