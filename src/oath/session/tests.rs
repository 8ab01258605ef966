use super::*;
use crate::oath::apdu::hex;
use crate::seed::Seed;
use crate::transport::TransportError;

/// A card played by a closure: enough to pin exact encodings and odd answers.
struct Scripted<F: FnMut(&[u8]) -> Vec<u8>>(F, Vec<Vec<u8>>);

impl<F: FnMut(&[u8]) -> Vec<u8>> Transport for Scripted<F> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.1.push(command.to_vec());
        Ok((self.0)(command))
    }
}

fn ok(data: &[u8]) -> Vec<u8> {
    let mut v = data.to_vec();
    v.extend_from_slice(&[0x90, 0x00]);
    v
}

const SELECT_UNLOCKED: &[u8] = &[
    0x79, 0x03, 0x05, 0x04, 0x03, // version 5.4.3
    0x71, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, // salt
];

fn card(mut rest: impl FnMut(&[u8]) -> Vec<u8>) -> Scripted<impl FnMut(&[u8]) -> Vec<u8>> {
    Scripted(
        move |c: &[u8]| {
            if c[1] == 0xA4 && c[2] == 0x04 {
                ok(SELECT_UNLOCKED)
            } else {
                rest(c)
            }
        },
        Vec::new(),
    )
}

#[test]
fn select_reads_version_salt_and_device_id() {
    let s = Session::open(card(|_| vec![0x6D, 0x00])).expect("select");
    assert_eq!(s.version(), Version(5, 4, 3));
    assert!(!s.is_locked());
    assert!(!s.has_password());
    assert_eq!(s.vendor(), Vendor::YubiKey);
    // base64(SHA-256(01..08)[..16]) without padding, as ykman shows it.
    assert_eq!(s.device_id(), "ZoQN2hVOihE8Md0K0y9/Og");
}

#[test]
fn select_of_a_token_without_the_applet_is_a_typed_error() {
    let t = Scripted(|_: &[u8]| vec![0x6A, 0x82], Vec::new());
    assert!(matches!(Session::open(t), Err(Error::NoOathApplet)));
}

#[test]
fn a_nitrokey_is_recognised_by_its_serial_tag() {
    let t = Scripted(
        |_: &[u8]| {
            ok(&[
                0x79, 3, 4, 10, 0, 0x71, 8, 0, 0, 0, 0, 0, 0, 0, 1, 0x8F, 4, 0, 0, 0x30, 0x39,
            ])
        },
        Vec::new(),
    );
    let s = Session::open(t).expect("select");
    assert_eq!(s.vendor(), Vendor::Nitrokey);
    assert_eq!(s.serial(), Some(12345));
}

#[test]
fn put_encodes_name_key_touch_and_pads_short_keys() {
    let mut s = Session::open(card(|_| ok(&[]))).expect("select");
    let id = CredentialId::totp(Some("I"), "a").expect("id");
    let mut data = CredentialData::aws_totp(id, Seed::from_bytes(b"0123456789".to_vec()), true);
    data.digits = 6;
    s.put(&data).expect("put");
    let sent = s.into_transport().1;
    let put = &sent[1];
    let mut expected = vec![0x00, 0x01, 0x00, 0x00];
    let mut body = vec![0x71, 0x03, b'I', b':', b'a', 0x73, 16, 0x21, 6];
    body.extend_from_slice(b"0123456789");
    body.extend_from_slice(&[0, 0, 0, 0]); // padded to 14 bytes
    body.extend_from_slice(&[0x78, 0x02]); // touch: tag and value, no length byte
    expected.push(body.len() as u8);
    expected.extend_from_slice(&body);
    expected.push(0x00); // Le
    assert_eq!(hex(put), hex(&expected));
}

#[test]
fn keys_are_built_in_a_buffer_of_their_final_size() {
    // A buffer that grew while being padded has room to spare, and its first allocation went
    // back to the allocator unwiped.
    for len in [1, 10, 13, 14, 20, 64] {
        let key = stored_key(&vec![0x61; len], Algorithm::Sha1);
        assert_eq!(key.len(), len.max(14), "{len}");
        assert_eq!(key.capacity(), key.len(), "{len} bytes");
        assert_eq!(&key[..len], &vec![0x61; len][..]);
        assert!(key[len..].iter().all(|&b| b == 0));
    }
    for (len, algorithm, out) in [
        (65, Algorithm::Sha1, 20),
        (65, Algorithm::Sha256, 32),
        (129, Algorithm::Sha512, 64),
    ] {
        let key = stored_key(&vec![0x61; len], algorithm);
        assert_eq!((key.len(), key.capacity()), (out, out), "{algorithm:?}");
    }
}

#[test]
fn long_keys_are_hashed_first() {
    let key = stored_key(&[0x61; 65], Algorithm::Sha1);
    assert_eq!(key.len(), 20);
    assert_eq!(&key[..], &sha1::Sha1::digest([0x61; 65])[..]);
    assert_eq!(stored_key(&[0x61; 64], Algorithm::Sha1).len(), 64);
    assert_eq!(stored_key(&[0x61; 128], Algorithm::Sha512).len(), 128);
    assert_eq!(stored_key(&[0x61; 129], Algorithm::Sha512).len(), 64);
}

#[test]
fn put_new_refuses_an_existing_name_without_sending_put() {
    let mut s = Session::open(card(|c| match c[1] {
        0xA1 => ok(&[0x72, 0x04, 0x21, b'I', b':', b'a']),
        _ => panic!("nothing but LIST may be sent"),
    }))
    .expect("select");
    let id = CredentialId::totp(Some("I"), "a").expect("id");
    let data = CredentialData::aws_totp(id, Seed::from_bytes(vec![1; 20]), false);
    assert!(matches!(s.put_new(&data), Err(Error::CredentialExists(n)) if n == "I:a"));
}

#[test]
fn old_firmware_prefix_collisions_are_refused() {
    let t = Scripted(
        |c: &[u8]| match c[1] {
            0xA4 => ok(&[0x79, 3, 4, 3, 4, 0x71, 8, 0, 0, 0, 0, 0, 0, 0, 0]),
            0xA1 => ok(&[0x72, 0x03, 0x21, b'a', b'b']),
            _ => panic!("PUT must not be sent"),
        },
        Vec::new(),
    );
    let mut s = Session::open(t).expect("select");
    let data = CredentialData::aws_totp(
        CredentialId::totp(None, "abc").expect("id"),
        Seed::from_bytes(vec![1; 20]),
        false,
    );
    assert!(matches!(
        s.put_new(&data),
        Err(Error::PrefixCollision { .. })
    ));
}

#[test]
fn firmware_gates_are_checked_before_sending() {
    let t = Scripted(
        |c: &[u8]| match c[1] {
            0xA4 => ok(&[0x79, 3, 4, 2, 0, 0x71, 8, 0, 0, 0, 0, 0, 0, 0, 0]),
            _ => panic!("nothing may be sent"),
        },
        Vec::new(),
    );
    let mut s = Session::open(t).expect("select");
    let data = CredentialData::aws_totp(
        CredentialId::totp(None, "x").expect("id"),
        Seed::from_bytes(vec![1; 20]),
        true,
    );
    assert!(matches!(
        s.put(&data),
        Err(Error::NotSupported {
            feature: "requiring touch",
            ..
        })
    ));
    let new = CredentialId::totp(None, "y").expect("id");
    assert!(matches!(
        s.rename(b"x", &new),
        Err(Error::NotSupported { .. })
    ));
}

#[test]
fn status_words_become_typed_errors() {
    let data = || {
        CredentialData::aws_totp(
            CredentialId::totp(None, "x").expect("id"),
            Seed::from_bytes(vec![1; 20]),
            false,
        )
    };
    let mut s = Session::open(card(|_| vec![0x6A, 0x84])).expect("select");
    assert!(matches!(s.put(&data()), Err(Error::NoSpace)));
    let mut s = Session::open(card(|_| vec![0x69, 0x84])).expect("select");
    assert!(matches!(s.delete(b"x"), Err(Error::NoSuchCredential(_))));
    assert!(matches!(
        s.calculate(b"x", TimeStep(1), 30),
        Err(Error::NoSuchCredential(_))
    ));
    let mut s = Session::open(card(|_| vec![0x69, 0x82])).expect("select");
    assert!(matches!(
        s.calculate(b"x", TimeStep(1), 30),
        Err(Error::TouchTimeout)
    ));
    assert!(matches!(s.list(), Err(Error::Locked)));
    let mut s = Session::open(card(|_| vec![0x65, 0x81])).expect("select");
    assert!(matches!(
        s.put(&data()),
        Err(Error::Status {
            operation: "PUT",
            sw: StatusWord::MemoryFailure
        })
    ));
}

#[test]
fn chained_responses_are_fetched_with_send_remaining() {
    let mut part = 0;
    let mut s = Session::open(card(move |c| match (c[1], part) {
        (0xA1, 0) => {
            part = 1;
            vec![0x72, 0x03, 0x21, b'a', 0x61, 0x05]
        }
        (0xA5, 1) => {
            part = 2;
            vec![b'b', 0x72, 0x02, 0x21, 0x61, 0x01]
        }
        (0xA5, 2) => ok(b"c"),
        _ => panic!("unexpected {c:02X?}"),
    }))
    .expect("select");
    let names: Vec<String> = s
        .list()
        .expect("list")
        .into_iter()
        .map(|c| c.id.to_string())
        .collect();
    assert_eq!(names, ["ab", "c"]);
    assert_eq!(s.apdu_count(), 4);
}

#[test]
fn endless_chaining_is_cut_off() {
    let mut s = Session::open(card(|_| {
        let mut v = vec![0u8; 250];
        v.extend_from_slice(&[0x61, 0x00]);
        v
    }))
    .expect("select");
    assert!(matches!(s.list(), Err(Error::Malformed(_))));
}

#[test]
fn endless_chaining_without_data_is_cut_off_too() {
    let mut sent = 0u32;
    let mut s = Session::open(card(move |_| {
        sent += 1;
        assert!(sent < 5000, "the client kept asking");
        vec![0x61, 0x00]
    }))
    .expect("select");
    assert!(matches!(s.list(), Err(Error::Malformed(_))));
    assert_eq!(s.apdu_count(), 1 + 1024);
}

#[test]
fn calculate_sends_the_time_step_big_endian_and_formats_the_code() {
    let mut s = Session::open(card(|c| {
        assert_eq!(c[3], 0x01, "truncated");
        assert_eq!(
            &c[5..],
            &[0x71, 1, b'x', 0x74, 8, 0, 0, 0, 0, 0x03, 0x0F, 0x0F, 0x0F, 0x00]
        );
        ok(&[0x76, 5, 6, 0x4c, 0x93, 0xcf, 0x18])
    }))
    .expect("select");
    let code = s.calculate(b"x", TimeStep(0x030F0F0F), 30).expect("code");
    assert_eq!(code.value, "755224");
}

#[test]
fn calculate_all_reports_touch_and_hotp_without_codes() {
    let mut s = Session::open(card(|_| {
        ok(&[
            0x71, 1, b'a', 0x76, 5, 6, 0, 0, 0, 42, //
            0x71, 1, b'b', 0x7C, 1, 6, //
            0x71, 1, b'c', 0x77, 1, 6,
        ])
    }))
    .expect("select");
    let all = s.calculate_all(59).expect("all");
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].1.as_ref().map(|c| c.value.as_str()), Some("000042"));
    assert_eq!(all[1].0.touch, Some(true));
    assert!(all[1].1.is_none());
    assert_eq!(all[2].0.oath_type, OathType::Hotp);
}

/// A card that implements VALIDATE and SET CODE, to check both sides of the handshake.
fn locked_card(password: &'static str, card_lies: bool) -> Scripted<impl FnMut(&[u8]) -> Vec<u8>> {
    let salt = [9u8; 8];
    let key = auth::derive_key(&Password::new(password.into()), &salt);
    let card_challenge = [7u8; 8];
    Scripted(
        move |c: &[u8]| match c[1] {
            0xA4 => {
                let mut v = vec![0x79, 3, 5, 4, 3, 0x71, 8];
                v.extend_from_slice(&salt);
                v.extend_from_slice(&[0x74, 8]);
                v.extend_from_slice(&card_challenge);
                v.extend_from_slice(&[0x7B, 1, 0x01]);
                ok(&v)
            }
            0xA3 => {
                let tlvs = tlv::parse_all(&c[5..c.len() - 1]).expect("tlv");
                let response = tlv::find(&tlvs, 0x75).expect("75");
                if response != auth::hmac_sha1(key.as_ref(), &card_challenge) {
                    return vec![0x6A, 0x80];
                }
                let host = tlv::find(&tlvs, 0x74).expect("74");
                let mut proof = auth::hmac_sha1(key.as_ref(), host);
                if card_lies {
                    proof[0] ^= 1;
                }
                let mut v = vec![0x75, 20];
                v.extend_from_slice(&proof);
                ok(&v)
            }
            0xA1 => ok(&[]),
            _ => vec![0x6D, 0x00],
        },
        Vec::new(),
    )
}

#[test]
fn validate_unlocks_with_the_right_password_only() {
    let mut s = Session::open(locked_card("hunter2", false)).expect("select");
    assert!(s.is_locked() && s.has_password());
    assert!(matches!(s.list(), Err(Error::Locked)));
    assert!(matches!(
        s.unlock(&Password::new("wrong".into())),
        Err(Error::WrongPassword)
    ));
    assert!(s.is_locked());
    s.unlock(&Password::new("hunter2".into())).expect("unlock");
    assert!(!s.is_locked());
    assert!(s.list().expect("list").is_empty());
    let sent = s.into_transport().1;
    assert!(
        sent.iter().all(|c| !hex(c).contains(&hex(b"hunter2"))),
        "the password itself never goes to the card"
    );
}

#[test]
fn a_card_that_cannot_prove_the_key_is_rejected() {
    let mut s = Session::open(locked_card("hunter2", true)).expect("select");
    assert!(matches!(
        s.unlock(&Password::new("hunter2".into())),
        Err(Error::CardAuthenticationFailed)
    ));
    assert!(s.is_locked());
}

#[test]
fn set_code_sends_key_challenge_and_proof() {
    let mut s = Session::open(card(|_| ok(&[]))).expect("select");
    s.set_password(&Password::new("pw".into())).expect("set");
    assert!(s.has_password());
    s.clear_password().expect("clear");
    let sent = s.into_transport().1;
    let set = &sent[1];
    assert_eq!(&set[..4], &[0, 0x03, 0, 0]);
    let tlvs = tlv::parse_all(&set[5..set.len() - 1]).expect("tlv");
    let key = auth::derive_key(&Password::new("pw".into()), &[1, 2, 3, 4, 5, 6, 7, 8]);
    let key_field = tlv::find(&tlvs, 0x73).expect("73");
    assert_eq!(key_field[0], 0x21);
    assert_eq!(&key_field[1..], key.as_ref());
    let challenge = tlv::find(&tlvs, 0x74).expect("74");
    assert_eq!(
        tlv::find(&tlvs, 0x75).expect("75"),
        auth::hmac_sha1(key.as_ref(), challenge)
    );
    assert_eq!(&sent[2], &[0, 0x03, 0, 0, 2, 0x73, 0, 0]);
}

#[test]
fn base64_matches_the_standard_alphabet() {
    assert_eq!(base64_unpadded(b""), "");
    assert_eq!(base64_unpadded(b"f"), "Zg");
    assert_eq!(base64_unpadded(b"fo"), "Zm8");
    assert_eq!(base64_unpadded(b"foo"), "Zm9v");
    assert_eq!(base64_unpadded(&[0xFF, 0xFE]), "//4");
}

proptest::proptest! {
    /// Whatever a card answers, the session returns a value or an error, never panics.
    #[test]
    fn hostile_answers_never_panic(answer in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
        let a = answer.clone();
        let mut s = match Session::open(Scripted(move |_: &[u8]| a.clone(), Vec::new())) {
            Ok(s) => s,
            Err(_) => return Ok(()),
        };
        let _ = s.list();
        let _ = s.calculate(b"x", TimeStep(1), 30);
        let _ = s.calculate_all(0);
        let _ = s.unlock(&Password::new("x".into()));
    }
}

/// A Secrets App: serial tag in SELECT, 6300 for a wrong PIN, 6982 when a touch does not come.
fn nitrokey(mut rest: impl FnMut(&[u8]) -> Vec<u8>) -> Scripted<impl FnMut(&[u8]) -> Vec<u8>> {
    Scripted(
        move |c: &[u8]| {
            if c[1] == 0xA4 && c[2] == 0x04 {
                ok(&[
                    0x79, 3, 4, 16, 0, 0x71, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0x8F, 4, 0, 0, 0, 1,
                ])
            } else {
                rest(c)
            }
        },
        Vec::new(),
    )
}

#[test]
fn nitrokey_differences_are_typed_before_or_after_sending() {
    let mut s =
        Session::open(nitrokey(|c| panic!("nothing may be sent: {c:02X?}"))).expect("select");
    assert!(matches!(
        s.set_password(&Password::new("pw".into())),
        Err(Error::Unsupported(_))
    ));
    assert!(matches!(s.clear_password(), Err(Error::Unsupported(_))));
    let mut data = CredentialData::aws_totp(
        CredentialId::totp(None, "x").expect("id"),
        Seed::from_bytes(vec![1; 20]),
        false,
    );
    data.algorithm = Algorithm::Sha512;
    assert!(matches!(s.put(&data), Err(Error::Unsupported(_))));

    let mut s = Session::open(nitrokey(|c| match c[1] {
        0xB2 => vec![0x63, 0x00],
        _ => vec![0x69, 0x82],
    }))
    .expect("select");
    assert!(matches!(
        s.verify_pin(&Password::new("0000".into())),
        Err(Error::WrongPassword)
    ));
    assert!(matches!(s.delete(b"x"), Err(Error::TouchTimeout)));
    assert!(matches!(s.reset(), Err(Error::TouchTimeout)));
}
