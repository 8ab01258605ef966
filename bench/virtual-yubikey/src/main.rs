//! A YubiKey 5 on the test bench: YKOATH, Management, the OTP probe and a minimal PIV, served to
//! vsmartcard's vpcd so that the real pcscd, ykman and ykmfa talk to it as to a key on USB.
//!
//! Test support only, never installed. It is an independent implementation of the card side and
//! shares no code with the ykmfa client it tests.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod apdu;
mod args;
mod card;
mod control;
mod crypto;
mod device;
mod fault;
mod identity;
mod management;
mod oath;
mod otp;
mod piv;
mod profile;
mod tlv;
mod vpcd;

use args::Parsed;
use card::{Card, Config};
use identity::Identity;
use oath::Touch;
use std::process::ExitCode;

fn main() -> ExitCode {
    let options = match args::parse(std::env::args().skip(1)) {
        Ok(Parsed::Run(options)) => options,
        Ok(Parsed::Help) => {
            print!("{}", args::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("virtual-yubikey: {e}");
            return ExitCode::from(2);
        }
    };
    let identity = Identity {
        serial: options.serial,
        version: options
            .version
            .unwrap_or_else(|| options.profile.default_version()),
        profile: options.profile,
    };
    let card = Card::new(Config {
        identity,
        capacity: options
            .capacity
            .unwrap_or_else(|| identity.default_oath_capacity()),
        max_response: options.max_response,
        touch: Touch {
            approve: options.touch_approve,
            delay_ms: options.touch_delay_ms,
        },
        verbose: options.verbose,
    });
    let device = device::Device::new(card, options.state_file.clone());
    if let Some(path) = &options.control {
        if let Err(e) = control::spawn(std::sync::Arc::clone(&device), path) {
            eprintln!("virtual-yubikey: cannot serve {}: {e}", path.display());
            return ExitCode::from(1);
        }
    }
    let addr = format!("{}:{}", options.host, options.port);
    if options.verbose {
        eprintln!(
            "virtual-yubikey: {} serial {} firmware {}, connecting to vpcd at {addr}",
            identity.profile.name(),
            identity.serial,
            identity.version_string()
        );
    }
    vpcd::run(device, addr, options.verbose);
    ExitCode::SUCCESS
}
