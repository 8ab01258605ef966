//! `bulk apply`: every row's enrollment, journaled, in parallel across tokens.
//!
//! Order of a run:
//! 1. Reach every account once (profile or assumed role), with the IAM call cap.
//! 2. Rows the journal says are enrolled are skipped; rows a killed run left half-done are
//!    finished (the device was enabled) or cleaned up (device deleted, credential removed) and
//!    then enrolled afresh.
//! 3. Rows with a serial run at once, one worker per token, each on its own PC/SC context.
//! 4. Rows without a serial run one after another: ykmfa asks for the row's token and waits for
//!    it to be inserted (PC/SC reader events), enrolls, and asks for the next.
//! 5. Rows of hardware tokens run last, one at a time: the person at the terminal types two codes
//!    from the token's display, sent in one EnableMFADevice. Without a person they are left for
//!    one, with the command to run.
//!
//! Each row is one enrollment transaction with its own rollback; a failed row is reported and
//! the others go on.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use super::accounts::{self, Account};
use super::{Note, Outcome, Row, Settings, Status, Watcher};
use crate::iam::Directory;
use crate::mfa::enroll::token_tag;
use crate::mfa::enroll::{self, Event, Progress};
use crate::mfa::hardware::{self, HardwareError, HardwareSerial, Purpose};
use crate::mfa::journal::bulk::{self as journal, Journal, Mark, Planned, Recorder, State};
use crate::mfa::remedy::shell_quote;
use crate::mfa::{Cancel, Leftover, SystemClock};
use crate::token::PcscCard;
use crate::token::{self, Serial, Token};
use crate::transport::pcsc::Context;

/// Runs every row. Returns one outcome per row, in manifest order.
pub async fn apply(
    rows: Vec<Row>,
    journal: Arc<Journal>,
    settings: Arc<Settings>,
    watcher: Arc<dyn Watcher>,
    cancel: Cancel,
) -> Vec<Outcome> {
    let accounts = accounts::connect(
        &settings.aws,
        rows.iter().map(|r| &r.account),
        settings.iam_concurrency,
    )
    .await;
    for a in accounts.values() {
        if let Err(u) = a {
            watcher.note(Note::AccountUnreachable(u));
        }
    }
    let attempts = journal.attempts();
    let mut outcomes = Vec::new();
    let keys: HashSet<String> = rows.iter().map(Row::key).collect();
    let mut todo: Vec<(Row, Arc<Account>, Vec<String>)> = Vec::new();

    let ctx = Context::establish();
    let mut inventory = match &ctx {
        Ok(ctx) => token::inventory(ctx).map(|i| i.tokens).unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    // Tokens that already hold an enrollment of this journal are never taken for a row without
    // a serial.
    let mut used: HashSet<String> = attempts
        .values()
        .filter(|a| matches!(a.state, State::Enrolled { .. }))
        .map(|a| a.planned.token_device.clone())
        .collect();

    // Half-done attempts of rows no longer in the manifest (it was edited after a killed run):
    // their key names the account and the user, which is all cleaning up needs.
    for attempt in attempts.values() {
        if keys.contains(&attempt.key) || !attempt.needs_recovery() {
            continue;
        }
        let Some((label, _)) = attempt.key.rsplit_once('/') else {
            continue;
        };
        let Ok(reference) = super::AccountRef::parse(label) else {
            continue;
        };
        let connected =
            accounts::connect(&settings.aws, [&reference], settings.iam_concurrency).await;
        let Some(Ok(account)) = connected.get(&reference) else {
            continue;
        };
        let mut card = ctx.as_ref().ok().and_then(|_| {
            let token = inventory
                .iter()
                .find(|t| t.device_id == attempt.planned.token_device)?
                .clone();
            Some(PcscCard::new(
                Context::establish().ok()?,
                token,
                settings.password(),
            ))
        });
        let recovery = journal::recover(&account.dir, card.as_mut(), attempt).await;
        let _ = journal.append(&attempt.key, recovery.mark());
        watcher.note(Note::RecoveredOutsideManifest {
            key: &attempt.key,
            recovery: &recovery,
        });
    }

    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    for row in rows {
        let account = match accounts.get(&row.account) {
            Some(Ok(a)) => a.clone(),
            Some(Err(u)) => {
                outcomes.push(Outcome::failed(
                    &row,
                    format!(
                        "cannot reach the account through {}: {}",
                        u.reference.describe(),
                        u.error
                    ),
                ));
                continue;
            }
            None => {
                outcomes.push(Outcome::failed(&row, "the account was not resolved"));
                continue;
            }
        };
        if let Some(first) = seen.insert((account.id.clone(), row.user.to_string()), row.number) {
            outcomes.push(Outcome::failed(
                &row,
                format!(
                    "row {first} enrolls the same user in the same account {} (reached another way); one row per user and account",
                    account.id
                ),
            ));
            continue;
        }
        let key = row.key();
        let Some(attempt) = attempts.get(&key) else {
            todo.push((row, account, Vec::new()));
            continue;
        };
        if let State::Enrolled { device } = &attempt.state {
            let mut o = Outcome::new(&row, Status::AlreadyEnrolled);
            o.account_id = Some(account.id.clone());
            o.device = Some(device.clone());
            o.token_serial = attempt.planned.token_serial;
            o.label = Some(attempt.planned.credential.clone()).filter(|c| !c.is_empty());
            watcher.note(Note::Finished(&o));
            outcomes.push(o);
            continue;
        }
        if !attempt.needs_recovery() {
            todo.push((row, account, Vec::new()));
            continue;
        }
        // A killed run left this row half-done: finish or clean up before anything else.
        let token = inventory
            .iter()
            .find(|t| {
                t.device_id == attempt.planned.token_device
                    && (attempt.planned.token_serial.is_none()
                        || t.serial.map(|s| s.0) == attempt.planned.token_serial)
            })
            .cloned();
        let mut card = match (&ctx, token) {
            (Ok(_), Some(t)) => Context::establish()
                .ok()
                .map(|c| PcscCard::new(c, t, settings.password())),
            _ => None,
        };
        let recovery = journal::recover(&account.dir, card.as_mut(), attempt).await;
        let written = journal.append(&key, recovery.mark());
        watcher.note(Note::Recovered {
            row: &row,
            recovery: &recovery,
        });
        let mut said = recovery.done.clone();
        if let Some(device) = &recovery.finished {
            said.push(format!("found {device} enabled by the interrupted run"));
            used.insert(attempt.planned.token_device.clone());
            let mut o = Outcome::new(&row, Status::Enrolled);
            o.account_id = Some(account.id.clone());
            o.device = Some(device.clone());
            o.token_serial = attempt.planned.token_serial;
            o.label = Some(attempt.planned.credential.clone());
            o.recovered = said;
            watcher.note(Note::Finished(&o));
            outcomes.push(o);
            continue;
        }
        if !recovery.leftovers.is_empty() || written.is_err() {
            let mut o = Outcome::new(&row, Status::Incomplete);
            o.account_id = Some(account.id.clone());
            o.token_serial = attempt.planned.token_serial;
            o.label = Some(attempt.planned.credential.clone());
            o.error = Some(match written {
                Err(e) => format!("could not record the cleanup in the journal: {e}"),
                Ok(()) => "an interrupted earlier run left this row half-done and not everything could be removed".into(),
            });
            o.leftovers = recovery.leftovers.clone();
            o.recovered = said;
            watcher.note(Note::Finished(&o));
            outcomes.push(o);
            continue;
        }
        todo.push((row, account, said));
    }

    // Cleanup may have removed credentials: the tokens are looked at again.
    if let Ok(ctx) = &ctx {
        if let Ok(inv) = token::inventory(ctx) {
            inventory = inv.tokens;
        }
    }
    let (by_person, todo): (Vec<_>, Vec<_>) = todo
        .into_iter()
        .partition(|(r, _, _)| r.hardware_serial.is_some());
    let claimed: HashSet<Serial> = todo.iter().filter_map(|(r, _, _)| r.serial).collect();
    let mut by_serial: HashMap<Serial, Token> = inventory
        .into_iter()
        .filter_map(|t| t.serial.map(|s| (s, t)))
        .collect();

    let (with_serial, by_insertion): (Vec<_>, Vec<_>) =
        todo.into_iter().partition(|(r, _, _)| r.serial.is_some());

    let mut workers = tokio::task::JoinSet::new();
    let mut spawned = HashMap::new();
    for (row, account, recovered) in with_serial {
        let serial = row.serial.unwrap_or(Serial(0));
        match (&ctx, by_serial.remove(&serial)) {
            (Err(e), _) => {
                let mut o = Outcome::failed(&row, format!("PC/SC: {e}"));
                o.recovered = recovered;
                watcher.note(Note::Finished(&o));
                outcomes.push(o);
            }
            (Ok(_), None) => {
                let mut o = Outcome::failed(
                    &row,
                    format!("token {serial} is not connected; connect it and run the same command again (rows already enrolled are skipped)"),
                );
                o.account_id = Some(account.id.clone());
                o.recovered = recovered;
                watcher.note(Note::Finished(&o));
                outcomes.push(o);
            }
            (Ok(_), Some(token)) => {
                let job = Job {
                    journal: journal.clone(),
                    settings: settings.clone(),
                    watcher: watcher.clone(),
                    cancel: cancel.clone(),
                };
                let copy = row.clone();
                let handle =
                    workers.spawn(async move { job.enroll(row, account, token, recovered).await });
                spawned.insert(handle.id(), copy);
            }
        }
    }
    while let Some(done) = workers.join_next_with_id().await {
        match done {
            Ok((_, o)) => outcomes.push(o),
            // A worker that panicked: its row is reported failed; the journal keeps the row's
            // state, and the next run finishes or cleans it up.
            Err(e) => {
                if let Some(row) = spawned.remove(&e.id()) {
                    let o = Outcome::failed(
                        &row,
                        format!("internal error ({e}); run the same command again to clean up and retry"),
                    );
                    watcher.note(Note::Finished(&o));
                    outcomes.push(o);
                }
            }
        }
    }

    for (row, account, recovered) in by_insertion {
        if cancel.is_cancelled() {
            let mut o = Outcome::new(&row, Status::NotStarted);
            o.recovered = recovered;
            outcomes.push(o);
            continue;
        }
        let token = match &ctx {
            Ok(ctx) => wait_for_token(ctx, &row, &claimed, &used, &settings, &*watcher, &cancel),
            Err(e) => Err(format!("PC/SC: {e}")),
        };
        let outcome = match token {
            Ok(token) => {
                used.insert(token.device_id.clone());
                let job = Job {
                    journal: journal.clone(),
                    settings: settings.clone(),
                    watcher: watcher.clone(),
                    cancel: cancel.clone(),
                };
                job.enroll(row, account, token, recovered).await
            }
            Err(e) => {
                let mut o = Outcome::failed(&row, e);
                o.account_id = Some(account.id.clone());
                o.recovered = recovered;
                watcher.note(Note::Finished(&o));
                o
            }
        };
        outcomes.push(outcome);
    }

    for (row, account, recovered) in by_person {
        let Some(serial) = row.hardware_serial.clone() else {
            continue;
        };
        let mut o = Outcome::new(&row, Status::Failed);
        (o.account_id, o.recovered) = (Some(account.id.clone()), recovered);
        let person = Person {
            journal: &journal,
            settings: &settings,
            watcher: &watcher,
            cancel: &cancel,
        };
        let at = (account.id.as_str(), account.partition.as_str());
        let o = person.enroll(&account.dir, &row, at, serial, o).await;
        watcher.note(Note::Finished(&o));
        outcomes.push(o);
    }
    outcomes.sort_by_key(|o| o.row);
    outcomes
}

/// Waits for the token of a row without a serial: the one token present that no row claims by
/// serial and that holds no enrollment of this run or journal.
fn wait_for_token(
    ctx: &Context,
    row: &Row,
    claimed: &HashSet<Serial>,
    used: &HashSet<String>,
    settings: &Settings,
    watcher: &dyn Watcher,
    cancel: &Cancel,
) -> Result<Token, String> {
    let deadline = Instant::now() + settings.wait;
    let mut asked = false;
    let mut crowded = 0;
    loop {
        if cancel.is_cancelled() {
            return Err("interrupted before its token was inserted".into());
        }
        let tokens = tokio::task::block_in_place(|| token::inventory(ctx))
            .map_err(|e| format!("PC/SC: {e}"))?
            .tokens;
        let mut free: Vec<Token> = tokens
            .into_iter()
            .filter(|t| {
                !t.serial.is_some_and(|s| claimed.contains(&s)) && !used.contains(&t.device_id)
            })
            .collect();
        if free.len() == 1 {
            return free.pop().ok_or_else(|| "no token".to_owned());
        }
        if free.is_empty() && !asked {
            asked = true;
            watcher.note(Note::InsertToken {
                row,
                wait: settings.wait,
            });
        }
        if free.len() > 1 && free.len() != crowded {
            crowded = free.len();
            let names: Vec<String> = free.iter().map(Token::describe).collect();
            watcher.note(Note::TooManyTokens {
                row,
                tokens: &names,
            });
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(if free.is_empty() {
                format!(
                    "no token was inserted for {} within {} s; insert it and run the same command again",
                    row.user,
                    settings.wait.as_secs()
                )
            } else {
                format!(
                    "{} tokens without a row were present ({}); leave only the token for {} connected",
                    free.len(),
                    free.iter().map(Token::describe).collect::<Vec<_>>().join(", "),
                    row.user
                )
            });
        }
        let _ = tokio::task::block_in_place(|| {
            ctx.wait_for_change(left.min(std::time::Duration::from_secs(1)))
        });
    }
}

/// What every worker shares.
struct Job {
    journal: Arc<Journal>,
    settings: Arc<Settings>,
    watcher: Arc<dyn Watcher>,
    cancel: Cancel,
}

/// A row's enrollment events, passed to the watcher with the row.
struct RowProgress<'a> {
    watcher: &'a dyn Watcher,
    row: &'a Row,
}

impl Progress for RowProgress<'_> {
    fn event(&self, event: Event<'_>) {
        self.watcher.note(Note::Step {
            row: self.row,
            event,
        });
    }
}

impl Job {
    async fn enroll(
        self,
        row: Row,
        account: Arc<Account>,
        token: Token,
        recovered: Vec<String>,
    ) -> Outcome {
        let mut o = Outcome::new(&row, Status::Failed);
        o.account_id = Some(account.id.clone());
        o.token_serial = token.serial.map(|s| s.0);
        o.recovered = recovered;
        let o = self.run(&row, &account, token, o).await;
        self.watcher.note(Note::Finished(&o));
        o
    }

    async fn run(&self, row: &Row, account: &Account, token: Token, mut o: Outcome) -> Outcome {
        if self.cancel.is_cancelled() {
            o.status = Status::NotStarted;
            return o;
        }
        let ctx = match Context::establish() {
            Ok(c) => c,
            Err(e) => {
                o.error = Some(format!("PC/SC: {e}"));
                return o;
            }
        };
        let tag = token_tag(&token);
        let device_id = token.device_id.clone();
        let describe = token.describe();
        self.watcher.note(Note::Started {
            row,
            token: &describe,
        });
        // The same per-user lock as 'ykmfa enroll', held for the row: the two never enroll one
        // user at once.
        let (user_journal, mut user_lock) =
            match crate::mfa::journal::enroll::Journal::default_location()
                .and_then(|j| j.lock(&account.id, row.user.as_str()).map(|l| (j, l)))
            {
                Ok(lock) => lock,
                Err(e) => {
                    o.error = Some(e.to_string());
                    return o;
                }
            };
        let mut card = PcscCard::new(ctx, token, self.settings.password());
        // A killed 'ykmfa enroll' of this user is settled as 'ykmfa enroll' itself would.
        if !user_lock.left().is_empty() {
            let settled = match crate::mfa::settle::Unsettled::find(
                &user_journal,
                &mut user_lock,
                &account.id,
                row.user.as_str(),
                &[],
            ) {
                Ok(u) => {
                    crate::mfa::settle::settle(&account.dir, u, std::slice::from_mut(&mut card))
                        .await
                }
                Err(e) => Err(e),
            };
            match settled {
                Ok(settled) => {
                    for s in &settled {
                        let r = crate::mfa::journal::bulk::Recovery::from(&s.recovery);
                        o.recovered.extend(r.done.iter().cloned());
                        if s.kept {
                            o.status = Status::Incomplete;
                            o.leftovers = r.leftovers.clone();
                            o.error = Some(format!(
                                "an interrupted 'ykmfa enroll' of {} left things that could not be settled yet",
                                row.user
                            ));
                            return o;
                        }
                    }
                }
                Err(e) => {
                    o.error = Some(e.to_string());
                    return o;
                }
            }
        }
        let _user_lock = user_lock;
        let plan = match enroll::preflight(&account.dir, &mut card, &tag, &row.request()).await {
            Ok(p) => p,
            Err(cause) => {
                o.error = Some(cause.to_string());
                return o;
            }
        };
        o.label = Some(plan.credential.clone());
        let progress = RowProgress {
            watcher: &*self.watcher,
            row,
        };
        let recorder = match Recorder::start(
            &self.journal,
            &row.key(),
            Planned::of(&plan, &device_id),
            &progress,
            self.cancel.clone(),
        ) {
            Ok(r) => r,
            Err(e) => {
                o.error = Some(format!(
                    "could not write the journal {} ({e}); nothing was changed",
                    self.journal.path().display()
                ));
                return o;
            }
        };
        let result = enroll::enroll(
            &account.dir,
            &mut card,
            &plan,
            &SystemClock,
            &recorder,
            &self.cancel,
        )
        .await;
        match result {
            Ok(done) => {
                // Not recorded: the next run finds the device enabled and records it then.
                let _ = recorder.finish(Mark::Enrolled {
                    device: done.device_serial.clone(),
                    recovered: false,
                });
                o.status = Status::Enrolled;
                o.device = Some(done.device_serial);
            }
            Err(f) => {
                let profile = match &row.account {
                    super::AccountRef::Profile(p) => {
                        crate::mfa::remedy::aws_flags(Some(p.as_str()))
                    }
                    _ => String::new(),
                };
                o.leftovers = f.leftovers.iter().map(|l| leftover(l, &profile)).collect();
                let mut error = match (&f.cause, recorder.write_failure()) {
                    (enroll::Cause::Interrupted, Some(w)) => format!("stopped: {w}"),
                    (cause, _) => cause.to_string(),
                };
                if !f.undone.is_empty() && o.leftovers.is_empty() {
                    error.push_str("; everything done was undone");
                }
                let _ = recorder.finish(Mark::RolledBack {
                    error: error.clone(),
                    leftovers: o.leftovers.clone(),
                });
                o.status = if o.leftovers.is_empty() {
                    Status::Failed
                } else {
                    Status::Incomplete
                };
                o.error = Some(error);
            }
        }
        o
    }
}

/// A leftover in words, with the commands that remove it.
fn leftover(l: &Leftover, profile: &str) -> String {
    format!("{}: {}", l.describe(), l.commands(profile).join("; "))
}

/// What a hardware token's row needs: the journal, and the person at the terminal.
struct Person<'a> {
    journal: &'a Journal,
    settings: &'a Settings,
    watcher: &'a Arc<dyn Watcher>,
    cancel: &'a Cancel,
}

impl Person<'_> {
    /// Checks the row as `ykmfa enroll --hardware-serial` does, asks the person for two codes
    /// and sends them (one EnableMFADevice: it happens or not, nothing is half-done); codes AWS
    /// refuses are asked for once more. Without a person the row is not attempted.
    /// `(account, partition)`: where `dir` is.
    async fn enroll<D: Directory>(
        &self,
        dir: &D,
        row: &Row,
        (account, partition): (&str, &str),
        serial: HardwareSerial,
        mut o: Outcome,
    ) -> Outcome {
        let user = row.user.as_str();
        for again in [false, true] {
            if self.cancel.is_cancelled() {
                o.status = Status::NotStarted;
                return o;
            }
            let ready = hardware::prepare(dir, user, serial.clone(), Purpose::Enroll);
            let ready = match ready.await {
                Ok(ready) => ready,
                // Enrolled by hand since a run left the row for a person: the row is done.
                Err(HardwareError::AlreadyUsers { .. }) => {
                    let _ = self.record(row, (account, partition), &serial);
                    o.status = Status::AlreadyEnrolled;
                    o.device = Some(serial.to_string());
                    o.recovered.push(format!(
                        "found hardware token {serial} already one of {user}'s MFA devices (enrolled outside this run)"
                    ));
                    return o;
                }
                Err(e) => {
                    o.error = Some(e.to_string());
                    return o;
                }
            };
            if !self.watcher.can_ask() {
                let command = by_hand(row, &serial, self.settings);
                o.status = Status::NeedsPerson;
                o.error = Some(format!(
                    "nobody at a terminal to type two codes from hardware token {serial}'s display; a person runs: {command}"
                ));
                o.command = Some(command);
                return o;
            }
            self.watcher.note(Note::CodesWanted { row, again });
            let codes = match self.codes() {
                _ if self.cancel.is_cancelled() => {
                    o.status = Status::NotStarted;
                    o.error =
                        Some("interrupted while waiting for the codes; nothing was changed".into());
                    return o;
                }
                Some(Ok(codes)) => codes,
                None => {
                    o.error = Some("the codes were never typed; nothing was changed".into());
                    return o;
                }
                Some(Err(e)) => {
                    o.error = Some(format!("{e}; nothing was changed"));
                    return o;
                }
            };
            let error = match ready.apply(dir, &codes).await {
                Ok(done) => {
                    // Not recorded: the next run finds the token the user's and records it then.
                    let _ = self.record(row, (account, partition), &serial);
                    o.status = Status::Enrolled;
                    o.device = Some(done.device_serial.to_string());
                    return o;
                }
                Err(HardwareError::CodesRefused(_)) if !again => continue,
                Err(e @ HardwareError::CodesRefused(_)) => {
                    let command = by_hand(row, &serial, self.settings);
                    let error = format!("{e}; a person runs: {command}");
                    o.command = Some(command);
                    error
                }
                Err(e @ HardwareError::Unclear(_)) => {
                    format!("{e}; check with: ykmfa status --user {user}")
                }
                Err(e) => e.to_string(),
            };
            o.error = Some(error);
            return o;
        }
        o
    }

    /// The person's codes, read on a thread of their own so that a stop signal while they are
    /// typed ends the wait at once (nothing has been sent). `None`: stopped, or never answered.
    fn codes(&self) -> Option<Result<crate::mfa::hardware::Codes, String>> {
        let (tx, rx) = std::sync::mpsc::channel();
        let watcher = Arc::clone(self.watcher);
        std::thread::spawn(move || tx.send(watcher.codes()));
        tokio::task::block_in_place(|| loop {
            if self.cancel.is_cancelled() {
                return None;
            }
            match rx.recv_timeout(std::time::Duration::from_millis(100)) {
                Ok(codes) => return Some(codes),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return None,
            }
        })
    }

    /// Records the row enrolled, so that the next run skips it. The hardware serial is the
    /// token's device (IAM names the device by it); there is no credential.
    fn record(
        &self,
        row: &Row,
        (account, partition): (&str, &str),
        serial: &HardwareSerial,
    ) -> std::io::Result<()> {
        let planned = Planned {
            account: account.to_owned(),
            partition: partition.to_owned(),
            user: row.user.to_string(),
            credential: String::new(),
            token: format!("hardware token {serial}"),
            token_serial: None,
            token_device: serial.to_string(),
            device_name: serial.to_string(),
        };
        let key = row.key();
        self.journal.append(&key, Mark::Planned(planned))?;
        self.journal.append(
            &key,
            Mark::Enrolled {
                device: serial.to_string(),
                recovered: false,
            },
        )
    }
}

/// The command a person runs to enroll a hardware token's row by hand.
fn by_hand(row: &Row, serial: &HardwareSerial, settings: &Settings) -> String {
    let profile = match &row.account {
        super::AccountRef::Profile(p) => Some(p.as_str()),
        super::AccountRef::Default => settings.aws.profile.as_deref(),
        super::AccountRef::Role { .. } => None,
    };
    let profile = profile.map(|p| format!(" --profile {}", shell_quote(p)));
    let command = format!(
        "ykmfa enroll{} --user {} --hardware-serial {serial}",
        profile.unwrap_or_default(),
        shell_quote(row.user.as_str())
    );
    match &row.account {
        super::AccountRef::Role { arn, account } => {
            format!("{command}, with credentials of account {account} (as role {arn} has)")
        }
        _ => command,
    }
}

#[cfg(test)]
mod tests;
