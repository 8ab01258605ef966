//! What a person reads of a bulk run: a line per [`Note`] as the run goes, the plan's table and
//! the outcomes' table. A plan is shown before it is applied, and a row's line says what happened
//! to it, so their text belongs here with them; the binary keeps the words of failures, the exit
//! codes, and where the lines go (above its progress bar).

use std::path::Path;

use super::plan::{PlannedRow, Verdict};
use super::{Note, Outcome, Row, Status};
use crate::layout::clip;
use crate::mfa::enroll::Event;
use crate::mfa::journal::bulk::Recovery;

/// What a resumed run found of a half-done row, after `lead`; `the` names the enrollment.
fn recovered(mut s: String, recovery: &Recovery, the: &str) -> String {
    if let Some(d) = &recovery.finished {
        s.push_str(&format!("; {d} was enabled: {the} enrollment is complete"));
    }
    for d in &recovery.done {
        s.push_str(&format!("; {d}"));
    }
    for l in &recovery.leftovers {
        s.push_str(&format!("; REMAINS: {l}"));
    }
    for l in &recovery.harmless {
        s.push_str(&format!("; left, harmless: {l}"));
    }
    s
}

fn who(row: &Row) -> String {
    format!("row {} ({})", row.number, row.user)
}

impl Note<'_> {
    /// The line (or lines) a person reads; `None`: nothing worth saying.
    pub fn line(&self) -> Option<String> {
        Some(match self {
            Note::AccountUnreachable(u) => format!(
                "warning: cannot reach the account through {}: {}; its rows fail",
                u.reference.describe(),
                u.error
            ),
            Note::Recovered { row, recovery } => recovered(
                format!("{}: an interrupted run left this row half-done", who(row)),
                recovery,
                "the",
            ),
            Note::RecoveredOutsideManifest { key, recovery } => recovered(
                format!("{key} (no longer in the manifest): an interrupted run left it half-done"),
                recovery,
                "that",
            ),
            Note::Started { .. } => return None,
            Note::Step { row, event } => step(row, event)?,
            Note::InsertToken { row, wait } => {
                let account = match row.account.label() {
                    "" => String::new(),
                    a => format!(" in {a}"),
                };
                format!(
                    "Insert the token for {}{account} (row {}); waiting up to {} s...",
                    row.user,
                    row.number,
                    wait.as_secs()
                )
            }
            Note::TooManyTokens { row, tokens } => format!(
                "{} tokens without a row are connected ({}): leave only the token for {}",
                tokens.len(),
                tokens.join(", "),
                row.user
            ),
            Note::CodesWanted { row, again } => {
                let serial = row.hardware_serial.as_ref().map_or("", |s| s.as_str());
                match again {
                    false => format!(
                        "{}: two consecutive codes from hardware token {serial} for {}",
                        who(row),
                        row.user
                    ),
                    true => format!(
                        "{}: AWS did not accept the two codes (nothing was changed); wait until the display changes, then type the next two",
                        who(row)
                    ),
                }
            }
            Note::Finished(o) => finished(o),
        })
    }
}

/// A row's enrollment step, when a person needs to hear of it (a touch, a wait, a warning).
fn step(row: &Row, event: &Event<'_>) -> Option<String> {
    let who = who(row);
    Some(match event {
        Event::Writing {
            token,
            touch: true,
            store_touch,
            ..
        } => {
            let times = if *store_touch { "three times" } else { "twice" };
            format!("{who}: touch {token} when it blinks ({times})")
        }
        Event::TouchNow => format!("{who}: touch the token now"),
        Event::TagsDenied => format!(
            "{who}: tagging is not allowed (iam:TagMFADevice); the device is created without ykmfa's tags"
        ),
        Event::WaitingForStep(secs) => {
            format!("{who}: AWS wants codes from fresh time steps; waiting {secs} s")
        }
        Event::LeftoverRemoved(arn) => {
            format!("{who}: removed {arn}, left unassigned by an earlier interrupted run")
        }
        _ => return None,
    })
}

/// A row that ended: its status, device or error, and what remains of it.
fn finished(o: &Outcome) -> String {
    let mut s = format!("row {} ({}): {}", o.row, o.user, o.status.as_str());
    if let Some(d) = &o.device {
        s.push_str(&format!(": {d}"));
        if let Some(serial) = o.token_serial {
            s.push_str(&format!(" on token {serial}"));
        }
        if o.hardware_serial.is_some() {
            s.push_str(" (hardware token)");
        }
    }
    if let Some(e) = &o.error {
        s.push_str(&format!(": {e}"));
    }
    for l in &o.leftovers {
        s.push_str(&format!("\n    remains: {l}"));
    }
    s
}

/// The plan's table (stdout), a line per row within 80 columns.
pub fn plan_table(planned: &[PlannedRow]) -> Vec<String> {
    let mut lines = vec![format!(
        "{:>4}  {:<14} {:<12} {:<18} {}",
        "ROW", "USER", "ACCOUNT", "TOKEN", "PLAN"
    )];
    for p in planned {
        let what = match p.verdict {
            Verdict::Ready => format!(
                "create {}{}",
                p.device_name.as_deref().unwrap_or("?"),
                if p.touch { ", touch" } else { "" }
            ),
            Verdict::AlreadyEnrolled if p.problem.is_some() => "already enrolled (IAM)".into(),
            Verdict::AlreadyEnrolled => "already enrolled (journal)".into(),
            Verdict::Resume => "resume: clean up, then enroll".into(),
            Verdict::NeedsPerson => "a person types 2 codes".into(),
            Verdict::Problem => "PROBLEM (below)".into(),
        };
        let (account, token) = (p.account_id.as_deref().unwrap_or("?"), &p.token);
        lines.push(format!(
            "{:>4}  {:<14} {:<12} {:<18} {}",
            p.row,
            clip(&p.user, 14),
            clip(account, 12),
            clip(token, 18),
            clip(&what, 26)
        ));
    }
    lines
}

/// What follows the plan's table (stderr): a line per row with a problem, then how to apply
/// the plan of the manifest at `file`.
pub fn plan_notes(planned: &[PlannedRow], file: &Path) -> Vec<String> {
    let problem = |p: &PlannedRow| {
        let problem = p.problem.as_ref()?;
        Some(format!("row {} ({}): {problem}", p.row, p.user))
    };
    let mut lines: Vec<String> = planned.iter().filter_map(problem).collect();
    let (rows, file) = (planned.len(), file.display());
    lines.push(format!(
        "Plan for {rows} rows; nothing was changed. Apply it with: ykmfa bulk apply {file}"
    ));
    lines
}

/// The outcomes' table (stdout): one line per row within 80 columns. A device ARN (46
/// characters for a 12-character name) is never cut; the report files have every field in full.
pub fn outcome_table(outcomes: &[Outcome]) -> Vec<String> {
    let mut lines = vec![format!(
        "{:>4}  {:<10} {:<14} {}",
        "ROW", "STATUS", "USER", "DEVICE OR ERROR"
    )];
    for o in outcomes {
        let detail = match (&o.device, &o.error, &o.command) {
            // The command a person copies to finish the row is never cut.
            (None, _, Some(c)) if o.status == Status::NeedsPerson => c.clone(),
            (Some(d), _, _) => clip(d, 80 - 32),
            (None, Some(e), _) => clip(e, 80 - 32),
            (None, None, _) => String::new(),
        };
        let status = match o.status {
            Status::Enrolled => "enrolled",
            Status::AlreadyEnrolled => "already",
            Status::Failed => "FAILED",
            Status::Incomplete => "INCOMPLETE",
            Status::NotStarted => "not run",
            Status::NeedsPerson => "PERSON",
        };
        lines.push(format!(
            "{:>4}  {:<10} {:<14} {}",
            o.row,
            status,
            clip(&o.user, 14),
            detail
        ));
    }
    lines
}

/// What the incomplete rows left, with the commands that remove it: a line each.
pub fn leftovers(outcomes: &[Outcome]) -> Vec<String> {
    let incomplete = outcomes.iter().filter(|o| o.status == Status::Incomplete);
    let lines = incomplete.flat_map(|o| {
        let lines = o.leftovers.iter();
        lines.map(move |l| format!("row {} ({}): {l}", o.row, o.user))
    });
    lines.collect()
}

impl super::Applied {
    /// The run's last line: the counts and where the report and the journal are (`Err`: the
    /// report could not be written, which a person is warned of).
    pub fn closing(&self) -> Result<String, String> {
        let (line, (csv, json)) = (self.summary.line(), &self.report);
        let (csv, journal) = (csv.display(), self.journal.display());
        match &self.written {
            Ok(()) => Ok(format!(
                "{line}. Report: {csv} and {}; journal: {journal}",
                json.display()
            )),
            Err(e) => Err(format!(
                "{line}. The report could not be written to {csv} ({e}); journal: {journal}"
            )),
        }
    }
}

impl super::Opened {
    /// What a person hears as the run starts: a warning that the manifest changed since the
    /// journal began, and that the run resumes.
    pub fn notes(&self) -> (Option<String>, Option<String>) {
        let journal = self.journal.path().display();
        let changed = self.changed.then(|| format!("the manifest changed since the journal {journal} was started; rows are matched by user and account"));
        let resumed = self.resumed.then(|| format!("Resuming from {journal}: rows already enrolled are skipped, half-done ones finished or cleaned up."));
        (changed, resumed)
    }
}

/// The rows of a plan that would fail.
pub fn problems(planned: &[PlannedRow]) -> usize {
    let problem = |p: &&PlannedRow| p.verdict == Verdict::Problem;
    planned.iter().filter(problem).count()
}

/// The `ykmfa.bulk-plan/1` document.
pub fn plan_json(planned: &[PlannedRow]) -> serde_json::Value {
    serde_json::json!({"schema": "ykmfa.bulk-plan/1", "rows": planned})
}
