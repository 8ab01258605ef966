//! Command-line frame: arguments, global flags, dispatch, and the one place errors become
//! sentences and exit codes.

mod audit;
mod aws_profile;
mod bulk;
mod completions;
mod doctor;
mod enroll;
mod hardware;
mod interrupt;
mod output;
mod prompt;
mod report;
mod resync;
mod revoke;
mod root;
mod settle;
mod status;
mod token_args;
mod tokens;

use clap::{Args, Parser, Subcommand};

pub use output::Output;
pub use report::Failure;

/// Put AWS IAM MFA on hardware tokens.
///
/// ykmfa creates IAM virtual MFA devices and writes their seed straight into the OATH
/// application of a YubiKey (or a Nitrokey 3): the seed is never shown, stored or logged.
/// Human messages go to stderr; results (ARNs, JSON) go to stdout.
#[derive(Parser, Debug)]
#[command(
    name = "ykmfa",
    version,
    propagate_version = true,
    max_term_width = 100,
    after_help = "Exit codes: 0 ok, 1 failed, 2 usage, 3 token not found or ambiguous, \
4 PC/SC unavailable, 5 token refused, 6 AWS credentials or permission, 7 IAM refused, \
8 incomplete (something is left to clean up; the message says what), \
9 audit findings at or above --fail-on, 130 interrupted."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Flags every command accepts.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// Print machine-readable JSON on stdout instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// When to colour output: auto (only on a terminal, never with NO_COLOR), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// More detail on stderr (-v info, -vv debug, -vvv trace). Secrets are never logged.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// AWS profile from ~/.aws/config (as the AWS CLI's --profile; else AWS_PROFILE).
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS region; IAM is global, the region picks the partition (default us-east-1).
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// Answer yes to confirmation questions (for scripts; the plan is still printed).
    #[arg(short = 'y', long, global = true)]
    pub yes: bool,
    /// Give up on one AWS call after SECS seconds, retries included (slow networks: raise it).
    #[arg(long, global = true, value_name = "SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub aws_timeout: u64,
    /// IAM and STS endpoint, e.g. a local test endpoint (also AWS_ENDPOINT_URL_IAM).
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

/// When to use colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

impl Global {
    /// How to reach AWS.
    pub fn aws_options(&self) -> ykmfa::iam::Options {
        let mut options = ykmfa::iam::Options::default().within(self.aws_timeout);
        (options.profile, options.region) = (self.profile.clone(), self.region.clone());
        options.endpoint_url = self.endpoint_url.clone();
        options
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List the tokens on this machine: reader, kind, serial, firmware, OATH slots, password.
    Tokens(tokens::TokensArgs),
    /// Enroll an IAM user: create a virtual MFA device, write its seed to a token (never shown),
    /// and enable it with two codes computed on the token.
    #[command(
        after_help = "Examples:\n  ykmfa enroll --user alice\n  ykmfa enroll --user alice --serial 12345678 --touch\n  ykmfa enroll --user alice --dry-run --json\n  ykmfa enroll --root --account 123456789012   (the root user, with the console)\n  wl-paste -t image/png | ykmfa enroll --root --qr -   (the console's QR code from the clipboard)\n  ykmfa enroll --user alice --hardware-serial GAKT12345678   (a hardware TOTP token: type two codes)\n\nCan't: FIDO security keys and passkeys register only in the AWS console (IAM, Users, Security credentials, Assign MFA device); IAM Identity Center has no MFA API (users register in the access portal).\n\nOne transaction: if anything fails (or Ctrl-C), what was done is undone; what can't be undone is listed with the commands that remove it (exit code 8).\nNeeds iam:CreateVirtualMFADevice, iam:EnableMFADevice, iam:ListMFADevices, iam:GetUser, iam:DeleteVirtualMFADevice and iam:DeactivateMFADevice (for undo), iam:TagMFADevice (optional)."
    )]
    Enroll(enroll::EnrollArgs),
    /// Resynchronize a user's MFA device that drifted, with two codes from the token.
    Resync(resync::ResyncArgs),
    /// Remove a user's MFA device from IAM and its credential from the token.
    Revoke(revoke::RevokeArgs),
    /// A user's MFA devices joined with the tokens present.
    #[command(
        after_help = "Examples:\n  ykmfa status   (yourself, when signed in as an IAM user)\n  ykmfa status --user alice\n  ykmfa status --user alice --json | jq '.tokens[].credentials[] | select(.state == \"stale\")'\n\nFor each device: where its credential is (on a connected token, gone from it, on a token that is not connected, on a locked one). For each AWS credential on the connected tokens: its IAM device, or stale (IAM no longer has the device) with the command that removes it. No token connected is fine: the IAM side is shown.\nNeeds iam:ListMFADevices, iam:ListMFADeviceTags (else credentials are matched by name only) and iam:ListAccountAliases (optional)."
    )]
    Status(status::StatusArgs),
    /// The account's MFA posture: root, password policy, users without MFA, orphans.
    #[command(
        after_help = "Examples:\n  ykmfa audit\n  ykmfa audit --json | jq '.findings[] | select(.severity == \"critical\")'\n  ykmfa audit --fail-on high   (in CI: exit code 9 when a finding is high or critical)\n  ykmfa audit --organization --csv accounts.csv   (every account; management account credentials)\n  ykmfa audit --organization --queue > todo.txt   (who must do what next, and a bulk manifest draft)\n\nChecks: root MFA and root access keys (CIS 1.4-1.6), the password policy against CIS (length 14, reuse 24, character classes), console users without MFA (CIS 1.10), users with no backup device, unassigned virtual MFA devices.\nCan't: FIDO security keys and passkeys register only in the AWS console; IAM Identity Center's MFA is not IAM's and has no API (its own settings and access portal).\nThe exit code is 0 whenever the audit ran, whatever it found, unless --fail-on is given.\nNeeds iam:GetAccountSummary, iam:GetAccountPasswordPolicy, iam:ListUsers, iam:GetLoginProfile, iam:ListMFADevices, iam:ListVirtualMFADevices and iam:ListMFADeviceTags (optional: which token an orphan was written to).\nWith --organization: organizations:ListAccounts and organizations:DescribeOrganization, iam:ListOrganizationsFeatures, sts:AssumeRoot (task policy IAMAuditRootUserCredentials; centralized root access on) and sts:AssumeRole on --role in every account, whose policies allow the reads above. Root of each member is read in a root session (MFA devices and their kind: virtual, hardware, FIDO; password; access keys; signing certificates); credentials deleted centrally count as compliant. An account that can't be reached is a finding of that account."
    )]
    Audit(audit::AuditArgs),
    /// Check this machine and the AWS credentials for what ykmfa needs.
    Doctor(doctor::DoctorArgs),
    /// Enroll many users from a manifest: plan, then apply (parallel, resumable).
    Bulk(bulk::BulkArgs),
    /// Print the completion script for a shell.
    Completions(completions::CompletionsArgs),
    /// Print the man page (ykmfa.1), or write every page into a directory.
    Man(completions::ManArgs),
}

/// Runs an async command on a multi-threaded runtime (token work uses `block_in_place`).
fn block_on(f: impl std::future::Future<Output = Result<(), Failure>>) -> Result<(), Failure> {
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    let runtime = runtime.worker_threads(2).enable_all().build();
    let cannot = |e| Failure::new(report::Exit::Failed, format!("cannot start: {e}"), &[]);
    runtime.map_err(cannot)?.block_on(f)
}

/// Runs the parsed command line; `dumps` is whether core dumps could be turned off.
pub fn run(cli: Cli, dumps: std::io::Result<()>) -> std::process::ExitCode {
    let out = Output::new(&cli.global);
    if let Err(e) = dumps {
        out.warn(format!("could not disable core dumps: {e}"));
    }
    // Best effort, so a line at -v rather than a warning: most desktops allow too little.
    tracing::info!("{}", ykmfa::seed::lock_memory());
    let result = match cli.command {
        Command::Tokens(args) => tokens::run(&out, &args),
        Command::Enroll(args) => block_on(enroll::run(&out, &cli.global, &args)),
        Command::Resync(args) => block_on(resync::run(&out, &cli.global, &args)),
        Command::Revoke(args) => block_on(revoke::run(&out, &cli.global, &args)),
        Command::Status(args) => block_on(status::run(&out, &cli.global, &args)),
        Command::Audit(args) => block_on(audit::run(&out, &cli.global, &args)),
        Command::Doctor(args) => block_on(doctor::run(&out, &cli.global, &args)),
        Command::Bulk(args) => block_on(bulk::run(&out, &cli.global, &args)),
        Command::Completions(args) => completions::completions(&args),
        Command::Man(args) => completions::man(&out, &args),
    };
    let Err(failure) = result else {
        return std::process::ExitCode::SUCCESS;
    };
    out.failure(&failure);
    std::process::ExitCode::from(failure.code as u8)
}
