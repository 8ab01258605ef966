use super::*;

#[test]
fn wrapping_keeps_words_whole() {
    assert_eq!(wrap("aa bb cc", 5), ["aa bb", "cc"]);
    assert_eq!(
        wrap("x an-unbreakable-word y", 5),
        ["x", "an-unbreakable-word", "y"]
    );
    assert_eq!(wrap("  a b\nc", 5), ["  a b", "c"]);
    assert_eq!(shorten("arn:aws:iam::1:mfa/alice-yk1", 12), "...alice-yk1");
    assert_eq!(clip("abcdef", 4), "abc…");
    assert_eq!(
        shell_lines("aws iam one two three", "  ", 20),
        ["  aws iam one \\", "      two three"]
    );
    assert_eq!(
        shell_lines("ykman oath accounts delete 'A B:o'\\''b \"c d\"'", "", 24),
        [
            "ykman oath \\",
            "    accounts delete \\",
            "    'A B:o'\\''b \"c d\"'"
        ]
    );
}
