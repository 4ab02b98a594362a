//! `aactl load|replace|unload PATH|NAME...`: one `apparmor_parser` run per profile
//! file, a result per file and per profile, `--json`, `--dry-run`.
//!
//! Exit status: 0 when every target worked, 1 when at least one failed (the others
//! are still done), 2 when nothing could be tried (no parser, bad usage).

use super::{CliError, Exit};
use crate::cli::Io;
use crate::escape::escape_str;
use crate::loader::{
    Action, Jobs, LoadError, Loader, LoaderError, Parser, Plan, RunReport, Runner, Step,
    SystemRunner, Warning, expand_paths, is_profile_file,
};
use crate::system::System;
use clap::{Arg, ArgAction, ArgMatches, Command};
use serde::Serialize;
use std::path::PathBuf;

/// `aactl load`: `apparmor_parser --add` (fails with "already exists" for loaded profiles).
pub fn command() -> Command {
    with_watch_args(with_parser_args(
        Command::new("load")
            .about(
                "Load profiles (apparmor_parser --add); a loaded profile is an error, see replace",
            )
            .arg(targets_arg("PATH", "Profile files or directories")),
    ))
    .arg(
        Arg::new("complain")
            .long("complain")
            .action(ArgAction::SetTrue)
            .help("Load in complain mode (apparmor_parser --Complain)"),
    )
}

/// `aactl replace`: `apparmor_parser --replace` (load or replace).
pub fn replace_command() -> Command {
    with_watch_args(with_parser_args(
        Command::new("replace")
            .about("Load or replace profiles (apparmor_parser --replace)")
            .arg(targets_arg("PATH", "Profile files or directories")),
    ))
    .arg(
        Arg::new("complain")
            .long("complain")
            .action(ArgAction::SetTrue)
            .help("Load in complain mode (apparmor_parser --Complain)"),
    )
}

/// `aactl unload`: profile files (`apparmor_parser --remove FILE`) or loaded
/// profile names (written to `<apparmorfs>/.remove`).
pub fn unload_command() -> Command {
    with_parser_args_for(
        Command::new("unload")
            .about("Unload profiles: the profiles in FILE (apparmor_parser --remove), or a loaded profile NAME")
            .long_about(
                "Unload profiles. An argument that is an existing, non-executable regular file \
                 or a directory is a profile file (its profiles are removed with \
                 apparmor_parser --remove); anything else is a loaded profile name, written to \
                 <apparmorfs>/.remove (children go with their parent; :ns:name reaches a child \
                 namespace). --name forces names.",
            )
            .arg(targets_arg("TARGET", "Profile files, directories or loaded profile names")),
        ParserUse::Remove,
    )
    .mut_arg("namespace", |a| {
        a.help("Unload from policy namespace NS (a profile NAME means :NS:NAME)")
    })
    .arg(
        Arg::new("name")
            .long("name")
            .action(ArgAction::SetTrue)
            .help("Treat every argument as a loaded profile name"),
    )
}

fn targets_arg(name: &'static str, help: &'static str) -> Arg {
    Arg::new("targets")
        .value_name(name)
        .num_args(1..)
        .required(true)
        .value_parser(clap::value_parser!(PathBuf))
        .help(help)
}

/// Adds the options of every loader command: parser location, profile and
/// include directories, apparmorfs, `--json`, `--dry-run`.
pub fn with_common_args(c: Command) -> Command {
    let path = || clap::value_parser!(PathBuf);
    c.arg(
        Arg::new("parser")
            .long("parser")
            .value_name("PATH")
            .value_parser(path())
            .help("apparmor_parser to run (default: PATH, then /sbin, then /usr/sbin)"),
    )
    .arg(
        Arg::new("base")
            .long("base")
            .short('d')
            .value_name("DIR")
            .value_parser(path())
            .help("Profile directory (default /etc/apparmor.d, under --root when given)"),
    )
    .arg(
        Arg::new("include")
            .long("include")
            .short('I')
            .value_name("DIR")
            .action(ArgAction::Append)
            .value_parser(path())
            .help("Add an include search directory"),
    )
    .arg(
        Arg::new("apparmorfs")
            .long("apparmorfs")
            .value_name("DIR")
            .value_parser(path())
            .help("AppArmor filesystem (default: found in /proc/mounts of --root or the host)"),
    )
    .arg(
        Arg::new("json")
            .long("json")
            .action(ArgAction::SetTrue)
            .help("Print results as JSON"),
    )
    .arg(
        Arg::new("dry-run")
            .long("dry-run")
            .action(ArgAction::SetTrue)
            .help("Print the exact commands and file edits; change nothing"),
    )
}

/// What a command runs the parser for, which decides its parser options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParserUse {
    /// `load`, `replace`: compile and load (every load option).
    Load,
    /// `enforce`, `complain`, `audit`, `enable`: reload after a file change
    /// (no compile-only, no cache writing: `--no-reload` edits only).
    Reload,
    /// `unload`, `disable`: `apparmor_parser --remove` or a `.remove` write
    /// (namespace, configuration and quiet only).
    Remove,
}

/// Adds the common options ([`with_common_args`]) and the parser's load options
/// (namespace, cache, features, jobs, warnings) of `load` and `replace`.
pub fn with_parser_args(c: Command) -> Command {
    with_parser_args_for(c, ParserUse::Load)
}

/// Adds the common options ([`with_common_args`]) and the parser options that
/// apply to `usage` (see [`ParserUse`]).
pub fn with_parser_args_for(c: Command, usage: ParserUse) -> Command {
    let path = || clap::value_parser!(PathBuf);
    let ns_help = match usage {
        ParserUse::Load => "Load into policy namespace NS",
        ParserUse::Reload => "Reload into policy namespace NS",
        ParserUse::Remove => "Unload from policy namespace NS",
    };
    let mut c = with_common_args(c).arg(
        Arg::new("namespace")
            .long("namespace")
            .short('n')
            .value_name("NS")
            .help(ns_help),
    );
    if usage == ParserUse::Load {
        c = c
            .arg(
                Arg::new("skip-kernel-load")
                    .long("skip-kernel-load")
                    .short('Q')
                    .action(ArgAction::SetTrue)
                    .help("Compile only; do not load into the kernel"),
            )
            .arg(
                Arg::new("write-cache")
                    .long("write-cache")
                    .short('W')
                    .action(ArgAction::SetTrue)
                    .help("Write compiled policy to the cache"),
            )
            .arg(
                Arg::new("cache-loc")
                    .long("cache-loc")
                    .value_name("DIR")
                    .action(ArgAction::Append)
                    .value_parser(path())
                    .help("Cache location (repeatable)"),
            );
    }
    if usage != ParserUse::Remove {
        c = c
            .arg(
                Arg::new("skip-cache")
                    .long("skip-cache")
                    .short('K')
                    .action(ArgAction::SetTrue)
                    .help("Neither read nor write the policy cache"),
            )
            .arg(
                Arg::new("features-file")
                    .long("features-file")
                    .short('M')
                    .value_name("FILE")
                    .value_parser(path())
                    .help("Feature set to compile for"),
            )
            .arg(
                Arg::new("jobs")
                    .long("jobs")
                    .short('j')
                    .value_name("N")
                    .value_parser(clap::value_parser!(u32))
                    .help("Compile jobs per parser run"),
            )
            .arg(
                Arg::new("warn")
                    .long("warn")
                    .value_name("CLASS")
                    .action(ArgAction::Append)
                    .value_parser(Warning::ALL.map(Warning::as_str))
                    .help("Enable a warning class (repeatable)"),
            )
            .arg(
                Arg::new("werror")
                    .long("werror")
                    .value_name("CLASS")
                    .action(ArgAction::Append)
                    .value_parser(Warning::ALL.map(Warning::as_str))
                    .hide_possible_values(true)
                    .help(
                        "Turn a warning class into an error (its message is printed); \
                         CLASS as for --warn",
                    ),
            );
    }
    c.arg(
        Arg::new("config-file")
            .long("config-file")
            .value_name("FILE")
            .value_parser(path())
            .help("apparmor_parser configuration file"),
    )
    .arg(
        Arg::new("quiet")
            .long("quiet")
            .short('q')
            .action(ArgAction::SetTrue)
            .help("Pass --quiet to the parser (no warnings)"),
    )
}

/// Adds `--watch SECONDS` and `--log-source SRC`.
pub fn with_watch_args(c: Command) -> Command {
    c.arg(
        Arg::new("watch")
            .long("watch")
            .value_name("SECONDS")
            .value_parser(clap::value_parser!(u64).range(1..=86_400))
            .help(
                "After loading, follow the log for SECONDS and show the denials of the loaded \
                 profiles (hats and children included) with the rules that would allow them",
            ),
    )
    .arg(
        Arg::new("log-source")
            .long("log-source")
            .value_name("SRC")
            .requires("watch")
            .help("Log to follow with --watch: PATH, journal or auto (default auto, as aactl log)"),
    )
}

/// The `--watch` result, for text and JSON.
#[derive(Serialize)]
pub struct WatchOut {
    /// Seconds watched.
    pub seconds: u64,
    /// The log source followed.
    pub source: String,
    /// The profiles watched (their hats and children included).
    pub profiles: Vec<String>,
    /// The records of those profiles (denied and allowed), as `aactl log --json`.
    pub records: Vec<serde_json::Value>,
    /// Records beyond the first [`crate::loader::watch::MAX_WATCH_RECORDS`].
    #[serde(skip_serializing_if = "is_zero")]
    pub dropped: u64,
    /// The suggested rules, as policy text.
    pub suggestions: String,
    /// Rules that only records of unverified senders support (a log line
    /// any local user can write), as policy text; kept apart.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub untrusted_suggestions: String,
    /// A read error that ended the watch early.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip)]
    text_lines: Vec<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Runs `--watch` when asked (not for a dry run): opens the log source (as
/// `aactl log --follow` chooses it, or `--log-source`), follows it for the
/// given seconds and keeps the records of `profiles`.
///
/// # Errors
/// [`CliError`] when no source can be found.
pub fn run_watch(
    m: &ArgMatches,
    ctx: &Context,
    profiles: Vec<String>,
) -> Result<Option<WatchOut>, CliError> {
    use crate::log::source::{JournalQuery, Source, detect};
    use crate::triage::follow::{FollowFile, FollowJournal};
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    let Some(seconds) = one::<u64>(m, "watch").copied() else {
        return Ok(None);
    };
    // Nothing was loaded (a dry run, or every target failed): nothing to watch.
    if ctx.dry_run || profiles.is_empty() {
        return Ok(None);
    }
    let src = match one::<String>(m, "log-source").map(String::as_str) {
        Some("journal") => Source::Journal(JournalQuery::default()),
        Some(p) if p != "auto" => Source::File(PathBuf::from(p)),
        _ => detect(&ctx.system)
            .candidates
            .into_iter()
            .map(|c| c.0)
            .find(|s| !matches!(s, Source::Kernel))
            .ok_or_else(|| {
                CliError(
                    "--watch: no log file or journal holds this host's records (use --log-source PATH)"
                        .into(),
                )
            })?,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let line_src: Box<dyn crate::log::reader::LineSource> = match &src {
        Source::File(p) => {
            Box::new(FollowFile::new(p.clone(), false, stop.clone()).within(ctx.system.root()))
        }
        Source::Journal(q) => Box::new(FollowJournal::new(
            q.clone(),
            ctx.system.root().to_path_buf(),
            stop.clone(),
        )),
        Source::Kernel => {
            return Err(CliError(
                "--watch follows a file or the journal, not the ring buffer".into(),
            ));
        }
    };
    let w = crate::loader::watch::watch(
        line_src,
        stop,
        std::time::Duration::from_secs(seconds),
        &profiles,
    );
    Ok(Some(WatchOut {
        seconds,
        source: src.describe(),
        profiles,
        records: w
            .records
            .iter()
            .map(|(r, _)| crate::log::render::to_json(r))
            .collect(),
        text_lines: w
            .records
            .iter()
            .map(|(r, _)| crate::log::render::text_line(r))
            .collect(),
        dropped: w.dropped,
        suggestions: w.suggestions.render(),
        untrusted_suggestions: w.suggestions.render_untrusted(),
        error: w.error,
    }))
}

/// The text of a [`WatchOut`]: the records, then the suggested rules.
pub fn watch_text(w: &WatchOut) -> String {
    let mut s = format!(
        "watched {} for {} s: {} record(s) of {}\n",
        escape_str(&w.source),
        w.seconds,
        w.records.len() as u64 + w.dropped,
        w.profiles
            .iter()
            .map(|p| escape_str(p).into_owned())
            .collect::<Vec<_>>()
            .join(", ")
    );
    for l in &w.text_lines {
        s.push_str("  ");
        s.push_str(l);
        s.push('\n');
    }
    if w.dropped > 0 {
        s.push_str(&format!("  ... {} more\n", w.dropped));
    }
    if let Some(e) = &w.error {
        s.push_str(&format!("  watch ended early: {}\n", escape_str(e)));
    }
    if !w.suggestions.is_empty() {
        s.push_str("suggested rules:\n");
        s.push_str(&w.suggestions);
    }
    if !w.untrusted_suggestions.is_empty() {
        s.push_str(
            "rules supported only by records whose sender is not verified (UNTRUSTED: any local \
             user can write such a log line):\n",
        );
        s.push_str(&w.untrusted_suggestions);
    }
    s
}

/// The top-level profile names defined in `files` (for `--watch`).
pub fn profiles_in(files: &[PathBuf]) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for f in files {
        if let Ok(i) = crate::loader::mode::IndexedFile::read(f) {
            for p in i.profiles.into_iter().filter(|p| p.top_level) {
                if !v.contains(&p.name) {
                    v.push(p.name);
                }
            }
        }
    }
    v
}

/// What the loader commands need from their options.
#[derive(Debug, Clone)]
pub struct Context {
    /// The parser and its options.
    pub parser: Parser,
    /// The profile directory.
    pub base: PathBuf,
    /// The apparmorfs directory, when known (for writes to `.remove`).
    pub apparmorfs: Option<PathBuf>,
    /// The system root.
    pub system: System,
    /// `--json`.
    pub json: bool,
    /// `--dry-run`.
    pub dry_run: bool,
}

/// Builds the [`Context`] from the shared options. The parser must be found
/// only when it will run (`needs_parser` and not `--dry-run`).
///
/// # Errors
/// [`CliError`] when the parser is needed and cannot be found.
pub fn context(m: &ArgMatches, needs_parser: bool) -> Result<Context, CliError> {
    let system = super::system(m);
    let dry_run = flag(m, "dry-run");
    let program = match one::<PathBuf>(m, "parser") {
        Some(p) => p.clone(),
        None => match crate::loader::find_parser_from_env() {
            Ok(p) => p,
            // A dry run shows the command even where no parser is installed.
            Err(_) if dry_run || !needs_parser => PathBuf::from(crate::loader::locate::PARSER_NAME),
            Err(e) => return Err(CliError::from_error(&e)),
        },
    };
    let base = m
        .get_one::<PathBuf>("base")
        .cloned()
        .unwrap_or_else(|| system.path(crate::loader::DEFAULT_PROFILE_DIR));
    let apparmorfs = match one::<PathBuf>(m, "apparmorfs") {
        Some(p) => Some(p.clone()),
        None => system.securityfs().ok(),
    };
    let mut parser = Parser::new(program)
        .base(&base)
        .skip_kernel_load(flag(m, "skip-kernel-load"))
        .skip_cache(flag(m, "skip-cache"))
        .write_cache(flag(m, "write-cache"))
        .quiet(flag(m, "quiet"));
    // Includes: the profile directory first (as the upstream utils do), then -I.
    parser = parser.include(&base);
    for i in many::<PathBuf>(m, "include") {
        parser = parser.include(i);
    }
    // Only pass --subdomainfs when told where it is (or reading another root):
    // otherwise the parser finds it itself.
    // The folder handed on is checked first: under a root it is resolved inside the
    // root, and no control file in it may be a symlink (the parser would write through
    // it); a folder named with --apparmorfs is taken as given, its files checked alike.
    let explicit = one::<PathBuf>(m, "apparmorfs").is_some();
    if explicit || !system.is_host() {
        if let Some(fs) = &apparmorfs {
            let within = if explicit {
                fs.as_path()
            } else {
                system.root()
            };
            let real = crate::system::fs::control_dir(within, fs).map_err(|(path, e)| {
                CliError(format!(
                    "{}: {}",
                    crate::escape::escape_str(&path.to_string_lossy()),
                    crate::system::strerror(&e)
                ))
            })?;
            parser = parser.apparmorfs(&real);
        }
    }
    if let Some(ns) = one::<String>(m, "namespace") {
        parser = parser.namespace(ns);
    }
    for c in many::<PathBuf>(m, "cache-loc") {
        parser = parser.cache_loc(c);
    }
    if let Some(f) = one::<PathBuf>(m, "features-file") {
        parser = parser.features_file(f);
    }
    if let Some(f) = one::<PathBuf>(m, "config-file") {
        parser = parser.config_file(f);
    }
    if let Some(j) = one::<u32>(m, "jobs") {
        parser = parser.jobs(Jobs::Count(*j));
    }
    for w in many::<String>(m, "warn") {
        if let Some(w) = Warning::from_name(w) {
            parser = parser.warn(w);
        }
    }
    for w in many::<String>(m, "werror") {
        if let Some(w) = Warning::from_name(w) {
            parser = parser.werror(w);
        }
    }
    if flag(m, "complain") {
        parser = parser.complain(true);
    }
    Ok(Context {
        parser,
        base,
        apparmorfs,
        system,
        json: flag(m, "json"),
        dry_run,
    })
}

/// True when the boolean option `id` exists in `m` and is set.
pub fn flag(m: &ArgMatches, id: &str) -> bool {
    m.try_get_one::<bool>(id).ok().flatten() == Some(&true)
}

/// The value of option `id`, `None` when unset or not defined for this command.
pub fn one<'a, T: Clone + Send + Sync + 'static>(m: &'a ArgMatches, id: &str) -> Option<&'a T> {
    m.try_get_one::<T>(id).ok().flatten()
}

/// Every value of option `id` (none when unset or not defined for this command).
pub fn many<'a, T: Clone + Send + Sync + 'static>(
    m: &'a ArgMatches,
    id: &str,
) -> impl Iterator<Item = &'a T> {
    m.try_get_many::<T>(id).ok().flatten().into_iter().flatten()
}

/// One target's result.
#[derive(Debug, Serialize)]
pub struct TargetResult {
    /// The file or profile name as given (or as expanded from a directory).
    pub target: String,
    /// `file` or `name`.
    pub kind: &'static str,
    /// True when it worked.
    pub ok: bool,
    /// The exact command (absent for kernel writes by name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// The parser run, decoded (absent for kernel writes by name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<RunReport>,
    /// A loader error (parser could not start, kernel write failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Serialize)]
struct JsonOut<'a> {
    action: &'a str,
    ok: bool,
    dry_run: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    plan: Option<&'a Plan>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parser_version: Option<&'a str>,
    results: &'a [TargetResult],
    #[serde(skip_serializing_if = "Option::is_none")]
    watch: Option<&'a WatchOut>,
}

/// `aactl load`.
///
/// # Errors
/// [`CliError`] when nothing could be tried.
pub fn run(m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    run_action(Action::Add, m, io)
}

/// `aactl replace`.
///
/// # Errors
/// [`CliError`] when nothing could be tried.
pub fn run_replace(m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    run_action(Action::Replace, m, io)
}

/// `aactl unload`.
///
/// # Errors
/// [`CliError`] when nothing could be tried.
pub fn run_unload(m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    run_action(Action::Remove, m, io)
}

fn run_action(action: Action, m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    let ctx = context(m, true)?;
    let targets: Vec<PathBuf> = m
        .get_many::<PathBuf>("targets")
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    let by_name = action == Action::Remove && flag(m, "name");
    // The loaded profiles, when readable: a name that is not loaded is reported
    // as such instead of planning a write the kernel would refuse.
    let loaded: Option<Vec<String>> = if action == Action::Remove {
        loaded_names(&ctx, m)
    } else {
        None
    };
    let mut not_loaded: Vec<TargetResult> = Vec::new();
    // Build the plan: one step per file, or one kernel write per name.
    let mut steps: Vec<(String, &'static str, Step)> = Vec::new();
    for t in &targets {
        if action == Action::Remove && (by_name || !is_profile_file(t)) {
            let mut name = t.to_string_lossy().into_owned();
            // With --namespace, a plain name addresses that namespace (`:NS:name`).
            if let Some(ns) = one::<String>(m, "namespace") {
                if !name.starts_with(':') {
                    name = format!(":{ns}:{name}");
                }
            }
            if let Some(l) = &loaded {
                if !l.contains(&name) {
                    not_loaded.push(TargetResult {
                        target: name,
                        kind: "name",
                        ok: false,
                        command: None,
                        report: None,
                        error: Some("not loaded".into()),
                    });
                    continue;
                }
            }
            let Some(fs) = &ctx.apparmorfs else {
                return Err(CliError(format!(
                    "cannot unload profile {}: no AppArmor filesystem found (give --apparmorfs)",
                    escape_str(&name)
                )));
            };
            steps.push((
                name.clone(),
                "name",
                Loader::<SystemRunner>::remove_by_name_plan(fs, &name),
            ));
            continue;
        }
        let files = expand_paths(std::slice::from_ref(t)).map_err(|e| CliError::from_error(&e))?;
        for f in files {
            let command = ctx
                .parser
                .clone()
                .action(action)
                .verbose(true)
                .command([&f]);
            steps.push((
                f.to_string_lossy().into_owned(),
                "file",
                Step::Run { command },
            ));
        }
    }
    let plan = Plan {
        steps: steps.iter().map(|(_, _, s)| s.clone()).collect(),
    };
    let verb = match action {
        Action::Add => "load",
        Action::Replace => "replace",
        Action::Remove => "unload",
        Action::Names => "names",
    };
    if ctx.dry_run {
        let ok = not_loaded.is_empty();
        if ctx.json {
            let out = JsonOut {
                action: verb,
                ok,
                dry_run: true,
                plan: Some(&plan),
                parser_version: None,
                results: &not_loaded,
                watch: None,
            };
            write_json(io, &out)?;
        } else {
            write_out(io, &plan.render())?;
            let mut err = String::new();
            for r in &not_loaded {
                err.push_str(&format!(
                    "aactl: {verb} {}: not loaded\n",
                    escape_str(&r.target)
                ));
            }
            io.err
                .write_all(err.as_bytes())
                .map_err(|e| CliError::from_error(&e))?;
        }
        return Ok(if ok { Exit::Success } else { Exit::Failure });
    }
    let mut runner = SystemRunner;
    let mut results = execute(&ctx.system, &mut runner, steps)?;
    results.extend(not_loaded);
    let version = needs_version(&results)
        .then(|| Loader::new(ctx.parser.clone(), SystemRunner).version())
        .flatten();
    let watched = if action == Action::Remove {
        None
    } else {
        let files: Vec<PathBuf> = results
            .iter()
            .filter(|r| r.ok && r.kind == "file")
            .map(|r| PathBuf::from(&r.target))
            .collect();
        run_watch(m, &ctx, profiles_in(&files))?
    };
    report(
        io,
        verb,
        ctx.json,
        &results,
        version.as_deref(),
        watched.as_ref(),
    )
}

/// The loaded profile names (kernel form, `:ns:name` for child namespaces), read
/// from `<apparmorfs>/profiles` (`--apparmorfs`) or the system's securityfs;
/// `None` when the list cannot be read (then names are not checked).
fn loaded_names(ctx: &Context, m: &ArgMatches) -> Option<Vec<String>> {
    let list = match one::<PathBuf>(m, "apparmorfs") {
        Some(fs) => ctx.system.profiles_at(fs.join("profiles")),
        None => ctx.system.profiles(),
    }
    .ok()?;
    if list.read_error.is_some() {
        return None;
    }
    Some(list.profiles().map(|(n, _)| n.to_owned()).collect())
}

/// True when a result failed with a policy syntax error: then the parser's version
/// is worth showing, since newer syntax needs a newer parser (pitfall G-08).
pub fn needs_version(results: &[TargetResult]) -> bool {
    results.iter().any(|r| {
        r.report.as_ref().is_some_and(|rep| {
            rep.errors
                .iter()
                .any(|e| matches!(e, LoadError::Syntax { .. }))
        })
    })
}

/// Runs each step (not stopping at failures) and collects per-target results.
///
/// # Errors
/// [`CliError`] when the parser cannot be found or started (nothing can work then).
pub fn execute(
    sys: &System,
    runner: &mut dyn Runner,
    steps: Vec<(String, &'static str, Step)>,
) -> Result<Vec<TargetResult>, CliError> {
    let mut results = Vec::new();
    for (target, kind, step) in steps {
        let command = match &step {
            Step::Run { command } => Some(command.argv_lossy()),
            _ => None,
        };
        match crate::loader::plan::execute_step(&step, sys, runner) {
            Ok(crate::loader::StepOutcome::Ran(r)) => results.push(TargetResult {
                target,
                kind,
                ok: r.ok(),
                command,
                report: Some(r),
                error: None,
            }),
            Ok(crate::loader::StepOutcome::Done) => results.push(TargetResult {
                target,
                kind,
                ok: true,
                command,
                report: None,
                error: None,
            }),
            Err(e @ (LoaderError::ParserNotFound { .. } | LoaderError::Spawn { .. })) => {
                return Err(CliError::from_error(&e));
            }
            Err(e) => results.push(TargetResult {
                target,
                kind,
                ok: false,
                command,
                report: None,
                error: Some(CliError::from_error(&e).0),
            }),
        }
    }
    Ok(results)
}

/// Prints results as text or JSON and returns the exit status (0 all ok, 1 any
/// failed). `version` is the parser's, shown with syntax errors.
///
/// # Errors
/// [`CliError`] when output cannot be written.
pub fn report(
    io: &mut Io<'_>,
    verb: &str,
    json: bool,
    results: &[TargetResult],
    version: Option<&str>,
    watch: Option<&WatchOut>,
) -> Result<Exit, CliError> {
    let ok = results.iter().all(|r| r.ok);
    if json {
        write_json(
            io,
            &JsonOut {
                action: verb,
                ok,
                dry_run: false,
                plan: None,
                parser_version: version,
                results,
                watch,
            },
        )?;
    } else {
        let mut text = String::new();
        for r in results {
            text.push_str(&describe(verb, r));
        }
        if let Some(w) = watch {
            text.push_str(&watch_text(w));
        }
        write_out(io, &text)?;
        let mut err = String::new();
        for r in results.iter().filter(|r| !r.ok) {
            for line in failure_lines(r) {
                err.push_str(&format!(
                    "aactl: {verb} {}: {line}\n",
                    escape_str(&r.target)
                ));
            }
        }
        if let Some(v) = version {
            err.push_str(&format!(
                "aactl: note: apparmor_parser version {}; syntax newer than the parser is reported as an error\n",
                escape_str(v)
            ));
        }
        io.err
            .write_all(err.as_bytes())
            .map_err(|e| CliError::from_error(&e))?;
    }
    Ok(if ok { Exit::Success } else { Exit::Failure })
}

/// One text line for a result (`verb target: ok (profiles…)` or `… FAILED`).
pub fn describe(verb: &str, r: &TargetResult) -> String {
    let mut s = format!("{verb} {}: ", escape_str(&r.target));
    if !r.ok {
        s.push_str("FAILED\n");
        return s;
    }
    s.push_str("ok");
    if let Some(rep) = &r.report {
        let mut notes = Vec::new();
        if !rep.done.is_empty() {
            notes.push(
                rep.done
                    .iter()
                    .map(|d| escape_str(&d.name).into_owned())
                    .collect::<Vec<_>>()
                    .join(", "),
            );
        }
        if !rep.skipped.is_empty() {
            notes.push("skipped: disabled".into());
        }
        if !rep.forced_complain.is_empty() {
            notes.push("complain mode forced by force-complain/".into());
        }
        if !notes.is_empty() {
            s.push_str(&format!(" ({})", notes.join("; ")));
        }
        for w in &rep.warnings {
            s.push_str(&format!("\n  warning: {}", escape_str(w)));
        }
    }
    s.push('\n');
    s
}

fn failure_lines(r: &TargetResult) -> Vec<String> {
    let mut v = Vec::new();
    if let Some(e) = &r.error {
        v.push(escape_str(e).into_owned());
    }
    if let Some(rep) = &r.report {
        for e in &rep.errors {
            v.push(escape_str(&e.to_string()).into_owned());
            if let LoadError::Kernel {
                kind: crate::loader::KernelErrorKind::AlreadyExists,
                ..
            } = e
            {
                v.push("hint: the profile is loaded already; use `aactl replace`".into());
            }
        }
    }
    if v.is_empty() {
        v.push("failed".into());
    }
    v
}

/// Writes pretty JSON and a newline to stdout.
///
/// # Errors
/// [`CliError`] on a serialisation or write error.
pub fn write_json(io: &mut Io<'_>, v: &impl Serialize) -> Result<(), CliError> {
    let s = serde_json::to_string_pretty(v).map_err(|e| CliError::from_error(&e))?;
    write_out(io, &format!("{s}\n"))
}

/// Writes text to stdout.
///
/// # Errors
/// [`CliError`] on a write error.
pub fn write_out(io: &mut Io<'_>, s: &str) -> Result<(), CliError> {
    io.out
        .write_all(s.as_bytes())
        .map_err(|e| CliError::from_error(&e))
}
