//! Revocation over a mocked IAM (`aws-smithy-mocks`, real SDK error shapes) and an in-memory
//! card that fails on command: the order of steps, what a failure at each step leaves, and every
//! refusal.

use std::time::Duration;

use aws_sdk_iam::config::retry::RetryConfig;
use aws_sdk_iam::operation::deactivate_mfa_device::DeactivateMfaDeviceOutput;
use aws_sdk_iam::operation::delete_virtual_mfa_device::DeleteVirtualMfaDeviceOutput;
use aws_sdk_iam::operation::get_user::GetUserOutput;
use aws_sdk_iam::operation::list_account_aliases::ListAccountAliasesOutput;
use aws_sdk_iam::operation::list_mfa_device_tags::ListMfaDeviceTagsOutput;
use aws_sdk_iam::operation::list_mfa_devices::ListMfaDevicesOutput;
use aws_sdk_iam::operation::list_virtual_mfa_devices::ListVirtualMfaDevicesOutput;
use aws_sdk_iam::primitives::DateTime;
use aws_sdk_iam::types::{MfaDevice as SdkMfaDevice, Tag, User as SdkUser, VirtualMfaDevice};
use aws_sdk_iam::Client as Iam;
use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput;
use aws_sdk_sts::Client as Sts;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};

use super::*;
use crate::iam::names::{TAG_CREDENTIAL, TAG_TOKEN_SERIAL};
use crate::iam::{Options, Sdk};
use crate::mfa::fakes::{FakeCard, Recorder};
use crate::mfa::labels::root_labels;
use crate::mfa::pairing::{self, Device, DeviceArn, Explicit, UserDevices};
use crate::oath::{self, Credential, CredentialId, OathType};
use crate::token::{Kind, Token};

const ACCOUNT: &str = "123456789012";
const DEVICE: &str = "arn:aws:iam::123456789012:mfa/alice-yk12345678";
const BACKUP: &str = "arn:aws:iam::123456789012:mfa/alice-yk23456789";
const LABEL: &str = "Amazon Web Services:alice@123456789012";

// ---- IAM, mocked ----

fn error_xml(code: &str, message: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error>\
         <Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>\
         <RequestId>4e6ef2b4-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
    )
}

fn sdk(iam_rules: &[&Rule]) -> Sdk {
    let retry = RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(1));
    let r = retry.clone();
    let iam = mock_client!(aws_sdk_iam, RuleMode::MatchAny, iam_rules, |b| b
        .retry_config(r.clone()));
    let who = mock!(Sts::get_caller_identity).then_output(|| {
        GetCallerIdentityOutput::builder()
            .account(ACCOUNT)
            .arn("arn:aws:iam::123456789012:user/admin")
            .user_id("AIDAADMIN")
            .build()
    });
    let sts = mock_client!(aws_sdk_sts, RuleMode::MatchAny, &[&who], |b| b
        .retry_config(retry.clone()));
    Sdk::from_clients(
        iam,
        sts,
        &Options {
            retry_base_delay: Duration::from_millis(1),
            consistency_attempts: 2,
            ..Options::default()
        },
    )
}

fn mfa(serial: &str) -> SdkMfaDevice {
    SdkMfaDevice::builder()
        .user_name("alice")
        .serial_number(serial)
        .enable_date(DateTime::from_secs(1_700_000_000))
        .build()
        .expect("device")
}

fn listed(serials: &'static [&'static str]) -> Rule {
    mock!(Iam::list_mfa_devices).then_output(move || {
        ListMfaDevicesOutput::builder()
            .set_mfa_devices(Some(serials.iter().map(|s| mfa(s)).collect()))
            .build()
            .expect("list")
    })
}

fn error_rule_deactivate(status: u16, code: &str) -> Rule {
    mock!(Iam::deactivate_mfa_device)
        .sequence()
        .http_status(status, Some(error_xml(code, "no")))
        .repeatedly()
        .build()
}

fn deactivate_ok() -> Rule {
    mock!(Iam::deactivate_mfa_device)
        .match_requests(|i| i.user_name() == Some("alice") && i.serial_number() == Some(DEVICE))
        .then_output(|| DeactivateMfaDeviceOutput::builder().build())
}

fn delete_ok() -> Rule {
    mock!(Iam::delete_virtual_mfa_device)
        .match_requests(|i| i.serial_number() == Some(DEVICE))
        .then_output(|| DeleteVirtualMfaDeviceOutput::builder().build())
}

fn user_ok() -> Rule {
    mock!(Iam::get_user).then_output(|| {
        GetUserOutput::builder()
            .user(
                SdkUser::builder()
                    .path("/")
                    .user_name("alice")
                    .user_id("AIDAALICE")
                    .arn("arn:aws:iam::123456789012:user/alice")
                    .create_date(DateTime::from_secs(1_700_000_000))
                    .build()
                    .expect("user"),
            )
            .build()
    })
}

fn no_alias() -> Rule {
    mock!(Iam::list_account_aliases).then_output(|| {
        ListAccountAliasesOutput::builder()
            .set_account_aliases(Some(vec![]))
            .build()
            .expect("aliases")
    })
}

// ---- the token: `crate::mfa::fakes::FakeCard::for_removal`, which may only list and delete ----

fn token_ref() -> TokenRef {
    TokenRef {
        serial: Some(Serial(12_345_678)),
        kind: Kind::YubiKey,
        reader: "Yubico YubiKey OTP+FIDO+CCID 00 00".into(),
    }
}

fn plan(devices_before: usize, credential: CredentialPlan) -> Plan {
    Plan {
        account: ACCOUNT.into(),
        principal: Principal::User {
            name: "alice".into(),
        },
        device: DEVICE.into(),
        assigned: true,
        devices_before,
        credential,
    }
}

fn delete_label() -> CredentialPlan {
    CredentialPlan::Delete {
        name: LABEL.into(),
        token: token_ref(),
        raw_id: LABEL.as_bytes().to_vec(),
    }
}

// ---- from pairing to a plan ----

fn token(serial: u32, reader: &str, names: Option<&[&str]>) -> Token {
    Token {
        reader: reader.into(),
        kind: Kind::YubiKey,
        serial: Some(Serial(serial)),
        firmware: None,
        oath_version: oath::Version(5, 4, 3),
        device_id: format!("id{serial}"),
        password: names.is_none(),
        credentials: names.map(<[&str]>::len),
        capacity: Some(32),
        model: None,
        fips: false,
        listed: names.map(|n| {
            n.iter()
                .map(|name| Credential {
                    id: CredentialId::parse(name.as_bytes(), OathType::Totp),
                    raw_id: name.as_bytes().to_vec(),
                    oath_type: OathType::Totp,
                    algorithm: None,
                    touch: None,
                })
                .collect()
        }),
    }
}

fn tagged(serial: &str, token: &str) -> Device {
    Device::new(
        crate::iam::MfaDevice {
            user: Some("alice".into()),
            serial: serial.into(),
            enable_date: None,
        },
        vec![
            (TAG_CREDENTIAL.into(), LABEL.into()),
            (TAG_TOKEN_SERIAL.into(), token.into()),
        ],
    )
}

#[test]
fn the_credential_plan_follows_pairing() {
    let p = pairing::pair(
        &[tagged(DEVICE, "12345678")],
        &[token(12_345_678, "r", Some(&[LABEL]))],
        None,
        None,
    );
    let on = p.device(DEVICE).expect("paired");
    assert_eq!(
        CredentialPlan::from_place(on, false),
        Ok(CredentialPlan::Delete {
            name: LABEL.into(),
            token: TokenRef {
                serial: Some(Serial(12_345_678)),
                kind: Kind::YubiKey,
                reader: "r".into()
            },
            raw_id: LABEL.as_bytes().to_vec()
        })
    );
    assert_eq!(
        CredentialPlan::from_place(on, true),
        Ok(CredentialPlan::Keep {
            name: Some(LABEL.into()),
            token_serial: Some(Serial(12_345_678))
        })
    );

    // The token is not connected: the credential remains, and the plan names it.
    let absent = pairing::pair(&[tagged(DEVICE, "12345678")], &[], None, None);
    assert_eq!(
        CredentialPlan::from_place(absent.device(DEVICE).expect("paired"), false),
        Ok(CredentialPlan::Remains {
            name: Some(LABEL.into()),
            token_serial: Some(Serial(12_345_678))
        })
    );

    // The token is there but the credential is not.
    let gone = pairing::pair(
        &[tagged(DEVICE, "12345678")],
        &[token(12_345_678, "r", Some(&[]))],
        None,
        None,
    );
    assert!(matches!(
        CredentialPlan::from_place(gone.device(DEVICE).expect("paired"), false),
        Ok(CredentialPlan::AlreadyGone { .. })
    ));

    // A locked token that may hold it: refused unless the credential is kept.
    let locked = pairing::pair(
        &[tagged(DEVICE, "12345678")],
        &[token(12_345_678, "r", None)],
        None,
        None,
    );
    let err = CredentialPlan::from_place(locked.device(DEVICE).expect("paired"), false)
        .expect_err("locked");
    assert!(matches!(err, Refusal::TokenLocked { .. }), "{err:?}");
    assert!(err.to_string().contains("password protected"), "{err}");
    assert!(matches!(
        CredentialPlan::from_place(locked.device(DEVICE).expect("paired"), true),
        Ok(CredentialPlan::Keep { name: None, .. })
    ));

    // Two devices whose tags claim one credential: never a guess.
    let both = pairing::pair(
        &[tagged(DEVICE, "12345678"), tagged(BACKUP, "12345678")],
        &[token(12_345_678, "r", Some(&[LABEL]))],
        None,
        None,
    );
    let err = CredentialPlan::from_place(both.device(DEVICE).expect("paired"), false)
        .expect_err("ambiguous");
    assert!(
        matches!(&err, Refusal::AmbiguousCredential { rivals, .. } if rivals == &[BACKUP.to_owned()]),
        "{err:?}"
    );
    // Naming the device explicitly settles it.
    let pick = Explicit {
        device: DEVICE.into(),
        credential: None,
    };
    let both = pairing::pair(
        &[tagged(DEVICE, "12345678"), tagged(BACKUP, "12345678")],
        &[token(12_345_678, "r", Some(&[LABEL]))],
        None,
        Some(&pick),
    );
    assert!(matches!(
        CredentialPlan::from_place(both.device(DEVICE).expect("paired"), false),
        Ok(CredentialPlan::Delete { .. })
    ));
}

#[test]
fn the_last_device_needs_allow_last() {
    let last = plan(1, delete_label());
    let err = last.check_last(false).expect_err("last");
    assert!(matches!(err, Refusal::LastDevice { .. }));
    let text = err.to_string();
    assert!(text.contains("last MFA device of IAM user alice"), "{text}");
    assert!(text.contains("password"), "{text}");
    assert!(last.check_last(true).is_ok());
    assert!(plan(2, delete_label()).check_last(false).is_ok());
    // An unassigned device (finishing an earlier run) is nobody's last.
    let finish = Plan {
        assigned: false,
        devices_before: 0,
        ..plan(0, CredentialPlan::NotLookedFor)
    };
    assert!(finish.check_last(false).is_ok());
}

#[test]
fn serial_picks_the_one_device_on_that_token() {
    let view = UserDevices {
        account: ACCOUNT.into(),
        alias: None,
        user: "alice".into(),
        devices: vec![tagged(DEVICE, "12345678"), tagged(BACKUP, "23456789")],
        tags_denied: false,
    };
    let tokens = [
        token(12_345_678, "r1", Some(&[LABEL])),
        token(23_456_789, "r2", Some(&[LABEL])),
    ];
    let p = pairing::pair(&view.devices, &tokens, None, None);
    assert_eq!(
        device_on_token("alice", &p, Serial(23_456_789), "YubiKey 23456789"),
        Ok(BACKUP.to_owned())
    );
    let err = device_on_token("alice", &p, Serial(99), "YubiKey 99").expect_err("none");
    assert_eq!(
        err.to_string(),
        "none of alice's MFA devices has its credential on YubiKey 99"
    );
    let both = UserDevices {
        devices: vec![
            tagged(DEVICE, "12345678"),
            Device::new(
                crate::iam::MfaDevice {
                    user: Some("alice".into()),
                    serial: BACKUP.into(),
                    enable_date: None,
                },
                vec![
                    (TAG_CREDENTIAL.into(), "AWS:alice-backup".into()),
                    (TAG_TOKEN_SERIAL.into(), "12345678".into()),
                ],
            ),
        ],
        ..view
    };
    let tokens = [token(12_345_678, "r1", Some(&[LABEL, "AWS:alice-backup"]))];
    let p = pairing::pair(&both.devices, &tokens, None, None);
    assert!(matches!(
        device_on_token("alice", &p, Serial(12_345_678), "YubiKey 12345678"),
        Err(Refusal::SeveralOnToken { devices, .. }) if devices.len() == 2
    ));
}

// ---- preflight against IAM ----

/// ListMFADeviceTags of DEVICE: ykmfa's credential tag.
fn device_tagged() -> Rule {
    mock!(Iam::list_mfa_device_tags)
        .match_requests(|i| i.serial_number() == Some(DEVICE))
        .then_output(|| {
            let tag = Tag::builder().key(TAG_CREDENTIAL).value(LABEL).build();
            ListMfaDeviceTagsOutput::builder()
                .tags(tag.expect("tag"))
                .build()
                .expect("tags")
        })
}

#[tokio::test]
async fn one_read_of_devices_and_tags_says_a_denied_tag_read() {
    let list = listed(&[DEVICE, BACKUP]);
    let tags = device_tagged();
    let denied = mock!(Iam::list_mfa_device_tags)
        .match_requests(|i| i.serial_number() == Some(BACKUP))
        .sequence()
        .http_status(403, Some(error_xml("AccessDenied", "not allowed")))
        .build();
    let (user, alias) = (user_ok(), no_alias());
    let view = pairing::read_user(&sdk(&[&user, &alias, &list, &tags, &denied]), "alice")
        .await
        .expect("view");
    assert_eq!(view.account, ACCOUNT);
    assert_eq!(view.devices.len(), 2);
    assert_eq!(view.devices[0].tagged_credential(), Some(LABEL));
    assert!(view.devices[1].tags.is_empty(), "denied tags count as none");
    assert!(view.tags_denied, "and the denial is said");
}

#[tokio::test]
async fn tags_are_read_for_virtual_devices_only_and_a_lagging_device_counts_as_untagged() {
    let list = listed(&[
        DEVICE,
        "arn:aws:iam::123456789012:u2f/user/alice/key-1",
        BACKUP,
    ]);
    let tags = device_tagged();
    // IAM's reads lag its writes: a device just deleted is still listed, its tags are not.
    let lagging = mock!(Iam::list_mfa_device_tags)
        .match_requests(|i| i.serial_number() == Some(BACKUP))
        .sequence()
        .http_status(404, Some(error_xml("NoSuchEntity", "no such device")))
        .build();
    let got = pairing::gather(&sdk(&[&list, &tags, &lagging]), "alice")
        .await
        .expect("read");
    assert_eq!(got.devices.len(), 3);
    assert!(!got.tags_denied);
    assert_eq!(got.devices[0].tagged_credential(), Some(LABEL));
    assert!(got.devices[1].tags.is_empty() && got.devices[2].tags.is_empty());
    assert_eq!(
        (tags.num_calls(), lagging.num_calls()),
        (1, 1),
        "the FIDO key is not asked"
    );
}

#[tokio::test]
async fn an_unknown_user_is_refused() {
    let user = mock!(Iam::get_user)
        .sequence()
        .http_status(404, Some(error_xml("NoSuchEntity", "no user")))
        .build();
    // The user, its devices and the alias are asked together; the account comes from STS.
    let list = mock!(Iam::list_mfa_devices)
        .sequence()
        .http_status(404, Some(error_xml("NoSuchEntity", "no user")))
        .build();
    let alias = mock!(Iam::list_account_aliases).then_output(|| {
        ListAccountAliasesOutput::builder()
            .set_account_aliases(Some(vec![]))
            .build()
            .expect("aliases")
    });
    let err = pairing::read_user(&sdk(&[&user, &list, &alias]), "bob")
        .await
        .expect_err("unknown");
    assert!(
        matches!(&err, pairing::ReadError::NoSuchUser { user, account } if user == "bob" && account == ACCOUNT),
        "{err:?}"
    );
}

fn virtual_devices(devices: Vec<VirtualMfaDevice>) -> Rule {
    mock!(Iam::list_virtual_mfa_devices).then_output(move || {
        ListVirtualMfaDevicesOutput::builder()
            .set_virtual_mfa_devices(Some(devices.clone()))
            .build()
            .expect("list")
    })
}

fn assigned_to(serial: &str, user: Option<&str>, arn: &str) -> VirtualMfaDevice {
    let mut u = SdkUser::builder()
        .path("/")
        .user_id("AIDA")
        .arn(arn)
        .create_date(DateTime::from_secs(1));
    u = u.user_name(user.unwrap_or_default());
    VirtualMfaDevice::builder()
        .serial_number(serial)
        .user(u.build().expect("user"))
        .build()
        .expect("device")
}

#[tokio::test]
async fn a_device_that_is_not_the_users_says_whose_it_is() {
    let view = UserDevices {
        account: ACCOUNT.into(),
        alias: None,
        user: "alice".into(),
        devices: vec![tagged(DEVICE, "12345678")],
        tags_denied: false,
    };
    let arn = |s: &str| DeviceArn::parse(s).expect("arn");
    let bobs = "arn:aws:iam::123456789012:mfa/bob-yk1";
    let roots = "arn:aws:iam::123456789012:mfa/root-key";
    let free = "arn:aws:iam::123456789012:mfa/leftover";
    let list = virtual_devices(vec![
        assigned_to(bobs, Some("bob"), "arn:aws:iam::123456789012:user/bob"),
        assigned_to(roots, None, "arn:aws:iam::123456789012:root"),
        VirtualMfaDevice::builder()
            .serial_number(free)
            .build()
            .expect("device"),
    ]);
    let dir = sdk(&[&list]);
    assert!(check_device(&view, &dir, &arn(DEVICE)).await.is_ok());
    let refused = |r: Refusal| r;
    let r = refused(
        check_device(&view, &dir, &arn(bobs))
            .await
            .expect_err("bob's"),
    );
    assert_eq!(
        r.to_string(),
        format!("{bobs} is not alice's: it is assigned to IAM user bob")
    );
    let r = refused(
        check_device(&view, &dir, &arn(roots))
            .await
            .expect_err("root's"),
    );
    assert!(matches!(r, Refusal::RootsDevice { .. }), "{r:?}");
    let r = refused(
        check_device(&view, &dir, &arn(free))
            .await
            .expect_err("free"),
    );
    assert!(matches!(r, Refusal::Unassigned { .. }), "{r:?}");
    let r = refused(
        check_device(&view, &dir, &arn("arn:aws:iam::123456789012:mfa/nothing"))
            .await
            .expect_err("unknown"),
    );
    assert!(matches!(r, Refusal::UnknownDevice(_)), "{r:?}");
    let r = refused(
        check_device(
            &view,
            &dir,
            &arn("arn:aws:iam::210987654321:mfa/alice-yk12345678"),
        )
        .await
        .expect_err("other account"),
    );
    assert!(
        r.to_string().contains(
            "is in account 210987654321, but these credentials are for account 123456789012"
        ),
        "{r}"
    );

    let denied = mock!(Iam::list_virtual_mfa_devices)
        .sequence()
        .http_status(403, Some(error_xml("AccessDenied", "no")))
        .build();
    let r = refused(
        check_device(&view, &sdk(&[&denied]), &arn(bobs))
            .await
            .expect_err("can't tell"),
    );
    assert!(matches!(r, Refusal::NotUsersDevice { .. }), "{r:?}");
}

// ---- the steps ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivate_then_delete_then_the_credential() {
    let (deactivate, delete) = (deactivate_ok(), delete_ok());
    let dir = sdk(&[&deactivate, &delete]);
    let mut card = FakeCard::for_removal();
    let progress = Recorder::default();
    let done = revoke(
        &dir,
        Some(&mut card),
        &plan(2, delete_label()),
        &progress,
        &Cancel::default(),
    )
    .await
    .expect("revoked");
    assert_eq!(deactivate.num_calls(), 1);
    assert_eq!(delete.num_calls(), 1);
    assert_eq!(*card.deleted(), [LABEL.as_bytes().to_vec()]);
    assert!(done.deactivated && done.deleted);
    assert_eq!(done.devices_left, 1);
    assert!(matches!(done.credential, CredentialOutcome::Deleted { .. }));
    let events = progress.events().join("\n");
    let order = ["Deactivating", "Deleting(", "DeletingCredential"]
        .map(|e| events.find(e).unwrap_or(usize::MAX));
    assert!(order[0] < order[1] && order[1] < order[2], "{events}");
    assert_eq!(
        dir.calls(),
        vec![
            ("iam:DeactivateMFADevice", 1),
            ("iam:DeleteVirtualMFADevice", 1)
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_deactivation_changes_nothing() {
    let (deactivate, delete) = (error_rule_deactivate(403, "AccessDenied"), delete_ok());
    let dir = sdk(&[&deactivate, &delete]);
    let mut card = FakeCard::for_removal();
    let f = revoke(
        &dir,
        Some(&mut card),
        &plan(2, delete_label()),
        &Quiet,
        &Cancel::default(),
    )
    .await
    .expect_err("denied");
    assert!(
        matches!(
            f.cause,
            Cause::Iam {
                step: Step::Deactivate,
                error: IamError::AccessDenied { .. }
            }
        ),
        "{:?}",
        f.cause
    );
    assert!(f.done.is_empty() && f.leftovers.is_empty());
    assert_eq!(delete.num_calls(), 0);
    assert!(card.deleted().is_empty(), "the credential is kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_deactivation_answer_is_checked_with_the_list() {
    // The first answer is lost (500), the SDK's retry finds the device unassigned.
    let deactivate = mock!(Iam::deactivate_mfa_device)
        .sequence()
        .http_status(500, Some(error_xml("ServiceFailure", "lost")))
        .http_status(404, Some(error_xml("NoSuchEntity", "not assigned")))
        .build();
    let (list, delete) = (listed(&[BACKUP]), delete_ok());
    let dir = sdk(&[&deactivate, &list, &delete]);
    let mut card = FakeCard::for_removal();
    let progress = Recorder::default();
    let done = revoke(
        &dir,
        Some(&mut card),
        &plan(2, delete_label()),
        &progress,
        &Cancel::default(),
    )
    .await
    .expect("revoked");
    assert!(done.deactivated && done.deleted);
    assert!(progress
        .events()
        .iter()
        .any(|e| e.starts_with("AlreadyDeactivated")));

    // Still listed: it was not deactivated, nothing changed.
    let deactivate = error_rule_deactivate(404, "NoSuchEntity");
    let (list, delete) = (listed(&[DEVICE, BACKUP]), delete_ok());
    let dir = sdk(&[&deactivate, &list, &delete]);
    let f = revoke(
        &dir,
        Some(&mut FakeCard::for_removal()),
        &plan(2, delete_label()),
        &Quiet,
        &Cancel::default(),
    )
    .await
    .expect_err("still assigned");
    assert!(f.leftovers.is_empty() && f.done.is_empty(), "{f:?}");
    assert_eq!(delete.num_calls(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_deactivation_outcome_that_cannot_be_checked_is_named() {
    let deactivate = error_rule_deactivate(500, "ServiceFailure");
    let list = mock!(Iam::list_mfa_devices)
        .sequence()
        .http_status(403, Some(error_xml("AccessDenied", "no")))
        .build();
    let dir = sdk(&[&deactivate, &list]);
    let f = revoke(
        &dir,
        Some(&mut FakeCard::for_removal()),
        &plan(2, delete_label()),
        &Quiet,
        &Cancel::default(),
    )
    .await
    .expect_err("unknown");
    assert!(f.done.is_empty());
    assert!(
        matches!(&f.leftovers[0], Leftover::Device { assigned_to: Some(u), reason, .. }
            if u == "alice" && reason.contains("may or may not")),
        "{:?}",
        f.leftovers
    );
    assert!(matches!(&f.leftovers[1], Leftover::Credential { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_delete_leaves_the_unassigned_device_and_keeps_the_credential() {
    let deactivate = deactivate_ok();
    let delete = mock!(Iam::delete_virtual_mfa_device)
        .sequence()
        .http_status(
            403,
            Some(error_xml("AccessDenied", "not allowed to delete")),
        )
        .build();
    let dir = sdk(&[&deactivate, &delete]);
    let mut card = FakeCard::for_removal();
    let f = revoke(
        &dir,
        Some(&mut card),
        &plan(2, delete_label()),
        &Quiet,
        &Cancel::default(),
    )
    .await
    .expect_err("delete denied");
    assert_eq!(f.done, [Step::Deactivate]);
    assert!(matches!(
        f.cause,
        Cause::Iam {
            step: Step::Delete,
            ..
        }
    ));
    assert_eq!(f.leftovers.len(), 2, "{:?}", f.leftovers);
    assert!(
        matches!(&f.leftovers[0], Leftover::Device { serial, assigned_to: None, reason }
            if serial == DEVICE && reason.contains("not allowed to delete")),
        "{:?}",
        f.leftovers
    );
    assert!(matches!(&f.leftovers[1], Leftover::Credential { name, .. } if name == LABEL));
    assert!(card.deleted().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_conflict_right_after_deactivation_is_waited_out() {
    let deactivate = deactivate_ok();
    let delete = mock!(Iam::delete_virtual_mfa_device)
        .sequence()
        .http_status(409, Some(error_xml("DeleteConflict", "in use")))
        .times(2)
        .output(|| DeleteVirtualMfaDeviceOutput::builder().build())
        .build();
    let dir = sdk(&[&deactivate, &delete]);
    let done = revoke(
        &dir,
        Some(&mut FakeCard::for_removal()),
        &plan(2, delete_label()),
        &Quiet,
        &Cancel::default(),
    )
    .await
    .expect("revoked");
    assert!(done.deleted);
    assert_eq!(delete.num_calls(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_credential_delete_is_named_with_its_token() {
    let (deactivate, delete) = (deactivate_ok(), delete_ok());
    let dir = sdk(&[&deactivate, &delete]);
    let mut card = FakeCard::for_removal();
    card.fail_deletes(|| oath::Error::Locked);
    let f = revoke(
        &dir,
        Some(&mut card),
        &plan(2, delete_label()),
        &Quiet,
        &Cancel::default(),
    )
    .await
    .expect_err("card refused");
    assert_eq!(f.done, [Step::Deactivate, Step::Delete]);
    assert_eq!(
        f.leftovers,
        [Leftover::Credential {
            name: LABEL.into(),
            token_serial: Some(Serial(12_345_678)),
            token: "YubiKey 12345678".into(),
            reason: "not deleted: the OATH application is password protected".into(),
        }]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_between_steps_and_names_what_remains() {
    let (deactivate, delete) = (deactivate_ok(), delete_ok());
    let dir = sdk(&[&deactivate, &delete]);
    let cancel = Cancel::default();
    let progress = Recorder::default();
    progress.cancel_when("Deactivating", &cancel);
    let f = revoke(
        &dir,
        Some(&mut FakeCard::for_removal()),
        &plan(2, delete_label()),
        &progress,
        &cancel,
    )
    .await
    .expect_err("interrupted");
    assert!(matches!(f.cause, Cause::Interrupted));
    assert_eq!(f.done, [Step::Deactivate], "the step in flight finishes");
    assert_eq!(delete.num_calls(), 0);
    assert!(matches!(
        &f.leftovers[0],
        Leftover::Device {
            assigned_to: None,
            ..
        }
    ));
    assert!(matches!(&f.leftovers[1], Leftover::Credential { .. }));

    // Before anything: nothing changed, nothing remains.
    let cancel = Cancel::default();
    cancel.cancel();
    let f = revoke(
        &dir,
        Some(&mut FakeCard::for_removal()),
        &plan(2, delete_label()),
        &Quiet,
        &cancel,
    )
    .await
    .expect_err("interrupted");
    assert!(f.done.is_empty() && f.leftovers.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credential_that_stays_is_reported_not_touched() {
    let (deactivate, delete) = (deactivate_ok(), delete_ok());
    let dir = sdk(&[&deactivate, &delete]);
    let remains = CredentialPlan::Remains {
        name: Some(LABEL.into()),
        token_serial: Some(Serial(12_345_678)),
    };
    let done = revoke::<_, FakeCard>(&dir, None, &plan(2, remains), &Quiet, &Cancel::default())
        .await
        .expect("revoked");
    assert_eq!(
        done.credential,
        CredentialOutcome::Remains {
            name: Some(LABEL.into()),
            token_serial: Some(Serial(12_345_678))
        }
    );
    let json = serde_json::to_value(&done).expect("json");
    assert_eq!(json["credential"]["state"], "remains");
    assert_eq!(json["principal"]["kind"], "user");
    let left = done.remaining().expect("a credential remains");
    let command = crate::mfa::remedy::ykman_delete(LABEL, Some(Serial(12_345_678)));
    assert_eq!(left.command.as_deref(), Some(command.as_str()));
    let json = serde_json::to_value(&left).expect("json");
    assert_eq!(json["kind"], "credential");
    assert_eq!(json["token_serial"], 12_345_678);
}

// ---- root ----

const MEMBER: &str = "111111111111";
const ROOT_DEVICE: &str = "arn:aws:iam::111111111111:mfa/root-yk";

fn root_listed(serials: &'static [&'static str]) -> Rule {
    mock!(Iam::list_mfa_devices)
        .match_requests(|i| i.user_name().is_none())
        .then_output(move || {
            ListMfaDevicesOutput::builder()
                .set_mfa_devices(Some(
                    serials
                        .iter()
                        .map(|s| {
                            SdkMfaDevice::builder()
                                .user_name("")
                                .serial_number(*s)
                                .enable_date(DateTime::from_secs(1))
                                .build()
                                .expect("device")
                        })
                        .collect(),
                ))
                .build()
                .expect("list")
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_plans_and_refusals() {
    let none = root_listed(&[]);
    let err = root_plan(&sdk(&[&none]), MEMBER, None)
        .await
        .expect_err("none");
    assert!(
        matches!(err, Cause::Refused(Refusal::NoRootMfa(ref a)) if a == MEMBER),
        "{err:?}"
    );

    let two = root_listed(&[ROOT_DEVICE, "arn:aws:iam::111111111111:mfa/root-backup"]);
    let err = root_plan(&sdk(&[&two]), MEMBER, None)
        .await
        .expect_err("two");
    assert!(
        matches!(err, Cause::Refused(Refusal::SeveralRootDevices { .. })),
        "{err:?}"
    );
    let named = DeviceArn::parse(ROOT_DEVICE).expect("arn");
    let p = root_plan(&sdk(&[&two]), MEMBER, Some(&named))
        .await
        .expect("named");
    assert!(p.assigned && !p.removes_last());

    let one = root_listed(&[ROOT_DEVICE]);
    let p = root_plan(&sdk(&[&one]), MEMBER, None).await.expect("one");
    assert_eq!(p.principal, Principal::Root);
    assert_eq!(p.device, ROOT_DEVICE);
    assert!(p.removes_last());
    let err = p.check_last(false).expect_err("last");
    assert!(
        err.to_string().contains("last MFA device of the root user"),
        "{err}"
    );

    let foreign = DeviceArn::parse("arn:aws:iam::222222222222:mfa/x").expect("arn");
    let err = root_plan(&sdk(&[&one]), MEMBER, Some(&foreign))
        .await
        .expect_err("foreign");
    assert!(
        matches!(err, Cause::Refused(Refusal::OtherAccount { .. })),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_devices_are_deactivated_without_a_user_name() {
    let list = root_listed(&[ROOT_DEVICE]);
    let deactivate = mock!(Iam::deactivate_mfa_device)
        .match_requests(|i| i.user_name().is_none() && i.serial_number() == Some(ROOT_DEVICE))
        .then_output(|| DeactivateMfaDeviceOutput::builder().build());
    let delete = mock!(Iam::delete_virtual_mfa_device)
        .match_requests(|i| i.serial_number() == Some(ROOT_DEVICE))
        .then_output(|| DeleteVirtualMfaDeviceOutput::builder().build());
    let dir = sdk(&[&list, &deactivate, &delete]);
    let p = root_plan(&dir, MEMBER, None).await.expect("plan");
    let done = revoke::<_, FakeCard>(&dir, None, &p, &Quiet, &Cancel::default())
        .await
        .expect("revoked");
    assert_eq!(deactivate.num_calls(), 1);
    assert_eq!(delete.num_calls(), 1);
    assert_eq!(done.devices_left, 0);
    assert_eq!(done.credential, CredentialOutcome::NotLookedFor);
    assert_eq!(
        serde_json::to_value(&done).expect("json")["principal"]["kind"],
        "root"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finishing_a_root_revocation_deletes_only_and_refuses_what_is_not_roots() {
    let list = root_listed(&[]);
    let named = DeviceArn::parse(ROOT_DEVICE).expect("arn");
    let delete = mock!(Iam::delete_virtual_mfa_device)
        .then_output(|| DeleteVirtualMfaDeviceOutput::builder().build());
    let deactivate = deactivate_ok();
    let dir = sdk(&[&list, &delete, &deactivate]);
    let p = root_plan(&dir, MEMBER, Some(&named)).await.expect("plan");
    assert!(!p.assigned);
    let done = revoke::<_, FakeCard>(&dir, None, &p, &Quiet, &Cancel::default())
        .await
        .expect("deleted");
    assert!(!done.deactivated && done.deleted);
    assert_eq!(deactivate.num_calls(), 0);

    let missing = mock!(Iam::delete_virtual_mfa_device)
        .sequence()
        .http_status(404, Some(error_xml("NoSuchEntity", "no device")))
        .build();
    let f = revoke::<_, FakeCard>(&sdk(&[&missing]), None, &p, &Quiet, &Cancel::default())
        .await
        .expect_err("unknown");
    assert!(
        matches!(f.cause, Cause::Refused(Refusal::UnknownDevice(_))),
        "{:?}",
        f.cause
    );
    assert!(f.leftovers.is_empty());

    let in_use = mock!(Iam::delete_virtual_mfa_device)
        .sequence()
        .http_status(409, Some(error_xml("DeleteConflict", "in use")))
        .build();
    let f = revoke::<_, FakeCard>(&sdk(&[&in_use]), None, &p, &Quiet, &Cancel::default())
        .await
        .expect_err("a user's");
    assert!(
        matches!(f.cause, Cause::Refused(Refusal::AssignedElsewhere { .. })),
        "{:?}",
        f.cause
    );
    assert_eq!(
        in_use.num_calls(),
        1,
        "no waiting: this run deactivated nothing"
    );
}

fn root_plan_of(devices_before: usize, assigned: bool) -> Plan {
    Plan {
        account: MEMBER.into(),
        principal: Principal::Root,
        device: ROOT_DEVICE.into(),
        assigned,
        devices_before,
        credential: CredentialPlan::NotLookedFor,
    }
}

#[test]
fn the_root_credential_is_found_by_its_names_only_for_roots_one_device() {
    let enrolled = "Amazon Web Services:root@111111111111";
    let console = "Amazon Web Services:root-account-mfa-device@111111111111";
    let other_account = "Amazon Web Services:root@222222222222";
    assert_eq!(root_labels(MEMBER), [enrolled, console]);
    let one = root_plan_of(1, true);

    // ykmfa's name, or the console's, on a connected token: deleted.
    for name in [enrolled, console] {
        let tokens = [
            token(1, "r1", Some(&[other_account, LABEL])),
            token(2, "r2", Some(&[name])),
        ];
        match root_credential(&one, &tokens, false) {
            Ok(CredentialPlan::Delete {
                name: n,
                token,
                raw_id,
            }) => {
                assert_eq!(
                    (n.as_str(), token.serial, raw_id),
                    (name, Some(Serial(2)), name.as_bytes().to_vec())
                );
            }
            other => panic!("{other:?}"),
        }
    }
    // Finishing an earlier run (deactivated, not deleted): the same.
    assert!(matches!(
        root_credential(
            &root_plan_of(0, false),
            &[token(2, "r2", Some(&[enrolled]))],
            false
        ),
        Ok(CredentialPlan::Delete { .. })
    ));
    // Nowhere: named as enroll --root names it, on a token ykmfa can't name.
    assert_eq!(
        root_credential(&one, &[token(1, "r1", Some(&[other_account]))], false),
        Ok(CredentialPlan::Remains {
            name: Some(enrolled.into()),
            token_serial: None
        })
    );
    // Only a name like root's (another issuer's spelling): not the console's or ykmfa's, so it
    // is never planned for deletion.
    assert_eq!(
        root_credential(
            &one,
            &[token(1, "r1", Some(&["AWS:root@111111111111"]))],
            false
        ),
        Ok(CredentialPlan::Remains {
            name: Some(enrolled.into()),
            token_serial: None
        })
    );
    // A locked token may hold it.
    assert!(matches!(
        root_credential(&one, &[token(1, "r1", Some(&[])), token(2, "r2", None)], false),
        Err(Refusal::TokenLocked { ref tokens, .. }) if tokens.len() == 1 && tokens[0].serial == Some(Serial(2))
    ));
    // Two candidates: never guessed.
    let two = [
        token(1, "r1", Some(&[enrolled])),
        token(2, "r2", Some(&[console])),
    ];
    assert!(matches!(
        root_credential(&one, &two, false),
        Err(Refusal::SeveralRootCredentials { ref candidates, .. }) if candidates.len() == 2
    ));
    // Root keeps another device: its credential may carry the same name, so nothing is touched.
    assert_eq!(
        root_credential(
            &root_plan_of(2, true),
            &[token(1, "r1", Some(&[enrolled]))],
            false
        ),
        Ok(CredentialPlan::NotLookedFor)
    );
    // --keep-credential names what it keeps, when it is one.
    assert_eq!(
        root_credential(&one, &[token(1, "r1", Some(&[enrolled]))], true),
        Ok(CredentialPlan::Keep {
            name: Some(enrolled.into()),
            token_serial: Some(Serial(1))
        })
    );
    assert_eq!(
        root_credential(&one, &two, true),
        Ok(CredentialPlan::Keep {
            name: None,
            token_serial: None
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_root_revocation_deletes_the_root_credential_last() {
    let deactivate = mock!(Iam::deactivate_mfa_device)
        .match_requests(|i| i.user_name().is_none() && i.serial_number() == Some(ROOT_DEVICE))
        .then_output(|| DeactivateMfaDeviceOutput::builder().build());
    let delete = mock!(Iam::delete_virtual_mfa_device)
        .match_requests(|i| i.serial_number() == Some(ROOT_DEVICE))
        .then_output(|| DeleteVirtualMfaDeviceOutput::builder().build());
    let dir = sdk(&[&deactivate, &delete]);
    let mut plan = root_plan_of(1, true);
    plan.credential = root_credential(
        &plan,
        &[token(
            12_345_678,
            "r1",
            Some(&["Amazon Web Services:root@111111111111"]),
        )],
        false,
    )
    .expect("found");
    let mut card = FakeCard::for_removal();
    let done = revoke(&dir, Some(&mut card), &plan, &Quiet, &Cancel::default())
        .await
        .expect("revoked");
    assert!(done.deactivated && done.deleted);
    assert!(
        matches!(done.credential, CredentialOutcome::Deleted { ref name, .. } if name == "Amazon Web Services:root@111111111111")
    );
    assert_eq!(deactivate.num_calls(), 1);
    assert_eq!(delete.num_calls(), 1);
    assert_eq!(
        card.deleted(),
        [b"Amazon Web Services:root@111111111111".to_vec()]
    );
}
