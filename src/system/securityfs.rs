//! securityfs/apparmor: the `profiles` list, the `policy/` tree, `features/` and `revision`
//! (docs/runtime.md, "Files under the AppArmor directory").

use super::{FeatureNode, Features, System, SystemError, fs, read_trimmed};
use crate::label::{Label, Mode};
use rustix::fs::OFlags;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// One line of `securityfs/apparmor/profiles`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileLine {
    /// A loaded profile: its full name as printed (`:ns:name`, `parent//hat`) and its mode.
    Profile {
        /// The profile name, relative to the reader's namespace.
        name: String,
        /// Its mode (`user` reads as [`Mode::Prompt`]).
        mode: Mode,
    },
    /// A line that does not split as `NAME (MODE)` (including a bare `unconfined`).
    Malformed {
        /// The line as read, including its trailing `\n` when it had one.
        line: String,
        /// 1-based line number.
        lineno: usize,
    },
}

/// The parsed `profiles` file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfilesList {
    /// The path that was read.
    pub path: PathBuf,
    /// Every line in kernel order.
    pub lines: Vec<ProfileLine>,
    /// Set when reading stopped early on an I/O error (e.g. `profiles` is a directory); the
    /// lines read before it are kept. The text is `strerror`-style.
    pub read_error: Option<String>,
}

impl ProfilesList {
    /// Parses the text of a `profiles` file (pure). Each line is split with the strict
    /// `aa_splitcon` rule; a line without a mode becomes [`ProfileLine::Malformed`].
    pub fn parse(path: PathBuf, text: &str) -> ProfilesList {
        let mut lines = Vec::new();
        for (i, line) in text.split_inclusive('\n').enumerate() {
            match crate::label::split_con(line) {
                Some((name, Some(mode))) => lines.push(ProfileLine::Profile {
                    name: name.to_owned(),
                    mode: Mode::from_word(mode),
                }),
                _ => lines.push(ProfileLine::Malformed {
                    line: line.to_owned(),
                    lineno: i + 1,
                }),
            }
        }
        ProfilesList {
            path,
            lines,
            read_error: None,
        }
    }

    /// The well-formed profiles, in kernel order.
    pub fn profiles(&self) -> impl Iterator<Item = (&str, &Mode)> {
        self.lines.iter().filter_map(|l| match l {
            ProfileLine::Profile { name, mode } => Some((name.as_str(), mode)),
            ProfileLine::Malformed { .. } => None,
        })
    }
}

/// A profile directory of the `policy/` tree.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PolicyProfile {
    /// The directory name (`usr.bin.foo.12`; lossy mangling, never parse it).
    pub dir: String,
    /// Contents of `name`: the full profile name (hats as `parent//child`).
    pub name: String,
    /// Contents of `mode`, when readable.
    pub mode: Option<Mode>,
    /// Contents of `attach`, when readable (`<unknown>` when only a DFA exists).
    pub attach: Option<String>,
    /// First line of `identity` (not in mainline kernels) when the file exists; empty when
    /// the profile has none.
    pub identity: Option<String>,
    /// Child profiles and hats (`profiles/` inside the directory).
    pub children: Vec<PolicyProfile>,
}

/// A namespace directory of the `policy/` tree (the reader's namespace at the top).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PolicyNamespace {
    /// The namespace name relative to the reader (empty for the reader's own namespace).
    pub name: String,
    /// Its top-level profiles, sorted by directory name.
    pub profiles: Vec<PolicyProfile>,
    /// Child namespaces, sorted by name.
    pub namespaces: Vec<PolicyNamespace>,
}

impl PolicyNamespace {
    /// Every profile of this namespace and its children, depth first, with its namespace path
    /// (`""` for the top, `ns1//ns2` below).
    pub fn walk(&self) -> Vec<(String, &PolicyProfile)> {
        fn profs<'a>(ns: &str, p: &'a PolicyProfile, out: &mut Vec<(String, &'a PolicyProfile)>) {
            out.push((ns.to_owned(), p));
            for c in &p.children {
                profs(ns, c, out);
            }
        }
        fn go<'a>(
            prefix: &str,
            n: &'a PolicyNamespace,
            out: &mut Vec<(String, &'a PolicyProfile)>,
        ) {
            for p in &n.profiles {
                profs(prefix, p, out);
            }
            for c in &n.namespaces {
                let path = if prefix.is_empty() {
                    c.name.clone()
                } else {
                    format!("{prefix}//{}", c.name)
                };
                go(&path, c, out);
            }
        }
        let mut out = Vec::new();
        go("", self, &mut out);
        out
    }
}

/// What to read of each profile of the `policy/` tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Depth {
    /// `name`, `mode`, `attach`, `identity`.
    Full,
    /// `name` and `attach` only (two files per profile instead of four).
    Attachments,
}

fn read_policy_profile(root: &Path, dir: &Path, depth: Depth) -> PolicyProfile {
    let name_of = |f: &str| match depth {
        Depth::Full => read_trimmed(root, &dir.join(f)).ok(),
        // as a process's files are read: no `stat` unless the file looks odd
        Depth::Attachments => {
            let f = fs::open_in(root, &dir.join(f), OFlags::RDONLY | OFlags::NONBLOCK).ok()?;
            let mut s = String::from_utf8_lossy(&super::proc::read_small_file(f)?).into_owned();
            if s.ends_with('\n') {
                s.pop();
            }
            Some(s)
        }
    };
    let dirname = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let full = depth == Depth::Full;
    let identity = full
        .then(|| crate::system::fs::read_limited(root, dir.join("identity"), fs::limits::PAGE).ok())
        .flatten()
        .map(|b| {
            let s = String::from_utf8_lossy(&b);
            s.split('\n').next().unwrap_or("").to_owned()
        });
    PolicyProfile {
        name: name_of("name").unwrap_or_default(),
        mode: full
            .then(|| name_of("mode"))
            .flatten()
            .map(|m| Mode::from_word(m.trim())),
        attach: name_of("attach"),
        identity,
        children: read_profiles_dir(root, &dir.join("profiles"), depth),
        dir: dirname,
    }
}

fn sorted_subdirs(root: &Path, dir: &Path) -> Vec<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let mut names: Vec<std::ffi::OsString> = match fs::read_dir(root, dir) {
        Ok(rd) => rd
            .into_iter()
            // Real directories only: a symbolic link (a loop in a snapshot) is not followed.
            .filter(|e| e.kind == Some(fs::EntryKind::Dir))
            .map(|e| e.name)
            .collect(),
        Err(_) => Vec::new(),
    };
    // by name, bytewise (the order of the joined paths, without comparing them component
    // by component)
    names.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    names.into_iter().map(|n| dir.join(n)).collect()
}

fn read_profiles_dir(root: &Path, dir: &Path, depth: Depth) -> Vec<PolicyProfile> {
    sorted_subdirs(root, dir)
        .iter()
        .map(|d| read_policy_profile(root, d, depth))
        .collect()
}

fn read_namespace(root: &Path, dir: &Path, name: String, depth: Depth) -> PolicyNamespace {
    PolicyNamespace {
        name,
        profiles: read_profiles_dir(root, &dir.join("profiles"), depth),
        namespaces: sorted_subdirs(root, &dir.join("namespaces"))
            .iter()
            .map(|d| {
                let n = d
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                read_namespace(root, d, n, depth)
            })
            .collect(),
    }
}

/// Deepest `features/` nesting read (the kernel's is 3 levels); deeper entries are left out.
const MAX_FEATURE_DEPTH: usize = 64;

fn read_feature_node(root: &Path, path: &Path, depth: usize) -> std::io::Result<FeatureNode> {
    if fs::kind(root, path)? == fs::EntryKind::Dir {
        let mut map = BTreeMap::new();
        if depth >= MAX_FEATURE_DEPTH {
            return Ok(FeatureNode::Dir(map));
        }
        for e in fs::read_dir(root, path)? {
            let name = e.name.to_string_lossy().into_owned();
            // The kernel's tree has no symbolic links; following them in a snapshot could
            // loop (each `..` link doubles the walk).
            if name.starts_with('.') || e.kind == Some(fs::EntryKind::Symlink) {
                continue;
            }
            if let Ok(n) = read_feature_node(root, &path.join(&e.name), depth + 1) {
                map.insert(name, n);
            }
        }
        Ok(FeatureNode::Dir(map))
    } else {
        let b = crate::system::fs::read_limited(root, path, fs::limits::FEATURE_ENTRY)?;
        Ok(FeatureNode::Value(String::from_utf8_lossy(&b).into_owned()))
    }
}

impl System {
    /// Reads and splits `<securityfs>/apparmor/profiles`.
    ///
    /// A read error after a successful open (e.g. the path is a directory: EISDIR) ends the
    /// list, as in upstream, and is recorded in [`ProfilesList::read_error`].
    ///
    /// # Errors
    /// [`SystemError::NoSecurityfs`] when securityfs is not found; the open error otherwise
    /// ([`SystemError::PermissionDenied`] for EACCES, as the kernel refuses readers without
    /// policy-view capability).
    pub fn profiles(&self) -> Result<ProfilesList, SystemError> {
        let path = self.securityfs()?.join("profiles");
        self.profiles_at(path)
    }

    /// Like [`System::profiles`] with an explicit `profiles` path.
    ///
    /// # Errors
    /// The open error, with the path.
    pub fn profiles_at(&self, path: PathBuf) -> Result<ProfilesList, SystemError> {
        let mut f =
            super::fs::open_read(&self.root, &path, true).map_err(|e| SystemError::io(&path, e))?;
        let mut buf = Vec::new();
        let limit = fs::limits::PROFILES;
        let read_error = (&mut f)
            .take(limit + 1)
            .read_to_end(&mut buf)
            .err()
            .map(|e| super::strerror(&e));
        if buf.len() as u64 > limit {
            return Err(SystemError::io(&path, fs::too_large(limit)));
        }
        let text = String::from_utf8_lossy(&buf);
        let mut list = ProfilesList::parse(path, &text);
        list.read_error = read_error;
        Ok(list)
    }

    /// Reads the `policy/` tree of the reader's namespace: per profile `name`, `mode`,
    /// `attach` (and `identity` where the kernel has it), children, and child namespaces.
    /// Unreadable entries are left out or `None`.
    ///
    /// # Errors
    /// [`SystemError::NoSecurityfs`], or the error listing `policy/` itself.
    pub fn policy(&self) -> Result<PolicyNamespace, SystemError> {
        self.policy_at(self.securityfs()?.join("policy"))
    }

    /// Like [`System::policy`] with an explicit `policy/` directory (for a caller that has
    /// found securityfs already).
    ///
    /// # Errors
    /// The error listing `dir`.
    pub fn policy_at(&self, dir: PathBuf) -> Result<PolicyNamespace, SystemError> {
        fs::read_dir(&self.root, &dir).map_err(|e| SystemError::io(&dir, e))?;
        Ok(read_namespace(&self.root, &dir, String::new(), Depth::Full))
    }

    /// Like [`System::policy_at`], reading of each profile only `name` and `attach` (its
    /// `mode` and `identity` are `None`): what a list of attachments needs, two files per
    /// profile instead of four.
    ///
    /// # Errors
    /// The error listing `dir`.
    pub fn policy_attachments_at(&self, dir: PathBuf) -> Result<PolicyNamespace, SystemError> {
        fs::read_dir(&self.root, &dir).map_err(|e| SystemError::io(&dir, e))?;
        Ok(read_namespace(
            &self.root,
            &dir,
            String::new(),
            Depth::Attachments,
        ))
    }

    /// Reads `features/` as a tree (or as a string when `features` is a file).
    ///
    /// # Errors
    /// [`SystemError::NoSecurityfs`], or the error reading `features` itself.
    pub fn features(&self) -> Result<Features, SystemError> {
        self.features_at(self.securityfs()?.join("features"))
    }

    /// Like [`System::features`] with an explicit `features` path.
    ///
    /// # Errors
    /// The error reading `dir` itself.
    pub fn features_at(&self, dir: PathBuf) -> Result<Features, SystemError> {
        let root = read_feature_node(&self.root, &dir, 0).map_err(|e| SystemError::io(&dir, e))?;
        Ok(Features { root })
    }

    /// The policy revision counter (`revision`, a decimal number).
    ///
    /// # Errors
    /// [`SystemError::NoSecurityfs`], the read error, or [`SystemError::Io`] with
    /// `InvalidData` when the text is not a number.
    pub fn revision(&self) -> Result<u64, SystemError> {
        self.revision_at(self.securityfs()?.join("revision"))
    }

    /// Like [`System::revision`] with an explicit `revision` path.
    ///
    /// # Errors
    /// The read error, or [`SystemError::Io`] with `InvalidData` when the text is not a
    /// number.
    pub fn revision_at(&self, p: PathBuf) -> Result<u64, SystemError> {
        // One read only: on a live kernel a second read() of `revision` blocks until
        // the policy changes (docs/runtime.md), or fails with EAGAIN
        // when the file was opened non-blocking.
        let s = read_once(&self.root, &p).map_err(|e| SystemError::io(&p, e))?;
        s.trim().parse().map_err(|_| {
            SystemError::io(
                &p,
                std::io::Error::new(std::io::ErrorKind::InvalidData, "not a number"),
            )
        })
    }
}

/// Reads at most 64 bytes with a single `read()` call, as UTF-8 (lossy).
fn read_once(root: &Path, path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut f = fs::open_read(root, path, false)?;
    let mut buf = [0u8; 64];
    let n = f.read(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
}

/// True when profile identities can exist: `features/domain/identity` is present, or the
/// first directory listed in `policy/profiles/` has an `identity` file.
fn kernel_has_identities(root: &Path, sfs: &Path) -> bool {
    if fs::kind(root, &sfs.join("features/domain/identity")).is_ok() {
        return true;
    }
    let dir = sfs.join("policy/profiles");
    let Ok(rd) = fs::read_dir(root, &dir) else {
        return false;
    };
    rd.first()
        .is_some_and(|e| fs::kind(root, &dir.join(&e.name).join("identity")).is_ok())
}

/// The kernel's directory-name mangling for a profile name (lossy), without the `.ID`
/// suffix: leading `/` and `.` dropped, `/` → `.`, whitespace → `_`, only `[A-Za-z0-9._-]` kept.
pub(crate) fn mangle(name: &str) -> String {
    let trimmed = name.trim_start_matches(['/', '.']);
    let mut out = String::with_capacity(trimmed.len());
    for c in trimmed.chars() {
        match c {
            '/' => out.push('.'),
            c if c.is_ascii_whitespace() => out.push('_'),
            c if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') => out.push(c),
            _ => {}
        }
    }
    out
}

impl System {
    /// The identity of each named profile (upstream 6.0 shows it after the name): the first
    /// line of `identity` in the profile's directory of the `policy/` tree, where the kernel
    /// provides it (not mainline). The directory is the one named with the kernel's mangling
    /// of the name plus `.ID`; when several share that stem, the one whose `name` file holds
    /// the name. Hats are looked up in their parent's `profiles/`, `:ns:` names under
    /// `namespaces/NS/`. Returns name → identity; names without one (blank, missing) are
    /// absent. Never fails: without a `policy/` tree there are simply no identities.
    ///
    /// A kernel with identities has the file in every profile directory, so the lookup is
    /// skipped (no per-name work) when `features/domain/identity` is absent and the first
    /// directory of `policy/profiles/` has no `identity` file (mainline kernels). Otherwise
    /// the cost is one directory listing per `profiles/` folder and one open per name.
    pub fn identities<'a>(
        &self,
        names: impl IntoIterator<Item = &'a str>,
    ) -> std::collections::HashMap<String, String> {
        let mut out = std::collections::HashMap::new();
        let Ok(sfs) = self.securityfs() else {
            return out;
        };
        let policy = sfs.join("policy");
        if !kernel_has_identities(&self.root, &sfs) {
            return out;
        }
        // profiles/ directory -> mangled stem -> entries with that stem
        type Index = std::collections::HashMap<String, Vec<String>>;
        let mut listings: std::collections::HashMap<PathBuf, Index> =
            std::collections::HashMap::new();
        for name in names {
            let label = Label::new(name, None);
            let comps = label.components();
            let Some(c) = comps.first() else { continue };
            let mut dir = policy.clone();
            for ns in c.namespace_path() {
                dir = dir.join("namespaces").join(ns);
            }
            let mut found = true;
            for part in c.path() {
                let pdir = dir.join("profiles");
                let index = listings.entry(pdir.clone()).or_insert_with(|| {
                    let mut idx = Index::new();
                    if let Ok(rd) = fs::read_dir(&self.root, &pdir) {
                        for e in rd {
                            let e = e.name.to_string_lossy().into_owned();
                            if let Some((stem, id)) = e.rsplit_once('.')
                                && !id.is_empty()
                                && id.bytes().all(|b| b.is_ascii_digit())
                            {
                                idx.entry(stem.to_owned()).or_default().push(e);
                            }
                        }
                    }
                    idx
                });
                let candidates = index.get(&mangle(part)).map(Vec::as_slice).unwrap_or(&[]);
                let hit = match candidates {
                    [] => None,
                    [only] => Some(pdir.join(only)),
                    many => many.iter().map(|e| pdir.join(e)).find(|d| {
                        read_trimmed(&self.root, &d.join("name"))
                            .is_ok_and(|n| n.rsplit("//").next() == Some(part))
                    }),
                };
                match hit {
                    Some(d) => dir = d,
                    None => {
                        found = false;
                        break;
                    }
                }
            }
            if !found {
                continue;
            }
            if let Ok(b) =
                crate::system::fs::read_limited(&self.root, dir.join("identity"), fs::limits::PAGE)
            {
                let s = String::from_utf8_lossy(&b);
                let first = s.split('\n').next().unwrap_or("");
                if !first.is_empty() {
                    out.insert(name.to_owned(), first.to_owned());
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_lines() {
        let l = ProfilesList::parse(
            PathBuf::from("p"),
            "/a (enforce)\nnomode\nunconfined\nx (user)\nlast (complain)",
        );
        assert_eq!(
            l.profiles()
                .map(|(n, m)| (n, m.clone()))
                .collect::<Vec<_>>(),
            [
                ("/a", Mode::Enforce),
                ("x", Mode::Prompt),
                ("last", Mode::Complain)
            ]
        );
        assert_eq!(
            l.lines[1],
            ProfileLine::Malformed {
                line: "nomode\n".into(),
                lineno: 2
            }
        );
        assert!(
            matches!(&l.lines[2], ProfileLine::Malformed { line, .. } if line == "unconfined\n")
        );
    }

    #[test]
    fn mangling() {
        assert_eq!(mangle("/usr/bin/foo"), "usr.bin.foo");
        assert_eq!(mangle("a b"), "a_b");
        assert_eq!(mangle("firefox"), "firefox");
        assert_eq!(mangle("x\"y"), "xy");
    }
}
