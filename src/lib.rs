//! ykmfa: AWS IAM MFA on hardware tokens.
//!
//! The seed AWS issues for a virtual MFA device goes from the IAM API straight into the secure
//! element of a token that speaks YKOATH (YubiKey OATH, Nitrokey 3 Secrets App). No person,
//! screen, file, log or clipboard ever holds it.
//!
//! Floors, bottom up, each using only the ones below it: [`transport`] moves APDUs; [`oath`]
//! speaks the protocol; [`seed`] holds the secret between IAM and the token; [`token`] finds,
//! identifies and surveys tokens and is the card port every operation uses; [`iam`] is the few
//! IAM and STS operations ykmfa needs, with the names and tags it gives devices; [`mfa`] is the
//! operations (enroll, resync, revoke, status, audit, bulk) and the journals and recovery that
//! keep them whole; [`doctor`] checks a machine and an account. The library never prints: the
//! binary turns typed errors into sentences and exit codes, laid out by [`layout`], and asks only
//! when [`terminal`] says a person is there.

pub mod aws_config;
pub mod doctor;
pub mod iam;
pub mod layout;
pub mod mfa;
pub mod oath;
pub mod seed;
pub mod terminal;
pub mod timestamp;
pub mod token;
pub mod transport;
