//! The AWS side: AWS's clock against ours, the credentials in use, who they belong to, and what
//! the caller's policies allow ykmfa's commands to do. Facts in, [`Check`]s out.

use std::time::{Duration, SystemTime};

use serde_json::json;

use super::permissions::{self, Command, Scope};
use super::{Check, Status};
use crate::iam::{
    arn_partition, CallerIdentity, ClockReading, IamError, PolicyDecision, SkewLevel, Verdict,
};

/// What the AWS probe saw.
#[derive(Debug)]
pub struct AwsFacts {
    /// The profile in effect (`--profile`, else `AWS_PROFILE`), for messages.
    pub profile: Option<String>,
    /// The local time when the facts were gathered (credential expiry is measured from it).
    pub now: SystemTime,
    /// The credential chain's answer.
    pub credentials: Credentials,
    /// STS GetCallerIdentity.
    pub identity: Identity,
    /// AWS's clock against ours.
    pub clock: Clock,
    /// The policy simulator's answers.
    pub permissions: Permissions,
    /// The commands whose permissions were asked about.
    pub commands: Vec<Command>,
}

/// The credential chain's answer (never the credentials themselves).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// Not looked at (the reason says why, e.g. `--no-aws`).
    NotAsked(String),
    /// Credentials were found.
    Found {
        /// Where they came from.
        source: Source,
        /// When they expire (temporary credentials only).
        expires: Option<SystemTime>,
    },
    /// None could be resolved, in the chain's words.
    Missing(String),
    /// The chain did not answer within the time limit.
    NoAnswer(Duration),
}

/// Where credentials came from, as far as the AWS SDK tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`).
    Environment,
    /// Keys written in a profile of the shared files.
    ProfileKeys,
    /// IAM Identity Center (SSO) through a profile.
    Sso,
    /// `aws login` (console credentials) through a profile.
    Login,
    /// A profile's `credential_process`.
    Process,
    /// A role a profile assumes (`role_arn`).
    AssumeRole,
    /// A web identity token (`AWS_WEB_IDENTITY_TOKEN_FILE`, or a profile's).
    WebIdentity,
    /// The container credentials endpoint (ECS, EKS Pod Identity).
    Container,
    /// EC2 instance metadata (the instance profile's role).
    InstanceMetadata,
    /// The SDK did not say.
    Unknown,
}

impl Source {
    fn describe(self, profile: &str) -> String {
        match self {
            Source::Environment => "environment variables (AWS_ACCESS_KEY_ID)".into(),
            Source::ProfileKeys => format!("access keys of profile '{profile}'"),
            Source::Sso => format!("IAM Identity Center (SSO) sign-in of profile '{profile}'"),
            Source::Login => format!("console sign-in (aws login) of profile '{profile}'"),
            Source::Process => format!("the credential_process of profile '{profile}'"),
            Source::AssumeRole => format!("a role assumed by profile '{profile}'"),
            Source::WebIdentity => "a web identity token".into(),
            Source::Container => "the container credentials endpoint (ECS, EKS)".into(),
            Source::InstanceMetadata => "EC2 instance metadata (the instance's role)".into(),
            Source::Unknown => "the default credential chain".into(),
        }
    }
}

/// STS GetCallerIdentity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// Not asked (the reason says why).
    NotAsked(String),
    /// The caller.
    Known(CallerIdentity),
    /// The call failed.
    Failed(IamError),
    /// No answer within the time limit.
    NoAnswer(Duration),
}

/// AWS's clock.
#[derive(Debug, Clone, PartialEq)]
pub enum Clock {
    /// Not asked (the reason says why).
    NotAsked(String),
    /// A reading.
    Read(ClockReading),
    /// No answer came.
    Failed(IamError),
    /// No answer within the time limit.
    NoAnswer(Duration),
}

/// What the caller's policies allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Permissions {
    /// Not asked (the reason says why).
    NotAsked(String),
    /// The root user: policies do not restrict it.
    Root,
    /// The simulator's answers, per request.
    Simulated {
        /// The principal simulated (a user's or role's ARN).
        principal: String,
        /// The answers.
        answers: Vec<Answer>,
    },
    /// The simulator could not be asked.
    Unavailable {
        /// Why, in a sentence.
        reason: String,
    },
}

/// The simulator's answer for one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The kind of resource.
    pub scope: Scope,
    /// The ARN (or `*`) it was asked about.
    pub resource: String,
    /// One decision per action.
    pub decisions: Vec<PolicyDecision>,
}

/// The principal whose policies the simulator evaluates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// An IAM user: its ARN is the caller's.
    User {
        /// The user's ARN.
        arn: String,
        /// The user's name.
        name: String,
    },
    /// A role, from an assumed-role session. The session ARN leaves the role's path out, so
    /// the role's own ARN comes from GetRole; `arn_without_path` is the fallback.
    Role {
        /// The role's name.
        name: String,
        /// `arn:PARTITION:iam::ACCOUNT:role/NAME`: right for roles without a path.
        arn_without_path: String,
    },
}

/// Which principal to simulate for the caller, or why none can be.
pub fn principal(who: &CallerIdentity) -> Result<Principal, String> {
    let partition = who.partition().unwrap_or("aws");
    if let Some(name) = who.user_name() {
        return Ok(Principal::User {
            arn: who.arn.clone(),
            name: name.to_owned(),
        });
    }
    let resource = who.arn.splitn(6, ':').nth(5).unwrap_or_default();
    if let Some(rest) = resource.strip_prefix("assumed-role/") {
        if let Some(name) = rest.split('/').next().filter(|n| !n.is_empty()) {
            return Ok(Principal::Role {
                name: name.to_owned(),
                arn_without_path: format!("arn:{partition}:iam::{}:role/{name}", who.account),
            });
        }
    }
    if resource.starts_with("federated-user/") {
        return Err(
            "a federated user's session is not an IAM user or role the policy \
                    simulator can evaluate"
                .into(),
        );
    }
    Err(format!(
        "the caller {} is not an IAM user or role the policy simulator can evaluate",
        who.arn
    ))
}

/// The ARN the simulator is asked about for a kind of resource: the caller's own user for
/// user actions (self-service is the narrowest case; an administrator's `*` covers it too), any
/// user for a role, a device named like ykmfa's for device actions, `*` for account actions.
pub fn resource(scope: Scope, who: &CallerIdentity, principal: &Principal) -> String {
    let partition = arn_partition(&who.arn).unwrap_or("aws");
    let account = &who.account;
    match (scope, principal) {
        (Scope::Account, _) => "*".into(),
        (Scope::User, Principal::User { arn, .. }) => arn.clone(),
        (Scope::User, Principal::Role { .. }) => format!("arn:{partition}:iam::{account}:user/*"),
        (Scope::Device, Principal::User { name, .. }) => {
            format!("arn:{partition}:iam::{account}:mfa/{name}-ykmfa")
        }
        (Scope::Device, Principal::Role { .. }) => {
            format!("arn:{partition}:iam::{account}:mfa/ykmfa")
        }
    }
}

/// The simulator requests for `commands`: one per kind of resource, each with every action of
/// that kind the commands need (once).
pub fn requests(
    commands: &[Command],
    who: &CallerIdentity,
    principal: &Principal,
) -> Vec<(Scope, String, Vec<String>)> {
    let mut out: Vec<(Scope, String, Vec<String>)> = Vec::new();
    for scope in [Scope::User, Scope::Device, Scope::Account] {
        let mut actions: Vec<String> = Vec::new();
        for c in commands {
            for n in c.needs().iter().filter(|n| n.scope == scope) {
                if !actions.iter().any(|a| a == n.action) {
                    actions.push(n.action.to_owned());
                }
            }
        }
        if !actions.is_empty() {
            out.push((scope, resource(scope, who, principal), actions));
        }
    }
    out
}

/// Condition keys the simulator is given: `aws:username` for a user, so that policies written
/// for `${aws:username}` (AWS's self-service example) are evaluated as IAM would at run time.
pub fn context(principal: &Principal) -> Vec<(String, String)> {
    match principal {
        Principal::User { name, .. } => vec![("aws:username".into(), name.clone())],
        Principal::Role { .. } => Vec::new(),
    }
}

/// The checks of the AWS side, in report order.
pub fn checks(f: &AwsFacts) -> Vec<Check> {
    let mut out = vec![clock(f), credentials(f), identity(f)];
    out.extend(permissions_checks(f));
    out
}

fn profile(f: &AwsFacts) -> &str {
    f.profile.as_deref().unwrap_or("default")
}

fn sign_in_fixes(f: &AwsFacts) -> Vec<String> {
    let p = f.profile.as_deref().unwrap_or("NAME");
    vec![
        "configure credentials as for the AWS CLI: aws configure, AWS_PROFILE, or --profile NAME"
            .into(),
        format!("if the profile uses IAM Identity Center (SSO): aws sso login --profile {p}"),
    ]
}

/// AWS's clock: a YubiKey has no clock, so the host's decides every code.
pub fn clock(f: &AwsFacts) -> Check {
    let (id, name) = ("clock", "clock");
    match &f.clock {
        Clock::NotAsked(why) => Check::new(id, name, Status::Skip, why.clone()),
        Clock::NoAnswer(after) => Check::new(
            id,
            name,
            Status::Warn,
            format!(
                "AWS did not answer within {} s, so its clock is unknown",
                after.as_secs()
            ),
        ),
        Clock::Failed(e) => Check::new(
            id,
            name,
            Status::Warn,
            format!("AWS's clock could not be read: {e}"),
        ),
        Clock::Read(reading) => {
            let skew = reading.skew();
            let secs = skew.rounded();
            let way = if skew.ahead() { "ahead of" } else { "behind" };
            let data = json!({
                "skew_seconds": skew.seconds,
                "uncertainty_seconds": skew.uncertainty,
                "round_trip_ms": reading.round_trip().as_millis() as u64,
            });
            let sync = [
                "turn on time synchronisation: sudo timedatectl set-ntp true (or: sudo chronyc makestep)",
                "devices used while the clock was off may have drifted: ykmfa resync --user NAME",
            ];
            let check = match skew.level() {
                SkewLevel::Ok => Check::new(
                    id,
                    name,
                    Status::Ok,
                    format!(
                        "this clock is within {:.0} s of AWS's",
                        skew.at_most().ceil()
                    ),
                ),
                SkewLevel::Noticeable => Check::new(
                    id,
                    name,
                    Status::Warn,
                    format!(
                        "this clock is {} s {way} AWS's (±{:.0} s): codes near the end of a \
                         30-second step may be refused",
                        secs.abs(),
                        skew.uncertainty.ceil()
                    ),
                )
                .fix(sync),
                SkewLevel::Large => Check::new(
                    id,
                    name,
                    Status::Fail,
                    format!(
                        "this clock is {} s {way} AWS's: codes computed here are refused (a \
                         token has no clock; the host's decides the code)",
                        secs.abs()
                    ),
                )
                .fix(sync),
            };
            check.data(data)
        }
    }
}

/// The credential chain, without showing a key or token.
pub fn credentials(f: &AwsFacts) -> Check {
    let (id, name) = ("credentials", "credentials");
    match &f.credentials {
        Credentials::NotAsked(why) => Check::new(id, name, Status::Skip, why.clone()),
        Credentials::NoAnswer(after) => Check::new(
            id,
            name,
            Status::Fail,
            format!(
                "the credential chain did not answer within {} s (an SSO, container or \
                 instance-metadata endpoint out of reach?)",
                after.as_secs()
            ),
        )
        .fix({
            let mut fixes = sign_in_fixes(f);
            fixes.push("off EC2, AWS_EC2_METADATA_DISABLED=true skips the metadata lookup".into());
            fixes
        }),
        Credentials::Missing(why) => Check::new(
            id,
            name,
            Status::Fail,
            format!("no usable AWS credentials: {why}"),
        )
        .fix(sign_in_fixes(f)),
        Credentials::Found { source, expires } => {
            let from = format!("from {}", source.describe(profile(f)));
            let data = json!({"source": source, "temporary": expires.is_some()});
            let Some(expires) = expires else {
                return Check::new(id, name, Status::Ok, from).data(data);
            };
            match expires.duration_since(f.now) {
                Err(_) => Check::new(id, name, Status::Fail, format!("{from}: expired"))
                    .fix(sign_in_fixes(f))
                    .data(data),
                Ok(left) if left < Duration::from_secs(300) => Check::new(
                    id,
                    name,
                    Status::Warn,
                    format!("{from}: temporary, expire in {} s", left.as_secs()),
                )
                .fix(["sign in again before a long run (e.g. aws sso login)"])
                .data(data),
                Ok(left) => Check::new(
                    id,
                    name,
                    Status::Ok,
                    format!("{from}: temporary, expire in {}", minutes(left)),
                )
                .data(data),
            }
        }
    }
}

fn minutes(d: Duration) -> String {
    let m = d.as_secs() / 60;
    if m >= 120 {
        format!("{} h", m / 60)
    } else {
        format!("{m} min")
    }
}

/// Who the credentials belong to.
pub fn identity(f: &AwsFacts) -> Check {
    let (id, name) = ("identity", "identity");
    match &f.identity {
        Identity::NotAsked(why) => Check::new(id, name, Status::Skip, why.clone()),
        Identity::NoAnswer(after) => Check::new(
            id,
            name,
            Status::Fail,
            format!("STS did not answer within {} s", after.as_secs()),
        )
        .fix(["check the network and the endpoint (--endpoint-url, AWS_ENDPOINT_URL_STS)"]),
        Identity::Failed(e) => {
            let fixes = match e {
                IamError::NoCredentials(_) => sign_in_fixes(f),
                IamError::Network(_) | IamError::Timeout { .. } => vec![
                    "check the network and the endpoint (--endpoint-url, AWS_ENDPOINT_URL_STS)"
                        .into(),
                ],
                _ => vec![
                    "run with -vvv to see the exchange with AWS (secrets are never logged)".into(),
                ],
            };
            Check::new(id, name, Status::Fail, e.to_string()).fix(fixes)
        }
        Identity::Known(who) => {
            let data = json!({"account": who.account, "arn": who.arn});
            if who.is_root() {
                Check::new(
                    id,
                    name,
                    Status::Warn,
                    format!("the root user of account {}", who.account),
                )
                .fix([
                    "use an IAM role or user with the permissions below for ykmfa's work, and keep root's keys deleted",
                    "root MFA needs no AWS credentials at all: ykmfa enroll --root assists the console",
                ])
                .data(data)
            } else {
                Check::new(
                    id,
                    name,
                    Status::Ok,
                    format!("{} (account {})", who.arn, who.account),
                )
                .data(data)
            }
        }
    }
}

fn verdict_text(d: &PolicyDecision) -> String {
    match (d.verdict, d.missing_context.is_empty()) {
        (Verdict::ExplicitDeny, _) => format!("{} (denied explicitly)", d.action),
        (_, false) => format!(
            "{} (allowed only with {})",
            d.action,
            d.missing_context.join(", ")
        ),
        _ => d.action.clone(),
    }
}

/// One line per command: what the caller may do.
pub fn permissions_checks(f: &AwsFacts) -> Vec<Check> {
    let id = |c: Command| format!("iam.{c}");
    let name = |c: Command| format!("iam: {c}");
    match &f.permissions {
        Permissions::NotAsked(why) => f
            .commands
            .iter()
            .map(|&c| Check::new(id(c), name(c), Status::Skip, why.clone()))
            .collect(),
        Permissions::Root => f
            .commands
            .iter()
            .map(|&c| {
                Check::new(
                    id(c),
                    name(c),
                    Status::Ok,
                    "the root user may call every IAM action",
                )
            })
            .collect(),
        Permissions::Unavailable { reason } => {
            let mut out = vec![Check::new(
                "iam.simulator",
                "iam: simulator",
                Status::Warn,
                format!(
                    "IAM's policy simulator could not be asked ({reason}); what each command needs follows"
                ),
            )
            .fix([
                "to let doctor check, allow iam:SimulatePrincipalPolicy on your own user or role",
            ])];
            out.extend(f.commands.iter().map(|&c| {
                Check::new(
                    id(c),
                    name(c),
                    Status::Skip,
                    format!("needs {}", permissions::summary(c)),
                )
                .data(json!(c.needs()))
            }));
            out
        }
        Permissions::Simulated { principal, answers } => f
            .commands
            .iter()
            .map(|&c| simulated(c, principal, answers, id(c), name(c)))
            .collect(),
    }
}

fn simulated(c: Command, principal: &str, answers: &[Answer], id: String, name: String) -> Check {
    let mut denied = Vec::new();
    let mut optional_denied = Vec::new();
    for need in c.needs() {
        let decision = answers
            .iter()
            .filter(|a| a.scope == need.scope)
            .flat_map(|a| &a.decisions)
            .find(|d| d.action.eq_ignore_ascii_case(need.action));
        let text = match decision {
            Some(d) if d.verdict == Verdict::Allowed => continue,
            Some(d) => verdict_text(d),
            None => format!("{} (not answered)", need.action),
        };
        if need.required {
            denied.push((text, need.action));
        } else {
            optional_denied.push((text, need.why));
        }
    }
    let data = json!({
        "principal": principal,
        "denied": denied.iter().map(|(_, a)| a).collect::<Vec<_>>(),
        "optional_denied": optional_denied
            .iter()
            .map(|(t, why)| json!({"action": t, "without_it": why}))
            .collect::<Vec<_>>(),
    });
    let optional = if optional_denied.is_empty() {
        String::new()
    } else {
        format!(
            "; optional, not allowed (it does less without them): {}",
            optional_denied
                .iter()
                .map(|(t, _)| t.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    if denied.is_empty() {
        let required = c.needs().iter().filter(|n| n.required).count();
        return Check::new(
            id,
            name,
            Status::Ok,
            format!(
                "allowed: {} it needs{optional}",
                match required {
                    1 => "the 1 action".to_owned(),
                    n => format!("all {n} actions"),
                }
            ),
        )
        .data(data);
    }
    let texts: Vec<&str> = denied.iter().map(|(t, _)| t.as_str()).collect();
    let actions: Vec<&str> = denied.iter().map(|(_, a)| *a).collect();
    Check::new(
        id,
        name,
        Status::Fail,
        format!("not allowed: {}{optional}", texts.join(", ")),
    )
    .fix([
        format!("ask an administrator to allow {}", actions.join(", ")),
        "least-privilege policy examples: ykmfa's SECURITY.md".to_owned(),
    ])
    .data(data)
}

#[cfg(test)]
mod tests;
