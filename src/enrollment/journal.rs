//! The enrollment journal: a record on disk of an enrollment in flight, so that a run that dies
//! without undoing (SIGKILL, power loss, a second Ctrl-C) is cleaned up by the next run.
//!
//! One small JSON file per IAM user, `<state dir>/enrollments/<account>-<user>.json`, written (and
//! fsynced, file and directory) before the first change and updated before each further
//! irreversible step. It names what may exist: the device (by name, and by ARN once IAM gave
//! one), the token (serial) and the credential (label). It never holds the seed: the seed can't
//! be recovered anyway, which is why a half-done enrollment is undone rather than finished.
//!
//! The file doubles as the per-user lock: while an enrollment runs, its process holds an
//! exclusive `flock` on it, so two ykmfa processes can't enroll the same user at once, and a
//! record whose lock is free belongs to a run that is gone. A finished record is truncated, not
//! deleted, so the lock always lives on the same inode.
//!
//! [`recover`] compares a record with IAM and the token and does the one safe thing: an
//! enrollment that reached IAM's assignment is complete (nothing to do); anything else is undone
//! (the unassigned device deleted, the credential removed from the token).

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Card, Leftover, Plan, TAG_CREDENTIAL, TAG_TOKEN_SERIAL};
use crate::iam::{AssignmentStatus, Directory};
use crate::token::Serial;

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
    /// process holds it. The returned [`Entry`] shows any record a dead run left.
    pub fn lock(&self, account: &str, user: &str) -> Result<Entry, JournalError> {
        self.ensure_dir()?;
        let path = self.dir.join(format!("{account}-{user}.json"));
        let file = open(&path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(JournalError::Busy(user.to_owned())),
            Err(TryLockError::Error(e)) => return Err(Self::io(&path)(e)),
        }
        let left = read(&file, &path)?;
        Ok(Entry {
            file,
            path,
            dir: self.dir.clone(),
            left,
        })
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
                Ok(entry) if entry.left.is_some() => out.push(entry),
                Ok(_) | Err(JournalError::Busy(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// The record a dead run left for `user` in `account`, read without changing anything (no
    /// file or directory is created). [`JournalError::Busy`] when a run holds it now.
    pub fn peek(&self, account: &str, user: &str) -> Result<Option<Record>, JournalError> {
        let path = self.dir.join(format!("{account}-{user}.json"));
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Self::io(&path)(e)),
        };
        // A shared lock for the moment of reading: refused while a live run holds the record.
        match file.try_lock_shared() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(JournalError::Busy(user.to_owned())),
            Err(TryLockError::Error(e)) => return Err(Self::io(&path)(e)),
        }
        read(&file, &path)
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
                Ok(Some(record)) => out.push(record),
                Ok(None) | Err(JournalError::Busy(_)) => {}
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
        let listing = match std::fs::read_dir(&self.dir) {
            Ok(l) => l,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Self::io(&self.dir)(e)),
        };
        let mut out = Vec::new();
        for item in listing.flatten() {
            let name = item.file_name().to_string_lossy().into_owned();
            // Account ids have no '-', so the first one ends the account.
            let Some((account, user)) = name
                .strip_suffix(".json")
                .and_then(|stem| stem.split_once('-'))
            else {
                continue;
            };
            let mine = account == except_account && user == except_user;
            if mine || item.metadata().map_or(true, |m| m.len() == 0) {
                continue;
            }
            out.push((account.to_owned(), user.to_owned()));
        }
        out.sort();
        Ok(out)
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

fn read(mut file: &File, path: &Path) -> Result<Option<Record>, JournalError> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0))
        .and_then(|_| file.read_to_string(&mut text))
        .map_err(Journal::io(path))?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    match serde_json::from_str::<Record>(&text) {
        Ok(r) if r.schema == SCHEMA => Ok(Some(r)),
        _ => Err(JournalError::Corrupt(path.to_owned())),
    }
}

/// A user's record, locked for as long as this value lives.
#[derive(Debug)]
pub struct Entry {
    file: File,
    path: PathBuf,
    dir: PathBuf,
    left: Option<Record>,
}

impl Entry {
    /// The record a dead run left, if any.
    pub fn left(&self) -> Option<&Record> {
        self.left.as_ref()
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `record` durably: the file's bytes, then the directory entry.
    fn write(&mut self, record: &Record) -> Result<(), JournalError> {
        let text = serde_json::to_vec_pretty(record).map_err(|e| JournalError::Io {
            path: self.path.clone(),
            source: e.into(),
        })?;
        let io = Journal::io(&self.path);
        (|| {
            self.file.set_len(0)?;
            self.file.seek(SeekFrom::Start(0))?;
            self.file.write_all(&text)?;
            self.file.write_all(b"\n")?;
            self.file.sync_all()?;
            File::open(&self.dir)?.sync_all()
        })()
        .map_err(io)
    }

    /// Starts recording the enrollment of `plan`, before anything changes.
    pub fn begin(&mut self, plan: &Plan) -> Result<Recorder<'_>, JournalError> {
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
        };
        self.write(&record)?;
        self.left = Some(record);
        Ok(Recorder {
            entry: std::sync::Mutex::new(self),
            failed: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Marks the user's record finished (nothing left to clean up).
    pub fn clear(&mut self) -> Result<(), JournalError> {
        let io = Journal::io(&self.path);
        self.file
            .set_len(0)
            .and_then(|()| self.file.sync_all())
            .map_err(io)?;
        self.left = None;
        Ok(())
    }
}

/// Updates a record as the enrollment's [`super::Event`]s arrive (a [`super::Progress`] that
/// sits in front of the one that prints).
pub struct Recorder<'a> {
    entry: std::sync::Mutex<&'a mut Entry>,
    failed: std::sync::atomic::AtomicBool,
}

impl<'a> Recorder<'a> {
    /// Applies an event: the stages before each irreversible step, and the device ARN.
    pub fn note(&self, event: &super::Event<'_>) {
        let Ok(mut entry) = self.entry.lock() else {
            return;
        };
        let Some(mut record) = entry.left.clone() else {
            return;
        };
        match event {
            super::Event::Created(arn) => {
                record.device_arn = Some((*arn).to_owned());
                record.stage = Stage::Created;
            }
            super::Event::Writing { .. } => record.stage = Stage::Writing,
            super::Event::Enabling => record.stage = Stage::Enabling,
            _ => return,
        }
        if entry.write(&record).is_err() {
            // The first record, written before anything changed, already names the user, the
            // token and the credential: recovery works from it alone. Only the ARN is lost.
            self.failed
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        entry.left = Some(record);
    }

    /// Whether an update could not be written.
    pub fn had_failures(&self) -> bool {
        self.failed.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A [`super::Progress`] that records each event, then passes it on to `inner`.
    pub fn around<'b>(
        &'b self,
        inner: &'b dyn super::Progress,
    ) -> impl super::Progress + use<'a, 'b> {
        Around {
            recorder: self,
            inner,
        }
    }
}

struct Around<'b, 'a> {
    recorder: &'b Recorder<'a>,
    inner: &'b dyn super::Progress,
}

impl super::Progress for Around<'_, '_> {
    fn event(&self, event: super::Event<'_>) {
        self.recorder.note(&event);
        self.inner.event(event);
    }
}

/// What recovery found and did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Recovery {
    /// Whether the recorded enrollment had in fact completed (the device is assigned).
    pub completed: bool,
    /// The device that completed it.
    pub device: Option<String>,
    /// What was removed, in words.
    pub removed: Vec<String>,
    /// What remains and why (e.g. the token is not connected).
    pub leftovers: Vec<Leftover>,
    /// Why nothing could be done with these credentials (another account), if so.
    pub skipped: Option<String>,
}

impl Recovery {
    /// Whether nothing of the record remains to be done.
    pub fn is_settled(&self) -> bool {
        self.leftovers.is_empty() && self.skipped.is_none()
    }
}

/// Settles a record left by a dead run: a device that reached assignment means the enrollment
/// completed; otherwise the unassigned device is deleted and the credential removed from the
/// token (when `card` is that token). Only what the record names is touched, and a device only
/// when IAM shows it unassigned and ykmfa's own.
pub async fn recover<D: Directory, C: Card>(
    dir: &D,
    card: Option<&mut C>,
    record: &Record,
) -> Recovery {
    let mut out = Recovery::default();
    match dir.caller_identity().await {
        Ok(me) if me.account != record.account => {
            out.skipped = Some(format!(
                "the record is for account {}; these credentials are for {}",
                record.account, me.account
            ));
            return out;
        }
        Ok(_) => {}
        Err(e) => {
            out.skipped = Some(format!("could not ask IAM: {e}"));
            return out;
        }
    }

    let named = |serial: &str| {
        record.device_arn.as_deref() == Some(serial)
            || serial.rsplit('/').next().is_some_and(|name| {
                name == record.device_name
                    || name
                        .strip_prefix(record.device_name.as_str())
                        .and_then(|rest| rest.strip_prefix('-'))
                        .is_some_and(|n| n.parse::<u8>().is_ok())
            })
    };
    let ours = |tags: &[(String, String)]| {
        let tag = |k: &str| {
            tags.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        tag(TAG_CREDENTIAL) == Some(record.credential.as_str())
            && tag(TAG_TOKEN_SERIAL).map(str::to_owned)
                == record.token_serial.map(|s| s.to_string())
    };

    // Completed? The device IAM assigned to the user is the recorded one.
    let assigned = match dir.list_mfa_devices(Some(&record.user)).await {
        Ok(list) => list,
        Err(e) => {
            out.skipped = Some(format!("could not list {}'s MFA devices: {e}", record.user));
            return out;
        }
    };
    for device in assigned.iter().filter(|d| named(&d.serial)) {
        let tags = dir
            .list_mfa_device_tags(&device.serial)
            .await
            .unwrap_or_default();
        if record.device_arn.as_deref() == Some(device.serial.as_str()) || ours(&tags) {
            out.completed = true;
            out.device = Some(device.serial.clone());
            return out;
        }
    }

    // Not completed: undo. The device, if IAM shows it unassigned and it is ykmfa's.
    match dir
        .list_virtual_mfa_devices(AssignmentStatus::Unassigned)
        .await
    {
        Ok(unassigned) => {
            for device in unassigned.iter().filter(|d| named(&d.serial)) {
                let tags = dir
                    .list_mfa_device_tags(&device.serial)
                    .await
                    .unwrap_or_default();
                let recorded = record.device_arn.as_deref() == Some(device.serial.as_str());
                if !(recorded || ours(&tags)) {
                    continue;
                }
                match dir.delete_virtual_mfa_device(&device.serial).await {
                    Ok(()) => out
                        .removed
                        .push(format!("unassigned virtual MFA device {}", device.serial)),
                    Err(e) => out.leftovers.push(Leftover::Device {
                        serial: device.serial.clone(),
                        assigned_to: None,
                        reason: e.to_string(),
                    }),
                }
            }
        }
        Err(e) => out.leftovers.push(Leftover::Device {
            serial: record
                .device_arn
                .clone()
                .unwrap_or_else(|| format!("(a device named {})", record.device_name)),
            assigned_to: None,
            reason: format!("could not list unassigned devices: {e}"),
        }),
    }

    // The credential, if the token is here; a record from before the write needs nothing.
    if matches!(record.stage, Stage::Creating | Stage::Created) {
        return out;
    }
    let leftover = |reason: String| Leftover::Credential {
        name: record.credential.clone(),
        token_serial: record.token_serial.map(Serial),
        token: record.token.clone(),
        reason,
    };
    match card {
        Some(card) if card.serial().map(|s| s.0) == record.token_serial => {
            match tokio::task::block_in_place(|| card.list()) {
                Ok(list) => {
                    let found = list.iter().find(|c| c.id.to_string() == record.credential);
                    if let Some(credential) = found {
                        match tokio::task::block_in_place(|| card.delete(&credential.raw_id)) {
                            Ok(()) => out.removed.push(format!(
                                "credential '{}' on {}",
                                record.credential, record.token
                            )),
                            Err(e) => out.leftovers.push(leftover(e.to_string())),
                        }
                    }
                }
                Err(e) => out.leftovers.push(leftover(e.to_string())),
            }
        }
        _ => out
            .leftovers
            .push(leftover("the token is not connected".to_owned())),
    }
    out
}
