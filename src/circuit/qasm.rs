//! OpenQASM 2.0 import ([`parse_qasm`], [`parse_qasm_file`]) and export ([`to_qasm`]).
//!
//! The language of the OpenQASM 2.0 specification as Qiskit reads it: `OPENQASM 2.0;`,
//! `include "qelib1.inc";` (built in) and includes of other files (with
//! [`parse_qasm_file`], relative to the including file), several `qreg`/`creg` (flattened in
//! declaration order), every gate of [`super::gates::TABLE`] (qelib1.inc and the names
//! Qiskit's `qasm2.dumps` writes), the built-ins `U` and `CX`, user `gate` definitions
//! (nested, with parameters; expanded at parse time), `opaque` declarations (an error when
//! applied), parameter expressions (reals, `pi`, `+ − * / ^`, unary minus, parentheses, `sin
//! cos tan exp ln sqrt`), whole-register broadcasting, `measure a -> b;`, `reset a;`,
//! `barrier …;` (no effect on the simulation) and `if (creg == k) <op>;` on any gate, reset or
//! measurement. A definition named like a gate of the table, with the same numbers of
//! parameters and qubits, is checked and then run as the table's gate (Qiskit's exporters
//! write definitions for gates such as `rzx` or `ecr`; the table has their exact matrices).
//!
//! Every recursive construct is bounded: expressions and gate definitions nest at most
//! [`MAX_DEPTH`] deep, includes [`MAX_INCLUDE_DEPTH`] deep, and a program expands to at most
//! [`MAX_OPS`] operations; beyond, a located error.

use std::collections::HashMap;
use std::f64::consts::PI;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use super::expr::{Code, Expr, Fun};
use super::gates::{lookup, nearest_name, GateSpec};
use super::ir::{Circuit, Condition, Op, Register};
use super::{CircuitError, MAX_CLBITS, MAX_DEPTH, MAX_OPS, MAX_QUBITS};

/// Deepest chain of `include`s.
pub const MAX_INCLUDE_DEPTH: usize = 32;

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

/// A gate argument: flat indices (one for `r[i]`, the whole register for `r`).
struct Arg {
    bits: Vec<usize>,
    whole: bool,
    line: usize,
    col: usize,
}

/// What a gate name refers to.
#[derive(Clone, Copy)]
enum Callee {
    /// A row of the gate table.
    Table(&'static GateSpec),
    /// A user definition (index into `Parser::defs`).
    User(usize),
    /// An `opaque` declaration.
    Opaque { params: usize, qubits: usize },
}

/// One gate call inside a definition: formal qubit indices and parameter expressions.
struct BodyOp {
    callee: Callee,
    name: String,
    params: Vec<Expr>,
    qubits: Vec<usize>,
}

/// A user `gate` definition.
struct GateDef {
    params: usize,
    qubits: usize,
    body: Vec<BodyOp>,
    /// Nesting depth of definitions (1 = only table gates inside).
    depth: usize,
    /// Operations one call expands to (saturating).
    size: u64,
}

/// Parser state shared by a file and the files it includes.
struct State {
    qregs: Vec<Register>,
    cregs: Vec<Register>,
    names: HashMap<String, Callee>,
    defs: Vec<GateDef>,
    circuit: Circuit,
    /// Directory that relative includes are read from (`None`: includes are refused).
    dir: Option<PathBuf>,
    include_depth: usize,
}

struct Parser<'s> {
    toks: Vec<Token>,
    pos: usize,
    st: &'s mut State,
}

/// Where an op comes from, for errors raised while expanding it.
#[derive(Clone, Copy)]
struct At {
    line: usize,
    col: usize,
}

impl Parser<'_> {
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

    fn ident(&mut self, what: &str) -> Result<(String, At), CircuitError> {
        match &self.peek().tok {
            Tok::Ident(s) => {
                let s = s.clone();
                let t = self.next();
                Ok((
                    s,
                    At {
                        line: t.line,
                        col: t.col,
                    },
                ))
            }
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
        self.statements()
    }

    fn statements(&mut self) -> Result<(), CircuitError> {
        while self.peek().tok != Tok::Eof {
            self.statement()?;
        }
        Ok(())
    }

    fn statement(&mut self) -> Result<(), CircuitError> {
        let (name, at) =
            self.ident("a statement (qreg, creg, gate, a gate call, measure, reset, if)")?;
        match name.as_str() {
            "include" => self.include(),
            "qreg" | "creg" => self.register(name == "qreg"),
            "OPENQASM" => Err(CircuitError::Syntax {
                line: at.line,
                col: at.col,
                found: "`OPENQASM` after the first statement".into(),
                expected: "the `OPENQASM 2.0;` header only at the start".into(),
            }),
            "gate" => self.gate_def(),
            "opaque" => self.opaque(),
            "barrier" => {
                self.args(false)?;
                self.expect_sym(";")
            }
            "if" => {
                self.expect_sym("(")?;
                let (reg, rat) = self.ident("a classical register")?;
                let r = self.find_reg(&reg, rat, true)?;
                self.expect_sym("==")?;
                let value = self.int("an integer")?;
                self.expect_sym(")")?;
                let cond = Condition {
                    start: r.start,
                    len: r.size,
                    value: value as u64,
                };
                let (name, at) = self.ident("a gate call, measure or reset after `if (…)`")?;
                self.quantum_op(&name, at, Some(cond))
            }
            _ => self.quantum_op(&name, at, None),
        }
    }

    fn quantum_op(
        &mut self,
        name: &str,
        at: At,
        cond: Option<Condition>,
    ) -> Result<(), CircuitError> {
        match name {
            "measure" => {
                let q = self.arg(false)?;
                self.expect_sym("->")?;
                let c = self.arg(true)?;
                self.expect_sym(";")?;
                for p in broadcast("measure", &[q, c], at)? {
                    self.push(
                        Op::Measure {
                            q: p[0],
                            c: p[1],
                            cond,
                        },
                        name,
                        at,
                    )?;
                }
                Ok(())
            }
            "reset" => {
                let q = self.arg(false)?;
                self.expect_sym(";")?;
                for p in broadcast("reset", &[q], at)? {
                    self.push(Op::Reset { q: p[0], cond }, name, at)?;
                }
                Ok(())
            }
            _ => self.gate_call(name, at, cond),
        }
    }

    fn push(&mut self, op: Op, name: &str, at: At) -> Result<(), CircuitError> {
        if self.st.circuit.ops.len() >= MAX_OPS {
            return Err(CircuitError::TooManyOps {
                line: at.line,
                col: at.col,
                name: name.into(),
                max: MAX_OPS,
            });
        }
        self.st.circuit.ops.push(op);
        Ok(())
    }

    fn include(&mut self) -> Result<(), CircuitError> {
        let f = self.next();
        let Tok::Str(file) = &f.tok else {
            self.pos -= 1;
            return Err(self.err_here("a file name in quotes"));
        };
        self.expect_sym(";")?;
        if file == "qelib1.inc" {
            return Ok(());
        }
        let Some(dir) = self.st.dir.clone() else {
            return Err(CircuitError::Unsupported {
                line: f.line,
                col: f.col,
                construct: format!("include \"{file}\""),
                expected: "include \"qelib1.inc\" (other includes need the program to be \
                           read from a file)",
            });
        };
        if self.st.include_depth >= MAX_INCLUDE_DEPTH {
            return Err(CircuitError::TooDeep {
                line: f.line,
                col: f.col,
                what: "include",
                max: MAX_INCLUDE_DEPTH,
            });
        }
        let path = dir.join(file);
        let text =
            crate::input::read_text(&path, MAX_QASM_BYTES).map_err(|e| CircuitError::Read {
                file: path.display().to_string(),
                problem: format!("{e} (included at {}:{})", f.line, f.col),
            })?;
        let wrap = |e: CircuitError| CircuitError::InFile {
            file: path.display().to_string(),
            inner: Box::new(e),
        };
        let toks = lex(&text).map_err(wrap)?;
        self.st.include_depth += 1;
        let saved_dir = std::mem::replace(&mut self.st.dir, path.parent().map(Path::to_path_buf));
        let r = Parser {
            toks,
            pos: 0,
            st: &mut *self.st,
        }
        .statements();
        self.st.dir = saved_dir;
        self.st.include_depth -= 1;
        r.map_err(|e| match e {
            e @ CircuitError::InFile { .. } => e,
            e => wrap(e),
        })
    }

    fn register(&mut self, quantum: bool) -> Result<(), CircuitError> {
        let (name, at) = self.ident("a register name")?;
        if self
            .st
            .qregs
            .iter()
            .chain(&self.st.cregs)
            .any(|r| r.name == name)
        {
            return Err(CircuitError::Syntax {
                line: at.line,
                col: at.col,
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
            (&mut self.st.qregs, &mut self.st.circuit.qubits)
        } else {
            (&mut self.st.cregs, &mut self.st.circuit.clbits)
        };
        let max = if quantum { MAX_QUBITS } else { MAX_CLBITS };
        let new_total = total.checked_add(size).filter(|&t| t <= max);
        let Some(new_total) = new_total else {
            return Err(CircuitError::Syntax {
                line: size_tok.line,
                col: size_tok.col,
                found: format!("{size} more {}", if quantum { "qubits" } else { "bits" }),
                expected: if quantum {
                    format!("at most {MAX_QUBITS} qubits in all")
                } else {
                    format!("at most {MAX_CLBITS} classical bits in all")
                },
            });
        };
        regs.push(Register {
            name,
            start: *total,
            size,
        });
        *total = new_total;
        Ok(())
    }

    fn find_reg(&self, name: &str, at: At, classical: bool) -> Result<Register, CircuitError> {
        let regs = if classical {
            &self.st.cregs
        } else {
            &self.st.qregs
        };
        regs.iter()
            .find(|r| r.name == name)
            .cloned()
            .ok_or_else(|| CircuitError::UnknownRegister {
                line: at.line,
                col: at.col,
                name: name.into(),
                kind: if classical { "classical" } else { "quantum" },
            })
    }

    fn arg(&mut self, classical: bool) -> Result<Arg, CircuitError> {
        let kind = if classical { "classical" } else { "quantum" };
        let (name, at) = self.ident(&format!("a {kind} register"))?;
        let r = self.find_reg(&name, at, classical)?;
        if self.eat_sym("[") {
            let it = self.peek().clone();
            let index = self.int("an index")?;
            self.expect_sym("]")?;
            if index >= r.size {
                return Err(CircuitError::IndexOutOfRange {
                    line: it.line,
                    col: it.col,
                    register: name,
                    index,
                    size: r.size,
                });
            }
            Ok(Arg {
                bits: vec![r.start + index],
                whole: false,
                line: at.line,
                col: at.col,
            })
        } else {
            Ok(Arg {
                bits: (r.start..r.start + r.size).collect(),
                whole: true,
                line: at.line,
                col: at.col,
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

    /// What `name` refers to at `at`, or a located error with a hint.
    fn callee(&self, name: &str, at: At) -> Result<Callee, CircuitError> {
        if let Some(c) = self.st.names.get(name) {
            return Ok(*c);
        }
        lookup(name)
            .map(Callee::Table)
            .ok_or_else(|| CircuitError::UnknownGate {
                line: at.line,
                col: at.col,
                name: name.into(),
                hint: nearest_name(name),
            })
    }

    /// `(expr, …)` if present.
    fn param_list(&mut self, formals: &[String]) -> Result<Vec<Expr>, CircuitError> {
        let mut p = Vec::new();
        if self.eat_sym("(") && !self.eat_sym(")") {
            p.push(self.expr(formals)?);
            while self.eat_sym(",") {
                p.push(self.expr(formals)?);
            }
            self.expect_sym(")")?;
        }
        Ok(p)
    }

    fn gate_call(
        &mut self,
        name: &str,
        at: At,
        cond: Option<Condition>,
    ) -> Result<(), CircuitError> {
        let callee = self.callee(name, at)?;
        let exprs = self.param_list(&[])?;
        let params: Vec<f64> = exprs.iter().map(|e| e.eval(&[])).collect();
        let args = self.args(false)?;
        self.expect_sym(";")?;
        let (np, nq) = signature(callee, &self.st.defs, args.len());
        check_call(name, at, np, params.len(), nq, args.len())?;
        for qs in broadcast(name, &args, at)? {
            if let Some(k) = (1..qs.len()).find(|&k| qs[..k].contains(&qs[k])) {
                return Err(CircuitError::BadCall {
                    line: args[k].line,
                    col: args[k].col,
                    gate: name.into(),
                    problem: format!("acts on the same qubit {} twice", qs[k]),
                });
            }
            self.expand(callee, name, &params, &qs, cond, at)?;
        }
        Ok(())
    }

    /// Appends the ops of `callee(params) qubits` (definitions expanded; their depth is
    /// bounded by [`MAX_DEPTH`] when they are defined).
    fn expand(
        &mut self,
        callee: Callee,
        name: &str,
        params: &[f64],
        qubits: &[usize],
        cond: Option<Condition>,
        at: At,
    ) -> Result<(), CircuitError> {
        if let Some(k) = params.iter().position(|p| !p.is_finite()) {
            return Err(CircuitError::BadCall {
                line: at.line,
                col: at.col,
                gate: name.into(),
                problem: format!("parameter {} evaluates to {}", k + 1, params[k]),
            });
        }
        match callee {
            Callee::Table(spec) => {
                let gate = spec.make(params, qubits.len());
                self.push(
                    Op::Gate {
                        gate,
                        qubits: qubits.to_vec(),
                        cond,
                    },
                    name,
                    at,
                )
            }
            Callee::Opaque { .. } => Err(CircuitError::Opaque {
                line: at.line,
                col: at.col,
                name: name.into(),
            }),
            Callee::User(d) => {
                let size = self.st.defs[d].size;
                if self.st.circuit.ops.len() as u64 + size > MAX_OPS as u64 {
                    return Err(CircuitError::TooManyOps {
                        line: at.line,
                        col: at.col,
                        name: name.into(),
                        max: MAX_OPS,
                    });
                }
                for k in 0..self.st.defs[d].body.len() {
                    let b = &self.st.defs[d].body[k];
                    let (sub, sub_name) = (b.callee, b.name.clone());
                    let ps: Vec<f64> = b.params.iter().map(|e| e.eval(params)).collect();
                    let qs: Vec<usize> = b.qubits.iter().map(|&j| qubits[j]).collect();
                    self.expand(sub, &sub_name, &ps, &qs, cond, at)?;
                }
                Ok(())
            }
        }
    }

    /// `gate name(params) qubits { body }`.
    fn gate_def(&mut self) -> Result<(), CircuitError> {
        let (name, at) = self.ident("a gate name")?;
        let formals = self.formal_list("(", ")")?;
        let qformals = self.ident_list("a qubit name")?;
        self.expect_sym("{")?;
        let mut body = Vec::new();
        let (mut depth, mut size) = (1usize, 0u64);
        while !self.eat_sym("}") {
            let (g, gat) = self.ident("a gate call, `barrier` or `}`")?;
            if g == "barrier" {
                self.ident_list("a qubit name")?;
                self.expect_sym(";")?;
                continue;
            }
            let callee = self.callee(&g, gat)?;
            let params = self.param_list(&formals)?;
            let mut qubits = Vec::new();
            loop {
                let (q, qat) = self.ident("a qubit argument of the gate")?;
                let Some(j) = qformals.iter().position(|f| *f == q) else {
                    return Err(CircuitError::Syntax {
                        line: qat.line,
                        col: qat.col,
                        found: format!("`{q}`"),
                        expected: format!("one of the gate's qubits {}", qformals.join(", ")),
                    });
                };
                if qubits.contains(&j) {
                    return Err(CircuitError::BadCall {
                        line: qat.line,
                        col: qat.col,
                        gate: g,
                        problem: format!("acts on the same qubit `{q}` twice"),
                    });
                }
                qubits.push(j);
                if !self.eat_sym(",") {
                    break;
                }
            }
            self.expect_sym(";")?;
            let (np, nq) = signature(callee, &self.st.defs, qubits.len());
            check_call(&g, gat, np, params.len(), nq, qubits.len())?;
            let (d, s) = match callee {
                Callee::User(k) => (self.st.defs[k].depth, self.st.defs[k].size),
                _ => (0, 1),
            };
            depth = depth.max(d + 1);
            size = size.saturating_add(s);
            body.push(BodyOp {
                callee,
                name: g,
                params,
                qubits,
            });
        }
        if depth > MAX_DEPTH {
            return Err(CircuitError::TooDeep {
                line: at.line,
                col: at.col,
                what: "gate definition",
                max: MAX_DEPTH,
            });
        }
        // A definition of a table gate with the table's signature runs as the table's gate.
        if let Some(spec) = lookup(&name) {
            if spec.params == formals.len() && spec.qubits.accepts(qformals.len()) {
                self.st.names.insert(name, Callee::Table(spec));
                return Ok(());
            }
        }
        self.st.defs.push(GateDef {
            params: formals.len(),
            qubits: qformals.len(),
            body,
            depth,
            size,
        });
        let idx = self.st.defs.len() - 1;
        self.st.names.insert(name, Callee::User(idx));
        Ok(())
    }

    /// `opaque name(params) qubits;`
    fn opaque(&mut self) -> Result<(), CircuitError> {
        let (name, _) = self.ident("a gate name")?;
        let formals = self.formal_list("(", ")")?;
        let qformals = self.ident_list("a qubit name")?;
        self.expect_sym(";")?;
        self.st.names.insert(
            name,
            Callee::Opaque {
                params: formals.len(),
                qubits: qformals.len(),
            },
        );
        Ok(())
    }

    /// `open a, b, … close` if `open` follows (possibly empty).
    fn formal_list(
        &mut self,
        open: &'static str,
        close: &'static str,
    ) -> Result<Vec<String>, CircuitError> {
        let mut v = Vec::new();
        if self.eat_sym(open) && !self.eat_sym(close) {
            v = self.ident_list("a parameter name")?;
            self.expect_sym(close)?;
        }
        Ok(v)
    }

    fn ident_list(&mut self, what: &str) -> Result<Vec<String>, CircuitError> {
        let mut v = vec![self.ident(what)?.0];
        while self.eat_sym(",") {
            v.push(self.ident(what)?.0);
        }
        Ok(v)
    }

    /// A parameter expression; identifiers other than `pi` and the functions must be among
    /// `formals` (the enclosing definition's parameters).
    fn expr(&mut self, formals: &[String]) -> Result<Expr, CircuitError> {
        let mut code = Vec::new();
        self.sum(formals, &mut code, 0)?;
        let e = Expr(code);
        // Fold constants so that large constant expressions cost nothing per call.
        Ok(match e.constant() {
            Some(v) => Expr(vec![Code::Num(v)]),
            None => e,
        })
    }

    fn deeper(&self, depth: usize) -> Result<usize, CircuitError> {
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

    fn sum(
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

    fn product(
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

    fn unary(
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

    fn primary(
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

/// `(parameters, qubits)` a callee expects (`given` qubits for the variable-size families).
fn signature(callee: Callee, defs: &[GateDef], given: usize) -> (usize, Option<usize>) {
    match callee {
        Callee::Table(s) => (
            s.params,
            (!s.qubits.accepts(given)).then_some(match s.qubits {
                super::gates::Arity::Exactly(k) | super::gates::Arity::AtLeast(k) => k,
            }),
        ),
        Callee::User(d) => (defs[d].params, Some(defs[d].qubits).filter(|&k| k != given)),
        Callee::Opaque { params, qubits } => (params, Some(qubits).filter(|&k| k != given)),
    }
}

/// Checks the parameter and qubit counts of a call (`want_q` is `Some` only on a mismatch).
fn check_call(
    name: &str,
    at: At,
    want_p: usize,
    got_p: usize,
    want_q: Option<usize>,
    got_q: usize,
) -> Result<(), CircuitError> {
    if want_p != got_p {
        return Err(CircuitError::BadCall {
            line: at.line,
            col: at.col,
            gate: name.into(),
            problem: format!("takes {want_p} parameter(s), got {got_p}"),
        });
    }
    if let Some(k) = want_q {
        return Err(CircuitError::BadCall {
            line: at.line,
            col: at.col,
            gate: name.into(),
            problem: format!("acts on {k} qubit(s), got {got_q}"),
        });
    }
    Ok(())
}

/// Expands register arguments: one index tuple per bit of the (equal-sized) registers.
fn broadcast(what: &str, args: &[Arg], at: At) -> Result<Vec<Vec<usize>>, CircuitError> {
    let sizes: Vec<usize> = args
        .iter()
        .filter(|a| a.whole)
        .map(|a| a.bits.len())
        .collect();
    let n = sizes.first().copied().unwrap_or(1);
    if sizes.iter().any(|&s| s != n) {
        return Err(CircuitError::BadCall {
            line: at.line,
            col: at.col,
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

/// The OpenQASM major version a program declares (`OPENQASM 3…;` → 3), 2 without a header.
pub fn version(src: &str) -> u32 {
    let mut rest = src.trim_start_matches('\u{feff}');
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix("//") {
            rest = r.split_once('\n').map_or("", |x| x.1);
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.split_once("*/").map_or("", |x| x.1);
        } else {
            break;
        }
    }
    rest.strip_prefix("OPENQASM")
        .map(|r| r.trim_start())
        .and_then(|r| r.chars().next())
        .and_then(|c| c.to_digit(10))
        .unwrap_or(2)
}

fn parse2(src: &str, dir: Option<PathBuf>) -> Result<Circuit, CircuitError> {
    let mut st = State {
        qregs: Vec::new(),
        cregs: Vec::new(),
        names: HashMap::new(),
        defs: Vec::new(),
        circuit: Circuit::default(),
        dir,
        include_depth: 0,
    };
    Parser {
        toks: lex(src)?,
        pos: 0,
        st: &mut st,
    }
    .program()?;
    let mut c = st.circuit;
    c.qregs = st.qregs;
    c.cregs = st.cregs;
    Ok(c)
}

/// Parses an OpenQASM program into a [`Circuit`] (registers flattened in declaration order:
/// the first `qreg` holds qubits `0..n₁`, the next `n₁..n₁+n₂`, likewise for `creg`). The
/// version comes from the header: `OPENQASM 3` goes to [`super::qasm3::parse_qasm3`] with no
/// input parameters bound; anything else is OpenQASM 2 (module doc). Includes other than
/// `qelib1.inc`/`stdgates.inc` need [`parse_qasm_file`].
///
/// # Errors
/// A [`CircuitError`] naming the line and column of the first problem: a syntax error (what
/// was found and what was expected), an unknown gate (with the nearest known name), an opaque
/// gate applied, an undeclared register, an index out of range, a wrong number of parameters
/// or qubits, nesting beyond [`MAX_DEPTH`], more than [`MAX_OPS`] operations or more than
/// [`MAX_QUBITS`] qubits.
pub fn parse_qasm(src: &str) -> Result<Circuit, CircuitError> {
    if version(src) == 3 {
        return super::qasm3::parse_qasm3(src, &[]);
    }
    parse2(src, None)
}

/// Largest OpenQASM file (or included file) read: 64 MiB of text, far above any published
/// circuit, so that a path naming a device or a runaway file fails at once.
pub const MAX_QASM_BYTES: u64 = 64 << 20;

/// Reads and parses the OpenQASM file `path`; includes are read relative to the including
/// file. OpenQASM 3 `input` parameters take their values from `params` (`name → value`).
///
/// # Errors
/// As [`parse_qasm`]; [`CircuitError::Read`] if a file cannot be read; errors inside an
/// included file are [`CircuitError::InFile`] naming it.
pub fn parse_qasm_file(path: &Path, params: &[(String, f64)]) -> Result<Circuit, CircuitError> {
    let text = read_qasm(path)?;
    parse_qasm_source(&text, path, params)
}

/// Reads the OpenQASM file `path` (a regular file of at most [`MAX_QASM_BYTES`], UTF-8).
///
/// # Errors
/// [`CircuitError::Read`] naming the file.
pub fn read_qasm(path: &Path) -> Result<String, CircuitError> {
    crate::input::read_text(path, MAX_QASM_BYTES).map_err(|e| CircuitError::Read {
        file: path.display().to_string(),
        problem: e.to_string(),
    })
}

/// Parses `text`, the contents of the file `path` (OpenQASM 2 or 3, from its header):
/// includes are read relative to `path`'s folder, `params` bind OpenQASM 3 `input float`s.
///
/// # Errors
/// As [`parse_qasm_file`], without the read.
pub fn parse_qasm_source(
    text: &str,
    path: &Path,
    params: &[(String, f64)],
) -> Result<Circuit, CircuitError> {
    if version(text) == 3 {
        return super::qasm3::parse_qasm3(text, params);
    }
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    parse2(text, Some(dir))
}

/// Writes `circuit` as OpenQASM 2.0: its registers (or one `q[qubits]` and, if there are
/// classical bits, one `c[clbits]`), one line per op, conditions as `if (reg == k)` (a
/// condition must cover one whole register). Angles are written with Rust's shortest
/// round-trip formatting, so [`parse_qasm`] gives back the same ops bit for bit (`u2`, `U`
/// and `u` come back as `u3`, `p` as `u1`).
pub fn to_qasm(circuit: &Circuit) -> String {
    let mut s = String::from("OPENQASM 2.0;\ninclude \"qelib1.inc\";\n");
    let qregs = if circuit.qregs.is_empty() {
        vec![Register {
            name: "q".into(),
            start: 0,
            size: circuit.qubits,
        }]
    } else {
        circuit.qregs.clone()
    };
    let cregs = circuit.creg_layout();
    for r in &qregs {
        let _ = writeln!(s, "qreg {}[{}];", r.name, r.size);
    }
    for r in &cregs {
        let _ = writeln!(s, "creg {}[{}];", r.name, r.size);
    }
    let name_of = |regs: &[Register], i: usize| {
        regs.iter()
            .find(|r| (r.start..r.start + r.size).contains(&i))
            .map(|r| format!("{}[{}]", r.name, i - r.start))
            .unwrap_or_else(|| format!("q[{i}]"))
    };
    for op in &circuit.ops {
        if let Some(c) = op.cond() {
            let reg = cregs
                .iter()
                .find(|r| r.start == c.start && r.size == c.len)
                .map_or("c", |r| r.name.as_str());
            let _ = write!(s, "if ({reg} == {}) ", c.value);
        }
        let _ = match op {
            Op::Gate { gate, qubits, .. } => {
                let p = gate.params();
                let head = if p.is_empty() {
                    gate.name().to_string()
                } else {
                    let list: Vec<String> = p.iter().map(|x| format!("{x}")).collect();
                    format!("{}({})", gate.name(), list.join(","))
                };
                let qs: Vec<String> = qubits.iter().map(|&q| name_of(&qregs, q)).collect();
                writeln!(s, "{head} {};", qs.join(","))
            }
            Op::Measure { q, c, .. } => writeln!(
                s,
                "measure {} -> {};",
                name_of(&qregs, *q),
                name_of(&cregs, *c)
            ),
            Op::Reset { q, .. } => writeln!(s, "reset {};", name_of(&qregs, *q)),
        };
    }
    s
}
