//! Switching profiles between the profile modes (enforce, complain, kill,
//! unconfined, prompt, default_allow), the audit flag, disabled and enabled
//! (docs/loader.md, "Mode changes").
//!
//! Like upstream's aa-enforce / aa-complain / aa-audit / aa-disable, but:
//! - the flags are edited through the policy parser's source-preserving edit
//!   ([`crate::policy::edit`]) on the **named profile only** (upstream also rewrites
//!   every hat of the file); a file target edits its top-level profiles;
//! - comments and formatting are kept; the write is atomic and keeps owner and mode;
//! - a caller that writes holds an [`super::EditLock`] from reading the file to the end of
//!   the plan's execution (as `aactl` does), so concurrent edits are not lost;
//! - a target that matches no profile is an error ([`LoaderError::ProfileNotFound`]),
//!   not a silent exit 0;
//! - a file the policy parser cannot parse is not edited (the error names its line).
//!
//! Symlinks, as upstream: complain removes `disable/<file>`; enforce removes
//! `disable/<file>` and `force-complain/<file>` (and so do kill, unconfined,
//! prompt and default_allow, which upstream's tools do not set: a
//! `force-complain/` link would load the profile in complain mode instead); disable creates
//! `disable/<file>` → the file's absolute path and unloads with `--remove`;
//! enable removes `disable/<file>` and reloads. Every other change reloads with
//! `--replace`.

use super::plan::{Plan, Step};
use super::{Action, LoaderError, Parser};
use crate::diag::FileId;
use crate::policy::ParserVersion;
use crate::policy::ast::Profile;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The change asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ModeChange {
    /// Remove mode flags (`complain`, `kill`, `unconfined`, `prompt`, …): enforce.
    Enforce,
    /// Set the `complain` flag (replacing other mode flags).
    Complain,
    /// Set the `kill` flag (replacing other mode flags): a denial kills the task.
    Kill,
    /// Set the `unconfined` flag (replacing other mode flags): the profile
    /// attaches but does not confine.
    Unconfined,
    /// Set the `prompt` flag (replacing other mode flags): what no rule covers
    /// is asked of a user-space prompter (AppArmor 4.1 and later).
    Prompt,
    /// Set the `default_allow` flag (replacing other mode flags): what no rule
    /// covers is allowed, deny rules still apply (AppArmor 4.1 and later; the
    /// kernel shows such a profile as `unconfined`).
    DefaultAllow,
    /// Add the `audit` flag.
    Audit,
    /// Remove the `audit` flag.
    NoAudit,
    /// Create `disable/<file>` and unload.
    Disable,
    /// Remove `disable/<file>` and load.
    Enable,
}

impl ModeChange {
    /// The changes that set a profile mode, in the order of
    /// [`crate::policy::edit::MODE_FLAGS`].
    pub const MODES: [ModeChange; 6] = [
        ModeChange::Enforce,
        ModeChange::Complain,
        ModeChange::Kill,
        ModeChange::Unconfined,
        ModeChange::Prompt,
        ModeChange::DefaultAllow,
    ];

    /// The verb for messages (`enforce`, `complain`, `kill`, `unconfined`,
    /// `prompt`, `default_allow`, `audit`, `audit-off`, `disable`, `enable`).
    pub fn as_str(self) -> &'static str {
        match self {
            ModeChange::Enforce => "enforce",
            ModeChange::Complain => "complain",
            ModeChange::Kill => "kill",
            ModeChange::Unconfined => "unconfined",
            ModeChange::Prompt => "prompt",
            ModeChange::DefaultAllow => "default_allow",
            ModeChange::Audit => "audit",
            ModeChange::NoAudit => "audit-off",
            ModeChange::Disable => "disable",
            ModeChange::Enable => "enable",
        }
    }

    /// The change that sets the profile mode `word` (a [`crate::policy::edit::MODE_FLAGS`]
    /// word; `default-allow` is taken for `default_allow`), or `None`.
    pub fn from_mode(word: &str) -> Option<ModeChange> {
        let word = if word == "default-allow" {
            "default_allow"
        } else {
            word
        };
        Self::MODES.into_iter().find(|m| m.as_str() == word)
    }

    /// The mode flag this change writes: `None` for enforce (written as no
    /// mode flag) and for the changes that are not mode changes.
    pub fn mode_flag(self) -> Option<&'static str> {
        match self {
            ModeChange::Complain
            | ModeChange::Kill
            | ModeChange::Unconfined
            | ModeChange::Prompt
            | ModeChange::DefaultAllow => Some(self.as_str()),
            _ => None,
        }
    }

    /// The oldest apparmor_parser release line that accepts the flags this
    /// change writes: 4.1 for `prompt` and `default_allow` (3.0 rejects them as
    /// "Invalid profile flag"), 3.0 for everything else.
    pub fn introduced(self) -> ParserVersion {
        match self {
            ModeChange::Prompt | ModeChange::DefaultAllow => ParserVersion::V4_1,
            _ => ParserVersion::V3_0,
        }
    }

    /// Checks that apparmor_parser release line `target` accepts what this
    /// change writes.
    ///
    /// # Errors
    /// [`LoaderError::ModeNotAccepted`] naming the mode, the release that
    /// introduced it and `target`.
    pub fn accepted_by(self, target: ParserVersion) -> Result<(), LoaderError> {
        if target >= self.introduced() {
            Ok(())
        } else {
            Err(LoaderError::ModeNotAccepted {
                mode: self.as_str(),
                introduced: self.introduced(),
                target,
            })
        }
    }

    fn edits_flags(self) -> bool {
        !matches!(self, ModeChange::Disable | ModeChange::Enable)
    }
}

/// One profile found in a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexedProfile {
    /// Fully qualified name (`parent//hat` for hats and children).
    pub name: String,
    /// The attachment, when written.
    pub attachment: Option<String>,
    /// The flags as written.
    pub flags: Vec<String>,
    /// True for a top-level profile.
    pub top_level: bool,
}

/// One profile file and its profiles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedFile {
    /// The file.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
    /// Its profiles, parents before children.
    pub profiles: Vec<IndexedProfile>,
    /// The first parse error (`line: message`), when the file does not parse.
    pub parse_error: Option<String>,
}

impl IndexedFile {
    /// Reads and parses one file.
    ///
    /// # Errors
    /// [`LoaderError::Io`] when it cannot be read.
    pub fn read(path: &Path) -> Result<Self, LoaderError> {
        let bytes = crate::policy::read_policy_file(path).map_err(|e| LoaderError::Io {
            path: path.to_owned(),
            source: e,
        })?;
        let text = String::from_utf8(bytes).map_err(|_| LoaderError::Edit {
            path: path.to_owned(),
            message: "not valid UTF-8".into(),
        })?;
        Ok(Self::from_text(path.to_owned(), text))
    }

    /// Parses `text` as the content of `path` (pure).
    pub fn from_text(path: PathBuf, text: String) -> Self {
        let parsed = crate::policy::parse_str(&text, FileId(0));
        let parse_error = parsed.diagnostics.iter().find(|d| d.is_error()).map(|d| {
            let line = 1 + text[..(d.span.start as usize).min(text.len())]
                .bytes()
                .filter(|b| *b == b'\n')
                .count();
            format!("line {line}: {}", d.message)
        });
        let mut profiles = Vec::new();
        let mut top = Vec::new();
        crate::policy::ast::collect_profiles(&parsed.ast.items, &mut top);
        for p in top {
            walk(p, None, &mut profiles);
        }
        IndexedFile {
            path,
            text,
            profiles,
            parse_error,
        }
    }
}

fn walk(p: &Profile, parent: Option<&str>, out: &mut Vec<IndexedProfile>) {
    let name = match parent {
        Some(par) => format!("{par}//{}", p.name.value()),
        None => p.name.value(),
    };
    out.push(IndexedProfile {
        name: name.clone(),
        attachment: p.attachment.as_ref().map(|a| a.value()),
        flags: p
            .flags
            .as_ref()
            .map(|f| f.flags.iter().map(|w| w.value()).collect())
            .unwrap_or_default(),
        top_level: parent.is_none(),
    });
    for c in p.children() {
        walk(c, Some(&name), out);
    }
}

/// The profile files of a directory, parsed.
#[derive(Debug, Clone, Default)]
pub struct ProfileIndex {
    /// The files, in directory order.
    pub files: Vec<IndexedFile>,
    /// Files that could not be read or decoded, with why (e.g. `Permission
    /// denied`): a profile looked for may be in one of them.
    pub unreadable: Vec<(PathBuf, String)>,
}

/// A target resolved to a file and profiles in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolved {
    /// The argument as given.
    pub target: String,
    /// The profile file.
    pub file: PathBuf,
    /// The profiles to edit (fully qualified names).
    pub profiles: Vec<String>,
}

impl ProfileIndex {
    /// Reads every profile file directly in `dir` ([`super::profile_files`]).
    /// Unreadable files are skipped (they cannot be targets) and listed in
    /// [`ProfileIndex::unreadable`].
    /// # Errors
    /// [`LoaderError::Io`] when `dir` cannot be read.
    ///
    /// A file reached through several names (a symlink in the directory pointing
    /// at another profile file) is indexed once, by canonical path, under its own
    /// name when that is in `dir` (else the first link's), so it is edited and
    /// reported once.
    pub fn scan(dir: &Path) -> Result<Self, LoaderError> {
        Self::scan_in(Path::new("/"), dir)
    }

    /// Like [`ProfileIndex::scan`] for a profile directory under `root` (a snapshot or
    /// fake tree): a file whose real path (links followed) is outside `root` is left
    /// out, so it is neither read nor offered for editing. With root `/`, as `scan`.
    ///
    /// # Errors
    /// [`LoaderError::Io`] when `dir` cannot be read.
    pub fn scan_in(root: &Path, dir: &Path) -> Result<Self, LoaderError> {
        let croot = if root == Path::new("/") {
            None
        } else {
            Some(
                std::fs::canonicalize(root).map_err(|source| LoaderError::Io {
                    path: root.to_owned(),
                    source,
                })?,
            )
        };
        let mut files: Vec<IndexedFile> = Vec::new();
        let mut unreadable = Vec::new();
        let mut canon: Vec<PathBuf> = Vec::new();
        for f in super::profile_files(dir)? {
            let c = std::fs::canonicalize(&f).unwrap_or_else(|_| f.clone());
            if croot.as_ref().is_some_and(|r| !c.starts_with(r)) {
                let why = crate::system::fs::escapes(&c);
                unreadable.push((f, why.to_string()));
                continue;
            }
            let is_link = std::fs::symlink_metadata(&f).is_ok_and(|m| m.file_type().is_symlink());
            if let Some(k) = canon.iter().position(|x| *x == c) {
                // Prefer the real file's name over a link's.
                if !is_link {
                    files[k].path = f;
                }
                continue;
            }
            match IndexedFile::read(&f) {
                Ok(i) => {
                    files.push(i);
                    canon.push(c);
                }
                Err(LoaderError::Io { source, .. }) => {
                    unreadable.push((f, crate::system::strerror(&source)));
                }
                Err(LoaderError::Edit { message, .. }) => unreadable.push((f, message)),
                Err(e) => unreadable.push((f, e.to_string())),
            }
        }
        Ok(ProfileIndex { files, unreadable })
    }

    /// Resolves a target: an existing profile file (all its top-level profiles),
    /// else a profile name (`name` or `parent//hat`), else a program path matching
    /// a profile's attachment or name, else a bare name that is a file of `dir`
    /// (`usr.sbin.nscd`). A name found in several files is resolved to every one
    /// of them (each is edited). Paths are the host's; see
    /// [`ProfileIndex::resolve_in`] for another root.
    ///
    /// # Errors
    /// [`LoaderError::ProfileNotFound`] (with `dir` and the closest profile or
    /// file name, when one is near), or [`LoaderError::ProfileNotFoundUnreadable`]
    /// when some files of the directory could not be read, or the read error of a
    /// file target.
    pub fn resolve(&mut self, target: &str, dir: &Path) -> Result<Vec<Resolved>, LoaderError> {
        self.resolve_in(Path::new("/"), target, dir)
    }

    /// Like [`ProfileIndex::resolve`] for a system under `root` (a snapshot or
    /// fake tree, `dir` being already under it): an absolute file target is taken
    /// inside `root` (its links followed inside `root`, never to the host's file).
    ///
    /// # Errors
    /// As [`ProfileIndex::resolve`].
    pub fn resolve_in(
        &mut self,
        root: &Path,
        target: &str,
        dir: &Path,
    ) -> Result<Vec<Resolved>, LoaderError> {
        let given = Path::new(target);
        let p = if given.is_absolute() && root != Path::new("/") {
            crate::system::fs::resolve_in_root(root, given)
                .unwrap_or_else(|_| crate::system::System::with_root(root).path(given))
        } else {
            given.to_owned()
        };
        if super::is_profile_file(&p) && p.is_file() {
            return self.resolve_file(target, &p);
        }
        let mut out = Vec::new();
        // Pass 0: profile name; 1: attachment written exactly; 2: a program path
        // matched by an attachment (or path-like name) glob.
        for pass in 0..3 {
            for f in &self.files {
                let hits: Vec<String> = f
                    .profiles
                    .iter()
                    .filter(|p| match pass {
                        0 => p.name == target,
                        1 => p.attachment.as_deref() == Some(target),
                        _ => {
                            target.starts_with('/') && {
                                let pat = p.attachment.as_deref().unwrap_or(&p.name);
                                pat.starts_with('/') && glob_matches(pat, target)
                            }
                        }
                    })
                    .map(|p| p.name.clone())
                    .collect();
                if !hits.is_empty() {
                    out.push(Resolved {
                        target: target.to_owned(),
                        file: f.path.clone(),
                        profiles: hits,
                    });
                }
            }
            if !out.is_empty() {
                return Ok(out);
            }
        }
        // A file name of the profile directory, as people type it.
        if !target.is_empty() && !target.contains('/') && target != "." && target != ".." {
            let in_dir = dir.join(target);
            if super::is_profile_file(&in_dir) && in_dir.is_file() {
                return self.resolve_file(target, &in_dir);
            }
        }
        if !self.unreadable.is_empty() {
            return Err(LoaderError::ProfileNotFoundUnreadable {
                name: target.to_owned(),
                dir: dir.to_owned(),
                unreadable: self.unreadable.clone(),
            });
        }
        Err(LoaderError::ProfileNotFound {
            name: target.to_owned(),
            dir: dir.to_owned(),
            suggestion: self.suggest(target),
        })
    }

    /// The profile name or profile file name (of the indexed files) closest to
    /// `target`, when one is near.
    pub fn suggest(&self, target: &str) -> Option<String> {
        let names = self.files.iter().flat_map(|f| {
            f.profiles
                .iter()
                .map(|p| p.name.as_str())
                .chain(f.path.file_name().and_then(|n| n.to_str()))
        });
        crate::diag::suggest::closest(target, names).map(str::to_owned)
    }

    /// Resolves the profile file `p` (given as `target`) to its top-level profiles.
    fn resolve_file(&mut self, target: &str, p: &Path) -> Result<Vec<Resolved>, LoaderError> {
        let canon = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned());
        let idx = match self
            .files
            .iter()
            .position(|f| std::fs::canonicalize(&f.path).ok().as_deref() == Some(&canon))
        {
            Some(i) => i,
            None => {
                self.files.push(IndexedFile::read(p)?);
                self.files.len() - 1
            }
        };
        let f = &self.files[idx];
        let profiles: Vec<String> = f
            .profiles
            .iter()
            .filter(|p| p.top_level)
            .map(|p| p.name.clone())
            .collect();
        if profiles.is_empty() {
            return Err(LoaderError::ProfileNotFound {
                name: target.to_owned(),
                dir: f.path.clone(),
                suggestion: None,
            });
        }
        Ok(vec![Resolved {
            target: target.to_owned(),
            file: f.path.clone(),
            profiles,
        }])
    }

    /// The indexed file at `path`.
    pub fn file(&self, path: &Path) -> Option<&IndexedFile> {
        self.files.iter().find(|f| f.path == path)
    }
}

/// True when the program path `path` matches the AppArmor attachment glob `pat`:
/// `**` any run of characters, `*` any run without `/`, `?` one character other
/// than `/`, `{a,b}` alternatives, `[…]` a character class; a variable (`@{x}`)
/// matches any non-empty run (variables are not expanded here).
pub fn glob_matches(pat: &str, path: &str) -> bool {
    let mut re = String::from("^");
    let chars: Vec<char> = pat.chars().collect();
    let mut i = 0;
    let mut depth = 0usize;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' if chars.get(i + 1) == Some(&'*') => {
                re.push_str(".*");
                i += 1;
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            '{' => {
                depth += 1;
                re.push_str("(?:");
            }
            '}' if depth > 0 => {
                depth -= 1;
                re.push(')');
            }
            ',' if depth > 0 => re.push('|'),
            '@' if chars.get(i + 1) == Some(&'{') => {
                match chars[i..].iter().position(|c| *c == '}') {
                    Some(end) => {
                        re.push_str(".+");
                        i += end;
                    }
                    None => re.push_str(&regex::escape("@")),
                }
            }
            '[' => match chars[i..].iter().position(|c| *c == ']') {
                Some(end) if end > 1 => {
                    re.push('[');
                    for (k, c) in chars[i + 1..i + end].iter().enumerate() {
                        match c {
                            '^' if k == 0 => re.push('^'),
                            '-' => re.push('-'),
                            c => re.push_str(&regex::escape(&c.to_string())),
                        }
                    }
                    re.push(']');
                    i += end;
                }
                _ => re.push_str("\\["),
            },
            '\\' if i + 1 < chars.len() => {
                re.push_str(&regex::escape(&chars[i + 1].to_string()));
                i += 1;
            }
            c => re.push_str(&regex::escape(&c.to_string())),
        }
        i += 1;
    }
    re.push('$');
    regex::Regex::new(&re).is_ok_and(|r| r.is_match(path))
}

/// The flags of one profile before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlagChange {
    /// The profile.
    pub profile: String,
    /// Flags before, as written.
    pub before: Vec<String>,
    /// Flags after, as written.
    pub after: Vec<String>,
    /// The mode before ([`mode_of`]: `enforce` when no mode flag is written).
    pub mode_before: String,
    /// The mode after ([`mode_of`]).
    pub mode_after: String,
}

/// The mode a profile with `flags` runs in: its mode flag
/// ([`crate::policy::edit::MODE_FLAGS`]: `complain`, `kill`, `unconfined`, …), or
/// `enforce` when none is written (enforce is the default).
pub fn mode_of(flags: &[String]) -> &str {
    flags
        .iter()
        .find(|f| crate::policy::edit::MODE_FLAGS.contains(&f.as_str()))
        .map_or("enforce", String::as_str)
}

/// `flags` for people, with the mode always named: the mode ([`mode_of`])
/// followed by the other flags, comma-separated (`enforce`, `complain`,
/// `enforce,audit`, `complain,audit,attach_disconnected`).
pub fn describe_flags(flags: &[String]) -> String {
    let mode = mode_of(flags);
    let mut out = vec![mode];
    out.extend(
        flags
            .iter()
            .map(String::as_str)
            .filter(|f| *f != mode && !crate::policy::edit::MODE_FLAGS.contains(f)),
    );
    out.join(",")
}

/// Everything done to one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FilePlan {
    /// The profile file.
    pub file: PathBuf,
    /// The targets that led here.
    pub targets: Vec<String>,
    /// Flag changes, per profile.
    pub changes: Vec<FlagChange>,
    /// The steps: link changes, the edit, the reload.
    pub plan: Plan,
}

/// Returns `text` with `change` applied to profile `name`, and the flags before
/// and after.
///
/// # Errors
/// [`LoaderError::Edit`] when the profile is not in the text.
pub fn edit_flags(
    path: &Path,
    text: &str,
    name: &str,
    change: ModeChange,
) -> Result<(String, FlagChange), LoaderError> {
    use crate::policy::edit;
    let err = |e: edit::EditError| LoaderError::Edit {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let before = edit::profile_flags(text, name)
        .map_err(err)?
        .unwrap_or_default();
    let new = match change {
        ModeChange::Enforce => edit::set_profile_mode(text, name, None),
        ModeChange::Complain
        | ModeChange::Kill
        | ModeChange::Unconfined
        | ModeChange::Prompt
        | ModeChange::DefaultAllow => edit::set_profile_mode(text, name, change.mode_flag()),
        ModeChange::Audit | ModeChange::NoAudit => {
            let mut flags: Vec<String> = before.iter().filter(|f| *f != "audit").cloned().collect();
            if change == ModeChange::Audit {
                flags.push("audit".into());
            }
            if flags == before {
                Ok(text.to_owned())
            } else {
                edit::set_profile_flags(text, name, &flags)
            }
        }
        ModeChange::Disable | ModeChange::Enable => Ok(text.to_owned()),
    }
    .map_err(err)?;
    let after = edit::profile_flags(&new, name)
        .map_err(err)?
        .unwrap_or_default();
    // Flags already as asked: the text is kept byte for byte (no respacing).
    let new = if after == before {
        text.to_owned()
    } else {
        new
    };
    Ok((
        new,
        FlagChange {
            profile: name.to_owned(),
            mode_before: mode_of(&before).to_owned(),
            mode_after: mode_of(&after).to_owned(),
            before,
            after,
        },
    ))
}

/// Plans `change` for resolved targets: per file, the link changes (in `base`'s
/// `disable/` and `force-complain/`), the flag edit of the named profiles, and
/// (unless `reload` is false) the parser run (`--replace`, or `--remove` for
/// disable) with `parser`'s options. Like upstream 6.0, enforce refuses a profile
/// flagged `unconfined` unless `force` (such profiles exist to not confine).
/// The release gate of the mode flag is the caller's: check
/// [`ModeChange::accepted_by`] for the target apparmor_parser release first.
///
/// # Errors
/// [`LoaderError::Edit`] when a file does not parse, a profile is missing, or an
/// `unconfined` profile would be enforced without `force`.
pub fn plan_change(
    change: ModeChange,
    base: &Path,
    resolved: &[Resolved],
    index: &ProfileIndex,
    parser: &Parser,
    reload: bool,
    force: bool,
) -> Result<Vec<FilePlan>, LoaderError> {
    let mut order: Vec<PathBuf> = Vec::new();
    for r in resolved {
        if !order.contains(&r.file) {
            order.push(r.file.clone());
        }
    }
    let mut out = Vec::new();
    for file in order {
        let indexed = match index.file(&file) {
            Some(f) => f.clone(),
            None => IndexedFile::read(&file)?,
        };
        let targets: Vec<String> = resolved
            .iter()
            .filter(|r| r.file == file)
            .map(|r| r.target.clone())
            .collect();
        let mut names: Vec<String> = Vec::new();
        for r in resolved.iter().filter(|r| r.file == file) {
            for p in &r.profiles {
                if !names.contains(p) {
                    names.push(p.clone());
                }
            }
        }
        let mut steps = Vec::new();
        let basename = file
            .file_name()
            .map(PathBuf::from)
            .unwrap_or_else(|| file.clone());
        let disable_link = base.join("disable").join(&basename);
        let force_link = base.join("force-complain").join(&basename);
        match change {
            ModeChange::Enforce
            | ModeChange::Kill
            | ModeChange::Unconfined
            | ModeChange::Prompt
            | ModeChange::DefaultAllow => {
                steps.push(Step::RemoveLink { link: force_link });
                steps.push(Step::RemoveLink { link: disable_link });
            }
            ModeChange::Complain | ModeChange::Enable => {
                steps.push(Step::RemoveLink { link: disable_link })
            }
            ModeChange::Disable => {
                let target = std::fs::canonicalize(&file).unwrap_or_else(|_| file.clone());
                steps.push(Step::Symlink {
                    link: disable_link,
                    target,
                });
            }
            ModeChange::Audit | ModeChange::NoAudit => {}
        }
        // Only link steps that change something are kept.
        steps.retain(|s| match s {
            Step::RemoveLink { link } => std::fs::symlink_metadata(link).is_ok(),
            Step::Symlink { link, target } => {
                std::fs::read_link(link).ok().as_ref() != Some(target)
            }
            _ => true,
        });
        let mut changes = Vec::new();
        if change.edits_flags() {
            if let Some(e) = &indexed.parse_error {
                return Err(LoaderError::Edit {
                    path: file.clone(),
                    message: format!("not edited: the policy parser reports {e}"),
                });
            }
            let mut text = indexed.text.clone();
            for n in &names {
                let (new, fc) = edit_flags(&file, &text, n, change)?;
                if change == ModeChange::Enforce
                    && !force
                    && fc.before.iter().any(|f| f == "unconfined")
                {
                    return Err(LoaderError::Edit {
                        path: file.clone(),
                        message: format!(
                            "profile {n} is flagged unconfined; enforcing it may break the program (use --force)"
                        ),
                    });
                }
                text = new;
                changes.push(fc);
            }
            if text != indexed.text {
                steps.push(Step::Edit {
                    path: file.clone(),
                    before: indexed.text.clone(),
                    after: text,
                });
            }
        }
        if reload {
            let action = if change == ModeChange::Disable {
                Action::Remove
            } else {
                Action::Replace
            };
            let command = parser.clone().action(action).verbose(true).command([&file]);
            steps.push(Step::Run { command });
        }
        out.push(FilePlan {
            file,
            targets,
            changes,
            plan: Plan { steps },
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::glob_matches;

    #[test]
    fn attachment_globs() {
        assert!(glob_matches("/usr/{bin,sbin}/dnsmasq", "/usr/sbin/dnsmasq"));
        assert!(!glob_matches("/usr/{bin,sbin}/dnsmasq", "/usr/lib/dnsmasq"));
        assert!(glob_matches("/usr/lib/**/foo", "/usr/lib/a/b/foo"));
        assert!(!glob_matches("/usr/lib/*/foo", "/usr/lib/a/b/foo"));
        assert!(glob_matches("/usr/bin/fo[ox]", "/usr/bin/fox"));
        assert!(glob_matches("/usr/bin/[^a]b", "/usr/bin/bb"));
        assert!(!glob_matches("/usr/bin/[^a]b", "/usr/bin/ab"));
        assert!(glob_matches("/usr/bin/[a-c&]", "/usr/bin/&"));
        assert!(glob_matches("@{exec_path}", "/usr/bin/x"));
        assert!(!glob_matches("/usr/bin/a.b", "/usr/bin/aXb"));
    }
}
