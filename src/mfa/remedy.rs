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
    /// `" --profile prod"`, see [`aws_flags`]) after `aws iam …`; arguments are quoted for a
    /// POSIX shell.
    pub fn commands(&self, aws_flags: &str) -> Vec<String> {
        match self {
            Leftover::Device {
                serial,
                assigned_to,
                ..
            } => {
                let mut out = Vec::new();
                if let Some(user) = assigned_to {
                    out.push(aws_deactivate_device(user, serial, aws_flags));
                }
                out.push(aws_delete_device(serial, aws_flags));
                out
            }
            Leftover::Credential {
                name, token_serial, ..
            } => vec![ykman_delete(name, *token_serial)],
        }
    }
}

/// The flags that follow `aws iam …` for `--profile`: `" --profile NAME"`, or nothing.
pub fn aws_flags(profile: Option<&str>) -> String {
    profile
        .map(|p| format!(" --profile {}", shell_quote(p)))
        .unwrap_or_default()
}

/// The AWS CLI command that takes the device of ARN `serial` away from `user`.
pub fn aws_deactivate_device(user: &str, serial: &str, aws_flags: &str) -> String {
    format!(
        "aws iam deactivate-mfa-device{aws_flags} --user-name {} --serial-number {}",
        shell_quote(user),
        shell_quote(serial)
    )
}

/// The AWS CLI command that deletes the unassigned virtual MFA device of ARN `serial`.
pub fn aws_delete_device(serial: &str, aws_flags: &str) -> String {
    format!(
        "aws iam delete-virtual-mfa-device{aws_flags} --serial-number {}",
        shell_quote(serial)
    )
}

/// The ykman command that deletes credential `name` from the token with this serial.
pub fn ykman_delete(name: &str, token_serial: Option<Serial>) -> String {
    let device = token_serial
        .map(|s| format!(" --device {s}"))
        .unwrap_or_default();
    format!("ykman{device} oath accounts delete {}", single_quote(name))
}

/// The ykman command that deletes credential `name` from the token with this serial, or, for a
/// token without one, from the token in the reader named `reader`.
pub fn ykman_delete_at(name: &str, token_serial: Option<Serial>, reader: &str) -> String {
    match token_serial {
        Some(_) => ykman_delete(name, token_serial),
        None => format!(
            "ykman --reader {} oath accounts delete {}",
            single_quote(reader),
            single_quote(name)
        ),
    }
}

/// The ykman command that shows the next code of credential `name`.
pub fn ykman_code(name: &str) -> String {
    format!("ykman oath accounts code {}", single_quote(name))
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
        single_quote(text)
    }
}

/// `text` in single quotes for a POSIX shell, whatever it holds: credential names are what
/// people copy, and they mostly hold spaces.
pub fn single_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The words of `command` as a POSIX shell splits them at spaces, quotes kept as written: where
/// a long command may be broken over lines.
pub fn shell_words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let (mut single, mut double, mut escaped) = (false, false, false);
    for c in command.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if !single => escaped = true,
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            ' ' if !single && !double => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                continue;
            }
            _ => {}
        }
        word.push(c);
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests;
