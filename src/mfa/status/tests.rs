// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::{Duration, SystemTime};

use super::*;
use crate::iam::names::{TAG_CREDENTIAL, TAG_TOKEN_SERIAL};
use crate::iam::MfaDevice;
use crate::oath::{Credential, CredentialId, OathType, Version};
use crate::token::{Kind, Serial};

const ACCOUNT: &str = "123456789012";

fn credential(name: &str) -> Credential {
    let (issuer, account) = match name.split_once(':') {
        Some((i, a)) => (Some(i), a),
        None => (None, name),
    };
    let id = CredentialId::totp(issuer, account).unwrap();
    Credential {
        raw_id: id.to_bytes(),
        id,
        oath_type: OathType::Totp,
        algorithm: None,
        touch: None,
    }
}

fn token(serial: u32, names: Option<&[&str]>) -> Token {
    Token {
        reader: format!("Reader {serial}"),
        kind: Kind::YubiKey,
        serial: Some(Serial(serial)),
        firmware: Some(Version(5, 4, 3)),
        oath_version: Version(5, 4, 3),
        device_id: format!("id{serial}"),
        password: names.is_none(),
        credentials: names.map(<[&str]>::len),
        capacity: Some(32),
        model: None,
        fips: false,
        listed: names.map(|n| n.iter().map(|c| credential(c)).collect()),
    }
}

fn device(user: &str, name: &str, tags: Option<(u32, &str)>) -> Device {
    let serial = if name.contains(':') {
        name.to_owned()
    } else {
        format!("arn:aws:iam::{ACCOUNT}:mfa/{name}")
    };
    Device::new(
        MfaDevice {
            user: Some(user.into()),
            serial,
            enable_date: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)),
        },
        tags.map(|(s, c)| {
            vec![
                (TAG_TOKEN_SERIAL.to_owned(), s.to_string()),
                (TAG_CREDENTIAL.to_owned(), c.to_owned()),
            ]
        })
        .unwrap_or_default(),
    )
}

fn aws(user: &str) -> String {
    format!("Amazon Web Services:{user}@{ACCOUNT}")
}

#[test]
fn device_types_by_serial_shape() {
    assert_eq!(
        DeviceType::of("arn:aws:iam::123456789012:mfa/alice"),
        DeviceType::Virtual
    );
    assert_eq!(
        DeviceType::of("arn:aws:iam::123456789012:mfa/path/alice"),
        DeviceType::Virtual
    );
    assert_eq!(
        DeviceType::of("arn:aws:iam::123456789012:u2f/user/alice/key-ABC"),
        DeviceType::U2f
    );
    assert_eq!(DeviceType::of("GAHT12345678"), DeviceType::Hardware);
}

#[test]
fn every_aws_credential_gets_a_verdict() {
    let alice = aws("alice");
    let on_token: Vec<String> = vec![
        alice.clone(),
        aws("bob"),
        aws("carol"),
        aws("dave"),
        "Amazon Web Services:eve@999999999999".into(),
        aws("root"),
        "Amazon Web Services:alice-old".into(),
        "GitHub:alice".into(),
        "Amazon Web Services:alice@my-alias".into(),
    ];
    let names: Vec<&str> = on_token.iter().map(String::as_str).collect();
    let facts = Facts {
        account: ACCOUNT.into(),
        alias: Some("my-alias".into()),
        user: "alice".into(),
        devices: vec![
            device("alice", "alice-yk1", Some((1, &alice))),
            device(
                "alice",
                "alice-yk2",
                Some((2, "Amazon Web Services:alice@x")),
            ),
            device(
                "alice",
                "arn:aws:iam::123456789012:u2f/user/alice/key",
                None,
            ),
        ],
        others: vec![
            (
                "bob".into(),
                Devices::Listed(vec![device("bob", "bob-yk9", Some((9, &aws("bob"))))]),
            ),
            ("carol".into(), Devices::NoSuchUser),
            ("dave".into(), Devices::Denied),
        ],
        tags_denied: false,
        tokens: vec![token(1, Some(&names))],
    };
    let status = build(&facts);

    // The user's devices: one on token 1, one on a token that is not connected, one FIDO key.
    let d = &status.devices;
    assert_eq!(d.len(), 3);
    assert_eq!(d[0].kind, DeviceType::Virtual);
    assert_eq!(d[0].enable_date.as_deref(), Some("2023-11-14T22:13:20Z"));
    assert!(d[0].tagged);
    assert!(
        matches!(&d[0].place, Some(Place::OnToken(l)) if l.token.serial == Some(Serial(1))),
        "{:?}",
        d[0].place
    );
    assert_eq!(d[0].fix, None);
    assert!(
        matches!(
            &d[1].place,
            Some(Place::NotConnected {
                token_serial: Some(Serial(2)),
                ..
            })
        ),
        "{:?}",
        d[1].place
    );
    assert_eq!(d[1].fix.as_deref(), Some("connect token 2 to use it"));
    assert_eq!(d[2].kind, DeviceType::U2f);
    assert_eq!(d[2].place, None);
    assert_eq!(d[2].fix, None);

    // Every AWS credential on the token, judged; GitHub's is only counted.
    let t = &status.tokens[0];
    assert!(!t.locked);
    assert_eq!(t.other_credentials, Some(1));
    let verdicts: Vec<(&str, &Verdict, Option<&str>)> = t
        .credentials
        .as_ref()
        .unwrap()
        .iter()
        .map(|c| (c.name.as_str(), &c.state, c.user.as_deref()))
        .collect();
    assert_eq!(
        verdicts,
        [
            (alice.as_str(), &Verdict::Paired, Some("alice")),
            (aws("bob").as_str(), &Verdict::Stale, Some("bob")),
            (aws("carol").as_str(), &Verdict::Stale, Some("carol")),
            (aws("dave").as_str(), &Verdict::Unchecked, Some("dave")),
            (
                "Amazon Web Services:eve@999999999999",
                &Verdict::Unchecked,
                Some("eve")
            ),
            (aws("root").as_str(), &Verdict::Unchecked, Some("root")),
            ("Amazon Web Services:alice-old", &Verdict::Unchecked, None),
            (
                "Amazon Web Services:alice@my-alias",
                &Verdict::Stale,
                Some("alice")
            ),
        ]
    );
    let rows = t.credentials.as_ref().unwrap();
    assert_eq!(
        rows[0].devices,
        [format!("arn:aws:iam::{ACCOUNT}:mfa/alice-yk1")]
    );
    assert_eq!(
        rows[1].fix.as_deref(),
        Some("ykman --device 1 oath accounts delete 'Amazon Web Services:bob@123456789012'")
    );
    assert!(rows[1]
        .reason
        .as_deref()
        .unwrap()
        .contains("no MFA device of bob"));
    assert!(rows[2]
        .reason
        .as_deref()
        .unwrap()
        .contains("carol no longer exists"));
    assert!(rows[3].reason.as_deref().unwrap().contains("denied"));
    assert_eq!(rows[3].fix, None);
    assert!(rows[4]
        .reason
        .as_deref()
        .unwrap()
        .contains("another account (999999999999)"));
    assert!(rows[5].reason.as_deref().unwrap().contains("root"));
    assert_eq!(status.stale(), 3);
}

#[test]
fn a_deleted_credential_and_a_locked_token() {
    let alice = aws("alice");
    let facts = Facts {
        account: ACCOUNT.into(),
        user: "alice".into(),
        devices: vec![
            device("alice", "alice-yk1", Some((1, &alice))),
            device("alice", "alice-yk2", Some((2, &alice))),
        ],
        tokens: vec![token(1, Some(&["GitHub:alice"])), token(2, None)],
        ..Facts::default()
    };
    let status = build(&facts);
    let gone = &status.devices[0];
    assert!(
        matches!(&gone.place, Some(Place::Gone { .. })),
        "{:?}",
        gone.place
    );
    assert_eq!(
        gone.fix.as_deref(),
        Some("its credential is gone, so no code can be made: remove the device and enroll again: ykmfa revoke --user alice --device arn:aws:iam::123456789012:mfa/alice-yk1, then ykmfa enroll --user alice")
    );
    let locked = &status.devices[1];
    assert!(
        matches!(&locked.place, Some(Place::Unknown { .. })),
        "{:?}",
        locked.place
    );
    assert!(locked.fix.as_deref().unwrap().contains("--oath-password"));
    assert_eq!(status.tokens[0].credentials, Some(vec![]));
    assert!(status.tokens[1].locked);
    assert_eq!(status.tokens[1].credentials, None);
    assert_eq!(status.tokens[1].other_credentials, None);
    assert_eq!(status.stale(), 0);
}

#[test]
fn an_untagged_device_pairs_by_label_and_the_json_is_stable() {
    let alice = aws("alice");
    let facts = Facts {
        account: ACCOUNT.into(),
        user: "alice".into(),
        devices: vec![device("alice", "alice", None)],
        tokens: vec![token(7, Some(&[&alice]))],
        ..Facts::default()
    };
    let status = build(&facts);
    let json = serde_json::to_value(&status).unwrap();
    assert_eq!(
        json["devices"][0],
        serde_json::json!({
            "serial": "arn:aws:iam::123456789012:mfa/alice",
            "type": "virtual",
            "enable_date": "2023-11-14T22:13:20Z",
            "tagged": false,
            "place": {
                "state": "on_token",
                "token": {"serial": 7, "kind": "yubikey", "reader": "Reader 7"},
                "credential": alice,
                "touch": null,
                "matched_by": "label",
            },
            "fix": null,
            "device_kind": "virtual",
        })
    );
    assert_eq!(
        json["tokens"][0],
        serde_json::json!({
            "serial": 7, "kind": "yubikey", "reader": "Reader 7", "locked": false,
            "credentials": [{
                "name": alice, "state": "paired",
                "devices": ["arn:aws:iam::123456789012:mfa/alice"],
                "user": "alice", "reason": null, "fix": null,
            }],
            "other_credentials": 0,
        })
    );
}

#[test]
fn dates_are_rfc3339_utc() {
    let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_750);
    assert_eq!(rfc3339(t).as_deref(), Some("2023-11-14T22:13:20Z"));
}

#[tokio::test]
async fn whom_status_shows_the_user_named_else_the_caller() {
    use crate::mfa::fakes::{FakeClock, FakeDirectory, T0};
    let dir = FakeDirectory::new(FakeClock::fixed(T0), &["alice", "admin"]);
    let alice = UserName::parse("alice").unwrap();
    assert_eq!(mine(&dir, Some(&alice)).await.unwrap().user(), "alice");
    // The fake's caller is the IAM user admin.
    let me = mine(&dir, None).await.unwrap();
    assert_eq!((me.user(), me.account()), ("admin", ACCOUNT));
    // A missing user is named with the account it is missing from, even when only its name
    // was given (STS then names the account).
    let carol = UserName::parse("carol").unwrap();
    match mine(&dir, Some(&carol)).await {
        Err(Error::NoSuchUser { user, account }) => {
            assert_eq!((&*user, &*account), ("carol", ACCOUNT))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn only_an_iam_user_is_shown_without_a_name() {
    let who = |arn: &str| CallerIdentity {
        account: ACCOUNT.into(),
        arn: arn.into(),
        user_id: "AIDAFAKE".into(),
    };
    let user = who("arn:aws:iam::123456789012:user/ops/alice");
    assert_eq!(caller(&user).unwrap(), "alice");
    let root = who("arn:aws:iam::123456789012:root");
    assert!(matches!(caller(&root), Err(Error::Root)));
    let role = "arn:aws:sts::123456789012:assumed-role/Admin/alice";
    match caller(&who(role)) {
        Err(Error::NotAUser { arn }) => assert_eq!(arn, role),
        other => panic!("{other:?}"),
    }
}
