//! Revocation: an MFA device taken away from an IAM user (or a member account's root user) —
//! deactivated, then deleted in IAM — and its credential deleted from the token it lives on.
//!
//! Order matters. IAM goes first and the token last: while the device is assigned, the credential
//! is the only holder of its seed, so deleting the credential first and then failing to
//! deactivate would leave an active MFA device nobody can answer (a locked-out user). The steps
//! stop at the first failure; everything not done is then a [`Leftover`] with the reason, and
//! [`Plan::finishing_command`] the command that finishes it.
//!
//! Preflight ([`UserSurvey`] for an IAM user; [`RootAccess`], [`root_plan`] and
//! [`Tokens::place_root_credential`] for a member account's root user) is read-only and refuses
//! before anything changes: a malformed or foreign device ARN, a device of another user (or of
//! root, or of nobody), the principal's last MFA device (unless allowed: the account would no
//! longer ask for MFA), and a credential whose place on the tokens is ambiguous or behind a
//! password. Which credential belongs to the device is [`crate::mfa::pairing`]'s answer; this
//! module only turns it into what will happen.
//!
//! [`revoke_user`] and [`revoke_root`] run all of it in order, asking the caller through
//! [`Hooks`]. This module never prints: it reports through [`Progress`] and [`crate::mfa::Note`],
//! and a plan, an event and an outcome say themselves in words (`show.rs`). No seed is
//! involved: revocation only deletes.

use std::time::Duration;

use crate::iam::{Directory, IamError};
use crate::mfa::pairing::{Paired, Place, TokenRef};
use crate::mfa::{remedy, Cancel, Leftover};
use crate::token::{Card, Serial};

mod preflight;
mod show;
mod workflow;

pub use preflight::{
    check_device, device_on_token, root_credential, root_plan, PreflightError, RootAccess, Target,
    Tokens, UserRequest, UserSurvey,
};
pub use workflow::{revoke_root, revoke_user, Hooks, RootRequest, Stopped};

/// Whose device is revoked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Principal {
    /// An IAM user.
    User {
        /// The user name.
        name: String,
    },
    /// The root user of a member account, through a root session.
    Root,
}

impl std::fmt::Display for Principal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Principal::User { name } => write!(f, "IAM user {name}"),
            Principal::Root => f.write_str("the root user"),
        }
    }
}

impl Principal {
    fn user_name(&self) -> Option<&str> {
        match self {
            Principal::User { name } => Some(name),
            Principal::Root => None,
        }
    }
}

/// What will happen to the device's credential on a token.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CredentialPlan {
    /// On a connected token: it will be deleted.
    Delete {
        /// The credential name.
        name: String,
        /// The token.
        token: TokenRef,
        /// The raw name bytes DELETE takes.
        #[serde(skip)]
        raw_id: Vec<u8>,
    },
    /// `--keep-credential`: left on the token.
    Keep {
        /// The credential name, when known.
        name: Option<String>,
        /// The token, when known (connected or recorded in the device's tags).
        token_serial: Option<Serial>,
    },
    /// Its token is not connected: the credential remains there.
    Remains {
        /// The credential name, when known.
        name: Option<String>,
        /// The token's serial, when the device's tags record it.
        token_serial: Option<Serial>,
    },
    /// The token its tags name is connected and no longer holds it.
    AlreadyGone {
        /// The credential name the tags record.
        name: String,
        /// The token.
        token: TokenRef,
    },
    /// Not looked for: the root user has other MFA devices (root credentials carry no record
    /// of their device, so the revoked one's can't be told apart), or tokens could not be read.
    NotLookedFor,
    /// A hardware TOTP token: AWS holds its seed, no token of ykmfa's holds a credential, and
    /// there is no virtual device to delete: the revocation only deactivates it.
    Hardware,
}

impl CredentialPlan {
    /// From pairing's answer for the device. `keep` is `--keep-credential`.
    pub fn from_place(paired: &Paired, keep: bool) -> Result<Self, Refusal> {
        let place = &paired.place;
        if keep {
            let (name, token_serial) = match place {
                Place::OnToken(l) => (Some(l.credential.to_string()), l.token.serial),
                Place::Gone { token, credential } => (Some(credential.clone()), token.serial),
                Place::NotConnected {
                    token_serial,
                    credential,
                } => (credential.clone(), *token_serial),
                Place::Unknown { .. } | Place::Ambiguous { .. } => (None, None),
            };
            return Ok(CredentialPlan::Keep { name, token_serial });
        }
        match place {
            Place::OnToken(l) => Ok(CredentialPlan::Delete {
                name: l.credential.to_string(),
                token: l.token.clone(),
                raw_id: l.raw_id.clone(),
            }),
            Place::Gone { token, credential } => Ok(CredentialPlan::AlreadyGone {
                name: credential.clone(),
                token: token.clone(),
            }),
            Place::NotConnected {
                token_serial,
                credential,
            } => Ok(CredentialPlan::Remains {
                name: credential.clone(),
                token_serial: *token_serial,
            }),
            Place::Unknown { locked } => Err(Refusal::TokenLocked {
                device: paired.serial.clone(),
                tokens: locked.clone(),
            }),
            Place::Ambiguous { candidates, rivals } => Err(Refusal::AmbiguousCredential {
                device: paired.serial.clone(),
                candidates: candidates
                    .iter()
                    .map(|l| format!("'{}' on {}", l.credential, l.token))
                    .collect(),
                rivals: rivals.clone(),
            }),
        }
    }
}

/// What will happen, after the read-only preflight.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Plan {
    /// The account the device is in.
    pub account: String,
    /// Whose device it is.
    pub principal: Principal,
    /// The device ARN.
    pub device: String,
    /// Whether it is assigned now. An unassigned device (left by an earlier run that could not
    /// delete it) is only deleted.
    pub assigned: bool,
    /// The principal's MFA devices now, any type, this one included when assigned.
    pub devices_before: usize,
    /// What happens to its credential on a token.
    pub credential: CredentialPlan,
}

impl Plan {
    /// Whether this removes the principal's last MFA device.
    pub fn removes_last(&self) -> bool {
        self.assigned && self.devices_before <= 1
    }

    /// The command that finishes what a stopped revocation of this plan left, with `aws_flags`
    /// (see [`remedy::aws_flags`]) after `aws iam …`: a device still assigned is revoked again
    /// (`ykmfa revoke`), an unassigned one deleted, a credential deleted from its token.
    pub fn finishing_command(&self, left: &Leftover, aws_flags: &str) -> String {
        match (left, &self.principal) {
            (
                Leftover::Credential {
                    name, token_serial, ..
                },
                _,
            ) => remedy::ykman_delete(name, *token_serial),
            (Leftover::Device { serial, .. }, Principal::Root) => format!(
                "ykmfa revoke --root-of {} --device {serial}{}",
                self.account,
                if self.removes_last() {
                    " --allow-last"
                } else {
                    ""
                }
            ),
            (
                Leftover::Device {
                    serial,
                    assigned_to: Some(_),
                    ..
                },
                Principal::User { name },
            ) => {
                format!("ykmfa revoke --user {name} --device {serial}")
            }
            (Leftover::Device { serial, .. }, Principal::User { .. }) => {
                remedy::aws_delete_device(serial, aws_flags)
            }
        }
    }

    /// Refuses to remove the last MFA device unless `allow_last` (`--allow-last`).
    pub fn check_last(&self, allow_last: bool) -> Result<(), Refusal> {
        if self.removes_last() && !allow_last {
            return Err(Refusal::LastDevice {
                principal: self.principal.clone(),
                device: self.device.clone(),
            });
        }
        Ok(())
    }
}

/// Reasons preflight refuses to start; nothing has changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// No such IAM user.
    #[error("IAM user '{0}' does not exist in account {1}")]
    UnknownUser(String, String),
    /// The ARN names another account than the one the credentials reach.
    #[error(
        "{device} is in account {device_account}, but these credentials are for account {account}"
    )]
    OtherAccount {
        /// The device.
        device: String,
        /// Its account.
        device_account: String,
        /// The account in use.
        account: String,
    },
    /// No virtual MFA device with that ARN exists.
    #[error("there is no virtual MFA device {0}")]
    UnknownDevice(String),
    /// The device is another user's.
    #[error("{device} is not {user}'s: it is assigned to IAM user {owner}")]
    OtherUsersDevice {
        /// The device.
        device: String,
        /// The user asked for.
        user: String,
        /// Its owner.
        owner: String,
    },
    /// The device is the account root user's.
    #[error("{device} is not {user}'s: it is the root user's MFA device")]
    RootsDevice {
        /// The device.
        device: String,
        /// The user asked for.
        user: String,
    },
    /// The device is assigned to nobody.
    #[error("{device} is not {user}'s: it is assigned to nobody")]
    Unassigned {
        /// The device.
        device: String,
        /// The user asked for.
        user: String,
    },
    /// The device is not among the user's, and IAM would not say whose it is.
    #[error("{device} is not one of {user}'s MFA devices")]
    NotUsersDevice {
        /// The device.
        device: String,
        /// The user asked for.
        user: String,
    },
    /// `--serial`: none of the user's devices lives on that token.
    #[error("none of {user}'s MFA devices has its credential on {token}")]
    NoDeviceOnToken {
        /// The user.
        user: String,
        /// The token.
        token: String,
    },
    /// `--serial`: several of the user's devices live on that token.
    #[error("{} of {user}'s MFA devices have their credential on {token}: {}", .devices.len(), .devices.join(", "))]
    SeveralOnToken {
        /// The user.
        user: String,
        /// The token.
        token: String,
        /// The devices.
        devices: Vec<String>,
    },
    /// Removing it would leave the principal without MFA.
    #[error(
        "{device} is the last MFA device of {principal}: without it, {principal} would sign in \
         with a password (or access keys) alone, and policies that require MFA could no longer \
         be met with a code"
    )]
    LastDevice {
        /// Whose.
        principal: Principal,
        /// The device.
        device: String,
    },
    /// The credential could be on a token whose credentials could not be read.
    #[error(
        "the credential of {device} may be on {}, which is password protected",
        .tokens.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    )]
    TokenLocked {
        /// The device.
        device: String,
        /// The locked tokens.
        tokens: Vec<TokenRef>,
    },
    /// Several credentials could be the device's, or other devices claim the same one.
    #[error(
        "ykmfa cannot tell which credential belongs to {device}: {}{}",
        .candidates.join(", "),
        if .rivals.is_empty() { String::new() } else { format!(" (also claimed by {})", .rivals.join(", ")) }
    )]
    AmbiguousCredential {
        /// The device.
        device: String,
        /// The possible credentials, as `'NAME' on TOKEN`.
        candidates: Vec<String>,
        /// Other devices that claim one of them.
        rivals: Vec<String>,
    },
    /// `--root-of … --device ARN` names a device that is assigned, but not to the root user.
    #[error("{device} is assigned to an IAM user of account {account}, not to the root user")]
    AssignedElsewhere {
        /// The device.
        device: String,
        /// The member account.
        account: String,
    },
    /// The member account's root user has no MFA device.
    #[error("the root user of account {0} has no MFA device")]
    NoRootMfa(String),
    /// Several credentials on the connected tokens are named as the member account's root's.
    #[error(
        "{} credentials on the connected tokens are named as the root user's of account {account}: {}",
        .candidates.len(), .candidates.join(", ")
    )]
    SeveralRootCredentials {
        /// The member account.
        account: String,
        /// The credentials, as `'NAME' on TOKEN`.
        candidates: Vec<String>,
    },
    /// The member account's root user has several MFA devices and none was named.
    #[error("the root user of account {account} has {} MFA devices: {}", .devices.len(), .devices.join(", "))]
    SeveralRootDevices {
        /// The member account.
        account: String,
        /// Its root devices.
        devices: Vec<String>,
    },
}

/// A step that changes something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Read-only checks.
    Preflight,
    /// DeactivateMFADevice.
    Deactivate,
    /// DeleteVirtualMFADevice.
    Delete,
    /// DELETE of the credential on the token.
    DeleteCredential,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Step::Preflight => "checking",
            Step::Deactivate => "deactivating the device",
            Step::Delete => "deleting the virtual MFA device",
            Step::DeleteCredential => "deleting the credential from the token",
        })
    }
}

/// Why a revocation stopped.
#[derive(Debug, thiserror::Error)]
pub enum Cause {
    /// IAM refused or failed.
    #[error("{step}: {error}")]
    Iam {
        /// Where.
        step: Step,
        /// What IAM said.
        error: IamError,
    },
    /// The token refused or failed.
    #[error("{step}: {error}")]
    Card {
        /// Where.
        step: Step,
        /// What the token said.
        error: crate::oath::Error,
    },
    /// Cancelled (Ctrl-C) between steps.
    #[error("interrupted")]
    Interrupted,
    /// Preflight found a reason not to start.
    #[error(transparent)]
    Refused(#[from] Refusal),
}

/// A revocation that did not finish: why, what was done, and what remains.
#[derive(Debug)]
pub struct Failure {
    /// Why it stopped.
    pub cause: Cause,
    /// What was done, in order.
    pub done: Vec<Step>,
    /// What remains, each with the reason.
    pub leftovers: Vec<Leftover>,
}

/// The result of a finished revocation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Revoked {
    /// The account.
    pub account: String,
    /// Whose device it was.
    pub principal: Principal,
    /// The device ARN.
    pub device: String,
    /// Whether this run deactivated it (false: it was unassigned already).
    pub deactivated: bool,
    /// Whether it is deleted.
    pub deleted: bool,
    /// What happened to the credential.
    pub credential: CredentialOutcome,
    /// The principal's MFA devices after this.
    pub devices_left: usize,
}

/// A credential a revocation left on a token that was not connected, with the command that
/// removes it once the token is back (as the JSON report's `remaining` lists it).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Remaining {
    /// Always "credential".
    pub kind: &'static str,
    /// Its name, when known.
    pub name: Option<String>,
    /// Its token's serial, when known.
    pub token_serial: Option<Serial>,
    /// The `ykman … oath accounts delete` that removes it, when its name is known.
    pub command: Option<String>,
}

impl Revoked {
    /// The credential left behind, if the revocation left one.
    pub fn remaining(&self) -> Option<Remaining> {
        let CredentialOutcome::Remains { name, token_serial } = &self.credential else {
            return None;
        };
        Some(Remaining {
            kind: "credential",
            command: name
                .as_deref()
                .map(|n| remedy::ykman_delete(n, *token_serial)),
            name: name.clone(),
            token_serial: *token_serial,
        })
    }
}

/// What happened to the device's credential.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CredentialOutcome {
    /// Deleted from the token.
    Deleted {
        /// The credential name.
        name: String,
        /// The token.
        token: TokenRef,
    },
    /// Kept, as asked.
    Kept {
        /// The credential name, when known.
        name: Option<String>,
        /// The token's serial, when known.
        token_serial: Option<Serial>,
    },
    /// Its token was not connected: it remains there.
    Remains {
        /// The credential name, when known.
        name: Option<String>,
        /// The token's serial, when known.
        token_serial: Option<Serial>,
    },
    /// It was gone already.
    AlreadyGone {
        /// The credential name.
        name: String,
        /// The token.
        token: TokenRef,
    },
    /// Not looked for.
    NotLookedFor,
    /// A hardware TOTP token: nothing on any token, and the device stays, unassigned.
    Hardware,
}

/// What a person may want to hear about while a revocation runs.
#[derive(Debug)]
pub enum Event<'a> {
    /// DeactivateMFADevice.
    Deactivating(&'a str),
    /// IAM says the device is no longer assigned, although deactivation gave no clear answer.
    AlreadyDeactivated(&'a str),
    /// DeleteVirtualMFADevice.
    Deleting(&'a str),
    /// DELETE on the token.
    DeletingCredential {
        /// The credential.
        name: &'a str,
        /// The token.
        token: &'a TokenRef,
    },
}

/// Receives [`Event`]s (the binary prints them; tests record them).
pub trait Progress: Sync {
    /// Called for each event.
    fn event(&self, event: Event<'_>);
}

/// No progress output.
pub struct Quiet;

impl Progress for Quiet {
    fn event(&self, _: Event<'_>) {}
}

/// How often DeleteVirtualMFADevice is tried while IAM still reports the device in use right
/// after it was deactivated (eventual consistency), and the first wait.
const DELETE_CONFLICT_ATTEMPTS: u32 = 4;
const DELETE_CONFLICT_DELAY: Duration = Duration::from_millis(500);

/// Runs the plan: deactivate (if assigned), delete, then delete the credential from `card` when
/// the plan says so. Stops at the first failure or at a cancellation between steps; what was not
/// done is then in [`Failure::leftovers`].
pub async fn revoke<D: Directory, C: Card>(
    dir: &D,
    card: Option<&mut C>,
    plan: &Plan,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<Revoked, Box<Failure>> {
    let mut done = Vec::new();
    match run(dir, card, plan, progress, cancel, &mut done).await {
        Ok(revoked) => Ok(revoked),
        Err((cause, leftovers)) => Err(Box::new(Failure {
            cause,
            done,
            leftovers,
        })),
    }
}

type Stop = (Cause, Vec<Leftover>);

async fn run<D: Directory, C: Card>(
    dir: &D,
    card: Option<&mut C>,
    plan: &Plan,
    progress: &dyn Progress,
    cancel: &Cancel,
    done: &mut Vec<Step>,
) -> Result<Revoked, Stop> {
    let serial = plan.device.as_str();
    let user = plan.principal.user_name();
    let owner = || match &plan.principal {
        Principal::User { name } => name.clone(),
        Principal::Root => "root".to_owned(),
    };
    let device_left = |assigned: bool, reason: String| Leftover::Device {
        serial: serial.to_owned(),
        assigned_to: assigned.then(owner),
        reason,
    };
    let credential_left = |reason: &str| match &plan.credential {
        CredentialPlan::Delete { name, token, .. } => vec![Leftover::Credential {
            name: name.clone(),
            token_serial: token.serial,
            token: token.to_string(),
            reason: reason.to_owned(),
        }],
        _ => Vec::new(),
    };
    // Everything still to do once the device is deactivated but not deleted.
    let rest = |reason: &str| {
        let mut left = vec![device_left(false, reason.to_owned())];
        left.extend(credential_left(
            "not deleted: the revocation stopped before it",
        ));
        left
    };

    if cancel.is_cancelled() {
        return Err((Cause::Interrupted, Vec::new()));
    }
    let mut deactivated = false;
    if plan.assigned {
        progress.event(Event::Deactivating(serial));
        match dir.deactivate_mfa_device(user, serial).await {
            Ok(()) => deactivated = true,
            Err(error)
                if error.outcome_unknown() || matches!(error, IamError::NoSuchEntity { .. }) =>
            {
                // A lost answer (the SDK's retry then finds it unassigned: NoSuchEntity), or
                // someone else was quicker. IAM's list says which.
                match still_assigned(dir, user, serial).await {
                    Ok(false) => {
                        progress.event(Event::AlreadyDeactivated(serial));
                        deactivated = true;
                    }
                    Ok(true) => {
                        return Err((
                            Cause::Iam {
                                step: Step::Deactivate,
                                error,
                            },
                            Vec::new(),
                        ))
                    }
                    Err(_) => {
                        let mut left = vec![device_left(
                            true,
                            format!("deactivation may or may not have happened: {error}"),
                        )];
                        left.extend(credential_left(
                            "not deleted: the device may still be assigned",
                        ));
                        return Err((
                            Cause::Iam {
                                step: Step::Deactivate,
                                error,
                            },
                            left,
                        ));
                    }
                }
            }
            Err(error) => {
                // Refused: nothing changed.
                return Err((
                    Cause::Iam {
                        step: Step::Deactivate,
                        error,
                    },
                    Vec::new(),
                ));
            }
        }
        done.push(Step::Deactivate);
        if cancel.is_cancelled() {
            return Err((
                Cause::Interrupted,
                rest("not deleted: interrupted after deactivation"),
            ));
        }
    }

    if plan.credential == CredentialPlan::Hardware {
        // Nothing to delete: the token's seed is AWS's, and the token may be enabled again.
        return Ok(Revoked {
            account: plan.account.clone(),
            principal: plan.principal.clone(),
            device: plan.device.clone(),
            deactivated,
            deleted: false,
            credential: CredentialOutcome::Hardware,
            devices_left: plan
                .devices_before
                .saturating_sub(usize::from(plan.assigned)),
        });
    }
    progress.event(Event::Deleting(serial));
    match delete_device(dir, serial, plan.assigned).await {
        Ok(()) => done.push(Step::Delete),
        // Deleted already: the lost answer of this very request, retried by the SDK.
        Err(IamError::NoSuchEntity { .. }) if plan.assigned => done.push(Step::Delete),
        // A device named by ARN that root no longer has, and that does not exist: nothing to do.
        Err(IamError::NoSuchEntity { .. }) => {
            return Err((Refusal::UnknownDevice(serial.to_owned()).into(), Vec::new()))
        }
        Err(IamError::DeleteConflict { .. }) if !plan.assigned => {
            return Err((
                Refusal::AssignedElsewhere {
                    device: serial.to_owned(),
                    account: plan.account.clone(),
                }
                .into(),
                Vec::new(),
            ))
        }
        Err(error) => {
            let reason = format!("not deleted: {error}");
            return Err((
                Cause::Iam {
                    step: Step::Delete,
                    error,
                },
                rest(&reason),
            ));
        }
    }

    let credential = match &plan.credential {
        CredentialPlan::Delete {
            name,
            token,
            raw_id,
        } => {
            if cancel.is_cancelled() {
                return Err((
                    Cause::Interrupted,
                    credential_left("not deleted: interrupted after the device was deleted"),
                ));
            }
            let Some(card) = card else {
                return Err((
                    Cause::Card {
                        step: Step::DeleteCredential,
                        error: crate::oath::Error::Transport(
                            crate::transport::TransportError::CardRemoved,
                        ),
                    },
                    credential_left("not deleted: the token was not open"),
                ));
            };
            progress.event(Event::DeletingCredential { name, token });
            match tokio::task::block_in_place(|| card.delete(raw_id)) {
                Ok(()) => {
                    done.push(Step::DeleteCredential);
                    CredentialOutcome::Deleted {
                        name: name.clone(),
                        token: token.clone(),
                    }
                }
                Err(error) => {
                    let reason = format!("not deleted: {error}");
                    return Err((
                        Cause::Card {
                            step: Step::DeleteCredential,
                            error,
                        },
                        credential_left(&reason),
                    ));
                }
            }
        }
        CredentialPlan::Keep { name, token_serial } => CredentialOutcome::Kept {
            name: name.clone(),
            token_serial: *token_serial,
        },
        CredentialPlan::Remains { name, token_serial } => CredentialOutcome::Remains {
            name: name.clone(),
            token_serial: *token_serial,
        },
        CredentialPlan::AlreadyGone { name, token } => CredentialOutcome::AlreadyGone {
            name: name.clone(),
            token: token.clone(),
        },
        CredentialPlan::NotLookedFor => CredentialOutcome::NotLookedFor,
        CredentialPlan::Hardware => CredentialOutcome::Hardware,
    };
    Ok(Revoked {
        account: plan.account.clone(),
        principal: plan.principal.clone(),
        device: plan.device.clone(),
        deactivated,
        deleted: true,
        credential,
        devices_left: plan
            .devices_before
            .saturating_sub(usize::from(plan.assigned)),
    })
}

async fn still_assigned<D: Directory>(
    dir: &D,
    user: Option<&str>,
    serial: &str,
) -> Result<bool, IamError> {
    Ok(dir
        .list_mfa_devices(user)
        .await?
        .iter()
        .any(|d| d.serial == serial))
}

/// DeleteVirtualMFADevice. `DeleteConflict` right after this run deactivated the device is IAM
/// catching up (eventual consistency), so it is tried again a few times.
async fn delete_device<D: Directory>(
    dir: &D,
    serial: &str,
    just_deactivated: bool,
) -> Result<(), IamError> {
    let mut delay = DELETE_CONFLICT_DELAY;
    let mut attempt = 1;
    loop {
        match dir.delete_virtual_mfa_device(serial).await {
            Err(IamError::DeleteConflict { .. })
                if just_deactivated && attempt < DELETE_CONFLICT_ATTEMPTS =>
            {
                tokio::time::sleep(delay).await;
                delay *= 2;
                attempt += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests;
