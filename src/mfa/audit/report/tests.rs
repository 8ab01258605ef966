use super::*;
use crate::mfa::audit::{analyze, Orphan};

#[test]
fn the_document_keeps_its_schema() {
    let facts = Facts {
        account: "123456789012".into(),
        root_mfa_enabled: Some(true),
        root_access_keys_present: Some(false),
        password_policy: Some(PasswordPolicy {
            minimum_password_length: Some(14),
            ..PasswordPolicy::default()
        }),
        orphans: vec![Orphan {
            serial: "arn:aws:iam::123456789012:mfa/x".into(),
            tags: None,
        }],
        ..Facts::default()
    };
    let findings = analyze(&facts);
    let doc = json(&facts, &findings, Some(Severity::Info), findings.len());
    assert_eq!(doc["schema"], "ykmfa.audit/1");
    assert_eq!(doc["root"]["mfa"], "hardware");
    assert_eq!(doc["password_policy"]["minimum_password_length"], 14);
    assert_eq!(doc["orphans"][0]["tags"], Value::Null);
    assert_eq!(doc["counts"]["critical"], 0);
    assert_eq!(doc["fail_on"], "info");
    assert_eq!(doc["root"]["hardware_mfa"], true);
    assert_eq!(doc["root"]["mfa_device_kind"], Value::Null);
    assert_eq!(doc["devices"], serde_json::json!([]));
    let keys: Vec<&str> = doc
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "schema",
            "account",
            "baseline",
            "root",
            "password_policy",
            "users",
            "orphans",
            "findings",
            "counts",
            "fail_on",
            "failing",
            "devices"
        ]
    );
}

#[test]
fn findings_that_share_a_fix_point_to_one_entry() {
    let facts = Facts {
        account: "123456789012".into(),
        root_mfa_enabled: Some(false),
        password_policy: Some(PasswordPolicy {
            minimum_password_length: Some(8),
            ..PasswordPolicy::default()
        }),
        ..Facts::default()
    };
    let findings = analyze(&facts);
    let (numbers, list) = fixes(&findings);
    assert_eq!(numbers.len(), findings.len());
    let policy = list
        .iter()
        .filter(|(_, c)| c.is_some_and(|c| c.contains("update-account-password-policy")))
        .count();
    assert_eq!(policy, 1, "{list:?}");
    assert!(numbers.iter().all(|n| (1..=list.len()).contains(n)));
    assert!(list.len() < findings.len());
    assert_eq!(failing(&findings, None), 0);
    assert!(failing(&findings, Some(Severity::Info)) == findings.len());
}

#[test]
fn a_report_without_findings_says_so_within_80_columns() {
    let text = text(&Facts::default(), &[]);
    assert!(
        text.contains("No findings.") && text.contains("policy  none"),
        "{text}"
    );
    assert!(text.lines().all(|l| l.chars().count() <= WIDTH), "{text}");
}

#[test]
fn the_header_says_a_virtual_root_device_is_not_hardware_mfa() {
    let mut facts = Facts {
        account: "123456789012".into(),
        root_mfa_enabled: Some(true),
        root_access_keys_present: Some(false),
        root_virtual_device: Some("arn:aws:iam::123456789012:mfa/root-account-mfa-device".into()),
        ..Facts::default()
    };
    for (kind, said) in [
        (
            Some(DeviceKind::VirtualOnToken),
            "virtual MFA on a token (not hardware to AWS), no access keys\n",
        ),
        (
            Some(DeviceKind::Virtual),
            "virtual MFA (not hardware), no access keys\n",
        ),
        (None, "virtual MFA (not hardware), no access keys\n"),
    ] {
        facts.root_virtual_kind = kind;
        let findings = analyze(&facts);
        let text = text(&facts, &findings);
        assert!(text.contains(said), "{text}");
        assert!(text.lines().all(|l| l.chars().count() <= WIDTH), "{text}");
    }
}
