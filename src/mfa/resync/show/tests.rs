use std::time::{Duration, SystemTime};

use crate::iam::{ClockReading, IamError};
use crate::mfa::resync::{clock_line, Event};
use crate::mfa::Line;

#[test]
fn events_read_as_progress() {
    assert_eq!(Event::TouchNow.to_string(), "Touch your token now.");
    let waiting = Event::WaitingForFreshSteps(41).to_string();
    assert!(
        waiting.ends_with("Trying fresh ones in 41 s..."),
        "{waiting}"
    );
}

#[test]
fn a_clock_that_could_not_be_read_is_a_warning_without_a_skew() {
    let error = IamError::Timeout {
        action: "sts:GetCallerIdentity",
    };
    let (line, skew) = clock_line(Err(error));
    assert!(skew.is_none());
    assert!(
        matches!(&line, Line::Warn(w) if w.starts_with("could not compare this machine's clock")),
        "{line:?}"
    );
}

#[test]
fn a_clock_in_step_is_progress_and_one_far_off_a_warning() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let reading = |server: SystemTime| ClockReading {
        sent: now,
        received: now,
        server,
    };
    let (line, skew) = clock_line(Ok(reading(now)));
    assert!(skew.is_some());
    assert!(
        matches!(&line, Line::Info(i) if i.starts_with("Clock: this machine is ")),
        "{line:?}"
    );
    let (line, _) = clock_line(Ok(reading(now + Duration::from_secs(600))));
    assert!(
        matches!(&line, Line::Warn(w) if w.contains("Fix the clock first")),
        "{line:?}"
    );
}
