//! From records to the rules that would allow them (the rules the AppArmor
//! utils would write, with `ix` for exec: docs/triage.md), built as policy AST nodes ([`crate::policy::ast`]) and printed with
//! the canonical printer, grouped into profile blocks.
//!
//! [`rule_for`] turns one record into a [`Draft`] or a [`NoRule`] reason;
//! [`Suggestions`] collects drafts per profile, merges duplicates (file
//! permissions on the same path are joined), and builds the blocks
//! ([`Suggestions::blocks`]): `NAME {` for path names, `profile NAME {`
//! otherwise, hats and children nested as `^child {`.
//!
//! What only records of unverified senders support
//! ([`Origin::Untrusted`](crate::log::Origin::Untrusted): anyone can write
//! such a log line) is kept apart
//! ([`Suggestions::untrusted_blocks`]), so that it is never mistaken for
//! what the kernel reported.

mod release;
mod rules;
#[cfg(test)]
mod tests;
mod words;

use crate::policy::ast::*;
pub use release::for_release;
pub use rules::rule_for;
pub use words::policy_word;

use crate::log::{EventType, Record};
use crate::policy::ParserVersion;
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

/// File permissions in the order they are printed.
const FILE_PERMS: [char; 6] = ['m', 'r', 'w', 'a', 'l', 'k'];

/// A rule suggested for one record, before merging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Draft {
    /// A file rule: `[owner ]PATH PERMS,`; `exec` adds `ix` (and `m r`).
    File {
        /// `owner` qualifier.
        owner: bool,
        /// The path as logged (raw bytes, not yet escaped for policy).
        path: Vec<u8>,
        /// Permissions, a subset of `m r w a l k`.
        perms: BTreeSetChars,
        /// Execute, inheriting (`ix`).
        exec: bool,
    },
    /// Any other rule, complete.
    Rule(RuleEntry),
}

/// A small ordered set of permission characters.
pub type BTreeSetChars = std::collections::BTreeSet<char>;

/// Why a record produced no rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NoRule(pub String);

/// A record that produced no rule, with how often it was seen.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NoteKey {
    /// The profile (`(none)` when the record named none).
    pub profile: String,
    /// The operation.
    pub operation: String,
    /// Why no rule was produced.
    pub reason: NoRule,
}

#[derive(Debug, Clone, Default)]
struct Node {
    files: BTreeMap<(Vec<u8>, bool), (BTreeSetChars, bool)>,
    rules: Vec<(RuleEntry, Option<String>)>,
    seen: HashSet<String>,
    children: BTreeMap<String, Node>,
}

/// Suggested rules per profile, merged.
///
/// Rules that a record of a trusted origin
/// ([`Origin::is_trusted`](crate::log::Origin::is_trusted): the kernel, a
/// trusted helper) supports are the suggestions proper
/// ([`Suggestions::blocks`]); rules (and file permissions) that only
/// records of unverified senders support are kept apart
/// ([`Suggestions::untrusted_blocks`]) until [`Suggestions::trust_untrusted`]
/// moves them in. A rule is never in both: a trusted record takes it out of
/// the untrusted part.
#[derive(Debug, Clone, Default)]
pub struct Suggestions {
    top: BTreeMap<String, Node>,
    /// Rules only untrusted records support (never in `top`).
    untrusted: BTreeMap<String, Node>,
    /// Records without a rule, with counts.
    pub notes: BTreeMap<NoteKey, u64>,
    /// Distinct rules held (bounded by [`MAX_RULES`]).
    rules: usize,
    /// Records whose rule was not kept because [`MAX_RULES`] distinct rules
    /// were already held.
    pub overflow_records: u64,
    /// The release whose language the rules are written in (`None`:
    /// [`ParserVersion::LATEST`]).
    parser: Option<ParserVersion>,
}

/// Most distinct rules kept (memory bound for huge logs).
pub const MAX_RULES: usize = 200_000;

/// Most distinct no-rule notes kept.
const MAX_NOTES: usize = 10_000;

impl Suggestions {
    /// Suggestions written in the language of apparmor_parser release `v`:
    /// a rule the release does not accept is made coarser or left out with
    /// its reason ([`for_release`]). [`Suggestions::default`] writes for
    /// [`ParserVersion::LATEST`].
    pub fn for_parser(v: ParserVersion) -> Self {
        Suggestions {
            parser: Some(v),
            ..Suggestions::default()
        }
    }

    /// The release the rules are written for.
    pub fn parser(&self) -> ParserVersion {
        self.parser.unwrap_or(ParserVersion::LATEST)
    }

    /// Adds `r`, attributed to `profiles` (from [`super::RecordFilter::apply`]).
    /// Records of kinds other than DENIED/ALLOWED/KILLED/AUTO/AUDIT and
    /// records naming no profile are noted, not turned into rules.
    ///
    /// An AUDIT record (an access a rule allowed and asked to log) gets the
    /// rule that allows the access, without `audit` or `owner`, as the
    /// utils' expected profiles show it;
    /// the AUDIT record the kernel writes when it moves an unconfined program
    /// that creates a user namespace into a special profile (`target=`,
    /// `execpath=`) gets `audit userns create,` in a profile named by the
    /// executable's path, the form the utils give such a program's own
    /// profile. The rule of a
    /// record whose sender is not verified goes to the untrusted part,
    /// unless a trusted record supports it too.
    pub fn add(&mut self, r: &Record, profiles: &[String]) {
        let op = r
            .operation
            .as_ref()
            .map(|o| o.escaped().into_owned())
            .unwrap_or_default();
        let result = if !matches!(
            r.event,
            EventType::Denied
                | EventType::Allowed
                | EventType::Killed
                | EventType::Auto
                | EventType::Audit
        ) {
            Err(NoRule(format!("{} record", r.event.as_kernel_name())))
        } else {
            rule_for(r).and_then(|d| for_release(d, self.parser()))
        };
        // An unconfined program moved into the special user namespace
        // profile: the rule goes to a profile of its own executable.
        let transition = userns_transition(r, profiles);
        let result = match (result, &transition) {
            (Ok(Draft::Rule(mut e)), Some(_)) => {
                e.quals.audit = true;
                Ok(Draft::Rule(e))
            }
            // the utils' expected profile of an AUDIT file record has no
            // `owner`: the owner test (fsuid = ouid) is made for denials
            (
                Ok(Draft::File {
                    path, perms, exec, ..
                }),
                None,
            ) if r.event == EventType::Audit => Ok(Draft::File {
                owner: false,
                path,
                perms,
                exec,
            }),
            (res, _) => res,
        };
        let profiles = match &transition {
            Some(exe) => std::slice::from_ref(exe),
            None => profiles,
        };
        if profiles.is_empty() {
            let reason = match result {
                Err(e) => e,
                Ok(_) => NoRule("record names no profile".into()),
            };
            self.note("(none)".into(), op, reason);
            return;
        }
        let trusted = r.provenance.origin.is_trusted();
        for p in profiles {
            match &result {
                Ok(d) if trusted => self.add_trusted(p, d.clone()),
                Ok(d) => self.add_untrusted(p, d.clone()),
                Err(e) => {
                    // a profile with records but no rule still gets its block
                    // (an untrusted one once the untrusted part is trusted)
                    if trusted {
                        self.node(p);
                    } else {
                        node_in(&mut self.untrusted, p);
                    }
                    self.note(p.clone(), op.clone(), e.clone());
                }
            }
        }
    }

    /// Adds a rule a trusted record supports to `profile`, taking it out of
    /// the untrusted part.
    fn add_trusted(&mut self, profile: &str, d: Draft) {
        if let Some(u) = find_node(&mut self.untrusted, profile)
            && u.take_covered(&d)
        {
            self.rules -= 1;
        }
        let full = self.rules >= MAX_RULES;
        match self.node(profile).add(d, full) {
            Some(true) => self.rules += 1,
            Some(false) => {}
            None => self.overflow_records += 1,
        }
    }

    /// Adds what a record of an unverified sender supports to the untrusted
    /// part of `profile`, less what trusted records already support.
    fn add_untrusted(&mut self, profile: &str, mut d: Draft) {
        if let Some(t) = find_node(&mut self.top, profile)
            && t.covers(&mut d)
        {
            return;
        }
        let full = self.rules >= MAX_RULES;
        match node_in(&mut self.untrusted, profile).add(d, full) {
            Some(true) => self.rules += 1,
            Some(false) => {}
            None => self.overflow_records += 1,
        }
    }

    fn note(&mut self, profile: String, operation: String, reason: NoRule) {
        let k = NoteKey {
            profile,
            operation,
            reason,
        };
        if let Some(n) = self.notes.get_mut(&k) {
            *n += 1;
        } else if self.notes.len() < MAX_NOTES {
            self.notes.insert(k, 1);
        }
    }

    /// The node of `profile` (`a//b` nested), created empty if missing.
    fn node(&mut self, profile: &str) -> &mut Node {
        node_in(&mut self.top, profile)
    }

    /// Adds a draft rule to `profile` directly.
    pub fn add_draft(&mut self, profile: &str, d: Draft) {
        if self.node(profile).add(d, false) == Some(true) {
            self.rules += 1;
        }
    }

    /// Passes every rule through `f` (given the full profile name `a//b`
    /// and the rule): `None` drops it, `Some(rule)` keeps it, possibly
    /// reduced (used to drop what the policy on disk already allows, or to
    /// keep only the missing file permissions). Returns how many rules were
    /// dropped.
    /// Both parts, trusted and untrusted, are filtered.
    pub fn retain(&mut self, f: &mut dyn FnMut(&str, &RuleEntry) -> Option<RuleEntry>) -> usize {
        fn walk(
            name: &str,
            n: &mut Node,
            f: &mut dyn FnMut(&str, &RuleEntry) -> Option<RuleEntry>,
        ) -> usize {
            let mut removed = 0;
            let files = std::mem::take(&mut n.files);
            for (k, v) in files {
                let e = file_entry(&k.0, k.1, &v.0, v.1);
                match f(name, &e) {
                    None => removed += 1,
                    Some(e2) if e2 == e => {
                        n.files.insert(k, v);
                    }
                    Some(e2) => n.rules.push((e2, None)),
                }
            }
            let rules = std::mem::take(&mut n.rules);
            for (e, c) in rules {
                match f(name, &e) {
                    None => removed += 1,
                    Some(e2) => n.rules.push((e2, c)),
                }
            }
            for (c, child) in &mut n.children {
                removed += walk(&format!("{name}//{c}"), child, f);
            }
            removed
        }
        let mut removed = 0;
        for (name, n) in self.top.iter_mut().chain(self.untrusted.iter_mut()) {
            removed += walk(name, n, f);
        }
        removed
    }

    /// Rewrites every rule with `f` (used by `--generalize`); `f` returns
    /// the new rule and an optional trailing comment (the raw value). Both
    /// parts, trusted and untrusted, are rewritten.
    pub fn rewrite(&mut self, f: &mut dyn FnMut(&RuleEntry) -> (RuleEntry, Option<String>)) {
        fn walk(n: &mut Node, f: &mut dyn FnMut(&RuleEntry) -> (RuleEntry, Option<String>)) {
            let files = std::mem::take(&mut n.files);
            for (k, v) in files {
                let e = file_entry(&k.0, k.1, &v.0, v.1);
                let (e2, c) = f(&e);
                if e2 == e && c.is_none() {
                    n.files.insert(k, v);
                } else {
                    n.rules.push((e2, c));
                }
            }
            let rules = std::mem::take(&mut n.rules);
            n.rules = rules
                .into_iter()
                .map(|(e, c)| match c {
                    Some(c) => (e, Some(c)),
                    None => f(&e),
                })
                .collect();
            for c in n.children.values_mut() {
                walk(c, f);
            }
        }
        for n in self.top.values_mut().chain(self.untrusted.values_mut()) {
            walk(n, f);
        }
    }

    /// Moves the rules only untrusted records support into the suggestions
    /// proper (the user chose to trust those records: `aactl log
    /// --trust-userspace-records`).
    pub fn trust_untrusted(&mut self) {
        fn merge(into: &mut Node, from: Node) {
            for (k, (perms, exec)) in from.files {
                let e = into.files.entry(k).or_default();
                e.0.extend(perms);
                e.1 |= exec;
            }
            for (r, c) in from.rules {
                if into.seen.insert(r.to_string()) {
                    into.rules.push((r, c));
                }
            }
            for (name, child) in from.children {
                merge(into.children.entry(name).or_default(), child);
            }
        }
        for (name, n) in std::mem::take(&mut self.untrusted) {
            merge(self.top.entry(name).or_default(), n);
        }
    }

    /// True when no profile block would be printed (untrusted part aside).
    pub fn is_empty(&self) -> bool {
        self.top.is_empty()
    }

    /// Number of rules suggested (untrusted part aside).
    pub fn rule_count(&self) -> usize {
        self.top.values().map(Node::rule_count).sum()
    }

    /// Number of rules only untrusted records support.
    pub fn untrusted_rule_count(&self) -> usize {
        self.untrusted.values().map(Node::rule_count).sum()
    }

    /// The profile blocks as AST nodes, one per top-level profile, sorted by
    /// name; a profile with records but no rule gives an empty block.
    /// Rules only untrusted records support are not in them
    /// ([`Suggestions::untrusted_blocks`]).
    pub fn blocks(&self) -> Vec<Profile> {
        self.top
            .iter()
            .map(|(name, n)| build(name, n, false, false))
            .collect()
    }

    /// The rules only records of unverified senders support, as profile
    /// blocks like [`Suggestions::blocks`] (profiles, hats and children
    /// without such a rule left out).
    pub fn untrusted_blocks(&self) -> Vec<Profile> {
        self.untrusted
            .iter()
            .filter(|(_, n)| n.rule_count() > 0)
            .map(|(name, n)| build(name, n, false, true))
            .collect()
    }

    /// The names of the top-level profiles.
    pub fn profiles(&self) -> Vec<&str> {
        self.top.keys().map(String::as_str).collect()
    }

    /// Renders the blocks as policy text with the canonical printer, one
    /// blank line between blocks (a profile whose records gave no rule gives
    /// an empty block, as the AppArmor utils write it; the notes say why).
    pub fn render(&self) -> String {
        render_blocks(&self.blocks())
    }

    /// Renders [`Suggestions::untrusted_blocks`] as [`Suggestions::render`]
    /// does.
    pub fn render_untrusted(&self) -> String {
        render_blocks(&self.untrusted_blocks())
    }
}

fn render_blocks(blocks: &[Profile]) -> String {
    let mut s = String::new();
    for (i, b) in blocks.iter().enumerate() {
        if i > 0 {
            s.push('\n');
        }
        let _ = writeln!(s, "{b}");
    }
    s
}

/// For the AUDIT record of an unconfined program's user namespace creation
/// that moved it into another profile (`target=`): the executable's path.
fn userns_transition(r: &Record, profiles: &[String]) -> Option<String> {
    if r.event != EventType::Audit
        || super::classify::category(r) != super::classify::Category::Userns
        || r.name2.as_ref().is_none_or(|t| t.is_empty())
        || !profiles.iter().all(|p| p == "unconfined")
    {
        return None;
    }
    let exe = r.execpath.as_ref()?.to_str_lossy().into_owned();
    exe.starts_with('/').then_some(exe)
}

/// The node of `profile` (`a//b` nested) in `tree`, created empty if missing.
fn node_in<'a>(tree: &'a mut BTreeMap<String, Node>, profile: &str) -> &'a mut Node {
    let mut parts = split_hats(profile).into_iter();
    let first = parts.next().unwrap_or_default();
    let mut n = tree.entry(first).or_default();
    for p in parts {
        n = n.children.entry(p).or_default();
    }
    n
}

/// The node of `profile` in `tree`, if there is one.
fn find_node<'a>(tree: &'a mut BTreeMap<String, Node>, profile: &str) -> Option<&'a mut Node> {
    let mut parts = profile.split("//");
    let mut n = tree.get_mut(parts.next()?)?;
    for p in parts {
        n = n.children.get_mut(p)?;
    }
    Some(n)
}

impl Node {
    /// Rules here and in the hats and children.
    fn rule_count(&self) -> usize {
        self.files.len()
            + self.rules.len()
            + self.children.values().map(Node::rule_count).sum::<usize>()
    }

    /// Takes out of this (untrusted) node what `d` supports: file
    /// permissions of the same path, or the same rule. True when a rule
    /// went entirely.
    fn take_covered(&mut self, d: &Draft) -> bool {
        match d {
            Draft::File {
                owner,
                path,
                perms,
                exec,
            } => {
                let key = (path.clone(), *owner);
                let Some((p, x)) = self.files.get_mut(&key) else {
                    return false;
                };
                p.retain(|c| !perms.contains(c));
                *x &= !*exec;
                if p.is_empty() && !*x {
                    self.files.remove(&key);
                    return true;
                }
                false
            }
            Draft::Rule(r) => {
                if !self.seen.remove(&r.to_string()) {
                    return false;
                }
                self.rules.retain(|(x, _)| x != r);
                true
            }
        }
    }

    /// Reduces `d` to what this (trusted) node does not already hold; true
    /// when nothing is left.
    fn covers(&self, d: &mut Draft) -> bool {
        match d {
            Draft::File {
                owner,
                path,
                perms,
                exec,
            } => {
                // (the path moves into the key and back: no copy)
                let key = (std::mem::take(path), *owner);
                if let Some((p, x)) = self.files.get(&key) {
                    perms.retain(|c| !p.contains(c));
                    *exec &= !*x;
                }
                *path = key.0;
                perms.is_empty() && !*exec
            }
            Draft::Rule(r) => self.seen.contains(&r.to_string()),
        }
    }

    /// Adds a draft: `Some(true)` when it made a new rule, `Some(false)`
    /// when it merged into one, `None` when it was new but `full`.
    fn add(&mut self, d: Draft, full: bool) -> Option<bool> {
        match d {
            Draft::File {
                owner,
                path,
                perms,
                exec,
            } => {
                let key = (path, owner);
                if let Some(e) = self.files.get_mut(&key) {
                    e.0.extend(perms);
                    e.1 |= exec;
                    return Some(false);
                }
                if full {
                    return None;
                }
                self.files.insert(key, (perms, exec));
                Some(true)
            }
            Draft::Rule(r) => {
                let key = r.to_string();
                if self.seen.contains(&key) {
                    return Some(false);
                }
                if full {
                    return None;
                }
                self.seen.insert(key);
                self.rules.push((r, None));
                Some(true)
            }
        }
    }
}

fn split_hats(profile: &str) -> Vec<String> {
    // Namespaced names keep their prefix on the top-level part.
    profile.split("//").map(str::to_owned).collect()
}

/// A file rule entry from merged parts: perms `m r w a l k` in that order,
/// exec as `ix` (with `m` and `r`, as the utils write `mrix`).
pub fn file_entry(path: &[u8], owner: bool, perms: &BTreeSetChars, exec: bool) -> RuleEntry {
    let mut p: BTreeSetChars = perms.clone();
    if exec {
        p.insert('m');
        p.insert('r');
    }
    let mut s: String = FILE_PERMS.iter().filter(|c| p.contains(c)).collect();
    if exec {
        s.push_str("ix");
    }
    RuleEntry {
        quals: Qualifiers {
            owner: owner.then_some(Owner::Owner),
            ..Qualifiers::default()
        },
        rule: Rule::File(FileRule {
            keyword: false,
            exec_mod: None,
            path: Some(policy_word(path, true)),
            perms: Some(Word {
                text: s,
                quoted: false,
                span: Span::default(),
            }),
            leading: false,
            subset: false,
            target: None,
        }),
        span: Span::default(),
    }
}

fn sort_key(r: &RuleEntry) -> u8 {
    match r.rule {
        Rule::Capability(_) => 0,
        Rule::Network(_) => 1,
        Rule::Unix(_) => 2,
        Rule::Dbus(_) => 3,
        Rule::Signal(_) => 4,
        Rule::Ptrace(_) => 5,
        Rule::Mount(_) | Rule::Remount(_) | Rule::Umount(_) => 6,
        Rule::PivotRoot(_) => 7,
        Rule::Mqueue(_) => 8,
        Rule::IoUring(_) => 9,
        Rule::Userns(_) => 10,
        Rule::ChangeProfile(_) => 11,
        _ => 12,
    }
}

fn items(n: &Node) -> Vec<Item> {
    let mut rules: Vec<(RuleEntry, Option<String>)> = n.rules.clone();
    rules.sort_by_key(|r| sort_key(&r.0));
    let mut out: Vec<Item> = Vec::new();
    for (r, c) in rules {
        out.push(Item::Rule(r));
        if let Some(c) = c {
            out.push(Item::Comment(Comment {
                text: format!(" {}", c.replace(['\n', '\r'], " ")),
                trailing: true,
                span: Span::default(),
            }));
        }
    }
    for ((path, owner), (perms, exec)) in &n.files {
        out.push(Item::Rule(file_entry(path, *owner, perms, *exec)));
    }
    out
}

/// The block of profile `name` (a hat when `hat`); with `prune`, hats and
/// children without a rule are left out (the untrusted part: a trusted
/// record may have taken their rules).
fn build(name: &str, n: &Node, hat: bool, prune: bool) -> Profile {
    let mut body = items(n);
    for (c, child) in &n.children {
        if prune && child.rule_count() == 0 {
            continue;
        }
        body.push(Item::Profile(Box::new(build(c, child, true, prune))));
    }
    let kind = if hat {
        ProfileKind::Caret
    } else if name.starts_with('/') {
        ProfileKind::Bare
    } else {
        ProfileKind::Profile
    };
    Profile {
        kind,
        name: policy_word(name.as_bytes(), false),
        attachment: None,
        xattrs: None,
        identities: Vec::new(),
        flags: None,
        items: body,
        head_span: Span::default(),
        span: Span::default(),
    }
}
