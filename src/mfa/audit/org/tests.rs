use super::queue::{manifest, ManifestRow};
use super::*;
use crate::iam::names::{TAG_TOKEN_KIND, TAG_TOKEN_SERIAL};

const VIRTUAL: &str = "arn:aws:iam::222222222222:mfa/root-mfa";
const FIDO: &str = "arn:aws:iam::222222222222:u2f/root/key-ABC";

/// The tags ykmfa puts on a virtual device whose secret it wrote to a YubiKey.
fn on_token_tags() -> (String, Vec<(String, String)>) {
    (
        VIRTUAL.to_owned(),
        vec![
            (TAG_TOKEN_SERIAL.to_owned(), "12345678".to_owned()),
            (TAG_TOKEN_KIND.to_owned(), "YubiKey".to_owned()),
        ],
    )
}

fn creds(devices: &[&str], password: bool) -> RootCredentials {
    RootCredentials {
        mfa_devices: devices.iter().map(|s| s.to_string()).collect(),
        password,
        access_keys: 0,
        signing_certificates: 0,
    }
}

#[test]
fn device_kinds_come_from_the_serial_shape() {
    assert_eq!(MfaKind::of(VIRTUAL), MfaKind::Virtual);
    assert_eq!(MfaKind::of("GAHT12345678"), MfaKind::Hardware);
    let fido = "arn:aws:iam::222222222222:u2f/root/key-ABCDEFGHIJ";
    assert_eq!(MfaKind::of(fido), MfaKind::Fido);
}

#[test]
fn root_states_from_a_root_session() {
    let state = |d: &[&str], p, tags| RootPosture::from_root_session(&creds(d, p), tags).state;
    assert_eq!(state(&[VIRTUAL, FIDO], true, None), RootState::Fido);
    assert_eq!(state(&["GAHT1", VIRTUAL], true, None), RootState::Hardware);
    assert_eq!(state(&[VIRTUAL], true, None), RootState::Virtual);
    let tags = on_token_tags();
    let on_token = RootPosture::from_root_session(&creds(&[VIRTUAL], true), Some(&tags));
    assert_eq!(on_token.state, RootState::VirtualOnToken);
    assert_eq!(
        on_token.devices[0].token.as_deref(),
        Some("YubiKey 12345678")
    );
    assert_eq!(on_token.devices[0].device_kind, DeviceKind::VirtualOnToken);
    assert_eq!(state(&[], true, None), RootState::NoMfa);
    assert_eq!(state(&[], false, None), RootState::CredentialsDeleted);
    // Keys alone are credentials: not deleted, and root has no MFA (the rule does not ask
    // whether root has a password).
    let keys = RootCredentials {
        access_keys: 1,
        ..creds(&[], false)
    };
    let posture = RootPosture::from_root_session(&keys, None);
    assert_eq!(posture.state, RootState::NoMfa);
    assert_eq!(posture.hardware_mfa, Some(false));
    assert!(posture.needs_person());
}

#[test]
fn the_hardware_mfa_verdict_is_aws_configs() {
    let tags = on_token_tags();
    let verdict = |d: &[&str], p| RootPosture::from_root_session(&creds(d, p), Some(&tags));
    // Any virtual device fails, token-held or not, beside a FIDO key or a hardware token too.
    for devices in [&[VIRTUAL][..], &[FIDO, VIRTUAL], &["GAHT1", VIRTUAL], &[]] {
        let root = verdict(devices, true);
        assert_eq!(root.hardware_mfa, Some(false), "{devices:?}");
        assert!(root.needs_person(), "{devices:?}");
    }
    for devices in [&[FIDO][..], &["GAHT1"], &[FIDO, "GAHT1"]] {
        let root = verdict(devices, true);
        assert_eq!(root.hardware_mfa, Some(true), "{devices:?}");
        assert!(!root.needs_person(), "{devices:?}");
    }
    // Deleted credentials: compliant by absence, no verdict either way.
    let deleted = verdict(&[], false);
    assert_eq!(deleted.hardware_mfa, None);
    assert!(!deleted.needs_person());
    assert_eq!(RootPosture::unknown().hardware_mfa, None);
}

#[test]
fn root_findings_are_the_single_account_audits() {
    let tags = on_token_tags();
    let root_of = |posture: &RootPosture| {
        let mut out = Vec::new();
        root_findings(posture, "222222222222", &mut out);
        out
    };
    // A token-held virtual device: the single-account audit's finding, word for word.
    let session = RootPosture::from_root_session(&creds(&[VIRTUAL], true), Some(&tags));
    let facts = Facts {
        account: "222222222222".into(),
        root_mfa_enabled: Some(true),
        root_virtual_device: Some(VIRTUAL.into()),
        root_virtual_kind: Some(DeviceKind::VirtualOnToken),
        ..Facts::default()
    };
    let single: Vec<Finding> = crate::mfa::audit::analyze(&facts)
        .into_iter()
        .filter(|f| f.subject_kind == SubjectKind::Root)
        .collect();
    assert_eq!(root_of(&session), single);
    assert_eq!(root_of(&RootPosture::from_summary(&facts, None)), single);
    assert_eq!(single[0].check, Check::RootMfaVirtual);
    assert_eq!(single[0].severity, Severity::Low);
    // No MFA: the same critical finding.
    let none = Facts {
        root_mfa_enabled: Some(false),
        root_virtual_device: None,
        root_virtual_kind: None,
        ..facts
    };
    let single: Vec<Finding> = crate::mfa::audit::analyze(&none)
        .into_iter()
        .filter(|f| f.subject_kind == SubjectKind::Root)
        .collect();
    let session = RootPosture::from_root_session(&creds(&[], true), None);
    assert_eq!(root_of(&session), single);
    assert_eq!(single[0].check, Check::RootMfaDisabled);
    assert_eq!(single[0].severity, Severity::Critical);
    // A virtual device beside a FIDO key: still the finding, and the reason says so.
    let beside = RootPosture::from_root_session(&creds(&[FIDO, VIRTUAL], true), None);
    assert_eq!(beside.state, RootState::Fido);
    let found = root_of(&beside);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].check, Check::RootMfaVirtual);
    assert!(
        found[0].summary.contains("beside its FIDO security key"),
        "{}",
        found[0].summary
    );
    assert!(found[0].fix.contains("remove the virtual device"));
    assert!(root_of(&RootPosture::from_root_session(&creds(&[FIDO], true), None)).is_empty());
}

#[test]
fn who_needs_a_person_and_which_findings() {
    let posture = |d: &[&str], p| RootPosture::from_root_session(&creds(d, p), None);
    assert!(posture(&[], true).needs_person());
    assert!(posture(&[VIRTUAL], true).needs_person());
    assert!(!posture(&["GAHT1"], true).needs_person());
    assert!(!posture(&[], false).needs_person());
    let mut findings = Vec::new();
    root_findings(&posture(&[], true), "222222222222", &mut findings);
    assert_eq!(findings[0].check, Check::RootMfaDisabled);
    assert_eq!(
        findings[0].command.as_deref(),
        Some("ykmfa enroll --root --account 222222222222")
    );
    let mut findings = Vec::new();
    root_findings(&posture(&[], false), "222222222222", &mut findings);
    assert!(findings.is_empty(), "deleted credentials are compliant");
    let certs = RootCredentials {
        signing_certificates: 2,
        access_keys: 1,
        ..creds(&["GAHT1"], true)
    };
    let mut findings = Vec::new();
    root_findings(
        &RootPosture::from_root_session(&certs, None),
        "1",
        &mut findings,
    );
    let checks: Vec<Check> = findings.iter().map(|f| f.check).collect();
    assert_eq!(
        checks,
        [Check::RootAccessKeys, Check::RootSigningCertificates]
    );
}

#[test]
fn summary_fallback_cannot_tell_hardware_from_fido() {
    let facts = Facts {
        root_mfa_enabled: Some(true),
        ..Facts::default()
    };
    assert_eq!(
        RootPosture::from_summary(&facts, None).state,
        RootState::HardwareOrFido
    );
    let none = Facts {
        root_mfa_enabled: Some(false),
        ..Facts::default()
    };
    let posture = RootPosture::from_summary(&none, None);
    assert_eq!(posture.state, RootState::NoMfa);
    assert!(
        posture.needs_person(),
        "the password is not known: ask a person"
    );
}

#[test]
fn the_manifest_draft_is_toml_bulk_reads() {
    let rows = [
        ManifestRow {
            account_id: "222222222222".into(),
            account: "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole".into(),
            user: "dev-console".into(),
        },
        ManifestRow {
            account_id: "111111111111".into(),
            account: String::new(),
            user: "bob".into(),
        },
    ];
    let text = manifest(&rows);
    let parsed: toml::Table = toml::from_str(&text).expect("TOML");
    let enroll = parsed["enroll"].as_array().expect("rows");
    assert_eq!(enroll.len(), 2);
    assert_eq!(enroll[0]["user"].as_str(), Some("dev-console"));
    assert!(enroll[1].get("account").is_none());
    assert!(enroll[0].get("serial").is_none());
}

fn account(id: &str, status: &str, root: RootPosture, facts: Option<Facts>) -> AccountAudit {
    let mut findings = Vec::new();
    root_findings(&root, id, &mut findings);
    if let Some(f) = &facts {
        findings.extend(crate::mfa::audit::analyze(f).into_iter().filter(|f| {
            !matches!(
                f.check,
                Check::RootMfaDisabled | Check::RootMfaVirtual | Check::RootAccessKeys
            )
        }));
    }
    AccountAudit {
        account: OrgAccount {
            id: id.into(),
            name: format!("name-{id}"),
            email: format!("root+{id}@example.com"),
            status: status.into(),
        },
        management: false,
        root,
        facts,
        findings,
    }
}

fn sample() -> OrgAudit {
    let console = Facts {
        account: "222222222222".into(),
        users: vec![crate::mfa::audit::UserFacts {
            name: "dev".into(),
            devices: vec![],
            console: Some(true),
            kinds: vec![],
        }],
        ..Facts::default()
    };
    let none = RootPosture::from_root_session(&creds(&[], true), None);
    let deleted = RootPosture::from_root_session(&creds(&[], false), None);
    OrgAudit {
        caller_account: "111111111111".into(),
        partition: "aws".into(),
        management: "111111111111".into(),
        role: DEFAULT_ROLE.into(),
        root_access: RootAccess::Enabled,
        accounts: vec![
            account("222222222222", "ACTIVE", none, Some(console)),
            account("333333333333", "ACTIVE", deleted, Some(Facts::default())),
            account("444444444444", "SUSPENDED", RootPosture::unknown(), None),
        ],
        calls: BTreeMap::new(),
    }
}

#[test]
fn the_reports_of_an_organization() {
    let audit = sample();
    let text = report::text(&audit);
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("222")).collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(
        lines[0].contains("no-mfa") && lines[0].contains("1/1/1/0"),
        "{}",
        lines[0]
    );
    assert!(text.contains("suspended: not audited"));
    let doc = report::json(&audit, Some(Severity::High), 2, true);
    assert_eq!(doc["schema"], SCHEMA);
    assert_eq!(doc["accounts"][1]["root"]["state"], "credentials-deleted");
    assert!(doc["accounts"][2]["root"].is_null());
    assert_eq!(doc["queue"][0]["account"], "222222222222");
    assert_eq!(doc["manifest_rows"][0]["user"], "dev");
    assert_eq!(
        doc["manifest_rows"][0]["account"],
        "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"
    );
    assert_eq!(report::failing(&audit, Some(Severity::High)), 2);
    let csv = String::from_utf8(report::csv(&audit).expect("CSV")).expect("UTF-8");
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0], report::CSV_COLUMNS.join(","));
    assert!(rows[2].starts_with("333333333333,name-333333333333,ACTIVE,false,credentials-deleted,assume-root,,false,false,0,"));
    let queue = report::queue_text(&audit);
    assert!(
        queue.contains("ykmfa enroll --root --account 222222222222"),
        "{queue}"
    );
    assert!(queue.contains("[[enroll]]"));
}

#[test]
fn a_root_without_a_password_gets_the_central_path_first() {
    let mut audit = sample();
    audit.accounts[0].root = RootPosture::from_root_session(&creds(&[VIRTUAL], false), None);
    let work = queue::work(&audit);
    assert_eq!(work.len(), 1);
    assert_eq!(work[0].check, Check::RootMfaVirtual);
    let steps = &work[0].steps;
    let first = steps[0].command.as_deref().expect("a command");
    assert!(first.contains("IAMCreateRootUserPassword"), "{first}");
    assert!(steps.last().expect("steps").what.contains(VIRTUAL));
}

#[test]
fn the_queue_holds_every_root_that_fails_the_rule() {
    let tags = on_token_tags();
    let mut audit = sample();
    audit.accounts[1].root = RootPosture::from_root_session(&creds(&[FIDO, VIRTUAL], true), None);
    let work = queue::work(&audit);
    let queued: Vec<(&str, Check)> = work.iter().map(|w| (w.account.as_str(), w.check)).collect();
    assert_eq!(
        queued,
        [
            ("222222222222", Check::RootMfaDisabled),
            ("333333333333", Check::RootMfaVirtual)
        ]
    );
    // Beside a FIDO key: remove the virtual device, or accept the finding; nothing to enroll.
    let last = &work[1].steps.last().expect("steps").what;
    assert!(
        last.contains("root already has a FIDO security key"),
        "{last}"
    );
    assert!(last.contains(VIRTUAL) && last.contains("accept the root-mfa-virtual finding"));
    assert!(work[1].steps.iter().all(|s| s.command.is_none()));
    // A token-held device alone: add hardware, then remove it or accept the finding.
    audit.accounts[1].root = RootPosture::from_root_session(&creds(&[VIRTUAL], true), Some(&tags));
    let work = queue::work(&audit);
    let steps: Vec<&str> = work[1].steps.iter().map(|s| s.what.as_str()).collect();
    assert!(
        steps[1].contains("FIDO security key or a hardware TOTP token"),
        "{steps:?}"
    );
    assert!(
        steps[2].contains("accept the root-mfa-virtual finding"),
        "{steps:?}"
    );
    let text = report::queue_text(&audit);
    assert!(text.contains("root: virtual-on-token"), "{text}");
}
