//! The manifest: who gets which token in which account, as TOML or CSV, checked in full before
//! anything changes.
//!
//! Every problem is reported with the row and the field it is in, all at once, so a person fixes
//! a manifest in one pass. Only what the file itself can tell is checked here; what IAM and the
//! tokens must confirm (users exist, free device slots, the token present) is `bulk plan`'s job.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crate::iam::assume::role_account;
use crate::iam::names::{self, DeviceName, NameError, UserName, RESERVED_TAG_PREFIX};
use crate::mfa::enroll::Request;
use crate::mfa::hardware::HardwareSerial;
use crate::mfa::labels::{self, AWS_ISSUER};
use crate::oath::{self, CredentialId};
use crate::token::Serial;

/// The columns (CSV) and keys (TOML) a row may have.
pub const COLUMNS: [&str; 8] = [
    "user",
    "account",
    "serial",
    "hardware_serial",
    "touch",
    "label",
    "device_name",
    "tags",
];

/// The fields that don't apply to a row with `hardware_serial`, and why.
const NOT_FOR_HARDWARE: [(&str, &str); 4] = [
    ("touch", "a hardware token has no touch setting (its button shows the code); leave 'touch' out of this row"),
    ("label", "a hardware token holds no credential to name; leave 'label' out of this row"),
    ("device_name", "IAM names a hardware token by its serial; leave 'device_name' out of this row"),
    ("tags", "IAM can't tag a hardware token; leave 'tags' out of this row"),
];

/// The token allows credential names of this many bytes.
const MAX_NAME: usize = 64;

/// How a row's account is reached.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccountRef {
    /// The credentials the command runs with (`--profile`, or the standard chain).
    Default,
    /// A profile of the shared AWS config files.
    Profile(String),
    /// A role to assume, in the account its ARN names.
    Role {
        /// The role ARN.
        arn: String,
        /// The account in the ARN.
        account: String,
    },
}

impl AccountRef {
    /// As written in the manifest (empty for the default).
    pub fn label(&self) -> &str {
        match self {
            AccountRef::Default => "",
            AccountRef::Profile(p) => p,
            AccountRef::Role { arn, .. } => arn,
        }
    }

    /// As a person reads it.
    pub fn describe(&self) -> String {
        match self {
            AccountRef::Default => "the default credentials".into(),
            AccountRef::Profile(p) => format!("profile '{p}'"),
            AccountRef::Role { arn, .. } => format!("role {arn}"),
        }
    }

    /// Reads the `account` field: empty, a role ARN, or a profile name.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(AccountRef::Default);
        }
        if s.starts_with("arn:") {
            return match role_account(s) {
                Some(account) => Ok(AccountRef::Role {
                    arn: s.to_owned(),
                    account: account.to_owned(),
                }),
                None => Err(format!(
                    "'{s}' is not a role ARN; write arn:aws:iam::ACCOUNT:role/NAME (12-digit account)"
                )),
            };
        }
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "'{s}' is an account id; say how to reach it: a role ARN (arn:aws:iam::{s}:role/NAME) or a profile name"
            ));
        }
        if s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.+@/".contains(c))
        {
            Ok(AccountRef::Profile(s.to_owned()))
        } else {
            Err(format!(
                "'{s}' is neither a role ARN nor a profile name (letters, digits, _-.+@/)"
            ))
        }
    }
}

/// One enrollment asked for.
#[derive(Debug, Clone)]
pub struct Row {
    /// The row's number as a person finds it: the CSV line, or the n-th `[[enroll]]` table.
    pub number: usize,
    /// The IAM user.
    pub user: UserName,
    /// How to reach the user's account.
    pub account: AccountRef,
    /// The token, or `None` for "the next token inserted" (or a hardware token).
    pub serial: Option<Serial>,
    /// A hardware TOTP token (AWS holds its seed): a person types two codes from its display.
    pub hardware_serial: Option<HardwareSerial>,
    /// Require a touch for every code.
    pub touch: bool,
    /// The credential name on the token, or the default.
    pub label: Option<CredentialId>,
    /// The device name, or the default `USER-ykSERIAL`.
    pub device_name: Option<DeviceName>,
    /// Extra device tags.
    pub tags: Vec<(String, String)>,
}

impl Row {
    /// The row's key in the journal: the account as written and the user, unique in a manifest.
    pub fn key(&self) -> String {
        format!("{}/{}", self.account.label(), self.user)
    }

    /// The enrollment request.
    pub fn request(&self) -> Request {
        Request {
            user: self.user.clone(),
            device_name: self.device_name.clone(),
            label: self.label.clone(),
            touch: self.touch,
            tags: self.tags.clone(),
        }
    }
}

/// A problem in the manifest: where, and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", place(*row, field.as_deref()))]
pub struct Problem {
    /// The row (CSV: the line; TOML: the n-th `[[enroll]]`), when the problem is in one.
    pub row: Option<usize>,
    /// The field.
    pub field: Option<String>,
    /// What is wrong and how to fix it.
    pub message: String,
}

fn place(row: Option<usize>, field: Option<&str>) -> String {
    match (row, field) {
        (Some(r), Some(f)) => format!("row {r}, field '{f}': "),
        (Some(r), None) => format!("row {r}: "),
        (None, Some(f)) => format!("field '{f}': "),
        (None, None) => String::new(),
    }
}

fn problem(row: Option<usize>, field: Option<&str>, message: impl Into<String>) -> Problem {
    Problem {
        row,
        field: field.map(str::to_owned),
        message: message.into(),
    }
}

/// The format of a manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// TOML: `[[enroll]]` tables.
    Toml,
    /// CSV with a header line.
    Csv,
}

impl Format {
    /// By extension, else by content (a `[[` line means TOML).
    pub fn guess(path: &Path, text: &str) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("toml") => Format::Toml,
            Some(e) if e.eq_ignore_ascii_case("csv") => Format::Csv,
            _ if text.lines().any(|l| l.trim_start().starts_with("[[")) => Format::Toml,
            _ => Format::Csv,
        }
    }
}

/// Raw fields of one row, before checking.
struct RawRow {
    number: usize,
    fields: Vec<(String, Value)>,
}

enum Value {
    Text(String),
    Bool(bool),
    Int(i64),
    Tags(Vec<(String, String)>),
    Other(&'static str),
}

/// Parses and checks a manifest. Returns every row, or every problem found.
/// Why a manifest file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be read.
    #[error("cannot read the manifest {path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The file is not UTF-8 text.
    #[error("the manifest {0} is not UTF-8 text")]
    NotUtf8(PathBuf),
    /// Rows that are wrong, each named with its row and field (a line each).
    #[error("{}", problems_text(path, problems))]
    Problems {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problems: Vec<Problem>,
    },
}

/// The manifest's problems: how many, then a line each.
fn problems_text(path: &Path, problems: &[Problem]) -> String {
    let n = problems.len();
    let (path, s) = (path.display(), crate::layout::plural(n));
    let mut text = format!("the manifest {path} has {n} problem{s}; nothing was changed:");
    for p in problems {
        text.push_str(&format!("\n  {p}"));
    }
    text
}

/// Reads and checks the manifest at `path` (its format guessed from the name, else the text);
/// returns the rows and the digest of the file's bytes (see [`super::digest`]).
pub fn read(path: &Path) -> Result<(Vec<Row>, String), ReadError> {
    let bytes = std::fs::read(path).map_err(|error| ReadError::Io {
        path: path.to_owned(),
        error,
    })?;
    let text = std::str::from_utf8(&bytes).map_err(|_| ReadError::NotUtf8(path.to_owned()))?;
    let rows = parse(text, Format::guess(path, text)).map_err(|problems| ReadError::Problems {
        path: path.to_owned(),
        problems,
    })?;
    Ok((rows, super::digest(&bytes)))
}

/// Parses and checks a manifest's text.
pub fn parse(text: &str, format: Format) -> Result<Vec<Row>, Vec<Problem>> {
    let raw = match format {
        Format::Toml => raw_toml(text)?,
        Format::Csv => raw_csv(text)?,
    };
    check(raw)
}

fn raw_toml(text: &str) -> Result<Vec<RawRow>, Vec<Problem>> {
    let table: toml::Table = toml::from_str(text).map_err(|e| {
        vec![problem(
            None,
            None,
            format!("not valid TOML: {}", e.message()),
        )]
    })?;
    let mut problems = Vec::new();
    let mut rows = Vec::new();
    for (key, value) in &table {
        if key != "enroll" {
            problems.push(problem(
                None,
                Some(key),
                "unknown table; a manifest is a list of [[enroll]] tables",
            ));
            continue;
        }
        let Some(list) = value.as_array() else {
            problems.push(problem(
                None,
                Some("enroll"),
                "write each row as an [[enroll]] table",
            ));
            continue;
        };
        for (i, item) in list.iter().enumerate() {
            let number = i + 1;
            let Some(t) = item.as_table() else {
                problems.push(problem(Some(number), None, "not a table"));
                continue;
            };
            let fields = t
                .iter()
                .map(|(k, v)| {
                    let v = match v {
                        toml::Value::String(s) => Value::Text(s.clone()),
                        toml::Value::Boolean(b) => Value::Bool(*b),
                        toml::Value::Integer(n) => Value::Int(*n),
                        toml::Value::Table(t) => {
                            let mut tags = Vec::new();
                            let mut bad = false;
                            for (tk, tv) in t {
                                match tv.as_str() {
                                    Some(s) => tags.push((tk.clone(), s.to_owned())),
                                    None => bad = true,
                                }
                            }
                            if bad {
                                Value::Other("a table whose values are not all strings")
                            } else {
                                Value::Tags(tags)
                            }
                        }
                        toml::Value::Float(_) => Value::Other("a number with a fraction"),
                        toml::Value::Datetime(_) => Value::Other("a date"),
                        toml::Value::Array(_) => Value::Other("a list"),
                    };
                    (k.clone(), v)
                })
                .collect();
            rows.push(RawRow { number, fields });
        }
    }
    if table.is_empty() {
        problems.push(problem(None, None, "the manifest has no [[enroll]] rows"));
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(problems)
    }
}

fn raw_csv(text: &str) -> Result<Vec<RawRow>, Vec<Problem>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| vec![problem(Some(1), None, format!("unreadable header: {e}"))])?
        .clone();
    let mut problems = Vec::new();
    let mut seen = HashMap::new();
    for h in headers.iter() {
        if seen.insert(h.to_owned(), ()).is_some() {
            problems.push(problem(Some(1), Some(h), "the column appears twice"));
        }
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        match record {
            Ok(r) => {
                let number = r.position().map_or(0, |p| p.line() as usize);
                let fields = headers
                    .iter()
                    .zip(r.iter())
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(h, v)| (h.to_owned(), Value::Text(v.to_owned())))
                    .collect();
                rows.push(RawRow { number, fields });
            }
            Err(e) => {
                let line = e.position().map(|p| p.line() as usize);
                let message = match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => format!("{len} fields where the header has {expected_len}"),
                    _ => e.to_string(),
                };
                problems.push(problem(line, None, message));
            }
        }
    }
    // Unknown columns are named once, at the header.
    for h in headers.iter() {
        if !COLUMNS.contains(&h) {
            problems.push(problem(
                Some(1),
                Some(h),
                format!("unknown column (known: {})", COLUMNS.join(", ")),
            ));
        }
    }
    if !headers.iter().any(|h| h == "user") {
        problems.push(problem(
            Some(1),
            Some("user"),
            "the header has no 'user' column",
        ));
    }
    if problems.is_empty() {
        Ok(rows
            .into_iter()
            .map(|mut r| {
                r.fields.retain(|(k, _)| COLUMNS.contains(&k.as_str()));
                r
            })
            .collect())
    } else {
        Err(problems)
    }
}

fn check(raw: Vec<RawRow>) -> Result<Vec<Row>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut rows = Vec::new();
    if raw.is_empty() {
        problems.push(problem(None, None, "the manifest has no rows"));
    }
    for r in raw {
        match check_row(r) {
            Ok(row) => rows.push(row),
            Err(mut p) => problems.append(&mut p),
        }
    }
    // Across rows: a user once per account, a token once, a device name once per account.
    let mut users: BTreeMap<(AccountRef, String), usize> = BTreeMap::new();
    let mut serials: BTreeMap<Serial, usize> = BTreeMap::new();
    let mut hardware: HashMap<HardwareSerial, usize> = HashMap::new();
    let mut devices: BTreeMap<(AccountRef, String), usize> = BTreeMap::new();
    for row in &rows {
        if let Some(first) = users.insert((row.account.clone(), row.user.to_string()), row.number) {
            problems.push(problem(
                Some(row.number),
                Some("user"),
                format!(
                    "'{}' is already enrolled in the same account by row {first}; one row per user and account (a second token for a user is a second manifest run)",
                    row.user
                ),
            ));
        }
        if let Some(serial) = row.serial {
            if let Some(first) = serials.insert(serial, row.number) {
                problems.push(problem(
                    Some(row.number),
                    Some("serial"),
                    format!("token {serial} is already used by row {first}; one row per token"),
                ));
            }
        }
        if let Some(serial) = &row.hardware_serial {
            if let Some(first) = hardware.insert(serial.clone(), row.number) {
                problems.push(problem(
                    Some(row.number),
                    Some("hardware_serial"),
                    format!("hardware token {serial} is already used by row {first}; a hardware token serves one user"),
                ));
            }
        }
        if let Some(name) = &row.device_name {
            if let Some(first) = devices.insert((row.account.clone(), name.to_string()), row.number)
            {
                problems.push(problem(
                    Some(row.number),
                    Some("device_name"),
                    format!("'{name}' is already used by row {first}; device names are unique per account"),
                ));
            }
        }
    }
    problems.sort_by_key(|p| p.row.unwrap_or(0));
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(problems)
    }
}

fn check_row(raw: RawRow) -> Result<Row, Vec<Problem>> {
    let n = Some(raw.number);
    let mut problems = Vec::new();
    let mut get: BTreeMap<&str, &Value> = BTreeMap::new();
    for (k, v) in &raw.fields {
        if COLUMNS.contains(&k.as_str()) {
            get.insert(k.as_str(), v);
        } else {
            problems.push(problem(
                n,
                Some(k),
                format!("unknown field (known: {})", COLUMNS.join(", ")),
            ));
        }
    }
    let text = |field: &str, problems: &mut Vec<Problem>| -> Option<String> {
        match get.get(field) {
            None => None,
            Some(Value::Text(s)) => Some(s.clone()),
            Some(Value::Int(i)) if field == "serial" => Some(i.to_string()),
            Some(other) => {
                problems.push(problem(
                    n,
                    Some(field),
                    format!("expected text, found {}", kind(other)),
                ));
                None
            }
        }
    };

    let user = match text("user", &mut problems) {
        None => {
            problems.push(problem(
                n,
                Some("user"),
                "missing: every row names an IAM user",
            ));
            None
        }
        Some(u) => match UserName::parse(&u) {
            Ok(u) => Some(u),
            Err(e) => {
                problems.push(problem(n, Some("user"), e.to_string()));
                None
            }
        },
    };
    let account = match AccountRef::parse(&text("account", &mut problems).unwrap_or_default()) {
        Ok(a) => a,
        Err(e) => {
            problems.push(problem(n, Some("account"), e));
            AccountRef::Default
        }
    };
    let serial = text("serial", &mut problems).and_then(|s| match s.parse::<Serial>() {
        Ok(serial) if serial.0 > 0 => Some(serial),
        _ => {
            problems.push(problem(
                n,
                Some("serial"),
                format!("'{s}' is not a token serial (digits, as 'ykmfa tokens' shows it); leave it empty to insert the token when asked"),
            ));
            None
        }
    });
    let hardware_serial =
        text("hardware_serial", &mut problems).and_then(|s| match HardwareSerial::parse(&s) {
            Ok(serial) => Some(serial),
            Err(e) => {
                problems.push(problem(n, Some("hardware_serial"), e.to_string()));
                None
            }
        });
    let hardware = get.contains_key("hardware_serial");
    if hardware && get.contains_key("serial") {
        problems.push(problem(
            n,
            Some("hardware_serial"),
            "a row names a YubiKey or Nitrokey ('serial') or a hardware token ('hardware_serial'), not both",
        ));
    }
    if hardware {
        for (field, why) in NOT_FOR_HARDWARE {
            if get.contains_key(field) {
                problems.push(problem(n, Some(field), why));
            }
        }
    }
    let touch = match get.get("touch") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Text(s)) => match s.to_ascii_lowercase().as_str() {
            "" | "false" | "no" | "0" => false,
            "true" | "yes" | "1" => true,
            _ => {
                problems.push(problem(
                    n,
                    Some("touch"),
                    format!("'{s}' is not true or false"),
                ));
                false
            }
        },
        Some(other) => {
            problems.push(problem(
                n,
                Some("touch"),
                format!("expected true or false, found {}", kind(other)),
            ));
            false
        }
    };
    let label = text("label", &mut problems).and_then(|l| match labels::parse(&l) {
        Ok(id) => Some(id),
        Err(oath::Error::NameTooLong { len, max }) => {
            problems.push(problem(
                n,
                Some("label"),
                format!("'{l}' is {len} bytes; the token allows {max}: shorten it"),
            ));
            None
        }
        Err(e) => {
            problems.push(problem(n, Some("label"), e.to_string()));
            None
        }
    });
    let device_name =
        text("device_name", &mut problems).and_then(|d| match DeviceName::parse(&d) {
            Ok(d) => Some(d),
            Err(e) => {
                problems.push(problem(n, Some("device_name"), e.to_string()));
                None
            }
        });
    // ykmfa's own keys are one problem for the row, however many tags use them.
    let mut reserved = false;
    let tags = match get.get("tags") {
        None => Vec::new(),
        Some(Value::Tags(t)) => t
            .iter()
            .filter_map(|(k, v)| match names::parse_tag(&format!("{k}={v}")) {
                Ok(t) => Some(t),
                Err(NameError::ReservedTag(_)) => {
                    reserved = true;
                    None
                }
                Err(e) => {
                    problems.push(problem(n, Some("tags"), e.to_string()));
                    None
                }
            })
            .collect(),
        Some(Value::Text(s)) => s
            .split(';')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .filter_map(|t| match names::parse_tag(t) {
                Ok(t) => Some(t),
                Err(NameError::ReservedTag(_)) => {
                    reserved = true;
                    None
                }
                Err(e) => {
                    problems.push(problem(
                        n,
                        Some("tags"),
                        format!("{e} (separate tags with ';')"),
                    ));
                    None
                }
            })
            .collect(),
        Some(other) => {
            problems.push(problem(
                n,
                Some("tags"),
                format!("expected KEY=VALUE;... or a table, found {}", kind(other)),
            ));
            Vec::new()
        }
    };
    if reserved {
        problems.push(problem(
            n,
            Some("tags"),
            format!("keys starting with '{RESERVED_TAG_PREFIX}' are ykmfa's own"),
        ));
    }
    // Without a label, the credential is named "Amazon Web Services:USER@ALIAS", shortened to
    // the 12-digit account id when the alias makes it too long: the shortest it can be.
    if let (Some(u), None, None) = (&user, &label, &hardware_serial) {
        let len = labels::shortest_user_label_len(u.as_str());
        if len > MAX_NAME {
            problems.push(problem(
                n,
                Some("label"),
                format!(
                    "the default credential name '{AWS_ISSUER}:{u}@ACCOUNT' is {len} bytes; the token allows {MAX_NAME}: give a shorter label (e.g. 'AWS:{u}')"
                ),
            ));
        }
    }
    match (user, problems.is_empty()) {
        (Some(user), true) => Ok(Row {
            number: raw.number,
            user,
            account,
            serial,
            hardware_serial,
            touch,
            label,
            device_name,
            tags,
        }),
        _ => Err(problems),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Text(_) => "text",
        Value::Bool(_) => "true/false",
        Value::Int(_) => "a number",
        Value::Tags(_) => "a table",
        Value::Other(what) => what,
    }
}

#[cfg(test)]
mod tests;
