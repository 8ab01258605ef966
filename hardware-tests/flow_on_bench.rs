//! The hardware tests' own code (`flow.rs`) run on the bench: a virtual YubiKey
//! behind the real pcscd (its touch pressed by the card after a delay) and the local IAM/STS
//! endpoint. This checks the tests' mechanics on every CI run (the gate, creating the test user
//! and key, `ykmfa enroll --json`, codes from the token, sign-in, the sweep and the drop guard
//! after a failure); what only real AWS and a real key can answer is left to the hardware run.
//! The sign-ins move the bench's clock to a fresh time step rather than wait for one.

// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::{flow, gate};
use serde_json::json;
use support::{Bench, Spec, YubiKeySpec};

fn bench() -> &'static Bench {
    let bench = Bench::shared(|| Spec {
        yubikeys: vec![YubiKeySpec {
            touch_delay_ms: 300,
            ..YubiKeySpec::default()
        }],
        nitrokey: false,
        iam: true,
    });
    // The management test cross-checks the serial with ykman, when it is on the PATH.
    let path = std::env::var_os("PATH").unwrap_or_default();
    let venv = support::venv_bin("ykman")
        .parent()
        .expect("venv")
        .to_owned();
    if !std::env::split_paths(&path).any(|p| p == venv) {
        let mut paths = vec![venv];
        paths.extend(std::env::split_paths(&path));
        std::env::set_var("PATH", std::env::join_paths(paths).expect("PATH"));
    }
    bench
}

/// Names in IAM and on the token that start with the test prefix.
fn leftovers(bench: &Bench) -> Vec<String> {
    let mut found = Vec::new();
    let users = bench.aws(&["iam", "list-users", "--path-prefix", gate::USER_PATH]);
    for u in users["Users"].as_array().cloned().unwrap_or_default() {
        found.push(format!("user {}", u["UserName"]));
    }
    let devices = bench.aws(&["iam", "list-virtual-mfa-devices"]);
    for d in devices["VirtualMFADevices"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        let serial = d["SerialNumber"].as_str().unwrap_or_default().to_owned();
        if serial.contains(gate::PREFIX) {
            found.push(format!("device {serial}"));
        }
    }
    for name in bench.tokens[0].credential_names() {
        if name.starts_with(flow::CREDENTIAL_PREFIX) {
            found.push(format!("credential {name}"));
        }
    }
    found
}

#[test]
fn the_hardware_tests_pass_on_the_bench_and_leave_nothing_behind() {
    // Its bench (one YubiKey that presses its own touch) is not the gate checks' (two).
    support::in_own_process!(the_hardware_tests_pass_on_the_bench_and_leave_nothing_behind);
    let bench = bench();
    let config = gate::Config {
        serial: support::YUBIKEY_SERIAL,
        account: "123456789012".into(),
        profile: None,
        touch: true,
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let sdk = rt.block_on(
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(bench.iam.as_ref().expect("iam").url.clone())
            .credentials_provider(aws_credential_types::Credentials::new(
                "AKIAIOSFODNN7EXAMPLE",
                "bench-secret",
                None,
                None,
                "bench",
            ))
            .load(),
    );
    let mut world = flow::World::connect(&rt, config, sdk, bench.env()).expect("the gate opens");
    // A sign-in needs a time step no code was used in: the bench's clock is moved to it, as
    // real AWS's would get there by waiting.
    world.drive_clock(move |ahead| {
        bench.iam_call("POST", "/_bench/config", json!({"clock_offset_s": ahead}));
    });

    // Something an interrupted earlier run left: the sweep removes it, and only it.
    bench.aws(&[
        "iam",
        "create-user",
        "--user-name",
        "ykmfa-hwtest-left0ver",
        "--path",
        gate::USER_PATH,
    ]);
    bench.aws(&["iam", "create-user", "--user-name", "not-a-test-user"]);
    world.sweep();
    assert!(leftovers(bench).is_empty(), "{:?}", leftovers(bench));
    let others = bench.aws(&["iam", "get-user", "--user-name", "not-a-test-user"]);
    assert_eq!(others["User"]["UserName"], "not-a-test-user");

    assert_eq!(flow::run_all(&world), (3, 0, 0));
    assert!(leftovers(bench).is_empty(), "{:?}", leftovers(bench));

    // A test that fails half-way (IAM refuses to enable the device) still removes its user,
    // access key and device: the drop guard.
    bench.iam_fault(json!({"action": "EnableMFADevice", "code": "AccessDenied", "count": 1}));
    let (_, enroll_test) = flow::TESTS[1];
    let outcome = enroll_test(&world);
    assert!(
        outcome
            .as_ref()
            .is_err_and(|e| e.contains("ykmfa enroll exited with Some(6)")),
        "{outcome:?}"
    );
    assert!(leftovers(bench).is_empty(), "{:?}", leftovers(bench));
    bench.assert_no_seed_leaked();
}
