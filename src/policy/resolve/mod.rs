//! Resolution (docs/policy-language.md, "Include resolution" and "Variables"):
//! includes, variables and `if` conditions applied to
//! a parsed policy file, giving a resolved view: for each profile its rules
//! (with qualifier blocks folded into each rule's qualifiers and variables
//! expanded), each rule still pointing at the file and bytes it came from.
//!
//! Entry point: [`Resolver`]. It owns the [`SourceMap`] of every file it read
//! and caches parsed include files across calls, so checking a whole tree
//! parses each abstraction once.

pub mod include;
mod uses;
pub mod vars;

pub use include::{MAX_INCLUDE_DEPTH, SearchPath};
pub use uses::{Construct, Use};
pub use vars::{VarError, Variables};

use crate::diag::{Diagnostic, FileId, Severity, SourceMap, Span};
use crate::policy::ast::*;
use crate::policy::parse::{ParseMode, ParsedFile, parse};
use include::{Entry, Found};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Diagnostic codes emitted by resolution.
pub mod codes {
    /// "Could not open 'X'" (include target missing, without `if exists`).
    pub const INCLUDE_NOT_FOUND: &str = "R0001";
    /// "Could not process include directory" / unreadable include file.
    pub const INCLUDE_IO: &str = "R0002";
    /// An include that (indirectly) includes itself.
    pub const INCLUDE_CYCLE: &str = "R0003";
    /// Includes nested deeper than [`super::MAX_INCLUDE_DEPTH`].
    pub const INCLUDE_DEPTH: &str = "R0004";
    /// "Failed to find declaration for: @{X}".
    pub const UNDEFINED_VARIABLE: &str = "R0005";
    /// Variable assignment errors (redefinition, `+=` on undefined, recursion).
    pub const VARIABLE: &str = "R0006";
    /// Boolean and `if` condition errors.
    pub const CONDITION: &str = "R0007";
    /// An included item that is not allowed where the include sits.
    pub const MISPLACED: &str = "R0008";
    /// "Ignoring: 'path'" for skipped directory entries (warning).
    pub const IGNORED: &str = "R0009";
    /// An include whose real path (links followed) is outside the folders the
    /// search path confines reads to ([`super::SearchPath::within`]); not read.
    pub const INCLUDE_OUTSIDE: &str = "R0010";
}

/// Errors that prevent resolution from starting at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// The top-level file could not be read.
    #[error("could not read {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// A rule after resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedRule {
    /// Qualifiers, with enclosing qualifier blocks folded in.
    pub quals: Qualifiers,
    /// The rule with variables expanded.
    pub rule: Rule,
    /// Where the rule was written (file id into the resolver's [`SourceMap`]).
    pub span: Span,
}

/// A profile after resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedProfile {
    /// Full name as `apparmor_parser -N` prints it: `parent//child` for hats
    /// and children, `:ns://name` for namespaces, quotes and escapes
    /// processed, variables not expanded.
    pub name: String,
    /// Head form.
    pub kind: ProfileKind,
    /// Attachment (explicit, or the name when it is a path), expanded.
    pub attachment: Option<String>,
    /// Flags as written (escapes processed).
    pub flags: Vec<String>,
    /// The rules of this profile (not of its children), in order; a file
    /// rule matched by an `alias` is preceded by its aliased copy.
    pub rules: Vec<ResolvedRule>,
    /// Hats and child profiles.
    pub children: Vec<ResolvedProfile>,
    /// The profile's head.
    pub span: Span,
}

impl ResolvedProfile {
    /// This profile and all descendants, depth first.
    pub fn all(&self) -> Vec<&ResolvedProfile> {
        let mut v = vec![self];
        for c in &self.children {
            v.extend(c.all());
        }
        v
    }
}

/// The resolved view of one policy file.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The file's id in the resolver's source map.
    pub file: FileId,
    /// The parsed AST of the file itself.
    pub ast: PolicyFile,
    /// Top-level profiles.
    pub profiles: Vec<ResolvedProfile>,
    /// Final variable table.
    pub variables: Variables,
    /// `alias` rules (from, to), expanded.
    pub aliases: Vec<(String, String)>,
    /// The first `abi` seen.
    pub abi: Option<IncludeTarget>,
    /// Every file that was read (the file itself first, then includes).
    pub files: Vec<PathBuf>,
    /// Parse and resolution diagnostics of this file and its includes.
    pub diagnostics: Vec<Diagnostic>,
    /// Release-dependent constructs met in this file and its includes, in
    /// walk order (what [`crate::policy::check`] gates by parser release).
    pub uses: Vec<Use>,
    /// For each included file, the include that first brought it in: the span of
    /// that include in the including file (see [`Resolved::include_chain`]).
    pub included_from: Vec<(FileId, Span)>,
}

impl Resolved {
    /// How `file` was reached from this file: the include that brought `file` in, then
    /// the include that brought that file in, and so on out to this file (innermost
    /// first; empty for this file itself or a file never included).
    pub fn include_chain(&self, file: FileId) -> Vec<Span> {
        let mut chain: Vec<Span> = Vec::new();
        let mut at = file;
        while at != self.file {
            let Some((_, site)) = self.included_from.iter().find(|(f, _)| *f == at) else {
                break;
            };
            // a file is recorded once, so the chain cannot loop; the bound is a guard
            if chain.len() > self.included_from.len() {
                break;
            }
            chain.push(*site);
            at = site.file;
        }
        chain
    }

    /// True when no diagnostic is an error.
    pub fn is_ok(&self) -> bool {
        !self.diagnostics.iter().any(Diagnostic::is_error)
    }
    /// Names of all profiles, children as `parent//child`, in order.
    pub fn profile_names(&self) -> Vec<String> {
        self.profiles
            .iter()
            .flat_map(|p| p.all().into_iter().map(|p| p.name.clone()))
            .collect()
    }
}

/// Resolves policy files against a search path; caches parsed includes.
#[derive(Debug, Default)]
pub struct Resolver {
    /// Where includes are found.
    pub search: SearchPath,
    /// Every text read so far.
    pub sources: SourceMap,
    /// Parsed includes by the number of their real path.
    cache: HashMap<u32, Arc<(FileId, ParsedFile)>>,
    /// Include lookups: target → (canonical path, files to read) or None.
    /// The tree (and the search path) is assumed not to change during one
    /// resolver's life.
    found: HashMap<IncludeTarget, Option<Arc<Found>>>,
    /// A number for each path met in lookups (equal paths, as [`Path`] compares
    /// them, share one), so that the walk compares and hashes numbers.
    numbers: HashMap<PathBuf, u32>,
    /// The real path (the cache key) of each included file read, by id.
    keys: HashMap<FileId, PathBuf>,
}

impl Resolver {
    /// The real path (links followed) of the included file `id` was read from;
    /// `None` for a file resolved as the top of a [`Resolver::resolve_file`] call.
    /// A file reached by several paths is read once, under the first one.
    pub fn include_key(&self, id: FileId) -> Option<&Path> {
        self.keys.get(&id).map(PathBuf::as_path)
    }

    /// A resolver using `search`.
    pub fn new(search: SearchPath) -> Self {
        Resolver {
            search,
            ..Default::default()
        }
    }

    /// Reads and resolves the policy file at `path`.
    pub fn resolve_file(&mut self, path: &Path) -> Result<Resolved, ResolveError> {
        let bytes = crate::policy::read_policy_file(path).map_err(|source| ResolveError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Ok(self.resolve_text(path, text))
    }

    /// Resolves `text` as if read from `path`. Only the parse is needed for
    /// `--syntax-only`-style checks of everything but includes/variables.
    pub fn resolve_text(&mut self, path: &Path, text: String) -> Resolved {
        let parsed = parse(&text, FileId(self.sources.len() as u32), ParseMode::Policy);
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let (canonical_no, path_no) = (self.number(&canonical), self.number(path));
        let file = self.sources.add(path, text);
        let mut w = Walk {
            r: self,
            vars: Variables::new(),
            memo: vars::Memo::default(),
            diags: parsed.diagnostics.clone(),
            stack: vec![canonical_no],
            once: vec![HashSet::new()],
            aliases: Vec::new(),
            abi: None,
            files: vec![path.to_path_buf()],
            listed: HashSet::from([path_no]),
            reported: HashSet::new(),
            user_exec_path: false,
            user_attach_path: false,
            alias_pairs: Vec::new(),
            uses: Vec::new(),
            included_from: Vec::new(),
        };
        let mut top = Vec::new();
        w.walk(
            &parsed.ast.items,
            &mut Sink::Top(&mut top),
            &Qualifiers::default(),
            0,
        );
        w.user_exec_path = w.vars.is_set("exec_path");
        w.user_attach_path = w.vars.is_set("attach_path");
        let aliases = std::mem::take(&mut w.aliases);
        let aliases: Vec<(String, String)> = aliases
            .into_iter()
            .filter_map(|(a, b)| {
                let x = w.expand_word(&a).map(|w| w.value());
                let y = w.expand_word(&b).map(|w| w.value());
                Some((x?, y?))
            })
            .collect();
        w.alias_pairs = aliases.clone();
        let mut profiles = Vec::new();
        for p in top {
            profiles.push(w.finish(p, None));
        }
        // report in source order (file by file)
        w.diags.sort_by_key(|d| (d.span.file, d.span.start));
        Resolved {
            file,
            ast: parsed.ast,
            profiles,
            variables: w.vars,
            aliases,
            abi: w.abi,
            files: w.files,
            diagnostics: w.diags,
            uses: w.uses,
            included_from: w.included_from,
        }
    }
}

/// A profile collected during the walk, before variable expansion.
struct RawProfile {
    profile: Profile,
    rules: Vec<ResolvedRule>,
    children: Vec<RawProfile>,
}

enum Sink<'s> {
    Top(&'s mut Vec<RawProfile>),
    Body(&'s mut RawProfile),
}

struct Walk<'r> {
    r: &'r mut Resolver,
    vars: Variables,
    /// Expanded variables, reused while `vars` does not change.
    memo: vars::Memo,
    diags: Vec<Diagnostic>,
    /// Numbers of the real paths of the files being walked (the file, then includes).
    stack: Vec<u32>,
    /// Per profile (and the top level), numbers of the real paths included so far.
    once: Vec<HashSet<u32>>,
    aliases: Vec<(Word, Word)>,
    abi: Option<IncludeTarget>,
    files: Vec<PathBuf>,
    /// The numbers of the paths in `files`.
    listed: HashSet<u32>,
    reported: HashSet<FileId>,
    user_exec_path: bool,
    user_attach_path: bool,
    alias_pairs: Vec<(String, String)>,
    uses: Vec<Use>,
    included_from: Vec<(FileId, Span)>,
}

fn merge(outer: &Qualifiers, inner: &Qualifiers) -> Qualifiers {
    Qualifiers {
        priority: inner.priority.or(outer.priority),
        audit: inner.audit || outer.audit,
        access: inner.access.or(outer.access),
        owner: inner.owner.or(outer.owner),
        span: if inner.is_empty() {
            outer.span
        } else {
            inner.span
        },
    }
}

impl Walk<'_> {
    fn note(&mut self, construct: Construct, span: Span) {
        self.uses.push(Use { construct, span });
    }

    fn diag(&mut self, code: &'static str, span: Span, msg: impl Into<String>) {
        self.diags.push(Diagnostic::error(code, span, msg));
    }

    fn walk(&mut self, items: &[Item], sink: &mut Sink<'_>, quals: &Qualifiers, depth: usize) {
        for it in items {
            match it {
                Item::Comment(_) => {}
                Item::Include(inc) => self.include(inc, sink, quals, depth),
                Item::Abi(a) => {
                    let special = matches!(&a.target, IncludeTarget::Angle { name, .. } if name == "kernel" || name == "default");
                    if special {
                        self.note(Construct::AbiName(a.target.name().to_string()), a.span);
                    }
                    // (looked up once per resolver, as includes are)
                    if !special && self.r.lookup(&a.target).is_none() {
                        self.diag(
                            codes::INCLUDE_NOT_FOUND,
                            a.span,
                            format!("Could not open '{}'", a.target.name()),
                        );
                    }
                    if self.abi.is_none() {
                        self.abi = Some(a.target.clone());
                    }
                }
                Item::Variable(v) => {
                    if let Sink::Body(_) = sink {
                        if depth > 0 {
                            self.diag(
                                codes::MISPLACED,
                                v.span,
                                "syntax error: variable declarations must come before any profile",
                            );
                        }
                    }
                    if matches!(v.op, AssignOp::SetDefault | AssignOp::Replace) {
                        self.note(Construct::Assign(v.op), v.span);
                    }
                    let vals = v.values.iter().map(|w| w.text.clone()).collect();
                    if let Err(e) = self.vars.assign(&v.name, v.op, vals) {
                        self.diag(codes::VARIABLE, v.span, e.to_string());
                    }
                }
                Item::Boolean(b) => {
                    if matches!(b.op, AssignOp::SetDefault | AssignOp::Replace) {
                        self.note(Construct::Assign(b.op), b.span);
                    }
                    if !matches!(&b.value, Expr::Operand(Operand::Word(_))) {
                        self.note(Construct::Condition(b.value.clone()), b.span);
                    }
                    let r = match &b.value {
                        Expr::Operand(Operand::Word(w)) => {
                            match w.value().to_ascii_lowercase().as_str() {
                                "true" => Ok(true),
                                "false" => Ok(false),
                                other => Err(VarError::BadBool(other.to_string())),
                            }
                        }
                        e => self.vars.eval(e),
                    };
                    match r.and_then(|v| self.vars.assign_bool(&b.name, b.op, v)) {
                        Ok(()) => {}
                        Err(e) => self.diag(codes::CONDITION, b.span, e.to_string()),
                    }
                }
                Item::Alias(a) => self.aliases.push((a.from.clone(), a.to.clone())),
                Item::Profile(p) => {
                    if p.kind == ProfileKind::Bare && matches!(sink, Sink::Body(_)) {
                        self.diag(
                            codes::MISPLACED,
                            p.head_span,
                            "syntax error: a child profile needs the 'profile' keyword",
                        );
                    }
                    let raw = self.profile(p, depth);
                    match sink {
                        Sink::Top(v) => v.push(raw),
                        Sink::Body(b) => b.children.push(raw),
                    }
                }
                Item::Rule(r) => match sink {
                    Sink::Body(b) => b.rules.push(ResolvedRule {
                        quals: merge(quals, &r.quals),
                        rule: r.rule.clone(),
                        span: r.span,
                    }),
                    Sink::Top(_) => {
                        if depth > 0 {
                            self.diag(
                                codes::MISPLACED,
                                r.span,
                                "syntax error: rules must be inside a profile",
                            );
                        }
                    }
                },
                Item::Block(b) => {
                    let q = merge(quals, &b.quals);
                    self.walk(&b.items, sink, &q, depth);
                }
                Item::If(i) => {
                    let found = uses::conditions(i, &self.vars);
                    self.uses.extend(found);
                    let mut cur: &IfBlock = i;
                    loop {
                        let taken = match self.vars.eval(&cur.cond) {
                            Ok(v) => v,
                            Err(e) => {
                                self.diag(codes::CONDITION, cur.span, e.to_string());
                                false
                            }
                        };
                        if taken {
                            self.walk(&cur.then, sink, quals, depth);
                            break;
                        }
                        match &cur.otherwise {
                            Some(Else::If(n)) => cur = n,
                            Some(Else::Block(b)) => {
                                self.walk(b, sink, quals, depth);
                                break;
                            }
                            None => break,
                        }
                    }
                }
            }
        }
    }

    fn profile(&mut self, p: &Profile, depth: usize) -> RawProfile {
        let mut raw = RawProfile {
            profile: Profile {
                kind: p.kind,
                name: p.name.clone(),
                attachment: p.attachment.clone(),
                xattrs: p.xattrs.clone(),
                identities: p.identities.clone(),
                flags: p.flags.clone(),
                items: Vec::new(),
                head_span: p.head_span,
                span: p.span,
            },
            rules: Vec::new(),
            children: Vec::new(),
        };
        self.once.push(HashSet::new());
        self.walk(
            &p.items,
            &mut Sink::Body(&mut raw),
            &Qualifiers::default(),
            depth,
        );
        self.once.pop();
        raw
    }

    fn include(&mut self, inc: &Include, sink: &mut Sink<'_>, quals: &Qualifiers, depth: usize) {
        if depth >= MAX_INCLUDE_DEPTH {
            self.diag(
                codes::INCLUDE_DEPTH,
                inc.span,
                format!("includes nested deeper than {MAX_INCLUDE_DEPTH} levels"),
            );
            return;
        }
        let Some(found) = self.r.lookup(&inc.target) else {
            if !inc.if_exists {
                self.diag(
                    codes::INCLUDE_NOT_FOUND,
                    inc.span,
                    format!("Could not open '{}'", inc.target.name()),
                );
            }
            return;
        };
        let files: &[Entry] = match &*found {
            Found::File(e) => std::slice::from_ref(e),
            Found::Dir { files, ignored, .. } => {
                for i in ignored {
                    self.diags.push(Diagnostic {
                        code: codes::IGNORED,
                        severity: Severity::Warning,
                        span: inc.span,
                        message: format!("Ignoring: '{}'", i.display()),
                    });
                }
                files
            }
            Found::DirError(path, e) => {
                self.diag(
                    codes::INCLUDE_IO,
                    inc.span,
                    format!(
                        "Could not process include directory '{}': {e}",
                        path.display()
                    ),
                );
                return;
            }
        };
        for e in files {
            let (f, key) = (&e.path, &e.key);
            if self.once.last().is_some_and(|s| s.contains(&e.key_no)) {
                continue;
            }
            if self.stack.contains(&e.key_no) {
                self.diag(
                    codes::INCLUDE_CYCLE,
                    inc.span,
                    format!("include cycle: '{}' includes itself", f.display()),
                );
                continue;
            }
            if !e.allowed {
                self.diag(
                    codes::INCLUDE_OUTSIDE,
                    inc.span,
                    format!(
                        "include '{}' leads outside the policy tree to '{}' (not read)",
                        f.display(),
                        key.display()
                    ),
                );
                continue;
            }
            if let Some(set) = self.once.last_mut() {
                set.insert(e.key_no);
            }
            let Some(entry) = self.load(e, inc.span) else {
                continue;
            };
            if self.listed.insert(e.path_no) {
                self.files.push(f.clone());
            }
            if self.reported.insert(entry.0) {
                self.diags.extend(entry.1.diagnostics.iter().cloned());
                self.included_from.push((entry.0, inc.span));
            }
            self.stack.push(e.key_no);
            self.walk(&entry.1.ast.items, sink, quals, depth + 1);
            self.stack.pop();
        }
    }

    fn load(&mut self, at: &Entry, span: Span) -> Option<Arc<(FileId, ParsedFile)>> {
        if let Some(e) = self.r.cache.get(&at.key_no) {
            return Some(e.clone());
        }
        let f = &at.path;
        let bytes = match crate::policy::read_policy_file(f) {
            Ok(b) => b,
            Err(e) => {
                self.diag(
                    codes::INCLUDE_IO,
                    span,
                    format!(
                        "Could not open '{}': {}",
                        f.display(),
                        crate::system::strerror(&e)
                    ),
                );
                return None;
            }
        };
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let id = FileId(self.r.sources.len() as u32);
        let p = parse(&text, id, ParseMode::Fragment);
        self.r.sources.add(f, text);
        let e = Arc::new((id, p));
        self.r.cache.insert(at.key_no, e.clone());
        self.r.keys.insert(id, at.key.clone());
        Some(e)
    }

    /// Expands variables in a word; diagnoses at the word on failure.
    fn expand_word(&mut self, w: &Word) -> Option<Word> {
        match self.vars.expand_with(&w.text, &mut self.memo) {
            Ok(t) => Some(Word {
                text: t,
                quoted: w.quoted,
                span: w.span,
            }),
            Err(e) => {
                let code = match e {
                    VarError::Undefined(_) => codes::UNDEFINED_VARIABLE,
                    _ => codes::VARIABLE,
                };
                self.diag(code, w.span, e.to_string());
                None
            }
        }
    }

    fn finish(&mut self, raw: RawProfile, parent: Option<&str>) -> ResolvedProfile {
        let p = raw.profile;
        // Names are kept as written (apparmor_parser -N prints them unexpanded);
        // a namespace `:ns:name` is printed as `:ns://name`.
        let own = normalize_ns(&p.name.value());
        let name = match parent {
            Some(par) => format!("{par}//{own}"),
            None => own.clone(),
        };
        let attachment = match &p.attachment {
            Some(a) => self.expand_word(a).map(|w| w.value()),
            None if own.starts_with('/') => self.expand_word(&p.name).map(|w| w.value()),
            None => None,
        };
        // built-ins scoped to this profile (a user definition wins)
        let pn = self
            .vars
            .set_builtin("profile_name", Some(vec![escape_glob(&name)]));
        let att = attachment.as_ref().map(|a| vec![a.clone()]);
        let ep = (!self.user_exec_path).then(|| self.vars.set_builtin("exec_path", att.clone()));
        let ap = (!self.user_attach_path).then(|| self.vars.set_builtin("attach_path", att));
        let mut rules = Vec::with_capacity(raw.rules.len());
        for mut r in raw.rules {
            let mut ok = true;
            let span = r.span;
            let auto = [("exec_path", ep.is_some()), ("attach_path", ap.is_some())];
            for_each_word_mut(&mut r.rule, &mut |w| {
                if w.text.contains("@{") {
                    Variables::each_reference(&w.text, |name| {
                        if auto.iter().any(|(n, on)| *on && *n == name) {
                            self.uses.push(Use {
                                construct: Construct::AutoVariable(name.to_string()),
                                span,
                            });
                        }
                    });
                }
                // a word without a reference expands to itself
                if ok && w.text.contains("@{") {
                    match self.expand_word(w) {
                        Some(n) => *w = n,
                        None => ok = false,
                    }
                }
            });
            // alias rules: a copy of each file rule whose path starts with the alias's
            // prefix, with the prefix replaced (the original rule stays)
            if let Rule::File(f) = &r.rule {
                if let Some(path) = &f.path {
                    for (from, to) in &self.alias_pairs {
                        if let Some(rest) = path.text.strip_prefix(from.as_str()) {
                            let mut copy = r.clone();
                            if let Rule::File(cf) = &mut copy.rule {
                                cf.path = Some(Word {
                                    text: format!("{to}{rest}"),
                                    ..path.clone()
                                });
                            }
                            rules.push(copy);
                        }
                    }
                }
            }
            rules.push(r);
        }
        let children = raw
            .children
            .into_iter()
            .map(|c| self.finish(c, Some(&name)))
            .collect();
        self.vars.set_builtin("profile_name", pn);
        if let Some(prev) = ep {
            self.vars.set_builtin("exec_path", prev);
        }
        if let Some(prev) = ap {
            self.vars.set_builtin("attach_path", prev);
        }
        ResolvedProfile {
            name,
            kind: p.kind,
            attachment,
            flags: p
                .flags
                .map(|f| f.flags.iter().map(Word::value).collect())
                .unwrap_or_default(),
            rules,
            children,
            span: p.head_span,
        }
    }
}

/// `:ns:name` → `:ns://name` (as apparmor_parser prints namespaced names).
fn normalize_ns(name: &str) -> String {
    if let Some(rest) = name.strip_prefix(':') {
        if let Some(i) = rest.find(':') {
            let (ns, tail) = (&rest[..i], &rest[i + 1..]);
            if tail.starts_with("//") {
                return name.to_string();
            }
            return format!(":{ns}://{tail}");
        }
    }
    name.to_string()
}

fn escape_glob(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '{' | '}' | '[' | ']' | '*' | '?') {
            o.push('\\');
        }
        o.push(c);
    }
    o
}

/// Calls `f` on every word of `rule` that variables may appear in.
pub fn for_each_word_mut(rule: &mut Rule, f: &mut dyn FnMut(&mut Word)) {
    fn cond(c: &mut Cond, f: &mut dyn FnMut(&mut Word)) {
        match &mut c.value {
            CondValue::Single(w) => f(w),
            CondValue::List(v) => v.iter_mut().for_each(&mut *f),
            CondValue::Group(g) => g.iter_mut().for_each(|c| cond(c, f)),
            CondValue::None => {}
        }
    }
    match rule {
        Rule::File(r) => {
            if let Some(p) = &mut r.path {
                f(p);
            }
            if let Some(t) = &mut r.target {
                f(t);
            }
        }
        Rule::Link(l) => {
            f(&mut l.from);
            f(&mut l.to);
        }
        Rule::Network(c)
        | Rule::Unix(c)
        | Rule::Dbus(c)
        | Rule::Signal(c)
        | Rule::Ptrace(c)
        | Rule::Mount(c)
        | Rule::Remount(c)
        | Rule::Umount(c)
        | Rule::PivotRoot(c)
        | Rule::Mqueue(c)
        | Rule::IoUring(c)
        | Rule::Userns(c) => {
            for a in &mut c.args {
                match a {
                    Arg::Cond(c) => cond(c, f),
                    Arg::Word(w) => f(w),
                }
            }
            if let Some(t) = &mut c.target {
                f(t);
            }
        }
        Rule::ChangeProfile(c) => {
            if let Some(e) = &mut c.exec {
                f(e);
            }
            if let Some(t) = &mut c.target {
                f(t);
            }
        }
        Rule::Capability(_) | Rule::Rlimit(_) | Rule::All => {}
    }
}
