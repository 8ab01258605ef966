use super::*;

#[test]
fn a_password_variable_is_taken_out_of_the_environment() {
    // A name of its own: tests run in parallel in one process.
    const NAME: &str = "YKMFA_TEST_TAKEN_PASSWORD";
    std::env::set_var(NAME, "s3cret pass");
    let taken = take_variable(NAME);
    assert_eq!(taken.as_deref().map(String::as_str), Some("s3cret pass"));
    assert_eq!(std::env::var_os(NAME), None, "a child would inherit it");
    assert_eq!(take_variable(NAME).as_deref().map(String::as_str), None);
}

#[test]
fn a_password_that_is_not_utf8_is_removed_and_unset() {
    use std::os::unix::ffi::OsStrExt;

    const NAME: &str = "YKMFA_TEST_TAKEN_RAW_PASSWORD";
    std::env::set_var(NAME, std::ffi::OsStr::from_bytes(b"pass\xff"));
    assert!(take_variable(NAME).is_none());
    assert_eq!(std::env::var_os(NAME), None);
}

#[test]
fn the_variable_comes_first_then_a_question_only_when_asking() {
    let pass = |p: &str| Zeroizing::new(p.to_owned());
    let unasked = || -> Result<Zeroizing<String>, ()> { panic!("asked") };
    let given = first_given(Some(pass("from env")), true, unasked);
    assert_eq!(
        given.unwrap().as_deref().map(String::as_str),
        Some("from env")
    );
    assert_eq!(first_given(None, false, unasked).unwrap(), None);
    let typed = first_given(None, true, || Ok::<_, ()>(pass("typed")));
    assert_eq!(typed.unwrap().as_deref().map(String::as_str), Some("typed"));
    assert_eq!(
        first_given(None, true, || Err("no terminal")),
        Err("no terminal")
    );
}
