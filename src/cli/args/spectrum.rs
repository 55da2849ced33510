//! Flags of `qep spectrum`.

use clap::Args;

use super::{ModelArg, SolverArgs};

/// `qep spectrum`.
#[derive(Debug, Args)]
pub struct SpectrumArgs {
    #[command(flatten)]
    pub model: ModelArg,
    /// Number of lowest levels (with multiplicity).
    #[arg(long, short = 'k', default_value_t = 4, value_name = "K")]
    pub k: usize,
    /// Skip the extra level above the K wanted (the gap above them is then not reported;
    /// saves one level's work on the largest models).
    #[arg(long)]
    pub no_gap: bool,
    #[command(flatten)]
    pub solver: SolverArgs,
}
