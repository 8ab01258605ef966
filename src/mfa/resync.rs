//! Resynchronizing an IAM user's MFA device: two consecutive codes from the token that holds its
//! credential, then ResyncMFADevice.
//!
//! A token has no clock, so a device "drifts" only as far as AWS's record of it goes: AWS keeps
//! a per-device offset, learnt at enable time (a pair sent late leaves the device "out of
//! sync") and reset by ResyncMFADevice. Resync tells AWS which steps the token's codes belong to
//! *by the host's clock*: a wrong host clock would be written into AWS's record, so callers
//! measure the clock against AWS's first ([`crate::iam::Directory::server_clock`]).
//!
//! Steps: [`read_user`] (who the caller is, the user, the user's devices and tags, and whether
//! `--device` is one of them), the tokens present ([`crate::token::present`]), [`choose_on`]
//! the device and its credential (pairing, then [`choose`]), and [`resync`]. Everything before
//! [`resync`] is read-only; [`resync`] is one IAM write with nothing to undo. Refusals
//! ([`Refusal`]) are decided before anything changes. `--root` takes [`root_credential`] and
//! [`console_pair`] instead: codes for the console, and no IAM call. [`resync_user`] and
//! [`console_codes`] run these in order (with the settling of dead runs), asking the caller
//! through [`Hooks`].

use crate::iam::{Directory, IamError};
use crate::mfa::pairing::{
    self, DeviceArn, Explicit, Location, Pairing, Place, ReadError, TokenRef, UserDevices, Whose,
};
use crate::mfa::Clock;
use crate::oath::{self, Code, Credential, TimeStep};
use crate::token::{Card, Token};

mod show;
mod workflow;

pub use show::clock_line;
pub use workflow::{
    console_codes, resync_user, ConsoleCodes, Done, Hooks, Look, Stopped, UserRequest,
};

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

/// Who the caller is, whether the user exists, the user's devices with their tags
/// ([`pairing::read_user`]); a user without any device is refused, and so is a `device`
/// (`--device`) that is not one of the user's.
pub async fn read_user<D: Directory>(
    dir: &D,
    user: &str,
    device: Option<&DeviceArn>,
) -> Result<UserDevices, ResyncError> {
    let view = pairing::read_user(dir, user).await.map_err(|e| match e {
        ReadError::NoSuchUser { user, account } => Refusal::UnknownUser(user, account).into(),
        ReadError::Iam(e) => ResyncError::Read(e),
    })?;
    if view.devices.is_empty() {
        return Err(Refusal::NoDevices(user.to_owned()).into());
    }
    let Some(arn) = device else {
        return Ok(view);
    };
    let (device, user) = (arn.to_string(), user.to_owned());
    let not_hers = |whose: &str| Refusal::NotUsersDevice {
        device: device.clone(),
        user: user.clone(),
        whose: whose.to_owned(),
    };
    Err(match view.whose(dir, arn).await {
        None => return Ok(view),
        Some(Whose::OtherAccount) => Refusal::OtherAccount {
            device: device.clone(),
            device_account: arn.account().to_owned(),
            account: view.account.clone(),
        },
        Some(Whose::NoSuchDevice) => Refusal::UnknownDevice(device.clone()),
        Some(Whose::Root) => not_hers("it is the root user's MFA device"),
        Some(Whose::User(owner)) => not_hers(&format!("it is assigned to IAM user {owner}")),
        Some(Whose::Nobody) => not_hers("it is assigned to nobody"),
        Some(Whose::Unsaid) => not_hers("it is not one of the user's MFA devices"),
    }
    .into())
}

/// Pairs the user's devices with the tokens present and [`choose`]s: `device` (`--device`, its
/// credential named by `label` when given), or the one device on the tokens.
pub fn choose_on(
    view: &UserDevices,
    tokens: &[Token],
    device: Option<&DeviceArn>,
    label: Option<&str>,
) -> Result<Chosen, Refusal> {
    let explicit = device.map(|d| Explicit {
        device: d.to_string(),
        credential: label.map(str::to_owned),
    });
    let paired = view.pair(tokens, explicit.as_ref());
    let refs: Vec<TokenRef> = tokens.iter().map(TokenRef::from).collect();
    choose(&paired, &view.user, device.map(DeviceArn::as_str), &refs)
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

// ---- the root user: a pair for the console ----

/// Why `resync --root` found no single root credential. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RootRefusal {
    /// No credential has the name asked for (`label`), or none is named as a root user's.
    #[error("{}", match .label {
        Some(name) => format!("no connected token holds a credential named '{name}'"),
        None => "no credential on the connected tokens is named as a root credential ('Amazon Web Services:root@ACCOUNT')".to_owned(),
    })]
    NotFound {
        /// The name asked for (`--label`).
        label: Option<String>,
        /// The AWS credentials the tokens hold, by name.
        aws: Vec<String>,
    },
    /// A token present is password protected (its credentials could be root's).
    #[error("{0} is password protected")]
    Locked(String),
    /// Several credentials could be the root user's, as `'NAME' on TOKEN`.
    #[error("{} credentials could be the root user's: {}", .0.len(), .0.join(", "))]
    Several(Vec<String>),
}

/// The root credential for the console's resync dialog: the one named `label`, or the one
/// credential whose name says it is a root user's ([`pairing::root_credentials`]). Every token
/// present must be readable.
pub fn root_credential<'a>(
    tokens: &'a [Token],
    label: Option<&str>,
) -> Result<(&'a Token, &'a Credential), RootRefusal> {
    if let Some(locked) = tokens.iter().find(|t| t.listed.is_none()) {
        return Err(RootRefusal::Locked(locked.describe()));
    }
    let all = || {
        tokens
            .iter()
            .flat_map(|t| t.listed.iter().flatten().map(move |c| (t, c)))
    };
    let found: Vec<(&Token, &Credential)> = match label {
        Some(name) => all().filter(|(_, c)| c.id.to_string() == name).collect(),
        None => pairing::root_credentials(tokens, None),
    };
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(RootRefusal::NotFound {
            label: label.map(str::to_owned),
            aws: all()
                .filter(|(_, c)| crate::mfa::labels::looks_like_aws(&c.id))
                .map(|(_, c)| c.id.to_string())
                .collect(),
        }),
        many => Err(RootRefusal::Several(
            many.iter()
                .map(|(t, c)| format!("'{}' on {}", c.id, t.describe()))
                .collect(),
        )),
    }
}

/// AWS's clock through whatever AWS credentials answer within `limit` (root's own keys are
/// rarely configured); running out of time is an error like any other.
pub async fn clock_within(
    options: crate::iam::Options,
    limit: std::time::Duration,
) -> Result<crate::iam::ClockReading, IamError> {
    let reading = async {
        crate::iam::Sdk::connect(options)
            .await?
            .server_clock()
            .await
    };
    let timeout = IamError::Timeout {
        action: "sts:GetCallerIdentity",
    };
    tokio::time::timeout(limit, reading)
        .await
        .unwrap_or(Err(timeout))
}

/// Two consecutive codes for the console's resync dialog, and until when they are valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsolePair {
    /// The codes, in the order the console asks for them.
    pub codes: [String; 2],
    /// Their time steps.
    pub steps: [u64; 2],
    /// When the second code's step ends (Unix seconds).
    pub valid_until: u64,
}

/// Computes on `card` the codes of `raw_id` for the step `now` (Unix seconds) falls in and the
/// next one; `touch` is told before each code the token waits for a touch for.
pub fn console_pair<C: Card>(
    card: &mut C,
    raw_id: &[u8],
    now: u64,
    touch: &mut dyn FnMut(),
) -> Result<ConsolePair, oath::Error> {
    let first = TimeStep::at(now, PERIOD);
    let steps = [first, first.next()];
    let [a, b] = tokio::task::block_in_place(|| card.calculate_pair(raw_id, steps, touch))?;
    Ok(ConsolePair {
        codes: [a.value, b.value],
        steps: [steps[0].0, steps[1].0],
        valid_until: steps[1].next().start(PERIOD),
    })
}

#[cfg(test)]
mod tests;
