//! `ykmfa enroll --root`: AWS enrolls the root user's MFA only in the console. ykmfa reads the
//! secret the console shows, writes it to a token, and prints the two codes the console asks for;
//! if the console refuses them, it removes the credential again. No AWS credentials are needed.
//!
//! The secret is never echoed: it is asked for with echo off, or read from a pipe (never from a
//! terminal, which would echo it), or decoded in memory from a PNG of the QR code.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;

use ykmfa::mfa::enroll::root::{
    self, Confirmation, ConsoleSecret, SecretError, Source, SourceError, Written,
};
use ykmfa::mfa::enroll::{Cause, Refusal};
use ykmfa::mfa::{labels, remedy, Cancel, Clock, Leftover, SystemClock};
use ykmfa::oath::CredentialId;
use ykmfa::token::{Card, PcscCard, Serial};

use super::interrupt::Interrupt;
use super::report::{self, validity, Exit};
use super::token_args::TokenArgs;
use super::{prompt, Failure, Output};

const QUESTION: &str =
    "Did the console accept the codes? y keeps the credential; n removes it from the token [y/n] ";

/// The flags of `ykmfa enroll` for the root user.
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "Root user (with the AWS console)")]
pub struct RootArgs {
    /// Enroll the root user, with the console: AWS allows root MFA nowhere else.
    ///
    /// In the console, signed in as root: Security credentials, Assign MFA device,
    /// Authenticator app. ykmfa reads the secret the console shows (asked without echo after
    /// "Show secret key", or --secret-stdin, or --qr), writes it to the token, and prints the
    /// two codes for the console's "MFA code 1" and "MFA code 2". If the console refuses them,
    /// answer n and the credential is removed again. No AWS credentials are needed.
    #[arg(long)]
    pub root: bool,
    /// Read the secret (Base32, or an otpauth:// URI) from a pipe on stdin, not from the terminal.
    #[arg(long, requires = "root", conflicts_with_all = ["qr", "user"])]
    pub secret_stdin: bool,
    /// Read the secret from the console's QR code: a PNG file, or - for PNG bytes on stdin.
    ///
    /// Decoded in memory, never written anywhere. From the clipboard (after copying the QR
    /// image): wl-paste -t image/png | ykmfa enroll --root --qr - (Wayland), or
    /// xclip -selection clipboard -t image/png -o | ykmfa enroll --root --qr - (X11).
    /// A screenshot file holds the secret: delete it afterwards.
    #[arg(
        long,
        value_name = "FILE.png|-",
        requires = "root",
        conflicts_with = "user"
    )]
    pub qr: Option<PathBuf>,
    /// The AWS account id, for the credential name when the QR code gives none
    /// [default name: "Amazon Web Services:root@ACCOUNT", or "…@aws" without it].
    #[arg(long, value_name = "ID", requires = "root", conflicts_with = "user")]
    pub account: Option<String>,
}

/// Where the secret comes from: decided before any token is touched, so that a missing
/// terminal fails at once.
fn source(args: &RootArgs) -> Result<Source, Failure> {
    let source = Source::of(args.qr.as_deref(), args.secret_stdin);
    if source.reads_stdin() && std::io::stdin().is_terminal() {
        return Err(if source.is_qr() {
            usage(
                "--qr - reads PNG bytes from a pipe, and stdin is a terminal",
                &["wl-paste -t image/png | ykmfa enroll --root --qr -   (Wayland clipboard)",
                  "xclip -selection clipboard -t image/png -o | ykmfa enroll --root --qr -   (X11 clipboard)"],
            )
        } else {
            usage(
                "--secret-stdin reads a pipe, and stdin is a terminal: it would show the secret as you type",
                &["leave out --secret-stdin to be asked without echo, or pipe the secret in"],
            )
        });
    }
    if source == Source::Prompt && !prompt::terminal_available() {
        return Err(usage(
            "there is no terminal to ask for the secret on",
            &[
                "pipe it in: ... | ykmfa enroll --root --secret-stdin",
                "or read the QR code: ykmfa enroll --root --qr FILE.png",
            ],
        ));
    }
    Ok(source)
}

fn usage(what: impl Into<String>, fix: &[&str]) -> Failure {
    Failure::new(Exit::Usage, what, fix)
}

fn source_failure(e: SourceError, from_qr: bool) -> Failure {
    match e {
        SourceError::Ask(e) => {
            prompt::failure(e, "the secret", "pipe it with --secret-stdin, or give --qr")
        }
        SourceError::Read { .. } => usage(e.to_string(), &[]),
        SourceError::Secret(e) => secret_failure(e, from_qr),
    }
}

/// The secret's errors never hold the secret; this adds what to do.
fn secret_failure(e: SecretError, from_qr: bool) -> Failure {
    let fix: &[&str] = match &e {
        SecretError::Seed(_) => &["copy the secret again from the console (\"Show secret key\"): Base32 is letters A-Z and digits 2-7"],
        SecretError::NotOtpauth | SecretError::Qr(_) => &[
            "use the QR code the console shows under Assign MFA device, Authenticator app",
            "or click \"Show secret key\" and give the text instead (asked without echo, or --secret-stdin)",
        ],
        SecretError::NotTotp | SecretError::Algorithm(_) | SecretError::Digits(_) | SecretError::Period(_) => {
            &["this is not an AWS virtual MFA secret: use the QR code of the AWS console's Assign MFA device"]
        }
        SecretError::Label(_) => &["give the credential name yourself: --label 'ISSUER:ACCOUNT'"],
        SecretError::NoSecret | SecretError::Repeated(_) | SecretError::Encoding => {
            &["use the QR code the console shows, or the text behind \"Show secret key\""]
        }
    };
    let what = match &e {
        SecretError::Qr(_) => format!("cannot read the QR code: {e}"),
        SecretError::NotOtpauth if from_qr => {
            "the QR code does not hold an otpauth:// URI (the console's MFA QR code does)"
                .to_owned()
        }
        _ => format!("cannot use the secret: {e}"),
    };
    usage(what, fix)
}

fn cause_failure(cause: Cause, token_serial: Option<Serial>) -> Failure {
    let what = cause.to_string();
    match cause {
        Cause::Refused(Refusal::CredentialExists(name)) => Failure {
            what,
            fix: vec![
                "ykmfa never overwrites a credential: choose another --label".to_owned(),
                format!(
                    "or, if the old one is unused, delete it: {}",
                    remedy::ykman_delete(&name, token_serial)
                ),
            ],
            code: Exit::Token,
        },
        Cause::Refused(Refusal::TokenFull(_)) => {
            Failure::new(Exit::Token, what, &[report::FREE_A_SLOT])
        }
        Cause::Refused(Refusal::LabelTooLong(..)) => Failure::new(
            Exit::Usage,
            what,
            &["choose a shorter name: --label 'AWS:root@ACCOUNT'"],
        ),
        Cause::Card { error, .. } => error.into(),
        _ => Failure::new(Exit::Failed, what, &[]),
    }
}

fn leftover_failure(mut failure: Failure, left: &Leftover) -> Failure {
    failure.code = Exit::Incomplete;
    failure.what.push_str(&format!(
        "\nThis could not be undone and remains:\n  - {}",
        left.describe()
    ));
    failure.fix = left.commands("");
    failure
}

/// How the wait for an answer ended.
enum Asked {
    Answer(Confirmation),
    Interrupted,
}

/// Asks [`QUESTION`] on the terminal with a countdown above it that updates each second, until
/// an answer or Ctrl-C.
async fn ask(valid_until: u64, interrupt: &Interrupt) -> Asked {
    let (tx, mut answers) = tokio::sync::mpsc::unbounded_channel::<String>();
    // A blocking read of the terminal, on its own thread; the end of input drops `tx`.
    std::thread::spawn(move || {
        let Ok(tty) = std::fs::File::open("/dev/tty") else {
            return;
        };
        let mut lines = std::io::BufReader::new(tty);
        loop {
            let mut line = String::new();
            match std::io::BufRead::read_line(&mut lines, &mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {
                    if tx.send(line).is_err() {
                        return;
                    }
                }
            }
        }
    });
    let redraw = std::env::var("TERM").map_or(true, |t| t != "dumb");
    let mut err = std::io::stderr();
    let _ = write!(
        err,
        "{}\n{QUESTION}",
        validity(valid_until, SystemClock.now())
    );
    let _ = err.flush();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut expired = false;
    loop {
        tokio::select! {
            line = answers.recv() => match Confirmation::of(line.as_deref()) {
                Confirmation::AskAgain => {
                    let _ = write!(err, "Please answer y or n.\n{}\n{QUESTION}", validity(valid_until, SystemClock.now()));
                    let _ = err.flush();
                }
                answer => return Asked::Answer(answer),
            },
            () = interrupt.notified() => return Asked::Interrupted,
            _ = tick.tick(), if redraw && !expired => {
                let t = SystemClock.now();
                expired = t >= valid_until;
                // Save the cursor, rewrite the line above the question, restore: what the
                // person is typing stays where it is.
                let _ = write!(err, "\x1b7\x1b[1A\r\x1b[2K{}\x1b8", validity(valid_until, t));
                let _ = err.flush();
            }
        }
    }
}

/// Runs `ykmfa enroll --root`, with `enroll`'s token block, `--label` and `--touch`.
/// With the global `--yes`, it doesn't ask whether the console accepted the codes: the
/// credential stays.
pub async fn run(
    out: &Output,
    args: &RootArgs,
    token: &TokenArgs,
    label: Option<&str>,
    touch: bool,
    yes: bool,
) -> Result<(), Failure> {
    let account = match args.account.as_deref() {
        Some(text) => Some(root::account_id(text).ok_or_else(|| {
            usage(
                format!(
                    "--account '{}' is not an AWS account id (12 digits)",
                    text.trim()
                ),
                &["the console shows it in the account menu, top right"],
            )
        })?),
        None => None,
    };
    let explicit = label
        .map(labels::parse)
        .transpose()
        .map_err(|e| usage(format!("--label: {e}"), &["see 'ykmfa enroll --help'"]))?;
    let source = source(args)?;

    let mut card = token.open(out)?;
    let token_serial = card.token().serial;
    let ConsoleSecret { seed, label } = source
        .read(|| {
            prompt::secret(
                "Secret key from the console (\"Show secret key\"; not shown as you type): ",
            )
        })
        .map_err(|e| source_failure(e, source.is_qr()))?;
    // An explicit --label wins over the QR code's; the QR code's over the default.
    let id = match (explicit, label) {
        (Some(id), _) | (None, Some(id)) => id,
        (None, None) => {
            labels::root_label(account).map_err(|r| cause_failure(r.into(), token_serial))?
        }
    };
    tokio::task::block_in_place(|| root::check(&mut card, &id))
        .map_err(|c| cause_failure(c, token_serial))?;

    // From the write on, a stop signal asks for the credential to be removed again.
    let interrupt = Interrupt::watch(
        &Cancel::default(),
        "removing the credential from the token. Send it again to quit at once (it then stays).",
        "Quit: the credential stays on the token.",
    )?;
    let token = card.describe();
    out.info(format!(
        "Writing '{id}' to {token} and computing two codes..."
    ));
    if touch {
        out.info("Touch your token when it blinks (twice).");
    }
    let now = SystemClock.now();
    let written = tokio::task::block_in_place(|| root::write(&mut card, &id, seed, touch, now))
        .map_err(|f| {
            let failure = cause_failure(f.cause, token_serial);
            match f.leftovers.first() {
                Some(left) => leftover_failure(failure, left),
                None if !f.undone.is_empty() => Failure {
                    what: format!(
                        "{}\nThe credential was removed again: nothing is left on the token.",
                        failure.what
                    ),
                    ..failure
                },
                None => failure,
            }
        })?;
    if interrupt.signal().is_some() {
        return Err(undo(out, &mut card, &id, Undo::Interrupted));
    }

    show(out, &written);
    if yes || !prompt::terminal_available() {
        out.info(validity(written.valid_until, SystemClock.now()));
        out.info(format!(
            "'{id}' stays on {token}. If the console did not accept the codes, remove it: {}",
            remedy::ykman_delete(&id.to_string(), token_serial)
        ));
        out.info(next_sign_in(&id));
        return Ok(());
    }
    match ask(written.valid_until, &interrupt).await {
        Asked::Answer(Confirmation::Remove) => Err(undo(out, &mut card, &id, Undo::Refused)),
        Asked::Interrupted => Err(undo(out, &mut card, &id, Undo::Interrupted)),
        Asked::Answer(_) => {
            out.info(format!(
                "Done: the root user's MFA is on {token} as '{id}'. {}",
                next_sign_in(&id)
            ));
            Ok(())
        }
    }
}

fn show(out: &Output, written: &Written) {
    let [first, second] = &written.codes;
    if out.json {
        out.json(&json!({
            "schema": "ykmfa.enroll-root/1",
            "credential": written.credential,
            "codes": [first.value, second.value],
            "valid_until": written.valid_until,
        }));
    } else {
        out.info("Type these into the console, in this order (MFA code 1, MFA code 2):");
        out.result(&first.value);
        out.result(&second.value);
    }
}

fn next_sign_in(id: &CredentialId) -> String {
    format!(
        "The codes just used can't sign in again: the next sign-in needs a fresh one ({}).",
        remedy::ykman_code(&id.to_string())
    )
}

/// Why a written credential is removed again.
enum Undo {
    Refused,
    Interrupted,
}

fn undo(out: &Output, card: &mut PcscCard, id: &CredentialId, why: Undo) -> Failure {
    let mut failure = match why {
        Undo::Refused => Failure::new(
            Exit::Failed,
            "the console did not accept the codes",
            &["in the console, close the dialog and start Assign MFA device again; then run ykmfa enroll --root again"],
        ),
        Undo::Interrupted => Failure::new(Exit::Interrupted, "interrupted", &[]),
    };
    match tokio::task::block_in_place(|| root::remove(card, id)) {
        Ok(_) => {
            out.info(format!(
                "Removed '{id}' from {}: nothing is left of this attempt.",
                card.describe()
            ));
            failure
                .what
                .push_str("; the credential was removed from the token");
            failure
        }
        Err(left) => leftover_failure(failure, &left),
    }
}
