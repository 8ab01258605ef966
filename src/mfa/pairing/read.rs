//! The one read of a user's MFA devices and their tags, for every command that pairs them with
//! tokens (`resync`, `revoke`, `status`): the same calls, the same tolerance, and a denied tag
//! read always said in the result ([`Gathered::tags_denied`]), never hidden.

use crate::iam::{AssignmentStatus, Directory, IamError};
use crate::mfa::pairing::{pair, Device, Explicit, Pairing};
use crate::token::Token;

/// A virtual MFA device ARN, validated: `arn:<partition>:iam::<account>:mfa/<path><name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceArn {
    arn: String,
    partition: String,
    account: String,
}

/// Why a device ARN was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArnError {
    /// Not `arn:PARTITION:iam::ACCOUNT:RESOURCE`.
    #[error(
        "'{0}' is not a virtual MFA device ARN; it looks like arn:aws:iam::123456789012:mfa/NAME"
    )]
    Malformed(String),
    /// An IAM ARN of something else (a user, a FIDO key `u2f/…`, a role).
    #[error(
        "'{0}' is not a virtual MFA device (its ARN has ':mfa/'); ykmfa revokes virtual devices only"
    )]
    NotVirtual(String),
}

impl DeviceArn {
    /// Parses and checks an ARN (no whitespace, 12-digit account, `mfa/` resource with a name of
    /// IAM's characters).
    pub fn parse(text: &str) -> Result<Self, ArnError> {
        let malformed = || ArnError::Malformed(text.to_owned());
        let mut fields = text.splitn(6, ':');
        let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            return Err(malformed());
        };
        let partition_ok = !partition.is_empty()
            && partition
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '-');
        if !partition_ok || !crate::iam::is_account_id(account) {
            return Err(malformed());
        }
        let Some(path_name) = resource.strip_prefix("mfa/") else {
            return Err(ArnError::NotVirtual(text.to_owned()));
        };
        let name = path_name.rsplit('/').next().unwrap_or_default();
        let chars_ok = |s: &str| {
            s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-/".contains(c))
        };
        if name.is_empty() || !chars_ok(path_name) || text.len() > 256 {
            return Err(malformed());
        }
        Ok(DeviceArn {
            arn: text.to_owned(),
            partition: partition.to_owned(),
            account: account.to_owned(),
        })
    }

    /// The ARN.
    pub fn as_str(&self) -> &str {
        &self.arn
    }

    /// The account it belongs to.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// Its partition (`aws`, `aws-cn`, `aws-us-gov`).
    pub fn partition(&self) -> &str {
        &self.partition
    }
}

impl std::fmt::Display for DeviceArn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.arn)
    }
}

/// A user's devices with their tags, as [`gather`] read them.
#[derive(Debug, Clone, Default)]
pub struct Gathered {
    /// The devices, in IAM's order.
    pub devices: Vec<Device>,
    /// Whether ListMFADeviceTags was denied: the devices then carry no tags and pair by label
    /// only, which callers say.
    pub tags_denied: bool,
}

/// Reads `user`'s MFA devices and their tags (ListMFADevices, ListMFADeviceTags).
///
/// Only virtual devices (`…:mfa/…`) carry ykmfa's tags; hardware and FIDO devices are not
/// asked. A device whose tags answer `NoSuchEntity` was deleted (or created) a moment ago and
/// IAM's reads lag: it counts as untagged. A denied tag read leaves that device and the rest
/// untagged and sets [`Gathered::tags_denied`]; any other failure is returned.
pub async fn gather<D: Directory>(dir: &D, user: &str) -> Result<Gathered, IamError> {
    let devices = dir.list_mfa_devices(Some(user)).await?;
    // The tag reads together: one round trip for all of a user's devices.
    let tags = devices.iter().map(|device| async move {
        if is_virtual(&device.serial) {
            Some(dir.list_mfa_device_tags(&device.serial).await)
        } else {
            None
        }
    });
    let tags = futures_util::future::join_all(tags).await;
    let mut gathered = Gathered::default();
    for (device, tags) in devices.into_iter().zip(tags) {
        let tags = match tags {
            None => Vec::new(),
            Some(Ok(tags)) if !gathered.tags_denied => tags,
            Some(Ok(_) | Err(IamError::NoSuchEntity { .. })) => Vec::new(),
            Some(Err(IamError::AccessDenied { .. })) => {
                gathered.tags_denied = true;
                Vec::new()
            }
            Some(Err(e)) => return Err(e),
        };
        gathered.devices.push(Device::new(device, tags));
    }
    Ok(gathered)
}

/// Whether a device serial is a virtual MFA device's ARN.
fn is_virtual(serial: &str) -> bool {
    serial.starts_with("arn:")
        && serial
            .splitn(6, ':')
            .nth(5)
            .is_some_and(|r| r.starts_with("mfa/"))
}

/// What IAM says about a user, read once by [`read_user`].
#[derive(Debug, Clone)]
pub struct UserDevices {
    /// The caller's account.
    pub account: String,
    /// The account alias, when it may be read.
    pub alias: Option<String>,
    /// The user.
    pub user: String,
    /// The user's MFA devices (any type) with their tags.
    pub devices: Vec<Device>,
    /// Whether ListMFADeviceTags was denied (the devices pair by label only).
    pub tags_denied: bool,
}

/// Why [`read_user`] could not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// There is no IAM user of that name.
    #[error("IAM user '{user}' does not exist in account {account}")]
    NoSuchUser {
        /// The name asked for.
        user: String,
        /// The caller's account.
        account: String,
    },
    /// IAM failed or refused.
    #[error(transparent)]
    Iam(#[from] IamError),
}

/// Who the caller is, whether `user` exists, the user's devices with their tags ([`gather`]),
/// and the account alias (many self-service policies don't allow ListAccountAliases: then the
/// account id serves as well).
pub async fn read_user<D: Directory>(dir: &D, user: &str) -> Result<UserDevices, ReadError> {
    // Together: one round trip. The account is in the user's ARN, so STS is not asked.
    let (found, gathered, alias) =
        tokio::join!(dir.get_user(user), gather(dir, user), dir.account_alias());
    let account = match found {
        Ok(found) => match found.account() {
            Some(account) => account.to_owned(),
            None => dir.caller_identity().await?.account,
        },
        Err(IamError::NoSuchEntity { .. }) => {
            return Err(ReadError::NoSuchUser {
                user: user.to_owned(),
                account: dir.caller_identity().await?.account,
            })
        }
        Err(e) => return Err(e.into()),
    };
    let gathered = gathered?;
    Ok(UserDevices {
        account,
        alias: alias.ok().flatten(),
        user: user.to_owned(),
        devices: gathered.devices,
        tags_denied: gathered.tags_denied,
    })
}

/// Whose a device is, when it is not the user's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Whose {
    /// Its ARN names another account than the one the credentials reach.
    OtherAccount,
    /// IAM has no virtual MFA device with that ARN.
    NoSuchDevice,
    /// The account root user's.
    Root,
    /// Another IAM user's.
    User(String),
    /// Nobody's: it is unassigned.
    Nobody,
    /// Not the user's; IAM would not say whose (ListVirtualMFADevices denied).
    Unsaid,
}

impl UserDevices {
    /// `None` when `device` is one of the user's; else whose it is, asking IAM when it may.
    pub async fn whose<D: Directory>(&self, dir: &D, device: &DeviceArn) -> Option<Whose> {
        if device.account() != self.account {
            return Some(Whose::OtherAccount);
        }
        if self
            .devices
            .iter()
            .any(|d| d.device.serial == device.as_str())
        {
            return None;
        }
        Some(
            match dir.list_virtual_mfa_devices(AssignmentStatus::Any).await {
                Ok(all) => match all.into_iter().find(|d| d.serial == device.as_str()) {
                    None => Whose::NoSuchDevice,
                    Some(d) if d.is_root() => Whose::Root,
                    Some(d) => d.user.map_or(Whose::Nobody, Whose::User),
                },
                Err(_) => Whose::Unsaid,
            },
        )
    }

    /// The user's devices joined with `tokens` ([`pair`]).
    pub fn pair(&self, tokens: &[Token], explicit: Option<&Explicit>) -> Pairing {
        pair(&self.devices, tokens, self.alias.as_deref(), explicit)
    }
}
