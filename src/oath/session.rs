//! A session with the OATH applet over any [`Transport`].
//!
//! One `Session` is one SELECT: the applet's authentication state lasts until the next SELECT or
//! until the card is reset, so callers keep a session for the duration of one operation, inside
//! one exclusive PC/SC transaction.

use rand::RngCore;
use sha1::Digest;

use crate::transport::Transport;

use super::apdu::{Command, Response};
use super::auth::{self, Password};
use super::credential::{
    Algorithm, Code, Credential, CredentialData, CredentialId, OathType, TimeStep,
};
use super::status::StatusWord;
use super::tlv;
use super::{Error, Version, OATH_AID};

const INS_PUT: u8 = 0x01;
const INS_DELETE: u8 = 0x02;
const INS_SET_CODE: u8 = 0x03;
const INS_RESET: u8 = 0x04;
const INS_RENAME: u8 = 0x05;
const INS_LIST: u8 = 0xA1;
const INS_CALCULATE: u8 = 0xA2;
const INS_VALIDATE: u8 = 0xA3;
const INS_CALCULATE_ALL: u8 = 0xA4;
/// YubiKeys fetch chained OATH responses with their own instruction...
const INS_SEND_REMAINING: u8 = 0xA5;
/// ...while the Nitrokey Secrets App wants ISO GET RESPONSE (and answers `A5` with `6985`).
const INS_GET_RESPONSE: u8 = 0xC0;
/// Nitrokey Secrets App: VERIFY PIN.
const INS_VERIFY_PIN: u8 = 0xB2;

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
const TAG_PIN: u8 = 0x80;
/// Nitrokey Secrets App: the device serial in the SELECT answer.
const TAG_SERIAL: u8 = 0x8F;

const PROP_REQUIRE_TOUCH: u8 = 0x02;
/// Keys shorter than this are zero-padded: the applet rejects shorter HMAC keys.
const MIN_KEY_LEN: usize = 14;
/// A response chained over more than this many bytes is treated as a broken card, not read on.
const MAX_CHAINED_RESPONSE: usize = 64 * 1024;
/// Nor one chained over more pieces than this: a card answering `61xx` with no data would
/// otherwise never reach the byte limit. (A full 64-credential LIST is about 20 pieces.)
const MAX_CHAINED_PIECES: usize = 1024;

/// Who made the applet; decides which quirks apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Vendor {
    /// A YubiKey (Yubico's YKOATH applet).
    YubiKey,
    /// A Nitrokey 3 (Secrets App, YKOATH-compatible).
    Nitrokey,
}

/// A session with the OATH applet, opened by SELECT.
pub struct Session<T: Transport> {
    transport: T,
    version: Version,
    salt: Vec<u8>,
    /// The card's challenge while the session is locked; `None` once validated or unprotected.
    challenge: Option<Vec<u8>>,
    has_password: bool,
    vendor: Vendor,
    serial: Option<u32>,
    apdus: u32,
}

impl<T: Transport> Session<T> {
    /// SELECTs the OATH applet.
    pub fn open(transport: T) -> Result<Self, Error> {
        let mut session = Session {
            transport,
            version: Version(0, 0, 0),
            salt: Vec::new(),
            challenge: None,
            has_password: false,
            vendor: Vendor::YubiKey,
            serial: None,
            apdus: 0,
        };
        session.select()?;
        Ok(session)
    }

    fn select(&mut self) -> Result<(), Error> {
        let data = match self.send(Command::select(&OATH_AID), "SELECT") {
            Ok(data) => data,
            Err(Error::Status {
                sw: StatusWord::NotFound | StatusWord::InsNotSupported,
                ..
            }) => return Err(Error::NoOathApplet),
            Err(e) => return Err(e),
        };
        let tlvs = tlv::parse_all(&data)?;
        let version =
            tlv::find(&tlvs, TAG_VERSION).ok_or(Error::Malformed("SELECT without a version"))?;
        let [a, b, c] = version else {
            return Err(Error::Malformed("SELECT version is not 3 bytes"));
        };
        self.version = Version(*a, *b, *c);
        self.salt = tlv::find(&tlvs, TAG_NAME).unwrap_or_default().to_vec();
        self.challenge = tlv::find(&tlvs, TAG_CHALLENGE).map(<[u8]>::to_vec);
        if let Some(alg) = tlv::find(&tlvs, TAG_ALGORITHM) {
            // Only HMAC-SHA1 access keys exist; refuse to guess at anything else.
            if alg != [Algorithm::Sha1.code() | OathType::Totp.code()]
                && alg != [Algorithm::Sha1.code()]
            {
                return Err(Error::Malformed(
                    "SELECT names an unknown password algorithm",
                ));
            }
        }
        self.has_password = self.challenge.is_some();
        if let Some(serial) = tlv::find(&tlvs, TAG_SERIAL) {
            self.vendor = Vendor::Nitrokey;
            self.serial = <[u8; 4]>::try_from(serial).ok().map(u32::from_be_bytes);
        }
        Ok(())
    }

    /// The applet version (on a YubiKey, the firmware version).
    pub fn version(&self) -> Version {
        self.version
    }

    /// Who made the applet.
    pub fn vendor(&self) -> Vendor {
        self.vendor
    }

    /// The serial the applet reports itself (Nitrokey only; YubiKeys report it elsewhere).
    pub fn serial(&self) -> Option<u32> {
        self.serial
    }

    /// Whether a password is set on the applet.
    pub fn has_password(&self) -> bool {
        self.has_password
    }

    /// Whether the session still needs VALIDATE before it can do anything.
    pub fn is_locked(&self) -> bool {
        self.challenge.is_some()
    }

    /// The device id ykman shows: base64(SHA-256(salt)[..16]) without padding. It changes when
    /// the applet is reset. The Secrets App draws a fresh salt on every SELECT, so there the
    /// serial stands in.
    pub fn device_id(&self) -> String {
        if let (Vendor::Nitrokey, Some(serial)) = (self.vendor, self.serial) {
            return format!("{serial:08X}");
        }
        let digest = sha2::Sha256::digest(&self.salt);
        base64_unpadded(&digest[..16])
    }

    /// APDUs exchanged in this session, SELECT and chaining included.
    pub fn apdu_count(&self) -> u32 {
        self.apdus
    }

    /// Gives the transport back.
    pub fn into_transport(self) -> T {
        self.transport
    }

    /// Unlocks the session with the applet password (VALIDATE, mutual authentication).
    pub fn unlock(&mut self, password: &Password) -> Result<(), Error> {
        let Some(card_challenge) = self.challenge.clone() else {
            return Ok(());
        };
        let key = auth::derive_key(password, &self.salt);
        let mut host_challenge = [0u8; 8];
        rand::rngs::OsRng.fill_bytes(&mut host_challenge);
        let mut data = Vec::with_capacity(32);
        tlv::push(
            &mut data,
            TAG_RESPONSE,
            &auth::hmac_sha1(key.as_ref(), &card_challenge),
        );
        tlv::push(&mut data, TAG_CHALLENGE, &host_challenge);
        let answer = match self.send(Command::secret(INS_VALIDATE, 0, 0, data), "VALIDATE") {
            Ok(answer) => answer,
            Err(Error::Status {
                sw: StatusWord::WrongData | StatusWord::AuthRequired,
                ..
            }) => return Err(Error::WrongPassword),
            Err(Error::Status {
                sw: StatusWord::InsNotSupported,
                ..
            }) => return Err(Error::Unsupported("password validation (VALIDATE)")),
            Err(e) => return Err(e),
        };
        let tlvs = tlv::parse_all(&answer)?;
        let proof = tlv::find(&tlvs, TAG_RESPONSE)
            .ok_or(Error::Malformed("VALIDATE answer without a response"))?;
        if !auth::verify(&auth::hmac_sha1(key.as_ref(), &host_challenge), proof) {
            return Err(Error::CardAuthenticationFailed);
        }
        self.challenge = None;
        Ok(())
    }

    /// Sets (or changes) the applet password. The session must be unlocked.
    pub fn set_password(&mut self, password: &Password) -> Result<(), Error> {
        self.require_password_support()?;
        self.require_unlocked()?;
        let key = auth::derive_key(password, &self.salt);
        let mut challenge = [0u8; 8];
        rand::rngs::OsRng.fill_bytes(&mut challenge);
        let mut key_field = zeroize::Zeroizing::new(Vec::with_capacity(17));
        key_field.push(OathType::Totp.code() | Algorithm::Sha1.code());
        key_field.extend_from_slice(key.as_ref());
        let mut data = Vec::with_capacity(48);
        tlv::push(&mut data, TAG_KEY, &key_field);
        tlv::push(&mut data, TAG_CHALLENGE, &challenge);
        tlv::push(
            &mut data,
            TAG_RESPONSE,
            &auth::hmac_sha1(key.as_ref(), &challenge),
        );
        self.send(Command::secret(INS_SET_CODE, 0, 0, data), "SET CODE")
            .map_err(|e| self.locked_or(e))?;
        self.has_password = true;
        Ok(())
    }

    /// Removes the applet password. The session must be unlocked.
    pub fn clear_password(&mut self) -> Result<(), Error> {
        self.require_password_support()?;
        self.require_unlocked()?;
        self.send(
            Command::secret(INS_SET_CODE, 0, 0, vec![TAG_KEY, 0]),
            "SET CODE",
        )
        .map_err(|e| self.locked_or(e))?;
        self.has_password = false;
        Ok(())
    }

    /// Unlocks a Nitrokey Secrets App PIN for the next command.
    pub fn verify_pin(&mut self, pin: &Password) -> Result<(), Error> {
        let mut data = Vec::with_capacity(pin.expose().len() + 2);
        tlv::push(&mut data, TAG_PIN, pin.expose());
        match self.send(Command::secret(INS_VERIFY_PIN, 0, 0, data), "VERIFY PIN") {
            Ok(_) => Ok(()),
            Err(Error::Status {
                sw: StatusWord::AuthRequired | StatusWord::WrongData | StatusWord::Blocked,
                ..
            }) => Err(Error::WrongPassword),
            // ISO's 63Cx carries the tries left; the Secrets App answers a bare 6300.
            Err(Error::Status {
                sw: StatusWord::Other(sw),
                ..
            }) if sw & 0xFF00 == 0x6300 => Err(Error::WrongPassword),
            Err(Error::Status {
                sw: StatusWord::InsNotSupported,
                ..
            }) => Err(Error::Unsupported("PIN verification")),
            Err(e) => Err(e),
        }
    }

    /// Lists the credentials on the token.
    pub fn list(&mut self) -> Result<Vec<Credential>, Error> {
        self.require_unlocked()?;
        let data = self
            .send(Command::new(INS_LIST, 0, 0, vec![]), "LIST")
            .map_err(|e| self.locked_or(e))?;
        let mut out = Vec::new();
        for item in tlv::iter(&data) {
            let item = item?;
            if item.tag != TAG_NAME_LIST {
                return Err(Error::Malformed("LIST entry with an unexpected tag"));
            }
            let (&kind, raw_id) = item
                .value
                .split_first()
                .ok_or(Error::Malformed("empty LIST entry"))?;
            let oath_type =
                OathType::from_code(kind).ok_or(Error::Malformed("LIST entry of unknown type"))?;
            out.push(Credential {
                id: CredentialId::parse(raw_id, oath_type),
                raw_id: raw_id.to_vec(),
                oath_type,
                algorithm: Algorithm::from_code(kind),
                touch: None,
            });
        }
        Ok(out)
    }

    /// Writes a credential, refusing to overwrite one that exists (LIST, then PUT).
    pub fn put_new(&mut self, data: &CredentialData) -> Result<(), Error> {
        self.check_new(data)?;
        self.put(data)
    }

    /// Checks, without writing anything, that `data` can be written as a new credential: the
    /// applet's limits, the firmware's features, and that no credential of that name exists
    /// (LIST). Every error from here means nothing was sent that changes the token. Gives the
    /// number of credentials listed.
    pub fn check_new(&mut self, data: &CredentialData) -> Result<usize, Error> {
        self.check_writable(data)?;
        let new_id = data.id.to_bytes();
        let existing = self.list()?;
        if existing.iter().any(|c| c.raw_id == new_id) {
            return Err(Error::CredentialExists(data.id.to_string()));
        }
        if self.vendor == Vendor::YubiKey
            && self.version >= Version(4, 0, 0)
            && self.version < Version(4, 3, 5)
        {
            // These firmwares match names by prefix on PUT and would clobber the shorter one.
            if let Some(c) = existing
                .iter()
                .find(|c| new_id.starts_with(&c.raw_id) || c.raw_id.starts_with(&new_id))
            {
                return Err(Error::PrefixCollision {
                    version: self.version,
                    existing: c.id.to_string(),
                    new: data.id.to_string(),
                });
            }
        }
        Ok(existing.len())
    }

    fn check_writable(&self, data: &CredentialData) -> Result<(), Error> {
        data.validate()?;
        self.require_unlocked()?;
        if self.vendor == Vendor::YubiKey {
            if data.touch {
                self.require_version("requiring touch", Version(4, 2, 6))?;
            }
            if data.algorithm == Algorithm::Sha512 {
                self.require_version("HMAC-SHA512", Version(4, 3, 1))?;
            }
        }
        // The Secrets App stores a SHA-512 credential, then answers every CALCULATE of it
        // with 6A81: a credential that can never give a code.
        if self.vendor == Vendor::Nitrokey && data.algorithm == Algorithm::Sha512 {
            return Err(Error::Unsupported("HMAC-SHA512 credentials"));
        }
        Ok(())
    }

    /// Writes a credential with PUT. On a YubiKey this overwrites a credential of the same name;
    /// callers that have not just listed the token use [`Session::put_new`].
    pub fn put(&mut self, data: &CredentialData) -> Result<(), Error> {
        self.check_writable(data)?;
        let key = stored_key(data.secret.expose(), data.algorithm);
        let mut key_field = zeroize::Zeroizing::new(Vec::with_capacity(key.len() + 2));
        key_field.push(data.id.oath_type.code() | data.algorithm.code());
        key_field.push(data.digits);
        key_field.extend_from_slice(&key);
        let mut body = zeroize::Zeroizing::new(Vec::with_capacity(key_field.len() + 80));
        tlv::push(&mut body, TAG_NAME, &data.id.to_bytes());
        tlv::push(&mut body, TAG_KEY, &key_field);
        if data.touch {
            // The property is a bare tag/value pair, without a length byte (YKOATH).
            body.extend_from_slice(&[TAG_PROPERTY, PROP_REQUIRE_TOUCH]);
        }
        if data.counter > 0 {
            tlv::push(&mut body, TAG_IMF, &data.counter.to_be_bytes());
        }
        let command = Command::secret(INS_PUT, 0, 0, std::mem::take(&mut *body));
        match self.send(command, "PUT") {
            Ok(_) => Ok(()),
            Err(Error::Status {
                sw: StatusWord::NoSpace,
                ..
            }) => Err(Error::NoSpace),
            // Some NEOs answer a full PUT with 6F00 (as ykman knows).
            Err(Error::Status {
                sw: StatusWord::Unknown,
                ..
            }) if self.vendor == Vendor::YubiKey && self.version.0 == 3 => Err(Error::NoSpace),
            // The Secrets App refuses to overwrite instead of overwriting. A name LIST does not
            // show is a hidden (PIN-protected) credential.
            Err(Error::Status {
                sw: StatusWord::Blocked,
                ..
            }) if self.vendor == Vendor::Nitrokey => {
                let name = data.id.to_string();
                let raw = data.id.to_bytes();
                match self.list() {
                    Ok(listed) if listed.iter().any(|c| c.raw_id == raw) => {
                        Err(Error::CredentialExists(name))
                    }
                    _ => Err(Error::HiddenCredentialExists(name)),
                }
            }
            Err(e) => Err(self.locked_or(e)),
        }
    }

    /// Deletes a credential by its raw id.
    pub fn delete(&mut self, raw_id: &[u8]) -> Result<(), Error> {
        self.require_unlocked()?;
        let mut data = Vec::with_capacity(raw_id.len() + 2);
        tlv::push(&mut data, TAG_NAME, raw_id);
        match self.send(Command::new(INS_DELETE, 0, 0, data), "DELETE") {
            Ok(_) => Ok(()),
            Err(Error::Status {
                sw: StatusWord::NoSuchObject | StatusWord::NotFound,
                ..
            }) => Err(Error::NoSuchCredential(
                String::from_utf8_lossy(raw_id).into_owned(),
            )),
            Err(e) => Err(self.locked_or(e)),
        }
    }

    /// Renames a credential (YubiKey firmware 5.3.1 and later).
    pub fn rename(&mut self, raw_id: &[u8], new: &CredentialId) -> Result<(), Error> {
        new.validate()?;
        self.require_unlocked()?;
        if self.vendor == Vendor::YubiKey {
            self.require_version("renaming a credential", Version(5, 3, 1))?;
        }
        let mut data = Vec::with_capacity(raw_id.len() + 70);
        tlv::push(&mut data, TAG_NAME, raw_id);
        tlv::push(&mut data, TAG_NAME, &new.to_bytes());
        match self.send(Command::new(INS_RENAME, 0, 0, data), "RENAME") {
            Ok(_) => Ok(()),
            Err(Error::Status {
                sw: StatusWord::NoSuchObject | StatusWord::NotFound,
                ..
            }) => Err(Error::NoSuchCredential(
                String::from_utf8_lossy(raw_id).into_owned(),
            )),
            Err(Error::Status {
                sw: StatusWord::InsNotSupported,
                ..
            }) => Err(Error::Unsupported("RENAME")),
            Err(e) => Err(self.locked_or(e)),
        }
    }

    /// Computes the code of a TOTP credential for `step` (truncated CALCULATE). The token has no
    /// clock, so any step can be computed at once. Blocks for a touch if the credential needs one.
    pub fn calculate(&mut self, raw_id: &[u8], step: TimeStep, period: u32) -> Result<Code, Error> {
        let response = self.calculate_raw(raw_id, &step.0.to_be_bytes(), true)?;
        Code::from_truncated(&response, step, period)
    }

    /// CALCULATE with an arbitrary challenge; `truncated` selects P2 01 (digits || 4 bytes)
    /// over the full HMAC. Returns the response value without its leading digits byte.
    pub fn calculate_raw(
        &mut self,
        raw_id: &[u8],
        challenge: &[u8],
        truncated: bool,
    ) -> Result<Vec<u8>, Error> {
        self.require_unlocked()?;
        let mut data = Vec::with_capacity(raw_id.len() + challenge.len() + 4);
        tlv::push(&mut data, TAG_NAME, raw_id);
        tlv::push(&mut data, TAG_CHALLENGE, challenge);
        let answer = match self.send(
            Command::new(INS_CALCULATE, 0, u8::from(truncated), data),
            "CALCULATE",
        ) {
            Ok(answer) => answer,
            Err(Error::Status {
                sw: StatusWord::NoSuchObject | StatusWord::NotFound,
                ..
            }) => {
                return Err(Error::NoSuchCredential(
                    String::from_utf8_lossy(raw_id).into_owned(),
                ))
            }
            // An unlocked session answering 6982 to CALCULATE means the touch did not come.
            Err(Error::Status {
                sw: StatusWord::AuthRequired,
                ..
            }) if !self.is_locked() => return Err(Error::TouchTimeout),
            Err(e) => return Err(self.locked_or(e)),
        };
        let tlvs = tlv::parse_all(&answer)?;
        let tag = if truncated {
            TAG_TRUNCATED
        } else {
            TAG_RESPONSE
        };
        let value =
            tlv::find(&tlvs, tag).ok_or(Error::Malformed("CALCULATE answer without a response"))?;
        if truncated {
            Ok(value.to_vec())
        } else {
            value
                .get(1..)
                .map(<[u8]>::to_vec)
                .ok_or(Error::Malformed("empty CALCULATE response"))
        }
    }

    /// Computes the codes of every 30-second TOTP credential at once (CALCULATE ALL). Touch and
    /// HOTP credentials come back without a code; credentials of other periods get a code
    /// computed for their own period.
    pub fn calculate_all(
        &mut self,
        unix_seconds: u64,
    ) -> Result<Vec<(Credential, Option<Code>)>, Error> {
        self.require_unlocked()?;
        let step = TimeStep::at(unix_seconds, super::credential::DEFAULT_PERIOD);
        let mut data = Vec::with_capacity(10);
        tlv::push(&mut data, TAG_CHALLENGE, &step.0.to_be_bytes());
        let answer = match self.send(Command::new(INS_CALCULATE_ALL, 0, 1, data), "CALCULATE ALL") {
            Ok(answer) => answer,
            Err(Error::Status {
                sw: StatusWord::InsNotSupported,
                ..
            }) => return Err(Error::Unsupported("CALCULATE ALL")),
            Err(e) => return Err(self.locked_or(e)),
        };
        let tlvs = tlv::parse_all(&answer)?;
        let mut out = Vec::with_capacity(tlvs.len() / 2);
        for pair in tlvs.chunks(2) {
            let [name, result] = pair else {
                return Err(Error::Malformed(
                    "CALCULATE ALL answer with a name and no result",
                ));
            };
            if name.tag != TAG_NAME {
                return Err(Error::Malformed("CALCULATE ALL entry without a name"));
            }
            let oath_type = if result.tag == TAG_HOTP {
                OathType::Hotp
            } else {
                OathType::Totp
            };
            let id = CredentialId::parse(name.value, oath_type);
            let code = match result.tag {
                TAG_TRUNCATED if id.period == super::credential::DEFAULT_PERIOD => {
                    Some(Code::from_truncated(result.value, step, id.period)?)
                }
                TAG_TRUNCATED | TAG_RESPONSE => None,
                TAG_HOTP | TAG_TOUCH => None,
                _ => return Err(Error::Malformed("CALCULATE ALL result with an unknown tag")),
            };
            out.push((
                Credential {
                    raw_id: name.value.to_vec(),
                    oath_type,
                    algorithm: None,
                    touch: Some(result.tag == TAG_TOUCH),
                    id,
                },
                code,
            ));
        }
        // Non-default periods were computed for the wrong step; compute them for their own.
        for (cred, code) in &mut out {
            if cred.oath_type == OathType::Totp
                && cred.id.period != super::credential::DEFAULT_PERIOD
                && cred.touch == Some(false)
            {
                let step = TimeStep::at(unix_seconds, cred.id.period);
                *code = Some(self.calculate(&cred.raw_id, step, cred.id.period)?);
            }
        }
        Ok(out)
    }

    /// Wipes the applet: every credential and the password. Selects again afterwards.
    pub fn reset(&mut self) -> Result<(), Error> {
        self.send(Command::new(INS_RESET, 0xDE, 0xAD, vec![]), "RESET")
            .map_err(|e| self.locked_or(e))?;
        self.select()
    }

    /// The Secrets App has no applet password: it takes INS `03` for the YubiKey OTP status
    /// request and answers SET CODE with `9000` without setting anything.
    fn require_password_support(&self) -> Result<(), Error> {
        match self.vendor {
            Vendor::YubiKey => Ok(()),
            Vendor::Nitrokey => Err(Error::Unsupported("an OATH password (SET CODE)")),
        }
    }

    fn require_unlocked(&self) -> Result<(), Error> {
        if self.is_locked() {
            Err(Error::Locked)
        } else {
            Ok(())
        }
    }

    fn require_version(&self, feature: &'static str, needed: Version) -> Result<(), Error> {
        if self.version < needed {
            Err(Error::NotSupported {
                feature,
                needed,
                version: self.version,
            })
        } else {
            Ok(())
        }
    }

    /// `6982` outside CALCULATE means, on a YubiKey, that the applet wants VALIDATE (the session
    /// lost it, or the password was set by someone else meanwhile). The Secrets App has no
    /// password: there it means the touch it asked for (PUT with touch, DELETE, RESET) never came.
    fn locked_or(&self, e: Error) -> Error {
        match e {
            Error::Status {
                sw: StatusWord::AuthRequired,
                ..
            } => match self.vendor {
                Vendor::YubiKey => Error::Locked,
                Vendor::Nitrokey => Error::TouchTimeout,
            },
            other => other,
        }
    }

    /// Sends one command, follows `61xx` chaining, and returns the data of a `9000` answer.
    fn send(&mut self, command: Command, operation: &'static str) -> Result<Vec<u8>, Error> {
        let raw = command.to_bytes()?;
        tracing::trace!(target: "ykmfa::apdu", "> {command:?}");
        let mut response = self.exchange(&raw)?;
        let mut data = std::mem::take(&mut response.data);
        let mut pieces = 1;
        while let StatusWord::MoreData(_) = response.sw {
            pieces += 1;
            if pieces > MAX_CHAINED_PIECES {
                return Err(Error::Malformed(
                    "the token keeps chaining a response without end",
                ));
            }
            let ins = match self.vendor {
                Vendor::YubiKey => INS_SEND_REMAINING,
                Vendor::Nitrokey => INS_GET_RESPONSE,
            };
            let more = Command::new(ins, 0, 0, vec![]).to_bytes()?;
            response = self.exchange(&more)?;
            data.extend_from_slice(&response.data);
            if data.len() > MAX_CHAINED_RESPONSE {
                return Err(Error::Malformed(
                    "the token keeps chaining a response without end",
                ));
            }
        }
        match response.sw {
            StatusWord::Ok => Ok(data),
            sw => Err(Error::Status { operation, sw }),
        }
    }

    fn exchange(&mut self, raw: &[u8]) -> Result<Response, Error> {
        self.apdus = self.apdus.saturating_add(1);
        let bytes = self.transport.transmit(raw)?;
        let response = Response::parse(&bytes)?;
        tracing::trace!(target: "ykmfa::apdu", "< {response:?}");
        Ok(response)
    }
}

/// The key as the applet stores it: hashed when longer than the hash's block size (RFC 2104),
/// zero-padded to the applet's 14-byte minimum.
///
/// The buffer is allocated at its final size before a byte goes in: padding a buffer that is
/// full would move the key to a larger one and leave the first, unwiped, to the allocator.
fn stored_key(secret: &[u8], algorithm: Algorithm) -> zeroize::Zeroizing<Vec<u8>> {
    use zeroize::Zeroize;

    fn padded(bytes: &[u8]) -> zeroize::Zeroizing<Vec<u8>> {
        let len = bytes.len().max(MIN_KEY_LEN);
        let mut key = zeroize::Zeroizing::new(Vec::with_capacity(len));
        key.extend_from_slice(bytes);
        key.resize(len, 0);
        key
    }
    if secret.len() <= algorithm.block_size() {
        return padded(secret);
    }
    // The digest is the key: its copy on the stack is wiped too.
    match algorithm {
        Algorithm::Sha1 => {
            let mut digest = sha1::Sha1::digest(secret);
            let key = padded(&digest);
            digest.as_mut_slice().zeroize();
            key
        }
        Algorithm::Sha256 => {
            let mut digest = sha2::Sha256::digest(secret);
            let key = padded(&digest);
            digest.as_mut_slice().zeroize();
            key
        }
        Algorithm::Sha512 => {
            let mut digest = sha2::Sha512::digest(secret);
            let key = padded(&digest);
            digest.as_mut_slice().zeroize();
            key
        }
    }
}

fn base64_unpadded(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from_be_bytes([0, b[0], b[1], b[2]]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests;
