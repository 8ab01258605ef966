//! `ykmfa revoke`: an MFA device out of IAM (deactivated, deleted) and its credential off the
//! token; or, with `--root-of`, a member account's root MFA device through a root session.

use serde_json::json;

use ykmfa::iam::{names, RootSessionError, Sdk};
use ykmfa::mfa::pairing::DeviceArn;
use ykmfa::mfa::remedy::ykman_delete;
use ykmfa::mfa::revoke::{
    self as revocation, Cause, CredentialOutcome, CredentialPlan, Event, Plan, PreflightError,
    Principal, Refusal, Revoked, RootAccess, Target, Tokens, UserRequest, UserSurvey,
};
use ykmfa::mfa::{labels, Cancel, Leftover};
use ykmfa::token::{PcscCard, Present, Serial, Token};

use super::report::{iam_failure, Exit};
use super::words::{self, profile_flag};
use super::{prompt, settle, Failure, Global, Output};

/// Arguments of `ykmfa revoke`.
#[derive(clap::Args, Debug)]
#[command(after_help = AFTER_HELP)]
pub struct RevokeArgs {
    /// The IAM user whose device is revoked.
    #[arg(long, value_name = "NAME", required_unless_present = "root_of")]
    pub user: Option<String>,
    /// The device, by ARN (as 'aws iam list-mfa-devices --user-name NAME' shows it).
    #[arg(long, value_name = "ARN")]
    pub device: Option<String>,
    /// Or: the user's device whose credential lives on the token with this serial.
    #[arg(long, value_name = "SERIAL", conflicts_with_all = ["device", "root_of"])]
    pub serial: Option<Serial>,
    /// The credential's name on the token, when neither ykmfa's tags nor the default name
    /// ("Amazon Web Services:USER@ACCOUNT") find it. Needs --device.
    #[arg(
        long,
        value_name = "ISSUER:ACCOUNT",
        requires = "device",
        conflicts_with = "root_of"
    )]
    pub label: Option<String>,
    /// Leave the credential on the token (only IAM changes).
    #[arg(long)]
    pub keep_credential: bool,
    /// Allow removing the principal's last MFA device (it would then sign in without MFA).
    #[arg(long)]
    pub allow_last: bool,
    /// Check everything and print the plan, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Ask for the token's OATH password (no echo). For automation, set YKMFA_OATH_PASSWORD.
    #[arg(long)]
    pub oath_password: bool,
    /// The root user of this member account, through a root session opened from the
    /// organization's management (or delegated administrator) account with sts:AssumeRoot.
    #[arg(long, value_name = "ACCOUNT_ID", conflicts_with = "user")]
    pub root_of: Option<String>,
}

const AFTER_HELP: &str = "\
Examples:
  ykmfa revoke --user alice --device arn:aws:iam::123456789012:mfa/alice-yk12345678
  ykmfa revoke --user alice --serial 12345678     (the device whose credential is on that token)
  ykmfa revoke --user alice --serial 12345678 --dry-run --json
  ykmfa revoke --user alice --device ARN --keep-credential --yes
  ykmfa revoke --root-of 111111111111 --allow-last   (lost root token; management account)

Steps: DeactivateMFADevice, DeleteVirtualMFADevice, then the credential is deleted from the token
if it is connected (otherwise ykmfa says which credential remains on which token, with the ykman
command that removes it). The plan is shown and confirmed first (--yes for scripts). A user's (or
root's) last MFA device is kept unless --allow-last. If a step fails, ykmfa stops and lists what
remains with the commands that finish it (exit code 8).
With --root-of, the root credential on a connected token is the one named
'Amazon Web Services:root@ACCOUNT_ID' (ykmfa enroll --root) or '...:root-account-mfa-device@ACCOUNT_ID'
(the console's QR code); it is deleted only while the revoked device is root's only one.

Needs iam:ListMFADevices, iam:ListMFADeviceTags, iam:DeactivateMFADevice,
iam:DeleteVirtualMFADevice, iam:GetUser (optional: iam:ListVirtualMFADevices to say whose a
foreign device is, iam:ListAccountAliases).
--root-of needs sts:AssumeRoot in the management or delegated administrator account, with
centralized root access enabled for the organization (RootCredentialsManagement and RootSessions);
iam:ListOrganizationsFeatures (optional) explains a refusal.";

/// The arguments, validated once.
enum Request {
    User(UserRequest),
    Root {
        account: String,
        device: Option<DeviceArn>,
    },
}

fn usage(what: impl Into<String>) -> Failure {
    words::usage("revoke", what)
}

fn request(args: &RevokeArgs) -> Result<Request, Failure> {
    let device = args
        .device
        .as_deref()
        .map(|d| DeviceArn::parse(d.trim()))
        .transpose()
        .map_err(|e| words::bad_arn(e.to_string()))?;
    if let Some(account) = &args.root_of {
        let account = account.trim();
        if !ykmfa::iam::is_account_id(account) {
            return Err(usage(format!(
                "--root-of '{account}' is not an AWS account id (12 digits)"
            )));
        }
        if let Some(arn) = device.as_ref().filter(|d| d.account() != account) {
            return Err(usage(format!(
                "{arn} is in account {}, not in member account {account}",
                arn.account()
            )));
        }
        return Ok(Request::Root {
            account: account.to_owned(),
            device,
        });
    }
    let user = names::UserName::parse(args.user.as_deref().unwrap_or_default())
        .map_err(|e| usage(e.to_string()))?;
    let target =
        match (device, args.serial) {
            (Some(arn), _) => Target::Device(arn),
            (None, Some(serial)) => Target::Token(serial),
            (None, None) => return Err(usage(
                "say which device: --device ARN, or --serial SERIAL for the device on that token",
            )),
        };
    let label = match &args.label {
        None => None,
        Some(l) => Some(
            labels::parse(l)
                .map_err(|e| usage(format!("--label: {e}")))?
                .to_string(),
        ),
    };
    Ok(Request::User(UserRequest {
        user: user.to_string(),
        target,
        label,
        keep_credential: args.keep_credential,
        allow_last: args.allow_last,
    }))
}

/// Runs `ykmfa revoke`.
pub async fn run(out: &Output, global: &Global, args: &RevokeArgs) -> Result<(), Failure> {
    match request(args)? {
        Request::User(req) => run_user(out, global, args, &req).await,
        Request::Root { account, device } => {
            run_root(out, global, args, &account, device.as_ref()).await
        }
    }
}

async fn run_user(
    out: &Output,
    global: &Global,
    args: &RevokeArgs,
    req: &UserRequest,
) -> Result<(), Failure> {
    // Every stop signal from here on, before the settling of dead runs changes anything.
    let cancel = Cancel::default();
    let watcher = (!args.dry_run).then(|| watch(&cancel)).transpose()?;
    let dir = connect(global).await?;
    let fail = |c| cause_failure(c, global);
    let mut survey = UserSurvey::read(&dir, req).await.map_err(fail)?;
    if survey.view.tags_denied {
        out.warn(words::TAGS_DENIED);
    }
    words::skipped(out, &survey.tokens.present.unusable);

    // The user's lock, held to the end; then what dead runs left for the user or these tokens
    // (only reported by a dry run, which changes nothing).
    let (account, tokens) = (&survey.view.account, &survey.tokens.present);
    let (_lock, changed) = if args.dry_run {
        settle::report(out, account, &req.user, &settle::serials(&tokens.tokens));
        (None, false)
    } else {
        let password = || tokens.password();
        settle::lock_and_settle(out, &dir, account, &req.user, &tokens.tokens, password).await?
    };
    if changed {
        survey.again(&dir, req).await.map_err(fail)?;
        words::skipped(out, &survey.tokens.present.unusable);
    }
    let mut ask = |t: &Token| oath_password(args, t);
    let plan = tokio::task::block_in_place(|| survey.plan(req, &mut ask))
        .map_err(|e| preflight_failure(e, global))?;
    if let Some(why) = &survey.tokens.unreachable {
        out.warn(unreachable(why));
    }
    show_plan(out, &plan, None);
    if args.dry_run {
        return dry_run(out, &plan);
    }
    confirm(global)?;

    let mut card = open_card(&plan, &survey.tokens.present)?;
    let result = revocation::revoke(&dir, card.as_mut(), &plan, &Words(out), &cancel).await;
    drop(watcher);
    finish(out, global, &plan, result)
}

async fn run_root(
    out: &Output,
    global: &Global,
    args: &RevokeArgs,
    account: &str,
    device: Option<&DeviceArn>,
) -> Result<(), Failure> {
    let dir = connect(global).await?;
    let opening = || {
        out.info(format!(
            "Opening a root session on account {account} (sts:AssumeRoot, task policy \
             IAMDeleteRootUserCredentials, 15 minutes)..."
        ))
    };
    let fail = |e| root_session_failure(e, account, global);
    let mut access = RootAccess::open(&dir, account, opening)
        .await
        .map_err(fail)?;
    let mut plan = revocation::root_plan(&access.session.directory, account, device)
        .await
        .map_err(|c| cause_failure(c, global))?;
    plan.check_last(args.allow_last)
        .map_err(|r| refusal_failure(r, global))?;

    // The root credential on the tokens present, by name (root devices carry no tags).
    let mut tokens = Tokens::look(false, args.keep_credential)?;
    words::skipped(out, &tokens.present.unusable);
    let mut ask = |t: &Token| oath_password(args, t);
    tokio::task::block_in_place(|| {
        tokens.place_root_credential(&mut plan, args.keep_credential, &mut ask)
    })
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
    show_plan(out, &plan, Some(&access.caller.account));
    if args.dry_run {
        return dry_run(out, &plan);
    }
    confirm(global)?;
    // A person may take a while to answer: a session about to expire is opened anew.
    access.refresh(&dir).await.map_err(fail)?;
    let mut card = open_card(&plan, &tokens.present)?;
    let cancel = Cancel::default();
    let watcher = watch(&cancel)?;
    let directory = &access.session.directory;
    let result = revocation::revoke(directory, card.as_mut(), &plan, &Words(out), &cancel).await;
    drop(watcher);
    finish(out, global, &plan, result)
}

// ---- shared ----

async fn connect(global: &Global) -> Result<Sdk, Failure> {
    Sdk::connect(global.aws_options())
        .await
        .map_err(|e| iam_failure(&e, global))
}

/// `YKMFA_OATH_PASSWORD`, or the prompt (`--oath-password`, or a terminal and a protected
/// token), as enroll does.
fn oath_password(
    args: &RevokeArgs,
    token: &Token,
) -> Result<Option<zeroize::Zeroizing<String>>, Failure> {
    prompt::oath_password(args.oath_password || prompt::has_tty(), &token.describe())
}

fn unreachable(why: &str) -> String {
    format!("ykmfa could not look at the tokens ({why}); the credential is left where it is")
}

/// The token the plan deletes a credential from, opened (with the password, if one was given).
fn open_card(plan: &Plan, present: &Present) -> Result<Option<PcscCard>, Failure> {
    let CredentialPlan::Delete { token, .. } = &plan.credential else {
        return Ok(None);
    };
    let fix = "reconnect it, or pass --keep-credential to leave the credential";
    match present.open(&token.reader)? {
        Some(card) => Ok(Some(card)),
        None => Err(words::no_longer_connected(token, fix)),
    }
}

struct Words<'a>(&'a Output);

impl revocation::Progress for Words<'_> {
    fn event(&self, event: Event<'_>) {
        match event {
            Event::Deactivating(d) => self.0.info(format!("Deactivating {d}...")),
            Event::AlreadyDeactivated(d) => {
                self.0.info(format!("IAM lists {d} as no longer assigned."))
            }
            Event::Deleting(d) => self.0.info(format!("Deleting {d}...")),
            Event::DeletingCredential { name, token } => self
                .0
                .info(format!("Deleting credential '{name}' from {token}...")),
        }
    }
}

fn watch(cancel: &Cancel) -> Result<super::interrupt::Interrupt, Failure> {
    super::interrupt::Interrupt::watch(
        cancel,
        "finishing the current step, then stopping. What remains is listed.",
        "Quit at once: check with 'aws iam list-mfa-devices' and 'ykman oath accounts list'.",
    )
}

fn principal_words(plan: &Plan) -> String {
    match &plan.principal {
        Principal::User { name } => format!("IAM user {name} (account {})", plan.account),
        Principal::Root => format!("the root user of member account {}", plan.account),
    }
}

fn show_plan(out: &Output, plan: &Plan, management: Option<&str>) {
    out.info(plan_text(plan, management));
}

/// The plan as a person reads it before confirming: whose device, which account (and, for a
/// root session, from where), the device ARN, and each step.
fn plan_text(plan: &Plan, management: Option<&str>) -> String {
    let mut lines = vec![format!("Plan for {}:", principal_words(plan))];
    if let Some(from) = management {
        lines.push(format!(
            "  through   a root session opened from account {from} (15 minutes at most)"
        ));
    }
    lines.push(format!("  device    {}", plan.device));
    lines.push(if plan.assigned {
        "  IAM       deactivate it, then delete it".to_owned()
    } else {
        "  IAM       delete it (it is assigned to nobody already)".to_owned()
    });
    let (token, name) = credential_words(&plan.credential);
    lines.push(format!("  token     {token}"));
    lines.extend(name.map(|n| format!("            {n}")));
    let after = plan
        .devices_before
        .saturating_sub(usize::from(plan.assigned));
    lines.push(if after == 0 && plan.assigned {
        "  after     NO MFA device left (--allow-last was given)".to_owned()
    } else {
        format!("  after     {after} MFA device(s) left")
    });
    lines.join("\n")
}

/// What happens on the token, and the credential's name on a line of its own (names run up to
/// 64 bytes: the plan stays within 80 columns).
fn credential_words(c: &CredentialPlan) -> (String, Option<String>) {
    let on =
        |s: &Option<Serial>| s.map_or_else(|| "its token".to_owned(), |s| format!("token {s}"));
    let quoted = |n: &str| Some(format!("'{n}'"));
    match c {
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
    }
}

fn dry_run(out: &Output, plan: &Plan) -> Result<(), Failure> {
    if out.json {
        out.json(&json!({"schema": "ykmfa.revoke-plan/1", "plan": plan}));
    } else {
        out.info("Dry run: nothing was changed.");
    }
    Ok(())
}

/// `--yes`, or a person's "y" on the terminal; a script without `--yes` is refused.
fn confirm(global: &Global) -> Result<(), Failure> {
    if global.yes {
        return Ok(());
    }
    if !prompt::has_tty() {
        return Err(Failure::new(
            Exit::Usage,
            "revoke changes IAM and the token, and there is no terminal to confirm on; nothing was changed",
            &["pass --yes to confirm the plan above (or --dry-run to only see it)"],
        ));
    }
    match prompt::confirm("Revoke it? [y/N] ") {
        Ok(true) => Ok(()),
        Ok(false) => Err(Failure::new(
            Exit::Failed,
            "not confirmed; nothing was changed",
            &[],
        )),
        Err(e) => Err(prompt::failure(e, "the answer", "pass --yes instead")),
    }
}

/// The remaining credential, when the revocation left one on a token, as JSON and words.
fn remaining(revoked: &Revoked) -> Option<(serde_json::Value, String)> {
    let CredentialOutcome::Remains { name, token_serial } = &revoked.credential else {
        return None;
    };
    let on = token_serial.map_or_else(|| "its token".to_owned(), |s| format!("token {s}"));
    Some(match name {
        Some(name) if revoked.principal == Principal::Root && token_serial.is_none() => {
            let command = ykman_delete(name, None);
            let [_, console] = labels::root_labels(&revoked.account);
            (
                json!({"kind": "credential", "name": name, "token_serial": null, "command": command}),
                format!(
                    "No connected token holds the root user's credential. On the lost token it is \
                     named '{name}' if ykmfa enroll --root wrote it ('{console}' from the console's \
                     QR code). It computes codes for a device that no longer exists; remove it if \
                     the token turns up:\n  {command}"
                ),
            )
        }
        Some(name) => {
            let command = ykman_delete(name, *token_serial);
            (
                json!({"kind": "credential", "name": name, "token_serial": token_serial, "command": command}),
                format!(
                    "The credential '{name}' remains on {on}, which is not connected. It computes codes \
                     for a device that no longer exists; remove it once the token is back:\n  {command}"
                ),
            )
        }
        None => (
            json!({"kind": "credential", "name": null, "token_serial": token_serial, "command": null}),
            "No connected token holds the device's credential and ykmfa has no record of which \
             one did; if a token still has it, remove it with: ykman oath accounts delete NAME"
                .to_owned(),
        ),
    })
}

fn finish(
    out: &Output,
    global: &Global,
    plan: &Plan,
    result: Result<Revoked, Box<revocation::Failure>>,
) -> Result<(), Failure> {
    let revoked = match result {
        Ok(r) => r,
        Err(f) => return Err(revoke_failure(*f, plan, global)),
    };
    let left = remaining(&revoked);
    if out.json {
        let remaining: Vec<serde_json::Value> = left.iter().map(|(v, _)| v.clone()).collect();
        out.json(&json!({"schema": "ykmfa.revoke/1", "revoked": revoked, "remaining": remaining}));
    } else {
        out.result(&revoked.device);
    }
    let credential = match &revoked.credential {
        CredentialOutcome::Deleted { name, token } => {
            format!("\nCredential '{name}' deleted from {token}.")
        }
        CredentialOutcome::Kept {
            name: Some(name), ..
        } => format!("\nCredential '{name}' kept on its token, as asked."),
        CredentialOutcome::AlreadyGone { name, token } => {
            format!("\nCredential '{name}' was already gone from {token}.")
        }
        _ => String::new(),
    };
    out.info(format!(
        "Revoked: {} is {} and deleted in IAM.{credential}",
        revoked.device,
        if revoked.deactivated {
            "deactivated"
        } else {
            "no longer assigned"
        }
    ));
    if let Some((_, words)) = left {
        out.warn(words);
    }
    if revoked.devices_left == 0 && revoked.deactivated {
        out.warn(match &revoked.principal {
            Principal::User { name } => format!(
                "IAM user {name} has no MFA device now; enroll a new token: ykmfa enroll --user {name}"
            ),
            Principal::Root => format!(
                "the root user of account {} has no MFA device now; assign a new one in the console, \
                 or remove the root password too (centralized root access)",
                revoked.account
            ),
        });
    }
    Ok(())
}

fn preflight_failure(e: PreflightError<Failure>, global: &Global) -> Failure {
    match e {
        PreflightError::Cause(c) => cause_failure(c, global),
        PreflightError::Tokens(e) => words::tokens_failure(e),
    }
}

fn cause_failure(cause: Cause, global: &Global) -> Failure {
    match cause {
        Cause::Refused(r) => refusal_failure(r, global),
        Cause::Iam { error, .. } => super::report::iam_failure(&error, global),
        Cause::Card { error, .. } => error.into(),
        Cause::Interrupted => {
            Failure::new(Exit::Interrupted, "interrupted; nothing was changed", &[])
        }
    }
}

fn refusal_failure(r: Refusal, global: &Global) -> Failure {
    let what = r.to_string();
    let profile = profile_flag(global);
    match r {
        Refusal::UnknownUser(..) => Failure::new(
            Exit::Iam,
            what,
            &["check the name (IAM user names are case-sensitive): aws iam list-users"],
        ),
        Refusal::OtherAccount { .. } => Failure::new(
            Exit::Usage,
            what,
            &["use credentials of the device's account (--profile), or check the ARN"],
        ),
        Refusal::UnknownDevice(_) | Refusal::NotUsersDevice { .. } => Failure {
            what,
            fix: vec![format!(
                "the user's devices: aws iam list-mfa-devices{profile} --user-name USER"
            )],
            code: Exit::Iam,
        },
        Refusal::OtherUsersDevice { ref owner, ref device, .. } => Failure {
            fix: vec![format!("to revoke it from {owner}: ykmfa revoke --user {owner} --device {device}")],
            what,
            code: Exit::Iam,
        },
        Refusal::RootsDevice { .. } => Failure::new(
            Exit::Iam,
            what,
            &["root's MFA is removed in the console by root, or from the organization's management account: ykmfa revoke --root-of ACCOUNT_ID"],
        ),
        Refusal::Unassigned { ref device, .. } => Failure {
            fix: vec![format!(
                "an unassigned device is deleted with: {}",
                ykmfa::mfa::remedy::aws_delete_device(device, &profile)
            )],
            what,
            code: Exit::Iam,
        },
        Refusal::NoDeviceOnToken { ref user, .. } => Failure {
            fix: vec![
                format!("name the device instead: ykmfa revoke --user {user} --device ARN"),
                format!("the user's devices: aws iam list-mfa-devices{profile} --user-name {user}"),
            ],
            what,
            code: Exit::TokenNotFound,
        },
        Refusal::SeveralOnToken { ref user, .. } => Failure {
            fix: vec![format!("name one: ykmfa revoke --user {user} --device ARN")],
            what,
            code: Exit::TokenNotFound,
        },
        Refusal::LastDevice { ref principal, .. } => {
            let enroll = match principal {
                Principal::User { name } => {
                    format!("better, enroll another token first: ykmfa enroll --user {name} --serial NEW_SERIAL")
                }
                Principal::Root => "better, assign another MFA device to root in the console first".to_owned(),
            };
            Failure {
                what,
                fix: vec![
                    "if that is what you want (a lost token, no other), add --allow-last".to_owned(),
                    enroll,
                ],
                code: Exit::Iam,
            }
        }
        Refusal::TokenLocked { .. } => Failure::new(
            Exit::Token,
            format!("{what}; nothing was changed"),
            &[
                "give the OATH password with --oath-password (prompted) or YKMFA_OATH_PASSWORD",
                "or leave the credential on the token: --keep-credential",
            ],
        ),
        Refusal::AmbiguousCredential { .. } => Failure::new(
            Exit::TokenNotFound,
            format!("{what}; nothing was changed"),
            &[
                "name the credential: --label 'ISSUER:ACCOUNT' (as 'ykman oath accounts list' shows it)",
                "or leave the token alone: --keep-credential",
            ],
        ),
        Refusal::AssignedElsewhere { .. } => Failure::new(
            Exit::Iam,
            what,
            &["a user's device is revoked with: ykmfa revoke --user NAME --device ARN (credentials of that account)"],
        ),
        Refusal::NoRootMfa(_) => Failure::new(Exit::Iam, what, &["nothing to revoke"]),
        Refusal::SeveralRootCredentials { .. } => Failure::new(
            Exit::TokenNotFound,
            format!("{what}; nothing was changed"),
            &[
                "delete the stale one first (ykman --device SERIAL oath accounts delete NAME), or disconnect its token",
                "or leave the tokens alone: --keep-credential",
            ],
        ),
        Refusal::SeveralRootDevices { ref account, .. } => Failure {
            fix: vec![format!("name one: ykmfa revoke --root-of {account} --device ARN")],
            what,
            code: Exit::Iam,
        },
    }
}

fn root_session_failure(e: RootSessionError, account: &str, global: &Global) -> Failure {
    let what = e.to_string();
    let enable = [
        "in the management account: aws organizations enable-aws-service-access --service-principal iam.amazonaws.com",
        "then: aws iam enable-organizations-root-credentials-management && aws iam enable-organizations-root-sessions",
    ];
    match e {
        RootSessionError::InvalidAccount(_) | RootSessionError::OwnAccount(_) => Failure::new(
            Exit::Usage,
            what,
            &["--root-of takes the id of a member account of your organization: aws organizations list-accounts"],
        ),
        RootSessionError::RootCaller => Failure::new(
            Exit::Usage,
            what,
            &["use an IAM user or role of the management account (--profile NAME)"],
        ),
        RootSessionError::NotManagementAccount { .. } => Failure::new(
            Exit::Aws,
            what,
            &[
                "use credentials of the management account (--profile NAME)",
                "or register this account as delegated administrator, in the management account: aws organizations register-delegated-administrator --service-principal iam.amazonaws.com --account-id THIS_ACCOUNT",
            ],
        ),
        RootSessionError::NoOrganization { .. } => Failure::new(
            Exit::Aws,
            what,
            &["--root-of works from an AWS Organizations management account; sign in to the member account's root user (password reset) instead"],
        ),
        RootSessionError::NotAllFeatures => Failure::new(
            Exit::Aws,
            what,
            &["enable all features: aws organizations enable-all-features (every member account must accept)"],
        ),
        RootSessionError::TrustedAccessNotEnabled | RootSessionError::NotEnabled { .. } => {
            Failure::new(Exit::Aws, what, &enable)
        }
        // Centralized root access is on: enabling it again is no advice.
        RootSessionError::NotMemberOrDenied { .. } => Failure {
            what,
            fix: vec![
                format!("check that {account} is a member: aws organizations describe-account --account-id {account}"),
                "allow sts:AssumeRoot with the task policy IAMDeleteRootUserCredentials (identity policy, and no SCP denying it)".to_owned(),
            ],
            code: Exit::Aws,
        },
        RootSessionError::Denied { .. } => Failure {
            what,
            fix: vec![
                format!("check that {account} is a member: aws organizations describe-account --account-id {account}"),
                "allow sts:AssumeRoot with the task policy IAMDeleteRootUserCredentials (identity policy, and no SCP denying it)".to_owned(),
                enable[0].to_owned(),
                enable[1].to_owned(),
            ],
            code: Exit::Aws,
        },
        RootSessionError::TargetRefused { .. } => Failure::new(
            Exit::Iam,
            what,
            &["--root-of takes the id of a member account of your organization: aws organizations list-accounts"],
        ),
        RootSessionError::RegionDisabled { .. } => Failure::new(
            Exit::Aws,
            what,
            &["use a region where STS is active: --region us-east-1 (AssumeRoot needs a regional STS endpoint)"],
        ),
        RootSessionError::Iam(e) => super::report::iam_failure(&e, global),
    }
}

/// A revocation that stopped: the cause, then what remains with the command that finishes each.
fn revoke_failure(f: revocation::Failure, plan: &Plan, global: &Global) -> Failure {
    let mut failure = match f.cause {
        Cause::Interrupted => Failure::new(Exit::Interrupted, "interrupted", &[]),
        other => cause_failure(other, global),
    };
    if f.leftovers.is_empty() {
        if f.done.is_empty() {
            failure.what.push_str("\nNothing was changed.");
        }
        return failure;
    }
    failure.code = Exit::Incomplete;
    failure.fix.clear();
    if !f.done.is_empty() {
        let done: Vec<String> = f.done.iter().map(ToString::to_string).collect();
        failure
            .what
            .push_str(&format!("\nDone: {}.", done.join(", ")));
    }
    failure.what.push_str("\nThese remain:");
    let profile = profile_flag(global);
    for l in &f.leftovers {
        failure.what.push_str(&match l {
            Leftover::Device {
                serial,
                assigned_to,
                reason,
            } => {
                let state = if assigned_to.is_some() {
                    "still assigned"
                } else {
                    "deactivated, not deleted"
                };
                format!("\n  - virtual MFA device {serial}, {state} ({reason})")
            }
            Leftover::Credential {
                name,
                token,
                reason,
                ..
            } => format!("\n  - credential '{name}' on {token} ({reason})"),
        });
        failure.fix.push(plan.finishing_command(l, &profile));
    }
    failure
}

#[cfg(test)]
mod tests;
