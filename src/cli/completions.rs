//! `ykmfa completions SHELL` and `ykmfa man`: shell completion scripts and manual pages, both
//! generated from the same argument definitions as `--help`, so they can't drift from the CLI.
//! Both only write text; neither touches a token or AWS.

use std::path::PathBuf;

use clap::CommandFactory;
use clap_complete::Shell;

use super::report::Exit;
use super::{Cli, Failure, Output};

/// Arguments of `ykmfa completions`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  ykmfa completions bash > ~/.local/share/bash-completion/completions/ykmfa\n  ykmfa completions zsh > ~/.zfunc/_ykmfa   (with fpath+=~/.zfunc before compinit)\n  ykmfa completions fish > ~/.config/fish/completions/ykmfa.fish\n  ykmfa completions powershell >> $PROFILE"
)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: Shell,
}

/// Arguments of `ykmfa man`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  ykmfa man | man -l -\n  ykmfa man --dir ~/.local/share/man/man1"
)]
pub struct ManArgs {
    /// Write ykmfa.1 and one page per command (ykmfa-enroll.1, ...) into DIR instead of printing
    /// ykmfa.1 on stdout.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// The command tree as clap builds it for parsing; for man pages (`man`) without clap's `help`
/// command, which has no page of its own.
fn command(man: bool) -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(man);
    cmd.build();
    cmd
}

/// Prints the completion script for one shell on stdout.
pub fn completions(args: &CompletionsArgs) -> Result<(), Failure> {
    let mut cmd = command(false);
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "ykmfa", &mut script);
    write_stdout(&script)
}

/// Prints the man page on stdout, or writes every page into a directory.
pub fn man(out: &Output, args: &ManArgs) -> Result<(), Failure> {
    let Some(dir) = &args.dir else {
        let mut page = Vec::new();
        clap_mangen::Man::new(command(true))
            .render(&mut page)
            .map_err(|e| Failure::new(Exit::Failed, format!("cannot render: {e}"), &[]))?;
        return write_stdout(&page);
    };
    let fix = "choose a writable directory, e.g. --dir ~/.local/share/man/man1";
    let what = |e: std::io::Error| format!("cannot write the man pages to {}: {e}", dir.display());
    let cannot = |e| Failure::new(Exit::Failed, what(e), &[fix]);
    std::fs::create_dir_all(dir).map_err(cannot)?;
    clap_mangen::generate_to(command(true), dir).map_err(cannot)?;
    out.info(format!(
        "Wrote ykmfa.1 and a page per command to {}.",
        dir.display()
    ));
    Ok(())
}

/// Writes a generated document ([`ykmfa::terminal::write_stdout`]).
fn write_stdout(bytes: &[u8]) -> Result<(), Failure> {
    let cannot = |e| Failure::new(Exit::Failed, format!("cannot write to stdout: {e}"), &[]);
    ykmfa::terminal::write_stdout(bytes).map_err(cannot)
}
