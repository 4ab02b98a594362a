//! `aactl exec`: run a command under a profile (aa-exec).
//!
//! argv → the profile name (`:NS:PROFILE` with `-n`) → one request to the task interface
//! ([`crate::system::task::Task`]: on the next exec, or at once with `-i`; stacked with
//! `--stack`) → `execve` of the command, which replaces aactl.

use super::{CliError, Exit};
use crate::cli::Io;
use crate::escape::escape_str;
use crate::system::task::{Task, namespaced};
use clap::{Arg, ArgAction, ArgMatches, Command};
use std::os::unix::process::CommandExt;

/// The clap definition of `aactl exec`.
pub(super) fn command() -> Command {
    Command::new("exec")
        .about("Run a command confined by a profile (aa-exec)")
        .long_about(
            "Run COMMAND confined by PROFILE: aactl asks the kernel to change its own profile \
             at its next exec (or at once with -i), then executes COMMAND in its place, so \
             COMMAND starts under PROFILE (its /proc/self/attr/apparmor/current names it). \
             With --stack the profile is stacked on aactl's current label instead \
             (CURRENT//&PROFILE), which an unprivileged confined caller may do where a change \
             is refused. Without -p and -n COMMAND runs unchanged. The profile must be loaded \
             (error: 'profile ... is not loaded'), and the current confinement must allow the \
             change (error: 'not permitted ...'). --root does not apply.",
        )
        .after_help(
            "Examples:\n  aactl exec -p web -- /usr/sbin/nginx -g 'daemon off;'\n  \
             aactl exec -n lxd-c1 -p /usr/bin/man -- man ls\n  \
             aactl exec --stack -p sandbox -- ./untrusted",
        )
        .arg(
            Arg::new("profile")
                .long("profile")
                .short('p')
                .value_name("PROFILE")
                .help("The profile (a name, or a stack A//&B)"),
        )
        .arg(
            Arg::new("namespace")
                .long("namespace")
                .short('n')
                .value_name("NAMESPACE")
                .help("The policy namespace of PROFILE (the name becomes :NAMESPACE:PROFILE)"),
        )
        .arg(
            Arg::new("immediate")
                .long("immediate")
                .short('i')
                .action(ArgAction::SetTrue)
                .help("Change the profile at once (change_profile), before COMMAND is executed"),
        )
        .arg(
            Arg::new("stack")
                .long("stack")
                .short('s')
                .action(ArgAction::SetTrue)
                .help("Stack PROFILE on the current label instead of replacing it"),
        )
        .arg(
            Arg::new("verbose")
                .long("verbose")
                .short('v')
                .action(ArgAction::SetTrue)
                .help("Say on standard error what is asked of the kernel"),
        )
        .arg(
            Arg::new("command")
                .value_name("COMMAND")
                .num_args(1..)
                .required(true)
                .last(true)
                .allow_hyphen_values(true)
                .help("The command and its arguments (after --)"),
        )
}

/// The name written to the task interface: `PROFILE`, or `:NS:PROFILE` with a namespace.
fn target(profile: Option<&str>, namespace: Option<&str>) -> Option<String> {
    match (profile, namespace) {
        (p, Some(ns)) => Some(namespaced(ns, p.unwrap_or(""))),
        (Some(p), None) => Some(p.to_owned()),
        (None, None) => None,
    }
}

/// Runs `aactl exec`; returns only when the request or the exec failed.
///
/// # Errors
/// The kernel refused the request (the message names the profile and why), or COMMAND
/// could not be executed.
pub(super) fn run(m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    if m.get_one::<std::path::PathBuf>("root").is_some() {
        return Err(CliError(
            "exec changes aactl's own confinement: --root does not apply".into(),
        ));
    }
    let argv: Vec<&String> = m
        .get_many::<String>("command")
        .into_iter()
        .flatten()
        .collect();
    let Some((program, args)) = argv.split_first() else {
        return Err(CliError("no command given (after --)".into()));
    };
    let name = target(
        m.get_one::<String>("profile").map(String::as_str),
        m.get_one::<String>("namespace").map(String::as_str),
    );
    let (stack, now) = (m.get_flag("stack"), m.get_flag("immediate"));
    if let Some(name) = &name {
        crate::runtime::usable(&crate::system::System::host()).map_err(|e| {
            CliError(format!(
                "cannot change to profile '{}': {}",
                name,
                crate::error::chain(&e)
            ))
        })?;
        let task = Task::current();
        if m.get_flag("verbose") {
            let what = match (stack, now) {
                (false, false) => "change to",
                (true, false) => "stack",
                (false, true) => "change now to",
                (true, true) => "stack now",
            };
            let _ = writeln!(
                io.err,
                "aactl: exec: {what} profile '{}', then execute {}",
                escape_str(name),
                escape_str(program)
            );
        }
        let asked = match (stack, now) {
            (false, false) => task.change_onexec(name),
            (true, false) => task.stack_onexec(name),
            (false, true) => task.change_profile(name),
            (true, true) => task.stack_profile(name),
        };
        asked.map_err(|e| CliError::from_error(&e))?;
    }
    let _ = io.out.flush();
    let err = std::process::Command::new(program.as_str())
        .args(args.iter().map(|a| a.as_str()))
        .exec();
    Err(CliError(format!(
        "cannot execute {}: {}",
        program,
        crate::error::strerror(&err)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(target(Some("web"), None).as_deref(), Some("web"));
        assert_eq!(target(Some("web"), Some("c1")).as_deref(), Some(":c1:web"));
        assert_eq!(target(None, Some("c1")).as_deref(), Some(":c1:"));
        assert_eq!(target(None, None), None);
    }
}
