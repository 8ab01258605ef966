//! `ykmfa enroll` end to end on the bench: the real pcscd with the virtual YubiKey (or the
//! Nitrokey card), `ykman` as the independent client, and the strict IAM endpoint. Every run's
//! stdout, stderr (at RUST_LOG=trace) and files are scanned for the seeds IAM issued.

// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use serde_json::json;
use support::{Bench, Spec, YubiKeySpec};

const ACCOUNT: &str = "123456789012";
const LABEL: &str = "Amazon Web Services:alice@123456789012";

fn bench() -> Bench {
    let bench = Bench::start(Spec {
        yubikeys: vec![YubiKeySpec::default()],
        nitrokey: false,
        iam: true,
    });
    bench.aws(&["iam", "create-user", "--user-name", "alice"]);
    bench
}

/// Whether a run got as far as creating the virtual MFA device, so that IAM issued a seed.
#[derive(Clone, Copy)]
enum Seed {
    /// Created, then undone: the seed scan has the seed to look for.
    Issued,
    /// Refused or failed before any device was created: IAM issued no seed.
    NotIssued,
}

/// Nothing in IAM, nothing on the token, and no seed anywhere (or none ever issued).
fn assert_untouched(bench: &Bench, seed: Seed) {
    assert!(
        bench.virtual_devices("Any").is_empty(),
        "a virtual MFA device remains: {:?}",
        bench.virtual_devices("Any")
    );
    assert!(
        bench.tokens[0].credential_names().is_empty(),
        "a credential remains: {:?}",
        bench.tokens[0].credential_names()
    );
    match seed {
        Seed::Issued => {
            bench.assert_no_seed_leaked();
        }
        Seed::NotIssued => bench.assert_no_seed_issued(),
    }
}

#[test]
fn enrolls_alice_and_ykman_codes_are_accepted() {
    let bench = bench();
    let run = bench.run(&["enroll", "--user", "alice"]);
    let arn = run.ok().trim().to_owned();
    assert_eq!(arn, format!("arn:aws:iam::{ACCOUNT}:mfa/alice-yk12345678"));
    assert!(
        run.human()
            .contains("mfa_serial = arn:aws:iam::123456789012:mfa/alice-yk12345678"),
        "{}",
        run.human()
    );

    // IAM: one assigned device for alice. Token: one credential with the AWS label.
    let listed = bench.aws(&["iam", "list-mfa-devices", "--user-name", "alice"]);
    let listed = listed["MFADevices"].as_array().expect("devices");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["SerialNumber"], arn.as_str());
    assert_eq!(bench.tokens[0].credential_names(), [LABEL]);
    let tags = bench.aws(&["iam", "list-mfa-device-tags", "--serial-number", &arn]);
    assert!(
        tags["Tags"].to_string().contains("ykmfa:token-serial"),
        "{tags}"
    );

    // ykman, an independent client, computes the codes of the next two steps (run under
    // faketime) and the strict endpoint, its clock moved to the later step, accepts the pair.
    let reader = bench.tokens[0].reader.clone();
    let code_at = |offset: u64| {
        let t = support::now();
        let out = std::process::Command::new("faketime")
            .arg("-f")
            .arg(format!("+{offset}s"))
            .arg(support::venv_bin("ykman"))
            .args([
                "--reader", &reader, "oath", "accounts", "code", "--single", LABEL,
            ])
            .envs(bench.env())
            .output()
            .expect("faketime ykman");
        assert!(out.status.success(), "{}", support::text(&out.stderr));
        bench.record_output("ykman".into(), out.stdout.clone());
        (t, support::text(&out.stdout).trim().to_owned())
    };
    let (t1, code1) = code_at(30);
    let (t2, code2) = code_at(60);
    if t1 / 30 != t2 / 30 {
        // A step boundary passed between the two: compute both again.
        return enrolls_alice_and_ykman_codes_are_accepted_retry(&bench, &arn, &code_at);
    }
    bench.iam_call("POST", "/_bench/config", json!({"clock_offset_s": 60}));
    let check = bench.iam_call(
        "POST",
        "/_bench/check-code",
        json!({"serial": arn, "code1": code1, "code2": code2}),
    );
    assert_eq!(check["accepted"], true, "{check}");
    assert!(bench.assert_no_seed_leaked() >= 1);
}

fn enrolls_alice_and_ykman_codes_are_accepted_retry(
    bench: &Bench,
    arn: &str,
    code_at: &dyn Fn(u64) -> (u64, String),
) {
    let (_, code1) = code_at(30);
    let (_, code2) = code_at(60);
    bench.iam_call("POST", "/_bench/config", json!({"clock_offset_s": 60}));
    let check = bench.iam_call(
        "POST",
        "/_bench/check-code",
        json!({"serial": arn, "code1": code1, "code2": code2}),
    );
    assert_eq!(check["accepted"], true, "{check}");
}

#[test]
fn dry_run_changes_nothing() {
    let bench = bench();
    let run = bench.run(&["enroll", "--user", "alice", "--dry-run", "--json"]);
    let plan: serde_json::Value = serde_json::from_str(run.ok()).expect("json");
    assert_eq!(plan["plan"]["device_name"], "alice-yk12345678");
    assert_eq!(plan["plan"]["credential"], LABEL);
    assert_untouched(&bench, Seed::NotIssued);
}

#[test]
fn a_second_token_for_the_same_user_is_another_device() {
    let bench = Bench::start(Spec {
        yubikeys: vec![
            YubiKeySpec::default(),
            YubiKeySpec {
                serial: 23_456_789,
                ..YubiKeySpec::default()
            },
        ],
        nitrokey: false,
        iam: true,
    });
    bench.aws(&["iam", "create-user", "--user-name", "alice"]);
    // Two tokens and no --serial: refused, nothing created.
    let run = bench.run(&["enroll", "--user", "alice"]);
    assert_eq!(run.code, Some(3), "{}", run.human());
    assert!(run.human().contains("--serial"), "{}", run.human());
    assert!(bench.virtual_devices("Any").is_empty());
    bench
        .run(&["enroll", "--user", "alice", "--serial", "12345678"])
        .ok();
    bench
        .run(&["enroll", "--user", "alice", "--serial", "23456789"])
        .ok();
    let listed = bench.aws(&["iam", "list-mfa-devices", "--user-name", "alice"]);
    assert_eq!(listed["MFADevices"].as_array().map(Vec::len), Some(2));
    bench.assert_no_seed_leaked();
}

/// Arms a failure at one step, runs enroll, and checks the failure is reported and undone.
fn fails_and_rolls_back(arm: impl Fn(&Bench), expect_in_message: &str, seed: Seed) {
    let bench = bench();
    arm(&bench);
    let run = bench.run(&["enroll", "--user", "alice"]);
    assert_ne!(run.code, Some(0), "{}", run.human());
    assert_ne!(
        run.code,
        Some(8),
        "nothing should be left over: {}",
        run.human()
    );
    assert!(
        run.human().contains(expect_in_message),
        "expected '{expect_in_message}' in:\n{}",
        run.human()
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let _ = bench.iam_call("POST", "/_bench/faults/clear", json!({}));
    assert_untouched(&bench, seed);
}

#[test]
fn create_failure_leaves_nothing() {
    fails_and_rolls_back(
        |b| {
            b.iam_fault(json!({"action": "CreateVirtualMFADevice", "code": "ServiceFailure", "status": 500, "count": "always"}))
        },
        "error:",
        Seed::NotIssued,
    );
}

#[test]
fn create_whose_answer_is_lost_is_undone_by_name() {
    // The device is created, but the answer never arrives in time (a 500 after the fact).
    fails_and_rolls_back(
        |b| {
            b.iam_fault(json!({"action": "CreateVirtualMFADevice", "code": "ServiceFailure", "status": 500, "when": "after", "count": "always"}))
        },
        "error:",
        Seed::Issued,
    );
}

#[test]
fn put_failure_leaves_nothing() {
    fails_and_rolls_back(
        |b| {
            b.tokens[0].control(
                json!({"cmd": "fault", "kind": "status", "ins": "PUT", "sw": "6581", "count": 1}),
            );
        },
        "PUT",
        Seed::Issued,
    );
}

#[test]
fn first_calculate_failure_leaves_nothing() {
    fails_and_rolls_back(
        |b| {
            b.tokens[0].control(json!({"cmd": "fault", "kind": "status", "ins": "CALCULATE", "sw": "6F00", "count": 1}));
        },
        "CALCULATE",
        Seed::Issued,
    );
}

#[test]
fn second_calculate_failure_leaves_nothing() {
    fails_and_rolls_back(
        |b| {
            b.tokens[0].control(json!({"cmd": "fault", "kind": "status", "ins": "CALCULATE", "sw": "6F00", "count": 1, "skip": 1}));
        },
        "CALCULATE",
        Seed::Issued,
    );
}

#[test]
fn token_removed_during_put_leaves_nothing() {
    fails_and_rolls_back(
        |b| {
            // Put back after 1.5 s, as a person would: a card that reconnects before vpcd has
            // noticed it leaving can leave pcscd showing the reader empty (seen under load).
            b.tokens[0].control(json!({"cmd": "fault", "kind": "remove", "ins": "PUT", "count": 1, "reinsert_after_ms": 1500}));
        },
        "removed",
        Seed::Issued,
    );
}

#[test]
fn enable_failure_leaves_nothing() {
    fails_and_rolls_back(
        |b| {
            b.iam_fault(json!({"action": "EnableMFADevice", "code": "ServiceFailure", "status": 500, "count": "always"}))
        },
        "error:",
        Seed::Issued,
    );
}

#[test]
fn enable_whose_answer_is_lost_is_deactivated_and_deleted() {
    fails_and_rolls_back(
        |b| {
            b.iam_fault(json!({"action": "EnableMFADevice", "code": "ServiceFailure", "status": 500, "when": "after", "count": "always"}))
        },
        "error:",
        Seed::Issued,
    );
}

#[test]
fn confirm_failure_leaves_nothing() {
    fails_and_rolls_back(
        |b| {
            b.iam_fault(json!({"action": "ListMFADevices", "code": "ServiceFailure", "status": 500, "skip": 1, "count": "always"}))
        },
        "error:",
        Seed::Issued,
    );
}

#[test]
fn ctrl_c_during_enable_undoes_everything() {
    let bench = bench();
    bench.iam_fault(
        json!({"action": "EnableMFADevice", "kind": "delay", "delay_ms": 3000, "count": 1}),
    );
    // Outputs go to files: a pipe nobody reads would fill up with trace logs and stall ykmfa.
    let out_path = bench.dir.join("ctrl-c.stdout");
    let err_path = bench.dir.join("ctrl-c.stderr");
    let mut child = bench
        .ykmfa(&["enroll", "--user", "alice"])
        .env("RUST_LOG", "trace")
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("spawn");
    support::wait_for(
        std::time::Duration::from_secs(20),
        "EnableMFADevice in flight",
        || {
            let calls = bench.iam_call(
                "GET",
                "/_bench/calls?action=CreateVirtualMFADevice",
                json!({}),
            );
            calls["count"].as_u64().unwrap_or(0) > 0
                && !bench.tokens[0].credential_names().is_empty()
        },
    );
    std::thread::sleep(std::time::Duration::from_millis(500));
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let status = child.wait().expect("wait");
    let stdout = std::fs::read(&out_path).expect("stdout");
    let stderr_bytes = std::fs::read(&err_path).expect("stderr");
    bench.record_output("stdout".into(), stdout);
    bench.record_output("stderr".into(), stderr_bytes.clone());
    let stderr = support::text(&stderr_bytes);
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("Interrupted"), "{stderr}");
    assert_untouched(&bench, Seed::Issued);
}

#[test]
fn denied_delete_is_reported_with_the_command_and_the_next_run_succeeds() {
    let bench = bench();
    bench.iam_fault(
        json!({"action": "EnableMFADevice", "code": "LimitExceeded", "status": 409, "count": 1}),
    );
    bench.iam_fault(json!({"action": "DeleteVirtualMFADevice", "code": "AccessDenied", "status": 403, "count": "always",
        "message": "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: iam:DeleteVirtualMFADevice"}));
    let run = bench.run(&["enroll", "--user", "alice"]);
    let calls = bench.iam_call("GET", "/_bench/calls", json!({}));
    let faults = bench.iam_call("GET", "/_bench/faults", json!({}));
    assert_eq!(
        run.code,
        Some(8),
        "{}\ncalls: {calls}\nfaults: {faults}",
        run.human()
    );
    let arn = format!("arn:aws:iam::{ACCOUNT}:mfa/alice-yk12345678");
    assert!(
        run.human().contains(&format!(
            "aws iam delete-virtual-mfa-device --serial-number {arn}"
        )),
        "{}",
        run.human()
    );
    assert!(
        bench.tokens[0].credential_names().is_empty(),
        "the credential was removed"
    );

    // The next run steps around the leftover (delete still denied: a fresh name).
    let run = bench.run(&["enroll", "--user", "alice"]);
    let new_arn = run.ok().trim().to_owned();
    assert_eq!(new_arn, format!("{arn}-2"));
    let listed = bench.aws(&["iam", "list-mfa-devices", "--user-name", "alice"]);
    assert_eq!(listed["MFADevices"].as_array().map(Vec::len), Some(1));

    // Once delete is allowed, a run cleans the leftover up instead.
    let _ = bench.iam_call("POST", "/_bench/faults/clear", json!({}));
    bench.assert_no_seed_leaked();
}

#[test]
fn codes_refused_once_fall_back_to_a_real_time_pair() {
    let bench = bench();
    bench.iam_fault(json!({"action": "EnableMFADevice", "code": "InvalidAuthenticationCode", "status": 403, "count": 1}));
    let run = bench.run(&["enroll", "--user", "alice", "--json"]);
    let v: serde_json::Value = serde_json::from_str(run.ok()).expect("json");
    assert_eq!(v["enrolled"]["waited_for_fresh_codes"], true);
    assert!(run.human().contains("fresh time steps"), "{}", run.human());
    bench.assert_no_seed_leaked();
}

#[test]
fn bad_input_is_refused_before_anything_changes() {
    let bench = bench();
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["enroll", "--user", "bob"],
            7,
            "IAM user 'bob' does not exist",
        ),
        (
            &["enroll", "--user", "al ice"],
            2,
            "user name may only contain",
        ),
        (
            &["enroll", "--user", "alice", "--device-name", "bad/name"],
            2,
            "device name may only contain",
        ),
        (
            &["enroll", "--user", "alice", "--label", &"x".repeat(65)],
            2,
            "64",
        ),
        (
            &["enroll", "--user", "alice", "--tag", "novalue"],
            2,
            "invalid tag",
        ),
        (
            &["enroll", "--user", "alice", "--serial", "99999999"],
            3,
            "no connected token has serial 99999999",
        ),
    ];
    for (args, code, message) in cases {
        let run = bench.run(args);
        assert_eq!(run.code, Some(*code), "{args:?}: {}", run.human());
        assert!(
            run.human().contains(message),
            "{args:?}: expected '{message}' in {}",
            run.human()
        );
        assert!(!run.stderr.contains("panicked"));
    }
    assert_untouched(&bench, Seed::NotIssued);
}

#[test]
fn an_existing_label_on_the_token_is_never_overwritten() {
    let bench = bench();
    bench.ykman_ok(
        &bench.tokens[0].reader,
        &["oath", "accounts", "add", "-f", LABEL, "JBSWY3DPEHPK3PXP"],
    );
    let before = bench.tokens[0].dump();
    let run = bench.run(&["enroll", "--user", "alice"]);
    assert_eq!(run.code, Some(5), "{}", run.human());
    assert!(
        run.human().contains("already holds a credential"),
        "{}",
        run.human()
    );
    assert_eq!(
        bench.tokens[0].dump()["credentials"],
        before["credentials"],
        "the credential is untouched"
    );
    assert!(bench.virtual_devices("Any").is_empty());
}

#[test]
fn eight_devices_already_is_refused() {
    let bench = bench();
    for i in 0..8 {
        let name = format!("other{i}");
        bench.aws(&[
            "iam",
            "create-virtual-mfa-device",
            "--virtual-mfa-device-name",
            &name,
            "--outfile",
            &bench.dir.join(&name).display().to_string(),
            "--bootstrap-method",
            "Base32StringSeed",
        ]);
    }
    // Enabling needs real codes: the bench's root posture endpoint can't assign to users, so use
    // the check of the limit through enroll's preflight with a fault-free list of 8 devices.
    let seeds = bench.issued_seeds();
    for (i, seed) in seeds.iter().enumerate() {
        let codes = support::totp_pair(seed);
        bench.aws(&[
            "iam",
            "enable-mfa-device",
            "--user-name",
            "alice",
            "--serial-number",
            &format!("arn:aws:iam::{ACCOUNT}:mfa/other{i}"),
            "--authentication-code1",
            &codes.0,
            "--authentication-code2",
            &codes.1,
        ]);
    }
    let run = bench.run(&["enroll", "--user", "alice"]);
    assert_eq!(run.code, Some(7), "{}", run.human());
    assert!(
        run.human().contains("already has 8 MFA devices"),
        "{}",
        run.human()
    );
    assert!(bench.tokens[0].credential_names().is_empty());
}

#[test]
fn a_full_token_is_refused() {
    let bench = Bench::start(Spec {
        yubikeys: vec![YubiKeySpec {
            capacity: Some(2),
            ..YubiKeySpec::default()
        }],
        nitrokey: false,
        iam: true,
    });
    bench.aws(&["iam", "create-user", "--user-name", "alice"]);
    let reader = bench.tokens[0].reader.clone();
    bench.ykman_ok(
        &reader,
        &["oath", "accounts", "add", "-f", "one", "JBSWY3DPEHPK3PXP"],
    );
    bench.ykman_ok(
        &reader,
        &["oath", "accounts", "add", "-f", "two", "JBSWY3DPEHPK3PXP"],
    );
    let run = bench.run(&["enroll", "--user", "alice"]);
    assert_eq!(run.code, Some(5), "{}", run.human());
    assert!(bench.virtual_devices("Any").is_empty());
}

#[test]
fn a_locked_token_needs_the_right_password() {
    let bench = bench();
    let reader = bench.tokens[0].reader.clone();
    bench.ykman_ok(
        &reader,
        &["oath", "access", "change", "-n", "correct horse"],
    );
    let run = bench.run_with(
        &["enroll", "--user", "alice"],
        &[("YKMFA_OATH_PASSWORD", "wrong")],
    );
    assert_eq!(run.code, Some(5), "{}", run.human());
    assert!(
        run.human().contains("wrong OATH password"),
        "{}",
        run.human()
    );
    assert!(bench.virtual_devices("Any").is_empty());
    let run = bench.run_with(
        &["enroll", "--user", "alice"],
        &[("YKMFA_OATH_PASSWORD", "correct horse")],
    );
    run.ok();
    bench.assert_no_seed_leaked();
}

#[test]
fn no_credentials_is_a_clear_error() {
    let bench = bench();
    let run = bench.run_with(
        &["enroll", "--user", "alice"],
        &[("AWS_ACCESS_KEY_ID", ""), ("AWS_SECRET_ACCESS_KEY", "")],
    );
    assert_eq!(run.code, Some(6), "{}", run.human());
    assert!(run.human().contains("credentials"), "{}", run.human());
    assert!(bench.virtual_devices("Any").is_empty());
}
