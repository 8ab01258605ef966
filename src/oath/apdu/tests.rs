use super::*;

#[test]
fn encodes_short_apdus() {
    let c = Command::new(0xA1, 0, 0, vec![]);
    assert_eq!(&c.to_bytes().expect("fits")[..], &[0, 0xA1, 0, 0, 0]);
    let c = Command::select(&[0xA0, 0, 0, 5, 0x27, 0x21, 1]);
    assert_eq!(
        &c.to_bytes().expect("fits")[..],
        &[0, 0xA4, 4, 0, 7, 0xA0, 0, 0, 5, 0x27, 0x21, 1, 0]
    );
}

#[test]
fn refuses_data_longer_than_a_short_apdu() {
    let c = Command::new(0x01, 0, 0, vec![0; 256]);
    assert!(matches!(c.to_bytes(), Err(Error::CommandTooLong(256))));
}

#[test]
fn sensitive_data_never_reaches_debug_output() {
    let c = Command::secret(0x01, 0, 0, vec![0xDE, 0xAD, 0xBE, 0xEF]);
    let shown = format!("{c:?}");
    assert!(!shown.contains("DEADBEEF"), "{shown}");
    assert!(shown.contains("4 bytes redacted"));
    let c = Command::new(0x02, 0, 0, vec![0xDE, 0xAD]);
    assert!(format!("{c:?}").contains("DEAD"));
}

#[test]
fn splits_data_and_status() {
    let r = Response::parse(&[1, 2, 0x90, 0x00]).expect("valid");
    assert_eq!(r.data, vec![1, 2]);
    assert_eq!(r.sw, StatusWord::Ok);
    assert!(Response::parse(&[0x90]).is_err());
}
