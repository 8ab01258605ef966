//! `ykmfa bulk` (being built).

use super::report::Exit;
use super::{Failure, Global, Output};

/// Arguments of `ykmfa bulk`.
#[derive(clap::Args, Debug)]
pub struct BulkArgs {}

/// Runs `ykmfa bulk`.
pub async fn run(_out: &Output, _global: &Global, _args: &BulkArgs) -> Result<(), Failure> {
    Err(Failure::new(Exit::Failed, "'ykmfa bulk' is not built yet", &[]))
}
