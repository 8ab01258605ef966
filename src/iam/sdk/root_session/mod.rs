//! Privileged root sessions on member accounts: `sts:AssumeRoot`.
//!
//! With centralized root access, an IAM principal of an AWS Organizations management account (or
//! of the delegated administrator account for it) can act as the root user of a member account
//! for one task, scoped by an AWS-managed task policy. ykmfa opens such a session with the task
//! policy `IAMDeleteRootUserCredentials` (it allows ListMFADevices, DeactivateMFADevice and
//! DeleteVirtualMFADevice, and nothing that creates or enables a device): the way back when a
//! member account's root token is lost.
//!
//! Facts this relies on (IAM User Guide, "Perform a privileged task on an AWS Organizations
//! member account"; STS API reference, AssumeRoot): the global STS endpoint refuses AssumeRoot, so
//! the request goes to the regional endpoint of the configured region (the SDK resolves STS
//! regionally); sessions last at most 900 s; `DeactivateMFADevice` needs no `UserName` in such a
//! session. Root credentials themselves cannot call AssumeRoot.
//!
//! The session's temporary credentials stay inside the SDK's credential type (zeroized on drop,
//! redacted in `Debug`); the SDK keeps AssumeRoot's answer out of its trace logs (the operation's
//! output is marked sensitive). Nothing here returns an SDK type: a session is an [`Sdk`], which
//! is a [`Directory`](super::Directory) acting as the member account's root user.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sdk_sts::types::PolicyDescriptorType;

use super::Sdk;
use crate::iam::error::from_sdk;
use crate::iam::{CallerIdentity, IamError};

/// The AWS-managed task policy that scopes a root session to deleting root credentials,
/// relative to `arn:<partition>:iam::aws:policy/`.
pub const DELETE_ROOT_CREDENTIALS_TASK: &str = "root-task/IAMDeleteRootUserCredentials";

/// The AWS-managed task policy that scopes a root session to reading root's credentials (MFA
/// devices, login profile, access keys, signing certificates), relative to
/// `arn:<partition>:iam::aws:policy/`.
pub const AUDIT_ROOT_CREDENTIALS_TASK: &str = "root-task/IAMAuditRootUserCredentials";

/// How long a root session lasts: the most AWS allows.
pub const ROOT_SESSION_SECONDS: i32 = 900;

const ASSUME_ROOT: &str = "sts:AssumeRoot";
const LIST_ORGANIZATIONS_FEATURES: &str = "iam:ListOrganizationsFeatures";

/// A root session on a member account.
pub struct RootSession {
    /// IAM and STS as the member account's root user, limited by the task policy.
    pub directory: Sdk,
    /// The member account.
    pub account: String,
    /// When the session's credentials expire.
    pub expires: Option<SystemTime>,
}

impl std::fmt::Debug for RootSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RootSession")
            .field("account", &self.account)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

/// Centralized root access features of an organization, as IAM names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootFeature {
    /// `RootCredentialsManagement`: root credentials of member accounts can be managed centrally.
    CredentialsManagement,
    /// `RootSessions`: privileged root actions (AssumeRoot) are allowed.
    Sessions,
}

impl RootFeature {
    /// IAM's name for the feature.
    pub fn name(self) -> &'static str {
        match self {
            RootFeature::CredentialsManagement => "RootCredentialsManagement",
            RootFeature::Sessions => "RootSessions",
        }
    }
}

/// Why no root session could be opened on the member account. Nothing changed in any account.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RootSessionError {
    /// Not a 12-digit account id.
    #[error("'{0}' is not an AWS account id (12 digits)")]
    InvalidAccount(String),
    /// The caller uses root user credentials, which cannot call AssumeRoot.
    #[error(
        "these are root user credentials; sts:AssumeRoot must be called by an IAM user or role of \
         the organization's management account or of its delegated administrator account"
    )]
    RootCaller,
    /// The target is the caller's own account.
    #[error(
        "account {0} is the account these credentials belong to; a root session is opened on a \
         member account, from the management (or delegated administrator) account"
    )]
    OwnAccount(String),
    /// The caller's account is neither the management account nor the delegated administrator.
    #[error(
        "account {caller} is neither the organization's management account nor the delegated \
         administrator for centralized root access (AWS said: {message})"
    )]
    NotManagementAccount {
        /// The caller's account.
        caller: String,
        /// What AWS answered to AssumeRoot.
        message: String,
    },
    /// The caller's account belongs to no organization.
    #[error("account {caller} belongs to no AWS organization, so it cannot open root sessions")]
    NoOrganization {
        /// The caller's account.
        caller: String,
    },
    /// The organization only has consolidated billing.
    #[error(
        "the organization does not have all features enabled, which centralized root access needs"
    )]
    NotAllFeatures,
    /// IAM has no trusted access to Organizations.
    #[error(
        "centralized root access is not enabled: IAM has no trusted access to AWS Organizations"
    )]
    TrustedAccessNotEnabled,
    /// Centralized root access is off, or only partly on.
    #[error(
        "centralized root access is not enabled for the organization ({} off)",
        .missing.iter().map(|f| f.name()).collect::<Vec<_>>().join(" and ")
    )]
    NotEnabled {
        /// The features that are off.
        missing: Vec<RootFeature>,
    },
    /// Refused although centralized root access is on: the account is not a member of the
    /// organization, or the caller's policies (or an SCP) do not allow AssumeRoot on it.
    #[error(
        "sts:AssumeRoot on account {account} was refused although centralized root access is \
         enabled{}: the account is not a member of this organization, or your policies (or an \
         SCP) do not allow sts:AssumeRoot on it (AWS said: {message})",
        .organization.as_deref().map(|o| format!(" in organization {o}")).unwrap_or_default()
    )]
    NotMemberOrDenied {
        /// The member account asked for.
        account: String,
        /// The organization, when IAM named it.
        organization: Option<String>,
        /// What AWS answered to AssumeRoot.
        message: String,
    },
    /// Refused, and the organization's settings could not be read to tell why.
    #[error("sts:AssumeRoot on account {account} was refused (AWS said: {message})")]
    Denied {
        /// The member account asked for.
        account: String,
        /// What AWS answered to AssumeRoot.
        message: String,
    },
    /// STS rejected the target account.
    #[error("AWS refused account {account} as the target of a root session: {message}")]
    TargetRefused {
        /// The member account asked for.
        account: String,
        /// What AWS said.
        message: String,
    },
    /// STS is not active in the region used.
    #[error("AWS STS is not activated in this region for the account (AWS said: {message})")]
    RegionDisabled {
        /// What AWS said.
        message: String,
    },
    /// Anything else: credentials, network, throttling, an unreadable answer.
    #[error(transparent)]
    Iam(#[from] IamError),
}

/// Whether `text` is an AWS account id: 12 ASCII digits.
pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

impl Sdk {
    /// Opens a root session on member account `account` with the
    /// [`DELETE_ROOT_CREDENTIALS_TASK`] task policy, for [`ROOT_SESSION_SECONDS`].
    ///
    /// `caller` is who these credentials are ([`Directory::caller_identity`](super::Directory));
    /// it decides the partition of the task policy ARN and refuses root callers and the caller's
    /// own account before anything is sent. When AWS refuses, IAM's ListOrganizationsFeatures
    /// (on the caller's account; optional) tells why: not the management account, no
    /// organization, centralized root access off, or neither (not a member, or not allowed).
    pub async fn open_root_session(
        &self,
        caller: &CallerIdentity,
        account: &str,
    ) -> Result<RootSession, RootSessionError> {
        self.open_root_session_for(caller, account, DELETE_ROOT_CREDENTIALS_TASK)
            .await
    }

    /// Opens a root session on member account `account` scoped by `task` (a task policy name
    /// relative to `arn:<partition>:iam::aws:policy/`, e.g. [`AUDIT_ROOT_CREDENTIALS_TASK`]);
    /// otherwise as [`Sdk::open_root_session`].
    pub async fn open_root_session_for(
        &self,
        caller: &CallerIdentity,
        account: &str,
        task: &str,
    ) -> Result<RootSession, RootSessionError> {
        if !is_account_id(account) {
            return Err(RootSessionError::InvalidAccount(account.to_owned()));
        }
        if caller.is_root() {
            return Err(RootSessionError::RootCaller);
        }
        if caller.account == account {
            return Err(RootSessionError::OwnAccount(account.to_owned()));
        }
        let partition = caller.partition().unwrap_or("aws");
        let task = PolicyDescriptorType::builder()
            .arn(format!("arn:{partition}:iam::aws:policy/{task}"))
            .build();
        let answer = self
            .sts
            .assume_root()
            .target_principal(account)
            .task_policy_arn(task)
            .duration_seconds(ROOT_SESSION_SECONDS)
            .send()
            .await
            .map_err(|e| from_sdk(ASSUME_ROOT, e));
        let output = match answer {
            Ok(output) => output,
            Err(err) => return Err(self.explain_refusal(caller, account, err).await),
        };
        let Some(temporary) = output.credentials else {
            return Err(
                IamError::Malformed(format!("{ASSUME_ROOT} answered without Credentials")).into(),
            );
        };
        let expires = SystemTime::try_from(temporary.expiration).ok();
        let credentials = Credentials::new(
            temporary.access_key_id,
            temporary.secret_access_key,
            Some(temporary.session_token),
            expires,
            "AssumeRoot",
        );
        let iam = aws_sdk_iam::Client::from_conf(
            self.iam
                .config()
                .to_builder()
                .credentials_provider(credentials.clone())
                .build(),
        );
        let sts = aws_sdk_sts::Client::from_conf(
            self.sts
                .config()
                .to_builder()
                .credentials_provider(credentials)
                .build(),
        );
        tracing::debug!(account, "opened a root session (sts:AssumeRoot)");
        Ok(RootSession {
            // Same retry settings; the call counts go on in the caller's counter.
            directory: Sdk {
                iam,
                sts,
                base_delay: self.base_delay,
                consistency_attempts: self.consistency_attempts,
                page_size: self.page_size,
                shared: self.shared.clone(),
                // Another principal: its own identity.
                identity: Default::default(),
            },
            account: account.to_owned(),
            expires,
        })
    }

    /// Turns AssumeRoot's refusal into the reason, asking IAM about the organization's
    /// centralized root access when AWS only said "denied".
    async fn explain_refusal(
        &self,
        caller: &CallerIdentity,
        account: &str,
        err: IamError,
    ) -> RootSessionError {
        let message = match err {
            IamError::AccessDenied { message, .. } => message,
            IamError::InvalidInput(message) => {
                return RootSessionError::TargetRefused {
                    account: account.to_owned(),
                    message,
                }
            }
            IamError::Other { code, message, .. } if code.starts_with("RegionDisabled") => {
                return RootSessionError::RegionDisabled { message }
            }
            other => return RootSessionError::Iam(other),
        };
        let features = self
            .iam
            .list_organizations_features()
            .send()
            .await
            .map_err(|e| from_sdk(LIST_ORGANIZATIONS_FEATURES, e));
        match features {
            Ok(out) => {
                let on = |f: RootFeature| {
                    out.enabled_features()
                        .iter()
                        .any(|e| e.as_str() == f.name())
                };
                let missing: Vec<RootFeature> =
                    [RootFeature::CredentialsManagement, RootFeature::Sessions]
                        .into_iter()
                        .filter(|f| !on(*f))
                        .collect();
                if missing.is_empty() {
                    RootSessionError::NotMemberOrDenied {
                        account: account.to_owned(),
                        organization: out.organization_id().map(str::to_owned),
                        message,
                    }
                } else {
                    RootSessionError::NotEnabled { missing }
                }
            }
            Err(IamError::Other { code, .. }) => {
                let caller = caller.account.clone();
                match code.trim_end_matches("Exception") {
                    "AccountNotManagementOrDelegatedAdministrator" => {
                        RootSessionError::NotManagementAccount { caller, message }
                    }
                    "OrganizationNotFound" => RootSessionError::NoOrganization { caller },
                    "OrganizationNotInAllFeaturesMode" => RootSessionError::NotAllFeatures,
                    "ServiceAccessNotEnabled" => RootSessionError::TrustedAccessNotEnabled,
                    _ => RootSessionError::Denied {
                        account: account.to_owned(),
                        message,
                    },
                }
            }
            // The diagnosis is optional (iam:ListOrganizationsFeatures may be denied too).
            Err(other) => {
                tracing::debug!("could not read the organization's root access features: {other}");
                RootSessionError::Denied {
                    account: account.to_owned(),
                    message,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
