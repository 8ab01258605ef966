//! Hardware TOTP tokens (Thales, formerly Gemalto; serials such as `GAKT…`): AWS holds their
//! seed by serial and the token has no computer interface, so a person reads two consecutive
//! codes off its display. No seed passes through ykmfa and no token is written: enrolling is
//! one EnableMFADevice with the typed codes, resyncing one ResyncMFADevice, and revoking only
//! deactivates (there is no virtual device to delete; see [`crate::mfa::revoke`]).
//!
//! Each change is a single IAM call that either happens or not, so there is no journal: what a
//! lost answer did is read back from IAM before anything is said.

use std::fmt;

use zeroize::Zeroizing;

use crate::iam::{Directory, IamError, MAX_DEVICES_PER_USER};
use crate::mfa::enroll::lists;
use crate::mfa::pairing::{self, ReadError, UserDevices};

/// A hardware token's serial, as printed on its back and as IAM names the device.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct HardwareSerial(String);

/// Why a hardware serial was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SerialError {
    /// An ARN: a virtual device or a FIDO key, not a hardware token.
    #[error("'{0}' is an ARN, not a hardware token's serial (such as GAKT12345678)")]
    Arn(String),
    /// Not the shape of a serial.
    #[error(
        "'{0}' is not a hardware token's serial: 9 to 64 letters and digits, such as GAKT12345678"
    )]
    Malformed(String),
}

impl HardwareSerial {
    /// Parses a serial: 9 to 64 ASCII letters and digits (IAM's serials are at least 9 long;
    /// Thales prints letters and digits only). Surrounding blanks are dropped.
    pub fn parse(text: &str) -> Result<Self, SerialError> {
        let text = text.trim();
        if text.starts_with("arn:") {
            return Err(SerialError::Arn(text.to_owned()));
        }
        let shape =
            (9..=64).contains(&text.len()) && text.chars().all(|c| c.is_ascii_alphanumeric());
        match shape {
            true => Ok(HardwareSerial(text.to_owned())),
            false => Err(SerialError::Malformed(text.to_owned())),
        }
    }

    /// The serial.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for HardwareSerial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for HardwareSerial {
    type Err = SerialError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HardwareSerial::parse(s)
    }
}

/// Two consecutive codes read off a token's display. Kept out of every log and `Debug`: a code
/// is a sign-in factor for as long as it is valid.
pub struct Codes {
    first: Zeroizing<String>,
    second: Zeroizing<String>,
}

impl fmt::Debug for Codes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Codes(..)")
    }
}

/// Why two typed codes were refused before IAM saw them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// The first or second (1 or 2) is not six digits.
    #[error("code {0} is not six digits")]
    NotSixDigits(u8),
    /// The same code twice: the display had not changed yet.
    #[error("the two codes are the same: the second must be the next code the token shows")]
    Same,
}

impl Codes {
    /// Checks two typed codes: six digits each (blanks around them dropped), and different.
    pub fn parse(first: &str, second: &str) -> Result<Self, CodeError> {
        let six = |s: &str, n| {
            let s = s.trim();
            match s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) {
                true => Ok(Zeroizing::new(s.to_owned())),
                false => Err(CodeError::NotSixDigits(n)),
            }
        };
        let (first, second) = (six(first, 1)?, six(second, 2)?);
        if *first == *second {
            return Err(CodeError::Same);
        }
        Ok(Codes { first, second })
    }
}

/// Which change the codes are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// EnableMFADevice: the token becomes one of the user's devices.
    Enroll,
    /// ResyncMFADevice: the user's token whose clock drifted.
    Resync,
}

/// Why a hardware token's enrollment or resync did not happen. Nothing was changed, except
/// where [`HardwareError::Unclear`] says it can't tell.
#[derive(Debug, thiserror::Error)]
pub enum HardwareError {
    /// No IAM user of that name.
    #[error("IAM user '{user}' does not exist in account {account}")]
    UnknownUser {
        /// The name asked for.
        user: String,
        /// The account.
        account: String,
    },
    /// Enroll: the token is one of the user's devices already.
    #[error("hardware token {serial} is already one of {user}'s MFA devices")]
    AlreadyUsers {
        /// The token.
        serial: HardwareSerial,
        /// The user.
        user: String,
    },
    /// Resync: the token is not one of the user's devices.
    #[error("hardware token {serial} is not one of {user}'s MFA devices")]
    NotUsers {
        /// The token.
        serial: HardwareSerial,
        /// The user.
        user: String,
    },
    /// Enroll: the user has as many devices as IAM allows.
    #[error("{user} has {count} MFA devices, the most IAM allows")]
    TooManyDevices {
        /// The user.
        user: String,
        /// How many.
        count: usize,
    },
    /// IAM did not accept the codes (wrong, stale, not consecutive, or the token drifted).
    #[error("AWS did not accept the two codes; nothing was changed")]
    CodesRefused(Purpose),
    /// Enroll: AWS knows no hardware token of this serial.
    #[error("AWS knows no hardware MFA token with serial {0}")]
    UnknownSerial(HardwareSerial),
    /// Enroll: the token is assigned to another user (or another account's root).
    #[error("hardware token {0} is already assigned to another user")]
    InUse(HardwareSerial),
    /// IAM failed or refused otherwise.
    #[error(transparent)]
    Iam(#[from] IamError),
    /// The change's answer was lost and IAM's list could not tell whether it happened.
    #[error("it is unclear whether the change happened ({0})")]
    Unclear(IamError),
}

/// A user and a token, checked against IAM, ready for the codes: ask for them only now, since
/// they are good for about a minute.
#[derive(Debug)]
pub struct Ready {
    view: UserDevices,
    serial: HardwareSerial,
    purpose: Purpose,
}

/// A hardware token assigned to (or resynchronized for) a user, as IAM lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Done {
    /// The user.
    pub user: String,
    /// The account.
    pub account: String,
    /// The token's serial (IAM's device serial).
    pub device_serial: HardwareSerial,
    /// Always "hardware-totp", so scripts read it as they read `status`.
    pub device_kind: &'static str,
    /// Whether this was a resync rather than an enrollment.
    pub resynced: bool,
}

impl Done {
    /// The document `--json` prints: `ykmfa.enroll/1` with the device under `enrolled`, as a
    /// token enrollment has it; `ykmfa.resync/1` flat, as a token resync has it.
    pub fn json(&self) -> serde_json::Value {
        let me = serde_json::to_value(self).unwrap_or_default();
        match self.resynced {
            false => serde_json::json!({"schema": "ykmfa.enroll/1", "enrolled": me}),
            true => {
                let mut doc = me;
                doc["schema"] = serde_json::json!("ykmfa.resync/1");
                doc
            }
        }
    }

    /// The sentence for a person.
    pub fn text(&self) -> String {
        let (user, serial) = (&self.user, &self.device_serial);
        match self.resynced {
            true => format!("Hardware token {serial} of {user} is resynchronized: AWS accepts its codes again."),
            false => format!("{user} signs in with hardware token {serial}: a code from its display at each sign-in (check: ykmfa status --user {user})."),
        }
    }
}

/// Reads the user's devices and checks that the change can happen, before any code is asked.
pub async fn prepare<D: Directory>(
    dir: &D,
    user: &str,
    serial: HardwareSerial,
    purpose: Purpose,
) -> Result<Ready, HardwareError> {
    let view = pairing::read_user(dir, user).await.map_err(|e| match e {
        ReadError::NoSuchUser { user, account } => HardwareError::UnknownUser { user, account },
        ReadError::Iam(e) => HardwareError::Iam(e),
    })?;
    let has = view
        .devices
        .iter()
        .any(|d| d.device.serial == serial.as_str());
    let user = view.user.clone();
    match purpose {
        Purpose::Enroll if has => Err(HardwareError::AlreadyUsers { serial, user }),
        Purpose::Enroll if view.devices.len() >= MAX_DEVICES_PER_USER => {
            let count = view.devices.len();
            Err(HardwareError::TooManyDevices { user, count })
        }
        Purpose::Resync if !has => Err(HardwareError::NotUsers { serial, user }),
        _ => Ok(Ready {
            view,
            serial,
            purpose,
        }),
    }
}

impl Ready {
    /// The user.
    pub fn user(&self) -> &str {
        &self.view.user
    }

    /// The token.
    pub fn serial(&self) -> &HardwareSerial {
        &self.serial
    }

    /// How many MFA devices the user has now.
    pub fn devices(&self) -> usize {
        self.view.devices.len()
    }

    /// Sends the codes (EnableMFADevice or ResyncMFADevice), then, for an enrollment, waits
    /// until IAM lists the token as the user's: nobody is told they can sign in before that.
    pub async fn apply<D: Directory>(self, dir: &D, codes: &Codes) -> Result<Done, HardwareError> {
        let (user, serial) = (self.view.user.as_str(), self.serial.as_str());
        let (c1, c2) = (codes.first.as_str(), codes.second.as_str());
        let sent = match self.purpose {
            Purpose::Enroll => dir.enable_mfa_device(user, serial, c1, c2).await,
            Purpose::Resync => dir.resync_mfa_device(user, serial, c1, c2).await,
        };
        let done = Done {
            user: user.to_owned(),
            account: self.view.account.clone(),
            device_serial: self.serial.clone(),
            device_kind: "hardware-totp",
            resynced: self.purpose == Purpose::Resync,
        };
        let error = match (sent, self.purpose) {
            (Ok(()), Purpose::Resync) => return Ok(done),
            (Ok(()), Purpose::Enroll) => match lists(dir, user, serial).await {
                Ok(true) => return Ok(done),
                Ok(false) => IamError::NoSuchEntity {
                    action: "ListMFADevices",
                    message: format!("{serial} is not listed for {user} after enabling it"),
                },
                Err(e) => e,
            },
            (Err(e), Purpose::Resync) => return Err(self.refused(e)),
            (Err(e), Purpose::Enroll) => {
                // A lost answer, or the SDK's retry of a request that did happen (then IAM says
                // the token is in use): IAM's list of the user's devices says which.
                let lost = e.outcome_unknown();
                if !lost && !matches!(e, IamError::EntityAlreadyExists { .. }) {
                    return Err(self.refused(e));
                }
                let listed = match lost {
                    true => lists(dir, user, serial).await,
                    false => dir
                        .list_mfa_devices(Some(user))
                        .await
                        .map(|d| d.iter().any(|d| d.serial == serial)),
                };
                match listed {
                    Ok(true) => return Ok(done),
                    Ok(false) => return Err(self.refused(e)),
                    Err(_) => e,
                }
            }
        };
        Err(HardwareError::Unclear(error))
    }

    /// What IAM's refusal of the change means.
    fn refused(&self, e: IamError) -> HardwareError {
        let serial = self.serial.clone();
        match e {
            IamError::InvalidAuthenticationCode { .. } => HardwareError::CodesRefused(self.purpose),
            IamError::NoSuchEntity { .. } if self.purpose == Purpose::Enroll => {
                HardwareError::UnknownSerial(serial)
            }
            IamError::EntityAlreadyExists { .. } => HardwareError::InUse(serial),
            IamError::LimitExceeded { .. } => HardwareError::TooManyDevices {
                user: self.view.user.clone(),
                count: self.view.devices.len(),
            },
            e => HardwareError::Iam(e),
        }
    }
}

#[cfg(test)]
mod tests;
