//! Whether a person is there to be asked (ykmfa never puts a question to a script, a pipe or
//! CI, which get a clear error instead), and the asking itself: a secret without echo, or a
//! yes/no. Questions are read from the terminal (`/dev/tty`), not stdin, so piped input stays
//! for data. The questions' words are the binary's.

use std::io::{IsTerminal, Read, Write};
use std::time::Duration;

use zeroize::Zeroizing;

/// Whether a person is at a terminal: stdin and stderr both are one.
pub fn has_tty() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Whether a person can be asked something: stderr shows it and the terminal can be read (stdin
/// may be a pipe carrying data, such as a secret or a PNG).
pub fn available() -> bool {
    std::io::stderr().is_terminal()
        && std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .is_ok()
}

/// One typed line per question. When stdin is a terminal each question is shown on stderr
/// before its line is read; otherwise stdin's next lines are the answers (a script pipes them)
/// and nothing is shown. The end of input before the last answer is `UnexpectedEof`.
pub fn answers(questions: &[&str]) -> std::io::Result<Vec<Zeroizing<String>>> {
    use std::io::BufRead;
    let asking = std::io::stdin().is_terminal();
    let mut input = std::io::stdin().lock();
    let mut out = Vec::with_capacity(questions.len());
    for question in questions {
        if asking {
            let mut err = std::io::stderr();
            write!(err, "{question}")?;
            err.flush()?;
        }
        let mut line = Zeroizing::new(String::new());
        if input.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        out.push(line);
    }
    Ok(out)
}

/// Whether stderr and stdout get colour: as `forced`, else on a terminal without `NO_COLOR`.
pub fn colour(forced: Option<bool>) -> (bool, bool) {
    let wanted = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    forced.map_or(
        (
            wanted && std::io::stderr().is_terminal(),
            wanted && std::io::stdout().is_terminal(),
        ),
        |on| (on, on),
    )
}

/// The longest secret accepted: the buffer never grows, so no copy is left behind by a
/// reallocation.
const MAX_SECRET: usize = 1024;

/// Reads a secret from the terminal with echo off. The returned text is zeroized on drop.
///
/// The terminal is put in raw-ish mode (no echo, no line editing by the kernel, no signals)
/// before the question is shown, so nothing typed ahead is echoed; ykmfa handles Backspace,
/// Enter, Ctrl-C (abort, `ErrorKind::Interrupted`) and Ctrl-D itself, and restores the terminal
/// whatever happens.
pub fn secret(question: &str) -> std::io::Result<Zeroizing<String>> {
    use rustix::termios::{self, LocalModes, OptionalActions};
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")?;
    let mut out = tty.try_clone()?;
    let saved = termios::tcgetattr(&tty)?;
    let mut quiet = saved.clone();
    quiet
        .local_modes
        .remove(LocalModes::ECHO | LocalModes::ICANON | LocalModes::ISIG);
    termios::tcsetattr(&tty, OptionalActions::Flush, &quiet)?;
    if let (Ok(mut open), Ok(copy)) = (OPEN_SECRET.lock(), tty.try_clone()) {
        *open = Some((copy, saved.clone()));
    }
    let mut line = Zeroizing::new(Vec::with_capacity(MAX_SECRET));
    let read = (|| {
        write!(out, "{question}")?;
        out.flush()?;
        let mut byte = [0u8; 1];
        loop {
            if (&tty).read(&mut byte)? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            match byte[0] {
                b'\r' | b'\n' => return Ok(()),
                0x03 => return Err(std::io::ErrorKind::Interrupted.into()),
                0x04 if line.is_empty() => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                0x7F | 0x08 => {
                    line.pop();
                }
                b if line.len() < MAX_SECRET => line.push(b),
                _ => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        "the input is too long",
                    ))
                }
            }
        }
    })();
    // Restore the terminal whatever happened, then finish the prompt's line.
    if let Ok(mut open) = OPEN_SECRET.lock() {
        *open = None;
    }
    let restored = termios::tcsetattr(&tty, OptionalActions::Now, &saved);
    writeln!(out)?;
    read?;
    restored?;
    let text = std::str::from_utf8(&line).map_err(|_| {
        std::io::Error::new(std::io::ErrorKind::InvalidData, "the input is not UTF-8")
    })?;
    let mut owned = Zeroizing::new(String::with_capacity(text.len()));
    owned.push_str(text);
    Ok(owned)
}

/// The terminal of a secret being typed, and its settings to restore.
static OPEN_SECRET: std::sync::Mutex<Option<(std::fs::File, rustix::termios::Termios)>> =
    std::sync::Mutex::new(None);

/// Called on a stop signal: if a secret is being typed, gives the terminal its echo back and
/// finishes the prompt's line. Whether a secret was being typed.
pub fn abandon_secret() -> bool {
    let Ok(mut open) = OPEN_SECRET.lock() else {
        return false;
    };
    let Some((tty, saved)) = open.take() else {
        return false;
    };
    let _ = rustix::termios::tcsetattr(&tty, rustix::termios::OptionalActions::Now, &saved);
    let _ = writeln!(&tty);
    true
}

/// Asks a yes/no question on the terminal; only "y" or "yes" (any case) is a yes, and end of
/// input is a no. The question should end with its default, e.g. "Revoke it? [y/N] ".
pub fn confirm(question: &str) -> std::io::Result<bool> {
    use std::io::BufRead;
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")?;
    let mut to = tty.try_clone()?;
    write!(to, "{question}")?;
    to.flush()?;
    let mut line = String::new();
    if std::io::BufReader::new(tty).read_line(&mut line)? == 0 {
        return Ok(false);
    }
    Ok(matches!(
        line.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// Writes `text` on stderr as it is, with no newline added (a question that waits on its line,
/// or a line redrawn in place), and flushes. A failed write is ignored: after a hang-up the
/// terminal is gone, and what runs meanwhile (a rollback) must go on.
pub fn say(text: &str) {
    say_to(&mut std::io::stderr(), text);
}

/// [`say`], to `to`.
fn say_to(to: &mut impl Write, text: &str) {
    let _ = write!(to, "{text}").and_then(|()| to.flush());
}

/// How long to wait for a person to do something (insert a token): `given`, else `default`
/// seconds when a person is at a terminal ([`has_tty`]), else not at all: a script or CI inserts
/// nothing, and gets its error at once.
pub fn wait_for_person(given: Option<u64>, default: u64) -> Duration {
    wait_of(given, has_tty, default)
}

/// [`wait_for_person`], with whether a person is there (`tty`) as a callback.
fn wait_of(given: Option<u64>, tty: impl FnOnce() -> bool, default: u64) -> Duration {
    Duration::from_secs(given.unwrap_or_else(|| if tty() { default } else { 0 }))
}

/// A person's answer to a change ykmfa is about to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    /// Given beforehand (`--yes`), or a yes on the terminal.
    Given,
    /// A no (or no answer at all).
    Refused,
    /// Nobody to ask: no person at a terminal ([`has_tty`]).
    NoTerminal,
}

/// Consent to a change: `given` beforehand (`--yes`), else `question` asked with [`confirm`]
/// when a person is at a terminal. A script, a pipe or CI is never asked.
pub fn consent(given: bool, question: &str) -> std::io::Result<Consent> {
    consent_of(given, has_tty, || confirm(question))
}

/// [`consent`], with whether a person is there (`tty`) and the question (`ask`) as callbacks.
fn consent_of(
    given: bool,
    tty: impl FnOnce() -> bool,
    ask: impl FnOnce() -> std::io::Result<bool>,
) -> std::io::Result<Consent> {
    if given {
        return Ok(Consent::Given);
    }
    if !tty() {
        return Ok(Consent::NoTerminal);
    }
    Ok(if ask()? {
        Consent::Given
    } else {
        Consent::Refused
    })
}

/// Whether stderr is a terminal that can move its cursor (not TERM=dumb): where a line can be
/// rewritten in place.
pub fn can_rewrite() -> bool {
    available() && std::env::var("TERM").map_or(true, |t| t != "dumb")
}

/// A line on stderr rewritten in place each second (`line(now)`, with `now` from `clock`) until
/// `valid_until` (then `expired`) or until `stop` ends ([`can_rewrite`] terminals only). For codes
/// a person types elsewhere: how long they stay good.
pub async fn countdown(
    valid_until: u64,
    clock: impl Fn() -> u64,
    line: impl Fn(u64) -> String,
    expired: &str,
    stop: impl std::future::Future<Output = ()>,
) {
    use std::io::Write;
    let mut err = std::io::stderr();
    let _ = writeln!(err, "{}", line(clock()));
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    let mut stop = std::pin::pin!(stop);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = &mut stop => {
                let _ = writeln!(err);
                return;
            }
        }
        let now = clock();
        let done = now >= valid_until;
        let text = if done { expired.to_owned() } else { line(now) };
        // Up a line, clear it, write the new one.
        let _ = writeln!(err, "\x1b[1A\r\x1b[2K{text}");
        if done {
            return;
        }
    }
}

/// Writes `bytes` to stdout and flushes; a closed pipe (`| head`) is not an error worth a
/// message, so it counts as written.
pub fn write_stdout(bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
