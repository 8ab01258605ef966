//! `ykmfa resync` (being built).

use super::report::Exit;
use super::{Failure, Global, Output};

/// Arguments of `ykmfa resync`.
#[derive(clap::Args, Debug)]
pub struct ResyncArgs {}

/// Runs `ykmfa resync`.
pub async fn run(_out: &Output, _global: &Global, _args: &ResyncArgs) -> Result<(), Failure> {
    Err(Failure::new(Exit::Failed, "'ykmfa resync' is not built yet", &[]))
}
