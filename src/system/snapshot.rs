//! Copies the AppArmor state that the inspection code reads into a folder laid out like a
//! root directory, so that [`System::with_root`] reads it back: the `profiles` list, the
//! `policy/` tree (name, mode, attach, identity), features, revision, the reader's namespace
//! files (`.ns_name`, `.ns_level`, `.stacked`, `.ns_stacked`), module parameters, the
//! `apparmor_restrict_unprivileged_*` sysctls, and per process its label, exe link target
//! and comm, plus a `proc/mounts` line for securityfs.

use crate::system::{
    FeatureNode, PolicyNamespace, PolicyProfile, ProcessScan, System, SystemError,
};
use std::path::{Path, PathBuf};

/// Where securityfs is placed inside a snapshot.
pub const SECURITYFS: &str = "sys/kernel/security";

/// What a snapshot contains, for the summary line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Lines of the `profiles` list copied.
    pub profiles: usize,
    /// Processes copied.
    pub processes: usize,
}

/// Why a snapshot could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// The destination exists and holds something.
    #[error("{} exists and is not empty", path.display())]
    NotEmpty {
        /// The destination folder.
        path: PathBuf,
    },
    /// The destination is a symbolic link, belongs to another user, or others
    /// may write into it: they could plant links in it while it is written.
    #[error("{}: {why}; refusing to write a snapshot there", path.display())]
    Unsafe {
        /// The destination folder.
        path: PathBuf,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A file or folder of the snapshot could not be created or written.
    #[error("cannot write {}", path.display())]
    Write {
        /// What was being written.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// Something the snapshot must contain could not be read (the `profiles` list, `/proc`).
    #[error(transparent)]
    Read(#[from] SystemError),
}

/// An error creating or writing `path` in the snapshot.
fn io_err(path: &Path, e: std::io::Error) -> SnapshotError {
    SnapshotError::Write {
        path: path.to_path_buf(),
        source: e,
    }
}

fn write_file(path: &Path, data: &[u8]) -> Result<(), SnapshotError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| io_err(parent, e))?;
    }
    std::fs::write(path, data).map_err(|e| io_err(path, e))
}

fn write_profile(dir: &Path, p: &PolicyProfile) -> Result<(), SnapshotError> {
    let d = dir.join(&p.dir);
    std::fs::create_dir_all(&d).map_err(|e| io_err(&d, e))?;
    write_file(&d.join("name"), format!("{}\n", p.name).as_bytes())?;
    if let Some(m) = &p.mode {
        write_file(&d.join("mode"), format!("{}\n", m.kernel_word()).as_bytes())?;
    }
    if let Some(a) = &p.attach {
        write_file(&d.join("attach"), format!("{a}\n").as_bytes())?;
    }
    if let Some(i) = &p.identity {
        write_file(&d.join("identity"), format!("{i}\n").as_bytes())?;
    }
    if !p.children.is_empty() {
        let c = d.join("profiles");
        for child in &p.children {
            write_profile(&c, child)?;
        }
    }
    Ok(())
}

fn write_namespace(dir: &Path, ns: &PolicyNamespace) -> Result<(), SnapshotError> {
    let profiles = dir.join("profiles");
    std::fs::create_dir_all(&profiles).map_err(|e| io_err(&profiles, e))?;
    for p in &ns.profiles {
        write_profile(&profiles, p)?;
    }
    let nss = dir.join("namespaces");
    std::fs::create_dir_all(&nss).map_err(|e| io_err(&nss, e))?;
    for child in &ns.namespaces {
        write_namespace(&nss.join(&child.name), child)?;
    }
    Ok(())
}

fn write_features(dir: &Path, node: &FeatureNode) -> Result<(), SnapshotError> {
    match node {
        FeatureNode::Value(v) => write_file(dir, v.as_bytes()),
        FeatureNode::Dir(map) => {
            std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
            for (name, child) in map {
                write_features(&dir.join(name), child)?;
            }
            Ok(())
        }
    }
}

impl System {
    /// Writes a snapshot of this system into `dest`; see [`snapshot`].
    ///
    /// # Errors
    /// See [`snapshot`].
    pub fn snapshot(&self, dest: &Path) -> Result<Summary, SnapshotError> {
        snapshot(self, dest)
    }
}

/// Writes a snapshot of `sys` into `dest` (created; must be empty if it exists).
///
/// Everything is read under the system's root through [`crate::system::fs`] (never following
/// a link out of the root; see docs/trust.md); only `dest` is written.
///
/// # Errors
/// [`SnapshotError`] naming the path that could not be written, or when `dest` is not
/// empty, is a link, belongs to another user or is writable by others. Parts of the state that cannot be read (no securityfs, no module) are left out.
pub fn snapshot(sys: &System, dest: &Path) -> Result<Summary, SnapshotError> {
    if let Ok(md) = std::fs::symlink_metadata(dest) {
        use std::os::unix::fs::MetadataExt;
        let why = if md.file_type().is_symlink() {
            Some("it is a symbolic link")
        } else if md.uid() != rustix::process::geteuid().as_raw() {
            Some("it belongs to another user")
        } else if md.mode() & 0o022 != 0 {
            Some("others may write into it")
        } else {
            None
        };
        if let Some(why) = why {
            return Err(SnapshotError::Unsafe {
                path: dest.to_path_buf(),
                why,
            });
        }
    }
    if let Ok(mut rd) = std::fs::read_dir(dest)
        && rd.next().is_some()
    {
        return Err(SnapshotError::NotEmpty {
            path: dest.to_path_buf(),
        });
    }
    std::fs::create_dir_all(dest).map_err(|e| io_err(dest, e))?;
    let mut summary = Summary::default();

    // Module parameters.
    if let Ok(params) = sys.parameters() {
        let pdir = dest.join("sys/module/apparmor/parameters");
        std::fs::create_dir_all(&pdir).map_err(|e| io_err(&pdir, e))?;
        for (k, v) in &params.raw {
            write_file(&pdir.join(k), format!("{v}\n").as_bytes())?;
        }
    } else if sys.module_present() {
        let m = dest.join("sys/module/apparmor");
        std::fs::create_dir_all(&m).map_err(|e| io_err(&m, e))?;
    }

    // securityfs.
    let mut mounts = String::from("proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n");
    if let Ok(sfs) = sys.securityfs() {
        mounts.push_str(&format!(
            "securityfs /{SECURITYFS} securityfs rw,nosuid,nodev,noexec,relatime 0 0\n"
        ));
        let out = dest.join(SECURITYFS).join("apparmor");
        std::fs::create_dir_all(&out).map_err(|e| io_err(&out, e))?;
        let src = sfs.join("profiles");
        match crate::system::fs::read_limited(sys.root(), &src, crate::system::fs::limits::PROFILES)
        {
            Ok(bytes) => {
                summary.profiles = bytes
                    .split(|&b| b == b'\n')
                    .filter(|l| !l.is_empty())
                    .count();
                write_file(&out.join("profiles"), &bytes)?;
            }
            Err(e) => return Err(SystemError::io(&src, e).into()),
        }
        if let Ok(policy) = sys.policy_at(sfs.join("policy")) {
            write_namespace(&out.join("policy"), &policy)?;
        }
        if let Ok(features) = sys.features_at(sfs.join("features")) {
            write_features(&out.join("features"), &features.root)?;
        }
        if let Ok(rev) = sys.revision_at(sfs.join("revision")) {
            write_file(&out.join("revision"), format!("{rev}\n").as_bytes())?;
        }
        // The reader's namespace and stacking state (small text files; optional).
        for name in [".ns_name", ".ns_level", ".stacked", ".ns_stacked"] {
            if let Ok(bytes) = crate::system::fs::read_limited(
                sys.root(),
                sfs.join(name),
                crate::system::fs::limits::PAGE,
            ) {
                write_file(&out.join(name), &bytes)?;
            }
        }
    }
    write_file(&dest.join("proc/mounts"), mounts.as_bytes())?;

    // The unprivileged-user restriction sysctls (when the kernel has them).
    for s in sys.apparmor_sysctls() {
        if let Some(v) = &s.value {
            let f = dest.join("proc/sys/kernel").join(s.file_name());
            write_file(&f, format!("{v}\n").as_bytes())?;
        }
    }

    // Processes.
    let procs = sys.processes(&ProcessScan::default())?;
    for p in procs {
        let d = dest.join("proc").join(p.pid.to_string());
        std::fs::create_dir_all(d.join("attr/apparmor")).map_err(|e| io_err(&d, e))?;
        if let Some(c) = &p.context {
            write_file(&d.join("attr/current"), c.as_bytes())?;
            write_file(&d.join("attr/apparmor/current"), c.as_bytes())?;
        }
        if let Some(exe) = &p.exe {
            let link = d.join("exe");
            std::os::unix::fs::symlink(exe, &link).map_err(|e| io_err(&link, e))?;
        }
        if let Some(comm) = &p.comm {
            write_file(&d.join("comm"), format!("{comm}\n").as_bytes())?;
        }
        summary.processes += 1;
    }
    Ok(summary)
}
