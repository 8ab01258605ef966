//! `ykmfa doctor`: the report of what ykmfa needs, one line per check, in the order things
//! depend on each other. The checks live in the library ([`ykmfa::doctor`]); this file runs the
//! probes side by side (PC/SC on its own thread, AWS on the runtime), renders the lines for an
//! 80-column terminal or as `ykmfa.doctor/1` JSON, and turns the first failure into the exit
//! code the same problem has in every other command.

use std::time::Duration;

use serde_json::json;

use ykmfa::doctor::permissions::Command;
use ykmfa::doctor::probe::{self, Limits};
use ykmfa::doctor::{self, aws, local, Check, Status};
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

impl From<CommandName> for Command {
    fn from(c: CommandName) -> Command {
        match c {
            CommandName::Enroll => Command::Enroll,
            CommandName::Resync => Command::Resync,
            CommandName::Revoke => Command::Revoke,
            CommandName::Status => Command::Status,
            CommandName::Audit => Command::Audit,
        }
    }
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
    let mut commands: Vec<Command> = args.commands.iter().map(|&c| c.into()).collect();
    if commands.is_empty() {
        commands = Command::ALL.to_vec();
    }
    commands.sort();
    commands.dedup();

    let password = super::prompt::env_password()
        .filter(|p| !p.is_empty())
        .map(|p| Password::new(p.to_string()));
    let machine = tokio::task::spawn_blocking(move || probe::local(limits, password));
    let cloud = probe::aws(global.aws_options(), args.no_aws, limits, commands);
    let (machine, cloud) = tokio::join!(machine, cloud);
    let machine = machine
        .map_err(|e| Failure::new(Exit::Failed, format!("the PC/SC checks stopped: {e}"), &[]))?;

    let mut checks = local::checks(&machine);
    checks.extend(aws::checks(&cloud));
    if out.json {
        out.json(&json!({
            "schema": "ykmfa.doctor/1",
            "checks": checks,
            "summary": doctor::tally(&checks),
            "exit_code": exit_for(&checks).map_or(0, |(code, _)| code as u8),
        }));
    } else {
        out.result(render(&checks, out.stdout_color));
    }
    verdict(out, &checks)
}

/// The exit code of the first failure, and that check.
fn exit_for(checks: &[Check]) -> Option<(Exit, &Check)> {
    let first = doctor::first_failure(checks)?;
    let code = match first.id.as_str() {
        "pcscd" | "polkit" | "readers" | "token-in-use" => Exit::Pcsc,
        "tokens" => Exit::TokenNotFound,
        "oath-password" => Exit::Token,
        "credentials" | "identity" => Exit::Aws,
        id if id.starts_with("iam.") => Exit::Aws,
        _ => Exit::Failed,
    };
    Some((code, first))
}

/// Success, or a failure naming the failed checks (their fixes are in the report already).
fn verdict(out: &Output, checks: &[Check]) -> Result<(), Failure> {
    let tally = doctor::tally(checks);
    let Some((code, _)) = exit_for(checks) else {
        if !out.json {
            out.info(match tally.warn {
                0 => "Everything ykmfa needs is in place.".to_owned(),
                1 => "Nothing failed; 1 warning above.".to_owned(),
                n => format!("Nothing failed; {n} warnings above."),
            });
        }
        return Ok(());
    };
    let failed: Vec<&str> = checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| c.name.as_str())
        .collect();
    let what = match failed.len() {
        1 => format!("1 check failed: {}", failed[0]),
        n => format!("{n} checks failed: {}", failed.join(", ")),
    };
    Err(Failure::new(code, what, &[]))
}

const WIDTH: usize = 80;

/// The report: `STATUS  NAME  detail`, details and fixes wrapped under the detail column.
fn render(checks: &[Check], colour: bool) -> String {
    let name_width = checks
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(0)
        .min(16);
    let indent = 4 + 2 + name_width + 2;
    let text_width = WIDTH.saturating_sub(indent).max(20);
    let mut lines = Vec::new();
    for c in checks {
        let word = format!("{:<4}", c.status.word());
        let word = if colour {
            let code = match c.status {
                Status::Ok => "32",
                Status::Warn => "33;1",
                Status::Fail => "31;1",
                Status::Skip => "2",
            };
            format!("\x1b[{code}m{word}\x1b[0m")
        } else {
            word
        };
        let detail = wrap(&c.detail, text_width);
        let mut first = true;
        for piece in detail {
            if first {
                lines.push(format!("{word}  {:<name_width$}  {piece}", c.name));
                first = false;
            } else {
                lines.push(format!("{:indent$}{piece}", ""));
            }
        }
        for fix in &c.fix {
            let wrapped = wrap(&format!("fix: {fix}"), text_width);
            for (i, piece) in wrapped.iter().enumerate() {
                let pad = if i == 0 { indent } else { indent + 5 };
                lines.push(format!("{:pad$}{piece}", ""));
            }
        }
    }
    lines
        .iter()
        .map(|l| l.trim_end().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Word-wraps `text` to `width` columns; a word longer than a line (an ARN) is cut.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    // Continuation lines of a fix are indented 5 more: keep them within the width too.
    let mut limit = width;
    for word in text.split_whitespace() {
        let mut word = word.to_owned();
        loop {
            let used = line.chars().count();
            let need = word.chars().count() + usize::from(used > 0);
            if used + need <= limit {
                if used > 0 {
                    line.push(' ');
                }
                line.push_str(&word);
                break;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut line));
                limit = width.saturating_sub(5).max(10);
                continue;
            }
            // An unbreakable word longer than the line.
            let head: String = word.chars().take(limit).collect();
            word = word.chars().skip(limit).collect();
            lines.push(head);
            limit = width.saturating_sub(5).max(10);
            if word.is_empty() {
                break;
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests;
