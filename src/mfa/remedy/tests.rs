use super::*;

#[test]
fn commands_quote_what_a_shell_would_split() {
    assert_eq!(
        shell_quote("arn:aws:iam::1:mfa/a-yk1"),
        "arn:aws:iam::1:mfa/a-yk1"
    );
    assert_eq!(
        shell_quote("Amazon Web Services:a@1"),
        "'Amazon Web Services:a@1'"
    );
    assert_eq!(shell_quote("o'b"), r"'o'\''b'");
    assert_eq!(shell_quote(""), "''");
    assert_eq!(shell_quote("$(rm -rf ~)"), "'$(rm -rf ~)'");
    let device = Leftover::Device {
        serial: "arn:aws:iam::1:mfa/a".into(),
        assigned_to: Some("alice".into()),
        reason: "denied".into(),
    };
    assert_eq!(
        device.commands(" --profile p"),
        [
            "aws iam deactivate-mfa-device --profile p --user-name alice --serial-number arn:aws:iam::1:mfa/a",
            "aws iam delete-virtual-mfa-device --profile p --serial-number arn:aws:iam::1:mfa/a",
        ]
    );
    let credential = Leftover::Credential {
        name: "AWS:o'b".into(),
        token_serial: Some(Serial(7)),
        token: "YubiKey 7".into(),
        reason: "pulled".into(),
    };
    assert_eq!(
        credential.commands(""),
        [r"ykman --device 7 oath accounts delete 'AWS:o'\''b'"]
    );
    assert_eq!(
        credential.describe(),
        "credential 'AWS:o'b' on YubiKey 7 (pulled)"
    );
}

#[test]
fn ykman_and_aws_commands() {
    assert_eq!(
        ykman_delete("A:it's", Some(Serial(1))),
        r"ykman --device 1 oath accounts delete 'A:it'\''s'"
    );
    assert_eq!(
        ykman_delete("AWS:x", None),
        "ykman oath accounts delete 'AWS:x'"
    );
    assert_eq!(
        ykman_delete_at("AWS:o'brien@1", None, "Nitrokey 3 00 00"),
        r"ykman --reader 'Nitrokey 3 00 00' oath accounts delete 'AWS:o'\''brien@1'"
    );
    assert_eq!(
        ykman_delete_at("AWS:x", Some(Serial(2)), "r"),
        "ykman --device 2 oath accounts delete 'AWS:x'"
    );
    assert_eq!(
        ykman_code("Amazon Web Services:root@1"),
        "ykman oath accounts code 'Amazon Web Services:root@1'"
    );
    assert_eq!(aws_flags(Some("prod")), " --profile prod");
    assert_eq!(aws_flags(None), "");
    assert_eq!(
        aws_delete_device("arn:aws:iam::1:mfa/a", ""),
        "aws iam delete-virtual-mfa-device --serial-number arn:aws:iam::1:mfa/a"
    );
    assert_eq!(single_quote("it's"), r"'it'\''s'");
}

#[test]
fn a_command_splits_into_shell_words_with_quotes_kept() {
    assert_eq!(
        shell_words("ykman oath accounts delete 'A B:o'\\''b \"c d\"'"),
        [
            "ykman",
            "oath",
            "accounts",
            "delete",
            "'A B:o'\\''b \"c d\"'"
        ]
    );
    assert_eq!(shell_words("  a   \"b c\" "), ["a", "\"b c\""]);
    assert!(shell_words("").is_empty());
}
