//! Names IAM accepts, checked before anything is sent: user names, device names, tags.

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
mod tests {
    use super::*;

    #[test]
    fn user_names_follow_iams_pattern() {
        for ok in ["alice", "a.b-c_d+e=f,g@h", &"x".repeat(64)] {
            assert!(UserName::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(UserName::parse(""), Err(NameError::Empty("user name")));
        assert!(matches!(
            UserName::parse(&"x".repeat(65)),
            Err(NameError::TooLong { .. })
        ));
        for bad in ["al ice", "alice/bob", "ålice", "a:b", "a*"] {
            assert_eq!(
                UserName::parse(bad),
                Err(NameError::BadCharacters("user name")),
                "{bad}"
            );
        }
    }

    #[test]
    fn derived_device_names_are_valid_and_bounded() {
        let user = UserName::parse(&"u".repeat(64)).expect("valid");
        let d = DeviceName::derived(&user, "yk12345678");
        assert!(DeviceName::parse(d.as_str()).is_ok());
        assert_eq!(d.as_str(), format!("{}-yk12345678", "u".repeat(64)));
        let long = DeviceName::parse(&"d".repeat(226)).expect("valid");
        let suffixed = long.with_suffix(2);
        assert_eq!(suffixed.as_str().len(), 226);
        assert!(suffixed.as_str().ends_with("-2"));
        assert!(DeviceName::parse(&"d".repeat(227)).is_err());
    }

    #[test]
    fn tags() {
        assert_eq!(
            parse_tag("team=sec ops").expect("ok"),
            ("team".into(), "sec ops".into())
        );
        assert_eq!(parse_tag("k=").expect("ok"), ("k".into(), String::new()));
        for bad in ["novalue", "=v", "aws:x=1", "k=<script>"] {
            assert!(parse_tag(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ykmfas_own_tag_keys_are_refused() {
        for key in [
            "ykmfa:token-serial",
            "ykmfa:credential",
            "ykmfa:created",
            "ykmfa:",
        ] {
            assert_eq!(
                parse_tag(&format!("{key}=12345678")),
                Err(NameError::ReservedTag(key.to_owned())),
                "{key}"
            );
        }
        let err = parse_tag("ykmfa:credential=x").expect_err("refused");
        assert_eq!(
            err.to_string(),
            "tag key 'ykmfa:credential': keys starting with 'ykmfa:' are ykmfa's own"
        );
        // Only the prefix is reserved.
        assert!(parse_tag("team=ykmfa:x").is_ok());
        assert!(parse_tag("my-ykmfa:x=1").is_ok());
    }
}
