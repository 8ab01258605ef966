//! ISO 7816-4 command and response APDUs as the card sees them.
//!
//! Hosts talk to a YubiKey with short APDUs at first and switch to extended ones once they know the
//! firmware (ykman does over USB), so both encodings are accepted. `Le` is ignored, as the YubiKey does:
//! long answers are cut by the applet itself (`61xx`), never by `Le`.

/// Status words the emulated applets answer.
pub mod sw {
    /// Success.
    pub const OK: u16 = 0x9000;
    /// Wrong length (malformed APDU).
    pub const WRONG_LENGTH: u16 = 0x6700;
    /// Security status not satisfied: OATH password not validated, or touch refused / timed out.
    pub const AUTH_REQUIRED: u16 = 0x6982;
    /// OATH: no such object (credential), password not set, SET CODE response mismatch.
    pub const NO_SUCH_OBJECT: u16 = 0x6984;
    /// Conditions of use not satisfied (SEND REMAINING with nothing pending).
    pub const CONDITIONS_NOT_SATISFIED: u16 = 0x6985;
    /// Wrong data (bad TLVs, wrong password on VALIDATE).
    pub const WRONG_DATA: u16 = 0x6A80;
    /// Application not found on SELECT.
    pub const FILE_NOT_FOUND: u16 = 0x6A82;
    /// No space left for another credential.
    pub const NO_SPACE: u16 = 0x6A84;
    /// Wrong P1/P2.
    pub const WRONG_P1P2: u16 = 0x6B00;
    /// Instruction not supported.
    pub const INS_NOT_SUPPORTED: u16 = 0x6D00;
    /// Class not supported.
    pub const CLA_NOT_SUPPORTED: u16 = 0x6E00;
}

/// INS of SELECT (ISO). Also the INS of OATH CALCULATE ALL, told apart by P1 = `04`.
pub const INS_SELECT: u8 = 0xA4;
/// P1 of SELECT by AID.
pub const P1_SELECT_BY_AID: u8 = 0x04;

/// A parsed command APDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Class byte.
    pub cla: u8,
    /// Instruction.
    pub ins: u8,
    /// Parameter 1.
    pub p1: u8,
    /// Parameter 2.
    pub p2: u8,
    /// Command data (empty when absent).
    pub data: Vec<u8>,
}

impl Command {
    /// Parses the four ISO cases in short and extended form. Anything else is a wrong length.
    pub fn parse(raw: &[u8]) -> Result<Command, u16> {
        if raw.len() < 4 {
            return Err(sw::WRONG_LENGTH);
        }
        let (header, body) = raw.split_at(4);
        let data = match body.len() {
            // Case 1, and case 2 short (one Le byte).
            0 | 1 => Vec::new(),
            _ if body[0] != 0 => {
                let lc = usize::from(body[0]);
                // Case 3 short, or case 4 short with a trailing Le byte.
                if body.len() == 1 + lc || body.len() == 2 + lc {
                    body[1..1 + lc].to_vec()
                } else {
                    return Err(sw::WRONG_LENGTH);
                }
            }
            // Extended: 00 then two bytes.
            3 => Vec::new(), // case 2 extended: 00 Le Le
            n if n > 3 => {
                let lc = usize::from(u16::from_be_bytes([body[1], body[2]]));
                if lc > 0 && (n == 3 + lc || n == 5 + lc) {
                    body[3..3 + lc].to_vec()
                } else {
                    return Err(sw::WRONG_LENGTH);
                }
            }
            _ => return Err(sw::WRONG_LENGTH),
        };
        Ok(Command {
            cla: header[0],
            ins: header[1],
            p1: header[2],
            p2: header[3],
            data,
        })
    }

    /// True for SELECT by AID (`00 A4 04 xx`), the one INS every applet shares.
    pub fn is_select(&self) -> bool {
        self.ins == INS_SELECT && self.p1 == P1_SELECT_BY_AID
    }
}

/// A response APDU before encoding: data, status word, and how long the card takes to give it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Response data.
    pub data: Vec<u8>,
    /// Status word.
    pub sw: u16,
    /// Time the card takes before answering (a touch), in milliseconds.
    pub delay_ms: u64,
}

impl Response {
    /// `9000` with data.
    pub fn ok(data: Vec<u8>) -> Response {
        Response {
            data,
            sw: sw::OK,
            delay_ms: 0,
        }
    }

    /// A bare status word.
    pub fn status(sw: u16) -> Response {
        Response {
            data: Vec::new(),
            sw,
            delay_ms: 0,
        }
    }

    /// Data followed by SW1 SW2, as sent on the wire.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.data.len() + 2);
        out.extend_from_slice(&self.data);
        out.extend_from_slice(&self.sw.to_be_bytes());
        out
    }
}

/// Upper-case hex without separators, for logs and JSON.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02X}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_all_short_and_extended_cases() {
        let c = Command::parse(&[0, 0xA1, 0, 0]).unwrap();
        assert_eq!((c.ins, c.data.len()), (0xA1, 0));
        let c = Command::parse(&[0, 0xFD, 0, 0, 0]).unwrap();
        assert!(c.data.is_empty());
        let c = Command::parse(&[0, 0xA4, 4, 0, 2, 0xAA, 0xBB]).unwrap();
        assert_eq!(c.data, vec![0xAA, 0xBB]);
        assert!(c.is_select());
        let c = Command::parse(&[0, 0xA4, 4, 0, 2, 0xAA, 0xBB, 0]).unwrap();
        assert_eq!(c.data, vec![0xAA, 0xBB]);
        let c = Command::parse(&[0, 0xA1, 0, 0, 0, 1, 0]).unwrap();
        assert!(c.data.is_empty());
        let c = Command::parse(&[0, 0xA2, 0, 1, 0, 0, 2, 1, 2]).unwrap();
        assert_eq!(c.data, vec![1, 2]);
        let c = Command::parse(&[0, 0xA2, 0, 1, 0, 0, 2, 1, 2, 0, 0]).unwrap();
        assert_eq!(c.data, vec![1, 2]);
    }

    #[test]
    fn rejects_inconsistent_lengths() {
        assert_eq!(Command::parse(&[0, 0xA1, 0]), Err(sw::WRONG_LENGTH));
        assert_eq!(
            Command::parse(&[0, 1, 0, 0, 5, 1, 2]),
            Err(sw::WRONG_LENGTH)
        );
        assert_eq!(Command::parse(&[0, 1, 0, 0, 0, 9]), Err(sw::WRONG_LENGTH));
        assert_eq!(
            Command::parse(&[0, 1, 0, 0, 0, 0, 5, 1]),
            Err(sw::WRONG_LENGTH)
        );
    }

    #[test]
    fn encodes_response() {
        assert_eq!(Response::ok(vec![1]).to_bytes(), vec![1, 0x90, 0]);
        assert_eq!(hex(&[0x0a, 0xff]), "0AFF");
    }
}
