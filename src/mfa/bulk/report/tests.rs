use super::*;

#[test]
fn report_paths() {
    let j = Path::new("/x/team.toml.journal");
    assert_eq!(
        paths(None, j),
        (
            PathBuf::from("/x/team.toml.journal.report.csv"),
            PathBuf::from("/x/team.toml.journal.report.json")
        )
    );
    assert_eq!(
        paths(Some(Path::new("out/r.csv")), j),
        (PathBuf::from("out/r.csv"), PathBuf::from("out/r.json"))
    );
    assert_eq!(
        paths(Some(Path::new("out/r")), j).1,
        PathBuf::from("out/r.json")
    );
}

#[test]
fn summary_line() {
    let s = Summary {
        rows: 3,
        enrolled: 1,
        already_enrolled: 1,
        failed: 1,
        ..Summary::default()
    };
    assert_eq!(s.line(), "3 rows: 1 enrolled, 1 already enrolled, 1 failed");
    assert!(!s.all_succeeded());
}

#[test]
fn rows_left_for_a_person_are_counted_and_not_enrolled() {
    let s = Summary {
        rows: 3,
        enrolled: 2,
        needs_person: 1,
        ..Summary::default()
    };
    assert_eq!(
        s.line(),
        "3 rows: 2 enrolled, 1 left for a person (hardware tokens)"
    );
    assert!(!s.all_succeeded());
    assert_eq!(s.not_enrolled(), 1);
}
