//! How bytes reach a token: one trait, `transmit(apdu) -> response`, and its PC/SC implementation.
//!
//! Everything above this layer is synchronous protocol logic that never knows whether it talks
//! to a USB YubiKey through pcscd or to a scripted card in a unit test.

pub mod pcsc;

/// Sends one command APDU and returns the raw response (data and status word).
pub trait Transport {
    /// Exchanges one APDU.
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError>;
}

impl<T: Transport + ?Sized> Transport for &mut T {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        (**self).transmit(command)
    }
}

/// What can go wrong between ykmfa and a token.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The PC/SC service is not running.
    #[error("the PC/SC service (pcscd) is not running")]
    NoService,
    /// The PC/SC service refused this user (polkit on Linux).
    #[error("the PC/SC service refused access (polkit denied the request)")]
    PermissionDenied,
    /// No readers are connected.
    #[error("no smart card readers or tokens are connected")]
    NoReaders,
    /// Another program holds the token exclusively.
    #[error("reader '{0}' is held by another program")]
    SharingViolation(String),
    /// The token was removed or reset during the operation.
    #[error("the token was removed during the operation")]
    CardRemoved,
    /// The reader has no card.
    #[error("reader '{0}' has no token in it")]
    NoCard(String),
    /// The reader disappeared.
    #[error("reader '{0}' is no longer available")]
    ReaderGone(String),
    /// The card did not answer in time.
    #[error("the token did not answer in time")]
    Timeout,
    /// Any other PC/SC failure, with the library's words.
    #[error("PC/SC error: {0}")]
    Other(String),
}
