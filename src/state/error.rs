//! Errors of states: memory for density matrices, dense eigensolves of Hamiltonians and
//! states, temperatures of Gibbs states. The integrators, thermal EP and the studies that
//! build on states wrap them (transparently: the message is kept word for word).

use crate::linalg::SolverError;
use crate::operator::OperatorError;
use crate::state::MemoryError;

/// Errors of density matrices and of the Gibbs state.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Not enough memory for a density matrix or a dense eigendecomposition.
    #[error(transparent)]
    Memory(#[from] MemoryError),
    /// The dense eigensolver failed.
    #[error(transparent)]
    Solver(#[from] SolverError),
    /// Building the operator of a Pauli sum failed (its diagonal does not fit in memory).
    #[error(transparent)]
    Operator(#[from] OperatorError),
    /// Two states (or a state and a Hamiltonian) act on different numbers of qubits.
    #[error("{what} acts on {found} qubits but the Hamiltonian has {expected}")]
    QubitMismatch {
        /// Which input (e.g. `second state of the trace distance`).
        what: String,
        /// Qubits expected.
        expected: usize,
        /// Qubits of the offending input.
        found: usize,
    },
    /// The Hamiltonian has a complex coefficient.
    #[error("the Hamiltonian is not Hermitian: term {term} has imaginary part {imag:.3e}")]
    NonHermitianHamiltonian {
        /// The worst term.
        term: String,
        /// Its imaginary part.
        imag: f64,
    },
    /// The dense positivity check was asked for too many qubits.
    #[error("smallest eigenvalue of ρ needs a dense {dim}×{dim} eigensolve; limited to n ≤ {max} qubits, got {n}")]
    EigenTooLarge {
        /// Qubits.
        n: usize,
        /// Dimension `2^n`.
        dim: usize,
        /// The limit.
        max: usize,
    },
    /// The temperature is not a finite number > 0.
    #[error("temperature T = {temperature} is not valid; expected a finite number > 0")]
    TemperatureNotPositive {
        /// The value given.
        temperature: f64,
    },
    /// A dense method was asked for too many qubits.
    #[error("{method}: {qubits} qubits; limited to {max} (dense matrices)")]
    TooManyQubits {
        /// The method (e.g. `Gibbs state`).
        method: &'static str,
        /// Qubits asked for.
        qubits: usize,
        /// The limit.
        max: usize,
    },
}
