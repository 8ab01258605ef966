//! Sentences more than one command says: the same failure in the same words, whichever command
//! meets it. Only words: each turns a typed library error (or a fact) into a [`Failure`] or a
//! line.

use ykmfa::mfa::pairing::TokenRef;
use ykmfa::mfa::remedy;
use ykmfa::token::{PresentError, Unusable};

use super::report::Exit;
use super::{Failure, Global, Output};

/// The advice when a locked token must be read.
pub(super) const GIVE_PASSWORD: &str =
    "give the OATH password with --oath-password (prompted) or YKMFA_OATH_PASSWORD";

/// The advice when no token is connected.
pub(super) const INSERT_TOKEN: &str =
    "insert your YubiKey (or Nitrokey) and try again; 'ykmfa tokens' lists what ykmfa sees";

/// ListMFADeviceTags was denied: devices are found by their credential's default name.
pub(super) const TAGS_DENIED: &str = "ykmfa's tags on the devices can't be read (iam:ListMFADeviceTags); finding the credential by its default name";

/// `" --profile NAME"` for the AWS CLI commands in advice, or nothing.
pub(super) fn profile_flag(global: &Global) -> String {
    remedy::aws_flags(global.profile.as_deref())
}

/// Arguments `ykmfa COMMAND` refuses, pointing at its help.
pub(super) fn usage(command: &str, what: impl Into<String>) -> Failure {
    Failure::new(
        Exit::Usage,
        what,
        &[&format!("see 'ykmfa {command} --help'")],
    )
}

/// A `--device` that is not a virtual MFA device's ARN (`what` says why).
pub(super) fn bad_arn(what: String) -> Failure {
    Failure::new(
        Exit::Usage,
        what,
        &["list the user's devices with: aws iam list-mfa-devices --user-name NAME"],
    )
}

/// The tokens could not be looked at or unlocked, or asking for the password failed.
pub(super) fn tokens_failure(e: PresentError<Failure>) -> Failure {
    match e {
        PresentError::Select(e) => e.into(),
        PresentError::Card(e) => e.into(),
        PresentError::Ask(f) => f,
    }
}

/// The token the plan works on was removed before the work began.
pub(super) fn no_longer_connected(token: &TokenRef, fix: &str) -> Failure {
    Failure::new(
        Exit::TokenNotFound,
        format!("{token} is no longer connected; nothing was changed"),
        &[fix],
    )
}

/// The cards ykmfa could not use, one warning each.
pub(super) fn skipped(out: &Output, unusable: &[Unusable]) {
    for u in unusable {
        out.warn(format!("skipped the card in '{}': {}", u.reader, u.reason));
    }
}
