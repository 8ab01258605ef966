//! What a person reads of a resync: this machine's clock against AWS's, each event, and the
//! outcome. The words of a refusal or a failure (and the exit codes) stay the binary's.

use std::fmt;

use crate::iam::{ClockReading, IamError, Skew, SkewLevel};
use crate::mfa::Line;

use super::{ConsoleCodes, Event, Resynced};

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::TouchNow => f.write_str("Touch your token now."),
            Event::WaitingForFreshSteps(secs) => write!(
                f,
                "AWS refused these codes; they may be used up (an enrollment or a sign-in a moment \
                 ago). Trying fresh ones in {secs} s..."
            ),
        }
    }
}

/// How this machine's clock compares with AWS's (the first thing a resync looks at: a token
/// has no clock and computes codes for the time this machine says), and the skew when it was
/// measured.
pub fn clock_line(reading: Result<ClockReading, IamError>) -> (Line, Option<Skew>) {
    let reading = match reading {
        Ok(r) => r,
        Err(e) => {
            let line = Line::Warn(format!(
                "could not compare this machine's clock with AWS's ({e}); if codes keep failing, check it: timedatectl status"
            ));
            return (line, None);
        }
    };
    let skew = reading.skew();
    let line = match skew.level() {
        SkewLevel::Ok => Line::Info(format!("Clock: this machine is {skew}.")),
        SkewLevel::Noticeable => Line::Warn(format!(
            "this machine's clock is {skew}. Codes may fail near the end of each 30-second step. Check that it is synchronized: timedatectl status"
        )),
        SkewLevel::Large => Line::Warn(format!(
            "this machine's clock is {skew}. A token has no clock: it computes codes for the time this machine says, so a wrong clock is the usual reason AWS refuses them. Fix the clock first: sudo timedatectl set-ntp true (then timedatectl status shows 'System clock synchronized: yes'), or sudo chronyc makestep where chrony runs."
        )),
    };
    (line, Some(skew))
}

impl Resynced {
    /// "Resynchronized: …", with what a person should know about the codes just used.
    pub fn summary(&self) -> String {
        format!(
            "Resynchronized: AWS is in step again with the codes of '{}' on {}. The codes just used can't sign in again: the next sign-in needs a fresh one.",
            self.credential, self.token
        )
    }
}

impl ConsoleCodes {
    /// Where the codes go, and in which order.
    pub fn instructions(&self) -> String {
        format!(
            "In the console (signed in as root: Security credentials, your MFA device, Resync), type these codes of '{}', in this order (MFA code 1, MFA code 2):",
            self.credential
        )
    }

    /// The `ykmfa.resync-root/1` document.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "schema": "ykmfa.resync-root/1",
            "credential": self.credential,
            "token": self.token,
            "codes": self.pair.codes,
            "steps": self.pair.steps,
            "valid_until": self.pair.valid_until,
            "clock": crate::iam::skew_json(self.skew),
        })
    }
}

#[cfg(test)]
mod tests;
