//! Log files: plain or gzip-compressed, one file or a rotated set
//! (`audit.log`, `audit.log.1`, `audit.log.2.gz`, …) read oldest first.

use super::LogError;
use super::journal::{JOURNAL_MAGIC, JournalLines};
use crate::log::reader::{BufReadLines, LineSource};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Opens a file (gzip-compressed or plain). A FIFO or character device
/// named explicitly is read as a stream (like `-`; opening a FIFO waits for
/// its writer); a directory is an error. Auto-detection never opens one
/// ([`detect`](super::detect()) and [`rotated_set`] keep regular files only).
pub fn open_file(p: &Path) -> Result<Box<dyn LineSource>, LogError> {
    let err = |error| LogError::File {
        path: p.to_path_buf(),
        error,
    };
    let f = File::open(p).map_err(err)?;
    let md = f.metadata().map_err(err)?;
    if md.is_dir() {
        return Err(err(io::Error::other("is a directory")));
    }
    if md.is_file() && is_journal(&f).map_err(err)? {
        return Ok(Box::new(JournalLines::spawn_file(f, p, Path::new("/"))?));
    }
    let r = maybe_gz(Box::new(BufReader::with_capacity(256 << 10, f))).map_err(err)?;
    Ok(Box::new(BufReadLines::new_bulk(r, p.display().to_string())))
}

/// Whether the regular file `f` is a systemd journal file (its header starts with
/// [`JOURNAL_MAGIC`]). Read with `pread`: the file's offset stays at its start.
fn is_journal(f: &File) -> io::Result<bool> {
    use std::os::unix::fs::FileExt;
    let mut head = [0u8; 8];
    let mut got = 0;
    while got < head.len() {
        match f.read_at(&mut head[got..], got as u64) {
            Ok(0) => return Ok(false),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(&head == JOURNAL_MAGIC)
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
    if is_journal(&f).map_err(err)? {
        return Ok(Box::new(JournalLines::spawn_file(f, p, root)?));
    }
    let r = maybe_gz(Box::new(BufReader::with_capacity(256 << 10, f))).map_err(err)?;
    Ok(Box::new(BufReadLines::new_bulk(r, p.display().to_string())))
}

pub(super) fn maybe_gz(mut r: Box<dyn BufRead>) -> io::Result<Box<dyn BufRead>> {
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
