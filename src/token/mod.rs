//! Tokens: finding them, telling them apart, and choosing one; [`present`] surveys the tokens
//! present and unlocks them.
//!
//! A token is a card in a reader that has the OATH applet. Its identity (kind, serial, firmware)
//! comes from the YubiKey Management applet, or from the Nitrokey Secrets App's own SELECT answer.
//! Choosing between tokens never guesses: two tokens and no `--serial` is an error.

pub mod card;
pub mod password;
pub mod present;
mod table;

use std::fmt;
use std::time::{Duration, Instant};

use crate::oath::{self, tlv, Version};
use crate::transport::pcsc::{self, Context};
use crate::transport::{Transport, TransportError};

pub use card::{Card, PcscCard, WriteError};
pub use present::{Gathering, Present, PresentError};
pub use table::table;

/// AID of the YubiKey Management applet.
const MANAGEMENT_AID: [u8; 8] = [0xA0, 0x00, 0x00, 0x05, 0x27, 0x47, 0x11, 0x17];
/// AID of the YubiKey OTP applet (serial on keys older than the Management READ CONFIG).
const OTP_AID: [u8; 7] = [0xA0, 0x00, 0x00, 0x05, 0x27, 0x20, 0x01];
const INS_READ_CONFIG: u8 = 0x1D;
const TAG_USB_SUPPORTED: u8 = 0x01;
const TAG_SERIAL: u8 = 0x02;
const TAG_FORM_FACTOR: u8 = 0x04;
const TAG_FIRMWARE: u8 = 0x05;
const TAG_NFC_SUPPORTED: u8 = 0x0D;
const TAG_FIPS_CAPABLE: u8 = 0x14;
const TAG_FIPS_APPROVED: u8 = 0x15;
/// OATH's bit in the FIPS-capable and FIPS-approved tags.
const FIPS_OATH: u16 = 0x08;

/// A token's serial number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Serial(pub u32);

impl fmt::Display for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::str::FromStr for Serial {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim().parse().map(Serial)
    }
}

/// What kind of token answers in a reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A YubiKey.
    YubiKey,
    /// A Nitrokey 3.
    Nitrokey,
    /// Something else that speaks YKOATH.
    Other,
}

impl Kind {
    /// Whether the token asks for a touch to confirm a DELETE, and to store a credential that
    /// itself requires a touch: Nitrokey's Secrets App does, whatever the credential.
    pub fn confirms_writes_by_touch(self) -> bool {
        self == Kind::Nitrokey
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::YubiKey => "YubiKey",
            Kind::Nitrokey => "Nitrokey",
            Kind::Other => "other",
        })
    }
}

/// What ykmfa knows about a token after looking at it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Token {
    /// The PC/SC reader it sits in.
    pub reader: String,
    /// Its kind.
    pub kind: Kind,
    /// Its serial, when the token reveals one.
    pub serial: Option<Serial>,
    /// Device firmware (YubiKey: from the Management applet; otherwise the OATH applet version).
    pub firmware: Option<Version>,
    /// The OATH applet version.
    pub oath_version: Version,
    /// ykman's device id for the OATH applet (changes when the applet is reset).
    pub device_id: String,
    /// Whether the OATH applet has a password.
    pub password: bool,
    /// Credentials stored, when readable (not when the applet is locked).
    pub credentials: Option<usize>,
    /// How many credentials fit, when known.
    pub capacity: Option<usize>,
    /// The model as ykman names it ("YubiKey 5 NFC", "YubiKey NEO"), when the token says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// A YubiKey FIPS whose OATH application is FIPS-capable: it holds credentials only once
    /// the application has a password, which can't be removed afterwards.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub fips: bool,
    /// The credentials LIST returned while identifying (not when locked), so a command that
    /// needs them right after does not ask the token again.
    #[serde(skip)]
    pub listed: Option<Vec<oath::Credential>>,
}

impl Token {
    /// Free credential slots, when both numbers are known.
    pub fn free(&self) -> Option<usize> {
        Some(self.capacity?.saturating_sub(self.credentials?))
    }

    /// A short description for messages: "YubiKey 12345678 (reader name)".
    pub fn describe(&self) -> String {
        match self.serial {
            Some(s) => format!("{} {s}", self.kind),
            None => format!("{} in '{}'", self.kind, self.reader),
        }
    }
}

/// A reader that holds a card ykmfa cannot use, and why.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Unusable {
    /// The reader.
    pub reader: String,
    /// Why it was skipped.
    pub reason: String,
    /// The model, when the card has no OATH application but says what it is (Management).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Its serial, when it says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<Serial>,
    /// Whether it was skipped for having no OATH application.
    #[serde(skip)]
    pub no_oath: bool,
}

impl Unusable {
    fn because(reader: String, reason: impl Into<String>) -> Self {
        Unusable {
            reader,
            reason: reason.into(),
            model: None,
            serial: None,
            no_oath: false,
        }
    }
}

/// Why a card without an OATH application was skipped, when it does not say what it is.
const NO_OATH: &str = "the card has no OATH application";

/// All readers looked at: the usable tokens and the cards that are not.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Inventory {
    /// Tokens with an OATH applet.
    pub tokens: Vec<Token>,
    /// Cards that could not be used, with the reason.
    pub unusable: Vec<Unusable>,
}

/// Why no single token could be chosen.
#[derive(Debug, thiserror::Error)]
pub enum SelectError {
    /// No token at all.
    #[error("no token with an OATH application is connected")]
    NoToken,
    /// Several tokens and no serial to choose by.
    #[error("{} tokens are connected ({}); choose one with --serial", .0.len(), list(.0))]
    Ambiguous(Vec<Token>),
    /// No token with the requested serial.
    #[error("no connected token has serial {wanted} (connected: {})", list(.present))]
    NoMatchingSerial {
        /// The serial asked for.
        wanted: Serial,
        /// What is connected.
        present: Vec<Token>,
    },
    /// The only cards present (or the one with the serial asked for) have no OATH application.
    #[error("{}", no_oath(.0))]
    NoOath(Vec<Unusable>),
    /// Waiting for a token to be inserted timed out.
    #[error("no token was inserted within {0} seconds")]
    TimedOut(u64),
    /// The PC/SC layer failed.
    #[error(transparent)]
    Transport(#[from] TransportError),
}

fn no_oath(cards: &[Unusable]) -> String {
    let each = cards.iter().map(|c| match &c.model {
        Some(model) => {
            let serial = c.serial.map(|s| format!(" {s}")).unwrap_or_default();
            format!("the {model}{serial} can't hold TOTP codes: it has no OATH application")
        }
        None => format!("the card in '{}' has no OATH application", c.reader),
    });
    each.collect::<Vec<_>>().join("; ")
}

fn list(tokens: &[Token]) -> String {
    if tokens.is_empty() {
        return "none".into();
    }
    tokens
        .iter()
        .map(Token::describe)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Looks at every reader and identifies the tokens in them.
pub fn inventory(ctx: &Context) -> Result<Inventory, TransportError> {
    let mut inv = Inventory::default();
    for reader in ctx.readers()? {
        let mut card = match ctx.connect(&reader) {
            Ok(card) => card,
            // An empty reader is not worth mentioning; vpcd and many hubs always list slots.
            Err(TransportError::NoCard(_)) | Err(TransportError::ReaderGone(_)) => continue,
            Err(TransportError::SharingViolation(r)) => {
                inv.unusable.push(Unusable::because(
                    r,
                    "held exclusively by another program (often GnuPG's scdaemon)",
                ));
                continue;
            }
            Err(e) => return Err(e),
        };
        // Another program's reset can still land between our checks; a card that is only
        // reset, not gone, is identified again.
        let mut identified = identify(&mut card);
        for _ in 0..3 {
            let reset = matches!(
                &identified,
                Err(IdentifyError::Oath(oath::Error::Transport(
                    TransportError::CardRemoved
                ))) | Err(IdentifyError::Transport(TransportError::CardRemoved))
            );
            if !reset {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
            card = match ctx.connect(&reader) {
                Ok(card) => card,
                Err(_) => break,
            };
            identified = identify(&mut card);
        }
        match identified {
            Ok(token) => inv.tokens.push(token),
            Err(IdentifyError::Oath(oath::Error::NoOathApplet)) => {
                inv.unusable.push(without_oath(&mut card, reader))
            }
            Err(IdentifyError::Oath(oath::Error::Transport(e)))
            | Err(IdentifyError::Transport(e)) => match e {
                TransportError::CardRemoved | TransportError::NoCard(_) => continue,
                TransportError::SharingViolation(r) => inv.unusable.push(Unusable::because(
                    r,
                    "held exclusively by another program (often GnuPG's scdaemon)",
                )),
                other => return Err(other),
            },
            Err(IdentifyError::Oath(e)) => inv.unusable.push(Unusable::because(
                reader,
                format!("the OATH application misbehaved: {e}"),
            )),
        }
    }
    Ok(inv)
}

/// A card without an OATH application, named by its Management applet when it has one (a
/// YubiKey Bio or Security Key): "YubiKey Bio - Multi-protocol Edition".
pub fn without_oath(card: &mut pcsc::Card, reader: String) -> Unusable {
    let info = card
        .begin()
        .ok()
        .and_then(|mut link| read_management(&mut link).ok().flatten());
    match info {
        Some(info) => {
            let model = info.model();
            let serial = info
                .serial
                .map(|s| format!(" (serial {s})"))
                .unwrap_or_default();
            Unusable {
                reader,
                reason: format!(
                    "{model}{serial}: no OATH application, so it can't hold TOTP codes"
                ),
                model: Some(model),
                serial: info.serial,
                no_oath: true,
            }
        }
        None => Unusable {
            no_oath: true,
            ..Unusable::because(reader, NO_OATH)
        },
    }
}

/// Why one card could not be identified.
#[derive(Debug, thiserror::Error)]
pub enum IdentifyError {
    /// Transport failure before the OATH applet was reached.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The OATH applet failed.
    #[error(transparent)]
    Oath(#[from] oath::Error),
}

/// Identifies the token in one connected card, in one transaction.
pub fn identify(card: &mut pcsc::Card) -> Result<Token, IdentifyError> {
    let reader = card.reader().to_owned();
    let mut link = card.begin()?;
    identify_over(&reader, &mut link)
}

/// Identifies the token behind `link` (one transaction, already begun), which sits in
/// `reader`: the OATH applet, then the Management applet or the OTP applet for the serial.
pub fn identify_over<T: Transport>(reader: &str, link: &mut T) -> Result<Token, IdentifyError> {
    let reader = reader.to_owned();
    let (serial_from_oath, oath_version, device_id, password, vendor, listed) = {
        let mut session = oath::Session::open(&mut *link)?;
        let listed = if session.is_locked() {
            None
        } else {
            Some(session.list()?)
        };
        (
            session.serial(),
            session.version(),
            session.device_id(),
            session.has_password(),
            session.vendor(),
            listed,
        )
    };
    let mut info = None;
    let (kind, serial, firmware) = match vendor {
        oath::Vendor::Nitrokey => (
            Kind::Nitrokey,
            serial_from_oath.map(Serial),
            Some(oath_version),
        ),
        oath::Vendor::YubiKey => match read_management(link)? {
            Some(read) => {
                info = Some(read);
                (
                    Kind::YubiKey,
                    read.serial,
                    Some(read.firmware.unwrap_or(oath_version)),
                )
            }
            None => {
                // A NEO answers the Management SELECT but not READ CONFIG; its serial is the
                // OTP applet's. A token with neither (Solo 2, pico-fido) is no YubiKey,
                // whatever its reader is called.
                let serial = read_otp_serial(link)?;
                let kind = if serial.is_some() || oath_version.0 == 3 {
                    Kind::YubiKey
                } else {
                    Kind::Other
                };
                (kind, serial, Some(oath_version))
            }
        },
    };
    let firmware_or_oath = firmware.unwrap_or(oath_version);
    let capacity = match kind {
        // A NEO holds what fits one CALCULATE ALL answer: a count that depends on the names.
        Kind::YubiKey if firmware_or_oath.0 < 4 => None,
        // YubiKey 5 firmware 5.7 doubled OATH storage.
        Kind::YubiKey => Some(if firmware_or_oath >= Version(5, 7, 0) {
            64
        } else {
            32
        }),
        Kind::Nitrokey | Kind::Other => None,
    };
    let model = match (kind, info) {
        (Kind::YubiKey, Some(info)) => Some(info.model()),
        (Kind::YubiKey, None) if firmware_or_oath.0 == 3 => Some("YubiKey NEO".to_owned()),
        _ => None,
    };
    Ok(Token {
        reader,
        kind,
        serial,
        firmware,
        oath_version,
        device_id,
        password,
        credentials: listed.as_ref().map(Vec::len),
        capacity,
        fips: info.is_some_and(|i| i.fips_capable & FIPS_OATH != 0),
        model,
        listed,
    })
}

/// What the YubiKey Management applet's READ CONFIG tells about the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeviceInfo {
    /// The serial number (tag `02`), if the device reports one.
    pub serial: Option<Serial>,
    /// The firmware version (tag `05`), if the device reports one.
    pub firmware: Option<Version>,
    /// The form factor byte (tag `04`): the form factor in the low nibble, `0x80` a FIPS key,
    /// `0x40` a Security Key.
    pub form_factor: u8,
    /// Applications over USB (tag `01`, yubikit's capability bits).
    pub usb: u16,
    /// Applications over NFC (tag `0D`), when the key has NFC.
    pub nfc: Option<u16>,
    /// FIPS-capable applications (tag `14`: FIDO2 `01`, PIV `02`, OpenPGP `04`, OATH `08`).
    pub fips_capable: u16,
    /// FIPS-approved applications (tag `15`, same bits).
    pub fips_approved: u16,
}

/// Capability bits (yubikit's `CAPABILITY`) that are not FIDO.
const NON_FIDO: u16 = 0x01 | 0x08 | 0x10 | 0x20 | 0x100;
const CAP_PIV: u16 = 0x10;

impl DeviceInfo {
    /// The model as ykman's `get_name` builds it from the form factor, transports and
    /// applications: "YubiKey 5 NFC", "YubiKey 5C Nano", "YubiKey 5 NFC FIPS",
    /// "YubiKey Bio - Multi-protocol Edition", "Security Key NFC".
    pub fn model(&self) -> String {
        let version = self.firmware.unwrap_or(Version(0, 0, 0));
        if version.0 == 3 {
            return "YubiKey NEO".to_owned();
        }
        if version < Version(5, 1, 0) {
            return if self.form_factor & 0x80 != 0 {
                "YubiKey FIPS (4 Series)".to_owned()
            } else {
                "YubiKey 4".to_owned()
            };
        }
        let fips = self.form_factor & 0x80 != 0 || self.fips_capable != 0;
        let sky = self.form_factor & 0x40 != 0;
        let form = self.form_factor & 0x0F;
        let nano = matches!(form, 0x02 | 0x04);
        let bio = matches!(form, 0x06 | 0x07);
        let usb_c = matches!(form, 0x03 | 0x04 | 0x07);
        let fido_only = self.usb & NON_FIDO == 0;
        let mut parts = vec![if sky { "Security Key" } else { "YubiKey" }];
        if !sky && !bio {
            parts.push("5");
        }
        if usb_c {
            parts.push("C");
        } else if form == 0x05 {
            parts.push("Ci");
        }
        if nano {
            parts.push("Nano");
        } else if self.nfc.is_some_and(|n| n != 0) {
            parts.push("NFC");
        } else if form == 0x01 {
            parts.push("A");
        } else if bio {
            parts.push("Bio");
        }
        if fips {
            parts.push("FIPS");
        } else if bio && fido_only {
            parts.push("- FIDO Edition");
        } else if bio && self.usb & CAP_PIV != 0 {
            parts.push("- Multi-protocol Edition");
        } else if sky && self.serial.is_some() {
            parts.push("- Enterprise Edition");
        }
        parts.join(" ").replace("5 C", "5C").replace("5 A", "5A")
    }
}

/// Parses a READ CONFIG answer (without status word): one length byte, then TLVs. The applet
/// answered, so the device is a YubiKey; a malformed answer only means that serial and
/// firmware are unknown, never an error.
pub fn parse_device_info(data: &[u8]) -> DeviceInfo {
    let Some((&len, rest)) = data.split_first() else {
        return DeviceInfo::default();
    };
    let body = rest.get(..usize::from(len)).unwrap_or(rest);
    let Ok(tlvs) = tlv::parse_all(body) else {
        return DeviceInfo::default();
    };
    let serial = tlv::find(&tlvs, TAG_SERIAL)
        .and_then(|v| <[u8; 4]>::try_from(v).ok())
        .map(|b| Serial(u32::from_be_bytes(b)));
    let firmware = tlv::find(&tlvs, TAG_FIRMWARE).and_then(|v| match v {
        [a, b, c] => Some(Version(*a, *b, *c)),
        _ => None,
    });
    let number = |tag| {
        tlv::find(&tlvs, tag).map(|v| {
            v.iter()
                .fold(0u32, |n, b| n << 8 | u32::from(*b))
                .min(u32::from(u16::MAX)) as u16
        })
    };
    DeviceInfo {
        serial,
        firmware,
        form_factor: tlv::find(&tlvs, TAG_FORM_FACTOR)
            .and_then(|v| v.first().copied())
            .unwrap_or(0),
        usb: number(TAG_USB_SUPPORTED).unwrap_or(0),
        nfc: number(TAG_NFC_SUPPORTED),
        fips_capable: number(TAG_FIPS_CAPABLE).unwrap_or(0),
        fips_approved: number(TAG_FIPS_APPROVED).unwrap_or(0),
    }
}

/// Reads serial and firmware from the Management applet, if the token has one.
fn read_management<T: Transport>(link: &mut T) -> Result<Option<DeviceInfo>, TransportError> {
    let select = apdu(0xA4, 0x04, 0x00, &MANAGEMENT_AID);
    let selected = link.transmit(&select)?;
    let (version, sw) = split(&selected);
    if sw != 0x9000 {
        return Ok(None);
    }
    // A NEO (firmware 3) answers the SELECT but has no READ CONFIG, and stays stuck in this
    // applet unless "de-selected" with a SELECT that carries no AID (as ykman does).
    if version.starts_with(b"3.") {
        link.transmit(&[0x00, 0xA4, 0x04, 0x00, 0x08])?;
        return Ok(None);
    }
    let raw = link.transmit(&apdu(INS_READ_CONFIG, 0, 0, &[]))?;
    let (data, sw) = split(&raw);
    if sw != 0x9000 {
        return Ok(None);
    }
    Ok(Some(parse_device_info(data)))
}

/// YubiKey NEO and 4 report their serial through the OTP applet (slot command 0x10).
fn read_otp_serial<T: Transport>(link: &mut T) -> Result<Option<Serial>, TransportError> {
    let (_, sw) = split(&link.transmit(&apdu(0xA4, 0x04, 0x00, &OTP_AID))?);
    if sw != 0x9000 {
        return Ok(None);
    }
    let raw = link.transmit(&apdu(0x01, 0x10, 0x00, &[]))?;
    let (data, sw) = split(&raw);
    Ok(match (<[u8; 4]>::try_from(data), sw) {
        (Ok(b), 0x9000) => Some(Serial(u32::from_be_bytes(b))),
        _ => None,
    })
}

fn apdu(ins: u8, p1: u8, p2: u8, data: &[u8]) -> Vec<u8> {
    let mut v = vec![0x00, ins, p1, p2];
    if !data.is_empty() {
        v.push(data.len() as u8);
        v.extend_from_slice(data);
    }
    v
}

fn split(raw: &[u8]) -> (&[u8], u16) {
    match raw.len() {
        0 | 1 => (&[], 0),
        n => (&raw[..n - 2], u16::from_be_bytes([raw[n - 2], raw[n - 1]])),
    }
}

/// Chooses one token: by serial if given, the only one if there is one, else an error.
pub fn choose(tokens: Vec<Token>, serial: Option<Serial>) -> Result<Token, SelectError> {
    match serial {
        Some(wanted) => {
            if let Some(i) = tokens.iter().position(|t| t.serial == Some(wanted)) {
                Ok(tokens.into_iter().nth(i).ok_or(SelectError::NoToken)?)
            } else {
                Err(SelectError::NoMatchingSerial {
                    wanted,
                    present: tokens,
                })
            }
        }
        None => match tokens.len() {
            0 => Err(SelectError::NoToken),
            1 => tokens.into_iter().next().ok_or(SelectError::NoToken),
            _ => Err(SelectError::Ambiguous(tokens)),
        },
    }
}

/// What a person reads when [`find`] starts to wait `wait` for a token to be inserted.
pub fn insert_prompt(wait: Duration) -> String {
    let secs = wait.as_secs();
    format!("Please insert your token (waiting up to {secs} s)...")
}

/// Finds the token to use, waiting up to `wait` for one to be inserted when none is present
/// (or none with the wanted serial). `on_wait` is called once, when waiting starts, so the
/// caller can ask the user to insert a token.
pub fn find(
    ctx: &Context,
    serial: Option<Serial>,
    wait: Duration,
    mut on_wait: impl FnMut(),
) -> Result<Token, SelectError> {
    let deadline = Instant::now() + wait;
    let mut asked = false;
    loop {
        let Inventory { tokens, unusable } = inventory(ctx)?;
        match choose(tokens, serial).map_err(|e| without_oath_instead(e, unusable)) {
            Err(SelectError::NoToken) | Err(SelectError::NoMatchingSerial { .. })
                if Instant::now() < deadline =>
            {
                if !asked {
                    on_wait();
                    asked = true;
                }
                let left = deadline.saturating_duration_since(Instant::now());
                ctx.wait_for_change(left.min(Duration::from_secs(1)))?;
            }
            Err(SelectError::NoToken) if asked => {
                return Err(SelectError::TimedOut(wait.as_secs()))
            }
            other => return other,
        }
    }
}

/// No token, or none with the serial asked for, while cards without an OATH application are
/// there (the one with that serial, or any): they are what the person meant, so say what they
/// are rather than ask for a token to be inserted.
fn without_oath_instead(e: SelectError, unusable: Vec<Unusable>) -> SelectError {
    let cards: Vec<Unusable> = match &e {
        SelectError::NoToken => unusable.into_iter().filter(|u| u.no_oath).collect(),
        SelectError::NoMatchingSerial { wanted, .. } => unusable
            .into_iter()
            .filter(|u| u.no_oath && u.serial == Some(*wanted))
            .collect(),
        _ => Vec::new(),
    };
    if cards.is_empty() {
        e
    } else {
        SelectError::NoOath(cards)
    }
}

#[cfg(test)]
mod tests;
