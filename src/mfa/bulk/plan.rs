//! `bulk plan`: every row checked against IAM and the tokens present, nothing changed.
//!
//! Each row goes through the same read-only preflight as `ykmfa enroll` (the user exists, has a
//! free device slot, the credential name fits and is free on the token, the token has room).
//! Rows whose token is not connected (or named by insertion) are checked on the IAM side only.
//! Rows of hardware tokens are checked as `ykmfa enroll --hardware-serial` checks them; ready,
//! they need a person at the terminal to type the codes ([`Verdict::NeedsPerson`]).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::accounts;
use super::{Row, Settings};
use crate::iam::Directory;
use crate::mfa::enroll::token_tag;
use crate::mfa::enroll::{self};
use crate::mfa::hardware::{self, HardwareSerial, Purpose};
use crate::mfa::journal::bulk::{Attempt, State};
use crate::oath::{self, Code, Credential, CredentialData, TimeStep};
use crate::token::{self, Serial};
use crate::token::{Card, PcscCard, WriteError};
use crate::transport::pcsc::Context;
use crate::transport::TransportError;

/// What `apply` would do with a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Would be enrolled.
    Ready,
    /// Enrolled by an earlier run of the journal (or, a hardware token, found the user's
    /// already: `problem` says so); would be skipped.
    AlreadyEnrolled,
    /// A killed run left it half-done; `apply` cleans up, then enrolls.
    Resume,
    /// A hardware token, ready: `apply` asks a person at the terminal for two codes from its
    /// display (see [`NEEDS_PERSON`]).
    NeedsPerson,
    /// Would fail: see `problem`.
    Problem,
}

/// One row of the plan.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedRow {
    /// The row number.
    pub row: usize,
    /// The user.
    pub user: String,
    /// The account as written.
    pub account: String,
    /// The account id, when reached.
    pub account_id: Option<String>,
    /// The token, or how it will be found.
    pub token: String,
    /// The device name.
    pub device_name: Option<String>,
    /// The credential name.
    pub credential: Option<String>,
    /// The user's MFA devices now.
    pub devices_before: Option<usize>,
    /// Touch required.
    pub touch: bool,
    /// The verdict.
    pub verdict: Verdict,
    /// What stands in the way.
    pub problem: Option<String>,
}

/// What a hardware token's row that is ready says (its `problem`).
pub const NEEDS_PERSON: &str =
    "a hardware token: apply asks a person at the terminal for two codes from its display";

/// A token still to be inserted: preflight sees an empty one, so the IAM checks run.
struct Absent;

impl Card for Absent {
    fn write_and_calculate(
        &mut self,
        _: &CredentialData,
        _: [TimeStep; 2],
    ) -> Result<[Code; 2], WriteError> {
        Err(WriteError::NotWritten(absent()))
    }
    fn calculate(&mut self, _: &[u8], _: TimeStep) -> Result<Code, oath::Error> {
        Err(absent())
    }
    fn delete(&mut self, _: &[u8]) -> Result<(), oath::Error> {
        Err(absent())
    }
    fn list(&mut self) -> Result<Vec<Credential>, oath::Error> {
        Ok(Vec::new())
    }
    fn describe(&self) -> String {
        "the token to be inserted".into()
    }
    fn serial(&self) -> Option<Serial> {
        None
    }
    fn capacity(&self) -> Option<usize> {
        None
    }
    fn kind(&self) -> String {
        "YubiKey".into()
    }
}

fn absent() -> oath::Error {
    oath::Error::Transport(TransportError::NoCard("none".into()))
}

/// Checks every row; changes nothing. `attempts` is the journal's, when one exists.
pub async fn plan(
    rows: &[Row],
    settings: &Settings,
    attempts: &BTreeMap<String, Attempt>,
) -> Vec<PlannedRow> {
    let accounts = accounts::connect(
        &settings.aws,
        rows.iter().map(|r| &r.account),
        settings.iam_concurrency,
    )
    .await;
    let ctx = Context::establish();
    let (mut tokens, pcsc_problem) = match &ctx {
        Ok(ctx) => match token::inventory(ctx) {
            Ok(inv) => (
                inv.tokens
                    .into_iter()
                    .filter_map(|t| t.serial.map(|s| (s, t)))
                    .collect::<HashMap<_, _>>(),
                None,
            ),
            Err(e) => (HashMap::new(), Some(e.to_string())),
        },
        Err(e) => (HashMap::new(), Some(e.to_string())),
    };
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    let mut out = Vec::new();
    for row in rows {
        let mut p = planned(row);
        let account = match accounts.get(&row.account) {
            Some(Ok(a)) => a.clone(),
            Some(Err(u)) => {
                p.verdict = Verdict::Problem;
                p.problem = Some(format!(
                    "cannot reach the account through {}: {}",
                    u.reference.describe(),
                    u.error
                ));
                out.push(p);
                continue;
            }
            None => {
                p.verdict = Verdict::Problem;
                out.push(p);
                continue;
            }
        };
        p.account_id = Some(account.id.clone());
        if let Some(first) = seen.insert((account.id.clone(), row.user.to_string()), row.number) {
            p.verdict = Verdict::Problem;
            p.problem = Some(format!(
                "row {first} enrolls the same user in the same account {} (reached another way)",
                account.id
            ));
            out.push(p);
            continue;
        }
        match attempts.get(&row.key()) {
            Some(a) if matches!(a.state, State::Enrolled { .. }) => {
                if let State::Enrolled { device } = &a.state {
                    p.device_name = device.rsplit('/').next().map(str::to_owned);
                }
                p.credential = Some(a.planned.credential.clone()).filter(|c| !c.is_empty());
                p.verdict = Verdict::AlreadyEnrolled;
                out.push(p);
                continue;
            }
            Some(a) if a.needs_recovery() => {
                p.credential = Some(a.planned.credential.clone());
                p.verdict = Verdict::Resume;
                p.problem = Some(
                    "an interrupted run left this row half-done: apply finishes or removes what it left, then enrolls"
                        .into(),
                );
                out.push(p);
                continue;
            }
            _ => {}
        }
        if let Some(serial) = &row.hardware_serial {
            hardware_row(&account.dir, row, serial, &mut p).await;
            out.push(p);
            continue;
        }
        let token = row.serial.and_then(|s| tokens.remove(&s));
        let result = match (token, &ctx) {
            (Some(token), Ok(_)) => {
                let tag = token_tag(&token);
                p.token = token.describe();
                match Context::establish() {
                    Ok(c) => {
                        let mut card = PcscCard::new(c, token, settings.password());
                        enroll::preflight(&account.dir, &mut card, &tag, &row.request()).await
                    }
                    Err(e) => {
                        p.problem = Some(format!("PC/SC: {e}"));
                        enroll::preflight(&account.dir, &mut Absent, &tag, &row.request()).await
                    }
                }
            }
            (_, _) => {
                if let Some(s) = row.serial {
                    p.problem = Some(match &pcsc_problem {
                        Some(e) => format!("PC/SC: {e}"),
                        None => format!("token {s} is not connected"),
                    });
                }
                let tag = match row.serial {
                    Some(s) => format!("yk{s}"),
                    None => "ykSERIAL".into(),
                };
                enroll::preflight(&account.dir, &mut Absent, &tag, &row.request()).await
            }
        };
        match result {
            Ok(plan) => {
                p.device_name = Some(plan.device_name);
                p.credential = Some(plan.credential);
                p.devices_before = Some(plan.devices_before);
            }
            Err(cause) => {
                p.problem = Some(cause.to_string());
            }
        }
        if p.problem.is_some() {
            p.verdict = Verdict::Problem;
        }
        out.push(p);
    }
    out
}

/// A row's plan before any check.
fn planned(row: &Row) -> PlannedRow {
    PlannedRow {
        row: row.number,
        user: row.user.to_string(),
        account: row.account.label().to_owned(),
        account_id: None,
        token: match (row.serial, &row.hardware_serial) {
            (Some(s), _) => format!("token {s}"),
            (None, Some(h)) => format!("hardware token {h}"),
            (None, None) => "inserted when asked".into(),
        },
        device_name: row.device_name.as_ref().map(ToString::to_string),
        credential: row.label.as_ref().map(ToString::to_string),
        devices_before: None,
        touch: row.touch,
        verdict: Verdict::Ready,
        problem: None,
    }
}

/// A hardware token's row, checked as `ykmfa enroll --hardware-serial` checks it before asking
/// for codes (the user exists, the token is not theirs already, a free device slot); nothing
/// changes. IAM names the device by the token's serial. A token that is the user's already
/// (enrolled by hand, as a row left for a person says to) is the row done.
async fn hardware_row<D: Directory>(
    dir: &D,
    row: &Row,
    serial: &HardwareSerial,
    p: &mut PlannedRow,
) {
    p.device_name = Some(serial.to_string());
    match hardware::prepare(dir, row.user.as_str(), serial.clone(), Purpose::Enroll).await {
        Ok(ready) => {
            p.devices_before = Some(ready.devices());
            p.verdict = Verdict::NeedsPerson;
            p.problem = Some(NEEDS_PERSON.into());
        }
        Err(e @ hardware::HardwareError::AlreadyUsers { .. }) => {
            p.verdict = Verdict::AlreadyEnrolled;
            p.problem = Some(format!("{e}: apply records the row as enrolled"));
        }
        Err(e) => {
            p.verdict = Verdict::Problem;
            p.problem = Some(e.to_string());
        }
    }
}

#[cfg(test)]
mod tests;
