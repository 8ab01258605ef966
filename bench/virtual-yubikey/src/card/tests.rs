//! The APDU handler end to end, in process: what a host sends, what it gets back.

use super::*;
use crate::profile::Profile;
use crate::tlv;
use sha1::Sha1;

const SELECT_OATH: &[u8] = &[
    0x00, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0x00, 0x00, 0x05, 0x27, 0x21, 0x01,
];
const SELECT_MGMT: &[u8] = &[
    0x00, 0xA4, 0x04, 0x00, 0x08, 0xA0, 0x00, 0x00, 0x05, 0x27, 0x47, 0x11, 0x17,
];
const SELECT_OTP: &[u8] = &[
    0x00, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0x00, 0x00, 0x05, 0x27, 0x20, 0x01,
];
const SELECT_PIV: &[u8] = &[0x00, 0xA4, 0x04, 0x00, 0x05, 0xA0, 0x00, 0x00, 0x03, 0x08];

const RFC_SECRET: &[u8] = b"12345678901234567890";
const TOTP: u8 = 0x20;
const HOTP: u8 = 0x10;
const SHA1: u8 = 0x01;
const SHA256: u8 = 0x02;
const SHA512: u8 = 0x03;

fn config(version: [u8; 3], capacity: usize, max_response: usize) -> Config {
    Config {
        identity: Identity {
            serial: 12345678,
            version,
            profile: Profile::YubiKey5,
        },
        capacity,
        max_response,
        touch: Touch {
            approve: true,
            delay_ms: 0,
        },
        verbose: false,
    }
}

fn card() -> Card {
    Card::new(config([5, 4, 3], 32, 256))
}

/// A short APDU when the data fits, else an extended one (as ykman sends over USB).
fn apdu(ins: u8, p1: u8, p2: u8, data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x00, ins, p1, p2];
    if data.len() > 255 {
        out.push(0);
        out.extend_from_slice(&(data.len() as u16).to_be_bytes());
        out.extend_from_slice(data);
    } else if !data.is_empty() {
        out.push(data.len() as u8);
        out.extend_from_slice(data);
    }
    out
}

/// Sends and splits the answer into data and status word, with the reply delay.
fn send_timed(card: &mut Card, raw: &[u8]) -> (Vec<u8>, u16, u64) {
    match card.transmit(raw) {
        Outcome::Reply { bytes, delay_ms } => {
            assert!(bytes.len() >= 2, "answer without status word");
            let (data, sw) = bytes.split_at(bytes.len() - 2);
            (data.to_vec(), u16::from_be_bytes([sw[0], sw[1]]), delay_ms)
        }
        Outcome::Remove { .. } => panic!("card removed"),
    }
}

fn send(card: &mut Card, raw: &[u8]) -> (Vec<u8>, u16) {
    let (data, sw, _) = send_timed(card, raw);
    (data, sw)
}

fn put_data(
    name: &[u8],
    type_alg: u8,
    digits: u8,
    secret: &[u8],
    touch: bool,
    imf: Option<u32>,
) -> Vec<u8> {
    // As ykman: secrets padded to 14 bytes.
    let mut key = vec![type_alg, digits];
    key.extend_from_slice(secret);
    while key.len() < 16 {
        key.push(0);
    }
    let mut data = tlv::encode(0x71, name);
    data.extend(tlv::encode(0x73, &key));
    if touch {
        data.extend_from_slice(&[0x78, 0x02]);
    }
    if let Some(counter) = imf {
        data.extend(tlv::encode(0x7A, &counter.to_be_bytes()));
    }
    data
}

fn put(card: &mut Card, name: &str, type_alg: u8, digits: u8, secret: &[u8], touch: bool) -> u16 {
    let data = put_data(name.as_bytes(), type_alg, digits, secret, touch, None);
    send(card, &apdu(0x01, 0, 0, &data)).1
}

fn calculate(card: &mut Card, name: &str, challenge: &[u8], p2: u8) -> (Vec<u8>, u16) {
    let data = [
        tlv::encode(0x71, name.as_bytes()),
        tlv::encode(0x74, challenge),
    ]
    .concat();
    send(card, &apdu(0xA2, 0, p2, &data))
}

/// The code a host reads out of a truncated `76` answer.
fn code(tlv_bytes: &[u8]) -> String {
    let value = tlv::find(tlv_bytes, 0x76).expect("truncated response");
    let digits = usize::from(value[0]);
    let n = (u32::from_be_bytes(value[1..5].try_into().unwrap()) & 0x7FFF_FFFF) as u64
        % 10u64.pow(digits as u32);
    format!("{n:0digits$}")
}

fn step(t: u64) -> [u8; 8] {
    (t / 30).to_be_bytes()
}

fn list_names(card: &mut Card) -> Vec<(u8, Vec<u8>)> {
    let (data, sw) = send(card, &apdu(0xA1, 0, 0, &[]));
    assert_eq!(sw, 0x9000);
    let mut r = tlv::Reader::new(&data);
    let mut out = Vec::new();
    while !r.is_empty() {
        let (tag, value) = r.next_tlv().unwrap();
        assert_eq!(tag, 0x72);
        out.push((value[0], value[1..].to_vec()));
    }
    out
}

fn salt(card: &mut Card) -> Vec<u8> {
    let (data, sw) = send(card, SELECT_OATH);
    assert_eq!(sw, 0x9000);
    tlv::find(&data, 0x71).unwrap().to_vec()
}

fn derive(password: &str, salt: &[u8]) -> [u8; 16] {
    let mut key = [0u8; 16];
    pbkdf2::pbkdf2_hmac::<Sha1>(password.as_bytes(), salt, 1000, &mut key);
    key
}

fn set_code(card: &mut Card, key: &[u8]) -> u16 {
    let challenge = [9u8; 8];
    let mut k = vec![0x21];
    k.extend_from_slice(key);
    let data = [
        tlv::encode(0x73, &k),
        tlv::encode(0x74, &challenge),
        tlv::encode(0x75, &Algorithm::Sha1.hmac(key, &challenge)),
    ]
    .concat();
    send(card, &apdu(0x03, 0, 0, &data)).1
}

fn validate(card: &mut Card, key: &[u8], card_challenge: &[u8]) -> (Vec<u8>, u16) {
    let host_challenge = [7u8; 8];
    let data = [
        tlv::encode(0x75, &Algorithm::Sha1.hmac(key, card_challenge)),
        tlv::encode(0x74, &host_challenge),
    ]
    .concat();
    let (resp, sw) = send(card, &apdu(0xA3, 0, 0, &data));
    if sw == 0x9000 {
        assert_eq!(
            tlv::find(&resp, 0x75).unwrap(),
            &Algorithm::Sha1.hmac(key, &host_challenge)[..],
            "card's proof"
        );
    }
    (resp, sw)
}

use crate::crypto::Algorithm;

#[test]
fn select_oath_reports_version_and_fixed_salt() {
    let mut card = card();
    let (data, sw) = send(&mut card, SELECT_OATH);
    assert_eq!(sw, 0x9000);
    assert_eq!(&data[..5], &[0x79, 0x03, 5, 4, 3]);
    assert_eq!(tlv::find(&data, 0x71).unwrap().len(), 8);
    assert_eq!(tlv::find(&data, 0x74), None);
    assert_eq!(tlv::find(&data, 0x7B), None);
    // Same salt on every SELECT, and for the same serial on another run.
    let again = salt(&mut card);
    assert_eq!(tlv::find(&data, 0x71).unwrap(), &again[..]);
    assert_eq!(salt(&mut Card::new(config([5, 4, 3], 32, 256))), again);
}

#[test]
fn put_list_delete() {
    let mut card = card();
    send(&mut card, SELECT_OATH);
    assert_eq!(
        put(
            &mut card,
            "Amazon Web Services:alice@123",
            TOTP | SHA1,
            6,
            b"0123456789abcdef",
            false
        ),
        0x9000
    );
    assert_eq!(
        put(
            &mut card,
            "60/x:y",
            TOTP | SHA256,
            8,
            b"0123456789abcdef",
            false
        ),
        0x9000
    );
    assert_eq!(
        put(
            &mut card,
            "ctr",
            HOTP | SHA512,
            6,
            b"0123456789abcdef",
            false
        ),
        0x9000
    );
    let list = list_names(&mut card);
    assert_eq!(
        list,
        vec![
            (0x21, b"Amazon Web Services:alice@123".to_vec()),
            (0x22, b"60/x:y".to_vec()),
            (0x13, b"ctr".to_vec()),
        ]
    );
    let del = tlv::encode(0x71, b"60/x:y");
    assert_eq!(send(&mut card, &apdu(0x02, 0, 0, &del)).1, 0x9000);
    assert_eq!(send(&mut card, &apdu(0x02, 0, 0, &del)).1, 0x6984);
    assert_eq!(list_names(&mut card).len(), 2);
    assert_eq!(send(&mut card, &apdu(0x02, 0, 0, &[])).1, 0x6A80);
}

#[test]
fn put_overwrites_an_existing_name_in_place() {
    let mut card = card();
    send(&mut card, SELECT_OATH);
    put(&mut card, "a", TOTP | SHA1, 6, b"first secret 0001", false);
    put(&mut card, "b", TOTP | SHA1, 6, b"second secret 001", false);
    let before = card.dump()["credentials"][0]["key_fingerprint"].clone();
    assert_eq!(
        put(&mut card, "a", TOTP | SHA1, 8, RFC_SECRET, false),
        0x9000
    );
    let dump = card.dump();
    assert_eq!(dump["credentials"].as_array().unwrap().len(), 2);
    assert_eq!(dump["credentials"][0]["name"], "a");
    assert_eq!(dump["credentials"][0]["digits"], 8);
    assert_ne!(dump["credentials"][0]["key_fingerprint"], before);
    let (data, _) = calculate(&mut card, "a", &step(59), 1);
    assert_eq!(code(&data), "94287082");
}

#[test]
fn put_validates_its_data() {
    let mut card = card();
    send(&mut card, SELECT_OATH);
    let long = "n".repeat(65);
    assert_eq!(
        put(&mut card, &long, TOTP | SHA1, 6, RFC_SECRET, false),
        0x6A80
    );
    assert_eq!(
        put(
            &mut card,
            &"n".repeat(64),
            TOTP | SHA1,
            6,
            RFC_SECRET,
            false
        ),
        0x9000
    );
    assert_eq!(
        put(&mut card, "t", 0x30 | SHA1, 6, RFC_SECRET, false),
        0x6A80
    );
    assert_eq!(
        put(&mut card, "t", TOTP | 0x04, 6, RFC_SECRET, false),
        0x6A80
    );
    assert_eq!(
        put(&mut card, "t", TOTP | SHA1, 9, RFC_SECRET, false),
        0x6A80
    );
    assert_eq!(
        put(&mut card, "t", TOTP | SHA1, 6, &[1u8; 65], false),
        0x6A80
    );
    assert_eq!(
        put(&mut card, "t", TOTP | SHA512, 6, &[1u8; 128], false),
        0x9000
    );
    // Unpadded secret shorter than 14 bytes.
    let mut data = tlv::encode(0x71, b"s");
    data.extend(tlv::encode(0x73, &[0x21, 6, 1, 2, 3]));
    assert_eq!(send(&mut card, &apdu(0x01, 0, 0, &data)).1, 0x6A80);
    // Missing key, trailing garbage, truncated property.
    assert_eq!(
        send(&mut card, &apdu(0x01, 0, 0, &tlv::encode(0x71, b"s"))).1,
        0x6A80
    );
    let mut data = put_data(b"s", 0x21, 6, RFC_SECRET, false, None);
    data.extend_from_slice(&[0x99, 0x01, 0x00]);
    assert_eq!(send(&mut card, &apdu(0x01, 0, 0, &data)).1, 0x6A80);
    let mut data = put_data(b"s", 0x21, 6, RFC_SECRET, false, None);
    data.push(0x78);
    assert_eq!(send(&mut card, &apdu(0x01, 0, 0, &data)).1, 0x6A80);
    assert_eq!(list_names(&mut card).len(), 2);
}

#[test]
fn hotp_rfc4226_vectors_and_counter() {
    let mut card = card();
    send(&mut card, SELECT_OATH);
    put(&mut card, "hotp", HOTP | SHA1, 6, RFC_SECRET, false);
    let expected = [
        "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871",
        "520489",
    ];
    for (i, want) in expected.iter().enumerate() {
        // The challenge is ignored for HOTP.
        let (data, sw) = calculate(&mut card, "hotp", &[0xEE; 8], 1);
        assert_eq!(sw, 0x9000);
        assert_eq!(&code(&data), want, "counter {i}");
    }
    assert_eq!(card.dump()["credentials"][0]["counter"], 10);
    // An initial counter through IMF.
    let data = put_data(b"imf", HOTP | SHA1, 6, RFC_SECRET, false, Some(7));
    assert_eq!(send(&mut card, &apdu(0x01, 0, 0, &data)).1, 0x9000);
    assert_eq!(code(&calculate(&mut card, "imf", &[], 1).0), "162583");
}

#[test]
fn totp_rfc6238_vectors() {
    let mut card = card();
    send(&mut card, SELECT_OATH);
    put(&mut card, "s1", TOTP | SHA1, 8, RFC_SECRET, false);
    put(
        &mut card,
        "s256",
        TOTP | SHA256,
        8,
        b"12345678901234567890123456789012",
        false,
    );
    put(
        &mut card,
        "s512",
        TOTP | SHA512,
        8,
        b"1234567890123456789012345678901234567890123456789012345678901234",
        false,
    );
    let vectors: [(u64, &str, &str, &str); 3] = [
        (59, "94287082", "46119246", "90693936"),
        (1111111109, "07081804", "68084774", "25091201"),
        (20000000000, "65353130", "77737706", "47863826"),
    ];
    for (t, c1, c256, c512) in vectors {
        assert_eq!(
            code(&calculate(&mut card, "s1", &step(t), 1).0),
            c1,
            "SHA1 T={t}"
        );
        assert_eq!(
            code(&calculate(&mut card, "s256", &step(t), 1).0),
            c256,
            "SHA256 T={t}"
        );
        assert_eq!(
            code(&calculate(&mut card, "s512", &step(t), 1).0),
            c512,
            "SHA512 T={t}"
        );
    }
}

#[test]
fn full_response_is_the_whole_hmac() {
    let mut card = card();
    send(&mut card, SELECT_OATH);
    put(&mut card, "s1", TOTP | SHA1, 6, RFC_SECRET, false);
    let (data, sw) = calculate(&mut card, "s1", &step(59), 0);
    assert_eq!(sw, 0x9000);
    let value = tlv::find(&data, 0x75).unwrap();
    assert_eq!(value[0], 6);
    assert_eq!(
        &value[1..],
        &Algorithm::Sha1.hmac(RFC_SECRET, &step(59))[..]
    );
    assert_eq!(calculate(&mut card, "nope", &step(59), 1).1, 0x6984);
    assert_eq!(calculate(&mut card, "s1", &step(59), 2).1, 0x6B00);
    // No challenge tag at all.
    let data = tlv::encode(0x71, b"s1");
    assert_eq!(send(&mut card, &apdu(0xA2, 0, 1, &data)).1, 0x6A80);
}

#[test]
fn calculate_all_marks_touch_and_hotp() {
    let mut card = card();
    send(&mut card, SELECT_OATH);
    put(&mut card, "totp", TOTP | SHA1, 8, RFC_SECRET, false);
    put(&mut card, "touch", TOTP | SHA1, 6, RFC_SECRET, true);
    put(&mut card, "hotp", HOTP | SHA1, 7, RFC_SECRET, false);
    let (data, sw) = send(&mut card, &apdu(0xA4, 0, 1, &tlv::encode(0x74, &step(59))));
    assert_eq!(sw, 0x9000);
    let mut r = tlv::Reader::new(&data);
    assert_eq!(r.next_tlv(), Some((0x71, &b"totp"[..])));
    let (tag, value) = r.next_tlv().unwrap();
    assert_eq!(tag, 0x76);
    assert_eq!(code(&tlv::encode(0x76, value)), "94287082");
    assert_eq!(r.next_tlv(), Some((0x71, &b"touch"[..])));
    assert_eq!(r.next_tlv(), Some((0x7C, &[6u8][..])));
    assert_eq!(r.next_tlv(), Some((0x71, &b"hotp"[..])));
    assert_eq!(r.next_tlv(), Some((0x77, &[7u8][..])));
    assert!(r.is_empty());
    // HOTP was not advanced.
    assert_eq!(card.dump()["credentials"][2]["counter"], 0);
    // Full responses.
    let (data, _) = send(&mut card, &apdu(0xA4, 0, 0, &tlv::encode(0x74, &step(59))));
    assert_eq!(tlv::find(&data, 0x75).unwrap().len(), 21);
    // No challenge.
    assert_eq!(send(&mut card, &apdu(0xA4, 0, 1, &[])).1, 0x6A80);
}

#[test]
fn long_answers_are_chained_through_send_remaining() {
    let mut card = card();
    send(&mut card, SELECT_OATH);
    for i in 0..20 {
        let name = format!("Amazon Web Services:user-{i:02}@123456789012");
        assert_eq!(
            put(&mut card, &name, TOTP | SHA1, 6, RFC_SECRET, false),
            0x9000
        );
    }
    let (first, sw) = send(&mut card, &apdu(0xA1, 0, 0, &[]));
    assert_eq!(first.len(), 256);
    let total = 20 * (2 + 1 + 40);
    // 604 bytes remain: more than 255, so SW2 is 00.
    assert_eq!(sw, 0x6100);
    let mut all = first;
    loop {
        let (more, sw) = send(&mut card, &apdu(0xA5, 0, 0, &[]));
        assert!(more.len() <= 256);
        all.extend(more);
        if sw == 0x9000 {
            break;
        }
        assert_eq!(sw >> 8, 0x61);
    }
    assert_eq!(all.len(), total);
    assert_eq!(
        tlv::find(&all, 0x72).unwrap()[1..],
        b"Amazon Web Services:user-00@123456789012"[..]
    );
    // Nothing pending any more; and any other command drops what was pending.
    assert_eq!(send(&mut card, &apdu(0xA5, 0, 0, &[])).1, 0x6985);
    send(&mut card, &apdu(0xA4, 0, 1, &tlv::encode(0x74, &step(59))));
    assert_eq!(send(&mut card, &apdu(0xA1, 0, 0, &[])).1 >> 8, 0x61);
    assert_eq!(send(&mut card, SELECT_OATH).1, 0x9000);
    assert_eq!(send(&mut card, &apdu(0xA5, 0, 0, &[])).1, 0x6985);
}

#[test]
fn chaining_threshold_is_configurable_and_counts_61_00_for_256_plus() {
    let mut card = Card::new(config([5, 4, 3], 32, 10));
    send(&mut card, SELECT_OATH);
    put(
        &mut card,
        "a-name-of-twenty-one",
        TOTP | SHA1,
        6,
        RFC_SECRET,
        false,
    );
    let (data, sw) = send(&mut card, &apdu(0xA1, 0, 0, &[]));
    assert_eq!((data.len(), sw), (10, 0x610D));
    let (data, sw) = send(&mut card, &apdu(0xA5, 0, 0, &[]));
    assert_eq!((data.len(), sw), (10, 0x6103));
    let (data, sw) = send(&mut card, &apdu(0xA5, 0, 0, &[]));
    assert_eq!((data.len(), sw), (3, 0x9000));
}

#[test]
fn capacity_is_enforced_but_overwrite_still_works() {
    let mut card = Card::new(config([5, 4, 3], 3, 256));
    send(&mut card, SELECT_OATH);
    for name in ["a", "b", "c"] {
        assert_eq!(
            put(&mut card, name, TOTP | SHA1, 6, RFC_SECRET, false),
            0x9000
        );
    }
    assert_eq!(
        put(&mut card, "d", TOTP | SHA1, 6, RFC_SECRET, false),
        0x6A84
    );
    assert_eq!(
        put(&mut card, "b", HOTP | SHA1, 6, RFC_SECRET, false),
        0x9000
    );
    assert_eq!(list_names(&mut card).len(), 3);
}

#[test]
fn touch_is_needed_for_each_calculate() {
    let mut card = card();
    card.touch = Touch {
        approve: true,
        delay_ms: 1500,
    };
    send(&mut card, SELECT_OATH);
    put(&mut card, "t", HOTP | SHA1, 6, RFC_SECRET, true);
    put(&mut card, "plain", TOTP | SHA1, 6, RFC_SECRET, false);
    let data = [tlv::encode(0x71, b"t"), tlv::encode(0x74, &[])].concat();
    for want in ["755224", "287082"] {
        let (resp, sw, delay) = send_timed(&mut card, &apdu(0xA2, 0, 1, &data));
        assert_eq!((sw, delay), (0x9000, 1500));
        assert_eq!(code(&resp), want);
    }
    // A credential without touch answers at once.
    let plain = [tlv::encode(0x71, b"plain"), tlv::encode(0x74, &step(59))].concat();
    assert_eq!(send_timed(&mut card, &apdu(0xA2, 0, 1, &plain)).2, 0);
    // Refused: 6982 after the wait, and the counter does not move.
    card.touch.approve = false;
    let (_, sw, delay) = send_timed(&mut card, &apdu(0xA2, 0, 1, &data));
    assert_eq!((sw, delay), (0x6982, 1500));
    assert_eq!(card.dump()["credentials"][0]["counter"], 2);
    assert_eq!(card.dump()["credentials"][0]["touch"], true);
}

#[test]
fn password_flow_with_pbkdf2_key() {
    let mut card = card();
    let salt = salt(&mut card);
    put(&mut card, "acct", TOTP | SHA1, 6, RFC_SECRET, false);
    // VALIDATE without a password set.
    assert_eq!(validate(&mut card, &[0; 16], &[0; 8]).1, 0x6984);
    let key = derive("hunter2", &salt);
    // SET CODE whose proof does not match the key.
    let bad = [
        tlv::encode(0x73, &[&[0x21][..], &key[..]].concat()),
        tlv::encode(0x74, &[1; 8]),
        tlv::encode(0x75, &[0; 20]),
    ]
    .concat();
    assert_eq!(send(&mut card, &apdu(0x03, 0, 0, &bad)).1, 0x6984);
    assert_eq!(set_code(&mut card, &key), 0x9000);
    assert_eq!(card.dump()["password_set"], true);
    // The session that set it stays usable.
    assert_eq!(send(&mut card, &apdu(0xA1, 0, 0, &[])).1, 0x9000);

    // A new session is locked.
    let (select, _) = send(&mut card, SELECT_OATH);
    let challenge = tlv::find(&select, 0x74).unwrap().to_vec();
    assert_eq!(challenge.len(), 8);
    assert_eq!(tlv::find(&select, 0x7B), Some(&[0x01u8][..]));
    assert_eq!(tlv::find(&select, 0x71).unwrap(), &salt[..]);
    for (ins, p1, p2, data) in [
        (0xA1u8, 0u8, 0u8, vec![]),
        (0x01, 0, 0, put_data(b"x", 0x21, 6, RFC_SECRET, false, None)),
        (
            0xA2,
            0,
            1,
            [tlv::encode(0x71, b"acct"), tlv::encode(0x74, &step(59))].concat(),
        ),
        (0xA4, 0, 1, tlv::encode(0x74, &step(59))),
        (0x02, 0, 0, tlv::encode(0x71, b"acct")),
        (0x03, 0, 0, tlv::encode(0x73, &[])),
        (
            0x05,
            0,
            0,
            [tlv::encode(0x71, b"acct"), tlv::encode(0x71, b"b")].concat(),
        ),
        (0xA5, 0, 0, vec![]),
    ] {
        assert_eq!(
            send(&mut card, &apdu(ins, p1, p2, &data)).1,
            0x6982,
            "INS {ins:02X}"
        );
    }
    // Wrong password, then the right one.
    let wrong = derive("hunter3", &salt);
    assert_eq!(validate(&mut card, &wrong, &challenge).1, 0x6A80);
    assert_eq!(send(&mut card, &apdu(0xA1, 0, 0, &[])).1, 0x6982);
    assert_eq!(validate(&mut card, &key, &challenge).1, 0x9000);
    assert_eq!(list_names(&mut card).len(), 1);
    assert_eq!(
        code(&calculate(&mut card, "acct", &step(59), 1).0),
        "287082"
    );

    // Power cycle locks again; clear the password after validating.
    card.power_cycle();
    let (select, _) = send(&mut card, SELECT_OATH);
    let challenge = tlv::find(&select, 0x74).unwrap().to_vec();
    assert_eq!(validate(&mut card, &key, &challenge).1, 0x9000);
    assert_eq!(
        send(&mut card, &apdu(0x03, 0, 0, &tlv::encode(0x73, &[]))).1,
        0x9000
    );
    let (select, _) = send(&mut card, SELECT_OATH);
    assert_eq!(tlv::find(&select, 0x74), None);
    assert_eq!(card.dump()["password_set"], false);
}

#[test]
fn reset_works_while_locked_and_changes_the_salt() {
    let mut card = card();
    let old_salt = salt(&mut card);
    put(&mut card, "acct", TOTP | SHA1, 6, RFC_SECRET, false);
    set_code(&mut card, &derive("pw", &old_salt));
    let old_id = card.dump()["oath_device_id"].clone();
    send(&mut card, SELECT_OATH);
    assert_eq!(send(&mut card, &apdu(0x04, 0xDE, 0xAD, &[])).1, 0x9000);
    let new_salt = salt(&mut card);
    assert_ne!(old_salt, new_salt);
    let dump = card.dump();
    assert_ne!(dump["oath_device_id"], old_id);
    assert_eq!(dump["password_set"], false);
    assert_eq!(dump["credentials"], serde_json::json!([]));
    assert_eq!(send(&mut card, &apdu(0x04, 0x00, 0x00, &[])).1, 0x6B00);
}

#[test]
fn oath_device_id_is_what_ykman_computes() {
    let mut card = card();
    let salt = salt(&mut card);
    let digest = crypto::sha256(&salt);
    let id = card.dump()["oath_device_id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 22);
    // Decode the unpadded base64 back to the digest prefix.
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits: u32 = 0;
    let mut n = 0;
    let mut decoded = Vec::new();
    for ch in id.chars() {
        bits = bits << 6 | alphabet.find(ch).unwrap() as u32;
        n += 6;
        if n >= 8 {
            n -= 8;
            decoded.push((bits >> n) as u8);
        }
    }
    assert_eq!(decoded, digest[..16].to_vec());
}

#[test]
fn rename_needs_firmware_5_3_1() {
    let mut card = card();
    send(&mut card, SELECT_OATH);
    put(&mut card, "old", TOTP | SHA1, 6, RFC_SECRET, false);
    put(&mut card, "other", TOTP | SHA1, 6, RFC_SECRET, false);
    let rename = |from: &[u8], to: &[u8]| [tlv::encode(0x71, from), tlv::encode(0x71, to)].concat();
    assert_eq!(
        send(&mut card, &apdu(0x05, 0, 0, &rename(b"old", b"other"))).1,
        0x6A80
    );
    assert_eq!(
        send(&mut card, &apdu(0x05, 0, 0, &rename(b"nope", b"x"))).1,
        0x6984
    );
    assert_eq!(
        send(&mut card, &apdu(0x05, 0, 0, &rename(b"old", b"new"))).1,
        0x9000
    );
    assert_eq!(list_names(&mut card)[0].1, b"new".to_vec());

    let mut older = Card::new(config([5, 2, 7], 32, 256));
    send(&mut older, SELECT_OATH);
    assert_eq!(
        send(&mut older, &apdu(0x05, 0, 0, &rename(b"a", b"b"))).1,
        0x6D00
    );
}

#[test]
fn unknown_things_get_iso_status_words() {
    let mut card = card();
    assert_eq!(send(&mut card, &apdu(0xA1, 0, 0, &[])).1, 0x6D00); // nothing selected
    assert_eq!(
        send(
            &mut card,
            &apdu(0xA4, 4, 0, &[0xA0, 0, 0, 5, 0x27, 0x21, 0x07, 0x01])
        )
        .1,
        0x6A82
    );
    send(&mut card, SELECT_OATH);
    assert_eq!(send(&mut card, &apdu(0x42, 0, 0, &[])).1, 0x6D00);
    assert_eq!(send(&mut card, &[0x80, 0xA1, 0, 0]).1, 0x6E00);
    assert_eq!(send(&mut card, &[0x00, 0xA1]).1, 0x6700);
    assert_eq!(send(&mut card, &[0x00, 0x01, 0, 0, 9, 1]).1, 0x6700);
    // A failed SELECT keeps the applet that was selected.
    assert_eq!(send(&mut card, &apdu(0xA1, 0, 0, &[])).1, 0x9000);
}

#[test]
fn extended_and_chained_commands() {
    let mut card = card();
    send(&mut card, SELECT_OATH);
    // Extended APDU, as ykman sends over USB once it knows the firmware.
    let data = put_data(b"ext", 0x21, 6, RFC_SECRET, false, None);
    let mut raw = vec![0x00, 0x01, 0x00, 0x00, 0x00];
    raw.extend_from_slice(&(data.len() as u16).to_be_bytes());
    raw.extend_from_slice(&data);
    assert_eq!(send(&mut card, &raw).1, 0x9000);
    assert_eq!(send(&mut card, &[0x00, 0xA1, 0x00, 0x00]).1, 0x9000);
    // Command chaining: CLA 10 pieces, executed on the last.
    let data = put_data(b"chained", 0x21, 6, RFC_SECRET, false, None);
    let (a, b) = data.split_at(10);
    let mut first = vec![0x10, 0x01, 0x00, 0x00, a.len() as u8];
    first.extend_from_slice(a);
    assert_eq!(send(&mut card, &first).1, 0x9000);
    assert_eq!(
        list_names(&mut card).len(),
        1,
        "list between pieces drops the chain"
    );
    assert_eq!(send(&mut card, &first).1, 0x9000);
    assert_eq!(send(&mut card, &apdu(0x01, 0, 0, b)).1, 0x9000);
    assert_eq!(list_names(&mut card)[1].1, b"chained".to_vec());
}

#[test]
fn management_answers_what_ykman_parses() {
    let mut card = card();
    let (data, sw) = send(&mut card, SELECT_MGMT);
    assert_eq!((data, sw), (b"5.4.3".to_vec(), 0x9000));
    let (info, sw) = send(&mut card, &apdu(0x1D, 0, 0, &[]));
    assert_eq!(sw, 0x9000);
    assert_eq!(usize::from(info[0]), info.len() - 1);
    let tlvs = &info[1..];
    assert_eq!(tlv::find(tlvs, 0x02), Some(&12345678u32.to_be_bytes()[..]));
    assert_eq!(tlv::find(tlvs, 0x05), Some(&[5u8, 4, 3][..]));
    assert_eq!(tlv::find(tlvs, 0x01), Some(&[0x03u8, 0x3B][..]));
    assert_eq!(tlv::find(tlvs, 0x04), Some(&[0x01u8][..]));
    assert_eq!(send(&mut card, &apdu(0x1C, 0, 0, &[1, 2])).1, 0x6D00);
}

#[test]
fn otp_and_piv_report_serial_and_version() {
    let mut card = card();
    let (status, sw) = send(&mut card, SELECT_OTP);
    assert_eq!((status[..3].to_vec(), sw), (vec![5, 4, 3], 0x9000));
    assert_eq!(
        send(&mut card, &[0x00, 0x01, 0x10, 0x00]).0,
        12345678u32.to_be_bytes().to_vec()
    );
    assert_eq!(send(&mut card, &[0x00, 0x03, 0x00, 0x00]).0.len(), 6);
    let (apt, sw) = send(&mut card, SELECT_PIV);
    assert_eq!((apt[0], sw), (0x61, 0x9000));
    assert_eq!(
        send(&mut card, &[0x00, 0xFD, 0x00, 0x00, 0x00]).0,
        vec![5, 4, 3]
    );
    assert_eq!(
        send(&mut card, &[0x00, 0xF8, 0x00, 0x00, 0x00]).0,
        12345678u32.to_be_bytes().to_vec()
    );
    // The full PIV AID selects it too.
    let full = [
        0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00,
    ];
    assert_eq!(send(&mut card, &apdu(0xA4, 4, 0, &full)).1, 0x9000);
}

#[test]
fn selecting_another_applet_ends_the_oath_session() {
    let mut card = card();
    let salt = salt(&mut card);
    let key = derive("pw", &salt);
    set_code(&mut card, &key);
    let (select, _) = send(&mut card, SELECT_OATH);
    validate(&mut card, &key, tlv::find(&select, 0x74).unwrap());
    assert_eq!(send(&mut card, &apdu(0xA1, 0, 0, &[])).1, 0x9000);
    send(&mut card, SELECT_MGMT);
    let (select, _) = send(&mut card, SELECT_OATH);
    assert!(tlv::find(&select, 0x74).is_some());
    assert_eq!(send(&mut card, &apdu(0xA1, 0, 0, &[])).1, 0x6982);
}

#[test]
fn state_dump_never_holds_a_key() {
    let mut card = card();
    let salt = salt(&mut card);
    put(&mut card, "acct", TOTP | SHA256, 6, RFC_SECRET, false);
    let key = derive("pw", &salt);
    set_code(&mut card, &key);
    let text = card.dump().to_string();
    let mut padded = RFC_SECRET.to_vec();
    padded.resize(20, 0);
    for secret in [&padded[..], &key[..]] {
        assert!(!text.to_uppercase().contains(&hex(secret)));
    }
    assert!(!text.contains("12345678901234567890"));
    let c = &card.dump()["credentials"][0];
    assert_eq!(c["key_fingerprint"], crypto::fingerprint(RFC_SECRET));
    assert_eq!(c["type"], "totp");
    assert_eq!(c["algorithm"], "SHA256");
    assert_eq!(c["name_hex"], "61636374");
}

#[test]
fn generation_moves_only_on_state_changes() {
    let mut card = card();
    let g0 = card.generation();
    send(&mut card, SELECT_OATH);
    send(&mut card, &apdu(0xA1, 0, 0, &[]));
    assert_eq!(card.generation(), g0);
    put(&mut card, "t", TOTP | SHA1, 6, RFC_SECRET, false);
    assert!(card.generation() > g0);
    let g1 = card.generation();
    calculate(&mut card, "t", &step(59), 1);
    assert_eq!(card.generation(), g1);
    put(&mut card, "h", HOTP | SHA1, 6, RFC_SECRET, false);
    let g2 = card.generation();
    calculate(&mut card, "h", &[], 1);
    assert!(card.generation() > g2, "HOTP counter is state");
}

#[test]
fn verbose_log_redacts_secret_bearing_apdus() {
    let data = put_data(b"acct", 0x21, 6, RFC_SECRET, false, None);
    let raw = apdu(0x01, 0, 0, &data);
    let line = log_line(
        &raw,
        "PUT",
        &Outcome::Reply {
            bytes: vec![0x90, 0x00],
            delay_ms: 0,
        },
    );
    assert!(!line.contains(&hex(RFC_SECRET)), "{line}");
    assert!(line.contains("redacted"));
    let raw = apdu(0xA1, 0, 0, &[]);
    let line = log_line(
        &raw,
        "LIST",
        &Outcome::Reply {
            bytes: vec![0x72, 0x01, 0x21, 0x90, 0x00],
            delay_ms: 0,
        },
    );
    assert!(line.ends_with("LIST 00A10000 -> 720121 9000"), "{line}");
    let validate = log_line(
        &[0, 0xA3, 0, 0, 2, 0x75, 0],
        "VALIDATE",
        &Outcome::Reply {
            bytes: vec![0x75, 0x01, 0xAB, 0x90, 0x00],
            delay_ms: 0,
        },
    );
    assert!(!validate.contains("AB"), "{validate}");
}

#[test]
fn stats_tell_select_from_calculate_all() {
    let mut card = card();
    send(&mut card, SELECT_OATH);
    send(&mut card, &apdu(0xA4, 0, 1, &tlv::encode(0x74, &step(59))));
    send(&mut card, &apdu(0xA4, 0, 1, &tlv::encode(0x74, &step(59))));
    send(&mut card, &[0x00]);
    let stats = card.stats_json();
    assert_eq!(stats["total"], 4);
    assert_eq!(stats["by_ins"]["SELECT"], 1);
    assert_eq!(stats["by_ins"]["CALCULATE_ALL"], 2);
    assert_eq!(stats["by_ins"]["MALFORMED"], 1);
}

mod faults {
    use super::*;
    use serde_json::json;

    fn arm(card: &mut Card, spec: serde_json::Value) {
        card.arm(Fault::parse(&spec).unwrap());
    }

    #[test]
    fn status_fault_answers_instead_of_executing() {
        let mut card = card();
        send(&mut card, SELECT_OATH);
        arm(
            &mut card,
            json!({"kind": "status", "sw": "6581", "ins": "PUT"}),
        );
        assert_eq!(
            put(&mut card, "a", TOTP | SHA1, 6, RFC_SECRET, false),
            0x6581
        );
        assert_eq!(list_names(&mut card).len(), 0);
        assert_eq!(
            put(&mut card, "a", TOTP | SHA1, 6, RFC_SECRET, false),
            0x9000
        );
    }

    #[test]
    fn skip_lets_the_first_ones_through() {
        let mut card = card();
        send(&mut card, SELECT_OATH);
        arm(
            &mut card,
            json!({"kind": "status", "sw": 0x6A84, "ins": "PUT", "skip": 1}),
        );
        assert_eq!(
            put(&mut card, "a", TOTP | SHA1, 6, RFC_SECRET, false),
            0x9000
        );
        assert_eq!(
            put(&mut card, "b", TOTP | SHA1, 6, RFC_SECRET, false),
            0x6A84
        );
        assert_eq!(
            put(&mut card, "c", TOTP | SHA1, 6, RFC_SECRET, false),
            0x9000
        );
    }

    #[test]
    fn lie_stores_nothing() {
        let mut card = card();
        send(&mut card, SELECT_OATH);
        arm(&mut card, json!({"kind": "lie", "ins": "PUT"}));
        assert_eq!(
            put(&mut card, "a", TOTP | SHA1, 6, RFC_SECRET, false),
            0x9000
        );
        assert_eq!(list_names(&mut card).len(), 0);
    }

    #[test]
    fn remove_drops_without_answer() {
        let mut card = card();
        send(&mut card, SELECT_OATH);
        arm(
            &mut card,
            json!({"kind": "remove", "ins": "CALCULATE", "reinsert_after_ms": 200}),
        );
        let data = [tlv::encode(0x71, b"a"), tlv::encode(0x74, &step(59))].concat();
        assert_eq!(
            card.transmit(&apdu(0xA2, 0, 1, &data)),
            Outcome::Remove {
                reinsert_after_ms: Some(200)
            }
        );
    }

    #[test]
    fn hostile_answers() {
        let mut card = card();
        send(&mut card, SELECT_OATH);
        put(&mut card, "acct", TOTP | SHA1, 6, RFC_SECRET, false);
        let list = apdu(0xA1, 0, 0, &[]);
        let (good, _) = send(&mut card, &list);

        arm(&mut card, json!({"kind": "truncated_tlv", "ins": "LIST"}));
        let (data, sw) = send(&mut card, &list);
        assert_eq!((data.len(), sw), (good.len() - 1, 0x9000));
        assert!(tlv::Reader::new(&data).next_tlv().is_none());

        arm(&mut card, json!({"kind": "wrong_length", "ins": "LIST"}));
        let (data, _) = send(&mut card, &list);
        assert_eq!(data[1], good[1] + 3);

        arm(
            &mut card,
            json!({"kind": "garbage", "ins": "A1", "len": 5, "sw": "9000"}),
        );
        let (data, sw) = send(&mut card, &list);
        assert_eq!((data.len(), sw), (5, 0x9000));

        arm(&mut card, json!({"kind": "no_sw", "ins": "LIST"}));
        match card.transmit(&list) {
            Outcome::Reply { bytes, .. } => assert_eq!(bytes, good),
            other => panic!("{other:?}"),
        }
        arm(&mut card, json!({"kind": "no_sw", "ins": "DELETE"}));
        match card.transmit(&apdu(0x02, 0, 0, &tlv::encode(0x71, b"zz"))) {
            Outcome::Reply { bytes, .. } => assert_eq!(bytes, vec![0x90]),
            other => panic!("{other:?}"),
        }

        arm(
            &mut card,
            json!({"kind": "delay", "ins": "LIST", "ms": 300}),
        );
        assert_eq!(send_timed(&mut card, &list).2, 300);
        assert_eq!(send(&mut card, &list), (good, 0x9000));
    }

    #[test]
    fn endless_chaining_never_ends_until_another_instruction() {
        let mut card = card();
        send(&mut card, SELECT_OATH);
        put(&mut card, "acct", TOTP | SHA1, 6, RFC_SECRET, false);
        arm(
            &mut card,
            json!({"kind": "endless_chaining", "ins": "LIST"}),
        );
        assert_eq!(send(&mut card, &apdu(0xA1, 0, 0, &[])).1, 0x61FF);
        for _ in 0..100 {
            let (data, sw) = send(&mut card, &apdu(0xA5, 0, 0, &[]));
            assert_eq!((data.len(), sw), (64, 0x61FF));
        }
        assert_eq!(send(&mut card, &apdu(0xA1, 0, 0, &[])).1, 0x9000);
        assert_eq!(send(&mut card, &apdu(0xA5, 0, 0, &[])).1, 0x6985);
    }

    #[test]
    fn persistent_faults_stay_until_cleared() {
        let mut card = card();
        arm(
            &mut card,
            json!({"kind": "status", "sw": "6A82", "ins": "SELECT", "persistent": true}),
        );
        for _ in 0..3 {
            assert_eq!(send(&mut card, SELECT_OATH).1, 0x6A82);
        }
        card.clear_faults();
        assert_eq!(send(&mut card, SELECT_OATH).1, 0x9000);
    }
}

fn profile_card(profile: Profile) -> Card {
    let version = profile.default_version();
    let mut c = config(version, profile.default_capacity(version), 256);
    c.identity.profile = profile;
    Card::new(c)
}

const AWS_NAME: &str = "Amazon Web Services:alice@123456789012";

#[test]
fn bio_and_security_key_have_management_but_no_oath() {
    for profile in [Profile::Bio, Profile::SecurityKey] {
        let mut card = profile_card(profile);
        assert_eq!(send(&mut card, SELECT_OATH).1, 0x6A82, "{profile:?}");
        assert_eq!(send(&mut card, SELECT_OTP).1, 0x6A82, "{profile:?}");
        assert_eq!(send(&mut card, SELECT_MGMT).1, 0x9000, "{profile:?}");
        let (info, sw) = send(&mut card, &apdu(0x1D, 0, 0, &[]));
        assert_eq!(sw, 0x9000);
        let caps = tlv::find(&info[1..], 0x01).unwrap();
        assert_eq!(caps[1] & 0x20, 0, "{profile:?} reports no OATH capability");
    }
    let mut bio = profile_card(Profile::Bio);
    assert_eq!(send(&mut bio, SELECT_PIV).1, 0x9000);
    let mut sky = profile_card(Profile::SecurityKey);
    assert_eq!(send(&mut sky, SELECT_PIV).1, 0x6A82);
}

#[test]
fn solo2_answers_only_the_exact_oath_aid() {
    let mut card = profile_card(Profile::Solo2);
    let (data, sw) = send(&mut card, SELECT_OATH);
    assert_eq!(sw, 0x9000);
    assert_eq!(tlv::find(&data, 0x79), Some(&[4u8, 4, 4][..]));
    let longer = [SELECT_OATH, &[0x01]].concat();
    let mut longer = longer;
    longer[4] = 8;
    assert_eq!(send(&mut card, &longer).1, 0x6A82);
    let shorter = apdu(0xA4, 0x04, 0x00, &[0xA0, 0x00, 0x00, 0x05, 0x27, 0x21]);
    assert_eq!(send(&mut card, &shorter).1, 0x6A82);
    for other in [SELECT_MGMT, SELECT_OTP, SELECT_PIV] {
        assert_eq!(send(&mut card, other).1, 0x6A82);
    }
}

#[test]
fn neo_is_full_when_calculate_all_would_not_fit() {
    let mut card = profile_card(Profile::Neo);
    send(&mut card, SELECT_OATH);
    let mut stored = 0;
    for i in 0..40 {
        let name = format!("Amazon Web Services:user{i:02}@123456789012");
        match put(&mut card, &name, TOTP | SHA1, 6, RFC_SECRET, false) {
            0x9000 => stored += 1,
            sw => {
                assert_eq!(sw, 0x6A84);
                break;
            }
        }
    }
    assert_eq!(stored, 28, "a NEO holds about 28 AWS-named credentials");
    // Management answers SELECT with the version, but has no READ CONFIG; OTP gives the serial.
    let (version, sw) = send(&mut card, SELECT_MGMT);
    assert_eq!((version, sw), (b"3.5.0".to_vec(), 0x9000));
    assert_eq!(send(&mut card, &apdu(0x1D, 0, 0, &[])).1, 0x6D00);
    send(&mut card, SELECT_OTP);
    let (serial, sw) = send(&mut card, &apdu(0x01, 0x10, 0, &[]));
    assert_eq!((serial, sw), (12345678u32.to_be_bytes().to_vec(), 0x9000));
}

#[test]
fn fips_refuses_put_until_a_password_and_keeps_it() {
    let mut card = profile_card(Profile::Fips);
    send(&mut card, SELECT_OATH);
    assert_eq!(
        put(&mut card, AWS_NAME, TOTP | SHA1, 6, RFC_SECRET, false),
        0x6985
    );
    assert!(list_names(&mut card).is_empty());
    let key = derive("fips password", &salt(&mut card));
    send(&mut card, SELECT_OATH);
    assert_eq!(set_code(&mut card, &key), 0x9000);
    assert_eq!(
        put(&mut card, AWS_NAME, TOTP | SHA1, 6, RFC_SECRET, false),
        0x9000
    );
    // Removing the password: refused.
    assert_eq!(send(&mut card, &apdu(0x03, 0, 0, &[])).1, 0x6985);
    assert_eq!(send(&mut card, &apdu(0x03, 0, 0, &[0x73, 0x00])).1, 0x6985);
    assert_eq!(card.dump()["password_set"], true);
    // Management reports OATH approved now.
    send(&mut card, SELECT_MGMT);
    let (info, _) = send(&mut card, &apdu(0x1D, 0, 0, &[]));
    assert_eq!(tlv::find(&info[1..], 0x15), Some(&[0u8, 0x08][..]));
}

#[test]
fn pico_fido_appends_duplicates_and_ignores_touch() {
    let mut card = profile_card(Profile::PicoFido);
    let (data, _) = send(&mut card, SELECT_OATH);
    assert_eq!(tlv::find(&data, 0x79), Some(&[6u8, 0, 0][..]));
    assert_eq!(tlv::find(&data, 0x7B), Some(&[0x01u8][..]));
    assert_eq!(tlv::find(&data, 0x74), None, "no password, no challenge");
    assert_eq!(
        put(&mut card, AWS_NAME, TOTP | SHA1, 6, RFC_SECRET, true),
        0x9000
    );
    assert_eq!(
        put(&mut card, AWS_NAME, TOTP | SHA1, 6, RFC_SECRET, true),
        0x9000
    );
    assert_eq!(list_names(&mut card).len(), 2, "the same name twice");
    card.touch = Touch {
        approve: false,
        delay_ms: 5000,
    };
    let (answer, sw, delay) = send_timed(
        &mut card,
        &apdu(
            0xA2,
            0,
            1,
            &[
                tlv::encode(0x71, AWS_NAME.as_bytes()),
                tlv::encode(0x74, &step(59)),
            ]
            .concat(),
        ),
    );
    assert_eq!(
        (sw, delay),
        (0x9000, 0),
        "no touch asked for, none waited for"
    );
    assert_eq!(code(&answer), "287082");
    let (all, sw) = send(&mut card, &apdu(0xA4, 0, 1, &tlv::encode(0x74, &step(59))));
    assert_eq!(sw, 0x9000);
    assert_eq!(tlv::find(&all, 0x7C), None, "a code, not a touch marker");
    assert_eq!(code(&all), "287082");
}
