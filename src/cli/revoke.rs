//! `ykmfa revoke`: an MFA device out of IAM (deactivated, deleted) and its credential off the
//! token; or, with `--root-of`, a member account's root MFA device through a root session.

mod failure;
mod root;

use serde_json::json;

use ykmfa::iam::{names, Sdk};
use ykmfa::mfa::pairing::DeviceArn;
use ykmfa::mfa::revoke::{
    self as revocation, CredentialOutcome as Outcome, CredentialPlan, Event, Plan, Principal,
    Remaining, Revoked, Target, UserRequest, UserSurvey,
};
use ykmfa::mfa::{labels, Cancel};
use ykmfa::token::{PcscCard, Present, Serial, Token};
use zeroize::Zeroizing as Secret;

use self::failure::{cause_failure, preflight_failure, revoke_failure};
use super::report::{self, iam_failure, Exit};
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
    Root(String, Option<DeviceArn>),
}

fn usage(what: impl Into<String>) -> Failure {
    report::usage("revoke", what)
}

fn request(args: &RevokeArgs) -> Result<Request, Failure> {
    let device = args.device.as_deref().map(|d| DeviceArn::parse(d.trim()));
    let device = device
        .transpose()
        .map_err(|e| report::bad_arn(e.to_string()))?;
    if let Some(account) = &args.root_of {
        let account = account.trim();
        if !ykmfa::iam::is_account_id(account) {
            let what = format!("--root-of '{account}' is not an AWS account id (12 digits)");
            return Err(usage(what));
        }
        if let Some(arn) = device.as_ref().filter(|d| d.account() != account) {
            let elsewhere = arn.account();
            let what = format!("{arn} is in account {elsewhere}, not in member account {account}");
            return Err(usage(what));
        }
        return Ok(Request::Root(account.to_owned(), device));
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
    let label = args.label.as_deref().map(labels::parse).transpose();
    let label = label.map_err(|e| usage(format!("--label: {e}")))?;
    Ok(Request::User(UserRequest {
        user: user.to_string(),
        target,
        label: label.map(|id| id.to_string()),
        keep_credential: args.keep_credential,
        allow_last: args.allow_last,
    }))
}

/// Runs `ykmfa revoke`.
pub async fn run(out: &Output, global: &Global, args: &RevokeArgs) -> Result<(), Failure> {
    let req = match request(args)? {
        Request::User(req) => req,
        Request::Root(account, device) => {
            return root::run(out, global, args, &account, device.as_ref()).await
        }
    };
    // Every stop signal from here on, before the settling of dead runs changes anything.
    let cancel = Cancel::default();
    let watcher = (!args.dry_run).then(|| watch(&cancel)).transpose()?;
    let dir = connect(global).await?;
    let fail = |c| cause_failure(c, global);
    let mut survey = UserSurvey::read(&dir, &req).await.map_err(fail)?;
    if survey.view.tags_denied {
        out.warn(report::TAGS_DENIED);
    }
    report::skipped(out, &survey.tokens.present.unusable);

    // The user's lock, held to the end; then what dead runs left for the user or these tokens
    // (only reported by a dry run, which changes nothing).
    let (account, present) = (&survey.view.account, &survey.tokens.present);
    let (_lock, changed) = if args.dry_run {
        settle::report(out, account, &req.user, &settle::serials(&present.tokens));
        (None, false)
    } else {
        let password = || present.password();
        settle::lock_and_settle(out, &dir, account, &req.user, &present.tokens, password).await?
    };
    if changed {
        survey.again(&dir, &req).await.map_err(fail)?;
        report::skipped(out, &survey.tokens.present.unusable);
    }
    let ask = &mut |t: &Token| oath_password(args, t);
    let plan = tokio::task::block_in_place(|| survey.plan(&req, ask))
        .map_err(|e| preflight_failure(e, global))?;
    if let Some(why) = &survey.tokens.unreachable {
        out.warn(unreachable(why));
    }
    if !go_ahead(out, global, args, &plan, None)? {
        return Ok(());
    }
    let mut card = open_card(&plan, &survey.tokens.present)?;
    let result = revocation::revoke(&dir, card.as_mut(), &plan, &Words(out), &cancel).await;
    drop(watcher);
    finish(out, global, &plan, result)
}

pub(super) async fn connect(global: &Global) -> Result<Sdk, Failure> {
    let dir = Sdk::connect(global.aws_options()).await;
    dir.map_err(|e| iam_failure(&e, global))
}

/// `YKMFA_OATH_PASSWORD`, or the prompt (`--oath-password`, or a terminal and a protected
/// token), as enroll does.
pub(super) fn oath_password(
    args: &RevokeArgs,
    token: &Token,
) -> Result<Option<Secret<String>>, Failure> {
    prompt::oath_password(
        args.oath_password || ykmfa::terminal::has_tty(),
        &token.describe(),
    )
}

pub(super) fn unreachable(why: &str) -> String {
    format!("ykmfa could not look at the tokens ({why}); the credential is left where it is")
}

/// Shows the plan; a dry run ends there (`false`). Otherwise `--yes`, or a person's "y" on the
/// terminal, goes ahead; a script without `--yes` is refused.
pub(super) fn go_ahead(
    out: &Output,
    global: &Global,
    args: &RevokeArgs,
    plan: &Plan,
    management: Option<&str>,
) -> Result<bool, Failure> {
    out.info(plan_text(plan, management));
    if args.dry_run {
        if out.json {
            out.json(&json!({"schema": "ykmfa.revoke-plan/1", "plan": plan}));
        } else {
            out.info("Dry run: nothing was changed.");
        }
        return Ok(false);
    }
    if global.yes {
        return Ok(true);
    }
    if !ykmfa::terminal::has_tty() {
        return Err(Failure::new(
            Exit::Usage,
            "revoke changes IAM and the token, and there is no terminal to confirm on; nothing was changed",
            &["pass --yes to confirm the plan above (or --dry-run to only see it)"],
        ));
    }
    match prompt::confirm("Revoke it? [y/N] ") {
        Ok(true) => Ok(true),
        Ok(false) => Err(Failure::new(
            Exit::Failed,
            "not confirmed; nothing was changed",
            &[],
        )),
        Err(e) => Err(prompt::failure(e, "the answer", "pass --yes instead")),
    }
}

/// The token the plan deletes a credential from, opened (with the password, if one was given).
pub(super) fn open_card(plan: &Plan, present: &Present) -> Result<Option<PcscCard>, Failure> {
    let CredentialPlan::Delete { token, .. } = &plan.credential else {
        return Ok(None);
    };
    let fix = "reconnect it, or pass --keep-credential to leave the credential";
    let card = present.open(&token.reader)?;
    card.map(Some)
        .ok_or_else(|| report::no_longer_connected(token, fix))
}

pub(super) struct Words<'a>(pub(super) &'a Output);

impl revocation::Progress for Words<'_> {
    fn event(&self, event: Event<'_>) {
        self.0.info(match event {
            Event::Deactivating(d) => format!("Deactivating {d}..."),
            Event::AlreadyDeactivated(d) => format!("IAM lists {d} as no longer assigned."),
            Event::Deleting(d) => format!("Deleting {d}..."),
            Event::DeletingCredential { name, token } => {
                format!("Deleting credential '{name}' from {token}...")
            }
        })
    }
}

pub(super) fn watch(cancel: &Cancel) -> Result<super::interrupt::Interrupt, Failure> {
    super::interrupt::Interrupt::watch(
        cancel,
        "finishing the current step, then stopping. What remains is listed.",
        "Quit at once: check with 'aws iam list-mfa-devices' and 'ykman oath accounts list'.",
    )
}

/// The plan as a person reads it before confirming: whose device, which account (and, for a
/// root session, from where), the device ARN, and each step.
fn plan_text(plan: &Plan, management: Option<&str>) -> String {
    let account = &plan.account;
    let mut lines = vec![match &plan.principal {
        Principal::User { name } => format!("Plan for IAM user {name} (account {account}):"),
        Principal::Root => format!("Plan for the root user of member account {account}:"),
    }];
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

/// The words for the credential a revocation left on a token.
fn remaining(revoked: &Revoked, left: &Remaining) -> String {
    let Remaining {
        name,
        token_serial,
        command,
        ..
    } = left;
    let on = token_serial.map_or_else(|| "its token".to_owned(), |s| format!("token {s}"));
    match (name, command) {
        (Some(name), Some(command))
            if revoked.principal == Principal::Root && token_serial.is_none() =>
        {
            let [_, console] = labels::root_labels(&revoked.account);
            format!(
                "No connected token holds the root user's credential. On the lost token it is \
                 named '{name}' if ykmfa enroll --root wrote it ('{console}' from the console's \
                 QR code). It computes codes for a device that no longer exists; remove it if \
                 the token turns up:\n  {command}"
            )
        }
        (Some(name), Some(command)) => format!(
            "The credential '{name}' remains on {on}, which is not connected. It computes codes \
             for a device that no longer exists; remove it once the token is back:\n  {command}"
        ),
        _ => "No connected token holds the device's credential and ykmfa has no record of which \
              one did; if a token still has it, remove it with: ykman oath accounts delete NAME"
            .to_owned(),
    }
}

pub(super) fn finish(
    out: &Output,
    global: &Global,
    plan: &Plan,
    result: Result<Revoked, Box<revocation::Failure>>,
) -> Result<(), Failure> {
    let revoked = result.map_err(|f| revoke_failure(*f, plan, global))?;
    let left = revoked.remaining();
    if out.json {
        let remaining: Vec<&Remaining> = left.iter().collect();
        out.json(&json!({"schema": "ykmfa.revoke/1", "revoked": revoked, "remaining": remaining}));
    } else {
        out.result(&revoked.device);
    }
    let credential = match &revoked.credential {
        Outcome::Deleted { name, token } => format!("\nCredential '{name}' deleted from {token}."),
        Outcome::Kept { name: Some(n), .. } => {
            format!("\nCredential '{n}' kept on its token, as asked.")
        }
        Outcome::AlreadyGone { name, token } => {
            format!("\nCredential '{name}' was already gone from {token}.")
        }
        _ => String::new(),
    };
    let state = if revoked.deactivated {
        "deactivated"
    } else {
        "no longer assigned"
    };
    out.info(format!(
        "Revoked: {} is {state} and deleted in IAM.{credential}",
        revoked.device
    ));
    if let Some(left) = &left {
        out.warn(remaining(&revoked, left));
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

#[cfg(test)]
mod tests;
