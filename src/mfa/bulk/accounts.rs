//! The accounts a manifest names, each reached once per run: its credentials (a profile, or a
//! role assumed with STS), its [`Limited`] directory, and who the caller is there.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::limit::Limited;
use super::manifest::AccountRef;
use crate::iam::{self, Directory, IamError, Options, Sdk};

/// One account, ready for the run.
pub struct Account {
    /// How it was reached.
    pub reference: AccountRef,
    /// Its directory, shared by the rows of the account.
    pub dir: Limited<Sdk>,
    /// The 12-digit account id.
    pub id: String,
    /// The ARN partition.
    pub partition: String,
}

/// Reaching an account failed: every row of it fails with this.
#[derive(Debug, Clone)]
pub struct Unreachable {
    /// How it was to be reached.
    pub reference: AccountRef,
    /// Why not.
    pub error: IamError,
}

/// The accounts of a run, by reference.
pub type Accounts = BTreeMap<AccountRef, Result<Arc<Account>, Unreachable>>;

/// The session name AssumeRole sessions get (CloudTrail shows it).
const SESSION: &str = "ykmfa-bulk";

/// Connects to every account in `refs`, once each, with at most `cap` IAM calls in flight per
/// account. An account that can't be reached does not stop the others.
pub async fn connect<'a>(
    base: &Options,
    refs: impl IntoIterator<Item = &'a AccountRef>,
    cap: usize,
) -> Accounts {
    let mut out = Accounts::new();
    for r in refs {
        if out.contains_key(r) {
            continue;
        }
        let result = connect_one(base, r, cap)
            .await
            .map_err(|error| Unreachable {
                reference: r.clone(),
                error,
            });
        out.insert(r.clone(), result);
    }
    out
}

async fn connect_one(base: &Options, r: &AccountRef, cap: usize) -> Result<Arc<Account>, IamError> {
    let sdk = match r {
        AccountRef::Default => Sdk::connect(base.clone()).await?,
        AccountRef::Profile(p) => iam::assume::with_profile(base, p).await?,
        AccountRef::Role { arn, .. } => iam::assume::assume_role(base, arn, SESSION).await?,
    };
    let dir = Limited::new(sdk, cap);
    let who = dir.caller_identity().await?;
    if let AccountRef::Role { account, arn } = r {
        if *account != who.account {
            return Err(IamError::Malformed(format!(
                "assuming {arn} gave a session in account {}, not {account}",
                who.account
            )));
        }
    }
    Ok(Arc::new(Account {
        reference: r.clone(),
        partition: who.partition().unwrap_or("aws").to_owned(),
        id: who.account,
        dir,
    }))
}
