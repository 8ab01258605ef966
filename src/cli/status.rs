//! `ykmfa status`: a user's MFA devices joined with the tokens present.
//!
//! The join is [`ykmfa::mfa::status`] (whom it shows too: [`ykmfa::mfa::status::mine`]), the
//! tokens [`ykmfa::token::present`]'s survey (a missing PC/SC service or no token is no error
//! here: the IAM side is still worth showing), the text and JSON [`ykmfa::mfa::status::report`];
//! this module words what stops it and what it warns of.

use ykmfa::iam::{Sdk, UserName};
use ykmfa::mfa::status;
use ykmfa::oath;
use ykmfa::token::{Present, Token};
use ykmfa::transport::TransportError;

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
    let fail = |e| iam_failure(&e, global);
    // The tokens are surveyed while IAM is asked.
    let survey = Present::look_meanwhile();
    let dir = Sdk::connect(global.aws_options()).await.map_err(fail)?;
    let mine = status::mine(&dir, asked.as_ref()).await;
    let mine = mine.map_err(|e| failure(e, global))?;
    let (tokens, unavailable) = look_at_tokens(out, args, survey.await)?;
    // What dead runs left for this user or these tokens: reported, never settled here.
    let unfinished = settle::report(out, mine.account(), mine.user(), &settle::serials(&tokens));
    // Other users' absence is part of the report (gather says so per user), not a failure.
    let facts = status::gather(&dir, mine, tokens).await.map_err(fail)?;
    if facts.tags_denied {
        out.warn(
            "iam:ListMFADeviceTags was denied: devices are matched to credentials by name only",
        );
    }
    let status = status::build(&facts);
    if out.json {
        out.json(&status::report::json(
            &status,
            unavailable.as_deref(),
            &unfinished,
        ));
    } else {
        out.result(status::report::text(&status, unavailable.as_deref()));
    }
    Ok(())
}

/// Why there is no user to show, in words.
fn failure(e: status::Error, global: &Global) -> Failure {
    let show = "ykmfa status --user NAME";
    match e {
        status::Error::Root => Failure::new(
            Exit::Usage,
            "you are signed in as the root user: say which IAM user to show",
            &[show, "the root user's own MFA is in 'ykmfa audit'"],
        ),
        status::Error::NotAUser { arn } => Failure::new(
            Exit::Usage,
            format!("you are signed in as {arn}, not as an IAM user: say which user to show"),
            &[show],
        ),
        status::Error::NoSuchUser { user, account } => Failure::new(
            Exit::Iam,
            format!("there is no IAM user '{user}' in account {account}"),
            &["check the name (IAM user names are case-sensitive): aws iam list-users"],
        ),
        status::Error::Iam(e) => iam_failure(&e, global),
    }
}

/// The tokens present, the locked ones unlocked when a password is at hand. No PC/SC service
/// is not an error for `status`: the reason is returned and the tokens are none.
fn look_at_tokens(
    out: &Output,
    args: &StatusArgs,
    survey: Result<Present, TransportError>,
) -> Result<(Vec<Token>, Option<String>), Failure> {
    let mut present = match survey {
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
