//! `ykmfa tokens`: what ykmfa sees on this machine.

use serde_json::json;

use ykmfa::token::{Present, Token};

use super::{Failure, Output};

/// Arguments of `ykmfa tokens`.
#[derive(clap::Args, Debug)]
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
    ]
    .map(str::to_owned);
    let mut rows = vec![header];
    for t in tokens {
        rows.push([
            t.kind.to_string(),
            t.serial.map_or("-".to_owned(), |s| s.to_string()),
            t.firmware.map_or("-".to_owned(), |v| v.to_string()),
            t.credentials.map_or("?".to_owned(), |n| n.to_string()),
            t.free().map_or("?".to_owned(), |n| n.to_string()),
            if t.password { "set" } else { "none" }.to_owned(),
            t.reader.clone(),
        ]);
    }
    let mut widths: Vec<usize> = (0..7)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let others: usize = widths[..6].iter().map(|w| w + 2).sum();
    widths[6] = widths[6].min(80usize.saturating_sub(others).max(16));
    rows.iter()
        .map(|r| {
            let cells: Vec<String> = r
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{:<w$}", shorten(c, *w)))
                .collect();
            cells.join("  ").trim_end().to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn shorten(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_owned();
    }
    let head: String = s.chars().take(max / 2 - 1).collect();
    let tail: String = s.chars().skip(n - (max - max / 2 - 2)).collect();
    format!("{head}...{tail}")
}

#[cfg(test)]
mod tests;
