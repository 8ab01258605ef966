//! The enrollment journal: what an enrollment is about to do and has done, on disk, so that a
//! run killed at any point (SIGKILL, a power cut) is finished or cleaned up by the next one.
//!
//! An enrollment changes two places that no single transaction spans: IAM (a device created,
//! then assigned) and a token (a credential written). Its own rollback covers every failure the
//! process lives through; this journal covers the ones it doesn't. Before each step that changes
//! something, a line saying what may happen next is appended and synced to disk; after the step,
//! a line saying what did. A later run reads the lines of an attempt that never reached its end
//! and, from what they say may exist, looks in IAM and on the token and removes it, or, when the
//! device was enabled, takes the enrollment as done.
//!
//! The file is JSON lines, append-only, one [`Record`] a line, each synced before the step it
//! announces. A line cut short by a crash is dropped when the journal is opened again. An open
//! journal holds an exclusive lock on its file, so two runs never interleave their lines.
//!
//! What this module must never do: write a seed, a code or a password. Records hold names, ARNs
//! and serials only, and are built from fields, never from an error's or a type's `Debug`.
//!
//! Used by `ykmfa bulk apply` (one key per manifest row); a single `ykmfa enroll` can use the
//! same [`Journal`], [`Recorder`] and [`recover`] with a key per user and account.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::iam::Directory;
use crate::mfa::enroll::{Event, Plan, Progress};
use crate::mfa::Cancel;
use crate::token::Card;

/// The schema of the journal's first line.
pub const SCHEMA: &str = "ykmfa.journal/1";

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Which enrollment the line is about (empty for the header).
    pub key: String,
    /// Unix seconds when it was written.
    pub at: u64,
    /// What it says.
    #[serde(flatten)]
    pub mark: Mark,
}

/// What an enrollment is about to do, or did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mark", rename_all = "snake_case")]
pub enum Mark {
    /// The header: the journal's schema and what it journals (a manifest's path and digest).
    Opened {
        /// [`SCHEMA`].
        schema: String,
        /// The manifest (or command) the journal belongs to.
        source: Option<String>,
        /// SHA-256 of the manifest, to notice one edited between runs.
        digest: Option<String>,
    },
    /// An attempt starts: preflight passed, nothing changed yet.
    Planned(Planned),
    /// CreateVirtualMFADevice is about to be sent: the device may exist from here on.
    Creating {
        /// The ARN the device will have.
        device: String,
    },
    /// IAM created the device.
    Created {
        /// Its ARN.
        device: String,
    },
    /// The credential is about to be written: it may be on the token from here on.
    Writing {
        /// The fingerprint of the secret (absent in journals of earlier versions).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fingerprint: Option<crate::oath::Fingerprint>,
    },
    /// EnableMFADevice is about to be sent (the credential is on the token and computed the
    /// codes): the device may be assigned from here on.
    Enabling {
        /// The device.
        device: String,
    },
    /// Enrolled and confirmed.
    Enrolled {
        /// The device.
        device: String,
        /// Whether a later run found it enabled after the enrolling run was killed.
        recovered: bool,
    },
    /// The attempt undid itself; `leftovers` is what it could not remove.
    RolledBack {
        /// Why it stopped.
        error: String,
        /// What remains, in words.
        leftovers: Vec<String>,
    },
    /// A later run cleaned up after the attempt; `leftovers` is what still remains.
    CleanedUp {
        /// What was removed, in words.
        done: Vec<String>,
        /// What remains, in words.
        leftovers: Vec<String>,
        /// What remains and can do no harm (an unassigned device IAM won't delete, a credential
        /// whose device is gone on a token that was not there), in words.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        harmless: Vec<String>,
    },
}

/// The facts of an attempt that recovery needs, recorded before anything changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Planned {
    /// The account id.
    pub account: String,
    /// The ARN partition.
    pub partition: String,
    /// The IAM user.
    pub user: String,
    /// The credential's name on the token.
    pub credential: String,
    /// The token as a person recognises it.
    pub token: String,
    /// The token's serial, when it has one.
    pub token_serial: Option<u32>,
    /// The token's OATH device id (tells tokens without a serial apart).
    pub token_device: String,
    /// The device name asked for.
    pub device_name: String,
}

impl Planned {
    /// The facts of `plan`, to be enrolled on the token with OATH device id `token_device`.
    pub fn of(plan: &Plan, token_device: &str) -> Self {
        Planned {
            account: plan.account.clone(),
            partition: plan.partition.clone(),
            user: plan.user.clone(),
            credential: plan.credential.clone(),
            token: plan.token.clone(),
            token_serial: plan.token_serial.map(|s| s.0),
            token_device: token_device.to_owned(),
            device_name: plan.device_name.clone(),
        }
    }
}

/// Where an attempt stands, from its records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Started and never ended: something may remain half-done.
    Open,
    /// Enrolled.
    Enrolled {
        /// The device.
        device: String,
    },
    /// Ended with nothing left behind (failed and undone, or cleaned up later).
    Closed {
        /// Why it failed, when it did.
        error: Option<String>,
    },
    /// Ended, but something could not be removed.
    Leftovers(Vec<String>),
}

/// The last attempt of one key, folded from its records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The key.
    pub key: String,
    /// What it set out to do.
    pub planned: Planned,
    /// Devices that may exist (announced by `Creating`).
    pub maybe_devices: Vec<String>,
    /// Devices IAM said it created: certainly this attempt's.
    pub created: Vec<String>,
    /// Whether the credential may be on the token.
    pub maybe_written: bool,
    /// The fingerprint of the secret written, when recorded.
    pub fingerprint: Option<crate::oath::Fingerprint>,
    /// The device whose enabling was announced.
    pub enabling: Option<String>,
    /// Where it stands.
    pub state: State,
}

impl Attempt {
    /// What the attempt says may exist, for [`crate::mfa::journal::recover`].
    pub fn unfinished(&self) -> crate::mfa::journal::recover::Unfinished {
        let p = &self.planned;
        crate::mfa::journal::recover::Unfinished {
            account: p.account.clone(),
            user: p.user.clone(),
            device_name: p.device_name.clone(),
            created: self.created.clone(),
            maybe: self.maybe_devices.clone(),
            credential: p.credential.clone(),
            token: p.token.clone(),
            token_serial: p.token_serial,
            written: self.maybe_written,
            enabling: self.enabling.is_some(),
            fingerprint: self.fingerprint.clone(),
        }
    }

    /// Whether a later run must look after it (finish it or clean up).
    pub fn needs_recovery(&self) -> bool {
        matches!(self.state, State::Open | State::Leftovers(_))
    }

    fn apply(&mut self, mark: &Mark) {
        match mark {
            Mark::Opened { .. } | Mark::Planned(_) => {}
            Mark::Creating { device } => push_unique(&mut self.maybe_devices, device),
            Mark::Created { device } => push_unique(&mut self.created, device),
            Mark::Writing { fingerprint } => {
                self.maybe_written = true;
                self.fingerprint = fingerprint.clone();
            }
            Mark::Enabling { device } => self.enabling = Some(device.clone()),
            Mark::Enrolled { device, .. } => {
                self.state = State::Enrolled {
                    device: device.clone(),
                }
            }
            Mark::RolledBack { error, leftovers } => {
                self.state = if leftovers.is_empty() {
                    State::Closed {
                        error: Some(error.clone()),
                    }
                } else {
                    State::Leftovers(leftovers.clone())
                }
            }
            Mark::CleanedUp { leftovers, .. } => {
                self.state = if leftovers.is_empty() {
                    State::Closed { error: None }
                } else {
                    State::Leftovers(leftovers.clone())
                }
            }
        }
    }
}

fn push_unique(list: &mut Vec<String>, item: &str) {
    if !list.iter().any(|d| d == item) {
        list.push(item.to_owned());
    }
}

/// Folds records into the last attempt of each key. A `Planned` starts a new attempt; an
/// attempt's later records refine it.
pub fn attempts(records: &[Record]) -> BTreeMap<String, Attempt> {
    let mut out: BTreeMap<String, Attempt> = BTreeMap::new();
    for r in records {
        match &r.mark {
            Mark::Opened { .. } => {}
            Mark::Planned(p) => {
                out.insert(
                    r.key.clone(),
                    Attempt {
                        key: r.key.clone(),
                        planned: p.clone(),
                        maybe_devices: Vec::new(),
                        created: Vec::new(),
                        maybe_written: false,
                        fingerprint: None,
                        enabling: None,
                        state: State::Open,
                    },
                );
            }
            mark => {
                if let Some(a) = out.get_mut(&r.key) {
                    a.apply(mark);
                }
            }
        }
    }
    out
}

/// Where the journal of a run of `manifest` lives unless told otherwise: `MANIFEST.journal`.
pub fn default_path(manifest: &Path) -> PathBuf {
    let mut name = manifest.as_os_str().to_owned();
    name.push(".journal");
    PathBuf::from(name)
}

/// The attempts the journal at `path` records, read without taking its lock (for a plan, which
/// changes nothing and may run beside an apply). No journal, or one that can't be read, records
/// none; unreadable lines are skipped.
pub fn peek(path: &Path) -> BTreeMap<String, Attempt> {
    match std::fs::read(path) {
        Ok(bytes) => attempts(
            &bytes
                .split(|b| *b == b'\n')
                .filter_map(|l| serde_json::from_slice(l).ok())
                .collect::<Vec<_>>(),
        ),
        Err(_) => BTreeMap::new(),
    }
}

/// Why a journal could not be used.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// Another process holds it.
    #[error("the journal {0} is in use by another ykmfa run")]
    Busy(PathBuf),
    /// A line in the middle is not a record.
    #[error("the journal {path} is damaged at line {line}: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A journal of another schema.
    #[error("{0} is not a ykmfa journal of schema {SCHEMA}")]
    Foreign(PathBuf),
    /// The file system refused.
    #[error("the journal {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// An open journal, locked for this process.
pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
    records: Vec<Record>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").field("path", &self.path).finish()
    }
}

impl Journal {
    /// Opens (or creates) the journal at `path` and locks it. A new journal gets a header naming
    /// `source` and its `digest`. A last line cut short by a crash is dropped.
    pub fn open(
        path: &Path,
        source: Option<&str>,
        digest: Option<&str>,
    ) -> Result<Journal, JournalError> {
        let io = |source| JournalError::Io {
            path: path.to_owned(),
            source,
        };
        let mut options = OpenOptions::new();
        options.read(true).append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let existed = path.exists();
        let mut file = options.open(path).map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(JournalError::Busy(path.to_owned()))
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        let (records, good_len) = read_records(path, &mut file)?;
        let len = file.metadata().map_err(io)?.len();
        if good_len < len {
            // The tail is a line a crash cut short: it announced nothing that happened.
            file.set_len(good_len).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        if let Some(first) = records.first() {
            if !matches!(&first.mark, Mark::Opened { schema, .. } if schema == SCHEMA) {
                return Err(JournalError::Foreign(path.to_owned()));
            }
        }
        let journal = Journal {
            path: path.to_owned(),
            file: Mutex::new(file),
            records,
        };
        if journal.records.is_empty() {
            journal
                .append(
                    "",
                    Mark::Opened {
                        schema: SCHEMA.into(),
                        source: source.map(str::to_owned),
                        digest: digest.map(str::to_owned),
                    },
                )
                .map_err(io)?;
            if !existed {
                sync_parent(path);
            }
        }
        Ok(journal)
    }

    /// The manifest the journal at `path` was started for, as its header names it (opening it
    /// the way [`Journal::open`] does, lock included, and closing it again).
    pub fn manifest_of(path: &Path) -> Result<Option<PathBuf>, JournalError> {
        let journal = Journal::open(path, None, None)?;
        Ok(journal.source().0.map(PathBuf::from))
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The records read when the journal was opened.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// The header's source and digest.
    pub fn source(&self) -> (Option<&str>, Option<&str>) {
        match self.records.first().map(|r| &r.mark) {
            Some(Mark::Opened { source, digest, .. }) => (source.as_deref(), digest.as_deref()),
            _ => (None, None),
        }
    }

    /// The last attempt of each key, as the journal stood when it was opened.
    pub fn attempts(&self) -> BTreeMap<String, Attempt> {
        attempts(&self.records)
    }

    /// Appends one record and syncs it to disk before returning.
    pub fn append(&self, key: &str, mark: Mark) -> std::io::Result<()> {
        let record = Record {
            key: key.to_owned(),
            at: now(),
            mark,
        };
        let mut line = serde_json::to_vec(&record).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let mut file = self
            .file
            .lock()
            .map_err(|_| std::io::Error::other("journal lock poisoned"))?;
        // One write call per line: a crash leaves at most this line cut short.
        file.write_all(&line)?;
        file.sync_data()
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The records of the file, and the length of its whole lines.
fn read_records(path: &Path, file: &mut File) -> Result<(Vec<Record>, u64), JournalError> {
    let io = |source| JournalError::Io {
        path: path.to_owned(),
        source,
    };
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    let mut reader = BufReader::new(&*file);
    let mut records = Vec::new();
    let mut good = 0u64;
    let mut line = Vec::new();
    let mut number = 0;
    let mut pending: Option<(usize, String)> = None;
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).map_err(io)?;
        if n == 0 {
            break;
        }
        number += 1;
        if let Some((line, reason)) = pending.take() {
            // A bad line followed by more lines is damage, not a crash's cut.
            return Err(JournalError::Corrupt {
                path: path.to_owned(),
                line,
                reason,
            });
        }
        if line.last() != Some(&b'\n') {
            break; // cut short: dropped
        }
        match serde_json::from_slice::<Record>(&line) {
            Ok(r) => {
                records.push(r);
                good += n as u64;
            }
            Err(e) => pending = Some((number, e.to_string())),
        }
    }
    Ok((records, good))
}

/// Syncs the directory entry of a new file, so the file itself survives a power cut.
fn sync_parent(path: &Path) {
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

/// A [`Progress`] that journals the enrollment's steps before passing each event on.
///
/// The enrollment announces each step just before taking it, so the record of "may exist from
/// here on" is on disk before the change can happen. A record that cannot be written cancels the
/// enrollment: it then rolls back at its next step boundary, as after Ctrl-C.
pub struct Recorder<'a> {
    journal: &'a Journal,
    key: String,
    account: String,
    partition: String,
    inner: &'a dyn Progress,
    cancel: Cancel,
    device: Mutex<Option<String>>,
    failed: Mutex<Option<String>>,
}

impl<'a> Recorder<'a> {
    /// Records `planned` for `key` and returns the recorder for the enrollment's events.
    pub fn start(
        journal: &'a Journal,
        key: &str,
        planned: Planned,
        inner: &'a dyn Progress,
        cancel: Cancel,
    ) -> std::io::Result<Recorder<'a>> {
        let account = planned.account.clone();
        let partition = planned.partition.clone();
        journal.append(key, Mark::Planned(planned))?;
        Ok(Recorder {
            journal,
            key: key.to_owned(),
            account,
            partition,
            inner,
            cancel,
            device: Mutex::new(None),
            failed: Mutex::new(None),
        })
    }

    /// Records how the enrollment ended.
    pub fn finish(&self, mark: Mark) -> std::io::Result<()> {
        self.journal.append(&self.key, mark)
    }

    /// A journal write that failed during the enrollment, if any.
    pub fn write_failure(&self) -> Option<String> {
        self.failed.lock().ok().and_then(|f| f.clone())
    }

    fn record(&self, mark: Mark) {
        if let Err(e) = self.journal.append(&self.key, mark) {
            if let Ok(mut f) = self.failed.lock() {
                f.get_or_insert_with(|| {
                    format!("writing the journal {}: {e}", self.journal.path().display())
                });
            }
            self.cancel.cancel();
        }
    }
}

impl Progress for Recorder<'_> {
    fn event(&self, event: Event<'_>) {
        match &event {
            Event::Creating(name) => {
                let device = format!("arn:{}:iam::{}:mfa/{name}", self.partition, self.account);
                self.record(Mark::Creating { device });
            }
            Event::Created(serial) => {
                if let Ok(mut d) = self.device.lock() {
                    *d = Some((*serial).to_owned());
                }
                self.record(Mark::Created {
                    device: (*serial).to_owned(),
                });
            }
            Event::Writing { fingerprint, .. } => self.record(Mark::Writing {
                fingerprint: Some((*fingerprint).clone()),
            }),
            Event::Enabling => {
                let device = self.device.lock().ok().and_then(|d| d.clone());
                if let Some(device) = device {
                    self.record(Mark::Enabling { device });
                }
            }
            _ => {}
        }
        self.inner.event(event);
    }
}

/// What recovery found and did for one attempt, in the journal's words.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// The device was enabled before the run died, and the token still holds what computes its
    /// codes: the enrollment is complete.
    pub finished: Option<String>,
    /// What was removed, in words.
    pub done: Vec<String>,
    /// What remains, in words, with how to remove it.
    pub leftovers: Vec<String>,
    /// What remains and can do no harm, in words, with how to remove it.
    pub harmless: Vec<String>,
}

impl Recovery {
    /// The record that closes the attempt.
    pub fn mark(&self) -> Mark {
        match &self.finished {
            Some(device) => Mark::Enrolled {
                device: device.clone(),
                recovered: true,
            },
            None => Mark::CleanedUp {
                done: self.done.clone(),
                leftovers: self.leftovers.clone(),
                harmless: self.harmless.clone(),
            },
        }
    }
}

impl From<&crate::mfa::journal::recover::Recovery> for Recovery {
    fn from(r: &crate::mfa::journal::recover::Recovery) -> Self {
        let words =
            |l: &crate::mfa::Leftover| format!("{}: {}", l.describe(), l.commands("").join(" && "));
        let mut out = Recovery {
            finished: r.completed.clone().filter(|_| r.completed_and_working()),
            done: r
                .removed
                .iter()
                .map(|w| {
                    if w.starts_with("the assignment") {
                        format!("removed {w}")
                    } else {
                        format!("deleted {}", w.replacen("unassigned ", "", 1))
                    }
                })
                .collect(),
            ..Recovery::default()
        };
        if let Some(why) = &r.skipped {
            out.leftovers.push(format!("not settled: {why}"));
        }
        out.done
            .extend(r.notes.iter().map(|n| format!("found {n}")));
        if let (Some(device), Some(why)) = (&r.completed, &r.credential_missing) {
            out.leftovers.push(format!(
                "{device} is assigned, but {why}: ykmfa revoke --user USER --device {device} --yes"
            ));
        }
        let all = r.leftovers.iter().chain(&r.possible).map(words);
        if r.keeps_record() {
            out.leftovers.extend(all);
        } else {
            out.harmless.extend(all);
        }
        out
    }
}

/// Finishes or cleans up an attempt a killed run left open, through the one recovery every
/// command uses ([`crate::mfa::journal::recover`]). `card` is the attempt's token when it is connected.
pub async fn recover<D: Directory, C: Card>(
    dir: &D,
    card: Option<&mut C>,
    attempt: &Attempt,
) -> Recovery {
    Recovery::from(&crate::mfa::journal::recover::recover(dir, card, &attempt.unfinished()).await)
}

#[cfg(test)]
mod tests;
