//! The account's MFA posture, as an auditor asks about it: does root have MFA, are there root
//! access keys, is the password policy strong, who signs in to the console without MFA, who has
//! no backup device, which virtual devices are abandoned.
//!
//! Two halves. [`gather`] reads the facts from IAM through a [`Directory`] (read-only calls,
//! per-user calls with bounded concurrency so big accounts stay fast without tripping IAM's
//! throttling). [`analyze`] turns [`Facts`] into [`Finding`]s and is pure: no I/O, no clock, so
//! every rule is unit-tested. The binary renders the findings and decides the exit code.
//!
//! The password baseline is the CIS AWS Foundations Benchmark: v3.0.0 recommendations 1.8
//! (minimum length 14) and 1.9 (remember 24 passwords), and the character classes of v1.2.0
//! (1.5 to 1.8: uppercase, lowercase, symbol, number), which AWS Security Hub's control IAM.7
//! still checks. Password expiry is not part of it: CIS dropped it after v1.2.0, following NIST
//! SP 800-63B, which advises against forced periodic changes.

pub mod org;
pub mod report;
pub mod root;

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use crate::iam::names::{TAG_CREDENTIAL, TAG_TOKEN_KIND, TAG_TOKEN_SERIAL};
use crate::iam::{AssignmentStatus, Directory, IamError, MfaDevice, PasswordPolicy};
use crate::mfa::kind::DeviceKind;
use crate::mfa::remedy;

/// The password baseline in one line, for reports.
pub const BASELINE: &str = "CIS AWS Foundations Benchmark v3.0.0 (1.8 length >= 14, 1.9 reuse prevention >= 24) and v1.2.0 (1.5-1.8 uppercase, lowercase, symbol, number)";
/// Baseline minimum password length (CIS v3.0.0 1.8).
pub const MIN_PASSWORD_LENGTH: u32 = 14;
/// Baseline number of previous passwords that cannot be reused (CIS v3.0.0 1.9).
pub const PASSWORD_REUSE_PREVENTION: u32 = 24;
/// Per-user IAM calls in flight at once, unless the caller says otherwise.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// How serious a finding is, least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; nothing to fix.
    Info,
    /// Hygiene: fix when convenient.
    Low,
    /// A weakness an attacker could use with other help.
    Medium,
    /// A direct path to an account takeover of a user.
    High,
    /// A direct path to a takeover of the whole account.
    Critical,
}

impl Severity {
    /// Every level, least to most.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The level's name, as in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!("unknown severity '{s}' (use one of: info, low, medium, high, critical)")
            })
    }
}

/// What was checked; the stable id of a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// The root user has no MFA device (CIS 1.5).
    RootMfaDisabled,
    /// The root user has access keys (CIS 1.4).
    RootAccessKeys,
    /// The root user's MFA is a virtual device, not hardware (CIS 1.6).
    RootMfaVirtual,
    /// The account has no password policy at all.
    PasswordPolicyMissing,
    /// The password policy falls short of the baseline in one respect.
    PasswordPolicyWeak,
    /// An IAM user with a console password and no MFA device (CIS 1.10).
    ConsoleWithoutMfa,
    /// An IAM user with exactly one MFA device: no backup.
    SingleMfaDevice,
    /// A virtual MFA device assigned to nobody.
    OrphanDevice,
    /// The root user has signing certificates (organization audit, through AssumeRoot).
    RootSigningCertificates,
    /// The root user of an account could not be read (organization audit).
    RootNotAudited,
    /// The IAM users of an account could not be read through the role (organization audit).
    UsersNotAudited,
}

impl Check {
    /// The id, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Check::RootMfaDisabled => "root-mfa-disabled",
            Check::RootAccessKeys => "root-access-keys",
            Check::RootMfaVirtual => "root-mfa-virtual",
            Check::PasswordPolicyMissing => "password-policy-missing",
            Check::PasswordPolicyWeak => "password-policy-weak",
            Check::ConsoleWithoutMfa => "console-without-mfa",
            Check::SingleMfaDevice => "single-mfa-device",
            Check::OrphanDevice => "orphan-device",
            Check::RootSigningCertificates => "root-signing-certificates",
            Check::RootNotAudited => "root-not-audited",
            Check::UsersNotAudited => "users-not-audited",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SubjectKind {
    /// The root user.
    Root,
    /// The account's password policy.
    PasswordPolicy,
    /// An IAM user (subject: the user name).
    User,
    /// A virtual MFA device (subject: its ARN).
    Device,
    /// A whole account (subject: its id; organization audit).
    Account,
}

/// One thing wrong, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// What was checked.
    pub check: Check,
    /// How serious it is.
    pub severity: Severity,
    /// What kind of thing it is about.
    pub subject_kind: SubjectKind,
    /// Which one: `root`, `password-policy`, a user name, a device ARN.
    pub subject: String,
    /// What is wrong, in one sentence.
    pub summary: String,
    /// What to do, in one sentence.
    pub fix: String,
    /// The command that does it, when one does (placeholders in capitals).
    pub command: Option<String>,
    /// The benchmark recommendation, when there is one (e.g. `CIS v3.0.0 1.5`).
    pub reference: Option<&'static str>,
}

/// One IAM user, as far as the audit needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFacts {
    /// The user name.
    pub name: String,
    /// The MFA devices assigned to the user (all types).
    pub devices: Vec<MfaDevice>,
    /// Whether the user has a console password; `None` when not asked (the user has MFA, so
    /// the answer changes no finding and costs a call per user).
    pub console: Option<bool>,
    /// The kind of each device, in the order of `devices`.
    pub kinds: Vec<DeviceKind>,
}

/// A virtual MFA device assigned to nobody.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Orphan {
    /// The device ARN.
    pub serial: String,
    /// Its tags; `None` when they could not be read (`iam:ListMFADeviceTags` denied).
    pub tags: Option<Vec<(String, String)>>,
}

impl Orphan {
    fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .as_ref()?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The token ykmfa wrote this device's seed to, from its tags: e.g. `YubiKey 12345678`.
    pub fn token(&self) -> Option<String> {
        let serial = self.tag(TAG_TOKEN_SERIAL)?;
        Some(match self.tag(TAG_TOKEN_KIND) {
            Some(kind) => format!("{kind} {serial}"),
            None => format!("token {serial}"),
        })
    }

    /// The credential name ykmfa gave it on the token, from its tags.
    pub fn credential(&self) -> Option<&str> {
        self.tag(TAG_CREDENTIAL)
    }
}

/// Everything the audit looks at, as read from IAM.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Facts {
    /// The account id.
    pub account: String,
    /// `AccountMFAEnabled` of GetAccountSummary (`None` when IAM left it out).
    pub root_mfa_enabled: Option<bool>,
    /// `AccountAccessKeysPresent` of GetAccountSummary (`None` when IAM left it out).
    pub root_access_keys_present: Option<bool>,
    /// The root user's virtual MFA device, if ListVirtualMFADevices shows one. Root MFA that is
    /// on but not listed there is a hardware TOTP token or a FIDO security key.
    pub root_virtual_device: Option<String>,
    /// The kind of that device (from its tags): whether ykmfa wrote its secret to a token.
    pub root_virtual_kind: Option<DeviceKind>,
    /// The password policy; `None` when the account has none.
    pub password_policy: Option<PasswordPolicy>,
    /// Every IAM user.
    pub users: Vec<UserFacts>,
    /// Unassigned virtual MFA devices.
    pub orphans: Vec<Orphan>,
}

/// How the root user's MFA is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RootMfa {
    /// No MFA.
    None,
    /// A virtual device (its secret may still live only on a token, see `ykmfa enroll --root`).
    Virtual,
    /// Enabled, and not a virtual device: a hardware TOTP token or a FIDO security key.
    Hardware,
    /// GetAccountSummary did not say.
    Unknown,
}

impl Facts {
    /// How root's MFA is held.
    pub fn root_mfa(&self) -> RootMfa {
        self.root_devices().mfa()
    }

    /// Root's devices as GetAccountSummary and ListVirtualMFADevices show them: MFA on or off,
    /// and the kind of root's virtual device, if it has one (tags unread: of unknown origin).
    pub fn root_devices(&self) -> root::RootDevices {
        let kind = self.root_virtual_kind.unwrap_or(DeviceKind::Virtual);
        root::RootDevices {
            enabled: self.root_mfa_enabled,
            kinds: self.root_virtual_device.iter().map(|_| kind).collect(),
        }
    }
}

/// Counts over the users, for the report's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct UserCounts {
    /// IAM users.
    pub total: usize,
    /// Users with at least one MFA device.
    pub with_mfa: usize,
    /// Users without any.
    pub without_mfa: usize,
    /// Users with a console password and no MFA.
    pub console_without_mfa: usize,
    /// Users with exactly one MFA device.
    pub single_device: usize,
}

/// Counts the users by MFA posture.
pub fn count_users(facts: &Facts) -> UserCounts {
    let mut c = UserCounts {
        total: facts.users.len(),
        ..UserCounts::default()
    };
    for u in &facts.users {
        match u.devices.len() {
            0 => {
                c.without_mfa += 1;
                if u.console == Some(true) {
                    c.console_without_mfa += 1;
                }
            }
            n => {
                c.with_mfa += 1;
                if n == 1 {
                    c.single_device += 1;
                }
            }
        }
    }
    c
}

/// The findings, most severe first (then by check, then by subject).
pub fn analyze(facts: &Facts) -> Vec<Finding> {
    let mut findings = Vec::new();
    root(facts, &mut findings);
    password_policy(facts.password_policy.as_ref(), &mut findings);
    for u in &facts.users {
        user(u, &mut findings);
    }
    for o in &facts.orphans {
        findings.push(orphan(o));
    }
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.check.cmp(&b.check))
            .then_with(|| a.subject.cmp(&b.subject))
    });
    findings
}

/// How many findings are at `level` or above.
pub fn at_or_above(findings: &[Finding], level: Severity) -> usize {
    findings.iter().filter(|f| f.severity >= level).count()
}

/// Findings per level, every level present (zero included), least to most.
pub fn counts(findings: &[Finding]) -> BTreeMap<Severity, usize> {
    let mut map: BTreeMap<Severity, usize> = Severity::ALL.iter().map(|s| (*s, 0)).collect();
    for f in findings {
        *map.entry(f.severity).or_default() += 1;
    }
    map
}

fn root(facts: &Facts, out: &mut Vec<Finding>) {
    out.extend(root::finding(&facts.root_devices(), &facts.account));
    if facts.root_access_keys_present == Some(true) {
        out.push(Finding {
            check: Check::RootAccessKeys,
            severity: Severity::Critical,
            subject_kind: SubjectKind::Root,
            subject: "root".into(),
            summary: "the root user has access keys".into(),
            fix: "sign in as root and delete them (Security credentials > Access keys); use IAM roles for automation".into(),
            command: None,
            reference: Some("CIS v3.0.0 1.4"),
        });
    }
}

/// The `aws` command that brings `policy` (or no policy) up to the baseline and keeps every
/// setting that is already stronger. The call replaces the whole policy, so it names them all.
pub fn password_policy_command(policy: Option<&PasswordPolicy>) -> String {
    let p = policy.cloned().unwrap_or_default();
    let mut cmd = format!(
        "aws iam update-account-password-policy --minimum-password-length {} --require-uppercase-characters --require-lowercase-characters --require-numbers --require-symbols --password-reuse-prevention {}",
        p.minimum_password_length
            .unwrap_or(0)
            .max(MIN_PASSWORD_LENGTH),
        p.password_reuse_prevention
            .unwrap_or(0)
            .max(PASSWORD_REUSE_PREVENTION),
    );
    if policy.is_none() || p.allow_users_to_change_password {
        cmd.push_str(" --allow-users-to-change-password");
    }
    if let Some(days) = p.max_password_age.filter(|d| *d > 0) {
        cmd.push_str(&format!(" --max-password-age {days}"));
    }
    if p.hard_expiry == Some(true) {
        cmd.push_str(" --hard-expiry");
    }
    cmd
}

fn password_policy(policy: Option<&PasswordPolicy>, out: &mut Vec<Finding>) {
    let fix = "set the policy to the baseline, keeping what is already stronger (the call replaces the whole policy)";
    let command = password_policy_command(policy);
    let Some(p) = policy else {
        out.push(Finding {
            check: Check::PasswordPolicyMissing,
            severity: Severity::Medium,
            subject_kind: SubjectKind::PasswordPolicy,
            subject: "password-policy".into(),
            summary: "no password policy: IAM users may set 8-character passwords of any kind"
                .into(),
            fix: fix.into(),
            command: Some(command),
            reference: Some("CIS v3.0.0 1.8"),
        });
        return;
    };
    let mut gap = |severity, summary: String, reference| {
        out.push(Finding {
            check: Check::PasswordPolicyWeak,
            severity,
            subject_kind: SubjectKind::PasswordPolicy,
            subject: "password-policy".into(),
            summary,
            fix: fix.into(),
            command: Some(command.clone()),
            reference: Some(reference),
        })
    };
    match p.minimum_password_length {
        Some(n) if n >= MIN_PASSWORD_LENGTH => {}
        Some(n) => gap(
            Severity::Medium,
            format!("minimum length {n}, baseline {MIN_PASSWORD_LENGTH}"),
            "CIS v3.0.0 1.8",
        ),
        None => gap(
            Severity::Medium,
            format!("no minimum length, baseline {MIN_PASSWORD_LENGTH}"),
            "CIS v3.0.0 1.8",
        ),
    }
    match p.password_reuse_prevention.filter(|n| *n > 0) {
        Some(n) if n >= PASSWORD_REUSE_PREVENTION => {}
        Some(n) => gap(
            Severity::Low,
            format!("remembers {n} previous passwords, baseline {PASSWORD_REUSE_PREVENTION}"),
            "CIS v3.0.0 1.9",
        ),
        None => gap(
            Severity::Low,
            format!("old passwords may be reused, baseline: remember {PASSWORD_REUSE_PREVENTION}"),
            "CIS v3.0.0 1.9",
        ),
    }
    let classes = [
        (
            p.require_uppercase_characters,
            "an uppercase letter",
            "CIS v1.2.0 1.5",
        ),
        (
            p.require_lowercase_characters,
            "a lowercase letter",
            "CIS v1.2.0 1.6",
        ),
        (p.require_symbols, "a symbol", "CIS v1.2.0 1.7"),
        (p.require_numbers, "a number", "CIS v1.2.0 1.8"),
    ];
    for (required, what, reference) in classes {
        if !required {
            gap(Severity::Low, format!("does not require {what}"), reference);
        }
    }
}

fn user(u: &UserFacts, out: &mut Vec<Finding>) {
    let name = &u.name;
    match u.devices.len() {
        0 if u.console == Some(true) => out.push(Finding {
            check: Check::ConsoleWithoutMfa,
            severity: Severity::High,
            subject_kind: SubjectKind::User,
            subject: name.clone(),
            summary: "signs in to the console with a password alone (no MFA device)".into(),
            fix: format!(
                "enroll a token for the user (or, if they need no console, remove the password: aws iam delete-login-profile --user-name {name})"
            ),
            command: Some(format!("ykmfa enroll --user {name}")),
            reference: Some("CIS v3.0.0 1.10"),
        }),
        1 => out.push(Finding {
            check: Check::SingleMfaDevice,
            severity: Severity::Low,
            subject_kind: SubjectKind::User,
            subject: name.clone(),
            summary: "has one MFA device and no backup: losing it locks the user out".into(),
            fix: "enroll a second token as a backup, so that losing one does not lock the user out"
                .into(),
            command: Some(format!(
                "ykmfa enroll --user {name} --serial SERIAL-OF-THE-SECOND-TOKEN"
            )),
            reference: None,
        }),
        _ => {}
    }
}

fn orphan(o: &Orphan) -> Finding {
    // IAM keeps no creation date for virtual MFA devices: only ykmfa's own tag tells the age.
    // Without it an orphan may be seconds old (an enrollment in progress) or years.
    let created = o
        .tag(crate::iam::names::TAG_CREATED)
        .and_then(crate::timestamp::parse)
        .map(crate::timestamp::format);
    let mut summary = match created {
        Some(at) => format!("unassigned virtual MFA device, created {at}"),
        None => {
            String::from("unassigned virtual MFA device (age unknown: IAM keeps no creation date)")
        }
    };
    match (&o.tags, o.token()) {
        (None, _) => summary.push_str("; its tags could not be read"),
        (Some(_), Some(token)) => {
            summary.push_str(&format!("; made by ykmfa for {token}"));
            if let Some(c) = o.credential() {
                summary.push_str(&format!(", credential '{c}'"));
            }
        }
        (Some(_), None) => {}
    }
    Finding {
        check: Check::OrphanDevice,
        severity: Severity::Low,
        subject_kind: SubjectKind::Device,
        subject: o.serial.clone(),
        summary,
        fix: "unless an enrollment is in progress right now, delete it".into(),
        command: Some(remedy::aws_delete_device(&o.serial, "")),
        reference: None,
    }
}

/// Reads the facts from IAM: GetCallerIdentity, GetAccountSummary, GetAccountPasswordPolicy,
/// ListUsers and ListVirtualMFADevices once each (at the same time), then per user
/// ListMFADevices and, only for users without MFA, GetLoginProfile, and ListMFADeviceTags per
/// virtual device (its kind); then ListMFADeviceTags per orphan and for root's virtual device. At most `concurrency` per-user or per-device calls are in flight at once.
///
/// Any failure is returned as is, except a denied ListMFADeviceTags (orphans then have unknown
/// tags) and a device or user that disappears while the audit runs (left out).
pub async fn gather<D: Directory>(dir: &D, concurrency: usize) -> Result<Facts, IamError> {
    gather_in(dir, None, true, concurrency).await
}

/// [`gather`] in `account` when it is known (no GetCallerIdentity), and without
/// GetAccountSummary unless `summary` (root is read otherwise: its two facts stay `None`).
pub async fn gather_in<D: Directory>(
    dir: &D,
    account: Option<&str>,
    summary: bool,
    concurrency: usize,
) -> Result<Facts, IamError> {
    let who = async {
        match account {
            Some(account) => Ok(account.to_owned()),
            None => dir.caller_identity().await.map(|w| w.account),
        }
    };
    let summary = async {
        match summary {
            true => dir.get_account_summary().await,
            false => Ok(Default::default()),
        }
    };
    let (who, summary, policy, users, virtuals) = tokio::join!(
        who,
        summary,
        dir.get_account_password_policy(),
        dir.list_users(),
        dir.list_virtual_mfa_devices(AssignmentStatus::Any),
    );
    let (who, summary, policy, users, virtuals) = (who?, summary?, policy?, users?, virtuals?);
    let flag = |key: &str| summary.get(key).map(|v| *v != 0);

    let user_facts = try_bounded(
        users.iter().map(|u| async move {
            let devices = match dir.list_mfa_devices(Some(&u.name)).await {
                Ok(d) => d,
                Err(IamError::NoSuchEntity { .. }) => return Ok(None),
                Err(e) => return Err(e),
            };
            let console = if devices.is_empty() {
                Some(dir.get_login_profile(&u.name).await?)
            } else {
                None
            };
            let mut kinds = Vec::with_capacity(devices.len());
            for d in &devices {
                kinds.push(kind_of(dir, &d.serial).await?);
            }
            Ok(Some(UserFacts {
                name: u.name.clone(),
                devices,
                console,
                kinds,
            }))
        }),
        concurrency,
    )
    .await?;

    let unassigned = virtuals.iter().filter(|d| !d.is_assigned());
    let orphans = try_bounded(
        unassigned.map(|d| async move {
            let tags = match dir.list_mfa_device_tags(&d.serial).await {
                Ok(tags) => Some(tags),
                Err(IamError::AccessDenied { .. }) => None,
                Err(IamError::NoSuchEntity { .. }) => return Ok(None),
                Err(e) => return Err(e),
            };
            Ok(Some(Orphan {
                serial: d.serial.clone(),
                tags,
            }))
        }),
        concurrency,
    )
    .await?;

    let root_virtual_device = virtuals
        .iter()
        .find(|d| d.is_root())
        .map(|d| d.serial.clone());
    let root_virtual_kind = match &root_virtual_device {
        Some(serial) => Some(kind_of(dir, serial).await?),
        None => None,
    };
    Ok(Facts {
        account: who,
        root_mfa_enabled: flag("AccountMFAEnabled"),
        root_access_keys_present: flag("AccountAccessKeysPresent"),
        root_virtual_device,
        root_virtual_kind,
        password_policy: policy,
        users: user_facts.into_iter().flatten().collect(),
        orphans: orphans.into_iter().flatten().collect(),
    })
}

/// A device's kind; a virtual device's tags are read for it (ListMFADeviceTags). Tags that
/// can't be read (denied, or the device just went) leave it `virtual` of unknown origin.
async fn kind_of<D: Directory>(dir: &D, serial: &str) -> Result<DeviceKind, IamError> {
    let kind = DeviceKind::of(serial, None);
    if kind != DeviceKind::Virtual {
        return Ok(kind);
    }
    match dir.list_mfa_device_tags(serial).await {
        Ok(tags) => Ok(DeviceKind::of(serial, Some(&tags))),
        Err(IamError::AccessDenied { .. } | IamError::NoSuchEntity { .. }) => Ok(kind),
        Err(e) => Err(e),
    }
}

/// Runs the futures with at most `limit` in flight, in one task, and returns their outputs in
/// input order; the first error stops the rest (futures not yet started never start).
pub async fn try_bounded<T, E, F>(
    futures: impl IntoIterator<Item = F>,
    limit: usize,
) -> Result<Vec<T>, E>
where
    F: Future<Output = Result<T, E>>,
{
    let limit = limit.max(1);
    let mut waiting = futures.into_iter().enumerate();
    let mut running: Vec<(usize, Pin<Box<F>>)> = Vec::with_capacity(limit);
    let mut done: Vec<(usize, T)> = Vec::new();
    std::future::poll_fn(|cx| loop {
        while running.len() < limit {
            match waiting.next() {
                Some((i, f)) => running.push((i, Box::pin(f))),
                None => break,
            }
        }
        if running.is_empty() {
            return Poll::Ready(Ok(()));
        }
        let mut finished = false;
        let mut k = 0;
        while k < running.len() {
            match running[k].1.as_mut().poll(cx) {
                Poll::Ready(Ok(value)) => {
                    let (i, _) = running.swap_remove(k);
                    done.push((i, value));
                    finished = true;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => k += 1,
            }
        }
        // Room was made: start the next ones and poll them at once (they register their wakers).
        if !finished {
            return Poll::Pending;
        }
    })
    .await?;
    done.sort_by_key(|(i, _)| *i);
    Ok(done.into_iter().map(|(_, v)| v).collect())
}

#[cfg(test)]
mod tests;
