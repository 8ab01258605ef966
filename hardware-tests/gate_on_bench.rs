//! The hardware tests' gate (`gate.rs`) on the bench: saying how to run without their
//! variables, and refusing with a clear message when the variables are wrong: the named serial absent, other
//! keys present too, credentials of another account. The token checks run against real PC/SC
//! (the bench's pcscd with two virtual YubiKeys), the account check against the bench's STS.

// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::gate::{self, Config, Gate};
use support::{Bench, Spec, YubiKeySpec};
use ykmfa::token::{self, Inventory};
use ykmfa::transport::pcsc::Context;

const OTHER_SERIAL: u32 = 23_456_789;

fn env(vars: &[(&str, &str)]) -> Gate {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    gate::from_env(move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
}

fn refused(gate: Gate) -> String {
    match gate {
        Gate::Refuse(why) => why,
        other => panic!("not refused: {other:?}"),
    }
}

#[test]
fn without_variables_the_tests_say_how_to_run_them() {
    match env(&[]) {
        Gate::Unset(why) => {
            assert!(why.starts_with("set YKMFA_HW_SERIAL"), "{why}");
            assert!(why.contains("YKMFA_HW_ACCOUNT"), "{why}");
            assert!(why.contains("hardware-tests/README.md"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    // Blank is unset.
    assert!(matches!(
        env(&[("YKMFA_HW_SERIAL", " "), ("YKMFA_HW_ACCOUNT", "")]),
        Gate::Unset(_)
    ));
}

#[test]
fn half_set_or_malformed_variables_are_refused() {
    let why = refused(env(&[("YKMFA_HW_SERIAL", "12345678")]));
    assert!(why.contains("YKMFA_HW_ACCOUNT is not"), "{why}");
    let why = refused(env(&[("YKMFA_HW_ACCOUNT", "123456789012")]));
    assert!(why.contains("YKMFA_HW_SERIAL is not"), "{why}");
    let why = refused(env(&[
        ("YKMFA_HW_SERIAL", "yk-123"),
        ("YKMFA_HW_ACCOUNT", "123456789012"),
    ]));
    assert!(why.contains("is not a serial number"), "{why}");
    for account in ["12345", "1234567890123", "12345678901a"] {
        let why = refused(env(&[
            ("YKMFA_HW_SERIAL", "12345678"),
            ("YKMFA_HW_ACCOUNT", account),
        ]));
        assert!(
            why.contains("is not an AWS account id (12 digits)"),
            "{why}"
        );
    }
    let why = refused(env(&[
        ("YKMFA_HW_SERIAL", "12345678"),
        ("YKMFA_HW_ACCOUNT", "123456789012"),
        ("YKMFA_HW_TOUCH", "yes"),
    ]));
    assert!(why.contains("YKMFA_HW_TOUCH=yes"), "{why}");
}

#[test]
fn complete_variables_run() {
    assert_eq!(
        env(&[
            ("YKMFA_HW_SERIAL", "12345678"),
            ("YKMFA_HW_ACCOUNT", "123456789012"),
            ("YKMFA_HW_PROFILE", "sandbox"),
            ("YKMFA_HW_TOUCH", "1"),
        ]),
        Gate::Run(Config {
            serial: 12_345_678,
            account: "123456789012".into(),
            profile: Some("sandbox".into()),
            touch: true,
        })
    );
}

fn config(serial: u32) -> Config {
    Config {
        serial,
        account: "111111111111".into(),
        profile: None,
        touch: false,
    }
}

/// Two virtual YubiKeys on the real PC/SC stack, and the strict IAM/STS endpoint.
fn bench() -> &'static Bench {
    Bench::shared(|| Spec {
        yubikeys: vec![
            YubiKeySpec::default(),
            YubiKeySpec {
                serial: OTHER_SERIAL,
                ..YubiKeySpec::default()
            },
        ],
        nitrokey: false,
        iam: true,
    })
}

fn inventory() -> Inventory {
    bench();
    let ctx = Context::establish().expect("pcscd");
    let mut inventory = token::inventory(&ctx).expect("inventory");
    for _ in 0..40 {
        if inventory.tokens.len() == 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
        inventory = token::inventory(&ctx).expect("inventory");
    }
    assert_eq!(inventory.tokens.len(), 2, "{inventory:?}");
    inventory
}

#[test]
fn the_named_serial_absent_is_refused_listing_what_is_there() {
    let why = gate::check_tokens(&config(87_654_321), &inventory()).unwrap_err();
    assert!(
        why.starts_with("YKMFA_HW_SERIAL=87654321 but no such token is connected"),
        "{why}"
    );
    assert!(
        why.contains("YubiKey 12345678") && why.contains("YubiKey 23456789"),
        "{why}"
    );
}

#[test]
fn other_keys_present_too_are_refused() {
    let inventory = inventory();
    let why = gate::check_tokens(&config(support::YUBIKEY_SERIAL), &inventory).unwrap_err();
    assert!(
        why.starts_with("other keys are connected besides YubiKey 12345678"),
        "{why}"
    );
    assert!(why.contains("unplug them"), "{why}");

    // With only the named key (the other one set aside), the gate opens.
    let mut alone = inventory;
    alone
        .tokens
        .retain(|t| t.serial.map(|s| s.0) == Some(support::YUBIKEY_SERIAL));
    assert_eq!(alone.tokens.len(), 1);
    gate::check_tokens(&config(support::YUBIKEY_SERIAL), &alone).expect("gate open");
}

#[test]
fn credentials_of_another_account_are_refused() {
    let bench = bench();
    let url = bench.iam.as_ref().expect("iam").url.clone();
    let identity = tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(async {
            let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
                .region(aws_config::Region::new("us-east-1"))
                .endpoint_url(url)
                .credentials_provider(aws_credential_types::Credentials::new(
                    "AKIAIOSFODNN7EXAMPLE",
                    "bench-secret",
                    None,
                    None,
                    "bench",
                ))
                .load()
                .await;
            aws_sdk_sts::Client::new(&sdk)
                .get_caller_identity()
                .send()
                .await
                .expect("GetCallerIdentity")
        });
    let account = identity.account().expect("account");
    let arn = identity.arn().expect("arn");
    assert_eq!(account, "123456789012");

    let why = gate::check_account(&config(support::YUBIKEY_SERIAL), account, arn).unwrap_err();
    assert!(
        why.starts_with("the AWS credentials are for account 123456789012"),
        "{why}"
    );
    assert!(why.contains("not YKMFA_HW_ACCOUNT=111111111111"), "{why}");

    let mut right = config(support::YUBIKEY_SERIAL);
    right.account = account.to_owned();
    gate::check_account(&right, account, arn).expect("the right account passes");
    let root = format!("arn:aws:iam::{account}:root");
    let why = gate::check_account(&right, account, &root).unwrap_err();
    assert!(why.contains("root user"), "{why}");
}
