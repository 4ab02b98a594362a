//! Building blocks of a suggested rule: log bytes as policy words (quoted
//! and escaped), conditionals, permission lists, and the [`NoRule`] reason.

use super::{Draft, NoRule};
use crate::log::Text;
use crate::policy::ast::*;
use std::fmt::Write as _;

/// Quotes and escapes raw bytes from a log as one policy word.
///
/// Control characters, bidirectional-text controls and bytes that are not
/// UTF-8 become `\xHH`; `"` and
/// `\` are escaped; with `literal`, the glob characters `* ? [ ] { } ^`
/// are escaped with `\` so that the rule matches exactly the name that was
/// logged (a `[`, `{` or `*` in a logged name stays a literal character).
/// The word is quoted when it contains blanks,
/// quotes or escapes, is empty, or ends with `,`; without `literal` also when
/// it contains any of `# ( ) =`, an unbalanced `{` or `}`, or a `,` outside
/// `{…}`.
pub fn policy_word(raw: &[u8], literal: bool) -> Word {
    let mut text = String::with_capacity(raw.len() + 4);
    let mut quoted = raw.is_empty() || raw.ends_with(b",");
    // `{…}` nesting (alternations in glob profile names stay unquoted)
    let mut depth = 0usize;
    for chunk in raw.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                ' ' => {
                    quoted = true;
                    text.push(c);
                }
                '"' | '\\' => {
                    quoted = true;
                    text.push('\\');
                    text.push(c);
                }
                '*' | '?' | '[' | ']' | '{' | '}' | '^' if literal => {
                    text.push('\\');
                    text.push(c);
                }
                '{' if !literal => {
                    depth += 1;
                    text.push(c);
                }
                '}' if !literal => {
                    // an unbalanced `}` could close a block
                    if depth == 0 {
                        quoted = true;
                    }
                    depth = depth.saturating_sub(1);
                    text.push(c);
                }
                ',' if !literal && depth == 0 => {
                    // a `,` outside alternation braces could end the rule
                    quoted = true;
                    text.push(c);
                }
                // apparmor_parser's lexer refuses a bare `!` in a path
                '!' => {
                    quoted = true;
                    text.push(c);
                }
                '#' | '(' | ')' | '=' if !literal => {
                    quoted = true;
                    text.push(c);
                }
                c if c.is_control() || is_bidi(c) => {
                    quoted = true;
                    let mut b = [0u8; 4];
                    for byte in c.encode_utf8(&mut b).bytes() {
                        let _ = write!(text, "\\x{byte:02x}");
                    }
                }
                c => text.push(c),
            }
        }
        for b in chunk.invalid() {
            quoted = true;
            let _ = write!(text, "\\x{b:02x}");
        }
    }
    Word {
        text,
        quoted: quoted || depth > 0,
        span: Span::default(),
    }
}

/// The bidirectional-text controls a terminal would act on (as in
/// `crate::escape`): written as `\xHH` bytes so that a suggested rule shows
/// the bytes it matches in their order.
fn is_bidi(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

pub(super) fn word(s: &str) -> Word {
    policy_word(s.as_bytes(), false)
}

pub(super) fn tword(t: &Text) -> Word {
    policy_word(t.as_bytes(), false)
}

pub(super) fn cond(name: &str, w: Word) -> Arg {
    Arg::Cond(Cond {
        name: name.into(),
        op: CondOp::Eq,
        value: CondValue::Single(w),
        span: Span::default(),
    })
}

pub(super) fn group(name: &str, conds: Vec<Cond>) -> Arg {
    Arg::Cond(Cond {
        name: name.into(),
        op: CondOp::Eq,
        value: CondValue::Group(conds),
        span: Span::default(),
    })
}

pub(super) fn single(name: &str, w: Word) -> Cond {
    Cond {
        name: name.into(),
        op: CondOp::Eq,
        value: CondValue::Single(w),
        span: Span::default(),
    }
}

/// Splits a mask like `send receive` or `send, receive` into sorted,
/// de-duplicated words.
pub(super) fn mask_words(m: &Text) -> Vec<String> {
    let s = m.to_str_lossy();
    let mut v: Vec<String> = s
        .split([' ', ','])
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Permission words: one bare word, or a parenthesised list.
pub(super) fn perms(words: Vec<String>) -> Option<Perms> {
    perms_in(words, false)
}

/// Permission words, parenthesised when `paren` or when there are several
/// (network and unix rules always use the list form, as the utils write them).
pub(super) fn perms_in(words: Vec<String>, paren: bool) -> Option<Perms> {
    if words.is_empty() {
        return None;
    }
    Some(Perms {
        paren: paren || words.len() > 1,
        words: words.iter().map(|w| word(w)).collect(),
    })
}

pub(super) fn entry(rule: Rule) -> Draft {
    Draft::Rule(RuleEntry {
        quals: Qualifiers::default(),
        rule,
        span: Span::default(),
    })
}

pub(super) fn no(s: impl Into<String>) -> Result<Draft, NoRule> {
    Err(NoRule(s.into()))
}
