//! Whether the hardware tests may run: their variables, the one token present, the AWS account.
//! Kept apart from the tests so that `gate_on_bench.rs` checks the refusals on the bench.
//!
//! The tests change a real token and a real AWS account, so the person running them names both
//! (`YKMFA_HW_SERIAL`, `YKMFA_HW_ACCOUNT`), and the tests refuse unless exactly that one token
//! is connected and the credentials belong to exactly that account.

use ykmfa::token::Inventory;

/// Everything the tests create is named with this prefix (IAM users, devices, token
/// credentials), and only such things are ever removed.
pub const PREFIX: &str = "ykmfa-hwtest-";

/// The IAM path of the test users, so a sweep lists them and nothing else.
pub const USER_PATH: &str = "/ykmfa-hwtest/";

/// The variables, as the README documents them.
pub const SERIAL_VAR: &str = "YKMFA_HW_SERIAL";
/// The sandbox account id.
pub const ACCOUNT_VAR: &str = "YKMFA_HW_ACCOUNT";
/// The AWS profile with the sandbox account's credentials (else the SDK's usual chain).
pub const PROFILE_VAR: &str = "YKMFA_HW_PROFILE";
/// `1`: also run the test that needs a person to touch the key.
pub const TOUCH_VAR: &str = "YKMFA_HW_TOUCH";

/// What the person asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The one YubiKey the tests may use.
    pub serial: u32,
    /// The one AWS account they may change.
    pub account: String,
    /// The AWS profile to use, if any.
    pub profile: Option<String>,
    /// Whether a person is there to touch the key.
    pub touch: bool,
}

/// The verdict on the variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// None of the variables: the run can't start; says how to run.
    Unset(String),
    /// Variables that can't be right: refuse, saying why.
    Refuse(String),
    /// Run with this.
    Run(Config),
}

/// Reads the variables through `var` (the process environment in the tests).
pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Gate {
    let get = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    let (serial, account) = match (get(SERIAL_VAR), get(ACCOUNT_VAR)) {
        (None, None) => {
            return Gate::Unset(format!(
                "set {SERIAL_VAR} (the YubiKey's serial) and {ACCOUNT_VAR} (a sandbox AWS account id), optionally {PROFILE_VAR} and {TOUCH_VAR}=1, to run the hardware tests; see hardware-tests/README.md"
            ))
        }
        (Some(_), None) => {
            return Gate::Refuse(format!(
                "{SERIAL_VAR} is set but {ACCOUNT_VAR} is not: name the sandbox account the tests may change"
            ))
        }
        (None, Some(_)) => {
            return Gate::Refuse(format!(
                "{ACCOUNT_VAR} is set but {SERIAL_VAR} is not: name the YubiKey the tests may change (ykman list --serials)"
            ))
        }
        (Some(s), Some(a)) => (s.trim().to_owned(), a.trim().to_owned()),
    };
    let Ok(serial_number) = serial.parse::<u32>() else {
        return Gate::Refuse(format!(
            "{SERIAL_VAR}={serial} is not a serial number (digits, as 'ykman list --serials' prints)"
        ));
    };
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Gate::Refuse(format!(
            "{ACCOUNT_VAR}={account} is not an AWS account id (12 digits)"
        ));
    }
    let touch = match get(TOUCH_VAR).as_deref() {
        None | Some("0") => false,
        Some("1") => true,
        Some(other) => {
            return Gate::Refuse(format!(
                "{TOUCH_VAR}={other}: use 1 (a person will touch the key) or 0"
            ))
        }
    };
    Gate::Run(Config {
        serial: serial_number,
        account,
        profile: get(PROFILE_VAR),
        touch,
    })
}

/// Refuses unless the only card present is the token named by the serial.
pub fn check_tokens(config: &Config, inventory: &Inventory) -> Result<(), String> {
    let present: Vec<String> = inventory
        .tokens
        .iter()
        .map(|t| t.describe())
        .chain(
            inventory
                .unusable
                .iter()
                .map(|u| format!("a card in '{}' ({})", u.reader, u.reason)),
        )
        .collect();
    let ours = inventory
        .tokens
        .iter()
        .filter(|t| t.serial.map(|s| s.0) == Some(config.serial))
        .count();
    if ours == 0 {
        return Err(format!(
            "{SERIAL_VAR}={} but no such token is connected (present: {}); plug in that YubiKey, or correct the variable",
            config.serial,
            if present.is_empty() { "none".to_owned() } else { present.join(", ") }
        ));
    }
    if present.len() > 1 {
        return Err(format!(
            "other keys are connected besides YubiKey {} ({}); unplug them so the tests can't touch the wrong one",
            config.serial,
            present.join(", ")
        ));
    }
    Ok(())
}

/// Refuses unless the credentials belong to the account named.
pub fn check_account(config: &Config, account: &str, caller_arn: &str) -> Result<(), String> {
    if account != config.account {
        return Err(format!(
            "the AWS credentials{} are for account {account} ({caller_arn}), not {ACCOUNT_VAR}={}; use the sandbox account's profile ({PROFILE_VAR}) or correct the variable",
            config
                .profile
                .as_deref()
                .map(|p| format!(" of profile '{p}'"))
                .unwrap_or_default(),
            config.account
        ));
    }
    if caller_arn.ends_with(":root") {
        return Err(format!(
            "the AWS credentials are the root user's ({caller_arn}); use an IAM user or role of account {account}"
        ));
    }
    Ok(())
}
