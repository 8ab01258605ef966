use super::*;

fn words(s: &str) -> Vec<String> {
    s.split(' ').map(str::to_owned).collect()
}

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
    assert_eq!(plural(1), "");
    assert_eq!(plural(2), "s");
    assert_eq!(
        shell_lines(words("aws iam one two three"), "  ", 20),
        ["  aws iam one \\", "      two three"]
    );
    let quoted = [
        "ykman",
        "oath",
        "accounts",
        "delete",
        "'A B:o'\\''b \"c d\"'",
    ];
    assert_eq!(
        shell_lines(quoted.map(str::to_owned).to_vec(), "", 24),
        [
            "ykman oath \\",
            "    accounts delete \\",
            "    'A B:o'\\''b \"c d\"'"
        ]
    );
}

#[test]
fn shortening_the_middle_keeps_both_ends_and_the_width() {
    let s = shorten_middle("Yubico YubiKey OTP+FIDO+CCID 00 00 extra long name", 30);
    assert_eq!(s.chars().count(), 30);
    assert!(s.starts_with("Yubico") && s.ends_with("long name"), "{s}");
    assert_eq!(shorten_middle("short", 30), "short");
}

#[test]
fn filling_keeps_every_word_and_cuts_only_what_cannot_fit() {
    let text = "one two three four five six seven eight nine ten";
    let lines = fill(text, 15, 15);
    assert_eq!(lines.join(" "), text);
    assert!(lines.iter().all(|l| l.chars().count() <= 15));
    let long = "x".repeat(40);
    let lines = fill(&long, 15, 10);
    assert_eq!(lines.concat(), long);
    assert_eq!(lines[0].len(), 15);
    assert_eq!(lines[1].len(), 10);
    assert_eq!(fill("", 10, 10), [""]);
}

#[test]
fn a_bar_fills_in_proportion() {
    assert_eq!(bar(1, 4, 8), "[##------]");
    assert_eq!(bar(0, 0, 4), "[####]");
    let progress = Progress::new(4);
    progress.tick(false);
    progress.tick(true);
    assert_eq!(progress.draw(4), ("[##--] 2/4".to_owned(), 1));
}

#[test]
fn a_table_row_wraps_within_its_columns() {
    let columns = [Column::left(4), Column::left(9), Column::right(3)];
    assert_eq!(line(&columns, &["ok", "a", "7"]), "ok    a            7");
    assert_eq!(line(&columns, &["ok", "a", ""]), "ok    a");
    assert_eq!(
        row(&columns, &["ok", "one two three", "12"]),
        ["ok    one two     12", "      three"]
    );
    assert_eq!(widest(["ab", "abcd"], 3), 3);
}

#[test]
fn a_bar_is_drawn_only_when_wanted_and_on_a_terminal() {
    assert!(!Bar::new(false, 3).0);
    assert_eq!(Bar::new(true, 3).0, std::io::stderr().is_terminal());
    assert!(!Bar::counting(false, 0, "accounts").0);
}
