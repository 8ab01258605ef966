//! Runs the card against a fake vpcd on 127.0.0.1:0 (no pcscd needed) and pins the Secrets App's
//! observable YKOATH behaviour.

use std::{
    io::{Read as _, Write as _},
    net::{TcpListener, TcpStream},
    thread::{self, JoinHandle},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use hmac::{Hmac, Mac as _};
use nitrokey_card::{Config, Touch, NITROKEY3_ATR};
use sha1::Sha1;

const SELECT_OATH: [u8; 12] = [
    0x00, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0x00, 0x00, 0x05, 0x27, 0x21, 0x01,
];
/// RFC 6238 / RFC 4226 SHA-1 test secret.
const RFC_SECRET: &[u8] = b"12345678901234567890";

/// The vpcd side of the wire protocol: 2-byte big-endian length, then payload.
struct FakeVpcd {
    stream: TcpStream,
}

impl FakeVpcd {
    fn send(&mut self, payload: &[u8]) {
        let mut frame = (payload.len() as u16).to_be_bytes().to_vec();
        frame.extend_from_slice(payload);
        self.stream.write_all(&frame).expect("write to card");
    }

    fn recv(&mut self) -> Vec<u8> {
        let mut len = [0u8; 2];
        self.stream
            .read_exact(&mut len)
            .expect("read length from card");
        let mut payload = vec![0u8; usize::from(u16::from_be_bytes(len))];
        self.stream
            .read_exact(&mut payload)
            .expect("read payload from card");
        payload
    }

    /// One command APDU; returns (data, SW).
    fn apdu_once(&mut self, apdu: &[u8]) -> (Vec<u8>, u16) {
        self.send(apdu);
        let mut response = self.recv();
        assert!(response.len() >= 2, "short response {response:02X?}");
        let sw = u16::from_be_bytes([response[response.len() - 2], response[response.len() - 1]]);
        response.truncate(response.len() - 2);
        (response, sw)
    }

    /// One command APDU sent with Le = 00 (as a client must, see README), following `61xx`
    /// with ISO GET RESPONSE (`00 C0 00 00 xx`), which is how apdu-dispatch chains responses.
    fn apdu(&mut self, apdu: &[u8]) -> (Vec<u8>, u16) {
        let mut with_le = apdu.to_vec();
        with_le.push(0x00);
        let (mut data, mut sw) = self.apdu_once(&with_le);
        while sw >> 8 == 0x61 {
            let (more, next) = self.apdu_once(&[0x00, 0xC0, 0x00, 0x00, sw as u8]);
            data.extend_from_slice(&more);
            sw = next;
        }
        (data, sw)
    }
}

/// Starts the card (once mode) against a fresh listener; returns the vpcd side and the card thread.
fn start(config: Config) -> (FakeVpcd, JoinHandle<std::io::Result<()>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind fake vpcd");
    let port = listener.local_addr().expect("local addr").port();
    let config = Config {
        host: "127.0.0.1".into(),
        port,
        once: true,
        ..config
    };
    let card = thread::spawn(move || nitrokey_card::run(&config));
    let (stream, _) = listener.accept().expect("card connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let mut vpcd = FakeVpcd { stream };
    vpcd.send(&[0x01]); // power on
    vpcd.send(&[0x04]); // get ATR
    assert_eq!(vpcd.recv(), NITROKEY3_ATR);
    (vpcd, card)
}

fn stop(vpcd: FakeVpcd, card: JoinHandle<std::io::Result<()>>) {
    drop(vpcd);
    card.join().expect("card thread").expect("card run");
}

/// Parses simple one-byte-length TLVs.
fn tlvs(mut data: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while data.len() >= 2 {
        let (tag, len) = (data[0], usize::from(data[1]));
        assert!(data.len() >= 2 + len, "truncated TLV in {data:02X?}");
        out.push((tag, data[2..2 + len].to_vec()));
        data = &data[2 + len..];
    }
    assert!(data.is_empty(), "trailing bytes {data:02X?}");
    out
}

fn tag(tlvs: &[(u8, Vec<u8>)], t: u8) -> Option<Vec<u8>> {
    tlvs.iter().find(|(k, _)| *k == t).map(|(_, v)| v.clone())
}

/// PUT of a TOTP/HMAC-SHA1 credential.
fn put_totp(name: &[u8], digits: u8, secret: &[u8]) -> Vec<u8> {
    let mut data = vec![0x71, name.len() as u8];
    data.extend_from_slice(name);
    data.extend_from_slice(&[0x73, (secret.len() + 2) as u8, 0x21, digits]);
    data.extend_from_slice(secret);
    let mut apdu = vec![0x00, 0x01, 0x00, 0x00, data.len() as u8];
    apdu.extend_from_slice(&data);
    apdu
}

fn calculate(p2: u8, name: &[u8], step: u64) -> Vec<u8> {
    let mut data = vec![0x71, name.len() as u8];
    data.extend_from_slice(name);
    data.extend_from_slice(&[0x74, 0x08]);
    data.extend_from_slice(&step.to_be_bytes());
    let mut apdu = vec![0x00, 0xA2, 0x00, p2, data.len() as u8];
    apdu.extend_from_slice(&data);
    apdu
}

fn name_apdu(ins: u8, name: &[u8]) -> Vec<u8> {
    let mut apdu = vec![
        0x00,
        ins,
        0x00,
        0x00,
        (name.len() + 2) as u8,
        0x71,
        name.len() as u8,
    ];
    apdu.extend_from_slice(name);
    apdu
}

/// Independent HOTP (RFC 4226) over HMAC-SHA1.
fn hotp_sha1(secret: &[u8], counter: u64, digits: u32) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("any key length");
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0F);
    let value = u32::from_be_bytes([
        digest[offset],
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]) & 0x7FFF_FFFF;
    format!(
        "{:0width$}",
        value % 10u32.pow(digits),
        width = digits as usize
    )
}

/// Code from a truncated CALCULATE answer `76 05 digits b0 b1 b2 b3`.
fn truncated_code(data: &[u8]) -> String {
    let t = tlvs(data);
    let resp = tag(&t, 0x76).expect("truncated response tag 76");
    assert_eq!(resp.len(), 5);
    let digits = u32::from(resp[0]);
    let value = u32::from_be_bytes([resp[1], resp[2], resp[3], resp[4]]) & 0x7FFF_FFFF;
    format!(
        "{:0width$}",
        value % 10u32.pow(digits),
        width = digits as usize
    )
}

fn list_names(data: &[u8]) -> Vec<Vec<u8>> {
    tlvs(data)
        .into_iter()
        .map(|(t, v)| {
            assert_eq!(t, 0x72, "LIST entries are tag 72");
            v[1..].to_vec() // first byte: type | algorithm
        })
        .collect()
}

#[test]
fn select_put_calculate_delete() {
    let serial = 0x00C0_FFEE;
    let (mut vpcd, card) = start(Config {
        serial,
        ..Config::default()
    });

    // SELECT: version (79), salt (71), serial (8F); no challenge (74) without a PIN.
    let (data, sw) = vpcd.apdu(&SELECT_OATH);
    assert_eq!(sw, 0x9000);
    let t = tlvs(&data);
    let version = tag(&t, 0x79).expect("version tag 79");
    assert_eq!(version.len(), 3);
    assert_eq!(version[0], 4, "Secrets App reports a 4.x.y version");
    let salt = tag(&t, 0x71).expect("salt tag 71");
    assert_eq!(salt.len(), 8);
    assert_eq!(tag(&t, 0x8F), Some(serial.to_be_bytes().to_vec()));
    assert_eq!(tag(&t, 0x74), None);

    // secrets-app 0.16 never writes the state file that would keep the salt, so every SELECT
    // draws a fresh one (a device id derived from it changes on every SELECT).
    let (data2, _) = vpcd.apdu(&SELECT_OATH);
    assert_ne!(tag(&tlvs(&data2), 0x71), Some(salt));

    let name = b"Amazon Web Services:alice@123456789012";
    let (_, sw) = vpcd.apdu(&put_totp(name, 6, RFC_SECRET));
    assert_eq!(sw, 0x9000, "PUT");

    // A second PUT of the same name is refused, not an overwrite.
    let (_, sw) = vpcd.apdu(&put_totp(name, 8, b"another secret!!"));
    assert_eq!(sw, 0x6983, "PUT of an existing name");

    let (data, sw) = vpcd.apdu(&[0x00, 0xA1, 0x00, 0x00]);
    assert_eq!(sw, 0x9000, "LIST");
    assert_eq!(list_names(&data), vec![name.to_vec()]);

    // RFC 6238 appendix B: T = 59 s is step 1; 8 digits would be 94287082.
    let (data, sw) = vpcd.apdu(&calculate(0x01, name, 1));
    assert_eq!(sw, 0x9000, "CALCULATE truncated");
    assert_eq!(truncated_code(&data), "287082");
    assert_eq!(hotp_sha1(RFC_SECRET, 1, 6), "287082");

    // The current step, against an independent computation (the first PUT's secret survived).
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let step = now / 30;
    let (data, sw) = vpcd.apdu(&calculate(0x01, name, step));
    assert_eq!(sw, 0x9000);
    assert_eq!(truncated_code(&data), hotp_sha1(RFC_SECRET, step, 6));

    // Full (non-truncated) CALCULATE is not supported.
    let (_, sw) = vpcd.apdu(&calculate(0x00, name, step));
    assert_ne!(sw, 0x9000, "CALCULATE with P2=00");

    let (_, sw) = vpcd.apdu(&name_apdu(0x02, name));
    assert_eq!(sw, 0x9000, "DELETE");
    let (data, sw) = vpcd.apdu(&[0x00, 0xA1, 0x00, 0x00]);
    assert_eq!(sw, 0x9000);
    assert!(list_names(&data).is_empty());
    let (_, sw) = vpcd.apdu(&calculate(0x01, name, step));
    assert_eq!(sw, 0x6A82, "CALCULATE of a deleted credential");

    stop(vpcd, card);
}

fn pin_apdu(ins: u8, pin: &[u8]) -> Vec<u8> {
    let mut apdu = vec![
        0x00,
        ins,
        0x00,
        0x00,
        (pin.len() + 2) as u8,
        0x80,
        pin.len() as u8,
    ];
    apdu.extend_from_slice(pin);
    apdu
}

/// Sends `apdu` (with Le = 00) and checks its status word; returns the data.
fn expect(vpcd: &mut FakeVpcd, label: &str, apdu: &[u8], sw: u16) -> Vec<u8> {
    let (data, got) = vpcd.apdu(apdu);
    assert_eq!(got, sw, "{label}: got SW {got:04X}, expected {sw:04X}");
    data
}

#[test]
fn select_without_le_needs_iso_get_response() {
    let (mut vpcd, card) = start(Config::default());
    // apdu-dispatch treats a missing Le as "no data expected": 61xx, no data.
    let (data, sw) = vpcd.apdu_once(&SELECT_OATH);
    assert!(data.is_empty());
    assert_eq!(sw, 0x6115);
    // ISO GET RESPONSE fetches it ...
    let (data, sw) = vpcd.apdu_once(&[0x00, 0xC0, 0x00, 0x00, 0x15]);
    assert_eq!(sw, 0x9000);
    assert_eq!(data.len(), 0x15);
    assert_eq!(&data[..5], &[0x79, 0x03, 0x04, 0x10, 0x00]);
    // ... while OATH's SEND REMAINING (A5) goes to the app, which has nothing pending.
    let (_, sw) = vpcd.apdu_once(&SELECT_OATH);
    assert_eq!(sw, 0x6115);
    let (_, sw) = vpcd.apdu_once(&[0x00, 0xA5, 0x00, 0x00]);
    assert_eq!(sw, 0x6985);
    stop(vpcd, card);
}

/// The status words the README's table lists, in one session.
#[test]
fn status_word_table() {
    let (mut vpcd, card) = start(Config::default());
    let name = b"probe";
    let step1 = calculate(0x01, name, 1);

    expect(&mut vpcd, "SELECT", &SELECT_OATH, 0x9000);
    expect(&mut vpcd, "PUT", &put_totp(name, 6, RFC_SECRET), 0x9000);
    expect(
        &mut vpcd,
        "PUT existing name",
        &put_totp(name, 6, RFC_SECRET),
        0x6983,
    );
    expect(
        &mut vpcd,
        "CALCULATE P2=00",
        &calculate(0x00, name, 1),
        0x6D00,
    );
    let data = expect(&mut vpcd, "CALCULATE P2=01", &step1, 0x9000);
    assert_eq!(truncated_code(&data), "287082");
    expect(
        &mut vpcd,
        "CALCULATE missing",
        &calculate(0x01, b"nope", 1),
        0x6A82,
    );
    let calc_all = [
        0x00, 0xA4, 0x00, 0x01, 0x0A, 0x74, 0x08, 0, 0, 0, 0, 0, 0, 0, 1,
    ];
    expect(&mut vpcd, "CALCULATE ALL", &calc_all, 0x6D00);
    let mut validate = vec![0x00, 0xA3, 0x00, 0x00, 0x20, 0x75, 0x14];
    validate.extend_from_slice(&[0u8; 20]);
    validate.extend_from_slice(&[0x74, 0x08, 1, 2, 3, 4, 5, 6, 7, 8]);
    validate[4] = (validate.len() - 5) as u8;
    expect(&mut vpcd, "VALIDATE", &validate, 0x6D00);

    // SET CODE's INS (03) is parsed as the YubiKey OTP "get status" request: 9000 with
    // version + serial-like bytes, and no password gets set.
    let data = expect(
        &mut vpcd,
        "SET CODE (remove)",
        &[0x00, 0x03, 0x00, 0x00, 0x02, 0x73, 0x00],
        0x9000,
    );
    assert_eq!(data.len(), 6);
    let mut set_code = vec![0x00, 0x03, 0x00, 0x00, 0x00, 0x73, 0x11, 0x21];
    set_code.extend_from_slice(&[0u8; 16]);
    set_code.extend_from_slice(&[0x74, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x75, 0x14]);
    set_code.extend_from_slice(&[0u8; 20]);
    set_code[4] = (set_code.len() - 5) as u8;
    let data = expect(&mut vpcd, "SET CODE (with key)", &set_code, 0x9000);
    assert_eq!(data.len(), 6);
    let t = tlvs(&expect(
        &mut vpcd,
        "SELECT after SET CODE",
        &SELECT_OATH,
        0x9000,
    ));
    assert_eq!(tag(&t, 0x74), None, "no password challenge after SET CODE");

    expect(
        &mut vpcd,
        "RENAME",
        &[
            0x00, 0x05, 0x00, 0x00, 0x07, 0x71, 0x05, b'p', b'r', b'o', b'b', b'e',
        ],
        0x6D00,
    );
    expect(&mut vpcd, "unknown INS", &[0x00, 0x42, 0x00, 0x00], 0x6D00);

    // PIN commands (tag 80).
    expect(
        &mut vpcd,
        "VERIFY PIN, none set",
        &pin_apdu(0xB2, b"1234"),
        0x6982,
    );
    expect(
        &mut vpcd,
        "CHANGE PIN, none set",
        &pin_apdu(0xB3, b"1234"),
        0x6A80,
    );
    expect(&mut vpcd, "SET PIN", &pin_apdu(0xB4, b"1234"), 0x9000);
    let t = tlvs(&expect(&mut vpcd, "SELECT, PIN set", &SELECT_OATH, 0x9000));
    assert_eq!(tag(&t, 0x71), None, "no salt once a PIN is set");
    assert_eq!(tag(&t, 0x82), Some(vec![8]), "PIN attempts left");
    expect(
        &mut vpcd,
        "SET PIN, already set",
        &pin_apdu(0xB4, b"5678"),
        0x6982,
    );
    expect(
        &mut vpcd,
        "VERIFY PIN, wrong",
        &pin_apdu(0xB2, b"9999"),
        0x6300,
    );
    let t = tlvs(&expect(
        &mut vpcd,
        "SELECT after wrong PIN",
        &SELECT_OATH,
        0x9000,
    ));
    assert_eq!(tag(&t, 0x82), Some(vec![7]));
    expect(
        &mut vpcd,
        "VERIFY PIN, right",
        &pin_apdu(0xB2, b"1234"),
        0x9000,
    );
    // Credentials PUT without the PIN-encryption flag stay usable without the PIN.
    let data = expect(&mut vpcd, "CALCULATE with PIN set", &step1, 0x9000);
    assert_eq!(truncated_code(&data), "287082");
    expect(
        &mut vpcd,
        "PUT with PIN set, unverified",
        &put_totp(b"second", 6, RFC_SECRET),
        0x9000,
    );

    expect(&mut vpcd, "DELETE", &name_apdu(0x02, name), 0x9000);
    expect(&mut vpcd, "DELETE missing", &name_apdu(0x02, name), 0x6A82);
    expect(&mut vpcd, "RESET", &[0x00, 0x04, 0xDE, 0xAD], 0x9000);
    let t = tlvs(&expect(
        &mut vpcd,
        "SELECT after RESET",
        &SELECT_OATH,
        0x9000,
    ));
    assert!(
        tag(&t, 0x71).is_some(),
        "salt is back after RESET removed the PIN"
    );
    let data = expect(
        &mut vpcd,
        "LIST after RESET",
        &[0x00, 0xA1, 0x00, 0x00],
        0x9000,
    );
    assert!(data.is_empty());
    stop(vpcd, card);
}

/// With `--touch refuse`, everything that asks for presence fails with 6982 at once.
#[test]
fn refused_touch() {
    let (mut vpcd, card) = start(Config {
        touch: Touch::Refuse,
        ..Config::default()
    });
    let name = b"plain";
    expect(&mut vpcd, "SELECT", &SELECT_OATH, 0x9000);
    expect(&mut vpcd, "PUT", &put_totp(name, 6, RFC_SECRET), 0x9000);
    // A touch credential (78 02) needs presence already at PUT.
    let mut touch_put = put_totp(b"touchy", 6, RFC_SECRET);
    touch_put.extend_from_slice(&[0x78, 0x02]);
    touch_put[4] += 2;
    expect(&mut vpcd, "PUT touch credential", &touch_put, 0x6982);
    expect(
        &mut vpcd,
        "CALCULATE plain",
        &calculate(0x01, name, 1),
        0x9000,
    );
    expect(&mut vpcd, "DELETE", &name_apdu(0x02, name), 0x6982);
    expect(&mut vpcd, "SET PIN", &pin_apdu(0xB4, b"1234"), 0x6982);
    expect(&mut vpcd, "RESET", &[0x00, 0x04, 0xDE, 0xAD], 0x6982);
    stop(vpcd, card);
}

/// With a state directory, credentials survive a restart of the card.
#[test]
fn state_dir_survives_restart() {
    let dir = std::env::temp_dir().join(format!("nitrokey-card-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = Config {
        state_dir: Some(dir.clone()),
        ..Config::default()
    };
    let name = b"kept";

    let (mut vpcd, card) = start(config.clone());
    expect(&mut vpcd, "SELECT", &SELECT_OATH, 0x9000);
    expect(&mut vpcd, "PUT", &put_totp(name, 6, RFC_SECRET), 0x9000);
    stop(vpcd, card);
    assert!(dir.join("internal.bin").is_file() && dir.join("external.bin").is_file());

    let (mut vpcd, card) = start(config);
    expect(&mut vpcd, "SELECT", &SELECT_OATH, 0x9000);
    let data = expect(&mut vpcd, "LIST", &[0x00, 0xA1, 0x00, 0x00], 0x9000);
    assert_eq!(list_names(&data), vec![name.to_vec()]);
    let data = expect(&mut vpcd, "CALCULATE", &calculate(0x01, name, 1), 0x9000);
    assert_eq!(truncated_code(&data), "287082");
    stop(vpcd, card);
    let _ = std::fs::remove_dir_all(&dir);
}

/// SHA-256 works; SHA-512 credentials are stored but can't be calculated.
#[test]
fn algorithms() {
    let (mut vpcd, card) = start(Config::default());
    expect(&mut vpcd, "SELECT", &SELECT_OATH, 0x9000);
    for (alg, name, sw) in [
        (0x22u8, b"sha256".as_slice(), 0x9000u16),
        (0x23, b"sha512", 0x6A81),
    ] {
        let mut apdu = put_totp(name, 6, RFC_SECRET);
        let key_tag = 5 + 2 + name.len();
        assert_eq!(apdu[key_tag], 0x73);
        apdu[key_tag + 2] = alg;
        expect(&mut vpcd, "PUT", &apdu, 0x9000);
        expect(&mut vpcd, "CALCULATE", &calculate(0x01, name, 1), sw);
    }
    stop(vpcd, card);
}

/// A LIST longer than 256 bytes: with a short Le the dispatcher chains it (61xx + GET RESPONSE);
/// with an extended Le it comes in one response.
#[test]
fn long_list_is_chained_by_the_dispatcher() {
    let (mut vpcd, card) = start(Config::default());
    expect(&mut vpcd, "SELECT", &SELECT_OATH, 0x9000);
    let names: Vec<Vec<u8>> = (0..8)
        .map(|i| {
            format!("Amazon Web Services:user-{i:02}-with-a-long-name@123456789012").into_bytes()
        })
        .collect();
    for name in &names {
        expect(&mut vpcd, "PUT", &put_totp(name, 6, RFC_SECRET), 0x9000);
    }
    let total: usize = names.iter().map(|n| n.len() + 3).sum();
    assert!(total > 256);

    // Short Le = 00: 256 bytes, then 61xx for the rest.
    let (first, sw) = vpcd.apdu_once(&[0x00, 0xA1, 0x00, 0x00, 0x00]);
    assert_eq!(first.len(), 256);
    assert_eq!(sw, 0x6100 | (total - 256) as u16);
    let (rest, sw) = vpcd.apdu_once(&[0x00, 0xC0, 0x00, 0x00, sw as u8]);
    assert_eq!(sw, 0x9000);
    let mut all = first;
    all.extend_from_slice(&rest);
    let mut listed = list_names(&all);
    listed.sort();
    assert_eq!(listed, names);

    // Extended Le = 0000 (case 2E): everything at once.
    let (data, sw) = vpcd.apdu_once(&[0x00, 0xA1, 0x00, 0x00, 0x00, 0x00, 0x00]);
    assert_eq!(sw, 0x9000);
    assert_eq!(data.len(), total);
    stop(vpcd, card);
}

/// The credential limit (50, as Nitrokey's firmware sets it) and what a full token answers.
#[test]
fn capacity() {
    let (mut vpcd, card) = start(Config::default());
    expect(&mut vpcd, "SELECT", &SELECT_OATH, 0x9000);
    let mut stored = 0;
    let last_sw = loop {
        let name = format!("Amazon Web Services:user{stored:03}@123456789012");
        let (_, sw) = vpcd.apdu(&put_totp(name.as_bytes(), 6, RFC_SECRET));
        if sw != 0x9000 || stored > 200 {
            break sw;
        }
        stored += 1;
    };
    assert_eq!(stored, usize::from(nitrokey_card::DEFAULT_MAX_CREDENTIALS));
    assert_eq!(last_sw, 0x6A84, "PUT on a full token");
    stop(vpcd, card);
}
