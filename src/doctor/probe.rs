//! Gathering the facts `doctor` judges, each step under a time limit: a pcscd that never answers,
//! a card stuck in another program's transaction, an SSO or metadata endpoint out of reach or an
//! IAM endpoint that hangs each becomes a finding, never a hang.
//!
//! PC/SC calls block, and a blocked one cannot be cancelled; they run on a thread of their own
//! that reports each step as it finishes. When a step does not finish in time, the report says
//! which one, and the thread is left behind (it ends with the process).

use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use aws_config::BehaviorVersion;
use aws_credential_types::credential_feature::AwsCredentialFeature;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_iam::config::Region;

use super::aws::{
    self, Answer, AwsFacts, Clock, Credentials, Identity, Permissions, Principal, Source,
};
use super::local::{
    LocalFacts, PasswordCheck, PolkitSetup, Program, ReaderFact, ReaderState, Readers, POLKIT_RULE,
};
use super::local::{Service, Socket};
use super::permissions::Command;
use crate::iam::{Directory, IamError, Options, Sdk};
use crate::oath::{self, Password};
use crate::token::{self, IdentifyError, Kind};
use crate::transport::pcsc::{self, Context};
use crate::transport::TransportError;

/// How long each step may take.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// One PC/SC step: connecting to pcscd, listing readers, examining one card.
    pub pcsc_step: Duration,
    /// One AWS step: resolving credentials, one IAM or STS call with its retries.
    pub aws_step: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            pcsc_step: Duration::from_secs(5),
            aws_step: Duration::from_secs(15),
        }
    }
}

/// What the PC/SC thread reports, step by step.
enum Event {
    Service(Result<(), TransportError>),
    Readers(Result<Vec<String>, TransportError>),
    Reader(ReaderFact),
}

/// This machine's facts. Blocks for at most a few `limits.pcsc_step`s (one per reader more).
/// `password` (from `YKMFA_OATH_PASSWORD`) is tried on YubiKeys that have a password: a wrong
/// OATH password costs nothing there. It is never tried on a Nitrokey, whose PIN has a retry
/// counter.
pub fn local(limits: Limits, password: Option<Password>) -> LocalFacts {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("doctor-pcsc".into())
        .spawn(move || pcsc_steps(&tx, password.as_ref()));
    let mut facts = LocalFacts {
        socket: socket(),
        is_root: rustix::process::getuid().is_root(),
        service: Service::NoAnswer(limits.pcsc_step),
        readers: Readers::NotListed,
        programs: running_programs(),
        polkit: polkit_setup(),
    };
    if let Err(e) = spawned {
        facts.service = Service::Down(TransportError::Other(format!("cannot start a thread: {e}")));
        return facts;
    }
    let next = |rx: &mpsc::Receiver<Event>| rx.recv_timeout(limits.pcsc_step);
    match next(&rx) {
        Ok(Event::Service(Ok(()))) => facts.service = Service::Up,
        Ok(Event::Service(Err(e))) => {
            facts.service = Service::Down(e);
            return facts;
        }
        _ => return facts,
    }
    let names = match next(&rx) {
        Ok(Event::Readers(Ok(names))) => names,
        Ok(Event::Readers(Err(e))) => {
            facts.readers = Readers::Failed(e);
            return facts;
        }
        _ => {
            facts.readers = Readers::NoAnswer(limits.pcsc_step);
            return facts;
        }
    };
    let mut examined = Vec::with_capacity(names.len());
    for name in &names {
        match next(&rx) {
            Ok(Event::Reader(fact)) => examined.push(fact),
            _ => {
                // This reader's card did not answer; the thread is stuck on it, so the rest
                // are not examined.
                examined.push(ReaderFact {
                    name: name.clone(),
                    state: ReaderState::NoAnswer(limits.pcsc_step),
                });
                break;
            }
        }
    }
    facts.readers = Readers::Listed(examined);
    facts
}

fn pcsc_steps(tx: &mpsc::Sender<Event>, password: Option<&Password>) {
    let ctx = match Context::establish() {
        Ok(ctx) => {
            if tx.send(Event::Service(Ok(()))).is_err() {
                return;
            }
            ctx
        }
        Err(e) => {
            let _ = tx.send(Event::Service(Err(e)));
            return;
        }
    };
    let names = ctx.readers();
    let list = names.as_ref().map(Vec::clone).unwrap_or_default();
    let _ = tx.send(Event::Readers(names));
    for name in list {
        let state = examine(&ctx, &name, password);
        if tx.send(Event::Reader(ReaderFact { name, state })).is_err() {
            return;
        }
    }
}

fn transport_state(e: TransportError) -> ReaderState {
    match e {
        TransportError::NoCard(_) | TransportError::ReaderGone(_) | TransportError::CardRemoved => {
            ReaderState::Empty
        }
        TransportError::SharingViolation(_) => ReaderState::Held,
        TransportError::PermissionDenied => ReaderState::Refused,
        other => ReaderState::Failed(other.to_string()),
    }
}

/// What one reader holds: connect, identify (one transaction), and try the password.
fn examine(ctx: &Context, reader: &str, password: Option<&Password>) -> ReaderState {
    let mut card = match ctx.connect(reader) {
        Ok(card) => card,
        Err(e) => return transport_state(e),
    };
    let token = match token::identify(&mut card) {
        Ok(token) => token,
        Err(IdentifyError::Oath(oath::Error::NoOathApplet)) => {
            return ReaderState::NoOath(token::without_oath(&mut card, reader.to_owned()).model)
        }
        Err(IdentifyError::Transport(e)) | Err(IdentifyError::Oath(oath::Error::Transport(e))) => {
            return transport_state(e)
        }
        Err(IdentifyError::Oath(e)) => {
            return ReaderState::Failed(format!("the OATH application misbehaved: {e}"))
        }
    };
    let password = match (token.password, token.kind, password) {
        (false, _, _) => PasswordCheck::None,
        (true, Kind::YubiKey, Some(p)) => try_password(&mut card, p),
        (true, _, _) => PasswordCheck::Locked,
    };
    ReaderState::Token {
        token: Box::new(token),
        password,
    }
}

fn try_password(card: &mut pcsc::Card, password: &Password) -> PasswordCheck {
    let outcome = card
        .begin()
        .map_err(oath::Error::Transport)
        .and_then(|mut link| {
            let mut session = oath::Session::open(&mut link)?;
            session.unlock(password)
        });
    match outcome {
        Ok(()) => PasswordCheck::Unlocks,
        Err(oath::Error::WrongPassword) => PasswordCheck::Wrong,
        Err(e) => PasswordCheck::Failed(e.to_string()),
    }
}

/// pcscd's client socket (Linux).
fn socket() -> Option<Socket> {
    let present = pcsc::service_socket_present()?;
    let path =
        std::env::var("PCSCLITE_CSOCK_NAME").unwrap_or_else(|_| "/run/pcscd/pcscd.comm".into());
    Some(Socket { path, present })
}

/// Where ykmfa's polkit set-up stands for this user: the rule file, the group in `/etc/group`,
/// this user in it, and this process's groups.
pub fn polkit_setup() -> PolkitSetup {
    let uid = rustix::process::getuid().as_raw();
    let user = std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|passwd| user_name(&passwd, uid));
    let group = std::fs::read_to_string("/etc/group")
        .ok()
        .and_then(|groups| group_entry(&groups, "ykmfa"));
    let mut session: Vec<u32> = rustix::process::getgroups()
        .map(|g| g.into_iter().map(|g| g.as_raw()).collect())
        .unwrap_or_default();
    session.push(rustix::process::getgid().as_raw());
    PolkitSetup {
        rule_installed: std::path::Path::new(POLKIT_RULE).exists(),
        group_exists: group.is_some(),
        member: match (&group, &user) {
            (Some((_, members)), Some(user)) => members.iter().any(|m| m == user),
            _ => false,
        } || group
            .as_ref()
            .is_some_and(|(gid, _)| primary_gid(uid) == Some(*gid)),
        in_session: group.as_ref().is_some_and(|(gid, _)| session.contains(gid)),
    }
}

/// The name of `uid` in a passwd file.
fn user_name(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.len() > 3 && fields[2].parse() == Ok(uid)).then(|| fields[0].to_owned())
    })
}

/// `uid`'s primary group id, from `/etc/passwd`.
fn primary_gid(uid: u32) -> Option<u32> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.len() > 3 && fields[2].parse() == Ok(uid))
            .then(|| fields[3].parse().ok())
            .flatten()
    })
}

/// A group's id and members in a group file.
fn group_entry(groups: &str, name: &str) -> Option<(u32, Vec<String>)> {
    groups.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        if fields.len() < 4 || fields[0] != name {
            return None;
        }
        let members = fields[3]
            .split(',')
            .filter(|m| !m.is_empty())
            .map(str::to_owned)
            .collect();
        Some((fields[2].parse().ok()?, members))
    })
}

/// The programs running on this machine (Linux: `/proc`), by process name. Processes that
/// vanish or cannot be read are skipped.
pub fn running_programs() -> Vec<Program> {
    // Elsewhere no program is named: the check then says nothing holds the token.
    if !cfg!(target_os = "linux") {
        return Vec::new();
    }
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut programs = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(name) = std::fs::read_to_string(entry.path().join("comm")) else {
            continue;
        };
        let command_line = std::fs::read(entry.path().join("cmdline"))
            .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
            .unwrap_or_default();
        programs.push(Program {
            name: name.trim_end().to_owned(),
            pid,
            command_line,
        });
    }
    programs.sort_by_key(|p| p.pid);
    programs
}

/// Where credentials came from, by the features the SDK's providers record on them.
pub fn source_from(features: &[AwsCredentialFeature]) -> Source {
    use AwsCredentialFeature as F;
    let has = |f: F| features.contains(&f);
    if has(F::CredentialsEnvVarsStsWebIdToken)
        || has(F::CredentialsProfileStsWebIdToken)
        || has(F::CredentialsStsAssumeRoleWebId)
    {
        Source::WebIdentity
    } else if has(F::CredentialsEnvVars) {
        Source::Environment
    } else if has(F::CredentialsSso) || has(F::CredentialsProfileSso) {
        Source::Sso
    } else if has(F::CredentialsProfileLogin) || has(F::CredentialsLogin) {
        Source::Login
    } else if has(F::CredentialsProcess) || has(F::CredentialsProfileProcess) {
        Source::Process
    } else if has(F::CredentialsStsAssumeRole) || has(F::CredentialsProfileSourceProfile) {
        Source::AssumeRole
    } else if has(F::CredentialsHttp) {
        Source::Container
    } else if has(F::CredentialsImds) {
        Source::InstanceMetadata
    } else if has(F::CredentialsProfile) {
        Source::ProfileKeys
    } else {
        Source::Unknown
    }
}

/// Resolves credentials the way every ykmfa command will (the same options), and keeps only
/// where they came from and when they expire.
pub async fn credentials(options: &Options, limit: Duration) -> Credentials {
    let resolve = async {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(profile) = &options.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &options.region {
            loader = loader.region(Region::new(region.clone()));
        }
        let config = loader.load().await;
        let Some(provider) = config.credentials_provider() else {
            return Credentials::Missing("no credentials provider is configured".into());
        };
        match provider.provide_credentials().await {
            Ok(creds) => {
                let features = creds
                    .get_property::<Vec<AwsCredentialFeature>>()
                    .cloned()
                    .unwrap_or_default();
                Credentials::Found {
                    source: source_from(&features),
                    expires: creds.expiry(),
                }
            }
            Err(e) => Credentials::Missing(describe(&e)),
        }
    };
    match tokio::time::timeout(limit, resolve).await {
        Ok(found) => found,
        Err(_) => Credentials::NoAnswer(limit),
    }
}

/// A credential-chain failure in a sentence: each error's own words down the source chain, never
/// a `Debug` dump (the chain's messages name providers and files, never secrets).
fn describe(e: &CredentialsError) -> String {
    let mut words: Vec<String> = Vec::new();
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        let text = err.to_string();
        if !words.iter().any(|w| w.contains(&text)) {
            words.push(text);
        }
        next = err.source();
    }
    let detail = words.join(": ");
    match e {
        CredentialsError::CredentialsNotLoaded(_) => format!(
            "none in the environment, the shared config and credentials files, SSO, web \
             identity, the container endpoint or instance metadata ({detail})"
        ),
        _ => detail,
    }
}

/// Options for doctor's own AWS calls: the user's, with short time limits and few retries.
pub fn options(mut base: Options, limit: Duration) -> Options {
    base.operation_timeout = limit;
    base.attempt_timeout = (limit / 2).max(Duration::from_secs(1));
    base.max_attempts = 2;
    base.consistency_attempts = 1;
    base
}

async fn bounded<T>(
    limit: Duration,
    call: impl std::future::Future<Output = Result<T, IamError>>,
) -> Result<Result<T, IamError>, Duration> {
    tokio::time::timeout(limit, call).await.map_err(|_| limit)
}

/// Who the caller is.
pub async fn identity<D: Directory>(dir: &D, limit: Duration) -> Identity {
    match bounded(limit, dir.caller_identity()).await {
        Ok(Ok(who)) => Identity::Known(who),
        Ok(Err(e)) => Identity::Failed(e),
        Err(after) => Identity::NoAnswer(after),
    }
}

/// AWS's clock against this one.
pub async fn clock<D: Directory>(dir: &D, limit: Duration) -> Clock {
    match bounded(limit, dir.server_clock()).await {
        Ok(Ok(reading)) => Clock::Read(reading),
        Ok(Err(e)) => Clock::Failed(e),
        Err(after) => Clock::NoAnswer(after),
    }
}

/// What the caller's policies allow `commands` to do, by IAM's policy simulator.
pub async fn permissions<D: Directory>(
    dir: &D,
    identity: &Identity,
    commands: &[Command],
    limit: Duration,
) -> Permissions {
    let who = match identity {
        Identity::Known(who) => who,
        _ => return Permissions::NotAsked("needs the caller's identity".into()),
    };
    if who.is_root() {
        return Permissions::Root;
    }
    let principal = match aws::principal(who) {
        Ok(p) => p,
        Err(reason) => return Permissions::Unavailable { reason },
    };
    let source = match &principal {
        Principal::User { arn, .. } => arn.clone(),
        Principal::Role {
            name,
            arn_without_path,
        } => match bounded(limit, dir.role_arn(name)).await {
            Ok(Ok(arn)) => arn,
            // GetRole denied (or failed): right for roles without a path, and the simulator
            // says NoSuchEntity otherwise.
            _ => arn_without_path.clone(),
        },
    };
    let context = aws::context(&principal);
    let started = Instant::now();
    let mut answers = Vec::new();
    for (scope, resource, actions) in aws::requests(commands, who, &principal) {
        let left = limit.saturating_sub(started.elapsed());
        let decisions = match bounded(
            left,
            dir.simulate_principal_policy(&source, &actions, &resource, &context),
        )
        .await
        {
            Ok(Ok(d)) => d,
            Ok(Err(e)) => {
                return Permissions::Unavailable {
                    reason: unavailable(&e, &source),
                }
            }
            Err(after) => {
                return Permissions::Unavailable {
                    reason: format!("no answer within {} s", after.as_secs()),
                }
            }
        };
        answers.push(Answer {
            scope,
            resource,
            decisions,
        });
    }
    Permissions::Simulated {
        principal: source,
        answers,
    }
}

fn unavailable(e: &IamError, source: &str) -> String {
    match e {
        IamError::AccessDenied { .. } => {
            "iam:SimulatePrincipalPolicy is not allowed for this caller".into()
        }
        IamError::NoSuchEntity { .. } => format!("IAM does not know {source}"),
        other => other.to_string(),
    }
}

/// The AWS facts: credentials first; with them, identity, clock and permissions.
///
/// `base` is how to reach AWS (its profile, else `AWS_PROFILE`, is the one reported); with
/// `no_aws` nothing is asked. `commands` are the commands whose permissions are checked.
pub async fn aws(base: Options, no_aws: bool, limits: Limits, commands: Vec<Command>) -> AwsFacts {
    let profile = base
        .profile
        .clone()
        .or_else(|| std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty()));
    let mut facts = AwsFacts {
        profile,
        now: now(),
        credentials: Credentials::NotAsked("--no-aws".into()),
        identity: Identity::NotAsked("--no-aws".into()),
        clock: Clock::NotAsked("--no-aws".into()),
        permissions: Permissions::NotAsked("--no-aws".into()),
        commands,
    };
    if no_aws {
        return facts;
    }
    let limit = limits.aws_step;
    let options = options(base, limit);
    facts.credentials = credentials(&options, limit).await;
    if !matches!(facts.credentials, Credentials::Found { .. }) {
        facts.identity = Identity::NotAsked("needs AWS credentials".into());
        facts.clock = Clock::NotAsked(
            "needs AWS credentials (AWS's clock is read from a signed request)".into(),
        );
        facts.permissions = Permissions::NotAsked("needs AWS credentials".into());
        return facts;
    }
    let dir = match tokio::time::timeout(limit, Sdk::connect(options)).await {
        Ok(Ok(dir)) => dir,
        Ok(Err(e)) => {
            facts.identity = Identity::Failed(e.clone());
            facts.clock = Clock::Failed(e);
            facts.permissions = Permissions::NotAsked("needs the caller's identity".into());
            return facts;
        }
        Err(_) => {
            facts.identity = Identity::NoAnswer(limit);
            facts.clock = Clock::NoAnswer(limit);
            facts.permissions = Permissions::NotAsked("needs the caller's identity".into());
            return facts;
        }
    };
    // The clock first: it is read before anything else can be slowed by retries.
    facts.clock = clock(&dir, limit).await;
    facts.identity = identity(&dir, limit).await;
    facts.permissions = permissions(&dir, &facts.identity, &facts.commands, limit).await;
    facts
}

/// The local time, for credential expiry.
pub fn now() -> SystemTime {
    SystemTime::now()
}

#[cfg(test)]
mod tests;
