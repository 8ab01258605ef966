//! Errors as a person reads them: one line saying what happened, lines saying what to do, and
//! an exit code scripts can rely on.

use ykmfa::iam::IamError;
use ykmfa::oath;
use ykmfa::token::SelectError;
use ykmfa::transport::TransportError;

/// Stable exit codes (documented in `--help` and the README).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Anything not covered below.
    Failed = 1,
    /// The arguments are wrong (also clap's own code).
    Usage = 2,
    /// No token, or no single token to choose.
    TokenNotFound = 3,
    /// The PC/SC service is missing or refuses us.
    Pcsc = 4,
    /// The token refused (locked, full, touch not given, name exists...).
    Token = 5,
    /// No usable AWS credentials, or IAM denied an action.
    Aws = 6,
    /// IAM refused (unknown user, too many devices, codes not accepted...).
    Iam = 7,
    /// Something could not be undone; the message lists it and how to remove it.
    Incomplete = 8,
    /// `audit --fail-on LEVEL`: a finding at or above that level.
    Findings = 9,
    /// Interrupted (Ctrl-C); what was done was undone.
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
        Failure {
            what: what.into(),
            fix: fix.iter().map(|s| (*s).to_owned()).collect(),
            code,
        }
    }
}

/// What to do about a token with no free slot.
pub const FREE_A_SLOT: &str =
    "delete an unused credential (ykman oath accounts delete NAME) or use another token";

/// How long two codes for the console stay good: "Enter them within 47 s (until 12:34:56 UTC).",
/// or that they have expired.
pub fn validity(valid_until: u64, now: u64) -> String {
    let left = valid_until.saturating_sub(now);
    if left == 0 {
        return "The codes have expired: if the console has not accepted them yet, answer n and run ykmfa again.".to_owned();
    }
    let t = valid_until % 86_400;
    format!(
        "Enter them within {left} s (until {:02}:{:02}:{:02} UTC).",
        t / 3600,
        t / 60 % 60,
        t % 60
    )
}

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
        let what = e.to_string();
        match e {
            // A socket that exists but refuses a non-root user is most often polkit saying no;
            // a pcscd that crashed leaves its socket behind too, so both are named.
            TransportError::NoService
                if ykmfa::transport::pcsc::service_socket_present() == Some(true)
                    && !rustix::process::getuid().is_root() =>
            {
                Failure::new(
                    Exit::Pcsc,
                    "the PC/SC service did not accept the connection",
                    &[
                        "polkit may refuse smart cards to this user: allow your group with the rule in ykmfa's udev/ folder, or run from a local desktop session",
                        "or pcscd stopped and left its socket behind: sudo systemctl restart pcscd.socket",
                    ],
                )
            }
            TransportError::NoService => Failure::new(Exit::Pcsc, what, start_pcscd()),
            TransportError::PermissionDenied => Failure::new(
                Exit::Pcsc,
                what,
                &[
                    "polkit decides who may use smart cards; run from a local desktop session, or",
                    "or allow your group with the polkit rule in ykmfa's udev/ folder (see udev/README.md)",
                ],
            ),
            TransportError::NoReaders => Failure::new(
                Exit::TokenNotFound,
                "no token is connected",
                &["insert your YubiKey (or Nitrokey) and try again; 'ykmfa tokens' lists what ykmfa sees"],
            ),
            TransportError::SharingViolation(_) => Failure::new(
                Exit::Pcsc,
                what,
                &[
                    "another program holds the token exclusively: usually GnuPG's scdaemon (run: gpgconf --kill scdaemon),",
                    "or a running ykman, Yubico Authenticator or browser extension; close it and retry",
                ],
            ),
            TransportError::CardRemoved | TransportError::NoCard(_) => Failure::new(
                Exit::TokenNotFound,
                what,
                &["keep the token inserted until ykmfa finishes, then run the command again"],
            ),
            TransportError::ReaderGone(_) => {
                Failure::new(Exit::TokenNotFound, what, &["reconnect the token and run the command again"])
            }
            TransportError::Timeout | TransportError::Other(_) => {
                Failure::new(Exit::Pcsc, what, &["reconnect the token; if it persists, restart pcscd"])
            }
        }
    }
}

impl From<SelectError> for Failure {
    fn from(e: SelectError) -> Self {
        let what = e.to_string();
        match e {
            SelectError::Transport(t) => t.into(),
            SelectError::NoToken | SelectError::TimedOut(_) => Failure::new(
                Exit::TokenNotFound,
                what,
                &["insert your YubiKey (or Nitrokey) and try again; 'ykmfa tokens' lists what ykmfa sees"],
            ),
            SelectError::Ambiguous(_) => Failure::new(
                Exit::TokenNotFound,
                what,
                &["pass --serial SERIAL to say which one, or remove the others"],
            ),
            SelectError::NoMatchingSerial { .. } => Failure::new(
                Exit::TokenNotFound,
                what,
                &["check the serial (printed on the token and shown by 'ykmfa tokens'), or insert that token"],
            ),
        }
    }
}

impl From<oath::Error> for Failure {
    fn from(e: oath::Error) -> Self {
        use oath::Error as E;
        let what = e.to_string();
        match e {
            E::Transport(t) => t.into(),
            E::Locked => Failure::new(
                Exit::Token,
                what,
                &["give the OATH password with --oath-password (prompted) or YKMFA_OATH_PASSWORD"],
            ),
            E::WrongPassword => Failure::new(
                Exit::Token,
                what,
                &["check the OATH password (ykman and Yubico Authenticator use the same one)"],
            ),
            E::NoSpace => Failure::new(Exit::Token, what, &[FREE_A_SLOT]),
            E::TouchTimeout => Failure::new(
                Exit::Token,
                what,
                &["touch the token's contact when it blinks, then run the command again"],
            ),
            E::CredentialExists(_) => Failure::new(
                Exit::Token,
                what,
                &["ykmfa never overwrites a credential; choose another --label, or delete the old one first"],
            ),
            E::NoOathApplet => Failure::new(Exit::Token, what, &["this token cannot hold OATH credentials; use a YubiKey 5 or Nitrokey 3"]),
            _ => Failure::new(
                Exit::Token,
                what,
                &["remove and reinsert the token, then run the command again ('ykmfa tokens' shows what ykmfa sees)"],
            ),
        }
    }
}

/// IAM failures as sentences, with the permission docs for denials.
pub fn iam_failure(e: &IamError, global: &super::Global) -> Failure {
    let what = e.to_string();
    match e {
        IamError::NoCredentials(_) => {
            let login = match &global.profile {
                Some(p) => format!("if '{p}' uses IAM Identity Center: aws sso login --profile {p}"),
                None => "if your profile uses IAM Identity Center: aws sso login --profile NAME".to_owned(),
            };
            Failure {
                what,
                fix: vec![
                    "configure credentials as for the AWS CLI: aws configure, AWS_PROFILE, or --profile NAME".to_owned(),
                    login,
                ],
                code: Exit::Aws,
            }
        }
        IamError::AccessDenied { action, .. } => Failure {
            what,
            fix: vec![
                format!("ask an administrator to allow {action} for you"),
                format!("the permissions ykmfa needs: {}", e.policy_docs_url().unwrap_or(ykmfa::iam::MFA_POLICY_DOCS_URL)),
            ],
            code: Exit::Aws,
        },
        IamError::Network(_) | IamError::Timeout { .. } => Failure::new(
            Exit::Aws,
            what,
            &["check the network and the endpoint (--endpoint-url, AWS_ENDPOINT_URL_IAM), then retry"],
        ),
        IamError::Throttling { .. } => Failure::new(Exit::Iam, what, &["wait a minute and run the command again"]),
        IamError::InsecureEndpoint { .. } => Failure::new(
            Exit::Usage,
            what,
            &["use the endpoint's https:// URL; plain http:// is only accepted to this machine (127.0.0.1, ::1, localhost)"],
        ),
        _ => Failure::new(
            Exit::Iam,
            what,
            &["run the command again with -vvv to see the whole exchange with IAM (secrets are never logged)"],
        ),
    }
}

#[cfg(test)]
mod tests;
