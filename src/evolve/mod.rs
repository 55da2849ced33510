//! Open-system evolution: density matrices and the Lindblad master equation.
//!
//! * [`DensityMatrix`]: `ρ` on `n` qubits, `4^n` complex entries, row-major `ρ[r][c]`, with the
//!   monitors (trace, purity, Hermiticity defect, smallest eigenvalue) and `Tr ρA` for a
//!   [`crate::pauli::PauliSum`] without forming `A`.
//! * [`GroupedOperator`]: a Pauli sum grouped by X-mask, applied matrix-free to `ρ` from the
//!   left (`Aρ`, on the row index) and from the right (`ρA`, `ρA†`, on the column index); no
//!   `4^n × 4^n` superoperator is ever formed.
//! * [`Lindbladian`]: `L(ρ) = −i[H, ρ] + Σ_k γ_k (L_k ρ L_k† − ½{L_k† L_k, ρ})` (docs/DESIGN.md rate
//!   convention; `sigma-` = |1⟩⟨0| drives every qubit to |1⟩).
//! * [`evolve_lindblad`]: adaptive Dormand–Prince 5(4) with absolute/relative tolerances,
//!   returning observables, trace, purity and the monitors at the requested times.
//! * [`evolve_trajectories`]: the same equation unravelled into quantum trajectories (Monte
//!   Carlo wave function): means ± standard errors over seeded trajectories.
//! * [`cool`] / [`cool_trajectories`]: algorithmic cooling by collisions with thermal ancillas,
//!   on density matrices or unravelled into pure-state trajectories (ancilla `Z` measurements).

pub mod cooling;
pub mod cooling_trajectories;
pub mod davies;
mod dopri;
pub mod lindblad;
/// Density matrices, moved to [`crate::state::density`]; the path stays for callers.
pub use crate::state::density;
/// The Gibbs state, moved to [`crate::state::gibbs`]; the path stays for callers.
pub use crate::state::gibbs;
pub mod runner;
pub mod setup;
pub mod thermalize;
pub mod trajectories;

pub use cooling::{
    bohr_frequencies, check_cooling_size, collision_hamiltonian, cool, frequency_groups,
    partial_trace, system_operators, tensor_product, thermal_qubit, Cooling, CoolingParams,
    Propagator, COOLING_CACHE_BYTES, COOLING_MAX_QUBITS,
};
pub use cooling_trajectories::{
    cool_trajectories, statistical_floor, AncillaStats, CollisionPropagator, CoolingTrajectories,
    CoolingTrajectoryParams, InitialEnsemble, DENSE_CACHE_BYTES,
};
pub use davies::{
    check_davies_size, davies_rate, Davies, DaviesParams, FixedPoint, DAVIES_MAX_QUBITS,
};
pub use density::{
    cooling_memory, davies_memory, density_bytes, gibbs_memory, lindblad_memory,
    propagator_cache_bytes, DensityMatrix, GroupedOperator, MAX_EIGEN_QUBITS,
};
pub use gibbs::{trace_distance, Gibbs, GibbsDensity, Relaxation};
pub use lindblad::{
    evolve_lindblad, evolve_lindblad_with_progress, Lindbladian, Options, StepStats, Trajectory,
};
pub use setup::StartState;
pub use thermalize::{thermalize, Thermalization, ThermalizeMethod, ThermalizeSettings};
pub use trajectories::{
    evolve_trajectories, evolve_trajectories_with_progress, trajectories_memory, TrajectoryOptions,
    TrajectoryResult,
};

use crate::linalg::SolverError;
use crate::operator::OperatorError;
use crate::pauli::PauliSum;
use crate::state::{MemoryError, StateError};

/// The `(L_k, γ_k)` pairs of a model's `lindblad: jumps:` (already expanded per qubit by the
/// YAML parser), in the form [`evolve_lindblad`] and [`Lindbladian::new`] take. Allocates a copy.
pub fn jump_list(jumps: &[crate::hamiltonian::Jump]) -> Vec<(PauliSum, f64)> {
    jumps.iter().map(|j| (j.operator.clone(), j.rate)).collect()
}

/// Errors of density-matrix and trajectory evolution.
#[derive(Debug, thiserror::Error)]
pub enum EvolveError {
    /// An observable has a complex coefficient (its expectation would not be real).
    #[error("observable {index} is not Hermitian: term {term} has imaginary part {imag:.3e}")]
    NonHermitianObservable {
        /// Position in the observable list.
        index: usize,
        /// The worst term.
        term: String,
        /// Its imaginary part.
        imag: f64,
    },
    /// The initial density matrix is not Hermitian.
    #[error("the initial density matrix is not Hermitian: max |ρ − ρ†| = {defect:.3e}")]
    NonHermitianState {
        /// `‖ρ − ρ†‖_max`.
        defect: f64,
    },
    /// A jump rate is negative or not finite.
    #[error("jump {index} has rate {rate}; expected a finite rate ≥ 0")]
    BadRate {
        /// Position in the jump list.
        index: usize,
        /// The rate given.
        rate: f64,
    },
    /// Output times are negative, not finite or decreasing.
    #[error(
        "output time {index} is {time} after {previous}; expected finite, non-decreasing times ≥ 0"
    )]
    BadTimes {
        /// Position in the list.
        index: usize,
        /// The offending time.
        time: f64,
        /// The previous time (0 for the first).
        previous: f64,
    },
    /// Tolerances are not positive.
    #[error("tolerances atol = {atol:e}, rtol = {rtol:e}; expected atol > 0 and rtol ≥ 0")]
    BadTolerance {
        /// Absolute tolerance.
        atol: f64,
        /// Relative tolerance.
        rtol: f64,
    },
    /// The adaptive step fell below the minimum step.
    #[error(
        "Dormand–Prince: step {h:.3e} < minimum {h_min:.3e} at t = {t} (error norm {err:.3e}); \
             the problem is too stiff for the tolerances"
    )]
    StepTooSmall {
        /// Time reached.
        t: f64,
        /// The rejected step.
        h: f64,
        /// The minimum step.
        h_min: f64,
        /// The scaled error norm of the last attempt.
        err: f64,
    },
    /// The step budget ran out.
    #[error("Dormand–Prince: {steps} steps (limit) reached at t = {t} before t = {target}")]
    TooManySteps {
        /// Steps taken.
        steps: usize,
        /// Time reached.
        t: f64,
        /// Output time being integrated to.
        target: f64,
    },
    /// The Krylov propagator of a collision failed (cooling trajectories).
    #[error("Krylov propagator: {0}")]
    Propagator(#[from] crate::adiabatic::AdiabaticError),
    /// Zero trajectories were requested.
    #[error("0 trajectories requested; expected at least 1")]
    NoTrajectories,
    /// The initial state vector has zero (or non-finite) norm.
    #[error("the initial state has norm {norm}; expected a finite, non-zero norm")]
    ZeroNormState {
        /// `‖ψ₀‖`.
        norm: f64,
    },
    /// A state-layer error: memory, the dense eigensolver, an operator that does not fit,
    /// qubit counts that differ, a non-Hermitian Hamiltonian, a temperature, a dense limit
    /// (the same variants as the Gibbs state and density matrices report, message unchanged).
    #[error(transparent)]
    State(#[from] StateError),
    /// A numerical setting is out of its range.
    #[error("{name} = {value}; expected {expected}")]
    BadParameter {
        /// The setting (e.g. `coupling g`).
        name: &'static str,
        /// The value given.
        value: f64,
        /// The valid range.
        expected: &'static str,
    },
    /// The generator's fixed point is not unique (the population sector has a second zero
    /// eigenvalue) or its linear system is singular.
    #[error(
        "Davies generator: the fixed point is not unique (second eigenvalue {gap:.3e} of the \
             population sector within {tol:.1e} of 0); add coupling operators"
    )]
    FixedPointNotUnique {
        /// `−Re λ₁`, the slowest non-zero decay rate found.
        gap: f64,
        /// The tolerance it was compared with.
        tol: f64,
    },
    /// A start state given by a name that is not one of the accepted ones.
    #[error("--initial {spec:?}: expected {expected} or basis:B with B < 2^{qubits}")]
    BadStartState {
        /// The text given.
        spec: String,
        /// The accepted names, comma-separated.
        expected: String,
        /// Qubits of the model.
        qubits: usize,
    },
    /// An observable label that is not a Pauli string.
    #[error("--observe {label:?}: {source}")]
    BadObservable {
        /// The label given.
        label: String,
        /// Why it is not a Pauli string.
        source: crate::pauli::PauliError,
    },
    /// An observable that acts on a qubit the model does not have.
    #[error("--observe {label:?}: acts on a qubit ≥ {qubits}, the model has {qubits} qubits")]
    ObservableOutOfRange {
        /// The label given.
        label: String,
        /// Qubits of the model.
        qubits: usize,
    },
    /// The Krylov propagator was asked for a model with jump operators.
    #[error(
        "--method krylov evolves pure states under the Schrödinger equation, but the model has \
         {jumps} Lindblad jump operators; use --method rho or trajectories"
    )]
    KrylovWithJumps {
        /// Jump operators of the model.
        jumps: usize,
    },
    /// No temperature was given and the model sets none.
    #[error("no temperature: pass --temperature T or set `temperature:` in the model")]
    NoTemperature,
    /// The model could not be compiled into a Hamiltonian (boxed: model errors carry
    /// locations and would make every evolution result large).
    #[error(transparent)]
    Model(Box<crate::hamiltonian::ModelError>),
    /// A computation stopped at a safe point because its cancellation flag was set.
    #[error(transparent)]
    Cancelled(#[from] crate::cancel::Cancelled),
}

/// Memory, solver and operator errors are state-layer errors of the evolution.
macro_rules! via_state {
    ($($e:ty),*) => {$(
        impl From<$e> for EvolveError {
            fn from(e: $e) -> Self {
                EvolveError::State(e.into())
            }
        }
    )*};
}
via_state!(MemoryError, SolverError, OperatorError);

impl From<crate::hamiltonian::ModelError> for EvolveError {
    fn from(e: crate::hamiltonian::ModelError) -> Self {
        EvolveError::Model(Box::new(e))
    }
}

/// Checks that every observable acts on at most `n` qubits and is Hermitian (no imaginary
/// coefficient above 1e-12), so that its expectation is real.
///
/// # Errors
/// [`StateError::QubitMismatch`] or [`EvolveError::NonHermitianObservable`] naming the first
/// offending observable.
pub(crate) fn check_observables(observables: &[PauliSum], n: usize) -> Result<(), EvolveError> {
    check_hermitian_operators(observables, n, "observable")
}

/// Checks operator `j` of a list of `what`s (`"observable"`, `"system operator"`): it acts on
/// at most `n` qubits.
///
/// # Errors
/// [`StateError::QubitMismatch`] naming it as `"{what} {j}"`.
pub(crate) fn check_width(a: &PauliSum, n: usize, what: &str, j: usize) -> Result<(), EvolveError> {
    if a.qubits() > n {
        return Err(StateError::QubitMismatch {
            what: format!("{what} {j}"),
            expected: n,
            found: a.qubits(),
        }
        .into());
    }
    Ok(())
}

/// As [`check_observables`] for any list of operators that must be Hermitian on at most `n`
/// qubits, named `what` in the errors.
///
/// # Errors
/// [`StateError::QubitMismatch`] or [`EvolveError::NonHermitianObservable`] naming the first
/// offending operator.
pub(crate) fn check_hermitian_operators(
    ops: &[PauliSum],
    n: usize,
    what: &str,
) -> Result<(), EvolveError> {
    for (j, a) in ops.iter().enumerate() {
        check_width(a, n, what, j)?;
        if let Some((p, imag)) = a.worst_imaginary() {
            if imag.abs() > 1e-12 {
                return Err(EvolveError::NonHermitianObservable {
                    index: j,
                    term: p.label(),
                    imag,
                });
            }
        }
    }
    Ok(())
}

/// Checks what every time integrator of this module needs of its output times and error
/// tolerances: times finite and non-decreasing from 0, `atol > 0` and `rtol ≥ 0`, both finite.
///
/// # Errors
/// [`EvolveError::BadTimes`] naming the first offending time, else
/// [`EvolveError::BadTolerance`].
pub(crate) fn check_times_and_tolerance(
    times: &[f64],
    atol: f64,
    rtol: f64,
) -> Result<(), EvolveError> {
    let mut prev = 0.0;
    for (i, &t) in times.iter().enumerate() {
        if !t.is_finite() || t < prev {
            return Err(EvolveError::BadTimes {
                index: i,
                time: t,
                previous: prev,
            });
        }
        prev = t;
    }
    if !(atol > 0.0 && rtol >= 0.0 && atol.is_finite() && rtol.is_finite()) {
        return Err(EvolveError::BadTolerance { atol, rtol });
    }
    Ok(())
}

/// Checks that a Hamiltonian is Hermitian: no imaginary coefficient above 1e-12 after merging.
/// Shared by the density-matrix and trajectory integrators so both refuse the same models.
///
/// # Errors
/// [`StateError::NonHermitianHamiltonian`] naming the worst term.
pub(crate) fn check_hamiltonian(h: &PauliSum) -> Result<(), EvolveError> {
    if let Some((p, imag)) = h.worst_imaginary() {
        if imag.abs() > 1e-12 {
            return Err(StateError::NonHermitianHamiltonian {
                term: p.label(),
                imag,
            }
            .into());
        }
    }
    Ok(())
}

/// Checks jump operator `k` of a Lindblad model on `n` qubits: its rate is finite and ≥ 0 and
/// it acts on no qubit beyond `n`. Shared by the density-matrix and trajectory integrators so
/// both refuse the same models with the same messages.
pub(crate) fn check_jump(
    k: usize,
    l: &crate::pauli::PauliSum,
    rate: f64,
    n: usize,
) -> Result<(), EvolveError> {
    if !rate.is_finite() || rate < 0.0 {
        return Err(EvolveError::BadRate { index: k, rate });
    }
    if l.qubits() > n {
        return Err(StateError::QubitMismatch {
            what: format!("jump {k}"),
            expected: n,
            found: l.qubits(),
        }
        .into());
    }
    Ok(())
}
