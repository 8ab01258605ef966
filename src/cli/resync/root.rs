//! `ykmfa resync --root`: two consecutive codes of the root user's credential, for the console's
//! resync dialog (AWS manages the root user's MFA only there). Changes nothing.

use std::io::Write;
use std::time::Duration;

use serde_json::json;

use ykmfa::iam::{Directory, IamError, Sdk};
use ykmfa::mfa::pairing::TokenRef;
use ykmfa::mfa::resync::{self, RootRefusal};
use ykmfa::mfa::{Clock, SystemClock};

use super::{clock, look, open, ResyncArgs};
use crate::cli::report::{self, Exit};
use crate::cli::{Failure, Global, Output};

/// Runs `ykmfa resync --root`.
pub(super) async fn run(out: &Output, global: &Global, args: &ResyncArgs) -> Result<(), Failure> {
    let present = look(out, args, None)?;
    if let Some(locked) = present.tokens.iter().find(|t| t.listed.is_none()) {
        return Err(Failure::new(
            Exit::Token,
            format!("{} is password protected", locked.describe()),
            &[report::GIVE_PASSWORD],
        ));
    }
    let (token, credential) =
        resync::root_credential(&present.tokens, args.label.as_deref()).map_err(root_refusal)?;

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
    let skew = clock::compare(out, reading);

    let mut card = open(&present, &TokenRef::from(token))?;
    let pair = resync::console_pair(
        &mut card,
        &credential.raw_id,
        SystemClock.now(),
        &mut || out.info("Touch your token now."),
    )?;
    if out.json {
        out.json(&json!({
            "schema": "ykmfa.resync-root/1",
            "credential": credential.id.to_string(),
            "token": TokenRef::from(token),
            "codes": pair.codes,
            "steps": pair.steps,
            "valid_until": pair.valid_until,
            "clock": clock::json(skew),
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
    if !crate::cli::prompt::terminal_available() || std::env::var("TERM").is_ok_and(|t| t == "dumb")
    {
        out.info(crate::cli::report::validity(valid_until, SystemClock.now()));
        return;
    }
    let mut err = std::io::stderr();
    let _ = writeln!(
        err,
        "{}",
        crate::cli::report::validity(valid_until, SystemClock.now())
    );
    let Ok(interrupt) = crate::cli::interrupt::Interrupt::watch(
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
            crate::cli::report::validity(valid_until, now)
        );
    }
}

fn root_refusal(r: RootRefusal) -> Failure {
    let what = r.to_string();
    match r {
        RootRefusal::NotFound { aws, .. } if aws.is_empty() => Failure::new(
            Exit::TokenNotFound,
            what,
            &["'ykman oath accounts list' shows the credentials on a token"],
        ),
        RootRefusal::NotFound { aws, .. } => {
            let names: Vec<String> = aws.iter().map(|n| format!("'{n}'")).collect();
            let hint = format!(
                "the AWS credentials present: {}; choose with --label NAME",
                names.join(", ")
            );
            Failure::new(Exit::TokenNotFound, what, &[&hint])
        }
        RootRefusal::Several(_) => Failure::new(
            Exit::Usage,
            what,
            &["choose one with --label NAME (and --serial SERIAL when two tokens hold it)"],
        ),
    }
}
