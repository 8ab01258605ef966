use super::*;

fn problems(text: &str, format: Format) -> Vec<String> {
    parse(text, format)
        .expect_err("refused")
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn toml_rows() {
    let rows = parse(
        r#"
[[enroll]]
user = "alice"
serial = 12345678
touch = true
tags = { team = "sec" }

[[enroll]]
user = "bob"
account = "arn:aws:iam::222222222222:role/MfaAdmin"
label = "AWS:bob"
device_name = "bob-key"
"#,
        Format::Toml,
    )
    .expect("valid");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].serial, Some(Serial(12_345_678)));
    assert!(rows[0].touch);
    assert_eq!(rows[0].tags, [("team".to_owned(), "sec".to_owned())]);
    assert_eq!(
        rows[1].account,
        AccountRef::Role {
            arn: "arn:aws:iam::222222222222:role/MfaAdmin".into(),
            account: "222222222222".into()
        }
    );
    assert_eq!(
        rows[1].label.as_ref().map(ToString::to_string).as_deref(),
        Some("AWS:bob")
    );
    assert_eq!(rows[1].key(), "arn:aws:iam::222222222222:role/MfaAdmin/bob");
}

#[test]
fn csv_rows() {
    let rows = parse(
        "user,account,serial,touch,label,device_name,tags\n\
             # a comment\n\
             alice,bench-a,12345678,yes,,,team=sec;cost=42\n\
             bob,,,,,,\n",
        Format::Csv,
    )
    .expect("valid");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].account, AccountRef::Profile("bench-a".into()));
    assert_eq!(rows[0].tags.len(), 2);
    assert!(rows[0].touch);
    assert_eq!(rows[1].serial, None);
    assert_eq!(rows[1].account, AccountRef::Default);
    assert_eq!(rows[1].number, 4);
}

#[test]
fn malformed_manifests_name_row_and_field() {
    let p = problems("user,acount\nalice,x\n", Format::Csv);
    assert!(
        p.iter()
            .any(|m| m.starts_with("row 1, field 'acount': unknown column")),
        "{p:?}"
    );

    let p = problems(
        "user,serial\nalice,1\nbob,2\nalice,3\ncarol,2\n",
        Format::Csv,
    );
    assert!(
        p.iter()
            .any(|m| m.starts_with("row 4, field 'user': 'alice' is already enrolled")),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|m| m.starts_with("row 5, field 'serial': token 2 is already used by row 3")),
        "{p:?}"
    );

    let p = problems(
        "[[enroll]]\nuser = \"alice\"\naccount = \"arn:aws:iam::1234:role/x\"\n",
        Format::Toml,
    );
    assert!(
        p.iter().any(|m| m
            .starts_with("row 1, field 'account': 'arn:aws:iam::1234:role/x' is not a role ARN")),
        "{p:?}"
    );

    let p = problems(
            "[[enroll]]\nuser = \"alice\"\nlabel = \"Amazon Web Services:a-very-long-account-name-that-goes-on-and-on@and-on\"\n",
            Format::Toml,
        );
    assert!(
        p.iter()
            .any(|m| m.starts_with("row 1, field 'label':") && m.contains("the token allows 64")),
        "{p:?}"
    );

    let p = problems("[[enroll]]\nuser = \"alice\"\nserail = 5\n", Format::Toml);
    assert!(
        p.iter()
            .any(|m| m.starts_with("row 1, field 'serail': unknown field")),
        "{p:?}"
    );

    let long = "u".repeat(40);
    let p = problems(&format!("user\n{long}\n"), Format::Csv);
    assert!(
        p.iter()
            .any(|m| m.starts_with("row 2, field 'label': the default credential name")),
        "{p:?}"
    );

    let p = problems("user,serial\nalice,12ab\n", Format::Csv);
    assert!(
        p.iter().any(|m| m.starts_with("row 2, field 'serial'")),
        "{p:?}"
    );
    let p = problems("user\nal ice\n", Format::Csv);
    assert!(
        p.iter().any(|m| m.starts_with("row 2, field 'user'")),
        "{p:?}"
    );
    let p = problems("user,account\nalice,123456789012\n", Format::Csv);
    assert!(p.iter().any(|m| m.contains("is an account id")), "{p:?}");
    let p = problems("user,tags\nalice,novalue\n", Format::Csv);
    assert!(
        p.iter().any(|m| m.starts_with("row 2, field 'tags'")),
        "{p:?}"
    );
    let p = problems("user,serial\nalice,1,extra\n", Format::Csv);
    assert!(p.iter().any(|m| m.starts_with("row 2: 3 fields")), "{p:?}");
    assert!(!problems("", Format::Toml).is_empty());
    assert!(!problems("user\n", Format::Csv).is_empty());
}

#[test]
fn ykmfa_tag_keys_are_one_problem_in_the_same_words() {
    let words = "field 'tags': keys starting with 'ykmfa:' are ykmfa's own";
    let p = problems(
        "user,tags\nalice,ykmfa:credential=x;ykmfa:token-serial=1;team=sec\n",
        Format::Csv,
    );
    assert_eq!(p, [format!("row 2, {words}")], "{p:?}");
    let p = problems(
        "[[enroll]]\nuser = \"alice\"\ntags = { \"ykmfa:created\" = \"now\", team = \"sec\" }\n",
        Format::Toml,
    );
    assert_eq!(p, [format!("row 1, {words}")], "{p:?}");
}

#[test]
fn formats_by_extension_or_content() {
    assert_eq!(Format::guess(Path::new("a.TOML"), ""), Format::Toml);
    assert_eq!(Format::guess(Path::new("a.csv"), "[[enroll]]"), Format::Csv);
    assert_eq!(
        Format::guess(Path::new("a"), "\n[[enroll]]\n"),
        Format::Toml
    );
    assert_eq!(Format::guess(Path::new("a"), "user\nalice\n"), Format::Csv);
}

#[test]
fn hardware_rows_in_toml_and_csv() {
    let rows = parse(
        r#"
[[enroll]]
user = "alice"
serial = 12345678

[[enroll]]
user = "carol"
account = "bench-a"
hardware_serial = " GAKT00000001 "
"#,
        Format::Toml,
    )
    .expect("valid");
    assert_eq!(rows[0].hardware_serial, None);
    assert_eq!(
        rows[1].hardware_serial.as_ref().map(HardwareSerial::as_str),
        Some("GAKT00000001")
    );
    assert_eq!(rows[1].serial, None);

    let rows = parse(
        "user,serial,hardware_serial,touch,label,device_name,tags\n\
         alice,12345678,,true,,,\n\
         carol,,GAKT00000002,,,,\n",
        Format::Csv,
    )
    .expect("valid");
    assert_eq!(rows[0].serial, Some(Serial(12_345_678)));
    assert_eq!(
        rows[1].hardware_serial.as_ref().map(ToString::to_string),
        Some("GAKT00000002".into())
    );
    // A user name too long for the default credential name is no problem: there is no credential.
    let long = "a".repeat(60);
    let rows = parse(
        &format!("user,hardware_serial\n{long},GAKT00000003\n"),
        Format::Csv,
    )
    .expect("valid");
    assert_eq!(rows.len(), 1);
}

#[test]
fn hardware_rows_refuse_what_does_not_apply_all_at_once() {
    let p = problems(
        r#"
[[enroll]]
user = "alice"
serial = 12345678
hardware_serial = "GAKT00000001"

[[enroll]]
user = "bob"
hardware_serial = "GAKT00000002"
touch = true
label = "AWS:bob"
device_name = "bob-hw"
tags = { team = "sec" }

[[enroll]]
user = "carol"
hardware_serial = "arn:aws:iam::123456789012:mfa/carol"

[[enroll]]
user = "dave"
hardware_serial = "GAKT-1"

[[enroll]]
user = "erin"
hardware_serial = "GAKT00000002"
"#,
        Format::Toml,
    );
    let want = [
        "row 1, field 'hardware_serial': a row names a YubiKey or Nitrokey ('serial') or a hardware token ('hardware_serial'), not both",
        "row 2, field 'touch': a hardware token has no touch setting (its button shows the code); leave 'touch' out of this row",
        "row 2, field 'label': a hardware token holds no credential to name; leave 'label' out of this row",
        "row 2, field 'device_name': IAM names a hardware token by its serial; leave 'device_name' out of this row",
        "row 2, field 'tags': IAM can't tag a hardware token; leave 'tags' out of this row",
        "row 3, field 'hardware_serial': 'arn:aws:iam::123456789012:mfa/carol' is an ARN, not a hardware token's serial (such as GAKT12345678)",
        "row 4, field 'hardware_serial': 'GAKT-1' is not a hardware token's serial: 9 to 64 letters and digits, such as GAKT12345678",
    ];
    for w in want {
        assert!(p.iter().any(|m| m == w), "missing {w:?} in {p:#?}");
    }
    assert_eq!(p.len(), want.len(), "{p:#?}");

    // One user per token: the second row naming a serial is the problem.
    let p = problems(
        "user,hardware_serial\nalice,GAKT00000001\nbob,GAKT00000002\ncarol,GAKT00000001\n",
        Format::Csv,
    );
    assert_eq!(
        p,
        ["row 4, field 'hardware_serial': hardware token GAKT00000001 is already used by row 2; a hardware token serves one user"]
    );
}
