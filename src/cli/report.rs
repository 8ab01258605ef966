//! Errors as a person reads them: one line saying what happened, lines saying what to do, and
//! an exit code scripts can rely on; and the sentences more than one command says, so the same
//! failure reads the same whichever command meets it.

use ykmfa::iam::IamError;
use ykmfa::mfa::{pairing::TokenRef, remedy};
use ykmfa::oath;
use ykmfa::token::{PresentError, SelectError, Unusable};
use ykmfa::transport::TransportError;

use super::{Global, Output};

/// Stable exit codes, as `--help` and docs/scripts.md document them: 1 anything else, 2 usage (also
/// clap's own), 3 no token or no single one to choose, 4 the PC/SC service missing or refusing,
/// 5 the token refused, 6 no usable AWS credentials or an action denied, 7 IAM refused, 8 something
/// could not be undone (listed, with how to remove it), 9 `audit --fail-on` findings, 130
/// interrupted (what was done was undone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
#[allow(missing_docs)]
pub enum Exit {
    Failed = 1,
    Usage = 2,
    TokenNotFound = 3,
    Pcsc = 4,
    Token = 5,
    Aws = 6,
    Iam = 7,
    Incomplete = 8,
    Findings = 9,
    Interrupted = 130,
}

/// A failure ready to show.
#[derive(Debug)]
pub struct Failure {
    /// What happened.
    pub what: String,
    /// What to do about it, one action a line.
    pub fix: Vec<String>,
    /// The exit code.
    pub code: Exit,
}

impl Failure {
    /// A failure with advice.
    pub fn new(code: Exit, what: impl Into<String>, fix: &[&str]) -> Self {
        let (what, fix) = (what.into(), fix.iter().map(|s| (*s).to_owned()).collect());
        Failure { what, fix, code }
    }
}

/// What to do about a token with no free slot.
pub const FREE_A_SLOT: &str =
    "delete an unused credential (ykman oath accounts delete NAME) or use another token";
/// The advice when a locked token must be read.
pub const GIVE_PASSWORD: &str =
    "give the OATH password with --oath-password (prompted) or YKMFA_OATH_PASSWORD";
/// The advice when no token is connected.
pub const INSERT_TOKEN: &str =
    "insert your YubiKey (or Nitrokey) and try again; 'ykmfa tokens' lists what ykmfa sees";
/// ListMFADeviceTags was denied: devices are found by their credential's default name.
pub const TAGS_DENIED: &str = "ykmfa's tags on the devices can't be read (iam:ListMFADeviceTags); finding the credential by its default name";

/// Advice for starting the PC/SC service differs per OS.
fn start_pcscd() -> &'static [&'static str] {
    if cfg!(target_os = "linux") {
        &[
            "start it: sudo systemctl start pcscd.socket",
            "not installed? Debian/Ubuntu: sudo apt install pcscd; Fedora: sudo dnf install pcsc-lite",
        ]
    } else if cfg!(target_os = "macos") {
        &["macOS runs the smart card service on demand; reconnect the token and try again"]
    } else {
        &["start the Windows 'Smart Card' service (SCardSvr)"]
    }
}

impl From<TransportError> for Failure {
    fn from(e: TransportError) -> Self {
        use TransportError as T;
        let what = e.to_string();
        let (code, fix): (Exit, &[&str]) = match e {
            // A socket that exists but refuses a non-root user is most often polkit saying no;
            // a pcscd that crashed leaves its socket behind too, so both are named.
            T::NoService if ykmfa::transport::pcsc::service_refused() => {
                return Failure::new(Exit::Pcsc, "the PC/SC service did not accept the connection", &[
                    "polkit may refuse smart cards to this user: allow your group with the rule in ykmfa's udev/ folder, or run from a local desktop session",
                    "or pcscd stopped and left its socket behind: sudo systemctl restart pcscd.socket",
                ]);
            }
            T::NoService => (Exit::Pcsc, start_pcscd()),
            T::PermissionDenied => (Exit::Pcsc, &[
                "polkit decides who may use smart cards; run from a local desktop session, or",
                "or allow your group with the polkit rule in ykmfa's udev/ folder (see udev/README.md)",
            ]),
            T::NoReaders => return Failure::new(Exit::TokenNotFound, "no token is connected", &[INSERT_TOKEN]),
            T::SharingViolation(_) => (Exit::Pcsc, &[
                "another program holds the token exclusively: usually GnuPG's scdaemon (run: gpgconf --kill scdaemon),",
                "or a running ykman, Yubico Authenticator or browser extension; close it and retry",
            ]),
            T::CardRemoved | T::NoCard(_) => (Exit::TokenNotFound, &["keep the token inserted until ykmfa finishes, then run the command again"]),
            T::ReaderGone(_) => (Exit::TokenNotFound, &["reconnect the token and run the command again"]),
            T::Timeout | T::Other(_) => (Exit::Pcsc, &["reconnect the token; if it persists, restart pcscd"]),
        };
        Failure::new(code, what, fix)
    }
}

impl From<SelectError> for Failure {
    fn from(e: SelectError) -> Self {
        let what = e.to_string();
        let fix = match e {
            SelectError::Transport(t) => return t.into(),
            SelectError::NoToken | SelectError::TimedOut(_) => INSERT_TOKEN,
            SelectError::NoOath(_) => "TOTP codes need a token with an OATH application: a YubiKey 5, a Nitrokey 3, …",
            SelectError::Ambiguous(_) => "pass --serial SERIAL to say which one, or remove the others",
            SelectError::NoMatchingSerial { .. } => "check the serial (printed on the token and shown by 'ykmfa tokens'), or insert that token",
        };
        Failure::new(Exit::TokenNotFound, what, &[fix])
    }
}

impl From<oath::Error> for Failure {
    fn from(e: oath::Error) -> Self {
        use oath::Error as E;
        let what = e.to_string();
        let fix = match e {
            E::Transport(t) => return t.into(),
            E::Locked => GIVE_PASSWORD,
            E::WrongPassword => "check the OATH password (ykman and Yubico Authenticator use the same one)",
            E::NoSpace | E::FullAt(_) => FREE_A_SLOT,
            E::TouchTimeout => "touch the token's contact when it blinks, then run the command again",
            E::FipsNeedsPassword(_) => "then run this again: ykmfa asks for the OATH password when the token has one",
            E::TouchNotEnforced => "use a token that enforces touch, or enroll without --touch",
            E::CredentialExists(_) | E::HiddenCredentialExists(_) => "ykmfa never overwrites a credential; choose another --label, or delete the old one first",
            E::NoOathApplet => "this token cannot hold OATH credentials; use a YubiKey 5 or Nitrokey 3",
            _ => "remove and reinsert the token, then run the command again ('ykmfa tokens' shows what ykmfa sees)",
        };
        Failure::new(Exit::Token, what, &[fix])
    }
}

/// IAM failures as sentences, with the permission docs for denials.
pub fn iam_failure(e: &IamError, global: &Global) -> Failure {
    let fail = |code, fix: &[&str]| Failure::new(code, e.to_string(), fix);
    match e {
        IamError::NoCredentials(_) => {
            let login = match &global.profile {
                Some(p) => format!("if '{p}' uses IAM Identity Center: aws sso login --profile {p}"),
                None => "if your profile uses IAM Identity Center: aws sso login --profile NAME".to_owned(),
            };
            fail(Exit::Aws, &["configure credentials as for the AWS CLI: aws configure, AWS_PROFILE, or --profile NAME", &login])
        }
        IamError::AccessDenied { action, .. } => {
            let docs = e.policy_docs_url().unwrap_or(ykmfa::iam::MFA_POLICY_DOCS_URL);
            let ask = format!("ask an administrator to allow {action} for you");
            fail(Exit::Aws, &[&ask, &format!("the permissions ykmfa needs: {docs}")])
        }
        IamError::Network(_) | IamError::Timeout { .. } => fail(Exit::Aws, &["check the network and the endpoint (--endpoint-url, AWS_ENDPOINT_URL_IAM), then retry"]),
        IamError::Throttling { .. } => fail(Exit::Iam, &["wait a minute and run the command again"]),
        IamError::InsecureEndpoint { .. } => fail(Exit::Usage, &["use the endpoint's https:// URL; plain http:// is only accepted to this machine (127.0.0.1, ::1, localhost)"]),
        _ => fail(Exit::Iam, &["run the command again with -vvv to see the whole exchange with IAM (secrets are never logged)"]),
    }
}

/// `" --profile NAME"` for the AWS CLI commands in advice, or nothing.
pub fn profile_flag(global: &Global) -> String {
    remedy::aws_flags(global.profile.as_deref())
}

/// Arguments `ykmfa COMMAND` refuses, pointing at its help.
pub fn usage(command: &str, what: impl Into<String>) -> Failure {
    let fix = format!("see 'ykmfa {command} --help'");
    Failure::new(Exit::Usage, what, &[&fix])
}

/// A `--device` that is not a virtual MFA device's ARN (`what` says why).
pub fn bad_arn(what: String) -> Failure {
    let fix = "list the user's devices with: aws iam list-mfa-devices --user-name NAME";
    Failure::new(Exit::Usage, what, &[fix])
}

/// The tokens could not be looked at or unlocked, or asking for the password failed.
pub fn tokens_failure(e: PresentError<Failure>) -> Failure {
    match e {
        PresentError::Select(e) => e.into(),
        PresentError::Card(e) => e.into(),
        PresentError::Ask(f) => f,
    }
}

/// The token the plan works on was removed before the work began.
pub fn no_longer_connected(token: &TokenRef, fix: &str) -> Failure {
    let what = format!("{token} is no longer connected; nothing was changed");
    Failure::new(Exit::TokenNotFound, what, &[fix])
}

/// The cards ykmfa could not use, one warning each.
pub fn skipped(out: &Output, unusable: &[Unusable]) {
    for u in unusable {
        out.warn(format!("skipped the card in '{}': {}", u.reader, u.reason));
    }
}
