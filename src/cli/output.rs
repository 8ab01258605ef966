//! The only place ykmfa talks to a person: stderr messages, colour, and JSON on stdout.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::{Failure, Global};

/// When to use colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

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
        // In auto, only on a terminal without NO_COLOR.
        let auto =
            |terminal: bool| std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && terminal;
        let (color, stdout_color) = match global.color {
            ColorChoice::Always => (true, true),
            ColorChoice::Never => (false, false),
            ColorChoice::Auto => (
                auto(std::io::stderr().is_terminal()),
                auto(std::io::stdout().is_terminal()),
            ),
        };
        Output {
            json: global.json,
            stdout_color,
            color,
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// A progress or status line on stderr.
    pub fn info(&self, text: impl AsRef<str>) {
        let _ = writeln!(std::io::stderr(), "{}", text.as_ref());
    }

    /// A warning on stderr.
    pub fn warn(&self, text: impl AsRef<str>) {
        let _ = writeln!(
            std::io::stderr(),
            "{} {}",
            self.paint("33;1", "warning:"),
            text.as_ref()
        );
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
        let _ = writeln!(err, "{} {}", self.paint("31;1", "error:"), failure.what);
        for line in &failure.fix {
            let _ = writeln!(err, "  {} {line}", self.paint("36", "fix:"));
        }
    }
}

/// Lines on stderr and, on a terminal (`shown`), a progress bar of `total` rows redrawn below
/// them: `[#########---------------------] 3/10 rows, 1 failed`. Shared by the workers of a run.
pub struct Bar {
    shown: bool,
    total: usize,
    done: AtomicUsize,
    failed: AtomicUsize,
    lock: Mutex<()>,
}

impl Bar {
    /// A bar at zero.
    pub fn new(shown: bool, total: usize) -> Self {
        Bar {
            shown,
            total,
            done: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            lock: Mutex::new(()),
        }
    }

    /// One more row done, `failed` or not; shown with the next line.
    pub fn tick(&self, failed: bool) {
        self.done.fetch_add(1, Ordering::SeqCst);
        if failed {
            self.failed.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// A line above the bar.
    pub fn say(&self, text: &str) {
        let _guard = self.lock.lock();
        let mut err = std::io::stderr().lock();
        if self.shown {
            let _ = write!(err, "\r\x1b[2K");
        }
        let _ = writeln!(err, "{text}");
        if self.shown {
            let done = self.done.load(Ordering::SeqCst);
            let failed = self.failed.load(Ordering::SeqCst);
            let width = 30;
            let filled = (done * width).checked_div(self.total).unwrap_or(width);
            let _ = write!(
                err,
                "[{}{}] {done}/{} rows{}",
                "#".repeat(filled),
                "-".repeat(width - filled),
                self.total,
                if failed > 0 {
                    format!(", {failed} failed")
                } else {
                    String::new()
                }
            );
        }
        let _ = err.flush();
    }

    /// Takes the bar away, before the report.
    pub fn clear(&self) {
        if self.shown {
            let _guard = self.lock.lock();
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}

/// `s` when `n` is not one.
pub fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// At most `n` characters, the last one `…` when cut.
pub fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut c: String = s.chars().take(n.saturating_sub(1)).collect();
        c.push('…');
        c
    }
}

/// Keeps the end, which tells devices and users apart: "...m/alice-yk12345678".
pub fn shorten(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_owned();
    }
    let tail: String = s.chars().skip(n - (max - 3)).collect();
    format!("...{tail}")
}

/// Word wrap that never breaks a word (a command or an ARN longer than the width stays whole
/// on its own line) and keeps existing line breaks and leading indentation.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for raw in text.split('\n') {
        let indent: String = raw.chars().take_while(|c| *c == ' ').collect();
        let mut line = String::new();
        for word in raw.split(' ').filter(|w| !w.is_empty()) {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                lines.push(line);
                line = String::new();
            }
            if line.is_empty() {
                line.push_str(&indent);
                line.push_str(word);
            } else {
                line.push(' ');
                line.push_str(word);
            }
        }
        lines.push(line);
    }
    lines
}

/// A command on as many lines as it needs, each ending in ` \` but the last, so that it can
/// be pasted into a shell as it is.
pub fn shell_lines(command: &str, indent: &str, width: usize) -> Vec<String> {
    // Continuation lines are indented 4 more and every line but the last ends in " \\".
    let room = width.saturating_sub(indent.len() + 6).max(10);
    // Break only between shell words: a quoted name with spaces stays whole.
    let mut lines: Vec<String> = Vec::new();
    for word in ykmfa::mfa::remedy::shell_words(command) {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= room => {
                line.push(' ');
                line.push_str(&word);
            }
            _ => lines.push(word),
        }
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    let last = lines.len() - 1;
    for (i, line) in lines.iter_mut().enumerate() {
        let lead = if i == 0 {
            indent.to_owned()
        } else {
            format!("{indent}    ")
        };
        *line = if i < last {
            format!("{lead}{line} \\")
        } else {
            format!("{lead}{line}")
        };
    }
    lines
}

/// Logs go to stderr; `RUST_LOG` wins over `-v`. `YKMFA_LOG_FORMAT=json` writes one JSON object
/// per event (for log shippers; multi-line messages stay on one line). No secret is ever logged,
/// whatever the level or format.
pub fn init_logging(verbose: u8) {
    let default = match verbose {
        // aws-config warns about what ykmfa reports in its own words (no region, no config file).
        0 => "warn,aws_config=error",
        1 => "ykmfa=info",
        2 => "ykmfa=debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(true)
        .without_time();
    let _ = if std::env::var("YKMFA_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

#[cfg(test)]
mod tests;
