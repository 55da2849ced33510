//! EP on *prepared* states: the free and clamped states come from adiabatic
//! sweeps of finite time `T` instead of the exact eigensolver, so the gradient carries the
//! preparation error. Reported next to the EP gradient from exact eigenstates: how much does
//! an imperfect physical preparation cost the learning signal?

use serde::Serialize;

use super::eigen::{compare, ep_gradient, EpError, EpParams};
use crate::adiabatic::{Method, PrepareSettings, Preparer, Profile, ScheduleKind};
use crate::ep::EpError as Error;
use crate::hamiltonian::{Adiabatic, Example, Model, Schedule};
use crate::measure::estimate_weighted;
use crate::pauli::{Letter, PauliString};
use crate::state::{expectation_pauli, expectation_sum, StateVector};

/// The EP gradient from adiabatically prepared states, beside the exact-state EP gradient.
#[derive(Clone, Debug, Serialize)]
pub struct PreparedGradient {
    /// Parameter labels.
    pub params: Vec<String>,
    /// Sweep time `T`.
    pub time: f64,
    /// `(⟨P_k⟩_{+β} − ⟨P_k⟩_{−β}) / 2β` on the prepared states.
    pub ep: Vec<f64>,
    /// Shot standard errors when shots were used.
    pub ep_std: Option<Vec<f64>>,
    /// The same estimate on exact eigenstates (Lanczos).
    pub exact_state_ep: Vec<f64>,
    /// Cosine similarity of `ep` with `exact_state_ep`.
    pub cosine: f64,
    /// `‖ep − exact_state_ep‖ / ‖exact_state_ep‖`.
    pub relative_error: f64,
    /// Fidelities of the prepared free, `+β` and `−β` states with the exact eigenstates.
    pub fidelities: Vec<f64>,
    /// Energy errors of the same three states.
    pub energy_errors: Vec<f64>,
    /// `⟨C⟩` in the prepared free state.
    pub cost: f64,
    /// `⟨Z_i⟩` on the outputs in the prepared free state (the physical prediction).
    pub z_outputs: Vec<f64>,
    /// Operator applications of the three sweeps.
    pub matvecs: usize,
}

/// The preparation settings of a model's `preparation: adiabatic` section.
///
/// # Errors
/// [`crate::adiabatic::AdiabaticError::BadTable`] for a malformed `table`.
pub fn prepare_settings(
    ad: &Adiabatic,
    level: usize,
) -> Result<PrepareSettings, crate::adiabatic::AdiabaticError> {
    let schedule = match ad.schedule {
        Schedule::Linear => ScheduleKind::Linear,
        Schedule::Smooth => ScheduleKind::Smooth,
        Schedule::Local => ScheduleKind::Local,
    };
    let profile = match &ad.table {
        Some(t) => Some(Profile::table(
            t.iter().map(|r| r[0]).collect(),
            t.iter().map(|r| r[1]).collect(),
        )?),
        None => None,
    };
    Ok(PrepareSettings {
        method: Method::Magnus,
        steps: ad.steps,
        eigen: level,
        schedule,
        // The local schedule needs the path; the others skip the scan (three per gradient).
        gap_points: if schedule == ScheduleKind::Local && profile.is_none() {
            21
        } else {
            0
        },
        profile,
        ..PrepareSettings::default()
    })
}

/// EP gradient (Eq. 28, symmetric) with the free and both clamped states prepared by
/// adiabatic sweeps from `−Σ X_i` (`ad.time`, `ad.steps`, `ad.schedule`; level
/// `params.level`), each measured exactly or from `params.shots` shots per commuting group.
/// With `reference`, also the EP gradient on exact eigenstates and the comparison (three more
/// eigensolves); without, `exact_state_ep` is empty and `cosine`/`relative_error` are NaN.
///
/// # Errors
/// [`EpError::BetaNotPositive`], [`EpError::NoTargets`]; model, solver and preparation errors
/// (a degenerate start level for `level > 0` among them).
pub(crate) fn ep_gradient_prepared(
    model: &Model,
    theta: &[f64],
    example: &Example,
    params: &EpParams,
    ad: &Adiabatic,
    reference: bool,
) -> Result<PreparedGradient, Error> {
    crate::ep::params::check_beta(params.beta)?;
    if example.targets.is_empty() {
        return Err(EpError::NoTargets);
    }
    let ops: Vec<Vec<(PauliString, f64)>> =
        model.params.iter().map(|p| p.strings.clone()).collect();
    let settings = prepare_settings(ad, params.level)?;
    let mut expectations = Vec::with_capacity(3);
    let mut stds = Vec::with_capacity(3);
    let mut fidelities = Vec::with_capacity(3);
    let mut energy_errors = Vec::with_capacity(3);
    let mut matvecs = 0;
    let mut free_state = None;
    for (j, &b) in [0.0, params.beta, -params.beta].iter().enumerate() {
        let h = model.hamiltonian(theta, Some(example), b)?;
        let mut prep = Preparer::new(None, h, settings.clone())?;
        let (r, psi) = prep.run(ad.time)?;
        matvecs += r.propagation.krylov.matvecs;
        fidelities.push(r.verification.fidelity);
        energy_errors.push(r.verification.energy_error);
        if j > 0 {
            match params.shots {
                None => {
                    expectations.push(super::param_expectations(
                        model,
                        &model.param_strings(),
                        &psi,
                    ));
                    stds.push(vec![0.0; ops.len()]);
                }
                Some(s) => {
                    let sv = StateVector::from_amplitudes(model.qubits, psi.clone());
                    let seed = params
                        .shot_seed
                        .wrapping_add((j as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
                    let est = estimate_weighted(&sv, &ops, s, seed)?;
                    expectations.push(est.iter().map(|e| e.mean).collect());
                    stds.push(est.iter().map(|e| e.std_err).collect());
                }
            }
        } else {
            free_state = Some(psi);
        }
    }
    let scale = 2.0 * params.beta;
    let ep: Vec<f64> = expectations[0]
        .iter()
        .zip(&expectations[1])
        .map(|(p, m)| (p - m) / scale)
        .collect();
    let ep_std = params.shots.map(|_| {
        stds[0]
            .iter()
            .zip(&stds[1])
            .map(|(x, y)| (x * x + y * y).sqrt() / scale)
            .collect()
    });
    let (exact_state_ep, cosine, relative_error) = if reference {
        let exact = ep_gradient(
            model,
            theta,
            example,
            &EpParams {
                shots: None,
                one_sided: false,
                ..params.clone()
            },
        )?;
        let (c, r) = compare(&ep, &exact.ep);
        (exact.ep, c, r)
    } else {
        (Vec::new(), f64::NAN, f64::NAN)
    };
    let free = free_state.unwrap_or_default();
    let cost = expectation_sum(&free, &model.cost_operator(&example.targets)).re;
    let z_outputs = model
        .outputs
        .iter()
        .map(|&q| expectation_pauli(&free, PauliString::single(Letter::Z, q)).re)
        .collect();
    Ok(PreparedGradient {
        params: model.params.iter().map(|p| p.label.clone()).collect(),
        time: ad.time,
        ep,
        ep_std,
        exact_state_ep,
        cosine,
        relative_error,
        fidelities,
        energy_errors,
        cost,
        z_outputs,
        matvecs,
    })
}

/// The physical prediction: `⟨Z_i⟩` on the outputs and `⟨C⟩` in the free state prepared by an
/// adiabatic sweep, with that state's fidelity to the exact eigenstate.
#[derive(Clone, Debug, Serialize)]
pub struct PreparedPhase {
    /// `⟨Z_i⟩` on the outputs.
    pub z_outputs: Vec<f64>,
    /// `⟨C⟩`.
    pub cost: f64,
    /// Fidelity with the exact level.
    pub fidelity: f64,
}

/// The free phase (β = 0) of one example on a state prepared by the sweep `ad` (level
/// `level`).
///
/// # Errors
/// Model, solver and preparation errors; [`EpError::NoTargets`] is not raised (the cost is
/// then NaN).
pub fn prepared_free_phase(
    model: &Model,
    theta: &[f64],
    example: &Example,
    level: usize,
    ad: &Adiabatic,
) -> Result<PreparedPhase, Error> {
    let h = model.hamiltonian(theta, Some(example), 0.0)?;
    let mut prep = Preparer::new(None, h, prepare_settings(ad, level)?)?;
    let (r, psi) = prep.run(ad.time)?;
    let cost = if example.targets.is_empty() {
        f64::NAN
    } else {
        expectation_sum(&psi, &model.cost_operator(&example.targets)).re
    };
    Ok(PreparedPhase {
        z_outputs: model
            .outputs
            .iter()
            .map(|&q| expectation_pauli(&psi, PauliString::single(Letter::Z, q)).re)
            .collect(),
        cost,
        fidelity: r.verification.fidelity,
    })
}
