//! The nom-based parser for the whole language (spec §1–§4).
//!
//! The parser never fails and never panics: it returns an AST plus
//! [`Diagnostic`]s, recovering after an error at the next `,` that ends a
//! rule, the next `}` or the next line end. Nesting depth and input size are
//! bounded by named limits.

mod lex;
mod rules;

use crate::diag::{Diagnostic, FileId, Span};
use crate::policy::ast::*;
use lex::*;

/// Deepest nesting of profile, hat, qualifier and `if` blocks (and of
/// parentheses in conditions). apparmor_parser has no fixed limit; this keeps
/// the parser's stack bounded on hostile input.
pub const MAX_NESTING: usize = 128;

/// Most syntax errors reported for one text; parsing stops after that many
/// (each error costs memory, and a binary file would produce one per line).
pub const MAX_DIAGNOSTICS: usize = 200;

/// Largest policy text accepted (bytes); longer inputs are diagnosed, not parsed.
pub const MAX_POLICY_FILE_BYTES: usize = 64 * 1024 * 1024;

/// Diagnostic codes emitted by the parser.
pub mod codes {
    /// Generic syntax error ("syntax error, unexpected …").
    pub const SYNTAX: &str = "P0001";
    /// Unterminated quoted string.
    pub const UNTERMINATED_QUOTE: &str = "P0002";
    /// Missing or unexpected `}` (block not closed / closed twice).
    pub const UNBALANCED: &str = "P0003";
    /// Nesting deeper than [`super::MAX_NESTING`].
    pub const NESTING: &str = "P0004";
    /// "Variable declarations do not accept trailing commas".
    pub const VAR_TRAILING_COMMA: &str = "P0005";
    /// "Profile names must begin with a '/', namespace or keyword 'profile' or 'hat'".
    pub const PROFILE_NAME: &str = "P0006";
    /// Preamble item (variable, alias) inside a profile, or rule outside one.
    pub const MISPLACED: &str = "P0007";
    /// Input larger than [`super::MAX_POLICY_FILE_BYTES`].
    pub const TOO_LARGE: &str = "P0008";
    /// A rule that does not end with `,` ("missing an end of line character?").
    pub const MISSING_COMMA: &str = "P0009";
    /// A NUL byte or other unexpected character.
    pub const BAD_CHAR: &str = "P0010";
    /// More than [`super::MAX_DIAGNOSTICS`] errors; the rest was skipped.
    pub const TOO_MANY: &str = "P0011";
}

/// What the parser produced: the AST and everything it had to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The (possibly partial) AST.
    pub ast: PolicyFile,
    /// Syntax diagnostics, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Parsed {
    /// True when no diagnostic is an error.
    pub fn is_ok(&self) -> bool {
        !self.diagnostics.iter().any(|d| d.is_error())
    }
}

/// How top-level items are interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A profile file: preamble then profiles (rules at top level are errors).
    Policy,
    /// An include fragment (abstraction or tunables): preamble items and
    /// rules are both accepted at top level, as the file may be spliced into
    /// either place.
    Fragment,
}

/// Parses `text` (registered as `file`) in the given mode.
pub fn parse(text: &str, file: FileId, mode: Mode) -> Parsed {
    let mut p = P {
        src: text,
        pos: 0,
        file,
        diags: Vec::new(),
        depth: 0,
        mode,
        pending: Default::default(),
    };
    if text.len() > MAX_POLICY_FILE_BYTES {
        let d = Diagnostic::error(
            codes::TOO_LARGE,
            p.span(0),
            format!("policy file is larger than {MAX_POLICY_FILE_BYTES} bytes"),
        );
        return Parsed {
            ast: PolicyFile::default(),
            diagnostics: vec![d],
        };
    }
    let items = p.items(true);
    let ast = PolicyFile {
        items,
        span: Span::new(file, 0..text.len()),
    };
    Parsed {
        ast,
        diagnostics: p.diags,
    }
}

/// A parse error at a position; turned into a diagnostic by the recovery loop.
pub(crate) struct PErr {
    pub code: &'static str,
    pub at: usize,
    pub msg: String,
}

pub(crate) type PResult<T> = Result<T, PErr>;

pub(crate) struct P<'a> {
    pub src: &'a str,
    pub pos: usize,
    pub file: FileId,
    pub diags: Vec<Diagnostic>,
    pub depth: usize,
    pub mode: Mode,
    pub pending: std::collections::BTreeMap<usize, Comment>,
}

impl<'a> P<'a> {
    pub fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }
    pub fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }
    pub fn peek_at(&self, n: usize) -> Option<u8> {
        self.src.as_bytes().get(self.pos + n).copied()
    }
    pub fn span(&self, start: usize) -> Span {
        Span::new(self.file, start..self.pos.max(start))
    }
    /// Runs a nom parser at the current position; advances on success.
    pub fn lex<O>(
        &mut self,
        f: impl nom::Parser<&'a str, Output = O, Error = nom::error::Error<&'a str>>,
    ) -> Option<O> {
        let mut f = f;
        match f.parse(self.rest()) {
            Ok((rest, o)) => {
                self.pos = self.src.len() - rest.len();
                Some(o)
            }
            Err(_) => None,
        }
    }
    pub fn starts(&self, s: &str) -> bool {
        self.rest().starts_with(s)
    }
    pub fn eat(&mut self, s: &str) -> bool {
        if self.starts(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }
    pub fn eat_kw(&mut self, kw: &'static str) -> bool {
        self.lex(keyword(kw)).is_some()
    }
    pub fn at_kw(&self, kw: &'static str) -> bool {
        keyword(kw)(self.rest()).is_ok()
    }
    pub fn blanks(&mut self) {
        self.lex(blanks);
    }
    /// Skips blanks, line ends and comments. Comments inside a construct
    /// (a multi-line rule, a profile head) are kept in `pending` and emitted
    /// as items right after it.
    pub fn ws(&mut self) {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n') => self.pos += 1,
                Some(b'\r') if self.peek_at(1) == Some(b'\n') => self.pos += 2,
                Some(b'#') if !is_hash_include(self.rest()) => {
                    let start = self.pos;
                    let text = self.lex(comment).unwrap_or_default().to_string();
                    // kept, and placed after the construct it sits in
                    self.pending.insert(
                        start,
                        Comment {
                            text,
                            trailing: false,
                            span: self.span(start),
                        },
                    );
                }
                _ => break,
            }
        }
    }
    pub fn err<T>(&self, code: &'static str, at: usize, msg: impl Into<String>) -> PResult<T> {
        Err(PErr {
            code,
            at,
            msg: msg.into(),
        })
    }
    /// "syntax error, unexpected X" at the current position.
    pub fn unexpected<T>(&self, expected: &str) -> PResult<T> {
        let found = describe(self.rest());
        self.err(
            codes::SYNTAX,
            self.pos,
            format!("syntax error, unexpected {found}, expecting {expected}"),
        )
    }
    pub fn expect(&mut self, s: &str) -> PResult<()> {
        if self.eat(s) {
            Ok(())
        } else {
            self.unexpected(&format!("'{s}'"))
        }
    }
    /// A quoted word or a word scanned with `scan`.
    pub fn word_by(
        &mut self,
        scan: impl Fn(&'a str) -> nom::IResult<&'a str, &'a str>,
        what: &str,
    ) -> PResult<Word> {
        let start = self.pos;
        if self.peek() == Some(b'"') {
            return match self.lex(quoted) {
                Some(t) => Ok(Word {
                    text: t.to_string(),
                    quoted: true,
                    span: self.span(start),
                }),
                None => self.err(
                    codes::UNTERMINATED_QUOTE,
                    start,
                    "unterminated quoted string",
                ),
            };
        }
        match self.lex(scan) {
            Some(t) => Ok(Word {
                text: t.to_string(),
                quoted: false,
                span: self.span(start),
            }),
            None => self.unexpected(what),
        }
    }
    pub fn ids_word(&mut self, what: &str) -> PResult<Word> {
        self.word_by(ids, what)
    }

    fn record(&mut self, e: PErr) {
        if self.diags.len() >= MAX_DIAGNOSTICS {
            return;
        }
        if self.diags.len() + 1 == MAX_DIAGNOSTICS {
            self.diags.push(Diagnostic::error(
                codes::TOO_MANY,
                Span::new(self.file, e.at..e.at),
                format!("too many errors ({MAX_DIAGNOSTICS}); giving up on the rest of the file"),
            ));
            self.pos = self.src.len();
            return;
        }
        let end = (e.at + 1).min(self.src.len()).max(e.at);
        let mut end = end;
        while end < self.src.len() && !self.src.is_char_boundary(end) {
            end += 1;
        }
        self.diags.push(Diagnostic::error(
            e.code,
            Span::new(self.file, e.at..end),
            e.msg,
        ));
    }

    /// Skips past the error: to after the next rule-ending `,`, or to the next
    /// line end, stopping before a `}`. Always makes progress.
    fn recover(&mut self, from: usize) {
        let start = self.pos.max(from);
        let b = self.src.as_bytes();
        let mut k = start;
        let mut in_quote = false;
        while k < b.len() {
            let c = b[k];
            if in_quote {
                if c == b'\\' {
                    k += 2;
                    continue;
                }
                if c == b'"' {
                    in_quote = false;
                }
                if c == b'\n' {
                    break;
                }
                k += 1;
                continue;
            }
            match c {
                b'"' => in_quote = true,
                b'\n' => {
                    k += 1;
                    break;
                }
                b'}' if (k > start || self.pos > from)
                    && (k == 0 || matches!(b[k - 1], b' ' | b'\t' | b'\n' | b',')) =>
                {
                    break;
                }
                b',' if b
                    .get(k + 1)
                    .is_none_or(|n| matches!(n, b' ' | b'\t' | b'\n' | b'\r')) =>
                {
                    k += 1;
                    break;
                }
                _ => {}
            }
            k += 1;
        }
        let k = k.min(b.len());
        let mut k = k.max(self.pos + 1).min(b.len());
        while k < b.len() && !self.src.is_char_boundary(k) {
            k += 1;
        }
        self.pos = k;
    }

    /// Parses items until `}` (consumed) or, at top level, EOF.
    pub fn items(&mut self, top: bool) -> Vec<Item> {
        let mut items: Vec<Item> = Vec::new();
        let mut last_end: Option<usize> = None;
        loop {
            // whitespace between items
            loop {
                match self.peek() {
                    Some(b' ' | b'\t' | b'\n') => self.pos += 1,
                    Some(b'\r') if self.peek_at(1) == Some(b'\n') => self.pos += 2,
                    _ => break,
                }
            }
            self.flush_pending(&mut items);
            let start = self.pos;
            match self.peek() {
                None => {
                    if !top {
                        self.record(PErr {
                            code: codes::UNBALANCED,
                            at: self.src.len(),
                            msg: "syntax error, unexpected end of file, expecting '}'".into(),
                        });
                    }
                    return items;
                }
                Some(b'}') => {
                    self.pos += 1;
                    if top {
                        self.record(PErr {
                            code: codes::UNBALANCED,
                            at: start,
                            msg: "syntax error, unexpected '}'".into(),
                        });
                        continue;
                    }
                    return items;
                }
                Some(b'#') if !is_hash_include(self.rest()) => {
                    self.pending.remove(&start);
                    self.flush_pending(&mut items);
                    let text = self.lex(comment).unwrap_or_default().to_string();
                    let trailing = last_end.is_some_and(|e| !self.src[e..start].contains('\n'));
                    items.push(Item::Comment(Comment {
                        text,
                        trailing,
                        span: self.span(start),
                    }));
                    last_end = Some(self.pos);
                    continue;
                }
                _ => {}
            }
            match self.item(top) {
                Ok(Some(it)) => {
                    if top && self.mode == Mode::Policy {
                        let preamble_only = matches!(
                            it,
                            Item::Variable(_) | Item::Boolean(_) | Item::Alias(_) | Item::Abi(_)
                        );
                        if preamble_only && items.iter().any(|i| matches!(i, Item::Profile(_))) {
                            self.misplaced(
                                start,
                                "syntax error: preamble items (variables, aliases, abi) must come before the first profile",
                            );
                        }
                    }
                    items.push(it);
                    self.flush_pending(&mut items);
                    last_end = Some(self.pos);
                }
                Ok(None) => {}
                Err(e) => {
                    let at = e.at;
                    self.record(e);
                    self.recover(at);
                    last_end = Some(self.pos);
                }
            }
            if self.pos == start {
                // never loop without progress
                self.pos += 1;
                while self.pos < self.src.len() && !self.src.is_char_boundary(self.pos) {
                    self.pos += 1;
                }
            }
        }
    }

    /// Moves the pending comments that lie before the current position into `items`.
    fn flush_pending(&mut self, items: &mut Vec<Item>) {
        if self.pending.is_empty() {
            return;
        }
        let later = self.pending.split_off(&self.pos);
        let done = std::mem::replace(&mut self.pending, later);
        items.extend(done.into_values().map(Item::Comment));
    }

    fn misplaced(&mut self, start: usize, msg: &str) {
        self.diags.push(Diagnostic::error(
            codes::MISPLACED,
            self.span(start),
            msg.to_string(),
        ));
    }

    fn item(&mut self, top: bool) -> PResult<Option<Item>> {
        let start = self.pos;
        let rest = self.rest();
        let c = rest.as_bytes()[0];
        if c == 0 {
            return self.err(
                codes::BAD_CHAR,
                start,
                "Lexer found unexpected character: NUL",
            );
        }
        if is_hash_include(rest) || (self.at_kw("include") && is_blank_after(rest, 7)) {
            return self.include().map(|i| Some(Item::Include(i)));
        }
        if c == b'@' {
            if let Some(v) = self.try_var_assign()? {
                if !top {
                    self.misplaced(
                        start,
                        "syntax error: variable declarations must come before any profile",
                    );
                }
                return Ok(Some(Item::Variable(v)));
            }
        }
        if c == b'$' {
            let b = self.bool_assign()?;
            if !top {
                self.misplaced(
                    start,
                    "syntax error: variable declarations must come before any profile",
                );
            }
            return Ok(Some(Item::Boolean(b)));
        }
        if c == b'^' {
            self.pos += 1;
            return self
                .profile(ProfileKind::Caret, start)
                .map(|p| Some(Item::Profile(Box::new(p))));
        }
        if self.at_kw("profile") && is_blank_after(rest, 7) {
            self.pos += 7;
            return self
                .profile(ProfileKind::Profile, start)
                .map(|p| Some(Item::Profile(Box::new(p))));
        }
        if self.at_kw("hat") && is_blank_after(rest, 3) {
            self.pos += 3;
            return self
                .profile(ProfileKind::Hat, start)
                .map(|p| Some(Item::Profile(Box::new(p))));
        }
        if self.at_kw("abi") {
            return self.abi().map(|a| Some(Item::Abi(a)));
        }
        if self.at_kw("alias") || self.at_kw("rewrite") {
            let a = self.alias()?;
            if !top {
                self.misplaced(
                    start,
                    "syntax error: alias rules are only allowed in the preamble",
                );
            }
            return Ok(Some(Item::Alias(a)));
        }
        if self.at_kw("if") && is_blank_after(rest, 2) {
            let i = self.if_block()?;
            if top && self.mode == Mode::Policy {
                self.misplaced(
                    start,
                    "syntax error: conditionals are only allowed inside a profile",
                );
            }
            return Ok(Some(Item::If(Box::new(i))));
        }
        if top && self.mode == Mode::Policy && !starts_rule(rest) {
            return self
                .profile(ProfileKind::Bare, start)
                .map(|p| Some(Item::Profile(Box::new(p))));
        }
        if top && self.mode == Mode::Fragment && !starts_rule(rest) {
            // a bare profile head or a file rule: try the head first
            let save_diags = self.diags.len();
            if let Ok(p) = self.profile(ProfileKind::Bare, start) {
                return Ok(Some(Item::Profile(Box::new(p))));
            }
            self.diags.truncate(save_diags);
            self.pos = start;
        }
        let r = self.rule_or_block(start)?;
        if top && self.mode == Mode::Policy {
            self.misplaced(start, "syntax error: rules must be inside a profile");
        }
        Ok(Some(r))
    }

    fn include(&mut self) -> PResult<Include> {
        let start = self.pos;
        let hash = self.eat("#include");
        if !hash {
            self.eat("include");
        }
        self.blanks();
        let mut if_exists = false;
        if self.at_kw("if") {
            let save = self.pos;
            self.pos += 2;
            self.blanks();
            if self.eat_kw("exists") {
                if_exists = true;
                self.blanks();
            } else {
                self.pos = save;
            }
        }
        let target = self.include_target()?;
        Ok(Include {
            hash,
            if_exists,
            target,
            span: self.span(start),
        })
    }

    fn include_target(&mut self) -> PResult<IncludeTarget> {
        let start = self.pos;
        if self.eat("<") {
            let rest = self.rest();
            let Some(end) = rest.find(['>', '\n']) else {
                return self.err(
                    codes::SYNTAX,
                    start,
                    "unterminated include name: missing '>'",
                );
            };
            if rest.as_bytes()[end] != b'>' {
                return self.err(
                    codes::SYNTAX,
                    start,
                    "unterminated include name: missing '>'",
                );
            }
            let inner = &rest[..end];
            self.pos += end + 1;
            let trimmed = inner.trim_matches([' ', '\t']);
            if trimmed.len() >= 2 && trimmed.starts_with('"') && trimmed.ends_with('"') {
                if trimmed.len() != inner.len() {
                    return self.err(
                        codes::SYNTAX,
                        start,
                        "syntax error: blank between '<' or '>' and a quote",
                    );
                }
                return Ok(IncludeTarget::Angle {
                    name: trimmed[1..trimmed.len() - 1].to_string(),
                    quoted: true,
                });
            }
            if trimmed.is_empty() {
                return self.err(codes::SYNTAX, start, "syntax error: empty include name");
            }
            return Ok(IncludeTarget::Angle {
                name: trimmed.to_string(),
                quoted: false,
            });
        }
        let w = self.word_by(|i| word_with(i, |c| c == b','), "an include name")?;
        Ok(if w.quoted {
            IncludeTarget::Quoted(w.text)
        } else {
            IncludeTarget::Bare(w.text)
        })
    }

    fn abi(&mut self) -> PResult<Abi> {
        let start = self.pos;
        self.eat("abi");
        self.ws();
        let target = self.include_target()?;
        self.ws();
        if !self.eat(",") {
            return self.unexpected("',' after abi rule");
        }
        Ok(Abi {
            target,
            span: self.span(start),
        })
    }

    fn alias(&mut self) -> PResult<Alias> {
        let start = self.pos;
        if !self.eat("alias") {
            self.eat("rewrite");
        }
        self.ws();
        let from = self.ids_word("an alias path")?;
        self.ws();
        self.expect("->")?;
        self.ws();
        let to = self.ids_word("an alias target")?;
        self.ws();
        self.expect(",")?;
        Ok(Alias {
            from,
            to,
            span: self.span(start),
        })
    }

    fn assign_op(&mut self) -> Option<AssignOp> {
        for (s, op) in [
            ("+=", AssignOp::Append),
            ("?=", AssignOp::SetDefault),
            (":=", AssignOp::Replace),
            ("=", AssignOp::Set),
        ] {
            if self.eat(s) {
                return Some(op);
            }
        }
        None
    }

    /// `@{NAME} op values` if the text here is an assignment; otherwise restores.
    fn try_var_assign(&mut self) -> PResult<Option<VarAssign>> {
        let start = self.pos;
        let Some(name) = self.lex(set_var) else {
            return Ok(None);
        };
        // `@{A}:=` lexes as one word (spec §1.6): only `=`, `+=`, `?=` may touch.
        if self.peek() == Some(b':') {
            self.pos = start;
            return Ok(None);
        }
        self.blanks();
        let Some(op) = self.assign_op() else {
            self.pos = start;
            return Ok(None);
        };
        let mut values = Vec::new();
        loop {
            self.blanks();
            match self.peek() {
                None | Some(b'\n') | Some(b'#') => break,
                Some(b'\r') if self.peek_at(1) == Some(b'\n') => break,
                Some(b'\\') if matches!(self.peek_at(1), Some(b'\n')) => {
                    self.pos += 2;
                }
                Some(b'\\') if self.starts("\\\r\n") => {
                    self.pos += 3;
                }
                Some(b',') => {
                    return self.err(
                        codes::VAR_TRAILING_COMMA,
                        self.pos,
                        "Variable declarations do not accept trailing commas",
                    );
                }
                _ => {
                    let w = self.ids_word("a variable value")?;
                    values.push(w);
                }
            }
        }
        if values.is_empty() {
            return self.err(
                codes::SYNTAX,
                self.pos,
                "syntax error, unexpected end of line, expecting a variable value",
            );
        }
        Ok(Some(VarAssign {
            name: name.to_string(),
            op,
            values,
            span: self.span(start),
        }))
    }

    fn bool_assign(&mut self) -> PResult<BoolAssign> {
        let start = self.pos;
        let Some(name) = self.lex(bool_var) else {
            return self.err(codes::SYNTAX, start, "invalid boolean variable name");
        };
        self.blanks();
        let Some(op) = self.assign_op() else {
            return self.unexpected("'=' after a boolean variable");
        };
        self.blanks();
        let value = self.expr_line()?;
        Ok(BoolAssign {
            name: name.to_string(),
            op,
            value,
            span: self.span(start),
        })
    }

    fn nest<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        if self.depth >= MAX_NESTING {
            return self.err(
                codes::NESTING,
                self.pos,
                format!("nesting deeper than {MAX_NESTING} levels"),
            );
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    /// Parses `{ items }` (the `{` is next after whitespace).
    fn block(&mut self) -> PResult<Vec<Item>> {
        self.ws();
        if !self.eat("{") {
            return self.unexpected("'{'");
        }
        if self.depth >= MAX_NESTING {
            let at = self.pos - 1;
            self.skip_balanced();
            return self.err(
                codes::NESTING,
                at,
                format!("nesting deeper than {MAX_NESTING} levels"),
            );
        }
        self.depth += 1;
        let items = self.items(false);
        self.depth -= 1;
        Ok(items)
    }

    /// Skips to the `}` matching an already consumed `{`, without recursion.
    fn skip_balanced(&mut self) {
        let b = self.src.as_bytes();
        let mut depth = 1usize;
        while self.pos < b.len() {
            match b[self.pos] {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        self.pos += 1;
                        return;
                    }
                }
                _ => {}
            }
            self.pos += 1;
        }
    }

    fn profile(&mut self, kind: ProfileKind, start: usize) -> PResult<Profile> {
        if matches!(kind, ProfileKind::Profile | ProfileKind::Hat) {
            self.blanks();
        }
        let name = self.ids_word("a profile name")?;
        if kind == ProfileKind::Bare && self.mode == Mode::Policy {
            let v = name.text.as_bytes();
            if !(v.first() == Some(&b'/') || v.first() == Some(&b':')) {
                self.diags.push(Diagnostic::error(
                    codes::PROFILE_NAME,
                    name.span,
                    "Profile names must begin with a '/', namespace or keyword 'profile' or 'hat'.",
                ));
            }
        }
        let mut last = self.pos;
        self.ws();
        let mut attachment = None;
        if matches!(self.peek(), Some(b'/' | b'@' | b'"')) {
            attachment = Some(self.ids_word("an attachment")?);
            last = self.pos;
            self.ws();
        }
        let mut xattrs = None;
        if self.at_kw("xattrs") {
            let save = self.pos;
            self.pos += 6;
            self.blanks();
            if self.eat("=") {
                self.blanks();
                self.expect("(")?;
                xattrs = Some(self.cond_group()?);
                last = self.pos;
                self.ws();
            } else {
                self.pos = save;
            }
        }
        let mut identities = Vec::new();
        while self.peek() == Some(b'+') {
            self.pos += 1;
            self.blanks();
            if !self.eat_kw("identities") {
                return self.unexpected("'identities'");
            }
            self.blanks();
            self.expect("=")?;
            self.blanks();
            self.expect("(")?;
            let at = self.pos;
            let ids = self.value_list()?;
            if ids.is_empty() {
                return self.err(
                    codes::SYNTAX,
                    at,
                    "syntax error, unexpected ')', expecting an identity",
                );
            }
            identities.push(ids);
            last = self.pos;
            self.ws();
        }
        let mut flags = None;
        let fstart = self.pos;
        if self.at_kw("flags") {
            self.pos += 5;
            self.blanks();
            self.expect("=")?;
            self.blanks();
            self.expect("(")?;
            let list = self.flag_list()?;
            flags = Some(Flags {
                keyword: true,
                flags: list,
                span: self.span(fstart),
            });
            last = self.pos;
            self.ws();
        } else if self.peek() == Some(b'(') {
            self.pos += 1;
            let list = self.flag_list()?;
            flags = Some(Flags {
                keyword: false,
                flags: list,
                span: self.span(fstart),
            });
            last = self.pos;
            self.ws();
        }
        let head_span = Span::new(self.file, start..last);
        if self.peek() != Some(b'{') {
            return self.unexpected("'{'");
        }
        let items = self.block()?;
        Ok(Profile {
            kind,
            name,
            attachment,
            xattrs,
            identities,
            flags,
            items,
            head_span,
            span: self.span(start),
        })
    }

    fn flag_list(&mut self) -> PResult<Vec<Word>> {
        let at = self.pos;
        let v = self.value_list()?;
        if v.is_empty() {
            return self.err(
                codes::SYNTAX,
                at,
                "syntax error, unexpected ')', expecting a flag",
            );
        }
        Ok(v)
    }

    /// Values after `(` up to `)` (consumed), separated by blanks and/or commas.
    pub fn value_list(&mut self) -> PResult<Vec<Word>> {
        let mut v = Vec::new();
        loop {
            self.ws();
            while self.eat(",") {
                self.ws();
            }
            match self.peek() {
                Some(b')') => {
                    self.pos += 1;
                    return Ok(v);
                }
                None => return self.unexpected("')'"),
                _ => v.push(self.word_by(list_value, "a list value or ')'")?),
            }
        }
    }

    /// `name=value …` inside `peer=(…)`/`xattrs=(…)` after `(`, up to `)`.
    pub fn cond_group(&mut self) -> PResult<Vec<Cond>> {
        let mut v = Vec::new();
        loop {
            self.ws();
            while self.eat(",") {
                self.ws();
            }
            let start = self.pos;
            match self.peek() {
                Some(b')') => {
                    self.pos += 1;
                    return Ok(v);
                }
                None => return self.unexpected("')'"),
                _ => {}
            }
            let name = match self.word_by(
                |i| word_with(i, |c| matches!(c, b'=' | b':' | b')' | b'(' | b',')),
                "a conditional",
            ) {
                Ok(w) => w.text,
                Err(e) => return Err(e),
            };
            self.blanks();
            let op = if self.eat(":=") {
                Some(CondOp::Assign)
            } else if self.eat("=") {
                Some(CondOp::Eq)
            } else {
                None
            };
            let value = match op {
                None => CondValue::None,
                Some(_) => {
                    self.blanks();
                    if self.eat("(") {
                        self.ws();
                        let w = self.word_by(list_value, "a value")?;
                        self.ws();
                        self.expect(")")?;
                        CondValue::List(vec![w])
                    } else {
                        CondValue::Single(self.word_by(list_value, "a value")?)
                    }
                }
            };
            v.push(Cond {
                name,
                op: op.unwrap_or(CondOp::Eq),
                value,
                span: self.span(start),
            });
        }
    }

    // ---- conditions -------------------------------------------------------

    fn if_block(&mut self) -> PResult<IfBlock> {
        let start = self.pos;
        self.eat("if");
        let cond = self.expr()?;
        let then = self.block()?;
        let save = self.pos;
        self.ws();
        let otherwise = if self.eat_kw("else") {
            self.ws();
            if self.at_kw("if") {
                Some(Else::If(Box::new(self.nest(|p| p.if_block())?)))
            } else {
                Some(Else::Block(self.block()?))
            }
        } else {
            self.pos = save;
            None
        };
        Ok(IfBlock {
            cond,
            then,
            otherwise,
            span: self.span(start),
        })
    }

    fn expr_line(&mut self) -> PResult<Expr> {
        self.expr()
    }

    fn expr(&mut self) -> PResult<Expr> {
        self.nest(|p| {
            let mut l = p.term()?;
            loop {
                p.ws();
                if p.eat_kw("or") {
                    let r = p.term()?;
                    l = Expr::Or(Box::new(l), Box::new(r));
                } else {
                    return Ok(l);
                }
            }
        })
    }

    fn term(&mut self) -> PResult<Expr> {
        let mut l = self.notf()?;
        loop {
            let save = self.pos;
            self.ws();
            if self.eat_kw("and") {
                let r = self.notf()?;
                l = Expr::And(Box::new(l), Box::new(r));
            } else {
                self.pos = save;
                return Ok(l);
            }
        }
    }

    fn notf(&mut self) -> PResult<Expr> {
        self.ws();
        if self.eat_kw("not") {
            return self.nest(|p| Ok(Expr::Not(Box::new(p.notf()?))));
        }
        self.factor()
    }

    fn factor(&mut self) -> PResult<Expr> {
        self.ws();
        if self.eat("(") {
            let e = self.expr()?;
            self.ws();
            self.expect(")")?;
            return Ok(Expr::Paren(Box::new(e)));
        }
        if self.eat_kw("defined") {
            self.ws();
            if let Some(n) = self.lex(set_var) {
                return Ok(Expr::Defined {
                    name: n.to_string(),
                    set: true,
                });
            }
            if let Some(n) = self.lex(bool_var) {
                return Ok(Expr::Defined {
                    name: n.to_string(),
                    set: false,
                });
            }
            return self.unexpected("a variable after 'defined'");
        }
        if let Some(n) = self.lex(bool_var) {
            return Ok(Expr::Bool(n.to_string()));
        }
        let start = self.pos;
        let a = self.operand()?;
        let save = self.pos;
        self.ws();
        let op = if self.eat("==") {
            Some(CmpOp::Eq)
        } else if self.eat("!=") {
            Some(CmpOp::Ne)
        } else if self.eat(">=") {
            Some(CmpOp::Ge)
        } else if self.eat("<=") {
            Some(CmpOp::Le)
        } else if self.eat(">") {
            Some(CmpOp::Gt)
        } else if self.eat("<") {
            Some(CmpOp::Lt)
        } else if self.eat_kw("in") {
            Some(CmpOp::In)
        } else {
            None
        };
        match op {
            Some(op) => {
                self.ws();
                let b = self.operand()?;
                Ok(Expr::Cmp(a, op, b))
            }
            None => {
                self.pos = save;
                match &a {
                    Operand::Word(w)
                        if !w.quoted
                            && (w.text.eq_ignore_ascii_case("true")
                                || w.text.eq_ignore_ascii_case("false")) =>
                    {
                        Ok(Expr::Operand(a))
                    }
                    _ => self.err(
                        codes::SYNTAX,
                        start,
                        "syntax error in condition, expecting a boolean variable, 'not', 'defined' or a comparison",
                    ),
                }
            }
        }
    }

    fn operand(&mut self) -> PResult<Operand> {
        let start = self.pos;
        if self.peek() == Some(b'@') {
            if let Some(n) = self.lex(set_var) {
                if !self
                    .rest()
                    .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '/')
                {
                    return Ok(Operand::Var(n.to_string()));
                }
                self.pos = start;
            }
        }
        if matches!(self.peek(), Some(b'{')) {
            return self.unexpected("a condition");
        }
        let w = self.word_by(
            |i| {
                word_with(i, |c| {
                    matches!(c, b'(' | b')' | b'{' | b'}' | b'=' | b'<' | b'>' | b',')
                })
            },
            "a condition",
        )?;
        Ok(Operand::Word(w))
    }
}

fn is_blank_after(s: &str, n: usize) -> bool {
    matches!(s.as_bytes().get(n), Some(b' ' | b'\t' | b'\n' | b'\r'))
}

fn is_hash_include(s: &str) -> bool {
    s.starts_with("#include") && matches!(s.as_bytes().get(8), Some(b' ' | b'\t' | b'<' | b'"'))
}

/// True for the words of the keyword table (spec §1.5).
pub(crate) fn is_keyword(w: &str) -> bool {
    const KW: &[&str] = &[
        "network",
        "unix",
        "capability",
        "change_profile",
        "link",
        "ptrace",
        "file",
        "mount",
        "remount",
        "umount",
        "unmount",
        "pivot_root",
        "dbus",
        "signal",
        "userns",
        "mqueue",
        "io_uring",
        "all",
        "abi",
        "alias",
        "rewrite",
        "audit",
        "deny",
        "allow",
        "prompt",
        "owner",
        "user",
        "other",
        "priority",
        "set",
        "rlimit",
        "if",
        "else",
        "not",
        "defined",
        "and",
        "or",
        "in",
        "safe",
        "unsafe",
        "subset",
        "send",
        "receive",
        "bind",
        "read",
        "write",
        "eavesdrop",
        "peer",
        "trace",
        "tracedby",
        "readby",
        "delete",
        "open",
        "override_creds",
        "sqpoll",
    ];
    KW.contains(&w)
}

/// True when the text at `s` starts a rule (keyword or qualifier) rather than a profile head.
fn starts_rule(s: &str) -> bool {
    const KW: &[&str] = &[
        "audit",
        "allow",
        "deny",
        "prompt",
        "owner",
        "user",
        "other",
        "priority",
        "file",
        "link",
        "capability",
        "network",
        "unix",
        "dbus",
        "signal",
        "ptrace",
        "mount",
        "remount",
        "umount",
        "unmount",
        "pivot_root",
        "mqueue",
        "io_uring",
        "userns",
        "change_profile",
        "set",
        "all",
    ];
    KW.iter().any(|k| keyword(k)(s).is_ok())
}

/// A short description of what is at `s` for error messages.
pub(crate) fn describe(s: &str) -> String {
    if s.is_empty() {
        return "end of file".into();
    }
    let first = s.chars().next().unwrap_or(' ');
    if first == '\n' || first == '\r' {
        return "end of line".into();
    }
    let tok: String = s
        .chars()
        .take_while(|c| !c.is_whitespace())
        .take(40)
        .collect();
    let tok = if tok.is_empty() {
        first.to_string()
    } else {
        tok
    };
    format!("'{}'", crate::escape::escape_str(&tok))
}

#[cfg(test)]
mod tests;
