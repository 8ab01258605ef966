//! ykmfa: AWS IAM MFA on hardware tokens.
//!
//! The seed AWS issues for a virtual MFA device goes from the IAM API straight into the secure
//! element of a token that speaks YKOATH (YubiKey OATH, Nitrokey 3 Secrets App). No person,
//! screen, file, log or clipboard ever holds it.
//!
//! Layers, bottom up: [`transport`] moves APDUs; [`oath`] speaks the protocol; [`token`] finds
//! and identifies tokens; [`iam`] is the few IAM operations ykmfa needs; [`enrollment`] is the
//! transaction that joins them, undoing what it did on any failure; [`seed`] holds the secret in
//! between. The library never prints: the binary turns typed errors into sentences and exit
//! codes.

pub mod audit;
pub mod aws_config;
pub mod bulk;
pub mod doctor;
pub mod enrollment;
pub mod iam;
pub mod journal;
pub mod mfa;
pub mod oath;
pub mod pairing;
pub mod resync;
pub mod revocation;
pub mod seed;
pub mod status;
pub mod timestamp;
pub mod token;
pub mod transport;
