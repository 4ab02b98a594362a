//! The AppArmor profile language (spec/policy-language.md).
//!
//! * [`ast`]: the syntax tree; `Display` prints canonical policy text.
//! * [`parse`]: the nom parser; [`parse_str`] never fails, it returns a
//!   [`Parsed`] with the AST and diagnostics.
//! * [`resolve`]: includes, variables and conditions, giving a resolved view
//!   per profile.
//! * [`edit`]: source-preserving edits (profile flags).

pub mod ast;
pub mod edit;
pub mod parse;
pub mod resolve;

pub use parse::{Mode, Parsed};

use crate::diag::FileId;

/// Parses a profile file's text (registered as `file`, use `FileId(0)` when
/// there is no [`crate::diag::SourceMap`]).
pub fn parse_str(text: &str, file: FileId) -> Parsed {
    parse::parse(text, file, Mode::Policy)
}
