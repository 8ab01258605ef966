//! Text laid out for an 80-column terminal: word wrap, shortening, plurals, columns, a progress
//! bar. Arithmetic on strings, holding no words of its own, so every command lays its words out
//! the same way; the one thing here that prints is [`Bar`], the bar redrawn under a run's lines.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Mutex;

/// `text` in the colour of ANSI SGR `code` (`31;1`: bold red) when `on`.
pub fn paint(on: bool, code: &str, text: &str) -> String {
    if on {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

/// `s` when `n` is not one.
pub fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// At most `n` characters, the last one `…` when cut.
pub fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_owned();
    }
    let mut c: String = s.chars().take(n.saturating_sub(1)).collect();
    c.push('…');
    c
}

/// Keeps the end, which tells devices and users apart: "...m/alice-yk12345678".
pub fn shorten(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_owned();
    }
    let tail: String = s.chars().skip(n - (max - 3)).collect();
    format!("...{tail}")
}

/// Keeps both ends, which tell reader names apart: "Yubico YubiKey...00 00".
pub fn shorten_middle(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_owned();
    }
    let head: String = s.chars().take(max / 2 - 1).collect();
    let tail: String = s.chars().skip(n - (max - max / 2 - 2)).collect();
    format!("{head}...{tail}")
}

/// Word wrap that never breaks a word (a command or an ARN longer than the width stays whole
/// on its own line) and keeps existing line breaks and leading indentation.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for raw in text.split('\n') {
        let indent: String = raw.chars().take_while(|c| *c == ' ').collect();
        let mut line = String::new();
        for word in raw.split(' ').filter(|w| !w.is_empty()) {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            }
            line.push_str(if line.is_empty() { &indent } else { " " });
            line.push_str(word);
        }
        lines.push(line);
    }
    lines
}

/// Word wrap to `first` columns for the first line and `rest` for the others, cutting a word
/// longer than a line (an ARN) rather than overflowing.
pub fn fill(text: &str, first: usize, rest: usize) -> Vec<String> {
    let (mut lines, mut line, mut limit) = (Vec::new(), String::new(), first);
    for word in text.split_whitespace() {
        let mut word = word.to_owned();
        loop {
            let used = line.chars().count();
            if used + word.chars().count() + usize::from(used > 0) <= limit {
                line.push_str(if used > 0 { " " } else { "" });
                line.push_str(&word);
                break;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut line));
            } else {
                lines.push(word.chars().take(limit).collect());
                word = word.chars().skip(limit).collect();
            }
            limit = rest;
            if word.is_empty() {
                break;
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// A command, given as its shell words, on as many lines as it needs, each ending in ` \` but
/// the last, so that it can be pasted into a shell as it is. A word is never broken.
pub fn shell_lines(words: Vec<String>, indent: &str, width: usize) -> Vec<String> {
    // Continuation lines are indented 4 more and every line but the last ends in " \\".
    let room = width.saturating_sub(indent.len() + 6).max(10);
    let mut lines: Vec<String> = Vec::new();
    for word in words {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= room => {
                line.push(' ');
                line.push_str(&word);
            }
            _ => lines.push(word),
        }
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    let last = lines.len() - 1;
    for (i, line) in lines.iter_mut().enumerate() {
        let lead = if i == 0 { "" } else { "    " };
        let end = if i < last { " \\" } else { "" };
        *line = format!("{indent}{lead}{line}{end}");
    }
    lines
}

/// `[#########---------------------]`: `done` of `total` in `width` cells (full when `total`
/// is zero).
pub fn bar(done: usize, total: usize, width: usize) -> String {
    let filled = (done * width)
        .checked_div(total)
        .unwrap_or(width)
        .min(width);
    format!("[{}{}]", "#".repeat(filled), "-".repeat(width - filled))
}

/// Lines on stderr and, when stderr is a terminal and a bar is wanted (never under `--json`), a
/// progress bar of `total` rows redrawn below them:
/// `[#########---------------------] 3/10 rows, 1 failed`. Shared by the workers of a run.
pub struct Bar(bool, Progress, Mutex<()>, &'static str);

impl Bar {
    /// A bar at zero, drawn when `wanted` and stderr is a terminal.
    pub fn new(wanted: bool, total: usize) -> Self {
        Bar::counting(wanted, total, "rows")
    }

    /// A bar at zero that counts `noun` (`accounts`) rather than rows.
    pub fn counting(wanted: bool, total: usize, noun: &'static str) -> Self {
        let shown = wanted && std::io::stderr().is_terminal();
        Bar(shown, Progress::new(total), Mutex::new(()), noun)
    }

    /// One more row done, `failed` or not; shown with the next line.
    pub fn tick(&self, failed: bool) {
        self.1.tick(failed);
    }

    /// A line above the bar.
    pub fn say(&self, text: &str) {
        let (_guard, mut err) = (self.2.lock(), std::io::stderr().lock());
        let _ = writeln!(err, "{}{text}", if self.0 { "\r\x1b[2K" } else { "" });
        if self.0 {
            let (bar, failed) = self.1.draw(30);
            let failed = (failed > 0).then(|| format!(", {failed} failed"));
            let _ = write!(err, "{bar} {}{}", self.3, failed.unwrap_or_default());
        }
        let _ = err.flush();
    }

    /// The number of rows, once known (a bar made before counting them starts at 0).
    pub fn set_total(&self, total: usize) {
        self.1.total.store(total, SeqCst);
    }

    /// One more row done: on a terminal, `text` above the bar; elsewhere nothing is shown.
    pub fn progress(&self, failed: bool, text: &str) {
        self.tick(failed);
        if self.0 {
            self.say(text);
        }
    }

    /// Takes the bar away, before the report.
    pub fn clear(&self) {
        if self.0 {
            let _guard = self.2.lock();
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}

/// Rows of a run done and failed, counted by its workers at once.
#[derive(Debug, Default)]
pub struct Progress {
    total: AtomicUsize,
    done: AtomicUsize,
    failed: AtomicUsize,
}

impl Progress {
    /// Nothing done of `total`.
    pub fn new(total: usize) -> Self {
        Progress {
            total: AtomicUsize::new(total),
            ..Progress::default()
        }
    }

    /// One more row done, `failed` or not.
    pub fn tick(&self, failed: bool) {
        self.done.fetch_add(1, SeqCst);
        self.failed.fetch_add(usize::from(failed), SeqCst);
    }

    /// `[###-------] 3/10`, `width` cells wide, and how many rows failed.
    pub fn draw(&self, width: usize) -> (String, usize) {
        let done = self.done.load(SeqCst);
        let total = self.total.load(SeqCst);
        let drawn = format!("{} {done}/{total}", bar(done, total, width));
        (drawn, self.failed.load(SeqCst))
    }
}

/// A column of a table: its width, and whether its cells are aligned right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Characters.
    pub width: usize,
    /// Aligned right (numbers), else left.
    pub right: bool,
}

impl Column {
    /// A column aligned left.
    pub fn left(width: usize) -> Self {
        Column {
            width,
            right: false,
        }
    }

    /// A column aligned right.
    pub fn right(width: usize) -> Self {
        Column { width, right: true }
    }
}

/// The widest of `cells` in characters, at most `max`.
pub fn widest<'a>(cells: impl IntoIterator<Item = &'a str>, max: usize) -> usize {
    cells
        .into_iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(0)
        .min(max)
}

/// One line of a table: each cell padded to its column, two spaces between columns, no
/// trailing blanks. A cell wider than its column is not cut (shorten it first).
pub fn line<S: AsRef<str>>(columns: &[Column], cells: &[S]) -> String {
    let padded: Vec<String> = columns
        .iter()
        .zip(cells)
        .map(|(c, s)| match (c.right, s.as_ref()) {
            (true, s) => format!("{s:>w$}", w = c.width),
            (false, s) => format!("{s:<w$}", w = c.width),
        })
        .collect();
    padded.join("  ").trim_end().to_owned()
}

/// One row of a table whose cells wrap within their columns: as many lines as its tallest cell.
pub fn row<S: AsRef<str>>(columns: &[Column], cells: &[S]) -> Vec<String> {
    let wrapped: Vec<Vec<String>> = columns
        .iter()
        .zip(cells)
        .map(|(c, s)| wrap(s.as_ref(), c.width))
        .collect();
    let height = wrapped.iter().map(Vec::len).max().unwrap_or(0);
    (0..height)
        .map(|i| {
            let cells: Vec<&str> = wrapped
                .iter()
                .map(|w| w.get(i).map_or("", String::as_str))
                .collect();
            line(columns, &cells)
        })
        .collect()
}

#[cfg(test)]
mod tests;
