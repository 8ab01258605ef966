//! The names of credentials on a token: the one place they are made and recognised, so that
//! what `enroll` writes is what `resync`, `revoke`, `status` and `audit` look for.
//!
//! Devices enrolled before this module existed carry these exact names (in their tags, or only
//! on the token): a name made here must never change, byte for byte.

use crate::oath::{self, CredentialId, OathType};

/// The issuer authenticator apps show for AWS credentials (the label AWS's QR code carries).
pub const AWS_ISSUER: &str = "Amazon Web Services";

/// The account part of the root user's default name when no account id is given.
pub const UNKNOWN_ACCOUNT: &str = "aws";

/// The user part of the root user's names: `enroll --root`'s default, then the console QR
/// code's label.
const ROOT_USERS: [&str; 2] = ["root", "root-account-mfa-device"];

/// The length of an AWS account id, the shortest account part a default name can have.
const ACCOUNT_ID_LEN: usize = 12;

/// A default name longer than a token holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooLong {
    /// The name, in full.
    pub name: String,
    /// Its length in bytes.
    pub len: usize,
}

/// The name a person gives with `--label ISSUER:ACCOUNT` (or a manifest's `label`): an issuer
/// before the first `:`, if there is one; always a TOTP credential.
pub fn parse(text: &str) -> Result<CredentialId, oath::Error> {
    let (issuer, account) = match text.split_once(':') {
        Some((issuer, account)) => (Some(issuer), account),
        None => (None, text),
    };
    CredentialId::totp(issuer, account)
}

/// The name `enroll` gives `user`'s credential: `Amazon Web Services:USER@ALIAS`, or
/// `…:USER@ACCOUNT` when there is no alias or the alias makes it too long for the token.
pub fn user_label(user: &str, alias: Option<&str>, account: &str) -> Result<CredentialId, TooLong> {
    let mut last = None;
    for target in alias.into_iter().chain(std::iter::once(account)) {
        match aws_name(&format!("{user}@{target}")) {
            Ok(id) => return Ok(id),
            Err(too_long) => last = Some(too_long),
        }
    }
    Err(last.unwrap_or_else(|| too_long(format!("{user}@{account}"))))
}

/// Every name [`user_label`] may have given `user`'s credential, alias first.
pub fn user_labels(user: &str, alias: Option<&str>, account: &str) -> Vec<String> {
    alias
        .into_iter()
        .chain(std::iter::once(account))
        .map(|target| format!("{AWS_ISSUER}:{user}@{target}"))
        .collect()
}

/// The length in bytes of the shortest name [`user_label`] can give `user` (with a 12-digit
/// account id), to refuse a user whose name can't fit before any account is asked.
pub fn shortest_user_label_len(user: &str) -> usize {
    AWS_ISSUER.len() + 1 + user.len() + 1 + ACCOUNT_ID_LEN
}

/// The name `enroll --root` gives the root user's credential: `Amazon Web Services:root@ACCOUNT`,
/// or `…:root@aws` without an account id.
pub fn root_label(account: Option<&str>) -> Result<CredentialId, TooLong> {
    aws_name(&format!(
        "{}@{}",
        ROOT_USERS[0],
        account.unwrap_or(UNKNOWN_ACCOUNT)
    ))
}

/// The names the root user's credential of `account` may have on a token: `enroll --root
/// --account ID`'s default first, then the label of the console's QR code.
pub fn root_labels(account: &str) -> [String; 2] {
    ROOT_USERS.map(|user| format!("{AWS_ISSUER}:{user}@{account}"))
}

/// Whether a credential looks like one made for AWS (by ykmfa, the console's QR code, or a
/// person following ykmfa's advice): a TOTP credential whose issuer is AWS's.
pub fn looks_like_aws(id: &CredentialId) -> bool {
    id.oath_type == OathType::Totp
        && id
            .issuer
            .as_deref()
            .is_some_and(|i| i.eq_ignore_ascii_case(AWS_ISSUER) || i.eq_ignore_ascii_case("AWS"))
}

/// The `USER@ACCOUNT-OR-ALIAS` of a default credential name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Owner {
    /// The IAM user name (`root` or `root-account-mfa-device` for the root user).
    pub user: String,
    /// The account id or alias.
    pub account: String,
}

impl Owner {
    /// Whether the name is one of the root user's ([`root_labels`]).
    pub fn is_root(&self) -> bool {
        ROOT_USERS.contains(&self.user.as_str())
    }
}

/// The owner a credential name in a default form names (`…:USER@ACCOUNT`). User names may
/// contain `@`, account ids and aliases may not: the last `@` splits.
pub fn owner(id: &CredentialId) -> Option<Owner> {
    if !looks_like_aws(id) {
        return None;
    }
    let (user, account) = id.account.rsplit_once('@')?;
    (!user.is_empty() && !account.is_empty()).then(|| Owner {
        user: user.to_owned(),
        account: account.to_owned(),
    })
}

/// `Amazon Web Services:ACCOUNT`, if the token can hold it.
fn aws_name(account: &str) -> Result<CredentialId, TooLong> {
    CredentialId::totp(Some(AWS_ISSUER), account).map_err(|e| match e {
        oath::Error::NameTooLong { len, .. } => TooLong {
            name: format!("{AWS_ISSUER}:{account}"),
            len,
        },
        // The issuer is fixed and the account part non-empty: only the length can fail.
        _ => too_long(account.to_owned()),
    })
}

fn too_long(account: String) -> TooLong {
    let name = format!("{AWS_ISSUER}:{account}");
    TooLong {
        len: name.len(),
        name,
    }
}

#[cfg(test)]
mod tests;
