use super::*;

#[test]
fn user_names_follow_iams_pattern() {
    for ok in ["alice", "a.b-c_d+e=f,g@h", &"x".repeat(64)] {
        assert!(UserName::parse(ok).is_ok(), "{ok}");
    }
    assert_eq!(UserName::parse(""), Err(NameError::Empty("user name")));
    assert!(matches!(
        UserName::parse(&"x".repeat(65)),
        Err(NameError::TooLong { .. })
    ));
    for bad in ["al ice", "alice/bob", "ålice", "a:b", "a*"] {
        assert_eq!(
            UserName::parse(bad),
            Err(NameError::BadCharacters("user name")),
            "{bad}"
        );
    }
}

#[test]
fn derived_device_names_are_valid_and_bounded() {
    let user = UserName::parse(&"u".repeat(64)).expect("valid");
    let d = DeviceName::derived(&user, "yk12345678");
    assert!(DeviceName::parse(d.as_str()).is_ok());
    assert_eq!(d.as_str(), format!("{}-yk12345678", "u".repeat(64)));
    let long = DeviceName::parse(&"d".repeat(226)).expect("valid");
    let suffixed = long.with_suffix(2);
    assert_eq!(suffixed.as_str().len(), 226);
    assert!(suffixed.as_str().ends_with("-2"));
    assert!(DeviceName::parse(&"d".repeat(227)).is_err());
}

#[test]
fn tags() {
    assert_eq!(
        parse_tag("team=sec ops").expect("ok"),
        ("team".into(), "sec ops".into())
    );
    assert_eq!(parse_tag("k=").expect("ok"), ("k".into(), String::new()));
    for bad in ["novalue", "=v", "aws:x=1", "k=<script>"] {
        assert!(parse_tag(bad).is_err(), "{bad}");
    }
}

#[test]
fn ykmfas_own_tag_keys_are_refused() {
    for key in [
        "ykmfa:token-serial",
        "ykmfa:credential",
        "ykmfa:created",
        "ykmfa:",
    ] {
        assert_eq!(
            parse_tag(&format!("{key}=12345678")),
            Err(NameError::ReservedTag(key.to_owned())),
            "{key}"
        );
    }
    let err = parse_tag("ykmfa:credential=x").expect_err("refused");
    assert_eq!(
        err.to_string(),
        "tag key 'ykmfa:credential': keys starting with 'ykmfa:' are ykmfa's own"
    );
    // Only the prefix is reserved.
    assert!(parse_tag("team=ykmfa:x").is_ok());
    assert!(parse_tag("my-ykmfa:x=1").is_ok());
}
