use super::*;

#[test]
fn every_command_has_needs_and_no_action_twice() {
    for command in Command::ALL {
        let needs = command.needs();
        assert!(needs.iter().any(|n| n.required), "{command}");
        for (i, n) in needs.iter().enumerate() {
            assert!(n.action.starts_with("iam:"), "{}", n.action);
            assert!(
                !needs[i + 1..].iter().any(|m| m.action == n.action),
                "{command}: {} twice",
                n.action
            );
        }
        assert_eq!(Command::from_name(command.name()), Some(command));
    }
    assert_eq!(Command::from_name("tokens"), None);
}

#[test]
fn summary_names_required_then_optional() {
    assert_eq!(
        summary(Command::Resync),
        "iam:GetUser, iam:ListMFADevices, iam:ResyncMFADevice (optional: \
         iam:ListMFADeviceTags, iam:ListAccountAliases, iam:ListVirtualMFADevices)"
    );
}

/// The row of docs/permissions.md's table for a command, as it must read.
fn readme_row(command: Command) -> String {
    let list = |required: bool| {
        let actions: Vec<String> = command
            .needs()
            .iter()
            .filter(|n| n.required == required)
            .map(|n| format!("`{}`", n.action))
            .collect();
        if actions.is_empty() {
            "—".to_owned()
        } else {
            actions.join(", ")
        }
    };
    format!("| `{command}` | {} | {} |", list(true), list(false))
}

#[test]
fn the_readme_table_is_this_table() {
    let readme = include_str!("../../../docs/permissions.md");
    for command in Command::ALL {
        let row = readme_row(command);
        assert!(
            readme.lines().any(|l| l == row),
            "docs/permissions.md lacks, or differs from, the row\n{row}"
        );
    }
}

#[test]
fn enroll_needs_its_undo() {
    let enroll = Command::Enroll.needs();
    for undo in ["iam:DeactivateMFADevice", "iam:DeleteVirtualMFADevice"] {
        assert!(enroll.iter().any(|n| n.action == undo && n.required));
    }
}

#[test]
fn the_commands_chosen_are_each_once_in_report_order_or_all() {
    assert_eq!(Command::chosen(vec![]), Command::ALL);
    let asked = vec![Command::Audit, Command::Enroll, Command::Audit];
    assert_eq!(Command::chosen(asked), [Command::Enroll, Command::Audit]);
}
