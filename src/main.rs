//! The `ykmfa` command: parses arguments, runs one command, turns the outcome into words on
//! stderr, results on stdout and a documented exit code.

mod cli;

use clap::Parser;

fn main() -> std::process::ExitCode {
    // Before any thread exists: nothing may turn the SDK's secret-body logging on, no child
    // process may inherit the OATH password, and no core dump may carry a seed.
    ykmfa::iam::harden_process_env();
    ykmfa::token::password::take_from_env();
    let dumps = ykmfa::seed::forbid_core_dumps();
    let cli = cli::Cli::parse();
    logging(cli.global.verbose);
    cli::run(cli, dumps)
}

/// Logs go to stderr; `RUST_LOG` wins over `-v`. `YKMFA_LOG_FORMAT=json` writes one JSON object
/// per event (for log shippers; multi-line messages stay on one line). No secret is ever logged,
/// whatever the level or format.
fn logging(verbose: u8) {
    let default = match verbose {
        // aws-config warns about what ykmfa reports in its own words (no region, no config file).
        0 => "warn,aws_config=error",
        1 => "ykmfa=info",
        2 => "ykmfa=debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(true)
        .without_time();
    let _ = if std::env::var("YKMFA_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
