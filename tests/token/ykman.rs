//! Cross-checks with Yubico's own client: what ykmfa writes, ykman reads and computes the same
//! code for, and the other way round, passwords and touch included.
//!
//! ykmfa runs in this process on the bench `conformance` shares (libpcsclite binds one pcscd per
//! process, [`crate::shared_bench`]), on its main virtual YubiKey; ykman runs as a subprocess
//! against the same pcscd, on the same card. Tests take the bench's lock, so they run one at a
//! time, and start from an OATH RESET.

// Helpers outside `#[test]` functions fail the test with a reason, like the tests themselves.
#![allow(clippy::expect_used)]

use std::process::Command;
use std::sync::MutexGuard;

use serde_json::json;
use support::Bench;

use crate::reference;
use ykmfa::oath::{
    Algorithm, CredentialData, CredentialId, Error, OathType, Password, Session, TimeStep,
};
use ykmfa::seed::Seed;
use ykmfa::transport::pcsc::{Context, Link};

type Sess<'a, 'b> = Session<&'a mut Link<'b>>;

struct Fixture {
    bench: &'static Bench,
    reader: String,
    ctx: Context,
    _one_at_a_time: MutexGuard<'static, ()>,
}

impl Fixture {
    /// The main YubiKey of the bench `conformance` shares, reset, taken for this test alone.
    fn new() -> Fixture {
        let bench = crate::shared_bench();
        let guard = crate::one_at_a_time();
        let token = bench
            .tokens
            .iter()
            .find(|t| t.serial == Some(crate::MAIN_SERIAL))
            .expect("the bench has the main YubiKey");
        token.control(json!({"cmd": "clear_faults"}));
        token.control(json!({"cmd": "touch", "mode": "approve", "delay_ms": 0}));
        let f = Fixture {
            bench,
            reader: token.reader.clone(),
            ctx: Context::establish().expect("PC/SC"),
            _one_at_a_time: guard,
        };
        f.session(|s| s.reset()).expect("OATH RESET");
        f
    }

    /// Runs `f` on an ykmfa session (SELECT done) inside one transaction.
    fn session<R>(&self, f: impl FnOnce(&mut Sess<'_, '_>) -> R) -> R {
        let mut card = self.ctx.connect(&self.reader).expect("connect");
        let mut link = card.begin().expect("transaction");
        let mut session = Session::open(&mut link).expect("SELECT");
        f(&mut session)
    }

    /// `ykman --reader READER ARGS`, which must succeed; its stdout.
    fn ykman(&self, args: &[&str]) -> String {
        self.bench.ykman_ok(&self.reader, args)
    }

    /// `ykman` with the clock frozen at `unix` (libfaketime), which must succeed.
    fn ykman_at(&self, unix: u64, args: &[&str]) -> String {
        let frozen = chrono_free_utc(unix);
        let out = Command::new("faketime")
            .arg("-f")
            .arg(&frozen)
            .arg(support::venv_bin("ykman"))
            .arg("--reader")
            .arg(&self.reader)
            .args(args)
            .envs(self.bench.env())
            .env("TZ", "UTC")
            .output()
            .expect("faketime (installed by bench/setup)");
        assert!(
            out.status.success(),
            "ykman {args:?} at {frozen}: {}{}",
            support::text(&out.stdout),
            support::text(&out.stderr)
        );
        support::text(&out.stdout)
    }
}

/// `YYYY-MM-DD hh:mm:ss` in UTC, the form libfaketime freezes the clock at.
fn chrono_free_utc(unix: u64) -> String {
    let (days, secs) = (unix / 86_400, unix % 86_400);
    // Civil date from days since 1970-01-01 (proleptic Gregorian, H. Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn b32(secret: &[u8]) -> String {
    base32::encode(base32::Alphabet::Rfc4648 { padding: false }, secret)
}

fn data(id: CredentialId, algorithm: Algorithm, digits: u8, secret: &[u8]) -> CredentialData {
    CredentialData {
        id,
        algorithm,
        digits,
        secret: Seed::from_bytes(secret.to_vec()),
        touch: false,
        counter: 0,
    }
}

/// Runs `f` (which reads the clock itself, like ykman) until it starts and ends in the same
/// `period`-second step; returns that step and what `f` returned.
fn within_one_step<R>(period: u32, mut f: impl FnMut() -> R) -> (TimeStep, R) {
    for _ in 0..5 {
        let before = TimeStep::at(support::now(), period);
        let r = f();
        if TimeStep::at(support::now(), period) == before {
            return (before, r);
        }
    }
    panic!("five step boundaries in a row: is the machine this slow?")
}

/// ykman's code for the one account matching `name`, and ykmfa's for the same step.
fn both_codes(f: &Fixture, name: &str, period: u32, extra: &[&str]) -> (String, String) {
    let mut args = vec!["oath", "accounts", "code", "-s"];
    args.extend_from_slice(extra);
    args.push(name);
    let (step, ykman) = within_one_step(period, || f.ykman(&args).trim().to_owned());
    let ykmfa = f.session(|s| {
        if s.is_locked() {
            let pw = extra
                .iter()
                .position(|a| *a == "-p")
                .map(|i| extra[i + 1])
                .expect("a password for a locked key");
            s.unlock(&Password::new(pw.into())).expect("unlock");
        }
        s.calculate(name.as_bytes(), step, period)
            .expect("CALCULATE")
            .value
    });
    (ykman, ykmfa)
}

const AWS: &str = "Amazon Web Services:alice@123456789012";

#[test]
fn what_ykmfa_writes_ykman_lists_and_computes_alike() {
    let f = Fixture::new();
    let aws_seed = b"an AWS virtual MFA seed, 40 bytes long!!";
    let slow_seed = b"a sixty-second SHA-256 secret";
    let slow = CredentialId {
        period: 60,
        ..CredentialId::totp(Some("Example"), "slow").expect("id")
    };
    f.session(|s| {
        let aws =
            CredentialId::totp(Some("Amazon Web Services"), "alice@123456789012").expect("id");
        s.put_new(&data(aws, Algorithm::Sha1, 6, aws_seed))
            .expect("PUT");
        s.put_new(&data(slow, Algorithm::Sha256, 8, slow_seed))
            .expect("PUT");
        let mut touchy = data(
            CredentialId::totp(None, "touchy").expect("id"),
            Algorithm::Sha1,
            7,
            b"touch",
        );
        touchy.touch = true;
        s.put_new(&touchy).expect("PUT");
        let mut hotp = data(
            CredentialId {
                issuer: Some("Counter".into()),
                account: "hotp".into(),
                period: 0,
                oath_type: OathType::Hotp,
            },
            Algorithm::Sha1,
            6,
            b"12345678901234567890",
        );
        hotp.counter = 5;
        s.put_new(&hotp).expect("PUT");
    });

    let listed = f.ykman(&["oath", "accounts", "list", "-o", "-P"]);
    let mut lines: Vec<&str> = listed.lines().collect();
    lines.sort_unstable();
    assert_eq!(
        lines,
        [
            "60/Example:slow, TOTP, 60",
            "Amazon Web Services:alice@123456789012, TOTP, 30",
            "Counter:hotp, HOTP, 0",
            "touchy, TOTP, 30",
        ],
        "{listed}"
    );

    let (ykman, ykmfa) = both_codes(&f, AWS, 30, &[]);
    assert_eq!(ykman, ykmfa);
    assert_eq!(ykman.len(), 6);
    let (ykman, ykmfa) = both_codes(&f, "60/Example:slow", 60, &[]);
    assert_eq!((ykman.len(), &ykman), (8, &ykmfa));
    // Touch is approved on the bench; ykman asks for it and computes.
    let (ykman, ykmfa) = both_codes(&f, "touchy", 30, &[]);
    assert_eq!((ykman.len(), &ykman), (7, &ykmfa));
    // The HOTP counter starts at the IMF: RFC 4226 count 5.
    assert_eq!(
        f.ykman(&["oath", "accounts", "code", "-s", "Counter:hotp"])
            .trim(),
        "254676"
    );
    let card = f.bench.tokens[0].dump();
    let hotp = card["credentials"]
        .as_array()
        .expect("credentials")
        .iter()
        .find(|c| c["name"] == "Counter:hotp")
        .expect("hotp");
    assert_eq!(hotp["counter"], 6, "ykman computed count 5 and moved on");

    // Without -s, ykman's CALCULATE ALL table agrees too.
    let (step, table) = within_one_step(30, || f.ykman(&["oath", "accounts", "code"]));
    let row = table
        .lines()
        .find(|l| l.starts_with(AWS))
        .unwrap_or_else(|| panic!("{table}"));
    let ykmfa = f.session(|s| s.calculate(AWS.as_bytes(), step, 30).expect("code").value);
    assert!(row.ends_with(&ykmfa), "{row} vs {ykmfa}");
    assert_eq!(
        ykmfa,
        reference(Algorithm::Sha1, 6, 30, aws_seed, step.start(30))
    );
    assert!(table.contains("[Requires Touch]"), "{table}");
    assert!(table.contains("[HOTP Account]"), "{table}");
}

#[test]
fn what_ykman_writes_ykmfa_lists_and_computes_alike() {
    let f = Fixture::new();
    let plain = b"written by ykman, read by ykmfa";
    let short = b"short";
    f.ykman(&[
        "oath",
        "accounts",
        "add",
        "-f",
        "-i",
        "Issuer",
        "plain",
        &b32(plain),
    ]);
    f.ykman(&[
        "oath",
        "accounts",
        "add",
        "-f",
        "-a",
        "SHA256",
        "-d",
        "8",
        "-P",
        "15",
        "fast",
        &b32(short),
    ]);
    f.ykman(&[
        "oath",
        "accounts",
        "add",
        "-f",
        "-a",
        "SHA512",
        "-o",
        "HOTP",
        "-c",
        "3",
        "counter",
        &b32(b"12345678901234567890"),
    ]);
    f.ykman(&[
        "oath",
        "accounts",
        "add",
        "-f",
        "--touch",
        "touchy",
        &b32(plain),
    ]);

    f.session(|s| {
        let mut listed = s.list().expect("LIST");
        listed.sort_by_key(|c| c.id.to_string());
        let summary: Vec<_> = listed
            .iter()
            .map(|c| {
                (
                    c.id.to_string(),
                    c.id.issuer.clone(),
                    c.id.period,
                    c.oath_type,
                    c.algorithm,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "15/fast".into(),
                    None,
                    15,
                    OathType::Totp,
                    Some(Algorithm::Sha256)
                ),
                (
                    "Issuer:plain".into(),
                    Some("Issuer".into()),
                    30,
                    OathType::Totp,
                    Some(Algorithm::Sha1)
                ),
                (
                    "counter".into(),
                    None,
                    0,
                    OathType::Hotp,
                    Some(Algorithm::Sha512)
                ),
                (
                    "touchy".into(),
                    None,
                    30,
                    OathType::Totp,
                    Some(Algorithm::Sha1)
                ),
            ]
        );
        let t = support::now();
        let code = |s: &mut Sess<'_, '_>, name: &str, period: u32| {
            s.calculate(name.as_bytes(), TimeStep::at(t, period), period)
                .expect("CALCULATE")
                .value
        };
        assert_eq!(
            code(s, "Issuer:plain", 30),
            reference(Algorithm::Sha1, 6, 30, plain, t)
        );
        // ykman padded the 5-byte secret to 14 bytes; HMAC does the same to the original.
        assert_eq!(
            code(s, "15/fast", 15),
            reference(Algorithm::Sha256, 8, 15, short, t)
        );
        assert_eq!(
            code(s, "touchy", 30),
            reference(Algorithm::Sha1, 6, 30, plain, t)
        );
        let hotp = s.calculate_raw(b"counter", &[], true).expect("HOTP");
        let hotp = ykmfa::oath::Code::from_truncated(&hotp, TimeStep(0), 30).expect("code");
        assert_eq!(
            hotp.value,
            reference(Algorithm::Sha512, 6, 1, b"12345678901234567890", 3)
        );
        let all = s.calculate_all(t).expect("CALCULATE ALL");
        let touch = all
            .iter()
            .find(|(c, _)| c.id.account == "touchy")
            .expect("touchy");
        assert_eq!((touch.0.touch, touch.1.is_none()), (Some(true), true));
    });
    let (ykman, ykmfa) = both_codes(&f, "15/fast", 15, &[]);
    assert_eq!(ykman, ykmfa);
}

#[test]
fn passwords_set_by_either_client_unlock_the_other() {
    let f = Fixture::new();
    let secret = b"behind a password";
    f.ykman(&["oath", "access", "change", "-n", "ykman-pw"]);
    f.ykman(&[
        "oath",
        "accounts",
        "add",
        "-f",
        "-p",
        "ykman-pw",
        "--touch",
        "guarded",
        &b32(secret),
    ]);
    f.session(|s| {
        assert!(s.is_locked() && s.has_password());
        assert!(matches!(s.list(), Err(Error::Locked)));
        let r = s.unlock(&Password::new("not-it".into()));
        assert!(matches!(r, Err(Error::WrongPassword)), "{r:?}");
        s.unlock(&Password::new("ykman-pw".into()))
            .expect("ykman's password, ykmfa's key derivation");
        let t = support::now();
        let code = s
            .calculate(b"guarded", TimeStep::at(t, 30), 30)
            .expect("touch approved on the bench");
        assert_eq!(code.value, reference(Algorithm::Sha1, 6, 30, secret, t));
        s.set_password(&Password::new("ykmfa-pw".into()))
            .expect("SET CODE");
    });
    // ykman now needs ykmfa's password, and refuses the old one.
    let listed = f.ykman(&["oath", "accounts", "list", "-p", "ykmfa-pw"]);
    assert_eq!(listed.trim(), "guarded");
    let old = f
        .bench
        .ykman(&f.reader, &["oath", "accounts", "list", "-p", "ykman-pw"]);
    assert!(!old.status.success(), "the old password still works");
    assert!(
        support::text(&old.stderr).contains("Authentication"),
        "{}",
        support::text(&old.stderr)
    );
    let (ykman, ykmfa) = both_codes(&f, "guarded", 30, &["-p", "ykmfa-pw"]);
    assert_eq!(ykman, ykmfa);
    assert!(f
        .ykman(&["oath", "info"])
        .contains("Password protection: enabled"));

    f.session(|s| {
        s.unlock(&Password::new("ykmfa-pw".into())).expect("unlock");
        s.clear_password().expect("clear");
    });
    assert!(f
        .ykman(&["oath", "info"])
        .contains("Password protection: disabled"));
    assert_eq!(f.ykman(&["oath", "accounts", "list"]).trim(), "guarded");
}

#[test]
fn rfc_6238_vectors_agree_across_ykman_ykmfa_and_totp_rs() {
    const SEEDS: [(&str, Algorithm, &[u8]); 3] = [
        ("rfc-sha1", Algorithm::Sha1, b"12345678901234567890"),
        (
            "rfc-sha256",
            Algorithm::Sha256,
            b"12345678901234567890123456789012",
        ),
        (
            "rfc-sha512",
            Algorithm::Sha512,
            b"1234567890123456789012345678901234567890123456789012345678901234",
        ),
    ];
    // RFC 6238 appendix B.
    const VECTORS: [(u64, [&str; 3]); 6] = [
        (59, ["94287082", "46119246", "90693936"]),
        (1_111_111_109, ["07081804", "68084774", "25091201"]),
        (1_111_111_111, ["14050471", "67062674", "99943326"]),
        (1_234_567_890, ["89005924", "91819424", "93441116"]),
        (2_000_000_000, ["69279037", "90698825", "38618901"]),
        (20_000_000_000, ["65353130", "77737706", "47863826"]),
    ];
    let f = Fixture::new();
    f.session(|s| {
        for (name, algorithm, seed) in SEEDS {
            let id = CredentialId::totp(None, name).expect("id");
            s.put_new(&data(id, algorithm, 8, seed)).expect("PUT");
        }
    });
    for (time, want) in VECTORS {
        // ykman reads the (frozen) clock itself; one CALCULATE ALL answers all three. Python
        // keeps time in 64-bit nanoseconds and cannot start beyond 2262, so the last vector
        // (year 2603) is checked without ykman.
        let table = if time < 9_000_000_000 {
            f.ykman_at(time, &["oath", "accounts", "code"])
        } else {
            SEEDS
                .iter()
                .zip(want)
                .map(|((name, ..), code)| format!("{name}  {code}\n"))
                .collect()
        };
        for (i, (name, algorithm, seed)) in SEEDS.into_iter().enumerate() {
            let row = table
                .lines()
                .find(|l| l.starts_with(name))
                .unwrap_or_else(|| panic!("{name} missing:\n{table}"));
            let ykman = row.split_whitespace().last().expect("code");
            let ykmfa = f.session(|s| {
                s.calculate(name.as_bytes(), TimeStep::at(time, 30), 30)
                    .expect("CALCULATE")
                    .value
            });
            let totp_rs = reference(algorithm, 8, 30, seed, time);
            assert_eq!(
                [ykman, &ykmfa, &totp_rs],
                [want[i]; 3],
                "{name} at {time}: ykman, ykmfa, totp-rs"
            );
        }
    }
    // And now, with the real clock.
    for (name, algorithm, seed) in SEEDS {
        let (ykman, ykmfa) = both_codes(&f, name, 30, &[]);
        assert_eq!(ykman, ykmfa, "{name}");
        let (step, _) = within_one_step(30, || ());
        assert_eq!(
            f.session(|s| s.calculate(name.as_bytes(), step, 30).expect("code").value),
            reference(algorithm, 8, 30, seed, step.start(30))
        );
    }
}

#[test]
fn ykman_reset_is_seen_by_ykmfa() {
    let f = Fixture::new();
    f.session(|s| {
        let id = CredentialId::totp(None, "doomed").expect("id");
        s.put_new(&data(id, Algorithm::Sha1, 6, b"doomed secret"))
            .expect("PUT");
    });
    let before = f.session(|s| s.device_id());
    assert_eq!(before, f.bench.tokens[0].dump()["oath_device_id"]);
    f.ykman(&["oath", "reset", "-f"]);
    f.session(|s| {
        assert!(s.list().expect("LIST").is_empty());
        assert_ne!(s.device_id(), before, "RESET draws a new salt");
    });
}

#[test]
fn the_civil_date_helper_matches_date() {
    assert_eq!(chrono_free_utc(0), "1970-01-01 00:00:00");
    assert_eq!(chrono_free_utc(59), "1970-01-01 00:00:59");
    assert_eq!(chrono_free_utc(1_111_111_109), "2005-03-18 01:58:29");
    assert_eq!(chrono_free_utc(2_000_000_000), "2033-05-18 03:33:20");
    assert_eq!(chrono_free_utc(20_000_000_000), "2603-10-11 11:33:20");
}
