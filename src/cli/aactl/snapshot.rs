//! `aactl snapshot DIR`: argv → [`crate::system::snapshot`] → one summary line. Copies the
//! AppArmor state that the inspection commands read into DIR, in the layout of a root
//! directory, so that `--root DIR` reads it back. Attach the folder to a bug report.

use super::{CliError, Exit};
use crate::cli::Io;
use clap::{Arg, ArgMatches, Command};
use std::path::PathBuf;

/// The clap definition of `aactl snapshot`.
pub(super) fn command() -> Command {
    Command::new("snapshot")
        .about("Copy the AppArmor state (policy, parameters, features, processes) into DIR")
        .long_about(
            "Copy the AppArmor state that `aactl status`, `aactl ps` and aa-status read into \
             DIR, laid out like a root directory (DIR/proc, DIR/sys/...). Read it back with \
             `--root DIR`. DIR must not exist or be empty. Fails (exit 2) when AppArmor \
             cannot be inspected, as `aactl status` does, unless --force is given.",
        )
        .arg(
            Arg::new("force")
                .long("force")
                .action(clap::ArgAction::SetTrue)
                .help(
                    "Write what there is even when AppArmor is absent, disabled or not \
                     mounted (with a warning)",
                ),
        )
        .arg(
            Arg::new("dir")
                .value_name("DIR")
                .required(true)
                .value_parser(clap::value_parser!(PathBuf))
                .help("Folder to write (created; must be empty if it exists)"),
        )
}

/// Runs `aactl snapshot DIR` (reading the system given by `--root`, default `/`).
///
/// # Errors
/// AppArmor cannot be inspected (see [`crate::inspect::preflight`]) and `--force` is not
/// given; otherwise see [`snapshot`].
pub(super) fn run(m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    let sys = super::system(m);
    let Some(dest) = m.get_one::<PathBuf>("dir") else {
        return Err(CliError("missing DIR".into()));
    };
    if let Err(e) = crate::inspect::preflight(&sys) {
        if !m.get_flag("force") {
            return Err(CliError(format!(
                "{}; nothing written (--force writes what there is)",
                crate::error::chain(&e)
            )));
        }
        let _ = writeln!(
            io.err,
            "aactl: warning: {}; writing what there is (--force)",
            crate::escape::escape_str(&crate::error::chain(&e))
        );
    }
    let s = sys.snapshot(dest).map_err(|e| CliError::from_error(&e))?;
    let written = writeln!(
        io.out,
        "snapshot written to {}: {} {}, {} {}",
        crate::escape::escape_str(&dest.display().to_string()),
        s.profiles,
        if s.profiles == 1 {
            "profile"
        } else {
            "profiles"
        },
        s.processes,
        if s.processes == 1 {
            "process"
        } else {
            "processes"
        },
    );
    super::render::finish_output(io, written)?;
    Ok(Exit::Success)
}
