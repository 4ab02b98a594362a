//! `aactl unconfined`: unconfined processes with network sockets (aa-unconfined).
//!
//! argv → [`Scope`] → [`crate::inspect::unconfined::list`] → a table with every string from
//! /proc escaped, or `--json` ([`crate::inspect::unconfined::UnconfinedReport`]).

use super::render::{opt, trim_lines, write_json};
use super::{CliError, Exit};
use crate::cli::Io;
use crate::escape::escape_str;
use crate::inspect::unconfined::{Scope, UnconfinedProcess};
use clap::{Arg, ArgAction, ArgMatches, Command};

/// Sockets shown per process in the table before "(+N more)".
const SHOWN: usize = 4;

/// The clap definition of `aactl unconfined`.
pub(super) fn command() -> Command {
    Command::new("unconfined")
        .about("List unconfined processes that listen on network sockets (aa-unconfined)")
        .long_about(
            "List the processes that run without an AppArmor profile and hold a listening \
             socket: TCP in LISTEN, unconnected UDP and raw sockets, Unix sockets that accept \
             connections and bound unconnected Unix datagram sockets, from the kernel's tables \
             in /proc/net and the socket descriptors of /proc/PID/fd. For each the \
             executable is shown, and the loaded profile for that executable when there is one \
             (the process started before the profile was loaded: restart it to confine it). \
             Sockets of another network namespace are not in the reader's tables and count \
             only with --all.",
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

fn table(rows: &[UnconfinedProcess]) -> tabled::Table {
    let mut b = tabled::builder::Builder::new();
    b.push_record(["PID", "COMM", "EXE", "SOCKETS", "PROFILE"]);
    for p in rows {
        let profile = match &p.profile {
            Some(name) => format!("{} (loaded, not applied)", escape_str(name)),
            None => "-".to_owned(),
        };
        b.push_record([
            p.pid.to_string(),
            opt(p.comm.as_deref()),
            opt(p.exe.as_deref()),
            sockets_cell(p),
            profile,
        ]);
    }
    let mut t = b.build();
    t.with(tabled::settings::Style::psql());
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
    let report = crate::inspect::unconfined::list(&sys, scope)?;
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
        super::render::line(io, &trim_lines(&table(&report.processes).to_string()))?;
    }
    Ok(Exit::Success)
}
