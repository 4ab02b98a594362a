//! The formatter behind `aactl fmt`: a policy file's text printed again by the
//! canonical printer ([`super::ast`]'s `Display`), keeping what a reader put
//! there on purpose.
//!
//! What changes: one item per line, bodies indented by two spaces per level,
//! blanks inside a rule collapsed to one, `#include` spelled `include`, a run
//! of blank lines between two items becomes one blank line, an include
//! fragment that holds rules (an abstraction) has its items indented as in a
//! profile body (the comments that open it stay at the margin) (blank lines at the
//! start of a body go), trailing blanks at the end of comment lines go, and
//! the file ends with one newline.
//!
//! What stays: every comment (a comment written inside a multi-line rule moves
//! to the line after that rule, as the parser keeps it), every blank-line
//! group, and the order of items. Nothing is reordered: in AppArmor the order
//! of rules is mostly irrelevant to the compiled policy, but not always
//! (variables used before they are redefined, `include` positions, comments
//! that describe the line after them), so the formatter leaves order to the
//! author.
//!
//! Formatting refuses a text with syntax errors (it could drop what it did not
//! understand), and checks its own output: the result must parse back to the
//! same syntax tree as the input (with `include` spelling and comment ends
//! normalised), otherwise [`FormatError::Unstable`] is returned and nothing
//! should be written.

use super::ast::{Else, Item, PolicyFile};
use super::parse::{ParseMode, parse};
use crate::diag::FileId;

/// Why a text could not be formatted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The text has a syntax error (as a profile file and as an include fragment).
    #[error("line {line}: {message}")]
    Syntax {
        /// 1-based line of the first error.
        line: usize,
        /// The parser's message.
        message: String,
    },
    /// The printed text does not parse back to the same policy (a printer
    /// defect); the text is left alone.
    #[error("the formatted text does not parse back to the same policy (near line {line})")]
    Unstable {
        /// 1-based line in the input of the first item that differs.
        line: usize,
    },
}

/// Formats a policy file's or include fragment's text (see the module
/// documentation). The text is tried as a profile file first, then as an
/// include fragment (abstractions, tunables, `local/` overrides).
///
/// # Errors
/// [`FormatError::Syntax`] when the text does not parse either way;
/// [`FormatError::Unstable`] when the output would not parse back equal.
///
/// ```
/// let src = "#include <tunables/global>\n\n\nprofile foo {\n      /etc/foo   r,  # why\n\n  # next\n  /tmp/x w,\n}\n";
/// let out = apparmor::policy::format::format_str(src).unwrap();
/// assert_eq!(out, "include <tunables/global>\n\nprofile foo {\n  /etc/foo r, # why\n\n  # next\n  /tmp/x w,\n}\n");
/// assert_eq!(apparmor::policy::format::format_str(&out).unwrap(), out);
/// ```
pub fn format_str(text: &str) -> Result<String, FormatError> {
    let (mode, parsed) = {
        let p = parse(text, FileId(0), ParseMode::Policy);
        if p.is_ok() {
            (ParseMode::Policy, p)
        } else {
            let f = parse(text, FileId(0), ParseMode::Fragment);
            if f.is_ok() {
                (ParseMode::Fragment, f)
            } else {
                let d = p.diagnostics.iter().find(|d| d.is_error());
                return Err(FormatError::Syntax {
                    line: d.map_or(1, |d| line_of(text, d.span.start as usize)),
                    message: d.map(|d| d.message.clone()).unwrap_or_default(),
                });
            }
        }
    };
    let mut ast = parsed.ast;
    normalise(&mut ast.items);
    let mut out = String::with_capacity(text.len());
    let lay = super::ast::Layout {
        src: Some(text),
        body_fragment: mode == ParseMode::Fragment && has_rules(&ast.items),
    };
    // writing into a String cannot fail
    let _ = super::ast::write_file(&mut out, &ast, lay);
    let again = parse(&out, FileId(0), mode);
    if !again.is_ok() || again.ast.items != ast.items {
        let at = first_difference(&ast.items, &again.ast.items);
        return Err(FormatError::Unstable {
            line: line_of(text, at),
        });
    }
    Ok(out)
}

/// Whether `text` is already formatted (`format_str(text) == text`).
///
/// # Errors
/// As [`format_str`].
pub fn is_formatted(text: &str) -> Result<bool, FormatError> {
    Ok(format_str(text)? == text)
}

/// Whether a fragment holds rules at top level (it is spliced into profile bodies,
/// so its items are indented as a body's are).
fn has_rules(items: &[Item]) -> bool {
    items
        .iter()
        .any(|i| matches!(i, Item::Rule(_) | Item::Block(_) | Item::If(_)))
}

/// `#include` → `include`, comment ends trimmed, through every body.
fn normalise(items: &mut [Item]) {
    for it in items {
        match it {
            Item::Include(i) => i.hash = false,
            Item::Comment(c) => {
                let t = c.text.trim_end();
                if t.len() != c.text.len() {
                    c.text = t.to_string();
                }
            }
            Item::Profile(p) => normalise(&mut p.items),
            Item::Block(b) => normalise(&mut b.items),
            Item::If(i) => normalise_if(i),
            _ => {}
        }
    }
}

fn normalise_if(i: &mut super::ast::IfBlock) {
    normalise(&mut i.then);
    match &mut i.otherwise {
        Some(Else::If(n)) => normalise_if(n),
        Some(Else::Block(b)) => normalise(b),
        None => {}
    }
}

/// Byte offset (in the original) of the first top-level item that differs.
fn first_difference(a: &[Item], b: &[Item]) -> usize {
    a.iter()
        .zip(b.iter().map(Some).chain(std::iter::repeat(None)))
        .find(|(x, y)| Some(*x) != *y)
        .map_or(0, |(x, _)| x.span().start as usize)
}

fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The formatted text of a parsed file, without the checks of [`format_str`]
/// (blank lines are kept when `src` is the text `file` was parsed from).
pub fn print_file(file: &PolicyFile, src: Option<&str>) -> String {
    let mut out = String::new();
    let lay = super::ast::Layout {
        src,
        body_fragment: false,
    };
    let _ = super::ast::write_file(&mut out, file, lay);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_comments_and_blank_groups() {
        let src = "# head\n\n\nabi <abi/3.0>,\n#include <tunables/global>\n\nprofile t {\n\n  dbus send # why\n     bus=system,\n\n\n  /a r,   \n  # tail  \n}\n";
        let out = format_str(src).unwrap();
        assert_eq!(
            out,
            "# head\n\nabi <abi/3.0>,\ninclude <tunables/global>\n\nprofile t {\n  dbus send bus=system,\n  # why\n\n  /a r,\n  # tail\n}\n"
        );
        assert_eq!(format_str(&out).unwrap(), out);
    }

    #[test]
    fn fragments_and_errors() {
        assert_eq!(
            format_str("# h\n/a r,\n@{X}=1\n").unwrap(),
            "# h\n  /a r,\n  @{X} = 1\n"
        );
        assert_eq!(format_str("@{X}=1\n").unwrap(), "@{X} = 1\n");
        assert!(matches!(
            format_str("profile t {\n  bogus rule here\n"),
            Err(FormatError::Syntax { .. })
        ));
    }
}
