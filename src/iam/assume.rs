//! Reaching other accounts: a named profile, or a role assumed with STS AssumeRole.
//!
//! An organization keeps its admins in several accounts; a bulk manifest names, per row, how to
//! reach the row's account. Each way ends in an ordinary [`Sdk`], so the enrollment does not know
//! which account it works in. Credentials are fetched once per account and kept for the run
//! (AssumeRole sessions last an hour by default, far longer than a bulk run).
//!
//! What this module must never do: print or log the temporary credentials it receives.

use aws_config::BehaviorVersion;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_sdk_iam::config::Region;

use super::error::from_sdk;
use super::{IamError, Options, Sdk};

const ASSUME_ROLE: &str = "sts:AssumeRole";

/// How long an assumed session lasts. An hour is AssumeRole's default and every role's allowed
/// minimum maximum, so no role refuses it.
const SESSION_SECONDS: i32 = 3600;

/// Whether `arn` looks like an IAM role ARN: `arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME`, with
/// a 12-digit account. Returns the account.
pub fn role_account(arn: &str) -> Option<&str> {
    let mut fields = arn.splitn(6, ':');
    let (arn_, partition, service, region, account, resource) = (
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
    );
    let name = resource.strip_prefix("role/")?.rsplit('/').next()?;
    let name_ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    (arn_ == "arn"
        && !partition.is_empty()
        && service == "iam"
        && region.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && name_ok)
        .then_some(account)
}

/// The IAM and STS clients for a named profile of the shared config files. The profile's own
/// credentials are used even when the environment holds others (`AWS_ACCESS_KEY_ID`), as with
/// the AWS CLI's `--profile`.
pub async fn with_profile(base: &Options, profile: &str) -> Result<Sdk, IamError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .profile_name(profile)
        .credentials_provider(
            aws_config::profile::ProfileFileCredentialsProvider::builder()
                .profile_name(profile)
                .build(),
        );
    if let Some(region) = &base.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &base.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let config = loader.load().await;
    let options = Options {
        profile: Some(profile.to_owned()),
        ..base.clone()
    };
    Sdk::from_config(&config, options)
}

/// Assumes `role_arn` with the credentials `base` describes (its profile, or the standard chain)
/// and returns clients that act as that role. `session` names the session in CloudTrail.
pub async fn assume_role(base: &Options, role_arn: &str, session: &str) -> Result<Sdk, IamError> {
    Assumer::new(base).await?.assume(role_arn, session).await
}

/// Assumes roles, many of them, with one loaded configuration, one STS client and one HTTP
/// client: the sessions share its connections (an organization-wide audit assumes a role in
/// every account).
pub struct Assumer {
    config: aws_config::SdkConfig,
    sts: aws_sdk_sts::Client,
    base: Options,
}

impl Assumer {
    /// Loads the credentials `base` describes (its profile, or the standard chain).
    pub async fn new(base: &Options) -> Result<Assumer, IamError> {
        use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
            .build_https();
        let config = super::sdk::load_config(base).await;
        let config = config.to_builder().http_client(http).build();
        // AssumeRole's answer carries credentials: its endpoint is vetted like every other.
        super::sdk::check_endpoints(&config, base.endpoint_url.as_deref())?;
        let (retry, timeouts) = super::sdk::patience(base);
        let mut sts = aws_sdk_sts::config::Builder::from(&config)
            .region(
                base.region
                    .clone()
                    .map(Region::new)
                    .or_else(|| config.region().cloned())
                    .unwrap_or_else(|| Region::new("us-east-1")),
            )
            .retry_config(retry)
            .timeout_config(timeouts);
        if let Some(url) = &base.endpoint_url {
            sts = sts.endpoint_url(url);
        }
        Ok(Assumer {
            sts: aws_sdk_sts::Client::from_conf(sts.build()),
            config,
            base: base.clone(),
        })
    }

    /// Clients acting with the credentials themselves (sharing the connections).
    pub fn caller(&self) -> Result<Sdk, IamError> {
        Sdk::from_config(&self.config, self.base.clone())
    }

    /// An Organizations client with the credentials themselves (sharing the connections).
    pub fn organizations(&self) -> Result<super::Organizations, IamError> {
        super::Organizations::from_config(&self.config, &self.base)
    }

    /// Clients that act as `role_arn`; `session` names the session in CloudTrail.
    pub async fn assume(&self, role_arn: &str, session: &str) -> Result<Sdk, IamError> {
        if role_account(role_arn).is_none() {
            return Err(IamError::InvalidInput(format!(
                "{role_arn:?} is not a role ARN (arn:aws:iam::ACCOUNT:role/NAME)"
            )));
        }
        let out = self
            .sts
            .assume_role()
            .role_arn(role_arn)
            .role_session_name(session)
            .duration_seconds(SESSION_SECONDS)
            .send()
            .await
            .map_err(|e| from_sdk(ASSUME_ROLE, e))?;
        let Some(c) = out.credentials else {
            return Err(IamError::Malformed(format!(
                "{ASSUME_ROLE}: the answer for {role_arn} has no credentials"
            )));
        };
        let expiry = std::time::SystemTime::try_from(c.expiration).ok();
        let credentials = Credentials::new(
            c.access_key_id,
            c.secret_access_key,
            Some(c.session_token),
            expiry,
            "ykmfa-assume-role",
        );
        let assumed = self
            .config
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .build();
        Sdk::from_config(&assumed, self.base.clone())
    }
}

#[cfg(test)]
mod tests;
