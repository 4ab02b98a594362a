//! The review plan: one proposal per distinct access that the records
//! show and the profiles on disk do not allow yet, with the rules that
//! would allow it, most specific first (docs/triage.md, "Review plan").
//!
//! [`PlanBuilder`] takes records as [`super::Suggestions`] does (same
//! rules, same release gating), keyed by profile and access: file
//! permissions on one path (and owner flag) are merged into one proposal,
//! any other rule is its own proposal. [`PlanBuilder::finish`] drops what
//! the profile on disk already allows and lists the candidates:
//!
//! - file: the exact rule; for an owner access the same rule without
//!   `owner`; the path with tunables (`@{HOME}/…`, `@{PROC}/@{pid}/…`)
//!   where their expansion still matches it; the parent folder globbed
//!   with the extension kept (`/a/b/*.ext`) and without (`/a/b/*`); every ancestor with `**` (with
//!   and without the extension), never `/**`; then `include
//!   <abstractions/X>` for each abstraction of the profile directory whose
//!   rules allow the access;
//! - exec: inherit (`mrix`), child (`Cx -> NAME`, `cx -> NAME`), profile
//!   (`Px`, `px`), unconfined (`Ux`, `ux`): the upper-case form, which
//!   scrubs the environment, comes first;
//! - any other kind: the exact rule, then the abstractions that allow it.
//!
//! Proposal ids are a hash of profile and access, so the same log gives
//! the same ids in a later run (the answers of [`super::apply`] are matched
//! by id).

use super::classify::{Category, category};
use super::generalize::Generalizer;
use super::ondisk::{OnDisk, glob_regex, literal, missing};
use super::suggest::{BTreeSetChars, Draft, file_entry, for_release, rule_for};
use crate::log::{EventType, Record};
use crate::policy::ParserVersion;
use crate::policy::ast::*;
use crate::policy::resolve::include::{Skip, skip_entry};
use crate::policy::resolve::{ResolvedProfile, Resolver, SearchPath};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The version of the plan document ([`Plan::schema`]). Within a version
/// members are only added (`audit`, `target` and the `named` action came
/// after the first plans).
pub const PLAN_SCHEMA: u32 = 1;

/// The `kind` of a plan document.
pub const PLAN_KIND: &str = "triage-plan";

/// Record summaries kept per proposal.
pub const MAX_SAMPLES: usize = 3;

/// Most proposals kept (memory bound for huge logs).
pub const MAX_PROPOSALS: usize = 200_000;

/// The review plan (`aactl triage --json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// [`PLAN_SCHEMA`].
    pub schema: u32,
    /// [`PLAN_KIND`].
    pub kind: String,
    /// The proposals, sorted by profile, then kind, then exact rule.
    pub proposals: Vec<Proposal>,
}

/// What to do with a proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Write the chosen rule.
    Allow,
    /// Write the chosen rule as a `deny` rule.
    Deny,
    /// Write nothing.
    Ignore,
    /// Exec: `ix` (the program runs under the same profile).
    Inherit,
    /// Exec: `Cx -> NAME` (a child profile of this one).
    Child,
    /// Exec: `Px` (the program's own profile).
    Profile,
    /// Exec: `Ux` (unconfined).
    Unconfined,
    /// Exec: `Px -> NAME` (a profile named by the answer's `target`), or
    /// `Cx -> NAME` when the chosen rule is a child transition.
    Named,
}

impl Action {
    /// The exec transition letter this action stands for (`i`, `c`, `p`,
    /// `u`), `None` for allow, deny and ignore.
    pub fn exec_letter(self) -> Option<char> {
        match self {
            Action::Inherit => Some('i'),
            Action::Child => Some('c'),
            Action::Profile => Some('p'),
            Action::Unconfined => Some('u'),
            _ => None,
        }
    }
}

/// One distinct access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// Stable id (16 hex digits, a hash of profile and access).
    pub id: String,
    /// The profile the rule belongs to (`name`, `a//hat`): a hat's or
    /// child's rule is written inside its own block.
    pub profile: String,
    /// `file`, `exec`, `capability`, `network`, `dbus`, `signal`, `ptrace`,
    /// `mount`, `unix`, … (the record's category).
    pub kind: String,
    /// The records behind it.
    pub records: Records,
    /// Rule texts, most specific first (without `deny`).
    pub candidates: Vec<String>,
    /// For a child transition: the child profile's name (`cx -> NAME`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child: Option<String>,
    /// The answer: `null` in a plan.
    pub action: Option<Action>,
    /// The chosen candidate: `null` means the first one.
    pub rule: Option<String>,
    /// For a `named` answer: the profile the program runs under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Write the rule with the `audit` prefix (`false` in a plan).
    #[serde(default)]
    pub audit: bool,
}

/// The records behind a proposal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Records {
    /// Number of records.
    pub count: u64,
    /// Records of them whose sender is not verified.
    pub untrusted: u64,
    /// First time seen (RFC 3339 UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<String>,
    /// Last time seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
    /// The first [`MAX_SAMPLES`] records.
    pub samples: Vec<Sample>,
}

impl Records {
    /// True when at least one record came from the kernel or a trusted
    /// helper (only such proposals are written without
    /// `--trust-userspace-records`).
    pub fn trusted(&self) -> bool {
        self.untrusted < self.count
    }
}

/// One record, summarised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    /// `apparmor=` event (`DENIED`, `ALLOWED`, …).
    pub event: String,
    /// `operation=`.
    pub operation: String,
    /// The object (path, capability, peer, …).
    pub target: String,
    /// Denied (else requested) mask.
    pub mask: String,
    /// `comm=`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comm: Option<String>,
    /// `pid=`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u64>,
    /// Time (RFC 3339 UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// `kernel`, `trusted-helper` or `untrusted`.
    pub provenance: String,
    /// Source name and line (`/var/log/audit/audit.log:12`).
    pub source: String,
}

#[derive(Debug, Clone)]
struct Entry {
    cat: Category,
    draft: Draft,
    records: Records,
}

/// Collects records into proposals (see the module doc).
#[derive(Debug, Clone, Default)]
pub struct PlanBuilder {
    entries: BTreeMap<(String, String), Entry>,
    parser: Option<ParserVersion>,
    /// Records that gave no rule (kind of record, or no profile).
    pub no_rule: u64,
    /// Records not kept because [`MAX_PROPOSALS`] were already held.
    pub overflow_records: u64,
}

fn text(t: &Option<crate::log::Text>) -> String {
    t.as_ref()
        .map(|t| t.to_str_lossy().into_owned())
        .unwrap_or_default()
}

fn rfc(t: Option<(u64, u32)>) -> Option<String> {
    t.map(|(s, ms)| crate::log::render::rfc3339(s, ms))
}

impl PlanBuilder {
    /// A builder writing rules in the language of apparmor_parser `v`.
    pub fn for_parser(v: ParserVersion) -> Self {
        PlanBuilder {
            parser: Some(v),
            ..PlanBuilder::default()
        }
    }

    /// Adds `r`, attributed to `profiles` (from [`super::RecordFilter::apply`]).
    pub fn add(&mut self, r: &Record, profiles: &[String]) {
        if !matches!(
            r.event,
            EventType::Denied | EventType::Allowed | EventType::Killed | EventType::Auto
        ) || profiles.is_empty()
        {
            self.no_rule += 1;
            return;
        }
        let v = self.parser.unwrap_or(ParserVersion::LATEST);
        let Ok(draft) = rule_for(r).and_then(|d| for_release(d, v)) else {
            self.no_rule += 1;
            return;
        };
        let cat = category(r);
        let key = match &draft {
            Draft::File {
                owner, path, exec, ..
            } => format!(
                "{}\0{}\0{owner}\0{exec}",
                cat.as_str(),
                String::from_utf8_lossy(path)
            ),
            Draft::Rule(e) => e.to_string(),
        };
        let trusted = r.provenance.origin.is_trusted();
        let time = rfc(r.timestamp());
        let sample = || Sample {
            event: r.event.as_kernel_name().to_owned(),
            operation: text(&r.operation),
            target: super::group::target_of(r, cat).to_str_lossy().into_owned(),
            mask: super::classify::effective_mask(r)
                .map(|m| m.to_str_lossy().into_owned())
                .unwrap_or_default(),
            comm: r.comm.as_ref().map(|c| c.to_str_lossy().into_owned()),
            pid: r.pid,
            time: time.clone(),
            provenance: r.provenance.origin.as_str().to_owned(),
            source: format!("{}:{}", r.provenance.source, r.provenance.line),
        };
        for p in profiles {
            let k = (p.clone(), key.clone());
            if !self.entries.contains_key(&k) && self.entries.len() >= MAX_PROPOSALS {
                self.overflow_records += 1;
                continue;
            }
            let e = self.entries.entry(k).or_insert_with(|| Entry {
                cat,
                draft: draft.clone(),
                records: Records::default(),
            });
            if let (Draft::File { perms, .. }, Draft::File { perms: new, .. }) =
                (&mut e.draft, &draft)
            {
                perms.extend(new.iter().copied());
            }
            let rec = &mut e.records;
            rec.count += 1;
            if !trusted {
                rec.untrusted += 1;
            }
            if let Some(t) = &time {
                if rec.first.as_ref().is_none_or(|f| t < f) {
                    rec.first = Some(t.clone());
                }
                if rec.last.as_ref().is_none_or(|l| t > l) {
                    rec.last = Some(t.clone());
                }
            }
            if rec.samples.len() < MAX_SAMPLES {
                rec.samples.push(sample());
            }
        }
    }

    /// Number of proposals so far (before the on-disk check).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no record gave a proposal.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The plan: proposals the profiles on disk (`disk`, when given) do not
    /// allow yet, reduced to what is missing, with their candidates;
    /// abstraction candidates come from `abstractions`.
    pub fn finish(self, mut disk: Option<&mut OnDisk>, abstractions: &Abstractions) -> Plan {
        // tunable forms are checked against the profile directory's own
        // tunables (upstream's values for those it does not define)
        let tunables = match disk.as_deref_mut() {
            Some(d) => Generalizer::with(d.tunables()),
            None => Generalizer::default(),
        };
        let mut proposals = Vec::new();
        for ((profile, key), e) in self.entries {
            let exact = match &e.draft {
                Draft::File {
                    owner,
                    path,
                    perms,
                    exec,
                } => file_entry(path, *owner, perms, *exec),
                Draft::Rule(r) => r.clone(),
            };
            let exact = match disk.as_deref_mut() {
                Some(d) => {
                    let top = profile.split("//").next().unwrap_or(&profile);
                    match d.find(top).and_then(|f| f.get(&profile)) {
                        Some(p) if denied(p, &exact) => continue,
                        Some(p) if e.cat == Category::Exec => {
                            // any exec transition for the path settles it
                            if missing(p, &exec_only(&exact)).is_none() {
                                continue;
                            }
                            exact
                        }
                        Some(p) => match missing(p, &exact) {
                            Some(m) => m,
                            None => continue,
                        },
                        None => exact,
                    }
                }
                None => exact,
            };
            let (candidates, child) = if e.cat == Category::Exec {
                exec_candidates(&exact)
            } else {
                let mut c = if matches!(e.draft, Draft::File { .. }) {
                    file_candidates(&exact, &tunables)
                } else {
                    vec![exact.to_string()]
                };
                for a in abstractions.allowing(&exact) {
                    c.push(format!("include <{a}>"));
                }
                (c, None)
            };
            proposals.push(Proposal {
                id: format!("{:016x}", fnv(&[profile.as_bytes(), key.as_bytes()])),
                profile,
                kind: e.cat.as_str().to_owned(),
                records: e.records,
                candidates,
                child,
                action: None,
                rule: None,
                target: None,
                audit: false,
            });
        }
        proposals.sort_by(|a, b| {
            a.profile
                .cmp(&b.profile)
                .then_with(|| a.kind.cmp(&b.kind))
                .then_with(|| a.candidates.cmp(&b.candidates))
        });
        Plan {
            schema: PLAN_SCHEMA,
            kind: PLAN_KIND.to_owned(),
            proposals,
        }
    }
}

/// The exec rule reduced to its transition (`PATH ix,`).
fn exec_only(e: &RuleEntry) -> RuleEntry {
    let mut e = e.clone();
    if let Rule::File(f) = &mut e.rule
        && let Some(p) = &mut f.perms
    {
        p.text = "ix".into();
    }
    e
}

/// True when a deny rule of `p` covers `rule` (the user decided already).
fn denied(p: &ResolvedProfile, rule: &RuleEntry) -> bool {
    if !p.rules.iter().any(|r| r.quals.access == Some(Access::Deny)) {
        return false;
    }
    let mut only = p.clone();
    only.children.clear();
    only.rules.retain(|r| r.quals.access == Some(Access::Deny));
    for r in &mut only.rules {
        r.quals.access = None;
    }
    let probe = match &rule.rule {
        // a deny rule of an exec names only `x`
        Rule::File(f) if f.perms.as_ref().is_some_and(|w| w.text.contains('x')) => {
            let mut e = rule.clone();
            if let Rule::File(f) = &mut e.rule
                && let Some(w) = &mut f.perms
            {
                w.text = "ix".into();
            }
            e
        }
        _ => rule.clone(),
    };
    super::ondisk::allows(&only, &probe)
}

/// FNV-1a (64 bits) over the parts, each followed by a 0 byte.
fn fnv(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.iter().chain(std::iter::once(&0u8)) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// The path word and perms of a file rule.
fn file_parts(e: &RuleEntry) -> Option<(&Word, String)> {
    match &e.rule {
        Rule::File(f) => Some((f.path.as_ref()?, f.perms.as_ref()?.text.clone())),
        _ => None,
    }
}

fn with_path(e: &RuleEntry, text: String, owner: bool) -> String {
    let mut e = e.clone();
    if let Rule::File(f) = &mut e.rule
        && let Some(p) = &mut f.path
    {
        p.text = text;
    }
    e.quals.owner = owner.then_some(Owner::Owner);
    e.to_string()
}

/// Globbed forms of an escaped policy path (see the module doc), most
/// specific first, the path itself excluded.
pub fn glob_variants(path: &str) -> Vec<String> {
    let dir = path.ends_with('/') && path.len() > 1;
    let trimmed = if dir { &path[..path.len() - 1] } else { path };
    let Some(cut) = trimmed.rfind('/') else {
        return Vec::new();
    };
    let (parent, name) = (&trimmed[..cut], &trimmed[cut + 1..]);
    let slash = if dir { "/" } else { "" };
    // the extension: after the last dot that is not the first character
    let ext = (!dir)
        .then(|| name.rfind('.').filter(|&i| i > 0).map(|i| &name[i..]))
        .flatten()
        .filter(|x| !x.contains(['*', '\\']));
    let mut out = Vec::new();
    let mut push = |s: String| {
        if s != path && !out.contains(&s) {
            out.push(s);
        }
    };
    if !parent.is_empty() {
        if let Some(x) = ext {
            push(format!("{parent}/*{x}"));
        }
        push(format!("{parent}/*{slash}"));
    }
    let mut anc = parent;
    while !anc.is_empty() {
        if let Some(x) = ext {
            push(format!("{anc}/**{x}"));
        }
        push(format!("{anc}/**{slash}"));
        anc = &anc[..anc.rfind('/').unwrap_or(0)];
    }
    out
}

fn file_candidates(exact: &RuleEntry, tunables: &Generalizer) -> Vec<String> {
    let Some((path, _)) = file_parts(exact) else {
        return vec![exact.to_string()];
    };
    let owner = exact.quals.owner == Some(Owner::Owner);
    let mut c = vec![exact.to_string()];
    if owner {
        c.push(with_path(exact, path.text.clone(), false));
    }
    // the path with tunables (`@{HOME}/.cache/x`, `@{PROC}/@{pid}/stat`),
    // only when its expansion still matches the denied path
    if let Some(t) = tunables.path(&path.text) {
        c.push(with_path(exact, t, owner));
    }
    for g in glob_variants(&path.text) {
        c.push(with_path(exact, g, owner));
    }
    c
}

/// The child profile name for an exec of `path`: its last component.
fn child_name(path: &str) -> String {
    let p = path.trim_end_matches('/');
    p.rsplit('/').next().unwrap_or(p).to_owned()
}

fn exec_candidates(exact: &RuleEntry) -> (Vec<String>, Option<String>) {
    let Some((path, _)) = file_parts(exact) else {
        return (vec![exact.to_string()], None);
    };
    let name = child_name(&literal(path));
    let child = crate::triage::suggest::policy_word(name.as_bytes(), false);
    let mut out = vec![exact.to_string()];
    let owner = if exact.quals.owner.is_some() {
        "owner "
    } else {
        ""
    };
    for m in ["Cx", "cx"] {
        out.push(format!("{owner}{path} {m} -> {child},"));
    }
    for m in ["Px", "px", "Ux", "ux"] {
        out.push(format!("{owner}{path} {m},"));
    }
    (out, Some(child.to_string()))
}

/// The exec transition a candidate rule of an exec proposal makes: `i`,
/// `c`, `p` or `u` (lower case), `None` when the text has none.
pub fn exec_letter_of(rule: &str) -> Option<char> {
    let body = rule.trim_end_matches(',');
    let mode = body
        .split(" -> ")
        .next()
        .unwrap_or(body)
        .split_whitespace()
        .last()?;
    let lower = mode.to_ascii_lowercase();
    let letters: Vec<char> = lower.chars().collect();
    let x = letters.iter().position(|&c| c == 'x')?;
    let before = letters.get(x.checked_sub(1)?)?;
    ['i', 'c', 'p', 'u'].contains(before).then_some(*before)
}

/// A compiled file rule of an abstraction.
#[derive(Debug)]
struct FileMatch {
    owner: Option<Owner>,
    re: regex::Regex,
    perms: BTreeSetChars,
}

#[derive(Debug)]
struct Abstraction {
    name: String,
    files: Vec<FileMatch>,
    /// The other rules (for [`super::ondisk::allows`]).
    other: ResolvedProfile,
}

/// The abstractions of a profile directory (`DIR/abstractions/*`), each
/// resolved once (includes and variables applied) with its file rules
/// compiled, to tell which would allow an access.
#[derive(Debug, Default)]
pub struct Abstractions {
    list: Vec<Abstraction>,
}

impl Abstractions {
    /// No abstractions (no candidate `include` lines).
    pub fn none() -> Self {
        Abstractions::default()
    }

    /// Reads `dir/abstractions/*` (regular files, apparmor_parser's skip
    /// list applied, sorted by name) under `root` (files whose real path is
    /// outside `root` are not read). A missing folder gives none.
    pub fn load(root: &Path, dir: &Path) -> Self {
        let mut resolver = Resolver::new(SearchPath::profile_dir(root, dir));
        let mut names: Vec<String> = std::fs::read_dir(dir.join("abstractions"))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| std::fs::metadata(e.path()).is_ok_and(|m| m.is_file()))
            .filter_map(|e| e.file_name().to_str().map(str::to_owned))
            .filter(|n| skip_entry(n) == Skip::No)
            .collect();
        names.sort();
        let mut list = Vec::new();
        for n in names {
            let name = format!("abstractions/{n}");
            let probe = format!("profile aactl-probe {{\n  include <{name}>\n}}\n");
            let r = resolver.resolve_text(&PathBuf::from(dir).join(".aactl-probe"), probe);
            let Some(p) = r.profiles.into_iter().next() else {
                continue;
            };
            let mut files = Vec::new();
            let mut other = p.clone();
            other.rules.clear();
            for rule in p.rules {
                if rule.quals.access == Some(Access::Deny) {
                    continue;
                }
                match &rule.rule {
                    Rule::File(f) => {
                        let (Some(path), Some(perms)) = (&f.path, &f.perms) else {
                            continue;
                        };
                        let Ok(re) = regex::Regex::new(&glob_regex(&path.text)) else {
                            continue;
                        };
                        let mut set: BTreeSetChars = perms
                            .text
                            .chars()
                            .filter(|c| "mrwalk".contains(*c))
                            .collect();
                        if set.contains(&'w') {
                            set.insert('a');
                        }
                        files.push(FileMatch {
                            owner: rule.quals.owner,
                            re,
                            perms: set,
                        });
                    }
                    _ => other.rules.push(rule),
                }
            }
            list.push(Abstraction { name, files, other });
        }
        Abstractions { list }
    }

    /// Number of abstractions read.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// True when none was read.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The names (`abstractions/X`) of the abstractions allowing `rule`
    /// (a file rule: every permission it asks for, exec aside, granted by
    /// the union of the matching rules).
    pub fn allowing(&self, rule: &RuleEntry) -> Vec<String> {
        let mut out = Vec::new();
        for a in &self.list {
            let ok = match (&rule.rule, file_parts(rule)) {
                (Rule::File(_), Some((path, perms))) => {
                    if perms.contains('x') {
                        false
                    } else {
                        let lit = literal(path);
                        let mut have = BTreeSetChars::new();
                        for f in &a.files {
                            let owner_ok = match f.owner {
                                None => true,
                                Some(Owner::Owner) => rule.quals.owner == Some(Owner::Owner),
                                Some(Owner::Other) => rule.quals.owner != Some(Owner::Owner),
                            };
                            if owner_ok && f.re.is_match(&lit) {
                                have.extend(f.perms.iter().copied());
                            }
                        }
                        perms
                            .chars()
                            .filter(|c| "mrwalk".contains(*c))
                            .all(|c| have.contains(&c))
                    }
                }
                (Rule::File(_), None) => false,
                _ => super::ondisk::allows(&a.other, rule),
            };
            if ok {
                out.push(a.name.clone());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert_eq!(
            glob_variants("/a/b/c.ext"),
            [
                "/a/b/*.ext",
                "/a/b/*",
                "/a/b/**.ext",
                "/a/b/**",
                "/a/**.ext",
                "/a/**"
            ]
        );
        assert_eq!(glob_variants("/a/b/"), ["/a/*/", "/a/**/"]);
        assert_eq!(glob_variants("/x"), Vec::<String>::new());
        assert_eq!(glob_variants("/etc/.hidden"), ["/etc/*", "/etc/**"]);
    }

    #[test]
    fn tunable_candidates_only_where_they_match() {
        let mut perms = BTreeSetChars::default();
        perms.insert('r');
        let g = Generalizer::default();
        let home = file_candidates(&file_entry(b"/home/otis/.cache/x", true, &perms, false), &g);
        assert_eq!(home[0], "owner /home/otis/.cache/x r,");
        assert_eq!(home[1], "/home/otis/.cache/x r,");
        assert_eq!(home[2], "owner @{HOME}/.cache/x r,");
        // /home/b.c is not under a home folder: no tunable form
        let flat = file_candidates(&file_entry(b"/home/b.c", false, &perms, false), &g);
        assert!(flat.iter().all(|c| !c.contains("@{")), "{flat:?}");
    }

    #[test]
    fn exec_letters() {
        assert_eq!(exec_letter_of("/bin/x mrix,"), Some('i'));
        assert_eq!(exec_letter_of("/bin/x Cx -> x,"), Some('c'));
        assert_eq!(exec_letter_of("/bin/x px,"), Some('p'));
        assert_eq!(exec_letter_of("/bin/x Ux,"), Some('u'));
        assert_eq!(exec_letter_of("/bin/x r,"), None);
    }
}
