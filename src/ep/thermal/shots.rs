//! The covariance gradient (Eq. 43) estimated from measurement shots.

use serde::Serialize;

use crate::hamiltonian::{Example, Model};
use crate::measure::{sample_probabilities, MeasureError};

use super::dense::*;
use crate::state::Gibbs;

/// Eq. 43 from shots: `−(1/T) Cov[P_k, C]` estimated from `S` computational-basis shots of
/// the free Gibbs state (probabilities `⟨b|ρ|b⟩`), for every Z-type parameter `P_k` (tied:
/// every string Z-type), with `C`
/// (diagonal, Eq. 18) read from the same shots.
///
/// A shot `b` gives `P_k` the value `(−1)^{|b ∧ z_k|}` and `C` the value
/// `½ Σ_{i∈out} (z_i(b) − d_i)²`, `z_i(b) = 1 − 2 b_i`. The sample covariance (divisor
/// `S − 1`) is unbiased for `⟨P_k C⟩ − ⟨P_k⟩⟨C⟩` = the plain covariance of Eq. 43 (both
/// operators diagonal, so `½{P_k, C} = P_k C`); its standard error is the delta-method
/// `√(Var[(P − m_P)(C − m_C)] / S)`.
///
/// X- or Y-type parameters get `None`: `P_k` does not commute with `C` qubit-wise (it acts on
/// an output) or at least needs a rotated basis in which `C` is not read, and
/// `½⟨{P_k, C}⟩` of non-commuting operators is no single-basis observable. Their covariance
/// would need a separate estimate of the anticommutator terms; it is not attempted here.
///
/// Dense (`N ≤ 12`) because the diagonal of `ρ` comes from the dense Gibbs state.
///
/// # Errors
/// [`ThermalError::TemperatureNotPositive`], [`ThermalError::NoTargets`],
/// [`ThermalError::TooManyQubits`], [`MeasureError::TooFewShots`] (`S < 2`); model, operator,
/// solver and sampling errors.
pub fn covariance_from_shots(
    model: &Model,
    theta: &[f64],
    example: &Example,
    temperature: f64,
    shots: u64,
    seed: u64,
) -> Result<ShotCovariance, ThermalError> {
    check_temperature(temperature)?;
    check_qubits(model.qubits)?;
    if example.targets.is_empty() {
        return Err(ThermalError::NoTargets);
    }
    if shots < 2 {
        return Err(MeasureError::TooFewShots { shots }.into());
    }
    let h0 = model.hamiltonian(theta, Some(example), 0.0)?;
    let free = Gibbs::new(&h0, temperature)?;
    let counts = sample_probabilities(&free.diagonal(), shots, seed)?;
    let cost_of = |b: u64| -> f64 {
        model
            .outputs
            .iter()
            .zip(&example.targets)
            .map(|(&q, &d)| {
                let z = 1.0 - 2.0 * ((b >> q) & 1) as f64;
                0.5 * (z - d) * (z - d)
            })
            .sum()
    };
    let s = shots as f64;
    let outcomes = counts.outcomes();
    let mean = |f: &dyn Fn(u64) -> f64| -> f64 {
        outcomes.iter().map(|&(b, n)| n as f64 * f(b)).sum::<f64>() / s
    };
    let mc = mean(&cost_of);
    let vc = outcomes
        .iter()
        .map(|&(b, n)| n as f64 * (cost_of(b) - mc).powi(2))
        .sum::<f64>()
        / (s - 1.0);
    let (mut covariance, mut std_err) = (Vec::new(), Vec::new());
    for p in &model.params {
        if !p.strings.iter().all(|(s, _)| s.is_diagonal()) {
            covariance.push(None);
            std_err.push(None);
            continue;
        }
        // A tied parameter's operator Σ_j c_j P_j is diagonal too: a shot gives it
        // Σ_j c_j (−1)^{|b ∧ z_j|}.
        let v = |b: u64| -> f64 {
            p.combine(|s| {
                if (b & s.z()).count_ones().is_multiple_of(2) {
                    1.0
                } else {
                    -1.0
                }
            })
        };
        let mp = mean(&v);
        let u = |b: u64| (v(b) - mp) * (cost_of(b) - mc);
        let sum_u: f64 = outcomes.iter().map(|&(b, n)| n as f64 * u(b)).sum();
        let cov = sum_u / (s - 1.0);
        let mu = sum_u / s;
        let var_u = outcomes
            .iter()
            .map(|&(b, n)| n as f64 * (u(b) - mu).powi(2))
            .sum::<f64>()
            / (s - 1.0);
        covariance.push(Some(-cov / temperature));
        std_err.push(Some((var_u / s).sqrt() / temperature));
    }
    Ok(ShotCovariance {
        params: model.params.iter().map(|p| p.label.clone()).collect(),
        covariance,
        std_err,
        cost: mc,
        cost_std: (vc / s).sqrt(),
        temperature,
        shots,
        seed,
    })
}

/// Eq. 43 from Z-basis shots ([`covariance_from_shots`]).
#[derive(Clone, Debug, Serialize)]
pub struct ShotCovariance {
    /// Parameter labels, in model order.
    pub params: Vec<String>,
    /// `−(1/T) Cov[P_k, C]` from the shots; `None` for parameters that are not Z-type.
    pub covariance: Vec<Option<f64>>,
    /// Standard errors (delta method); `None` where `covariance` is.
    pub std_err: Vec<Option<f64>>,
    /// `⟨C⟩_T` from the same shots.
    pub cost: f64,
    /// Its standard error.
    pub cost_std: f64,
    /// Temperature `T`.
    pub temperature: f64,
    /// Shots `S`.
    pub shots: u64,
    /// Seed of the shots.
    pub seed: u64,
}
