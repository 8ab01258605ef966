//! The result report: each row's outcome as CSV (for a spreadsheet) and JSON (for a script),
//! and the summary line.
//!
//! Both files are written whole to a temporary name and renamed, so a reader never sees half a
//! report. They hold names, ARNs and serials: never a seed or a code.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{Outcome, Status};

/// The JSON report's schema.
pub const SCHEMA: &str = "ykmfa.bulk-report/1";

/// Counts by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Rows in the manifest.
    pub rows: usize,
    /// Enrolled in this run.
    pub enrolled: usize,
    /// Enrolled by an earlier run.
    pub already_enrolled: usize,
    /// Failed and undone.
    pub failed: usize,
    /// Failed with something left to remove.
    pub incomplete: usize,
    /// Not started (interrupted).
    pub not_started: usize,
    /// Hardware tokens' rows left for a person at a terminal.
    pub needs_person: usize,
}

impl Summary {
    /// Counts `outcomes`.
    pub fn of(outcomes: &[Outcome]) -> Summary {
        let mut s = Summary {
            rows: outcomes.len(),
            ..Summary::default()
        };
        for o in outcomes {
            match o.status {
                Status::Enrolled => s.enrolled += 1,
                Status::AlreadyEnrolled => s.already_enrolled += 1,
                Status::Failed => s.failed += 1,
                Status::Incomplete => s.incomplete += 1,
                Status::NotStarted => s.not_started += 1,
                Status::NeedsPerson => s.needs_person += 1,
            }
        }
        s
    }

    /// Whether every row has its device.
    pub fn all_succeeded(&self) -> bool {
        self.enrolled + self.already_enrolled == self.rows
    }

    /// The rows without their device at the end of the run.
    pub fn not_enrolled(&self) -> usize {
        self.rows - self.enrolled - self.already_enrolled
    }

    /// The summary line.
    pub fn line(&self) -> String {
        let parts: Vec<String> = [
            (self.enrolled, "enrolled"),
            (self.already_enrolled, "already enrolled"),
            (self.failed, "failed"),
            (self.incomplete, "incomplete (see leftovers)"),
            (self.not_started, "not started"),
            (self.needs_person, "left for a person (hardware tokens)"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        if parts.is_empty() {
            return "no rows".into();
        }
        format!("{} rows: {}", self.rows, parts.join(", "))
    }
}

/// Where the two report files go: `PATH.csv` and `PATH.json` for `--report PATH` (an extension
/// `.csv` or `.json` on PATH is replaced), or beside the journal.
pub fn paths(report: Option<&Path>, journal: &Path) -> (PathBuf, PathBuf) {
    let base = match report {
        Some(p) => match p.extension().and_then(|e| e.to_str()) {
            Some("csv" | "json") => p.with_extension(""),
            _ => p.to_path_buf(),
        },
        None => {
            let mut name = journal.as_os_str().to_owned();
            name.push(".report");
            PathBuf::from(name)
        }
    };
    let with = |ext: &str| {
        let mut s = base.as_os_str().to_owned();
        s.push(ext);
        PathBuf::from(s)
    };
    (with(".csv"), with(".json"))
}

/// The JSON report.
pub fn json(outcomes: &[Outcome], manifest: &Path, journal: &Path) -> serde_json::Value {
    serde_json::json!({
        "schema": SCHEMA,
        "manifest": manifest.display().to_string(),
        "journal": journal.display().to_string(),
        "summary": Summary::of(outcomes),
        "rows": outcomes,
    })
}

/// Writes both files.
pub fn write(
    outcomes: &[Outcome],
    manifest: &Path,
    journal: &Path,
    csv_path: &Path,
    json_path: &Path,
) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "row",
        "user",
        "account",
        "account_id",
        "device",
        "token_serial",
        "label",
        "status",
        "error",
    ])
    .map_err(std::io::Error::other)?;
    for o in outcomes {
        let mut error = o.error.clone().unwrap_or_default();
        if !o.leftovers.is_empty() {
            error.push_str(" | remains: ");
            error.push_str(&o.leftovers.join(" | "));
        }
        w.write_record([
            o.row.to_string(),
            o.user.clone(),
            o.account.clone(),
            o.account_id.clone().unwrap_or_default(),
            o.device.clone().unwrap_or_default(),
            o.token_serial.map(|s| s.to_string()).unwrap_or_default(),
            o.label.clone().unwrap_or_default(),
            o.status.as_str().to_owned(),
            error,
        ])
        .map_err(std::io::Error::other)?;
    }
    let csv_bytes = w
        .into_inner()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    replace(csv_path, &csv_bytes)?;
    let mut json_bytes = serde_json::to_vec_pretty(&json(outcomes, manifest, journal))
        .map_err(std::io::Error::other)?;
    json_bytes.push(b'\n');
    replace(json_path, &json_bytes)
}

fn replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    {
        // Who holds which token is nobody else's business: readable by the owner only, like
        // the journal.
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests;
