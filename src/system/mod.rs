//! The host as a parameter: /proc, /sys/module/apparmor and securityfs under one root.
//!
//! A [`System`] is a root directory (default `/`). Every path this crate reads about the
//! running system is formed under that root, so the same code reads the live host
//! ([`System::host`]), a fake tree in a test, or a snapshot written by `aactl snapshot`
//! ([`System::with_root`]). A snapshot has exactly the layout of a root:
//!
//! ```text
//! DIR/proc/mounts                                  one "securityfs /sys/kernel/security securityfs …" line
//! DIR/proc/PID/attr/current                        label + "\n"
//! DIR/proc/PID/attr/apparmor/current               label + "\n" (kernels with the LSM-specific directory)
//! DIR/proc/PID/exe                                 symlink to the executable
//! DIR/proc/PID/comm                                command name + "\n"
//! DIR/sys/kernel/security/apparmor/profiles        the kernel's profile list
//! DIR/sys/kernel/security/apparmor/policy/…        profiles/<dir>/{name,mode,attach}, namespaces/<ns>/…
//! DIR/sys/kernel/security/apparmor/features/…      the feature tree
//! DIR/sys/kernel/security/apparmor/revision
//! DIR/sys/module/apparmor/parameters/*             module parameters
//! ```
//!
//! This module only reads files and hands their text to parsers ([`crate::label`]); it never
//! prints and never panics on what it reads. Errors carry the path they concern.

use std::io;
use std::path::{Path, PathBuf};

pub mod audit;
pub mod edit;
mod features;
mod features_abi;
pub mod fs;
mod params;
mod proc;
mod securityfs;
pub mod snapshot;
mod sockets;
mod sysctl;
pub mod task;

pub use features::{FeatureNode, Features, FeaturesError};
pub use features_abi::{FeaturesDiff, ValueChange};
pub use params::{Enabled, Parameters};
pub use proc::{AttrInterface, Process, ProcessScan};
pub use securityfs::{PolicyNamespace, PolicyProfile, ProfileLine, ProfilesList};
pub use sockets::{
    Socket, SocketProtocol, SocketTable, parse_inet_table, parse_unix_table, socket_inode,
};
pub use sysctl::{RESTRICT_PREFIX, Sysctl};

/// An error reading the system state. Every variant names the path concerned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SystemError {
    /// No `securityfs` mount in `<root>/proc/mounts` has an `apparmor` directory
    /// (aa-status: "apparmor filesystem is not mounted.", exit 3).
    #[error("no securityfs mount with an apparmor directory found in {mounts}")]
    NoSecurityfs {
        /// The mounts file that was searched.
        mounts: PathBuf,
    },
    /// Permission denied (EACCES/EPERM) on a file.
    #[error("permission denied: {path}")]
    PermissionDenied {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Any other I/O error on a file.
    #[error("cannot read {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

impl SystemError {
    /// Wraps an I/O error on `path`, choosing [`SystemError::PermissionDenied`] for EACCES/EPERM.
    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> SystemError {
        let path = path.into();
        if source.kind() == io::ErrorKind::PermissionDenied {
            SystemError::PermissionDenied { path, source }
        } else {
            SystemError::Io { path, source }
        }
    }

    /// The underlying I/O error, if any.
    pub fn io_error(&self) -> Option<&io::Error> {
        match self {
            SystemError::PermissionDenied { source, .. } | SystemError::Io { source, .. } => {
                Some(source)
            }
            SystemError::NoSecurityfs { .. } => None,
        }
    }
}

/// A root directory under which /proc, /sys and securityfs are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct System {
    root: PathBuf,
}

impl Default for System {
    fn default() -> Self {
        System::host()
    }
}

impl System {
    /// The running host (root `/`).
    pub fn host() -> System {
        System {
            root: PathBuf::from("/"),
        }
    }

    /// A system whose files live under `root` (a snapshot or a fake tree).
    pub fn with_root(root: impl Into<PathBuf>) -> System {
        System { root: root.into() }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// True when the root is `/` (the live host, where `/proc/PID/exe` may be canonicalised).
    pub fn is_host(&self) -> bool {
        self.root == Path::new("/")
    }

    /// `abs` (an absolute path such as `/proc/mounts`) interpreted under the root. `.` and
    /// `..` components are resolved lexically and never climb above the root (`/..` is `/`,
    /// as in a chroot), so a mount point read from a snapshot's `/proc/mounts` stays inside
    /// the snapshot.
    pub fn path(&self, abs: impl AsRef<Path>) -> PathBuf {
        use std::path::Component;
        let mut rel = PathBuf::new();
        for c in abs.as_ref().components() {
            match c {
                Component::Normal(n) => rel.push(n),
                Component::ParentDir => {
                    rel.pop();
                }
                Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
            }
        }
        if rel.as_os_str().is_empty() {
            self.root.clone()
        } else {
            self.root.join(rel)
        }
    }

    /// The inverse of [`System::path`]: `host_path` as the system under the root
    /// sees it (`ROOT/etc/x` → `/etc/x`), for what is written for that system to
    /// read (a link target, a command to run there). The live host's paths, and
    /// paths outside the root, are returned as given.
    pub fn as_seen(&self, host_path: &Path) -> PathBuf {
        match host_path.strip_prefix(&self.root) {
            Ok(rest) if !self.is_host() && host_path.is_absolute() => Path::new("/").join(rest),
            _ => host_path.to_path_buf(),
        }
    }

    /// `<root>/proc`.
    pub fn proc_dir(&self) -> PathBuf {
        self.path("/proc")
    }

    /// `<root>/sys/module/apparmor`: present whenever the kernel has AppArmor built in.
    pub fn module_dir(&self) -> PathBuf {
        self.path("/sys/module/apparmor")
    }

    /// True when `<root>/sys/module/apparmor` exists (aa-status: otherwise "apparmor not
    /// present.", exit 1).
    pub fn module_present(&self) -> bool {
        fs::kind(&self.root, &self.module_dir()).is_ok()
    }

    /// Finds the AppArmor directory of securityfs the way libapparmor's `aa_find_mountpoint`
    /// does: read `<root>/proc/mounts`, and for each entry whose type is exactly `securityfs`
    /// (mount point octal escapes such as `\040` decoded) take `<root><mountpoint>/apparmor`;
    /// the first that exists wins. The default `/sys/kernel/security` is not assumed.
    ///
    /// # Errors
    /// [`SystemError::NoSecurityfs`] when no entry qualifies (also when the mounts file cannot
    /// be read).
    pub fn securityfs(&self) -> Result<PathBuf, SystemError> {
        let mounts = self.path("/proc/mounts");
        let text = fs::read_limited(&self.root, &mounts, fs::limits::MOUNTS).unwrap_or_default();
        for line in text.split(|&b| b == b'\n') {
            let mut fields = line
                .split(|&b| b == b' ' || b == b'\t')
                .filter(|f| !f.is_empty());
            let (_dev, dir, fstype) = match (fields.next(), fields.next(), fields.next()) {
                (Some(a), Some(b), Some(c)) => (a, b, c),
                _ => continue,
            };
            if fstype != b"securityfs" {
                continue;
            }
            let dir = unescape_mount_field(dir);
            let dir = String::from_utf8_lossy(&dir).into_owned();
            let candidate = self.path(&dir).join("apparmor");
            if fs::kind(&self.root, &candidate).is_ok() {
                return Ok(candidate);
            }
        }
        Err(SystemError::NoSecurityfs { mounts })
    }
}

/// Decodes the `\ooo` octal escapes the kernel (and the mntent API) uses in /proc/mounts.
fn unescape_mount_field(f: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(f.len());
    let mut i = 0;
    while i < f.len() {
        if f[i] == b'\\'
            && i + 3 < f.len()
            && f[i + 1..i + 4].iter().all(|b| (b'0'..=b'7').contains(b))
        {
            let v = (f[i + 1] - b'0') as u32 * 64
                + (f[i + 2] - b'0') as u32 * 8
                + (f[i + 3] - b'0') as u32;
            out.push(v as u8);
            i += 4;
        } else {
            out.push(f[i]);
            i += 1;
        }
    }
    out
}

pub use crate::error::strerror;

/// Opens a file the user named (a policy file, a log file) for reading, non-blocking, and
/// only if it is a regular file: a FIFO, socket, device or directory gives `InvalidInput`
/// "not a regular file (a FIFO)" (and so on) instead of blocking or reading forever. The
/// type is checked on the opened file, so a swapped-in FIFO cannot slip through.
pub(crate) fn open_regular(path: &Path) -> io::Result<std::fs::File> {
    fs::open_read(Path::new("/"), path, false)
}

/// Fails with `InvalidInput` "not a regular file" unless `f` is a regular file or directory.
pub(crate) fn check_regular(f: &std::fs::File) -> io::Result<()> {
    let ft = f.metadata()?.file_type();
    if ft.is_file() || ft.is_dir() {
        Ok(())
    } else {
        Err(fs::not_regular(ft))
    }
}

/// Reads a small file (at most a page) under `root` to a string (lossy UTF-8), dropping
/// one trailing newline.
pub(crate) fn read_trimmed(root: &Path, path: &Path) -> io::Result<String> {
    let bytes = fs::read_limited(root, path, fs::limits::PAGE)?;
    let mut s = String::from_utf8_lossy(&bytes).into_owned();
    if s.ends_with('\n') {
        s.pop();
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_under_the_root() {
        let s = System::with_root("/tmp/snap");
        assert_eq!(s.path("/proc/mounts"), Path::new("/tmp/snap/proc/mounts"));
        assert_eq!(System::host().path("/proc"), Path::new("/proc"));
        assert!(System::host().is_host());
    }

    #[test]
    fn mount_escapes() {
        assert_eq!(unescape_mount_field(br"/a\040b"), b"/a b");
        assert_eq!(unescape_mount_field(br"/a\04"), br"/a\04");
    }

    #[test]
    fn finds_securityfs_under_root() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("proc")).unwrap();
        std::fs::create_dir_all(d.path().join("my sec/apparmor")).unwrap();
        std::fs::write(
            d.path().join("proc/mounts"),
            "securityfs /nowhere securityfs rw 0 0\nnone /x tmpfs rw 0 0\nsecurityfs /my\\040sec securityfs rw 0 0\n",
        )
        .unwrap();
        let s = System::with_root(d.path());
        assert_eq!(s.securityfs().unwrap(), d.path().join("my sec/apparmor"));
        std::fs::write(d.path().join("proc/mounts"), "").unwrap();
        assert!(matches!(
            s.securityfs(),
            Err(SystemError::NoSecurityfs { .. })
        ));
    }

    #[test]
    fn strerror_text() {
        let e = io::Error::from_raw_os_error(2);
        assert_eq!(strerror(&e), "No such file or directory");
    }
}
