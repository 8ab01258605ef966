//! What a credential is: the id the applet stores (`[period/][issuer:]account`), the parameters
//! written with it, what LIST reports back, and the codes it computes.

use std::fmt;

use crate::seed::Seed;

use super::Error;

/// The applet stores names of at most 64 bytes (YKOATH; yubikit checks the same limit).
pub const MAX_ID_LEN: usize = 64;
/// The TOTP period assumed when an id carries no `period/` prefix.
pub const DEFAULT_PERIOD: u32 = 30;

/// HOTP (counter) or TOTP (time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OathType {
    /// Counter-based (RFC 4226).
    Hotp,
    /// Time-based (RFC 6238).
    Totp,
}

impl OathType {
    pub(crate) fn code(self) -> u8 {
        match self {
            OathType::Hotp => 0x10,
            OathType::Totp => 0x20,
        }
    }

    pub(crate) fn from_code(b: u8) -> Option<Self> {
        match b & 0xF0 {
            0x10 => Some(OathType::Hotp),
            0x20 => Some(OathType::Totp),
            _ => None,
        }
    }
}

/// The HMAC hash of a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Algorithm {
    /// HMAC-SHA1 (what AWS virtual MFA uses).
    Sha1,
    /// HMAC-SHA256.
    Sha256,
    /// HMAC-SHA512 (YubiKey firmware 4.3.1 and later).
    Sha512,
}

impl Algorithm {
    pub(crate) fn code(self) -> u8 {
        match self {
            Algorithm::Sha1 => 0x01,
            Algorithm::Sha256 => 0x02,
            Algorithm::Sha512 => 0x03,
        }
    }

    pub(crate) fn from_code(b: u8) -> Option<Self> {
        match b & 0x0F {
            0x01 => Some(Algorithm::Sha1),
            0x02 => Some(Algorithm::Sha256),
            0x03 => Some(Algorithm::Sha512),
            _ => None,
        }
    }

    /// The hash's block size: keys longer than this are hashed before they are stored.
    pub(crate) fn block_size(self) -> usize {
        match self {
            Algorithm::Sha1 | Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }
}

/// A credential's name on the token: `[period/][issuer:]account`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CredentialId {
    /// The issuer (shown as the service name by authenticator apps), if any.
    pub issuer: Option<String>,
    /// The account name.
    pub account: String,
    /// The TOTP period in seconds (30 unless the id says otherwise; 0 for HOTP).
    pub period: u32,
    /// The credential type the id belongs to; it decides whether a `period/` prefix is used.
    pub oath_type: OathType,
}

impl CredentialId {
    /// A TOTP id with the default 30 s period.
    pub fn totp(issuer: Option<&str>, account: &str) -> Result<Self, Error> {
        let id = CredentialId {
            issuer: issuer.map(str::to_owned),
            account: account.to_owned(),
            period: DEFAULT_PERIOD,
            oath_type: OathType::Totp,
        };
        id.validate()?;
        Ok(id)
    }

    /// Checks what the applet would refuse or mangle, before anything is sent.
    pub fn validate(&self) -> Result<(), Error> {
        if self.account.is_empty() {
            return Err(Error::InvalidName(
                "the account part of the name is empty".into(),
            ));
        }
        if let Some(issuer) = &self.issuer {
            if issuer.is_empty() || issuer.contains(':') {
                return Err(Error::InvalidName(
                    "the issuer must be non-empty and must not contain ':'".into(),
                ));
            }
        }
        if self.oath_type == OathType::Totp && self.period == 0 {
            return Err(Error::InvalidName("a TOTP period of 0 seconds".into()));
        }
        let bytes = self.to_bytes();
        if bytes.len() > MAX_ID_LEN {
            return Err(Error::NameTooLong {
                len: bytes.len(),
                max: MAX_ID_LEN,
            });
        }
        // Every client reads the name back with the same rules: an account "60/x" stored
        // without a period prefix would come back as a 60-second credential "x", and "a:b"
        // without an issuer as issuer "a". Refuse names that do not read back as written.
        let back = CredentialId::parse(&bytes, self.oath_type);
        let period_kept = self.oath_type == OathType::Hotp || back.period == self.period;
        if back.issuer != self.issuer || back.account != self.account || !period_kept {
            return Err(Error::InvalidName(format!(
                "'{self}' would read back as {}",
                back.describe()
            )));
        }
        Ok(())
    }

    /// Issuer, account and period in words, for messages.
    fn describe(&self) -> String {
        let issuer = match &self.issuer {
            Some(issuer) => format!("issuer '{issuer}', "),
            None => "no issuer, ".into(),
        };
        match self.oath_type {
            OathType::Totp => format!(
                "{issuer}account '{}', period {} s",
                self.account, self.period
            ),
            OathType::Hotp => format!("{issuer}account '{}'", self.account),
        }
    }

    /// The bytes stored on the token.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_string().into_bytes()
    }

    /// Parses an id read from the token, given the type LIST reported for it.
    pub fn parse(raw: &[u8], oath_type: OathType) -> Self {
        // Names written by other clients need not be UTF-8; show them lossily rather than fail.
        let text = String::from_utf8_lossy(raw).into_owned();
        let (period, rest) = match oath_type {
            OathType::Totp => split_period(&text),
            OathType::Hotp => (0, text.as_str()),
        };
        let (issuer, account) = match rest.split_once(':') {
            Some((issuer, account)) if !issuer.is_empty() && !account.is_empty() => {
                (Some(issuer.to_owned()), account.to_owned())
            }
            _ => (None, rest.to_owned()),
        };
        CredentialId {
            issuer,
            account,
            period,
            oath_type,
        }
    }
}

fn split_period(text: &str) -> (u32, &str) {
    if let Some((digits, rest)) = text.split_once('/') {
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && !rest.is_empty() {
            if let Ok(period) = digits.parse::<u32>() {
                if period > 0 {
                    return (period, rest);
                }
            }
        }
    }
    (DEFAULT_PERIOD, text)
}

impl fmt::Display for CredentialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.oath_type == OathType::Totp && self.period != DEFAULT_PERIOD {
            write!(f, "{}/", self.period)?;
        }
        if let Some(issuer) = &self.issuer {
            write!(f, "{issuer}:")?;
        }
        f.write_str(&self.account)
    }
}

/// Everything needed to write a credential. The secret is a [`Seed`]: never printed, zeroized.
pub struct CredentialData {
    /// The id to store.
    pub id: CredentialId,
    /// Hash algorithm.
    pub algorithm: Algorithm,
    /// Code length, 6 to 8.
    pub digits: u8,
    /// The shared secret.
    pub secret: Seed,
    /// Require a touch for every code.
    pub touch: bool,
    /// Initial moving factor (HOTP counter).
    pub counter: u32,
}

impl CredentialData {
    /// An AWS-style credential: TOTP, SHA1, 6 digits, 30 s.
    pub fn aws_totp(id: CredentialId, secret: Seed, touch: bool) -> Self {
        CredentialData {
            id,
            algorithm: Algorithm::Sha1,
            digits: 6,
            secret,
            touch,
            counter: 0,
        }
    }

    /// Checks every limit before anything is sent.
    pub fn validate(&self) -> Result<(), Error> {
        self.id.validate()?;
        if !(6..=8).contains(&self.digits) {
            return Err(Error::InvalidDigits(self.digits));
        }
        if self.secret.is_empty() {
            return Err(Error::EmptySecret);
        }
        Ok(())
    }
}

/// A credential as the token reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Credential {
    /// The parsed id.
    #[serde(serialize_with = "serialize_display")]
    pub id: CredentialId,
    /// The raw id bytes (what DELETE and CALCULATE take).
    #[serde(skip)]
    pub raw_id: Vec<u8>,
    /// Type.
    pub oath_type: OathType,
    /// Algorithm, when LIST tells it.
    pub algorithm: Option<Algorithm>,
    /// Whether a touch is required, when known (CALCULATE ALL tells it; LIST does not).
    pub touch: Option<bool>,
}

fn serialize_display<S: serde::Serializer>(v: &CredentialId, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// A TOTP time step: `floor(unix_time / period)`, the challenge a token computes a code for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeStep(pub u64);

impl TimeStep {
    /// The step that contains `unix_seconds`.
    pub fn at(unix_seconds: u64, period: u32) -> Self {
        TimeStep(unix_seconds / u64::from(period.max(1)))
    }

    /// The step before this one.
    pub fn prev(self) -> Self {
        TimeStep(self.0.saturating_sub(1))
    }

    /// The step after this one.
    pub fn next(self) -> Self {
        TimeStep(self.0.saturating_add(1))
    }

    /// Unix time at which the step begins.
    pub fn start(self, period: u32) -> u64 {
        self.0.saturating_mul(u64::from(period))
    }
}

/// A one-time code. Codes are short-lived and meant to be shown, unlike seeds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Code {
    /// The digits, zero-padded.
    pub value: String,
    /// Unix time the code becomes valid (TOTP).
    pub valid_from: u64,
    /// Unix time the code stops being valid (TOTP).
    pub valid_to: u64,
}

impl Code {
    /// Formats a truncated response (`digits || 4 bytes`) as the applet defines.
    pub fn from_truncated(resp: &[u8], step: TimeStep, period: u32) -> Result<Self, Error> {
        let [digits, a, b, c, d] = resp else {
            return Err(Error::Malformed("truncated response is not 5 bytes"));
        };
        if !(6..=10).contains(digits) {
            return Err(Error::Malformed(
                "truncated response names an impossible digit count",
            ));
        }
        let value = u32::from_be_bytes([*a, *b, *c, *d]) & 0x7FFF_FFFF;
        let modulus = 10u64.pow(u32::from(*digits));
        Ok(Code {
            value: format!(
                "{:0width$}",
                u64::from(value) % modulus,
                width = usize::from(*digits)
            ),
            valid_from: step.start(period),
            valid_to: step.next().start(period),
        })
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

#[cfg(test)]
mod tests;
