//! `ykmfa resync`: an IAM user's MFA device whose codes AWS no longer accepts, resynchronized
//! with two codes from the token; first, this machine's clock against AWS's. `--root` prints a
//! pair for the console's resync dialog instead. The work, in its order, is
//! [`ykmfa::mfa::resync`]'s; here are the arguments, the prompts and the words of its failures.
mod root;

use ykmfa::iam::{names, Sdk, Skew};
use ykmfa::mfa::hardware::Purpose;
use ykmfa::mfa::pairing::{ArnError, DeviceArn};
use ykmfa::mfa::resync::{self, Done, Hooks, Look, Refusal, ResyncError, Stopped};
use ykmfa::mfa::{Note, SystemClock};
use ykmfa::token::{Serial, Token};
use zeroize::Zeroizing;

use super::report::{self, iam_failure, profile_flag, Exit};
use super::{prompt, settle, token_args, Failure, Global, Output};

/// Arguments of `ykmfa resync`.
#[derive(clap::Args, Debug)]
#[command(after_help = AFTER_HELP)]
pub struct ResyncArgs {
    /// The IAM user whose device is resynchronized.
    #[arg(
        long,
        value_name = "NAME",
        required_unless_present = "root",
        conflicts_with = "root"
    )]
    pub user: Option<String>,
    /// A hardware TOTP token (Thales, such as GAKT12345678): its codes are typed or piped.
    #[arg(long, value_name = "SERIAL", conflicts_with_all = ["root", "serial", "device", "label"])]
    pub hardware_serial: Option<ykmfa::mfa::hardware::HardwareSerial>,
    /// Only look at the token with this serial (and, with --root, take the credential from it).
    #[arg(long, value_name = "SERIAL")]
    pub serial: Option<Serial>,
    /// The device, by ARN, when the user has several on the tokens present.
    #[arg(long, value_name = "ARN", conflicts_with = "root")]
    pub device: Option<String>,
    /// The credential's name on the token: with --device when neither ykmfa's tags nor the
    /// default name find it; with --root to choose the root credential.
    #[arg(long, value_name = "ISSUER:ACCOUNT")]
    pub label: Option<String>,
    /// Print two consecutive codes for the console's resync dialog (the root user, whose MFA
    /// AWS manages only in the console). Changes nothing.
    #[arg(long)]
    pub root: bool,
    /// Ask for the token's OATH password (no echo). For automation, set YKMFA_OATH_PASSWORD.
    #[arg(long)]
    pub oath_password: bool,
    /// Seconds to wait for a token to be inserted [default: 30 on a terminal, else 0].
    #[arg(long, value_name = "SECS")]
    pub wait: Option<u64>,
}

const AFTER_HELP: &str = "\
Examples:
  ykmfa resync --user alice
  ykmfa resync --user alice --device arn:aws:iam::123456789012:mfa/alice-yk12345678
  ykmfa resync --user alice --device ARN --label 'Work:alice'   (a credential of another name)
  ykmfa resync --user alice --json
  ykmfa resync --root                 (codes for the console: Security credentials, Resync)

First this machine's clock is compared with AWS's: a token has no clock and computes codes for
the time this machine says, so a wrong clock is the usual reason codes are refused. When it is
off by 30 s or more, ykmfa says how to fix it and resyncs only after a yes (or --yes): a resync
would make AWS expect codes from the wrong time.
Then the user's device whose credential is on the token is found (by ykmfa's tags, else the
default name 'Amazon Web Services:USER@ACCOUNT'), two consecutive codes are computed on the
token and sent with ResyncMFADevice. Nothing else changes, on the token or in IAM.

Needs sts:GetCallerIdentity, iam:GetUser, iam:ListMFADevices, iam:ListMFADeviceTags,
iam:ResyncMFADevice (optional: iam:ListAccountAliases, iam:ListVirtualMFADevices to say whose a
foreign device is). --root needs no AWS permission (the clock check uses STS when it can).";

/// Runs `ykmfa resync`.
pub async fn run(out: &Output, global: &Global, args: &ResyncArgs) -> Result<(), Failure> {
    let words = Words { out, global, args };
    if args.root {
        return root::run(&words).await;
    }
    if let Some(serial) = &args.hardware_serial {
        let (user, purpose) = (args.user.as_deref().unwrap_or_default(), Purpose::Resync);
        return super::hardware::run((out, global), (user, serial), purpose, false).await;
    }
    // A stop signal lets the one IAM change (ResyncMFADevice) finish and be reported, rather
    // than killing the process while it is in flight.
    let _interrupt = super::interrupt::Interrupt::watch(
        &ykmfa::mfa::Cancel::default(),
        "finishing the resync under way, then stopping.",
        "Quit: check the device with 'ykmfa status'.",
    )?;
    let user = names::UserName::parse(args.user.as_deref().unwrap_or_default())
        .map_err(|e| usage(e.to_string()))?;
    let device = args
        .device
        .as_deref()
        .map(|d| DeviceArn::parse(d.trim()))
        .transpose()
        .map_err(arn_failure)?;
    if args.label.is_some() && device.is_none() {
        return Err(usage(
            "--label names the credential of the device given with --device",
        ));
    }
    let req = resync::UserRequest {
        user: user.to_string(),
        device,
        label: args.label.clone(),
        look: words.look(),
    };

    let dir = Sdk::connect(global.aws_options())
        .await
        .map_err(|e| iam_failure(&e, global))?;
    let done = resync::resync_user(&dir, &req, &SystemClock, &words).await;
    let done = done.map_err(|e| stopped_failure(e, user.as_str(), global))?;
    finish(out, done);
    Ok(())
}

fn finish(out: &Output, done: Done) {
    if out.json {
        return out.json(&done.json());
    }
    out.result(&done.resynced.device);
    out.info(done.resynced.summary());
}

/// The hooks of a resync: its notes printed, the password and the yes asked for.
struct Words<'a> {
    out: &'a Output,
    global: &'a Global,
    args: &'a ResyncArgs,
}

impl Words<'_> {
    /// The tokens to look at: `--serial`'s, waiting `--wait` (30 s on a terminal) for one.
    fn look(&self) -> Look {
        let (serial, wait) = (self.args.serial, token_args::wait(self.args.wait));
        Look { serial, wait }
    }
}

impl Hooks for Words<'_> {
    type Error = Failure;

    fn note(&self, note: Note<'_>) {
        settle::note(self.out, note);
    }

    fn password(&self, token: &Token) -> Result<Option<Zeroizing<String>>, Failure> {
        let tty = self.args.oath_password || ykmfa::terminal::has_tty();
        prompt::oath_password(tty, &token.describe())
    }

    /// A resync with a clock far off would write the wrong time into AWS's record of the
    /// device: only a yes (or `--yes`) lets it go on.
    fn clock_off(&self, skew: &Skew) -> Result<(), Failure> {
        let refused = || {
            Failure::new(
                Exit::Failed,
                format!(
                    "this machine's clock is {skew}; a resync now would make AWS expect codes from that wrong time. Nothing was changed"
                ),
                &[
                    "fix the clock (sudo timedatectl set-ntp true), then try a sign-in: the codes may well work again without a resync",
                    "or resync against this clock anyway: add --yes",
                ],
            )
        };
        let question = "Resynchronize against this machine's clock anyway? [y/N] ";
        prompt::agree(self.global.yes, question, refused, refused)
    }
}

// ---- failures ----

/// Why the resync (of `user`'s device) ended, in words.
fn stopped_failure(e: Stopped<Failure>, user: &str, global: &Global) -> Failure {
    match e {
        Stopped::Resync(e) => resync_failure(e, user, global),
        Stopped::Root(r) => root::refusal(r),
        Stopped::Tokens(e) => report::tokens_failure(e),
        Stopped::Settle(e) => settle::settle_failure(e),
        Stopped::Transport(e) => e.into(),
        Stopped::Card(e) => e.into(),
        Stopped::Gone(token) => {
            report::no_longer_connected(&token, "reconnect it and run the command again")
        }
        Stopped::Hook(f) => f,
    }
}

fn usage(what: impl Into<String>) -> Failure {
    report::usage("resync", what)
}

fn arn_failure(e: ArnError) -> Failure {
    let what = match &e {
        ArnError::Malformed(_) => e.to_string(),
        ArnError::NotVirtual(arn) => format!(
            "'{arn}' is not a virtual MFA device (its ARN has ':mfa/'); ykmfa resyncs the virtual devices it computes codes for"
        ),
    };
    report::bad_arn(what)
}

fn resync_failure(e: ResyncError, user: &str, global: &Global) -> Failure {
    let p = profile_flag(global);
    match e {
        ResyncError::Refused(r) => refusal_failure(r, user, global),
        ResyncError::Read(e) => iam_failure(&e, global),
        ResyncError::Card(e) => {
            let mut f = Failure::from(e);
            f.what = format!("computing codes on the token: {}; nothing was changed", f.what);
            f
        }
        ResyncError::CodesRefused { ref device, ref credential, .. } => Failure {
            what: format!(
                "{e}. The credential does not compute this device's codes (it was replaced, or belongs to another device). Nothing was changed"
            ),
            fix: vec![
                format!("if another credential is this device's: ykmfa resync --user {user} --device {device} --label NAME"),
                format!("otherwise replace the device: {}, then ykmfa{p} enroll --user {user}", revoke(&p, user, device)),
                format!("(the credential '{credential}' stays on the token until revoke removes it)"),
            ],
            code: Exit::Iam,
        },
        ResyncError::Resync(e) => {
            let mut f = iam_failure(&e, global);
            f.what = format!("resynchronizing: {}", f.what);
            if e.outcome_unknown() {
                f.fix.insert(0, "the device may or may not have been resynchronized; running the command again is harmless".to_owned());
            }
            f
        }
    }
}

/// The revoke that replaces a device (then enroll makes a new one).
fn revoke(p: &str, user: &str, device: &str) -> String {
    format!("ykmfa{p} revoke --user {user} --device {device}")
}

fn refusal_failure(r: Refusal, user: &str, global: &Global) -> Failure {
    let mut what = format!("{r}; nothing was changed");
    let p = profile_flag(global);
    let list = format!("list {user}'s devices: aws iam list-mfa-devices{p} --user-name {user}");
    let (code, fix): (Exit, Vec<String>) = match r {
        Refusal::UnknownUser(..) => (
            Exit::Iam,
            vec![format!(
                "check the name (IAM user names are case-sensitive): aws iam list-users{p}"
            )],
        ),
        Refusal::NoDevices(_) => (
            Exit::Iam,
            vec![format!("enroll one: ykmfa{p} enroll --user {user}")],
        ),
        Refusal::OtherAccount { .. } => (Exit::Usage, vec![OTHER_ACCOUNT.into(), list]),
        Refusal::UnknownDevice(_) | Refusal::NotUsersDevice { .. } => (Exit::Iam, vec![list]),
        Refusal::NoToken => (Exit::TokenNotFound, vec![report::INSERT_TOKEN.into()]),
        Refusal::NotOnToken { ref devices, .. } => {
            for d in devices {
                what.push_str(&format!("\n  - {}: {}", d.serial, d.place));
            }
            let label = format!("if its credential has another name: ykmfa resync --user {user} --device ARN --label 'ISSUER:ACCOUNT'");
            (Exit::TokenNotFound, vec![INSERT_HOLDER.into(), label])
        }
        Refusal::CredentialGone {
            ref device,
            ref token,
            ..
        } => {
            let serial = token
                .serial
                .map(|s| format!(" --serial {s}"))
                .unwrap_or_default();
            what = format!(
                "{what}. Resync can't help: the seed of {device} was only ever in that credential, and AWS never shows a seed twice"
            );
            let enroll = format!("then enroll again: ykmfa{p} enroll --user {user}{serial}");
            (
                Exit::Token,
                vec![
                    format!("replace the device: {}", revoke(&p, user, device)),
                    enroll,
                ],
            )
        }
        Refusal::SeveralDevices { ref devices, .. } => {
            let each = |d: &String| format!("ykmfa resync --user {user} --device {d}");
            (Exit::Usage, devices.iter().map(each).collect())
        }
        Refusal::Ambiguous { .. } => (Exit::Usage, vec![SAY_WHICH.into(), NAME_IT.into()]),
        Refusal::Locked { .. } => (Exit::Token, vec![report::GIVE_PASSWORD.into()]),
    };
    Failure { what, fix, code }
}

const OTHER_ACCOUNT: &str = "use credentials of the device's account (--profile NAME)";
const INSERT_HOLDER: &str =
    "insert the token that holds the device's credential ('ykmfa tokens' lists what ykmfa sees)";
const SAY_WHICH: &str = "say which device with --device ARN, and which token with --serial SERIAL";
const NAME_IT: &str = "or name the credential: --device ARN --label 'ISSUER:ACCOUNT'";
