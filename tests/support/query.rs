//! The IAM calls tests make most (create a user, list a user's devices and their tags...) sent
//! straight to the bench's endpoint over its query protocol, with the answer in the shape the
//! AWS CLI prints, so that [`crate::Bench::aws`] need not start the CLI for them: each start of
//! the CLI costs about a second of CPU (Python, botocore and the IAM model), and the bench tests
//! make hundreds of such calls on a 2-core machine. The endpoint is the same either way; calls
//! outside this list, and the commands ykmfa prints for a person to run
//! ([`crate::Bench::aws_raw`]), still go through the CLI.

use std::io::{BufRead, BufReader, Read, Write};
use std::time::Duration;

use serde_json::{Map, Value};

/// The CLI operations answered here: (CLI name, IAM action, the list a truncated answer
/// continues, if it pages).
const OPERATIONS: [(&str, &str, Option<&str>); 9] = [
    ("create-user", "CreateUser", None),
    ("get-user", "GetUser", None),
    ("list-users", "ListUsers", Some("Users")),
    ("create-access-key", "CreateAccessKey", None),
    ("list-mfa-devices", "ListMFADevices", Some("MFADevices")),
    (
        "list-virtual-mfa-devices",
        "ListVirtualMFADevices",
        Some("VirtualMFADevices"),
    ),
    ("list-mfa-device-tags", "ListMFADeviceTags", Some("Tags")),
    ("deactivate-mfa-device", "DeactivateMFADevice", None),
    ("delete-virtual-mfa-device", "DeleteVirtualMFADevice", None),
];

/// The CLI options those operations take here, and their query parameters.
const OPTIONS: [(&str, &str); 5] = [
    ("--user-name", "UserName"),
    ("--serial-number", "SerialNumber"),
    ("--assignment-status", "AssignmentStatus"),
    ("--path", "Path"),
    ("--path-prefix", "PathPrefix"),
];

/// Elements that are lists in the CLI's output even when empty.
const LISTS: [&str; 5] = [
    "Users",
    "MFADevices",
    "VirtualMFADevices",
    "Tags",
    "AccessKeyMetadata",
];

/// An IAM call the AWS CLI would make for `args` (`["iam", OPERATION, OPTIONS...]`), if it is
/// one answered here: the action, its parameters, and the list it pages.
pub(crate) struct Call {
    action: &'static str,
    params: Vec<(&'static str, String)>,
    pages: Option<&'static str>,
}

impl Call {
    /// The call for `args`, or `None` when the CLI must make it (another service or operation,
    /// another option, a value the CLI would parse).
    pub(crate) fn of(args: &[&str]) -> Option<Call> {
        let [service, operation, options @ ..] = args else {
            return None;
        };
        if *service != "iam" || options.len() % 2 != 0 {
            return None;
        }
        let &(_, action, pages) = OPERATIONS.iter().find(|(cli, _, _)| cli == operation)?;
        let mut params = Vec::new();
        for pair in options.chunks(2) {
            let &(_, param) = OPTIONS.iter().find(|(option, _)| *option == pair[0])?;
            // Shorthand and file:// values are the CLI's to read.
            if pair[1].starts_with("file://") || pair[1].contains('=') {
                return None;
            }
            params.push((param, pair[1].to_owned()));
        }
        Some(Call {
            action,
            params,
            pages,
        })
    }

    /// Makes the call (every page of it) at `url` as the account of `access_key`, and returns
    /// the answer as the CLI prints it (`Null` for none); panics with the endpoint's answer on
    /// an error, as [`crate::Bench::aws`] does when the CLI fails.
    pub(crate) fn run(&self, url: &str, access_key: &str) -> Value {
        let mut marker: Option<String> = None;
        let mut whole: Option<Map<String, Value>> = None;
        loop {
            let mut params = self.params.clone();
            if let Some(m) = &marker {
                params.push(("Marker", m.clone()));
            }
            let xml = post(url, access_key, self.action, &params);
            let root = parse(&xml).unwrap_or_else(|e| panic!("{}: {e}: {xml}", self.action));
            let result = root
                .children
                .iter()
                .find(|c| c.name == format!("{}Result", self.action));
            let Some(result) = result else {
                return Value::Null; // an action that answers nothing but its metadata
            };
            let Value::Object(mut page) = to_json(result) else {
                return Value::Null;
            };
            let truncated = page.get("IsTruncated") == Some(&Value::Bool(true));
            marker = page
                .remove("Marker")
                .and_then(|m| m.as_str().map(str::to_owned));
            match (&mut whole, self.pages) {
                (Some(whole), Some(list)) => {
                    let more = page.remove(list).unwrap_or(Value::Array(Vec::new()));
                    if let (Some(Value::Array(all)), Value::Array(more)) =
                        (whole.get_mut(list), more)
                    {
                        all.extend(more);
                    }
                }
                (None, _) => whole = Some(page),
                (Some(_), None) => unreachable!("only listing calls page"),
            }
            if !(truncated && self.pages.is_some() && marker.is_some()) {
                break;
            }
        }
        let mut whole = whole.unwrap_or_default();
        // The CLI follows the pages and shows the whole list.
        whole.remove("IsTruncated");
        Value::Object(whole)
    }
}

/// One query-protocol call, tried again on a server error or throttling as the CLI's default
/// ("legacy") retry mode does: five attempts in all.
pub(crate) fn post(url: &str, access_key: &str, action: &str, params: &[(&str, String)]) -> String {
    let mut attempt = 1;
    loop {
        let (status, answer) = post_once(url, access_key, action, params);
        if status == 200 {
            return answer;
        }
        let retry = status >= 500 || answer.contains("<Code>Throttling");
        assert!(
            retry && attempt < 5,
            "aws iam {action} {params:?}: HTTP {status} {answer}"
        );
        std::thread::sleep(Duration::from_millis(50 << attempt));
        attempt += 1;
    }
}

/// One query-protocol POST, its status and answer; the endpoint takes the account from the
/// access key id in the `Authorization` header and does not check the signature.
fn post_once(
    url: &str,
    access_key: &str,
    action: &str,
    params: &[(&str, String)],
) -> (u16, String) {
    let addr = url.trim_start_matches("http://");
    let mut body = format!("Action={action}&Version=2010-05-08");
    for (k, v) in params {
        body.push('&');
        body.push_str(k);
        body.push('=');
        for b in v.bytes() {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                body.push(char::from(b));
            } else {
                body.push_str(&format!("%{b:02X}"));
            }
        }
    }
    let mut stream = std::net::TcpStream::connect(addr).expect("the IAM endpoint");
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded; charset=utf-8\r\nAuthorization: AWS4-HMAC-SHA256 Credential={access_key}/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send to the IAM endpoint");
    stream.set_read_timeout(Some(Duration::from_secs(60))).ok();
    let mut reader = BufReader::new(stream);
    let mut status = String::new();
    reader
        .read_line(&mut status)
        .expect("the IAM endpoint's status");
    let mut length = None;
    loop {
        let mut line = String::new();
        reader
            .read_line(&mut line)
            .expect("the IAM endpoint's headers");
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = Some(v.trim().parse::<usize>().expect("content length"));
        }
        if line == "\r\n" || line.is_empty() {
            break;
        }
    }
    let mut answer = Vec::new();
    match length {
        Some(n) => {
            answer.resize(n, 0);
            reader
                .read_exact(&mut answer)
                .expect("the IAM endpoint's answer");
        }
        None => {
            reader
                .read_to_end(&mut answer)
                .expect("the IAM endpoint's answer");
        }
    }
    let code = status
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, String::from_utf8_lossy(&answer).into_owned())
}

/// An XML element: its name (without namespace prefix), children and text.
#[derive(Debug, Default)]
struct Element {
    name: String,
    children: Vec<Element>,
    text: String,
}

/// Parses the endpoint's XML answer (elements, text, the five entities and numeric
/// references; declarations and comments skipped) into its root element.
fn parse(xml: &str) -> Result<Element, String> {
    let mut stack: Vec<Element> = vec![Element::default()];
    let mut rest = xml;
    while let Some(lt) = rest.find('<') {
        let text = &rest[..lt];
        if let Some(top) = stack.last_mut() {
            top.text.push_str(&unescape(text)?);
        }
        rest = &rest[lt..];
        if rest.starts_with("<?") || rest.starts_with("<!--") || rest.starts_with("<!") {
            let end = if rest.starts_with("<!--") { "-->" } else { ">" };
            let at = rest.find(end).ok_or("an unclosed declaration")?;
            rest = &rest[at + end.len()..];
            continue;
        }
        let gt = rest.find('>').ok_or("an unclosed tag")?;
        let tag = &rest[1..gt];
        rest = &rest[gt + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            let done = stack.pop().ok_or("a closing tag without its opening")?;
            if done.name != local(name.trim()) {
                return Err(format!("</{name}> closes <{}>", done.name));
            }
            stack
                .last_mut()
                .ok_or("a closing tag without its opening")?
                .children
                .push(done);
            continue;
        }
        let empty = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let name = local(tag.split_whitespace().next().unwrap_or_default());
        let element = Element {
            name: name.to_owned(),
            ..Element::default()
        };
        if empty {
            stack
                .last_mut()
                .ok_or("an element outside the document")?
                .children
                .push(element);
        } else {
            stack.push(element);
        }
    }
    let mut document = stack.pop().ok_or("no document")?;
    if !stack.is_empty() {
        return Err("unclosed elements".into());
    }
    match document.children.len() {
        1 => Ok(document.children.remove(0)),
        n => Err(format!("{n} root elements")),
    }
}

fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

fn unescape(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let semi = rest[amp..].find(';').ok_or("an unterminated entity")? + amp;
        let entity = &rest[amp + 1..semi];
        let c = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = entity.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(dec) = entity.strip_prefix('#') {
                    dec.parse().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32)
                    .ok_or_else(|| format!("the entity &{entity};"))?
            }
        };
        out.push(c);
        rest = &rest[semi + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The CLI's JSON for an element: lists of `member`s as arrays, elements with children as
/// objects, `true`/`false` as booleans, other text as strings.
fn to_json(e: &Element) -> Value {
    if e.children.is_empty() {
        if LISTS.contains(&e.name.as_str()) {
            return Value::Array(Vec::new());
        }
        return match e.text.trim() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(e.text.clone()),
        };
    }
    if e.children.iter().all(|c| c.name == "member") {
        return Value::Array(e.children.iter().map(to_json).collect());
    }
    Value::Object(
        e.children
            .iter()
            .map(|c| (c.name.clone(), to_json(c)))
            .collect(),
    )
}
