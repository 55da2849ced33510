//! Flags of `qep thermalize`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::ModelArg;

/// `--method` of `qep thermalize`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ThermalizeMethod {
    /// Collisions with thermal ancillas (heat-bath algorithmic cooling).
    Cooling,
    /// The Davies (detailed-balance) master equation in the eigenbasis: the exact oracle.
    Davies,
    /// The cooling protocol unravelled into pure-state trajectories (ancillas measured in Z).
    Trajectories,
}

/// `qep thermalize`.
#[derive(Debug, Args)]
pub struct ThermalizeArgs {
    #[command(flatten)]
    pub model: ModelArg,
    /// Temperature T > 0 (default: the model's `temperature`).
    #[arg(long, allow_hyphen_values = true, value_name = "T")]
    pub temperature: Option<f64>,
    /// How the state is prepared.
    #[arg(long, value_enum, default_value_t = ThermalizeMethod::Cooling)]
    pub method: ThermalizeMethod,
    /// Steps: rounds over all ancilla frequencies (cooling) or output times (davies).
    #[arg(long, default_value_t = 30, value_name = "N")]
    pub steps: usize,
    /// Observables (Pauli strings), comma-separated, e.g. "Z0,Z0 Z1".
    #[arg(long, value_delimiter = ',', value_name = "P1,P2,…")]
    pub observe: Vec<String>,
    /// Initial state: mixed (I/2^N, infinite temperature), plus, zero or basis:B.
    #[arg(long, default_value = "mixed", value_name = "STATE")]
    pub initial: String,
    /// Cooling: coupling strength g of g·A_i ⊗ X_a.
    #[arg(long, default_value_t = 0.02, value_name = "G")]
    pub coupling: f64,
    /// Cooling: duration τ of one collision.
    #[arg(long, default_value_t = 100.0, value_name = "TAU")]
    pub duration: f64,
    /// Cooling: ancillas coupled at once (1–3).
    #[arg(long, default_value_t = 2, value_name = "K")]
    pub ancillas: usize,
    /// Davies: overall rate γ₀ of γ(ω) = 2γ₀/(1 + e^{−ω/T}).
    #[arg(long, default_value_t = 1.0, value_name = "G0")]
    pub rate: f64,
    /// Davies: time between steps (default: 20/(gap · steps), so the run ends at 20/gap).
    #[arg(long, value_name = "DT")]
    pub dt: Option<f64>,
    /// Trajectories: number of pure-state trajectories M.
    #[arg(long, default_value_t = 200, value_name = "M")]
    pub trajectories: usize,
    /// Trajectories: seed (trajectory j uses ChaCha8 stream j).
    #[arg(long, default_value_t = 0, value_name = "K")]
    pub seed: u64,
    /// Output folder (default: out/<model>-thermalize).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace the result files of an earlier study in the output folder (without it, a
    /// folder that holds them is refused).
    #[arg(long)]
    pub overwrite: bool,
}
