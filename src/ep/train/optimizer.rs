//! The optimisers of a training run: SGD with momentum and Adam, with the state a checkpoint
//! saves to resume bit for bit, and the optional L2 penalty (weight decay) on the parameters.

use serde::{Deserialize, Serialize};

use super::checkpoint::json_floats;
use crate::hamiltonian::{Optimizer, Training};

/// Optimiser state: what must be saved to resume bit for bit.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct OptimizerState {
    /// Updates made so far.
    pub step: u64,
    /// SGD velocity or Adam's first moment.
    #[serde(with = "json_floats")]
    pub m: Vec<f64>,
    /// Adam's second moment.
    #[serde(with = "json_floats")]
    pub v: Vec<f64>,
}

/// The L2 penalty `λ‖θ‖²` of [`Training::weight_decay`] (`λ = weight_decay`): the term a run
/// with weight decay adds to the mean cost it descends.
pub fn weight_decay_penalty(theta: &[f64], weight_decay: f64) -> f64 {
    weight_decay * theta.iter().map(|t| t * t).sum::<f64>()
}

/// Adds the gradient `2λθ` of [`weight_decay_penalty`] to the batch's mean EP gradient `g`.
/// Nothing is added for `λ = 0`, so runs without weight decay keep their bits. The penalty
/// keeps the couplings from growing until the network locks into one collective state
/// whatever its inputs (where the EP gradient of every example vanishes).
pub(super) fn add_weight_decay(g: &mut [f64], theta: &[f64], weight_decay: f64) {
    if weight_decay == 0.0 {
        return;
    }
    for (gi, th) in g.iter_mut().zip(theta) {
        *gi += 2.0 * weight_decay * th;
    }
}

/// One optimiser step on `theta` with gradient `g` of the mean cost.
pub(super) fn update(tr: &Training, theta: &mut [f64], s: &mut OptimizerState, g: &[f64], lr: f64) {
    s.step += 1;
    match tr.optimizer {
        Optimizer::Sgd => {
            for ((th, m), gi) in theta.iter_mut().zip(&mut s.m).zip(g) {
                *m = tr.momentum * *m + gi;
                *th -= lr * *m;
            }
        }
        Optimizer::Adam => {
            let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8);
            let c1 = 1.0 - b1.powi(s.step as i32);
            let c2 = 1.0 - b2.powi(s.step as i32);
            for (((th, m), v), gi) in theta.iter_mut().zip(&mut s.m).zip(&mut s.v).zip(g) {
                *m = b1 * *m + (1.0 - b1) * gi;
                *v = b2 * *v + (1.0 - b2) * gi * gi;
                *th -= lr * (*m / c1) / ((*v / c2).sqrt() + eps);
            }
        }
    }
}
