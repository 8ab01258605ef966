//! The tokens present as the table `ykmfa tokens` shows: kind, serial, firmware, OATH slots
//! used and free, whether a password is set, and the reader.

use super::Token;
use crate::layout::{line, shorten_middle, widest, Column};

/// A table that fits 80 columns, a heading then a row a token: the reader name gets what the other columns leave.
pub fn table(tokens: &[Token]) -> String {
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
