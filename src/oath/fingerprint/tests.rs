use super::*;
use crate::oath::CredentialId;
use crate::seed::Seed;

fn data(secret: &[u8]) -> CredentialData {
    let id = CredentialId::totp(Some("AWS"), "alice@1").expect("id");
    CredentialData::aws_totp(id, Seed::from_bytes(secret.to_vec()), false)
}

/// What a token answers: HMAC-SHA1 of the challenge under the (zero-padded) secret.
fn token_answer(secret: &[u8], challenge: &[u8], truncated: bool) -> Vec<u8> {
    let mut padded = secret.to_vec();
    padded.resize(padded.len().max(14), 0);
    let full = crate::oath::auth::hmac_sha1(&padded, challenge).to_vec();
    if !truncated {
        return full;
    }
    let offset = usize::from(full[19] & 0x0F);
    let mut out = vec![6];
    out.extend_from_slice(&full[offset..offset + 4]);
    out[1] &= 0x7F;
    out
}

#[test]
fn the_same_secret_proves_itself_full_and_truncated() {
    let secret = b"0123456789abcdefghij";
    let fp = Fingerprint::of(&data(secret));
    assert!(fp.is_valid());
    let challenge = fp.challenge();
    assert_eq!(challenge.len(), 8);
    assert!(challenge[0] & 0x80 != 0, "never a real time step");
    assert_eq!(
        fp.compare(&token_answer(secret, &challenge, false)),
        Proof::Same
    );
    assert_eq!(
        fp.compare(&token_answer(secret, &challenge, true)),
        Proof::Same
    );
}

#[test]
fn a_short_secret_padded_by_the_token_still_proves_itself() {
    let secret = b"0123456789";
    let fp = Fingerprint::of(&data(secret));
    let answer = token_answer(secret, &fp.challenge(), true);
    assert_eq!(fp.compare(&answer), Proof::Same);
}

#[test]
fn another_secret_of_the_same_name_does_not() {
    let fp = Fingerprint::of(&data(b"0123456789abcdefghij"));
    let other = b"0123456789abcdefghiX";
    assert_eq!(
        fp.compare(&token_answer(other, &fp.challenge(), false)),
        Proof::Different
    );
    assert_eq!(
        fp.compare(&token_answer(other, &fp.challenge(), true)),
        Proof::Different
    );
    assert_eq!(fp.compare(&[]), Proof::Different);
}

#[test]
fn challenges_are_fresh_and_records_round_trip() {
    let a = Fingerprint::of(&data(b"0123456789abcdefghij"));
    let b = Fingerprint::of(&data(b"0123456789abcdefghij"));
    assert_ne!(a.challenge(), b.challenge());
    let text = serde_json::to_string(&a).expect("json");
    let back: Fingerprint = serde_json::from_str(&text).expect("parse");
    assert_eq!(a, back);
    let bad: Fingerprint =
        serde_json::from_str(r#"{"challenge":"zz","hmac":"00"}"#).expect("parse");
    assert!(!bad.is_valid());
}
