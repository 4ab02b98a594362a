//! Variables (docs/policy-language.md, "Variables"): set variables `@{X}` holding sets of strings,
//! booleans `${X}`, expansion of `@{X}` into alternations, and evaluation of
//! `if` conditions.

use crate::policy::ast::{AssignOp, CmpOp, Expr, Operand};
use std::collections::{BTreeSet, HashMap, HashSet};

/// Deepest chain of variables referring to variables (`@{A}` holds `@{B}`,
/// which holds `@{C}`, …). A cycle is reported as [`VarError::Recursive`]
/// whatever its length; this bound only keeps a very long chain that is not a
/// cycle from growing without end (expansion keeps one small frame per link,
/// and text nested that deep is more than later steps should be given), and
/// is far beyond any real policy (Debian's tunables chain a few variables
/// deep). apparmor_parser has no such bound.
pub const MAX_VAR_DEPTH: usize = 1024;

/// Most work one expansion may do, in bytes of expanded text plus
/// [`LOOKUP_COST`] per variable lookup (4 Mi). Chains like `@{B}={@{A},@{A}}` double at each
/// step; past this budget expansion stops with [`VarError::TooLarge`]
/// instead of running out of time or memory.
pub const MAX_EXPANSION: usize = 4 << 20;

/// What one variable lookup costs of [`MAX_EXPANSION`] (at most 64 Ki
/// lookups per expansion).
pub const LOOKUP_COST: usize = 64;

/// Most variable lookups in one expansion: [`MAX_EXPANSION`] / [`LOOKUP_COST`].
pub const MAX_LOOKUPS: usize = MAX_EXPANSION / LOOKUP_COST;

/// Why a variable operation failed (messages follow apparmor_parser's gist).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VarError {
    /// Reference to an undefined set variable.
    #[error("Failed to find declaration for: @{{{0}}}")]
    Undefined(String),
    /// `=` on a variable that exists.
    #[error("'@{{{0}}}' is already defined")]
    Redefined(String),
    /// `+=` on a variable that does not exist.
    #[error("@{{{0}}} was not previously declared, but is being assigned additional values")]
    AppendUndefined(String),
    /// A variable that refers to itself, directly or through others.
    #[error("Variable @{{{0}}} is referenced recursively")]
    Recursive(String),
    /// A chain of variables referring to variables longer than
    /// [`MAX_VAR_DEPTH`] (not a cycle).
    #[error("Variable @{{{0}}} is nested too deeply (a chain of over {MAX_VAR_DEPTH} variables)")]
    TooDeep(String),
    /// Expanding the variable would exceed [`MAX_EXPANSION`].
    #[error(
        "Variable expansion too large at @{{{0}}} (over {MAX_EXPANSION} bytes or {MAX_LOOKUPS} lookups)"
    )]
    TooLarge(String),
    /// A boolean value other than true/false.
    #[error("Invalid boolean : '{0}' is not true or false")]
    BadBool(String),
    /// `+=` on a boolean.
    #[error("Invalid assignment += not allowed with boolean variables")]
    BoolAppend,
    /// `=` on a boolean that exists.
    #[error("'${{{0}}}' is already defined")]
    BoolRedefined(String),
    /// An `if` on an unset boolean.
    #[error("Unset boolean variable ${0} used in if-expression")]
    UnsetBool(String),
    /// `<` etc. between a number and a non-number.
    #[error("Can only compare numbers with numbers")]
    NumberCompare,
    /// A condition that is not a boolean.
    #[error("invalid condition: '{0}' is not true or false")]
    NotBool(String),
}

/// The variable table of one compilation unit.
#[derive(Debug, Clone, Default)]
pub struct Variables {
    sets: HashMap<String, Vec<String>>,
    bools: HashMap<String, bool>,
    /// Bumped by every change of a set variable but those of a built-in already
    /// set once: a [`Memo`] made at another generation is stale.
    generation: u64,
    /// Bumped by every [`Variables::set_builtin`]: what a [`Memo`] keeps of
    /// expansions that looked up a built-in is stale at another.
    builtin_generation: u64,
    /// The names [`Variables::set_builtin`] was given so far.
    builtins: HashSet<String>,
}

/// Expanded values of set variables kept between calls of
/// [`Variables::expand_with`], so that a variable used in many rules (`@{HOME}`,
/// `@{PROC}`) is expanded once while the table does not change. It empties itself
/// when the table has changed since it was filled. Results are the same as
/// [`Variables::expand`]'s, errors included: a kept expansion is only reused where
/// every depth and size check it passed would pass again.
#[derive(Debug, Default)]
pub struct Memo {
    generation: u64,
    builtin_generation: u64,
    vars: HashMap<String, Kept>,
}

/// One variable's expansion in a [`Memo`].
#[derive(Debug)]
struct Kept {
    values: std::sync::Arc<Vec<String>>,
    /// Budget the expansion used up (lookups and values).
    cost: usize,
    /// Least budget at its start under which every check of it passed.
    need: usize,
    /// Longest chain of variables below it (0: it refers to none).
    depth: usize,
    /// It looked up a built-in (itself or below).
    builtin: bool,
}

impl Variables {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies `@{name} op values` (values as written, unexpanded).
    pub fn assign(
        &mut self,
        name: &str,
        op: AssignOp,
        values: Vec<String>,
    ) -> Result<(), VarError> {
        self.generation += 1;
        match op {
            AssignOp::Set => {
                if self.sets.contains_key(name) {
                    return Err(VarError::Redefined(name.into()));
                }
                self.sets.insert(name.into(), values);
            }
            AssignOp::Append => match self.sets.get_mut(name) {
                Some(v) => v.extend(values),
                None => return Err(VarError::AppendUndefined(name.into())),
            },
            AssignOp::SetDefault => {
                self.sets.entry(name.into()).or_insert(values);
            }
            AssignOp::Replace => {
                self.sets.insert(name.into(), values);
            }
        }
        Ok(())
    }

    /// Applies `${name} op value`.
    pub fn assign_bool(&mut self, name: &str, op: AssignOp, value: bool) -> Result<(), VarError> {
        match op {
            AssignOp::Append => return Err(VarError::BoolAppend),
            AssignOp::Set if self.bools.contains_key(name) => {
                return Err(VarError::BoolRedefined(name.into()));
            }
            AssignOp::SetDefault => {
                self.bools.entry(name.into()).or_insert(value);
                return Ok(());
            }
            _ => {}
        }
        self.bools.insert(name.into(), value);
        Ok(())
    }

    /// True when `@{name}` is defined.
    pub fn is_set(&self, name: &str) -> bool {
        self.sets.contains_key(name)
    }

    /// The value of `${name}`.
    pub fn boolean(&self, name: &str) -> Option<bool> {
        self.bools.get(name).copied()
    }

    /// Raw (unexpanded) values of `@{name}`.
    pub fn raw(&self, name: &str) -> Option<&[String]> {
        self.sets.get(name).map(Vec::as_slice)
    }

    /// Defines or replaces a built-in (`profile_name`, `exec_path`, …),
    /// returning the previous values so the caller can restore them.
    pub fn set_builtin(&mut self, name: &str, values: Option<Vec<String>>) -> Option<Vec<String>> {
        self.builtin_generation += 1;
        if !self.builtins.contains(name) {
            // expansions kept before did not note whether they looked it up
            self.builtins.insert(name.to_string());
            self.generation += 1;
        }
        match values {
            Some(v) => self.sets.insert(name.into(), v),
            None => self.sets.remove(name),
        }
    }

    /// Names of the set variables referenced in `text` (`@{NAME}`, not `\@{`).
    pub fn references(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        Self::each_reference(text, |name| out.push(name.to_string()));
        out
    }

    /// Calls `f` with the name of each set variable referenced in `text`, in order (as
    /// [`Variables::references`], without collecting them).
    pub fn each_reference<'t>(text: &'t str, mut f: impl FnMut(&'t str)) {
        let b = text.as_bytes();
        let mut close = Close::default();
        let mut i = 0;
        while i + 1 < b.len() {
            if b[i] == b'\\' {
                i += 2;
                continue;
            }
            if b[i] == b'@' && b[i + 1] == b'{' {
                match close.after(text, i + 2) {
                    Some(end) => {
                        f(&text[i + 2..end]);
                        i = end + 1;
                        continue;
                    }
                    // no `}` further on: no reference either
                    None => break,
                }
            }
            i += 1;
        }
    }

    /// Expands every `@{X}` in `text`: one value is spliced in, several
    /// become `{v1,v2,…}`; a `/` is not doubled where a value meets the
    /// text before or after it. Errors name the first undefined or recursive variable.
    pub fn expand(&self, text: &str) -> Result<String, VarError> {
        self.expand_with(text, &mut Memo::default())
    }

    /// As [`Variables::expand`], reusing (and filling) `memo`'s expansions of the
    /// variables `text` refers to.
    pub fn expand_with(&self, text: &str, memo: &mut Memo) -> Result<String, VarError> {
        if !text.contains("@{") {
            return Ok(text.to_string());
        }
        if memo.generation != self.generation {
            memo.vars.clear();
            memo.generation = self.generation;
            memo.builtin_generation = self.builtin_generation;
        } else if memo.builtin_generation != self.builtin_generation {
            memo.vars.retain(|_, k| !k.builtin);
            memo.builtin_generation = self.builtin_generation;
        }
        if let Some(t) = replay(text, &memo.vars) {
            return Ok(t);
        }
        Ok(match self.run(Start::Text(text), &mut memo.vars)? {
            Ret::Text(t) => t,
            Ret::Values(v) => v.concat(),
            Ret::Kept(v) => v.concat(),
        })
    }

    /// The fully expanded value set of `@{name}` (duplicates removed, sorted).
    pub fn values(&self, name: &str) -> Result<Vec<String>, VarError> {
        Ok(match self.run(Start::Var(name), &mut HashMap::new())? {
            Ret::Values(v) => v,
            Ret::Kept(v) => v.to_vec(),
            Ret::Text(t) => vec![t],
        })
    }

    /// Expands with an explicit stack of frames instead of recursion, so that
    /// a long chain of variables cannot overflow the call stack: an
    /// [`Frame::Expand`] stops at each reference and pushes a
    /// [`Frame::Values`] for it, which pushes an [`Frame::Expand`] for each of
    /// its raw values; a finished frame hands its result to the one below.
    ///
    /// A variable found in `memo` is not expanded again when the checks its
    /// expansion made would all pass here too: the chain below it fits under
    /// [`MAX_VAR_DEPTH`] and the budget left is at least what it needed. It cannot
    /// close a cycle: a kept expansion succeeded, so no variable it reaches
    /// reaches it back. Each variable expanded in full is added to `memo`.
    fn run<'a>(
        &'a self,
        start: Start<'a>,
        memo: &mut HashMap<String, Kept>,
    ) -> Result<Ret, VarError> {
        let mut budget = MAX_EXPANSION;
        // The variables being expanded (one per Values frame): a reference to
        // one of them is a cycle.
        let mut path: HashSet<&'a str> = HashSet::new();
        // For each Values frame, what its checks took (see `Open`).
        let mut open: Vec<Open> = Vec::new();
        let mut frames = vec![match start {
            Start::Text(text) => Frame::expand(text),
            Start::Var(name) => self.enter(name, &mut path, &mut open, &mut budget)?,
        }];
        let mut ret: Option<Ret> = None;
        while let Some(top) = frames.last_mut() {
            match top {
                Frame::Expand {
                    text,
                    i,
                    lit,
                    close,
                    out,
                    pending,
                } => {
                    if let Some((name, after)) = pending.take() {
                        let slash_after = text[after..].starts_with('/');
                        match ret.take() {
                            Some(Ret::Values(v)) => splice(out, &v, slash_after),
                            Some(Ret::Kept(v)) => splice(out, &v, slash_after),
                            Some(Ret::Text(t)) => splice(out, &[t], slash_after),
                            None => splice(out, &[], slash_after),
                        }
                        if let Some(o) = open.last_mut() {
                            o.check(budget, out.len());
                        }
                        if out.len() > budget {
                            return Err(VarError::TooLarge(name.into()));
                        }
                        *i = after;
                        *lit = after;
                    }
                    match next_reference(text, *i, close) {
                        Some((at, name, after)) => {
                            out.push_str(&text[*lit..at]);
                            *pending = Some((name, after));
                            if let Some(k) = memo.get(name).filter(|k| {
                                path.len() + k.depth < MAX_VAR_DEPTH && budget >= k.need
                            }) {
                                if let Some(o) = open.last_mut() {
                                    o.deepest = o.deepest.max(path.len() + k.depth);
                                    o.builtin |= k.builtin;
                                    o.slack = o.slack.min(budget - k.need);
                                }
                                budget -= k.cost;
                                ret = Some(Ret::Kept(k.values.clone()));
                                continue;
                            }
                            let f = self.enter(name, &mut path, &mut open, &mut budget)?;
                            frames.push(f);
                        }
                        None => {
                            out.push_str(&text[(*lit).min(text.len())..]);
                            ret = Some(Ret::Text(std::mem::take(out)));
                            frames.pop();
                        }
                    }
                }
                Frame::Values {
                    name,
                    raw,
                    next,
                    set,
                } => {
                    if let Some(Ret::Text(e)) = ret.take() {
                        if let Some(o) = open.last_mut() {
                            o.check(budget, e.len());
                        }
                        budget = budget
                            .checked_sub(e.len())
                            .ok_or_else(|| VarError::TooLarge((*name).into()))?;
                        set.insert(e);
                    }
                    match raw.get(*next) {
                        Some(v) => {
                            *next += 1;
                            if v.contains("@{") {
                                frames.push(Frame::expand(v));
                            } else {
                                ret = Some(Ret::Text(v.clone()));
                            }
                        }
                        None => {
                            path.remove(*name);
                            let values: Vec<String> = std::mem::take(set).into_iter().collect();
                            if let Some(o) = open.pop() {
                                let kept = o.kept(budget, &values);
                                if let Some(parent) = open.last_mut() {
                                    parent.deepest = parent.deepest.max(o.deepest);
                                    parent.builtin |= o.builtin;
                                    parent.slack = parent.slack.min(o.slack);
                                }
                                memo.insert((*name).to_string(), kept);
                            }
                            ret = Some(Ret::Values(values));
                            frames.pop();
                        }
                    }
                }
            }
        }
        Ok(ret.unwrap_or(Ret::Values(Vec::new())))
    }

    /// Starts the lookup of `@{name}`: cycle, depth, budget and definition
    /// checks, then its frame.
    fn enter<'a>(
        &'a self,
        name: &'a str,
        path: &mut HashSet<&'a str>,
        open: &mut Vec<Open>,
        budget: &mut usize,
    ) -> Result<Frame<'a>, VarError> {
        if path.contains(name) {
            return Err(VarError::Recursive(name.into()));
        }
        if path.len() >= MAX_VAR_DEPTH {
            return Err(VarError::TooDeep(name.into()));
        }
        let start = *budget;
        if let Some(o) = open.last_mut() {
            o.deepest = o.deepest.max(path.len());
            o.check(start, LOOKUP_COST);
        }
        *budget = budget
            .checked_sub(LOOKUP_COST)
            .ok_or_else(|| VarError::TooLarge(name.into()))?;
        let raw = self
            .sets
            .get(name)
            .ok_or_else(|| VarError::Undefined(name.into()))?;
        open.push(Open {
            start,
            slack: start - LOOKUP_COST,
            builtin: self.builtins.contains(name),
            depth: path.len(),
            deepest: path.len(),
        });
        path.insert(name);
        Ok(Frame::Values {
            name,
            raw,
            next: 0,
            set: BTreeSet::new(),
        })
    }

    /// Evaluates an `if` condition; variables are compared as sets of words.
    pub fn eval(&self, e: &Expr) -> Result<bool, VarError> {
        Ok(match e {
            Expr::Bool(n) => self
                .boolean(n)
                .ok_or_else(|| VarError::UnsetBool(n.clone()))?,
            Expr::Defined { name, set: true } => self.is_set(name),
            Expr::Defined { name, set: false } => self.bools.contains_key(name),
            Expr::Not(e) => !self.eval(e)?,
            Expr::And(a, b) => self.eval(a)? && self.eval(b)?,
            Expr::Or(a, b) => self.eval(a)? || self.eval(b)?,
            Expr::Paren(e) => self.eval(e)?,
            Expr::Operand(Operand::Word(w)) => match w.value().to_ascii_lowercase().as_str() {
                "true" => true,
                "false" => false,
                _ => return Err(VarError::NotBool(w.value())),
            },
            Expr::Operand(Operand::Var(v)) => return Err(VarError::NotBool(format!("@{{{v}}}"))),
            Expr::Cmp(a, op, b) => {
                let a = self.operand(a)?;
                let b = self.operand(b)?;
                match op {
                    CmpOp::Eq => a == b,
                    CmpOp::Ne => a != b,
                    CmpOp::In => a.is_subset(&b),
                    CmpOp::Gt | CmpOp::Ge | CmpOp::Lt | CmpOp::Le => {
                        let one = |s: &BTreeSet<String>| {
                            (s.len() == 1).then(|| s.iter().next().cloned()).flatten()
                        };
                        let (x, y) = (one(&a).unwrap_or_default(), one(&b).unwrap_or_default());
                        let ord = match (parse_c_int(&x), parse_c_int(&y)) {
                            (Some(p), Some(q)) => p.cmp(&q),
                            (None, None) => x.cmp(&y),
                            _ => return Err(VarError::NumberCompare),
                        };
                        match op {
                            CmpOp::Gt => ord.is_gt(),
                            CmpOp::Ge => ord.is_ge(),
                            CmpOp::Lt => ord.is_lt(),
                            _ => ord.is_le(),
                        }
                    }
                }
            }
        })
    }

    fn operand(&self, o: &Operand) -> Result<BTreeSet<String>, VarError> {
        Ok(match o {
            Operand::Var(v) => self.values(v)?.into_iter().collect(),
            Operand::Word(w) => std::iter::once(w.value()).collect(),
        })
    }
}

/// What [`Variables::run`] expands.
enum Start<'a> {
    /// Every reference in a text.
    Text(&'a str),
    /// One variable.
    Var(&'a str),
}

/// What a finished frame hands to the one below it.
enum Ret {
    /// An expanded text.
    Text(String),
    /// A variable's expanded values.
    Values(Vec<String>),
    /// A variable's expanded values, from the memo.
    Kept(std::sync::Arc<Vec<String>>),
}

/// What the checks of one variable's expansion took, while it is under way, to
/// tell when a [`Kept`] copy of it may stand in for it.
struct Open {
    /// The budget before its lookup.
    start: usize,
    /// The least of (budget − amount checked against it) over its checks: a start
    /// budget `slack` lower would have failed one.
    slack: usize,
    /// Variables being expanded when it was looked up (its own place in the path).
    depth: usize,
    /// The most variables being expanded at any lookup under it, its own included.
    deepest: usize,
    /// A built-in was looked up (itself or below).
    builtin: bool,
}

impl Open {
    /// Notes a check of `amount` against `budget` (passing or not).
    fn check(&mut self, budget: usize, amount: usize) {
        self.slack = self.slack.min(budget.saturating_sub(amount));
    }

    /// The memo entry of a finished expansion: `budget` is what is left after it.
    fn kept(&self, budget: usize, values: &[String]) -> Kept {
        Kept {
            values: std::sync::Arc::new(values.to_vec()),
            cost: self.start - budget,
            need: self.start - self.slack,
            depth: self.deepest - self.depth,
            builtin: self.builtin,
        }
    }
}

/// One step of [`Variables::run`].
enum Frame<'a> {
    /// Splicing values into `text`: `out` holds the result up to `lit`,
    /// scanning resumes at `i`; `pending` is the reference whose values are
    /// being computed (its name and the offset after it).
    Expand {
        text: &'a str,
        i: usize,
        lit: usize,
        close: Close,
        out: String,
        pending: Option<(&'a str, usize)>,
    },
    /// Expanding the raw values of `name`, `next` being the next to do.
    Values {
        name: &'a str,
        raw: &'a [String],
        next: usize,
        set: BTreeSet<String>,
    },
}

impl<'a> Frame<'a> {
    fn expand(text: &'a str) -> Self {
        Frame::Expand {
            text,
            i: 0,
            lit: 0,
            close: Close::default(),
            out: String::with_capacity(text.len()),
            pending: None,
        }
    }
}

/// The first `}` at or after an offset, remembered: a run of `@{` without
/// `}` (or with one far away) then costs one search, not one per `@{`.
#[derive(Default)]
struct Close {
    /// The last search: from where, and the `}` found (`None`: none to the end).
    last: Option<(usize, Option<usize>)>,
}

impl Close {
    /// The offset of the first `}` at or after `from`.
    fn after(&mut self, text: &str, from: usize) -> Option<usize> {
        if let Some((start, found)) = self.last {
            if start <= from && found.is_none_or(|f| f >= from) {
                return found;
            }
        }
        let found = text.get(from..).and_then(|t| t.find('}')).map(|k| from + k);
        self.last = Some((from, found));
        found
    }
}

/// The next variable reference in `text` at or after `i`: its offset, its
/// name and the offset after its `}`. `\@{` is not a reference, nor is
/// `@{a,b}` or a name that does not start with a letter.
fn next_reference<'a>(
    text: &'a str,
    mut i: usize,
    close: &mut Close,
) -> Option<(usize, &'a str, usize)> {
    let b = text.as_bytes();
    while i < b.len() {
        if b[i] == b'\\' {
            i += 2;
            continue;
        }
        if b[i] == b'@' && b.get(i + 1) == Some(&b'{') {
            let end = close.after(text, i + 2)?;
            let name = &text[i + 2..end];
            // The first byte first: in a run of `@{` every candidate name
            // reaches the same `}`, and scanning each for `,` would cost the
            // square of the run's length. A name that passes is used (or is
            // an error), so the scan for `,` happens once per reference.
            if name.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) && !name.contains(',') {
                return Some((i, name, end + 1));
            }
        }
        i += 1;
    }
    None
}

/// `text` expanded from kept expansions alone, as [`Variables::run`] would expand it
/// with every reference found in `memo`; `None` when one is not kept (or its kept
/// expansion may not stand in for it, or the text grows past the budget: the full
/// expansion then reports the error).
fn replay(text: &str, memo: &HashMap<String, Kept>) -> Option<String> {
    let mut budget = MAX_EXPANSION;
    let mut out = String::with_capacity(text.len());
    let mut close = Close::default();
    let (mut i, mut lit) = (0, 0);
    while let Some((at, name, after)) = next_reference(text, i, &mut close) {
        let k = memo.get(name)?;
        if k.depth >= MAX_VAR_DEPTH || budget < k.need {
            return None;
        }
        out.push_str(&text[lit..at]);
        budget -= k.cost;
        splice(&mut out, &k.values, text[after..].starts_with('/'));
        if out.len() > budget {
            return None;
        }
        i = after;
        lit = after;
    }
    out.push_str(&text[lit.min(text.len())..]);
    Some(out)
}

/// Appends a variable's `values` to `out`: one value as it is, several as
/// `{v1,v2,…}`; a `/` at the splice point is not doubled (a value loses its
/// leading `/` after one in `out`, its trailing `/` when `slash_after`).
fn splice(out: &mut String, values: &[String], slash_after: bool) {
    let before_slash = out.ends_with('/');
    fn fix(mut v: &str, before_slash: bool, slash_after: bool) -> &str {
        if before_slash {
            v = v.strip_prefix('/').unwrap_or(v);
        }
        if slash_after {
            v = v.strip_suffix('/').unwrap_or(v);
        }
        v
    }
    let fix = |v| fix(v, before_slash, slash_after);
    if let [one] = values {
        out.push_str(fix(one));
    } else {
        out.push('{');
        for (k, v) in values.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            out.push_str(fix(v));
        }
        out.push('}');
    }
}

/// Parses an integer as C's `strtol(s, NULL, 0)` would (0x hex, leading 0 octal).
pub fn parse_c_int(s: &str) -> Option<i64> {
    let (neg, t) = match s.strip_prefix('-') {
        Some(t) => (true, t),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let v = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        i64::from_str_radix(h, 16).ok()?
    } else if t.len() > 1 && t.starts_with('0') {
        i64::from_str_radix(&t[1..], 8).ok()?
    } else {
        t.parse::<i64>().ok()?
    };
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests;
