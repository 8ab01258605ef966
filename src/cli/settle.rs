//! The words of settling what interrupted enrollments left (SIGKILL, power loss, a second
//! Ctrl-C): the work is [`ykmfa::mfa::settle`]'s.
//!
//! The commands that change things (`enroll`, `resync`, `revoke`) settle: they take the user's
//! lock for their whole run, then [`settle`] says what the library found and did. The commands
//! that only look (`status`, `revoke --dry-run`) [`report`] the same records and name the command
//! that settles them, changing nothing, not even the journal's directory.

use ykmfa::iam::Directory;
use ykmfa::mfa::journal::enroll::{Entry, Journal, JournalError, Record, Stage};
use ykmfa::mfa::settle::{self as engine, Settled, Unsettled};
use ykmfa::mfa::Leftover;
use ykmfa::oath::Password;
use ykmfa::token::{Card, Token};

use super::report::Exit;
use super::{Failure, Output};

pub(super) use engine::serials;

/// The enrollment journal in its usual place, and the user's lock in it.
pub(super) fn lock(account: &str, user: &str) -> Result<(Journal, Entry), Failure> {
    let journal = Journal::default_location().map_err(failure)?;
    let entry = journal.lock(account, user).map_err(failure)?;
    Ok((journal, entry))
}

/// For `resync` and `revoke`: takes the user's lock (to hold for the whole run), then settles
/// what dead runs left for `user` or on the connected `tokens`. Returns the lock and whether
/// anything was removed, so the caller reads IAM and the tokens again. Without a usable journal
/// it warns and goes on ([`engine::lock_if_possible`]).
pub(super) async fn lock_and_settle<D: Directory>(
    out: &Output,
    dir: &D,
    account: &str,
    user: &str,
    tokens: &[Token],
    password: impl Fn() -> Option<Password>,
) -> Result<(Option<(Journal, Entry)>, bool), Failure> {
    let mut lock = match engine::lock_if_possible(account, user).map_err(failure)? {
        Ok(lock) => Some(lock),
        Err(e) => {
            out.warn(format!(
                "{e}. Going on without it: an enrollment a killed run left is not settled now, and another ykmfa is not kept off {user} meanwhile"
            ));
            None
        }
    };
    let Some((journal, own)) = lock.as_mut() else {
        return Ok((lock, false));
    };
    let settled = engine::settle_connected(dir, (journal, own), account, user, tokens, password)
        .await
        .map_err(|e| match e {
            engine::Error::Journal(e) => failure(e),
            engine::Error::Transport(e) => e.into(),
        })?;
    for s in &settled {
        tell(out, s);
    }
    let changed = settled.iter().any(|s| !s.recovery.removed.is_empty());
    Ok((lock, changed))
}

/// Settles every record of `unsettled` (see [`engine::settle`]) and says what it found and
/// did: what was removed, what remains with its commands (device before credential), possible
/// leftovers, and a completed enrollment whose token lacks its credential. A record that could
/// not be settled stays, and is named.
pub(super) async fn settle<D: Directory, C: Card>(
    out: &Output,
    dir: &D,
    unsettled: Unsettled<'_>,
    cards: &mut [C],
) -> Result<Vec<Settled>, Failure> {
    let settled = engine::settle(dir, unsettled, cards)
        .await
        .map_err(failure)?;
    for s in &settled {
        tell(out, s);
    }
    Ok(settled)
}

/// What one settled record says, in words.
fn tell(out: &Output, s: &Settled) {
    let r = &s.recovery;
    out.info(format!("Found {}; settling it...", found_words(&s.record)));
    if let Some(why) = &r.skipped {
        out.warn(format!("  left as it is: {why}"));
    }
    if let Some(device) = &r.completed {
        match &r.credential_missing {
            None => out.info(format!(
                "  It had completed: IAM shows {device} assigned. Nothing to undo."
            )),
            Some(why) => out.warn(format!(
                "  It had completed: IAM shows {device} assigned to {}, but {why}: nothing computes its codes. Remove it with: ykmfa revoke --user {} --device {device} --yes (then enroll again)",
                s.record.user, s.record.user
            )),
        }
    }
    for what in &r.removed {
        out.info(format!("  Removed {what}."));
    }
    for what in &r.notes {
        out.info(format!("  Found {what}."));
    }
    let mut commands = Vec::new();
    for l in &r.leftovers {
        let note = match l {
            Leftover::Credential { .. } if r.credential_harmless() => {
                "; its IAM device is gone, so it can sign nothing. Remove it when you can"
            }
            _ => "",
        };
        out.warn(format!("  {} remains{note}", l.describe()));
        commands.extend(l.commands(""));
    }
    for l in &r.possible {
        out.warn(format!("  possibly left: {}", l.describe()));
        commands.extend(l.commands(""));
    }
    if !commands.is_empty() {
        out.warn(format!(
            "  to remove by hand, in this order:\n    {}",
            commands.join("\n    ")
        ));
    }
    if s.kept {
        out.warn(format!(
            "  The record of it stays until this is settled: the next 'ykmfa enroll', 'ykmfa resync' or 'ykmfa revoke' of {} tries again, and 'ykmfa status' shows it.",
            s.record.user
        ));
    }
}

/// For commands that only look: says what dead runs left for `user` in `account` or for the
/// tokens in `serials`, and which command settles it. Changes nothing. Returns the records.
pub(super) fn report(out: &Output, account: &str, user: &str, serials: &[u32]) -> Vec<Record> {
    let peeked = engine::peek(account, user, serials);
    if peeked.busy {
        out.info(format!(
            "Another ykmfa process is working on {user} right now: what IAM shows may be about to change."
        ));
    }
    for e in &peeked.problems {
        out.warn(format!("could not read the enrollment journal: {e}"));
    }
    for r in &peeked.records {
        out.warn(format!(
            "found {}. Nothing was changed; the next 'ykmfa enroll', 'ykmfa resync' or 'ykmfa revoke' of {} settles it",
            found_words(r),
            r.user
        ));
    }
    peeked.records
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
        E::BadName(_) => &["check the user name (IAM user names are letters, digits and +=,.@_-)"],
    };
    Failure::new(Exit::Failed, e.to_string(), fix)
}
