//! Conditional blocks: `if`/`else` and their boolean expressions.

use super::lex::*;
use super::*;

impl<'a> P<'a> {
    // ---- conditions -------------------------------------------------------

    pub(super) fn if_block(&mut self) -> PResult<IfBlock> {
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

    pub(super) fn expr_line(&mut self) -> PResult<Expr> {
        self.expr()
    }

    pub(super) fn expr(&mut self) -> PResult<Expr> {
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

    pub(super) fn term(&mut self) -> PResult<Expr> {
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

    pub(super) fn notf(&mut self) -> PResult<Expr> {
        self.ws();
        if self.eat_kw("not") {
            return self.nest(|p| Ok(Expr::Not(Box::new(p.notf()?))));
        }
        self.factor()
    }

    pub(super) fn factor(&mut self) -> PResult<Expr> {
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

    pub(super) fn operand(&mut self) -> PResult<Operand> {
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
