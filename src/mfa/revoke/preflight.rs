//! Preflight: everything a revocation reads and decides before it changes anything — whose
//! device, where its credential is (unlocking the tokens that may hold it), and whether it is
//! the principal's last — for an IAM user ([`UserSurvey`]) or, through a root session
//! ([`RootAccess`]), a member account's root user ([`root_plan`], then
//! [`Tokens::place_root_credential`]).

use std::time::{Duration, SystemTime};

use crate::iam::{CallerIdentity, Directory, MfaDevice, RootSession, RootSessionError, Sdk};
use crate::mfa::hardware::HardwareSerial;
use crate::mfa::labels::root_labels;
use crate::mfa::pairing::{
    self, ArnError, DeviceArn, Explicit, Pairing, Place, TokenRef, UserDevices, Whose,
};
use crate::oath;
use crate::token::present::{Ask, Present, PresentError};
use crate::token::{SelectError, Serial, Token};
use crate::transport::TransportError;

use super::{Cause, CredentialPlan, Plan, Principal, Refusal, Step};

/// Which of a user's devices is revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `--device ARN`.
    Device(DeviceArn),
    /// `--serial SERIAL`: the one device whose credential is on that token.
    Token(Serial),
    /// `--device SERIAL` of a hardware TOTP token: deactivated only.
    Hardware(HardwareSerial),
}

impl Target {
    /// `--device`'s value: a virtual device's ARN, or a hardware token's serial.
    pub fn device(text: &str) -> Result<Target, ArnError> {
        let text = text.trim();
        match HardwareSerial::parse(text) {
            Ok(serial) => Ok(Target::Hardware(serial)),
            Err(_) => DeviceArn::parse(text).map(Target::Device),
        }
    }
}

/// A user's device to revoke, as asked.
#[derive(Debug, Clone)]
pub struct UserRequest {
    /// The IAM user.
    pub user: String,
    /// Which device.
    pub target: Target,
    /// The credential's name on the token (`--label`), with [`Target::Device`].
    pub label: Option<String>,
    /// `--keep-credential`: leave the token alone.
    pub keep_credential: bool,
    /// `--allow-last`: the principal's last MFA device may go.
    pub allow_last: bool,
}

/// Why preflight stopped; nothing was changed. `E` is the error of the password callback.
#[derive(Debug, thiserror::Error)]
pub enum PreflightError<E> {
    /// IAM failed, or preflight refused.
    #[error(transparent)]
    Cause(#[from] Cause),
    /// The tokens could not be looked at or unlocked.
    #[error(transparent)]
    Tokens(#[from] PresentError<E>),
}

impl<E> From<Refusal> for PreflightError<E> {
    fn from(r: Refusal) -> Self {
        PreflightError::Cause(r.into())
    }
}

/// The tokens present for a revocation.
pub struct Tokens {
    /// The tokens, unlocked where the credential may be.
    pub present: Present,
    /// Why no token could be looked at (the PC/SC service failed), when that did not stop the
    /// revocation: the credential is then left where it is.
    pub unreachable: Option<String>,
}

impl Tokens {
    /// Looks at the tokens. When a token is `required` (`--serial`) a PC/SC failure is an
    /// error; otherwise it only means the credential can't be looked for, and with `keep`
    /// (`--keep-credential`) it is not even worth saying.
    pub fn look(required: bool, keep: bool) -> Result<Tokens, TransportError> {
        let (present, unreachable) = match Present::look() {
            Ok(present) => (present, None),
            Err(e) if required => return Err(e),
            Err(e) if keep => {
                tracing::debug!("tokens not looked at: {e}");
                (Present::nothing(), None)
            }
            Err(e) => (Present::nothing(), Some(e.to_string())),
        };
        Ok(Tokens {
            present,
            unreachable,
        })
    }

    /// Decides what happens to the root user's credential for `plan` ([`root_credential`]),
    /// the locked tokens unlocked first unless `keep` (`--keep-credential`). When no token could
    /// be looked at, the credential stays [`CredentialPlan::NotLookedFor`].
    pub fn place_root_credential<E>(
        &mut self,
        plan: &mut Plan,
        keep: bool,
        ask: Ask<'_, E>,
    ) -> Result<(), PreflightError<E>> {
        if !keep {
            self.present.unlock(|_| true, ask)?;
        }
        if self.unreachable.is_none() {
            plan.credential = root_credential(plan, &self.present.tokens, keep)?;
        }
        Ok(())
    }

    fn look_for(req: &UserRequest) -> Result<Tokens, Cause> {
        if matches!(req.target, Target::Hardware(_)) {
            // Nothing of a hardware token is on a token of ykmfa's.
            return Ok(Tokens {
                present: Present::nothing(),
                unreachable: None,
            });
        }
        let required = matches!(req.target, Target::Token(_));
        Tokens::look(required, req.keep_credential).map_err(|e| Cause::Card {
            step: Step::Preflight,
            error: oath::Error::Transport(e),
        })
    }
}

/// What preflight of a user's revocation read: IAM's view of the user, and the tokens.
pub struct UserSurvey {
    /// The user's devices and tags ([`pairing::read_user`]).
    pub view: UserDevices,
    /// The tokens present.
    pub tokens: Tokens,
}

impl UserSurvey {
    /// Reads the user's devices (refusing a `--device` that is not one of them, saying whose it
    /// is), then looks at the tokens.
    pub async fn read<D: Directory>(dir: &D, req: &UserRequest) -> Result<Self, Cause> {
        let view = read_view(dir, &req.user).await?;
        match &req.target {
            Target::Device(arn) => check_device(&view, dir, arn).await?,
            Target::Hardware(s) if !view.devices.iter().any(|d| d.device.serial == s.as_str()) => {
                let (device, user) = (s.to_string(), view.user.clone());
                return Err(Refusal::NotUsersDevice { device, user }.into());
            }
            Target::Hardware(_) | Target::Token(_) => {}
        }
        let tokens = tokio::task::block_in_place(|| Tokens::look_for(req))?;
        Ok(UserSurvey { view, tokens })
    }

    /// Reads IAM and the tokens again, after settling dead runs changed them; the password
    /// given stays.
    pub async fn again<D: Directory>(&mut self, dir: &D, req: &UserRequest) -> Result<(), Cause> {
        self.view = read_view(dir, &req.user).await?;
        let fresh = tokio::task::block_in_place(|| Tokens::look_for(req))?;
        self.tokens.present.renew(fresh.present);
        self.tokens.unreachable = fresh.unreachable;
        Ok(())
    }

    /// The plan: the device (`--device`, or the one on `--serial`'s token), where its credential
    /// is, unlocking the tokens that may hold it (the password asked of `ask`, once), and the
    /// last-device rule.
    pub fn plan<E>(
        &mut self,
        req: &UserRequest,
        ask: Ask<'_, E>,
    ) -> Result<Plan, PreflightError<E>> {
        if let Target::Hardware(serial) = &req.target {
            return self.hardware_plan(serial, req.allow_last);
        }
        let present = &mut self.tokens.present;
        let explicit = match &req.target {
            Target::Device(arn) => Some(Explicit {
                device: arn.to_string(),
                credential: req.label.clone(),
            }),
            Target::Token(_) | Target::Hardware(_) => None,
        };
        let mut paired = self.view.pair(&present.tokens, explicit.as_ref());
        let device = match &req.target {
            Target::Device(arn) => arn.to_string(),
            Target::Hardware(serial) => serial.to_string(),
            Target::Token(serial) => {
                let Some(token) = present.by_serial(*serial) else {
                    return Err(PresentError::Select(SelectError::NoMatchingSerial {
                        wanted: *serial,
                        present: present.tokens.clone(),
                    })
                    .into());
                };
                let (reader, name) = (token.reader.clone(), token.describe());
                if token.listed.is_none() {
                    present.unlock(|t| t.reader == reader, ask)?;
                    if present.is_locked(&reader) {
                        return Err(PresentError::Card(oath::Error::Locked).into());
                    }
                    paired = self.view.pair(&present.tokens, None);
                }
                device_on_token(&self.view.user, &paired, *serial, &name)?
            }
        };
        if !req.keep_credential {
            if let Some(Place::Unknown { locked }) = paired.device(&device).map(|p| &p.place) {
                let readers: Vec<String> = locked.iter().map(|t| t.reader.clone()).collect();
                if present.unlock(|t| readers.contains(&t.reader), ask)? {
                    paired = self.view.pair(&present.tokens, explicit.as_ref());
                }
            }
        }
        let Some(entry) = paired.device(&device) else {
            return Err(Refusal::NotUsersDevice {
                device,
                user: self.view.user.clone(),
            }
            .into());
        };
        let credential = CredentialPlan::from_place(entry, req.keep_credential)?;
        let plan = Plan {
            account: self.view.account.clone(),
            principal: Principal::User {
                name: self.view.user.clone(),
            },
            device,
            assigned: true,
            devices_before: self.view.devices.len(),
            credential,
        };
        plan.check_last(req.allow_last)?;
        Ok(plan)
    }
}

impl UserSurvey {
    /// A hardware token's plan: deactivate it, nothing else (its seed is AWS's, no token of
    /// ykmfa's holds it).
    fn hardware_plan<E>(
        &self,
        serial: &HardwareSerial,
        allow_last: bool,
    ) -> Result<Plan, PreflightError<E>> {
        let plan = Plan {
            account: self.view.account.clone(),
            principal: Principal::User {
                name: self.view.user.clone(),
            },
            device: serial.to_string(),
            assigned: true,
            devices_before: self.view.devices.len(),
            credential: CredentialPlan::Hardware,
        };
        plan.check_last(allow_last)?;
        Ok(plan)
    }
}

async fn read_view<D: Directory>(dir: &D, user: &str) -> Result<UserDevices, Cause> {
    pairing::read_user(dir, user).await.map_err(|e| match e {
        pairing::ReadError::NoSuchUser { user, account } => {
            Refusal::UnknownUser(user, account).into()
        }
        pairing::ReadError::Iam(error) => Cause::Iam {
            step: Step::Preflight,
            error,
        },
    })
}

/// `--device`: one of the user's, or a refusal saying whose it is.
pub async fn check_device<D: Directory>(
    view: &UserDevices,
    dir: &D,
    arn: &DeviceArn,
) -> Result<(), Refusal> {
    let (device, user) = (arn.to_string(), view.user.clone());
    Err(match view.whose(dir, arn).await {
        None => return Ok(()),
        Some(Whose::OtherAccount) => Refusal::OtherAccount {
            device,
            device_account: arn.account().to_owned(),
            account: view.account.clone(),
        },
        Some(Whose::NoSuchDevice) => Refusal::UnknownDevice(device),
        Some(Whose::Root) => Refusal::RootsDevice { device, user },
        Some(Whose::User(owner)) => Refusal::OtherUsersDevice {
            device,
            user,
            owner,
        },
        Some(Whose::Nobody) => Refusal::Unassigned { device, user },
        Some(Whose::Unsaid) => Refusal::NotUsersDevice { device, user },
    })
}

/// `--serial`: the one device of `user` whose credential is on that token (`token` names it).
pub fn device_on_token(
    user: &str,
    pairing: &Pairing,
    serial: Serial,
    token: &str,
) -> Result<String, Refusal> {
    let mut on: Vec<String> = pairing.on_token(serial).map(|p| p.serial.clone()).collect();
    match on.len() {
        0 => Err(Refusal::NoDeviceOnToken {
            user: user.to_owned(),
            token: token.to_owned(),
        }),
        1 => Ok(on.remove(0)),
        _ => Err(Refusal::SeveralOnToken {
            user: user.to_owned(),
            token: token.to_owned(),
            devices: on,
        }),
    }
}

// ---- a member account's root user ----

/// A root session on a member account, opened from the caller's (management) account.
pub struct RootAccess {
    /// Who opened it.
    pub caller: CallerIdentity,
    /// The session: IAM as the member account's root user.
    pub session: RootSession,
}

impl RootAccess {
    /// Who the caller is, then sts:AssumeRoot on `account`; `opening` is called just before.
    pub async fn open(
        dir: &Sdk,
        account: &str,
        opening: impl FnOnce(),
    ) -> Result<Self, RootSessionError> {
        let caller = dir.caller_identity().await?;
        opening();
        let session = dir.open_root_session(&caller, account).await?;
        Ok(RootAccess { caller, session })
    }

    /// Opens the session anew when it expires within a minute (a person may take a while to
    /// confirm the plan).
    pub async fn refresh(&mut self, dir: &Sdk) -> Result<(), RootSessionError> {
        let expiring = self
            .session
            .expires
            .is_some_and(|at| at <= SystemTime::now() + Duration::from_secs(60));
        if expiring {
            self.session = dir
                .open_root_session(&self.caller, &self.session.account)
                .await?;
        }
        Ok(())
    }
}

/// The plan for a member account's root user, read through a root session: the device named,
/// or the root user's only MFA device. A named device that root no longer has (deactivated by
/// an earlier run that could not delete it) is planned as "delete only".
pub async fn root_plan<D: Directory>(
    root: &D,
    account: &str,
    device: Option<&DeviceArn>,
) -> Result<Plan, Cause> {
    let devices: Vec<MfaDevice> =
        root.list_mfa_devices(None)
            .await
            .map_err(|error| Cause::Iam {
                step: Step::Preflight,
                error,
            })?;
    let plan = |serial: &str, assigned| Plan {
        account: account.to_owned(),
        principal: Principal::Root,
        device: serial.to_owned(),
        assigned,
        devices_before: devices.len(),
        credential: CredentialPlan::NotLookedFor,
    };
    match device {
        Some(arn) if arn.account() != account => Err(Refusal::OtherAccount {
            device: arn.to_string(),
            device_account: arn.account().to_owned(),
            account: account.to_owned(),
        }
        .into()),
        Some(arn) => {
            let assigned = devices.iter().any(|d| d.serial == arn.as_str());
            Ok(plan(arn.as_str(), assigned))
        }
        None => match devices.as_slice() {
            [] => Err(Refusal::NoRootMfa(account.to_owned()).into()),
            [only] => Ok(plan(&only.serial, true)),
            several => Err(Refusal::SeveralRootDevices {
                account: account.to_owned(),
                devices: several.iter().map(|d| d.serial.clone()).collect(),
            }
            .into()),
        },
    }
}

/// What happens to the root user's credential on the tokens, for a plan from [`root_plan`].
///
/// Root devices are enrolled in the console, so they carry no tags naming their credential: it
/// is found by the exact names ykmfa and the console give it ([`root_labels`]), never by the looser
/// rule `resync --root` uses to find codes (a delete must not reach a credential merely named like
/// root's). That only identifies it while the revoked
/// device is root's one MFA device; with others left, a credential with that name may be a
/// backup device's, so the tokens are left alone ([`CredentialPlan::NotLookedFor`]). `keep` is
/// `--keep-credential`. `tokens` are the tokens present, with their credential lists (`None`:
/// locked).
pub fn root_credential(
    plan: &Plan,
    tokens: &[Token],
    keep: bool,
) -> Result<CredentialPlan, Refusal> {
    let labels = root_labels(&plan.account);
    let found: Vec<(&Token, &oath::Credential)> = tokens
        .iter()
        .flat_map(|t| t.listed.iter().flatten().map(move |c| (t, c)))
        .filter(|(_, c)| labels.contains(&c.id.to_string()))
        .collect();
    if keep {
        let (name, token_serial) = match found.as_slice() {
            [(t, c)] => (Some(c.id.to_string()), t.serial),
            _ => (None, None),
        };
        return Ok(CredentialPlan::Keep { name, token_serial });
    }
    let others = plan
        .devices_before
        .saturating_sub(usize::from(plan.assigned));
    if others > 0 {
        return Ok(CredentialPlan::NotLookedFor);
    }
    match found.as_slice() {
        [(t, c)] => Ok(CredentialPlan::Delete {
            name: c.id.to_string(),
            token: TokenRef::from(*t),
            raw_id: c.raw_id.clone(),
        }),
        [] => {
            let locked: Vec<TokenRef> = tokens
                .iter()
                .filter(|t| t.listed.is_none())
                .map(TokenRef::from)
                .collect();
            if locked.is_empty() {
                // Most likely on the lost token: named as enroll --root names it.
                let [default, _] = root_labels(&plan.account);
                Ok(CredentialPlan::Remains {
                    name: Some(default),
                    token_serial: None,
                })
            } else {
                Err(Refusal::TokenLocked {
                    device: plan.device.clone(),
                    tokens: locked,
                })
            }
        }
        several => Err(Refusal::SeveralRootCredentials {
            account: plan.account.clone(),
            candidates: several
                .iter()
                .map(|(t, c)| format!("'{}' on {}", c.id, TokenRef::from(*t)))
                .collect(),
        }),
    }
}
