//! Root's MFA verdict, one rule for both audits: AWS Config's managed rule
//! `root-account-hardware-mfa-enabled`, which is NON_COMPLIANT when root has no MFA, or when any
//! of root's MFA devices is virtual (it looks for a virtual device whose user is root), whatever
//! else root has: a FIDO key beside a virtual device does not make up for it, and a virtual
//! device whose secret ykmfa wrote to a token is still virtual to AWS.
//!
//! The two audits see root differently: the single-account audit through GetAccountSummary and
//! ListVirtualMFADevices (MFA on or off, and root's virtual device if any), the organization
//! audit through a root session (every device). Each builds a [`RootDevices`] from what it read,
//! and [`finding`] words the verdict the same way for both. Pure: no I/O.

use super::{Check, Finding, RootMfa, Severity, SubjectKind};
use crate::mfa::kind::DeviceKind;

/// What an audit knows of root's MFA devices.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RootDevices {
    /// Whether root has any MFA device; `None` when not known.
    pub enabled: Option<bool>,
    /// The kinds of root's devices as far as they are known: every device from a root session,
    /// only the virtual one from GetAccountSummary (which can't tell hardware TOTP from FIDO).
    pub kinds: Vec<DeviceKind>,
}

impl RootDevices {
    /// Root's devices when every one is known (a root session): none means no MFA.
    pub fn all(kinds: Vec<DeviceKind>) -> RootDevices {
        RootDevices {
            enabled: Some(!kinds.is_empty()),
            kinds,
        }
    }

    /// The verdict in one word: a virtual device wins over everything else, as in the rule.
    pub fn mfa(&self) -> RootMfa {
        if self.virtual_kind().is_some() {
            RootMfa::Virtual
        } else if !self.kinds.is_empty() {
            RootMfa::Hardware
        } else {
            match self.enabled {
                Some(true) => RootMfa::Hardware,
                Some(false) => RootMfa::None,
                None => RootMfa::Unknown,
            }
        }
    }

    /// Whether root meets `root-account-hardware-mfa-enabled`; `None` when not known.
    pub fn hardware_mfa(&self) -> Option<bool> {
        match self.mfa() {
            RootMfa::Hardware => Some(true),
            RootMfa::None | RootMfa::Virtual => Some(false),
            RootMfa::Unknown => None,
        }
    }

    /// The virtual device the finding speaks of: one of unknown origin before a token-held one
    /// (the former is the weaker, so the reason names it).
    fn virtual_kind(&self) -> Option<DeviceKind> {
        let has = |k: DeviceKind| self.kinds.contains(&k).then_some(k);
        has(DeviceKind::Virtual).or_else(|| has(DeviceKind::VirtualOnToken))
    }

    /// A device that meets the control, known to be beside the virtual one: FIDO first.
    pub fn hardware_beside(&self) -> Option<DeviceKind> {
        let has = |k: DeviceKind| self.kinds.contains(&k).then_some(k);
        has(DeviceKind::Fido).or_else(|| has(DeviceKind::HardwareTotp))
    }
}

/// The rule's reference, as both audits cite it.
const REFERENCE: &str = "CIS v3.0.0 1.6; AWS Config root-account-hardware-mfa-enabled";

/// Root's MFA finding in `account`, if the rule fails: `root-mfa-disabled` (critical) without
/// MFA, `root-mfa-virtual` (low) with any virtual device; none when root's MFA is all hardware
/// or nothing is known.
pub fn finding(root: &RootDevices, account: &str) -> Option<Finding> {
    let finding = |check, severity, summary: String, fix: String, command, reference| Finding {
        check,
        severity,
        subject_kind: SubjectKind::Root,
        subject: "root".into(),
        summary,
        fix,
        command,
        reference: Some(reference),
    };
    match root.mfa() {
        RootMfa::None => Some(finding(
            Check::RootMfaDisabled,
            Severity::Critical,
            "the root user has no MFA device".into(),
            "sign in to the console as root, open Security credentials and assign an MFA device; ykmfa writes its secret to a token".into(),
            Some(format!("ykmfa enroll --root --account {account}")),
            "CIS v3.0.0 1.5",
        )),
        // Another virtual device, even on a token, would not pass: no command.
        RootMfa::Virtual => Some(finding(
            Check::RootMfaVirtual,
            Severity::Low,
            virtual_summary(root),
            virtual_fix(root.hardware_beside()),
            None,
            REFERENCE,
        )),
        RootMfa::Hardware | RootMfa::Unknown => None,
    }
}

/// Why root fails the control: which virtual device, and that nothing beside it helps.
fn virtual_summary(root: &RootDevices) -> String {
    let what = match root.hardware_beside() {
        None => "its MFA is a virtual device".to_owned(),
        Some(k) => format!("beside its {}, its MFA includes a virtual device", noun(k)),
    };
    let why = match root.virtual_kind() {
        Some(DeviceKind::VirtualOnToken) => {
            "; ykmfa wrote the secret to a token, but to AWS it is still virtual, and any virtual device fails the control"
        }
        _ => " (of unknown origin: a phone app?), and any virtual device fails the control",
    };
    format!("the root user does not meet the hardware-MFA control: {what}{why}")
}

/// What to do: get a FIDO key or hardware token if root has none, then remove the virtual
/// device; or keep a token-held one knowingly, as an exception.
fn virtual_fix(beside: Option<DeviceKind>) -> String {
    let exception = "if you keep a token-held one as backup and CLI factor, note root's failure of this control as your exception";
    match beside {
        None => format!("register a FIDO security key or a hardware TOTP token for root in the console and remove the virtual device; {exception}"),
        Some(k) => format!("root already has a {}: remove the virtual device in the console (Security credentials); {exception}", noun(k)),
    }
}

/// A device kind that meets the control, as a sentence names it.
pub fn noun(kind: DeviceKind) -> &'static str {
    match kind {
        DeviceKind::Fido => "FIDO security key",
        DeviceKind::HardwareTotp => "hardware TOTP token",
        DeviceKind::VirtualOnToken => "virtual device on a token",
        DeviceKind::Virtual => "virtual device",
    }
}
