use crate::mfa::revoke::{Cause, CredentialPlan, Failure, Plan, Principal, Step};
use crate::mfa::Leftover;
use crate::token::Serial;

fn fits(text: &str) {
    for line in text.lines() {
        assert!(line.chars().count() <= 80, "wider than 80 columns: {line}");
    }
}

#[test]
fn the_root_plan_names_the_member_account_the_device_and_the_steps() {
    let plan = Plan {
        account: "111111111111".into(),
        principal: Principal::Root,
        device: "arn:aws:iam::111111111111:mfa/root-account-mfa-device".into(),
        assigned: true,
        devices_before: 1,
        credential: CredentialPlan::NotLookedFor,
    };
    let text = plan.text(Some("999999999999"));
    assert_eq!(
        text,
        "Plan for the root user of member account 111111111111:\n\
         \x20 through   a root session opened from account 999999999999 (15 minutes at most)\n\
         \x20 device    arn:aws:iam::111111111111:mfa/root-account-mfa-device\n\
         \x20 IAM       deactivate it, then delete it\n\
         \x20 token     not touched\n\
         \x20 after     NO MFA device left (--allow-last was given)"
    );
    fits(&text);
    let finish = Plan {
        assigned: false,
        devices_before: 0,
        ..plan
    };
    let text = finish.text(Some("999999999999"));
    assert!(
        text.contains("delete it (it is assigned to nobody already)"),
        "{text}"
    );
    assert!(text.contains("after     0 MFA device(s) left"), "{text}");
}

#[test]
fn user_plans_fit_80_columns_with_the_longest_names() {
    let name = format!("Amazon Web Services:{}", "u".repeat(44));
    assert_eq!(name.len(), 64);
    let token = crate::mfa::pairing::TokenRef {
        serial: Some(Serial(4_294_967_295)),
        kind: crate::token::Kind::YubiKey,
        reader: "r".into(),
    };
    for credential in [
        CredentialPlan::Delete {
            name: name.clone(),
            token: token.clone(),
            raw_id: Vec::new(),
        },
        CredentialPlan::Keep {
            name: Some(name.clone()),
            token_serial: token.serial,
        },
        CredentialPlan::Remains {
            name: Some(name.clone()),
            token_serial: token.serial,
        },
        CredentialPlan::Remains {
            name: None,
            token_serial: None,
        },
        CredentialPlan::AlreadyGone {
            name: name.clone(),
            token: token.clone(),
        },
    ] {
        let plan = Plan {
            account: "123456789012".into(),
            principal: Principal::User {
                name: "alice".into(),
            },
            device: "arn:aws:iam::123456789012:mfa/alice-yk4294967295".into(),
            assigned: true,
            devices_before: 2,
            credential,
        };
        let text = plan.text(None);
        assert!(text.starts_with("Plan for IAM user alice (account 123456789012):"));
        fits(&text);
    }
}

#[test]
fn a_stopped_revocation_says_what_was_done_and_what_remains() {
    let failure = |done: Vec<Step>, leftovers: Vec<Leftover>| Failure {
        cause: Cause::Interrupted,
        done,
        leftovers,
    };
    assert_eq!(failure(vec![], vec![]).state(), "\nNothing was changed.");
    assert_eq!(failure(vec![Step::Deactivate], vec![]).state(), "");
    let device = |assigned_to: Option<&str>| Leftover::Device {
        serial: "arn:aws:iam::123456789012:mfa/alice-yk1".into(),
        assigned_to: assigned_to.map(str::to_owned),
        reason: "interrupted".into(),
    };
    assert_eq!(
        failure(vec![], vec![device(Some("alice"))]).state(),
        "\nThese remain:\n  - virtual MFA device arn:aws:iam::123456789012:mfa/alice-yk1, \
         still assigned (interrupted)"
    );
    assert_eq!(
        failure(vec![Step::Deactivate], vec![device(None)]).state(),
        "\nDone: deactivating the device.\nThese remain:\n  - virtual MFA device \
         arn:aws:iam::123456789012:mfa/alice-yk1, deactivated, not deleted (interrupted)"
    );
}
