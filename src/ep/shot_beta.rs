//! The shot-aware default clamping strength: with `S` shots per commuting group and state, a
//! β chosen for exact expectations (0.01) drowns the EP gradient in shot noise. The error of
//! one EP component is modelled as clamping bias plus shot noise,
//!
//! * symmetric (Eq. 28): `|b| β² + σ/(β√S)`, minimal at `β* = (σ/(2|b|√S))^{1/3} ∝ S^{−1/6}`;
//! * one-sided: `|b₁| β + σ/(β√S)`, minimal at `β* = (σ/(|b₁|√S))^{1/2} ∝ S^{−1/4}`.
//!
//! `σ` is the per-shot standard deviation of the EP numerator, exact from the free state:
//! the variance `V_k = Σ_g Var(w_kg)` of parameter `k`'s operator summed over its measurement
//! groups (`V = 1 − ⟨P⟩²` for one string), so that the numerator
//! `(⟨P⟩₊ − ⟨P⟩₋)/2` has per-shot deviation `√(V/2)` (one-sided, `⟨P⟩_β − ⟨P⟩₀`: `√(2V)`).
//! `b` comes from the exact-expectation EP gradient at two clamping strengths `β₁ < β₂`:
//! `b = (g(β₂) − g(β₁))/(β₂² − β₁²)` (one-sided `(g(β₂) − g(β₁))/(β₂ − β₁)`). On hardware
//! those two gradients would come from a simulation or a few very large shot batches; here
//! they cost four eigensolves, nothing next to `S` shots per group. The median of `σ` and of
//! `|b|` over the parameters gives one β for the whole gradient. The minimiser of the
//! root-mean-square error `√(b²β⁴ + σ²/(β²S))` is `2^{1/6} ≈ 1.12` times the β above, a
//! difference well inside the flat bottom of the error curve.

use serde::Serialize;

use super::params::{BetaSource, EpError, EpParams};
use super::quantum::ep_gradient;
use crate::hamiltonian::{Example, Model};
use crate::linalg::{eigenpairs, LanczosParams};
use crate::measure::best_grouping;
use crate::operator::XMaskOperator;

/// The clamping strengths of the bias fit: small enough for the leading term of the bias to
/// dominate, large enough for the difference of the two gradients to stand far above the
/// eigensolver's tolerance.
pub const BIAS_PROBES: [f64; 2] = [0.05, 0.1];

/// The largest β the rule picks: beyond it the clamp is no longer a perturbation of the free
/// state (the cost operator has norm of order 1 per output).
pub const MAX_SHOT_BETA: f64 = 1.0;

/// The smallest β the rule picks (a vanishing bias coefficient would send β* to 0 only
/// through rounding).
pub const MIN_SHOT_BETA: f64 = 1e-4;

/// β chosen from the bias–noise error model (module docs), with the fit it came from.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ShotAwareBeta {
    /// The chosen β.
    pub beta: f64,
    /// Shots per commuting group and state it is chosen for.
    pub shots: u64,
    /// Whether the one-sided estimate is used (bias linear in β).
    pub one_sided: bool,
    /// The exponent of `S` in `β*`: −1/6 (symmetric) or −1/4 (one-sided).
    pub exponent: f64,
    /// The median over parameters of the per-shot standard deviation of the EP numerator.
    pub sigma: f64,
    /// The median over parameters of `|b|`, the bias coefficient (of β² symmetric, of β
    /// one-sided).
    pub b: f64,
    /// The clamping strengths the bias was fitted from.
    pub probes: [f64; 2],
    /// `σ_k` per parameter.
    pub sigma_per_param: Vec<f64>,
    /// `b_k` per parameter (signed).
    pub b_per_param: Vec<f64>,
    /// Why this β, in one sentence.
    pub reason: String,
}

impl ShotAwareBeta {
    /// `β*` of the error model for `shots` shots: `(σ/(2b√S))^{1/3}` symmetric,
    /// `(σ/(b√S))^{1/2}` one-sided, within [`MIN_SHOT_BETA`, `MAX_SHOT_BETA`]
    /// (`MAX_SHOT_BETA` when `b = 0`: no bias to balance).
    pub fn optimum(sigma: f64, b: f64, shots: u64, one_sided: bool) -> f64 {
        let s = (shots as f64).sqrt();
        let raw = if one_sided {
            (sigma / (b * s)).sqrt()
        } else {
            (sigma / (2.0 * b * s)).cbrt()
        };
        if raw.is_nan() {
            MAX_SHOT_BETA
        } else {
            raw.clamp(MIN_SHOT_BETA, MAX_SHOT_BETA)
        }
    }

    /// The β of the same fit for another shot budget.
    pub fn for_shots(&self, shots: u64) -> f64 {
        Self::optimum(self.sigma, self.b, shots, self.one_sided)
    }
}

/// Whether `p` should get the shot-aware β: shots are measured and β was not chosen for them
/// (neither given by the caller nor written in a model file that also sets `shots`), and the
/// engine measures eigenstates (eigen or prepared; thermal shots estimate the covariance,
/// which has no β, and classical networks have no shots).
pub fn wants_shot_aware_beta(model: &Model, p: &EpParams) -> bool {
    let chosen_for_shots = match p.beta_source {
        BetaSource::Given | BetaSource::ShotAware => true,
        BetaSource::Model => model.settings.shots.is_some() && p.shots == model.settings.shots,
        BetaSource::Default => false,
    };
    p.shots.is_some()
        && !chosen_for_shots
        && p.thermal.is_none()
        && model.kind == crate::hamiltonian::ModelKind::Quantum
}

/// Fits the error model on one example at `theta` (module docs) and returns the β it picks
/// for `shots` shots per group and state, with `p`'s level, variant (`one_sided`) and
/// eigensolver settings.
///
/// # Errors
/// [`EpError::NoTargets`]; model, operator, memory and solver errors of the four clamped
/// eigensolves and the free one.
pub fn shot_aware_beta(
    model: &Model,
    theta: &[f64],
    example: &Example,
    p: &EpParams,
    shots: u64,
) -> Result<ShotAwareBeta, EpError> {
    if example.targets.is_empty() {
        return Err(EpError::NoTargets);
    }
    let sigma_per_param = numerator_sigma(model, theta, example, p)?;
    let exact = |beta: f64| {
        ep_gradient(
            model,
            theta,
            example,
            &EpParams {
                beta,
                shots: None,
                exact: false,
                ..p.clone()
            },
        )
        .map(|g| g.ep)
    };
    let [b1, b2] = BIAS_PROBES;
    let (g1, g2) = (exact(b1)?, exact(b2)?);
    let scale = if p.one_sided {
        b2 - b1
    } else {
        b2 * b2 - b1 * b1
    };
    let b_per_param: Vec<f64> = g1.iter().zip(&g2).map(|(x, y)| (y - x) / scale).collect();
    let sigma = median(&sigma_per_param);
    let b = median(&b_per_param.iter().map(|x| x.abs()).collect::<Vec<_>>());
    let beta = ShotAwareBeta::optimum(sigma, b, shots, p.one_sided);
    let (variant, exponent, formula) = if p.one_sided {
        ("one-sided", -0.25, "(σ/(b√S))^(1/2)")
    } else {
        ("symmetric", -1.0 / 6.0, "(σ/(2b√S))^(1/3)")
    };
    let reason = format!(
        "shot-aware default for S = {shots} shots: {variant} EP bias ≈ b·β{} with median \
         b = {b:.3e} (exact gradients at β = {b1}, {b2}), shot noise ≈ σ/(β√S) with median \
         σ = {sigma:.3e} (free state), β* = {formula} = {beta:.4}{}",
        if p.one_sided { "" } else { "²" },
        if beta == MAX_SHOT_BETA || beta == MIN_SHOT_BETA {
            " (at the limit of the rule's range)"
        } else {
            ""
        }
    );
    Ok(ShotAwareBeta {
        beta,
        shots,
        one_sided: p.one_sided,
        exponent,
        sigma,
        b,
        probes: BIAS_PROBES,
        sigma_per_param,
        b_per_param,
        reason,
    })
}

impl EpParams {
    /// Replaces β by the shot-aware choice when [`wants_shot_aware_beta`] says so (fitted on
    /// `example` at `theta`), recording the fit; otherwise leaves `self` unchanged. Returns
    /// the fit when one was made.
    ///
    /// # Errors
    /// Those of [`shot_aware_beta`].
    pub fn apply_shot_aware_beta(
        &mut self,
        model: &Model,
        theta: &[f64],
        example: &Example,
    ) -> Result<Option<&ShotAwareBeta>, EpError> {
        let Some(shots) = self.shots.filter(|_| wants_shot_aware_beta(model, self)) else {
            return Ok(None);
        };
        let fit = shot_aware_beta(model, theta, example, self, shots)?;
        self.beta = fit.beta;
        self.beta_source = BetaSource::ShotAware;
        self.shot_aware = Some(fit);
        Ok(self.shot_aware.as_ref())
    }
}

/// `σ_k` of every parameter in the free state (module docs): the variance of its operator
/// summed over the measurement groups of all parameter strings, each group's part
/// `Var(Σ_{j∈g} c_j P_j) = Σ_{j,l∈g} c_j c_l ⟨P_j P_l⟩ − (Σ_{j∈g} c_j ⟨P_j⟩)²` (members of a
/// group commute, so each product is a Hermitian string up to a sign).
fn numerator_sigma(
    model: &Model,
    theta: &[f64],
    example: &Example,
    p: &EpParams,
) -> Result<Vec<f64>, EpError> {
    let h = model.hamiltonian(theta, Some(example), 0.0)?;
    let op = XMaskOperator::new(&h)?;
    let lanczos = LanczosParams {
        k: p.level + 1,
        gap: false,
        ..p.lanczos.clone()
    };
    let spec = eigenpairs(&op, &lanczos, None)?;
    let level = p.level;
    let strings = model.param_strings();
    let owner: Vec<(usize, f64)> = model
        .params
        .iter()
        .enumerate()
        .flat_map(|(k, q)| q.strings.iter().map(move |&(_, c)| (k, c)))
        .collect();
    let mut var = vec![0.0; model.params.len()];
    for g in best_grouping(&strings).groups() {
        for (k, v) in var.iter_mut().enumerate() {
            let mine: Vec<(crate::pauli::PauliString, f64)> = g
                .members()
                .iter()
                .zip(g.strings())
                .filter(|(&i, _)| owner[i].0 == k)
                .map(|(&i, &s)| (s, owner[i].1))
                .collect();
            if mine.is_empty() {
                continue;
            }
            let mean: f64 = mine
                .iter()
                .map(|&(s, c)| c * spec.expectation(level, s))
                .sum();
            let mut second = 0.0;
            for &(a, ca) in &mine {
                for &(bs, cb) in &mine {
                    let (phase, prod) = a.product(bs);
                    // Commuting Hermitian strings: the phase is ±1.
                    let sign = phase.to_complex().re;
                    second += ca * cb * sign * spec.expectation(level, prod);
                }
            }
            *v += (second - mean * mean).max(0.0);
        }
    }
    Ok(var
        .into_iter()
        .map(|v| {
            if p.one_sided {
                (2.0 * v).sqrt()
            } else {
                (v / 2.0).sqrt()
            }
        })
        .collect())
}

/// The median of `v` (mean of the middle two for an even length; NaN for an empty list).
fn median(v: &[f64]) -> f64 {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
    if s.is_empty() {
        return f64::NAN;
    }
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        0.5 * (s[n / 2 - 1] + s[n / 2])
    }
}
