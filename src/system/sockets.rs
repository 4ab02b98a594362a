//! Sockets: the kernel's socket tables (`/proc/net/{tcp,tcp6,udp,udp6,raw,raw6,unix}`) and
//! the socket inodes a process holds (`/proc/PID/fd/N` links that read `socket:[INODE]`),
//! read under the system root.
//!
//! The tables are parsed by pure functions ([`parse_inet_table`], [`parse_unix_table`]);
//! [`System::sockets`] reads them and [`System::socket_inodes`] reads one process's
//! descriptors. `/proc/net` is the reader's network namespace: a socket of a process in
//! another namespace is not in the tables (it is still a socket inode of that process).

use super::{System, SystemError};
use std::collections::HashMap;

/// Cap on one socket table (a busy server has tens of thousands of connections, 150 bytes
/// each).
const NET_TABLE_LIMIT: u64 = 64 * 1024 * 1024;

/// The table a socket was listed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SocketProtocol {
    /// `/proc/net/tcp`.
    Tcp,
    /// `/proc/net/tcp6`.
    Tcp6,
    /// `/proc/net/udp`.
    Udp,
    /// `/proc/net/udp6`.
    Udp6,
    /// `/proc/net/raw`.
    Raw,
    /// `/proc/net/raw6`.
    Raw6,
    /// `/proc/net/unix`.
    Unix,
}

impl SocketProtocol {
    /// Every table, in the order they are read.
    pub const ALL: [SocketProtocol; 7] = [
        SocketProtocol::Tcp,
        SocketProtocol::Tcp6,
        SocketProtocol::Udp,
        SocketProtocol::Udp6,
        SocketProtocol::Raw,
        SocketProtocol::Raw6,
        SocketProtocol::Unix,
    ];

    /// The file name under `/proc/net` (also the word shown: `tcp6`).
    pub fn as_str(self) -> &'static str {
        match self {
            SocketProtocol::Tcp => "tcp",
            SocketProtocol::Tcp6 => "tcp6",
            SocketProtocol::Udp => "udp",
            SocketProtocol::Udp6 => "udp6",
            SocketProtocol::Raw => "raw",
            SocketProtocol::Raw6 => "raw6",
            SocketProtocol::Unix => "unix",
        }
    }

    fn is_v6(self) -> bool {
        matches!(
            self,
            SocketProtocol::Tcp6 | SocketProtocol::Udp6 | SocketProtocol::Raw6
        )
    }
}

/// One socket of a table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Socket {
    /// The table it was listed in.
    pub protocol: SocketProtocol,
    /// The local end: `ADDR:PORT` for IPv4 (`0.0.0.0:22`), `[ADDR]:PORT` for IPv6, the bound
    /// path for a Unix socket (`@name` for an abstract one), empty for an unbound Unix socket.
    pub local: String,
    /// The state as `ss` names it: `LISTEN`, `UNCONN`, `ESTAB`, `TIME-WAIT`, … (`UNKNOWN-XX`
    /// for a number this version does not know).
    pub state: String,
    /// True for a socket that accepts traffic from anyone: a TCP socket in LISTEN, an
    /// unconnected UDP or raw socket, a Unix stream or seqpacket socket that accepts
    /// connections, an unconnected bound Unix datagram socket.
    pub listening: bool,
    /// The socket's inode number (what `/proc/PID/fd/N` names).
    pub inode: u64,
}

/// Every socket of the tables, by inode.
pub type SocketTable = HashMap<u64, Socket>;

/// The name `ss` gives a TCP state number (`/proc/net/tcp`'s `st` column).
fn tcp_state(n: u8) -> String {
    match n {
        0x01 => "ESTAB",
        0x02 => "SYN-SENT",
        0x03 => "SYN-RECV",
        0x04 => "FIN-WAIT-1",
        0x05 => "FIN-WAIT-2",
        0x06 => "TIME-WAIT",
        0x07 => "UNCONN",
        0x08 => "CLOSE-WAIT",
        0x09 => "LAST-ACK",
        0x0A => "LISTEN",
        0x0B => "CLOSING",
        0x0C => "NEW-SYN-RECV",
        _ => return format!("UNKNOWN-{n:02X}"),
    }
    .to_owned()
}

/// `HEX:PORT` of an inet table (the address as the kernel prints it: 32-bit words in the
/// host's byte order) → `1.2.3.4:80` or `[::1]:80`; `None` when malformed.
fn inet_address(field: &str, v6: bool) -> Option<String> {
    let (addr, port) = field.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let words: Vec<u32> = (0..addr.len() / 8)
        .map(|i| u32::from_str_radix(addr.get(i * 8..i * 8 + 8)?, 16).ok())
        .collect::<Option<_>>()?;
    if addr.len() % 8 != 0 {
        return None;
    }
    let mut bytes = Vec::with_capacity(16);
    for w in words {
        bytes.extend_from_slice(&w.to_ne_bytes());
    }
    match (v6, bytes.len()) {
        (false, 4) => {
            let a = std::net::Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]);
            Some(format!("{a}:{port}"))
        }
        (true, 16) => {
            let mut b = [0u8; 16];
            b.copy_from_slice(&bytes);
            Some(format!("[{}]:{port}", std::net::Ipv6Addr::from(b)))
        }
        _ => None,
    }
}

/// Parses the text of `/proc/net/{tcp,tcp6,udp,udp6,raw,raw6}` (pure). The header line and
/// malformed lines are skipped.
///
/// ```
/// use apparmor::system::{parse_inet_table, SocketProtocol};
/// let text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0\n";
/// let s = parse_inet_table(SocketProtocol::Tcp, text);
/// assert_eq!(s[0].local, "0.0.0.0:22");
/// assert_eq!((s[0].state.as_str(), s[0].listening, s[0].inode), ("LISTEN", true, 12345));
/// ```
pub fn parse_inet_table(protocol: SocketProtocol, text: &str) -> Vec<Socket> {
    let mut out = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_ascii_whitespace().collect();
        if f.len() < 10 || !f[0].ends_with(':') {
            continue;
        }
        let (Some(local), Ok(st), Ok(inode)) = (
            inet_address(f[1], protocol.is_v6()),
            u8::from_str_radix(f[3], 16),
            f[9].parse::<u64>(),
        ) else {
            continue;
        };
        let tcp = matches!(protocol, SocketProtocol::Tcp | SocketProtocol::Tcp6);
        let listening = if tcp { st == 0x0A } else { st == 0x07 };
        out.push(Socket {
            protocol,
            local,
            state: tcp_state(st),
            listening,
            inode,
        });
    }
    out
}

/// Parses the text of `/proc/net/unix` (pure). Columns: `Num RefCount Protocol Flags Type
/// St Inode [Path]`; flag `00010000` marks a socket that accepts connections. The header
/// line and malformed lines are skipped.
///
/// ```
/// use apparmor::system::parse_unix_table;
/// let text = "Num       RefCount Protocol Flags    Type St Inode Path\n0000000000000000: 00000002 00000000 00010000 0001 01 2001 /run/dbus/system_bus_socket\n";
/// let s = parse_unix_table(text);
/// assert_eq!((s[0].local.as_str(), s[0].state.as_str()), ("/run/dbus/system_bus_socket", "LISTEN"));
/// assert!(s[0].listening);
/// ```
pub fn parse_unix_table(text: &str) -> Vec<Socket> {
    const ACCEPTCON: u32 = 0x0001_0000;
    let mut out = Vec::new();
    for line in text.lines() {
        let mut it = line.split_ascii_whitespace();
        let (Some(num), Some(_refs), Some(_proto), Some(flags), Some(ty), Some(st), Some(inode)) = (
            it.next(),
            it.next(),
            it.next(),
            it.next(),
            it.next(),
            it.next(),
            it.next(),
        ) else {
            continue;
        };
        if !num.ends_with(':') {
            continue;
        }
        let (Ok(flags), Ok(ty), Ok(st), Ok(inode)) = (
            u32::from_str_radix(flags, 16),
            u16::from_str_radix(ty, 16),
            u8::from_str_radix(st, 16),
            inode.parse::<u64>(),
        ) else {
            continue;
        };
        // The path is the rest of the line after the inode (it may hold spaces).
        let local = after_fields(line, 7).trim_end().to_owned();
        let accepts = flags & ACCEPTCON != 0;
        let dgram = ty == 2;
        let listening = accepts || (dgram && st == 1 && !local.is_empty());
        let state = if accepts {
            "LISTEN"
        } else {
            match st {
                1 => "UNCONN",
                2 => "CONNECTING",
                3 => "ESTAB",
                4 => "DISCONNECTING",
                _ => "UNKNOWN",
            }
        };
        out.push(Socket {
            protocol: SocketProtocol::Unix,
            local,
            state: state.to_owned(),
            listening,
            inode,
        });
    }
    out
}

/// The inode of a descriptor link's text `socket:[INODE]` (pure); `None` for anything else.
///
/// ```
/// assert_eq!(apparmor::system::socket_inode("socket:[4711]"), Some(4711));
/// assert_eq!(apparmor::system::socket_inode("/dev/null"), None);
/// ```
pub fn socket_inode(link: &str) -> Option<u64> {
    link.strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

impl System {
    /// Reads every socket table under `<root>/proc/net`: the reader's network namespace.
    /// A table that is missing or unreadable (no IPv6, a fake tree with only some tables)
    /// is left out.
    pub fn sockets(&self) -> SocketTable {
        self.sockets_in(&self.path("/proc/net"))
    }

    /// Reads the socket tables of process `pid`'s network namespace
    /// (`<root>/proc/PID/net`); `None` when that directory cannot be read (the process
    /// exited, or a tree that has only `/proc/net`).
    pub fn sockets_of(&self, pid: u32) -> Option<SocketTable> {
        let dir = self.proc_dir().join(pid.to_string()).join("net");
        super::fs::kind(&self.root, &dir)
            .ok()
            .filter(|k| *k == super::fs::EntryKind::Dir)?;
        Some(self.sockets_in(&dir))
    }

    /// The network namespace of process `pid` as its `ns/net` link reads (`net:[4026531840]`),
    /// `None` when unreadable.
    pub fn net_namespace(&self, pid: u32) -> Option<String> {
        let link = self.proc_dir().join(pid.to_string()).join("ns/net");
        let t = super::fs::read_link(&self.root, &link).ok()?;
        t.to_str().map(str::to_owned)
    }

    /// Reads the socket tables of directory `dir` (a `/proc/net` under the root).
    fn sockets_in(&self, dir: &std::path::Path) -> SocketTable {
        let mut out = SocketTable::new();
        for p in SocketProtocol::ALL {
            let path = dir.join(p.as_str());
            let Ok(bytes) = super::fs::read_limited(&self.root, &path, NET_TABLE_LIMIT) else {
                continue;
            };
            let text = String::from_utf8_lossy(&bytes);
            let list = if p == SocketProtocol::Unix {
                parse_unix_table(&text)
            } else {
                parse_inet_table(p, &text)
            };
            for s in list {
                out.entry(s.inode).or_insert(s);
            }
        }
        out
    }

    /// The socket inodes process `pid` holds, from the `socket:[INODE]` links of
    /// `<root>/proc/PID/fd`, in ascending order without repeats. Descriptors whose link
    /// cannot be read (closed meanwhile) are skipped.
    ///
    /// # Errors
    /// The `fd` directory cannot be listed (the process exited, or permission).
    pub fn socket_inodes(&self, pid: u32) -> Result<Vec<u64>, SystemError> {
        let dir = self.proc_dir().join(pid.to_string()).join("fd");
        let entries =
            super::fs::read_dir(&self.root, &dir).map_err(|e| SystemError::io(&dir, e))?;
        let mut out: Vec<u64> = entries
            .iter()
            .filter_map(|e| {
                let link = super::fs::read_link(&self.root, &dir.join(&e.name)).ok()?;
                socket_inode(link.to_str()?)
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    /// The command line of process `pid` (`/proc/PID/cmdline` split at NULs, lossy UTF-8,
    /// the first 4 KiB), `None` when unreadable; empty for a kernel thread.
    pub fn cmdline(&self, pid: u32) -> Option<Vec<String>> {
        let path = self.proc_dir().join(pid.to_string()).join("cmdline");
        let bytes = match super::fs::read_limited(&self.root, &path, CMDLINE_LIMIT) {
            Ok(b) => b,
            // Longer than the cap: the first part is what is shown.
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                let f = super::fs::open_read(&self.root, &path, false).ok()?;
                let mut b = Vec::new();
                std::io::Read::read_to_end(&mut std::io::Read::take(f, CMDLINE_LIMIT), &mut b)
                    .ok()?;
                b
            }
            Err(_) => return None,
        };
        Some(
            bytes
                .split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect(),
        )
    }
}

/// Cap on a command line read.
const CMDLINE_LIMIT: u64 = 4096;

/// The text of `line` after its first `n` whitespace-separated fields (leading blanks
/// dropped).
fn after_fields(line: &str, n: usize) -> &str {
    let mut rest = line;
    for _ in 0..n {
        rest = rest.trim_start_matches([' ', '\t']);
        let end = rest.find([' ', '\t']).unwrap_or(rest.len());
        rest = &rest[end..];
    }
    rest.trim_start_matches([' ', '\t'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inet_addresses() {
        // 127.0.0.1 as the kernel prints it on a little-endian host.
        let lo = u32::from_ne_bytes([127, 0, 0, 1]);
        assert_eq!(
            inet_address(&format!("{lo:08X}:0050"), false).as_deref(),
            Some("127.0.0.1:80")
        );
        let mut f = String::new();
        for w in [0u32, 0, 0, u32::from_ne_bytes([0, 0, 0, 1])] {
            f.push_str(&format!("{w:08X}"));
        }
        assert_eq!(
            inet_address(&format!("{f}:0016"), true).as_deref(),
            Some("[::1]:22")
        );
        assert_eq!(inet_address("zz:1", false), None);
        assert_eq!(inet_address("00000000", false), None);
    }

    #[test]
    fn udp_unconnected_listens() {
        let t = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n  1: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 77 2 0000000000000000 0\n  2: 00000000:0045 01010101:0035 01 00000000:00000000 00:00000000 00000000     0        0 78 2 0000000000000000 0\nbad line\n";
        let s = parse_inet_table(SocketProtocol::Udp, t);
        assert_eq!(s.len(), 2);
        assert!(s[0].listening && !s[1].listening);
        assert_eq!(
            (s[0].state.as_str(), s[1].state.as_str()),
            ("UNCONN", "ESTAB")
        );
    }

    #[test]
    fn unix_kinds() {
        let t = "Num       RefCount Protocol Flags    Type St Inode Path\n\
                 0: 00000002 00000000 00010000 0001 01 10 /run/a b\n\
                 0: 00000002 00000000 00000000 0002 01 11 @journal\n\
                 0: 00000002 00000000 00000000 0001 03 12\n\
                 0: 00000002 00000000 00000000 0002 01 13\n";
        let s = parse_unix_table(t);
        let got: Vec<_> = s
            .iter()
            .map(|s| (s.inode, s.local.as_str(), s.state.as_str(), s.listening))
            .collect();
        assert_eq!(
            got,
            [
                (10, "/run/a b", "LISTEN", true),
                (11, "@journal", "UNCONN", true),
                (12, "", "ESTAB", false),
                (13, "", "UNCONN", false)
            ]
        );
        assert_eq!(socket_inode("socket:[x]"), None);
        assert_eq!(after_fields(" a  b c d", 2), "c d");
    }
}
