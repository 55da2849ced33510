//! Parameter expressions of OpenQASM 2 gate calls: precedence climbing to a postfix [`Expr`],
//! nesting bounded by [`MAX_DEPTH`].

use std::f64::consts::PI;

use super::lex::Tok;
use super::Parser;
use crate::circuit::expr::{Code, Expr, Fun};
use crate::circuit::{CircuitError, MAX_DEPTH};

impl Parser<'_> {
    /// A parameter expression; identifiers other than `pi` and the functions must be among
    /// `formals` (the enclosing definition's parameters).
    pub(super) fn expr(&mut self, formals: &[String]) -> Result<Expr, CircuitError> {
        let mut code = Vec::new();
        self.sum(formals, &mut code, 0)?;
        let e = Expr(code);
        // Fold constants so that large constant expressions cost nothing per call.
        Ok(match e.constant() {
            Some(v) => Expr(vec![Code::Num(v)]),
            None => e,
        })
    }

    pub(super) fn deeper(&self, depth: usize) -> Result<usize, CircuitError> {
        if depth >= MAX_DEPTH {
            let t = self.peek();
            return Err(CircuitError::TooDeep {
                line: t.line,
                col: t.col,
                what: "expression",
                max: MAX_DEPTH,
            });
        }
        Ok(depth + 1)
    }

    pub(super) fn sum(
        &mut self,
        f: &[String],
        code: &mut Vec<Code>,
        depth: usize,
    ) -> Result<(), CircuitError> {
        self.product(f, code, depth)?;
        loop {
            if self.eat_sym("+") {
                self.product(f, code, depth)?;
                code.push(Code::Add);
            } else if self.eat_sym("-") {
                self.product(f, code, depth)?;
                code.push(Code::Sub);
            } else {
                return Ok(());
            }
        }
    }

    pub(super) fn product(
        &mut self,
        f: &[String],
        code: &mut Vec<Code>,
        depth: usize,
    ) -> Result<(), CircuitError> {
        self.unary(f, code, depth)?;
        loop {
            if self.eat_sym("*") {
                self.unary(f, code, depth)?;
                code.push(Code::Mul);
            } else if self.eat_sym("/") {
                self.unary(f, code, depth)?;
                code.push(Code::Div);
            } else {
                return Ok(());
            }
        }
    }

    pub(super) fn unary(
        &mut self,
        f: &[String],
        code: &mut Vec<Code>,
        depth: usize,
    ) -> Result<(), CircuitError> {
        if self.eat_sym("-") {
            let d = self.deeper(depth)?;
            self.unary(f, code, d)?;
            code.push(Code::Neg);
            return Ok(());
        }
        if self.eat_sym("+") {
            let d = self.deeper(depth)?;
            return self.unary(f, code, d);
        }
        self.primary(f, code, depth)?;
        if self.eat_sym("^") {
            let d = self.deeper(depth)?;
            self.unary(f, code, d)?;
            code.push(Code::Pow);
        }
        Ok(())
    }

    pub(super) fn primary(
        &mut self,
        f: &[String],
        code: &mut Vec<Code>,
        depth: usize,
    ) -> Result<(), CircuitError> {
        const EXPECTED: &str = "a number, `pi`, a function (sin cos tan exp ln sqrt) or `(`";
        let t = self.peek().clone();
        match &t.tok {
            Tok::Num(x) => {
                self.next();
                code.push(Code::Num(*x));
            }
            Tok::Int(n) => {
                self.next();
                code.push(Code::Num(*n as f64));
            }
            Tok::Sym("(") => {
                self.next();
                let d = self.deeper(depth)?;
                self.sum(f, code, d)?;
                self.expect_sym(")")?;
            }
            Tok::Ident(s) if s == "pi" => {
                self.next();
                code.push(Code::Num(PI));
            }
            Tok::Ident(s) if f.contains(s) => {
                self.next();
                let k = f.iter().position(|x| x == s).unwrap_or(0);
                code.push(Code::Param(k));
            }
            Tok::Ident(s) if Fun::named(s).is_some() => {
                let fun = Fun::named(s).unwrap_or(Fun::Sin);
                self.next();
                let d = self.deeper(depth)?;
                self.expect_sym("(")?;
                self.sum(f, code, d)?;
                self.expect_sym(")")?;
                code.push(Code::Call(fun));
            }
            _ => return Err(self.err_here(EXPECTED)),
        }
        Ok(())
    }
}
