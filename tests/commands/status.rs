//! `ykmfa status` on the bench: devices enrolled by `ykmfa enroll` on two virtual YubiKeys,
//! joined with the tokens present; a credential left on a token after its IAM device was
//! deleted (stale, and the printed fix removes it); a credential deleted from a token (its
//! device is gone); absent tokens; a locked token; who is asked about; bad input.

// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Duration;

use serde_json::{json, Value};
use support::{Bench, Run, Spec, YubiKeySpec};

const ACCOUNT: &str = "123456789012";
const YK1: u32 = 12_345_678;
const YK2: u32 = 23_456_789;

fn label(user: &str) -> String {
    format!("Amazon Web Services:{user}@{ACCOUNT}")
}

fn arn(device: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:mfa/{device}")
}

fn two_tokens() -> Bench {
    let bench = Bench::start(Spec {
        yubikeys: vec![
            YubiKeySpec::default(),
            YubiKeySpec {
                serial: YK2,
                ..YubiKeySpec::default()
            },
        ],
        nitrokey: false,
        iam: true,
    });
    for user in ["alice", "bob"] {
        bench.aws(&["iam", "create-user", "--user-name", user]);
    }
    bench
}

fn enroll(bench: &Bench, user: &str, serial: u32) {
    bench
        .run(&["enroll", "--user", user, "--serial", &serial.to_string()])
        .ok();
}

fn status_json(bench: &Bench, user: &str) -> Value {
    let run = bench.run(&["status", "--user", user, "--json"]);
    serde_json::from_str(run.ok()).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

fn token(status: &Value, serial: u32) -> &Value {
    status["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["serial"] == serial)
        .unwrap_or_else(|| panic!("no token {serial} in {status}"))
}

fn credential<'a>(token: &'a Value, name: &str) -> &'a Value {
    token["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no credential '{name}' in {token}"))
}

fn pull(bench: &Bench, index: usize) {
    let before = bench.visible_tokens();
    bench.tokens[index].control(json!({"cmd": "remove"}));
    support::wait_for(Duration::from_secs(10), "the token to leave", || {
        bench.visible_tokens() == before - 1
    });
}

fn fits_80(run: &Run) {
    for line in run.stdout.lines() {
        let unbreakable = line.split(' ').any(|w| w.chars().count() > 40);
        assert!(
            line.chars().count() <= 80 || unbreakable,
            "wider than 80 ({}): {line}\n{}",
            line.chars().count(),
            run.stdout
        );
    }
}

/// The command in a report that starts with `start`, with its continuation lines.
fn printed_command(text: &str, start: &str) -> String {
    let mut command = String::new();
    for line in text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with(start))
    {
        command.push_str(line.trim_start());
        if !line.ends_with('\\') {
            return command;
        }
        command.push('\n');
    }
    panic!("no command starting with '{start}' in:\n{text}")
}

#[test]
fn devices_and_tokens_both_ways() {
    let bench = two_tokens();
    enroll(&bench, "alice", YK1);
    enroll(&bench, "alice", YK2);
    enroll(&bench, "bob", YK1);

    // ---- everything in place ----
    let s = status_json(&bench, "alice");
    assert_eq!(s["schema"], "ykmfa.status/1");
    assert_eq!(s["account"], ACCOUNT);
    assert_eq!(s["user"], "alice");
    assert_eq!(s["stale"], 0);
    assert_eq!(s["tags_denied"], false);
    assert_eq!(s["tokens_unavailable"], Value::Null);
    let devices = s["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 2, "{s}");
    for (d, serial) in devices.iter().zip([YK1, YK2]) {
        assert_eq!(d["serial"], arn(&format!("alice-yk{serial}")));
        assert_eq!(d["type"], "virtual");
        assert_eq!(d["tagged"], true);
        // ykmfa's tags name the token: a virtual device held on a token.
        assert_eq!(d["device_kind"], "virtual-on-token");
        assert!(
            d["enable_date"].as_str().unwrap().ends_with('Z'),
            "{}",
            d["enable_date"]
        );
        assert_eq!(d["fix"], Value::Null);
        let place = &d["place"];
        assert_eq!(place["state"], "on_token", "{d}");
        assert_eq!(place["token"]["serial"], serial);
        assert_eq!(place["token"]["kind"], "yubikey");
        assert_eq!(place["credential"], label("alice"));
        assert_eq!(place["matched_by"], "tags");
    }
    let t1 = token(&s, YK1);
    assert_eq!(t1["locked"], false);
    assert_eq!(t1["other_credentials"], 0);
    assert_eq!(
        credential(t1, &label("alice")),
        &json!({"name": label("alice"), "state": "paired", "devices": [arn("alice-yk12345678")],
                "user": "alice", "reason": null, "fix": null})
    );
    // bob's credential on the same token: bob's devices were read to judge it.
    assert_eq!(
        credential(t1, &label("bob"))["devices"],
        json!([arn("bob-yk12345678")])
    );
    assert_eq!(credential(t1, &label("bob"))["state"], "paired");
    assert_eq!(
        credential(token(&s, YK2), &label("alice"))["devices"],
        json!([arn("alice-yk23456789")])
    );

    let run = bench.run(&["status", "--user", "alice"]);
    let text = run.ok();
    fits_80(&run);
    for expected in [
        "IAM user alice in account 123456789012: 2 MFA devices",
        "mfa/alice-yk12345678",
        "on YubiKey 12345678 as",
        "YubiKey 12345678: 2 AWS credentials",
        "YubiKey 23456789: 1 AWS credential",
        "mfa/bob-yk12345678 (bob)",
    ] {
        assert!(text.contains(expected), "'{expected}' missing:\n{text}");
    }
    assert!(!text.contains("Fixes:"), "nothing to fix:\n{text}");

    // ---- bob's device deleted in IAM: his credential on token 1 is stale ----
    let bob = arn("bob-yk12345678");
    bench.aws(&[
        "iam",
        "deactivate-mfa-device",
        "--user-name",
        "bob",
        "--serial-number",
        &bob,
    ]);
    bench.aws(&["iam", "delete-virtual-mfa-device", "--serial-number", &bob]);
    let s = status_json(&bench, "alice");
    assert_eq!(s["stale"], 1);
    let fix = format!(
        "ykman --device {YK1} oath accounts delete '{}'",
        label("bob")
    );
    assert_eq!(
        credential(token(&s, YK1), &label("bob")),
        &json!({"name": label("bob"), "state": "stale", "devices": [], "user": "bob",
                "reason": "IAM has no MFA device of bob for it (deleted?)", "fix": fix})
    );
    let run = bench.run(&["status", "--user", "bob"]);
    let text = run.ok();
    fits_80(&run);
    assert!(
        text.contains("IAM user bob in account 123456789012: 0 MFA devices"),
        "{text}"
    );
    assert!(text.contains("STALE: IAM has no MFA device of"), "{text}");
    assert!(text.contains("Fixes:"), "{text}");
    let printed = printed_command(text, "ykman --device");
    assert_eq!(
        printed
            .replace(" \\\n", " ")
            .split_whitespace()
            .collect::<Vec<_>>(),
        fix.split_whitespace().collect::<Vec<_>>(),
        "{text}"
    );

    // The printed fix works as printed, continuation lines and all (ykman from the bench's
    // venv).
    let path = format!(
        "{}:{}",
        support::venv_bin("ykman").parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::process::Command::new("sh")
        .args(["-c", &format!("{printed} --force")])
        .envs(bench.env())
        .env("PATH", path)
        .output()
        .expect("sh");
    assert!(
        out.status.success(),
        "{fix}: {}",
        support::text(&out.stderr)
    );
    let s = status_json(&bench, "alice");
    assert_eq!(s["stale"], 0, "{s}");
    assert_eq!(
        token(&s, YK1)["credentials"].as_array().unwrap().len(),
        1,
        "{s}"
    );

    // ---- alice's credential deleted from token 2: that device is gone ----
    bench.ykman_ok(
        &bench.tokens[1].reader,
        &["oath", "accounts", "delete", "--force", &label("alice")],
    );
    let s = status_json(&bench, "alice");
    let gone = &s["devices"][1];
    assert_eq!(
        gone["place"],
        json!({"state": "gone", "token": {"serial": YK2, "kind": "yubikey", "reader": bench.tokens[1].reader},
               "credential": label("alice")})
    );
    assert_eq!(
        gone["fix"],
        format!("its credential is gone, so no code can be made: remove the device and enroll again: ykmfa revoke --user alice --device {}, then ykmfa enroll --user alice", arn("alice-yk23456789"))
    );
    assert_eq!(token(&s, YK2)["credentials"], json!([]));

    // ---- token 2 pulled: its device is on a token that is not connected ----
    pull(&bench, 1);
    let s = status_json(&bench, "alice");
    assert_eq!(
        s["devices"][1]["place"],
        json!({"state": "not_connected", "token_serial": YK2, "credential": label("alice")})
    );
    assert_eq!(
        s["devices"][1]["fix"],
        format!("connect token {YK2} to use it")
    );
    assert_eq!(s["tokens"].as_array().unwrap().len(), 1);

    // ---- no token at all: not an error ----
    pull(&bench, 0);
    let s = status_json(&bench, "alice");
    assert_eq!(s["tokens"], json!([]));
    assert_eq!(s["devices"][0]["place"]["state"], "not_connected");
    let run = bench.run(&["status", "--user", "alice"]);
    assert!(
        run.ok().contains("Tokens: none connected"),
        "{}",
        run.stdout
    );

    bench.assert_no_seed_leaked();
}

#[test]
fn a_locked_token_is_read_with_its_password() {
    let bench = Bench::start(Spec {
        yubikeys: vec![YubiKeySpec::default()],
        nitrokey: false,
        iam: true,
    });
    bench.aws(&["iam", "create-user", "--user-name", "alice"]);
    enroll(&bench, "alice", YK1);
    let reader = bench.tokens[0].reader.clone();
    bench.ykman_ok(&reader, &["oath", "access", "change", "-n", "token-pw"]);

    let s = status_json(&bench, "alice");
    let t = token(&s, YK1);
    assert_eq!(t["locked"], true);
    assert_eq!(t["credentials"], Value::Null);
    assert_eq!(t["other_credentials"], Value::Null);
    assert_eq!(s["devices"][0]["place"]["state"], "unknown", "{s}");
    assert_eq!(s["devices"][0]["place"]["locked"][0]["serial"], YK1);
    let run = bench.run(&["status", "--user", "alice"]);
    assert!(
        run.ok()
            .contains("YubiKey 12345678: locked, credentials unknown"),
        "{}",
        run.stdout
    );

    let run = bench.run_with(
        &["status", "--user", "alice", "--json"],
        &[("YKMFA_OATH_PASSWORD", "token-pw")],
    );
    let s: Value = serde_json::from_str(run.ok()).unwrap();
    assert_eq!(token(&s, YK1)["locked"], false);
    assert_eq!(s["devices"][0]["place"]["state"], "on_token", "{s}");

    let run = bench.run_with(
        &["status", "--user", "alice", "--json"],
        &[("YKMFA_OATH_PASSWORD", "not-it")],
    );
    let s: Value = serde_json::from_str(run.ok()).unwrap();
    assert_eq!(token(&s, YK1)["locked"], true);
    assert!(
        run.human()
            .contains("the OATH password does not unlock YubiKey 12345678"),
        "{}",
        run.human()
    );
    bench.assert_no_seed_leaked();
}

#[test]
fn who_is_shown_and_bad_input() {
    let bench = Bench::start(Spec {
        iam: true,
        ..Spec::default()
    });
    bench.aws(&["iam", "create-user", "--user-name", "carol"]);
    // Signed in as carol: status shows carol without --user.
    let key = bench.aws(&["iam", "create-access-key", "--user-name", "carol"]);
    let key_id = key["AccessKey"]["AccessKeyId"].as_str().unwrap();
    let run = bench.run_with(&["status", "--json"], &[("AWS_ACCESS_KEY_ID", key_id)]);
    let s: Value = serde_json::from_str(run.ok()).unwrap();
    assert_eq!(s["user"], "carol");
    assert_eq!(s["devices"], json!([]));
    assert_eq!(
        s["tokens"],
        json!([]),
        "no token on this bench, and no error"
    );

    // Signed in as root: say which user.
    bench.iam_call(
        "POST",
        "/_bench/root",
        json!({"add_access_key_id": "AKIAROOTSTATUSBENCH1"}),
    );
    let run = bench.run_with(
        &["status"],
        &[("AWS_ACCESS_KEY_ID", "AKIAROOTSTATUSBENCH1")],
    );
    assert_eq!(run.code, Some(2), "{}", run.human());
    assert!(
        run.human().contains("signed in as the root user"),
        "{}",
        run.human()
    );
    assert!(
        run.human().contains("ykmfa status --user NAME"),
        "{}",
        run.human()
    );

    let run = bench.run(&["status", "--user", "no such user!"]);
    assert_eq!(run.code, Some(2), "{}", run.human());
    let run = bench.run(&["status", "--user", "nobody"]);
    assert_eq!(run.code, Some(7), "{}", run.human());
    assert!(
        run.human()
            .contains("there is no IAM user 'nobody' in account 123456789012"),
        "{}",
        run.human()
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);

    // No PC/SC service: said, and the IAM side still shown.
    let run = bench.run_with(
        &["status", "--user", "carol", "--json"],
        &[("PCSCLITE_CSOCK_NAME", "/nonexistent/pcscd.comm")],
    );
    let s: Value = serde_json::from_str(run.ok()).unwrap();
    assert!(s["tokens_unavailable"].is_string(), "{s}");
    assert!(
        run.human().contains("could not look at the tokens"),
        "{}",
        run.human()
    );
}
