//! The studies of the CLI as functions: `plateau` (`qep plateau`), `shots_study`
//! (`qep shots`), `prepare` (`qep prepare`) and `thermalize` (`qep thermalize`). Each calls
//! the library's study with the CLI's defaults and returns the object the command's `--json`
//! prints (numpy arrays for lists of numbers); the Python layer (`qep/studies.py`) adds
//! `to_pandas()`. The GIL is released while they run; Ctrl-C stops a study at its next safe
//! point where the library has one.

use pyo3::exceptions::{PyKeyboardInterrupt, PyValueError};
use pyo3::prelude::*;
use serde_json::Value;

use qep::adiabatic::{KrylovParams, Method, ScheduleKind};
use qep::cancel::Cancel;
use qep::evolve::thermalize::{thermalize as lib_thermalize, ThermalizeMethod, ThermalizeSettings};
use qep::hamiltonian::Lattice;
use qep::report::Provenance;
use qep::study::plateau::{plateau_scan_until, Family, PlateauParams};
use qep::study::prepare::{prepare_study, PrepareStudySettings};
use qep::study::shots::{shot_scan_until, ShotScanParams};

use crate::ep::{interruptible, json, keyboard_interrupt, with_provenance};
use crate::errors::lib_error;
use crate::json::to_py;
use crate::model::Model;

/// The error a study stopped by Ctrl-C raises: the pending `KeyboardInterrupt` with `what`.
fn interrupted(what: String) -> PyErr {
    keyboard_interrupt(&what)
}

/// Raises the pending signal error (KeyboardInterrupt) when a computation was cancelled.
fn stopped(pending: Option<PyErr>, py: Python<'_>, what: String) -> PyErr {
    match pending {
        Some(e) if !e.is_instance_of::<PyKeyboardInterrupt>(py) => e,
        _ => interrupted(what),
    }
}

/// The variance of `∂⟨C⟩/∂θ_k` over random couplings against the number of qubits, fitted as
/// `Var ∝ e^{−r N}` (barren plateaus), as `qep plateau --json`: `sizes`, `variance`,
/// `decay_rate` (± `decay_rate_err`), `decay_rate_xx`, `decay_rate_zz`, the median fit,
/// `per_size` rows, `complete`, `seconds`, `provenance`.
#[pyfunction]
#[pyo3(signature = (model=None, *, family="chain", sizes=vec![4, 5, 6, 7, 8, 9, 10],
                    samples=100, init_range=1.0, shots=None, beta=0.05, seed=0))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn plateau<'py>(
    py: Python<'py>,
    model: Option<PyRef<'py, Model>>,
    family: &str,
    sizes: Vec<usize>,
    samples: usize,
    init_range: f64,
    shots: Option<u64>,
    beta: f64,
    seed: u64,
) -> PyResult<Bound<'py, PyAny>> {
    let mut family = match family {
        "chain" => Family::Chain,
        "grid" => Family::Grid,
        "all-to-all" | "all_to_all" => Family::AllToAll,
        other => {
            return Err(PyValueError::new_err(format!(
                "family {other:?}: expected \"chain\", \"grid\" or \"all-to-all\""
            )))
        }
    };
    let mut input = None;
    if let Some(m) = &model {
        let lib = m.lib();
        family = match lib.lattice {
            Some(Lattice::Chain { .. }) => Family::Chain,
            Some(Lattice::Grid { .. }) => Family::Grid,
            Some(Lattice::AllToAll { .. }) => Family::AllToAll,
            None => {
                return Err(PyValueError::new_err(format!(
                    "{}: the model has no `lattice`; give family=... instead",
                    lib.source.path.display()
                )))
            }
        };
        input = Some((lib.source.path.clone(), lib.source.sha256.clone()));
    }
    if sizes.len() < 2 || sizes.iter().any(|&n| !(2..=24).contains(&n)) {
        return Err(PyValueError::new_err(format!(
            "sizes {sizes:?}: expected at least two sizes, each between 2 and 24"
        )));
    }
    let params = PlateauParams {
        family,
        sizes,
        samples: samples.max(2),
        init_range,
        seed,
        ep_shots: shots.map(|s| (s, beta)),
        temperature: None,
    };
    let cancel = Cancel::new();
    let t0 = std::time::Instant::now();
    let (result, pending) = interruptible(py, &cancel, |poll| {
        plateau_scan_until(&params, &cancel, |_, _| poll()).map_err(Box::new)
    });
    let result = result.map_err(|e| lib_error(*e, None))?;
    if !result.complete {
        return Err(stopped(
            pending,
            py,
            format!(
                "interrupted after {} of {} sizes",
                result.per_size.len(),
                params.sizes.len()
            ),
        ));
    }
    qep::finite::check_finite(&(&result.variance, &result.per_size), "qep.plateau")
        .map_err(|e| lib_error(e.into(), None))?;
    let provenance = Provenance::new(
        input.as_ref().map(|(p, _)| p.as_path()),
        input.as_ref().map(|(_, h)| h.clone()),
        Some(params.seed),
        json(&params)?,
    );
    let v = result.report(t0.elapsed().as_secs_f64(), &provenance);
    to_py(py, &v)
}

/// Shot noise against clamping bias: the RMS error of shot-based EP gradients over a grid of
/// shot budgets and β, with the fitted error model and the best β per budget, as
/// `qep shots --json`: `cells` (rows: `shots`, `beta`, `rms`, `bias`, `noise`,
/// `reported_std`, `shots_per_gradient`), `bias_coefficient`, `noise_coefficient`,
/// `optimal_beta`, `complete`, `provenance`. Uses the model's current `theta`.
#[pyfunction]
#[pyo3(signature = (model, *, shots=vec![100, 1000, 10_000, 100_000],
                    betas=vec![0.02, 0.05, 0.1, 0.2], repeats=20, example=0, seed=0))]
pub(crate) fn shots_study<'py>(
    py: Python<'py>,
    model: PyRef<'py, Model>,
    shots: Vec<u64>,
    betas: Vec<f64>,
    repeats: usize,
    example: usize,
    seed: u64,
) -> PyResult<Bound<'py, PyAny>> {
    let lib = model.lib();
    let ex = training_example(lib, example)?;
    let params = ShotScanParams {
        shots,
        betas,
        repeats: repeats.max(2),
        seed,
    };
    let theta = model.theta_now();
    let cancel = Cancel::new();
    let file = lib.source.path.clone();
    let (scan, pending) = interruptible(py, &cancel, |poll| {
        shot_scan_until(lib, &theta, &ex, &params, &cancel, |_, _| poll()).map_err(Box::new)
    });
    let scan = match scan {
        Err(e) if matches!(*e, qep::Error::Cancelled(_)) => {
            return Err(stopped(
                pending,
                py,
                "interrupted before the first cell was complete".into(),
            ))
        }
        r => r.map_err(|e| lib_error(*e, Some(&file)))?,
    };
    if !scan.complete {
        return Err(stopped(
            pending,
            py,
            format!("interrupted after {} cells", scan.cells.len()),
        ));
    }
    let v = with_provenance(&scan, lib, Some(seed), json(&params)?)?;
    to_py(py, &v)
}

/// Training example `i` of the model's dataset, with the CLI's message when it is missing.
fn training_example(m: &qep::hamiltonian::Model, i: usize) -> PyResult<qep::hamiltonian::Example> {
    let n = m.dataset.as_ref().map_or(0, |d| d.train.len());
    m.dataset
        .as_ref()
        .and_then(|d| d.train.get(i))
        .cloned()
        .ok_or_else(|| {
            PyValueError::new_err(format!(
                "{}: training example {i} does not exist; expected 0..{n}",
                m.source.path.display()
            ))
        })
}

/// Adiabatic preparation of the model's eigenstate from `−Σ X_i` (or `start`), verified
/// against the exact eigenstate, as `qep prepare --json`: `fidelity`, `energy`, … of one
/// sweep (`time`), or `runs` for several (`times`) with `infidelity_slope`; `path` holds the
/// gaps along the path (`gap_points` > 0).
#[pyfunction]
#[pyo3(signature = (model, *, time=None, times=None, schedule=None, start=None,
                    method="magnus", trotter_order=2, steps=None, eigen=0, gap_points=21,
                    krylov_tol=1e-10, krylov_dim=30, example=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn prepare<'py>(
    py: Python<'py>,
    model: PyRef<'py, Model>,
    time: Option<f64>,
    times: Option<Vec<f64>>,
    schedule: Option<&str>,
    start: Option<PyRef<'py, Model>>,
    method: &str,
    trotter_order: u8,
    steps: Option<usize>,
    eigen: usize,
    gap_points: usize,
    krylov_tol: f64,
    krylov_dim: usize,
    example: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    if time.is_some() && times.is_some() {
        return Err(PyValueError::new_err(
            "give either time (one sweep) or times (several), not both",
        ));
    }
    let schedule = match schedule {
        None => None,
        Some("linear") => Some(ScheduleKind::Linear),
        Some("smooth") => Some(ScheduleKind::Smooth),
        Some("local") => Some(ScheduleKind::Local),
        Some(other) => {
            return Err(PyValueError::new_err(format!(
                "schedule {other:?}: expected \"linear\", \"smooth\" or \"local\""
            )))
        }
    };
    let method = match method {
        "krylov" => Method::Krylov,
        "magnus" => Method::Magnus,
        "trotter" => Method::Trotter {
            order: trotter_order,
        },
        other => {
            return Err(PyValueError::new_err(format!(
                "method {other:?}: expected \"magnus\", \"krylov\" or \"trotter\""
            )))
        }
    };
    let several = times.is_some();
    let settings = PrepareStudySettings {
        example,
        times,
        time,
        schedule,
        method,
        trotter_order,
        steps,
        eigen,
        gap_points,
        krylov: KrylovParams {
            tol: krylov_tol,
            max_dim: krylov_dim,
        },
        circuit: false,
    };
    let lib = model.lib();
    let start = start.as_ref().map(|s| s.lib());
    let cancel = Cancel::new();
    let (out, pending) = interruptible(py, &cancel, |poll| {
        // Several sweeps stop between sweeps on Ctrl-C; a single sweep has no safe point.
        let on_progress = |_: qep::report::Progress| {
            if several {
                poll()
            }
        };
        prepare_study(lib, start, &settings, &cancel, &on_progress).map_err(Box::new)
    });
    let out = match out {
        Err(e) if matches!(*e, qep::Error::Cancelled(_)) => {
            return Err(stopped(
                pending,
                py,
                "interrupted before the first sweep".into(),
            ))
        }
        r => r.map_err(|e| lib_error(*e, Some(&lib.source.path)))?,
    };
    if !out.complete {
        return Err(stopped(
            pending,
            py,
            format!("interrupted after {} sweeps", out.all_runs().count()),
        ));
    }
    let v = with_provenance(&out, lib, None, json(&out.settings)?)?;
    to_py(py, &v)
}

/// Prepares the Gibbs state at temperature T (the model's `temperature:` when None) by
/// collisional cooling, Davies dynamics or cooling trajectories, and measures how close it
/// gets, as `qep thermalize --json`: `trace` (rows per step: trace distance, ⟨H⟩, ⟨C⟩),
/// `trace_distance`, `energy`, `gibbs`, `observables`, `seconds`, `provenance`.
#[pyfunction]
#[pyo3(signature = (model, temperature=None, *, method="cooling", steps=30, observe=vec![],
                    initial="mixed", coupling=0.02, duration=100.0, ancillas=2, rate=1.0,
                    dt=None, trajectories=200, seed=0))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn thermalize<'py>(
    py: Python<'py>,
    model: PyRef<'py, Model>,
    temperature: Option<f64>,
    method: &str,
    steps: usize,
    observe: Vec<String>,
    initial: &str,
    coupling: f64,
    duration: f64,
    ancillas: usize,
    rate: f64,
    dt: Option<f64>,
    trajectories: usize,
    seed: u64,
) -> PyResult<Bound<'py, PyAny>> {
    if let Some(t) = temperature.filter(|t| !(*t > 0.0 && t.is_finite())) {
        return Err(PyValueError::new_err(format!(
            "temperature {t}: expected a finite number > 0"
        )));
    }
    let method = match method {
        "cooling" => ThermalizeMethod::Cooling,
        "davies" => ThermalizeMethod::Davies,
        "trajectories" => ThermalizeMethod::Trajectories,
        other => {
            return Err(PyValueError::new_err(format!(
                "method {other:?}: expected \"cooling\", \"davies\" or \"trajectories\""
            )))
        }
    };
    if method == ThermalizeMethod::Trajectories && trajectories == 0 {
        return Err(PyValueError::new_err(
            "trajectories=0: expected at least 1 trajectory",
        ));
    }
    if steps == 0 {
        return Err(PyValueError::new_err("steps=0: expected at least 1 step"));
    }
    let settings = ThermalizeSettings {
        method,
        temperature,
        steps,
        initial: initial.to_string(),
        coupling,
        duration,
        ancillas,
        rate,
        dt,
        trajectories,
        seed,
        observe,
    };
    let lib = model.lib();
    // The library has no safe point to stop at here: a Ctrl-C is raised when it returns.
    let out = crate::compute(py, || {
        lib_thermalize(lib, &settings, &qep::report::no_progress)
    });
    let out = out.map_err(|e| lib_error(e.into(), Some(&lib.source.path)))?;
    let v: Value = with_provenance(&out, lib, None, json(&out.settings)?)?;
    to_py(py, &v)
}
