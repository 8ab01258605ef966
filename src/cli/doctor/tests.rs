use super::*;
use ykmfa::doctor::Status;

#[test]
fn a_failed_check_has_the_exit_code_of_its_area() {
    let checks = [Check::new("pcscd", "pcscd", Status::Fail, "answers")];
    assert_eq!(exit_for(&checks), Some(Exit::Pcsc));
}
