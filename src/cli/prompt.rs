//! Asking a person for something: a secret without echo, or a yes/no. Reads the terminal
//! (`/dev/tty`), not stdin, so piped input stays for data.

use std::io::{Read, Write};

use zeroize::Zeroizing;

/// Whether a person is at a terminal: stdin and stderr both are one (a script, a pipe or CI
/// never gets a question, only a clear error).
pub fn has_tty() -> bool {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Reads a secret from the terminal with echo off. The returned text is zeroized on drop.
pub fn secret(question: &str) -> std::io::Result<Zeroizing<String>> {
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")?;
    let mut out = tty.try_clone()?;
    write!(out, "{question}")?;
    out.flush()?;
    let saved = rustix::termios::tcgetattr(&tty)?;
    let mut quiet = saved.clone();
    quiet.local_modes.remove(rustix::termios::LocalModes::ECHO);
    rustix::termios::tcsetattr(&tty, rustix::termios::OptionalActions::Now, &quiet)?;
    // Byte by byte into a zeroizing buffer: a BufReader would leave a copy in its own buffer.
    let mut line = Zeroizing::new(Vec::with_capacity(256));
    let read = (|| {
        let mut byte = [0u8; 1];
        while (&tty).read(&mut byte)? == 1 && byte[0] != b'\n' {
            line.push(byte[0]);
        }
        Ok::<(), std::io::Error>(())
    })();
    // Restore echo whatever happened, then finish the prompt's line.
    let restored = rustix::termios::tcsetattr(&tty, rustix::termios::OptionalActions::Now, &saved);
    writeln!(out)?;
    read?;
    restored?;
    while line.last() == Some(&b'\r') {
        line.pop();
    }
    let text = std::str::from_utf8(&line).map_err(|_| {
        std::io::Error::new(std::io::ErrorKind::InvalidData, "the input is not UTF-8")
    })?;
    Ok(Zeroizing::new(text.to_owned()))
}
