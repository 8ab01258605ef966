//! The words of a revocation that was refused or stopped.

use ykmfa::iam::RootSessionError;
use ykmfa::mfa::remedy::aws_delete_device;
use ykmfa::mfa::revoke::{
    self as revocation, Cause, Plan, PreflightError, Principal, Refusal, Stopped,
};

use crate::cli::report::{self, iam_failure, profile_flag, Exit};
use crate::cli::{settle, Failure, Global};

/// Why the revocation (of root's device in `account`, with `--root-of`) ended, in words.
pub(super) fn stopped_failure(
    e: Stopped<Failure>,
    account: Option<&str>,
    global: &Global,
) -> Failure {
    match e {
        Stopped::Preflight(PreflightError::Cause(c)) => cause_failure(c, global),
        Stopped::Preflight(PreflightError::Tokens(e)) => report::tokens_failure(e),
        Stopped::Settle(e) => settle::settle_failure(e),
        Stopped::RootSession(e) => root_session_failure(e, account.unwrap_or_default(), global),
        Stopped::Transport(e) => e.into(),
        Stopped::Gone(token) => {
            let fix = "reconnect it, or pass --keep-credential to leave the credential";
            report::no_longer_connected(&token, fix)
        }
        Stopped::Hook(f) => f,
        Stopped::Revoke(f, plan) => revoke_failure(*f, &plan, global),
    }
}

fn cause_failure(cause: Cause, global: &Global) -> Failure {
    match cause {
        Cause::Refused(r) => refusal_failure(r, global),
        Cause::Iam { error, .. } => iam_failure(&error, global),
        Cause::Card { error, .. } => error.into(),
        Cause::Interrupted => {
            Failure::new(Exit::Interrupted, "interrupted; nothing was changed", &[])
        }
    }
}

fn refusal_failure(r: Refusal, global: &Global) -> Failure {
    let p = profile_flag(global);
    let devices =
        |u: &str| format!("the user's devices: aws iam list-mfa-devices{p} --user-name {u}");
    let name_one = |who: String| format!("name one: ykmfa revoke {who} --device ARN");
    let leave = |what: &str| format!("or leave {what} alone: --keep-credential");
    let (code, fix): (Exit, Vec<String>) = match &r {
        Refusal::UnknownUser(..) => (Exit::Iam, vec![LIST_USERS.into()]),
        Refusal::OtherAccount { .. } => (Exit::Usage, vec![OTHER_ACCOUNT.into()]),
        Refusal::UnknownDevice(_) | Refusal::NotUsersDevice { .. } => {
            (Exit::Iam, vec![devices("USER")])
        }
        Refusal::OtherUsersDevice { owner, device, .. } => {
            let fix =
                format!("to revoke it from {owner}: ykmfa revoke --user {owner} --device {device}");
            (Exit::Iam, vec![fix])
        }
        Refusal::RootsDevice { .. } => (Exit::Iam, vec![ROOTS.into()]),
        Refusal::Unassigned { device, .. } => {
            let delete = aws_delete_device(device, &p);
            (
                Exit::Iam,
                vec![format!("an unassigned device is deleted with: {delete}")],
            )
        }
        Refusal::NoDeviceOnToken { user, .. } => {
            let name = format!("name the device instead: ykmfa revoke --user {user} --device ARN");
            (Exit::TokenNotFound, vec![name, devices(user)])
        }
        Refusal::SeveralOnToken { user, .. } => (
            Exit::TokenNotFound,
            vec![name_one(format!("--user {user}"))],
        ),
        Refusal::LastDevice { principal, .. } => {
            let first = match principal {
                Principal::User { name } => format!(
                    "better, enroll another token first: ykmfa enroll --user {name} --serial NEW_SERIAL"
                ),
                Principal::Root => {
                    "better, assign another MFA device to root in the console first".to_owned()
                }
            };
            (Exit::Iam, vec![ALLOW_LAST.into(), first])
        }
        Refusal::TokenLocked { .. } => (
            Exit::Token,
            vec![
                report::GIVE_PASSWORD.into(),
                "or leave the credential on the token: --keep-credential".into(),
            ],
        ),
        Refusal::AmbiguousCredential { .. } => (
            Exit::TokenNotFound,
            vec![NAME_IT.into(), leave("the token")],
        ),
        Refusal::AssignedElsewhere { .. } => (Exit::Iam, vec![USERS_DEVICE.into()]),
        Refusal::NoRootMfa(_) => (Exit::Iam, vec!["nothing to revoke".into()]),
        Refusal::SeveralRootCredentials { .. } => (
            Exit::TokenNotFound,
            vec![STALE_ONE.into(), leave("the tokens")],
        ),
        Refusal::SeveralRootDevices { account, .. } => {
            (Exit::Iam, vec![name_one(format!("--root-of {account}"))])
        }
    };
    // Refusals about the tokens say that nothing has changed yet.
    let unchanged = matches!(
        r,
        Refusal::TokenLocked { .. }
            | Refusal::AmbiguousCredential { .. }
            | Refusal::SeveralRootCredentials { .. }
    );
    let what = match unchanged {
        true => format!("{r}; nothing was changed"),
        false => r.to_string(),
    };
    Failure { what, fix, code }
}

const LIST_USERS: &str = "check the name (IAM user names are case-sensitive): aws iam list-users";
const OTHER_ACCOUNT: &str = "use credentials of the device's account (--profile), or check the ARN";
const ROOTS: &str = "root's MFA is removed in the console by root, or from the organization's management account: ykmfa revoke --root-of ACCOUNT_ID";
const ALLOW_LAST: &str = "if that is what you want (a lost token, no other), add --allow-last";
const NAME_IT: &str =
    "name the credential: --label 'ISSUER:ACCOUNT' (as 'ykman oath accounts list' shows it)";
const USERS_DEVICE: &str = "a user's device is revoked with: ykmfa revoke --user NAME --device ARN (credentials of that account)";
const STALE_ONE: &str = "delete the stale one first (ykman --device SERIAL oath accounts delete NAME), or disconnect its token";

/// A revocation that stopped: the cause, then what remains with the command that finishes each.
fn revoke_failure(f: revocation::Failure, plan: &Plan, global: &Global) -> Failure {
    let state = f.state();
    let mut failure = match f.cause {
        Cause::Interrupted => Failure::new(Exit::Interrupted, "interrupted", &[]),
        other => cause_failure(other, global),
    };
    failure.what.push_str(&state);
    if !f.leftovers.is_empty() {
        let p = profile_flag(global);
        failure.code = Exit::Incomplete;
        failure.fix = f
            .leftovers
            .iter()
            .map(|l| plan.finishing_command(l, &p))
            .collect();
    }
    failure
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
