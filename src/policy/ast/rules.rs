//! Rule nodes: qualifiers, qualifier blocks, conditionals and every rule kind.

use super::*;

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

/// A file rule (`[file] PATH PERMS [-> TARGET],`); also the bare `file,` (no path, no perms).
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

/// Every rule kind the language has.
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
