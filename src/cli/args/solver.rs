//! Eigensolver flags shared by `qep spectrum` and `qep run`.

use clap::{Args, ValueEnum};

/// Eigensolver flags shared by `spectrum` and `run`.
#[derive(Debug, Args, Clone)]
pub struct SolverArgs {
    /// Absolute residual tolerance ‖Hψ − Eψ‖ every level must meet.
    #[arg(long, default_value_t = 1e-9, value_name = "TOL")]
    pub tol: f64,
    /// Budget of H·ψ applications over all levels and restarts.
    #[arg(long, default_value_t = 20_000, value_name = "N")]
    pub max_matvecs: usize,
    /// Algorithm: dense up to 8 qubits then Lanczos (auto), or forced.
    #[arg(long, value_enum, default_value_t = MethodArg::Auto)]
    pub method: MethodArg,
    /// Krylov basis storage: two-pass keeps 5 vectors (for the biggest models).
    #[arg(long, value_enum, default_value_t = MemoryArg::Auto)]
    pub memory: MemoryArg,
    /// Seed of the random Lanczos start vectors.
    #[arg(long, default_value_t = 0x9e37_79b9, value_name = "S")]
    pub seed: u64,
}

/// `--method`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum MethodArg {
    /// Dense up to dimension 256, Lanczos above.
    Auto,
    /// Always Lanczos.
    Lanczos,
    /// Always dense (≤ 12 qubits).
    Dense,
}

/// `--memory`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum MemoryArg {
    /// Store the basis if it fits in half the free memory, else two passes.
    Auto,
    /// Store the Krylov basis.
    Store,
    /// Keep no basis; regenerate it in a second pass.
    TwoPass,
}
