//! Setting one key of one profile in the AWS CLI's config file (`~/.aws/config`), as a careful
//! person would with an editor: every other byte stays as it was (comments, blank lines, order,
//! spacing, tabs, line endings, other profiles, `[sso-session]` and `[services]` sections,
//! indented sub-sections such as `s3 =` with its nested keys).
//!
//! The file is read the way the AWS CLI reads it (botocore, Python's `configparser`): `#` and `;`
//! start comment lines; `key = value` (or `key: value`, which only botocore accepts); a line indented deeper than the key above
//! it continues that key (sub-sections); option names are case-insensitive; `[default]` or
//! `[profile NAME]` name profiles. Anything this module can't place with certainty (a key before
//! any section, a line that is neither, a profile defined twice, the key given twice, a header
//! the AWS CLI would misread) is refused with the line number, never guessed at.
//!
//! Writes are atomic: a temporary file in the same directory, the original's permissions (and
//! owner, when running as root), then a rename over the real file (its target, if it is a
//! symlink, so a dotfile manager's link survives). If the file changed while we worked, nothing
//! is written. This module never prints.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Why the config file could not be changed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A line that can't be read with certainty.
    #[error("{path}, line {line}: {reason}")]
    Unparsable {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// The file is not UTF-8 text.
    #[error("{0} is not UTF-8 text")]
    NotText(String),
    /// The profile name can't be written as a section header.
    #[error("'{0}' is not a profile name that can be written to the config file (letters, digits and _ - . @ + = , : / only)")]
    BadProfileName(String),
    /// The key or value can't be written on one line.
    #[error("'{0}' can't be written as a config value (one line, no leading or trailing spaces)")]
    BadValue(String),
    /// Reading or writing failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or directory.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// Someone else changed the file between our read and our write.
    #[error("{0} changed while ykmfa was editing it; nothing was written")]
    ChangedMeanwhile(String),
}

/// What setting the key does to the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The key already has this value: nothing to write.
    Unchanged,
    /// The key is added to an existing section.
    Added,
    /// The key had another value, which is replaced.
    Replaced {
        /// The value it had.
        previous: String,
    },
    /// The profile had no section: one is appended at the end of the file.
    SectionAdded,
}

/// The profile a setting is for, as the AWS CLI picks one: `chosen`, else `--profile`
/// (`global`), else `AWS_PROFILE`, else `default`.
pub fn chosen_profile(chosen: Option<&str>, global: Option<&str>) -> String {
    let env = std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty());
    chosen
        .or(global)
        .map(str::to_owned)
        .or(env)
        .unwrap_or_else(|| "default".to_owned())
}

/// Whether `profile` in the config file at `path` signs in through IAM Identity Center, which
/// ignores `mfa_serial` (an unreadable file: no).
pub fn signs_in_with_sso(path: &Path, profile: &str) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    ["sso_session", "sso_start_url"]
        .iter()
        .any(|k| matches!(get(&text, profile, k), Ok(Some(_))))
}

/// The config file the AWS CLI and SDKs read: `AWS_CONFIG_FILE`, else `~/.aws/config`.
pub fn default_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("AWS_CONFIG_FILE").filter(|p| !p.is_empty()) {
        return Some(expand_home(PathBuf::from(p)));
    }
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    Some(PathBuf::from(home).join(".aws").join("config"))
}

/// `~/...` as the AWS CLI expands it in `AWS_CONFIG_FILE`.
fn expand_home(path: PathBuf) -> PathBuf {
    match (path.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => path,
    }
}

/// The header that names `profile`: `[default]` for the default profile, else `[profile NAME]`.
pub fn section_header(profile: &str) -> String {
    if profile == "default" {
        "[default]".to_owned()
    } else {
        format!("[profile {profile}]")
    }
}

/// A planned edit of one config file, to show to a person before [`Edit::apply`].
#[derive(Debug, Clone)]
pub struct Edit {
    /// The file (as given, before following a symlink).
    pub path: PathBuf,
    /// The profile.
    pub profile: String,
    /// The key.
    pub key: String,
    /// The value it gets.
    pub value: String,
    /// What changes.
    pub change: Change,
    /// The file's bytes as read (`None`: it doesn't exist yet).
    original: Option<Vec<u8>>,
    /// The new text.
    updated: String,
}

impl Edit {
    /// Reads `path` and works out how to set `key = value` in `profile`'s section. Changes
    /// nothing on disk.
    pub fn plan(path: &Path, profile: &str, key: &str, value: &str) -> Result<Edit, ConfigError> {
        let original = match std::fs::read(path) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(ConfigError::Io {
                    action: "read",
                    path: path.display().to_string(),
                    source,
                })
            }
        };
        let text = match &original {
            None => "",
            Some(bytes) => std::str::from_utf8(bytes)
                .map_err(|_| ConfigError::NotText(path.display().to_string()))?,
        };
        let (updated, change) = set(text, profile, key, value).map_err(|e| e.at(path))?;
        Ok(Edit {
            path: path.to_owned(),
            profile: profile.to_owned(),
            key: key.to_owned(),
            value: value.to_owned(),
            change,
            original,
            updated,
        })
    }

    /// The file's text after the edit.
    pub fn updated_text(&self) -> &str {
        &self.updated
    }

    /// Writes the edit atomically. Does nothing when the value is already there; refuses if
    /// the file changed since [`Edit::plan`] read it.
    pub fn apply(&self) -> Result<(), ConfigError> {
        if self.change == Change::Unchanged {
            return Ok(());
        }
        write_atomically(
            &self.path,
            self.original.as_deref(),
            self.updated.as_bytes(),
        )
    }
}

/// A refusal found while reading text, before it is tied to a file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextError {
    /// Line `line` (1-based) can't be read with certainty.
    Line(usize, String),
    /// The profile name is unusable.
    BadProfileName(String),
    /// The key or value is unusable.
    BadValue(String),
}

impl TextError {
    fn at(self, path: &Path) -> ConfigError {
        match self {
            TextError::Line(line, reason) => ConfigError::Unparsable {
                path: path.display().to_string(),
                line,
                reason,
            },
            TextError::BadProfileName(p) => ConfigError::BadProfileName(p),
            TextError::BadValue(v) => ConfigError::BadValue(v),
        }
    }
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextError::Line(n, reason) => write!(f, "line {n}: {reason}"),
            TextError::BadProfileName(p) => write!(f, "bad profile name '{p}'"),
            TextError::BadValue(v) => write!(f, "bad value '{v}'"),
        }
    }
}

/// One line of the file, classified as the AWS CLI reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// Blank or a comment: belongs to nothing.
    Filler,
    /// A section header, with the profile it names (if it names one).
    Header(Option<String>),
    /// `key = value` at the top level of a section.
    Property {
        /// The option name, lower-cased as configparser does.
        key: String,
        /// Byte offset (within the line's content) where the value starts.
        value_at: usize,
    },
    /// A line continuing the property above (a sub-section's nested key, a long value).
    Continuation,
}

#[derive(Debug)]
struct Line<'a> {
    /// The line without its terminator.
    content: &'a str,
    /// Its terminator: "\n", "\r\n" or "" (last line without one).
    end: &'a str,
    kind: Kind,
}

/// Splits `text` into lines, keeping each terminator. A lone carriage return is refused: the
/// AWS CLI (Python's universal newlines) would see a line break where other tools don't.
fn split_lines(text: &str) -> Result<Vec<(&str, &str)>, TextError> {
    let mut lines = Vec::new();
    let mut rest = text;
    let mut n = 0;
    while !rest.is_empty() {
        n += 1;
        let (line, after) = match rest.find('\n') {
            Some(i) => (&rest[..=i], &rest[i + 1..]),
            None => (rest, ""),
        };
        let (content, end) = if let Some(c) = line.strip_suffix("\r\n") {
            (c, "\r\n")
        } else if let Some(c) = line.strip_suffix('\n') {
            (c, "\n")
        } else {
            (line, "")
        };
        if content.contains('\r') {
            return Err(TextError::Line(
                n,
                "a carriage return in the middle of a line".into(),
            ));
        }
        lines.push((content, end));
        rest = after;
    }
    Ok(lines)
}

fn indent_of(content: &str) -> usize {
    content.len() - content.trim_start().len()
}

/// The profile a section header names, as botocore reads it: `default`, or `profile NAME`
/// (NAME may be quoted). Other sections (`sso-session`, `services`, `plugins`...) name none.
fn header_profile(name: &str) -> Option<String> {
    if name == "default" {
        return Some("default".into());
    }
    let rest = name.strip_prefix("profile")?;
    if !rest.starts_with([' ', '\t']) {
        return None;
    }
    let rest = rest.trim();
    let unquoted = rest
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .or_else(|| rest.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')))
        .unwrap_or(rest);
    Some(unquoted.to_owned())
}

/// Classifies every line the way configparser does (blank and comment lines never end a
/// continuation; a line indented deeper than the current key continues it).
fn classify<'a>(text: &'a str) -> Result<Vec<Line<'a>>, TextError> {
    let mut out = Vec::new();
    let mut in_section = false;
    // Indent of the current top-level key, if any: deeper lines continue it.
    let mut key_indent: Option<usize> = None;
    for (i, (content, end)) in split_lines(text)?.into_iter().enumerate() {
        let n = i + 1;
        // A byte-order mark at the very start is not part of the first line's text.
        let visible = if i == 0 {
            content.trim_start_matches('\u{feff}')
        } else {
            content
        };
        let trimmed = visible.trim();
        let kind = if trimmed.is_empty() || trimmed.starts_with(['#', ';']) {
            Kind::Filler
        } else if key_indent.is_some_and(|k| indent_of(visible) > k) {
            Kind::Continuation
        } else if trimmed.starts_with('[') {
            key_indent = None;
            in_section = true;
            let Some(close) = trimmed.rfind(']') else {
                return Err(TextError::Line(
                    n,
                    "a section header without its ']'".into(),
                ));
            };
            let after = trimmed[close + 1..].trim_start();
            if !(after.is_empty() || after.starts_with(['#', ';'])) {
                return Err(TextError::Line(
                    n,
                    format!("text after the section header: '{trimmed}'"),
                ));
            }
            let name = &trimmed[1..close];
            if name.trim().is_empty() {
                return Err(TextError::Line(n, "an empty section header".into()));
            }
            if name != name.trim() && header_profile(name.trim()).is_some() {
                return Err(TextError::Line(
                    n,
                    format!("'[{name}]' has spaces inside the brackets, so the AWS CLI ignores it; write it as '[{}]'", name.trim()),
                ));
            }
            Kind::Header(header_profile(name))
        } else if !in_section {
            return Err(TextError::Line(
                n,
                "a setting before any [section] header".into(),
            ));
        } else {
            // configparser: the option name runs to the first '=' or ':'.
            let Some(delim) = visible.find(['=', ':']) else {
                return Err(TextError::Line(
                    n,
                    format!(
                        "neither a setting ('key = value'), a [section] nor a comment: '{trimmed}'"
                    ),
                ));
            };
            let key = visible[..delim].trim();
            if key.is_empty() {
                return Err(TextError::Line(n, "a setting without a name".into()));
            }
            key_indent = Some(indent_of(visible));
            let after = &visible[delim + 1..];
            let value_at = (content.len() - visible.len())
                + delim
                + 1
                + (after.len() - after.trim_start().len());
            Kind::Property {
                key: key.to_lowercase(),
                value_at,
            }
        };
        out.push(Line { content, end, kind });
    }
    Ok(out)
}

fn check_profile(profile: &str) -> Result<(), TextError> {
    let ok = !profile.is_empty()
        && profile.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, '_' | '-' | '.' | '@' | '+' | '=' | ',' | ':' | '/')
        });
    if ok {
        Ok(())
    } else {
        Err(TextError::BadProfileName(profile.to_owned()))
    }
}

fn check_key_value(key: &str, value: &str) -> Result<(), TextError> {
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(TextError::BadValue(key.to_owned()));
    }
    if value.is_empty() || value != value.trim() || value.contains(['\n', '\r']) {
        return Err(TextError::BadValue(value.to_owned()));
    }
    Ok(())
}

/// Sets `key = value` in `profile`'s section of the config text `text`, changing nothing else.
/// Returns the new text and what changed.
pub fn set(
    text: &str,
    profile: &str,
    key: &str,
    value: &str,
) -> Result<(String, Change), TextError> {
    check_profile(profile)?;
    check_key_value(key, value)?;
    let key_lower = key.to_lowercase();
    let lines = classify(text)?;

    // The target section: exactly one header naming the profile.
    let headers: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| matches!(&l.kind, Kind::Header(Some(p)) if p == profile))
        .map(|(i, _)| i)
        .collect();
    if headers.len() > 1 {
        return Err(TextError::Line(
            headers[1] + 1,
            format!(
                "profile '{profile}' is defined again (first on line {}); merge the two sections first",
                headers[0] + 1
            ),
        ));
    }
    let newline = lines
        .iter()
        .map(|l| l.end)
        .find(|e| !e.is_empty())
        .unwrap_or("\n");

    let Some(&start) = headers.first() else {
        // No section: append one at the end, after a blank line.
        let mut out = String::with_capacity(text.len() + key.len() + value.len() + 40);
        out.push_str(text);
        if !text.is_empty() {
            if !text.ends_with('\n') {
                out.push_str(newline);
            }
            if lines.last().is_some_and(|l| !l.content.trim().is_empty()) {
                out.push_str(newline);
            }
        }
        out.push_str(&section_header(profile));
        out.push_str(newline);
        out.push_str(&format!("{key} = {value}"));
        out.push_str(newline);
        return Ok((out, Change::SectionAdded));
    };
    let end = lines[start + 1..]
        .iter()
        .position(|l| matches!(l.kind, Kind::Header(_)))
        .map_or(lines.len(), |p| start + 1 + p);

    // The key, if the section has it.
    let found: Vec<usize> = (start + 1..end)
        .filter(|&i| matches!(&lines[i].kind, Kind::Property { key, .. } if *key == key_lower))
        .collect();
    if found.len() > 1 {
        return Err(TextError::Line(
            found[1] + 1,
            format!(
                "'{key}' is set twice in [{}] (first on line {}); remove one",
                section_name(&lines[start]),
                found[0] + 1
            ),
        ));
    }
    if let Some(&at) = found.first() {
        if lines
            .get(at + 1)
            .is_some_and(|l| l.kind == Kind::Continuation)
        {
            return Err(TextError::Line(
                at + 1,
                format!("'{key}' has a value spanning several lines; make it one line first"),
            ));
        }
        let Kind::Property { value_at, .. } = lines[at].kind else {
            unreachable!("found only holds properties")
        };
        let line = &lines[at];
        let previous = line.content[value_at..].trim_end();
        if previous == value {
            return Ok((text.to_owned(), Change::Unchanged));
        }
        let change = Change::Replaced {
            previous: previous.to_owned(),
        };
        // Everything around the value stays, trailing spaces included.
        let mut replaced = String::with_capacity(line.content.len() + value.len());
        replaced.push_str(&line.content[..value_at]);
        replaced.push_str(value);
        replaced.push_str(&line.content[value_at + previous.len()..]);
        return Ok((rebuild(&lines, at, Some(&replaced), None), change));
    }

    // Not there: after the section's last setting (and its nested lines), in that setting's
    // style, or right after the header when the section is empty.
    let last = (start + 1..end)
        .rev()
        .find(|&i| !matches!(lines[i].kind, Kind::Filler))
        .unwrap_or(start);
    let style = (start + 1..end).rev().find_map(|i| match &lines[i].kind {
        // A key without a value (`s3 =`, a sub-section) shows no spacing after its '='.
        Kind::Property { value_at, .. } if *value_at < lines[i].content.len() => {
            Some(&lines[i].content[..*value_at])
        }
        _ => None,
    });
    // The indent is the section's last top-level key's, whatever the style line: deeper, the
    // AWS CLI would read the new line as part of that key (a nested key of `s3 =`, say).
    let indent = (start + 1..end)
        .rev()
        .find(|&i| matches!(lines[i].kind, Kind::Property { .. }))
        .map_or("", |i| &lines[i].content[..indent_of(lines[i].content)]);
    let new_line = match style.and_then(|s| s.find(['=', ':']).map(|d| (s, d))) {
        Some((s, d)) => {
            let spacing_before = &s[s[..d].trim_end().len()..d];
            let spacing_after = &s[d + 1..];
            format!(
                "{indent}{key}{spacing_before}{}{spacing_after}{value}",
                &s[d..=d]
            )
        }
        None => format!("{indent}{key} = {value}"),
    };
    Ok((rebuild(&lines, last, None, Some(&new_line)), Change::Added))
}

fn section_name<'a>(header: &Line<'a>) -> &'a str {
    let t = header.content.trim().trim_start_matches('\u{feff}');
    t.strip_prefix('[')
        .and_then(|t| t.rfind(']').map(|c| &t[..c]))
        .unwrap_or(t)
}

/// The text again, with line `at` replaced by `replace` and/or followed by `insert`.
fn rebuild(lines: &[Line<'_>], at: usize, replace: Option<&str>, insert: Option<&str>) -> String {
    let newline = lines
        .iter()
        .map(|l| l.end)
        .find(|e| !e.is_empty())
        .unwrap_or("\n");
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        out.push_str(if i == at {
            replace.unwrap_or(line.content)
        } else {
            line.content
        });
        if i == at {
            if let Some(new) = insert {
                // The line we insert after may be the last one, without a terminator.
                out.push_str(if line.end.is_empty() {
                    newline
                } else {
                    line.end
                });
                out.push_str(new);
            }
        }
        out.push_str(line.end);
    }
    out
}

/// The value of `key` in `profile`'s section, if set (for messages; the SDK does the reading
/// that matters).
pub fn get(text: &str, profile: &str, key: &str) -> Result<Option<String>, TextError> {
    let lines = classify(text)?;
    let key = key.to_lowercase();
    let mut in_profile = false;
    for line in &lines {
        match &line.kind {
            Kind::Header(p) => in_profile = p.as_deref() == Some(profile),
            Kind::Property { key: k, value_at } if in_profile && *k == key => {
                return Ok(Some(line.content[*value_at..].trim_end().to_owned()))
            }
            _ => {}
        }
    }
    Ok(None)
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so a
/// reader sees the old file or the new one, never half of either. `expected` is what the file
/// held when it was read (`None`: it did not exist); if that changed, nothing is written.
fn write_atomically(path: &Path, expected: Option<&[u8]>, bytes: &[u8]) -> Result<(), ConfigError> {
    let shown = path.display().to_string();
    let io = |action: &'static str, p: &Path| {
        let p = p.display().to_string();
        move |source| ConfigError::Io {
            action,
            path: p,
            source,
        }
    };
    // Write where a symlink points, so the link (e.g. to a dotfiles repository) survives.
    let target = match std::fs::canonicalize(path) {
        Ok(real) => real,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && expected.is_none() => {
            // A dangling symlink: follow it by hand; else the file is new.
            match std::fs::read_link(path) {
                Ok(link) => path.parent().map_or(link.clone(), |d| d.join(link)),
                Err(_) => path.to_owned(),
            }
        }
        Err(e) => return Err(io("resolve", path)(e)),
    };
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    if expected.is_none() {
        create_private_dir(&dir).map_err(io("create the directory", &dir))?;
    }
    let meta = std::fs::metadata(&target).ok();

    let file_name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "config".into());
    let mut temp = None;
    for attempt in 0..16u32 {
        let candidate = dir.join(format!(
            ".{file_name}.ykmfa-{}-{attempt}.tmp",
            std::process::id()
        ));
        match create_new(&candidate) {
            Ok(f) => {
                temp = Some((candidate, f));
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io("create a temporary file in", &dir)(e)),
        }
    }
    let Some((temp_path, mut file)) = temp else {
        return Err(io("create a temporary file in", &dir)(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "too many leftover temporary files",
        )));
    };
    // From here on, any failure removes the temporary file.
    let result = (|| {
        file.write_all(bytes).map_err(io("write", &temp_path))?;
        if let Some(meta) = &meta {
            file.set_permissions(meta.permissions())
                .map_err(io("set the permissions of", &temp_path))?;
            keep_owner(&file, meta).map_err(io("set the owner of", &temp_path))?;
        }
        file.sync_all().map_err(io("write", &temp_path))?;
        drop(file);
        let now = match std::fs::read(&target) {
            Ok(b) => Some(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io("read", &target)(e)),
        };
        if now.as_deref() != expected {
            return Err(ConfigError::ChangedMeanwhile(shown.clone()));
        }
        std::fs::rename(&temp_path, &target).map_err(io("replace", &target))?;
        // The rename is durable once the directory is synced (best effort: not all systems can).
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp_path);
    }
    result
}

/// A new file only we can read until its final permissions are set.
fn create_new(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// `~/.aws` as the AWS CLI makes it: readable by its owner only.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Keeps the file's owner when root edits someone else's config (e.g. under sudo).
#[cfg(unix)]
fn keep_owner(file: &std::fs::File, meta: &std::fs::Metadata) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let mine = file.metadata()?;
    if mine.uid() == meta.uid() && mine.gid() == meta.gid() {
        return Ok(());
    }
    std::os::unix::fs::fchown(file, Some(meta.uid()), Some(meta.gid()))
}

#[cfg(not(unix))]
fn keep_owner(_: &std::fs::File, _: &std::fs::Metadata) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests;
