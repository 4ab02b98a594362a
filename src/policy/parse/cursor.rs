//! The parser's cursor: position, whitespace and comments, token helpers,
//! error values and the recovery that skips past a syntax error.

use super::lex::*;
use super::*;

impl<'a> P<'a> {
    pub(crate) fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }
    pub(crate) fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }
    pub(crate) fn peek_at(&self, n: usize) -> Option<u8> {
        self.src.as_bytes().get(self.pos + n).copied()
    }
    pub(crate) fn span(&self, start: usize) -> Span {
        Span::new(self.file, start..self.pos.max(start))
    }
    /// Runs a nom parser at the current position; advances on success.
    pub(crate) fn lex<O>(
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
    pub(crate) fn starts(&self, s: &str) -> bool {
        self.rest().starts_with(s)
    }
    pub(crate) fn eat(&mut self, s: &str) -> bool {
        if self.starts(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }
    pub(crate) fn eat_kw(&mut self, kw: &'static str) -> bool {
        self.lex(keyword(kw)).is_some()
    }
    pub(crate) fn at_kw(&self, kw: &'static str) -> bool {
        keyword(kw)(self.rest()).is_ok()
    }
    pub(crate) fn blanks(&mut self) {
        self.lex(blanks);
    }
    /// Skips blanks, line ends and comments. Comments inside a construct
    /// (a multi-line rule, a profile head) are kept in `pending` and emitted
    /// as items right after it.
    pub(crate) fn ws(&mut self) {
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
    pub(crate) fn err<T>(
        &self,
        code: &'static str,
        at: usize,
        msg: impl Into<String>,
    ) -> PResult<T> {
        Err(PErr {
            code,
            at,
            msg: msg.into(),
        })
    }
    /// "syntax error, unexpected X" at the current position.
    pub(crate) fn unexpected<T>(&self, expected: &str) -> PResult<T> {
        let found = describe(self.rest());
        self.err(
            codes::SYNTAX,
            self.pos,
            format!("syntax error, unexpected {found}, expecting {expected}"),
        )
    }
    pub(crate) fn expect(&mut self, s: &str) -> PResult<()> {
        if self.eat(s) {
            Ok(())
        } else {
            self.unexpected(&format!("'{s}'"))
        }
    }
    /// A quoted word or a word scanned with `scan`.
    pub(crate) fn word_by(
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
    pub(crate) fn ids_word(&mut self, what: &str) -> PResult<Word> {
        self.word_by(ids, what)
    }

    pub(super) fn record(&mut self, e: PErr) {
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
    pub(super) fn recover(&mut self, from: usize) {
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

    /// Values after `(` up to `)` (consumed), separated by blanks and/or commas.
    pub(crate) fn value_list(&mut self) -> PResult<Vec<Word>> {
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
    pub(crate) fn cond_group(&mut self) -> PResult<Vec<Cond>> {
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
}
