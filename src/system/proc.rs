//! Processes: `/proc/PID/attr/{apparmor/,}current`, `exe`, `comm` (docs/runtime.md, "Process
//! labels"), read through `procfs` under the system root.

use super::{System, SystemError};
use crate::label::{Label, LabelError};
use std::collections::HashMap;
use std::io::Read;

/// Which `/proc/PID/attr` file holds AppArmor's label, decided once per scan the way
/// libapparmor does (docs/runtime.md, "Process labels").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrInterface {
    /// `attr/apparmor/current` (the LSM-specific directory exists for our own task), falling
    /// back to `attr/current` when that fails and AppArmor is not disabled.
    Apparmor,
    /// The shared `attr/current` (`parameters/enabled` is `Y`, no LSM-specific directory).
    Shared,
    /// `enabled` unreadable for lack of permission: try the LSM-specific file, then the shared one.
    TryBoth,
    /// AppArmor disabled and no private interface: no label can be read.
    Unavailable,
}

/// What to read for each process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessScan {
    /// Read the `exe` link.
    pub exe: bool,
    /// Canonicalise the `exe` link target like `realpath(3)` (only on the host root; a
    /// snapshot stores targets already resolved). Falls back to the link text.
    pub canonicalize_exe: bool,
    /// With `exe`: read the link only for processes whose label names
    /// `unconfined` (the only ones whose executable a caller asks about when
    /// it counts unconfined processes that have a profile); saves a
    /// `readlink` per confined process.
    pub exe_only_unconfined: bool,
    /// Read `comm`.
    pub comm: bool,
    /// Leave out processes whose label cannot be read (kernel threads with unreadable
    /// attributes, vanished tasks), without reading anything else for them.
    pub skip_unlabelled: bool,
    /// Worker threads reading `/proc/PID` entries in parallel (results keep /proc order);
    /// 0 = one per CPU, at most 4. The default is 1: procfs's iterator opens each entry
    /// under the shared lock, and on the 20,000-process benchmark 4 workers were 1.26x
    /// slower than one (scripts/bench-status).
    pub threads: usize,
    /// Also tell kernel threads ([`Process::kernel_thread`], from `stat`'s flags; in a
    /// snapshot without `stat`, an unconfined process without an `exe` link), drop processes that
    /// vanish between the listing and the reading (their `stat` is gone), and say why an
    /// attribute is unreadable ([`Process::unreadable`]). Costs a read of `stat` per
    /// process; off by default.
    pub kinds: bool,
}

impl Default for ProcessScan {
    /// Everything: exe (canonicalised, for every process), comm, and unlabelled processes
    /// too; one thread.
    fn default() -> Self {
        ProcessScan {
            exe: true,
            canonicalize_exe: true,
            exe_only_unconfined: false,
            kinds: false,
            comm: true,
            skip_unlabelled: false,
            threads: 1,
        }
    }
}

/// One process as read from `/proc/PID`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Process {
    /// The process id.
    pub pid: u32,
    /// The AppArmor attribute text (`current`) exactly as read (normally the label and
    /// `\n`), lossy UTF-8; `None` when it could not be read. An empty string means an empty
    /// file, which libapparmor reads as "no label, no mode".
    pub context: Option<String>,
    /// The executable: the canonical path when requested and resolvable, else the `exe` link
    /// text (`/usr/bin/foo (deleted)`, a relative text); `None` when the link cannot be read
    /// (kernel threads, permission).
    pub exe: Option<String>,
    /// The command name (`comm`, newline dropped), when read.
    pub comm: Option<String>,
    /// A kernel thread (only told with [`ProcessScan::kinds`]; `false` otherwise).
    pub kernel_thread: bool,
    /// Why the attribute could not be read (`permission denied`), when it could not and
    /// [`ProcessScan::kinds`] was asked for.
    pub unreadable: Option<String>,
}

impl Process {
    /// The label, split strictly (`aa_splitcon`): `None` when the attribute was unreadable,
    /// `Some(Err)` when it does not split (`---`, `:ns:unconfined`, another LSM's context).
    /// An empty attribute gives `Some(Err(LabelError::Empty))`; aa-status treats that task as
    /// unconfined (but not one holding just `\n`, which does not split).
    pub fn label(&self) -> Option<Result<Label, LabelError>> {
        self.context.as_deref().map(Label::split_con)
    }
}

fn read_small(p: &procfs::process::Process, rel: &str) -> Option<Vec<u8>> {
    // O_NONBLOCK: a FIFO in a fake /proc must not hang the scan (no effect on procfs files).
    let f = p
        .open_relative_flags(
            rel,
            rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC | rustix::fs::OFlags::NONBLOCK,
        )
        .ok()?;
    read_small_file(f)
}

/// Reads a small `/proc` file opened as `f` (see [`read_small`]).
pub(super) fn read_small_file(mut f: std::fs::File) -> Option<Vec<u8>> {
    // a page would do for anything procfs writes here; 1 KiB holds `stat` (some 300 bytes)
    let mut stack = [0u8; 1024];
    let mut len = 0;
    loop {
        match f.read(&mut stack[len..]) {
            Ok(0) => {
                if len == 0 {
                    // Empty: a real empty attribute, or a FIFO/device in a fake /proc.
                    super::check_regular(&f).ok()?;
                }
                return Some(stack[..len].to_vec());
            }
            Ok(n) => {
                len += n;
                // procfs attributes arrive in one read ending in a newline; skip the EOF read.
                if len < stack.len() && stack[len - 1] == b'\n' {
                    return Some(stack[..len].to_vec());
                }
                if len == stack.len() {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    // Longer than the stack buffer: make sure it is a file (not a device such as /dev/zero
    // in a fake /proc), then read the rest into a vector, at most a page in all (the kernel
    // never writes more; a larger file is unreadable).
    super::check_regular(&f).ok()?;
    let mut buf = stack.to_vec();
    let rest = super::fs::limits::PAGE - stack.len() as u64;
    (&mut f).take(rest + 1).read_to_end(&mut buf).ok()?;
    if buf.len() as u64 > super::fs::limits::PAGE {
        return None;
    }
    Some(buf)
}

fn lossy(b: Vec<u8>) -> String {
    match String::from_utf8(b) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

fn attr_text(mut b: Vec<u8>) -> String {
    if matches!(b.last(), Some(b'\n') | Some(0)) {
        b.pop();
    }
    match String::from_utf8(b) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

impl System {
    /// Decides which attribute file to read (docs/runtime.md): `<root>/proc/<own pid>/attr/apparmor`
    /// exists (or is EACCES) → [`AttrInterface::Apparmor`]; else by `parameters/enabled`.
    pub fn attr_interface(&self) -> AttrInterface {
        let own = self
            .proc_dir()
            .join(std::process::id().to_string())
            .join("attr/apparmor");
        match super::fs::kind(&self.root, &own) {
            Ok(_) => return AttrInterface::Apparmor,
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                return AttrInterface::Apparmor;
            }
            Err(_) => {}
        }
        let first = |n: &str| {
            crate::system::fs::read_limited(
                &self.root,
                self.parameter_path(n),
                super::fs::limits::PAGE,
            )
            .map(|b| b.first().copied())
        };
        match first("enabled") {
            Ok(Some(b'N')) => {
                if matches!(first("available"), Ok(Some(b'Y'))) {
                    AttrInterface::Apparmor
                } else {
                    AttrInterface::Unavailable
                }
            }
            Ok(Some(b'Y')) => AttrInterface::Shared,
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => AttrInterface::TryBoth,
            _ => AttrInterface::Unavailable,
        }
    }

    /// The `comm` of process `pid` (newline dropped), read as a scan reads it
    /// ([`ProcessScan::comm`]); `None` when it cannot be read.
    pub fn process_comm(&self, pid: u32) -> Option<String> {
        let path = self.proc_dir().join(pid.to_string()).join("comm");
        let bytes = if self.is_host() {
            use rustix::fs::{Mode, OFlags};
            let f = rustix::fs::open(
                &path,
                OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .ok()?;
            read_small_file(std::fs::File::from(f))
        } else {
            super::fs::read_limited(&self.root, &path, super::fs::limits::PAGE).ok()
        };
        bytes.map(attr_text)
    }

    /// Lists the processes under `<root>/proc` with `procfs::process::all_processes_with_root`,
    /// in directory order (ascending PIDs on procfs). A process that vanishes or denies access
    /// mid-scan (ENOENT, ESRCH, EACCES) is skipped or has `None` fields; never fatal.
    ///
    /// # Errors
    /// Only when `<root>/proc` itself cannot be listed.
    pub fn processes(&self, scan: &ProcessScan) -> Result<Vec<Process>, SystemError> {
        let mut out = Vec::new();
        self.scan_processes(scan, |p| out.push(p))?;
        Ok(out)
    }

    /// Like [`System::processes`], handing each process to `f` as it is read instead of
    /// collecting them (constant memory beyond what `f` keeps).
    ///
    /// # Errors
    /// Only when `<root>/proc` itself cannot be listed.
    pub fn scan_processes(
        &self,
        scan: &ProcessScan,
        mut f: impl FnMut(Process),
    ) -> Result<(), SystemError> {
        let proc_dir = self.proc_dir();
        let reader = Reader {
            iface: self.attr_interface(),
            enabled_n: matches!(
                crate::system::fs::read_limited(
                    &self.root,
                    self.parameter_path("enabled"),
                    super::fs::limits::PAGE
                )
                .map(|b| b.first().copied()),
                Ok(Some(b'N'))
            ),
            canonicalize: scan.canonicalize_exe && self.is_host(),
            procfs: self.is_host(),
            scan: *scan,
        };
        if !self.is_host() {
            // A snapshot or fake tree: every read resolved inside the root (see `fs`).
            return self.scan_rooted(&reader, &proc_dir, f);
        }
        let threads = match scan.threads {
            0 => std::thread::available_parallelism()
                .map(|n| n.get().min(4))
                .unwrap_or(1),
            n => n,
        };
        // realpath(3) of each distinct link target, once (single-threaded, after the reads).
        let mut cache: HashMap<String, Option<String>> = HashMap::new();
        let mut resolve = |mut p: Process| {
            if reader.canonicalize
                && let Some(text) = p.exe.take()
            {
                p.exe = Some(if text.starts_with('/') {
                    cache
                        .entry(text.clone())
                        .or_insert_with(|| {
                            std::fs::canonicalize(&text)
                                .ok()
                                .map(|r| r.to_string_lossy().into_owned())
                        })
                        .clone()
                        .unwrap_or(text)
                } else {
                    text
                });
            }
            f(p)
        };
        if threads <= 1 {
            // One thread: each file opened by its path (`/proc/PID/attr/current`), not
            // through a folder descriptor per process, which cost an open and a close more
            // for each of thousands of processes. Folders in readdir order, as procfs
            // lists them.
            // Paths are taken from a descriptor of /proc (`PID/attr/current`): the kernel
            // walks two components fewer per file than from `/`.
            let entries = super::fs::read_dir(&self.root, &proc_dir)
                .map_err(|e| SystemError::io(&proc_dir, e))?;
            let dir = rustix::fs::open(
                &proc_dir,
                rustix::fs::OFlags::PATH
                    | rustix::fs::OFlags::DIRECTORY
                    | rustix::fs::OFlags::CLOEXEC,
                rustix::fs::Mode::empty(),
            )
            .map_err(|e| SystemError::io(&proc_dir, e.into()))?;
            let mut path = String::new();
            for e in entries {
                if e.kind != Some(super::fs::EntryKind::Dir) {
                    continue;
                }
                let Some(pid) = e.name.to_str().and_then(|n| n.parse::<i32>().ok()) else {
                    continue;
                };
                let base = format!("{pid}/");
                if let Some(p) = reader.read_path(&dir, pid, &base, &mut path) {
                    resolve(p);
                }
            }
            return Ok(());
        }
        let iter = procfs::process::all_processes_with_root(&proc_dir)
            .map_err(|e| SystemError::io(&proc_dir, std::io::Error::other(e.to_string())))?;
        // Workers take directory entries in turn; results are put back in /proc order.
        let shared = std::sync::Mutex::new((iter, 0usize));
        let parts: Vec<Vec<(usize, Process)>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        let mut local = Vec::new();
                        let mut batch = Vec::with_capacity(BATCH);
                        loop {
                            // Take a batch of entries under the lock (few futex calls).
                            {
                                let mut g = shared.lock().unwrap_or_else(|e| e.into_inner());
                                for _ in 0..BATCH {
                                    let Some(item) = g.0.next() else { break };
                                    g.1 += 1;
                                    batch.push((g.1, item));
                                }
                            }
                            if batch.is_empty() {
                                break;
                            }
                            for (idx, item) in batch.drain(..) {
                                if let Ok(p) = item
                                    && let Some(p) = reader.read(&p)
                                {
                                    local.push((idx, p));
                                }
                            }
                        }
                        local
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_default())
                .collect()
        });
        let mut all: Vec<(usize, Process)> = parts.into_iter().flatten().collect();
        all.sort_unstable_by_key(|(i, _)| *i);
        for (_, p) in all {
            resolve(p);
        }
        Ok(())
    }
}

/// Directory entries a worker takes at once.
const BATCH: usize = 64;

/// The kernel's flag for a kernel thread in `stat`'s flags field.
const PF_KTHREAD: u64 = 0x0020_0000;

/// The flags field (the ninth) of `/proc/PID/stat` text; `comm` may hold spaces and
/// parentheses, so fields are counted after the last `)`.
fn stat_flags(stat: &[u8]) -> Option<u64> {
    let close = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(&stat[close + 1..]).ok()?;
    rest.split_ascii_whitespace().nth(6)?.parse().ok()
}

/// The task name of `/proc/PID/stat` text: between the `(` after the pid and the last `)`
/// (the name may hold spaces, parentheses and line breaks).
fn stat_comm(stat: &[u8]) -> Option<String> {
    let open = stat.iter().position(|&b| b == b'(')?;
    let close = stat.iter().rposition(|&b| b == b')')?;
    (open < close).then(|| lossy(stat[open + 1..close].to_vec()))
}

/// True when `e` says the process is gone (ENOENT, or ESRCH from a task that exited while
/// its files were open).
fn vanished(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::NotFound || e.raw_os_error() == Some(3)
}

/// Per-scan settings shared by the workers.
struct Reader {
    iface: AttrInterface,
    enabled_n: bool,
    canonicalize: bool,
    /// Reading the kernel's procfs (the host), not a snapshot or fake tree.
    procfs: bool,
    scan: ProcessScan,
}

impl System {
    /// Lists `<root>/proc` of a snapshot or fake tree: only real directories with a
    /// number for a name (a symlinked `PID` entry is left out), each file read inside the
    /// root with the usual caps, the `exe` link read and never followed.
    fn scan_rooted(
        &self,
        reader: &Reader,
        proc_dir: &std::path::Path,
        mut f: impl FnMut(Process),
    ) -> Result<(), SystemError> {
        let root = self.root();
        let entries =
            super::fs::read_dir(root, proc_dir).map_err(|e| SystemError::io(proc_dir, e))?;
        let mut pids: Vec<u32> = entries
            .iter()
            .filter(|e| e.kind == Some(super::fs::EntryKind::Dir))
            .filter_map(|e| e.name.to_str()?.parse::<u32>().ok())
            .filter(|&p| p != 0)
            .collect();
        pids.sort_unstable();
        for pid in pids {
            // Each file is opened by its path, resolved inside the root (one
            // open per file: a folder descriptor per PID would cost one more
            // open and close for each of 20,000 processes).
            let dir = proc_dir.join(pid.to_string());
            let file = |rel: &str| {
                super::fs::read_limited(root, dir.join(rel), super::fs::limits::PAGE).ok()
            };
            let exe = || {
                super::fs::read_link(root, &dir.join("exe"))
                    .ok()
                    .map(|t| t.into_os_string().to_string_lossy().into_owned())
            };
            let probe = |rel: &str| {
                super::fs::read_limited(root, dir.join(rel), super::fs::limits::PAGE).err()
            };
            // a snapshot keeps no `stat`: a process is gone when its folder is
            let gone = || {
                super::fs::kind(root, &dir).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
            };
            if let Some(p) = reader.read_with(pid, file, exe, probe, gone) {
                f(p);
            }
        }
        Ok(())
    }
}

impl Reader {
    /// [`Reader::read`] for the folder `base` (`PID/`, with the slash, under the /proc
    /// descriptor `dir`) of process `pid`, each file opened by its path (`path`: a buffer
    /// for it).
    fn read_path(
        &self,
        dir: &std::os::fd::OwnedFd,
        pid: i32,
        base: &str,
        path: &mut String,
    ) -> Option<Process> {
        use rustix::fs::{Mode, OFlags};
        let pid = u32::try_from(pid).ok().filter(|&pid| pid != 0)?;
        let open = |rel: &str, flags: OFlags| {
            let mut path = String::with_capacity(base.len() + rel.len());
            path.push_str(base);
            path.push_str(rel);
            rustix::fs::openat(dir, path.as_str(), flags | OFlags::CLOEXEC, Mode::empty())
                .map(std::fs::File::from)
                .map_err(|e| std::io::Error::from_raw_os_error(e.raw_os_error()))
        };
        let flags = OFlags::RDONLY | OFlags::NONBLOCK;
        path.clear();
        path.push_str(base);
        path.push_str("exe");
        let exe_path: &str = path;
        self.read_with(
            pid,
            |rel| read_small_file(open(rel, flags).ok()?),
            || {
                use std::os::unix::ffi::OsStringExt;
                rustix::fs::readlinkat(dir, exe_path, Vec::new())
                    .ok()
                    .map(|t| {
                        std::ffi::OsString::from_vec(t.into_bytes())
                            .to_string_lossy()
                            .into_owned()
                    })
            },
            |rel| open(rel, flags).err(),
            || open("stat", OFlags::RDONLY).is_err_and(|e| vanished(&e)),
        )
    }

    fn read(&self, p: &procfs::process::Process) -> Option<Process> {
        let pid = u32::try_from(p.pid()).ok().filter(|&pid| pid != 0)?;
        self.read_with(
            pid,
            |rel| read_small(p, rel),
            || {
                p.exe()
                    .ok()
                    .map(|t| t.into_os_string().to_string_lossy().into_owned())
            },
            |rel| {
                p.open_relative_flags(
                    rel,
                    rustix::fs::OFlags::RDONLY
                        | rustix::fs::OFlags::CLOEXEC
                        | rustix::fs::OFlags::NONBLOCK,
                )
                .err()
                .map(|e| match e {
                    procfs::ProcError::PermissionDenied(_) => {
                        std::io::Error::from(std::io::ErrorKind::PermissionDenied)
                    }
                    procfs::ProcError::NotFound(_) => {
                        std::io::Error::from(std::io::ErrorKind::NotFound)
                    }
                    procfs::ProcError::Io(e, _) => e,
                    other => std::io::Error::other(other.to_string()),
                })
            },
            || match p.open_relative_flags("stat", rustix::fs::OFlags::RDONLY) {
                Ok(_) => false,
                Err(procfs::ProcError::NotFound(_)) => true,
                Err(procfs::ProcError::Io(e, _)) => vanished(&e),
                Err(_) => false,
            },
        )
    }

    /// One process from its files: `file(REL)` reads `/proc/PID/REL`, `exe()` the link.
    fn read_with(
        &self,
        pid: u32,
        file: impl Fn(&str) -> Option<Vec<u8>>,
        exe: impl FnOnce() -> Option<String>,
        probe: impl Fn(&str) -> Option<std::io::Error>,
        gone: impl Fn() -> bool,
    ) -> Option<Process> {
        let read_small = |rel: &str| file(rel);
        let stat = if self.scan.kinds {
            match read_small("stat") {
                Some(b) => Some(b),
                // gone between the listing and now: not a process any more
                None if gone() => return None,
                None => None,
            }
        } else {
            None
        };
        let attr_file = match self.iface {
            AttrInterface::Apparmor | AttrInterface::TryBoth => Some("attr/apparmor/current"),
            AttrInterface::Shared => Some("attr/current"),
            AttrInterface::Unavailable => None,
        };
        let attr = match self.iface {
            AttrInterface::Apparmor | AttrInterface::TryBoth => read_small("attr/apparmor/current")
                .or_else(|| {
                    if self.enabled_n {
                        None
                    } else {
                        read_small("attr/current")
                    }
                }),
            AttrInterface::Shared => read_small("attr/current"),
            AttrInterface::Unavailable => None,
        };
        let context = attr.map(lossy);
        if context.is_none() && self.scan.skip_unlabelled {
            return None;
        }
        let mut unreadable = None;
        if context.is_none()
            && self.scan.kinds
            && let Some(rel) = attr_file
            && let Some(e) = probe(rel)
        {
            if vanished(&e) && gone() {
                return None;
            }
            unreadable = Some(super::strerror(&e));
        }
        let wants_exe = self.scan.exe
            && (!self.scan.exe_only_unconfined
                || context.as_deref().is_some_and(|c| c.contains("unconfined")));
        let exe = if wants_exe { exe() } else { None };
        // procfs prints the same task name in `stat` (in parentheses) as in `comm`: when
        // `stat` was read, it saves a file per process (a tree under --root may disagree:
        // its `comm` is read)
        let comm = if !self.scan.comm {
            None
        } else if let Some(c) = stat.as_deref().filter(|_| self.procfs).and_then(stat_comm) {
            Some(c)
        } else {
            read_small("comm").map(attr_text)
        };
        let kernel_thread = self.scan.kinds
            && match &stat {
                Some(b) => stat_flags(b).is_some_and(|f| f & PF_KTHREAD != 0),
                // a snapshot keeps no `stat`: a kernel thread has no executable and is
                // unconfined (its attribute unconfined, or not there)
                None => {
                    wants_exe
                        && exe.is_none()
                        && pid != 1
                        && context.as_deref().is_none_or(|c| {
                            matches!(c.trim_end_matches(['\n', '\0']), "" | "unconfined")
                        })
                }
            };
        Some(Process {
            pid,
            context,
            exe,
            comm,
            kernel_thread,
            unreadable,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields() {
        let stat = b"42 (a) b (c)\nd) S 1 42 42 0 -1 4194560 0 0\n";
        assert_eq!(stat_comm(stat).as_deref(), Some("a) b (c)\nd"));
        assert_eq!(stat_flags(stat), Some(4194560));
        assert_eq!(stat_comm(b"42 ) (x"), None);
        assert_eq!(stat_comm(b"7 () S").as_deref(), Some(""));
    }
}
