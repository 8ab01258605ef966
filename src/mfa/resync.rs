//! Resynchronizing an IAM user's MFA device: two consecutive codes from the token that holds its
//! credential, then ResyncMFADevice.
//!
//! A token has no clock, so a device "drifts" only as far as AWS's record of it goes: AWS keeps
//! a per-device offset, learnt at enable time (a pair sent late leaves the device "out of
//! sync") and reset by ResyncMFADevice. Resync tells AWS which steps the token's codes belong to
//! *by the host's clock*: a wrong host clock would be written into AWS's record, so callers
//! measure the clock against AWS's first ([`crate::iam::Directory::server_clock`]).
//!
//! Steps: [`read_user`] (who the caller is, the user, the user's devices and tags), then
//! [`UserView::check_device`] for `--device`, [`crate::mfa::pairing::pair`] with the tokens present,
//! [`choose`] the device and its credential, and [`resync`]. Everything before [`resync`] is
//! read-only; [`resync`] is one IAM write with nothing to undo. Refusals ([`Refusal`]) are
//! decided before anything changes.

use crate::iam::{AssignmentStatus, Directory, IamError};
use crate::mfa::pairing::{self, Device, Location, Pairing, Place, TokenRef};
use crate::mfa::Clock;
use crate::oath::{self, Code, TimeStep};
use crate::token::Card;

/// TOTP period AWS uses.
const PERIOD: u32 = 30;

/// Why resync will not start. Nothing was changed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refusal {
    /// No such IAM user.
    #[error("IAM user '{0}' does not exist in account {1}")]
    UnknownUser(String, String),
    /// The user has no MFA device at all.
    #[error("IAM user {0} has no MFA device to resynchronize")]
    NoDevices(String),
    /// `--device` is in another account than the credentials in use.
    #[error(
        "{device} is in account {device_account}; the credentials in use are for account {account}"
    )]
    OtherAccount {
        /// The ARN.
        device: String,
        /// Its account.
        device_account: String,
        /// The caller's account.
        account: String,
    },
    /// `--device` names no device IAM knows.
    #[error("there is no virtual MFA device {0}")]
    UnknownDevice(String),
    /// `--device` is assigned to someone else, or to nobody.
    #[error("{device} is not {user}'s: {whose}")]
    NotUsersDevice {
        /// The ARN.
        device: String,
        /// The user asked for.
        user: String,
        /// Whose it is, in words ("it is assigned to IAM user bob").
        whose: String,
    },
    /// No device of the user has its credential on the tokens present.
    #[error("none of {user}'s MFA devices has its credential on {tokens}")]
    NotOnToken {
        /// The user.
        user: String,
        /// The tokens looked at, in words.
        tokens: String,
        /// Each device and where its credential is said to be (tags), for the message.
        devices: Vec<pairing::Paired>,
    },
    /// The device's tags name a connected token that no longer holds its credential.
    #[error("the credential '{credential}' of {device} is no longer on {token}")]
    CredentialGone {
        /// The device ARN.
        device: String,
        /// The token.
        token: TokenRef,
        /// The credential name the tags record.
        credential: String,
    },
    /// Several of the user's devices have credentials on the tokens present.
    #[error("{} of {user}'s MFA devices have their credential on the tokens present: {}", .devices.len(), .devices.join(", "))]
    SeveralDevices {
        /// The user.
        user: String,
        /// Their ARNs.
        devices: Vec<String>,
    },
    /// Which credential is the device's can't be told.
    #[error("which credential belongs to {device} is ambiguous: {}", describe_ambiguity(.candidates, .rivals))]
    Ambiguous {
        /// The device ARN.
        device: String,
        /// The candidate credentials, in words.
        candidates: Vec<String>,
        /// Other devices claiming them.
        rivals: Vec<String>,
    },
    /// The credential may be on a token whose OATH application is locked.
    #[error("{} is password protected, and {device}'s credential may be on it", list_tokens(.tokens))]
    Locked {
        /// The device ARN.
        device: String,
        /// The locked tokens.
        tokens: Vec<TokenRef>,
    },
    /// No token is present.
    #[error("no token is connected")]
    NoToken,
}

fn describe_ambiguity(candidates: &[String], rivals: &[String]) -> String {
    let mut text = candidates.join(", ");
    if !rivals.is_empty() {
        text.push_str(&format!(" (also claimed by {})", rivals.join(", ")));
    }
    text
}

fn list_tokens(tokens: &[TokenRef]) -> String {
    match tokens {
        [] => "no token".to_owned(),
        [one] => one.to_string(),
        many => many
            .iter()
            .map(TokenRef::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Why a resync stopped.
#[derive(Debug, thiserror::Error)]
pub enum ResyncError {
    /// Refused before anything changed.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// IAM failed while reading (nothing changed).
    #[error("{0}")]
    Read(IamError),
    /// The token failed computing the codes (nothing changed).
    #[error("computing codes on the token: {0}")]
    Card(oath::Error),
    /// AWS refused the codes: the credential does not hold this device's seed.
    #[error("AWS did not accept the codes of '{credential}' on {token} for {device}")]
    CodesRefused {
        /// The device.
        device: String,
        /// The credential.
        credential: String,
        /// The token.
        token: TokenRef,
    },
    /// ResyncMFADevice failed otherwise. When [`IamError::outcome_unknown`], it may have
    /// happened; running resync again is harmless either way.
    #[error("resynchronizing: {0}")]
    Resync(IamError),
}

/// What IAM says about the user, read once.
#[derive(Debug, Clone)]
pub struct UserView {
    /// The caller's account.
    pub account: String,
    /// The account alias, when it may be read.
    pub alias: Option<String>,
    /// The user.
    pub user: String,
    /// The user's devices with their tags.
    pub devices: Vec<Device>,
    /// Whether the tags could not be read (iam:ListMFADeviceTags denied): pairing went by label.
    pub tags_denied: bool,
}

/// Who the caller is, whether the user exists, and the user's devices with their tags.
pub async fn read_user<D: Directory>(dir: &D, user: &str) -> Result<UserView, ResyncError> {
    let who = dir.caller_identity().await.map_err(ResyncError::Read)?;
    match dir.get_user(user).await {
        Ok(_) => {}
        Err(IamError::NoSuchEntity { .. }) => {
            return Err(Refusal::UnknownUser(user.to_owned(), who.account).into())
        }
        Err(e) => return Err(ResyncError::Read(e)),
    }
    let gathered = pairing::gather(dir, user)
        .await
        .map_err(ResyncError::Read)?;
    if gathered.devices.is_empty() {
        return Err(Refusal::NoDevices(user.to_owned()).into());
    }
    // Many self-service policies don't allow ListAccountAliases: the id serves as well.
    let alias = dir.account_alias().await.ok().flatten();
    Ok(UserView {
        account: who.account,
        alias,
        user: user.to_owned(),
        devices: gathered.devices,
        tags_denied: gathered.tags_denied,
    })
}

impl UserView {
    /// Checks that `device` (from `--device`, already a well-formed ARN in account
    /// `device_account`) is one of the user's; otherwise says whose it is, when IAM may be asked.
    pub async fn check_device<D: Directory>(
        &self,
        dir: &D,
        device: &str,
        device_account: &str,
    ) -> Result<(), Refusal> {
        if device_account != self.account {
            return Err(Refusal::OtherAccount {
                device: device.to_owned(),
                device_account: device_account.to_owned(),
                account: self.account.clone(),
            });
        }
        if self.devices.iter().any(|d| d.device.serial == device) {
            return Ok(());
        }
        let not_hers = |whose: &str| Refusal::NotUsersDevice {
            device: device.to_owned(),
            user: self.user.clone(),
            whose: whose.to_owned(),
        };
        // ListVirtualMFADevices may be denied: then all that is known is "not hers".
        Err(
            match dir.list_virtual_mfa_devices(AssignmentStatus::Any).await {
                Ok(all) => match all.into_iter().find(|d| d.serial == device) {
                    None => Refusal::UnknownDevice(device.to_owned()),
                    Some(d) if d.is_root() => not_hers("it is the root user's MFA device"),
                    Some(d) => match d.user {
                        Some(owner) => not_hers(&format!("it is assigned to IAM user {owner}")),
                        None => not_hers("it is assigned to nobody"),
                    },
                },
                Err(_) => not_hers("it is not one of the user's MFA devices"),
            },
        )
    }
}

/// The device to resync and its credential.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Chosen {
    /// The device ARN.
    pub device: String,
    /// Its credential on a connected token.
    pub location: Location,
}

/// Picks the device from pairing's answer: the one `device` names, else the only one of the
/// user's devices whose credential is on the tokens present. Never guesses.
pub fn choose(
    pairing: &Pairing,
    user: &str,
    device: Option<&str>,
    tokens: &[TokenRef],
) -> Result<Chosen, Refusal> {
    let from = |p: &pairing::Paired| -> Result<Chosen, Refusal> {
        match &p.place {
            Place::OnToken(l) => Ok(Chosen {
                device: p.serial.clone(),
                location: l.clone(),
            }),
            Place::Gone { token, credential } => Err(Refusal::CredentialGone {
                device: p.serial.clone(),
                token: token.clone(),
                credential: credential.clone(),
            }),
            Place::Unknown { locked } => Err(Refusal::Locked {
                device: p.serial.clone(),
                tokens: locked.clone(),
            }),
            Place::Ambiguous { candidates, rivals } => Err(Refusal::Ambiguous {
                device: p.serial.clone(),
                candidates: candidates
                    .iter()
                    .map(|l| format!("'{}' on {}", l.credential, l.token))
                    .collect(),
                rivals: rivals.clone(),
            }),
            Place::NotConnected { .. } => Err(Refusal::NotOnToken {
                user: user.to_owned(),
                tokens: list_tokens(tokens),
                devices: vec![p.clone()],
            }),
        }
    };
    if tokens.is_empty() {
        return Err(Refusal::NoToken);
    }
    if let Some(device) = device {
        return match pairing.device(device) {
            Some(p) => from(p),
            None => Err(Refusal::NotUsersDevice {
                device: device.to_owned(),
                user: user.to_owned(),
                whose: "it is not one of the user's MFA devices".to_owned(),
            }),
        };
    }
    let on: Vec<&pairing::Paired> = pairing
        .devices
        .iter()
        .filter(|p| p.location().is_some())
        .collect();
    match on.as_slice() {
        [one] => return from(one),
        [] => {}
        many => {
            return Err(Refusal::SeveralDevices {
                user: user.to_owned(),
                devices: many.iter().map(|p| p.serial.clone()).collect(),
            })
        }
    }
    // No device is plainly on the tokens: the most telling reason wins. A credential known to
    // be gone, then a question only the person can answer, then a token that must be unlocked.
    let first = |want: fn(&Place) -> bool| pairing.devices.iter().find(|p| want(&p.place));
    if let Some(p) = first(|p| matches!(p, Place::Gone { .. })) {
        return from(p);
    }
    if let Some(p) = first(|p| matches!(p, Place::Ambiguous { .. })) {
        return from(p);
    }
    if let Some(p) = first(|p| matches!(p, Place::Unknown { .. })) {
        return from(p);
    }
    Err(Refusal::NotOnToken {
        user: user.to_owned(),
        tokens: list_tokens(tokens),
        devices: pairing.devices.clone(),
    })
}

/// A finished resync.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Resynced {
    /// The user.
    pub user: String,
    /// The device ARN.
    pub device: String,
    /// The credential whose codes were used.
    pub credential: String,
    /// The token.
    pub token: TokenRef,
    /// How the credential was found.
    pub matched_by: pairing::MatchedBy,
    /// The two time steps the codes were computed for, by the host's clock.
    pub steps: [u64; 2],
}

/// What a person may want to hear while [`resync`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The token waits for a touch for the next code.
    TouchNow,
    /// AWS refused the first pair; a fresh pair follows in this many seconds.
    WaitingForFreshSteps(u64),
}

/// Computes the codes of the previous and the current step (by `clock`) on `card` and sends
/// them with ResyncMFADevice.
///
/// The pair T-1, T, sent at once, is what AWS takes for a device in step with the host: the
/// device's recorded offset becomes zero. AWS accepts a code only once, so right after an
/// enrollment or a sign-in that pair may be used up: when AWS refuses it, the pair T+1, T+2 is
/// sent once T+2 has begun (up to a minute later), again in step. A second refusal means the
/// credential does not hold the device's seed.
pub async fn resync<D: Directory, C: Card>(
    dir: &D,
    card: &mut C,
    user: &str,
    chosen: &Chosen,
    clock: &dyn Clock,
    progress: &(dyn Fn(Event) + Sync),
) -> Result<Resynced, ResyncError> {
    let now = TimeStep::at(clock.now(), PERIOD);
    let mut steps = [now.prev(), now];
    let mut retried = false;
    loop {
        match send(dir, card, user, chosen, steps, progress).await {
            Err(Failed::Iam(IamError::InvalidAuthenticationCode { .. })) if !retried => {
                retried = true;
                steps = [now.next(), now.next().next()];
                wait_until(steps[1].start(PERIOD), clock, progress).await;
            }
            Err(Failed::Iam(IamError::InvalidAuthenticationCode { .. })) => {
                return Err(ResyncError::CodesRefused {
                    device: chosen.device.clone(),
                    credential: chosen.location.credential.to_string(),
                    token: chosen.location.token.clone(),
                })
            }
            Err(Failed::Iam(e)) => return Err(ResyncError::Resync(e)),
            Err(Failed::Card(e)) => return Err(ResyncError::Card(e)),
            Ok(()) => {
                return Ok(Resynced {
                    user: user.to_owned(),
                    device: chosen.device.clone(),
                    credential: chosen.location.credential.to_string(),
                    token: chosen.location.token.clone(),
                    matched_by: chosen.location.matched_by,
                    steps: [steps[0].0, steps[1].0],
                })
            }
        }
    }
}

/// Where one attempt failed.
enum Failed {
    Card(oath::Error),
    Iam(IamError),
}

/// One attempt: the codes of `steps` on the card, then ResyncMFADevice.
async fn send<D: Directory, C: Card>(
    dir: &D,
    card: &mut C,
    user: &str,
    chosen: &Chosen,
    steps: [TimeStep; 2],
    progress: &(dyn Fn(Event) + Sync),
) -> Result<(), Failed> {
    let raw_id = &chosen.location.raw_id;
    let codes: [Code; 2] = tokio::task::block_in_place(|| {
        card.calculate_pair(raw_id, steps, &mut || progress(Event::TouchNow))
    })
    .map_err(Failed::Card)?;
    dir.resync_mfa_device(user, &chosen.device, &codes[0].value, &codes[1].value)
        .await
        .map_err(Failed::Iam)
}

async fn wait_until(when: u64, clock: &dyn Clock, progress: &(dyn Fn(Event) + Sync)) {
    // A second of margin past the boundary, so a slightly slow host clock still lands inside.
    let target = when + 1;
    let secs = target.saturating_sub(clock.now());
    progress(Event::WaitingForFreshSteps(secs));
    for _ in 0..secs * 10 {
        if clock.now() >= target {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[cfg(test)]
mod tests;
