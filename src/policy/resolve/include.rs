//! Include search (docs/policy-language.md, "Include resolution"): `-I` directories in order then the base
//! directory for `<name>`; `"name"` and bare names relative to the working
//! directory; directory includes with apparmor_parser's skip list and order.

use super::Resolver;
use crate::policy::ast::IncludeTarget;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Deepest chain of nested includes followed before giving up.
pub const MAX_INCLUDE_DEPTH: usize = 64;

/// Where includes are looked up.
#[derive(Debug, Clone, Default)]
pub struct SearchPath {
    /// `-I` directories, in command-line order.
    pub include_dirs: Vec<PathBuf>,
    /// The base directory (searched last), usually `/etc/apparmor.d`.
    pub base: Option<PathBuf>,
    /// Directory that `"name"` and bare includes are relative to.
    pub cwd: PathBuf,
    /// When not empty, the only folders includes may be read from: an include whose
    /// real path (symlinks followed, canonical) is outside all of them is reported
    /// (`R0010`) and not read, so a planted link or an `include "/etc/shadow"` cannot
    /// make a checker read and quote files outside the policy tree. Give canonical
    /// paths. Empty: no limit (apparmor_parser's behaviour).
    pub within: Vec<PathBuf>,
}

impl SearchPath {
    /// The search of a profile directory `dir` read under `root`: `dir` as base
    /// and current folder, and, when `root` is not `/` and holds `dir`, includes
    /// limited to the root ([`SearchPath::within`]).
    pub fn profile_dir(root: &Path, dir: &Path) -> SearchPath {
        let within = if root == Path::new("/") || !dir.starts_with(root) {
            Vec::new()
        } else {
            vec![std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf())]
        };
        SearchPath {
            include_dirs: Vec::new(),
            base: Some(dir.to_path_buf()),
            cwd: dir.to_path_buf(),
            within,
        }
    }

    /// True when `real` (a canonical path) may be read as an include (see
    /// [`SearchPath::within`]).
    pub fn allows(&self, real: &Path) -> bool {
        self.within.is_empty() || self.within.iter().any(|w| real.starts_with(w))
    }

    /// The search directories for `<name>` in order.
    pub fn dirs(&self) -> impl Iterator<Item = &Path> {
        self.include_dirs
            .iter()
            .map(PathBuf::as_path)
            .chain(self.base.as_deref())
    }

    /// Finds the file or directory an include names, or `None`.
    pub fn find(&self, target: &IncludeTarget) -> Option<PathBuf> {
        match target {
            IncludeTarget::Angle { name, .. } => self
                .dirs()
                .map(|d| PathBuf::from(format!("{}/{}", d.display(), name)))
                .find(|p| p.exists()),
            IncludeTarget::Quoted(n) | IncludeTarget::Bare(n) => {
                let n = crate::policy::ast::unescape(n);
                let p = Path::new(&n);
                let p = if p.is_absolute() {
                    p.to_path_buf()
                } else {
                    self.cwd.join(p)
                };
                p.exists().then_some(p)
            }
        }
    }
}

/// What to do with a directory entry when a whole directory is included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// Use it.
    No,
    /// Skip silently (dot files, README, package-manager leftovers).
    Silent,
    /// Skip with apparmor_parser's "Ignoring: 'path'" message.
    Noisy,
}

/// Classifies a directory entry name as apparmor_parser does when it
/// includes or loads a directory.
pub fn skip_entry(name: &str) -> Skip {
    const SILENT: &[&str] = &[
        ".dpkg-new",
        ".dpkg-old",
        ".dpkg-dist",
        ".dpkg-bak",
        ".dpkg-remove",
        ".pacsave",
        ".pacnew",
    ];
    const NOISY: &[&str] = &[".rpmnew", ".rpmsave", ".orig", ".rej", "~"];
    if name.is_empty() || name.starts_with('.') || name == "README" {
        return Skip::Silent;
    }
    if SILENT.iter().any(|s| name.ends_with(s)) {
        return Skip::Silent;
    }
    if NOISY.iter().any(|s| name.ends_with(s)) {
        return Skip::Noisy;
    }
    Skip::No
}

/// The regular files (symlinks followed) of `dir` that apparmor_parser would
/// use, sorted by name, non-recursively; plus the noisily skipped ones.
pub fn dir_entries(dir: &Path) -> std::io::Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    dir_entries_with_errors(dir).map(|(u, i, _)| (u, i))
}

/// An entry of a profile directory that could not be examined (a symlink
/// loop, a dangling or unreadable link): its path and why.
pub type EntryError = (PathBuf, std::io::Error);

/// As [`dir_entries`], also returning the entries that could not be
/// examined (apparmor_parser fails on these, e.g. exit 40 for a symlink loop).
#[allow(clippy::type_complexity)]
pub fn dir_entries_with_errors(
    dir: &Path,
) -> std::io::Result<(Vec<PathBuf>, Vec<PathBuf>, Vec<EntryError>)> {
    let mut use_ = Vec::new();
    let mut ignored = Vec::new();
    let mut errors = Vec::new();
    for e in walkdir::WalkDir::new(dir)
        .min_depth(1)
        .max_depth(1)
        .follow_links(true)
        .sort_by_file_name()
    {
        let e = match e {
            Ok(e) => e,
            Err(err) => {
                if err.depth() == 0 {
                    return Err(err
                        .into_io_error()
                        .unwrap_or_else(|| std::io::Error::other("walk failed")));
                }
                // a link back to an ancestor directory is a directory: skipped
                // like every directory
                if err.loop_ancestor().is_none() {
                    let path = err.path().map(Path::to_path_buf).unwrap_or_default();
                    let e = err
                        .into_io_error()
                        .unwrap_or_else(|| std::io::Error::other("walk failed"));
                    errors.push((path, e));
                }
                continue;
            }
        };
        if !e.file_type().is_file() {
            continue;
        }
        let name = e.file_name().to_string_lossy();
        match skip_entry(&name) {
            Skip::No => use_.push(e.into_path()),
            Skip::Silent => {}
            Skip::Noisy => ignored.push(e.into_path()),
        }
    }
    Ok((use_, ignored, errors))
}

// The resolver's include lookups, kept here beside the search they use.

#[derive(Debug)]
pub(super) enum Found {
    File(Entry),
    Dir {
        files: Vec<Entry>,
        ignored: Vec<PathBuf>,
    },
    DirError(PathBuf, String),
}

/// One file an include names: its path as found, its real path (links followed),
/// their numbers in [`Resolver::numbers`], and whether the search path allows it.
#[derive(Debug)]
pub(super) struct Entry {
    pub(super) path: PathBuf,
    pub(super) path_no: u32,
    pub(super) key: PathBuf,
    pub(super) key_no: u32,
    pub(super) allowed: bool,
}

impl Resolver {
    pub(super) fn lookup(&mut self, target: &IncludeTarget) -> Option<Arc<Found>> {
        if let Some(f) = self.found.get(target) {
            return f.clone();
        }
        let r = self.search.find(target).map(|path| {
            Arc::new(if path.is_dir() {
                match dir_entries(&path) {
                    Ok((mut files, ignored)) => {
                        // apparmor_parser pushes each entry on its lexer stack: last name first
                        files.reverse();
                        Found::Dir {
                            files: files.into_iter().map(|f| self.entry(f)).collect(),
                            ignored,
                        }
                    }
                    Err(e) => Found::DirError(path, crate::system::strerror(&e)),
                }
            } else {
                Found::File(self.entry(path))
            })
        });
        self.found.insert(target.clone(), r.clone());
        r
    }

    /// The number of `path` in [`Resolver::numbers`].
    pub(super) fn number(&mut self, path: &Path) -> u32 {
        if let Some(n) = self.numbers.get(path) {
            return *n;
        }
        let n = u32::try_from(self.numbers.len()).unwrap_or(u32::MAX);
        self.numbers.insert(path.to_path_buf(), n);
        n
    }

    /// The [`Entry`] of the file `path` an include names.
    fn entry(&mut self, path: PathBuf) -> Entry {
        let key = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        Entry {
            path_no: self.number(&path),
            key_no: self.number(&key),
            allowed: self.search.allows(&key),
            path,
            key,
        }
    }
}
