//! Bounded fuzzing of every parser that reads what a token says.
//!
//! Property tests (proptest) rather than cargo-fuzz, which needs a nightly toolchain: each
//! target runs `YKMFA_FUZZ_CASES` cases (2000 by default; CI may ask for more) and writes how
//! many times it ran the code under test to stderr, past the test harness's capture:
//!
//! ```text
//! fuzz tlv: 2000 cases, 2000 executions, 0.1 s
//! ```
//!
//! Targets: the TLV parser, `Response::parse`, `CredentialId::parse` (and the names ykmfa
//! writes), `Code::from_truncated`, the answers to SELECT, LIST, CALCULATE, CALCULATE ALL,
//! VALIDATE and VERIFY PIN through a scripted card (arbitrary bytes, arbitrary chained
//! sequences, a card stuck repeating itself), `identify_over` and the Management READ CONFIG
//! parser. Besides "never panics", each checks what must hold of an answer it accepts.
//!
//! `tests/fuzz-corpus/*.hex` holds interesting inputs with their expected outcome; they run on
//! every `cargo test` (see `corpus`).

use std::fmt::Debug;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use ykmfa::oath::apdu::Response;
use ykmfa::oath::auth::{self, Password};
use ykmfa::oath::tlv;
use ykmfa::oath::{Code, CredentialId, Error, OathType, Session, TimeStep};
use ykmfa::token::{self, Serial};
use ykmfa::transport::{Transport, TransportError};

// ---------------------------------------------------------------------------------------------
// The harness

fn cases() -> u32 {
    std::env::var("YKMFA_FUZZ_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(2000)
}

/// Runs `check` on `cases()` values of `strategy`, shrinking a failure to a minimal input, and
/// reports the number of executions. The cases are shared out over two runners on two threads
/// (each with its own random source), so that one slow target at the end of the binary keeps
/// both cores busy.
fn fuzz<S>(target: &str, strategy: S, check: impl Fn(S::Value) -> Result<(), TestCaseError> + Sync)
where
    S: Strategy + Sync,
    S::Value: Debug,
{
    const RUNNERS: u32 = 2;
    let executions = AtomicU64::new(0);
    let started = Instant::now();
    let total = cases();
    let results: Vec<_> = std::thread::scope(|scope| {
        let runners: Vec<_> = (0..RUNNERS)
            .map(|i| {
                let (strategy, check, executions) = (&strategy, &check, &executions);
                // The first runner takes the remainder.
                let share = total / RUNNERS + if i == 0 { total % RUNNERS } else { 0 };
                scope.spawn(move || {
                    let config = Config {
                        cases: share,
                        failure_persistence: None,
                        ..Config::default()
                    };
                    TestRunner::new(config)
                        .run(strategy, |value| {
                            executions.fetch_add(1, Ordering::Relaxed);
                            check(value)
                        })
                        .map_err(|e| e.to_string())
                })
            })
            .collect();
        runners
            .into_iter()
            .map(|r| {
                r.join()
                    .unwrap_or_else(|_| Err("a runner panicked".to_owned()))
            })
            .collect()
    });
    // Straight to the process's stderr: the harness captures print! output of passing tests.
    let _ = writeln!(
        std::io::stderr(),
        "fuzz {target}: {total} cases, {} executions, {:.1} s",
        executions.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
    for result in results {
        if let Err(e) = result {
            panic!("fuzz {target}: {e}");
        }
    }
}

/// A card that answers from a script: each command gets the next answer; when the script runs
/// out it either repeats its last answer for ever (a stuck card) or is pulled out.
struct Script {
    answers: Vec<Vec<u8>>,
    next: usize,
    stuck: bool,
    commands: Vec<Vec<u8>>,
}

impl Script {
    fn new(answers: Vec<Vec<u8>>) -> Self {
        Script {
            answers,
            next: 0,
            stuck: false,
            commands: Vec::new(),
        }
    }

    fn stuck(answers: Vec<Vec<u8>>) -> Self {
        Script {
            stuck: true,
            ..Script::new(answers)
        }
    }
}

impl Transport for Script {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.commands.push(command.to_vec());
        let answer = match self.answers.get(self.next) {
            Some(a) => a,
            None if self.stuck && !self.answers.is_empty() => &self.answers[self.answers.len() - 1],
            None => return Err(TransportError::CardRemoved),
        };
        self.next += 1;
        Ok(answer.clone())
    }
}

/// Every command the client sends is a well-formed short APDU with Le: `CLA INS P1 P2 [Lc data] 00`.
fn well_formed(commands: &[Vec<u8>]) -> Result<(), TestCaseError> {
    for c in commands {
        let ok = match c.len() {
            0..=4 => false,
            5 => c[4] == 0,
            n => usize::from(c[4]) == n - 6 && c[4] != 0 && c[n - 1] == 0,
        };
        prop_assert!(ok, "malformed command {:02X?}", c);
    }
    Ok(())
}

fn code_is_well_formed(code: &Code) -> Result<(), TestCaseError> {
    prop_assert!((6..=10).contains(&code.value.len()), "{code:?}");
    prop_assert!(code.value.bytes().all(|b| b.is_ascii_digit()), "{code:?}");
    prop_assert!(code.valid_from <= code.valid_to, "{code:?}");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Strategies

/// Tags the OATH applet uses, so generated TLVs often mean something.
const TAGS: [u8; 14] = [
    0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x7B, 0x7C, 0x82, 0x8F,
];

fn tag() -> impl Strategy<Value = u8> {
    prop_oneof![4 => proptest::sample::select(TAGS.to_vec()), 1 => any::<u8>()]
}

/// TLV-shaped bytes: well-formed sequences, sometimes cut short or with one byte changed.
fn tlv_bytes() -> impl Strategy<Value = Vec<u8>> {
    let value = prop_oneof![
        3 => proptest::collection::vec(any::<u8>(), 0..24),
        1 => proptest::collection::vec(any::<u8>(), 0..300),
        // The shapes parsers look for: a version, a truncated code, a typed name.
        1 => Just(vec![5, 4, 3]),
        1 => proptest::collection::vec(any::<u8>(), 5..=5),
        1 => (prop_oneof![Just(0x21u8), Just(0x11), Just(0x22), Just(0x13), any::<u8>()],
              proptest::collection::vec(any::<u8>(), 0..40))
            .prop_map(|(t, mut name)| { name.insert(0, t); name }),
    ];
    let items = proptest::collection::vec((tag(), value), 0..8);
    (items, 0usize..4, any::<usize>(), any::<u8>()).prop_map(|(items, damage, at, byte)| {
        let mut out = Vec::new();
        for (t, v) in items {
            tlv::push(&mut out, t, &v);
        }
        match damage {
            1 if !out.is_empty() => out.truncate(at % out.len()),
            2 if !out.is_empty() => {
                let i = at % out.len();
                out[i] = byte;
            }
            _ => {}
        }
        out
    })
}

fn data() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => tlv_bytes(),
        1 => proptest::collection::vec(any::<u8>(), 0..300),
    ]
}

/// Status words, weighted towards the ones clients branch on.
fn sw() -> impl Strategy<Value = [u8; 2]> {
    prop_oneof![
        6 => Just([0x90, 0x00]),
        3 => any::<u8>().prop_map(|n| [0x61, n]),
        1 => proptest::sample::select(vec![
            [0x69, 0x82], [0x69, 0x83], [0x69, 0x84], [0x69, 0x85], [0x6A, 0x80], [0x6A, 0x82],
            [0x6A, 0x84], [0x6D, 0x00], [0x65, 0x81], [0x63, 0x00], [0x63, 0xC2], [0x6F, 0x00],
        ]),
        1 => any::<[u8; 2]>(),
    ]
}

/// One answer from a card: data and status word, or (rarely) something too short for one.
fn answer() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        12 => (data(), sw()).prop_map(|(mut d, sw)| { d.extend_from_slice(&sw); d }),
        1 => proptest::collection::vec(any::<u8>(), 0..2),
    ]
}

fn answers() -> impl Strategy<Value = Vec<Vec<u8>>> {
    proptest::collection::vec(answer(), 0..6)
}

const SALT: [u8; 8] = [1, 2, 3, 4, 5, 6, 7, 8];
const CARD_CHALLENGE: [u8; 8] = [9, 8, 7, 6, 5, 4, 3, 2];

fn select_yubikey() -> Vec<u8> {
    let mut v = vec![0x79, 3, 5, 4, 3, 0x71, 8];
    v.extend_from_slice(&SALT);
    v.extend_from_slice(&[0x90, 0x00]);
    v
}

fn select_locked() -> Vec<u8> {
    let mut v = vec![0x79, 3, 5, 4, 3, 0x71, 8];
    v.extend_from_slice(&SALT);
    v.extend_from_slice(&[0x74, 8]);
    v.extend_from_slice(&CARD_CHALLENGE);
    v.extend_from_slice(&[0x7B, 1, 0x01, 0x90, 0x00]);
    v
}

fn select_nitrokey() -> Vec<u8> {
    let mut v = vec![0x79, 3, 4, 16, 0, 0x71, 8];
    v.extend_from_slice(&SALT);
    v.extend_from_slice(&[0x8F, 4, 0x12, 0x34, 0x56, 0x78, 0x90, 0x00]);
    v
}

/// A session over `script`, or `None` when SELECT (scripted too) failed.
fn open(script: Script) -> Option<Session<Script>> {
    Session::open(script).ok()
}

fn with_select(select: Vec<u8>, rest: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    let mut all = vec![select];
    all.extend(rest);
    all
}

fn any_select() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(select_yubikey()),
        Just(select_nitrokey()),
        Just(select_locked())
    ]
}

// ---------------------------------------------------------------------------------------------
// Pure parsers

#[test]
fn fuzz_tlv() {
    fuzz(
        "tlv",
        prop_oneof![tlv_bytes(), proptest::collection::vec(any::<u8>(), 0..600)],
        |bytes| {
            let all = tlv::parse_all(&bytes);
            let items: Vec<_> = tlv::iter(&bytes).collect();
            match &all {
                Ok(tlvs) => {
                    prop_assert_eq!(tlvs.len(), items.len());
                    // Values are slices of the input, in order, without overlap.
                    let total: usize = tlvs.iter().map(|t| 2 + t.value.len()).sum();
                    prop_assert!(total <= bytes.len());
                }
                Err(e) => {
                    prop_assert!(matches!(e, Error::Malformed(_)), "{e:?}");
                    prop_assert!(items.last().is_some_and(Result::is_err));
                    prop_assert_eq!(items.iter().filter(|i| i.is_err()).count(), 1);
                }
            }
            Ok(())
        },
    );
}

#[test]
fn fuzz_tlv_round_trip() {
    fuzz(
        "tlv-round-trip",
        proptest::collection::vec(
            (any::<u8>(), proptest::collection::vec(any::<u8>(), 0..400)),
            0..5,
        ),
        |items| {
            let mut buf = Vec::new();
            for (t, v) in &items {
                tlv::push(&mut buf, *t, v);
            }
            let parsed = tlv::parse_all(&buf).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let back: Vec<(u8, Vec<u8>)> =
                parsed.iter().map(|t| (t.tag, t.value.to_vec())).collect();
            prop_assert_eq!(back, items);
            Ok(())
        },
    );
}

#[test]
fn fuzz_response() {
    fuzz(
        "response",
        proptest::collection::vec(any::<u8>(), 0..300),
        |raw| {
            match Response::parse(&raw) {
                Ok(r) => {
                    prop_assert!(raw.len() >= 2);
                    let mut back = r.data.clone();
                    back.extend_from_slice(&r.sw.to_u16().to_be_bytes());
                    prop_assert_eq!(back, raw);
                }
                Err(e) => {
                    prop_assert!(raw.len() < 2);
                    prop_assert!(matches!(e, Error::Malformed(_)));
                }
            }
            Ok(())
        },
    );
}

/// Whether `raw` starts with a period prefix that would print back differently ("30/", "060/").
fn non_canonical_prefix(raw: &str) -> bool {
    let Some((digits, rest)) = raw.split_once('/') else {
        return false;
    };
    match digits.parse::<u32>() {
        Ok(p) if p > 0 && !rest.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            p == 30 || p.to_string() != digits
        }
        _ => false,
    }
}

fn id_text() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        2 => "([0-9]{0,3}/)?([A-Za-z :/é]{0,6}:)?[A-Za-z0-9 :/@.é-]{0,12}".prop_map(String::into_bytes),
        1 => proptest::collection::vec(any::<u8>(), 0..80),
    ]
}

#[test]
fn fuzz_credential_id_parse() {
    fuzz(
        "credential-id",
        (id_text(), any::<bool>()),
        |(raw, hotp)| {
            let oath_type = if hotp { OathType::Hotp } else { OathType::Totp };
            let id = CredentialId::parse(&raw, oath_type);
            prop_assert_eq!(id.oath_type, oath_type);
            prop_assert!(hotp == (id.period == 0));
            // What LIST shows is the name on the token, unless the name is not UTF-8 (shown
            // lossily) or carries a period prefix that prints differently ("30/x" shows as "x").
            if let Ok(text) = std::str::from_utf8(&raw) {
                if hotp || !non_canonical_prefix(text) {
                    prop_assert_eq!(id.to_string(), text);
                }
            }
            Ok(())
        },
    );
}

#[test]
fn fuzz_credential_id_written() {
    let part = "[A-Za-z0-9 :/@.é-]{0,10}";
    fuzz(
        "credential-id-written",
        (
            proptest::option::of(part),
            part,
            prop_oneof![Just(30u32), Just(60), Just(15), 0u32..100_000],
            any::<bool>(),
        ),
        |(issuer, account, period, hotp)| {
            let id = CredentialId {
                issuer,
                account,
                period: if hotp { 0 } else { period },
                oath_type: if hotp { OathType::Hotp } else { OathType::Totp },
            };
            // Any name ykmfa agrees to write reads back as exactly that credential.
            if id.validate().is_ok() {
                let back = CredentialId::parse(&id.to_bytes(), id.oath_type);
                prop_assert_eq!(&back, &id);
                prop_assert!(id.to_bytes().len() <= 64);
            }
            Ok(())
        },
    );
}

#[test]
fn fuzz_truncated_code() {
    fuzz(
        "truncated-code",
        (
            prop_oneof![
                3 => (6u8..=10, any::<[u8; 4]>()).prop_map(|(d, v)| { let mut r = vec![d]; r.extend(v); r }),
                1 => proptest::collection::vec(any::<u8>(), 0..8),
            ],
            any::<u64>(),
            1u32..=u32::MAX,
        ),
        |(raw, step, period)| {
            match Code::from_truncated(&raw, TimeStep(step), period) {
                Ok(code) => {
                    prop_assert_eq!(raw.len(), 5);
                    prop_assert_eq!(code.value.len(), usize::from(raw[0]));
                    code_is_well_formed(&code)?;
                    let value = u32::from_be_bytes([raw[1], raw[2], raw[3], raw[4]]) & 0x7FFF_FFFF;
                    prop_assert_eq!(
                        code.value.parse::<u64>().ok(),
                        Some(u64::from(value) % 10u64.pow(u32::from(raw[0])))
                    );
                }
                Err(e) => {
                    prop_assert!(matches!(e, Error::Malformed(_)));
                    prop_assert!(raw.len() != 5 || !(6..=10).contains(&raw[0]));
                }
            }
            Ok(())
        },
    );
}

#[test]
fn fuzz_read_config() {
    let structured = (
        proptest::option::of(any::<u32>()),
        proptest::option::of(any::<[u8; 3]>()),
        tlv_bytes(),
    )
        .prop_map(|(serial, firmware, extra)| {
            let mut body = Vec::new();
            if let Some(s) = serial {
                tlv::push(&mut body, 0x02, &s.to_be_bytes());
            }
            if let Some(f) = firmware {
                tlv::push(&mut body, 0x05, &f);
            }
            body.extend(extra);
            let mut out = vec![body.len().min(255) as u8];
            out.extend(body);
            out
        });
    fuzz(
        "read-config",
        prop_oneof![structured, proptest::collection::vec(any::<u8>(), 0..300)],
        |raw| {
            let info = token::parse_device_info(&raw);
            // A serial comes only from a 4-byte tag 02 inside the announced length.
            if let Some(Serial(s)) = info.serial {
                let needle = [&[0x02, 0x04][..], &s.to_be_bytes()].concat();
                prop_assert!(raw.windows(6).any(|w| w == needle.as_slice()));
            }
            Ok(())
        },
    );
}

// ---------------------------------------------------------------------------------------------
// Card answers through a session

#[test]
fn fuzz_select() {
    fuzz("select", answers(), |answers| {
        let mut script = Script::new(answers);
        let result =
            Session::open(&mut script).map(|s| (s.version(), s.is_locked(), s.device_id()));
        well_formed(&script.commands)?;
        if let Ok((_, _, id)) = result {
            // base64 of 16 bytes, or a Nitrokey's serial in hex.
            prop_assert!(id.len() == 22 || id.len() == 8, "{id}");
            prop_assert!(script.commands[0][1] == 0xA4);
        }
        Ok(())
    });
}

#[test]
fn fuzz_list() {
    fuzz(
        "list",
        (any_select(), answers(), any::<bool>()),
        |(select, rest, stuck)| {
            let all = with_select(select, rest);
            let script = if stuck {
                Script::stuck(all)
            } else {
                Script::new(all)
            };
            let Some(mut s) = open(script) else {
                return Ok(());
            };
            if let Ok(list) = s.list() {
                for c in &list {
                    prop_assert_eq!(c.id.oath_type, c.oath_type);
                }
            }
            // SELECT and LIST may each chain, but not without end.
            prop_assert!(s.apdu_count() <= 2 * 1024);
            well_formed(&s.into_transport().commands)
        },
    );
}

#[test]
fn fuzz_calculate() {
    fuzz(
        "calculate",
        (
            any_select(),
            answers(),
            any::<u64>(),
            1u32..=300,
            any::<bool>(),
        ),
        |(select, rest, step, period, stuck)| {
            let all = with_select(select, rest);
            let script = if stuck {
                Script::stuck(all)
            } else {
                Script::new(all)
            };
            let Some(mut s) = open(script) else {
                return Ok(());
            };
            match s.calculate(b"Issuer:account", TimeStep(step), period) {
                Ok(code) => code_is_well_formed(&code)?,
                Err(e) => prop_assert!(!matches!(e, Error::CommandTooLong(_)), "{e:?}"),
            }
            if let Ok(raw) = s.calculate_raw(b"x", &[1, 2, 3], false) {
                prop_assert!(raw.len() < 300);
            }
            well_formed(&s.into_transport().commands)
        },
    );
}

#[test]
fn fuzz_calculate_all() {
    fuzz(
        "calculate-all",
        (any_select(), answers(), any::<u64>(), any::<bool>()),
        |(select, rest, now, stuck)| {
            let all = with_select(select, rest);
            let script = if stuck {
                Script::stuck(all)
            } else {
                Script::new(all)
            };
            let Some(mut s) = open(script) else {
                return Ok(());
            };
            if let Ok(all) = s.calculate_all(now) {
                for (c, code) in &all {
                    if let Some(code) = code {
                        code_is_well_formed(code)?;
                        prop_assert_eq!(c.touch, Some(false));
                    }
                }
            }
            well_formed(&s.into_transport().commands)
        },
    );
}

#[test]
fn fuzz_validate() {
    fuzz("validate", (answers(), any::<bool>()), |(rest, stuck)| {
        let all = with_select(select_locked(), rest);
        let script = if stuck {
            Script::stuck(all)
        } else {
            Script::new(all)
        };
        let mut s = Session::open(script).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let r = s.unlock(&Password::new("password".into()));
        // No answer made of random bytes proves knowledge of the key.
        prop_assert!(r.is_err(), "a random answer unlocked the session");
        prop_assert!(s.is_locked());
        let sent = s.into_transport().commands;
        well_formed(&sent)?;
        // The password never leaves the host; only its HMAC proof does.
        static PROOF: std::sync::OnceLock<[u8; 20]> = std::sync::OnceLock::new();
        let proof = PROOF.get_or_init(|| {
            let key = auth::derive_key(&Password::new("password".into()), &SALT);
            auth::hmac_sha1(key.as_ref(), &CARD_CHALLENGE)
        });
        prop_assert!(sent[1].windows(20).any(|w| w == proof));
        prop_assert!(!sent.iter().any(|c| c.windows(8).any(|w| w == b"password")));
        Ok(())
    });
}

#[test]
fn fuzz_nitrokey_answers() {
    fuzz("nitrokey", (answers(), any::<bool>()), |(rest, stuck)| {
        let all = with_select(select_nitrokey(), rest);
        let script = if stuck {
            Script::stuck(all)
        } else {
            Script::new(all)
        };
        let Some(mut s) = open(script) else {
            return Ok(());
        };
        let _ = s.verify_pin(&Password::new("123456".into()));
        let _ = s.list();
        let _ = s.calculate(b"x", TimeStep(1), 30);
        let sent = s.into_transport().commands;
        // Chained answers are fetched with ISO GET RESPONSE, never YKOATH's A5, on a Nitrokey.
        prop_assert!(sent.iter().skip(1).all(|c| c[1] != 0xA5));
        well_formed(&sent)
    });
}

#[test]
fn fuzz_identify() {
    fuzz(
        "identify",
        (answers(), any::<bool>()),
        |(answers, stuck)| {
            let mut script = if stuck {
                Script::stuck(answers)
            } else {
                Script::new(answers)
            };
            if let Ok(t) = token::identify_over("Fuzz Reader 00 00", &mut script) {
                prop_assert_eq!(t.reader.as_str(), "Fuzz Reader 00 00");
                if let (Some(used), Some(capacity)) = (t.credentials, t.capacity) {
                    prop_assert!(t.free() == Some(capacity.saturating_sub(used)));
                }
            }
            prop_assert!(script.commands.len() <= 2 * 1024 + 6);
            Ok(())
        },
    );
}

// ---------------------------------------------------------------------------------------------
// The regression corpus

/// One corpus line: `HEX [| HEX ...] => EXPECTED`: the input (pieces are the answers of a
/// scripted card, in order; spaces inside HEX ignored) and the outcome it must have. `#` starts
/// a comment.
struct Case {
    line: usize,
    expected: String,
    pieces: Vec<Vec<u8>>,
}

fn read_corpus(file: &str) -> Vec<Case> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-corpus")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut cases = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let (hex, expected) = line
            .split_once("=>")
            .unwrap_or_else(|| panic!("{file}:{}: no '=> EXPECTED'", i + 1));
        let pieces = hex
            .split('|')
            .map(|p| {
                let digits: String = p.chars().filter(|c| !c.is_whitespace()).collect();
                assert!(digits.len().is_multiple_of(2), "{file}:{}: odd hex", i + 1);
                (0..digits.len())
                    .step_by(2)
                    .map(|j| u8::from_str_radix(&digits[j..j + 2], 16))
                    .collect::<Result<Vec<u8>, _>>()
                    .unwrap_or_else(|e| panic!("{file}:{}: {e}", i + 1))
            })
            .collect();
        cases.push(Case {
            line: i + 1,
            expected: expected.trim().to_owned(),
            pieces,
        });
    }
    assert!(!cases.is_empty(), "{file} is empty");
    cases
}

/// The error's variant name: `Malformed`, `Status`, `Transport`…
fn variant(e: &Error) -> String {
    let shown = format!("{e:?}");
    shown
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn outcome<T>(r: Result<T, Error>, ok: impl FnOnce(T) -> String) -> String {
    match r {
        Ok(v) => format!("ok {}", ok(v)).trim_end().to_owned(),
        Err(e) => format!("err {}", variant(&e)),
    }
}

#[test]
fn corpus() {
    type Target = fn(&[Vec<u8>]) -> String;
    let targets: [(&str, Target); 12] = [
        ("tlv.hex", |p| {
            outcome(tlv::parse_all(&p[0]), |t| t.len().to_string())
        }),
        ("response.hex", |p| {
            outcome(Response::parse(&p[0]), |r| r.sw.to_string())
        }),
        ("credential-id-totp.hex", |p| {
            id_outcome(&p[0], OathType::Totp)
        }),
        ("credential-id-hotp.hex", |p| {
            id_outcome(&p[0], OathType::Hotp)
        }),
        ("truncated-code.hex", |p| {
            outcome(Code::from_truncated(&p[0], TimeStep(1), 30), |c| c.value)
        }),
        ("read-config.hex", |p| {
            let info = token::parse_device_info(&p[0]);
            let serial = info.serial.map_or("-".into(), |s| s.to_string());
            let firmware = info.firmware.map_or("-".into(), |f| f.to_string());
            format!("{serial} {firmware}")
        }),
        ("select.hex", |p| {
            outcome(Session::open(Script::new(p.to_vec())), |s| {
                let state = if s.is_locked() { "locked" } else { "open" };
                format!("{} {:?} {state} {}", s.version(), s.vendor(), s.device_id())
            })
        }),
        ("list.hex", |p| {
            let mut s = Session::open(Script::new(p.to_vec())).expect("the first piece SELECTs");
            outcome(s.list(), |l| {
                l.iter()
                    .map(|c| c.id.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            })
        }),
        ("calculate.hex", |p| {
            let mut s = Session::open(Script::new(p.to_vec())).expect("the first piece SELECTs");
            outcome(s.calculate(b"x", TimeStep(1), 30), |c| c.value)
        }),
        ("calculate-all.hex", |p| {
            let mut s = Session::open(Script::new(p.to_vec())).expect("the first piece SELECTs");
            outcome(s.calculate_all(59), |all| {
                all.iter()
                    .map(|(c, code)| match code {
                        Some(code) => format!("{}={}", c.id, code.value),
                        None => format!("{}=-", c.id),
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            })
        }),
        ("identify.hex", |p| {
            match token::identify_over("Fuzz Reader 00 00", &mut Script::new(p.to_vec())) {
                Ok(t) => {
                    let or_dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
                    format!(
                        "ok {:?} {} {} {}",
                        t.kind,
                        or_dash(t.serial.map(|s| s.to_string())),
                        or_dash(t.firmware.map(|f| f.to_string())),
                        or_dash(t.credentials.map(|c| c.to_string()))
                    )
                }
                Err(e) => {
                    let shown = format!("{e:?}");
                    let name = shown.split(|c: char| !c.is_alphanumeric()).next();
                    format!("err {}", name.unwrap_or_default())
                }
            }
        }),
        ("validate.hex", |p| {
            let mut s = Session::open(Script::new(p.to_vec())).expect("the first piece SELECTs");
            outcome(s.unlock(&Password::new("password".into())), |()| {
                String::new()
            })
        }),
    ];
    let mut failures = Vec::new();
    let mut total = 0;
    for (file, target) in targets {
        for case in read_corpus(file) {
            total += 1;
            let pieces = case.pieces.clone();
            let got = std::panic::catch_unwind(move || target(&pieces))
                .unwrap_or_else(|_| "PANIC".to_owned());
            if got.trim() != case.expected {
                failures.push(format!(
                    "{file}:{}: expected '{}', got '{got}'",
                    case.line, case.expected
                ));
            }
        }
    }
    let _ = writeln!(std::io::stderr(), "fuzz corpus: {total} inputs");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn id_outcome(raw: &[u8], oath_type: OathType) -> String {
    let id = CredentialId::parse(raw, oath_type);
    format!(
        "{} {} {} shown as {}",
        id.period,
        id.issuer.as_deref().unwrap_or("-"),
        id.account,
        id
    )
}
