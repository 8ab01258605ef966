//! `ykmfa audit --organization` against a generated organization on the strict IAM endpoint
//! (`/_bench/organization/generate`): every root case (FIDO, hardware TOTP, a virtual device on a
//! token, a virtual device, no MFA, credentials deleted), users with and without MFA, an account
//! that denies the role, one that times out, a suspended one. The `ykmfa.audit-org/1` document
//! account by account, the work queue, the manifest draft through `bulk plan`, the CSV, the call
//! log (only reads and sessions), the fallback without centralized root access, and `--fail-on`.

// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;

use serde_json::{json, Value};
use support::{Bench, Spec};

/// Accounts in the generated organization: the management account and 11 members, enough for
/// every root case twice over the cycle's start and the three special accounts.
const ACCOUNTS: usize = 12;

struct Org {
    bench: Bench,
    key: String,
    /// account id -> the generator's entry.
    accounts: BTreeMap<String, Value>,
}

fn organization() -> Org {
    let bench = Bench::start(Spec {
        iam: true,
        ..Spec::default()
    });
    let org = bench.iam_call(
        "POST",
        "/_bench/organization/generate",
        json!({"accounts": ACCOUNTS, "timeout_ms": 20000}),
    );
    let key = org["management_access_key_id"].as_str().unwrap().to_owned();
    let accounts = org["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["id"].as_str().unwrap().to_owned(), a.clone()))
        .collect();
    Org {
        bench,
        key,
        accounts,
    }
}

impl Org {
    fn audit(&self, args: &[&str]) -> support::Run {
        // 10 s a step: the slow account (20 s) still times out, and a bench loaded by every
        // other test (moto answers in seconds then) does not.
        let mut all = vec!["audit", "--organization", "--aws-timeout", "10"];
        all.extend_from_slice(args);
        self.bench
            .run_with(&all, &[("AWS_ACCESS_KEY_ID", self.key.as_str())])
    }

    fn special(&self, case: &str) -> String {
        let found = self.accounts.values().find(|a| a["special"] == case);
        found.unwrap()["id"].as_str().unwrap().to_owned()
    }

    /// The state the audit must report for an account's root through AssumeRoot.
    fn expected_root(&self, account: &Value) -> &'static str {
        if account["management"] == true {
            return "hardware-or-fido"; // the caller's own account: GetAccountSummary
        }
        match (
            account["special"].as_str(),
            account["root"]["case"].as_str(),
        ) {
            (Some("timeout"), _) => "unknown",
            (_, Some("deleted")) => "credentials-deleted",
            (_, Some(case)) => match case {
                "fido" => "fido",
                "hardware" => "hardware",
                "virtual-on-token" => "virtual-on-token",
                "virtual" => "virtual",
                "no-mfa" => "no-mfa",
                other => panic!("unknown case {other}"),
            },
            _ => panic!("no root case: {account}"),
        }
    }
}

fn checks(account: &Value) -> Vec<(String, String)> {
    account["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let check = f["check"].as_str().unwrap().to_owned();
            (check, f["subject"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[test]
fn every_case_reported_and_the_queue_is_exactly_who_needs_a_person() {
    let org = organization();
    let dir = org.bench.dir.join("org-audit");
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("accounts.csv");
    let csv_arg = csv.display().to_string();
    org.bench.iam_call("POST", "/_bench/calls/reset", json!({}));
    let run = org.audit(&["--json", "--queue", "--csv", &csv_arg]);
    let doc: Value = serde_json::from_str(run.ok()).expect("JSON");
    assert_eq!(doc["schema"], "ykmfa.audit-org/1");
    assert_eq!(doc["root_access"], "enabled");
    let accounts = doc["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), ACCOUNTS);
    let (denied, slow, suspended) = (
        org.special("role-denied"),
        org.special("timeout"),
        org.special("suspended"),
    );
    let mut needs_person = Vec::new();
    for a in accounts {
        let id = a["id"].as_str().unwrap();
        let made = &org.accounts[id];
        let found = checks(a);
        let has =
            |check: &str, subject: &str| found.iter().any(|(c, s)| c == check && s == subject);
        if id == suspended {
            assert_eq!(a["status"], "SUSPENDED");
            assert_eq!(a["audited"], false, "{a}");
            assert!(found.is_empty());
            continue;
        }
        assert_eq!(a["audited"], true);
        let state = org.expected_root(made);
        assert_eq!(a["root"]["state"], state, "account {id}: {a}");
        let source = match state {
            "unknown" => "none",
            _ if made["management"] == true => "account-summary",
            _ => "assume-root",
        };
        assert_eq!(a["root"]["source"], source, "account {id}");
        // Device kinds as read from the serials.
        let kinds: Vec<&str> = a["root"]["devices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["kind"].as_str().unwrap())
            .collect();
        match state {
            "fido" => assert_eq!(kinds, ["fido"]),
            "hardware" => assert_eq!(kinds, ["hardware"]),
            "virtual" | "virtual-on-token" => assert_eq!(kinds, ["virtual"]),
            "no-mfa" | "credentials-deleted" => assert!(kinds.is_empty()),
            _ => {}
        }
        let device_kinds: Vec<&str> = a["root"]["devices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["device_kind"].as_str().unwrap())
            .collect();
        match state {
            "fido" => assert_eq!(device_kinds, ["fido"]),
            "hardware" => assert_eq!(device_kinds, ["hardware-totp"]),
            "virtual" => assert_eq!(device_kinds, ["virtual"]),
            "virtual-on-token" => assert_eq!(device_kinds, ["virtual-on-token"]),
            _ => {}
        }
        if state == "virtual-on-token" {
            let token = a["root"]["devices"][0]["token"].as_str().unwrap();
            assert!(token.starts_with("YubiKey "), "{token}");
        }
        // AWS Config's root-account-hardware-mfa-enabled, as the single-account audit applies
        // it: any virtual device fails (a token-held one too, low), no MFA fails (critical).
        let hardware_mfa = match state {
            "fido" | "hardware" | "hardware-or-fido" => json!(true),
            "virtual" | "virtual-on-token" | "no-mfa" => json!(false),
            _ => Value::Null,
        };
        assert_eq!(a["root"]["hardware_mfa"], hardware_mfa, "account {id}: {a}");
        let severity_of = |check: &str| {
            a["findings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["check"] == check && f["subject"] == "root")
                .map(|f| f["severity"].as_str().unwrap().to_owned())
        };
        let virtual_root = matches!(state, "virtual" | "virtual-on-token");
        assert_eq!(
            severity_of("root-mfa-virtual").as_deref(),
            virtual_root.then_some("low"),
            "{id}: {found:?}"
        );
        if virtual_root {
            let f = a["findings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["check"] == "root-mfa-virtual")
                .unwrap();
            let summary = f["summary"].as_str().unwrap();
            assert!(
                summary.starts_with("the root user does not meet the hardware-MFA control"),
                "{summary}"
            );
            assert!(summary.contains("any virtual device fails"), "{summary}");
        }
        if state == "credentials-deleted" {
            assert_eq!(a["root"]["password"], false);
            assert!(!has("root-mfa-disabled", "root"), "deleted is compliant");
        }
        if state == "no-mfa" {
            assert_eq!(
                severity_of("root-mfa-disabled").as_deref(),
                Some("critical"),
                "{id}: {found:?}"
            );
        }
        // Users: through the role, except where the role is refused or the account is slow.
        let reachable = id != denied && id != slow;
        assert_eq!(has("users-not-audited", id), !reachable, "{id}: {found:?}");
        assert_eq!(has("root-not-audited", id), id == slow, "{id}: {found:?}");
        let names: Vec<&str> = made["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["name"].as_str().unwrap())
            .collect();
        if reachable {
            assert_eq!(a["users"]["total"], names.len(), "{id}");
            assert_eq!(
                has("console-without-mfa", "dev-console"),
                names.contains(&"dev-console"),
                "{id}"
            );
            assert_eq!(has("single-mfa-device", "solo"), names.contains(&"solo"));
            assert!(!has("console-without-mfa", "ops-admin"));
            assert!(
                !has("console-without-mfa", "ci-bot"),
                "no console: no finding"
            );
        } else {
            assert!(a["users"].is_null());
        }
        if matches!(state, "no-mfa" | "virtual" | "virtual-on-token") {
            needs_person.push(id.to_owned());
        }
    }
    // The queue: exactly the roots that fail the rule (no MFA, or a virtual device, token-held
    // or not); the slow account is named as not read, the suspended one nowhere.
    let queued: Vec<&str> = doc["queue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["account"].as_str().unwrap())
        .collect();
    assert_eq!(queued, needs_person);
    assert!(
        queued.contains(&denied.as_str()),
        "root is read even when the role is denied"
    );
    assert_eq!(doc["not_audited"], json!([slow]));
    for q in doc["queue"].as_array().unwrap() {
        let steps = q["steps"].as_array().unwrap();
        let commands: Vec<&str> = steps.iter().filter_map(|s| s["command"].as_str()).collect();
        let enroll = format!(
            "ykmfa enroll --root --account {}",
            q["account"].as_str().unwrap()
        );
        if q["state"] == "no-mfa" {
            assert_eq!(q["check"], "root-mfa-disabled", "{q}");
            assert!(commands.contains(&enroll.as_str()), "{q}");
        } else {
            // A virtual device: hardware, then remove it or accept the finding; another
            // virtual device would not pass, so no enroll.
            assert_eq!(q["check"], "root-mfa-virtual", "{q}");
            assert!(!commands.contains(&enroll.as_str()), "{q}");
            let last = steps.last().unwrap()["what"].as_str().unwrap();
            assert!(last.contains("accept the root-mfa-virtual finding"), "{q}");
        }
    }
    // Nothing but reads and sessions.
    let calls = org.bench.iam_call("GET", "/_bench/calls", json!({}));
    let calls = calls["calls"].as_array().unwrap();
    assert!(calls.len() > ACCOUNTS * 8, "{} calls", calls.len());
    for c in calls {
        let action = c["action"].as_str().unwrap();
        let read = ["Get", "List", "Describe"]
            .iter()
            .any(|p| action.starts_with(p));
        assert!(
            read || action == "AssumeRole" || action == "AssumeRoot",
            "the audit called {action}"
        );
    }
    let assume_root = calls.iter().filter(|c| c["action"] == "AssumeRoot").count();
    // Every active member once; the slow account's answer comes after the audit gave up, and
    // the log records a call when it is answered.
    assert_eq!(assume_root, ACCOUNTS - 3);
    // The CSV: a header and one row per account.
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), ACCOUNTS + 1);
    assert!(lines[0].starts_with("account_id,name,status,management,root_state"));
    assert!(lines
        .iter()
        .any(|l| l.contains(",credentials-deleted,assume-root,")));
    // The manifest draft passes bulk plan (reads only; no token needed without serials).
    let draft = dir.join("draft.toml");
    std::fs::write(&draft, doc["manifest_draft"].as_str().unwrap()).unwrap();
    let rows = doc["manifest_rows"].as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r["user"] == "dev-console"));
    let draft_arg = draft.display().to_string();
    let plan = org.bench.run_with(
        &["bulk", "plan", &draft_arg, "--json"],
        &[("AWS_ACCESS_KEY_ID", org.key.as_str())],
    );
    let plan: Value = serde_json::from_str(plan.ok()).expect("plan JSON");
    let planned = plan["rows"].as_array().unwrap();
    assert_eq!(planned.len(), rows.len());
    for (p, r) in planned.iter().zip(rows) {
        assert_eq!(p["verdict"], "ready", "{p}");
        assert_eq!(p["account_id"], r["account_id"]);
    }
    org.bench.assert_no_seed_leaked();
}

#[test]
fn without_centralized_root_access_root_is_read_through_the_role() {
    let org = organization();
    org.bench.iam_call(
        "POST",
        "/_bench/organization",
        json!({"root_access": false}),
    );
    org.bench.iam_call("POST", "/_bench/calls/reset", json!({}));
    let run = org.audit(&[]);
    let text = run.ok();
    let said = run
        .human()
        .matches("centralized root access is not enabled")
        .count();
    assert_eq!(said, 1, "said once: {}", run.human());
    assert!(
        !run.stderr.contains("[#"),
        "no progress bar when stderr is not a terminal"
    );
    // One line per account under the header.
    for id in org.accounts.keys() {
        let lines = text.lines().filter(|l| l.starts_with(id.as_str())).count();
        assert_eq!(lines, 1, "{id} in:\n{text}");
    }
    assert!(text.contains("hardware-or-fido"));
    assert!(
        !text.contains("credentials-deleted"),
        "GetAccountSummary can't tell"
    );
    let calls = org
        .bench
        .iam_call("GET", "/_bench/calls?action=AssumeRoot", json!({}));
    assert_eq!(calls["count"], 0);
    // --fail-on: the roots without MFA are critical.
    let failing = org.audit(&["--fail-on", "critical", "--json"]);
    assert_eq!(failing.code, Some(9), "{}", failing.human());
    let doc: Value = serde_json::from_str(&failing.stdout).unwrap();
    assert_eq!(doc["root_access"], "not-enabled");
    assert!(doc["failing"].as_u64().unwrap() > 0);
    // The text table and the queue without --json.
    let queue = org.audit(&["--queue"]);
    assert!(queue
        .ok()
        .contains("Root users that need a person at the console"));
    assert!(queue.ok().contains("[[enroll]]"));
}

#[test]
fn organization_flags_need_organization() {
    let bench = Bench::start(Spec {
        iam: true,
        ..Spec::default()
    });
    for flag in [&["--queue"][..], &["--role", "Audit"], &["--csv", "x.csv"]] {
        let mut args = vec!["audit"];
        args.extend_from_slice(flag);
        let run = bench.run(&args);
        assert_eq!(run.code, Some(2), "{flag:?}: {}", run.human());
    }
}

#[test]
fn from_the_delegated_administrator() {
    let org = organization();
    let delegated = org
        .accounts
        .values()
        .find(|a| a["root"]["case"] == "fido" && a["management"] == false)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    org.bench.iam_call(
        "POST",
        "/_bench/organization",
        json!({"delegated_admin": delegated}),
    );
    let key = org.bench.access_key_of(&delegated);
    let run = org.bench.run_with(
        &["audit", "--organization", "--json", "--aws-timeout", "10"],
        &[("AWS_ACCESS_KEY_ID", key.as_str())],
    );
    let doc: Value = serde_json::from_str(run.ok()).expect("JSON");
    assert_eq!(doc["caller_account"], delegated.as_str());
    assert_eq!(doc["root_access"], "enabled");
    for a in doc["accounts"].as_array().unwrap() {
        let id = a["id"].as_str().unwrap();
        let made = &org.accounts[id];
        if a["audited"] == false {
            continue;
        }
        // Its own account and the management account: AssumeRoot can't target them.
        let expected = if id == delegated || made["management"] == true {
            "hardware-or-fido"
        } else {
            org.expected_root(made)
        };
        assert_eq!(a["root"]["state"], expected, "{id}: {a}");
    }
}

#[test]
fn throttling_is_retried() {
    let org = organization();
    for action in ["ListUsers", "AssumeRoot", "ListAccounts"] {
        org.bench
            .iam_fault(json!({"action": action, "code": "Throttling", "count": 3}));
    }
    let run = org.audit(&["--json"]);
    let doc: Value = serde_json::from_str(run.ok()).expect("JSON");
    let (denied, slow) = (org.special("role-denied"), org.special("timeout"));
    for a in doc["accounts"].as_array().unwrap() {
        let id = a["id"].as_str().unwrap();
        if a["audited"] == false || id == denied || id == slow {
            continue;
        }
        let not_read = checks(a).iter().any(|(c, _)| c.ends_with("-not-audited"));
        assert!(!not_read, "throttled calls are retried: {id}: {a}");
    }
    let faults = org.bench.iam_call("GET", "/_bench/faults", json!({}));
    for f in faults["faults"].as_array().unwrap() {
        assert_eq!(f["fired"], 3, "{f}");
    }
}
