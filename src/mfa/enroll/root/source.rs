//! Where the console's secret comes from: typed by a person (asked without echo, through a
//! callback: the library never reads a terminal), piped on stdin, or a PNG of the QR code in a
//! file or on stdin. Every byte read is kept in buffers that are zeroized on drop and never grow,
//! so no copy of the secret is left behind in freed memory.

use std::io::Read;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::{ConsoleSecret, SecretError, MAX_PNG_BYTES};
use crate::seed::SeedError;

/// Secret text longer than this is not a secret someone pasted.
pub const MAX_SECRET_TEXT: usize = 4096;

/// Where the secret comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Asked of a person, without echo.
    Prompt,
    /// Text piped on stdin.
    Stdin,
    /// A PNG file of the QR code.
    QrFile(PathBuf),
    /// PNG bytes of the QR code piped on stdin.
    QrStdin,
}

/// Why a source can't be read here, decided before any token is touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreadable {
    /// It reads stdin, and stdin is a terminal: a typed secret would show (and PNG bytes can't
    /// be typed).
    TerminalStdin,
    /// The secret is to be asked for, and there is no terminal to ask on.
    NoTerminal,
}

/// Why no secret could be read. Nothing here holds any part of the input.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The person could not be asked (`Interrupted` for Ctrl-C).
    #[error("cannot read the secret: {0}")]
    Ask(std::io::Error),
    /// A file or stdin could not be read, or held more than a secret or a screenshot does.
    #[error("cannot read {what}: {error}")]
    Read {
        /// `stdin`, or the file's path.
        what: String,
        /// Why.
        error: std::io::Error,
    },
    /// What was read is not a usable secret.
    #[error(transparent)]
    Secret(#[from] SecretError),
}

impl Source {
    /// `--qr FILE` (`-` for stdin), else `--secret-stdin`, else a question.
    pub fn of(qr: Option<&Path>, secret_stdin: bool) -> Self {
        match qr {
            Some(p) if p.as_os_str() == "-" => Source::QrStdin,
            Some(p) => Source::QrFile(p.to_path_buf()),
            None if secret_stdin => Source::Stdin,
            None => Source::Prompt,
        }
    }

    /// Whether the secret is read from a QR code.
    pub fn is_qr(&self) -> bool {
        matches!(self, Source::QrFile(_) | Source::QrStdin)
    }

    /// Whether it reads stdin, which must then be a pipe: a terminal would show the secret.
    pub fn reads_stdin(&self) -> bool {
        matches!(self, Source::Stdin | Source::QrStdin)
    }

    /// Why it can't be read here, given whether stdin is a terminal and whether a person can be
    /// asked (`can_ask`, only called for [`Source::Prompt`]); `None`: it can.
    pub fn unreadable(
        &self,
        stdin_is_terminal: bool,
        can_ask: impl FnOnce() -> bool,
    ) -> Option<Unreadable> {
        if self.reads_stdin() && stdin_is_terminal {
            return Some(Unreadable::TerminalStdin);
        }
        (*self == Source::Prompt && !can_ask()).then_some(Unreadable::NoTerminal)
    }

    /// Reads the secret; `ask` asks a person for it (only for [`Source::Prompt`]).
    pub fn read(
        &self,
        ask: impl FnOnce() -> std::io::Result<Zeroizing<String>>,
    ) -> Result<ConsoleSecret, SourceError> {
        let secret = match self {
            Source::Prompt => ConsoleSecret::from_text(&ask().map_err(SourceError::Ask)?),
            Source::Stdin => {
                let bytes = read_stdin(MAX_SECRET_TEXT)?;
                let text = std::str::from_utf8(&bytes)
                    .map_err(|_| SecretError::Seed(SeedError::NotBase32))?;
                ConsoleSecret::from_text(text)
            }
            Source::QrFile(path) => {
                let what = || path.display().to_string();
                let file = std::fs::File::open(path).map_err(|error| SourceError::Read {
                    what: what(),
                    error,
                })?;
                let png = read_limited(file, MAX_PNG_BYTES).map_err(|error| SourceError::Read {
                    what: what(),
                    error,
                })?;
                ConsoleSecret::from_qr_png(&png)
            }
            Source::QrStdin => ConsoleSecret::from_qr_png(&read_stdin(MAX_PNG_BYTES)?),
        };
        Ok(secret?)
    }
}

/// Reads stdin without std's buffered `Stdin`, whose buffer would keep a copy nobody zeroizes.
fn read_stdin(limit: usize) -> Result<Zeroizing<Vec<u8>>, SourceError> {
    use std::os::fd::AsFd;
    let error = |error| SourceError::Read {
        what: "stdin".into(),
        error,
    };
    let fd = std::io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .map_err(error)?;
    read_limited(std::fs::File::from(fd), limit).map_err(error)
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

#[cfg(test)]
mod tests;
