//! The YKOATH protocol: what ykmfa says to the OATH applet of a YubiKey (and of compatible
//! tokens such as the Nitrokey 3 Secrets App).
//!
//! Pure and synchronous: it encodes commands, decodes answers and enforces the applet's limits
//! before anything is sent. It never prints and never logs a secret; secret-bearing commands are
//! marked so that even `trace` logs show only their length.

pub mod apdu;
pub mod auth;
pub mod credential;
pub mod fingerprint;
pub mod session;
pub mod status;
pub mod tlv;

use std::fmt;

pub use auth::Password;
pub use credential::{
    Algorithm, Code, Credential, CredentialData, CredentialId, OathType, TimeStep,
};
pub use fingerprint::{Fingerprint, Proof};
pub use session::{Session, Vendor};
pub use status::StatusWord;

use crate::transport::TransportError;

/// AID of the OATH applet.
pub const OATH_AID: [u8; 7] = [0xA0, 0x00, 0x00, 0x05, 0x27, 0x21, 0x01];

/// A firmware or applet version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Version(pub u8, pub u8, pub u8);

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// Everything that can go wrong talking YKOATH, in the protocol's own terms.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The link to the token failed.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The token has no OATH applet.
    #[error("the token has no OATH application")]
    NoOathApplet,
    /// The applet is password protected and no (or no valid) unlock happened in this session.
    #[error("the OATH application is password protected")]
    Locked,
    /// VALIDATE was refused: the password is wrong.
    #[error("wrong OATH password")]
    WrongPassword,
    /// The card answered VALIDATE with a proof that does not match the key: not the card we
    /// think it is, or a broken one.
    #[error("the token failed to prove it knows the password key")]
    CardAuthenticationFailed,
    /// A touch was required and did not come in time.
    #[error("the token was not touched in time")]
    TouchTimeout,
    /// No space for another credential.
    #[error("the token has no space for another credential")]
    NoSpace,
    /// The token refused another credential for lack of space, holding this many: a token
    /// that does not tell its capacity (a Nitrokey 3, a YubiKey NEO) says so only when full.
    #[error("the token is full: it refused another credential while holding {0} (it does not tell how many fit)")]
    FullAt(usize),
    /// PUT was refused because the name exists, though LIST did not show it: a Nitrokey 3 lists
    /// PIN-protected credentials only after the PIN is verified.
    #[error("the token already holds a credential named '{0}' that it does not list (a Nitrokey 3 hides PIN-protected credentials until its PIN is verified); it refused to overwrite it")]
    HiddenCredentialExists(String),
    /// The token stored a touch credential but computes its codes without a touch, or can't
    /// show whether it would (no CALCULATE ALL, and no touch asked at PUT).
    #[error("the token does not enforce touch: it computes the new credential's codes without one (or can't show that it would not); enroll without --touch, or use a token that enforces touch")]
    TouchNotEnforced,
    /// A YubiKey FIPS refuses credentials until its OATH application has a password.
    #[error("this YubiKey FIPS holds credentials only once its OATH application has a password, and that password can't be removed later; set one with: ykman{0} oath access change")]
    FipsNeedsPassword(String),
    /// The named credential is not on the token.
    #[error("no credential named '{0}' on the token")]
    NoSuchCredential(String),
    /// The credential exists already and ykmfa never overwrites one silently.
    #[error("a credential named '{0}' is already on the token")]
    CredentialExists(String),
    /// Old YubiKey firmware overwrites a credential whose name is a prefix of the new one.
    #[error("firmware {version} would overwrite credential '{existing}' when writing '{new}'")]
    PrefixCollision {
        /// The firmware.
        version: Version,
        /// The credential that would be destroyed.
        existing: String,
        /// The name being written.
        new: String,
    },
    /// The token's firmware lacks a feature.
    #[error("{feature} needs firmware {needed} or later; this token has {version}")]
    NotSupported {
        /// What was asked.
        feature: &'static str,
        /// The minimum version.
        needed: Version,
        /// The token's version.
        version: Version,
    },
    /// The token does not implement an instruction.
    #[error("the token does not support {0}")]
    Unsupported(&'static str),
    /// A credential name over the applet's limit.
    #[error("the credential name is {len} bytes; the token allows at most {max}")]
    NameTooLong {
        /// Encoded length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A name the applet would refuse or mangle.
    #[error("invalid credential name: {0}")]
    InvalidName(String),
    /// Digits outside 6..=8.
    #[error("{0} digits: codes must have 6 to 8")]
    InvalidDigits(u8),
    /// A credential without a secret.
    #[error("the credential has an empty secret")]
    EmptySecret,
    /// A command longer than a short APDU can carry.
    #[error("command data of {0} bytes does not fit one APDU (255 at most)")]
    CommandTooLong(usize),
    /// The card answered something that does not parse.
    #[error("the token sent a malformed answer: {0}")]
    Malformed(&'static str),
    /// The card answered a status word the operation does not expect.
    #[error("the token refused {operation} with status {sw}")]
    Status {
        /// What was being done.
        operation: &'static str,
        /// What the card said.
        sw: StatusWord,
    },
}
