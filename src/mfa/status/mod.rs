//! A user's MFA devices joined with the tokens present, both ways round: for each device, where
//! its credential is; for each AWS credential on a connected token, whether IAM still has its
//! device (a credential whose device was deleted is stale: its codes open nothing).
//!
//! The join itself is [`crate::mfa::pairing`]; this module decides whose devices to read so that
//! every AWS credential on the tokens can be judged (the user's, and those of other users of
//! the same account that the tokens' default credential names point to), and turns the pairing
//! into rows with a verdict and a fix. [`mine`] (whom to show: the user named, else the caller)
//! and [`gather`] do the IAM reads; [`build`] is pure.

use std::time::SystemTime;

use crate::iam::{CallerIdentity, Directory, IamError, UserName};
use crate::mfa::kind::DeviceKind;
use crate::mfa::labels::{self, Owner};
use crate::mfa::pairing::{self, Device, Pairing, Place, TokenRef};
use crate::mfa::remedy;
use crate::token::Token;

pub mod report;
pub mod table;

/// What a device is, by the shape of its serial (ListMFADevices gives no type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceType {
    /// A virtual MFA device (`arn:…:mfa/NAME`): its secret can live on a token.
    Virtual,
    /// A FIDO security key (`arn:…:u2f/…`).
    U2f,
    /// A hardware TOTP token (a serial number, not an ARN).
    Hardware,
}

impl DeviceType {
    /// Tells the type from the serial.
    pub fn of(serial: &str) -> Self {
        match DeviceKind::of(serial, None) {
            DeviceKind::HardwareTotp => DeviceType::Hardware,
            DeviceKind::Fido => DeviceType::U2f,
            DeviceKind::VirtualOnToken | DeviceKind::Virtual => DeviceType::Virtual,
        }
    }

    /// The name shown in tables.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceType::Virtual => "virtual",
            DeviceType::U2f => "u2f",
            DeviceType::Hardware => "hardware",
        }
    }
}

/// What IAM said about one user's devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Devices {
    /// Listed (with tags where they could be read).
    Listed(Vec<Device>),
    /// The user does not exist.
    NoSuchUser,
    /// Listing them was denied.
    Denied,
}

/// The facts `status` joins: the user's devices, the other users' devices that the tokens'
/// credential names point to, and the tokens.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The account id.
    pub account: String,
    /// The account alias, when known (default credential names may use it).
    pub alias: Option<String>,
    /// The user asked about.
    pub user: String,
    /// That user's devices, in IAM's order.
    pub devices: Vec<Device>,
    /// Other users of this account named by credentials on the tokens, and what IAM said.
    pub others: Vec<(String, Devices)>,
    /// Whether ListMFADeviceTags was denied (devices then pair by label only).
    pub tags_denied: bool,
    /// The tokens present (`listed` is `None` for a locked one).
    pub tokens: Vec<Token>,
}

/// One of the user's devices and where its credential is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeviceRow {
    /// The serial (an ARN for virtual and U2F devices).
    pub serial: String,
    /// What kind of device it is.
    #[serde(rename = "type")]
    pub kind: DeviceType,
    /// When it was enabled (RFC 3339, UTC).
    pub enable_date: Option<String>,
    /// Whether it carries ykmfa's tags.
    pub tagged: bool,
    /// Where its credential is; `None` for devices that are not virtual (no token credential).
    pub place: Option<Place>,
    /// What to do, when something is wrong.
    pub fix: Option<String>,
    /// The finer kind: hardware TOTP, FIDO, or a virtual device on a token ykmfa enrolled (its
    /// tags) or of unknown origin. Last, so `ykmfa.status/1` keeps its field order.
    pub device_kind: DeviceKind,
}

/// The verdict on one AWS credential on a token.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// IAM has its device.
    Paired,
    /// Several devices could be its device.
    Ambiguous,
    /// IAM has no device for it: the credential is stale.
    Stale,
    /// Not judged (another account, the root user, a name not in enroll's form, a denied read).
    Unchecked,
}

/// One AWS credential on a token and its verdict.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CredentialRow {
    /// The credential's name on the token.
    pub name: String,
    /// The verdict.
    pub state: Verdict,
    /// The device (paired) or devices (ambiguous) it belongs to.
    pub devices: Vec<String>,
    /// The IAM user of the device, or the user its name points to.
    pub user: Option<String>,
    /// Why, for stale and unchecked credentials.
    pub reason: Option<String>,
    /// What to do, for stale credentials.
    pub fix: Option<String>,
}

/// One token and its AWS credentials.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenRow {
    /// The token.
    #[serde(flatten)]
    pub token: TokenRef,
    /// Whether its credentials could not be read (an OATH password and none given).
    pub locked: bool,
    /// Its AWS credentials (`None` when locked).
    pub credentials: Option<Vec<CredentialRow>>,
    /// How many other (non-AWS) credentials it holds (`None` when locked).
    pub other_credentials: Option<usize>,
}

/// The whole status.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Status {
    /// The account id.
    pub account: String,
    /// The user.
    pub user: String,
    /// The user's devices.
    pub devices: Vec<DeviceRow>,
    /// The tokens present.
    pub tokens: Vec<TokenRow>,
    /// Whether ListMFADeviceTags was denied.
    pub tags_denied: bool,
}

impl Status {
    /// How many stale credentials the tokens hold.
    pub fn stale(&self) -> usize {
        self.tokens
            .iter()
            .flat_map(|t| t.credentials.iter().flatten())
            .filter(|c| c.state == Verdict::Stale)
            .count()
    }
}

/// Whether a credential name's owner is in the account: its id or its alias.
fn in_account(owner: &Owner, account: &str, alias: Option<&str>) -> bool {
    owner.account == account || Some(owner.account.as_str()) == alias
}

/// Why `status` has no user to show.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No user was named, and the caller is the root user, who is no IAM user.
    #[error("the caller is the root user, not an IAM user")]
    Root,
    /// No user was named, and the caller is not an IAM user (a role session, a federated user).
    #[error("the caller is {arn}, not an IAM user")]
    NotAUser {
        /// The caller's ARN.
        arn: String,
    },
    /// The user does not exist in the account.
    #[error("there is no IAM user '{user}' in account {account}")]
    NoSuchUser {
        /// The user looked for.
        user: String,
        /// The account looked in.
        account: String,
    },
    /// IAM or STS failed.
    #[error(transparent)]
    Iam(#[from] IamError),
}

/// The user `status` shows, and that user's side of the facts: `asked`, else the caller when
/// the caller is an IAM user. With `asked`, the user's ARN names the account: STS is asked only
/// to name the account a missing user is missing from.
pub async fn mine<D: Directory>(dir: &D, asked: Option<&UserName>) -> Result<Mine, Error> {
    let (account, user) = match asked {
        Some(u) => (None, u.to_string()),
        None => {
            let who = dir.caller_identity().await?;
            (Some(who.account.clone()), caller(&who)?)
        }
    };
    match Mine::read(dir, account.as_deref(), &user).await {
        Ok(mine) => Ok(mine),
        Err(IamError::NoSuchEntity { .. }) => {
            let account = match account {
                Some(account) => account,
                None => dir.caller_identity().await?.account,
            };
            Err(Error::NoSuchUser { user, account })
        }
        Err(e) => Err(e.into()),
    }
}

/// The caller's own IAM user name, for `status` without a user named.
fn caller(who: &CallerIdentity) -> Result<String, Error> {
    match who.user_name() {
        Some(me) => Ok(me.to_owned()),
        None if who.is_root() => Err(Error::Root),
        None => Err(Error::NotAUser {
            arn: who.arn.clone(),
        }),
    }
}

/// The user's side of [`Facts`], read at once ([`Mine::read`]) while the tokens are surveyed.
#[derive(Debug, Clone)]
pub struct Mine {
    account: String,
    alias: Option<String>,
    user: String,
    devices: Vec<Device>,
    tags_denied: bool,
}

impl Mine {
    /// The user's devices with their tags and the alias (a denied alias is unknown), and, when
    /// `account` is not known yet, the user (its ARN names the account): one round trip.
    pub async fn read<D: Directory>(
        dir: &D,
        account: Option<&str>,
        user: &str,
    ) -> Result<Mine, IamError> {
        let found = async {
            match account {
                Some(account) => Ok(account.to_owned()),
                None => match dir.get_user(user).await?.account() {
                    Some(account) => Ok(account.to_owned()),
                    None => Ok(dir.caller_identity().await?.account),
                },
            }
        };
        let (account, mine, alias) =
            tokio::join!(found, pairing::gather(dir, user), dir.account_alias());
        let (account, mine) = (account?, mine?);
        let alias = match alias {
            Ok(a) => a,
            Err(IamError::AccessDenied { .. }) => None,
            Err(e) => return Err(e),
        };
        Ok(Mine {
            account,
            alias,
            user: user.to_owned(),
            devices: mine.devices,
            tags_denied: mine.tags_denied,
        })
    }

    /// The account id.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The user.
    pub fn user(&self) -> &str {
        &self.user
    }
}

/// Reads the rest of what [`build`] joins: the devices of every other user of this account whose
/// name an AWS credential on the readable tokens carries, all at once. `tokens` are the tokens
/// present, unlocked where possible.
pub async fn gather<D: Directory>(
    dir: &D,
    mine: Mine,
    tokens: Vec<Token>,
) -> Result<Facts, IamError> {
    let Mine {
        account,
        alias,
        user,
        devices,
        mut tags_denied,
    } = mine;
    let mut names: Vec<String> = tokens
        .iter()
        .flat_map(|t| t.listed.iter().flatten())
        .filter_map(|c| labels::owner(&c.id))
        .filter(|o| in_account(o, &account, alias.as_deref()) && !o.is_root() && o.user != user)
        .map(|o| o.user)
        .collect();
    names.sort();
    names.dedup();
    // Eight users at a time: a round trip each batch, within IAM's request rate.
    let read = names.iter().map(|name| pairing::gather(dir, name));
    let read: Vec<_> = futures_util::StreamExt::collect(futures_util::StreamExt::buffered(
        futures_util::stream::iter(read),
        8,
    ))
    .await;
    let mut others = Vec::with_capacity(names.len());
    for (name, gathered) in names.into_iter().zip(read) {
        let devices = match gathered {
            Ok(g) => {
                tags_denied |= g.tags_denied;
                Devices::Listed(g.devices)
            }
            Err(IamError::NoSuchEntity { .. }) => Devices::NoSuchUser,
            Err(IamError::AccessDenied { .. }) => Devices::Denied,
            Err(e) => return Err(e),
        };
        others.push((name, devices));
    }
    Ok(Facts {
        account,
        alias,
        user,
        devices,
        others,
        tags_denied,
        tokens,
    })
}

/// RFC 3339 in UTC, seconds precision.
pub fn rfc3339(t: SystemTime) -> Option<String> {
    use aws_sdk_iam::primitives::{DateTime, DateTimeFormat};
    let secs = DateTime::from(t).secs();
    DateTime::from_secs(secs).fmt(DateTimeFormat::DateTime).ok()
}

/// Joins devices and tokens into rows with verdicts and fixes.
pub fn build(facts: &Facts) -> Status {
    // Only virtual devices can have a credential on a token; pairing sees no others, so a FIDO
    // key can never take a virtual device's credential by label.
    let mut all: Vec<Device> = facts
        .devices
        .iter()
        .filter(|d| DeviceType::of(&d.device.serial) == DeviceType::Virtual)
        .cloned()
        .collect();
    for (_, devices) in &facts.others {
        if let Devices::Listed(list) = devices {
            all.extend(
                list.iter()
                    .filter(|d| DeviceType::of(&d.device.serial) == DeviceType::Virtual)
                    .cloned(),
            );
        }
    }
    let pairing = pairing::pair(&all, &facts.tokens, facts.alias.as_deref(), None);

    let devices = facts
        .devices
        .iter()
        .map(|d| {
            let kind = DeviceType::of(&d.device.serial);
            let place = pairing.device(&d.device.serial).map(|p| p.place.clone());
            DeviceRow {
                serial: d.device.serial.clone(),
                kind,
                enable_date: d.device.enable_date.and_then(rfc3339),
                tagged: d.tagged_credential().is_some(),
                fix: place
                    .as_ref()
                    .and_then(|p| device_fix(&facts.user, &d.device.serial, p)),
                place,
                device_kind: DeviceKind::of(&d.device.serial, Some(&d.tags)),
            }
        })
        .collect();

    let tokens = facts
        .tokens
        .iter()
        .map(|t| {
            let token = TokenRef::from(t);
            let (credentials, other_credentials) = match &t.listed {
                None => (None, None),
                Some(listed) => {
                    let aws: Vec<CredentialRow> = listed
                        .iter()
                        .filter(|c| labels::looks_like_aws(&c.id))
                        .map(|c| credential_row(facts, &pairing, &token, t, c))
                        .collect();
                    let others = listed.len() - aws.len();
                    (Some(aws), Some(others))
                }
            };
            TokenRow {
                locked: t.listed.is_none(),
                token,
                credentials,
                other_credentials,
            }
        })
        .collect();

    Status {
        account: facts.account.clone(),
        user: facts.user.clone(),
        devices,
        tokens,
        tags_denied: facts.tags_denied,
    }
}

fn device_fix(user: &str, serial: &str, place: &Place) -> Option<String> {
    match place {
        Place::OnToken(_) => None,
        Place::Gone { .. } => Some(format!(
            "its credential is gone, so no code can be made: remove the device and enroll again: ykmfa revoke --user {user} --device {serial}, then ykmfa enroll --user {user}"
        )),
        Place::NotConnected { token_serial, .. } => Some(match token_serial {
            Some(s) => format!("connect token {s} to use it"),
            None => "connect the token that holds it to use it".to_owned(),
        }),
        Place::Unknown { .. } => Some(
            "give the OATH password (--oath-password, or YKMFA_OATH_PASSWORD) so ykmfa can look"
                .to_owned(),
        ),
        Place::Ambiguous { .. } => Some(format!(
            "several credentials could be this device's: name it with --device {serial} (and --serial) in resync or revoke"
        )),
    }
}

/// What IAM said about a credential's owner.
enum Outcome {
    Listed,
    NoSuchUser,
    Denied,
}

fn credential_row(
    facts: &Facts,
    pairing: &Pairing,
    token_ref: &TokenRef,
    token: &Token,
    c: &crate::oath::Credential,
) -> CredentialRow {
    let name = c.id.to_string();
    let here = |l: &pairing::Location| l.token.reader == token.reader && l.raw_id == c.raw_id;
    let mut row = CredentialRow {
        name: name.clone(),
        state: Verdict::Unchecked,
        devices: Vec::new(),
        user: None,
        reason: None,
        fix: None,
    };
    let claimed: Vec<&pairing::Paired> = pairing
        .devices
        .iter()
        .filter(|p| match &p.place {
            Place::OnToken(l) => here(l),
            Place::Ambiguous { candidates, .. } => candidates.iter().any(here),
            _ => false,
        })
        .collect();
    if let [one] = claimed.as_slice() {
        if one.location().is_some() {
            row.state = Verdict::Paired;
            row.devices = vec![one.serial.clone()];
            row.user = one.user.clone();
            return row;
        }
    }
    if !claimed.is_empty() {
        row.state = Verdict::Ambiguous;
        row.devices = claimed.iter().map(|p| p.serial.clone()).collect();
        row.reason = Some("more than one device could be this credential's".into());
        return row;
    }
    let Some(owner) = labels::owner(&c.id) else {
        row.reason =
            Some("not in enroll's default name form, and no device looked at claims it".into());
        return row;
    };
    row.user = Some(owner.user.clone());
    if !in_account(&owner, &facts.account, facts.alias.as_deref()) {
        row.reason = Some(format!("another account ({})", owner.account));
        return row;
    }
    if owner.is_root() {
        row.reason = Some("the root user's: 'ykmfa audit' shows root's MFA".into());
        return row;
    }
    let outcome = if owner.user == facts.user {
        Some(Outcome::Listed)
    } else {
        facts
            .others
            .iter()
            .find(|(n, _)| *n == owner.user)
            .map(|(_, d)| match d {
                Devices::Listed(_) => Outcome::Listed,
                Devices::NoSuchUser => Outcome::NoSuchUser,
                Devices::Denied => Outcome::Denied,
            })
    };
    let stale = |reason: String| CredentialRow {
        state: Verdict::Stale,
        reason: Some(reason),
        fix: Some(remedy::ykman_delete_at(
            &name,
            token_ref.serial,
            &token_ref.reader,
        )),
        ..row.clone()
    };
    match outcome {
        Some(Outcome::Listed) => stale(format!(
            "IAM has no MFA device of {} for it (deleted?)",
            owner.user
        )),
        Some(Outcome::NoSuchUser) => stale(format!("IAM user {} no longer exists", owner.user)),
        Some(Outcome::Denied) => CredentialRow {
            reason: Some(format!(
                "listing {}'s devices was denied (iam:ListMFADevices)",
                owner.user
            )),
            ..row
        },
        None => CredentialRow {
            reason: Some(format!("{}'s devices were not read", owner.user)),
            ..row
        },
    }
}

#[cfg(test)]
mod tests;
