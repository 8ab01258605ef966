//! What a person reads of an enrollment: an event's line, the plan, the enrollment done, and
//! what remains after a failure. A plan is shown before anything changes and an event says what
//! is happening, so their text belongs to them; the binary keeps the words of failures (what to
//! do, exit codes) and says where the text goes.

use std::fmt;
use std::path::Path;

use super::{Enrolled, Event, Failure, Plan};
use crate::mfa::remedy;

impl Event<'_> {
    /// The line a person reads (`None`: nothing worth saying); see [`Event::is_warning`].
    pub fn line(&self) -> Option<String> {
        Some(match self {
            Event::Creating(name) => format!("Creating virtual MFA device '{name}'..."),
            Event::Created(_) => return None,
            Event::TagsDenied => "tagging is not allowed (iam:TagMFADevice); creating the device without ykmfa's tags".to_owned(),
            Event::LeftoverRemoved(arn) => format!("Removed {arn}, left unassigned by an earlier interrupted run."),
            Event::NameTaken { taken, next } => format!("The name '{taken}' is taken; using '{next}'."),
            Event::Writing {
                token,
                touch,
                store_touch,
                ..
            } => {
                let line = format!("Writing the credential to {token} and computing two codes...");
                match (touch, store_touch) {
                    (true, true) => format!("{line}\nTouch your token when it blinks (three times: to store the credential, then for each code)."),
                    (true, false) => format!("{line}\nTouch your token when it blinks (twice)."),
                    (false, _) => line,
                }
            }
            Event::TouchNow => "Touch your token now.".to_owned(),
            Event::Enabling => "Enabling the device in IAM...".to_owned(),
            Event::WaitingForStep(secs) => {
                format!("AWS wants codes from fresh time steps; waiting {secs} s...")
            }
            Event::RollingBack => "Undoing what was done...".to_owned(),
            Event::Undone(what) => format!("  {what}"),
        })
    }

    /// Whether the line is a warning: something went otherwise than asked, and the run goes on.
    pub fn is_warning(&self) -> bool {
        matches!(self, Event::TagsDenied)
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tags: Vec<String> = self.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let touch = if self.touch { ", touch required" } else { "" };
        writeln!(f, "Plan (nothing changed):")?;
        writeln!(
            f,
            "  create virtual MFA device '{}' in account {} (tags: {})",
            self.device_name,
            self.account,
            tags.join(", ")
        )?;
        writeln!(
            f,
            "  write credential '{}' to {}{touch}",
            self.credential, self.token
        )?;
        write!(
            f,
            "  enable it for IAM user {} ({} MFA device(s) now)",
            self.user, self.devices_before
        )
    }
}

impl Enrolled {
    /// What a person reads once the user is enrolled with `token`: who signs in with what, and
    /// that the first sign-in needs a fresh code.
    pub fn text(&self, token: &str) -> String {
        format!(
            "Enrolled: {} now signs in with {token} (credential '{}').\nThe codes used to enable it can't be used again: the first sign-in needs the next code ({}).",
            self.user,
            self.credential,
            remedy::ykman_code(&self.credential)
        )
    }

    /// The environment aws-vault's `--prompt ykman` needs to find this credential.
    ///
    /// aws-vault's ykman prompt runs `ykman oath accounts code --single NAME`, where NAME is
    /// `YKMAN_OATH_CREDENTIAL_NAME` or else the profile's `mfa_serial`, and adds `--device
    /// SERIAL` when `YKMAN_OATH_DEVICE_SERIAL` is set (aws-vault `prompt/ykman.go`). ykmfa names
    /// the credential after the AWS label, not the ARN, so the name must be given.
    pub fn aws_vault_settings(&self) -> String {
        let mut text = format!(
            "For aws-vault --prompt ykman (it asks ykman for the credential named by mfa_serial unless told otherwise):\n  export AWS_VAULT_PROMPT=ykman\n  export YKMAN_OATH_CREDENTIAL_NAME={}",
            remedy::single_quote(&self.credential)
        );
        if let Some(serial) = self.token_serial {
            text.push_str(&format!("\n  export YKMAN_OATH_DEVICE_SERIAL={serial}"));
        }
        text
    }
}

impl Failure {
    /// What remains after the failure of `user`'s enrollment, as lines that follow its
    /// sentence: that all was undone, or what could not be, and when the run's record stays
    /// (`record`), that the next run cleans up.
    pub fn remains(&self, user: &str, record: Option<&Path>) -> String {
        let mut text = String::new();
        if self.leftovers.is_empty() && !self.undone.is_empty() {
            text.push_str("\nEverything done was undone; IAM and the token are as they were.");
        }
        if !self.leftovers.is_empty() {
            text.push_str("\nThese could not be undone and remain:");
            for l in &self.leftovers {
                text.push_str(&format!("\n  - {}", l.describe()));
            }
        }
        if let Some(record) = record {
            let record = record.display();
            text.push_str(&if self.leftovers.is_empty() {
                format!("\nAWS may still carry out the call it did not answer; the next 'ykmfa enroll --user {user}' looks again and removes anything it left (recorded in {record}).")
            } else {
                format!("\nThe next 'ykmfa enroll --user {user}' removes these itself (recorded in {record}).")
            });
        }
        text
    }

    /// The commands that remove what remains, with `aws_flags` (`--profile …`) for aws.
    pub fn commands(&self, aws_flags: &str) -> Vec<String> {
        let commands = self.leftovers.iter().flat_map(|l| l.commands(aws_flags));
        commands.collect()
    }
}
