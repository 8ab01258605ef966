//! What the one signal watcher ([`ykmfa::mfa::Signals`]) says, and how the command ends.
//!
//! Every stop signal cancels the work, which undoes what it did, and the command then exits 130.
//! A second signal quits at once; the journal lets the next run settle what is left. While a
//! secret is being typed with echo off, a signal restores the terminal and ends the command
//! (nothing has changed yet).
//!
//! Messages go through writes whose errors are ignored: after a hang-up the terminal is gone, and
//! a failed write must never stop a rollback.

use ykmfa::mfa::{Cancel, Signals};

use super::{report::Exit, Failure};

/// Watches for the stop signals while it lives.
pub struct Interrupt(Signals);

impl Interrupt {
    /// Registers the handlers now. On the first signal `cancel` is cancelled and `first` is said
    /// (what happens next); on a second, `quit` is said and the process exits 130 at once.
    pub fn watch(cancel: &Cancel, first: &str, quit: &str) -> Result<Self, Failure> {
        let (first, quit) = (first.to_owned(), quit.to_owned());
        let said = move |name| {
            super::prompt::abandon_secret();
            ykmfa::terminal::say(&format!("\nInterrupted ({name}): {first}\n"));
        };
        let quit = move || {
            ykmfa::terminal::say(&format!("{quit}\n"));
            std::process::exit(Exit::Interrupted as i32);
        };
        let cannot =
            |(name, e)| Failure::new(Exit::Failed, format!("cannot watch for {name}: {e}"), &[]);
        Signals::watch(cancel, said, quit)
            .map(Interrupt)
            .map_err(cannot)
    }

    /// The signal that stopped the command, if one came.
    pub fn signal(&self) -> Option<&'static str> {
        self.0.signal()
    }

    /// Waits until a signal comes.
    pub async fn notified(&self) {
        self.0.notified().await;
    }
}
