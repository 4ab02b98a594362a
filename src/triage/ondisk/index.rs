//! A profile's allow rules compiled once, so that asking whether a
//! suggested rule is already allowed costs about the same whatever the
//! number of rules: file rules are indexed by their literal path (a rule
//! without glob characters), or by the first path component of their
//! literal prefix (`/etc/` for `/etc/**`), and only the rules of the path's
//! own entries, plus the few whose prefix names no whole component
//! (`/{usr,}lib/**`, `/**`), are matched; each glob is compiled to a
//! regex once. The other rule kinds are few in a profile; their globs are
//! compiled once through [`super::glob_match`]'s cache.

use super::{cond_rule_covers, glob_match, glob_regex, literal, owner_ok, pattern, perm_chars};
use crate::policy::ast::*;
use crate::policy::resolve::ResolvedProfile;
use std::collections::HashMap;

/// One allow file rule.
#[derive(Debug)]
struct FileAllow {
    owner: Option<Owner>,
    perms: Vec<char>,
    exec: bool,
    /// The text before the first glob character (all of it for a literal).
    prefix: String,
    /// The compiled glob; `None` for a literal path, or for a rule
    /// without a path (which matches every path).
    re: Option<regex::Regex>,
    /// No path: matches everything.
    any_path: bool,
    /// No path and no permissions: the bare `file,` rule (allows all).
    bare: bool,
}

/// The allow rules of one resolved profile (not its hats or children),
/// compiled for [`Compiled::missing`].
#[derive(Debug)]
pub struct Compiled {
    /// An `all,` rule or a bare `file,`: every rule is allowed (file rules
    /// through `file,` only when its owner qualifier fits; see `files`).
    all: bool,
    files: Vec<FileAllow>,
    /// Literal paths → indices into `files`.
    exact: HashMap<String, Vec<usize>>,
    /// First path component of the literal prefix (`etc` for `/etc/x*`) →
    /// indices into `files`.
    by_first: HashMap<String, Vec<usize>>,
    /// Rules whose prefix names no whole first component.
    rest: Vec<usize>,
    /// The other allow rules.
    others: Vec<Rule>,
}

/// Glob characters of the policy language (after variable expansion).
fn is_special(c: char) -> bool {
    matches!(c, '*' | '?' | '[' | '{' | '\\' | ']' | '}' | ',')
}

/// The first path component of `s` when `s` holds it whole (`/etc/` or
/// `/etc/x` give `etc`; `/et` gives none).
fn first_component(s: &str) -> Option<&str> {
    let rest = s.strip_prefix('/')?;
    let end = rest.find('/')?;
    Some(&rest[..end])
}

impl Compiled {
    /// Compiles the allow rules of `p` (deny rules are not read: the
    /// coverage test only drops what an allow rule grants).
    pub fn new(p: &ResolvedProfile) -> Self {
        let mut c = Compiled {
            all: false,
            files: Vec::new(),
            exact: HashMap::new(),
            by_first: HashMap::new(),
            rest: Vec::new(),
            others: Vec::new(),
        };
        for r in p
            .rules
            .iter()
            .filter(|r| r.quals.access != Some(Access::Deny))
        {
            match &r.rule {
                Rule::All => c.all = true,
                Rule::File(f) => c.add_file(r.quals.owner, f),
                other => c.others.push(other.clone()),
            }
        }
        c
    }

    fn add_file(&mut self, owner: Option<Owner>, f: &FileRule) {
        let (perms, exec) = perm_chars(&f.perms);
        let i = self.files.len();
        let Some(path) = &f.path else {
            self.files.push(FileAllow {
                owner,
                perms,
                exec,
                prefix: String::new(),
                re: None,
                any_path: true,
                bare: f.perms.is_none(),
            });
            self.rest.push(i);
            return;
        };
        let text = pattern(path);
        let literal_end = text.find(is_special).unwrap_or(text.len());
        let prefix = text[..literal_end].to_owned();
        let is_literal = literal_end == text.len();
        let re = if is_literal {
            None
        } else {
            match regex::Regex::new(&glob_regex(&text)) {
                Ok(r) => Some(r),
                // a glob we cannot compile matches nothing (conservative)
                Err(_) => return,
            }
        };
        if is_literal {
            self.exact.entry(prefix.clone()).or_default().push(i);
        } else if let Some(first) = first_component(&prefix) {
            self.by_first.entry(first.to_owned()).or_default().push(i);
        } else {
            self.rest.push(i);
        }
        self.files.push(FileAllow {
            owner,
            perms,
            exec,
            prefix,
            re,
            any_path: false,
            bare: false,
        });
    }

    /// The file permissions (`m r w a l k`, `w` implying `a`) and whether
    /// some exec permission is granted on the literal path `lit` to a
    /// process with the owner qualifier `owner`; true in the third place
    /// when a bare `file,` rule allows everything.
    fn file_perms(&self, lit: &str, owner: Option<Owner>) -> (Vec<char>, bool, bool) {
        let mut have: Vec<char> = Vec::new();
        let mut exec = false;
        let mut bare = false;
        let exact = self.exact.get(lit).map(Vec::as_slice).unwrap_or(&[]);
        let first = first_component(lit)
            .and_then(|f| self.by_first.get(f))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        for &i in exact.iter().chain(first).chain(&self.rest) {
            let f = &self.files[i];
            if !owner_ok(f.owner, owner) {
                continue;
            }
            let matches = f.any_path
                || (lit.starts_with(&f.prefix) && f.re.as_ref().is_none_or(|r| r.is_match(lit)));
            if !matches {
                continue;
            }
            bare |= f.bare;
            have.extend(&f.perms);
            exec |= f.exec;
        }
        if have.contains(&'w') {
            have.push('a');
        }
        (have, exec, bare)
    }

    /// What of the suggested rule `ours` these rules do not allow yet:
    /// `None` when it is allowed; for a file rule, the rule with only the
    /// missing permissions (the exec mode kept as written when exec is
    /// missing); otherwise the rule itself.
    pub fn missing(&self, ours: &RuleEntry) -> Option<RuleEntry> {
        if self.all {
            return None;
        }
        let Rule::File(of) = &ours.rule else {
            return if self.others.iter().any(|d| other_covers(d, &ours.rule)) {
                None
            } else {
                Some(ours.clone())
            };
        };
        let Some(path) = &of.path else {
            return Some(ours.clone());
        };
        let (need, need_exec) = perm_chars(&of.perms);
        let (have, have_exec, bare) = self.file_perms(&literal(path), ours.quals.owner);
        if bare {
            return None;
        }
        let mut left: String = need.iter().filter(|c| !have.contains(c)).collect();
        if need_exec && !have_exec {
            // keep the exec mode as written (`ix`) with what it needs
            left = of
                .perms
                .as_ref()
                .map(|w| w.text.clone())
                .unwrap_or_default();
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
        Some(e)
    }
}

/// True when the allow rule `d` (not a file rule) covers the suggested `o`.
fn other_covers(d: &Rule, o: &Rule) -> bool {
    match (d, o) {
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
    }
}
