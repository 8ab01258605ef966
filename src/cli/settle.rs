//! What interrupted enrollments left (SIGKILL, power loss, a second Ctrl-C), settled by the next
//! command that touches the same user or token.
//!
//! The commands that change things (`enroll`, `resync`, `revoke`) settle: they take the user's
//! lock for their whole run, then [`settle`] undoes what the enrollment journal names (or finds
//! that it had completed) and says what it found and did. The commands that only look (`status`,
//! `revoke --dry-run`) [`report`] the same records and name the command that settles them,
//! changing nothing, not even the journal's directory.

use ykmfa::enrollment::journal::{self, Entry, Journal, JournalError, Record, Stage};
use ykmfa::enrollment::{Card, Leftover, PcscCard};
use ykmfa::iam::Directory;
use ykmfa::oath::Password;
use ykmfa::token::Token;
use ykmfa::transport::pcsc::Context;

use super::report::Exit;
use super::{Failure, Output};

/// The enrollment journal in its usual place, and the user's lock in it.
pub(super) fn lock(account: &str, user: &str) -> Result<(Journal, Entry), Failure> {
    let journal = Journal::default_location().map_err(failure)?;
    let entry = journal.lock(account, user).map_err(failure)?;
    Ok((journal, entry))
}

/// For `resync` and `revoke`: takes the user's lock (to hold for the whole run), then settles
/// what dead runs left for `user` or on the connected `tokens`. Returns the lock and whether
/// anything was removed, so the caller reads IAM and the tokens again.
pub(super) async fn lock_and_settle<D: Directory>(
    out: &Output,
    dir: &D,
    account: &str,
    user: &str,
    tokens: &[Token],
    password: impl Fn() -> Option<Password>,
) -> Result<(Option<(Journal, Entry)>, bool), Failure> {
    let mut lock = lock_if_possible(out, account, user)?;
    let changed = match lock.as_mut() {
        Some((journal, own)) => {
            settle_connected(out, dir, (journal, own), account, user, tokens, password).await?
        }
        None => false,
    };
    Ok((lock, changed))
}

/// The user's lock when the journal can be used. These commands create nothing a record would
/// have to name, so a journal that can't be used (no HOME, a read-only or damaged file) is
/// warned about and they go on without it; another ykmfa at work on the user is refused.
fn lock_if_possible(
    out: &Output,
    account: &str,
    user: &str,
) -> Result<Option<(Journal, Entry)>, Failure> {
    match Journal::default_location().and_then(|j| j.lock(account, user).map(|e| (j, e))) {
        Ok(lock) => Ok(Some(lock)),
        Err(e @ JournalError::Busy(_)) => Err(failure(e)),
        Err(e) => {
            out.warn(format!(
                "{e}. Going on without it: an enrollment a killed run left is not settled now, and another ykmfa is not kept off {user} meanwhile"
            ));
            Ok(None)
        }
    }
}

/// Records dead runs left for the user whose lock is `own`, and for the tokens in `serials`,
/// each locked until it is settled.
pub(super) struct Unfinished<'a> {
    own: &'a mut Entry,
    others: Vec<Entry>,
}

impl<'a> Unfinished<'a> {
    /// `own`'s record (if a dead run left one) and other users' records naming a token in
    /// `serials`.
    pub(super) fn find(
        journal: &Journal,
        own: &'a mut Entry,
        account: &str,
        user: &str,
        serials: &[u32],
    ) -> Result<Self, Failure> {
        let mut others = journal.unfinished(account, user).map_err(failure)?;
        others.retain(|e| {
            e.left()
                .and_then(|r| r.token_serial)
                .is_some_and(|s| serials.contains(&s))
        });
        Ok(Unfinished { own, others })
    }

    /// Whether there is nothing to settle.
    pub(super) fn is_empty(&self) -> bool {
        self.own.left().is_none() && self.others.is_empty()
    }

    /// The tokens the records name, so the caller can open the connected ones.
    pub(super) fn token_serials(&self) -> Vec<u32> {
        let mut serials: Vec<u32> = std::iter::once(&*self.own)
            .chain(self.others.iter())
            .filter_map(|e| e.left().and_then(|r| r.token_serial))
            .collect();
        serials.sort_unstable();
        serials.dedup();
        serials
    }
}

/// Settles what dead runs left for `user` (whose lock `own` is) or on the connected `tokens`,
/// opening those the records name. Returns whether anything was removed.
async fn settle_connected<D: Directory>(
    out: &Output,
    dir: &D,
    (journal, own): (&Journal, &mut Entry),
    account: &str,
    user: &str,
    tokens: &[Token],
    password: impl Fn() -> Option<Password>,
) -> Result<bool, Failure> {
    let unfinished = Unfinished::find(journal, own, account, user, &serials(tokens))?;
    if unfinished.is_empty() {
        return Ok(false);
    }
    let mut cards = cards(tokens, &unfinished.token_serials(), password)?;
    Ok(settle(out, dir, unfinished, &mut cards).await?.changed)
}

/// The connected tokens among `tokens` whose serial is in `serials`, opened for settling.
fn cards(
    tokens: &[Token],
    serials: &[u32],
    password: impl Fn() -> Option<Password>,
) -> Result<Vec<PcscCard>, Failure> {
    tokens
        .iter()
        .filter(|t| t.serial.is_some_and(|s| serials.contains(&s.0)))
        .map(|t| Ok(PcscCard::new(Context::establish()?, t.clone(), password())))
        .collect()
}

/// The serials of `tokens`.
pub(super) fn serials(tokens: &[Token]) -> Vec<u32> {
    tokens
        .iter()
        .filter_map(|t| t.serial.map(|s| s.0))
        .collect()
}

/// What [`settle`] found.
#[derive(Debug, Default)]
pub(super) struct Settled {
    /// Records whose enrollment had in fact completed, with the device IAM assigned.
    pub completed: Vec<(Record, String)>,
    /// Whether anything was removed (so what the caller read before may be out of date).
    pub changed: bool,
}

/// Settles every record in `unfinished`: an enrollment that reached IAM's assignment is
/// complete; anything else is undone, a credential only on the token of `cards` its record names.
/// Prints what it found and did; what can't be removed is reported with its command, and the
/// record is closed (a device that can't be deleted is unassigned and its seed is gone: harmless,
/// and `ykmfa audit` lists it as an orphan).
pub(super) async fn settle<D: Directory, C: Card>(
    out: &Output,
    dir: &D,
    unfinished: Unfinished<'_>,
    cards: &mut [C],
) -> Result<Settled, Failure> {
    let Unfinished { own, mut others } = unfinished;
    let mut settled = Settled::default();
    for e in std::iter::once(own).chain(others.iter_mut()) {
        let Some(record) = e.left().cloned() else {
            continue;
        };
        out.info(format!("Found {}; settling it...", found_words(&record)));
        let wanted = record.token_serial;
        let card = cards
            .iter_mut()
            .find(|c| wanted.is_some() && c.serial().map(|s| s.0) == wanted);
        let r = journal::recover(dir, card, &record).await;
        if let Some(why) = &r.skipped {
            out.warn(format!("  left as it is: {why}"));
            continue;
        }
        if r.completed {
            out.info("  It had completed: IAM shows the device assigned. Nothing to undo.");
            if let Some(device) = r.device.clone() {
                settled.completed.push((record.clone(), device));
            }
        }
        for what in &r.removed {
            out.info(format!("  Removed {what}."));
            settled.changed = true;
        }
        for l in &r.leftovers {
            let note = match l {
                Leftover::Device { .. } => "",
                Leftover::Credential { .. } => {
                    "; its IAM device is gone, so it can sign nothing. Remove it when you can"
                }
            };
            out.warn(format!(
                "  {} remains{note}: {}",
                l.describe(),
                l.commands("").join("; ")
            ));
        }
        e.clear().map_err(failure)?;
    }
    Ok(settled)
}

/// For commands that only look: says what dead runs left for `user` in `account` or for the
/// tokens in `serials`, and which command settles it. Changes nothing. Returns the records.
pub(super) fn report(out: &Output, account: &str, user: &str, serials: &[u32]) -> Vec<Record> {
    let Ok(journal) = Journal::default_location() else {
        return Vec::new();
    };
    let mut records = Vec::new();
    match journal.peek(account, user) {
        Ok(Some(r)) => records.push(r),
        Ok(None) => {}
        Err(JournalError::Busy(_)) => out.info(format!(
            "Another ykmfa process is working on {user} right now: what IAM shows may be about to change."
        )),
        Err(e) => out.warn(format!("could not read the enrollment journal: {e}")),
    }
    match journal.peek_unfinished(account, user) {
        Ok(others) => records.extend(
            others
                .into_iter()
                .filter(|r| r.token_serial.is_some_and(|s| serials.contains(&s))),
        ),
        Err(e) => out.warn(format!("could not read the enrollment journal: {e}")),
    }
    for r in &records {
        out.warn(format!(
            "found {}. Nothing was changed; the next 'ykmfa enroll', 'ykmfa resync' or 'ykmfa revoke' of {} settles it",
            found_words(r),
            r.user
        ));
    }
    records
}

/// "an unfinished enrollment of alice on YubiKey 5 NFC (12345678), left by process 4242 while
/// writing the credential".
fn found_words(record: &Record) -> String {
    format!(
        "an unfinished enrollment of {} on {} (left by process {} while {})",
        record.user,
        record.token,
        record.pid,
        match record.stage {
            Stage::Creating => "creating the device",
            Stage::Created => "after creating the device",
            Stage::Writing => "writing the credential",
            Stage::Enabling => "enabling the device",
        }
    )
}

/// A journal problem in words, with its fix.
pub(super) fn failure(e: JournalError) -> Failure {
    use JournalError as E;
    let fix: &[&str] = match &e {
        E::Busy(_) => &["wait for it to finish (ykmfa works on one user at a time), then run this again"],
        E::NoStateDir => &["set HOME (ykmfa keeps its enrollment journal in ~/.local/state/ykmfa)"],
        E::Io { .. } => &["check that the directory is writable; ykmfa won't change anything it can't record first"],
        E::Corrupt(_) => &["look at the file: it should name a user, a device and a token; delete it once they are settled"],
    };
    Failure::new(Exit::Failed, e.to_string(), fix)
}
