use super::*;
use crate::oath::{OathType, Version};

const ACCOUNT: &str = "123456789012";

fn cred(name: &str) -> Credential {
    Credential {
        id: CredentialId::parse(name.as_bytes(), OathType::Totp),
        raw_id: name.as_bytes().to_vec(),
        oath_type: OathType::Totp,
        algorithm: None,
        touch: None,
    }
}

fn token(serial: u32, reader: &str, names: &[&str]) -> Token {
    Token {
        reader: reader.into(),
        kind: Kind::YubiKey,
        serial: Some(Serial(serial)),
        firmware: Some(Version(5, 4, 3)),
        oath_version: Version(5, 4, 3),
        device_id: format!("id{serial}"),
        password: false,
        credentials: Some(names.len()),
        capacity: Some(32),
        model: None,
        fips: false,
        listed: Some(names.iter().map(|n| cred(n)).collect()),
    }
}

fn locked(serial: u32, reader: &str) -> Token {
    Token {
        password: true,
        credentials: None,
        model: None,
        fips: false,
        listed: None,
        ..token(serial, reader, &[])
    }
}

fn device(name: &str, user: &str, tags: &[(&str, &str)]) -> Device {
    Device::new(
        MfaDevice {
            user: Some(user.into()),
            serial: format!("arn:aws:iam::{ACCOUNT}:mfa/{name}"),
            enable_date: None,
        },
        tags.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

fn tagged(name: &str, user: &str, serial: &str, credential: &str) -> Device {
    device(
        name,
        user,
        &[
            (TAG_TOKEN_SERIAL, serial),
            (TAG_CREDENTIAL, credential),
            ("ykmfa:token-kind", "YubiKey"),
        ],
    )
}

fn alice_label() -> String {
    format!("Amazon Web Services:alice@{ACCOUNT}")
}

fn on(p: &Paired) -> (Option<Serial>, String, MatchedBy) {
    let l = p
        .location()
        .unwrap_or_else(|| panic!("not on a token: {:?}", p.place));
    (l.token.serial, l.credential.to_string(), l.matched_by)
}

#[test]
fn tags_find_the_credential_on_the_named_token() {
    // Same name on two tokens: the tag's serial decides.
    let label = alice_label();
    let tokens = [token(1, "r1", &[&label]), token(2, "r2", &[&label])];
    let devices = [tagged("alice-2", "alice", "2", &label)];
    let p = pair(&devices, &tokens, None, None);
    assert_eq!(
        on(&p.devices[0]),
        (Some(Serial(2)), label.clone(), MatchedBy::Tags)
    );
    assert!(p.devices[0].tagged);
    // The credential on token 1 is claimed by nobody given: stale, with its owner.
    assert_eq!(p.stale.len(), 1);
    assert_eq!(p.stale[0].token.serial, Some(Serial(1)));
    assert_eq!(
        p.stale[0].owner,
        Some(Owner {
            user: "alice".into(),
            account: ACCOUNT.into()
        })
    );
    assert_eq!(p.on_token(Serial(2)).count(), 1);
    assert_eq!(p.on_token(Serial(1)).count(), 0);
}

#[test]
fn tagged_credential_missing_from_its_present_token_is_gone() {
    let tokens = [token(7, "r", &["Other:thing"])];
    let devices = [tagged("alice-7", "alice", "7", &alice_label())];
    let p = pair(&devices, &tokens, None, None);
    match &p.devices[0].place {
        Place::Gone { token, credential } => {
            assert_eq!(token.serial, Some(Serial(7)));
            assert_eq!(*credential, alice_label());
        }
        other => panic!("{other:?}"),
    }
    assert!(p.stale.is_empty(), "a non-AWS credential is never stale");
}

#[test]
fn tags_are_authoritative_over_labels() {
    // The tags name token 9, which is absent; the default label on token 1 is not used.
    let label = alice_label();
    let tokens = [token(1, "r", &[&label])];
    let devices = [tagged("alice-9", "alice", "9", &label)];
    let p = pair(&devices, &tokens, None, None);
    assert_eq!(
        p.devices[0].place,
        Place::NotConnected {
            token_serial: Some(Serial(9)),
            credential: Some(label)
        }
    );
    assert_eq!(p.stale.len(), 1);
}

#[test]
fn untagged_device_matches_default_label_by_alias_or_account() {
    let tokens = [token(
        1,
        "r",
        &[
            "Amazon Web Services:bob@corp",
            &alice_label(),
            "GitHub:alice",
        ],
    )];
    let devices = [
        device("alice", "alice", &[]),
        device("bob", "bob", &[]),
        device("carol", "carol", &[]),
    ];
    let p = pair(&devices, &tokens, Some("corp"), None);
    assert_eq!(
        on(&p.devices[0]),
        (Some(Serial(1)), alice_label(), MatchedBy::Label)
    );
    assert_eq!(
        on(&p.devices[1]),
        (
            Some(Serial(1)),
            "Amazon Web Services:bob@corp".into(),
            MatchedBy::Label
        )
    );
    assert!(!p.devices[0].tagged);
    assert_eq!(
        p.devices[2].place,
        Place::NotConnected {
            token_serial: None,
            credential: None
        }
    );
    assert!(p.stale.is_empty());
}

#[test]
fn a_label_yields_to_tags() {
    // An untagged older device with the default name, and the tagged device enroll made:
    // the credential is the tagged one's (enroll never writes over a name).
    let label = alice_label();
    let tokens = [token(1, "r", &[&label])];
    let devices = [
        device("alice-old", "alice", &[]),
        tagged("alice-1", "alice", "1", &label),
    ];
    let p = pair(&devices, &tokens, None, None);
    assert_eq!(on(&p.devices[1]), (Some(Serial(1)), label, MatchedBy::Tags));
    assert!(matches!(p.devices[0].place, Place::NotConnected { .. }));
}

#[test]
fn label_on_two_tokens_is_ambiguous() {
    let label = alice_label();
    let tokens = [token(1, "r1", &[&label]), token(2, "r2", &[&label])];
    let p = pair(&[device("alice", "alice", &[])], &tokens, None, None);
    match &p.devices[0].place {
        Place::Ambiguous { candidates, rivals } => {
            assert_eq!(candidates.len(), 2);
            assert!(rivals.is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert!(p.stale.is_empty(), "candidates are not stale");
}

#[test]
fn two_devices_claiming_one_credential_are_ambiguous_until_one_is_named() {
    // Re-enrolled with the same name: the old device's tags still point at the credential.
    let label = alice_label();
    let tokens = [token(1, "r", &[&label])];
    let devices = [
        tagged("alice-old", "alice", "1", &label),
        tagged("alice-new", "alice", "1", &label),
    ];
    let p = pair(&devices, &tokens, None, None);
    for (i, d) in p.devices.iter().enumerate() {
        match &d.place {
            Place::Ambiguous { candidates, rivals } => {
                assert_eq!(candidates.len(), 1);
                assert_eq!(rivals, &[devices[1 - i].device.serial.clone()]);
            }
            other => panic!("{other:?}"),
        }
    }

    let pick = Explicit {
        device: devices[1].device.serial.clone(),
        credential: None,
    };
    let p = pair(&devices, &tokens, None, Some(&pick));
    assert_eq!(
        on(&p.devices[1]),
        (Some(Serial(1)), label, MatchedBy::Explicit)
    );
    assert!(matches!(p.devices[0].place, Place::Ambiguous { .. }));
}

#[test]
fn explicit_credential_name_pairs_a_device_with_any_label() {
    let tokens = [token(3, "r", &["Work:alice"])];
    let devices = [device("alice", "alice", &[])];
    let pick = Explicit {
        device: devices[0].device.serial.clone(),
        credential: Some("Work:alice".into()),
    };
    let p = pair(&devices, &tokens, None, Some(&pick));
    assert_eq!(
        on(&p.devices[0]),
        (Some(Serial(3)), "Work:alice".into(), MatchedBy::Explicit)
    );
    let missing = Explicit {
        credential: Some("Work:nobody".into()),
        ..pick
    };
    let p = pair(&devices, &tokens, None, Some(&missing));
    assert!(matches!(p.devices[0].place, Place::NotConnected { .. }));
}

#[test]
fn locked_tokens_make_places_unknown_not_absent() {
    let label = alice_label();
    let tokens = [locked(5, "r")];
    let devices = [
        tagged("alice-5", "alice", "5", &label),
        tagged("alice-6", "alice", "6", &label),
        device("alice", "alice", &[]),
    ];
    let p = pair(&devices, &tokens, None, None);
    assert!(matches!(&p.devices[0].place, Place::Unknown { locked } if locked.len() == 1));
    assert!(
        matches!(p.devices[1].place, Place::NotConnected { .. }),
        "tags name token 6, not the locked 5"
    );
    assert!(matches!(p.devices[2].place, Place::Unknown { .. }));
    assert_eq!(p.locked.len(), 1);
}

#[test]
fn tag_without_serial_searches_every_token() {
    let label = "AWS:alice@prod".to_owned();
    let tokens = [token(1, "r1", &[]), token(2, "r2", &[&label])];
    let devices = [device("alice", "alice", &[(TAG_CREDENTIAL, &label)])];
    let p = pair(&devices, &tokens, None, None);
    assert_eq!(on(&p.devices[0]), (Some(Serial(2)), label, MatchedBy::Tags));
}

#[test]
fn the_account_of_an_arn() {
    assert_eq!(
        arn_account("arn:aws:iam::123456789012:mfa/x"),
        Some(ACCOUNT)
    );
    assert_eq!(arn_account("arn:aws:iam::12:mfa/x"), None);
}

// ---- ARNs ----

#[test]
fn device_arns_are_checked_before_anything_is_sent() {
    let ok = DeviceArn::parse("arn:aws:iam::123456789012:mfa/team/alice-yk1").expect("valid");
    assert_eq!(ok.account(), ACCOUNT);
    assert_eq!(ok.partition(), "aws");
    assert!(DeviceArn::parse("arn:aws-us-gov:iam::123456789012:mfa/x").is_ok());
    for bad in [
        "",
        "alice-yk1",
        "arn:aws:iam::12345678901:mfa/x",
        "arn:aws:iam::123456789012:mfa/",
        "arn:aws:iam:us-east-1:123456789012:mfa/x",
        "arn:aws:s3::123456789012:mfa/x",
        "arn:aws:iam::123456789012:mfa/has space",
        " arn:aws:iam::123456789012:mfa/x",
    ] {
        let err = DeviceArn::parse(bad).expect_err(bad);
        assert!(matches!(err, ArnError::Malformed(_)), "{bad}: {err:?}");
        assert!(err.to_string().contains(":mfa/NAME"), "{err}");
    }
    for other in [
        "arn:aws:iam::123456789012:user/alice",
        "arn:aws:iam::123456789012:u2f/user/alice/key-1",
    ] {
        assert!(matches!(
            DeviceArn::parse(other),
            Err(ArnError::NotVirtual(_))
        ));
    }
}
