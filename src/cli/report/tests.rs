use super::*;

#[test]
fn validity_counts_down_then_says_expired() {
    let until = 1_700_000_000 - 1_700_000_000 % 86_400 + 12 * 3600 + 34 * 60 + 56; // 12:34:56 UTC
    let left = validity(until, until - 47);
    assert_eq!(left, "Enter them within 47 s (until 12:34:56 UTC).");
    assert!(validity(until, until).contains("expired"));
    assert!(validity(until, until + 5).contains("expired"));
}
