//! The `ykmfa` command: parses arguments, runs one command, turns the outcome into words on
//! stderr, results on stdout and a documented exit code.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
