//! Root sessions through `aws-smithy-mocks`: what AssumeRoot is sent, that the session signs with
//! the temporary credentials, and every refusal in words.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_iam::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_iam::config::retry::RetryConfig;
use aws_sdk_iam::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_iam::error::BoxError;
use aws_sdk_iam::operation::deactivate_mfa_device::DeactivateMfaDeviceOutput;
use aws_sdk_iam::operation::list_mfa_devices::ListMfaDevicesOutput;
use aws_sdk_iam::operation::list_organizations_features::ListOrganizationsFeaturesOutput;
use aws_sdk_iam::primitives::DateTime;
use aws_sdk_iam::types::{FeatureType, MfaDevice as SdkMfaDevice};
use aws_sdk_iam::Client as Iam;
use aws_sdk_sts::operation::assume_root::AssumeRootOutput;
use aws_sdk_sts::types::Credentials as StsCredentials;
use aws_sdk_sts::Client as Sts;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};

use super::*;
use crate::iam::{Directory, Options};

const MEMBER: &str = "111111111111";
const MANAGEMENT: &str = "999999999999";
const ROOT_DEVICE: &str = "arn:aws:iam::111111111111:mfa/root-yk";
const TASK: &str = "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials";
const SESSION_KEY: &str = "ASIAROOTSESSIONEXAMPLE";
const SESSION_TOKEN: &str = "root-session-token-example";

/// One request as it left: its URI, its `Authorization` header, its `x-amz-security-token`.
type Request = (String, String, Option<String>);

/// Every request as it leaves, with the headers that show which credentials signed it.
#[derive(Debug, Clone, Default)]
struct Sent(Arc<Mutex<Vec<Request>>>);

impl Sent {
    fn all(&self) -> Vec<Request> {
        self.0.lock().expect("sent").clone()
    }
}

impl Intercept for Sent {
    fn name(&self) -> &'static str {
        "test::Sent"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let header = |name: &str| request.headers().get(name).map(str::to_owned);
        self.0.lock().expect("sent").push((
            request.uri().to_owned(),
            header("authorization").unwrap_or_default(),
            header("x-amz-security-token"),
        ));
        Ok(())
    }
}

struct Mocked {
    sdk: Sdk,
    iam_sent: Sent,
    sts_sent: Sent,
}

fn mocked(iam_rules: &[&Rule], sts_rules: &[&Rule]) -> Mocked {
    let retry = RetryConfig::standard()
        .with_max_attempts(2)
        .with_initial_backoff(Duration::from_millis(1));
    let (iam_sent, sts_sent) = (Sent::default(), Sent::default());
    let (r, s) = (retry.clone(), iam_sent.clone());
    let iam = mock_client!(aws_sdk_iam, RuleMode::MatchAny, iam_rules, |b| b
        .retry_config(r.clone())
        .interceptor(s.clone()));
    let s = sts_sent.clone();
    let sts = mock_client!(aws_sdk_sts, RuleMode::MatchAny, sts_rules, |b| b
        .retry_config(retry.clone())
        .interceptor(s.clone()));
    let options = Options {
        retry_base_delay: Duration::from_millis(1),
        consistency_attempts: 2,
        ..Options::default()
    };
    Mocked {
        sdk: Sdk::from_clients(iam, sts, &options),
        iam_sent,
        sts_sent,
    }
}

fn caller(arn: &str) -> CallerIdentity {
    CallerIdentity {
        account: MANAGEMENT.into(),
        arn: arn.into(),
        user_id: "AIDAEXAMPLE".into(),
    }
}

fn admin() -> CallerIdentity {
    caller("arn:aws:iam::999999999999:user/org-admin")
}

fn error_xml(namespace: &str, code: &str, message: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"{namespace}\"><Error><Type>Sender</Type><Code>{code}</Code>\
         <Message>{message}</Message></Error><RequestId>00000000-0000-0000-0000-000000000000\
         </RequestId></ErrorResponse>"
    )
}

fn sts_error(status: u16, code: &str, message: &str) -> Rule {
    let body = error_xml("https://sts.amazonaws.com/doc/2011-06-15/", code, message);
    mock!(Sts::assume_root)
        .sequence()
        .http_status(status, Some(body))
        .repeatedly()
        .build()
}

fn features_error(code: &str) -> Rule {
    let body = error_xml("https://iam.amazonaws.com/doc/2010-05-08/", code, "refused");
    mock!(Iam::list_organizations_features)
        .sequence()
        .http_status(400, Some(body))
        .repeatedly()
        .build()
}

fn features(enabled: &[FeatureType]) -> Rule {
    let enabled = enabled.to_vec();
    mock!(Iam::list_organizations_features).then_output(move || {
        ListOrganizationsFeaturesOutput::builder()
            .organization_id("o-exampleorg")
            .set_enabled_features(Some(enabled.clone()))
            .build()
    })
}

const DENIED: &str = "User: arn:aws:iam::999999999999:user/org-admin is not authorized to \
                      perform: sts:AssumeRoot on resource: arn:aws:iam::111111111111:root";

fn assume_root_ok() -> Rule {
    mock!(Sts::assume_root)
        .match_requests(|input| {
            input.target_principal() == Some(MEMBER)
                && input.task_policy_arn().and_then(|p| p.arn()) == Some(TASK)
                && input.duration_seconds() == Some(900)
        })
        .then_output(|| {
            AssumeRootOutput::builder()
                .credentials(
                    StsCredentials::builder()
                        .access_key_id(SESSION_KEY)
                        .secret_access_key("root-session-secret")
                        .session_token(SESSION_TOKEN)
                        .expiration(DateTime::from_secs(4_000_000_000))
                        .build()
                        .expect("credentials"),
                )
                .build()
        })
}

#[tokio::test]
async fn a_root_session_signs_with_the_temporary_credentials_at_a_regional_endpoint() {
    let assume = assume_root_ok();
    let list = mock!(Iam::list_mfa_devices)
        .match_requests(|input| input.user_name().is_none())
        .then_output(|| {
            ListMfaDevicesOutput::builder()
                .mfa_devices(
                    SdkMfaDevice::builder()
                        .user_name("")
                        .serial_number(ROOT_DEVICE)
                        .enable_date(DateTime::from_secs(1_700_000_000))
                        .build()
                        .expect("device"),
                )
                .build()
                .expect("list")
        });
    let deactivate = mock!(Iam::deactivate_mfa_device)
        .match_requests(|input| {
            input.user_name().is_none() && input.serial_number() == Some(ROOT_DEVICE)
        })
        .then_output(|| DeactivateMfaDeviceOutput::builder().build());
    let m = mocked(&[&list, &deactivate], &[&assume]);

    let session = m
        .sdk
        .open_root_session(&admin(), MEMBER)
        .await
        .expect("session");
    assert_eq!(session.account, MEMBER);
    assert_eq!(
        session.expires,
        Some(std::time::UNIX_EPOCH + Duration::from_secs(4_000_000_000))
    );
    assert_eq!(assume.num_calls(), 1);
    let shown = format!("{session:?}");
    assert!(!shown.contains(SESSION_TOKEN) && !shown.contains("root-session-secret"));

    // AssumeRoot went to the regional endpoint, signed by the caller's own credentials.
    let sts = m.sts_sent.all();
    assert_eq!(sts.len(), 1);
    assert!(
        sts[0].0.starts_with("https://sts.us-east-1.amazonaws.com"),
        "AssumeRoot needs a regional STS endpoint, got {}",
        sts[0].0
    );
    assert!(!sts[0].1.contains(SESSION_KEY));

    // The session's IAM calls are signed by the root session's temporary credentials.
    let devices = session
        .directory
        .list_mfa_devices(None)
        .await
        .expect("root's devices");
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].serial, ROOT_DEVICE);
    assert_eq!(devices[0].user, None, "root devices name no user");
    session
        .directory
        .deactivate_mfa_device(None, ROOT_DEVICE)
        .await
        .expect("deactivate without a user name");
    assert_eq!(deactivate.num_calls(), 1);
    let iam = m.iam_sent.all();
    assert_eq!(iam.len(), 2);
    for (_, authorization, token) in &iam {
        assert!(
            authorization.contains(&format!("Credential={SESSION_KEY}/")),
            "{authorization}"
        );
        assert_eq!(token.as_deref(), Some(SESSION_TOKEN));
    }
    // The caller's own client is untouched.
    m.sdk.list_mfa_devices(None).await.expect("caller's list");
    let last = m.iam_sent.all().pop().expect("one more");
    assert!(!last.1.contains(SESSION_KEY) && last.2.is_none());
}

#[tokio::test]
async fn nothing_is_sent_for_a_malformed_account_a_root_caller_or_the_own_account() {
    let assume = assume_root_ok();
    let m = mocked(&[], &[&assume]);
    for bad in [
        "11111111111",
        "1111111111111",
        "11111111111a",
        " 111111111111",
        "",
    ] {
        let err = m
            .sdk
            .open_root_session(&admin(), bad)
            .await
            .expect_err("malformed");
        assert_eq!(err, RootSessionError::InvalidAccount(bad.into()));
        assert!(err.to_string().contains("12 digits"), "{err}");
    }
    let root = caller("arn:aws:iam::999999999999:root");
    assert_eq!(
        m.sdk
            .open_root_session(&root, MEMBER)
            .await
            .expect_err("root"),
        RootSessionError::RootCaller
    );
    assert_eq!(
        m.sdk
            .open_root_session(&admin(), MANAGEMENT)
            .await
            .expect_err("own account"),
        RootSessionError::OwnAccount(MANAGEMENT.into())
    );
    assert_eq!(assume.num_calls(), 0, "refused before anything was sent");
    assert!(m.sts_sent.all().is_empty());
}

#[tokio::test]
async fn the_task_policy_arn_follows_the_callers_partition() {
    let assume = mock!(Sts::assume_root)
        .match_requests(|input| {
            input.task_policy_arn().and_then(|p| p.arn())
                == Some("arn:aws-us-gov:iam::aws:policy/root-task/IAMDeleteRootUserCredentials")
        })
        .then_output(|| {
            AssumeRootOutput::builder()
                .credentials(
                    StsCredentials::builder()
                        .access_key_id(SESSION_KEY)
                        .secret_access_key("s")
                        .session_token(SESSION_TOKEN)
                        .expiration(DateTime::from_secs(4_000_000_000))
                        .build()
                        .expect("credentials"),
                )
                .build()
        });
    let m = mocked(&[], &[&assume]);
    let gov = caller("arn:aws-us-gov:iam::999999999999:user/org-admin");
    m.sdk
        .open_root_session(&gov, MEMBER)
        .await
        .expect("session in aws-us-gov");
    assert_eq!(assume.num_calls(), 1);
}

/// AssumeRoot denied; ListOrganizationsFeatures answers `features`: the reason that results.
async fn refusal(features: Rule) -> (RootSessionError, usize) {
    let assume = sts_error(403, "AccessDenied", DENIED);
    let m = mocked(&[&features], &[&assume]);
    let err = m
        .sdk
        .open_root_session(&admin(), MEMBER)
        .await
        .expect_err("refused");
    assert_eq!(assume.num_calls(), 1, "a denial is not retried");
    (err, features.num_calls())
}

#[tokio::test]
async fn a_caller_outside_the_management_account_is_told_so() {
    let (err, asked) = refusal(features_error(
        "AccountNotManagementOrDelegatedAdministratorException",
    ))
    .await;
    assert_eq!(asked, 1);
    assert_eq!(
        err,
        RootSessionError::NotManagementAccount {
            caller: MANAGEMENT.into(),
            message: DENIED.into()
        }
    );
    assert!(
        err.to_string()
            .contains("neither the organization's management account"),
        "{err}"
    );
}

#[tokio::test]
async fn no_organization_and_consolidated_billing_only_are_told_so() {
    let (err, _) = refusal(features_error("OrganizationNotFoundException")).await;
    assert_eq!(
        err,
        RootSessionError::NoOrganization {
            caller: MANAGEMENT.into()
        }
    );
    let (err, _) = refusal(features_error("OrganizationNotInAllFeaturesModeException")).await;
    assert_eq!(err, RootSessionError::NotAllFeatures);
}

#[tokio::test]
async fn centralized_root_access_not_enabled_names_what_is_off() {
    let (err, _) = refusal(features_error("ServiceAccessNotEnabledException")).await;
    assert_eq!(err, RootSessionError::TrustedAccessNotEnabled);

    let (err, _) = refusal(features(&[])).await;
    assert_eq!(
        err,
        RootSessionError::NotEnabled {
            missing: vec![RootFeature::CredentialsManagement, RootFeature::Sessions]
        }
    );
    assert!(
        err.to_string()
            .contains("RootCredentialsManagement and RootSessions off"),
        "{err}"
    );
    let (err, _) = refusal(features(&[FeatureType::RootCredentialsManagement])).await;
    assert_eq!(
        err,
        RootSessionError::NotEnabled {
            missing: vec![RootFeature::Sessions]
        }
    );
}

#[tokio::test]
async fn refused_with_everything_enabled_means_not_a_member_or_not_allowed() {
    let (err, _) = refusal(features(&[
        FeatureType::RootCredentialsManagement,
        FeatureType::RootSessions,
    ]))
    .await;
    assert_eq!(
        err,
        RootSessionError::NotMemberOrDenied {
            account: MEMBER.into(),
            organization: Some("o-exampleorg".into()),
            message: DENIED.into()
        }
    );
    let text = err.to_string();
    assert!(
        text.contains("not a member") && text.contains("o-exampleorg"),
        "{text}"
    );
}

#[tokio::test]
async fn an_undiagnosable_refusal_still_shows_what_aws_said() {
    let denied_too = mock!(Iam::list_organizations_features)
        .sequence()
        .http_status(
            403,
            Some(error_xml(
                "https://iam.amazonaws.com/doc/2010-05-08/",
                "AccessDenied",
                "not authorized to perform: iam:ListOrganizationsFeatures",
            )),
        )
        .build();
    let (err, _) = refusal(denied_too).await;
    assert_eq!(
        err,
        RootSessionError::Denied {
            account: MEMBER.into(),
            message: DENIED.into()
        }
    );
}

#[tokio::test]
async fn sts_validation_and_region_errors() {
    let invalid = sts_error(
        400,
        "ValidationError",
        "1 validation error detected: Value at 'targetPrincipal' failed to satisfy constraint",
    );
    let m = mocked(&[], &[&invalid]);
    let err = m
        .sdk
        .open_root_session(&admin(), MEMBER)
        .await
        .expect_err("invalid");
    assert!(
        matches!(&err, RootSessionError::TargetRefused { account, message }
            if account == MEMBER && message.contains("targetPrincipal")),
        "{err:?}"
    );

    let region = sts_error(
        403,
        "RegionDisabledException",
        "STS is not activated in this region",
    );
    let m = mocked(&[], &[&region]);
    let err = m
        .sdk
        .open_root_session(&admin(), MEMBER)
        .await
        .expect_err("region");
    assert!(
        matches!(err, RootSessionError::RegionDisabled { .. }),
        "{err:?}"
    );

    let expired = sts_error(
        403,
        "ExpiredToken",
        "The security token included in the request is expired",
    );
    let m = mocked(&[], &[&expired]);
    let err = m
        .sdk
        .open_root_session(&admin(), MEMBER)
        .await
        .expect_err("expired");
    assert!(
        matches!(err, RootSessionError::Iam(IamError::NoCredentials(_))),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_answer_without_credentials_is_malformed() {
    let empty = mock!(Sts::assume_root).then_output(|| AssumeRootOutput::builder().build());
    let m = mocked(&[], &[&empty]);
    let err = m
        .sdk
        .open_root_session(&admin(), MEMBER)
        .await
        .expect_err("no credentials");
    assert!(
        matches!(err, RootSessionError::Iam(IamError::Malformed(_))),
        "{err:?}"
    );
}
