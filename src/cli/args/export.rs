//! Flags of `qep export`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

/// `--format` of `qep export`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ExportFormat {
    /// Matrix Market coordinate text (1-based; real or complex).
    Mtx,
    /// JSON: qubits and the merged Pauli terms with their coefficients.
    Json,
}

/// `qep export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The model file (YAML).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Output file (default: standard output). Written to a temporary file in the same
    /// folder and renamed into place, so a failed or interrupted export leaves no partial file.
    #[arg(long, short = 'o', value_name = "OUT")]
    pub out: Option<PathBuf>,
    /// Largest output allowed, e.g. 8G or 500M (default: 1G, and no more than the free space
    /// of the target's file system). The size is estimated before anything is written.
    #[arg(long, value_name = "SIZE")]
    pub max_size: Option<String>,
}
