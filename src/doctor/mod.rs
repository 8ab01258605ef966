//! `doctor`: what ykmfa needs from this machine and from the AWS credentials in use, checked one
//! thing at a time, each with a verdict and, when it is not fine, what to do.
//!
//! Two halves. [`probe`] gathers facts (PC/SC, running programs, the credential chain, IAM), each
//! step under a time limit, so a hung pcscd or an unreachable endpoint becomes a finding instead
//! of a hang. The checks ([`local`], [`aws`]) are pure functions from those facts to [`Check`]s,
//! so every verdict and every fix is tested without a machine in a particular state.
//!
//! What this module must never do: print ([`text`] renders the [`Check`]s, the binary prints
//! them); show a secret (no access key, secret key, session token or OATH password ends up in a
//! [`Check`]); change anything (doctor only reads, and asks IAM's policy simulator, which
//! performs nothing).

pub mod aws;
pub mod local;
pub mod permissions;
pub mod probe;

use serde::Serialize;

use crate::layout::{fill, line, paint, widest, Column};
use crate::oath::Password;
use permissions::Command;
use probe::Limits;

/// A check's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Fine.
    Ok,
    /// Works, but something will get in the way (two tokens, a locked token, a clock a few
    /// seconds off, an optional permission missing).
    Warn,
    /// ykmfa cannot work until this is fixed.
    Fail,
    /// Not checked, because something it depends on failed (the detail says what).
    Skip,
}

impl Status {
    /// The word shown in the report.
    pub fn word(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// Stable identifier (`pcscd`, `tokens`, `iam.enroll`, …) for scripts.
    pub id: String,
    /// Short name for people.
    pub name: String,
    /// The verdict.
    pub status: Status,
    /// What was found.
    pub detail: String,
    /// What to do, one action each (empty when nothing is to be done).
    pub fix: Vec<String>,
    /// The facts behind the verdict, for `--json` (serial numbers, seconds of skew, actions).
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    pub data: serde_json::Value,
}

impl Check {
    /// A check without fixes or data.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        status: Status,
        detail: impl Into<String>,
    ) -> Check {
        Check {
            id: id.into(),
            name: name.into(),
            status,
            detail: detail.into(),
            fix: Vec::new(),
            data: serde_json::Value::Null,
        }
    }

    /// Adds fixes.
    pub fn fix<S: Into<String>>(mut self, fixes: impl IntoIterator<Item = S>) -> Check {
        self.fix.extend(fixes.into_iter().map(Into::into));
        self
    }

    /// Attaches data for `--json`.
    pub fn data(mut self, data: serde_json::Value) -> Check {
        self.data = data;
        self
    }
}

/// How many checks ended in each verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Fine.
    pub ok: usize,
    /// Warnings.
    pub warn: usize,
    /// Failures.
    pub fail: usize,
    /// Not checked.
    pub skip: usize,
}

/// Counts the verdicts.
pub fn tally(checks: &[Check]) -> Tally {
    let mut t = Tally::default();
    for c in checks {
        match c.status {
            Status::Ok => t.ok += 1,
            Status::Warn => t.warn += 1,
            Status::Fail => t.fail += 1,
            Status::Skip => t.skip += 1,
        }
    }
    t
}

/// The first check that failed, if any (the report's order is the order things depend on).
pub fn first_failure(checks: &[Check]) -> Option<&Check> {
    checks.iter().find(|c| c.status == Status::Fail)
}

/// What a failed check is about. It decides the exit code, so that a problem has the same code
/// in doctor as in every other command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// The PC/SC service, polkit, the readers, or a program holding the token.
    Pcsc,
    /// No token to use.
    Tokens,
    /// The token's OATH password.
    Password,
    /// The AWS credentials, the identity behind them, or their IAM permissions.
    Aws,
    /// Anything else (the clock).
    Other,
}

/// The area of the first check that failed, if one did.
pub fn failed_area(checks: &[Check]) -> Option<Area> {
    Some(match first_failure(checks)?.id.as_str() {
        "pcscd" | "polkit" | "readers" | "token-in-use" => Area::Pcsc,
        "tokens" => Area::Tokens,
        "oath-password" => Area::Password,
        "credentials" | "identity" => Area::Aws,
        id if id.starts_with("iam.") => Area::Aws,
        _ => Area::Other,
    })
}

/// The names of the checks that failed, in report order.
pub fn failed(checks: &[Check]) -> Vec<&str> {
    let failed = checks.iter().filter(|c| c.status == Status::Fail);
    failed.map(|c| c.name.as_str()).collect()
}

/// The report's last line: nothing failed (with the warnings counted), or which checks failed.
pub fn closing(checks: &[Check]) -> String {
    let failed = failed(checks);
    match (failed.len(), tally(checks).warn) {
        (0, 0) => "Everything ykmfa needs is in place.".to_owned(),
        (0, 1) => "Nothing failed; 1 warning above.".to_owned(),
        (0, n) => format!("Nothing failed; {n} warnings above."),
        (1, _) => format!("1 check failed: {}", failed[0]),
        (n, _) => format!("{n} checks failed: {}", failed.join(", ")),
    }
}

/// The `ykmfa.doctor/1` document (docs/scripts.md): the checks, their tally, and the
/// exit code the command ends with. Field names and order are the schema.
pub fn json(checks: &[Check], exit_code: u8) -> serde_json::Value {
    serde_json::json!({
        "schema": "ykmfa.doctor/1",
        "checks": checks,
        "summary": tally(checks),
        "exit_code": exit_code,
    })
}

/// Runs the probes side by side (PC/SC on its own thread, AWS on the runtime) and turns their
/// facts into the checks, in report order. `YKMFA_OATH_PASSWORD`, when set, is tried on tokens
/// that have a password. An error is the PC/SC thread's end (a panic).
pub async fn run(
    options: crate::iam::Options,
    no_aws: bool,
    limits: Limits,
    commands: Vec<Command>,
) -> Result<Vec<Check>, tokio::task::JoinError> {
    let env = crate::token::password::from_env().filter(|p| !p.is_empty());
    let password = env.map(|p| Password::new(p.to_string()));
    let machine = tokio::task::spawn_blocking(move || probe::local(limits, password));
    let cloud = probe::aws(options, no_aws, limits, commands);
    let (machine, cloud) = tokio::join!(machine, cloud);
    let mut checks = local::checks(&machine?);
    checks.extend(aws::checks(&cloud));
    Ok(checks)
}

/// The report fits an 80-column terminal.
const WIDTH: usize = 80;

/// The report: `STATUS  NAME  detail`, details and fixes wrapped under the detail column; the
/// status word painted when `colour`.
pub fn text(checks: &[Check], colour: bool) -> String {
    let name_width = widest(checks.iter().map(|c| c.name.as_str()), 16);
    let text_width = WIDTH.saturating_sub(4 + 2 + name_width + 2).max(20);
    // A fix's continuation lines are indented 5 more: every continuation keeps within that.
    let more = text_width.saturating_sub(5).max(10);
    let columns = [4, name_width, text_width].map(Column::left);
    let mut lines = Vec::new();
    for c in checks {
        let detail = fill(&c.detail, text_width, more);
        let plain = line(&columns, &[c.status.word(), &c.name, &detail[0]]);
        // Green, bold yellow, bold red, dim: in the order of Status.
        let code = ["32", "33;1", "31;1", "2"][c.status as usize];
        let word = paint(true, code, &format!("{:<4}", c.status.word()));
        lines.push(match colour {
            true => format!("{word}{}", plain.get(4..).unwrap_or("")),
            false => plain,
        });
        let mut under = detail[1..].to_vec();
        for fix in &c.fix {
            for (i, p) in fill(&format!("fix: {fix}"), text_width, more)
                .into_iter()
                .enumerate()
            {
                under.push(if i == 0 { p } else { format!("     {p}") });
            }
        }
        lines.extend(under.iter().map(|p| line(&columns, &["", "", p])));
    }
    lines.join("\n")
}

/// "1 token", "2 tokens".
fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

#[cfg(test)]
mod tests;
