//! `ykmfa resync --root`: two consecutive codes of the root user's credential, for the console's
//! resync dialog (AWS manages the root user's MFA only there). Changes nothing.

use std::io::Write;
use std::time::Duration;

use serde_json::json;

use ykmfa::iam::skew_json;
use ykmfa::mfa::pairing::TokenRef;
use ykmfa::mfa::resync::{self, RootRefusal};
use ykmfa::mfa::{Cancel, Clock, SystemClock};

use super::{clock, look, open, ResyncArgs};
use crate::cli::interrupt::Interrupt;
use crate::cli::report::{self, validity, Exit};
use crate::cli::{Failure, Global, Output};

/// Runs `ykmfa resync --root`.
pub(super) async fn run(out: &Output, global: &Global, args: &ResyncArgs) -> Result<(), Failure> {
    let present = look(out, args, None)?;
    let (token, credential) =
        resync::root_credential(&present.tokens, args.label.as_deref()).map_err(root_refusal)?;
    // The clock is compared when some AWS credentials answer within a few seconds, and
    // otherwise the person is told to check it.
    let limit = Duration::from_secs(8);
    let skew = clock::compare(out, resync::clock_within(global.aws_options(), limit).await);
    let mut card = open(&present, &TokenRef::from(token))?;
    let touch = &mut || out.info("Touch your token now.");
    let pair = resync::console_pair(&mut card, &credential.raw_id, SystemClock.now(), touch)?;
    if out.json {
        out.json(&json!({
            "schema": "ykmfa.resync-root/1",
            "credential": credential.id.to_string(),
            "token": TokenRef::from(token),
            "codes": pair.codes,
            "steps": pair.steps,
            "valid_until": pair.valid_until,
            "clock": skew_json(skew),
        }));
        return Ok(());
    }
    out.info(format!(
        "In the console (signed in as root: Security credentials, your MFA device, Resync), type these codes of '{}', in this order (MFA code 1, MFA code 2):",
        credential.id
    ));
    out.result(&pair.codes[0]);
    out.result(&pair.codes[1]);
    countdown(out, pair.valid_until).await;
    Ok(())
}

/// On a terminal, the time left to type the codes, updated each second until they expire (or
/// Ctrl-C). Elsewhere, once.
async fn countdown(out: &Output, valid_until: u64) {
    let left = |now| validity(valid_until, now);
    if !ykmfa::terminal::available() || std::env::var("TERM").is_ok_and(|t| t == "dumb") {
        return out.info(left(SystemClock.now()));
    }
    let mut err = std::io::stderr();
    let _ = writeln!(err, "{}", left(SystemClock.now()));
    let watch = Interrupt::watch(&Cancel::default(), "the countdown stops.", "");
    let Ok(interrupt) = watch else { return };
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
        let expired = now >= valid_until;
        let line = match expired {
            true => "These codes have expired: if the console has not taken them, run ykmfa resync --root again.".to_owned(),
            false => left(now),
        };
        let _ = writeln!(err, "\x1b[1A\r\x1b[2K{line}");
        if expired {
            return;
        }
    }
}

fn root_refusal(r: RootRefusal) -> Failure {
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
