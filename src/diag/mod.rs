//! Diagnostics with spans, shared by every parser (policy, logs, apparmor_parser output).
//!
//! A [`Diagnostic`] names a stable [`Diagnostic::code`] (e.g. `P0001`), a
//! [`Severity`], a [`Span`] (file id plus byte range) and a message whose gist
//! follows apparmor_parser's wording, so users can search for it. A
//! [`SourceMap`] turns spans into paths, lines and columns; [`render()`] draws
//! the source excerpt with annotate-snippets and [`Diagnostic::to_json`] gives
//! the machine form.

pub mod render;
pub mod suggest;

use serde::Serialize;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Identifies one source text inside a [`SourceMap`] (index into it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord, Serialize)]
pub struct FileId(pub u32);

/// A byte range in one source file. Equality always holds (`==` ignores
/// positions), so ASTs parsed from differently formatted texts compare equal.
#[derive(Clone, Copy, Default)]
pub struct Span {
    /// The file the range refers to.
    pub file: FileId,
    /// First byte (inclusive).
    pub start: u32,
    /// Last byte (exclusive).
    pub end: u32,
}

impl Span {
    /// A span over `range` in `file` (offsets saturate at `u32::MAX`).
    pub fn new(file: FileId, range: Range<usize>) -> Self {
        let c = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        Span {
            file,
            start: c(range.start),
            end: c(range.end),
        }
    }
    /// The byte range as `usize`s.
    pub fn range(&self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
    /// The smallest span covering `self` and `other` (same file assumed).
    pub fn to(&self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

impl PartialEq for Span {
    fn eq(&self, _: &Span) -> bool {
        true
    }
}
impl Eq for Span {}

impl std::fmt::Debug for Span {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}..{}", self.file.0, self.start, self.end)
    }
}

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational note.
    Note,
    /// apparmor_parser would warn but still compile.
    Warning,
    /// apparmor_parser would reject the input.
    Error,
}

/// One finding about some input, pointing at the offending bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable code (`P` = policy syntax, `R` = resolution), documented in aactl(1).
    pub code: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// Where.
    pub span: Span,
    /// The message (gist follows apparmor_parser's wording).
    pub message: String,
}

impl Diagnostic {
    /// An error diagnostic.
    pub fn error(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            span,
            message: message.into(),
        }
    }
    /// A warning diagnostic.
    pub fn warning(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Warning,
            span,
            message: message.into(),
        }
    }
    /// True for [`Severity::Error`].
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
    /// The JSON form: `{code, severity, file, line, column, message}` (line and
    /// column 1-based; column counts bytes).
    pub fn to_json(&self, map: &SourceMap) -> serde_json::Value {
        let (file, line, column) = match map.get(self.span.file) {
            Some(src) => {
                let (l, c) = src.line_col(self.span.start as usize);
                (Some(src.path.display().to_string()), l, c)
            }
            None => (None, 0, 0),
        };
        serde_json::json!({
            "code": self.code,
            "severity": self.severity,
            "file": file,
            "line": line,
            "column": column,
            "message": self.message,
        })
    }
}

/// One source text registered in a [`SourceMap`].
#[derive(Debug, Clone)]
pub struct Source {
    /// Path the text was read from (or a pseudo path such as `<stdin>`).
    pub path: PathBuf,
    /// The text (invalid UTF-8 replaced by U+FFFD).
    pub text: String,
    line_starts: Vec<usize>,
}

impl Source {
    /// 1-based line and column (in bytes) of byte `offset`.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.line_starts.get(line).copied().unwrap_or(0);
        (line + 1, offset.saturating_sub(start) + 1)
    }
}

/// All source texts of one run, addressed by [`FileId`].
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Vec<Source>,
}

impl SourceMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }
    /// Registers `text` read from `path` and returns its id.
    pub fn add(&mut self, path: impl AsRef<Path>, text: String) -> FileId {
        let mut line_starts = vec![0];
        line_starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push(Source {
            path: path.as_ref().to_path_buf(),
            text,
            line_starts,
        });
        id
    }
    /// The source registered under `id`.
    pub fn get(&self, id: FileId) -> Option<&Source> {
        self.files.get(id.0 as usize)
    }
    /// Path, 1-based line and column of a span's start.
    pub fn locate(&self, span: Span) -> Option<(&Path, usize, usize)> {
        let s = self.get(span.file)?;
        let (l, c) = s.line_col(span.start as usize);
        Some((&s.path, l, c))
    }
    /// Changes the path the text under `id` is shown with (nothing when `id` is
    /// not registered).
    pub fn set_path(&mut self, id: FileId, path: PathBuf) {
        if let Some(s) = self.files.get_mut(id.0 as usize) {
            s.path = path;
        }
    }
    /// Number of registered files.
    pub fn len(&self) -> usize {
        self.files.len()
    }
    /// True when nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

pub use render::{include_note, render, render_included};
