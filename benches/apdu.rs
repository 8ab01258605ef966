//! How long ykmfa takes to talk to a token through pcscd, on the test bench.
//!
//! Not a test: it starts a bench (a private pcscd with vpcd readers, the virtual YubiKey and the
//! Nitrokey Secrets App card), measures, and prints a table:
//!
//! - one APDU round trip through pcscd + vpcd (SELECT, and CALCULATE of one credential), for
//!   each card, inside one transaction;
//! - one whole operation in-process: connect, transaction, SELECT, LIST, CALCULATE;
//! - `ykmfa tokens` as a process, with both tokens connected.
//!
//! Targets: under 1 ms per APDU round trip, under 100 ms for `ykmfa tokens` with two tokens.
//! `YKMFA_BENCH_ROUNDS` scales the number of samples (default 500 APDUs, 100 operations,
//! 30 processes).
//!
//! The cards' own speed counts: the bench uses release builds of them when they exist
//! (`cargo build --release -p virtual-yubikey`, `cargo build --release --manifest-path
//! bench/nitrokey-card/Cargo.toml`), else the debug builds `bench/setup` makes; the table's
//! header names the binaries. A debug Nitrokey card alone adds about 1–2 ms per APDU (its
//! crypto and Trussed's service loop), which the transport does not.

// A failed expectation ends the benchmark with its reason, as in the tests.
#![allow(clippy::expect_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use support::{Bench, Spec, YubiKeySpec};
use ykmfa::oath::{CredentialData, CredentialId, Session, TimeStep};
use ykmfa::seed::Seed;
use ykmfa::transport::pcsc::Context;
use ykmfa::transport::Transport;

const SELECT_OATH: [u8; 13] = [0, 0xA4, 4, 0, 7, 0xA0, 0, 0, 5, 0x27, 0x21, 1, 0];

fn spec() -> Spec {
    Spec {
        yubikeys: vec![YubiKeySpec::default()],
        nitrokey: true,
        iam: false,
    }
}

/// Samples of one measurement.
struct Row {
    what: String,
    samples: Vec<Duration>,
    target: Option<Duration>,
}

impl Row {
    fn new(what: impl Into<String>, mut samples: Vec<Duration>, target: Option<Duration>) -> Row {
        samples.sort_unstable();
        Row {
            what: what.into(),
            samples,
            target,
        }
    }

    fn quantile(&self, q: f64) -> Duration {
        let n = self.samples.len();
        let i = ((q * n as f64).ceil() as usize).clamp(1, n) - 1;
        self.samples[i]
    }

    fn median(&self) -> Duration {
        self.quantile(0.5)
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

fn rounds(default: usize) -> usize {
    let scale = std::env::var("YKMFA_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(500);
    (default * scale / 500).max(5)
}

/// Times `n` runs of `f` after `n / 10` unmeasured ones.
fn time(n: usize, mut f: impl FnMut()) -> Vec<Duration> {
    for _ in 0..n / 10 {
        f();
    }
    (0..n)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect()
}

/// APDU round trips in one transaction: raw SELECTs, then CALCULATEs through a session.
fn round_trips(ctx: &Context, reader: &str, name: &str, n: usize) -> Vec<Row> {
    let mut card = ctx.connect(reader).expect("connect");
    let mut link = card.begin().expect("transaction");
    let select = time(n, || {
        let answer = link.transmit(&SELECT_OATH).expect("SELECT");
        assert_eq!(answer[answer.len() - 2..], [0x90, 0x00]);
    });
    let mut session = Session::open(&mut link).expect("SELECT");
    let id = CredentialId::totp(Some("Bench"), "round-trip").expect("id");
    if !session
        .list()
        .expect("LIST")
        .iter()
        .any(|c| c.raw_id == id.to_bytes())
    {
        let data = CredentialData::aws_totp(id.clone(), Seed::from_bytes(vec![7; 20]), false);
        session.put_new(&data).expect("PUT");
    }
    let raw = id.to_bytes();
    let mut step = 1_000_000u64;
    let calculate = time(n, || {
        step += 1;
        session
            .calculate(&raw, TimeStep(step), 30)
            .expect("CALCULATE");
    });
    vec![
        Row::new(
            format!("APDU round trip, SELECT ({name})"),
            select,
            Some(Duration::from_millis(1)),
        ),
        Row::new(
            format!("APDU round trip, CALCULATE ({name})"),
            calculate,
            Some(Duration::from_millis(1)),
        ),
    ]
}

/// A whole operation as ykmfa runs one: connect, transaction, SELECT, LIST, CALCULATE.
fn operation(ctx: &Context, reader: &str, name: &str, n: usize) -> Row {
    let id = CredentialId::totp(Some("Bench"), "round-trip")
        .expect("id")
        .to_bytes();
    let samples = time(n, || {
        let mut card = ctx.connect(reader).expect("connect");
        let mut link = card.begin().expect("transaction");
        let mut session = Session::open(&mut link).expect("SELECT");
        assert!(!session.list().expect("LIST").is_empty());
        session.calculate(&id, TimeStep(1), 30).expect("CALCULATE");
    });
    Row::new(
        format!("connect+SELECT+LIST+CALCULATE ({name})"),
        samples,
        None,
    )
}

/// `ykmfa tokens` from spawn to exit, with `binary`.
fn tokens_process(bench: &Bench, binary: &Path, label: &str, n: usize) -> Row {
    let samples = time(n, || {
        let mut cmd = rebind(bench.ykmfa(&["tokens"]), binary);
        let out = cmd.output().expect("run ykmfa");
        assert!(out.status.success(), "{}", support::text(&out.stderr));
        assert_eq!(
            support::text(&out.stdout).lines().count(),
            3,
            "two tokens and a header"
        );
    });
    Row::new(
        format!("`ykmfa tokens`, 2 tokens ({label})"),
        samples,
        Some(Duration::from_millis(100)),
    )
}

/// The same command line and environment, run with another ykmfa binary.
fn rebind(cmd: std::process::Command, binary: &Path) -> std::process::Command {
    let mut other = std::process::Command::new(binary);
    other.args(cmd.get_args()).env_clear();
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            other.env(k, v);
        }
    }
    other
}

fn main() {
    // `cargo bench` passes `--bench`; there is nothing to choose, so arguments are ignored.
    let bench = Bench::shared(spec);
    let ctx = Context::establish().expect("PC/SC");
    let yubikey = bench.tokens[0].reader.clone();
    let nitrokey = bench
        .tokens
        .iter()
        .find(|t| t.reader.starts_with(support::NITROKEY_READER))
        .expect("Nitrokey")
        .reader
        .clone();

    let mut rows = Vec::new();
    rows.extend(round_trips(&ctx, &yubikey, "YubiKey", rounds(500)));
    rows.extend(round_trips(&ctx, &nitrokey, "Nitrokey", rounds(500)));
    rows.push(operation(&ctx, &yubikey, "YubiKey", rounds(100)));
    rows.push(operation(&ctx, &nitrokey, "Nitrokey", rounds(100)));
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let this = support::ykmfa_bin();
    rows.push(tokens_process(bench, &this, profile, rounds(30)));
    // The other profile too, when it is built.
    let other_profile = if profile == "release" {
        "debug"
    } else {
        "release"
    };
    let other = this
        .parent()
        .and_then(Path::parent)
        .map(|t| t.join(other_profile).join("ykmfa"));
    if let Some(other) = other.filter(|p| p.exists()) {
        rows.push(tokens_process(bench, &other, other_profile, rounds(30)));
    }

    println!();
    println!(
        "ykmfa APDU benchmark, ykmfa {profile} build\n  virtual YubiKey: {}\n  Nitrokey card:   {}",
        support::sibling_bin("virtual-yubikey").display(),
        support::nitrokey_bin().display()
    );
    // Other work on the machine shows in these numbers; say how busy it was.
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    println!(
        "  load average {} on {cpus} CPUs",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "{:<46} {:>5} {:>10} {:>10} {:>10} {:>8}",
        "measurement", "n", "median ms", "p95 ms", "min ms", "target"
    );
    for row in &rows {
        let verdict = match row.target {
            Some(t) if row.median() < t => format!("< {} ok", ms_short(t)),
            Some(t) => format!("< {} MISSED", ms_short(t)),
            None => String::new(),
        };
        println!(
            "{:<46} {:>5} {:>10} {:>10} {:>10} {:>8}",
            row.what,
            row.samples.len(),
            ms(row.median()),
            ms(row.quantile(0.95)),
            ms(row.samples[0]),
            verdict
        );
    }
}

fn ms_short(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}
