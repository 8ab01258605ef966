//! Command-line frame: arguments, global flags, dispatch, and the one place errors become
//! sentences and exit codes.

mod output;
mod report;
mod tokens;

use std::process::ExitCode;

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
    max_term_width = 100
)]
#[command(
    after_help = "Exit codes: 0 ok, 1 failed, 2 usage, 3 token not found or ambiguous, \
4 PC/SC unavailable, 5 token refused, 6 AWS credentials or permission, 7 IAM refused, \
8 incomplete (something is left to clean up; the message says what), 130 interrupted."
)]
pub struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Flags every command accepts.
#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Print machine-readable JSON on stdout instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// When to colour output: auto (only on a terminal, never with NO_COLOR), always, never.
    #[arg(long, global = true, value_enum, default_value_t = output::ColorChoice::Auto)]
    pub color: output::ColorChoice,
    /// More detail on stderr (-v info, -vv debug, -vvv trace). Secrets are never logged.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List the tokens on this machine: reader, kind, serial, firmware, OATH slots, password.
    #[command(
        after_help = "Examples:\n  ykmfa tokens\n  ykmfa tokens --json | jq '.tokens[].serial'"
    )]
    Tokens(tokens::TokensArgs),
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Output::new(&cli.global);
    output::init_logging(cli.global.verbose);
    let result = match cli.command {
        Command::Tokens(args) => tokens::run(&out, &args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            out.failure(&failure);
            ExitCode::from(failure.code as u8)
        }
    }
}
