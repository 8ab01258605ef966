//! AWS's clock against ours: the skew arithmetic, from one answer's `Date` header.
//!
//! A token has no clock: the host's decides which time step it computes a code for. A host
//! clock that is off by more than a step makes every code wrong, which people report as "my
//! MFA doesn't work". AWS's answers carry its clock in the HTTP `Date` header, to the whole
//! second, so one cheap call tells how far off the host is, within about a second.

use std::time::{Duration, SystemTime};

use aws_sdk_iam::primitives::{DateTime, DateTimeFormat};

/// Local clock minus AWS's up to this many seconds is harmless: codes land in the step AWS
/// expects, or its neighbour, which AWS's window tolerates.
pub const SKEW_OK_SECS: f64 = 10.0;
/// From this many seconds on, codes computed here miss AWS's window: a whole TOTP step.
pub const SKEW_LARGE_SECS: f64 = 30.0;

/// One measurement: AWS's `Date` and the local times the request left and its answer came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockReading {
    /// Local time just before the request was sent.
    pub sent: SystemTime,
    /// Local time just after the answer arrived.
    pub received: SystemTime,
    /// AWS's time from the answer's `Date` header: whole seconds, rounded down.
    pub server: SystemTime,
}

impl ClockReading {
    /// The skew this reading shows.
    ///
    /// AWS stamped `Date` at some local instant in `[sent, received]`, and its true time then was
    /// in `[Date, Date + 1 s)`. So local minus AWS lies in `[sent - Date - 1, received - Date]`:
    /// the estimate is the middle of that interval, the uncertainty half its width.
    pub fn skew(&self) -> Skew {
        let secs = |t: SystemTime| match t.duration_since(SystemTime::UNIX_EPOCH) {
            Ok(d) => d.as_secs_f64(),
            Err(e) => -e.duration().as_secs_f64(),
        };
        let (sent, received, server) = (secs(self.sent), secs(self.received), secs(self.server));
        // A clock stepped backwards mid-request gives received < sent: take the interval as is.
        let (lo, hi) = if received >= sent {
            (sent, received)
        } else {
            (received, sent)
        };
        let low = lo - server - 1.0;
        let high = hi - server;
        Skew {
            seconds: (low + high) / 2.0,
            uncertainty: (high - low) / 2.0,
        }
    }

    /// How long the request took, by the local clock.
    pub fn round_trip(&self) -> Duration {
        self.received.duration_since(self.sent).unwrap_or_default()
    }
}

/// The local clock minus AWS's, with its uncertainty.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Skew {
    /// Local minus AWS in seconds: positive when the local clock is ahead.
    pub seconds: f64,
    /// The true skew is within `seconds ± uncertainty` (at least 0.5 s: `Date` has whole seconds).
    pub uncertainty: f64,
}

/// How much a skew matters for TOTP codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkewLevel {
    /// Certainly below [`SKEW_OK_SECS`].
    Ok,
    /// Could be over [`SKEW_OK_SECS`]: codes may fail near a step boundary.
    Noticeable,
    /// Certainly over [`SKEW_LARGE_SECS`]: codes computed here are refused.
    Large,
}

impl Skew {
    /// The smallest magnitude the skew can have.
    pub fn at_least(&self) -> f64 {
        (self.seconds.abs() - self.uncertainty).max(0.0)
    }

    /// The largest magnitude the skew can have.
    pub fn at_most(&self) -> f64 {
        self.seconds.abs() + self.uncertainty
    }

    /// Whether the local clock is ahead of AWS's (by the estimate).
    pub fn ahead(&self) -> bool {
        self.seconds > 0.0
    }

    /// How much it matters: judged on the certain part for "large", on the possible part for
    /// "ok", so that neither verdict overstates what one reading shows.
    pub fn level(&self) -> SkewLevel {
        if self.at_least() >= SKEW_LARGE_SECS {
            SkewLevel::Large
        } else if self.at_most() <= SKEW_OK_SECS {
            SkewLevel::Ok
        } else {
            SkewLevel::Noticeable
        }
    }

    /// Whole seconds, rounded, for messages ("+90 s").
    pub fn rounded(&self) -> i64 {
        self.seconds.round() as i64
    }
}

/// "12.3 s ahead of AWS (± 0.6 s)", "in step with AWS (-0.2 s ± 0.6 s)".
impl std::fmt::Display for Skew {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let margin = format!("± {:.1} s", self.uncertainty);
        if self.at_least() == 0.0 {
            return write!(f, "in step with AWS ({:+.1} s {margin})", self.seconds);
        }
        let way = if self.ahead() { "ahead of" } else { "behind" };
        write!(f, "{:.1} s {way} AWS ({margin})", self.seconds.abs())
    }
}

/// The skew as the JSON reports show it (tenths of seconds), or `null` when unmeasured.
pub fn skew_json(skew: Option<Skew>) -> serde_json::Value {
    match skew {
        Some(s) => serde_json::json!({
            "skew_seconds": (s.seconds * 10.0).round() / 10.0,
            "uncertainty_seconds": (s.uncertainty * 10.0).round() / 10.0,
            "level": s.level(),
        }),
        None => serde_json::Value::Null,
    }
}

/// Parses an HTTP `Date` header (RFC 9110 IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn parse_http_date(value: &str) -> Option<SystemTime> {
    let t = DateTime::from_str(value.trim(), DateTimeFormat::HttpDate).ok()?;
    SystemTime::try_from(t).ok()
}

#[cfg(test)]
mod tests;
