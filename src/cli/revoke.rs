//! `ykmfa revoke` (being built).

use super::report::Exit;
use super::{Failure, Global, Output};

/// Arguments of `ykmfa revoke`.
#[derive(clap::Args, Debug)]
pub struct RevokeArgs {}

/// Runs `ykmfa revoke`.
pub async fn run(_out: &Output, _global: &Global, _args: &RevokeArgs) -> Result<(), Failure> {
    Err(Failure::new(Exit::Failed, "'ykmfa revoke' is not built yet", &[]))
}
