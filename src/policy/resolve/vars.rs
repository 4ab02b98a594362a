//! Variables (spec §2.3, §6.3): set variables `@{X}` holding sets of strings,
//! booleans `${X}`, expansion of `@{X}` into alternations, and evaluation of
//! `if` conditions.

use crate::policy::ast::{AssignOp, CmpOp, Expr, Operand};
use std::collections::{BTreeSet, HashMap};

/// Deepest chain of variables referring to variables.
pub const MAX_VAR_DEPTH: usize = 32;

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
    /// A variable that refers to itself.
    #[error("Variable @{{{0}}} is referenced recursively")]
    Recursive(String),
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
        match values {
            Some(v) => self.sets.insert(name.into(), v),
            None => self.sets.remove(name),
        }
    }

    /// Names of the set variables referenced in `text` (`@{NAME}`, not `\@{`).
    pub fn references(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let b = text.as_bytes();
        let mut i = 0;
        while i + 1 < b.len() {
            if b[i] == b'\\' {
                i += 2;
                continue;
            }
            if b[i] == b'@' && b[i + 1] == b'{' {
                if let Some(end) = text[i + 2..].find('}') {
                    out.push(text[i + 2..i + 2 + end].to_string());
                    i += 3 + end;
                    continue;
                }
            }
            i += 1;
        }
        out
    }

    /// Expands every `@{X}` in `text`: one value is spliced in, several
    /// become `{v1,v2,…}`; slashes at the splice point are normalised
    /// (spec §4). Errors name the first undefined or recursive variable.
    pub fn expand(&self, text: &str) -> Result<String, VarError> {
        self.expand_depth(text, &mut Vec::new(), &mut { MAX_EXPANSION })
    }

    fn expand_depth(
        &self,
        text: &str,
        stack: &mut Vec<String>,
        budget: &mut usize,
    ) -> Result<String, VarError> {
        if !text.contains("@{") {
            return Ok(text.to_string());
        }
        let b = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        let mut lit = 0;
        while i < b.len() {
            if b[i] == b'\\' {
                i += 2;
                continue;
            }
            if b[i] == b'@' && b.get(i + 1) == Some(&b'{') {
                let Some(end) = text[i + 2..].find('}') else {
                    i += 1;
                    continue;
                };
                let name = &text[i + 2..i + 2 + end];
                if name.is_empty()
                    || name.contains(',')
                    || !name.as_bytes()[0].is_ascii_alphabetic()
                {
                    // not a variable reference (e.g. `@{a,b}` stays literal)
                    i += 1;
                    continue;
                }
                out.push_str(&text[lit..i]);
                let after = i + 3 + end;
                let values = self.values_depth(name, stack, budget)?;
                let before_slash = out.ends_with('/');
                let after_slash = text[after.min(text.len())..].starts_with('/');
                let fix = |v: &str| {
                    let mut v = v;
                    if before_slash {
                        v = v.strip_prefix('/').unwrap_or(v);
                    }
                    if after_slash {
                        v = v.strip_suffix('/').unwrap_or(v);
                    }
                    v.to_string()
                };
                let vals: Vec<String> = values.iter().map(|v| fix(v)).collect();
                if vals.len() == 1 {
                    out.push_str(&vals[0]);
                } else {
                    out.push('{');
                    out.push_str(&vals.join(","));
                    out.push('}');
                }
                if out.len() > *budget {
                    return Err(VarError::TooLarge(name.into()));
                }
                i = after;
                lit = after;
                continue;
            }
            i += 1;
        }
        out.push_str(&text[lit.min(text.len())..]);
        Ok(out)
    }

    /// The fully expanded value set of `@{name}` (duplicates removed, sorted).
    pub fn values(&self, name: &str) -> Result<Vec<String>, VarError> {
        self.values_depth(name, &mut Vec::new(), &mut { MAX_EXPANSION })
    }

    fn values_depth(
        &self,
        name: &str,
        stack: &mut Vec<String>,
        budget: &mut usize,
    ) -> Result<Vec<String>, VarError> {
        if stack.iter().any(|s| s == name) || stack.len() >= MAX_VAR_DEPTH {
            return Err(VarError::Recursive(name.into()));
        }
        *budget = budget
            .checked_sub(LOOKUP_COST)
            .ok_or_else(|| VarError::TooLarge(name.into()))?;
        let raw = self
            .sets
            .get(name)
            .ok_or_else(|| VarError::Undefined(name.into()))?;
        stack.push(name.into());
        let mut set = BTreeSet::new();
        for v in raw {
            let e = self.expand_depth(v, stack, budget)?;
            *budget = budget
                .checked_sub(e.len())
                .ok_or_else(|| VarError::TooLarge(name.into()))?;
            set.insert(e);
        }
        stack.pop();
        Ok(set.into_iter().collect())
    }

    /// Evaluates an `if` condition (spec §2.9).
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
mod tests {
    use super::*;

    #[test]
    fn expansion_and_slashes() {
        let mut v = Variables::new();
        v.assign("HOMEDIRS", AssignOp::Set, vec!["/home/".into()])
            .unwrap();
        v.assign(
            "HOME",
            AssignOp::Set,
            vec!["@{HOMEDIRS}/*/".into(), "/root/".into()],
        )
        .unwrap();
        assert_eq!(v.expand("@{HOME}/.x").unwrap(), "{/home/*,/root}/.x");
        assert_eq!(v.expand("\\@{HOME}").unwrap(), "\\@{HOME}");
        assert_eq!(v.expand("/a/@{U}"), Err(VarError::Undefined("U".into())));
        v.assign("R", AssignOp::Set, vec!["@{R}".into()]).unwrap();
        assert!(matches!(v.expand("@{R}"), Err(VarError::Recursive(_))));
        assert!(v.assign("HOME", AssignOp::Set, vec![]).is_err());
        assert!(v.assign("Q", AssignOp::Append, vec![]).is_err());
        v.assign("Q", AssignOp::SetDefault, vec!["1".into()])
            .unwrap();
        v.assign("Q", AssignOp::SetDefault, vec!["2".into()])
            .unwrap();
        assert_eq!(v.values("Q").unwrap(), vec!["1"]);
    }

    #[test]
    fn c_ints() {
        assert_eq!(parse_c_int("010"), Some(8));
        assert_eq!(parse_c_int("0x10"), Some(16));
        assert_eq!(parse_c_int("-3"), Some(-3));
        assert_eq!(parse_c_int("a"), None);
    }
}
