//! Preamble items: `include`, `abi`, `alias`, variable and boolean assignments.

use super::lex::*;
use super::*;

impl<'a> P<'a> {
    pub(super) fn include(&mut self) -> PResult<Include> {
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

    pub(super) fn include_target(&mut self) -> PResult<IncludeTarget> {
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

    pub(super) fn abi(&mut self) -> PResult<Abi> {
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

    pub(super) fn alias(&mut self) -> PResult<Alias> {
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

    pub(super) fn assign_op(&mut self) -> Option<AssignOp> {
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
    pub(super) fn try_var_assign(&mut self) -> PResult<Option<VarAssign>> {
        let start = self.pos;
        let Some(name) = self.lex(set_var) else {
            return Ok(None);
        };
        // `:` is a word character, so `@{A}:=` lexes as one word: only `=`, `+=`
        // and `?=` may touch the variable (docs/policy-language.md, "Lexer traps").
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

    pub(super) fn bool_assign(&mut self) -> PResult<BoolAssign> {
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
}
