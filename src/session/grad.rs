//! One EP gradient report (`qep grad`, `Model.grad`): the engine `qep run` would train the
//! model with, its estimate and its oracle, for every engine.

use std::time::Instant;

use serde::{Serialize, Serializer};
use serde_json::Value;

use super::{lib, ReportError};
use crate::ep::classical::{ClassicalParams, Relaxed};
use crate::ep::langevin::{LangevinParams, ThermalNet};
use crate::ep::lowtemp::low_temperature;
use crate::ep::prepared::PreparedGradient;
use crate::ep::thermal::{
    covariance_from_shots, thermal_gradients, ShotCovariance, ThermalGradients, ThermalMethod,
    ThermalParams, ThermalStep,
};
use crate::ep::typicality::TypicalityParams;
use crate::ep::{
    compare, gradient_memory, Engine, EpError, EpGradient, EpOverrides, EpParams, ExactGradient,
    GradientDetails,
};
use crate::hamiltonian::{Adiabatic, Example, Model, Preparation, ThermalGradient};
use crate::linalg::LanczosParams;
use crate::operator::DENSE_MAX_QUBITS;
use crate::state::MemoryPlan;

/// The default seed of the Lanczos start vectors, shots, typicality vectors and Langevin
/// chains (`qep grad` without `--seed`).
pub const DEFAULT_SEED: u64 = 0x9e37_79b9;

/// What one gradient report is asked for (the options of `qep grad`).
#[derive(Clone, Debug)]
pub struct GradRequest {
    /// The example to differentiate the cost of.
    pub example: Example,
    /// Clamping strength β (the model's when `None`).
    pub beta: Option<f64>,
    /// One clamped phase (+β) instead of two.
    pub one_sided: bool,
    /// The eigenstate level (the model's when `None`).
    pub level: Option<usize>,
    /// Shots per commuting group and state (exact expectations when `None`).
    pub shots: Option<u64>,
    /// Seed of the shots, the typicality vectors and the Langevin chains.
    pub seed: u64,
    /// Temperature of the Gibbs state (the model's when `None`).
    pub temperature: Option<f64>,
    /// Random vectors of a typicality estimate (used with a temperature).
    pub samples: usize,
    /// Start the clamped solves from random vectors instead of the free state.
    pub no_warm_start: bool,
    /// Compute the oracle.
    pub exact: bool,
    /// The eigensolver settings.
    pub lanczos: LanczosParams,
    /// Sweep times of EP on adiabatically prepared states (the model's when `None`).
    pub prep_times: Option<Vec<f64>>,
    /// Time steps of each sweep (when `None`: per sweep time, [`crate::adiabatic::sweep_steps`]
    /// of the model's `preparation: adiabatic` settings).
    pub prep_steps: Option<usize>,
}

impl GradRequest {
    /// The request `qep grad` makes without flags, for `example`.
    pub fn new(example: Example) -> Self {
        Self {
            example,
            beta: None,
            one_sided: false,
            level: None,
            shots: None,
            seed: DEFAULT_SEED,
            temperature: None,
            samples: 8,
            no_warm_start: false,
            exact: true,
            lanczos: LanczosParams {
                k: 1,
                tol: 1e-9,
                max_matvecs: 20_000,
                seed: DEFAULT_SEED,
                ..LanczosParams::default()
            },
            prep_times: None,
            prep_steps: None,
        }
    }
}

/// One gradient report: the engine's output (which serialises to the JSON of `qep grad`
/// without `provenance`) and the seed and settings its provenance records.
#[derive(Debug)]
pub struct GradReport {
    /// The engine's result.
    pub output: GradOutput,
    /// The seed that decides the numbers, if any.
    pub seed: Option<u64>,
    /// The settings that decide the numbers.
    pub settings: Value,
}

impl Serialize for GradReport {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.output.serialize(s)
    }
}

/// The result of each engine.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum GradOutput {
    /// Eigenstates (and adiabatically prepared states).
    Eigen(EigenReport),
    /// The dense Gibbs state.
    Thermal(ThermalReport),
    /// The Gibbs state by typicality, above the dense limit.
    Typical(TypicalReport),
    /// A classical network at a temperature.
    ClassicalThermal(ClassicalThermalReport),
    /// A classical network.
    Classical(ClassicalReport),
}

/// EP on eigenstates (Eq. 28) beside its oracle.
#[derive(Debug, Serialize)]
pub struct EigenReport {
    /// The engine `qep run` trains this model with.
    pub engine: &'static str,
    /// The example.
    pub example: Example,
    /// The EP estimate and its phases.
    #[serde(flatten)]
    pub ep: EpGradient,
    /// The oracle's values, in `params` order.
    pub exact: Option<Vec<f64>>,
    /// The oracle.
    pub oracle: Option<ExactGradient>,
    /// Cosine similarity of EP and the oracle.
    pub cosine: Option<f64>,
    /// `‖EP − exact‖ / ‖exact‖`.
    pub relative_error: Option<f64>,
    /// EP on adiabatically prepared states, one entry per sweep time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prepared: Option<Vec<PreparedGradient>>,
    /// Where β came from: `given`, `model`, `default` or `shot-aware`.
    pub beta_source: crate::ep::BetaSource,
    /// With `beta_source: shot-aware`, the error-model fit that chose β (b, σ, the reason).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shot_aware: Option<Box<crate::ep::ShotAwareBeta>>,
}

/// The four thermal gradients on the dense Gibbs state (Eq. 40–43), with shots Eq. 43 from
/// Z-basis shots.
#[derive(Debug, Serialize)]
pub struct ThermalReport {
    /// The engine `qep run` trains this model with.
    pub engine: &'static str,
    /// The gradients.
    #[serde(flatten)]
    pub gradients: ThermalGradients,
    /// Eq. 43 from Z-basis shots: one entry per parameter, null if not Z-type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub covariance_shots: Option<Vec<Option<f64>>>,
    /// Standard errors of `covariance_shots`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub covariance_shots_std: Option<Vec<Option<f64>>>,
    /// The shot estimate with its cost, shots and seed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shot_estimate: Option<ShotCovariance>,
}

/// Clamped and covariance thermal gradients by typicality, with jackknife standard errors.
#[derive(Debug, Serialize)]
pub struct TypicalReport {
    /// The engine `qep run` trains this model with.
    pub engine: &'static str,
    /// Parameter labels.
    pub params: Vec<String>,
    /// Temperature T.
    pub temperature: f64,
    /// Clamping strength β.
    pub beta: f64,
    /// The clamped estimate (Eq. 42).
    pub clamped: ThermalStep,
    /// The covariance estimate (Eq. 43).
    pub covariance: ThermalStep,
    /// The typicality settings.
    pub typicality: TypicalityParams,
    /// Wall time of both estimates.
    pub seconds: f64,
}

/// A classical network at temperature T (Section IV's limit case).
#[derive(Debug, Serialize)]
pub struct ClassicalThermalReport {
    /// The engine `qep run` trains this model with.
    pub engine: &'static str,
    /// Parameter labels.
    pub params: Vec<String>,
    /// Temperature T.
    pub temperature: f64,
    /// Clamping strength β.
    pub beta: f64,
    /// Eq. 42 from Langevin samples of the clamped Boltzmann distributions.
    pub clamped: Vec<f64>,
    /// Standard errors of `clamped`.
    pub clamped_std: Vec<f64>,
    /// Eq. 43, `−(1/T) Cov[∂f/∂θ_k, C]`, from the free samples.
    pub covariance: Vec<f64>,
    /// Standard errors of `covariance`.
    pub covariance_std: Vec<f64>,
    /// Eq. 47/50: the low-temperature expansion to first order in T.
    pub low_temperature: Vec<f64>,
    /// The T = 0 gradient (implicit differentiation, Eq. 49).
    pub zero_temperature: Vec<f64>,
    /// Sampled cost.
    pub cost: f64,
    /// Standard error of `cost`.
    pub cost_std: f64,
    /// The cost of the low-temperature expansion.
    pub cost_low_temperature: f64,
    /// Samples per Langevin chain.
    pub samples_per_chain: usize,
    /// Langevin chains.
    pub chains: usize,
}

/// A classical network (Section II): the EP estimate of the relaxed network (Eq. 14) and its
/// oracle, implicit differentiation at the free minimum (Eq. 49).
#[derive(Debug, Serialize)]
pub struct ClassicalReport {
    /// `classical`.
    pub engine: &'static str,
    /// The example.
    pub example: Example,
    /// Parameter labels.
    pub params: Vec<String>,
    /// The EP estimates, in `params` order.
    pub ep: Vec<f64>,
    /// Implicit differentiation (Eq. 49), in `params` order.
    pub exact: Option<Vec<f64>>,
    /// Cosine similarity of EP and the oracle.
    pub cosine: Option<f64>,
    /// `‖EP − exact‖ / ‖exact‖`.
    pub relative_error: Option<f64>,
    /// Clamping strength β.
    pub beta: f64,
    /// Whether only the +β phase was used.
    pub one_sided: bool,
    /// Free-phase cost `C(z̄)`.
    pub cost: f64,
    /// Free-phase `z̄` on the outputs.
    pub z_outputs: Vec<f64>,
    /// `‖∂f/∂z‖` of the free and clamped minima.
    pub residuals: Vec<f64>,
    /// The free phase.
    pub free: Relaxed,
    /// The clamped phases: `+β`, then `−β` unless one-sided.
    pub clamped: Vec<Relaxed>,
    /// Relative residual of the oracle's adjoint solve.
    pub oracle_residual: Option<f64>,
    /// Wall time.
    pub seconds: f64,
}

/// The gradient report of `model` at `theta` for `r`: the model is differentiated by the
/// engine `qep run` trains it with (eigenstates with their MINRES oracle and EP on prepared
/// states; the dense Gibbs state, or typicality above 12 qubits; the classical network, at
/// T = 0 or by Langevin sampling). `stage(Some(msg))` announces a long stage (a spinner's
/// message) and `stage(None)` its end.
///
/// ```
/// use qep::session::{grad_report, GradOutput, GradRequest};
///
/// let model = qep::hamiltonian::parse_str(
///     "qubits: 3\ninputs: [0]\noutputs: [2]\nterms:\n  - {pauli: X0, coeff: -1.0}\n  \
///      - {pauli: X1, coeff: -0.8}\n  - {pauli: X2, coeff: -0.6}\nparams:\n  \
///      - {pauli: Z0 Z1, value: 0.7}\n  - {pauli: Z1 Z2, value: -0.5}\n",
///     std::path::Path::new("net3.yaml"),
/// )?;
/// let ex = qep::hamiltonian::Example { inputs: vec![0.4], targets: vec![1.0] };
/// let r = grad_report(&model, &model.theta(), &GradRequest::new(ex), &mut |_| {})?;
/// let GradOutput::Eigen(e) = &r.output else { unreachable!("a quantum model at T = 0") };
/// assert_eq!(e.engine, "eigen");
/// assert!(e.cosine.unwrap_or(0.0) > 0.999, "EP agrees with its oracle at small β");
/// let json = serde_json::to_value(&r)?;
/// assert_eq!(json["ep"].as_array().map(Vec::len), Some(2));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn grad_report(
    model: &Model,
    theta: &[f64],
    r: &GradRequest,
    stage: &mut dyn FnMut(Option<&str>),
) -> Result<GradReport, ReportError> {
    let has_temperature = r.temperature.or(model.settings.temperature).is_some();
    let overrides = EpOverrides {
        beta: r.beta,
        one_sided: r.one_sided,
        level: r.level,
        shots: r.shots,
        seed: Some(r.seed),
        temperature: r.temperature,
        samples: has_temperature.then_some(r.samples),
        no_warm_start: r.no_warm_start,
        exact: r.exact,
        lanczos: Some(r.lanczos.clone()),
        ..EpOverrides::default()
    };
    let mut params = EpParams::from_model(model, &overrides).map_err(lib)?;
    let engine = Engine::for_model(model, &params).map_err(lib)?;
    params
        .apply_shot_aware_beta(model, theta, &r.example)
        .map_err(lib)?;
    let ex = &r.example;
    match (&engine, &params.thermal) {
        (Engine::Classical(_), Some(t)) => {
            classical_thermal(model, theta, ex, t.temperature, params.beta, r.seed, stage)
        }
        (Engine::Classical(_), None) => classical(model, &engine, theta, ex, &params),
        (Engine::Thermal(t), _) if model.qubits > DENSE_MAX_QUBITS => {
            if r.shots.is_some() {
                return Err(ReportError::ShotsNeedDense {
                    qubits: model.qubits,
                    max: DENSE_MAX_QUBITS,
                });
            }
            typical(model, theta, ex, t, params.beta, r.samples, stage)
        }
        (Engine::Thermal(t), _) => thermal(
            model,
            theta,
            ex,
            t.temperature,
            params.beta,
            params.shots,
            r.seed,
        ),
        (Engine::Eigen | Engine::Prepared(_), _) => eigen(model, &engine, theta, r, &params, stage),
    }
}

/// EP on exact eigenstates and its oracle; the prepared engine's estimate is reported per
/// sweep time in `prepared`, beside the exact-state estimate it is compared with.
fn eigen(
    model: &Model,
    engine: &Engine,
    theta: &[f64],
    r: &GradRequest,
    params: &EpParams,
    stage: &mut dyn FnMut(Option<&str>),
) -> Result<GradReport, ReportError> {
    // Under mpirun the eigen engine holds one block of each state per rank; a rank count
    // that cannot split this model's qubits is refused here, before anything is solved.
    let plan = match crate::dist::ep_split_checked(model.qubits, params).map_err(lib)? {
        Some((_, layout)) => crate::dist::ep_gradient_memory(layout, params, params.exact),
        None => {
            let mut plan = MemoryPlan::new("qep grad");
            plan.extend(&gradient_memory(model.qubits, params, params.exact));
            plan
        }
    };
    plan.check().map_err(lib)?;
    let long = model.qubits >= 16;
    if long {
        stage(Some(&format!("EP gradient on {} qubits", model.qubits)));
    }
    let g = Engine::Eigen.gradient(model, theta, &r.example, params);
    if long {
        stage(None);
    }
    let g = g.map_err(lib)?;
    let GradientDetails::Eigen { ep, oracle } = g.details else {
        return Err(ReportError::Evidence { engine: "eigen" });
    };
    let (cosine, relative_error) = match &oracle {
        Some(o) => {
            let (c, r) = compare(&ep.ep, &o.exact);
            (Some(c), Some(r))
        }
        None => (None, None),
    };
    let prepared = prepared_runs(model, theta, r, params, &ep.ep, stage)?;
    let out = EigenReport {
        engine: engine.name(),
        example: r.example.clone(),
        exact: oracle.as_ref().map(|o| o.exact.clone()),
        oracle,
        cosine,
        relative_error,
        ep,
        prepared,
        beta_source: params.beta_source,
        shot_aware: params.shot_aware.clone().map(Box::new),
    };
    crate::finite::check_finite(&out, &model.source.path.display().to_string()).map_err(lib)?;
    Ok(GradReport {
        output: GradOutput::Eigen(out),
        seed: Some(params.lanczos.seed),
        settings: serde_json::to_value(params).map_err(|e| settings_error(model, e))?,
    })
}

/// Settings that do not serialise to JSON (plain structs of numbers always do).
fn settings_error(model: &Model, e: serde_json::Error) -> ReportError {
    ReportError::Settings {
        file: model.source.path.clone(),
        message: e.to_string(),
    }
}

/// EP gradients on prepared states for each requested sweep time (or the model's adiabatic
/// time), compared with the exact-state EP gradient `reference`.
fn prepared_runs(
    model: &Model,
    theta: &[f64],
    r: &GradRequest,
    params: &EpParams,
    reference: &[f64],
    stage: &mut dyn FnMut(Option<&str>),
) -> Result<Option<Vec<PreparedGradient>>, ReportError> {
    let from_model = match &model.settings.preparation {
        Preparation::Adiabatic(ad) => Some(ad),
        _ => None,
    };
    let times = match (&r.prep_times, from_model) {
        (Some(t), _) => t.clone(),
        (None, Some(ad)) => vec![ad.time],
        (None, None) => return Ok(None),
    };
    stage(Some(&format!(
        "EP on prepared states, {} sweep times",
        times.len()
    )));
    let mut out = Vec::with_capacity(times.len());
    for &t in &times {
        let ad = Adiabatic {
            time: t,
            steps: r.prep_steps.unwrap_or_else(|| {
                crate::adiabatic::sweep_steps(t, from_model.map(|m| (m.time, m.steps)))
            }),
            schedule: from_model.map(|m| m.schedule).unwrap_or_default(),
            table: from_model.and_then(|m| m.table.clone()),
        };
        stage(Some(&format!("EP on states prepared in T = {t}")));
        let g = prepared_gradient(model, theta, &r.example, params, ad);
        let mut g = match g {
            Ok(g) => g,
            Err(e) => {
                stage(None);
                return Err(e);
            }
        };
        let (c, rel) = compare(&g.ep, reference);
        g.exact_state_ep = reference.to_vec();
        g.cosine = c;
        g.relative_error = rel;
        out.push(g);
    }
    stage(None);
    Ok(Some(out))
}

/// The dense thermal gradients side by side, and with shots Eq. 43 from Z-basis shots.
fn thermal(
    model: &Model,
    theta: &[f64],
    ex: &Example,
    t: f64,
    beta: f64,
    shots: Option<u64>,
    seed: u64,
) -> Result<GradReport, ReportError> {
    let g = thermal_gradients(model, theta, ex, t, beta).map_err(lib)?;
    let sc = shots
        .map(|s| covariance_from_shots(model, theta, ex, t, s, seed).map_err(lib))
        .transpose()?;
    let out = ThermalReport {
        engine: "thermal",
        gradients: g,
        covariance_shots: sc.as_ref().map(|s| s.covariance.clone()),
        covariance_shots_std: sc.as_ref().map(|s| s.std_err.clone()),
        shot_estimate: sc,
    };
    Ok(GradReport {
        output: GradOutput::Thermal(out),
        seed: shots.map(|_| seed),
        settings: serde_json::json!({"temperature": t, "beta": beta, "shots": shots}),
    })
}

/// Clamped and covariance estimates by typicality above the dense limit, with jackknife
/// standard errors (Kubo–Mori and the finite-difference oracle need the dense Gibbs state).
fn typical(
    model: &Model,
    theta: &[f64],
    ex: &Example,
    thermal: &ThermalParams,
    beta: f64,
    samples: usize,
    stage: &mut dyn FnMut(Option<&str>),
) -> Result<GradReport, ReportError> {
    let t0 = Instant::now();
    stage(Some(&format!(
        "thermal gradients by typicality on {} qubits, {samples} random vectors",
        model.qubits
    )));
    let mut p = ThermalParams {
        estimator: ThermalGradient::Clamped,
        method: ThermalMethod::Typicality,
        ..thermal.clone()
    };
    let clamped = thermal_step(model, theta, ex, &p, beta);
    p.estimator = ThermalGradient::Covariance;
    let covariance = thermal_step(model, theta, ex, &p, beta);
    stage(None);
    let out = TypicalReport {
        engine: "thermal",
        params: model.params.iter().map(|p| p.label.clone()).collect(),
        temperature: thermal.temperature,
        beta,
        clamped: clamped?,
        covariance: covariance?,
        typicality: p.typicality.clone(),
        seconds: t0.elapsed().as_secs_f64(),
    };
    let settings = serde_json::json!({"temperature": thermal.temperature, "beta": beta,
                                      "typicality": p.typicality});
    Ok(GradReport {
        output: GradOutput::Typical(out),
        seed: Some(p.typicality.seed),
        settings,
    })
}

/// The EP gradient of the prepared engine with sweeps `ad` (no oracle: the caller compares
/// with the eigenstate EP it already has).
fn prepared_gradient(
    model: &Model,
    theta: &[f64],
    ex: &Example,
    params: &EpParams,
    ad: Adiabatic,
) -> Result<PreparedGradient, ReportError> {
    let p = EpParams {
        exact: false,
        ..params.clone()
    };
    match Engine::Prepared(ad)
        .gradient(model, theta, ex, &p)
        .map_err(lib)?
        .details
    {
        GradientDetails::Prepared { ep, .. } => Ok(ep),
        _ => Err(ReportError::Evidence { engine: "prepared" }),
    }
}

/// One estimate of the thermal engine with settings `t` (no oracle), its errors as the
/// thermal engine's own.
fn thermal_step(
    model: &Model,
    theta: &[f64],
    ex: &Example,
    t: &ThermalParams,
    beta: f64,
) -> Result<ThermalStep, ReportError> {
    let p = EpParams {
        beta,
        exact: false,
        thermal: None,
        ..EpParams::default()
    };
    let g = Engine::Thermal(t.clone())
        .gradient(model, theta, ex, &p)
        .map_err(|e| match e {
            EpError::Thermal(t) => lib(t),
            e => lib(e),
        })?;
    match g.details {
        GradientDetails::Thermal { ep, .. } => Ok(ep),
        _ => Err(ReportError::Evidence { engine: "thermal" }),
    }
}

/// Langevin sampling of a classical network at temperature `t` (Eq. 30 by Eq. 33), beside
/// the low-temperature expansion and the T = 0 gradient.
fn classical_thermal(
    model: &Model,
    theta: &[f64],
    ex: &Example,
    t: f64,
    beta: f64,
    seed: u64,
    stage: &mut dyn FnMut(Option<&str>),
) -> Result<GradReport, ReportError> {
    let net = ThermalNet::new(model, ClassicalParams::default()).map_err(lib)?;
    let lp = LangevinParams {
        temperature: t,
        seed,
        ..LangevinParams::default()
    };
    stage(Some(&format!("Langevin sampling at T = {t}")));
    let g = net.thermal_gradient(theta, ex, beta, &lp);
    stage(None);
    let g = g.map_err(lib)?;
    let low = low_temperature(&net, theta, ex, beta).map_err(lib)?;
    let out = ClassicalThermalReport {
        engine: "classical",
        params: g.params.clone(),
        temperature: t,
        beta,
        clamped: g.clamped.iter().map(|e| e.mean).collect(),
        clamped_std: g.clamped.iter().map(|e| e.std_error).collect(),
        covariance: g.covariance.iter().map(|e| e.mean).collect(),
        covariance_std: g.covariance.iter().map(|e| e.std_error).collect(),
        low_temperature: low.gradient_at(t),
        zero_temperature: low.gradient.clone(),
        cost: g.cost.mean,
        cost_std: g.cost.std_error,
        cost_low_temperature: low.cost_at(t),
        samples_per_chain: lp.samples,
        chains: lp.chains,
    };
    let settings = serde_json::json!({"temperature": t, "beta": beta, "langevin": lp});
    Ok(GradReport {
        output: GradOutput::ClassicalThermal(out),
        seed: Some(lp.seed),
        settings,
    })
}

/// The classical network's EP gradient (Eq. 14) and its oracle (Eq. 49).
fn classical(
    model: &Model,
    engine: &Engine,
    theta: &[f64],
    ex: &Example,
    params: &EpParams,
) -> Result<GradReport, ReportError> {
    let g = engine.gradient(model, theta, ex, params).map_err(lib)?;
    let GradientDetails::Classical { ep, oracle } = g.details else {
        return Err(ReportError::Evidence {
            engine: "classical",
        });
    };
    let (cosine, relative_error) = match &g.exact {
        Some(x) => {
            let (c, r) = compare(&g.ep, x);
            (Some(c), Some(r))
        }
        None => (None, None),
    };
    let out = ClassicalReport {
        engine: g.engine,
        example: ex.clone(),
        params: g.params,
        ep: g.ep,
        exact: g.exact,
        cosine,
        relative_error,
        beta: ep.beta,
        one_sided: ep.one_sided,
        cost: ep.cost,
        z_outputs: ep.z_outputs,
        residuals: g.residuals,
        free: ep.free,
        clamped: ep.clamped,
        oracle_residual: oracle.map(|o| o.residual),
        seconds: g.seconds,
    };
    crate::finite::check_finite(&out, &model.source.path.display().to_string()).map_err(lib)?;
    let settings = serde_json::json!({"beta": params.beta, "one_sided": params.one_sided,
                                      "classical": ClassicalParams::default()});
    Ok(GradReport {
        output: GradOutput::Classical(out),
        seed: None,
        settings,
    })
}
