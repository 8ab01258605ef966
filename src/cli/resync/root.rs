//! `ykmfa resync --root`: two consecutive codes of the root user's credential, for the console's
//! resync dialog (AWS manages the root user's MFA only there). Changes nothing.

use ykmfa::mfa::enroll::root::validity;
use ykmfa::mfa::resync::{self, RootRefusal};
use ykmfa::mfa::{Cancel, Clock, SystemClock};

use super::{stopped_failure, Words};
use crate::cli::interrupt::Interrupt;
use crate::cli::report::{self, Exit};
use crate::cli::{Failure, Output};

/// Runs `ykmfa resync --root`.
pub(super) async fn run(words: &Words<'_>) -> Result<(), Failure> {
    let (out, global, args) = (words.out, words.global, words.args);
    let (options, label) = (global.aws_options(), args.label.as_deref());
    let codes = resync::console_codes(options, words.look(), label, &SystemClock, words).await;
    let codes = codes.map_err(|e| stopped_failure(e, "root", global))?;
    let pair = &codes.pair;
    if out.json {
        out.json(&codes.json());
    } else {
        out.info(codes.instructions());
        out.result(&pair.codes[0]);
        out.result(&pair.codes[1]);
        countdown(out, pair.valid_until).await;
    }
    Ok(())
}

/// The time left to type the codes, counted down on a terminal until they expire (or Ctrl-C).
async fn countdown(out: &Output, valid_until: u64) {
    let left = |now| validity(valid_until, now);
    let watch = || Interrupt::watch(&Cancel::default(), "the countdown stops.", "").ok();
    let Some(interrupt) = ykmfa::terminal::can_rewrite().then(watch).flatten() else {
        return out.info(left(SystemClock.now()));
    };
    let expired = "These codes have expired: if the console has not taken them, run ykmfa resync --root again.";
    let now = || SystemClock.now();
    ykmfa::terminal::countdown(valid_until, now, left, expired, interrupt.notified()).await;
}

/// No single root credential, in words.
pub(super) fn refusal(r: RootRefusal) -> Failure {
    let what = r.to_string();
    let (code, fix) = match r {
        RootRefusal::NotFound { aws, .. } if aws.is_empty() => (
            Exit::TokenNotFound,
            "'ykman oath accounts list' shows the credentials on a token".to_owned(),
        ),
        RootRefusal::NotFound { aws, .. } => {
            let names: Vec<String> = aws.iter().map(|n| format!("'{n}'")).collect();
            let names = names.join(", ");
            let hint = format!("the AWS credentials present: {names}; choose with --label NAME");
            (Exit::TokenNotFound, hint)
        }
        RootRefusal::Locked(_) => (Exit::Token, report::GIVE_PASSWORD.to_owned()),
        RootRefusal::Several(_) => (
            Exit::Usage,
            "choose one with --label NAME (and --serial SERIAL when two tokens hold it)".to_owned(),
        ),
    };
    Failure::new(code, what, &[&fix])
}
