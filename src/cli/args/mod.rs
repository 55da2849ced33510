//! Command-line arguments (clap derive), one file per subcommand. Each subcommand's flags
//! fill a library settings struct; help texts carry an example per command.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

mod bench;
mod circuit;
mod convert;
mod evolve;
mod export;
mod grad;
mod info;
mod plateau;
mod prepare;
mod reproduce;
mod run;
mod shots;
mod solver;
mod spectrum;
mod thermal_scan;
mod thermalize;

pub use bench::BenchArgs;
pub use circuit::{CircuitArgs, CircuitCommand, CircuitRunArgs};
pub use convert::{ConvertArgs, ConvertFormat};
pub use evolve::{EvolveArgs, EvolveMethod};
pub use export::{ExportArgs, ExportFormat};
pub use grad::GradArgs;
pub use info::InfoArgs;
pub use plateau::{FamilyArg, PlateauArgs};
pub use prepare::{PrepMethodArg, PrepareArgs, ScheduleArg};
pub use reproduce::ReproduceArgs;
pub use run::RunArgs;
pub use shots::ShotsArgs;
pub use solver::{MemoryArg, MethodArg, SolverArgs};
pub use spectrum::SpectrumArgs;
pub use thermal_scan::ThermalScanArgs;
pub use thermalize::{ThermalizeArgs, ThermalizeMethod};

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
        after_help = "Example:\n  qep shots hamiltonians/ising_grid.yaml --shots 100,1000,10000,100000 --betas 0.02,0.05,0.1,0.2 --repeats 20\n\nShots are per commuting group (X-type, Z-type) and clamped state. Writes shots.csv,\nshots.json, shots.svg and shots.png (log-log error against shots, one curve per β) into --out."
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
        after_help = "Example:\n  qep thermal-scan hamiltonians/xor.yaml --temperatures 0.05,0.1,0.3,1,3\n\nDense (≤ 12 qubits). Writes thermal-scan.csv, .json, .svg and .png into --out."
    )]
    ThermalScan(ThermalScanArgs),
    /// Barren-plateau study: variance of the exact gradient ∂⟨C⟩/∂θ_k over random initial
    /// couplings, against the number of qubits, with a fitted exponential decay rate.
    #[command(
        after_help = "Examples:\n  qep plateau --family chain --sizes 4..12 --samples 100\n  qep plateau --family grid --sizes 4..16:2 --samples 200 --json\n  qep plateau hamiltonians/ising_grid.yaml --sizes 4,6,8   # the file's lattice family\n\nNetworks: trainable XX and ZZ on the lattice's edges (uniform in [-a, a], --init-range),\ntransverse field -1 on every site, input qubit 0 (u = 0.5), output qubit N-1 (d = 1).\nWrites plateau.csv, plateau.json, plateau.svg and plateau.png into --out."
    )]
    Plateau(PlateauArgs),
    /// Train the network by equilibrium propagation on its dataset (SGD/Adam on EP gradients)
    /// and write metrics.csv, params.json, summary.json, training.svg, training.png into --out;
    /// for a model without a dataset, solve its free phase (energies, ⟨Z⟩ on the outputs).
    #[command(
        after_help = "Examples:\n  qep run hamiltonians/ising_grid.yaml\n  qep run hamiltonians/xor.yaml --epochs 30 --out runs/xor\n  qep run hamiltonians/iris.yaml --out runs/iris --resume      # after a Ctrl-C\n\nEach epoch's files are written atomically. Ctrl-C stops before the next example, saves the\nlast completed epoch and exits with code 130; --resume continues from it bit for bit (the\nexample order is seeded per epoch) and refuses a checkpoint made with other settings\n(--force overrides). A folder that holds a run is refused without --resume or --overwrite."
    )]
    Run(RunArgs),
    /// State-preparation benchmark: sweep H(s) = (1 − s) H_start + s H_target from an
    /// eigenstate of H_start (default −Σ X_i, |+…+⟩) and verify the result by Lanczos:
    /// fidelity, energy error, residual, and the gaps along the path.
    #[command(
        after_help = "Examples:\n  qep prepare hamiltonians/bench/tfim_3x4.yaml --time 20\n  qep prepare hamiltonians/tfim_chain.yaml --times 1,2,5,10,20 --schedule smooth --json\n  qep prepare model.yaml --start start.yaml --eigen 1 --time 50\n  qep prepare hamiltonians/ising_grid.yaml --time 10 --method trotter --steps 50 --qasm circuits/ising_grid_adiabatic.qasm\n\nmethods: magnus (CF4, 4th order; default), krylov (exponential midpoint, 2nd order),\ntrotter (gate circuit, --trotter-order 1|2). Every exponential is a Krylov propagator with\nan a-posteriori error estimate (--krylov-tol per unit time). Writes prepare.csv,\nprepare.json, prepare.svg and prepare.png (infidelity vs T, gap vs s) into --out."
    )]
    Prepare(PrepareArgs),
    /// Prepare the Gibbs state e^{−H/T}/Z physically: algorithmic cooling by collisions with
    /// thermal ancillas (cooling) or the Davies generator (davies), with the trace distance to
    /// the exact Gibbs state, ⟨H⟩, ⟨C⟩ and observables per step.
    #[command(
        after_help = "Examples:\n  qep thermalize hamiltonians/explicit.yaml --temperature 0.5\n  qep thermalize model.yaml --temperature 2 --method davies --steps 40 --observe \"Z0,Z0 Z1\" --json\n\nCooling: the network plus --ancillas qubits, each of field (ω/2)Z (ground state |1⟩) reset to\nits thermal state after every collision of length --duration with coupling --coupling; the\nfrequencies cycle over the network's Bohr frequencies. Dense: N + ancillas ≤ 10 (davies: N ≤ 7).\nWrites thermalize.csv, thermalize.json, thermalize.svg and thermalize.png into --out."
    )]
    Thermalize(ThermalizeArgs),
    /// Run OpenQASM 2.0 and 3.0 circuits on the state-vector simulator.
    #[command(after_help = "Example:\n  qep circuit run bell.qasm --shots 1000 --seed 7 --json")]
    Circuit(CircuitArgs),
    /// Convert a Pauli sum between Qiskit JSON, OpenFermion text and qep YAML.
    #[command(
        after_help = "Examples:\n  qep convert h.json h.yaml              # Qiskit SparsePauliOp.to_list() → qep model\n  qep convert hamiltonians/xor.yaml xor.txt --json   # → OpenFermion QubitOperator text\n  qep convert h.of h.json --qubits 6\n\nFormats from the extension (.json Qiskit, .txt/.of OpenFermion, .yaml/.yml qep) or --from/--to.\nQiskit labels put qubit 0 rightmost; OpenFermion and qep name qubits by index. A model with\ntrainable parameters is converted at their current values (H_fixed + Σ θ_k P_k at β = 0,\nwithout input fields). In Python: SparsePauliOp.from_list(json.load(open(\"h.json\")))."
    )]
    Convert(ConvertArgs),
    /// Rerun every study of RESULTS.md with fixed seeds into results/ and rewrite RESULTS.md.
    #[command(
        after_help = "Examples:\n  qep reproduce                 # the full run (about 50 CPU-minutes: 60-90 minutes on 2 shared cores)\n  qep reproduce --quick --out /tmp/r --report /tmp/r/RESULTS.md\n  qep reproduce --only digits   # rerun one study; the others keep their saved results\n\nStudies: qep plateau, ground state and thermal (chain, grid, all-to-all, tfim-chain; the\nthermal gradient by typicality above 10 qubits) with the Lie-algebra check, qep shots (xor,\nparity3, ising_grid), qep thermal-scan (covariance vs Kubo-Mori), qep grad --prep-times and\nqep prepare (preparation vs gradient), qep run on Iris and the 8x8 digits (5 seeds each),\neach run as the command printed in RESULTS.md; the report gives every table, the PNG plots,\nthe wall time of each study and one sentence per finding.\n./results/reproduce.sh builds qep and runs this from the repository root."
    )]
    Reproduce(ReproduceArgs),
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

/// `--out DIR --overwrite` of the study commands (`shots`, `prepare`, `thermalize`,
/// `thermal-scan`, `plateau`). Each command names its default folder in the help of `--out`
/// with `#[command(mut_arg("out", …))]`.
#[derive(Debug, Args)]
pub struct StudyOut {
    /// Output folder.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace the result files of an earlier study in the output folder (without it, a
    /// folder that holds them is refused).
    #[arg(long)]
    pub overwrite: bool,
}

/// Help of `--beta` where the model's `beta` is the default: the fallback is the one
/// `EpParams::DEFAULT_BETA`, written from it.
fn beta_help() -> String {
    format!(
        "Clamping strength β (default: the model's `beta`, else {}; with shots and no β \
         chosen for them, the shot-aware β of the bias–noise error model, printed with its \
         reason)",
        qep::ep::EpParams::DEFAULT_BETA
    )
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
