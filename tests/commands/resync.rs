//! `ykmfa resync` end to end on the bench: the real pcscd with the virtual YubiKey, `ykman` as
//! the independent client computing codes at the true time, the strict IAM endpoint keeping a
//! per-device drift as AWS does, and libfaketime (Debian `faketime`) shifting the clock ykmfa
//! sees. Every run's outputs (at RUST_LOG=trace) and files are scanned for the seeds IAM issued.

// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use support::{Bench, Run, Spec, YubiKeySpec};

const ACCOUNT: &str = "123456789012";
const ALICE_LABEL: &str = "Amazon Web Services:alice@123456789012";

fn bench() -> Bench {
    let bench = Bench::start(Spec {
        yubikeys: vec![YubiKeySpec::default()],
        nitrokey: false,
        iam: true,
    });
    bench.aws(&["iam", "create-user", "--user-name", "alice"]);
    bench.aws(&["iam", "create-user", "--user-name", "bob"]);
    // AWS enables a pair that arrives late, and the device is then out of sync.
    bench.iam_call("POST", "/_bench/config", json!({"enable_late_window": 10}));
    bench
}

/// `ykmfa ARGS` with the clock shifted by `shift` ("-90s") through libfaketime, as
/// [`Bench::run`] runs it otherwise (trace logs, outputs recorded for the seed scan).
fn run_shifted(bench: &Bench, shift: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    // The seed scan looks for the codes of the shifted steps too.
    let secs: i64 = shift
        .trim_end_matches('s')
        .parse()
        .expect("a shift in seconds, as \"-90s\"");
    bench.note_clock_shift(secs);
    // The multi-threaded libfaketime: ykmfa runs a tokio runtime with worker threads.
    let mut c = Command::new("faketime");
    c.args(["-m", "-f", shift])
        .arg(support::ykmfa_bin())
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("RUST_LOG", "trace")
        .env("YKMFA_LOG_FORMAT", "json")
        .stdin(Stdio::null());
    for (k, v) in bench.env() {
        c.env(k, v);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("run faketime ykmfa");
    bench.record_output(
        format!("stdout of faketime {shift} ykmfa {args:?}"),
        out.stdout.clone(),
    );
    bench.record_output(
        format!("stderr of faketime {shift} ykmfa {args:?}"),
        out.stderr.clone(),
    );
    Run {
        code: out.status.code(),
        stdout: support::text(&out.stdout),
        stderr: support::text(&out.stderr),
    }
}

/// The code `ykman` computes for `label` now, at the true time.
fn ykman_code(bench: &Bench, label: &str) -> String {
    let reader = bench.tokens[0].reader.clone();
    let out = bench.ykman(&reader, &["oath", "accounts", "code", "--single", label]);
    assert!(out.status.success(), "{}", support::text(&out.stderr));
    bench.record_output("ykman code".into(), out.stdout.clone());
    support::text(&out.stdout).trim().to_owned()
}

fn device_state(bench: &Bench, arn: &str) -> Value {
    bench.iam_call("GET", &format!("/_bench/device?serial={arn}"), json!({}))
}

fn check_code(bench: &Bench, arn: &str, code: &str, dry_run: bool) -> Value {
    bench.iam_call(
        "POST",
        "/_bench/check-code",
        json!({"serial": arn, "code": code, "dry_run": dry_run}),
    )
}

/// How many ResyncMFADevice calls reached the endpoint so far.
fn resync_calls(bench: &Bench) -> usize {
    let v = bench.iam_call("GET", "/_bench/calls?action=ResyncMFADevice", json!({}));
    v["count"].as_u64().expect("count") as usize
}

/// Waits until the true time is a few seconds into a fresh 30-second step, so that a code
/// computed now is not one already used.
fn wait_for_next_step() {
    let step = support::now() / 30;
    support::wait_for(Duration::from_secs(40), "the next time step", || {
        support::now() / 30 > step && support::now() % 30 >= 1
    });
}

/// Enrolls `user` (at the true time) and returns the device ARN.
fn enroll(bench: &Bench, user: &str, extra: &[&str]) -> String {
    let mut args = vec!["enroll", "--user", user];
    args.extend_from_slice(extra);
    bench.run(&args).ok().trim().to_owned()
}

/// Enrolls `user` from a clock 90 s behind, and returns the device ARN and its drift (about
/// three steps). The codes enroll used are then older than any a resync at the true time
/// computes: a resync's first pair is never one AWS has seen.
fn enroll_late(bench: &Bench, user: &str, extra: &[&str]) -> (String, i64) {
    let mut args = vec!["enroll", "--user", user];
    args.extend_from_slice(extra);
    let arn = run_shifted(bench, "-90s", &args, &[])
        .ok()
        .trim()
        .to_owned();
    let drift = device_state(bench, &arn)["drift_steps"]
        .as_i64()
        .expect("drift");
    assert!((-4..=-3).contains(&drift), "drift {drift}");
    (arn, drift)
}

/// Nothing changed in IAM: no ResyncMFADevice call went through and the device keeps its drift.
fn assert_unchanged(bench: &Bench, calls_before: usize, arn: &str, drift: i64) {
    assert_eq!(
        resync_calls(bench),
        calls_before,
        "ResyncMFADevice was called"
    );
    assert_eq!(device_state(bench, arn)["drift_steps"], drift);
}

/// The "Clock: ..." or warning line about the clock.
fn clock_line(run: &Run) -> String {
    run.human()
        .lines()
        .find(|l| l.contains(" AWS ("))
        .unwrap_or_else(|| panic!("no clock line in:\n{}", run.human()))
        .to_owned()
}

#[test]
fn a_device_enrolled_under_a_late_clock_is_back_in_step_after_resync() {
    let bench = bench();

    // Enrolled while ykmfa's clock is 90 s (three steps) behind.
    let run = run_shifted(&bench, "-90s", &["enroll", "--user", "alice"], &[]);
    let arn = run.ok().trim().to_owned();
    assert_eq!(arn, format!("arn:aws:iam::{ACCOUNT}:mfa/alice-yk12345678"));
    let drift = device_state(&bench, &arn)["drift_steps"]
        .as_i64()
        .expect("drift");
    assert!((-4..=-3).contains(&drift), "drift {drift}");

    // Codes from the true time are refused.
    let code = ykman_code(&bench, ALICE_LABEL);
    let refused = check_code(&bench, &arn, &code, true);
    assert_eq!(refused["accepted"], false, "{refused}");
    assert_eq!(refused["reason"], "wrong_code", "{refused}");

    // A resync from the late clock measures it, says so, and changes nothing without a yes.
    let calls = resync_calls(&bench);
    let late = run_shifted(&bench, "-90s", &["resync", "--user", "alice"], &[]);
    assert_eq!(late.code, Some(1), "{}", late.human());
    let line = clock_line(&late);
    assert!(line.contains("behind AWS"), "{line}");
    let measured: f64 = line
        .split(" s behind")
        .next()
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no seconds in {line}"));
    eprintln!("measured under faketime -90s: {line}");
    assert!((88.0..=92.0).contains(&measured), "measured {measured} s");
    assert!(late.human().contains("timedatectl"), "{}", late.human());
    assert!(
        late.human().contains("Nothing was changed"),
        "{}",
        late.human()
    );
    assert_unchanged(&bench, calls, &arn, drift);

    // At the true time: in step, resynchronized, drift gone.
    let run = bench.run(&["resync", "--user", "alice", "--json"]);
    let done: Value = serde_json::from_str(run.ok()).expect("json");
    assert_eq!(done["schema"], "ykmfa.resync/1");
    assert_eq!(done["device"], arn.as_str());
    assert_eq!(done["user"], "alice");
    assert_eq!(done["account"], ACCOUNT);
    assert_eq!(done["credential"], ALICE_LABEL);
    assert_eq!(done["token"]["serial"], support::YUBIKEY_SERIAL);
    assert_eq!(done["matched_by"], "tags");
    assert_eq!(done["clock"]["level"], "ok", "{done}");
    eprintln!("measured at the true time: {}", done["clock"]);
    assert!(done["clock"]["skew_seconds"].as_f64().expect("skew").abs() < 2.0);
    assert_eq!(device_state(&bench, &arn)["drift_steps"], 0);
    assert_eq!(resync_calls(&bench), calls + 1);

    // The true time's codes sign in again (a fresh step: resync used the current one).
    wait_for_next_step();
    let code = ykman_code(&bench, ALICE_LABEL);
    let accepted = check_code(&bench, &arn, &code, false);
    assert_eq!(accepted["accepted"], true, "{accepted}");
    assert!(bench.assert_no_seed_leaked() >= 1);
}

#[test]
fn resync_measures_a_clock_ahead_and_resyncs_to_it_only_when_told() {
    let bench = bench();
    let arn = enroll(&bench, "alice", &[]);
    let calls = resync_calls(&bench);

    // 90 s ahead, no terminal, no --yes: measured, explained, refused.
    let ahead = run_shifted(&bench, "+90s", &["resync", "--user", "alice"], &[]);
    assert_eq!(ahead.code, Some(1), "{}", ahead.human());
    assert!(
        clock_line(&ahead).contains("ahead of AWS"),
        "{}",
        ahead.human()
    );
    assert!(ahead.human().contains("--yes"), "{}", ahead.human());
    assert_unchanged(&bench, calls, &arn, 0);

    // With --yes the person asked for it: AWS now expects codes from that clock.
    let run = run_shifted(
        &bench,
        "+90s",
        &["resync", "--user", "alice", "--json", "--yes"],
        &[],
    );
    let done: Value = serde_json::from_str(run.ok()).expect("json");
    assert_eq!(done["clock"]["level"], "large", "{done}");
    eprintln!("measured under faketime +90s: {}", done["clock"]);
    let skew = done["clock"]["skew_seconds"].as_f64().expect("skew");
    assert!((88.0..=92.0).contains(&skew), "skew {skew}");
    let drift = device_state(&bench, &arn)["drift_steps"]
        .as_i64()
        .expect("drift");
    assert!((3..=4).contains(&drift), "drift {drift}");
    bench.assert_no_seed_leaked();
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let bench = bench();
    let (alice, alice_drift) = enroll_late(&bench, "alice", &[]);
    let (bob, bob_drift) = enroll_late(&bench, "bob", &[]);
    let calls = resync_calls(&bench);
    let unchanged = || {
        assert_unchanged(&bench, calls, &alice, alice_drift);
        assert_unchanged(&bench, calls, &bob, bob_drift);
    };

    let run = bench.run(&["resync", "--user", "nobody"]);
    assert_eq!(run.code, Some(7), "{}", run.human());
    assert!(
        run.human().contains("'nobody' does not exist"),
        "{}",
        run.human()
    );
    unchanged();

    bench.aws(&["iam", "create-user", "--user-name", "carol"]);
    let run = bench.run(&["resync", "--user", "carol"]);
    assert_eq!(run.code, Some(7), "{}", run.human());
    assert!(run.human().contains("has no MFA device"), "{}", run.human());
    assert!(
        run.human().contains("ykmfa enroll --user carol"),
        "{}",
        run.human()
    );
    unchanged();

    for bad in [
        "arn:aws:iam::123456789012:user/alice",
        "arn:aws:iam::12345:mfa/alice",
        "alice-yk12345678",
    ] {
        let run = bench.run(&["resync", "--user", "alice", "--device", bad]);
        assert_eq!(run.code, Some(2), "{bad}: {}", run.human());
        assert!(
            run.human().contains("is not a virtual MFA device"),
            "{}",
            run.human()
        );
    }
    unchanged();

    let run = bench.run(&["resync", "--user", "alice", "--device", &bob]);
    assert_eq!(run.code, Some(7), "{}", run.human());
    assert!(
        run.human().contains("it is assigned to IAM user bob"),
        "{}",
        run.human()
    );
    unchanged();

    let unknown = format!("arn:aws:iam::{ACCOUNT}:mfa/nothing-here");
    let run = bench.run(&["resync", "--user", "alice", "--device", &unknown]);
    assert_eq!(run.code, Some(7), "{}", run.human());
    assert!(
        run.human().contains("there is no virtual MFA device"),
        "{}",
        run.human()
    );
    unchanged();

    let foreign = "arn:aws:iam::111111111111:mfa/alice-yk12345678";
    let run = bench.run(&["resync", "--user", "alice", "--device", foreign]);
    assert_eq!(run.code, Some(2), "{}", run.human());
    assert!(
        run.human().contains("is in account 111111111111"),
        "{}",
        run.human()
    );
    unchanged();

    // Bob's credential on the same token is not alice's business: her own device is found.
    let run = bench.run(&["resync", "--user", "alice"]);
    assert_eq!(run.ok().trim(), alice);
    assert_eq!(resync_calls(&bench), calls + 1);
    bench.assert_no_seed_leaked();
}

#[test]
fn two_devices_on_the_token_need_device() {
    let bench = bench();
    let (first, first_drift) = enroll_late(&bench, "alice", &[]);
    let (second, _) = enroll_late(
        &bench,
        "alice",
        &["--label", "Work:alice", "--device-name", "alice-work"],
    );
    let calls = resync_calls(&bench);
    let run = bench.run(&["resync", "--user", "alice"]);
    assert_eq!(run.code, Some(2), "{}", run.human());
    assert!(
        run.human().contains("2 of alice's MFA devices"),
        "{}",
        run.human()
    );
    assert!(
        run.human()
            .contains(&format!("ykmfa resync --user alice --device {second}")),
        "{}",
        run.human()
    );
    assert_unchanged(&bench, calls, &first, first_drift);

    let run = bench.run(&["resync", "--user", "alice", "--device", &second, "--json"]);
    let done: Value = serde_json::from_str(run.ok()).expect("json");
    assert_eq!(done["credential"], "Work:alice");
    assert_eq!(done["matched_by"], "explicit");
    assert_eq!(resync_calls(&bench), calls + 1);
    bench.assert_no_seed_leaked();
}

#[test]
fn an_untagged_device_is_found_by_its_default_name() {
    let bench = bench();
    // Tagging denied: enroll creates the device without tags.
    bench.iam_fault(json!({"action": "CreateVirtualMFADevice", "code": "AccessDenied",
                           "status": 403, "message": "not authorized to perform: iam:TagMFADevice"}));
    let (arn, _) = enroll_late(&bench, "alice", &[]);
    let tags = bench.aws(&["iam", "list-mfa-device-tags", "--serial-number", &arn]);
    assert_eq!(tags["Tags"], json!([]), "{tags}");
    let run = bench.run(&["resync", "--user", "alice", "--json"]);
    let done: Value = serde_json::from_str(run.ok()).expect("json");
    assert_eq!(done["matched_by"], "label");
    assert_eq!(done["credential"], ALICE_LABEL);

    // Tags that may not be read: the default name finds the device, and a warning says why.
    enroll_late(&bench, "bob", &[]);
    bench.iam_fault(
        json!({"action": "ListMFADeviceTags", "code": "AccessDenied",
                           "status": 403, "count": "always"}),
    );
    let run = bench.run(&["resync", "--user", "bob", "--json"]);
    let done: Value = serde_json::from_str(run.ok()).expect("json");
    assert_eq!(done["matched_by"], "label");
    assert_eq!(done["credential"], "Amazon Web Services:bob@123456789012");
    assert!(
        run.human().contains("iam:ListMFADeviceTags"),
        "{}",
        run.human()
    );
    bench.assert_no_seed_leaked();
}

#[test]
fn a_credential_gone_from_the_token_points_to_revoke_and_enroll() {
    let bench = bench();
    let arn = enroll(&bench, "alice", &[]);
    let reader = bench.tokens[0].reader.clone();
    bench.ykman_ok(
        &reader,
        &["oath", "accounts", "delete", "--force", ALICE_LABEL],
    );
    let calls = resync_calls(&bench);
    let run = bench.run(&["resync", "--user", "alice"]);
    assert_eq!(run.code, Some(5), "{}", run.human());
    let human = run.human();
    assert!(
        human.contains("is no longer on YubiKey 12345678"),
        "{human}"
    );
    assert!(human.contains("Resync can't help"), "{human}");
    assert!(
        human.contains(&format!("ykmfa revoke --user alice --device {arn}")),
        "{human}"
    );
    assert!(
        human.contains("ykmfa enroll --user alice --serial 12345678"),
        "{human}"
    );
    assert_unchanged(&bench, calls, &arn, 0);
    bench.assert_no_seed_leaked();
}

#[test]
fn a_locked_token_needs_its_password() {
    let bench = bench();
    let (arn, drift) = enroll_late(&bench, "alice", &[]);
    let reader = bench.tokens[0].reader.clone();
    bench.ykman_ok(
        &reader,
        &["oath", "access", "change", "-n", "correct horse"],
    );
    let calls = resync_calls(&bench);

    let run = bench.run(&["resync", "--user", "alice"]);
    assert_eq!(run.code, Some(5), "{}", run.human());
    assert!(
        run.human().contains("password protected"),
        "{}",
        run.human()
    );
    assert!(
        run.human().contains("YKMFA_OATH_PASSWORD"),
        "{}",
        run.human()
    );
    assert_unchanged(&bench, calls, &arn, drift);

    let run = bench.run_with(
        &["resync", "--user", "alice"],
        &[("YKMFA_OATH_PASSWORD", "wrong")],
    );
    assert_eq!(run.code, Some(5), "{}", run.human());
    assert!(
        run.human().contains("wrong OATH password"),
        "{}",
        run.human()
    );
    assert_unchanged(&bench, calls, &arn, drift);

    let run = bench.run_with(
        &["resync", "--user", "alice"],
        &[("YKMFA_OATH_PASSWORD", "correct horse")],
    );
    assert_eq!(run.ok().trim(), arn);
    assert_eq!(resync_calls(&bench), calls + 1);
    bench.assert_no_seed_leaked();
}

#[test]
fn a_touch_credential_asks_for_each_touch() {
    let bench = bench();
    let (arn, _) = enroll_late(&bench, "alice", &["--touch"]);
    let calls = resync_calls(&bench);

    let run = bench.run(&["resync", "--user", "alice"]);
    run.ok();
    assert_eq!(
        run.human().matches("Touch your token now.").count(),
        2,
        "{}",
        run.human()
    );
    assert_eq!(resync_calls(&bench), calls + 1);

    // No touch comes: the token says so, and IAM is not asked.
    bench.tokens[0].control(json!({"cmd": "touch", "mode": "refuse"}));
    let run = bench.run(&["resync", "--user", "alice"]);
    assert_eq!(run.code, Some(5), "{}", run.human());
    assert!(
        run.human().contains("not touched in time"),
        "{}",
        run.human()
    );
    assert!(run.human().contains("touch the token"), "{}", run.human());
    assert_eq!(resync_calls(&bench), calls + 1);
    assert_eq!(device_state(&bench, &arn)["drift_steps"], 0);
    bench.assert_no_seed_leaked();
}

#[test]
fn right_after_enrolling_resync_waits_for_codes_aws_has_not_seen() {
    let bench = bench();
    let arn = enroll(&bench, "alice", &[]);
    let calls = resync_calls(&bench);
    // The pair of this step is the one enroll just used: AWS refuses it, ykmfa waits for two
    // fresh steps and is accepted, in step.
    let run = bench.run(&["resync", "--user", "alice"]);
    assert_eq!(run.ok().trim(), arn);
    assert!(
        run.human().contains("Trying fresh ones in"),
        "{}",
        run.human()
    );
    assert_eq!(resync_calls(&bench), calls + 2);
    assert_eq!(device_state(&bench, &arn)["drift_steps"], 0);
    bench.assert_no_seed_leaked();
}

#[test]
fn codes_of_another_seed_are_refused_by_aws_with_the_way_out() {
    let bench = bench();
    let arn = enroll(&bench, "alice", &[]);
    // The credential is replaced by one of the same name and another seed (another tool did it).
    let reader = bench.tokens[0].reader.clone();
    bench.ykman_ok(
        &reader,
        &["oath", "accounts", "delete", "--force", ALICE_LABEL],
    );
    bench.ykman_ok(
        &reader,
        &[
            "oath",
            "accounts",
            "add",
            ALICE_LABEL,
            "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
        ],
    );
    let run = bench.run(&["resync", "--user", "alice"]);
    assert_eq!(run.code, Some(7), "{}", run.human());
    let human = run.human();
    assert!(human.contains("AWS did not accept the codes"), "{human}");
    assert!(
        human.contains(&format!("ykmfa revoke --user alice --device {arn}")),
        "{human}"
    );
    assert_eq!(device_state(&bench, &arn)["drift_steps"], 0);
    bench.assert_no_seed_leaked();
}

#[test]
fn resync_root_prints_the_pair_for_the_console() {
    let bench = Bench::start(Spec {
        yubikeys: vec![YubiKeySpec::default()],
        nitrokey: false,
        iam: true,
    });
    let reader = bench.tokens[0].reader.clone();
    let label = format!("Amazon Web Services:root@{ACCOUNT}");
    // A root credential of a seed this test knows (the console's seed never reaches a test).
    let seed = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    let run = bench.run(&["resync", "--root"]);
    assert_eq!(run.code, Some(3), "{}", run.human());
    assert!(run.human().contains("root credential"), "{}", run.human());

    bench.ykman_ok(&reader, &["oath", "accounts", "add", &label, seed]);
    bench.ykman_ok(&reader, &["oath", "accounts", "add", "GitHub:alice", seed]);
    let run = bench.run(&["resync", "--root", "--json"]);
    let shown: Value = serde_json::from_str(run.ok()).expect("json");
    assert_eq!(shown["schema"], "ykmfa.resync-root/1");
    assert_eq!(shown["credential"], label.as_str());
    let steps: Vec<u64> = shown["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| s.as_u64().expect("step"))
        .collect();
    assert_eq!(steps[1], steps[0] + 1);
    assert_eq!(shown["valid_until"].as_u64(), Some((steps[1] + 1) * 30));
    let key = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, seed).expect("b32");
    let totp = totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, key);
    assert_eq!(shown["codes"][0], totp.generate(steps[0] * 30));
    assert_eq!(shown["codes"][1], totp.generate(steps[1] * 30));
    assert_eq!(shown["clock"]["level"], "ok", "{shown}");

    // Human: the two codes on stdout, in order, and the time left.
    let run = bench.run(&["resync", "--root"]);
    let lines: Vec<&str> = run.ok().lines().collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines
        .iter()
        .all(|l| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit())));
    assert!(run.human().contains("Enter them within"), "{}", run.human());

    // Two root-looking credentials: --label decides.
    let qr_label = format!("Amazon Web Services:root-account-mfa-device@{ACCOUNT}");
    bench.ykman_ok(&reader, &["oath", "accounts", "add", &qr_label, seed]);
    let run = bench.run(&["resync", "--root"]);
    assert_eq!(run.code, Some(2), "{}", run.human());
    assert!(run.human().contains("--label"), "{}", run.human());
    let run = bench.run(&["resync", "--root", "--label", &qr_label, "--json"]);
    let shown: Value = serde_json::from_str(run.ok()).expect("json");
    assert_eq!(shown["credential"], qr_label.as_str());
    // Nothing was asked of IAM but the clock, and no seed was issued: the scan looks for the
    // root credential's seed, which the test knows (its codes are printed by design).
    assert_eq!(resync_calls(&bench), 0);
    bench.assert_no_seed_issued();
    bench.assert_no_leak_of(&[seed]);
}
