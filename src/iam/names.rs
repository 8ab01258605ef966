//! Names IAM accepts, checked before anything is sent: user names, device names, tags; and the
//! tags ykmfa puts on the devices it creates, by which it finds them again.

/// IAM's pattern for user and virtual MFA device names: `[\w+=,.@-]+`.
fn iam_name_chars(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
}

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Empty.
    #[error("the {0} is empty")]
    Empty(&'static str),
    /// Longer than IAM allows.
    #[error("the {what} is {len} characters; IAM allows at most {max}")]
    TooLong {
        /// Which name.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Characters outside IAM's pattern.
    #[error("the {0} may only contain letters, digits and _+=,.@-")]
    BadCharacters(&'static str),
    /// A tag that is not KEY=VALUE or breaks IAM's tag rules.
    #[error("invalid tag '{0}': use KEY=VALUE, key up to 128 and value up to 256 characters")]
    BadTag(String),
    /// A tag whose key is one of ykmfa's own (see [`RESERVED_TAG_PREFIX`]).
    #[error("tag key '{0}': keys starting with '{RESERVED_TAG_PREFIX}' are ykmfa's own")]
    ReservedTag(String),
}

/// Tag key ykmfa puts on the devices it creates: the serial of the token holding the seed.
pub const TAG_TOKEN_SERIAL: &str = "ykmfa:token-serial";
/// Tag key for the token kind.
pub const TAG_TOKEN_KIND: &str = "ykmfa:token-kind";
/// Tag key for the credential label on the token.
pub const TAG_CREDENTIAL: &str = "ykmfa:credential";
/// Tag key for when ykmfa created the device (RFC 3339, UTC): IAM keeps no creation date for
/// virtual MFA devices, and an audit wants the age of an unassigned one.
pub const TAG_CREATED: &str = "ykmfa:created";

/// The prefix of the tag keys ykmfa writes on a device (token serial, credential name,
/// creation time) and reads back in `status`, `audit` and `revoke`. A tag given by a person with
/// this prefix would pass for ykmfa's own: it is refused wherever tags come in.
pub const RESERVED_TAG_PREFIX: &str = "ykmfa:";

/// An IAM user name, validated.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserName(String);

impl UserName {
    /// Validates a user name (1–64 characters of `[\w+=,.@-]`).
    pub fn parse(s: &str) -> Result<Self, NameError> {
        check(s, "user name", 64)?;
        Ok(UserName(s.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for UserName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A virtual MFA device name, validated.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeviceName(String);

/// With the default path `/`, the serial `arn:aws:iam::<account>:mfa/<name>` may not exceed
/// 256 characters, which leaves 226 for the name (IAM API reference, CreateVirtualMFADevice).
pub const MAX_DEVICE_NAME: usize = 226;

impl DeviceName {
    /// Validates a device name.
    pub fn parse(s: &str) -> Result<Self, NameError> {
        check(s, "device name", MAX_DEVICE_NAME)?;
        Ok(DeviceName(s.to_owned()))
    }

    /// The name ykmfa gives a user's device on a token: `alice-yk12345678`.
    pub fn derived(user: &UserName, token_tag: &str) -> Self {
        let mut name = format!("{}-{}", user.as_str(), token_tag);
        name.retain(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
        name.truncate(MAX_DEVICE_NAME);
        DeviceName(name)
    }

    /// The same name with a numeric suffix, to step around a leftover of the same name.
    pub fn with_suffix(&self, n: u32) -> Self {
        let suffix = format!("-{n}");
        let mut base = self.0.clone();
        base.truncate(MAX_DEVICE_NAME - suffix.len());
        DeviceName(base + &suffix)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for DeviceName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A `KEY=VALUE` tag as IAM accepts it, and not one of ykmfa's own keys
/// ([`NameError::ReservedTag`]).
pub fn parse_tag(s: &str) -> Result<(String, String), NameError> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| NameError::BadTag(s.to_owned()))?;
    let allowed = |c: char| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c);
    if k.is_empty()
        || k.chars().count() > 128
        || v.chars().count() > 256
        || !k.chars().all(allowed)
        || !v.chars().all(allowed)
        || k.to_ascii_lowercase().starts_with("aws:")
    {
        return Err(NameError::BadTag(s.to_owned()));
    }
    if k.starts_with(RESERVED_TAG_PREFIX) {
        return Err(NameError::ReservedTag(k.to_owned()));
    }
    Ok((k.to_owned(), v.to_owned()))
}

fn check(s: &str, what: &'static str, max: usize) -> Result<(), NameError> {
    if s.is_empty() {
        return Err(NameError::Empty(what));
    }
    let len = s.chars().count();
    if len > max {
        return Err(NameError::TooLong { what, len, max });
    }
    if !iam_name_chars(s) {
        return Err(NameError::BadCharacters(what));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
