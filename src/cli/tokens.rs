//! `ykmfa tokens`: what ykmfa sees on this machine.

use serde_json::json;
use ykmfa::token::{self, Present};

use super::{Failure, Output};

/// Arguments of `ykmfa tokens`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  ykmfa tokens\n  ykmfa tokens --json | jq '.tokens[].serial'")]
pub struct TokensArgs {}

/// Lists tokens (stdout) and cards that cannot be used (stderr).
pub fn run(out: &Output, _args: &TokensArgs) -> Result<(), Failure> {
    let inventory = Present::look()?;
    if out.json {
        out.json(&json!({
            "schema": "ykmfa.tokens/1",
            "tokens": inventory.tokens,
            "unusable": inventory.unusable,
        }));
        return Ok(());
    }
    if inventory.tokens.is_empty() {
        out.info("No token with an OATH application is connected.");
    } else {
        out.result(token::table(&inventory.tokens));
    }
    for u in &inventory.unusable {
        out.warn(format!("{}: {}", u.reader, u.reason));
    }
    Ok(())
}
