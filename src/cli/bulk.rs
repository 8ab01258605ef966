//! `ykmfa bulk plan|apply FILE`: many users' tokens from one manifest, in parallel, resumable,
//! with a report.

mod screen;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ykmfa::mfa::bulk::manifest::ReadError;
use ykmfa::mfa::bulk::{self, text, OpenError, Settings};
use ykmfa::mfa::journal::bulk::JournalError;
use ykmfa::mfa::Cancel;
use ykmfa::oath::Password;

use super::report::Exit;
use super::{prompt, Failure, Global, Output};
use screen::Screen;
use ykmfa::layout::plural;
use ykmfa::layout::Bar;

const MANIFEST_HELP: &str = "\
Manifest (TOML: one [[enroll]] table per row; CSV: a header line, then one line per row):
  user         the IAM user (required)
  account      empty: the credentials ykmfa runs with; a profile name; or a role ARN to
               assume (arn:aws:iam::ACCOUNT:role/NAME) for multi-account organizations
  serial       the token's serial; empty: ykmfa asks for the token and waits for it
  hardware_serial  instead of serial, a hardware TOTP token (GAKT…): a person types its codes
  touch        true: every code needs a touch
  label        the credential name on the token [default: Amazon Web Services:USER@ACCOUNT]
  device_name  the IAM device name [default: USER-ykSERIAL]
  tags         extra device tags: a TOML table, or KEY=VALUE;KEY=VALUE in CSV

  [[enroll]]
  user = \"alice\"
  serial = 12345678
  [[enroll]]
  user = \"bob\"
  account = \"arn:aws:iam::222222222222:role/MfaAdmin\"
  touch = true";

/// Arguments of `ykmfa bulk`.
#[derive(clap::Args, Debug)]
pub struct BulkArgs {
    #[command(subcommand)]
    command: BulkCommand,
}

#[derive(clap::Subcommand, Debug)]
enum BulkCommand {
    /// Check every row against IAM and the tokens present and print the plan; change nothing.
    #[command(after_help = PLAN_HELP)]
    Plan(PlanArgs),
    /// Enroll every row: in parallel across tokens, one after another for tokens to be
    /// inserted; journaled, so running it again resumes; with a report.
    #[command(after_help = APPLY_HELP)]
    Apply(ApplyArgs),
}

const PLAN_HELP: &str = "Examples:\n  ykmfa bulk plan admins.toml\n  ykmfa bulk plan admins.csv --json\n\n\
Exit code 0 when every row is ready (or already enrolled), 1 when a row would fail, 2 for a malformed manifest.\n\
Needs (read-only) sts:GetCallerIdentity, iam:GetUser, iam:ListMFADevices, optionally iam:ListAccountAliases;\n\
sts:AssumeRole for rows naming a role.";

const APPLY_HELP: &str = "Examples:\n  ykmfa bulk apply admins.toml\n  ykmfa bulk apply admins.toml --report out/admins   (out/admins.csv and .json)\n  \
ykmfa bulk apply --resume admins.toml.journal\n\n\
The journal (default: FILE.journal) records every row's steps before they happen. Running the same\n\
command again (or --resume JOURNAL) skips rows already enrolled, finishes or removes what a killed\n\
run left half-done, and enrolls the rest. Two runs on one journal are refused.\n\
Report: one line per row (user, account, device ARN, token serial, label, status, error) as CSV\n\
and JSON, next to the journal unless --report says where.\n\
Exit code 0 when every row is enrolled, 8 when something could not be undone (the report lists it\n\
with the commands that remove it), 130 when interrupted, 2 for a malformed manifest, else 1.\n\
Needs what 'ykmfa enroll' needs, in each account (see 'ykmfa enroll --help'), and sts:AssumeRole\n\
for rows naming a role.";

#[derive(clap::Args, Debug)]
#[command(after_long_help = MANIFEST_HELP)]
struct PlanArgs {
    /// The manifest (.toml or .csv).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// The journal of earlier runs, to show rows already done [default: FILE.journal].
    #[arg(long, value_name = "PATH")]
    journal: Option<PathBuf>,
    /// IAM calls in flight per account, at most.
    #[arg(long, value_name = "N", default_value_t = bulk::DEFAULT_IAM_CONCURRENCY)]
    iam_concurrency: usize,
    /// Ask for the tokens' OATH password (no echo). For automation, set YKMFA_OATH_PASSWORD.
    #[arg(long)]
    oath_password: bool,
}

#[derive(clap::Args, Debug)]
#[command(after_long_help = MANIFEST_HELP)]
struct ApplyArgs {
    /// The manifest (.toml or .csv); with --resume, the one the journal names.
    #[arg(value_name = "FILE", required_unless_present = "resume")]
    file: Option<PathBuf>,
    /// Resume the run this journal records.
    #[arg(long, value_name = "JOURNAL", conflicts_with = "journal")]
    resume: Option<PathBuf>,
    /// Where the journal lives [default: FILE.journal].
    #[arg(long, value_name = "PATH")]
    journal: Option<PathBuf>,
    /// Report files: PATH.csv and PATH.json [default: beside the journal].
    #[arg(long, value_name = "PATH")]
    report: Option<PathBuf>,
    /// IAM calls in flight per account, at most (IAM throttles per account; the SDK retries
    /// throttled calls with backoff).
    #[arg(long, value_name = "N", default_value_t = bulk::DEFAULT_IAM_CONCURRENCY)]
    iam_concurrency: usize,
    /// Seconds to wait for each token to be inserted, for rows without a serial [default: 300 on
    /// a terminal, else 0].
    #[arg(long, value_name = "SECS")]
    wait: Option<u64>,
    /// Ask for the tokens' OATH password (no echo). For automation, set YKMFA_OATH_PASSWORD.
    #[arg(long)]
    oath_password: bool,
}

/// Runs `ykmfa bulk`.
pub async fn run(out: &Output, global: &Global, args: &BulkArgs) -> Result<(), Failure> {
    match &args.command {
        BulkCommand::Plan(a) => plan(out, global, a).await,
        BulkCommand::Apply(a) => apply(out, global, a).await,
    }
}

/// The settings of a run: `ask` for the tokens' OATH password; no wait for a token to be
/// inserted (a plan never waits; apply sets its own).
fn settings(global: &Global, iam: usize, ask: bool) -> Result<Settings, Failure> {
    let password = prompt::oath_password(ask, "the tokens")?;
    Ok(Settings {
        aws: global.aws_options(),
        iam_concurrency: iam,
        wait: Duration::ZERO,
        password: password.map(Password::from),
    })
}

/// Why a run can't start, in words; every manifest problem is named with its row and field.
fn open_failure(e: OpenError) -> Failure {
    let usage = |fix: &str| Failure::new(Exit::Usage, e.to_string(), &[fix]);
    let failed = |fix: &str| Failure::new(Exit::Failed, e.to_string(), &[fix]);
    match &e {
        OpenError::NoManifest => usage("ykmfa bulk apply FILE, or --resume JOURNAL"),
        OpenError::NoJournal(_) => usage("give the journal a run wrote (FILE.journal by default)"),
        OpenError::Unnamed(_) => {
            usage("give the manifest too: ykmfa bulk apply FILE --resume JOURNAL")
        }
        OpenError::Manifest(ReadError::Io { .. }) => {
            usage("check the path; 'ykmfa bulk apply --help' shows the format")
        }
        OpenError::Manifest(ReadError::NotUtf8(_)) => usage("save it as UTF-8"),
        OpenError::Manifest(ReadError::Problems { .. }) => usage(
            "fix the rows named, then run the command again ('ykmfa bulk apply --help' shows the format)",
        ),
        OpenError::Journal(JournalError::Busy(_)) => failed(
            "wait for the other run to finish; two runs on one journal would enroll rows twice",
        ),
        OpenError::Journal(JournalError::Corrupt { .. } | JournalError::Foreign(_)) => {
            failed("check the file; give another with --journal PATH if it is not ykmfa's")
        }
        OpenError::Journal(JournalError::Io { .. }) => failed(
            "check the directory exists and is writable, or choose another with --journal PATH",
        ),
    }
}

async fn plan(out: &Output, global: &Global, args: &PlanArgs) -> Result<(), Failure> {
    let (rows, _) = bulk::manifest::read(&args.file).map_err(|e| open_failure(e.into()))?;
    let settings = settings(global, args.iam_concurrency, args.oath_password)?;
    let journal = args.journal.as_deref();
    let planned = bulk::plan_rows(&rows, &args.file, journal, &settings).await;
    let problems = text::problems(&planned);
    if out.json {
        out.json(&text::plan_json(&planned));
    } else {
        out.result(text::plan_table(&planned).join("\n"));
        text::plan_notes(&planned, &args.file)
            .iter()
            .for_each(|l| out.info(l));
    }
    if problems > 0 {
        let what = format!("{problems} of {} rows would fail", planned.len());
        return Err(Failure::new(
            Exit::Failed,
            what,
            &["fix what is named for each row, or run apply anyway: the other rows are enrolled"],
        ));
    }
    Ok(())
}

async fn apply(out: &Output, global: &Global, args: &ApplyArgs) -> Result<(), Failure> {
    let (file, resume) = (args.file.as_deref(), args.resume.as_deref());
    let opened = bulk::Opened::open(file, resume, args.journal.as_deref()).map_err(open_failure)?;
    let manifest = args.file.clone().unwrap_or(opened.manifest.clone());
    let (changed, resumed) = opened.notes();
    changed.iter().for_each(|w| out.warn(w));
    resumed.iter().for_each(|l| out.info(l));
    let mut settings = settings(global, args.iam_concurrency, args.oath_password)?;
    settings.wait = ykmfa::terminal::wait_for_person(args.wait, 300);
    let bar = Bar::new(!out.json, opened.rows.len());
    let screen = Arc::new(Screen(bar));
    let cancel = Cancel::default();
    let interrupt = super::interrupt::Interrupt::watch(
        &cancel,
        "rows in progress finish their current step and undo it; no new row starts. Send it again to quit at once.",
        "Quit without undoing: the journal lets the next 'ykmfa bulk apply' clean up.",
    )?;
    let report = args.report.as_deref();
    let applied = opened
        .apply(settings, report, screen.clone(), cancel.clone())
        .await;
    drop(interrupt);
    screen.0.clear();
    if out.json {
        out.json(&applied.json());
    } else {
        out.result(text::outcome_table(&applied.outcomes).join("\n"));
    }
    match applied.closing() {
        Ok(line) => out.info(line),
        Err(line) => out.warn(line),
    }
    let summary = &applied.summary;
    if summary.all_succeeded() {
        return Ok(());
    }
    let again = format!("run the same command again once the causes are fixed: enrolled rows are skipped (ykmfa bulk apply {})", manifest.display());
    if summary.incomplete > 0 {
        let n = summary.incomplete;
        let what = format!("{n} row{} left something that could not be undone; the report lists it with the commands that remove it", plural(n));
        let mut f = Failure::new(Exit::Incomplete, what, &[]);
        f.fix = text::leftovers(&applied.outcomes);
        return Err(f);
    }
    if cancel.is_cancelled() {
        let what =
            "interrupted; rows in progress were undone, rows not started are left for the next run";
        return Err(Failure::new(Exit::Interrupted, what, &[&again]));
    }
    let (n, rows) = (summary.not_enrolled(), summary.rows);
    let what = format!("{n} of {rows} rows were not enrolled");
    Err(Failure::new(
        Exit::Failed,
        what,
        &[
            "the report and the lines above say why for each row",
            &again,
        ],
    ))
}
