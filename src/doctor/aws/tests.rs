//! The AWS checks and the simulation plan over hand-made facts.

use super::*;

const ACCOUNT: &str = "123456789012";
const T: u64 = 1_700_000_000;

fn at(secs: f64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs_f64(secs)
}

fn who(arn: &str) -> CallerIdentity {
    CallerIdentity {
        account: ACCOUNT.into(),
        arn: arn.into(),
        user_id: "AIDAEXAMPLE".into(),
    }
}

fn alice() -> CallerIdentity {
    who(&format!("arn:aws:iam::{ACCOUNT}:user/team/alice"))
}

fn facts() -> AwsFacts {
    AwsFacts {
        profile: None,
        now: at(T as f64),
        credentials: Credentials::Found {
            source: Source::Environment,
            expires: None,
        },
        identity: Identity::Known(alice()),
        clock: Clock::Read(ClockReading {
            sent: at(T as f64 + 0.2),
            received: at(T as f64 + 0.3),
            server: at(T as f64),
        }),
        permissions: Permissions::Root,
        commands: Command::ALL.to_vec(),
    }
}

fn decision(action: &str, verdict: Verdict) -> PolicyDecision {
    PolicyDecision {
        action: action.into(),
        resource: "*".into(),
        verdict,
        missing_context: Vec::new(),
    }
}

/// Every action of every command allowed, except those in `denied`.
fn simulated(denied: &[(&str, Verdict, &[&str])]) -> Permissions {
    let p = principal(&alice()).expect("user");
    let answers = requests(&Command::ALL, &alice(), &p)
        .into_iter()
        .map(|(scope, resource, actions)| Answer {
            scope,
            resource,
            decisions: actions
                .iter()
                .map(|a| match denied.iter().find(|(d, _, _)| d == a) {
                    Some((_, verdict, missing)) => PolicyDecision {
                        missing_context: missing.iter().map(|s| (*s).to_owned()).collect(),
                        ..decision(a, *verdict)
                    },
                    None => decision(a, Verdict::Allowed),
                })
                .collect(),
        })
        .collect();
    Permissions::Simulated {
        principal: alice().arn,
        answers,
    }
}

fn by_id(checks: &[Check], id: &str) -> Check {
    checks
        .iter()
        .find(|c| c.id == id)
        .cloned()
        .unwrap_or_else(|| panic!("no check {id} in {checks:#?}"))
}

#[test]
fn report_order_and_all_fine() {
    let f = AwsFacts {
        permissions: simulated(&[]),
        ..facts()
    };
    let checks = checks(&f);
    let ids: Vec<&str> = checks.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "clock",
            "credentials",
            "identity",
            "iam.enroll",
            "iam.resync",
            "iam.revoke",
            "iam.status",
            "iam.audit"
        ]
    );
    assert!(checks.iter().all(|c| c.status == Status::Ok), "{checks:#?}");
    assert_eq!(
        by_id(&checks, "identity").detail,
        "arn:aws:iam::123456789012:user/team/alice (account 123456789012)"
    );
    assert_eq!(
        by_id(&checks, "credentials").detail,
        "from environment variables (AWS_ACCESS_KEY_ID)"
    );
    assert_eq!(
        by_id(&checks, "iam.enroll").detail,
        "allowed: all 6 actions it needs"
    );
}

#[test]
fn clock_levels() {
    let reading = |ahead: f64| {
        clock(&AwsFacts {
            clock: Clock::Read(ClockReading {
                sent: at(T as f64 + ahead + 0.2),
                received: at(T as f64 + ahead + 0.3),
                server: at(T as f64),
            }),
            ..facts()
        })
    };
    let ok = reading(0.0);
    assert_eq!(ok.status, Status::Ok);
    assert!(
        ok.detail.starts_with("this clock is within"),
        "{}",
        ok.detail
    );

    let noticeable = reading(15.0);
    assert_eq!(noticeable.status, Status::Warn);
    assert!(
        noticeable.detail.contains("15 s ahead of AWS's"),
        "{}",
        noticeable.detail
    );

    let large = reading(300.0);
    assert_eq!(large.status, Status::Fail);
    assert!(
        large.detail.contains("300 s ahead of AWS's"),
        "{}",
        large.detail
    );
    assert!(large.fix[0].contains("timedatectl set-ntp true"));
    assert!(large.fix[1].contains("ykmfa resync"));
    assert!((large.data["skew_seconds"].as_f64().unwrap_or(0.0) - 299.75).abs() < 0.01);

    let behind = reading(-120.0);
    assert_eq!(behind.status, Status::Fail);
    assert!(
        behind.detail.contains("120 s behind AWS's"),
        "{}",
        behind.detail
    );

    let unknown = clock(&AwsFacts {
        clock: Clock::NoAnswer(Duration::from_secs(15)),
        ..facts()
    });
    assert_eq!(unknown.status, Status::Warn);
}

#[test]
fn credentials_missing_expiring_and_from_a_profile() {
    let missing = credentials(&AwsFacts {
        credentials: Credentials::Missing("none in the environment".into()),
        profile: Some("work".into()),
        ..facts()
    });
    assert_eq!(missing.status, Status::Fail);
    assert!(missing.detail.starts_with("no usable AWS credentials"));
    assert!(missing.fix[0].contains("aws configure"));
    assert_eq!(
        missing.fix[1],
        "if the profile uses IAM Identity Center (SSO): aws sso login --profile work"
    );

    let sso = |left: i64| {
        credentials(&AwsFacts {
            credentials: Credentials::Found {
                source: Source::Sso,
                expires: Some(at(T as f64 + left as f64)),
            },
            profile: Some("work".into()),
            ..facts()
        })
    };
    let fine = sso(3600);
    assert_eq!(fine.status, Status::Ok);
    assert_eq!(
        fine.detail,
        "from IAM Identity Center (SSO) sign-in of profile 'work': temporary, expire in 60 min"
    );
    assert_eq!(sso(120).status, Status::Warn);
    assert_eq!(sso(-1).status, Status::Fail);

    let hung = credentials(&AwsFacts {
        credentials: Credentials::NoAnswer(Duration::from_secs(15)),
        ..facts()
    });
    assert_eq!(hung.status, Status::Fail);
    assert!(hung
        .fix
        .iter()
        .any(|f| f.contains("AWS_EC2_METADATA_DISABLED")));
}

#[test]
fn root_caller_warns_and_points_to_enroll_root() {
    let f = AwsFacts {
        identity: Identity::Known(who(&format!("arn:aws:iam::{ACCOUNT}:root"))),
        ..facts()
    };
    let id = identity(&f);
    assert_eq!(id.status, Status::Warn);
    assert!(id.detail.contains("root user"));
    assert!(id.fix[0].contains("IAM role"));
    assert!(id.fix[1].contains("ykmfa enroll --root"));
    for c in permissions_checks(&f) {
        assert_eq!(c.status, Status::Ok, "{c:?}");
    }
}

#[test]
fn identity_failures_say_what_to_do() {
    let f = AwsFacts {
        identity: Identity::Failed(IamError::NoCredentials(
            "AWS does not know the access key in use".into(),
        )),
        ..facts()
    };
    let c = identity(&f);
    assert_eq!(c.status, Status::Fail);
    assert!(c.fix[0].contains("aws configure"));
    let f = AwsFacts {
        identity: Identity::NoAnswer(Duration::from_secs(15)),
        ..facts()
    };
    assert!(identity(&f).detail.contains("did not answer within 15 s"));
}

#[test]
fn missing_permissions_are_named_per_command() {
    let f = AwsFacts {
        permissions: simulated(&[
            ("iam:EnableMFADevice", Verdict::ImplicitDeny, &[]),
            ("iam:TagMFADevice", Verdict::ExplicitDeny, &[]),
            (
                "iam:DeactivateMFADevice",
                Verdict::ImplicitDeny,
                &["aws:MultiFactorAuthPresent"],
            ),
        ]),
        ..facts()
    };
    let checks = permissions_checks(&f);
    let enroll = by_id(&checks, "iam.enroll");
    assert_eq!(enroll.status, Status::Fail);
    assert!(
        enroll.detail.starts_with(
            "not allowed: iam:EnableMFADevice, iam:DeactivateMFADevice (allowed only with aws:MultiFactorAuthPresent)"
        ),
        "{}",
        enroll.detail
    );
    assert!(enroll.detail.contains(
        "optional, not allowed (it does less without them): iam:TagMFADevice (denied explicitly)"
    ));
    assert_eq!(
        enroll.fix[0],
        "ask an administrator to allow iam:EnableMFADevice, iam:DeactivateMFADevice"
    );
    assert_eq!(
        enroll.data["denied"],
        serde_json::json!(["iam:EnableMFADevice", "iam:DeactivateMFADevice"])
    );
    // resync needs neither; revoke needs deactivate.
    assert_eq!(by_id(&checks, "iam.resync").status, Status::Ok);
    assert_eq!(by_id(&checks, "iam.revoke").status, Status::Fail);
    assert_eq!(by_id(&checks, "iam.audit").status, Status::Ok);
}

#[test]
fn an_optional_denial_alone_keeps_the_command_ok() {
    let f = AwsFacts {
        permissions: simulated(&[("iam:ListAccountAliases", Verdict::ImplicitDeny, &[])]),
        commands: vec![Command::Enroll],
        ..facts()
    };
    let checks = permissions_checks(&f);
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0].status, Status::Ok);
    assert!(checks[0]
        .detail
        .ends_with("(it does less without them): iam:ListAccountAliases"));
    assert_eq!(
        checks[0].data["optional_denied"][0]["action"],
        "iam:ListAccountAliases"
    );
}

#[test]
fn without_the_simulator_each_command_lists_its_needs() {
    let f = AwsFacts {
        permissions: Permissions::Unavailable {
            reason: "iam:SimulatePrincipalPolicy is not allowed for this caller".into(),
        },
        commands: vec![Command::Enroll, Command::Audit],
        ..facts()
    };
    let checks = permissions_checks(&f);
    assert_eq!(checks.len(), 3);
    assert_eq!(checks[0].id, "iam.simulator");
    assert_eq!(checks[0].status, Status::Warn);
    assert!(checks[0]
        .detail
        .contains("SimulatePrincipalPolicy is not allowed"));
    assert_eq!(checks[1].status, Status::Skip);
    assert_eq!(
        checks[1].detail,
        format!("needs {}", permissions::summary(Command::Enroll))
    );
    assert!(checks[2].detail.contains("iam:GetAccountSummary"));
}

#[test]
fn principals_and_resources() {
    let user = principal(&alice()).expect("user");
    assert_eq!(
        user,
        Principal::User {
            arn: alice().arn,
            name: "alice".into()
        }
    );
    assert_eq!(
        context(&user),
        [("aws:username".to_owned(), "alice".to_owned())]
    );
    assert_eq!(resource(Scope::User, &alice(), &user), alice().arn);
    assert_eq!(
        resource(Scope::Device, &alice(), &user),
        "arn:aws:iam::123456789012:mfa/alice-ykmfa"
    );
    assert_eq!(resource(Scope::Account, &alice(), &user), "*");

    let session = who(
        "arn:aws-us-gov:sts::123456789012:assumed-role/AWSReservedSSO_Admin_1a2b/alice@example.com",
    );
    let role = principal(&session).expect("role");
    assert_eq!(
        role,
        Principal::Role {
            name: "AWSReservedSSO_Admin_1a2b".into(),
            arn_without_path: "arn:aws-us-gov:iam::123456789012:role/AWSReservedSSO_Admin_1a2b"
                .into()
        }
    );
    assert!(context(&role).is_empty());
    assert_eq!(
        resource(Scope::User, &session, &role),
        "arn:aws-us-gov:iam::123456789012:user/*"
    );

    let federated = who("arn:aws:sts::123456789012:federated-user/bob");
    assert!(principal(&federated).unwrap_err().contains("federated"));
}

#[test]
fn requests_group_actions_by_resource_once_each() {
    let p = principal(&alice()).expect("user");
    let reqs = requests(&[Command::Enroll, Command::Revoke], &alice(), &p);
    let scopes: Vec<Scope> = reqs.iter().map(|(s, _, _)| *s).collect();
    assert_eq!(scopes, [Scope::User, Scope::Device, Scope::Account]);
    let user_actions = &reqs[0].2;
    assert_eq!(
        user_actions
            .iter()
            .filter(|a| *a == "iam:DeactivateMFADevice")
            .count(),
        1,
        "an action two commands need is asked once"
    );
    assert!(reqs[2].2.contains(&"iam:ListAccountAliases".to_owned()));
    let only_audit = requests(&[Command::Audit], &alice(), &p);
    assert!(only_audit
        .iter()
        .all(|(_, _, a)| !a.contains(&"iam:EnableMFADevice".to_owned())));
}
