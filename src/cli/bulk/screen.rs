//! The words of a running `ykmfa bulk apply`: a line per row as it ends, what a resumed run
//! found, and the questions for insertion, above the progress bar.

use ykmfa::mfa::bulk::{self, Note, Row};
use ykmfa::mfa::enroll::Event;
use ykmfa::mfa::journal::bulk::Recovery;

use crate::cli::output::Bar;

/// The watcher of a run: a line per row as it ends, the questions for insertion, and on a
/// terminal a progress bar redrawn on the last line of stderr.
pub(super) struct Screen(pub(super) Bar);

impl Screen {
    fn say(&self, text: &str) {
        self.0.say(text);
    }
}

/// What a resumed run found of a half-done row, after `lead`; `the` names the enrollment.
fn recovered(mut s: String, recovery: &Recovery, the: &str) -> String {
    if let Some(d) = &recovery.finished {
        s.push_str(&format!("; {d} was enabled: {the} enrollment is complete"));
    }
    for d in &recovery.done {
        s.push_str(&format!("; {d}"));
    }
    for l in &recovery.leftovers {
        s.push_str(&format!("; REMAINS: {l}"));
    }
    for l in &recovery.harmless {
        s.push_str(&format!("; left, harmless: {l}"));
    }
    s
}

fn who(row: &Row) -> String {
    format!("row {} ({})", row.number, row.user)
}

impl bulk::Watcher for Screen {
    fn note(&self, note: Note<'_>) {
        match note {
            Note::AccountUnreachable(u) => self.say(&format!(
                "warning: cannot reach the account through {}: {}; its rows fail",
                u.reference.describe(),
                u.error
            )),
            Note::Recovered { row, recovery } => self.say(&recovered(
                format!("{}: an interrupted run left this row half-done", who(row)),
                recovery,
                "the",
            )),
            Note::RecoveredOutsideManifest { key, recovery } => self.say(&recovered(
                format!("{key} (no longer in the manifest): an interrupted run left it half-done"),
                recovery,
                "that",
            )),
            Note::Started { .. } => {}
            Note::Step { row, event } => match event {
                Event::Writing {
                    token, touch: true, ..
                } => {
                    self.say(&format!("{}: touch {token} when it blinks (twice)", who(row)))
                }
                Event::TouchNow => self.say(&format!("{}: touch the token now", who(row))),
                Event::TagsDenied => self.say(&format!(
                    "{}: tagging is not allowed (iam:TagMFADevice); the device is created without ykmfa's tags",
                    who(row)
                )),
                Event::WaitingForStep(secs) => self.say(&format!(
                    "{}: AWS wants codes from fresh time steps; waiting {secs} s",
                    who(row)
                )),
                Event::LeftoverRemoved(arn) => self.say(&format!(
                    "{}: removed {arn}, left unassigned by an earlier interrupted run",
                    who(row)
                )),
                _ => {}
            },
            Note::InsertToken { row, wait } => {
                let account = match row.account.label() {
                    "" => String::new(),
                    a => format!(" in {a}"),
                };
                self.say(&format!(
                    "Insert the token for {}{account} (row {}); waiting up to {} s...",
                    row.user,
                    row.number,
                    wait.as_secs()
                ))
            }
            Note::TooManyTokens { row, tokens } => self.say(&format!(
                "{} tokens without a row are connected ({}): leave only the token for {}",
                tokens.len(),
                tokens.join(", "),
                row.user
            )),
            Note::Finished(o) => {
                self.0.tick(!o.status.is_success());
                let mut s = format!("row {} ({}): {}", o.row, o.user, o.status.as_str());
                if let Some(d) = &o.device {
                    s.push_str(&format!(": {d}"));
                    if let Some(serial) = o.token_serial {
                        s.push_str(&format!(" on token {serial}"));
                    }
                }
                if let Some(e) = &o.error {
                    s.push_str(&format!(": {e}"));
                }
                for l in &o.leftovers {
                    s.push_str(&format!("\n    remains: {l}"));
                }
                self.say(&s);
            }
        }
    }
}
