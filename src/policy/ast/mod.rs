//! The AST of the AppArmor profile language.
//!
//! Every node carries a [`Span`] (file id and byte range) whose equality always
//! holds, so two ASTs compare equal when they mean the same text regardless of
//! layout. Comments are kept as [`Item::Comment`] where they stand (a comment
//! on the same line after an item is `trailing`); a comment written inside a
//! construct (between the conditionals of a multi-line rule, inside a profile
//! head or an `if` condition) becomes an item right after that rule, or the
//! first item of that profile's or branch's body. Words keep their source
//! spelling ([`Word::text`], escapes unprocessed, quotes removed but recorded),
//! so printing with `Display` and re-parsing yields an equal AST.
//!
//! Synonyms are normalised while parsing: `user` → `owner`, `unmount` →
//! `umount`, `rewrite` → `alias`.

mod cond;
mod preamble;
mod print;
pub(crate) use print::{Layout, write_file};
mod profile;
mod rules;

pub use crate::diag::{FileId, Span};
pub use cond::*;
pub use preamble::*;
pub use profile::*;
pub use rules::*;

/// A word as written: text between quotes (or the bare token), escapes kept.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Word {
    /// Source spelling without the surrounding quotes (escapes unprocessed).
    pub text: String,
    /// Written as `"…"`.
    pub quoted: bool,
    /// Location (including the quotes).
    pub span: Span,
}

impl Word {
    /// A word with no location, quoted automatically when `text` contains
    /// blanks, `!`, `#`, parentheses, ends with `,` or is empty. `text` is
    /// policy source: glob characters (`* ? [ ] { }`) keep their meaning, so
    /// escape them (`\\*`) when they must match literally.
    pub fn new(text: impl Into<String>) -> Self {
        let text = text.into();
        let quoted = text.is_empty()
            || text
                .bytes()
                .any(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'!' | b'#' | b'(' | b')'))
            || text.ends_with(',');
        let text = if quoted {
            text.replace('\\', "\\\\").replace('"', "\\\"")
        } else {
            text
        };
        Word {
            text,
            quoted,
            span: Span::default(),
        }
    }
    /// The value with escapes processed: `\\ \" \a \e \f \n \r \t`,
    /// octal `\NNN`, decimal `\dNNN`, hex `\xHH`; other `\c` kept verbatim.
    pub fn value(&self) -> String {
        unescape(&self.text)
    }
}

/// Processes escapes as apparmor_parser does for a word: the escapes listed
/// at [`Word::value`] are decoded, any other backslash pair is kept.
pub fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' || i + 1 >= b.len() {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let c = b[i + 1];
        let simple = match c {
            b'\\' => Some(b'\\'),
            b'"' => Some(b'"'),
            b'a' => Some(7),
            b'e' => Some(27),
            b'f' => Some(12),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            _ => None,
        };
        if let Some(v) = simple {
            if c == b'\\' {
                out.extend_from_slice(b"\\\\");
            } else {
                out.push(v);
            }
            i += 2;
            continue;
        }
        let (radix, start, max) = match c {
            b'0'..=b'7' => (8, i + 1, 3),
            b'd' => (10, i + 2, 3),
            b'x' => (16, i + 2, 2),
            _ => (0, 0, 0),
        };
        if radix != 0 {
            let mut j = start;
            let mut v: u32 = 0;
            while j < b.len() && j < start + max && (b[j] as char).is_digit(radix) {
                v = v * radix + (b[j] as char).to_digit(radix).unwrap_or(0);
                j += 1;
            }
            if j > start && v <= 255 && v != 0 {
                let v = v as u8;
                if b"*?[]{}^,\\".contains(&v) {
                    out.push(b'\\');
                }
                out.push(v);
                i = j;
                continue;
            }
            if j > start && v == 0 {
                out.extend_from_slice(&b[i..j]);
                i = j;
                continue;
            }
        }
        out.push(b'\\');
        out.push(c);
        i += 2;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A parsed policy file: preamble items and profiles, in source order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PolicyFile {
    /// Top-level items (comments, includes, abi, variables, aliases, profiles).
    pub items: Vec<Item>,
    /// Whole file.
    pub span: Span,
}

/// One item of a file or of a block body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// `# text`.
    Comment(Comment),
    /// `include …` / `#include …`.
    Include(Include),
    /// `abi <…>,`.
    Abi(Abi),
    /// `@{VAR} op values…`.
    Variable(VarAssign),
    /// `${BOOL} op expr`.
    Boolean(BoolAssign),
    /// `alias A -> B,`.
    Alias(Alias),
    /// A profile, hat or child profile.
    Profile(Box<Profile>),
    /// A rule with its qualifiers.
    Rule(RuleEntry),
    /// `audit deny { … }` qualifier block.
    Block(QualBlock),
    /// `if expr { … } else …`.
    If(Box<IfBlock>),
}

impl Item {
    /// Location of the item.
    pub fn span(&self) -> Span {
        match self {
            Item::Comment(x) => x.span,
            Item::Include(x) => x.span,
            Item::Abi(x) => x.span,
            Item::Variable(x) => x.span,
            Item::Boolean(x) => x.span,
            Item::Alias(x) => x.span,
            Item::Profile(x) => x.span,
            Item::Rule(x) => x.span,
            Item::Block(x) => x.span,
            Item::If(x) => x.span,
        }
    }
}

/// A comment; `text` starts after the `#`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// Text after `#` up to the end of line (no newline).
    pub text: String,
    /// On the same line after the previous item of the same body.
    pub trailing: bool,
    /// Location.
    pub span: Span,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_rules_print() {
        let r = RuleEntry::new(
            Qualifiers {
                owner: Some(Owner::Owner),
                ..Default::default()
            },
            Rule::File(FileRule::new(Word::new("/home/a b/**"), "rw")),
        );
        assert_eq!(r.to_string(), "owner \"/home/a b/**\" rw,");
        let s = RuleEntry::new(
            Qualifiers::default(),
            Rule::Signal(CondRule {
                perms: Some(Perms {
                    words: vec![Word::new("send")],
                    paren: true,
                }),
                args: vec![
                    Arg::Cond(Cond::eq("set", Word::new("term"))),
                    Arg::Cond(Cond::eq("peer", Word::new("foo//&bar"))),
                ],
                target: None,
            }),
        );
        assert_eq!(s.to_string(), "signal (send) set=term peer=foo//&bar,");
        assert_eq!(unescape("a\\x41\\101\\d065\\*\\q"), "aAAA\\*\\q");
    }
}
