//! The canonical printer: `Display` for every node. Output re-parses to an
//! equal AST (`parse(print(ast)) == ast`). Bodies are indented by two spaces
//! per level; a trailing comment stays on the line of the item before it.

use super::*;
use std::fmt::{self, Display, Formatter, Write};

impl Display for Word {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.quoted {
            write!(f, "\"{}\"", self.text)
        } else {
            f.write_str(&self.text)
        }
    }
}

/// How bodies are laid out: `src` is the text the AST was parsed from, when
/// blank lines between items are to be kept (one blank line for a run of them).
#[derive(Clone, Copy, Default)]
pub(crate) struct Layout<'a> {
    pub src: Option<&'a str>,
    /// Top-level items of a file are written one level in, except the comments
    /// before the first other item (an include fragment spliced into profiles).
    pub body_fragment: bool,
}

impl Layout<'_> {
    /// Whether the source has a blank line between byte `a` (where the items
    /// before reach) and the start of `next`.
    fn blank_before(&self, a: usize, next: &Item) -> bool {
        let Some(src) = self.src else {
            return false;
        };
        let b = next.span().start as usize;
        if a >= b {
            return false;
        }
        let gap = src.get(a..b).unwrap_or("");
        // only whitespace counts: a comment moved out of a construct has no gap
        gap.trim().is_empty() && gap.matches('\n').count() >= 2
    }
}

fn write_items(f: &mut dyn Write, items: &[Item], indent: usize, lay: Layout<'_>) -> fmt::Result {
    // how far the items written so far reach in the source (a comment kept
    // from inside a multi-line rule lies before the rule's end)
    let mut reach: Option<usize> = None;
    for it in items {
        let end = it.span().end as usize;
        if let Item::Comment(c) = it {
            if c.trailing && reach.is_some() {
                write!(f, " #{}", c.text)?;
                reach = reach.max(Some(end));
                continue;
            }
        }
        if let Some(a) = reach {
            f.write_char('\n')?;
            if lay.blank_before(a, it) {
                f.write_char('\n')?;
            }
        }
        reach = reach.max(Some(end));
        write_item(f, it, indent, lay)?;
    }
    Ok(())
}

/// Writes a whole file with the layout `lay` (a final newline when not empty).
pub(crate) fn write_file(f: &mut dyn Write, file: &PolicyFile, lay: Layout<'_>) -> fmt::Result {
    if lay.body_fragment {
        let head = file
            .items
            .iter()
            .take_while(|i| matches!(i, Item::Comment(_)))
            .count();
        let (header, rest) = file.items.split_at(head);
        write_items(f, header, 0, lay)?;
        if let (Some(last), Some(next)) = (header.last(), rest.first()) {
            f.write_char('\n')?;
            if lay.blank_before(last.span().end as usize, next) {
                f.write_char('\n')?;
            }
        }
        write_items(f, rest, 1, lay)?;
    } else {
        write_items(f, &file.items, 0, lay)?;
    }
    if !file.items.is_empty() {
        f.write_char('\n')?;
    }
    Ok(())
}

fn pad(f: &mut dyn Write, indent: usize) -> fmt::Result {
    for _ in 0..indent {
        f.write_str("  ")?;
    }
    Ok(())
}

fn write_body(f: &mut dyn Write, items: &[Item], indent: usize, lay: Layout<'_>) -> fmt::Result {
    f.write_str("{")?;
    if !items.is_empty() {
        f.write_char('\n')?;
        write_items(f, items, indent + 1, lay)?;
    }
    f.write_char('\n')?;
    pad(f, indent)?;
    f.write_str("}")
}

fn write_item(f: &mut dyn Write, it: &Item, indent: usize, lay: Layout<'_>) -> fmt::Result {
    pad(f, indent)?;
    match it {
        Item::Comment(c) => write!(f, "#{}", c.text),
        Item::Include(i) => write!(f, "{i}"),
        Item::Abi(a) => write!(f, "{a}"),
        Item::Variable(v) => write!(f, "{v}"),
        Item::Boolean(b) => write!(f, "{b}"),
        Item::Alias(a) => write!(f, "{a}"),
        Item::Profile(p) => write_profile(f, p, indent, lay),
        Item::Rule(r) => write!(f, "{r}"),
        Item::Block(b) => {
            write!(f, "{}", QualsPrefix(&b.quals))?;
            write_body(f, &b.items, indent, lay)
        }
        Item::If(i) => write_if(f, i, indent, lay),
    }
}

fn write_if(f: &mut dyn Write, i: &IfBlock, indent: usize, lay: Layout<'_>) -> fmt::Result {
    write!(f, "if {} ", i.cond)?;
    write_body(f, &i.then, indent, lay)?;
    match &i.otherwise {
        None => Ok(()),
        Some(Else::If(n)) => {
            f.write_str(" else ")?;
            write_if(f, n, indent, lay)
        }
        Some(Else::Block(b)) => {
            f.write_str(" else ")?;
            write_body(f, b, indent, lay)
        }
    }
}

impl Display for IncludeTarget {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            IncludeTarget::Angle {
                name,
                quoted: false,
            } => write!(f, "<{name}>"),
            IncludeTarget::Angle { name, quoted: true } => write!(f, "<\"{name}\">"),
            IncludeTarget::Quoted(n) => write!(f, "\"{n}\""),
            IncludeTarget::Bare(n) => f.write_str(n),
        }
    }
}

impl Display for Include {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(if self.hash { "#include " } else { "include " })?;
        if self.if_exists {
            f.write_str("if exists ")?;
        }
        write!(f, "{}", self.target)
    }
}

impl Display for Abi {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "abi {},", self.target)
    }
}

impl Display for VarAssign {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "@{{{}}} {}", self.name, self.op.as_str())?;
        for v in &self.values {
            write!(f, " {v}")?;
        }
        Ok(())
    }
}

impl Display for BoolAssign {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "${{{}}} {} {}", self.name, self.op.as_str(), self.value)
    }
}

impl Display for Alias {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "alias {} -> {},", self.from, self.to)
    }
}

impl Display for Profile {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_profile(f, self, 0, Layout::default())
    }
}

/// Writes the head of a profile (everything before ` {`).
pub(crate) fn write_head(f: &mut dyn Write, p: &Profile) -> fmt::Result {
    match p.kind {
        ProfileKind::Profile => write!(f, "profile {}", p.name)?,
        ProfileKind::Bare => write!(f, "{}", p.name)?,
        ProfileKind::Caret => write!(f, "^{}", p.name)?,
        ProfileKind::Hat => write!(f, "hat {}", p.name)?,
    }
    if let Some(a) = &p.attachment {
        write!(f, " {a}")?;
    }
    if let Some(x) = &p.xattrs {
        f.write_str(" xattrs=(")?;
        write_conds(f, x)?;
        f.write_str(")")?;
    }
    for ids in &p.identities {
        f.write_str(" + identities=(")?;
        for (i, w) in ids.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{w}")?;
        }
        f.write_str(")")?;
    }
    if let Some(fl) = &p.flags {
        write!(f, " {fl}")?;
    }
    Ok(())
}

impl Display for Flags {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.keyword {
            f.write_str("flags=")?;
        }
        f.write_str("(")?;
        for (i, w) in self.flags.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{w}")?;
        }
        f.write_str(")")
    }
}

fn write_profile(f: &mut dyn Write, p: &Profile, indent: usize, lay: Layout<'_>) -> fmt::Result {
    write_head(f, p)?;
    f.write_str(" ")?;
    write_body(f, &p.items, indent, lay)
}

struct QualsPrefix<'a>(&'a Qualifiers);

impl Display for QualsPrefix<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let q = self.0;
        if let Some(p) = q.priority {
            write!(f, "priority={p} ")?;
        }
        if q.audit {
            f.write_str("audit ")?;
        }
        match q.access {
            Some(Access::Allow) => f.write_str("allow ")?,
            Some(Access::Deny) => f.write_str("deny ")?,
            Some(Access::Prompt) => f.write_str("prompt ")?,
            None => {}
        }
        match q.owner {
            Some(Owner::Owner) => f.write_str("owner ")?,
            Some(Owner::Other) => f.write_str("other ")?,
            None => {}
        }
        Ok(())
    }
}

impl Display for Qualifiers {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let s = QualsPrefix(self).to_string();
        f.write_str(s.trim_end())
    }
}

impl Display for RuleEntry {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}{},", QualsPrefix(&self.quals), self.rule)
    }
}

fn write_conds(f: &mut dyn Write, conds: &[Cond]) -> fmt::Result {
    for (i, c) in conds.iter().enumerate() {
        if i > 0 {
            f.write_str(" ")?;
        }
        write!(f, "{c}")?;
    }
    Ok(())
}

fn write_words(f: &mut dyn Write, words: &[Word], sep: &str) -> fmt::Result {
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        write!(f, "{w}")?;
    }
    Ok(())
}

impl Display for Cond {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        let op = match self.op {
            CondOp::Eq => "=",
            CondOp::In => " in ",
            CondOp::Assign => ":=",
        };
        match &self.value {
            CondValue::None => Ok(()),
            CondValue::Single(w) => write!(f, "{op}{w}"),
            CondValue::List(v) => {
                // Commas, as the utils write lists (`options=(rw, nosuid)`); the
                // grammar accepts blanks and commas alike.
                write!(f, "{op}(")?;
                write_words(f, v, ", ")?;
                f.write_str(")")
            }
            CondValue::Group(g) => {
                write!(f, "{op}(")?;
                write_conds(f, g)?;
                f.write_str(")")
            }
        }
    }
}

impl Display for Perms {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.paren {
            f.write_str("(")?;
            write_words(f, &self.words, ", ")?;
            f.write_str(")")
        } else {
            write_words(f, &self.words, " ")
        }
    }
}

impl Display for CondRule {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if let Some(p) = &self.perms {
            write!(f, " {p}")?;
        }
        for a in &self.args {
            match a {
                Arg::Cond(c) => write!(f, " {c}")?,
                Arg::Word(w) => write!(f, " {w}")?,
            }
        }
        if let Some(t) = &self.target {
            write!(f, " -> {t}")?;
        }
        Ok(())
    }
}

fn exec_mod(m: ExecMod) -> &'static str {
    match m {
        ExecMod::Safe => "safe ",
        ExecMod::Unsafe => "unsafe ",
    }
}

impl Display for Rule {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Rule::File(r) => {
                let mut parts: Vec<String> = Vec::new();
                if r.keyword {
                    parts.push("file".into());
                }
                if let Some(m) = r.exec_mod {
                    parts.push(exec_mod(m).trim_end().into());
                }
                let perms = r.perms.as_ref().map(|p| p.to_string());
                if r.leading {
                    if let Some(p) = &perms {
                        parts.push(p.clone());
                    }
                    if r.subset {
                        parts.push("subset".into());
                    }
                    if let Some(p) = &r.path {
                        parts.push(p.to_string());
                    }
                } else {
                    if let Some(p) = &r.path {
                        parts.push(p.to_string());
                    }
                    if let Some(p) = &perms {
                        parts.push(p.clone());
                    }
                }
                if let Some(t) = &r.target {
                    parts.push(format!("-> {t}"));
                }
                f.write_str(&parts.join(" "))
            }
            Rule::Link(l) => {
                f.write_str("link ")?;
                if l.subset {
                    f.write_str("subset ")?;
                }
                write!(f, "{} -> {}", l.from, l.to)
            }
            Rule::Capability(c) => {
                f.write_str("capability")?;
                for w in c {
                    write!(f, " {w}")?;
                }
                Ok(())
            }
            Rule::Network(c)
            | Rule::Unix(c)
            | Rule::Dbus(c)
            | Rule::Signal(c)
            | Rule::Ptrace(c)
            | Rule::Mount(c)
            | Rule::Remount(c)
            | Rule::Umount(c)
            | Rule::PivotRoot(c)
            | Rule::Mqueue(c)
            | Rule::IoUring(c)
            | Rule::Userns(c) => write!(f, "{}{c}", self.keyword()),
            Rule::ChangeProfile(c) => {
                f.write_str("change_profile")?;
                if let Some(m) = c.exec_mod {
                    write!(f, " {}", exec_mod(m).trim_end())?;
                }
                if let Some(e) = &c.exec {
                    write!(f, " {e}")?;
                }
                if let Some(t) = &c.target {
                    write!(f, " -> {t}")?;
                }
                Ok(())
            }
            Rule::Rlimit(r) => {
                write!(f, "set rlimit {} <= {}", r.resource, r.value)?;
                if let Some(u) = &r.unit {
                    write!(f, " {u}")?;
                }
                Ok(())
            }
            Rule::All => f.write_str("all"),
        }
    }
}

impl Display for Operand {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Var(v) => write!(f, "@{{{v}}}"),
            Operand::Word(w) => write!(f, "{w}"),
        }
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Bool(n) => write!(f, "${{{n}}}"),
            Expr::Defined { name, set: true } => write!(f, "defined @{{{name}}}"),
            Expr::Defined { name, set: false } => write!(f, "defined ${{{name}}}"),
            Expr::Not(e) => write!(f, "not {e}"),
            Expr::And(a, b) => write!(f, "{a} and {b}"),
            Expr::Or(a, b) => write!(f, "{a} or {b}"),
            Expr::Paren(e) => write!(f, "({e})"),
            Expr::Cmp(a, op, b) => write!(f, "{a} {} {b}", op.as_str()),
            Expr::Operand(o) => write!(f, "{o}"),
        }
    }
}

impl Display for Item {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_item(f, self, 0, Layout::default())
    }
}

impl Display for PolicyFile {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_file(f, self, Layout::default())
    }
}
