//! Training a quantum network by equilibrium propagation: mini-batches of EP gradients
//! (Eq. 28), SGD with momentum or Adam, a per-epoch learning-rate decay, an optional L2
//! penalty on the parameters (`weight_decay`), and metrics.
//! With `temperature: T` the network is the Gibbs state at `T` instead of an eigenstate
//! (Section IV): prediction `⟨Z_out⟩_T`, cost `⟨C⟩_T`, gradient from the estimator the model's
//! `thermal_gradient` names ([`super::thermal::thermal_gradient`]).
//!
//! Everything random (the order of the examples in each epoch) comes from the model's seed,
//! one ChaCha8 stream per epoch, so a run resumed from a checkpoint after epoch `e` continues
//! exactly as the uninterrupted run would: the same seed gives the same bits.

use std::time::Instant;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::cancel::Cancel;
use crate::hamiltonian::{Example, Model, ModelKind, Training};

use super::checkpoint::{Checkpoint, EpochMetrics, RunStamp};
use super::optimizer::{add_weight_decay, update};

use crate::ep::engine::{Engine, Gradient};
use crate::ep::params::{EpError, EpOverrides, EpParams};
use crate::ep::quantum::{compare, EpWorkspace};
use crate::ep::thermal::{ThermalError, ThermalMethod, ThermalParams};

/// Settings of a training run.
#[derive(Clone, Debug, Serialize)]
pub struct TrainParams {
    /// Optimiser, learning rate, momentum, batch size, epochs, decay (the model's `training`).
    pub training: Training,
    /// EP settings (β, level, solver tolerances).
    pub ep: EpParams,
    /// Seed of the example order (the model's `seed` by default).
    pub seed: u64,
    /// Every this many epochs, also compute the exact gradient of one batch and log the
    /// EP-vs-oracle cosine similarity (0 = never).
    pub cosine_every: usize,
    /// Thermal case (`temperature` in the model, quantum models): Gibbs state, temperature,
    /// gradient estimator, method. `None`: the eigenstate of `state`.
    pub thermal: Option<ThermalParams>,
}

impl TrainParams {
    /// The settings a model file asks for: its `training` section (defaults otherwise), its
    /// `beta` (default [`EpParams::DEFAULT_BETA`]), its `state`, its `seed`, its temperature.
    pub fn from_model(model: &Model) -> Self {
        Self::with_ep(model, EpParams::resolve(model, &EpOverrides::default()))
    }

    /// The settings of `model` with the caller's overrides of its EP settings, validated
    /// ([`EpParams::from_model`]).
    ///
    /// # Errors
    /// As [`EpParams::from_model`].
    pub fn with_overrides(model: &Model, o: &EpOverrides) -> Result<Self, EpError> {
        Ok(Self::with_ep(model, EpParams::from_model(model, o)?))
    }

    fn with_ep(model: &Model, ep: EpParams) -> Self {
        Self {
            training: model.settings.training.clone().unwrap_or_default(),
            thermal: ep.thermal.clone(),
            ep,
            seed: model.seed,
            cosine_every: 0,
        }
    }
}

/// A training run in progress.
pub struct Trainer<'a> {
    model: &'a Model,
    params: TrainParams,
    train: Vec<Example>,
    test: Vec<Example>,
    state: Checkpoint,
    engine: Engine,
    cancel: Cancel,
    /// The solvers' vectors, kept across examples and epochs.
    workspace: EpWorkspace,
}

/// Errors of the training loop.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The model has no dataset (or an empty training set).
    #[error("model `{model}` has no training examples; expected a `dataset` with at least one training row")]
    NoData {
        /// Model name.
        model: String,
    },
    /// A checkpoint that does not fit the model.
    #[error("checkpoint has {got} parameters; the model has {expected}")]
    CheckpointMismatch {
        /// Parameters in the checkpoint.
        got: usize,
        /// Parameters of the model.
        expected: usize,
    },
    /// A checkpoint made with another model, dataset, initial parameters or settings.
    #[error("the checkpoint was made with other settings: {}; expected the model and settings of the checkpointed run", changes.join("; "))]
    CheckpointChanged {
        /// One line per difference, `key: old → new`.
        changes: Vec<String>,
    },
    /// A checkpoint without a record of its settings (written by an older qep).
    #[error("the checkpoint records no settings (written by an older qep), so it cannot be checked against this run; expected a checkpoint with a `stamp`")]
    CheckpointUnstamped,
    /// A checkpoint further than the epochs asked for.
    #[error("the checkpoint is at epoch {epoch}, beyond the {epochs} epochs asked for; expected at least {epoch} epochs")]
    CheckpointBeyond {
        /// Completed epochs in the checkpoint.
        epoch: usize,
        /// Epochs asked for.
        epochs: usize,
    },
    /// Thermal training with `shots`: not implemented (the thermal estimators use exact or
    /// typicality expectations).
    #[error("thermal training (temperature {temperature}) with `shots` is not supported; remove `shots` or `temperature`")]
    ThermalShots {
        /// The model's temperature.
        temperature: f64,
    },
    /// A weight decay that is negative or not finite (`--weight-decay`; the model file's is
    /// checked on load).
    #[error("weight decay {0} is out of range; expected a finite λ ≥ 0")]
    WeightDecay(f64),
    /// A numerical blow-up (NaN/∞ gradient or cost).
    #[error("epoch {epoch}: the {what} is not finite; lower the learning rate or β")]
    NotFinite {
        /// Epoch.
        epoch: usize,
        /// What blew up.
        what: &'static str,
    },
    /// The engine failed on an example (its settings, a state, a gradient).
    #[error(transparent)]
    Ep(#[from] EpError),
    /// The run stopped at a safe point because its cancellation flag was set.
    #[error(transparent)]
    Cancelled(#[from] crate::cancel::Cancelled),
}

impl From<ThermalError> for TrainError {
    fn from(e: ThermalError) -> Self {
        Self::Ep(e.into())
    }
}

/// Whether the prediction `⟨Z⟩` on the outputs gets the target right: the sign for one
/// output, the argmax for several (one-hot targets).
pub fn correct(z: &[f64], targets: &[f64]) -> bool {
    if z.len() == 1 {
        return (z[0] >= 0.0) == (targets[0] >= 0.0);
    }
    let argmax = |v: &[f64]| {
        v.iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i)
            .unwrap_or(0)
    };
    argmax(z) == argmax(targets)
}

/// Mean free-phase cost and accuracy of `theta` on `examples` (NaN, NaN for none), for a
/// quantum or a classical (`kind: classical`) model; a quantum model with `temperature` is
/// evaluated in its Gibbs state ([`TrainParams::from_model`]'s thermal settings).
///
/// # Errors
/// Model, memory and solver errors of [`free_phase`](crate::ep::free_phase); classical relaxation errors; thermal
/// errors.
pub fn evaluate(
    model: &Model,
    theta: &[f64],
    examples: &[Example],
    params: &EpParams,
) -> Result<(f64, f64), TrainError> {
    // A model with a temperature is evaluated in its Gibbs state even when `params` has no
    // thermal settings of its own.
    let mut params = params.clone();
    if params.thermal.is_none() {
        params.thermal = TrainParams::from_model(model).thermal;
    }
    evaluate_with(
        &Engine::for_model(model, &params)?,
        model,
        theta,
        examples,
        &params,
        None,
    )
}

/// [`evaluate`] with a given engine; checks `cancel` before each example.
fn evaluate_with(
    engine: &Engine,
    model: &Model,
    theta: &[f64],
    examples: &[Example],
    params: &EpParams,
    cancel: Option<&Cancel>,
) -> Result<(f64, f64), TrainError> {
    if examples.is_empty() {
        return Ok((f64::NAN, f64::NAN));
    }
    // Split over the ranks, summed in example order: the same metrics on any rank count.
    let each = crate::dist::map_ordered(crate::dist::world(), examples.len(), |i| {
        if let Some(c) = cancel {
            c.check()?;
        }
        let ex = &examples[i];
        let f = engine.predict(model, theta, ex, params)?;
        Ok::<_, TrainError>((f.cost, correct(&f.z_outputs, &ex.targets)))
    })?;
    let (mut cost, mut right) = (0.0, 0usize);
    for (c, ok) in each {
        cost += c;
        right += usize::from(ok);
    }
    let n = examples.len() as f64;
    Ok((cost / n, right as f64 / n))
}

impl<'a> Trainer<'a> {
    /// A fresh run from the model's initial parameters, or from `resume`. A `kind: classical`
    /// model trains the classical network of Section II ([`classical`](crate::ep::classical)).
    ///
    /// # Errors
    /// As [`Trainer::with_start`] with the model's own initial parameters.
    pub fn new(
        model: &'a Model,
        params: TrainParams,
        resume: Option<Checkpoint>,
    ) -> Result<Self, TrainError> {
        Self::with_start(model, params, model.theta(), resume)
    }

    /// A run that starts (or started, for `resume`) from `theta0`. A resumed checkpoint must
    /// record the same run: its [`RunStamp`] must equal the stamp of `model`, `params` and
    /// `theta0` (replace it with [`Checkpoint::stamp`] to continue under new settings on
    /// purpose), and it must not be beyond `params.training.epochs`.
    ///
    /// # Errors
    /// [`TrainError::NoData`] without training examples; [`TrainError::CheckpointMismatch`],
    /// [`TrainError::CheckpointChanged`], [`TrainError::CheckpointUnstamped`],
    /// [`TrainError::CheckpointBeyond`] for a checkpoint of another run;
    /// [`TrainError::WeightDecay`] for a negative or non-finite weight decay; a classical model
    /// with X or Y terms; thermal settings that cannot run (Kubo–Mori or the cosine oracle
    /// above the dense limit, [`TrainError::ThermalShots`]).
    pub fn with_start(
        model: &'a Model,
        mut params: TrainParams,
        theta0: Vec<f64>,
        resume: Option<Checkpoint>,
    ) -> Result<Self, TrainError> {
        let Some(d) = model.dataset.as_ref().filter(|d| !d.train.is_empty()) else {
            return Err(TrainError::NoData {
                model: model.name.clone(),
            });
        };
        let wd = params.training.weight_decay;
        if !(wd.is_finite() && wd >= 0.0) {
            return Err(TrainError::WeightDecay(wd));
        }
        let k = model.params.len();
        if theta0.len() != k {
            return Err(TrainError::CheckpointMismatch {
                got: theta0.len(),
                expected: k,
            });
        }
        let state = match resume {
            Some(c) => {
                if c.theta.len() != k {
                    return Err(TrainError::CheckpointMismatch {
                        got: c.theta.len(),
                        expected: k,
                    });
                }
                let Some(stamp) = &c.stamp else {
                    return Err(TrainError::CheckpointUnstamped);
                };
                let changes = stamp.changes(&RunStamp::new(model, &params, &theta0));
                if !changes.is_empty() {
                    return Err(TrainError::CheckpointChanged { changes });
                }
                if c.epoch > params.training.epochs {
                    return Err(TrainError::CheckpointBeyond {
                        epoch: c.epoch,
                        epochs: params.training.epochs,
                    });
                }
                c
            }
            None => Checkpoint::start(model, &params, theta0),
        };
        if let (ModelKind::Quantum, Some(t)) = (model.kind, params.thermal.as_ref()) {
            if params.ep.shots.is_some() {
                return Err(TrainError::ThermalShots {
                    temperature: t.temperature,
                });
            }
            t.resolve(model.qubits)?;
            if params.cosine_every > 0 {
                // The cosine's oracle is the dense Kubo–Mori gradient.
                ThermalParams {
                    method: ThermalMethod::Dense,
                    ..t.clone()
                }
                .resolve(model.qubits)?;
            }
        }
        // `thermal` is the setting a run records; the engine reads it from the EP settings.
        params.ep.thermal = params.thermal.clone();
        Ok(Self {
            engine: Engine::for_model(model, &params.ep)?,
            model,
            params,
            train: d.train.clone(),
            test: d.test.clone(),
            state,
            cancel: Cancel::default(),
            workspace: EpWorkspace::default(),
        })
    }

    /// Makes the run stop at its next safe point (before an example's gradient or
    /// evaluation) once `cancel` is set: [`Trainer::run_epoch`] then returns
    /// [`TrainError::Cancelled`] and the state stays that of the last completed epoch.
    pub fn set_cancel(&mut self, cancel: Cancel) {
        self.cancel = cancel;
    }

    /// The state after the last completed epoch.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.state
    }

    /// Completed epochs.
    pub fn epoch(&self) -> usize {
        self.state.epoch
    }

    /// Whether the configured number of epochs is done.
    pub fn finished(&self) -> bool {
        self.state.epoch >= self.params.training.epochs
    }

    /// The settings.
    pub fn params(&self) -> &TrainParams {
        &self.params
    }

    /// One epoch: shuffle (seeded per epoch), one update per mini-batch with the mean EP
    /// gradient of its examples (plus `2λθ` with weight decay λ, the gradient of
    /// [`weight_decay_penalty`](super::weight_decay_penalty)), then the metrics on the
    /// training and test sets (the data cost, without the penalty).
    /// `on_batch(done, total)` is called after each batch (for progress bars). The epoch works
    /// on a copy of the parameters and optimiser state and commits them only when it
    /// completes, so after any error the trainer still holds the last completed epoch.
    ///
    /// # Errors
    /// EP, model, memory and solver errors; [`TrainError::NotFinite`] on a blow-up;
    /// [`TrainError::Cancelled`] when the cancellation flag ([`Trainer::set_cancel`]) is set.
    pub fn run_epoch(
        &mut self,
        mut on_batch: impl FnMut(usize, usize),
    ) -> Result<&EpochMetrics, TrainError> {
        let t0 = Instant::now();
        let epoch = self.state.epoch + 1;
        let tr = &self.params.training;
        let lr = tr.learning_rate * tr.lr_decay.powi((epoch - 1) as i32);
        let mut order: Vec<usize> = (0..self.train.len()).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(self.params.seed);
        rng.set_stream(3 << 32 | epoch as u64);
        order.shuffle(&mut rng);
        let batches: Vec<&[usize]> = order.chunks(tr.batch_size.max(1)).collect();
        let mut theta = self.state.theta.clone();
        let mut opt = self.state.optimizer.clone();
        let k = theta.len();
        let mut grad_norms = 0.0;
        let mut cosine = None;
        let mut shots = self.state.history.last().map_or(0, |m| m.shots);
        let (mut snr_sum, mut snr_n) = (0.0, 0usize);
        for (bi, batch) in batches.iter().enumerate() {
            let mut g = vec![0.0; k];
            let mut var = vec![0.0; k];
            let mut exact = vec![0.0; k];
            let want_cos = self.params.cosine_every > 0
                && bi == 0
                && (epoch - 1).is_multiple_of(self.params.cosine_every);
            // Data parallel: the batch's examples are split over the ranks and their
            // gradients gathered in batch order, then summed exactly as one process sums
            // them, so θ and the metrics do not depend on the number of ranks.
            let (model, engine, run) = (self.model, &self.engine, &self.params);
            let (train, cancel, workspace) = (&self.train, &self.cancel, &mut self.workspace);
            let per_example = crate::dist::map_ordered(crate::dist::world(), batch.len(), |j| {
                cancel.check()?;
                let i = batch[j];
                let ex = &train[i];
                // Fresh shots for every example of every epoch, all from the run's seed.
                let mut ep = run.ep.clone();
                ep.shot_seed =
                    run.ep.shot_seed ^ ((epoch as u64) << 40) ^ ((bi as u64) << 20) ^ i as u64;
                // Fresh random vectors per example and epoch, from the run's seed.
                if let Some(t) = ep.thermal.as_mut() {
                    t.typicality.seed ^= ep.shot_seed;
                }
                ep.exact = false;
                // Training reads no gap: the free level's neighbour is not solved for.
                ep.gap = false;
                let Gradient {
                    ep: e,
                    shots_total,
                    ep_std: std,
                    ..
                } = engine.gradient_in(model, &theta, ex, &ep, workspace)?;
                // The cosine's reference: the engine's exact gradient of the example.
                let oracle = if want_cos {
                    Some(engine.exact(model, &theta, ex, &run.ep)?)
                } else {
                    None
                };
                Ok::<_, TrainError>((e, shots_total, std, oracle))
            })?;
            for (e, shots_total, std, oracle) in per_example {
                shots += shots_total.unwrap_or(0);
                for (a, b) in g.iter_mut().zip(&e) {
                    *a += b / batch.len() as f64;
                }
                if let Some(sd) = std {
                    // Independent shots per example: variances of the batch mean add.
                    let b2 = (batch.len() * batch.len()) as f64;
                    for (v, s) in var.iter_mut().zip(&sd) {
                        *v += s * s / b2;
                    }
                }
                if let Some(o) = oracle {
                    for (a, b) in exact.iter_mut().zip(&o) {
                        *a += b / batch.len() as f64;
                    }
                }
            }
            if want_cos {
                cosine = Some(compare(&g, &exact).0);
            }
            let gn = g.iter().map(|x| x * x).sum::<f64>().sqrt();
            if !gn.is_finite() {
                return Err(TrainError::NotFinite {
                    epoch,
                    what: "gradient",
                });
            }
            grad_norms += gn;
            let noise = var.iter().sum::<f64>().sqrt();
            if noise > 0.0 {
                snr_sum += gn / noise;
                snr_n += 1;
            }
            // |g| above is the data cost's; the step descends the penalised cost.
            add_weight_decay(&mut g, &theta, self.params.training.weight_decay);
            update(&self.params.training, &mut theta, &mut opt, &g, lr);
            on_batch(bi + 1, batches.len());
        }
        let cancel = Some(&self.cancel);
        let (train_cost, train_accuracy) = evaluate_with(
            &self.engine,
            self.model,
            &theta,
            &self.train,
            &self.params.ep,
            cancel,
        )?;
        let (test_cost, test_accuracy) = evaluate_with(
            &self.engine,
            self.model,
            &theta,
            &self.test,
            &self.params.ep,
            cancel,
        )?;
        if !train_cost.is_finite() {
            return Err(TrainError::NotFinite {
                epoch,
                what: "cost",
            });
        }
        self.state.theta = theta;
        self.state.optimizer = opt;
        self.state.epoch = epoch;
        self.state.history.push(EpochMetrics {
            epoch,
            train_cost,
            train_accuracy,
            test_cost,
            test_accuracy,
            grad_norm: grad_norms / batches.len() as f64,
            learning_rate: lr,
            cosine,
            seconds: t0.elapsed().as_secs_f64(),
            shots,
            snr: (snr_n > 0).then(|| snr_sum / snr_n as f64),
        });
        Ok(self.state.history.last().expect("just pushed"))
    }
}

impl Trainer<'_> {
    /// The engine the run trains with.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}
