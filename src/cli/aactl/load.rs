//! `aactl load|replace|unload PATH|NAME...`: one `apparmor_parser` run per profile
//! file, a result per file and per profile, `--json`, `--dry-run`.
//!
//! Exit status: 0 when every target worked, 1 when at least one failed (the others
//! are still done), 2 when nothing could be tried (no parser, bad usage).

use super::load_watch::{profiles_in, run_watch, with_watch_args};
use super::loader_cmd::{
    Context, JsonOut, ParserUse, TargetResult, add_include_chains, check_paths, context, execute,
    flag, needs_version, one, preflight, report, with_parser_args, with_parser_args_for,
    write_json, write_out,
};
use super::{CliError, Exit};
use crate::cli::Io;
use crate::escape::escape_str;
use crate::loader::{Action, Loader, Plan, Step, SystemRunner, expand_paths, is_profile_file};
use clap::{Arg, ArgAction, ArgMatches, Command};
use std::path::PathBuf;

/// `aactl load`: `apparmor_parser --add` (fails with "already exists" for loaded profiles).
pub(super) fn command() -> Command {
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
pub(super) fn replace_command() -> Command {
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
pub(super) fn unload_command() -> Command {
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

/// `aactl load`.
///
/// # Errors
/// [`CliError`] when nothing could be tried.
pub(super) fn run(m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    run_action(Action::Add, m, io)
}

/// `aactl replace`.
///
/// # Errors
/// [`CliError`] when nothing could be tried.
pub(super) fn run_replace(m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    run_action(Action::Replace, m, io)
}

/// `aactl unload`.
///
/// # Errors
/// [`CliError`] when nothing could be tried.
pub(super) fn run_unload(m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
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
    let verb = match action {
        Action::Add => "load",
        Action::Replace => "replace",
        Action::Remove => "unload",
        Action::Names => "names",
    };
    // Nothing reaches the parser unchecked: the files first (a quiet parser may say
    // nothing about a missing one), then whether the kernel can take the result.
    let files: Vec<PathBuf> = targets
        .iter()
        .filter(|t| action != Action::Remove || (!by_name && is_profile_file(t)))
        .cloned()
        .collect();
    if !check_paths(io, verb, &files)? {
        return Ok(Exit::Error);
    }
    if !ctx.dry_run && !flag(m, "skip-kernel-load") {
        let hint = if action == Action::Remove {
            "nothing to unload from (use --dry-run to see the commands)"
        } else {
            "nothing was loaded (use --skip-kernel-load to only compile, or --dry-run to see \
             the commands)"
        };
        preflight(m, &ctx, hint)?;
    }
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
                        included_from: Vec::new(),
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
    for r in results.iter_mut().filter(|r| !r.ok && r.kind == "file") {
        add_include_chains(r, m, &ctx);
    }
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
