//! `aactl autodep PROGRAM` (a starting profile) and `aactl genprof PROGRAM
//! [-- ARGS]` (starting profile, loaded in complain mode, the program run,
//! the review plan of its new denials, answers applied, enforce mode).
//! The profile text comes from [`crate::triage::autodep`].

use super::{CliError, Exit};
use crate::cli::Io;
use crate::error::chain;
use crate::escape::escape_str;
use crate::triage::autodep::{locate, starter};
use clap::{Arg, ArgAction, ArgMatches, Command};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

fn program_arg() -> Arg {
    Arg::new("program")
        .value_name("PROGRAM")
        .required(true)
        .help("The program: a path, or a name looked up in PATH (under --root)")
}

fn dir_arg() -> Arg {
    Arg::new("dir")
        .long("dir")
        .short('d')
        .value_name("DIR")
        .value_parser(clap::value_parser!(PathBuf))
        .help("Profile directory (default /etc/apparmor.d under --root)")
}

/// The clap definition of `aactl autodep`.
pub(super) fn autodep_command() -> Command {
    Command::new("autodep")
        .about("Write a starting profile for a program (complain mode), as aa-autodep does")
        .arg(program_arg())
        .arg(dir_arg())
        .arg(
            Arg::new("dry-run")
                .long("dry-run")
                .action(ArgAction::SetTrue)
                .help("Print the profile, write nothing"),
        )
}

/// The clap definition of `aactl genprof`: `aactl log`'s filters and
/// `triage`'s apply options, log files with `--file`.
pub(super) fn genprof_command() -> Command {
    let base = super::log::command_base()
        .name("genprof")
        .about("Generate a profile: starting profile in complain mode, run the program, review its denials, enforce")
        .long_about(
            "Generate a profile for PROGRAM: write a starting profile (as autodep; an existing \
             profile is switched to complain mode instead), load it, run PROGRAM with ARGS \
             (after --, or with --run; without them, wait until Enter is pressed while the program is used \
             elsewhere), then build the review plan of the records of that profile logged \
             since the start (log files with --file, else where aactl log finds them). \
             Without --answers the plan is printed and the profile stays in complain mode; \
             with --answers the answers are applied (as aactl triage --answers) and the \
             profile is switched to enforce mode.",
        )
        .mut_arg("source", |a| {
            a.value_name("PROGRAM")
                .num_args(1)
                .required(true)
                .value_parser(clap::value_parser!(PathBuf))
                .help("The program: a path, or a name looked up in PATH (under --root)")
        })
        .arg(
            Arg::new("args")
                .value_name("ARGS")
                .num_args(0..)
                .last(true)
                .allow_hyphen_values(true)
                .help("Run PROGRAM with these arguments (after --)"),
        )
        .arg(
            Arg::new("run")
                .long("run")
                .action(ArgAction::SetTrue)
                .help("Run PROGRAM (without ARGS); implied by ARGS after --"),
        )
        .arg(
            Arg::new("no-enforce")
                .long("no-enforce")
                .action(ArgAction::SetTrue)
                .help("Leave the profile in complain mode after applying the answers"),
        );
    super::triage::apply_args(super::log_triage::filter_args(base))
}

/// The folders a program name is looked up in: `PATH` on the host; under
/// `--root` the tree's system is not ours, so the standard system folders.
/// Each folder once.
fn search_path(sys: &crate::system::System) -> Vec<PathBuf> {
    let p = match std::env::var_os("PATH") {
        Some(p) if sys.is_host() => p,
        _ => OsString::from(DEFAULT_PATH),
    };
    let mut v: Vec<PathBuf> = Vec::new();
    for d in std::env::split_paths(&p) {
        if !v.contains(&d) {
            v.push(d);
        }
    }
    v
}

/// Writes (or with `dry` prints) the starting profile; returns the profile
/// name, its file, and whether it was created.
fn write_starter(
    sys: &crate::system::System,
    program: &str,
    dir: &Path,
    dry: bool,
    may_exist: bool,
    io: &mut Io<'_>,
) -> Result<(String, PathBuf, bool), CliError> {
    let search = search_path(sys);
    let path = locate(sys.root(), program, &search).map_err(|e| {
        let inside = if sys.is_host() {
            String::new()
        } else {
            format!(
                " (inside --root {})",
                crate::escape::escape_str(&sys.root().display().to_string())
            )
        };
        CliError(format!("{}{inside}", chain(&e)))
    })?;
    let s = starter(sys.root(), &path, dir, &search).map_err(|e| CliError(chain(&e)))?;
    let file = dir.join(&s.file_name);
    if dry {
        let _ = writeln!(
            io.err,
            "aactl: would write {} (--dry-run: nothing written)",
            crate::escape::escape_str(&file.display().to_string())
        );
        let _ = write!(io.out, "{}", s.text);
        return Ok((s.name, file, false));
    }
    if std::fs::symlink_metadata(&file).is_ok() {
        if may_exist {
            return Ok((s.name, file, false));
        }
        return Err(CliError(format!(
            "{}: exists; not overwritten (edit it, or remove it first)",
            file.display()
        )));
    }
    let real = crate::system::fs::write_target(sys.root(), &file).map_err(|e| {
        CliError(format!(
            "{}: {}",
            file.display(),
            crate::system::strerror(&e)
        ))
    })?;
    crate::system::edit::atomic_create(&real, s.text.as_bytes(), 0o644).map_err(|e| {
        CliError(format!(
            "{}: {}",
            file.display(),
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                "exists; not overwritten".to_owned()
            } else {
                crate::system::strerror(&e)
            }
        ))
    })?;
    let _ = writeln!(
        io.err,
        "aactl: wrote {} (profile {}, complain mode)",
        escape_str(&file.display().to_string()),
        escape_str(&s.name)
    );
    Ok((s.name, file, true))
}

fn dir_of(m: &ArgMatches, id: &str, sys: &crate::system::System) -> PathBuf {
    m.get_one::<PathBuf>(id)
        .cloned()
        .unwrap_or_else(|| sys.path("/etc/apparmor.d"))
}

/// Runs `aactl autodep`.
pub(super) fn run_autodep(m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    let sys = super::system(m);
    let program = m.get_one::<String>("program").cloned().unwrap_or_default();
    let dir = dir_of(m, "dir", &sys);
    if !m.get_flag("dry-run") && !dir.is_dir() {
        return Err(CliError(format!(
            "{}: no such profile directory",
            dir.display()
        )));
    }
    write_starter(&sys, &program, &dir, m.get_flag("dry-run"), false, io)?;
    Ok(Exit::Success)
}

/// Runs another aactl subcommand in this process with the loader options
/// of `m` passed on.
pub(super) fn sub(
    m: &ArgMatches,
    args: &[OsString],
    dir: &Path,
    io: &mut Io<'_>,
) -> Result<Exit, CliError> {
    let mut argv: Vec<OsString> = vec!["aactl".into()];
    argv.extend(args.iter().cloned());
    for opt in ["parser", "apparmorfs"] {
        if let Some(v) = m.get_one::<PathBuf>(opt) {
            argv.push(format!("--{opt}").into());
            argv.push(v.clone().into());
        }
    }
    argv.push("--base".into());
    argv.push(dir.into());
    // the loader's report goes to stderr: stdout is the plan
    let mut buf: Vec<u8> = Vec::new();
    let r = {
        let mut inner = Io::new(&mut buf, &mut *io.err);
        super::run_command(argv, &mut inner)
    };
    let _ = io.err.write_all(&buf);
    r
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Runs `aactl genprof`.
pub(super) fn run_genprof(m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    let sys = super::system(m);
    let program = m
        .get_one::<PathBuf>("source")
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = dir_of(m, "profile-dir", &sys);
    if !dir.is_dir() {
        return Err(CliError(format!(
            "{}: no such profile directory (use --profile-dir)",
            dir.display()
        )));
    }
    // The profile is loaded and the log read: check before writing anything.
    if m.try_get_one::<PathBuf>("apparmorfs")
        .ok()
        .flatten()
        .is_none()
    {
        crate::inspect::preflight(&sys).map_err(|e| {
            CliError(format!(
                "{}; nothing was written (aactl autodep writes a starter profile without \
                 loading it)",
                crate::error::chain(&e)
            ))
        })?;
    }
    let (name, file, created) = write_starter(&sys, &program, &dir, false, true, io)?;
    let start = now();
    // load in complain mode: a new profile carries the flag; an existing one
    // gets it (and is reloaded) by `complain`
    let load: Vec<OsString> = if created {
        vec!["replace".into(), file.clone().into()]
    } else {
        vec!["complain".into(), file.clone().into()]
    };
    if sub(m, &load, &dir, io)? != Exit::Success {
        return Ok(Exit::Failure);
    }
    let args: Vec<String> = m
        .get_many::<String>("args")
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    if m.get_flag("run") || !args.is_empty() {
        let exe = sys.path(&name);
        let _ = writeln!(io.err, "aactl: running {}", escape_str(&name));
        let status = std::process::Command::new(&exe).args(&args).status();
        match status {
            Ok(s) => {
                let _ = writeln!(io.err, "aactl: {} exited: {s}", escape_str(&name));
            }
            Err(e) => {
                return Err(CliError(format!(
                    "{}: cannot run: {}",
                    exe.display(),
                    crate::system::strerror(&e)
                )));
            }
        }
    } else {
        let _ = writeln!(
            io.err,
            "aactl: profile {} is in complain mode; use the program now, then press Enter",
            escape_str(&name)
        );
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
    }
    let (plan, unreadable) = super::triage::build_plan(m, &sys, Some((start, name.clone())), io)?;
    if !m.contains_id("answers") {
        if super::wants_json(m) {
            let text = serde_json::to_string_pretty(&plan).map_err(|e| CliError(e.to_string()))?;
            let _ = writeln!(io.out, "{text}");
        } else {
            let _ = writeln!(
                io.err,
                "aactl: {} proposal(s); answer them and run again with --answers FILE (the profile stays in complain mode)",
                plan.proposals.len()
            );
        }
        return Ok(if unreadable {
            Exit::Error
        } else {
            Exit::Success
        });
    }
    let r = super::triage::apply_answers(m, &sys, &plan, io)?;
    if r != Exit::Success || m.get_flag("dry-run") || m.get_flag("no-enforce") {
        return Ok(r);
    }
    sub(m, &["enforce".into(), file.into()], &dir, io)
}
