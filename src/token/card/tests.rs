use super::*;
use crate::transport::{Transport, TransportError};

/// A token that answers SELECT, and CALCULATE ALL with `all` (data and status word).
struct Answers(Vec<u8>);

impl Transport for Answers {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        // SELECT is A4 04; CALCULATE ALL is A4 too, with P1 00.
        Ok(match (command[1], command[2]) {
            // SELECT: version 5.4.3, a salt, no password.
            (0xA4, 0x04) => vec![
                0x79, 3, 5, 4, 3, 0x71, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0x90, 0x00,
            ],
            _ => self.0.clone(),
        })
    }
}

const ID: &[u8] = b"AWS:alice";

fn answer(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut all = vec![0x71, ID.len() as u8];
    all.extend_from_slice(ID);
    all.extend_from_slice(&[tag, value.len() as u8]);
    all.extend_from_slice(value);
    all.extend_from_slice(&[0x90, 0x00]);
    all
}

fn enforced(all: Vec<u8>, asked_at_put: bool) -> Result<(), oath::Error> {
    let mut s = Session::open(Answers(all)).expect("select");
    touch_enforced(&mut s, ID, TimeStep(1), asked_at_put)
}

#[test]
fn touch_counts_only_where_the_token_shows_it_enforces_one() {
    // CALCULATE ALL marks the credential as waiting for a touch: enforced.
    let touch = enforced(answer(0x7C, &[6]), false);
    assert!(touch.is_ok(), "{touch:?}");
    // It computes the code instead (pico-fido): not enforced.
    let computed = answer(0x76, &[6, 0, 1, 2, 3]);
    assert!(matches!(
        enforced(computed, false),
        Err(oath::Error::TouchNotEnforced)
    ));
    // No CALCULATE ALL: only a token that asked for the touch at PUT has shown it.
    assert!(enforced(vec![0x6D, 0x00], true).is_ok());
    let unseen = enforced(vec![0x6D, 0x00], false);
    assert!(
        matches!(unseen, Err(oath::Error::TouchNotEnforced)),
        "{unseen:?}"
    );
}
