//! `ykmfa revoke`: an MFA device out of IAM (deactivated, deleted) and its credential off the
//! token; or, with `--root-of`, a member account's root MFA device through a root session.
//! The work, in its order, is [`ykmfa::mfa::revoke`]'s; here are the arguments, the prompts and
//! the words of its failures.

mod failure;

use serde_json::json;

use ykmfa::iam::{names, Sdk};
use ykmfa::mfa::revoke::{
    self as revocation, Event, Hooks, Plan, Remaining, Revoked, RootRequest, Target, UserRequest,
};
use ykmfa::mfa::{labels, Cancel, Note};
use ykmfa::token::{Serial, Token};
use zeroize::Zeroizing as Secret;

use self::failure::stopped_failure;
use super::interrupt::Interrupt;
use super::report::{self, iam_failure, Exit};
use super::{prompt, settle, Failure, Global, Output};

/// Arguments of `ykmfa revoke`.
#[derive(clap::Args, Debug)]
#[command(after_help = AFTER_HELP)]
pub struct RevokeArgs {
    /// The IAM user whose device is revoked.
    #[arg(long, value_name = "NAME", required_unless_present = "root_of")]
    pub user: Option<String>,
    /// The device, by ARN or hardware token serial (as 'aws iam list-mfa-devices --user-name
    /// NAME' shows it); a hardware token is only deactivated.
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
    Root(RootRequest),
}

fn usage(what: impl Into<String>) -> Failure {
    report::usage("revoke", what)
}

fn request(args: &RevokeArgs) -> Result<Request, Failure> {
    let device = args.device.as_deref().map(Target::device).transpose();
    let device = device.map_err(|e| report::bad_arn(e.to_string()))?;
    if let Some(account) = &args.root_of {
        let device = match device {
            Some(Target::Device(arn)) => Some(arn),
            Some(_) => return Err(usage("with --root-of, --device is a virtual device's ARN")),
            None => None,
        };
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
        return Ok(Request::Root(RootRequest {
            account: account.to_owned(),
            device,
            keep_credential: args.keep_credential,
            allow_last: args.allow_last,
        }));
    }
    let user = names::UserName::parse(args.user.as_deref().unwrap_or_default())
        .map_err(|e| usage(e.to_string()))?;
    let target =
        match (device, args.serial) {
            (Some(target), _) => target,
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
    let request = request(args)?;
    let cancel = Cancel::default();
    // For a user's device, every stop signal from here on, before the settling of dead runs
    // changes anything; for root's, from the first change on (Words::changing).
    let now = matches!(request, Request::User(_)) && !args.dry_run;
    let watcher = now.then(|| watch(&cancel)).transpose()?;
    let mut words = Words {
        out,
        global,
        args,
        cancel: cancel.clone(),
        watcher,
    };
    let dir = Sdk::connect(global.aws_options()).await;
    let dir = dir.map_err(|e| iam_failure(&e, global))?;
    let (result, account) = match &request {
        Request::User(req) => {
            let dry_run = args.dry_run;
            let done = revocation::revoke_user(&dir, req, dry_run, &cancel, &mut words).await;
            (done, None)
        }
        Request::Root(req) => {
            let done = revocation::revoke_root(&dir, req, &cancel, &mut words).await;
            (done, Some(req.account.as_str()))
        }
    };
    drop(words);
    match result.map_err(|e| stopped_failure(e, account, global))? {
        Some(revoked) => finish(out, &revoked),
        None => Ok(()),
    }
}

/// The hooks of a revocation: its events and notes printed, the password and the yes asked for,
/// and the signal watcher, from the first change on (from the start for a user's device).
struct Words<'a> {
    out: &'a Output,
    global: &'a Global,
    args: &'a RevokeArgs,
    cancel: Cancel,
    watcher: Option<Interrupt>,
}

impl revocation::Progress for Words<'_> {
    fn event(&self, event: Event<'_>) {
        self.out.info(event.to_string());
    }
}

impl Hooks for Words<'_> {
    type Error = Failure;

    fn note(&self, note: Note<'_>) {
        settle::note(self.out, note);
    }

    /// `YKMFA_OATH_PASSWORD`, or the prompt (`--oath-password`, or a terminal and a protected
    /// token), as enroll does.
    fn password(&self, token: &Token) -> Result<Option<Secret<String>>, Failure> {
        let tty = self.args.oath_password || ykmfa::terminal::has_tty();
        prompt::oath_password(tty, &token.describe())
    }

    /// Shows the plan; a dry run ends there (`false`). Otherwise `--yes`, or a person's "y" on
    /// the terminal, goes ahead; a script without `--yes` is refused.
    fn confirm(&self, plan: &Plan, from: Option<&str>) -> Result<bool, Failure> {
        let out = self.out;
        out.info(plan.text(from));
        if self.args.dry_run {
            if out.json {
                out.json(&json!({"schema": "ykmfa.revoke-plan/1", "plan": plan}));
            } else {
                out.info("Dry run: nothing was changed.");
            }
            return Ok(false);
        }
        let no_terminal = || {
            let what = "revoke changes IAM and the token, and there is no terminal to confirm on; nothing was changed";
            Failure::new(
                Exit::Usage,
                what,
                &["pass --yes to confirm the plan above (or --dry-run to only see it)"],
            )
        };
        let declined = || Failure::new(Exit::Failed, "not confirmed; nothing was changed", &[]);
        prompt::agree(self.global.yes, "Revoke it? [y/N] ", no_terminal, declined)?;
        Ok(true)
    }

    fn changing(&mut self) -> Result<(), Failure> {
        if self.watcher.is_none() {
            self.watcher = Some(watch(&self.cancel)?);
        }
        Ok(())
    }
}

fn watch(cancel: &Cancel) -> Result<Interrupt, Failure> {
    Interrupt::watch(
        cancel,
        "finishing the current step, then stopping. What remains is listed.",
        "Quit at once: check with 'aws iam list-mfa-devices' and 'ykman oath accounts list'.",
    )
}

/// The outcome: the device on stdout (or the JSON report), what happened, what remains.
fn finish(out: &Output, revoked: &Revoked) -> Result<(), Failure> {
    let left = revoked.remaining();
    if out.json {
        let remaining: Vec<&Remaining> = left.iter().collect();
        out.json(&json!({"schema": "ykmfa.revoke/1", "revoked": revoked, "remaining": remaining}));
    } else {
        out.result(&revoked.device);
    }
    out.info(revoked.summary());
    if let Some(left) = &left {
        out.warn(revoked.remaining_text(left));
    }
    if let Some(advice) = revoked.without_mfa() {
        out.warn(advice);
    }
    Ok(())
}
