//! Rule parsers: qualifiers, qualifier blocks and every rule kind.

use super::lex::*;
use super::{P, PResult, codes};
use crate::diag::Span;
use crate::policy::ast::*;

// The permission words each rule kind takes: the same tables the semantic checks use.
use crate::policy::check::tables::{
    DBUS_PERMS, IOURING_PERMS, MQUEUE_PERMS, NET_PERMS, SIGNAL_PERMS, USERNS_PERMS,
};
/// Ptrace words the grammar accepts; `write` parses here and is rejected later by
/// the semantic check (its table has no `write`), as apparmor_parser does.
const PTRACE_PERMS: &[&str] = &[
    "read", "readby", "trace", "tracedby", "write", "r", "w", "rw", "wr",
];

#[derive(Clone, Copy)]
enum Kind {
    Network,
    Unix,
    Dbus,
    Signal,
    Ptrace,
    Mount,
    Remount,
    Umount,
    PivotRoot,
    Mqueue,
    IoUring,
    Userns,
}

impl Kind {
    fn perms(self) -> &'static [&'static str] {
        match self {
            Kind::Network | Kind::Unix => NET_PERMS,
            Kind::Dbus => DBUS_PERMS,
            Kind::Signal => SIGNAL_PERMS,
            Kind::Ptrace => PTRACE_PERMS,
            Kind::Mqueue => MQUEUE_PERMS,
            Kind::IoUring => IOURING_PERMS,
            Kind::Userns => USERNS_PERMS,
            Kind::Mount | Kind::Remount | Kind::Umount | Kind::PivotRoot => &[],
        }
    }
    fn wrap(self, c: CondRule) -> Rule {
        match self {
            Kind::Network => Rule::Network(c),
            Kind::Unix => Rule::Unix(c),
            Kind::Dbus => Rule::Dbus(c),
            Kind::Signal => Rule::Signal(c),
            Kind::Ptrace => Rule::Ptrace(c),
            Kind::Mount => Rule::Mount(c),
            Kind::Remount => Rule::Remount(c),
            Kind::Umount => Rule::Umount(c),
            Kind::PivotRoot => Rule::PivotRoot(c),
            Kind::Mqueue => Rule::Mqueue(c),
            Kind::IoUring => Rule::IoUring(c),
            Kind::Userns => Rule::Userns(c),
        }
    }
    /// How many positional words (before the conditionals) the rule kind allows.
    fn max_words(self) -> usize {
        match self {
            Kind::Network => 2,
            Kind::Mqueue | Kind::Mount | Kind::Remount | Kind::Umount | Kind::PivotRoot => 1,
            Kind::Unix
            | Kind::Dbus
            | Kind::Signal
            | Kind::Ptrace
            | Kind::IoUring
            | Kind::Userns => 0,
        }
    }
    /// Whether `peer=(` opens a conditional group (else a flat label value).
    fn peer_group(self) -> bool {
        matches!(self, Kind::Network | Kind::Unix | Kind::Dbus)
    }
}

impl<'a> P<'a> {
    /// Qualifiers, then a qualifier block or a rule.
    pub(super) fn rule_or_block(&mut self, start: usize) -> PResult<Item> {
        let mut q = Qualifiers::default();
        let mut quals_end = start;
        if self.at_kw("priority") {
            let save = self.pos;
            self.pos += 8;
            self.blanks();
            if self.eat("=") {
                self.blanks();
                let at = self.pos;
                let Some(n) = self.lex(integer) else {
                    return self.unexpected("an integer after 'priority='");
                };
                match n.parse::<i64>() {
                    Ok(v) => q.priority = Some(v),
                    Err(_) => return self.err(codes::SYNTAX, at, format!("invalid priority {n}")),
                }
                quals_end = self.pos;
                self.ws();
            } else {
                self.pos = save;
            }
        }
        if self.eat_kw("audit") {
            q.audit = true;
            quals_end = self.pos;
            self.ws();
        }
        for (kw, a) in [
            ("allow", Access::Allow),
            ("deny", Access::Deny),
            ("prompt", Access::Prompt),
        ] {
            if self.eat_kw(kw) {
                q.access = Some(a);
                quals_end = self.pos;
                self.ws();
                break;
            }
        }
        for (kw, o) in [
            ("owner", Owner::Owner),
            ("user", Owner::Owner),
            ("other", Owner::Other),
        ] {
            if self.eat_kw(kw) {
                q.owner = Some(o);
                quals_end = self.pos;
                self.ws();
                break;
            }
        }
        q.span = Span::new(self.file, start..quals_end.max(start));
        if !q.is_empty() && self.peek() == Some(b'{') {
            let items = self.block()?;
            return Ok(Item::Block(QualBlock {
                quals: q,
                items,
                span: self.span(start),
            }));
        }
        let rule = self.rule(q.is_empty())?;
        Ok(Item::Rule(RuleEntry {
            quals: q,
            rule,
            span: self.span(start),
        }))
    }

    fn end_rule(&mut self) -> PResult<()> {
        self.ws();
        if self.eat(",") {
            return Ok(());
        }
        if self.peek().is_none() || self.peek() == Some(b'}') {
            return self.unexpected("',' at the end of the rule");
        }
        self.err(
            codes::MISSING_COMMA,
            self.pos,
            format!(
                "syntax error, unexpected {}: missing an end of line character? (entry ends before it)",
                super::describe(self.rest())
            ),
        )
    }

    fn rule(&mut self, bare: bool) -> PResult<Rule> {
        let kinds: &[(&'static str, Kind)] = &[
            ("network", Kind::Network),
            ("unix", Kind::Unix),
            ("dbus", Kind::Dbus),
            ("signal", Kind::Signal),
            ("ptrace", Kind::Ptrace),
            ("mount", Kind::Mount),
            ("remount", Kind::Remount),
            ("umount", Kind::Umount),
            ("unmount", Kind::Umount),
            ("pivot_root", Kind::PivotRoot),
            ("mqueue", Kind::Mqueue),
            ("io_uring", Kind::IoUring),
            ("userns", Kind::Userns),
        ];
        for (kw, k) in kinds {
            if self.eat_kw(kw) {
                return self.cond_rule(*k);
            }
        }
        if self.eat_kw("capability") {
            let mut names = Vec::new();
            loop {
                self.ws();
                if self.eat(",") {
                    return Ok(Rule::Capability(names));
                }
                if self.peek().is_none() || self.peek() == Some(b'}') {
                    return self.unexpected("',' at the end of the rule");
                }
                let w = self.word_by(rule_word, "a capability name")?;
                if !w.quoted && super::is_keyword(&w.text) {
                    return self.err(
                        codes::SYNTAX,
                        w.span.start as usize,
                        format!(
                            "syntax error, unexpected keyword '{}' in a capability rule",
                            w.text
                        ),
                    );
                }
                names.push(w);
            }
        }
        if self.eat_kw("link") {
            self.ws();
            let mut subset = false;
            if self.at_kw("subset") {
                self.pos += 6;
                subset = true;
                self.ws();
            }
            let from = self.ids_word("a link path")?;
            self.ws();
            self.expect("->")?;
            self.ws();
            let to = self.ids_word("a link target")?;
            self.end_rule()?;
            return Ok(Rule::Link(LinkRule { subset, from, to }));
        }
        if self.eat_kw("change_profile") {
            return self.change_profile();
        }
        if bare && self.at_kw("set") {
            return self.rlimit();
        }
        if self.at_kw("all") {
            let save = self.pos;
            self.pos += 3;
            self.ws();
            if self.eat(",") {
                return Ok(Rule::All);
            }
            self.pos = save;
        }
        let keyword = self.eat_kw("file");
        self.file_rule(keyword)
    }

    fn file_rule(&mut self, keyword: bool) -> PResult<Rule> {
        self.ws();
        if keyword && self.peek() == Some(b',') {
            self.pos += 1;
            return Ok(Rule::File(FileRule {
                keyword,
                exec_mod: None,
                path: None,
                perms: None,
                leading: false,
                subset: false,
                target: None,
            }));
        }
        let mut exec_mod = None;
        for (kw, m) in [("safe", ExecMod::Safe), ("unsafe", ExecMod::Unsafe)] {
            let rest = self.rest();
            if keyword_at(rest, kw) && matches!(rest.as_bytes().get(kw.len()), Some(b' ' | b'\t')) {
                self.pos += kw.len();
                exec_mod = Some(m);
                self.ws();
                break;
            }
        }
        let (path, perms, leading, subset) = if let Some(m) = self.modes_word() {
            self.ws();
            let mut subset = false;
            if self.at_kw("subset") {
                self.pos += 6;
                subset = true;
                self.ws();
            }
            let path = self.ids_word("a file path")?;
            (Some(path), Some(m), true, subset)
        } else {
            let path = self.ids_word("a file rule")?;
            if !path.quoted {
                if let Some(bad) = var_then_op(&path.text) {
                    return self.err(
                        codes::BAD_CHAR,
                        path.span.start as usize + bad,
                        format!(
                            "Lexer found unexpected character: '{}'",
                            &path.text[bad..bad + 1]
                        ),
                    );
                }
            }
            self.ws();
            let Some(m) = self.modes_word() else {
                return self.err(
                    codes::SYNTAX,
                    self.pos,
                    format!(
                        "syntax error, unexpected {}, expecting file permissions",
                        super::describe(self.rest())
                    ),
                );
            };
            (Some(path), Some(m), false, false)
        };
        self.ws();
        let target = self.arrow_target("a transition target")?;
        self.end_rule()?;
        Ok(Rule::File(FileRule {
            keyword,
            exec_mod,
            path,
            perms,
            leading,
            subset,
            target,
        }))
    }

    /// An optional `-> NAME` (a transition target or profile name; `what` names it in the
    /// error).
    fn arrow_target(&mut self, what: &str) -> PResult<Option<Word>> {
        if !self.eat("->") {
            return Ok(None);
        }
        self.ws();
        self.ids_word(what).map(Some)
    }

    fn modes_word(&mut self) -> Option<Word> {
        let start = self.pos;
        let m = self.lex(modes)?;
        Some(Word {
            text: m.to_string(),
            quoted: false,
            span: self.span(start),
        })
    }

    fn change_profile(&mut self) -> PResult<Rule> {
        self.ws();
        let mut exec_mod = None;
        for (kw, m) in [("safe", ExecMod::Safe), ("unsafe", ExecMod::Unsafe)] {
            let rest = self.rest();
            if keyword_at(rest, kw)
                && matches!(rest.as_bytes().get(kw.len()), Some(b' ' | b'\t' | b'\n'))
            {
                self.pos += kw.len();
                exec_mod = Some(m);
                self.ws();
                break;
            }
        }
        let mut exec = None;
        if !self.starts("->") && self.peek() != Some(b',') {
            exec = Some(self.ids_word("an exec condition")?);
            self.ws();
        }
        let target = self.arrow_target("a profile name")?;
        self.end_rule()?;
        Ok(Rule::ChangeProfile(ChangeProfileRule {
            exec_mod,
            exec,
            target,
        }))
    }

    fn rlimit(&mut self) -> PResult<Rule> {
        self.eat("set");
        self.ws();
        if !self.eat_kw("rlimit") {
            return self.unexpected("'rlimit'");
        }
        self.ws();
        let Some(res) = self.lex(ident) else {
            return self.unexpected("an rlimit name");
        };
        let resource = res.to_string();
        self.ws();
        self.expect("<=")?;
        self.ws();
        let value = self.word_by(|i| word_with(i, |c| c == b','), "an rlimit value")?;
        self.ws();
        let mut unit = None;
        if self.peek() != Some(b',') && self.peek().is_some() && self.peek() != Some(b'}') {
            unit = Some(self.word_by(|i| word_with(i, |c| c == b','), "a unit")?);
        }
        self.end_rule()?;
        Ok(Rule::Rlimit(RlimitRule {
            resource,
            value,
            unit,
        }))
    }

    /// `name=`, `name =`, `name:=` or `name in (` at the current position.
    fn cond_head(&mut self) -> Option<(String, CondOp)> {
        let start = self.pos;
        let name = self.lex(cond_ident)?;
        let after = self.pos;
        self.blanks();
        if self.eat(":=") {
            return Some((name.to_string(), CondOp::Assign));
        }
        if self.peek() == Some(b'=') && self.peek_at(1) != Some(b'=') {
            self.pos += 1;
            return Some((name.to_string(), CondOp::Eq));
        }
        if self.pos > after && self.eat_kw("in") {
            let save = self.pos;
            self.ws();
            if self.peek() == Some(b'(') {
                return Some((name.to_string(), CondOp::In));
            }
            self.pos = save;
        }
        self.pos = start;
        None
    }

    fn cond_rule(&mut self, kind: Kind) -> PResult<Rule> {
        let mut r = CondRule::default();
        loop {
            self.ws();
            let start = self.pos;
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    return Ok(kind.wrap(r));
                }
                None | Some(b'}') => return self.unexpected("',' at the end of the rule"),
                Some(b'(') if matches!(kind, Kind::Userns) => {
                    return self.err(
                        codes::SYNTAX,
                        start,
                        "Lexer found unexpected character: '(' in state: USERNS_MODE",
                    );
                }
                Some(b'(') if r.perms.is_none() && r.args.is_empty() => {
                    self.pos += 1;
                    let words = self.value_list()?;
                    r.perms = Some(Perms { words, paren: true });
                    continue;
                }
                _ => {}
            }
            if self.eat("->") {
                self.ws();
                r.target = Some(self.word_by(rule_word, "a target")?);
                continue;
            }
            if let Some((name, op)) = self.cond_head() {
                if op == CondOp::Assign {
                    // apparmor_parser's lexer knows `:=` only inside `peer=(…)`
                    return self.err(
                        codes::BAD_CHAR,
                        start + name.len(),
                        "Lexer found unexpected character: ':' (':=' is only allowed inside peer=(...))",
                    );
                }
                self.blanks();
                let value = if self.eat("(") {
                    if name == "peer" && kind.peer_group() {
                        CondValue::Group(self.cond_group()?)
                    } else {
                        CondValue::List(self.value_list()?)
                    }
                } else {
                    CondValue::Single(self.word_by(rule_word, "a conditional value")?)
                };
                r.args.push(Arg::Cond(Cond {
                    name,
                    op,
                    value,
                    span: self.span(start),
                }));
                continue;
            }
            let w = self.word_by(rule_word, "a rule argument")?;
            if r.perms.is_none()
                && r.args.is_empty()
                && !w.quoted
                && kind.perms().contains(&w.text.as_str())
            {
                r.perms = Some(Perms {
                    words: vec![w],
                    paren: false,
                });
            } else if r.words().count() >= kind.max_words()
                || (matches!(kind, Kind::Network) && r.conds().next().is_some())
            {
                return self.err(
                    codes::SYNTAX,
                    start,
                    format!(
                        "syntax error, unexpected '{}', expecting a conditional or ','",
                        crate::escape::escape_str(&w.text)
                    ),
                );
            } else {
                r.args.push(Arg::Word(w));
            }
        }
    }
}

fn keyword_at(s: &str, kw: &'static str) -> bool {
    keyword(kw)(s).is_ok()
}

/// `@{NAME}` directly followed by `+`, `?` or `=` ends the word in upstream's
/// lexer, leaving an unexpected character; returns its offset.
fn var_then_op(w: &str) -> Option<usize> {
    let rest = w.strip_prefix("@{")?;
    let end = rest.find('}')?;
    let after = 2 + end + 1;
    matches!(w.as_bytes().get(after), Some(b'+' | b'?' | b'=')).then_some(after)
}
