//! The OpenQASM 2 statement parser: registers, includes, gate calls (checked and broadcast
//! over registers) and `gate`/`opaque` definitions expanded at parse time.

use std::path::Path;

use super::lex::{lex, Tok, Token};
use super::{Arg, At, BodyOp, Callee, GateDef, Parser, MAX_INCLUDE_DEPTH, MAX_QASM_BYTES};
use crate::circuit::expr::Expr;
use crate::circuit::gates::{lookup, nearest_name};
use crate::circuit::ir::{Condition, Op, Register};
use crate::circuit::{CircuitError, MAX_CLBITS, MAX_DEPTH, MAX_OPS, MAX_QUBITS};

impl Parser<'_> {
    pub(super) fn peek(&self) -> &Token {
        &self.toks[self.pos]
    }

    pub(super) fn next(&mut self) -> Token {
        let t = self.toks[self.pos].clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    pub(super) fn err_here(&self, expected: &str) -> CircuitError {
        let t = self.peek();
        CircuitError::Syntax {
            line: t.line,
            col: t.col,
            found: t.tok.describe(),
            expected: expected.into(),
        }
    }

    pub(super) fn expect_sym(&mut self, s: &'static str) -> Result<(), CircuitError> {
        if self.peek().tok == Tok::Sym(s) {
            self.next();
            Ok(())
        } else {
            Err(self.err_here(&format!("`{s}`")))
        }
    }

    pub(super) fn eat_sym(&mut self, s: &'static str) -> bool {
        if self.peek().tok == Tok::Sym(s) {
            self.next();
            true
        } else {
            false
        }
    }

    pub(super) fn ident(&mut self, what: &str) -> Result<(String, At), CircuitError> {
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

    pub(super) fn int(&mut self, what: &str) -> Result<usize, CircuitError> {
        match self.peek().tok {
            Tok::Int(n) => {
                self.next();
                Ok(n)
            }
            _ => Err(self.err_here(what)),
        }
    }

    pub(super) fn program(&mut self) -> Result<(), CircuitError> {
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

    pub(super) fn statements(&mut self) -> Result<(), CircuitError> {
        while self.peek().tok != Tok::Eof {
            self.statement()?;
        }
        Ok(())
    }

    pub(super) fn statement(&mut self) -> Result<(), CircuitError> {
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

    pub(super) fn quantum_op(
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

    pub(super) fn push(&mut self, op: Op, name: &str, at: At) -> Result<(), CircuitError> {
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

    pub(super) fn include(&mut self) -> Result<(), CircuitError> {
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

    pub(super) fn register(&mut self, quantum: bool) -> Result<(), CircuitError> {
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

    pub(super) fn find_reg(
        &self,
        name: &str,
        at: At,
        classical: bool,
    ) -> Result<Register, CircuitError> {
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

    pub(super) fn arg(&mut self, classical: bool) -> Result<Arg, CircuitError> {
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

    pub(super) fn args(&mut self, classical: bool) -> Result<Vec<Arg>, CircuitError> {
        let mut v = vec![self.arg(classical)?];
        while self.eat_sym(",") {
            v.push(self.arg(classical)?);
        }
        Ok(v)
    }

    /// What `name` refers to at `at`, or a located error with a hint.
    pub(super) fn callee(&self, name: &str, at: At) -> Result<Callee, CircuitError> {
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
    pub(super) fn param_list(&mut self, formals: &[String]) -> Result<Vec<Expr>, CircuitError> {
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

    pub(super) fn gate_call(
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
    pub(super) fn expand(
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
    pub(super) fn gate_def(&mut self) -> Result<(), CircuitError> {
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
    pub(super) fn opaque(&mut self) -> Result<(), CircuitError> {
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
    pub(super) fn formal_list(
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

    pub(super) fn ident_list(&mut self, what: &str) -> Result<Vec<String>, CircuitError> {
        let mut v = vec![self.ident(what)?.0];
        while self.eat_sym(",") {
            v.push(self.ident(what)?.0);
        }
        Ok(v)
    }
}

/// `(parameters, qubits)` a callee expects (`given` qubits for the variable-size families).
pub(super) fn signature(callee: Callee, defs: &[GateDef], given: usize) -> (usize, Option<usize>) {
    match callee {
        Callee::Table(s) => (
            s.params,
            (!s.qubits.accepts(given)).then_some(match s.qubits {
                crate::circuit::gates::Arity::Exactly(k)
                | crate::circuit::gates::Arity::AtLeast(k) => k,
            }),
        ),
        Callee::User(d) => (defs[d].params, Some(defs[d].qubits).filter(|&k| k != given)),
        Callee::Opaque { params, qubits } => (params, Some(qubits).filter(|&k| k != given)),
    }
}

/// Checks the parameter and qubit counts of a call (`want_q` is `Some` only on a mismatch).
pub(super) fn check_call(
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
pub(super) fn broadcast(what: &str, args: &[Arg], at: At) -> Result<Vec<Vec<usize>>, CircuitError> {
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
