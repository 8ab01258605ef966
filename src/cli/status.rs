//! `ykmfa status` (being built).

use super::report::Exit;
use super::{Failure, Global, Output};

/// Arguments of `ykmfa status`.
#[derive(clap::Args, Debug)]
pub struct StatusArgs {}

/// Runs `ykmfa status`.
pub async fn run(_out: &Output, _global: &Global, _args: &StatusArgs) -> Result<(), Failure> {
    Err(Failure::new(Exit::Failed, "'ykmfa status' is not built yet", &[]))
}
