//! Flags of `qep evolve`.

use clap::{Args, ValueEnum};

use super::ModelArg;

/// `qep evolve`.
#[derive(Debug, Args)]
pub struct EvolveArgs {
    #[command(flatten)]
    pub model: ModelArg,
    /// Initial state: plus (|+…+⟩), zero (|0…0⟩), ground (of H), or basis:B (basis index B).
    #[arg(long, default_value = "plus", value_name = "STATE")]
    pub initial: String,
    /// Output times, comma-separated, increasing.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1",
        value_name = "T1,T2,…"
    )]
    pub times: Vec<f64>,
    /// Observables (Pauli strings), comma-separated, e.g. "Z0,X1,Z0 Z1".
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "Z0",
        value_name = "P1,P2,…"
    )]
    pub observe: Vec<String>,
    /// Method: krylov (state vector, Schrödinger only; the default without `lindblad:`),
    /// rho (the density matrix, exact, 16·4^N bytes; the default with `lindblad:`) or
    /// trajectories (quantum trajectories / Monte Carlo wave function: means ± standard
    /// errors, 2^N per vector).
    ///
    /// krylov applies e^{−iHΔt} between output times by the Krylov propagator (error per unit
    /// time --krylov-tol, a-posteriori estimate); its purity is 1 and it reports matvecs.
    /// rho integrates the Lindblad equation on ρ. trajectories averages --trajectories
    /// stochastic pure-state trajectories (seeded by --seed, the same numbers for any thread
    /// count); its JSON adds std_errors, trajectories and jumps (mean jump count per
    /// trajectory), and its purity is the mean of |⟨ψ_a|ψ_b⟩|² over disjoint pairs of
    /// trajectories (unbiased; null when the stored pair states would exceed 1 GiB or fewer
    /// than two trajectories ran). A model without a `lindblad:` key has no jumps: every
    /// trajectory is the same Schrödinger evolution, so one is run (trajectories = 1,
    /// standard errors 0).
    #[arg(long, value_enum, value_name = "METHOD")]
    pub method: Option<EvolveMethod>,
    /// Krylov error per unit time (--method krylov).
    #[arg(long, default_value_t = 1e-10, value_name = "TOL")]
    pub krylov_tol: f64,
    /// Number of trajectories (--method trajectories).
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub trajectories: usize,
    /// Seed of the trajectories (--method trajectories): trajectory j uses ChaCha8 stream j.
    #[arg(long, default_value_t = 0, value_name = "K")]
    pub seed: u64,
    /// Absolute tolerance of the integrator [default: 1e-10 for rho, 1e-8 per amplitude for
    /// trajectories].
    #[arg(long, value_name = "A")]
    pub atol: Option<f64>,
    /// Relative tolerance of the integrator [default: 1e-8 for rho, 1e-6 for trajectories].
    #[arg(long, value_name = "R")]
    pub rtol: Option<f64>,
    /// rho: skip the smallest-eigenvalue check of ρ (at up to 8 evenly spaced output times and the last; a dense eigensolve
    /// each, N ≤ 8; about 3 ms per time at N = 8).
    #[arg(long)]
    pub no_positivity: bool,
}

/// `qep evolve --method`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EvolveMethod {
    /// The state vector under the Schrödinger equation by the Krylov propagator (models
    /// without `lindblad:`; the default for them; 20+ qubits).
    Krylov,
    /// The density matrix under the Lindblad equation (exact; N ≤ 10 is comfortable).
    Rho,
    /// Quantum trajectories (Monte Carlo wave function): statistical, state vectors only.
    Trajectories,
}
