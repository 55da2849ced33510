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
//! [`MAX_DEPTH`](crate::circuit::MAX_DEPTH) deep, includes [`MAX_INCLUDE_DEPTH`] deep, and a program expands to at most
//! [`MAX_OPS`](crate::circuit::MAX_OPS) operations; beyond, a located error.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::expr::Expr;
use super::gates::GateSpec;
use super::ir::{Circuit, Register};
use super::CircuitError;

/// Deepest chain of `include`s.
pub const MAX_INCLUDE_DEPTH: usize = 32;

mod expr;
mod lex;
mod parse;
mod write;

use lex::{lex, Token};
pub use write::to_qasm;

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
/// or qubits, nesting beyond [`MAX_DEPTH`](crate::circuit::MAX_DEPTH), more than [`MAX_OPS`](crate::circuit::MAX_OPS) operations or more than
/// [`MAX_QUBITS`](crate::circuit::MAX_QUBITS) qubits.
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
