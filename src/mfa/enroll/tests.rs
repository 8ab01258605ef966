//! The enrollment transaction against in-memory fakes that fail on command: an IAM account
//! ([`FakeDirectory`]), a token ([`FakeCard`]), a clock and a progress recorder.
//!
//! Every test looks at what is left in both fakes, not only at the error: rule 2 of the design
//! ("nothing is half-done") is about the state of IAM and of the token after a failure.
//!
//! The fake IAM checks codes as AWS does (two consecutive TOTP codes from the device's seed, the
//! second for a step next to the current one), computed with `totp-rs`; the fake token computes
//! its codes with its own HMAC. Enabling succeeds only when the two agree.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::*;
use crate::iam::{
    AssignmentStatus, CallerIdentity, CreatedDevice, MfaDevice, PasswordPolicy, User,
    VirtualMfaDevice,
};
use crate::mfa::labels::AWS_ISSUER;
use crate::oath::{Algorithm, Credential, OathType};
use crate::seed::Seed;
use crate::token::Serial;
use crate::transport::TransportError;

const ACCOUNT: &str = "123456789012";
/// Mid-step, so that T-1 and T are unambiguous.
const T0: u64 = 1_700_000_015;
const TOKEN_TAG: &str = "yk12345678";
const TOKEN_SERIAL: u32 = 12_345_678;
const DEVICE: &str = "alice-yk12345678";
const ARN: &str = "arn:aws:iam::123456789012:mfa/alice-yk12345678";
const LABEL: &str = "Amazon Web Services:alice@123456789012";

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:mfa/{name}")
}

/// The code AWS expects for `step`, computed independently of the token's arithmetic.
fn totp(seed: &[u8], step: u64) -> String {
    totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 0, 30, seed.to_vec())
        .generate(step * 30)
}

// ---------------------------------------------------------------------------------------------
// Clock and progress

/// A clock that stands still, or moves `tick` seconds each time it is read (so that waiting for
/// a fresh time step, which polls the clock, ends after a few polls).
struct FakeClock {
    now: AtomicU64,
    tick: u64,
}

impl FakeClock {
    fn fixed(at: u64) -> Arc<Self> {
        Arc::new(FakeClock {
            now: AtomicU64::new(at),
            tick: 0,
        })
    }

    fn advancing(from: u64, tick: u64) -> Arc<Self> {
        Arc::new(FakeClock {
            now: AtomicU64::new(from),
            tick,
        })
    }
}

impl Clock for FakeClock {
    fn now(&self) -> u64 {
        self.now.fetch_add(self.tick, Ordering::SeqCst)
    }
}

/// Records every event as its `Debug` text; can cancel when a given event comes.
#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<String>>,
    cancel_on: Mutex<Option<(&'static str, Cancel)>>,
}

impl Recorder {
    fn events(&self) -> Vec<String> {
        lock(&self.events).clone()
    }

    fn saw(&self, prefix: &str) -> bool {
        self.events().iter().any(|e| e.starts_with(prefix))
    }
}

impl Progress for Recorder {
    fn event(&self, event: Event<'_>) {
        let text = format!("{event:?}");
        if let Some((prefix, cancel)) = &*lock(&self.cancel_on) {
            if text.starts_with(prefix) {
                cancel.cancel();
            }
        }
        lock(&self.events).push(text);
    }
}

// ---------------------------------------------------------------------------------------------
// The fake IAM account

/// The IAM and STS actions of [`Directory`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    GetCallerIdentity,
    ListAccountAliases,
    GetUser,
    ListUsers,
    GetLoginProfile,
    ListMfaDevices,
    ListVirtualMfaDevices,
    Create,
    Enable,
    Resync,
    Deactivate,
    Delete,
    Tag,
    ListTags,
    GetAccountSummary,
    GetAccountPasswordPolicy,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::GetCallerIdentity => "sts:GetCallerIdentity",
            Action::ListAccountAliases => "iam:ListAccountAliases",
            Action::GetUser => "iam:GetUser",
            Action::ListUsers => "iam:ListUsers",
            Action::GetLoginProfile => "iam:GetLoginProfile",
            Action::ListMfaDevices => "iam:ListMFADevices",
            Action::ListVirtualMfaDevices => "iam:ListVirtualMFADevices",
            Action::Create => "iam:CreateVirtualMFADevice",
            Action::Enable => "iam:EnableMFADevice",
            Action::Resync => "iam:ResyncMFADevice",
            Action::Deactivate => "iam:DeactivateMFADevice",
            Action::Delete => "iam:DeleteVirtualMFADevice",
            Action::Tag => "iam:TagMFADevice",
            Action::ListTags => "iam:ListMFADeviceTags",
            Action::GetAccountSummary => "iam:GetAccountSummary",
            Action::GetAccountPasswordPolicy => "iam:GetAccountPasswordPolicy",
        }
    }

    fn writes(self) -> bool {
        matches!(
            self,
            Action::Create
                | Action::Enable
                | Action::Resync
                | Action::Deactivate
                | Action::Delete
                | Action::Tag
        )
    }
}

fn denied(action: Action) -> IamError {
    IamError::AccessDenied {
        action: action.name(),
        message: format!("not authorized to perform: {}", action.name()),
    }
}

fn timeout(action: Action) -> IamError {
    IamError::Timeout {
        action: action.name(),
    }
}

fn service_failure(action: Action) -> IamError {
    IamError::ServiceFailure {
        action: action.name(),
        message: "We encountered an internal error. Please try again.".into(),
    }
}

fn no_such_entity(action: Action, what: &str) -> IamError {
    IamError::NoSuchEntity {
        action: action.name(),
        message: format!("{what} cannot be found"),
    }
}

#[derive(Clone)]
struct Device {
    seed: Vec<u8>,
    tags: Vec<(String, String)>,
    user: Option<String>,
    /// Created by the code under test (not placed there by the test).
    created_by_run: bool,
}

struct Account {
    alias: Option<String>,
    users: BTreeMap<String, User>,
    devices: BTreeMap<String, Device>,
    deny_tagging: bool,
    /// ListMFADevices never shows the devices the run enabled (IAM lagging for good).
    listing_lags: bool,
    seeds_issued: u8,
}

enum When {
    /// The n-th call (from 1) after the fault was armed.
    Nth(usize),
    /// Every call.
    Always,
}

struct Fault {
    action: Action,
    when: When,
    error: IamError,
    /// The operation takes effect, and the caller gets the error anyway (a lost answer).
    applied: bool,
}

struct Hook {
    action: Action,
    nth: usize,
    run: Box<dyn Fn() + Send>,
}

#[derive(Debug, Clone)]
struct Call {
    action: Action,
    args: Vec<String>,
}

struct FakeDirectory {
    account: Arc<Mutex<Account>>,
    faults: Mutex<Vec<Fault>>,
    hooks: Mutex<Vec<Hook>>,
    calls: Mutex<Vec<Call>>,
    clock: Arc<FakeClock>,
}

impl FakeDirectory {
    fn new(clock: Arc<FakeClock>, users: &[&str]) -> Self {
        let users = users
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let user = User {
                    name: (*name).to_owned(),
                    arn: format!("arn:aws:iam::{ACCOUNT}:user/{name}"),
                    user_id: format!("AIDAFAKE{i:012}"),
                    create_date: SystemTime::UNIX_EPOCH,
                };
                ((*name).to_owned(), user)
            })
            .collect();
        FakeDirectory {
            account: Arc::new(Mutex::new(Account {
                alias: None,
                users,
                devices: BTreeMap::new(),
                deny_tagging: false,
                listing_lags: false,
                seeds_issued: 0,
            })),
            faults: Mutex::new(Vec::new()),
            hooks: Mutex::new(Vec::new()),
            calls: Mutex::new(Vec::new()),
            clock,
        }
    }

    // --- arranging

    /// A lost enable landing late: when the `nth` call of `action` from now on arrives, before it
    /// is answered, `serial` becomes assigned to `user`.
    fn assign_on_call(&self, action: Action, nth: usize, serial: &str, user: &str) {
        let (account, serial, user) = (self.account.clone(), serial.to_owned(), user.to_owned());
        self.on_call(action, nth, move || {
            if let Some(d) = lock(&account).devices.get_mut(&serial) {
                d.user = Some(user.clone());
            }
        });
    }

    fn calls_so_far(&self, action: Action) -> usize {
        lock(&self.calls)
            .iter()
            .filter(|c| c.action == action)
            .count()
    }

    /// The `nth` call of `action` from now on fails with `error` and changes nothing.
    fn fail(&self, action: Action, nth: usize, error: IamError) {
        self.arm(
            action,
            When::Nth(self.calls_so_far(action) + nth),
            error,
            false,
        );
    }

    /// The `nth` call of `action` from now on takes effect, but the caller gets `error`.
    fn fail_after_effect(&self, action: Action, nth: usize, error: IamError) {
        self.arm(
            action,
            When::Nth(self.calls_so_far(action) + nth),
            error,
            true,
        );
    }

    /// Every call of `action` fails with `error`.
    fn fail_always(&self, action: Action, error: IamError) {
        self.arm(action, When::Always, error, false);
    }

    fn arm(&self, action: Action, when: When, error: IamError, applied: bool) {
        lock(&self.faults).push(Fault {
            action,
            when,
            error,
            applied,
        });
    }

    /// Runs `run` when the `nth` call of `action` from now on arrives, before it is answered.
    fn on_call(&self, action: Action, nth: usize, run: impl Fn() + Send + 'static) {
        let nth = self.calls_so_far(action) + nth;
        lock(&self.hooks).push(Hook {
            action,
            nth,
            run: Box::new(run),
        });
    }

    fn set_alias(&self, alias: &str) {
        lock(&self.account).alias = Some(alias.to_owned());
    }

    fn deny_tagging(&self) {
        lock(&self.account).deny_tagging = true;
    }

    fn lag_listing(&self) {
        lock(&self.account).listing_lags = true;
    }

    /// A device that exists before the run (someone else's, or the user's other devices).
    fn add_device(&self, name: &str, tags: &[(&str, &str)], user: Option<&str>) -> String {
        let serial = arn(name);
        let seed = (0..20).map(|i| 0xA0 ^ i).collect();
        let tags = tags
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        lock(&self.account).devices.insert(
            serial.clone(),
            Device {
                seed,
                tags,
                user: user.map(str::to_owned),
                created_by_run: false,
            },
        );
        serial
    }

    // --- looking

    fn device(&self, serial: &str) -> Option<Device> {
        lock(&self.account).devices.get(serial).cloned()
    }

    fn serials(&self) -> Vec<String> {
        lock(&self.account).devices.keys().cloned().collect()
    }

    fn calls(&self) -> Vec<Call> {
        lock(&self.calls).clone()
    }

    /// The write actions called, failed or not, in order.
    fn writes(&self) -> Vec<Action> {
        self.calls()
            .into_iter()
            .map(|c| c.action)
            .filter(|a| a.writes())
            .collect()
    }

    fn args_of(&self, action: Action) -> Vec<Vec<String>> {
        self.calls()
            .into_iter()
            .filter(|c| c.action == action)
            .map(|c| c.args)
            .collect()
    }

    // --- answering

    /// Logs the call, runs its hooks, and answers it: an armed fault, or `op` on the account.
    fn answer<T>(
        &self,
        action: Action,
        args: &[&str],
        op: impl FnOnce(&mut Account) -> Result<T, IamError>,
    ) -> Result<T, IamError> {
        let nth = {
            let mut calls = lock(&self.calls);
            calls.push(Call {
                action,
                args: args.iter().map(|a| (*a).to_owned()).collect(),
            });
            calls.iter().filter(|c| c.action == action).count()
        };
        for hook in lock(&self.hooks).iter() {
            if hook.action == action && hook.nth == nth {
                (hook.run)();
            }
        }
        let fault = {
            let mut faults = lock(&self.faults);
            let hit = faults.iter().position(|f| {
                f.action == action
                    && match f.when {
                        When::Nth(n) => n == nth,
                        When::Always => true,
                    }
            });
            match hit {
                Some(i) if matches!(faults[i].when, When::Always) => {
                    let f = &faults[i];
                    Some((f.error.clone(), f.applied))
                }
                Some(i) => {
                    let f = faults.remove(i);
                    Some((f.error, f.applied))
                }
                None => None,
            }
        };
        let mut account = lock(&self.account);
        match fault {
            Some((error, true)) => {
                let _ = op(&mut account);
                Err(error)
            }
            Some((error, false)) => Err(error),
            None => op(&mut account),
        }
    }
}

impl Directory for FakeDirectory {
    async fn caller_identity(&self) -> Result<CallerIdentity, IamError> {
        self.answer(Action::GetCallerIdentity, &[], |_| {
            Ok(CallerIdentity {
                account: ACCOUNT.into(),
                arn: format!("arn:aws:iam::{ACCOUNT}:user/admin"),
                user_id: "AIDAFAKEADMIN".into(),
            })
        })
    }

    async fn server_clock(&self) -> Result<crate::iam::ClockReading, IamError> {
        // AWS's clock is the fake clock; the host's is the same one (no skew).
        let now = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(self.clock.now());
        self.answer(Action::GetCallerIdentity, &[], |_| {
            Ok(crate::iam::ClockReading {
                sent: now,
                received: now,
                server: now,
            })
        })
    }

    async fn account_alias(&self) -> Result<Option<String>, IamError> {
        self.answer(Action::ListAccountAliases, &[], |a| Ok(a.alias.clone()))
    }

    async fn get_user(&self, name: &str) -> Result<User, IamError> {
        self.answer(Action::GetUser, &[name], |a| {
            a.users
                .get(name)
                .cloned()
                .ok_or_else(|| no_such_entity(Action::GetUser, &format!("The user {name}")))
        })
    }

    async fn list_users(&self) -> Result<Vec<User>, IamError> {
        self.answer(Action::ListUsers, &[], |a| {
            Ok(a.users.values().cloned().collect())
        })
    }

    async fn get_login_profile(&self, user: &str) -> Result<bool, IamError> {
        self.answer(Action::GetLoginProfile, &[user], |_| Ok(false))
    }

    async fn list_mfa_devices(&self, user: Option<&str>) -> Result<Vec<MfaDevice>, IamError> {
        let user = user.unwrap_or("admin");
        self.answer(Action::ListMfaDevices, &[user], |a| {
            Ok(a.devices
                .iter()
                .filter(|(_, d)| d.user.as_deref() == Some(user))
                .filter(|(_, d)| !(a.listing_lags && d.created_by_run))
                .map(|(serial, d)| MfaDevice {
                    user: d.user.clone(),
                    serial: serial.clone(),
                    enable_date: Some(SystemTime::UNIX_EPOCH),
                })
                .collect())
        })
    }

    async fn list_virtual_mfa_devices(
        &self,
        status: AssignmentStatus,
    ) -> Result<Vec<VirtualMfaDevice>, IamError> {
        self.answer(Action::ListVirtualMfaDevices, &[], |a| {
            Ok(a.devices
                .iter()
                .filter(|(_, d)| match status {
                    AssignmentStatus::Assigned => d.user.is_some(),
                    AssignmentStatus::Unassigned => d.user.is_none(),
                    AssignmentStatus::Any => true,
                })
                .map(|(serial, d)| VirtualMfaDevice {
                    serial: serial.clone(),
                    user: d.user.clone(),
                    user_arn: d
                        .user
                        .as_ref()
                        .map(|u| format!("arn:aws:iam::{ACCOUNT}:user/{u}")),
                    enable_date: d.user.as_ref().map(|_| SystemTime::UNIX_EPOCH),
                })
                .collect())
        })
    }

    async fn create_virtual_mfa_device(
        &self,
        name: &str,
        path: Option<&str>,
        tags: &[(String, String)],
    ) -> Result<CreatedDevice, IamError> {
        let action = Action::Create;
        let serial = format!("arn:aws:iam::{ACCOUNT}:mfa{}{name}", path.unwrap_or("/"));
        self.answer(action, &[name], |a| {
            if a.devices.contains_key(&serial) {
                return Err(IamError::EntityAlreadyExists {
                    action: action.name(),
                    message: format!(
                        "MFADevice entity at the same path and name already exists: {name}"
                    ),
                });
            }
            if a.deny_tagging && !tags.is_empty() {
                return Err(IamError::TaggingDenied {
                    message: format!("not authorized to perform: iam:TagMFADevice on {serial}"),
                });
            }
            a.seeds_issued += 1;
            let n = a.seeds_issued;
            let seed: Vec<u8> = (0..20u8)
                .map(|i| i.wrapping_mul(37) ^ n.wrapping_mul(101))
                .collect();
            a.devices.insert(
                serial.clone(),
                Device {
                    seed: seed.clone(),
                    tags: tags.to_vec(),
                    user: None,
                    created_by_run: true,
                },
            );
            Ok(CreatedDevice {
                serial: serial.clone(),
                seed: Seed::from_bytes(seed),
            })
        })
    }

    async fn enable_mfa_device(
        &self,
        user: &str,
        serial: &str,
        code1: &str,
        code2: &str,
    ) -> Result<(), IamError> {
        let action = Action::Enable;
        let clock = Arc::clone(&self.clock);
        self.answer(action, &[user, serial, code1, code2], |a| {
            if !a.users.contains_key(user) {
                return Err(no_such_entity(action, &format!("The user {user}")));
            }
            let assigned = a
                .devices
                .values()
                .filter(|d| d.user.as_deref() == Some(user))
                .count();
            let device = a
                .devices
                .get_mut(serial)
                .ok_or_else(|| no_such_entity(action, &format!("MFA device {serial}")))?;
            if device.user.is_some() {
                return Err(IamError::EntityAlreadyExists {
                    action: action.name(),
                    message: "MFA device is already in use".into(),
                });
            }
            if assigned >= MAX_DEVICES_PER_USER {
                return Err(IamError::LimitExceeded {
                    action: action.name(),
                    message: "Cannot exceed quota for UsersPerMFADevice".into(),
                });
            }
            // Two consecutive codes, the second for the current step or one next to it.
            let now = TimeStep::at(clock.now(), 30).0;
            let accepted = [now - 1, now, now + 1]
                .iter()
                .any(|&m| totp(&device.seed, m - 1) == code1 && totp(&device.seed, m) == code2);
            if !accepted {
                return Err(IamError::InvalidAuthenticationCode {
                    action: action.name(),
                    message: "Authentication code for the MFA device is not valid.".into(),
                });
            }
            device.user = Some(user.to_owned());
            Ok(())
        })
    }

    async fn resync_mfa_device(
        &self,
        user: &str,
        serial: &str,
        code1: &str,
        code2: &str,
    ) -> Result<(), IamError> {
        self.answer(Action::Resync, &[user, serial, code1, code2], |_| Ok(()))
    }

    async fn deactivate_mfa_device(
        &self,
        user: Option<&str>,
        serial: &str,
    ) -> Result<(), IamError> {
        let action = Action::Deactivate;
        let user = user.unwrap_or("admin");
        self.answer(action, &[user, serial], |a| {
            match a.devices.get_mut(serial) {
                Some(d) if d.user.as_deref() == Some(user) => {
                    d.user = None;
                    Ok(())
                }
                _ => Err(no_such_entity(
                    action,
                    &format!("MFA device {serial} assigned to {user}"),
                )),
            }
        })
    }

    async fn delete_virtual_mfa_device(&self, serial: &str) -> Result<(), IamError> {
        let action = Action::Delete;
        self.answer(action, &[serial], |a| match a.devices.get(serial) {
            None => Err(no_such_entity(
                action,
                &format!("VirtualMFADevice {serial}"),
            )),
            Some(d) if d.user.is_some() => Err(IamError::DeleteConflict {
                action: action.name(),
                message: "MFA Device is still in use".into(),
            }),
            Some(_) => {
                a.devices.remove(serial);
                Ok(())
            }
        })
    }

    async fn tag_mfa_device(
        &self,
        serial: &str,
        tags: &[(String, String)],
    ) -> Result<(), IamError> {
        let action = Action::Tag;
        self.answer(action, &[serial], |a| {
            let d = a
                .devices
                .get_mut(serial)
                .ok_or_else(|| no_such_entity(action, &format!("MFA device {serial}")))?;
            for (k, v) in tags {
                d.tags.retain(|(key, _)| key != k);
                d.tags.push((k.clone(), v.clone()));
            }
            Ok(())
        })
    }

    async fn list_mfa_device_tags(&self, serial: &str) -> Result<Vec<(String, String)>, IamError> {
        let action = Action::ListTags;
        self.answer(action, &[serial], |a| {
            a.devices
                .get(serial)
                .map(|d| d.tags.clone())
                .ok_or_else(|| no_such_entity(action, &format!("MFA device {serial}")))
        })
    }

    async fn get_account_summary(&self) -> Result<HashMap<String, i32>, IamError> {
        self.answer(Action::GetAccountSummary, &[], |a| {
            let users = i32::try_from(a.users.len()).unwrap_or(i32::MAX);
            Ok(HashMap::from([
                ("Users".to_owned(), users),
                ("AccountMFAEnabled".to_owned(), 0),
            ]))
        })
    }

    async fn get_account_password_policy(&self) -> Result<Option<PasswordPolicy>, IamError> {
        self.answer(Action::GetAccountPasswordPolicy, &[], |_| Ok(None))
    }

    // Enrollment never asks the policy simulator; the fake says so if anything does.
    async fn role_arn(&self, _name: &str) -> Result<String, IamError> {
        Err(IamError::InvalidInput(
            "the enrollment fake has no roles".into(),
        ))
    }

    async fn simulate_principal_policy(
        &self,
        _principal_arn: &str,
        _actions: &[String],
        _resource: &str,
        _context: &[(String, String)],
    ) -> Result<Vec<crate::iam::PolicyDecision>, IamError> {
        Err(IamError::InvalidInput(
            "the enrollment fake has no policy simulator".into(),
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// The fake token

/// Where in SELECT, PUT, CALCULATE, CALCULATE a write fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WriteStage {
    /// Refused before PUT: nothing written.
    BeforePut,
    /// PUT sent, answer lost: the credential is on the token.
    AfterPut,
    /// The first CALCULATE fails (the credential is on the token).
    Calculate1,
    /// The second CALCULATE fails.
    Calculate2,
}

struct Stored {
    key: Vec<u8>,
    digits: u8,
    touch: bool,
}

#[derive(Default)]
struct CardState {
    credentials: BTreeMap<Vec<u8>, Stored>,
    capacity: Option<usize>,
    /// Pulled out: every operation fails with `CardRemoved` until plugged back.
    removed: bool,
    write_fault: Option<(WriteStage, fn() -> oath::Error)>,
    /// Faults of `calculate`, by call number from 1.
    calculate_faults: Vec<(usize, fn() -> oath::Error)>,
    calculate_calls: usize,
    /// Every delete fails with this.
    delete_fault: Option<fn() -> oath::Error>,
    cancel_on_write: Option<Cancel>,
    ops: Vec<String>,
}

/// A YubiKey in memory. Clones share the token, so a test keeps one to look at and to pull the
/// token out while the enrollment holds the other.
#[derive(Clone)]
struct FakeCard(Arc<Mutex<CardState>>);

fn card_removed() -> oath::Error {
    oath::Error::Transport(TransportError::CardRemoved)
}

impl FakeCard {
    fn new(capacity: Option<usize>) -> Self {
        FakeCard(Arc::new(Mutex::new(CardState {
            capacity,
            ..CardState::default()
        })))
    }

    fn state(&self) -> MutexGuard<'_, CardState> {
        lock(&self.0)
    }

    fn add(&self, name: &str) {
        self.state().credentials.insert(
            name.as_bytes().to_vec(),
            Stored {
                key: b"someone else's seed".to_vec(),
                digits: 6,
                touch: false,
            },
        );
    }

    /// A credential with this secret (the one a record's fingerprint was taken of).
    fn add_key(&self, name: &str, key: &[u8]) {
        self.state().credentials.insert(
            name.as_bytes().to_vec(),
            Stored {
                key: key.to_vec(),
                digits: 6,
                touch: false,
            },
        );
    }

    fn fail_write(&self, stage: WriteStage, error: fn() -> oath::Error) {
        self.state().write_fault = Some((stage, error));
    }

    fn fail_calculate(&self, nth: usize, error: fn() -> oath::Error) {
        let mut s = self.state();
        let nth = s.calculate_calls + nth;
        s.calculate_faults.push((nth, error));
    }

    fn fail_deletes(&self, error: fn() -> oath::Error) {
        self.state().delete_fault = Some(error);
    }

    fn cancel_on_write(&self, cancel: &Cancel) {
        self.state().cancel_on_write = Some(cancel.clone());
    }

    fn pull_out(&self) {
        self.state().removed = true;
    }

    fn names(&self) -> Vec<String> {
        self.state()
            .credentials
            .keys()
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .collect()
    }

    fn key(&self, name: &str) -> Option<Vec<u8>> {
        self.state()
            .credentials
            .get(name.as_bytes())
            .map(|c| c.key.clone())
    }

    fn touch(&self, name: &str) -> Option<bool> {
        self.state()
            .credentials
            .get(name.as_bytes())
            .map(|c| c.touch)
    }

    fn ops(&self) -> Vec<String> {
        self.state().ops.clone()
    }

    fn did(&self, op: &str) -> bool {
        self.ops().iter().any(|o| o.starts_with(op))
    }
}

impl CardState {
    /// An error the token gives; `CardRemoved` also means it is out of the reader from now on.
    fn fails(&mut self, error: oath::Error) -> oath::Error {
        if matches!(error, oath::Error::Transport(TransportError::CardRemoved)) {
            self.removed = true;
        }
        error
    }

    fn present(&self) -> Result<(), oath::Error> {
        if self.removed {
            Err(card_removed())
        } else {
            Ok(())
        }
    }

    fn code(&self, raw_id: &[u8], step: TimeStep) -> Result<Code, oath::Error> {
        let stored = self.credentials.get(raw_id).ok_or_else(|| {
            oath::Error::NoSuchCredential(String::from_utf8_lossy(raw_id).into_owned())
        })?;
        let mut mac = Hmac::<Sha1>::new_from_slice(&stored.key)
            .map_err(|_| oath::Error::Malformed("HMAC key"))?;
        mac.update(&step.0.to_be_bytes());
        let h = mac.finalize().into_bytes();
        // RFC 4226 dynamic truncation; the applet answers the 4 bytes, the host masks and reduces.
        let at = usize::from(h[19] & 0x0F);
        let answer = [stored.digits, h[at], h[at + 1], h[at + 2], h[at + 3]];
        Code::from_truncated(&answer, step, 30)
    }
}

impl Card for FakeCard {
    fn write_and_calculate(
        &mut self,
        data: &CredentialData,
        steps: [TimeStep; 2],
    ) -> Result<[Code; 2], WriteError> {
        let mut s = self.state();
        s.ops.push(format!("write {}", data.id));
        let fault = s.write_fault.take();
        let at = |stage| fault.filter(|(st, _)| *st == stage).map(|(_, e)| e());
        s.present().map_err(WriteError::NotWritten)?;
        if let Some(e) = at(WriteStage::BeforePut) {
            return Err(WriteError::NotWritten(s.fails(e)));
        }
        let raw = data.id.to_bytes();
        if s.credentials.contains_key(&raw) {
            return Err(WriteError::NotWritten(oath::Error::CredentialExists(
                data.id.to_string(),
            )));
        }
        if s.capacity.is_some_and(|c| s.credentials.len() >= c) {
            return Err(WriteError::NotWritten(oath::Error::NoSpace));
        }
        s.credentials.insert(
            raw.clone(),
            Stored {
                key: data.secret.expose().to_vec(),
                digits: data.digits,
                touch: data.touch,
            },
        );
        if let Some(e) = at(WriteStage::AfterPut) {
            return Err(WriteError::MaybeWritten(s.fails(e)));
        }
        if let Some(cancel) = &s.cancel_on_write {
            cancel.cancel();
        }
        if let Some(e) = at(WriteStage::Calculate1) {
            return Err(WriteError::MaybeWritten(s.fails(e)));
        }
        let first = s.code(&raw, steps[0]).map_err(WriteError::MaybeWritten)?;
        if let Some(e) = at(WriteStage::Calculate2) {
            return Err(WriteError::MaybeWritten(s.fails(e)));
        }
        let second = s.code(&raw, steps[1]).map_err(WriteError::MaybeWritten)?;
        Ok([first, second])
    }

    fn calculate(&mut self, raw_id: &[u8], step: TimeStep) -> Result<Code, oath::Error> {
        let mut s = self.state();
        s.ops.push(format!(
            "calculate {} {}",
            String::from_utf8_lossy(raw_id),
            step.0
        ));
        s.present()?;
        s.calculate_calls += 1;
        let n = s.calculate_calls;
        if let Some(i) = s.calculate_faults.iter().position(|(k, _)| *k == n) {
            let (_, e) = s.calculate_faults.remove(i);
            return Err(s.fails(e()));
        }
        s.code(raw_id, step)
    }

    fn delete(&mut self, raw_id: &[u8]) -> Result<(), oath::Error> {
        let mut s = self.state();
        s.ops
            .push(format!("delete {}", String::from_utf8_lossy(raw_id)));
        s.present()?;
        if let Some(e) = s.delete_fault {
            return Err(s.fails(e()));
        }
        s.credentials.remove(raw_id);
        Ok(())
    }

    fn prove(
        &mut self,
        raw_id: &[u8],
        fingerprint: &oath::Fingerprint,
    ) -> Result<oath::Proof, oath::Error> {
        let mut s = self.state();
        s.ops
            .push(format!("prove {}", String::from_utf8_lossy(raw_id)));
        s.present()?;
        let stored = s.credentials.get(raw_id).ok_or_else(|| {
            oath::Error::NoSuchCredential(String::from_utf8_lossy(raw_id).into_owned())
        })?;
        let mut mac = Hmac::<Sha1>::new_from_slice(&stored.key)
            .map_err(|_| oath::Error::Malformed("HMAC key"))?;
        mac.update(&fingerprint.challenge());
        Ok(fingerprint.compare(&mac.finalize().into_bytes()))
    }

    fn list(&mut self) -> Result<Vec<Credential>, oath::Error> {
        let mut s = self.state();
        s.ops.push("list".into());
        s.present()?;
        Ok(s.credentials
            .keys()
            .map(|raw| Credential {
                id: CredentialId::parse(raw, OathType::Totp),
                raw_id: raw.clone(),
                oath_type: OathType::Totp,
                algorithm: Some(Algorithm::Sha1),
                touch: None,
            })
            .collect())
    }

    fn describe(&self) -> String {
        format!("YubiKey {TOKEN_SERIAL}")
    }

    fn serial(&self) -> Option<Serial> {
        Some(Serial(TOKEN_SERIAL))
    }

    fn capacity(&self) -> Option<usize> {
        self.state().capacity
    }

    fn kind(&self) -> String {
        "YubiKey".into()
    }
}

// ---------------------------------------------------------------------------------------------
// The world a test runs in

struct World {
    dir: FakeDirectory,
    card: FakeCard,
    clock: Arc<FakeClock>,
    progress: Recorder,
    cancel: Cancel,
}

impl World {
    fn new() -> Self {
        Self::with_clock(FakeClock::fixed(T0))
    }

    fn with_clock(clock: Arc<FakeClock>) -> Self {
        World {
            dir: FakeDirectory::new(Arc::clone(&clock), &["alice", "bob"]),
            card: FakeCard::new(Some(32)),
            clock,
            progress: Recorder::default(),
            cancel: Cancel::default(),
        }
    }

    async fn preflight(&self, user: &str) -> Result<Plan, Cause> {
        self.preflight_with(user, false).await
    }

    async fn preflight_with(&self, user: &str, touch: bool) -> Result<Plan, Cause> {
        let req = Request {
            user: UserName::parse(user).expect("valid user name"),
            device_name: None,
            label: None,
            touch,
            tags: Vec::new(),
        };
        preflight(&self.dir, &mut self.card.clone(), TOKEN_TAG, &req).await
    }

    async fn plan(&self) -> Plan {
        self.preflight("alice").await.expect("preflight passes")
    }

    async fn enroll(&self, plan: &Plan) -> Result<Enrolled, Box<Failure>> {
        enroll(
            &self.dir,
            &mut self.card.clone(),
            plan,
            &*self.clock,
            &self.progress,
            &self.cancel,
        )
        .await
    }

    async fn fail(&self, plan: &Plan) -> Failure {
        *self.enroll(plan).await.expect_err("the enrollment fails")
    }

    /// IAM has no device and the token no credential: as before the run.
    fn assert_untouched(&self) {
        assert_eq!(
            self.dir.serials(),
            Vec::<String>::new(),
            "devices left in IAM"
        );
        assert_eq!(
            self.card.names(),
            Vec::<String>::new(),
            "credentials left on the token"
        );
    }
}

fn undone_device(serial: &str) -> String {
    format!("deleted virtual MFA device {serial}")
}

fn undone_credential() -> String {
    format!("deleted credential '{LABEL}' from YubiKey {TOKEN_SERIAL}")
}

fn undone_assignment() -> String {
    format!("deactivated {ARN} for alice")
}

// ---------------------------------------------------------------------------------------------
// The whole transaction

#[tokio::test(flavor = "multi_thread")]
async fn enrolls_with_the_codes_of_the_previous_and_current_step() {
    let w = World::new();
    let plan = w.plan().await;
    assert_eq!(plan.device_name, DEVICE);
    assert_eq!(plan.credential, LABEL);
    assert_eq!(plan.devices_before, 0);
    let done = w.enroll(&plan).await.expect("enrolled");

    assert_eq!(done.device_serial, ARN);
    assert_eq!(done.user, "alice");
    assert_eq!(done.credential, LABEL);
    assert_eq!(done.token_serial, Some(Serial(TOKEN_SERIAL)));
    assert!(done.tagged);
    assert!(!done.waited_for_fresh_codes);

    // IAM: one device, assigned to alice, with ykmfa's tags.
    assert_eq!(w.dir.serials(), [ARN]);
    let device = w.dir.device(ARN).expect("device");
    assert_eq!(device.user.as_deref(), Some("alice"));
    let tag = |k: &str| {
        device
            .tags
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(tag(TAG_CREDENTIAL), Some(LABEL));
    assert_eq!(tag(TAG_TOKEN_SERIAL), Some("12345678"));
    assert_eq!(tag(TAG_TOKEN_KIND), Some("YubiKey"));

    // The token: the credential, holding the device's seed, no touch.
    assert_eq!(w.card.names(), [LABEL]);
    assert_eq!(w.card.key(LABEL).as_deref(), Some(device.seed.as_slice()));
    assert_eq!(w.card.touch(LABEL), Some(false));

    // Exactly two IAM writes, and the codes were those of steps T-1 and T.
    assert_eq!(w.dir.writes(), [Action::Create, Action::Enable]);
    let t = T0 / 30;
    assert_eq!(
        w.dir.args_of(Action::Enable),
        [vec![
            "alice".to_owned(),
            ARN.to_owned(),
            totp(&device.seed, t - 1),
            totp(&device.seed, t),
        ]]
    );
    assert!(!w.card.did("calculate"), "no code beyond the write's two");
    assert!(!w.progress.saw("WaitingForStep"));
    assert!(!w.progress.saw("RollingBack"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_create_changes_nothing() {
    let w = World::new();
    let plan = w.plan().await;
    w.dir.fail(Action::Create, 1, denied(Action::Create));
    let failure = w.fail(&plan).await;

    assert!(matches!(
        failure.cause,
        Cause::Iam {
            step: Step::Create,
            error: IamError::AccessDenied { .. }
        }
    ));
    assert!(failure.undone.is_empty());
    assert!(failure.leftovers.is_empty());
    w.assert_untouched();
    assert_eq!(w.dir.writes(), [Action::Create]);
    assert!(!w.card.did("write"));
    assert!(!w.progress.saw("RollingBack"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timed_out_create_is_undone_by_arn_whether_or_not_it_happened() {
    for took_effect in [true, false] {
        let w = World::new();
        let plan = w.plan().await;
        if took_effect {
            w.dir
                .fail_after_effect(Action::Create, 1, timeout(Action::Create));
        } else {
            w.dir.fail(Action::Create, 1, timeout(Action::Create));
        }
        let failure = w.fail(&plan).await;

        assert!(
            matches!(
                failure.cause,
                Cause::Iam {
                    step: Step::Create,
                    error: IamError::Timeout { .. }
                }
            ),
            "{took_effect}: {:?}",
            failure.cause
        );
        assert_eq!(failure.undone, [undone_device(ARN)], "{took_effect}");
        assert!(failure.leftovers.is_empty(), "{took_effect}");
        w.assert_untouched();
        assert_eq!(w.dir.writes(), [Action::Create, Action::Delete]);
        assert_eq!(w.dir.args_of(Action::Delete), [vec![ARN.to_owned()]]);
        assert!(!w.card.did("write"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_refused_before_put_undoes_only_the_device() {
    let w = World::new();
    let plan = w.plan().await;
    w.card
        .fail_write(WriteStage::BeforePut, || oath::Error::Locked);
    let failure = w.fail(&plan).await;

    assert!(matches!(
        failure.cause,
        Cause::Card {
            step: Step::Write,
            error: oath::Error::Locked
        }
    ));
    assert_eq!(failure.undone, [undone_device(ARN)]);
    assert!(failure.leftovers.is_empty());
    w.assert_untouched();
    assert!(
        !w.card.did("delete"),
        "nothing was written, nothing to delete"
    );
    assert_eq!(w.dir.writes(), [Action::Create, Action::Delete]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_credential_that_appeared_since_preflight_is_neither_overwritten_nor_deleted() {
    let w = World::new();
    let plan = w.plan().await;
    w.card.add(LABEL);
    let failure = w.fail(&plan).await;

    assert!(matches!(
        failure.cause,
        Cause::Card {
            step: Step::Write,
            error: oath::Error::CredentialExists(_)
        }
    ));
    assert_eq!(failure.undone, [undone_device(ARN)]);
    assert!(w.dir.serials().is_empty());
    assert_eq!(
        w.card.key(LABEL).as_deref(),
        Some(&b"someone else's seed"[..])
    );
    assert!(!w.card.did("delete"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_failing_after_put_deletes_the_credential() {
    let w = World::new();
    let plan = w.plan().await;
    w.card.fail_write(WriteStage::AfterPut, || {
        oath::Error::Malformed("answer cut short")
    });
    let failure = w.fail(&plan).await;

    assert!(matches!(
        failure.cause,
        Cause::Card {
            step: Step::Write,
            error: oath::Error::Malformed(_)
        }
    ));
    assert_eq!(failure.undone, [undone_device(ARN), undone_credential()]);
    assert!(failure.leftovers.is_empty());
    w.assert_untouched();
    assert!(w.card.did(&format!("delete {LABEL}")));
    assert_eq!(w.dir.writes(), [Action::Create, Action::Delete]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_calculate_deletes_the_credential() {
    let errors: [(fn() -> oath::Error, bool); 2] = [
        (|| oath::Error::TouchTimeout, true),
        (
            || oath::Error::Malformed("truncated response is not 5 bytes"),
            false,
        ),
    ];
    for stage in [WriteStage::Calculate1, WriteStage::Calculate2] {
        for (error, is_touch) in errors {
            let w = World::new();
            let plan = w.plan().await;
            w.card.fail_write(stage, error);
            let failure = w.fail(&plan).await;

            let Cause::Card { step, error } = &failure.cause else {
                panic!("{stage:?}: {:?}", failure.cause);
            };
            if is_touch {
                assert_eq!(*step, Step::Calculate, "{stage:?}");
                assert!(matches!(error, oath::Error::TouchTimeout));
            }
            assert_eq!(
                failure.undone,
                [undone_device(ARN), undone_credential()],
                "{stage:?}"
            );
            assert!(failure.leftovers.is_empty(), "{stage:?}");
            w.assert_untouched();
            assert_eq!(
                w.dir.writes(),
                [Action::Create, Action::Delete],
                "{stage:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_enable_deletes_credential_and_device() {
    let w = World::new();
    let plan = w.plan().await;
    w.dir.fail(Action::Enable, 1, denied(Action::Enable));
    let failure = w.fail(&plan).await;

    assert!(matches!(
        failure.cause,
        Cause::Iam {
            step: Step::Enable,
            error: IamError::AccessDenied { .. }
        }
    ));
    assert_eq!(failure.undone, [undone_device(ARN), undone_credential()]);
    assert!(failure.leftovers.is_empty());
    w.assert_untouched();
    assert_eq!(
        w.dir.writes(),
        [Action::Create, Action::Enable, Action::Delete],
        "a definite refusal needs no deactivation"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timed_out_enable_is_deactivated_then_deleted() {
    for took_effect in [true, false] {
        let w = World::new();
        let plan = w.plan().await;
        if took_effect {
            w.dir
                .fail_after_effect(Action::Enable, 1, timeout(Action::Enable));
        } else {
            w.dir.fail(Action::Enable, 1, timeout(Action::Enable));
        }
        let failure = w.fail(&plan).await;

        assert!(matches!(
            failure.cause,
            Cause::Iam {
                step: Step::Enable,
                error: IamError::Timeout { .. }
            }
        ));
        // A deactivation of what was never assigned (NoSuchEntity) proves nothing and is not
        // reported; the device's deletion is the proof the credential waits for.
        let expected: &[String] = if took_effect {
            &[undone_assignment(), undone_device(ARN), undone_credential()]
        } else {
            &[undone_device(ARN), undone_credential()]
        };
        assert_eq!(failure.undone, expected, "{took_effect}");
        assert!(failure.leftovers.is_empty(), "{took_effect}");
        w.assert_untouched();
        assert_eq!(
            w.dir.writes(),
            [
                Action::Create,
                Action::Enable,
                Action::Deactivate,
                Action::Delete
            ],
            "{took_effect}"
        );
    }
}

/// The enable answers 500 but lands later: after the undo's deactivation said NoSuchEntity,
/// just before the device's deletion. The deletion's DeleteConflict is taken for what it is
/// ("assigned"): deactivate again, delete, and only then the credential.
#[tokio::test(flavor = "multi_thread")]
async fn an_enable_that_lands_after_the_deactivation_is_undone_in_order() {
    let w = World::new();
    let plan = w.plan().await;
    w.dir
        .fail(Action::Enable, 1, service_failure(Action::Enable));
    w.dir.assign_on_call(Action::Delete, 1, ARN, "alice");
    let failure = w.fail(&plan).await;
    assert!(failure.leftovers.is_empty(), "{:?}", failure.leftovers);
    assert_eq!(
        failure.undone,
        [undone_assignment(), undone_device(ARN), undone_credential()]
    );
    w.assert_untouched();
    assert_eq!(
        w.dir.writes(),
        [
            Action::Create,
            Action::Enable,
            Action::Deactivate,
            Action::Delete,
            Action::Deactivate,
            Action::Delete
        ]
    );
}

/// The same late enable, and IAM then refuses every deactivation: the device stays assigned, so
/// its credential, the only copy of the seed, stays too, and the commands come in an order that
/// works (deactivate, delete, then the credential).
#[tokio::test(flavor = "multi_thread")]
async fn a_late_enable_that_cannot_be_undone_keeps_the_credential() {
    let w = World::new();
    let plan = w.plan().await;
    w.dir
        .fail(Action::Enable, 1, service_failure(Action::Enable));
    w.dir.assign_on_call(Action::Deactivate, 1, ARN, "alice");
    w.dir
        .fail_always(Action::Deactivate, denied(Action::Deactivate));
    let failure = w.fail(&plan).await;
    let device = w.dir.device(ARN).expect("device");
    assert_eq!(device.user.as_deref(), Some("alice"));
    assert_eq!(
        w.card.key(LABEL),
        Some(device.seed),
        "never deleted while assigned"
    );
    assert!(!w.card.did("delete"));
    assert!(matches!(
        failure.leftovers.as_slice(),
        [
            Leftover::Device {
                assigned_to: Some(_),
                ..
            },
            Leftover::Credential { .. }
        ]
    ));
}

/// A credential replaced under the same name between the write and the undo is not ykmfa's: the
/// token can't prove it is, so it stays.
#[tokio::test(flavor = "multi_thread")]
async fn a_credential_replaced_before_the_undo_is_kept() {
    let w = World::new();
    let plan = w.plan().await;
    let card = w.card.clone();
    w.dir.on_call(Action::Enable, 1, move || {
        card.state().credentials.insert(
            LABEL.as_bytes().to_vec(),
            Stored {
                key: b"someone else's seed".to_vec(),
                digits: 6,
                touch: false,
            },
        );
    });
    w.dir.fail(Action::Enable, 1, denied(Action::Enable));
    let failure = w.fail(&plan).await;
    assert_eq!(w.dir.serials(), Vec::<String>::new());
    assert_eq!(w.card.names(), [LABEL]);
    assert!(failure.leftovers.is_empty(), "{:?}", failure.leftovers);
    assert!(
        failure.undone.iter().any(|u| u.contains("another secret")),
        "{:?}",
        failure.undone
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_confirmation_undoes_everything() {
    let w = World::new();
    let plan = w.plan().await;
    w.dir.fail(
        Action::ListMfaDevices,
        1,
        service_failure(Action::ListMfaDevices),
    );
    let failure = w.fail(&plan).await;

    assert!(matches!(
        failure.cause,
        Cause::Iam {
            step: Step::Confirm,
            error: IamError::ServiceFailure { .. }
        }
    ));
    assert_eq!(
        failure.undone,
        [undone_assignment(), undone_device(ARN), undone_credential()]
    );
    assert!(failure.leftovers.is_empty());
    w.assert_untouched();
    assert_eq!(
        w.dir.writes(),
        [
            Action::Create,
            Action::Enable,
            Action::Deactivate,
            Action::Delete
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_device_never_listed_after_enabling_is_undone() {
    let w = World::new();
    let plan = w.plan().await;
    w.dir.lag_listing();
    let failure = w.fail(&plan).await;

    assert!(
        matches!(&failure.cause, Cause::NotConfirmed(user) if user == "alice"),
        "{:?}",
        failure.cause
    );
    assert_eq!(
        failure.undone,
        [undone_assignment(), undone_device(ARN), undone_credential()]
    );
    assert!(failure.leftovers.is_empty());
    w.assert_untouched();
    // Asked once in preflight, then retried with backoff.
    assert_eq!(w.dir.args_of(Action::ListMfaDevices).len(), 1 + 5);
}

// ---------------------------------------------------------------------------------------------
// Cancellation

#[tokio::test(flavor = "multi_thread")]
async fn cancelled_during_the_write_undoes_everything() {
    let w = World::new();
    let plan = w.plan().await;
    w.card.cancel_on_write(&w.cancel);
    let failure = w.fail(&plan).await;

    assert!(matches!(failure.cause, Cause::Interrupted));
    assert_eq!(failure.undone, [undone_device(ARN), undone_credential()]);
    assert!(failure.leftovers.is_empty());
    w.assert_untouched();
    assert_eq!(w.dir.writes(), [Action::Create, Action::Delete]);
    assert!(w.progress.saw("RollingBack"));
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelled_during_enable_undoes_everything() {
    let w = World::new();
    let plan = w.plan().await;
    let cancel = w.cancel.clone();
    w.dir.on_call(Action::Enable, 1, move || cancel.cancel());
    let failure = w.fail(&plan).await;

    assert!(
        matches!(failure.cause, Cause::Interrupted),
        "{:?}",
        failure.cause
    );
    assert_eq!(
        failure.undone,
        [undone_assignment(), undone_device(ARN), undone_credential()]
    );
    assert!(failure.leftovers.is_empty());
    w.assert_untouched();
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelled_while_waiting_for_a_fresh_step_undoes_everything() {
    let w = World::with_clock(FakeClock::advancing(T0, 10));
    let plan = w.plan().await;
    w.dir.fail(
        Action::Enable,
        1,
        IamError::InvalidAuthenticationCode {
            action: Action::Enable.name(),
            message: "not valid".into(),
        },
    );
    *lock(&w.progress.cancel_on) = Some(("WaitingForStep", w.cancel.clone()));
    let failure = w.fail(&plan).await;

    assert!(matches!(failure.cause, Cause::Interrupted));
    assert_eq!(failure.undone, [undone_device(ARN), undone_credential()]);
    assert!(failure.leftovers.is_empty());
    w.assert_untouched();
    assert_eq!(w.dir.args_of(Action::Enable).len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelled_before_anything_changes_nothing() {
    let w = World::new();
    let plan = w.plan().await;
    w.cancel.cancel();
    let failure = w.fail(&plan).await;

    assert!(matches!(failure.cause, Cause::Interrupted));
    assert!(failure.undone.is_empty());
    w.assert_untouched();
    assert!(w.dir.writes().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Undos that fail, and the next run

#[tokio::test(flavor = "multi_thread")]
async fn a_denied_delete_leaves_the_device_and_the_next_run_removes_it() {
    let w = World::new();
    let plan = w.plan().await;
    w.dir.fail(
        Action::Enable,
        1,
        IamError::LimitExceeded {
            action: "iam:EnableMFADevice",
            message: "refused".into(),
        },
    );
    w.dir.fail(Action::Delete, 1, denied(Action::Delete));
    let failure = w.fail(&plan).await;

    assert_eq!(failure.undone, [undone_credential()]);
    let [Leftover::Device {
        serial,
        assigned_to,
        reason,
    }] = failure.leftovers.as_slice()
    else {
        panic!("{:?}", failure.leftovers);
    };
    assert_eq!(serial, ARN);
    assert_eq!(*assigned_to, None);
    assert!(reason.contains("iam:DeleteVirtualMFADevice"), "{reason}");
    // Left: the unassigned, tagged device; the token is clean.
    let leftover = w.dir.device(ARN).expect("leftover device");
    assert_eq!(leftover.user, None);
    assert!(leftover
        .tags
        .contains(&(TAG_CREDENTIAL.to_owned(), LABEL.to_owned())));
    assert!(w.card.names().is_empty());

    // The next run, with deletion allowed again, removes the leftover and takes its name.
    let done = w.enroll(&plan).await.expect("second run");
    assert_eq!(done.device_serial, ARN);
    assert!(w.progress.saw(&format!("LeftoverRemoved({ARN:?})")));
    assert_eq!(w.dir.serials(), [ARN]);
    let device = w.dir.device(ARN).expect("device");
    assert_eq!(device.user.as_deref(), Some("alice"));
    assert_ne!(device.seed, leftover.seed, "a new device, not the leftover");
    assert_eq!(w.card.names(), [LABEL]);
    assert_eq!(w.card.key(LABEL), Some(device.seed));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_leftover_that_still_cannot_be_deleted_is_stepped_around() {
    let w = World::new();
    let plan = w.plan().await;
    w.dir
        .fail(Action::Enable, 1, service_failure(Action::Enable));
    w.dir.fail_always(Action::Delete, denied(Action::Delete));
    let failure = w.fail(&plan).await;
    assert!(
        matches!(
            failure.leftovers.as_slice(),
            [Leftover::Device { serial, assigned_to: None, .. }] if serial == ARN
        ),
        "{:?}",
        failure.leftovers
    );
    let leftover = w.dir.device(ARN).expect("leftover device");

    let done = w.enroll(&plan).await.expect("second run");
    let second = arn("alice-yk12345678-2");
    assert_eq!(done.device_serial, second);
    assert!(w.progress.saw(&format!(
        "NameTaken {{ taken: {DEVICE:?}, next: \"alice-yk12345678-2\" }}"
    )));
    assert_eq!(w.dir.serials(), [ARN.to_owned(), second.clone()]);
    let still = w.dir.device(ARN).expect("leftover still there");
    assert_eq!((still.user, still.seed), (None, leftover.seed));
    let device = w.dir.device(&second).expect("new device");
    assert_eq!(device.user.as_deref(), Some("alice"));
    assert_eq!(w.card.names(), [LABEL]);
    assert_eq!(w.card.key(LABEL), Some(device.seed));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_deactivation_leaves_the_device_assigned_and_its_credential() {
    let w = World::new();
    let plan = w.plan().await;
    w.dir.fail(
        Action::ListMfaDevices,
        1,
        service_failure(Action::ListMfaDevices),
    );
    w.dir.fail_always(
        Action::Deactivate,
        IamError::Network("connection reset".into()),
    );
    let failure = w.fail(&plan).await;

    assert!(failure.undone.is_empty(), "{:?}", failure.undone);
    let commands: Vec<String> = failure
        .leftovers
        .iter()
        .flat_map(|l| l.commands(""))
        .collect();
    assert!(
        commands[0].starts_with("aws iam deactivate-mfa-device"),
        "{commands:?}"
    );
    assert!(
        commands[1].starts_with("aws iam delete-virtual-mfa-device"),
        "{commands:?}"
    );
    assert!(commands[2].starts_with("ykman"), "{commands:?}");
    // The device first (its removal comes first), then the credential kept for it.
    let [Leftover::Device {
        serial,
        assigned_to,
        ..
    }, Leftover::Credential { name, reason, .. }] = failure.leftovers.as_slice()
    else {
        panic!("{:?}", failure.leftovers);
    };
    assert_eq!(serial, ARN);
    assert_eq!(assigned_to.as_deref(), Some("alice"));
    assert_eq!(name, LABEL);
    assert!(reason.contains(ARN), "{reason}");
    // The device is still alice's, so the token keeps the only copy of its seed.
    let device = w.dir.device(ARN).expect("device");
    assert_eq!(device.user.as_deref(), Some("alice"));
    assert_eq!(w.card.key(LABEL), Some(device.seed));
    assert!(!w.card.did("delete"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_pulled_out_before_the_rollback_leaves_its_credential() {
    let w = World::new();
    let plan = w.plan().await;
    w.dir.fail(
        Action::Enable,
        1,
        IamError::LimitExceeded {
            action: "iam:EnableMFADevice",
            message: "refused".into(),
        },
    );
    let card = w.card.clone();
    w.dir.on_call(Action::Enable, 1, move || card.pull_out());
    let failure = w.fail(&plan).await;

    assert_eq!(failure.undone, [undone_device(ARN)]);
    let [Leftover::Credential {
        name,
        token_serial,
        token,
        reason,
    }] = failure.leftovers.as_slice()
    else {
        panic!("{:?}", failure.leftovers);
    };
    assert_eq!(name, LABEL);
    assert_eq!(*token_serial, Some(Serial(TOKEN_SERIAL)));
    assert_eq!(token, &format!("YubiKey {TOKEN_SERIAL}"));
    assert!(reason.contains("removed"), "{reason}");
    assert!(w.dir.serials().is_empty());
    assert_eq!(w.card.names(), [LABEL], "still on the token, as reported");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_pulled_out_during_the_write_leaves_its_credential() {
    let w = World::new();
    let plan = w.plan().await;
    w.card.fail_write(WriteStage::AfterPut, card_removed);
    let failure = w.fail(&plan).await;

    assert!(matches!(
        failure.cause,
        Cause::Card {
            step: Step::Write,
            error: oath::Error::Transport(TransportError::CardRemoved)
        }
    ));
    assert_eq!(failure.undone, [undone_device(ARN)]);
    assert!(matches!(
        failure.leftovers.as_slice(),
        [Leftover::Credential { name, .. }] if name == LABEL
    ));
    assert!(w.dir.serials().is_empty());
    assert_eq!(w.card.names(), [LABEL]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_refusing_to_delete_leaves_its_credential() {
    let w = World::new();
    let plan = w.plan().await;
    w.dir.fail(
        Action::Enable,
        1,
        IamError::LimitExceeded {
            action: "iam:EnableMFADevice",
            message: "refused".into(),
        },
    );
    w.card.fail_deletes(|| oath::Error::Locked);
    let failure = w.fail(&plan).await;

    assert_eq!(failure.undone, [undone_device(ARN)]);
    assert!(matches!(
        failure.leftovers.as_slice(),
        [Leftover::Credential { name, reason, .. }] if name == LABEL && reason.contains("password")
    ));
    assert!(w.dir.serials().is_empty());
    assert_eq!(w.card.names(), [LABEL]);
}

// ---------------------------------------------------------------------------------------------
// What create steps around

#[tokio::test(flavor = "multi_thread")]
async fn denied_tagging_creates_the_device_without_tags() {
    let w = World::new();
    let plan = w.plan().await;
    w.dir.deny_tagging();
    let done = w.enroll(&plan).await.expect("enrolled");

    assert!(!done.tagged);
    assert!(w.progress.saw("TagsDenied"));
    let device = w.dir.device(ARN).expect("device");
    assert!(device.tags.is_empty());
    assert_eq!(device.user.as_deref(), Some("alice"));
    assert_eq!(w.card.key(LABEL), Some(device.seed));
    assert_eq!(
        w.dir.writes(),
        [Action::Create, Action::Create, Action::Enable]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn devices_ykmfa_did_not_leave_are_stepped_around_untouched() {
    let w = World::new();
    // Someone's device with the name ykmfa would use, and one by ykmfa for another credential.
    let foreign = w
        .dir
        .add_device(DEVICE, &[("owner", "platform-team")], None);
    let other = w.dir.add_device(
        "alice-yk12345678-2",
        &[(TAG_CREDENTIAL, "Amazon Web Services:alice@another-account")],
        None,
    );
    let before = (w.dir.device(&foreign), w.dir.device(&other));
    let plan = w.plan().await;
    let done = w.enroll(&plan).await.expect("enrolled");

    let third = arn("alice-yk12345678-3");
    assert_eq!(done.device_serial, third);
    for (name, device) in [(&foreign, &before.0), (&other, &before.1)] {
        let now = w.dir.device(name).expect("still there");
        let was = device.as_ref().expect("was there");
        assert_eq!(
            (&now.user, &now.seed, &now.tags),
            (&was.user, &was.seed, &was.tags)
        );
    }
    assert!(w.dir.args_of(Action::Delete).is_empty());
    assert_eq!(
        w.dir.device(&third).expect("new").user.as_deref(),
        Some("alice")
    );
    assert_eq!(w.card.names(), [LABEL]);
}

// ---------------------------------------------------------------------------------------------
// Codes AWS rejects

fn rejected_codes() -> IamError {
    IamError::InvalidAuthenticationCode {
        action: Action::Enable.name(),
        message: "Authentication code for the MFA device is not valid.".into(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rejected_codes_fall_back_to_a_real_time_pair() {
    // Each read of the clock moves it 10 s on, so the waits for fresh steps end after a few polls.
    let w = World::with_clock(FakeClock::advancing(T0, 10));
    let plan = w.plan().await;
    w.dir.fail(Action::Enable, 1, rejected_codes());
    let done = w.enroll(&plan).await.expect("enrolled");

    assert!(done.waited_for_fresh_codes);
    assert!(w.progress.saw("WaitingForStep"));
    let device = w.dir.device(ARN).expect("device");
    assert_eq!(device.user.as_deref(), Some("alice"));
    assert_eq!(w.card.key(LABEL), Some(device.seed.clone()));
    assert_eq!(
        w.dir.writes(),
        [Action::Create, Action::Enable, Action::Enable]
    );
    // The second pair: two consecutive steps after the write's.
    let enables = w.dir.args_of(Action::Enable);
    let (c1, c2) = (&enables[1][2], &enables[1][3]);
    let t = T0 / 30;
    let n = (t + 1..t + 10)
        .find(|&n| totp(&device.seed, n) == *c1 && totp(&device.seed, n + 1) == *c2)
        .expect("codes of two consecutive later steps");
    let calculated: Vec<String> = w
        .card
        .ops()
        .into_iter()
        .filter(|o| o.starts_with("calculate"))
        .collect();
    assert_eq!(
        calculated,
        [
            format!("calculate {LABEL} {n}"),
            format!("calculate {LABEL} {}", n + 1)
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_real_time_pair_on_a_touch_credential_asks_for_each_touch() {
    let w = World::with_clock(FakeClock::advancing(T0, 10));
    let plan = w.preflight_with("alice", true).await.expect("plan");
    w.dir.fail(Action::Enable, 1, rejected_codes());
    let done = w.enroll(&plan).await.expect("enrolled");

    assert!(done.waited_for_fresh_codes);
    assert_eq!(w.card.touch(LABEL), Some(true));
    let events = w.progress.events();
    let after_write: Vec<&str> = events
        .iter()
        .map(String::as_str)
        .skip_while(|e| !e.starts_with("WaitingForStep"))
        .filter(|e| *e == "TouchNow" || e.starts_with("WaitingForStep"))
        .collect();
    assert_eq!(after_write.len(), 4, "{events:?}");
    assert!(after_write[0].starts_with("WaitingForStep"));
    assert_eq!(after_write[1], "TouchNow");
    assert!(after_write[2].starts_with("WaitingForStep"));
    assert_eq!(after_write[3], "TouchNow");
    assert!(events
        .iter()
        .any(|e| e.starts_with("Writing { token: \"YubiKey 12345678\", touch: true")));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_real_time_pair_is_undone() {
    let w = World::with_clock(FakeClock::advancing(T0, 10));
    let plan = w.plan().await;
    w.dir.fail(Action::Enable, 1, rejected_codes());
    w.dir.fail(Action::Enable, 2, rejected_codes());
    let failure = w.fail(&plan).await;

    assert!(matches!(
        failure.cause,
        Cause::Iam {
            step: Step::Enable,
            error: IamError::InvalidAuthenticationCode { .. }
        }
    ));
    assert_eq!(failure.undone, [undone_device(ARN), undone_credential()]);
    w.assert_untouched();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_failing_a_real_time_code_is_undone() {
    let w = World::with_clock(FakeClock::advancing(T0, 10));
    let plan = w.plan().await;
    w.dir.fail(Action::Enable, 1, rejected_codes());
    w.card.fail_calculate(2, || oath::Error::TouchTimeout);
    let failure = w.fail(&plan).await;

    assert!(matches!(
        failure.cause,
        Cause::Card {
            step: Step::Calculate,
            error: oath::Error::TouchTimeout
        }
    ));
    assert_eq!(failure.undone, [undone_device(ARN), undone_credential()]);
    w.assert_untouched();
    assert_eq!(w.dir.args_of(Action::Enable).len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Preflight: refusals change nothing

/// Nothing was written anywhere, and the token holds what it held.
fn assert_nothing_written(w: &World, credentials: &[&str]) {
    assert!(w.dir.writes().is_empty(), "{:?}", w.dir.writes());
    assert_eq!(w.card.names(), credentials);
    assert!(
        w.card.ops().iter().all(|o| o == "list"),
        "{:?}",
        w.card.ops()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn preflight_refuses_an_unknown_user() {
    let w = World::new();
    let err = w.preflight("mallory").await.expect_err("refused");
    assert!(
        matches!(&err, Cause::Refused(Refusal::UnknownUser(u, a)) if u == "mallory" && a == ACCOUNT),
        "{err:?}"
    );
    assert_nothing_written(&w, &[]);
    assert!(w.dir.serials().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn preflight_refuses_a_ninth_device() {
    let w = World::new();
    for i in 0..MAX_DEVICES_PER_USER {
        w.dir.add_device(&format!("alice-{i}"), &[], Some("alice"));
    }
    let before = w.dir.serials();
    let err = w.preflight("alice").await.expect_err("refused");
    assert!(
        matches!(&err, Cause::Refused(Refusal::TooManyDevices(u, 8)) if u == "alice"),
        "{err:?}"
    );
    assert_nothing_written(&w, &[]);
    assert_eq!(w.dir.serials(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn preflight_refuses_a_label_already_on_the_token() {
    let w = World::new();
    w.card.add(LABEL);
    let err = w.preflight("alice").await.expect_err("refused");
    assert!(
        matches!(&err, Cause::Refused(Refusal::CredentialExists(n)) if n == LABEL),
        "{err:?}"
    );
    assert_nothing_written(&w, &[LABEL]);
    assert_eq!(
        w.card.key(LABEL).as_deref(),
        Some(&b"someone else's seed"[..])
    );
    assert!(w.dir.serials().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn preflight_refuses_a_full_token() {
    let mut w = World::new();
    w.card = FakeCard::new(Some(2));
    w.card.add("GitHub:alice");
    w.card.add("Google:alice");
    let err = w.preflight("alice").await.expect_err("refused");
    assert!(
        matches!(&err, Cause::Refused(Refusal::TokenFull(2))),
        "{err:?}"
    );
    assert_nothing_written(&w, &["GitHub:alice", "Google:alice"]);
    assert!(w.dir.serials().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_label_falls_back_to_the_account_id() {
    // "Amazon Web Services:" is 20 bytes: with the alias the label is 68, with the id 63.
    let user = "a".repeat(30);
    let w = World::new();
    w.dir.set_alias("example-corp-prod");
    lock(&w.dir.account).users.insert(
        user.clone(),
        User {
            name: user.clone(),
            arn: format!("arn:aws:iam::{ACCOUNT}:user/{user}"),
            user_id: "AIDAFAKELONG".into(),
            create_date: SystemTime::UNIX_EPOCH,
        },
    );
    let plan = w.preflight(&user).await.expect("a plan");
    assert_eq!(plan.credential, format!("{AWS_ISSUER}:{user}@{ACCOUNT}"));
    assert_eq!(plan.credential.len(), 63);
    assert_nothing_written(&w, &[]);

    // A short name keeps the alias.
    let plan = w.plan().await;
    assert_eq!(
        plan.credential,
        "Amazon Web Services:alice@example-corp-prod"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn preflight_refuses_a_label_too_long_even_with_the_account_id() {
    let user = "a".repeat(40);
    let w = World::new();
    w.dir.set_alias("example-corp-prod");
    lock(&w.dir.account).users.insert(
        user.clone(),
        User {
            name: user.clone(),
            arn: format!("arn:aws:iam::{ACCOUNT}:user/{user}"),
            user_id: "AIDAFAKELONG".into(),
            create_date: SystemTime::UNIX_EPOCH,
        },
    );
    let err = w.preflight(&user).await.expect_err("refused");
    assert!(
        matches!(&err, Cause::Refused(Refusal::LabelTooLong(label, 73)) if *label == format!("{AWS_ISSUER}:{user}@{ACCOUNT}")),
        "{err:?}"
    );
    assert_nothing_written(&w, &[]);
    assert!(w.dir.serials().is_empty());
}

mod journal;
