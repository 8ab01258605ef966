//! After an enrollment: `mfa_serial` in the chosen profile of the AWS config file (only with the
//! person's consent: a question on a terminal, or `--write-mfa-serial`), and the settings that
//! let aws-vault's `--prompt ykman` find the credential on the token
//! ([`Enrolled::aws_vault_settings`]).

use std::io;
use std::path::Path;

use ykmfa::aws_config::{self, Change, Edit};
use ykmfa::mfa::enroll::Enrolled;

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
/// `default`.
fn chosen_profile(global: &Global, args: &ConfigArgs) -> String {
    let flag = args.write_mfa_serial.as_ref().and_then(Option::as_deref);
    aws_config::chosen_profile(flag, global.profile.as_deref())
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
    let can_ask = !asked && !out.json && !global.yes && ykmfa::terminal::has_tty();
    if asked || can_ask {
        let edit = Edit::plan(&path, &profile, "mfa_serial", &done.device_serial);
        match edit.map(|edit| write(out, &edit, asked, (&header, &by_hand))) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => out.warn(format!(
                "cannot ask ({e}); {shown} is unchanged. Add to {header}:\n{by_hand}"
            )),
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
        out.info(done.aws_vault_settings());
    }
}

/// Asks (unless `--write-mfa-serial` already said yes), then writes; `Err`: it can't ask.
fn write(
    out: &Output,
    edit: &Edit,
    asked: bool,
    (header, by_hand): (&str, &str),
) -> io::Result<()> {
    let shown = edit.path.display();
    let question = match &edit.change {
        Change::Unchanged => {
            out.info(format!("{header} in {shown} already has this mfa_serial."));
            return Ok(());
        }
        Change::Added => format!("Add mfa_serial to {header} in {shown}?"),
        Change::SectionAdded => format!("Add {header} with mfa_serial to {shown}?"),
        Change::Replaced { previous } => format!(
            "{header} in {shown} has mfa_serial = {previous}; replace it with the new device?"
        ),
    };
    if !(asked || prompt::confirm(&format!("{question} [y/N] "))?) {
        out.info(format!(
            "Left {shown} unchanged. To use the token, add to {header}:\n{by_hand}"
        ));
        return Ok(());
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
    Ok(())
}

/// mfa_serial means nothing to a profile that signs in through IAM Identity Center: say so.
fn identity_center_note(out: &Output, path: &Path, profile: &str) {
    if aws_config::signs_in_with_sso(path, profile) {
        out.warn(format!(
            "profile '{profile}' signs in through IAM Identity Center, which ignores mfa_serial; it takes effect in profiles with access keys or a role_arn"
        ));
    }
}
