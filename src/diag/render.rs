//! Rendering diagnostics with a source excerpt (annotate-snippets). This is the
//! only place that formats source excerpts.

use super::{Diagnostic, Severity, SourceMap};
use annotate_snippets::{AnnotationKind, Level, Renderer, Snippet};

/// Renders `diag` as text: `error[CODE]: message`, then `--> file:line:col`
/// and the annotated source line. Plain (no colour) unless `styled`.
pub fn render(diag: &Diagnostic, map: &SourceMap, styled: bool) -> String {
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
            let path = src.path.display().to_string();
            let report = &[title.element(
                Snippet::source(src.text.as_str())
                    .path(path)
                    .annotation(AnnotationKind::Primary.span(start..end)),
            )];
            renderer.render(report)
        }
        None => renderer.render(&[title.element(annotate_snippets::Padding)]),
    }
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}
