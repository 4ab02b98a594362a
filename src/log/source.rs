//! Where records come from: files (plain, rotated, gzip), stdin, the journal
//! (`journalctl -o json`), the kernel ring buffer (`dmesg`, else
//! `/dev/kmsg`), and auto-detection of the place this host's AppArmor
//! records go (pitfalls E-01, D-04, D-05).
//!
//! The host is a parameter ([`System`]): every path is taken under its root
//! (`/` for the running host; a snapshot directory in tests). The journal is
//! read with `journalctl --root ROOT` when the root is not `/`; the ring
//! buffer only exists for the running host.

use super::parse::AuditId;
use super::reader::{BufReadLines, LineMeta, LineSource, NextLine, read_line_bounded};
use super::record::Origin;
use crate::system::System;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};

/// Errors opening a source.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// A file could not be opened or read.
    #[error("{path}: {error}")]
    File {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        error: io::Error,
    },
    /// A helper program (`journalctl`, `dmesg`) could not be started.
    #[error("cannot run {program}: {error}")]
    Spawn {
        /// The program name.
        program: String,
        /// The I/O error.
        #[source]
        error: io::Error,
    },
    /// The kernel ring buffer is not readable.
    #[error("kernel ring buffer: {0}")]
    Kernel(String),
}

/// Options of a journal query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JournalQuery {
    /// `--boot`: `Some("")` for the current boot, `Some(ID)` for an offset or id.
    pub boot: Option<String>,
    /// `--since` as journalctl accepts it.
    pub since: Option<String>,
    /// `--until` as journalctl accepts it.
    pub until: Option<String>,
    /// Resume after this cursor (`--after-cursor`).
    pub after_cursor: Option<String>,
    /// Keep reading new entries (`--follow`); the read blocks while the
    /// journal is idle.
    pub follow: bool,
}

/// A log source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A file (`-` is standard input). gzip is detected by its magic bytes.
    File(PathBuf),
    /// The journal, kernel and audit transports, and the D-Bus daemons'
    /// own entries (see [`JournalLines::args`] and [`TrustedSenders`]).
    Journal(JournalQuery),
    /// The kernel ring buffer.
    Kernel,
}

impl Source {
    /// A short name for messages.
    pub fn describe(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Journal(_) => "journal".into(),
            Source::Kernel => "kernel ring buffer".into(),
        }
    }
}

/// Opens `source` on the host `sys` (file paths are used as given: they name
/// files of the reader, not of the inspected host).
pub fn open(source: &Source, sys: &System) -> Result<Box<dyn LineSource>, LogError> {
    let root = sys.root();
    match source {
        Source::File(p) if p.as_os_str() == "-" => {
            let stdin = io::stdin();
            Ok(Box::new(BufReadLines::new(
                maybe_gz(Box::new(BufReader::with_capacity(256 << 10, stdin))).map_err(
                    |error| LogError::File {
                        path: p.clone(),
                        error,
                    },
                )?,
                "-",
            )))
        }
        Source::File(p) => open_file_in(root, p),
        Source::Journal(q) => Ok(Box::new(JournalLines::spawn(q, root)?)),
        Source::Kernel => open_kernel(root),
    }
}

/// Opens a file (gzip-compressed or plain). A FIFO or character device
/// named explicitly is read as a stream (like `-`; opening a FIFO waits for
/// its writer); a directory is an error. Auto-detection never opens one
/// ([`detect`] and [`rotated_set`] keep regular files only).
pub fn open_file(p: &Path) -> Result<Box<dyn LineSource>, LogError> {
    let err = |error| LogError::File {
        path: p.to_path_buf(),
        error,
    };
    let f = File::open(p).map_err(err)?;
    if f.metadata().map_err(err)?.is_dir() {
        return Err(err(io::Error::other("is a directory")));
    }
    let r = maybe_gz(Box::new(BufReader::with_capacity(256 << 10, f))).map_err(err)?;
    Ok(Box::new(BufReadLines::new_bulk(r, p.display().to_string())))
}

/// Like [`open_file`] for a path found under `root` (a snapshot or fake tree): a
/// path below `root` is resolved inside it (a symlink out of the root is taken from
/// the root) and must be a regular file; any other path is opened as [`open_file`]
/// opens a file the user named.
///
/// # Errors
/// [`LogError::File`] naming the path.
pub fn open_file_in(root: &Path, p: &Path) -> Result<Box<dyn LineSource>, LogError> {
    if root == Path::new("/") || !p.starts_with(root) {
        return open_file(p);
    }
    let err = |error| LogError::File {
        path: p.to_path_buf(),
        error,
    };
    let f = crate::system::fs::open_read(root, p, false).map_err(err)?;
    let r = maybe_gz(Box::new(BufReader::with_capacity(256 << 10, f))).map_err(err)?;
    Ok(Box::new(BufReadLines::new_bulk(r, p.display().to_string())))
}

fn maybe_gz(mut r: Box<dyn BufRead>) -> io::Result<Box<dyn BufRead>> {
    let head = fill(&mut r)?;
    let gz = |r: Box<dyn BufRead>| -> Box<dyn BufRead> {
        Box::new(BufReader::with_capacity(
            256 << 10,
            flate2::bufread::MultiGzDecoder::new(r),
        ))
    };
    if head == [0x1f] {
        // a pipe may hand over the first byte alone: read the second
        // before deciding, and give the first back in front of the rest
        r.consume(1);
        let second = fill(&mut r)?.first().copied();
        let r: Box<dyn BufRead> = Box::new(io::Cursor::new([0x1f]).chain(r));
        return Ok(if second == Some(0x8b) { gz(r) } else { r });
    }
    Ok(if head.starts_with(&[0x1f, 0x8b]) {
        gz(r)
    } else {
        r
    })
}

/// `fill_buf`, retried when interrupted.
fn fill(r: &mut Box<dyn BufRead>) -> io::Result<&[u8]> {
    loop {
        match r.fill_buf() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // (re-borrowed: the loop's borrow ends with the error arm)
            Err(e) => return Err(e),
            Ok(_) => break,
        }
    }
    r.fill_buf()
}

/// `path` and its rotated siblings (`path.N`, `path.N.gz`, `path-DATE`,
/// `path-DATE.gz`), oldest first, `path` last. Only existing files; the
/// siblings only when they are regular files (never a FIFO or device).
pub fn rotated_set(path: &Path) -> Vec<PathBuf> {
    rotated_set_in(Path::new("/"), path)
}

/// Like [`rotated_set`] for a log under `root` (a snapshot or fake tree): the folder
/// is listed and each sibling's type told inside the root (docs/trust.md).
pub fn rotated_set_in(root: &Path, path: &Path) -> Vec<PathBuf> {
    use crate::system::fs;
    let (Some(dir), Some(base)) = (path.parent(), path.file_name().and_then(|b| b.to_str())) else {
        return vec![path.to_path_buf()];
    };
    let mut numbered: Vec<(u64, PathBuf)> = Vec::new();
    let mut dated: Vec<(String, PathBuf)> = Vec::new();
    if let Ok(rd) = fs::read_dir(root, dir) {
        for e in rd {
            let Some(name) = e.name.to_str() else {
                continue;
            };
            let Some(rest) = name.strip_prefix(base) else {
                continue;
            };
            let p = dir.join(name);
            // only regular files (symlinks followed inside the root): a FIFO or
            // device beside a log would block or never end
            if fs::kind(root, &p).ok() != Some(fs::EntryKind::File) {
                continue;
            }
            let rest = rest.strip_suffix(".gz").unwrap_or(rest);
            if let Some(n) = rest.strip_prefix('.').and_then(|n| n.parse::<u64>().ok()) {
                numbered.push((n, p));
            } else if let Some(d) = rest.strip_prefix('-')
                && !d.is_empty()
                && d.bytes().all(|b| b.is_ascii_digit())
            {
                dated.push((d.to_owned(), p));
            }
        }
    }
    numbered.sort_by_key(|n| std::cmp::Reverse(n.0));
    dated.sort();
    let mut out: Vec<PathBuf> = dated.into_iter().map(|d| d.1).collect();
    out.extend(numbered.into_iter().map(|n| n.1));
    if fs::kind(root, path).is_ok() {
        out.push(path.to_path_buf());
    }
    out
}

// ------------------------------------------------------------------ journal

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
        if let Ok(text) = std::fs::read_to_string(root.join("etc/passwd")) {
            for l in text.lines() {
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
    fn origin(&self, o: &serde_json::Map<String, serde_json::Value>) -> Origin {
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

/// Lines of `journalctl -o json`: each entry's MESSAGE with its cursor,
/// realtime stamp, (audit transport) audit id and origin.
pub struct JournalLines {
    child: Child,
    out: BufReader<ChildStdout>,
    json: Vec<u8>,
    index: u64,
    trusted: TrustedSenders,
    /// Entries whose JSON did not parse.
    pub bad_entries: u64,
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
        // kernel transport OR audit transport, OR entries that name
        // dbus-daemon (which anyone can) OR that come from a process called
        // dbus-daemon or dbus-broker: all are read and shown, and which are
        // the daemon's is decided on journald's trusted fields
        // (TrustedSenders)
        for m in [
            "_TRANSPORT=kernel",
            "_TRANSPORT=audit",
            "+",
            "SYSLOG_IDENTIFIER=dbus-daemon",
            "+",
            "_COMM=dbus-daemon",
            "_COMM=dbus-broker",
        ] {
            a.push(m.into());
        }
        a
    }

    /// Starts journalctl for the host under `root` (whose `etc/passwd`
    /// names the bus daemon's account, see [`TrustedSenders::of_host`]).
    pub fn spawn(q: &JournalQuery, root: &Path) -> Result<Self, LogError> {
        let mut child = Command::new("journalctl")
            .args(Self::args(q, root))
            .stdin(Stdio::null())
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
        })
    }
}

impl JournalLines {
    /// At the end of the output: journalctl's exit status, with its message
    /// when it failed (its stderr is small: read after stdout closed).
    fn finish(&mut self) -> io::Result<()> {
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
        "journal"
    }
}

// ------------------------------------------------------------------- kernel

fn open_kernel(root: &Path) -> Result<Box<dyn LineSource>, LogError> {
    if root != Path::new("/") {
        return Err(LogError::Kernel(format!(
            "the ring buffer belongs to the running kernel, not to {}",
            root.display()
        )));
    }
    // dmesg first (it handles permissions and formats); then /dev/kmsg.
    match Command::new("dmesg")
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output()
    {
        Ok(o) if o.status.success() => {
            return Ok(Box::new(BufReadLines::new(
                io::Cursor::new(o.stdout),
                "dmesg",
            )));
        }
        Ok(o) => {
            let msg = String::from_utf8_lossy(&o.stderr).trim().to_owned();
            return open_kmsg()
                .map_err(|e| LogError::Kernel(format!("dmesg failed ({msg}); /dev/kmsg: {e}")));
        }
        Err(_) => {}
    }
    open_kmsg().map_err(|e| LogError::Kernel(format!("dmesg not found; /dev/kmsg: {e}")))
}

fn open_kmsg() -> io::Result<Box<dyn LineSource>> {
    use std::os::unix::fs::OpenOptionsExt;
    // Non-blocking: a read at the end returns EAGAIN instead of waiting for new messages.
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open("/dev/kmsg")?;
    Ok(Box::new(BufReadLines::new(
        BufReader::with_capacity(64 << 10, KmsgReader(f)),
        "kmsg",
    )))
}

/// /dev/kmsg returns one record per read; EPIPE (records overwritten) is skipped.
struct KmsgReader(File);

impl Read for KmsgReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.0.read(buf) {
                Err(e) if e.raw_os_error() == Some(32) => continue,
                r => return r,
            }
        }
    }
}

// ---------------------------------------------------------------- detection

/// One place auto-detection looked at, and what it found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Looked {
    /// What was checked (a path, `journal`, `kernel ring buffer`, `auditd`).
    pub place: String,
    /// What was found (`missing`, `not readable: …`, `running (pid 812)`, …).
    pub finding: String,
}

/// The result of [`detect`]: sources to try in order, and the notes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Detected {
    /// Candidate sources in preference order; the caller reads them in turn
    /// and stops at the first that yields records.
    pub candidates: Vec<(Source, String)>,
    /// Everything that was checked.
    pub looked: Vec<Looked>,
    /// The pid of a running auditd, if any.
    pub auditd_pid: Option<u32>,
}

impl Detected {
    /// The explanation to print when no candidate held AppArmor records:
    /// where we looked and why each place gave nothing, including the auditd
    /// trap of pitfalls E-01.
    pub fn explain_empty(&self, tried: &[(String, String)]) -> String {
        let mut s = String::from("no AppArmor records found. Looked at:\n");
        for l in &self.looked {
            s.push_str(&format!("  {}: {}\n", l.place, l.finding));
        }
        for (place, result) in tried {
            s.push_str(&format!("  read {place}: {result}\n"));
        }
        if let Some(pid) = self.auditd_pid {
            s.push_str(&format!(
                "auditd is running (pid {pid}): it takes the kernel audit stream, so AppArmor \
                 records go to its log (see /etc/audit/auditd.conf) and not to the journal or \
                 the ring buffer, unless systemd-journald-audit.socket is enabled.\n"
            ));
        } else {
            s.push_str(
                "without auditd, AppArmor records go to the kernel log (journal kernel \
                 transport, kern.log, dmesg); none held any, so either nothing was denied or \
                 audit messages are rate-limited/suppressed (audit=0, printk ratelimit).\n",
            );
        }
        s
    }
}

fn auditd_pid(root: &Path) -> Option<u32> {
    use crate::system::fs;
    for p in ["run/auditd.pid", "var/run/auditd.pid"] {
        if let Ok(b) = fs::read_limited(root, &root.join(p), fs::limits::PAGE)
            && let Ok(pid) = String::from_utf8_lossy(&b).trim().parse::<u32>()
            && fs::kind(root, &root.join("proc").join(pid.to_string())).is_ok()
        {
            return Some(pid);
        }
    }
    None
}

/// Whether auto-detection may use `p`: a regular file (symlinks followed)
/// that opens for reading. A FIFO, socket, device or directory is refused
/// without opening it (opening a FIFO blocks until a writer appears); the
/// open is non-blocking in case one was swapped in meanwhile.
fn readable(root: &Path, p: &Path) -> Result<(), String> {
    match crate::system::fs::open_read(root, p, false) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err("missing".into()),
        Err(e) if e.kind() == io::ErrorKind::InvalidInput => {
            Err("not a regular file; not read".into())
        }
        Err(e) => Err(format!("not readable: {e}")),
    }
}

/// Finds where AppArmor records go on the host `sys`: auditd's log
/// when auditd runs (or its log exists), else the journal, else
/// syslog/kern.log/messages, else the ring buffer (running host only).
/// Paths are `sys.path("/var/log/audit/audit.log")` etc.
pub fn detect(sys: &System) -> Detected {
    let root = sys.root();
    let mut d = Detected {
        auditd_pid: auditd_pid(root),
        ..Detected::default()
    };
    d.looked.push(Looked {
        place: "auditd".into(),
        finding: match d.auditd_pid {
            Some(p) => format!("running (pid {p})"),
            None => "not running (no live pid in /run/auditd.pid)".into(),
        },
    });
    let audit_log = root.join("var/log/audit/audit.log");
    match readable(root, &audit_log) {
        Ok(()) => {
            for p in rotated_set_in(root, &audit_log) {
                d.candidates.push((Source::File(p), "auditd's log".into()));
            }
            d.looked.push(Looked {
                place: audit_log.display().to_string(),
                finding: "readable".into(),
            });
        }
        Err(e) => d.looked.push(Looked {
            place: audit_log.display().to_string(),
            finding: e,
        }),
    }
    let journal_dirs = ["var/log/journal", "run/log/journal"];
    if journal_dirs.iter().any(|j| {
        crate::system::fs::kind(root, &root.join(j)).ok() == Some(crate::system::fs::EntryKind::Dir)
    }) {
        d.candidates.push((
            Source::Journal(JournalQuery::default()),
            "journald (kernel and audit transports)".into(),
        ));
        d.looked.push(Looked {
            place: "journal".into(),
            finding: "present".into(),
        });
    } else {
        d.looked.push(Looked {
            place: "journal".into(),
            finding: "no /var/log/journal or /run/log/journal".into(),
        });
    }
    for f in ["var/log/syslog", "var/log/kern.log", "var/log/messages"] {
        let p = root.join(f);
        match readable(root, &p) {
            Ok(()) => {
                d.candidates
                    .push((Source::File(p.clone()), "syslog".into()));
                d.looked.push(Looked {
                    place: p.display().to_string(),
                    finding: "readable".into(),
                });
            }
            Err(e) => d.looked.push(Looked {
                place: p.display().to_string(),
                finding: e,
            }),
        }
    }
    if root == Path::new("/") {
        d.candidates
            .push((Source::Kernel, "kernel ring buffer".into()));
    } else {
        d.looked.push(Looked {
            place: "kernel ring buffer".into(),
            finding: "skipped (not the running host)".into(),
        });
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands over its data one byte in the first read, then the rest (a
    /// pipe whose writer wrote one byte first).
    struct Trickle(Vec<u8>, usize);

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = if self.1 == 0 { 1 } else { buf.len() };
            let n = n.min(self.0.len() - self.1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
            self.1 += n;
            Ok(n)
        }
    }

    #[test]
    fn gzip_detected_when_the_first_read_has_one_byte() {
        use std::io::Write;
        let text = b"type=AVC msg=audit(1.5:7): apparmor=\"DENIED\"\n";
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(text).unwrap();
        let gz = e.finish().unwrap();
        for (data, want) in [
            (gz.clone(), &text[..]),
            // a plain text starting with 0x1f: kept as it is
            (b"\x1fplain\n".to_vec(), &b"\x1fplain\n"[..]),
            (b"\x1f".to_vec(), &b"\x1f"[..]),
        ] {
            let r = maybe_gz(Box::new(BufReader::new(Trickle(data, 0)))).unwrap();
            let mut out = Vec::new();
            { r }.read_to_end(&mut out).unwrap();
            assert_eq!(out, want);
        }
    }

    #[test]
    fn journal_json_entry() {
        let j = br#"{"__CURSOR":"s=1;i=2","__REALTIME_TIMESTAMP":"1700000000123456","_AUDIT_ID":"45","MESSAGE":"AVC apparmor=\"DENIED\" operation=\"open\""}"#;
        let mut b = Vec::new();
        let t = TrustedSenders::default();
        let m = journal_entry(j, &mut b, 1, &t).unwrap();
        assert_eq!(b, br#"AVC apparmor="DENIED" operation="open""#);
        assert_eq!(m.cursor.as_deref(), Some("s=1;i=2"));
        assert_eq!(m.audit_id.unwrap().serial, 45);
        assert_eq!(m.audit_id.unwrap().msec, 123);
        let j = br#"{"MESSAGE":[65,86,67,32,255]}"#;
        let m = journal_entry(j, &mut b, 2, &t).unwrap();
        assert_eq!(b, b"AVC \xff");
        // no transport, no sender: nobody vouches for it
        assert_eq!(m.origin, Some(Origin::Untrusted));
    }

    #[test]
    fn journal_origin_from_trusted_fields_only() {
        let t = TrustedSenders {
            bus_uids: vec![0, 102],
        };
        let origin = |fields: &str| {
            let j = format!(r#"{{{fields},"MESSAGE":"apparmor=\"DENIED\" operation=\"open\""}}"#);
            journal_entry(j.as_bytes(), &mut Vec::new(), 1, &t)
                .unwrap()
                .origin
        };
        for (fields, want) in [
            (r#""_TRANSPORT":"kernel""#, Origin::Kernel),
            (
                r#""_TRANSPORT":"kernel","SYSLOG_FACILITY":"0""#,
                Origin::Kernel,
            ),
            // written to /dev/kmsg by user space (facility user)
            (
                r#""_TRANSPORT":"kernel","SYSLOG_FACILITY":"1""#,
                Origin::Untrusted,
            ),
            (r#""_TRANSPORT":"audit""#, Origin::Kernel),
            (
                r#""_TRANSPORT":"syslog","_COMM":"dbus-daemon","_EXE":"/usr/bin/dbus-daemon","_UID":"102""#,
                Origin::TrustedHelper,
            ),
            (
                r#""_TRANSPORT":"journal","_COMM":"dbus-broker","_EXE":"/usr/bin/dbus-broker","_UID":"0""#,
                Origin::TrustedHelper,
            ),
            (
                r#""_TRANSPORT":"stdout","_COMM":"dbus-daemon","_UID":"102""#,
                Origin::TrustedHelper,
            ),
            // a session bus (the user's own daemon)
            (
                r#""_TRANSPORT":"syslog","_COMM":"dbus-daemon","_EXE":"/usr/bin/dbus-daemon","_UID":"1000""#,
                Origin::Untrusted,
            ),
            // logger -t dbus-daemon: the identifier is the sender's claim
            (
                r#""_TRANSPORT":"syslog","SYSLOG_IDENTIFIER":"dbus-daemon","_COMM":"logger","_EXE":"/usr/bin/logger","_UID":"1000""#,
                Origin::Untrusted,
            ),
            (
                r#""_TRANSPORT":"syslog","SYSLOG_IDENTIFIER":"dbus-daemon","_COMM":"logger","_UID":"102""#,
                Origin::Untrusted,
            ),
            // a renamed process (prctl) whose executable is another
            (
                r#""_TRANSPORT":"syslog","_COMM":"dbus-daemon","_EXE":"/tmp/x","_UID":"102""#,
                Origin::Untrusted,
            ),
            (
                r#""_COMM":"dbus-daemon","_EXE":"/usr/bin/dbus-daemon""#,
                Origin::Untrusted,
            ),
            (r#""_TRANSPORT":"syslog""#, Origin::Untrusted),
        ] {
            assert_eq!(origin(fields), Some(want), "{fields}");
        }
    }

    #[test]
    fn bus_uids_from_passwd() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("etc")).unwrap();
        std::fs::write(
            d.path().join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\nmessagebus:x:102:104::/nonexistent:/usr/sbin/nologin\nuser:x:1000:1000::/home/user:/bin/sh\ndbus:x:81:81::/:/sbin/nologin\nbroken\n",
        )
        .unwrap();
        assert_eq!(TrustedSenders::of_host(d.path()).bus_uids, vec![0, 102, 81]);
        assert_eq!(
            TrustedSenders::of_host(&d.path().join("missing")).bus_uids,
            vec![0]
        );
    }

    #[test]
    fn journal_args_have_no_shell() {
        let a = JournalLines::args(
            &JournalQuery {
                boot: Some(String::new()),
                since: Some("1 hour ago".into()),
                ..Default::default()
            },
            Path::new("/"),
        );
        assert!(a.contains(&"--boot".to_string()));
        assert!(a.contains(&"--since=1 hour ago".to_string()));
        assert!(a.contains(&"_TRANSPORT=audit".to_string()));
        assert!(a.contains(&"_COMM=dbus-daemon".to_string()));
    }
}
