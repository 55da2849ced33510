//! Flags of `qep thermal-scan`.

use clap::Args;

use super::{ModelArg, StudyOut};

/// `qep thermal-scan`.
#[derive(Debug, Args)]
#[command(mut_arg("out", |a| a.help("Output folder (default: out/<model>-thermal)")))]
pub struct ThermalScanArgs {
    #[command(flatten)]
    pub model: ModelArg,
    /// Temperatures, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "0.05,0.1,0.3,1,3",
        value_name = "T1,T2,…"
    )]
    pub temperatures: Vec<f64>,
    /// Training example I of the model's dataset.
    #[arg(long, default_value_t = 0, value_name = "I")]
    pub example: usize,
    /// β of the clamped estimate.
    #[arg(long, default_value_t = qep::ep::EpParams::DEFAULT_BETA, value_name = "B")]
    pub beta: f64,
    #[command(flatten)]
    pub out: StudyOut,
}
