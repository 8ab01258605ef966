//! A PIV applet (AID `A0 00 00 03 08`) reduced to what opens a token: SELECT, GET VERSION (`FD`) and
//! GET SERIAL (`F8`, 4 bytes big-endian), the sequence iqlusion's `yubikey` crate runs on open.

use crate::apdu::{sw, Command, Response};
use crate::identity::Identity;

/// Registered (truncated) PIV AID; hosts may also select the full one that starts with it.
pub const AID: &[u8] = &[0xA0, 0x00, 0x00, 0x03, 0x08];

const INS_GET_SERIAL: u8 = 0xF8;
const INS_GET_VERSION: u8 = 0xFD;

/// Name of a PIV instruction.
pub fn ins_name(ins: u8) -> Option<&'static str> {
    match ins {
        INS_GET_SERIAL => Some("GET_SERIAL"),
        INS_GET_VERSION => Some("GET_VERSION"),
        _ => None,
    }
}

/// SELECT answer: the application property template (AID and coexistent tag allocation authority).
pub fn select() -> Response {
    Response::ok(vec![
        0x61, 0x11, 0x4F, 0x06, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00, 0x79, 0x07, 0x4F, 0x05, 0xA0,
        0x00, 0x00, 0x03, 0x08,
    ])
}

/// One command while PIV is selected.
pub fn process(identity: &Identity, cmd: &Command) -> Response {
    match cmd.ins {
        INS_GET_VERSION => Response::ok(identity.version.to_vec()),
        INS_GET_SERIAL => Response::ok(identity.serial.to_be_bytes().to_vec()),
        _ => Response::status(sw::INS_NOT_SUPPORTED),
    }
}
