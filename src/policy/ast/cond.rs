//! Conditional nodes: `if`/`else` blocks and their boolean expressions.

use super::*;

/// `if` with optional `else`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfBlock {
    /// Condition.
    pub cond: Expr,
    /// Items of the taken branch.
    pub then: Vec<Item>,
    /// `else if …` or `else { … }`.
    pub otherwise: Option<Else>,
    /// Location.
    pub span: Span,
}

/// The `else` part of an [`IfBlock`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Else {
    /// `else if …`.
    If(Box<IfBlock>),
    /// `else { … }`.
    Block(Vec<Item>),
}

/// Comparison operator in conditions (6.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `==`.
    Eq,
    /// `!=`.
    Ne,
    /// `in` (subset).
    In,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
}

impl CmpOp {
    /// Source spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::In => "in",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
        }
    }
}

/// The boolean expression of an `if` condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// `$NAME` / `${NAME}` (name stored without sigils).
    Bool(String),
    /// `defined @{X}` / `defined $X` (`set` tells which).
    Defined {
        /// Variable name.
        name: String,
        /// A set variable `@{…}`.
        set: bool,
    },
    /// `not e`.
    Not(Box<Expr>),
    /// `a and b`.
    And(Box<Expr>, Box<Expr>),
    /// `a or b`.
    Or(Box<Expr>, Box<Expr>),
    /// `( e )`.
    Paren(Box<Expr>),
    /// `a OP b`.
    Cmp(Operand, CmpOp, Operand),
    /// A lone operand (literal `true`/`false`).
    Operand(Operand),
}

/// Operand of a comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    /// `@{NAME}`.
    Var(String),
    /// A literal word.
    Word(Word),
}
