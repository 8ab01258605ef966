use super::*;

#[test]
fn quotes_for_the_shell() {
    assert_eq!(
        shell_quote("Amazon Web Services:alice@1234"),
        "'Amazon Web Services:alice@1234'"
    );
    assert_eq!(shell_quote("it's"), r"'it'\''s'");
}
