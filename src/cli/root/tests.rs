use super::*;

#[test]
fn only_an_explicit_no_removes_the_credential() {
    for (answer, expected) in [
        (Some("n\n"), Confirmation::Remove),
        (Some(" NO \n"), Confirmation::Remove),
        (Some("y\n"), Confirmation::Keep),
        (Some("Yes\n"), Confirmation::Keep),
        (None, Confirmation::Keep),
        (Some("\n"), Confirmation::AskAgain),
        (Some("maybe\n"), Confirmation::AskAgain),
    ] {
        assert_eq!(confirmation(answer), expected, "{answer:?}");
    }
}

#[test]
fn validity_counts_down_then_says_expired() {
    // 12:34:56 UTC on some day.
    let until = 1_700_000_000 - 1_700_000_000 % 86_400 + 12 * 3600 + 34 * 60 + 56;
    assert_eq!(
        validity(until, until - 47),
        "Enter them within 47 s (until 12:34:56 UTC)."
    );
    assert!(validity(until, until).contains("expired"));
    assert!(validity(until, until + 5).contains("expired"));
}

#[test]
fn read_limited_reads_everything_up_to_the_limit() {
    let data = vec![7u8; 200_000];
    let all = read_limited(&data[..], 200_000).expect("read");
    assert_eq!(all.len(), 200_000);
    assert_eq!(all.capacity(), 200_000);
    assert!(read_limited(&data[..], 199_999).is_err());
    assert!(read_limited(&b""[..], 10).expect("empty").is_empty());
}

#[test]
fn account_ids_and_delete_commands() {
    assert!(account_id("123456789012").is_ok());
    assert_eq!(account_id("12345").err().map(|f| f.code), Some(Exit::Usage));
    assert_eq!(
        delete_command(Some(token::Serial(1)), "A:it's"),
        r"ykman --device 1 oath accounts delete 'A:it'\''s'"
    );
}
