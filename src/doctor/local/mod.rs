//! This machine: the PC/SC service, readers, tokens, polkit, programs that hold tokens, and each
//! token's OATH password. Facts in, [`Check`]s out; nothing here touches the machine.

use std::time::Duration;

use serde_json::json;

use super::{plural, Check, Status};
use crate::token::{Kind, Token};
use crate::transport::TransportError;

/// What the PC/SC probe saw.
#[derive(Debug)]
pub struct LocalFacts {
    /// pcscd's client socket and whether it exists (Linux; `None` elsewhere).
    pub socket: Option<Socket>,
    /// Whether ykmfa runs as root.
    pub is_root: bool,
    /// Connecting to the service (SCardEstablishContext).
    pub service: Service,
    /// The readers and what is in them.
    pub readers: Readers,
    /// Running programs (those known to take tokens are named in the report).
    pub programs: Vec<Program>,
    /// ykmfa's polkit rule and group, to say which step of the set-up is missing.
    pub polkit: PolkitSetup,
}

/// Where the set-up of ykmfa's polkit rule stands (udev/README.md): the rule file, the group,
/// and this user in it, in this session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolkitSetup {
    /// `/etc/polkit-1/rules.d/49-ykmfa-pcscd.rules` exists.
    pub rule_installed: bool,
    /// The `ykmfa` group exists.
    pub group_exists: bool,
    /// This user is a member of it (in the group database).
    pub member: bool,
    /// This process has it (a membership added since log-in is not in the session yet).
    pub in_session: bool,
}

/// Where ykmfa's polkit rule is installed.
pub const POLKIT_RULE: &str = "/etc/polkit-1/rules.d/49-ykmfa-pcscd.rules";

/// pcscd's client socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Socket {
    /// Its path (`PCSCLITE_CSOCK_NAME`, else `/run/pcscd/pcscd.comm`).
    pub path: String,
    /// Whether it exists.
    pub present: bool,
}

/// Connecting to the PC/SC service.
#[derive(Debug)]
pub enum Service {
    /// Connected.
    Up,
    /// Refused or absent.
    Down(TransportError),
    /// No answer within the time limit.
    NoAnswer(Duration),
}

/// The readers, once connected.
#[derive(Debug)]
pub enum Readers {
    /// Not asked (the service was not reached).
    NotListed,
    /// Listed; each examined in turn (a reader that did not answer ends the list early, and
    /// says so in its state).
    Listed(Vec<ReaderFact>),
    /// Listing failed.
    Failed(TransportError),
    /// Listing did not answer within the time limit.
    NoAnswer(Duration),
}

/// One reader and what is in it.
#[derive(Debug)]
pub struct ReaderFact {
    /// The reader's name.
    pub name: String,
    /// What it holds.
    pub state: ReaderState,
}

/// What a reader holds.
#[derive(Debug)]
pub enum ReaderState {
    /// No card.
    Empty,
    /// A token with an OATH application.
    Token {
        /// What identification found.
        token: Box<Token>,
        /// The OATH password, when one is set.
        password: PasswordCheck,
    },
    /// Another program holds the card exclusively (sharing violation).
    Held,
    /// pcscd refused this user the card (polkit's `access_card`).
    Refused,
    /// A card without an OATH application, with its model when it says (a YubiKey Bio, a
    /// Security Key).
    NoOath(Option<String>),
    /// Anything else, in PC/SC's or the card's words.
    Failed(String),
    /// The card (or a transaction on it) did not answer within the time limit.
    NoAnswer(Duration),
}

/// What is known about a token's OATH password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordCheck {
    /// No password is set.
    None,
    /// A password is set and nothing was tried (no `YKMFA_OATH_PASSWORD`, or not a YubiKey).
    Locked,
    /// `YKMFA_OATH_PASSWORD` unlocks it.
    Unlocks,
    /// `YKMFA_OATH_PASSWORD` is wrong for it.
    Wrong,
    /// Trying it failed for another reason.
    Failed(String),
}

/// A running program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    /// Its process name (`/proc/PID/comm`).
    pub name: String,
    /// Its process id.
    pub pid: u32,
    /// Its command line, for telling same-named programs apart (never shown).
    pub command_line: String,
}

/// A program that takes tokens for itself, and how to make it let go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holder {
    /// Its process name (as `/proc/PID/comm` shows it: at most 15 bytes).
    pub process: &'static str,
    /// Text its command line must contain (case-insensitively) for a generic process name.
    pub command_line_has: Option<&'static str>,
    /// What people call it.
    pub what: &'static str,
    /// How to free the token.
    pub fix: &'static str,
}

/// Programs known to open tokens exclusively.
pub const HOLDERS: &[Holder] = &[
    Holder {
        process: "scdaemon",
        command_line_has: None,
        what: "GnuPG's scdaemon",
        fix: "gpgconf --kill scdaemon (GnuPG restarts it when it next needs a card; \
              `pcsc-shared` in ~/.gnupg/scdaemon.conf makes it share the token)",
    },
    Holder {
        process: "yubikey-agent",
        command_line_has: None,
        what: "yubikey-agent",
        fix: "stop yubikey-agent while ykmfa runs: systemctl --user stop yubikey-agent",
    },
    Holder {
        process: "authenticator",
        command_line_has: Some("yubi"),
        what: "Yubico Authenticator",
        fix: "quit Yubico Authenticator (also from the system tray)",
    },
    Holder {
        process: "yubioath-deskto",
        command_line_has: None,
        what: "Yubico Authenticator",
        fix: "quit Yubico Authenticator (also from the system tray)",
    },
    Holder {
        process: "ykman",
        command_line_has: None,
        what: "ykman",
        fix: "let the running ykman finish, then run ykmfa again",
    },
    Holder {
        process: "nitrokeyapp",
        command_line_has: None,
        what: "the Nitrokey app",
        fix: "quit the Nitrokey app",
    },
];

/// The known holders among `programs`, each with its process id.
pub fn holders_running(programs: &[Program]) -> Vec<(&'static Holder, u32)> {
    let mut found = Vec::new();
    for p in programs {
        for h in HOLDERS {
            let named = p.name == h.process;
            let confirmed = h.command_line_has.is_none_or(|needle| {
                p.command_line
                    .to_ascii_lowercase()
                    .contains(&needle.to_ascii_lowercase())
            });
            if named && confirmed {
                found.push((h, p.pid));
            }
        }
    }
    found
}

impl LocalFacts {
    fn listed(&self) -> Option<&[ReaderFact]> {
        match &self.readers {
            Readers::Listed(r) => Some(r),
            _ => None,
        }
    }

    fn tokens(&self) -> Vec<(&Token, &PasswordCheck)> {
        self.listed()
            .unwrap_or_default()
            .iter()
            .filter_map(|r| match &r.state {
                ReaderState::Token { token, password } => Some((token.as_ref(), password)),
                _ => None,
            })
            .collect()
    }

    fn readers_in(&self, wanted: fn(&ReaderState) -> bool) -> Vec<&str> {
        self.listed()
            .unwrap_or_default()
            .iter()
            .filter(|r| wanted(&r.state))
            .map(|r| r.name.as_str())
            .collect()
    }

    fn socket_present(&self) -> Option<bool> {
        self.socket.as_ref().map(|s| s.present)
    }
}

/// The checks of this machine, in report order.
pub fn checks(f: &LocalFacts) -> Vec<Check> {
    vec![
        pcscd(f),
        readers(f),
        tokens(f),
        polkit(f),
        in_use(f),
        oath_password(f),
    ]
}

fn start_pcscd() -> Vec<String> {
    if cfg!(target_os = "linux") {
        vec![
            "start it: sudo systemctl start pcscd.socket".into(),
            "not installed? Debian/Ubuntu: sudo apt install pcscd; Fedora: sudo dnf install pcsc-lite"
                .into(),
        ]
    } else if cfg!(target_os = "macos") {
        vec!["macOS runs the smart card service on demand: reconnect the token".into()]
    } else {
        vec!["start the Windows 'Smart Card' service (SCardSvr)".into()]
    }
}

/// The PC/SC service, as this system names it (pcsc-lite's daemon on Linux; the system's own
/// smart card service on macOS and Windows).
pub const SERVICE: &str = if cfg!(target_os = "macos") {
    "the smart card service (com.apple.ctkpcscd)"
} else if cfg!(windows) {
    "the Smart Card service (SCardSvr)"
} else {
    "pcscd"
};

const RESTART_PCSCD: &str = if cfg!(target_os = "macos") {
    "reconnect the token; if it persists, restart the Mac"
} else if cfg!(windows) {
    "restart it: net stop SCardSvr && net start SCardSvr (as administrator)"
} else {
    "restart it: sudo systemctl restart pcscd.socket pcscd.service"
};

/// pcscd: running and answering.
pub fn pcscd(f: &LocalFacts) -> Check {
    let id = "pcscd";
    let at = f
        .socket
        .as_ref()
        .map(|s| format!(" ({})", s.path))
        .unwrap_or_default();
    match &f.service {
        Service::Up => Check::new(id, "pcscd", Status::Ok, format!("{SERVICE} answers{at}")),
        Service::NoAnswer(after) => Check::new(
            id,
            "pcscd",
            Status::Fail,
            format!("{SERVICE} did not answer within {} s{at}", after.as_secs()),
        )
        .fix([RESTART_PCSCD]),
        Service::Down(TransportError::PermissionDenied) => Check::new(
            id,
            "pcscd",
            Status::Ok,
            format!("{SERVICE} is running{at}, but refuses this user (see polkit)"),
        ),
        Service::Down(TransportError::NoService) => match (f.socket_present(), f.is_root) {
            (Some(false), _) => Check::new(
                id,
                "pcscd",
                Status::Fail,
                format!(
                    "the PC/SC service (pcscd) is not running: no socket at {}",
                    f.socket.as_ref().map_or("", |s| s.path.as_str())
                ),
            )
            .fix(start_pcscd()),
            (None, _) => Check::new(
                id,
                "pcscd",
                Status::Fail,
                format!("the PC/SC service ({SERVICE}) is not running"),
            )
            .fix(start_pcscd()),
            (Some(true), true) => Check::new(
                id,
                "pcscd",
                Status::Fail,
                format!("pcscd is not running: its socket{at} is left from a pcscd that stopped"),
            )
            .fix([RESTART_PCSCD]),
            (Some(true), false) => Check::new(
                id,
                "pcscd",
                Status::Fail,
                format!("pcscd did not accept the connection, although its socket exists{at}"),
            )
            .fix([
                "if polkit refuses this user, see the polkit line".to_owned(),
                format!("if pcscd stopped and left its socket behind: {RESTART_PCSCD}"),
            ]),
        },
        Service::Down(e) => {
            Check::new(id, "pcscd", Status::Fail, format!("{e}{at}")).fix([RESTART_PCSCD])
        }
    }
}

/// Readers: at least one.
pub fn readers(f: &LocalFacts) -> Check {
    let id = "readers";
    match &f.readers {
        Readers::NotListed => Check::new(id, "readers", Status::Skip, "needs pcscd"),
        Readers::NoAnswer(after) => Check::new(
            id,
            "readers",
            Status::Fail,
            format!(
                "pcscd did not list its readers within {} s",
                after.as_secs()
            ),
        )
        .fix([RESTART_PCSCD]),
        Readers::Failed(e) => {
            Check::new(id, "readers", Status::Fail, e.to_string()).fix([RESTART_PCSCD])
        }
        Readers::Listed(list) if list.is_empty() => Check::new(
            id,
            "readers",
            Status::Warn,
            "no smart card reader: a USB token is its own reader, so none is plugged in",
        )
        .fix(["plug in your YubiKey (or Nitrokey 3)"]),
        Readers::Listed(list) => {
            let names: Vec<&str> = list.iter().map(|r| r.name.as_str()).collect();
            Check::new(
                id,
                "readers",
                Status::Ok,
                format!(
                    "{}: {}",
                    plural(list.len(), "reader", "readers"),
                    names.join(", ")
                ),
            )
            .data(json!(names))
        }
    }
}

fn describe(t: &Token) -> String {
    let mut s = t.describe();
    let mut facts = Vec::new();
    if let Some(fw) = t.firmware {
        facts.push(format!("firmware {fw}"));
    }
    match (t.credentials, t.capacity) {
        (Some(n), Some(cap)) => facts.push(format!("{n} of {cap} credentials")),
        (Some(n), None) => facts.push(plural(n, "credential", "credentials")),
        (None, _) => {}
    }
    if !facts.is_empty() {
        s.push_str(&format!(" ({})", facts.join(", ")));
    }
    s
}

/// Tokens: exactly one is what commands want without `--serial`.
pub fn tokens(f: &LocalFacts) -> Check {
    let id = "tokens";
    if f.listed().is_none() {
        return Check::new(id, "tokens", Status::Skip, "needs the reader list");
    }
    let tokens = f.tokens();
    let data = json!(tokens.iter().map(|(t, _)| t).collect::<Vec<_>>());
    let mut notes = Vec::new();
    let no_oath: Vec<String> = f
        .listed()
        .unwrap_or_default()
        .iter()
        .filter_map(|r| match &r.state {
            ReaderState::NoOath(Some(model)) => Some(format!(
                "{} (a {model}, which can't hold TOTP codes)",
                r.name
            )),
            ReaderState::NoOath(None) => Some(r.name.clone()),
            _ => None,
        })
        .collect();
    if !no_oath.is_empty() {
        notes.push(format!("no OATH application in: {}", no_oath.join(", ")));
    }
    let held = f.readers_in(|s| matches!(s, ReaderState::Held | ReaderState::Refused));
    if !held.is_empty() {
        notes.push(format!("not readable: {} (see below)", held.join(", ")));
    }
    let failed: Vec<String> = f
        .listed()
        .unwrap_or_default()
        .iter()
        .filter_map(|r| match &r.state {
            ReaderState::Failed(why) => Some(format!("{}: {why}", r.name)),
            ReaderState::NoAnswer(after) => Some(format!(
                "{}: no answer within {} s",
                r.name,
                after.as_secs()
            )),
            _ => None,
        })
        .collect();
    notes.extend(failed.iter().cloned());
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!("; {}", notes.join("; "))
    };
    let check = match tokens.as_slice() {
        [] => Check::new(
            id,
            "tokens",
            Status::Warn,
            format!("no token with an OATH application is connected{notes}"),
        )
        .fix(["insert your YubiKey (or Nitrokey 3); 'ykmfa tokens' lists what ykmfa sees"]),
        [(t, _)] => {
            let full = t.free() == Some(0);
            let check = Check::new(
                id,
                "tokens",
                if full { Status::Warn } else { Status::Ok },
                format!("{}{}{notes}", describe(t), if full { ": full" } else { "" }),
            );
            if full {
                check.fix([
                    "enroll needs a free slot: delete an unused credential (ykman oath accounts delete NAME)",
                ])
            } else {
                check
            }
        }
        many => {
            let list: Vec<String> = many.iter().map(|(t, _)| describe(t)).collect();
            let example = many
                .iter()
                .find_map(|(t, _)| t.serial)
                .map_or("SERIAL".to_owned(), |s| s.to_string());
            Check::new(
                id,
                "tokens",
                Status::Warn,
                format!(
                    "{}: {}; commands that use a token need --serial to choose{notes}",
                    plural(many.len(), "token", "tokens"),
                    list.join(", ")
                ),
            )
            .fix([
                format!("pass --serial to say which, e.g. --serial {example}"),
                "or remove the tokens you do not mean to use".to_owned(),
            ])
        }
    };
    if failed.is_empty() {
        check.data(data)
    } else {
        let status = check.status.max(Status::Warn);
        Check { status, ..check }.data(data)
    }
}

/// The next step of ykmfa's polkit set-up, from where it stands.
fn polkit_fixes(setup: &PolkitSetup) -> Vec<String> {
    let mut fixes = vec![
        "polkit lets users of a local desktop session use smart cards, not SSH, cron or services"
            .to_owned(),
    ];
    let install = format!(
        "install ykmfa's rule: sudo install -m 0644 udev/49-ykmfa-pcscd.rules {POLKIT_RULE} (udev/README.md)"
    );
    match setup {
        PolkitSetup {
            group_exists: false,
            ..
        } => {
            fixes.push(
                "allow a group: sudo groupadd --system ykmfa && sudo usermod -aG ykmfa $USER (log in again)"
                    .into(),
            );
            if !setup.rule_installed {
                fixes.push(install);
            }
        }
        PolkitSetup { member: false, .. } => {
            fixes.push("join the group: sudo usermod -aG ykmfa $USER (log in again)".into());
            if !setup.rule_installed {
                fixes.push(install);
            }
        }
        PolkitSetup {
            in_session: false, ..
        } => {
            fixes.push(
                "you are in the group ykmfa, but this session is not yet: log in again (or: newgrp ykmfa)"
                    .into(),
            );
            if !setup.rule_installed {
                fixes.push(install);
            }
        }
        PolkitSetup {
            rule_installed: false,
            ..
        } => fixes.push(install),
        _ => fixes.push(
            "ykmfa's rule is installed and this session has the group, yet polkit refuses: \
             check polkitd's log (journalctl -u polkit)"
                .into(),
        ),
    }
    fixes
}

/// polkit: whether pcscd lets this user use readers and cards.
pub fn polkit(f: &LocalFacts) -> Check {
    let id = "polkit";
    if !cfg!(target_os = "linux") {
        return Check::new(
            id,
            "polkit",
            Status::Skip,
            "polkit decides who may use smart cards on Linux only",
        );
    }
    let fixes = polkit_fixes(&f.polkit);
    let refused_cards = f.readers_in(|s| matches!(s, ReaderState::Refused));
    match &f.service {
        Service::Down(TransportError::PermissionDenied) => Check::new(
            id,
            "polkit",
            Status::Fail,
            "pcscd refuses this user (polkit denies org.debian.pcsc-lite.access_pcsc)",
        )
        .fix(fixes),
        _ if !refused_cards.is_empty() => Check::new(
            id,
            "polkit",
            Status::Fail,
            format!(
                "pcscd refuses this user the card in {} (polkit denies org.debian.pcsc-lite.access_card)",
                refused_cards.join(", ")
            ),
        )
        .fix(fixes),
        Service::Down(TransportError::NoService)
            if f.socket_present() == Some(true) && !f.is_root =>
        {
            Check::new(
                id,
                "polkit",
                Status::Warn,
                "pcscd's socket exists but refused the connection: polkit refusing this user \
                 is one cause, a pcscd that stopped is the other",
            )
            .fix(fixes)
        }
        Service::Up => Check::new(
            id,
            "polkit",
            Status::Ok,
            if f.is_root {
                "pcscd accepts this user (root)"
            } else {
                "pcscd accepts this user"
            },
        ),
        _ => Check::new(id, "polkit", Status::Skip, "needs pcscd"),
    }
}

/// Another program holding a token exclusively.
pub fn in_use(f: &LocalFacts) -> Check {
    let id = "token-in-use";
    let name = "token in use";
    if f.listed().is_none() {
        return Check::new(id, name, Status::Skip, "needs the reader list");
    }
    let running = holders_running(&f.programs);
    let names: Vec<String> = running
        .iter()
        .map(|(h, pid)| format!("{} (pid {pid})", h.what))
        .collect();
    let held = f.readers_in(|s| matches!(s, ReaderState::Held));
    if held.is_empty() {
        let detail = if names.is_empty() {
            "no other program holds a token".to_owned()
        } else {
            format!(
                "no other program holds a token now; running, and known to take tokens: {}",
                names.join(", ")
            )
        };
        return Check::new(id, name, Status::Ok, detail);
    }
    let mut check = Check::new(
        id,
        name,
        Status::Fail,
        format!(
            "another program holds the token in {} exclusively{}",
            held.join(", "),
            if names.is_empty() {
                String::new()
            } else {
                format!("; running: {}", names.join(", "))
            }
        ),
    );
    if running.is_empty() {
        check = check.fix([
            "usually GnuPG's scdaemon: gpgconf --kill scdaemon",
            "or Yubico Authenticator, a running ykman or a browser extension: close it and retry",
        ]);
    } else {
        let mut fixes: Vec<&str> = running.iter().map(|(h, _)| h.fix).collect();
        fixes.dedup();
        check = check.fix(fixes);
    }
    check.data(json!({"readers": held, "programs": running.iter().map(|(h, pid)| json!({"program": h.process, "pid": pid})).collect::<Vec<_>>()}))
}

/// Each token's OATH password: none, locked (how to unlock), or whether
/// `YKMFA_OATH_PASSWORD` opens it.
pub fn oath_password(f: &LocalFacts) -> Check {
    let id = "oath-password";
    let name = "oath password";
    let tokens = f.tokens();
    if tokens.is_empty() {
        return Check::new(id, name, Status::Skip, "no token");
    }
    let mut status = Status::Ok;
    let mut parts = Vec::new();
    let mut fixes: Vec<String> = Vec::new();
    for (t, pw) in &tokens {
        let who = t.describe();
        let (s, text) = match pw {
            PasswordCheck::None if t.kind == Kind::Nitrokey => (
                Status::Ok,
                format!("{who}: no OATH password (a Nitrokey uses a PIN per credential)"),
            ),
            PasswordCheck::None => (Status::Ok, format!("{who}: no password")),
            PasswordCheck::Unlocks => (
                Status::Ok,
                format!("{who}: password set; YKMFA_OATH_PASSWORD unlocks it"),
            ),
            PasswordCheck::Locked => {
                fixes.push(
                    "ykmfa asks for the password at a terminal (or --oath-password); scripts set YKMFA_OATH_PASSWORD"
                        .into(),
                );
                fixes.push(
                    "forgotten? only a reset removes it, and it erases every OATH credential: ykman oath reset"
                        .into(),
                );
                (Status::Warn, format!("{who}: locked by an OATH password"))
            }
            PasswordCheck::Wrong => {
                fixes.push(
                    "YKMFA_OATH_PASSWORD is wrong: check it (ykman and Yubico Authenticator use the same password)"
                        .into(),
                );
                (
                    Status::Fail,
                    format!("{who}: YKMFA_OATH_PASSWORD does not unlock it"),
                )
            }
            PasswordCheck::Failed(why) => (
                Status::Warn,
                format!("{who}: password set; trying YKMFA_OATH_PASSWORD failed: {why}"),
            ),
        };
        status = status.max(s);
        parts.push(text);
    }
    fixes.dedup();
    Check::new(id, name, status, parts.join("; ")).fix(fixes)
}

#[cfg(test)]
mod tests;
