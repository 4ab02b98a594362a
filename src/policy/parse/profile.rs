//! Item lists, blocks and profile heads: the recursive part of the parser
//! that decides what each item is and nests blocks.

use super::lex::*;
use super::*;

impl<'a> P<'a> {
    /// Parses items until `}` (consumed) or, at top level, EOF.
    pub(crate) fn items(&mut self, top: bool) -> Vec<Item> {
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
                    if top && self.mode == ParseMode::Policy {
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
    pub(super) fn flush_pending(&mut self, items: &mut Vec<Item>) {
        if self.pending.is_empty() {
            return;
        }
        let later = self.pending.split_off(&self.pos);
        let done = std::mem::replace(&mut self.pending, later);
        items.extend(done.into_values().map(Item::Comment));
    }

    pub(super) fn misplaced(&mut self, start: usize, msg: &str) {
        self.diags.push(Diagnostic::error(
            codes::MISPLACED,
            self.span(start),
            msg.to_string(),
        ));
    }

    pub(super) fn item(&mut self, top: bool) -> PResult<Option<Item>> {
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
            if top && self.mode == ParseMode::Policy {
                self.misplaced(
                    start,
                    "syntax error: conditionals are only allowed inside a profile",
                );
            }
            return Ok(Some(Item::If(Box::new(i))));
        }
        if top && self.mode == ParseMode::Policy && !starts_rule(rest) {
            return self
                .profile(ProfileKind::Bare, start)
                .map(|p| Some(Item::Profile(Box::new(p))));
        }
        if top && self.mode == ParseMode::Fragment && !starts_rule(rest) {
            // a bare profile head or a file rule: try the head first
            let save_diags = self.diags.len();
            if let Ok(p) = self.profile(ProfileKind::Bare, start) {
                return Ok(Some(Item::Profile(Box::new(p))));
            }
            self.diags.truncate(save_diags);
            self.pos = start;
        }
        let r = self.rule_or_block(start)?;
        if top && self.mode == ParseMode::Policy {
            self.misplaced(start, "syntax error: rules must be inside a profile");
        }
        Ok(Some(r))
    }

    pub(super) fn nest<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
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
    pub(super) fn block(&mut self) -> PResult<Vec<Item>> {
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
    pub(super) fn skip_balanced(&mut self) {
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

    pub(super) fn profile(&mut self, kind: ProfileKind, start: usize) -> PResult<Profile> {
        if matches!(kind, ProfileKind::Profile | ProfileKind::Hat) {
            self.blanks();
        }
        let name = self.ids_word("a profile name")?;
        if kind == ProfileKind::Bare && self.mode == ParseMode::Policy {
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

    pub(super) fn flag_list(&mut self) -> PResult<Vec<Word>> {
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
}
