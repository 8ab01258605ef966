use super::*;

#[test]
fn read_limited_reads_everything_up_to_the_limit() {
    let data = vec![7u8; 200_000];
    let all = read_limited(&data[..], 200_000).expect("read");
    assert_eq!(all.len(), 200_000);
    assert_eq!(all.capacity(), 200_000);
    assert!(read_limited(&data[..], 199_999).is_err());
    assert!(read_limited(&b""[..], 10).expect("empty").is_empty());
}

#[test]
fn the_flags_choose_the_source() {
    assert_eq!(Source::of(None, false), Source::Prompt);
    assert_eq!(Source::of(None, true), Source::Stdin);
    assert_eq!(Source::of(Some(Path::new("-")), false), Source::QrStdin);
    let file = Source::of(Some(Path::new("qr.png")), false);
    assert_eq!(file, Source::QrFile("qr.png".into()));
    assert!(file.is_qr() && !file.reads_stdin());
    assert!(Source::Stdin.reads_stdin() && !Source::Stdin.is_qr());
}

#[test]
fn a_typed_secret_comes_from_the_question_and_a_missing_file_is_named() {
    let typed = Source::Prompt
        .read(|| Ok(Zeroizing::new("JBSWY3DPEHPK3PXP".to_owned())))
        .expect("secret");
    assert!(typed.label.is_none());
    let asked = Source::Prompt.read(|| Err(std::io::ErrorKind::Interrupted.into()));
    assert!(
        matches!(asked, Err(SourceError::Ask(e)) if e.kind() == std::io::ErrorKind::Interrupted)
    );
    let missing = Source::QrFile("/nonexistent/qr.png".into()).read(|| unreachable!());
    assert!(
        matches!(&missing, Err(SourceError::Read { what, .. }) if what == "/nonexistent/qr.png"),
        "{:?}",
        missing.err()
    );
}

#[test]
fn stdin_is_read_only_from_a_pipe_and_a_question_needs_a_terminal() {
    let qr_stdin = Source::of(Some(Path::new("-")), false);
    let unasked = || panic!("only a question needs a terminal");
    assert_eq!(
        qr_stdin.unreadable(true, unasked),
        Some(Unreadable::TerminalStdin)
    );
    assert_eq!(qr_stdin.unreadable(false, unasked), None);
    assert_eq!(
        Source::Stdin.unreadable(true, unasked),
        Some(Unreadable::TerminalStdin)
    );
    let file = Source::of(Some(Path::new("qr.png")), false);
    assert_eq!(file.unreadable(true, unasked), None);
    assert_eq!(
        Source::Prompt.unreadable(true, || false),
        Some(Unreadable::NoTerminal)
    );
    assert_eq!(Source::Prompt.unreadable(false, || true), None);
}
