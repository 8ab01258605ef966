use super::*;

#[test]
fn role_arns() {
    assert_eq!(
        role_account("arn:aws:iam::222222222222:role/MfaAdmin"),
        Some("222222222222")
    );
    assert_eq!(
        role_account("arn:aws-cn:iam::222222222222:role/ops/team/MfaAdmin"),
        Some("222222222222")
    );
    for bad in [
        "arn:aws:iam::22222222222:role/x",
        "arn:aws:iam::222222222222:user/x",
        "arn:aws:iam::222222222222:role/",
        "arn:aws:sts::222222222222:role/x",
        "arn:aws:iam:us-east-1:222222222222:role/x",
        "arn:aws:iam::222222222222:role/bad name",
        "222222222222",
        "arn::iam::222222222222:role/x",
    ] {
        assert_eq!(role_account(bad), None, "{bad}");
    }
}
