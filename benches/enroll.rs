//! One enrollment on the test bench, measured: wall time of the whole `ykmfa enroll` process,
//! its peak memory, the APDUs the token saw (by instruction) and the IAM calls (by action).
//!
//! Not a test: it prints a table. Targets (issue "Enroll"): at most 0.3 s wall per enrollment
//! without touch; on the write path exactly SELECT, LIST, PUT and two CALCULATEs; exactly two IAM
//! writes (CreateVirtualMFADevice, EnableMFADevice) beside read-only preflight calls; peak memory
//! under 40 MB. `YKMFA_BENCH_ROUNDS` sets the number of enrollments (default 20). Run as root after
//! bench/setup: `cargo bench --bench enroll`.

// A failed expectation ends the benchmark with its reason, as in the tests.
#![allow(clippy::expect_used)]

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::json;
use support::{Bench, Spec, YubiKeySpec};

fn main() {
    let rounds: usize = std::env::var("YKMFA_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let bench = Bench::start(Spec {
        yubikeys: vec![YubiKeySpec {
            capacity: Some(64),
            ..YubiKeySpec::default()
        }],
        nitrokey: false,
        iam: true,
    });
    let token = &bench.tokens[0];
    let mut walls = Vec::new();
    let mut peaks = Vec::new();
    let mut apdus: BTreeMap<String, u64> = BTreeMap::new();
    let mut iam: BTreeMap<String, u64> = BTreeMap::new();
    for i in 0..rounds {
        let user = format!("admin{i}");
        bench.aws(&["iam", "create-user", "--user-name", &user]);
        token.control(json!({"cmd": "reset_stats"}));
        bench.iam_call("POST", "/_bench/calls/reset", json!({}));
        let mut cmd = Command::new("/usr/bin/time");
        cmd.args(["-f", "%e %M"])
            .arg(support::ykmfa_bin())
            .args(["enroll", "--user", &user]);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default());
        for (k, v) in bench.env() {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run ykmfa under /usr/bin/time");
        let stderr = support::text(&out.stderr);
        assert!(out.status.success(), "enroll failed: {stderr}");
        let last = stderr.lines().last().expect("time's line");
        let mut fields = last.split_whitespace();
        walls.push(
            fields
                .next()
                .and_then(|s| s.parse::<f64>().ok())
                .expect("elapsed"),
        );
        peaks.push(
            fields
                .next()
                .and_then(|s| s.parse::<u64>().ok())
                .expect("max rss"),
        );
        let stats = token.control(json!({"cmd": "stats"}));
        for (ins, n) in stats["by_ins"].as_object().expect("by_ins") {
            *apdus.entry(ins.clone()).or_default() += n.as_u64().unwrap_or(0);
        }
        let calls = bench.iam_call("GET", "/_bench/calls", json!({}));
        for c in calls["calls"].as_array().expect("calls") {
            *iam.entry(c["action"].as_str().unwrap_or("?").to_owned())
                .or_default() += 1;
        }
    }
    walls.sort_by(f64::total_cmp);
    peaks.sort_unstable();
    let per = |n: u64| n as f64 / rounds as f64;
    println!(
        "ykmfa enroll on the bench: {rounds} enrollments, binary {}",
        support::ykmfa_bin().display()
    );
    println!(
        "  wall per enrollment (whole process): median {:.3} s, p95 {:.3} s, max {:.3} s",
        walls[rounds / 2],
        walls[(rounds * 95 / 100).min(rounds - 1)],
        walls[rounds - 1]
    );
    println!(
        "  peak memory (max RSS): median {:.1} MB, max {:.1} MB",
        peaks[rounds / 2] as f64 / 1024.0,
        peaks[rounds - 1] as f64 / 1024.0
    );
    println!("  APDUs per enrollment, by instruction (token discovery + preflight + write path):");
    for (ins, n) in &apdus {
        println!("    {ins:<16} {:>5.1}", per(*n));
    }
    println!("  IAM/STS calls per enrollment, by action:");
    for (action, n) in &iam {
        let kind = if ["CreateVirtualMFADevice", "EnableMFADevice"].contains(&action.as_str()) {
            "write"
        } else {
            "read"
        };
        println!("    {action:<24} {:>5.1}  {kind}", per(*n));
    }
    let seeds = bench.assert_no_seed_leaked();
    println!("  seed scan: {seeds} seeds searched for in every output: none found");
}
