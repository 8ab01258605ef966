//! In-memory fakes for the unit tests of the operations, written once: an IAM account that
//! fails on command ([`FakeDirectory`]), a token ([`FakeCard`]), a clock ([`FakeClock`]), a
//! progress recorder ([`Recorder`]), and the [`World`] of an enrollment that holds them.
//!
//! The fake IAM checks codes as AWS does (two consecutive TOTP codes from the device's seed, the
//! second for a step next to the current one), computed with `totp-rs`; the fake token computes
//! its codes with its own HMAC. Enabling succeeds only when the two agree.
//!
//! The world they describe: account [`ACCOUNT`], users alice and bob, and YubiKey
//! [`TOKEN_SERIAL`], on which alice's credential is [`LABEL`] for device [`DEVICE`] ([`ARN`]).

mod card;
mod clock;
mod directory;
mod world;

use std::sync::{Mutex, MutexGuard, PoisonError};

pub(crate) use card::{card_removed, FakeCard, WriteStage};
pub(crate) use clock::{FakeClock, Recorder};
pub(crate) use directory::{
    denied, no_such_entity, service_failure, timeout, Action, FakeDirectory,
};
pub(crate) use world::{undone_assignment, undone_credential, undone_device, World};

pub(crate) const ACCOUNT: &str = "123456789012";
/// Mid-step, so that T-1 and T are unambiguous.
pub(crate) const T0: u64 = 1_700_000_015;
pub(crate) const TOKEN_TAG: &str = "yk12345678";
pub(crate) const TOKEN_SERIAL: u32 = 12_345_678;
pub(crate) const DEVICE: &str = "alice-yk12345678";
pub(crate) const ARN: &str = "arn:aws:iam::123456789012:mfa/alice-yk12345678";
pub(crate) const LABEL: &str = "Amazon Web Services:alice@123456789012";

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The ARN of virtual MFA device `name` in [`ACCOUNT`].
pub(crate) fn arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:mfa/{name}")
}

/// The code AWS expects for `step`, computed independently of the token's arithmetic.
pub(crate) fn totp(seed: &[u8], step: u64) -> String {
    totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 0, 30, seed.to_vec())
        .generate(step * 30)
}
