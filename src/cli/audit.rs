//! `ykmfa audit`: the account's MFA posture as one table (or JSON), and an exit code for CI;
//! with `--organization`, every account of the organization, its work queue and a CSV.
//!
//! The analysis is [`ykmfa::mfa::audit`] (and [`org`]); its text, JSON and CSV are their
//! `report` modules; this module reads IAM and decides the exit code.

use std::time::Instant;

use ykmfa::iam::Sdk;
use ykmfa::layout::{plural, Bar};
use ykmfa::mfa::audit::{self, org, Severity};

use super::report::{iam_failure, Exit};
use super::{Failure, Global, Output};

/// Arguments of `ykmfa audit`.
#[derive(clap::Args, Debug)]
pub struct AuditArgs {
    /// Exit with code 9 when a finding is at or above LEVEL: info, low, medium, high or
    /// critical. Without it, the exit code is 0 whenever the audit ran, whatever it found.
    #[arg(long, value_name = "LEVEL", value_parser = str::parse::<Severity>)]
    pub fail_on: Option<Severity>,
    /// Per-user IAM calls (with --organization: accounts) in flight at once (1-32); lower it if
    /// IAM throttles.
    #[arg(long, value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u16).range(1..=32))]
    pub concurrency: u16,
    /// Every account of the organization, with the management (or delegated administrator)
    /// account's credentials: root through sts:AssumeRoot, users through --role.
    #[arg(long)]
    pub organization: bool,
    /// The role to assume in each account (with --organization).
    #[arg(long, value_name = "NAME", default_value = org::DEFAULT_ROLE, requires = "organization")]
    pub role: String,
    /// Also write one CSV row per account to FILE (with --organization).
    #[arg(long, value_name = "FILE", requires = "organization")]
    pub csv: Option<std::path::PathBuf>,
    /// Print what people must do: root users that need the console, and a bulk manifest draft
    /// for the IAM users without MFA (with --organization).
    #[arg(long, requires = "organization")]
    pub queue: bool,
}

/// Runs `ykmfa audit`.
pub async fn run(out: &Output, global: &Global, args: &AuditArgs) -> Result<(), Failure> {
    let started = Instant::now();
    let iam = |e| iam_failure(&e, global);
    if args.organization {
        return organization(out, global, args).await;
    }
    let dir = Sdk::connect(global.aws_options()).await.map_err(iam)?;
    let gathered = audit::gather(&dir, usize::from(args.concurrency)).await;
    let facts = gathered.map_err(iam)?;
    let findings = audit::analyze(&facts);
    if global.verbose > 0 {
        let line = audit::report::calls_line(&dir.calls(), started, args.concurrency);
        out.info(line);
    }
    if facts.orphans.iter().any(|o| o.tags.is_none()) {
        out.warn("the orphans' tags could not be read (iam:ListMFADeviceTags was denied): which token ykmfa wrote them to is unknown");
    }
    let failing = audit::report::failing(&findings, args.fail_on);
    match out.json {
        true => out.json(&audit::report::json(
            &facts,
            &findings,
            args.fail_on,
            failing,
        )),
        false => out.result(audit::report::text(&facts, &findings)),
    }
    verdict(args.fail_on, failing)
}

/// `audit --organization`: a progress bar on a terminal (never with --json), then the report.
async fn organization(out: &Output, global: &Global, args: &AuditArgs) -> Result<(), Failure> {
    let started = Instant::now();
    let request = org::Request {
        role: args.role.clone(),
        concurrency: usize::from(args.concurrency),
    };
    let bar = Bar::counting(!out.json, 0, "accounts");
    let on_event = |event: org::Event<'_>| match event {
        org::Event::Listed { active } => bar.set_total(active),
        org::Event::RootFallback { why } => out.warn(why),
        org::Event::Audited(a) => bar.progress(a.incomplete(), &org::report::progress(a)),
    };
    let audit = org::audit(&global.aws_options(), &request, &on_event).await;
    bar.clear();
    let audit = audit.map_err(|e| iam_failure(&e, global))?;
    if let Some(path) = &args.csv {
        let what = |e| format!("cannot write {}: {e}", path.display());
        let written = org::report::write_csv(&audit, path);
        written.map_err(|e| Failure::new(Exit::Failed, what(e), &[]))?;
    }
    let failing = org::report::failing(&audit, args.fail_on);
    match (out.json, args.queue) {
        (true, queue) => out.json(&org::report::json(&audit, args.fail_on, failing, queue)),
        (false, true) => out.result(org::report::queue_text(&audit)),
        (false, false) => out.result(org::report::text(&audit)),
    }
    if global.verbose > 0 {
        out.info(org::report::calls_line(&audit, started, args.concurrency));
    }
    verdict(args.fail_on, failing)
}

/// Exit code 9 when `failing` findings are at or above `--fail-on`.
fn verdict(fail_on: Option<Severity>, failing: usize) -> Result<(), Failure> {
    let Some(level) = fail_on.filter(|_| failing > 0) else {
        return Ok(());
    };
    let what = format!(
        "{failing} finding{} at or above '{level}' (--fail-on {level})",
        plural(failing)
    );
    Err(Failure::new(Exit::Findings, what, &[]))
}
