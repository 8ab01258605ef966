use super::*;

#[test]
fn key_derivation_matches_pbkdf2_vectors() {
    // RFC 6070 has no 1000-round vector; this one comes from Python's hashlib:
    // pbkdf2_hmac("sha1", b"password", b"salt", 1000, 16).
    let key = derive_key(&Password::new("password".into()), b"salt");
    assert_eq!(
        crate::oath::apdu::hex(key.as_ref()),
        "6E88BE8BAD7EAE9D9E10AA061224034F"
    );
}

#[test]
fn hmac_matches_rfc_2202() {
    // RFC 2202 test case 2.
    let mac = hmac_sha1(b"Jefe", b"what do ya want for nothing?");
    assert_eq!(
        crate::oath::apdu::hex(&mac),
        "EFFCDF6AE5EB2FA2D27416D5F184DF9C259A7C79"
    );
}

#[test]
fn verification_needs_equal_length_and_bytes() {
    assert!(verify(&[1, 2, 3], &[1, 2, 3]));
    assert!(!verify(&[1, 2, 3], &[1, 2, 4]));
    assert!(!verify(&[1, 2, 3], &[1, 2]));
}

#[test]
fn a_password_read_is_taken_as_it_is() {
    let read = Zeroizing::new("s3cret".to_owned());
    assert_eq!(Password::from(read).expose(), b"s3cret");
}
