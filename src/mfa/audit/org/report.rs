//! The organization audit as a person reads it (one line per account, then the totals), as the
//! `ykmfa.audit-org/1` document, as CSV (one row per account), and the work queue as text.
//! Field names and order of the document and the CSV are the schema: they don't change.

use serde_json::{json, Map, Value};

use super::queue::{self, ManifestRow, WorkItem};
use super::{AccountAudit, OrgAudit, RootAccess, RootState, SCHEMA};
use crate::layout::{clip, line, plural, shell_lines, wrap, Column};
use crate::mfa::audit::{count_users, counts, Check, Finding, Severity};

/// The table fits a 100-column terminal.
pub const WIDTH: usize = 100;

/// Findings of every account, for `--fail-on`.
pub fn all_findings(audit: &OrgAudit) -> Vec<&Finding> {
    audit.findings().map(|(_, f)| f).collect()
}

/// How many findings of the whole organization are at or above `fail_on`.
pub fn failing(audit: &OrgAudit, fail_on: Option<Severity>) -> usize {
    fail_on.map_or(0, |level| {
        audit
            .findings()
            .filter(|(_, f)| f.severity >= level)
            .count()
    })
}

fn level_counts<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Map<String, Value> {
    let owned: Vec<Finding> = findings.into_iter().cloned().collect();
    counts(&owned)
        .into_iter()
        .map(|(s, n)| (s.as_str().to_owned(), json!(n)))
        .collect()
}

fn note(a: &AccountAudit) -> String {
    if !a.audited() {
        return format!("{}: not audited", a.account.status.to_lowercase());
    }
    let mut notes = Vec::new();
    if a.management {
        notes.push("management account".to_owned());
    }
    for f in &a.findings {
        match f.check {
            Check::RootNotAudited => notes.push("root not read".into()),
            Check::UsersNotAudited => notes.push("users not read (role)".into()),
            _ => {}
        }
    }
    if a.root.needs_person() {
        notes.push("root needs a person".into());
    }
    notes.join("; ")
}

/// The human report: the organization, one line per account, the totals.
pub fn text(audit: &OrgAudit) -> String {
    let audited = audit.accounts.iter().filter(|a| a.audited()).count();
    let root_way = match audit.root_access {
        RootAccess::Enabled | RootAccess::Unknown => {
            "root through sts:AssumeRoot (IAMAuditRootUserCredentials)"
        }
        RootAccess::NotEnabled => "root through GetAccountSummary (centralized root access off)",
    };
    let header = format!(
        "Organization of management account {}: {} account{}, {audited} audited; {root_way}, users through the role {}.",
        audit.management,
        audit.accounts.len(),
        plural(audit.accounts.len()),
        audit.role
    );
    let mut text = wrap(&header, WIDTH).join("\n") + "\n\n";
    let columns = [
        Column::left(12),
        Column::left(16),
        Column::left(19),
        Column::right(5),
        Column::right(6),
        Column::right(11),
        Column::left(20),
    ];
    let header = [
        "ACCOUNT",
        "NAME",
        "ROOT",
        "USERS",
        "NO MFA",
        "CRIT/H/M/L",
        "NOTE",
    ];
    text.push_str(line(&columns, &header).trim_end());
    text.push('\n');
    for a in &audit.accounts {
        let users = a.facts.as_ref().map(count_users);
        let (total, without) = match users {
            Some(u) => (u.total.to_string(), u.console_without_mfa.to_string()),
            None => ("-".into(), "-".into()),
        };
        let c = counts(&a.findings);
        let n = |s: Severity| c.get(&s).copied().unwrap_or(0);
        let levels = [
            Severity::Critical,
            Severity::High,
            Severity::Medium,
            Severity::Low,
        ];
        let levels: Vec<String> = levels.iter().map(|s| n(*s).to_string()).collect();
        let root = if a.audited() {
            a.root.state.as_str()
        } else {
            "-"
        };
        // The note is the last column: it may run past the width.
        let cells = [
            a.account.id.clone(),
            clip(&a.account.name, 16),
            root.to_owned(),
            total,
            without,
            levels.join("/"),
            note(a),
        ];
        text.push_str(line(&columns, &cells).trim_end());
        text.push('\n');
    }
    text.push('\n');
    let mut states: Vec<(RootState, usize)> = Vec::new();
    for a in audit.accounts.iter().filter(|a| a.audited()) {
        match states.iter_mut().find(|(s, _)| *s == a.root.state) {
            Some((_, n)) => *n += 1,
            None => states.push((a.root.state, 1)),
        }
    }
    states.sort();
    let states: Vec<String> = states
        .iter()
        .map(|(s, n)| format!("{n} {}", s.as_str()))
        .collect();
    let people = queue::work(audit).len();
    let incomplete = audit.accounts.iter().filter(|a| a.incomplete()).count();
    let users = queue::manifest_rows(audit).len();
    let summary = format!(
        "Root users: {}. {people} root user{} need{} a person at the console; {users} IAM user{} sign{} in to the console without MFA; {incomplete} account{} could not be read in full. ykmfa audit --organization --queue says what to do.",
        states.join(", "),
        plural(people),
        if people == 1 { "s" } else { "" },
        plural(users),
        if users == 1 { "s" } else { "" },
        plural(incomplete),
    );
    text.push_str(&wrap(&summary, WIDTH).join("\n"));
    text
}

/// The `ykmfa.audit-org/1` document. With `queue`, it holds the work queue and the manifest
/// draft too.
pub fn json(audit: &OrgAudit, fail_on: Option<Severity>, failing: usize, queue: bool) -> Value {
    let accounts: Vec<Value> = audit
        .accounts
        .iter()
        .map(|a| {
            json!({
                "id": a.account.id,
                "name": a.account.name,
                "email": a.account.email,
                "status": a.account.status,
                "management": a.management,
                "audited": a.audited(),
                "root": a.audited().then_some(&a.root),
                "users": a.facts.as_ref().map(count_users),
                "findings": a.findings,
                "counts": level_counts(&a.findings),
            })
        })
        .collect();
    let calls: Map<String, Value> = audit
        .calls
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    let mut doc = json!({
        "schema": SCHEMA,
        "management_account": audit.management,
        "caller_account": audit.caller_account,
        "role": audit.role,
        "root_access": audit.root_access,
        "accounts": accounts,
        "counts": level_counts(all_findings(audit)),
        "fail_on": fail_on,
        "failing": failing,
        "calls": calls,
    });
    if queue {
        let rows = queue::manifest_rows(audit);
        let unknown: Vec<&str> = queue::unknown(audit)
            .iter()
            .map(|a| a.account.id.as_str())
            .collect();
        doc["queue"] = json!(queue::work(audit));
        doc["not_audited"] = json!(unknown);
        doc["manifest_rows"] = json!(rows);
        doc["manifest_draft"] = json!(queue::manifest(&rows));
    }
    doc
}

/// The CSV columns, in order.
pub const CSV_COLUMNS: [&str; 18] = [
    "account_id",
    "name",
    "status",
    "management",
    "root_state",
    "root_source",
    "root_devices",
    "root_password",
    "root_access_keys",
    "root_signing_certificates",
    "users",
    "console_without_mfa",
    "critical",
    "high",
    "medium",
    "low",
    "info",
    "not_audited",
];

/// One row per account, with a header row.
pub fn csv(audit: &OrgAudit) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_COLUMNS)?;
    let flag = |b: Option<bool>| b.map_or(String::new(), |b| b.to_string());
    for a in &audit.accounts {
        let c = counts(&a.findings);
        let n = |s: Severity| c.get(&s).copied().unwrap_or(0).to_string();
        let users = a.facts.as_ref().map(count_users);
        let devices: Vec<String> = a
            .root
            .devices
            .iter()
            .map(|d| format!("{}:{}", d.kind.as_str(), d.serial))
            .collect();
        let missing: Vec<&str> = a
            .findings
            .iter()
            .filter_map(|f| match f.check {
                Check::RootNotAudited => Some("root"),
                Check::UsersNotAudited => Some("users"),
                _ => None,
            })
            .collect();
        let (state, source) = if a.audited() {
            let source = serde_json::to_value(a.root.source).unwrap_or_default();
            (
                a.root.state.as_str(),
                source.as_str().unwrap_or("").to_owned(),
            )
        } else {
            ("", String::new())
        };
        w.write_record([
            a.account.id.clone(),
            a.account.name.clone(),
            a.account.status.clone(),
            a.management.to_string(),
            state.to_owned(),
            source,
            devices.join(" "),
            flag(a.root.password),
            flag(a.root.access_keys),
            a.root
                .signing_certificates
                .map_or(String::new(), |n| n.to_string()),
            users.map_or(String::new(), |u| u.total.to_string()),
            users.map_or(String::new(), |u| u.console_without_mfa.to_string()),
            n(Severity::Critical),
            n(Severity::High),
            n(Severity::Medium),
            n(Severity::Low),
            n(Severity::Info),
            missing.join(" "),
        ])?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// The work queue as text: each account's steps in order, the accounts not read, then the
/// manifest draft.
pub fn queue_text(audit: &OrgAudit) -> String {
    let work: Vec<WorkItem> = queue::work(audit);
    let mut text = format!(
        "Root users that need a person at the console: {}\n",
        work.len()
    );
    for (i, item) in work.iter().enumerate() {
        text.push_str(&format!(
            "\n{}. Account {} ({}), root: {}\n",
            i + 1,
            item.account,
            item.name,
            item.state.as_str()
        ));
        for (j, step) in item.steps.iter().enumerate() {
            let lead = format!("   {}. ", (b'a' + j as u8) as char);
            let indent = " ".repeat(lead.len());
            for (k, l) in wrap(&step.what, WIDTH - lead.len()).iter().enumerate() {
                text.push_str(&format!("{}{l}\n", if k == 0 { &lead } else { &indent }));
            }
            if let Some(c) = &step.command {
                let words = crate::mfa::remedy::shell_words(c);
                for l in shell_lines(words, &format!("{indent}  "), WIDTH) {
                    text.push_str(&l);
                    text.push('\n');
                }
            }
        }
    }
    let unknown = queue::unknown(audit);
    if !unknown.is_empty() {
        let ids: Vec<&str> = unknown.iter().map(|a| a.account.id.as_str()).collect();
        let line = format!(
            "Not read, so not in the queue: {} (see the audit's findings; audit again once they can be reached).",
            ids.join(", ")
        );
        text.push('\n');
        text.push_str(&wrap(&line, WIDTH).join("\n"));
        text.push('\n');
    }
    let rows: Vec<ManifestRow> = queue::manifest_rows(audit);
    text.push_str(&format!(
        "\nIAM users without MFA who sign in to the console: {}. The bulk manifest draft below \
         (save it as a .toml file):\n\n",
        rows.len()
    ));
    text.push_str(&queue::manifest(&rows));
    text
}

/// One account as the progress bar's line above it says it.
pub fn progress(a: &AccountAudit) -> String {
    let note = note(a);
    let note = if note.is_empty() {
        String::new()
    } else {
        format!(" ({note})")
    };
    format!(
        "{} {}: root {}{note}",
        a.account.id,
        a.account.name,
        a.root.state.as_str()
    )
}

/// `-v`'s line: every call, by action, and the time taken.
pub fn calls_line(audit: &OrgAudit, started: std::time::Instant, concurrency: u16) -> String {
    let total: u32 = audit.calls.values().sum();
    let each: Vec<String> = audit
        .calls
        .iter()
        .map(|(a, n)| format!("{a} {n}"))
        .collect();
    let audited = audit.accounts.iter().filter(|a| a.audited()).count().max(1);
    format!(
        "{total} AWS calls in {:.2} s for {audited} accounts ({:.1} per account; {}; at most {concurrency} accounts at once)",
        started.elapsed().as_secs_f64(),
        f64::from(total) / audited as f64,
        each.join(", ")
    )
}

/// Writes [`csv`] to `path`.
pub fn write_csv(audit: &OrgAudit, path: &std::path::Path) -> std::io::Result<()> {
    std::fs::write(path, csv(audit).map_err(std::io::Error::from)?)
}
