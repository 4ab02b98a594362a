//! `--write`: append suggested rules to a profile's local override file
//! (`local/NAME` beside the profile, where `NAME` is the profile file's
//! name), creating it when missing and adding `include if exists
//! <local/NAME>` to the profile when it lacks it. Every change is shown as
//! a diff first; files are replaced atomically (temp file in the same
//! folder, then rename) and the profile keeps its comments and layout.

use super::ondisk::Found;
use crate::policy::ast::*;
use std::path::{Path, PathBuf};

/// Errors planning or applying a write.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The profile file has no usable name.
    #[error("{}: cannot derive the local override name", path.display())]
    Name {
        /// The profile file.
        path: PathBuf,
    },
    /// The profile was not found in its file's AST.
    #[error("{}: profile {name} not found in the file's text", path.display())]
    NotInFile {
        /// The profile file.
        path: PathBuf,
        /// The profile.
        name: String,
    },
    /// The file changed (another program wrote it) between reading it and
    /// replacing it; it was left as it is.
    #[error(
        "{}: changed by another program since it was read; not overwritten (run the command again)",
        path.display()
    )]
    Changed {
        /// The file.
        path: PathBuf,
    },
    /// Reading or writing failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// One file change: its path and text before (`None`: new file) and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// The file.
    pub path: PathBuf,
    /// Current text, `None` when the file does not exist.
    pub before: Option<String>,
    /// New text.
    pub after: String,
}

impl FileChange {
    /// A unified diff of the change (one hunk: common lines at both ends
    /// are skipped, three lines of context kept).
    pub fn diff(&self) -> String {
        let before = self.before.as_deref().unwrap_or("");
        let a: Vec<&str> = before.lines().collect();
        let b: Vec<&str> = self.after.lines().collect();
        let mut pre = 0;
        while pre < a.len() && pre < b.len() && a[pre] == b[pre] {
            pre += 1;
        }
        let mut suf = 0;
        while suf < a.len() - pre
            && suf < b.len() - pre
            && a[a.len() - 1 - suf] == b[b.len() - 1 - suf]
        {
            suf += 1;
        }
        let ctx = 3;
        let start = pre.saturating_sub(ctx);
        let a_end = (a.len() - suf + ctx).min(a.len());
        let b_end = (b.len() - suf + ctx).min(b.len());
        let p = crate::escape::escape_str(&self.path.display().to_string()).into_owned();
        let mut s = String::new();
        s.push_str(&format!(
            "--- {}\n+++ {p}\n",
            if self.before.is_some() {
                p.as_str()
            } else {
                "/dev/null"
            }
        ));
        let range = |st: usize, n: usize| {
            if n == 0 {
                format!("{st},0")
            } else {
                format!("{},{n}", st + 1)
            }
        };
        s.push_str(&format!(
            "@@ -{} +{} @@\n",
            range(start, a_end - start),
            range(start, b_end - start)
        ));
        for l in &a[start..pre] {
            s.push_str(&format!(" {}\n", crate::escape::escape_str(l)));
        }
        for l in &a[pre..a.len() - suf] {
            s.push_str(&format!("-{}\n", crate::escape::escape_str(l)));
        }
        for l in &b[pre..b.len() - suf] {
            s.push_str(&format!("+{}\n", crate::escape::escape_str(l)));
        }
        for l in &a[a.len() - suf..a_end] {
            s.push_str(&format!(" {}\n", crate::escape::escape_str(l)));
        }
        s
    }

    /// Writes `after` atomically, only if the file still holds `before`
    /// (does not exist, for a new file). An existing file is replaced by
    /// [`crate::system::edit::replace_if_unchanged`]: a symlink is followed
    /// (the link stays a link), and permissions, owner and group are kept. A
    /// new file (the first local override) is created, with its folder, mode
    /// 0644, by [`crate::system::edit::atomic_create`]. Callers hold a
    /// [`crate::system::edit::EditLock`] on the file from before it was read
    /// (see [`plan_current`]).
    ///
    /// # Errors
    /// [`WriteError::Changed`] when the file is not as it was read;
    /// [`WriteError::Io`] naming the file.
    ///
    /// Under a root other than `/` (`sys` a snapshot or fake tree) the write lands
    /// only inside it: a symlinked `local/` folder or override, or a profile file,
    /// whose real location is outside the root is refused (see
    /// [`crate::system::System::root`]).
    pub fn apply(&self, sys: &crate::system::System) -> Result<(), WriteError> {
        use crate::system::edit::{self, EditError};
        let data = self.after.as_bytes();
        let real = crate::system::fs::write_target(sys.root(), &self.path).map_err(|source| {
            WriteError::Io {
                path: self.path.clone(),
                source,
            }
        })?;
        let Some(before) = &self.before else {
            return edit::atomic_create(&real, data, 0o644).map_err(|source| {
                if source.kind() == std::io::ErrorKind::AlreadyExists {
                    WriteError::Changed {
                        path: self.path.clone(),
                    }
                } else {
                    WriteError::Io {
                        path: self.path.clone(),
                        source,
                    }
                }
            });
        };
        edit::replace_if_unchanged(&real, before.as_bytes(), data).map_err(|e| match e {
            EditError::Changed { path } => WriteError::Changed { path },
            EditError::Io { path, source } => WriteError::Io { path, source },
        })
    }
}

fn find_profile<'a>(items: &'a [Item], name: &str) -> Option<&'a Profile> {
    items.iter().find_map(|it| match it {
        Item::Profile(p) if p.name.value() == name => Some(&**p),
        _ => None,
    })
}

/// The local override of a profile file: `local/NAME` beside it, where
/// `NAME` is the profile file's name.
///
/// # Errors
/// [`WriteError::Name`] when the file has no name that is valid UTF-8.
pub fn local_override(profile_file: &Path) -> Result<PathBuf, WriteError> {
    let base = profile_file
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| WriteError::Name {
            path: profile_file.to_owned(),
        })?;
    let dir = profile_file.parent().unwrap_or(Path::new("."));
    Ok(dir.join("local").join(base))
}

/// As [`plan_in`], but with the profile file read again first (its text may
/// have changed since `found` was read, e.g. another `--write` added the
/// include line). For writing: the caller holds a [`crate::system::edit::EditLock`]
/// on the profile file and its local override from before this call until
/// the changes are applied, so that nothing changes in between.
///
/// # Errors
/// As [`plan_in`]; [`WriteError::Io`] when the profile file cannot be read or
/// is not valid UTF-8 (it is not rewritten with replacement characters).
pub fn plan_current(
    sys: &crate::system::System,
    found: &Found,
    profiles: &[(String, Vec<Item>)],
) -> Result<Vec<FileChange>, WriteError> {
    let text = read_text(sys.root(), &found.file).map_err(|source| WriteError::Io {
        path: found.file.clone(),
        source,
    })?;
    if text == found.text {
        return plan_in(sys, found, profiles);
    }
    let ast = crate::policy::parse_str(&text, crate::diag::FileId(0)).ast;
    plan_parts(sys.root(), &found.file, &text, &ast.items, profiles)
}

/// Plans adding rules to the local override of top-level profiles found
/// on disk: `profiles` lists each profile `name` with its rules (printed
/// rule items); all must be defined in `found.file` (they share its
/// `local/` file). Rules already present in the local file (same text) are
/// not added again. Returns the changes (at most one for the local file and
/// one for the profile file, which gets the include line in every listed
/// profile that lacks it); empty when there is nothing to add.
///
/// # Errors
/// [`WriteError`] when the local name cannot be derived or a profile is
/// not in the file.
///
/// The profile folder is under `sys`'s root: the existing local override is read inside
/// the root (a link out of it is taken from the root, a FIFO or device refused, the size
/// capped), so its text shown in the diff is never a file outside the root.
pub fn plan_in(
    sys: &crate::system::System,
    found: &Found,
    profiles: &[(String, Vec<Item>)],
) -> Result<Vec<FileChange>, WriteError> {
    plan_parts(
        sys.root(),
        &found.file,
        &found.text,
        &found.ast.items,
        profiles,
    )
}

/// Reads a policy text file under `root` (inside it, capped, regular files only) as UTF-8;
/// invalid UTF-8 is an `InvalidData` error, not replaced: the text is written back.
fn read_text(root: &Path, path: &Path) -> std::io::Result<String> {
    let bytes =
        crate::system::fs::read_limited(root, path, crate::system::fs::limits::POLICY_FILE)?;
    String::from_utf8(bytes)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not valid UTF-8"))
}

/// [`plan_in`] on a profile file's path, text and top-level items; the local override
/// is read inside `root`.
fn plan_parts(
    root: &Path,
    file: &Path,
    text: &str,
    items: &[Item],
    profiles: &[(String, Vec<Item>)],
) -> Result<Vec<FileChange>, WriteError> {
    let local = local_override(file)?;
    let base = local
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_owned();
    let before = match read_text(root, &local) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => {
            return Err(WriteError::Io {
                path: local,
                source,
            });
        }
    };
    // the lines already there, and those added (sets: a local file may
    // hold thousands of earlier rules)
    let mut seen: std::collections::HashSet<String> = before
        .as_deref()
        .unwrap_or("")
        .lines()
        .map(|l| l.trim().to_owned())
        .collect();
    let mut add = String::new();
    for it in profiles.iter().flat_map(|(_, rules)| rules) {
        let line = it.to_string();
        if seen.insert(line.trim().to_owned()) {
            add.push_str(&line);
            add.push('\n');
        }
    }
    let mut changes = Vec::new();
    if add.is_empty() {
        return Ok(changes);
    }
    let mut after = before
        .clone()
        .unwrap_or_else(|| format!("# Site-specific additions and overrides for {base}.\n"));
    if !after.is_empty() && !after.ends_with('\n') {
        after.push('\n');
    }
    after.push_str("# added by aactl log --suggest --write\n");
    after.push_str(&add);
    changes.push(FileChange {
        path: local,
        before,
        after,
    });
    // the include line in each profile that lacks it, inserted from the
    // end of the file backwards so that earlier offsets stay valid
    let target = format!("local/{base}");
    let mut closes = Vec::new();
    for (name, _) in profiles {
        let p = find_profile(items, name).ok_or_else(|| WriteError::NotInFile {
            path: file.to_owned(),
            name: name.to_owned(),
        })?;
        let has = p
            .items
            .iter()
            .any(|it| matches!(it, Item::Include(i) if i.target.name() == target));
        if has {
            continue;
        }
        let end = p.span.end as usize;
        // the profile's closing brace is the last byte of its span
        let close =
            text[..end.min(text.len())]
                .rfind('}')
                .ok_or_else(|| WriteError::NotInFile {
                    path: file.to_owned(),
                    name: name.to_owned(),
                })?;
        closes.push(close);
    }
    closes.sort_unstable();
    closes.dedup();
    if !closes.is_empty() {
        let mut after = text.to_owned();
        for &close in closes.iter().rev() {
            let line_start = text[..close].rfind('\n').map_or(0, |i| i + 1);
            let indent: String = text[line_start..close]
                .chars()
                .take_while(|c| c.is_whitespace())
                .collect();
            let only_ws = text[line_start..close].trim().is_empty();
            let ins = format!("{indent}  include if exists <{target}>\n");
            if only_ws {
                after.insert_str(line_start, &ins);
            } else {
                after.insert_str(close, &format!("\n{ins}"));
            }
        }
        changes.push(FileChange {
            path: file.to_owned(),
            before: Some(text.to_owned()),
            after,
        });
    }
    Ok(changes)
}
