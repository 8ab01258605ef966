//! What the key says about itself: firmware, serial, capabilities, form factor.
//!
//! Shared by the Management, OTP and PIV applets, which each report part of it.

/// Capability bits as the Management applet reports them (yubikit `CAPABILITY`).
pub mod capability {
    /// Yubico OTP.
    pub const OTP: u16 = 0x0001;
    /// FIDO U2F.
    pub const U2F: u16 = 0x0002;
    /// OpenPGP.
    pub const OPENPGP: u16 = 0x0008;
    /// PIV.
    pub const PIV: u16 = 0x0010;
    /// OATH.
    pub const OATH: u16 = 0x0020;
    /// YubiHSM Auth (firmware 5.4.3 and later).
    pub const HSMAUTH: u16 = 0x0100;
    /// FIDO2.
    pub const FIDO2: u16 = 0x0200;
}

/// Form factor code of a USB-A keychain key (a "YubiKey 5 NFC").
pub const FORM_FACTOR_USB_A_KEYCHAIN: u8 = 0x01;

/// The identity of one emulated key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    /// Serial number.
    pub serial: u32,
    /// Firmware version.
    pub version: [u8; 3],
}

impl Identity {
    /// Firmware as `major.minor.patch`.
    pub fn version_string(&self) -> String {
        let [a, b, c] = self.version;
        format!("{a}.{b}.{c}")
    }

    /// Applications a YubiKey 5 NFC of this firmware has, over USB and over NFC alike.
    pub fn capabilities(&self) -> u16 {
        use capability::*;
        let mut caps = OTP | U2F | OPENPGP | PIV | OATH | FIDO2;
        if self.version >= [5, 4, 3] {
            caps |= HSMAUTH;
        }
        caps
    }

    /// OATH capacity of this firmware: 32 credentials before 5.7, 64 from 5.7.
    pub fn default_oath_capacity(&self) -> usize {
        if self.version >= [5, 7, 0] {
            64
        } else {
            32
        }
    }
}

/// Parses `5.4.3`.
pub fn parse_version(text: &str) -> Option<[u8; 3]> {
    let mut parts = text.trim().split('.').map(|p| p.parse::<u8>().ok());
    let v = [parts.next()??, parts.next()??, parts.next()??];
    if parts.next().is_some() {
        return None;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(parse_version("5.4.3"), Some([5, 4, 3]));
        assert_eq!(parse_version("5.4"), None);
        assert_eq!(parse_version("5.4.3.1"), None);
        let id = Identity {
            serial: 1,
            version: [5, 7, 1],
        };
        assert_eq!(id.default_oath_capacity(), 64);
        assert_eq!(id.version_string(), "5.7.1");
    }
}
