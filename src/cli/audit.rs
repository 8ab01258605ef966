//! `ykmfa audit`: the account's MFA posture as one table (or JSON), and an exit code for CI.
//!
//! The analysis is [`ykmfa::mfa::audit`]; this module reads IAM, renders, and decides the exit code.

use std::time::Instant;

use ykmfa::iam::Sdk;
use ykmfa::layout::{line, plural, row, shorten, widest, wrap, Column};
use ykmfa::mfa::audit::{self, Facts, Finding, Severity, SubjectKind};

use super::output::shell_lines;
use super::report::{iam_failure, Exit};
use super::{Failure, Global, Output};

/// Arguments of `ykmfa audit`.
#[derive(clap::Args, Debug)]
pub struct AuditArgs {
    /// Exit with code 9 when a finding is at or above LEVEL: info, low, medium, high or
    /// critical. Without it, the exit code is 0 whenever the audit ran, whatever it found.
    #[arg(long, value_name = "LEVEL", value_parser = str::parse::<Severity>)]
    pub fail_on: Option<Severity>,
    /// Per-user IAM calls in flight at once (1-32); lower it if IAM throttles a big account.
    #[arg(long, value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u16).range(1..=32))]
    pub concurrency: u16,
}

/// Runs `ykmfa audit`.
pub async fn run(out: &Output, global: &Global, args: &AuditArgs) -> Result<(), Failure> {
    let started = Instant::now();
    let iam = |e| iam_failure(&e, global);
    let dir = Sdk::connect(global.aws_options()).await.map_err(iam)?;
    let gathered = audit::gather(&dir, usize::from(args.concurrency)).await;
    let facts = gathered.map_err(iam)?;
    let findings = audit::analyze(&facts);
    if global.verbose > 0 {
        let calls = dir.calls();
        let total: u32 = calls.iter().map(|(_, n)| n).sum();
        let each: Vec<String> = calls.iter().map(|(a, n)| format!("{a} {n}")).collect();
        let (secs, each) = (started.elapsed().as_secs_f64(), each.join(", "));
        out.info(format!(
            "{total} IAM/STS calls in {secs:.2} s ({each}; at most {} per-user calls at once)",
            args.concurrency
        ));
    }
    if facts.orphans.iter().any(|o| o.tags.is_none()) {
        out.warn("the orphans' tags could not be read (iam:ListMFADeviceTags was denied): which token ykmfa wrote them to is unknown");
    }
    let failing = audit::report::failing(&findings, args.fail_on);
    if out.json {
        let report = audit::report::json(&facts, &findings, args.fail_on, failing);
        out.json(&report);
    } else {
        out.result(render(&facts, &findings));
    }
    let Some(level) = args.fail_on.filter(|_| failing > 0) else {
        return Ok(());
    };
    let what = format!(
        "{failing} finding{} at or above '{level}' (--fail-on {level})",
        plural(failing)
    );
    Err(Failure::new(Exit::Findings, what, &[]))
}

const WIDTH: usize = 80;

/// The human report: a posture header, the findings table, the fixes (numbered, each once).
fn render(facts: &Facts, findings: &[Finding]) -> String {
    let mut text = format!("Account {}\n", facts.account);
    let root = match facts.root_mfa() {
        audit::RootMfa::None => "no MFA",
        audit::RootMfa::Virtual => "MFA on a virtual device",
        audit::RootMfa::Hardware => "MFA on hardware (not a virtual device)",
        audit::RootMfa::Unknown => "MFA unknown",
    };
    let keys = match facts.root_access_keys_present {
        Some(true) => "access keys present",
        Some(false) => "no access keys",
        None => "access keys unknown",
    };
    let gaps = findings
        .iter()
        .filter(|f| f.subject_kind == SubjectKind::PasswordPolicy);
    let policy = match (&facts.password_policy, gaps.count()) {
        (None, _) => "none".to_owned(),
        (Some(_), 0) => "meets the baseline".to_owned(),
        (Some(_), n) => format!("{n} gap{} against the baseline", plural(n)),
    };
    let u = audit::count_users(facts);
    let (orphans, n) = (facts.orphans.len(), plural(facts.orphans.len()));
    let rows = [
        ("root user", format!("{root}, {keys}")),
        ("password policy", policy),
        ("IAM users", format!("{} ({} with MFA, {} of them without a backup; {} without MFA, {} of them with a console password)",
            u.total, u.with_mfa, u.single_device, u.without_mfa, u.console_without_mfa)),
        ("orphan devices", format!("{orphans} unassigned virtual MFA device{n}")),
    ];
    let columns = [Column::left(15), Column::left(WIDTH - 19)];
    for (label, value) in rows {
        let lines = row(&columns, &[label, &value]);
        text.extend(lines.iter().map(|l| format!("  {l}\n")));
    }
    text.push('\n');
    if findings.is_empty() {
        text.push_str("No findings.\n");
    } else {
        text.push_str(&table(facts, findings));
    }
    text.push('\n');
    text.push_str(&wrap(&format!("Password baseline: {}.", audit::BASELINE), WIDTH).join("\n"));
    text
}

/// SEVERITY, SUBJECT, FINDING (wrapped), FIX (a number into the list below the table).
fn table(facts: &Facts, findings: &[Finding]) -> String {
    let (numbers, fixes) = audit::report::fixes(findings);
    let subjects: Vec<String> = findings.iter().map(|f| subject(facts, f)).collect();
    let subject_w = widest(subjects.iter().map(String::as_str).chain(["SUBJECT"]), 22);
    let finding_w = WIDTH - "SEVERITY".len() - subject_w - 3 - 6;
    let columns = [8, subject_w, finding_w].map(Column::left);
    let columns = [columns[0], columns[1], columns[2], Column::right(3)];
    let mut text = line(&columns, &["SEVERITY", "SUBJECT", "FINDING", "FIX"]) + "\n";
    for ((f, subject), n) in findings.iter().zip(&subjects).zip(&numbers) {
        let what = f
            .reference
            .map_or(f.summary.clone(), |r| format!("{} ({r})", f.summary));
        let (subject, n) = (shorten(subject, subject_w), n.to_string());
        let cells = [f.severity.as_str(), &subject, &what, &n];
        text.extend(row(&columns, &cells).into_iter().map(|l| l + "\n"));
    }
    text.push_str("\nFixes:\n");
    for (i, (fix, command)) in fixes.iter().enumerate() {
        let lead = format!("{:>3}. ", i + 1);
        let indent = " ".repeat(lead.len());
        for (j, line) in wrap(fix, WIDTH - lead.len()).iter().enumerate() {
            text.push_str(&format!("{}{line}\n", if j == 0 { &lead } else { &indent }));
        }
        let command = command.map_or(vec![], |c| shell_lines(c, &format!("{indent}  "), WIDTH));
        text.extend(command.into_iter().map(|l| l + "\n"));
    }
    text
}

/// A device ARN is shown without the `arn:…:iam::ACCOUNT:` prefix the header already gives.
fn subject(facts: &Facts, f: &Finding) -> String {
    match f.subject_kind {
        SubjectKind::Device => {
            let prefix = format!(":{}:", facts.account);
            let rest = f.subject.split_once(&prefix).map(|(_, rest)| rest);
            rest.unwrap_or(f.subject.as_str()).to_owned()
        }
        SubjectKind::PasswordPolicy => "password policy".to_owned(),
        SubjectKind::Root | SubjectKind::User => f.subject.clone(),
    }
}

#[cfg(test)]
mod tests;
