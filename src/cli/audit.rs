//! `ykmfa audit`: the account's MFA posture as one table (or JSON), and an exit code for CI.
//!
//! The analysis is [`ykmfa::mfa::audit`]; its text and JSON are
//! [`ykmfa::mfa::audit::report`]; this module reads IAM and decides the exit code.

use std::time::Instant;

use ykmfa::iam::Sdk;
use ykmfa::layout::plural;
use ykmfa::mfa::audit::{self, Severity};

use super::report::{iam_failure, Exit};
use super::{Failure, Global, Output};

/// Arguments of `ykmfa audit`.
#[derive(clap::Args, Debug)]
pub struct AuditArgs {
    /// Exit with code 9 when a finding is at or above LEVEL: info, low, medium, high or
    /// critical. Without it, the exit code is 0 whenever the audit ran, whatever it found.
    #[arg(long, value_name = "LEVEL", value_parser = str::parse::<Severity>)]
    pub fail_on: Option<Severity>,
    /// Per-user IAM calls in flight at once (1-32); lower it if IAM throttles a big account.
    #[arg(long, value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u16).range(1..=32))]
    pub concurrency: u16,
}

/// Runs `ykmfa audit`.
pub async fn run(out: &Output, global: &Global, args: &AuditArgs) -> Result<(), Failure> {
    let started = Instant::now();
    let iam = |e| iam_failure(&e, global);
    let dir = Sdk::connect(global.aws_options()).await.map_err(iam)?;
    let gathered = audit::gather(&dir, usize::from(args.concurrency)).await;
    let facts = gathered.map_err(iam)?;
    let findings = audit::analyze(&facts);
    if global.verbose > 0 {
        let calls = dir.calls();
        let total: u32 = calls.iter().map(|(_, n)| n).sum();
        let each: Vec<String> = calls.iter().map(|(a, n)| format!("{a} {n}")).collect();
        let (secs, each) = (started.elapsed().as_secs_f64(), each.join(", "));
        out.info(format!(
            "{total} IAM/STS calls in {secs:.2} s ({each}; at most {} per-user calls at once)",
            args.concurrency
        ));
    }
    if facts.orphans.iter().any(|o| o.tags.is_none()) {
        out.warn("the orphans' tags could not be read (iam:ListMFADeviceTags was denied): which token ykmfa wrote them to is unknown");
    }
    let failing = audit::report::failing(&findings, args.fail_on);
    if out.json {
        let report = audit::report::json(&facts, &findings, args.fail_on, failing);
        out.json(&report);
    } else {
        out.result(audit::report::text(&facts, &findings));
    }
    let Some(level) = args.fail_on.filter(|_| failing > 0) else {
        return Ok(());
    };
    let what = format!(
        "{failing} finding{} at or above '{level}' (--fail-on {level})",
        plural(failing)
    );
    Err(Failure::new(Exit::Findings, what, &[]))
}
