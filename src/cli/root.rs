//! `ykmfa enroll --root`: AWS enrolls the root user's MFA only in the console. ykmfa reads the
//! secret the console shows, writes it to a token, and prints the two codes the console asks for;
//! if the console refuses them, it removes the credential again. No AWS credentials are needed.
//!
//! The secret is never echoed: it is asked for with echo off, or read from a pipe (never from a
//! terminal, which would echo it), or decoded in memory from a PNG of the QR code.

use std::io::IsTerminal;
use std::path::PathBuf;

use ykmfa::mfa::enroll::root::{self, Confirmation, SecretError, Source, SourceError};
use ykmfa::mfa::enroll::root::{Unreadable, Written};
use ykmfa::mfa::enroll::{Cause, Refusal};
use ykmfa::mfa::{labels, remedy, Cancel, Clock, SystemClock};
use ykmfa::token::{Card, Serial};

use super::interrupt::Interrupt;
use super::report::{self, Exit};
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
    let stdin_is_terminal = std::io::stdin().is_terminal();
    let Some(why) = source.unreadable(stdin_is_terminal, ykmfa::terminal::available) else {
        return Ok(source);
    };
    Err(match why {
        Unreadable::TerminalStdin if source.is_qr() => usage(
            "--qr - reads PNG bytes from a pipe, and stdin is a terminal",
            &["wl-paste -t image/png | ykmfa enroll --root --qr -   (Wayland clipboard)",
              "xclip -selection clipboard -t image/png -o | ykmfa enroll --root --qr -   (X11 clipboard)"],
        ),
        Unreadable::TerminalStdin => usage(
            "--secret-stdin reads a pipe, and stdin is a terminal: it would show the secret as you type",
            &["leave out --secret-stdin to be asked without echo, or pipe the secret in"],
        ),
        Unreadable::NoTerminal => usage(
            "there is no terminal to ask for the secret on",
            &[
                "pipe it in: ... | ykmfa enroll --root --secret-stdin",
                "or read the QR code: ykmfa enroll --root --qr FILE.png",
            ],
        ),
    })
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
    let (code, fix) = match cause {
        Cause::Refused(Refusal::CredentialExists(name)) => {
            let delete = remedy::ykman_delete(&name, token_serial);
            let fix = [
                "ykmfa never overwrites a credential: choose another --label",
                &format!("or, if the old one is unused, delete it: {delete}"),
            ];
            return Failure::new(Exit::Token, what, &fix);
        }
        Cause::Refused(Refusal::TokenFull(_)) => (Exit::Token, report::FREE_A_SLOT),
        Cause::Refused(Refusal::LabelTooLong(..)) => (
            Exit::Usage,
            "choose a shorter name: --label 'AWS:root@ACCOUNT'",
        ),
        Cause::Card { error, .. } => return error.into(),
        _ => return Failure::new(Exit::Failed, what, &[]),
    };
    Failure::new(code, what, &[fix])
}

/// Why the secret could not be used or written, or the credential was removed again, in
/// words; with what is left, if anything, and the commands that remove it.
fn failed(e: root::Error, token_serial: Option<Serial>, from_qr: bool) -> Failure {
    let (remains, left) = (e.remains(), e.leftover().map(|l| l.commands("")));
    let mut failure = match e {
        root::Error::Source(e) => return source_failure(e, from_qr),
        root::Error::Failed(f) => cause_failure(f.cause, token_serial),
        root::Error::Undone { interrupted, .. } => stopped(interrupted),
    };
    failure.what += &remains;
    if let Some(fix) = left {
        failure.code = Exit::Incomplete;
        failure.fix = fix;
    }
    failure
}

/// The person's side of the written credential: the codes, and the question.
struct Codes<'a> {
    out: &'a Output,
    interrupt: &'a Interrupt,
    /// Without a question: that the credential stays, and how to remove it.
    stays: Option<String>,
}

impl root::Console for Codes<'_> {
    fn interrupted(&self) -> bool {
        self.interrupt.signal().is_some()
    }

    fn show(&self, written: &Written) {
        let [first, second] = &written.codes;
        if self.out.json {
            self.out.json(&written.json());
        } else {
            let out = self.out;
            out.info(written.instructions());
            out.result(&first.value);
            out.result(&second.value);
        }
    }

    async fn verdict(&self, written: &Written) -> Option<Confirmation> {
        let valid_until = written.valid_until;
        if let Some(stays) = &self.stays {
            self.out
                .info(root::validity(valid_until, SystemClock.now()));
            self.out.info(stays);
            return Some(Confirmation::Keep);
        }
        let say = ykmfa::terminal::say;
        let interrupted = self.interrupt.notified();
        root::ask_on_tty(QUESTION, valid_until, interrupted, &SystemClock, say).await
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
    let account = args.account.as_deref().map(|text| {
        let what = format!(
            "--account '{}' is not an AWS account id (12 digits)",
            text.trim()
        );
        let fix = ["the console shows it in the account menu, top right"];
        root::account_id(text).ok_or_else(|| usage(what, &fix))
    });
    let account = account.transpose()?;
    let explicit = label.map(labels::parse).transpose();
    let explicit = explicit.map_err(|e| report::usage("enroll", format!("--label: {e}")))?;
    let source = source(args)?;

    let mut card = token.open(out)?;
    let token_serial = card.token().serial;
    let secret = || {
        prompt::secret("Secret key from the console (\"Show secret key\"; not shown as you type): ")
    };
    let ready = tokio::task::block_in_place(|| {
        root::prepare(&mut card, &source, secret, explicit, account)
    });
    let ready = ready.map_err(|e| failed(e, token_serial, source.is_qr()))?;

    // From the write on, a stop signal asks for the credential to be removed again.
    let interrupt = Interrupt::watch(
        &Cancel::default(),
        "removing the credential from the token. Send it again to quit at once (it then stays).",
        "Quit: the credential stays on the token.",
    )?;
    let (id, token) = (ready.id.clone(), card.describe());
    out.info(ready.writing(&token, touch));
    let stays = (yes || !ykmfa::terminal::available()).then(|| ready.stays(&token, token_serial));
    let asks = stays.is_none();
    let codes = Codes {
        out,
        interrupt: &interrupt,
        stays,
    };
    match ready
        .enroll(&mut card, touch, SystemClock.now(), &codes)
        .await
    {
        Ok(written) if asks => out.info(written.done(&token)),
        Ok(_) => {}
        Err(e @ root::Error::Undone { left: None, .. }) => {
            out.info(root::removed(&id, &token));
            return Err(failed(e, token_serial, source.is_qr()));
        }
        Err(e) => return Err(failed(e, token_serial, source.is_qr())),
    }
    Ok(())
}

/// A stop signal came (`interrupted`), or the console refused the codes.
fn stopped(interrupted: bool) -> Failure {
    if interrupted {
        return Failure::new(Exit::Interrupted, "interrupted", &[]);
    }
    Failure::new(Exit::Failed, "the console did not accept the codes", &["in the console, close the dialog and start Assign MFA device again; then run ykmfa enroll --root again"])
}
