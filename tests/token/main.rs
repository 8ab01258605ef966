//! The token side of ykmfa on the bench: the OATH client against the virtual YubiKey and the
//! Nitrokey Secrets App card through the real pcscd (`conformance`), the cross-checks with
//! Yubico's own client (`ykman`), `ykmfa tokens`, an enrollment through the Nitrokey, and the
//! fuzzing of every parser that reads what a token answers (`fuzz`).
//!
//! One test binary, each former binary a module. libpcsclite binds one pcscd per process, so
//! the modules that talk PC/SC in this process share one bench ([`shared_bench`]); a test that
//! needs another runs in a process of its own (`support::in_own_process!`).

mod conformance;
mod enroll_nitrokey;
mod fuzz;
mod profiles;
mod tokens;
mod ykman;

use std::sync::{Mutex, MutexGuard};

use support::{Bench, Spec, YubiKeySpec};
use ykmfa::oath::Algorithm;

/// The virtual YubiKey most tests use (`ykman`'s too).
const MAIN_SERIAL: u32 = 31_000_001;
/// Firmware 5.2.7: before RENAME (5.3.1).
const OLD_SERIAL: u32 = 31_000_002;
/// Answers in 16-byte pieces, so even SELECT can need SEND REMAINING.
const SMALL_SERIAL: u32 = 31_000_003;
const SMALL_PIECE: usize = 16;
/// The Nitrokey card's default serial (SELECT tag `8F`).
const NITROKEY_SERIAL: u32 = 0x1234_5678;

/// The bench of this process: the main virtual YubiKey, an old one, one that answers in small
/// pieces, and the Nitrokey Secrets App. `conformance` and `ykman` use it, one test at a time
/// ([`one_at_a_time`]), each from a freshly reset applet.
fn shared_bench() -> &'static Bench {
    Bench::shared(|| Spec {
        yubikeys: vec![
            YubiKeySpec {
                serial: MAIN_SERIAL,
                ..YubiKeySpec::default()
            },
            YubiKeySpec {
                serial: OLD_SERIAL,
                version: "5.2.7",
                ..YubiKeySpec::default()
            },
            YubiKeySpec {
                serial: SMALL_SERIAL,
                max_response: Some(SMALL_PIECE),
                ..YubiKeySpec::default()
            },
        ],
        nitrokey: true,
        iam: false,
    })
}

/// The shared bench, for one test at a time: tests reset the cards, pull them out and arm their
/// faults.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The code totp-rs computes (an implementation independent of ykmfa and of the cards).
fn reference(algorithm: Algorithm, digits: u8, period: u64, secret: &[u8], time: u64) -> String {
    let algorithm = match algorithm {
        Algorithm::Sha1 => totp_rs::Algorithm::SHA1,
        Algorithm::Sha256 => totp_rs::Algorithm::SHA256,
        Algorithm::Sha512 => totp_rs::Algorithm::SHA512,
    };
    totp_rs::TOTP::new_unchecked(algorithm, usize::from(digits), 0, period, secret.to_vec())
        .generate(time)
}
