//! Semantic (post-parse) checks (docs/policy-language.md, "The semantic checks"): what
//! apparmor_parser rejects (or warns about) in a profile that parses.
//!
//! Entry point: [`check`] over a [`Resolved`] file. Rule-local checks run on
//! every rule of the file, also on rules in untaken `if` branches (upstream
//! validates a rule while building it, before the condition is evaluated);
//! rules that came from includes are checked in their resolved (expanded)
//! form. Profile-level checks (names, flags, duplicates, merged exec modes)
//! run on the resolved profiles.
//!
//! Every diagnostic carries a stable `S`-prefixed code from [`codes`], the
//! severity apparmor_parser gives it (warnings: `ux`, rules the feature ABI
//! cannot enforce, a repeated alias) and the span of the offending token.
//!
//! ```no_run
//! use apparmor::policy::check::{self, CheckOptions, Features};
//! use apparmor::policy::resolve::{Resolver, SearchPath};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut r = Resolver::new(SearchPath {
//!     base: Some("/etc/apparmor.d".into()),
//!     ..Default::default()
//! });
//! let res = r.resolve_file("/etc/apparmor.d/usr.sbin.cupsd".as_ref())?;
//! let opts = CheckOptions {
//!     features: Some(Features::load("/sys/kernel/security/apparmor/features".as_ref())?),
//!     werror: false,
//!     version: apparmor::policy::ParserVersion::V4_1,
//! };
//! // parse + resolution + semantic diagnostics, sorted, --Werror applied
//! for d in check::diagnostics(&res, &r.sources, &opts, true) {
//!     println!("{}", d.to_json(&r.sources));
//! }
//! # Ok(()) }
//! ```

mod file;
mod glob;
mod ipc;
mod mount;
mod net;
mod profile;
mod release;
mod rules;
pub(crate) mod tables;
#[cfg(test)]
mod tests;

pub use crate::system::{FeatureNode, Features, FeaturesError};
pub use file::{ExecMode, FilePerms};
pub use glob::check_aare;
pub use release::needs_newer;

use crate::diag::{Diagnostic, FileId, Severity, SourceMap, Span};
use crate::policy::ParserVersion;
use crate::policy::ast::*;
use crate::policy::resolve::{Resolved, ResolvedProfile};
use std::collections::HashSet;

/// Stable diagnostic codes of the semantic checks (documented in aactl(1)).
pub mod codes {
    /// "Conflict 'a' and 'w' perms are mutually exclusive."
    pub const APPEND_WRITE: &str = "S0101";
    /// "Exec qualifier 'X' invalid, conflicting qualifier already specified"
    pub const EXEC_CONFLICT: &str = "S0102";
    /// "Invalid perms, 'x' must be preceded by exec qualifier …"
    pub const BARE_X: &str = "S0103";
    /// "in deny rules 'x' must not be preceded by exec qualifier …"
    pub const DENY_EXEC: &str = "S0104";
    /// "unsafe rule missing exec permissions"
    pub const EXEC_KEYWORD: &str = "S0105";
    /// "subset can only be used with link rules."
    pub const SUBSET: &str = "S0106";
    /// "link and exec perms conflict on a file rule using ->" and link to a
    /// named transition.
    pub const LINK_EXEC: &str = "S0107";
    /// "has merged rule … with conflicting x modifiers"
    pub const MERGED_X: &str = "S0108";
    /// "Regex grouping error: …"
    pub const GLOB: &str = "S0109";
    /// Unknown permission character or a qualifier without `x`.
    pub const BAD_PERMS: &str = "S0110";
    /// Warning: `ux` (unconfined exec).
    pub const UNCONFINED_EXEC: &str = "S0111";
    /// "Profile X has too many specified profile transitions." (more than
    /// 12 named exec targets; before 5.0 link targets count too).
    pub const TRANSITIONS: &str = "S0112";
    /// `owner` on a rule kind that has no owner.
    pub const OWNER: &str = "S0201";
    /// `priority=` not allowed here or out of range.
    pub const PRIORITY: &str = "S0202";
    /// Qualifier block prefix conflicts with a rule's.
    pub const BLOCK_PREFIX: &str = "S0203";
    /// Profile name / attachment / namespace form.
    pub const PROFILE_NAME: &str = "S0301";
    /// "Multiple definitions for profile X exist"
    pub const DUPLICATE_PROFILE: &str = "S0302";
    /// "Invalid profile flag: X." and bad flag values.
    pub const FLAG: &str = "S0303";
    /// "Profile flag 'A' conflicts with 'B'"
    pub const FLAG_CONFLICT: &str = "S0304";
    /// xattrs on hats, identities, head conditionals.
    pub const PROFILE_HEAD: &str = "S0305";
    /// "Invalid capability X."
    pub const CAPABILITY: &str = "S0501";
    /// Network entry, ip, port and conditional errors.
    pub const NETWORK: &str = "S0502";
    /// Local-only permissions with a peer conditional.
    pub const PEER_PERMS: &str = "S0503";
    /// Unix rule errors.
    pub const UNIX: &str = "S0504";
    /// DBus rule errors.
    pub const DBUS: &str = "S0505";
    /// 'unknown signal "X"'.
    pub const SIGNAL: &str = "S0506";
    /// Mount, remount, umount and pivot_root errors.
    pub const MOUNT: &str = "S0507";
    /// Mqueue errors.
    pub const MQUEUE: &str = "S0508";
    /// change_profile errors.
    pub const CHANGE_PROFILE: &str = "S0509";
    /// rlimit errors.
    pub const RLIMIT: &str = "S0510";
    /// Unknown, repeated or malformed conditionals of any rule kind.
    pub const RULE_COND: &str = "S0511";
    /// Access words not valid for the rule kind.
    pub const RULE_PERMS: &str = "S0512";
    /// Stray words in a rule.
    pub const RULE_SYNTAX: &str = "S0513";
    /// Warning: a rule class the kernel feature ABI cannot enforce ("X rules
    /// not enforced"; only with a feature ABI).
    pub const NOT_ENFORCED: &str = "S0601";
    /// Warning: an alias defined twice.
    pub const ALIAS: &str = "S0401";

    // Release gates (`V` + the introducing release + a number): a construct
    // the target release (`CheckOptions::version`) does not know. `V41xx`:
    // introduced by 4.x (an error when checking for 3.0); `V50xx`: by 5.0 (an
    // error for 3.0 and 4.1). 6.0 adds nothing over 5.0 that the checks know
    // of, so there is no `V60xx` yet.

    /// `all`, `mqueue`, `io_uring` and `userns` rules (4.x).
    pub const NEEDS_4_RULE: &str = "V4101";
    /// `priority=` and the `prompt` rule prefix (4.x).
    pub const NEEDS_4_QUALIFIER: &str = "V4102";
    /// Network permissions and `ip=`/`port=`/`peer=` conditionals (4.x).
    pub const NEEDS_4_NETWORK: &str = "V4103";
    /// Profile flags `prompt`, `default_allow`, `interruptible`, `debug`,
    /// `kill.signal=`, `error=`, `attach_disconnected.path=` (4.x).
    pub const NEEDS_4_FLAG: &str = "V4104";
    /// Mount options `lazytime`, `nolazytime`, `nostrictatime`, `symfollow`,
    /// `nosymfollow`; a propagation change with its mount point written
    /// without `->` (4.x).
    pub const NEEDS_4_MOUNT: &str = "V4105";
    /// `if` conditions with `and`/`or`, parentheses, comparisons or
    /// `true`/`false`; `defined $X` of an unset boolean (4.x rejects it) (5.0).
    pub const NEEDS_5_CONDITION: &str = "V5001";
    /// `?=` and `:=` assignments, the automatic `@{exec_path}` and
    /// `@{attach_path}` (5.0).
    pub const NEEDS_5_VARIABLE: &str = "V5002";
    /// Network `interface=` and `label=` conditionals (5.0).
    pub const NEEDS_5_NETWORK: &str = "V5003";
    /// The `attach_disconnected.ipc` profile flag (5.0).
    pub const NEEDS_5_FLAG: &str = "V5004";
    /// `+ identities=` in a profile head (5.0).
    pub const NEEDS_5_IDENTITY: &str = "V5005";
    /// `abi <kernel>` and `abi <default>` (5.0).
    pub const NEEDS_5_ABI: &str = "V5006";
    /// The signal names `tstp` and `poll` in `set=` (5.0; older releases
    /// know the same signals as `stp` and `io`).
    pub const NEEDS_5_SIGNAL: &str = "V5007";
}

/// Options of a semantic check run.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// The kernel feature ABI to check against (apparmor_parser `-M`); `None`
    /// means the parser's built-in tables only. It decides what is enforced
    /// (warnings), not what the language accepts.
    pub features: Option<Features>,
    /// Turn warnings into errors (`--Werror`).
    pub werror: bool,
    /// The `apparmor_parser` release line to check for (default
    /// [`ParserVersion::LATEST`]): constructs it does not know are errors
    /// with a `V` code, and checks that releases changed follow it.
    pub version: ParserVersion,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            features: None,
            werror: false,
            version: ParserVersion::LATEST,
        }
    }
}

pub(crate) struct Checker<'o> {
    opts: &'o CheckOptions,
    vars: Option<&'o crate::policy::resolve::Variables>,
    aliases: HashSet<String>,
    diags: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn error(&mut self, code: &'static str, span: Span, msg: impl Into<String>) {
        self.diags.push(Diagnostic::error(code, span, msg));
    }
    fn warning(&mut self, code: &'static str, span: Span, msg: impl Into<String>) {
        self.diags.push(Diagnostic::warning(code, span, msg));
    }
    /// AARE well-formedness of a word, pointing at the offending byte.
    fn glob(&mut self, w: &Word) {
        if let Err((at, msg)) = check_aare(&w.text) {
            let span = if w.quoted || at >= w.text.len() {
                w.span
            } else {
                Span {
                    file: w.span.file,
                    start: w.span.start.saturating_add(at as u32),
                    end: w.span.start.saturating_add(at as u32 + 1),
                }
            };
            self.error(codes::GLOB, span, msg);
        }
    }
}

/// All diagnostics of a resolved file: its parse and resolution diagnostics
/// plus, when `semantic`, those of [`check`]; sorted by position, and with
/// [`CheckOptions::werror`] every warning promoted to an error. This is what
/// `aactl check` reports.
pub fn diagnostics(
    resolved: &Resolved,
    sources: &SourceMap,
    opts: &CheckOptions,
    semantic: bool,
) -> Vec<Diagnostic> {
    let mut out = resolved.diagnostics.clone();
    if semantic {
        out.extend(check(resolved, sources, opts));
        out.sort_by_key(|d| (d.span.file, d.span.start));
    }
    if opts.werror {
        promote_warnings(&mut out);
    }
    out
}

/// Turns every warning into an error (`--Werror`).
pub fn promote_warnings(diags: &mut [Diagnostic]) {
    for d in diags {
        if d.severity == Severity::Warning {
            d.severity = Severity::Error;
        }
    }
}

/// Named transition targets a profile may have (apparmor_parser's table size).
const MAX_NAMED_TRANSITIONS: usize = 12;

/// (path, exec mode, named target) of an allow rule with an exec transition.
type ExecRule = (String, ExecMode, Option<String>);

fn key(s: Span) -> (FileId, u32, u32) {
    (s.file, s.start, s.end)
}

/// Runs every semantic check on `resolved` (whose files are in `sources`) and
/// returns the diagnostics, in source order. With [`CheckOptions::werror`]
/// warnings come back as errors.
pub fn check(resolved: &Resolved, sources: &SourceMap, opts: &CheckOptions) -> Vec<Diagnostic> {
    let _ = sources;
    let mut c = Checker {
        opts,
        vars: Some(&resolved.variables),
        aliases: HashSet::new(),
        diags: Vec::new(),
    };
    // rules that resolution kept (taken branches), checked expanded; only those of the
    // file itself are looked up in `taken` (by `items`, over the file's own AST)
    let mut taken = HashSet::new();
    for p in &resolved.profiles {
        for p in p.all() {
            for r in &p.rules {
                if r.span.file == resolved.file {
                    taken.insert(key(r.span));
                }
                c.rule(&r.quals, &r.rule, r.span);
            }
        }
    }
    // the file's own AST: rules in untaken branches, blocks, profile heads
    c.items(&resolved.ast.items, &Qualifiers::default(), &taken, true);
    c.release_uses(&resolved.uses);
    c.top_profiles(&resolved.profiles);
    for p in &resolved.profiles {
        c.resolved_profile(p);
    }
    let mut out = c.diags;
    let mut seen = HashSet::new();
    out.retain(|d| seen.insert((d.code, key(d.span), d.message.clone())));
    out.sort_by_key(|d| (d.span.file, d.span.start));
    if opts.werror {
        promote_warnings(&mut out);
    }
    out
}

impl Checker<'_> {
    fn items(
        &mut self,
        items: &[Item],
        block: &Qualifiers,
        taken: &HashSet<(FileId, u32, u32)>,
        top: bool,
    ) {
        for it in items {
            match it {
                Item::Rule(r) => {
                    self.block_prefix(block, &r.quals, r.span);
                    if !taken.contains(&key(r.span)) && !top {
                        let q = Qualifiers {
                            priority: r.quals.priority.or(block.priority),
                            audit: r.quals.audit || block.audit,
                            access: r.quals.access.or(block.access),
                            owner: r.quals.owner.or(block.owner),
                            span: r.quals.span,
                        };
                        self.rule(&q, &r.rule, r.span);
                    }
                }
                Item::Block(b) => {
                    if b.quals.priority.is_some() {
                        self.error(
                            codes::PRIORITY,
                            b.span,
                            "priority is not allowed on rule blocks",
                        );
                    }
                    self.block_prefix(block, &b.quals, b.span);
                    let q = Qualifiers {
                        priority: None,
                        audit: b.quals.audit || block.audit,
                        access: b.quals.access.or(block.access),
                        owner: b.quals.owner.or(block.owner),
                        span: b.quals.span,
                    };
                    self.items(&b.items, &q, taken, top);
                }
                Item::Profile(p) => {
                    self.release_profile_head(p);
                    self.profile_head(p);
                    self.items(&p.items, &Qualifiers::default(), taken, false);
                }
                Item::If(i) => {
                    let mut cur: &IfBlock = i;
                    loop {
                        self.items(&cur.then, block, taken, top);
                        match &cur.otherwise {
                            Some(Else::If(n)) => cur = n,
                            Some(Else::Block(b)) => {
                                self.items(b, block, taken, top);
                                break;
                            }
                            None => break,
                        }
                    }
                }
                Item::Alias(a) => {
                    let from = a.from.value();
                    if !self.aliases.insert(from.clone()) {
                        self.warning(codes::ALIAS, a.span, format!("'{from}' is already defined"));
                    }
                }
                Item::Abi(a) if a.target.name().trim().is_empty() => {
                    self.error(
                        codes::PROFILE_HEAD,
                        a.span,
                        "Could not open '': empty abi name",
                    );
                }
                _ => {}
            }
        }
    }

    fn block_prefix(&mut self, block: &Qualifiers, inner: &Qualifiers, span: Span) {
        if let (Some(a), Some(b)) = (block.access, inner.access) {
            if a != b {
                self.error(codes::BLOCK_PREFIX, span, "conflicting mode prefix");
            }
        }
        if let (Some(a), Some(b)) = (block.owner, inner.owner) {
            if a != b {
                self.error(codes::BLOCK_PREFIX, span, "conflicting owner prefix");
            }
        }
    }

    /// Merged-rule checks over one resolved profile and its children.
    fn resolved_profile(&mut self, p: &ResolvedProfile) {
        self.merged_exec(p);
        self.not_enforced(p);
        self.duplicates(&p.children, &p.name);
        for ch in &p.children {
            self.resolved_profile(ch);
        }
    }

    /// With a feature ABI: warn once per profile and rule class the ABI lacks
    /// (apparmor_parser's `rule-not-enforced` warnings).
    fn not_enforced(&mut self, p: &ResolvedProfile) {
        let Some(f) = &self.opts.features else {
            return;
        };
        let mut warned = HashSet::new();
        for r in &p.rules {
            if r.quals.access == Some(Access::Deny) {
                continue;
            }
            let (class, feature, msg) = match &r.rule {
                Rule::Mount(_) | Rule::Remount(_) | Rule::Umount(_) => {
                    ("mount", "mount", "mount rules not enforced")
                }
                // apparmor_parser mediates pivot_root in the mount class (`mount/mask`
                // lists pivot_root), whatever `namespaces/pivot_root` says.
                Rule::PivotRoot(_) => ("pivot_root", "mount", "pivot_root rules not enforced"),
                Rule::Dbus(_) => ("dbus", "dbus", "dbus rules not enforced"),
                Rule::Signal(_) => ("signal", "signal", "signal rules not enforced"),
                Rule::Ptrace(_) => ("ptrace", "ptrace", "ptrace rules not enforced"),
                Rule::Unix(_) => (
                    "unix",
                    "network/af_unix",
                    "extended network unix socket rules not enforced",
                ),
                Rule::Network(_) => ("network", "network", "network rules not enforced"),
                Rule::Mqueue(_) => ("mqueue", "ipc/posix_mqueue", "mqueue rules not enforced"),
                Rule::IoUring(_) => ("io_uring", "io_uring", "io_uring rules not enforced"),
                Rule::Userns(_) => (
                    "userns",
                    "namespaces/userns_create",
                    "userns rules not enforced",
                ),
                _ => continue,
            };
            if !f.has(feature) && warned.insert(class) {
                self.warning(
                    codes::NOT_ENFORCED,
                    r.span,
                    format!(
                        "profile {}: {msg} (the feature ABI lacks '{feature}')",
                        p.name
                    ),
                );
            }
        }
    }

    fn merged_exec(&mut self, p: &ResolvedProfile) {
        let mut seen: Vec<ExecRule> = Vec::new();
        let mut prio: Vec<i64> = Vec::new();
        let mut cp: Vec<(String, String, Option<ExecMod>)> = Vec::new();
        // named transition targets (child or not, name); before 5.0 the
        // targets of link rules take entries of the same table
        let mut named: HashSet<(bool, String)> = HashSet::new();
        let links_count = self.opts.version < ParserVersion::V5_0;
        for r in &p.rules {
            if r.quals.access == Some(Access::Deny) {
                continue;
            }
            match &r.rule {
                Rule::File(f) => {
                    let (Some(path), Some(perms)) = (&f.path, &f.perms) else {
                        continue;
                    };
                    let mut quiet = Checker {
                        opts: self.opts,
                        vars: None,
                        aliases: HashSet::new(),
                        diags: Vec::new(),
                    };
                    let fp = quiet.file_perms(perms, false, f.leading, f.exec_mod);
                    let target = f.target.as_ref().map(Word::value);
                    if let Some(t) = &target {
                        match &fp.mode {
                            Some(m) => named.insert((m.kind == 'c', t.clone())),
                            None if fp.link && links_count => {
                                named.insert((false, format!("\0{t}")))
                            }
                            None => false,
                        };
                    }
                    let Some(m) = fp.mode else { continue };
                    let path = path.value();
                    let pr = r.quals.priority.unwrap_or(0);
                    // owner does not separate exec modes (apparmor_parser merges
                    // them); a different priority= does (the higher one wins)
                    if let Some(i) = seen.iter().position(|(p2, _, _)| *p2 == path) {
                        let prev = &seen[i];
                        if prio[i] == pr && (prev.1 != m || prev.2 != target) {
                            self.error(
                                codes::MERGED_X,
                                r.span,
                                format!(
                                    "profile {} has merged rule {path} with conflicting x modifiers",
                                    p.name
                                ),
                            );
                        }
                        continue;
                    }
                    seen.push((path, m, target));
                    prio.push(pr);
                }
                Rule::Link(l) if links_count => {
                    named.insert((false, format!("\0{}", l.to.value())));
                }
                Rule::ChangeProfile(c) => {
                    let (Some(e), Some(m)) = (&c.exec, c.exec_mod) else {
                        if let Some(e) = &c.exec {
                            let t = c.target.as_ref().map(Word::value).unwrap_or_default();
                            cp.push((e.value(), t, None));
                        }
                        continue;
                    };
                    let t = c.target.as_ref().map(Word::value).unwrap_or_default();
                    cp.push((e.value(), t, Some(m)));
                }
                _ => {}
            }
        }
        if named.len() > MAX_NAMED_TRANSITIONS {
            self.error(
                codes::TRANSITIONS,
                p.span,
                format!(
                    "Profile {} has too many specified profile transitions.",
                    p.name
                ),
            );
        }
        // globs whose languages overlap with different exec modes (what
        // apparmor_parser finds in the DFA); an exact path beats globs, and
        // a higher priority= wins instead of conflicting. Since 4.x a
        // pattern without `*`/`?` (only `[…]` classes and `{…}`
        // alternations) ranks with exact paths: it beats wildcards but
        // conflicts with an overlapping exact path or class pattern. 3.0
        // treats classes as wildcards; for it only literal alternatives
        // (after `{…}` expansion) are exact.
        let classes_exact = self.opts.version >= ParserVersion::V4_1;
        // (rule, priority, is a glob, has an alternative without wildcards, its
        // alternatives expanded and tokenized once, not once per pair)
        let pool: Vec<(&ExecRule, i64, bool, bool, glob::Alternatives)> = seen
            .iter()
            .zip(prio.iter().copied())
            .filter_map(|(r, pr)| {
                let g = glob::is_glob(&r.0);
                let alts = glob::Alternatives::new(&r.0, classes_exact);
                let finite = !g || alts.has_finite();
                (g || finite).then_some((r, pr, g, finite, alts))
            })
            .take(1024)
            .collect();
        'outer: for (i, (a, pa, ga, fa, xa)) in pool.iter().enumerate() {
            for (b, pb, gb, fb, xb) in &pool[..i] {
                if (*ga || *gb)
                    && pa == pb
                    && (a.1 != b.1 || a.2 != b.2)
                    && (xa.wild_conflict(xb) || (*fa && *fb && xa.finite_conflict(xb)))
                {
                    let span = p
                        .rules
                        .iter()
                        .find(|r| matches!(&r.rule, Rule::File(f) if f.path.as_ref().is_some_and(|w| w.value() == a.0)))
                        .map(|r| r.span)
                        .unwrap_or(p.span);
                    self.error(
                        codes::MERGED_X,
                        span,
                        format!(
                            "profile {} has merged rule with conflicting x modifiers ('{}' and '{}' overlap)",
                            p.name, b.0, a.0
                        ),
                    );
                    break 'outer;
                }
            }
        }
        // change_profile: the same exec condition with and without `unsafe`
        for (i, a) in cp.iter().enumerate() {
            let unsafe_a = a.2 == Some(ExecMod::Unsafe);
            if cp[..i]
                .iter()
                .any(|b| b.0 == a.0 && b.1 == a.1 && (b.2 == Some(ExecMod::Unsafe)) != unsafe_a)
            {
                self.error(
                    codes::MERGED_X,
                    p.span,
                    format!(
                        "profile {} has merged change_profile rule {} with conflicting safe/unsafe modifiers",
                        p.name, a.0
                    ),
                );
                break;
            }
        }
    }
}
