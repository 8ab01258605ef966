//! Whether a person is there to be asked: ykmfa never puts a question to a script, a pipe or
//! CI, which get a clear error instead. Detection only; asking is the binary's.

use std::io::IsTerminal;

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
