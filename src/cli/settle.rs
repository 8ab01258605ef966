//! The words of settling what interrupted enrollments left (SIGKILL, power loss, a second
//! Ctrl-C): the work, and the policy of the lock, are [`ykmfa::mfa::settle`]'s. Commands that
//! change things [`tell`] what was settled; those that only look [`report`] it, changing nothing.

use ykmfa::iam::Directory;
use ykmfa::mfa::journal::enroll::{Entry, Journal, JournalError, Record};
use ykmfa::mfa::settle::{self as engine, Settled};
use ykmfa::mfa::Leftover;
use ykmfa::oath::Password;
use ykmfa::token::Token;

use super::report::Exit;
use super::{Failure, Output};

pub(super) use engine::serials;

/// For `resync` and `revoke`: the user's lock, and whether anything was removed.
pub(super) async fn lock_and_settle<D: Directory>(
    out: &Output,
    dir: &D,
    account: &str,
    user: &str,
    tokens: &[Token],
    password: impl Fn() -> Option<Password>,
) -> Result<(Option<(Journal, Entry)>, bool), Failure> {
    let locked = engine::lock_and_settle(dir, account, user, tokens, password)
        .await
        .map_err(|e| match e {
            engine::Error::Journal(e) => failure(e),
            engine::Error::Transport(e) => e.into(),
        })?;
    if let Some(e) = &locked.unusable {
        out.warn(format!("{e}. Going on without it: an enrollment a killed run left is not settled now, and another ykmfa is not kept off {user} meanwhile"));
    }
    locked.settled.iter().for_each(|s| tell(out, s));
    Ok(locked.parts())
}

const HARMLESS: &str = "; its IAM device is gone, so it can sign nothing. Remove it when you can";

/// What one settled record says: what was removed, what remains with its commands (device
/// before credential), and whether its record stays.
pub(super) fn tell(out: &Output, s: &Settled) {
    let (r, user) = (&s.recovery, &s.record.user);
    out.info(format!("Found {}; settling it...", found(&s.record)));
    if let Some(why) = &r.skipped {
        out.warn(format!("  left as it is: {why}"));
    }
    match (&r.completed, &r.credential_missing) {
        (Some(device), None) => out.info(format!("  It had completed: IAM shows {device} assigned. Nothing to undo.")),
        (Some(device), Some(why)) => out.warn(format!("  It had completed: IAM shows {device} assigned to {user}, but {why}: nothing computes its codes. Remove it with: ykmfa revoke --user {user} --device {device} --yes (then enroll again)")),
        _ => {}
    }
    let (removed, notes) = (r.removed.iter(), r.notes.iter());
    removed.for_each(|w| out.info(format!("  Removed {w}.")));
    notes.for_each(|w| out.info(format!("  Found {w}.")));
    for l in &r.leftovers {
        let harmless = matches!(l, Leftover::Credential { .. }) && r.credential_harmless();
        let note = if harmless { HARMLESS } else { "" };
        out.warn(format!("  {} remains{note}", l.describe()));
    }
    r.possible
        .iter()
        .for_each(|l| out.warn(format!("  possibly left: {}", l.describe())));
    let commands = r.commands();
    if !commands.is_empty() {
        out.warn(format!(
            "  to remove by hand, in this order:\n    {}",
            commands.join("\n    ")
        ));
    }
    if s.kept {
        out.warn(format!("  The record of it stays until this is settled: the next 'ykmfa enroll', 'ykmfa resync' or 'ykmfa revoke' of {user} tries again, and 'ykmfa status' shows it."));
    }
}

/// For commands that only look: what dead runs left for `user` or on the tokens of `serials`,
/// and which command settles it. Changes nothing. Returns the records.
pub(super) fn report(out: &Output, account: &str, user: &str, serials: &[u32]) -> Vec<Record> {
    let peeked = engine::peek(account, user, serials);
    if peeked.busy {
        out.info(format!("Another ykmfa process is working on {user} right now: what IAM shows may be about to change."));
    }
    let problems = peeked.problems.iter();
    problems.for_each(|e| out.warn(format!("could not read the enrollment journal: {e}")));
    for r in &peeked.records {
        out.warn(format!("found {}. Nothing was changed; the next 'ykmfa enroll', 'ykmfa resync' or 'ykmfa revoke' of {} settles it", found(r), r.user));
    }
    peeked.records
}

/// "an unfinished enrollment of alice on YubiKey 5 NFC (12345678) (left by process 4242 while …)".
fn found(r: &Record) -> String {
    let (user, token, pid, stage) = (&r.user, &r.token, r.pid, r.stage);
    format!("an unfinished enrollment of {user} on {token} (left by process {pid} while {stage})")
}

/// A journal problem in words, with its fix.
pub(super) fn failure(e: JournalError) -> Failure {
    let fix = match &e {
        JournalError::Busy(_) => "wait for it to finish (ykmfa works on one user at a time), then run this again",
        JournalError::NoStateDir => "set HOME (ykmfa keeps its enrollment journal in ~/.local/state/ykmfa)",
        JournalError::Io { .. } => "check that the directory is writable; ykmfa won't change anything it can't record first",
        JournalError::Corrupt(_) => "look at the file: it should name a user, a device and a token; delete it once they are settled",
        JournalError::BadName(_) => "check the user name (IAM user names are letters, digits and +=,.@_-)",
    };
    Failure::new(Exit::Failed, e.to_string(), &[fix])
}
