//! The token block `enroll`, `enroll --root` and `resync` share: which token (`--serial`), how long to
//! wait for it to be inserted (`--wait`), and whether to ask for its OATH password
//! (`--oath-password`). Each command declares the flags in its own words; this is what they do.

use std::time::Duration;

use ykmfa::oath::Password;
use ykmfa::token::{self, PcscCard, Serial};
use ykmfa::transport::pcsc::Context;

use super::{prompt, Failure, Output};

/// `--serial`, `--wait` and `--oath-password`, as given.
#[derive(Debug, Clone, Copy)]
pub struct TokenArgs {
    /// The token's serial, when given.
    pub serial: Option<Serial>,
    /// Seconds to wait for it to be inserted [default: 30 on a terminal, else 0].
    pub wait: Option<u64>,
    /// Ask for the OATH password even if the token does not say it has one.
    pub oath_password: bool,
}

impl TokenArgs {
    /// Finds the token (saying so while it waits for one to be inserted), asks for its password
    /// when it needs one, and opens it.
    pub fn open(&self, out: &Output) -> Result<PcscCard, Failure> {
        let ctx = Context::establish()?;
        let wait = wait(self.wait);
        let waiting = token::insert_prompt(wait);
        let chosen = token::find(&ctx, self.serial, wait, || out.info(&waiting))?;
        // Asked when told to, or when a person is there and the token has a password.
        let ask = self.oath_password || (chosen.password && ykmfa::terminal::has_tty());
        let password = prompt::oath_password(ask, &chosen.describe())?.map(Password::from);
        Ok(PcscCard::new(ctx, chosen, password))
    }
}

/// How long to wait for a token to be inserted: `--wait`, else 30 s when a person is there.
pub fn wait(given: Option<u64>) -> Duration {
    ykmfa::terminal::wait_for_person(given, 30)
}
