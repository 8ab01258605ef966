#![allow(clippy::expect_used, clippy::unwrap_used)]

use super::*;
use crate::mfa::fakes::{timeout, totp, Action, FakeClock, FakeDirectory, T0};

const SERIAL: &str = "GAKT00000001";

fn serial() -> HardwareSerial {
    HardwareSerial::parse(SERIAL).unwrap()
}

fn codes() -> Codes {
    Codes::parse("123456", "654321").unwrap()
}

#[test]
fn serials_are_letters_and_digits_not_arns() {
    assert_eq!(
        HardwareSerial::parse("  GAKT12345678 ").unwrap().as_str(),
        "GAKT12345678"
    );
    assert!(matches!(
        HardwareSerial::parse("arn:aws:iam::123456789012:mfa/alice"),
        Err(SerialError::Arn(_))
    ));
    for bad in [
        "",
        "GAKT1234",
        "GAKT-12345678",
        "GAKT 12345678",
        &"G".repeat(65),
    ] {
        assert!(
            matches!(HardwareSerial::parse(bad), Err(SerialError::Malformed(_))),
            "{bad:?}"
        );
    }
}

#[test]
fn codes_are_six_digits_and_differ() {
    assert!(Codes::parse(" 123456\n", "000001").is_ok());
    assert_eq!(
        Codes::parse("12345", "123456").unwrap_err(),
        CodeError::NotSixDigits(1)
    );
    assert_eq!(
        Codes::parse("123456", "12345a").unwrap_err(),
        CodeError::NotSixDigits(2)
    );
    assert_eq!(
        Codes::parse("123456", "1234567").unwrap_err(),
        CodeError::NotSixDigits(2)
    );
    assert_eq!(
        Codes::parse("123456", " 123456").unwrap_err(),
        CodeError::Same
    );
    // A code never shows in Debug output (a log line with {:?} would carry it).
    assert_eq!(format!("{:?}", codes()), "Codes(..)");
}

#[tokio::test]
async fn preflight_refuses_before_any_code_is_asked() {
    let dir = FakeDirectory::new(FakeClock::fixed(T0), &["alice", "bob"]);
    let unknown = prepare(&dir, "carol", serial(), Purpose::Enroll).await;
    assert!(matches!(unknown, Err(HardwareError::UnknownUser { .. })));
    let resync = prepare(&dir, "alice", serial(), Purpose::Resync).await;
    assert!(matches!(resync, Err(HardwareError::NotUsers { .. })));
    for i in 0..MAX_DEVICES_PER_USER {
        dir.add_device(&format!("bob-{i}"), &[], Some("bob"));
    }
    let full = prepare(&dir, "bob", serial(), Purpose::Enroll).await;
    assert!(matches!(
        full,
        Err(HardwareError::TooManyDevices { count: 8, .. })
    ));
    assert!(dir.writes().is_empty());
}

#[tokio::test]
async fn refusals_of_iam_read_as_what_they_mean() {
    let dir = FakeDirectory::new(FakeClock::fixed(T0), &["alice"]);
    // The fake knows no hardware token: EnableMFADevice answers NoSuchEntity, as AWS does for
    // a serial it does not hold.
    let ready = prepare(&dir, "alice", serial(), Purpose::Enroll)
        .await
        .unwrap();
    let e = ready.apply(&dir, &codes()).await.unwrap_err();
    assert!(matches!(e, HardwareError::UnknownSerial(_)), "{e:?}");

    dir.fail(
        Action::Enable,
        1,
        IamError::InvalidAuthenticationCode {
            action: "EnableMFADevice",
            message: "not valid".into(),
        },
    );
    let ready = prepare(&dir, "alice", serial(), Purpose::Enroll)
        .await
        .unwrap();
    let e = ready.apply(&dir, &codes()).await.unwrap_err();
    assert!(
        matches!(e, HardwareError::CodesRefused(Purpose::Enroll)),
        "{e:?}"
    );

    // In use elsewhere: the list says it is not the user's, so it is someone else's.
    dir.fail(
        Action::Enable,
        1,
        IamError::EntityAlreadyExists {
            action: "EnableMFADevice",
            message: "MFA Device is already in use.".into(),
        },
    );
    let ready = prepare(&dir, "alice", serial(), Purpose::Enroll)
        .await
        .unwrap();
    let e = ready.apply(&dir, &codes()).await.unwrap_err();
    assert!(matches!(e, HardwareError::InUse(_)), "{e:?}");
}

#[test]
fn done_says_who_signs_in_with_what() {
    let done = Done {
        user: "alice".into(),
        account: "123456789012".into(),
        device_serial: serial(),
        device_kind: "hardware-totp",
        resynced: false,
    };
    assert!(done
        .text()
        .contains("alice signs in with hardware token GAKT00000001"));
    let json = serde_json::to_value(&done).unwrap();
    assert_eq!(json["device_serial"], SERIAL);
    assert_eq!(json["device_kind"], "hardware-totp");
}

/// The token's display at the fake's time: the previous step's code, then the current one's.
fn shown(seed: &[u8]) -> Codes {
    let now = T0 / 30;
    Codes::parse(&totp(seed, now - 1), &totp(seed, now)).unwrap()
}

fn assigned(dir: &FakeDirectory) -> Option<String> {
    dir.device(SERIAL).and_then(|d| d.user)
}

#[tokio::test]
async fn enrolled_only_once_iam_lists_the_token() {
    let dir = FakeDirectory::new(FakeClock::fixed(T0), &["alice"]);
    let seed = dir.add_hardware(SERIAL);
    let ready = prepare(&dir, "alice", serial(), Purpose::Enroll)
        .await
        .unwrap();
    let done = ready.apply(&dir, &shown(&seed)).await.unwrap();
    assert_eq!((done.user.as_str(), done.resynced), ("alice", false));
    assert_eq!(assigned(&dir).as_deref(), Some("alice"));
    let lists = dir.calls_so_far(Action::ListMfaDevices);
    assert_eq!(lists, 2, "the preflight's read, then the confirmation");
}

#[tokio::test]
async fn a_lost_answer_is_settled_by_iams_list() {
    // The enable happened, its answer was lost: IAM lists the token, so it is enrolled.
    let dir = FakeDirectory::new(FakeClock::fixed(T0), &["alice"]);
    let seed = dir.add_hardware(SERIAL);
    dir.fail_after_effect(Action::Enable, 1, timeout(Action::Enable));
    let ready = prepare(&dir, "alice", serial(), Purpose::Enroll)
        .await
        .unwrap();
    assert!(ready.apply(&dir, &shown(&seed)).await.is_ok());

    // The SDK's retry of a request that did happen hears "in use": the list says it is hers.
    let dir = FakeDirectory::new(FakeClock::fixed(T0), &["alice"]);
    let seed = dir.add_hardware(SERIAL);
    let in_use = IamError::EntityAlreadyExists {
        action: "EnableMFADevice",
        message: "MFA Device is already in use.".into(),
    };
    dir.fail_after_effect(Action::Enable, 1, in_use);
    let ready = prepare(&dir, "alice", serial(), Purpose::Enroll)
        .await
        .unwrap();
    assert!(ready.apply(&dir, &shown(&seed)).await.is_ok());

    // Lost before it happened: not listed, so nothing changed and the timeout is the error.
    let dir = FakeDirectory::new(FakeClock::fixed(T0), &["alice"]);
    let seed = dir.add_hardware(SERIAL);
    dir.fail(Action::Enable, 1, timeout(Action::Enable));
    let ready = prepare(&dir, "alice", serial(), Purpose::Enroll)
        .await
        .unwrap();
    let e = ready.apply(&dir, &shown(&seed)).await.unwrap_err();
    assert!(
        matches!(e, HardwareError::Iam(IamError::Timeout { .. })),
        "{e:?}"
    );
    assert_eq!(assigned(&dir), None);

    // Lost, and the list can't be read either: unclear, and said so.
    let dir = FakeDirectory::new(FakeClock::fixed(T0), &["alice"]);
    let seed = dir.add_hardware(SERIAL);
    let ready = prepare(&dir, "alice", serial(), Purpose::Enroll)
        .await
        .unwrap();
    dir.fail_after_effect(Action::Enable, 1, timeout(Action::Enable));
    dir.fail_always(Action::ListMfaDevices, timeout(Action::ListMfaDevices));
    let e = ready.apply(&dir, &shown(&seed)).await.unwrap_err();
    assert!(matches!(e, HardwareError::Unclear(_)), "{e:?}");
}

#[tokio::test]
async fn a_resync_sends_the_codes_for_the_users_token() {
    let dir = FakeDirectory::new(FakeClock::fixed(T0), &["alice"]);
    let seed = dir.add_hardware(SERIAL);
    let ready = prepare(&dir, "alice", serial(), Purpose::Enroll)
        .await
        .unwrap();
    ready.apply(&dir, &shown(&seed)).await.unwrap();
    let ready = prepare(&dir, "alice", serial(), Purpose::Resync)
        .await
        .unwrap();
    let done = ready.apply(&dir, &shown(&seed)).await.unwrap();
    assert!(done.resynced);
    assert_eq!(done.json()["schema"], "ykmfa.resync/1");
    // Enrolling it again is refused before any code is asked.
    let again = prepare(&dir, "alice", serial(), Purpose::Enroll).await;
    assert!(matches!(again, Err(HardwareError::AlreadyUsers { .. })));
}
