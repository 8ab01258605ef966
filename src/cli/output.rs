//! The only place ykmfa talks to a person: stderr messages, colour, and JSON on stdout.

use std::io::{IsTerminal, Write};

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
    color: bool,
}

impl Output {
    /// Decides colour and format once, from the flags and the environment.
    pub fn new(global: &Global) -> Self {
        let color = match global.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stderr().is_terminal()
            }
        };
        Output {
            json: global.json,
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
