//! Gate circuits: the gate set ([`gate`]), a state-vector executor ([`execute`]) and
//! OpenQASM 2.0 import and export ([`qasm`]).
//!
//! Conventions (docs/DESIGN.md): qubit `i` is bit `i` of the basis index; classical bit `j` of a
//! result is bit `j` of its outcome index; bitstrings for people put qubit (or clbit) 0
//! rightmost, as Qiskit does: `x q[0]; measure q -> c;` on 3 qubits gives `"001"`.

pub mod execute;
pub mod gate;
pub mod qasm;

pub use execute::{apply_gate, run, sample_counts, simulate, Counts, Outcome};
pub use gate::{Gate, Matrix2, Matrix4};
pub use qasm::{parse_qasm, to_qasm};

/// Largest circuit the executor accepts (a state vector of 2^30 amplitudes is 16 GiB).
pub const MAX_QUBITS: usize = 30;

/// One instruction of a [`Circuit`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    /// A one-qubit gate on qubit `q`.
    One {
        /// The gate ([`Gate::arity`] 1).
        gate: Gate,
        /// Its qubit.
        q: usize,
    },
    /// A two-qubit gate on `(a, b)`; `a` is the control of [`Gate::Cx`].
    Two {
        /// The gate ([`Gate::arity`] 2).
        gate: Gate,
        /// First qubit (control of CX).
        a: usize,
        /// Second qubit (target of CX).
        b: usize,
    },
    /// Measure qubit `q` in the Z basis (collapsing the state) into classical bit `c`.
    Measure {
        /// Measured qubit.
        q: usize,
        /// Classical bit written (0 for outcome `|0⟩`, 1 for `|1⟩`).
        c: usize,
    },
    /// Reset qubit `q` to `|0⟩` (measure, then flip if the outcome was 1).
    Reset {
        /// The qubit.
        q: usize,
    },
}

/// A circuit on `qubits` qubits and `clbits` classical bits.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Circuit {
    /// Number of qubits.
    pub qubits: usize,
    /// Number of classical bits.
    pub clbits: usize,
    /// The instructions, in order.
    pub ops: Vec<Op>,
}

impl Circuit {
    /// An empty circuit.
    pub fn new(qubits: usize, clbits: usize) -> Self {
        Self {
            qubits,
            clbits,
            ops: Vec::new(),
        }
    }

    /// Appends a one-qubit gate.
    ///
    /// # Panics
    /// If `gate` is not a one-qubit gate or `q >= qubits` (a caller bug).
    #[track_caller]
    pub fn gate1(&mut self, gate: Gate, q: usize) -> &mut Self {
        assert_eq!(gate.arity(), 1, "{gate:?} is not a one-qubit gate");
        assert!(
            q < self.qubits,
            "qubit {q} out of range ({} qubits)",
            self.qubits
        );
        self.ops.push(Op::One { gate, q });
        self
    }

    /// Appends a two-qubit gate on `(a, b)`.
    ///
    /// # Panics
    /// If `gate` is not a two-qubit gate, a qubit is out of range, or `a == b`.
    #[track_caller]
    pub fn gate2(&mut self, gate: Gate, a: usize, b: usize) -> &mut Self {
        assert_eq!(gate.arity(), 2, "{gate:?} is not a two-qubit gate");
        assert!(
            a < self.qubits && b < self.qubits,
            "qubits ({a}, {b}) out of range ({} qubits)",
            self.qubits
        );
        assert_ne!(a, b, "two-qubit gate on the same qubit twice");
        self.ops.push(Op::Two { gate, a, b });
        self
    }

    /// Appends a measurement of qubit `q` into classical bit `c`.
    ///
    /// # Panics
    /// If `q` or `c` is out of range.
    #[track_caller]
    pub fn measure(&mut self, q: usize, c: usize) -> &mut Self {
        assert!(
            q < self.qubits && c < self.clbits,
            "measure {q} -> {c} out of range"
        );
        self.ops.push(Op::Measure { q, c });
        self
    }

    /// Appends a reset of qubit `q`.
    ///
    /// # Panics
    /// If `q` is out of range.
    #[track_caller]
    pub fn reset(&mut self, q: usize) -> &mut Self {
        assert!(q < self.qubits, "qubit {q} out of range");
        self.ops.push(Op::Reset { q });
        self
    }

    /// Whether the circuit measures anything.
    pub fn has_measurements(&self) -> bool {
        self.ops.iter().any(|op| matches!(op, Op::Measure { .. }))
    }

    /// Whether every measurement is final: no reset, and no gate acts on a qubit after it has
    /// been measured. Such a circuit's shots can all be drawn from one final distribution.
    pub fn measurements_are_final(&self) -> bool {
        let mut measured = vec![false; self.qubits];
        for op in &self.ops {
            match *op {
                Op::Reset { .. } => return false,
                Op::Measure { q, .. } => measured[q] = true,
                Op::One { q, .. } if measured[q] => return false,
                Op::Two { a, b, .. } if measured[a] || measured[b] => return false,
                _ => {}
            }
        }
        true
    }
}

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
    /// A gate name that is not in the supported qelib1.inc set.
    #[error("{line}:{col}: unknown gate `{name}`; expected one of {expected}")]
    UnknownGate {
        /// Line (1-based).
        line: usize,
        /// Column (1-based).
        col: usize,
        /// The name found.
        name: String,
        /// The supported names.
        expected: &'static str,
    },
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
