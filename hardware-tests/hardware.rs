//! Opt-in tests on a real YubiKey and a real AWS sandbox account: what the bench can't show.
//!
//! - the real Management applet reports the serial the person named (and ykman agrees);
//! - AWS itself accepts the T-1/T pair ykmfa computes at once (no wait for a fresh step), and a
//!   code from the token then signs in (`sts:GetSessionToken` with that MFA device);
//! - with `YKMFA_HW_TOUCH=1`, the same with a touch-required credential and a person touching.
//!
//! Without `YKMFA_HW_SERIAL` and `YKMFA_HW_ACCOUNT` this prints "skipped: ..." and passes, so
//! `cargo test` stays green everywhere; with wrong values (the serial absent, other keys present,
//! credentials of another account) it refuses and fails before changing anything. It creates
//! only IAM users (path `/ykmfa-hwtest/`), their access keys and MFA devices, and token
//! credentials, all named `ykmfa-hwtest-...`, and removes them when done, failed or not (a drop
//! guard), plus anything an earlier interrupted run left (`-- --cleanup` does only that).
//! See hardware-tests/README.md.

// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod flow;
mod gate;

use std::process::ExitCode;

use flow::World;
use gate::Gate;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match gate::from_env(|name| std::env::var(name).ok()) {
        Gate::Skip(why) => {
            println!("hardware: {why}");
            println!("test result: ok. 0 passed; 0 failed; 3 ignored; 0 measured; 0 filtered out");
            return ExitCode::SUCCESS;
        }
        Gate::Refuse(why) => {
            eprintln!("hardware tests refused: {why}");
            return ExitCode::FAILURE;
        }
        Gate::Run(config) => config,
    };
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let sdk = flow::load_sdk(&rt, &config);
    let world = match World::connect(&rt, config, sdk, Vec::new()) {
        Ok(world) => world,
        Err(why) => {
            eprintln!("hardware tests refused: {why}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "hardware: YubiKey {} and account {} ({})",
        world.config.serial, world.config.account, world.caller
    );
    // Whatever an interrupted earlier run left, under our prefix only.
    world.sweep();
    if args.iter().any(|a| a == "--cleanup") {
        return ExitCode::SUCCESS;
    }

    let (passed, failed, ignored) = flow::run_all(&world);
    println!(
        "test result: {}. {passed} passed; {failed} failed; {ignored} ignored; 0 measured; 0 filtered out",
        if failed == 0 { "ok" } else { "FAILED" }
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
