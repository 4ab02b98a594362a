//! `aactl snapshot DIR`: argv → [`crate::system::snapshot`] → one summary line. Copies the
//! AppArmor state that the inspection commands read into DIR, in the layout of a root
//! directory, so that `--root DIR` reads it back. `aactl snapshot --archive FILE.tar.gz`
//! writes a bug-report bundle instead ([`crate::triage::bundle`]).

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
                .required_unless_present("archive")
                .conflicts_with("archive")
                .value_parser(clap::value_parser!(PathBuf))
                .help("Folder to write (created; must be empty if it exists)"),
        )
        .arg(
            Arg::new("archive")
                .long("archive")
                .value_name("FILE")
                .value_parser(clap::value_parser!(PathBuf))
                .help(
                    "Write a bug-report bundle to FILE (.tar.gz, must not exist): the state a \
                     snapshot copies, the profile directory, the last AppArmor records, the \
                     kernel release and command line, the parser version, the apparmor_* \
                     sysctls and a manifest (aactl-bundle/manifest.json) of what is inside and \
                     what may be private. Unpacked, it reads back with --root",
                ),
        )
        .arg(
            Arg::new("loaded-only")
                .long("loaded-only")
                .action(clap::ArgAction::SetTrue)
                .requires("archive")
                .help("With --archive: only the profile files that define a loaded profile (and the include folders)"),
        )
        .arg(
            Arg::new("records")
                .long("records")
                .value_name("N")
                .requires("archive")
                .value_parser(clap::value_parser!(usize))
                .default_value("1000")
                .help("With --archive: keep the last N AppArmor records (0: none)"),
        )
        .arg(
            Arg::new("redact")
                .long("redact")
                .action(clap::ArgAction::SetTrue)
                .requires("archive")
                .help("With --archive: hash users' names in /home paths and the kernel command line"),
        )
}

/// The first line of the installed parser's `--version`, if one answers.
fn parser_version_line() -> Option<String> {
    use crate::loader::{Loader, Parser, SystemRunner};
    let program = crate::loader::find_parser_from_env().ok()?;
    let v = Loader::new(Parser::new(program), SystemRunner)
        .query_version()
        .ok()?;
    v.lines().next().map(str::to_owned)
}

fn run_archive(
    m: &ArgMatches,
    sys: &crate::system::System,
    dest: &std::path::Path,
    io: &mut Io<'_>,
) -> Result<Exit, CliError> {
    use crate::triage::bundle::{BundleOptions, write_bundle};
    let opts = BundleOptions {
        records: m.get_one::<usize>("records").copied().unwrap_or(1000),
        loaded_only: m.get_flag("loaded-only"),
        redact: m.get_flag("redact"),
        // the host's parser says nothing about a --root tree's system
        parser_version: if sys.is_host() {
            parser_version_line()
        } else {
            None
        },
        tool: format!("aactl {}", env!("CARGO_PKG_VERSION")),
        ..BundleOptions::default()
    };
    let s = write_bundle(sys, dest, &opts).map_err(|e| CliError::from_error(&e))?;
    let plural = |n: usize, one: &'static str, many: &'static str| if n == 1 { one } else { many };
    let written = writeln!(
        io.out,
        "bundle written to {}: {} {}, {} {}, {} policy {}, {} {}",
        crate::escape::escape_str(&dest.display().to_string()),
        s.profiles,
        plural(s.profiles, "profile", "profiles"),
        s.processes,
        plural(s.processes, "process", "processes"),
        s.policy_files,
        plural(s.policy_files, "file", "files"),
        s.records,
        plural(s.records, "record", "records"),
    );
    super::render::finish_output(io, written)?;
    Ok(Exit::Success)
}

/// Runs `aactl snapshot DIR` (reading the system given by `--root`, default `/`).
///
/// # Errors
/// AppArmor cannot be inspected (see [`crate::inspect::preflight`]) and `--force` is not
/// given; otherwise see [`snapshot`].
pub(super) fn run(m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    let sys = super::system(m);
    let archive = m.get_one::<PathBuf>("archive");
    let Some(dest) = archive.or_else(|| m.get_one::<PathBuf>("dir")) else {
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
    if archive.is_some() {
        return run_archive(m, &sys, dest, io);
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
