//! Root-confined file access: the one way this crate touches files under a [`System`](super::System) root.
//!
//! A snapshot or fake tree (`--root DIR`) is untrusted input: any entry in it may be a
//! symlink out of the tree, a FIFO, a device or a huge sparse file. Every read of a path
//! below the root therefore goes through one open (`open_in` here):
//!
//! - **Symlinks stay inside the root.** The path is opened with `openat2(2)` and
//!   `RESOLVE_IN_ROOT` relative to the root directory, so an absolute link target or a `..`
//!   is resolved as if the root were `/` (the kernel does the walk; magic links such as
//!   `/proc/PID/fd/N` are refused). On a kernel without `openat2` (before 5.6, or a seccomp
//!   filter that hides it) the same walk is done here component by component with
//!   `O_NOFOLLOW`, which gives the same answer short of a concurrent rename.
//! - **Only regular files are read.** A FIFO, socket or device gives
//!   `InvalidInput` "not a regular file (a FIFO)" (and so on); the open never blocks
//!   (`O_NONBLOCK`).
//! - **Reads are capped.** [`read_limited`] reads at most a limit per kind of file
//!   (see [`limits`]) and fails with `InvalidData` "larger than N bytes" beyond it, so a
//!   sparse 3 GiB file costs one small buffer. The size is counted as read, not taken from
//!   `stat`: procfs and securityfs files report size 0.
//!
//! Writes are confined differently (see [`write_target`] and [`link_parent`]): where a
//! read re-interprets a symlink inside the root, a write refuses any path whose real
//! location (the host's view, links followed) is outside the root, and the error names
//! that real location.
//!
//! On the live host (root `/`) nothing can leave the root, so paths are opened as given;
//! the regular-file check and the caps still apply.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use rustix::fs::{Mode, OFlags, ResolveFlags};

/// Size caps per kind of file, in bytes. A file over its cap is an error, not truncated.
pub mod limits {
    /// `/proc/PID/attr/*`, `comm`, module parameters, pid files, `revision`, the
    /// `name`/`mode`/`attach` files of the policy tree: the kernel writes at most a page.
    pub const PAGE: u64 = 4096;
    /// One entry of the securityfs feature tree.
    pub const FEATURE_ENTRY: u64 = 64 * 1024;
    /// `/proc/mounts` (thousands of mounts on a container host fit easily).
    pub const MOUNTS: u64 = 16 * 1024 * 1024;
    /// The kernel's `profiles` list (150,000 profiles of 100 bytes fit).
    pub const PROFILES: u64 = 64 * 1024 * 1024;
    /// A text file of /proc read whole (`/proc/stat`).
    pub const PROC_TEXT: u64 = 1024 * 1024;
    /// A profile source file, an include, a features file (`--features`): the one cap for
    /// policy text (`crate::policy::MAX_POLICY_FILE` is this value).
    pub const POLICY_FILE: u64 = 64 * 1024 * 1024;
}

/// How many symlinks one resolution may follow before it fails with `ELOOP` (as Linux).
const MAX_LINKS: usize = 40;

/// True when `root` is the host's `/`, where no confinement is needed.
fn is_host_root(root: &Path) -> bool {
    root == Path::new("/")
}

/// The part of `path` below `root`, when `path` is lexically under it (`None` otherwise:
/// a path the user named outside the root, opened as given).
fn below<'a>(root: &Path, path: &'a Path) -> Option<&'a Path> {
    if is_host_root(root) {
        return None;
    }
    path.strip_prefix(root).ok()
}

/// Opens `path` with `flags` (plus `O_CLOEXEC`), resolving it inside `root` when it lies
/// below `root`. See the module documentation.
///
/// # Errors
/// The OS error of the open (`ELOOP` for a symlink loop, `EXDEV`/`ENOENT` as the kernel
/// reports a refused walk).
pub(crate) fn open_in(root: &Path, path: &Path, flags: OFlags) -> io::Result<File> {
    let flags = flags | OFlags::CLOEXEC;
    let Some(rel) = below(root, path) else {
        return Ok(File::from(rustix::fs::open(path, flags, Mode::empty())?));
    };
    let dir = root_dir(root)?;
    let rel = if rel.as_os_str().is_empty() {
        Path::new(".")
    } else {
        rel
    };
    let how = ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS;
    for _ in 0..8 {
        match rustix::fs::openat2(&dir, rel, flags, Mode::empty(), how) {
            Ok(fd) => return Ok(File::from(fd)),
            // A rename elsewhere in the tree during the walk: the kernel asks to retry.
            Err(rustix::io::Errno::AGAIN) => continue,
            Err(rustix::io::Errno::NOSYS) | Err(rustix::io::Errno::PERM) if openat2_missing() => {
                let resolved = resolve_in_root(root, rel)?;
                return Ok(File::from(rustix::fs::open(
                    &resolved,
                    flags | OFlags::NOFOLLOW,
                    Mode::empty(),
                )?));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(io::Error::from(io::ErrorKind::Interrupted))
}

/// A descriptor (`O_PATH`) of the root folder. The last one opened is kept per thread, so
/// a scan of thousands of files under one root opens it once; one more than a second old
/// is opened again, so a long-running reader follows a root folder that was replaced.
fn root_dir(root: &Path) -> io::Result<std::sync::Arc<std::os::fd::OwnedFd>> {
    use std::cell::RefCell;
    use std::sync::Arc;
    use std::time::{Duration, Instant};
    type Cached = (PathBuf, Instant, Arc<std::os::fd::OwnedFd>);
    thread_local! {
        static LAST: RefCell<Option<Cached>> = const { RefCell::new(None) };
    }
    let fresh = |at: &Instant| at.elapsed() < Duration::from_secs(1);
    if let Some(fd) = LAST.with_borrow(|l| {
        l.as_ref()
            .filter(|(p, at, _)| p == root && fresh(at))
            .map(|(_, _, fd)| Arc::clone(fd))
    }) {
        return Ok(fd);
    }
    let fd = Arc::new(rustix::fs::open(
        root,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?);
    LAST.with_borrow_mut(|l| *l = Some((root.to_path_buf(), Instant::now(), Arc::clone(&fd))));
    Ok(fd)
}

/// True when `openat2` is not available here (checked once on `/`).
fn openat2_missing() -> bool {
    use std::sync::OnceLock;
    static MISSING: OnceLock<bool> = OnceLock::new();
    *MISSING.get_or_init(|| {
        rustix::fs::openat2(
            rustix::fs::CWD,
            "/",
            OFlags::PATH | OFlags::CLOEXEC,
            Mode::empty(),
            ResolveFlags::empty(),
        )
        .is_err()
    })
}

/// The components of `rel` as owned names (`.` dropped, `..` kept, roots dropped).
fn parts(rel: &Path) -> Vec<OsString> {
    rel.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_owned()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect()
}

/// Resolves `rel` inside `root` the way `RESOLVE_IN_ROOT` does, in user space: every
/// symlink is followed with its absolute target taken from `root` and `..` never climbs
/// above `root`. Returns the host path of the result (symlink-free at the time of the
/// walk). The last component is followed too.
///
/// # Errors
/// `ELOOP` after 40 links; the error of a `readlink` that fails.
pub fn resolve_in_root(root: &Path, rel: &Path) -> io::Result<PathBuf> {
    let mut done: Vec<OsString> = Vec::new();
    let mut todo: std::collections::VecDeque<OsString> = parts(rel).into();
    let mut links = 0;
    while let Some(c) = todo.pop_front() {
        if c == ".." {
            done.pop();
            continue;
        }
        let mut here = root.to_path_buf();
        here.extend(&done);
        here.push(&c);
        match std::fs::symlink_metadata(&here) {
            Ok(md) if md.file_type().is_symlink() => {
                links += 1;
                if links > MAX_LINKS {
                    return Err(io::Error::from_raw_os_error(
                        rustix::io::Errno::LOOP.raw_os_error(),
                    ));
                }
                let target = std::fs::read_link(&here)?;
                if target.is_absolute() {
                    done.clear();
                }
                for (i, p) in parts(&target).into_iter().enumerate() {
                    todo.insert(i, p);
                }
            }
            _ => done.push(c),
        }
    }
    let mut out = root.to_path_buf();
    out.extend(&done);
    Ok(out)
}

/// The error for a FIFO, socket, device or directory where a regular file was expected,
/// naming the kind: `not a regular file (a FIFO)`.
pub(crate) fn not_regular(ft: std::fs::FileType) -> io::Error {
    use std::os::unix::fs::FileTypeExt;
    let what = if ft.is_dir() {
        Some("a directory")
    } else if ft.is_fifo() {
        Some("a FIFO")
    } else if ft.is_char_device() {
        Some("a character device")
    } else if ft.is_block_device() {
        Some("a block device")
    } else if ft.is_socket() {
        Some("a socket")
    } else {
        None
    };
    let text = match what {
        Some(w) => format!("not a regular file ({w})"),
        None => "not a regular file".to_owned(),
    };
    io::Error::new(io::ErrorKind::InvalidInput, text)
}

/// Opens `path` under `root` for reading: non-blocking, and only a regular file (or a
/// directory when `allow_dir`, for callers that expect `EISDIR` from the read).
///
/// # Errors
/// The open error, or `InvalidInput` "not a regular file (…)".
pub fn open_read(root: &Path, path: &Path, allow_dir: bool) -> io::Result<File> {
    let f = open_in(root, path, OFlags::RDONLY | OFlags::NONBLOCK)?;
    let ft = f.metadata()?.file_type();
    if ft.is_file() || (allow_dir && ft.is_dir()) {
        Ok(f)
    } else {
        Err(not_regular(ft))
    }
}

/// Reads all of `f` up to `limit` bytes (`InvalidData` "larger than LIMIT bytes" past it),
/// for a regular file whose size `stat` gave: a non-zero `size`
/// within the limit is read as that many bytes (one `read` for a small file, no second
/// one to see the end); size 0 (procfs and securityfs report it) reads to the end.
fn read_sized(f: &mut File, size: u64, limit: u64) -> io::Result<Vec<u8>> {
    match size {
        n if n > 0 && n <= limit => {
            let mut buf = vec![0u8; n as usize];
            let mut got = 0;
            while got < buf.len() {
                match f.read(&mut buf[got..]) {
                    Ok(0) => break,
                    Ok(k) => got += k,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            buf.truncate(got);
            Ok(buf)
        }
        n if n > limit => Err(too_large(limit)),
        _ => {
            let mut buf = Vec::new();
            f.take(limit + 1).read_to_end(&mut buf)?;
            if buf.len() as u64 > limit {
                return Err(too_large(limit));
            }
            Ok(buf)
        }
    }
}

/// The error for a file over its cap.
pub(crate) fn too_large(limit: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("larger than {limit} bytes"),
    )
}

/// Reads the regular file `path` under `root`, at most `limit` bytes.
///
/// # Errors
/// As [`open_read`]; `InvalidData` "larger than LIMIT bytes" past `limit`.
pub fn read_limited(root: &Path, path: impl AsRef<Path>, limit: u64) -> io::Result<Vec<u8>> {
    read_regular(
        open_in(root, path.as_ref(), OFlags::RDONLY | OFlags::NONBLOCK)?,
        limit,
    )
}

/// Reads the opened `f` whole, at most `limit` bytes, if it is a regular file.
fn read_regular(mut f: File, limit: u64) -> io::Result<Vec<u8>> {
    let md = f.metadata()?;
    if !md.file_type().is_file() {
        return Err(not_regular(md.file_type()));
    }
    read_sized(&mut f, md.len(), limit)
}

/// Opens the folder `path` under `root` (resolved inside it) as a base for
/// [`read_beneath`] and [`read_link_beneath`]: a scan that reads several files of one folder
/// resolves the folder once.
///
/// # Errors
/// The open error (`ENOTDIR` when it is not a folder).
pub fn open_dir(root: &Path, path: &Path) -> io::Result<File> {
    open_in(root, path, OFlags::PATH | OFlags::DIRECTORY)
}

/// Reads the regular file `rel` below the folder `dir` (from [`open_dir`]), at most `limit`
/// bytes: `rel` may not leave `dir` (`RESOLVE_BENEATH`: no `..` above it, no absolute
/// link), so the read stays where the folder was resolved.
///
/// # Errors
/// As [`read_limited`]; `EXDEV` for a path that would leave `dir`.
pub fn read_beneath(dir: &File, rel: &str, limit: u64) -> io::Result<Vec<u8>> {
    let how = ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS;
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let f = loop {
        match rustix::fs::openat2(dir, rel, flags, Mode::empty(), how) {
            Ok(fd) => break File::from(fd),
            Err(rustix::io::Errno::AGAIN) => continue,
            Err(e) => return Err(e.into()),
        }
    };
    read_regular(f, limit)
}

/// Reads the text of the symlink `name` in the folder `dir` (from [`open_dir`]), not
/// following it.
///
/// # Errors
/// The OS error (`EINVAL` when it is not a symlink).
pub fn read_link_beneath(dir: &File, name: &str) -> io::Result<PathBuf> {
    use std::os::unix::ffi::OsStringExt;
    let t = rustix::fs::readlinkat(dir, name, Vec::new())?;
    Ok(PathBuf::from(OsString::from_vec(t.into_bytes())))
}

/// One directory entry: its name and type (`None` when the type cannot be told).
#[derive(Debug, Clone)]
pub struct Entry {
    /// The entry's name.
    pub name: OsString,
    /// Its type, without following a symlink.
    pub kind: Option<EntryKind>,
}

/// The type of a directory entry (a symlink is reported as such, never followed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    Symlink,
    /// A FIFO, socket or device.
    Other,
}

/// Lists the directory `path` under `root` (`.` and `..` left out), in the order the file
/// system returns.
///
/// # Errors
/// The open or read error (`ENOTDIR` when `path` is not a directory).
pub fn read_dir(root: &Path, path: &Path) -> io::Result<Vec<Entry>> {
    use std::os::unix::ffi::OsStrExt;
    let f = open_in(
        root,
        path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NONBLOCK,
    )?;
    let dir = rustix::fs::Dir::read_from(&f)?;
    let mut out = Vec::new();
    for e in dir {
        let e = e?;
        let name = e.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        let kind = match e.file_type() {
            rustix::fs::FileType::Unknown => {
                match rustix::fs::statat(&f, e.file_name(), rustix::fs::AtFlags::SYMLINK_NOFOLLOW) {
                    Ok(st) => Some(kind_of(rustix::fs::FileType::from_raw_mode(st.st_mode))),
                    Err(_) => None,
                }
            }
            other => Some(kind_of(other)),
        };
        out.push(Entry {
            name: std::ffi::OsStr::from_bytes(name).to_owned(),
            kind,
        });
    }
    Ok(out)
}

fn kind_of(t: rustix::fs::FileType) -> EntryKind {
    match t {
        rustix::fs::FileType::RegularFile => EntryKind::File,
        rustix::fs::FileType::Directory => EntryKind::Dir,
        rustix::fs::FileType::Symlink => EntryKind::Symlink,
        _ => EntryKind::Other,
    }
}

/// Splits `path` into its parent and last name (`EINVAL` when it has no last name).
fn split(path: &Path) -> io::Result<(&Path, &std::ffi::OsStr)> {
    match (path.parent(), path.file_name()) {
        (Some(p), Some(n)) => Ok((
            if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            },
            n,
        )),
        _ => Err(io::Error::from(io::ErrorKind::InvalidInput)),
    }
}

/// Reads the text of the symlink `path` under `root` (its parent resolved inside the root;
/// the link itself is not followed).
///
/// # Errors
/// The OS error (`EINVAL` when `path` is not a symlink).
pub fn read_link(root: &Path, path: &Path) -> io::Result<PathBuf> {
    use std::os::unix::ffi::OsStringExt;
    let (parent, name) = split(path)?;
    let dir = open_in(root, parent, OFlags::PATH | OFlags::DIRECTORY)?;
    let t = rustix::fs::readlinkat(&dir, name, Vec::new())?;
    Ok(PathBuf::from(OsString::from_vec(t.into_bytes())))
}

/// The metadata of `path` under `root`, symlinks followed inside the root.
///
/// # Errors
/// The OS error (`ENOENT` when it does not exist).
pub fn stat(root: &Path, path: &Path) -> io::Result<std::fs::Metadata> {
    open_in(root, path, OFlags::PATH)?.metadata()
}

/// The type of `path` under `root`, symlinks followed inside the root.
///
/// # Errors
/// The OS error (`ENOENT` when it does not exist).
pub fn kind(root: &Path, path: &Path) -> io::Result<EntryKind> {
    let f = open_in(root, path, OFlags::PATH)?;
    let st = rustix::fs::fstat(&f)?;
    Ok(kind_of(rustix::fs::FileType::from_raw_mode(st.st_mode)))
}

/// The error for a write whose real location `real` is outside the root (the caller
/// names the path it was asked to write).
pub(crate) fn escapes(real: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!(
            "leads outside the root to {} (refused)",
            crate::escape::escape_str(&real.to_string_lossy())
        ),
    )
}

/// The canonical form of `path` where it exists; where it does not, the canonical form of
/// its nearest existing ancestor with the missing names appended (they cannot be links).
fn canonical_or_missing(path: &Path) -> io::Result<PathBuf> {
    let mut missing: Vec<&std::ffi::OsStr> = Vec::new();
    let mut cur = path;
    loop {
        match std::fs::canonicalize(cur) {
            Ok(mut c) => {
                for m in missing.iter().rev() {
                    c.push(m);
                }
                return Ok(c);
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let (parent, name) = match (cur.parent(), cur.file_name()) {
                    (Some(p), Some(n)) => (p, n),
                    _ => return Err(e),
                };
                missing.push(name);
                cur = if parent.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    parent
                };
            }
            Err(e) => return Err(e),
        }
    }
}

/// Where writing `path` lands, for a write that follows a symlink at the last component
/// (a profile edit keeps a symlinked profile a link and writes its target): the real path,
/// links followed as the host follows them, also a dangling last link. Under a root other
/// than `/`, a real path outside the root is refused.
///
/// # Errors
/// `PermissionDenied` "leads outside the root to REAL (refused)"; `ELOOP`; the error of a
/// failed `readlink`.
pub fn write_target(root: &Path, path: &Path) -> io::Result<PathBuf> {
    let mut cur = path.to_path_buf();
    for _ in 0..=MAX_LINKS {
        let (parent, name) = split(&cur)?;
        let here = canonical_or_missing(parent)?.join(name);
        match std::fs::symlink_metadata(&here) {
            Ok(md) if md.file_type().is_symlink() => {
                let t = std::fs::read_link(&here)?;
                cur = match here.parent() {
                    Some(p) if t.is_relative() => p.join(t),
                    _ => t,
                };
            }
            _ => {
                check_inside(root, path, &here)?;
                return Ok(here);
            }
        }
    }
    Err(io::Error::from_raw_os_error(
        rustix::io::Errno::LOOP.raw_os_error(),
    ))
}

/// Refuses `real` (where a write of `path` lands) when `path` is under `root` (not `/`)
/// and `real` is not. A path the user named outside the root is not confined.
fn check_inside(root: &Path, path: &Path, real: &Path) -> io::Result<()> {
    if below(root, path).is_some() {
        let croot = std::fs::canonicalize(root)?;
        if !real.starts_with(&croot) {
            return Err(escapes(real));
        }
    }
    Ok(())
}

/// The real directory that holds the last component of `path` (a link to create or
/// remove, a temporary file beside it): the parent resolved as the host resolves it.
/// For a path under a root other than `/`, a directory outside the root is refused (a
/// path the user named outside the root is not confined).
///
/// # Errors
/// `PermissionDenied` "leads outside the root to REAL (refused)", or the resolution error.
pub fn link_parent(root: &Path, path: &Path) -> io::Result<PathBuf> {
    let (parent, _) = split(path)?;
    let real = canonical_or_missing(parent)?;
    check_inside(root, path, &real)?;
    Ok(real)
}

/// `SECURITYFS_MAGIC` from the kernel's `magic.h`.
const SECURITYFS_MAGIC: i64 = 0x7363_6673;

/// True when `f` is on securityfs.
fn on_securityfs(f: &File) -> io::Result<bool> {
    Ok(rustix::fs::fstatfs(f)?.f_type as i64 == SECURITYFS_MAGIC)
}

/// The refusal of a control file that is a symlink.
fn symlink_refused() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, "is a symlink (refused)")
}

/// Opens a kernel control file (`.load`, `.replace`, `.remove`) for one write: never
/// through a symlink (`O_NOFOLLOW`), never blocking, and only a securityfs file or a
/// regular file (a fake tree in tests). [`control_path`] decides beforehand whether the
/// path is acceptable for the root in use.
///
/// # Errors
/// "is a symlink (refused)", "not a regular file (…)", or the open error.
pub fn open_control(path: &Path) -> io::Result<File> {
    let flags = OFlags::WRONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let f = match rustix::fs::open(path, flags, Mode::empty()) {
        Ok(f) => File::from(f),
        Err(rustix::io::Errno::LOOP) => return Err(symlink_refused()),
        Err(e) => return Err(e.into()),
    };
    if on_securityfs(&f)? {
        return Ok(f);
    }
    let ft = f.metadata()?.file_type();
    if ft.is_file() {
        Ok(f)
    } else {
        Err(not_regular(ft))
    }
}

/// Checks the kernel control file `path` before it is written or handed to another
/// program (apparmor_parser's `--subdomainfs` folder holds them), and returns the real
/// path to use: never a symlink; on the host (root `/`) it must be on securityfs; under
/// another root it is resolved inside that root and must be a regular file there (a fake
/// tree). A missing file is passed on as its real path (the writer reports `ENOENT`).
///
/// # Errors
/// "is a symlink (refused)", "not on securityfs (refused)", "not a regular file (…)",
/// or the resolution error.
pub fn control_path(root: &Path, path: &Path) -> io::Result<PathBuf> {
    let (parent, name) = split(path)?;
    let real = control_folder(root, parent)?.join(name);
    check_control(is_host_root(root), &real)?;
    Ok(real)
}

/// Where the folder `dir` of the control files really is: as given on the host, else
/// resolved inside `root`.
fn control_folder(root: &Path, dir: &Path) -> io::Result<PathBuf> {
    if is_host_root(root) {
        Ok(dir.to_path_buf())
    } else {
        resolve_in_root(root, below(root, dir).unwrap_or(dir))
    }
}

/// Checks the control file at its real location `real` (see [`control_path`]): not a
/// symlink, and on securityfs (`host`) or a regular file. A missing file passes.
fn check_control(host: bool, real: &Path) -> io::Result<()> {
    let f = match rustix::fs::open(
        real,
        OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(f) => File::from(f),
        Err(rustix::io::Errno::NOENT) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let st = rustix::fs::fstat(&f)?;
    let ft = rustix::fs::FileType::from_raw_mode(st.st_mode);
    if ft == rustix::fs::FileType::Symlink {
        return Err(symlink_refused());
    }
    if host {
        if !on_securityfs(&f)? {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not on securityfs (refused)",
            ));
        }
    } else if ft != rustix::fs::FileType::RegularFile {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file (refused)",
        ));
    }
    Ok(())
}

/// The folder holding the kernel control files, as handed to apparmor_parser
/// (`--subdomainfs`): resolved inside `root`, and each of `.load`, `.replace` and
/// `.remove` checked by [`control_path`]. Returns the real folder.
///
/// # Errors
/// The path refused (the folder, or the control file in it) and why, as
/// [`control_path`].
pub fn control_dir(root: &Path, dir: &Path) -> Result<PathBuf, (PathBuf, io::Error)> {
    let real = control_folder(root, dir).map_err(|e| (dir.to_owned(), e))?;
    for name in [".load", ".replace", ".remove"] {
        check_control(is_host_root(root), &real.join(name)).map_err(|e| (dir.join(name), e))?;
    }
    Ok(real)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tree() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("root");
        let outside = d.path().join("outside");
        std::fs::create_dir_all(root.join("etc/sub")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret"), "CANARY").unwrap();
        std::fs::write(root.join("etc/secret"), "inside").unwrap();
        (d, root, outside)
    }

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let (_d, root, outside) = tree();
        symlink(outside.join("secret"), root.join("abs")).unwrap();
        symlink("../../../../../../outside/secret", root.join("etc/rel")).unwrap();
        symlink("/etc/secret", root.join("etc/sub/inroot")).unwrap();
        // An absolute link is taken from the root: there is no root/<outside>/secret.
        assert!(read_limited(&root, root.join("abs"), 100).is_err());
        assert!(read_limited(&root, root.join("etc/rel"), 100).is_err());
        assert_eq!(
            read_limited(&root, root.join("etc/sub/inroot"), 100).unwrap(),
            b"inside"
        );
        assert_eq!(
            resolve_in_root(&root, Path::new("etc/sub/inroot")).unwrap(),
            root.join("etc/secret")
        );
        assert_eq!(
            resolve_in_root(&root, Path::new("../../etc/secret")).unwrap(),
            root.join("etc/secret")
        );
    }

    #[test]
    fn refuses_what_is_not_a_file_and_caps() {
        let (_d, root, _o) = tree();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            root.join("fifo"),
            rustix::fs::FileType::Fifo,
            Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let e = read_limited(&root, root.join("fifo"), 10).unwrap_err();
        assert_eq!(e.to_string(), "not a regular file (a FIFO)");
        let e = read_limited(&root, root.join("etc"), 10).unwrap_err();
        assert_eq!(e.to_string(), "not a regular file (a directory)");
        let big = root.join("big");
        File::create(&big).unwrap().set_len(3 << 30).unwrap();
        let e = read_limited(&root, &big, 4096).unwrap_err();
        assert_eq!(e.to_string(), "larger than 4096 bytes");
        assert_eq!(
            read_limited(&root, root.join("etc/secret"), 6).unwrap(),
            b"inside"
        );
    }

    #[test]
    fn writes_never_leave_the_root() {
        let (_d, root, outside) = tree();
        symlink(outside.join("secret"), root.join("etc/out")).unwrap();
        symlink(&outside, root.join("etc/outdir")).unwrap();
        symlink(outside.join("new"), root.join("etc/dangling")).unwrap();
        for p in ["etc/out", "etc/outdir/x", "etc/dangling"] {
            let e = write_target(&root, &root.join(p)).unwrap_err();
            assert!(e.to_string().contains("leads outside the root"), "{p}: {e}");
        }
        assert!(link_parent(&root, &root.join("etc/outdir/x")).is_err());
        let croot = std::fs::canonicalize(&root).unwrap();
        assert_eq!(
            write_target(&root, &root.join("etc/secret")).unwrap(),
            croot.join("etc/secret")
        );
        assert_eq!(
            write_target(&root, &root.join("etc/new/deeper")).unwrap(),
            croot.join("etc/new/deeper")
        );
    }

    #[test]
    fn control_files_are_not_followed() {
        let (_d, root, outside) = tree();
        symlink(outside.join("secret"), root.join(".remove")).unwrap();
        let e = open_control(&root.join(".remove")).unwrap_err();
        assert_eq!(e.to_string(), "is a symlink (refused)");
        let e = control_path(&root, &root.join(".remove")).unwrap_err();
        assert_eq!(e.to_string(), "is a symlink (refused)");
        assert!(control_dir(&root, &root).is_err());
        std::fs::write(root.join(".load"), "").unwrap();
        assert!(open_control(&root.join(".load")).is_ok());
        // On the host a regular file is not securityfs.
        let e = control_path(Path::new("/"), &root.join(".load")).unwrap_err();
        assert_eq!(e.to_string(), "not on securityfs (refused)");
        // A folder reached through a symlink out of the root is taken inside the root.
        symlink(&outside, root.join("sfs")).unwrap();
        std::fs::create_dir_all(root.join(outside.strip_prefix("/").unwrap())).unwrap();
        let real = control_dir(&root, &root.join("sfs")).unwrap();
        assert!(real.starts_with(&root), "{}", real.display());
        assert_eq!(std::fs::read(outside.join("secret")).unwrap(), b"CANARY");
    }

    /// Builds a small tree under a root from `links` (place → target) beside plain files
    /// and folders, then checks that `path` opens inside the root and that the kernel's
    /// walk (`openat2`) and the user-space one (`resolve_in_root`) agree.
    fn confined(links: &[(usize, &str)], path: &str) -> Result<(), String> {
        use std::os::fd::AsRawFd;
        let d = tempfile::tempdir().map_err(|e| e.to_string())?;
        let root = d.path().join("root");
        let outside = d.path().join("outside");
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("f"), "CANARY").unwrap();
        std::fs::write(root.join("a/f"), "in").unwrap();
        std::fs::write(root.join("a/b/f"), "in").unwrap();
        let places = ["l0", "a/l1", "a/b/l2", "a/l3"];
        for (i, t) in links {
            let t = t.replace("OUT", &outside.display().to_string());
            let _ = symlink(&t, root.join(places[*i % places.len()]));
        }
        let rel = Path::new(path.trim_start_matches('/'));
        let croot = std::fs::canonicalize(&root).unwrap();
        let walked = resolve_in_root(&root, rel)
            .ok()
            .and_then(|w| std::fs::canonicalize(w).ok());
        match open_in(&root, &root.join(rel), OFlags::PATH) {
            Ok(f) => {
                let real = std::fs::read_link(format!("/proc/self/fd/{}", f.as_raw_fd())).unwrap();
                if !real.starts_with(&croot) {
                    return Err(format!("{path} opened {}", real.display()));
                }
                if walked.as_ref() != Some(&real) {
                    return Err(format!(
                        "{path}: kernel {} vs walk {walked:?}",
                        real.display()
                    ));
                }
            }
            // Whatever the kernel refused, the walk must not find a way out either.
            Err(_) => {
                if let Some(w) = walked.filter(|w| !w.starts_with(&croot)) {
                    return Err(format!("{path}: walk left the root: {}", w.display()));
                }
            }
        }
        Ok(())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
        #[test]
        fn random_paths_never_resolve_outside(
            links in proptest::collection::vec(
                (0usize..4, proptest::sample::select(vec![
                    "/", "..", "../..", "../../../..", "OUT", "OUT/f", "/a", "/a/b/..", "l0",
                    "../l0", "a/l1", "/l0/../..", "b/l2", "../../outside/f",
                    "../../../../../../proc/self/root",
                ])),
                0..5,
            ),
            parts in proptest::collection::vec(
                proptest::sample::select(vec!["a", "b", "f", "..", ".", "l0", "l1", "l2", "l3", "x"]),
                0..6,
            ),
            absolute in proptest::bool::ANY,
        ) {
            let mut path = parts.join("/");
            if absolute {
                path.insert(0, '/');
            }
            if let Err(e) = confined(&links, &path) {
                proptest::prop_assert!(false, "{}", e);
            }
        }
    }
}
