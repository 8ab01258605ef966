//! The operations on a user's MFA that must hold together across IAM and a token, whatever
//! fails: taking a device and its credential out ([`retire`]), and finishing or undoing what a
//! killed run left ([`recover`], [`settle`]).
//!
//! Nothing here prints: callers hear what happened through the values returned.

pub mod recover;
pub mod retire;
pub mod settle;
