//! The settling of what interrupted enrollments left (SIGKILL, power loss, a second Ctrl-C), as
//! a person reads it: the work, the policy of the lock and the lines are
//! [`ykmfa::mfa::settle`]'s; here they are printed, and a journal problem gets its fix.
//! Commands that change things [`tell`] what was settled; those that only look [`report`] it,
//! changing nothing.

use ykmfa::mfa::journal::enroll::{JournalError, Record};
use ykmfa::mfa::settle::{self as engine, Settled};
use ykmfa::mfa::{Line, Note};

use super::report::{self, Exit};
use super::{Failure, Output};

pub(super) use engine::serials;

/// Prints the lines, each as progress or as a warning.
pub(super) fn say(out: &Output, lines: impl IntoIterator<Item = Line>) {
    for line in lines {
        match line {
            Line::Info(text) => out.info(text),
            Line::Warn(text) => out.warn(text),
        }
    }
}

/// What an operation says on the way.
pub(super) fn note(out: &Output, note: Note<'_>) {
    match note {
        Note::TagsDenied => out.warn(report::TAGS_DENIED),
        Note::Skipped(cards) => report::skipped(out, cards),
        Note::Line(line) => say(out, [line]),
    }
}

/// What one settled record says.
pub(super) fn tell(out: &Output, s: &Settled) {
    say(out, s.lines());
}

/// For commands that only look: what dead runs left for `user` or on the tokens of `serials`,
/// and which command settles it. Changes nothing. Returns the records.
pub(super) fn report(out: &Output, account: &str, user: &str, serials: &[u32]) -> Vec<Record> {
    let peeked = engine::peek(account, user, serials);
    say(out, peeked.lines(user));
    peeked.records
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

/// The journal or a token named by a record, while settling.
pub(super) fn settle_failure(e: engine::Error) -> Failure {
    match e {
        engine::Error::Journal(e) => failure(e),
        engine::Error::Transport(e) => e.into(),
    }
}
