use super::*;

#[test]
fn round_trips_every_length_form() {
    for len in [0usize, 1, 0x7F, 0x80, 0xFF, 0x100, 0x1234] {
        let value = vec![0xAB; len];
        let mut buf = Vec::new();
        push(&mut buf, 0x71, &value);
        let tlvs = parse_all(&buf).expect("valid");
        assert_eq!(
            tlvs,
            vec![Tlv {
                tag: 0x71,
                value: &value
            }]
        );
    }
}

#[test]
fn length_forms_are_minimal() {
    let mut buf = Vec::new();
    push(&mut buf, 0x74, &[0; 0x7F]);
    assert_eq!(&buf[..2], &[0x74, 0x7F]);
    buf.clear();
    push(&mut buf, 0x74, &[0; 0x80]);
    assert_eq!(&buf[..3], &[0x74, 0x81, 0x80]);
    buf.clear();
    push(&mut buf, 0x74, &[0; 0x100]);
    assert_eq!(&buf[..4], &[0x74, 0x82, 0x01, 0x00]);
}

#[test]
fn rejects_malformed_input() {
    for bad in [
        &[0x71][..],
        &[0x71, 0x02, 0x00],
        &[0x71, 0x81],
        &[0x71, 0x82, 0x00],
        &[0x71, 0x83, 0, 0, 1],
        &[0x71, 0x81, 0x05, 1, 2],
    ] {
        assert!(parse_all(bad).is_err(), "{bad:02X?}");
    }
}

#[test]
fn iteration_stops_after_the_first_error() {
    let items: Vec<_> = iter(&[0x71, 0x00, 0x72, 0x05]).collect();
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok());
    assert!(items[1].is_err());
}

proptest::proptest! {
    #[test]
    fn never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
        let _ = parse_all(&bytes);
    }
}
