use super::*;

#[test]
fn ids_round_trip() {
    let cases = [
        (
            "Amazon Web Services:alice@123456789012",
            OathType::Totp,
            Some("Amazon Web Services"),
            "alice@123456789012",
            30,
        ),
        ("60/Example:bob", OathType::Totp, Some("Example"), "bob", 60),
        ("plain", OathType::Totp, None, "plain", 30),
        ("15/plain", OathType::Totp, None, "plain", 15),
        (
            "Issuer:hotp-acct",
            OathType::Hotp,
            Some("Issuer"),
            "hotp-acct",
            0,
        ),
        ("a:b:c", OathType::Totp, Some("a"), "b:c", 30),
    ];
    for (raw, t, issuer, account, period) in cases {
        let id = CredentialId::parse(raw.as_bytes(), t);
        assert_eq!(id.issuer.as_deref(), issuer, "{raw}");
        assert_eq!(id.account, account, "{raw}");
        assert_eq!(id.period, period, "{raw}");
        assert_eq!(id.to_string(), raw, "{raw}");
    }
}

#[test]
fn odd_ids_are_taken_literally() {
    // A leading ':' or a trailing one leaves no issuer; "0/x" and "/x" are not periods.
    for raw in [":x", "x:", "0/x", "/x", "abc/x"] {
        let id = CredentialId::parse(raw.as_bytes(), OathType::Totp);
        assert_eq!(id.issuer, None, "{raw}");
        assert_eq!(id.to_string(), raw, "{raw}");
    }
    // HOTP ids never carry a period, even if they look like one.
    let id = CredentialId::parse(b"60/x", OathType::Hotp);
    assert_eq!(id.account, "60/x");
}

#[test]
fn the_64_byte_limit_is_checked_on_the_encoded_id() {
    let ok = CredentialId::totp(Some("Amazon Web Services"), &"a".repeat(64 - 20));
    assert!(ok.is_ok());
    let long = CredentialId::totp(Some("Amazon Web Services"), &"a".repeat(64 - 19));
    assert!(matches!(long, Err(Error::NameTooLong { len: 65, max: 64 })));
    // Multi-byte characters count as bytes, as the applet counts them.
    let utf8 = CredentialId::totp(None, &"é".repeat(33));
    assert!(matches!(utf8, Err(Error::NameTooLong { len: 66, .. })));
}

#[test]
fn names_that_read_back_differently_are_refused() {
    // An account that looks like a period prefix, or like an issuer.
    for (issuer, account) in [
        (None, "60/x"),
        (None, "030/x"),
        (Some("15/I"), "x"),
        (None, "a:b"),
    ] {
        let r = CredentialId::totp(issuer, account);
        assert!(
            matches!(r, Err(Error::InvalidName(_))),
            "{issuer:?} {account}: {r:?}"
        );
    }
    let r = CredentialId::totp(None, "60/x").expect_err("refused");
    assert!(r.to_string().contains("period 60 s"), "{r}");
    // With a period prefix of their own, or an issuer, they are unambiguous.
    let id = CredentialId {
        period: 60,
        ..CredentialId::totp(None, "x").expect("id")
    };
    let odd = CredentialId {
        account: "15/y".into(),
        ..id
    };
    assert!(odd.validate().is_ok(), "60/15/y");
    assert!(CredentialId::totp(Some("I"), "a:b").is_ok());
    assert!(CredentialId::totp(Some("I"), "60/x").is_ok());
    // HOTP ids have no period to mistake.
    let hotp = CredentialId {
        issuer: None,
        account: "60/x".into(),
        period: 0,
        oath_type: OathType::Hotp,
    };
    assert!(hotp.validate().is_ok());
}

#[test]
fn empty_parts_are_refused() {
    assert!(CredentialId::totp(None, "").is_err());
    assert!(CredentialId::totp(Some(""), "x").is_err());
    assert!(CredentialId::totp(Some("a:b"), "x").is_err());
}

#[test]
fn truncated_responses_format_like_the_spec() {
    // RFC 4226 appendix D, count 0: truncated value 0x4c93cf18 -> 755224.
    let code = Code::from_truncated(&[6, 0x4c, 0x93, 0xcf, 0x18], TimeStep(0), 30).expect("ok");
    assert_eq!(code.value, "755224");
    // The top bit is masked off.
    let code = Code::from_truncated(&[8, 0xcc, 0x93, 0xcf, 0x18], TimeStep(1), 30).expect("ok");
    assert_eq!(code.value, "84755224");
    assert_eq!((code.valid_from, code.valid_to), (30, 60));
    // Leading zeros are kept.
    let code = Code::from_truncated(&[6, 0, 0, 0, 7], TimeStep(0), 30).expect("ok");
    assert_eq!(code.value, "000007");
    assert!(Code::from_truncated(&[6, 1, 2], TimeStep(0), 30).is_err());
    assert!(Code::from_truncated(&[0, 1, 2, 3, 4], TimeStep(0), 30).is_err());
}

#[test]
fn time_steps() {
    assert_eq!(TimeStep::at(59, 30), TimeStep(1));
    assert_eq!(TimeStep::at(60, 30), TimeStep(2));
    assert_eq!(TimeStep(2).prev(), TimeStep(1));
    assert_eq!(TimeStep(0).prev(), TimeStep(0));
    assert_eq!(TimeStep(3).start(30), 90);
}
