use super::*;

#[test]
fn a_socket_that_refuses_a_user_is_a_refusal_not_an_absence() {
    assert!(refused(Some(true), false));
    // Root is never refused by polkit; no socket, or an unknown one, means no service.
    assert!(!refused(Some(true), true));
    assert!(!refused(Some(false), false));
    assert!(!refused(None, false));
}
