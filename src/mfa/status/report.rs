//! The status as a person reads it (the user's devices, each token's AWS credentials, the
//! numbered fixes) and as the `ykmfa.status/1` document. The cli only says where it goes.

use serde_json::{json, Value};

use super::table::{table, Fix, Rows, WIDTH};
use super::{Status, TokenRow};
use crate::layout::{shell_lines, wrap};
use crate::mfa::journal::enroll::Record;
use crate::mfa::remedy;

/// The `ykmfa.status/1` document: the status, then why the tokens were not looked at (if they
/// were not), how many credentials are stale, and what dead runs left unfinished.
pub fn json(status: &Status, unavailable: Option<&str>, unfinished: &[Record]) -> Value {
    let mut doc = serde_json::to_value(status).unwrap_or_default();
    if let Some(map) = doc.as_object_mut() {
        map.insert("schema".into(), json!("ykmfa.status/1"));
        map.insert("tokens_unavailable".into(), json!(unavailable));
        map.insert("stale".into(), json!(status.stale()));
        map.insert(
            "unfinished_enrollments".into(),
            unfinished
                .iter()
                .map(|r| {
                    json!({
                        "user": r.user,
                        "device_name": r.device_name,
                        "device_serial": r.device_arn,
                        "credential": r.credential,
                        "token_serial": r.token_serial,
                        "token": r.token,
                        "stage": r.stage,
                        "pid": r.pid,
                    })
                })
                .collect(),
        );
    }
    doc
}

/// The human report: the user's devices, then each token's AWS credentials, then the fixes.
pub fn text(status: &Status, unavailable: Option<&str>) -> String {
    let rows = Rows::of(status);
    let n = status.devices.len();
    let (user, account, s) = (&status.user, &status.account, if n == 1 { "" } else { "s" });
    let mut text = format!("IAM user {user} in account {account}: {n} MFA device{s}\n");
    if n > 0 {
        let header = ["DEVICE", "TYPE", "ENABLED", "CREDENTIAL", "FIX"];
        text.push('\n');
        text.push_str(&table(header, &rows.devices, [24, 8, 10, 0, 3], WIDTH));
    }
    text.push('\n');
    match (unavailable, status.tokens.is_empty()) {
        (Some(why), _) => text.push_str(&format!("Tokens: not looked at ({why}).\n")),
        (None, true) => text.push_str(
            "Tokens: none connected, so no credential could be looked for (that is fine: connect one to see it).\n",
        ),
        (None, false) => {
            let tokens: Vec<String> = rows.tokens.iter().map(|(t, r)| token_lines(t, r)).collect();
            text.push_str(&tokens.join("\n"));
        }
    }
    if !rows.fixes.is_empty() {
        text.push_str("\nFixes:\n");
    }
    for (i, fix) in rows.fixes.iter().enumerate() {
        let (fix, command) = match fix {
            Fix::Device { device, fix } => (format!("{device}: {fix}"), None),
            Fix::Stale {
                credential,
                token,
                command,
            } => (
                format!("'{credential}' on {token} is stale: delete it"),
                Some(command),
            ),
        };
        let lead = format!("{:>3}. ", i + 1);
        let indent = " ".repeat(lead.len());
        for (j, line) in wrap(&fix, WIDTH - lead.len()).iter().enumerate() {
            text.push_str(&format!("{}{line}\n", if j == 0 { &lead } else { &indent }));
        }
        let words = command.map(|c| remedy::shell_words(c)).unwrap_or_default();
        for line in shell_lines(words, &format!("{indent}  "), WIDTH) {
            text.push_str(&format!("{line}\n"));
        }
    }
    text.trim_end().to_owned()
}

/// A token's line, and the table of its AWS credentials indented under it.
fn token_lines(t: &TokenRow, rows: &[[String; 3]]) -> String {
    let name = t.token.to_string();
    let Some(credentials) = &t.credentials else {
        return format!(
            "{name}: locked, credentials unknown (--oath-password or YKMFA_OATH_PASSWORD reads them)\n"
        );
    };
    let n = credentials.len();
    let others = match t.other_credentials.unwrap_or(0) {
        0 => String::new(),
        n => format!(" ({n} other{})", if n == 1 { "" } else { "s" }),
    };
    let s = if n == 1 { "" } else { "s" };
    let mut text = format!("{name}: {n} AWS credential{s}{others}\n");
    if n > 0 {
        let header = ["CREDENTIAL", "IAM DEVICE", "FIX"];
        for line in table(header, rows, [38, 0, 3], WIDTH - 2).lines() {
            text.push_str(&format!("  {line}\n"));
        }
    }
    text
}
