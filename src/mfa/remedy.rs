//! What remains when ykmfa could not finish or undo something, and the commands a person runs
//! to finish by hand: the one place those commands are built, so every command and report gives
//! the same lines, quoted for a POSIX shell, in an order that works.

use crate::token::Serial;

/// Something an undo could not remove, and how to remove it by hand.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Leftover {
    /// A virtual MFA device in IAM.
    Device {
        /// Its ARN.
        serial: String,
        /// Whether it is still assigned to the user.
        assigned_to: Option<String>,
        /// Why it could not be removed.
        reason: String,
    },
    /// A credential on a token.
    Credential {
        /// Its id.
        name: String,
        /// The token's serial, when known.
        token_serial: Option<Serial>,
        /// The token as a person recognises it.
        token: String,
        /// Why it could not be removed.
        reason: String,
    },
}

impl Leftover {
    /// What remains, in words: "virtual MFA device ARN (reason)".
    pub fn describe(&self) -> String {
        match self {
            Leftover::Device { serial, reason, .. } => {
                format!("virtual MFA device {serial} ({reason})")
            }
            Leftover::Credential {
                name,
                token,
                reason,
                ..
            } => format!("credential '{name}' on {token} ({reason})"),
        }
    }

    /// The commands that remove it by hand (AWS CLI, ykman), with `aws_flags` (e.g.
    /// `" --profile prod"`) after `aws iam …`; arguments are quoted for a POSIX shell.
    pub fn commands(&self, aws_flags: &str) -> Vec<String> {
        match self {
            Leftover::Device {
                serial,
                assigned_to,
                ..
            } => {
                let serial = shell_quote(serial);
                let mut out = Vec::new();
                if let Some(user) = assigned_to {
                    out.push(format!(
                        "aws iam deactivate-mfa-device{aws_flags} --user-name {} --serial-number {serial}",
                        shell_quote(user)
                    ));
                }
                out.push(format!(
                    "aws iam delete-virtual-mfa-device{aws_flags} --serial-number {serial}"
                ));
                out
            }
            Leftover::Credential {
                name, token_serial, ..
            } => vec![ykman_delete(name, *token_serial)],
        }
    }
}

/// The ykman command that deletes credential `name` from the token with this serial.
pub fn ykman_delete(name: &str, token_serial: Option<Serial>) -> String {
    let device = token_serial
        .map(|s| format!(" --device {s}"))
        .unwrap_or_default();
    // Always quoted: credential names are what people copy, and they mostly hold spaces.
    format!(
        "ykman{device} oath accounts delete '{}'",
        name.replace('\'', r"'\''")
    )
}

/// `text` as one word for a POSIX shell: as is when it is plainly safe, else in single quotes.
pub fn shell_quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./_-".contains(&b));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests;
