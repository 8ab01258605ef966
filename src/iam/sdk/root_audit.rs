//! What a root session scoped by `IAMAuditRootUserCredentials` reads of a member account's root
//! user: its MFA devices, whether it has a console password, its access keys and signing
//! certificates. Each call goes without `UserName`, which in a root session means the root user.
//!
//! Also whether the organization lets the caller open root sessions at all (IAM's
//! ListOrganizationsFeatures), asked once before a run opens one per account.
//!
//! Reads only: nothing here changes anything.

use super::{from_sdk, Action, Retry, Sdk};
use crate::iam::{Directory, IamError, RootFeature};

/// How an MFA device holds its secret, told from the shape of its serial number as IAM lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MfaKind {
    /// A virtual device: `arn:…:iam::ACCOUNT:mfa/NAME` (an app, or a token ykmfa wrote).
    Virtual,
    /// A hardware TOTP token: a vendor serial number, not an ARN (e.g. `GAHT12345678`).
    Hardware,
    /// A FIDO security key or passkey: `arn:…:iam::ACCOUNT:u2f/…`.
    Fido,
}

impl MfaKind {
    /// The kind of the device with this serial number.
    pub fn of(serial: &str) -> MfaKind {
        if !serial.starts_with("arn:") {
            MfaKind::Hardware
        } else if serial.contains(":u2f/") {
            MfaKind::Fido
        } else {
            MfaKind::Virtual
        }
    }

    /// The kind's name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            MfaKind::Virtual => "virtual",
            MfaKind::Hardware => "hardware",
            MfaKind::Fido => "fido",
        }
    }
}

/// The root user's credentials as a root session sees them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RootCredentials {
    /// Serial numbers of root's MFA devices (ListMFADevices).
    pub mfa_devices: Vec<String>,
    /// Whether root has a console password (GetLoginProfile; `NoSuchEntity` means no).
    pub password: bool,
    /// Root's access keys (ListAccessKeys).
    pub access_keys: usize,
    /// Root's signing certificates (ListSigningCertificates).
    pub signing_certificates: usize,
}

impl RootCredentials {
    /// No password, key, certificate or MFA device: what deleting root's credentials centrally
    /// (IAMDeleteRootUserCredentials) leaves. Nobody can sign in as root until password
    /// recovery is allowed again.
    pub fn none(&self) -> bool {
        !self.password
            && self.access_keys == 0
            && self.signing_certificates == 0
            && self.mfa_devices.is_empty()
    }
}

impl Sdk {
    /// Reads root's credentials, all four calls at once. Only meaningful in a root session
    /// ([`Sdk::open_root_session_for`] with the audit task policy): elsewhere the calls without
    /// `UserName` read the caller's own.
    pub async fn root_credentials(&self) -> Result<RootCredentials, IamError> {
        let (devices, password, keys, certificates) = tokio::join!(
            self.list_mfa_devices(None),
            self.root_password(),
            self.count_pages(Action::ListAccessKeys),
            self.count_pages(Action::ListSigningCertificates),
        );
        Ok(RootCredentials {
            mfa_devices: devices?.into_iter().map(|d| d.serial).collect(),
            password: password?,
            access_keys: keys?,
            signing_certificates: certificates?,
        })
    }

    async fn root_password(&self) -> Result<bool, IamError> {
        let a = Action::GetLoginProfile;
        match send!(self, a, Retry::Read, self.iam.get_login_profile()) {
            Ok(_) => Ok(true),
            Err(IamError::NoSuchEntity { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The number of root's access keys or signing certificates (all pages).
    async fn count_pages(&self, action: Action) -> Result<usize, IamError> {
        let items: Vec<()> = if action == Action::ListAccessKeys {
            self.all_pages(
                action,
                |m| async move {
                    let request = self.iam.list_access_keys().set_marker(m);
                    request.send().await.map_err(|e| from_sdk(action.name(), e))
                },
                |out| {
                    let n = out.access_key_metadata.len();
                    (vec![(); n], out.is_truncated, out.marker)
                },
            )
            .await?
        } else {
            self.all_pages(
                action,
                |m| async move {
                    let request = self.iam.list_signing_certificates().set_marker(m);
                    request.send().await.map_err(|e| from_sdk(action.name(), e))
                },
                |out| {
                    let n = out.certificates.len();
                    (vec![(); n], out.is_truncated, out.marker)
                },
            )
            .await?
        };
        Ok(items.len())
    }

    /// The centralized root access features that are off for the caller's organization (empty:
    /// root sessions can be opened), from IAM's ListOrganizationsFeatures. A refusal (not the
    /// management or delegated administrator account, no organization, no trusted access) is
    /// returned as the error IAM gave.
    pub async fn root_features_off(&self) -> Result<Vec<RootFeature>, IamError> {
        let a = Action::ListOrganizationsFeatures;
        let out = send!(self, a, Retry::Read, self.iam.list_organizations_features())?;
        let on = |f: RootFeature| {
            out.enabled_features()
                .iter()
                .any(|e| e.as_str() == f.name())
        };
        Ok([RootFeature::CredentialsManagement, RootFeature::Sessions]
            .into_iter()
            .filter(|f| !on(*f))
            .collect())
    }
}
