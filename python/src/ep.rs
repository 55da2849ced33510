//! `Model.grad` and `Model.train`: the EP gradient of one example and a training run, through
//! the library's reports (`qep::session::grad_report`, `run_report`), the very calls
//! `qep grad --json` and `qep run --json` make, so a script and the CLI agree to the last bit.
//! This file only turns keyword arguments into requests and library errors into exceptions.

use std::path::PathBuf;

use pyo3::exceptions::{PyKeyboardInterrupt, PyValueError};
use pyo3::prelude::*;
use serde::Serialize;
use serde_json::Value;

use qep::cancel::Cancel;
use qep::ep::EpOverrides;
use qep::hamiltonian::{Example, Model};
use qep::linalg::LanczosParams;
use qep::report::Provenance;
use qep::session::{
    grad_report, run_report, GradRequest, ReportError, RunEvent, RunRequest, DEFAULT_SEED,
};

use crate::errors::{lib_error, Error, QepError};

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

/// The request `qep grad` makes without flags for `example`, with `seed` (the CLI's default
/// `--seed` when None) for the eigensolver, shots and random vectors alike.
pub(crate) fn grad_request(example: Example, seed: Option<u64>) -> GradRequest {
    let mut r = GradRequest::new(example);
    r.seed = seed.unwrap_or(DEFAULT_SEED);
    r.lanczos.seed = r.seed;
    r
}

/// A library report error as the exception to raise, in the words of the keyword arguments.
fn report_error(model: &Model, e: ReportError) -> Error {
    let file = &model.source.path;
    match e {
        ReportError::Lib(e) => lib_error(*e, Some(file)),
        ReportError::ShotsNeedDense { qubits, max } => QepError::new_err(format!(
            "{}: {qubits} qubits: shots of the Gibbs state need its dense diagonal (≤ {max} \
             qubits); drop shots",
            file.display()
        ))
        .into(),
        ReportError::BeyondEpochs {
            checkpoint,
            epoch,
            epochs,
        } => QepError::new_err(format!(
            "{}: the checkpoint is at epoch {epoch}, beyond epochs={epochs}; expected \
             epochs={epoch} or more",
            checkpoint.display()
        ))
        .into(),
        ReportError::ResumeWithoutDir => {
            PyValueError::new_err("resume=True continues the run saved in out=DIR; give out").into()
        }
        e => QepError::new_err(e.to_string()).into(),
    }
}

/// The object `qep grad --json` prints for `model` at `theta` (provenance included): the
/// engine `qep run` trains the model with, its EP estimate and oracle. Runs without the GIL.
pub(crate) fn grad(model: &Model, theta: &[f64], r: &GradRequest) -> Result<Value, Error> {
    let report = grad_report(model, theta, r, &mut |_| {}).map_err(|e| report_error(model, e))?;
    with_provenance(&report, model, report.seed, report.settings.clone())
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
    let n_train = model.dataset.as_ref().map_or(0, |d| d.train.len());
    if n_train == 0 {
        return Err(Error::from(PyValueError::new_err(format!(
            "{}: the model has no training examples; nothing to train",
            model.source.path.display()
        )))
        .into());
    }
    // `qep run`'s solver: its default seed, and a tolerance no looser than 1e-10.
    let request = RunRequest {
        overrides: EpOverrides {
            lanczos: Some(LanczosParams {
                k: 1,
                tol: 1e-10,
                max_matvecs: 20_000,
                seed: DEFAULT_SEED,
                ..LanczosParams::default()
            }),
            ..EpOverrides::default()
        },
        epochs: r.epochs,
        cosine_every: None,
        out: r.out.clone(),
        resume: r.resume,
        force: false,
        overwrite: r.overwrite,
        fresh_remedy: "resume=True continues it, overwrite=True replaces it, out=DIR writes \
                       elsewhere",
    };
    let mut on_event = |e: RunEvent<'_>| {
        if let RunEvent::Progress { done, total } = e {
            progress(done, total);
        }
    };
    match run_report(model, theta0, &request, cancel.clone(), &mut on_event) {
        Ok(report) => Ok(Trained {
            summary: report.summary_json().map_err(|e| report_error(model, e))?,
            history: history(&report.history)?,
            theta: report.theta,
        }),
        Err(ReportError::Interrupted { epoch, dir, theta }) => {
            let saved = match dir {
                Some(d) => format!(
                    "; checkpoint saved in {}; resume with resume=True",
                    d.display()
                ),
                None => String::new(),
            };
            Err(TrainStop::Interrupted(Interrupted {
                message: format!("interrupted at epoch {epoch}{saved}"),
                theta,
            }))
        }
        Err(e) => Err(report_error(model, e).into()),
    }
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

/// Runs `work` without the GIL on a worker of rayon's pool (see [`crate::compute`]), while
/// this thread runs the Python signal handlers (they act on Python's main thread only): every
/// [`SIGNAL_POLL`], and whenever the library reaches a safe point and calls the `poll` it was
/// handed, which waits until this thread has run them. A pending `KeyboardInterrupt` sets
/// `cancel`, so that the library stops at that safe point, and is returned beside the result.
pub(crate) fn interruptible<T: Send>(
    py: Python<'_>,
    cancel: &Cancel,
    work: impl FnOnce(&(dyn Fn() + Sync)) -> T + Send,
) -> (T, Option<PyErr>) {
    enum Msg<T> {
        /// A safe point: run the handlers, then answer.
        Poll(std::sync::mpsc::Sender<()>),
        Done(T),
    }
    let mut pending: Option<PyErr> = None;
    let out = py.detach(|| {
        let (tx, rx) = std::sync::mpsc::channel::<Msg<T>>();
        let mut check = || {
            if pending.is_none() && !cancel.is_cancelled() {
                if let Err(e) = Python::attach(|py| py.check_signals()) {
                    cancel.cancel();
                    pending = Some(e);
                }
            }
        };
        rayon::in_place_scope(|s| {
            s.spawn(move |_| {
                let poll = {
                    let tx = tx.clone();
                    move || {
                        let (answer, answered) = std::sync::mpsc::channel();
                        if tx.send(Msg::Poll(answer)).is_ok() {
                            let _ = answered.recv();
                        }
                    }
                };
                // The receiver outlives the scope: a send cannot fail.
                let _ = tx.send(Msg::Done(work(&poll)));
            });
            loop {
                match rx.recv_timeout(SIGNAL_POLL) {
                    Ok(Msg::Done(out)) => break Some(out),
                    Ok(Msg::Poll(answer)) => {
                        check();
                        let _ = answer.send(());
                    }
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => check(),
                    // The work panicked; the scope re-raises its panic.
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break None,
                }
            }
        })
    });
    match out {
        Some(out) => (out, pending),
        None => unreachable!("a panic in the work is re-raised by its scope"),
    }
}

/// How often [`interruptible`] runs the Python signal handlers while its work runs.
const SIGNAL_POLL: std::time::Duration = std::time::Duration::from_millis(20);

/// The error to raise for a computation stopped by `cancel` without a pending Python error.
pub(crate) fn keyboard_interrupt(message: &str) -> PyErr {
    PyKeyboardInterrupt::new_err(message.to_string())
}
