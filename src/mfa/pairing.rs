//! Pairing: which of a user's IAM MFA devices lives on which credential of which connected token.
//!
//! IAM knows devices (an ARN, an owner, maybe ykmfa's tags); tokens know credentials (a name and
//! a secret). Nothing but ykmfa's bookkeeping joins the two, and `resync`, `revoke` and `status`
//! all need the join. This module computes it from data only: no I/O, no clock, no prompts, so
//! every rule below is unit-tested and every command draws the same conclusions. The inputs are
//! read in one place, [`read`]: [`read_user`] and [`gather`] (a user's devices and their tags,
//! through the [`crate::iam::Directory`] trait).
//!
//! # Rules, strongest first
//!
//! 1. **Explicit** ([`Explicit`], from `--device ARN` and optionally `--label NAME`): the person
//!    says which device they mean, and maybe which credential. That device is paired first and
//!    its credential is taken out of the pool.
//! 2. **Tags**: enroll tags each device with the credential name ([`TAG_CREDENTIAL`]) and the
//!    token serial ([`TAG_TOKEN_SERIAL`]). A device whose token is connected and readable either
//!    has its credential there ([`Place::OnToken`]) or it is gone ([`Place::Gone`]: the
//!    credential was deleted, or the token reset; no resync can bring it back). Tags are
//!    authoritative: a tagged device is never paired by label.
//! 3. **Label**, for untagged devices (tagging denied, or made by another tool): enroll's default
//!    name `Amazon Web Services:USER@ALIAS` or `…:USER@ACCOUNT` ([`user_labels`]). A label
//!    never takes a credential that tags or `--device` gave to another device: enroll refuses to
//!    write a name that exists, so that credential was written for the tagged device.
//!
//! Pairing never guesses. When two devices claim one credential, or one device matches
//! credentials on two tokens, the device's place is [`Place::Ambiguous`] with the candidates and
//! rivals, and the caller asks for `--device`/`--serial`. A locked token (no credential list)
//! makes the places it could hold [`Place::Unknown`] rather than "not connected".
//!
//! # Use
//!
//! ```
//! use ykmfa::mfa::pairing::{pair, Device, Place};
//! # let (devices, tokens): (Vec<Device>, Vec<ykmfa::token::Token>) = (vec![], vec![]);
//! let pairing = pair(&devices, &tokens, None, None);
//! for paired in &pairing.devices {
//!     match &paired.place {
//!         Place::OnToken(at) => println!("{} is '{}' on {}", paired.serial, at.credential, at.token),
//!         other => println!("{}: {other:?}", paired.serial),
//!     }
//! }
//! for stale in &pairing.stale {
//!     println!("'{}' on {} matches no IAM device", stale.credential, stale.token);
//! }
//! ```
//!
//! Inputs: the devices with their tags ([`Device`]; [`gather`] reads them), the tokens present
//! with their credential list in [`Token::listed`] (`None` = locked or unread), and the account
//! alias if known.
//!
//! Outputs ([`Pairing`]): one [`Paired`] per device, in input order; the [`Stale`] credentials
//! (AWS-looking credentials that no given device claims; the caller decides the scope, e.g.
//! [`Stale::owner`] names the user a default label belongs to); the tokens that could not be
//! read.

use std::fmt;

use crate::iam::names::{TAG_CREDENTIAL, TAG_TOKEN_SERIAL};
use crate::iam::MfaDevice;
use crate::mfa::labels::{looks_like_aws, owner, user_labels, Owner};
use crate::oath::{Credential, CredentialId};
use crate::token::{Kind, Serial, Token};

pub mod read;

pub use read::{gather, read_user, ArnError, DeviceArn, Gathered, ReadError, UserDevices, Whose};

/// An IAM MFA device and its tags: what pairing takes from IAM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// The device as ListMFADevices returns it.
    pub device: MfaDevice,
    /// Its tags (ListMFADeviceTags); empty when untagged or when the tags could not be read.
    pub tags: Vec<(String, String)>,
}

impl Device {
    /// A device with its tags.
    pub fn new(device: MfaDevice, tags: Vec<(String, String)>) -> Self {
        Device { device, tags }
    }

    /// The value of a tag.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The credential name enroll recorded, if any.
    pub fn tagged_credential(&self) -> Option<&str> {
        self.tag(TAG_CREDENTIAL).filter(|v| !v.is_empty())
    }

    /// The token serial enroll recorded, if any (and if it parses).
    pub fn tagged_serial(&self) -> Option<Serial> {
        self.tag(TAG_TOKEN_SERIAL)?.parse().ok()
    }
}

/// A person's explicit choice (`--device ARN`, optionally `--label NAME`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explicit {
    /// The device ARN.
    pub device: String,
    /// The credential name on the token; `None` to find it by tags or label.
    pub credential: Option<String>,
}

/// A token as pairing reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenRef {
    /// Its serial, when the token reveals one.
    pub serial: Option<Serial>,
    /// Its kind.
    pub kind: Kind,
    /// The reader it sits in.
    pub reader: String,
}

impl From<&Token> for TokenRef {
    fn from(t: &Token) -> Self {
        TokenRef {
            serial: t.serial,
            kind: t.kind,
            reader: t.reader.clone(),
        }
    }
}

impl fmt::Display for TokenRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.serial {
            Some(s) => write!(f, "{} {s}", self.kind),
            None => write!(f, "{} in '{}'", self.kind, self.reader),
        }
    }
}

/// How a device was paired with its credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// `--device` (and `--label`).
    Explicit,
    /// ykmfa's tags on the device.
    Tags,
    /// enroll's default credential name.
    Label,
}

/// A credential on a connected token.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Location {
    /// The token.
    pub token: TokenRef,
    /// The credential's name.
    #[serde(serialize_with = "display")]
    pub credential: CredentialId,
    /// The raw name bytes (what CALCULATE and DELETE take).
    #[serde(skip)]
    pub raw_id: Vec<u8>,
    /// Whether a code needs a touch, when the token said.
    pub touch: Option<bool>,
    /// Why this credential is the device's.
    pub matched_by: MatchedBy,
}

impl Location {
    fn key(&self) -> (&str, &[u8]) {
        (&self.token.reader, &self.raw_id)
    }
}

fn display<S: serde::Serializer, T: fmt::Display>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// Where a device's credential is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Place {
    /// On a connected token.
    OnToken(Location),
    /// The tags name a connected, readable token that does not hold the credential: it was
    /// deleted or the token was reset. The device's seed is lost; only revoke + enroll help.
    Gone {
        /// The token the tags name.
        token: TokenRef,
        /// The credential name the tags record.
        credential: String,
    },
    /// Not on any connected token (the token the tags name is absent, or nothing matched).
    NotConnected {
        /// The token serial the tags record, if any.
        token_serial: Option<Serial>,
        /// The credential name the tags record, if any.
        credential: Option<String>,
    },
    /// Could be on a token whose credentials could not be read (locked).
    Unknown {
        /// The unreadable tokens.
        locked: Vec<TokenRef>,
    },
    /// More than one answer: several candidate credentials, or other devices claim the same one.
    Ambiguous {
        /// The credentials that could be this device's.
        candidates: Vec<Location>,
        /// Other devices (ARNs) that claim one of the candidates.
        rivals: Vec<String>,
    },
}

/// Where the credential is, in a few words ("'NAME' on TOKEN", "may be on ... (password
/// protected)").
impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let on = |l: &Location| format!("'{}' on {}", l.credential, l.token);
        match self {
            Place::OnToken(l) => f.write_str(&on(l)),
            Place::Gone { token, credential } => write!(f, "'{credential}' is gone from {token}"),
            Place::NotConnected {
                token_serial: Some(s),
                credential: Some(c),
            } => write!(f, "'{c}' on token {s}, which is not connected"),
            Place::NotConnected {
                credential: Some(c),
                ..
            } => write!(f, "'{c}', on no connected token"),
            Place::NotConnected { .. } => {
                f.write_str("no ykmfa tags, and no credential of the default name on the tokens")
            }
            Place::Unknown { locked } => {
                let tokens: Vec<String> = locked.iter().map(TokenRef::to_string).collect();
                write!(f, "may be on {} (password protected)", tokens.join(", "))
            }
            Place::Ambiguous { candidates, .. } => {
                let candidates: Vec<String> = candidates.iter().map(on).collect();
                write!(f, "one of {}", candidates.join(", "))
            }
        }
    }
}

/// One device and where its credential is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Paired {
    /// The device ARN.
    pub serial: String,
    /// The user it is assigned to, when IAM names one.
    pub user: Option<String>,
    /// Whether the device carries ykmfa's credential tag.
    pub tagged: bool,
    /// Where its credential is.
    pub place: Place,
}

impl Paired {
    /// The credential, when it was found unambiguously.
    pub fn location(&self) -> Option<&Location> {
        match &self.place {
            Place::OnToken(l) => Some(l),
            _ => None,
        }
    }
}

/// A credential on a token that looks like an AWS MFA credential and that no device claims.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Stale {
    /// The token.
    pub token: TokenRef,
    /// The credential's name.
    #[serde(serialize_with = "display")]
    pub credential: CredentialId,
    /// The raw name bytes.
    #[serde(skip)]
    pub raw_id: Vec<u8>,
    /// Who the name says it belongs to, for names in enroll's default form.
    pub owner: Option<Owner>,
}

/// The whole join.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Pairing {
    /// One entry per device, in the order given.
    pub devices: Vec<Paired>,
    /// AWS-looking credentials no given device claims.
    pub stale: Vec<Stale>,
    /// Tokens whose credentials could not be read (locked).
    pub locked: Vec<TokenRef>,
}

impl Pairing {
    /// The entry for a device ARN.
    pub fn device(&self, serial: &str) -> Option<&Paired> {
        self.devices.iter().find(|p| p.serial == serial)
    }

    /// The devices whose credential is on the token with this serial.
    pub fn on_token(&self, serial: Serial) -> impl Iterator<Item = &Paired> {
        self.devices
            .iter()
            .filter(move |p| p.location().is_some_and(|l| l.token.serial == Some(serial)))
    }
}

/// The account id field of an IAM ARN (`arn:aws:iam::123456789012:mfa/x`).
pub fn arn_account(arn: &str) -> Option<&str> {
    let account = arn.split(':').nth(4)?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then_some(account)
}

/// The credentials on the readable `tokens` whose names say they are the root user's (of
/// `account`, when given): `enroll --root`'s name or the console QR code's label
/// ([`Owner::is_root`]). Root devices carry no tags: the name is all that ties a credential to
/// them.
pub fn root_credentials<'a>(
    tokens: &'a [Token],
    account: Option<&str>,
) -> Vec<(&'a Token, &'a Credential)> {
    tokens
        .iter()
        .flat_map(|t| t.listed.iter().flatten().map(move |c| (t, c)))
        .filter(|(_, c)| {
            owner(&c.id).is_some_and(|o| o.is_root() && account.is_none_or(|a| o.account == a))
        })
        .collect()
}

/// Joins devices and tokens. See the module docs for the rules.
///
/// `alias` is the account alias when known (default labels may use it). `explicit` pairs one
/// device first; if its ARN is not among `devices` it is ignored (callers check that first and
/// say so).
pub fn pair(
    devices: &[Device],
    tokens: &[Token],
    alias: Option<&str>,
    explicit: Option<&Explicit>,
) -> Pairing {
    let locked: Vec<TokenRef> = tokens
        .iter()
        .filter(|t| t.listed.is_none())
        .map(TokenRef::from)
        .collect();
    // Every credential on the readable tokens.
    let pool: Vec<(&Token, &Credential)> = tokens
        .iter()
        .filter_map(|t| t.listed.as_ref().map(|l| (t, l)))
        .flat_map(|(t, l)| l.iter().map(move |c| (t, c)))
        .collect();
    let at = |t: &Token, c: &Credential, matched_by| Location {
        token: TokenRef::from(t),
        credential: c.id.clone(),
        raw_id: c.raw_id.clone(),
        touch: c.touch,
        matched_by,
    };
    let find_named = |name: &str, on: Option<Serial>, by| -> Vec<Location> {
        pool.iter()
            .filter(|(t, _)| on.is_none_or(|s| t.serial == Some(s)))
            .filter(|(_, c)| c.id.to_string() == name || c.raw_id == name.as_bytes())
            .map(|(t, c)| at(t, c, by))
            .collect()
    };
    let not_found = |serial: Option<Serial>, credential: Option<&str>| {
        // A locked token may hold it, unless the tags name another token.
        let could_hold: Vec<TokenRef> = locked
            .iter()
            .filter(|t| serial.is_none() || t.serial == serial || t.serial.is_none())
            .cloned()
            .collect();
        if could_hold.is_empty() {
            Place::NotConnected {
                token_serial: serial,
                credential: credential.map(str::to_owned),
            }
        } else {
            Place::Unknown { locked: could_hold }
        }
    };
    let from_candidates = |mut candidates: Vec<Location>, fallback: Place| match (
        candidates.pop(),
        candidates.is_empty(),
    ) {
        (None, _) => fallback,
        (Some(one), true) => Place::OnToken(one),
        (Some(last), false) => {
            candidates.push(last);
            Place::Ambiguous {
                candidates,
                rivals: Vec::new(),
            }
        }
    };

    // First pass: each device on its own (explicit, tags, label), before rivals are compared.
    let explicit_index =
        explicit.and_then(|e| devices.iter().position(|d| d.device.serial == e.device));
    let mut places: Vec<Place> = devices
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let chosen = explicit_index == Some(i);
            if let (true, Some(name)) = (chosen, explicit.and_then(|e| e.credential.as_deref())) {
                return from_candidates(
                    find_named(name, None, MatchedBy::Explicit),
                    not_found(None, Some(name)),
                );
            }
            let by = |m| if chosen { MatchedBy::Explicit } else { m };
            if let Some(name) = d.tagged_credential() {
                let serial = d.tagged_serial();
                if let Some(s) = serial {
                    if let Some(token) = tokens
                        .iter()
                        .find(|t| t.serial == Some(s) && t.listed.is_some())
                    {
                        let found = find_named(name, Some(s), by(MatchedBy::Tags));
                        return from_candidates(
                            found,
                            Place::Gone {
                                token: TokenRef::from(token),
                                credential: name.to_owned(),
                            },
                        );
                    }
                }
                return from_candidates(
                    find_named(name, serial, by(MatchedBy::Tags)),
                    not_found(serial, Some(name)),
                );
            }
            let user = d.device.user.as_deref().unwrap_or_default();
            let account = arn_account(&d.device.serial).unwrap_or_default();
            if user.is_empty() || account.is_empty() {
                return not_found(None, None);
            }
            let labels = user_labels(user, alias, account);
            let found: Vec<Location> = labels
                .iter()
                .flat_map(|l| find_named(l, None, by(MatchedBy::Label)))
                .collect();
            from_candidates(found, not_found(None, None))
        })
        .collect();

    // Second pass: a label never takes a credential that tags or the person gave to a device.
    // enroll refuses to write a name that exists, so a tagged device's credential was written
    // for that device; an untagged device with the same default name lost its own.
    let strong: Vec<(String, Vec<u8>)> = places
        .iter()
        .flat_map(|p| match p {
            Place::OnToken(l) => vec![l],
            Place::Ambiguous { candidates, .. } => candidates.iter().collect(),
            _ => Vec::new(),
        })
        .filter(|l| l.matched_by != MatchedBy::Label)
        .map(owned_key)
        .collect();
    for place in places.iter_mut() {
        let candidates = match place {
            Place::OnToken(l) if l.matched_by == MatchedBy::Label => vec![l.clone()],
            Place::Ambiguous { candidates, .. }
                if candidates.iter().all(|l| l.matched_by == MatchedBy::Label) =>
            {
                candidates.clone()
            }
            _ => continue,
        };
        let free: Vec<Location> = candidates
            .into_iter()
            .filter(|l| !strong.contains(&owned_key(l)))
            .collect();
        *place = from_candidates(free, not_found(None, None));
    }

    // Third pass: a credential claimed by several devices belongs to none of them for sure,
    // unless the person named one explicitly.
    let claims: Vec<Vec<(String, Vec<u8>)>> = places
        .iter()
        .map(|p| match p {
            Place::OnToken(l) => vec![owned_key(l)],
            Place::Ambiguous { candidates, .. } => candidates.iter().map(owned_key).collect(),
            _ => Vec::new(),
        })
        .collect();
    for (i, place) in places.iter_mut().enumerate() {
        if explicit_index == Some(i) {
            continue;
        }
        let rivals: Vec<String> = claims
            .iter()
            .enumerate()
            .filter(|(j, theirs)| *j != i && theirs.iter().any(|k| claims[i].contains(k)))
            .map(|(j, _)| devices[j].device.serial.clone())
            .collect();
        if rivals.is_empty() {
            continue;
        }
        *place = match std::mem::replace(place, Place::Unknown { locked: vec![] }) {
            Place::OnToken(l) => Place::Ambiguous {
                candidates: vec![l],
                rivals,
            },
            Place::Ambiguous { candidates, .. } => Place::Ambiguous { candidates, rivals },
            other => other,
        };
    }

    let claimed: Vec<(String, Vec<u8>)> = claims.into_iter().flatten().collect();
    let stale = pool
        .iter()
        .filter(|(_, c)| looks_like_aws(&c.id))
        .filter(|(t, c)| !claimed.contains(&(t.reader.clone(), c.raw_id.clone())))
        .map(|(t, c)| Stale {
            token: TokenRef::from(*t),
            credential: c.id.clone(),
            raw_id: c.raw_id.clone(),
            owner: owner(&c.id),
        })
        .collect();

    Pairing {
        devices: devices
            .iter()
            .zip(places)
            .map(|(d, place)| Paired {
                serial: d.device.serial.clone(),
                user: d.device.user.clone(),
                tagged: d.tagged_credential().is_some(),
                place,
            })
            .collect(),
        stale,
        locked,
    }
}

fn owned_key(l: &Location) -> (String, Vec<u8>) {
    let (reader, raw) = l.key();
    (reader.to_owned(), raw.to_vec())
}

#[cfg(test)]
mod tests;
