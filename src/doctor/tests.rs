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
