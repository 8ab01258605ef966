//! SDK error shapes through `aws-smithy-mocks`: what the adapter retries, what it maps to.

use std::time::Duration;

use aws_sdk_iam::operation::create_virtual_mfa_device::{
    CreateVirtualMFADeviceError, CreateVirtualMfaDeviceOutput,
};
use aws_sdk_iam::operation::delete_virtual_mfa_device::DeleteVirtualMfaDeviceOutput;
use aws_sdk_iam::operation::enable_mfa_device::{EnableMFADeviceError, EnableMfaDeviceOutput};
use aws_sdk_iam::operation::get_user::GetUserOutput;
use aws_sdk_iam::operation::list_mfa_devices::ListMfaDevicesOutput;
use aws_sdk_iam::operation::list_virtual_mfa_devices::ListVirtualMfaDevicesOutput;
use aws_sdk_iam::primitives::{Blob, DateTime};
use aws_sdk_iam::types::error::{EntityAlreadyExistsException, NoSuchEntityException};
use aws_sdk_iam::types::{
    MfaDevice as SdkMfaDevice, User as SdkUser, VirtualMfaDevice as SdkDevice,
};
use aws_sdk_iam::Client as Iam;
use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput;
use aws_sdk_sts::Client as Sts;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};

use super::*;

/// AWS's example seed from the IAM API reference is not used: any 64-character Base32 text is
/// what AWS issues (40 bytes).
const SEED_B32: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
const SERIAL: &str = "arn:aws:iam::123456789012:mfa/alice-yk";

fn options() -> Options {
    Options {
        retry_base_delay: Duration::from_millis(1),
        consistency_attempts: 4,
        ..Options::default()
    }
}

fn sdk(iam_rules: &[&Rule]) -> Sdk {
    sdk_with(iam_rules, &[])
}

fn sdk_with(iam_rules: &[&Rule], sts_rules: &[&Rule]) -> Sdk {
    let retry = RetryConfig::standard()
        .with_max_attempts(5)
        .with_initial_backoff(Duration::from_millis(1));
    let r = retry.clone();
    let iam = mock_client!(aws_sdk_iam, RuleMode::MatchAny, iam_rules, |b| b
        .retry_config(r.clone()));
    let sts = mock_client!(aws_sdk_sts, RuleMode::MatchAny, sts_rules, |b| b
        .retry_config(retry.clone()));
    Sdk::from_clients(iam, sts, &options())
}

/// An IAM query-protocol error body, as AWS and moto send it.
fn error_xml(code: &str, message: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error>\
         <Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>\
         <RequestId>4e6ef2b4-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
    )
}

fn created(seed: Option<&[u8]>) -> CreateVirtualMfaDeviceOutput {
    let mut device = SdkDevice::builder()
        .serial_number(SERIAL)
        .qr_code_png(Blob::new(b"\x89PNG not really".to_vec()));
    if let Some(seed) = seed {
        device = device.base32_string_seed(Blob::new(seed.to_vec()));
    }
    CreateVirtualMfaDeviceOutput::builder()
        .virtual_mfa_device(device.build().expect("device"))
        .build()
}

fn create_ok() -> Rule {
    mock!(Iam::create_virtual_mfa_device).then_output(|| created(Some(SEED_B32.as_bytes())))
}

fn user_output() -> GetUserOutput {
    GetUserOutput::builder()
        .user(
            SdkUser::builder()
                .path("/")
                .user_name("alice")
                .user_id("AIDAEXAMPLE")
                .arn("arn:aws:iam::123456789012:user/alice")
                .create_date(DateTime::from_secs(1_700_000_000))
                .build()
                .expect("user"),
        )
        .build()
}

fn count(sdk: &Sdk, action: &str) -> u32 {
    sdk.calls()
        .into_iter()
        .find(|(a, _)| *a == action)
        .map_or(0, |(_, n)| n)
}

#[tokio::test]
async fn throttling_is_retried_by_the_sdk_then_succeeds() {
    let rule = mock!(Iam::get_user)
        .sequence()
        .http_status(400, Some(error_xml("Throttling", "Rate exceeded")))
        .times(2)
        .output(user_output)
        .build();
    let sdk = sdk(&[&rule]);
    let user = sdk.get_user("alice").await.expect("third attempt succeeds");
    assert_eq!(user.name, "alice");
    assert_eq!(
        user.create_date,
        std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    );
    assert_eq!(
        rule.num_calls(),
        3,
        "two throttled attempts, then the answer"
    );
    assert_eq!(
        count(&sdk, "iam:GetUser"),
        1,
        "one call for the adapter; the SDK retried"
    );
}

#[tokio::test]
async fn throttling_that_never_ends_is_surfaced() {
    let rule = mock!(Iam::get_user)
        .sequence()
        .http_status(400, Some(error_xml("Throttling", "Rate exceeded")))
        .repeatedly()
        .build();
    let sdk = sdk(&[&rule]);
    let err = sdk.get_user("alice").await.expect_err("throttled");
    assert_eq!(
        err,
        IamError::Throttling {
            action: "iam:GetUser"
        }
    );
    assert_eq!(rule.num_calls(), 5, "the SDK's max attempts");
}

#[tokio::test]
async fn access_denied_names_the_action() {
    let message = "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: \
                   iam:DeleteVirtualMFADevice on resource: arn:aws:iam::123456789012:mfa/alice-yk";
    let rule = mock!(Iam::delete_virtual_mfa_device)
        .sequence()
        .http_status(403, Some(error_xml("AccessDenied", message)))
        .build();
    let sdk = sdk(&[&rule]);
    let err = sdk
        .delete_virtual_mfa_device(SERIAL)
        .await
        .expect_err("denied");
    assert_eq!(
        err,
        IamError::AccessDenied {
            action: "iam:DeleteVirtualMFADevice",
            message: message.into()
        }
    );
    assert_eq!(err.action(), Some("iam:DeleteVirtualMFADevice"));
    assert!(err.policy_docs_url().is_some());
    assert_eq!(rule.num_calls(), 1, "a denial is not retried");
}

#[tokio::test]
async fn entity_temporarily_unmodifiable_is_retried() {
    let rule = mock!(Iam::enable_mfa_device)
        .sequence()
        .http_status(
            409,
            Some(error_xml(
                "EntityTemporarilyUnmodifiable",
                "login profile being created",
            )),
        )
        .times(2)
        .output(|| EnableMfaDeviceOutput::builder().build())
        .build();
    let sdk = sdk(&[&rule]);
    sdk.enable_mfa_device("alice", SERIAL, "123456", "654321")
        .await
        .expect("third try");
    assert_eq!(rule.num_calls(), 3);
    assert_eq!(count(&sdk, "iam:EnableMFADevice"), 3);
}

#[tokio::test]
async fn entity_temporarily_unmodifiable_gives_up_after_the_bound() {
    let rule = mock!(Iam::enable_mfa_device)
        .sequence()
        .http_status(
            409,
            Some(error_xml("EntityTemporarilyUnmodifiable", "busy")),
        )
        .repeatedly()
        .build();
    let sdk = sdk(&[&rule]);
    let err = sdk
        .enable_mfa_device("alice", SERIAL, "123456", "654321")
        .await
        .expect_err("busy");
    assert!(matches!(
        err,
        IamError::EntityTemporarilyUnmodifiable {
            action: "iam:EnableMFADevice",
            ..
        }
    ));
    assert_eq!(rule.num_calls(), options().consistency_attempts as usize);
}

#[tokio::test]
async fn no_such_entity_right_after_create_is_retried() {
    let create = create_ok();
    let enable = mock!(Iam::enable_mfa_device)
        .sequence()
        .error(|| {
            EnableMFADeviceError::NoSuchEntityException(
                NoSuchEntityException::builder().message("not yet").build(),
            )
        })
        .times(2)
        .output(|| EnableMfaDeviceOutput::builder().build())
        .build();
    let sdk = sdk(&[&create, &enable]);
    let device = sdk
        .create_virtual_mfa_device("alice-yk", None, &[])
        .await
        .expect("created");
    assert_eq!(device.serial, SERIAL);
    assert_eq!(device.seed.len(), 40);
    sdk.enable_mfa_device("alice", SERIAL, "123456", "654321")
        .await
        .expect("seen at last");
    assert_eq!(enable.num_calls(), 3);
}

#[tokio::test]
async fn no_such_entity_right_after_create_is_surfaced_after_the_bound() {
    let create = create_ok();
    let delete = mock!(Iam::delete_virtual_mfa_device)
        .sequence()
        .http_status(404, Some(error_xml("NoSuchEntity", "no such device")))
        .repeatedly()
        .build();
    let sdk = sdk(&[&create, &delete]);
    sdk.create_virtual_mfa_device("alice-yk", None, &[])
        .await
        .expect("created");
    let err = sdk
        .delete_virtual_mfa_device(SERIAL)
        .await
        .expect_err("never seen");
    assert_eq!(
        err,
        IamError::NoSuchEntity {
            action: "iam:DeleteVirtualMFADevice",
            message: "no such device".into()
        }
    );
    assert_eq!(delete.num_calls(), options().consistency_attempts as usize);
}

#[tokio::test]
async fn no_such_entity_of_an_old_device_is_not_retried() {
    let enable = mock!(Iam::enable_mfa_device)
        .sequence()
        .http_status(
            404,
            Some(error_xml(
                "NoSuchEntity",
                "The user with name bob cannot be found.",
            )),
        )
        .repeatedly()
        .build();
    let sdk = sdk(&[&enable]);
    let err = sdk
        .enable_mfa_device("bob", SERIAL, "123456", "654321")
        .await
        .expect_err("no bob");
    assert!(matches!(
        err,
        IamError::NoSuchEntity {
            action: "iam:EnableMFADevice",
            ..
        }
    ));
    assert_eq!(enable.num_calls(), 1);
}

#[tokio::test]
async fn tagging_denied_is_its_own_error() {
    let message = "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: \
                   iam:TagMFADevice on resource: arn:aws:iam::123456789012:mfa/alice-yk";
    let rule = mock!(Iam::create_virtual_mfa_device)
        .sequence()
        .http_status(403, Some(error_xml("AccessDenied", message)))
        .build();
    let sdk = sdk(&[&rule]);
    let tags = [("ykmfa:token".to_string(), "12345678".to_string())];
    let err = sdk
        .create_virtual_mfa_device("alice-yk", None, &tags)
        .await
        .expect_err("denied");
    assert_eq!(
        err,
        IamError::TaggingDenied {
            message: message.into()
        }
    );
    assert_eq!(err.action(), Some("iam:TagMFADevice"));
}

#[tokio::test]
async fn create_denied_without_tags_is_plain_access_denied() {
    let rule = mock!(Iam::create_virtual_mfa_device)
        .sequence()
        .http_status(
            403,
            Some(error_xml(
                "AccessDenied",
                "not authorized to perform: iam:TagMFADevice",
            )),
        )
        .build();
    let sdk = sdk(&[&rule]);
    let err = sdk
        .create_virtual_mfa_device("alice-yk", None, &[])
        .await
        .expect_err("denied");
    assert!(matches!(
        err,
        IamError::AccessDenied {
            action: "iam:CreateVirtualMFADevice",
            ..
        }
    ));
}

#[tokio::test]
async fn modeled_errors_map_without_an_error_code() {
    let rule = mock!(Iam::create_virtual_mfa_device).then_error(|| {
        CreateVirtualMFADeviceError::EntityAlreadyExistsException(
            EntityAlreadyExistsException::builder()
                .message("name taken")
                .build(),
        )
    });
    let sdk = sdk(&[&rule]);
    let err = sdk
        .create_virtual_mfa_device("alice-yk", None, &[])
        .await
        .expect_err("exists");
    assert_eq!(
        err,
        IamError::EntityAlreadyExists {
            action: "iam:CreateVirtualMFADevice",
            message: "name taken".into()
        }
    );
}

/// Runs a create whose answer carries `seed`, expecting it to be refused and the device deleted.
async fn refused_seed(seed: Option<&'static [u8]>) -> (IamError, usize) {
    let create = mock!(Iam::create_virtual_mfa_device).then_output(move || created(seed));
    let delete = mock!(Iam::delete_virtual_mfa_device)
        .then_output(|| DeleteVirtualMfaDeviceOutput::builder().build());
    let sdk = sdk(&[&create, &delete]);
    let err = sdk
        .create_virtual_mfa_device("alice-yk", None, &[])
        .await
        .expect_err("refused");
    (err, delete.num_calls())
}

#[tokio::test]
async fn a_missing_seed_is_malformed_and_the_device_deleted() {
    let (err, deletes) = refused_seed(None).await;
    let IamError::Malformed(text) = &err else {
        panic!("expected Malformed, got {err:?}")
    };
    assert!(text.contains("Base32StringSeed"), "{text}");
    assert!(text.contains("was deleted again"), "{text}");
    assert_eq!(deletes, 1);
}

#[tokio::test]
async fn an_invalid_seed_is_malformed_and_never_repeated() {
    const BAD: &[u8] = b"0189!NOTBASE32SEEDXYZ";
    let (err, deletes) = refused_seed(Some(BAD)).await;
    assert!(matches!(err, IamError::Malformed(_)), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(
        !shown.contains("NOTBASE32"),
        "the bad seed text leaked: {shown}"
    );
    assert!(!shown.contains("0189"), "the bad seed text leaked: {shown}");
    assert_eq!(deletes, 1);
}

#[tokio::test]
async fn a_short_seed_is_malformed_too() {
    let (err, _) = refused_seed(Some(b"JBSWY3DP")).await;
    assert!(matches!(err, IamError::Malformed(_)));
    assert!(!err.to_string().contains("JBSWY3DP"));
}

#[tokio::test]
async fn an_unparseable_create_answer_is_malformed_and_cleaned_up_by_name() {
    let create = mock!(Iam::create_virtual_mfa_device)
        .sequence()
        .http_status(200, Some("<CreateVirtualMFADeviceResponse><Create".into()))
        .build();
    let list = mock!(Iam::list_virtual_mfa_devices).then_output(|| {
        ListVirtualMfaDevicesOutput::builder()
            .virtual_mfa_devices(
                SdkDevice::builder()
                    .serial_number("arn:aws:iam::123456789012:mfa/other")
                    .build()
                    .expect("d"),
            )
            .virtual_mfa_devices(
                SdkDevice::builder()
                    .serial_number(SERIAL)
                    .build()
                    .expect("d"),
            )
            .build()
            .expect("list")
    });
    let delete = mock!(Iam::delete_virtual_mfa_device)
        .match_requests(|r| r.serial_number() == Some(SERIAL))
        .then_output(|| DeleteVirtualMfaDeviceOutput::builder().build());
    let sdk = sdk(&[&create, &list, &delete]);
    let err = sdk
        .create_virtual_mfa_device("alice-yk", None, &[])
        .await
        .expect_err("cut");
    let IamError::Malformed(text) = &err else {
        panic!("expected Malformed, got {err:?}")
    };
    assert!(text.contains("was deleted again"), "{text}");
    assert_eq!(delete.num_calls(), 1);
}

#[tokio::test]
async fn a_seed_is_taken_and_the_qr_code_dropped() {
    let sdk = sdk(&[&create_ok()]);
    let device = sdk
        .create_virtual_mfa_device("alice-yk", None, &[])
        .await
        .expect("created");
    let expected = Seed::from_base32(SEED_B32).expect("valid");
    assert_eq!(device.seed.expose(), expected.expose());
    assert!(!format!("{device:?}").contains("JBSW"));
}

#[tokio::test]
async fn enable_after_a_lost_answer_finds_the_device_assigned() {
    let enable = mock!(Iam::enable_mfa_device)
        .sequence()
        .http_status(
            409,
            Some(error_xml("EntityAlreadyExists", "already assigned")),
        )
        .repeatedly()
        .build();
    let list = mock!(Iam::list_mfa_devices).then_output(|| {
        ListMfaDevicesOutput::builder()
            .mfa_devices(
                SdkMfaDevice::builder()
                    .user_name("alice")
                    .serial_number(SERIAL)
                    .enable_date(DateTime::from_secs(1_700_000_000))
                    .build()
                    .expect("device"),
            )
            .is_truncated(false)
            .build()
            .expect("list")
    });
    let sdk = sdk(&[&enable, &list]);
    sdk.enable_mfa_device("alice", SERIAL, "123456", "654321")
        .await
        .expect("already done");
    let err = sdk
        .enable_mfa_device(
            "alice",
            "arn:aws:iam::123456789012:mfa/other",
            "123456",
            "654321",
        )
        .await
        .expect_err("someone else's");
    assert!(matches!(err, IamError::EntityAlreadyExists { .. }));
}

#[tokio::test]
async fn codes_must_be_six_digits_and_are_never_repeated() {
    let sdk = sdk(&[]);
    let err = sdk
        .enable_mfa_device("alice", SERIAL, "12345", "987654")
        .await
        .expect_err("short");
    assert!(matches!(err, IamError::InvalidInput(_)));
    assert!(!format!("{err} {err:?}").contains("987654"));
    assert!(sdk.calls().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn missing_credentials_are_no_credentials() {
    use aws_credential_types::provider::error::CredentialsError;
    use aws_credential_types::provider::future::ProvideCredentials as CredentialsFuture;
    use aws_sdk_iam::config::SharedCredentialsProvider;

    let provider = aws_credential_types::credential_fn::provide_credentials_fn(|| {
        CredentialsFuture::ready(Err(CredentialsError::not_loaded(
            "no providers in chain provided credentials",
        )))
    });
    // No mock rule: the request must fail before anything is sent, resolving credentials.
    let config = aws_sdk_sts::config::Builder::new()
        .with_test_defaults_v2()
        .http_client(aws_smithy_mocks::create_mock_http_client())
        .retry_config(RetryConfig::standard().with_initial_backoff(Duration::from_millis(1)))
        .credentials_provider(SharedCredentialsProvider::new(provider))
        .build();
    let sts = Sts::from_conf(config);
    let iam = mock_client!(aws_sdk_iam, RuleMode::MatchAny, &[] as &[&Rule]);
    let sdk = Sdk::from_clients(iam, sts, &options());
    let err = sdk.caller_identity().await.expect_err("no credentials");
    let IamError::NoCredentials(text) = &err else {
        panic!("expected NoCredentials, got {err:?}")
    };
    assert!(text.contains("none found"), "{text}");
}

#[tokio::test]
async fn caller_identity_and_lists() {
    let sts_rule = mock!(Sts::get_caller_identity).then_output(|| {
        GetCallerIdentityOutput::builder()
            .account("123456789012")
            .arn("arn:aws:iam::123456789012:root")
            .user_id("123456789012")
            .build()
    });
    let page = |marker: Option<&str>, truncated: bool, serial: &str| {
        let mut out = ListVirtualMfaDevicesOutput::builder()
            .virtual_mfa_devices(
                SdkDevice::builder()
                    .serial_number(serial)
                    // Stock moto lists seeds again; they must be wiped and never kept.
                    .base32_string_seed(Blob::new(SEED_B32.as_bytes().to_vec()))
                    .build()
                    .expect("device"),
            )
            .is_truncated(truncated);
        if let Some(m) = marker {
            out = out.marker(m);
        }
        out.build().expect("page")
    };
    let list = mock!(Iam::list_virtual_mfa_devices)
        .sequence()
        .output(move || page(Some("m1"), true, "arn:aws:iam::123456789012:mfa/a"))
        .output(move || page(None, false, "arn:aws:iam::123456789012:mfa/b"))
        .build();
    let sdk = sdk_with(&[&list], &[&sts_rule]);
    let me = sdk.caller_identity().await.expect("identity");
    assert!(me.is_root());
    assert_eq!(me.partition(), Some("aws"));
    let devices = sdk
        .list_virtual_mfa_devices(AssignmentStatus::Any)
        .await
        .expect("list");
    let serials: Vec<_> = devices.iter().map(|d| d.serial.as_str()).collect();
    assert_eq!(
        serials,
        [
            "arn:aws:iam::123456789012:mfa/a",
            "arn:aws:iam::123456789012:mfa/b"
        ]
    );
    assert_eq!(
        sdk.calls(),
        vec![
            ("sts:GetCallerIdentity", 1),
            ("iam:ListVirtualMFADevices", 2)
        ]
    );
    sdk.reset_calls();
    assert!(sdk.calls().is_empty());
}

#[tokio::test]
async fn iam_is_global_and_the_partition_follows_the_region() {
    use aws_sdk_iam::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};

    let bare = aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .build();
    let sdk = Sdk::from_config(&bare, options()).expect("sdk");
    assert_eq!(
        sdk.iam.config().region().map(|r| r.as_ref()),
        Some("us-east-1")
    );
    assert_eq!(
        sdk.sts.config().region().map(|r| r.as_ref()),
        Some("us-east-1")
    );

    let china = Sdk::from_config(
        &bare,
        Options {
            region: Some("cn-north-1".into()),
            ..options()
        },
    )
    .expect("sdk");
    assert_eq!(
        china.iam.config().region().map(|r| r.as_ref()),
        Some("cn-north-1")
    );

    // The SDK's resolver takes each region to its partition's global IAM endpoint.
    for (region, suffix) in [
        ("us-east-1", "amazonaws.com"),
        ("eu-west-3", "amazonaws.com"),
        ("cn-north-1", "amazonaws.com.cn"),
        ("us-gov-west-1", "amazonaws.com"),
    ] {
        let params = Params::builder().region(region).build().expect("params");
        let endpoint = DefaultResolver::new()
            .resolve_endpoint(&params)
            .await
            .expect("endpoint");
        assert!(
            endpoint.url().ends_with(suffix),
            "{region}: {}",
            endpoint.url()
        );
        assert!(
            endpoint.url().starts_with("https://iam."),
            "{region}: {}",
            endpoint.url()
        );
        if region == "us-gov-west-1" {
            assert!(endpoint.url().contains("us-gov"), "{}", endpoint.url());
        }
    }

    let err = Sdk::from_config(
        &bare,
        Options {
            endpoint_url: Some("localhost:5000".into()),
            ..options()
        },
    )
    .err()
    .expect("refused");
    assert!(matches!(err, IamError::InvalidInput(_)));
}

#[test]
fn plain_http_endpoints_are_refused_except_to_this_machine() {
    for ok in [
        "https://iam.amazonaws.com",
        "https://10.0.0.5:8443/",
        "http://127.0.0.1:5000",
        "http://127.0.0.1:5000/",
        "http://127.1.2.3",
        "http://localhost:5000/path?x=1",
        "http://LOCALHOST",
        "http://[::1]:5000",
        "http://[::1]",
    ] {
        assert_eq!(check_endpoint(ok, "endpoint URL"), Ok(()), "{ok}");
    }
    for refused in [
        "http://10.0.0.5:5000",
        "http://iam.amazonaws.com",
        "http://128.0.0.1",
        "http://localhost.example.com",
        "http://127.0.0.1.example.com",
        "http://127.0.0.1@example.com",
        "http://127.0.0.1:5000@example.com/",
        "http://user@localhost",
        "http://[::2]:5000",
        "http://[::1",
        "http://127.0.0.1:",
        "http://127.0.0.1:50x0",
        "http://",
    ] {
        let err = check_endpoint(refused, "endpoint URL").expect_err(refused);
        assert!(
            matches!(&err, IamError::InsecureEndpoint { url, .. } if url == refused),
            "{refused}: {err:?}"
        );
        assert!(err.to_string().contains(&format!("{refused:?}")), "{err}");
    }
    // What is not a URL at all is a plain input error.
    for bad in ["localhost:5000", "ftp://127.0.0.1", "iam.amazonaws.com"] {
        let err = check_endpoint(bad, "endpoint URL").expect_err(bad);
        assert!(
            matches!(&err, IamError::InvalidInput(m) if m.contains(bad)),
            "{err:?}"
        );
    }
    let err = check_endpoint("http://10.0.0.5:5000", "endpoint URL").expect_err("refused");
    assert_eq!(
        err.to_string(),
        "endpoint URL \"http://10.0.0.5:5000\" is refused: plain http:// would carry the MFA \
         seed and codes across the network unencrypted"
    );
}

/// The environment's endpoints as `aws-config` hands them over: `AWS_ENDPOINT_URL_<SERVICE>`
/// through the service-config loader.
#[derive(Debug)]
struct ServiceEndpoints(&'static [(&'static str, &'static str)]);

impl aws_types::service_config::LoadServiceConfig for ServiceEndpoints {
    fn load_config(&self, key: aws_types::service_config::ServiceConfigKey<'_>) -> Option<String> {
        if key.env() != "AWS_ENDPOINT_URL" {
            return None;
        }
        self.0
            .iter()
            .find(|(service, _)| *service == key.service_id())
            .map(|(_, url)| (*url).to_owned())
    }
}

#[test]
fn endpoints_from_the_environment_are_vetted_too() {
    let with = |global: Option<&str>, services: &'static [(&'static str, &'static str)]| {
        let mut b = aws_config::SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .service_config(ServiceEndpoints(services));
        if let Some(url) = global {
            b = b.endpoint_url(url);
        }
        b.build()
    };
    // AWS_ENDPOINT_URL (or a profile's endpoint_url).
    let err = Sdk::from_config(&with(Some("http://10.0.0.5:5000"), &[]), options())
        .err()
        .expect("refused");
    assert!(
        matches!(&err, IamError::InsecureEndpoint { url, .. } if url == "http://10.0.0.5:5000"),
        "{err:?}"
    );
    // AWS_ENDPOINT_URL_STS alone, with IAM's on loopback.
    let err = Sdk::from_config(
        &with(
            None,
            &[
                ("IAM", "http://127.0.0.1:5000"),
                ("STS", "http://sts.example.com"),
            ],
        ),
        options(),
    )
    .err()
    .expect("refused");
    assert!(
        matches!(
            &err,
            IamError::InsecureEndpoint { url, origin }
                if url == "http://sts.example.com" && origin.contains("AWS_ENDPOINT_URL_STS")
        ),
        "{err:?}"
    );
    // The bench: everything on loopback.
    assert!(Sdk::from_config(
        &with(
            Some("http://127.0.0.1:5000"),
            &[
                ("IAM", "http://127.0.0.1:5000"),
                ("STS", "http://[::1]:5001")
            ],
        ),
        options(),
    )
    .is_ok());
    // An explicit endpoint replaces the environment's, for both services.
    assert!(Sdk::from_config(
        &with(Some("http://10.0.0.5:5000"), &[("STS", "http://10.0.0.6")]),
        Options {
            endpoint_url: Some("https://iam.example.com".into()),
            ..options()
        },
    )
    .is_ok());
    assert!(Sdk::from_config(
        &with(None, &[]),
        Options {
            endpoint_url: Some("http://192.168.1.10:5000".into()),
            ..options()
        },
    )
    .is_err());
}

#[tokio::test]
async fn an_account_id_that_is_not_12_digits_is_malformed() {
    for account in [
        "../../tmp/x",
        "12345678901",
        "1234567890123",
        "12345678901a",
        "",
    ] {
        let sts_rule = mock!(Sts::get_caller_identity).then_output(move || {
            GetCallerIdentityOutput::builder()
                .account(account)
                .arn("arn:aws:iam::123456789012:user/alice")
                .user_id("AIDAEXAMPLE")
                .build()
        });
        let sdk = sdk_with(&[], &[&sts_rule]);
        let err = sdk.caller_identity().await.expect_err(account);
        assert!(
            matches!(&err, IamError::Malformed(m) if m.contains("not 12 digits")),
            "{account}: {err:?}"
        );
    }
    let long = "9".repeat(500);
    let text = shortened(&long);
    assert!(text.chars().count() <= 41, "{text}");
}

#[tokio::test]
async fn an_unreadable_error_answer_is_not_a_created_device() {
    let create = mock!(Iam::create_virtual_mfa_device)
        .sequence()
        .http_status(409, Some("<html>proxy error</html>".into()))
        .build();
    let delete = mock!(Iam::delete_virtual_mfa_device)
        .then_output(|| DeleteVirtualMfaDeviceOutput::builder().build());
    let sdk = sdk(&[&create, &delete]);
    let err = sdk
        .create_virtual_mfa_device("alice-yk", None, &[])
        .await
        .expect_err("409");
    assert!(
        matches!(&err, IamError::Other { code, .. } if code == "HTTP 409"),
        "{err:?}"
    );
    assert_eq!(delete.num_calls(), 0, "nothing of ours to clean up");
    assert!(!sdk
        .calls()
        .iter()
        .any(|(a, _)| *a == "iam:ListVirtualMFADevices"));
}

#[tokio::test]
async fn create_is_sent_once_and_a_lost_answer_is_cleaned_up() {
    let create = mock!(Iam::create_virtual_mfa_device)
        .sequence()
        .http_status(500, Some(error_xml("ServiceFailure", "internal error")))
        .repeatedly()
        .build();
    let list = mock!(Iam::list_virtual_mfa_devices).then_output(|| {
        ListVirtualMfaDevicesOutput::builder()
            .virtual_mfa_devices(
                SdkDevice::builder()
                    .serial_number(SERIAL)
                    .build()
                    .expect("d"),
            )
            .build()
            .expect("list")
    });
    let delete = mock!(Iam::delete_virtual_mfa_device)
        .match_requests(|r| r.serial_number() == Some(SERIAL))
        .then_output(|| DeleteVirtualMfaDeviceOutput::builder().build());
    let sdk = sdk(&[&create, &list, &delete]);
    let err = sdk
        .create_virtual_mfa_device("alice-yk", None, &[])
        .await
        .expect_err("5xx");
    assert!(
        matches!(
            err,
            IamError::ServiceFailure {
                action: "iam:CreateVirtualMFADevice",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.outcome_unknown());
    assert_eq!(
        create.num_calls(),
        1,
        "never resent: a resend would only say EntityAlreadyExists"
    );
    assert_eq!(
        delete.num_calls(),
        1,
        "the device the lost answer made is gone"
    );
}

#[tokio::test]
async fn create_is_retried_when_throttled() {
    let create = mock!(Iam::create_virtual_mfa_device)
        .sequence()
        .http_status(400, Some(error_xml("Throttling", "Rate exceeded")))
        .times(2)
        .output(|| created(Some(SEED_B32.as_bytes())))
        .build();
    let sdk = sdk(&[&create]);
    let device = sdk
        .create_virtual_mfa_device("alice-yk", None, &[])
        .await
        .expect("third attempt");
    assert_eq!(device.serial, SERIAL);
    assert_eq!(create.num_calls(), 3);
    assert_eq!(
        count(&sdk, "iam:CreateVirtualMFADevice"),
        3,
        "retried by the adapter"
    );
}

#[tokio::test]
async fn the_policy_simulator_is_read_over_every_page() {
    use aws_sdk_iam::operation::simulate_principal_policy::SimulatePrincipalPolicyOutput;
    use aws_sdk_iam::types::{EvaluationResult, PolicyEvaluationDecisionType as D};
    let result = |action: &str, decision: D, missing: &[&str]| {
        let mut r = EvaluationResult::builder()
            .eval_action_name(action)
            .eval_resource_name("arn:aws:iam::123456789012:user/alice")
            .eval_decision(decision);
        for key in missing {
            r = r.missing_context_values(*key);
        }
        r.build().expect("result")
    };
    let rule = mock!(Iam::simulate_principal_policy)
        .sequence()
        .output(move || {
            SimulatePrincipalPolicyOutput::builder()
                .evaluation_results(result("iam:GetUser", D::Allowed, &[]))
                .evaluation_results(result("iam:EnableMFADevice", D::ExplicitDeny, &[]))
                .is_truncated(true)
                .marker("page2")
                .build()
        })
        .output(move || {
            SimulatePrincipalPolicyOutput::builder()
                .evaluation_results(result(
                    "iam:DeactivateMFADevice",
                    D::ImplicitDeny,
                    &["aws:MultiFactorAuthPresent"],
                ))
                .build()
        })
        .build();
    let sdk = sdk(&[&rule]);
    let actions: Vec<String> = [
        "iam:GetUser",
        "iam:EnableMFADevice",
        "iam:DeactivateMFADevice",
    ]
    .map(String::from)
    .to_vec();
    let decisions = sdk
        .simulate_principal_policy(
            "arn:aws:iam::123456789012:user/alice",
            &actions,
            "arn:aws:iam::123456789012:user/alice",
            &[("aws:username".into(), "alice".into())],
        )
        .await
        .expect("two pages");
    let verdicts: Vec<(&str, Verdict)> = decisions
        .iter()
        .map(|d| (d.action.as_str(), d.verdict))
        .collect();
    assert_eq!(
        verdicts,
        [
            ("iam:GetUser", Verdict::Allowed),
            ("iam:EnableMFADevice", Verdict::ExplicitDeny),
            ("iam:DeactivateMFADevice", Verdict::ImplicitDeny),
        ]
    );
    assert_eq!(decisions[2].missing_context, ["aws:MultiFactorAuthPresent"]);
    assert_eq!(count(&sdk, "iam:SimulatePrincipalPolicy"), 2);

    let denied = mock!(Iam::simulate_principal_policy)
        .sequence()
        .http_status(
            403,
            Some(error_xml(
                "AccessDenied",
                "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: \
                 iam:SimulatePrincipalPolicy",
            )),
        )
        .build();
    let denied_sdk = sdk_with(&[&denied], &[]);
    let err = denied_sdk
        .simulate_principal_policy("arn:aws:iam::123456789012:user/alice", &actions, "*", &[])
        .await
        .expect_err("denied");
    assert!(
        matches!(
            err,
            IamError::AccessDenied {
                action: "iam:SimulatePrincipalPolicy",
                ..
            }
        ),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// AWS's clock

const CALLER_XML: &str =
    "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
     <GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/alice</Arn>\
     <UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account></GetCallerIdentityResult>\
     <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>";

/// An STS answer with this status, body and (optional) `Date` header.
fn sts_answer(status: u16, body: String, date: Option<&'static str>) -> Rule {
    mock!(Sts::get_caller_identity).then_http_response(move || {
        let mut response = aws_sdk_sts::config::http::HttpResponse::new(
            status.try_into().expect("status"),
            body.clone().into(),
        );
        if let Some(date) = date {
            response.headers_mut().insert("date", date);
        }
        response
    })
}

#[tokio::test]
async fn server_clock_reads_the_date_header_and_brackets_it_with_local_times() {
    let before = SystemTime::now();
    let rule = sts_answer(
        200,
        CALLER_XML.into(),
        Some("Tue, 14 Nov 2023 22:13:20 GMT"),
    );
    let sdk = sdk_with(&[], &[&rule]);
    let reading = sdk.server_clock().await.expect("reading");
    let after = SystemTime::now();
    assert_eq!(
        reading.server,
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    );
    assert!(
        before <= reading.sent && reading.sent <= reading.received && reading.received <= after
    );
    // This machine's clock is years past that Date: a large, positive skew.
    assert!(reading.skew().seconds > 1e7);
    assert_eq!(count(&sdk, "sts:GetCallerIdentity"), 1);
}

#[tokio::test]
async fn server_clock_reads_a_refused_answer_too() {
    // A clock far off gets its signature refused; the refusal still carries AWS's time.
    let body = error_xml(
        "SignatureDoesNotMatch",
        "Signature expired: 20231114T220000Z is now earlier than 20231114T221320Z",
    );
    let rule = sts_answer(403, body, Some("Tue, 14 Nov 2023 22:13:20 GMT"));
    let sdk = sdk_with(&[], &[&rule]);
    let reading = sdk.server_clock().await.expect("reading");
    assert_eq!(
        reading.server,
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    );
}

#[tokio::test]
async fn server_clock_without_a_date_is_an_error() {
    let ok = sts_answer(200, CALLER_XML.into(), None);
    let err = sdk_with(&[], &[&ok])
        .server_clock()
        .await
        .expect_err("no Date");
    assert!(matches!(err, IamError::Malformed(_)), "{err:?}");

    let garbled = sts_answer(200, CALLER_XML.into(), Some("the day after yesterday"));
    let err = sdk_with(&[], &[&garbled])
        .server_clock()
        .await
        .expect_err("bad Date");
    assert!(matches!(err, IamError::Malformed(_)), "{err:?}");

    let refused = sts_answer(403, error_xml("AccessDenied", "no"), None);
    let err = sdk_with(&[], &[&refused])
        .server_clock()
        .await
        .expect_err("refused, no Date");
    assert!(matches!(err, IamError::AccessDenied { .. }), "{err:?}");
}
