//! Thermal EP (Section IV of the paper, docs/DESIGN.md "Thermal case"): the Gibbs state of a small
//! network by dense diagonalisation and four estimates of the thermal gradient
//! `∂⟨C⟩_T/∂θ_k`, side by side.
//!
//! The Gibbs state of `H = H(β, θ, u, d)` (Eq. 16) at temperature `T > 0` is
//! `ρ = e^{−H/T}/Z`, with free energy `F = −T log Tr e^{−H/T}`. Since `∂H/∂θ_k = P_k` and
//! `∂H/∂β = C` (Eq. 18), `∂F/∂θ_k = ⟨P_k⟩_T` and `∂F/∂β = ⟨C⟩_T` hold exactly, so
//!
//! * **clamped** (Eq. 42 analogue): `(⟨P_k⟩_{T,+β} − ⟨P_k⟩_{T,−β}) / 2β → ∂²F/∂β∂θ_k
//!   = ∂⟨C⟩_T/∂θ_k` as `β → 0`, bias O(β²);
//! * **covariance** (Eq. 43, "training for free"): `−(1/T) (½⟨{P_k, C}⟩_T − ⟨P_k⟩_T⟨C⟩_T)`
//!   from the free (`β = 0`) state only. Exact only if `H` is diagonal or `[C, H] = 0`
//!   (docs/DESIGN.md, "Known slips in the paper");
//! * **Kubo–Mori**: `−(1/T) (∫₀¹ Tr(ρ^s P_k ρ^{1−s} C) ds − ⟨P_k⟩_T⟨C⟩_T)`, the exact
//!   derivative of `⟨C⟩_T = Tr(e^{−H/T} C)/Z` (Duhamel's formula for `∂e^{−H/T}`);
//! * **exact**: finite differences of `⟨C⟩_T` in `θ_k`, the oracle.
//!
//! In the eigenbasis `H|n⟩ = E_n|n⟩`, `p_n = e^{−E_n/T}/Z`, both covariances are
//! `Σ_{m,n} (P_k)_{mn} C_{nm} w_{mn} − ⟨P_k⟩⟨C⟩` and differ only in the weight: the
//! arithmetic mean `w = (p_m + p_n)/2` for the plain one, the logarithmic mean
//! `w = ∫₀¹ p_m^s p_n^{1−s} ds = (p_m − p_n)/(ln p_m − ln p_n)` for Kubo–Mori. They agree on
//! the pairs with `E_m = E_n`, hence when `C` is diagonal in the eigenbasis.
//!
//! The comparison ([`thermal_gradients`]) is dense: `N ≤ 12` qubits
//! ([`crate::operator::DENSE_MAX_QUBITS`]), cost `O(4^N)` memory and `O(8^N)` time per
//! diagonalisation. Training ([`thermal_gradient`], [`thermal_prediction`]) computes one
//! estimator at a time, dense up to 12 qubits and by typicality ([`super::typicality`]) above,
//! Kubo–Mori included ([`super::typicality::kubo_mori_samples`]: the `s` integral by
//! Gauss–Legendre nodes, two exponentials per node serving every parameter).
//! [`covariance_from_shots`] is Eq. 43 as an experiment would do it: Z-basis shots of the free
//! Gibbs state, nothing else.

use crate::hamiltonian::ModelError;
use crate::linalg::SolverError;
use crate::measure::MeasureError;
use crate::operator::{OperatorError, DENSE_MAX_QUBITS};
use crate::state::StateError;

use super::typicality::TypicalityError;

/// Errors of thermal EP.
#[derive(Debug, thiserror::Error)]
pub enum ThermalError {
    /// The temperature must be a positive finite number.
    #[error("temperature T = {temperature} is not valid; expected a finite number > 0")]
    TemperatureNotPositive {
        /// The value given.
        temperature: f64,
    },
    /// The clamping strength must be a positive finite number.
    #[error("beta = {beta} is not a clamping strength; expected a finite number > 0")]
    BetaNotPositive {
        /// The value given.
        beta: f64,
    },
    /// Too many qubits for the dense Gibbs state.
    #[error("{qubits} qubits: the dense Gibbs state is limited to {max} qubits")]
    TooManyQubits {
        /// Qubits of the model.
        qubits: usize,
        /// The dense limit.
        max: usize,
    },
    /// The example has no targets: there is no cost to differentiate.
    #[error("the example has no targets; thermal EP needs targets d_i on the outputs")]
    NoTargets,
    /// Building `H(β, θ, u, d)` failed (boxed: model errors carry a file position).
    #[error(transparent)]
    Model(Box<ModelError>),
    /// Building the dense operator failed.
    #[error(transparent)]
    Operator(#[from] OperatorError),
    /// The dense eigensolver failed.
    #[error(transparent)]
    Solver(#[from] SolverError),
    /// The typicality estimate failed.
    #[error(transparent)]
    Typicality(#[from] TypicalityError),
    /// Shot sampling failed.
    #[error(transparent)]
    Measure(#[from] MeasureError),
    /// The dense Gibbs state could not be formed (memory, a non-Hermitian Hamiltonian).
    #[error(transparent)]
    State(StateError),
}

impl From<ModelError> for ThermalError {
    fn from(e: ModelError) -> Self {
        Self::Model(Box::new(e))
    }
}

/// The state errors of the dense Gibbs state ([`crate::state::Gibbs::new`]) as thermal EP words them:
/// the temperature and the dense limit keep their thermal messages, the rest pass through.
impl From<StateError> for ThermalError {
    fn from(e: StateError) -> Self {
        match e {
            StateError::TemperatureNotPositive { temperature } => {
                Self::TemperatureNotPositive { temperature }
            }
            StateError::TooManyQubits { qubits, max, .. } => Self::TooManyQubits { qubits, max },
            StateError::Operator(e) => Self::Operator(e),
            StateError::Solver(e) => Self::Solver(e),
            e => Self::State(e),
        }
    }
}

pub(super) fn check_temperature(temperature: f64) -> Result<(), ThermalError> {
    crate::ep::params::check_temperature(temperature)
        .map_err(|_| ThermalError::TemperatureNotPositive { temperature })
}

/// [`crate::ep::params::check_beta`] as a thermal error.
pub(super) fn check_beta(beta: f64) -> Result<(), ThermalError> {
    crate::ep::params::check_beta(beta).map_err(|_| ThermalError::BetaNotPositive { beta })
}

pub(super) fn check_qubits(qubits: usize) -> Result<(), ThermalError> {
    if qubits > DENSE_MAX_QUBITS {
        Err(ThermalError::TooManyQubits {
            qubits,
            max: DENSE_MAX_QUBITS,
        })
    } else {
        Ok(())
    }
}
