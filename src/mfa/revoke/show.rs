//! What a person reads of a revocation: the plan shown before it is confirmed, each step as it
//! runs, and the outcome. A plan is shown and confirmed, so its text belongs to the plan; the
//! words of a failure (and the exit codes) stay the binary's.

use std::fmt;

use crate::mfa::{labels, Leftover};
use crate::token::Serial;

use super::{
    CredentialOutcome, CredentialPlan, Event, Failure, Plan, Principal, Remaining, Revoked,
};

impl fmt::Display for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Deactivating(d) => write!(f, "Deactivating {d}..."),
            Event::AlreadyDeactivated(d) => write!(f, "IAM lists {d} as no longer assigned."),
            Event::Deleting(d) => write!(f, "Deleting {d}..."),
            Event::DeletingCredential { name, token } => {
                write!(f, "Deleting credential '{name}' from {token}...")?;
                if token.kind.confirms_writes_by_touch() {
                    write!(f, "\nTouch your Nitrokey to confirm the deletion.")?;
                }
                Ok(())
            }
        }
    }
}

impl Plan {
    /// The plan as a person reads it before confirming: whose device, which account (and, for
    /// a root session, the account it was opened `from`), the device ARN, and each step.
    pub fn text(&self, from: Option<&str>) -> String {
        let account = &self.account;
        let mut lines = vec![match &self.principal {
            Principal::User { name } => format!("Plan for IAM user {name} (account {account}):"),
            Principal::Root => format!("Plan for the root user of member account {account}:"),
        }];
        if let Some(from) = from {
            lines.push(format!(
                "  through   a root session opened from account {from} (15 minutes at most)"
            ));
        }
        lines.push(format!("  device    {}", self.device));
        lines.push(if self.credential == CredentialPlan::Hardware {
            "  IAM       deactivate it (a hardware token: nothing to delete)".to_owned()
        } else if self.assigned {
            "  IAM       deactivate it, then delete it".to_owned()
        } else {
            "  IAM       delete it (it is assigned to nobody already)".to_owned()
        });
        let (token, name) = self.credential.words();
        lines.push(format!("  token     {token}"));
        lines.extend(name.map(|n| format!("            {n}")));
        let after = self
            .devices_before
            .saturating_sub(usize::from(self.assigned));
        lines.push(if after == 0 && self.assigned {
            "  after     NO MFA device left (--allow-last was given)".to_owned()
        } else {
            format!("  after     {after} MFA device(s) left")
        });
        lines.join("\n")
    }
}

impl CredentialPlan {
    /// What happens on the token, and the credential's name on a line of its own (names run up
    /// to 64 bytes: the plan stays within 80 columns).
    fn words(&self) -> (String, Option<String>) {
        let on =
            |s: &Option<Serial>| s.map_or_else(|| "its token".to_owned(), |s| format!("token {s}"));
        let quoted = |n: &str| Some(format!("'{n}'"));
        match self {
            CredentialPlan::Delete { name, token, .. } => {
                (format!("delete from {token} the credential"), quoted(name))
            }
            CredentialPlan::Keep {
                name: Some(name),
                token_serial,
            } => (
                format!(
                    "keep on {} (--keep-credential) the credential",
                    on(token_serial)
                ),
                quoted(name),
            ),
            CredentialPlan::Keep { name: None, .. } => (
                "leave the tokens alone (--keep-credential)".to_owned(),
                None,
            ),
            CredentialPlan::Remains {
                name: Some(name),
                token_serial,
            } => (
                format!(
                    "{} is not connected; left on it is the credential",
                    on(token_serial)
                ),
                quoted(name),
            ),
            CredentialPlan::Remains { name: None, .. } => (
                "no connected token holds its credential (nothing to delete)".to_owned(),
                None,
            ),
            CredentialPlan::AlreadyGone { name, token } => (
                format!("nothing to delete: {token} no longer holds the credential"),
                quoted(name),
            ),
            CredentialPlan::NotLookedFor => ("not touched".to_owned(), None),
            CredentialPlan::Hardware => {
                ("none (AWS holds a hardware token's seed)".to_owned(), None)
            }
        }
    }
}

impl Revoked {
    /// "Revoked: ARN is deactivated and deleted in IAM.", then what happened to the credential.
    pub fn summary(&self) -> String {
        let credential = match &self.credential {
            CredentialOutcome::Deleted { name, token } => {
                format!("\nCredential '{name}' deleted from {token}.")
            }
            CredentialOutcome::Kept { name: Some(n), .. } => {
                format!("\nCredential '{n}' kept on its token, as asked.")
            }
            CredentialOutcome::AlreadyGone { name, token } => {
                format!("\nCredential '{name}' was already gone from {token}.")
            }
            _ => String::new(),
        };
        let state = if self.deactivated {
            "deactivated"
        } else {
            "no longer assigned"
        };
        if self.credential == CredentialOutcome::Hardware {
            let device = &self.device;
            return format!("Revoked: hardware token {device} is {state}; it can be enabled again for anyone (ykmfa enroll --user NAME --hardware-serial {device}).");
        }
        format!(
            "Revoked: {} is {state} and deleted in IAM.{credential}",
            self.device
        )
    }

    /// The words for the credential this revocation left on a token (`left`, from
    /// [`Revoked::remaining`]).
    pub fn remaining_text(&self, left: &Remaining) -> String {
        let Remaining {
            name,
            token_serial,
            command,
            ..
        } = left;
        let on = token_serial.map_or_else(|| "its token".to_owned(), |s| format!("token {s}"));
        match (name, command) {
            (Some(name), Some(command))
                if self.principal == Principal::Root && token_serial.is_none() =>
            {
                let [_, console] = labels::root_labels(&self.account);
                format!(
                    "No connected token holds the root user's credential. On the lost token it is \
                     named '{name}' if ykmfa enroll --root wrote it ('{console}' from the console's \
                     QR code). It computes codes for a device that no longer exists; remove it if \
                     the token turns up:\n  {command}"
                )
            }
            (Some(name), Some(command)) => format!(
                "The credential '{name}' remains on {on}, which is not connected. It computes codes \
                 for a device that no longer exists; remove it once the token is back:\n  {command}"
            ),
            _ => "No connected token holds the device's credential and ykmfa has no record of which \
                  one did; if a token still has it, remove it with: ykman oath accounts delete NAME"
                .to_owned(),
        }
    }

    /// When the principal is left without any MFA device: what to do about it.
    pub fn without_mfa(&self) -> Option<String> {
        if self.devices_left != 0 || !self.deactivated {
            return None;
        }
        Some(match &self.principal {
            Principal::User { name } => format!(
                "IAM user {name} has no MFA device now; enroll a new token: ykmfa enroll --user {name}"
            ),
            Principal::Root => format!(
                "the root user of account {} has no MFA device now; assign a new one in the console, \
                 or remove the root password too (centralized root access)",
                self.account
            ),
        })
    }
}

impl Failure {
    /// What was done and what remains, each on a line of its own, to follow the cause:
    /// "Nothing was changed." when that is so, else "Done: …." and "These remain:" with each
    /// leftover (none: nothing more to say).
    pub fn state(&self) -> String {
        if self.leftovers.is_empty() && self.done.is_empty() {
            return "\nNothing was changed.".to_owned();
        } else if self.leftovers.is_empty() {
            return String::new();
        }
        let mut text = String::new();
        if !self.done.is_empty() {
            let done: Vec<String> = self.done.iter().map(ToString::to_string).collect();
            text.push_str(&format!("\nDone: {}.", done.join(", ")));
        }
        text.push_str("\nThese remain:");
        for left in &self.leftovers {
            let line = match left {
                Leftover::Device {
                    serial,
                    assigned_to: Some(_),
                    reason,
                } => format!("virtual MFA device {serial}, still assigned ({reason})"),
                Leftover::Device { serial, reason, .. } => {
                    format!("virtual MFA device {serial}, deactivated, not deleted ({reason})")
                }
                credential => credential.describe(),
            };
            text.push_str(&format!("\n  - {line}"));
        }
        text
    }
}

#[cfg(test)]
mod tests;
