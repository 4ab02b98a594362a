//! The profiles on disk: finding the file that defines a profile, and
//! deciding whether a suggested rule is already allowed by it (so that it
//! is not suggested again).
//!
//! Profiles are read with the parser and resolver ([`crate::policy`]):
//! includes, abstractions and variables are applied, so a rule allowed
//! through `include <abstractions/base>` counts. The coverage test is
//! conservative: a suggestion is dropped only when one allow rule (file
//! rules: the union of the matching rules' permissions) is at least as
//! general as it.

use crate::policy::ast::*;
use crate::policy::resolve::include::{Skip, skip_entry};
use crate::policy::resolve::{ResolvedProfile, Resolver, SearchPath};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

mod index;
pub use index::Compiled;

/// A profile found on disk.
#[derive(Debug, Clone)]
pub struct Found {
    /// The file defining it.
    pub file: PathBuf,
    /// The file's text.
    pub text: String,
    /// The parsed file (spans index into `text`).
    pub ast: PolicyFile,
    /// The resolved top-level profile (children inside).
    pub profile: ResolvedProfile,
}

impl Found {
    /// The resolved profile or hat named `name` (`a` or `a//b`).
    pub fn get(&self, name: &str) -> Option<&ResolvedProfile> {
        self.profile.all().into_iter().find(|p| p.name == name)
    }
}

/// A profile directory (`/etc/apparmor.d` under the system root).
#[derive(Debug)]
pub struct OnDisk {
    dir: PathBuf,
    resolver: Resolver,
    cache: HashMap<String, Option<Found>>,
    /// The compiled rules per profile or hat name (`a//b`).
    compiled: HashMap<String, Option<Compiled>>,
    unreadable: Vec<(PathBuf, String)>,
}

impl OnDisk {
    /// Profiles under `dir`; includes are searched in `dir` (as
    /// apparmor_parser's base directory).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self::new_in(Path::new("/"), dir)
    }

    /// Like [`OnDisk::new`] for a profile directory under `root` (a snapshot or fake
    /// tree): profile files and includes whose real path (links followed) is outside
    /// `root` are not read. With root `/`, or a `dir` outside `root`, as `new`.
    pub fn new_in(root: &Path, dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        // A folder the user named outside the root (--profile-dir) is theirs: no limit.
        let within = if root == Path::new("/") || !dir.starts_with(root) {
            Vec::new()
        } else {
            vec![std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf())]
        };
        let resolver = Resolver::new(SearchPath {
            include_dirs: Vec::new(),
            base: Some(dir.clone()),
            cwd: dir.clone(),
            within,
        });
        OnDisk {
            dir,
            resolver,
            cache: HashMap::new(),
            compiled: HashMap::new(),
            unreadable: Vec::new(),
        }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The files [`OnDisk::find`] could not read so far, and why (`Permission
    /// denied`): a profile not found may be defined in one of them.
    pub fn unreadable(&self) -> &[(PathBuf, String)] {
        &self.unreadable
    }

    /// Finds the top-level profile `name` (as the kernel names it) in the
    /// directory's files (not subdirectories; apparmor_parser's skip list
    /// applies). Only files whose text mentions the name are parsed.
    pub fn find(&mut self, name: &str) -> Option<&Found> {
        if !self.cache.contains_key(name) {
            let found = self.search(name);
            self.cache.insert(name.to_owned(), found);
        }
        self.cache.get(name).and_then(Option::as_ref)
    }

    /// What of the suggested rule `rule` the profile or hat `name` (`a` or
    /// `a//b`) on disk does not allow yet, as [`missing`]; the rule itself
    /// when no file defines the profile. The profile's rules are compiled on
    /// the first question and kept, so that asking about many rules costs
    /// time linear in their number.
    pub fn missing(&mut self, name: &str, rule: &RuleEntry) -> Option<RuleEntry> {
        if !self.compiled.contains_key(name) {
            let top = name.split("//").next().unwrap_or(name);
            let c = self.find(top).and_then(|f| f.get(name)).map(Compiled::new);
            self.compiled.insert(name.to_owned(), c);
        }
        match self.compiled.get(name) {
            Some(Some(c)) => c.missing(rule),
            _ => Some(rule.clone()),
        }
    }

    /// The variables `tunables/global` of the directory defines (as
    /// apparmor_parser would read `include <tunables/global>` with this
    /// directory as base); empty when it has none or cannot be read.
    pub fn tunables(&mut self) -> crate::policy::resolve::vars::Variables {
        let at = self.dir.join(".aactl-tunables");
        let r = self
            .resolver
            .resolve_text(&at, "include <tunables/global>\n".to_owned());
        r.variables
    }

    fn search(&mut self, name: &str) -> Option<Found> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .ok()?
            .flatten()
            // regular files, symlinks followed (as apparmor_parser reads a
            // directory it includes: docs/policy-language.md, "Directory targets")
            .filter(|e| std::fs::metadata(e.path()).is_ok_and(|m| m.is_file()))
            .filter(|e| {
                e.file_name()
                    .to_str()
                    .is_some_and(|n| skip_entry(n) == Skip::No)
            })
            .map(|e| e.path())
            .collect();
        files.sort();
        // the part of the name most likely written literally
        let needle = name.rsplit('/').next().unwrap_or(name);
        for f in files {
            // Regular files only, capped, and (under a root) only inside it.
            let Ok(real) = std::fs::canonicalize(&f) else {
                continue;
            };
            if !self.resolver.search.allows(&real) {
                if !self.unreadable.iter().any(|(p, _)| *p == f) {
                    let why = crate::system::fs::escapes(&real).to_string();
                    self.unreadable.push((f.clone(), why));
                }
                continue;
            }
            let bytes = match crate::policy::read_policy_file(&real) {
                Ok(b) => b,
                Err(e) => {
                    if !self.unreadable.iter().any(|(p, _)| *p == f) {
                        self.unreadable
                            .push((f.clone(), crate::system::strerror(&e)));
                    }
                    continue;
                }
            };
            if memchr::memmem::find(&bytes, needle.as_bytes()).is_none() {
                continue;
            }
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let resolved = self.resolver.resolve_text(&f, text.clone());
            if let Some(p) = resolved.profiles.iter().find(|p| p.name == name) {
                return Some(Found {
                    file: f,
                    text,
                    ast: resolved.ast.clone(),
                    profile: p.clone(),
                });
            }
        }
        None
    }
}

pub use crate::policy::glob::{glob_match, glob_regex};

/// The literal a suggestion word stands for (our own escaping undone:
/// `\xHH` and `\c`).
pub fn literal(w: &Word) -> String {
    let b = w.text.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            if b[i + 1] == b'x'
                && i + 3 < b.len()
                && let Ok(v) = u8::from_str_radix(&w.text[i + 2..i + 4], 16)
            {
                out.push(v);
                i += 4;
                continue;
            }
            out.push(b[i + 1]);
            i += 2;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn pattern(w: &Word) -> String {
    // the resolver expanded variables; quotes are already removed
    w.text.clone()
}

fn perm_chars(w: &Option<Word>) -> (Vec<char>, bool) {
    let t = w.as_ref().map(|w| w.text.as_str()).unwrap_or("");
    let exec = t.contains('x');
    (t.chars().filter(|c| "mrwalk".contains(*c)).collect(), exec)
}

fn owner_ok(disk: Option<Owner>, ours: Option<Owner>) -> bool {
    match disk {
        None => true,
        Some(Owner::Owner) => ours == Some(Owner::Owner),
        Some(Owner::Other) => ours != Some(Owner::Owner),
    }
}

fn words_cover(disk: &[Word], ours: &[Word]) -> bool {
    ours.iter()
        .all(|o| disk.iter().any(|d| glob_match(&pattern(d), &literal(o))))
}

fn cond_covers(d: &Cond, ours: &[&Cond]) -> bool {
    let Some(o) = ours.iter().find(|o| o.name == d.name) else {
        return false;
    };
    match (&d.value, &o.value) {
        (CondValue::None, _) => true,
        (CondValue::Single(dw), CondValue::Single(ow)) => glob_match(&pattern(dw), &literal(ow)),
        (CondValue::List(dl), CondValue::Single(ow)) => words_cover(dl, std::slice::from_ref(ow)),
        (CondValue::Single(dw), CondValue::List(ol)) => words_cover(std::slice::from_ref(dw), ol),
        (CondValue::List(dl), CondValue::List(ol)) => words_cover(dl, ol),
        (CondValue::Group(dg), CondValue::Group(og)) => {
            let og: Vec<&Cond> = og.iter().collect();
            dg.iter().all(|c| cond_covers(c, &og))
        }
        _ => false,
    }
}

fn cond_rule_covers(d: &CondRule, o: &CondRule) -> bool {
    if let Some(dp) = &d.perms {
        let Some(op) = &o.perms else {
            return false;
        };
        let dw: Vec<String> = dp.words.iter().map(|w| w.text.clone()).collect();
        if !op.words.iter().all(|w| dw.contains(&w.text)) {
            return false;
        }
    }
    let oc: Vec<&Cond> = o.conds().collect();
    let ow: Vec<&Word> = o.words().collect();
    for a in &d.args {
        let ok = match a {
            Arg::Cond(c) => cond_covers(c, &oc),
            Arg::Word(w) => ow.iter().any(|o| glob_match(&pattern(w), &literal(o))),
        };
        if !ok {
            return false;
        }
    }
    match (&d.target, &o.target) {
        (None, _) => true,
        (Some(dt), Some(ot)) => glob_match(&pattern(dt), &literal(ot)),
        (Some(_), None) => false,
    }
}

/// True when the profile `p` (resolved) already allows the suggested rule.
/// Compiles `p`'s rules for this one question: to ask about many rules,
/// compile once with [`Compiled::new`] (or let [`OnDisk::missing`] keep
/// them).
pub fn allows(p: &ResolvedProfile, ours: &RuleEntry) -> bool {
    missing(p, ours).is_none()
}

/// What of the suggested rule `ours` the profile `p` does not allow yet:
/// `None` when it is allowed; for a file rule, the rule with only the
/// missing permissions; otherwise the rule itself. Compiles `p`'s rules
/// for this one question, as [`allows`].
pub fn missing(p: &ResolvedProfile, ours: &RuleEntry) -> Option<RuleEntry> {
    Compiled::new(p).missing(ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("/etc/**", "/etc/a/b"));
        assert!(!glob_match("/etc/*", "/etc/a/b"));
        assert!(glob_match("/etc/{passwd,group}", "/etc/group"));
        assert!(glob_match("/dev/tty[0-9]*", "/dev/tty12"));
        assert!(glob_match("/a\\*b", "/a*b"));
        assert!(!glob_match("/a\\*b", "/axb"));
        assert!(glob_match("/tmp/?", "/tmp/x"));
    }
}
