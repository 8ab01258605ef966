//! The `ykmfa.audit/1` document (README, "ykmfa audit"): the facts and findings as data, for
//! scripts and CI. Field names and order are the schema: they don't change.

use serde_json::{json, Map, Value};

use super::{count_users, counts, Facts, Finding, Severity, BASELINE};
use crate::iam::PasswordPolicy;

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
        },
        "password_policy": facts.password_policy.as_ref().map(policy),
        "users": count_users(facts),
        "orphans": orphans,
        "findings": findings,
        "counts": counts,
        "fail_on": fail_on,
        "failing": failing,
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
