//! Run settings carried by a model file (`state`, `beta`, `training`, `preparation`,
//! `temperature`, `thermal_gradient`, `shots`, `lindblad`): parsed and validated when the model
//! is loaded, used by later stages (EP, state preparation, measurement). Absent keys are
//! `None` (the stage that uses them picks its default) unless a default is documented.

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize};

use crate::pauli::PauliSum;

/// Whether the network is a quantum Hamiltonian or the classical EP limit (docs/DESIGN.md,
/// Section II of the paper). `kind: quantum` (default) or `kind: classical`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    /// Quantum EP on the eigenstates or Gibbs state of `H`.
    #[default]
    Quantum,
    /// Classical EP (energy relaxation on spins / continuous units).
    Classical,
}

/// Which eigenstate computes: `state: ground` (default) or `state: {eigen: K}` (the K-th
/// lowest, K = 0 being the ground state; any eigenstate works for EP, Section III).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StateChoice {
    /// The ground state.
    #[default]
    Ground,
    /// The K-th eigenstate in increasing energy (K = 0 is the ground state).
    Eigen(usize),
}

/// `optimizer: sgd | adam`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Optimizer {
    /// Plain gradient descent, with optional momentum.
    #[default]
    Sgd,
    /// Adam (Kingma & Ba) with the usual β₁ = 0.9, β₂ = 0.999.
    Adam,
}

fn default_epochs() -> usize {
    100
}
fn default_learning_rate() -> f64 {
    0.1
}
fn default_batch_size() -> usize {
    1
}
fn default_lr_decay() -> f64 {
    1.0
}
fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

/// `training: {epochs, optimizer, learning_rate, momentum, batch_size, lr_decay, weight_decay}`;
/// every key optional.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(
    deny_unknown_fields,
    expecting = "training settings: {epochs, optimizer: sgd|adam, learning_rate, momentum, batch_size, lr_decay, weight_decay}"
)]
pub struct Training {
    /// Passes over the training set (default 100, ≥ 1).
    #[serde(default = "default_epochs")]
    pub epochs: usize,
    /// Update rule (default `sgd`).
    #[serde(default)]
    pub optimizer: Optimizer,
    /// Step size (default 0.1, > 0).
    #[serde(default = "default_learning_rate")]
    pub learning_rate: f64,
    /// Momentum of `sgd` (default 0, in [0, 1)).
    #[serde(default)]
    pub momentum: f64,
    /// Examples per update (default 1, ≥ 1).
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// Factor applied to the learning rate after each epoch (default 1, in (0, 1]).
    #[serde(default = "default_lr_decay")]
    pub lr_decay: f64,
    /// Strength λ of an L2 penalty λ‖θ‖² on the trainable parameters, added to the mean cost
    /// the optimiser descends (default 0: off, ≥ 0). Not written when 0, so the settings a
    /// checkpoint records without it stay those of earlier runs.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub weight_decay: f64,
}

impl Default for Training {
    fn default() -> Self {
        Self {
            epochs: default_epochs(),
            optimizer: Optimizer::default(),
            learning_rate: default_learning_rate(),
            momentum: 0.0,
            batch_size: default_batch_size(),
            lr_decay: default_lr_decay(),
            weight_decay: 0.0,
        }
    }
}

/// Interpolation schedule `s(t)` of an adiabatic sweep `H(s) = (1 − s) H_start + s H_target`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Schedule {
    /// `s = t/T`.
    #[default]
    Linear,
    /// A smooth ramp with zero slope at both ends.
    Smooth,
    /// Local adiabatic: slows down where the gap is small.
    Local,
}

fn default_time() -> f64 {
    10.0
}
fn default_steps() -> usize {
    100
}

/// `{adiabatic: {time, steps, schedule, table}}`; every key optional.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(
    deny_unknown_fields,
    expecting = "adiabatic settings: {time: T > 0, steps: n ≥ 1, schedule: linear|smooth|local, table: [[t/T, s], …]}"
)]
pub struct Adiabatic {
    /// Total sweep time `T` (default 10, > 0).
    #[serde(default = "default_time")]
    pub time: f64,
    /// Time steps (default 100, ≥ 1).
    #[serde(default = "default_steps")]
    pub steps: usize,
    /// Schedule (default `linear`).
    #[serde(default)]
    pub schedule: Schedule,
    /// A tabulated schedule `[[t/T, s], …]` from `[0, 0]` to `[1, 1]` (`t/T` increasing, `s`
    /// non-decreasing), interpolated linearly; when given it replaces `schedule`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<Vec<[f64; 2]>>,
}

impl Default for Adiabatic {
    fn default() -> Self {
        Self {
            time: default_time(),
            steps: default_steps(),
            schedule: Schedule::default(),
            table: None,
        }
    }
}

/// How the state is prepared (docs/DESIGN.md, "How states are prepared"):
/// `preparation: exact` (default), `cooling`, or `{adiabatic: {time, steps, schedule, table}}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Preparation {
    /// The exact oracle (Lanczos).
    #[default]
    Exact,
    /// Adiabatic evolution.
    Adiabatic(Adiabatic),
    /// Algorithmic cooling (Lindblad steps towards the Gibbs state).
    Cooling,
}

/// Estimator of the thermal gradient (Section IV): `clamped` (two clamped Gibbs states),
/// `covariance` (Eq. 43, exact only for commuting H), `kubo-mori` (exact).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ThermalGradient {
    /// Finite difference of two clamped Gibbs states (Eq. 42 analogue).
    Clamped,
    /// `−(1/T) Cov[P_k, C]`, the symmetrised covariance of Eq. 43.
    Covariance,
    /// `−(1/T) Cov_KM(P_k, C)`, the Kubo–Mori covariance.
    KuboMori,
}

/// One Lindblad jump operator `L` with rate `γ`: the dissipator is
/// `γ (L ρ L† − ½{L†L, ρ})`. Named single-qubit operators are expanded to one jump per qubit;
/// `sigma-` = |1⟩⟨0| = (X − iY)/2 (docs/DESIGN.md conventions).
#[derive(Clone, Debug, PartialEq)]
pub struct Jump {
    /// `sigma-@3`, `Z@0`, or `explicit` for a written Pauli sum.
    pub label: String,
    /// The operator `L` on the model's qubits (need not be Hermitian).
    pub operator: PauliSum,
    /// The rate `γ ≥ 0`.
    pub rate: f64,
}

impl Serialize for Jump {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Jump", 3)?;
        st.serialize_field("label", &self.label)?;
        st.serialize_field("operator", &self.operator.to_string())?;
        st.serialize_field("rate", &self.rate)?;
        st.end()
    }
}

/// The settings sections of a model file, typed and validated (see the module docs of
/// [`super`] for the YAML).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Settings {
    /// `description`: free text.
    pub description: Option<String>,
    /// `state` (default ground).
    pub state: StateChoice,
    /// `beta`: clamping strength `β > 0` for EP.
    pub beta: Option<f64>,
    /// `training`.
    pub training: Option<Training>,
    /// `preparation` (default exact).
    pub preparation: Preparation,
    /// `temperature`: `T > 0` for the thermal case.
    pub temperature: Option<f64>,
    /// `thermal_gradient`.
    pub thermal_gradient: Option<ThermalGradient>,
    /// `shots`: measurement shots per expectation value (> 0); `None` = exact expectations.
    pub shots: Option<u64>,
    /// `lindblad.jumps`, expanded to one entry per operator (empty without `lindblad`).
    pub jumps: Vec<Jump>,
}
