//! `ykmfa audit --organization` on a generated organization of 200 accounts
//! (`/_bench/organization/generate`: every root case, a denied role, a suspended account),
//! behind the latency front (bench/iam/latency_front.py) at 0 and 80 ms round trip, at the
//! default concurrency (8 accounts at once).
//!
//! Not a test: it prints a table. Per RTT: wall time of the whole process, AWS requests (as the
//! endpoint logged them) in all and per audited account, connections, and round trips per
//! account at the concurrency (wall / RTT * concurrency / accounts). Target (issue "The whole
//! organization at once"): under 20 s at 80 ms.
//!
//! The generator's slow account is made prompt here (`timeout_ms: 0`): one account that never
//! answers costs the `--aws-timeout` (30 s by default) in one of the 8 slots, which says nothing
//! about the audit's own speed; the tests cover it.
//!
//! Run after bench/setup: `cargo bench --bench org_audit` (`ACCOUNTS` in the environment sets
//! the organization's size; `cargo test --bench org_audit` runs it unoptimized).

// A failed expectation ends the benchmark with its reason, as in the tests.
#![allow(clippy::expect_used)]

use std::time::Instant;

use serde_json::{json, Value};
use support::{Bench, Front, Spec};

const RTTS_MS: [f64; 2] = [0.0, 80.0];
const CONCURRENCY: f64 = 8.0;

fn main() {
    let accounts: usize = std::env::var("ACCOUNTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let bench = Bench::start(Spec {
        iam: true,
        ..Spec::default()
    });
    let org = bench.iam_call(
        "POST",
        "/_bench/organization/generate",
        json!({"accounts": accounts, "timeout_ms": 0}),
    );
    let key = org["management_access_key_id"]
        .as_str()
        .expect("the management account's key")
        .to_owned();
    println!(
        "audit --organization: {accounts} accounts, concurrency {CONCURRENCY}, binary {}",
        support::ykmfa_bin().display()
    );
    println!(
        "{:>6}  {:>8}  {:>8}  {:>8}  {:>8}  {:>11}  {:>16}",
        "RTT", "wall", "audited", "requests", "per acct", "connections", "round trips/acct"
    );
    for rtt in RTTS_MS {
        let front = Front::start(&bench, rtt);
        let mut cmd = bench.ykmfa(&["audit", "--organization", "--json"]);
        cmd.envs(front.env(&bench)).env("AWS_ACCESS_KEY_ID", &key);
        bench.iam_call("POST", "/_bench/calls/reset", json!({}));
        front.reset();
        let started = Instant::now();
        let out = cmd.output().expect("run ykmfa");
        let wall = started.elapsed().as_secs_f64();
        assert!(
            out.status.success(),
            "ykmfa audit --organization failed at {rtt} ms:\n{}",
            support::text(&out.stderr)
        );
        bench.record_output(format!("org audit {rtt} stdout"), out.stdout.clone());
        let doc: Value = serde_json::from_slice(&out.stdout).expect("the audit's JSON");
        let audited = doc["accounts"]
            .as_array()
            .expect("accounts")
            .iter()
            .filter(|a| a["audited"] == true)
            .count();
        let calls = bench.iam_call("GET", "/_bench/calls", json!({}));
        let requests = calls["count"].as_u64().unwrap_or(0);
        let (iam, sts) = front.traffic();
        let trips = if rtt > 0.0 {
            format!("{:.1}", wall * 1000.0 / rtt * CONCURRENCY / audited as f64)
        } else {
            "-".to_owned()
        };
        println!(
            "{:>3} ms  {:>6.2} s  {:>8}  {:>8}  {:>8.1}  {:>11}  {:>16}",
            rtt,
            wall,
            audited,
            requests,
            requests as f64 / audited as f64,
            iam.connections + sts.connections,
            trips,
        );
    }
    let seeds = bench.assert_no_seed_leaked();
    println!("seed scan: {seeds} seeds searched for in every output: none found");
}
