//! Quantum trajectories (Monte Carlo wave function): the stochastic unravelling of the same
//! Lindblad equation as [`super::evolve_lindblad`], on state vectors (`2^n` amplitudes instead
//! of `4^n`).
//!
//! Between jumps the unnormalised state follows `dψ/dt = −i H_eff ψ` with the effective
//! Hamiltonian `H_eff = H − (i/2) Σ_k γ_k L_k† L_k` (one matrix-free [`XMaskOperator`]); its
//! norm decays as `d‖ψ‖²/dt = −Σ_k γ_k ‖L_k ψ‖²`. Waiting-time method: draw `r ~ U(0, 1]`,
//! integrate until `‖ψ‖² = r` (the crossing is located on the step's dense output), pick channel
//! `k` with probability `∝ γ_k ‖L_k ψ‖²`, set `ψ ← L_k ψ / ‖L_k ψ‖`, redraw `r`. The average of
//! `|ψ⟩⟨ψ| / ‖ψ‖²` over trajectories is the Lindblad `ρ(t)` (docs/DESIGN.md rate convention
//! `γ (LρL† − ½{L†L, ρ})`).

use rayon::prelude::*;

mod integrate;

use super::lindblad::StepStats;
use super::EvolveError;
use crate::measure::stats::Welford;
use crate::operator::XMaskOperator;
use crate::pauli::PauliSum;
use crate::state::memory::{self, MemoryPlan};
use crate::state::StateError;
use crate::C64;

/// Coefficients with `|c| ≤` this are dropped when `L_k† L_k` is simplified.
const SIMPLIFY_TOL: f64 = 1e-15;

/// Above this many qubits trajectories run one after another and the vector kernels run in
/// parallel (`H·ψ` is parallel over tiles from 17 qubits); up to it, trajectories run in
/// parallel and every kernel of one trajectory is serial.
pub const TRAJ_PARALLEL_MAX_QUBITS: usize = 16;

/// State vectors of workspace per worker (ψ, the new ψ, a stage, a scratch vector, 7 stages).
pub const WORK_VECTORS: usize = 11;

/// Pairs of trajectories per batch: a batch is run in parallel, then its results are folded
/// in trajectory order, so the statistics do not depend on the thread count.
const BATCH_PAIRS: usize = 64;

/// Amplitudes per fixed chunk of a reduction (partial sums are added in chunk order, serial
/// or parallel alike, so both give the same bits).
const CHUNK: usize = 1 << 12;

/// Settings of [`evolve_trajectories`].
#[derive(Clone, Debug, PartialEq)]
pub struct TrajectoryOptions {
    /// Number of trajectories (default 100).
    pub ntraj: usize,
    /// Seed: trajectory `j` draws from ChaCha8 seeded with `seed`, stream `j` (default 0).
    pub seed: u64,
    /// Absolute tolerance per amplitude of the unnormalised ψ (default 1e-8, as QuTiP).
    pub atol: f64,
    /// Relative tolerance per amplitude (default 1e-6, as QuTiP).
    pub rtol: f64,
    /// Minimum step: a step rejected below it is an error (default 1e-12).
    pub h_min: f64,
    /// Budget of attempted steps per trajectory (default 10⁷).
    pub max_steps: usize,
    /// Estimate the purity `Tr ρ²` from disjoint pairs of trajectories (default true). Costs
    /// one stored state per output time per worker.
    pub purity: bool,
}

impl Default for TrajectoryOptions {
    fn default() -> Self {
        Self {
            ntraj: 100,
            seed: 0,
            atol: 1e-8,
            rtol: 1e-6,
            h_min: 1e-12,
            max_steps: 10_000_000,
            purity: true,
        }
    }
}

/// Result of [`evolve_trajectories`]: trajectory averages at the output times with their
/// standard errors, jump counts and integrator statistics.
#[derive(Clone, Debug)]
pub struct TrajectoryResult {
    /// The output times.
    pub times: Vec<f64>,
    /// `observables[j][i]`: mean over trajectories of `⟨ψ|A_j|ψ⟩/⟨ψ|ψ⟩` at `t_i`.
    pub observables: Vec<Vec<f64>>,
    /// `std_errors[j][i]`: standard error of that mean, `s/√M` with `s` the sample standard
    /// deviation (`M − 1` in the denominator); 0 if fewer than two trajectories ran.
    pub std_errors: Vec<Vec<f64>>,
    /// Unbiased estimate of `Tr ρ(t_i)²`: the mean of `|⟨ψ_a|ψ_b⟩|²` over the disjoint pairs
    /// `(a, b) = (2p, 2p + 1)` (independent trajectories, so `E|⟨ψ_a|ψ_b⟩|² = Tr ρ²`). `None` if
    /// not requested or fewer than two trajectories ran (exactly 1 for a deterministic run).
    pub purity: Option<Vec<f64>>,
    /// Standard error of [`TrajectoryResult::purity`] over the pairs.
    pub purity_std_errors: Option<Vec<f64>>,
    /// Trajectories run: `ntraj`, or 1 if no jump has a positive rate (every trajectory would
    /// be the same Schrödinger evolution).
    pub ntraj: usize,
    /// Mean number of jumps per trajectory up to the last output time.
    pub jumps_mean: f64,
    /// Total jumps per jump operator, in the order given (0 for zero rates).
    pub jumps_per_channel: Vec<u64>,
    /// Per trajectory, the time of its first jump (`None` if none before the last output time).
    pub first_jump_times: Vec<Option<f64>>,
    /// Integrator statistics summed over trajectories.
    pub stats: StepStats,
}

/// One jump channel with a positive rate.
struct Channel {
    /// Position in the caller's jump list.
    index: usize,
    rate: f64,
    op: XMaskOperator,
    /// `L† L`, for `‖Lψ‖² = ⟨ψ|L†L|ψ⟩` without a temporary.
    ldl: PauliSum,
}

/// Everything shared by the trajectories.
struct Problem<'a> {
    dim: usize,
    heff: XMaskOperator,
    channels: Vec<Channel>,
    n_channels: usize,
    psi0: Vec<C64>,
    times: &'a [f64],
    observables: &'a [PauliSum],
    opts: &'a TrajectoryOptions,
    /// Vector kernels parallel over chunks (big states) rather than serial.
    par: bool,
}

/// Per-worker buffers, allocated once per rayon job of a batch (never inside the step loop).
struct Work {
    y: Vec<C64>,
    ynew: Vec<C64>,
    ystage: Vec<C64>,
    scratch: Vec<C64>,
    k: Vec<Vec<C64>>,
    /// Partial sums of the chunked reductions.
    partials: Vec<[f64; 16]>,
    /// The first trajectory's normalised states at the output times (purity pairs).
    snapshots: Vec<C64>,
    /// Jump weights per channel.
    weights: Vec<f64>,
}

/// What one trajectory does at its output times besides the observables.
#[derive(Clone, Copy, PartialEq)]
enum Record {
    Nothing,
    /// Store the normalised state in `snapshots`.
    Store,
    /// Record `|⟨snapshot|ψ⟩|²/‖ψ‖²`.
    Overlap,
}

/// One trajectory's results.
struct TrajOut {
    /// `obs[i · n_obs + j]` at time `i`.
    obs: Vec<f64>,
    overlaps: Vec<f64>,
    jumps: Vec<u64>,
    first_jump: Option<f64>,
    stats: StepStats,
}

/// Evolves `ψ₀` by `ntraj` quantum trajectories of the Lindblad equation `dρ/dt = −i[H, ρ] +
/// Σ_k γ_k (L_k ρ L_k† − ½{L_k† L_k, ρ})` (`jumps` are `(L_k, γ_k)`, docs/DESIGN.md convention) and
/// returns, at each output time, the trajectory mean of `⟨ψ|A_j|ψ⟩/⟨ψ|ψ⟩` for the Hermitian
/// `observables` with its standard error, the pair estimate of the purity, jump counts and
/// integrator statistics. See [`evolve_trajectories_with_progress`] for the algorithm.
///
/// # Errors
/// As [`evolve_trajectories_with_progress`].
pub fn evolve_trajectories(
    h: &PauliSum,
    jumps: &[(PauliSum, f64)],
    psi0: &[C64],
    times: &[f64],
    observables: &[PauliSum],
    opts: &TrajectoryOptions,
) -> Result<TrajectoryResult, EvolveError> {
    evolve_trajectories_with_progress(h, jumps, psi0, times, observables, opts, &|| {})
}

/// The buffers [`evolve_trajectories`] allocates for `n` qubits, `jumps` jump operators,
/// `ntraj` trajectories and `times` output times (with `purity` pair states), with `threads`
/// workers: the effective Hamiltonian's and every channel's stored diagonal, the normalised
/// start, and per worker [`WORK_VECTORS`] state vectors (plus one per output time for the
/// purity).
pub fn trajectories_memory(
    n: usize,
    jumps: usize,
    ntraj: usize,
    times: usize,
    purity: bool,
    threads: usize,
) -> MemoryPlan {
    let vec = memory::state_bytes(n, 16);
    let npairs = ntraj.max(1).div_ceil(2);
    let workers = if n <= TRAJ_PARALLEL_MAX_QUBITS && npairs > 1 {
        threads.max(1).min(npairs)
    } else {
        1
    };
    let vectors = WORK_VECTORS + if purity { times } else { 0 };
    let mut plan = MemoryPlan::part("trajectories");
    plan.add("H_eff diagonal", vec)
        .add_n("jump operator diagonals", jumps, vec)
        .add("initial state", vec)
        .add_n(
            &format!("trajectory workspaces ({workers} worker(s) × {vectors} vectors)"),
            workers * vectors,
            vec,
        );
    plan
}

/// [`evolve_trajectories`], calling `progress()` once per finished trajectory (from worker
/// threads, in no particular order).
///
/// Algorithm: per trajectory, adaptive Dormand–Prince 5(4) on the unnormalised ψ with
/// `dψ/dt = −i H_eff ψ`, `H_eff = H − (i/2) Σ_k γ_k L_k†L_k` applied matrix-free (error per
/// amplitude against `atol + rtol·|ψ_b|`, RMS norm, the step controller of
/// [`super::evolve_lindblad`], steps clipped only at the last output time). Output times and
/// jump times are read off the step's fourth-order dense output: `‖ψ(t + θh)‖²` is then a
/// degree-8 polynomial in `θ` (its coefficients are the 15 inner products of the interpolant's
/// vector coefficients, one pass), whose first crossing of `r` is found by bisection to
/// `|Δθ| < 1e-15`. Trajectory `j` draws its numbers from ChaCha8 seeded with `opts.seed` on
/// stream `j`; trajectories run in parallel (rayon) in batches whose results are folded in
/// trajectory order, so the output is bit-identical for any thread count. Above
/// [`TRAJ_PARALLEL_MAX_QUBITS`] qubits trajectories run in sequence with parallel kernels.
/// Without a jump of positive rate every trajectory is the same Schrödinger evolution: one is
/// run and the standard errors are 0.
///
/// Memory: [`WORK_VECTORS`] state vectors per worker, plus one per output time if
/// `opts.purity` (checked before allocating, times the rayon thread count when trajectories
/// run in parallel). Nothing is allocated inside the step loop.
///
/// # Errors
/// [`StateError::QubitMismatch`] (ψ₀ not of length `2^n`, or a jump or observable on more
/// qubits), [`StateError::NonHermitianHamiltonian`], [`EvolveError::NonHermitianObservable`],
/// [`EvolveError::BadRate`], [`EvolveError::BadTimes`], [`EvolveError::BadTolerance`],
/// [`EvolveError::NoTrajectories`], [`EvolveError::ZeroNormState`] for invalid input;
/// [`StateError::Memory`] / [`StateError::Operator`] if the workspace does not fit;
/// [`EvolveError::StepTooSmall`] / [`EvolveError::TooManySteps`] if a trajectory's integrator
/// fails (the first failing trajectory in index order is reported).
pub fn evolve_trajectories_with_progress(
    h: &PauliSum,
    jumps: &[(PauliSum, f64)],
    psi0: &[C64],
    times: &[f64],
    observables: &[PauliSum],
    opts: &TrajectoryOptions,
    progress: &(dyn Fn() + Sync),
) -> Result<TrajectoryResult, EvolveError> {
    let n = h.qubits();
    let dim = 1usize << n;
    if psi0.len() != dim {
        return Err(StateError::QubitMismatch {
            what: format!("initial state (length {})", psi0.len()),
            expected: n,
            found: psi0.len().max(1).ilog2() as usize,
        }
        .into());
    }
    validate(h, jumps, times, observables, opts)?;
    let norm = psi0.iter().map(|v| v.norm_sqr()).sum::<f64>().sqrt();
    if !(norm > 0.0 && norm.is_finite()) {
        return Err(EvolveError::ZeroNormState { norm });
    }

    // H_eff = H − (i/2) Σ γ L†L, and the channels with positive rates.
    let mut heff = PauliSum::new(n);
    heff.add_sum(h, C64::new(1.0, 0.0));
    let mut channels = Vec::new();
    for (k, (l, rate)) in jumps.iter().enumerate() {
        let mut wide = PauliSum::new(n);
        for &(p, c) in l.terms() {
            wide.add(p, c);
        }
        let l = wide.simplified(0.0);
        let ldl = l.adjoint().product(&l).simplified(SIMPLIFY_TOL);
        if *rate > 0.0 && !ldl.is_empty() {
            heff.add_sum(&ldl, C64::new(0.0, -0.5 * rate));
            channels.push(Channel {
                index: k,
                rate: *rate,
                op: XMaskOperator::new(&l)?,
                ldl,
            });
        }
    }
    heff.simplify(SIMPLIFY_TOL);
    let heff = XMaskOperator::new(&heff)?;
    let ntraj = if channels.is_empty() {
        1
    } else {
        opts.ntraj.max(1)
    };
    let npairs = ntraj.div_ceil(2);
    let traj_parallel = n <= TRAJ_PARALLEL_MAX_QUBITS && npairs > 1;
    let workers = if traj_parallel {
        rayon::current_num_threads().min(npairs)
    } else {
        1
    };
    let vectors = WORK_VECTORS + if opts.purity { times.len() } else { 0 };
    let bytes = memory::state_bytes(n, 16)
        .saturating_mul(vectors as u128)
        .saturating_mul(workers as u128);
    memory::check_alloc_u128(
        bytes,
        &format!(
            "trajectory workspace ({workers} worker(s) × {vectors} state vectors of {n} qubits)"
        ),
    )?;

    let problem = Problem {
        dim,
        heff,
        n_channels: jumps.len(),
        channels,
        psi0: psi0.iter().map(|v| v / norm).collect(),
        times,
        observables,
        opts,
        par: !traj_parallel,
    };

    let nt = times.len();
    let nobs = observables.len();
    let mut obs_acc = vec![Welford::default(); nt * nobs];
    let mut pur_acc = vec![Welford::default(); nt];
    let mut jumps_per_channel = vec![0u64; jumps.len()];
    let mut first_jump_times = Vec::with_capacity(ntraj);
    let mut stats = StepStats::default();
    let mut total_jumps = 0u64;

    let run_pair = |w: &mut Work, p: usize| -> Result<Vec<TrajOut>, EvolveError> {
        let a = 2 * p;
        let mut outs = Vec::with_capacity(2);
        let pair = a + 1 < ntraj;
        let rec = if pair && opts.purity {
            Record::Store
        } else {
            Record::Nothing
        };
        outs.push(problem.run(w, a, rec)?);
        progress();
        if pair {
            let rec = if opts.purity {
                Record::Overlap
            } else {
                Record::Nothing
            };
            outs.push(problem.run(w, a + 1, rec)?);
            progress();
        }
        Ok(outs)
    };

    for b0 in (0..npairs).step_by(BATCH_PAIRS) {
        let b1 = (b0 + BATCH_PAIRS).min(npairs);
        let results: Vec<Result<Vec<TrajOut>, EvolveError>> = if traj_parallel {
            (b0..b1)
                .into_par_iter()
                .map_init(|| problem.work(), run_pair)
                .collect()
        } else {
            let mut w = problem.work();
            (b0..b1).map(|p| run_pair(&mut w, p)).collect()
        };
        for r in results {
            for t in r? {
                for (acc, &v) in obs_acc.iter_mut().zip(&t.obs) {
                    acc.push(v);
                }
                for (acc, &v) in pur_acc.iter_mut().zip(&t.overlaps) {
                    acc.push(v);
                }
                for (c, &j) in jumps_per_channel.iter_mut().zip(&t.jumps) {
                    *c += j;
                    total_jumps += j;
                }
                first_jump_times.push(t.first_jump);
                stats.steps += t.stats.steps;
                stats.rejected += t.stats.rejected;
                stats.rhs_evals += t.stats.rhs_evals;
            }
        }
    }

    let deterministic = problem.channels.is_empty();
    let purity_available = opts.purity && (deterministic || ntraj >= 2);
    let (purity, purity_std_errors) = if !purity_available {
        (None, None)
    } else if deterministic {
        (Some(vec![1.0; nt]), Some(vec![0.0; nt]))
    } else {
        (
            Some(pur_acc.iter().map(|a| a.mean()).collect()),
            Some(pur_acc.iter().map(Welford::sem).collect()),
        )
    };
    let per_obs = |f: &dyn Fn(&Welford) -> f64| -> Vec<Vec<f64>> {
        (0..nobs)
            .map(|j| (0..nt).map(|i| f(&obs_acc[i * nobs + j])).collect())
            .collect()
    };
    Ok(TrajectoryResult {
        times: times.to_vec(),
        observables: per_obs(&|a| a.mean()),
        std_errors: per_obs(&Welford::sem),
        purity,
        purity_std_errors,
        ntraj,
        jumps_mean: total_jumps as f64 / ntraj as f64,
        jumps_per_channel,
        first_jump_times,
        stats,
    })
}

/// Input checks shared with [`super::evolve_lindblad`].
fn validate(
    h: &PauliSum,
    jumps: &[(PauliSum, f64)],
    times: &[f64],
    observables: &[PauliSum],
    opts: &TrajectoryOptions,
) -> Result<(), EvolveError> {
    let n = h.qubits();
    super::check_hamiltonian(h)?;
    for (k, (l, rate)) in jumps.iter().enumerate() {
        super::check_jump(k, l, *rate, n)?;
    }
    super::check_observables(observables, n)?;
    super::check_times_and_tolerance(times, opts.atol, opts.rtol)?;
    if opts.ntraj == 0 {
        return Err(EvolveError::NoTrajectories);
    }
    Ok(())
}
