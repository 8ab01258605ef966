use super::*;

fn check(id: &str, name: &str, status: Status, detail: &str, fix: &[&str]) -> Check {
    Check::new(id, name, status, detail).fix(fix.iter().copied())
}

#[test]
fn the_report_fits_80_columns_and_wraps_under_the_detail() {
    let checks = vec![
        check("pcscd", "pcscd", Status::Ok, "pcscd answers (/run/pcscd/pcscd.comm)", &[]),
        check(
            "identity",
            "identity",
            Status::Ok,
            "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/someone@example.com (account 123456789012)",
            &[],
        ),
        check(
            "iam.enroll",
            "iam: enroll",
            Status::Fail,
            "not allowed: iam:EnableMFADevice, iam:DeactivateMFADevice (allowed only with aws:MultiFactorAuthPresent); optional, not allowed: iam:TagMFADevice (denied explicitly)",
            &["ask an administrator to allow iam:EnableMFADevice, iam:DeactivateMFADevice"],
        ),
    ];
    let text = render(&checks, false);
    for line in text.lines() {
        assert!(
            line.chars().count() <= WIDTH,
            "{line:?} is {} wide",
            line.chars().count()
        );
    }
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "ok    pcscd        pcscd answers (/run/pcscd/pcscd.comm)"
    );
    assert!(lines[1].starts_with("ok    identity     arn:aws:sts::"));
    // Continuations start in the detail column.
    assert!(lines[2].starts_with(&" ".repeat(19)) && !lines[2].starts_with(&" ".repeat(20)));
    let fix = lines
        .iter()
        .position(|l| l.trim_start().starts_with("fix: ask"))
        .expect("fix line");
    assert!(lines[fix].starts_with(&" ".repeat(19)));
    assert!(
        lines[fix + 1].starts_with(&" ".repeat(24)),
        "{:?}",
        lines[fix + 1]
    );
    assert!(!text.contains('\x1b'));
}

#[test]
fn colour_only_when_asked() {
    let checks = vec![check("clock", "clock", Status::Fail, "300 s ahead", &[])];
    let painted = render(&checks, true);
    assert!(
        painted.starts_with("\x1b[31;1mfail\x1b[0m  clock"),
        "{painted:?}"
    );
}

#[test]
fn wrapping_keeps_every_word_and_cuts_only_what_cannot_fit() {
    let text = "one two three four five six seven eight nine ten";
    let lines = wrap(text, 15);
    assert_eq!(lines.join(" "), text);
    assert!(lines.iter().all(|l| l.chars().count() <= 15));
    let long = "x".repeat(40);
    let lines = wrap(&long, 15);
    assert_eq!(lines.concat(), long);
    assert_eq!(wrap("", 10), [""]);
}

#[test]
fn the_first_failure_decides_the_exit_code() {
    let c = |id: &str, s: Status| check(id, id, s, "", &[]);
    let code = |checks: &[Check]| exit_for(checks).map(|(e, _)| e);
    assert_eq!(
        code(&[c("pcscd", Status::Ok), c("tokens", Status::Warn)]),
        None
    );
    assert_eq!(
        code(&[c("pcscd", Status::Fail), c("credentials", Status::Fail)]),
        Some(Exit::Pcsc)
    );
    assert_eq!(code(&[c("token-in-use", Status::Fail)]), Some(Exit::Pcsc));
    assert_eq!(code(&[c("oath-password", Status::Fail)]), Some(Exit::Token));
    assert_eq!(code(&[c("clock", Status::Fail)]), Some(Exit::Failed));
    assert_eq!(code(&[c("iam.audit", Status::Fail)]), Some(Exit::Aws));
    assert_eq!(code(&[c("identity", Status::Fail)]), Some(Exit::Aws));
}
