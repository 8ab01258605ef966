//! The root user's enrollment as one operation in two parts, split where a stop signal changes
//! meaning: [`prepare`] reads the secret and checks the token (a stop signal just ends it:
//! nothing is written yet); [`Ready::enroll`] writes the credential, shows the codes, and keeps
//! it when the console accepted them, or removes it again. The binary gives the words of the
//! question and of failures, and the terminal, through [`Console`]; [`ask_on_tty`] is the
//! terminal side of the question. What a person reads of the codes and of the outcome is here.

use std::future::Future;
use std::io;

use zeroize::Zeroizing;

use super::{await_verdict, check, credential_id, remove, write};
use super::{Asking, Confirmation, ConsoleSecret, Source, SourceError, Written};
use crate::mfa::enroll::{Cause, Failure};
use crate::mfa::{remedy, Clock, Leftover};
use crate::oath::CredentialId;
use crate::seed::Seed;
use crate::token::{Card, Serial};

/// Why the root user's enrollment did not finish.
#[derive(Debug)]
pub enum Error {
    /// The secret could not be read; the token was not touched.
    Source(SourceError),
    /// Refused before the write, or the write failed: why, what was undone, what is left.
    Failed(Box<Failure>),
    /// The credential was written, then removed again, or left (`left`) when that failed.
    Undone {
        /// Why: a stop signal came (`true`), or the console refused the codes.
        interrupted: bool,
        /// What could not be removed.
        left: Option<Leftover>,
    },
}

impl From<Cause> for Error {
    fn from(cause: Cause) -> Self {
        let (undone, leftovers) = (Vec::new(), Vec::new());
        Error::Failed(Box::new(Failure {
            cause,
            undone,
            leftovers,
        }))
    }
}

impl Error {
    /// What is left of the attempt, in words that follow the failure's sentence: what could
    /// not be removed from the token, or that nothing is left.
    pub fn remains(&self) -> String {
        let undone = match self {
            Error::Source(_) => return String::new(),
            Error::Failed(f) => !f.undone.is_empty(),
            Error::Undone { .. } => true,
        };
        match (self.leftover(), self) {
            (Some(left), _) => format!(
                "\nThis could not be undone and remains:\n  - {}",
                left.describe()
            ),
            (None, Error::Undone { .. }) => "; the credential was removed from the token".into(),
            (None, _) if undone => {
                "\nThe credential was removed again: nothing is left on the token.".into()
            }
            (None, _) => String::new(),
        }
    }

    /// What could not be removed from the token.
    pub fn leftover(&self) -> Option<&Leftover> {
        match self {
            Error::Source(_) => None,
            Error::Failed(f) => f.leftovers.first(),
            Error::Undone { left, .. } => left.as_ref(),
        }
    }
}

/// The secret read and the token checked: ready to write. No `Debug`: it holds the seed.
pub struct Ready {
    /// The credential's name on the token.
    pub id: CredentialId,
    seed: Seed,
}

/// Reads the secret from `source` (`ask` asks a person, for [`Source::Prompt`]), names the
/// credential (see [`credential_id`]) and checks the token can take it. Nothing is written.
pub fn prepare<C: Card>(
    card: &mut C,
    source: &Source,
    ask: impl FnOnce() -> io::Result<Zeroizing<String>>,
    explicit: Option<CredentialId>,
    account: Option<&str>,
) -> Result<Ready, Error> {
    let ConsoleSecret { seed, label } = source.read(ask).map_err(Error::Source)?;
    let id = credential_id(explicit, label, account)?;
    check(card, &id)?;
    Ok(Ready { id, seed })
}

/// What the binary does while the credential is on the token.
pub trait Console {
    /// Whether a stop signal came.
    fn interrupted(&self) -> bool;
    /// Shows the two codes to type into the console.
    fn show(&self, written: &Written);
    /// Whether the console accepted them; `None`: a stop signal came first.
    fn verdict(&self, written: &Written) -> impl Future<Output = Option<Confirmation>>;
}

impl Ready {
    /// What a person reads as the write to `token` starts (`touch`: each code needs one).
    pub fn writing(&self, token: &str, touch: bool) -> String {
        let line = format!(
            "Writing '{}' to {token} and computing two codes...",
            self.id
        );
        match touch {
            true => format!("{line}\nTouch your token when it blinks (twice)."),
            false => line,
        }
    }

    /// What a person reads when nobody is asked whether the console accepted the codes (`--yes`,
    /// or no terminal): the credential stays on `token` (`serial`), how to remove it if the
    /// console did not, and that the next sign-in needs a fresh code.
    pub fn stays(&self, token: &str, serial: Option<Serial>) -> String {
        let id = &self.id;
        let delete = remedy::ykman_delete(&id.to_string(), serial);
        let next = next_sign_in(&id.to_string());
        format!("'{id}' stays on {token}. If the console did not accept the codes, remove it: {delete}\n{next}")
    }

    /// Writes the credential (`touch`: each code needs one) with the codes of `now`, shows
    /// them, and keeps it when the console accepted them. Otherwise, or after a stop signal,
    /// it is removed again.
    pub async fn enroll<C: Card>(
        self,
        card: &mut C,
        touch: bool,
        now: u64,
        console: &impl Console,
    ) -> Result<Written, Error> {
        let Ready { id, seed } = self;
        let written = tokio::task::block_in_place(|| write(card, &id, seed, touch, now));
        let written = written.map_err(Error::Failed)?;
        let interrupted = console.interrupted() || {
            console.show(&written);
            match console.verdict(&written).await {
                Some(Confirmation::Remove) => false,
                None => true,
                Some(_) => return Ok(written),
            }
        };
        let left = tokio::task::block_in_place(|| remove(card, &id)).err();
        Err(Error::Undone { interrupted, left })
    }
}

impl Written {
    /// Where the codes go, and in which order.
    pub fn instructions(&self) -> &'static str {
        "Type these into the console, in this order (MFA code 1, MFA code 2):"
    }

    /// The `ykmfa.enroll-root/1` document.
    pub fn json(&self) -> serde_json::Value {
        let [first, second] = &self.codes;
        serde_json::json!({
            "schema": "ykmfa.enroll-root/1",
            "credential": self.credential,
            "codes": [first.value, second.value],
            "valid_until": self.valid_until,
        })
    }

    /// What a person reads once the console accepted the codes: where the root user's MFA is.
    pub fn done(&self, token: &str) -> String {
        let id = &self.credential;
        let next = next_sign_in(id);
        format!("Done: the root user's MFA is on {token} as '{id}'. {next}")
    }
}

/// What a person reads once the credential `id` was removed from `token` again.
pub fn removed(id: &CredentialId, token: &str) -> String {
    format!("Removed '{id}' from {token}: nothing is left of this attempt.")
}

/// That the codes just typed are used up, and the command that gives the next one; then what
/// root's primary device should be: AWS Config's root-account-hardware-mfa-enabled fails any
/// virtual device, a token-held one too.
fn next_sign_in(id: &str) -> String {
    format!(
        "The codes just used can't sign in again: the next sign-in needs a fresh one ({}).\n{ROOT_PRIMARY}",
        remedy::ykman_code(id)
    )
}

/// For root, a virtual device on a token is still virtual MFA to AWS.
pub const ROOT_PRIMARY: &str = "For root, AWS counts this as virtual MFA, not hardware MFA: make a FIDO security key or a hardware TOTP token root's primary (register it in the console, Assign MFA device) and keep this token as the backup and the CLI's factor.";

/// How long two codes for the console stay good: "Enter them within 47 s (until 12:34:56 UTC).",
/// or that they have expired.
pub fn validity(valid_until: u64, now: u64) -> String {
    let left = valid_until.saturating_sub(now);
    if left == 0 {
        return "The codes have expired: if the console has not accepted them yet, answer n and run ykmfa again.".to_owned();
    }
    let stamp = crate::timestamp::format(valid_until);
    let clock = stamp.get(11..19).unwrap_or_default();
    format!("Enter them within {left} s (until {clock} UTC).")
}

/// Asks `question` on the terminal, through `say` (the binary writes it to stderr), with the
/// time left to type the codes ([`validity`]) above it, redrawn each second, until an answer
/// from /dev/tty; `None`: `interrupted` came first.
pub async fn ask_on_tty(
    question: &str,
    valid_until: u64,
    interrupted: impl Future<Output = ()>,
    clock: &dyn Clock,
    say: impl Fn(&str),
) -> Option<Confirmation> {
    let (tx, mut answers) = tokio::sync::mpsc::unbounded_channel::<String>();
    // A blocking read of the terminal, on its own thread; the end of input drops `tx`.
    std::thread::spawn(move || {
        let Ok(tty) = std::fs::File::open("/dev/tty") else {
            return;
        };
        let lines = io::BufRead::lines(io::BufReader::new(tty));
        let _ = lines.map_while(Result::ok).try_for_each(|l| tx.send(l));
    });
    let ticking = std::env::var("TERM").map_or(true, |t| t != "dumb");
    let countdown = |now| validity(valid_until, now);
    say(&format!("{}\n{question}", countdown(clock.now())));
    let show = |asking| match asking {
        Asking::Again => say(&format!(
            "Please answer y or n.\n{}\n{question}",
            countdown(clock.now())
        )),
        // Save the cursor, rewrite the line above the question, restore: what the person is
        // typing stays where it is.
        Asking::Tick(t) => say(&format!("\x1b7\x1b[1A\r\x1b[2K{}\x1b8", countdown(t))),
    };
    await_verdict(&mut answers, interrupted, valid_until, clock, ticking, show).await
}
