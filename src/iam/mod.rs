//! The IAM side of ykmfa: the few AWS IAM and STS operations it needs, as one small trait.
//!
//! [`Directory`] is what the rest of ykmfa programs against; [`Sdk`] is the one implementation
//! over `aws-sdk-iam`, `aws-sdk-sts` and `aws-config`, and tests bring fakes that fail on
//! command. Everything that crosses the trait is a domain type of this module, never an SDK type,
//! and every failure is an [`IamError`] in IAM's own words.
//!
//! What this module must never do:
//! - let the Base32 seed of a new virtual MFA device out of a [`Seed`]: not in an error, a log
//!   line (the SDK's `trace` wire logs included, see [`harden_process_env`]) or a `Debug`;
//! - keep the QR code AWS returns with it (it encodes the same seed): it is wiped unread;
//! - log authentication codes;
//! - retry without bound: throttling, eventual consistency and "temporarily unmodifiable" are
//!   retried a fixed number of times with backoff, then surfaced.

pub mod assume;
mod clock;
mod error;
pub mod names;
mod sdk;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::time::SystemTime;

use crate::seed::Seed;

pub use clock::{
    parse_http_date, skew_json, ClockReading, Skew, SkewLevel, SKEW_LARGE_SECS, SKEW_OK_SECS,
};
pub use error::{IamError, MFA_POLICY_DOCS_URL};
pub use names::{DeviceName, NameError, UserName};
pub use sdk::organizations::{OrgAccount, Organizations};
pub use sdk::root_audit::{MfaKind, RootCredentials};
pub use sdk::root_session::{
    is_account_id, RootFeature, RootSession, RootSessionError, AUDIT_ROOT_CREDENTIALS_TASK,
    DELETE_ROOT_CREDENTIALS_TASK, ROOT_SESSION_SECONDS,
};
pub use sdk::{Options, Sdk};

/// AWS allows this many MFA devices per user (any mix of types, since 2022-11).
pub const MAX_DEVICES_PER_USER: usize = 8;

/// The IAM operations ykmfa needs, in domain terms.
///
/// Every method is async and its future is `Send`, so callers can run them on a multi-threaded
/// tokio runtime. Implementations retry what is worth retrying (throttling, IAM's eventual
/// consistency) and return everything else as an [`IamError`].
pub trait Directory: Send + Sync {
    /// Who the caller is (STS GetCallerIdentity; needs no permission).
    fn caller_identity(&self) -> impl Future<Output = Result<CallerIdentity, IamError>> + Send;

    /// AWS's clock against the local one: one STS GetCallerIdentity, the `Date` of its answer
    /// and the local times around it (see [`ClockReading::skew`]).
    ///
    /// Any answer that carries a `Date` counts, a refusal included: a host clock far enough off
    /// makes AWS refuse the request's signature, and that is when the reading matters most.
    /// Only the `Date` header is read from the answer. Fails when no answer came.
    fn server_clock(&self) -> impl Future<Output = Result<ClockReading, IamError>> + Send;

    /// The account's alias, if it has one (ListAccountAliases). Many self-service policies do not
    /// allow this call: callers should treat [`IamError::AccessDenied`] as "unknown".
    fn account_alias(&self) -> impl Future<Output = Result<Option<String>, IamError>> + Send;

    /// One IAM user ([`IamError::NoSuchEntity`] if there is none by that name).
    fn get_user(&self, name: &str) -> impl Future<Output = Result<User, IamError>> + Send;

    /// Every IAM user of the account (all pages).
    fn list_users(&self) -> impl Future<Output = Result<Vec<User>, IamError>> + Send;

    /// Whether the user has a console password (GetLoginProfile; `NoSuchEntity` means no).
    fn get_login_profile(&self, user: &str) -> impl Future<Output = Result<bool, IamError>> + Send;

    /// The MFA devices assigned to `user`, or to the caller when `None` (all pages).
    fn list_mfa_devices(
        &self,
        user: Option<&str>,
    ) -> impl Future<Output = Result<Vec<MfaDevice>, IamError>> + Send;

    /// The account's virtual MFA devices by assignment status (all pages). IAM returns no tags
    /// here: use [`Directory::list_mfa_device_tags`].
    fn list_virtual_mfa_devices(
        &self,
        status: AssignmentStatus,
    ) -> impl Future<Output = Result<Vec<VirtualMfaDevice>, IamError>> + Send;

    /// Creates a virtual MFA device and returns its serial (ARN) and seed.
    ///
    /// Tagging at creation needs `iam:TagMFADevice` as well; when only that is denied the error
    /// is [`IamError::TaggingDenied`] and nothing was created, so the caller may retry without
    /// tags.
    ///
    /// After an error, no device made by this call remains, with one exception: when the outcome
    /// is unknown ([`IamError::outcome_unknown`]: no answer, a 5xx, a broken connection), a
    /// device made by the lost request is deleted if IAM already lists it, and otherwise may
    /// remain as an unassigned device of this name. A success answer that cannot be used
    /// ([`IamError::Malformed`]) has its device deleted, or the message says what remains.
    fn create_virtual_mfa_device(
        &self,
        name: &str,
        path: Option<&str>,
        tags: &[(String, String)],
    ) -> impl Future<Output = Result<CreatedDevice, IamError>> + Send;

    /// Assigns the device to the user, proven by the codes of two consecutive time steps.
    fn enable_mfa_device(
        &self,
        user: &str,
        serial: &str,
        code1: &str,
        code2: &str,
    ) -> impl Future<Output = Result<(), IamError>> + Send;

    /// Resynchronizes an assigned device with the codes of two consecutive time steps.
    fn resync_mfa_device(
        &self,
        user: &str,
        serial: &str,
        code1: &str,
        code2: &str,
    ) -> impl Future<Output = Result<(), IamError>> + Send;

    /// Unassigns the device from `user` (or from the caller when `None`); the device remains.
    fn deactivate_mfa_device(
        &self,
        user: Option<&str>,
        serial: &str,
    ) -> impl Future<Output = Result<(), IamError>> + Send;

    /// Deletes an unassigned virtual MFA device ([`IamError::DeleteConflict`] while assigned).
    fn delete_virtual_mfa_device(
        &self,
        serial: &str,
    ) -> impl Future<Output = Result<(), IamError>> + Send;

    /// Adds tags to an MFA device (a tag with an existing key replaces it).
    fn tag_mfa_device(
        &self,
        serial: &str,
        tags: &[(String, String)],
    ) -> impl Future<Output = Result<(), IamError>> + Send;

    /// The tags of an MFA device (all pages).
    fn list_mfa_device_tags(
        &self,
        serial: &str,
    ) -> impl Future<Output = Result<Vec<(String, String)>, IamError>> + Send;

    /// GetAccountSummary's map (`AccountMFAEnabled`, `AccountAccessKeysPresent`, `Users`, …).
    fn get_account_summary(
        &self,
    ) -> impl Future<Output = Result<HashMap<String, i32>, IamError>> + Send;

    /// The account password policy, or `None` when the account has none.
    fn get_account_password_policy(
        &self,
    ) -> impl Future<Output = Result<Option<PasswordPolicy>, IamError>> + Send;

    /// The ARN of an IAM role, path included (GetRole). An assumed-role session's ARN leaves
    /// the role's path out, and the policy simulator needs the role's own ARN.
    fn role_arn(&self, name: &str) -> impl Future<Output = Result<String, IamError>> + Send;

    /// Asks IAM's policy simulator whether the identity-based policies of a user or role (and
    /// its permissions boundary and the organization's SCPs, as IAM evaluates them) allow each
    /// of `actions` on `resource` (iam:SimulatePrincipalPolicy; all pages). Nothing is
    /// performed. `context` gives condition keys as strings, e.g. `("aws:username", "alice")`.
    /// Session policies of an assumed-role session are not part of the simulation.
    fn simulate_principal_policy(
        &self,
        principal_arn: &str,
        actions: &[String],
        resource: &str,
        context: &[(String, String)],
    ) -> impl Future<Output = Result<Vec<PolicyDecision>, IamError>> + Send;
}

/// The policy simulator's answer for one action on one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDecision {
    /// The action, e.g. `iam:EnableMFADevice`.
    pub action: String,
    /// The resource it was evaluated on.
    pub resource: String,
    /// Allowed, or why not.
    pub verdict: Verdict,
    /// Condition keys the policies test that the simulation was not given (a conditional
    /// allow without its key counts as not allowed).
    pub missing_context: Vec<String>,
}

/// What the policy simulator decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A statement allows it and none denies it.
    Allowed,
    /// A statement denies it.
    ExplicitDeny,
    /// No statement allows it (also any answer this version does not know).
    ImplicitDeny,
}

/// The principal behind the credentials in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    /// The 12-digit account id.
    pub account: String,
    /// The caller's ARN, e.g. `arn:aws:iam::123456789012:user/alice` or `…:root`.
    pub arn: String,
    /// The unique id of the principal (`AIDA…`, `AROA…:session`, or the account id for root).
    pub user_id: String,
}

impl CallerIdentity {
    /// Whether the caller is the account's root user.
    pub fn is_root(&self) -> bool {
        self.arn.ends_with(":root")
    }

    /// The partition from the ARN: `aws`, `aws-cn`, `aws-us-gov`, …
    pub fn partition(&self) -> Option<&str> {
        arn_partition(&self.arn)
    }

    /// The IAM user name when the caller is an IAM user (`arn:…:iam::…:user/path/name`).
    pub fn user_name(&self) -> Option<&str> {
        let resource = self.arn.splitn(6, ':').nth(5)?;
        let rest = resource.strip_prefix("user/")?;
        rest.rsplit('/').next().filter(|n| !n.is_empty())
    }
}

/// The partition field of an ARN.
pub fn arn_partition(arn: &str) -> Option<&str> {
    let mut fields = arn.split(':');
    match (fields.next(), fields.next()) {
        (Some("arn"), Some(partition)) if !partition.is_empty() => Some(partition),
        _ => None,
    }
}

/// An IAM user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The user name.
    pub name: String,
    /// The user's ARN.
    pub arn: String,
    /// The user's unique id (`AIDA…`).
    pub user_id: String,
    /// When the user was created.
    pub create_date: SystemTime,
}

impl User {
    /// The account the user is in, from its ARN (`arn:aws:iam::123456789012:user/alice`): what a
    /// caller would otherwise ask STS for, a connection more on the way.
    pub fn account(&self) -> Option<&str> {
        self.arn.split(':').nth(4).filter(|a| is_account_id(a))
    }

    /// The partition from the ARN: `aws`, `aws-cn`, `aws-us-gov`, …
    pub fn partition(&self) -> Option<&str> {
        arn_partition(&self.arn)
    }
}

/// An MFA device assigned to a principal (ListMFADevices).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaDevice {
    /// The user it is assigned to, when IAM names one.
    pub user: Option<String>,
    /// The serial number: the device ARN for virtual devices.
    pub serial: String,
    /// When it was enabled.
    pub enable_date: Option<SystemTime>,
}

/// A virtual MFA device of the account (ListVirtualMFADevices). Never holds a seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualMfaDevice {
    /// The device ARN.
    pub serial: String,
    /// The IAM user it is assigned to. `None` when unassigned, and for the root user, which
    /// IAM reports by ARN only (see [`VirtualMfaDevice::user_arn`]).
    pub user: Option<String>,
    /// The ARN of the principal it is assigned to (`…:root` for the root user).
    pub user_arn: Option<String>,
    /// When it was enabled, if it is assigned.
    pub enable_date: Option<SystemTime>,
}

impl VirtualMfaDevice {
    /// Whether the device is assigned to anyone.
    pub fn is_assigned(&self) -> bool {
        self.user.is_some() || self.user_arn.is_some()
    }

    /// Whether the device is assigned to the account's root user.
    pub fn is_root(&self) -> bool {
        self.user_arn
            .as_deref()
            .is_some_and(|a| a.ends_with(":root"))
    }
}

/// Which virtual MFA devices to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignmentStatus {
    /// Assigned to a user or root.
    Assigned,
    /// Not assigned: new, abandoned, or deactivated.
    Unassigned,
    /// Both.
    Any,
}

/// A virtual MFA device just created: its serial and the seed AWS will never show again.
pub struct CreatedDevice {
    /// The device ARN, `arn:<partition>:iam::<account>:mfa/<path><name>`.
    pub serial: String,
    /// The shared secret, to be written to a token and nowhere else.
    pub seed: Seed,
}

impl fmt::Debug for CreatedDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedDevice")
            .field("serial", &self.serial)
            .field("seed", &"<never shown>")
            .finish()
    }
}

/// The account password policy, as far as an audit cares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Minimum length in characters.
    pub minimum_password_length: Option<u32>,
    /// At least one non-alphanumeric character.
    pub require_symbols: bool,
    /// At least one digit.
    pub require_numbers: bool,
    /// At least one uppercase letter.
    pub require_uppercase_characters: bool,
    /// At least one lowercase letter.
    pub require_lowercase_characters: bool,
    /// Users may change their own password.
    pub allow_users_to_change_password: bool,
    /// Passwords expire.
    pub expire_passwords: bool,
    /// Days a password is valid, when they expire.
    pub max_password_age: Option<u32>,
    /// How many previous passwords cannot be reused.
    pub password_reuse_prevention: Option<u32>,
    /// Whether an expired password locks the user out until an administrator resets it.
    pub hard_expiry: Option<bool>,
}

/// The AWS SDK's switches that put secret-bearing bodies into its `trace` logs.
///
/// - `LOG_SENSITIVE_BODIES=true`: the SDK hides the body of responses that carry secrets
///   (CreateVirtualMFADevice's `Base32StringSeed` and `QRCodePNG`) unless it is set, and reads
///   it at every response.
/// - `LOG_SIGNABLE_BODY=true`: the SigV4 signer's trace of what it signs prints the request
///   body as bytes, and EnableMFADevice's and ResyncMFADevice's bodies hold both authentication
///   codes (`AuthenticationCode1`, `AuthenticationCode2`).
pub const SECRET_LOGGING_VARIABLES: [&str; 2] = ["LOG_SENSITIVE_BODIES", "LOG_SIGNABLE_BODY"];

/// Removes [`SECRET_LOGGING_VARIABLES`] from this process's environment.
///
/// With either set, `RUST_LOG=trace` (or `-vvv`) would print the seed or the codes. No ykmfa
/// user ever needs that, so the binary calls this first thing in `main`, before any thread
/// exists: changing the environment while other threads read it is a data race in the C
/// library.
pub fn harden_process_env() {
    for name in SECRET_LOGGING_VARIABLES {
        std::env::remove_var(name);
    }
}

#[cfg(test)]
mod tests;
