//! `ykmfa status`: a user's MFA devices joined with the tokens present.
//!
//! The join is [`ykmfa::mfa::status`], the tokens [`ykmfa::token::present`]'s survey (a missing
//! PC/SC service or no token is no error here: the IAM side is still worth showing); this module
//! says whom it shows, and renders.

use serde_json::json;

use ykmfa::iam::UserName;
use ykmfa::iam::{Directory, IamError, Sdk};
use ykmfa::mfa::pairing::{MatchedBy, Place};
use ykmfa::mfa::status::{self, DeviceRow, DeviceType, Status, TokenRow, Verdict};
use ykmfa::oath;
use ykmfa::token::{Present, Token};

use super::output::{shell_lines, shorten, wrap};
use super::report::{self, iam_failure, Exit};
use super::{prompt, settle, Failure, Global, Output};

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
    let dir = Sdk::connect(global.aws_options())
        .await
        .map_err(|e| iam_failure(&e, global))?;
    let who = dir
        .caller_identity()
        .await
        .map_err(|e| iam_failure(&e, global))?;
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

const WIDTH: usize = 80;

/// The human report: the user's devices, then each token's AWS credentials, then the fixes.
fn render(status: &Status, unavailable: Option<&str>) -> String {
    let mut fixes: Vec<(String, Option<String>)> = Vec::new();
    let mut number = |fix: (String, Option<String>)| match fixes.iter().position(|f| *f == fix) {
        Some(i) => i + 1,
        None => {
            fixes.push(fix);
            fixes.len()
        }
    };
    let n = status.devices.len();
    let mut text = format!(
        "IAM user {} in account {}: {n} MFA device{}\n",
        status.user,
        status.account,
        if n == 1 { "" } else { "s" }
    );
    if n > 0 {
        text.push('\n');
        let rows: Vec<[String; 5]> = status
            .devices
            .iter()
            .map(|d| {
                let fix = d
                    .fix
                    .clone()
                    .map(|f| number((format!("{}: {f}", short_arn(&d.serial)), None)));
                [
                    short_arn(&d.serial),
                    d.kind.as_str().to_owned(),
                    d.enable_date
                        .as_deref()
                        .map_or("-", |s| s.get(..10).unwrap_or(s))
                        .to_owned(),
                    where_is(d),
                    fix.map_or(String::new(), |n| n.to_string()),
                ]
            })
            .collect();
        text.push_str(&table(
            ["DEVICE", "TYPE", "ENABLED", "CREDENTIAL", "FIX"],
            &rows,
            [24, 8, 10, 0, 3],
            WIDTH,
        ));
    }

    text.push('\n');
    match (unavailable, status.tokens.is_empty()) {
        (Some(why), _) => text.push_str(&format!("Tokens: not looked at ({why}).\n")),
        (None, true) => text.push_str(
            "Tokens: none connected, so no credential could be looked for (that is fine: connect one to see it).\n",
        ),
        (None, false) => {
            for (i, t) in status.tokens.iter().enumerate() {
                if i > 0 {
                    text.push('\n');
                }
                text.push_str(&token_lines(t, &mut number));
            }
        }
    }
    if !fixes.is_empty() {
        text.push_str("\nFixes:\n");
        for (i, (fix, command)) in fixes.iter().enumerate() {
            let lead = format!("{:>3}. ", i + 1);
            let indent = " ".repeat(lead.len());
            for (j, line) in wrap(fix, WIDTH - lead.len()).iter().enumerate() {
                text.push_str(if j == 0 { &lead } else { &indent });
                text.push_str(line);
                text.push('\n');
            }
            if let Some(command) = command {
                for line in shell_lines(command, &format!("{indent}  "), WIDTH) {
                    text.push_str(&line);
                    text.push('\n');
                }
            }
        }
    }
    text.trim_end().to_owned()
}

fn token_lines(t: &TokenRow, number: &mut impl FnMut((String, Option<String>)) -> usize) -> String {
    let name = t.token.to_string();
    let Some(credentials) = &t.credentials else {
        return format!(
            "{name}: locked, credentials unknown (--oath-password or YKMFA_OATH_PASSWORD reads them)\n"
        );
    };
    let others = t.other_credentials.unwrap_or(0);
    let mut text = format!(
        "{name}: {} AWS credential{}{}\n",
        credentials.len(),
        if credentials.len() == 1 { "" } else { "s" },
        match others {
            0 => String::new(),
            n => format!(" ({n} other{})", if n == 1 { "" } else { "s" }),
        }
    );
    if credentials.is_empty() {
        return text;
    }
    let rows: Vec<[String; 3]> = credentials
        .iter()
        .map(|c| {
            let verdict = match c.state {
                Verdict::Paired => format!(
                    "{}{}",
                    c.devices
                        .iter()
                        .map(|d| short_arn(d))
                        .collect::<Vec<_>>()
                        .join(", "),
                    c.user.as_ref().map_or(String::new(), |u| format!(" ({u})"))
                ),
                Verdict::Ambiguous => format!(
                    "ambiguous: {}",
                    c.devices
                        .iter()
                        .map(|d| short_arn(d))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Verdict::Stale => format!("STALE: {}", c.reason.as_deref().unwrap_or_default()),
                Verdict::Unchecked => {
                    format!("not checked: {}", c.reason.as_deref().unwrap_or_default())
                }
            };
            let fix = c.fix.clone().map(|command| {
                number((
                    format!("'{}' on {name} is stale: delete it", c.name),
                    Some(command),
                ))
            });
            [
                c.name.clone(),
                verdict,
                fix.map_or(String::new(), |n| n.to_string()),
            ]
        })
        .collect();
    // Indented under the token's line.
    for line in table(
        ["CREDENTIAL", "IAM DEVICE", "FIX"],
        &rows,
        [38, 0, 3],
        WIDTH - 2,
    )
    .lines()
    {
        text.push_str("  ");
        text.push_str(line);
        text.push('\n');
    }
    text
}

/// Where a device's credential is, in a few words.
fn where_is(d: &DeviceRow) -> String {
    let Some(place) = &d.place else {
        return match d.kind {
            DeviceType::U2f => "none: a FIDO security key".to_owned(),
            DeviceType::Hardware => "none: a hardware TOTP token".to_owned(),
            DeviceType::Virtual => "-".to_owned(),
        };
    };
    match place {
        Place::OnToken(l) => format!(
            "on {} as '{}'{}{}",
            l.token,
            l.credential,
            if l.matched_by == MatchedBy::Label {
                " (by name)"
            } else {
                ""
            },
            if l.touch == Some(true) { ", touch" } else { "" }
        ),
        Place::Gone { token, credential } => {
            format!("GONE from {token}: '{credential}' was deleted or the token reset")
        }
        Place::NotConnected { token_serial, .. } => match token_serial {
            Some(s) => format!("not connected (token {s})"),
            None => "not on a connected token".to_owned(),
        },
        Place::Unknown { locked } => format!(
            "unknown: {} locked",
            locked
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Place::Ambiguous { candidates, .. } => format!(
            "ambiguous: {}",
            candidates
                .iter()
                .map(|l| format!("'{}' on {}", l.credential, l.token))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `mfa/alice-yk12345678` for an ARN; anything else as it is.
fn short_arn(serial: &str) -> String {
    serial.splitn(6, ':').nth(5).unwrap_or(serial).to_owned()
}

/// A table `width` columns wide: each column as wide as its longest cell up to its `max`; the
/// column whose `max` is 0 takes what is left. Cells wrap at spaces within their column.
fn table<const N: usize>(
    header: [&str; N],
    rows: &[[String; N]],
    max: [usize; N],
    width: usize,
) -> String {
    let mut w = [0usize; N];
    for i in 0..N {
        let natural = rows
            .iter()
            .map(|r| r[i].chars().count())
            .chain([header[i].chars().count()])
            .max()
            .unwrap_or(0);
        w[i] = if max[i] == 0 {
            natural
        } else {
            natural.min(max[i])
        };
    }
    if let Some(f) = max.iter().position(|m| *m == 0) {
        let others: usize = (0..N).filter(|i| *i != f).map(|i| w[i] + 2).sum();
        w[f] = w[f].min(width.saturating_sub(others)).max(12);
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&w)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    let mut text = line(&header.map(str::to_owned));
    text.push('\n');
    for r in rows {
        let cells: Vec<Vec<String>> = (0..N)
            .map(|i| {
                wrap(&r[i], w[i])
                    .iter()
                    .map(|l| shorten(l, w[i].max(4)))
                    .collect()
            })
            .collect();
        let height = cells.iter().map(Vec::len).max().unwrap_or(1);
        for k in 0..height {
            let row: Vec<String> = cells
                .iter()
                .map(|c| c.get(k).cloned().unwrap_or_default())
                .collect();
            text.push_str(&line(&row));
            text.push('\n');
        }
    }
    text
}
