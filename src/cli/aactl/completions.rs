//! `aactl completions SHELL`: the shell completion script for bash, zsh or fish,
//! generated from aactl's own clap definition (clap_complete), on standard output.

use super::{CliError, Exit};
use crate::cli::Io;
use clap::{Arg, ArgMatches, Command};
use clap_complete::Shell;

/// The clap definition of `aactl completions`.
pub(super) fn command() -> Command {
    Command::new("completions")
        .about("Print the shell completion script for bash, zsh or fish")
        .long_about(
            "Print the completion script for SHELL on standard output, generated from aactl's \
             own options so that it always matches this version. Install it where the shell \
             looks for completions: bash: /etc/bash_completion.d/aactl (or \
             ~/.local/share/bash-completion/completions/aactl); zsh: a file named _aactl in a \
             folder of $fpath; fish: ~/.config/fish/completions/aactl.fish.",
        )
        .arg(
            Arg::new("shell")
                .value_name("SHELL")
                .required(true)
                .value_parser(["bash", "zsh", "fish"])
                .help("The shell to complete for"),
        )
}

/// `aactl completions`.
///
/// # Errors
/// None today: a write error is kept by the output and reported once at the end.
pub(super) fn run(m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    let shell = match m.get_one::<String>("shell").map(String::as_str) {
        Some("zsh") => Shell::Zsh,
        Some("fish") => Shell::Fish,
        _ => Shell::Bash,
    };
    let mut script: Vec<u8> = Vec::new();
    clap_complete::generate(shell, &mut super::command(), "aactl", &mut script);
    let _ = io.out.write_all(&script);
    Ok(Exit::Success)
}
