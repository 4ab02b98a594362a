//! Attachments: which profile the kernel would put on an unconfined task that executes a
//! given file.
//!
//! A top-level profile attaches by its attachment pattern (`profile web /usr/sbin/nginx`,
//! or the name itself when it is a path such as `/usr/bin/man`). On exec from an unconfined
//! task the kernel looks at the profiles of the task's namespace: a profile whose attachment
//! is the executable's exact path wins; otherwise, among the patterns that match, the one
//! with the longest literal prefix wins, and two matches with prefixes of the same length
//! are a conflict (the kernel then attaches neither). Hats and child profiles never attach
//! this way. docs/runtime.md ("Attachments") has the details and the approximations.
//!
//! [`AttachTable::loaded`] takes the patterns the kernel reports for loaded profiles
//! (`policy/profiles/*/attach`); [`AttachTable::on_disk`] reads the profile files of a
//! directory (variables expanded, as apparmor_parser would).

use super::glob::glob_match;
use super::resolve::include::{Skip, skip_entry};
use super::resolve::{Resolver, SearchPath};
use crate::system::PolicyNamespace;
use std::path::{Path, PathBuf};

/// Where an attachment was read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// A loaded profile (the kernel's `attach` file).
    Loaded,
    /// A profile in this file of the profile directory (loaded or not).
    OnDisk(PathBuf),
}

/// One profile that can attach to executables.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Attachment {
    /// The profile name.
    pub profile: String,
    /// The attachment pattern, variables expanded (an AppArmor glob).
    pub pattern: String,
    /// Where it was read.
    pub origin: Origin,
}

/// The answer of [`AttachTable::find`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachMatch<'a> {
    /// Exactly one profile wins.
    One(&'a Attachment),
    /// Several patterns match with the same literal prefix length: the kernel refuses to
    /// choose. Sorted by profile name.
    Conflict(Vec<&'a Attachment>),
}

/// The length of the literal prefix of an AppArmor glob: the characters before the first
/// pattern character (`*`, `?`, `[`, `{`), escapes counted as one.
///
/// ```
/// use apparmor::policy::attach::literal_prefix_len;
/// assert_eq!(literal_prefix_len("/usr/bin/foo"), 12);
/// assert_eq!(literal_prefix_len("/usr/{s,}bin/foo"), 5);
/// assert_eq!(literal_prefix_len("/opt/\\*x/*"), 8);
/// ```
pub fn literal_prefix_len(pattern: &str) -> usize {
    let mut n = 0;
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '*' | '?' | '[' | '{' => break,
            '\\' => {
                if chars.next().is_none() {
                    break;
                }
                n += 1;
            }
            _ => n += 1,
        }
    }
    n
}

fn is_literal(pattern: &str) -> bool {
    !pattern.contains(['*', '?', '[', '{', '\\'])
}

/// The attachments of a set of profiles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttachTable {
    entries: Vec<Attachment>,
}

impl AttachTable {
    /// A table of `entries`; patterns that start with neither `/` nor `{` (a name that is
    /// not a path) are dropped, since no executable path can match them. A variable with
    /// several values expands to `{A,B}`.
    pub fn new(entries: Vec<Attachment>) -> Self {
        AttachTable {
            entries: entries
                .into_iter()
                .filter(|a| a.pattern.starts_with(['/', '{']))
                .collect(),
        }
    }

    /// The attachments.
    pub fn entries(&self) -> &[Attachment] {
        &self.entries
    }

    /// The top-level profiles of the reader's namespace in the kernel's `policy/` tree
    /// ([`crate::system::System::policy`]), with the pattern the kernel reports. When
    /// `attach` reads `<unknown>` (the kernel kept only the compiled form; 6.1 to 7.2 do so
    /// for every attachment) a profile named by a path is taken to attach to that path, and
    /// any other is left out: look it up on disk.
    ///
    /// ```
    /// use apparmor::policy::attach::{AttachTable, AttachMatch};
    /// use apparmor::system::{PolicyNamespace, PolicyProfile};
    /// let p = PolicyProfile { dir: "web.1".into(), name: "web".into(), mode: None,
    ///     attach: Some("/usr/sbin/nginx*".into()), identity: None, children: vec![] };
    /// let ns = PolicyNamespace { name: String::new(), profiles: vec![p], namespaces: vec![] };
    /// let t = AttachTable::loaded(&ns);
    /// assert!(matches!(t.find("/usr/sbin/nginx-debug"), Some(AttachMatch::One(a)) if a.profile == "web"));
    /// assert!(t.find("/usr/bin/true").is_none());
    /// ```
    pub fn loaded(ns: &PolicyNamespace) -> Self {
        Self::new(
            ns.profiles
                .iter()
                .filter_map(|p| {
                    let pattern = p.attach.as_deref()?.trim_end_matches('\n');
                    let pattern = match pattern {
                        // A profile named by a path attaches to that path.
                        "<unknown>" if p.name.starts_with('/') => p.name.as_str(),
                        "<unknown>" => return None,
                        t => t,
                    };
                    Some(Attachment {
                        profile: p.name.clone(),
                        pattern: pattern.to_owned(),
                        origin: Origin::Loaded,
                    })
                })
                .collect(),
        )
    }

    /// The top-level profiles of the files directly in profile directory `dir` (as
    /// apparmor_parser reads a directory: its skip list applies, subdirectories are not
    /// read), includes and variables resolved with `dir` as the base. Under a system root
    /// other than `/`, files whose real path is outside `root` are not read. Also returns
    /// the files that could not be read, with the reason.
    pub fn on_disk(root: &Path, dir: &Path) -> (Self, Vec<(PathBuf, String)>) {
        let mut resolver = Resolver::new(SearchPath::profile_dir(root, dir));
        let mut unreadable = Vec::new();
        let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
            Ok(rd) => rd
                .flatten()
                .filter(|e| {
                    e.file_name()
                        .to_str()
                        .is_some_and(|n| skip_entry(n) == Skip::No)
                })
                .map(|e| e.path())
                .collect(),
            Err(e) => {
                unreadable.push((dir.to_path_buf(), crate::system::strerror(&e)));
                Vec::new()
            }
        };
        files.sort();
        let mut entries = Vec::new();
        for f in files {
            let Ok(real) = std::fs::canonicalize(&f) else {
                continue;
            };
            if !real.is_file() {
                continue;
            }
            if !resolver.search.allows(&real) {
                unreadable.push((f, crate::system::fs::escapes(&real).to_string()));
                continue;
            }
            let bytes = match super::read_policy_file(&real) {
                Ok(b) => b,
                Err(e) => {
                    unreadable.push((f, crate::system::strerror(&e)));
                    continue;
                }
            };
            // Cheap test first: a file without any profile head naming a path or an
            // attachment has nothing to offer.
            if memchr::memchr(b'/', &bytes).is_none() {
                continue;
            }
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let resolved = resolver.resolve_text(&f, text);
            for p in &resolved.profiles {
                // Profiles of another namespace do not attach to the reader's tasks.
                if p.name.starts_with(':') {
                    continue;
                }
                if let Some(a) = &p.attachment {
                    entries.push(Attachment {
                        profile: p.name.clone(),
                        pattern: a.clone(),
                        origin: Origin::OnDisk(f.clone()),
                    });
                }
            }
        }
        (Self::new(entries), unreadable)
    }

    /// The profile that would attach to an unconfined task executing `exe` (an absolute
    /// path), `None` when no attachment matches.
    ///
    /// ```
    /// use apparmor::policy::attach::{AttachTable, AttachMatch, Attachment, Origin};
    /// let a = |p: &str, pat: &str| Attachment { profile: p.into(), pattern: pat.into(), origin: Origin::Loaded };
    /// let t = AttachTable::new(vec![a("any", "/usr/bin/*"), a("ls", "/usr/bin/ls"), a("l", "/usr/bin/l*")]);
    /// let name = |exe| match t.find(exe) { Some(AttachMatch::One(a)) => Some(a.profile.clone()), _ => None };
    /// assert_eq!(name("/usr/bin/ls").as_deref(), Some("ls"));      // exact path first
    /// assert_eq!(name("/usr/bin/less").as_deref(), Some("l"));     // longer literal prefix
    /// assert_eq!(name("/usr/bin/cat").as_deref(), Some("any"));
    /// assert_eq!(name("/bin/cat"), None);
    /// ```
    pub fn find(&self, exe: &str) -> Option<AttachMatch<'_>> {
        if let Some(a) = self
            .entries
            .iter()
            .find(|a| is_literal(&a.pattern) && a.pattern == exe)
        {
            return Some(AttachMatch::One(a));
        }
        let mut best: Vec<&Attachment> = Vec::new();
        let mut best_len = 0;
        for a in &self.entries {
            if is_literal(&a.pattern) || !glob_match(&a.pattern, exe) {
                continue;
            }
            let n = literal_prefix_len(&a.pattern);
            if best.is_empty() || n > best_len {
                best = vec![a];
                best_len = n;
            } else if n == best_len && !best.iter().any(|b| b.profile == a.profile) {
                best.push(a);
            }
        }
        match best.len() {
            0 => None,
            1 => Some(AttachMatch::One(best[0])),
            _ => {
                best.sort_by(|a, b| a.profile.cmp(&b.profile));
                Some(AttachMatch::Conflict(best))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflicts_and_names() {
        let a = |p: &str, pat: &str| Attachment {
            profile: p.into(),
            pattern: pat.into(),
            origin: Origin::Loaded,
        };
        let t = AttachTable::new(vec![
            a("x", "/opt/*/run"),
            a("y", "/opt/**"),
            a("nvidia_modprobe", "nvidia_modprobe"),
        ]);
        assert_eq!(t.entries().len(), 2);
        match t.find("/opt/a/run") {
            Some(AttachMatch::Conflict(v)) => {
                assert_eq!(
                    v.iter().map(|a| a.profile.as_str()).collect::<Vec<_>>(),
                    ["x", "y"]
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_a_profile_directory() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("etc/apparmor.d");
        std::fs::create_dir_all(dir.join("tunables")).unwrap();
        std::fs::write(dir.join("tunables/global"), "@{bin}=/usr/bin /bin\n").unwrap();
        std::fs::write(
            dir.join("web"),
            "include <tunables/global>\nprofile web @{bin}/web {\n  ^hat {\n  }\n}\n",
        )
        .unwrap();
        std::fs::write(dir.join("usr.sbin.foo"), "/usr/sbin/foo {\n}\n").unwrap();
        std::fs::write(dir.join("x.dpkg-old"), "/usr/sbin/old {\n}\n").unwrap();
        std::fs::write(dir.join("named"), "profile named {\n}\n").unwrap();
        let (t, bad) = AttachTable::on_disk(d.path(), &dir);
        assert!(bad.is_empty(), "{bad:?}");
        let mut names: Vec<_> = t.entries().iter().map(|a| a.profile.as_str()).collect();
        names.sort();
        assert_eq!(names, ["/usr/sbin/foo", "web"]);
        for exe in ["/usr/bin/web", "/bin/web"] {
            assert!(
                matches!(t.find(exe), Some(AttachMatch::One(a)) if a.profile == "web"),
                "{exe}: {:?}",
                t.entries()
            );
        }
    }
}
