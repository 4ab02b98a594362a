//! `aactl unconfined`: unconfined processes with network sockets (aa-unconfined).
//!
//! argv → [`Scope`] → [`crate::runtime::unconfined`] (attachments of the loaded and the
//! on-disk profiles) → a table with every string from /proc or a profile escaped, or
//! `--json` ([`crate::inspect::unconfined::UnconfinedReport`]).

use super::render::{opt, write_json};
use super::{CliError, Exit};
use crate::cli::Io;
use crate::cli::table::{Fit, Table};
use crate::escape::escape_str;
use crate::inspect::unconfined::{Scope, UnconfinedProcess};
use clap::{Arg, ArgAction, ArgMatches, Command};
use std::path::PathBuf;

/// Sockets shown per process in the table before "(+N more)".
const SHOWN: usize = 4;

/// Executables whose first arguments name the program that really runs (shown in EXE).
const INTERPRETERS: &[&str] = &[
    "sh", "bash", "dash", "zsh", "perl", "python", "python2", "python3", "ruby", "node", "php",
    "java", "lua", "tclsh", "busybox",
];

/// The clap definition of `aactl unconfined`.
pub(super) fn command() -> Command {
    Command::new("unconfined")
        .about("List unconfined processes that listen on network sockets (aa-unconfined)")
        .long_about(
            "List the processes that run without an AppArmor profile and hold a listening \
             socket: TCP in LISTEN, unconnected UDP and raw sockets, Unix sockets that accept \
             connections and bound unconnected Unix datagram sockets, from the socket tables \
             of each process's network namespace (/proc/PID/net, else /proc/net) and the \
             socket descriptors of /proc/PID/fd. A process running a profile in the \
             unconfined mode counts as unconfined. For each the executable is shown (with its \
             arguments for an interpreter), and the profile that would attach to it, matched \
             by the attachments of the loaded profiles and then of the profile files: \
             'loaded, not applied' when the process started before that profile was loaded \
             (restart it to confine it), 'not loaded' when only a file defines it.",
        )
        .after_help(
            "Examples:\n  aactl unconfined                 listening services without a profile\n  \
             aactl unconfined --all --json    every unconfined process with a socket, as JSON\n  \
             aactl --root /tmp/snap unconfined --paranoid",
        )
        .arg(
            Arg::new("all")
                .long("all")
                .action(ArgAction::SetTrue)
                .help("Processes with any socket, listening or not"),
        )
        .arg(
            Arg::new("paranoid")
                .long("paranoid")
                .action(ArgAction::SetTrue)
                .conflicts_with("all")
                .help("Every unconfined process, with or without sockets"),
        )
        .arg(
            Arg::new("profile-dir")
                .long("profile-dir")
                .value_name("DIR")
                .value_parser(clap::value_parser!(PathBuf))
                .help("Profile files whose attachments are matched (default /etc/apparmor.d under --root)"),
        )
        .arg(
            Arg::new("json")
                .long("json")
                .action(ArgAction::SetTrue)
                .help("Print JSON (kind aactl-unconfined) instead of a table"),
        )
}

fn sockets_cell(p: &UnconfinedProcess) -> String {
    let mut lines: Vec<String> = p
        .sockets
        .iter()
        .take(SHOWN)
        .map(|s| match &s.socket {
            Some(k) => {
                let local = if k.local.is_empty() {
                    "-".to_owned()
                } else {
                    escape_str(&k.local).into_owned()
                };
                format!("{} {} {}", k.protocol.as_str(), local, k.state)
            }
            None => format!("socket:[{}]", s.inode),
        })
        .collect();
    if p.sockets.len() > SHOWN {
        lines.push(format!("(+{} more)", p.sockets.len() - SHOWN));
    }
    if lines.is_empty() {
        "-".to_owned()
    } else {
        lines.join("\n")
    }
}

/// The executable, with the arguments after it for an interpreter (`/usr/bin/python3.11
/// (/usr/bin/python3 /usr/sbin/web)`).
fn exe_cell(p: &UnconfinedProcess) -> String {
    let exe = opt(p.exe.as_deref());
    let base = p
        .exe
        .as_deref()
        .and_then(|e| e.rsplit('/').next())
        .unwrap_or("");
    let stem = base.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    if p.cmdline.len() > 1 && INTERPRETERS.contains(&stem) {
        let args: Vec<String> = p
            .cmdline
            .iter()
            .take(4)
            .map(|a| escape_str(a).into_owned())
            .collect();
        format!("{exe} ({})", args.join(" "))
    } else {
        exe
    }
}

fn profile_cell(p: &UnconfinedProcess) -> String {
    match &p.attach {
        Some(a) if !a.conflicts_with.is_empty() => {
            let mut all = vec![escape_str(&a.profile).into_owned()];
            all.extend(a.conflicts_with.iter().map(|n| escape_str(n).into_owned()));
            format!("conflicting attachments: {}", all.join(", "))
        }
        Some(a) if a.loaded => format!("{} (loaded, not applied)", escape_str(&a.profile)),
        Some(a) => format!("{} (not loaded)", escape_str(&a.profile)),
        None => match p.label.as_deref() {
            Some(l) if l.ends_with(" (unconfined)") => escape_str(l).into_owned(),
            _ => "-".to_owned(),
        },
    }
}

fn table(rows: &[UnconfinedProcess]) -> Table {
    let mut t = Table::new(&[
        ("PID", Fit::Keep),
        ("COMM", Fit::Wrap),
        ("EXE", Fit::Wrap),
        ("SOCKETS", Fit::Wrap),
        ("PROFILE", Fit::Wrap),
    ]);
    for p in rows {
        t.row(vec![
            p.pid.to_string().into(),
            opt(p.comm.as_deref()).into(),
            exe_cell(p).into(),
            sockets_cell(p).into(),
            profile_cell(p).into(),
        ]);
    }
    t
}

/// Runs `aactl unconfined`.
///
/// # Errors
/// AppArmor absent or disabled, or `/proc` unreadable.
pub(super) fn run(m: &ArgMatches, io: &mut Io<'_>) -> Result<Exit, CliError> {
    let sys = super::system(m);
    let scope = if m.get_flag("paranoid") {
        Scope::Paranoid
    } else if m.get_flag("all") {
        Scope::All
    } else {
        Scope::Listening
    };
    let dir = m
        .get_one::<PathBuf>("profile-dir")
        .cloned()
        .unwrap_or_else(|| sys.path("/etc/apparmor.d"));
    let (report, unreadable) = crate::runtime::unconfined(&sys, scope, Some(&dir))?;
    for (f, why) in &unreadable {
        let _ = writeln!(
            io.err,
            "aactl: warning: {}: {} (its attachments are not matched)",
            escape_str(&f.to_string_lossy()),
            escape_str(why)
        );
    }
    if m.get_flag("json") {
        write_json(io, &report)?;
    } else if report.processes.is_empty() {
        let what = match scope {
            Scope::Listening => "no unconfined process holds a listening socket",
            Scope::All => "no unconfined process holds a socket",
            Scope::Paranoid => "no unconfined process",
        };
        super::render::line(io, what)?;
    } else {
        let text = table(&report.processes).render(&io.term);
        super::render::line(io, &text)?;
    }
    Ok(Exit::Success)
}
