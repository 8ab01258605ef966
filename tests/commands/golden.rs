//! Golden CLI tests: what a person reads, exactly. The `--help` of every command and subcommand,
//! and every error a user commonly meets (no pcscd, no token, two tokens, wrong password, unknown
//! user, AccessDenied, a full token, a name too long), each with its exact stderr and exit code,
//! compared with the files in `tests/golden/`. Bench-specific details (temporary paths, ports,
//! process ids) are replaced by placeholders first.
//!
//! After an intended change of wording, rewrite the files with `YKMFA_BLESS=1 cargo test --test
//! golden` and review the diff like any other change.

// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::json;
use support::{Bench, Spec, YubiKeySpec};

fn golden_dir() -> PathBuf {
    support::workspace().join("tests/golden")
}

fn bless() -> bool {
    std::env::var_os("YKMFA_BLESS").is_some_and(|v| v == "1")
}

/// Replaces what differs from one bench to the next.
fn normalize(text: &str, bench: Option<&Bench>) -> String {
    let mut out = text.replace("\r\n", "\n");
    if let Some(bench) = bench {
        out = out.replace(&bench.dir.display().to_string(), "<BENCH>");
        if let Some(iam) = &bench.iam {
            out = out.replace(&iam.url, "<IAM>");
        }
    }
    // Request ids and process ids.
    let mut clean = String::with_capacity(out.len());
    for line in out.lines() {
        let mut words = Vec::new();
        for w in line.split(' ') {
            let hex = w.len() >= 32 && w.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
            words.push(if hex { "<ID>" } else { w });
        }
        clean.push_str(&words.join(" "));
        clean.push('\n');
    }
    clean
}

/// Compares `actual` with the golden file `name`, or writes it under `YKMFA_BLESS=1`.
fn check(name: &str, actual: &str, mismatches: &mut Vec<String>) {
    let path = golden_dir().join(name);
    if bless() {
        std::fs::create_dir_all(golden_dir()).expect("golden dir");
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    match std::fs::read_to_string(&path) {
        Ok(expected) if expected == actual => {}
        Ok(expected) => mismatches.push(format!(
            "{name} differs (YKMFA_BLESS=1 rewrites it):\n--- expected\n{expected}\n--- actual\n{actual}"
        )),
        Err(_) => mismatches.push(format!(
            "{name} is missing (YKMFA_BLESS=1 writes it):\n{actual}"
        )),
    }
}

/// `ykmfa ARGS` outside any bench, with a fixed terminal width for clap's wrapping.
fn plain(args: &[&str]) -> std::process::Output {
    Command::new(support::ykmfa_bin())
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("COLUMNS", "100")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run ykmfa")
}

/// The subcommands a `--help` lists under "Commands:".
fn commands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .filter(|c| c != "help")
        .collect()
}

#[test]
fn help_of_every_command() {
    let mut mismatches = Vec::new();
    let mut queue: Vec<Vec<String>> = vec![Vec::new()];
    let mut seen = 0;
    while let Some(path) = queue.pop() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let out = plain(&args);
        assert!(out.status.success(), "ykmfa {args:?}");
        let help = support::text(&out.stdout);
        let name = if path.is_empty() {
            "help.txt".to_owned()
        } else {
            format!("help-{}.txt", path.join("-"))
        };
        check(&name, &help, &mut mismatches);
        seen += 1;
        for sub in commands(&help) {
            let mut next = path.clone();
            next.push(sub);
            queue.push(next);
        }
    }
    assert!(seen >= 10, "only {seen} help pages found");
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n\n"));
}

/// One user-facing error: exit code and stderr as a person reads it.
fn error_case(name: &str, bench: Option<&Bench>, run: (Option<i32>, String)) -> String {
    let (code, stderr) = run;
    let _ = name;
    format!(
        "exit code: {}\n--- stderr\n{}",
        code.map_or("signal".into(), |c| c.to_string()),
        normalize(&stderr, bench)
    )
}

fn human(run: &support::Run) -> (Option<i32>, String) {
    (run.code, run.human())
}

fn bench(yubikeys: usize, iam: bool) -> Bench {
    let bench = Bench::start(Spec {
        yubikeys: (0..yubikeys)
            .map(|i| YubiKeySpec {
                serial: 12_345_678 + i as u32,
                ..YubiKeySpec::default()
            })
            .collect(),
        nitrokey: false,
        iam,
    });
    if iam {
        bench.aws(&["iam", "create-user", "--user-name", "alice"]);
    }
    bench
}

#[test]
fn user_facing_errors() {
    let mut mismatches = Vec::new();
    let mut case = |name: &str, bench: Option<&Bench>, run: (Option<i32>, String)| {
        check(
            &format!("error-{name}.txt"),
            &error_case(name, bench, run),
            &mut mismatches,
        );
    };

    // No pcscd: the socket does not exist.
    {
        let b = bench(1, true);
        let run = b.run_with(
            &["enroll", "--user", "alice"],
            &[("PCSCLITE_CSOCK_NAME", "/nonexistent/pcscd.comm")],
        );
        case("no-pcscd", Some(&b), human(&run));
    }
    // No token, two tokens.
    {
        let b = bench(0, true);
        let run = b.run(&["enroll", "--user", "alice", "--wait", "0"]);
        case("no-token", Some(&b), human(&run));
    }
    {
        let b = bench(2, true);
        let run = b.run(&["enroll", "--user", "alice"]);
        case("two-tokens", Some(&b), human(&run));
    }
    // One bench for the rest.
    let b = bench(1, true);
    let reader = b.tokens[0].reader.clone();
    {
        let run = b.run(&["enroll", "--user", "nobody"]);
        case("unknown-user", Some(&b), human(&run));
    }
    {
        let long = "a".repeat(60);
        b.aws(&["iam", "create-user", "--user-name", &long]);
        let run = b.run(&["enroll", "--user", &long]);
        case("name-too-long", Some(&b), human(&run));
        let run = b.run(&["enroll", "--user", "alice", "--label", &"x".repeat(70)]);
        case("label-too-long", Some(&b), human(&run));
    }
    {
        b.iam_fault(json!({"action": "CreateVirtualMFADevice", "code": "AccessDenied", "status": 403, "count": 1,
            "message": "User: arn:aws:iam::123456789012:user/operator is not authorized to perform: iam:CreateVirtualMFADevice on resource: arn:aws:iam::123456789012:mfa/alice-yk12345678"}));
        let run = b.run(&["enroll", "--user", "alice"]);
        let _ = b.iam_call("POST", "/_bench/faults/clear", json!({}));
        case("access-denied", Some(&b), human(&run));
    }
    {
        b.ykman_ok(
            &reader,
            &["oath", "access", "change", "-n", "correct horse"],
        );
        let run = b.run_with(
            &["enroll", "--user", "alice"],
            &[("YKMFA_OATH_PASSWORD", "wrong")],
        );
        case("wrong-password", Some(&b), human(&run));
        b.ykman_ok(
            &reader,
            &["oath", "access", "change", "-p", "correct horse", "-c"],
        );
    }
    {
        let full = Bench::start(Spec {
            yubikeys: vec![YubiKeySpec {
                capacity: Some(1),
                ..YubiKeySpec::default()
            }],
            nitrokey: false,
            iam: true,
        });
        full.aws(&["iam", "create-user", "--user-name", "alice"]);
        let r = full.tokens[0].reader.clone();
        full.ykman_ok(
            &r,
            &["oath", "accounts", "add", "-f", "one", "JBSWY3DPEHPK3PXP"],
        );
        let run = full.run(&["enroll", "--user", "alice"]);
        case("token-full", Some(&full), human(&run));
        full.assert_no_seed_leaked();
    }
    {
        let run = b.run(&["enroll"]);
        case("usage-no-user", Some(&b), human(&run));
    }
    // Every run on `b` was refused before a device was created: no seed to leak.
    b.assert_no_seed_issued();
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n\n"));
}
