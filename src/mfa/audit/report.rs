//! The audit as a person reads it (a posture header, the findings table, the numbered fixes) and
//! as the `ykmfa.audit/1` document (docs/scripts.md) for scripts and CI. Field names and
//! order are the schema: they don't change.

use serde_json::{json, Map, Value};

use super::{count_users, counts, Facts, Finding, Severity, SubjectKind, BASELINE};
use crate::iam::PasswordPolicy;
use crate::layout::{line, plural, row, shell_lines, shorten, widest, wrap, Column};
use crate::mfa::kind::DeviceKind;

/// The document, for `findings` of `facts`; `fail_on` is the level asked for and `failing` the
/// number of findings at or above it.
pub fn json(
    facts: &Facts,
    findings: &[Finding],
    fail_on: Option<Severity>,
    failing: usize,
) -> Value {
    let orphans: Vec<Value> = facts
        .orphans
        .iter()
        .map(|o| {
            json!({
                "serial": o.serial,
                "tags": o.tags.as_ref().map(|t| {
                    t.iter()
                        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                        .collect::<Map<_, _>>()
                }),
                "token": o.token(),
                "credential": o.credential(),
            })
        })
        .collect();
    let mut devices: Vec<Value> = facts
        .root_virtual_device
        .iter()
        .zip(facts.root_virtual_kind)
        .map(|(serial, kind)| json!({"user": null, "root": true, "serial": serial, "kind": kind}))
        .collect();
    for u in &facts.users {
        devices.extend(u.devices.iter().zip(&u.kinds).map(
            |(d, kind)| json!({"user": u.name, "root": false, "serial": d.serial, "kind": kind}),
        ));
    }
    let counts: Map<String, Value> = counts(findings)
        .into_iter()
        .map(|(s, n)| (s.as_str().to_owned(), json!(n)))
        .collect();
    json!({
        "schema": "ykmfa.audit/1",
        "account": facts.account,
        "baseline": BASELINE,
        "root": {
            "mfa": facts.root_mfa(),
            "mfa_device": facts.root_virtual_device,
            "access_keys_present": facts.root_access_keys_present,
            "mfa_device_kind": facts.root_virtual_kind,
            // AWS Config's root-account-hardware-mfa-enabled, as the findings judge it.
            "hardware_mfa": facts.root_devices().hardware_mfa(),
        },
        "password_policy": facts.password_policy.as_ref().map(policy),
        "users": count_users(facts),
        "orphans": orphans,
        "findings": findings,
        "counts": counts,
        "fail_on": fail_on,
        "failing": failing,
        "devices": devices,
    })
}

/// A fix as the report lists it: what to do, and the command that does it.
pub type Fix<'a> = (&'a str, Option<&'a str>);

/// The distinct fixes of `findings` in order of first use, and for each finding the number (from
/// 1) of its fix in that list: findings that share a fix (the password policy's gaps) share one.
pub fn fixes(findings: &[Finding]) -> (Vec<usize>, Vec<Fix<'_>>) {
    let mut fixes: Vec<Fix<'_>> = Vec::new();
    let numbers = findings
        .iter()
        .map(|f| {
            let fix = (f.fix.as_str(), f.command.as_deref());
            match fixes.iter().position(|x| *x == fix) {
                Some(i) => i + 1,
                None => {
                    fixes.push(fix);
                    fixes.len()
                }
            }
        })
        .collect();
    (numbers, fixes)
}

/// How many `findings` are at or above `fail_on` (none when no level is asked for).
pub fn failing(findings: &[Finding], fail_on: Option<Severity>) -> usize {
    fail_on.map_or(0, |level| super::at_or_above(findings, level))
}

/// `-v`'s line: the calls made, by action, and the time taken.
pub fn calls_line(calls: &[(&str, u32)], started: std::time::Instant, concurrency: u16) -> String {
    let total: u32 = calls.iter().map(|(_, n)| n).sum();
    let each: Vec<String> = calls.iter().map(|(a, n)| format!("{a} {n}")).collect();
    let (secs, each) = (started.elapsed().as_secs_f64(), each.join(", "));
    format!("{total} IAM/STS calls in {secs:.2} s ({each}; at most {concurrency} per-user calls at once)")
}

/// The report fits an 80-column terminal.
pub const WIDTH: usize = 80;

/// The human report: a posture header, the findings table, the fixes (numbered, each once).
pub fn text(facts: &Facts, findings: &[Finding]) -> String {
    let mut text = format!("Account {}\n", facts.account);
    let root = match facts.root_mfa() {
        super::RootMfa::None => "no MFA",
        super::RootMfa::Virtual => match facts.root_virtual_kind {
            Some(DeviceKind::VirtualOnToken) => "virtual MFA on a token (not hardware to AWS)",
            _ => "virtual MFA (not hardware)",
        },
        super::RootMfa::Hardware => "MFA on hardware (not a virtual device)",
        super::RootMfa::Unknown => "MFA unknown",
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
    let u = super::count_users(facts);
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
    text.push_str(&wrap(&format!("Password baseline: {}.", super::BASELINE), WIDTH).join("\n"));
    text
}

/// SEVERITY, SUBJECT, FINDING (wrapped), FIX (a number into the list below the table).
fn table(facts: &Facts, findings: &[Finding]) -> String {
    let (numbers, fixes) = fixes(findings);
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
        let command = command.map_or(vec![], |c| {
            let words = crate::mfa::remedy::shell_words(c);
            shell_lines(words, &format!("{indent}  "), WIDTH)
        });
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
        SubjectKind::Root | SubjectKind::User | SubjectKind::Account => f.subject.clone(),
    }
}

fn policy(p: &PasswordPolicy) -> Value {
    json!({
        "minimum_password_length": p.minimum_password_length,
        "require_uppercase_characters": p.require_uppercase_characters,
        "require_lowercase_characters": p.require_lowercase_characters,
        "require_numbers": p.require_numbers,
        "require_symbols": p.require_symbols,
        "password_reuse_prevention": p.password_reuse_prevention,
        "allow_users_to_change_password": p.allow_users_to_change_password,
        "expire_passwords": p.expire_passwords,
        "max_password_age": p.max_password_age,
        "hard_expiry": p.hard_expiry,
    })
}

#[cfg(test)]
mod tests;
