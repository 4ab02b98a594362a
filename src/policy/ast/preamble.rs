//! Preamble nodes: include and abi targets, variable and boolean assignments, aliases.

use super::*;

/// Target of an include or abi rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IncludeTarget {
    /// `<name>` (search path); `quoted` for `<"name">`.
    Angle {
        /// The name, blanks trimmed.
        name: String,
        /// Written `<"…">`.
        quoted: bool,
    },
    /// `"name"`: literal path.
    Quoted(String),
    /// `name`: bare literal path.
    Bare(String),
}

impl IncludeTarget {
    /// The name inside the delimiters.
    pub fn name(&self) -> &str {
        match self {
            IncludeTarget::Angle { name, .. } => name,
            IncludeTarget::Quoted(n) | IncludeTarget::Bare(n) => n,
        }
    }
    /// True for the `<…>` search-path form.
    pub fn is_search(&self) -> bool {
        matches!(self, IncludeTarget::Angle { .. })
    }
}

/// `include [if exists] TARGET` (or the deprecated `#include`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Include {
    /// Spelled `#include`.
    pub hash: bool,
    /// `if exists`: a missing target is ignored.
    pub if_exists: bool,
    /// What to include.
    pub target: IncludeTarget,
    /// Location.
    pub span: Span,
}

/// `abi TARGET,`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Abi {
    /// The ABI file.
    pub target: IncludeTarget,
    /// Location.
    pub span: Span,
}

/// Variable assignment operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignOp {
    /// `=` define.
    Set,
    /// `+=` append.
    Append,
    /// `?=` define if undefined (6.0).
    SetDefault,
    /// `:=` replace (6.0).
    Replace,
}

impl AssignOp {
    /// Source spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AssignOp::Set => "=",
            AssignOp::Append => "+=",
            AssignOp::SetDefault => "?=",
            AssignOp::Replace => ":=",
        }
    }
}

/// `@{NAME} op value…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarAssign {
    /// Name without `@{}`.
    pub name: String,
    /// Operator.
    pub op: AssignOp,
    /// Values (possibly empty `""`).
    pub values: Vec<Word>,
    /// Location.
    pub span: Span,
}

/// `${NAME} op expr`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoolAssign {
    /// Name without `${}`.
    pub name: String,
    /// Operator.
    pub op: AssignOp,
    /// Value (3.0.8: a literal `true`/`false`).
    pub value: Expr,
    /// Location.
    pub span: Span,
}

/// `alias FROM -> TO,`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    /// Original prefix.
    pub from: Word,
    /// Replacement prefix.
    pub to: Word,
    /// Location.
    pub span: Span,
}
