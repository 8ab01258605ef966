//! `ykmfa enroll` against an IAM endpoint that answers badly: malformed XML, missing fields, a
//! seed that isn't Base32, a storm of 5xx, a throttling burst, an answer that never comes. Each
//! run ends cleanly: success when the SDK's retries carry it, otherwise a failure that names the
//! step, with IAM and the token as before, no panic, and no seed anywhere.

// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use serde_json::{json, Value};
use support::{Bench, Spec, YubiKeySpec};

fn bench() -> Bench {
    let bench = Bench::start(Spec {
        yubikeys: vec![YubiKeySpec::default()],
        nitrokey: false,
        iam: true,
    });
    bench.aws(&["iam", "create-user", "--user-name", "alice"]);
    bench
}

enum Expect {
    /// Fails, names this, and leaves nothing.
    Fails(&'static str),
    /// Like `Fails`, and no device was ever created: IAM issued no seed.
    FailsBeforeAnySeed(&'static str),
    /// The SDK's retries carry it: enrolled.
    Enrolls,
}

fn case(faults: &[Value], expect: Expect) {
    let bench = bench();
    for f in faults {
        bench.iam_fault(f.clone());
    }
    let run = bench.run(&["enroll", "--user", "alice", "--aws-timeout", "4"]);
    let _ = bench.iam_call("POST", "/_bench/faults/clear", json!({}));
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    match expect {
        Expect::Fails(words) | Expect::FailsBeforeAnySeed(words) => {
            assert!(
                run.code.is_some_and(|c| c != 0 && c != 8),
                "{faults:?}: {:?}\n{}",
                run.code,
                run.human()
            );
            assert!(
                run.human().contains(words),
                "{faults:?}: expected '{words}' in:\n{}",
                run.human()
            );
            // Let a call the endpoint sat on finish, then look.
            std::thread::sleep(std::time::Duration::from_millis(500));
            assert_eq!(
                bench.virtual_devices("Any").len(),
                0,
                "{faults:?}: a device remains"
            );
            assert!(
                bench.tokens[0].credential_names().is_empty(),
                "{faults:?}: a credential remains"
            );
        }
        Expect::Enrolls => {
            assert_eq!(run.code, Some(0), "{faults:?}:\n{}", run.human());
            assert_eq!(bench.virtual_devices("Assigned").len(), 1);
            assert_eq!(
                bench.virtual_devices("Unassigned").len(),
                0,
                "{faults:?}: an orphan"
            );
            assert_eq!(bench.tokens[0].credential_names().len(), 1);
        }
    }
    if matches!(expect, Expect::FailsBeforeAnySeed(_)) {
        bench.assert_no_seed_issued();
    } else {
        bench.assert_no_seed_leaked();
    }
}

#[test]
fn create_answered_with_malformed_xml() {
    case(
        &[json!({"action": "CreateVirtualMFADevice", "kind": "malformed", "count": "always"})],
        Expect::Fails("creating the virtual MFA device"),
    );
}

#[test]
fn create_answered_without_the_seed() {
    case(
        &[
            json!({"action": "CreateVirtualMFADevice", "kind": "drop_field", "field": "Base32StringSeed", "count": "always"}),
        ],
        Expect::Fails("creating the virtual MFA device"),
    );
}

#[test]
fn create_answered_without_the_serial() {
    case(
        &[
            json!({"action": "CreateVirtualMFADevice", "kind": "drop_field", "field": "SerialNumber", "count": "always"}),
        ],
        Expect::Fails("creating the virtual MFA device"),
    );
}

#[test]
fn create_answered_with_a_seed_that_is_not_base32() {
    case(
        &[json!({"action": "CreateVirtualMFADevice", "kind": "bad_seed", "count": "always"})],
        Expect::Fails("creating the virtual MFA device"),
    );
}

#[test]
fn create_answered_with_an_empty_body() {
    case(
        &[json!({"action": "CreateVirtualMFADevice", "kind": "empty", "count": "always"})],
        Expect::Fails("creating the virtual MFA device"),
    );
}

#[test]
fn enable_answered_with_malformed_xml() {
    // EnableMFADevice returns no fields, and the endpoint garbles the answer after doing the
    // work: ykmfa's confirmation (ListMFADevices) sees the device assigned, which is the truth.
    case(
        &[json!({"action": "EnableMFADevice", "kind": "malformed", "count": "always"})],
        Expect::Enrolls,
    );
}

#[test]
fn enable_refused_with_an_unknown_error_code() {
    case(
        &[
            json!({"action": "EnableMFADevice", "code": "SomethingNobodyDocumented", "status": 400, "count": "always"}),
        ],
        Expect::Fails("enabling the device"),
    );
}

#[test]
fn confirm_answered_without_the_device_list() {
    case(
        &[json!({"action": "ListMFADevices", "kind": "empty", "skip": 1, "count": "always"})],
        Expect::Fails("confirming the device is assigned"),
    );
}

#[test]
fn a_storm_of_5xx_on_every_write() {
    case(
        &[
            json!({"action": "CreateVirtualMFADevice", "code": "ServiceFailure", "status": 503, "count": "always"}),
            json!({"action": "DeleteVirtualMFADevice", "code": "ServiceFailure", "status": 503, "count": 2}),
        ],
        Expect::FailsBeforeAnySeed("creating the virtual MFA device"),
    );
}

#[test]
fn a_throttling_burst_is_carried_by_retries() {
    case(
        &[
            json!({"action": "CreateVirtualMFADevice", "code": "Throttling", "status": 400, "count": 2}),
            json!({"action": "EnableMFADevice", "code": "Throttling", "status": 400, "count": 2}),
            json!({"action": "ListMFADevices", "code": "Throttling", "status": 400, "count": 2}),
        ],
        Expect::Enrolls,
    );
}

#[test]
fn enable_that_never_answers() {
    case(
        &[
            json!({"action": "EnableMFADevice", "kind": "delay", "delay_ms": 5000, "count": "always"}),
        ],
        Expect::Fails("enabling the device"),
    );
}
