use super::*;
use ykmfa::mfa::audit::UserFacts;

#[test]
fn the_report_fits_80_columns_and_shortens_subjects_from_the_front() {
    let name = "a-user-with-a-rather-long-name-indeed".into();
    let users = vec![UserFacts {
        name,
        devices: vec![],
        console: Some(true),
    }];
    let facts = Facts {
        account: "1".into(),
        root_mfa_enabled: Some(false),
        users,
        ..Facts::default()
    };
    let text = render(&facts, &audit::analyze(&facts));
    let long_word = |l: &str| l.split(' ').any(|w| w.chars().count() > 40);
    assert!(
        text.lines()
            .all(|l| l.chars().count() <= WIDTH || long_word(l)),
        "{text}"
    );
    assert!(
        text.contains("critical  root") && text.contains("...er-long-name-indeed"),
        "{text}"
    );
}
