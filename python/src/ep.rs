//! `Model.grad` and `Model.train`: the EP gradient of one example and a training run, through
//! the library's one engine (`qep::ep::Engine`, `qep::ep::Trainer`). The results are the
//! JSON objects `qep grad --json` and `qep run --json` print, built from the same library
//! values with the same settings, so a script and the CLI agree to the last bit.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use pyo3::exceptions::{PyKeyboardInterrupt, PyValueError};
use pyo3::prelude::*;
use serde::Serialize;
use serde_json::Value;

use qep::cancel::Cancel;
use qep::ep::classical::{ClassicalParams, Relaxed};
use qep::ep::langevin::{LangevinParams, ThermalNet};
use qep::ep::lowtemp::low_temperature;
use qep::ep::prepared::{ep_gradient_prepared, PreparedGradient};
use qep::ep::thermal::{
    covariance_from_shots, thermal_gradient, thermal_gradients, ShotCovariance, ThermalGradients,
    ThermalMethod, ThermalParams, ThermalStep,
};
use qep::ep::typicality::TypicalityParams;
use qep::ep::{
    compare, Engine, EpGradient, EpOverrides, EpParams, ExactGradient, GradientDetails, RunStamp,
    TrainParams, Trainer,
};
use qep::hamiltonian::{Adiabatic, Example, Model, Preparation, ThermalGradient};
use qep::linalg::LanczosParams;
use qep::operator::DENSE_MAX_QUBITS;
use qep::report::run_dir::{RunDir, Summary, RUN_FILES};
use qep::report::{check_fresh, Provenance};

use crate::errors::{lib_error, Error, QepError};

/// The CLI's default seed of the Lanczos start vectors, shots and typicality vectors
/// (`--seed`), so that `seed=None` reproduces `qep grad` without `--seed`.
pub(crate) const DEFAULT_SEED: u64 = 0x9e37_79b9;

/// The CLI's default random vectors of a typicality estimate (`--samples`).
const DEFAULT_SAMPLES: usize = 8;

/// The Lanczos settings of `qep grad` and `qep run` without solver flags.
fn lanczos(seed: u64, tol: f64) -> LanczosParams {
    LanczosParams {
        k: 1,
        tol,
        max_matvecs: 20_000,
        seed,
        ..LanczosParams::default()
    }
}

/// A library result with the CLI's `provenance` beside its keys.
pub(crate) fn with_provenance<T: Serialize>(
    result: &T,
    model: &Model,
    seed: Option<u64>,
    settings: Value,
) -> Result<Value, Error> {
    qep::finite::check_finite(result, &model.source.path.display().to_string())
        .map_err(|e| lib_error(e.into(), None))?;
    let mut v = json(result)?;
    let p = Provenance::new(
        Some(&model.source.path),
        Some(model.source.sha256.clone()),
        seed,
        settings,
    );
    if let Value::Object(m) = &mut v {
        m.insert("provenance".into(), json(&p)?);
    }
    Ok(v)
}

/// `x` as a JSON value.
pub(crate) fn json<T: Serialize>(x: &T) -> Result<Value, Error> {
    serde_json::to_value(x)
        .map_err(|e| Error::from(QepError::new_err(format!("cannot serialise: {e}"))))
}

/// What `Model.grad` was asked for (the flags of `qep grad`).
pub(crate) struct GradRequest {
    pub example: Example,
    pub beta: Option<f64>,
    pub one_sided: bool,
    pub level: Option<usize>,
    pub shots: Option<u64>,
    pub seed: Option<u64>,
    pub temperature: Option<f64>,
    pub samples: usize,
    pub exact: bool,
    pub prep_times: Option<Vec<f64>>,
}

impl GradRequest {
    pub(crate) fn new(example: Example) -> Self {
        Self {
            example,
            beta: None,
            one_sided: false,
            level: None,
            shots: None,
            seed: None,
            temperature: None,
            samples: DEFAULT_SAMPLES,
            exact: true,
            prep_times: None,
        }
    }
}

/// The JSON of `qep grad` (eigen and prepared engines).
#[derive(Serialize)]
struct GradOut {
    engine: &'static str,
    example: Example,
    #[serde(flatten)]
    ep: EpGradient,
    exact: Option<Vec<f64>>,
    oracle: Option<ExactGradient>,
    cosine: Option<f64>,
    relative_error: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prepared: Option<Vec<PreparedGradient>>,
}

/// The JSON of `qep grad --temperature T` (dense).
#[derive(Serialize)]
struct ThermalOut {
    engine: &'static str,
    #[serde(flatten)]
    gradients: ThermalGradients,
    #[serde(skip_serializing_if = "Option::is_none")]
    covariance_shots: Option<Vec<Option<f64>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    covariance_shots_std: Option<Vec<Option<f64>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shot_estimate: Option<ShotCovariance>,
}

/// The JSON of `qep grad --temperature T` above the dense limit (typicality).
#[derive(Serialize)]
struct TypicalOut {
    engine: &'static str,
    params: Vec<String>,
    temperature: f64,
    beta: f64,
    clamped: ThermalStep,
    covariance: ThermalStep,
    typicality: TypicalityParams,
    seconds: f64,
}

/// The JSON of `qep grad --temperature T` on a classical model (Langevin sampling).
#[derive(Serialize)]
struct ClassicalThermalOut {
    engine: &'static str,
    params: Vec<String>,
    temperature: f64,
    beta: f64,
    clamped: Vec<f64>,
    clamped_std: Vec<f64>,
    covariance: Vec<f64>,
    covariance_std: Vec<f64>,
    low_temperature: Vec<f64>,
    zero_temperature: Vec<f64>,
    cost: f64,
    cost_std: f64,
    cost_low_temperature: f64,
    samples_per_chain: usize,
    chains: usize,
}

/// The JSON of `qep grad` on a classical model.
#[derive(Serialize)]
struct ClassicalOut {
    engine: &'static str,
    example: Example,
    params: Vec<String>,
    ep: Vec<f64>,
    exact: Option<Vec<f64>>,
    cosine: Option<f64>,
    relative_error: Option<f64>,
    beta: f64,
    one_sided: bool,
    cost: f64,
    z_outputs: Vec<f64>,
    residuals: Vec<f64>,
    free: Relaxed,
    clamped: Vec<Relaxed>,
    oracle_residual: Option<f64>,
    seconds: f64,
}

/// The object `qep grad --json` prints for `model` at `theta` (provenance included): the
/// engine `qep run` trains the model with, its EP estimate and oracle. Runs without the GIL.
pub(crate) fn grad(model: &Model, theta: &[f64], r: &GradRequest) -> Result<Value, Error> {
    let lib = |e: qep::Error| lib_error(e, Some(&model.source.path));
    let seed = r.seed.unwrap_or(DEFAULT_SEED);
    let has_temperature = r.temperature.or(model.settings.temperature).is_some();
    let overrides = EpOverrides {
        beta: r.beta,
        one_sided: r.one_sided,
        level: r.level,
        shots: r.shots,
        seed: Some(seed),
        temperature: r.temperature,
        samples: has_temperature.then_some(r.samples),
        exact: r.exact,
        lanczos: Some(lanczos(seed, 1e-9)),
        ..EpOverrides::default()
    };
    let params = EpParams::from_model(model, &overrides).map_err(|e| lib(e.into()))?;
    let engine = Engine::for_model(model, &params).map_err(lib)?;
    let ex = &r.example;
    match (&engine, &params.thermal) {
        (Engine::Classical(_), Some(t)) => {
            return classical_thermal(model, theta, ex, t.temperature, params.beta, seed)
        }
        (Engine::Classical(_), None) => return classical(model, &engine, theta, ex, &params),
        (Engine::Thermal(t), _) if model.qubits > DENSE_MAX_QUBITS => {
            return thermal_typical(model, theta, ex, t, params.beta, r.shots.is_some())
        }
        (Engine::Thermal(t), _) => {
            return thermal(
                model,
                theta,
                ex,
                t.temperature,
                params.beta,
                params.shots,
                seed,
            )
        }
        (Engine::Eigen | Engine::Prepared(_), _) => {}
    }
    let mut plan = qep::state::MemoryPlan::new("Model.grad");
    plan.extend(&qep::ep::gradient_memory(
        model.qubits,
        &params,
        params.exact,
    ));
    plan.check().map_err(|e| lib(e.into()))?;
    // The prepared engine's estimate is reported per sweep time in `prepared`, beside the
    // estimate on exact eigenstates it is compared with (as `qep grad` does).
    let g = Engine::Eigen
        .gradient(model, theta, ex, &params)
        .map_err(lib)?;
    let GradientDetails::Eigen { ep, oracle } = g.details else {
        return Err(
            QepError::new_err("the eigen engine returned another engine's evidence").into(),
        );
    };
    let (cosine, relative_error) = match &oracle {
        Some(o) => {
            let (c, r) = compare(&ep.ep, &o.exact);
            (Some(c), Some(r))
        }
        None => (None, None),
    };
    let prepared = prepared_runs(model, theta, ex, &params, &ep.ep, r.prep_times.as_deref())?;
    let out = GradOut {
        engine: engine.name(),
        example: ex.clone(),
        exact: oracle.as_ref().map(|o| o.exact.clone()),
        oracle,
        cosine,
        relative_error,
        ep,
        prepared,
    };
    with_provenance(&out, model, Some(params.lanczos.seed), json(&params)?)
}

/// EP on adiabatically prepared states for each of `times` (or the model's sweep time),
/// compared with the exact-state estimate `reference`.
fn prepared_runs(
    model: &Model,
    theta: &[f64],
    ex: &Example,
    params: &EpParams,
    reference: &[f64],
    times: Option<&[f64]>,
) -> Result<Option<Vec<PreparedGradient>>, Error> {
    let from_model = match &model.settings.preparation {
        Preparation::Adiabatic(ad) => Some(ad),
        _ => None,
    };
    let times = match (times, from_model) {
        (Some(t), _) => t.to_vec(),
        (None, Some(ad)) => vec![ad.time],
        (None, None) => return Ok(None),
    };
    let mut out = Vec::with_capacity(times.len());
    for &t in &times {
        let ad = Adiabatic {
            time: t,
            steps: from_model
                .map(|m| m.steps)
                .unwrap_or_else(|| 100usize.max((5.0 * t).ceil() as usize)),
            schedule: from_model.map(|m| m.schedule).unwrap_or_default(),
            table: from_model.and_then(|m| m.table.clone()),
        };
        let mut g = ep_gradient_prepared(model, theta, ex, params, &ad, false)
            .map_err(|e| lib_error(e, Some(&model.source.path)))?;
        let (c, r) = compare(&g.ep, reference);
        g.exact_state_ep = reference.to_vec();
        g.cosine = c;
        g.relative_error = r;
        out.push(g);
    }
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
) -> Result<Value, Error> {
    let lib = |e: qep::Error| lib_error(e, Some(&model.source.path));
    let g = thermal_gradients(model, theta, ex, t, beta).map_err(|e| lib(e.into()))?;
    let sc = shots
        .map(|s| covariance_from_shots(model, theta, ex, t, s, seed).map_err(|e| lib(e.into())))
        .transpose()?;
    let out = ThermalOut {
        engine: "thermal",
        gradients: g,
        covariance_shots: sc.as_ref().map(|s| s.covariance.clone()),
        covariance_shots_std: sc.as_ref().map(|s| s.std_err.clone()),
        shot_estimate: sc,
    };
    with_provenance(
        &out,
        model,
        shots.map(|_| seed),
        serde_json::json!({"temperature": t, "beta": beta, "shots": shots}),
    )
}

/// Clamped and covariance estimates by typicality, with jackknife standard errors.
fn thermal_typical(
    model: &Model,
    theta: &[f64],
    ex: &Example,
    thermal: &ThermalParams,
    beta: f64,
    shots: bool,
) -> Result<Value, Error> {
    let lib = |e: qep::Error| lib_error(e, Some(&model.source.path));
    if shots {
        return Err(QepError::new_err(format!(
            "{}: {} qubits: shots of the Gibbs state need its dense diagonal (≤ \
             {DENSE_MAX_QUBITS} qubits); drop shots",
            model.source.path.display(),
            model.qubits
        ))
        .into());
    }
    let t0 = Instant::now();
    let mut p = ThermalParams {
        estimator: ThermalGradient::Clamped,
        method: ThermalMethod::Typicality,
        ..thermal.clone()
    };
    let clamped = thermal_gradient(model, theta, ex, &p, beta).map_err(|e| lib(e.into()))?;
    p.estimator = ThermalGradient::Covariance;
    let covariance = thermal_gradient(model, theta, ex, &p, beta).map_err(|e| lib(e.into()))?;
    let out = TypicalOut {
        engine: "thermal",
        params: model.params.iter().map(|p| p.label.clone()).collect(),
        temperature: thermal.temperature,
        beta,
        clamped,
        covariance,
        typicality: p.typicality.clone(),
        seconds: t0.elapsed().as_secs_f64(),
    };
    with_provenance(
        &out,
        model,
        Some(p.typicality.seed),
        serde_json::json!({"temperature": thermal.temperature, "beta": beta,
                           "typicality": p.typicality}),
    )
}

/// Langevin sampling of a classical network at temperature `t`, beside the low-temperature
/// expansion and the T = 0 gradient.
fn classical_thermal(
    model: &Model,
    theta: &[f64],
    ex: &Example,
    t: f64,
    beta: f64,
    seed: u64,
) -> Result<Value, Error> {
    let lib = |e: qep::Error| lib_error(e, Some(&model.source.path));
    let net = ThermalNet::new(model, ClassicalParams::default()).map_err(|e| lib(e.into()))?;
    let lp = LangevinParams {
        temperature: t,
        seed,
        ..LangevinParams::default()
    };
    let g = net
        .thermal_gradient(theta, ex, beta, &lp)
        .map_err(|e| lib(e.into()))?;
    let low = low_temperature(&net, theta, ex, beta).map_err(|e| lib(e.into()))?;
    let out = ClassicalThermalOut {
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
    with_provenance(
        &out,
        model,
        Some(lp.seed),
        serde_json::json!({"temperature": t, "beta": beta, "langevin": lp}),
    )
}

/// The classical network's EP gradient (Eq. 14) and its oracle (Eq. 49).
fn classical(
    model: &Model,
    engine: &Engine,
    theta: &[f64],
    ex: &Example,
    params: &EpParams,
) -> Result<Value, Error> {
    let g = engine
        .gradient(model, theta, ex, params)
        .map_err(|e| lib_error(e, Some(&model.source.path)))?;
    let GradientDetails::Classical { ep, oracle } = g.details else {
        return Err(
            QepError::new_err("the classical engine returned another engine's evidence").into(),
        );
    };
    let (cosine, relative_error) = match &g.exact {
        Some(x) => {
            let (c, r) = compare(&g.ep, x);
            (Some(c), Some(r))
        }
        None => (None, None),
    };
    let out = ClassicalOut {
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
    with_provenance(
        &out,
        model,
        None,
        serde_json::json!({"beta": params.beta, "one_sided": params.one_sided,
                           "classical": ClassicalParams::default()}),
    )
}

/// What `Model.train` was asked for (the flags of `qep run`).
pub(crate) struct TrainRequest {
    pub epochs: Option<usize>,
    pub out: Option<PathBuf>,
    pub resume: bool,
    pub overwrite: bool,
}

/// The outcome of a training run: the `qep run --json` summary, the trained parameters and
/// the per-epoch metrics.
pub(crate) struct Trained {
    pub summary: Value,
    pub theta: Vec<f64>,
    pub history: Value,
}

/// A training run stopped by KeyboardInterrupt: where it stopped and what was saved.
pub(crate) struct Interrupted {
    pub message: String,
    pub theta: Vec<f64>,
}

/// Why [`train`] returned early.
pub(crate) enum TrainStop {
    Failed(Error),
    Interrupted(Interrupted),
}

impl From<Error> for TrainStop {
    fn from(e: Error) -> Self {
        TrainStop::Failed(e)
    }
}

/// Trains `model` from `theta0` as `qep run` does (same settings, same seeds, same numbers),
/// writing the run folder when `r.out` is given. `progress(done, total)` is called after
/// every mini-batch (examples done over the whole run) and may set `cancel` (Ctrl-C): the
/// trainer then stops at its next safe point and the last completed epoch is saved.
pub(crate) fn train(
    model: &Model,
    theta0: Vec<f64>,
    r: &TrainRequest,
    cancel: &Cancel,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Trained, TrainStop> {
    let file = model.source.path.clone();
    let lib = |e: qep::Error| lib_error(e, Some(&file));
    let n_train = model.dataset.as_ref().map_or(0, |d| d.train.len());
    if n_train == 0 {
        return Err(Error::from(PyValueError::new_err(format!(
            "{}: the model has no training examples; nothing to train",
            file.display()
        )))
        .into());
    }
    let t0 = Instant::now();
    // `qep run`'s solver: its default seed, and a tolerance no looser than 1e-10.
    let overrides = EpOverrides {
        lanczos: Some(lanczos(DEFAULT_SEED, 1e-10)),
        ..EpOverrides::default()
    };
    let mut params = TrainParams::with_overrides(model, &overrides).map_err(|e| lib(e.into()))?;
    if let Some(e) = r.epochs {
        params.training.epochs = e;
    }
    let mut plan = qep::state::MemoryPlan::new("Model.train");
    plan.extend(&qep::ep::gradient_memory(model.qubits, &params.ep, true));
    plan.check().map_err(|e| lib(e.into()))?;
    let dir = match &r.out {
        Some(out) => {
            if !r.resume {
                check_fresh(
                    out,
                    &RUN_FILES,
                    r.overwrite,
                    "resume=True continues it, overwrite=True replaces it, out=DIR writes \
                     elsewhere",
                )
                .map_err(|e| lib(e.into()))?;
            }
            Some(RunDir::create(out).map_err(|e| lib(e.into()))?)
        }
        None => None,
    };
    let epochs = params.training.epochs;
    let resume = match (&dir, r.resume) {
        (Some(d), true) => {
            let c = d.checkpoint().map_err(|e| lib(e.into()))?.ok_or_else(|| {
                Error::from(QepError::new_err(format!(
                    "{}: no checkpoint.json to resume from",
                    d.path().display()
                )))
            })?;
            let now = RunStamp::new(model, &params, &theta0);
            let changes = match &c.stamp {
                Some(s) => s.changes(&now),
                None => vec!["the checkpoint records no settings (written by an older qep)".into()],
            };
            if !changes.is_empty() {
                return Err(Error::from(QepError::new_err(format!(
                    "{}: made with other settings: {}; expected the model and settings of the \
                     checkpointed run",
                    d.path().join("checkpoint.json").display(),
                    changes.join("; ")
                )))
                .into());
            }
            if c.epoch > epochs {
                return Err(Error::from(QepError::new_err(format!(
                    "{}: the checkpoint is at epoch {}, beyond epochs={epochs}; expected \
                     epochs={} or more",
                    d.path().join("checkpoint.json").display(),
                    c.epoch,
                    c.epoch
                )))
                .into());
            }
            Some(c)
        }
        (None, true) => {
            return Err(Error::from(PyValueError::new_err(
                "resume=True continues the run saved in out=DIR; give out",
            ))
            .into())
        }
        _ => None,
    };
    let mut trainer = Trainer::with_start(model, params.clone(), theta0, resume).map_err(lib)?;
    trainer.set_cancel(cancel.clone());
    let start_epoch = trainer.epoch();
    let save = |trainer: &Trainer| -> Result<(), Error> {
        match &dir {
            Some(d) => d
                .save_epoch(model, trainer.checkpoint())
                .map_err(|e| lib(e.into())),
            None => Ok(()),
        }
    };
    if let (Some(d), true) = (&dir, r.resume && trainer.finished()) {
        // Nothing to train: the folder's summary (written when the run finished), as
        // `qep run --resume` prints it; one made from the checkpoint if it is missing.
        if let Some(v) = d.summary().map_err(|e| lib(e.into()))? {
            let c = trainer.checkpoint();
            return Ok(Trained {
                summary: v,
                theta: c.theta.clone(),
                history: history(&c.history)?,
            });
        }
    } else {
        save(&trainer)?;
    }
    let total = (epochs.saturating_sub(start_epoch) * n_train) as u64;
    let batch = params.training.batch_size.max(1);
    while !trainer.finished() {
        let e = trainer.epoch() + 1;
        let base = ((e - 1 - start_epoch) * n_train) as u64;
        match trainer.run_epoch(|done, _| {
            progress(base + (done * batch).min(n_train) as u64, total);
        }) {
            Ok(_) => {}
            Err(qep::Error::Cancelled(_)) => {
                save(&trainer)?;
                let saved = match &dir {
                    Some(d) => format!(
                        "; checkpoint saved in {}; resume with resume=True",
                        d.path().display()
                    ),
                    None => String::new(),
                };
                return Err(TrainStop::Interrupted(Interrupted {
                    message: format!("interrupted at epoch {}{saved}", trainer.epoch()),
                    theta: trainer.checkpoint().theta.clone(),
                }));
            }
            Err(e) => return Err(lib(e).into()),
        }
        save(&trainer)?;
    }
    let c = trainer.checkpoint();
    let wall = t0.elapsed().as_secs_f64();
    let epochs_run = (c.epoch - start_epoch).max(1);
    let last = c.history.last();
    let finite = |x: f64| x.is_finite().then_some(x);
    let summary = Summary {
        model: model.name.clone(),
        epochs: c.epoch,
        final_cost: last.map_or(f64::NAN, |m| m.train_cost),
        train_accuracy: last.map_or(f64::NAN, |m| m.train_accuracy),
        test_accuracy: last.and_then(|m| finite(m.test_accuracy)),
        test_cost: last.and_then(|m| finite(m.test_cost)),
        wall_seconds: wall,
        seconds_per_example: wall / (epochs_run * n_train) as f64,
        resumed_from: r.resume.then_some(start_epoch),
        forced_changes: Vec::new(),
        provenance: Provenance::new(
            Some(&file),
            Some(model.source.sha256.clone()),
            Some(params.seed),
            json(&params)?,
        ),
    };
    if let Some(d) = &dir {
        d.save_summary(&summary).map_err(|e| lib(e.into()))?;
    }
    Ok(Trained {
        summary: json(&summary)?,
        theta: c.theta.clone(),
        history: history(&c.history)?,
    })
}

/// The per-epoch metrics as columns: `{"epoch": [...], "train_cost": [...], ...}`.
fn history(h: &[qep::ep::EpochMetrics]) -> Result<Value, Error> {
    let mut cols = serde_json::Map::new();
    for m in h {
        let Value::Object(row) = json(m)? else {
            continue;
        };
        for (k, v) in row {
            // Columns of numbers: a missing value (no cosine this epoch) is NaN.
            let v = if v.is_null() {
                Value::from(f64::NAN)
            } else {
                v
            };
            match cols.entry(k) {
                serde_json::map::Entry::Vacant(e) => {
                    e.insert(Value::Array(vec![v]));
                }
                serde_json::map::Entry::Occupied(mut e) => {
                    if let Value::Array(a) = e.get_mut() {
                        a.push(v);
                    }
                }
            }
        }
    }
    Ok(Value::Object(cols))
}

/// Runs `work` without the GIL, handing it `poll`, which runs the Python signal handlers (on
/// the main thread; elsewhere it does nothing): a pending `KeyboardInterrupt` sets `cancel`,
/// so that the library stops at its next safe point, and is returned beside the result.
pub(crate) fn interruptible<T: Send>(
    py: Python<'_>,
    cancel: &Cancel,
    work: impl FnOnce(&(dyn Fn() + Sync)) -> T + Send,
) -> (T, Option<PyErr>) {
    let pending: Mutex<Option<PyErr>> = Mutex::new(None);
    let out = py.detach(|| {
        let poll = || {
            if cancel.is_cancelled() {
                return;
            }
            Python::attach(|py| {
                if let Err(e) = py.check_signals() {
                    cancel.cancel();
                    if let Ok(mut p) = pending.lock() {
                        *p = Some(e);
                    }
                }
            })
        };
        work(&poll)
    });
    let err = pending.into_inner().unwrap_or_else(|p| p.into_inner());
    (out, err)
}

/// The error to raise for a computation stopped by `cancel` without a pending Python error.
pub(crate) fn keyboard_interrupt(message: &str) -> PyErr {
    PyKeyboardInterrupt::new_err(message.to_string())
}
