use super::*;

#[test]
fn codes_map_to_domain_words() {
    let a = "iam:EnableMFADevice";
    let m = || "msg".to_string();
    assert!(matches!(
        from_code(a, "NoSuchEntity", m()),
        IamError::NoSuchEntity { .. }
    ));
    assert!(matches!(
        from_code(a, "EntityAlreadyExists", m()),
        IamError::EntityAlreadyExists { .. }
    ));
    assert!(matches!(
        from_code(a, "InvalidAuthenticationCode", m()),
        IamError::InvalidAuthenticationCode { .. }
    ));
    assert!(matches!(
        from_code(a, "DeleteConflict", m()),
        IamError::DeleteConflict { .. }
    ));
    assert!(matches!(
        from_code(a, "LimitExceeded", m()),
        IamError::LimitExceeded { .. }
    ));
    assert!(matches!(
        from_code(a, "EntityTemporarilyUnmodifiable", m()),
        IamError::EntityTemporarilyUnmodifiable { .. }
    ));
    assert!(matches!(
        from_code(a, "ValidationError", m()),
        IamError::InvalidInput(_)
    ));
    assert!(matches!(
        from_code(a, "Throttling", m()),
        IamError::Throttling { .. }
    ));
    assert!(matches!(
        from_code(a, "ExpiredToken", m()),
        IamError::NoCredentials(_)
    ));
    assert_eq!(
        from_code(a, "AccessDenied", m()),
        IamError::AccessDenied {
            action: a,
            message: m()
        }
    );
    assert_eq!(
        from_code(a, "Weird", m()),
        IamError::Other {
            action: a,
            code: "Weird".into(),
            message: m()
        }
    );
}

#[test]
fn action_and_docs() {
    let denied = from_code("iam:DeleteVirtualMFADevice", "AccessDenied", "no".into());
    assert_eq!(denied.action(), Some("iam:DeleteVirtualMFADevice"));
    assert_eq!(denied.policy_docs_url(), Some(MFA_POLICY_DOCS_URL));
    let tagging = IamError::TaggingDenied {
        message: "no".into(),
    };
    assert_eq!(tagging.action(), Some("iam:TagMFADevice"));
    assert!(tagging.policy_docs_url().is_some());
    assert_eq!(IamError::Network("x".into()).action(), None);
    assert_eq!(
        IamError::Timeout {
            action: "iam:ListUsers"
        }
        .policy_docs_url(),
        None
    );
    assert!(IamError::Timeout {
        action: "iam:ListUsers"
    }
    .outcome_unknown());
}

#[test]
fn tagging_denial_is_recognized_by_the_action_in_the_message() {
    let tagging = from_code(
        "iam:CreateVirtualMFADevice",
        "AccessDenied",
        "User: arn:aws:iam::1:user/a is not authorized to perform: iam:TagMFADevice on resource"
            .into(),
    );
    assert!(is_tagging_denial(&tagging));
    let create = from_code(
        "iam:CreateVirtualMFADevice",
        "AccessDenied",
        "not authorized to perform: iam:CreateVirtualMFADevice".into(),
    );
    assert!(!is_tagging_denial(&create));
}
