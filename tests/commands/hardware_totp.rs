//! Hardware TOTP tokens (`--hardware-serial`) end to end on the bench: the strict IAM endpoint
//! holds each token's seed by serial, as AWS does, and the tests type the codes its display
//! would show, on stdin. Enroll, resync, revoke (deactivate only), status and audit; every
//! refusal changes nothing, and no typed code reaches an output or a log.

// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::Write;
use std::process::Stdio;

use serde_json::{json, Value};
use support::{Bench, Run, Spec};

const TOKEN: &str = "GAKT00000001";
const OTHER: &str = "GAKT00000002";

fn bench() -> Bench {
    let bench = Bench::start(Spec {
        yubikeys: Vec::new(),
        nitrokey: false,
        iam: true,
    });
    for user in ["alice", "bob"] {
        bench.aws(&["iam", "create-user", "--user-name", user]);
    }
    bench
}

fn step() -> u64 {
    support::now() / 30
}

/// What the token's display shows at `step`.
fn display(seed: &str, step: u64) -> String {
    format!("{:06}", support::seeds::code(seed, step))
}

/// Two consecutive codes as a person reads them: the previous step's and the current one's.
fn pair(seed: &str, drift: i64) -> String {
    let now = step().checked_add_signed(drift).unwrap();
    format!("{}\n{}\n", display(seed, now - 1), display(seed, now))
}

/// `ykmfa ARGS` with `input` on stdin (not a terminal: the codes are read as two lines), at
/// RUST_LOG=trace, its outputs recorded for the scans.
fn typed(bench: &Bench, args: &[&str], input: &str) -> Run {
    let mut c = bench.ykmfa(args);
    c.env("RUST_LOG", "trace")
        .env("YKMFA_LOG_FORMAT", "json")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("run ykmfa");
    // A refusal before the codes are read closes stdin early: that write may fail.
    let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
    let out = child.wait_with_output().expect("ykmfa ends");
    bench.record_output(format!("stdout of ykmfa {args:?}"), out.stdout.clone());
    bench.record_output(format!("stderr of ykmfa {args:?}"), out.stderr.clone());
    Run {
        code: out.status.code(),
        stdout: support::text(&out.stdout),
        stderr: support::text(&out.stderr),
    }
}

fn devices_of(bench: &Bench, user: &str) -> Vec<String> {
    let listed = bench.aws(&["iam", "list-mfa-devices", "--user-name", user]);
    let devices = listed["MFADevices"].as_array().unwrap();
    devices
        .iter()
        .map(|d| d["SerialNumber"].as_str().unwrap().to_owned())
        .collect()
}

fn enroll(bench: &Bench, user: &str, serial: &str, input: &str) -> Run {
    typed(
        bench,
        &["enroll", "--user", user, "--hardware-serial", serial],
        input,
    )
}

#[test]
fn enrolls_with_two_typed_codes_and_a_later_code_signs_in() {
    let bench = bench();
    let seed = bench.hardware_seed(TOKEN);
    let run = enroll(&bench, "alice", TOKEN, &pair(&seed, 0));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout.trim(), TOKEN);
    assert!(
        run.stderr
            .contains("alice signs in with hardware token GAKT00000001"),
        "{}",
        run.stderr
    );
    // No virtual device was made: the seed is AWS's. Five requests, no STS: the user, their
    // devices and the alias together, the enable, and the list that confirms it.
    let calls = [
        "CreateVirtualMFADevice",
        "GetCallerIdentity",
        "GetUser",
        "ListMFADevices",
    ];
    let calls = calls.map(|a| bench.iam_calls(a));
    let more = ["ListAccountAliases", "EnableMFADevice"].map(|a| bench.iam_calls(a));
    assert_eq!((calls, more), ([0, 0, 1, 2], [1, 1]));
    assert_eq!(devices_of(&bench, "alice"), [TOKEN]);
    bench.assert_no_seed_issued();

    // A minute later, the code the display shows then is a sign-in.
    bench.iam_call("POST", "/_bench/config", json!({"clock_offset_s": 60}));
    let later = display(&seed, (support::now() + 60) / 30);
    let check = bench.iam_call(
        "POST",
        "/_bench/check-code",
        json!({"serial": TOKEN, "code": later}),
    );
    assert_eq!(check["accepted"], true, "{check}");
    bench.iam_call("POST", "/_bench/config", json!({"clock_offset_s": 0}));

    // status and audit call it what it is.
    let status = bench.run(&["status", "--user", "alice", "--json"]);
    assert_eq!(status.code, Some(0), "{}", status.stderr);
    let status: Value = serde_json::from_str(&status.stdout).unwrap();
    let device = &status["devices"][0];
    assert_eq!(
        (device["serial"].as_str(), device["device_kind"].as_str()),
        (Some(TOKEN), Some("hardware-totp")),
        "{status}"
    );
    let audit = bench.run(&["audit", "--json"]);
    let audit: Value = serde_json::from_str(&audit.stdout).unwrap();
    let kinds = audit["devices"].as_array().unwrap();
    assert!(
        kinds
            .iter()
            .any(|d| d["serial"] == TOKEN && d["kind"] == "hardware-totp"),
        "{audit}"
    );
    bench.assert_no_code_pair_of(&[&seed]);
}

#[test]
fn wrong_equal_stale_or_malformed_codes_change_nothing() {
    let bench = bench();
    let seed = bench.hardware_seed(TOKEN);
    let now = step();
    let wrong = {
        // Two consecutive-looking codes that are not this token's at any nearby step.
        let nearby: Vec<String> = (now - 3..=now + 3).map(|s| display(&seed, s)).collect();
        let pick = (0..1000)
            .map(|n| format!("{:06}", 123_457 + n * 7919))
            .filter(|c| !nearby.contains(c));
        pick.take(2).collect::<Vec<_>>().join("\n") + "\n"
    };
    let stale = format!(
        "{}\n{}\n",
        display(&seed, now - 21),
        display(&seed, now - 20)
    );
    let same = format!("{0}\n{0}\n", display(&seed, now));
    for (case, input, code, says) in [
        (
            "wrong",
            wrong.as_str(),
            7,
            "AWS did not accept the two codes",
        ),
        (
            "stale",
            stale.as_str(),
            7,
            "AWS did not accept the two codes",
        ),
        ("equal", same.as_str(), 2, "the two codes are the same"),
        (
            "five digits",
            "12345\n654321\n",
            2,
            "code 1 is not six digits",
        ),
        ("one line", "123456\n", 2, "cannot read two codes"),
    ] {
        let before = bench.iam_calls("EnableMFADevice");
        let run = enroll(&bench, "alice", TOKEN, input);
        assert_eq!(run.code, Some(code), "{case}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{case}: {}", run.stderr);
        assert!(devices_of(&bench, "alice").is_empty(), "{case}");
        let sent = bench.iam_calls("EnableMFADevice") - before;
        assert_eq!(
            sent,
            u64::from(code == 7),
            "{case}: codes checked before IAM are never sent"
        );
    }
    // Refused codes come with what to do.
    let run = enroll(&bench, "alice", TOKEN, &wrong);
    assert!(
        run.stderr.contains("wait for the next code"),
        "{}",
        run.stderr
    );
    // And then the right pair works: nothing was left half-done.
    let run = enroll(&bench, "alice", TOKEN, &pair(&seed, 0));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    bench.assert_no_code_pair_of(&[&seed]);
}

#[test]
fn unknown_serial_a_token_in_use_and_a_full_user_are_refused() {
    let bench = bench();
    let (seed, other) = (bench.hardware_seed(TOKEN), bench.hardware_seed(OTHER));
    let run = enroll(&bench, "alice", "GAKT99999999", "123456\n654321\n");
    assert_eq!(run.code, Some(7), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("AWS knows no hardware MFA token with serial GAKT99999999"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("check the serial on the back"),
        "{}",
        run.stderr
    );

    let run = enroll(&bench, "bob", OTHER, &pair(&other, 0));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let run = enroll(&bench, "alice", OTHER, &pair(&other, 0));
    assert_eq!(run.code, Some(7), "{}", run.stderr);
    assert!(
        run.stderr.contains("already assigned to another user"),
        "{}",
        run.stderr
    );
    assert_eq!(devices_of(&bench, "bob"), [OTHER], "bob keeps his token");

    // Not a serial at all: a usage error before anything is asked.
    let run = enroll(&bench, "alice", "arn:aws:iam::123456789012:mfa/alice", "");
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("is an ARN, not a hardware token's serial"),
        "{}",
        run.stderr
    );

    // A user with as many devices as IAM allows is refused before any code is asked.
    // Eight tokens of the bench's AWS, each enabled for alice by hand.
    let seeds = [
        "JBSWY3DPEHPK3PXP",
        "KRSXG5CTMVRXEZLU",
        "MFRGGZDFMZTWQ2LK",
        "NBSWY3DPO5XXE3DE",
    ];
    for i in 0..8u8 {
        let serial = format!("GAKT1000000{i}");
        let seed = format!(
            "{}{}",
            seeds[usize::from(i % 4)],
            ["A", "B"][usize::from(i / 4)].repeat(8)
        );
        let added = json!({"serial": serial, "seed": seed});
        bench.iam_call("POST", "/_bench/hardware-tokens", added);
        let (c1, c2) = support::totp_pair(&seed);
        let args = [
            "--user-name",
            "alice",
            "--serial-number",
            &serial,
            "--authentication-code1",
            &c1,
            "--authentication-code2",
            &c2,
        ];
        bench.aws(&[&["iam", "enable-mfa-device"][..], &args[..]].concat());
    }
    assert_eq!(devices_of(&bench, "alice").len(), 8);
    let before = bench.iam_calls("EnableMFADevice");
    let run = enroll(&bench, "alice", TOKEN, &pair(&seed, 0));
    assert_eq!(run.code, Some(7), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("alice has 8 MFA devices, the most IAM allows"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("Press the token's button"),
        "no code is asked: {}",
        run.stderr
    );
    assert_eq!(bench.iam_calls("EnableMFADevice"), before);
}

#[test]
fn a_drifted_token_is_resynced_then_revoked_by_deactivation_only() {
    let bench = bench();
    let seed = bench.hardware_seed(TOKEN);
    bench.note_clock_shift(150);
    let run = enroll(&bench, "alice", TOKEN, &pair(&seed, 0));
    assert_eq!(run.code, Some(0), "{}", run.stderr);

    // Years later the token's clock runs four steps (two minutes) ahead: AWS refuses a sign-in.
    let ahead = display(&seed, step() + 4);
    let check = bench.iam_call(
        "POST",
        "/_bench/check-code",
        json!({"serial": TOKEN, "code": ahead, "dry_run": true}),
    );
    assert_eq!(check["accepted"], false, "{check}");
    // Resync with codes of another user's token: refused, nothing changes.
    let run = typed(
        &bench,
        &["resync", "--user", "alice", "--hardware-serial", TOKEN],
        &pair(&bench.hardware_seed(OTHER), 4),
    );
    assert_eq!(run.code, Some(7), "{}", run.stderr);
    assert!(
        run.stderr.contains("battery"),
        "the resync says what drift and a dead battery mean: {}",
        run.stderr
    );
    let run = typed(
        &bench,
        &[
            "resync",
            "--user",
            "alice",
            "--hardware-serial",
            TOKEN,
            "--json",
        ],
        &pair(&seed, 4),
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let done: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        (done["schema"].as_str(), done["device_serial"].as_str()),
        (Some("ykmfa.resync/1"), Some(TOKEN)),
        "{done}"
    );
    let next = display(&seed, step() + 5);
    let check = bench.iam_call(
        "POST",
        "/_bench/check-code",
        json!({"serial": TOKEN, "code": next, "dry_run": true}),
    );
    assert_eq!(
        check["accepted"], true,
        "after the resync, the drifted token signs in: {check}"
    );

    // A resync of a token that is not the user's is refused before any code is asked.
    let run = typed(
        &bench,
        &["resync", "--user", "bob", "--hardware-serial", TOKEN],
        "",
    );
    assert_eq!(run.code, Some(7), "{}", run.stderr);
    assert!(
        run.stderr.contains("is not one of bob's MFA devices"),
        "{}",
        run.stderr
    );

    // Revoke: the last device needs --allow-last; then DeactivateMFADevice only.
    let revoke = |more: &[&str]| {
        let args = ["revoke", "--user", "alice", "--device", TOKEN];
        bench.run(&[&args[..], more].concat())
    };
    let run = revoke(&["--yes"]);
    assert_ne!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(devices_of(&bench, "alice"), [TOKEN]);
    let run = revoke(&["--allow-last", "--dry-run"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let plan = "deactivate it (a hardware token: nothing to delete)";
    assert!(run.stderr.contains(plan), "{}", run.stderr);
    let run = revoke(&["--allow-last", "--yes"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let done = "hardware token GAKT00000001 is deactivated";
    assert!(run.stderr.contains(done), "{}", run.stderr);
    assert!(devices_of(&bench, "alice").is_empty());
    assert_eq!(bench.iam_calls("DeleteVirtualMFADevice"), 0);
    let tokens = bench.iam_call("GET", "/_bench/hardware-tokens", json!({}));
    let token = tokens["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["serial"] == TOKEN)
        .cloned();
    assert_eq!(
        token.unwrap()["assigned_to"],
        Value::Null,
        "the token stays AWS's, free to enable again"
    );
    bench.assert_no_code_pair_of(&[&seed]);
}

#[test]
fn on_a_terminal_the_person_is_asked_for_each_code() {
    let bench = bench();
    let seed = bench.hardware_seed(TOKEN);
    let args = ["enroll", "--user", "alice", "--hardware-serial", TOKEN];
    // The screen echoes what the person types, as any terminal does: that screen is not a log,
    // so it is not scanned for codes here (the other tests scan every output for them).
    let (code, screen) = bench.on_terminal(&args, &pair(&seed, 0).replace('\n', "\r"), &[]);
    assert_eq!(code, Some(0), "{screen}");
    assert!(
        screen.contains("Press the token's button and type the code it shows"),
        "{screen}"
    );
    assert!(
        screen.contains("Wait until the display changes"),
        "{screen}"
    );
    assert_eq!(devices_of(&bench, "alice"), [TOKEN]);
}
