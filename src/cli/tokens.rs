//! `ykmfa tokens`: what ykmfa sees on this machine.

use serde_json::json;
use ykmfa::layout::{line, shorten_middle, widest, Column};
use ykmfa::token::{Present, Token};

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
        out.result(table(&inventory.tokens));
    }
    for u in &inventory.unusable {
        out.warn(format!("{}: {}", u.reader, u.reason));
    }
    Ok(())
}

/// A table that fits 80 columns: the reader name gets what the other columns leave.
fn table(tokens: &[Token]) -> String {
    let header = [
        "KIND", "SERIAL", "FIRMWARE", "USED", "FREE", "PASSWORD", "READER",
    ];
    let mut rows = vec![header.map(str::to_owned)];
    for t in tokens {
        let count = |n: Option<usize>| n.map_or("?".to_owned(), |n| n.to_string());
        rows.push([
            t.kind.to_string(),
            t.serial.map_or("-".to_owned(), |s| s.to_string()),
            t.firmware.map_or("-".to_owned(), |v| v.to_string()),
            count(t.credentials),
            count(t.free()),
            if t.password { "set" } else { "none" }.to_owned(),
            t.reader.clone(),
        ]);
    }
    let widest_of = |i: usize| widest(rows.iter().map(|r| r[i].as_str()), usize::MAX);
    let mut columns: Vec<Column> = (0..7).map(|i| Column::left(widest_of(i))).collect();
    let others: usize = columns[..6].iter().map(|c| c.width + 2).sum();
    columns[6].width = columns[6].width.min(80usize.saturating_sub(others).max(16));
    let lines = rows.iter().map(|r| {
        let cells = r
            .iter()
            .zip(&columns)
            .map(|(c, w)| shorten_middle(c, w.width));
        line(&columns, &cells.collect::<Vec<_>>())
    });
    lines.collect::<Vec<_>>().join("\n")
}
