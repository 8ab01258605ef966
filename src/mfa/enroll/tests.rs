//! The enrollment transaction against the in-memory fakes of `crate::mfa::fakes`, which fail on
//! command: an IAM account ([`FakeDirectory`]), a token ([`FakeCard`]), a clock and a progress
//! recorder.
//!
//! Every test looks at what is left in both fakes, not only at the error: rule 2 of the design
//! ("nothing is half-done") is about the state of IAM and of the token after a failure.

use std::time::SystemTime;

use super::*;
use crate::iam::User;
use crate::mfa::fakes::{
    arn, card_removed, denied, lock, service_failure, timeout, totp, undone_assignment,
    undone_credential, undone_device, Action, FakeCard, FakeClock, World, WriteStage, ACCOUNT, ARN,
    DEVICE, LABEL, T0, TOKEN_SERIAL,
};
use crate::mfa::labels::AWS_ISSUER;
use crate::token::Serial;
use crate::transport::TransportError;

// ---------------------------------------------------------------------------------------------
// The whole transaction

#[tokio::test(flavor = "multi_thread")]
async fn enrolls_with_the_codes_of_the_previous_and_current_step() {
    let w = World::new();
    let plan = w.plan().await;
    assert_eq!(plan.device_name, DEVICE);
    assert_eq!(plan.credential, LABEL);
    assert_eq!(plan.devices_before, 0);
    let done = w.enroll(&plan).await.expect("enrolled");

    assert_eq!(done.device_serial, ARN);
    assert_eq!(done.user, "alice");
    assert_eq!(done.credential, LABEL);
    assert_eq!(done.token_serial, Some(Serial(TOKEN_SERIAL)));
    assert!(done.tagged);
    assert!(!done.waited_for_fresh_codes);

    // IAM: one device, assigned to alice, with ykmfa's tags.
    assert_eq!(w.dir.serials(), [ARN]);
    let device = w.dir.device(ARN).expect("device");
    assert_eq!(device.user.as_deref(), Some("alice"));
    let tag = |k: &str| {
        device
            .tags
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(tag(TAG_CREDENTIAL), Some(LABEL));
    assert_eq!(tag(TAG_TOKEN_SERIAL), Some("12345678"));
    assert_eq!(tag(TAG_TOKEN_KIND), Some("YubiKey"));

    // The token: the credential, holding the device's seed, no touch.
    assert_eq!(w.card.names(), [LABEL]);
    assert_eq!(w.card.key(LABEL).as_deref(), Some(device.seed.as_slice()));
    assert_eq!(w.card.touch(LABEL), Some(false));

    // Exactly two IAM writes, and the codes were those of steps T-1 and T.
    assert_eq!(w.dir.writes(), [Action::Create, Action::Enable]);
    let t = T0 / 30;
    assert_eq!(
        w.dir.args_of(Action::Enable),
        [vec![
            "alice".to_owned(),
            ARN.to_owned(),
            totp(&device.seed, t - 1),
            totp(&device.seed, t),
        ]]
    );
    assert!(!w.card.did("calculate"), "no code beyond the write's two");
    assert!(!w.progress.saw("WaitingForStep"));
    assert!(!w.progress.saw("RollingBack"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_create_changes_nothing() {
    let w = World::new();
    let plan = w.plan().await;
    w.dir.fail(Action::Create, 1, denied(Action::Create));
    let failure = w.fail(&plan).await;

    assert!(matches!(
        failure.cause,
        Cause::Iam {
            step: Step::Create,
            error: IamError::AccessDenied { .. }
        }
    ));
    assert!(failure.undone.is_empty());
    assert!(failure.leftovers.is_empty());
    w.assert_untouched();
    assert_eq!(w.dir.writes(), [Action::Create]);
    assert!(!w.card.did("write"));
    assert!(!w.progress.saw("RollingBack"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timed_out_create_is_undone_by_arn_whether_or_not_it_happened() {
    for took_effect in [true, false] {
        let w = World::new();
        let plan = w.plan().await;
        if took_effect {
            w.dir
                .fail_after_effect(Action::Create, 1, timeout(Action::Create));
        } else {
            w.dir.fail(Action::Create, 1, timeout(Action::Create));
        }
        let failure = w.fail(&plan).await;

        assert!(
            matches!(
                failure.cause,
                Cause::Iam {
                    step: Step::Create,
                    error: IamError::Timeout { .. }
                }
            ),
            "{took_effect}: {:?}",
            failure.cause
        );
        assert_eq!(failure.undone, [undone_device(ARN)], "{took_effect}");
        assert!(failure.leftovers.is_empty(), "{took_effect}");
        w.assert_untouched();
        assert_eq!(w.dir.writes(), [Action::Create, Action::Delete]);
        assert_eq!(w.dir.args_of(Action::Delete), [vec![ARN.to_owned()]]);
        assert!(!w.card.did("write"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_refused_before_put_undoes_only_the_device() {
    let w = World::new();
    let plan = w.plan().await;
    w.card
        .fail_write(WriteStage::BeforePut, || oath::Error::Locked);
    let failure = w.fail(&plan).await;

    assert!(matches!(
        failure.cause,
        Cause::Card {
            step: Step::Write,
            error: oath::Error::Locked
        }
    ));
    assert_eq!(failure.undone, [undone_device(ARN)]);
    assert!(failure.leftovers.is_empty());
    w.assert_untouched();
    assert!(
        !w.card.did("delete"),
        "nothing was written, nothing to delete"
    );
    assert_eq!(w.dir.writes(), [Action::Create, Action::Delete]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_credential_that_appeared_since_preflight_is_neither_overwritten_nor_deleted() {
    let w = World::new();
    let plan = w.plan().await;
    w.card.add(LABEL);
    let failure = w.fail(&plan).await;

    assert!(matches!(
        failure.cause,
        Cause::Card {
            step: Step::Write,
            error: oath::Error::CredentialExists(_)
        }
    ));
    assert_eq!(failure.undone, [undone_device(ARN)]);
    assert!(w.dir.serials().is_empty());
    assert_eq!(
        w.card.key(LABEL).as_deref(),
        Some(&b"someone else's seed"[..])
    );
    assert!(!w.card.did("delete"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_failing_after_put_deletes_the_credential() {
    let w = World::new();
    let plan = w.plan().await;
    w.card.fail_write(WriteStage::AfterPut, || {
        oath::Error::Malformed("answer cut short")
    });
    let failure = w.fail(&plan).await;

    assert!(matches!(
        failure.cause,
        Cause::Card {
            step: Step::Write,
            error: oath::Error::Malformed(_)
        }
    ));
    assert_eq!(failure.undone, [undone_device(ARN), undone_credential()]);
    assert!(failure.leftovers.is_empty());
    w.assert_untouched();
    assert!(w.card.did(&format!("delete {LABEL}")));
    assert_eq!(w.dir.writes(), [Action::Create, Action::Delete]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_calculate_deletes_the_credential() {
    let errors: [(fn() -> oath::Error, bool); 2] = [
        (|| oath::Error::TouchTimeout, true),
        (
            || oath::Error::Malformed("truncated response is not 5 bytes"),
            false,
        ),
    ];
    for stage in [WriteStage::Calculate1, WriteStage::Calculate2] {
        for (error, is_touch) in errors {
            let w = World::new();
            let plan = w.plan().await;
            w.card.fail_write(stage, error);
            let failure = w.fail(&plan).await;

            let Cause::Card { step, error } = &failure.cause else {
                panic!("{stage:?}: {:?}", failure.cause);
            };
            if is_touch {
                assert_eq!(*step, Step::Calculate, "{stage:?}");
                assert!(matches!(error, oath::Error::TouchTimeout));
            }
            assert_eq!(
                failure.undone,
                [undone_device(ARN), undone_credential()],
                "{stage:?}"
            );
            assert!(failure.leftovers.is_empty(), "{stage:?}");
            w.assert_untouched();
            assert_eq!(
                w.dir.writes(),
                [Action::Create, Action::Delete],
                "{stage:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_enable_deletes_credential_and_device() {
    let w = World::new();
    let plan = w.plan().await;
    w.dir.fail(Action::Enable, 1, denied(Action::Enable));
    let failure = w.fail(&plan).await;

    assert!(matches!(
        failure.cause,
        Cause::Iam {
            step: Step::Enable,
            error: IamError::AccessDenied { .. }
        }
    ));
    assert_eq!(failure.undone, [undone_device(ARN), undone_credential()]);
    assert!(failure.leftovers.is_empty());
    w.assert_untouched();
    assert_eq!(
        w.dir.writes(),
        [Action::Create, Action::Enable, Action::Delete],
        "a definite refusal needs no deactivation"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timed_out_enable_is_deactivated_then_deleted() {
    for took_effect in [true, false] {
        let w = World::new();
        let plan = w.plan().await;
        if took_effect {
            w.dir
                .fail_after_effect(Action::Enable, 1, timeout(Action::Enable));
        } else {
            w.dir.fail(Action::Enable, 1, timeout(Action::Enable));
        }
        let failure = w.fail(&plan).await;

        assert!(matches!(
            failure.cause,
            Cause::Iam {
                step: Step::Enable,
                error: IamError::Timeout { .. }
            }
        ));
        // A deactivation of what was never assigned (NoSuchEntity) proves nothing and is not
        // reported; the device's deletion is the proof the credential waits for.
        let expected: &[String] = if took_effect {
            &[undone_assignment(), undone_device(ARN), undone_credential()]
        } else {
            &[undone_device(ARN), undone_credential()]
        };
        assert_eq!(failure.undone, expected, "{took_effect}");
        assert!(failure.leftovers.is_empty(), "{took_effect}");
        w.assert_untouched();
        assert_eq!(
            w.dir.writes(),
            [
                Action::Create,
                Action::Enable,
                Action::Deactivate,
                Action::Delete
            ],
            "{took_effect}"
        );
    }
}

/// The enable answers 500 but lands later: after the undo's deactivation said NoSuchEntity,
/// just before the device's deletion. The deletion's DeleteConflict is taken for what it is
/// ("assigned"): deactivate again, delete, and only then the credential.
#[tokio::test(flavor = "multi_thread")]
async fn an_enable_that_lands_after_the_deactivation_is_undone_in_order() {
    let w = World::new();
    let plan = w.plan().await;
    w.dir
        .fail(Action::Enable, 1, service_failure(Action::Enable));
    w.dir.assign_on_call(Action::Delete, 1, ARN, "alice");
    let failure = w.fail(&plan).await;
    assert!(failure.leftovers.is_empty(), "{:?}", failure.leftovers);
    assert_eq!(
        failure.undone,
        [undone_assignment(), undone_device(ARN), undone_credential()]
    );
    w.assert_untouched();
    assert_eq!(
        w.dir.writes(),
        [
            Action::Create,
            Action::Enable,
            Action::Deactivate,
            Action::Delete,
            Action::Deactivate,
            Action::Delete
        ]
    );
}

/// The same late enable, and IAM then refuses every deactivation: the device stays assigned, so
/// its credential, the only copy of the seed, stays too, and the commands come in an order that
/// works (deactivate, delete, then the credential).
#[tokio::test(flavor = "multi_thread")]
async fn a_late_enable_that_cannot_be_undone_keeps_the_credential() {
    let w = World::new();
    let plan = w.plan().await;
    w.dir
        .fail(Action::Enable, 1, service_failure(Action::Enable));
    w.dir.assign_on_call(Action::Deactivate, 1, ARN, "alice");
    w.dir
        .fail_always(Action::Deactivate, denied(Action::Deactivate));
    let failure = w.fail(&plan).await;
    let device = w.dir.device(ARN).expect("device");
    assert_eq!(device.user.as_deref(), Some("alice"));
    assert_eq!(
        w.card.key(LABEL),
        Some(device.seed),
        "never deleted while assigned"
    );
    assert!(!w.card.did("delete"));
    assert!(matches!(
        failure.leftovers.as_slice(),
        [
            Leftover::Device {
                assigned_to: Some(_),
                ..
            },
            Leftover::Credential { .. }
        ]
    ));
}

/// A credential replaced under the same name between the write and the undo is not ykmfa's: the
/// token can't prove it is, so it stays.
#[tokio::test(flavor = "multi_thread")]
async fn a_credential_replaced_before_the_undo_is_kept() {
    let w = World::new();
    let plan = w.plan().await;
    let card = w.card.clone();
    w.dir.on_call(Action::Enable, 1, move || {
        card.add(LABEL);
    });
    w.dir.fail(Action::Enable, 1, denied(Action::Enable));
    let failure = w.fail(&plan).await;
    assert_eq!(w.dir.serials(), Vec::<String>::new());
    assert_eq!(w.card.names(), [LABEL]);
    assert!(failure.leftovers.is_empty(), "{:?}", failure.leftovers);
    assert!(
        failure.undone.iter().any(|u| u.contains("another secret")),
        "{:?}",
        failure.undone
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_confirmation_undoes_everything() {
    let w = World::new();
    let plan = w.plan().await;
    w.dir.fail(
        Action::ListMfaDevices,
        1,
        service_failure(Action::ListMfaDevices),
    );
    let failure = w.fail(&plan).await;

    assert!(matches!(
        failure.cause,
        Cause::Iam {
            step: Step::Confirm,
            error: IamError::ServiceFailure { .. }
        }
    ));
    assert_eq!(
        failure.undone,
        [undone_assignment(), undone_device(ARN), undone_credential()]
    );
    assert!(failure.leftovers.is_empty());
    w.assert_untouched();
    assert_eq!(
        w.dir.writes(),
        [
            Action::Create,
            Action::Enable,
            Action::Deactivate,
            Action::Delete
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_device_never_listed_after_enabling_is_undone() {
    let w = World::new();
    let plan = w.plan().await;
    w.dir.lag_listing();
    let failure = w.fail(&plan).await;

    assert!(
        matches!(&failure.cause, Cause::NotConfirmed(user) if user == "alice"),
        "{:?}",
        failure.cause
    );
    assert_eq!(
        failure.undone,
        [undone_assignment(), undone_device(ARN), undone_credential()]
    );
    assert!(failure.leftovers.is_empty());
    w.assert_untouched();
    // Asked once in preflight, then retried with backoff.
    assert_eq!(w.dir.args_of(Action::ListMfaDevices).len(), 1 + 5);
}

// ---------------------------------------------------------------------------------------------
// Cancellation

#[tokio::test(flavor = "multi_thread")]
async fn cancelled_during_the_write_undoes_everything() {
    let w = World::new();
    let plan = w.plan().await;
    w.card.cancel_on_write(&w.cancel);
    let failure = w.fail(&plan).await;

    assert!(matches!(failure.cause, Cause::Interrupted));
    assert_eq!(failure.undone, [undone_device(ARN), undone_credential()]);
    assert!(failure.leftovers.is_empty());
    w.assert_untouched();
    assert_eq!(w.dir.writes(), [Action::Create, Action::Delete]);
    assert!(w.progress.saw("RollingBack"));
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelled_during_enable_undoes_everything() {
    let w = World::new();
    let plan = w.plan().await;
    let cancel = w.cancel.clone();
    w.dir.on_call(Action::Enable, 1, move || cancel.cancel());
    let failure = w.fail(&plan).await;

    assert!(
        matches!(failure.cause, Cause::Interrupted),
        "{:?}",
        failure.cause
    );
    assert_eq!(
        failure.undone,
        [undone_assignment(), undone_device(ARN), undone_credential()]
    );
    assert!(failure.leftovers.is_empty());
    w.assert_untouched();
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelled_while_waiting_for_a_fresh_step_undoes_everything() {
    let w = World::with_clock(FakeClock::advancing(T0, 10));
    let plan = w.plan().await;
    w.dir.fail(
        Action::Enable,
        1,
        IamError::InvalidAuthenticationCode {
            action: Action::Enable.name(),
            message: "not valid".into(),
        },
    );
    w.progress.cancel_when("WaitingForStep", &w.cancel);
    let failure = w.fail(&plan).await;

    assert!(matches!(failure.cause, Cause::Interrupted));
    assert_eq!(failure.undone, [undone_device(ARN), undone_credential()]);
    assert!(failure.leftovers.is_empty());
    w.assert_untouched();
    assert_eq!(w.dir.args_of(Action::Enable).len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelled_before_anything_changes_nothing() {
    let w = World::new();
    let plan = w.plan().await;
    w.cancel.cancel();
    let failure = w.fail(&plan).await;

    assert!(matches!(failure.cause, Cause::Interrupted));
    assert!(failure.undone.is_empty());
    w.assert_untouched();
    assert!(w.dir.writes().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Undos that fail, and the next run

#[tokio::test(flavor = "multi_thread")]
async fn a_denied_delete_leaves_the_device_and_the_next_run_removes_it() {
    let w = World::new();
    let plan = w.plan().await;
    w.dir.fail(
        Action::Enable,
        1,
        IamError::LimitExceeded {
            action: "iam:EnableMFADevice",
            message: "refused".into(),
        },
    );
    w.dir.fail(Action::Delete, 1, denied(Action::Delete));
    let failure = w.fail(&plan).await;

    assert_eq!(failure.undone, [undone_credential()]);
    let [Leftover::Device {
        serial,
        assigned_to,
        reason,
    }] = failure.leftovers.as_slice()
    else {
        panic!("{:?}", failure.leftovers);
    };
    assert_eq!(serial, ARN);
    assert_eq!(*assigned_to, None);
    assert!(reason.contains("iam:DeleteVirtualMFADevice"), "{reason}");
    // Left: the unassigned, tagged device; the token is clean.
    let leftover = w.dir.device(ARN).expect("leftover device");
    assert_eq!(leftover.user, None);
    assert!(leftover
        .tags
        .contains(&(TAG_CREDENTIAL.to_owned(), LABEL.to_owned())));
    assert!(w.card.names().is_empty());

    // The next run, with deletion allowed again, removes the leftover and takes its name.
    let done = w.enroll(&plan).await.expect("second run");
    assert_eq!(done.device_serial, ARN);
    assert!(w.progress.saw(&format!("LeftoverRemoved({ARN:?})")));
    assert_eq!(w.dir.serials(), [ARN]);
    let device = w.dir.device(ARN).expect("device");
    assert_eq!(device.user.as_deref(), Some("alice"));
    assert_ne!(device.seed, leftover.seed, "a new device, not the leftover");
    assert_eq!(w.card.names(), [LABEL]);
    assert_eq!(w.card.key(LABEL), Some(device.seed));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_leftover_that_still_cannot_be_deleted_is_stepped_around() {
    let w = World::new();
    let plan = w.plan().await;
    w.dir
        .fail(Action::Enable, 1, service_failure(Action::Enable));
    w.dir.fail_always(Action::Delete, denied(Action::Delete));
    let failure = w.fail(&plan).await;
    assert!(
        matches!(
            failure.leftovers.as_slice(),
            [Leftover::Device { serial, assigned_to: None, .. }] if serial == ARN
        ),
        "{:?}",
        failure.leftovers
    );
    let leftover = w.dir.device(ARN).expect("leftover device");

    let done = w.enroll(&plan).await.expect("second run");
    let second = arn("alice-yk12345678-2");
    assert_eq!(done.device_serial, second);
    assert!(w.progress.saw(&format!(
        "NameTaken {{ taken: {DEVICE:?}, next: \"alice-yk12345678-2\" }}"
    )));
    assert_eq!(w.dir.serials(), [ARN.to_owned(), second.clone()]);
    let still = w.dir.device(ARN).expect("leftover still there");
    assert_eq!((still.user, still.seed), (None, leftover.seed));
    let device = w.dir.device(&second).expect("new device");
    assert_eq!(device.user.as_deref(), Some("alice"));
    assert_eq!(w.card.names(), [LABEL]);
    assert_eq!(w.card.key(LABEL), Some(device.seed));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_deactivation_leaves_the_device_assigned_and_its_credential() {
    let w = World::new();
    let plan = w.plan().await;
    w.dir.fail(
        Action::ListMfaDevices,
        1,
        service_failure(Action::ListMfaDevices),
    );
    w.dir.fail_always(
        Action::Deactivate,
        IamError::Network("connection reset".into()),
    );
    let failure = w.fail(&plan).await;

    assert!(failure.undone.is_empty(), "{:?}", failure.undone);
    let commands: Vec<String> = failure
        .leftovers
        .iter()
        .flat_map(|l| l.commands(""))
        .collect();
    assert!(
        commands[0].starts_with("aws iam deactivate-mfa-device"),
        "{commands:?}"
    );
    assert!(
        commands[1].starts_with("aws iam delete-virtual-mfa-device"),
        "{commands:?}"
    );
    assert!(commands[2].starts_with("ykman"), "{commands:?}");
    // The device first (its removal comes first), then the credential kept for it.
    let [Leftover::Device {
        serial,
        assigned_to,
        ..
    }, Leftover::Credential { name, reason, .. }] = failure.leftovers.as_slice()
    else {
        panic!("{:?}", failure.leftovers);
    };
    assert_eq!(serial, ARN);
    assert_eq!(assigned_to.as_deref(), Some("alice"));
    assert_eq!(name, LABEL);
    assert!(reason.contains(ARN), "{reason}");
    // The device is still alice's, so the token keeps the only copy of its seed.
    let device = w.dir.device(ARN).expect("device");
    assert_eq!(device.user.as_deref(), Some("alice"));
    assert_eq!(w.card.key(LABEL), Some(device.seed));
    assert!(!w.card.did("delete"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_pulled_out_before_the_rollback_leaves_its_credential() {
    let w = World::new();
    let plan = w.plan().await;
    w.dir.fail(
        Action::Enable,
        1,
        IamError::LimitExceeded {
            action: "iam:EnableMFADevice",
            message: "refused".into(),
        },
    );
    let card = w.card.clone();
    w.dir.on_call(Action::Enable, 1, move || card.pull_out());
    let failure = w.fail(&plan).await;

    assert_eq!(failure.undone, [undone_device(ARN)]);
    let [Leftover::Credential {
        name,
        token_serial,
        token,
        reason,
    }] = failure.leftovers.as_slice()
    else {
        panic!("{:?}", failure.leftovers);
    };
    assert_eq!(name, LABEL);
    assert_eq!(*token_serial, Some(Serial(TOKEN_SERIAL)));
    assert_eq!(token, &format!("YubiKey {TOKEN_SERIAL}"));
    assert!(reason.contains("removed"), "{reason}");
    assert!(w.dir.serials().is_empty());
    assert_eq!(w.card.names(), [LABEL], "still on the token, as reported");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_pulled_out_during_the_write_leaves_its_credential() {
    let w = World::new();
    let plan = w.plan().await;
    w.card.fail_write(WriteStage::AfterPut, card_removed);
    let failure = w.fail(&plan).await;

    assert!(matches!(
        failure.cause,
        Cause::Card {
            step: Step::Write,
            error: oath::Error::Transport(TransportError::CardRemoved)
        }
    ));
    assert_eq!(failure.undone, [undone_device(ARN)]);
    assert!(matches!(
        failure.leftovers.as_slice(),
        [Leftover::Credential { name, .. }] if name == LABEL
    ));
    assert!(w.dir.serials().is_empty());
    assert_eq!(w.card.names(), [LABEL]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_refusing_to_delete_leaves_its_credential() {
    let w = World::new();
    let plan = w.plan().await;
    w.dir.fail(
        Action::Enable,
        1,
        IamError::LimitExceeded {
            action: "iam:EnableMFADevice",
            message: "refused".into(),
        },
    );
    w.card.fail_deletes(|| oath::Error::Locked);
    let failure = w.fail(&plan).await;

    assert_eq!(failure.undone, [undone_device(ARN)]);
    assert!(matches!(
        failure.leftovers.as_slice(),
        [Leftover::Credential { name, reason, .. }] if name == LABEL && reason.contains("password")
    ));
    assert!(w.dir.serials().is_empty());
    assert_eq!(w.card.names(), [LABEL]);
}

// ---------------------------------------------------------------------------------------------
// What create steps around

#[tokio::test(flavor = "multi_thread")]
async fn denied_tagging_creates_the_device_without_tags() {
    let w = World::new();
    let plan = w.plan().await;
    w.dir.deny_tagging();
    let done = w.enroll(&plan).await.expect("enrolled");

    assert!(!done.tagged);
    assert!(w.progress.saw("TagsDenied"));
    let device = w.dir.device(ARN).expect("device");
    assert!(device.tags.is_empty());
    assert_eq!(device.user.as_deref(), Some("alice"));
    assert_eq!(w.card.key(LABEL), Some(device.seed));
    assert_eq!(
        w.dir.writes(),
        [Action::Create, Action::Create, Action::Enable]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn devices_ykmfa_did_not_leave_are_stepped_around_untouched() {
    let w = World::new();
    // Someone's device with the name ykmfa would use, and one by ykmfa for another credential.
    let foreign = w
        .dir
        .add_device(DEVICE, &[("owner", "platform-team")], None);
    let other = w.dir.add_device(
        "alice-yk12345678-2",
        &[(TAG_CREDENTIAL, "Amazon Web Services:alice@another-account")],
        None,
    );
    let before = (w.dir.device(&foreign), w.dir.device(&other));
    let plan = w.plan().await;
    let done = w.enroll(&plan).await.expect("enrolled");

    let third = arn("alice-yk12345678-3");
    assert_eq!(done.device_serial, third);
    for (name, device) in [(&foreign, &before.0), (&other, &before.1)] {
        let now = w.dir.device(name).expect("still there");
        let was = device.as_ref().expect("was there");
        assert_eq!(
            (&now.user, &now.seed, &now.tags),
            (&was.user, &was.seed, &was.tags)
        );
    }
    assert!(w.dir.args_of(Action::Delete).is_empty());
    assert_eq!(
        w.dir.device(&third).expect("new").user.as_deref(),
        Some("alice")
    );
    assert_eq!(w.card.names(), [LABEL]);
}

// ---------------------------------------------------------------------------------------------
// Codes AWS rejects

fn rejected_codes() -> IamError {
    IamError::InvalidAuthenticationCode {
        action: Action::Enable.name(),
        message: "Authentication code for the MFA device is not valid.".into(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rejected_codes_fall_back_to_a_real_time_pair() {
    // Each read of the clock moves it 10 s on, so the waits for fresh steps end after a few polls.
    let w = World::with_clock(FakeClock::advancing(T0, 10));
    let plan = w.plan().await;
    w.dir.fail(Action::Enable, 1, rejected_codes());
    let done = w.enroll(&plan).await.expect("enrolled");

    assert!(done.waited_for_fresh_codes);
    assert!(w.progress.saw("WaitingForStep"));
    let device = w.dir.device(ARN).expect("device");
    assert_eq!(device.user.as_deref(), Some("alice"));
    assert_eq!(w.card.key(LABEL), Some(device.seed.clone()));
    assert_eq!(
        w.dir.writes(),
        [Action::Create, Action::Enable, Action::Enable]
    );
    // The second pair: two consecutive steps after the write's.
    let enables = w.dir.args_of(Action::Enable);
    let (c1, c2) = (&enables[1][2], &enables[1][3]);
    let t = T0 / 30;
    let n = (t + 1..t + 10)
        .find(|&n| totp(&device.seed, n) == *c1 && totp(&device.seed, n + 1) == *c2)
        .expect("codes of two consecutive later steps");
    let calculated: Vec<String> = w
        .card
        .ops()
        .into_iter()
        .filter(|o| o.starts_with("calculate"))
        .collect();
    assert_eq!(
        calculated,
        [
            format!("calculate {LABEL} {n}"),
            format!("calculate {LABEL} {}", n + 1)
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_real_time_pair_on_a_touch_credential_asks_for_each_touch() {
    let w = World::with_clock(FakeClock::advancing(T0, 10));
    let plan = w.preflight_with("alice", true).await.expect("plan");
    w.dir.fail(Action::Enable, 1, rejected_codes());
    let done = w.enroll(&plan).await.expect("enrolled");

    assert!(done.waited_for_fresh_codes);
    assert_eq!(w.card.touch(LABEL), Some(true));
    let events = w.progress.events();
    let after_write: Vec<&str> = events
        .iter()
        .map(String::as_str)
        .skip_while(|e| !e.starts_with("WaitingForStep"))
        .filter(|e| *e == "TouchNow" || e.starts_with("WaitingForStep"))
        .collect();
    assert_eq!(after_write.len(), 4, "{events:?}");
    assert!(after_write[0].starts_with("WaitingForStep"));
    assert_eq!(after_write[1], "TouchNow");
    assert!(after_write[2].starts_with("WaitingForStep"));
    assert_eq!(after_write[3], "TouchNow");
    assert!(events
        .iter()
        .any(|e| e.starts_with("Writing { token: \"YubiKey 12345678\", touch: true")));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_real_time_pair_is_undone() {
    let w = World::with_clock(FakeClock::advancing(T0, 10));
    let plan = w.plan().await;
    w.dir.fail(Action::Enable, 1, rejected_codes());
    w.dir.fail(Action::Enable, 2, rejected_codes());
    let failure = w.fail(&plan).await;

    assert!(matches!(
        failure.cause,
        Cause::Iam {
            step: Step::Enable,
            error: IamError::InvalidAuthenticationCode { .. }
        }
    ));
    assert_eq!(failure.undone, [undone_device(ARN), undone_credential()]);
    w.assert_untouched();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_failing_a_real_time_code_is_undone() {
    let w = World::with_clock(FakeClock::advancing(T0, 10));
    let plan = w.plan().await;
    w.dir.fail(Action::Enable, 1, rejected_codes());
    w.card.fail_calculate(2, || oath::Error::TouchTimeout);
    let failure = w.fail(&plan).await;

    assert!(matches!(
        failure.cause,
        Cause::Card {
            step: Step::Calculate,
            error: oath::Error::TouchTimeout
        }
    ));
    assert_eq!(failure.undone, [undone_device(ARN), undone_credential()]);
    w.assert_untouched();
    assert_eq!(w.dir.args_of(Action::Enable).len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Preflight: refusals change nothing

/// Nothing was written anywhere, and the token holds what it held.
fn assert_nothing_written(w: &World, credentials: &[&str]) {
    assert!(w.dir.writes().is_empty(), "{:?}", w.dir.writes());
    assert_eq!(w.card.names(), credentials);
    assert!(
        w.card.ops().iter().all(|o| o == "list"),
        "{:?}",
        w.card.ops()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn preflight_refuses_an_unknown_user() {
    let w = World::new();
    let err = w.preflight("mallory").await.expect_err("refused");
    assert!(
        matches!(&err, Cause::Refused(Refusal::UnknownUser(u, a)) if u == "mallory" && a == ACCOUNT),
        "{err:?}"
    );
    assert_nothing_written(&w, &[]);
    assert!(w.dir.serials().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn preflight_refuses_a_ninth_device() {
    let w = World::new();
    for i in 0..MAX_DEVICES_PER_USER {
        w.dir.add_device(&format!("alice-{i}"), &[], Some("alice"));
    }
    let before = w.dir.serials();
    let err = w.preflight("alice").await.expect_err("refused");
    assert!(
        matches!(&err, Cause::Refused(Refusal::TooManyDevices(u, 8)) if u == "alice"),
        "{err:?}"
    );
    assert_nothing_written(&w, &[]);
    assert_eq!(w.dir.serials(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn preflight_refuses_a_label_already_on_the_token() {
    let w = World::new();
    w.card.add(LABEL);
    let err = w.preflight("alice").await.expect_err("refused");
    assert!(
        matches!(&err, Cause::Refused(Refusal::CredentialExists(n)) if n == LABEL),
        "{err:?}"
    );
    assert_nothing_written(&w, &[LABEL]);
    assert_eq!(
        w.card.key(LABEL).as_deref(),
        Some(&b"someone else's seed"[..])
    );
    assert!(w.dir.serials().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn preflight_refuses_a_full_token() {
    let mut w = World::new();
    w.card = FakeCard::new(Some(2));
    w.card.add("GitHub:alice");
    w.card.add("Google:alice");
    let err = w.preflight("alice").await.expect_err("refused");
    assert!(
        matches!(&err, Cause::Refused(Refusal::TokenFull(2))),
        "{err:?}"
    );
    assert_nothing_written(&w, &["GitHub:alice", "Google:alice"]);
    assert!(w.dir.serials().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_label_falls_back_to_the_account_id() {
    // "Amazon Web Services:" is 20 bytes: with the alias the label is 68, with the id 63.
    let user = "a".repeat(30);
    let w = World::new();
    w.dir.set_alias("example-corp-prod");
    lock(&w.dir.account).users.insert(
        user.clone(),
        User {
            name: user.clone(),
            arn: format!("arn:aws:iam::{ACCOUNT}:user/{user}"),
            user_id: "AIDAFAKELONG".into(),
            create_date: SystemTime::UNIX_EPOCH,
        },
    );
    let plan = w.preflight(&user).await.expect("a plan");
    assert_eq!(plan.credential, format!("{AWS_ISSUER}:{user}@{ACCOUNT}"));
    assert_eq!(plan.credential.len(), 63);
    assert_nothing_written(&w, &[]);

    // A short name keeps the alias.
    let plan = w.plan().await;
    assert_eq!(
        plan.credential,
        "Amazon Web Services:alice@example-corp-prod"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn preflight_refuses_a_label_too_long_even_with_the_account_id() {
    let user = "a".repeat(40);
    let w = World::new();
    w.dir.set_alias("example-corp-prod");
    lock(&w.dir.account).users.insert(
        user.clone(),
        User {
            name: user.clone(),
            arn: format!("arn:aws:iam::{ACCOUNT}:user/{user}"),
            user_id: "AIDAFAKELONG".into(),
            create_date: SystemTime::UNIX_EPOCH,
        },
    );
    let err = w.preflight(&user).await.expect_err("refused");
    assert!(
        matches!(&err, Cause::Refused(Refusal::LabelTooLong(label, 73)) if *label == format!("{AWS_ISSUER}:{user}@{ACCOUNT}")),
        "{err:?}"
    );
    assert_nothing_written(&w, &[]);
    assert!(w.dir.serials().is_empty());
}

#[test]
fn a_failure_says_what_remains_and_when_the_next_run_cleans_up() {
    let failure = |undone: Vec<String>, leftovers| Failure {
        cause: Cause::Interrupted,
        undone,
        leftovers,
    };
    let all_undone = failure(vec!["deleted".into()], Vec::new());
    assert_eq!(
        all_undone.remains("alice", None),
        "\nEverything done was undone; IAM and the token are as they were."
    );
    assert!(all_undone.commands("").is_empty());
    let left = Leftover::Device {
        serial: "arn:aws:iam::123456789012:mfa/alice-yk1".into(),
        assigned_to: None,
        reason: "AccessDenied".into(),
    };
    let some_left = failure(Vec::new(), vec![left]);
    let record = std::path::Path::new("/j/alice");
    let text = some_left.remains("alice", Some(record));
    assert!(text.starts_with("\nThese could not be undone and remain:\n  - "));
    assert!(text.ends_with(
        "\nThe next 'ykmfa enroll --user alice' removes these itself (recorded in /j/alice)."
    ));
    assert!(!some_left.commands("").is_empty());
}
