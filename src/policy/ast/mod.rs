//! The AST of the AppArmor profile language (spec/policy-language.md §2).
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

mod print;

pub use crate::diag::{FileId, Span};

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
    /// The value with escapes processed (spec §1.3): `\\ \" \a \e \f \n \r \t`,
    /// octal `\NNN`, decimal `\dNNN`, hex `\xHH`; other `\c` kept verbatim.
    pub fn value(&self) -> String {
        unescape(&self.text)
    }
}

/// Processes escapes as apparmor_parser's `processunquoted` does (spec §1.3).
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

/// Target of an include or abi rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IncludeTarget {
    /// `<name>` (search path); `quoted` for `<"name">`.
    Angle {
        /// The name, blanks trimmed.
        name: String,
        /// Written `<"…">`.
        quoted: bool,
    },
    /// `"name"`: literal path.
    Quoted(String),
    /// `name`: bare literal path.
    Bare(String),
}

impl IncludeTarget {
    /// The name inside the delimiters.
    pub fn name(&self) -> &str {
        match self {
            IncludeTarget::Angle { name, .. } => name,
            IncludeTarget::Quoted(n) | IncludeTarget::Bare(n) => n,
        }
    }
    /// True for the `<…>` search-path form.
    pub fn is_search(&self) -> bool {
        matches!(self, IncludeTarget::Angle { .. })
    }
}

/// `include [if exists] TARGET` (or the deprecated `#include`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Include {
    /// Spelled `#include`.
    pub hash: bool,
    /// `if exists`: a missing target is ignored.
    pub if_exists: bool,
    /// What to include.
    pub target: IncludeTarget,
    /// Location.
    pub span: Span,
}

/// `abi TARGET,`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Abi {
    /// The ABI file.
    pub target: IncludeTarget,
    /// Location.
    pub span: Span,
}

/// Variable assignment operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignOp {
    /// `=` define.
    Set,
    /// `+=` append.
    Append,
    /// `?=` define if undefined (6.0).
    SetDefault,
    /// `:=` replace (6.0).
    Replace,
}

impl AssignOp {
    /// Source spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AssignOp::Set => "=",
            AssignOp::Append => "+=",
            AssignOp::SetDefault => "?=",
            AssignOp::Replace => ":=",
        }
    }
}

/// `@{NAME} op value…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarAssign {
    /// Name without `@{}`.
    pub name: String,
    /// Operator.
    pub op: AssignOp,
    /// Values (possibly empty `""`).
    pub values: Vec<Word>,
    /// Location.
    pub span: Span,
}

/// `${NAME} op expr`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoolAssign {
    /// Name without `${}`.
    pub name: String,
    /// Operator.
    pub op: AssignOp,
    /// Value (3.0.8: a literal `true`/`false`).
    pub value: Expr,
    /// Location.
    pub span: Span,
}

/// `alias FROM -> TO,`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    /// Original prefix.
    pub from: Word,
    /// Replacement prefix.
    pub to: Word,
    /// Location.
    pub span: Span,
}

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

/// `allow` / `deny` / `prompt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `allow`.
    Allow,
    /// `deny`.
    Deny,
    /// `prompt` (6.0).
    Prompt,
}

/// `owner` (also spelled `user`) / `other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// `owner` / `user`.
    Owner,
    /// `other`.
    Other,
}

/// Rule qualifiers in their fixed order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Qualifiers {
    /// `priority=N` (6.0); kept as written.
    pub priority: Option<i64>,
    /// `audit`.
    pub audit: bool,
    /// `allow`/`deny`/`prompt`.
    pub access: Option<Access>,
    /// `owner`/`other`.
    pub owner: Option<Owner>,
    /// Location of the qualifier words (empty when there are none).
    pub span: Span,
}

impl Qualifiers {
    /// True when no qualifier is present.
    pub fn is_empty(&self) -> bool {
        self.priority.is_none() && !self.audit && self.access.is_none() && self.owner.is_none()
    }
}

/// A rule with qualifiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleEntry {
    /// Qualifiers (`priority=`, `audit`, `deny`, `owner`, …).
    pub quals: Qualifiers,
    /// The rule.
    pub rule: Rule,
    /// Location (qualifiers to `,`).
    pub span: Span,
}

/// A qualifier block: `audit deny { … }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualBlock {
    /// The block's qualifiers.
    pub quals: Qualifiers,
    /// Body.
    pub items: Vec<Item>,
    /// Location.
    pub span: Span,
}

/// `if` with optional `else`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfBlock {
    /// Condition.
    pub cond: Expr,
    /// Items of the taken branch.
    pub then: Vec<Item>,
    /// `else if …` or `else { … }`.
    pub otherwise: Option<Else>,
    /// Location.
    pub span: Span,
}

/// The `else` part of an [`IfBlock`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Else {
    /// `else if …`.
    If(Box<IfBlock>),
    /// `else { … }`.
    Block(Vec<Item>),
}

/// Comparison operator in conditions (6.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `==`.
    Eq,
    /// `!=`.
    Ne,
    /// `in` (subset).
    In,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
}

impl CmpOp {
    /// Source spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::In => "in",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
        }
    }
}

/// A boolean expression (spec §2.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// `$NAME` / `${NAME}` (name stored without sigils).
    Bool(String),
    /// `defined @{X}` / `defined $X` (`set` tells which).
    Defined {
        /// Variable name.
        name: String,
        /// A set variable `@{…}`.
        set: bool,
    },
    /// `not e`.
    Not(Box<Expr>),
    /// `a and b`.
    And(Box<Expr>, Box<Expr>),
    /// `a or b`.
    Or(Box<Expr>, Box<Expr>),
    /// `( e )`.
    Paren(Box<Expr>),
    /// `a OP b`.
    Cmp(Operand, CmpOp, Operand),
    /// A lone operand (literal `true`/`false`).
    Operand(Operand),
}

/// Operand of a comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    /// `@{NAME}`.
    Var(String),
    /// A literal word.
    Word(Word),
}

/// Conditional operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CondOp {
    /// `=`.
    Eq,
    /// `in`.
    In,
    /// `:=`.
    Assign,
}

/// Value of a conditional.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CondValue {
    /// Bare `name` (only inside groups).
    None,
    /// `name=value`.
    Single(Word),
    /// `name=(v1 v2 …)`.
    List(Vec<Word>),
    /// `peer=(a=… b=…)`.
    Group(Vec<Cond>),
}

/// `name=value` style conditional.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cond {
    /// Conditional name (`type`, `peer`, `options`, …).
    pub name: String,
    /// Operator (ignored for [`CondValue::None`]).
    pub op: CondOp,
    /// Value.
    pub value: CondValue,
    /// Location.
    pub span: Span,
}

impl Cond {
    /// The values as a flat list (single, list; empty for none/group).
    pub fn values(&self) -> Vec<&Word> {
        match &self.value {
            CondValue::Single(w) => vec![w],
            CondValue::List(v) => v.iter().collect(),
            _ => Vec::new(),
        }
    }
}

/// `safe` / `unsafe` exec modifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecMod {
    /// `safe`.
    Safe,
    /// `unsafe`.
    Unsafe,
}

/// A file rule (spec §2.8); also the bare `file,` (no path, no perms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRule {
    /// Written with the `file` keyword.
    pub keyword: bool,
    /// `safe`/`unsafe`.
    pub exec_mod: Option<ExecMod>,
    /// Path glob (None only for bare `file,`).
    pub path: Option<Word>,
    /// Permission string as written (`rw`, `Pix`, …).
    pub perms: Option<Word>,
    /// Permissions were written before the path.
    pub leading: bool,
    /// `subset` (leading form only).
    pub subset: bool,
    /// `-> target` (exec target or link target).
    pub target: Option<Word>,
}

/// `link [subset] FROM -> TO,`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRule {
    /// `subset`.
    pub subset: bool,
    /// Link path.
    pub from: Word,
    /// Target path.
    pub to: Word,
}

/// Permissions of a non-file rule: one word or a parenthesised list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Perms {
    /// The words.
    pub words: Vec<Word>,
    /// Written in parentheses.
    pub paren: bool,
}

/// One argument of a conditional rule, in source order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// `name=value` (including `peer=(…)` as a group).
    Cond(Cond),
    /// A positional word (network family/type, mount source, queue name, …).
    Word(Word),
}

/// The shared shape of network, unix, dbus, signal, ptrace, mount, remount,
/// umount, pivot_root, mqueue, io_uring and userns rules.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CondRule {
    /// Leading permissions.
    pub perms: Option<Perms>,
    /// Conditionals and positional words in source order.
    pub args: Vec<Arg>,
    /// `-> target` (mount point, pivot_root target).
    pub target: Option<Word>,
}

impl CondRule {
    /// The conditionals.
    pub fn conds(&self) -> impl Iterator<Item = &Cond> {
        self.args.iter().filter_map(|a| match a {
            Arg::Cond(c) => Some(c),
            Arg::Word(_) => None,
        })
    }
    /// The positional words.
    pub fn words(&self) -> impl Iterator<Item = &Word> {
        self.args.iter().filter_map(|a| match a {
            Arg::Word(w) => Some(w),
            Arg::Cond(_) => None,
        })
    }
    /// The first conditional named `name`.
    pub fn cond(&self, name: &str) -> Option<&Cond> {
        self.conds().find(|c| c.name == name)
    }
}

/// `change_profile [safe|unsafe] [EXEC] [-> TARGET],`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeProfileRule {
    /// `safe`/`unsafe`.
    pub exec_mod: Option<ExecMod>,
    /// Exec condition.
    pub exec: Option<Word>,
    /// Target profile.
    pub target: Option<Word>,
}

/// `set rlimit NAME <= VALUE [UNIT],`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RlimitRule {
    /// Limit name (`nofile`, `cpu`, …).
    pub resource: String,
    /// Value (`10`, `infinity`, `-5`, `1G`).
    pub value: Word,
    /// Unit written as a separate word (`1 G`).
    pub unit: Option<Word>,
}

/// Every rule kind of spec §2.8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// File rule or bare `file,`.
    File(FileRule),
    /// `link …`.
    Link(LinkRule),
    /// `capability NAME…,` (empty = all).
    Capability(Vec<Word>),
    /// `network …`.
    Network(CondRule),
    /// `unix …`.
    Unix(CondRule),
    /// `dbus …`.
    Dbus(CondRule),
    /// `signal …`.
    Signal(CondRule),
    /// `ptrace …`.
    Ptrace(CondRule),
    /// `mount …`.
    Mount(CondRule),
    /// `remount …`.
    Remount(CondRule),
    /// `umount …` / `unmount …`.
    Umount(CondRule),
    /// `pivot_root …`.
    PivotRoot(CondRule),
    /// `mqueue …`.
    Mqueue(CondRule),
    /// `io_uring …`.
    IoUring(CondRule),
    /// `userns …`.
    Userns(CondRule),
    /// `change_profile …`.
    ChangeProfile(ChangeProfileRule),
    /// `set rlimit …` (takes no qualifiers).
    Rlimit(RlimitRule),
    /// `all,`.
    All,
}

impl Rule {
    /// The rule keyword (`file` for file rules).
    pub fn keyword(&self) -> &'static str {
        match self {
            Rule::File(_) => "file",
            Rule::Link(_) => "link",
            Rule::Capability(_) => "capability",
            Rule::Network(_) => "network",
            Rule::Unix(_) => "unix",
            Rule::Dbus(_) => "dbus",
            Rule::Signal(_) => "signal",
            Rule::Ptrace(_) => "ptrace",
            Rule::Mount(_) => "mount",
            Rule::Remount(_) => "remount",
            Rule::Umount(_) => "umount",
            Rule::PivotRoot(_) => "pivot_root",
            Rule::Mqueue(_) => "mqueue",
            Rule::IoUring(_) => "io_uring",
            Rule::Userns(_) => "userns",
            Rule::ChangeProfile(_) => "change_profile",
            Rule::Rlimit(_) => "rlimit",
            Rule::All => "all",
        }
    }
}

impl RuleEntry {
    /// A rule with qualifiers and no location (for building rules to print).
    pub fn new(quals: Qualifiers, rule: Rule) -> Self {
        RuleEntry {
            quals,
            rule,
            span: Span::default(),
        }
    }
}

impl Cond {
    /// `name=value` with no location.
    pub fn eq(name: impl Into<String>, value: Word) -> Self {
        Cond {
            name: name.into(),
            op: CondOp::Eq,
            value: CondValue::Single(value),
            span: Span::default(),
        }
    }
}

impl FileRule {
    /// `PATH PERMS` (trailing permissions) with no location.
    pub fn new(path: Word, perms: &str) -> Self {
        FileRule {
            keyword: false,
            exec_mod: None,
            path: Some(path),
            perms: Some(Word::new(perms)),
            leading: false,
            subset: false,
            target: None,
        }
    }
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
