//! The Management applet (AID `A0 00 00 05 27 47 11 17`): how ykman learns serial and firmware.
//!
//! SELECT answers the firmware as an ASCII string (`5.4.3`); READ CONFIG (`1D`) answers a length byte
//! and the device-info TLVs that `yubikit/management.py` parses. Writing the configuration is not
//! emulated (`6D00`). A NEO answers SELECT but has no READ CONFIG (`6D00`): ykman reads its serial
//! through the OTP applet. The form factor byte carries the FIPS (`80`) and Security Key (`40`)
//! bits; a FIPS 140-3 key adds the FIPS-capable (`14`) and FIPS-approved (`15`) tags, OATH being
//! approved once it has a password.

use crate::apdu::{sw, Command, Response};
use crate::identity::Identity;
use crate::profile::{Profile, FIPS_BIT_OATH};
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
const TAG_FIPS_CAPABLE: u8 = 0x14;
const TAG_FIPS_APPROVED: u8 = 0x15;

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

/// One command while the Management applet is selected; `oath_password` says whether the OATH
/// applet has a password (what a FIPS key's approved flags follow).
pub fn process(identity: &Identity, cmd: &Command, oath_password: bool) -> Response {
    match cmd.ins {
        INS_READ_CONFIG if identity.profile.has_read_config() => {
            Response::ok(device_info(identity, cmd.p1, oath_password))
        }
        _ => Response::status(sw::INS_NOT_SUPPORTED),
    }
}

/// Device info page `page`: a length byte then TLVs. Everything fits in page 0.
fn device_info(identity: &Identity, page: u8, oath_password: bool) -> Vec<u8> {
    let profile = identity.profile;
    let mut body = Vec::new();
    if page == 0 {
        let caps = identity.capabilities().to_be_bytes();
        body.extend(tlv::encode(TAG_USB_SUPPORTED, &caps));
        if profile.reports_serial() {
            body.extend(tlv::encode(TAG_SERIAL, &identity.serial.to_be_bytes()));
        }
        body.extend(tlv::encode(TAG_USB_ENABLED, &caps));
        body.extend(tlv::encode(TAG_FORM_FACTOR, &[profile.form_factor()]));
        body.extend(tlv::encode(TAG_VERSION, &identity.version));
        body.extend(tlv::encode(TAG_AUTO_EJECT_TIMEOUT, &[0, 0]));
        body.extend(tlv::encode(TAG_CHALRESP_TIMEOUT, &[15]));
        body.extend(tlv::encode(TAG_DEVICE_FLAGS, &[0]));
        body.extend(tlv::encode(TAG_CONFIG_LOCK, &[0]));
        if profile.has_nfc() {
            body.extend(tlv::encode(TAG_NFC_SUPPORTED, &caps));
            body.extend(tlv::encode(TAG_NFC_ENABLED, &caps));
        }
        if profile == Profile::Fips {
            // FIDO2, PIV, OpenPGP, OATH and YubiHSM Auth can be approved; here only OATH's
            // state is modelled (approved once it has a password).
            body.extend(tlv::encode(TAG_FIPS_CAPABLE, &[0, 0x1F]));
            let approved = if oath_password { FIPS_BIT_OATH } else { 0 };
            body.extend(tlv::encode(TAG_FIPS_APPROVED, &[0, approved]));
        }
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
            profile: Profile::YubiKey5,
        };
        let info = device_info(&id, 0, false);
        assert_eq!(usize::from(info[0]), info.len() - 1);
        assert_eq!(tlv::find(&info[1..], TAG_SERIAL), Some(&[1u8, 2, 3, 4][..]));
        assert_eq!(tlv::find(&info[1..], TAG_VERSION), Some(&[5u8, 4, 3][..]));
        assert_eq!(tlv::find(&info[1..], TAG_FORM_FACTOR), Some(&[1u8][..]));
        assert_eq!(tlv::find(&info[1..], TAG_FIPS_CAPABLE), None);
        assert_eq!(device_info(&id, 1, false), vec![0]);
        assert_eq!(select(&id).data, b"5.4.3".to_vec());
    }

    #[test]
    fn fips_approval_follows_the_oath_password() {
        let id = Identity {
            serial: 1,
            version: [5, 7, 4],
            profile: Profile::Fips,
        };
        let before = device_info(&id, 0, false);
        assert_eq!(
            tlv::find(&before[1..], TAG_FORM_FACTOR),
            Some(&[0x81u8][..])
        );
        assert_eq!(
            tlv::find(&before[1..], TAG_FIPS_CAPABLE),
            Some(&[0u8, 0x1F][..])
        );
        assert_eq!(
            tlv::find(&before[1..], TAG_FIPS_APPROVED),
            Some(&[0u8, 0][..])
        );
        let after = device_info(&id, 0, true);
        assert_eq!(
            tlv::find(&after[1..], TAG_FIPS_APPROVED),
            Some(&[0u8, 8][..])
        );
    }

    #[test]
    fn bio_security_key_and_neo() {
        let bio = Identity {
            serial: 2,
            version: [5, 6, 6],
            profile: Profile::Bio,
        };
        let info = device_info(&bio, 0, false);
        assert_eq!(tlv::find(&info[1..], TAG_FORM_FACTOR), Some(&[6u8][..]));
        assert_eq!(
            tlv::find(&info[1..], TAG_USB_SUPPORTED),
            Some(&[0x02u8, 0x12][..])
        );
        assert_eq!(tlv::find(&info[1..], TAG_NFC_SUPPORTED), None);
        let sky = Identity {
            serial: 3,
            version: [5, 4, 3],
            profile: Profile::SecurityKey,
        };
        let info = device_info(&sky, 0, false);
        assert_eq!(tlv::find(&info[1..], TAG_SERIAL), None);
        assert_eq!(tlv::find(&info[1..], TAG_FORM_FACTOR), Some(&[0x41u8][..]));
        let neo = Identity {
            serial: 4,
            version: [3, 5, 0],
            profile: Profile::Neo,
        };
        let read = Command {
            cla: 0,
            ins: INS_READ_CONFIG,
            p1: 0,
            p2: 0,
            data: vec![],
        };
        assert_eq!(process(&neo, &read, false).sw, sw::INS_NOT_SUPPORTED);
        assert_eq!(select(&neo).data, b"3.5.0".to_vec());
    }
}
