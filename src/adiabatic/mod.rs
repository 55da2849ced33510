//! Adiabatic state preparation (docs/DESIGN.md "How states are prepared"): sweeps
//! `H(s) = (1 − s) H_start + s H_target` ([`schedule`]), the Krylov propagator ([`Krylov`],
//! re-exported from [`crate::linalg`]), fourth-order Magnus, midpoint and Trotter integrators
//! ([`propagate`](mod@propagate), [`trotter`]), and the preparation verified by Lanczos ([`prepare`]).

pub mod prepare;
pub mod propagate;
pub mod schedule;
pub mod schrodinger;
pub mod trotter;

pub use crate::linalg::{krylov_memory, Krylov, KrylovParams, KrylovStats};
pub use prepare::{
    infidelity_slope, prepare_memory, PathPoint, PathScan, PrepareSettings, Prepared, Preparer,
    ScheduleKind, Verification,
};
pub use propagate::{exponent_weights, propagate, Method, Propagation};
pub use schedule::{local_profile, sweep_steps, transverse_field, Profile, Sweep};
pub use schrodinger::{evolve_schrodinger, SchrodingerRun};
pub use trotter::{push_pauli_rotation, trotter_circuit};

use crate::linalg::SolverError;
use crate::operator::OperatorError;
use crate::state::MemoryError;

/// Errors of adiabatic preparation.
#[derive(Debug, thiserror::Error)]
pub enum AdiabaticError {
    /// `H_start` and `H_target` act on different numbers of qubits.
    #[error("the start Hamiltonian has {start} qubits but the target has {target}")]
    QubitMismatch {
        /// Qubits of `H_start`.
        start: usize,
        /// Qubits of `H_target`.
        target: usize,
    },
    /// A Hamiltonian has a complex coefficient.
    #[error("the {which} Hamiltonian is not Hermitian: term {term} has imaginary part {imag:.3e}")]
    NotHermitian {
        /// `start` or `target`.
        which: &'static str,
        /// The worst term.
        term: String,
        /// Its imaginary part.
        imag: f64,
    },
    /// The sweep time is not positive and finite.
    #[error("sweep time T = {time}; expected a finite T > 0")]
    BadTime {
        /// The time given.
        time: f64,
    },
    /// Zero time steps.
    #[error("zero time steps; expected steps ≥ 1")]
    BadSteps,
    /// A Trotter order other than 1 or 2.
    #[error("Trotter order {order}; expected 1 or 2")]
    BadOrder {
        /// The order given.
        order: u8,
    },
    /// The followed level does not exist.
    #[error("level {eigen} requested from a space of dimension {dim}")]
    BadLevel {
        /// Level asked for.
        eigen: usize,
        /// Hilbert-space dimension.
        dim: usize,
    },
    /// A schedule table is malformed.
    #[error("schedule table: {why}")]
    BadTable {
        /// What is wrong.
        why: String,
    },
    /// The norm of the state drifted: the propagator is not unitary.
    #[error("the propagated state's norm drifted by {drift:.3e}; the propagation is not unitary")]
    NotUnitary {
        /// `|‖ψ(T)‖ − ‖ψ(0)‖|`.
        drift: f64,
    },
    /// The followed level of `H_start` is degenerate.
    #[error(
        "level {eigen} of the start Hamiltonian (E = {energy}) is degenerate (gap {gap:.2e}); \
         choose a start Hamiltonian whose level {eigen} is non-degenerate"
    )]
    DegenerateStart {
        /// The level.
        eigen: usize,
        /// Its energy.
        energy: f64,
        /// Distance to the nearest level.
        gap: f64,
    },
    /// An eigensolver failed.
    #[error(transparent)]
    Solver(#[from] SolverError),
    /// The operator could not be built.
    #[error(transparent)]
    Operator(#[from] OperatorError),
    /// Not enough memory.
    #[error(transparent)]
    Memory(#[from] MemoryError),
}
