//! Flags of `qep plateau`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::StudyOut;

/// `qep plateau`.
#[derive(Debug, Args)]
#[command(mut_arg("out", |a| a.help("Output folder (default: out/plateau-<family>)")))]
pub struct PlateauArgs {
    /// A model file whose lattice family is scanned (instead of --family).
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Lattice family (default: chain). Not with FILE, whose lattice is the family: the two
    /// exclude each other.
    #[arg(long, value_enum, conflicts_with = "file")]
    pub family: Option<FamilyArg>,
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
    /// Thermal EP at temperature T: the variance of the exact gradient of the thermal cost
    /// ⟨C⟩_T (Kubo–Mori: dense Gibbs state up to 10 qubits, typicality above, its noise
    /// subtracted from the variance).
    #[arg(long, value_name = "T")]
    pub temperature: Option<f64>,
    /// Seed of every draw.
    #[arg(long, default_value_t = 0, value_name = "K")]
    pub seed: u64,
    #[command(flatten)]
    pub out: StudyOut,
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
    /// Transverse-field Ising chain: trainable Z_i Z_{i+1} bonds and X_i fields (the
    /// free-fermion generators), no XX bonds, no fixed field.
    TfimChain,
}
