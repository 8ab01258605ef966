//! Finishing or undoing an enrollment that a killed run left: the one recovery every command
//! uses, whichever journal recorded the run (`enroll`'s per-user record, `bulk apply`'s lines).
//!
//! From what the record says may exist, it looks in IAM and on the token and does the one safe
//! thing:
//! - the device is assigned to the user and the run had announced its enabling: the enrollment
//!   completed. When the token is connected it must still hold the credential that computed the
//!   codes (by its fingerprint); if it does not, that is said, never taken for success;
//! - otherwise every device that is certainly the run's (IAM answered its creation, or it carries
//!   ykmfa's tags naming the run's credential *and* token) is taken out through
//!   [`super::retire`], and the credential only once no device using it can be assigned, and
//!   only if the token proves it is the one the run wrote;
//! - a device of the planned name without any tags (tagging denied, killed before IAM's answer
//!   was recorded) may be the run's or someone's: it is reported as a possible leftover with the
//!   command that removes it, never deleted and never forgotten;
//! - nothing is done with credentials of another account.

use crate::iam::names::{TAG_CREDENTIAL, TAG_TOKEN_SERIAL};
use crate::iam::{AssignmentStatus, Directory};
use crate::mfa::Leftover;
use crate::oath::{self, Fingerprint, Proof};
use crate::token::Card;
use crate::token::Serial;

use crate::mfa::retire::{self, CredentialFate, DeviceFate};

/// What a record says a killed run may have left, in the terms of both journals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unfinished {
    /// The account id.
    pub account: String,
    /// The IAM user.
    pub user: String,
    /// The device name planned (IAM may have been given a `-2`… variant).
    pub device_name: String,
    /// Devices IAM answered the creation of: certainly the run's.
    pub created: Vec<String>,
    /// Devices whose creation was announced, by ARN: they may exist.
    pub maybe: Vec<String>,
    /// The credential's name on the token.
    pub credential: String,
    /// The token as a person recognises it.
    pub token: String,
    /// The token's serial.
    pub token_serial: Option<u32>,
    /// The write of the credential was announced: it may be on the token.
    pub written: bool,
    /// The enabling was announced: the device may be assigned.
    pub enabling: bool,
    /// The fingerprint of the secret written, when the record has one.
    pub fingerprint: Option<Fingerprint>,
}

/// What [`recover`] found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Nothing could be done: why (credentials of another account, IAM did not answer).
    pub skipped: Option<String>,
    /// The enrollment had completed: the device IAM assigned.
    pub completed: Option<String>,
    /// It completed, but the connected token does not hold the credential that computed its
    /// codes (deleted by hand, or replaced by another secret): the user can't sign in with it.
    pub credential_missing: Option<String>,
    /// What was removed, in words.
    pub removed: Vec<String>,
    /// What remains, with the commands that remove it (device before credential).
    pub leftovers: Vec<Leftover>,
    /// Devices of the planned name without ykmfa's tags: perhaps the run's, perhaps not.
    pub possible: Vec<Leftover>,
    /// What was found and left alone because it is not the run's, in words.
    pub notes: Vec<String>,
    /// The run's credential may remain on its token, which was not connected to look at.
    pub token_absent: bool,
}

impl Recovery {
    /// Whether the record must stay for a later run: something that may matter remains. An
    /// unassigned device that can't be deleted (its seed is gone: harmless, `audit` lists it),
    /// or a credential on an absent token whose device is gone (it can sign nothing), does not
    /// keep it.
    pub fn keeps_record(&self) -> bool {
        if self.skipped.is_some() {
            return true;
        }
        let devices_safe = self.leftovers.iter().all(|l| match l {
            Leftover::Device { assigned_to, .. } => assigned_to.is_none(),
            Leftover::Credential { .. } => true,
        });
        let credential_matters = !self.token_absent
            && self
                .leftovers
                .iter()
                .any(|l| matches!(l, Leftover::Credential { .. }));
        !devices_safe || credential_matters
    }

    /// Whether a leftover credential is harmless: its token was not there to look at, and no
    /// device that may use it is still assigned, so it can sign nothing.
    pub fn credential_harmless(&self) -> bool {
        self.token_absent
            && !self.leftovers.iter().any(|l| {
                matches!(
                    l,
                    Leftover::Device {
                        assigned_to: Some(_),
                        ..
                    }
                )
            })
    }

    /// The commands that remove by hand what remains and what possibly remains, in this order
    /// (device before credential).
    pub fn commands(&self) -> Vec<String> {
        let left = self.leftovers.iter().chain(&self.possible);
        left.flat_map(|l| l.commands("")).collect()
    }

    /// Whether it ended with the user enrolled and able to sign in (as far as can be seen).
    pub fn completed_and_working(&self) -> bool {
        self.completed.is_some() && self.credential_missing.is_none()
    }
}

/// A leftover credential's reason when its token was not there to look at.
const NOT_CONNECTED: &str = "the token is not connected";

/// Finishes or undoes `u`. `card` is the record's token when it is connected (it is checked).
pub async fn recover<D: Directory, C: Card>(
    dir: &D,
    card: Option<&mut C>,
    u: &Unfinished,
) -> Recovery {
    let mut out = Recovery::default();
    match dir.caller_identity().await {
        Ok(me) if me.account != u.account => {
            out.skipped = Some(format!(
                "the record is for account {}; these credentials are for {}",
                u.account, me.account
            ));
            return out;
        }
        Ok(_) => {}
        Err(e) => {
            out.skipped = Some(format!("could not ask IAM: {e}"));
            return out;
        }
    }
    let card =
        card.filter(|c| u.token_serial.is_none() || c.serial().map(|s| s.0) == u.token_serial);

    let named = |serial: &str| {
        u.created.iter().chain(&u.maybe).any(|d| d == serial)
            || serial.rsplit('/').next().is_some_and(|name| {
                name == u.device_name
                    || name
                        .strip_prefix(u.device_name.as_str())
                        .and_then(|rest| rest.strip_prefix('-'))
                        .is_some_and(|n| n.parse::<u8>().is_ok())
            })
    };
    let tag_of = |tags: &[(String, String)], k: &str| {
        tags.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let ours_by_tags = |tags: &[(String, String)]| {
        tag_of(tags, TAG_CREDENTIAL).as_deref() == Some(u.credential.as_str())
            && tag_of(tags, TAG_TOKEN_SERIAL) == u.token_serial.map(|s| s.to_string())
    };

    // Completed? A device of the run that IAM has assigned to the user.
    let assigned = match dir.list_mfa_devices(Some(&u.user)).await {
        Ok(list) => list,
        Err(e) => {
            out.skipped = Some(format!("could not list {}'s MFA devices: {e}", u.user));
            return out;
        }
    };
    let mut reused = Vec::new();
    for device in assigned.iter().filter(|d| named(&d.serial)) {
        let certain = u.created.contains(&device.serial);
        let ours = certain
            || dir
                .list_mfa_device_tags(&device.serial)
                .await
                .is_ok_and(|tags| ours_by_tags(&tags));
        if !ours {
            continue;
        }
        if !u.enabling {
            // The run never announced enabling, so it never sent an enable: an assigned device
            // of its name is not the run's (the name was freed and used again, by a person or
            // another ykmfa). It is someone's live device: never touched.
            out.notes.push(format!(
                "{} assigned to {}: not the interrupted run's (it never enabled a device), left alone",
                device.serial, u.user
            ));
            reused.push(device.serial.clone());
            continue;
        }
        out.completed = Some(device.serial.clone());
        if let Some(card) = card {
            out.credential_missing = missing(card, u);
        }
        return out;
    }

    // Not completed: undo.
    let unassigned = match dir
        .list_virtual_mfa_devices(AssignmentStatus::Unassigned)
        .await
    {
        Ok(list) => list,
        Err(e) => {
            let what = u
                .created
                .first()
                .or(u.maybe.first())
                .cloned()
                .unwrap_or_else(|| format!("(a device named {})", u.device_name));
            out.leftovers.push(Leftover::Device {
                serial: what,
                assigned_to: u.enabling.then(|| u.user.clone()),
                reason: format!("could not list unassigned devices: {e}"),
            });
            if u.written {
                out.leftovers.push(credential_left(
                    u,
                    "kept: IAM could not be asked whether its device is gone".into(),
                ));
            }
            return out;
        }
    };
    let mut candidates: Vec<String> = u
        .created
        .iter()
        .filter(|d| !reused.contains(d))
        .cloned()
        .collect();
    for d in u.maybe.iter().cloned().chain(
        unassigned
            .iter()
            .map(|d| d.serial.clone())
            .filter(|s| named(s)),
    ) {
        if !candidates.contains(&d) && !reused.contains(&d) {
            candidates.push(d);
        }
    }
    let mut credential_free = true;
    for device in candidates {
        let certain = u.created.contains(&device);
        if !certain {
            if !unassigned.iter().any(|d| d.serial == device) {
                continue;
            }
            match dir.list_mfa_device_tags(&device).await {
                Ok(tags) if ours_by_tags(&tags) => {}
                Ok(tags) if tags.iter().any(|(k, _)| k.starts_with("ykmfa:")) => continue,
                Ok(_) => {
                    out.possible.push(Leftover::Device {
                        serial: device.clone(),
                        assigned_to: None,
                        reason: "unassigned and without ykmfa's tags: perhaps left by the interrupted run, perhaps someone else's; delete it if it is not in use".into(),
                    });
                    continue;
                }
                Err(e) => {
                    out.possible.push(Leftover::Device {
                        serial: device.clone(),
                        assigned_to: None,
                        reason: format!(
                            "unassigned; its tags could not be read ({e}), so ykmfa can't tell whether the interrupted run left it"
                        ),
                    });
                    continue;
                }
            }
        }
        let retired = retire::retire_device(dir, &u.user, &device, u.enabling).await;
        if retired.deactivated {
            out.removed
                .push(format!("the assignment of {device} to {}", u.user));
        }
        match retired.fate {
            DeviceFate::Gone if retired.deactivated => {
                out.removed.push(format!("virtual MFA device {device}"))
            }
            DeviceFate::Gone => out
                .removed
                .push(format!("unassigned virtual MFA device {device}")),
            DeviceFate::Orphan(reason) => out.leftovers.push(Leftover::Device {
                serial: device,
                assigned_to: None,
                reason,
            }),
            DeviceFate::MaybeAssigned(reason) => {
                credential_free = false;
                out.leftovers.push(Leftover::Device {
                    serial: device,
                    assigned_to: Some(u.user.clone()),
                    reason: format!("may still be assigned: {reason}"),
                });
            }
        }
    }

    if !u.written {
        return out;
    }
    if !credential_free {
        out.leftovers.push(credential_left(
            u,
            format!(
                "kept: it is the only holder of the seed of a device that may still be assigned to {}; remove it only after the device",
                u.user
            ),
        ));
        return out;
    }
    let Some(card) = card else {
        out.token_absent = true;
        out.leftovers
            .push(credential_left(u, NOT_CONNECTED.to_owned()));
        return out;
    };
    let raw_id = u.credential.as_bytes();
    let fate = tokio::task::block_in_place(|| {
        retire::remove_credential(card, raw_id, u.fingerprint.as_ref())
    });
    match fate {
        CredentialFate::Deleted => out
            .removed
            .push(format!("credential '{}' on {}", u.credential, u.token)),
        CredentialFate::Absent => {}
        CredentialFate::Replaced => out.notes.push(format!(
            "the credential '{}' on {} holds another secret than the one the run wrote (a newer enrollment?): left alone",
            u.credential, u.token
        )),
        CredentialFate::Kept(reason) => out
            .leftovers
            .push(credential_left(u, format!("kept: {reason}"))),
        CredentialFate::Failed(reason) => out.leftovers.push(credential_left(u, reason)),
    }
    out
}

fn credential_left(u: &Unfinished, reason: String) -> Leftover {
    Leftover::Credential {
        name: u.credential.clone(),
        token_serial: u.token_serial.map(Serial),
        token: u.token.clone(),
        reason,
    }
}

/// Whether the connected token lacks the credential of a completed enrollment, and why.
fn missing<C: Card>(card: &mut C, u: &Unfinished) -> Option<String> {
    let raw_id = u.credential.as_bytes();
    let result = tokio::task::block_in_place(|| match &u.fingerprint {
        Some(fp) if fp.is_valid() => card.prove(raw_id, fp).map(Some),
        _ => card
            .list()
            .map(|l| l.iter().any(|c| c.raw_id == raw_id).then_some(Proof::Same)),
    });
    match result {
        Ok(Some(Proof::Same)) => None,
        Ok(Some(Proof::Different)) => Some(format!(
            "{} holds a credential '{}' with another secret than the one that enabled the device (a newer enrollment, or someone else's; 'ykmfa status --user {}' shows which device it serves)",
            u.token, u.credential, u.user
        )),
        Ok(None) | Err(oath::Error::NoSuchCredential(_)) => Some(format!(
            "{} no longer holds the credential '{}'",
            u.token, u.credential
        )),
        // Can't look (touch not given, no fingerprint support): not evidence of a loss.
        Err(_) => None,
    }
}
