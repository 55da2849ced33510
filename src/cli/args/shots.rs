//! Flags of `qep shots`.

use std::path::PathBuf;

use clap::Args;

use super::ModelArg;

/// `qep shots`.
#[derive(Debug, Args)]
pub struct ShotsArgs {
    #[command(flatten)]
    pub model: ModelArg,
    /// Shot budgets, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "100,1000,10000,100000",
        value_name = "S1,S2,…"
    )]
    pub shots: Vec<u64>,
    /// Clamping strengths β, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "0.02,0.05,0.1,0.2",
        value_name = "B1,B2,…"
    )]
    pub betas: Vec<f64>,
    /// Repeats per (shots, β).
    #[arg(long, default_value_t = 20, value_name = "R")]
    pub repeats: usize,
    /// Training example I of the model's dataset.
    #[arg(long, default_value_t = 0, value_name = "I")]
    pub example: usize,
    /// Seed of the first repeat.
    #[arg(long, default_value_t = 0, value_name = "K")]
    pub seed: u64,
    /// Output folder (default: out/<model>-shots).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace the result files of an earlier study in the output folder (without it, a
    /// folder that holds them is refused).
    #[arg(long)]
    pub overwrite: bool,
}
