//! `ykmfa revoke` end to end on the bench: the real pcscd with virtual YubiKeys, `ykman` as the
//! independent client, and the strict IAM endpoint. Devices are enrolled with `ykmfa enroll`
//! first (so every run's outputs are scanned for the seeds IAM issued); then each test revokes,
//! refuses, or fails on command, and checks IAM and the tokens afterwards.

// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use support::{Bench, Spec, YubiKeySpec};

const ACCOUNT: &str = "123456789012";
const LABEL: &str = "Amazon Web Services:alice@123456789012";
const YK1: u32 = 12_345_678;
const YK2: u32 = 23_456_789;

fn arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:mfa/{name}")
}

fn dev1() -> String {
    arn("alice-yk12345678")
}

fn dev2() -> String {
    arn("alice-yk23456789")
}

/// A bench with `keys` virtual YubiKeys (serials YK1, YK2) and IAM user alice enrolled on each.
fn enrolled(keys: usize) -> Bench {
    let serials = [YK1, YK2];
    let bench = Bench::start(Spec {
        yubikeys: serials[..keys]
            .iter()
            .map(|s| YubiKeySpec {
                serial: *s,
                ..YubiKeySpec::default()
            })
            .collect(),
        nitrokey: false,
        iam: true,
    });
    bench.aws(&["iam", "create-user", "--user-name", "alice"]);
    for s in &serials[..keys] {
        bench
            .run(&["enroll", "--user", "alice", "--serial", &s.to_string()])
            .ok();
    }
    bench
}

/// Every virtual MFA device of the account with its owner, and every credential on every token.
fn snapshot(bench: &Bench) -> (Vec<(String, String)>, Vec<Vec<String>>) {
    let devices = bench.aws(&[
        "iam",
        "list-virtual-mfa-devices",
        "--assignment-status",
        "Any",
    ]);
    let mut devices: Vec<(String, String)> = devices["VirtualMFADevices"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|d| {
            (
                d["SerialNumber"].as_str().unwrap_or_default().to_owned(),
                d["User"]["Arn"].as_str().unwrap_or("-").to_owned(),
            )
        })
        .collect();
    devices.sort();
    let credentials = bench.tokens.iter().map(|t| t.credential_names()).collect();
    (devices, credentials)
}

fn alices_devices(bench: &Bench) -> Vec<String> {
    let v = bench.aws(&["iam", "list-mfa-devices", "--user-name", "alice"]);
    v["MFADevices"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|d| d["SerialNumber"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn exists(bench: &Bench, serial: &str) -> bool {
    snapshot(bench).0.iter().any(|(s, _)| s == serial)
}

/// ykman's view of a token's credentials (an independent client).
fn ykman_accounts(bench: &Bench, token: usize) -> String {
    bench.ykman_ok(&bench.tokens[token].reader, &["oath", "accounts", "list"])
}

/// Runs a command line ykmfa printed, exactly as printed, in a shell on this bench (ykman and
/// aws from the bench's virtualenv), answering "y" to ykman's question.
fn run_printed(bench: &Bench, command: &str) -> String {
    let venv = support::venv_bin("ykman")
        .parent()
        .expect("venv bin")
        .to_owned();
    let path = format!(
        "{}:{}",
        venv.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .envs(bench.env())
        .env("PATH", path)
        .env(
            "AWS_ENDPOINT_URL",
            bench.iam.as_ref().expect("iam").url.clone(),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sh");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"y\n")
        .expect("answer");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{command}: {}{}",
        support::text(&out.stdout),
        support::text(&out.stderr)
    );
    support::text(&out.stdout)
}

/// The `fix:` lines of a failure, and the lines after "remove it once the token is back:".
fn printed_commands(human: &str) -> Vec<String> {
    let mut commands: Vec<String> = human
        .lines()
        .filter_map(|l| l.trim().strip_prefix("fix: "))
        .map(str::to_owned)
        .collect();
    let mut lines = human.lines();
    while let Some(l) = lines.next() {
        if l.contains("once the token is back:") {
            if let Some(next) = lines.next() {
                commands.push(next.trim().to_owned());
            }
        }
    }
    commands
}

fn wait_tokens(bench: &Bench, n: usize) {
    support::wait_for(Duration::from_secs(20), "the token count", || {
        bench.visible_tokens() == n
    });
}

#[test]
fn revokes_the_device_in_iam_and_the_credential_on_the_token() {
    let bench = enrolled(2);
    assert_eq!(alices_devices(&bench).len(), 2);
    let run = bench.run(&[
        "revoke",
        "--user",
        "alice",
        "--device",
        &dev1(),
        "--yes",
        "--json",
    ]);
    let v: Value = serde_json::from_str(run.ok()).expect("json");
    assert_eq!(v["schema"], "ykmfa.revoke/1");
    assert_eq!(v["revoked"]["device"], dev1().as_str());
    assert_eq!(
        v["revoked"]["principal"],
        json!({"kind": "user", "name": "alice"})
    );
    assert_eq!(v["revoked"]["deactivated"], true);
    assert_eq!(v["revoked"]["deleted"], true);
    assert_eq!(v["revoked"]["credential"]["state"], "deleted");
    assert_eq!(v["revoked"]["credential"]["name"], LABEL);
    assert_eq!(v["revoked"]["credential"]["token"]["serial"], YK1);
    assert_eq!(v["revoked"]["devices_left"], 1);
    assert_eq!(v["remaining"], json!([]));
    assert!(
        run.human().contains("Plan for IAM user alice"),
        "{}",
        run.human()
    );

    // IAM: the device is gone, not just unassigned; the other stays.
    assert_eq!(alices_devices(&bench), [dev2()]);
    assert!(!exists(&bench, &dev1()));
    // Token 1: the credential is gone, as ykman sees it too; token 2 keeps its own.
    assert!(bench.tokens[0].credential_names().is_empty());
    assert!(!ykman_accounts(&bench, 0).contains(LABEL));
    assert!(ykman_accounts(&bench, 1).contains(LABEL));
    assert!(bench.assert_no_seed_leaked() >= 2);
}

#[test]
fn serial_picks_the_device_whose_credential_is_on_that_token() {
    let bench = enrolled(2);
    let run = bench.run(&[
        "revoke",
        "--user",
        "alice",
        "--serial",
        &YK2.to_string(),
        "--yes",
    ]);
    assert_eq!(run.ok().trim(), dev2());
    assert_eq!(alices_devices(&bench), [dev1()]);
    assert_eq!(bench.tokens[0].credential_names(), [LABEL]);
    assert!(bench.tokens[1].credential_names().is_empty());
    assert!(!ykman_accounts(&bench, 1).contains(LABEL));
    bench.assert_no_seed_leaked();
}

#[test]
fn with_the_token_absent_iam_is_revoked_and_the_remaining_credential_is_named() {
    let bench = enrolled(2);
    bench.tokens[0].control(json!({"cmd": "remove"}));
    wait_tokens(&bench, 1);
    let run = bench.run(&["revoke", "--user", "alice", "--device", &dev1(), "--yes"]);
    run.ok();
    let human = run.human();
    assert!(
        human.contains(&format!(
            "The credential '{LABEL}' remains on token {YK1}, which is not connected"
        )),
        "{human}"
    );
    let command = format!("ykman --device {YK1} oath accounts delete '{LABEL}'");
    assert!(human.contains(&command), "{human}");
    assert!(!exists(&bench, &dev1()), "the IAM side is removed");
    assert_eq!(alices_devices(&bench), [dev2()]);

    // The token comes back (after vpcd has seen it go): the credential is still there, and the
    // command ykmfa printed removes it.
    std::thread::sleep(Duration::from_millis(1500));
    bench.tokens[0].control(json!({"cmd": "insert"}));
    wait_tokens(&bench, 2);
    assert_eq!(bench.tokens[0].credential_names(), [LABEL]);
    assert_eq!(printed_commands(&human), std::slice::from_ref(&command));
    run_printed(&bench, &command);
    assert!(bench.tokens[0].credential_names().is_empty());
    assert_eq!(
        bench.tokens[1].credential_names(),
        [LABEL],
        "only that token's"
    );

    bench.assert_no_seed_leaked();
}

#[test]
fn json_names_the_remaining_credential_and_its_command() {
    let bench = enrolled(1);
    bench.tokens[0].control(json!({"cmd": "remove"}));
    wait_tokens(&bench, 0);
    let run = bench.run(&[
        "revoke",
        "--user",
        "alice",
        "--device",
        &dev1(),
        "--yes",
        "--json",
        "--allow-last",
    ]);
    let v: Value = serde_json::from_str(run.ok()).expect("json");
    assert_eq!(v["revoked"]["credential"]["state"], "remains");
    let command = format!("ykman --device {YK1} oath accounts delete '{LABEL}'");
    assert_eq!(
        v["remaining"],
        json!([{"kind": "credential", "name": LABEL, "token_serial": YK1, "command": command}])
    );
    assert!(alices_devices(&bench).is_empty());
    bench.assert_no_seed_leaked();
}

#[test]
fn the_last_device_is_kept_unless_allow_last() {
    let bench = enrolled(1);
    let before = snapshot(&bench);
    let run = bench.run(&["revoke", "--user", "alice", "--device", &dev1(), "--yes"]);
    assert_eq!(run.code, Some(7), "{}", run.human());
    let human = run.human();
    assert!(
        human.contains("is the last MFA device of IAM user alice"),
        "{human}"
    );
    assert!(human.contains("--allow-last"), "{human}");
    assert_eq!(snapshot(&bench), before, "nothing changed");

    let run = bench.run(&[
        "revoke",
        "--user",
        "alice",
        "--device",
        &dev1(),
        "--yes",
        "--allow-last",
    ]);
    run.ok();
    assert!(
        run.human().contains("IAM user alice has no MFA device now"),
        "{}",
        run.human()
    );
    assert!(alices_devices(&bench).is_empty());
    assert!(!exists(&bench, &dev1()));
    assert!(bench.tokens[0].credential_names().is_empty());
    bench.assert_no_seed_leaked();
}

#[test]
fn keep_credential_leaves_the_token_alone() {
    let bench = enrolled(2);
    let tokens_before = snapshot(&bench).1;
    let run = bench.run(&[
        "revoke",
        "--user",
        "alice",
        "--device",
        &dev1(),
        "--keep-credential",
        "--yes",
        "--json",
    ]);
    let v: Value = serde_json::from_str(run.ok()).expect("json");
    assert_eq!(v["revoked"]["credential"]["state"], "kept");
    assert_eq!(v["revoked"]["credential"]["name"], LABEL);
    assert!(!exists(&bench, &dev1()));
    assert_eq!(snapshot(&bench).1, tokens_before);
    assert!(ykman_accounts(&bench, 0).contains(LABEL));
    bench.assert_no_seed_leaked();
}

#[test]
fn dry_run_and_no_terminal_without_yes_change_nothing() {
    let bench = enrolled(2);
    let before = snapshot(&bench);
    let run = bench.run(&[
        "revoke",
        "--user",
        "alice",
        "--device",
        &dev1(),
        "--dry-run",
        "--json",
    ]);
    let v: Value = serde_json::from_str(run.ok()).expect("json");
    assert_eq!(v["schema"], "ykmfa.revoke-plan/1");
    assert_eq!(v["plan"]["device"], dev1().as_str());
    assert_eq!(v["plan"]["devices_before"], 2);
    assert_eq!(v["plan"]["credential"]["state"], "delete");
    assert_eq!(v["plan"]["credential"]["token"]["serial"], YK1);

    // No terminal to ask on (stdin is not one) and no --yes: refused after showing the plan.
    let run = bench.run(&["revoke", "--user", "alice", "--device", &dev1()]);
    assert_eq!(run.code, Some(2), "{}", run.human());
    assert!(run.human().contains("pass --yes"), "{}", run.human());
    assert!(
        run.human()
            .contains("delete from YubiKey 12345678 the credential"),
        "the plan is shown: {}",
        run.human()
    );
    assert_eq!(snapshot(&bench), before);
    bench.assert_no_seed_leaked();
}

#[test]
fn a_person_sees_the_plan_and_confirms_on_the_terminal() {
    let bench = enrolled(2);
    let before = snapshot(&bench);
    let d1 = dev1();
    let args = ["revoke", "--user", "alice", "--device", d1.as_str()];
    let (code, screen) = bench.on_terminal(&args, "n\n", &[]);
    assert_eq!(code, Some(1), "{screen}");
    for shown in [
        "Plan for IAM user alice (account 123456789012):",
        &format!("device    {d1}"),
        "IAM       deactivate it, then delete it",
        &format!("token     delete from YubiKey {YK1} the credential"),
        &format!("'{LABEL}'"),
        "after     1 MFA device(s) left",
        "Revoke it? [y/N]",
        "not confirmed; nothing was changed",
    ] {
        assert!(
            screen.contains(shown),
            "expected '{shown}' on screen:\n{screen}"
        );
    }
    for line in screen.lines().filter(|l| l.starts_with("  ")) {
        assert!(
            line.trim_end().chars().count() <= 80,
            "wider than 80 columns: {line}"
        );
    }
    assert_eq!(snapshot(&bench), before, "no: nothing changed");

    let (code, screen) = bench.on_terminal(&args, "y\n", &[]);
    assert_eq!(code, Some(0), "{screen}");
    assert!(!exists(&bench, &d1));
    assert!(bench.tokens[0].credential_names().is_empty());
    bench.assert_no_seed_leaked();
}

#[test]
fn bad_input_is_refused_and_nothing_changes() {
    let bench = enrolled(2);
    bench.aws(&["iam", "create-user", "--user-name", "bob"]);
    // bob's device lives on token 2 as well (enrolled with its own label).
    bench
        .run(&["enroll", "--user", "bob", "--serial", &YK2.to_string()])
        .ok();
    let bobs = arn("bob-yk23456789");
    let before = snapshot(&bench);
    let missing = arn("nobody-yk1");
    let elsewhere = "arn:aws:iam::210987654321:mfa/alice-yk12345678".to_owned();
    let d1 = dev1();
    let cases: Vec<(Vec<&str>, i32, String)> = vec![
        (
            vec!["revoke", "--user", "alice", "--device", &missing, "--yes"],
            7,
            format!("there is no virtual MFA device {missing}"),
        ),
        (
            vec!["revoke", "--user", "alice", "--device", &bobs, "--yes"],
            7,
            format!("{bobs} is not alice's: it is assigned to IAM user bob"),
        ),
        (
            vec![
                "revoke",
                "--user",
                "alice",
                "--device",
                "alice-yk12345678",
                "--yes",
            ],
            2,
            "is not a virtual MFA device ARN".to_owned(),
        ),
        (
            vec![
                "revoke",
                "--user",
                "alice",
                "--device",
                "arn:aws:iam::123456789012:user/alice",
                "--yes",
            ],
            2,
            "is not a virtual MFA device".to_owned(),
        ),
        (
            vec!["revoke", "--user", "alice", "--device", &elsewhere, "--yes"],
            2,
            "is in account 210987654321".to_owned(),
        ),
        (
            vec!["revoke", "--user", "carol", "--device", &d1, "--yes"],
            7,
            "IAM user 'carol' does not exist".to_owned(),
        ),
        (
            vec!["revoke", "--user", "alice", "--yes"],
            2,
            "say which device".to_owned(),
        ),
        (
            vec!["revoke", "--user", "alice", "--serial", "99999999", "--yes"],
            3,
            "no connected token has serial 99999999".to_owned(),
        ),
        (
            vec!["revoke", "--user", "al ice", "--device", &d1, "--yes"],
            2,
            "user name may only contain".to_owned(),
        ),
        (
            vec!["revoke", "--user", "alice", "--root-of", ACCOUNT],
            2,
            "cannot be used with".to_owned(),
        ),
    ];
    for (args, code, message) in &cases {
        let run = bench.run(args);
        assert_eq!(run.code, Some(*code), "{args:?}: {}", run.human());
        assert!(
            run.human().contains(message.as_str()),
            "{args:?}: expected '{message}' in {}",
            run.human()
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
    assert_eq!(snapshot(&bench), before, "nothing changed");
    bench.assert_no_seed_leaked();
}

#[test]
fn a_locked_token_needs_the_right_password_and_nothing_changes_without_it() {
    let bench = enrolled(2);
    bench.ykman_ok(
        &bench.tokens[0].reader,
        &["oath", "access", "change", "-n", "correct horse"],
    );
    let before = snapshot(&bench);
    let run = bench.run(&["revoke", "--user", "alice", "--device", &dev1(), "--yes"]);
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
    let run = bench.run(&[
        "revoke",
        "--user",
        "alice",
        "--serial",
        &YK1.to_string(),
        "--yes",
    ]);
    assert_eq!(run.code, Some(5), "{}", run.human());
    let run = bench.run_with(
        &["revoke", "--user", "alice", "--device", &dev1(), "--yes"],
        &[("YKMFA_OATH_PASSWORD", "wrong")],
    );
    assert_eq!(run.code, Some(5), "{}", run.human());
    assert!(
        run.human().contains("wrong OATH password"),
        "{}",
        run.human()
    );
    assert_eq!(snapshot(&bench), before, "nothing changed");

    let run = bench.run_with(
        &["revoke", "--user", "alice", "--device", &dev1(), "--yes"],
        &[("YKMFA_OATH_PASSWORD", "correct horse")],
    );
    run.ok();
    assert!(!exists(&bench, &dev1()));
    assert!(bench.tokens[0].credential_names().is_empty());
    bench.assert_no_seed_leaked();
}

// ---- failures at each step ----

#[test]
fn a_refused_deactivation_changes_nothing() {
    let bench = enrolled(2);
    bench.iam_fault(json!({"action": "DeactivateMFADevice", "code": "AccessDenied", "status": 403, "count": "always",
        "message": "User: arn:aws:iam::123456789012:user/bench is not authorized to perform: iam:DeactivateMFADevice"}));
    let before = snapshot(&bench);
    let run = bench.run(&["revoke", "--user", "alice", "--device", &dev1(), "--yes"]);
    assert_eq!(run.code, Some(6), "{}", run.human());
    assert!(
        run.human().contains("iam:DeactivateMFADevice was denied"),
        "{}",
        run.human()
    );
    assert!(
        run.human().contains("Nothing was changed."),
        "{}",
        run.human()
    );
    assert_eq!(snapshot(&bench), before);
    bench.assert_no_seed_leaked();
}

#[test]
fn a_lost_deactivation_answer_is_found_out_and_the_revocation_completes() {
    let bench = enrolled(2);
    bench.iam_fault(json!({"action": "DeactivateMFADevice", "code": "ServiceFailure", "status": 500, "when": "after", "count": 1}));
    let run = bench.run(&["revoke", "--user", "alice", "--device", &dev1(), "--yes"]);
    run.ok();
    assert!(
        run.human()
            .contains(&format!("IAM lists {} as no longer assigned", dev1())),
        "the lost answer was noticed: {}",
        run.human()
    );
    assert!(!exists(&bench, &dev1()));
    assert!(bench.tokens[0].credential_names().is_empty());
    bench.assert_no_seed_leaked();
}

#[test]
fn a_failed_delete_names_the_deactivated_device_and_the_kept_credential() {
    let bench = enrolled(2);
    bench.iam_fault(json!({"action": "DeleteVirtualMFADevice", "code": "AccessDenied", "status": 403, "count": "always",
        "message": "User: arn:aws:iam::123456789012:user/bench is not authorized to perform: iam:DeleteVirtualMFADevice"}));
    let run = bench.run(&["revoke", "--user", "alice", "--device", &dev1(), "--yes"]);
    assert_eq!(run.code, Some(8), "{}", run.human());
    let human = run.human();
    assert!(
        human.contains(&format!(
            "virtual MFA device {}, deactivated, not deleted",
            dev1()
        )),
        "{human}"
    );
    let delete = format!(
        "aws iam delete-virtual-mfa-device --serial-number {}",
        dev1()
    );
    let ykman = format!("ykman --device {YK1} oath accounts delete '{LABEL}'");
    assert_eq!(
        printed_commands(&human),
        [delete.clone(), ykman.clone()],
        "{human}"
    );
    // As said: unassigned in IAM, the credential still on the token.
    assert_eq!(alices_devices(&bench), [dev2()]);
    assert!(
        snapshot(&bench).0.contains(&(dev1(), "-".to_owned())),
        "unassigned"
    );
    assert_eq!(bench.tokens[0].credential_names(), [LABEL]);

    // The printed commands finish it.
    let _ = bench.iam_call("POST", "/_bench/faults/clear", json!({}));
    run_printed(&bench, &delete);
    run_printed(&bench, &ykman);
    assert!(!exists(&bench, &dev1()));
    assert!(bench.tokens[0].credential_names().is_empty());
    bench.assert_no_seed_leaked();
}

#[test]
fn a_failed_delete_on_the_token_names_the_credential() {
    let bench = enrolled(2);
    bench.tokens[0].control(
        json!({"cmd": "fault", "kind": "status", "ins": "DELETE", "sw": "6581", "count": 1}),
    );
    let run = bench.run(&["revoke", "--user", "alice", "--device", &dev1(), "--yes"]);
    assert_eq!(run.code, Some(8), "{}", run.human());
    let human = run.human();
    assert!(
        human.contains(&format!("credential '{LABEL}' on YubiKey {YK1}")),
        "{human}"
    );
    let ykman = format!("ykman --device {YK1} oath accounts delete '{LABEL}'");
    assert_eq!(
        printed_commands(&human),
        std::slice::from_ref(&ykman),
        "{human}"
    );
    assert!(!exists(&bench, &dev1()), "IAM's part is done");
    assert_eq!(bench.tokens[0].credential_names(), [LABEL]);
    run_printed(&bench, &ykman);
    assert!(bench.tokens[0].credential_names().is_empty());
    bench.assert_no_seed_leaked();
}

#[test]
fn a_token_pulled_during_delete_and_put_back_is_finished() {
    let bench = enrolled(2);
    bench.tokens[0].control(json!({"cmd": "fault", "kind": "remove", "ins": "DELETE", "count": 1, "reinsert_after_ms": 1500}));
    let run = bench.run(&["revoke", "--user", "alice", "--device", &dev1(), "--yes"]);
    run.ok();
    let faults = bench.tokens[0].control(json!({"cmd": "faults"}));
    assert_eq!(faults["faults"], json!([]), "the fault fired: {faults}");
    assert!(!exists(&bench, &dev1()));
    assert!(bench.tokens[0].credential_names().is_empty());
    bench.assert_no_seed_leaked();
}

#[test]
fn ctrl_c_during_delete_stops_before_the_token_and_names_the_credential() {
    let bench = enrolled(2);
    bench.iam_fault(
        json!({"action": "DeleteVirtualMFADevice", "kind": "delay", "delay_ms": 3000, "count": 1}),
    );
    let out_path = bench.dir.join("ctrl-c.stdout");
    let err_path = bench.dir.join("ctrl-c.stderr");
    let mut child = bench
        .ykmfa(&["revoke", "--user", "alice", "--device", &dev1(), "--yes"])
        .env("RUST_LOG", "trace")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("spawn");
    support::wait_for(
        Duration::from_secs(20),
        "DeleteVirtualMFADevice in flight",
        || {
            let calls =
                bench.iam_call("GET", "/_bench/calls?action=DeactivateMFADevice", json!({}));
            calls["count"].as_u64().unwrap_or(0) > 0
        },
    );
    std::thread::sleep(Duration::from_millis(800));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let status = child.wait().expect("wait");
    let stderr_bytes = std::fs::read(&err_path).expect("stderr");
    bench.record_output("stdout".into(), std::fs::read(&out_path).expect("stdout"));
    bench.record_output("stderr".into(), stderr_bytes.clone());
    let stderr = support::text(&stderr_bytes);
    assert_eq!(status.code(), Some(8), "{stderr}");
    assert!(stderr.contains("Interrupted"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "ykman --device {YK1} oath accounts delete '{LABEL}'"
        )),
        "{stderr}"
    );
    assert!(!exists(&bench, &dev1()), "the step in flight finished");
    assert_eq!(
        bench.tokens[0].credential_names(),
        [LABEL],
        "then it stopped"
    );
    bench.assert_no_seed_leaked();
}

// ---- --root-of ----

/// Every diagnosis ListOrganizationsFeatures can give, played by faults (they answer before the
/// bench's AssumeRoot); the organization itself answers in the `--root-of` tests further down.
#[test]
fn root_of_refusals_are_explained_and_nothing_is_sent_for_bad_input() {
    let bench = Bench::start(Spec {
        yubikeys: vec![],
        nitrokey: false,
        iam: true,
    });
    let calls = |action: &str| {
        bench.iam_call("GET", &format!("/_bench/calls?action={action}"), json!({}))["count"]
            .as_u64()
            .unwrap_or(0)
    };
    let run = bench.run(&["revoke", "--root-of", "11111111111", "--yes"]);
    assert_eq!(run.code, Some(2), "{}", run.human());
    assert!(
        run.human().contains("is not an AWS account id (12 digits)"),
        "{}",
        run.human()
    );
    let run = bench.run(&["revoke", "--root-of", ACCOUNT, "--yes"]);
    assert_eq!(run.code, Some(2), "{}", run.human());
    assert!(
        run.human()
            .contains("is the account these credentials belong to"),
        "{}",
        run.human()
    );
    let run = bench.run(&[
        "revoke",
        "--root-of",
        "111111111111",
        "--device",
        "arn:aws:iam::222222222222:mfa/root-yk",
        "--yes",
    ]);
    assert_eq!(run.code, Some(2), "{}", run.human());
    assert!(
        run.human().contains("not in member account 111111111111"),
        "{}",
        run.human()
    );
    assert_eq!(calls("AssumeRoot"), 0, "nothing sent for bad input");

    let denied = "User: arn:aws:iam::123456789012:user/bench is not authorized to perform: sts:AssumeRoot on resource: arn:aws:iam::111111111111:root";
    let cases = [
        (
            "AccountNotManagementOrDelegatedAdministratorException",
            "is neither the organization's management account nor the delegated administrator",
            "register-delegated-administrator",
        ),
        (
            "ServiceAccessNotEnabledException",
            "centralized root access is not enabled",
            "enable-organizations-root-sessions",
        ),
        (
            "OrganizationNotFoundException",
            "belongs to no AWS organization",
            "management account",
        ),
        (
            "AccessDenied",
            "sts:AssumeRoot on account 111111111111 was refused",
            "aws organizations describe-account --account-id 111111111111",
        ),
    ];
    for (diagnosis, said, fix) in cases {
        let _ = bench.iam_call("POST", "/_bench/faults/clear", json!({}));
        bench.iam_fault(json!({"action": "AssumeRoot", "code": "AccessDenied", "status": 403, "message": denied, "count": "always"}));
        bench.iam_fault(json!({"action": "ListOrganizationsFeatures", "code": diagnosis, "status": 400, "count": "always"}));
        let run = bench.run(&[
            "revoke",
            "--root-of",
            "111111111111",
            "--allow-last",
            "--yes",
        ]);
        assert_eq!(run.code, Some(6), "{diagnosis}: {}", run.human());
        assert!(run.human().contains(said), "{diagnosis}: {}", run.human());
        assert!(run.human().contains(fix), "{diagnosis}: {}", run.human());
        assert!(!run.stderr.contains("panicked"));
    }
    assert!(calls("AssumeRoot") >= 4);
    assert_eq!(
        calls("DeactivateMFADevice") + calls("DeleteVirtualMFADevice"),
        0
    );

    // Root user credentials are refused before AssumeRoot.
    let root_key = "AKIAROOTBENCHEXAMPLE";
    bench.iam_call(
        "POST",
        "/_bench/root",
        json!({"add_access_key_id": root_key}),
    );
    let before = calls("AssumeRoot");
    let run = bench.run_with(
        &["revoke", "--root-of", "111111111111", "--yes"],
        &[("AWS_ACCESS_KEY_ID", root_key)],
    );
    assert_eq!(run.code, Some(2), "{}", run.human());
    assert!(
        run.human().contains("these are root user credentials"),
        "{}",
        run.human()
    );
    assert_eq!(calls("AssumeRoot"), before);
}

/// What a root session does, against the strict endpoint: the bench's root keys act as the root
/// user, whose device is listed, deactivated without a user name, and deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_root_session_deactivates_and_deletes_the_root_device() {
    use aws_config::{BehaviorVersion, Region, SdkConfig};
    use aws_sdk_iam::config::{Credentials, SharedCredentialsProvider};
    use ykmfa::iam::{Options, Sdk};
    use ykmfa::mfa::revoke::{self as revocation, Cause, Principal, Quiet, Refusal};
    use ykmfa::mfa::Cancel;
    use ykmfa::token::PcscCard;

    let bench = tokio::task::block_in_place(|| {
        Bench::start(Spec {
            yubikeys: vec![],
            nitrokey: false,
            iam: true,
        })
    });
    let url = bench.iam.as_ref().expect("iam").url.clone();
    let root_device = arn("root-yk");
    let root_key = "AKIAROOTBENCHEXAMPLE";
    tokio::task::block_in_place(|| {
        bench.aws(&[
            "iam",
            "create-virtual-mfa-device",
            "--virtual-mfa-device-name",
            "root-yk",
            "--outfile",
            &bench.dir.join("root-yk").display().to_string(),
            "--bootstrap-method",
            "Base32StringSeed",
        ]);
        bench.iam_call(
            "POST",
            "/_bench/root",
            json!({"assign_device": root_device, "add_access_key_id": root_key}),
        );
    });
    let config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            root_key, "bench", None, None, "tests",
        )))
        .build();
    let root = Sdk::from_config(
        &config,
        Options {
            endpoint_url: Some(url),
            ..Options::default()
        },
    )
    .expect("sdk");

    let plan = revocation::root_plan(&root, ACCOUNT, None)
        .await
        .expect("plan");
    assert_eq!(plan.principal, Principal::Root);
    assert_eq!(plan.device, root_device);
    assert!(plan.removes_last());
    assert!(plan.check_last(false).is_err());
    let done = revocation::revoke::<_, PcscCard>(&root, None, &plan, &Quiet, &Cancel::default())
        .await
        .expect("revoked");
    assert!(done.deactivated && done.deleted);
    assert_eq!(
        root.calls()
            .iter()
            .find(|(a, _)| *a == "iam:DeactivateMFADevice")
            .map(|c| c.1),
        Some(1)
    );

    let posture = tokio::task::block_in_place(|| bench.iam_call("GET", "/_bench/root", json!({})));
    assert_eq!(posture["mfa_devices"], json!([]));
    assert_eq!(posture["mfa_enabled"], false);
    assert!(!tokio::task::block_in_place(|| exists(
        &bench,
        &root_device
    )));

    let err = revocation::root_plan(&root, ACCOUNT, None)
        .await
        .expect_err("nothing left");
    assert!(
        matches!(err, Cause::Refused(Refusal::NoRootMfa(_))),
        "{err:?}"
    );
}

// ---- --root-of against the bench's sts:AssumeRoot ----
//
// The bench plays an organization (`/_bench/organization`): account 123456789012 (the default
// bench key) is the management account, 222222222222 and 333333333333 are members. AssumeRoot
// there opens a real root session: temporary credentials acting as the member's root user,
// limited to the task policy's actions, with their session token checked. The member's root
// device is enrolled the console's way: IAM issues the seed, `ykmfa enroll --root` writes it to
// the virtual YubiKey and prints two codes, and the bench assigns the device to root with them.

const MEMBER: &str = "222222222222";
const OTHER_MEMBER: &str = "333333333333";
const OUTSIDER: &str = "444444444444";
const ROOT_LABEL: &str = "Amazon Web Services:root@222222222222";
const DELETE_TASK: &str = "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials";

fn member_arn(name: &str) -> String {
    format!("arn:aws:iam::{MEMBER}:mfa/{name}")
}

/// An access key id that selects `account` on the bench.
fn organization(bench: &Bench, settings: Value) -> Value {
    bench.iam_call("POST", "/_bench/organization", settings)
}

/// A bench with `keys` virtual YubiKeys and the organization, centralized root access on.
fn org_bench(keys: usize) -> Bench {
    let bench = Bench::start(Spec {
        yubikeys: [YK1, YK2][..keys]
            .iter()
            .map(|s| YubiKeySpec {
                serial: *s,
                ..YubiKeySpec::default()
            })
            .collect(),
        nitrokey: false,
        iam: true,
    });
    organization(
        &bench,
        json!({"management": ACCOUNT, "members": [MEMBER, OTHER_MEMBER], "root_access": true}),
    );
    bench
}

/// The member's root user gets virtual device `name`, whose seed `ykmfa enroll --root` writes
/// to the token with serial `serial`, as the console-assisted flow does. Returns its ARN.
fn member_root_on_token(bench: &Bench, name: &str, serial: u32) -> String {
    let seed_file = bench.dir.join(format!("{name}.seed"));
    bench.aws_as(
        MEMBER,
        &[
            "iam",
            "create-virtual-mfa-device",
            "--virtual-mfa-device-name",
            name,
            "--outfile",
            seed_file.to_str().expect("path"),
            "--bootstrap-method",
            "Base32StringSeed",
        ],
    );
    let seed = std::fs::read(&seed_file).expect("seed file");
    std::fs::remove_file(&seed_file).expect("remove the seed file");
    let serial = serial.to_string();
    let args = [
        "enroll",
        "--root",
        "--secret-stdin",
        "--yes",
        "--account",
        MEMBER,
        "--serial",
        &serial,
    ];
    let mut child = bench
        .ykmfa(&args)
        .env("RUST_LOG", "trace")
        .env("YKMFA_LOG_FORMAT", "json")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ykmfa enroll --root");
    let mut stdin = child.stdin.take().expect("stdin");
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&seed);
    });
    let out = child.wait_with_output().expect("wait");
    feeder.join().expect("feeder");
    // stdout is the pair of codes for the console, by design: scanned for the seed only.
    bench.record_output_showing_codes(format!("stdout of ykmfa {args:?}"), out.stdout.clone());
    bench.record_output(format!("stderr of ykmfa {args:?}"), out.stderr.clone());
    assert!(out.status.success(), "{}", support::text(&out.stderr));
    let codes: Vec<String> = support::text(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    assert_eq!(codes.len(), 2, "two codes: {codes:?}");
    let device = member_arn(name);
    // The console: the two codes must pass IAM's EnableMFADevice rules.
    let posture = bench.iam_call(
        "POST",
        "/_bench/root",
        json!({"account": MEMBER, "assign_device": device, "code1": codes[0], "code2": codes[1]}),
    );
    assert!(
        posture["mfa_devices"]
            .as_array()
            .expect("devices")
            .contains(&json!(device)),
        "{posture}"
    );
    device
}

/// The member's root MFA devices (bench posture), the member's virtual devices (IAM), and every
/// token's credentials.
fn member_snapshot(bench: &Bench) -> (Value, Vec<String>, Vec<Vec<String>>) {
    let posture = bench.iam_call("GET", &format!("/_bench/root?account={MEMBER}"), json!({}));
    let devices = bench.aws_as(
        MEMBER,
        &[
            "iam",
            "list-virtual-mfa-devices",
            "--assignment-status",
            "Any",
        ],
    );
    let mut serials: Vec<String> = devices["VirtualMFADevices"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|d| d["SerialNumber"].as_str().unwrap_or_default().to_owned())
        .collect();
    serials.sort();
    let credentials = bench.tokens.iter().map(|t| t.credential_names()).collect();
    (posture["mfa_devices"].clone(), serials, credentials)
}

fn calls_of(bench: &Bench, action: &str) -> Vec<Value> {
    bench.iam_call("GET", &format!("/_bench/calls?action={action}"), json!({}))["calls"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn root_of_opens_a_root_session_and_removes_the_member_roots_device_and_credential() {
    let bench = org_bench(1);
    let device = member_root_on_token(&bench, "root-yk", YK1);
    // Another credential on the same token stays.
    bench.ykman_ok(
        &bench.tokens[0].reader,
        &[
            "oath",
            "accounts",
            "add",
            "-i",
            "Example",
            "other",
            "JBSWY3DPEHPK3PXP",
        ],
    );
    assert_eq!(
        bench.tokens[0].credential_names(),
        [ROOT_LABEL, "Example:other"]
    );
    // The plan first: the credential on the token is to be deleted; nothing changes yet.
    let before = member_snapshot(&bench);
    let run = bench.run(&[
        "revoke",
        "--root-of",
        MEMBER,
        "--allow-last",
        "--dry-run",
        "--json",
    ]);
    let v: Value = serde_json::from_str(run.ok()).expect("json");
    assert_eq!(v["schema"], "ykmfa.revoke-plan/1");
    assert_eq!(v["plan"]["principal"], json!({"kind": "root"}));
    assert_eq!(v["plan"]["devices_before"], 1);
    assert_eq!(v["plan"]["credential"]["state"], "delete");
    assert_eq!(v["plan"]["credential"]["name"], ROOT_LABEL);
    assert_eq!(v["plan"]["credential"]["token"]["serial"], YK1);
    assert_eq!(member_snapshot(&bench), before);
    let _ = bench.iam_call("POST", "/_bench/calls/reset", json!({}));

    let run = bench.run(&[
        "revoke",
        "--root-of",
        MEMBER,
        "--yes",
        "--allow-last",
        "--json",
    ]);
    let v: Value = serde_json::from_str(run.ok()).expect("json");
    assert_eq!(v["schema"], "ykmfa.revoke/1");
    let revoked = &v["revoked"];
    assert_eq!(revoked["account"], MEMBER);
    assert_eq!(revoked["principal"], json!({"kind": "root"}));
    assert_eq!(revoked["device"], device.as_str());
    assert_eq!(revoked["deactivated"], true);
    assert_eq!(revoked["deleted"], true);
    assert_eq!(revoked["credential"]["state"], "deleted");
    assert_eq!(revoked["credential"]["name"], ROOT_LABEL);
    assert_eq!(revoked["credential"]["token"]["serial"], YK1);
    assert_eq!(revoked["devices_left"], 0);
    assert_eq!(v["remaining"], json!([]));
    let human = run.human();
    assert!(
        human.contains(&format!(
            "Plan for the root user of member account {MEMBER}:"
        )),
        "{human}"
    );
    assert!(
        human.contains(&format!("a root session opened from account {ACCOUNT}")),
        "{human}"
    );
    assert!(
        human.contains(&format!("delete from YubiKey {YK1} the credential")),
        "{human}"
    );

    // IAM, in the member account: root has no MFA device, and the device is deleted.
    let posture = bench.iam_call("GET", &format!("/_bench/root?account={MEMBER}"), json!({}));
    assert_eq!(posture["mfa_devices"], json!([]));
    assert_eq!(posture["mfa_enabled"], false);
    assert_eq!(member_snapshot(&bench).1, Vec::<String>::new());
    // The token: only the root credential is gone, as ykman sees it too.
    assert_eq!(bench.tokens[0].credential_names(), ["Example:other"]);
    let listed = ykman_accounts(&bench, 0);
    assert!(
        !listed.contains(ROOT_LABEL) && listed.contains("Example:other"),
        "{listed}"
    );

    // One root session a run (the dry run's, then this one's), as AWS's docs ask for: the task
    // policy, 900 s, from the management account; and every call in the member account stayed
    // inside the task policy.
    let sessions = bench.iam_call("GET", "/_bench/root-sessions", json!({}))["sessions"].clone();
    assert_eq!(sessions.as_array().map(Vec::len), Some(2), "{sessions}");
    let sessions = &sessions.as_array().expect("sessions")[1..];
    assert_eq!(sessions[0]["account"], MEMBER);
    assert_eq!(sessions[0]["caller_account"], ACCOUNT);
    assert_eq!(sessions[0]["task_policy_arn"], DELETE_TASK);
    assert_eq!(sessions[0]["duration_s"], 900);
    let all = bench.iam_call("GET", "/_bench/calls", json!({}))["calls"].clone();
    let in_member: Vec<(String, u64)> = all
        .as_array()
        .expect("calls")
        .iter()
        .filter(|c| c["account"] == MEMBER)
        .map(|c| {
            (
                c["action"].as_str().unwrap_or_default().to_owned(),
                c["status"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert!(
        in_member.iter().all(|(_, status)| *status == 200),
        "{in_member:?}"
    );
    for action in [
        "ListMFADevices",
        "DeactivateMFADevice",
        "DeleteVirtualMFADevice",
    ] {
        assert!(
            in_member.iter().any(|(a, _)| a == action),
            "{action} in {in_member:?}"
        );
    }
    assert_eq!(calls_of(&bench, "AssumeRoot").len(), 1);
    assert!(bench.assert_no_seed_leaked() >= 1);
}

#[test]
fn root_of_names_the_credential_left_on_a_token_that_is_not_connected() {
    let bench = org_bench(1);
    let device = member_root_on_token(&bench, "root-yk", YK1);
    bench.tokens[0].control(json!({"cmd": "remove"}));
    wait_tokens(&bench, 0);
    let run = bench.run(&[
        "revoke",
        "--root-of",
        MEMBER,
        "--yes",
        "--allow-last",
        "--json",
    ]);
    let v: Value = serde_json::from_str(run.ok()).expect("json");
    assert_eq!(v["revoked"]["device"], device.as_str());
    assert_eq!(v["revoked"]["credential"]["state"], "remains");
    let command = format!("ykman oath accounts delete '{ROOT_LABEL}'");
    assert_eq!(
        v["remaining"],
        json!([{"kind": "credential", "name": ROOT_LABEL, "token_serial": null, "command": command}])
    );
    let human = run.human();
    assert!(
        human.contains("No connected token holds the root user's credential"),
        "{human}"
    );
    assert!(human.contains(&command), "{human}");
    assert!(
        human.contains("'Amazon Web Services:root-account-mfa-device@222222222222'"),
        "the console's name too: {human}"
    );
    assert_eq!(member_snapshot(&bench).0, json!([]), "IAM's part is done");

    // The token comes back with the credential, which the named command (with the token's
    // reader, as the bench's vpcd shows two) removes.
    std::thread::sleep(Duration::from_millis(1500));
    bench.tokens[0].control(json!({"cmd": "insert"}));
    wait_tokens(&bench, 1);
    assert_eq!(bench.tokens[0].credential_names(), [ROOT_LABEL]);
    let out = bench.ykman(
        &bench.tokens[0].reader,
        &["oath", "accounts", "delete", ROOT_LABEL, "--force"],
    );
    assert!(out.status.success(), "{}", support::text(&out.stderr));
    assert!(bench.tokens[0].credential_names().is_empty());
    bench.assert_no_seed_leaked();
}

#[test]
fn root_of_refusals_end_to_end_say_why_and_change_nothing() {
    let bench = org_bench(1);
    let device = member_root_on_token(&bench, "root-yk", YK1);
    let before = member_snapshot(&bench);
    assert_eq!(before.0, json!([device]));
    let other_member_key = bench.access_key_of(OTHER_MEMBER);
    let revoke = |env: &[(&str, &str)], target: &str| {
        bench.run_with(
            &["revoke", "--root-of", target, "--yes", "--allow-last"],
            env,
        )
    };
    let expect = |run: &support::Run, code: i32, said: &[&str]| {
        assert_eq!(run.code, Some(code), "{}", run.human());
        for s in said {
            assert!(run.human().contains(s), "expected '{s}' in {}", run.human());
        }
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        assert_eq!(member_snapshot(&bench), before, "nothing changed");
    };

    // Malformed account ids: refused before any call.
    for bad in ["22222222222", "2222222222a2", "222222222222 1"] {
        let run = revoke(&[], bad);
        expect(&run, 2, &["is not an AWS account id (12 digits)"]);
    }
    assert_eq!(calls_of(&bench, "AssumeRoot").len(), 0, "nothing sent");

    // The caller is a member, not the management account.
    let run = revoke(&[("AWS_ACCESS_KEY_ID", &other_member_key)], MEMBER);
    expect(
        &run,
        6,
        &[
            &format!("account {OTHER_MEMBER} is neither the organization's management account nor the delegated administrator"),
            "not authorized to perform: sts:AssumeRoot",
            "register-delegated-administrator",
        ],
    );
    // The target is not a member of the organization.
    let run = revoke(&[], OUTSIDER);
    expect(
        &run,
        6,
        &[
            &format!("sts:AssumeRoot on account {OUTSIDER} was refused although centralized root access is enabled in organization o-benchorg01"),
            &format!("aws organizations describe-account --account-id {OUTSIDER}"),
        ],
    );
    assert!(
        !run.human().contains("enable-organizations-root-sessions"),
        "root access is on already: {}",
        run.human()
    );
    // Root sessions on, no MFA device on that member's root.
    let run = revoke(&[], OTHER_MEMBER);
    expect(
        &run,
        7,
        &[&format!(
            "the root user of account {OTHER_MEMBER} has no MFA device"
        )],
    );
    // Centralized root access off: no trusted access, then the features off.
    organization(&bench, json!({"root_access": false}));
    let run = revoke(&[], MEMBER);
    expect(
        &run,
        6,
        &["centralized root access is not enabled: IAM has no trusted access to AWS Organizations"],
    );
    organization(&bench, json!({"trusted_access": true}));
    let run = revoke(&[], MEMBER);
    expect(
        &run,
        6,
        &["centralized root access is not enabled for the organization (RootCredentialsManagement and RootSessions off)"],
    );
    organization(&bench, json!({"root_credentials_management": true}));
    let run = revoke(&[], MEMBER);
    expect(&run, 6, &["(RootSessions off)"]);
    // No organization at all.
    bench.iam_call("DELETE", "/_bench/organization", json!({}));
    let run = revoke(&[], MEMBER);
    expect(
        &run,
        6,
        &[&format!("account {ACCOUNT} belongs to no AWS organization")],
    );
    assert_eq!(
        calls_of(&bench, "DeactivateMFADevice").len()
            + calls_of(&bench, "DeleteVirtualMFADevice").len(),
        0
    );

    // The fix ykmfa printed for "not enabled" works: then the revocation goes through.
    organization(
        &bench,
        json!({"management": ACCOUNT, "members": [MEMBER, OTHER_MEMBER], "trusted_access": true}),
    );
    let run = revoke(&[], MEMBER);
    assert_eq!(run.code, Some(6), "{}", run.human());
    let enable = printed_commands(&run.human())
        .into_iter()
        .find_map(|c| c.strip_prefix("then: ").map(str::to_owned))
        .expect("the enable command");
    run_printed(&bench, &enable);
    let run = revoke(&[], MEMBER);
    run.ok();
    assert_eq!(member_snapshot(&bench).0, json!([]));
    assert!(bench.tokens[0].credential_names().is_empty());
    bench.assert_no_seed_leaked();
}

#[test]
fn root_of_leaves_the_tokens_alone_when_root_keeps_another_device() {
    let bench = org_bench(2);
    let lost = member_root_on_token(&bench, "root-yk-a", YK1);
    let backup = member_root_on_token(&bench, "root-yk-b", YK2);
    // Both tokens hold a credential with the same name: nothing tells which is which device's.
    assert_eq!(bench.tokens[0].credential_names(), [ROOT_LABEL]);
    assert_eq!(bench.tokens[1].credential_names(), [ROOT_LABEL]);

    // Without --device: two root devices, one must be named.
    let run = bench.run(&["revoke", "--root-of", MEMBER, "--yes"]);
    assert_eq!(run.code, Some(7), "{}", run.human());
    assert!(run.human().contains("has 2 MFA devices"), "{}", run.human());

    let run = bench.run(&["revoke", "--root-of", MEMBER, "--device", &lost, "--yes"]);
    run.ok();
    let human = run.human();
    assert!(
        human.contains("has other MFA devices") && human.contains("the tokens are left alone"),
        "{human}"
    );
    assert!(human.contains("token     not touched"), "{human}");
    assert_eq!(
        member_snapshot(&bench).0,
        json!([backup]),
        "the backup stays"
    );
    assert_eq!(member_snapshot(&bench).1, vec![backup.clone()]);
    assert_eq!(bench.tokens[0].credential_names(), [ROOT_LABEL]);
    assert_eq!(bench.tokens[1].credential_names(), [ROOT_LABEL]);

    // Root's one device now, but two credentials carry its name: refused, nothing changes.
    let before = member_snapshot(&bench);
    let run = bench.run(&["revoke", "--root-of", MEMBER, "--yes", "--allow-last"]);
    assert_eq!(run.code, Some(3), "{}", run.human());
    assert!(
        run.human()
            .contains("2 credentials on the connected tokens are named as the root user's"),
        "{}",
        run.human()
    );
    assert!(run.human().contains("--keep-credential"), "{}", run.human());
    assert_eq!(member_snapshot(&bench), before);
    // --keep-credential: IAM only.
    let run = bench.run(&[
        "revoke",
        "--root-of",
        MEMBER,
        "--yes",
        "--allow-last",
        "--keep-credential",
    ]);
    run.ok();
    assert_eq!(member_snapshot(&bench).0, json!([]));
    assert_eq!(bench.tokens[0].credential_names(), [ROOT_LABEL]);
    assert_eq!(bench.tokens[1].credential_names(), [ROOT_LABEL]);
    bench.assert_no_seed_leaked();
}
