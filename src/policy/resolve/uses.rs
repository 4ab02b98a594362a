//! Constructs met while resolving whose meaning depends on the parser
//! release: newer assignment operators, `if` conditions, special `abi` names
//! and the automatic variables. Resolution itself accepts them all (it
//! follows the newest language); [`crate::policy::check`] turns them into
//! errors for an older target release.

use super::Variables;
use crate::policy::ast::{AssignOp, Else, Expr, IfBlock, Span};

/// One construct of interest, as met while resolving.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Construct {
    /// A variable or boolean assignment with `?=` or `:=`.
    Assign(AssignOp),
    /// The condition of an `if` (or `else if`), or the value of a boolean
    /// assignment that is not a plain `true`/`false`.
    Condition(Expr),
    /// `defined $NAME` on a boolean variable that is not set at that point.
    DefinedUnset(String),
    /// `abi <kernel>,` or `abi <default>,` (the name between the brackets).
    AbiName(String),
    /// A rule's reference to an automatic variable that the policy does not
    /// define itself (`exec_path` or `attach_path`).
    AutoVariable(String),
}

/// A [`Construct`] and where it was written (for an `if`, the keyword).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Use {
    /// What was met.
    pub construct: Construct,
    /// Where: the assignment, the `if` keyword, the `abi` statement or the rule.
    pub span: Span,
}

/// The names of boolean variables tested with `defined $NAME` in `e`.
fn defined_bools(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Defined { name, set: false } => out.push(name.clone()),
        Expr::Not(a) | Expr::Paren(a) => defined_bools(a, out),
        Expr::And(a, b) | Expr::Or(a, b) => {
            defined_bools(a, out);
            defined_bools(b, out);
        }
        _ => {}
    }
}

/// Every condition of an `if`/`else if` chain (taken or not), at its `if`
/// keyword, and the `defined $NAME` tests of booleans not set in `vars`.
pub(super) fn conditions(i: &IfBlock, vars: &Variables) -> Vec<Use> {
    let mut out = Vec::new();
    let mut cur = i;
    loop {
        let span = Span {
            end: cur.span.start.saturating_add(2),
            ..cur.span
        };
        out.push(Use {
            construct: Construct::Condition(cur.cond.clone()),
            span,
        });
        let mut names = Vec::new();
        defined_bools(&cur.cond, &mut names);
        for n in names.into_iter().filter(|n| vars.boolean(n).is_none()) {
            out.push(Use {
                construct: Construct::DefinedUnset(n),
                span,
            });
        }
        match &cur.otherwise {
            Some(Else::If(n)) => cur = n,
            _ => return out,
        }
    }
}
