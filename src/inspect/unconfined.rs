//! Unconfined network services: the processes that hold network sockets (listening ones by
//! default) and run without a profile, the list a hardening audit starts from.
//!
//! Each process is read from `/proc/PID` under the system root ([`System::processes`]) and
//! its label classified as `aactl ps` does ([`super::process::row`]); for every unconfined
//! one the socket inodes of `/proc/PID/fd` ([`System::socket_inodes`]) are looked up in the
//! socket tables of the process's own network namespace ([`System::sockets_of`], falling
//! back to the reader's [`System::sockets`]). A socket that is in no table (netlink,
//! packet, a namespace whose tables cannot be read) counts only with [`Scope::All`].
//!
//! Which profile would attach to each executable is the caller's question
//! ([`list_with`]): [`list`] only knows a loaded profile named like the executable's path,
//! `crate::runtime::unconfined` also matches the attachment patterns of loaded and
//! on-disk profiles.

use super::InspectError;
use super::process::{ProfileModes, State};
use crate::label::Mode;
use crate::system::{ProcessScan, Socket, SocketTable, System};
use std::collections::HashMap;
use std::path::PathBuf;

/// Which unconfined processes are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// Those with at least one listening socket (see [`Socket::listening`]).
    #[default]
    Listening,
    /// Those with any socket.
    All,
    /// Every unconfined process, sockets or not.
    Paranoid,
}

/// One socket of a process: what the tables say, or only the inode when it is in none.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProcessSocket {
    /// The socket's inode.
    pub inode: u64,
    /// The table entry, `null` when the socket is in no table read.
    pub socket: Option<Socket>,
}

/// The profile that would attach to a process's executable.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WouldAttach {
    /// The profile name.
    pub profile: String,
    /// The profile is loaded: the process runs unconfined because it started before the
    /// profile was loaded, and restarting it confines it. When false the profile exists
    /// only on disk: load it, then restart the process.
    pub loaded: bool,
    /// The file of the profile directory that defines it, when known.
    pub file: Option<PathBuf>,
    /// Other profiles whose attachments match as well as this one: the kernel attaches
    /// none of them (a conflict to fix). Empty normally.
    pub conflicts_with: Vec<String>,
}

/// One unconfined process.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UnconfinedProcess {
    /// Process id.
    pub pid: u32,
    /// `comm`, `null` when unreadable.
    pub comm: Option<String>,
    /// The executable (canonicalised on the live host), `null` when unreadable.
    pub exe: Option<String>,
    /// The command line (first 4 KiB), empty when unreadable: for an interpreter it names
    /// the script.
    pub cmdline: Vec<String>,
    /// The label text as read (`unconfined`, `:ns:unconfined`, empty, or a profile in
    /// the `unconfined` mode: `NAME (unconfined)`).
    pub label: Option<String>,
    /// The profile that would attach to the executable, `null` when none would (or the
    /// process is in another policy namespace, or runs a profile in the `unconfined` mode).
    pub attach: Option<WouldAttach>,
    /// "Unconfined but has a profile": [`Self::attach`] names a loaded profile without a
    /// conflict.
    pub has_profile: bool,
    /// Its sockets, listening ones first; with [`Scope::Listening`] only the listening ones.
    pub sockets: Vec<ProcessSocket>,
}

/// The JSON document of `aactl unconfined --json`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UnconfinedReport {
    /// [`super::SCHEMA`].
    pub schema: u32,
    /// Always `"aactl-unconfined"`.
    pub kind: &'static str,
    /// The system root that was read.
    pub root: PathBuf,
    /// `listening`, `all` or `paranoid`.
    pub scope: &'static str,
    /// The processes, by pid.
    pub processes: Vec<UnconfinedProcess>,
}

impl Scope {
    /// The word used in JSON: `listening`, `all`, `paranoid`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Listening => "listening",
            Scope::All => "all",
            Scope::Paranoid => "paranoid",
        }
    }
}

/// Picks the sockets of one process (pure): `inodes` from its descriptors, `table` the
/// kernel's tables. Returns `None` when the process is not listed under `scope`.
pub fn select_sockets(
    inodes: &[u64],
    table: &SocketTable,
    scope: Scope,
) -> Option<Vec<ProcessSocket>> {
    let mut socks: Vec<ProcessSocket> = inodes
        .iter()
        .map(|&inode| ProcessSocket {
            inode,
            socket: table.get(&inode).cloned(),
        })
        .collect();
    let listens = |s: &ProcessSocket| s.socket.as_ref().is_some_and(|s| s.listening);
    // Listening first, then those of a table (by table and address), then the rest.
    socks.sort_by_key(|s| {
        (
            !listens(s),
            s.socket.is_none(),
            s.socket.as_ref().map(|x| (x.protocol, x.local.clone())),
            s.inode,
        )
    });
    match scope {
        Scope::Listening => {
            socks.retain(listens);
            (!socks.is_empty()).then_some(socks)
        }
        Scope::All => (!socks.is_empty()).then_some(socks),
        Scope::Paranoid => Some(socks),
    }
}

/// Lists the unconfined processes of `sys` under `scope`, by pid. The profile that would
/// attach is only a loaded profile named like the executable's path (what aa-status
/// reports); see [`list_with`] for attachment patterns.
///
/// ```no_run
/// use apparmor::inspect::unconfined::{list, Scope};
/// let sys = apparmor::system::System::host();
/// for p in list(&sys, Scope::Listening)?.processes {
///     println!("{} {:?} listens unconfined", p.pid, p.exe);
/// }
/// # Ok::<(), apparmor::inspect::InspectError>(())
/// ```
///
/// # Errors
/// AppArmor cannot be inspected ([`super::preflight`]), or `<root>/proc` cannot be listed.
pub fn list(sys: &System, scope: Scope) -> Result<UnconfinedReport, InspectError> {
    let modes = super::profile_modes(sys).unwrap_or_else(|_| ProfileModes::new());
    list_with(sys, scope, &mut |exe| {
        modes.contains_key(exe).then(|| WouldAttach {
            profile: exe.to_owned(),
            loaded: true,
            file: None,
            conflicts_with: Vec::new(),
        })
    })
}

/// Like [`list`], with `attach` telling the profile that would attach to an executable
/// (called once per distinct executable of an unconfined process in the reader's policy
/// namespace).
///
/// # Errors
/// As [`list`]. An unreadable `profiles` list only loses the modes of stacked labels.
pub fn list_with(
    sys: &System,
    scope: Scope,
    attach: &mut dyn FnMut(&str) -> Option<WouldAttach>,
) -> Result<UnconfinedReport, InspectError> {
    super::preflight(sys)?;
    let modes = super::profile_modes(sys).unwrap_or_else(|_| ProfileModes::new());
    let own_tables = sys.sockets();
    // Socket tables per network namespace, read once each.
    let mut tables: HashMap<String, SocketTable> = HashMap::new();
    let mut attached: HashMap<String, Option<WouldAttach>> = HashMap::new();
    let scan = ProcessScan {
        skip_unlabelled: true,
        ..ProcessScan::default()
    };
    let mut out = Vec::new();
    for p in sys.processes(&scan)? {
        let r = super::process::row(p.pid, p.comm, p.exe, p.context, &modes);
        let unconfined_mode = r.state == State::Confined && r.mode == Some(Mode::Unconfined);
        if r.state != State::Unconfined && !unconfined_mode {
            continue;
        }
        let inodes = sys.socket_inodes(r.pid).unwrap_or_default();
        let table = match sys.net_namespace(r.pid) {
            Some(ns) if !inodes.is_empty() => {
                if !tables.contains_key(&ns) {
                    let t = sys.sockets_of(r.pid).unwrap_or_else(|| own_tables.clone());
                    tables.insert(ns.clone(), t);
                }
                &tables[&ns]
            }
            _ => &own_tables,
        };
        let Some(sockets) = select_sockets(&inodes, table, scope) else {
            continue;
        };
        let own_ns = r.stack.iter().all(|s| s.namespace.is_none());
        let would = match &r.exe {
            Some(exe) if own_ns && !unconfined_mode && exe.starts_with('/') => attached
                .entry(exe.clone())
                .or_insert_with(|| attach(exe))
                .clone(),
            _ => None,
        };
        out.push(UnconfinedProcess {
            pid: r.pid,
            comm: r.comm,
            exe: r.exe,
            cmdline: sys.cmdline(r.pid).unwrap_or_default(),
            label: r.label,
            has_profile: would
                .as_ref()
                .is_some_and(|w| w.loaded && w.conflicts_with.is_empty()),
            attach: would,
            sockets,
        });
    }
    out.sort_by_key(|p| p.pid);
    Ok(UnconfinedReport {
        schema: super::SCHEMA,
        kind: "aactl-unconfined",
        root: sys.root().to_path_buf(),
        scope: scope.as_str(),
        processes: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::SocketProtocol;

    fn sock(inode: u64, listening: bool, local: &str) -> Socket {
        Socket {
            protocol: SocketProtocol::Tcp,
            local: local.into(),
            state: if listening { "LISTEN" } else { "ESTAB" }.into(),
            listening,
            inode,
        }
    }

    #[test]
    fn scopes() {
        let table: SocketTable = [sock(1, true, "0.0.0.0:80"), sock(2, false, "1.2.3.4:5")]
            .into_iter()
            .map(|s| (s.inode, s))
            .collect();
        let pick = |inodes: &[u64], s| {
            select_sockets(inodes, &table, s).map(|v| v.iter().map(|x| x.inode).collect::<Vec<_>>())
        };
        assert_eq!(pick(&[2, 1, 9], Scope::Listening), Some(vec![1]));
        assert_eq!(pick(&[2, 9], Scope::Listening), None);
        assert_eq!(pick(&[9, 2, 1], Scope::All), Some(vec![1, 2, 9]));
        assert_eq!(pick(&[], Scope::All), None);
        assert_eq!(pick(&[], Scope::Paranoid), Some(vec![]));
    }
}
