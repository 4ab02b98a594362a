//! The plumbing every loader command shares (`load`, `replace`, `unload`, the mode
//! commands, `remove-unknown`): their common options, the [`Context`] built from them, the
//! step runner ([`execute`]) and the per-target report.

use super::{CliError, Exit};
use crate::cli::Io;
use crate::escape::escape_str;
use crate::loader::{Jobs, LoadError, LoaderError, Parser, Plan, RunReport, Runner, Step, Warning};
use crate::system::System;
use clap::{Arg, ArgAction, ArgMatches, Command};
use serde::Serialize;
use std::path::PathBuf;

/// Adds the options of every loader command: parser location, profile and
/// include directories, apparmorfs, `--json`, `--dry-run`.
pub(super) fn with_common_args(c: Command) -> Command {
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
pub(super) enum ParserUse {
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
pub(super) fn with_parser_args(c: Command) -> Command {
    with_parser_args_for(c, ParserUse::Load)
}

/// Adds the common options ([`with_common_args`]) and the parser options that
/// apply to `usage` (see [`ParserUse`]).
pub(super) fn with_parser_args_for(c: Command, usage: ParserUse) -> Command {
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

/// The `--watch` result, for text and JSON.
#[derive(Serialize)]
pub(super) struct WatchOut {
    /// Seconds watched.
    pub seconds: u64,
    /// The log source followed.
    pub source: String,
    /// The profiles watched (their hats and children included).
    pub profiles: Vec<String>,
    /// The records of those profiles (denied and allowed), as `aactl log --json`.
    pub records: Vec<serde_json::Value>,
    /// Records beyond the first [`crate::watch::MAX_WATCH_RECORDS`].
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
    pub(super) text_lines: Vec<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The text of a [`WatchOut`]: the records, then the suggested rules.
pub(super) fn watch_text(w: &WatchOut) -> String {
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

/// What the loader commands need from their options.
#[derive(Debug, Clone)]
pub(super) struct Context {
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
pub(super) fn context(m: &ArgMatches, needs_parser: bool) -> Result<Context, CliError> {
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
pub(super) fn flag(m: &ArgMatches, id: &str) -> bool {
    m.try_get_one::<bool>(id).ok().flatten() == Some(&true)
}

/// The value of option `id`, `None` when unset or not defined for this command.
pub(super) fn one<'a, T: Clone + Send + Sync + 'static>(
    m: &'a ArgMatches,
    id: &str,
) -> Option<&'a T> {
    m.try_get_one::<T>(id).ok().flatten()
}

/// Every value of option `id` (none when unset or not defined for this command).
pub(super) fn many<'a, T: Clone + Send + Sync + 'static>(
    m: &'a ArgMatches,
    id: &str,
) -> impl Iterator<Item = &'a T> {
    m.try_get_many::<T>(id).ok().flatten().into_iter().flatten()
}

/// One target's result.
#[derive(Debug, Serialize)]
pub(super) struct TargetResult {
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
    /// For a parser error in a file reached through includes: how it was reached
    /// (`in file A, included from B:3, included from C:7`), one per such error.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub included_from: Vec<String>,
}

/// The JSON document of the loader commands.
#[derive(Serialize)]
pub(super) struct JsonOut<'a> {
    pub(super) action: &'a str,
    pub(super) ok: bool,
    pub(super) dry_run: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) plan: Option<&'a Plan>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) parser_version: Option<&'a str>,
    pub(super) results: &'a [TargetResult],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) watch: Option<&'a WatchOut>,
}

/// True when a result failed with a policy syntax error: then the parser's version
/// is worth showing, since newer syntax needs a newer parser.
pub(super) fn needs_version(results: &[TargetResult]) -> bool {
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
pub(super) fn execute(
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
                included_from: Vec::new(),
            }),
            Ok(crate::loader::StepOutcome::Done) => results.push(TargetResult {
                target,
                kind,
                ok: true,
                command,
                report: None,
                error: None,
                included_from: Vec::new(),
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
                included_from: Vec::new(),
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
pub(super) fn report(
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
pub(super) fn describe(verb: &str, r: &TargetResult) -> String {
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
            v.push(escape_str(&crate::error::chain(e)).into_owned());
            if let LoadError::Kernel {
                kind: crate::loader::KernelErrorKind::AlreadyExists,
                ..
            } = e
            {
                v.push("hint: the profile is loaded already; use `aactl replace`".into());
            }
        }
    }
    for n in &r.included_from {
        v.push(escape_str(n).into_owned());
    }
    if v.is_empty() {
        v.push("failed".into());
    }
    v
}

/// Fills in [`TargetResult::included_from`]: for each parser error of `r` read in a
/// file other than the one loaded, the chain of includes from the loaded file to it,
/// found by resolving the loaded file with the same search path (`-I` dirs, then the
/// base). Nothing when the chain cannot be found (the include is not reached the same way).
pub(super) fn add_include_chains(r: &mut TargetResult, m: &ArgMatches, ctx: &Context) {
    let Some(rep) = &r.report else {
        return;
    };
    let file = PathBuf::from(&r.target);
    let canon = |p: &std::path::Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let reads: Vec<PathBuf> = rep
        .errors
        .iter()
        .filter_map(|e| match e {
            LoadError::Syntax { diagnostic } => diagnostic.read_file.clone(),
            _ => None,
        })
        .filter(|read| canon(read) != canon(&file))
        .collect();
    if reads.is_empty() {
        return;
    }
    let mut include_dirs: Vec<PathBuf> = vec![ctx.base.clone()];
    include_dirs.extend(many::<PathBuf>(m, "include").cloned());
    let mut resolver = crate::policy::resolve::Resolver::new(crate::policy::resolve::SearchPath {
        include_dirs,
        base: Some(ctx.base.clone()),
        cwd: std::env::current_dir().unwrap_or_default(),
        within: Vec::new(),
    });
    let Ok(resolved) = resolver.resolve_file(&file) else {
        return;
    };
    for read in reads {
        let want = canon(&read);
        let id = (0..resolver.sources.len() as u32)
            .map(crate::diag::FileId)
            .find(|id| {
                resolver
                    .sources
                    .get(*id)
                    .is_some_and(|s| canon(&s.path) == want)
            });
        let Some(id) = id else {
            continue;
        };
        let chain = resolved.include_chain(id);
        if let Some(note) = crate::diag::include_note(&read, &chain, &resolver.sources) {
            r.included_from.push(note);
        }
    }
}

/// Writes pretty JSON and a newline to stdout.
///
/// # Errors
/// [`CliError`] on a serialisation or write error.
pub(super) fn write_json(io: &mut Io<'_>, v: &impl Serialize) -> Result<(), CliError> {
    let s = serde_json::to_string_pretty(v).map_err(|e| CliError::from_error(&e))?;
    write_out(io, &format!("{s}\n"))
}

/// Writes text to stdout. A write error is kept by the subcommand's [`crate::cli::Output`]
/// and reported once at the end.
///
/// # Errors
/// None today; the type keeps the call sites uniform.
pub(super) fn write_out(io: &mut Io<'_>, s: &str) -> Result<(), CliError> {
    let _ = io.out.write_all(s.as_bytes());
    Ok(())
}

/// The enablement check `status` makes ([`crate::inspect::preflight`]), for a command
/// that is about to reach the kernel: AppArmor must be present, enabled and its
/// securityfs mounted on the command's system, or nothing is tried and the cause is the
/// error (exit status 2). Skipped when `--apparmorfs` names the interface (the caller
/// then says where the kernel is). `hint` says how to do the part that needs no kernel.
///
/// # Errors
/// [`CliError`] with the cause and `hint`.
pub(super) fn preflight(m: &ArgMatches, ctx: &Context, hint: &str) -> Result<(), CliError> {
    if one::<PathBuf>(m, "apparmorfs").is_some() {
        return Ok(());
    }
    crate::inspect::preflight(&ctx.system)
        .map_err(|e| CliError(format!("{}; {hint}", crate::error::chain(&e))))
}

/// The file check made before the parser runs: each of `targets` must be a readable
/// regular file or directory ([`crate::loader::check_profile_path`]). Every bad path
/// is one line on `io.err` (`aactl: VERB PATH: reason`).
///
/// Returns false when a path failed (its line is written): then nothing is to be tried
/// and the status is [`Exit::Error`].
///
/// # Errors
/// [`CliError`] when standard error cannot be written.
pub(super) fn check_paths(
    io: &mut Io<'_>,
    verb: &str,
    targets: &[PathBuf],
) -> Result<bool, CliError> {
    let mut bad = String::new();
    for t in targets {
        if let Err(e) = crate::loader::check_profile_path(t) {
            let why = match &e {
                LoaderError::Io { source, .. } => crate::system::strerror(source),
                other => other.to_string(),
            };
            bad.push_str(&format!(
                "aactl: {verb} {}: {}\n",
                escape_str(&t.to_string_lossy()),
                escape_str(&why)
            ));
        }
    }
    if bad.is_empty() {
        return Ok(true);
    }
    io.err
        .write_all(bad.as_bytes())
        .map_err(|e| CliError::from_error(&e))?;
    Ok(false)
}
