//! `ykmfa tokens` on the bench: both virtual cards through the real pcscd.

// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use support::{text, Bench, Spec, YubiKeySpec};

#[test]
fn lists_a_yubikey_and_a_nitrokey() {
    let bench = Bench::start(Spec {
        yubikeys: vec![YubiKeySpec::default()],
        nitrokey: true,
        iam: false,
    });
    let out = bench.ykmfa(&["tokens", "--json"]).output().expect("run");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["schema"], "ykmfa.tokens/1");
    let tokens = v["tokens"].as_array().expect("tokens");
    assert_eq!(tokens.len(), 2, "{v:#}");
    let yk = tokens
        .iter()
        .find(|t| t["kind"] == "yubikey")
        .unwrap_or_else(|| panic!("no YubiKey in {v:#}"));
    assert_eq!(yk["serial"], 12_345_678);
    assert_eq!(yk["firmware"], serde_json::json!([5, 4, 3]));
    assert_eq!(yk["credentials"], 0);
    assert_eq!(yk["capacity"], 32);
    assert_eq!(yk["password"], false);
    let nk = tokens
        .iter()
        .find(|t| t["kind"] == "nitrokey")
        .expect("a Nitrokey");
    assert_eq!(nk["reader"], "Nitrokey 3 00 00");

    let out = bench.ykmfa(&["tokens"]).output().expect("run");
    let table = text(&out.stdout);
    let rows: Vec<Vec<&str>> = table
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    let header = ["KIND", "SERIAL", "FIRMWARE", "USED", "FREE", "PASSWORD"];
    assert_eq!(rows[0][..6], header, "{table}");
    let yubikey = ["YubiKey", "12345678", "5.4.3", "0", "32", "none"];
    assert!(rows.iter().any(|r| r[..6] == yubikey), "{table}");
    let nitrokey = |r: &&Vec<&str>| r[0] == "Nitrokey" && r[3] == "0" && r[4] == "?";
    assert!(rows.iter().any(|r| nitrokey(&r)), "{table}");
    assert!(table.lines().all(|l| l.chars().count() <= 80), "{table}");
}

#[test]
fn without_pcscd_it_says_so_and_exits_4() {
    let bench = Bench::start(Spec::one_yubikey());
    bench.stop();
    let out = bench.ykmfa(&["tokens"]).output().expect("run");
    assert_eq!(out.status.code(), Some(4));
    let err = text(&out.stderr);
    assert!(
        err.contains("error: the PC/SC service (pcscd) is not running"),
        "{err}"
    );
    assert!(err.contains("fix: start it"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
