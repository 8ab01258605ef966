//! Bulk enrollment: many users, many tokens, many accounts, from one manifest.
//!
//! A security team issuing tokens enrolls a group in one sitting: [`manifest`] reads who gets
//! which token in which account; [`plan`] checks every row against IAM and the tokens present
//! without changing anything; [`apply`] runs the enrollment transaction for each row — in
//! parallel, one worker per token, for rows that name a serial; one after another, as each token
//! is inserted, for rows that don't — with every step journaled ([`crate::mfa::journal::bulk`]) so that a
//! run that is killed resumes without duplicating a device and cleans up what it left half-done.
//! Rows of hardware TOTP tokens ([`crate::mfa::hardware`]) come last: the person at the terminal
//! types two codes from each token's display, asked through the [`Watcher`]; without a person
//! they are left for one ([`Status::NeedsPerson`]).
//! [`report`] writes each row's outcome as CSV and JSON.
//!
//! One row's failure never stops or corrupts another's: each row is its own transaction, with its
//! own token, and its own rollback.
//!
//! This module never prints: it reports through a [`Watcher`].

pub mod accounts;
pub mod apply;
pub mod limit;
pub mod manifest;
pub mod plan;
pub mod report;
pub mod text;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::iam::Options;
use crate::mfa::enroll::Event;
use crate::mfa::journal::bulk::{self as journal, Journal, JournalError, Recovery};
use crate::oath::Password;

pub use manifest::{AccountRef, Format, Problem, Row};

/// How a run goes.
pub struct Settings {
    /// The base AWS options (`--profile`, `--region`, `--endpoint-url`).
    pub aws: Options,
    /// IAM calls in flight per account, at most.
    pub iam_concurrency: usize,
    /// How long to wait for the token of a row without a serial to be inserted.
    pub wait: Duration,
    /// The OATH password for locked tokens (one for all).
    pub password: Option<Password>,
}

impl Settings {
    fn password(&self) -> Option<Password> {
        self.password
            .as_ref()
            .and_then(|p| String::from_utf8(p.expose().to_vec()).ok())
            .map(Password::new)
    }
}

/// The default cap on IAM calls in flight per account: IAM's write APIs are throttled at a few
/// requests per second per account, and the SDK's backoff carries short bursts above that.
pub const DEFAULT_IAM_CONCURRENCY: usize = 8;

/// How a row ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Enrolled in this run (or found enabled after a killed run).
    Enrolled,
    /// Enrolled by an earlier run of the same journal (or, a hardware token, found the user's
    /// already); nothing done.
    AlreadyEnrolled,
    /// Failed; everything it did was undone.
    Failed,
    /// Failed, and something could not be undone (see `leftovers`).
    Incomplete,
    /// Not started because the run was interrupted.
    NotStarted,
    /// A hardware token's row, not attempted: nobody at a terminal to type its codes (`error`
    /// has the command a person runs).
    NeedsPerson,
}

impl Status {
    /// Whether the row has its device.
    pub fn is_success(self) -> bool {
        matches!(self, Status::Enrolled | Status::AlreadyEnrolled)
    }

    /// As the report writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Enrolled => "enrolled",
            Status::AlreadyEnrolled => "already_enrolled",
            Status::Failed => "failed",
            Status::Incomplete => "incomplete",
            Status::NotStarted => "not_started",
            Status::NeedsPerson => "needs_person",
        }
    }
}

/// One row's outcome: a line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// The row number in the manifest.
    pub row: usize,
    /// The IAM user.
    pub user: String,
    /// The account as the manifest names it (empty: the default credentials).
    pub account: String,
    /// The 12-digit account id, when the account was reached.
    pub account_id: Option<String>,
    /// The device ARN (`mfa_serial`), when enrolled.
    pub device: Option<String>,
    /// The token's serial.
    pub token_serial: Option<u32>,
    /// The hardware token's serial, for a row that names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hardware_serial: Option<String>,
    /// The command a person runs to finish the row by hand ([`Status::NeedsPerson`], codes
    /// refused twice).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// The credential name on the token.
    pub label: Option<String>,
    /// How it ended.
    pub status: Status,
    /// Why it failed.
    pub error: Option<String>,
    /// What remains after a failure, with the command that removes it.
    pub leftovers: Vec<String>,
    /// What a resumed run found and did for this row before (re)starting it.
    pub recovered: Vec<String>,
}

impl Outcome {
    fn new(row: &Row, status: Status) -> Self {
        Outcome {
            row: row.number,
            user: row.user.to_string(),
            account: row.account.label().to_owned(),
            account_id: match &row.account {
                AccountRef::Role { account, .. } => Some(account.clone()),
                _ => None,
            },
            device: None,
            token_serial: row.serial.map(|s| s.0),
            hardware_serial: row.hardware_serial.as_ref().map(ToString::to_string),
            command: None,
            label: row.label.as_ref().map(ToString::to_string),
            status,
            error: None,
            leftovers: Vec::new(),
            recovered: Vec::new(),
        }
    }

    fn failed(row: &Row, error: impl Into<String>) -> Self {
        Outcome {
            error: Some(error.into()),
            ..Outcome::new(row, Status::Failed)
        }
    }
}

/// What a person may want to hear about during a run.
#[derive(Debug)]
pub enum Note<'a> {
    /// An account could not be reached; its rows fail.
    AccountUnreachable(&'a accounts::Unreachable),
    /// A resumed run found a half-done row of the killed run and finished or cleaned it up.
    Recovered {
        /// The row.
        row: &'a Row,
        /// What was found and done.
        recovery: &'a Recovery,
    },
    /// A half-done attempt whose row is no longer in the manifest was finished or cleaned up.
    RecoveredOutsideManifest {
        /// The attempt's key in the journal (account and user).
        key: &'a str,
        /// What was found and done.
        recovery: &'a Recovery,
    },
    /// A row starts on its token.
    Started {
        /// The row.
        row: &'a Row,
        /// The token.
        token: &'a str,
    },
    /// A step of a row's enrollment.
    Step {
        /// The row.
        row: &'a Row,
        /// The event.
        event: Event<'a>,
    },
    /// The token for a row without a serial is wanted.
    InsertToken {
        /// The row.
        row: &'a Row,
        /// How long ykmfa waits.
        wait: Duration,
    },
    /// More than one unclaimed token is present for a row without a serial.
    TooManyTokens {
        /// The row.
        row: &'a Row,
        /// The tokens.
        tokens: &'a [String],
    },
    /// A hardware token's codes are about to be asked of the person at the terminal.
    CodesWanted {
        /// The row.
        row: &'a Row,
        /// AWS refused the first two codes: these are the second try.
        again: bool,
    },
    /// A row ended.
    Finished(&'a Outcome),
}

/// Receives [`Note`]s (the binary prints them), and asks the person at the terminal for a
/// hardware token's codes.
pub trait Watcher: Send + Sync {
    /// Called for each note, from any worker.
    fn note(&self, note: Note<'_>);

    /// Whether a person at a terminal can be asked for codes; without one, hardware rows are
    /// left for a person ([`Status::NeedsPerson`]).
    fn can_ask(&self) -> bool {
        false
    }

    /// Two codes read off a hardware token's display, asked after [`Note::CodesWanted`]; `Err`:
    /// why there are none, in words (nothing is sent).
    fn codes(&self) -> Result<crate::mfa::hardware::Codes, String> {
        Err("nobody at a terminal to type them".into())
    }
}

/// Why a run could not start: nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Neither a manifest nor a journal to resume was given.
    #[error("no manifest given")]
    NoManifest,
    /// The journal to resume does not exist.
    #[error("there is no journal {}", .0.display())]
    NoJournal(PathBuf),
    /// The journal to resume does not name its manifest, and none was given.
    #[error("the journal {} does not name its manifest", .0.display())]
    Unnamed(PathBuf),
    /// The manifest can't be used.
    #[error(transparent)]
    Manifest(#[from] manifest::ReadError),
    /// The journal can't be used.
    #[error(transparent)]
    Journal(#[from] JournalError),
}

/// A run about to start: the manifest's rows, and its journal, locked for this process.
pub struct Opened {
    /// The rows.
    pub rows: Vec<Row>,
    /// The journal.
    pub journal: Journal,
    /// The manifest's absolute path, as the journal and the report name it.
    pub manifest: PathBuf,
    /// An earlier run recorded rows in this journal: this one resumes it.
    pub resumed: bool,
    /// The manifest is not the one the journal was started with (rows are matched by user and
    /// account).
    pub changed: bool,
}

impl Opened {
    /// The journal first: `resume` (which must exist, and names the manifest unless `file`
    /// does), else `journal`, else `FILE.journal` beside the manifest. Its lock keeps a second
    /// run out.
    pub fn open(
        file: Option<&Path>,
        resume: Option<&Path>,
        journal: Option<&Path>,
    ) -> Result<Opened, OpenError> {
        let journal_path = match (resume, journal, file) {
            (Some(j), _, _) if !j.exists() => return Err(OpenError::NoJournal(j.to_owned())),
            (Some(j), _, _) | (None, Some(j), _) => j.to_owned(),
            (None, None, Some(f)) => journal::default_path(f),
            (None, None, None) => return Err(OpenError::NoManifest),
        };
        let manifest = match file {
            Some(f) => f.to_owned(),
            None => Journal::manifest_of(&journal_path)?
                .ok_or_else(|| OpenError::Unnamed(journal_path.clone()))?,
        };
        let (rows, digest) = manifest::read(&manifest)?;
        let manifest = std::path::absolute(&manifest).unwrap_or(manifest);
        let journal = Journal::open(
            &journal_path,
            Some(&manifest.display().to_string()),
            Some(&digest),
        )?;
        let resumed = journal.records().len() > 1;
        let changed = journal.source().1.is_some_and(|old| old != digest);
        Ok(Opened {
            rows,
            journal,
            manifest,
            resumed,
            changed,
        })
    }
}

/// A finished `bulk apply`: every row's outcome, and the report written beside the journal.
pub struct Applied {
    /// Row by row.
    pub outcomes: Vec<Outcome>,
    /// The counts.
    pub summary: report::Summary,
    /// The manifest's absolute path.
    pub manifest: PathBuf,
    /// The journal.
    pub journal: PathBuf,
    /// The CSV report and the JSON report.
    pub report: (PathBuf, PathBuf),
    /// Whether the report could be written.
    pub written: std::io::Result<()>,
}

impl Applied {
    /// The JSON report.
    pub fn json(&self) -> serde_json::Value {
        report::json(&self.outcomes, &self.manifest, &self.journal)
    }
}

impl Opened {
    /// Enrolls every row ([`apply::apply`]), then writes the report (at `report`, else beside
    /// the journal: [`report::paths`]).
    pub async fn apply(
        self,
        settings: Settings,
        report: Option<&Path>,
        watcher: std::sync::Arc<dyn Watcher>,
        cancel: crate::mfa::Cancel,
    ) -> Applied {
        let journal = self.journal.path().to_owned();
        let (csv, json) = report::paths(report, &journal);
        let (rows, manifest) = (self.rows, self.manifest);
        let settings = std::sync::Arc::new(settings);
        let ledger = std::sync::Arc::new(self.journal);
        let outcomes = apply::apply(rows, ledger, settings, watcher, cancel).await;
        let written = report::write(&outcomes, &manifest, &journal, &csv, &json);
        Applied {
            summary: report::Summary::of(&outcomes),
            outcomes,
            manifest,
            journal,
            report: (csv, json),
            written,
        }
    }
}

/// `bulk plan`: the `rows` of the manifest at `file` checked one by one, with what the journal
/// at `journal` (else `FILE.journal`) shows of earlier runs. Changes nothing.
pub async fn plan_rows(
    rows: &[Row],
    file: &Path,
    journal: Option<&Path>,
    settings: &Settings,
) -> Vec<plan::PlannedRow> {
    let journal = journal.map_or_else(|| journal::default_path(file), Path::to_owned);
    plan::plan(rows, settings, &journal::peek(&journal)).await
}

/// SHA-256 of a manifest's bytes, in hex: the journal notes it to notice an edited manifest.
pub fn digest(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
