//! The nom-based parser for the whole language: preamble, profiles, rules and
//! conditional blocks (docs/policy-language.md lists the lexer traps it mirrors).
//!
//! The parser never fails and never panics: it returns an AST plus
//! [`Diagnostic`]s, recovering after an error at the next `,` that ends a
//! rule, the next `}` or the next line end. Nesting depth and input size are
//! bounded by named limits.

mod cond;
mod cursor;
mod lex;
mod preamble;
mod profile;
mod rules;

use crate::diag::{Diagnostic, FileId, Span};
use crate::policy::ast::*;
use lex::*;

/// Deepest nesting of profile, hat, qualifier and `if` blocks (and of
/// parentheses in conditions). apparmor_parser has no fixed limit; this keeps
/// the parser's stack bounded on hostile input.
pub const MAX_NESTING: usize = 128;

/// Most syntax errors reported for one text; parsing stops after that many
/// (each error costs memory, and a binary file would produce one per line).
pub const MAX_DIAGNOSTICS: usize = 200;

/// Largest policy text accepted (bytes); longer inputs are diagnosed, not parsed.
pub const MAX_POLICY_FILE_BYTES: usize = super::MAX_POLICY_FILE as usize;

/// Diagnostic codes emitted by the parser.
pub mod codes {
    /// Generic syntax error ("syntax error, unexpected …").
    pub const SYNTAX: &str = "P0001";
    /// Unterminated quoted string.
    pub const UNTERMINATED_QUOTE: &str = "P0002";
    /// Missing or unexpected `}` (block not closed / closed twice).
    pub const UNBALANCED: &str = "P0003";
    /// Nesting deeper than [`super::MAX_NESTING`].
    pub const NESTING: &str = "P0004";
    /// "Variable declarations do not accept trailing commas".
    pub const VAR_TRAILING_COMMA: &str = "P0005";
    /// "Profile names must begin with a '/', namespace or keyword 'profile' or 'hat'".
    pub const PROFILE_NAME: &str = "P0006";
    /// Preamble item (variable, alias) inside a profile, or rule outside one.
    pub const MISPLACED: &str = "P0007";
    /// Input larger than [`super::MAX_POLICY_FILE_BYTES`].
    pub const TOO_LARGE: &str = "P0008";
    /// A rule that does not end with `,` ("missing an end of line character?").
    pub const MISSING_COMMA: &str = "P0009";
    /// A NUL byte or other unexpected character.
    pub const BAD_CHAR: &str = "P0010";
    /// More than [`super::MAX_DIAGNOSTICS`] errors; the rest was skipped.
    pub const TOO_MANY: &str = "P0011";
}

/// One parsed text (a profile file or an include fragment): its (possibly
/// partial) AST and the parser's syntax diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedFile {
    /// The (possibly partial) AST.
    pub ast: PolicyFile,
    /// Syntax diagnostics, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

impl ParsedFile {
    /// True when no diagnostic is an error.
    pub fn is_ok(&self) -> bool {
        !self.diagnostics.iter().any(|d| d.is_error())
    }
}

/// How top-level items are interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseMode {
    /// A profile file: preamble then profiles (rules at top level are errors).
    Policy,
    /// An include fragment (abstraction or tunables): preamble items and
    /// rules are both accepted at top level, as the file may be spliced into
    /// either place.
    Fragment,
}

/// Parses `text` (registered as `file`) in the given mode.
pub fn parse(text: &str, file: FileId, mode: ParseMode) -> ParsedFile {
    let mut p = P {
        src: text,
        pos: 0,
        file,
        diags: Vec::new(),
        depth: 0,
        mode,
        pending: Default::default(),
    };
    if text.len() > MAX_POLICY_FILE_BYTES {
        let d = Diagnostic::error(
            codes::TOO_LARGE,
            p.span(0),
            format!("policy file is larger than {MAX_POLICY_FILE_BYTES} bytes"),
        );
        return ParsedFile {
            ast: PolicyFile::default(),
            diagnostics: vec![d],
        };
    }
    let items = p.items(true);
    let ast = PolicyFile {
        items,
        span: Span::new(file, 0..text.len()),
    };
    ParsedFile {
        ast,
        diagnostics: p.diags,
    }
}

/// A parse error at a position; turned into a diagnostic by the recovery loop.
pub(crate) struct PErr {
    pub code: &'static str,
    pub at: usize,
    pub msg: String,
}

pub(crate) type PResult<T> = Result<T, PErr>;

pub(crate) struct P<'a> {
    pub src: &'a str,
    pub pos: usize,
    pub file: FileId,
    pub diags: Vec<Diagnostic>,
    pub depth: usize,
    pub mode: ParseMode,
    pub pending: std::collections::BTreeMap<usize, Comment>,
}

fn is_blank_after(s: &str, n: usize) -> bool {
    matches!(s.as_bytes().get(n), Some(b' ' | b'\t' | b'\n' | b'\r'))
}

fn is_hash_include(s: &str) -> bool {
    s.starts_with("#include") && matches!(s.as_bytes().get(8), Some(b' ' | b'\t' | b'<' | b'"'))
}

/// True for the words apparmor_parser's lexer reserves as keywords.
pub(crate) fn is_keyword(w: &str) -> bool {
    const KW: &[&str] = &[
        "network",
        "unix",
        "capability",
        "change_profile",
        "link",
        "ptrace",
        "file",
        "mount",
        "remount",
        "umount",
        "unmount",
        "pivot_root",
        "dbus",
        "signal",
        "userns",
        "mqueue",
        "io_uring",
        "all",
        "abi",
        "alias",
        "rewrite",
        "audit",
        "deny",
        "allow",
        "prompt",
        "owner",
        "user",
        "other",
        "priority",
        "set",
        "rlimit",
        "if",
        "else",
        "not",
        "defined",
        "and",
        "or",
        "in",
        "safe",
        "unsafe",
        "subset",
        "send",
        "receive",
        "bind",
        "read",
        "write",
        "eavesdrop",
        "peer",
        "trace",
        "tracedby",
        "readby",
        "delete",
        "open",
        "override_creds",
        "sqpoll",
    ];
    KW.contains(&w)
}

/// True when the text at `s` starts a rule (keyword or qualifier) rather than a profile head.
fn starts_rule(s: &str) -> bool {
    const KW: &[&str] = &[
        "audit",
        "allow",
        "deny",
        "prompt",
        "owner",
        "user",
        "other",
        "priority",
        "file",
        "link",
        "capability",
        "network",
        "unix",
        "dbus",
        "signal",
        "ptrace",
        "mount",
        "remount",
        "umount",
        "unmount",
        "pivot_root",
        "mqueue",
        "io_uring",
        "userns",
        "change_profile",
        "set",
        "all",
    ];
    KW.iter().any(|k| keyword(k)(s).is_ok())
}

/// A short description of what is at `s` for error messages.
pub(crate) fn describe(s: &str) -> String {
    if s.is_empty() {
        return "end of file".into();
    }
    let first = s.chars().next().unwrap_or(' ');
    if first == '\n' || first == '\r' {
        return "end of line".into();
    }
    let tok: String = s
        .chars()
        .take_while(|c| !c.is_whitespace())
        .take(40)
        .collect();
    let tok = if tok.is_empty() {
        first.to_string()
    } else {
        tok
    };
    format!("'{}'", crate::escape::escape_str(&tok))
}

#[cfg(test)]
mod tests;
