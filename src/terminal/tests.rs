// Test code: a failed expectation is a failed test.
#![allow(clippy::unwrap_used)]

use super::*;

#[test]
fn consent_is_asked_only_of_a_person_and_only_without_yes() {
    let unasked = || -> std::io::Result<bool> { panic!("asked") };
    let no_tty = || false;
    assert_eq!(consent_of(true, no_tty, unasked).unwrap(), Consent::Given);
    assert_eq!(
        consent_of(false, no_tty, unasked).unwrap(),
        Consent::NoTerminal
    );
    assert_eq!(
        consent_of(false, || true, || Ok(true)).unwrap(),
        Consent::Given
    );
    assert_eq!(
        consent_of(false, || true, || Ok(false)).unwrap(),
        Consent::Refused
    );
    let closed = || Err(std::io::ErrorKind::Interrupted.into());
    let e = consent_of(false, || true, closed).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::Interrupted);
}

#[test]
fn said_text_is_written_as_it_is_and_a_failed_write_is_ignored() {
    let mut to = Vec::new();
    say_to(&mut to, "Keep it? [y/n] ");
    say_to(&mut to, "\x1b7\x1b[1A\r\x1b[2Kleft\x1b8");
    assert_eq!(to, b"Keep it? [y/n] \x1b7\x1b[1A\r\x1b[2Kleft\x1b8");
    let mut full = [0u8; 4];
    say_to(&mut &mut full[..], "more than four bytes");
    assert_eq!(&full, b"more");
}

#[test]
fn a_person_is_waited_for_and_a_script_is_not() {
    let unasked = || panic!("--wait was given");
    assert_eq!(wait_of(Some(5), unasked, 30), Duration::from_secs(5));
    assert_eq!(wait_of(None, || true, 30), Duration::from_secs(30));
    assert_eq!(wait_of(None, || false, 300), Duration::ZERO);
}
