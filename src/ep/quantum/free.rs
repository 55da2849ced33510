//! The free phase of quantum EP: one eigenstate of `H(β = 0, θ, u)` and what it predicts.

use serde::Serialize;

use crate::ep::EpError as Error;
use crate::hamiltonian::{Example, Model, StateChoice};
use crate::linalg::{eigenpairs, LanczosParams};
use crate::operator::XMaskOperator;
use crate::pauli::{Letter, PauliString};

/// The free-phase eigenstate of a model for one example, with its evidence.
#[derive(Clone, Debug, Serialize)]
pub struct FreePhase {
    /// Which eigenstate computes (`K`, 0 = ground state; from the model's `state`).
    pub level: usize,
    /// Energies of levels `0..=K` and, when known, the one above, ascending.
    pub energies: Vec<f64>,
    /// `E_K`, the energy of the computing state.
    pub energy: f64,
    /// `‖Hψ_K − E_Kψ_K‖`.
    pub residual: f64,
    /// Distance from `E_K` to the nearest other level (EP is ill-defined at a degeneracy).
    pub gap: Option<f64>,
    /// The output qubits, in model order.
    pub outputs: Vec<usize>,
    /// `⟨Z_i⟩` on each output: the network's prediction.
    pub z_outputs: Vec<f64>,
    /// `⟨C⟩ = ½ Σ ⟨(Z_i − d_i)²⟩` (Eq. 18) when the example has targets.
    pub cost: Option<f64>,
    /// Operator applications used by the eigensolver.
    pub matvecs: usize,
    /// Eigensolver used (`dense`, `lanczos`, `lanczos-two-pass`).
    pub method: &'static str,
    /// Whether real arithmetic was used.
    pub real: bool,
}

/// Solves the free phase: builds `H(0, θ, u)` (Eq. 16 at β = 0; no input fields without an
/// example), finds the levels `0..=K` plus the one above (for the gap) with `lanczos`, and
/// reads `⟨Z_i⟩` on the outputs and `⟨C⟩` in level `K`. `lanczos.k` and `lanczos.gap` are
/// overridden.
///
/// # Errors
/// [`Error::Model`] if `theta` or the example do not fit the model; [`Error::Operator`] /
/// [`Error::Memory`] if the operator or vectors do not fit in memory; [`Error::Solver`] on
/// non-convergence.
pub fn free_phase(
    model: &Model,
    theta: &[f64],
    example: Option<&Example>,
    lanczos: &LanczosParams,
) -> Result<FreePhase, Error> {
    free_phase_with(model, theta, example, lanczos, true)
}

/// As [`free_phase`]; without `gap`, the level above `K` is not solved for (one eigensolve
/// less, for callers that read only the prediction), and `gap` is then the distance to the
/// level below (none for the ground state).
///
/// # Errors
/// As [`free_phase`].
pub fn free_phase_with(
    model: &Model,
    theta: &[f64],
    example: Option<&Example>,
    lanczos: &LanczosParams,
    gap: bool,
) -> Result<FreePhase, Error> {
    let level = match model.settings.state {
        StateChoice::Ground => 0,
        StateChoice::Eigen(k) => k,
    };
    let h = model.hamiltonian(theta, example, 0.0)?;
    let op = XMaskOperator::new(&h)?;
    let params = LanczosParams {
        k: level + 1,
        gap,
        ..lanczos.clone()
    };
    let spec = eigenpairs(&op, &params, None)?;
    let e = spec.energies();
    let energy = e[level];
    let below = level.checked_sub(1).map(|j| energy - e[j]);
    let above = spec.next_energy().map(|n| n - energy);
    let gap = match (below, above) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let z_outputs: Vec<f64> = model
        .outputs
        .iter()
        .map(|&q| spec.expectation(level, PauliString::single(Letter::Z, q)))
        .collect();
    let cost = example
        .filter(|ex| !ex.targets.is_empty())
        .map(|ex| spec.expectation_sum(level, &model.cost_operator(&ex.targets)));
    let mut energies = e.to_vec();
    energies.extend(spec.next_energy());
    Ok(FreePhase {
        level,
        energies,
        energy,
        residual: spec.residuals()[level],
        gap,
        outputs: model.outputs.clone(),
        z_outputs,
        cost,
        matvecs: spec.matvecs(),
        method: spec.method(),
        real: spec.is_real(),
    })
}
