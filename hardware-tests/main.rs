//! Opt-in tests on a real YubiKey and a real AWS sandbox account: what the bench can't show.
//!
//! - the real Management applet reports the serial the person named (and ykman agrees);
//! - AWS itself accepts the T-1/T pair ykmfa computes at once (no wait for a fresh step), and a
//!   code from the token then signs in (`sts:GetSessionToken` with that MFA device);
//! - with `YKMFA_HW_TOUCH=1`, the same with a touch-required credential and a person touching.
//!
//! They are `#[ignore]`d, so `cargo test` lists them as ignored; `cargo test --test hardware --
//! --ignored` runs them, and without `YKMFA_HW_SERIAL` and `YKMFA_HW_ACCOUNT` fails saying
//! what to set. With wrong values (the serial absent, other keys present, credentials of
//! another account) they refuse and fail before changing anything. They create only IAM users
//! (path `/ykmfa-hwtest/`), their access keys and MFA devices, and token credentials, all
//! named `ykmfa-hwtest-...`, and remove them when done, failed or not (a drop guard), plus
//! anything an earlier interrupted run left (`-- --ignored cleanup` does only that).
//! See hardware-tests/README.md.
//!
//! The same code runs on the bench on every CI run, not ignored: the gate's refusals
//! (`gate_on_bench`) and the tests themselves against a virtual YubiKey and the local IAM
//! endpoint (`flow_on_bench`).

// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod flow;
mod flow_on_bench;
mod gate;
mod gate_on_bench;

use flow::World;
use gate::Gate;

/// Opens the gate on the real token and account the variables name, and removes whatever an
/// interrupted earlier run left (under the test prefix only); then `then`.
fn on_real_hardware(then: impl FnOnce(&World)) {
    // The real run and the cleanup change the same token and account, each from a process of
    // its own: one at a time, by a lock on a file.
    let lock_path = std::env::temp_dir().join("ykmfa-hwtest.lock");
    let lock = std::fs::File::create(&lock_path)
        .unwrap_or_else(|e| panic!("{}: {e}", lock_path.display()));
    lock.lock()
        .unwrap_or_else(|e| panic!("lock {}: {e}", lock_path.display()));
    let config = match gate::from_env(|name| std::env::var(name).ok()) {
        Gate::Unset(why) => panic!("the hardware tests can't run: {why}"),
        Gate::Refuse(why) => panic!("hardware tests refused: {why}"),
        Gate::Run(config) => config,
    };
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let sdk = flow::load_sdk(&rt, &config);
    let world = World::connect(&rt, config, sdk, Vec::new())
        .unwrap_or_else(|why| panic!("hardware tests refused: {why}"));
    println!(
        "hardware: YubiKey {} and account {} ({})",
        world.config.serial, world.config.account, world.caller
    );
    world.sweep();
    then(&world);
}

#[test]
#[ignore = "needs a real YubiKey and a sandbox AWS account: set YKMFA_HW_SERIAL and YKMFA_HW_ACCOUNT, then cargo test --test hardware -- --ignored (hardware-tests/README.md)"]
fn real_yubikey_and_aws_account() {
    // A process of its own: no bench of this binary's other tests in it, only the real pcscd.
    support::in_own_process!(real_yubikey_and_aws_account);
    on_real_hardware(|world| {
        let (passed, failed, ignored) = flow::run_all(world);
        println!("hardware: {passed} passed, {failed} failed, {ignored} ignored");
        assert_eq!(failed, 0, "{failed} hardware test(s) failed (see above)");
    });
}

#[test]
#[ignore = "removes what an interrupted hardware run left: cargo test --test hardware -- --ignored cleanup"]
fn cleanup() {
    support::in_own_process!(cleanup);
    on_real_hardware(|_| {});
}
