//! Status words as a typed value, with the meaning the OATH applet gives each.

use std::fmt;

/// A status word (SW1 SW2) from a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusWord {
    /// `9000`: success.
    Ok,
    /// `61xx`: more data waits; fetch it with SEND REMAINING.
    MoreData(u8),
    /// `6581`: the card's memory failed.
    MemoryFailure,
    /// `6700`: wrong length.
    WrongLength,
    /// `6982`: security status not satisfied: a password is needed, or a touch timed out.
    AuthRequired,
    /// `6983`: authentication method blocked; the Nitrokey Secrets App also answers it to a
    /// PUT of a name that exists.
    Blocked,
    /// `6984`: no such object (credential).
    NoSuchObject,
    /// `6985`: conditions of use not satisfied.
    ConditionsNotSatisfied,
    /// `6A80`: wrong data (also a wrong password on VALIDATE).
    WrongData,
    /// `6A82`: file or application not found.
    NotFound,
    /// `6A84`: no space left on the card.
    NoSpace,
    /// `6B00`: wrong parameters P1/P2.
    WrongParameters,
    /// `6D00`: instruction not supported.
    InsNotSupported,
    /// `6E00`: class not supported.
    ClaNotSupported,
    /// `6F00`: no precise diagnosis.
    Unknown,
    /// Any other status word.
    Other(u16),
}

impl StatusWord {
    /// Decodes SW1 SW2.
    pub fn from_bytes(sw1: u8, sw2: u8) -> Self {
        match (sw1, sw2) {
            (0x90, 0x00) => Self::Ok,
            (0x61, n) => Self::MoreData(n),
            (0x65, 0x81) => Self::MemoryFailure,
            (0x67, 0x00) => Self::WrongLength,
            (0x69, 0x82) => Self::AuthRequired,
            (0x69, 0x83) => Self::Blocked,
            (0x69, 0x84) => Self::NoSuchObject,
            (0x69, 0x85) => Self::ConditionsNotSatisfied,
            (0x6A, 0x80) => Self::WrongData,
            (0x6A, 0x82) => Self::NotFound,
            (0x6A, 0x84) => Self::NoSpace,
            (0x6B, 0x00) => Self::WrongParameters,
            (0x6D, 0x00) => Self::InsNotSupported,
            (0x6E, 0x00) => Self::ClaNotSupported,
            (0x6F, 0x00) => Self::Unknown,
            (a, b) => Self::Other(u16::from_be_bytes([a, b])),
        }
    }

    /// The two bytes on the wire.
    pub fn to_u16(self) -> u16 {
        match self {
            Self::Ok => 0x9000,
            Self::MoreData(n) => 0x6100 | u16::from(n),
            Self::MemoryFailure => 0x6581,
            Self::WrongLength => 0x6700,
            Self::AuthRequired => 0x6982,
            Self::Blocked => 0x6983,
            Self::NoSuchObject => 0x6984,
            Self::ConditionsNotSatisfied => 0x6985,
            Self::WrongData => 0x6A80,
            Self::NotFound => 0x6A82,
            Self::NoSpace => 0x6A84,
            Self::WrongParameters => 0x6B00,
            Self::InsNotSupported => 0x6D00,
            Self::ClaNotSupported => 0x6E00,
            Self::Unknown => 0x6F00,
            Self::Other(sw) => sw,
        }
    }
}

impl fmt::Display for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X}", self.to_u16())
    }
}

#[cfg(test)]
mod tests;
