//! Thermal EP gradients on the dense Gibbs state: clamped, covariance (Eq. 43) and Kubo–Mori,
//! with the finite-difference oracle, and the thermal free-phase prediction.

use faer::Mat;
use serde::Serialize;

use crate::hamiltonian::{Example, Model, ThermalGradient};
use crate::operator::DENSE_MAX_QUBITS;
use crate::pauli::{Letter, PauliString, PauliSum};
use crate::scalar::C64;

use super::typicality::{
    anticommutator_half, kubo_mori_samples, typical_samples, TypicalityParams,
};
use crate::measure::stats::jackknife;

use super::dense::*;
use crate::state::Gibbs;

/// The four estimates of `∂⟨C⟩_T/∂θ_k` at the free point (`β = 0`), one entry per model
/// parameter; every list estimates the same quantity.
#[derive(Clone, Debug, Serialize)]
pub struct ThermalGradients {
    /// Parameter labels, in model order.
    pub params: Vec<String>,
    /// Oracle: five-point central finite differences of `⟨C⟩_T` in `θ_k`.
    pub exact: Vec<f64>,
    /// Clamped (Eq. 42 analogue): `(⟨P_k⟩_{T,+β} − ⟨P_k⟩_{T,−β}) / 2β`.
    pub clamped: Vec<f64>,
    /// Plain covariance (Eq. 43) with its factor: `−(1/T)(½⟨{P_k, C}⟩_T − ⟨P_k⟩_T⟨C⟩_T)`.
    pub covariance: Vec<f64>,
    /// Kubo–Mori covariance with its factor: `−(1/T)(∫₀¹ Tr(ρ^s P_k ρ^{1−s} C) ds −
    /// ⟨P_k⟩_T⟨C⟩_T)`; exact.
    pub kubo_mori: Vec<f64>,
    /// Temperature `T`.
    pub temperature: f64,
    /// Clamping strength β of the clamped estimate.
    pub beta: f64,
    /// Free-state cost `⟨C⟩_T`.
    pub cost: f64,
    /// Free-state free energy `F`.
    pub free_energy: f64,
    /// Finite-difference step used for `exact`.
    pub step: f64,
}

/// `∂⟨C⟩_T/∂θ_k` for every parameter of `model` at `theta`, for one example, four ways
/// (see [`ThermalGradients`] and the module docs): the clamped estimate from the Gibbs states
/// of `H(±β)` (Eq. 42 analogue), the plain covariance of Eq. 43 and the Kubo–Mori
/// covariance from the free Gibbs state of `H(0, θ, u, d)` (Eq. 16), and the finite-difference
/// oracle (five-point stencil, step `h = 1e-3·min(1, T)`: truncation `O((h/T)⁴)`, rounding
/// `O(ε/h)`, both below 1e-9 relative for `T ≥ 0.02`).
///
/// Cost: `2 + 4K` dense diagonalisations of `2^N × 2^N` matrices (`K` parameters) and `K`
/// `O(8^N)` products; dense, `N ≤ 12`.
///
/// # Errors
/// [`ThermalError::TemperatureNotPositive`], [`ThermalError::BetaNotPositive`],
/// [`ThermalError::TooManyQubits`], [`ThermalError::NoTargets`]; model (θ or example
/// lengths), operator and eigensolver errors.
pub(crate) fn thermal_gradients(
    model: &Model,
    theta: &[f64],
    example: &Example,
    temperature: f64,
    beta: f64,
) -> Result<ThermalGradients, ThermalError> {
    check_temperature(temperature)?;
    check_beta(beta)?;
    check_qubits(model.qubits)?;
    if example.targets.is_empty() {
        return Err(ThermalError::NoTargets);
    }
    let h0 = model.hamiltonian(theta, Some(example), 0.0)?;
    let c = model.cost_operator(&example.targets);
    let free = Gibbs::new(&h0, temperature)?;
    let c_eig = free.eigenbasis_matrix(&c)?;
    let cost = free.expectation_levels(&c)?;

    let plus = Gibbs::new(&model.hamiltonian(theta, Some(example), beta)?, temperature)?;
    let minus = Gibbs::new(
        &model.hamiltonian(theta, Some(example), -beta)?,
        temperature,
    )?;

    let cost_at = |th: &[f64]| -> Result<f64, ThermalError> {
        let g = Gibbs::new(&model.hamiltonian(th, Some(example), 0.0)?, temperature)?;
        Ok(g.expectation_levels(&c)?)
    };
    let step = 1e-3 * temperature.min(1.0);

    let k = model.params.len();
    let mut g = ThermalGradients {
        params: model.params.iter().map(|p| p.label.clone()).collect(),
        exact: Vec::with_capacity(k),
        clamped: Vec::with_capacity(k),
        covariance: Vec::with_capacity(k),
        kubo_mori: Vec::with_capacity(k),
        temperature,
        beta,
        cost,
        free_energy: free.free_energy,
        step,
    };
    for (j, p) in model.params.iter().enumerate() {
        let pk = p.operator(model.qubits);
        let p_eig = free.eigenbasis_matrix(&pk)?;
        g.covariance
            .push(-free.symmetric_covariance(&p_eig, &c_eig) / temperature);
        g.kubo_mori
            .push(-free.kubo_mori_covariance(&p_eig, &c_eig) / temperature);
        g.clamped
            .push((plus.expectation_levels(&pk)? - minus.expectation_levels(&pk)?) / (2.0 * beta));
        let mut th = theta.to_vec();
        let mut at = |d: f64| -> Result<f64, ThermalError> {
            th[j] = theta[j] + d;
            cost_at(&th)
        };
        let (f2, f1, m1, m2) = (at(2.0 * step)?, at(step)?, at(-step)?, at(-2.0 * step)?);
        g.exact
            .push((-f2 + 8.0 * f1 - 8.0 * m1 + m2) / (12.0 * step));
    }
    Ok(g)
}

/// `Tr(P M)` for a Pauli string and a `dim × dim` matrix: `Σ_b phase(b) M_{b, b⊕x}` from
/// `P|b⟩ = phase(b)|b ⊕ x⟩` (docs/DESIGN.md conventions). Cost `O(dim)`.
///
/// # Panics
/// If `M` is not square or `P` acts beyond its dimension (a caller bug).
#[track_caller]
pub fn trace_pauli(m: &Mat<C64>, p: PauliString) -> C64 {
    let dim = m.nrows();
    assert_eq!(m.ncols(), dim, "square matrix expected");
    assert!(
        (1usize << p.min_qubits()) <= dim.max(1),
        "Pauli string beyond the matrix"
    );
    (0..dim)
        .map(|b| {
            let (ph, b2) = p.apply_to_basis(b as u64);
            ph.to_complex() * m[(b, b2 as usize)]
        })
        .sum()
}

/// `Tr(A M) = Σ_t c_t Tr(P_t M)` for a Pauli sum ([`trace_pauli`]).
#[track_caller]
pub fn trace_sum(m: &Mat<C64>, a: &PauliSum) -> C64 {
    a.terms().iter().map(|&(p, c)| c * trace_pauli(m, p)).sum()
}

/// How thermal expectations are computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ThermalMethod {
    /// Dense up to [`DENSE_MAX_QUBITS`], typicality above.
    #[default]
    Auto,
    /// The dense Gibbs state (exact; `N ≤ 12`).
    Dense,
    /// Typicality ([`super::typicality`]): random vectors, matrix-free, any `N`.
    Typicality,
}

/// Settings of thermal EP in training: the Gibbs state at `temperature` replaces the
/// eigenstate, and `estimator` gives the gradient (Section IV).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ThermalParams {
    /// Temperature `T > 0`.
    pub temperature: f64,
    /// Gradient estimator: clamped (Eq. 42 analogue, needs β), covariance (Eq. 43, biased
    /// for quantum models) or Kubo–Mori (exact; by typicality above the dense limit).
    pub estimator: ThermalGradient,
    /// Dense or typicality.
    pub method: ThermalMethod,
    /// Random vectors and seed when the method is typicality.
    pub typicality: TypicalityParams,
}

impl ThermalParams {
    /// Settings at `temperature` with `estimator`, automatic method, default typicality
    /// settings seeded with `seed`.
    pub fn new(temperature: f64, estimator: ThermalGradient, seed: u64) -> Self {
        Self {
            temperature,
            estimator,
            method: ThermalMethod::Auto,
            typicality: TypicalityParams {
                seed,
                ..TypicalityParams::default()
            },
        }
    }

    /// The method used for a model of `qubits` qubits (`Dense` or `Typicality`).
    ///
    /// # Errors
    /// [`ThermalError::TooManyQubits`] for `Dense` above the limit.
    pub fn resolve(&self, qubits: usize) -> Result<ThermalMethod, ThermalError> {
        Ok(match self.method {
            ThermalMethod::Auto if qubits <= DENSE_MAX_QUBITS => ThermalMethod::Dense,
            ThermalMethod::Auto => ThermalMethod::Typicality,
            ThermalMethod::Dense => {
                check_qubits(qubits)?;
                ThermalMethod::Dense
            }
            ThermalMethod::Typicality => ThermalMethod::Typicality,
        })
    }
}

/// One example's thermal gradient estimate.
#[derive(Clone, Debug, Serialize)]
pub struct ThermalStep {
    /// The estimate of `∂⟨C⟩_T/∂θ_k`, in parameter order.
    pub gradient: Vec<f64>,
    /// Jackknife standard errors (typicality only).
    pub std_err: Option<Vec<f64>>,
    /// Estimator used.
    pub estimator: ThermalGradient,
    /// Method used (`dense` or `typicality`).
    pub method: ThermalMethod,
}

/// The estimate of `∂⟨C⟩_T/∂θ_k` that `params.estimator` names, for one example (Section IV):
///
/// * clamped: `(⟨P_k⟩_{T,+β} − ⟨P_k⟩_{T,−β}) / 2β` (Eq. 42 analogue, bias O(β²)); with
///   typicality both Gibbs states use the same random vectors, so the difference is not
///   drowned by sampling noise of order `1/β`;
/// * covariance: `−(1/T)(½⟨{P_k, C}⟩_T − ⟨P_k⟩_T⟨C⟩_T)` (Eq. 43), exact only for diagonal
///   `H` or `[C, H] = 0`;
/// * Kubo–Mori: `−(1/T)(∫₀¹ Tr(ρ^s P_k ρ^{1−s} C) ds − ⟨P_k⟩⟨C⟩)`, exact; with typicality
///   the integral by Gauss–Legendre nodes and two exponentials per node and random vector
///   ([`kubo_mori_samples`]), unbiased up to the quadrature and the ratio's `O(1/R)`.
///
/// Dense cost: one (covariance, Kubo–Mori) or two (clamped) `O(8^N)` diagonalisations and a
/// few `O(8^N)` products, then `O(2^N)` per parameter. Typicality cost: one or two
/// [`typical_samples`] runs, or one [`kubo_mori_samples`] run (about `2·nodes` exponentials
/// per vector).
///
/// # Errors
/// [`ThermalError::TemperatureNotPositive`], [`ThermalError::BetaNotPositive`] (clamped),
/// [`ThermalError::NoTargets`], [`ThermalError::TooManyQubits`]; model, operator, solver and
/// typicality errors.
pub(crate) fn thermal_gradient(
    model: &Model,
    theta: &[f64],
    example: &Example,
    params: &ThermalParams,
    beta: f64,
) -> Result<ThermalStep, ThermalError> {
    let t = params.temperature;
    check_temperature(t)?;
    if params.estimator == ThermalGradient::Clamped {
        check_beta(beta)?;
    }
    if example.targets.is_empty() {
        return Err(ThermalError::NoTargets);
    }
    let method = params.resolve(model.qubits)?;
    let c = model.cost_operator(&example.targets);
    let strings: Vec<PauliSum> = model
        .params
        .iter()
        .map(|p| p.operator(model.qubits))
        .collect();
    let (gradient, std_err) = match (method, params.estimator) {
        (ThermalMethod::Typicality, ThermalGradient::Clamped) => {
            let typ = &params.typicality;
            let plus = typical_samples(
                &model.hamiltonian(theta, Some(example), beta)?,
                &strings,
                t,
                typ,
                |_, _| {},
            )?;
            let minus = typical_samples(
                &model.hamiltonian(theta, Some(example), -beta)?,
                &strings,
                t,
                typ,
                |_, _| {},
            )?;
            let rows: Vec<Vec<f64>> = plus
                .rows
                .iter()
                .zip(&minus.rows)
                .map(|(p, m)| p.iter().chain(m).copied().collect())
                .collect();
            let k = strings.len();
            let (g, s) = jackknife(&rows, |tot| {
                let (zp, zm) = (tot[k], tot[2 * k + 1]);
                (0..k)
                    .map(|j| (tot[j] / zp - tot[k + 1 + j] / zm) / (2.0 * beta))
                    .collect()
            });
            (g, Some(s))
        }
        (ThermalMethod::Typicality, ThermalGradient::KuboMori) => {
            let h0 = model.hamiltonian(theta, Some(example), 0.0)?;
            let s = kubo_mori_samples(&h0, &c, &strings, t, &params.typicality, |_, _| {})?;
            let (g, sd) = s.kubo_mori();
            (g, Some(sd))
        }
        (ThermalMethod::Typicality, _) => {
            // Observables: P_k, C, ½{P_k, C}.
            let mut obs = strings.clone();
            obs.push(c.clone());
            obs.extend(model.params.iter().map(|p| {
                if !p.is_tied() {
                    return anticommutator_half(p.pauli, &c);
                }
                let mut a = PauliSum::new(model.qubits);
                for &(s, w) in &p.strings {
                    a.add_sum(&anticommutator_half(s, &c), C64::new(w, 0.0));
                }
                a.simplify(0.0);
                a
            }));
            let h0 = model.hamiltonian(theta, Some(example), 0.0)?;
            let s = typical_samples(&h0, &obs, t, &params.typicality, |_, _| {})?;
            let k = strings.len();
            let (g, sd) = jackknife(&s.rows, |tot| {
                let z = tot[2 * k + 1];
                let cm = tot[k] / z;
                (0..k)
                    .map(|j| -(tot[k + 1 + j] / z - tot[j] / z * cm) / t)
                    .collect()
            });
            (g, Some(sd))
        }
        (_, ThermalGradient::Clamped) => {
            let mean_p = |b: f64| -> Result<Vec<f64>, ThermalError> {
                let g = Gibbs::new(&model.hamiltonian(theta, Some(example), b)?, t)?;
                let rho = g.density_matrix();
                Ok(model
                    .params
                    .iter()
                    .map(|p| p.combine(|s| trace_pauli(&rho, s).re))
                    .collect())
            };
            let (p, m) = (mean_p(beta)?, mean_p(-beta)?);
            let g = p
                .iter()
                .zip(&m)
                .map(|(a, b)| (a - b) / (2.0 * beta))
                .collect();
            (g, None)
        }
        (_, est) => {
            let free = Gibbs::new(&model.hamiltonian(theta, Some(example), 0.0)?, t)?;
            let rho = free.density_matrix();
            let g = free.response_matrix(&c, est == ThermalGradient::KuboMori)?;
            let cm = trace_sum(&rho, &c).re;
            let grad = model
                .params
                .iter()
                .map(|p| p.combine(|s| -(trace_pauli(&g, s).re - trace_pauli(&rho, s).re * cm) / t))
                .collect();
            (grad, None)
        }
    };
    Ok(ThermalStep {
        gradient,
        std_err,
        estimator: params.estimator,
        method,
    })
}

/// The thermal prediction of one example: `⟨Z_i⟩_T` on the outputs and the cost `⟨C⟩_T`
/// (Eq. 18) in the free (`β = 0`) Gibbs state of `H(0, θ, u, d)`, dense or by typicality
/// (then with the settings' random vectors; the standard errors are dropped).
///
/// # Errors
/// [`ThermalError::TemperatureNotPositive`], [`ThermalError::NoTargets`],
/// [`ThermalError::TooManyQubits`] (dense forced); model, operator, solver and typicality
/// errors.
pub fn thermal_prediction(
    model: &Model,
    theta: &[f64],
    example: &Example,
    params: &ThermalParams,
) -> Result<(Vec<f64>, f64), ThermalError> {
    check_temperature(params.temperature)?;
    if example.targets.is_empty() {
        return Err(ThermalError::NoTargets);
    }
    let h0 = model.hamiltonian(theta, Some(example), 0.0)?;
    let c = model.cost_operator(&example.targets);
    let z = |q: usize| {
        let mut s = PauliSum::new(model.qubits);
        s.add(PauliString::single(Letter::Z, q), 1.0);
        s
    };
    let dense = match params.method {
        ThermalMethod::Auto => model.qubits <= DENSE_MAX_QUBITS,
        ThermalMethod::Dense => true,
        ThermalMethod::Typicality => false,
    };
    if dense {
        let rho = Gibbs::new(&h0, params.temperature)?.density_matrix();
        let zs = model
            .outputs
            .iter()
            .map(|&q| trace_pauli(&rho, PauliString::single(Letter::Z, q)).re)
            .collect();
        return Ok((zs, trace_sum(&rho, &c).re));
    }
    let mut obs: Vec<PauliSum> = model.outputs.iter().map(|&q| z(q)).collect();
    obs.push(c);
    let s = typical_samples(&h0, &obs, params.temperature, &params.typicality, |_, _| {})?;
    let (mut v, _) = s.expectations();
    let cost = v.pop().unwrap_or(f64::NAN);
    Ok((v, cost))
}
