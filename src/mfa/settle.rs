//! Settling what dead runs left (SIGKILL, power loss, a second Ctrl-C) before a command that
//! changes a user's MFA does its own work: `enroll`, `bulk apply`, `resync` and `revoke` all go
//! through here, with the user's lock held for their whole run.
//!
//! Each record is handed to [`super::recover`]; a record whose leftovers may still matter stays
//! (set aside when the user is enrolled again) until a later run settles it. Nothing here
//! prints: the caller tells the person what [`Settled`] says.

use crate::iam::Directory;
use crate::mfa::journal::enroll::{Entry, Journal, JournalError, Record};
use crate::token::Card;

use super::journal::recover::{recover, Recovery};

/// One record a dead run left, and what recovery found and did.
#[derive(Debug, Clone)]
pub struct Settled {
    /// The record.
    pub record: Record,
    /// What was found and done.
    pub recovery: Recovery,
    /// Whether the record stays for a later run.
    pub kept: bool,
}

/// The records dead runs left for the user whose lock is `own`, and for the tokens of
/// `serials`, each locked until it is settled.
pub struct Unsettled<'a> {
    own: &'a mut Entry,
    others: Vec<Entry>,
}

impl<'a> Unsettled<'a> {
    /// `own`'s records and other users' records naming a token in `serials`.
    pub fn find(
        journal: &Journal,
        own: &'a mut Entry,
        account: &str,
        user: &str,
        serials: &[u32],
    ) -> Result<Self, JournalError> {
        let mut others = journal.unfinished(account, user)?;
        others.retain(|e| {
            e.left()
                .iter()
                .any(|r| r.token_serial.is_some_and(|s| serials.contains(&s)))
        });
        Ok(Unsettled { own, others })
    }

    /// Whether there is nothing to settle.
    pub fn is_empty(&self) -> bool {
        self.own.left().is_empty() && self.others.is_empty()
    }

    /// The tokens the records name, so the caller can open the connected ones.
    pub fn token_serials(&self) -> Vec<u32> {
        let mut serials: Vec<u32> = std::iter::once(&*self.own)
            .chain(self.others.iter())
            .flat_map(|e| e.left().into_iter().filter_map(|r| r.token_serial))
            .collect();
        serials.sort_unstable();
        serials.dedup();
        serials
    }
}

/// Settles every record of `unsettled`; a credential only on the token among `cards` that its
/// record names. Returns what was found, record by record.
pub async fn settle<D: Directory, C: Card>(
    dir: &D,
    unsettled: Unsettled<'_>,
    cards: &mut [C],
) -> Result<Vec<Settled>, JournalError> {
    let Unsettled { own, mut others } = unsettled;
    let mut out = Vec::new();
    for entry in std::iter::once(own).chain(others.iter_mut()) {
        let records: Vec<Record> = entry.left().into_iter().cloned().collect();
        for (i, record) in records.into_iter().enumerate() {
            let wanted = record.token_serial;
            let card = cards
                .iter_mut()
                .find(|c| wanted.is_some() && c.serial().map(|s| s.0) == wanted);
            let recovery = recover(dir, card, &record.unfinished()).await;
            let kept = recovery.keeps_record();
            entry.settled(i, !kept)?;
            out.push(Settled {
                record,
                recovery,
                kept,
            });
        }
    }
    Ok(out)
}

/// Whether `settled` shows that `user`'s enrollment on the token of serial `token` had in fact
/// completed, and with which device.
pub fn completed_for<'s>(
    settled: &'s [Settled],
    user: &str,
    token: Option<u32>,
) -> Option<&'s Settled> {
    settled.iter().find(|s| {
        s.record.user == user && s.record.token_serial == token && s.recovery.completed.is_some()
    })
}
