//! One enrollment of an IAM user from start to end, under the user's lock: what dead runs left
//! is settled first, then the read-only preflight, then (unless it is a dry run) the journaled
//! transaction. It lives beside settling, not in `enroll/`, because it drives the journal, whose
//! records name the transaction's plan: `enroll` stays below both.
//!
//! Nothing here prints: [`Watch`] hears each step, and the [`Outcome`] or [`Stop`] says how it
//! ended, so the caller can put it in words.

use std::path::PathBuf;

use crate::iam::Directory;
use crate::mfa::enroll::{self, Cause, Enrolled, Plan, Progress, Request};
use crate::mfa::journal::enroll::{Entry, Journal, JournalError};
use crate::mfa::{Cancel, Clock};
use crate::token::Card;

use super::{completed_for, settle, Settled, Unsettled};

/// Hears an enrollment: each settled record of a dead run, then the transaction's events.
pub trait Watch: Progress {
    /// A record a dead run left, settled (or kept) before this run starts.
    fn settled(&self, settled: &Settled);
}

/// What an enrollment needs besides the request: where and with what it runs.
pub struct Session<'a, D, C> {
    /// IAM.
    pub dir: &'a D,
    /// The token.
    pub card: &'a mut C,
    /// The token's short name in derived device names ([`enroll::token_tag`]).
    pub token_tag: String,
    /// The enrollment journal, or why there is none (reported when the lock is taken).
    pub journal: Result<Journal, JournalError>,
    /// The clock of the time steps.
    pub clock: &'a dyn Clock,
    /// Cancels the run at its next step (a signal); what was done is undone.
    pub cancel: &'a Cancel,
}

/// How an enrollment that did not fail ended.
pub enum Outcome {
    /// Enrolled now. The user's lock is held until this is dropped.
    Enrolled(Box<Done>),
    /// A run that was interrupted had enrolled the user with this token already: the device.
    Recovered(String),
    /// A dry run: what would happen.
    Planned(Box<Plan>),
}

/// A finished enrollment.
pub struct Done {
    /// What was enrolled.
    pub enrolled: Enrolled,
    /// The token, described.
    pub token: String,
    /// The run's record could not be removed (the next run finds nothing to do there).
    pub unclear: Option<JournalError>,
    _lock: Entry,
}

/// Why an enrollment stopped.
#[derive(Debug)]
pub enum Stop {
    /// The journal could not be used; nothing was changed.
    Journal(JournalError),
    /// A run that was interrupted had completed, but the token lacks what computes the codes.
    Broken {
        /// The device assigned.
        device: String,
        /// Why nobody can compute its codes.
        why: String,
    },
    /// Preflight refused or failed; nothing was changed.
    Preflight(Cause),
    /// The transaction stopped after it began.
    Failed(Box<Stopped>),
}

/// A transaction that stopped: what the transaction says, and what the journal says.
#[derive(Debug)]
pub struct Stopped {
    /// Why it stopped, what was undone and what is left.
    pub failure: enroll::Failure,
    /// A record update that failed and stopped the run.
    pub journal: Option<String>,
    /// The record that stays because something may remain, if so.
    pub record: Option<PathBuf>,
    /// The run's record could not be removed.
    pub unclear: Option<JournalError>,
}

impl<'a, D: Directory, C: Card> Session<'a, D, C> {
    /// A session on `card`, whose short name in device names is `token_tag`.
    pub fn new(
        dir: &'a D,
        card: &'a mut C,
        token_tag: String,
        journal: Result<Journal, JournalError>,
        clock: &'a dyn Clock,
        cancel: &'a Cancel,
    ) -> Self {
        Session {
            dir,
            card,
            token_tag,
            journal,
            clock,
            cancel,
        }
    }

    /// Enrolls `req` (only plans it with `dry_run`): takes the user's lock, settles what dead
    /// runs left for the user or on this token, and runs the transaction with its record.
    ///
    /// `reads` are preflight's IAM reads ([`enroll::Reads::fetch`]), asked while the token was
    /// being found: the account in them names the lock.
    pub async fn enroll(
        self,
        req: &Request,
        reads: Result<enroll::Reads, Cause>,
        dry_run: bool,
        watch: &dyn Watch,
    ) -> Result<Outcome, Stop> {
        let Session {
            dir,
            card,
            token_tag,
            journal,
            clock,
            cancel,
        } = self;
        let mut reads = reads.map_err(Stop::Preflight)?;
        let account = reads.account().to_owned();
        let user = req.user.as_str();
        let journal = journal.map_err(Stop::Journal)?;
        let mut entry = journal.lock(&account, user).map_err(Stop::Journal)?;
        let serial = card.serial().map(|s| s.0);
        let unsettled = Unsettled::find(&journal, &mut entry, &account, user, serial.as_slice())
            .map_err(Stop::Journal)?;
        let settled = settle(dir, unsettled, std::slice::from_mut(card))
            .await
            .map_err(Stop::Journal)?;
        settled.iter().for_each(|s| watch.settled(s));
        // Run again after a crash that had completed: what was asked is done, if the token
        // still holds what computes the device's codes.
        if let Some(s) = completed_for(&settled, user, serial) {
            let device = s.recovery.completed.clone().unwrap_or_default();
            return match &s.recovery.credential_missing {
                Some(why) => Err(Stop::Broken {
                    device,
                    why: why.clone(),
                }),
                None => Ok(Outcome::Recovered(device)),
            };
        }
        if !settled.is_empty() {
            // Settling may have taken out a device of the user's.
            reads.refresh(dir, &req.user).await;
        }
        let plan = enroll::plan(card, &token_tag, req, reads).map_err(Stop::Preflight)?;
        if dry_run {
            return Ok(Outcome::Planned(Box::new(plan)));
        }
        let recorder = entry.begin(&plan, cancel.clone()).map_err(Stop::Journal)?;
        let progress = recorder.around(watch);
        let result = enroll::enroll(dir, card, &plan, clock, &progress, cancel).await;
        let journal_failure = recorder.failure();
        drop(progress);
        let kept = result.as_ref().is_err_and(|f| f.may_leave_something());
        let unclear = if kept { None } else { entry.clear().err() };
        match result {
            Ok(enrolled) => Ok(Outcome::Enrolled(Box::new(Done {
                enrolled,
                token: plan.token,
                unclear,
                _lock: entry,
            }))),
            Err(failure) => Err(Stop::Failed(Box::new(Stopped {
                failure: *failure,
                journal: journal_failure,
                record: kept.then(|| entry.path().to_owned()),
                unclear,
            }))),
        }
    }
}
