//! The token side of an enrollment: what ykmfa does to a card, each in one exclusive PC/SC
//! transaction, behind a trait so the transaction logic can be tested with cards that fail on
//! command.

use crate::oath::credential::DEFAULT_PERIOD;
use crate::oath::{
    self, Code, Credential, CredentialData, Fingerprint, Password, Proof, Session, TimeStep,
};
use crate::token::{Serial, Token};
use crate::transport::pcsc::Context;
use crate::transport::TransportError;

/// How long an undo waits for a pulled token to be put back.
const REINSERT_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// What the enrollment needs from a token.
pub trait Card {
    /// Writes a credential that must not exist yet, then computes codes for `steps` at once.
    /// All in one transaction: SELECT, (VALIDATE), LIST, PUT, CALCULATE, CALCULATE.
    fn write_and_calculate(
        &mut self,
        data: &CredentialData,
        steps: [TimeStep; 2],
    ) -> Result<[Code; 2], WriteError>;
    /// Computes one code (SELECT, (VALIDATE), CALCULATE).
    fn calculate(&mut self, raw_id: &[u8], step: TimeStep) -> Result<Code, oath::Error>;
    /// Computes an existing credential's codes for two steps, telling `touch` before each code
    /// the token will wait for a touch for. [`PcscCard`] does it in one transaction (SELECT,
    /// (VALIDATE), CALCULATE ALL to learn whether the credential needs a touch, CALCULATE,
    /// CALCULATE); this default calls [`Card::calculate`] twice and never calls `touch`.
    fn calculate_pair(
        &mut self,
        raw_id: &[u8],
        steps: [TimeStep; 2],
        touch: &mut dyn FnMut(),
    ) -> Result<[Code; 2], oath::Error> {
        let _ = touch;
        Ok([
            self.calculate(raw_id, steps[0])?,
            self.calculate(raw_id, steps[1])?,
        ])
    }
    /// Deletes a credential; a credential that is already gone is not an error.
    fn delete(&mut self, raw_id: &[u8]) -> Result<(), oath::Error>;
    /// Asks the token whether its credential `raw_id` has the secret `fingerprint` was taken of
    /// (one CALCULATE of the fingerprint's challenge; a touch credential waits for a touch).
    /// Tokens that can't be asked answer [`oath::Error::Unsupported`], and their credential is
    /// kept.
    fn prove(&mut self, raw_id: &[u8], fingerprint: &Fingerprint) -> Result<Proof, oath::Error> {
        let _ = (raw_id, fingerprint);
        Err(oath::Error::Unsupported("proving a credential's secret"))
    }
    /// Lists the credentials (SELECT, (VALIDATE), LIST); read-only.
    fn list(&mut self) -> Result<Vec<Credential>, oath::Error>;
    /// The token's identity for messages and leftovers.
    fn describe(&self) -> String;
    /// The token's serial, when known.
    fn serial(&self) -> Option<Serial>;
    /// How many credentials fit, when known.
    fn capacity(&self) -> Option<usize>;
    /// The kind of token, for tags ("YubiKey", "Nitrokey").
    fn kind(&self) -> String;
    /// Whether the token asks for a touch to confirm a DELETE, and to store a touch credential
    /// ([`super::Kind::confirms_writes_by_touch`]).
    fn confirms_writes_by_touch(&self) -> bool {
        false
    }
    /// Why the token will refuse any credential, known before writing: a YubiKey FIPS whose
    /// OATH application has no password yet.
    fn refuses_credentials(&self) -> Option<oath::Error> {
        None
    }
}

/// Where a write stopped.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Nothing was written (refused before PUT: the name exists, the token is full, locked...).
    #[error(transparent)]
    NotWritten(oath::Error),
    /// PUT was sent: the credential may be on the token and must be removed.
    #[error(transparent)]
    MaybeWritten(oath::Error),
}

/// A real token reached through PC/SC.
pub struct PcscCard {
    ctx: Context,
    token: Token,
    password: Option<Password>,
}

impl PcscCard {
    /// A token identified in preflight, with the OATH password if it has one.
    pub fn new(ctx: Context, token: Token, password: Option<Password>) -> Self {
        PcscCard {
            ctx,
            token,
            password,
        }
    }

    /// The token as identified in preflight.
    pub fn token(&self) -> &Token {
        &self.token
    }

    /// Runs `f` in one transaction on the token, after checking it is still the token that was
    /// identified (same OATH device id; a swapped token is refused, not written to).
    fn with_session<T>(
        &mut self,
        f: impl FnOnce(&mut Session<&mut crate::transport::pcsc::Link<'_>>) -> Result<T, oath::Error>,
    ) -> Result<T, oath::Error> {
        let mut card = self.ctx.connect(&self.token.reader)?;
        // Another program (another ykmfa) that disconnects resets the card, and a handle learns
        // of it at its next call: the transaction's start or its SELECT. That is not a removal:
        // start again, a few times, before anything of `f` has been sent.
        let mut f = Some(f);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = (|| {
                let mut link = card.begin().map_err(|e| Opening::Reset(e.into()))?;
                let mut session = Session::open(&mut link).map_err(Opening::Reset)?;
                if session.device_id() != self.token.device_id {
                    return Err(Opening::Final(oath::Error::Transport(
                        TransportError::CardRemoved,
                    )));
                }
                if session.is_locked() {
                    match &self.password {
                        Some(p) => session.unlock(p).map_err(Opening::Final)?,
                        None => return Err(Opening::Final(oath::Error::Locked)),
                    }
                }
                match f.take() {
                    Some(f) => f(&mut session).map_err(Opening::Final),
                    None => Err(Opening::Final(oath::Error::Malformed("session retried"))),
                }
            })();
            match result {
                Ok(value) => return Ok(value),
                Err(Opening::Reset(oath::Error::Transport(TransportError::CardRemoved)))
                    if attempt < RESET_ATTEMPTS =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(Opening::Reset(e) | Opening::Final(e)) => return Err(e),
            }
        }
    }
}

/// How a session attempt stopped: while opening (a reset card is worth another try), or later.
enum Opening {
    Reset(oath::Error),
    Final(oath::Error),
}

/// How many times a session is opened when the card turns out to have been reset meanwhile.
const RESET_ATTEMPTS: u32 = 3;

impl PcscCard {
    /// Runs `f` again while the token is out of its reader, for a few seconds: an undo often
    /// follows a pulled token, which a person puts back.
    fn with_reinsert_grace<T>(
        &mut self,
        mut f: impl FnMut(&mut Self) -> Result<T, oath::Error>,
    ) -> Result<T, oath::Error> {
        let deadline = std::time::Instant::now() + REINSERT_GRACE;
        loop {
            match f(self) {
                Err(oath::Error::Transport(
                    TransportError::CardRemoved
                    | TransportError::NoCard(_)
                    | TransportError::ReaderGone(_),
                )) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(200));
                }
                other => return other,
            }
        }
    }
}

impl Card for PcscCard {
    fn write_and_calculate(
        &mut self,
        data: &CredentialData,
        steps: [TimeStep; 2],
    ) -> Result<[Code; 2], WriteError> {
        let mut stage = Stage::Checking;
        let mut held = 0;
        // A token that asks for the touch at PUT already has shown its enforcement there.
        let asked_at_put = self.confirms_writes_by_touch();
        let result = self.with_session(|s| {
            held = s.check_new(data)?;
            let id = data.id.to_bytes();
            stage = Stage::Put;
            s.put(data)?;
            stage = Stage::Stored;
            if data.touch {
                touch_enforced(s, &id, steps[1], asked_at_put)?;
            }
            let period = data.id.period;
            let first = s.calculate(&id, steps[0], period)?;
            let second = s.calculate(&id, steps[1], period)?;
            Ok([first, second])
        });
        let fips = self.token.fips;
        let capacity = self.token.capacity;
        result.map_err(|e| match (stage, e) {
            (Stage::Checking, e) => WriteError::NotWritten(e),
            // PUT refused: nothing was stored.
            (Stage::Put, oath::Error::NoSpace) if capacity.is_none() => {
                WriteError::NotWritten(oath::Error::FullAt(held))
            }
            (
                Stage::Put,
                e @ (oath::Error::NoSpace
                | oath::Error::CredentialExists(_)
                | oath::Error::HiddenCredentialExists(_)),
            ) => WriteError::NotWritten(e),
            (
                Stage::Put,
                oath::Error::Status {
                    sw: oath::StatusWord::ConditionsNotSatisfied,
                    ..
                },
            ) if fips => WriteError::NotWritten(self.fips_error()),
            (_, e) => WriteError::MaybeWritten(e),
        })
    }

    fn calculate(&mut self, raw_id: &[u8], step: TimeStep) -> Result<Code, oath::Error> {
        self.with_session(|s| s.calculate(raw_id, step, oath::credential::DEFAULT_PERIOD))
    }

    fn calculate_pair(
        &mut self,
        raw_id: &[u8],
        steps: [TimeStep; 2],
        touch: &mut dyn FnMut(),
    ) -> Result<[Code; 2], oath::Error> {
        self.with_session(|s| {
            // LIST does not say whether a credential needs a touch; CALCULATE ALL does (and
            // computes nothing for touch credentials). A token without it just isn't asked.
            let needs_touch = match s.calculate_all(steps[1].start(DEFAULT_PERIOD)) {
                Ok(all) => match all.iter().find(|(c, _)| c.raw_id == raw_id) {
                    Some((c, _)) => c.touch == Some(true),
                    None => {
                        return Err(oath::Error::NoSuchCredential(
                            String::from_utf8_lossy(raw_id).into_owned(),
                        ))
                    }
                },
                Err(oath::Error::Unsupported(_)) => false,
                Err(e) => return Err(e),
            };
            let mut code = |step| {
                if needs_touch {
                    touch();
                }
                s.calculate(raw_id, step, DEFAULT_PERIOD)
            };
            Ok([code(steps[0])?, code(steps[1])?])
        })
    }

    fn delete(&mut self, raw_id: &[u8]) -> Result<(), oath::Error> {
        // What identification listed is out of date from here on.
        self.token.listed = None;
        match self.with_reinsert_grace(|card| card.with_session(|s| s.delete(raw_id))) {
            Err(oath::Error::NoSuchCredential(_)) => Ok(()),
            other => other,
        }
    }

    fn prove(&mut self, raw_id: &[u8], fingerprint: &Fingerprint) -> Result<Proof, oath::Error> {
        let challenge = fingerprint.challenge();
        // Asked right before an undo deletes: give a pulled token the same grace as the delete.
        self.with_reinsert_grace(|card| {
            card.with_session(|s| match s.calculate_raw(raw_id, &challenge, false) {
                Ok(full) => Ok(fingerprint.compare(&full)),
                // Some tokens compute only truncated answers (Nitrokey's Secrets App): four
                // bytes of the same HMAC still tell two secrets apart.
                Err(oath::Error::Status { .. }) => s
                    .calculate_raw(raw_id, &challenge, true)
                    .map(|t| fingerprint.compare(&t)),
                Err(e) => Err(e),
            })
        })
    }

    fn list(&mut self) -> Result<Vec<Credential>, oath::Error> {
        // Identification listed the token a moment ago; the write re-checks under its own
        // transaction, so that list serves the preflight without another SELECT and LIST.
        match self.token.listed.take() {
            Some(listed) => Ok(listed),
            None => self.with_session(|s| s.list()),
        }
    }

    fn describe(&self) -> String {
        self.token.describe()
    }

    fn serial(&self) -> Option<Serial> {
        self.token.serial
    }

    fn capacity(&self) -> Option<usize> {
        self.token.capacity
    }

    fn kind(&self) -> String {
        self.token.kind.to_string()
    }

    fn confirms_writes_by_touch(&self) -> bool {
        self.token.kind.confirms_writes_by_touch()
    }

    fn refuses_credentials(&self) -> Option<oath::Error> {
        (self.token.fips && !self.token.password).then(|| self.fips_error())
    }
}

impl PcscCard {
    fn fips_error(&self) -> oath::Error {
        let device = self
            .token
            .serial
            .map(|s| format!(" --device {s}"))
            .unwrap_or_default();
        oath::Error::FipsNeedsPassword(device)
    }
}

/// How far a write got, for what an error means.
#[derive(Clone, Copy)]
enum Stage {
    /// Checking, listing: nothing sent that changes the token.
    Checking,
    /// PUT sent: a refusal stored nothing, anything else may have.
    Put,
    /// PUT accepted.
    Stored,
}

/// Whether the token enforces the touch the credential `id` was just written with: CALCULATE
/// ALL must mark it as needing a touch (`7C`), not compute its code. Without CALCULATE ALL,
/// only a token that asked for a touch at PUT (`asked_at_put`: the Nitrokey 3) has shown it
/// enforces one; any other can't be believed, so the touch counts as not enforced.
fn touch_enforced<T: crate::transport::Transport>(
    s: &mut Session<T>,
    id: &[u8],
    step: TimeStep,
    asked_at_put: bool,
) -> Result<(), oath::Error> {
    match s.calculate_all(step.start(DEFAULT_PERIOD)) {
        Ok(all) => match all.iter().find(|(c, _)| c.raw_id == id) {
            Some((c, _)) if c.touch == Some(true) => Ok(()),
            Some(_) => Err(oath::Error::TouchNotEnforced),
            None => Err(oath::Error::NoSuchCredential(
                String::from_utf8_lossy(id).into_owned(),
            )),
        },
        Err(oath::Error::Unsupported(_)) if asked_at_put => Ok(()),
        Err(oath::Error::Unsupported(_)) => Err(oath::Error::TouchNotEnforced),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests;
