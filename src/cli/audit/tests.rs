use super::*;

#[test]
fn a_report_without_findings_says_so_within_80_columns() {
    let text = render(&Facts::default(), &[]);
    assert!(
        text.contains("No findings.") && text.contains("policy  none"),
        "{text}"
    );
    assert!(text.lines().all(|l| l.chars().count() <= WIDTH), "{text}");
}
