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
