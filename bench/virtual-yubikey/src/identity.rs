//! What the key says about itself: firmware, serial, capabilities, form factor.
//!
//! Shared by the Management, OTP and PIV applets, which each report part of it.

use crate::profile::Profile;

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

/// The identity of one emulated key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    /// Serial number.
    pub serial: u32,
    /// Firmware version.
    pub version: [u8; 3],
    /// Which token it plays.
    pub profile: Profile,
}

impl Identity {
    /// Firmware as `major.minor.patch`.
    pub fn version_string(&self) -> String {
        let [a, b, c] = self.version;
        format!("{a}.{b}.{c}")
    }

    /// Applications the key has over USB (a YubiKey 5 NFC: the same over NFC).
    pub fn capabilities(&self) -> u16 {
        use capability::*;
        match self.profile {
            // ykman's NEO baseline.
            Profile::Neo => OTP | U2F | OPENPGP | PIV | OATH,
            // Multi-protocol Edition: FIDO and PIV.
            Profile::Bio => U2F | FIDO2 | PIV,
            Profile::SecurityKey => U2F | FIDO2,
            Profile::Solo2 | Profile::PicoFido => OATH | U2F | FIDO2,
            Profile::YubiKey5 | Profile::YubiKey57 | Profile::Fips => {
                let mut caps = OTP | U2F | OPENPGP | PIV | OATH | FIDO2;
                if self.version >= [5, 4, 3] {
                    caps |= HSMAUTH;
                }
                caps
            }
        }
    }

    /// OATH capacity of this profile and firmware (a YubiKey 5: 32 before 5.7, 64 from 5.7).
    pub fn default_oath_capacity(&self) -> usize {
        self.profile.default_capacity(self.version)
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
            profile: Profile::YubiKey57,
        };
        assert_eq!(id.default_oath_capacity(), 64);
        assert_eq!(id.version_string(), "5.7.1");
    }
}
