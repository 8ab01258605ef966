//! `enroll` and `resync` with `--hardware-serial`: a hardware TOTP token, whose codes a person
//! reads off its display. The work is [`ykmfa::mfa::hardware`]'s; here are the questions for the
//! codes and the words of its failures.

use ykmfa::iam::{names::UserName, Sdk};
use ykmfa::mfa::hardware::{self, Codes, HardwareError as E, HardwareSerial, Purpose, Ready};

use super::report::{self, iam_failure, Exit};
use super::{Failure, Global, Output};

const PRESS: &str = "Press the token's button and type the code it shows: ";
const NEXT: &str = "Wait until the display changes (up to 30 s), press again, type the next code: ";

/// Enrolls (or resyncs) `user` with the hardware token `serial`; a `dry_run` checks only.
pub async fn run(
    (out, global): (&Output, &Global),
    (user, serial): (&str, &HardwareSerial),
    purpose: Purpose,
    dry_run: bool,
) -> Result<(), Failure> {
    let command = ["enroll", "resync"][usize::from(purpose == Purpose::Resync)];
    let user = UserName::parse(user).map_err(|e| report::usage(command, e.to_string()))?;
    let dir = Sdk::connect(global.aws_options()).await;
    let dir = dir.map_err(|e| iam_failure(&e, global))?;
    let ready = hardware::prepare(&dir, user.as_str(), serial.clone(), purpose).await;
    let ready = ready.map_err(|e| failure(e, user.as_str(), serial, global))?;
    if dry_run {
        out.info(format!("Would enable hardware token {serial} for {user} with two codes from its display. Nothing was changed."));
        return Ok(());
    }
    let codes = codes(out, &ready, purpose)?;
    // One IAM call from here: a stop signal lets it finish and be reported.
    let _interrupt = super::interrupt::Interrupt::watch(
        &ykmfa::mfa::Cancel::default(),
        "finishing the IAM call under way, then stopping.",
        "Quit: check the device with 'ykmfa status'.",
    )?;
    let done = ready.apply(&dir, &codes).await;
    let done = done.map_err(|e| failure(e, user.as_str(), serial, global))?;
    if out.json {
        out.json(&done.json());
    } else {
        out.result(done.device_serial.as_str());
        out.info(done.text());
    }
    Ok(())
}

fn codes(out: &Output, ready: &Ready, purpose: Purpose) -> Result<Codes, Failure> {
    if purpose == Purpose::Resync {
        out.info("A hardware token keeps time on its own battery: after some years its clock drifts, which a resync corrects. A dim or blank display means the battery is at its end: replace the token.");
    }
    out.info(format!(
        "Two consecutive codes from hardware token {} for {}.",
        ready.serial(),
        ready.user()
    ));
    typed()
}

/// Two codes typed (or piped on stdin), checked: for `enroll` and for `bulk apply`.
pub(super) fn typed() -> Result<Codes, Failure> {
    let typed = ykmfa::terminal::answers(&[PRESS, NEXT]).map_err(|e| {
        let instead =
            "type them, or give them as two lines on stdin: printf '%s\\n' CODE1 CODE2 | ykmfa …";
        super::prompt::failure(e, "two codes", instead)
    })?;
    Codes::parse(&typed[0], &typed[1]).map_err(|e| {
        let fix = "two consecutive codes: press, type the code, wait for the display to change, press again";
        Failure::new(Exit::Usage, e.to_string(), &[fix])
    })
}

fn failure(e: E, user: &str, serial: &HardwareSerial, global: &Global) -> Failure {
    let resync = format!("ykmfa resync --user {user} --hardware-serial {serial}");
    let (code, fix) = match &e {
        E::Iam(e) => return iam_failure(e, global),
        E::UnknownUser { .. } => (Exit::Iam, "check the name (IAM user names are case-sensitive): aws iam list-users".into()),
        E::AlreadyUsers { .. } => (Exit::Iam, format!("nothing to do; if AWS refuses its codes: {resync}")),
        E::NotUsers { .. } => (Exit::Iam, format!("enroll it first: ykmfa enroll --user {user} --hardware-serial {serial}; the user's devices: ykmfa status --user {user}")),
        E::TooManyDevices { .. } => (Exit::Iam, format!("remove an unused device first (ykmfa status --user {user} lists them; ykmfa revoke removes one)")),
        E::CodesRefused(Purpose::Enroll) => (Exit::Iam, format!("wait for the next code, then type two consecutive ones: a code is good only while the display shows it; a token whose clock drifted is put back in step once enabled ({resync})")),
        E::CodesRefused(Purpose::Resync) => (Exit::Iam, format!("type two consecutive codes as the display shows them ({resync}); refused again, the token's clock is too far off or its battery failing: replace it (ykmfa revoke --user {user} --device {serial})")),
        E::UnknownSerial(_) => (Exit::Iam, "check the serial on the back of the token; AWS knows only hardware tokens sold for AWS (Thales)".into()),
        E::InUse(_) => (Exit::Iam, "a hardware token serves one user: deactivate it where it is assigned, or use another token".into()),
        E::Unclear(_) => (Exit::Incomplete, format!("check with: ykmfa status --user {user}; enrolled or not, nobody is locked out")),
    };
    Failure::new(code, e.to_string(), &[&fix])
}
