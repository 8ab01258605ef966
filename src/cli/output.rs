//! The only place ykmfa talks to a person: stderr messages, colour, and JSON on stdout.

use std::io::Write;
use std::sync::Mutex;

use ykmfa::layout::paint;
use ykmfa::{layout::Progress, terminal};

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

/// A command pasted into a shell as it is, on as many lines as it needs.
// Unused since status and audit render in the library; kept for the commands being reworked
// beside this change (their advice may print commands). Delete it if none does after the merge.
#[allow(dead_code)]
pub fn shell_lines(command: &str, indent: &str, width: usize) -> Vec<String> {
    ykmfa::layout::shell_lines(ykmfa::mfa::remedy::shell_words(command), indent, width)
}

/// Lines on stderr and, on a terminal (`shown`), a progress bar of `total` rows redrawn below
/// them: `[#########---------------------] 3/10 rows, 1 failed`. Shared by the workers of a run.
pub struct Bar(bool, Progress, Mutex<()>);

impl Bar {
    /// A bar at zero.
    pub fn new(shown: bool, total: usize) -> Self {
        Bar(shown, Progress::new(total), Mutex::new(()))
    }

    /// One more row done, `failed` or not; shown with the next line.
    pub fn tick(&self, failed: bool) {
        self.1.tick(failed);
    }

    /// A line above the bar.
    pub fn say(&self, text: &str) {
        let (_guard, mut err) = (self.2.lock(), std::io::stderr().lock());
        let _ = writeln!(err, "{}{text}", if self.0 { "\r\x1b[2K" } else { "" });
        if self.0 {
            let (bar, failed) = self.1.draw(30);
            let failed = (failed > 0).then(|| format!(", {failed} failed"));
            let _ = write!(err, "{bar} rows{}", failed.unwrap_or_default());
        }
        let _ = err.flush();
    }

    /// Takes the bar away, before the report.
    pub fn clear(&self) {
        if self.0 {
            let _guard = self.2.lock();
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}
