//! Asking a person for something: the words of the questions and of their failures. The
//! terminal reading (no echo, restored on a signal) is [`ykmfa::terminal`]'s.

use zeroize::Zeroizing;

use ykmfa::terminal::Consent;
pub use ykmfa::terminal::{confirm, secret};

/// Called on a stop signal: if a secret is being typed, the terminal gets its echo back and the
/// command ends (exit 130; nothing has changed while a question is open). Otherwise nothing.
pub fn abandon_secret() {
    if ykmfa::terminal::abandon_secret() {
        ykmfa::terminal::say("error: interrupted; nothing was changed\n");
        std::process::exit(super::report::Exit::Interrupted as i32);
    }
}

/// A failed prompt as a failure: Ctrl-C is an interruption (exit 130), anything else a usage
/// problem with a way around the terminal.
pub fn failure(e: std::io::Error, what: &str, instead: &str) -> super::Failure {
    use super::report::Exit;
    if e.kind() == std::io::ErrorKind::Interrupted {
        super::Failure::new(Exit::Interrupted, "interrupted; nothing was changed", &[])
    } else {
        super::Failure::new(Exit::Usage, format!("cannot read {what}: {e}"), &[instead])
    }
}

/// A yes before a change: `--yes` (`yes`), or a person's "y" on the terminal. Without a
/// terminal, `no_terminal`; a "n", `declined`.
pub fn agree(
    yes: bool,
    question: &str,
    no_terminal: impl FnOnce() -> super::Failure,
    declined: impl FnOnce() -> super::Failure,
) -> Result<(), super::Failure> {
    match ykmfa::terminal::consent(yes, question) {
        Ok(Consent::Given) => Ok(()),
        Ok(Consent::Refused) => Err(declined()),
        Ok(Consent::NoTerminal) => Err(no_terminal()),
        Err(e) => Err(failure(e, "the answer", "pass --yes instead")),
    }
}

/// The token's OATH password ([`ykmfa::token::password::given`]), asked without echo when
/// `ask` (the caller's rule: `--oath-password`, or a person and a protected token).
pub fn oath_password(ask: bool, token: &str) -> Result<Option<Zeroizing<String>>, super::Failure> {
    let instead = "set YKMFA_OATH_PASSWORD instead";
    let asked = || secret(&format!("OATH password for {token}: "));
    ykmfa::token::password::given(ask, || {
        asked().map_err(|e| failure(e, "the password", instead))
    })
}
