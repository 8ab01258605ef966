//! The operations on a user's MFA, each holding together across IAM and a token whatever fails:
//! [`enroll`] (and root), [`resync`], [`revoke`], [`status`], [`audit`] and [`bulk`]; the
//! [`journal`]s that let a killed run be finished or undone, and [`settle`], which does it before
//! any command touches a user again; [`retire`], the one order of taking a device and its
//! credential out; [`pairing`], the one read of a user's devices and their tags.
//!
//! Nothing here prints: operations report through events and values, and ask for secrets through
//! callbacks. The words are the binary's.

pub mod audit;
pub mod bulk;
mod cancel;
mod clock;
pub mod enroll;
#[cfg(test)]
pub(crate) mod fakes;
pub mod hardware;
pub mod journal;
pub mod kind;
pub mod labels;
mod note;
pub mod pairing;
pub mod remedy;
pub mod resync;
pub mod retire;
pub mod revoke;
pub mod settle;
pub mod status;

pub use cancel::{Cancel, Signals};
pub use clock::{Clock, SystemClock};
pub use note::{Line, Note};
pub use remedy::Leftover;
