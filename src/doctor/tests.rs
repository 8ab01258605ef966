use super::*;

#[test]
fn tally_and_first_failure() {
    let checks = vec![
        Check::new("a", "a", Status::Ok, ""),
        Check::new("b", "b", Status::Warn, ""),
        Check::new("c", "c", Status::Fail, "first"),
        Check::new("d", "d", Status::Fail, "second"),
        Check::new("e", "e", Status::Skip, ""),
    ];
    assert_eq!(
        tally(&checks),
        Tally {
            ok: 1,
            warn: 1,
            fail: 2,
            skip: 1
        }
    );
    assert_eq!(first_failure(&checks).map(|c| c.id.as_str()), Some("c"));
    assert!(first_failure(&checks[..2]).is_none());
}

#[test]
fn json_shape() {
    let c = Check::new("pcscd", "pcscd", Status::Fail, "not running").fix(["start it"]);
    let v = serde_json::to_value(&c).expect("json");
    assert_eq!(
        v,
        serde_json::json!({"id": "pcscd", "name": "pcscd", "status": "fail",
            "detail": "not running", "fix": ["start it"]})
    );
    assert_eq!(plural(1, "token", "tokens"), "1 token");
    assert_eq!(plural(0, "token", "tokens"), "0 tokens");
}

#[test]
fn the_first_failure_decides_the_area() {
    let c = |id: &str, s: Status| Check::new(id, id, s, "");
    let ok = [c("pcscd", Status::Ok), c("tokens", Status::Warn)];
    assert_eq!(failed_area(&ok), None);
    assert!(failed(&ok).is_empty());
    let both = [c("pcscd", Status::Fail), c("credentials", Status::Fail)];
    assert_eq!(failed_area(&both), Some(Area::Pcsc));
    assert_eq!(failed(&both), ["pcscd", "credentials"]);
    let area = |id: &str| failed_area(&[c(id, Status::Fail)]);
    assert_eq!(area("token-in-use"), Some(Area::Pcsc));
    assert_eq!(area("tokens"), Some(Area::Tokens));
    assert_eq!(area("oath-password"), Some(Area::Password));
    assert_eq!(area("clock"), Some(Area::Other));
    assert_eq!(area("iam.audit"), Some(Area::Aws));
    assert_eq!(area("identity"), Some(Area::Aws));
    let doc = json(&both, 4);
    assert_eq!(doc["schema"], "ykmfa.doctor/1");
    assert_eq!(doc["exit_code"], 4);
    assert_eq!(doc["summary"]["fail"], 2);
}

#[test]
fn the_report_wraps_under_the_detail_and_paints_only_when_asked() {
    let fix =
        "ask an administrator to allow iam:EnableMFADevice and iam:DeactivateMFADevice for you";
    let checks = [Check::new("pcscd", "pcscd", Status::Fail, "answers").fix([fix])];
    let (report, pad) = (text(&checks, false), " ".repeat(13));
    let fix = format!("{pad}fix: ask an administrator to allow iam:EnableMFADevice and");
    let more = format!("{pad}     iam:DeactivateMFADevice for you");
    assert_eq!(report, ["fail  pcscd  answers", &fix, &more].join("\n"));
    assert!(text(&checks, true).starts_with("\x1b[31;1mfail\x1b[0m  pcscd"));
}
