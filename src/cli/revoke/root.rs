//! `ykmfa revoke --root-of ACCOUNT`: a member account's root MFA device, through a root session
//! opened from the organization's management (or delegated administrator) account.

use ykmfa::iam::RootSessionError;
use ykmfa::mfa::pairing::DeviceArn;
use ykmfa::mfa::revoke::{self as revocation, CredentialPlan, RootAccess, Tokens};
use ykmfa::mfa::Cancel;
use ykmfa::token::Token;

use super::failure::{cause_failure, preflight_failure, refusal_failure};
use super::{connect, finish, go_ahead, oath_password, open_card, unreachable, watch};
use super::{RevokeArgs, Words};
use crate::cli::report::{self, iam_failure, Exit};
use crate::cli::{Failure, Global, Output};

/// Runs `ykmfa revoke --root-of ACCOUNT` (`device`: `--device`).
pub(super) async fn run(
    out: &Output,
    global: &Global,
    args: &RevokeArgs,
    account: &str,
    device: Option<&DeviceArn>,
) -> Result<(), Failure> {
    let dir = &connect(global).await?;
    let opening = || {
        out.info(format!(
            "Opening a root session on account {account} (sts:AssumeRoot, task policy \
             IAMDeleteRootUserCredentials, 15 minutes)..."
        ))
    };
    let fail = |e| root_session_failure(e, account, global);
    let mut access = RootAccess::open(dir, account, opening)
        .await
        .map_err(fail)?;
    let root = &access.session.directory;
    let mut plan = revocation::root_plan(root, account, device)
        .await
        .map_err(|c| cause_failure(c, global))?;
    plan.check_last(args.allow_last)
        .map_err(|r| refusal_failure(r, global))?;

    // The root credential on the tokens present, by name (root devices carry no tags).
    let keep = args.keep_credential;
    let mut tokens = Tokens::look(false, keep)?;
    report::skipped(out, &tokens.present.unusable);
    let ask = &mut |t: &Token| oath_password(args, t);
    tokio::task::block_in_place(|| tokens.place_root_credential(&mut plan, keep, ask))
        .map_err(|e| preflight_failure(e, global))?;
    if let Some(why) = &tokens.unreachable {
        out.warn(unreachable(why));
    } else if plan.credential == CredentialPlan::NotLookedFor {
        out.warn(format!(
            "the root user of account {account} has other MFA devices, and a root credential \
             carries no record of its device: the tokens are left alone (remove the revoked \
             device's credential with: ykman oath accounts delete NAME)"
        ));
    }
    if !go_ahead(out, global, args, &plan, Some(&access.caller.account))? {
        return Ok(());
    }
    // A person may take a while to answer: a session about to expire is opened anew.
    access.refresh(dir).await.map_err(fail)?;
    let mut card = open_card(&plan, &tokens.present)?;
    let cancel = Cancel::default();
    let watcher = watch(&cancel)?;
    let root = &access.session.directory;
    let result = revocation::revoke(root, card.as_mut(), &plan, &Words(out), &cancel).await;
    drop(watcher);
    finish(out, global, &plan, result)
}

/// A root session that could not be opened (`--root-of ACCOUNT`), with the way to allow it.
fn root_session_failure(e: RootSessionError, account: &str, global: &Global) -> Failure {
    use RootSessionError as E;
    let member = format!(
        "check that {account} is a member: aws organizations describe-account --account-id {account}"
    );
    let (code, fix): (Exit, &[&str]) = match &e {
        E::InvalidAccount(_) | E::OwnAccount(_) => (Exit::Usage, &[MEMBER_ID]),
        E::TargetRefused { .. } => (Exit::Iam, &[MEMBER_ID]),
        E::RootCaller => (
            Exit::Usage,
            &["use an IAM user or role of the management account (--profile NAME)"],
        ),
        E::NotManagementAccount { .. } => (Exit::Aws, &[MANAGEMENT, DELEGATE]),
        E::NoOrganization { .. } => (Exit::Aws, &[NO_ORGANIZATION]),
        E::NotAllFeatures => (Exit::Aws, &[ALL_FEATURES]),
        E::TrustedAccessNotEnabled | E::NotEnabled { .. } => (Exit::Aws, &ENABLE),
        // Centralized root access is on: enabling it again is no advice.
        E::NotMemberOrDenied { .. } => (Exit::Aws, &[&member, ASSUME_ROOT]),
        E::Denied { .. } => (Exit::Aws, &[&member, ASSUME_ROOT, ENABLE[0], ENABLE[1]]),
        E::RegionDisabled { .. } => (Exit::Aws, &[REGION]),
        E::Iam(e) => return iam_failure(e, global),
    };
    Failure::new(code, e.to_string(), fix)
}

const MEMBER_ID: &str = "--root-of takes the id of a member account of your organization: aws organizations list-accounts";
const MANAGEMENT: &str = "use credentials of the management account (--profile NAME)";
const DELEGATE: &str = "or register this account as delegated administrator, in the management account: aws organizations register-delegated-administrator --service-principal iam.amazonaws.com --account-id THIS_ACCOUNT";
const NO_ORGANIZATION: &str = "--root-of works from an AWS Organizations management account; sign in to the member account's root user (password reset) instead";
const ALL_FEATURES: &str =
    "enable all features: aws organizations enable-all-features (every member account must accept)";
const ENABLE: [&str; 2] = [
    "in the management account: aws organizations enable-aws-service-access --service-principal iam.amazonaws.com",
    "then: aws iam enable-organizations-root-credentials-management && aws iam enable-organizations-root-sessions",
];
const ASSUME_ROOT: &str = "allow sts:AssumeRoot with the task policy IAMDeleteRootUserCredentials (identity policy, and no SCP denying it)";
const REGION: &str = "use a region where STS is active: --region us-east-1 (AssumeRoot needs a regional STS endpoint)";
