//! The enrollment journal: a record on disk of an enrollment in flight, so that a run that dies
//! without undoing (SIGKILL, power loss, a second Ctrl-C) is cleaned up by the next run.
//!
//! Per IAM user of an account, in `<state dir>/enrollments/`:
//! - `<account>-<user>.lock`: the per-user lock. While a run works on the user, its process holds
//!   an exclusive `flock` on it, so two ykmfa processes never work on one user at once. It is
//!   removed (while still locked) when the run ends, so finished runs leave nothing behind.
//! - `<account>-<user>.json`: the record of the run in flight, written before the first change
//!   and replaced before each further irreversible step, atomically (a temporary file, fsync,
//!   rename, fsync of the directory), so a power cut leaves the old record or the new, never a
//!   torn one. It names what may exist: the device (by name, and by ARN once IAM gave one), the
//!   token (serial), the credential (label) and the fingerprint of its secret; never the seed.
//!   It is deleted once the enrollment finished or was undone.
//! - `<account>-<user>~<started>-<pid>.json`: a record of an earlier run whose leftovers could not
//!   be settled yet, set aside so a new enrollment of the user can start; it stays until they are.
//!
//! Records left by runs of the earlier layout (the record file doubling as the lock, emptied when
//! finished) are read the same way; their empty files are removed.
//!
//! What to do with a record is [`crate::mfa::journal::recover`]'s and [`crate::mfa::settle`]'s business.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::recover::Unfinished;
use crate::mfa::enroll::Plan;
use crate::mfa::Cancel;
use crate::oath::Fingerprint;

/// Schema of the record, for forward compatibility.
const SCHEMA: &str = "ykmfa.enrollment-journal/1";

/// Why the journal could not be used.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// No place to keep it: neither `XDG_STATE_HOME` nor `HOME` is set.
    #[error("no state directory: set HOME or XDG_STATE_HOME")]
    NoStateDir,
    /// Another ykmfa process is enrolling this user right now.
    #[error("another ykmfa process is working on IAM user '{0}' right now")]
    Busy(String),
    /// A file operation failed.
    #[error("enrollment journal {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The file is not a record ykmfa wrote.
    #[error("enrollment journal {0} is not readable as a record; check it, then delete it")]
    Corrupt(PathBuf),
    /// An account id or user name that can't safely name a file.
    #[error("'{0}' can't name an enrollment record (an account id is 12 digits; a user name has no '/' or '~')")]
    BadName(String),
}

/// Where a recorded enrollment had got to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// About to create the device.
    Creating,
    /// The device exists (its ARN is recorded).
    Created,
    /// About to write the credential to the token.
    Writing,
    /// About to enable the device.
    Enabling,
}

impl std::fmt::Display for Stage {
    /// What the run was doing: "while writing the credential".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Stage::Creating => "creating the device",
            Stage::Created => "after creating the device",
            Stage::Writing => "writing the credential",
            Stage::Enabling => "enabling the device",
        })
    }
}

/// One enrollment in flight, as written to disk. Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// [`SCHEMA`].
    pub schema: String,
    /// The account id.
    pub account: String,
    /// The IAM user.
    pub user: String,
    /// The device name planned (IAM may have been given a `-2`… variant: see `device_arn`).
    pub device_name: String,
    /// The device ARN, once IAM answered.
    pub device_arn: Option<String>,
    /// The credential id on the token.
    pub credential: String,
    /// The token's serial.
    pub token_serial: Option<u32>,
    /// The token as a person recognises it.
    pub token: String,
    /// How far it got.
    pub stage: Stage,
    /// The process that wrote it.
    pub pid: u32,
    /// When it started (seconds since the epoch).
    pub started: u64,
    /// The fingerprint of the secret written (from the write on; absent in records of earlier
    /// versions, whose credentials are therefore never deleted without a person).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<Fingerprint>,
}

impl Record {
    /// What the record says may exist, for [`crate::mfa::journal::recover`].
    pub fn unfinished(&self) -> Unfinished {
        Unfinished {
            account: self.account.clone(),
            user: self.user.clone(),
            device_name: self.device_name.clone(),
            created: self.device_arn.iter().cloned().collect(),
            maybe: Vec::new(),
            credential: self.credential.clone(),
            token: self.token.clone(),
            token_serial: self.token_serial,
            written: matches!(self.stage, Stage::Writing | Stage::Enabling),
            enabling: self.stage == Stage::Enabling,
            fingerprint: self.fingerprint.clone(),
        }
    }
}

/// The directory of records.
#[derive(Debug, Clone)]
pub struct Journal {
    dir: PathBuf,
}

impl Journal {
    /// The journal at `$XDG_STATE_HOME/ykmfa/enrollments`, else
    /// `$HOME/.local/state/ykmfa/enrollments`.
    pub fn default_location() -> Result<Self, JournalError> {
        let base = match std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
            Some(state) => PathBuf::from(state),
            None => std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".local/state"))
                .ok_or(JournalError::NoStateDir)?,
        };
        Ok(Journal::at(base.join("ykmfa/enrollments")))
    }

    /// A journal in `dir`.
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Journal { dir: dir.into() }
    }

    /// Where it lives.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> JournalError + '_ {
        move |source| JournalError::Io {
            path: path.to_owned(),
            source,
        }
    }

    fn ensure_dir(&self) -> Result<(), JournalError> {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(Self::io(&self.dir))
    }

    /// Takes the lock of `user` in `account`, failing with [`JournalError::Busy`] when another
    /// process holds it. The returned [`Entry`] shows the records dead runs left.
    pub fn lock(&self, account: &str, user: &str) -> Result<Entry, JournalError> {
        check_names(account, user)?;
        self.ensure_dir()?;
        let stem = format!("{account}-{user}");
        let lock_path = self.dir.join(format!("{stem}.lock"));
        // The lock file is removed when a run ends: a file opened just before that removal is
        // not the lock any more, so the lock taken must be on the file the path still names.
        let lock = loop {
            let file = open(&lock_path)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => return Err(JournalError::Busy(user.to_owned())),
                Err(TryLockError::Error(e)) => return Err(Self::io(&lock_path)(e)),
            }
            if same_file(&file, &lock_path) {
                break file;
            }
        };
        let mut entry = Entry {
            lock,
            lock_path,
            dir: self.dir.clone(),
            path: self.dir.join(format!("{stem}.json")),
            left: Vec::new(),
            current: None,
        };
        // A run of the earlier layout locked the record file itself: it must not be running.
        if let Ok(old) = File::open(&entry.path) {
            if let Err(TryLockError::WouldBlock) = old.try_lock() {
                return Err(JournalError::Busy(user.to_owned()));
            }
        }
        entry.left = self.records_of(&stem)?;
        Ok(entry)
    }

    /// The records of one user (`stem` is `<account>-<user>`), read, with their files. Empty
    /// files left by earlier versions are removed (the caller holds the lock).
    fn records_of(&self, stem: &str) -> Result<Vec<(PathBuf, Record)>, JournalError> {
        let mut out = Vec::new();
        for path in self.files_of(stem)? {
            let mut text = String::new();
            match File::open(&path).and_then(|mut f| f.read_to_string(&mut text)) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Self::io(&path)(e)),
            }
            match parse(&text, &path)? {
                Some(record) => out.push((path, record)),
                None => {
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        Ok(out)
    }

    /// The record files of one user: the current one first, then those set aside, oldest first.
    fn files_of(&self, stem: &str) -> Result<Vec<PathBuf>, JournalError> {
        let mut parked = Vec::new();
        let mut current = Vec::new();
        for name in self.listing()? {
            if name == format!("{stem}.json") {
                current.push(self.dir.join(&name));
            } else if name.starts_with(&format!("{stem}~")) && name.ends_with(".json") {
                parked.push(self.dir.join(&name));
            }
        }
        parked.sort();
        current.extend(parked);
        Ok(current)
    }

    fn listing(&self) -> Result<Vec<String>, JournalError> {
        match std::fs::read_dir(&self.dir) {
            Ok(l) => Ok(l
                .flatten()
                .map(|i| i.file_name().to_string_lossy().into_owned())
                .collect()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(Self::io(&self.dir)(e)),
        }
    }

    /// Records left by dead runs, other than `except_user`'s in `except_account`, each with its
    /// lock taken (records whose run is alive are skipped).
    pub fn unfinished(
        &self,
        except_account: &str,
        except_user: &str,
    ) -> Result<Vec<Entry>, JournalError> {
        let mut out = Vec::new();
        for (account, user) in self.names(except_account, except_user)? {
            match self.lock(&account, &user) {
                Ok(entry) if !entry.left.is_empty() => out.push(entry),
                Ok(_) | Err(JournalError::Busy(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// The records dead runs left for `user` in `account`, read without changing anything (no
    /// file or directory is created). [`JournalError::Busy`] when a run holds the user now.
    pub fn peek(&self, account: &str, user: &str) -> Result<Vec<Record>, JournalError> {
        check_names(account, user)?;
        let stem = format!("{account}-{user}");
        for lock in [format!("{stem}.lock"), format!("{stem}.json")] {
            if let Ok(file) = File::open(self.dir.join(lock)) {
                if let Err(TryLockError::WouldBlock) = file.try_lock_shared() {
                    return Err(JournalError::Busy(user.to_owned()));
                }
            }
        }
        let mut out = Vec::new();
        for path in self.files_of(&stem)? {
            let mut text = String::new();
            match File::open(&path).and_then(|mut f| f.read_to_string(&mut text)) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Self::io(&path)(e)),
            }
            out.extend(parse(&text, &path)?);
        }
        Ok(out)
    }

    /// Like [`Journal::unfinished`], read without changing anything: records of dead runs other
    /// than `except_user`'s in `except_account` (records whose run is alive are skipped).
    pub fn peek_unfinished(
        &self,
        except_account: &str,
        except_user: &str,
    ) -> Result<Vec<Record>, JournalError> {
        let mut out = Vec::new();
        for (account, user) in self.names(except_account, except_user)? {
            match self.peek(&account, &user) {
                Ok(records) => out.extend(records),
                Err(JournalError::Busy(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// The (account, user) of every non-empty record file but `except_user`'s in
    /// `except_account`.
    fn names(
        &self,
        except_account: &str,
        except_user: &str,
    ) -> Result<Vec<(String, String)>, JournalError> {
        let mut out = Vec::new();
        for name in self.listing()? {
            let path = self.dir.join(&name);
            // Account ids have no '-', so the first one ends the account; '~' (never in a user
            // name) starts the suffix of a record set aside.
            let Some((account, user)) = name
                .strip_suffix(".json")
                .and_then(|stem| stem.split_once('-'))
                .map(|(a, u)| (a, u.split('~').next().unwrap_or(u)))
            else {
                continue;
            };
            let mine = account == except_account && user == except_user;
            if mine || check_names(account, user).is_err() {
                continue;
            }
            if std::fs::metadata(&path).map_or(true, |m| m.len() == 0) {
                continue;
            }
            let pair = (account.to_owned(), user.to_owned());
            if !out.contains(&pair) {
                out.push(pair);
            }
        }
        out.sort();
        Ok(out)
    }
}

/// Account ids are 12 digits and IAM user names `[\w+=,.@-]+`: anything else could reach
/// outside the directory or be confused with another user's file.
fn check_names(account: &str, user: &str) -> Result<(), JournalError> {
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(JournalError::BadName(account.to_owned()));
    }
    let ok = !user.is_empty()
        && user.len() <= 64
        && user
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || "+=,.@-".contains(c))
        && user != "."
        && user != "..";
    if ok {
        Ok(())
    } else {
        Err(JournalError::BadName(user.to_owned()))
    }
}

fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

fn parse(text: &str, path: &Path) -> Result<Option<Record>, JournalError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    match serde_json::from_str::<Record>(text) {
        Ok(r) if r.schema == SCHEMA => Ok(Some(r)),
        _ => Err(JournalError::Corrupt(path.to_owned())),
    }
}

fn open(path: &Path) -> Result<File, JournalError> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(Journal::io(path))
}

/// A user's lock, held for as long as this value lives, with the records dead runs left.
#[derive(Debug)]
pub struct Entry {
    lock: File,
    lock_path: PathBuf,
    dir: PathBuf,
    /// The current record's file.
    path: PathBuf,
    /// Records dead runs left: file and record.
    left: Vec<(PathBuf, Record)>,
    /// The record of this run, once begun.
    current: Option<Record>,
}

impl Drop for Entry {
    fn drop(&mut self) {
        // Removed while still locked: a process that opened it meanwhile sees, once it gets the
        // lock, that the path names another file (or none) and opens again.
        let _ = std::fs::remove_file(&self.lock_path);
        let _ = self.lock.unlock();
    }
}

impl Entry {
    /// The records dead runs left, oldest last.
    pub fn left(&self) -> Vec<&Record> {
        self.left.iter().map(|(_, r)| r).collect()
    }

    /// The current record's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Ends what [`Entry::left`] showed as its `index`-th record: `settled` removes it; else it
    /// stays, and is set aside when a new enrollment of the user begins.
    pub fn settled(&mut self, index: usize, settled: bool) -> Result<(), JournalError> {
        let Some((path, _)) = self.left.get(index) else {
            return Ok(());
        };
        if settled {
            remove(path, &self.dir)?;
        }
        Ok(())
    }

    /// Forgets the records of dead runs that [`Entry::settled`] removed.
    fn refresh(&mut self) {
        self.left.retain(|(path, _)| path.exists());
    }

    /// Writes `record` durably and atomically as the current record.
    fn write(&mut self, record: &Record) -> Result<(), JournalError> {
        let mut text = serde_json::to_vec_pretty(record).map_err(|e| JournalError::Io {
            path: self.path.clone(),
            source: e.into(),
        })?;
        text.push(b'\n');
        replace(&self.path, &self.dir, &text)
    }

    /// Starts recording the enrollment of `plan`, before anything changes. A record a dead run
    /// left that is still unsettled is set aside first, never overwritten. A record that can't
    /// be updated later cancels the run through `cancel`.
    pub fn begin(&mut self, plan: &Plan, cancel: Cancel) -> Result<Recorder<'_>, JournalError> {
        self.refresh();
        if let Some(i) = self.left.iter().position(|(p, _)| *p == self.path) {
            let (_, record) = &self.left[i];
            let aside = self.dir.join(format!(
                "{}-{}~{}-{}.json",
                record.account, record.user, record.started, record.pid
            ));
            std::fs::rename(&self.path, &aside).map_err(Journal::io(&self.path))?;
            sync_dir(&self.dir).map_err(Journal::io(&self.dir))?;
            self.left[i].0 = aside;
        }
        let record = Record {
            schema: SCHEMA.to_owned(),
            account: plan.account.clone(),
            user: plan.user.clone(),
            device_name: plan.device_name.clone(),
            device_arn: None,
            credential: plan.credential.clone(),
            token_serial: plan.token_serial.map(|s| s.0),
            token: plan.token.clone(),
            stage: Stage::Creating,
            pid: std::process::id(),
            started: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            fingerprint: None,
        };
        self.write(&record)?;
        self.current = Some(record);
        Ok(Recorder {
            entry: std::sync::Mutex::new(self),
            failed: std::sync::Mutex::new(None),
            cancel,
        })
    }

    /// Ends this run's record: the enrollment finished or was undone, nothing is left.
    pub fn clear(&mut self) -> Result<(), JournalError> {
        if self.current.take().is_some() {
            remove(&self.path, &self.dir)?;
        }
        Ok(())
    }
}

/// Replaces `path` with `bytes` so that a crash leaves the old content or the new.
fn replace(path: &Path, dir: &Path, bytes: &[u8]) -> Result<(), JournalError> {
    let tmp = path.with_extension("json.tmp");
    (|| {
        let mut file = open_new(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        sync_dir(dir)
    })()
    .map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Journal::io(path)(e)
    })
}

fn remove(path: &Path, dir: &Path) -> Result<(), JournalError> {
    match std::fs::remove_file(path) {
        Ok(()) => sync_dir(dir).map_err(Journal::io(dir)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Journal::io(path)(e)),
    }
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

fn open_new(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

/// Updates a record as the enrollment's [`crate::mfa::enroll::Event`]s arrive (a [`crate::mfa::enroll::Progress`] that
/// sits in front of the one that prints). An update that can't be written cancels the
/// enrollment, which then undoes itself at its next step, before the step the record would have
/// announced.
pub struct Recorder<'a> {
    entry: std::sync::Mutex<&'a mut Entry>,
    failed: std::sync::Mutex<Option<String>>,
    cancel: Cancel,
}

impl<'a> Recorder<'a> {
    /// Applies an event: the stages before each irreversible step, the device ARN, and the
    /// fingerprint of the secret about to be written.
    pub fn note(&self, event: &crate::mfa::enroll::Event<'_>) {
        let Ok(mut entry) = self.entry.lock() else {
            return;
        };
        let Some(mut record) = entry.current.clone() else {
            return;
        };
        match event {
            crate::mfa::enroll::Event::Created(arn) => {
                record.device_arn = Some((*arn).to_owned());
                record.stage = Stage::Created;
            }
            crate::mfa::enroll::Event::Writing { fingerprint, .. } => {
                record.stage = Stage::Writing;
                record.fingerprint = Some((*fingerprint).clone());
            }
            crate::mfa::enroll::Event::Enabling => record.stage = Stage::Enabling,
            _ => return,
        }
        if let Err(e) = entry.write(&record) {
            if let Ok(mut failed) = self.failed.lock() {
                failed.get_or_insert_with(|| e.to_string());
            }
            self.cancel.cancel();
        }
        entry.current = Some(record);
    }

    /// The first update that could not be written, if any (the run was cancelled for it).
    pub fn failure(&self) -> Option<String> {
        self.failed.lock().ok().and_then(|f| f.clone())
    }

    /// A [`crate::mfa::enroll::Progress`] that records each event, then passes it on to `inner`.
    pub fn around<'b>(
        &'b self,
        inner: &'b dyn crate::mfa::enroll::Progress,
    ) -> impl crate::mfa::enroll::Progress + use<'a, 'b> {
        Around {
            recorder: self,
            inner,
        }
    }
}

struct Around<'b, 'a> {
    recorder: &'b Recorder<'a>,
    inner: &'b dyn crate::mfa::enroll::Progress,
}

impl crate::mfa::enroll::Progress for Around<'_, '_> {
    fn event(&self, event: crate::mfa::enroll::Event<'_>) {
        self.recorder.note(&event);
        self.inner.event(event);
    }
}
