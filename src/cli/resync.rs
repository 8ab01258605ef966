//! `ykmfa resync`: an IAM user's MFA device whose codes AWS no longer accepts, resynchronized
//! with two codes from the token; first, this machine's clock against AWS's. `--root` prints a
//! pair for the console's resync dialog instead.

use std::io::Write;
use std::time::Duration;

use serde_json::json;
use zeroize::Zeroizing;

use ykmfa::iam::names;
use ykmfa::iam::{ClockReading, Directory, IamError, Sdk, Skew, SkewLevel};
use ykmfa::mfa::pairing::{self, Explicit, Place, TokenRef};
use ykmfa::mfa::resync::{self, Chosen, Refusal, ResyncError, Resynced};
use ykmfa::mfa::revoke::{ArnError, DeviceArn};
use ykmfa::mfa::{labels, Clock, SystemClock};
use ykmfa::oath::{self, Password, TimeStep};
use ykmfa::token::{self, Serial, Token};
use ykmfa::token::{Card, PcscCard};
use ykmfa::transport::pcsc::Context;

use super::report::Exit;
use super::{prompt, settle, Failure, Global, Output};

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
    if args.root {
        return run_root(out, global, args).await;
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

    let dir = Sdk::connect(global.aws_options())
        .await
        .map_err(|e| super::report::iam_failure(&e, global))?;
    // The clock first: when it is the cause, nothing else needs looking at.
    let skew = clock(out, dir.server_clock().await);

    let mut view = resync::read_user(&dir, user.as_str())
        .await
        .map_err(|e| resync_failure(e, user.as_str(), global))?;
    if let Some(arn) = &device {
        view.check_device(&dir, arn.as_str(), arn.account())
            .await
            .map_err(|r| refusal_failure(r, user.as_str(), global))?;
    }
    if view.tags_denied {
        out.warn("ykmfa's tags on the devices can't be read (iam:ListMFADeviceTags); finding the credential by its default name");
    }

    let mut seen = Seen::look(out, args)?;
    seen.unlock(args)?;

    // The user's lock, held to the end; then what dead runs left for the user or these tokens.
    let (_lock, changed) = settle::lock_and_settle(
        out,
        &dir,
        &view.account,
        user.as_str(),
        &seen.tokens,
        || seen.password(),
    )
    .await?;
    if changed {
        view = resync::read_user(&dir, user.as_str())
            .await
            .map_err(|e| resync_failure(e, user.as_str(), global))?;
        let password = seen.password.take();
        seen = Seen::look(out, args)?;
        seen.password = password;
        seen.unlock(args)?;
    }

    let explicit = device.as_ref().map(|d| Explicit {
        device: d.to_string(),
        credential: args.label.clone(),
    });
    let paired = pairing::pair(
        &view.devices,
        &seen.tokens,
        view.alias.as_deref(),
        explicit.as_ref(),
    );
    let refs: Vec<TokenRef> = seen.tokens.iter().map(TokenRef::from).collect();
    let chosen = resync::choose(
        &paired,
        user.as_str(),
        device.as_ref().map(DeviceArn::as_str),
        &refs,
    )
    .map_err(|r| refusal_failure(r, user.as_str(), global))?;
    out.info(format!(
        "Resynchronizing {} with '{}' on {}...",
        chosen.device, chosen.location.credential, chosen.location.token
    ));
    if let Some(skew) = skew {
        confirm_large_skew(&skew, global)?;
    }

    let mut card = seen.card(&chosen)?;
    let result = resync::resync(
        &dir,
        &mut card,
        user.as_str(),
        &chosen,
        &SystemClock,
        &|event| match event {
            resync::Event::TouchNow => out.info("Touch your token now."),
            resync::Event::WaitingForFreshSteps(secs) => out.info(format!(
                "AWS refused these codes; they may be used up (an enrollment or a sign-in a moment ago). Trying fresh ones in {secs} s..."
            )),
        },
    )
    .await
    .map_err(|e| resync_failure(e, user.as_str(), global))?;
    finish(out, &view.account, &result, skew);
    Ok(())
}

// ---- the clock ----

/// Says how this machine's clock compares with AWS's; returns the skew when it was measured.
fn clock(out: &Output, reading: Result<ClockReading, IamError>) -> Option<Skew> {
    let reading = match reading {
        Ok(r) => r,
        Err(e) => {
            out.warn(format!(
                "could not compare this machine's clock with AWS's ({e}); if codes keep failing, check it: timedatectl status"
            ));
            return None;
        }
    };
    let skew = reading.skew();
    match skew.level() {
        SkewLevel::Ok => out.info(format!("Clock: this machine is {}.", skew_words(&skew))),
        SkewLevel::Noticeable => out.warn(format!(
            "this machine's clock is {}. Codes may fail near the end of each 30-second step. Check that it is synchronized: timedatectl status",
            skew_words(&skew)
        )),
        SkewLevel::Large => out.warn(format!(
            "this machine's clock is {}. A token has no clock: it computes codes for the time this machine says, so a wrong clock is the usual reason AWS refuses them. Fix the clock first: sudo timedatectl set-ntp true (then timedatectl status shows 'System clock synchronized: yes'), or sudo chronyc makestep where chrony runs.",
            skew_words(&skew)
        )),
    }
    Some(skew)
}

/// "12.3 s ahead of AWS (± 0.6 s)", "in step with AWS (-0.2 s ± 0.6 s)".
fn skew_words(skew: &Skew) -> String {
    let margin = format!("± {:.1} s", skew.uncertainty);
    if skew.at_least() == 0.0 {
        return format!("in step with AWS ({:+.1} s {margin})", skew.seconds);
    }
    let way = if skew.ahead() { "ahead of" } else { "behind" };
    format!("{:.1} s {way} AWS ({margin})", skew.seconds.abs())
}

/// A resync with a clock far off would write the wrong time into AWS's record of the device:
/// only a yes (or `--yes`) lets it go on.
fn confirm_large_skew(skew: &Skew, global: &Global) -> Result<(), Failure> {
    if skew.level() != SkewLevel::Large || global.yes {
        return Ok(());
    }
    let refused = || {
        Failure::new(
            Exit::Failed,
            format!(
                "this machine's clock is {}; a resync now would make AWS expect codes from that wrong time. Nothing was changed",
                skew_words(skew)
            ),
            &[
                "fix the clock (sudo timedatectl set-ntp true), then try a sign-in: the codes may well work again without a resync",
                "or resync against this clock anyway: add --yes",
            ],
        )
    };
    if !prompt::has_tty() {
        return Err(refused());
    }
    match prompt::confirm("Resynchronize against this machine's clock anyway? [y/N] ") {
        Ok(true) => Ok(()),
        Ok(false) => Err(refused()),
        Err(e) => Err(prompt::failure(e, "the answer", "pass --yes instead")),
    }
}

fn clock_json(skew: Option<Skew>) -> serde_json::Value {
    match skew {
        Some(s) => json!({
            "skew_seconds": (s.seconds * 10.0).round() / 10.0,
            "uncertainty_seconds": (s.uncertainty * 10.0).round() / 10.0,
            "level": s.level(),
        }),
        None => serde_json::Value::Null,
    }
}

fn finish(out: &Output, account: &str, done: &Resynced, skew: Option<Skew>) {
    if out.json {
        out.json(&json!({
            "schema": "ykmfa.resync/1",
            "account": account,
            "user": done.user,
            "device": done.device,
            "credential": done.credential,
            "token": done.token,
            "matched_by": done.matched_by,
            "steps": done.steps,
            "clock": clock_json(skew),
        }));
        return;
    }
    out.result(&done.device);
    out.info(format!(
        "Resynchronized: AWS is in step again with the codes of '{}' on {}. The codes just used can't sign in again: the next sign-in needs a fresh one.",
        done.credential, done.token
    ));
}

// ---- tokens ----

/// The tokens present (only `--serial`'s when given), and the OATH password once one was needed.
struct Seen {
    tokens: Vec<Token>,
    password: Option<Zeroizing<String>>,
}

impl Seen {
    /// Identifies the tokens, waiting for one to be inserted when none (or not `--serial`'s) is.
    fn look(out: &Output, args: &ResyncArgs) -> Result<Seen, Failure> {
        let ctx = Context::establish()?;
        let inv = token::inventory(&ctx)?;
        for u in &inv.unusable {
            out.warn(format!("skipped the card in '{}': {}", u.reader, u.reason));
        }
        let mut tokens: Vec<Token> = inv
            .tokens
            .into_iter()
            .filter(|t| args.serial.is_none_or(|s| t.serial == Some(s)))
            .collect();
        if tokens.is_empty() {
            let wait =
                Duration::from_secs(args.wait.unwrap_or(if prompt::has_tty() { 30 } else { 0 }));
            tokens.push(token::find(&ctx, args.serial, wait, || {
                out.info(format!(
                    "Please insert your token (waiting up to {} s)...",
                    wait.as_secs()
                ))
            })?);
        }
        Ok(Seen {
            tokens,
            password: None,
        })
    }

    fn password(&self) -> Option<Password> {
        self.password.as_ref().map(|p| Password::new(p.to_string()))
    }

    /// Reads the credentials of password-protected tokens. Without a password at hand a locked
    /// token stays unread, and pairing says the credential may be on it.
    fn unlock(&mut self, args: &ResyncArgs) -> Result<(), Failure> {
        for i in 0..self.tokens.len() {
            if self.tokens[i].listed.is_some() {
                continue;
            }
            if self.password.is_none() {
                self.password = oath_password(args, &self.tokens[i])?;
            }
            let Some(password) = self.password() else {
                return Ok(());
            };
            let mut card = PcscCard::new(
                Context::establish()?,
                self.tokens[i].clone(),
                Some(password),
            );
            let listed = tokio::task::block_in_place(|| card.list())?;
            self.tokens[i].listed = Some(listed);
        }
        Ok(())
    }

    /// The token that holds the chosen credential, ready for CALCULATE.
    fn card(&self, chosen: &Chosen) -> Result<PcscCard, Failure> {
        let Some(found) = self
            .tokens
            .iter()
            .find(|t| t.reader == chosen.location.token.reader)
        else {
            return Err(Failure::new(
                Exit::TokenNotFound,
                format!(
                    "{} is no longer connected; nothing was changed",
                    chosen.location.token
                ),
                &["reconnect it and run the command again"],
            ));
        };
        Ok(PcscCard::new(
            Context::establish()?,
            found.clone(),
            self.password(),
        ))
    }
}

fn oath_password(args: &ResyncArgs, token: &Token) -> Result<Option<Zeroizing<String>>, Failure> {
    prompt::oath_password(args.oath_password || prompt::has_tty(), &token.describe())
}

// ---- the root user: a pair for the console ----

async fn run_root(out: &Output, global: &Global, args: &ResyncArgs) -> Result<(), Failure> {
    let mut seen = Seen::look(out, args)?;
    seen.unlock(args)?;
    if let Some(locked) = seen.tokens.iter().find(|t| t.listed.is_none()) {
        return Err(Failure::new(
            Exit::Token,
            format!("{} is password protected", locked.describe()),
            &["give the OATH password with --oath-password (prompted) or YKMFA_OATH_PASSWORD"],
        ));
    }
    let (token, credential) = root_credential(&seen.tokens, args.label.as_deref())?;

    // Root's own keys are rarely configured: the clock is compared when some AWS credentials
    // answer within a few seconds, and otherwise the person is told to check it.
    let reading = async {
        let dir = Sdk::connect(global.aws_options()).await?;
        dir.server_clock().await
    };
    let reading = tokio::time::timeout(Duration::from_secs(8), reading)
        .await
        .unwrap_or(Err(IamError::Timeout {
            action: "sts:GetCallerIdentity",
        }));
    let skew = clock(out, reading);

    let now = SystemClock.now();
    let first = TimeStep::at(now, 30);
    let steps = [first, first.next()];
    let mut card = PcscCard::new(Context::establish()?, token.clone(), seen.password());
    let codes = tokio::task::block_in_place(|| {
        card.calculate_pair(&credential.raw_id, steps, &mut || {
            out.info("Touch your token now.")
        })
    })?;
    let valid_until = steps[1].next().start(30);
    if out.json {
        out.json(&json!({
            "schema": "ykmfa.resync-root/1",
            "credential": credential.id.to_string(),
            "token": TokenRef::from(token),
            "codes": [codes[0].value, codes[1].value],
            "steps": [steps[0].0, steps[1].0],
            "valid_until": valid_until,
            "clock": clock_json(skew),
        }));
        return Ok(());
    }
    out.info(format!(
        "In the console (signed in as root: Security credentials, your MFA device, Resync), type these codes of '{}', in this order (MFA code 1, MFA code 2):",
        credential.id
    ));
    out.result(&codes[0].value);
    out.result(&codes[1].value);
    countdown(out, valid_until).await;
    Ok(())
}

/// The root credential: `--label`'s, or the one credential whose name says it is root's.
fn root_credential<'a>(
    tokens: &'a [Token],
    label: Option<&str>,
) -> Result<(&'a Token, &'a oath::Credential), Failure> {
    let all = tokens
        .iter()
        .flat_map(|t| t.listed.iter().flatten().map(move |c| (t, c)));
    let found: Vec<(&Token, &oath::Credential)> = match label {
        Some(name) => all.filter(|(_, c)| c.id.to_string() == name).collect(),
        None => all
            .filter(|(_, c)| labels::owner(&c.id).is_some_and(|o| o.is_root()))
            .collect(),
    };
    let aws_names = || {
        tokens
            .iter()
            .flat_map(|t| t.listed.iter().flatten())
            .filter(|c| labels::looks_like_aws(&c.id))
            .map(|c| format!("'{}'", c.id))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match found.as_slice() {
        [one] => Ok(*one),
        [] => {
            let what = match label {
                Some(name) => format!("no connected token holds a credential named '{name}'"),
                None => "no credential on the connected tokens is named as a root credential ('Amazon Web Services:root@ACCOUNT')".to_owned(),
            };
            let names = aws_names();
            let hint = if names.is_empty() {
                "'ykman oath accounts list' shows the credentials on a token".to_owned()
            } else {
                format!("the AWS credentials present: {names}; choose with --label NAME")
            };
            Err(Failure {
                what,
                fix: vec![hint],
                code: Exit::TokenNotFound,
            })
        }
        many => Err(Failure {
            what: format!(
                "{} credentials could be the root user's: {}",
                many.len(),
                many.iter()
                    .map(|(t, c)| format!("'{}' on {}", c.id, t.describe()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            fix: vec![
                "choose one with --label NAME (and --serial SERIAL when two tokens hold it)"
                    .to_owned(),
            ],
            code: Exit::Usage,
        }),
    }
}

/// On a terminal, the time left to type the codes, updated each second until they expire (or
/// Ctrl-C). Elsewhere, once.
async fn countdown(out: &Output, valid_until: u64) {
    if !prompt::terminal_available() || std::env::var("TERM").is_ok_and(|t| t == "dumb") {
        out.info(super::report::validity(valid_until, SystemClock.now()));
        return;
    }
    let mut err = std::io::stderr();
    let _ = writeln!(
        err,
        "{}",
        super::report::validity(valid_until, SystemClock.now())
    );
    let Ok(interrupt) = super::interrupt::Interrupt::watch(
        &ykmfa::mfa::Cancel::default(),
        "the countdown stops.",
        "",
    ) else {
        return;
    };
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = interrupt.notified() => {
                let _ = writeln!(err);
                return;
            }
        }
        let now = SystemClock.now();
        if now >= valid_until {
            let _ = writeln!(
                err,
                "\x1b[1A\r\x1b[2KThese codes have expired: if the console has not taken them, run ykmfa resync --root again."
            );
            return;
        }
        let _ = writeln!(
            err,
            "\x1b[1A\r\x1b[2K{}",
            super::report::validity(valid_until, now)
        );
    }
}

// ---- failures ----

fn usage(what: impl Into<String>) -> Failure {
    Failure::new(Exit::Usage, what, &["see 'ykmfa resync --help'"])
}

fn arn_failure(e: ArnError) -> Failure {
    let what = match &e {
        ArnError::Malformed(_) => e.to_string(),
        ArnError::NotVirtual(arn) => format!(
            "'{arn}' is not a virtual MFA device (its ARN has ':mfa/'); ykmfa resyncs the virtual devices it computes codes for"
        ),
    };
    Failure::new(
        Exit::Usage,
        what,
        &["list the user's devices with: aws iam list-mfa-devices --user-name NAME"],
    )
}

fn profile_flag(global: &Global) -> String {
    ykmfa::mfa::remedy::aws_flags(global.profile.as_deref())
}

fn resync_failure(e: ResyncError, user: &str, global: &Global) -> Failure {
    match e {
        ResyncError::Refused(r) => refusal_failure(r, user, global),
        ResyncError::Read(e) => super::report::iam_failure(&e, global),
        ResyncError::Card(e) => {
            let mut f: Failure = e.into();
            f.what = format!(
                "computing codes on the token: {}; nothing was changed",
                f.what
            );
            f
        }
        ResyncError::CodesRefused {
            ref device,
            ref credential,
            ..
        } => {
            let p = profile_flag(global);
            Failure {
                what: format!(
                    "{e}. The credential does not compute this device's codes (it was replaced, or belongs to another device). Nothing was changed"
                ),
                fix: vec![
                    format!("if another credential is this device's: ykmfa resync --user {user} --device {device} --label NAME"),
                    format!("otherwise replace the device: ykmfa{p} revoke --user {user} --device {device}, then ykmfa{p} enroll --user {user}"),
                    format!("(the credential '{credential}' stays on the token until revoke removes it)"),
                ],
                code: Exit::Iam,
            }
        }
        ResyncError::Resync(e) => {
            let mut f = super::report::iam_failure(&e, global);
            f.what = format!("resynchronizing: {}", f.what);
            if e.outcome_unknown() {
                f.fix.insert(0, "the device may or may not have been resynchronized; running the command again is harmless".to_owned());
            }
            f
        }
    }
}

fn refusal_failure(r: Refusal, user: &str, global: &Global) -> Failure {
    let what = format!("{r}; nothing was changed");
    let p = profile_flag(global);
    let list = format!("list {user}'s devices: aws iam list-mfa-devices{p} --user-name {user}");
    match r {
        Refusal::UnknownUser(..) => Failure::new(
            Exit::Iam,
            what,
            &[&format!("check the name (IAM user names are case-sensitive): aws iam list-users{p}")],
        ),
        Refusal::NoDevices(_) => Failure::new(
            Exit::Iam,
            what,
            &[&format!("enroll one: ykmfa{p} enroll --user {user}")],
        ),
        Refusal::OtherAccount { .. } => Failure::new(
            Exit::Usage,
            what,
            &["use credentials of the device's account (--profile NAME)", &list],
        ),
        Refusal::UnknownDevice(_) | Refusal::NotUsersDevice { .. } => {
            Failure::new(Exit::Iam, what, &[&list])
        }
        Refusal::NoToken => Failure::new(
            Exit::TokenNotFound,
            what,
            &["insert your YubiKey (or Nitrokey) and try again; 'ykmfa tokens' lists what ykmfa sees"],
        ),
        Refusal::NotOnToken { ref devices, .. } => {
            let mut what = what;
            for d in devices {
                what.push_str(&format!("\n  - {}: {}", d.serial, where_words(&d.place)));
            }
            Failure::new(
                Exit::TokenNotFound,
                what,
                &[
                    "insert the token that holds the device's credential ('ykmfa tokens' lists what ykmfa sees)",
                    &format!("if its credential has another name: ykmfa resync --user {user} --device ARN --label 'ISSUER:ACCOUNT'"),
                ],
            )
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
            Failure {
                what: format!(
                    "{what}. Resync can't help: the seed of {device} was only ever in that credential, and AWS never shows a seed twice"
                ),
                fix: vec![
                    format!("replace the device: ykmfa{p} revoke --user {user} --device {device}"),
                    format!("then enroll again: ykmfa{p} enroll --user {user}{serial}"),
                ],
                code: Exit::Token,
            }
        }
        Refusal::SeveralDevices { ref devices, .. } => Failure {
            what,
            fix: devices
                .iter()
                .map(|d| format!("ykmfa resync --user {user} --device {d}"))
                .collect(),
            code: Exit::Usage,
        },
        Refusal::Ambiguous { .. } => Failure::new(
            Exit::Usage,
            what,
            &[
                "say which device with --device ARN, and which token with --serial SERIAL",
                "or name the credential: --device ARN --label 'ISSUER:ACCOUNT'",
            ],
        ),
        Refusal::Locked { .. } => Failure::new(
            Exit::Token,
            what,
            &["give the OATH password with --oath-password (prompted) or YKMFA_OATH_PASSWORD"],
        ),
    }
}

/// Where pairing places a device's credential, in words.
fn where_words(place: &Place) -> String {
    match place {
        Place::OnToken(l) => format!("'{}' on {}", l.credential, l.token),
        Place::Gone { token, credential } => format!("'{credential}' is gone from {token}"),
        Place::NotConnected {
            token_serial: Some(s),
            credential: Some(c),
        } => format!("'{c}' on token {s}, which is not connected"),
        Place::NotConnected {
            credential: Some(c),
            ..
        } => format!("'{c}', on no connected token"),
        Place::NotConnected { .. } => {
            "no ykmfa tags, and no credential of the default name on the tokens".to_owned()
        }
        Place::Unknown { locked } => format!(
            "may be on {} (password protected)",
            locked
                .iter()
                .map(TokenRef::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Place::Ambiguous { candidates, .. } => format!(
            "one of {}",
            candidates
                .iter()
                .map(|l| format!("'{}' on {}", l.credential, l.token))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests;
