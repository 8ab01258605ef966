//! The IAM permissions each ykmfa command needs: one table, read by `doctor` (which asks IAM's
//! policy simulator about them), by the policy examples in SECURITY.md and docs/permissions.md,
//! and by each command's `--help`.
//!
//! `required` actions are ones the command cannot do without: denied, the command stops with
//! exit code 6 before changing anything. Optional ones make it do less (no tags, no account
//! alias in the label, no leftover clean-up) and are named as such. `sts:GetCallerIdentity`
//! needs no permission and is not listed.

use std::fmt;

/// A ykmfa command that talks to IAM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Command {
    /// `ykmfa enroll --user NAME`.
    Enroll,
    /// `ykmfa resync --user NAME`.
    Resync,
    /// `ykmfa revoke --user NAME`.
    Revoke,
    /// `ykmfa status`.
    Status,
    /// `ykmfa audit`.
    Audit,
}

impl Command {
    /// Every command, in the order `doctor` reports them.
    pub const ALL: [Command; 5] = [
        Command::Enroll,
        Command::Resync,
        Command::Revoke,
        Command::Status,
        Command::Audit,
    ];

    /// The command's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Command::Enroll => "enroll",
            Command::Resync => "resync",
            Command::Revoke => "revoke",
            Command::Status => "status",
            Command::Audit => "audit",
        }
    }

    /// The commands asked for, each once, in report order; every command when none is.
    pub fn chosen(mut asked: Vec<Command>) -> Vec<Command> {
        if asked.is_empty() {
            asked = Command::ALL.to_vec();
        }
        asked.sort();
        asked.dedup();
        asked
    }

    /// The command by its name on the command line.
    pub fn from_name(name: &str) -> Option<Command> {
        Command::ALL.into_iter().find(|c| c.name() == name)
    }

    /// What this command needs, in the order it uses it.
    pub fn needs(self) -> &'static [Need] {
        match self {
            Command::Enroll => ENROLL,
            Command::Resync => RESYNC,
            Command::Revoke => REVOKE,
            Command::Status => STATUS,
            Command::Audit => AUDIT,
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What kind of resource an action acts on; it decides which ARN the simulator is asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// A virtual MFA device: `arn:aws:iam::ACCOUNT:mfa/NAME`.
    Device,
    /// An IAM user: `arn:aws:iam::ACCOUNT:user/NAME`.
    User,
    /// Account-wide actions without resource-level permissions (`Resource: "*"`).
    Account,
}

/// One IAM action a command calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Need {
    /// The IAM action, e.g. `iam:EnableMFADevice`.
    pub action: &'static str,
    /// What it acts on.
    pub scope: Scope,
    /// Whether the command fails without it (else it does less).
    pub required: bool,
    /// What the command uses it for (or loses without it, when optional).
    pub why: &'static str,
}

const fn req(action: &'static str, scope: Scope, why: &'static str) -> Need {
    Need {
        action,
        scope,
        required: true,
        why,
    }
}

const fn opt(action: &'static str, scope: Scope, why: &'static str) -> Need {
    Need {
        action,
        scope,
        required: false,
        why,
    }
}

/// `enroll`: preflight, the transaction, and its undo.
const ENROLL: &[Need] = &[
    req("iam:GetUser", Scope::User, "check the user exists"),
    req(
        "iam:ListMFADevices",
        Scope::User,
        "count the user's devices (at most 8) and confirm the new one",
    ),
    req(
        "iam:CreateVirtualMFADevice",
        Scope::Device,
        "create the device",
    ),
    req(
        "iam:EnableMFADevice",
        Scope::User,
        "assign it with two codes",
    ),
    req(
        "iam:DeactivateMFADevice",
        Scope::User,
        "undo an enable when a later step fails",
    ),
    req(
        "iam:DeleteVirtualMFADevice",
        Scope::Device,
        "undo a create when a later step fails",
    ),
    opt(
        "iam:TagMFADevice",
        Scope::Device,
        "without it devices are untagged, and resync and status find them by label only",
    ),
    opt(
        "iam:ListAccountAliases",
        Scope::Account,
        "without it the credential label names the account id, not its alias",
    ),
    opt(
        "iam:ListVirtualMFADevices",
        Scope::Account,
        "without it a device left by an earlier failed run is not found",
    ),
    opt(
        "iam:ListMFADeviceTags",
        Scope::Device,
        "without it ykmfa cannot tell its own leftover devices from others'",
    ),
];

/// `resync`: find the user's device on the token present, then resynchronize it.
const RESYNC: &[Need] = &[
    req("iam:GetUser", Scope::User, "check the user exists"),
    req("iam:ListMFADevices", Scope::User, "find the user's devices"),
    req(
        "iam:ResyncMFADevice",
        Scope::User,
        "resynchronize with two codes",
    ),
    opt(
        "iam:ListMFADeviceTags",
        Scope::Device,
        "without it the device is matched to the token by label only (or --device)",
    ),
    opt(
        "iam:ListAccountAliases",
        Scope::Account,
        "without it a label naming the account alias is not recognised",
    ),
    opt(
        "iam:ListVirtualMFADevices",
        Scope::Account,
        "without it a --device of another user is refused without naming its owner",
    ),
];

/// `revoke`: deactivate and delete in IAM, then delete the credential on the token.
const REVOKE: &[Need] = &[
    req("iam:GetUser", Scope::User, "check the user exists"),
    req(
        "iam:ListMFADevices",
        Scope::User,
        "find the device and refuse to remove the last one",
    ),
    req(
        "iam:DeactivateMFADevice",
        Scope::User,
        "unassign the device",
    ),
    req("iam:DeleteVirtualMFADevice", Scope::Device, "delete it"),
    opt(
        "iam:ListMFADeviceTags",
        Scope::Device,
        "without it --serial matches devices by label only",
    ),
    opt(
        "iam:ListAccountAliases",
        Scope::Account,
        "without it a label naming the account alias is not recognised",
    ),
    opt(
        "iam:ListVirtualMFADevices",
        Scope::Account,
        "without it a --device of another user is refused without naming its owner",
    ),
];

/// `status`: a user's devices joined with the tokens present (and, for AWS credentials of other
/// users found on those tokens, those users' devices).
const STATUS: &[Need] = &[
    req("iam:ListMFADevices", Scope::User, "list the user's devices"),
    opt(
        "iam:ListMFADeviceTags",
        Scope::Device,
        "without it devices are matched to credentials by label only",
    ),
    opt(
        "iam:ListAccountAliases",
        Scope::Account,
        "without it a label naming the account alias is not recognised",
    ),
];

/// `audit`: the account's MFA posture.
const AUDIT: &[Need] = &[
    req(
        "iam:GetAccountSummary",
        Scope::Account,
        "root MFA and root access keys",
    ),
    req(
        "iam:GetAccountPasswordPolicy",
        Scope::Account,
        "the password policy",
    ),
    req("iam:ListUsers", Scope::Account, "every user"),
    req("iam:ListMFADevices", Scope::User, "each user's devices"),
    req(
        "iam:GetLoginProfile",
        Scope::User,
        "which users have a console password",
    ),
    req(
        "iam:ListVirtualMFADevices",
        Scope::Account,
        "unassigned (orphaned) devices",
    ),
    opt(
        "iam:ListMFADeviceTags",
        Scope::Device,
        "without it orphans are listed without ykmfa's tags",
    ),
];

/// A person-readable list of what `command` needs: "iam:A, iam:B (optional: iam:C)".
pub fn summary(command: Command) -> String {
    let needs = command.needs();
    let required: Vec<&str> = needs
        .iter()
        .filter(|n| n.required)
        .map(|n| n.action)
        .collect();
    let optional: Vec<&str> = needs
        .iter()
        .filter(|n| !n.required)
        .map(|n| n.action)
        .collect();
    if optional.is_empty() {
        required.join(", ")
    } else {
        format!(
            "{} (optional: {})",
            required.join(", "),
            optional.join(", ")
        )
    }
}

#[cfg(test)]
mod tests;
