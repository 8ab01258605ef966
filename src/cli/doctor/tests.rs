use super::*;
use ykmfa::doctor::Status;

#[test]
fn the_report_fits_80_columns_and_wraps_under_the_detail() {
    let arn =
        "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/someone";
    let fix = "ask an administrator to allow iam:EnableMFADevice, iam:DeactivateMFADevice, iam:TagMFADevice";
    let ok = Check::new("pcscd", "pcscd", Status::Ok, "answers");
    let checks = [
        ok,
        Check::new("identity", "identity", Status::Fail, arn).fix([fix]),
    ];
    let text = render(&checks, false);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.iter().all(|l| l.chars().count() <= WIDTH), "{text}");
    assert_eq!(
        lines[..2],
        [
            "ok    pcscd     answers",
            &format!("fail  identity  {}", &arn[..64])
        ]
    );
    // Continuations start in the detail column, a fix's own 5 further in.
    let at = |n: usize, line: &str| {
        line.starts_with(&" ".repeat(n)) && !line.starts_with(&" ".repeat(n + 1))
    };
    assert!(
        at(16, lines[2]) && at(16, lines[3]) && at(21, lines[4]),
        "{text}"
    );
    assert!(render(&checks, true).starts_with("\x1b[32mok  \x1b[0m  pcscd"));
    assert_eq!(exit_for(&checks), Some(Exit::Aws));
}
