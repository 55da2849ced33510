//! OpenQASM 2.0 import ([`parse_qasm`]) and export ([`to_qasm`]).
//!
//! Accepted: `OPENQASM 2.0;`, `include "qelib1.inc";`, `qreg`/`creg` (several registers,
//! flattened in declaration order), the qelib1.inc gates `h x y z s sdg t tdg rx ry rz u1 u2 u3
//! u U cx CX cz swap rxx ryy rzz id`, parameter expressions (reals, `pi`, `+ − * / ^`, unary
//! minus, parentheses, `sin cos tan exp ln sqrt`), `measure a -> b;`, `reset a;` and
//! `barrier …;` (ignored). A register argument without an index applies the instruction to
//! each of its bits (all register arguments of one instruction must have the same size).
//! Gate definitions, `opaque`, `if` and other includes are errors naming `line:col`.

use std::f64::consts::PI;
use std::fmt::Write;

use super::{Circuit, CircuitError, Gate, Op, MAX_QUBITS};

/// The gate names accepted, for error messages.
const GATES: &str = "h, x, y, z, s, sdg, t, tdg, rx, ry, rz, u1, u2, u3, u, U, cx, CX, cz, swap, \
                     rxx, ryy, rzz, id";

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Num(f64),
    Int(usize),
    Str(String),
    Sym(&'static str),
    Eof,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Num(x) => format!("`{x}`"),
            Tok::Int(x) => format!("`{x}`"),
            Tok::Str(s) => format!("\"{s}\""),
            Tok::Sym(s) => format!("`{s}`"),
            Tok::Eof => "end of file".into(),
        }
    }
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    line: usize,
    col: usize,
}

fn lex(src: &str) -> Result<Vec<Token>, CircuitError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line, mut col) = (0, 1, 1);
    while i < chars.len() {
        let ch = chars[i];
        let (l0, c0) = (line, col);
        let mut adv = |i: &mut usize, n: usize| {
            *i += n;
            col += n;
        };
        if ch == '\n' {
            i += 1;
            line += 1;
            col = 1;
            continue;
        }
        if ch.is_whitespace() {
            adv(&mut i, 1);
            continue;
        }
        if ch == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        let tok = if ch.is_ascii_alphabetic() || ch == '_' {
            let s: String = chars[i..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                .collect();
            adv(&mut i, s.chars().count());
            Tok::Ident(s)
        } else if ch.is_ascii_digit()
            || (ch == '.' && chars.get(i + 1).is_some_and(|c| c.is_ascii_digit()))
        {
            let mut j = i;
            while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '.') {
                j += 1;
            }
            if j < chars.len() && (chars[j] == 'e' || chars[j] == 'E') {
                let mut k = j + 1;
                if k < chars.len() && (chars[k] == '+' || chars[k] == '-') {
                    k += 1;
                }
                if k < chars.len() && chars[k].is_ascii_digit() {
                    while k < chars.len() && chars[k].is_ascii_digit() {
                        k += 1;
                    }
                    j = k;
                }
            }
            let s: String = chars[i..j].iter().collect();
            let len = j - i;
            adv(&mut i, len);
            if s.chars().all(|c| c.is_ascii_digit()) {
                match s.parse::<usize>() {
                    Ok(n) => Tok::Int(n),
                    Err(_) => Tok::Num(s.parse().unwrap_or(f64::INFINITY)),
                }
            } else {
                Tok::Num(s.parse().map_err(|_| CircuitError::Syntax {
                    line: l0,
                    col: c0,
                    found: format!("`{s}`"),
                    expected: "a number".into(),
                })?)
            }
        } else if ch == '"' {
            let s: String = chars[i + 1..]
                .iter()
                .take_while(|c| **c != '"' && **c != '\n')
                .collect();
            if chars.get(i + 1 + s.chars().count()) != Some(&'"') {
                return Err(CircuitError::Syntax {
                    line: l0,
                    col: c0,
                    found: "an unterminated string".into(),
                    expected: "a closing `\"`".into(),
                });
            }
            adv(&mut i, s.chars().count() + 2);
            Tok::Str(s)
        } else {
            const SYMS: [&str; 14] = [
                "->", "==", ";", ",", "(", ")", "[", "]", "{", "}", "+", "-", "*", "/",
            ];
            let rest: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            match SYMS
                .iter()
                .find(|s| rest.starts_with(**s))
                .or((ch == '^').then_some(&"^"))
            {
                Some(s) => {
                    adv(&mut i, s.len());
                    Tok::Sym(s)
                }
                None => {
                    return Err(CircuitError::Syntax {
                        line: l0,
                        col: c0,
                        found: format!("`{ch}`"),
                        expected: "a statement, name, number or symbol of OpenQASM 2.0".into(),
                    })
                }
            }
        };
        out.push(Token {
            tok,
            line: l0,
            col: c0,
        });
    }
    out.push(Token {
        tok: Tok::Eof,
        line,
        col,
    });
    Ok(out)
}

/// A register: name, first flat index, size.
struct Reg {
    name: String,
    start: usize,
    size: usize,
}

/// A gate/measure argument: flat indices (one for `r[i]`, the whole register for `r`).
struct Arg {
    bits: Vec<usize>,
    whole: bool,
    line: usize,
    col: usize,
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    qregs: Vec<Reg>,
    cregs: Vec<Reg>,
    circuit: Circuit,
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.toks[self.pos]
    }

    fn next(&mut self) -> Token {
        let t = self.toks[self.pos].clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn err_here(&self, expected: &str) -> CircuitError {
        let t = self.peek();
        CircuitError::Syntax {
            line: t.line,
            col: t.col,
            found: t.tok.describe(),
            expected: expected.into(),
        }
    }

    fn expect_sym(&mut self, s: &'static str) -> Result<(), CircuitError> {
        if self.peek().tok == Tok::Sym(s) {
            self.next();
            Ok(())
        } else {
            Err(self.err_here(&format!("`{s}`")))
        }
    }

    fn eat_sym(&mut self, s: &'static str) -> bool {
        if self.peek().tok == Tok::Sym(s) {
            self.next();
            true
        } else {
            false
        }
    }

    fn ident(&mut self, what: &str) -> Result<Token, CircuitError> {
        match self.peek().tok {
            Tok::Ident(_) => Ok(self.next()),
            _ => Err(self.err_here(what)),
        }
    }

    fn int(&mut self, what: &str) -> Result<usize, CircuitError> {
        match self.peek().tok {
            Tok::Int(n) => {
                self.next();
                Ok(n)
            }
            _ => Err(self.err_here(what)),
        }
    }

    fn program(&mut self) -> Result<(), CircuitError> {
        if self.peek().tok == Tok::Ident("OPENQASM".into()) {
            self.next();
            match self.peek().tok {
                Tok::Num(2.0) => {
                    self.next();
                }
                _ => return Err(self.err_here("version `2.0`")),
            }
            self.expect_sym(";")?;
        }
        while self.peek().tok != Tok::Eof {
            self.statement()?;
        }
        Ok(())
    }

    fn statement(&mut self) -> Result<(), CircuitError> {
        let t = self.ident("a statement (qreg, creg, a gate, measure, reset, barrier)")?;
        let Tok::Ident(name) = &t.tok else {
            unreachable!()
        };
        match name.as_str() {
            "include" => {
                let f = self.next();
                match &f.tok {
                    Tok::Str(s) if s == "qelib1.inc" => {}
                    Tok::Str(s) => {
                        return Err(CircuitError::Unsupported {
                            line: f.line,
                            col: f.col,
                            construct: format!("include \"{s}\""),
                            expected: "include \"qelib1.inc\"",
                        })
                    }
                    _ => {
                        self.pos -= 1;
                        return Err(self.err_here("a file name in quotes"));
                    }
                }
                self.expect_sym(";")
            }
            "qreg" | "creg" => self.register(name == "qreg"),
            "OPENQASM" => Err(CircuitError::Syntax {
                line: t.line,
                col: t.col,
                found: "`OPENQASM` after the first statement".into(),
                expected: "the `OPENQASM 2.0;` header only at the start".into(),
            }),
            "gate" | "opaque" | "if" => Err(CircuitError::Unsupported {
                line: t.line,
                col: t.col,
                construct: name.clone(),
                expected: "qelib1.inc gates, measure, reset and barrier only (no gate \
                           definitions, opaque gates or classical control)",
            }),
            "barrier" => {
                self.args(false)?;
                self.expect_sym(";")
            }
            "measure" => {
                let q = self.arg(false)?;
                self.expect_sym("->")?;
                let c = self.arg(true)?;
                self.expect_sym(";")?;
                let pairs = self.broadcast("measure", &[q, c], t.line, t.col)?;
                for p in pairs {
                    self.circuit.ops.push(Op::Measure { q: p[0], c: p[1] });
                }
                Ok(())
            }
            "reset" => {
                let q = self.arg(false)?;
                self.expect_sym(";")?;
                for p in self.broadcast("reset", &[q], t.line, t.col)? {
                    self.circuit.ops.push(Op::Reset { q: p[0] });
                }
                Ok(())
            }
            _ => self.gate_call(&t, name),
        }
    }

    fn register(&mut self, quantum: bool) -> Result<(), CircuitError> {
        let n = self.ident("a register name")?;
        let Tok::Ident(name) = n.tok else {
            unreachable!()
        };
        if self.qregs.iter().chain(&self.cregs).any(|r| r.name == name) {
            return Err(CircuitError::Syntax {
                line: n.line,
                col: n.col,
                found: format!("`{name}` declared twice"),
                expected: "a new register name".into(),
            });
        }
        self.expect_sym("[")?;
        let size_tok = self.peek().clone();
        let size = self.int("a register size")?;
        self.expect_sym("]")?;
        self.expect_sym(";")?;
        let (regs, total) = if quantum {
            (&mut self.qregs, &mut self.circuit.qubits)
        } else {
            (&mut self.cregs, &mut self.circuit.clbits)
        };
        regs.push(Reg {
            name,
            start: *total,
            size,
        });
        *total += size;
        if quantum && *total > MAX_QUBITS {
            return Err(CircuitError::Syntax {
                line: size_tok.line,
                col: size_tok.col,
                found: format!("{} qubits in all", *total),
                expected: format!("at most {MAX_QUBITS} qubits"),
            });
        }
        Ok(())
    }

    fn arg(&mut self, classical: bool) -> Result<Arg, CircuitError> {
        let kind = if classical { "classical" } else { "quantum" };
        let n = self.ident(&format!("a {kind} register"))?;
        let Tok::Ident(name) = n.tok else {
            unreachable!()
        };
        let regs = if classical { &self.cregs } else { &self.qregs };
        let Some(r) = regs.iter().find(|r| r.name == name) else {
            return Err(CircuitError::UnknownRegister {
                line: n.line,
                col: n.col,
                name,
                kind,
            });
        };
        let (start, size) = (r.start, r.size);
        if self.eat_sym("[") {
            let it = self.peek().clone();
            let index = self.int("an index")?;
            self.expect_sym("]")?;
            if index >= size {
                return Err(CircuitError::IndexOutOfRange {
                    line: it.line,
                    col: it.col,
                    register: name,
                    index,
                    size,
                });
            }
            Ok(Arg {
                bits: vec![start + index],
                whole: false,
                line: n.line,
                col: n.col,
            })
        } else {
            Ok(Arg {
                bits: (start..start + size).collect(),
                whole: true,
                line: n.line,
                col: n.col,
            })
        }
    }

    fn args(&mut self, classical: bool) -> Result<Vec<Arg>, CircuitError> {
        let mut v = vec![self.arg(classical)?];
        while self.eat_sym(",") {
            v.push(self.arg(classical)?);
        }
        Ok(v)
    }

    /// Expands register arguments: one index tuple per bit of the (equal-sized) registers.
    fn broadcast(
        &self,
        what: &str,
        args: &[Arg],
        line: usize,
        col: usize,
    ) -> Result<Vec<Vec<usize>>, CircuitError> {
        let sizes: Vec<usize> = args
            .iter()
            .filter(|a| a.whole)
            .map(|a| a.bits.len())
            .collect();
        let n = sizes.first().copied().unwrap_or(1);
        if sizes.iter().any(|&s| s != n) {
            return Err(CircuitError::BadCall {
                line,
                col,
                gate: what.into(),
                problem: format!("applied to registers of different sizes {sizes:?}"),
            });
        }
        Ok((0..n)
            .map(|k| {
                args.iter()
                    .map(|a| if a.whole { a.bits[k] } else { a.bits[0] })
                    .collect()
            })
            .collect())
    }

    fn gate_call(&mut self, t: &Token, name: &str) -> Result<(), CircuitError> {
        let (nparams, arity) = match name {
            "h" | "x" | "y" | "z" | "s" | "sdg" | "t" | "tdg" | "id" => (0, 1),
            "rx" | "ry" | "rz" | "u1" => (1, 1),
            "u2" => (2, 1),
            "u3" | "u" | "U" => (3, 1),
            "cx" | "CX" | "cz" | "swap" => (0, 2),
            "rxx" | "ryy" | "rzz" => (1, 2),
            _ => {
                return Err(CircuitError::UnknownGate {
                    line: t.line,
                    col: t.col,
                    name: name.into(),
                    expected: GATES,
                })
            }
        };
        let mut p = Vec::new();
        if self.eat_sym("(") && !self.eat_sym(")") {
            p.push(self.expr()?);
            while self.eat_sym(",") {
                p.push(self.expr()?);
            }
            self.expect_sym(")")?;
        }
        if p.len() != nparams {
            return Err(CircuitError::BadCall {
                line: t.line,
                col: t.col,
                gate: name.into(),
                problem: format!("takes {nparams} parameter(s), got {}", p.len()),
            });
        }
        let args = self.args(false)?;
        self.expect_sym(";")?;
        if args.len() != arity {
            return Err(CircuitError::BadCall {
                line: t.line,
                col: t.col,
                gate: name.into(),
                problem: format!("acts on {arity} qubit(s), got {}", args.len()),
            });
        }
        let gate = match name {
            "id" => None,
            "h" => Some(Gate::H),
            "x" => Some(Gate::X),
            "y" => Some(Gate::Y),
            "z" => Some(Gate::Z),
            "s" => Some(Gate::S),
            "sdg" => Some(Gate::Sdg),
            "t" => Some(Gate::T),
            "tdg" => Some(Gate::Tdg),
            "rx" => Some(Gate::Rx(p[0])),
            "ry" => Some(Gate::Ry(p[0])),
            "rz" => Some(Gate::Rz(p[0])),
            "u1" => Some(Gate::U(0.0, 0.0, p[0])),
            "u2" => Some(Gate::U(PI / 2.0, p[0], p[1])),
            "u3" | "u" | "U" => Some(Gate::U(p[0], p[1], p[2])),
            "cx" | "CX" => Some(Gate::Cx),
            "cz" => Some(Gate::Cz),
            "swap" => Some(Gate::Swap),
            "rxx" => Some(Gate::Rxx(p[0])),
            "ryy" => Some(Gate::Ryy(p[0])),
            "rzz" => Some(Gate::Rzz(p[0])),
            _ => unreachable!(),
        };
        for qs in self.broadcast(name, &args, t.line, t.col)? {
            match (gate, &qs[..]) {
                (None, _) => {}
                (Some(gate), &[q]) => self.circuit.ops.push(Op::One { gate, q }),
                (Some(gate), &[a, b]) => {
                    if a == b {
                        return Err(CircuitError::BadCall {
                            line: args[1].line,
                            col: args[1].col,
                            gate: name.into(),
                            problem: format!("acts on the same qubit {a} twice"),
                        });
                    }
                    self.circuit.ops.push(Op::Two { gate, a, b })
                }
                _ => unreachable!(),
            }
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<f64, CircuitError> {
        let start = self.peek().clone();
        let v = self.sum()?;
        if !v.is_finite() {
            return Err(CircuitError::Syntax {
                line: start.line,
                col: start.col,
                found: format!("a parameter evaluating to {v}"),
                expected: "a finite angle".into(),
            });
        }
        Ok(v)
    }

    fn sum(&mut self) -> Result<f64, CircuitError> {
        let mut v = self.product()?;
        loop {
            if self.eat_sym("+") {
                v += self.product()?;
            } else if self.eat_sym("-") {
                v -= self.product()?;
            } else {
                return Ok(v);
            }
        }
    }

    fn product(&mut self) -> Result<f64, CircuitError> {
        let mut v = self.unary()?;
        loop {
            if self.eat_sym("*") {
                v *= self.unary()?;
            } else if self.eat_sym("/") {
                v /= self.unary()?;
            } else {
                return Ok(v);
            }
        }
    }

    fn unary(&mut self) -> Result<f64, CircuitError> {
        if self.eat_sym("-") {
            return Ok(-self.unary()?);
        }
        if self.eat_sym("+") {
            return self.unary();
        }
        let base = self.primary()?;
        if self.eat_sym("^") {
            return Ok(base.powf(self.unary()?));
        }
        Ok(base)
    }

    fn primary(&mut self) -> Result<f64, CircuitError> {
        const EXPECTED: &str = "a number, `pi`, a function (sin cos tan exp ln sqrt) or `(`";
        let t = self.peek().clone();
        match &t.tok {
            Tok::Num(x) => {
                self.next();
                Ok(*x)
            }
            Tok::Int(n) => {
                self.next();
                Ok(*n as f64)
            }
            Tok::Sym("(") => {
                self.next();
                let v = self.sum()?;
                self.expect_sym(")")?;
                Ok(v)
            }
            Tok::Ident(s) if s == "pi" => {
                self.next();
                Ok(PI)
            }
            Tok::Ident(s)
                if matches!(s.as_str(), "sin" | "cos" | "tan" | "exp" | "ln" | "sqrt") =>
            {
                self.next();
                self.expect_sym("(")?;
                let x = self.sum()?;
                self.expect_sym(")")?;
                Ok(match s.as_str() {
                    "sin" => x.sin(),
                    "cos" => x.cos(),
                    "tan" => x.tan(),
                    "exp" => x.exp(),
                    "ln" => x.ln(),
                    _ => x.sqrt(),
                })
            }
            _ => Err(self.err_here(EXPECTED)),
        }
    }
}

/// Parses an OpenQASM 2.0 program into a [`Circuit`] (registers flattened in declaration
/// order: the first `qreg` holds qubits `0..n₁`, the next `n₁..n₁+n₂`, likewise for `creg`).
///
/// # Errors
/// A [`CircuitError`] naming the line and column of the first problem: a syntax error (what
/// was found and what was expected), an unknown gate, an unsupported construct (`gate`,
/// `opaque`, `if`, includes other than qelib1.inc), an undeclared register, an index out of
/// range, a wrong number of parameters or qubits, or more than [`MAX_QUBITS`] qubits.
pub fn parse_qasm(src: &str) -> Result<Circuit, CircuitError> {
    let mut p = Parser {
        toks: lex(src)?,
        pos: 0,
        qregs: Vec::new(),
        cregs: Vec::new(),
        circuit: Circuit::default(),
    };
    p.program()?;
    Ok(p.circuit)
}

/// Writes `circuit` as OpenQASM 2.0 with one register `q[qubits]` and, if there are classical
/// bits, one `c[clbits]`. Angles are written with Rust's shortest round-trip formatting, so
/// [`parse_qasm`] gives back the same ops bit for bit (`u1`, `u2`, `U` come back as `u3`).
pub fn to_qasm(circuit: &Circuit) -> String {
    let mut s = String::from("OPENQASM 2.0;\ninclude \"qelib1.inc\";\n");
    let _ = writeln!(s, "qreg q[{}];", circuit.qubits);
    if circuit.clbits > 0 {
        let _ = writeln!(s, "creg c[{}];", circuit.clbits);
    }
    let head = |g: Gate| {
        let p = g.params();
        if p.is_empty() {
            g.name().to_string()
        } else {
            let list: Vec<String> = p.iter().map(|x| format!("{x}")).collect();
            format!("{}({})", g.name(), list.join(","))
        }
    };
    for op in &circuit.ops {
        let _ = match *op {
            Op::One { gate, q } => writeln!(s, "{} q[{q}];", head(gate)),
            Op::Two { gate, a, b } => writeln!(s, "{} q[{a}],q[{b}];", head(gate)),
            Op::Measure { q, c } => writeln!(s, "measure q[{q}] -> c[{c}];"),
            Op::Reset { q } => writeln!(s, "reset q[{q}];"),
        };
    }
    s
}
