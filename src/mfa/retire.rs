//! Taking a virtual MFA device and its credential out, in the one order that never locks anyone
//! out: deactivate, delete the device, and only then delete the credential.
//!
//! A credential on a token is the last copy of its seed. While IAM may still have the device
//! assigned, deleting the credential leaves a user with an MFA device nobody can answer for. So:
//!
//! - an answer that says nothing happened is not proof: `NoSuchEntity` from a deactivation can
//!   mean IAM has not *yet* applied an enable whose answer was lost;
//! - `DeleteConflict` means "assigned": deactivate again and retry, a few times with backoff;
//! - the proof is IAM deleting the device (a deleted device can never be assigned), or, when
//!   IAM says there is no such device, fresh reads over several seconds that never show it;
//! - the credential goes only after that proof, and only when the token shows, by the
//!   fingerprint of its secret, that it is the credential ykmfa wrote. Anything else keeps it.
//!
//! Used by the enrollment's undo, by the recovery of a killed run, and by `bulk apply`.

use std::time::Duration;

use crate::iam::{Directory, IamError};
use crate::oath::{self, Fingerprint, Proof};
use crate::token::Card;

/// How often a device is tried again while IAM says it is assigned or gives no answer.
const ATTEMPTS: u32 = 5;

/// The first wait between tries and between the fresh reads; it doubles each time, so the
/// reads span about 7.5 s: longer than IAM takes to make a write visible to reads.
const FIRST_DELAY: Duration = if cfg!(test) {
    Duration::from_millis(2)
} else {
    Duration::from_millis(500)
};

/// What became of a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceFate {
    /// Deleted (or shown by fresh reads not to exist): nothing can sign in with it any more.
    Gone,
    /// It remains, unassigned, and nothing can assign it later (no enable of it is in flight),
    /// so its credential may go; why it could not be deleted.
    Orphan(String),
    /// It is assigned, or may be: its credential must stay. Why.
    MaybeAssigned(String),
}

impl DeviceFate {
    /// Whether its credential may be deleted.
    pub fn frees_credential(&self) -> bool {
        !matches!(self, DeviceFate::MaybeAssigned(_))
    }
}

/// What [`retire_device`] did and found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retired {
    /// A deactivation of this run was answered with success.
    pub deactivated: bool,
    /// What became of the device.
    pub fate: DeviceFate,
}

/// Deactivates (when an enable was sent: `enable_sent`) and deletes the virtual MFA device
/// `serial` of `user`, until IAM proves it gone or the tries run out.
///
/// `enable_sent` is whether an EnableMFADevice for it was answered with success or with no
/// usable answer: only then can the device be (or become) assigned, since only the token that
/// holds its seed can compute the codes an enable needs.
pub async fn retire_device<D: Directory>(
    dir: &D,
    user: &str,
    serial: &str,
    enable_sent: bool,
) -> Retired {
    let mut deactivated = false;
    let mut delay = FIRST_DELAY;
    let mut last = String::new();
    let mut deactivate = enable_sent;
    for attempt in 1..=ATTEMPTS {
        let mut refused = None;
        if deactivate {
            match dir.deactivate_mfa_device(Some(user), serial).await {
                Ok(()) => deactivated = true,
                // Not proof of anything: a lost enable may land after this answer.
                Err(IamError::NoSuchEntity { .. }) => {}
                Err(e) => refused = Some(e.to_string()),
            }
        }
        match dir.delete_virtual_mfa_device(serial).await {
            Ok(()) => {
                return Retired {
                    deactivated,
                    fate: DeviceFate::Gone,
                }
            }
            Err(IamError::NoSuchEntity { .. }) => match absent(dir, user, serial).await {
                Ok(true) => {
                    return Retired {
                        deactivated,
                        fate: DeviceFate::Gone,
                    }
                }
                Ok(false) => last = "IAM answers that it does not exist, yet lists it".into(),
                Err(e) => last = format!("could not confirm it is gone: {e}"),
            },
            Err(e @ IamError::DeleteConflict { .. }) => {
                // Assigned after all (a late enable landed): deactivate again, then retry.
                deactivate = true;
                last = match &refused {
                    Some(why) => format!("{e}; deactivating it failed: {why}"),
                    None => e.to_string(),
                };
            }
            Err(e) if e.outcome_unknown() || is_transient(&e) => last = e.to_string(),
            Err(e) => {
                // IAM refuses to delete it (e.g. a self-service policy without
                // iam:DeleteVirtualMFADevice). It stays; whether its credential may go depends
                // on whether it can be assigned.
                let reason = e.to_string();
                let fate = if !enable_sent || unassigned(dir, user, serial).await {
                    DeviceFate::Orphan(reason)
                } else {
                    DeviceFate::MaybeAssigned(reason)
                };
                return Retired { deactivated, fate };
            }
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
    }
    Retired {
        deactivated,
        fate: DeviceFate::MaybeAssigned(last),
    }
}

fn is_transient(e: &IamError) -> bool {
    matches!(
        e,
        IamError::Throttling { .. }
            | IamError::ConcurrentModification { .. }
            | IamError::EntityTemporarilyUnmodifiable { .. }
    )
}

/// Fresh reads, spread over several seconds, that never show the device: neither assigned to
/// `user` nor in the account's list. A read that lags a recent write would show it.
async fn absent<D: Directory>(dir: &D, user: &str, serial: &str) -> Result<bool, IamError> {
    let mut delay = FIRST_DELAY;
    for attempt in 1..=ATTEMPTS {
        let assigned = dir.list_mfa_devices(Some(user)).await?;
        let all = dir
            .list_virtual_mfa_devices(crate::iam::AssignmentStatus::Any)
            .await?;
        if assigned.iter().any(|d| d.serial == serial) || all.iter().any(|d| d.serial == serial) {
            return Ok(false);
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
    }
    Ok(true)
}

/// Fresh reads over several seconds that never show the device assigned to `user`.
async fn unassigned<D: Directory>(dir: &D, user: &str, serial: &str) -> bool {
    let mut delay = FIRST_DELAY;
    for attempt in 1..=ATTEMPTS {
        match dir.list_mfa_devices(Some(user)).await {
            Ok(list) if list.iter().all(|d| d.serial != serial) => {}
            _ => return false,
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
    }
    true
}

/// What became of a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialFate {
    /// Deleted from the token.
    Deleted,
    /// Not on the token (never written, or removed already).
    Absent,
    /// The name holds another secret now (re-enrolled by hand, another ykmfa, a reset token):
    /// what ykmfa wrote is gone, and the credential there is someone else's, left alone.
    Replaced,
    /// Kept on purpose; why (another credential of that name, no proof it is ykmfa's...).
    Kept(String),
    /// Could not be deleted; why (the token was pulled, refused...).
    Failed(String),
}

/// Deletes credential `raw_id` from `card` if the token proves, by `fingerprint`, that it is the
/// one ykmfa wrote. Call only once the device that uses it is proven gone or unassigned.
pub fn remove_credential<C: Card + ?Sized>(
    card: &mut C,
    raw_id: &[u8],
    fingerprint: Option<&Fingerprint>,
) -> CredentialFate {
    let Some(fingerprint) = fingerprint.filter(|f| f.is_valid()) else {
        // A record from before fingerprints: is it ours? Only a person can tell.
        return match card.list() {
            Ok(list) if !list.iter().any(|c| c.raw_id == raw_id) => CredentialFate::Absent,
            Ok(_) => CredentialFate::Kept(
                "ykmfa can't prove it is the credential it wrote (the record has no fingerprint of it)"
                    .into(),
            ),
            Err(e) => CredentialFate::Failed(e.to_string()),
        };
    };
    match card.prove(raw_id, fingerprint) {
        Ok(Proof::Same) => match card.delete(raw_id) {
            Ok(()) => CredentialFate::Deleted,
            Err(e) => CredentialFate::Failed(e.to_string()),
        },
        Ok(Proof::Different) => CredentialFate::Replaced,
        Err(oath::Error::NoSuchCredential(_)) => CredentialFate::Absent,
        Err(oath::Error::TouchTimeout) => CredentialFate::Kept(
            "the token was not touched, so it could not show it is the credential ykmfa wrote"
                .into(),
        ),
        Err(oath::Error::Unsupported(_)) => CredentialFate::Kept(
            "the token can't show whether it is the credential ykmfa wrote".into(),
        ),
        Err(e) => CredentialFate::Failed(e.to_string()),
    }
}
