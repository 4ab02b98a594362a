//! Profile nodes: how a profile was introduced, its flags, and the profile itself.

use super::*;

/// How a profile head was introduced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileKind {
    /// `profile NAME …`.
    Profile,
    /// No keyword: `/path {`, `"…" {`, `:ns:name {`.
    Bare,
    /// `^NAME {`.
    Caret,
    /// `hat NAME {`.
    Hat,
}

/// `flags=(…)` or `(…)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flags {
    /// Written with `flags=`.
    pub keyword: bool,
    /// The flag words (`complain`, `attach_disconnected.path=/x`, …).
    pub flags: Vec<Word>,
    /// Location (from `flags` or `(` to `)`).
    pub span: Span,
}

/// A profile, hat or child profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Head form.
    pub kind: ProfileKind,
    /// Name (possibly `:ns:name`, a path, or containing `//`).
    pub name: Word,
    /// Attachment glob.
    pub attachment: Option<Word>,
    /// `xattrs=(…)` conditionals.
    pub xattrs: Option<Vec<Cond>>,
    /// Each `+ identities=(…)` list.
    pub identities: Vec<Vec<Word>>,
    /// Flags.
    pub flags: Option<Flags>,
    /// Body.
    pub items: Vec<Item>,
    /// The head: from its first byte to the end of its last token (before ` {`).
    pub head_span: Span,
    /// Whole profile.
    pub span: Span,
}

impl Profile {
    /// True for `^name` and `hat name`.
    pub fn is_hat(&self) -> bool {
        matches!(self.kind, ProfileKind::Caret | ProfileKind::Hat)
    }
    /// Direct child profiles and hats (also those inside `if` and qualifier blocks).
    pub fn children(&self) -> Vec<&Profile> {
        let mut v = Vec::new();
        collect_profiles(&self.items, &mut v);
        v
    }
}

pub(crate) fn collect_profiles<'a>(items: &'a [Item], out: &mut Vec<&'a Profile>) {
    for it in items {
        match it {
            Item::Profile(p) => out.push(p),
            Item::Block(b) => collect_profiles(&b.items, out),
            Item::If(i) => {
                let mut cur: &IfBlock = i;
                loop {
                    collect_profiles(&cur.then, out);
                    match &cur.otherwise {
                        Some(Else::If(n)) => cur = n,
                        Some(Else::Block(b)) => {
                            collect_profiles(b, out);
                            break;
                        }
                        None => break,
                    }
                }
            }
            _ => {}
        }
    }
}

impl PolicyFile {
    /// The top-level profiles, in order.
    pub fn profiles(&self) -> Vec<&Profile> {
        let mut v = Vec::new();
        collect_profiles(&self.items, &mut v);
        v
    }
}
