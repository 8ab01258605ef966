//! The YKOATH applet (AID `A0 00 00 05 27 21 01`) as a YubiKey 5 runs it.
//!
//! Sources: Yubico's YKOATH protocol documents and the reference client (`yubikit/oath.py`).
//! Behaviour a client must live with and that this applet reproduces on purpose:
//! PUT of an existing name overwrites it; every CALCULATE of a touch credential needs its own touch;
//! long LIST / CALCULATE ALL answers come in pieces (`61xx`, then SEND REMAINING `A5`);
//! with a password set, everything but SELECT, RESET and VALIDATE answers `6982` until VALIDATE.
//! Keys never leave this module except as a fingerprint.
//!
//! Other tokens' quirks follow the [`Profile`]: a FIPS key refuses PUT (`6985`) until a password
//! is set and refuses to remove it; a NEO refuses PUT (`6A84`) when one CALCULATE ALL answer would
//! no longer fit its buffer; pico-fido appends a second credential of an existing name and never
//! enforces the touch property; pico-fido's SELECT always names the algorithm (`7B`).

use crate::apdu::{sw, Command, Response};
use crate::crypto::{self, Algorithm};
use crate::profile::Profile;
use crate::tlv;
use serde_json::{json, Value};

/// AID of the OATH applet.
pub const AID: &[u8] = &[0xA0, 0x00, 0x00, 0x05, 0x27, 0x21, 0x01];

const TAG_NAME: u8 = 0x71;
const TAG_NAME_LIST: u8 = 0x72;
const TAG_KEY: u8 = 0x73;
const TAG_CHALLENGE: u8 = 0x74;
const TAG_RESPONSE: u8 = 0x75;
const TAG_TRUNCATED: u8 = 0x76;
const TAG_HOTP: u8 = 0x77;
const TAG_PROPERTY: u8 = 0x78;
const TAG_VERSION: u8 = 0x79;
const TAG_IMF: u8 = 0x7A;
const TAG_ALGORITHM: u8 = 0x7B;
const TAG_TOUCH: u8 = 0x7C;

/// INS of PUT.
pub const INS_PUT: u8 = 0x01;
/// INS of DELETE.
pub const INS_DELETE: u8 = 0x02;
/// INS of SET CODE.
pub const INS_SET_CODE: u8 = 0x03;
/// INS of RESET.
pub const INS_RESET: u8 = 0x04;
/// INS of RENAME.
pub const INS_RENAME: u8 = 0x05;
/// INS of LIST.
pub const INS_LIST: u8 = 0xA1;
/// INS of CALCULATE.
pub const INS_CALCULATE: u8 = 0xA2;
/// INS of VALIDATE.
pub const INS_VALIDATE: u8 = 0xA3;
/// INS of CALCULATE ALL (same byte as SELECT, which has P1 `04`).
pub const INS_CALCULATE_ALL: u8 = 0xA4;
/// INS of SEND REMAINING.
pub const INS_SEND_REMAINING: u8 = 0xA5;

const PROP_REQUIRE_TOUCH: u8 = 0x02;
const MAX_NAME_LEN: usize = 64;
const MIN_KEY_LEN: usize = 14;

/// Name of an OATH instruction, for logs, statistics and fault filters.
pub fn ins_name(ins: u8) -> Option<&'static str> {
    Some(match ins {
        INS_PUT => "PUT",
        INS_DELETE => "DELETE",
        INS_SET_CODE => "SET_CODE",
        INS_RESET => "RESET",
        INS_RENAME => "RENAME",
        INS_LIST => "LIST",
        INS_CALCULATE => "CALCULATE",
        INS_VALIDATE => "VALIDATE",
        INS_CALCULATE_ALL => "CALCULATE_ALL",
        INS_SEND_REMAINING => "SEND_REMAINING",
        _ => return None,
    })
}

/// HOTP or TOTP, high nibble of the type byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Counter-based (`10`).
    Hotp,
    /// Time-based (`20`); the host sends the time step as the challenge.
    Totp,
}

impl Kind {
    fn from_code(code: u8) -> Option<Kind> {
        match code & 0xF0 {
            0x10 => Some(Kind::Hotp),
            0x20 => Some(Kind::Totp),
            _ => None,
        }
    }

    fn code(self) -> u8 {
        match self {
            Kind::Hotp => 0x10,
            Kind::Totp => 0x20,
        }
    }
}

/// One stored credential.
struct Credential {
    name: Vec<u8>,
    kind: Kind,
    algorithm: Algorithm,
    digits: u8,
    key: Vec<u8>,
    touch: bool,
    counter: u64,
}

/// The access key a password derives to (PBKDF2 on the host side).
struct AccessKey {
    algorithm: Algorithm,
    key: Vec<u8>,
}

/// How the bench answers a touch request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Touch {
    /// Whether the (simulated) user touches the key.
    pub approve: bool,
    /// How long the card waits before answering, in milliseconds.
    pub delay_ms: u64,
}

/// Fixed properties of the emulated key.
#[derive(Debug, Clone, Copy)]
pub struct Model {
    /// Firmware version.
    pub version: [u8; 3],
    /// Maximum number of credentials.
    pub capacity: usize,
    /// Largest response data sent in one piece before `61xx` chaining.
    pub max_response: usize,
    /// The token played, for its quirks.
    pub profile: Profile,
}

/// Applet state: persistent part (salt, credentials, password) and session part (lost on power-off).
pub struct Oath {
    model: Model,
    salt: [u8; 8],
    access: Option<AccessKey>,
    credentials: Vec<Credential>,
    // Session state.
    challenge: Option<[u8; 8]>,
    unlocked: bool,
    pending: Vec<u8>,
    generation: u64,
}

impl Oath {
    /// A factory-fresh applet with the given salt.
    pub fn new(model: Model, salt: [u8; 8]) -> Oath {
        Oath {
            model,
            salt,
            access: None,
            credentials: Vec::new(),
            challenge: None,
            unlocked: false,
            pending: Vec::new(),
            generation: 0,
        }
    }

    /// Increments on every change of persistent state.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Drops session state: power-off, reset, or another applet selected.
    pub fn end_session(&mut self) {
        self.challenge = None;
        self.unlocked = false;
        self.pending.clear();
    }

    /// SELECT: version, salt, and a fresh challenge when a password is set (which locks the session).
    pub fn select(&mut self) -> Response {
        self.end_session();
        let mut out = tlv::encode(TAG_VERSION, &self.model.version);
        out.extend(tlv::encode(TAG_NAME, &self.salt));
        if let Some(access) = &self.access {
            let challenge = crypto::random::<8>();
            out.extend(tlv::encode(TAG_CHALLENGE, &challenge));
            out.extend(tlv::encode(TAG_ALGORITHM, &[access.algorithm.code()]));
            self.challenge = Some(challenge);
        } else if self.model.profile.select_always_names_algorithm() {
            out.extend(tlv::encode(TAG_ALGORITHM, &[Algorithm::Sha1.code()]));
        }
        Response::ok(out)
    }

    /// One command for the selected applet (never SELECT).
    pub fn process(&mut self, cmd: &Command, touch: Touch) -> Response {
        let Some(_) = ins_name(cmd.ins) else {
            return Response::status(sw::INS_NOT_SUPPORTED);
        };
        if cmd.ins == INS_RENAME && self.model.version < [5, 3, 1] {
            return Response::status(sw::INS_NOT_SUPPORTED);
        }
        if cmd.ins != INS_SEND_REMAINING {
            self.pending.clear();
        }
        let locked = self.access.is_some() && !self.unlocked;
        if locked && !matches!(cmd.ins, INS_RESET | INS_VALIDATE) {
            return Response::status(sw::AUTH_REQUIRED);
        }
        let result = match cmd.ins {
            INS_PUT => self.put(&cmd.data),
            INS_DELETE => self.delete(&cmd.data),
            INS_SET_CODE => self.set_code(&cmd.data),
            INS_RESET => self.reset(cmd),
            INS_RENAME => self.rename(&cmd.data),
            INS_LIST => Ok(self.list()),
            INS_CALCULATE => self.calculate(cmd, touch),
            INS_VALIDATE => self.validate(&cmd.data),
            INS_CALCULATE_ALL => self.calculate_all(cmd),
            _ => return self.send_remaining(),
        };
        match result {
            Ok(response) => self.chain(response),
            Err(status) => Response::status(status),
        }
    }

    /// Cuts a long answer: the first `max_response` bytes with `61xx`, the rest for SEND REMAINING.
    fn chain(&mut self, mut response: Response) -> Response {
        let max = self.model.max_response.max(1);
        if response.sw != sw::OK || response.data.len() <= max {
            return response;
        }
        self.pending = response.data.split_off(max);
        response.sw = more_data(self.pending.len());
        response
    }

    fn send_remaining(&mut self) -> Response {
        if self.pending.is_empty() {
            return Response::status(sw::CONDITIONS_NOT_SATISFIED);
        }
        let max = self.model.max_response.max(1);
        let take = self.pending.len().min(max);
        let data: Vec<u8> = self.pending.drain(..take).collect();
        if self.pending.is_empty() {
            Response::ok(data)
        } else {
            Response {
                data,
                sw: more_data(self.pending.len()),
                delay_ms: 0,
            }
        }
    }

    fn put(&mut self, data: &[u8]) -> Result<Response, u16> {
        if self.model.profile.oath_needs_password() && self.access.is_none() {
            return Err(sw::CONDITIONS_NOT_SATISFIED);
        }
        let mut r = tlv::Reader::new(data);
        let name = r.expect(TAG_NAME).ok_or(sw::WRONG_DATA)?;
        let key = r.expect(TAG_KEY).ok_or(sw::WRONG_DATA)?;
        let mut touch = false;
        let mut imf: Option<u32> = None;
        while let Some(tag) = r.peek_tag() {
            match tag {
                // The property is a raw tag/value pair without a length byte.
                TAG_PROPERTY => {
                    r.byte();
                    let property = r.byte().ok_or(sw::WRONG_DATA)?;
                    touch = property & PROP_REQUIRE_TOUCH != 0;
                }
                TAG_IMF => {
                    let value = r.expect(TAG_IMF).ok_or(sw::WRONG_DATA)?;
                    let bytes: [u8; 4] = value.try_into().map_err(|_| sw::WRONG_DATA)?;
                    imf = Some(u32::from_be_bytes(bytes));
                }
                _ => return Err(sw::WRONG_DATA),
            }
        }
        if name.is_empty() || name.len() > MAX_NAME_LEN || key.len() < 2 {
            return Err(sw::WRONG_DATA);
        }
        let kind = Kind::from_code(key[0]).ok_or(sw::WRONG_DATA)?;
        let algorithm = Algorithm::from_code(key[0]).ok_or(sw::WRONG_DATA)?;
        let digits = key[1];
        let secret = &key[2..];
        if !(6..=8).contains(&digits)
            || secret.len() < MIN_KEY_LEN
            || secret.len() > algorithm.block_size()
        {
            return Err(sw::WRONG_DATA);
        }
        let credential = Credential {
            name: name.to_vec(),
            kind,
            algorithm,
            digits,
            key: secret.to_vec(),
            touch,
            counter: match kind {
                Kind::Hotp => u64::from(imf.unwrap_or(0)),
                Kind::Totp => 0,
            },
        };
        let appends = self.model.profile.put_appends();
        // A YubiKey overwrites a credential of the same name, in place.
        if let Some(existing) = self
            .credentials
            .iter_mut()
            .find(|c| c.name == name && !appends)
        {
            *existing = credential;
        } else if self.credentials.len() >= self.model.capacity || !self.fits_answer(name) {
            return Err(sw::NO_SPACE);
        } else {
            self.credentials.push(credential);
        }
        self.generation += 1;
        Ok(Response::ok(Vec::new()))
    }

    /// Whether one CALCULATE ALL answer still fits the applet's buffer with `name` added (a
    /// truncated code entry: name TLV plus `76 05 digits code`).
    fn fits_answer(&self, name: &[u8]) -> bool {
        let Some(buffer) = self.model.profile.response_buffer() else {
            return true;
        };
        let entry = |n: usize| 2 + n + 7;
        let used: usize = self.credentials.iter().map(|c| entry(c.name.len())).sum();
        used + entry(name.len()) <= buffer
    }

    fn delete(&mut self, data: &[u8]) -> Result<Response, u16> {
        let name = tlv::find(data, TAG_NAME).ok_or(sw::WRONG_DATA)?;
        let index = self.index(name).ok_or(sw::NO_SUCH_OBJECT)?;
        self.credentials.remove(index);
        self.generation += 1;
        Ok(Response::ok(Vec::new()))
    }

    fn set_code(&mut self, data: &[u8]) -> Result<Response, u16> {
        let key = if data.is_empty() {
            &[][..]
        } else {
            tlv::find(data, TAG_KEY).ok_or(sw::WRONG_DATA)?
        };
        if key.is_empty() {
            if self.model.profile.oath_needs_password() {
                // A FIPS key keeps its OATH password (the bench's status word: ykman refuses
                // before asking, so the real one is not documented).
                return Err(sw::CONDITIONS_NOT_SATISFIED);
            }
            self.access = None;
            self.generation += 1;
            return Ok(Response::ok(Vec::new()));
        }
        let algorithm = Algorithm::from_code(key[0]).ok_or(sw::WRONG_DATA)?;
        let secret = &key[1..];
        let challenge = tlv::find(data, TAG_CHALLENGE).ok_or(sw::WRONG_DATA)?;
        let response = tlv::find(data, TAG_RESPONSE).ok_or(sw::WRONG_DATA)?;
        if secret.is_empty() {
            return Err(sw::WRONG_DATA);
        }
        // The host proves it computes the same HMAC with the new key.
        if !crypto::equal(&algorithm.hmac(secret, challenge), response) {
            return Err(sw::NO_SUCH_OBJECT);
        }
        self.access = Some(AccessKey {
            algorithm,
            key: secret.to_vec(),
        });
        // This session was allowed to set it, so it stays unlocked.
        self.unlocked = true;
        self.generation += 1;
        Ok(Response::ok(Vec::new()))
    }

    fn reset(&mut self, cmd: &Command) -> Result<Response, u16> {
        if (cmd.p1, cmd.p2) != (0xDE, 0xAD) {
            return Err(sw::WRONG_P1P2);
        }
        self.credentials.clear();
        self.access = None;
        self.salt = crypto::random::<8>();
        self.end_session();
        self.generation += 1;
        Ok(Response::ok(Vec::new()))
    }

    fn rename(&mut self, data: &[u8]) -> Result<Response, u16> {
        let mut r = tlv::Reader::new(data);
        let old = r.expect(TAG_NAME).ok_or(sw::WRONG_DATA)?;
        let new = r.expect(TAG_NAME).ok_or(sw::WRONG_DATA)?;
        if new.is_empty() || new.len() > MAX_NAME_LEN {
            return Err(sw::WRONG_DATA);
        }
        let index = self.index(old).ok_or(sw::NO_SUCH_OBJECT)?;
        if old != new && self.index(new).is_some() {
            return Err(sw::WRONG_DATA);
        }
        self.credentials[index].name = new.to_vec();
        self.generation += 1;
        Ok(Response::ok(Vec::new()))
    }

    fn list(&self) -> Response {
        let mut out = Vec::new();
        for c in &self.credentials {
            let mut value = vec![c.kind.code() | c.algorithm.code()];
            value.extend_from_slice(&c.name);
            out.extend(tlv::encode(TAG_NAME_LIST, &value));
        }
        Response::ok(out)
    }

    fn calculate(&mut self, cmd: &Command, touch: Touch) -> Result<Response, u16> {
        let truncated = match cmd.p2 {
            0 => false,
            1 => true,
            _ => return Err(sw::WRONG_P1P2),
        };
        let name = tlv::find(&cmd.data, TAG_NAME).ok_or(sw::WRONG_DATA)?;
        let challenge = tlv::find(&cmd.data, TAG_CHALLENGE).ok_or(sw::WRONG_DATA)?;
        let index = self.index(name).ok_or(sw::NO_SUCH_OBJECT)?;
        let needs_touch = self.credentials[index].touch && !self.model.profile.touch_ignored();
        if needs_touch && !touch.approve {
            // A real key waits ~15 s for the touch that never comes, then gives up.
            return Ok(Response {
                data: Vec::new(),
                sw: sw::AUTH_REQUIRED,
                delay_ms: touch.delay_ms,
            });
        }
        let c = &mut self.credentials[index];
        let message = match c.kind {
            // HOTP ignores the challenge and uses (then advances) its counter.
            Kind::Hotp => {
                let m = c.counter.to_be_bytes().to_vec();
                c.counter = c.counter.wrapping_add(1);
                self.generation += 1;
                m
            }
            Kind::Totp => challenge.to_vec(),
        };
        let c = &self.credentials[index];
        let mac = c.algorithm.hmac(&c.key, &message);
        let mut response = Response::ok(code_tlv(c.digits, &mac, truncated));
        if needs_touch {
            response.delay_ms = touch.delay_ms;
        }
        Ok(response)
    }

    fn validate(&mut self, data: &[u8]) -> Result<Response, u16> {
        let Some(access) = &self.access else {
            return Err(sw::NO_SUCH_OBJECT);
        };
        let response = tlv::find(data, TAG_RESPONSE).ok_or(sw::WRONG_DATA)?;
        let host_challenge = tlv::find(data, TAG_CHALLENGE).ok_or(sw::WRONG_DATA)?;
        let card_challenge = self.challenge.ok_or(sw::WRONG_DATA)?;
        let expected = access.algorithm.hmac(&access.key, &card_challenge);
        if !crypto::equal(&expected, response) {
            return Err(sw::WRONG_DATA);
        }
        let proof = access.algorithm.hmac(&access.key, host_challenge);
        self.challenge = None;
        self.unlocked = true;
        Ok(Response::ok(tlv::encode(TAG_RESPONSE, &proof)))
    }

    fn calculate_all(&mut self, cmd: &Command) -> Result<Response, u16> {
        let truncated = match cmd.p2 {
            0 => false,
            1 => true,
            _ => return Err(sw::WRONG_P1P2),
        };
        let challenge = tlv::find(&cmd.data, TAG_CHALLENGE).ok_or(sw::WRONG_DATA)?;
        let mut out = Vec::new();
        for c in &self.credentials {
            out.extend(tlv::encode(TAG_NAME, &c.name));
            if c.kind == Kind::Hotp {
                // Not computed: it would advance the counter.
                out.extend(tlv::encode(TAG_HOTP, &[c.digits]));
            } else if c.touch && !self.model.profile.touch_ignored() {
                out.extend(tlv::encode(TAG_TOUCH, &[c.digits]));
            } else {
                let mac = c.algorithm.hmac(&c.key, challenge);
                out.extend(code_tlv(c.digits, &mac, truncated));
            }
        }
        Ok(Response::ok(out))
    }

    fn index(&self, name: &[u8]) -> Option<usize> {
        self.credentials.iter().position(|c| c.name == name)
    }

    /// The salt-derived id ykman shows (base64 of SHA-256(salt)[..16], unpadded).
    pub fn device_id(&self) -> String {
        base64_unpadded(&crypto::sha256(&self.salt)[..16])
    }

    /// Whether a password is set.
    pub fn password_set(&self) -> bool {
        self.access.is_some()
    }

    /// Credentials for the state dump: metadata and a key fingerprint, never the key.
    pub fn credentials_json(&self) -> Value {
        Value::Array(
            self.credentials
                .iter()
                .map(|c| {
                    json!({
                        "name": String::from_utf8_lossy(&c.name),
                        "name_hex": crate::apdu::hex(&c.name),
                        "type": match c.kind { Kind::Hotp => "hotp", Kind::Totp => "totp" },
                        "algorithm": c.algorithm.name(),
                        "digits": c.digits,
                        "touch": c.touch,
                        "counter": c.counter,
                        "key_fingerprint": crypto::fingerprint(&c.key),
                    })
                })
                .collect(),
        )
    }
}

fn more_data(remaining: usize) -> u16 {
    0x6100
        | if remaining >= 256 {
            0
        } else {
            remaining as u16
        }
}

fn code_tlv(digits: u8, mac: &[u8], truncated: bool) -> Vec<u8> {
    if truncated {
        let mut value = vec![digits];
        value.extend_from_slice(&crypto::truncate(mac));
        tlv::encode(TAG_TRUNCATED, &value)
    } else {
        let mut value = vec![digits];
        value.extend_from_slice(mac);
        tlv::encode(TAG_RESPONSE, &value)
    }
}

fn base64_unpadded(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 0x3F) as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_TOUCH_DELAY: Touch = Touch {
        approve: true,
        delay_ms: 0,
    };

    fn model() -> Model {
        Model {
            version: [5, 4, 3],
            capacity: 32,
            max_response: 256,
            profile: Profile::YubiKey5,
        }
    }

    fn cmd(ins: u8, p1: u8, p2: u8, data: Vec<u8>) -> Command {
        Command {
            cla: 0,
            ins,
            p1,
            p2,
            data,
        }
    }

    fn put_data(name: &str, type_alg: u8, digits: u8, secret: &[u8], extra: &[u8]) -> Vec<u8> {
        let mut key = vec![type_alg, digits];
        key.extend_from_slice(secret);
        let mut secret_padded = key.clone();
        while secret_padded.len() < 2 + MIN_KEY_LEN {
            secret_padded.push(0);
        }
        let mut data = tlv::encode(TAG_NAME, name.as_bytes());
        data.extend(tlv::encode(TAG_KEY, &secret_padded));
        data.extend_from_slice(extra);
        data
    }

    fn truncated_code(resp: &Response) -> u32 {
        let value = tlv::find(&resp.data, TAG_TRUNCATED).unwrap();
        let digits = u32::from(value[0]);
        u32::from_be_bytes(value[1..5].try_into().unwrap()) % 10u32.pow(digits)
    }

    #[test]
    fn base64_matches_known_values() {
        assert_eq!(base64_unpadded(b"foob"), "Zm9vYg");
        assert_eq!(base64_unpadded(b"foo"), "Zm9v");
        assert_eq!(base64_unpadded(b"fo"), "Zm8");
    }

    #[test]
    fn reset_needs_dead() {
        let mut oath = Oath::new(model(), [1; 8]);
        let r = oath.process(&cmd(INS_RESET, 0, 0, vec![]), NO_TOUCH_DELAY);
        assert_eq!(r.sw, sw::WRONG_P1P2);
    }

    #[test]
    fn hotp_counter_from_imf() {
        let mut oath = Oath::new(model(), [1; 8]);
        let imf = tlv::encode(TAG_IMF, &5u32.to_be_bytes());
        let data = put_data("h", 0x11, 6, b"12345678901234567890", &imf);
        assert_eq!(
            oath.process(&cmd(INS_PUT, 0, 0, data), NO_TOUCH_DELAY).sw,
            sw::OK
        );
        let calc = [tlv::encode(TAG_NAME, b"h"), tlv::encode(TAG_CHALLENGE, &[])].concat();
        let r = oath.process(&cmd(INS_CALCULATE, 0, 1, calc), NO_TOUCH_DELAY);
        // RFC 4226 appendix D, count 5.
        assert_eq!(truncated_code(&r), 254676);
    }
}
