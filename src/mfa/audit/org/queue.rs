//! What people must do next, from an organization audit: the work queue and the bulk manifest
//! draft.
//!
//! - The queue holds every account whose root fails the hardware-MFA rule the findings apply
//!   ([`RootPosture::needs_person`]): no MFA, or any virtual device (token-held, or beside a FIDO
//!   key, included). For each, in order: how to get a root password when root has none (the
//!   central path: AssumeRoot with `IAMCreateRootUserPassword`, then password recovery), the
//!   console sign-in, then what the finding asks: a device (`ykmfa enroll --root --account ID`
//!   when a virtual one will do for now), or removing the virtual device, or accepting the
//!   finding as an exception.
//! - The manifest draft has a row for every IAM user who signs in to the console without MFA
//!   (the `console-without-mfa` finding), reached through the audit's role, with no token
//!   serial: the operator adds one, or leaves it out to be asked for the token at apply time.
//!   `ykmfa bulk plan` reads it as it is.

use super::{AccountAudit, OrgAudit, RootPosture, RootState};
use crate::mfa::audit::root::{self, RootDevices};
use crate::mfa::audit::{Check, RootMfa};

/// One account whose root needs a person.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WorkItem {
    /// The account id.
    pub account: String,
    /// The account's name.
    pub name: String,
    /// The root user's email address (the console sign-in and password recovery use it).
    pub email: String,
    /// Root's state now.
    pub state: RootState,
    /// The finding that puts root in the queue: `root-mfa-disabled` or `root-mfa-virtual`.
    pub check: Check,
    /// What to do, in order.
    pub steps: Vec<Step>,
}

/// One thing to do.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Step {
    /// What, in a sentence.
    pub what: String,
    /// The command that does it, when one does.
    pub command: Option<String>,
}

/// The accounts whose root needs a person, in the audit's order.
pub fn work(audit: &OrgAudit) -> Vec<WorkItem> {
    audit
        .accounts
        .iter()
        .filter(|a| a.audited() && a.root.needs_person())
        .map(|a| item(audit, a))
        .collect()
}

/// Audited accounts whose root could not be read: a person should look at them too, and audit
/// them again.
pub fn unknown(audit: &OrgAudit) -> Vec<&AccountAudit> {
    audit
        .accounts
        .iter()
        .filter(|a| a.audited() && a.root.state == RootState::Unknown)
        .collect()
}

fn item(audit: &OrgAudit, a: &AccountAudit) -> WorkItem {
    let id = &a.account.id;
    let root: &RootPosture = &a.root;
    let email = if a.account.email.is_empty() {
        "the root user's email address".to_owned()
    } else {
        a.account.email.clone()
    };
    let mut steps = Vec::new();
    if root.password == Some(false) {
        steps.push(Step {
            what: format!(
                "root has no password: allow password recovery centrally (a root session with the task policy IAMCreateRootUserPassword, then iam:CreateLoginProfile without a user name or password in that session), then whoever reads {email} chooses \"Forgot password?\" on the root sign-in page"
            ),
            command: Some(format!(
                "aws sts assume-root --target-principal {id} --task-policy-arn arn=arn:{}:iam::aws:policy/root-task/IAMCreateRootUserPassword",
                audit.partition
            )),
        });
    }
    let virtuals: Vec<&str> = root
        .devices
        .iter()
        .filter(|d| d.device_kind.is_virtual())
        .map(|d| d.serial.as_str())
        .collect();
    let no_mfa = root.mfa.mfa() == RootMfa::None;
    let page = if no_mfa {
        "Security credentials > Assign MFA device"
    } else {
        "Security credentials"
    };
    steps.push(Step {
        what: format!(
            "sign in to the AWS console as the root user of {id} ({}) with {email}, and open {page}",
            a.account.name
        ),
        command: None,
    });
    steps.extend(match no_mfa {
        true => vec![assign(id)],
        false => remove(&root.mfa, &virtuals),
    });
    let check = match no_mfa {
        true => Check::RootMfaDisabled,
        false => Check::RootMfaVirtual,
    };
    WorkItem {
        account: id.clone(),
        name: a.account.name.clone(),
        email: a.account.email.clone(),
        state: root.state,
        check,
        steps,
    }
}

/// Root has no MFA: a FIDO key or hardware token meets the rule; a virtual device on a token
/// ends "no MFA" at once but stays a finding.
fn assign(account: &str) -> Step {
    Step {
        what: "register a FIDO security key or a hardware TOTP token (what the hardware-MFA control asks of root); or choose Authenticator app and let ykmfa write the secret to a token, which ends \"no MFA\" but is still a virtual device to AWS (root-mfa-virtual)".into(),
        command: Some(format!("ykmfa enroll --root --account {account}")),
    }
}

/// Root has a virtual device: add hardware if root has none, then remove the virtual device,
/// or accept the finding (a token-held device kept as backup and CLI factor).
fn remove(mfa: &RootDevices, virtuals: &[&str]) -> Vec<Step> {
    let devices = format!(
        "the virtual device{} {}",
        crate::layout::plural(virtuals.len()),
        virtuals.join(", ")
    );
    let accept = "or accept the root-mfa-virtual finding as your exception (e.g. a token-held device kept as backup and CLI factor)";
    match mfa.hardware_beside() {
        Some(kind) => vec![Step {
            what: format!(
                "root already has a {}: remove {devices} there, {accept}",
                root::noun(kind)
            ),
            command: None,
        }],
        None => vec![
            Step {
                what: "register a FIDO security key or a hardware TOTP token (Assign MFA device)"
                    .into(),
                command: None,
            },
            Step {
                what: format!("then remove {devices}, {accept}"),
                command: None,
            },
        ],
    }
}

/// One row of the manifest draft.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ManifestRow {
    /// The account id.
    pub account_id: String,
    /// The manifest's `account` field: the role ARN, or empty for the caller's own account.
    pub account: String,
    /// The IAM user.
    pub user: String,
}

/// Every IAM user who signs in to the console without MFA, in the audit's order.
pub fn manifest_rows(audit: &OrgAudit) -> Vec<ManifestRow> {
    let mut rows = Vec::new();
    for a in &audit.accounts {
        let id = &a.account.id;
        let account = if *id == audit.caller_account {
            String::new()
        } else {
            audit.role_arn(id)
        };
        for f in a
            .findings
            .iter()
            .filter(|f| f.check == Check::ConsoleWithoutMfa)
        {
            rows.push(ManifestRow {
                account_id: id.clone(),
                account: account.clone(),
                user: f.subject.clone(),
            });
        }
    }
    rows
}

/// The manifest draft as TOML, for `ykmfa bulk plan` (empty rows: a comment only).
pub fn manifest(rows: &[ManifestRow]) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let mut text = String::from(
        "# ykmfa bulk manifest, drafted by `ykmfa audit --organization --queue`: the IAM users who\n\
         # sign in to the console without MFA. Give each row its token (serial = 12345678), or\n\
         # leave it out to be asked for a token when the row's turn comes; then:\n\
         #   ykmfa bulk plan FILE && ykmfa bulk apply FILE\n",
    );
    if rows.is_empty() {
        text.push_str("# (no such user: nothing to enroll)\n");
    }
    for r in rows {
        text.push_str(&format!(
            "\n[[enroll]]\n# account {}\nuser = {}\n",
            r.account_id,
            quote(&r.user)
        ));
        if !r.account.is_empty() {
            text.push_str(&format!("account = {}\n", quote(&r.account)));
        }
        text.push_str("# serial = \n");
    }
    text
}
