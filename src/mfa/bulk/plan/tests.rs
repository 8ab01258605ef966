#![allow(clippy::expect_used, clippy::unwrap_used)]

use super::*;
use crate::iam::MAX_DEVICES_PER_USER;
use crate::mfa::bulk::manifest::{parse, Format};
use crate::mfa::fakes::{FakeClock, FakeDirectory, T0};

const SERIAL: &str = "GAKT00000001";

fn row(user: &str) -> Row {
    let text = format!("user,hardware_serial\n{user},{SERIAL}\n");
    parse(&text, Format::Csv).expect("valid").remove(0)
}

async fn plan_of(dir: &FakeDirectory, row: &Row) -> PlannedRow {
    let mut p = planned(row);
    let serial = row.hardware_serial.clone().unwrap();
    hardware_row(dir, row, &serial, &mut p).await;
    p
}

#[tokio::test]
async fn a_hardware_row_that_is_ready_needs_a_person() {
    let dir = FakeDirectory::new(FakeClock::fixed(T0), &["alice"]);
    dir.add_device("alice-yk1", &[], Some("alice"));
    let p = plan_of(&dir, &row("alice")).await;
    assert_eq!(p.verdict, Verdict::NeedsPerson);
    assert_eq!(
        p.problem.as_deref(),
        Some(
            "a hardware token: apply asks a person at the terminal for two codes from its display"
        )
    );
    assert_eq!(p.token, "hardware token GAKT00000001");
    assert_eq!(p.device_name.as_deref(), Some(SERIAL));
    assert_eq!((p.devices_before, p.credential.as_deref()), (Some(1), None));
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["verdict"], "needs_person");
    assert!(dir.writes().is_empty());

    // The plan's table says it plainly, and it is no problem for the exit code.
    let table = crate::mfa::bulk::text::plan_table(std::slice::from_ref(&p));
    assert!(table[1].ends_with("a person types 2 codes"), "{table:?}");
    assert_eq!(crate::mfa::bulk::text::problems(&[p]), 0);
}

#[tokio::test]
async fn what_iam_refuses_stays_a_problem() {
    let dir = FakeDirectory::new(FakeClock::fixed(T0), &["alice", "bob"]);
    let p = plan_of(&dir, &row("carol")).await;
    assert_eq!(p.verdict, Verdict::Problem);
    assert!(
        p.problem
            .as_deref()
            .unwrap()
            .contains("'carol' does not exist"),
        "{p:?}"
    );

    for i in 0..MAX_DEVICES_PER_USER {
        dir.add_device(&format!("bob-{i}"), &[], Some("bob"));
    }
    let p = plan_of(&dir, &row("bob")).await;
    assert_eq!(p.verdict, Verdict::Problem);
    assert_eq!(
        p.problem.as_deref(),
        Some("bob has 8 MFA devices, the most IAM allows")
    );
    assert!(dir.writes().is_empty());
}

#[tokio::test]
async fn a_token_that_is_the_users_already_is_the_row_done() {
    // Enrolled by hand, as a row left for a person says to.
    let dir = FakeDirectory::new(FakeClock::fixed(T0), &["alice"]);
    dir.add_hardware_token(SERIAL, &[1; 20], Some("alice"));
    let p = plan_of(&dir, &row("alice")).await;
    assert_eq!(p.verdict, Verdict::AlreadyEnrolled);
    assert_eq!(
        p.problem.as_deref(),
        Some("hardware token GAKT00000001 is already one of alice's MFA devices: apply records the row as enrolled")
    );
    let table = crate::mfa::bulk::text::plan_table(std::slice::from_ref(&p));
    assert!(table[1].ends_with("already enrolled (IAM)"), "{table:?}");
    assert_eq!(crate::mfa::bulk::text::problems(&[p]), 0);
}
