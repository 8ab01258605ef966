//! An IAM account in memory ([`FakeDirectory`]): users, virtual MFA devices with their seeds and
//! tags, and faults, hooks and latencies armed per action; every call is logged.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use super::{arn, lock, totp, FakeClock, ACCOUNT};
use crate::iam::{
    AssignmentStatus, CallerIdentity, CreatedDevice, Directory, IamError, MfaDevice,
    PasswordPolicy, User, VirtualMfaDevice, MAX_DEVICES_PER_USER,
};
use crate::mfa::Clock;
use crate::oath::TimeStep;
use crate::seed::Seed;

/// The IAM and STS actions of [`Directory`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
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
    pub(crate) fn name(self) -> &'static str {
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

    pub(crate) fn writes(self) -> bool {
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

pub(crate) fn denied(action: Action) -> IamError {
    IamError::AccessDenied {
        action: action.name(),
        message: format!("not authorized to perform: {}", action.name()),
    }
}

pub(crate) fn timeout(action: Action) -> IamError {
    IamError::Timeout {
        action: action.name(),
    }
}

pub(crate) fn service_failure(action: Action) -> IamError {
    IamError::ServiceFailure {
        action: action.name(),
        message: "We encountered an internal error. Please try again.".into(),
    }
}

pub(crate) fn no_such_entity(action: Action, what: &str) -> IamError {
    IamError::NoSuchEntity {
        action: action.name(),
        message: format!("{what} cannot be found"),
    }
}

#[derive(Clone)]
pub(crate) struct Device {
    pub(crate) seed: Vec<u8>,
    pub(crate) tags: Vec<(String, String)>,
    pub(crate) user: Option<String>,
    /// Created by the code under test (not placed there by the test).
    pub(crate) created_by_run: bool,
    /// Assigned to the account's root user (who has no user name).
    pub(crate) root: bool,
}

pub(crate) struct Account {
    pub(crate) alias: Option<String>,
    pub(crate) users: BTreeMap<String, User>,
    /// Users with a console password (a login profile).
    pub(crate) consoles: BTreeSet<String>,
    pub(crate) devices: BTreeMap<String, Device>,
    pub(crate) deny_tagging: bool,
    /// ListMFADevices never shows the devices the run enabled (IAM lagging for good).
    pub(crate) listing_lags: bool,
    pub(crate) seeds_issued: u8,
}

pub(crate) enum When {
    /// The n-th call (from 1) after the fault was armed.
    Nth(usize),
    /// Every call.
    Always,
    /// Every call whose first argument (the user, the device) is this.
    About(String),
}

pub(crate) struct Fault {
    pub(crate) action: Action,
    pub(crate) when: When,
    pub(crate) error: IamError,
    /// The operation takes effect, and the caller gets the error anyway (a lost answer).
    pub(crate) applied: bool,
}

pub(crate) struct Hook {
    pub(crate) action: Action,
    pub(crate) nth: usize,
    pub(crate) run: Box<dyn Fn() + Send>,
}

#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) action: Action,
    pub(crate) args: Vec<String>,
}

pub(crate) struct FakeDirectory {
    pub(crate) account: Arc<Mutex<Account>>,
    pub(crate) faults: Mutex<Vec<Fault>>,
    pub(crate) hooks: Mutex<Vec<Hook>>,
    pub(crate) calls: Mutex<Vec<Call>>,
    pub(crate) clock: Arc<FakeClock>,
    /// How long calls of these actions take ([`FakeDirectory::slow`]).
    pub(crate) latency: Mutex<Vec<(Action, Duration)>>,
    /// Slow calls in flight now, and the most there ever were at once.
    pub(crate) in_flight: AtomicUsize,
    pub(crate) peak: AtomicUsize,
}

impl FakeDirectory {
    pub(crate) fn new(clock: Arc<FakeClock>, users: &[&str]) -> Self {
        let dir = FakeDirectory {
            account: Arc::new(Mutex::new(Account {
                alias: None,
                users: BTreeMap::new(),
                consoles: BTreeSet::new(),
                devices: BTreeMap::new(),
                deny_tagging: false,
                listing_lags: false,
                seeds_issued: 0,
            })),
            faults: Mutex::new(Vec::new()),
            hooks: Mutex::new(Vec::new()),
            calls: Mutex::new(Vec::new()),
            clock,
            latency: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        };
        for name in users {
            dir.add_user(name);
        }
        dir
    }

    // --- arranging

    /// An IAM user (without a console password).
    pub(crate) fn add_user(&self, name: &str) {
        let mut account = lock(&self.account);
        let user = User {
            name: name.to_owned(),
            arn: format!("arn:aws:iam::{ACCOUNT}:user/{name}"),
            user_id: format!("AIDAFAKE{:012}", account.users.len()),
            create_date: SystemTime::UNIX_EPOCH,
        };
        account.users.insert(name.to_owned(), user);
    }

    /// Gives `user` a console password (a login profile).
    pub(crate) fn set_console(&self, user: &str) {
        lock(&self.account).consoles.insert(user.to_owned());
    }

    /// A lost enable landing late: when the `nth` call of `action` from now on arrives, before it
    /// is answered, `serial` becomes assigned to `user`.
    pub(crate) fn assign_on_call(&self, action: Action, nth: usize, serial: &str, user: &str) {
        let (account, serial, user) = (self.account.clone(), serial.to_owned(), user.to_owned());
        self.on_call(action, nth, move || {
            if let Some(d) = lock(&account).devices.get_mut(&serial) {
                d.user = Some(user.clone());
            }
        });
    }

    pub(crate) fn calls_so_far(&self, action: Action) -> usize {
        lock(&self.calls)
            .iter()
            .filter(|c| c.action == action)
            .count()
    }

    /// The `nth` call of `action` from now on fails with `error` and changes nothing.
    pub(crate) fn fail(&self, action: Action, nth: usize, error: IamError) {
        self.arm(
            action,
            When::Nth(self.calls_so_far(action) + nth),
            error,
            false,
        );
    }

    /// The `nth` call of `action` from now on takes effect, but the caller gets `error`.
    pub(crate) fn fail_after_effect(&self, action: Action, nth: usize, error: IamError) {
        self.arm(
            action,
            When::Nth(self.calls_so_far(action) + nth),
            error,
            true,
        );
    }

    /// Every call of `action` fails with `error`.
    pub(crate) fn fail_always(&self, action: Action, error: IamError) {
        self.arm(action, When::Always, error, false);
    }

    /// Every call of `action` about `subject` (its first argument: a user, a device) fails with
    /// `error`, say a user deleted while a run goes through the users.
    pub(crate) fn fail_about(&self, action: Action, subject: &str, error: IamError) {
        self.arm(action, When::About(subject.to_owned()), error, false);
    }

    /// Calls of `actions` take `latency` each (awaited, so others run meanwhile); how many were
    /// in flight at once is [`FakeDirectory::peak_in_flight`].
    pub(crate) fn slow(&self, actions: &[Action], latency: Duration) {
        lock(&self.latency).extend(actions.iter().map(|&a| (a, latency)));
    }

    /// The most slow calls ([`FakeDirectory::slow`]) that were in flight at once.
    pub(crate) fn peak_in_flight(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    pub(crate) fn arm(&self, action: Action, when: When, error: IamError, applied: bool) {
        lock(&self.faults).push(Fault {
            action,
            when,
            error,
            applied,
        });
    }

    /// Runs `run` when the `nth` call of `action` from now on arrives, before it is answered.
    pub(crate) fn on_call(&self, action: Action, nth: usize, run: impl Fn() + Send + 'static) {
        let nth = self.calls_so_far(action) + nth;
        lock(&self.hooks).push(Hook {
            action,
            nth,
            run: Box::new(run),
        });
    }

    pub(crate) fn set_alias(&self, alias: &str) {
        lock(&self.account).alias = Some(alias.to_owned());
    }

    pub(crate) fn deny_tagging(&self) {
        lock(&self.account).deny_tagging = true;
    }

    pub(crate) fn lag_listing(&self) {
        lock(&self.account).listing_lags = true;
    }

    /// The root user's virtual MFA device (listed as assigned, to no user name).
    pub(crate) fn add_root_device(&self, name: &str) -> String {
        let serial = arn(name);
        lock(&self.account).devices.insert(
            serial.clone(),
            Device {
                seed: vec![0x5A; 20],
                tags: Vec::new(),
                user: None,
                created_by_run: false,
                root: true,
            },
        );
        serial
    }

    /// A hardware TOTP token AWS holds by serial (its seed is AWS's), free or `user`'s.
    pub(crate) fn add_hardware_token(&self, serial: &str, seed: &[u8], user: Option<&str>) {
        let device = Device {
            seed: seed.to_vec(),
            tags: Vec::new(),
            user: user.map(str::to_owned),
            created_by_run: false,
            root: false,
        };
        lock(&self.account)
            .devices
            .insert(serial.to_owned(), device);
    }

    /// A device that exists before the run (someone else's, or the user's other devices).
    pub(crate) fn add_device(
        &self,
        name: &str,
        tags: &[(&str, &str)],
        user: Option<&str>,
    ) -> String {
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
                root: false,
            },
        );
        serial
    }

    /// A hardware TOTP token AWS holds the seed of, by serial (not an ARN); returns the seed.
    pub(crate) fn add_hardware(&self, serial: &str) -> Vec<u8> {
        let seed: Vec<u8> = (0..20).map(|i| 0x5C ^ i).collect();
        let device = Device {
            seed: seed.clone(),
            tags: Vec::new(),
            user: None,
            created_by_run: false,
            root: false,
        };
        lock(&self.account)
            .devices
            .insert(serial.to_owned(), device);
        seed
    }

    // --- looking

    pub(crate) fn device(&self, serial: &str) -> Option<Device> {
        lock(&self.account).devices.get(serial).cloned()
    }

    pub(crate) fn serials(&self) -> Vec<String> {
        lock(&self.account).devices.keys().cloned().collect()
    }

    pub(crate) fn calls(&self) -> Vec<Call> {
        lock(&self.calls).clone()
    }

    /// The write actions called, failed or not, in order.
    pub(crate) fn writes(&self) -> Vec<Action> {
        self.calls()
            .into_iter()
            .map(|c| c.action)
            .filter(|a| a.writes())
            .collect()
    }

    pub(crate) fn args_of(&self, action: Action) -> Vec<Vec<String>> {
        self.calls()
            .into_iter()
            .filter(|c| c.action == action)
            .map(|c| c.args)
            .collect()
    }

    // --- answering

    /// Logs the call, takes its time if it is slow, runs its hooks, and answers it: an armed
    /// fault, or `op` on the account.
    pub(crate) async fn answer<T>(
        &self,
        action: Action,
        args: &[&str],
        op: impl FnOnce(&mut Account) -> Result<T, IamError>,
    ) -> Result<T, IamError> {
        let latency = lock(&self.latency)
            .iter()
            .find(|(a, _)| *a == action)
            .map(|(_, d)| *d);
        if let Some(latency) = latency {
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.peak.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(latency).await;
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
        }
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
                    && match &f.when {
                        When::Nth(n) => *n == nth,
                        When::Always => true,
                        When::About(subject) => args.first() == Some(&subject.as_str()),
                    }
            });
            match hit {
                Some(i) if !matches!(faults[i].when, When::Nth(_)) => {
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
        .await
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
        .await
    }

    async fn account_alias(&self) -> Result<Option<String>, IamError> {
        self.answer(Action::ListAccountAliases, &[], |a| Ok(a.alias.clone()))
            .await
    }

    async fn get_user(&self, name: &str) -> Result<User, IamError> {
        self.answer(Action::GetUser, &[name], |a| {
            a.users
                .get(name)
                .cloned()
                .ok_or_else(|| no_such_entity(Action::GetUser, &format!("The user {name}")))
        })
        .await
    }

    async fn list_users(&self) -> Result<Vec<User>, IamError> {
        self.answer(Action::ListUsers, &[], |a| {
            Ok(a.users.values().cloned().collect())
        })
        .await
    }

    async fn get_login_profile(&self, user: &str) -> Result<bool, IamError> {
        self.answer(Action::GetLoginProfile, &[user], |a| {
            Ok(a.consoles.contains(user))
        })
        .await
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
        .await
    }

    async fn list_virtual_mfa_devices(
        &self,
        status: AssignmentStatus,
    ) -> Result<Vec<VirtualMfaDevice>, IamError> {
        self.answer(Action::ListVirtualMfaDevices, &[], |a| {
            Ok(a.devices
                .iter()
                .filter(|(_, d)| {
                    let assigned = d.user.is_some() || d.root;
                    match status {
                        AssignmentStatus::Assigned => assigned,
                        AssignmentStatus::Unassigned => !assigned,
                        AssignmentStatus::Any => true,
                    }
                })
                .map(|(serial, d)| VirtualMfaDevice {
                    serial: serial.clone(),
                    user: d.user.clone(),
                    user_arn: match (&d.user, d.root) {
                        (Some(u), _) => Some(format!("arn:aws:iam::{ACCOUNT}:user/{u}")),
                        (None, true) => Some(format!("arn:aws:iam::{ACCOUNT}:root")),
                        (None, false) => None,
                    },
                    enable_date: (d.user.is_some() || d.root).then_some(SystemTime::UNIX_EPOCH),
                })
                .collect())
        })
        .await
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
                    root: false,
                },
            );
            Ok(CreatedDevice {
                serial: serial.clone(),
                seed: Seed::from_bytes(seed),
            })
        })
        .await
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
        .await
    }

    async fn resync_mfa_device(
        &self,
        user: &str,
        serial: &str,
        code1: &str,
        code2: &str,
    ) -> Result<(), IamError> {
        self.answer(Action::Resync, &[user, serial, code1, code2], |_| Ok(()))
            .await
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
        .await
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
        .await
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
        .await
    }

    async fn list_mfa_device_tags(&self, serial: &str) -> Result<Vec<(String, String)>, IamError> {
        let action = Action::ListTags;
        self.answer(action, &[serial], |a| {
            a.devices
                .get(serial)
                .map(|d| d.tags.clone())
                .ok_or_else(|| no_such_entity(action, &format!("MFA device {serial}")))
        })
        .await
    }

    async fn get_account_summary(&self) -> Result<HashMap<String, i32>, IamError> {
        self.answer(Action::GetAccountSummary, &[], |a| {
            let users = i32::try_from(a.users.len()).unwrap_or(i32::MAX);
            let root_mfa = a.devices.values().any(|d| d.root);
            Ok(HashMap::from([
                ("Users".to_owned(), users),
                ("AccountMFAEnabled".to_owned(), i32::from(root_mfa)),
                // The fake root user has no access keys.
                ("AccountAccessKeysPresent".to_owned(), 0),
            ]))
        })
        .await
    }

    async fn get_account_password_policy(&self) -> Result<Option<PasswordPolicy>, IamError> {
        self.answer(Action::GetAccountPasswordPolicy, &[], |_| Ok(None))
            .await
    }

    // No operation under test asks the policy simulator; the fake says so if anything does.
    async fn role_arn(&self, _name: &str) -> Result<String, IamError> {
        Err(IamError::InvalidInput("the fake IAM has no roles".into()))
    }

    async fn simulate_principal_policy(
        &self,
        _principal_arn: &str,
        _actions: &[String],
        _resource: &str,
        _context: &[(String, String)],
    ) -> Result<Vec<crate::iam::PolicyDecision>, IamError> {
        Err(IamError::InvalidInput(
            "the fake IAM has no policy simulator".into(),
        ))
    }
}
