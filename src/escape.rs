//! Escaping untrusted text (names from /proc, logs, profiles) before it reaches a terminal.
//!
//! A process chooses its own `comm` and a log line can carry anything, so every
//! string that came from outside is passed through [`escape_str`] or
//! [`escape_bytes`] before it is printed as text. JSON output does not need this:
//! serde_json escapes control characters itself.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Returns `s` with every control character (C0, DEL and C1) and every
/// bidirectional-text control replaced by a
/// visible escape: `\n`, `\t`, `\r`, `\\` is kept as is, others as `\xNN`
/// (or `\u{NNNN}` for C1 code points). Borrowed when nothing needed escaping.
pub fn escape_str(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push_char(&mut out, c);
    }
    Cow::Owned(out)
}

/// Like [`escape_str`] for bytes that may not be UTF-8: valid UTF-8 runs are
/// escaped as text, each invalid byte becomes `\xNN`.
pub fn escape_bytes(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => escape_str(s),
        Err(_) => {
            let mut out = String::with_capacity(bytes.len() + 8);
            for chunk in bytes.utf8_chunks() {
                for c in chunk.valid().chars() {
                    push_char(&mut out, c);
                }
                for b in chunk.invalid() {
                    let _ = write!(out, "\\x{b:02x}");
                }
            }
            Cow::Owned(out)
        }
    }
}

/// Control characters, and the bidirectional-text controls (U+200E, U+200F,
/// U+202A–U+202E, U+2066–U+2069) that can make a terminal show text in an
/// order other than the bytes' ("Trojan Source").
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn push_char(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        c if (c as u32) < 0x80 && c.is_control() => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if needs_escape(c) => {
            let _ = write!(out, "\\u{{{:04x}}}", c as u32);
        }
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed() {
        assert!(matches!(escape_str("firefox (enforce)"), Cow::Borrowed(_)));
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            escape_str("a\x1b[31mb\nc\u{85}"),
            "a\\x1b[31mb\\nc\\u{0085}"
        );
    }

    #[test]
    fn bidi_controls_are_escaped() {
        assert_eq!(escape_str("a\u{202e}b"), "a\\u{202e}b");
    }

    #[test]
    fn invalid_utf8_bytes_are_hex() {
        assert_eq!(escape_bytes(b"ok\xffz\x07"), "ok\\xffz\\x07");
    }
}
