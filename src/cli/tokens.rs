//! `ykmfa tokens`: what ykmfa sees on this machine.

use serde_json::json;

use ykmfa::token::{self, Token};
use ykmfa::transport::pcsc::Context;

use super::{Failure, Output};

/// Arguments of `ykmfa tokens`.
#[derive(clap::Args, Debug)]
pub struct TokensArgs {}

/// Lists tokens (stdout) and cards that cannot be used (stderr).
pub fn run(out: &Output, _args: &TokensArgs) -> Result<(), Failure> {
    let ctx = Context::establish()?;
    let inventory = token::inventory(&ctx)?;
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

/// A table that fits 80 columns: long reader names are shortened from the middle.
fn table(tokens: &[Token]) -> String {
    let mut rows = vec![[
        "KIND".to_owned(),
        "SERIAL".to_owned(),
        "FIRMWARE".to_owned(),
        "OATH USED/FREE".to_owned(),
        "PASSWORD".to_owned(),
        "READER".to_owned(),
    ]];
    for t in tokens {
        let used = t.credentials.map_or("locked".to_owned(), |n| n.to_string());
        let free = t.free().map_or("?".to_owned(), |n| n.to_string());
        rows.push([
            t.kind.to_string(),
            t.serial.map_or("-".to_owned(), |s| s.to_string()),
            t.firmware.map_or("-".to_owned(), |v| v.to_string()),
            format!("{used}/{free}"),
            if t.password { "set" } else { "none" }.to_owned(),
            shorten(&t.reader, 30),
        ]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    rows.iter()
        .map(|r| {
            let cells: Vec<String> = r
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
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
mod tests {
    use super::*;

    #[test]
    fn shortening_keeps_both_ends_and_the_width() {
        let s = shorten("Yubico YubiKey OTP+FIDO+CCID 00 00 extra long name", 30);
        assert_eq!(s.chars().count(), 30);
        assert!(s.starts_with("Yubico") && s.ends_with("long name"), "{s}");
        assert_eq!(shorten("short", 30), "short");
    }
}
