//! Solvers written against the operator trait [`crate::operator::LinearOperator`] (any
//! operator, statically dispatched): Lanczos for the lowest eigenpairs
//! ([`lowest_eigenpairs`]), MINRES for the projected shifted systems of perturbation theory
//! ([`minres_projected`]), the Krylov propagator `e^{−iAτ}ψ` ([`Krylov`]); and the dense
//! oracle ([`dense_spectrum`]).

mod auto;
mod chebyshev;
mod cholesky;
mod dense;
mod krylov;
mod lanczos;
mod minres;
mod reduce;

pub use auto::{
    eigenpairs, eigenpairs_memory, eigenpairs_with_progress, operator_memory, AnySpectrum,
};
pub use chebyshev::{scaled_bessel_i, ChebyshevError, ChebyshevExp, SpectralBounds};
pub use cholesky::{cholesky, solve_cholesky, NotPositiveDefinite};
pub use krylov::{krylov_memory, Krylov, KrylovParams, KrylovStats};
pub use minres::{minres_projected, minres_projected_in, MinresInfo, MinresParams};
pub use reduce::dot_all;

pub use dense::{dense_spectrum, eigh_dense, eigh_tridiagonal};
pub use lanczos::{
    ground_state, lanczos_memory, lowest_eigenpairs, lowest_eigenpairs_in,
    lowest_eigenpairs_with_progress, next_level_in, residual_floor, short_basis, BasisMemory,
    LanczosParams, LanczosWorkspace, Method, Spectrum, DENSE_AUTO_DIM, FULL_BASIS_BYTES,
    SHORT_BASIS, SHORT_BASIS_BYTES, SMALL_BASIS, SMALL_VECTOR_BYTES,
};

use crate::operator::OperatorError;
use crate::state::MemoryError;

/// Errors of the eigensolvers.
#[derive(Debug, thiserror::Error)]
pub enum SolverError {
    /// The budget of operator applications ran out before every pair met the tolerance.
    #[error(
        "Lanczos: {converged}/{wanted} pairs after {iterations} operator applications; \
         best residual {residual:.2e} > tol {tol:.2e} (raise --max-matvecs or --tol)"
    )]
    NotConverged {
        /// Levels wanted.
        wanted: usize,
        /// Levels converged.
        converged: usize,
        /// Operator applications used.
        iterations: usize,
        /// Best residual reached for the failing level.
        residual: f64,
        /// The tolerance.
        tol: f64,
    },
    /// MINRES: the explicit residual missed the tolerance when the iteration budget ran out,
    /// or a restart on the explicit residual did not halve it (rounding floor).
    #[error(
        "MINRES: relative residual ‖b − A x‖/‖b‖ = {residual:.2e} > tol {tol:.2e} after \
         {iterations} operator applications in {cycles} cycle(s) (restarts on the explicit \
         residual); raise the oracle's iteration budget or its tolerance"
    )]
    MinresNotConverged {
        /// Operator applications used: the steps and the explicit-residual checks (at most
        /// [`MinresParams::max_iterations`]).
        iterations: usize,
        /// Cycles run (1 + restarts on the explicit residual).
        cycles: usize,
        /// Explicit relative residual `‖b − A x‖/‖b‖` at the end.
        residual: f64,
        /// The tolerance.
        tol: f64,
    },
    /// A computed pair failed its explicit residual check (the dense path), or its residual
    /// is not a finite number (overflowing coefficients): the result is not verified.
    #[error(
        "{method}: level {level} has residual ‖Hψ − Eψ‖ = {residual:.2e} > tol {tol:.2e}; \
         the pair is not verified (raise --tol, or rescale the coefficients if the residual \
         is not finite)"
    )]
    Unverified {
        /// `dense` or `Lanczos`.
        method: &'static str,
        /// The level (0 = lowest).
        level: usize,
        /// Its residual norm.
        residual: f64,
        /// The tolerance.
        tol: f64,
    },
    /// The tolerance is below what rounding lets any solver verify for this operator.
    #[error(
        "tol {tol:.2e} is below the rounding floor {floor:.2e} of this operator \
         (16·ε·Σ|c| with Σ|c| = {norm_bound:.3e}, relative to the coefficients' scale): no \
         residual can be verified below it; raise --tol to at least {floor:.1e} or rescale \
         the coefficients"
    )]
    ToleranceBelowFloor {
        /// The tolerance asked for.
        tol: f64,
        /// `16 ε Σ|c|`.
        floor: f64,
        /// `Σ|c|`.
        norm_bound: f64,
    },
    /// The budget of operator applications cannot even pay for verifying the result.
    #[error(
        "{method}: verifying {needed} pair(s) needs {needed} operator applications but the \
         budget is {budget}; expected --max-matvecs ≥ {needed}"
    )]
    BudgetTooSmall {
        /// `dense`.
        method: &'static str,
        /// Applications needed.
        needed: usize,
        /// The budget.
        budget: usize,
    },
    /// The operator has complex coefficients on Pauli strings (not Hermitian).
    #[error("the operator is not Hermitian; eigensolvers need real coefficients on Pauli strings")]
    NotHermitian,
    /// Real arithmetic was requested for an operator that is complex in the Z basis.
    #[error("real arithmetic requested but the operator is complex in the Z basis (odd number of Y letters)")]
    NotReal,
    /// `k` is zero or larger than the dimension.
    #[error("k = {k} levels requested from a space of dimension {dim}; expected 1 ≤ k ≤ {dim}")]
    BadK {
        /// Levels requested.
        k: usize,
        /// Hilbert-space dimension.
        dim: usize,
    },
    /// The dense eigensolver failed.
    #[error("dense eigensolver failed: {detail}")]
    Dense {
        /// faer's error.
        detail: String,
    },
    /// Krylov settings out of range.
    #[error(
        "Krylov settings max_dim = {max_dim}, tol = {tol:e}; expected max_dim ≥ 2 and tol > 0"
    )]
    BadKrylov {
        /// Largest dimension.
        max_dim: usize,
        /// Tolerance.
        tol: f64,
    },
    /// The Krylov step shrank below round-off.
    #[error(
        "Krylov propagator: a step of {tau:e} cannot meet tol = {tol:e} with dimension ≤ \
         {max_dim}; raise the tolerance or the Krylov dimension"
    )]
    KrylovStalled {
        /// The step being taken.
        tau: f64,
        /// Tolerance per unit time.
        tol: f64,
        /// Largest dimension.
        max_dim: usize,
    },
    /// MINRES: the shifted, projected system is singular and inconsistent. Its residual
    /// stopped short of the tolerance on a vector `r` with `‖A r‖ ≤ null · ‖r‖`: `A` has an
    /// eigenvalue within `null` of 0 that the right-hand side reaches (around an eigenstate:
    /// another level within `null` of its energy, i.e. a degeneracy).
    #[error(
        "MINRES: the system is singular: its residual stalls at {residual:.2e} (relative) on \
         a vector r with ‖A r‖/‖r‖ = {null:.2e} after {iterations} operator applications"
    )]
    Singular {
        /// `‖A r‖/‖r‖` of the explicit residual.
        null: f64,
        /// Explicit relative residual `‖b − A x‖/‖b‖` where it stalled.
        residual: f64,
        /// Operator applications used (the confirming one included).
        iterations: usize,
    },
    /// Building an explicit matrix failed.
    #[error(transparent)]
    Operator(#[from] OperatorError),
    /// The workspace does not fit in memory.
    #[error(transparent)]
    Memory(#[from] MemoryError),
}
