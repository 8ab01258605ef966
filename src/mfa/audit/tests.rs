// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use super::*;
use crate::mfa::fakes::{arn, denied, no_such_entity, Action, FakeClock, FakeDirectory, T0};

fn device(user: &str, name: &str) -> MfaDevice {
    MfaDevice {
        user: Some(user.into()),
        serial: format!("arn:aws:iam::123456789012:mfa/{name}"),
        enable_date: Some(SystemTime::UNIX_EPOCH),
    }
}

fn user(name: &str, devices: usize, console: Option<bool>) -> UserFacts {
    UserFacts {
        name: name.into(),
        devices: (0..devices)
            .map(|i| device(name, &format!("{name}-{i}")))
            .collect(),
        console,
        kinds: vec![DeviceKind::Virtual; devices],
    }
}

fn strong_policy() -> PasswordPolicy {
    PasswordPolicy {
        minimum_password_length: Some(16),
        require_symbols: true,
        require_numbers: true,
        require_uppercase_characters: true,
        require_lowercase_characters: true,
        allow_users_to_change_password: true,
        expire_passwords: false,
        max_password_age: None,
        password_reuse_prevention: Some(24),
        hard_expiry: None,
    }
}

fn good_account() -> Facts {
    Facts {
        account: "123456789012".into(),
        root_mfa_enabled: Some(true),
        root_access_keys_present: Some(false),
        root_virtual_device: None,
        root_virtual_kind: None,
        password_policy: Some(strong_policy()),
        users: vec![user("alice", 2, None), user("robot", 0, Some(false))],
        orphans: vec![],
    }
}

fn summary(findings: &[Finding]) -> Vec<(Severity, &'static str, &str)> {
    findings
        .iter()
        .map(|f| (f.severity, f.check.as_str(), f.subject.as_str()))
        .collect()
}

#[test]
fn a_good_account_has_no_findings() {
    let facts = good_account();
    assert_eq!(analyze(&facts), vec![]);
    assert_eq!(facts.root_mfa(), RootMfa::Hardware);
}

#[test]
fn a_neglected_account_has_every_finding_most_severe_first() {
    let facts = Facts {
        account: "123456789012".into(),
        root_mfa_enabled: Some(false),
        root_access_keys_present: Some(true),
        root_virtual_device: None,
        root_virtual_kind: None,
        password_policy: Some(PasswordPolicy {
            minimum_password_length: Some(8),
            require_numbers: true,
            password_reuse_prevention: Some(5),
            ..PasswordPolicy::default()
        }),
        users: vec![
            user("zoe", 0, Some(true)),
            user("bob", 1, None),
            user("carol", 2, None),
            user("svc", 0, Some(false)),
        ],
        orphans: vec![Orphan {
            serial: "arn:aws:iam::123456789012:mfa/lost".into(),
            tags: Some(vec![]),
        }],
    };
    let findings = analyze(&facts);
    assert_eq!(
        summary(&findings),
        vec![
            (Severity::Critical, "root-mfa-disabled", "root"),
            (Severity::Critical, "root-access-keys", "root"),
            (Severity::High, "console-without-mfa", "zoe"),
            (Severity::Medium, "password-policy-weak", "password-policy"),
            // Low: the four gaps in policy order, then users, then devices.
            (Severity::Low, "password-policy-weak", "password-policy"),
            (Severity::Low, "password-policy-weak", "password-policy"),
            (Severity::Low, "password-policy-weak", "password-policy"),
            (Severity::Low, "password-policy-weak", "password-policy"),
            (Severity::Low, "single-mfa-device", "bob"),
            (
                Severity::Low,
                "orphan-device",
                "arn:aws:iam::123456789012:mfa/lost"
            ),
        ]
    );
    let gaps: Vec<&str> = findings
        .iter()
        .filter(|f| f.check == Check::PasswordPolicyWeak)
        .map(|f| f.summary.as_str())
        .collect();
    assert_eq!(
        gaps,
        [
            "minimum length 8, baseline 14",
            "remembers 5 previous passwords, baseline 24",
            "does not require an uppercase letter",
            "does not require a lowercase letter",
            "does not require a symbol",
        ]
    );
    assert_eq!(
        findings[0].command.as_deref(),
        Some("ykmfa enroll --root --account 123456789012")
    );
    let zoe = &findings[2];
    assert_eq!(zoe.subject_kind, SubjectKind::User);
    assert_eq!(zoe.command.as_deref(), Some("ykmfa enroll --user zoe"));
    assert!(
        zoe.fix
            .contains("aws iam delete-login-profile --user-name zoe"),
        "{}",
        zoe.fix
    );
    assert_eq!(zoe.reference, Some("CIS v3.0.0 1.10"));
    // The same whole-policy command fixes every gap, and keeps numbers as required.
    assert!(findings
        .iter()
        .filter(|f| f.subject_kind == SubjectKind::PasswordPolicy)
        .all(|f| f.command == findings[3].command));
    assert_eq!(at_or_above(&findings, Severity::Critical), 2);
    assert_eq!(at_or_above(&findings, Severity::High), 3);
    assert_eq!(at_or_above(&findings, Severity::Info), findings.len());
    let c = counts(&findings);
    assert_eq!(c[&Severity::Low], 6);
    assert_eq!(c[&Severity::Info], 0);
    assert_eq!(
        count_users(&facts),
        UserCounts {
            total: 4,
            with_mfa: 2,
            without_mfa: 2,
            console_without_mfa: 1,
            single_device: 1,
        }
    );
}

#[test]
fn root_posture() {
    let mut facts = good_account();
    facts.root_virtual_device =
        Some("arn:aws:iam::123456789012:mfa/root-account-mfa-device".into());
    assert_eq!(facts.root_mfa(), RootMfa::Virtual);
    assert_eq!(
        summary(&analyze(&facts)),
        [(Severity::Low, "root-mfa-virtual", "root")]
    );
    // AWS Config's root-account-hardware-mfa-enabled: any virtual device fails, a token-held
    // one included; the finding says so and why, apart from "root has no MFA".
    for (kind, why) in [
        (None, "unknown origin"),
        (Some(DeviceKind::Virtual), "unknown origin"),
        (
            Some(DeviceKind::VirtualOnToken),
            "ykmfa wrote the secret to a token",
        ),
    ] {
        facts.root_virtual_kind = kind;
        let findings = analyze(&facts);
        assert_eq!(findings.len(), 1);
        let f = &findings[0];
        assert_eq!(f.check, Check::RootMfaVirtual);
        assert!(
            f.summary.starts_with(
                "the root user does not meet the hardware-MFA control: its MFA is a virtual device"
            ),
            "{}",
            f.summary
        );
        assert!(f.summary.contains(why), "{}", f.summary);
        assert!(
            f.summary.contains("any virtual device fails"),
            "{}",
            f.summary
        );
        assert_eq!(
            f.reference,
            Some("CIS v3.0.0 1.6; AWS Config root-account-hardware-mfa-enabled")
        );
        assert!(
            f.fix.contains("FIDO security key or a hardware TOTP token"),
            "{}",
            f.fix
        );
    }
    // IAM says nothing: no finding is made up either way.
    facts.root_virtual_device = None;
    facts.root_mfa_enabled = None;
    facts.root_access_keys_present = None;
    assert_eq!(facts.root_mfa(), RootMfa::Unknown);
    assert_eq!(analyze(&facts), vec![]);
}

#[test]
fn no_password_policy_is_a_finding_with_the_whole_baseline_as_fix() {
    let mut facts = good_account();
    facts.password_policy = None;
    let findings = analyze(&facts);
    assert_eq!(
        summary(&findings),
        [(
            Severity::Medium,
            "password-policy-missing",
            "password-policy"
        )]
    );
    assert_eq!(
        findings[0].command.as_deref().unwrap(),
        "aws iam update-account-password-policy --minimum-password-length 14 --require-uppercase-characters --require-lowercase-characters --require-numbers --require-symbols --password-reuse-prevention 24 --allow-users-to-change-password"
    );
}

#[test]
fn the_policy_command_keeps_what_is_already_stronger() {
    let policy = PasswordPolicy {
        minimum_password_length: Some(20),
        password_reuse_prevention: Some(10),
        allow_users_to_change_password: false,
        expire_passwords: true,
        max_password_age: Some(90),
        hard_expiry: Some(true),
        ..PasswordPolicy::default()
    };
    assert_eq!(
        password_policy_command(Some(&policy)),
        "aws iam update-account-password-policy --minimum-password-length 20 --require-uppercase-characters --require-lowercase-characters --require-numbers --require-symbols --password-reuse-prevention 24 --max-password-age 90 --hard-expiry"
    );
}

#[test]
fn missing_numbers_in_a_policy_are_gaps_too() {
    let mut policy = strong_policy();
    policy.minimum_password_length = None;
    policy.password_reuse_prevention = Some(0);
    policy.require_numbers = false;
    let mut facts = good_account();
    facts.password_policy = Some(policy);
    let findings = analyze(&facts);
    let gaps: Vec<(Severity, &str, Option<&str>)> = findings
        .iter()
        .map(|f| (f.severity, f.summary.as_str(), f.reference))
        .collect();
    assert_eq!(
        gaps,
        [
            (
                Severity::Medium,
                "no minimum length, baseline 14",
                Some("CIS v3.0.0 1.8")
            ),
            (
                Severity::Low,
                "old passwords may be reused, baseline: remember 24",
                Some("CIS v3.0.0 1.9")
            ),
            (
                Severity::Low,
                "does not require a number",
                Some("CIS v1.2.0 1.8")
            ),
        ]
    );
}

#[test]
fn orphans_say_what_their_tags_tell() {
    let serial = "arn:aws:iam::123456789012:mfa/alice-yk12345678".to_owned();
    let tagged = Orphan {
        serial: serial.clone(),
        tags: Some(vec![
            (TAG_TOKEN_SERIAL.into(), "12345678".into()),
            (TAG_TOKEN_KIND.into(), "YubiKey".into()),
            (
                TAG_CREDENTIAL.into(),
                "Amazon Web Services:alice@123".into(),
            ),
        ]),
    };
    assert_eq!(tagged.token().as_deref(), Some("YubiKey 12345678"));
    let f = orphan(&tagged);
    assert!(
        f.summary.contains(
            "made by ykmfa for YubiKey 12345678, credential 'Amazon Web Services:alice@123'"
        ),
        "{}",
        f.summary
    );
    assert!(f.summary.contains("age unknown"), "{}", f.summary);
    assert_eq!(
        f.command,
        Some(format!(
            "aws iam delete-virtual-mfa-device --serial-number {serial}"
        ))
    );
    let unreadable = Orphan { serial, tags: None };
    assert!(orphan(&unreadable)
        .summary
        .contains("tags could not be read"));
    assert_eq!(unreadable.token(), None);
}

#[test]
fn severities_parse_and_order() {
    assert_eq!("HIGH".parse::<Severity>(), Ok(Severity::High));
    assert_eq!(" low ".parse::<Severity>(), Ok(Severity::Low));
    let err = "severe".parse::<Severity>().unwrap_err();
    assert!(err.contains("info, low, medium, high, critical"), "{err}");
    assert!(Severity::Critical > Severity::High && Severity::Low > Severity::Info);
    for s in Severity::ALL {
        assert_eq!(s.to_string().parse::<Severity>(), Ok(s));
        assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
    }
    assert_eq!(
        serde_json::to_value(Check::ConsoleWithoutMfa).unwrap(),
        "console-without-mfa"
    );
}

/// A future that counts how many of its kind run at once and sleeps a little.
async fn tracked(i: usize, live: &AtomicUsize, peak: &AtomicUsize) -> Result<usize, String> {
    let now = live.fetch_add(1, Ordering::SeqCst) + 1;
    peak.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(5 + (i as u64 * 7) % 11)).await;
    live.fetch_sub(1, Ordering::SeqCst);
    if i == 1000 {
        Err(format!("failed at {i}"))
    } else {
        Ok(i)
    }
}

#[tokio::test]
async fn bounded_join_keeps_order_and_the_cap() {
    let (live, peak) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let out = try_bounded((0..40).map(|i| tracked(i, &live, &peak)), 6)
        .await
        .unwrap();
    assert_eq!(out, (0..40).collect::<Vec<_>>());
    assert_eq!(
        peak.load(Ordering::SeqCst),
        6,
        "all six slots were used, never more"
    );

    let empty: Vec<std::future::Ready<Result<u8, String>>> = vec![];
    assert_eq!(try_bounded(empty, 4).await, Ok(vec![]));
}

#[tokio::test]
async fn bounded_join_stops_at_the_first_error() {
    let (live, peak) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let started = AtomicUsize::new(0);
    let futures = [0, 1000, 2, 3, 4, 5, 6, 7].map(|i| {
        let (live, peak, started) = (&live, &peak, &started);
        async move {
            started.fetch_add(1, Ordering::SeqCst);
            tracked(i, live, peak).await
        }
    });
    let err = try_bounded(futures, 2).await.unwrap_err();
    assert_eq!(err, "failed at 1000");
    assert!(
        started.load(Ordering::SeqCst) < 8,
        "futures after the error never start"
    );
}

/// The fake IAM account of `crate::mfa::fakes` as an audit finds it: `users` (name, devices,
/// console password), `orphans` (unassigned devices tagged with a token serial) and the root
/// user's virtual device. Per-user and per-device calls take 3 ms, so that how many run at once
/// shows.
fn account(users: &[(String, usize, bool)], orphans: &[&str]) -> FakeDirectory {
    let dir = FakeDirectory::new(FakeClock::fixed(T0), &[]);
    for (name, devices, console) in users {
        dir.add_user(name);
        for i in 0..*devices {
            dir.add_device(&format!("{name}-{i}"), &[], Some(name));
        }
        if *console {
            dir.set_console(name);
        }
    }
    for orphan in orphans {
        dir.add_device(orphan, &[(TAG_TOKEN_SERIAL, "12345678")], None);
    }
    dir.add_root_device("root-key");
    dir.slow(
        &[
            Action::GetLoginProfile,
            Action::ListMfaDevices,
            Action::ListTags,
        ],
        Duration::from_millis(3),
    );
    dir
}

/// The audit only reads, and only these.
fn assert_only_audit_reads(dir: &FakeDirectory) {
    let allowed = [
        Action::GetCallerIdentity,
        Action::GetAccountSummary,
        Action::GetAccountPasswordPolicy,
        Action::ListUsers,
        Action::ListVirtualMfaDevices,
        Action::ListMfaDevices,
        Action::GetLoginProfile,
        Action::ListTags,
    ];
    let other: Vec<Action> = dir
        .calls()
        .into_iter()
        .map(|c| c.action)
        .filter(|a| !allowed.contains(a))
        .collect();
    assert!(other.is_empty(), "the audit called {other:?}");
}

#[tokio::test]
async fn gather_asks_for_login_profiles_only_where_they_matter() {
    let mut users: Vec<(String, usize, bool)> = (0..30)
        .map(|i| (format!("user{i:02}"), i % 3, i % 2 == 0))
        .collect();
    users.push(("gone".into(), 0, false));
    let dir = account(&users, &["o1"]);
    // Deleted while the audit runs: listed, then gone.
    dir.fail_about(
        Action::ListMfaDevices,
        "gone",
        no_such_entity(Action::ListMfaDevices, "The user with name gone"),
    );
    let facts = gather(&dir, 4).await.unwrap();

    assert_eq!(facts.account, "123456789012");
    assert_eq!(facts.root_mfa(), RootMfa::Virtual);
    assert_eq!(
        facts.root_virtual_device.as_deref(),
        Some("arn:aws:iam::123456789012:mfa/root-key")
    );
    assert_eq!(facts.root_virtual_kind, Some(DeviceKind::Virtual));
    assert_eq!(facts.root_access_keys_present, Some(false));
    assert_eq!(facts.password_policy, None);
    // The user deleted while the audit ran is left out; the others keep their order.
    assert_eq!(facts.users.len(), 30);
    assert_eq!(facts.users[0].name, "user00");
    assert_eq!(facts.users[29].name, "user29");
    for (i, u) in facts.users.iter().enumerate() {
        assert_eq!(u.devices.len(), i % 3, "{}", u.name);
        assert_eq!(u.kinds, vec![DeviceKind::Virtual; i % 3], "{}", u.name);
        let expected = (i % 3 == 0).then_some(i % 2 == 0);
        assert_eq!(u.console, expected, "{}", u.name);
    }
    assert_eq!(
        dir.args_of(Action::GetLoginProfile).len(),
        10,
        "only the ten users without MFA"
    );
    assert_eq!(dir.args_of(Action::ListMfaDevices).len(), 31);
    assert_eq!(dir.args_of(Action::ListUsers).len(), 1);
    assert_eq!(
        dir.peak_in_flight(),
        4,
        "at most four per-user calls at once"
    );
    assert_only_audit_reads(&dir);
    assert_eq!(
        facts.orphans,
        [Orphan {
            serial: "arn:aws:iam::123456789012:mfa/o1".into(),
            tags: Some(vec![(TAG_TOKEN_SERIAL.into(), "12345678".into())]),
        }]
    );
}

#[tokio::test]
async fn gather_tells_every_device_kind() {
    let dir = account(&[("alice".into(), 1, true)], &[]);
    dir.add_device(
        "alice-yk12345678",
        &[(TAG_TOKEN_SERIAL, "12345678")],
        Some("alice"),
    );
    let root = arn("root-key");
    let tags = [(TAG_TOKEN_SERIAL.to_owned(), "7".to_owned())];
    dir.tag_mfa_device(&root, &tags).await.unwrap();
    let facts = gather(&dir, 8).await.unwrap();
    assert_eq!(facts.root_virtual_kind, Some(DeviceKind::VirtualOnToken));
    let alice = &facts.users[0];
    let kinds: Vec<(&str, DeviceKind)> = alice
        .devices
        .iter()
        .map(|d| d.serial.rsplit('/').next().unwrap())
        .zip(alice.kinds.iter().copied())
        .collect();
    assert_eq!(kinds.len(), 2);
    assert!(
        kinds.contains(&("alice-0", DeviceKind::Virtual)),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("alice-yk12345678", DeviceKind::VirtualOnToken)),
        "{kinds:?}"
    );
    // The root verdict names the token-held device plainly.
    let root = analyze(&facts)
        .into_iter()
        .find(|f| f.check == Check::RootMfaVirtual)
        .unwrap();
    assert!(root.summary.contains("to a token"), "{}", root.summary);
    // In the document: one entry per device, root's first; root's verdict is false.
    let doc = report::json(&facts, &analyze(&facts), None, 0);
    assert_eq!(doc["root"]["mfa_device_kind"], "virtual-on-token");
    assert_eq!(doc["root"]["hardware_mfa"], false);
    let devices = doc["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 3);
    assert_eq!(devices[0]["root"], true);
    assert_eq!(devices[0]["kind"], "virtual-on-token");
    assert!(devices[1..].iter().all(|d| d["user"] == "alice"));

    // Tags denied: the devices are still listed, as virtual of unknown origin.
    dir.fail_always(Action::ListTags, denied(Action::ListTags));
    let facts = gather(&dir, 8).await.unwrap();
    assert_eq!(facts.root_virtual_kind, Some(DeviceKind::Virtual));
    assert_eq!(facts.users[0].kinds, [DeviceKind::Virtual; 2]);
}

#[tokio::test]
async fn gather_goes_on_without_tags_when_listing_them_is_denied() {
    let dir = account(&[("alice".into(), 1, true)], &["o1", "o2"]);
    dir.fail_always(Action::ListTags, denied(Action::ListTags));
    let facts = gather(&dir, 8).await.unwrap();
    assert_eq!(facts.orphans.len(), 2);
    assert!(facts.orphans.iter().all(|o| o.tags.is_none()));
    let findings = analyze(&facts);
    assert!(findings
        .iter()
        .filter(|f| f.check == Check::OrphanDevice)
        .all(|f| f.summary.contains("tags could not be read")));
}

#[test]
fn an_orphan_made_by_ykmfa_says_when() {
    let o = Orphan {
        serial: "arn:aws:iam::123456789012:mfa/alice-yk12345678".into(),
        tags: Some(vec![
            (
                crate::iam::names::TAG_CREDENTIAL.into(),
                "Amazon Web Services:alice".into(),
            ),
            (
                crate::iam::names::TAG_CREATED.into(),
                "2026-11-23T08:40:00Z".into(),
            ),
        ]),
    };
    let f = orphan(&o);
    assert!(
        f.summary.contains("created 2026-11-23T08:40:00Z"),
        "{}",
        f.summary
    );
    let untagged = Orphan {
        serial: o.serial.clone(),
        tags: Some(Vec::new()),
    };
    assert!(orphan(&untagged).summary.contains("age unknown"));
}
