//! Flags of `qep grad`.

use std::path::PathBuf;

use clap::Args;

use super::{ModelArg, SolverArgs};

/// `qep grad`.
#[derive(Debug, Args)]
pub struct GradArgs {
    #[command(flatten)]
    pub model: ModelArg,
    /// Use training example I of the model's dataset (default 0).
    #[arg(long, value_name = "I", conflicts_with_all = ["inputs", "targets"])]
    pub example: Option<usize>,
    /// Input fields u_i, one per model input, comma-separated (with --targets).
    #[arg(
        long,
        value_delimiter = ',',
        allow_hyphen_values = true,
        requires = "targets",
        value_name = "U1,U2,…"
    )]
    pub inputs: Option<Vec<f64>>,
    /// Targets d_i, one per model output, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        allow_hyphen_values = true,
        value_name = "D1,…"
    )]
    pub targets: Option<Vec<f64>>,
    /// Clamping strength β (default: the model's `beta`, else `EpParams::DEFAULT_BETA`).
    #[arg(long, value_name = "B", help = super::beta_help())]
    pub beta: Option<f64>,
    /// One-sided estimate (states at β and 0) instead of the symmetric ±β one.
    #[arg(long)]
    pub one_sided: bool,
    /// Which eigenstate computes (0 = ground; default: the model's `state`).
    #[arg(long, value_name = "K")]
    pub eigen: Option<usize>,
    /// Skip the exact oracle (only the EP estimate).
    #[arg(long)]
    pub no_exact: bool,
    /// Start the clamped searches from random vectors instead of the free state (to measure
    /// what the warm start saves; the JSON's `matvecs` counts the work).
    #[arg(long)]
    pub no_warm_start: bool,
    /// Parameters from a params.json written by `qep run` (default: the model's values).
    #[arg(long, value_name = "FILE")]
    pub params: Option<PathBuf>,
    /// Thermal case (Section IV): the gradient of ⟨C⟩ in the Gibbs state at temperature T,
    /// four ways side by side up to 12 qubits: exact (finite differences), clamped (±β),
    /// covariance (Eq. 43, with its −1/T) and Kubo–Mori; above 12 qubits clamped and
    /// covariance by typicality, with standard errors (default: the model's `temperature`).
    /// With --shots, also Eq. 43 from S Z-basis shots of the free Gibbs state
    /// (`covariance_shots`, null for X/Y-type parameters).
    #[arg(long, value_name = "T")]
    pub temperature: Option<f64>,
    /// Estimate every ⟨P_k⟩ from S shots per commuting group and state (default: the model's
    /// `shots`, else exact). The JSON then adds `ep_std` and `shots_total`; --seed seeds the
    /// shots too, so the same seed gives the same numbers. With --temperature: S Z-basis
    /// shots of the Gibbs state for the covariance of Eq. 43 (which clamps nothing: β is
    /// not chosen for S there).
    #[arg(long, value_name = "S")]
    pub shots: Option<u64>,
    /// Random vectors for the typicality estimates above 12 qubits (with --temperature).
    #[arg(long, default_value_t = 8, value_name = "R")]
    pub samples: usize,
    /// Also estimate the gradient on states prepared by adiabatic sweeps of these times T
    /// (from −Σ X_i; default: the model's `preparation: adiabatic` time, if any) and report,
    /// per T, the fidelities and the cosine with the exact-state EP gradient (`prepared`).
    #[arg(long, value_delimiter = ',', value_name = "T1,T2,…")]
    pub prep_times: Option<Vec<f64>>,
    /// Time steps of each sweep, the same for every T (default: per T, the model's time step
    /// T_model/steps kept, at least its step count; else max(100, 5·T)).
    #[arg(long, value_name = "N")]
    pub prep_steps: Option<usize>,
    #[command(flatten)]
    pub solver: SolverArgs,
}
