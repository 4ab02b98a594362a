//! The AppArmor profile language. docs/policy-language.md describes the
//! behaviour followed (includes, variables, lexer traps, checks, versions).
//!
//! * [`ast`]: the syntax tree. Every node has a [`Span`](crate::diag::Span)
//!   that equality ignores; `Display` prints canonical policy text that
//!   re-parses to an equal AST.
//! * [`parse`]: the nom parser. [`parse_str`] never fails: it returns a
//!   [`ParsedFile`] with the (possibly partial) AST and syntax diagnostics.
//! * [`resolve`]: includes, variables and `if` conditions, giving a resolved
//!   view per profile ([`resolve::Resolver`]).
//! * [`edit`]: source-preserving edits (profile flags and modes).
//! * [`format`](mod@format): the formatter (canonical layout keeping comments and blank lines).
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
pub mod attach;
pub mod check;
pub mod edit;
pub mod format;
pub mod glob;
pub mod parse;
pub mod resolve;
mod version;

pub use parse::{ParseMode, ParsedFile};
pub use version::{ParseVersionError, ParserVersion};

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
pub fn parse_str(text: &str, file: FileId) -> ParsedFile {
    parse::parse(text, file, ParseMode::Policy)
}

/// Parses an include fragment (abstraction, tunables, local override):
/// preamble items and rules are both accepted at top level.
pub fn parse_fragment(text: &str, file: FileId) -> ParsedFile {
    parse::parse(text, file, ParseMode::Fragment)
}

/// The largest policy file [`read_policy_file`] accepts, in bytes (64 MiB;
/// Debian's whole /etc/apparmor.d is about 2 MiB).
pub const MAX_POLICY_FILE: u64 = crate::system::fs::limits::POLICY_FILE;

/// Reads a policy file's bytes safely: the path (symlinks followed) must be a
/// regular file, so a FIFO, `/dev/zero` or a socket gives an
/// [`std::io::ErrorKind::InvalidInput`] error instead of blocking or reading
/// forever. The file is opened non-blocking and checked again after opening
/// (no race with a swapped-in FIFO). Files over [`MAX_POLICY_FILE`] bytes
/// (including `/proc` files that grow while read) are refused with
/// [`std::io::ErrorKind::FileTooLarge`].
pub fn read_policy_file(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let f = crate::system::open_regular(path)?;
    let md = f.metadata()?;
    let mut bytes = Vec::with_capacity(usize::try_from(md.len().min(MAX_POLICY_FILE)).unwrap_or(0));
    f.take(MAX_POLICY_FILE + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_POLICY_FILE {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!("file larger than {MAX_POLICY_FILE} bytes"),
        ));
    }
    Ok(bytes)
}

/// Reads `path` (invalid UTF-8 replaced; see [`read_policy_file`]), registers
/// it in `map` and parses it.
pub fn parse_file(
    path: &Path,
    map: &mut SourceMap,
    mode: ParseMode,
) -> Result<ParsedFile, PolicyError> {
    let bytes = read_policy_file(path).map_err(|source| PolicyError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let id = FileId(u32::try_from(map.len()).unwrap_or(u32::MAX));
    let parsed = parse::parse(&text, id, mode);
    map.add(path, text);
    Ok(parsed)
}
