//! `ykmfa enroll`: an IAM user's virtual MFA device, with its seed written straight to a token.

use serde_json::json;

use ykmfa::mfa::enroll::{self, Cause, Event, Plan, Progress, Refusal, Request, RequestError};
use ykmfa::mfa::hardware::Purpose;
use ykmfa::mfa::journal::enroll::Journal;
use ykmfa::mfa::settle::{Outcome, Session, Settled, Stop, Watch};
use ykmfa::mfa::{remedy, Cancel, SystemClock};
use ykmfa::token::Serial;

use super::report::{self, iam_failure, Exit};
use super::token_args::TokenArgs;
use super::{settle, Failure, Global, Output};

/// Arguments of `ykmfa enroll`.
#[derive(clap::Args, Debug)]
pub struct EnrollArgs {
    /// The IAM user to enroll.
    #[arg(
        long,
        value_name = "NAME",
        required_unless_present = "root",
        conflicts_with = "root"
    )]
    pub user: Option<String>,
    /// A hardware TOTP token (Thales; serial such as GAKT12345678) instead: no seed, no YubiKey;
    /// two consecutive codes from its display are typed (or piped as two lines on stdin).
    #[arg(long, value_name = "SERIAL", conflicts_with_all = ["root", "serial", "touch", "label", "device_name", "tags"])]
    pub hardware_serial: Option<ykmfa::mfa::hardware::HardwareSerial>,
    /// The token to use, by serial (required when more than one is connected).
    #[arg(long, value_name = "SERIAL")]
    pub serial: Option<Serial>,
    /// Require a touch of the token for every code (can't be changed later).
    #[arg(long)]
    pub touch: bool,
    /// Credential name on the token [default: "Amazon Web Services:USER@ACCOUNT-ALIAS"].
    #[arg(long, value_name = "ISSUER:ACCOUNT")]
    pub label: Option<String>,
    /// Virtual MFA device name in IAM [default: USER-yk<SERIAL>].
    #[arg(long, value_name = "NAME", conflicts_with = "root")]
    pub device_name: Option<String>,
    /// Extra tag for the IAM device (repeatable).
    #[arg(long = "tag", value_name = "KEY=VALUE", conflicts_with = "root")]
    pub tags: Vec<String>,
    /// Check everything and print the plan, change nothing.
    #[arg(long, conflicts_with = "root")]
    pub dry_run: bool,
    /// Ask for the token's OATH password (no echo). For automation, set YKMFA_OATH_PASSWORD.
    #[arg(long)]
    pub oath_password: bool,
    /// Seconds to wait for a token to be inserted [default: 30 on a terminal, else 0].
    #[arg(long, value_name = "SECS")]
    pub wait: Option<u64>,
    /// The root user, with the console (`--root` and its flags).
    #[command(flatten)]
    pub root: super::root::RootArgs,
    /// mfa_serial in the AWS config file.
    #[command(flatten)]
    pub aws_config: super::aws_profile::ConfigArgs,
}

impl EnrollArgs {
    /// The token block `enroll --root` shares.
    fn token(&self) -> TokenArgs {
        TokenArgs {
            serial: self.serial,
            wait: self.wait,
            oath_password: self.oath_password,
        }
    }
}

/// The request, validated in one place, so nothing later re-checks it.
fn request(args: &EnrollArgs) -> Result<Request, Failure> {
    let (device, label) = (args.device_name.as_deref(), args.label.as_deref());
    let user = args.user.as_deref().unwrap_or_default();
    Request::parse(user, device, label, args.touch, &args.tags).map_err(|e| {
        let what = match e {
            RequestError::Label(e) => format!("--label: {e}"),
            e => e.to_string(),
        };
        Failure::new(Exit::Usage, what, &["see 'ykmfa enroll --help'"])
    })
}

struct Words<'a>(&'a Output);

impl Progress for Words<'_> {
    fn event(&self, event: Event<'_>) {
        match event.line() {
            Some(line) if event.is_warning() => self.0.warn(line),
            Some(line) => self.0.info(line),
            None => {}
        }
    }
}

impl Watch for Words<'_> {
    fn settled(&self, settled: &Settled) {
        settle::tell(self.0, settled);
    }
}

/// Runs `ykmfa enroll`.
pub async fn run(out: &Output, global: &Global, args: &EnrollArgs) -> Result<(), Failure> {
    if args.root.root {
        let (label, token) = (args.label.as_deref(), args.token());
        return super::root::run(out, &args.root, &token, label, args.touch, global.yes).await;
    }
    if let Some(serial) = &args.hardware_serial {
        let (user, purpose) = (args.user.as_deref().unwrap_or_default(), Purpose::Enroll);
        return super::hardware::run((out, global), (user, serial), purpose, args.dry_run).await;
    }
    let req = request(args)?;
    // Every stop signal, from here on: a question being answered ends cleanly, and once the
    // enrollment runs, it undoes what it did.
    let cancel = Cancel::default();
    let interrupt = super::interrupt::Interrupt::watch(
        &cancel,
        "finishing the current step, then undoing what was done. Send it again to quit at once.",
        "Quit without undoing: the next 'ykmfa enroll' for this user cleans up what is left.",
    )?;
    // IAM is asked while the token is found: the round trips overlap the token's work. A token
    // problem is still the one said first.
    let reading = enroll::prefetch(global.aws_options(), req.user.clone());
    let mut card = args.token().open(out)?;
    let token_tag = enroll::token_tag(card.token());
    let read = reading
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
    let (dir, reads) = read.map_err(|e| iam_failure(&e, global))?;
    let journal = Journal::default_location();
    let session = Session::new(&dir, &mut card, token_tag, journal, &SystemClock, &cancel);
    let result = session.enroll(&req, reads, args.dry_run, &Words(out)).await;
    let signal = interrupt.signal();
    drop(interrupt);
    let (done, token) = match result.map_err(|stop| stopped(out, stop, &req, global, signal))? {
        Outcome::Planned(plan) => return planned(out, global, args, &plan),
        Outcome::Recovered(arn) => return recovered(out, &arn, &req),
        Outcome::Enrolled(done) => {
            if let Some(e) = &done.unclear {
                out.warn(format!("{e}; {UNCLEAR}"));
            }
            (done.enrolled.clone(), done.token.clone())
        }
    };
    if out.json {
        out.json(&json!({"schema": "ykmfa.enroll/1", "enrolled": done}));
    } else {
        out.result(&done.device_serial);
        out.info(done.text(&token));
    }
    super::aws_profile::after_enroll(out, global, &args.aws_config, &done);
    Ok(())
}

const UNCLEAR: &str = "the next run will find nothing left to do there";

/// The enrollment a run that was interrupted had completed.
fn recovered(out: &Output, arn: &str, req: &Request) -> Result<(), Failure> {
    if out.json {
        let done = json!({"device_serial": arn, "user": req.user.as_str(), "recovered": true});
        out.json(&json!({"schema": "ykmfa.enroll/1", "enrolled": done}));
    } else {
        out.result(arn);
        let user = &req.user;
        out.info(format!(
            "{user} is enrolled with this token already (by the run that was interrupted)."
        ));
    }
    Ok(())
}

/// The plan of a dry run.
fn planned(out: &Output, global: &Global, args: &EnrollArgs, plan: &Plan) -> Result<(), Failure> {
    let config = super::aws_profile::planned(global, &args.aws_config);
    if out.json {
        let config = config.map(|(profile, file)| json!({"profile": profile, "file": file}));
        out.json(
            &json!({"schema": "ykmfa.enroll-plan/1", "plan": plan, "write_mfa_serial": config}),
        );
        return Ok(());
    }
    out.info(plan.to_string());
    if let Some((profile, file)) = config {
        let header = ykmfa::aws_config::section_header(&profile);
        out.info(format!("  then set mfa_serial in {header} of {file}"));
    }
    Ok(())
}

/// Why an enrollment stopped, in words; `signal` is the signal that stopped it, if one did.
fn stopped(
    out: &Output,
    stop: Stop,
    req: &Request,
    global: &Global,
    signal: Option<&str>,
) -> Failure {
    let user = &req.user;
    let s = match stop {
        Stop::Journal(e) => return settle::failure(e),
        Stop::Preflight(cause) => return cause_failure(cause, req, global),
        Stop::Broken { device, why } => return Failure::new(
            Exit::Incomplete,
            format!("{user} is enrolled with {device}, but {why}: nobody can compute its codes"),
            &[&format!("remove the device, then enroll again: ykmfa revoke --user {user} --device {device} --yes && ykmfa enroll --user {user}")],
        ),
        Stop::Failed(s) => *s,
    };
    let remains = s.failure.remains(user.as_str(), s.record.as_deref());
    let commands = s
        .failure
        .commands(&remedy::aws_flags(global.profile.as_deref()));
    let left = !s.failure.leftovers.is_empty();
    let mut failure = match s.failure.cause {
        Cause::Interrupted => Failure::new(Exit::Interrupted, "interrupted", &[]),
        other => cause_failure(other, req, global),
    };
    failure.what += &remains;
    if left {
        failure.code = Exit::Incomplete;
        failure.fix = commands;
    }
    if let Some(signal) = signal {
        if failure.code != Exit::Incomplete {
            failure.code = Exit::Interrupted;
        }
        failure.what = format!("{signal}: {}", failure.what);
    }
    if let Some(why) = s.journal {
        failure.what = format!(
            "{why}: ykmfa stopped, since it can't go on without recording what it does\n{}",
            failure.what
        );
    }
    if let Some(e) = s.unclear {
        out.warn(format!("{e}; {UNCLEAR}"));
    }
    failure
}

fn cause_failure(cause: Cause, req: &Request, global: &Global) -> Failure {
    // Say which step: "creating the virtual MFA device: IAM failed (...)".
    let (mut f, step) = match cause {
        Cause::Refused(r) => return refusal(r, req),
        Cause::Iam { step, error } => (iam_failure(&error, global), step),
        Cause::Card { step, error } => (Failure::from(error), step),
        Cause::Interrupted => {
            return Failure::new(Exit::Interrupted, "interrupted; nothing was changed", &[])
        }
        Cause::NotConfirmed(_) => {
            return Failure::new(
                Exit::Iam,
                cause.to_string(),
                &["check with: aws iam list-mfa-devices --user-name USER"],
            )
        }
    };
    if step != enroll::Step::Preflight {
        f.what = format!("{step}: {}", f.what);
    }
    f
}

fn refusal(r: Refusal, req: &Request) -> Failure {
    let (code, fix): (_, String) = match &r {
        Refusal::RootCaller => (Exit::Usage, "AWS assigns root MFA only in the console; ykmfa assists it: ykmfa enroll --root (see --help)".into()),
        Refusal::UnknownUser(..) => (Exit::Iam, "check the name (IAM user names are case-sensitive): aws iam list-users".into()),
        Refusal::TooManyDevices(..) => (Exit::Iam, "remove an unused device first: aws iam list-mfa-devices --user-name USER, then deactivate-mfa-device and delete-virtual-mfa-device".into()),
        Refusal::CredentialExists(_) => (Exit::Token, "ykmfa never overwrites a credential: choose another --label, or delete the old one (ykman oath accounts delete NAME)".into()),
        Refusal::TokenFull(_) => (Exit::Token, report::FREE_A_SLOT.into()),
        Refusal::LabelTooLong(..) => (Exit::Usage, format!("choose a shorter one: --label 'AWS:{}'", req.user)),
    };
    Failure::new(code, r.to_string(), &[&fix])
}
