//! The bench itself: a test that needs it and finds the machine without something it needs
//! fails with a sentence naming what is missing and what installs it; it never passes by
//! skipping (`support::missing_for`, checked by `Bench::start`).

// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use support::{effective_uid, missing_for, Bench, Spec, YubiKeySpec};

fn everything() -> Spec {
    Spec {
        yubikeys: vec![YubiKeySpec::default()],
        nitrokey: true,
        iam: true,
    }
}

#[test]
fn what_the_bench_lacks_is_named_with_what_installs_it() {
    let empty = std::env::temp_dir().join(format!("ykmfa-no-tools-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let missing = missing_for(&everything(), &empty.display().to_string(), Some(1000));
    let said = missing.join("\n");
    for expected in [
        "runs as user 1000, not root",
        "pcscd is not on PATH",
        "apt package pcscd",
        "unshare is not on PATH",
        "nsenter is not on PATH",
        "setpriv is not on PATH",
        "ip is not on PATH",
        "apt package iproute2",
    ] {
        assert!(said.contains(expected), "{expected:?} not in:\n{said}");
    }
    let _ = std::fs::remove_dir(&empty);

    // Here (root, after bench/setup) nothing is missing: the check is not a refusal of
    // everything.
    let path = std::env::var("PATH").unwrap_or_default();
    assert_eq!(
        missing_for(&everything(), &path, effective_uid()),
        Vec::<String>::new()
    );
}

#[test]
fn a_bench_that_cannot_start_fails_the_test_saying_why() {
    // PATH is the whole process's: this test changes it in a process of its own.
    support::in_own_process!(a_bench_that_cannot_start_fails_the_test_saying_why);
    std::env::set_var("PATH", "/nonexistent");
    let failed = std::panic::catch_unwind(|| Bench::start(Spec::one_yubikey()))
        .err()
        .expect("Bench::start without pcscd on PATH fails");
    let said = failed.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        said.starts_with("the bench can't start: ") && said.contains("pcscd is not on PATH"),
        "{said}"
    );
}
