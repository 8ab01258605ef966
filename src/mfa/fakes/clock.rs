//! A clock that stands still or moves on command, and a progress recorder.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::lock;
use crate::mfa::enroll::{Event, Progress};
use crate::mfa::{Cancel, Clock};

/// A clock that stands still, or moves `tick` seconds each time it is read (so that waiting for
/// a fresh time step, which polls the clock, ends after a few polls).
pub(crate) struct FakeClock {
    pub(crate) now: AtomicU64,
    pub(crate) tick: u64,
}

impl FakeClock {
    pub(crate) fn fixed(at: u64) -> Arc<Self> {
        Arc::new(FakeClock {
            now: AtomicU64::new(at),
            tick: 0,
        })
    }

    pub(crate) fn advancing(from: u64, tick: u64) -> Arc<Self> {
        Arc::new(FakeClock {
            now: AtomicU64::new(from),
            tick,
        })
    }
}

impl Clock for FakeClock {
    fn now(&self) -> u64 {
        self.now.fetch_add(self.tick, Ordering::SeqCst)
    }
}

/// Records every event as its `Debug` text, of an enrollment or a revocation; can cancel when a
/// given event comes ([`Recorder::cancel_when`]).
#[derive(Default)]
pub(crate) struct Recorder {
    events: Mutex<Vec<String>>,
    cancel_on: Mutex<Option<(&'static str, Cancel)>>,
}

impl Recorder {
    /// Cancels `cancel` when an event whose `Debug` text starts with `prefix` comes.
    pub(crate) fn cancel_when(&self, prefix: &'static str, cancel: &Cancel) {
        *lock(&self.cancel_on) = Some((prefix, cancel.clone()));
    }

    pub(crate) fn events(&self) -> Vec<String> {
        lock(&self.events).clone()
    }

    pub(crate) fn saw(&self, prefix: &str) -> bool {
        self.events().iter().any(|e| e.starts_with(prefix))
    }

    fn record(&self, text: String) {
        if let Some((prefix, cancel)) = &*lock(&self.cancel_on) {
            if text.starts_with(prefix) {
                cancel.cancel();
            }
        }
        lock(&self.events).push(text);
    }
}

impl Progress for Recorder {
    fn event(&self, event: Event<'_>) {
        self.record(format!("{event:?}"));
    }
}

impl crate::mfa::revoke::Progress for Recorder {
    fn event(&self, event: crate::mfa::revoke::Event<'_>) {
        self.record(format!("{event:?}"));
    }
}
