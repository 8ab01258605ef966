use super::*;

const ACCOUNT: &str = "123456789012";

fn id(s: &str) -> CredentialId {
    CredentialId::parse(s.as_bytes(), OathType::Totp)
}

#[test]
fn a_given_label_is_issuer_and_account_split_at_the_first_colon() {
    let l = parse("Work:alice@corp").expect("label");
    assert_eq!(l.issuer.as_deref(), Some("Work"));
    assert_eq!(l.account, "alice@corp");
    assert_eq!(parse("a:b:c").expect("label").account, "b:c");
    let plain = parse("alice").expect("label");
    assert_eq!((plain.issuer, plain.account.as_str()), (None, "alice"));
    assert!(parse(":alice").is_err());
    assert!(matches!(
        parse(&"x".repeat(65)),
        Err(oath::Error::NameTooLong { .. })
    ));
}

#[test]
fn a_users_label_uses_the_alias_and_falls_back_to_the_account_id() {
    let name = |alias| {
        user_label("alice", alias, ACCOUNT)
            .expect("fits")
            .to_string()
    };
    assert_eq!(name(Some("corp")), "Amazon Web Services:alice@corp");
    assert_eq!(name(None), format!("Amazon Web Services:alice@{ACCOUNT}"));
    assert_eq!(
        name(Some(&"a".repeat(50))),
        format!("Amazon Web Services:alice@{ACCOUNT}")
    );
    let user = "u".repeat(40);
    assert_eq!(
        user_label(&user, Some("corp"), ACCOUNT),
        Err(TooLong {
            name: format!("Amazon Web Services:{user}@{ACCOUNT}"),
            len: 73
        })
    );
    assert_eq!(shortest_user_label_len(&user), 73);
    assert_eq!(
        user_labels("u", Some("corp"), ACCOUNT),
        [
            "Amazon Web Services:u@corp".to_owned(),
            format!("Amazon Web Services:u@{ACCOUNT}")
        ]
    );
    assert_eq!(user_labels("u", None, ACCOUNT).len(), 1);
}

#[test]
fn the_root_users_labels() {
    let root = |account| root_label(account).expect("fits").to_string();
    assert_eq!(root(Some(ACCOUNT)), "Amazon Web Services:root@123456789012");
    assert_eq!(root(None), "Amazon Web Services:root@aws");
    assert_eq!(
        root_label(Some(&"9".repeat(60))).map_err(|e| e.len),
        Err(85)
    );
    assert_eq!(
        root_labels(ACCOUNT),
        [
            "Amazon Web Services:root@123456789012",
            "Amazon Web Services:root-account-mfa-device@123456789012"
        ]
    );
    for name in root_labels(ACCOUNT) {
        assert!(owner(&id(&name)).is_some_and(|o| o.is_root()), "{name}");
    }
    assert!(!owner(&id("Amazon Web Services:rooty@1")).is_some_and(|o| o.is_root()));
}

#[test]
fn aws_looking_credentials_and_owners() {
    assert!(looks_like_aws(&id("Amazon Web Services:x")));
    assert!(looks_like_aws(&id("aws:x")));
    assert!(!looks_like_aws(&id("GitHub:x")));
    assert!(!looks_like_aws(&CredentialId::parse(
        b"Amazon Web Services:x",
        OathType::Hotp
    )));
    assert_eq!(
        owner(&id("Amazon Web Services:a@b.c@123456789012")),
        Some(Owner {
            user: "a@b.c".into(),
            account: ACCOUNT.into()
        })
    );
    assert_eq!(owner(&id("Amazon Web Services:plain")), None);
    assert_eq!(owner(&id("Amazon Web Services:@1")), None);
}
