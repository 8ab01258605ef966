//! The Management applet (AID `A0 00 00 05 27 47 11 17`): how ykman learns serial and firmware.
//!
//! SELECT answers the firmware as an ASCII string (`5.4.3`); READ CONFIG (`1D`) answers a length byte
//! and the device-info TLVs that `yubikit/management.py` parses. Writing the configuration is not
//! emulated (`6D00`).

use crate::apdu::{sw, Command, Response};
use crate::identity::{Identity, FORM_FACTOR_USB_A_KEYCHAIN};
use crate::tlv;

/// AID of the Management applet.
pub const AID: &[u8] = &[0xA0, 0x00, 0x00, 0x05, 0x27, 0x47, 0x11, 0x17];

/// INS of READ CONFIG.
pub const INS_READ_CONFIG: u8 = 0x1D;

const TAG_USB_SUPPORTED: u8 = 0x01;
const TAG_SERIAL: u8 = 0x02;
const TAG_USB_ENABLED: u8 = 0x03;
const TAG_FORM_FACTOR: u8 = 0x04;
const TAG_VERSION: u8 = 0x05;
const TAG_AUTO_EJECT_TIMEOUT: u8 = 0x06;
const TAG_CHALRESP_TIMEOUT: u8 = 0x07;
const TAG_DEVICE_FLAGS: u8 = 0x08;
const TAG_CONFIG_LOCK: u8 = 0x0A;
const TAG_NFC_SUPPORTED: u8 = 0x0D;
const TAG_NFC_ENABLED: u8 = 0x0E;

/// Name of a Management instruction.
pub fn ins_name(ins: u8) -> Option<&'static str> {
    match ins {
        INS_READ_CONFIG => Some("READ_CONFIG"),
        _ => None,
    }
}

/// SELECT answer: the firmware version as text.
pub fn select(identity: &Identity) -> Response {
    Response::ok(identity.version_string().into_bytes())
}

/// One command while the Management applet is selected.
pub fn process(identity: &Identity, cmd: &Command) -> Response {
    match cmd.ins {
        INS_READ_CONFIG => Response::ok(device_info(identity, cmd.p1)),
        _ => Response::status(sw::INS_NOT_SUPPORTED),
    }
}

/// Device info page `page`: a length byte then TLVs. Everything fits in page 0.
fn device_info(identity: &Identity, page: u8) -> Vec<u8> {
    let mut body = Vec::new();
    if page == 0 {
        let caps = identity.capabilities().to_be_bytes();
        body.extend(tlv::encode(TAG_USB_SUPPORTED, &caps));
        body.extend(tlv::encode(TAG_SERIAL, &identity.serial.to_be_bytes()));
        body.extend(tlv::encode(TAG_USB_ENABLED, &caps));
        body.extend(tlv::encode(TAG_FORM_FACTOR, &[FORM_FACTOR_USB_A_KEYCHAIN]));
        body.extend(tlv::encode(TAG_VERSION, &identity.version));
        body.extend(tlv::encode(TAG_AUTO_EJECT_TIMEOUT, &[0, 0]));
        body.extend(tlv::encode(TAG_CHALRESP_TIMEOUT, &[15]));
        body.extend(tlv::encode(TAG_DEVICE_FLAGS, &[0]));
        body.extend(tlv::encode(TAG_CONFIG_LOCK, &[0]));
        body.extend(tlv::encode(TAG_NFC_SUPPORTED, &caps));
        body.extend(tlv::encode(TAG_NFC_ENABLED, &caps));
    }
    let mut out = vec![body.len() as u8];
    out.extend(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_info_has_serial_and_version() {
        let id = Identity {
            serial: 0x01020304,
            version: [5, 4, 3],
        };
        let info = device_info(&id, 0);
        assert_eq!(usize::from(info[0]), info.len() - 1);
        assert_eq!(tlv::find(&info[1..], TAG_SERIAL), Some(&[1u8, 2, 3, 4][..]));
        assert_eq!(tlv::find(&info[1..], TAG_VERSION), Some(&[5u8, 4, 3][..]));
        assert_eq!(device_info(&id, 1), vec![0]);
        assert_eq!(select(&id).data, b"5.4.3".to_vec());
    }
}
