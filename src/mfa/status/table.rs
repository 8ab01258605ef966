//! The status report as rows of cells, and the column arithmetic that lays them out. The cells
//! are the report's data (a device, where its credential is, a verdict, a fix's number); the
//! headings and sentences around them are [`super::report`]'s. The generic table of
//! `ykmfa::layout`, once it exists, is the home of [`table`].

use super::{DeviceRow, DeviceType, Status, TokenRow, Verdict};
use crate::layout::{shorten, wrap};
use crate::mfa::pairing::{MatchedBy, Place};

/// The width the report fits in.
pub const WIDTH: usize = 80;

/// A fix the report numbers (each once, in the order the rows first name it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fix {
    /// What to do about one of the user's devices (`device`: its short ARN).
    Device {
        /// The device's short ARN.
        device: String,
        /// What to do.
        fix: String,
    },
    /// A stale credential on a token, and the command that deletes it.
    Stale {
        /// The credential's name.
        credential: String,
        /// The token, as shown.
        token: String,
        /// The command that deletes it.
        command: String,
    },
}

/// The report's rows: the devices' (DEVICE, TYPE, ENABLED, CREDENTIAL, FIX), each token's
/// credentials' (CREDENTIAL, IAM DEVICE, FIX), and the fixes those FIX cells number.
#[derive(Debug, Clone, Default)]
pub struct Rows<'a> {
    /// One row per device.
    pub devices: Vec<[String; 5]>,
    /// Each token with the rows of its AWS credentials.
    pub tokens: Vec<(&'a TokenRow, Vec<[String; 3]>)>,
    /// The numbered fixes, number `i + 1` at `i`.
    pub fixes: Vec<Fix>,
}

impl<'a> Rows<'a> {
    /// The rows of a status.
    pub fn of(status: &'a Status) -> Self {
        let mut rows = Rows::default();
        for d in &status.devices {
            let fix = d.fix.clone().map(|fix| {
                rows.number(Fix::Device {
                    device: short_arn(&d.serial),
                    fix,
                })
            });
            let fix = fix.unwrap_or_default();
            let enabled = d
                .enable_date
                .as_deref()
                .map_or("-", |s| s.get(..10).unwrap_or(s));
            let kind = d.kind.as_str().to_owned();
            rows.devices.push([
                short_arn(&d.serial),
                kind,
                enabled.to_owned(),
                where_is(d),
                fix,
            ]);
        }
        for t in &status.tokens {
            let mut cells = Vec::new();
            for c in t.credentials.iter().flatten() {
                let fix = c.fix.clone().map(|command| {
                    rows.number(Fix::Stale {
                        credential: c.name.clone(),
                        token: t.token.to_string(),
                        command,
                    })
                });
                let fix = fix.unwrap_or_default();
                let devices = || c.devices.iter().map(|d| short_arn(d)).collect::<Vec<_>>();
                let reason = c.reason.as_deref().unwrap_or_default();
                let verdict = match c.state {
                    Verdict::Paired => {
                        let user = c.user.as_ref().map_or(String::new(), |u| format!(" ({u})"));
                        format!("{}{user}", devices().join(", "))
                    }
                    Verdict::Ambiguous => format!("ambiguous: {}", devices().join(", ")),
                    Verdict::Stale => format!("STALE: {reason}"),
                    Verdict::Unchecked => format!("not checked: {reason}"),
                };
                cells.push([c.name.clone(), verdict, fix]);
            }
            rows.tokens.push((t, cells));
        }
        rows
    }

    /// The number of `fix` (given one if it has none yet), as a cell.
    fn number(&mut self, fix: Fix) -> String {
        let i = match self.fixes.iter().position(|f| *f == fix) {
            Some(i) => i,
            None => {
                self.fixes.push(fix);
                self.fixes.len() - 1
            }
        };
        (i + 1).to_string()
    }
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
    let join = |items: Vec<String>| items.join(", ");
    match place {
        Place::OnToken(l) => {
            let by_name = if l.matched_by == MatchedBy::Label {
                " (by name)"
            } else {
                ""
            };
            let touch = if l.touch == Some(true) { ", touch" } else { "" };
            format!("on {} as '{}'{by_name}{touch}", l.token, l.credential)
        }
        Place::Gone { token, credential } => {
            format!("GONE from {token}: '{credential}' was deleted or the token reset")
        }
        Place::NotConnected {
            token_serial: Some(s),
            ..
        } => format!("not connected (token {s})"),
        Place::NotConnected { .. } => "not on a connected token".to_owned(),
        Place::Unknown { locked } => {
            let locked = join(locked.iter().map(ToString::to_string).collect());
            format!("unknown: {locked} locked")
        }
        Place::Ambiguous { candidates, .. } => {
            let on =
                |l: &crate::mfa::pairing::Location| format!("'{}' on {}", l.credential, l.token);
            format!("ambiguous: {}", join(candidates.iter().map(on).collect()))
        }
    }
}

/// `mfa/alice-yk12345678` for an ARN; anything else as it is.
pub fn short_arn(serial: &str) -> String {
    serial.splitn(6, ':').nth(5).unwrap_or(serial).to_owned()
}

/// A table `width` columns wide: each column as wide as its longest cell up to its `max`; the
/// column whose `max` is 0 takes what is left. Cells wrap at spaces within their column.
pub fn table<const N: usize>(
    header: [&str; N],
    rows: &[[String; N]],
    max: [usize; N],
    width: usize,
) -> String {
    let mut w = [0usize; N];
    for i in 0..N {
        let cells = rows.iter().map(|r| r[i].chars().count());
        let natural = cells.chain([header[i].chars().count()]).max().unwrap_or(0);
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
        let cells: Vec<String> = cells
            .iter()
            .zip(&w)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        cells.join("  ").trim_end().to_owned()
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
