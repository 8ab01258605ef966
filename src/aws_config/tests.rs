use super::*;

fn set_ok(text: &str, profile: &str, value: &str) -> (String, Change) {
    set(text, profile, "mfa_serial", value).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn headers_name_profiles_as_botocore_reads_them() {
    assert_eq!(header_profile("default").as_deref(), Some("default"));
    assert_eq!(
        header_profile("profile default").as_deref(),
        Some("default")
    );
    assert_eq!(header_profile("profile  dev").as_deref(), Some("dev"));
    assert_eq!(header_profile("profile\tdev").as_deref(), Some("dev"));
    assert_eq!(header_profile("profile \"dev\"").as_deref(), Some("dev"));
    assert_eq!(header_profile("profiledev"), None);
    assert_eq!(header_profile("sso-session corp"), None);
    assert_eq!(header_profile("services local"), None);
    assert_eq!(header_profile("dev"), None);
}

#[test]
fn replaces_only_the_value() {
    let text = "[profile dev]\nMFA_Serial\t:  arn:old   \nregion=eu-west-1\n";
    let (out, change) = set_ok(text, "dev", "arn:new");
    assert_eq!(
        out,
        "[profile dev]\nMFA_Serial\t:  arn:new   \nregion=eu-west-1\n"
    );
    assert_eq!(
        change,
        Change::Replaced {
            previous: "arn:old".into()
        }
    );
}

#[test]
fn the_same_value_changes_nothing() {
    let text = "[default]\nmfa_serial = arn:x\n";
    assert_eq!(
        set_ok(text, "default", "arn:x"),
        (text.into(), Change::Unchanged)
    );
}

#[test]
fn a_new_key_follows_the_sections_style() {
    let text = "[profile a]\nregion=us-east-1\n\n[profile b]\n";
    let (out, _) = set_ok(text, "a", "arn:x");
    assert_eq!(
        out,
        "[profile a]\nregion=us-east-1\nmfa_serial=arn:x\n\n[profile b]\n"
    );
    let text = "[profile a]\n  region  =  us-east-1\n";
    let (out, _) = set_ok(text, "a", "arn:x");
    assert_eq!(
        out,
        "[profile a]\n  region  =  us-east-1\n  mfa_serial  =  arn:x\n"
    );
}

#[test]
fn a_last_line_without_newline_gets_one() {
    let (out, change) = set_ok("[default]\nregion = x", "default", "arn:x");
    assert_eq!(out, "[default]\nregion = x\nmfa_serial = arn:x");
    assert_eq!(change, Change::Added);
    let (out, change) = set_ok("[default]\nregion = x", "dev", "arn:x");
    assert_eq!(
        out,
        "[default]\nregion = x\n\n[profile dev]\nmfa_serial = arn:x\n"
    );
    assert_eq!(change, Change::SectionAdded);
}

#[test]
fn an_empty_file_gets_just_the_section() {
    let (out, change) = set_ok("", "default", "arn:x");
    assert_eq!(out, "[default]\nmfa_serial = arn:x\n");
    assert_eq!(change, Change::SectionAdded);
}

#[test]
fn crlf_files_stay_crlf() {
    let text = "[profile a]\r\nregion = x\r\n";
    let (out, _) = set_ok(text, "a", "arn:x");
    assert_eq!(out, "[profile a]\r\nregion = x\r\nmfa_serial = arn:x\r\n");
    let (out, _) = set_ok(text, "b", "arn:x");
    assert_eq!(
        out,
        "[profile a]\r\nregion = x\r\n\r\n[profile b]\r\nmfa_serial = arn:x\r\n"
    );
}

#[test]
fn nested_keys_are_not_the_profiles_keys() {
    let text = "[profile a]\ns3 =\n  mfa_serial = nested\n  max_concurrent_requests = 10\n";
    let (out, change) = set_ok(text, "a", "arn:x");
    assert_eq!(change, Change::Added);
    assert_eq!(
        out,
        "[profile a]\ns3 =\n  mfa_serial = nested\n  max_concurrent_requests = 10\nmfa_serial = arn:x\n"
    );
    assert_eq!(get(&out, "a", "mfa_serial"), Ok(Some("arn:x".into())));
}

#[test]
fn a_new_key_is_never_indented_under_a_sub_section() {
    // The style comes from the indented key, the indent from `s3 =`: indented deeper than
    // `s3 =`, the new line would be one of its nested keys.
    let text = "[profile a]\n  max_concurrent_requests = 10\ns3 =\n";
    let (out, _) = set_ok(text, "a", "arn:x");
    assert_eq!(
        out,
        "[profile a]\n  max_concurrent_requests = 10\ns3 =\nmfa_serial = arn:x\n"
    );
    assert_eq!(get(&out, "a", "mfa_serial"), Ok(Some("arn:x".into())));
    let (out, _) = set_ok("[profile a]\n  s3 =\n", "a", "arn:x");
    assert_eq!(out, "[profile a]\n  s3 =\n  mfa_serial = arn:x\n");
}

#[test]
fn refuses_what_it_cannot_place_with_certainty() {
    let refused =
        |text: &str, line: usize, words: &str| match set(text, "dev", "mfa_serial", "arn:x") {
            Err(TextError::Line(n, reason)) => {
                assert_eq!(n, line, "{reason}");
                assert!(reason.contains(words), "{reason}");
            }
            other => panic!("{text:?}: {other:?}"),
        };
    refused("region = x\n[profile dev]\n", 1, "before any [section]");
    refused("[profile dev]\njust words\n", 2, "neither a setting");
    refused("[profile dev]\n= x\n", 2, "without a name");
    refused(
        "[profile dev]\n[profile dev]\n",
        2,
        "defined again (first on line 1)",
    );
    refused(
        "[profile dev]\nmfa_serial = a\nMFA_SERIAL = b\n",
        3,
        "set twice",
    );
    refused("[profile dev]\nmfa_serial =\n  a\n", 2, "several lines");
    refused("[profile dev\n", 1, "without its ']'");
    refused("[profile dev] junk\n", 1, "text after the section header");
    refused("[ profile dev ]\n", 1, "spaces inside the brackets");
    refused("[]\n", 1, "empty section header");
    refused("[default]\nx = 1\rmfa_serial = 2\n", 2, "carriage return");
}

#[test]
fn refuses_names_and_values_it_cannot_write() {
    for bad in ["", "a b", "a]b", "a#b", "a\"b", "a\nb"] {
        assert_eq!(
            set("", bad, "mfa_serial", "arn:x"),
            Err(TextError::BadProfileName(bad.into()))
        );
    }
    for bad in ["", " arn", "arn ", "a\nb", "a\rb"] {
        assert_eq!(
            set("", "dev", "mfa_serial", bad),
            Err(TextError::BadValue(bad.into()))
        );
    }
}

#[test]
fn comments_after_a_header_are_kept() {
    let text = "[profile dev] # work account\n; note\nregion = x # not a comment to botocore\n";
    let (out, _) = set_ok(text, "dev", "arn:x");
    assert_eq!(
        out,
        "[profile dev] # work account\n; note\nregion = x # not a comment to botocore\nmfa_serial = arn:x\n"
    );
}

#[test]
fn a_byte_order_mark_stays_in_front() {
    let (out, _) = set_ok("\u{feff}[default]\nregion = x\n", "default", "arn:x");
    assert_eq!(out, "\u{feff}[default]\nregion = x\nmfa_serial = arn:x\n");
}
