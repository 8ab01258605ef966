//! A hardware token's row in `bulk apply`: asked of the person at the terminal, sent once,
//! retried once after a refusal, recorded enrolled; left for a person when nobody is there.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::VecDeque;
use std::sync::Mutex;

use super::*;
use crate::mfa::bulk::manifest::{parse, Format};
use crate::mfa::fakes::{totp, Action, FakeClock, FakeDirectory, T0};
use crate::mfa::hardware::Codes;

const SERIAL: &str = "GAKT00000001";
const SEED: &[u8] = b"the token's own seed";
const ACCOUNT: (&str, &str) = ("123456789012", "aws");

/// The person at the terminal (or nobody): types the codes given, in turn.
struct Desk {
    person: bool,
    typed: Mutex<VecDeque<(String, String)>>,
    lines: Mutex<Vec<String>>,
}

impl Desk {
    fn new(person: bool, typed: &[(String, String)]) -> Desk {
        Desk {
            person,
            typed: Mutex::new(typed.iter().cloned().collect()),
            lines: Mutex::new(Vec::new()),
        }
    }
}

impl Watcher for Desk {
    fn note(&self, note: Note<'_>) {
        if let Some(line) = note.line() {
            self.lines.lock().unwrap().push(line);
        }
    }

    fn can_ask(&self) -> bool {
        self.person
    }

    fn codes(&self) -> Result<Codes, String> {
        let Some((a, b)) = self.typed.lock().unwrap().pop_front() else {
            // Nobody answers.
            std::thread::sleep(std::time::Duration::from_secs(60));
            return Err("no more".into());
        };
        Codes::parse(&a, &b).map_err(|e| e.to_string())
    }
}

/// Two consecutive codes of the token's display, as the fake AWS's clock reads them.
fn display() -> (String, String) {
    let now = T0 / 30;
    (totp(SEED, now - 1), totp(SEED, now))
}

fn wrong() -> (String, String) {
    ("123456".into(), "654321".into())
}

fn row(account: &str) -> Row {
    let text = format!("user,account,hardware_serial\ncarol,{account},{SERIAL}\n");
    parse(&text, Format::Csv).expect("valid").remove(0)
}

fn scratch(name: &str) -> Journal {
    let dir = std::env::temp_dir().join(format!("ykmfa-bulk-hw-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Journal::open(&dir.join("j"), None, None).unwrap()
}

fn settings() -> Settings {
    Settings {
        aws: crate::iam::Options::default(),
        iam_concurrency: 1,
        wait: std::time::Duration::ZERO,
        password: None,
    }
}

async fn run(dir: &FakeDirectory, journal: &Journal, desk: &Arc<Desk>, row: &Row) -> Outcome {
    run_until(dir, journal, desk, row, &Cancel::default()).await
}

async fn run_until(
    dir: &FakeDirectory,
    journal: &Journal,
    desk: &Arc<Desk>,
    row: &Row,
    cancel: &Cancel,
) -> Outcome {
    let settings = settings();
    let watcher: Arc<dyn Watcher> = desk.clone();
    let person = Person {
        journal,
        settings: &settings,
        watcher: &watcher,
        cancel,
    };
    let serial = row.hardware_serial.clone().unwrap();
    let o = Outcome::new(row, Status::Failed);
    person.enroll(dir, row, ACCOUNT, serial, o).await
}

fn world() -> FakeDirectory {
    let dir = FakeDirectory::new(FakeClock::fixed(T0), &["carol"]);
    dir.add_hardware_token(SERIAL, SEED, None);
    dir
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_person_the_row_is_left_with_the_command_to_run() {
    let dir = world();
    let journal = scratch("nobody");
    let desk = Arc::new(Desk::new(false, &[display()]));
    let o = run(&dir, &journal, &desk, &row("")).await;
    assert_eq!(o.status, Status::NeedsPerson);
    assert_eq!(
        o.error.as_deref(),
        Some("nobody at a terminal to type two codes from hardware token GAKT00000001's display; a person runs: ykmfa enroll --user carol --hardware-serial GAKT00000001")
    );
    assert_eq!(o.hardware_serial.as_deref(), Some(SERIAL));
    assert_eq!(
        o.command.as_deref(),
        Some("ykmfa enroll --user carol --hardware-serial GAKT00000001")
    );
    // The outcomes' table shows the command whole, to be copied.
    let table = crate::mfa::bulk::text::outcome_table(std::slice::from_ref(&o));
    assert_eq!(
        table[1],
        "   2  PERSON     carol          ykmfa enroll --user carol --hardware-serial GAKT00000001"
    );
    assert!(dir.writes().is_empty());
    assert!(journal.attempts().is_empty() && scratch_attempts(&journal).is_empty());

    // A profile's row says which profile; a role's, which account.
    let o = run(&dir, &journal, &desk, &row("bench-a")).await;
    assert!(o
        .error
        .unwrap()
        .ends_with("ykmfa enroll --profile bench-a --user carol --hardware-serial GAKT00000001"));
    let role = "arn:aws:iam::222222222222:role/MfaAdmin";
    let o = run(&dir, &journal, &desk, &row(role)).await;
    assert!(o.error.unwrap().ends_with(
        "ykmfa enroll --user carol --hardware-serial GAKT00000001, with credentials of account 222222222222 (as role arn:aws:iam::222222222222:role/MfaAdmin has)"
    ));
    assert!(dir.writes().is_empty());
}

/// The attempts on disk (a journal's own list is what it read when it was opened).
fn scratch_attempts(journal: &Journal) -> std::collections::BTreeMap<String, journal::Attempt> {
    journal::peek(journal.path())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_person_types_two_codes_and_the_row_is_recorded_enrolled() {
    let dir = world();
    let journal = scratch("person");
    let desk = Arc::new(Desk::new(true, &[display()]));
    let row = row("");
    let o = run(&dir, &journal, &desk, &row).await;
    assert_eq!(o.status, Status::Enrolled, "{o:?}");
    assert_eq!(o.device.as_deref(), Some(SERIAL));
    assert_eq!(dir.device(SERIAL).unwrap().user.as_deref(), Some("carol"));
    let lines = desk.lines.lock().unwrap().clone();
    assert_eq!(
        lines,
        ["row 2 (carol): two consecutive codes from hardware token GAKT00000001 for carol"]
    );
    let attempts = scratch_attempts(&journal);
    let attempt = &attempts[&row.key()];
    assert_eq!(
        attempt.state,
        journal::State::Enrolled {
            device: SERIAL.into()
        }
    );
    assert!(!attempt.needs_recovery());
    assert_eq!(attempt.planned.token_device, SERIAL);
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_codes_are_asked_once_more_after_saying_to_wait() {
    let dir = world();
    let journal = scratch("again");
    let desk = Arc::new(Desk::new(true, &[wrong(), display()]));
    let o = run(&dir, &journal, &desk, &row("")).await;
    assert_eq!(o.status, Status::Enrolled, "{o:?}");
    assert_eq!(dir.calls_so_far(Action::Enable), 2);
    let lines = desk.lines.lock().unwrap().clone();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[1].contains("AWS did not accept the two codes (nothing was changed); wait until the display changes"),
        "{lines:?}"
    );

    // Refused twice: the row fails, nothing changed, with the command to try again by hand.
    let dir = world();
    let desk = Arc::new(Desk::new(true, &[wrong(), wrong()]));
    let o = run(&dir, &scratch("twice"), &desk, &row("")).await;
    assert_eq!(o.status, Status::Failed);
    assert_eq!(
        o.error.as_deref(),
        Some("AWS did not accept the two codes; nothing was changed; a person runs: ykmfa enroll --user carol --hardware-serial GAKT00000001")
    );
    assert_eq!(dir.calls_so_far(Action::Enable), 2);
    assert_eq!(dir.device(SERIAL).unwrap().user, None);

    // Codes that are not codes are never sent.
    let dir = world();
    let desk = Arc::new(Desk::new(true, &[("12345".into(), "123456".into())]));
    let o = run(&dir, &scratch("typo"), &desk, &row("")).await;
    assert_eq!(o.status, Status::Failed);
    assert_eq!(
        o.error.as_deref(),
        Some("code 1 is not six digits; nothing was changed")
    );
    assert_eq!(dir.calls_so_far(Action::Enable), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stop_signal_while_the_codes_are_awaited_ends_the_row_at_once_with_nothing_sent() {
    let dir = world();
    let journal = scratch("stop");
    let desk = Arc::new(Desk::new(true, &[]));
    let cancel = Cancel::default();
    let stop = cancel.clone();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        stop.cancel();
    });
    let started = std::time::Instant::now();
    let o = run_until(&dir, &journal, &desk, &row(""), &cancel).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(o.status, Status::NotStarted);
    assert_eq!(
        o.error.as_deref(),
        Some("interrupted while waiting for the codes; nothing was changed")
    );
    assert!(dir.writes().is_empty());
    assert!(scratch_attempts(&journal).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_enrolled_by_hand_since_is_recorded_and_the_row_skipped() {
    let dir = FakeDirectory::new(FakeClock::fixed(T0), &["carol"]);
    dir.add_hardware_token(SERIAL, SEED, Some("carol"));
    let journal = scratch("by-hand");
    let desk = Arc::new(Desk::new(false, &[]));
    let row = row("");
    let o = run(&dir, &journal, &desk, &row).await;
    assert_eq!(o.status, Status::AlreadyEnrolled, "{o:?}");
    assert_eq!(o.device.as_deref(), Some(SERIAL));
    assert_eq!(
        o.recovered,
        ["found hardware token GAKT00000001 already one of carol's MFA devices (enrolled outside this run)"]
    );
    assert!(dir.writes().is_empty());
    assert_eq!(
        scratch_attempts(&journal)[&row.key()].state,
        journal::State::Enrolled {
            device: SERIAL.into()
        }
    );
}
