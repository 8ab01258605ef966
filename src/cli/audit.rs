//! `ykmfa audit` (being built).

use super::report::Exit;
use super::{Failure, Global, Output};

/// Arguments of `ykmfa audit`.
#[derive(clap::Args, Debug)]
pub struct AuditArgs {}

/// Runs `ykmfa audit`.
pub async fn run(_out: &Output, _global: &Global, _args: &AuditArgs) -> Result<(), Failure> {
    Err(Failure::new(Exit::Failed, "'ykmfa audit' is not built yet", &[]))
}
