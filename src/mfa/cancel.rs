//! Asking a running operation to stop: set from the one signal watcher, read by the operations
//! between their steps, so a stop always lands on a boundary where what was done can be undone.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

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
