//! `aactl remove-unknown [--dry-run]`: unload loaded profiles that are in no
//! profile directory (the differences from upstream's aa-remove-unknown script are
//! in [`crate::loader::unknown`]).
//!
//! Exit status: 0 when every unknown profile was removed (or none was unknown),
//! 1 when a removal failed, 2 when nothing could be decided (loaded policy
//! unreadable, `--names` failed, no parser).

use super::loader_cmd::{context, with_common_args, write_json, write_out};
use super::{CliError, Exit};
use crate::cli::Io;
use crate::escape::escape_str;
use crate::loader::unknown::{
    Decision, KeepReason, UnknownOptions, default_profile_dirs, plan_remove_unknown,
};
use crate::loader::{Loader, Plan, Step, SystemRunner, plan::execute_step};
use clap::{Arg, ArgAction, ArgMatches, Command};
use serde::Serialize;
use std::path::PathBuf;

/// `aactl remove-unknown`.
pub(super) fn command() -> Command {
    with_common_args(
        Command::new("remove-unknown")
            .about("Unload loaded profiles that are in no profile directory")
            .long_about(
                "Unload loaded profiles whose names are not defined by any file of the profile \
                 directories (apparmor_parser --names; disabled files count as absent). \
                 Profiles of child namespaces (container policy) and prompt-mode profiles \
                 are kept unless asked; children of other profiles (they go with their \
                 parent) and libvirt-UUID profiles are always kept.",
            ),
    )
    .arg(
        Arg::new("profile-dir")
            .long("profile-dir")
            .value_name("DIR")
            .action(ArgAction::Append)
            .value_parser(clap::value_parser!(PathBuf))
            .help("Profile directories (default: the base directory, and snapd's profile directory when present)"),
    )
    .arg(
        Arg::new("namespaces")
            .long("namespaces")
            .action(ArgAction::SetTrue)
            .help("Also remove unknown profiles of child namespaces (container policy)"),
    )
    .arg(
        Arg::new("prompt")
            .long("prompt")
            .action(ArgAction::SetTrue)
            .help("Also remove unknown profiles in prompt mode"),
    )
}

#[derive(Serialize)]
struct Removal {
    name: String,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Serialize)]
struct JsonOut<'a> {
    ok: bool,
    dry_run: bool,
    profile_dirs: &'a [PathBuf],
    decision: &'a Decision,
    #[serde(skip_serializing_if = "Option::is_none")]
    plan: Option<&'a Plan>,
    removed: &'a [Removal],
}

fn reason(k: &KeepReason) -> &'static str {
    match k {
        KeepReason::Known => "known",
        KeepReason::Child => "child",
        KeepReason::Namespace => "child namespace (use --namespaces)",
        KeepReason::Prompt => "prompt mode (use --prompt)",
        KeepReason::Libvirt => "libvirt",
    }
}

/// `aactl remove-unknown`.
///
/// # Errors
/// [`CliError`] when nothing could be decided.
pub(super) fn run(m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    // The parser must run even for a dry run: --names is a query, not an effect.
    let mut ctx = context(m, true)?;
    // The loaded profiles are read even for a dry run.
    super::loader_cmd::preflight(m, &ctx, "there is no loaded policy to compare")?;
    if ctx.dry_run
        && !ctx.parser.program().is_absolute()
        && m.get_one::<PathBuf>("parser").is_none()
    {
        ctx.parser = crate::loader::Parser::locate().map_err(|e| CliError::from_error(&e))?;
    }
    let dirs: Vec<PathBuf> = match m.get_many::<PathBuf>("profile-dir") {
        Some(d) => d.cloned().collect(),
        None if m.get_one::<PathBuf>("base").is_some() => vec![ctx.base.clone()],
        None => default_profile_dirs(&ctx.system),
    };
    let opts = UnknownOptions {
        namespaces: m.get_flag("namespaces"),
        prompt: m.get_flag("prompt"),
    };
    let mut loader = Loader::new(ctx.parser.clone(), SystemRunner);
    let (decision, plan) = plan_remove_unknown(&ctx.system, &mut loader, &dirs, opts)
        .map_err(|e| CliError::from_error(&e))?;
    let mut removed = Vec::new();
    if !ctx.dry_run {
        let mut runner = SystemRunner;
        for step in &plan.steps {
            let name = match step {
                Step::KernelRemove { name, .. } => name.clone(),
                _ => String::new(),
            };
            match execute_step(step, &ctx.system, &mut runner) {
                Ok(_) => removed.push(Removal {
                    name,
                    ok: true,
                    error: None,
                }),
                Err(e) => removed.push(Removal {
                    name,
                    ok: false,
                    error: Some(CliError::from_error(&e).0),
                }),
            }
        }
    }
    let ok = removed.iter().all(|r| r.ok);
    if ctx.json {
        write_json(
            io,
            &JsonOut {
                ok,
                dry_run: ctx.dry_run,
                profile_dirs: &dirs,
                decision: &decision,
                plan: ctx.dry_run.then_some(&plan),
                removed: &removed,
            },
        )?;
    } else {
        let mut out = String::new();
        if ctx.dry_run {
            out.push_str(&plan.render());
        } else {
            for r in removed.iter().filter(|r| r.ok) {
                out.push_str(&format!("removed '{}'\n", escape_str(&r.name)));
            }
        }
        write_out(io, &out)?;
        let mut err = String::new();
        for v in &decision.verdicts {
            if let Some(k @ (KeepReason::Namespace | KeepReason::Prompt)) = &v.keep {
                err.push_str(&format!(
                    "aactl: remove-unknown: kept unknown '{}': {}\n",
                    escape_str(&v.name),
                    reason(k)
                ));
            }
        }
        for l in &decision.malformed {
            err.push_str(&format!(
                "aactl: remove-unknown: kept unparsable line '{}'\n",
                escape_str(l)
            ));
        }
        for r in removed.iter().filter(|r| !r.ok) {
            err.push_str(&format!(
                "aactl: remove-unknown: {}\n",
                escape_str(r.error.as_deref().unwrap_or_default())
            ));
        }
        io.err
            .write_all(err.as_bytes())
            .map_err(|e| CliError::from_error(&e))?;
    }
    Ok(if ok { Exit::Success } else { Exit::Failure })
}
