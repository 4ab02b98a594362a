//! Unconfined network services: the processes that hold network sockets (listening ones by
//! default) and run without a profile, the list a hardening audit starts from.
//!
//! Each process is read from `/proc/PID` under the system root ([`System::processes`]) and
//! its label classified as `aactl ps` does ([`super::process::row`]); for every unconfined
//! one the socket inodes of `/proc/PID/fd` ([`System::socket_inodes`]) are looked up in the
//! kernel's socket tables ([`System::sockets`]). A socket that is in no table (another
//! network namespace, netlink, packet) counts only with [`Scope::All`].

use super::InspectError;
use super::process::{ProfileModes, State};
use crate::system::{ProcessScan, Socket, SocketTable, System};
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

/// One unconfined process.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UnconfinedProcess {
    /// Process id.
    pub pid: u32,
    /// `comm`, `null` when unreadable.
    pub comm: Option<String>,
    /// The executable (canonicalised on the live host), `null` when unreadable.
    pub exe: Option<String>,
    /// The label text as read (`unconfined`, `:ns:unconfined`, empty).
    pub label: Option<String>,
    /// The loaded profile that would attach to the executable (a profile named by its path)
    /// though the process runs unconfined: it started before the profile was loaded, so
    /// restarting it confines it. `null` when there is none.
    pub profile: Option<String>,
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
    // Listening first, then by table and address.
    socks.sort_by_key(|s| {
        (
            !listens(s),
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

/// Lists the unconfined processes of `sys` under `scope`, by pid.
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
/// An unreadable `profiles` list only loses [`UnconfinedProcess::profile`].
pub fn list(sys: &System, scope: Scope) -> Result<UnconfinedReport, InspectError> {
    super::preflight(sys)?;
    let modes = super::profile_modes(sys).unwrap_or_else(|_| ProfileModes::new());
    let table = sys.sockets();
    let scan = ProcessScan {
        skip_unlabelled: true,
        ..ProcessScan::default()
    };
    let mut out = Vec::new();
    for p in sys.processes(&scan)? {
        let r = super::process::row(p.pid, p.comm, p.exe, p.context, &modes);
        if r.state != State::Unconfined {
            continue;
        }
        let inodes = sys.socket_inodes(r.pid).unwrap_or_default();
        let Some(sockets) = select_sockets(&inodes, &table, scope) else {
            continue;
        };
        out.push(UnconfinedProcess {
            pid: r.pid,
            comm: r.comm,
            exe: r.exe,
            label: r.label,
            profile: r.exe_profile,
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
