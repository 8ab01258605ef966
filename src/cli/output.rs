//! The only place ykmfa talks to a person: stderr messages, colour, and JSON on stdout.

use std::io::Write;

use ykmfa::layout::paint;
use ykmfa::terminal;

use super::{Failure, Global};

/// Where words and results go.
pub struct Output {
    /// Whether results are JSON.
    pub json: bool,
    /// Whether stdout gets colour (a report on a terminal).
    pub stdout_color: bool,
    color: bool,
}

impl Output {
    /// Decides colour and format once, from the flags and the environment.
    pub fn new(global: &Global) -> Self {
        let (color, stdout_color) = terminal::colour(match global.color {
            super::ColorChoice::Always => Some(true),
            super::ColorChoice::Never => Some(false),
            super::ColorChoice::Auto => None,
        });
        let json = global.json;
        Output {
            json,
            stdout_color,
            color,
        }
    }

    /// A progress or status line on stderr.
    pub fn info(&self, text: impl AsRef<str>) {
        let _ = writeln!(std::io::stderr(), "{}", text.as_ref());
    }

    /// A warning on stderr.
    pub fn warn(&self, text: impl AsRef<str>) {
        let warning = paint(self.color, "33;1", "warning:");
        let _ = writeln!(std::io::stderr(), "{warning} {}", text.as_ref());
    }

    /// A result line on stdout.
    pub fn result(&self, text: impl AsRef<str>) {
        let _ = writeln!(std::io::stdout(), "{}", text.as_ref());
    }

    /// A JSON document on stdout.
    pub fn json(&self, value: &serde_json::Value) {
        let mut stdout = std::io::stdout().lock();
        let _ = serde_json::to_writer_pretty(&mut stdout, value);
        let _ = writeln!(stdout);
    }

    /// An error: what happened, then what to do.
    pub fn failure(&self, failure: &Failure) {
        let mut err = std::io::stderr().lock();
        let error = paint(self.color, "31;1", "error:");
        let _ = writeln!(err, "{error} {}", failure.what);
        for line in &failure.fix {
            let _ = writeln!(err, "  {} {line}", paint(self.color, "36", "fix:"));
        }
    }
}
