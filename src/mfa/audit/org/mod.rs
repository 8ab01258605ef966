//! The whole organization at once: every active account's root user and IAM users, read with
//! the credentials of the management account (or of the delegated administrator for
//! centralized root access), as one report, a work queue and a bulk manifest draft.
//!
//! Per account, two reads go out together:
//! - **root**, through `sts:AssumeRoot` with the `IAMAuditRootUserCredentials` task policy: root's
//!   MFA devices and their kind ([`MfaKind`], from the serial's shape), its console password,
//!   access keys and signing certificates. No credential at all is its own state
//!   ([`RootState::CredentialsDeleted`], compliant by absence). Where centralized root access is
//!   off (asked once, with ListOrganizationsFeatures), and for the caller's own account, which
//!   AssumeRoot can't target, root is read as the single-account audit reads it:
//!   GetAccountSummary and the account's virtual devices, through the role;
//! - **IAM users**, through a role assumed in the account (`OrganizationAccountAccessRole` unless
//!   told otherwise; the caller's own account with its own credentials): the facts and findings of
//!   [`super::gather`] and [`super::analyze`], and the tags of root's virtual device, which tell
//!   whether ykmfa wrote its secret to a token.
//!
//! Root's verdict is the single-account audit's ([`super::root::finding`], after AWS Config's
//! `root-account-hardware-mfa-enabled`): no MFA, or any virtual device, even a token-held one
//! beside a FIDO key, fails; only deleted credentials, which GetAccountSummary can't see, are
//! compliant by absence.
//!
//! At most `concurrency` accounts are in flight at once; throttling is retried by the SDK. A
//! refusal or a timeout reaching one account is a finding of that account
//! ([`Check::RootNotAudited`], [`Check::UsersNotAudited`]), never the end of the run; only
//! failing to list the accounts is. Every call is a read or opens a session: nothing changes.
//!
//! Like the rest of the library it never prints: it reports an [`Event`] per account.

pub mod queue;
pub mod report;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use super::root::RootDevices;
use super::{Check, Facts, Finding, Orphan, RootMfa, Severity, SubjectKind};
use crate::iam::assume::Assumer;
use crate::iam::{
    CallerIdentity, Directory, IamError, MfaKind, Options, OrgAccount, RootCredentials,
    RootFeature, RootSessionError, Sdk, AUDIT_ROOT_CREDENTIALS_TASK,
};
use crate::mfa::kind::DeviceKind;

/// The JSON document's schema id.
pub const SCHEMA: &str = "ykmfa.audit-org/1";
/// The role assumed in each account unless told otherwise (the one AWS Organizations creates in
/// the accounts it creates).
pub const DEFAULT_ROLE: &str = "OrganizationAccountAccessRole";
/// Accounts in flight at once, unless told otherwise.
pub const DEFAULT_CONCURRENCY: usize = 8;
/// Per-user calls in flight at once within one account.
const USER_CONCURRENCY: usize = 4;
/// The session name of the roles assumed (CloudTrail shows it).
const SESSION: &str = "ykmfa-audit";

/// What to audit, and how.
#[derive(Debug, Clone)]
pub struct Request {
    /// The role to assume in each account (a name: the ARN is made per account).
    pub role: String,
    /// Accounts in flight at once.
    pub concurrency: usize,
}

/// What the run reports as it goes.
#[derive(Debug)]
pub enum Event<'a> {
    /// The accounts are listed: this many will be audited (suspended ones aside).
    Listed {
        /// Active accounts.
        active: usize,
    },
    /// Centralized root access is off or unknown: root is read through the role instead. Said
    /// once.
    RootFallback {
        /// Why, in a sentence.
        why: &'a str,
    },
    /// One account is done.
    Audited(&'a AccountAudit),
}

/// Whether root was read through root sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RootAccess {
    /// Centralized root access is on: AssumeRoot for every member.
    Enabled,
    /// Off: GetAccountSummary through the role.
    NotEnabled,
    /// ListOrganizationsFeatures failed: AssumeRoot is tried per account.
    Unknown,
}

/// The root user's posture, as one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RootState {
    /// A FIDO security key (or passkey) among root's devices (a virtual device beside it still
    /// fails the rule: [`RootPosture::hardware_mfa`]).
    Fido,
    /// A hardware TOTP token among root's devices, and no FIDO key (likewise).
    Hardware,
    /// MFA on and no virtual device: hardware TOTP or FIDO (GetAccountSummary can't tell which).
    HardwareOrFido,
    /// Only virtual devices, one of them written to a token by ykmfa (its tags say which).
    VirtualOnToken,
    /// Only virtual devices, none known to be on a token.
    Virtual,
    /// No MFA device.
    NoMfa,
    /// No password, access key, signing certificate or MFA device: deleted centrally.
    CredentialsDeleted,
    /// Not read (the account could not be reached).
    Unknown,
}

impl RootState {
    /// The state's name, as in JSON and the table.
    pub fn as_str(self) -> &'static str {
        match self {
            RootState::Fido => "fido",
            RootState::Hardware => "hardware",
            RootState::HardwareOrFido => "hardware-or-fido",
            RootState::VirtualOnToken => "virtual-on-token",
            RootState::Virtual => "virtual",
            RootState::NoMfa => "no-mfa",
            RootState::CredentialsDeleted => "credentials-deleted",
            RootState::Unknown => "unknown",
        }
    }
}

/// Where the root posture came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RootSource {
    /// A root session (AssumeRoot, IAMAuditRootUserCredentials).
    AssumeRoot,
    /// GetAccountSummary and ListVirtualMFADevices through the role.
    AccountSummary,
    /// Nowhere: not read.
    None,
}

/// One of root's MFA devices.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RootDevice {
    /// The serial number (an ARN for virtual and FIDO devices).
    pub serial: String,
    /// How it holds its secret.
    pub kind: MfaKind,
    /// The finer kind, as `ykmfa.audit/1` names it: a virtual device's tags tell whether ykmfa
    /// wrote its secret to a token.
    pub device_kind: DeviceKind,
    /// The token ykmfa wrote it to, from the device's tags (`YubiKey 12345678`).
    pub token: Option<String>,
}

/// The root user of one account.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RootPosture {
    /// In one word: the strongest device root has (a virtual one beside it is in `devices`).
    pub state: RootState,
    /// Whether root meets AWS Config's `root-account-hardware-mfa-enabled` (MFA on and no
    /// virtual device), as the findings judge it; `None` when not known, or when root's
    /// credentials are deleted (nothing left to protect).
    pub hardware_mfa: Option<bool>,
    /// Where it was read.
    pub source: RootSource,
    /// Root's MFA devices (from GetAccountSummary: only the virtual one, if any).
    pub devices: Vec<RootDevice>,
    /// Whether root has a console password (`None`: not known).
    pub password: Option<bool>,
    /// Whether root has access keys (`None`: not known).
    pub access_keys: Option<bool>,
    /// Root's signing certificates (`None`: not known).
    pub signing_certificates: Option<usize>,
    /// Root's devices as the verdict reads them (the same rule as the single-account audit).
    #[serde(skip)]
    pub mfa: RootDevices,
}

impl RootPosture {
    fn unknown() -> RootPosture {
        RootPosture {
            state: RootState::Unknown,
            hardware_mfa: None,
            source: RootSource::None,
            devices: Vec::new(),
            password: None,
            access_keys: None,
            signing_certificates: None,
            mfa: RootDevices::default(),
        }
    }

    /// From a root session's reads; `tags` are those of root's virtual device when the role
    /// could read them.
    pub fn from_root_session(
        creds: &RootCredentials,
        tags: Option<&(String, Vec<(String, String)>)>,
    ) -> RootPosture {
        let devices: Vec<RootDevice> = creds
            .mfa_devices
            .iter()
            .map(|serial| RootDevice {
                serial: serial.clone(),
                kind: MfaKind::of(serial),
                device_kind: DeviceKind::of(serial, tags_of(serial, tags)),
                token: token_of(serial, tags),
            })
            .collect();
        let state = state_of(&devices, creds.none());
        let mfa = RootDevices::all(devices.iter().map(|d| d.device_kind).collect());
        RootPosture {
            state,
            hardware_mfa: verdict(state, &mfa),
            source: RootSource::AssumeRoot,
            devices,
            password: Some(creds.password),
            access_keys: Some(creds.access_keys > 0),
            signing_certificates: Some(creds.signing_certificates),
            mfa,
        }
    }

    /// From the single-account facts (GetAccountSummary, ListVirtualMFADevices).
    pub fn from_summary(facts: &Facts, tags: Option<&(String, Vec<(String, String)>)>) -> Self {
        let devices: Vec<RootDevice> = facts
            .root_virtual_device
            .iter()
            .map(|serial| RootDevice {
                serial: serial.clone(),
                kind: MfaKind::Virtual,
                device_kind: facts.root_virtual_kind.unwrap_or(DeviceKind::Virtual),
                token: token_of(serial, tags),
            })
            .collect();
        let state = match facts.root_mfa() {
            RootMfa::Virtual => state_of(&devices, false),
            RootMfa::Hardware => RootState::HardwareOrFido,
            RootMfa::None => RootState::NoMfa,
            RootMfa::Unknown => RootState::Unknown,
        };
        // The same facts, so the same verdict as the single-account audit.
        let mfa = facts.root_devices();
        RootPosture {
            state,
            hardware_mfa: verdict(state, &mfa),
            source: RootSource::AccountSummary,
            devices,
            password: None,
            access_keys: facts.root_access_keys_present,
            signing_certificates: None,
            mfa,
        }
    }

    /// Whether a person must act on root: whenever root fails the hardware-MFA rule (no MFA,
    /// or any virtual device, beside a FIDO key included), someone must add a device, remove
    /// the virtual one, or accept the finding. Deleted credentials are compliant by absence.
    pub fn needs_person(&self) -> bool {
        self.state != RootState::CredentialsDeleted && self.hardware_mfa == Some(false)
    }
}

/// The hardware-MFA verdict, except where root has no credential left to protect.
fn verdict(state: RootState, mfa: &RootDevices) -> Option<bool> {
    match state {
        RootState::CredentialsDeleted => None,
        _ => mfa.hardware_mfa(),
    }
}

/// The tags the role read for `serial`, if they are that device's.
fn tags_of<'a>(
    serial: &str,
    tags: Option<&'a (String, Vec<(String, String)>)>,
) -> Option<&'a [(String, String)]> {
    tags.filter(|(s, _)| s == serial).map(|(_, t)| t.as_slice())
}

fn token_of(serial: &str, tags: Option<&(String, Vec<(String, String)>)>) -> Option<String> {
    let (tagged, tags) = tags.filter(|(s, _)| s == serial)?;
    Orphan {
        serial: tagged.clone(),
        tags: Some(tags.clone()),
    }
    .token()
}

fn state_of(devices: &[RootDevice], no_credentials: bool) -> RootState {
    let has = |k: MfaKind| devices.iter().any(|d| d.kind == k);
    if has(MfaKind::Fido) {
        RootState::Fido
    } else if has(MfaKind::Hardware) {
        RootState::Hardware
    } else if devices.iter().any(|d| d.token.is_some()) {
        RootState::VirtualOnToken
    } else if !devices.is_empty() {
        RootState::Virtual
    } else if no_credentials {
        RootState::CredentialsDeleted
    } else {
        RootState::NoMfa
    }
}

/// One account, audited (or skipped).
#[derive(Debug, Clone)]
pub struct AccountAudit {
    /// The account, as ListAccounts gave it.
    pub account: OrgAccount,
    /// Whether it is the organization's management account.
    pub management: bool,
    /// The root user.
    pub root: RootPosture,
    /// The single-account facts, when the role could read them.
    pub facts: Option<Facts>,
    /// Root's findings, the users', and one per part that could not be read; most severe first.
    pub findings: Vec<Finding>,
}

impl AccountAudit {
    /// Whether it was audited at all (only active accounts are).
    pub fn audited(&self) -> bool {
        self.account.is_active()
    }

    /// Whether some part could not be read.
    pub fn incomplete(&self) -> bool {
        self.findings
            .iter()
            .any(|f| matches!(f.check, Check::RootNotAudited | Check::UsersNotAudited))
    }
}

/// The organization, audited.
#[derive(Debug, Clone)]
pub struct OrgAudit {
    /// The caller's account.
    pub caller_account: String,
    /// The ARN partition (`aws`, `aws-cn`, …).
    pub partition: String,
    /// The management account.
    pub management: String,
    /// The role assumed in each account.
    pub role: String,
    /// How root was read.
    pub root_access: RootAccess,
    /// Every account of the organization, in ListAccounts' order.
    pub accounts: Vec<AccountAudit>,
    /// Calls made, per action (every AWS request ykmfa sent, sessions included).
    pub calls: BTreeMap<&'static str, u32>,
}

impl OrgAudit {
    /// Every finding of every account, with its account.
    pub fn findings(&self) -> impl Iterator<Item = (&AccountAudit, &Finding)> {
        self.accounts
            .iter()
            .flat_map(|a| a.findings.iter().map(move |f| (a, f)))
    }

    /// The role ARN used for `account`.
    pub fn role_arn(&self, account: &str) -> String {
        format!("arn:{}:iam::{account}:role/{}", self.partition, self.role)
    }
}

struct Run<'a> {
    caller: &'a Sdk,
    who: &'a CallerIdentity,
    assumer: &'a Assumer,
    request: &'a Request,
    partition: &'a str,
    management: &'a str,
    root_sessions: bool,
    /// Root sessions are known to work: GetAccountSummary is not needed as a fallback.
    root_known: bool,
    assumed: AtomicU32,
    rooted: AtomicU32,
    role_calls: std::sync::Mutex<BTreeMap<&'static str, u32>>,
}

/// Audits every account of the organization with the credentials `options` describe (the
/// management account's, or the delegated administrator's). Fails only when the caller or the
/// accounts can't be known.
pub async fn audit(
    options: &Options,
    request: &Request,
    on_event: &(dyn Fn(Event<'_>) + Sync),
) -> Result<OrgAudit, IamError> {
    let assumer = Assumer::new(options).await?;
    let (caller, orgs) = (assumer.caller()?, assumer.organizations()?);
    let (caller, orgs, assumer) = (&caller, &orgs, &assumer);
    let (who, accounts, management, features) = tokio::join!(
        caller.caller_identity(),
        orgs.accounts(),
        orgs.management_account(),
        caller.root_features_off(),
    );
    let (who, accounts, management) = (who?, accounts?, management?);
    let off = match &features {
        Ok(off) if !off.contains(&RootFeature::Sessions) => None,
        Ok(off) => {
            let off: Vec<&str> = off.iter().map(|f| f.name()).collect();
            Some(format!("{} off", off.join(" and ")))
        }
        // IAM's answers for an organization where root sessions can't be opened (IAM API
        // reference, ListOrganizationsFeatures).
        Err(IamError::Other { code, .. }) => match code.trim_end_matches("Exception") {
            "ServiceAccessNotEnabled" => Some("IAM has no trusted access to Organizations".into()),
            "OrganizationNotInAllFeaturesMode" => Some("the organization lacks all features".into()),
            "AccountNotManagementOrDelegatedAdministrator" | "OrganizationNotFound" => Some(
                "these credentials are neither the management account's nor the delegated administrator's"
                    .into(),
            ),
            _ => None,
        },
        Err(_) => None,
    };
    let root_access = match (&features, off) {
        (_, Some(off)) => {
            let why = format!(
                "centralized root access is not enabled ({off}): root is read through the role (GetAccountSummary), which can't tell hardware from FIDO devices nor see a root password, signing certificates or credentials deleted"
            );
            on_event(Event::RootFallback { why: &why });
            RootAccess::NotEnabled
        }
        (Ok(_), None) => RootAccess::Enabled,
        (Err(e), None) => {
            tracing::debug!("ListOrganizationsFeatures: {e}");
            RootAccess::Unknown
        }
    };
    let partition = who.partition().unwrap_or("aws").to_owned();
    let active = accounts.iter().filter(|a| a.is_active()).count();
    on_event(Event::Listed { active });
    let run = Run {
        caller,
        who: &who,
        assumer,
        request,
        partition: &partition,
        management: &management,
        root_sessions: root_access != RootAccess::NotEnabled,
        root_known: root_access == RootAccess::Enabled,
        assumed: AtomicU32::new(0),
        rooted: AtomicU32::new(0),
        role_calls: Default::default(),
    };
    let done = AtomicUsize::new(0);
    let audits = super::try_bounded(
        accounts.iter().map(|a| async {
            let audit = run.account(a).await;
            if audit.audited() {
                done.fetch_add(1, Ordering::Relaxed);
                on_event(Event::Audited(&audit));
            }
            Ok::<_, std::convert::Infallible>(audit)
        }),
        request.concurrency,
    )
    .await;
    let audits = match audits {
        Ok(a) => a,
        Err(never) => match never {},
    };
    let mut calls: BTreeMap<&'static str, u32> = BTreeMap::new();
    let role_calls = run.role_calls.lock().map(|c| c.clone()).unwrap_or_default();
    let sessions = [
        ("sts:AssumeRole", run.assumed.load(Ordering::Relaxed)),
        ("sts:AssumeRoot", run.rooted.load(Ordering::Relaxed)),
    ];
    for (action, n) in caller
        .calls()
        .into_iter()
        .chain(orgs.calls())
        .chain(role_calls)
        .chain(sessions)
    {
        *calls.entry(action).or_default() += n;
    }
    calls.retain(|_, n| *n > 0);
    Ok(OrgAudit {
        caller_account: who.account.clone(),
        partition,
        management,
        role: request.role.clone(),
        root_access,
        accounts: audits,
        calls,
    })
}

impl Run<'_> {
    async fn account(&self, account: &OrgAccount) -> AccountAudit {
        let management = account.id == self.management;
        let mut audit = AccountAudit {
            account: account.clone(),
            management,
            root: RootPosture::unknown(),
            facts: None,
            findings: Vec::new(),
        };
        if !account.is_active() {
            return audit;
        }
        let own = account.id == self.who.account;
        // AssumeRoot can't target the caller's own account (nor the management account).
        let central = !own && !management && self.root_sessions;
        let (users, root) = tokio::join!(
            self.users(&account.id, own, !(central && self.root_known)),
            async {
                match central {
                    true => Some(self.root(&account.id).await),
                    false => None,
                }
            }
        );
        let (facts, tags) = match users {
            Ok((facts, tags)) => (Some(facts), tags),
            Err(e) => {
                let why = format!("{e}");
                audit
                    .findings
                    .push(not_audited(Check::UsersNotAudited, self, account, &why));
                (None, None)
            }
        };
        audit.root = match (root, &facts) {
            (Some(Ok(creds)), _) => RootPosture::from_root_session(&creds, tags.as_ref()),
            (Some(Err(e)), facts) => {
                let why = e.to_string();
                audit
                    .findings
                    .push(not_audited(Check::RootNotAudited, self, account, &why));
                facts.as_ref().map_or_else(RootPosture::unknown, |f| {
                    RootPosture::from_summary(f, tags.as_ref())
                })
            }
            (None, Some(f)) => RootPosture::from_summary(f, tags.as_ref()),
            (None, None) => RootPosture::unknown(),
        };
        root_findings(&audit.root, &account.id, &mut audit.findings);
        if let Some(f) = &facts {
            let user_side = super::analyze(f).into_iter().filter(|f| {
                !matches!(
                    f.check,
                    Check::RootMfaDisabled | Check::RootMfaVirtual | Check::RootAccessKeys
                )
            });
            audit.findings.extend(user_side);
        }
        audit.findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then(a.check.cmp(&b.check))
                .then_with(|| a.subject.cmp(&b.subject))
        });
        audit.facts = facts;
        audit
    }

    /// The single-account facts through the role (or the caller's own credentials), and the
    /// tags of root's virtual device, if it has one.
    async fn users(
        &self,
        account: &str,
        own: bool,
        summary: bool,
    ) -> Result<(Facts, Option<(String, Vec<(String, String)>)>), IamError> {
        let assumed;
        let dir = if own {
            self.caller
        } else {
            self.assumed.fetch_add(1, Ordering::Relaxed);
            let arn = format!(
                "arn:{}:iam::{account}:role/{}",
                self.partition, self.request.role
            );
            assumed = self.assumer.assume(&arn, SESSION).await?;
            &assumed
        };
        let facts = super::gather_in(dir, Some(account), summary, USER_CONCURRENCY).await;
        let tags = match facts
            .as_ref()
            .ok()
            .and_then(|f| f.root_virtual_device.clone())
        {
            Some(serial) => match dir.list_mfa_device_tags(&serial).await {
                Ok(tags) => Some((serial, tags)),
                Err(e) => {
                    tracing::debug!("tags of root's device {serial}: {e}");
                    None
                }
            },
            None => None,
        };
        if !own {
            if let Ok(mut calls) = self.role_calls.lock() {
                for (action, n) in dir.calls() {
                    *calls.entry(action).or_default() += n;
                }
            }
        }
        Ok((facts?, tags))
    }

    async fn root(&self, account: &str) -> Result<RootCredentials, RootSessionError> {
        self.rooted.fetch_add(1, Ordering::Relaxed);
        let session = self
            .caller
            .open_root_session_for(self.who, account, AUDIT_ROOT_CREDENTIALS_TASK)
            .await?;
        Ok(session.directory.root_credentials().await?)
    }
}

fn not_audited(check: Check, run: &Run<'_>, account: &OrgAccount, why: &str) -> Finding {
    let (summary, fix) = if check == Check::RootNotAudited {
        (
            format!("root could not be read through sts:AssumeRoot: {why}"),
            "check that centralized root access covers this account and that the caller may call sts:AssumeRoot on it, then audit again".to_owned(),
        )
    } else {
        (
            format!(
                "the role arn:{}:iam::{}:role/{} could not be used: {why}",
                run.partition, account.id, run.request.role
            ),
            format!(
                "make the role {} assumable by the caller (or name another with --role), then audit again",
                run.request.role
            ),
        )
    };
    Finding {
        check,
        severity: Severity::Medium,
        subject_kind: SubjectKind::Account,
        subject: account.id.clone(),
        summary,
        fix,
        command: None,
        reference: None,
    }
}

/// Root's findings, from its posture.
pub fn root_findings(root: &RootPosture, account: &str, out: &mut Vec<Finding>) {
    let finding = |check, severity, summary: String, fix: &str, command, reference| Finding {
        check,
        severity,
        subject_kind: SubjectKind::Root,
        subject: "root".into(),
        summary,
        fix: fix.into(),
        command,
        reference,
    };
    // The rule and its words are the single-account audit's; only deleted credentials (which
    // GetAccountSummary can't see) are compliant by absence rather than "no MFA".
    if root.state != RootState::CredentialsDeleted {
        out.extend(super::root::finding(&root.mfa, account));
    }
    if root.access_keys == Some(true) {
        out.push(finding(
            Check::RootAccessKeys,
            Severity::Critical,
            "the root user has access keys".into(),
            "delete them: centrally (sts:AssumeRoot with IAMDeleteRootUserCredentials, then iam:DeleteAccessKey) or as root in the console; use IAM roles for automation",
            None,
            Some("CIS v3.0.0 1.4"),
        ));
    }
    if let Some(n) = root.signing_certificates.filter(|n| *n > 0) {
        out.push(finding(
            Check::RootSigningCertificates,
            Severity::Medium,
            format!("the root user has {n} signing certificate{}", crate::layout::plural(n)),
            "delete them centrally (sts:AssumeRoot with IAMDeleteRootUserCredentials, then iam:DeleteSigningCertificate)",
            None,
            None,
        ));
    }
}

#[cfg(test)]
mod tests;
