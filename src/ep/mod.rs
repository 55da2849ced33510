//! Equilibrium propagation on quantum networks (docs/DESIGN.md, Eq. 16–29).
//!
//! * [`free_phase`]: the free (β = 0) eigenstate of `H(0, θ, u)` for one example, its energy,
//!   gap, the prediction `⟨Z_i⟩` on the outputs and the cost `⟨C⟩` (Eq. 18);
//! * [`EpParams::from_model`]: β, level, shots, temperature, preparation resolved once from the
//!   model and the caller's [`EpOverrides`];
//! * [`Engine`]: eigen, prepared, thermal or classical, chosen by [`Engine::for_model`], with
//!   the one entry point [`Engine::gradient`] returning a [`Gradient`]: the EP estimate of
//!   `∂⟨C⟩/∂θ_k` (from two clamped eigenstates, Eq. 28, or one; from Gibbs states; from the
//!   classical network) and, when asked, the engine's exact gradient (for eigenstates,
//!   first-order perturbation theory as one MINRES solve); [`Engine::exact`] gives that
//!   oracle alone;
//! * [`Trainer`]: mini-batch training with SGD/Adam, metrics, checkpoints.

pub mod classical;
mod engine;
mod params;
mod quantum;
pub mod shot_beta;
pub mod thermal;
mod train;

pub use classical::{langevin, lowtemp};
pub use quantum::prepared;
pub use thermal::typicality;

pub use engine::{Engine, Gradient, GradientDetails, Prediction};
pub use params::{check_beta, check_temperature, BetaSource, EpError, EpOverrides, EpParams};
pub use quantum::{
    compare, ep_difference, free_phase, free_phase_with, gradient_memory, EpGradient, EpWorkspace,
    ExactGradient, FreePhase,
};
pub(crate) use quantum::{products_spent, solve_level};
pub use shot_beta::{shot_aware_beta, wants_shot_aware_beta, ShotAwareBeta};
pub use train::{
    correct, evaluate, weight_decay_penalty, Checkpoint, EpochMetrics, OptimizerState, RunStamp,
    TrainError, TrainParams, Trainer,
};
