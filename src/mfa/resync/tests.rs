use super::*;
use crate::iam::MfaDevice;
use crate::mfa::pairing::{pair, Device, Explicit};
use crate::oath::{Credential, CredentialId, OathType, Version};
use crate::token::{Kind, Serial, Token};

const ACCOUNT: &str = "123456789012";

fn token(serial: u32, names: Option<&[&str]>) -> Token {
    Token {
        reader: format!("reader {serial}"),
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
        listed: names.map(|n| {
            n.iter()
                .map(|name| Credential {
                    id: CredentialId::parse(name.as_bytes(), OathType::Totp),
                    raw_id: name.as_bytes().to_vec(),
                    oath_type: OathType::Totp,
                    algorithm: None,
                    touch: None,
                })
                .collect()
        }),
    }
}

fn device(name: &str, tags: &[(&str, &str)]) -> Device {
    Device::new(
        MfaDevice {
            user: Some("alice".into()),
            serial: format!("arn:aws:iam::{ACCOUNT}:mfa/{name}"),
            enable_date: None,
        },
        tags.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

fn tagged(name: &str, serial: &str, credential: &str) -> Device {
    device(
        name,
        &[
            ("ykmfa:token-serial", serial),
            ("ykmfa:credential", credential),
        ],
    )
}

const LABEL: &str = "Amazon Web Services:alice@123456789012";

fn choose_among(
    devices: &[Device],
    tokens: &[Token],
    device: Option<&str>,
) -> Result<Chosen, Refusal> {
    let explicit = device.map(|d| Explicit {
        device: d.to_owned(),
        credential: None,
    });
    let p = pair(devices, tokens, None, explicit.as_ref());
    let refs: Vec<TokenRef> = tokens.iter().map(TokenRef::from).collect();
    choose(&p, "alice", device, &refs)
}

#[test]
fn the_one_device_on_the_token_is_chosen() {
    let devices = [
        tagged("alice-yk1", "1", LABEL),
        tagged("alice-yk2", "2", "Amazon Web Services:alice@corp"),
    ];
    let chosen = choose_among(&devices, &[token(1, Some(&[LABEL]))], None).expect("chosen");
    assert_eq!(chosen.device, devices[0].device.serial);
    assert_eq!(chosen.location.token.serial, Some(Serial(1)));
}

#[test]
fn two_devices_on_the_tokens_need_device() {
    let other = "Amazon Web Services:alice@corp";
    let devices = [tagged("a", "1", LABEL), tagged("b", "1", other)];
    let tokens = [token(1, Some(&[LABEL, other]))];
    match choose_among(&devices, &tokens, None) {
        Err(Refusal::SeveralDevices { devices: d, .. }) => assert_eq!(d.len(), 2),
        other => panic!("{other:?}"),
    }
    let arn = devices[1].device.serial.clone();
    let chosen = choose_among(&devices, &tokens, Some(&arn)).expect("chosen");
    assert_eq!(chosen.location.credential.to_string(), other);
}

#[test]
fn a_credential_gone_from_its_token_is_said_so() {
    let devices = [tagged("a", "1", LABEL), tagged("b", "9", "AWS:x")];
    match choose_among(&devices, &[token(1, Some(&["GitHub:alice"]))], None) {
        Err(Refusal::CredentialGone {
            device,
            credential,
            token,
        }) => {
            assert!(device.ends_with("mfa/a"));
            assert_eq!(credential, LABEL);
            assert_eq!(token.serial, Some(Serial(1)));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_locked_token_is_reported_not_guessed_around() {
    let devices = [tagged("a", "1", LABEL)];
    assert!(matches!(
        choose_among(&devices, &[token(1, None)], None),
        Err(Refusal::Locked { .. })
    ));
}

#[test]
fn nothing_on_the_tokens_names_the_devices() {
    let devices = [tagged("a", "7", LABEL), device("b", &[])];
    match choose_among(&devices, &[token(1, Some(&[]))], None) {
        Err(Refusal::NotOnToken {
            devices, tokens, ..
        }) => {
            assert_eq!(devices.len(), 2);
            assert_eq!(tokens, "YubiKey 1");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        choose_among(&devices, &[], None),
        Err(Refusal::NoToken),
        "no token at all"
    );
}

#[test]
fn a_device_not_of_the_user_is_refused() {
    let devices = [tagged("a", "1", LABEL)];
    let stranger = format!("arn:aws:iam::{ACCOUNT}:mfa/bob");
    assert!(matches!(
        choose_among(&devices, &[token(1, Some(&[LABEL]))], Some(&stranger)),
        Err(Refusal::NotUsersDevice { .. })
    ));
}

#[test]
fn ambiguity_is_refused_with_the_candidates() {
    let devices = [device("a", &[])];
    let tokens = [token(1, Some(&[LABEL])), token(2, Some(&[LABEL]))];
    match choose_among(&devices, &tokens, None) {
        Err(Refusal::Ambiguous { candidates, .. }) => assert_eq!(candidates.len(), 2),
        other => panic!("{other:?}"),
    }
}
