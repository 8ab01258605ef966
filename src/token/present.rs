//! The tokens present: one look at every reader, and the tokens whose OATH application has a
//! password unlocked when their credentials are needed.
//!
//! `revoke`, `resync` and `status` start the same way: identify every token (the credential list
//! comes with it, unless the OATH application is locked), then read the locked ones with the
//! OATH password. The rules they share live here:
//!
//! - the password is asked for through the caller's callback (the binary reads
//!   `YKMFA_OATH_PASSWORD` or the terminal), only when a locked token must be read, and at most
//!   once: the answer is kept for every later unlock and for opening the token to change it;
//! - no password means the token stays locked (`listed` stays `None`): pairing then says the
//!   credential may be on it, and the caller decides whether that is an error;
//! - a token that refuses the password, or fails, is reported with its error, never skipped in
//!   silence.
//!
//! Nothing here prints or prompts. Calls block on PC/SC: async callers run them in
//! `block_in_place`.

use std::future::Future;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::oath::{self, Password};
use crate::token::{self, Card, PcscCard, SelectError, Serial, Token, Unusable};
use crate::transport::pcsc::Context;
use crate::transport::TransportError;

/// The tokens one look found, and the OATH password once one was given.
pub struct Present {
    /// The tokens; `listed` is `None` while a token's OATH application is locked.
    pub tokens: Vec<Token>,
    /// The cards that could not be used, and why.
    pub unusable: Vec<Unusable>,
    password: Option<Zeroizing<String>>,
}

/// Why the tokens could not be looked at, chosen or unlocked. `E` is the error of the caller's
/// password callback.
#[derive(Debug, thiserror::Error)]
pub enum PresentError<E> {
    /// No token, not the one asked for, or the PC/SC service failed.
    #[error(transparent)]
    Select(#[from] SelectError),
    /// A token that had to be read is locked and no password was given, refused the password,
    /// or failed.
    #[error(transparent)]
    Card(oath::Error),
    /// Asking for the password failed (the caller's words).
    #[error("{0}")]
    Ask(E),
}

/// A token whose credentials could not be read with the password given, and why.
pub type Unread = (Token, oath::Error);

/// The password callback: given the first locked token to read, the password, or `None`.
pub type Ask<'a, E> = &'a mut dyn FnMut(&Token) -> Result<Option<Zeroizing<String>>, E>;

/// What [`Present::gather`] has to say on the way.
#[derive(Debug)]
pub enum Gathering<'a> {
    /// Readers ykmfa can't use (said before any waiting).
    Skipped(&'a [Unusable]),
    /// No token (of the serial asked for) is present: waiting this long for one.
    Waiting(Duration),
}

impl Present {
    /// No token looked at.
    pub fn nothing() -> Self {
        Present {
            tokens: Vec::new(),
            unusable: Vec::new(),
            password: None,
        }
    }

    /// Looks at every reader once.
    pub fn look() -> Result<Self, TransportError> {
        let inventory = token::inventory(&Context::establish()?)?;
        Ok(Present {
            tokens: inventory.tokens,
            unusable: inventory.unusable,
            password: None,
        })
    }

    /// [`Present::look`] on a blocking thread of its own, started now: the look is PC/SC round
    /// trips, and IAM can be asked meanwhile. Await the future for the look.
    pub fn look_meanwhile() -> impl Future<Output = Result<Self, TransportError>> {
        meanwhile(Present::look)
    }

    /// Keeps only `serial`'s token, when given. When no token is left, waits up to `wait` for
    /// one to be inserted; `on_wait` is called once, when waiting starts.
    pub fn narrow(
        mut self,
        serial: Option<Serial>,
        wait: Duration,
        on_wait: impl FnMut(),
    ) -> Result<Self, SelectError> {
        self.tokens
            .retain(|t| serial.is_none_or(|s| t.serial == Some(s)));
        if self.tokens.is_empty() {
            let ctx = Context::establish()?;
            self.tokens.push(token::find(&ctx, serial, wait, on_wait)?);
        }
        Ok(self)
    }

    /// The tokens present (only `serial`'s), waiting up to `wait` for one to be inserted when
    /// there is none; then the locked ones unlocked, with the password `kept` from an earlier
    /// gathering, or asked for: the survey `resync` makes (twice when dead runs were settled).
    pub fn gather<E>(
        serial: Option<Serial>,
        wait: Duration,
        kept: Option<Present>,
        told: &mut dyn FnMut(Gathering<'_>),
        ask: Ask<'_, E>,
    ) -> Result<Self, PresentError<E>> {
        let fresh = Present::look().map_err(SelectError::from)?;
        told(Gathering::Skipped(&fresh.unusable));
        let fresh = fresh.narrow(serial, wait, || told(Gathering::Waiting(wait)))?;
        let mut present = match kept {
            Some(mut kept) => {
                kept.renew(fresh);
                kept
            }
            None => fresh,
        };
        present.unlock(|_| true, ask)?;
        Ok(present)
    }

    /// Takes the tokens of a later look (after something changed them), keeping the password.
    pub fn renew(&mut self, fresh: Present) {
        self.tokens = fresh.tokens;
        self.unusable = fresh.unusable;
    }

    /// The OATH password, once one was given.
    pub fn password(&self) -> Option<Password> {
        self.password.as_ref().map(|p| Password::new(p.to_string()))
    }

    /// The token with this serial.
    pub fn by_serial(&self, serial: Serial) -> Option<&Token> {
        self.tokens.iter().find(|t| t.serial == Some(serial))
    }

    /// Whether the token in `reader` is present and still locked.
    pub fn is_locked(&self, reader: &str) -> bool {
        self.tokens
            .iter()
            .any(|t| t.reader == reader && t.listed.is_none())
    }

    /// Reads the credentials of the locked tokens `which` picks. The password is asked for
    /// with the first of them, unless one was given before; without one they stay locked.
    /// Returns whether any token was read. A token that refuses the password, or fails, stops
    /// here with its error.
    pub fn unlock<E>(
        &mut self,
        which: impl Fn(&Token) -> bool,
        ask: Ask<'_, E>,
    ) -> Result<bool, PresentError<E>> {
        self.read_locked(which, ask, true).map(|(read, _)| read)
    }

    /// As [`Present::unlock`], but a token that refuses or fails does not stop the others: each
    /// is returned with its error, and its credentials stay unknown.
    pub fn unlock_each<E>(
        &mut self,
        which: impl Fn(&Token) -> bool,
        ask: Ask<'_, E>,
    ) -> Result<Vec<Unread>, PresentError<E>> {
        self.read_locked(which, ask, false)
            .map(|(_, failed)| failed)
    }

    fn read_locked<E>(
        &mut self,
        which: impl Fn(&Token) -> bool,
        ask: Ask<'_, E>,
        stop: bool,
    ) -> Result<(bool, Vec<Unread>), PresentError<E>> {
        let (mut read, mut failed) = (false, Vec::new());
        for i in 0..self.tokens.len() {
            let token = &self.tokens[i];
            if token.listed.is_some() || !which(token) {
                continue;
            }
            if self.password.is_none() {
                self.password = ask(token).map_err(PresentError::Ask)?;
            }
            let Some(password) = self.password() else {
                break;
            };
            let ctx = Context::establish().map_err(|e| PresentError::Select(e.into()))?;
            let mut card = PcscCard::new(ctx, token.clone(), Some(password));
            match card.list() {
                Ok(listed) => {
                    self.tokens[i].listed = Some(listed);
                    read = true;
                }
                Err(e) if stop => return Err(PresentError::Card(e)),
                Err(e) => failed.push((self.tokens[i].clone(), e)),
            }
        }
        Ok((read, failed))
    }

    /// The token in `reader`, opened with the password given (if any); `None` when it is no
    /// longer among the tokens present.
    pub fn open(&self, reader: &str) -> Result<Option<PcscCard>, TransportError> {
        let Some(token) = self.tokens.iter().find(|t| t.reader == reader) else {
            return Ok(None);
        };
        Ok(Some(PcscCard::new(
            Context::establish()?,
            token.clone(),
            self.password(),
        )))
    }
}

/// Runs the blocking `work` on a thread of its own from now on; the future gives its result. A
/// panic in `work` is the awaiting task's, as if the work had run there.
fn meanwhile<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> impl Future<Output = T> {
    let running = tokio::task::spawn_blocking(work);
    async move {
        running
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    }
}

#[cfg(test)]
mod tests;
