use super::*;

fn who(arn: &str) -> CallerIdentity {
    CallerIdentity {
        account: "123456789012".into(),
        arn: arn.into(),
        user_id: "AIDAEXAMPLE".into(),
    }
}

#[test]
fn caller_identity_from_arn() {
    let root = who("arn:aws:iam::123456789012:root");
    assert!(root.is_root());
    assert_eq!(root.partition(), Some("aws"));
    assert_eq!(root.user_name(), None);

    let alice = who("arn:aws-cn:iam::123456789012:user/team/alice");
    assert!(!alice.is_root());
    assert_eq!(alice.partition(), Some("aws-cn"));
    assert_eq!(alice.user_name(), Some("alice"));

    let role = who("arn:aws-us-gov:sts::123456789012:assumed-role/Admin/root");
    assert!(!role.is_root(), "a session named root is not the root user");
    assert_eq!(role.partition(), Some("aws-us-gov"));
    assert_eq!(role.user_name(), None);

    assert_eq!(who("not an arn").partition(), None);
}

#[test]
fn the_sdk_switches_that_log_secret_bodies_are_removed() {
    // The SDK compares the value with "true" ignoring case; any value is removed.
    std::env::set_var("LOG_SENSITIVE_BODIES", "true");
    std::env::set_var("LOG_SIGNABLE_BODY", "TRUE");
    harden_process_env();
    assert_eq!(std::env::var_os("LOG_SENSITIVE_BODIES"), None);
    assert_eq!(std::env::var_os("LOG_SIGNABLE_BODY"), None);
}

#[test]
fn created_device_debug_never_shows_the_seed() {
    let device = CreatedDevice {
        serial: "arn:aws:iam::123456789012:mfa/alice".into(),
        seed: Seed::from_base32("JBSWY3DPEHPK3PXP").expect("valid"),
    };
    let shown = format!("{device:?}");
    assert!(shown.contains("mfa/alice"));
    assert!(!shown.contains("JBSWY3DP"));
    assert!(!shown.contains("72, 101"), "no raw bytes either");
}

#[test]
fn virtual_device_assignment() {
    let root = VirtualMfaDevice {
        serial: "arn:aws:iam::1:mfa/root-key".into(),
        user: None,
        user_arn: Some("arn:aws:iam::1:root".into()),
        enable_date: None,
    };
    assert!(root.is_assigned() && root.is_root());
    let free = VirtualMfaDevice {
        serial: "arn:aws:iam::1:mfa/x".into(),
        user: None,
        user_arn: None,
        enable_date: None,
    };
    assert!(!free.is_assigned() && !free.is_root());
}
