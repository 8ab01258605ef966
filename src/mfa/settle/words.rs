//! What a person reads of the settling of dead runs: each record found, what was removed, what
//! remains with the commands that remove it, and what a command that only looks found. The
//! failures (a journal that can't be used to go on) stay the binary's words.

use crate::mfa::journal::enroll::Record;
use crate::mfa::{Leftover, Line};

use super::{Locked, Peeked, Settled};

const HARMLESS: &str = "; its IAM device is gone, so it can sign nothing. Remove it when you can";

impl Settled {
    /// What this record says: what was removed, what remains with its commands (device before
    /// credential), and whether the record stays.
    pub fn lines(&self) -> Vec<Line> {
        let (r, user) = (&self.recovery, &self.record.user);
        let mut lines = vec![Line::Info(format!(
            "Found {}; settling it...",
            found(&self.record)
        ))];
        if let Some(why) = &r.skipped {
            lines.push(Line::Warn(format!("  left as it is: {why}")));
        }
        match (&r.completed, &r.credential_missing) {
            (Some(device), None) => lines.push(Line::Info(format!("  It had completed: IAM shows {device} assigned. Nothing to undo."))),
            (Some(device), Some(why)) => lines.push(Line::Warn(format!("  It had completed: IAM shows {device} assigned to {user}, but {why}: nothing computes its codes. Remove it with: ykmfa revoke --user {user} --device {device} --yes (then enroll again)"))),
            _ => {}
        }
        let removed = r.removed.iter().map(|w| format!("  Removed {w}."));
        lines.extend(removed.map(Line::Info));
        let notes = r.notes.iter().map(|w| format!("  Found {w}."));
        lines.extend(notes.map(Line::Info));
        for l in &r.leftovers {
            let harmless = matches!(l, Leftover::Credential { .. }) && r.credential_harmless();
            let note = if harmless { HARMLESS } else { "" };
            lines.push(Line::Warn(format!("  {} remains{note}", l.describe())));
        }
        let possible = r.possible.iter();
        lines.extend(possible.map(|l| Line::Warn(format!("  possibly left: {}", l.describe()))));
        let commands = r.commands();
        if !commands.is_empty() {
            lines.push(Line::Warn(format!(
                "  to remove by hand, in this order:\n    {}",
                commands.join("\n    ")
            )));
        }
        if self.kept {
            lines.push(Line::Warn(format!("  The record of it stays until this is settled: the next 'ykmfa enroll', 'ykmfa resync' or 'ykmfa revoke' of {user} tries again, and 'ykmfa status' shows it.")));
        }
        lines
    }
}

impl Locked {
    /// A journal that can't be used (the command goes on without it), then each settled record.
    pub fn lines(&self, user: &str) -> Vec<Line> {
        let mut lines = Vec::new();
        if let Some(e) = &self.unusable {
            lines.push(Line::Warn(format!("{e}. Going on without it: an enrollment a killed run left is not settled now, and another ykmfa is not kept off {user} meanwhile")));
        }
        lines.extend(self.settled.iter().flat_map(Settled::lines));
        lines
    }
}

impl Peeked {
    /// For commands that only look: what dead runs left for `user`, and which command settles it.
    pub fn lines(&self, user: &str) -> Vec<Line> {
        let mut lines = Vec::new();
        if self.busy {
            lines.push(Line::Info(format!("Another ykmfa process is working on {user} right now: what IAM shows may be about to change.")));
        }
        let problems = self.problems.iter();
        lines.extend(
            problems.map(|e| Line::Warn(format!("could not read the enrollment journal: {e}"))),
        );
        for r in &self.records {
            lines.push(Line::Warn(format!("found {}. Nothing was changed; the next 'ykmfa enroll', 'ykmfa resync' or 'ykmfa revoke' of {} settles it", found(r), r.user)));
        }
        lines
    }
}

/// "an unfinished enrollment of alice on YubiKey 5 NFC (12345678) (left by process 4242 while …)".
fn found(r: &Record) -> String {
    let (user, token, pid, stage) = (&r.user, &r.token, r.pid, r.stage);
    format!("an unfinished enrollment of {user} on {token} (left by process {pid} while {stage})")
}
