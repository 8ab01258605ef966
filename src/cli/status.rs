//! `ykmfa status`: a user's MFA devices joined with the tokens present.
//!
//! The join is [`ykmfa::mfa::status`], the tokens [`ykmfa::token::present`]'s survey (a missing
//! PC/SC service or no token is no error here: the IAM side is still worth showing); this module
//! says whom it shows, and renders.

use serde_json::json;

use ykmfa::iam::{Directory, IamError, Sdk, UserName};
use ykmfa::mfa::status::table::{table, Fix, Rows, WIDTH};
use ykmfa::mfa::status::{self, Status, TokenRow};
use ykmfa::oath;
use ykmfa::token::{Present, Token};

use super::output::shell_lines;
use super::report::{self, iam_failure, Exit};
use super::{prompt, settle, Failure, Global, Output};
use ykmfa::layout::wrap;

/// Arguments of `ykmfa status`.
#[derive(clap::Args, Debug)]
pub struct StatusArgs {
    /// The IAM user [default: you, when you are signed in as an IAM user].
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// Ask for the OATH password of locked tokens (no echo), so their credentials can be read.
    /// For automation, set YKMFA_OATH_PASSWORD.
    #[arg(long)]
    pub oath_password: bool,
}

/// Runs `ykmfa status`.
pub async fn run(out: &Output, global: &Global, args: &StatusArgs) -> Result<(), Failure> {
    let asked = match &args.user {
        Some(u) => Some(UserName::parse(u).map_err(|e| report::usage("status", e.to_string()))?),
        None => None,
    };
    let fail = |e| iam_failure(&e, global);
    let dir = Sdk::connect(global.aws_options()).await.map_err(fail)?;
    let who = dir.caller_identity().await.map_err(fail)?;
    let user = match (asked, who.user_name()) {
        (Some(u), _) => u.to_string(),
        (None, Some(me)) => me.to_owned(),
        (None, None) if who.is_root() => {
            return Err(Failure::new(
                Exit::Usage,
                "you are signed in as the root user: say which IAM user to show",
                &[
                    "ykmfa status --user NAME",
                    "the root user's own MFA is in 'ykmfa audit'",
                ],
            ))
        }
        (None, None) => {
            return Err(Failure::new(
                Exit::Usage,
                format!(
                    "you are signed in as {}, not as an IAM user: say which user to show",
                    who.arn
                ),
                &["ykmfa status --user NAME"],
            ))
        }
    };

    let (tokens, unavailable) = look_at_tokens(out, args)?;
    // What dead runs left for this user or these tokens: reported, never settled here.
    let unfinished = settle::report(out, &who.account, &user, &settle::serials(&tokens));
    let facts = status::gather(&dir, &who.account, &user, tokens)
        .await
        .map_err(|e| match e {
            IamError::NoSuchEntity { .. } => Failure::new(
                Exit::Iam,
                format!("there is no IAM user '{user}' in account {}", who.account),
                &["check the name (IAM user names are case-sensitive): aws iam list-users"],
            ),
            other => iam_failure(&other, global),
        })?;
    if facts.tags_denied {
        out.warn(
            "iam:ListMFADeviceTags was denied: devices are matched to credentials by name only",
        );
    }
    let status = status::build(&facts);
    if out.json {
        let mut doc = serde_json::to_value(&status).unwrap_or_default();
        if let Some(map) = doc.as_object_mut() {
            map.insert("schema".into(), json!("ykmfa.status/1"));
            map.insert("tokens_unavailable".into(), json!(unavailable));
            map.insert("stale".into(), json!(status.stale()));
            map.insert(
                "unfinished_enrollments".into(),
                unfinished
                    .iter()
                    .map(|r| {
                        json!({
                            "user": r.user,
                            "device_name": r.device_name,
                            "device_serial": r.device_arn,
                            "credential": r.credential,
                            "token_serial": r.token_serial,
                            "token": r.token,
                            "stage": r.stage,
                            "pid": r.pid,
                        })
                    })
                    .collect(),
            );
        }
        out.json(&doc);
    } else {
        out.result(render(&status, unavailable.as_deref()));
    }
    Ok(())
}

/// The tokens present, the locked ones unlocked when a password is at hand. No PC/SC service
/// is not an error for `status`: the reason is returned and the tokens are none.
fn look_at_tokens(
    out: &Output,
    args: &StatusArgs,
) -> Result<(Vec<Token>, Option<String>), Failure> {
    let mut present = match tokio::task::block_in_place(Present::look) {
        Ok(present) => present,
        Err(e) => {
            let why = Failure::from(e);
            out.warn(format!("ykmfa could not look at the tokens: {}", why.what));
            for fix in &why.fix {
                out.info(format!("  fix: {fix}"));
            }
            return Ok((Vec::new(), Some(why.what)));
        }
    };
    report::skipped(out, &present.unusable);
    // YKMFA_OATH_PASSWORD, else a prompt when --oath-password asks for one. Never a prompt
    // otherwise: status only looks.
    let mut ask = |_: &Token| prompt::oath_password(args.oath_password, "the locked tokens");
    let failed = tokio::task::block_in_place(|| present.unlock_each(|_| true, &mut ask))
        .map_err(report::tokens_failure)?;
    for (t, e) in failed {
        out.warn(match e {
            oath::Error::WrongPassword => format!(
                "the OATH password does not unlock {}; its credentials stay unknown",
                t.describe()
            ),
            e => format!(
                "could not read {}: {e}; its credentials stay unknown",
                t.describe()
            ),
        });
    }
    Ok((present.tokens, None))
}

/// The human report: the user's devices, then each token's AWS credentials, then the fixes.
fn render(status: &Status, unavailable: Option<&str>) -> String {
    let rows = Rows::of(status);
    let n = status.devices.len();
    let (user, account, s) = (&status.user, &status.account, if n == 1 { "" } else { "s" });
    let mut text = format!("IAM user {user} in account {account}: {n} MFA device{s}\n");
    if n > 0 {
        let header = ["DEVICE", "TYPE", "ENABLED", "CREDENTIAL", "FIX"];
        text.push('\n');
        text.push_str(&table(header, &rows.devices, [24, 8, 10, 0, 3], WIDTH));
    }
    text.push('\n');
    match (unavailable, status.tokens.is_empty()) {
        (Some(why), _) => text.push_str(&format!("Tokens: not looked at ({why}).\n")),
        (None, true) => text.push_str(
            "Tokens: none connected, so no credential could be looked for (that is fine: connect one to see it).\n",
        ),
        (None, false) => {
            let tokens: Vec<String> = rows.tokens.iter().map(|(t, r)| token_lines(t, r)).collect();
            text.push_str(&tokens.join("\n"));
        }
    }
    if !rows.fixes.is_empty() {
        text.push_str("\nFixes:\n");
    }
    for (i, fix) in rows.fixes.iter().enumerate() {
        let (fix, command) = match fix {
            Fix::Device { device, fix } => (format!("{device}: {fix}"), None),
            Fix::Stale {
                credential,
                token,
                command,
            } => (
                format!("'{credential}' on {token} is stale: delete it"),
                Some(command),
            ),
        };
        let lead = format!("{:>3}. ", i + 1);
        let indent = " ".repeat(lead.len());
        for (j, line) in wrap(&fix, WIDTH - lead.len()).iter().enumerate() {
            text.push_str(&format!("{}{line}\n", if j == 0 { &lead } else { &indent }));
        }
        for line in command
            .map(|c| shell_lines(c, &format!("{indent}  "), WIDTH))
            .unwrap_or_default()
        {
            text.push_str(&format!("{line}\n"));
        }
    }
    text.trim_end().to_owned()
}

/// A token's line, and the table of its AWS credentials indented under it.
fn token_lines(t: &TokenRow, rows: &[[String; 3]]) -> String {
    let name = t.token.to_string();
    let Some(credentials) = &t.credentials else {
        return format!(
            "{name}: locked, credentials unknown (--oath-password or YKMFA_OATH_PASSWORD reads them)\n"
        );
    };
    let n = credentials.len();
    let others = match t.other_credentials.unwrap_or(0) {
        0 => String::new(),
        n => format!(" ({n} other{})", if n == 1 { "" } else { "s" }),
    };
    let s = if n == 1 { "" } else { "s" };
    let mut text = format!("{name}: {n} AWS credential{s}{others}\n");
    if n > 0 {
        let header = ["CREDENTIAL", "IAM DEVICE", "FIX"];
        for line in table(header, rows, [38, 0, 3], WIDTH - 2).lines() {
            text.push_str(&format!("  {line}\n"));
        }
    }
    text
}
