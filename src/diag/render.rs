//! Rendering diagnostics with a source excerpt (annotate-snippets). This is the
//! only place that formats source excerpts.

use super::{Diagnostic, Severity, SourceMap};
use annotate_snippets::{AnnotationKind, Level, Renderer, Snippet};

/// Renders `diag` as text: `error[CODE]: message`, then `--> file:line:col`
/// and the annotated source line. Plain (no colour) unless `styled`.
pub fn render(diag: &Diagnostic, map: &SourceMap, styled: bool) -> String {
    render_included(diag, map, styled, &[])
}

/// The note that says how the file of a diagnostic was reached: `in file A, included
/// from B:3, included from C:7`, for `chain` the include sites from the innermost
/// (the include of A, in B at line 3) outwards. `None` for an empty chain.
pub fn include_note(
    file: &std::path::Path,
    chain: &[super::Span],
    map: &SourceMap,
) -> Option<String> {
    if chain.is_empty() {
        return None;
    }
    let mut s = format!("in file {}", file.display());
    for site in chain {
        if let Some((path, line, _)) = map.locate(*site) {
            s.push_str(&format!(", included from {}:{line}", path.display()));
        }
    }
    Some(s)
}

/// Like [`render`], with a note naming the chain of includes that led to the
/// diagnostic's file ([`include_note`]; `chain` as
/// [`crate::policy::resolve::Resolved::include_chain`] gives it).
pub fn render_included(
    diag: &Diagnostic,
    map: &SourceMap,
    styled: bool,
    chain: &[super::Span],
) -> String {
    let level = match diag.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Note => Level::NOTE,
    };
    let renderer = if styled {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let message = crate::escape::escape_str(&diag.message).into_owned();
    let title = level.primary_title(message).id(diag.code);
    match map.get(diag.span.file) {
        Some(src) => {
            let len = src.text.len();
            let start = (diag.span.start as usize).min(len);
            let mut end = (diag.span.end as usize).clamp(start, len);
            // Keep the annotation on one line and on char boundaries.
            if let Some(nl) = src.text[start..end.max(start)].find('\n') {
                end = start + nl;
            }
            let start = floor_char(&src.text, start);
            let end = floor_char(&src.text, end).max(start);
            // annotate-snippets shows C0 controls as visible symbols but passes
            // C1 controls (U+0080..U+009F, e.g. CSI U+009B) to the terminal.
            // Give annotate-snippets only the annotated line: it scans the
            // whole source it is given, which made thousands of diagnostics on
            // a 1 MiB binary file take minutes.
            let line_start = src.text[..start].rfind('\n').map_or(0, |i| i + 1);
            let line_end = src.text[end..].find('\n').map_or(len, |i| end + i);
            let line_no = src.line_col(line_start).0;
            let (text, start, end) = without_c1(
                &src.text[line_start..line_end],
                start - line_start,
                end - line_start,
            );
            // file names may hold control characters (ESC, newline): escape them
            let path = crate::escape::escape_str(&src.path.display().to_string()).into_owned();
            let note = include_note(&src.path, chain, map)
                .map(|n| crate::escape::escape_str(&n).into_owned());
            let mut group = title.element(
                Snippet::source(text.as_ref())
                    .line_start(line_no)
                    .path(path)
                    .annotation(AnnotationKind::Primary.span(start..end)),
            );
            if let Some(n) = &note {
                group = group.element(Level::NOTE.message(n.as_str()));
            }
            renderer.render(&[group])
        }
        None => renderer.render(&[title.element(annotate_snippets::Padding)]),
    }
}

/// `text` with each C1 control replaced by U+FFFD, and the byte offsets
/// `start`/`end` moved to match (each replacement is one byte longer).
fn without_c1(text: &str, start: usize, end: usize) -> (std::borrow::Cow<'_, str>, usize, usize) {
    let is_c1 = |c: char| ('\u{80}'..='\u{9f}').contains(&c);
    if !text.chars().any(is_c1) {
        return (std::borrow::Cow::Borrowed(text), start, end);
    }
    let shift = |i: usize| i + text[..i].chars().filter(|&c| is_c1(c)).count();
    let out: String = text
        .chars()
        .map(|c| if is_c1(c) { '\u{fffd}' } else { c })
        .collect();
    (std::borrow::Cow::Owned(out), shift(start), shift(end))
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}
