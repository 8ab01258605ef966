//! Two ykmfa processes at once. On the same user, the second is refused by the user's journal
//! lock while the first runs. On the same token for two users, both finish: each token write
//! is one exclusive PC/SC transaction, so their APDUs never interleave.

// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::process::Stdio;
use std::time::Duration;

use serde_json::json;
use support::{Bench, Spec, YubiKeySpec};

fn bench(users: &[&str]) -> Bench {
    let bench = Bench::start(Spec {
        yubikeys: vec![YubiKeySpec::default()],
        nitrokey: false,
        iam: true,
    });
    for u in users {
        bench.aws(&["iam", "create-user", "--user-name", u]);
    }
    bench
}

fn spawn(bench: &Bench, user: &str, tag: &str) -> (std::process::Child, std::path::PathBuf) {
    let err = bench.dir.join(format!("{tag}.stderr"));
    let child = bench
        .ykmfa(&["enroll", "--user", user])
        .env("RUST_LOG", "trace")
        .env("YKMFA_LOG_FORMAT", "json")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err).expect("stderr"))
        .spawn()
        .expect("spawn");
    (child, err)
}

#[test]
fn a_second_enrollment_of_the_same_user_is_refused_while_the_first_runs() {
    let bench = bench(&["alice"]);
    bench.iam_fault(
        json!({"action": "CreateVirtualMFADevice", "kind": "delay", "delay_ms": 3000, "count": 1}),
    );
    let (mut first, first_err) = spawn(&bench, "alice", "first");
    support::wait_for(Duration::from_secs(20), "the first run's preflight", || {
        bench.iam_call("GET", "/_bench/calls?action=ListMFADevices", json!({}))["count"]
            .as_u64()
            .unwrap_or(0)
            >= 1
    });
    let second = bench.run(&["enroll", "--user", "alice"]);
    assert_eq!(second.code, Some(1), "{}", second.human());
    assert!(
        second
            .human()
            .contains("another ykmfa process is working on IAM user 'alice'"),
        "{}",
        second.human()
    );
    let status = first.wait().expect("wait");
    let stderr = std::fs::read(&first_err).expect("stderr");
    bench.record_output("first".into(), stderr.clone());
    assert!(status.success(), "{}", support::text(&stderr));
    let listed = bench.aws(&["iam", "list-mfa-devices", "--user-name", "alice"]);
    assert_eq!(listed["MFADevices"].as_array().map(Vec::len), Some(1));
    assert_eq!(bench.tokens[0].credential_names().len(), 1);
    bench.assert_no_seed_leaked();
}

#[test]
fn two_users_on_one_token_at_once_both_finish() {
    let bench = bench(&["alice", "bob"]);
    // Both reach the token write together.
    bench.iam_fault(
        json!({"action": "CreateVirtualMFADevice", "kind": "delay", "delay_ms": 1500, "count": 2}),
    );
    let (mut a, a_err) = spawn(&bench, "alice", "alice");
    let (mut b, b_err) = spawn(&bench, "bob", "bob");
    for (child, err) in [(&mut a, a_err), (&mut b, b_err)] {
        let status = child.wait().expect("wait");
        let stderr = std::fs::read(&err).expect("stderr");
        bench.record_output(err.display().to_string(), stderr.clone());
        assert!(status.success(), "{}", support::text(&stderr));
    }
    let mut names = bench.tokens[0].credential_names();
    names.sort();
    assert_eq!(
        names,
        [
            "Amazon Web Services:alice@123456789012",
            "Amazon Web Services:bob@123456789012"
        ]
    );
    for user in ["alice", "bob"] {
        let listed = bench.aws(&["iam", "list-mfa-devices", "--user-name", user]);
        assert_eq!(
            listed["MFADevices"].as_array().map(Vec::len),
            Some(1),
            "{user}"
        );
    }
    bench.assert_no_seed_leaked();
}

/// Two ykmfa under different HOMEs (two journals, two locks that can't see each other) on one
/// user and one token. The first is killed after writing its credential. A person removes that
/// credential by hand and enrolls the user again from the other HOME, which reuses the device
/// name and the label. When the first HOME's ykmfa then settles its dead run, it must touch
/// nothing of the live enrollment: not the device (same ARN, now someone else's) and not the
/// credential (same label, another secret: the fingerprint tells them apart).
#[test]
fn a_dead_run_under_another_home_never_deletes_a_live_credential() {
    let bench = bench(&["alice"]);
    let label = "Amazon Web Services:alice@123456789012";
    let reader = bench.tokens[0].reader.clone();
    let home_b = bench.dir.join("home-b");
    std::fs::create_dir_all(&home_b).expect("second HOME");

    // HOME A: killed (SIGKILL) while the token computes its first code.
    bench.tokens[0].control(
        json!({"cmd": "fault", "kind": "delay", "ms": 2500, "ins": "CALCULATE", "skip": 0, "count": 1}),
    );
    let (mut a, a_err) = spawn(&bench, "alice", "home-a");
    support::wait_for(Duration::from_secs(30), "the credential", || {
        bench.tokens[0]
            .credential_names()
            .iter()
            .any(|n| n == label)
    });
    std::thread::sleep(Duration::from_millis(500));
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &a.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    assert_eq!(a.wait().expect("wait").code(), None, "killed");
    bench.record_output("home A".into(), std::fs::read(&a_err).expect("stderr"));

    // A person removes the leftover credential by hand, then enrolls from HOME B.
    bench.ykman_ok(&reader, &["oath", "accounts", "delete", label, "--force"]);
    let b = bench
        .ykmfa(&["enroll", "--user", "alice"])
        .env("HOME", &home_b)
        .stdin(Stdio::null())
        .output()
        .expect("enroll from HOME B");
    bench.record_output("home B".into(), b.stderr.clone());
    assert!(b.status.success(), "{}", support::text(&b.stderr));
    let live = String::from_utf8_lossy(&b.stdout).trim().to_owned();
    let credential_b = bench.tokens[0].dump()["credentials"][0]["key_fingerprint"].clone();

    // HOME A's next command settles its dead run, then resynchronizes alice's live device.
    let resync = bench.run(&["resync", "--user", "alice"]);
    let said = resync.human();
    assert!(said.contains("unfinished enrollment of alice"), "{said}");
    assert_eq!(resync.code, Some(0), "{said}");
    let listed = bench.aws(&["iam", "list-mfa-devices", "--user-name", "alice"]);
    let serials: Vec<&str> = listed["MFADevices"]
        .as_array()
        .expect("devices")
        .iter()
        .filter_map(|d| d["SerialNumber"].as_str())
        .collect();
    assert_eq!(
        serials,
        [live.as_str()],
        "the live device is untouched: {said}"
    );
    assert_eq!(bench.tokens[0].credential_names(), [label]);
    assert_eq!(
        bench.tokens[0].dump()["credentials"][0]["key_fingerprint"],
        credential_b,
        "the live credential is the one HOME B wrote: {said}"
    );
    bench.assert_no_seed_leaked();
}
