//! The OTP applet (AID `A0 00 00 05 27 20 01`), only as far as hosts probe it over CCID.
//!
//! SELECT and STATUS (`03`) answer the status block (firmware, programming sequence, touch level);
//! `01` with P1 `10` answers the serial, as older hosts read it. Slots are not emulated: both read as
//! unprogrammed and writes answer `6D00`.

use crate::apdu::{sw, Command, Response};
use crate::identity::Identity;

/// AID of the OTP applet.
pub const AID: &[u8] = &[0xA0, 0x00, 0x00, 0x05, 0x27, 0x20, 0x01];

const INS_CONFIG: u8 = 0x01;
const INS_STATUS: u8 = 0x03;
const SLOT_DEVICE_SERIAL: u8 = 0x10;

/// Name of an OTP instruction.
pub fn ins_name(ins: u8) -> Option<&'static str> {
    match ins {
        INS_CONFIG => Some("OTP_CONFIG"),
        INS_STATUS => Some("OTP_STATUS"),
        _ => None,
    }
}

/// Status block: version, programming sequence 0, touch level 0 (no slot programmed).
fn status(identity: &Identity) -> Vec<u8> {
    let [a, b, c] = identity.version;
    vec![a, b, c, 0, 0, 0]
}

/// SELECT answer.
pub fn select(identity: &Identity) -> Response {
    Response::ok(status(identity))
}

/// One command while the OTP applet is selected.
pub fn process(identity: &Identity, cmd: &Command) -> Response {
    match (cmd.ins, cmd.p1) {
        (INS_STATUS, _) => Response::ok(status(identity)),
        (INS_CONFIG, SLOT_DEVICE_SERIAL) => Response::ok(identity.serial.to_be_bytes().to_vec()),
        _ => Response::status(sw::INS_NOT_SUPPORTED),
    }
}
