//! `ykmfa doctor` (being built).

use super::report::Exit;
use super::{Failure, Global, Output};

/// Arguments of `ykmfa doctor`.
#[derive(clap::Args, Debug)]
pub struct DoctorArgs {}

/// Runs `ykmfa doctor`.
pub async fn run(_out: &Output, _global: &Global, _args: &DoctorArgs) -> Result<(), Failure> {
    Err(Failure::new(Exit::Failed, "'ykmfa doctor' is not built yet", &[]))
}
