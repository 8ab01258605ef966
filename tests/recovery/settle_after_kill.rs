//! An enrollment killed mid-way (SIGKILL: no undo can run) is settled by the next command that
//! touches its user or its token, not only by the next `enroll`: `resync` and `revoke` settle it
//! before their own work; `status` and `revoke --dry-run` report it and change nothing. On the
//! bench: the real pcscd, a virtual YubiKey, the strict IAM endpoint.

// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use support::{Bench, Spec};

const ACCOUNT: &str = "123456789012";
const ALICE: &str = "Amazon Web Services:alice@123456789012";
const BOB: &str = "Amazon Web Services:bob@123456789012";
const ALICE_SPARE: &str = "Amazon Web Services:alice-spare@123456789012";

fn arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:mfa/{name}")
}

/// A bench with one virtual YubiKey, users alice and bob, and alice enrolled on the token.
fn alice_enrolled() -> Bench {
    let bench = Bench::start(Spec {
        iam: true,
        ..Spec::one_yubikey()
    });
    for user in ["alice", "bob"] {
        bench.aws(&["iam", "create-user", "--user-name", user]);
    }
    bench.run(&["enroll", "--user", "alice"]).ok();
    bench
}

/// Runs `ykmfa enroll ARGS` and kills it (SIGKILL) while the token computes its first code: the
/// device exists unassigned and the credential is on the token, and nothing undoes them.
fn killed_enrollment(bench: &Bench, args: &[&str], label: &str) {
    bench.tokens[0].control(
        json!({"cmd": "fault", "kind": "delay", "ms": 2500, "ins": "CALCULATE", "skip": 0, "count": 1}),
    );
    let log = bench.dir.join(format!("killed-{}.stderr", label.len()));
    let mut child = bench
        .ykmfa(args)
        .env("RUST_LOG", "trace")
        .env("YKMFA_LOG_FORMAT", "json")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("stderr file"))
        .spawn()
        .expect("spawn ykmfa");
    support::wait_for(Duration::from_secs(30), "the credential", || {
        bench.tokens[0]
            .credential_names()
            .iter()
            .any(|n| n == label)
    });
    std::thread::sleep(Duration::from_millis(700));
    let killed = Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), None, "ykmfa ended before the kill");
    bench.record_output(
        format!("stderr of the killed {args:?}"),
        std::fs::read(&log).expect("stderr"),
    );
}

/// The journal record a user's enrollment left (empty: none).
fn record(bench: &Bench, user: &str) -> String {
    let path = bench.dir.join(format!(
        "home/.local/state/ykmfa/enrollments/{ACCOUNT}-{user}.json"
    ));
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn status_reports_and_resync_settles_another_users_enrollment_on_the_token() {
    let bench = alice_enrolled();
    killed_enrollment(&bench, &["enroll", "--user", "bob"], BOB);
    assert_eq!(bench.unassigned(), vec![arn("bob-yk12345678")]);
    assert!(!record(&bench, "bob").is_empty());

    // status looks, reports, and changes nothing.
    let status = bench.run(&["status", "--user", "alice", "--json"]);
    let doc: Value = serde_json::from_str(status.ok()).expect("status JSON");
    let found = doc["unfinished_enrollments"].as_array().expect("the list");
    assert_eq!(found.len(), 1, "{doc}");
    assert_eq!(found[0]["user"], "bob");
    assert_eq!(found[0]["credential"], BOB);
    assert_eq!(found[0]["token_serial"], 12_345_678);
    assert_eq!(found[0]["stage"], "writing");
    assert_eq!(found[0]["device_serial"], arn("bob-yk12345678"));
    let said = status.human();
    assert!(
        said.contains("unfinished enrollment of bob") && said.contains("Nothing was changed"),
        "{said}"
    );
    assert_eq!(bench.unassigned(), vec![arn("bob-yk12345678")]);
    assert!(bench.tokens[0].credential_names().contains(&BOB.to_owned()));
    assert!(!record(&bench, "bob").is_empty());

    // resync of alice touches the token: it settles bob's leftovers, then does its own work.
    let resync = bench.run(&["resync", "--user", "alice"]);
    assert_eq!(resync.code, Some(0), "{}", resync.human());
    let said = resync.human();
    assert!(said.contains("unfinished enrollment of bob"), "{said}");
    assert!(
        said.contains(&format!(
            "Removed unassigned virtual MFA device {}",
            arn("bob-yk12345678")
        )),
        "{said}"
    );
    assert!(
        said.contains(&format!("Removed credential '{BOB}'")),
        "{said}"
    );
    assert!(said.contains("Resynchronized"), "{said}");
    assert!(bench.unassigned().is_empty());
    assert_eq!(bench.tokens[0].credential_names(), vec![ALICE.to_owned()]);
    assert_eq!(bench.assigned_to("alice"), vec![arn("alice-yk12345678")]);
    assert!(record(&bench, "bob").is_empty());

    // Settled once: the next status has nothing to report.
    let status = bench.run(&["status", "--user", "alice", "--json"]);
    let doc: Value = serde_json::from_str(status.ok()).expect("status JSON");
    assert_eq!(doc["unfinished_enrollments"], json!([]));
    bench.assert_no_seed_leaked();
}

#[test]
fn revoke_settles_the_users_own_killed_enrollment_and_a_dry_run_only_reports_it() {
    let bench = alice_enrolled();
    killed_enrollment(
        &bench,
        &[
            "enroll",
            "--user",
            "alice",
            "--label",
            ALICE_SPARE,
            "--device-name",
            "alice-spare",
        ],
        ALICE_SPARE,
    );
    assert_eq!(bench.unassigned(), vec![arn("alice-spare")]);
    let device = arn("alice-yk12345678");

    let dry = bench.run(&[
        "revoke",
        "--user",
        "alice",
        "--device",
        &device,
        "--allow-last",
        "--dry-run",
    ]);
    assert_eq!(dry.code, Some(0), "{}", dry.human());
    assert!(
        dry.human().contains("unfinished enrollment of alice"),
        "{}",
        dry.human()
    );
    assert_eq!(bench.unassigned(), vec![arn("alice-spare")]);
    assert_eq!(bench.tokens[0].credential_names().len(), 2);
    assert!(!record(&bench, "alice").is_empty());

    let revoke = bench.run(&[
        "revoke",
        "--user",
        "alice",
        "--device",
        &device,
        "--allow-last",
        "--yes",
    ]);
    assert_eq!(revoke.code, Some(0), "{}", revoke.human());
    let said = revoke.human();
    assert!(said.contains("unfinished enrollment of alice"), "{said}");
    assert!(
        said.contains(&format!(
            "Removed unassigned virtual MFA device {}",
            arn("alice-spare")
        )),
        "{said}"
    );
    // Both gone: the spare settled, the enrolled one revoked with its credential.
    assert!(bench.unassigned().is_empty());
    assert!(bench.assigned_to("alice").is_empty());
    assert!(bench.tokens[0].credential_names().is_empty());
    assert!(record(&bench, "alice").is_empty());
    bench.assert_no_seed_leaked();
}

#[test]
fn resync_and_revoke_wait_their_turn_and_go_on_without_a_usable_journal() {
    let bench = alice_enrolled();
    let device = arn("alice-yk12345678");
    // Hold alice's lock as a running ykmfa does (its own file, next to the records).
    let path = bench.dir.join(format!(
        "home/.local/state/ykmfa/enrollments/{ACCOUNT}-alice.lock"
    ));
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .expect("alice's lock file");
    lock.try_lock().expect("lock");
    let revoke = [
        "revoke",
        "--user",
        "alice",
        "--device",
        &device,
        "--allow-last",
        "--yes",
    ];
    for args in [&revoke[..], &["resync", "--user", "alice"]] {
        let run = bench.run(args);
        assert_eq!(run.code, Some(1), "{}", run.human());
        assert!(
            run.human()
                .contains("another ykmfa process is working on IAM user 'alice'"),
            "{}",
            run.human()
        );
    }
    assert_eq!(bench.assigned_to("alice"), vec![device.clone()]);
    assert_eq!(bench.tokens[0].credential_names(), vec![ALICE.to_owned()]);
    // status only looks: it shows the user and says someone is at work on it.
    let status = bench.run(&["status", "--user", "alice"]);
    assert_eq!(status.code, Some(0), "{}", status.human());
    assert!(
        status
            .human()
            .contains("Another ykmfa process is working on alice"),
        "{}",
        status.human()
    );
    drop(lock);

    // A journal that can't be used doesn't stop resync: it says so and goes on.
    let not_a_dir = bench.dir.join("not-a-directory");
    std::fs::write(&not_a_dir, b"").expect("file");
    let resync = bench.run_with(
        &["resync", "--user", "alice"],
        &[("XDG_STATE_HOME", not_a_dir.to_str().expect("path"))],
    );
    assert_eq!(resync.code, Some(0), "{}", resync.human());
    assert!(
        resync.human().contains("Going on without it"),
        "{}",
        resync.human()
    );

    let revoke = bench.run(&revoke);
    assert_eq!(revoke.code, Some(0), "{}", revoke.human());
    assert!(bench.assigned_to("alice").is_empty());
    bench.assert_no_seed_leaked();
}
