//! Atomic, serialised edits of files: the one way this crate replaces a profile file
//! or a `local/` override.
//!
//! - [`atomic_write`] replaces a file through a temporary file beside it (permissions,
//!   owner and group kept; a symlinked path written through, the link kept);
//!   [`atomic_create`] creates one the same way, never clobbering;
//!   [`replace_if_unchanged`] replaces only when the file still holds the text the edit
//!   came from.
//! - [`EditLock`] serialises read → edit → replace between processes.
//!
//! Where a write may land under a snapshot or fake root is decided before these run
//! ([`super::fs::write_target`]; docs/trust.md).
//!
//! ## The lock
//!
//!
//! Every edit is read → change the text → write a temporary file → rename it
//! over the original. Two `aactl` runs editing one file at once (say `aactl
//! complain pa` and `aactl audit pb`, two profiles of one file) would both read
//! the old text and the second rename would drop the first change. An
//! [`EditLock`] is taken before the read and held until the rename (and, for
//! mode changes, until the reload and any undo are over).
//!
//! What is locked: the **folder** that holds the file (after following a
//! symlinked file to where it really lives, since that is where the rename
//! happens), with `flock(2)` on a descriptor of the folder itself. The file
//! cannot be the lock: the rename gives the path a new inode, so a second
//! writer that opened the old inode would hold a lock on a file nobody uses
//! any more. A folder's inode stays the same while files in it are replaced,
//! and locking it leaves no lock file behind in `/etc/apparmor.d`. The price
//! is that edits of different files in one folder wait for each other, which
//! is harmless for edits that take milliseconds.
//!
//! Several folders (a profile file and its `local/` override) are locked in
//! the order of their paths, so two processes never wait for each other in a
//! cycle. A missing folder is created first (an override's `local/` folder is
//! created by the write anyway), so that every writer locks the same inode.
//!
//! The lock is advisory: it orders `aactl` runs, not editors. Each write
//! therefore also checks, just before its rename, that the file still holds
//! the text the edit was computed from
//! ([`crate::loader::plan::replace_if_unchanged`]), and refuses otherwise.
//! On a file system that does not support `flock` on a folder (NFS turns
//! `flock` into byte-range locks, which need a file open for writing) the
//! folder is left unlocked and that check is the only guard.
//!
//! The wait has no time limit: the holder is another `aactl` that is editing
//! or reloading, and its lock goes away when it exits, however it exits.

use std::path::{Path, PathBuf};

/// An edit that could not be made. Every variant names the file as the caller gave it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EditError {
    /// The file no longer holds the text the edit was computed from (another
    /// program changed it); nothing was written.
    #[error(
        "{}: changed by another program since it was read; not overwritten (run the command again)",
        path.display()
    )]
    Changed {
        /// The file.
        path: PathBuf,
    },
    /// A file or folder could not be read, written, created or locked.
    #[error("{}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// Writes `data` to `path` atomically: a temporary file in the same directory,
/// given the original's permissions and (when possible) owner and group, synced,
/// then renamed over `path` (and the directory synced). A symlinked `path` is resolved first so the link
/// stays a link.
///
/// # Errors
/// [`EditError::Io`] naming the file.
pub fn atomic_write(path: &Path, data: &[u8]) -> Result<(), EditError> {
    use std::os::unix::fs::MetadataExt;
    // Errors name the file as the caller gave it (a symlink's own name).
    let io = |e| EditError::Io {
        path: path.to_owned(),
        source: e,
    };
    let real = std::fs::canonicalize(path).map_err(io)?;
    let meta = std::fs::metadata(&real).map_err(io)?;
    replace_via_temp(&real, data, true, |tmp| {
        std::fs::set_permissions(tmp, meta.permissions())?;
        // Keeping the owner needs privileges when it differs from ours; try, and
        // only fail when the owner would actually change.
        if let Err(e) = std::os::unix::fs::chown(tmp, Some(meta.uid()), Some(meta.gid())) {
            let tm = std::fs::metadata(tmp)?;
            if tm.uid() != meta.uid() || tm.gid() != meta.gid() {
                return Err(std::io::Error::new(
                    e.kind(),
                    format!(
                        "cannot keep its owner and group {}:{} ({})",
                        meta.uid(),
                        meta.gid(),
                        crate::system::strerror(&e)
                    ),
                ));
            }
        }
        Ok(())
    })
    .map_err(io)
}

/// [`atomic_write`], but only when `path` still holds `expected` (the text the
/// new `data` was computed from); otherwise nothing is written. Callers that
/// read, edit and write hold an [`EditLock`] across all three, so
/// this check only catches writers that do not take it (an editor, a package
/// manager).
///
/// # Errors
/// [`EditError::Changed`] when the file holds something else;
/// [`EditError::Io`] naming the file.
pub fn replace_if_unchanged(path: &Path, expected: &[u8], data: &[u8]) -> Result<(), EditError> {
    let now = super::fs::read_limited(Path::new("/"), path, super::fs::limits::POLICY_FILE)
        .map_err(|e| EditError::Io {
            path: path.to_owned(),
            source: e,
        })?;
    if now != expected {
        return Err(EditError::Changed {
            path: path.to_owned(),
        });
    }
    atomic_write(path, data)
}

/// Creates `path` (which does not exist yet) holding `data`, with
/// permissions `mode`, atomically as [`atomic_write`] replaces a file; its
/// folder is created when missing. A file that appeared at `path` meanwhile
/// is not replaced: the error is then of kind
/// [`std::io::ErrorKind::AlreadyExists`].
///
/// # Errors
/// The I/O error (the caller names the file).
pub fn atomic_create(path: &Path, data: &[u8], mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    replace_via_temp(path, data, false, |tmp| {
        std::fs::set_permissions(tmp, std::fs::Permissions::from_mode(mode))
    })
}

/// Writes `data` to a temporary file beside `target`, syncs it, lets
/// `prepare` set its metadata, renames it to `target` (when `clobber`,
/// replacing it; else only if `target` does not exist) and syncs the folder
/// (best effort: some file systems refuse).
fn replace_via_temp(
    target: &Path,
    data: &[u8],
    clobber: bool,
    prepare: impl FnOnce(&Path) -> std::io::Result<()>,
) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        Some(_) => Path::new("."),
        None => Path::new("/"),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".aactl-")
        .tempfile_in(dir)
        .map_err(without_temp_path)?;
    tmp.write_all(data)?;
    tmp.as_file().sync_all()?;
    prepare(tmp.path())?;
    if clobber {
        tmp.persist(target).map_err(|e| e.error)?;
    } else {
        tmp.persist_noclobber(target).map_err(|e| e.error)?;
    }
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The error of creating a temporary file without the ` at path "…"` that
/// `tempfile` appends: callers name the file the user gave, and the name of
/// a temporary file that does not exist would only confuse.
fn without_temp_path(e: std::io::Error) -> std::io::Error {
    if e.raw_os_error().is_some() {
        return e;
    }
    let text = e.to_string();
    match text.rfind(" at path ") {
        Some(i) => std::io::Error::new(e.kind(), &text[..i]),
        None => e,
    }
}

/// Exclusive locks on the folders of some files; released when dropped.
#[derive(Debug)]
pub struct EditLock {
    held: Vec<(PathBuf, std::fs::File)>,
}

impl EditLock {
    /// Locks the folders where `files` are (or will be) replaced, waiting up to
    /// 10 seconds while another process holds one of them. A symlinked file is followed
    /// to its real folder; a missing folder is created.
    ///
    /// # Errors
    /// [`EditError::Io`] naming the folder that could not be created,
    /// opened or locked (kind `WouldBlock` when another process held it
    /// for the whole wait).
    pub fn acquire<P: AsRef<Path>>(files: &[P]) -> Result<EditLock, EditError> {
        Self::acquire_in(Path::new("/"), files)
    }

    /// Like [`EditLock::acquire`] for files under `root` (a snapshot or fake tree): a
    /// folder whose real location is outside the root is refused, never created or
    /// locked (see docs/trust.md).
    ///
    /// # Errors
    /// As [`EditLock::acquire`]; [`EditError::Io`] "leads outside the root".
    pub fn acquire_in<P: AsRef<Path>>(root: &Path, files: &[P]) -> Result<EditLock, EditError> {
        let mut dirs = files
            .iter()
            .map(|f| lock_dir(root, f.as_ref()))
            .collect::<Result<Vec<PathBuf>, _>>()?;
        dirs.sort();
        dirs.dedup();
        let mut held = Vec::new();
        for dir in dirs {
            let io = |source| EditError::Io {
                path: dir.clone(),
                source,
            };
            let fd = std::fs::File::open(&dir).map_err(io)?;
            // Any user who can open the folder can hold its lock: wait a while
            // for another edit to finish, then give up with a message instead
            // of hanging.
            let started = std::time::Instant::now();
            loop {
                match rustix::fs::flock(&fd, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
                    Ok(()) => break,
                    Err(rustix::io::Errno::INTR) => continue,
                    Err(rustix::io::Errno::WOULDBLOCK) if started.elapsed() < LOCK_WAIT => {
                        std::thread::sleep(std::time::Duration::from_millis(50));
                        continue;
                    }
                    Err(rustix::io::Errno::WOULDBLOCK) => {
                        return Err(io(std::io::Error::new(
                            std::io::ErrorKind::WouldBlock,
                            format!(
                                "another process holds the edit lock of this folder (waited {} s); \
                                 try again when it is done",
                                LOCK_WAIT.as_secs()
                            ),
                        )));
                    }
                    // The file system has no flock for folders: leave it unlocked
                    // (the unchanged-text check before each rename still applies).
                    Err(
                        rustix::io::Errno::BADF
                        | rustix::io::Errno::NOLCK
                        | rustix::io::Errno::OPNOTSUPP
                        | rustix::io::Errno::INVAL,
                    ) => break,
                    Err(e) => return Err(io(e.into())),
                }
            }
            held.push((dir, fd));
        }
        Ok(EditLock { held })
    }

    /// The folders locked, in locking order.
    pub fn folders(&self) -> impl Iterator<Item = &Path> {
        self.held.iter().map(|(p, _)| p.as_path())
    }
}

/// How long [`EditLock::acquire_in`] waits for a folder's lock held by
/// another process.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The folder in which `file` is replaced: the real folder of its real path
/// (created when missing), refused when outside `root`.
fn lock_dir(root: &Path, file: &Path) -> Result<PathBuf, EditError> {
    let io = |path: &Path, source| EditError::Io {
        path: path.to_owned(),
        source,
    };
    let real = super::fs::write_target(root, file).map_err(|e| io(file, e))?;
    let parent = match real.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
    std::fs::canonicalize(parent).map_err(|e| io(parent, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_folder_waits_for_the_first() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a");
        std::fs::write(&a, "x").unwrap();
        let lock = EditLock::acquire(&[&a]).unwrap();
        // A missing file and folder lock the folder (created) and a link
        // locks its target's folder.
        let other = d.path().join("local/a");
        let l2 = EditLock::acquire(&[&other]).unwrap();
        assert!(d.path().join("local").is_dir());
        assert_eq!(
            l2.folders().collect::<Vec<_>>(),
            [std::fs::canonicalize(d.path().join("local")).unwrap()]
        );
        drop(l2);
        let (tx, rx) = std::sync::mpsc::channel();
        let b = d.path().join("b");
        let t = std::thread::spawn(move || {
            let _l = EditLock::acquire(&[&b]).unwrap();
            tx.send(()).unwrap();
        });
        assert!(
            rx.recv_timeout(std::time::Duration::from_millis(200))
                .is_err(),
            "the folder was locked twice at once"
        );
        drop(lock);
        rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
        t.join().unwrap();
    }
}
