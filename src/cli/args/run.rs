//! Flags of `qep run`.

use std::path::PathBuf;

use clap::Args;

use super::{ModelArg, SolverArgs};

/// `qep run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub model: ModelArg,
    /// Output folder (default: out/<model name>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Epochs (default: the model's `training.epochs`).
    #[arg(long, value_name = "N")]
    pub epochs: Option<usize>,
    /// Continue from the checkpoint in --out after its last completed epoch (the model,
    /// dataset and settings must be those of the checkpointed run).
    #[arg(long)]
    pub resume: bool,
    /// With --resume: continue even though the model, dataset or settings differ from the
    /// checkpointed run's (the summary lists what changed).
    #[arg(long, requires = "resume")]
    pub force: bool,
    /// Replace the results of an earlier run in --out (without it, a folder that holds a run
    /// is refused).
    #[arg(long, conflicts_with = "resume")]
    pub overwrite: bool,
    /// Initial parameters from a params.json written by an earlier run.
    #[arg(long, value_name = "FILE")]
    pub params: Option<PathBuf>,
    /// Strength λ of an L2 penalty λ‖θ‖² on the parameters, added to the cost the optimiser
    /// descends (default: the model's `training.weight_decay`, else 0 = off).
    #[arg(long, value_name = "L")]
    pub weight_decay: Option<f64>,
    /// Every K epochs, also compute the exact gradient of the first batch and log the
    /// EP-vs-exact cosine similarity.
    #[arg(long, default_value_t = 0, value_name = "K")]
    pub cosine_every: usize,
    /// Clamping strength β (default: the model's `beta`, else `EpParams::DEFAULT_BETA`).
    #[arg(long, value_name = "B", help = super::beta_help())]
    pub beta: Option<f64>,
    /// Measure every ⟨P_k⟩ from S shots per commuting group and clamped state (default: the
    /// model's `shots`, else exact expectations). Without --beta, β is then chosen for S
    /// from the bias–noise error model (printed, recorded as `beta_source: shot-aware`).
    /// Thermal training with shots is refused, and classical networks have no shots: their β
    /// stays the model's.
    #[arg(long, value_name = "S")]
    pub shots: Option<u64>,
    /// Train the Gibbs state at temperature T instead of the eigenstate (Section IV; default:
    /// the model's `temperature`). Dense up to 12 qubits, typicality above.
    #[arg(long, value_name = "T")]
    pub temperature: Option<f64>,
    /// Thermal gradient estimator (default: the model's `thermal_gradient`, else clamped):
    /// clamped (±β), covariance (Eq. 43; biased for quantum models) or kubo-mori (exact,
    /// ≤ 12 qubits).
    #[arg(long, value_name = "E", value_parser = ["clamped", "covariance", "kubo-mori"])]
    pub thermal_gradient: Option<String>,
    /// Random vectors per typicality estimate (thermal training above 12 qubits).
    #[arg(long, value_name = "R")]
    pub samples: Option<usize>,
    #[command(flatten)]
    pub solver: SolverArgs,
}
