//! Settling what dead runs left (SIGKILL, power loss, a second Ctrl-C) before a command that
//! changes a user's MFA does its own work: `enroll`, `bulk apply`, `resync` and `revoke` all go
//! through here, with the user's lock held for their whole run.
//!
//! Each record is handed to [`super::journal::recover`]; a record whose leftovers may still
//! matter stays (set aside when the user is enrolled again) until a later run settles it.
//! Nothing here prints: the caller tells the person what [`Settled`] says, in its `lines()`.

use crate::iam::Directory;
use crate::mfa::journal::enroll::{Entry, Journal, JournalError, Record};
use crate::oath::Password;
use crate::token::{Card, PcscCard, Token};
use crate::transport::pcsc::Context;
use crate::transport::TransportError;

use super::journal::recover::{recover, Recovery};

mod session;
mod words;

pub use session::{Done, Outcome, Session, Stop, Stopped, Watch};

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

/// Why [`settle_connected`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The journal could not be read or updated.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// A token the records name could not be opened.
    #[error(transparent)]
    Transport(#[from] TransportError),
}

/// The user's lock, for a command that creates nothing a record would have to name (`resync`,
/// `revoke`): such a command can go on without the journal when it can't be used (no HOME, a
/// read-only or damaged file: `Ok(Err(why))`), but never beside another ykmfa at work on the
/// user (`Err(Busy)`).
pub fn lock_if_possible(
    account: &str,
    user: &str,
) -> Result<Result<(Journal, Entry), JournalError>, JournalError> {
    match Journal::default_location().and_then(|j| j.lock(account, user).map(|e| (j, e))) {
        Ok(lock) => Ok(Ok(lock)),
        Err(e @ JournalError::Busy(_)) => Err(e),
        Err(e) => Ok(Err(e)),
    }
}

/// Settles what dead runs left for `user` (whose lock `own` is) or on the connected `tokens`,
/// opening those the records name (with `password`). Returns what was found, record by record.
pub async fn settle_connected<D: Directory>(
    dir: &D,
    (journal, own): (&Journal, &mut Entry),
    account: &str,
    user: &str,
    tokens: &[Token],
    password: impl Fn() -> Option<Password>,
) -> Result<Vec<Settled>, Error> {
    let unsettled = Unsettled::find(journal, own, account, user, &serials(tokens))?;
    if unsettled.is_empty() {
        return Ok(Vec::new());
    }
    let wanted = unsettled.token_serials();
    let mut cards = tokens
        .iter()
        .filter(|t| t.serial.is_some_and(|s| wanted.contains(&s.0)))
        .map(|t| Ok(PcscCard::new(Context::establish()?, t.clone(), password())))
        .collect::<Result<Vec<_>, TransportError>>()?;
    Ok(settle(dir, unsettled, &mut cards).await?)
}

/// The user's lock for `resync` and `revoke`, and what was settled under it.
#[derive(Debug)]
pub struct Locked {
    /// The lock, to hold for the whole run; `None` when the journal can't be used.
    pub lock: Option<(Journal, Entry)>,
    /// Why the journal can't be used: the command goes on without it.
    pub unusable: Option<JournalError>,
    /// What was settled, record by record.
    pub settled: Vec<Settled>,
}

impl Locked {
    /// Whether anything was removed, so the caller reads IAM and the tokens again.
    pub fn changed(&self) -> bool {
        self.settled.iter().any(|s| !s.recovery.removed.is_empty())
    }

    /// The lock and [`Locked::changed`].
    pub fn parts(self) -> (Option<(Journal, Entry)>, bool) {
        let changed = self.changed();
        (self.lock, changed)
    }
}

/// For `resync` and `revoke`: takes the user's lock ([`lock_if_possible`]), then settles what
/// dead runs left for `user` or on the connected `tokens` ([`settle_connected`]).
pub async fn lock_and_settle<D: Directory>(
    dir: &D,
    account: &str,
    user: &str,
    tokens: &[Token],
    password: impl Fn() -> Option<Password>,
) -> Result<Locked, Error> {
    let (mut lock, unusable) = match lock_if_possible(account, user)? {
        Ok(lock) => (Some(lock), None),
        Err(e) => (None, Some(e)),
    };
    let settled = match lock.as_mut() {
        Some((journal, own)) => {
            settle_connected(dir, (journal, own), account, user, tokens, password).await?
        }
        None => Vec::new(),
    };
    Ok(Locked {
        lock,
        unusable,
        settled,
    })
}

/// The serials of `tokens`.
pub fn serials(tokens: &[Token]) -> Vec<u32> {
    tokens
        .iter()
        .filter_map(|t| t.serial.map(|s| s.0))
        .collect()
}

/// What dead runs left for `user` in `account` or on the tokens of `serials`, read without
/// changing anything (not even the journal's directory), for the commands that only look.
#[derive(Debug, Default)]
pub struct Peeked {
    /// The records.
    pub records: Vec<Record>,
    /// Another ykmfa is at work on the user right now.
    pub busy: bool,
    /// What could not be read.
    pub problems: Vec<JournalError>,
}

/// Reads [`Peeked`]; without a journal (no HOME), there is nothing.
pub fn peek(account: &str, user: &str, serials: &[u32]) -> Peeked {
    let mut peeked = Peeked::default();
    let Ok(journal) = Journal::default_location() else {
        return peeked;
    };
    match journal.peek(account, user) {
        Ok(found) => peeked.records.extend(found),
        Err(JournalError::Busy(_)) => peeked.busy = true,
        Err(e) => peeked.problems.push(e),
    }
    match journal.peek_unfinished(account, user) {
        Ok(others) => peeked.records.extend(
            others
                .into_iter()
                .filter(|r| r.token_serial.is_some_and(|s| serials.contains(&s))),
        ),
        Err(e) => peeked.problems.push(e),
    }
    peeked
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
