use super::*;
use AwsCredentialFeature as F;

#[test]
fn credential_sources_by_feature() {
    assert_eq!(source_from(&[F::CredentialsEnvVars]), Source::Environment);
    assert_eq!(source_from(&[F::CredentialsProfile]), Source::ProfileKeys);
    assert_eq!(
        source_from(&[F::CredentialsSso, F::CredentialsProfile]),
        Source::Sso
    );
    assert_eq!(
        source_from(&[
            F::CredentialsProfileSourceProfile,
            F::CredentialsStsAssumeRole,
            F::CredentialsProfile
        ]),
        Source::AssumeRole
    );
    assert_eq!(
        source_from(&[F::CredentialsProcess, F::CredentialsProfile]),
        Source::Process
    );
    assert_eq!(source_from(&[F::CredentialsImds]), Source::InstanceMetadata);
    assert_eq!(source_from(&[F::CredentialsHttp]), Source::Container);
    assert_eq!(
        source_from(&[F::CredentialsProfileStsWebIdToken]),
        Source::WebIdentity
    );
    assert_eq!(source_from(&[]), Source::Unknown);
}

#[test]
fn doctor_options_are_short_and_keep_the_users_choices() {
    let base = Options {
        profile: Some("p".into()),
        endpoint_url: Some("http://127.0.0.1:1".into()),
        ..Options::default()
    };
    let o = options(base, Duration::from_secs(8));
    assert_eq!(o.profile.as_deref(), Some("p"));
    assert_eq!(o.endpoint_url.as_deref(), Some("http://127.0.0.1:1"));
    assert_eq!(o.operation_timeout, Duration::from_secs(8));
    assert_eq!(o.attempt_timeout, Duration::from_secs(4));
    assert_eq!(o.consistency_attempts, 1);
}

#[test]
fn users_and_groups_from_their_files() {
    let passwd = "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n";
    assert_eq!(user_name(passwd, 1000).as_deref(), Some("alice"));
    assert_eq!(user_name(passwd, 7), None);
    let groups = "root:x:0:\nykmfa:x:998:bob,alice\nempty:x:5:\n";
    assert_eq!(
        group_entry(groups, "ykmfa"),
        Some((998, vec!["bob".to_owned(), "alice".to_owned()]))
    );
    assert_eq!(group_entry(groups, "empty"), Some((5, vec![])));
    assert_eq!(group_entry(groups, "nope"), None);
    // This machine's own answer is well-formed whatever it is.
    let setup = polkit_setup();
    assert!(setup.group_exists || !setup.member);
}

#[test]
fn programs_are_read_from_proc() {
    let me = std::process::id();
    let programs = running_programs();
    assert!(
        programs.iter().any(|p| p.pid == me),
        "this process is listed"
    );
}
