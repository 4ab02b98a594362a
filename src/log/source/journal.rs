//! The systemd journal through `journalctl -o json`, one entry per line,
//! and the senders whose journal entries are trusted.

use super::{JournalQuery, LogError};
use crate::log::parse::AuditId;
use crate::log::reader::{LineMeta, LineSource, NextLine, read_line_bounded};
use crate::log::record::Origin;
use std::io::{self, BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};

/// Which journal entries count as a D-Bus daemon's ([`Origin::TrustedHelper`]).
///
/// journald records who sent an entry in fields whose names start with `_`,
/// taken from the kernel (the socket's credentials, /proc) and never from
/// the sender; `SYSLOG_IDENTIFIER` is whatever the sender wrote, so any
/// user can claim to be `dbus-daemon` with it. An entry is the daemon's
/// when its `_EXE` (or, without one, `_COMM`) is `dbus-daemon` or
/// `dbus-broker` and its `_UID` is one the system bus runs as: root or the
/// host's bus account. A session bus, which runs as the user, is not
/// trusted: the user controls it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedSenders {
    /// The uids the system bus daemon may run as.
    pub bus_uids: Vec<u32>,
}

/// The accounts distributions run the system bus as: `messagebus` (Debian,
/// Ubuntu, SUSE), `dbus` (Fedora, Arch).
const BUS_ACCOUNTS: [&str; 2] = ["messagebus", "dbus"];

impl TrustedSenders {
    /// Root and the bus accounts (`messagebus`, `dbus`) found in `etc/passwd`
    /// under `root` (the host's, or a snapshot's). Only root when the file
    /// cannot be read or names neither account (the daemon's entries are
    /// then untrusted: shown, marked, not written without asking).
    pub fn of_host(root: &Path) -> Self {
        let mut bus_uids = vec![0];
        // Read inside the root like every file of a snapshot (docs/trust.md).
        let passwd = crate::system::fs::read_limited(
            root,
            root.join("etc/passwd"),
            crate::system::fs::limits::PROC_TEXT,
        );
        if let Ok(bytes) = passwd {
            for l in String::from_utf8_lossy(&bytes).lines() {
                let mut f = l.split(':');
                if let (Some(name), Some(_), Some(uid)) = (f.next(), f.next(), f.next())
                    && BUS_ACCOUNTS.contains(&name)
                    && let Ok(uid) = uid.parse::<u32>()
                    && !bus_uids.contains(&uid)
                {
                    bus_uids.push(uid);
                }
            }
        }
        TrustedSenders { bus_uids }
    }

    /// The origin of a journal entry (`o`, journalctl's JSON object), from
    /// journald's trusted fields only: the kernel and audit transports are
    /// the kernel's (a kernel-transport message of another facility was
    /// written to /dev/kmsg by user space), an entry of a bus daemon
    /// running as a bus uid is a trusted helper's, anything else is
    /// untrusted.
    pub(super) fn origin(&self, o: &serde_json::Map<String, serde_json::Value>) -> Origin {
        let field = |k: &str| o.get(k).and_then(|v| v.as_str());
        match field("_TRANSPORT") {
            Some("audit") => return Origin::Kernel,
            Some("kernel") => {
                return if field("SYSLOG_FACILITY").is_none_or(|f| f == "0") {
                    Origin::Kernel
                } else {
                    Origin::Untrusted
                };
            }
            _ => {}
        }
        let is_bus = |name: &str| matches!(name, "dbus-daemon" | "dbus-broker");
        let named = match field("_EXE") {
            Some(exe) => is_bus(exe.rsplit('/').next().unwrap_or(exe)),
            None => field("_COMM").is_some_and(is_bus),
        };
        let uid = field("_UID").and_then(|u| u.parse::<u32>().ok());
        if named && uid.is_some_and(|u| self.bus_uids.contains(&u)) {
            Origin::TrustedHelper
        } else {
            Origin::Untrusted
        }
    }
}

/// The first bytes of a systemd journal file.
pub const JOURNAL_MAGIC: &[u8; 8] = b"LPKSHHRH";

/// The journal matches of every read: kernel transport OR audit transport, OR
/// entries that name dbus-daemon (which anyone can) OR that come from a process
/// called dbus-daemon or dbus-broker. All are read and shown; which are the
/// daemon's is decided on journald's trusted fields ([`TrustedSenders`]).
const MATCHES: [&str; 7] = [
    "_TRANSPORT=kernel",
    "_TRANSPORT=audit",
    "+",
    "SYSLOG_IDENTIFIER=dbus-daemon",
    "+",
    "_COMM=dbus-daemon",
    "_COMM=dbus-broker",
];

/// Lines of `journalctl -o json`: each entry's MESSAGE with its cursor,
/// realtime stamp, (audit transport) audit id and origin.
pub struct JournalLines {
    pub(super) child: Child,
    pub(super) out: BufReader<ChildStdout>,
    pub(super) json: Vec<u8>,
    pub(super) index: u64,
    pub(super) trusted: TrustedSenders,
    /// Entries whose JSON did not parse.
    pub bad_entries: u64,
    /// The source name: `journal`, or the path of a journal file.
    pub(super) name: String,
}

impl JournalLines {
    /// The arguments given to journalctl for `q` and `root` (no shell).
    pub fn args(q: &JournalQuery, root: &Path) -> Vec<String> {
        let mut a: Vec<String> = vec!["-o".into(), "json".into(), "--no-pager".into(), "-q".into()];
        if root != Path::new("/") {
            a.push(format!("--root={}", root.display()));
        }
        if let Some(b) = &q.boot {
            if b.is_empty() {
                a.push("--boot".into());
            } else {
                a.push(format!("--boot={b}"));
            }
        }
        if let Some(s) = &q.since {
            a.push(format!("--since={s}"));
        }
        if let Some(u) = &q.until {
            a.push(format!("--until={u}"));
        }
        if let Some(c) = &q.after_cursor {
            a.push(format!("--after-cursor={c}"));
        }
        if q.follow {
            a.push("--follow".into());
        }
        a.extend(MATCHES.map(String::from));
        a
    }

    /// The arguments given to journalctl to read the journal file open as its
    /// standard input (see [`JournalLines::spawn_file`]).
    pub fn file_args() -> Vec<String> {
        let mut a: Vec<String> = vec![
            "--file=/proc/self/fd/0".into(),
            "-o".into(),
            "json".into(),
            "--no-pager".into(),
            "-q".into(),
        ];
        a.extend(MATCHES.map(String::from));
        a
    }

    /// Starts journalctl for the host under `root` (whose `etc/passwd`
    /// names the bus daemon's account, see [`TrustedSenders::of_host`]).
    pub fn spawn(q: &JournalQuery, root: &Path) -> Result<Self, LogError> {
        Self::start(Self::args(q, root), Stdio::null(), root, "journal".into())
    }

    /// Reads a journal file (one whose header starts with [`JOURNAL_MAGIC`]),
    /// already open as `file`, through `journalctl --file`: the file is handed
    /// over as journalctl's standard input and named by its descriptor, so
    /// journalctl reads the very file that was opened (under a root, the one
    /// found inside it). The senders are trusted as on the host under `root`.
    /// `path` is the file's name in provenance and messages.
    pub fn spawn_file(file: std::fs::File, path: &Path, root: &Path) -> Result<Self, LogError> {
        let name = path.display().to_string();
        Self::start(Self::file_args(), Stdio::from(file), root, name)
    }

    fn start(args: Vec<String>, stdin: Stdio, root: &Path, name: String) -> Result<Self, LogError> {
        let mut child = Command::new("journalctl")
            .args(args)
            // its messages are passed on; the output is JSON whatever the locale
            .env("LC_ALL", "C")
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|error| LogError::Spawn {
                program: "journalctl".into(),
                error,
            })?;
        let out = child.stdout.take().ok_or_else(|| LogError::Spawn {
            program: "journalctl".into(),
            error: io::Error::other("no stdout"),
        })?;
        Ok(JournalLines {
            child,
            out: BufReader::with_capacity(256 << 10, out),
            json: Vec::new(),
            index: 0,
            trusted: TrustedSenders::of_host(root),
            bad_entries: 0,
            name,
        })
    }
}

impl JournalLines {
    /// At the end of the output: journalctl's exit status, with its message
    /// when it failed (its stderr is small: read after stdout closed).
    pub(super) fn finish(&mut self) -> io::Result<()> {
        let mut msg = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut msg);
        }
        let status = self.child.wait()?;
        if status.success() {
            Ok(())
        } else {
            Err(io::Error::other(format!(
                "journalctl failed ({status}): {}",
                msg.trim()
            )))
        }
    }
}

impl Drop for JournalLines {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Converts one `journalctl -o json` entry into a line and its metadata,
/// with the origin `trusted` gives it (from journald's trusted fields, see
/// [`TrustedSenders`]). MESSAGE may be a string or an array of bytes
/// (non-UTF-8 messages).
pub fn journal_entry(
    json: &[u8],
    buf: &mut Vec<u8>,
    index: u64,
    trusted: &TrustedSenders,
) -> Option<LineMeta> {
    let v: serde_json::Value = serde_json::from_slice(json).ok()?;
    let o = v.as_object()?;
    buf.clear();
    match o.get("MESSAGE")? {
        serde_json::Value::String(s) => buf.extend_from_slice(s.as_bytes()),
        serde_json::Value::Array(a) => {
            buf.extend(a.iter().filter_map(|b| b.as_u64()).map(|b| b as u8))
        }
        _ => return None,
    }
    let num = |k: &str| {
        o.get(k)
            .and_then(|v| v.as_str())
            .and_then(|s| s.parse::<u64>().ok())
    };
    let realtime = num("_SOURCE_REALTIME_TIMESTAMP").or_else(|| num("__REALTIME_TIMESTAMP"));
    let audit_id = match (num("_AUDIT_ID"), realtime) {
        (Some(serial), Some(us)) => Some(AuditId {
            epoch: us / 1_000_000,
            msec: ((us % 1_000_000) / 1000) as u32,
            serial,
        }),
        _ => None,
    };
    // The audit transport stores `TYPE fields`; give it back its type name
    // when journald kept only the number.
    Some(LineMeta {
        line: index,
        cursor: o
            .get("__CURSOR")
            .and_then(|c| c.as_str())
            .map(str::to_owned),
        realtime_usec: realtime,
        audit_id,
        plain: false,
        origin: Some(trusted.origin(o)),
    })
}

impl LineSource for JournalLines {
    fn next_line(&mut self, buf: &mut Vec<u8>, max: usize) -> io::Result<Option<NextLine>> {
        loop {
            let mut json = std::mem::take(&mut self.json);
            let r = read_line_bounded(&mut self.out, &mut json, max.saturating_mul(8));
            let r = match r {
                Ok(r) => r,
                Err(e) => {
                    self.json = json;
                    return Err(e);
                }
            };
            let Some(over) = r else {
                self.json = json;
                return self.finish().map(|()| None);
            };
            self.index += 1;
            if over {
                self.json = json;
                return Ok(Some(NextLine::Oversized(LineMeta {
                    line: self.index,
                    ..LineMeta::default()
                })));
            }
            let meta = journal_entry(&json, buf, self.index, &self.trusted);
            self.json = json;
            match meta {
                Some(m) => return Ok(Some(NextLine::Line(m))),
                None => self.bad_entries += 1,
            }
        }
    }

    fn name(&self) -> &str {
        &self.name
    }
}
