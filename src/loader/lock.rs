//! Serialising edits of profile files and `local/` overrides between
//! processes.
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

use super::LoaderError;
use std::path::{Path, PathBuf};

/// Exclusive locks on the folders of some files; released when dropped.
#[derive(Debug)]
pub struct EditLock {
    held: Vec<(PathBuf, std::fs::File)>,
}

impl EditLock {
    /// Locks the folders where `files` are (or will be) replaced, waiting as
    /// long as another process holds one of them. A symlinked file is followed
    /// to its real folder; a missing folder is created.
    ///
    /// # Errors
    /// [`LoaderError::Io`] naming the folder that could not be created,
    /// opened or locked.
    pub fn acquire<P: AsRef<Path>>(files: &[P]) -> Result<EditLock, LoaderError> {
        Self::acquire_in(Path::new("/"), files)
    }

    /// Like [`EditLock::acquire`] for files under `root` (a snapshot or fake tree): a
    /// folder whose real location is outside the root is refused, never created or
    /// locked (see docs/trust.md).
    ///
    /// # Errors
    /// As [`EditLock::acquire`]; [`LoaderError::Io`] "leads outside the root".
    pub fn acquire_in<P: AsRef<Path>>(root: &Path, files: &[P]) -> Result<EditLock, LoaderError> {
        let mut dirs: Vec<PathBuf> = Vec::new();
        for f in files {
            let dir = lock_dir(root, f.as_ref())?;
            if !dirs.contains(&dir) {
                dirs.push(dir);
            }
        }
        dirs.sort();
        let mut held = Vec::new();
        for dir in dirs {
            let io = |source| LoaderError::Io {
                path: dir.clone(),
                source,
            };
            let fd = std::fs::File::open(&dir).map_err(io)?;
            loop {
                match rustix::fs::flock(&fd, rustix::fs::FlockOperation::LockExclusive) {
                    Ok(()) => break,
                    Err(rustix::io::Errno::INTR) => continue,
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

/// The folder in which `file` is replaced: the real folder of its real path
/// (created when missing), refused when outside `root`.
fn lock_dir(root: &Path, file: &Path) -> Result<PathBuf, LoaderError> {
    let io = |path: &Path, source| LoaderError::Io {
        path: path.to_owned(),
        source,
    };
    let real = crate::system::fs::write_target(root, file).map_err(|e| io(file, e))?;
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
