//! Asking a running operation to stop: set from the one signal watcher, read by the operations
//! between their steps, so a stop always lands on a boundary where what was done can be undone.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;

use tokio::signal::unix::{signal, Signal, SignalKind};

/// Set from a signal handler; checked between steps.
#[derive(Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// Asks the operation to stop at the next step boundary and undo.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether cancellation was asked for.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// The one watcher of the stop signals, for every command that changes something.
///
/// SIGINT (Ctrl-C), SIGTERM (a service manager, `kill`), SIGHUP (the terminal closed, an SSH
/// session dropped) and SIGQUIT (Ctrl-\) all mean "stop": the work is cancelled at its next step
/// and undoes what it did, exactly as after Ctrl-C. The handlers are registered when
/// [`Signals::watch`] is called, synchronously, before the first change: a signal that arrived
/// before a task's first poll would otherwise kill the process half-done. What is said, and the
/// exit on a second signal, are the caller's.
pub struct Signals {
    task: tokio::task::JoinHandle<()>,
    got: Arc<AtomicU8>,
    notify: Arc<tokio::sync::Notify>,
}

impl Drop for Signals {
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

impl Signals {
    /// Registers the handlers now. On the first signal `cancel` is cancelled, then `first` is
    /// called with the signal's name; on a second, `second` is called (the caller exits there).
    /// An error names the signal that could not be watched.
    pub fn watch(
        cancel: &Cancel,
        first: impl FnOnce(&'static str) + Send + 'static,
        second: impl FnOnce() + Send + 'static,
    ) -> Result<Self, (&'static str, std::io::Error)> {
        let streams = KINDS.map(|(kind, name)| signal(kind()).map_err(|e| (name, e)));
        let mut streams = streams.into_iter().collect::<Result<Vec<Signal>, _>>()?;
        let got = Arc::new(AtomicU8::new(0));
        let notify = Arc::new(tokio::sync::Notify::new());
        let (cancel, got_it, notify_all) = (cancel.clone(), got.clone(), notify.clone());
        let task = tokio::spawn(async move {
            let which = next(&mut streams).await;
            got_it.store(which as u8 + 1, Ordering::SeqCst);
            cancel.cancel();
            notify_all.notify_waiters();
            first(KINDS[which].1);
            next(&mut streams).await;
            second();
        });
        Ok(Signals { task, got, notify })
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
