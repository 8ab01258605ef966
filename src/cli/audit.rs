//! `ykmfa audit`: the account's MFA posture as one table (or JSON), and an exit code for CI.
//!
//! The analysis is [`ykmfa::mfa::audit`]; this module reads IAM, renders, and decides the exit code.

use std::time::Instant;

use ykmfa::iam::Sdk;
use ykmfa::mfa::audit::{self, Facts, Finding, Severity, SubjectKind};

use super::output::{plural, shell_lines, shorten, wrap};
use super::report::{iam_failure, Exit};
use super::{Failure, Global, Output};

/// Arguments of `ykmfa audit`.
#[derive(clap::Args, Debug)]
pub struct AuditArgs {
    /// Exit with code 9 when a finding is at or above LEVEL: info, low, medium, high or
    /// critical. Without it, the exit code is 0 whenever the audit ran, whatever it found.
    #[arg(long, value_name = "LEVEL", value_parser = parse_level)]
    pub fail_on: Option<Severity>,
    /// Per-user IAM calls in flight at once (1-32); lower it if IAM throttles a big account.
    #[arg(long, value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u16).range(1..=32))]
    pub concurrency: u16,
}

fn parse_level(s: &str) -> Result<Severity, String> {
    s.parse()
}

/// Runs `ykmfa audit`.
pub async fn run(out: &Output, global: &Global, args: &AuditArgs) -> Result<(), Failure> {
    let started = Instant::now();
    let dir = Sdk::connect(global.aws_options())
        .await
        .map_err(|e| iam_failure(&e, global))?;
    let facts = audit::gather(&dir, usize::from(args.concurrency))
        .await
        .map_err(|e| iam_failure(&e, global))?;
    let findings = audit::analyze(&facts);
    if global.verbose > 0 {
        let calls = dir.calls();
        let total: u32 = calls.iter().map(|(_, n)| n).sum();
        let each: Vec<String> = calls.iter().map(|(a, n)| format!("{a} {n}")).collect();
        out.info(format!(
            "{total} IAM/STS calls in {:.2} s ({}; at most {} per-user calls at once)",
            started.elapsed().as_secs_f64(),
            each.join(", "),
            args.concurrency
        ));
    }
    if facts.orphans.iter().any(|o| o.tags.is_none()) {
        out.warn("the orphans' tags could not be read (iam:ListMFADeviceTags was denied): which token ykmfa wrote them to is unknown");
    }

    let failing = args
        .fail_on
        .map_or(0, |level| audit::at_or_above(&findings, level));
    if out.json {
        out.json(&audit::report::json(
            &facts,
            &findings,
            args.fail_on,
            failing,
        ));
    } else {
        out.result(render(&facts, &findings));
    }
    match args.fail_on {
        Some(level) if failing > 0 => Err(Failure::new(
            Exit::Findings,
            format!(
                "{failing} finding{} at or above '{level}' (--fail-on {level})",
                plural(failing)
            ),
            &[],
        )),
        _ => Ok(()),
    }
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
        .filter(|f| f.subject_kind == SubjectKind::PasswordPolicy)
        .count();
    let policy = match (&facts.password_policy, gaps) {
        (None, _) => "none".to_owned(),
        (Some(_), 0) => "meets the baseline".to_owned(),
        (Some(_), n) => format!("{n} gap{} against the baseline", plural(n)),
    };
    let u = audit::count_users(facts);
    let rows = [
        ("root user", format!("{root}, {keys}")),
        ("password policy", policy),
        (
            "IAM users",
            format!(
                "{} ({} with MFA, {} of them without a backup; {} without MFA, {} of them with a console password)",
                u.total, u.with_mfa, u.single_device, u.without_mfa, u.console_without_mfa
            ),
        ),
        (
            "orphan devices",
            format!("{} unassigned virtual MFA device{}", facts.orphans.len(), plural(facts.orphans.len())),
        ),
    ];
    for (label, value) in rows {
        for (i, line) in wrap(&value, WIDTH - 19).iter().enumerate() {
            let label = if i == 0 { label } else { "" };
            text.push_str(&format!("  {label:<15}  {line}\n"));
        }
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
    // Findings that share a fix (the password policy's gaps) point to one entry.
    let mut fixes: Vec<(&str, Option<&str>)> = Vec::new();
    let numbered: Vec<(usize, &Finding)> = findings
        .iter()
        .map(|f| {
            let fix = (f.fix.as_str(), f.command.as_deref());
            let n = match fixes.iter().position(|x| *x == fix) {
                Some(i) => i + 1,
                None => {
                    fixes.push(fix);
                    fixes.len()
                }
            };
            (n, f)
        })
        .collect();
    let subjects: Vec<String> = findings.iter().map(|f| subject(facts, f)).collect();
    let subject_w = subjects
        .iter()
        .map(|s| s.chars().count())
        .chain(["SUBJECT".len()])
        .max()
        .unwrap_or(7)
        .min(22);
    let sev_w = "SEVERITY".len();
    let fix_w = 3;
    let finding_w = WIDTH - sev_w - subject_w - fix_w - 6;
    let mut text = format!(
        "{:<sev_w$}  {:<subject_w$}  {:<finding_w$}  {:>fix_w$}\n",
        "SEVERITY", "SUBJECT", "FINDING", "FIX"
    );
    for ((n, f), subject) in numbered.iter().zip(&subjects) {
        let what = match f.reference {
            Some(r) => format!("{} ({r})", f.summary),
            None => f.summary.clone(),
        };
        for (i, line) in wrap(&what, finding_w).iter().enumerate() {
            let row = if i == 0 {
                format!(
                    "{:<sev_w$}  {:<subject_w$}  {:<finding_w$}  {:>fix_w$}",
                    f.severity.as_str(),
                    shorten(subject, subject_w),
                    line,
                    n
                )
            } else {
                format!("{:<sev_w$}  {:<subject_w$}  {line}", "", "")
            };
            text.push_str(row.trim_end());
            text.push('\n');
        }
    }
    text.push_str("\nFixes:\n");
    for (i, (fix, command)) in fixes.iter().enumerate() {
        let lead = format!("{:>3}. ", i + 1);
        let indent = " ".repeat(lead.len());
        for (j, line) in wrap(fix, WIDTH - lead.len()).iter().enumerate() {
            let lead = if j == 0 { &lead } else { &indent };
            text.push_str(&format!("{lead}{line}\n"));
        }
        if let Some(command) = command {
            for line in shell_lines(command, &format!("{indent}  "), WIDTH) {
                text.push_str(&line);
                text.push('\n');
            }
        }
    }
    text
}

/// A device ARN is shown without the `arn:…:iam::ACCOUNT:` prefix the header already gives.
fn subject(facts: &Facts, f: &Finding) -> String {
    match f.subject_kind {
        SubjectKind::Device => {
            let prefix = format!(":{}:", facts.account);
            match f.subject.split_once(&prefix) {
                Some((_, rest)) => rest.to_owned(),
                None => f.subject.clone(),
            }
        }
        SubjectKind::PasswordPolicy => "password policy".to_owned(),
        SubjectKind::Root | SubjectKind::User => f.subject.clone(),
    }
}

#[cfg(test)]
mod tests;
