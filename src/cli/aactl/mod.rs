//! `aactl`: one command with a subcommand for each job (inspect, check, log, load).
//!
//! Every subcommand lives in its own module with `command()` (its clap
//! definition) and `run(&ArgMatches, &mut Io) -> Result<Exit, CliError>`. The
//! mapping from errors to exit codes is here and only here.

mod check;

use super::Io;

mod log;
mod log_suggest;
mod log_summary;
mod log_triage;
mod metrics;
use clap::{Arg, ArgMatches, Command};
use std::ffi::OsString;

mod completions;
mod exec;
mod exporter;
mod features;
mod fmt;
mod genprof;
mod load;
mod load_watch;
mod loader_cmd;
mod mode;
mod ps;
mod remove_unknown;
mod render;
mod snapshot;
pub mod status;
mod triage;
mod triage_tui;
mod unconfined;

pub use crate::cli::exit::{CliError, Exit};

/// `--format text|json` (default text); `help` says what each gives.
pub(super) fn format_arg(help: &'static str) -> Arg {
    Arg::new("format")
        .long("format")
        .value_name("FORMAT")
        .value_parser(["text", "json"])
        .default_value("text")
        .help(help)
}

/// `--json`, the short form of `--format json` (for commands with `--format`).
pub(super) fn json_flag() -> Arg {
    Arg::new("json")
        .long("json")
        .action(clap::ArgAction::SetTrue)
        .conflicts_with("format")
        .help("Same as --format json")
}

/// Whether `--format json` or `--json` was given.
pub(super) fn wants_json(m: &ArgMatches) -> bool {
    m.get_one::<String>("format").map(String::as_str) == Some("json")
        || m.try_get_one::<bool>("json").ok().flatten().copied() == Some(true)
}

/// The release line that checks and suggestions are made for when no
/// `--parser-version` is given: the installed apparmor_parser's (found as the
/// loader commands find it), else [`ParserVersion::LATEST`]. When a parser is
/// found but its release cannot be told (it hangs, fails or prints no
/// version), one warning line on `err` says so and names the release assumed.
///
/// [`ParserVersion::LATEST`]: crate::policy::ParserVersion::LATEST
pub(super) fn installed_parser_release(
    err: &mut dyn std::io::Write,
) -> crate::policy::ParserVersion {
    use crate::loader::{Loader, Parser, SystemRunner};
    use crate::policy::ParserVersion;
    let Ok(program) = crate::loader::find_parser_from_env() else {
        return ParserVersion::LATEST;
    };
    match Loader::new(Parser::new(program), SystemRunner).query_parser_version() {
        Ok(v) => v,
        Err(e) => {
            let _ = writeln!(
                err,
                "aactl: warning: {}; assuming apparmor_parser {}",
                crate::escape::escape_str(&crate::error::chain(&e)),
                ParserVersion::LATEST
            );
            ParserVersion::LATEST
        }
    }
}

/// The reason of a regex error on one line (the regex crate's message spans
/// lines: the pattern, a caret, then the reason).
pub(super) fn regex_reason(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim_start_matches("error: ")
        .to_owned()
}

/// The system to read: `--root DIR` (the global option) or the live host.
pub(super) fn system(m: &ArgMatches) -> crate::system::System {
    match m.get_one::<std::path::PathBuf>("root") {
        Some(dir) => crate::system::System::with_root(dir),
        None => crate::system::System::host(),
    }
}

/// The zone times are read and shown in: UTC with `--utc` (the global
/// option), else the zone of `io` (the host's unless set).
pub(super) fn time_zone(m: &ArgMatches, io: &Io<'_>) -> jiff::tz::TimeZone {
    if m.try_get_one::<bool>("utc").ok().flatten() == Some(&true) {
        jiff::tz::TimeZone::UTC
    } else {
        io.time_zone()
    }
}

/// The clap definition of `aactl` with all of its subcommands.
pub fn command() -> Command {
    Command::new("aactl")
        .about("Inspect and manage AppArmor: status, processes, profile checks, logs, loading")
        .version(env!("CARGO_PKG_VERSION"))
        .subcommand_required(true)
        .arg_required_else_help(true)
        .arg(
            Arg::new("root")
                .long("root")
                .global(true)
                .value_name("DIR")
                .value_parser(clap::value_parser!(std::path::PathBuf))
                .help(
                    "Use DIR as the root of the host (a snapshot or a fake tree): /proc, /sys \
                     (securityfs) and /etc/apparmor.d are read under it, and so are the logs \
                     aactl log finds by itself; paths given on the command line are used as given, \
                     except the absolute profile paths of the mode commands (enforce, complain, \
                     kill, prompt, mode, audit, disable, enable), which are taken inside DIR",
                ),
        )
        .arg(
            Arg::new("utc")
                .long("utc")
                .global(true)
                .action(clap::ArgAction::SetTrue)
                .help(
                    "Show times in UTC instead of the local time zone (TZ, else /etc/localtime), \
                     and read the times given to --since/--until in UTC",
                ),
        )
        .arg(
            Arg::new("color")
                .long("color")
                .global(true)
                .value_name("WHEN")
                .value_parser(["auto", "always", "never"])
                .default_value("auto")
                .help(
                    "Colour modes, events, diagnostics and diffs: auto (on a terminal, unless \
                     NO_COLOR is set to a non-empty value or TERM=dumb), always or never",
                ),
        )
        .arg(
            Arg::new("wide")
                .long("wide")
                .global(true)
                .action(clap::ArgAction::SetTrue)
                .help(
                    "Do not fit tables and lines to the terminal's width (a pipe or a file \
                     always gets full lines unless COLUMNS is set)",
                ),
        )
        .subcommand(status::command())
        .subcommand(ps::command())
        .subcommand(unconfined::command())
        .subcommand(exec::command())
        .subcommand(snapshot::command())
        .subcommand(check::command())
        .subcommand(log::command())
        .subcommand(triage::command())
        .subcommand(genprof::autodep_command())
        .subcommand(genprof::genprof_command())
        .subcommand(load::command())
        .subcommand(load::replace_command())
        .subcommand(load::unload_command())
        .subcommand(mode::command())
        .subcommand(mode::complain_command())
        .subcommand(mode::kill_command())
        .subcommand(mode::prompt_command())
        .subcommand(mode::mode_command())
        .subcommand(mode::audit_command())
        .subcommand(mode::disable_command())
        .subcommand(mode::enable_command())
        .subcommand(remove_unknown::command())
        .subcommand(fmt::command())
        .subcommand(features::command())
        .subcommand(metrics::command())
        .subcommand(exporter::command())
        .subcommand(completions::command())
}

/// Runs aactl with `args` (argv, including argv\[0\]) and returns the exit status.
///
/// Standard output goes through one [`crate::cli::Output`] for every subcommand; the exit
/// status comes from [`crate::cli::exit::conclude`].
pub fn run(args: Vec<OsString>, io: &mut Io<'_>) -> u8 {
    let mut out = crate::cli::Output::new(&mut *io.out);
    let result = {
        let mut inner = Io::new(&mut out, &mut *io.err);
        // the real program's stdout (triage opens its terminal review only then)
        inner.caller_reports_stdout = io.caller_reports_stdout;
        inner.time_zone = io.time_zone.clone();
        run_command(args, &mut inner)
    };
    let state = match out.finish() {
        // `run_main` reports it, once.
        crate::cli::OutputState::Failed(_) if io.caller_reports_stdout => {
            crate::cli::OutputState::Written
        }
        state => state,
    };
    crate::cli::exit::conclude("aactl", result, state, io.err)
}

fn run_command(args: Vec<OsString>, io: &mut Io<'_>) -> Result<Exit, CliError> {
    let matches = match command().try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => {
            let code = if e.use_stderr() {
                Exit::Error
            } else {
                Exit::Success
            };
            // Plain text: clap's styled rendering would put escape codes into pipes. Usage
            // errors carry the same "aactl: " prefix as every other message of aactl.
            let rendered = e.render().to_string();
            let rendered = match rendered.strip_prefix("error: ") {
                Some(rest) if e.use_stderr() => format!("aactl: {rest}"),
                _ => rendered,
            };
            let _ = if e.use_stderr() {
                write!(io.err, "{rendered}")
            } else {
                write!(io.out, "{rendered}")
            };
            return Ok(code);
        }
    };
    check_root(&matches)?;
    io.term = term(&matches, io.caller_reports_stdout);
    dispatch(&matches, io)
}

/// How standard output is shown, from `--color`, `--wide` and (for the real standard
/// output and error only, not a buffer) the terminals and the environment.
fn term(matches: &ArgMatches, real: bool) -> crate::cli::Term {
    use crate::cli::output::{ColorChoice, Facts, Term};
    let mut m = matches;
    while let Some((_, sub)) = m.subcommand() {
        m = sub;
    }
    let choice = m
        .get_one::<String>("color")
        .and_then(|c| c.parse().ok())
        .unwrap_or(ColorChoice::Auto);
    let wide = m.get_flag("wide");
    let facts = if real {
        Facts::probe()
    } else {
        Facts::default()
    };
    Term::resolve(choice, wide, &facts)
}

/// `--root DIR` must name a directory: a root that is missing (a typo) would
/// otherwise read as a host without AppArmor, or with no logs, and succeed.
fn check_root(matches: &ArgMatches) -> Result<(), CliError> {
    // The option is global: its value is in the innermost subcommand's matches.
    let mut m = matches;
    while let Some((_, sub)) = m.subcommand() {
        m = sub;
    }
    let Some(root) = m.get_one::<std::path::PathBuf>("root") else {
        return Ok(());
    };
    let why = match std::fs::metadata(root) {
        Ok(md) if md.is_dir() => return Ok(()),
        Ok(_) => "not a directory".to_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "no such directory".to_owned(),
        Err(e) => crate::system::strerror(&e),
    };
    Err(CliError(format!("--root {}: {why}", root.display())))
}

fn dispatch(matches: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    match matches.subcommand() {
        Some(("status", m)) => status::run(m, io),
        Some(("ps", m)) => ps::run(m, io),
        Some(("unconfined", m)) => unconfined::run(m, io),
        Some(("exec", m)) => exec::run(m, io),
        Some(("snapshot", sub)) => snapshot::run(sub, io),
        Some(("log", sub)) => log::run(sub, io),
        Some(("triage", m)) => triage::run(m, io),
        Some(("autodep", m)) => genprof::run_autodep(m, io),
        Some(("genprof", m)) => genprof::run_genprof(m, io),
        Some(("load", m)) => load::run(m, io),
        Some(("replace", m)) => load::run_replace(m, io),
        Some(("unload", m)) => load::run_unload(m, io),
        Some(("enforce", m)) => mode::run(m, io),
        Some(("complain", m)) => mode::run_complain(m, io),
        Some(("kill", m)) => mode::run_kill(m, io),
        Some(("prompt", m)) => mode::run_prompt(m, io),
        Some(("mode", m)) => mode::run_mode(m, io),
        Some(("audit", m)) => mode::run_audit(m, io),
        Some(("disable", m)) => mode::run_disable(m, io),
        Some(("enable", m)) => mode::run_enable(m, io),
        Some(("remove-unknown", m)) => remove_unknown::run(m, io),
        Some(("fmt", m)) => fmt::run(m, io),
        Some(("features", m)) => features::run(m, io),
        Some(("check", sub)) => check::run(sub, io),
        Some(("metrics", m)) => metrics::run(m, io),
        Some(("exporter", m)) => exporter::run(m, io),
        Some(("completions", m)) => completions::run(m, io),
        Some((name, _sub)) => Err(CliError(format!("unknown subcommand {name}"))),
        None => Err(CliError("no subcommand".into())),
    }
}

/// Entry point of the `aactl` binary.
pub fn main() -> std::process::ExitCode {
    super::run_main("aactl", |io| run(std::env::args_os().collect(), io))
}
