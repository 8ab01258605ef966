//! Profiles: which real token the card plays. Each names the applets it answers, what its
//! Management applet reports, and the OATH quirks the real token has.
//!
//! Sources (read, not copied): yubikey-manager (`yubikit/management.py` device info and its form
//! factor / FIPS bits, `yubikit/support.py` naming and the NEO path, `ykman/_cli/oath.py` FIPS
//! checks), trussed's oath-authenticator (Solo 2) and pico-fido's `src/fido/oath.c`. Where a
//! real token's status word is not documented anywhere this bench could find, the choice is the
//! bench's and the README says so.

/// A token the card can play.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// YubiKey 5 NFC, firmware 5.4.3: 32 OATH credentials.
    YubiKey5,
    /// YubiKey 5 NFC, firmware 5.7.x: 64 OATH credentials.
    YubiKey57,
    /// YubiKey NEO, firmware 3.x: no READ CONFIG (serial through OTP); OATH bounded by the size of
    /// one CALCULATE ALL answer.
    Neo,
    /// YubiKey 5 NFC FIPS (FIPS 140-3, firmware 5.7): OATH refuses PUT until a password is set
    /// and refuses to remove it.
    Fips,
    /// YubiKey Bio, Multi-protocol Edition: Management and PIV, no OATH, no OTP.
    Bio,
    /// Security Key NFC: Management only over CCID (FIDO capabilities), no serial.
    SecurityKey,
    /// SoloKeys Solo 2 with trussed's oath-authenticator: OATH only, exact AID only.
    Solo2,
    /// pico-fido: OATH only; PUT appends a duplicate name; the touch property is not enforced.
    PicoFido,
}

/// Which applets answer SELECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applets {
    /// YKOATH.
    pub oath: bool,
    /// YubiKey Management.
    pub management: bool,
    /// YubiKey OTP.
    pub otp: bool,
    /// PIV.
    pub piv: bool,
}

/// Bytes one NEO CALCULATE ALL answer may take (the bench's model of the NEO's response buffer):
/// 28 credentials with names like `Amazon Web Services:alice@123456789012` (47 bytes each).
pub const NEO_RESPONSE_BUFFER: usize = 1360;

/// Capability bits of the FIPS tags (`14`/`15`): FIDO2 bit 0, PIV 1, OpenPGP 2, OATH 3, HSM 4.
pub const FIPS_BIT_OATH: u8 = 0x08;

impl Profile {
    /// Every profile, for `--help` and tests.
    pub const ALL: [Profile; 8] = [
        Profile::YubiKey5,
        Profile::YubiKey57,
        Profile::Neo,
        Profile::Fips,
        Profile::Bio,
        Profile::SecurityKey,
        Profile::Solo2,
        Profile::PicoFido,
    ];

    /// The profile's flag value.
    pub fn name(self) -> &'static str {
        match self {
            Profile::YubiKey5 => "yubikey5",
            Profile::YubiKey57 => "yubikey5-57",
            Profile::Neo => "neo",
            Profile::Fips => "fips",
            Profile::Bio => "bio",
            Profile::SecurityKey => "security-key",
            Profile::Solo2 => "solo2",
            Profile::PicoFido => "pico-fido",
        }
    }

    /// Parses a flag value.
    pub fn parse(name: &str) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The firmware the real token reports (all applets report the same here).
    pub fn default_version(self) -> [u8; 3] {
        match self {
            Profile::YubiKey5 | Profile::SecurityKey => [5, 4, 3],
            Profile::YubiKey57 => [5, 7, 1],
            Profile::Neo => [3, 5, 0],
            Profile::Fips => [5, 7, 4],
            Profile::Bio => [5, 6, 6],
            // oath-authenticator's OATH version (chosen there so ykman allows touch).
            Profile::Solo2 => [4, 4, 4],
            // pico-fido answers its own major.minor and a zero.
            Profile::PicoFido => [6, 0, 0],
        }
    }

    /// The applets that answer SELECT.
    pub fn applets(self) -> Applets {
        let all = Applets {
            oath: true,
            management: true,
            otp: true,
            piv: true,
        };
        let none = Applets {
            oath: false,
            management: false,
            otp: false,
            piv: false,
        };
        match self {
            Profile::YubiKey5 | Profile::YubiKey57 | Profile::Neo | Profile::Fips => all,
            Profile::Bio => Applets {
                management: true,
                piv: true,
                ..none
            },
            Profile::SecurityKey => Applets {
                management: true,
                ..none
            },
            Profile::Solo2 | Profile::PicoFido => Applets { oath: true, ..none },
        }
    }

    /// Whether Management READ CONFIG exists (from firmware 4.1; never on a NEO).
    pub fn has_read_config(self) -> bool {
        self.applets().management && self != Profile::Neo
    }

    /// Whether the device info carries a serial (a Security Key without Enterprise Edition has none).
    pub fn reports_serial(self) -> bool {
        !matches!(
            self,
            Profile::SecurityKey | Profile::Solo2 | Profile::PicoFido
        )
    }

    /// OATH PUT refuses (`6985`) until a password is set, and SET CODE refuses to remove it.
    pub fn oath_needs_password(self) -> bool {
        self == Profile::Fips
    }

    /// PUT of an existing name stores a second credential of that name (pico-fido before it
    /// learned to overwrite).
    pub fn put_appends(self) -> bool {
        self == Profile::PicoFido
    }

    /// The touch property is stored but never enforced: CALCULATE answers at once and
    /// CALCULATE ALL computes the code (pico-fido reads the bare `78 02` pair as a TLV of length 2
    /// and never finds the flag).
    pub fn touch_ignored(self) -> bool {
        self == Profile::PicoFido
    }

    /// SELECT always carries the algorithm tag `7B`, password or not (pico-fido).
    pub fn select_always_names_algorithm(self) -> bool {
        self == Profile::PicoFido
    }

    /// The largest CALCULATE ALL answer the OATH applet can build, if bounded (NEO).
    pub fn response_buffer(self) -> Option<usize> {
        (self == Profile::Neo).then_some(NEO_RESPONSE_BUFFER)
    }

    /// OATH credential slots for this profile at `version`.
    pub fn default_capacity(self, version: [u8; 3]) -> usize {
        match self {
            Profile::YubiKey5 | Profile::YubiKey57 | Profile::Fips => {
                if version >= [5, 7, 0] {
                    64
                } else {
                    32
                }
            }
            // Bounded by the response buffer instead; the slot count is not what fills first.
            Profile::Neo => 255,
            Profile::Solo2 => 50,
            Profile::PicoFido => 255,
            Profile::Bio | Profile::SecurityKey => 0,
        }
    }

    /// Form factor byte of the device info (low nibble form factor, `0x80` FIPS, `0x40` Security Key).
    pub fn form_factor(self) -> u8 {
        match self {
            // USB-A keychain.
            Profile::YubiKey5 | Profile::YubiKey57 | Profile::Neo => 0x01,
            Profile::Fips => 0x81,
            // USB-A Bio.
            Profile::Bio => 0x06,
            Profile::SecurityKey => 0x41,
            Profile::Solo2 | Profile::PicoFido => 0x00,
        }
    }

    /// Whether the key has NFC.
    pub fn has_nfc(self) -> bool {
        !matches!(self, Profile::Bio)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Profile::ALL {
            assert_eq!(Profile::parse(p.name()), Some(p));
        }
        assert_eq!(Profile::parse("yubikey4"), None);
    }

    #[test]
    fn capacities() {
        assert_eq!(Profile::YubiKey5.default_capacity([5, 4, 3]), 32);
        assert_eq!(Profile::YubiKey57.default_capacity([5, 7, 1]), 64);
        assert_eq!(Profile::Fips.default_capacity([5, 7, 4]), 64);
        assert!(!Profile::Bio.applets().oath);
        assert!(!Profile::SecurityKey.applets().oath);
        assert!(!Profile::Neo.has_read_config());
    }
}
