//! Command and response APDUs (ISO 7816-4 short form, as the OATH applet speaks it).

use std::fmt;

use super::status::StatusWord;
use super::Error;

/// A command APDU. `sensitive` marks commands whose data carries a secret (PUT, VALIDATE,
/// SET CODE, PIN): their data is never logged, at any level.
#[derive(Clone, PartialEq, Eq)]
pub struct Command {
    /// Class byte.
    pub cla: u8,
    /// Instruction byte.
    pub ins: u8,
    /// Parameter 1.
    pub p1: u8,
    /// Parameter 2.
    pub p2: u8,
    /// Command data (at most 255 bytes; longer data is refused by [`Command::to_bytes`]).
    pub data: zeroize::Zeroizing<Vec<u8>>,
    /// Whether the data must be redacted from logs.
    pub sensitive: bool,
}

impl Command {
    /// A command with no secret in its data.
    pub fn new(ins: u8, p1: u8, p2: u8, data: Vec<u8>) -> Self {
        Command {
            cla: 0x00,
            ins,
            p1,
            p2,
            data: zeroize::Zeroizing::new(data),
            sensitive: false,
        }
    }

    /// A command whose data carries a secret.
    pub fn secret(ins: u8, p1: u8, p2: u8, data: Vec<u8>) -> Self {
        Command {
            sensitive: true,
            ..Command::new(ins, p1, p2, data)
        }
    }

    /// The SELECT-by-AID command.
    pub fn select(aid: &[u8]) -> Self {
        Command::new(0xA4, 0x04, 0x00, aid.to_vec())
    }

    /// Encodes the command with `Le = 00` (up to 256 bytes back); the buffer is zeroized when
    /// dropped.
    ///
    /// YubiKeys ignore Le, but the Nitrokey Secrets App answers a command without Le with `61xx`
    /// and no data at all, so every command carries it.
    pub fn to_bytes(&self) -> Result<zeroize::Zeroizing<Vec<u8>>, Error> {
        let len =
            u8::try_from(self.data.len()).map_err(|_| Error::CommandTooLong(self.data.len()))?;
        let mut out = zeroize::Zeroizing::new(Vec::with_capacity(6 + self.data.len()));
        out.extend_from_slice(&[self.cla, self.ins, self.p1, self.p2]);
        if len > 0 {
            out.push(len);
            out.extend_from_slice(&self.data);
        }
        out.push(0x00);
        Ok(out)
    }
}

/// Logs show the header and, for non-sensitive commands, the data; sensitive data is replaced
/// by its length so a trace can still be read without carrying the secret.
impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02X} {:02X} {:02X} {:02X}",
            self.cla, self.ins, self.p1, self.p2
        )?;
        if self.data.is_empty() {
            Ok(())
        } else if self.sensitive {
            write!(f, " [{} bytes redacted]", self.data.len())
        } else {
            write!(f, " {}", hex(&self.data))
        }
    }
}

/// A response APDU: data and status word.
#[derive(Clone, PartialEq, Eq)]
pub struct Response {
    /// Response data (without the status word).
    pub data: Vec<u8>,
    /// The status word.
    pub sw: StatusWord,
}

impl Response {
    /// Splits raw response bytes into data and status word.
    pub fn parse(raw: &[u8]) -> Result<Self, Error> {
        if raw.len() < 2 {
            return Err(Error::Malformed("response shorter than a status word"));
        }
        let (data, sw) = raw.split_at(raw.len() - 2);
        Ok(Response {
            data: data.to_vec(),
            sw: StatusWord::from_bytes(sw[0], sw[1]),
        })
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({} bytes)", self.sw, self.data.len())
    }
}

/// Upper-case hex without separators, for logs and ids.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02X}");
    }
    s
}

#[cfg(test)]
mod tests;
