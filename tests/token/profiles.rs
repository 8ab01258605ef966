//! ykmfa against the tokens admins meet, each a profile of the virtual YubiKey (or the Nitrokey
//! Secrets App card): `tokens`, `enroll`, `resync`, `revoke` and `status` on each, through the
//! real pcscd and the strict IAM endpoint, with IAM's state checked after every refusal.
//!
//! Four benches: the YubiKey 5 (5.4.3 and 5.7), NEO and 5 FIPS with the Nitrokey; a Bio and a
//! Security Key (no OATH); a Solo 2; a pico-fido. Tokens without a serial sit alone with IAM so
//! that `enroll` picks them without `--serial`.

// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use serde_json::{json, Value};
use support::{Bench, Run, Spec, YubiKeySpec};
use ykmfa::oath::{CredentialData, CredentialId, OathType, Session};
use ykmfa::seed::Seed;
use ykmfa::transport::pcsc::Context;
use ykmfa::transport::Transport as _;

const ACCOUNT: &str = "123456789012";
const YK5: u32 = 33_000_001;
const YK57: u32 = 33_000_002;
const NEO: u32 = 33_000_003;
const FIPS: u32 = 33_000_004;
const BIO: u32 = 33_000_005;
const SECURITY_KEY: u32 = 33_000_006;
const SOLO2: u32 = 33_000_007;
const PICO: u32 = 33_000_008;
/// The Nitrokey card's default serial (SELECT tag `8F`).
const NITROKEY: u32 = 0x1234_5678;

fn key(serial: u32, profile: &'static str) -> YubiKeySpec {
    YubiKeySpec {
        serial,
        profile,
        version: "",
        ..YubiKeySpec::default()
    }
}

fn label(user: &str) -> String {
    format!("Amazon Web Services:{user}@{ACCOUNT}")
}

fn create_user(bench: &Bench, user: &str) {
    bench.aws(&["iam", "create-user", "--user-name", user]);
}

/// `ykmfa tokens --json`.
fn tokens(bench: &Bench) -> Value {
    let run = bench.run(&["tokens", "--json"]);
    serde_json::from_str(run.ok()).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

/// The token in `tokens --json` that sits in `reader`.
fn token_in(listing: &Value, reader: &str) -> Value {
    listing["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .find(|t| t["reader"] == reader)
        .cloned()
        .unwrap_or_else(|| panic!("no token in '{reader}': {listing:#}"))
}

fn reader_of(bench: &Bench, serial: u32) -> String {
    bench
        .tokens
        .iter()
        .find(|t| t.serial == Some(serial))
        .map(|t| t.reader.clone())
        .unwrap_or_else(|| bench.tokens.last().expect("a token").reader.clone())
}

fn card_of(bench: &Bench, serial: u32) -> &support::Token {
    bench
        .tokens
        .iter()
        .find(|t| t.serial == Some(serial))
        .expect("the virtual card")
}

/// Nothing in IAM for `user`, and no device left unassigned, and no create since `creates`.
fn iam_unchanged(bench: &Bench, user: &str, creates: Option<u64>) {
    assert!(bench.assigned_to(user).is_empty(), "{user} has a device");
    assert!(
        bench.unassigned().is_empty(),
        "left unassigned: {:?}",
        bench.unassigned()
    );
    if let Some(creates) = creates {
        assert_eq!(
            bench.iam_calls("CreateVirtualMFADevice"),
            creates,
            "refused before any IAM change"
        );
    }
}

/// `enroll`, then `resync`, `status` and `revoke` of what it enrolled, each checked against IAM
/// and the token. `serial` picks the token when several are present; `env` is given to each run.
/// Gives what `revoke` said.
fn five_commands(bench: &Bench, user: &str, serial: Option<u32>, env: &[(&str, &str)]) -> String {
    create_user(bench, user);
    let mut enroll = vec!["enroll", "--user", user];
    let serial_arg = serial.map(|s| s.to_string());
    if let Some(s) = &serial_arg {
        enroll.extend(["--serial", s.as_str()]);
    }
    let run = bench.run_with(&enroll, env);
    let arn = run.ok().trim().to_owned();
    assert!(
        arn.starts_with(&format!("arn:aws:iam::{ACCOUNT}:mfa/{user}")),
        "{arn}"
    );
    assert_eq!(bench.assigned_to(user), std::slice::from_ref(&arn));

    let run = bench.run_with(&["resync", "--user", user, "--json"], env);
    let done: Value = serde_json::from_str(run.ok()).expect("resync json");
    assert_eq!(done["device"], arn.as_str(), "{done}");
    assert_eq!(done["credential"], label(user).as_str(), "{done}");

    let run = bench.run_with(&["status", "--user", user, "--json"], env);
    let status: Value = serde_json::from_str(run.ok()).expect("status json");
    let text = status.to_string();
    assert!(text.contains(&arn), "{status:#}");
    assert!(text.contains(&label(user)), "{status:#}");

    let run = bench.run_with(
        &[
            "revoke",
            "--user",
            user,
            "--device",
            &arn,
            "--yes",
            "--allow-last",
        ],
        env,
    );
    run.ok();
    assert!(bench.assigned_to(user).is_empty());
    assert!(bench.unassigned().is_empty(), "{:?}", bench.unassigned());
    let names = names_on(bench, serial);
    assert!(
        !names.contains(&label(user)),
        "revoke left the credential: {names:?}"
    );
    run.human()
}

/// Credential names on the token with `serial` (or the bench's only token), read with ykmfa's
/// library (a PIN-less, password-less session).
fn names_on(bench: &Bench, serial: Option<u32>) -> Vec<String> {
    let card = match serial {
        Some(s) => bench.tokens.iter().find(|t| t.serial == Some(s)),
        None => bench.tokens.first(),
    };
    if let Some(card) = card.filter(|c| c.control.is_some()) {
        return card.credential_names();
    }
    let reader = match serial {
        Some(s) => reader_of(bench, s),
        None => bench.tokens[0].reader.clone(),
    };
    with_session(&reader, |s| {
        if s.is_locked() {
            return Vec::new();
        }
        s.list()
            .expect("LIST")
            .iter()
            .map(|c| c.id.to_string())
            .collect()
    })
}

fn with_session<T>(
    reader: &str,
    f: impl FnOnce(&mut Session<&mut ykmfa::transport::pcsc::Link<'_>>) -> T,
) -> T {
    let ctx = Context::establish().expect("pcscd");
    let mut card = ctx.connect(reader).expect("card");
    let mut link = card.begin().expect("transaction");
    let mut session = Session::open(&mut link).expect("SELECT");
    f(&mut session)
}

fn totp(name: &str, secret: &[u8]) -> CredentialData {
    let id = CredentialId::parse(name.as_bytes(), OathType::Totp);
    CredentialData::aws_totp(id, Seed::from_bytes(secret.to_vec()), false)
}

/// The "Device type" `ykman info` reads from the card in `reader`: Yubico's own parser of the
/// device info the profile models.
fn ykman_device_type(bench: &Bench, reader: &str) -> String {
    let info = bench.ykman_ok(reader, &["info"]);
    info.lines()
        .find_map(|l| l.strip_prefix("Device type:"))
        .map(|t| t.trim().to_owned())
        .unwrap_or_else(|| panic!("no device type in:\n{info}"))
}

fn refused(run: &Run) -> String {
    assert_ne!(run.code, Some(0), "expected a refusal:\n{}", run.stdout);
    run.human()
}

// ---------------------------------------------------------------------------------------------
// YubiKey 5 (5.4.3, 5.7), NEO, 5 FIPS and the Nitrokey 3

fn yubikeys() -> Spec {
    Spec {
        yubikeys: vec![
            key(YK5, "yubikey5"),
            key(YK57, "yubikey5-57"),
            key(NEO, "neo"),
            key(FIPS, "fips"),
        ],
        nitrokey: true,
        iam: true,
    }
}

/// yubikey5 and yubikey5-57: the five commands; `tokens` shows 32 and 64 slots and the model.
#[test]
fn yubikey5_and_5_7_capacity_and_all_five_commands() {
    support::in_own_process!(yubikey5_and_5_7_capacity_and_all_five_commands);
    let bench = Bench::shared(yubikeys);
    let listing = tokens(bench);
    let yk5 = token_in(&listing, &reader_of(bench, YK5));
    assert_eq!(
        (&yk5["capacity"], &yk5["model"]),
        (&json!(32), &json!("YubiKey 5 NFC"))
    );
    let yk57 = token_in(&listing, &reader_of(bench, YK57));
    assert_eq!(
        (&yk57["capacity"], &yk57["firmware"]),
        (&json!(64), &json!([5, 7, 1]))
    );
    let table = bench.run(&["tokens"]);
    let row = |serial: u32| {
        let s = serial.to_string();
        table
            .stdout
            .lines()
            .find(|l| l.contains(&s))
            .map(|l| l.split_whitespace().take(5).collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    };
    assert_eq!(row(YK5), format!("YubiKey {YK5} 5.4.3 0 32"));
    assert_eq!(
        ykman_device_type(bench, &reader_of(bench, YK57)),
        "YubiKey 5 NFC"
    );
    assert_eq!(row(YK57), format!("YubiKey {YK57} 5.7.1 0 64"));

    let said = five_commands(bench, "alice", Some(YK5), &[]);
    assert!(said.contains("Deleting credential"), "{said}");
    assert!(
        !said.contains("Touch"),
        "a YubiKey deletes without a touch: {said}"
    );
    five_commands(bench, "bob", Some(YK57), &[]);
    assert!(bench.assert_no_seed_leaked() >= 2);
}

/// neo: named "YubiKey NEO" (serial from OTP, no READ CONFIG), capacity unknown; the five
/// commands work; when one CALCULATE ALL answer would no longer fit, enroll fails with the count
/// it holds and undoes the IAM device.
#[test]
fn neo_serial_from_otp_capacity_by_answer_size_and_a_clean_full() {
    support::in_own_process!(neo_serial_from_otp_capacity_by_answer_size_and_a_clean_full);
    let bench = Bench::shared(yubikeys);
    let neo = token_in(&tokens(bench), &reader_of(bench, NEO));
    assert_eq!(neo["serial"], NEO, "{neo}");
    assert_eq!(neo["model"], "YubiKey NEO", "{neo}");
    assert_eq!(neo["firmware"], json!([3, 5, 0]));
    assert_eq!(
        neo["capacity"],
        Value::Null,
        "no guess: it depends on the names"
    );
    // ykman reads the same: firmware 3.5.0 and the serial through OTP (it takes the name "YubiKey
    // NEO" from a NEO's reader name, which the bench's YubiKey 5 reader is not).
    let info = bench.ykman_ok(&reader_of(bench, NEO), &["info"]);
    assert!(info.contains("Firmware version: 3.5.0"), "{info}");
    assert!(info.contains(&format!("Serial number: {NEO}")), "{info}");

    five_commands(bench, "carol", Some(NEO), &[]);

    // Fill it the way another tool would, until the card refuses (28 names of this length).
    let reader = reader_of(bench, NEO);
    let held = with_session(&reader, |s| {
        for i in 0.. {
            let name = format!("Amazon Web Services:user{i:02}@{ACCOUNT}");
            match s.put_new(&totp(&name, b"12345678901234567890")) {
                Ok(()) => {}
                Err(ykmfa::oath::Error::NoSpace) => return i,
                Err(e) => panic!("{e}"),
            }
        }
        unreachable!()
    });
    assert_eq!(held, 28);
    create_user(bench, "dave");
    let creates = bench.iam_calls("CreateVirtualMFADevice");
    let run = bench.run(&["enroll", "--user", "dave", "--serial", &NEO.to_string()]);
    let err = refused(&run);
    assert!(
        err.contains("the token is full: it refused another credential while holding 28"),
        "{err}"
    );
    // The device was created (ykmfa can't know beforehand) and deleted again.
    assert_eq!(bench.iam_calls("CreateVirtualMFADevice"), creates + 1);
    iam_unchanged(bench, "dave", None);
    assert_eq!(card_of(bench, NEO).credential_names().len(), 28);
    bench.assert_no_seed_leaked();
}

/// fips: `tokens` names it; enroll refuses before any IAM change, saying an OATH password is
/// needed, can't be removed, and how to set one; after `ykman oath access change` the five
/// commands work with the password; removing it is refused by the card.
#[test]
fn fips_needs_an_oath_password_before_it_holds_credentials() {
    support::in_own_process!(fips_needs_an_oath_password_before_it_holds_credentials);
    let bench = Bench::shared(yubikeys);
    let fips = token_in(&tokens(bench), &reader_of(bench, FIPS));
    assert_eq!(fips["model"], "YubiKey 5 NFC FIPS", "{fips}");
    assert_eq!(fips["fips"], true, "{fips}");
    assert_eq!(fips["capacity"], 64);
    assert_eq!(
        ykman_device_type(bench, &reader_of(bench, FIPS)),
        "YubiKey 5 NFC FIPS"
    );

    create_user(bench, "erin");
    let creates = bench.iam_calls("CreateVirtualMFADevice");
    let serial = FIPS.to_string();
    let run = bench.run(&["enroll", "--user", "erin", "--serial", &serial]);
    let err = refused(&run);
    assert!(err.contains("YubiKey FIPS"), "{err}");
    assert!(err.contains("can't be removed later"), "{err}");
    assert!(
        err.contains(&format!("ykman --device {FIPS} oath access change")),
        "{err}"
    );
    assert!(!err.contains("6985"), "no raw status word: {err}");
    iam_unchanged(bench, "erin", Some(creates));
    assert!(card_of(bench, FIPS).credential_names().is_empty());
    bench.aws(&["iam", "delete-user", "--user-name", "erin"]);

    // Set through Yubico's own tool, as the message says.
    let reader = reader_of(bench, FIPS);
    bench.ykman_ok(&reader, &["oath", "access", "change", "-n", "fips-pass-1"]);
    assert_eq!(card_of(bench, FIPS).dump()["password_set"], true);
    let approved = token_in(&tokens(bench), &reader);
    assert_eq!(approved["password"], true);

    let env = [("YKMFA_OATH_PASSWORD", "fips-pass-1")];
    five_commands(bench, "erin", Some(FIPS), &env);

    // ykman refuses to remove it; the card refuses too (SET CODE with no key).
    let out = bench.ykman(
        &reader,
        &["oath", "access", "change", "-p", "fips-pass-1", "-c"],
    );
    assert!(!out.status.success());
    assert_eq!(card_of(bench, FIPS).dump()["password_set"], true);
    bench.assert_no_seed_leaked();
}

/// Nitrokey 3: a credential PUT with Nitrokey's PIN-encryption flag is hidden from LIST until
/// the PIN is verified; enroll of that name is refused by the card's PUT (`6983`, never an
/// overwrite), the IAM device is undone, and the hidden credential is left as it was. Then the
/// five commands work on another user (`tokens` shows its capacity unknown).
#[test]
fn nitrokey_hidden_pin_credential_collision_is_refused_cleanly() {
    support::in_own_process!(nitrokey_hidden_pin_credential_collision_is_refused_cleanly);
    let bench = Bench::shared(yubikeys);
    let reader = reader_of(bench, NITROKEY);
    let nk = token_in(&tokens(bench), &reader);
    assert_eq!(nk["kind"], "nitrokey");
    assert_eq!(nk["capacity"], Value::Null, "{nk}");

    // SET PIN, VERIFY PIN, then PUT frank's label with the PIN-encryption property (78 04).
    let pin = b"123456";
    let name = label("frank");
    let secret = [7u8; 20];
    let answers = raw(&reader, |l| {
        let mut out = Vec::new();
        let with_pin = |ins: u8| {
            let mut c = vec![0, ins, 0, 0, pin.len() as u8 + 2, 0x80, pin.len() as u8];
            c.extend_from_slice(pin);
            c
        };
        let select = [0, 0xA4, 4, 0, 7, 0xA0, 0, 0, 5, 0x27, 0x21, 1, 0];
        out.push(l.transmit(&select).expect("SELECT"));
        out.push(l.transmit(&with_pin(0xB4)).expect("SET PIN"));
        out.push(l.transmit(&with_pin(0xB2)).expect("VERIFY PIN"));
        let mut key = vec![0x21, 6];
        key.extend_from_slice(&secret);
        let mut data = vec![0x71, name.len() as u8];
        data.extend_from_slice(name.as_bytes());
        data.extend_from_slice(&[0x73, key.len() as u8]);
        data.extend_from_slice(&key);
        data.extend_from_slice(&[0x78, 0x04]);
        let mut put = vec![0, 0x01, 0, 0, data.len() as u8];
        put.extend_from_slice(&data);
        out.push(l.transmit(&put).expect("PUT"));
        out
    });
    for a in &answers[1..] {
        assert_eq!(a.as_slice(), [0x90, 0x00], "{answers:?}");
    }
    assert!(
        !names_on(bench, Some(NITROKEY)).contains(&name),
        "hidden from LIST without the PIN"
    );

    create_user(bench, "frank");
    let creates = bench.iam_calls("CreateVirtualMFADevice");
    let run = bench.run(&[
        "enroll",
        "--user",
        "frank",
        "--serial",
        &NITROKEY.to_string(),
    ]);
    let err = refused(&run);
    assert!(err.contains("does not list"), "{err}");
    assert!(err.contains("PIN"), "{err}");
    // ykmfa could not see it before writing: the device it created was deleted again.
    assert_eq!(bench.iam_calls("CreateVirtualMFADevice"), creates + 1);
    iam_unchanged(bench, "frank", None);
    // The hidden credential is still there, untouched (its own secret still answers).
    let kept = raw(&reader, |l| {
        let select = [0, 0xA4, 4, 0, 7, 0xA0, 0, 0, 5, 0x27, 0x21, 1, 0];
        l.transmit(&select).expect("SELECT");
        let mut verify = vec![0, 0xB2, 0, 0, pin.len() as u8 + 2, 0x80, pin.len() as u8];
        verify.extend_from_slice(pin);
        l.transmit(&verify).expect("VERIFY PIN");
        l.transmit(&[0, 0xA1, 0, 0, 0]).expect("LIST")
    });
    assert!(
        kept.windows(name.len()).any(|w| w == name.as_bytes()),
        "the hidden credential is still on the token"
    );

    let said = five_commands(bench, "grace", Some(NITROKEY), &[]);
    assert!(
        said.contains("Touch your Nitrokey to confirm the deletion."),
        "the Secrets App wants a touch for DELETE: {said}"
    );
    bench.assert_no_seed_leaked();
}

/// Raw APDUs in one transaction on the card in `reader`.
fn raw<T>(reader: &str, f: impl FnOnce(&mut ykmfa::transport::pcsc::Link<'_>) -> T) -> T {
    let ctx = Context::establish().expect("pcscd");
    let mut card = ctx.connect(reader).expect("card");
    let mut link = card.begin().expect("transaction");
    f(&mut link)
}

// ---------------------------------------------------------------------------------------------
// YubiKey Bio and Security Key NFC: no OATH application

fn no_oath() -> Spec {
    Spec {
        yubikeys: vec![key(BIO, "bio"), key(SECURITY_KEY, "security-key")],
        nitrokey: false,
        iam: true,
    }
}

/// bio and security-key: `tokens` names each model and says it can't hold TOTP codes; enroll
/// (with the Bio's serial, or none) is refused naming the model, before any IAM change; resync,
/// revoke and status find no token to use and change nothing.
#[test]
fn bio_and_security_key_are_named_and_refused() {
    support::in_own_process!(bio_and_security_key_are_named_and_refused);
    let bench = Bench::shared(no_oath);
    let listing = tokens(bench);
    assert!(listing["tokens"].as_array().expect("tokens").is_empty());
    let unusable = listing["unusable"].as_array().expect("unusable");
    let bio = unusable
        .iter()
        .find(|u| u["serial"] == BIO)
        .unwrap_or_else(|| panic!("{listing:#}"));
    assert_eq!(bio["model"], "YubiKey Bio - Multi-protocol Edition");
    assert!(
        bio["reason"]
            .as_str()
            .unwrap()
            .contains("can't hold TOTP codes"),
        "{bio}"
    );
    let sky = unusable
        .iter()
        .find(|u| u["model"] == "Security Key NFC")
        .unwrap_or_else(|| panic!("{listing:#}"));
    assert_eq!(sky.get("serial"), None, "a Security Key reports no serial");
    assert_eq!(
        ykman_device_type(bench, &reader_of(bench, BIO)),
        "YubiKey Bio - Multi-protocol Edition"
    );
    assert_eq!(
        ykman_device_type(bench, &reader_of(bench, SECURITY_KEY)),
        "Security Key NFC"
    );
    let human = bench.run(&["tokens"]);
    let said = human.human();
    assert!(
        said.contains("YubiKey Bio - Multi-protocol Edition (serial 33000005): no OATH application, so it can't hold TOTP codes"),
        "{said}"
    );
    assert!(
        said.contains("Security Key NFC: no OATH application"),
        "{said}"
    );
    // doctor says the same of the reader.
    let doctor = bench.run(&["doctor", "--json"]);
    assert!(
        doctor
            .stdout
            .contains("(a YubiKey Bio - Multi-protocol Edition, which can't hold TOTP codes)"),
        "{}",
        doctor.stdout
    );

    create_user(bench, "heidi");
    let creates = bench.iam_calls("CreateVirtualMFADevice");
    let run = bench.run(&["enroll", "--user", "heidi", "--serial", &BIO.to_string()]);
    let err = refused(&run);
    assert!(
        err.contains("the YubiKey Bio - Multi-protocol Edition 33000005 can't hold TOTP codes: it has no OATH application"),
        "{err}"
    );
    assert!(
        !err.contains("Security Key"),
        "only the one asked for: {err}"
    );
    let run = bench.run(&["enroll", "--user", "heidi"]);
    let err = refused(&run);
    assert!(
        err.contains("the Security Key NFC can't hold TOTP codes"),
        "{err}"
    );
    assert!(
        err.contains("YubiKey Bio - Multi-protocol Edition"),
        "{err}"
    );
    iam_unchanged(bench, "heidi", Some(creates));

    // Nothing was enrolled: resync and revoke have nothing to work on and change nothing;
    // status reports the user without a device and the cards as unusable.
    let resync = bench.run(&["resync", "--user", "heidi"]);
    refused(&resync);
    let revoke = bench.run(&["revoke", "--user", "heidi", "--yes"]);
    refused(&revoke);
    let status = bench.run(&["status", "--user", "heidi", "--json"]);
    let status: Value = serde_json::from_str(status.ok()).expect("json");
    assert!(status.to_string().contains("heidi"), "{status:#}");
    iam_unchanged(bench, "heidi", Some(creates));
}

// ---------------------------------------------------------------------------------------------
// Solo 2 (trussed oath-authenticator): the 7-byte AID only

/// solo2: answers SELECT only for the exact 7-byte AID, which is what ykmfa sends; no Management
/// or OTP, so it is "other" with no serial and no capacity; all five commands work.
#[test]
fn solo2_works_end_to_end_with_the_seven_byte_aid() {
    support::in_own_process!(solo2_works_end_to_end_with_the_seven_byte_aid);
    let bench = Bench::shared(|| Spec {
        yubikeys: vec![key(SOLO2, "solo2")],
        nitrokey: false,
        iam: true,
    });
    let reader = bench.tokens[0].reader.clone();
    // The AID a byte longer, or a byte shorter, is not found.
    let answers = raw(&reader, |l| {
        [
            vec![0, 0xA4, 4, 0, 8, 0xA0, 0, 0, 5, 0x27, 0x21, 1, 1, 0],
            vec![0, 0xA4, 4, 0, 6, 0xA0, 0, 0, 5, 0x27, 0x21, 0],
            vec![0, 0xA4, 4, 0, 7, 0xA0, 0, 0, 5, 0x27, 0x21, 1, 0],
        ]
        .map(|c| {
            let a = l.transmit(&c).expect("SELECT");
            u16::from_be_bytes([a[a.len() - 2], a[a.len() - 1]])
        })
    });
    assert_eq!(answers, [0x6A82, 0x6A82, 0x9000]);
    let solo = token_in(&tokens(bench), &reader);
    assert_eq!(solo["kind"], "other", "{solo}");
    assert_eq!(solo["serial"], Value::Null);
    assert_eq!(solo["oath_version"], json!([4, 4, 4]));
    assert_eq!(solo["capacity"], Value::Null);

    five_commands(bench, "ivan", None, &[]);
    assert!(bench.assert_no_seed_leaked() >= 1);
}

// ---------------------------------------------------------------------------------------------
// pico-fido: PUT appends, touch not enforced

/// pico-fido: a name already on it is caught by LIST before any PUT (its PUT would append a
/// duplicate) and before any IAM change; `enroll --touch` writes, sees through CALCULATE ALL that
/// the token computes the code without a touch, and undoes everything (the credential it wrote,
/// the IAM device); without --touch the five commands work.
#[test]
fn pico_fido_collisions_by_list_and_touch_it_does_not_enforce() {
    support::in_own_process!(pico_fido_collisions_by_list_and_touch_it_does_not_enforce);
    let bench = Bench::shared(|| Spec {
        yubikeys: vec![key(PICO, "pico-fido")],
        nitrokey: false,
        iam: true,
    });
    let card = &bench.tokens[0];
    let pico = token_in(&tokens(bench), &card.reader);
    assert_eq!(pico["kind"], "other", "{pico}");
    assert_eq!(pico["oath_version"], json!([6, 0, 0]));
    assert_eq!(pico["password"], false, "7B alone is no password");

    // judy's label is on the token already (another tool put it there).
    with_session(&card.reader, |s| {
        s.put_new(&totp(&label("judy"), b"someone else's secret"))
            .expect("PUT")
    });
    create_user(bench, "judy");
    let creates = bench.iam_calls("CreateVirtualMFADevice");
    let puts = card.control(json!({"cmd": "stats"}))["by_ins"]["PUT"].clone();
    let run = bench.run(&["enroll", "--user", "judy"]);
    let err = refused(&run);
    assert!(err.contains("already holds a credential named"), "{err}");
    iam_unchanged(bench, "judy", Some(creates));
    assert_eq!(
        card.control(json!({"cmd": "stats"}))["by_ins"]["PUT"],
        puts,
        "no PUT was sent"
    );
    assert_eq!(card.credential_names(), [label("judy")], "no duplicate");

    // --touch: written, found not enforced, undone.
    create_user(bench, "mallory");
    let creates = bench.iam_calls("CreateVirtualMFADevice");
    let run = bench.run(&["enroll", "--user", "mallory", "--touch"]);
    let err = refused(&run);
    assert!(err.contains("does not enforce touch"), "{err}");
    assert!(err.contains("without --touch"), "{err}");
    assert_eq!(bench.iam_calls("CreateVirtualMFADevice"), creates + 1);
    iam_unchanged(bench, "mallory", None);
    assert_eq!(
        card.credential_names(),
        [label("judy")],
        "only the credential this run wrote was removed"
    );
    let status = bench.run(&["status", "--user", "mallory"]);
    assert!(!status.stdout.contains("touch"), "{}", status.stdout);

    five_commands(bench, "oscar", None, &[]);
    assert_eq!(card.credential_names(), [label("judy")]);
    bench.assert_no_seed_leaked();
}

/// Nitrokey 3: the Secrets App does not tell how many credentials fit (`tokens` shows capacity
/// unknown); full, it refuses PUT (`6A84`), and enroll says how many it holds and undoes the IAM
/// device. Here the card's limit is 2 (the firmware's is 50).
#[test]
fn nitrokey_full_says_how_many_it_holds_and_undoes() {
    support::in_own_process!(nitrokey_full_says_how_many_it_holds_and_undoes);
    let bench = Bench::shared_with(|| {
        Bench::start_with(
            Spec {
                yubikeys: vec![],
                nitrokey: true,
                iam: true,
            },
            &["--max-credentials", "2"],
        )
    });
    let reader = bench.tokens[0].reader.clone();
    assert_eq!(token_in(&tokens(bench), &reader)["capacity"], Value::Null);
    with_session(&reader, |s| {
        for name in ["one", "two"] {
            s.put_new(&totp(name, b"12345678901234567890"))
                .expect("PUT");
        }
    });
    create_user(bench, "kate");
    let creates = bench.iam_calls("CreateVirtualMFADevice");
    let run = bench.run(&["enroll", "--user", "kate"]);
    let err = refused(&run);
    assert!(
        err.contains("the token is full: it refused another credential while holding 2"),
        "{err}"
    );
    assert_eq!(bench.iam_calls("CreateVirtualMFADevice"), creates + 1);
    iam_unchanged(bench, "kate", None);
    let mut names = names_on(bench, None);
    names.sort();
    assert_eq!(names, ["one", "two"], "the two it held, nothing else");
    bench.assert_no_seed_leaked();
}
