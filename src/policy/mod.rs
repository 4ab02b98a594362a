//! The AppArmor profile language (spec/policy-language.md).
//!
//! * [`ast`]: the syntax tree. Every node has a [`Span`](crate::diag::Span)
//!   that equality ignores; `Display` prints canonical policy text that
//!   re-parses to an equal AST.
//! * [`parse`]: the nom parser. [`parse_str`] never fails: it returns a
//!   [`Parsed`] with the (possibly partial) AST and syntax diagnostics.
//! * [`resolve`]: includes, variables and `if` conditions, giving a resolved
//!   view per profile ([`resolve::Resolver`]).
//! * [`edit`]: source-preserving edits (profile flags and modes).
//!
//! ```
//! use apparmor::diag::FileId;
//! use apparmor::policy::{ast::Item, parse_str};
//! let parsed = parse_str("profile foo /usr/bin/foo {\n  /etc/foo r,\n}\n", FileId(0));
//! assert!(parsed.is_ok());
//! let foo = parsed.ast.profiles()[0];
//! assert_eq!(foo.name.text, "foo");
//! assert!(matches!(foo.items[0], Item::Rule(_)));
//! assert_eq!(parsed.ast.to_string(), "profile foo /usr/bin/foo {\n  /etc/foo r,\n}\n");
//! ```

pub mod ast;
pub mod edit;
pub mod parse;
pub mod resolve;

pub use parse::{Mode, Parsed};

use crate::diag::{FileId, SourceMap};
use std::path::{Path, PathBuf};

/// Could not read a policy file at all (syntax problems are diagnostics, not errors).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The file could not be read.
    #[error("could not read {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Parses a profile file's text (registered as `file`; use `FileId(0)` when
/// there is no [`SourceMap`]).
pub fn parse_str(text: &str, file: FileId) -> Parsed {
    parse::parse(text, file, Mode::Policy)
}

/// Parses an include fragment (abstraction, tunables, local override):
/// preamble items and rules are both accepted at top level.
pub fn parse_fragment(text: &str, file: FileId) -> Parsed {
    parse::parse(text, file, Mode::Fragment)
}

/// Reads `path` (invalid UTF-8 replaced), registers it in `map` and parses it.
pub fn parse_file(path: &Path, map: &mut SourceMap, mode: Mode) -> Result<Parsed, PolicyError> {
    let bytes = std::fs::read(path).map_err(|source| PolicyError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let id = FileId(u32::try_from(map.len()).unwrap_or(u32::MAX));
    let parsed = parse::parse(&text, id, mode);
    map.add(path, text);
    Ok(parsed)
}
