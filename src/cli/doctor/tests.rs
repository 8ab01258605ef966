use super::*;
use ykmfa::doctor::Status;

#[test]
fn the_report_fits_80_columns_and_wraps_under_the_detail() {
    let arn = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/someone@example.com";
    let fix = "ask an administrator to allow iam:EnableMFADevice, iam:DeactivateMFADevice, iam:TagMFADevice";
    let checks = [
        Check::new(
            "pcscd",
            "pcscd",
            Status::Ok,
            "pcscd answers (/run/pcscd/pcscd.comm)",
        ),
        Check::new("identity", "identity", Status::Fail, arn).fix([fix]),
    ];
    let text = render(&checks, false);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.iter().all(|l| l.chars().count() <= WIDTH), "{text}");
    assert_eq!(
        lines[0],
        "ok    pcscd     pcscd answers (/run/pcscd/pcscd.comm)"
    );
    assert!(
        lines[1].starts_with("fail  identity  arn:aws:sts::"),
        "{text}"
    );
    // Continuations start in the detail column, a fix's own 5 further in.
    assert!(lines[2].starts_with(&" ".repeat(16)) && !lines[2].starts_with(&" ".repeat(17)));
    assert!(
        lines[3].starts_with(&format!("{}fix: ask", " ".repeat(16))),
        "{text}"
    );
    assert!(lines[4].starts_with(&" ".repeat(21)), "{text}");
    assert!(render(&checks, true).starts_with("\x1b[32mok  \x1b[0m  pcscd"));
    assert_eq!(exit_for(&checks), Some(Exit::Aws));
}
