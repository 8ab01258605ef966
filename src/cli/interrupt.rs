//! The one signal watcher of every command that changes something.
//!
//! SIGINT (Ctrl-C), SIGTERM (a service manager, `kill`), SIGHUP (the terminal closed, an SSH
//! session dropped) and SIGQUIT (Ctrl-\) all mean "stop": the work is cancelled at its next step
//! and undoes what it did, exactly as after Ctrl-C, and the command then exits 130. The handlers
//! are registered when [`Interrupt::watch`] is called, synchronously, before the first change:
//! a signal that arrived before a task's first poll would otherwise kill the process half-done.
//! A second signal quits at once; the journal lets the next run settle what is left.
//!
//! While a secret is being typed with echo off, a signal restores the terminal before anything
//! else (nothing has changed yet, so the command just ends).
//!
//! Messages go through writes whose errors are ignored: after a hang-up the terminal is gone, and
//! a failed write must never stop a rollback.

use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use tokio::signal::unix::{signal, Signal, SignalKind};
use ykmfa::mfa::Cancel;

use super::{report::Exit, Failure};

/// Watches for the stop signals while it lives.
pub struct Interrupt {
    task: tokio::task::JoinHandle<()>,
    got: Arc<AtomicU8>,
    notify: Arc<tokio::sync::Notify>,
}

impl Drop for Interrupt {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The signals that stop a command, and their names for messages.
const KINDS: [Kind; 4] = [
    (SignalKind::interrupt, "SIGINT"),
    (SignalKind::terminate, "SIGTERM"),
    (SignalKind::hangup, "SIGHUP"),
    (SignalKind::quit, "SIGQUIT"),
];
type Kind = (fn() -> SignalKind, &'static str);

impl Interrupt {
    /// Registers the handlers now. On the first signal `cancel` is cancelled and `first` is said
    /// (what happens next); on a second, `quit` is said and the process exits 130 at once.
    pub fn watch(cancel: &Cancel, first: &str, quit: &str) -> Result<Self, Failure> {
        let cannot =
            |name, e| Failure::new(Exit::Failed, format!("cannot watch for {name}: {e}"), &[]);
        let streams = KINDS.map(|(kind, name)| signal(kind()).map_err(|e| cannot(name, e)));
        let mut streams = streams.into_iter().collect::<Result<Vec<Signal>, _>>()?;
        let got = Arc::new(AtomicU8::new(0));
        let notify = Arc::new(tokio::sync::Notify::new());
        let (cancel, first, quit) = (cancel.clone(), first.to_owned(), quit.to_owned());
        let (got_it, notify_all) = (got.clone(), notify.clone());
        let task = tokio::spawn(async move {
            let which = next(&mut streams).await;
            got_it.store(which as u8 + 1, Ordering::SeqCst);
            super::prompt::abandon_secret();
            cancel.cancel();
            notify_all.notify_waiters();
            let name = KINDS[which].1;
            let _ = writeln!(std::io::stderr(), "\nInterrupted ({name}): {first}");
            next(&mut streams).await;
            let _ = writeln!(std::io::stderr(), "{quit}");
            std::process::exit(Exit::Interrupted as i32);
        });
        Ok(Interrupt { task, got, notify })
    }

    /// The signal that stopped the command, if one came.
    pub fn signal(&self) -> Option<&'static str> {
        let n = usize::from(self.got.load(Ordering::SeqCst));
        KINDS.get(n.checked_sub(1)?).map(|(_, name)| *name)
    }

    /// Waits until a signal comes.
    pub async fn notified(&self) {
        let wait = self.notify.notified();
        if self.signal().is_none() {
            wait.await;
        }
    }
}

/// The index in [`KINDS`] of the next signal to arrive.
async fn next(streams: &mut [Signal]) -> usize {
    let [a, b, c, d] = streams else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = a.recv() => 0,
        _ = b.recv() => 1,
        _ = c.recv() => 2,
        _ = d.recv() => 3,
    }
}
