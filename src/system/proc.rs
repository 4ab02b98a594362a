//! Processes: `/proc/PID/attr/{apparmor/,}current`, `exe`, `comm` (spec/runtime-and-logs.md
//! §1.4), read through `procfs` under the system root.

use super::{System, SystemError};
use crate::label::{Label, LabelError};
use std::collections::HashMap;
use std::io::Read;

/// Which `/proc/PID/attr` file holds AppArmor's label, decided once per scan the way
/// libapparmor does (spec §1.4).
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
    /// Read `comm`.
    pub comm: bool,
    /// Leave out processes whose label cannot be read (kernel threads with unreadable
    /// attributes, vanished tasks), without reading anything else for them.
    pub skip_unlabelled: bool,
}

impl Default for ProcessScan {
    /// Everything: exe (canonicalised), comm, and unlabelled processes too.
    fn default() -> Self {
        ProcessScan {
            exe: true,
            canonicalize_exe: true,
            comm: true,
            skip_unlabelled: false,
        }
    }
}

/// One process as read from `/proc/PID`.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    let mut f = p.open_relative(rel).ok()?;
    let mut buf = Vec::with_capacity(128);
    f.read_to_end(&mut buf).ok()?;
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
    /// Decides which attribute file to read (spec §1.4): `<root>/proc/<own pid>/attr/apparmor`
    /// exists (or is EACCES) → [`AttrInterface::Apparmor`]; else by `parameters/enabled`.
    pub fn attr_interface(&self) -> AttrInterface {
        let own = self
            .proc_dir()
            .join(std::process::id().to_string())
            .join("attr/apparmor");
        match std::fs::metadata(&own) {
            Ok(_) => return AttrInterface::Apparmor,
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                return AttrInterface::Apparmor;
            }
            Err(_) => {}
        }
        let first = |n: &str| std::fs::read(self.parameter_path(n)).map(|b| b.first().copied());
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

    /// Lists the processes under `<root>/proc` with `procfs::process::all_processes_with_root`,
    /// in directory order (ascending PIDs on procfs). A process that vanishes or denies access
    /// mid-scan (ENOENT, ESRCH, EACCES) is skipped or has `None` fields; never fatal.
    ///
    /// # Errors
    /// Only when `<root>/proc` itself cannot be listed.
    pub fn processes(&self, scan: &ProcessScan) -> Result<Vec<Process>, SystemError> {
        let proc_dir = self.proc_dir();
        let iter = procfs::process::all_processes_with_root(&proc_dir)
            .map_err(|e| SystemError::io(&proc_dir, std::io::Error::other(e.to_string())))?;
        let iface = self.attr_interface();
        let enabled_n = matches!(
            std::fs::read(self.parameter_path("enabled")).map(|b| b.first().copied()),
            Ok(Some(b'N'))
        );
        let canonicalize = scan.canonicalize_exe && self.is_host();
        let mut cache: HashMap<std::ffi::OsString, Option<String>> = HashMap::new();
        let mut out = Vec::new();
        for p in iter {
            let Ok(p) = p else { continue };
            let Ok(pid) = u32::try_from(p.pid()) else {
                continue;
            };
            if pid == 0 {
                continue;
            }
            let attr = match iface {
                AttrInterface::Apparmor | AttrInterface::TryBoth => {
                    read_small(&p, "attr/apparmor/current").or_else(|| {
                        if enabled_n {
                            None
                        } else {
                            read_small(&p, "attr/current")
                        }
                    })
                }
                AttrInterface::Shared => read_small(&p, "attr/current"),
                AttrInterface::Unavailable => None,
            };
            let context = attr.map(lossy);
            if context.is_none() && scan.skip_unlabelled {
                continue;
            }
            let exe = if scan.exe {
                match p.exe() {
                    Ok(target) => {
                        let key = target.into_os_string();
                        let text = key.to_string_lossy().into_owned();
                        if canonicalize && text.starts_with('/') {
                            let resolved = cache
                                .entry(key)
                                .or_insert_with(|| {
                                    std::fs::canonicalize(&text)
                                        .ok()
                                        .map(|r| r.to_string_lossy().into_owned())
                                })
                                .clone();
                            Some(resolved.unwrap_or(text))
                        } else {
                            Some(text)
                        }
                    }
                    Err(_) => None,
                }
            } else {
                None
            };
            let comm = if scan.comm {
                read_small(&p, "comm").map(attr_text)
            } else {
                None
            };
            out.push(Process {
                pid,
                context,
                exe,
                comm,
            });
        }
        Ok(out)
    }
}
