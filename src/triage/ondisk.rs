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

/// Converts an AppArmor glob (after variable expansion) to an anchored
/// regex: `**` any text, `*` within a path component, `?` one character
/// but `/`, `[…]` and `[^…]` classes, `{a,b}` alternatives, `\c` literal.
pub fn glob_regex(glob: &str) -> String {
    let mut re = String::from("^");
    let mut chars = glob.chars().peekable();
    let mut depth = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    re.push_str(&regex::escape(&n.to_string()));
                }
            }
            '*' => {
                if chars.peek() == Some(&'*') {
                    chars.next();
                    re.push_str(".*");
                } else {
                    re.push_str("[^/]*");
                }
            }
            '?' => re.push_str("[^/]"),
            '[' => {
                re.push('[');
                if chars.peek() == Some(&'^') {
                    chars.next();
                    re.push('^');
                }
                for n in chars.by_ref() {
                    if n == ']' {
                        break;
                    }
                    if matches!(n, '\\' | '[' | '&' | '~') {
                        re.push('\\');
                    }
                    re.push(n);
                }
                re.push(']');
            }
            '{' => {
                depth += 1;
                re.push_str("(?:");
            }
            ',' if depth > 0 => re.push('|'),
            '}' if depth > 0 => {
                depth -= 1;
                re.push(')');
            }
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    for _ in 0..depth {
        re.push(')');
    }
    re.push('$');
    re
}

/// True when the glob `pattern` matches the literal `text`.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    regex::Regex::new(&glob_regex(pattern)).is_ok_and(|r| r.is_match(text))
}

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
pub fn allows(p: &ResolvedProfile, ours: &RuleEntry) -> bool {
    missing(p, ours).is_none()
}

/// What of the suggested rule `ours` the profile `p` does not allow yet:
/// `None` when it is allowed; for a file rule, the rule with only the
/// missing permissions; otherwise the rule itself.
pub fn missing(p: &ResolvedProfile, ours: &RuleEntry) -> Option<RuleEntry> {
    if allows_all(p, ours) {
        return None;
    }
    if let Rule::File(of) = &ours.rule
        && let Some(perms) = &of.perms
        && let Some(path) = &of.path
    {
        let (need, need_exec) = perm_chars(&of.perms);
        let (have, have_exec) = file_perms_allowed(p, &literal(path), ours.quals.owner);
        let mut left: String = need.iter().filter(|c| !have.contains(c)).collect();
        let exec_left = need_exec && !have_exec;
        if exec_left {
            // keep the exec mode as written (`ix`) with what it needs
            left = perms.text.clone();
        }
        if left.is_empty() {
            return None;
        }
        let mut e = ours.clone();
        if let Rule::File(f) = &mut e.rule {
            f.perms = Some(Word {
                text: left,
                quoted: false,
                span: Span::default(),
            });
        }
        return Some(e);
    }
    Some(ours.clone())
}

fn file_perms_allowed(p: &ResolvedProfile, lit: &str, owner: Option<Owner>) -> (Vec<char>, bool) {
    let mut have: Vec<char> = Vec::new();
    let mut have_exec = false;
    for r in p
        .rules
        .iter()
        .filter(|r| r.quals.access != Some(Access::Deny))
    {
        if let Rule::File(df) = &r.rule
            && owner_ok(r.quals.owner, owner)
            && df
                .path
                .as_ref()
                .is_some_and(|dp| glob_match(&pattern(dp), lit))
        {
            let (p, x) = perm_chars(&df.perms);
            have.extend(p);
            have_exec |= x;
        }
    }
    if have.contains(&'w') {
        have.push('a');
    }
    (have, have_exec)
}

fn allows_all(p: &ResolvedProfile, ours: &RuleEntry) -> bool {
    let allow_rules = p
        .rules
        .iter()
        .filter(|r| r.quals.access != Some(Access::Deny));
    if let Rule::File(of) = &ours.rule {
        let (Some(path), (need, need_exec)) = (&of.path, perm_chars(&of.perms)) else {
            return false;
        };
        let lit = literal(path);
        let mut have: Vec<char> = Vec::new();
        let mut have_exec = false;
        for r in allow_rules {
            match &r.rule {
                Rule::All => return true,
                Rule::File(df) if owner_ok(r.quals.owner, ours.quals.owner) => {
                    let matches = match &df.path {
                        None => true,
                        Some(dp) => glob_match(&pattern(dp), &lit),
                    };
                    if matches {
                        if df.path.is_none() && df.perms.is_none() {
                            return true; // bare `file,`
                        }
                        let (p, x) = perm_chars(&df.perms);
                        have.extend(p);
                        have_exec |= x;
                    }
                }
                _ => {}
            }
        }
        if have.contains(&'w') {
            have.push('a');
        }
        return need.iter().all(|c| have.contains(c)) && (!need_exec || have_exec);
    }
    for r in allow_rules {
        let covered = match (&r.rule, &ours.rule) {
            (Rule::All, _) => true,
            (Rule::Capability(d), Rule::Capability(o)) => {
                d.is_empty() || o.iter().all(|w| d.iter().any(|x| x.text == w.text))
            }
            (Rule::ChangeProfile(d), Rule::ChangeProfile(o)) => {
                d.exec.is_none()
                    && match (&d.target, &o.target) {
                        (None, _) => true,
                        (Some(dt), Some(ot)) => glob_match(&pattern(dt), &literal(ot)),
                        _ => false,
                    }
            }
            (Rule::Network(d), Rule::Network(o))
            | (Rule::Unix(d), Rule::Unix(o))
            | (Rule::Dbus(d), Rule::Dbus(o))
            | (Rule::Signal(d), Rule::Signal(o))
            | (Rule::Ptrace(d), Rule::Ptrace(o))
            | (Rule::Mount(d), Rule::Mount(o))
            | (Rule::Umount(d), Rule::Umount(o))
            | (Rule::PivotRoot(d), Rule::PivotRoot(o))
            | (Rule::Mqueue(d), Rule::Mqueue(o))
            | (Rule::IoUring(d), Rule::IoUring(o))
            | (Rule::Userns(d), Rule::Userns(o)) => cond_rule_covers(d, o),
            _ => false,
        };
        if covered {
            return true;
        }
    }
    false
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
