//! Command-line arguments (clap derive). Each subcommand's flags fill a library settings
//! struct; help texts carry an example per command.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// qep — quantum equilibrium propagation: compile Hamiltonians written in YAML, find their
/// eigenstates, and train them as neural networks.
#[derive(Debug, Parser)]
#[command(
    name = "qep",
    version,
    about,
    long_about = None,
    after_help = "Examples:\n  qep info hamiltonians/ising_grid.yaml\n  qep spectrum hamiltonians/heisenberg_ring.yaml --k 5\n  qep run hamiltonians/ising_grid.yaml\n  qep bench hamiltonians/tfim_chain.yaml --reps 20 --json\n  qep export hamiltonians/explicit.yaml --format mtx -o H.mtx\n\nEvery command takes --json for a machine-readable result with provenance (qep version,\ninput SHA-256, seed, settings). Set QEP_MEMORY_LIMIT (e.g. 8G) to cap what qep allocates."
)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
    /// Worker threads (default: all cores).
    #[arg(long, global = true, value_name = "N")]
    pub threads: Option<usize>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Summarise a model: qubits, terms, X-mask groups, parameters, memory needed.
    #[command(after_help = "Example:\n  qep info hamiltonians/ising_grid.yaml --json")]
    Info(InfoArgs),
    /// The K lowest energies of H(β = 0, θ) by Lanczos (dense for small models), with the
    /// residual ‖Hψ − Eψ‖ of each level and the gap.
    #[command(
        after_help = "Examples:\n  qep spectrum hamiltonians/heisenberg_ring.yaml --k 5\n  qep spectrum big.yaml --k 1 --memory two-pass --json\n\nDegenerate levels come back with their multiplicity. Non-convergence is an error,\nnever a silent answer: raise --max-matvecs or loosen --tol."
    )]
    Spectrum(SpectrumArgs),
    /// Write H(β = 0, θ) as a Matrix Market file (scipy.io.mmread) or as JSON Pauli terms.
    #[command(
        after_help = "Examples:\n  qep export hamiltonians/explicit.yaml --format mtx -o H.mtx\n  qep export hamiltonians/tfim_chain.yaml --format json\n\nIn Python: scipy.io.mmread(\"H.mtx\"); qubit i is bit i of the row index (Qiskit order)."
    )]
    Export(ExportArgs),
    /// Time one matrix-free H·ψ on a random state (median of --reps after a warm-up) and
    /// report the effective memory bandwidth.
    #[command(
        after_help = "Example:\n  qep bench hamiltonians/tfim_chain.yaml --reps 20 --json\n\neffective_gbps = (16 B read of ψ + 8 B of diagonal + 16 B written) × 2^N / time\n(8 B amplitudes with --real): compare it with the machine's copy bandwidth."
    )]
    Bench(BenchArgs),
    /// EP gradient of the cost for one example (Eq. 28) next to the exact gradient (first-order
    /// perturbation theory, one MINRES solve), with their cosine similarity and relative error.
    #[command(
        after_help = "Examples:\n  qep grad hamiltonians/ising_grid.yaml --example 0 --beta 0.01\n  qep grad hamiltonians/explicit.yaml --inputs=1,-1 --targets=1 --json\n  qep grad model.yaml --inputs=1,1,1 --targets=-1 --eigen 1 --one-sided\n\nThe symmetric estimate (⟨P⟩₊β − ⟨P⟩₋β)/2β has bias O(β²); --one-sided uses β and 0, bias O(β)."
    )]
    Grad(GradArgs),
    /// Shot noise against clamping bias: RMS error of the shot-based EP gradient against the
    /// exact one for each shot budget and β, split into bias and noise, and the best β.
    #[command(
        after_help = "Example:\n  qep shots hamiltonians/ising_grid.yaml --shots 100,1000,10000,100000 --betas 0.02,0.05,0.1,0.2 --repeats 20\n\nShots are per commuting group (X-type, Z-type) and clamped state. Writes shots.csv,\nshots.json and shots.svg (log-log error against shots, one curve per β) into --out."
    )]
    Shots(ShotsArgs),
    /// Evolve the model's state in time: the state vector under the Schrödinger equation if the
    /// model has no `lindblad:` key (Krylov propagator), the Lindblad master equation otherwise
    /// (density matrix, or quantum trajectories); prints observables.
    #[command(
        after_help = "Examples:\n  qep evolve hamiltonians/bench/tfim_4x5.yaml --times 1 --observe \"Z0 Z1\"      # 20 qubits, Krylov\n  qep evolve model.yaml --initial plus --times 1,2,5,10 --observe \"Z0,X1,Z0 Z1\"\n  qep evolve model.yaml --initial basis:5 --times 0.5,1 --observe Z0 --json\n  qep evolve hamiltonians/bench/lindblad_chain_12.yaml --method trajectories --trajectories 100 --times 1,5,10 --observe Z0\n\nThe density matrix needs 16·4^N bytes (checked first): N ≤ 10 takes seconds, N = 12 minutes.\nTrajectories need 2^N per vector. Tolerances: --atol/--rtol of the Dormand–Prince 5(4)\nintegrators; --krylov-tol of the Krylov propagator."
    )]
    Evolve(EvolveArgs),
    /// Thermal study: how far the plain covariance gradient (Eq. 43) is from the exact one as
    /// the temperature varies, for XX and ZZ parameters, next to clamped and Kubo–Mori.
    #[command(
        after_help = "Example:\n  qep thermal-scan hamiltonians/xor.yaml --temperatures 0.05,0.1,0.3,1,3\n\nDense (≤ 12 qubits). Writes thermal-scan.csv, .json and .svg into --out."
    )]
    ThermalScan(ThermalScanArgs),
    /// Barren-plateau study: variance of the exact gradient ∂⟨C⟩/∂θ_k over random initial
    /// couplings, against the number of qubits, with a fitted exponential decay rate.
    #[command(
        after_help = "Examples:\n  qep plateau --family chain --sizes 4..12 --samples 100\n  qep plateau --family grid --sizes 4..16:2 --samples 200 --json\n  qep plateau hamiltonians/ising_grid.yaml --sizes 4,6,8   # the file's lattice family\n\nNetworks: trainable XX and ZZ on the lattice's edges (uniform in [-a, a], --init-range),\ntransverse field -1 on every site, input qubit 0 (u = 0.5), output qubit N-1 (d = 1).\nWrites plateau.csv, plateau.json and plateau.svg into --out."
    )]
    Plateau(PlateauArgs),
    /// Train the network by equilibrium propagation on its dataset (SGD/Adam on EP gradients)
    /// and write metrics.csv, params.json, summary.json, training.svg into --out; for a model
    /// without a dataset, solve its free phase (energies, ⟨Z⟩ on the outputs).
    #[command(
        after_help = "Examples:\n  qep run hamiltonians/ising_grid.yaml\n  qep run hamiltonians/xor.yaml --epochs 30 --out runs/xor\n  qep run hamiltonians/iris.yaml --out runs/iris --resume      # after a Ctrl-C\n\nEach epoch's files are written atomically. Ctrl-C stops before the next example, saves the\nlast completed epoch and exits with code 130; --resume continues from it bit for bit (the\nexample order is seeded per epoch) and refuses a checkpoint made with other settings\n(--force overrides). A folder that holds a run is refused without --resume or --overwrite."
    )]
    Run(RunArgs),
    /// State-preparation benchmark: sweep H(s) = (1 − s) H_start + s H_target from an
    /// eigenstate of H_start (default −Σ X_i, |+…+⟩) and verify the result by Lanczos:
    /// fidelity, energy error, residual, and the gaps along the path.
    #[command(
        after_help = "Examples:\n  qep prepare hamiltonians/bench/tfim_3x4.yaml --time 20\n  qep prepare hamiltonians/tfim_chain.yaml --times 1,2,5,10,20 --schedule smooth --json\n  qep prepare model.yaml --start start.yaml --eigen 1 --time 50\n  qep prepare hamiltonians/ising_grid.yaml --time 10 --method trotter --steps 50 --qasm circuits/ising_grid_adiabatic.qasm\n\nmethods: magnus (CF4, 4th order; default), krylov (exponential midpoint, 2nd order),\ntrotter (gate circuit, --trotter-order 1|2). Every exponential is a Krylov propagator with\nan a-posteriori error estimate (--krylov-tol per unit time). Writes prepare.csv,\nprepare.json and prepare.svg (infidelity vs T, gap vs s) into --out."
    )]
    Prepare(PrepareArgs),
    /// Prepare the Gibbs state e^{−H/T}/Z physically: algorithmic cooling by collisions with
    /// thermal ancillas (cooling) or the Davies generator (davies), with the trace distance to
    /// the exact Gibbs state, ⟨H⟩, ⟨C⟩ and observables per step.
    #[command(
        after_help = "Examples:\n  qep thermalize hamiltonians/explicit.yaml --temperature 0.5\n  qep thermalize model.yaml --temperature 2 --method davies --steps 40 --observe \"Z0,Z0 Z1\" --json\n\nCooling: the network plus --ancillas qubits, each of field (ω/2)Z (ground state |1⟩) reset to\nits thermal state after every collision of length --duration with coupling --coupling; the\nfrequencies cycle over the network's Bohr frequencies. Dense: N + ancillas ≤ 10 (davies: N ≤ 7).\nWrites thermalize.csv, thermalize.json and thermalize.svg into --out."
    )]
    Thermalize(ThermalizeArgs),
    /// Run OpenQASM 2.0 circuits on the state-vector simulator.
    #[command(after_help = "Example:\n  qep circuit run bell.qasm --shots 1000 --seed 7 --json")]
    Circuit(CircuitArgs),
}

/// Flags shared by every command that reads a model.
#[derive(Debug, Args)]
pub struct ModelArg {
    /// The model file (YAML; see the README for the schema).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Print a JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `qep info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    #[command(flatten)]
    pub model: ModelArg,
}

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

/// `qep bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(flatten)]
    pub model: ModelArg,
    /// Timed applications (the median is reported).
    #[arg(long, default_value_t = 10, value_name = "R")]
    pub reps: usize,
    /// Untimed applications before timing.
    #[arg(long, default_value_t = 2, value_name = "W")]
    pub warmup: usize,
    /// Time the real-arithmetic path (8 B amplitudes; needs a real operator).
    #[arg(long)]
    pub real: bool,
    /// Also time sampling this many shots from a random state of the model's size (adds
    /// `sample_seconds` to the JSON), e.g. --shots 1000000.
    #[arg(long, value_name = "S")]
    pub shots: Option<u64>,
    /// Seed of the random state.
    #[arg(long, default_value_t = 7, value_name = "S")]
    pub seed: u64,
}

/// `qep grad`.
#[derive(Debug, Args)]
pub struct GradArgs {
    #[command(flatten)]
    pub model: ModelArg,
    /// Use training example I of the model's dataset (default 0).
    #[arg(long, value_name = "I", conflicts_with_all = ["inputs", "targets"])]
    pub example: Option<usize>,
    /// Input fields u_i, one per model input, comma-separated (with --targets).
    #[arg(
        long,
        value_delimiter = ',',
        allow_hyphen_values = true,
        requires = "targets",
        value_name = "U1,U2,…"
    )]
    pub inputs: Option<Vec<f64>>,
    /// Targets d_i, one per model output, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        allow_hyphen_values = true,
        value_name = "D1,…"
    )]
    pub targets: Option<Vec<f64>>,
    /// Clamping strength β (default: the model's `beta`, else 0.01).
    #[arg(long, value_name = "B")]
    pub beta: Option<f64>,
    /// One-sided estimate (states at β and 0) instead of the symmetric ±β one.
    #[arg(long)]
    pub one_sided: bool,
    /// Which eigenstate computes (0 = ground; default: the model's `state`).
    #[arg(long, value_name = "K")]
    pub eigen: Option<usize>,
    /// Skip the exact oracle (only the EP estimate).
    #[arg(long)]
    pub no_exact: bool,
    /// Start the clamped searches from random vectors instead of the free state (to measure
    /// what the warm start saves; the JSON's `matvecs` counts the work).
    #[arg(long)]
    pub no_warm_start: bool,
    /// Parameters from a params.json written by `qep run` (default: the model's values).
    #[arg(long, value_name = "FILE")]
    pub params: Option<PathBuf>,
    /// Thermal case (Section IV): the gradient of ⟨C⟩ in the Gibbs state at temperature T,
    /// four ways side by side up to 12 qubits: exact (finite differences), clamped (±β),
    /// covariance (Eq. 43, with its −1/T) and Kubo–Mori; above 12 qubits clamped and
    /// covariance by typicality, with standard errors (default: the model's `temperature`).
    /// With --shots, also Eq. 43 from S Z-basis shots of the free Gibbs state
    /// (`covariance_shots`, null for X/Y-type parameters).
    #[arg(long, value_name = "T")]
    pub temperature: Option<f64>,
    /// Estimate every ⟨P_k⟩ from S shots per commuting group and state (default: the model's
    /// `shots`, else exact). The JSON then adds `ep_std` and `shots_total`; --seed seeds the
    /// shots too, so the same seed gives the same numbers. With --temperature: S Z-basis
    /// shots of the Gibbs state for the covariance of Eq. 43.
    #[arg(long, value_name = "S")]
    pub shots: Option<u64>,
    /// Random vectors for the typicality estimates above 12 qubits (with --temperature).
    #[arg(long, default_value_t = 8, value_name = "R")]
    pub samples: usize,
    /// Also estimate the gradient on states prepared by adiabatic sweeps of these times T
    /// (from −Σ X_i; default: the model's `preparation: adiabatic` time, if any) and report,
    /// per T, the fidelities and the cosine with the exact-state EP gradient (`prepared`).
    #[arg(long, value_delimiter = ',', value_name = "T1,T2,…")]
    pub prep_times: Option<Vec<f64>>,
    /// Time steps of each sweep (default: the model's, else max(100, 5·T)).
    #[arg(long, value_name = "N")]
    pub prep_steps: Option<usize>,
    #[command(flatten)]
    pub solver: SolverArgs,
}

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

/// `qep thermal-scan`.
#[derive(Debug, Args)]
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
    #[arg(long, default_value_t = 0.01, value_name = "B")]
    pub beta: f64,
    /// Output folder (default: out/<model>-thermal).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace the result files of an earlier study in the output folder (without it, a
    /// folder that holds them is refused).
    #[arg(long)]
    pub overwrite: bool,
}

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

/// `qep run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub model: ModelArg,
    /// Output folder (default: out/<model name>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Epochs (default: the model's `training.epochs`).
    #[arg(long, value_name = "N")]
    pub epochs: Option<usize>,
    /// Continue from the checkpoint in --out after its last completed epoch (the model,
    /// dataset and settings must be those of the checkpointed run).
    #[arg(long)]
    pub resume: bool,
    /// With --resume: continue even though the model, dataset or settings differ from the
    /// checkpointed run's (the summary lists what changed).
    #[arg(long, requires = "resume")]
    pub force: bool,
    /// Replace the results of an earlier run in --out (without it, a folder that holds a run
    /// is refused).
    #[arg(long, conflicts_with = "resume")]
    pub overwrite: bool,
    /// Initial parameters from a params.json written by an earlier run.
    #[arg(long, value_name = "FILE")]
    pub params: Option<PathBuf>,
    /// Every K epochs, also compute the exact gradient of the first batch and log the
    /// EP-vs-exact cosine similarity.
    #[arg(long, default_value_t = 0, value_name = "K")]
    pub cosine_every: usize,
    /// Clamping strength β (default: the model's `beta`, else 0.01).
    #[arg(long, value_name = "B")]
    pub beta: Option<f64>,
    /// Train the Gibbs state at temperature T instead of the eigenstate (Section IV; default:
    /// the model's `temperature`). Dense up to 12 qubits, typicality above.
    #[arg(long, value_name = "T")]
    pub temperature: Option<f64>,
    /// Thermal gradient estimator (default: the model's `thermal_gradient`, else clamped):
    /// clamped (±β), covariance (Eq. 43; biased for quantum models) or kubo-mori (exact,
    /// ≤ 12 qubits).
    #[arg(long, value_name = "E", value_parser = ["clamped", "covariance", "kubo-mori"])]
    pub thermal_gradient: Option<String>,
    /// Random vectors per typicality estimate (thermal training above 12 qubits).
    #[arg(long, value_name = "R")]
    pub samples: Option<usize>,
    #[command(flatten)]
    pub solver: SolverArgs,
}

/// `qep circuit`.
#[derive(Debug, Args)]
pub struct CircuitArgs {
    /// The circuit subcommand.
    #[command(subcommand)]
    pub command: CircuitCommand,
}

/// The subcommands of `qep circuit`.
#[derive(Debug, Subcommand)]
pub enum CircuitCommand {
    /// Execute an OpenQASM 2.0 file (qelib1.inc gates, measure, reset) and print the shot
    /// counts, bitstrings written as Qiskit writes them (qubit/clbit 0 rightmost).
    #[command(
        after_help = "Examples:\n  qep circuit run bell.qasm --shots 1000 --seed 7\n  qep circuit run ghz.qasm --statevector --json\n\nCounts are over the classical bits if the circuit measures, else over all qubits;\nonly outcomes that occurred are listed. --statevector prints the state before the final\nmeasurements (or after one seeded run if measurements are mid-circuit)."
    )]
    Run(CircuitRunArgs),
}

/// `qep circuit run`.
#[derive(Debug, Args)]
pub struct CircuitRunArgs {
    /// The circuit (OpenQASM 2.0).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Number of shots.
    #[arg(long, default_value_t = 1024, value_name = "N")]
    pub shots: u64,
    /// Seed of the measurement draws.
    #[arg(long, default_value_t = 0, value_name = "K")]
    pub seed: u64,
    /// Also print the amplitudes (at most 12 qubits).
    #[arg(long)]
    pub statevector: bool,
    /// Print a JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap's own consistency checks (conflicting names, bad defaults) on the whole CLI.
    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}

/// `qep prepare`.
#[derive(Debug, Args)]
pub struct PrepareArgs {
    #[command(flatten)]
    pub model: ModelArg,
    /// Start Hamiltonian (a model file; its Hamiltonian at its own parameters). Default −Σ X_i.
    #[arg(long, value_name = "START.yaml")]
    pub start: Option<PathBuf>,
    /// Sweep time T (default: the model's `preparation: adiabatic: time`, else 10).
    #[arg(long, value_name = "T", conflicts_with = "times")]
    pub time: Option<f64>,
    /// Several sweep times, comma-separated: one run each, reported under "runs".
    #[arg(long, value_delimiter = ',', value_name = "T1,T2,…")]
    pub times: Option<Vec<f64>>,
    /// Schedule s(t) (default: the model's, else linear).
    #[arg(long, value_enum, value_name = "SCHEDULE")]
    pub schedule: Option<ScheduleArg>,
    /// Integrator.
    #[arg(long, value_enum, default_value_t = PrepMethodArg::Magnus)]
    pub method: PrepMethodArg,
    /// Order of the Trotter circuit (--method trotter, and --qasm).
    #[arg(long, default_value_t = 2, value_name = "1|2")]
    pub trotter_order: u8,
    /// Time steps per sweep (default: the model's `steps`, else max(100, 5·T)).
    #[arg(long, value_name = "N")]
    pub steps: Option<usize>,
    /// Level to follow: 0 = ground state (the start state is level K of H_start).
    #[arg(long, default_value_t = 0, value_name = "K")]
    pub eigen: usize,
    /// Points s along the path where the spectrum is computed (0: none).
    #[arg(long, default_value_t = 21, value_name = "M")]
    pub gap_points: usize,
    /// Krylov error allowed per unit time.
    #[arg(long, default_value_t = 1e-10, value_name = "TOL")]
    pub krylov_tol: f64,
    /// Largest Krylov dimension (memory: that many state vectors).
    #[arg(long, default_value_t = 30, value_name = "M")]
    pub krylov_dim: usize,
    /// Training example I whose inputs enter H (models with a dataset).
    #[arg(long, value_name = "I")]
    pub example: Option<usize>,
    /// Also write the Trotter circuit of the sweep (at the last T) as OpenQASM 2.0.
    #[arg(long, value_name = "FILE.qasm")]
    pub qasm: Option<PathBuf>,
    /// Output folder (default: out/<model>-prepare).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace the result files of an earlier study in the output folder (without it, a
    /// folder that holds them is refused).
    #[arg(long)]
    pub overwrite: bool,
}

/// `--schedule`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ScheduleArg {
    /// s = t/T.
    Linear,
    /// s = u³(10 − 15u + 6u²): zero slope and curvature at both ends.
    Smooth,
    /// Locally adiabatic: ds/dt ∝ g(s)², from the coupled gap along the path.
    Local,
}

/// `qep prepare --method`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PrepMethodArg {
    /// Exponential midpoint rule with Krylov exponentials (2nd order).
    Krylov,
    /// Commutator-free Magnus CF4 with Krylov exponentials (4th order).
    Magnus,
    /// Trotter–Suzuki gate circuit run by the state-vector executor.
    Trotter,
}
