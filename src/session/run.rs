//! A whole training run (`qep run`, `Model.train`) and the free phase of a model without a
//! dataset: resume and force checks, checkpoints after every epoch, the summary.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use serde_json::Value;

use super::{lib, ReportError};
use crate::cancel::Cancel;
use crate::ep::{
    free_phase, gradient_memory, Checkpoint, EpOverrides, EpochMetrics, FreePhase, RunStamp,
    TrainParams, Trainer,
};
use crate::hamiltonian::{Example, Model};
use crate::linalg::{lanczos_memory, LanczosParams};
use crate::report::run_dir::{RunDir, Summary, RUN_FILES};
use crate::report::{check_fresh, Provenance};
use crate::state::MemoryPlan;

/// What a training run is asked for (the options of `qep run`).
#[derive(Clone, Debug)]
pub struct RunRequest {
    /// β, temperature, thermal estimator, samples and eigensolver over the model's settings.
    pub overrides: EpOverrides,
    /// Epochs (the model's `training.epochs` when `None`).
    pub epochs: Option<usize>,
    /// Compare with the oracle every this many epochs (the model's when `None`).
    pub cosine_every: Option<usize>,
    /// The run folder (checkpoint, params, metrics, summary); nothing is written when `None`.
    pub out: Option<PathBuf>,
    /// Continue the run checkpointed in `out`.
    pub resume: bool,
    /// Resume even if the model or settings changed (the changes go into the summary).
    pub force: bool,
    /// Replace a finished run in `out`.
    pub overwrite: bool,
    /// How to go on when `out` already holds a run, in the caller's words.
    pub fresh_remedy: &'static str,
}

/// What a training run reports while it runs.
#[derive(Debug)]
pub enum RunEvent<'a> {
    /// Training starts (or resumes) at `start_epoch` of `epochs`.
    Started {
        /// The first epoch to run is `start_epoch + 1`.
        start_epoch: usize,
        /// The epochs of the whole run.
        epochs: usize,
        /// Training examples per epoch.
        examples: usize,
        /// Whether the run resumes a checkpoint.
        resumed: bool,
        /// The engine computing the gradients.
        engine: &'static str,
        /// The run folder, if any.
        dir: Option<&'a Path>,
        /// With force: what differs from the checkpointed run.
        forced: &'a [String],
    },
    /// With shots and no β chosen for them: the shot-aware β (fitted on the first training
    /// example at the initial θ), before training starts.
    BetaChosen(&'a crate::ep::ShotAwareBeta),
    /// Epoch `epoch` (1-based) starts.
    Epoch {
        /// The epoch.
        epoch: usize,
    },
    /// `done` of the run's `total` example gradients are done (after every mini-batch).
    Progress {
        /// Examples done in this invocation.
        done: u64,
        /// Examples of this invocation.
        total: u64,
    },
    /// An epoch ended (and was checkpointed).
    EpochDone(&'a EpochMetrics),
}

/// The outcome of a training run.
#[derive(Debug)]
pub struct RunReport {
    /// The summary (`summary.json`, what `qep run --json` prints).
    pub summary: Summary,
    /// On a resume of a run that had done all its epochs: the folder's own `summary.json`,
    /// printed in place of `summary` when present.
    pub saved_summary: Option<Value>,
    /// Whether the run had already done all its epochs (nothing was trained).
    pub already_complete: bool,
    /// The trained parameters.
    pub theta: Vec<f64>,
    /// The per-epoch metrics of the whole run.
    pub history: Vec<EpochMetrics>,
    /// The run folder, if any.
    pub dir: Option<PathBuf>,
    /// The settings the run used.
    pub params: TrainParams,
}

impl RunReport {
    /// The summary as printed: the folder's `summary.json` for an already complete run, else
    /// this run's.
    pub fn summary_json(&self) -> Result<Value, ReportError> {
        match &self.saved_summary {
            Some(v) => Ok(v.clone()),
            None => serde_json::to_value(&self.summary).map_err(|e| ReportError::Settings {
                file: PathBuf::from(&self.summary.model),
                message: e.to_string(),
            }),
        }
    }
}

/// Trains `model` from `theta0` by EP with mini-batches (Eq. 28 gradients, the model's
/// optimiser), writing a checkpoint after every epoch to `r.out` when given; `r.resume`
/// continues a checkpointed run (refused if the model or settings changed, unless
/// `r.force`). `event` is told the start, every mini-batch and every epoch; `cancel` stops
/// the run at the next safe point with [`ReportError::Interrupted`] after saving the last
/// completed epoch.
pub fn run_report(
    model: &Model,
    theta0: Vec<f64>,
    r: &RunRequest,
    cancel: Cancel,
    event: &mut dyn FnMut(RunEvent<'_>),
) -> Result<RunReport, ReportError> {
    let t0 = Instant::now();
    let mut params = TrainParams::with_overrides(model, &r.overrides).map_err(lib)?;
    if let Some(e) = r.epochs {
        params.training.epochs = e;
    }
    if let Some(c) = r.cosine_every {
        params.cosine_every = c;
    }
    // With shots, β is fitted at the initial θ on the first example: the same on a resume,
    // so the run's recorded settings still match.
    if let Some(ex) = model.first_example() {
        if let Some(fit) = params
            .ep
            .apply_shot_aware_beta(model, &theta0, &ex)
            .map_err(lib)?
        {
            event(RunEvent::BetaChosen(fit));
        }
    }
    let mut plan = MemoryPlan::new("qep run");
    plan.extend(&gradient_memory(model.qubits, &params.ep, true));
    plan.check().map_err(lib)?;
    let dir = match &r.out {
        Some(out) => {
            if !r.resume {
                check_fresh(out, &RUN_FILES, r.overwrite, r.fresh_remedy).map_err(lib)?;
            }
            Some(RunDir::create(out).map_err(lib)?)
        }
        None => None,
    };
    let epochs = params.training.epochs;
    let mut forced = Vec::new();
    let resume = match (&dir, r.resume) {
        (Some(d), true) => Some(resume_from(
            d,
            model,
            &params,
            &theta0,
            r.force,
            &mut forced,
        )?),
        (None, true) => return Err(ReportError::ResumeWithoutDir),
        (_, false) => None,
    };
    // The untrained network is the chart's first point (epoch 0).
    let dir = match dir {
        Some(d) => Some(d.with_start(start_metrics(model, &theta0, &params)?)),
        None => None,
    };
    let mut trainer = Trainer::with_start(model, params.clone(), theta0, resume).map_err(lib)?;
    trainer.set_cancel(cancel);
    let start_epoch = trainer.epoch();
    let n_train = model.dataset.as_ref().map_or(0, |d| d.train.len());
    let save = |trainer: &Trainer| -> Result<(), ReportError> {
        match &dir {
            Some(d) => d.save_epoch(model, trainer.checkpoint()).map_err(lib),
            None => Ok(()),
        }
    };
    if let (Some(d), true) = (&dir, r.resume && trainer.finished()) {
        let c = trainer.checkpoint();
        let summary = Summary {
            resumed_from: Some(c.epoch),
            forced_changes: forced,
            ..summary_of(model, c, &params)?
        };
        let saved_summary = d.summary().map_err(lib)?;
        if saved_summary.is_none() {
            d.save_summary(&summary).map_err(lib)?;
        }
        return Ok(RunReport {
            summary,
            saved_summary,
            already_complete: true,
            theta: c.theta.clone(),
            history: c.history.clone(),
            dir: Some(d.path().to_path_buf()),
            params,
        });
    }
    // A checkpoint from the start: a run stopped during its first epoch can be resumed too.
    save(&trainer)?;
    event(RunEvent::Started {
        start_epoch,
        epochs,
        examples: n_train,
        resumed: r.resume,
        engine: trainer.engine().name(),
        dir: dir.as_ref().map(RunDir::path),
        forced: &forced,
    });
    let total = (epochs.saturating_sub(start_epoch) * n_train) as u64;
    let batch = params.training.batch_size.max(1);
    while !trainer.finished() {
        let e = trainer.epoch() + 1;
        event(RunEvent::Epoch { epoch: e });
        let base = ((e - 1 - start_epoch) * n_train) as u64;
        let m = trainer.run_epoch(|done, _| {
            event(RunEvent::Progress {
                done: base + (done * batch).min(n_train) as u64,
                total,
            })
        });
        let m = match m {
            Ok(m) => m.clone(),
            Err(crate::ep::TrainError::Cancelled(_)) => {
                // The trainer holds the last completed epoch: save it (again) and stop.
                save(&trainer)?;
                return Err(ReportError::Interrupted {
                    epoch: trainer.epoch(),
                    dir: dir.as_ref().map(|d| d.path().to_path_buf()),
                    theta: trainer.checkpoint().theta.clone(),
                });
            }
            Err(e) => return Err(lib(e)),
        };
        save(&trainer)?;
        event(RunEvent::EpochDone(&m));
    }
    let c = trainer.checkpoint();
    let wall = t0.elapsed().as_secs_f64();
    let epochs_run = (c.epoch - start_epoch).max(1);
    let summary = Summary {
        wall_seconds: wall,
        seconds_per_example: wall / (epochs_run * n_train) as f64,
        resumed_from: r.resume.then_some(start_epoch),
        forced_changes: forced,
        ..summary_of(model, c, &params)?
    };
    if let Some(d) = &dir {
        d.save_summary(&summary).map_err(lib)?;
    }
    Ok(RunReport {
        summary,
        saved_summary: None,
        already_complete: false,
        theta: c.theta.clone(),
        history: c.history.clone(),
        dir: dir.as_ref().map(|d| d.path().to_path_buf()),
        params,
    })
}

/// The checkpoint of `d` to resume from, checked against the model and settings of this
/// invocation; with `force`, the changes are accepted and recorded in `forced`.
fn resume_from(
    d: &RunDir,
    model: &Model,
    params: &TrainParams,
    theta0: &[f64],
    force: bool,
    forced: &mut Vec<String>,
) -> Result<Checkpoint, ReportError> {
    let mut c = d
        .checkpoint()
        .map_err(lib)?
        .ok_or_else(|| ReportError::NoCheckpoint {
            dir: d.path().to_path_buf(),
        })?;
    let now = RunStamp::new(model, params, theta0);
    let changes = match &c.stamp {
        Some(s) => s.changes(&now),
        None => vec!["the checkpoint records no settings (written by an older qep)".into()],
    };
    if !changes.is_empty() {
        if !force {
            return Err(ReportError::Changed {
                checkpoint: d.path().join("checkpoint.json"),
                changes,
            });
        }
        c.stamp = Some(now);
        *forced = changes;
    }
    if c.epoch > params.training.epochs {
        return Err(ReportError::BeyondEpochs {
            checkpoint: d.path().join("checkpoint.json"),
            epoch: c.epoch,
            epochs: params.training.epochs,
        });
    }
    Ok(c)
}

/// The summary of the run in checkpoint `c` (timings zero; the caller fills them).
fn summary_of(model: &Model, c: &Checkpoint, params: &TrainParams) -> Result<Summary, ReportError> {
    let last = c.history.last();
    let finite = |x: f64| x.is_finite().then_some(x);
    let settings = serde_json::to_value(params).map_err(|e| ReportError::Settings {
        file: model.source.path.clone(),
        message: e.to_string(),
    })?;
    Ok(Summary {
        model: model.name.clone(),
        epochs: c.epoch,
        final_cost: last.map_or(f64::NAN, |m| m.train_cost),
        train_accuracy: last.map_or(f64::NAN, |m| m.train_accuracy),
        test_accuracy: last.and_then(|m| finite(m.test_accuracy)),
        test_cost: last.and_then(|m| finite(m.test_cost)),
        wall_seconds: 0.0,
        seconds_per_example: 0.0,
        resumed_from: None,
        forced_changes: Vec::new(),
        provenance: Provenance::new(
            Some(&model.source.path),
            Some(model.source.sha256.clone()),
            Some(params.seed),
            settings,
        ),
    })
}

/// The free phase of a model without a dataset (`qep run` on it): its first example (or no
/// inputs), the eigenstate, its energy and gap, and `⟨Z_i⟩` on the outputs.
#[derive(Debug, Serialize)]
pub struct FreeReport {
    /// Model name.
    pub model: String,
    /// Qubits.
    pub qubits: usize,
    /// The example solved for (none without inputs).
    pub example: Option<Example>,
    /// The free phase.
    #[serde(flatten)]
    pub free: FreePhase,
}

/// The free phase (Eq. 18 at β = 0) of `model` at `theta` for its first example, after a
/// memory check of the solver's buffers. `stage` as in [`super::grad_report`] (announced
/// from 18 qubits).
pub fn free_report(
    model: &Model,
    theta: &[f64],
    lanczos: &LanczosParams,
    stage: &mut dyn FnMut(Option<&str>),
) -> Result<FreeReport, ReportError> {
    let example = model.first_example();
    let mut plan = MemoryPlan::new("qep run (free phase)");
    plan.add_n(
        "operator diagonals",
        2,
        crate::state::memory::state_bytes(model.qubits, 16),
    )
    .extend(&lanczos_memory(model.qubits, 16, lanczos));
    plan.check().map_err(lib)?;
    let long = model.qubits >= 18;
    if long {
        stage(Some(&format!("free phase on {} qubits", model.qubits)));
    }
    let free = free_phase(model, theta, example.as_ref(), lanczos);
    if long {
        stage(None);
    }
    let out = FreeReport {
        model: model.name.clone(),
        qubits: model.qubits,
        example,
        free: free.map_err(lib)?,
    };
    crate::finite::check_finite(&out, &model.source.path.display().to_string()).map_err(lib)?;
    Ok(out)
}

/// Cost and accuracy of `theta0` on the training and test sets, as an epoch-0 row (no
/// gradient, learning rate or time).
fn start_metrics(
    model: &Model,
    theta0: &[f64],
    params: &TrainParams,
) -> Result<EpochMetrics, ReportError> {
    let ds = model.dataset.as_ref();
    let eval = |ex: &[Example]| crate::ep::evaluate(model, theta0, ex, &params.ep).map_err(lib);
    let (train_cost, train_accuracy) = eval(ds.map_or(&[], |d| &d.train))?;
    let (test_cost, test_accuracy) = eval(ds.map_or(&[], |d| &d.test))?;
    Ok(EpochMetrics {
        epoch: 0,
        train_cost,
        train_accuracy,
        test_cost,
        test_accuracy,
        grad_norm: f64::NAN,
        learning_rate: f64::NAN,
        cosine: None,
        seconds: 0.0,
        shots: 0,
        snr: None,
    })
}
