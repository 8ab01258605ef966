use super::*;

#[test]
fn skew_in_words() {
    let s = |seconds, uncertainty| Skew {
        seconds,
        uncertainty,
    };
    assert_eq!(
        skew_words(&s(-0.2, 0.6)),
        "in step with AWS (-0.2 s ± 0.6 s)"
    );
    assert_eq!(skew_words(&s(89.7, 0.6)), "89.7 s ahead of AWS (± 0.6 s)");
    assert_eq!(skew_words(&s(-45.0, 0.5)), "45.0 s behind AWS (± 0.5 s)");
}
