use super::*;

fn token(serial: u32) -> Token {
    Token {
        reader: format!("Reader {serial}"),
        kind: Kind::YubiKey,
        serial: Some(Serial(serial)),
        firmware: Some(Version(5, 4, 3)),
        oath_version: Version(5, 4, 3),
        device_id: String::new(),
        password: false,
        credentials: Some(3),
        capacity: Some(32),
        model: None,
        fips: false,
        listed: None,
    }
}

#[test]
fn choosing_never_guesses() {
    assert!(matches!(choose(vec![], None), Err(SelectError::NoToken)));
    assert_eq!(
        choose(vec![token(1)], None).expect("one").serial,
        Some(Serial(1))
    );
    let err = choose(vec![token(1), token(2)], None).expect_err("two");
    assert!(matches!(err, SelectError::Ambiguous(_)));
    assert!(err.to_string().contains("YubiKey 1, YubiKey 2"), "{err}");
    assert_eq!(
        choose(vec![token(1), token(2)], Some(Serial(2)))
            .expect("by serial")
            .serial,
        Some(Serial(2))
    );
    let err = choose(vec![token(1)], Some(Serial(9))).expect_err("missing");
    assert!(err.to_string().contains("serial 9"), "{err}");
    // A serial also refuses a single token that doesn't match.
    assert!(choose(vec![token(1)], Some(Serial(2))).is_err());
}

#[test]
fn free_slots() {
    assert_eq!(token(1).free(), Some(29));
    let locked = Token {
        credentials: None,
        ..token(1)
    };
    assert_eq!(locked.free(), None);
}

struct Card(Vec<(Vec<u8>, Vec<u8>)>);
impl Transport for Card {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        let i = self
            .0
            .iter()
            .position(|(c, _)| c == command)
            .expect("scripted command");
        Ok(self.0.remove(i).1)
    }
}

#[test]
fn management_read_config_gives_serial_and_firmware() {
    let mut card = Card(vec![
        (apdu(0xA4, 4, 0, &MANAGEMENT_AID), b"5.4.3\x90\x00".to_vec()),
        (
            apdu(0x1D, 0, 0, &[]),
            vec![
                0x0B, 0x02, 0x04, 0x00, 0xBC, 0x61, 0x4E, 0x05, 0x03, 0x05, 0x04, 0x03, 0x90, 0x00,
            ],
        ),
    ]);
    let info = read_management(&mut card).expect("ok").expect("present");
    assert_eq!(info.serial, Some(Serial(12_345_678)));
    assert_eq!(info.firmware, Some(Version(5, 4, 3)));
}

#[test]
fn a_garbled_management_answer_means_unknown_not_failure() {
    let mut card = Card(vec![
        (apdu(0xA4, 4, 0, &MANAGEMENT_AID), vec![0x90, 0x00]),
        (apdu(0x1D, 0, 0, &[]), vec![0x20, 0x02, 0x09, 0x90, 0x00]),
    ]);
    let info = read_management(&mut card).expect("ok").expect("present");
    assert_eq!(info.serial, None);
}

#[test]
fn the_wait_for_a_token_is_said_in_seconds() {
    let said = insert_prompt(Duration::from_secs(30));
    assert_eq!(said, "Please insert your token (waiting up to 30 s)...");
}

fn info(form_factor: u8, usb: u16, nfc: Option<u16>, version: Version) -> DeviceInfo {
    DeviceInfo {
        serial: Some(Serial(1)),
        firmware: Some(version),
        form_factor,
        usb,
        nfc,
        ..DeviceInfo::default()
    }
}

#[test]
fn models_are_named_as_ykman_names_them() {
    let yk5 = 0x01 | 0x02 | 0x08 | 0x10 | 0x20 | 0x200;
    let v = Version(5, 4, 3);
    assert_eq!(info(0x01, yk5, Some(yk5), v).model(), "YubiKey 5 NFC");
    assert_eq!(info(0x01, yk5, None, v).model(), "YubiKey 5A");
    assert_eq!(info(0x04, yk5, None, v).model(), "YubiKey 5C Nano");
    assert_eq!(info(0x03, yk5, Some(yk5), v).model(), "YubiKey 5C NFC");
    assert_eq!(info(0x05, yk5, None, v).model(), "YubiKey 5Ci");
    let fips = DeviceInfo {
        fips_capable: 0x1F,
        ..info(0x81, yk5, Some(yk5), Version(5, 7, 4))
    };
    assert_eq!(fips.model(), "YubiKey 5 NFC FIPS");
    let bio = info(0x06, 0x02 | 0x10 | 0x200, None, Version(5, 6, 6));
    assert_eq!(bio.model(), "YubiKey Bio - Multi-protocol Edition");
    let bio_fido = info(0x07, 0x02 | 0x200, None, Version(5, 5, 6));
    assert_eq!(bio_fido.model(), "YubiKey C Bio - FIDO Edition");
    let sky = DeviceInfo {
        serial: None,
        ..info(0x41, 0x202, Some(0x202), v)
    };
    assert_eq!(sky.model(), "Security Key NFC");
    assert_eq!(
        info(0x41, 0x202, Some(0x202), v).model(),
        "Security Key NFC - Enterprise Edition"
    );
    assert_eq!(info(0x01, 0, None, Version(3, 5, 0)).model(), "YubiKey NEO");
}

#[test]
fn device_info_reads_form_factor_capabilities_and_fips() {
    let data = [
        0x14, 0x01, 0x02, 0x02, 0x12, 0x04, 0x01, 0x81, 0x05, 0x03, 0x05, 0x07, 0x04, 0x14, 0x02,
        0x00, 0x1F, 0x15, 0x02, 0x00, 0x08,
    ];
    let info = parse_device_info(&data);
    assert_eq!((info.form_factor, info.usb, info.nfc), (0x81, 0x0212, None));
    assert_eq!((info.fips_capable, info.fips_approved), (0x1F, 0x08));
}

#[test]
fn cards_without_oath_are_named_instead_of_asking_for_a_token() {
    let bio = Unusable {
        reader: "r0".into(),
        reason: "x".into(),
        model: Some("YubiKey Bio - Multi-protocol Edition".into()),
        serial: Some(Serial(7)),
        no_oath: true,
    };
    let busy = Unusable::because("r1".into(), "held exclusively by another program");
    let e = without_oath_instead(SelectError::NoToken, vec![bio.clone(), busy.clone()]);
    assert!(matches!(&e, SelectError::NoOath(c) if c.len() == 1), "{e}");
    assert_eq!(
        e.to_string(),
        "the YubiKey Bio - Multi-protocol Edition 7 can't hold TOTP codes: it has no OATH application"
    );
    let wrong = SelectError::NoMatchingSerial {
        wanted: Serial(8),
        present: vec![],
    };
    assert!(matches!(
        without_oath_instead(wrong, vec![bio.clone()]),
        SelectError::NoMatchingSerial { .. }
    ));
    let right = SelectError::NoMatchingSerial {
        wanted: Serial(7),
        present: vec![token(1)],
    };
    assert!(matches!(
        without_oath_instead(right, vec![bio]),
        SelectError::NoOath(_)
    ));
    assert!(matches!(
        without_oath_instead(SelectError::NoToken, vec![busy]),
        SelectError::NoToken
    ));
}

#[test]
fn a_neo_is_not_asked_for_read_config_and_is_deselected() {
    let mut card = Card(vec![
        (apdu(0xA4, 4, 0, &MANAGEMENT_AID), b"3.5.0\x90\x00".to_vec()),
        (vec![0x00, 0xA4, 0x04, 0x00, 0x08], vec![0x67, 0x00]),
    ]);
    assert_eq!(read_management(&mut card).expect("ok"), None);
    assert!(card.0.is_empty(), "the de-select was sent");
}
