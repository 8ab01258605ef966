use super::*;
use ykmfa::doctor::Status;

#[test]
fn the_report_wraps_under_the_detail_and_paints_only_when_asked() {
    let fix =
        "ask an administrator to allow iam:EnableMFADevice and iam:DeactivateMFADevice for you";
    let checks = [Check::new("pcscd", "pcscd", Status::Fail, "answers").fix([fix])];
    let (text, pad) = (render(&checks, false), " ".repeat(13));
    let fix = format!("{pad}fix: ask an administrator to allow iam:EnableMFADevice and");
    let more = format!("{pad}     iam:DeactivateMFADevice for you");
    assert_eq!(text, ["fail  pcscd  answers", &fix, &more].join("\n"));
    assert!(render(&checks, true).starts_with("\x1b[31;1mfail\x1b[0m  pcscd"));
    assert_eq!(exit_for(&checks), Some(Exit::Pcsc));
}
