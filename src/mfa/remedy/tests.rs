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
