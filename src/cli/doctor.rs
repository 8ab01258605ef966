//! `ykmfa doctor`: the report of what ykmfa needs, one line per check, in the order things
//! depend on each other. The checks live in the library ([`ykmfa::doctor`]); this file runs the
//! probes side by side (PC/SC on its own thread, AWS on the runtime), renders the lines for an
//! 80-column terminal or as `ykmfa.doctor/1` JSON, and turns the first failure into the exit
//! code the same problem has in every other command.

use std::time::Duration;

use clap::ValueEnum;

use ykmfa::doctor::permissions::Command;
use ykmfa::doctor::probe::{self, Limits};
use ykmfa::doctor::{self, aws, local, Area, Check};
use ykmfa::layout::{fill, line, paint, widest, Column};
use ykmfa::oath::Password;

use super::report::Exit;
use super::{Failure, Global, Output};

/// The commands whose IAM permissions `--for` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CommandName {
    /// ykmfa enroll.
    Enroll,
    /// ykmfa resync.
    Resync,
    /// ykmfa revoke.
    Revoke,
    /// ykmfa status.
    Status,
    /// ykmfa audit.
    Audit,
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
        value_enum,
        value_delimiter = ','
    )]
    pub commands: Vec<CommandName>,
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
    let name = |c: &CommandName| Command::from_name(c.to_possible_value()?.get_name());
    let commands = Command::chosen(args.commands.iter().filter_map(name).collect());
    let env = ykmfa::token::password::from_env().filter(|p| !p.is_empty());
    let password = env.map(|p| Password::new(p.to_string()));
    let machine = tokio::task::spawn_blocking(move || probe::local(limits, password));
    let cloud = probe::aws(global.aws_options(), args.no_aws, limits, commands);
    let (machine, cloud) = tokio::join!(machine, cloud);
    let machine = machine
        .map_err(|e| Failure::new(Exit::Failed, format!("the PC/SC checks stopped: {e}"), &[]))?;
    let mut checks = local::checks(&machine);
    checks.extend(aws::checks(&cloud));
    let exit = exit_for(&checks);
    if out.json {
        out.json(&doctor::json(&checks, exit.map_or(0, |code| code as u8)));
    } else {
        out.result(render(&checks, out.stdout_color));
    }
    let Some(code) = exit else {
        if !out.json {
            out.info(match doctor::tally(&checks).warn {
                0 => "Everything ykmfa needs is in place.".to_owned(),
                1 => "Nothing failed; 1 warning above.".to_owned(),
                n => format!("Nothing failed; {n} warnings above."),
            });
        }
        return Ok(());
    };
    let failed = doctor::failed(&checks);
    let what = match failed.len() {
        1 => format!("1 check failed: {}", failed[0]),
        n => format!("{n} checks failed: {}", failed.join(", ")),
    };
    Err(Failure::new(code, what, &[]))
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

const WIDTH: usize = 80;

/// The report: `STATUS  NAME  detail`, details and fixes wrapped under the detail column.
fn render(checks: &[Check], colour: bool) -> String {
    let name_width = widest(checks.iter().map(|c| c.name.as_str()), 16);
    let text_width = WIDTH.saturating_sub(4 + 2 + name_width + 2).max(20);
    // A fix's continuation lines are indented 5 more: every continuation keeps within that.
    let more = text_width.saturating_sub(5).max(10);
    let columns = [4, name_width, text_width].map(Column::left);
    let mut lines = Vec::new();
    for c in checks {
        let detail = fill(&c.detail, text_width, more);
        let plain = line(&columns, &[c.status.word(), &c.name, &detail[0]]);
        // Green, bold yellow, bold red, dim: in the order of Status.
        let code = ["32", "33;1", "31;1", "2"][c.status as usize];
        let word = paint(true, code, &format!("{:<4}", c.status.word()));
        lines.push(match colour {
            true => format!("{word}{}", plain.get(4..).unwrap_or("")),
            false => plain,
        });
        let mut under = detail[1..].to_vec();
        for fix in &c.fix {
            for (i, p) in fill(&format!("fix: {fix}"), text_width, more)
                .into_iter()
                .enumerate()
            {
                under.push(if i == 0 { p } else { format!("     {p}") });
            }
        }
        lines.extend(under.iter().map(|p| line(&columns, &["", "", p])));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests;
