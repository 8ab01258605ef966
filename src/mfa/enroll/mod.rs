//! The enrollment transaction: an IAM virtual MFA device whose seed goes straight onto a token.
//!
//! Steps, each recording what it did (or may have done) before or as it happens:
//! CreateVirtualMFADevice -> PUT on the token -> CALCULATE T-1 and T -> EnableMFADevice ->
//! confirm. Any failure, or a cancellation between steps (a signal), undoes what was done in the
//! one order that never locks anyone out ([`crate::mfa::retire`]): the device is deactivated and
//! deleted until IAM proves it gone, and only then is the credential, the last copy of its seed,
//! deleted, if the token proves by its fingerprint that it is the one written here. What can't
//! be undone becomes a [`Leftover`], device before credential, naming exactly what remains.
//!
//! Undos are idempotent and tolerate absence, so a step whose outcome is unknown (a timed-out
//! create, a card pulled during PUT) is undone as if it had happened.
//!
//! This module never prints: it reports through [`Progress`]. The seed lives in a
//! [`crate::seed::Seed`] from the IAM answer to the PUT and is dropped (zeroized) right after.

pub mod root;
mod text;

use std::time::Duration;

use crate::iam::names::{TAG_CREATED, TAG_CREDENTIAL, TAG_TOKEN_KIND, TAG_TOKEN_SERIAL};
use crate::iam::{DeviceName, Directory, IamError, UserName, MAX_DEVICES_PER_USER};
use crate::mfa::labels::{self, TooLong};
use crate::mfa::retire::{self, CredentialFate, DeviceFate};
use crate::mfa::{Cancel, Clock, Leftover};
use crate::oath::{self, Code, CredentialData, CredentialId, Fingerprint, TimeStep};
use crate::token::{Card, Kind, Serial, Token, WriteError};

const PERIOD: u32 = 30;

/// What the user asked for, validated.
#[derive(Debug, Clone)]
pub struct Request {
    /// The IAM user to enroll.
    pub user: UserName,
    /// The device name, or `None` for `<user>-<token>`.
    pub device_name: Option<DeviceName>,
    /// The credential id on the token, or `None` for `Amazon Web Services:<user>@<account>`.
    pub label: Option<CredentialId>,
    /// Require a touch for every code.
    pub touch: bool,
    /// Extra tags for the device.
    pub tags: Vec<(String, String)>,
}

/// Why what a person typed is not a [`Request`].
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// A user, device or tag name.
    #[error(transparent)]
    Name(#[from] crate::iam::names::NameError),
    /// The credential name.
    #[error(transparent)]
    Label(oath::Error),
}

impl Request {
    /// Validates what a person typed, in one place, so nothing later re-checks it.
    pub fn parse(
        user: &str,
        device_name: Option<&str>,
        label: Option<&str>,
        touch: bool,
        tags: &[String],
    ) -> Result<Self, RequestError> {
        let user = UserName::parse(user)?;
        let device_name = device_name.map(DeviceName::parse).transpose()?;
        let label = label.map(labels::parse).transpose();
        let label = label.map_err(RequestError::Label)?;
        let tags = tags.iter().map(|t| crate::iam::names::parse_tag(t));
        Ok(Request {
            user,
            device_name,
            label,
            touch,
            tags: tags.collect::<Result<_, _>>()?,
        })
    }
}

/// What will happen, after the read-only preflight.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Plan {
    /// Account id.
    pub account: String,
    /// The ARN partition (`aws`, `aws-cn`, `aws-us-gov`).
    pub partition: String,
    /// The user.
    pub user: String,
    /// Devices the user has now.
    pub devices_before: usize,
    /// The device name to create.
    pub device_name: String,
    /// The credential id to write.
    pub credential: String,
    #[serde(skip)]
    credential_id: CredentialId,
    /// Whether codes will need a touch.
    pub touch: bool,
    /// Tags for the device.
    pub tags: Vec<(String, String)>,
    /// The token.
    pub token: String,
    /// The token's serial.
    pub token_serial: Option<Serial>,
}

impl Plan {
    /// The ARN a device of `name` gets (path `/`).
    pub fn device_arn(&self, name: &str) -> String {
        format!("arn:{}:iam::{}:mfa/{name}", self.partition, self.account)
    }
}

/// The result of a finished enrollment.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Enrolled {
    /// The device ARN: what `mfa_serial` in `~/.aws/config` takes.
    pub device_serial: String,
    /// The user.
    pub user: String,
    /// The account.
    pub account: String,
    /// The credential id on the token.
    pub credential: String,
    /// The token's serial.
    pub token_serial: Option<Serial>,
    /// Whether AWS refused the immediate T-1/T pair and the real-time pair was used.
    pub waited_for_fresh_codes: bool,
    /// Whether the device carries ykmfa's tags.
    pub tagged: bool,
}

/// Which step failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Read-only checks.
    Preflight,
    /// CreateVirtualMFADevice.
    Create,
    /// PUT on the token.
    Write,
    /// CALCULATE on the token.
    Calculate,
    /// EnableMFADevice.
    Enable,
    /// Confirming the device is listed.
    Confirm,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Step::Preflight => "checking",
            Step::Create => "creating the virtual MFA device",
            Step::Write => "writing the credential to the token",
            Step::Calculate => "computing codes on the token",
            Step::Enable => "enabling the device",
            Step::Confirm => "confirming the device is assigned",
        })
    }
}

/// Why an enrollment stopped.
#[derive(Debug, thiserror::Error)]
pub enum Cause {
    /// IAM refused or failed.
    #[error("{step}: {error}")]
    Iam {
        /// Where.
        step: Step,
        /// What IAM said.
        error: IamError,
    },
    /// The token refused or failed.
    #[error("{step}: {error}")]
    Card {
        /// Where.
        step: Step,
        /// What the token said.
        error: oath::Error,
    },
    /// Cancelled (Ctrl-C).
    #[error("interrupted")]
    Interrupted,
    /// IAM did not list the device after enabling it.
    #[error("IAM does not list the device as assigned to {0} after enabling it")]
    NotConfirmed(String),
    /// Preflight found a reason not to start.
    #[error(transparent)]
    Refused(#[from] Refusal),
}

/// Reasons preflight refuses to start; nothing has changed.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The caller is the root user and asked to enroll themselves.
    #[error("these are root user credentials; AWS enrolls root MFA only in the console")]
    RootCaller,
    /// No such IAM user.
    #[error("IAM user '{0}' does not exist in account {1}")]
    UnknownUser(String, String),
    /// The user has the maximum number of MFA devices.
    #[error("{0} already has {1} MFA devices, the most AWS allows")]
    TooManyDevices(String, usize),
    /// The credential id exists on the token.
    #[error("the token already holds a credential named '{0}'")]
    CredentialExists(String),
    /// The token is full.
    #[error("the token is full ({0} credentials)")]
    TokenFull(usize),
    /// The default label is longer than the token allows.
    #[error("the credential name '{0}' is {1} bytes; the token allows 64")]
    LabelTooLong(String, usize),
}

impl From<TooLong> for Refusal {
    fn from(e: TooLong) -> Self {
        Refusal::LabelTooLong(e.name, e.len)
    }
}

impl From<TooLong> for Cause {
    fn from(e: TooLong) -> Self {
        Refusal::from(e).into()
    }
}

/// An enrollment that did not finish: why, what was undone, and what is left.
#[derive(Debug)]
pub struct Failure {
    /// Why it stopped.
    pub cause: Cause,
    /// What was undone, in order.
    pub undone: Vec<String>,
    /// What could not be undone.
    pub leftovers: Vec<Leftover>,
}

impl Failure {
    /// Whether something may remain: a leftover, or a call AWS did not answer, which it may
    /// still carry out after the undo ran. The run's record then stays, so the next run looks
    /// again.
    pub fn may_leave_something(&self) -> bool {
        !self.leftovers.is_empty()
            || matches!(&self.cause, Cause::Iam { error, .. } if error.outcome_unknown())
    }
}

/// What a person may want to hear about while an enrollment runs.
#[derive(Debug)]
pub enum Event<'a> {
    /// Creating the device.
    Creating(&'a str),
    /// The device was created.
    Created(&'a str),
    /// Tagging was denied; the device is created without tags.
    TagsDenied,
    /// A leftover device of the same name from an earlier run was removed.
    LeftoverRemoved(&'a str),
    /// The name is taken; another is used.
    NameTaken {
        /// The name in use.
        taken: &'a str,
        /// The name tried next.
        next: &'a str,
    },
    /// Writing to the token; `touch` says a touch will be needed for each code.
    Writing {
        /// The token.
        token: &'a str,
        /// Whether each code needs a touch.
        touch: bool,
        /// Whether storing the credential needs a touch too (a Nitrokey 3 asks for one at PUT
        /// when the credential requires touch).
        store_touch: bool,
        /// The fingerprint of the secret about to be written (for the journal: it lets a later
        /// undo prove a credential of this name is this one).
        fingerprint: &'a Fingerprint,
    },
    /// A code needs a touch now.
    TouchNow,
    /// Enabling.
    Enabling,
    /// AWS refused the immediate pair; waiting `secs` for a fresh time step.
    WaitingForStep(u64),
    /// Undoing after a failure.
    RollingBack,
    /// One undo done.
    Undone(&'a str),
}

/// Receives [`Event`]s (the binary prints them; tests record them).
pub trait Progress: Sync {
    /// Called for each event.
    fn event(&self, event: Event<'_>);
}

/// No progress output.
pub struct Quiet;

impl Progress for Quiet {
    fn event(&self, _: Event<'_>) {}
}

/// The short token name in a derived device name: `yk12345678`, `nk…`.
pub fn token_tag(token: &Token) -> String {
    match (token.kind, token.serial) {
        (Kind::YubiKey, Some(s)) => format!("yk{s}"),
        (Kind::Nitrokey, Some(s)) => format!("nk{s}"),
        (_, Some(s)) => format!("token{s}"),
        (_, None) => format!(
            "token-{}",
            token
                .device_id
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(8)
                .collect::<String>()
        ),
    }
}

/// Stops at the next step boundary when cancellation was asked for.
fn stop_if_cancelled(cancel: &Cancel) -> Result<(), Cause> {
    if cancel.is_cancelled() {
        Err(Cause::Interrupted)
    } else {
        Ok(())
    }
}

/// What preflight needs from IAM, asked together (one round trip): the user (its ARN names the
/// account and partition, so STS is not asked), the user's devices, the account alias, and, only
/// for a user named `root`, who the caller is.
#[derive(Debug)]
pub struct Reads {
    account: String,
    partition: String,
    alias: Option<String>,
    user_exists: bool,
    devices: Result<Vec<crate::iam::MfaDevice>, IamError>,
    root_caller: bool,
}

impl Reads {
    /// Reads them. A user that does not exist is not an error here (preflight refuses it, after
    /// the records of dead runs are settled); the account then comes from STS.
    pub async fn fetch<D: Directory>(dir: &D, user: &UserName) -> Result<Reads, Cause> {
        let iam = |error| Cause::Iam {
            step: Step::Preflight,
            error,
        };
        let user = user.as_str();
        // A user named root: the caller may be the root user asking for its own MFA.
        let root = async {
            match user {
                "root" => Some(dir.caller_identity().await),
                _ => None,
            }
        };
        let (found, devices, alias, root) = tokio::join!(
            dir.get_user(user),
            dir.list_mfa_devices(Some(user)),
            dir.account_alias(),
            root
        );
        let root_caller = match root {
            Some(who) => who.map_err(iam)?.is_root(),
            None => false,
        };
        let (user_exists, account, partition) = match found {
            Ok(found) => {
                let partition = found.partition().unwrap_or("aws").to_owned();
                match found.account() {
                    Some(account) => (true, account.to_owned(), partition),
                    None => (
                        true,
                        dir.caller_identity().await.map_err(iam)?.account,
                        partition,
                    ),
                }
            }
            Err(IamError::NoSuchEntity { .. }) => {
                let who = dir.caller_identity().await.map_err(iam)?;
                let partition = who.partition().unwrap_or("aws").to_owned();
                (false, who.account, partition)
            }
            Err(e) => return Err(iam(e)),
        };
        Ok(Reads {
            account,
            partition,
            // ListAccountAliases is often not allowed to self-service users; the id serves as well.
            alias: alias.ok().flatten(),
            user_exists,
            devices,
            root_caller,
        })
    }

    /// The account the user is in.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The user's devices read again (after dead runs were settled, which may have changed them).
    pub async fn refresh<D: Directory>(&mut self, dir: &D, user: &UserName) {
        self.devices = dir.list_mfa_devices(Some(user.as_str())).await;
    }
}

/// What [`prefetch`] gives: the connection and its reads, or why it could not connect.
pub type Prefetched = Result<(crate::iam::Sdk, Result<Reads, Cause>), IamError>;

/// Connects to IAM and starts [`Reads::fetch`] on the runtime at once, so that the round trips
/// overlap whatever the caller does meanwhile (finding and opening the token). Await the handle
/// for the connection and the reads.
pub fn prefetch(
    options: crate::iam::Options,
    user: UserName,
) -> tokio::task::JoinHandle<Prefetched> {
    tokio::spawn(async move {
        let dir = crate::iam::Sdk::connect(options).await?;
        let reads = Reads::fetch(&dir, &user).await;
        Ok((dir, reads))
    })
}

/// Read-only checks: that the user exists and has room for a device, and that the token can take
/// the credential ([`Reads`], then [`plan`]). Changes nothing.
pub async fn preflight<D: Directory, C: Card>(
    dir: &D,
    card: &mut C,
    token_tag: &str,
    req: &Request,
) -> Result<Plan, Cause> {
    let reads = Reads::fetch(dir, &req.user).await?;
    plan(card, token_tag, req, reads)
}

/// The plan from what IAM said ([`Reads`]) and what the token holds. Changes nothing.
pub fn plan<C: Card>(
    card: &mut C,
    token_tag: &str,
    req: &Request,
    reads: Reads,
) -> Result<Plan, Cause> {
    let iam = |error| Cause::Iam {
        step: Step::Preflight,
        error,
    };
    if reads.root_caller && req.user.as_str() == "root" {
        return Err(Refusal::RootCaller.into());
    }
    let Reads {
        account,
        partition,
        alias,
        ..
    } = reads;
    if !reads.user_exists {
        return Err(Refusal::UnknownUser(req.user.to_string(), account).into());
    }
    let devices = reads.devices.map_err(iam)?;
    if devices.len() >= MAX_DEVICES_PER_USER {
        return Err(Refusal::TooManyDevices(req.user.to_string(), devices.len()).into());
    }
    let credential_id = match &req.label {
        Some(label) => label.clone(),
        None => labels::user_label(req.user.as_str(), alias.as_deref(), &account)?,
    };
    if let Some(error) = card.refuses_credentials() {
        return Err(Cause::Card {
            step: Step::Preflight,
            error,
        });
    }
    let existing = tokio::task::block_in_place(|| card.list()).map_err(|error| Cause::Card {
        step: Step::Preflight,
        error,
    })?;
    let name = credential_id.to_string();
    if existing.iter().any(|c| c.id.to_string() == name) {
        return Err(Refusal::CredentialExists(name).into());
    }
    if let Some(capacity) = card.capacity() {
        if existing.len() >= capacity {
            return Err(Refusal::TokenFull(existing.len()).into());
        }
    }
    let device_name = req
        .device_name
        .clone()
        .unwrap_or_else(|| DeviceName::derived(&req.user, token_tag));
    let mut tags = vec![(TAG_CREDENTIAL.to_owned(), name.clone())];
    if let Some(serial) = card.serial() {
        tags.push((TAG_TOKEN_SERIAL.to_owned(), serial.to_string()));
    }
    tags.push((TAG_TOKEN_KIND.to_owned(), card.kind()));
    tags.extend(req.tags.iter().cloned());
    Ok(Plan {
        account,
        partition,
        user: req.user.to_string(),
        devices_before: devices.len(),
        device_name: device_name.to_string(),
        credential: name,
        credential_id,
        touch: req.touch,
        tags,
        token: card.describe(),
        token_serial: card.serial(),
    })
}

/// What the transaction did so far, so that an undo knows what to take out, and in which order.
#[derive(Default)]
struct Done {
    /// The device created, or that may have been (a create without a usable answer).
    device: Option<String>,
    /// An EnableMFADevice was answered with success, or with no usable answer: the device is,
    /// or may become, assigned.
    enable_sent: bool,
    /// The credential written, or that may have been.
    credential: Option<Written>,
}

struct Written {
    raw_id: Vec<u8>,
    name: String,
    fingerprint: Fingerprint,
}

/// Runs the transaction. On failure everything done is undone, or named as a [`Leftover`].
pub async fn enroll<D: Directory, C: Card>(
    dir: &D,
    card: &mut C,
    plan: &Plan,
    clock: &dyn Clock,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<Enrolled, Box<Failure>> {
    let mut done = Done::default();
    match run(dir, card, plan, clock, progress, cancel, &mut done).await {
        Ok(enrolled) => Ok(enrolled),
        Err(cause) => {
            if done.device.is_some() || done.credential.is_some() {
                progress.event(Event::RollingBack);
            }
            let (undone, leftovers) = rollback(dir, card, &plan.user, done, progress).await;
            Err(Box::new(Failure {
                cause,
                undone,
                leftovers,
            }))
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn run<D: Directory, C: Card>(
    dir: &D,
    card: &mut C,
    plan: &Plan,
    clock: &dyn Clock,
    progress: &dyn Progress,
    cancel: &Cancel,
    done: &mut Done,
) -> Result<Enrolled, Cause> {
    stop_if_cancelled(cancel)?;
    let (created, tagged) = create(dir, plan, clock, progress, cancel, done).await?;
    let serial = created.serial.clone();
    progress.event(Event::Created(&serial));

    stop_if_cancelled(cancel)?;
    let id = plan.credential_id.clone();
    let raw_id = id.to_bytes();
    let data = CredentialData::aws_totp(id, created.seed, plan.touch);
    let fingerprint = Fingerprint::of(&data);
    progress.event(Event::Writing {
        token: &plan.token,
        touch: plan.touch,
        store_touch: plan.touch && card.confirms_writes_by_touch(),
        fingerprint: &fingerprint,
    });
    let now = TimeStep::at(clock.now(), PERIOD);
    let written =
        tokio::task::block_in_place(|| card.write_and_calculate(&data, [now.prev(), now]));
    // The seed is on the token (or nowhere): wipe our copy now, not at the end of the function.
    drop(data);
    let written_here = || Written {
        raw_id: raw_id.clone(),
        name: plan.credential.clone(),
        fingerprint: fingerprint.clone(),
    };
    let codes = match written {
        Ok(codes) => {
            done.credential = Some(written_here());
            codes
        }
        Err(WriteError::NotWritten(error)) => {
            stop_if_cancelled(cancel)?;
            return Err(Cause::Card {
                step: Step::Write,
                error,
            });
        }
        Err(WriteError::MaybeWritten(error)) => {
            done.credential = Some(written_here());
            // A signal that came while the token waited for a touch is why it was not touched.
            stop_if_cancelled(cancel)?;
            let step = if matches!(error, oath::Error::TouchTimeout) {
                Step::Calculate
            } else {
                Step::Write
            };
            return Err(Cause::Card { step, error });
        }
    };

    stop_if_cancelled(cancel)?;
    progress.event(Event::Enabling);
    let mut waited = false;
    match enable(dir, plan, &serial, &codes, done).await {
        Ok(()) => {}
        Err(IamError::InvalidAuthenticationCode { .. }) => {
            // AWS wants two consecutive codes from now: a code at the start of a fresh step,
            // and the next one at the next step (REFERENCE.md: what AWS accepts).
            waited = true;
            let codes = realtime_pair(card, &raw_id, plan.touch, clock, progress, cancel).await?;
            stop_if_cancelled(cancel)?;
            progress.event(Event::Enabling);
            enable(dir, plan, &serial, &codes, done)
                .await
                .map_err(|error| Cause::Iam {
                    step: Step::Enable,
                    error,
                })?;
        }
        Err(error) => {
            return Err(Cause::Iam {
                step: Step::Enable,
                error,
            })
        }
    }

    // A Ctrl-C that came while EnableMFADevice was in flight must still undo the enrollment.
    stop_if_cancelled(cancel)?;
    confirm(dir, &plan.user, &serial).await?;
    Ok(Enrolled {
        device_serial: serial,
        user: plan.user.clone(),
        account: plan.account.clone(),
        credential: plan.credential.clone(),
        token_serial: plan.token_serial,
        waited_for_fresh_codes: waited,
        tagged,
    })
}

/// CreateVirtualMFADevice, stepping around leftovers of earlier runs and a denied tagging.
async fn create<D: Directory>(
    dir: &D,
    plan: &Plan,
    clock: &dyn Clock,
    progress: &dyn Progress,
    cancel: &Cancel,
    done: &mut Done,
) -> Result<(crate::iam::CreatedDevice, bool), Cause> {
    let base = DeviceName::parse(&plan.device_name).map_err(|e| Cause::Iam {
        step: Step::Create,
        error: IamError::InvalidInput(e.to_string()),
    })?;
    let mut name = base.clone();
    let mut tags = plan.tags.clone();
    if tags.iter().any(|(k, _)| k == TAG_CREDENTIAL) {
        tags.push((
            TAG_CREATED.to_owned(),
            crate::timestamp::format(clock.now()),
        ));
    }
    let mut suffix = 1;
    // Leftovers removed in this run: bounded, so a create that keeps failing after creating
    // (and a retry that then finds its own device) can't loop forever.
    let mut removed = 0;
    loop {
        stop_if_cancelled(cancel)?;
        progress.event(Event::Creating(name.as_str()));
        match dir
            .create_virtual_mfa_device(name.as_str(), None, &tags)
            .await
        {
            Ok(created) => {
                done.device = Some(created.serial.clone());
                return Ok((created, !tags.is_empty()));
            }
            Err(IamError::TaggingDenied { .. }) if !tags.is_empty() => {
                progress.event(Event::TagsDenied);
                tags.clear();
            }
            Err(IamError::EntityAlreadyExists { .. }) if suffix < 20 => {
                let arn = plan.device_arn(name.as_str());
                if removed < 3 && remove_own_leftover(dir, &arn, plan).await {
                    removed += 1;
                    progress.event(Event::LeftoverRemoved(&arn));
                    continue;
                }
                suffix += 1;
                let next = base.with_suffix(suffix);
                progress.event(Event::NameTaken {
                    taken: name.as_str(),
                    next: next.as_str(),
                });
                name = next;
            }
            Err(error) => {
                if may_have_happened(&error) {
                    // The device may exist although no answer said so: undo it by its ARN.
                    done.device = Some(plan.device_arn(name.as_str()));
                }
                return Err(Cause::Iam {
                    step: Step::Create,
                    error,
                });
            }
        }
    }
}

/// Whether a failed write may still have taken effect. Only answers that say IAM refused the
/// request count as "nothing happened": a timeout, a 5xx (the SDK may even have retried a write
/// that had succeeded), a dropped connection or an unreadable answer may hide a success. Undos
/// are idempotent, so over-approximating costs one harmless call.
fn may_have_happened(e: &IamError) -> bool {
    !matches!(
        e,
        IamError::AccessDenied { .. }
            | IamError::TaggingDenied { .. }
            | IamError::InvalidInput(_)
            | IamError::LimitExceeded { .. }
            | IamError::EntityAlreadyExists { .. }
            | IamError::NoSuchEntity { .. }
            | IamError::InvalidAuthenticationCode { .. }
            | IamError::NoCredentials(_)
            | IamError::DeleteConflict { .. }
            | IamError::Throttling { .. }
            | IamError::ConcurrentModification { .. }
            | IamError::EntityTemporarilyUnmodifiable { .. }
    )
}

/// An unassigned device of this name that ykmfa created for this user and credential is a
/// leftover of an interrupted run: nobody holds its seed (AWS shows it once; ykmfa never keeps
/// it), so it is safe to delete. Anything else is left alone.
async fn remove_own_leftover<D: Directory>(dir: &D, arn: &str, plan: &Plan) -> bool {
    let Ok(unassigned) = dir
        .list_virtual_mfa_devices(crate::iam::AssignmentStatus::Unassigned)
        .await
    else {
        return false;
    };
    if !unassigned.iter().any(|d| d.serial == arn) {
        return false;
    }
    let Ok(tags) = dir.list_mfa_device_tags(arn).await else {
        return false;
    };
    let ours = tags
        .iter()
        .any(|(k, v)| k == TAG_CREDENTIAL && *v == plan.credential);
    ours && dir.delete_virtual_mfa_device(arn).await.is_ok()
}

async fn enable<D: Directory>(
    dir: &D,
    plan: &Plan,
    serial: &str,
    codes: &[Code; 2],
    done: &mut Done,
) -> Result<(), IamError> {
    let result = dir
        .enable_mfa_device(&plan.user, serial, &codes[0].value, &codes[1].value)
        .await;
    if result.as_ref().map_or_else(may_have_happened, |()| true) {
        done.enable_sent = true;
    }
    result
}

/// Two codes for consecutive steps from now on: wait for a step to begin, compute its code,
/// wait for the next, compute again. Each wait can be cancelled.
async fn realtime_pair<C: Card>(
    card: &mut C,
    raw_id: &[u8],
    touch: bool,
    clock: &dyn Clock,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<[Code; 2], Cause> {
    let calc = |card: &mut C, step| {
        // A wait separates these codes from the write's: say when the token wants its touch.
        if touch {
            progress.event(Event::TouchNow);
        }
        tokio::task::block_in_place(|| card.calculate(raw_id, step)).map_err(|error| {
            if cancel.is_cancelled() {
                Cause::Interrupted
            } else {
                Cause::Card {
                    step: Step::Calculate,
                    error,
                }
            }
        })
    };
    let first = TimeStep::at(clock.now(), PERIOD).next();
    wait_until(first.start(PERIOD), clock, progress, cancel).await?;
    let c1 = calc(card, first)?;
    wait_until(first.next().start(PERIOD), clock, progress, cancel).await?;
    let c2 = calc(card, first.next())?;
    Ok([c1, c2])
}

async fn wait_until(
    when: u64,
    clock: &dyn Clock,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<(), Cause> {
    // A second of margin past the boundary, so a slightly slow host clock still lands inside.
    let target = when + 1;
    let secs = target.saturating_sub(clock.now());
    progress.event(Event::WaitingForStep(secs));
    for _ in 0..secs * 10 {
        stop_if_cancelled(cancel)?;
        if clock.now() >= target {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop_if_cancelled(cancel)
}

async fn confirm<D: Directory>(dir: &D, user: &str, serial: &str) -> Result<(), Cause> {
    match lists(dir, user, serial).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(Cause::NotConfirmed(user.to_owned())),
        Err(error) => Err(Cause::Iam {
            step: Step::Confirm,
            error,
        }),
    }
}

/// Whether IAM lists `serial` among `user`'s devices, asked a few times over about six seconds:
/// IAM is eventually consistent, and a device enabled a moment ago may not be listed yet.
pub(crate) async fn lists<D: Directory>(
    dir: &D,
    user: &str,
    serial: &str,
) -> Result<bool, IamError> {
    let mut delay = Duration::from_millis(200);
    for attempt in 0..5 {
        let devices = dir.list_mfa_devices(Some(user)).await?;
        if devices.iter().any(|d| d.serial == serial) {
            return Ok(true);
        }
        if attempt < 4 {
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
    }
    Ok(false)
}

/// Takes out what the transaction did, in the order that never locks anyone out: the device
/// first (deactivated and deleted until IAM proves it gone), then the credential, only once
/// nothing can sign in with the device and only if the token proves it is the one written here.
/// What stays is returned as [`Leftover`]s, the device before its credential, so that the
/// commands they give work in the order given.
async fn rollback<D: Directory, C: Card>(
    dir: &D,
    card: &mut C,
    user: &str,
    done: Done,
    progress: &dyn Progress,
) -> (Vec<String>, Vec<Leftover>) {
    let mut undone = Vec::new();
    let mut leftovers = Vec::new();
    let note = |what: String, undone: &mut Vec<String>| {
        progress.event(Event::Undone(&what));
        undone.push(what);
    };
    let mut frees_credential = true;
    let mut kept_for = None;
    if let Some(serial) = &done.device {
        let retired = retire::retire_device(dir, user, serial, done.enable_sent).await;
        if retired.deactivated {
            note(format!("deactivated {serial} for {user}"), &mut undone);
        }
        match retired.fate {
            DeviceFate::Gone => note(format!("deleted virtual MFA device {serial}"), &mut undone),
            DeviceFate::Orphan(reason) => leftovers.push(Leftover::Device {
                serial: serial.clone(),
                assigned_to: None,
                reason,
            }),
            DeviceFate::MaybeAssigned(reason) => {
                frees_credential = false;
                kept_for = Some(serial.clone());
                leftovers.push(Leftover::Device {
                    serial: serial.clone(),
                    assigned_to: Some(user.to_owned()),
                    reason: format!("may still be assigned: {reason}"),
                });
            }
        }
    }
    if let Some(written) = done.credential {
        let left = |reason: String, card: &C| Leftover::Credential {
            name: written.name.clone(),
            token_serial: card.serial(),
            token: card.describe(),
            reason,
        };
        if !frees_credential {
            let serial = kept_for.unwrap_or_default();
            leftovers.push(left(
                format!("kept: it is the only holder of the seed of {serial}, which may still be assigned to {user}; remove it only after the device"),
                card,
            ));
        } else {
            if card.confirms_writes_by_touch() {
                progress.event(Event::TouchNow);
            }
            let fate = tokio::task::block_in_place(|| {
                retire::remove_credential(card, &written.raw_id, Some(&written.fingerprint))
            });
            match fate {
                CredentialFate::Deleted => note(
                    format!(
                        "deleted credential '{}' from {}",
                        written.name,
                        card.describe()
                    ),
                    &mut undone,
                ),
                CredentialFate::Absent => {}
                CredentialFate::Replaced => note(
                    format!(
                        "left credential '{}' on {} alone: it holds another secret than the one written here",
                        written.name,
                        card.describe()
                    ),
                    &mut undone,
                ),
                CredentialFate::Kept(reason) => {
                    leftovers.push(left(format!("kept: {reason}"), card))
                }
                CredentialFate::Failed(reason) => leftovers.push(left(reason, card)),
            }
        }
    }
    (undone, leftovers)
}

#[cfg(test)]
mod tests;
