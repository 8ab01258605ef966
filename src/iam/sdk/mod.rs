//! [`Sdk`]: the [`Directory`] over `aws-sdk-iam`, `aws-sdk-sts` and `aws-config`.
//!
//! Credentials come from the standard chain (environment, shared files and profiles, SSO, web
//! identity, ECS, instance metadata). IAM is a global service: without a region, `us-east-1` is
//! used, and a region of another partition (`cn-north-1`, `us-gov-west-1`) takes the SDK's
//! endpoint resolver to that partition's IAM. `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_IAM` and
//! `AWS_ENDPOINT_URL_STS` are read by `aws-config` itself; [`Options::endpoint_url`] overrides
//! them for both services.
//!
//! Two layers of retry. The SDK's standard retry handles throttling and transient failures
//! ([`Options::max_attempts`]). On top of it, this adapter retries what IAM's eventual consistency
//! produces: `EntityTemporarilyUnmodifiable` and `ConcurrentModification` on writes, and
//! `NoSuchEntity` on enable, deactivate, tag and delete of a device this adapter created moments
//! ago.

use std::collections::HashMap;
use std::future::Future;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_iam::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeDeserializationInterceptorContextRef,
    BeforeTransmitInterceptorContextRef,
};
use aws_sdk_iam::config::retry::RetryConfig;
use aws_sdk_iam::config::timeout::TimeoutConfig;
use aws_sdk_iam::config::Region;
use aws_sdk_iam::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_iam::error::BoxError;
use aws_sdk_iam::operation::create_virtual_mfa_device::CreateVirtualMfaDeviceOutput;
use aws_sdk_iam::primitives::{Blob, DateTime};
use aws_sdk_iam::types::{AssignmentStatusType, Tag};
use rand::Rng;
use zeroize::Zeroizing;

use super::clock::{parse_http_date, ClockReading};
use super::error::{from_sdk, is_tagging_denial};
use super::{
    AssignmentStatus, CallerIdentity, CreatedDevice, Directory, IamError, MfaDevice,
    PasswordPolicy, PolicyDecision, User, Verdict, VirtualMfaDevice,
};
use crate::seed::Seed;

/// One request with ykmfa's retries ([`Sdk::call`]): `$request` (a client's builder, made anew
/// for each attempt) is sent, and an SDK error becomes an [`IamError`] named for `$action`.
macro_rules! send {
    ($sdk:expr, $action:expr, $retry:expr, $request:expr) => {{
        let action = $action;
        $sdk.call(action, $retry, || async {
            $request
                .send()
                .await
                .map_err(|e| from_sdk(action.name(), e))
        })
        .await
    }};
}

/// IAM's home region; the SDK's endpoint resolver maps it to `iam.amazonaws.com`.
const DEFAULT_REGION: &str = "us-east-1";

/// How long after its creation a device's `NoSuchEntity` is taken for eventual consistency.
const FRESH_DEVICE_WINDOW: Duration = Duration::from_secs(120);

/// How to reach AWS and how patient to be.
#[derive(Debug, Clone)]
pub struct Options {
    /// A profile of the shared config files (`--profile`, else `AWS_PROFILE`, else `default`).
    pub profile: Option<String>,
    /// The region (`--region`, else the standard chain, else `us-east-1`).
    pub region: Option<String>,
    /// One endpoint for both IAM and STS (`--endpoint-url`), over the standard
    /// `AWS_ENDPOINT_URL_IAM` / `AWS_ENDPOINT_URL_STS` / `AWS_ENDPOINT_URL`.
    pub endpoint_url: Option<String>,
    /// Longest time for one operation, retries included.
    pub operation_timeout: Duration,
    /// Longest time for one attempt: an answer that never comes becomes [`IamError::Timeout`].
    pub attempt_timeout: Duration,
    /// Attempts of the SDK's standard retry (throttling, transient failures), first one included.
    pub max_attempts: u32,
    /// First delay of both retry layers; later delays double, with jitter.
    pub retry_base_delay: Duration,
    /// Attempts for eventual-consistency retries, first one included.
    pub consistency_attempts: u32,
    /// Items per page for list calls (`MaxItems`); `None` lets IAM choose (100).
    pub page_size: Option<i32>,
}

impl Options {
    /// One operation gets `secs` seconds, retries included; an attempt a third of that (at most
    /// 10 s), which leaves room for the SDK's retries within the whole.
    pub fn within(self, secs: u64) -> Self {
        Options {
            operation_timeout: Duration::from_secs(secs),
            attempt_timeout: Duration::from_secs(secs.div_ceil(3).min(10)),
            ..self
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            profile: None,
            region: None,
            endpoint_url: None,
            operation_timeout: Duration::from_secs(30),
            attempt_timeout: Duration::from_secs(10),
            max_attempts: 5,
            retry_base_delay: Duration::from_millis(500),
            consistency_attempts: 6,
            page_size: None,
        }
    }
}

/// The IAM and STS actions the adapter calls, for counting and for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    GetCallerIdentity,
    ListAccountAliases,
    GetUser,
    ListUsers,
    GetLoginProfile,
    ListMfaDevices,
    ListVirtualMfaDevices,
    CreateVirtualMfaDevice,
    EnableMfaDevice,
    ResyncMfaDevice,
    DeactivateMfaDevice,
    DeleteVirtualMfaDevice,
    TagMfaDevice,
    ListMfaDeviceTags,
    GetAccountSummary,
    GetAccountPasswordPolicy,
    GetRole,
    SimulatePrincipalPolicy,
    ListAccessKeys,
    ListSigningCertificates,
    ListOrganizationsFeatures,
}

impl Action {
    const ALL: [Action; 21] = [
        Action::GetCallerIdentity,
        Action::ListAccountAliases,
        Action::GetUser,
        Action::ListUsers,
        Action::GetLoginProfile,
        Action::ListMfaDevices,
        Action::ListVirtualMfaDevices,
        Action::CreateVirtualMfaDevice,
        Action::EnableMfaDevice,
        Action::ResyncMfaDevice,
        Action::DeactivateMfaDevice,
        Action::DeleteVirtualMfaDevice,
        Action::TagMfaDevice,
        Action::ListMfaDeviceTags,
        Action::GetAccountSummary,
        Action::GetAccountPasswordPolicy,
        Action::GetRole,
        Action::SimulatePrincipalPolicy,
        Action::ListAccessKeys,
        Action::ListSigningCertificates,
        Action::ListOrganizationsFeatures,
    ];

    fn name(self) -> &'static str {
        match self {
            Action::GetCallerIdentity => "sts:GetCallerIdentity",
            Action::ListAccountAliases => "iam:ListAccountAliases",
            Action::GetUser => "iam:GetUser",
            Action::ListUsers => "iam:ListUsers",
            Action::GetLoginProfile => "iam:GetLoginProfile",
            Action::ListMfaDevices => "iam:ListMFADevices",
            Action::ListVirtualMfaDevices => "iam:ListVirtualMFADevices",
            Action::CreateVirtualMfaDevice => "iam:CreateVirtualMFADevice",
            Action::EnableMfaDevice => "iam:EnableMFADevice",
            Action::ResyncMfaDevice => "iam:ResyncMFADevice",
            Action::DeactivateMfaDevice => "iam:DeactivateMFADevice",
            Action::DeleteVirtualMfaDevice => "iam:DeleteVirtualMFADevice",
            Action::TagMfaDevice => "iam:TagMFADevice",
            Action::ListMfaDeviceTags => "iam:ListMFADeviceTags",
            Action::GetAccountSummary => "iam:GetAccountSummary",
            Action::GetAccountPasswordPolicy => "iam:GetAccountPasswordPolicy",
            Action::GetRole => "iam:GetRole",
            Action::SimulatePrincipalPolicy => "iam:SimulatePrincipalPolicy",
            Action::ListAccessKeys => "iam:ListAccessKeys",
            Action::ListSigningCertificates => "iam:ListSigningCertificates",
            Action::ListOrganizationsFeatures => "iam:ListOrganizationsFeatures",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Which failures the adapter's own retry loop tries again.
#[derive(Clone, Copy)]
enum Retry<'a> {
    /// Reads: the SDK's standard retry is enough.
    Read,
    /// Writes: `EntityTemporarilyUnmodifiable`, `ConcurrentModification`.
    Write,
    /// Writes on a device: also `NoSuchEntity` while the device is fresh from this adapter.
    WriteDevice(&'a str),
    /// CreateVirtualMFADevice, which the SDK does not retry: also `Throttling` (a refusal, so
    /// nothing was created).
    Create,
}

struct Shared {
    calls: [AtomicU32; Action::ALL.len()],
    fresh: Mutex<HashMap<String, Instant>>,
}

/// The [`Directory`] over the AWS SDK. Cheap to clone; clones share the call counter.
#[derive(Clone)]
pub struct Sdk {
    iam: aws_sdk_iam::Client,
    sts: aws_sdk_sts::Client,
    base_delay: Duration,
    consistency_attempts: u32,
    page_size: Option<i32>,
    shared: Arc<Shared>,
    /// Who these credentials are, once asked: it can't change while they are in use, and
    /// several steps of one command want it.
    pub(super) identity: Arc<Mutex<Option<CallerIdentity>>>,
}

impl Sdk {
    /// GetCallerIdentity, asked of STS (see [`Directory::caller_identity`] for the cached one).
    async fn ask_caller_identity(&self) -> Result<CallerIdentity, IamError> {
        let a = Action::GetCallerIdentity;
        let out = send!(self, a, Retry::Read, self.sts.get_caller_identity())?;
        match (out.account, out.arn) {
            // The account id names files (the enrollment journal's `<account>-<user>.json`) and
            // credentials: an answer that is not 12 digits (a broken or hostile endpoint) stops
            // here rather than becoming a path.
            (Some(account), Some(_)) if !root_session::is_account_id(&account) => {
                Err(IamError::Malformed(format!(
                    "GetCallerIdentity answered an account id that is not 12 digits: {:?}",
                    shortened(&account)
                )))
            }
            (Some(account), Some(arn)) => Ok(CallerIdentity {
                account,
                arn,
                user_id: out.user_id.unwrap_or_default(),
            }),
            _ => Err(IamError::Malformed(
                "GetCallerIdentity answered without Account or Arn".into(),
            )),
        }
    }

    /// Loads the standard AWS configuration (credential chain, profile, region, endpoint
    /// variables) with `options` applied on top.
    pub async fn connect(options: Options) -> Result<Sdk, IamError> {
        // Refused before any configuration is loaded; the environment's are checked once loaded.
        if let Some(url) = &options.endpoint_url {
            check_endpoint(url, "endpoint URL")?;
        }
        let config = load_config(&options).await;
        Sdk::from_config(&config, options)
    }

    /// Builds the clients from an already loaded configuration (tests give one with static
    /// credentials). `options.profile` is not used here; region and endpoint still apply.
    pub fn from_config(config: &SdkConfig, options: Options) -> Result<Sdk, IamError> {
        check_endpoints(config, options.endpoint_url.as_deref())?;
        let region = region(&options, config);
        let (retry, timeouts) = patience(&options);
        let mut iam = aws_sdk_iam::config::Builder::from(config)
            .region(region.clone())
            .retry_config(retry.clone())
            .timeout_config(timeouts.clone());
        let mut sts = aws_sdk_sts::config::Builder::from(config)
            .region(region)
            .retry_config(retry)
            .timeout_config(timeouts);
        if let Some(url) = &options.endpoint_url {
            iam = iam.endpoint_url(url);
            sts = sts.endpoint_url(url);
        }
        Ok(Sdk::from_clients(
            aws_sdk_iam::Client::from_conf(iam.build()),
            aws_sdk_sts::Client::from_conf(sts.build()),
            &options,
        ))
    }

    /// Wraps clients built elsewhere (the mocked clients of unit tests). Only the retry and page
    /// settings of `options` apply.
    pub fn from_clients(
        iam: aws_sdk_iam::Client,
        sts: aws_sdk_sts::Client,
        options: &Options,
    ) -> Sdk {
        Sdk {
            iam,
            sts,
            base_delay: options.retry_base_delay,
            consistency_attempts: options.consistency_attempts.max(1),
            page_size: options.page_size,
            shared: Arc::new(Shared {
                calls: std::array::from_fn(|_| AtomicU32::new(0)),
                fresh: Mutex::new(HashMap::new()),
            }),
            identity: Arc::default(),
        }
    }

    /// How many calls this adapter (and its clones) made, per action, in a fixed order; actions
    /// never called are left out. A call is one request as the adapter issues it: each page and
    /// each retry of the adapter's own loop counts, the SDK's internal retries do not.
    pub fn calls(&self) -> Vec<(&'static str, u32)> {
        Action::ALL
            .iter()
            .map(|a| {
                (
                    a.name(),
                    self.shared.calls[a.index()].load(Ordering::Relaxed),
                )
            })
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// Sets every call count back to zero.
    pub fn reset_calls(&self) {
        for counter in &self.shared.calls {
            counter.store(0, Ordering::Relaxed);
        }
    }

    fn count(&self, action: Action) {
        self.shared.calls[action.index()].fetch_add(1, Ordering::Relaxed);
    }

    fn remember_fresh(&self, serial: &str) {
        if let Ok(mut fresh) = self.shared.fresh.lock() {
            fresh.retain(|_, at| at.elapsed() < FRESH_DEVICE_WINDOW);
            fresh.insert(serial.to_string(), Instant::now());
        }
    }

    fn forget_fresh(&self, serial: &str) {
        if let Ok(mut fresh) = self.shared.fresh.lock() {
            fresh.remove(serial);
        }
    }

    fn is_fresh(&self, serial: &str) -> bool {
        self.shared
            .fresh
            .lock()
            .map(|fresh| {
                fresh
                    .get(serial)
                    .is_some_and(|at| at.elapsed() < FRESH_DEVICE_WINDOW)
            })
            .unwrap_or(false)
    }

    fn should_retry(&self, retry: Retry<'_>, err: &IamError) -> bool {
        let transient_write = matches!(
            err,
            IamError::EntityTemporarilyUnmodifiable { .. }
                | IamError::ConcurrentModification { .. }
        );
        match retry {
            Retry::Read => false,
            Retry::Write => transient_write,
            Retry::Create => transient_write || matches!(err, IamError::Throttling { .. }),
            Retry::WriteDevice(serial) => {
                transient_write
                    || (matches!(err, IamError::NoSuchEntity { .. }) && self.is_fresh(serial))
            }
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        // base, 2 base, 4 base, … capped at 16 base; each scaled by a random factor in [0.5, 1].
        let factor = 1u32 << attempt.saturating_sub(1).min(4);
        let full = self.base_delay.saturating_mul(factor);
        full.mul_f64(rand::thread_rng().gen_range(0.5..=1.0))
    }

    /// Runs one request, retrying what `retry` allows, a bounded number of times.
    /// Every page of a list call: `fetch` asks for the page after a marker (through
    /// [`Sdk::call`], so each page is counted and retried alike), `split` takes a page apart into
    /// its items, whether more follow, and the next marker.
    async fn all_pages<O, T, F, Fut>(
        &self,
        action: Action,
        fetch: F,
        mut split: impl FnMut(O) -> (Vec<T>, bool, Option<String>),
    ) -> Result<Vec<T>, IamError>
    where
        F: Fn(Option<String>) -> Fut,
        Fut: Future<Output = Result<O, IamError>>,
    {
        let mut items = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let m = marker.clone();
            let page = self.call(action, Retry::Read, || fetch(m.clone())).await?;
            let (page, truncated, next) = split(page);
            items.extend(page);
            marker = next_marker(action, truncated, next, &marker)?;
            if marker.is_none() {
                return Ok(items);
            }
        }
    }

    async fn call<T, F, Fut>(
        &self,
        action: Action,
        retry: Retry<'_>,
        mut send: F,
    ) -> Result<T, IamError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, IamError>>,
    {
        let mut attempt = 1;
        loop {
            self.count(action);
            match send().await {
                Ok(value) => return Ok(value),
                Err(err)
                    if attempt < self.consistency_attempts && self.should_retry(retry, &err) =>
                {
                    let delay = self.backoff(attempt);
                    tracing::debug!(
                        action = action.name(),
                        attempt,
                        delay_ms = delay.as_millis() as u64,
                        "retrying: {err}"
                    );
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                Err(err) => return Err(err),
            }
        }
    }

    /// After a create whose answer was unusable: the device exists in IAM but nobody can ever
    /// know its seed, so it is deleted. Returns the sentence for the error message.
    async fn discard_unusable(
        &self,
        name: &str,
        path: Option<&str>,
        serial: Option<String>,
    ) -> String {
        let serial = match serial {
            Some(serial) => Some(serial),
            None => self.find_unassigned(name, path).await,
        };
        let Some(serial) = serial else {
            return format!(
                "no unassigned device named {name} was found afterwards; check with \
                 `aws iam list-virtual-mfa-devices --assignment-status Unassigned`"
            );
        };
        self.remember_fresh(&serial);
        match self.delete_virtual_mfa_device(&serial).await {
            Ok(()) => format!("the device {serial} was deleted again"),
            Err(err) => format!(
                "the device {serial} remains and could not be deleted ({err}); remove it with \
                 `aws iam delete-virtual-mfa-device --serial-number {serial}`"
            ),
        }
    }

    /// After a create whose outcome is unknown: deletes the device if the lost request made
    /// it. IAM may not list it yet (or the request may still be in flight); then it remains, as
    /// an unassigned device of that name.
    async fn discard_lost(&self, name: &str, path: Option<&str>) {
        if let Some(serial) = self.find_unassigned(name, path).await {
            self.remember_fresh(&serial);
            let outcome = self.delete_virtual_mfa_device(&serial).await;
            tracing::debug!(%serial, ok = outcome.is_ok(), "deleted a device whose creation answer was lost");
        }
    }

    async fn find_unassigned(&self, name: &str, path: Option<&str>) -> Option<String> {
        let suffix = format!(":mfa{}{name}", path.unwrap_or("/"));
        self.list_virtual_mfa_devices(AssignmentStatus::Unassigned)
            .await
            .ok()?
            .into_iter()
            .map(|d| d.serial)
            .find(|s| s.ends_with(&suffix))
    }
}

/// CreateVirtualMFADevice is not idempotent: resent after a lost answer, it fails with
/// `EntityAlreadyExists` and the caller can no longer tell its own device from a leftover. So the
/// SDK sends it once; the adapter retries only refusals (throttling) and cleans up after the rest.
fn single_attempt() -> aws_sdk_iam::config::Builder {
    aws_sdk_iam::config::Builder::default()
        .retry_config(RetryConfig::standard().with_max_attempts(1))
}

/// Refuses an endpoint URL that is not `https://`, or `http://` to this machine.
///
/// The seed comes back in CreateVirtualMFADevice's answer and the codes go out in
/// EnableMFADevice's request: over plain HTTP to another host, anyone on the path reads both.
/// A loopback endpoint (the bench's `http://127.0.0.1:PORT`, a local moto) never leaves the
/// machine. `source` says where the URL came from, for the message.
pub(super) fn check_endpoint(url: &str, source: &str) -> Result<(), IamError> {
    if url.starts_with("https://") {
        return Ok(());
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return Err(IamError::InvalidInput(format!(
            "{source} {url:?} must start with https:// (or http:// to this machine)"
        )));
    };
    if is_loopback_authority(rest) {
        Ok(())
    } else {
        Err(IamError::InsecureEndpoint {
            url: url.to_owned(),
            origin: source.to_owned(),
        })
    }
}

/// Whether the authority at the start of `rest` (what follows `http://`) names this machine:
/// `localhost`, an address of 127.0.0.0/8, or `[::1]`, with an optional port. Anything unusual
/// (user info, an escape, a name that merely starts like one of these) is not.
fn is_loopback_authority(rest: &str) -> bool {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    // `http://127.0.0.1@example.com` goes to example.com: user info is refused outright.
    if authority.contains('@') {
        return false;
    }
    let (host_is_loopback, port) = match authority.strip_prefix('[') {
        Some(bracketed) => {
            let Some((v6, after)) = bracketed.split_once(']') else {
                return false;
            };
            (v6.parse::<Ipv6Addr>().is_ok_and(|a| a.is_loopback()), after)
        }
        None => {
            let (host, port) = authority.split_at(authority.find(':').unwrap_or(authority.len()));
            let loopback = host.eq_ignore_ascii_case("localhost")
                || host.parse::<Ipv4Addr>().is_ok_and(|a| a.is_loopback());
            (loopback, port)
        }
    };
    let port_ok = port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    host_is_loopback && port_ok
}

/// The standard AWS configuration (credential chain, profile, region, endpoint variables) with
/// `options`' profile, region and endpoint on top.
pub(super) async fn load_config(options: &Options) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(profile) = &options.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &options.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &options.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// The retry and timeout settings every client gets from `options`.
/// The region asked for, else the configuration's, else us-east-1 (IAM is global: the region
/// only picks the partition).
pub(super) fn region(options: &Options, config: &SdkConfig) -> Region {
    let asked = options.region.clone().map(Region::new);
    asked
        .or_else(|| config.region().cloned())
        .unwrap_or_else(|| Region::new(DEFAULT_REGION))
}

pub(super) fn patience(options: &Options) -> (RetryConfig, TimeoutConfig) {
    let retry = RetryConfig::standard()
        .with_max_attempts(options.max_attempts.max(1))
        .with_initial_backoff(options.retry_base_delay);
    let timeouts = TimeoutConfig::builder()
        .operation_timeout(options.operation_timeout)
        .operation_attempt_timeout(options.attempt_timeout)
        .connect_timeout(options.attempt_timeout.min(Duration::from_secs(5)))
        .build();
    (retry, timeouts)
}

/// The endpoint a client for `service` (`"IAM"`, `"STS"`) built from `config` goes to when
/// [`Options::endpoint_url`] does not override it, found as the SDK's own
/// `From<&SdkConfig>` finds it: an endpoint set on the loader wins; else
/// `AWS_ENDPOINT_URL_<SERVICE>` or the profile's `services` section; else `AWS_ENDPOINT_URL` or
/// the profile's `endpoint_url`. `None` means AWS's own (https) endpoint.
fn configured_endpoint(config: &SdkConfig, service: &str) -> Option<String> {
    use aws_types::service_config::ServiceConfigKey;

    if config.get_origin("endpoint_url").is_client_config() {
        return config.endpoint_url().map(str::to_owned);
    }
    let key = ServiceConfigKey::builder()
        .service_id(service)
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build()
        .ok();
    config
        .service_config()
        .zip(key)
        .and_then(|(loader, key)| loader.load_config(key))
        .or_else(|| config.endpoint_url().map(str::to_owned))
}

/// Checks every endpoint the IAM and STS clients built from `config` with `explicit`
/// ([`Options::endpoint_url`]) would use, before anything is sent.
pub(super) fn check_endpoints(config: &SdkConfig, explicit: Option<&str>) -> Result<(), IamError> {
    check_service_endpoints(config, explicit, &["IAM", "STS"])
}

/// [`check_endpoints`] for the clients of `services` (`"IAM"`, `"ORGANIZATIONS"`, …).
pub(super) fn check_service_endpoints(
    config: &SdkConfig,
    explicit: Option<&str>,
    services: &[&str],
) -> Result<(), IamError> {
    if let Some(url) = explicit {
        return check_endpoint(url, "endpoint URL");
    }
    for service in services {
        if let Some(url) = configured_endpoint(config, service) {
            check_endpoint(
                &url,
                &format!(
                    "the {service} endpoint URL (AWS_ENDPOINT_URL_{service}, AWS_ENDPOINT_URL or the AWS config file)"
                ),
            )?;
        }
    }
    Ok(())
}

/// At most 40 characters of an unexpected answer, for a message.
fn shortened(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

fn check_codes(code1: &str, code2: &str) -> Result<(), IamError> {
    let ok = |c: &str| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit());
    if ok(code1) && ok(code2) {
        Ok(())
    } else {
        // The codes themselves are not repeated.
        Err(IamError::InvalidInput(
            "authentication codes must be 6 digits".into(),
        ))
    }
}

fn time(t: &DateTime) -> Option<SystemTime> {
    SystemTime::try_from(*t).ok()
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

fn to_tags(tags: &[(String, String)]) -> Result<Vec<Tag>, IamError> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| IamError::InvalidInput(format!("tag {k:?}: {e}")))
        })
        .collect()
}

fn user_from(u: aws_sdk_iam::types::User) -> User {
    User {
        create_date: time(&u.create_date).unwrap_or(SystemTime::UNIX_EPOCH),
        name: u.user_name,
        arn: u.arn,
        user_id: u.user_id,
    }
}

/// Wipes a secret-bearing blob now rather than leaving it to the allocator.
fn wipe(blob: Option<Blob>) {
    if let Some(blob) = blob {
        drop(Zeroizing::new(blob.into_inner()));
    }
}

/// Refuses a successful CreateVirtualMFADevice answer that is not a whole XML document.
///
/// The SDK's XML reader stops once it has the fields it wants, so an answer cut short after the
/// seed parses without error. Cut inside the seed, it would still decode to a shorter, wrong
/// seed. The answer must end with the closing root element.
#[derive(Debug)]
struct WholeDocument;

impl Intercept for WholeDocument {
    fn name(&self) -> &'static str {
        "ykmfa::WholeDocument"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response();
        if !response.status().is_success() {
            return Ok(());
        }
        let whole = response.body().bytes().is_some_and(|b| {
            b.trim_ascii_end()
                .ends_with(b"</CreateVirtualMFADeviceResponse>")
        });
        if whole {
            Ok(())
        } else {
            Err("the answer is not a whole XML document".into())
        }
    }
}

/// Reads AWS's clock off an answer: the local time before each attempt is sent and after its
/// answer arrives, and the answer's `Date` header. Nothing else of the answer is looked at.
#[derive(Debug, Clone, Default)]
struct ClockProbe(Arc<Mutex<Probe>>);

#[derive(Debug, Default)]
struct Probe {
    sent: Option<SystemTime>,
    reading: Option<ClockReading>,
}

impl ClockProbe {
    fn reading(&self) -> Option<ClockReading> {
        self.0.lock().ok().and_then(|p| p.reading)
    }
}

impl Intercept for ClockProbe {
    fn name(&self) -> &'static str {
        "ykmfa::ClockProbe"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // After signing and just before the request goes out: credential lookups and signing
        // stay out of the measured interval.
        if let Ok(mut probe) = self.0.lock() {
            probe.sent = Some(SystemTime::now());
        }
        Ok(())
    }

    fn read_after_transmit(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let received = SystemTime::now();
        let server = context
            .response()
            .headers()
            .get("date")
            .and_then(parse_http_date);
        if let Ok(mut probe) = self.0.lock() {
            // Each attempt replaces the last: the reading is of the final answer.
            probe.reading = match (probe.sent, server) {
                (Some(sent), Some(server)) => Some(ClockReading {
                    sent,
                    received,
                    server,
                }),
                _ => None,
            };
        }
        Ok(())
    }
}

/// Why a create answer is unusable; carries the serial when the answer had one.
struct Unusable {
    why: &'static str,
    serial: Option<String>,
}

/// Takes the seed out of a CreateVirtualMFADevice answer, wiping every copy this code holds.
fn take_created(output: CreateVirtualMfaDeviceOutput) -> Result<CreatedDevice, Unusable> {
    let Some(mut device) = output.virtual_mfa_device else {
        return Err(Unusable {
            why: "the answer has no VirtualMFADevice",
            serial: None,
        });
    };
    wipe(device.qr_code_png.take());
    let seed_blob = device.base32_string_seed.take();
    let serial = non_empty(std::mem::take(&mut device.serial_number));
    drop(device);
    // The Blob holds the Base32 text (the wire carried it base64-encoded).
    let text = Zeroizing::new(match seed_blob {
        Some(blob) => blob.into_inner(),
        None => {
            return Err(Unusable {
                why: "the answer has no Base32StringSeed",
                serial,
            })
        }
    });
    let Some(serial) = serial else {
        return Err(Unusable {
            why: "the answer has no SerialNumber",
            serial: None,
        });
    };
    let seed = std::str::from_utf8(&text)
        .ok()
        .and_then(|t| Seed::from_base32(t).ok())
        .ok_or(Unusable {
            why: "its Base32StringSeed is not a usable Base32 seed",
            serial: None,
        });
    match seed {
        Ok(seed) => Ok(CreatedDevice { serial, seed }),
        Err(mut unusable) => {
            unusable.serial = Some(serial);
            Err(unusable)
        }
    }
}

impl Directory for Sdk {
    async fn caller_identity(&self) -> Result<CallerIdentity, IamError> {
        if let Some(known) = self.identity.lock().ok().and_then(|i| i.clone()) {
            return Ok(known);
        }
        let who = self.ask_caller_identity().await?;
        if let Ok(mut slot) = self.identity.lock() {
            *slot = Some(who.clone());
        }
        Ok(who)
    }

    async fn server_clock(&self) -> Result<ClockReading, IamError> {
        let a = Action::GetCallerIdentity;
        self.count(a);
        let probe = ClockProbe::default();
        let result = self
            .sts
            .get_caller_identity()
            .customize()
            .interceptor(probe.clone())
            .send()
            .await;
        // A refused request still tells the time: a clock far off makes AWS refuse the
        // signature (SignatureDoesNotMatch, RequestExpired), and then the reading matters most.
        match (probe.reading(), result) {
            (Some(reading), _) => Ok(reading),
            (None, Err(e)) => Err(from_sdk(a.name(), e)),
            (None, Ok(_)) => Err(IamError::Malformed(
                "GetCallerIdentity answered without a Date header".into(),
            )),
        }
    }

    async fn account_alias(&self) -> Result<Option<String>, IamError> {
        let a = Action::ListAccountAliases;
        let out = send!(self, a, Retry::Read, self.iam.list_account_aliases())?;
        Ok(out.account_aliases.into_iter().next())
    }

    async fn get_user(&self, name: &str) -> Result<User, IamError> {
        let a = Action::GetUser;
        let out = send!(self, a, Retry::Read, self.iam.get_user().user_name(name))?;
        out.user
            .map(user_from)
            .ok_or_else(|| IamError::Malformed("GetUser answered without a User".into()))
    }

    async fn list_users(&self) -> Result<Vec<User>, IamError> {
        let a = Action::ListUsers;
        self.all_pages(
            a,
            |m| async move {
                self.iam
                    .list_users()
                    .set_marker(m)
                    .set_max_items(self.page_size)
                    .send()
                    .await
                    .map_err(|e| from_sdk(a.name(), e))
            },
            |out| {
                let users = out.users.into_iter().map(user_from).collect();
                (users, out.is_truncated, out.marker)
            },
        )
        .await
    }

    async fn get_login_profile(&self, user: &str) -> Result<bool, IamError> {
        let a = Action::GetLoginProfile;
        let result = send!(
            self,
            a,
            Retry::Read,
            self.iam.get_login_profile().user_name(user)
        );
        match result {
            Ok(_) => Ok(true),
            Err(IamError::NoSuchEntity { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn list_mfa_devices(&self, user: Option<&str>) -> Result<Vec<MfaDevice>, IamError> {
        let a = Action::ListMfaDevices;
        self.all_pages(
            a,
            |m| async move {
                self.iam
                    .list_mfa_devices()
                    .set_user_name(user.map(str::to_string))
                    .set_marker(m)
                    .set_max_items(self.page_size)
                    .send()
                    .await
                    .map_err(|e| from_sdk(a.name(), e))
            },
            |out| {
                let devices = out.mfa_devices.into_iter().map(|d| MfaDevice {
                    enable_date: time(&d.enable_date),
                    user: non_empty(d.user_name),
                    serial: d.serial_number,
                });
                (devices.collect(), out.is_truncated, out.marker)
            },
        )
        .await
    }

    async fn list_virtual_mfa_devices(
        &self,
        status: AssignmentStatus,
    ) -> Result<Vec<VirtualMfaDevice>, IamError> {
        let a = Action::ListVirtualMfaDevices;
        let status = match status {
            AssignmentStatus::Assigned => AssignmentStatusType::Assigned,
            AssignmentStatus::Unassigned => AssignmentStatusType::Unassigned,
            AssignmentStatus::Any => AssignmentStatusType::Any,
        };
        self.all_pages(
            a,
            |m| {
                let status = status.clone();
                async move {
                    self.iam
                        .list_virtual_mfa_devices()
                        .assignment_status(status)
                        .set_marker(m)
                        .set_max_items(self.page_size)
                        .send()
                        .await
                        .map_err(|e| from_sdk(a.name(), e))
                }
            },
            |out| {
                let mut devices = Vec::with_capacity(out.virtual_mfa_devices.len());
                for mut d in out.virtual_mfa_devices {
                    // AWS never lists seeds; an endpoint that does (stock moto) gets them wiped.
                    wipe(d.base32_string_seed.take());
                    wipe(d.qr_code_png.take());
                    let (user, user_arn) = match d.user {
                        Some(u) => (non_empty(u.user_name), non_empty(u.arn)),
                        None => (None, None),
                    };
                    devices.push(VirtualMfaDevice {
                        serial: d.serial_number,
                        user,
                        user_arn,
                        enable_date: d.enable_date.as_ref().and_then(time),
                    });
                }
                (devices, out.is_truncated, out.marker)
            },
        )
        .await
    }

    async fn create_virtual_mfa_device(
        &self,
        name: &str,
        path: Option<&str>,
        tags: &[(String, String)],
    ) -> Result<CreatedDevice, IamError> {
        let a = Action::CreateVirtualMfaDevice;
        let tag_list = to_tags(tags)?;
        let result = self
            .call(a, Retry::Create, || {
                let tags = (!tag_list.is_empty()).then(|| tag_list.clone());
                async move {
                    self.iam
                        .create_virtual_mfa_device()
                        .virtual_mfa_device_name(name)
                        .set_path(path.map(str::to_string))
                        .set_tags(tags)
                        .customize()
                        .config_override(single_attempt())
                        .interceptor(WholeDocument)
                        .send()
                        .await
                        .map_err(|e| from_sdk(a.name(), e))
                }
            })
            .await;
        let output = match result {
            Ok(output) => output,
            Err(err) if !tags.is_empty() && is_tagging_denial(&err) => {
                let IamError::AccessDenied { message, .. } = err else {
                    return Err(err);
                };
                return Err(IamError::TaggingDenied { message });
            }
            Err(
                err @ (IamError::Timeout { .. }
                | IamError::ServiceFailure { .. }
                | IamError::Network(_)),
            ) => {
                // The answer may have been lost after IAM created the device: look for it.
                self.discard_lost(name, path).await;
                return Err(err);
            }
            Err(IamError::Malformed(what)) => {
                // A 2xx answer that could not be read: the device was created.
                let fate = self.discard_unusable(name, path, None).await;
                return Err(IamError::Malformed(format!("{what}; {fate}")));
            }
            Err(err) => return Err(err),
        };
        match take_created(output) {
            Ok(created) => {
                self.remember_fresh(&created.serial);
                Ok(created)
            }
            Err(Unusable { why, serial }) => {
                let fate = self.discard_unusable(name, path, serial).await;
                Err(IamError::Malformed(format!(
                    "CreateVirtualMFADevice: {why}; {fate}"
                )))
            }
        }
    }

    async fn enable_mfa_device(
        &self,
        user: &str,
        serial: &str,
        code1: &str,
        code2: &str,
    ) -> Result<(), IamError> {
        check_codes(code1, code2)?;
        let a = Action::EnableMfaDevice;
        let result = self
            .call(a, Retry::WriteDevice(serial), || async {
                self.iam
                    .enable_mfa_device()
                    .user_name(user)
                    .serial_number(serial)
                    .authentication_code1(code1)
                    .authentication_code2(code2)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| from_sdk(a.name(), e))
            })
            .await;
        match result {
            // An attempt whose answer was lost (timeout, 5xx) and was retried by the SDK: the
            // retry finds the device assigned. If it is assigned to this user, the job is done.
            Err(err @ IamError::EntityAlreadyExists { .. }) => {
                match self.list_mfa_devices(Some(user)).await {
                    Ok(devices) if devices.iter().any(|d| d.serial == serial) => Ok(()),
                    _ => Err(err),
                }
            }
            other => other,
        }
    }

    async fn resync_mfa_device(
        &self,
        user: &str,
        serial: &str,
        code1: &str,
        code2: &str,
    ) -> Result<(), IamError> {
        check_codes(code1, code2)?;
        let a = Action::ResyncMfaDevice;
        send!(
            self,
            a,
            Retry::Write,
            self.iam
                .resync_mfa_device()
                .user_name(user)
                .serial_number(serial)
                .authentication_code1(code1)
                .authentication_code2(code2)
        )
        .map(|_| ())
    }

    async fn deactivate_mfa_device(
        &self,
        user: Option<&str>,
        serial: &str,
    ) -> Result<(), IamError> {
        let a = Action::DeactivateMfaDevice;
        // A device enabled moments ago may not be visible yet: rollback deactivates right away.
        send!(
            self,
            a,
            Retry::WriteDevice(serial),
            self.iam
                .deactivate_mfa_device()
                .set_user_name(user.map(str::to_string))
                .serial_number(serial)
        )
        .map(|_| ())
    }

    async fn delete_virtual_mfa_device(&self, serial: &str) -> Result<(), IamError> {
        let a = Action::DeleteVirtualMfaDevice;
        send!(
            self,
            a,
            Retry::WriteDevice(serial),
            self.iam.delete_virtual_mfa_device().serial_number(serial)
        )
        .map(|_| ())?;
        self.forget_fresh(serial);
        Ok(())
    }

    async fn tag_mfa_device(
        &self,
        serial: &str,
        tags: &[(String, String)],
    ) -> Result<(), IamError> {
        let a = Action::TagMfaDevice;
        let tag_list = to_tags(tags)?;
        self.call(a, Retry::WriteDevice(serial), || {
            let tags = tag_list.clone();
            async move {
                self.iam
                    .tag_mfa_device()
                    .serial_number(serial)
                    .set_tags(Some(tags))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| from_sdk(a.name(), e))
            }
        })
        .await
    }

    async fn list_mfa_device_tags(&self, serial: &str) -> Result<Vec<(String, String)>, IamError> {
        let a = Action::ListMfaDeviceTags;
        self.all_pages(
            a,
            |m| async move {
                self.iam
                    .list_mfa_device_tags()
                    .serial_number(serial)
                    .set_marker(m)
                    .set_max_items(self.page_size)
                    .send()
                    .await
                    .map_err(|e| from_sdk(a.name(), e))
            },
            |out| {
                let tags = out.tags.into_iter().map(|t| (t.key, t.value)).collect();
                (tags, out.is_truncated, out.marker)
            },
        )
        .await
    }

    async fn get_account_summary(&self) -> Result<HashMap<String, i32>, IamError> {
        let a = Action::GetAccountSummary;
        let out = send!(self, a, Retry::Read, self.iam.get_account_summary())?;
        Ok(out
            .summary_map
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k.as_str().to_string(), v))
            .collect())
    }

    async fn get_account_password_policy(&self) -> Result<Option<PasswordPolicy>, IamError> {
        let a = Action::GetAccountPasswordPolicy;
        let result = send!(self, a, Retry::Read, self.iam.get_account_password_policy());
        let out = match result {
            Ok(out) => out,
            Err(IamError::NoSuchEntity { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(p) = out.password_policy else {
            return Ok(None);
        };
        let days = |v: Option<i32>| v.and_then(|v| u32::try_from(v).ok());
        Ok(Some(PasswordPolicy {
            minimum_password_length: days(p.minimum_password_length),
            require_symbols: p.require_symbols,
            require_numbers: p.require_numbers,
            require_uppercase_characters: p.require_uppercase_characters,
            require_lowercase_characters: p.require_lowercase_characters,
            allow_users_to_change_password: p.allow_users_to_change_password,
            expire_passwords: p.expire_passwords,
            max_password_age: days(p.max_password_age),
            password_reuse_prevention: days(p.password_reuse_prevention),
            hard_expiry: p.hard_expiry,
        }))
    }

    async fn role_arn(&self, name: &str) -> Result<String, IamError> {
        let a = Action::GetRole;
        let out = send!(self, a, Retry::Read, self.iam.get_role().role_name(name))?;
        out.role
            .map(|r| r.arn)
            .filter(|arn| !arn.is_empty())
            .ok_or_else(|| IamError::Malformed("GetRole answered without a Role".into()))
    }

    async fn simulate_principal_policy(
        &self,
        principal_arn: &str,
        actions: &[String],
        resource: &str,
        context: &[(String, String)],
    ) -> Result<Vec<PolicyDecision>, IamError> {
        use aws_sdk_iam::types::{ContextEntry, ContextKeyTypeEnum};
        let a = Action::SimulatePrincipalPolicy;
        let entries: Vec<ContextEntry> = context
            .iter()
            .map(|(k, v)| {
                ContextEntry::builder()
                    .context_key_name(k)
                    .context_key_values(v)
                    .context_key_type(ContextKeyTypeEnum::String)
                    .build()
            })
            .collect();
        self.all_pages(
            a,
            |m| {
                let entries = (!entries.is_empty()).then(|| entries.clone());
                async move {
                    self.iam
                        .simulate_principal_policy()
                        .policy_source_arn(principal_arn)
                        .set_action_names(Some(actions.to_vec()))
                        .resource_arns(resource)
                        .set_context_entries(entries)
                        .set_marker(m)
                        .set_max_items(self.page_size)
                        .send()
                        .await
                        .map_err(|e| from_sdk(a.name(), e))
                }
            },
            |out| {
                let decisions = out
                    .evaluation_results
                    .unwrap_or_default()
                    .into_iter()
                    .map(decision_from)
                    .collect();
                (decisions, out.is_truncated, out.marker)
            },
        )
        .await
    }
}

/// One simulator result in domain terms. An answer without a decision, or with one this SDK
/// version does not know, counts as not allowed.
fn decision_from(r: aws_sdk_iam::types::EvaluationResult) -> PolicyDecision {
    use aws_sdk_iam::types::PolicyEvaluationDecisionType as D;
    let verdict = match r.eval_decision {
        D::Allowed => Verdict::Allowed,
        D::ExplicitDeny => Verdict::ExplicitDeny,
        _ => Verdict::ImplicitDeny,
    };
    PolicyDecision {
        action: r.eval_action_name,
        resource: r.eval_resource_name.unwrap_or_else(|| "*".into()),
        verdict,
        missing_context: r.missing_context_values.unwrap_or_default(),
    }
}

/// The marker for the next page, `None` when done; a truncated page without a new marker would
/// loop forever, so it is an error.
fn next_marker(
    action: Action,
    truncated: bool,
    marker: Option<String>,
    previous: &Option<String>,
) -> Result<Option<String>, IamError> {
    if !truncated {
        return Ok(None);
    }
    match marker {
        Some(m) if !m.is_empty() && Some(&m) != previous.as_ref() => Ok(Some(m)),
        _ => Err(IamError::Malformed(format!(
            "{}: a truncated page without a new Marker",
            action.name()
        ))),
    }
}

pub(super) mod organizations;
pub(super) mod root_audit;
pub(super) mod root_session;

#[cfg(test)]
mod tests;
