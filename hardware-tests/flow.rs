//! The hardware tests themselves, apart from `main.rs` so that `flow_on_bench.rs` runs the same
//! code on the bench (virtual YubiKey, local IAM) on every CI run: the flow and its cleanup are
//! exercised there; AWS's and the key's real answers only on the real hardware.

use std::cell::Cell;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_config::BehaviorVersion;
use ykmfa::oath::{Password, Session, TimeStep};
use ykmfa::token::{self, Token};
use ykmfa::transport::pcsc::Context;

use super::gate::{self, Config, PREFIX, USER_PATH};

/// Token credentials the tests write start with this (the label's issuer part).
pub const CREDENTIAL_PREFIX: &str = "ykmfa-hwtest";

/// The tests, by name.
pub const TESTS: [(&str, Test); 3] = [
    (
        "management_applet_serial_is_the_named_one",
        management_serial,
    ),
    (
        "aws_accepts_the_immediate_pair_and_the_next_code_signs_in",
        enroll_and_sign_in,
    ),
    ("a_touch_credential_works_with_a_real_touch", touch),
];

/// Runs every test (the touch test only with a person there); returns (passed, failed, ignored).
pub fn run_all(world: &World) -> (usize, usize, usize) {
    let (mut passed, mut failed, mut ignored) = (0, 0, 0);
    for (name, test) in TESTS {
        if name.contains("touch") && !world.config.touch {
            println!(
                "test {name} ... ignored (set {}=1 and be there to touch the key)",
                gate::TOUCH_VAR
            );
            ignored += 1;
            continue;
        }
        let started = Instant::now();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| test(world)))
            .unwrap_or_else(|_| Err("panicked".into()));
        match outcome {
            Ok(()) => {
                println!(
                    "test {name} ... ok ({:.1} s)",
                    started.elapsed().as_secs_f64()
                );
                passed += 1;
            }
            Err(why) => {
                println!("test {name} ... FAILED: {why}");
                failed += 1;
            }
        }
    }
    (passed, failed, ignored)
}

/// The AWS configuration the tests use: the profile's (or the SDK's usual chain).
pub fn load_sdk(rt: &tokio::runtime::Runtime, config: &Config) -> aws_config::SdkConfig {
    rt.block_on(async {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(p) = &config.profile {
            loader = loader.profile_name(p);
        }
        let sdk = loader.load().await;
        if sdk.region().is_some() {
            return sdk;
        }
        // IAM is global; STS wants some region.
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"));
        if let Some(p) = &config.profile {
            loader = loader.profile_name(p);
        }
        loader.load().await
    })
}

/// One test: Ok, or why it failed.
pub type Test = fn(&World) -> Result<(), String>;

/// The real things under test, checked by the gate.
pub struct World<'rt> {
    rt: &'rt tokio::runtime::Runtime,
    /// What the person named.
    pub config: Config,
    sdk: aws_config::SdkConfig,
    iam: aws_sdk_iam::Client,
    /// Who the credentials are.
    pub caller: String,
    /// Extra environment for the `ykmfa` processes (the bench's endpoint and pcscd).
    ykmfa_env: Vec<(String, String)>,
    /// How a sign-in gets to a time step no code was used in: `None` waits for it (real AWS);
    /// on the bench, this moves the endpoint's clock that many seconds ahead of the host's
    /// ([`World::drive_clock`]).
    move_clock: Option<Box<dyn Fn(u64)>>,
    /// How far ahead of the host's clock the tests' clock is now (seconds; 0 on real AWS).
    ahead: Cell<u64>,
}

impl<'rt> World<'rt> {
    /// Checks the token and the account; refuses (Err) before anything is changed.
    pub fn connect(
        rt: &'rt tokio::runtime::Runtime,
        config: Config,
        sdk: aws_config::SdkConfig,
        ykmfa_env: Vec<(String, String)>,
    ) -> Result<Self, String> {
        let ctx = Context::establish().map_err(|e| format!("PC/SC: {e}"))?;
        let inventory = token::inventory(&ctx).map_err(|e| format!("PC/SC: {e}"))?;
        gate::check_tokens(&config, &inventory)?;
        let sts = aws_sdk_sts::Client::new(&sdk);
        let me = rt.block_on(sts.get_caller_identity().send()).map_err(|e| {
            format!(
                "sts:GetCallerIdentity: {}",
                aws_sdk_sts::error::DisplayErrorContext(e)
            )
        })?;
        let account = me.account().unwrap_or_default().to_owned();
        let caller = me.arn().unwrap_or_default().to_owned();
        gate::check_account(&config, &account, &caller)?;
        Ok(World {
            rt,
            config,
            iam: aws_sdk_iam::Client::new(&sdk),
            sdk,
            caller,
            ykmfa_env,
            move_clock: None,
            ahead: Cell::new(0),
        })
    }

    /// On the bench: a sign-in moves the clocks (the tests' and, through `move_clock`, the
    /// endpoint's) to the next time step instead of waiting for it, and back after. The token
    /// computes a code for whatever step it is given, so the pair and the code are the ones
    /// real time would give, a few seconds sooner.
    pub fn drive_clock(&mut self, move_clock: impl Fn(u64) + 'static) {
        self.move_clock = Some(Box::new(move_clock));
    }

    /// The tests' clock: the host's, plus how far a sign-in moved it on the bench.
    fn now(&self) -> u64 {
        now() + self.ahead.get()
    }

    /// Until a time step after `step` has begun: waits for it, or on the bench moves the clocks
    /// to its start.
    fn reach_step_after(&self, step: u64) {
        match &self.move_clock {
            None => {
                while self.now() / 30 <= step {
                    std::thread::sleep(Duration::from_millis(500));
                }
            }
            Some(move_clock) => {
                let ahead = ((step + 1) * 30).saturating_sub(now());
                if ahead > self.ahead.get() {
                    self.ahead.set(ahead);
                    move_clock(ahead);
                }
            }
        }
    }

    /// Back to the host's clock after a sign-in on the bench (the next enrollment's codes are
    /// checked at real time).
    fn back_to_real_time(&self) {
        if let Some(move_clock) = &self.move_clock {
            self.ahead.set(0);
            move_clock(0);
        }
    }

    /// The one token (the gate made sure it is the only one).
    fn token(&self) -> Result<(Context, Token), String> {
        let ctx = Context::establish().map_err(|e| e.to_string())?;
        let inventory = token::inventory(&ctx).map_err(|e| e.to_string())?;
        gate::check_tokens(&self.config, &inventory)?;
        let token = inventory
            .tokens
            .into_iter()
            .next()
            .ok_or("the token is gone")?;
        Ok((ctx, token))
    }

    /// Runs `f` in an OATH session on the token (unlocked with YKMFA_OATH_PASSWORD if it has a
    /// password).
    fn with_session<R>(
        &self,
        f: impl FnOnce(&mut Session<ykmfa::transport::pcsc::Link<'_>>) -> Result<R, String>,
    ) -> Result<R, String> {
        let (ctx, token) = self.token()?;
        let mut card = ctx.connect(&token.reader).map_err(|e| e.to_string())?;
        let link = card.begin().map_err(|e| e.to_string())?;
        let mut session = Session::open(link).map_err(|e| e.to_string())?;
        if session.has_password() {
            let password = std::env::var("YKMFA_OATH_PASSWORD")
                .map_err(|_| "the OATH applet has a password: set YKMFA_OATH_PASSWORD")?;
            session
                .unlock(&Password::new(password))
                .map_err(|e| e.to_string())?;
        }
        f(&mut session)
    }

    /// Removes everything under the test prefix: IAM users on the test path with their keys and
    /// devices, unassigned test devices, and test credentials on the token.
    pub fn sweep(&self) {
        let users = self.rt.block_on(
            self.iam
                .list_users()
                .path_prefix(USER_PATH)
                .into_paginator()
                .items()
                .send()
                .collect::<Vec<_>>(),
        );
        for user in users.into_iter().flatten() {
            if user.user_name().starts_with(PREFIX) {
                self.remove_user(user.user_name());
            }
        }
        let devices = self.rt.block_on(
            self.iam
                .list_virtual_mfa_devices()
                .assignment_status(aws_sdk_iam::types::AssignmentStatusType::Unassigned)
                .into_paginator()
                .items()
                .send()
                .collect::<Vec<_>>(),
        );
        for device in devices.into_iter().flatten() {
            let serial = device.serial_number();
            if serial.contains(&format!(":mfa/{PREFIX}")) {
                report(
                    "unassigned device",
                    serial,
                    self.rt.block_on(
                        self.iam
                            .delete_virtual_mfa_device()
                            .serial_number(serial)
                            .send(),
                    ),
                );
            }
        }
        let removed = self.with_session(|s| {
            let mut removed = Vec::new();
            for c in s.list().map_err(|e| e.to_string())? {
                let name = c.id.to_string();
                if name.starts_with(CREDENTIAL_PREFIX) {
                    s.delete(&c.raw_id).map_err(|e| e.to_string())?;
                    removed.push(name);
                }
            }
            Ok(removed)
        });
        match removed {
            Ok(names) => names.iter().for_each(|n| println!("cleanup: removed credential '{n}' from the token")),
            Err(e) => eprintln!("cleanup: could not clean the token: {e} (ykman oath accounts list; delete what starts with {CREDENTIAL_PREFIX})"),
        }
    }

    /// A test user, its MFA devices (deactivated, deleted) and access keys, then the user.
    fn remove_user(&self, user: &str) {
        let iam = &self.iam;
        let devices = self
            .rt
            .block_on(iam.list_mfa_devices().user_name(user).send());
        for d in devices.map(|d| d.mfa_devices).unwrap_or_default() {
            let serial = d.serial_number();
            report(
                "the assignment of",
                serial,
                self.rt.block_on(
                    iam.deactivate_mfa_device()
                        .user_name(user)
                        .serial_number(serial)
                        .send(),
                ),
            );
            report(
                "device",
                serial,
                self.rt
                    .block_on(iam.delete_virtual_mfa_device().serial_number(serial).send()),
            );
        }
        let keys = self
            .rt
            .block_on(iam.list_access_keys().user_name(user).send());
        for k in keys.map(|k| k.access_key_metadata).unwrap_or_default() {
            let id = k.access_key_id().unwrap_or_default();
            report(
                "access key of",
                user,
                self.rt.block_on(
                    iam.delete_access_key()
                        .user_name(user)
                        .access_key_id(id)
                        .send(),
                ),
            );
        }
        report(
            "user",
            user,
            self.rt.block_on(iam.delete_user().user_name(user).send()),
        );
    }
}

fn report<T, E: std::error::Error + 'static>(what: &str, name: &str, r: Result<T, E>) {
    match r {
        Ok(_) => println!("cleanup: removed {what} {name}"),
        Err(e) => eprintln!(
            "cleanup: could not remove {what} {name}: {} (run 'cargo test --test hardware -- --ignored cleanup' again, or remove it in the console)",
            aws_sdk_iam::error::DisplayErrorContext(e)
        ),
    }
}

/// Removes what one test created, however the test ends.
struct Created<'w, 'rt> {
    world: &'w World<'rt>,
    users: Vec<String>,
}

impl Drop for Created<'_, '_> {
    fn drop(&mut self) {
        for user in &self.users {
            self.world.remove_user(user);
        }
        let ours: Vec<String> = self.users.iter().map(|u| label(u)).collect();
        let removed = self.world.with_session(|s| {
            for c in s.list().map_err(|e| e.to_string())? {
                if ours.contains(&c.id.to_string()) {
                    s.delete(&c.raw_id).map_err(|e| e.to_string())?;
                    println!("cleanup: removed credential '{}' from the token", c.id);
                }
            }
            Ok(())
        });
        if let Err(e) = removed {
            eprintln!("cleanup: could not clean the token: {e}; delete with: ykman oath accounts delete {CREDENTIAL_PREFIX}");
        }
    }
}

fn label(user: &str) -> String {
    format!("{CREDENTIAL_PREFIX}:{user}")
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

fn management_serial(world: &World) -> Result<(), String> {
    let (_ctx, token) = world.token()?;
    let serial = token.serial.ok_or("the token reported no serial")?;
    if serial.0 != world.config.serial {
        return Err(format!("the token reports serial {serial}"));
    }
    // The serial came from the Management applet's READ CONFIG, with the firmware version.
    let firmware = token
        .firmware
        .ok_or("the Management applet reported no firmware version")?;
    println!(
        "  {} firmware {firmware}, OATH {}",
        token.describe(),
        token.oath_version
    );
    // ykman, the reference client, reads the same serial (where it is installed).
    match Command::new("ykman").args(["list", "--serials"]).output() {
        Ok(out) if out.status.success() => {
            let listed = String::from_utf8_lossy(&out.stdout);
            if !listed.lines().any(|l| l.trim() == serial.to_string()) {
                return Err(format!("ykman lists {listed:?}, not {serial}"));
            }
        }
        _ => println!("  (ykman not available: serial not cross-checked)"),
    }
    Ok(())
}

/// A fresh IAM user on the test path, with an access key for signing in.
fn new_user(
    world: &World,
    created: &mut Created,
) -> Result<(String, aws_credential_types::Credentials), String> {
    let user = format!("{PREFIX}{:08x}", rand::random::<u32>());
    let iam = &world.iam;
    world
        .rt
        .block_on(iam.create_user().user_name(&user).path(USER_PATH).send())
        .map_err(|e| {
            format!(
                "iam:CreateUser: {}",
                aws_sdk_iam::error::DisplayErrorContext(e)
            )
        })?;
    created.users.push(user.clone());
    let key = world
        .rt
        .block_on(iam.create_access_key().user_name(&user).send())
        .map_err(|e| {
            format!(
                "iam:CreateAccessKey: {}",
                aws_sdk_iam::error::DisplayErrorContext(e)
            )
        })?;
    let key = key.access_key().ok_or("no access key returned")?;
    let credentials = aws_credential_types::Credentials::new(
        key.access_key_id(),
        key.secret_access_key(),
        None,
        None,
        "ykmfa-hardware-test",
    );
    // IAM is eventually consistent: wait until the user is visible before enrolling it.
    let deadline = Instant::now() + Duration::from_secs(30);
    while world
        .rt
        .block_on(iam.get_user().user_name(&user).send())
        .is_err()
    {
        if Instant::now() > deadline {
            return Err(format!("user {user} not visible after 30 s"));
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    Ok((user, credentials))
}

/// `ykmfa enroll --json` for the user; returns the device ARN and whether ykmfa had to wait
/// for fresh steps (AWS refused the immediate pair).
fn enroll(world: &World, user: &str, touch: bool) -> Result<(String, bool), String> {
    let serial = world.config.serial.to_string();
    let label = label(user);
    let mut args = vec![
        "enroll", "--user", user, "--serial", &serial, "--label", &label, "--json", "--wait", "0",
    ];
    if touch {
        args.push("--touch");
    }
    if let Some(p) = &world.config.profile {
        args.extend(["--profile", p]);
    }
    let out = Command::new(env!("CARGO_BIN_EXE_ykmfa"))
        .args(&args)
        .envs(world.ykmfa_env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run ykmfa: {e}"))?;
    if !out.status.success() {
        return Err(format!("ykmfa enroll exited with {:?}", out.status.code()));
    }
    let doc: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("ykmfa's JSON: {e}"))?;
    let arn = doc["enrolled"]["device_serial"]
        .as_str()
        .ok_or_else(|| format!("no device_serial in {doc}"))?
        .to_owned();
    let waited = doc["enrolled"]["waited_for_fresh_codes"]
        .as_bool()
        .ok_or_else(|| format!("no waited_for_fresh_codes in {doc}"))?;
    Ok((arn, waited))
}

/// Signs in as the user with a code from the token (`sts:GetSessionToken`), waiting first for
/// a step the enrollment did not use (AWS refuses a code twice). New access keys take a few
/// seconds to work: each retry uses a fresh step.
fn sign_in(
    world: &World,
    user: &str,
    arn: &str,
    credentials: aws_credential_types::Credentials,
    after: u64,
    touch: bool,
) -> Result<(), String> {
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(&world.sdk)
            .credentials_provider(credentials)
            .build(),
    );
    let label = label(user);
    let signed_in = sign_in_at_fresh_steps(world, user, arn, &sts, &label, after, touch);
    world.back_to_real_time();
    signed_in
}

/// [`sign_in`]'s attempts, each at a time step after the last one used.
fn sign_in_at_fresh_steps(
    world: &World,
    user: &str,
    arn: &str,
    sts: &aws_sdk_sts::Client,
    label: &str,
    after: u64,
    touch: bool,
) -> Result<(), String> {
    let mut last_step = after / 30;
    for attempt in 1..=6 {
        world.reach_step_after(last_step);
        let step = TimeStep::at(world.now(), 30);
        last_step = step.0;
        if touch {
            eprintln!("Touch the YubiKey now (a code for signing in)...");
        }
        let code = world.with_session(|s| {
            let credential = s
                .list()
                .map_err(|e| e.to_string())?
                .into_iter()
                .find(|c| c.id.to_string() == label)
                .ok_or_else(|| format!("'{label}' is not on the token"))?;
            s.calculate(&credential.raw_id, step, 30)
                .map_err(|e| e.to_string())
        })?;
        let answer = world.rt.block_on(
            sts.get_session_token()
                .serial_number(arn)
                .token_code(&code.value)
                .duration_seconds(900)
                .send(),
        );
        match answer {
            Ok(session) if session.credentials().is_some() => {
                println!("  signed in as {user} with a code from the token (attempt {attempt})");
                return Ok(());
            }
            Ok(_) => return Err("GetSessionToken returned no credentials".into()),
            Err(e) => {
                let text = aws_sdk_sts::error::DisplayErrorContext(&e).to_string();
                // A new key not yet known everywhere; anything else is an answer.
                if text.contains("InvalidClientTokenId") && attempt < 6 {
                    println!("  the new access key is not active yet; retrying at the next step");
                    continue;
                }
                return Err(format!(
                    "sts:GetSessionToken refused the token's code: {text}"
                ));
            }
        }
    }
    Err("the access key never became active".into())
}

fn enroll_and_sign_in(world: &World) -> Result<(), String> {
    let mut created = Created {
        world,
        users: Vec::new(),
    };
    let (user, credentials) = new_user(world, &mut created)?;
    let (arn, waited) = enroll(world, &user, false)?;
    let enrolled_at = now();
    if !arn.contains(&format!(":mfa/{PREFIX}")) {
        return Err(format!("unexpected device {arn}"));
    }
    if waited {
        return Err(
            "AWS refused the T-1/T pair computed at once; ykmfa fell back to fresh steps".into(),
        );
    }
    println!("  AWS accepted the immediate T-1/T pair for {arn}");
    sign_in(world, &user, &arn, credentials, enrolled_at, false)
}

fn touch(world: &World) -> Result<(), String> {
    let mut created = Created {
        world,
        users: Vec::new(),
    };
    let (user, credentials) = new_user(world, &mut created)?;
    eprintln!("Touch test: touch the YubiKey each time it blinks (twice while enrolling, once to sign in).");
    let (arn, _) = enroll(world, &user, true)?;
    let enrolled_at = now();
    sign_in(world, &user, &arn, credentials, enrolled_at, true)
}
