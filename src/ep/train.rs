//! Training a quantum network by equilibrium propagation: mini-batches of EP gradients
//! (Eq. 28), SGD with momentum or Adam, a per-epoch learning-rate decay, and metrics.
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
use serde::{Deserialize, Serialize};

use crate::hamiltonian::{
    Adiabatic, Example, Model, ModelKind, Optimizer, Preparation, StateChoice, ThermalGradient,
    Training,
};
use crate::Error;

use super::classical::{ClassicalNet, ClassicalParams};
use super::gradient::{compare, ep_gradient, exact_gradient, EpParams};
use super::prepared::{ep_gradient_prepared, prepared_free_phase};
use super::quantum::free_phase;
use super::thermal::{thermal_gradient, thermal_prediction, ThermalMethod, ThermalParams};

/// One example's EP gradient, the shots it spent and (with shots) its standard errors.
struct ExampleGradient {
    ep: Vec<f64>,
    shots: u64,
    std: Option<Vec<f64>>,
}

/// What computes the states: the quantum eigenstate (`kind: quantum`), the quantum Gibbs state
/// (`kind: quantum` with `temperature`) or the classical relaxed network of Section II
/// (`kind: classical`), behind one interface.
enum Engine {
    Quantum,
    /// Eigenstates prepared by adiabatic sweeps (`preparation: adiabatic`).
    Prepared(Adiabatic),
    Thermal(ThermalParams),
    Classical(Box<ClassicalNet>),
}

impl Engine {
    fn new(model: &Model, thermal: Option<&ThermalParams>) -> Result<Self, Error> {
        Ok(match (model.kind, thermal) {
            (ModelKind::Quantum, None) => match &model.settings.preparation {
                Preparation::Adiabatic(ad) => Engine::Prepared(ad.clone()),
                _ => Engine::Quantum,
            },
            (ModelKind::Quantum, Some(t)) => Engine::Thermal(t.clone()),
            (ModelKind::Classical, _) => Engine::Classical(Box::new(ClassicalNet::new(
                model,
                ClassicalParams::default(),
            )?)),
        })
    }

    /// The EP estimate of `dC/dθ` for one example, and the shots it spent.
    fn gradient(
        &self,
        m: &Model,
        theta: &[f64],
        ex: &Example,
        p: &EpParams,
    ) -> Result<ExampleGradient, Error> {
        Ok(match self {
            Engine::Quantum => {
                let g = ep_gradient(m, theta, ex, p)?;
                ExampleGradient {
                    ep: g.ep,
                    shots: g.shots_total.unwrap_or(0),
                    std: g.ep_std,
                }
            }
            Engine::Prepared(ad) => {
                let g = ep_gradient_prepared(m, theta, ex, p, ad, false)?;
                let groups = crate::measure::best_grouping(
                    &m.params.iter().map(|q| q.pauli).collect::<Vec<_>>(),
                )
                .n_groups() as u64;
                ExampleGradient {
                    ep: g.ep,
                    shots: p.shots.map_or(0, |s| 2 * s * groups),
                    std: g.ep_std,
                }
            }
            Engine::Thermal(t) => {
                // Fresh random vectors per example and epoch, from the run's seed.
                let mut t = t.clone();
                t.typicality.seed ^= p.shot_seed;
                ExampleGradient {
                    ep: thermal_gradient(m, theta, ex, &t, p.beta)?.gradient,
                    shots: 0,
                    std: None,
                }
            }
            Engine::Classical(net) => ExampleGradient {
                ep: net.ep_gradient(theta, ex, p.beta, p.one_sided)?.gradient,
                shots: 0,
                std: None,
            },
        })
    }

    /// The exact gradient (quantum oracle, or implicit differentiation, Eq. 49).
    fn exact(
        &self,
        m: &Model,
        theta: &[f64],
        ex: &Example,
        p: &EpParams,
    ) -> Result<Vec<f64>, Error> {
        Ok(match self {
            // The oracle of the prepared engine is the exact-eigenstate gradient: the cosine
            // then measures what the imperfect preparation costs.
            Engine::Quantum | Engine::Prepared(_) => exact_gradient(m, theta, ex, p)?.exact,
            Engine::Thermal(t) => {
                // The Kubo–Mori covariance is the exact thermal gradient (dense).
                let exact = ThermalParams {
                    estimator: ThermalGradient::KuboMori,
                    method: ThermalMethod::Dense,
                    ..t.clone()
                };
                thermal_gradient(m, theta, ex, &exact, p.beta)?.gradient
            }
            Engine::Classical(net) => net.implicit_gradient(theta, ex)?.gradient,
        })
    }

    /// The prediction on the outputs and the cost of one example.
    fn predict(
        &self,
        m: &Model,
        theta: &[f64],
        ex: &Example,
        p: &EpParams,
    ) -> Result<(Vec<f64>, f64), Error> {
        Ok(match self {
            Engine::Quantum => {
                let f = free_phase(m, theta, Some(ex), &p.lanczos)?;
                (f.z_outputs, f.cost.unwrap_or(f64::NAN))
            }
            Engine::Prepared(ad) => {
                let f = prepared_free_phase(m, theta, ex, p.level, ad)?;
                (f.z_outputs, f.cost)
            }
            Engine::Thermal(t) => thermal_prediction(m, theta, ex, t)?,
            Engine::Classical(net) => {
                let f = net.predict(theta, ex)?;
                (f.z_outputs, f.cost.unwrap_or(f64::NAN))
            }
        })
    }
}

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
    /// `beta` (default 0.01), its `state`, its `seed`.
    pub fn from_model(model: &Model) -> Self {
        let level = match model.settings.state {
            StateChoice::Ground => 0,
            StateChoice::Eigen(k) => k,
        };
        Self {
            training: model.settings.training.clone().unwrap_or_default(),
            ep: EpParams {
                beta: model.settings.beta.unwrap_or(0.01),
                level,
                shots: model.settings.shots,
                shot_seed: model.seed,
                ..EpParams::default()
            },
            seed: model.seed,
            cosine_every: 0,
            thermal: model.settings.temperature.map(|t| {
                ThermalParams::new(
                    t,
                    model
                        .settings
                        .thermal_gradient
                        .unwrap_or(ThermalGradient::Clamped),
                    model.seed,
                )
            }),
        }
    }
}

/// The metrics of one epoch (a row of `metrics.csv`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct EpochMetrics {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Mean free-phase cost `⟨C⟩` over the training set, after the epoch's updates.
    pub train_cost: f64,
    /// Fraction of training examples classified right (sign, or argmax for one-hot targets).
    pub train_accuracy: f64,
    /// Mean cost over the test set (NaN without a test set).
    pub test_cost: f64,
    /// Test accuracy (NaN without a test set).
    pub test_accuracy: f64,
    /// Mean norm of the batch gradients of the epoch.
    pub grad_norm: f64,
    /// Learning rate used in the epoch.
    pub learning_rate: f64,
    /// EP-vs-exact cosine similarity of the epoch's first batch, when computed.
    pub cosine: Option<f64>,
    /// Wall time of the epoch, seconds.
    pub seconds: f64,
    /// Measurement shots spent so far in the run (0 with exact expectations).
    #[serde(default)]
    pub shots: u64,
    /// With shots: the mean over batches of the signal-to-noise ratio `‖g‖ / ‖σ_g‖` of the
    /// batch gradient, `σ_g` from the shots' own standard errors.
    #[serde(default)]
    pub snr: Option<f64>,
}

/// Optimiser state: what must be saved to resume bit for bit.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct OptimizerState {
    /// Updates made so far.
    pub step: u64,
    /// SGD velocity or Adam's first moment.
    pub m: Vec<f64>,
    /// Adam's second moment.
    pub v: Vec<f64>,
}

/// Everything needed to continue a run after its last completed epoch.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Checkpoint {
    /// Completed epochs.
    pub epoch: usize,
    /// Parameters after that epoch.
    pub theta: Vec<f64>,
    /// Optimiser state after that epoch.
    pub optimizer: OptimizerState,
    /// Metrics of every completed epoch.
    pub history: Vec<EpochMetrics>,
}

/// A training run in progress.
pub struct Trainer<'a> {
    model: &'a Model,
    params: TrainParams,
    train: Vec<Example>,
    test: Vec<Example>,
    state: Checkpoint,
    engine: Engine,
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
    /// Thermal training with `shots`: not implemented (the thermal estimators use exact or
    /// typicality expectations).
    #[error("thermal training (temperature {temperature}) with `shots` is not supported; remove `shots` or `temperature`")]
    ThermalShots {
        /// The model's temperature.
        temperature: f64,
    },
    /// A numerical blow-up (NaN/∞ gradient or cost).
    #[error("epoch {epoch}: the {what} is not finite; lower the learning rate or β")]
    NotFinite {
        /// Epoch.
        epoch: usize,
        /// What blew up.
        what: &'static str,
    },
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
/// Model, memory and solver errors of [`free_phase`]; classical relaxation errors; thermal
/// errors.
pub fn evaluate(
    model: &Model,
    theta: &[f64],
    examples: &[Example],
    params: &EpParams,
) -> Result<(f64, f64), Error> {
    let thermal = TrainParams::from_model(model).thermal;
    evaluate_with(
        &Engine::new(model, thermal.as_ref())?,
        model,
        theta,
        examples,
        params,
    )
}

fn evaluate_with(
    engine: &Engine,
    model: &Model,
    theta: &[f64],
    examples: &[Example],
    params: &EpParams,
) -> Result<(f64, f64), Error> {
    if examples.is_empty() {
        return Ok((f64::NAN, f64::NAN));
    }
    let (mut cost, mut right) = (0.0, 0usize);
    for ex in examples {
        let (z, c) = engine.predict(model, theta, ex, params)?;
        cost += c;
        right += usize::from(correct(&z, &ex.targets));
    }
    let n = examples.len() as f64;
    Ok((cost / n, right as f64 / n))
}

impl<'a> Trainer<'a> {
    /// A fresh run from the model's initial parameters, or from `resume`. A `kind: classical`
    /// model trains the classical network of Section II ([`super::classical`]).
    ///
    /// # Errors
    /// [`TrainError::NoData`] without training examples; [`TrainError::CheckpointMismatch`];
    /// a classical model with X or Y terms; thermal settings that cannot run (Kubo–Mori or the
    /// cosine oracle above the dense limit, [`TrainError::ThermalShots`]).
    pub fn new(
        model: &'a Model,
        params: TrainParams,
        resume: Option<Checkpoint>,
    ) -> Result<Self, Error> {
        let Some(d) = model.dataset.as_ref().filter(|d| !d.train.is_empty()) else {
            return Err(TrainError::NoData {
                model: model.name.clone(),
            }
            .into());
        };
        let k = model.params.len();
        let state = match resume {
            Some(c) if c.theta.len() != k => {
                return Err(TrainError::CheckpointMismatch {
                    got: c.theta.len(),
                    expected: k,
                }
                .into())
            }
            Some(c) => c,
            None => Checkpoint {
                epoch: 0,
                theta: model.theta(),
                optimizer: OptimizerState {
                    step: 0,
                    m: vec![0.0; k],
                    v: vec![0.0; k],
                },
                history: Vec::new(),
            },
        };
        if let (ModelKind::Quantum, Some(t)) = (model.kind, params.thermal.as_ref()) {
            if params.ep.shots.is_some() {
                return Err(TrainError::ThermalShots {
                    temperature: t.temperature,
                }
                .into());
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
        Ok(Self {
            engine: Engine::new(model, params.thermal.as_ref())?,
            model,
            params,
            train: d.train.clone(),
            test: d.test.clone(),
            state,
        })
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
    /// gradient of its examples, then the metrics on the training and test sets.
    /// `on_batch(done, total)` is called after each batch (for progress bars).
    ///
    /// # Errors
    /// EP, model, memory and solver errors; [`TrainError::NotFinite`] on a blow-up.
    pub fn run_epoch(
        &mut self,
        mut on_batch: impl FnMut(usize, usize),
    ) -> Result<&EpochMetrics, Error> {
        let t0 = Instant::now();
        let epoch = self.state.epoch + 1;
        let tr = &self.params.training;
        let lr = tr.learning_rate * tr.lr_decay.powi((epoch - 1) as i32);
        let mut order: Vec<usize> = (0..self.train.len()).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(self.params.seed);
        rng.set_stream(3 << 32 | epoch as u64);
        order.shuffle(&mut rng);
        let batches: Vec<&[usize]> = order.chunks(tr.batch_size.max(1)).collect();
        let k = self.state.theta.len();
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
            for &i in batch.iter() {
                let ex = &self.train[i];
                // Fresh shots for every example of every epoch, all from the run's seed.
                let mut ep = self.params.ep.clone();
                ep.shot_seed = self.params.ep.shot_seed
                    ^ ((epoch as u64) << 40)
                    ^ ((bi as u64) << 20)
                    ^ i as u64;
                let ExampleGradient {
                    ep: e,
                    shots: spent,
                    std,
                } = self
                    .engine
                    .gradient(self.model, &self.state.theta, ex, &ep)?;
                shots += spent;
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
                if want_cos {
                    let o =
                        self.engine
                            .exact(self.model, &self.state.theta, ex, &self.params.ep)?;
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
                }
                .into());
            }
            grad_norms += gn;
            let noise = var.iter().sum::<f64>().sqrt();
            if noise > 0.0 {
                snr_sum += gn / noise;
                snr_n += 1;
            }
            self.update(&g, lr);
            on_batch(bi + 1, batches.len());
        }
        let (train_cost, train_accuracy) = evaluate_with(
            &self.engine,
            self.model,
            &self.state.theta,
            &self.train,
            &self.params.ep,
        )?;
        let (test_cost, test_accuracy) = evaluate_with(
            &self.engine,
            self.model,
            &self.state.theta,
            &self.test,
            &self.params.ep,
        )?;
        if !train_cost.is_finite() {
            return Err(TrainError::NotFinite {
                epoch,
                what: "cost",
            }
            .into());
        }
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

    /// One optimiser step with gradient `g` of the mean cost.
    fn update(&mut self, g: &[f64], lr: f64) {
        let tr = &self.params.training;
        let s = &mut self.state.optimizer;
        s.step += 1;
        match tr.optimizer {
            Optimizer::Sgd => {
                for ((th, m), gi) in self.state.theta.iter_mut().zip(&mut s.m).zip(g) {
                    *m = tr.momentum * *m + gi;
                    *th -= lr * *m;
                }
            }
            Optimizer::Adam => {
                let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8);
                let c1 = 1.0 - b1.powi(s.step as i32);
                let c2 = 1.0 - b2.powi(s.step as i32);
                for (((th, m), v), gi) in self
                    .state
                    .theta
                    .iter_mut()
                    .zip(&mut s.m)
                    .zip(&mut s.v)
                    .zip(g)
                {
                    *m = b1 * *m + (1.0 - b1) * gi;
                    *v = b2 * *v + (1.0 - b2) * gi * gi;
                    *th -= lr * (*m / c1) / ((*v / c2).sqrt() + eps);
                }
            }
        }
    }
}
