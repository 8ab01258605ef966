//! `ykmfa enroll --root`: AWS enrolls the root user's MFA only in the console. ykmfa reads the
//! secret the console shows, writes it to a token, and prints the two codes the console asks for;
//! if the console refuses them, it removes the credential again. No AWS credentials are needed.
//!
//! The secret is never echoed: it is asked for with echo off, or read from a pipe (never from a
//! terminal, which would echo it), or decoded in memory from a PNG of the QR code.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;
use zeroize::Zeroizing;

use ykmfa::mfa::enroll::root::{self, ConsoleSecret, SecretError, Written};
use ykmfa::mfa::enroll::{Cause, Refusal};
use ykmfa::mfa::Leftover;
use ykmfa::oath::CredentialId;
use ykmfa::seed::SeedError;
use ykmfa::token;
use ykmfa::token::{Card, PcscCard};
use ykmfa::transport::pcsc::Context;

use super::enroll::EnrollArgs;
use super::interrupt::Interrupt;
use super::report::Exit;
use super::{prompt, Failure, Output};

/// Secret text longer than this is not a secret someone pasted.
const MAX_SECRET_TEXT: usize = 4096;
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

/// Where the secret comes from.
enum Source {
    Prompt,
    Stdin,
    QrFile(PathBuf),
    QrStdin,
}

impl Source {
    /// Decided before any token is touched, so that a missing terminal fails at once.
    fn of(args: &RootArgs) -> Result<Self, Failure> {
        let stdin_is_terminal = std::io::stdin().is_terminal();
        let source = match &args.qr {
            Some(p) if p.as_os_str() == "-" => Source::QrStdin,
            Some(p) => Source::QrFile(p.clone()),
            None if args.secret_stdin => Source::Stdin,
            None => Source::Prompt,
        };
        match source {
            Source::Stdin if stdin_is_terminal => Err(usage(
                "--secret-stdin reads a pipe, and stdin is a terminal: it would show the secret as you type",
                &["leave out --secret-stdin to be asked without echo, or pipe the secret in"],
            )),
            Source::QrStdin if stdin_is_terminal => Err(usage(
                "--qr - reads PNG bytes from a pipe, and stdin is a terminal",
                &["wl-paste -t image/png | ykmfa enroll --root --qr -   (Wayland clipboard)",
                  "xclip -selection clipboard -t image/png -o | ykmfa enroll --root --qr -   (X11 clipboard)"],
            )),
            Source::Prompt if !terminal_available() => Err(usage(
                "there is no terminal to ask for the secret on",
                &["pipe it in: ... | ykmfa enroll --root --secret-stdin", "or read the QR code: ykmfa enroll --root --qr FILE.png"],
            )),
            s => Ok(s),
        }
    }

    fn read(&self) -> Result<ConsoleSecret, Failure> {
        let secret = match self {
            Source::Prompt => {
                let text = prompt::secret(
                    "Secret key from the console (\"Show secret key\"; not shown as you type): ",
                )
                .map_err(|e| {
                    prompt::failure(e, "the secret", "pipe it with --secret-stdin, or give --qr")
                })?;
                ConsoleSecret::from_text(&text)
            }
            Source::Stdin => {
                let bytes = read_stdin(MAX_SECRET_TEXT)?;
                let text = std::str::from_utf8(&bytes)
                    .map_err(|_| secret_failure(SecretError::Seed(SeedError::NotBase32), false))?;
                ConsoleSecret::from_text(text)
            }
            Source::QrFile(path) => {
                let file = std::fs::File::open(path)
                    .map_err(|e| usage(format!("cannot read {}: {e}", path.display()), &[]))?;
                let png = read_limited(file, root::MAX_PNG_BYTES)
                    .map_err(|e| read_error(&path.display().to_string(), e))?;
                ConsoleSecret::from_qr_png(&png)
            }
            Source::QrStdin => ConsoleSecret::from_qr_png(&read_stdin(root::MAX_PNG_BYTES)?),
        };
        let from_qr = matches!(self, Source::QrFile(_) | Source::QrStdin);
        secret.map_err(|e| secret_failure(e, from_qr))
    }
}

/// Whether a person can be asked something: stderr shows it and the terminal can be read (stdin
/// may be a pipe carrying the secret or the PNG).
pub(super) fn terminal_available() -> bool {
    std::io::stderr().is_terminal()
        && std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .is_ok()
}

/// Reads stdin without std's buffered `Stdin`, whose buffer would keep a copy nobody zeroizes.
fn read_stdin(limit: usize) -> Result<Zeroizing<Vec<u8>>, Failure> {
    use std::os::fd::AsFd;
    let fd = std::io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| read_error("stdin", e))?;
    read_limited(std::fs::File::from(fd), limit).map_err(|e| read_error("stdin", e))
}

/// Reads everything into zeroizing chunks, then one buffer of the exact size: a growing `Vec`
/// would leave copies of what it held behind in freed memory.
fn read_limited(mut from: impl Read, limit: usize) -> std::io::Result<Zeroizing<Vec<u8>>> {
    const CHUNK: usize = 64 * 1024;
    let mut chunks: Vec<Zeroizing<Vec<u8>>> = Vec::new();
    let mut total = 0;
    loop {
        let mut chunk = Zeroizing::new(vec![0u8; CHUNK]);
        let mut filled = 0;
        while filled < CHUNK {
            match from.read(&mut chunk[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        total += filled;
        if total > limit {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("more than {limit} bytes"),
            ));
        }
        chunk.truncate(filled);
        let last = filled < CHUNK;
        chunks.push(chunk);
        if last {
            break;
        }
    }
    let mut all = Zeroizing::new(Vec::with_capacity(total));
    for c in &chunks {
        all.extend_from_slice(c);
    }
    Ok(all)
}

fn usage(what: impl Into<String>, fix: &[&str]) -> Failure {
    Failure::new(Exit::Usage, what, fix)
}

fn read_error(what: &str, e: std::io::Error) -> Failure {
    usage(format!("cannot read {what}: {e}"), &[])
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

/// `--account`: AWS account ids are 12 digits.
fn account_id(text: &str) -> Result<&str, Failure> {
    let text = text.trim();
    if text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()) {
        Ok(text)
    } else {
        Err(usage(
            format!("--account '{text}' is not an AWS account id (12 digits)"),
            &["the console shows it in the account menu, top right"],
        ))
    }
}

fn label(text: &str) -> Result<CredentialId, Failure> {
    let (issuer, account) = match text.split_once(':') {
        Some((i, a)) => (Some(i), a),
        None => (None, text),
    };
    CredentialId::totp(issuer, account)
        .map_err(|e| usage(format!("--label: {e}"), &["see 'ykmfa enroll --help'"]))
}

fn cause_failure(cause: Cause, token_serial: Option<token::Serial>) -> Failure {
    let what = cause.to_string();
    match cause {
        Cause::Refused(Refusal::CredentialExists(name)) => Failure {
            what,
            fix: vec![
                "ykmfa never overwrites a credential: choose another --label".to_owned(),
                format!("or, if the old one is unused, delete it: {}", delete_command(token_serial, &name)),
            ],
            code: Exit::Token,
        },
        Cause::Refused(Refusal::TokenFull(_)) => Failure::new(
            Exit::Token,
            what,
            &["delete an unused credential (ykman oath accounts delete NAME) or use another token"],
        ),
        Cause::Refused(Refusal::LabelTooLong(..)) => Failure::new(
            Exit::Usage,
            what,
            &["choose a shorter name: --label 'AWS:root@ACCOUNT'"],
        ),
        Cause::Card { error, .. } => error.into(),
        _ => Failure::new(Exit::Failed, what, &[]),
    }
}

fn delete_command(serial: Option<token::Serial>, name: &str) -> String {
    let device = serial.map(|s| format!(" --device {s}")).unwrap_or_default();
    format!(
        "ykman{device} oath accounts delete '{}'",
        name.replace('\'', r"'\''")
    )
}

fn leftover_failure(mut failure: Failure, left: &Leftover) -> Failure {
    if let Leftover::Credential {
        name,
        token_serial,
        token,
        reason,
    } = left
    {
        failure.code = Exit::Incomplete;
        failure.what.push_str(&format!(
            "\nThis could not be undone and remains:\n  - credential '{name}' on {token} ({reason})"
        ));
        failure.fix = vec![delete_command(*token_serial, name)];
    }
    failure
}

/// What a person answered to [`QUESTION`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Confirmation {
    /// The console accepted the codes: the credential stays.
    Keep,
    /// It did not: the credential goes.
    Remove,
    /// Neither yes nor no.
    AskAgain,
}

/// An empty answer is not a no: deleting a credential the console did accept would leave the
/// root user with an MFA device nobody can answer for, so only an explicit n removes it. The end
/// of input (Ctrl-D) keeps it, for the same reason.
fn confirmation(answer: Option<&str>) -> Confirmation {
    match answer.map(|a| a.trim().to_ascii_lowercase()).as_deref() {
        None | Some("y" | "yes") => Confirmation::Keep,
        Some("n" | "no") => Confirmation::Remove,
        Some(_) => Confirmation::AskAgain,
    }
}

/// How the wait for an answer ended.
enum Asked {
    Answer(Confirmation),
    Interrupted,
}

pub(super) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// "valid for 47 s more (until 12:34:56 UTC)", or that they have expired.
pub(super) fn validity(valid_until: u64, now: u64) -> String {
    let left = valid_until.saturating_sub(now);
    if left == 0 {
        return "The codes have expired: if the console has not accepted them yet, answer n and run ykmfa again.".to_owned();
    }
    let t = valid_until % 86_400;
    format!(
        "Enter them within {left} s (until {:02}:{:02}:{:02} UTC).",
        t / 3600,
        t / 60 % 60,
        t % 60
    )
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
    let _ = write!(err, "{}\n{QUESTION}", validity(valid_until, now()));
    let _ = err.flush();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut expired = false;
    loop {
        tokio::select! {
            line = answers.recv() => match confirmation(line.as_deref()) {
                Confirmation::AskAgain => {
                    let _ = write!(err, "Please answer y or n.\n{}\n{QUESTION}", validity(valid_until, now()));
                    let _ = err.flush();
                }
                answer => return Asked::Answer(answer),
            },
            () = interrupt.notified() => return Asked::Interrupted,
            _ = tick.tick(), if redraw && !expired => {
                let t = now();
                expired = t >= valid_until;
                // Save the cursor, rewrite the line above the question, restore: what the
                // person is typing stays where it is.
                let _ = write!(err, "\x1b7\x1b[1A\r\x1b[2K{}\x1b8", validity(valid_until, t));
                let _ = err.flush();
            }
        }
    }
}

/// Runs `ykmfa enroll --root`.
/// With the global `--yes`, it doesn't ask whether the console accepted the codes: the
/// credential stays.
pub async fn run(out: &Output, args: &EnrollArgs, yes: bool) -> Result<(), Failure> {
    let opts = &args.root;
    let account = opts.account.as_deref().map(account_id).transpose()?;
    let explicit = args.label.as_deref().map(label).transpose()?;
    let source = Source::of(opts)?;

    let ctx = Context::establish()?;
    let wait = Duration::from_secs(args.wait.unwrap_or(if prompt::has_tty() { 30 } else { 0 }));
    let chosen = token::find(&ctx, args.serial, wait, || {
        out.info(format!(
            "Please insert your token (waiting up to {} s)...",
            wait.as_secs()
        ))
    })?;
    let password = super::enroll::oath_password(args, &chosen)?;
    let token_serial = chosen.serial;
    let mut card = PcscCard::new(ctx, chosen, password);

    let ConsoleSecret { seed, label } = source.read()?;
    // An explicit --label wins over the QR code's; the QR code's over the default.
    let id = match (explicit, label) {
        (Some(id), _) | (None, Some(id)) => id,
        (None, None) => ykmfa::mfa::labels::root_label(account)
            .map_err(|r| cause_failure(Refusal::from(r).into(), token_serial))?,
    };
    tokio::task::block_in_place(|| root::check(&mut card, &id))
        .map_err(|c| cause_failure(c, token_serial))?;

    // From the write on, a stop signal asks for the credential to be removed again.
    let interrupt = Interrupt::watch(
        &ykmfa::mfa::Cancel::default(),
        "removing the credential from the token. Send it again to quit at once (it then stays).",
        "Quit: the credential stays on the token.",
    )?;
    let token = card.describe();
    out.info(format!(
        "Writing '{id}' to {token} and computing two codes..."
    ));
    if args.touch {
        out.info("Touch your token when it blinks (twice).");
    }
    let written =
        tokio::task::block_in_place(|| root::write(&mut card, &id, seed, args.touch, now()))
            .map_err(|f| {
                let mut failure = cause_failure(f.cause, token_serial);
                match f.leftovers.first() {
                    Some(left) => failure = leftover_failure(failure, left),
                    None if !f.undone.is_empty() => failure.what.push_str(
                        "\nThe credential was removed again: nothing is left on the token.",
                    ),
                    None => {}
                }
                failure
            })?;
    if interrupt.signal().is_some() {
        return Err(undo(out, &mut card, &id, Undo::Interrupted));
    }

    show(out, &written);
    let ask_first = !yes && terminal_available();
    if !ask_first {
        out.info(validity(written.valid_until, now()));
        out.info(format!(
            "'{id}' stays on {token}. If the console did not accept the codes, remove it: {}",
            delete_command(token_serial, &id.to_string())
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
        "The codes just used can't sign in again: the next sign-in needs a fresh one (ykman oath accounts code '{}').",
        id.to_string().replace('\'', r"'\''")
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

#[cfg(test)]
mod tests;
