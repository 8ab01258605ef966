//! The time source of the operations: a token has no clock, so the host's decides which time
//! steps are computed; tests bring clocks that stand still or jump.

/// Seconds since the Unix epoch, from wherever the caller trusts.
pub trait Clock: Send + Sync {
    /// Seconds since the Unix epoch.
    fn now(&self) -> u64;
}

/// The system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
}
