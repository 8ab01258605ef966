use super::*;

#[test]
fn shortening_keeps_both_ends_and_the_width() {
    let s = shorten("Yubico YubiKey OTP+FIDO+CCID 00 00 extra long name", 30);
    assert_eq!(s.chars().count(), 30);
    assert!(s.starts_with("Yubico") && s.ends_with("long name"), "{s}");
    assert_eq!(shorten("short", 30), "short");
}
