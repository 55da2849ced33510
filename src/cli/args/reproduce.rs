//! Flags of `qep reproduce`.

use std::path::PathBuf;

use clap::Args;

/// `qep reproduce`.
#[derive(Debug, Args)]
pub struct ReproduceArgs {
    /// Every study at a small size (under two minutes in all): checks the pipeline, not the
    /// physics.
    #[arg(long)]
    pub quick: bool,
    /// Folder of the studies' results, one subfolder per study (replaced).
    #[arg(long, default_value = "results", value_name = "DIR")]
    pub out: PathBuf,
    /// The report with every table, plot and wall time.
    #[arg(long, default_value = "RESULTS.md", value_name = "FILE")]
    pub report: PathBuf,
    /// The repository root (where `hamiltonians/` and `data/` are).
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub repo: PathBuf,
    /// Run only the studies whose name starts with one of these (comma-separated, e.g.
    /// `digits` or `plateau-chain,iris`); the report is rewritten with every study, those not
    /// rerun from their saved JSON under `--out`.
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub only: Vec<String>,
    /// Print a JSON summary (studies, wall times, files) instead of text.
    #[arg(long)]
    pub json: bool,
}
