//! The pure-state unravelling of the collision-model cooling protocol ([`super::cool`]): every
//! trajectory carries a state vector of the network plus its `k` ancillas instead of a
//! `4^{N+k}` density matrix, so the protocol runs far beyond the dense limit of
//! [`super::COOLING_MAX_QUBITS`].
//!
//! One collision of one trajectory (same schedule as [`super::cool`]: the same frequency groups
//! from [`frequency_groups`], the same operator cycling `op0 = c mod |ops|` for collision `c`,
//! the same [`collision_hamiltonian`]):
//!
//! 1. each ancilla `a` is put in `|0⟩` (excited) with probability `p₀(ω_a) = 1/(1 + e^{ω_a/T})`,
//!    else in `|1⟩` (its thermal populations, [`super::thermal_qubit`]);
//! 2. `|ψ_S⟩ ⊗ |a_1 … a_k⟩` is evolved for the collision time `τ` under `H_tot`, with the
//!    matrix-free Krylov propagator ([`Krylov`]) or, for `N + k ≤ 10`, the exact dense unitary
//!    `e^{−iH_tot τ}` built once per collision and shared by all trajectories
//!    ([`CollisionPropagator`]; at small sizes Krylov's per-iteration overhead dominates:
//!    ~1000 products per collision of `τ = 100`);
//! 3. the ancillas are measured in the `Z` basis: the joint outcome `c ∈ {0,1}^k` is drawn with
//!    probability `‖Π_c ψ‖²` (ancillas are the high qubits, so `Π_c ψ` is the contiguous block
//!    `c` of `2^N` amplitudes), and the block, renormalised, is the new system state.
//!
//! Why this is exact in the mean: the thermal ancilla state is the mixture of `|0⟩`, `|1⟩` with
//! weights `p₀`, `p₁`, and a `Z` measurement of the ancillas before the partial trace does not
//! change `ρ_S = Tr_a U(ρ_S ⊗ τ_a)U†` (the trace is the sum over the outcomes). Hence
//! `E[|ψ_S⟩⟨ψ_S|]` after any number of collisions equals the density-matrix protocol's `ρ_S`,
//! and trajectory means of `⟨ψ_S|A|ψ_S⟩` converge to `Tr ρ_S A` with standard error `∝ 1/√M`.
//!
//! Initial state ([`InitialEnsemble`]): a pure state is used as is; the maximally mixed state
//! `I/2^N` is unravelled as a **uniformly random computational basis state** per trajectory
//! (its ensemble average is exactly `I/2^N`; cheaper than Haar-random states, one draw).
//!
//! Random numbers: trajectory `j` draws from ChaCha8 seeded with `seed`, stream `j`, in this
//! order: the initial basis state (mixed start only), then per collision `k` uniforms for the
//! ancillas (ancilla `a` is excited iff `u < p₀(ω_a)`) and one uniform for the outcome. The
//! trajectories of a collision run in parallel (rayon), each with its own fresh Krylov
//! workspace, and every statistic is folded in trajectory order, so results are bit-identical
//! for any thread count.
//!
//! For `N ≤` [`super::COOLING_MAX_QUBITS`] the mean `ρ̂ = (1/M) Σ_j |ψ_j⟩⟨ψ_j|` is rebuilt after
//! every round and compared with the exact Gibbs state. With `M` trajectories, `ρ̂` has rank
//! `≤ M` and fluctuations of order `√(d/M)` in trace norm (`d = 2^N`), so its trace distance to
//! the Gibbs state has a statistical floor of that order (see [`statistical_floor`]) even if the
//! protocol were exact.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::cooling::{
    bohr_frequencies, check_params, collision_hamiltonian, frequency_groups, system_operators,
    CoolingParams, COOLING_MAX_QUBITS,
};
use std::collections::HashMap;

use faer::Mat;

use super::cooling::unitary;
use super::density::{check_density_alloc, DensityMatrix};
use super::gibbs::{check_temperature, dense_eigen, GibbsDensity};
use super::EvolveError;
use crate::adiabatic::{Krylov, KrylovParams, KrylovStats};
use crate::measure::stats::Welford;
use crate::operator::{XMaskOperator, DENSE_MAX_QUBITS};
use crate::pauli::PauliSum;
use crate::state::StateError;
use crate::state::{expectation_sum, memory};
use crate::C64;

/// How a collision of a trajectory is propagated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum CollisionPropagator {
    /// [`CollisionPropagator::Dense`] for `N + k ≤` [`COOLING_MAX_QUBITS`], else Krylov
    /// (default).
    Auto,
    /// The exact `U = e^{−iH_tot τ}` from a dense eigensolve of `2^{N+k}` (at most
    /// [`COOLING_MAX_QUBITS`] qubits), one per distinct collision Hamiltonian (cached within
    /// [`DENSE_CACHE_BYTES`]), applied to the one non-zero ancilla block of each trajectory.
    Dense,
    /// The matrix-free Krylov propagator ([`Krylov`]), a fresh workspace per collision.
    Krylov,
}

/// Memory for cached dense collision unitaries ([`CollisionPropagator::Dense`]); unitaries
/// beyond it are rebuilt at every use.
pub const DENSE_CACHE_BYTES: usize = 512 << 20;

/// Settings of [`cool_trajectories`].
#[derive(Clone, Debug, PartialEq)]
pub struct CoolingTrajectoryParams {
    /// The protocol: coupling `g`, collision time `τ`, ancillas `k`, frequencies, resolution,
    /// rounds and system operators, as in [`super::cool`] (`propagator` and `options` are
    /// ignored: collisions are propagated by Krylov).
    pub cooling: CoolingParams,
    /// Number of trajectories `M` (default 200).
    pub trajectories: usize,
    /// Seed: trajectory `j` draws from ChaCha8 seeded with `seed`, stream `j` (default 0).
    pub seed: u64,
    /// Krylov propagator settings (default tolerance 1e-10 per unit time, dimension 30).
    pub krylov: KrylovParams,
    /// How collisions are propagated (default [`CollisionPropagator::Auto`]).
    pub propagator: CollisionPropagator,
}

impl Default for CoolingTrajectoryParams {
    fn default() -> Self {
        Self {
            cooling: CoolingParams::default(),
            trajectories: 200,
            seed: 0,
            krylov: KrylovParams::default(),
            propagator: CollisionPropagator::Auto,
        }
    }
}

/// The initial system state of [`cool_trajectories`].
#[derive(Clone, Copy, Debug)]
pub enum InitialEnsemble<'a> {
    /// A pure state `|ψ₀⟩` (`2^N` amplitudes, normalised internally): every trajectory starts
    /// in it.
    Pure(&'a [C64]),
    /// The maximally mixed state `I/2^N`: every trajectory starts in a uniformly random
    /// computational basis state.
    MaximallyMixed,
}

/// Outcome counts of the ancillas of one frequency, summed over trajectories and collisions.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct AncillaStats {
    /// Ancilla frequency `ω`.
    pub frequency: f64,
    /// Thermal population of the excited state `|0⟩`, `p₀ = 1/(1 + e^{ω/T})`.
    pub thermal_excited: f64,
    /// Ancillas of this frequency prepared (= measured).
    pub count: u64,
    /// Of those, prepared in `|0⟩` (excited).
    pub prepared_excited: u64,
    /// Of those, measured in `|0⟩` after the collision (`measured − prepared` excitations is
    /// the net energy, in units of `ω`, the ancillas took from the network).
    pub measured_excited: u64,
}

/// Result of [`cool_trajectories`]: trajectory means with standard errors per round.
#[derive(Clone, Debug)]
pub struct CoolingTrajectories {
    /// Rounds `0, 1, …, R` (round 0 = the initial state).
    pub steps: Vec<f64>,
    /// Mean of `⟨ψ_S|H|ψ_S⟩` per round.
    pub energy: Vec<f64>,
    /// Its standard error `s/√M` (sample standard deviation, `M − 1` denominator).
    pub energy_std_errors: Vec<f64>,
    /// `observables[j][r]`: mean of `⟨ψ_S|A_j|ψ_S⟩` after round `r`.
    pub observables: Vec<Vec<f64>>,
    /// Standard errors of [`CoolingTrajectories::observables`].
    pub std_errors: Vec<Vec<f64>>,
    /// Trace distance of `ρ̂ = mean |ψ_S⟩⟨ψ_S|` to the exact Gibbs state per round (`None` for
    /// `N > ` [`COOLING_MAX_QUBITS`]); subject to the floor [`statistical_floor`].
    pub trace_distance: Option<Vec<f64>>,
    /// [`statistical_floor`] for the Gibbs state's effective dimension `1/Σ p_n²` (`None` for
    /// `N >` [`COOLING_MAX_QUBITS`]).
    pub trace_distance_floor: Option<f64>,
    /// `ρ̂` after the last round (`None` for `N >` [`COOLING_MAX_QUBITS`]).
    pub final_state: Option<DensityMatrix>,
    /// Exact Gibbs energy (`None` for `N >` [`COOLING_MAX_QUBITS`]).
    pub gibbs_energy: Option<f64>,
    /// The ancilla frequencies cycled in each round.
    pub frequencies: Vec<f64>,
    /// Collisions per trajectory.
    pub collisions: usize,
    /// Trajectories run.
    pub trajectories: usize,
    /// Ancilla outcome counts, one entry per entry of [`CoolingTrajectories::frequencies`].
    pub ancillas: Vec<AncillaStats>,
    /// Krylov counters summed over all collisions of all trajectories (zero for the dense
    /// propagator).
    pub krylov: KrylovStats,
    /// The propagator used (`Dense` or `Krylov`).
    pub propagator: CollisionPropagator,
}

/// The order of magnitude `½ min(1, √(d_eff/M))` of the trace distance between the mean of `M`
/// random pure states and the density matrix `ρ` they sample, with `d_eff = 1/Tr ρ²` the
/// effective dimension (`2^N` for `I/2^N`): below it a trace distance from trajectories says
/// nothing (for `M ≫ d` and `ρ = I/d` the exact mean is `≈ (4/(3π))√(d/M)`).
pub fn statistical_floor(effective_dimension: f64, trajectories: usize) -> f64 {
    0.5 * (effective_dimension.max(1.0) / trajectories.max(1) as f64)
        .sqrt()
        .min(1.0)
}

/// One trajectory between collisions.
struct Traj {
    psi: Vec<C64>,
    rng: ChaCha8Rng,
}

/// What one collision of one trajectory reports.
struct CollisionOut {
    /// Ancilla `a` prepared excited (bit `a`).
    prepared: u32,
    /// Ancilla `a` measured excited (bit `a`).
    measured: u32,
    stats: KrylovStats,
}

/// Runs the cooling protocol of [`super::cool`] as `params.trajectories` pure-state trajectories
/// (the [module docs](self)) from `initial`, for `params.cooling.rounds` rounds, recording after
/// each round the trajectory means and standard errors of `⟨H⟩` and of the Hermitian
/// `observables`, and for `N ≤` [`COOLING_MAX_QUBITS`] the trace distance of the mean state to
/// the exact Gibbs state. `on_round(r, rounds)` is called after each round.
///
/// The default frequencies (Bohr frequencies of `H`) need a dense spectrum, so `N ≤ 12` unless
/// `params.cooling.frequencies` is given. Memory: `M` system states plus, per rayon worker, a
/// Krylov workspace of `max_dim + 2` vectors of `2^{N+k}` amplitudes; for `N ≤ 10` also two
/// `4^N` density matrices.
///
/// # Errors
/// [`StateError::TemperatureNotPositive`]; [`EvolveError::BadParameter`] as [`super::cool`];
/// [`EvolveError::NoTrajectories`] for `M = 0`; [`StateError::QubitMismatch`] for the initial
/// state, observables or system operators; [`EvolveError::ZeroNormState`];
/// [`StateError::NonHermitianHamiltonian`], [`EvolveError::NonHermitianObservable`];
/// [`StateError::TooManyQubits`] if the default frequencies are asked for `N > 12`;
/// [`EvolveError::Propagator`] if the Krylov propagator fails; memory errors.
pub fn cool_trajectories(
    h: &PauliSum,
    temperature: f64,
    initial: InitialEnsemble<'_>,
    observables: &[PauliSum],
    params: &CoolingTrajectoryParams,
    mut on_round: impl FnMut(usize, usize),
) -> Result<CoolingTrajectories, EvolveError> {
    check_temperature(temperature)?;
    let cp = &params.cooling;
    check_params(cp)?;
    if params.trajectories == 0 {
        return Err(EvolveError::NoTrajectories);
    }
    super::check_hamiltonian(h)?;
    let n = h.qubits();
    let k = cp.ancillas;
    let dim = 1usize << n;
    let m = params.trajectories;
    super::check_observables(observables, n)?;
    let psi0: Option<Vec<C64>> = match initial {
        InitialEnsemble::MaximallyMixed => None,
        InitialEnsemble::Pure(psi) => {
            if psi.len() != dim {
                return Err(StateError::QubitMismatch {
                    what: format!("initial state (length {})", psi.len()),
                    expected: n,
                    found: psi.len().max(1).ilog2() as usize,
                }
                .into());
            }
            let norm = psi.iter().map(|v| v.norm_sqr()).sum::<f64>().sqrt();
            if !(norm > 0.0 && norm.is_finite()) {
                return Err(EvolveError::ZeroNormState { norm });
            }
            Some(psi.iter().map(|v| v / norm).collect())
        }
    };
    let ops = system_operators(cp, n)?;
    let dense = match params.propagator {
        CollisionPropagator::Auto => n + k <= COOLING_MAX_QUBITS,
        CollisionPropagator::Dense => {
            if n + k > COOLING_MAX_QUBITS {
                return Err(StateError::TooManyQubits {
                    method: "cooling trajectories, dense propagator (network + ancillas)",
                    qubits: n + k,
                    max: COOLING_MAX_QUBITS,
                }
                .into());
            }
            true
        }
        CollisionPropagator::Krylov => false,
    };
    let reconstruct = n <= COOLING_MAX_QUBITS;
    let gibbs = if reconstruct {
        check_density_alloc(n, 6, "cooling trajectories (mean state)")?;
        Some(GibbsDensity::new(h, temperature)?)
    } else {
        None
    };
    let frequencies = if !cp.frequencies.is_empty() {
        cp.frequencies.clone()
    } else if let Some(g) = &gibbs {
        bohr_frequencies(&g.energies, cp.resolution)
    } else {
        let (e, _) = dense_eigen(
            h,
            DENSE_MAX_QUBITS,
            "cooling trajectories: default ancilla frequencies (Bohr frequencies)",
        )?;
        bohr_frequencies(&e, cp.resolution)
    };
    if frequencies.is_empty() {
        return Err(EvolveError::BadParameter {
            name: "number of ancilla frequencies",
            value: 0.0,
            expected: "at least 1 (the Hamiltonian has no Bohr frequency > 0)",
        });
    }
    let groups = frequency_groups(&frequencies, k);
    let p_excited: Vec<f64> = frequencies
        .iter()
        .map(|&w| thermal_qubit_excited(w, temperature))
        .collect();
    // Frequency index of ancilla a in group g.
    let freq_index = |g: usize, a: usize| (g * k + a) % frequencies.len();

    // Memory: M system states + per worker the full state and the Krylov basis.
    let workers = rayon::current_num_threads().min(m) as u128;
    let bytes = memory::state_bytes(n, 16).saturating_mul(m as u128)
        + memory::state_bytes(n + k, 16)
            .saturating_mul(params.krylov.max_dim as u128 + 2)
            .saturating_mul(workers);
    memory::check_alloc_u128(
        bytes,
        &format!("cooling trajectories ({m} states of {n} qubits + Krylov workspaces)"),
    )?;

    let mut trajs: Vec<Traj> = (0..m)
        .map(|j| {
            let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
            rng.set_stream(j as u64);
            let psi = match &psi0 {
                Some(p) => p.clone(),
                None => {
                    let b = rng.random_range(0..dim);
                    let mut v = vec![C64::new(0.0, 0.0); dim];
                    v[b] = C64::new(1.0, 0.0);
                    v
                }
            };
            Traj { psi, rng }
        })
        .collect();

    let rounds = cp.rounds;
    let nobs = observables.len();
    let mut out = CoolingTrajectories {
        steps: Vec::with_capacity(rounds + 1),
        energy: Vec::with_capacity(rounds + 1),
        energy_std_errors: Vec::with_capacity(rounds + 1),
        observables: vec![Vec::with_capacity(rounds + 1); nobs],
        std_errors: vec![Vec::with_capacity(rounds + 1); nobs],
        trace_distance: reconstruct.then(|| Vec::with_capacity(rounds + 1)),
        final_state: None,
        trace_distance_floor: gibbs
            .as_ref()
            .map(|g| statistical_floor(1.0 / g.weights.iter().map(|p| p * p).sum::<f64>(), m)),
        gibbs_energy: gibbs.as_ref().map(|g| g.energy),
        frequencies: frequencies.clone(),
        collisions: 0,
        trajectories: m,
        ancillas: frequencies
            .iter()
            .zip(&p_excited)
            .map(|(&w, &p)| AncillaStats {
                frequency: w,
                thermal_excited: p,
                count: 0,
                prepared_excited: 0,
                measured_excited: 0,
            })
            .collect(),
        krylov: KrylovStats::default(),
        propagator: if dense {
            CollisionPropagator::Dense
        } else {
            CollisionPropagator::Krylov
        },
    };

    let record =
        |round: usize, trajs: &[Traj], out: &mut CoolingTrajectories| -> Result<(), EvolveError> {
            // Per trajectory [⟨H⟩, ⟨A_1⟩, …] in parallel, folded in trajectory order.
            let values: Vec<Vec<f64>> = trajs
                .par_iter()
                .map(|t| {
                    std::iter::once(h)
                        .chain(observables)
                        .map(|a| expectation_sum(&t.psi, a).re)
                        .collect()
                })
                .collect();
            let mut acc = vec![Welford::default(); nobs + 1];
            for v in &values {
                for (a, &x) in acc.iter_mut().zip(v) {
                    a.push(x);
                }
            }
            out.steps.push(round as f64);
            out.energy.push(acc[0].mean());
            out.energy_std_errors.push(acc[0].sem());
            for j in 0..nobs {
                out.observables[j].push(acc[j + 1].mean());
                out.std_errors[j].push(acc[j + 1].sem());
            }
            if let Some(g) = &gibbs {
                let rho = mean_state(n, trajs)?;
                if let Some(td) = out.trace_distance.as_mut() {
                    td.push(g.distance(&rho)?);
                }
                out.final_state = Some(rho);
            }
            Ok(())
        };
    record(0, &trajs, &mut out)?;

    let tau = cp.duration;
    let mut collisions = 0usize;
    let unitary_bytes = 16usize << (2 * (n + k));
    let mut cache: HashMap<(usize, usize), Vec<C64>> = HashMap::new();
    for round in 0..rounds {
        for (gi, group) in groups.iter().enumerate() {
            let op0 = collisions % ops.len();
            let h_tot = collision_hamiltonian(h, group, &ops, op0, cp.coupling);
            let fresh;
            let prop = if dense {
                let key = (gi, op0);
                if !cache.contains_key(&key)
                    && (cache.len() + 1).saturating_mul(unitary_bytes) <= DENSE_CACHE_BYTES
                {
                    cache.insert(key, row_major(&unitary(&h_tot, tau)?));
                }
                match cache.get(&key) {
                    Some(u) => Step::Dense(u),
                    None => {
                        fresh = row_major(&unitary(&h_tot, tau)?);
                        Step::Dense(&fresh)
                    }
                }
            } else {
                Step::Krylov(XMaskOperator::new(&h_tot)?, params.krylov)
            };
            let probs: Vec<f64> = (0..k).map(|a| p_excited[freq_index(gi, a)]).collect();
            let results: Vec<Result<CollisionOut, EvolveError>> = trajs
                .par_iter_mut()
                .map_init(
                    || vec![C64::new(0.0, 0.0); dim << k],
                    |full, t| collide(t, full, &prop, &probs, tau),
                )
                .collect();
            for r in results {
                let r = r?;
                for a in 0..k {
                    let s = &mut out.ancillas[freq_index(gi, a)];
                    s.count += 1;
                    s.prepared_excited += u64::from(r.prepared >> a & 1);
                    s.measured_excited += u64::from(r.measured >> a & 1);
                }
                out.krylov.matvecs += r.stats.matvecs;
                out.krylov.substeps += r.stats.substeps;
                out.krylov.error_estimate += r.stats.error_estimate;
            }
            collisions += 1;
        }
        record(round + 1, &trajs, &mut out)?;
        on_round(round + 1, rounds);
    }
    out.collisions = collisions;
    Ok(out)
}

/// `p₀ = 1/(1 + e^{ω/T})`, the excited (`|0⟩`) population of an ancilla, without overflow.
fn thermal_qubit_excited(omega: f64, temperature: f64) -> f64 {
    let x = omega / temperature;
    if x >= 0.0 {
        let e = (-x).exp();
        e / (1.0 + e)
    } else {
        1.0 / (1.0 + x.exp())
    }
}

/// The propagator of one collision, shared by the trajectories.
enum Step<'a> {
    /// `U` row-major: `u[r·D + c]`.
    Dense(&'a [C64]),
    Krylov(XMaskOperator, KrylovParams),
}

/// One collision of one trajectory ([module docs](self), steps 1–3). `full` is the worker's
/// `2^{N+k}` buffer; `probs[a]` the excited population of ancilla `a`.
fn collide(
    t: &mut Traj,
    full: &mut [C64],
    prop: &Step<'_>,
    probs: &[f64],
    tau: f64,
) -> Result<CollisionOut, EvolveError> {
    let dim = t.psi.len();
    let k = probs.len();
    // Ancilla a in |0⟩ (excited) with probability p₀: bit a of the block index is 0.
    let mut prepared = 0u32;
    let mut block = 0usize;
    for (a, &p) in probs.iter().enumerate() {
        if t.rng.random::<f64>() < p {
            prepared |= 1 << a;
        } else {
            block |= 1 << a;
        }
    }
    let mut stats = KrylovStats::default();
    match prop {
        Step::Dense(u) => {
            // U (ψ_S ⊗ |block⟩): only the columns of the prepared block contribute.
            let off = block * dim;
            let d = full.len();
            for (r, out) in full.iter_mut().enumerate() {
                let row = &u[r * d + off..r * d + off + dim];
                *out = row.iter().zip(&t.psi).map(|(&a, &p)| a * p).sum();
            }
        }
        Step::Krylov(op, params) => {
            full.fill(C64::new(0.0, 0.0));
            full[block * dim..(block + 1) * dim].copy_from_slice(&t.psi);
            // A fresh workspace per collision: the propagator's sub-step hint then depends
            // only on this collision, so results do not depend on which worker ran it.
            let mut kr = Krylov::new(full.len(), *params)?;
            kr.step(op, full, tau, &mut stats)?;
        }
    }
    // Z measurement of the ancillas: outcome c with probability ‖block c‖².
    let weights: Vec<f64> = full
        .chunks(dim)
        .map(|b| b.iter().map(|v| v.norm_sqr()).sum())
        .collect();
    let total: f64 = weights.iter().sum();
    let u = t.rng.random::<f64>() * total;
    let mut c = weights.len() - 1;
    let mut cum = 0.0;
    for (i, &w) in weights.iter().enumerate() {
        cum += w;
        if u < cum && w > 0.0 {
            c = i;
            break;
        }
    }
    // Guard against landing on an empty block through rounding at the top end.
    if weights[c] == 0.0 {
        c = weights
            .iter()
            .rposition(|&w| w > 0.0)
            .ok_or(EvolveError::ZeroNormState { norm: 0.0 })?;
    }
    let inv = 1.0 / weights[c].sqrt();
    for (p, &v) in t.psi.iter_mut().zip(&full[c * dim..(c + 1) * dim]) {
        *p = v * inv;
    }
    let measured = (!(c as u32)) & ((1u32 << k) - 1);
    Ok(CollisionOut {
        prepared,
        measured,
        stats,
    })
}

/// A dense matrix as a row-major vector.
fn row_major(u: &Mat<C64>) -> Vec<C64> {
    let (r, c) = (u.nrows(), u.ncols());
    (0..r * c).map(|i| u[(i / c, i % c)]).collect()
}

/// `ρ̂ = (1/M) Σ_j |ψ_j⟩⟨ψ_j|`, parallel over rows, each entry summed in trajectory order.
fn mean_state(n: usize, trajs: &[Traj]) -> Result<DensityMatrix, EvolveError> {
    let mut rho = DensityMatrix::zeros(n)?;
    let d = rho.dim();
    let w = 1.0 / trajs.len() as f64;
    rho.as_mut_slice()
        .par_chunks_mut(d)
        .enumerate()
        .for_each(|(r, row)| {
            for t in trajs {
                let a = t.psi[r] * w;
                if a.norm_sqr() == 0.0 {
                    continue;
                }
                for (x, &b) in row.iter_mut().zip(&t.psi) {
                    *x += a * b.conj();
                }
            }
        });
    Ok(rho)
}
