//! After an enrollment: `mfa_serial` in the chosen profile of the AWS config file (only with the
//! person's consent: a question on a terminal, or `--write-mfa-serial`), and the settings that
//! let aws-vault's `--prompt ykman` find the credential on the token.
//!
//! aws-vault's ykman prompt runs `ykman oath accounts code --single NAME`, where NAME is
//! `YKMAN_OATH_CREDENTIAL_NAME` or else the profile's `mfa_serial`, and adds `--device SERIAL`
//! when `YKMAN_OATH_DEVICE_SERIAL` is set (aws-vault `prompt/ykman.go`). ykmfa names the
//! credential after the AWS label, not the ARN, so the name must be given.

use std::path::Path;

use ykmfa::aws_config::{self, Change, Edit};
use ykmfa::mfa::enroll::Enrolled;
use ykmfa::mfa::remedy;

use super::{prompt, Global, Output};

/// `ykmfa enroll`'s flags for the AWS config file.
#[derive(clap::Args, Debug, Default)]
pub struct ConfigArgs {
    /// After enrolling, set mfa_serial in the AWS config file (AWS_CONFIG_FILE or
    /// ~/.aws/config) for PROFILE [default: --profile, else AWS_PROFILE, else default].
    /// Without this flag ykmfa asks on a terminal, and never writes unasked.
    #[arg(
        long,
        value_name = "PROFILE",
        num_args = 0..=1,
        require_equals = true,
        conflicts_with = "root",
    )]
    pub write_mfa_serial: Option<Option<String>>,
}

/// The profile mfa_serial is for: the flag's value, the global `--profile`, `AWS_PROFILE`, or
/// `default`, as the AWS CLI picks a profile.
fn chosen_profile(global: &Global, args: &ConfigArgs) -> String {
    if let Some(Some(p)) = &args.write_mfa_serial {
        return p.clone();
    }
    global
        .profile
        .clone()
        .or_else(|| std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty()))
        .unwrap_or_else(|| "default".to_owned())
}

/// What `--write-mfa-serial` will do, for a dry run's plan: the profile and the file.
pub fn planned(global: &Global, args: &ConfigArgs) -> Option<(String, String)> {
    args.write_mfa_serial.as_ref()?;
    let file = aws_config::default_path().map_or_else(
        || "(no AWS config file: HOME is not set)".to_owned(),
        |p| p.display().to_string(),
    );
    Some((chosen_profile(global, args), file))
}

/// Runs after a successful enrollment. Never fails it: the device is enrolled whatever happens
/// to the config file, so a problem there is a warning saying what to add by hand.
pub fn after_enroll(out: &Output, global: &Global, args: &ConfigArgs, done: &Enrolled) {
    let profile = chosen_profile(global, args);
    let header = aws_config::section_header(&profile);
    let by_hand = format!("  mfa_serial = {}", done.device_serial);
    let Some(path) = aws_config::default_path() else {
        out.warn(format!(
            "neither AWS_CONFIG_FILE nor HOME is set; add to {header} of your AWS config file:\n{by_hand}"
        ));
        return;
    };
    let shown = path.display().to_string();
    let asked = args.write_mfa_serial.is_some();
    let can_ask = !asked && !out.json && !global.yes && prompt::has_tty();
    if asked || can_ask {
        match Edit::plan(&path, &profile, "mfa_serial", &done.device_serial) {
            Ok(edit) => write(out, &edit, &header, asked, &by_hand),
            Err(e) => out.warn(format!(
                "{e}\nykmfa did not change {shown}; add to {header} by hand:\n{by_hand}"
            )),
        }
    } else if !out.json {
        out.info(format!(
            "Next: for the AWS CLI and aws-vault, add to {header} in {shown}:\n{by_hand}\n(or let ykmfa do it: --write-mfa-serial[=PROFILE])"
        ));
    }
    if !out.json {
        identity_center_note(out, &path, &profile);
        out.info(aws_vault_settings(done));
    }
}

/// Asks (unless `--write-mfa-serial` already said yes), then writes.
fn write(out: &Output, edit: &Edit, header: &str, asked: bool, by_hand: &str) {
    let shown = edit.path.display();
    let question = match &edit.change {
        Change::Unchanged => {
            out.info(format!("{header} in {shown} already has this mfa_serial."));
            return;
        }
        Change::Added => format!("Add mfa_serial to {header} in {shown}?"),
        Change::SectionAdded => format!("Add {header} with mfa_serial to {shown}?"),
        Change::Replaced { previous } => format!(
            "{header} in {shown} has mfa_serial = {previous}; replace it with the new device?"
        ),
    };
    if !asked {
        match super::prompt::confirm(&format!("{question} [y/N] ")) {
            Ok(true) => {}
            Ok(false) => {
                out.info(format!(
                    "Left {shown} unchanged. To use the token, add to {header}:\n{by_hand}"
                ));
                return;
            }
            Err(e) => {
                out.warn(format!(
                    "cannot ask ({e}); {shown} is unchanged. Add to {header}:\n{by_hand}"
                ));
                return;
            }
        }
    }
    match edit.apply() {
        Ok(()) => match &edit.change {
            Change::Replaced { previous } => out.warn(format!(
                "replaced mfa_serial in {header} of {shown} (it was {previous})"
            )),
            _ => out.info(format!("Set mfa_serial in {header} of {shown}.")),
        },
        Err(e) => out.warn(format!("{e}\nAdd to {header} by hand:\n{by_hand}")),
    }
}

/// mfa_serial means nothing to a profile that signs in through IAM Identity Center: say so.
fn identity_center_note(out: &Output, path: &Path, profile: &str) {
    let Ok(text) = std::fs::read_to_string(path) else {
        return;
    };
    let sso = ["sso_session", "sso_start_url"]
        .iter()
        .any(|k| matches!(aws_config::get(&text, profile, k), Ok(Some(_))));
    if sso {
        out.warn(format!(
            "profile '{profile}' signs in through IAM Identity Center, which ignores mfa_serial; it takes effect in profiles with access keys or a role_arn"
        ));
    }
}

/// The environment aws-vault's `--prompt ykman` needs to find this credential.
fn aws_vault_settings(done: &Enrolled) -> String {
    let mut text = format!(
        "For aws-vault --prompt ykman (it asks ykman for the credential named by mfa_serial unless told otherwise):\n  export AWS_VAULT_PROMPT=ykman\n  export YKMAN_OATH_CREDENTIAL_NAME={}",
        remedy::single_quote(&done.credential)
    );
    if let Some(serial) = done.token_serial {
        text.push_str(&format!("\n  export YKMAN_OATH_DEVICE_SERIAL={serial}"));
    }
    text
}
