//! Scalar dispatch: the real path for operators that are real in the Z basis, the complex path
//! otherwise, behind one type so that callers need not be generic.

use serde::Serialize;

use crate::operator::XMaskOperator;
use crate::pauli::{PauliString, PauliSum};
use crate::scalar::C64;
use crate::state::{expectation_pauli, expectation_sum};

use super::{
    lanczos_memory, lowest_eigenpairs_with_progress, LanczosParams, SolverError, Spectrum,
};
use crate::state::memory::{state_bytes, MemoryPlan};

/// A [`Spectrum`] in real (`f64`) or complex arithmetic, as chosen by [`eigenpairs`].
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum AnySpectrum {
    /// Real eigenvectors (operator real in the Z basis): half the memory traffic.
    Real(Spectrum<f64>),
    /// Complex eigenvectors.
    Complex(Spectrum<C64>),
}

/// The `params.k` lowest eigenpairs of `op` in real arithmetic when [`XMaskOperator::is_real`]
/// (no Y-odd terms, real coefficients), complex otherwise. Warm start from `start` if given
/// (converted to the chosen scalar type; an imaginary part is dropped on the real path, which
/// only weakens the warm start).
///
/// # Errors
/// As [`lowest_eigenpairs`](super::lowest_eigenpairs).
pub fn eigenpairs(
    op: &XMaskOperator,
    params: &LanczosParams,
    start: Option<&[C64]>,
) -> Result<AnySpectrum, SolverError> {
    eigenpairs_with_progress(op, params, start, &|_, _| {})
}

/// As [`eigenpairs`], calling `on_level(found, wanted)` after each converged level.
///
/// # Errors
/// As [`lowest_eigenpairs`](super::lowest_eigenpairs).
pub fn eigenpairs_with_progress(
    op: &XMaskOperator,
    params: &LanczosParams,
    start: Option<&[C64]>,
    on_level: &dyn Fn(usize, usize),
) -> Result<AnySpectrum, SolverError> {
    if op.is_real() {
        let s: Option<Vec<f64>> = start.map(|s| s.iter().map(|c| c.re).collect());
        lowest_eigenpairs_with_progress::<f64>(op, params, s.as_deref(), on_level)
            .map(AnySpectrum::Real)
    } else {
        lowest_eigenpairs_with_progress::<C64>(op, params, start, on_level)
            .map(AnySpectrum::Complex)
    }
}

/// The bytes of the matrix-free operator of `h`: its stored diagonal (`2^n` reals for a
/// Hermitian sum with diagonal terms, complex otherwise, none without diagonal terms).
pub fn operator_memory(h: &PauliSum) -> MemoryPlan {
    let mut plan = MemoryPlan::part("operator");
    let diag: Vec<C64> = h
        .terms()
        .iter()
        .filter(|(p, _)| p.x() == 0)
        .map(|&(_, c)| c)
        .collect();
    if !diag.is_empty() {
        let elem = if diag.iter().all(|c| c.im == 0.0) {
            8
        } else {
            16
        };
        plan.add("operator diagonal", state_bytes(h.qubits(), elem));
    }
    plan
}

/// What [`eigenpairs`] on the operator of `h` allocates at the least (see
/// [`lanczos_memory`]): real vectors when `h` is real in the Z basis, complex otherwise.
pub fn eigenpairs_memory(h: &PauliSum, params: &LanczosParams) -> MemoryPlan {
    let elem = if h.is_real_in_z_basis(0.0) { 8 } else { 16 };
    lanczos_memory(h.qubits(), elem, params)
}

impl AnySpectrum {
    /// Energies, ascending, with multiplicity.
    pub fn energies(&self) -> &[f64] {
        match self {
            Self::Real(s) => &s.energies,
            Self::Complex(s) => &s.energies,
        }
    }

    /// Residual norms `‖Hψ − Eψ‖`.
    pub fn residuals(&self) -> &[f64] {
        match self {
            Self::Real(s) => &s.residuals,
            Self::Complex(s) => &s.residuals,
        }
    }

    /// `E_1 − E_0` when two levels are known.
    pub fn gap(&self) -> Option<f64> {
        match self {
            Self::Real(s) => s.gap(),
            Self::Complex(s) => s.gap(),
        }
    }

    /// The level above the wanted ones, when computed.
    pub fn next_energy(&self) -> Option<f64> {
        match self {
            Self::Real(s) => s.next_energy,
            Self::Complex(s) => s.next_energy,
        }
    }

    /// Operator applications used.
    pub fn matvecs(&self) -> usize {
        match self {
            Self::Real(s) => s.matvecs,
            Self::Complex(s) => s.matvecs,
        }
    }

    /// Full reorthogonalisations triggered by the ω-recurrence, and explicit restarts.
    pub fn reorthogonalizations_and_restarts(&self) -> (usize, usize) {
        match self {
            Self::Real(s) => (s.reorthogonalizations, s.restarts),
            Self::Complex(s) => (s.reorthogonalizations, s.restarts),
        }
    }

    /// `"dense"`, `"lanczos"` or `"lanczos-two-pass"`.
    pub fn method(&self) -> &'static str {
        match self {
            Self::Real(s) => s.method,
            Self::Complex(s) => s.method,
        }
    }

    /// Whether the real path was taken.
    pub fn is_real(&self) -> bool {
        matches!(self, Self::Real(_))
    }

    /// `⟨ψ_j|P|ψ_j⟩` for eigenvector `j`.
    ///
    /// # Panics
    /// If `j` is not a computed level.
    #[track_caller]
    pub fn expectation(&self, j: usize, p: PauliString) -> f64 {
        match self {
            Self::Real(s) => expectation_pauli(&s.vectors[j], p).re,
            Self::Complex(s) => expectation_pauli(&s.vectors[j], p).re,
        }
    }

    /// `⟨ψ_j|A|ψ_j⟩` for a Pauli sum (real part; exact for Hermitian `A`).
    ///
    /// # Panics
    /// If `j` is not a computed level.
    #[track_caller]
    pub fn expectation_sum(&self, j: usize, a: &PauliSum) -> f64 {
        match self {
            Self::Real(s) => expectation_sum(&s.vectors[j], a).re,
            Self::Complex(s) => expectation_sum(&s.vectors[j], a).re,
        }
    }

    /// Eigenvector `j` with complex amplitudes (copies on the real path).
    ///
    /// # Panics
    /// If `j` is not a computed level.
    #[track_caller]
    pub fn vector_c64(&self, j: usize) -> Vec<C64> {
        match self {
            Self::Real(s) => s.vectors[j].iter().map(|&x| C64::new(x, 0.0)).collect(),
            Self::Complex(s) => s.vectors[j].clone(),
        }
    }
}
