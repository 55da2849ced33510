//! OpenQASM 3 import through Qiskit's own front end: `oq3_syntax` parses, `oq3_semantics`
//! resolves names and types, and this module lowers the resulting program to the op list.
//!
//! The subset is what `qiskit.qasm3.dumps` writes for the circuits [`super::qasm`] reads:
//! `include "stdgates.inc";`, `qubit[n]`/`bit[n]` (and `qreg`/`creg`), `gate` definitions
//! (nested, with parameters), gate calls (every name of [`super::gates::TABLE`], `U`),
//! `c[i] = measure q[j];` (and whole registers), `reset`, `barrier`, `gphase` (a global phase:
//! no effect), `if (c == k) { … }` on a register or a bit (with `else` on a bit), and
//! `input float θ;` parameters bound by the caller, and hardware qubits `$n` (physical addressing,
//! as `dumps` writes a transpiled circuit: `$0 … $n` wide, as Qiskit's importer reads it). Loops, subroutines, `switch`, timing
//! (`delay`, `box`, durations), gate modifiers, calibrations and includes of other files are
//! refused with a located error naming the construct.
//!
//! Qiskit's parser recurses over the syntax tree and panics on some malformed input, so the
//! text is first checked for nesting (brackets, unary operators and operators per statement,
//! at most [`MAX_DEPTH`]) and the parser runs on its own thread with a large stack; a panic
//! there becomes an error.

use std::collections::HashMap;
use std::f64::consts::{E, PI};

use oq3_semantics::asg::{
    self, ArithOp, BinaryOp, Expr, GateOperand, IndexOperator, LValue, Literal, Stmt, TExpr,
    UnaryOp,
};
use oq3_semantics::symbols::{SymbolId, SymbolIdResult, SymbolTable, SymbolType};
use oq3_semantics::syntax_to_semantics::parse_source_string;
use oq3_semantics::types::{ArrayDims, Type};

use super::gates::{lookup, nearest_name, GateSpec};
use super::ir::{Circuit, Condition, Op, Register};
use super::{CircuitError, MAX_CLBITS, MAX_DEPTH, MAX_OPS, MAX_QUBITS};

mod syntax;

use syntax::{check_syntax, line_col, prescan, unsupported};

/// Parses an OpenQASM 3 program (module doc) into a [`Circuit`]; `params` gives the values of
/// its `input float` parameters by name.
///
/// # Errors
/// A located [`CircuitError`]: a syntax or semantic error reported by Qiskit's front end, a
/// construct outside the subset (named), an unknown gate, an input without a value, nesting
/// beyond [`MAX_DEPTH`], more than [`MAX_QUBITS`] qubits or [`MAX_OPS`] operations.
pub fn parse_qasm3(src: &str, params: &[(String, f64)]) -> Result<Circuit, CircuitError> {
    prescan(src)?;
    let text = src.to_string();
    let params = params.to_vec();
    let worker = std::thread::Builder::new()
        .name("openqasm3".into())
        .stack_size(256 << 20)
        .spawn(move || {
            let offsets = check_syntax(&text)?;
            let result = parse_source_string(&text, Some("input.qasm"), None::<&[&str]>);
            let ctx = result.take_context();
            if let Some(e) = ctx.errors().first() {
                let (line, col) = line_col(&text, e.range().start().into());
                return Err(CircuitError::Syntax {
                    line,
                    col,
                    found: format!("`{}`", e.message()),
                    expected: "a declared name of the right type (OpenQASM 3 semantics)".into(),
                });
            }
            let mut l = Lowering {
                src: &text,
                table: ctx.symbol_table(),
                params: &params,
                regs: HashMap::new(),
                inputs: HashMap::new(),
                defs: HashMap::new(),
                circuit: Circuit::default(),
                here: 0,
                depth: 0,
                hardware: std::cell::Cell::new(0),
            };
            for (k, stmt) in ctx.program().stmts().iter().enumerate() {
                l.here = offsets.get(k).copied().unwrap_or(0);
                l.stmt(stmt, None)?;
            }
            let width = l.hardware.get();
            let mut circuit = l.circuit;
            circuit.qubits = circuit.qubits.max(width);
            Ok(circuit)
        });
    let joined = worker.map_err(|e| CircuitError::Read {
        file: "<OpenQASM 3 parser thread>".into(),
        problem: e.to_string(),
    })?;
    joined.join().unwrap_or_else(|_| {
        Err(unsupported(
            src,
            0,
            "a program that Qiskit's OpenQASM 3 front end cannot analyse",
        ))
    })
}

/// A declared register: its kind and flat range.
#[derive(Clone, Copy)]
struct Reg {
    quantum: bool,
    start: usize,
    size: usize,
    /// Declared as a single `qubit`/`bit` (indexing it is an error).
    scalar: bool,
}

/// A user gate definition.
#[derive(Clone)]
struct Def {
    params: Vec<SymbolId>,
    qubits: Vec<SymbolId>,
    body: Vec<Stmt>,
}

/// Names bound while expanding a gate definition.
#[derive(Clone, Default)]
struct Env {
    params: HashMap<SymbolId, f64>,
    qubits: HashMap<SymbolId, usize>,
}

struct Lowering<'a> {
    src: &'a str,
    table: &'a SymbolTable,
    params: &'a [(String, f64)],
    regs: HashMap<SymbolId, Reg>,
    inputs: HashMap<SymbolId, f64>,
    defs: HashMap<String, Def>,
    circuit: Circuit,
    /// Byte offset of the top-level statement being lowered.
    here: usize,
    depth: usize,
    /// One more than the highest hardware qubit `$n` named so far (0: none). Qiskit's
    /// importer makes a physical circuit `$0 … $n` wide, qubit `k` being `$k`; the circuit's
    /// width is raised to this when lowering ends.
    hardware: std::cell::Cell<usize>,
}

enum Callee<'d> {
    Table(&'static GateSpec),
    User(&'d Def),
}

impl Lowering<'_> {
    fn at(&self) -> (usize, usize) {
        line_col(self.src, self.here)
    }

    fn refuse(&self, what: &str) -> CircuitError {
        unsupported(self.src, self.here, what)
    }

    /// Qubit `n` of hardware qubit `$n`, as Qiskit's importer reads physical addressing: the
    /// circuit is `$0 … $n` wide (the highest `$n` in the program), with no declared qubits
    /// beside them and none inside a gate definition, whose body names only its arguments.
    fn hardware_qubit(&self, name: &str, env: &Env, quantum: bool) -> Result<usize, CircuitError> {
        if !quantum {
            return Err(self.refuse("a hardware qubit ($n) where a classical bit is expected"));
        }
        if !env.qubits.is_empty() {
            return Err(self.refuse("a hardware qubit ($n) inside a gate definition"));
        }
        if !self.circuit.qregs.is_empty() {
            return Err(self.refuse(
                "a hardware qubit ($n) in a program that declares qubits: one program uses one or the other",
            ));
        }
        let n: usize = name
            .strip_prefix('$')
            .and_then(|d| d.parse().ok())
            .ok_or_else(|| self.refuse("a hardware qubit name other than `$` and digits"))?;
        if n >= MAX_QUBITS {
            let (line, col) = self.at();
            return Err(CircuitError::Syntax {
                line,
                col,
                found: format!("hardware qubit ${n}"),
                expected: format!(
                    "at most {MAX_QUBITS} qubits (`$0` to `${}`)",
                    MAX_QUBITS - 1
                ),
            });
        }
        self.hardware.set(self.hardware.get().max(n + 1));
        Ok(n)
    }

    fn bad(&self, gate: &str, problem: String) -> CircuitError {
        let (line, col) = self.at();
        CircuitError::BadCall {
            line,
            col,
            gate: gate.into(),
            problem,
        }
    }

    fn id(&self, r: &SymbolIdResult) -> Result<SymbolId, CircuitError> {
        r.clone().map_err(|_| self.refuse("an undeclared name"))
    }

    fn name(&self, id: &SymbolId) -> String {
        self.table[id].name().to_string()
    }

    fn push(&mut self, op: Op, what: &str) -> Result<(), CircuitError> {
        if self.circuit.ops.len() >= MAX_OPS {
            let (line, col) = self.at();
            return Err(CircuitError::TooManyOps {
                line,
                col,
                name: what.into(),
                max: MAX_OPS,
            });
        }
        self.circuit.ops.push(op);
        Ok(())
    }

    fn declare(&mut self, id: &SymbolIdResult, quantum: bool) -> Result<(), CircuitError> {
        let id = self.id(id)?;
        let (size, scalar) = match self.table[&id].symbol_type() {
            Type::Qubit | Type::Bit(_) => (1, true),
            Type::QubitArray(ArrayDims::D1(n)) | Type::BitArray(ArrayDims::D1(n), _) => (*n, false),
            t => return Err(self.refuse(&format!("a declaration of type {t:?}"))),
        };
        if quantum && self.hardware.get() > 0 {
            return Err(self.refuse(
                "a qubit declaration after hardware qubits ($n): one program uses one or the other",
            ));
        }
        let name = self.name(&id);
        let (regs, total) = if quantum {
            (&mut self.circuit.qregs, &mut self.circuit.qubits)
        } else {
            (&mut self.circuit.cregs, &mut self.circuit.clbits)
        };
        let start = *total;
        *total += size;
        regs.push(Register { name, start, size });
        let (total, max, what) = if quantum {
            (self.circuit.qubits, MAX_QUBITS, "qubits")
        } else {
            (self.circuit.clbits, MAX_CLBITS, "classical bits")
        };
        if total > max {
            let (line, col) = self.at();
            return Err(CircuitError::Syntax {
                line,
                col,
                found: format!("{total} {what} in all"),
                expected: format!("at most {max} {what}"),
            });
        }
        self.regs.insert(
            id,
            Reg {
                quantum,
                start,
                size,
                scalar,
            },
        );
        Ok(())
    }

    fn stmt(&mut self, stmt: &Stmt, cond: Option<Condition>) -> Result<(), CircuitError> {
        self.stmt_in(stmt, cond, &Env::default())
    }

    fn stmt_in(
        &mut self,
        stmt: &Stmt,
        cond: Option<Condition>,
        env: &Env,
    ) -> Result<(), CircuitError> {
        match stmt {
            Stmt::DeclareQuantum(d) => self.declare(d.name(), true),
            Stmt::DeclareClassical(d) => {
                let id = d.name().clone();
                self.declare(&id, false)?;
                if let Some(init) = d.initializer() {
                    match init.expression() {
                        Expr::MeasureExpression(m) => {
                            let target = Expr::Identifier(id);
                            self.measure(m.operand(), &target, cond, env)?;
                        }
                        _ => return Err(self.refuse("an initialised bit declaration")),
                    }
                }
                Ok(())
            }
            Stmt::InputDeclaration(d) => {
                let id = self.id(d.name())?;
                let name = self.name(&id);
                match self.table[&id].symbol_type() {
                    Type::Float(..) | Type::Angle(..) => {}
                    t => return Err(self.refuse(&format!("an input of type {t:?}"))),
                }
                let Some(&(_, v)) = self.params.iter().find(|(k, _)| *k == name) else {
                    let (line, col) = self.at();
                    return Err(CircuitError::BadCall {
                        line,
                        col,
                        gate: format!("input {name}"),
                        problem: format!("has no value; pass --param {name}=VALUE"),
                    });
                };
                self.inputs.insert(id, v);
                Ok(())
            }
            Stmt::GateDefinition(g) => {
                let name = self.name(&self.id(g.name())?);
                let params = g
                    .params()
                    .unwrap_or(&[])
                    .iter()
                    .map(|p| self.id(p))
                    .collect::<Result<Vec<_>, _>>()?;
                let qubits = g
                    .qubits()
                    .iter()
                    .map(|p| self.id(p))
                    .collect::<Result<Vec<_>, _>>()?;
                self.defs.insert(
                    name,
                    Def {
                        params,
                        qubits,
                        body: g.block().statements().to_vec(),
                    },
                );
                Ok(())
            }
            Stmt::GateCall(call) => self.gate_call(call, cond, env),
            Stmt::Assignment(a) => match a.rvalue().expression() {
                Expr::MeasureExpression(m) => {
                    let target = match a.lvalue() {
                        LValue::Identifier(id) => Expr::Identifier(id.clone()),
                        LValue::IndexedIdentifier(ii) => Expr::IndexedIdentifier(ii.clone()),
                    };
                    self.measure(m.operand(), &target, cond, env)
                }
                _ => Err(self.refuse("a classical assignment")),
            },
            Stmt::Reset(r) => {
                for q in self.qubits_of(r.gate_operand(), env)? {
                    self.push(Op::Reset { q, cond }, "reset")?;
                }
                Ok(())
            }
            Stmt::Barrier(_) | Stmt::Pragma(_) | Stmt::GPhaseCall(_) => Ok(()),
            Stmt::AnnotatedStmt(a) => self.stmt_in(a.statement(), cond, env),
            Stmt::Block(b) => {
                for s in b.statements() {
                    self.stmt_in(s, cond, env)?;
                }
                Ok(())
            }
            Stmt::If(i) => {
                if cond.is_some() {
                    return Err(self.refuse("an `if` inside an `if`"));
                }
                let (c, negation) = self.condition(i.condition())?;
                for s in i.then_branch().statements() {
                    self.stmt_in(s, Some(c), env)?;
                }
                if let Some(e) = i.else_branch() {
                    let Some(neg) = negation else {
                        return Err(self.refuse("`else` after a condition on several bits"));
                    };
                    for s in e.statements() {
                        self.stmt_in(s, Some(neg), env)?;
                    }
                }
                Ok(())
            }
            Stmt::ExprStmt(_) => Err(self.refuse("an expression statement")),
            Stmt::Delay(_) => Err(self.refuse("delay (timing)")),
            Stmt::ForStmt(_) => Err(self.refuse("for loop")),
            Stmt::While(_) => Err(self.refuse("while loop")),
            Stmt::DefStmt(_) => Err(self.refuse("subroutine (def)")),
            Stmt::SwitchCaseStmt(_) => Err(self.refuse("switch")),
            Stmt::OutputDeclaration(_) => Err(self.refuse("output declaration")),
            _ => Err(self.refuse("this statement")),
        }
    }

    /// The qubits an operand names (a register broadcasts to all of its qubits).
    fn qubits_of(&self, e: &TExpr, env: &Env) -> Result<Vec<usize>, CircuitError> {
        self.bits_of(e.expression(), env, true)
    }

    fn bits_of(&self, e: &Expr, env: &Env, quantum: bool) -> Result<Vec<usize>, CircuitError> {
        let (id, index) = match e {
            Expr::GateOperand(GateOperand::Identifier(id)) | Expr::Identifier(id) => {
                (self.id(id)?, None)
            }
            Expr::GateOperand(GateOperand::IndexedIdentifier(ii)) | Expr::IndexedIdentifier(ii) => {
                let idx = match ii.indexes() {
                    [IndexOperator::ExpressionList(l)] if l.expressions.len() == 1 => {
                        let v = self.eval(&l.expressions[0], env)?;
                        if v < 0.0 || v.fract() != 0.0 {
                            return Err(self.refuse("a non-integer or negative index"));
                        }
                        v as usize
                    }
                    _ => return Err(self.refuse("a slice or multi-dimensional index")),
                };
                (self.id(ii.identifier())?, Some(idx))
            }
            Expr::GateOperand(GateOperand::HardwareQubit(h)) | Expr::HardwareQubit(h) => {
                return self
                    .hardware_qubit(h.identifier(), env, quantum)
                    .map(|q| vec![q]);
            }
            _ => return Err(self.refuse("this operand")),
        };
        if quantum {
            if let Some(&q) = env.qubits.get(&id) {
                return match index {
                    None => Ok(vec![q]),
                    Some(_) => Err(self.refuse("an index on a gate's qubit argument")),
                };
            }
        }
        let Some(r) = self.regs.get(&id).copied().filter(|r| r.quantum == quantum) else {
            let (line, col) = self.at();
            return Err(CircuitError::UnknownRegister {
                line,
                col,
                name: self.name(&id),
                kind: if quantum { "quantum" } else { "classical" },
            });
        };
        match index {
            None => Ok((r.start..r.start + r.size).collect()),
            Some(i) if i < r.size && !r.scalar => Ok(vec![r.start + i]),
            Some(i) => {
                let (line, col) = self.at();
                Err(CircuitError::IndexOutOfRange {
                    line,
                    col,
                    register: self.name(&id),
                    index: i,
                    size: r.size,
                })
            }
        }
    }

    fn measure(
        &mut self,
        operand: &TExpr,
        target: &Expr,
        cond: Option<Condition>,
        env: &Env,
    ) -> Result<(), CircuitError> {
        let qs = self.qubits_of(operand, env)?;
        let cs = self.bits_of(target, env, false)?;
        if qs.len() != cs.len() {
            return Err(self.bad(
                "measure",
                format!("of {} qubits into {} bits", qs.len(), cs.len()),
            ));
        }
        for (q, c) in qs.into_iter().zip(cs) {
            self.push(Op::Measure { q, c, cond }, "measure")?;
        }
        Ok(())
    }

    /// `(condition, its negation if it is on one bit)`.
    fn condition(&self, e: &TExpr) -> Result<(Condition, Option<Condition>), CircuitError> {
        let env = Env::default();
        let (bits_expr, value, negate) = match e.expression() {
            Expr::BinaryExpr(b) => {
                let eq = match b.op() {
                    BinaryOp::CmpOp(asg::CmpOp::Eq) => true,
                    BinaryOp::CmpOp(asg::CmpOp::Neq) => false,
                    _ => return Err(self.refuse("a condition other than == or !=")),
                };
                let (l, r) = (b.left().expression(), b.right().expression());
                let (bits, lit) = if matches!(l, Expr::Literal(_)) {
                    (r, l)
                } else {
                    (l, r)
                };
                let v = match lit {
                    Expr::Literal(Literal::Int(i)) if *i.sign() => *i.value(),
                    Expr::Literal(Literal::Bool(x)) => u128::from(*x.value()),
                    Expr::Literal(Literal::BitString(s)) => {
                        u128::from_str_radix(&s.value().replace('_', ""), 2)
                            .map_err(|_| self.refuse("this bit string"))?
                    }
                    _ => return Err(self.refuse("a condition on a non-literal value")),
                };
                (bits, v, !eq)
            }
            Expr::UnaryExpr(u) if matches!(u.op(), UnaryOp::Not) => {
                (u.operand().expression(), 1, true)
            }
            other => (other, 1, false),
        };
        let bits = self.bits_of(bits_expr, &env, false)?;
        let start = bits.first().copied().unwrap_or(0);
        let len = bits.len();
        let value = u64::try_from(value).unwrap_or(u64::MAX);
        let c = Condition { start, len, value };
        let flip = (len == 1).then_some(Condition {
            start,
            len,
            value: value ^ 1,
        });
        match (negate, flip) {
            (false, f) => Ok((c, f)),
            (true, Some(f)) => Ok((f, Some(c))),
            (true, None) => Err(self.refuse("`!=` on several bits")),
        }
    }

    fn gate_call(
        &mut self,
        call: &asg::GateCall,
        cond: Option<Condition>,
        env: &Env,
    ) -> Result<(), CircuitError> {
        if !call.modifiers().is_empty() {
            return Err(self.refuse("gate modifier (ctrl @, inv @, pow @)"));
        }
        let name = self.name(&self.id(call.name())?);
        let params = call
            .params()
            .unwrap_or(&[])
            .iter()
            .map(|p| self.eval(p, env))
            .collect::<Result<Vec<f64>, _>>()?;
        if let Some(k) = params.iter().position(|p| !p.is_finite()) {
            return Err(self.bad(
                &name,
                format!("parameter {} evaluates to {}", k + 1, params[k]),
            ));
        }
        let args = call
            .qubits()
            .iter()
            .map(|q| self.qubits_of(q, env))
            .collect::<Result<Vec<_>, _>>()?;
        // Whole registers broadcast (all of the same size).
        let n = args
            .iter()
            .map(Vec::len)
            .filter(|&l| l != 1)
            .max()
            .unwrap_or(1);
        if args.iter().any(|a| a.len() != 1 && a.len() != n) {
            return Err(self.bad(&name, "applied to registers of different sizes".into()));
        }
        let defs = std::mem::take(&mut self.defs);
        let callee = match defs.get(&name) {
            Some(d) => match lookup(&name) {
                Some(s) if s.params == d.params.len() && s.qubits.accepts(d.qubits.len()) => {
                    Callee::Table(s)
                }
                _ => Callee::User(d),
            },
            None => match lookup(&name) {
                Some(s) => Callee::Table(s),
                None => {
                    self.defs = defs;
                    let (line, col) = self.at();
                    return Err(CircuitError::UnknownGate {
                        line,
                        col,
                        hint: nearest_name(&name),
                        name,
                    });
                }
            },
        };
        let r = (0..n).try_for_each(|k| {
            let qs: Vec<usize> = args
                .iter()
                .map(|a| if a.len() == 1 { a[0] } else { a[k] })
                .collect();
            if let Some(j) = (1..qs.len()).find(|&j| qs[..j].contains(&qs[j])) {
                return Err(self.bad(&name, format!("acts on the same qubit {} twice", qs[j])));
            }
            self.apply(&callee, &name, &params, &qs, cond)
        });
        self.defs = defs;
        r
    }

    fn apply(
        &mut self,
        callee: &Callee<'_>,
        name: &str,
        params: &[f64],
        qs: &[usize],
        cond: Option<Condition>,
    ) -> Result<(), CircuitError> {
        match callee {
            Callee::Table(s) => {
                if s.params != params.len() || !s.qubits.accepts(qs.len()) {
                    return Err(self.bad(
                        name,
                        format!(
                            "takes {} parameter(s) and {} qubit(s), got {} and {}",
                            s.params,
                            s.qubits,
                            params.len(),
                            qs.len()
                        ),
                    ));
                }
                let gate = s.make(params, qs.len());
                self.push(
                    Op::Gate {
                        gate,
                        qubits: qs.to_vec(),
                        cond,
                    },
                    name,
                )
            }
            Callee::User(d) => {
                if d.params.len() != params.len() || d.qubits.len() != qs.len() {
                    return Err(self.bad(
                        name,
                        format!(
                            "takes {} parameter(s) and {} qubit(s), got {} and {}",
                            d.params.len(),
                            d.qubits.len(),
                            params.len(),
                            qs.len()
                        ),
                    ));
                }
                if self.depth >= MAX_DEPTH {
                    let (line, col) = self.at();
                    return Err(CircuitError::TooDeep {
                        line,
                        col,
                        what: "gate definition",
                        max: MAX_DEPTH,
                    });
                }
                let env = Env {
                    params: d
                        .params
                        .iter()
                        .cloned()
                        .zip(params.iter().copied())
                        .collect(),
                    qubits: d.qubits.iter().cloned().zip(qs.iter().copied()).collect(),
                };
                self.depth += 1;
                let r = d
                    .body
                    .iter()
                    .try_for_each(|s| self.body_stmt(s, cond, &env));
                self.depth -= 1;
                r
            }
        }
    }

    /// A statement inside a gate definition: gate calls (definitions looked up again, so
    /// nested definitions work), barriers and global phases.
    fn body_stmt(
        &mut self,
        s: &Stmt,
        cond: Option<Condition>,
        env: &Env,
    ) -> Result<(), CircuitError> {
        match s {
            Stmt::GateCall(call) => self.gate_call(call, cond, env),
            Stmt::Barrier(_) | Stmt::GPhaseCall(_) | Stmt::Pragma(_) => Ok(()),
            Stmt::AnnotatedStmt(a) => self.body_stmt(a.statement(), cond, env),
            _ => Err(self.refuse("this statement inside a gate definition")),
        }
    }

    /// Evaluates a real parameter expression (literals, `pi`/`tau`/`euler`, inputs, the
    /// enclosing definition's parameters, `+ − * /`, unary minus, casts). Its depth is
    /// bounded by [`syntax::prescan`].
    fn eval(&self, e: &TExpr, env: &Env) -> Result<f64, CircuitError> {
        Ok(match e.expression() {
            Expr::Literal(Literal::Int(i)) => {
                let v = *i.value() as f64;
                if *i.sign() {
                    v
                } else {
                    -v
                }
            }
            Expr::Literal(Literal::Float(f)) => f
                .value()
                .replace('_', "")
                .parse::<f64>()
                .map_err(|_| self.refuse("this number"))?,
            Expr::Literal(Literal::Bool(b)) => f64::from(u8::from(*b.value())),
            Expr::Identifier(id) => {
                let id = self.id(id)?;
                if let Some(v) = env.params.get(&id).or_else(|| self.inputs.get(&id)) {
                    *v
                } else {
                    match self.table[&id].name() {
                        "pi" | "π" => PI,
                        "tau" | "τ" => 2.0 * PI,
                        "euler" | "ℇ" => E,
                        n => return Err(self.refuse(&format!("the value of `{n}`"))),
                    }
                }
            }
            Expr::UnaryExpr(u) if matches!(u.op(), UnaryOp::Minus) => {
                -self.eval(u.operand(), env)?
            }
            Expr::Cast(c) => self.eval(c.operand(), env)?,
            Expr::BinaryExpr(b) => {
                let (l, r) = (self.eval(b.left(), env)?, self.eval(b.right(), env)?);
                match b.op() {
                    BinaryOp::ArithOp(ArithOp::Add) => l + r,
                    BinaryOp::ArithOp(ArithOp::Sub) => l - r,
                    BinaryOp::ArithOp(ArithOp::Mul) => l * r,
                    BinaryOp::ArithOp(ArithOp::Div) => l / r,
                    _ => return Err(self.refuse("this operator in a parameter")),
                }
            }
            _ => return Err(self.refuse("this parameter expression")),
        })
    }
}
