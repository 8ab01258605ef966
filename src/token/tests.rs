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
