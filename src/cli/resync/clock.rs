//! This machine's clock against AWS's, in words: the first thing `resync` looks at (a token has
//! no clock and computes codes for the time this machine says), for a user and for `--root`.

use ykmfa::iam::{ClockReading, IamError, Skew, SkewLevel};

use crate::cli::report::Exit;
use crate::cli::{prompt, Failure, Global, Output};

/// Says how this machine's clock compares with AWS's; returns the skew when it was measured.
pub(super) fn compare(out: &Output, reading: Result<ClockReading, IamError>) -> Option<Skew> {
    let reading = match reading {
        Ok(r) => r,
        Err(e) => {
            out.warn(format!(
                "could not compare this machine's clock with AWS's ({e}); if codes keep failing, check it: timedatectl status"
            ));
            return None;
        }
    };
    let skew = reading.skew();
    match skew.level() {
        SkewLevel::Ok => out.info(format!("Clock: this machine is {skew}.")),
        SkewLevel::Noticeable => out.warn(format!(
            "this machine's clock is {skew}. Codes may fail near the end of each 30-second step. Check that it is synchronized: timedatectl status"
        )),
        SkewLevel::Large => out.warn(format!(
            "this machine's clock is {skew}. A token has no clock: it computes codes for the time this machine says, so a wrong clock is the usual reason AWS refuses them. Fix the clock first: sudo timedatectl set-ntp true (then timedatectl status shows 'System clock synchronized: yes'), or sudo chronyc makestep where chrony runs."
        )),
    }
    Some(skew)
}

/// A resync with a clock far off would write the wrong time into AWS's record of the device:
/// only a yes (or `--yes`) lets it go on.
pub(super) fn confirm_large_skew(skew: &Skew, global: &Global) -> Result<(), Failure> {
    if skew.level() != SkewLevel::Large || global.yes {
        return Ok(());
    }
    let refused = || {
        Failure::new(
            Exit::Failed,
            format!(
                "this machine's clock is {skew}; a resync now would make AWS expect codes from that wrong time. Nothing was changed"
            ),
            &[
                "fix the clock (sudo timedatectl set-ntp true), then try a sign-in: the codes may well work again without a resync",
                "or resync against this clock anyway: add --yes",
            ],
        )
    };
    if !ykmfa::terminal::has_tty() {
        return Err(refused());
    }
    match prompt::confirm("Resynchronize against this machine's clock anyway? [y/N] ") {
        Ok(true) => Ok(()),
        Ok(false) => Err(refused()),
        Err(e) => Err(prompt::failure(e, "the answer", "pass --yes instead")),
    }
}
