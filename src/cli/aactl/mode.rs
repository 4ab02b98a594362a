//! `aactl enforce|complain|kill|prompt|audit|disable|enable PROFILE|PATH...`
//! and `aactl mode MODE PROFILE|PATH...` for every profile mode (the
//! differences from upstream's aa-enforce and friends are in
//! [`crate::loader::mode`]).
//!
//! The mode commands that write a flag some apparmor_parser releases reject
//! (`prompt`, `default_allow`: 4.1 and later) check the release first:
//! `--parser-version`, else the release of the parser that would reload.
//!
//! A target is a profile file, a profile name (`name`, `parent//hat`) or a program
//! path matching a profile's attachment, looked up in the profile directory
//! (`--base`, default `/etc/apparmor.d`). Exit status: 0 when every target was
//! found and changed (and reloaded), 1 when any was not found or failed, 2 when
//! nothing could be tried.

use super::load_watch::{run_watch, with_watch_args};
use super::loader_cmd::{
    ParserUse, WatchOut, context, flag, watch_text, with_parser_args_for, write_json, write_out,
};
use super::{CliError, Exit};
use crate::cli::Io;
use crate::escape::escape_str;
use crate::loader::mode::{
    IndexedFile, ModeChange, ProfileIndex, Resolved, describe_flags, plan_change,
};
use crate::loader::{EditLock, LoaderError, RunReport, StepOutcome, SystemRunner};
use crate::policy::ParserVersion;
use clap::{Arg, ArgAction, ArgMatches, Command};
use serde::Serialize;

fn base_command(name: &'static str, about: &'static str) -> Command {
    with_targets(Command::new(name).about(about))
}

/// Adds the targets and the options every mode command shares to `c`.
fn with_targets(c: Command) -> Command {
    let usage = if c.get_name() == "disable" {
        ParserUse::Remove
    } else {
        ParserUse::Reload
    };
    let c = with_parser_args_for(
        c.arg(
            Arg::new("targets")
                .value_name("PROFILE|PATH")
                .num_args(1..)
                .required(true)
                .help("Profile names, profile files, or program paths (attachments)"),
        ),
        usage,
    );
    // disable unloads: there is nothing to watch.
    let c = if usage == ParserUse::Remove {
        c
    } else {
        with_watch_args(c)
    };
    c.arg(
        Arg::new("no-reload")
            .long("no-reload")
            .action(ArgAction::SetTrue)
            .help("Change the files and links only; do not run apparmor_parser"),
    )
}

/// `aactl enforce`.
pub(super) fn command() -> Command {
    base_command(
        "enforce",
        "Set profiles to enforce mode (remove mode flags, disable/ and force-complain/ links) and reload",
    )
    .arg(
        Arg::new("force")
            .long("force")
            .action(ArgAction::SetTrue)
            .help("Also enforce profiles flagged unconfined"),
    )
}

/// `--parser-version` of the commands that can write a release-gated mode flag.
fn parser_version_arg() -> Arg {
    Arg::new("parser-version")
        .long("parser-version")
        .value_name("X.Y")
        .value_parser(clap::value_parser!(crate::policy::ParserVersion))
        .help(
            "Edit for this apparmor_parser release: 3.0, 4.1, 5.0 or 6.0 (a full version \
             such as 4.1.0 is accepted); a mode it rejects is an error \
             [default: the release of the parser that reloads, 6.0 when there is none]",
        )
}

/// `aactl kill`.
pub(super) fn kill_command() -> Command {
    base_command(
        "kill",
        "Set profiles to kill mode (flags=(kill): a denied access kills the task) and reload",
    )
    .arg(parser_version_arg())
}

/// `aactl prompt`.
pub(super) fn prompt_command() -> Command {
    base_command(
        "prompt",
        "Set profiles to prompt mode (flags=(prompt); AppArmor 4.1 and later) and reload",
    )
    .arg(parser_version_arg())
}

/// `aactl mode MODE PROFILE|PATH...`: every profile mode, including the
/// `unconfined` flag (the `unconfined` subcommand lists unconfined processes).
pub(super) fn mode_command() -> Command {
    let modes: Vec<clap::builder::PossibleValue> = ModeChange::MODES
        .iter()
        .map(|m| {
            let v = clap::builder::PossibleValue::new(m.as_str());
            if *m == ModeChange::DefaultAllow {
                v.alias("default-allow")
            } else {
                v
            }
        })
        .collect();
    with_targets(
        Command::new("mode")
            .about(
                "Set profiles to any mode: enforce, complain, kill, unconfined, prompt or \
                 default_allow (the last two need AppArmor 4.1 or later) and reload",
            )
            .arg(
                Arg::new("mode")
                    .value_name("MODE")
                    .required(true)
                    .value_parser(clap::builder::PossibleValuesParser::new(modes))
                    .help("The profile mode to set (the flag written; enforce writes none)"),
            ),
    )
    .arg(parser_version_arg())
    .arg(
        Arg::new("force")
            .long("force")
            .action(ArgAction::SetTrue)
            .help("With enforce: also enforce profiles flagged unconfined"),
    )
}

/// `aactl complain`.
pub(super) fn complain_command() -> Command {
    base_command(
        "complain",
        "Set profiles to complain mode (flags=(complain), remove disable/ link) and reload",
    )
}

/// `aactl audit`.
pub(super) fn audit_command() -> Command {
    base_command("audit", "Add the audit flag to profiles and reload").arg(
        Arg::new("remove")
            .long("remove")
            .short('r')
            .action(ArgAction::SetTrue)
            .help("Remove the audit flag instead"),
    )
}

/// `aactl disable`.
pub(super) fn disable_command() -> Command {
    base_command(
        "disable",
        "Disable profile files (link in disable/) and unload their profiles",
    )
}

/// `aactl enable`.
pub(super) fn enable_command() -> Command {
    base_command(
        "enable",
        "Re-enable disabled profile files (remove the disable/ link) and load them",
    )
}

/// One file's (or one unresolved target's) result.
#[derive(Debug, Serialize)]
struct FileResult {
    targets: Vec<String>,
    file: Option<String>,
    ok: bool,
    changes: Vec<crate::loader::mode::FlagChange>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    plan: Option<crate::loader::Plan>,
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<RunReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// True when the file was edited, the reload failed, and the edit was undone.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    restored: bool,
}

impl FileResult {
    /// A target (or the targets of one file) that failed with `e` before any change.
    fn failed(targets: Vec<String>, file: Option<&std::path::Path>, e: &LoaderError) -> Self {
        FileResult {
            targets,
            file: file.map(|f| f.to_string_lossy().into_owned()),
            ok: false,
            changes: Vec::new(),
            warnings: Vec::new(),
            plan: None,
            report: None,
            error: Some(CliError::from_error(e).0),
            restored: false,
        }
    }
}

#[derive(Serialize)]
struct JsonOut<'a> {
    action: &'a str,
    ok: bool,
    dry_run: bool,
    /// The apparmor_parser release the mode flag was checked against (only
    /// for modes some releases reject).
    #[serde(skip_serializing_if = "Option::is_none")]
    parser_release: Option<&'a str>,
    results: &'a [FileResult],
    #[serde(skip_serializing_if = "Option::is_none")]
    watch: Option<&'a WatchOut>,
}

/// `aactl enforce`.
///
/// # Errors
/// [`CliError`] when nothing could be tried (unreadable profile directory, no parser).
pub(super) fn run(m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    run_change(m, io, ModeChange::Enforce)
}

/// `aactl complain`.
///
/// # Errors
/// See [`run`].
pub(super) fn run_complain(m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    run_change(m, io, ModeChange::Complain)
}

/// `aactl kill`.
///
/// # Errors
/// See [`run`].
pub(super) fn run_kill(m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    run_change(m, io, ModeChange::Kill)
}

/// `aactl prompt`.
///
/// # Errors
/// See [`run`]; also when the target release rejects the flag.
pub(super) fn run_prompt(m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    run_change(m, io, ModeChange::Prompt)
}

/// `aactl mode MODE`.
///
/// # Errors
/// See [`run`]; also when the target release rejects the flag.
pub(super) fn run_mode(m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    let word = m.get_one::<String>("mode").map_or("", String::as_str);
    let change = ModeChange::from_mode(word)
        .ok_or_else(|| CliError(format!("unknown mode {}", escape_str(word))))?;
    run_change(m, io, change)
}

/// The apparmor_parser release line a mode change is checked against:
/// `--parser-version`, else the release of `program` (a parser that cannot
/// be asked gives [`ParserVersion::LATEST`], with a warning on `err` when it
/// exists but does not answer).
fn target_release(
    m: &ArgMatches,
    program: &std::path::Path,
    err: &mut dyn std::io::Write,
) -> (ParserVersion, String) {
    if let Some(v) = super::loader_cmd::one::<ParserVersion>(m, "parser-version") {
        return (*v, "--parser-version".into());
    }
    if !program.is_absolute() && !program.exists() {
        return (ParserVersion::LATEST, "no apparmor_parser found".into());
    }
    let mut loader = crate::loader::Loader::new(crate::loader::Parser::new(program), SystemRunner);
    match loader.query_parser_version() {
        Ok(v) => (v, format!("the release of {}", program.display())),
        Err(e) => {
            let _ = writeln!(
                err,
                "aactl: warning: {}; assuming apparmor_parser {}",
                escape_str(&crate::error::chain(&e)),
                ParserVersion::LATEST
            );
            (ParserVersion::LATEST, "assumed".into())
        }
    }
}

/// `aactl audit` (`--remove`: remove the flag).
///
/// # Errors
/// See [`run`].
pub(super) fn run_audit(m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    run_change(m, io, ModeChange::Audit)
}

/// `aactl disable`.
///
/// # Errors
/// See [`run`].
pub(super) fn run_disable(m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    run_change(m, io, ModeChange::Disable)
}

/// `aactl enable`.
///
/// # Errors
/// See [`run`].
pub(super) fn run_enable(m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    run_change(m, io, ModeChange::Enable)
}

/// Runs `change` on the targets of `m`.
///
/// # Errors
/// See [`run`].
pub(super) fn run_change(
    m: &ArgMatches,
    io: &mut Io<'_>,
    change: ModeChange,
) -> Result<Exit, CliError> {
    let change = if change == ModeChange::Audit && flag(m, "remove") {
        ModeChange::NoAudit
    } else {
        change
    };
    let reload = !m.get_flag("no-reload");
    let ctx = context(m, reload)?;
    // A flag the target release rejects is refused before anything is touched.
    let release = if change.introduced() > ParserVersion::V3_0 {
        let (v, from) = target_release(m, ctx.parser.program(), io.err);
        if let Err(e) = change.accepted_by(v) {
            return Err(CliError(format!(
                "{} ({from}; give --parser-version to edit for another release)",
                CliError::from_error(&e).0
            )));
        }
        Some(v)
    } else {
        None
    };
    if reload && !ctx.dry_run && !flag(m, "skip-kernel-load") {
        super::loader_cmd::preflight(
            m,
            &ctx,
            "no file was edited (use --no-reload to only edit the files, or name the \
             interface with --apparmorfs DIR)",
        )?;
        // Check before editing that the reload can happen, so that a host without
        // AppArmor does not end up with edited files and nothing loaded.
        match &ctx.apparmorfs {
            Some(fs) if fs.is_dir() => {}
            Some(fs) => {
                return Err(CliError(format!(
                    "AppArmor filesystem {} not found (name it with --apparmorfs DIR, \
                     or use --no-reload to only edit the files)",
                    escape_str(&fs.display().to_string())
                )));
            }
            None => {
                return Err(CliError(
                    "no AppArmor filesystem found, so profiles cannot be reloaded \
                     (is securityfs mounted and AppArmor enabled? name it with --apparmorfs DIR, \
                     or use --no-reload to only edit the files)"
                        .into(),
                ));
            }
        }
    }
    let mut index = ProfileIndex::scan_in(ctx.system.root(), &ctx.base)
        .map_err(|e| CliError::from_error(&e))?;
    let mut results: Vec<FileResult> = Vec::new();
    let mut resolved: Vec<Resolved> = Vec::new();
    for t in m.get_many::<String>("targets").into_iter().flatten() {
        match index.resolve_in(ctx.system.root(), t, &ctx.base) {
            Ok(r) => resolved.extend(r),
            Err(e) => results.push(FileResult::failed(vec![t.clone()], None, &e)),
        }
    }
    // One plan per file, so a file that cannot be edited does not stop the others.
    let mut files: Vec<std::path::PathBuf> = Vec::new();
    for r in &resolved {
        if !files.contains(&r.file) {
            files.push(r.file.clone());
        }
    }
    let mut runner = SystemRunner;
    for f in &files {
        let mine: Vec<Resolved> = resolved.iter().filter(|r| &r.file == f).cloned().collect();
        let failure = |e: LoaderError| {
            FileResult::failed(mine.iter().map(|r| r.target.clone()).collect(), Some(f), &e)
        };
        // A real run locks the file's folder and plans from the file as it is
        // now, under the lock (another aactl may have edited it since the scan);
        // the lock is held until the edit, the reload and any undo are done.
        let _lock;
        let fresh;
        let current = if ctx.dry_run {
            &index
        } else {
            match EditLock::acquire_in(ctx.system.root(), &[f]) {
                Ok(l) => _lock = l,
                Err(e) => {
                    results.push(failure(e.into()));
                    continue;
                }
            }
            match IndexedFile::read(f) {
                Ok(i) => {
                    fresh = ProfileIndex {
                        files: vec![i],
                        unreadable: Vec::new(),
                    }
                }
                Err(e) => {
                    results.push(failure(e));
                    continue;
                }
            }
            &fresh
        };
        let fp = match plan_change(
            change,
            &ctx.base,
            &mine,
            current,
            &ctx.parser,
            reload,
            flag(m, "force"),
        ) {
            Ok(mut p) => p.remove(0),
            Err(e) => {
                results.push(failure(e));
                continue;
            }
        };
        let mut warnings = Vec::new();
        if matches!(change, ModeChange::Audit | ModeChange::NoAudit) {
            let name = fp.file.file_name().unwrap_or_default();
            if std::fs::symlink_metadata(ctx.base.join("disable").join(name)).is_ok() {
                warnings.push("the profile file is disabled (disable/ link)".into());
            }
        }
        let mut res = FileResult {
            targets: fp.targets.clone(),
            file: Some(fp.file.to_string_lossy().into_owned()),
            ok: true,
            changes: fp.changes.clone(),
            warnings,
            plan: None,
            report: None,
            error: None,
            restored: false,
        };
        if ctx.dry_run {
            res.plan = Some(fp.plan);
        } else {
            let ex = fp.plan.execute_or_rollback(&ctx.system, &mut runner);
            for o in ex.outcomes {
                if let StepOutcome::Ran(r) = o {
                    res.ok = r.ok();
                    res.report = Some(r);
                }
            }
            if ex.failed {
                res.ok = false;
            }
            res.restored = !ex.restored.is_empty() && ex.rollback_errors.is_empty();
            let mut errs: Vec<String> = Vec::new();
            match ex.error {
                Some(e @ LoaderError::ParserNotFound { .. }) => {
                    return Err(CliError::from_error(&e));
                }
                Some(e) => errs.push(CliError::from_error(&e).0),
                None => {}
            }
            for e in &ex.rollback_errors {
                errs.push(format!("could not restore: {}", CliError::from_error(e).0));
            }
            if !errs.is_empty() {
                res.error = Some(errs.join("; "));
            }
        }
        results.push(res);
    }
    let ok = results.iter().all(|r| r.ok);
    let verb = change.as_str();
    // --watch: the profiles that were changed and reloaded (not for disable).
    let watched = if change == ModeChange::Disable {
        None
    } else {
        let mut names: Vec<String> = Vec::new();
        for r in results.iter().filter(|r| r.ok) {
            for t in &r.targets {
                for res in resolved.iter().filter(|x| &x.target == t) {
                    for p in &res.profiles {
                        if !names.contains(p) {
                            names.push(p.clone());
                        }
                    }
                }
            }
        }
        run_watch(m, &ctx, names)?
    };
    if ctx.json {
        write_json(
            io,
            &JsonOut {
                action: verb,
                ok,
                dry_run: ctx.dry_run,
                parser_release: release.map(ParserVersion::as_str),
                results: &results,
                watch: watched.as_ref(),
            },
        )?;
    } else if ctx.dry_run {
        let mut s = String::new();
        for r in &results {
            if let Some(p) = &r.plan {
                s.push_str(&p.render());
            }
        }
        write_out(io, &s)?;
        write_errors(io, verb, &results)?;
    } else {
        let mut s = String::new();
        for r in results
            .iter()
            .filter(|r| r.file.is_some() && r.error.is_none())
        {
            s.push_str(&describe(verb, r));
        }
        if let Some(w) = &watched {
            s.push_str(&watch_text(w));
        }
        write_out(io, &s)?;
        write_errors(io, verb, &results)?;
    }
    Ok(if ok { Exit::Success } else { Exit::Failure })
}

fn describe(verb: &str, r: &FileResult) -> String {
    let mut s = format!(
        "{verb} {}:",
        escape_str(r.file.as_deref().unwrap_or_default())
    );
    let changes: Vec<String> = r
        .changes
        .iter()
        .map(|c| {
            format!(
                " {}: {} -> {}",
                escape_str(&c.profile),
                escape_str(&describe_flags(&c.before)),
                escape_str(&describe_flags(&c.after))
            )
        })
        .collect();
    s.push_str(&changes.join(";"));
    if r.ok {
        s.push_str(if changes.is_empty() { " ok" } else { "; ok" });
    } else {
        s.push_str(if changes.is_empty() {
            " FAILED"
        } else {
            "; FAILED"
        });
        if r.restored {
            s.push_str(" (reload failed; file restored; use --no-reload to only edit the file)");
        } else if !changes.is_empty() && r.report.is_some() {
            s.push_str(" (reload failed; the edit was kept)");
        }
    }
    if let Some(rep) = &r.report {
        if !rep.done.is_empty() {
            let names: Vec<String> = rep
                .done
                .iter()
                .map(|d| escape_str(&d.name).into_owned())
                .collect();
            s.push_str(&format!(" (parser: {})", names.join(", ")));
        }
    }
    s.push('\n');
    for w in &r.warnings {
        s.push_str(&format!("  warning: {}\n", escape_str(w)));
    }
    s
}

fn write_errors(io: &mut Io<'_>, verb: &str, results: &[FileResult]) -> Result<(), CliError> {
    let mut s = String::new();
    for r in results.iter().filter(|r| !r.ok) {
        let what = match &r.file {
            Some(f) => f.clone(),
            None => r.targets.join(" "),
        };
        if let Some(e) = &r.error {
            let note = if r.restored { " (file restored)" } else { "" };
            // An error that starts with the same path says it once.
            let e = e.strip_prefix(&format!("{what}: ")).unwrap_or(e);
            s.push_str(&format!(
                "aactl: {verb} {}: {}{note}\n",
                escape_str(&what),
                escape_str(e)
            ));
        }
        if let Some(rep) = &r.report {
            for e in &rep.errors {
                s.push_str(&format!(
                    "aactl: {verb} {}: {}\n",
                    escape_str(&what),
                    escape_str(&crate::error::chain(e))
                ));
            }
        }
    }
    io.err
        .write_all(s.as_bytes())
        .map_err(|e| CliError::from_error(&e))
}
