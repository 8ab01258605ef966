use super::*;
use ykmfa::iam::PasswordPolicy;
use ykmfa::mfa::audit::{Orphan, UserFacts};

fn neglected() -> Facts {
    Facts {
        account: "123456789012".into(),
        root_mfa_enabled: Some(false),
        root_access_keys_present: Some(true),
        root_virtual_device: None,
        password_policy: Some(PasswordPolicy {
            minimum_password_length: Some(8),
            ..PasswordPolicy::default()
        }),
        users: vec![UserFacts {
            name: "a-user-with-a-rather-long-name-indeed".into(),
            devices: vec![],
            console: Some(true),
        }],
        orphans: vec![Orphan {
            serial: "arn:aws:iam::123456789012:mfa/some/path/an-orphan-with-a-long-name".into(),
            tags: None,
        }],
    }
}

#[test]
fn the_report_fits_80_columns_except_unbreakable_commands() {
    let facts = neglected();
    let text = render(&facts, &audit::analyze(&facts));
    for line in text.lines() {
        let long_word = line.split(' ').any(|w| w.chars().count() > 40);
        assert!(
            line.chars().count() <= WIDTH || long_word,
            "too wide ({}): {line}",
            line.chars().count()
        );
    }
    assert!(text.contains("critical  root"), "{text}");
    assert!(text.contains("...er-long-name-indeed"), "{text}");
    // The five policy gaps (and the missing one) share one fix, listed once.
    assert_eq!(
        text.matches("aws iam update-account-password-policy")
            .count(),
        1,
        "{text}"
    );
}

#[test]
fn a_clean_account_says_so() {
    let facts = Facts {
        account: "123456789012".into(),
        root_mfa_enabled: Some(true),
        root_access_keys_present: Some(false),
        ..Facts::default()
    };
    let mut facts = facts;
    facts.password_policy = Some(PasswordPolicy {
        minimum_password_length: Some(14),
        require_symbols: true,
        require_numbers: true,
        require_uppercase_characters: true,
        require_lowercase_characters: true,
        password_reuse_prevention: Some(24),
        ..PasswordPolicy::default()
    });
    let text = render(&facts, &audit::analyze(&facts));
    assert!(text.contains("No findings."), "{text}");
    assert!(text.contains("meets the baseline"), "{text}");
}
