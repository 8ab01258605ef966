//! `ykmfa doctor`: the report of what ykmfa needs, one line per check, in the order things
//! depend on each other. The probes, the checks and their text and `ykmfa.doctor/1` JSON live in
//! the library ([`ykmfa::doctor`]); this file turns the first failure into the exit code the
//! same problem has in every other command.

use std::time::Duration;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};

use ykmfa::doctor::permissions::Command;
use ykmfa::doctor::probe::Limits;
use ykmfa::doctor::{self, Area, Check};

use super::report::Exit;
use super::{Failure, Global, Output};

/// `--for`'s values: the commands the permission table ([`Command::ALL`]) names.
fn command_names() -> impl TypedValueParser<Value = Command> {
    let value = |c: Command| PossibleValue::new(c.name()).help(format!("ykmfa {}", c.name()));
    let names = PossibleValuesParser::new(Command::ALL.map(value));
    names.try_map(|name| Command::from_name(&name).ok_or("not a command doctor checks"))
}

/// Arguments of `ykmfa doctor`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  ykmfa doctor\n  ykmfa doctor --for enroll,resync   \
(check only the permissions these commands need)\n  ykmfa doctor --no-aws   (this machine only: pcscd, readers, tokens)\n  \
ykmfa doctor --json | jq '.checks[] | select(.status == \"fail\")'\n\n\
Checks, in order: pcscd, readers, tokens, polkit, a program holding the token, OATH password, \
clock against AWS, AWS credentials, caller identity, and each command's IAM permissions (asked \
of IAM's policy simulator, which performs nothing). Each line is ok, warn, fail or skip (not \
checked because something it needs failed), with what to do.\n\n\
Exit code: 0 when nothing failed (warnings do not count); otherwise the code the first failure \
has in every command: 4 PC/SC (pcscd, polkit, readers, a program holding the token), 5 OATH \
password, 6 AWS credentials, identity or permissions, 1 clock.\n\
Needs no IAM permission itself; iam:SimulatePrincipalPolicy (and iam:GetRole for a role) lets \
it check the others. YKMFA_OATH_PASSWORD, when set, is tried on YubiKeys that have a password."
)]
pub struct DoctorArgs {
    /// Check the IAM permissions of these commands only (default: all).
    #[arg(
        long = "for",
        value_name = "COMMAND",
        value_parser = command_names(),
        value_delimiter = ','
    )]
    pub commands: Vec<Command>,
    /// Check this machine only (pcscd, readers, tokens); no AWS call.
    #[arg(long)]
    pub no_aws: bool,
    /// Longest wait, in seconds, for any one AWS step (PC/SC steps wait at most 5 s).
    #[arg(long, value_name = "SECS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub timeout: u64,
}

/// Runs `ykmfa doctor`.
pub async fn run(out: &Output, global: &Global, args: &DoctorArgs) -> Result<(), Failure> {
    let limits = Limits {
        aws_step: Duration::from_secs(args.timeout),
        ..Limits::default()
    };
    let commands = Command::chosen(args.commands.clone());
    let checks = doctor::run(global.aws_options(), args.no_aws, limits, commands).await;
    let checks = checks
        .map_err(|e| Failure::new(Exit::Failed, format!("the PC/SC checks stopped: {e}"), &[]))?;
    let exit = exit_for(&checks);
    if out.json {
        out.json(&doctor::json(&checks, exit.map_or(0, |code| code as u8)));
    } else {
        out.result(doctor::text(&checks, out.stdout_color));
    }
    if exit.is_none() && !out.json {
        out.info(doctor::closing(&checks));
    }
    exit.map_or(Ok(()), |code| {
        Err(Failure::new(code, doctor::closing(&checks), &[]))
    })
}

/// The exit code the first failure has in every other command.
fn exit_for(checks: &[Check]) -> Option<Exit> {
    Some(match doctor::failed_area(checks)? {
        Area::Pcsc => Exit::Pcsc,
        Area::Tokens => Exit::TokenNotFound,
        Area::Password => Exit::Token,
        Area::Aws => Exit::Aws,
        Area::Other => Exit::Failed,
    })
}

#[cfg(test)]
mod tests;
