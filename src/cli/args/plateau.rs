//! Flags of `qep plateau`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

/// `qep plateau`.
#[derive(Debug, Args)]
pub struct PlateauArgs {
    /// A model file whose lattice family is scanned (instead of --family).
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Lattice family.
    #[arg(long, value_enum, default_value_t = FamilyArg::Chain)]
    pub family: FamilyArg,
    /// Sizes: `A..B` (inclusive), `A..B:STEP`, or a list `4,6,8`.
    #[arg(long, default_value = "4..10", value_name = "SIZES")]
    pub sizes: String,
    /// Random draws of the couplings per size.
    #[arg(long, default_value_t = 100, value_name = "M")]
    pub samples: usize,
    /// Half-width a of the uniform distribution of the couplings.
    #[arg(long, default_value_t = 1.0, value_name = "A")]
    pub init_range: f64,
    /// Also estimate every draw's gradient by EP from S shots per group and state (at --beta),
    /// and report that variance too.
    #[arg(long, value_name = "S")]
    pub shots: Option<u64>,
    /// β of the shot-based EP estimates.
    #[arg(long, default_value_t = 0.05, value_name = "B")]
    pub beta: f64,
    /// Seed of every draw.
    #[arg(long, default_value_t = 0, value_name = "K")]
    pub seed: u64,
    /// Output folder (default: out/plateau-<family>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace the result files of an earlier study in the output folder (without it, a
    /// folder that holds them is refused).
    #[arg(long)]
    pub overwrite: bool,
    /// Print a JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `--family`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FamilyArg {
    /// Open chain.
    Chain,
    /// Open 2 × N/2 grid.
    Grid,
    /// Every pair coupled.
    AllToAll,
}
