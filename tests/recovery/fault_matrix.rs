//! The fault-injection matrix of one enrollment: every step where something can go wrong, times
//! every way it can go wrong, each on a fresh bench (real pcscd, the virtual YubiKey, the strict
//! IAM endpoint). After each cell IAM and the token are consistent: either as before the run, or
//! the user fully enrolled with a credential whose codes IAM accepts. Never an orphan device,
//! never a stray credential, and the message names what happened.
//!
//! "SIGKILL + next run" kills ykmfa mid-step (no undo can run) and then runs the same command
//! again: the enrollment journal lets that run settle what the dead one left and finish.
//! SIGTERM and SIGHUP are undone as SIGINT is.
//!
//! "late write" makes the step's IAM write answer 500 and land a moment later, after the undo's
//! first call said it had not happened (AWS does this). "late undo" does the same to the enable
//! and then to the undo's own deactivation and deletion. "read lag" makes IAM's reads show the
//! state of two seconds ago, with the step's write landing late. A cell may also end in exit 8:
//! then the message must name what remains with commands that, run in the order given, leave
//! nothing behind (the test runs them). Never exit 0 with a missing credential; never a
//! credential deleted while its device is assigned.
//!
//! The matrix is printed at the end (`cargo test --test recovery fault_matrix -- --nocapture`) and kept in
//! SECURITY.md.

// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;
use support::{Bench, Spec, YubiKeySpec};

const LABEL: &str = "Amazon Web Services:alice@123456789012";
/// `--aws-timeout` for the runs: long enough for the 2.5 s slow steps (each attempt gets a
/// third), short enough to keep the matrix quick.
const AWS_TIMEOUT: &str = "9";
/// `--aws-timeout` of the IAM-timeout cells, whose calls never answer in time.
const SHORT_AWS_TIMEOUT: &str = "3";
/// How long the endpoint sits on a call that "never answers"; it does carry it out afterwards,
/// as AWS may.
const HANG_MS: u64 = 6000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Create,
    Put,
    Calculate1,
    Calculate2,
    Enable,
    Confirm,
}

const STEPS: [Step; 6] = [
    Step::Create,
    Step::Put,
    Step::Calculate1,
    Step::Calculate2,
    Step::Enable,
    Step::Confirm,
];

impl Step {
    fn name(self) -> &'static str {
        match self {
            Step::Create => "create",
            Step::Put => "PUT",
            Step::Calculate1 => "CALCULATE 1",
            Step::Calculate2 => "CALCULATE 2",
            Step::Enable => "enable",
            Step::Confirm => "confirm",
        }
    }

    /// The IAM action of an IAM step, with how many earlier calls of it to let pass.
    fn iam(self) -> Option<(&'static str, u32)> {
        match self {
            Step::Create => Some(("CreateVirtualMFADevice", 0)),
            Step::Enable => Some(("EnableMFADevice", 0)),
            // The preflight lists the user's devices once; the confirmation is the second.
            Step::Confirm => Some(("ListMFADevices", 1)),
            _ => None,
        }
    }

    /// The instruction of a token step, with how many earlier ones to let pass.
    fn card(self) -> Option<(&'static str, u32)> {
        match self {
            Step::Put => Some(("PUT", 0)),
            Step::Calculate1 => Some(("CALCULATE", 0)),
            Step::Calculate2 => Some(("CALCULATE", 1)),
            _ => None,
        }
    }

    /// Words the failure message uses for this step (src/enrollment `Step`'s Display).
    fn words(self) -> &'static str {
        match self {
            Step::Create => "creating the virtual MFA device",
            Step::Put => "writing the credential to the token",
            Step::Calculate1 | Step::Calculate2 => "computing codes on the token",
            Step::Enable => "enabling the device",
            Step::Confirm => "confirming the device is assigned",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    IamError,
    IamTimeout,
    CardError,
    CardRemoved,
    Sigint,
    Sigterm,
    Sighup,
    Sigkill,
    LateWrite,
    LateUndo,
    ReadLag,
}

const FAULTS: [Fault; 11] = [
    Fault::IamError,
    Fault::IamTimeout,
    Fault::CardError,
    Fault::CardRemoved,
    Fault::Sigint,
    Fault::Sigterm,
    Fault::Sighup,
    Fault::Sigkill,
    Fault::LateWrite,
    Fault::LateUndo,
    Fault::ReadLag,
];

impl Fault {
    fn name(self) -> &'static str {
        match self {
            Fault::IamError => "IAM error",
            Fault::IamTimeout => "IAM timeout",
            Fault::CardError => "card error",
            Fault::CardRemoved => "card removed",
            Fault::Sigint => "SIGINT",
            Fault::Sigterm => "SIGTERM",
            Fault::Sighup => "SIGHUP",
            Fault::Sigkill => "SIGKILL+next",
            Fault::LateWrite => "late write",
            Fault::LateUndo => "late undo",
            Fault::ReadLag => "read lag",
        }
    }

    fn is_signal(self) -> bool {
        matches!(self, Fault::Sigint | Fault::Sigterm | Fault::Sighup)
    }

    /// IAM faults happen at IAM steps and token faults at token steps; the rest anywhere.
    fn applies_to(self, step: Step) -> bool {
        match self {
            Fault::IamError | Fault::IamTimeout => step.iam().is_some(),
            Fault::CardError => step.card().is_some(),
            Fault::LateWrite | Fault::ReadLag => matches!(step, Step::Create | Step::Enable),
            Fault::LateUndo => step == Step::Enable,
            Fault::CardRemoved
            | Fault::Sigint
            | Fault::Sigterm
            | Fault::Sighup
            | Fault::Sigkill => true,
        }
    }
}

/// How a cell ended, for the printed matrix.
#[derive(Debug)]
enum Outcome {
    /// Failed, and IAM and the token are as before.
    RolledBack,
    /// The enrollment completed despite the fault (e.g. the card was pulled after its last use).
    Completed,
    /// Killed, then the next run settled what was left and enrolled.
    Recovered,
    /// Exit 8, naming what remains; its commands, run in order, left nothing.
    Named,
}

/// The fault that makes `step` slow (2.5 s), so that a signal or a pulled card lands inside it.
fn slow(bench: &Bench, step: Step) {
    if let Some((action, skip)) = step.iam() {
        bench.iam_fault(
            json!({"action": action, "kind": "delay", "delay_ms": 2500, "skip": skip, "count": 1}),
        );
    }
    if let Some((ins, skip)) = step.card() {
        bench.tokens[0].control(
            json!({"cmd": "fault", "kind": "delay", "ms": 2500, "ins": ins, "skip": skip, "count": 1}),
        );
    }
}

/// Waits until `step` is in flight (its predecessor is visible), then a little longer.
fn wait_until_in(bench: &Bench, step: Step) {
    let visible = |what: &str, f: &dyn Fn() -> bool| {
        support::wait_for(Duration::from_secs(30), what, f);
    };
    match step {
        Step::Create => visible("the preflight", &|| bench.iam_calls("ListMFADevices") >= 1),
        Step::Put => visible("the create", &|| {
            bench.iam_calls("CreateVirtualMFADevice") >= 1
        }),
        Step::Calculate1 | Step::Calculate2 => visible("the PUT", &|| {
            !bench.tokens[0].credential_names().is_empty()
        }),
        Step::Enable => visible("the credential", &|| {
            !bench.tokens[0].credential_names().is_empty()
        }),
        Step::Confirm => visible("the enable", &|| bench.iam_calls("EnableMFADevice") >= 1),
    }
    std::thread::sleep(Duration::from_millis(700));
}

/// Runs enroll in the background, does `during` while `step` is in flight, and returns the exit
/// status with stdout and stderr.
fn run_during(
    bench: &Bench,
    step: Step,
    during: impl FnOnce(u32),
) -> (std::process::ExitStatus, String) {
    let tag = format!("{}-{}", step.name(), support::now());
    let out = bench.dir.join(format!("{tag}.stdout"));
    let err = bench.dir.join(format!("{tag}.stderr"));
    let mut child = bench
        .ykmfa(&["enroll", "--user", "alice", "--aws-timeout", AWS_TIMEOUT])
        .env("RUST_LOG", "trace")
        .env("YKMFA_LOG_FORMAT", "json")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).expect("stdout"))
        .stderr(std::fs::File::create(&err).expect("stderr"))
        .spawn()
        .expect("spawn ykmfa");
    wait_until_in(bench, step);
    during(child.id());
    let status = child.wait().expect("wait");
    let stdout = std::fs::read(&out).expect("stdout");
    let stderr = std::fs::read(&err).expect("stderr");
    bench.record_output(format!("stdout of {tag}"), stdout);
    bench.record_output(format!("stderr of {tag}"), stderr.clone());
    let human = support::text(&stderr)
        .lines()
        .filter(|l| !l.starts_with("{\""))
        .collect::<Vec<_>>()
        .join("\n");
    (status, human)
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("kill");
    assert!(ok.success());
}

/// Arms the fault, runs `ykmfa enroll --user alice`, and returns the exit code and what a person
/// read.
fn inject(bench: &Bench, step: Step, fault: Fault) -> (Option<i32>, String) {
    match fault {
        Fault::IamError => {
            let (action, skip) = step.iam().expect("an IAM step");
            bench.iam_fault(json!({"action": action, "code": "ServiceFailure", "status": 500, "skip": skip, "count": "always"}));
        }
        Fault::IamTimeout => {
            let (action, skip) = step.iam().expect("an IAM step");
            bench.iam_fault(json!({"action": action, "kind": "delay", "delay_ms": HANG_MS, "skip": skip, "count": "always"}));
            let run = bench.run(&[
                "enroll",
                "--user",
                "alice",
                "--aws-timeout",
                SHORT_AWS_TIMEOUT,
            ]);
            // Let the endpoint finish what it sat on, so a late effect shows.
            std::thread::sleep(Duration::from_millis(HANG_MS + 1000));
            return (run.code, run.human());
        }
        Fault::CardError => {
            let (ins, skip) = step.card().expect("a token step");
            let sw = if ins == "PUT" { "6581" } else { "6F00" };
            bench.tokens[0].control(
                json!({"cmd": "fault", "kind": "status", "ins": ins, "sw": sw, "skip": skip, "count": 1}),
            );
        }
        Fault::CardRemoved => {
            if let Some((ins, skip)) = step.card() {
                // Pulled as the instruction arrives; put back 1.5 s later, as a person would.
                bench.tokens[0].control(json!({"cmd": "fault", "kind": "remove", "ins": ins, "skip": skip, "count": 1, "reinsert_after_ms": 1500}));
            } else {
                // Pulled while IAM works on the step; put back 1.5 s later.
                slow(bench, step);
                let (status, human) = run_during(bench, step, |_| {
                    bench.tokens[0].control(json!({"cmd": "remove"}));
                    std::thread::sleep(Duration::from_millis(1500));
                    bench.tokens[0].control(json!({"cmd": "insert"}));
                });
                return (status.code(), human);
            }
        }
        Fault::LateWrite | Fault::ReadLag => {
            let (action, _) = step.iam().expect("an IAM step");
            if fault == Fault::ReadLag {
                bench.iam_read_lag(2.0);
            }
            bench.iam_late_write(action, json!({"land_after_calls": 1}));
        }
        Fault::LateUndo => {
            bench.iam_late_write("EnableMFADevice", json!({"land_after_calls": 1}));
            bench.iam_late_write("DeactivateMFADevice", json!({"land_after_calls": 1}));
            bench.iam_late_write("DeleteVirtualMFADevice", json!({"land_after_calls": 1}));
        }
        Fault::Sigint | Fault::Sigterm | Fault::Sighup | Fault::Sigkill => {
            slow(bench, step);
            let sig = match fault {
                Fault::Sigint => "-INT",
                Fault::Sigterm => "-TERM",
                Fault::Sighup => "-HUP",
                _ => "-KILL",
            };
            let (status, human) = run_during(bench, step, |pid| signal(pid, sig));
            return (status.code(), human);
        }
    }
    let run = bench.run(&["enroll", "--user", "alice", "--aws-timeout", AWS_TIMEOUT]);
    (run.code, run.human())
}

/// The credential on the token produces codes IAM accepts for alice's device: ykman computes
/// the codes of the next two steps and the endpoint, its clock moved forward, checks the pair.
/// IAM and the token agree: nothing at all, or alice enrolled with working codes.
fn consistent(bench: &Bench) -> Result<Outcome, String> {
    let unassigned = bench.virtual_devices("Unassigned");
    if !unassigned.is_empty() {
        return Err(format!("orphan device(s) in IAM: {unassigned:?}"));
    }
    let assigned = bench.virtual_devices("Assigned");
    let names = bench.tokens[0].credential_names();
    match (assigned.as_slice(), names.as_slice()) {
        ([], []) => Ok(Outcome::RolledBack),
        ([device], [name]) if name == LABEL => {
            let arn = device["SerialNumber"].as_str().unwrap_or_default();
            codes_accepted_for(bench, arn, LABEL)?;
            Ok(Outcome::Completed)
        }
        _ => Err(format!(
            "IAM and the token disagree: assigned {assigned:?}, credentials {names:?}"
        )),
    }
}

fn clear_faults(bench: &Bench) {
    let _ = bench.iam_call("POST", "/_bench/faults/clear", json!({}));
    // What is still in flight lands now, as it would on AWS a moment later.
    let _ = bench.iam_call("POST", "/_bench/late-writes/land", json!({}));
    bench.iam_read_lag(0.0);
    bench.tokens[0].control(json!({"cmd": "clear_faults"}));
}

/// Splits a command line as a POSIX shell would for the quoting ykmfa prints (single quotes,
/// `'\''` inside them).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            c => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Runs the `fix:` commands of an exit-8 message in order, as a person would: `aws` against the
/// bench's IAM, `ykman` against its token. Fails if a command fails.
fn run_fixes(bench: &Bench, human: &str) -> Result<(), String> {
    let fixes: Vec<&str> = human
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("fix: "))
        .collect();
    if fixes.is_empty() {
        return Err(format!("exit 8 without a command to run:\n{human}"));
    }
    for fix in fixes {
        let w = words(fix);
        match w.first().map(String::as_str) {
            Some("aws") => {
                let args: Vec<&str> = w[1..].iter().map(String::as_str).collect();
                let out = bench.aws_raw(&args);
                if !out.status.success() {
                    return Err(format!("'{fix}' failed: {}", support::text(&out.stderr)));
                }
            }
            Some("ykman") => {
                // --device SERIAL: the bench names its reader instead.
                let mut args: Vec<&str> = Vec::new();
                let mut skip = false;
                for a in &w[1..] {
                    if skip {
                        skip = false;
                    } else if a == "--device" {
                        skip = true;
                    } else {
                        args.push(a);
                    }
                }
                args.push("--force");
                let reader = bench.tokens[0].reader.clone();
                let out = bench.ykman(&reader, &args);
                if !out.status.success() {
                    return Err(format!("'{fix}' failed: {}", support::text(&out.stderr)));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn cell(step: Step, fault: Fault) -> Result<Outcome, String> {
    let bench = Bench::start(Spec {
        yubikeys: vec![YubiKeySpec::default()],
        nitrokey: false,
        iam: true,
    });
    bench.aws(&["iam", "create-user", "--user-name", "alice"]);
    let (code, human) = inject(&bench, step, fault);
    clear_faults(&bench);
    if human.contains("panicked") {
        return Err(format!("ykmfa panicked:\n{human}"));
    }
    let outcome = if fault == Fault::Sigkill {
        if code.is_some() {
            return Err(format!("ykmfa ended before the kill ({code:?}):\n{human}"));
        }
        let next = bench.run(&["enroll", "--user", "alice"]);
        if next.code != Some(0) {
            return Err(format!(
                "the next run failed ({:?}):\n{}",
                next.code,
                next.human()
            ));
        }
        if !next.human().contains("unfinished enrollment") {
            return Err(format!(
                "the next run said nothing of what it found:\n{}",
                next.human()
            ));
        }
        match consistent(&bench)? {
            Outcome::Completed => Outcome::Recovered,
            other => return Err(format!("after the next run: {other:?}")),
        }
    } else if fault == Fault::IamTimeout && consistent(&bench).is_err() {
        // AWS carried out a request after ykmfa gave up on it and undid the step: the journal
        // keeps the record, and the next run settles it.
        if code == Some(0) || !human.contains(step.words()) {
            return Err(format!(
                "the timed-out run should fail and say where:\n{human}"
            ));
        }
        let next = bench.run(&["enroll", "--user", "alice"]);
        if next.code != Some(0) || !next.human().contains("unfinished enrollment") {
            return Err(format!(
                "the next run did not settle the late effect ({:?}):\n{}",
                next.code,
                next.human()
            ));
        }
        match consistent(&bench)? {
            Outcome::Completed => Outcome::Recovered,
            other => return Err(format!("after the next run: {other:?}")),
        }
    } else {
        if code == Some(8) {
            // Something remains, and the message says what: its commands must finish the job.
            if !human.contains("remain") {
                return Err(format!("exit 8 without naming what remains:\n{human}"));
            }
            run_fixes(&bench, &human)?;
            return match consistent(&bench) {
                Ok(Outcome::RolledBack) => {
                    bench.assert_no_seed_leaked();
                    Ok(Outcome::Named)
                }
                other => Err(format!(
                    "after running the printed commands: {other:?}\nykmfa said:\n{human}"
                )),
            };
        }
        let outcome = consistent(&bench).map_err(|e| format!("{e}\nykmfa said:\n{human}"))?;
        match (&outcome, code) {
            (Outcome::Completed, Some(0)) => {}
            (Outcome::RolledBack, Some(c)) if c != 0 && c != 8 => {
                let named = match fault {
                    f if f.is_signal() => human.contains("nterrupted") || human.contains("SIG"),
                    Fault::LateWrite | Fault::LateUndo | Fault::ReadLag => {
                        human.contains(step.words())
                    }
                    Fault::CardError if step.card().is_some_and(|(ins, _)| ins == "CALCULATE") => {
                        human.contains("refused CALCULATE")
                    }
                    // Pulled during an IAM step, the token may still be out when its next
                    // instruction comes: then that step fails, saying the reader is empty.
                    Fault::CardRemoved => {
                        human.contains("removed")
                            || human.contains("has no token in it")
                            || human.contains(step.words())
                    }
                    _ => human.contains(step.words()),
                };
                if !named {
                    return Err(format!("the message does not say what happened:\n{human}"));
                }
                if !fault.is_signal()
                    && !human.contains("Everything done was undone")
                    && step != Step::Create
                {
                    return Err(format!("the message does not say it was undone:\n{human}"));
                }
            }
            _ => return Err(format!("{outcome:?} but exit code {code:?}:\n{human}")),
        }
        outcome
    };
    if step == Step::Create && fault == Fault::IamError {
        // The create fails before it runs: no seed exists, and that is what is checked.
        bench.assert_no_seed_issued();
    } else {
        bench.assert_no_seed_leaked();
    }
    Ok(outcome)
}

#[test]
fn fault_matrix() {
    let cells: Vec<(Step, Fault)> = STEPS
        .iter()
        .flat_map(|&s| FAULTS.iter().map(move |&f| (s, f)))
        .filter(|(s, f)| f.applies_to(*s))
        .collect();
    // A partial run is asked for by name; otherwise a cell that did not run fails the matrix.
    let only = std::env::var("YKMFA_MATRIX_ONLY").ok();
    let work = std::sync::Mutex::new(cells.into_iter());
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..3 {
            scope.spawn(|| loop {
                let Some((s, f)) = work.lock().unwrap().next() else {
                    break;
                };
                if only
                    .as_deref()
                    .is_some_and(|o| !format!("{} x {}", s.name(), f.name()).contains(o))
                {
                    continue;
                }
                let r = std::panic::catch_unwind(|| cell(s, f)).unwrap_or_else(|p| {
                    let why = p
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                        .unwrap_or_default();
                    Err(format!("the cell panicked: {why}"))
                });
                results.lock().unwrap().push(((s, f), r));
            });
        }
    });
    let results: Vec<((Step, Fault), Result<Outcome, String>)> = results.into_inner().unwrap();

    let mut table = String::from("\nFault matrix (enroll): rows = step, columns = fault\n");
    table.push_str(&format!("{:<12}", "step"));
    for f in FAULTS {
        table.push_str(&format!("| {:<13}", f.name()));
    }
    table.push('\n');
    let mut failures = Vec::new();
    for s in STEPS {
        table.push_str(&format!("{:<12}", s.name()));
        for f in FAULTS {
            let text = match results.iter().find(|((rs, rf), _)| *rs == s && *rf == f) {
                None if !f.applies_to(s) => "n/a".to_owned(),
                None => {
                    if only.is_none() {
                        failures.push(format!("{} x {}: did not run", s.name(), f.name()));
                    }
                    "skipped".to_owned()
                }
                Some((_, Ok(Outcome::RolledBack))) => "ok: undone".to_owned(),
                Some((_, Ok(Outcome::Completed))) => "ok: enrolled".to_owned(),
                Some((_, Ok(Outcome::Recovered))) => "ok: settled".to_owned(),
                Some((_, Ok(Outcome::Named))) => "ok: 8, named".to_owned(),
                Some((_, Err(e))) => {
                    failures.push(format!("{} x {}: {e}", s.name(), f.name()));
                    "FAILED".to_owned()
                }
            };
            table.push_str(&format!("| {text:<13}"));
        }
        table.push('\n');
    }
    println!("{table}");
    eprintln!("{table}");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// A small deterministic generator (xorshift64*), so a failing run can be replayed with
/// `YKMFA_CHAOS_REPLAY` ([`run_rng`]).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The codes the token's credential `label` computes for the next two steps are accepted for
/// `arn`: ykman computes them (its clock moved forward) and the endpoint, its clock moved forward
/// too, checks the pair (a dry run, so the same pair can be checked again later).
fn codes_accepted_for(bench: &Bench, arn: &str, label: &str) -> Result<(), String> {
    let reader = bench.tokens[0].reader.clone();
    for _ in 0..2 {
        let t = support::now();
        let code_at = |offset: u64| {
            let out = Command::new("faketime")
                .arg("-f")
                .arg(format!("+{offset}s"))
                .arg(support::venv_bin("ykman"))
                .args([
                    "--reader", &reader, "oath", "accounts", "code", "--single", label,
                ])
                .envs(bench.env())
                .output()
                .expect("faketime ykman");
            bench.record_output("ykman".into(), out.stdout.clone());
            support::text(&out.stdout).trim().to_owned()
        };
        let (code1, code2) = (code_at(30), code_at(60));
        if t / 30 != support::now() / 30 {
            continue; // a step boundary passed: compute both again
        }
        bench.iam_call("POST", "/_bench/config", json!({"clock_offset_s": 60}));
        let check = bench.iam_call(
            "POST",
            "/_bench/check-code",
            json!({"serial": arn, "code1": code1, "code2": code2, "dry_run": true}),
        );
        bench.iam_call("POST", "/_bench/config", json!({"clock_offset_s": 0}));
        return if check["accepted"] == true {
            Ok(())
        } else {
            Err(format!(
                "{label}: the token's codes are refused for {arn}: {check}"
            ))
        };
    }
    Err("the clock kept crossing step boundaries".into())
}

/// Nobody is locked out: every device assigned to `user` is served by a credential on the
/// token (named by the device's `ykmfa:credential` tag) whose codes IAM accepts.
fn nobody_locked_out(bench: &Bench, user: &str) -> Result<usize, String> {
    let devices = bench.assigned_to(user);
    let names = bench.tokens[0].credential_names();
    for arn in &devices {
        let tags = bench.aws(&["iam", "list-mfa-device-tags", "--serial-number", arn]);
        let label = tags["Tags"]
            .as_array()
            .and_then(|t| {
                t.iter()
                    .find(|t| t["Key"] == "ykmfa:credential")
                    .and_then(|t| t["Value"].as_str())
            })
            .map(str::to_owned)
            .unwrap_or_else(|| format!("Amazon Web Services:{user}@123456789012"));
        if !names.contains(&label) {
            return Err(format!(
                "LOCKOUT: {arn} is assigned to {user}, and the token has no credential '{label}' (it has {names:?})"
            ));
        }
        codes_accepted_for(bench, arn, &label)?;
    }
    Ok(devices.len())
}

/// How many benches the random kills run on at once (each its own pcscd, token and IAM).
const CHAOS_BENCHES: usize = 3;

/// Thirty enrollments (`YKMFA_CHAOS_RUNS`), each killed by SIGKILL, SIGTERM or SIGHUP at a
/// random moment, with IAM's reads lagging 1 s and, at random, the create or the enable answering
/// 500 and landing late. Then one more `ykmfa enroll` of the same user. Every user must end
/// enrolled exactly once with a working credential (or with nothing), never locked out; no
/// orphan device, no stray credential; a run that exited 0 had enrolled the user. The counts are
/// printed.
///
/// The runs are shared out over [`CHAOS_BENCHES`] benches that work at once, run `i` on bench
/// `i % CHAOS_BENCHES`, one after another on each (each bench keeps every user it enrolled).
/// Each run draws its choices from its own generator, seeded from `YKMFA_CHAOS_REPLAY` and its
/// number, so a printed replay value gives every run the same choices again.
#[test]
fn random_kills_with_late_writes_and_lagging_reads_never_lock_anyone_out() {
    // The generators' start, printed so a failing run can be replayed (not a secret).
    let replay = std::env::var("YKMFA_CHAOS_REPLAY")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| support::now() ^ 0x9E37_79B9_7F4A_7C15);
    eprintln!("random kills: YKMFA_CHAOS_REPLAY={replay}");
    let runs: usize = std::env::var("YKMFA_CHAOS_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let results = std::sync::Mutex::new((
        std::collections::BTreeMap::<String, usize>::new(),
        Vec::<String>::new(),
    ));
    std::thread::scope(|scope| {
        for first in 0..CHAOS_BENCHES.min(runs) {
            let results = &results;
            scope.spawn(move || {
                let outcome = std::panic::catch_unwind(|| {
                    random_kills_on_one_bench(replay, (first..runs).step_by(CHAOS_BENCHES))
                });
                let (counts, failures) = outcome.unwrap_or_else(|p| {
                    let why = p
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                        .unwrap_or_default();
                    (
                        std::collections::BTreeMap::new(),
                        vec![format!(
                            "the bench of runs {first}, {first}+{CHAOS_BENCHES}... panicked: {why}"
                        )],
                    )
                });
                let mut all = results.lock().unwrap();
                for (what, n) in counts {
                    *all.0.entry(what).or_default() += n;
                }
                all.1.extend(failures);
            });
        }
    });
    let (counts, failures) = results.into_inner().unwrap();
    let mut table = format!(
        "\nRandom kills ({runs} runs on {} benches, YKMFA_CHAOS_REPLAY={replay}):\n",
        CHAOS_BENCHES.min(runs)
    );
    for (what, n) in &counts {
        table.push_str(&format!("  {n:>3}  {what}\n"));
    }
    println!("{table}");
    eprintln!("{table}");
    assert_eq!(counts.values().sum::<usize>(), runs, "every run is counted");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The generator of run `i`: its own stream, from the replay value and the run's number
/// (splitmix64 of both), so that runs draw the same choices whichever bench runs them.
fn run_rng(replay: u64, i: usize) -> Rng {
    let mut z = replay ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    Rng((z ^ (z >> 31)) | 1)
}

/// The runs `numbers` one after another on one bench of their own; returns the counts of how
/// they ended and the failures. The bench's seeds are scanned at the end.
fn random_kills_on_one_bench(
    replay: u64,
    numbers: impl Iterator<Item = usize>,
) -> (std::collections::BTreeMap<String, usize>, Vec<String>) {
    let bench = Bench::start(Spec {
        yubikeys: vec![YubiKeySpec {
            capacity: Some(64),
            ..YubiKeySpec::default()
        }],
        nitrokey: false,
        iam: true,
    });
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    let mut failures = Vec::new();
    for i in numbers {
        let mut rng = run_rng(replay, i);
        let user = format!("chaos{i:02}");
        bench.aws(&["iam", "create-user", "--user-name", &user]);
        bench.iam_read_lag(1.0);
        match rng.below(3) {
            0 => bench.iam_late_write(
                "EnableMFADevice",
                json!({"land_after_calls": 1 + rng.below(2)}),
            ),
            1 => bench.iam_late_write("CreateVirtualMFADevice", json!({"land_after_secs": 0.5})),
            _ => {}
        }
        let signal = ["-KILL", "-TERM", "-HUP"][rng.below(3) as usize];
        let delay = Duration::from_millis(rng.below(2500));
        let err = bench.dir.join(format!("{user}.stderr"));
        let mut child = bench
            .ykmfa(&["enroll", "--user", &user, "--aws-timeout", AWS_TIMEOUT])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&err).expect("stderr"))
            .spawn()
            .expect("spawn ykmfa");
        std::thread::sleep(delay);
        let _ = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status();
        let status = child.wait().expect("wait");
        let said = support::text(&std::fs::read(&err).expect("stderr"));
        bench.record_output(format!("{user} first run"), said.clone().into_bytes());
        let first = match status.code() {
            None => format!("{signal} killed"),
            Some(c) => format!("exit {c}"),
        };
        clear_faults(&bench);
        // A run that said "enrolled" (exit 0) must have left a user who can sign in.
        if status.code() == Some(0) {
            match nobody_locked_out(&bench, &user) {
                Ok(1) => {}
                Ok(n) => failures.push(format!("{user}: exit 0 with {n} devices:\n{said}")),
                Err(e) => failures.push(format!("{user}: exit 0 but {e}:\n{said}")),
            }
        }
        // One more command: after a run that said "enrolled", `status` (which only looks);
        // otherwise the same enroll, which settles what the first left and finishes the job.
        let again: Vec<&str> = if status.code() == Some(0) {
            vec!["status", "--user", &user]
        } else {
            vec!["enroll", "--user", &user]
        };
        let next = bench.run(&again);
        let end = match (next.code, nobody_locked_out(&bench, &user)) {
            (_, Err(e)) => {
                failures.push(format!(
                    "{user} ({first}, then {again:?} exit {:?}): {e}\n{said}\n{}",
                    next.code,
                    next.human()
                ));
                "FAILED"
            }
            (Some(0), Ok(1)) => "enrolled once",
            (Some(c), Ok(0)) if c != 0 => "nothing",
            (code, Ok(n)) => {
                failures.push(format!(
                    "{user} ({first}, then {again:?} exit {code:?}): {n} devices assigned\n{}",
                    next.human()
                ));
                "FAILED"
            }
        };
        *counts.entry(format!("{first} -> {end}")).or_default() += 1;
    }
    // No orphan device, no credential without its device.
    let unassigned = bench.virtual_devices("Unassigned");
    if !unassigned.is_empty() {
        failures.push(format!("orphan devices: {unassigned:?}"));
    }
    let names = bench.tokens[0].credential_names();
    let assigned = bench.virtual_devices("Assigned").len();
    if names.len() != assigned {
        failures.push(format!(
            "{} credentials on the token for {assigned} assigned devices: {names:?}",
            names.len()
        ));
    }
    bench.assert_no_seed_leaked();
    (counts, failures)
}
