//! Gate circuits: OpenQASM 2 ([`qasm`]) and OpenQASM 3 ([`qasm3`]) front ends lowering to one
//! op list ([`ir`]), one gate table in Qiskit's conventions ([`gates`]), kernels taking a
//! `k`-qubit matrix and a control mask ([`kernels`], the plain per-gate executor and oracle),
//! the fast executor: gate fusion ([`fuse`]), cache blocking with qubit remapping and
//! vectorised block kernels ([`fast`], [`simd`]) in double or single precision
//! ([`precision`]), the executor ([`execute`]) and shot branching and sampling ([`branch`]).
//!
//! Conventions (docs/DESIGN.md): qubit `i` is bit `i` of the basis index; classical bit `j` of a
//! result is bit `j` of its outcome index; bitstrings for people put qubit (or clbit) 0
//! rightmost, as Qiskit does: `x q[0]; measure q -> c;` on 3 qubits gives `"001"`; several
//! classical registers are separated by a space, the last declared leftmost.

mod block;
pub mod branch;
mod dense;
pub mod execute;
mod expr;
pub mod fast;
pub mod fuse;
pub mod gates;
pub mod ir;
pub mod kernels;
mod memory_plan;
mod plan;
pub mod precision;
pub mod qasm;
pub mod qasm3;
pub mod simd;

pub use branch::{
    exact_distribution, exact_distribution_with, sample_counts, sample_counts_with, Counts,
};
pub use execute::{
    apply_gate, run, run_plain, run_with, simulate, simulate_with, Executor, MemoryPlan, Outcome,
    RunOptions,
};
pub use fast::{ExecParams, FastRun, KernelMix};
pub use fuse::FuseParams;
pub use gates::{Gate, Matrix2, Matrix4};
pub use ir::{Circuit, Condition, Op, Register};
pub use precision::{Precision, C32};
pub use qasm::{parse_qasm, parse_qasm_file, parse_qasm_source, read_qasm, to_qasm};
pub use qasm3::parse_qasm3;
pub use simd::Isa;

/// Largest circuit the executor accepts (a state vector of 2^30 amplitudes is 16 GiB).
pub const MAX_QUBITS: usize = 30;

/// Deepest nesting of parentheses, unary operators and function calls in a parameter
/// expression, of gate definitions inside gate definitions, and of blocks in OpenQASM 3.
pub const MAX_DEPTH: usize = 256;

/// Most classical bits a program may declare (each shot's key holds one character per bit).
pub const MAX_CLBITS: usize = 1 << 20;

/// Most operations a program may expand to (gate definitions multiply).
pub const MAX_OPS: usize = 10_000_000;

/// Errors of QASM import and of circuit execution. Parse errors name `line:col` (1-based).
#[derive(Debug, thiserror::Error)]
pub enum CircuitError {
    /// A token that does not fit the grammar.
    #[error("{line}:{col}: found {found}; expected {expected}")]
    Syntax {
        /// Line (1-based).
        line: usize,
        /// Column (1-based, in characters).
        col: usize,
        /// What was found.
        found: String,
        /// What the grammar expected there.
        expected: String,
    },
    /// A gate name that is neither in the gate table nor defined in the program.
    #[error("{line}:{col}: unknown gate `{name}`{}; expected a gate of qelib1.inc, \
             stdgates.inc, Qiskit's standard library or a `gate` definition",
            hint.map(|h| format!(" (did you mean `{h}`?)")).unwrap_or_default())]
    UnknownGate {
        /// Line (1-based).
        line: usize,
        /// Column (1-based).
        col: usize,
        /// The name found.
        name: String,
        /// The nearest known name, if one is close.
        hint: Option<&'static str>,
    },
    /// Nesting beyond [`MAX_DEPTH`] (expressions, gate definitions, blocks, includes).
    #[error("{line}:{col}: {what} nested deeper than {max} levels")]
    TooDeep {
        /// Line (1-based).
        line: usize,
        /// Column (1-based).
        col: usize,
        /// What is nested (`expression`, `gate definition`, …).
        what: &'static str,
        /// The limit.
        max: usize,
    },
    /// A program expanding to more than [`MAX_OPS`] operations.
    #[error("{line}:{col}: `{name}` expands the program past {max} operations")]
    TooManyOps {
        /// Line (1-based).
        line: usize,
        /// Column (1-based).
        col: usize,
        /// The gate or statement that crossed the limit.
        name: String,
        /// [`MAX_OPS`].
        max: usize,
    },
    /// An error inside an included file, or in a file read by [`parse_qasm_file`].
    #[error("{file}:{inner}")]
    InFile {
        /// The file.
        file: String,
        /// The error, located in that file.
        inner: Box<CircuitError>,
    },
    /// A file that could not be read.
    #[error("{file}: {problem}")]
    Read {
        /// The file.
        file: String,
        /// The I/O error.
        problem: String,
    },
    /// An `opaque` gate applied: it has no definition to simulate.
    #[error(
        "{line}:{col}: `{name}` is an opaque gate (declared without a body); expected a \
             gate of the table or one with a `gate` definition"
    )]
    Opaque {
        /// Line (1-based).
        line: usize,
        /// Column (1-based).
        col: usize,
        /// The gate's name.
        name: String,
    },
    /// Not enough memory for the state vectors, sampling table and counts.
    #[error(transparent)]
    Memory(#[from] crate::state::memory::MemoryError),
    /// A valid OpenQASM 2.0 construct that qep does not support.
    #[error("{line}:{col}: `{construct}` is not supported; expected {expected}")]
    Unsupported {
        /// Line (1-based).
        line: usize,
        /// Column (1-based).
        col: usize,
        /// The construct (`gate`, `opaque`, `if`, an include…).
        construct: String,
        /// What qep accepts instead.
        expected: &'static str,
    },
    /// A register index past the register's end.
    #[error("{line}:{col}: index {index} out of range for register `{register}[{size}]`")]
    IndexOutOfRange {
        /// Line (1-based).
        line: usize,
        /// Column (1-based).
        col: usize,
        /// Register name.
        register: String,
        /// The index used.
        index: usize,
        /// The register's size.
        size: usize,
    },
    /// A name that is not a declared register (or of the wrong kind).
    #[error("{line}:{col}: `{name}` is not a declared {kind} register")]
    UnknownRegister {
        /// Line (1-based).
        line: usize,
        /// Column (1-based).
        col: usize,
        /// The name used.
        name: String,
        /// `quantum` or `classical`.
        kind: &'static str,
    },
    /// A gate given the wrong number of parameters or arguments, or a bad argument list.
    #[error("{line}:{col}: `{gate}` {problem}")]
    BadCall {
        /// Line (1-based).
        line: usize,
        /// Column (1-based).
        col: usize,
        /// The gate name.
        gate: String,
        /// What is wrong, e.g. `takes 1 parameter, got 2`.
        problem: String,
    },
    /// More qubits than the executor can hold.
    #[error("{qubits} qubits exceed the executor's limit of {max}")]
    TooManyQubits {
        /// Qubits asked for.
        qubits: usize,
        /// [`MAX_QUBITS`].
        max: usize,
    },
}
