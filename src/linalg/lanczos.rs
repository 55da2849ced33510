//! Lanczos for the k lowest eigenpairs of a Hermitian matrix-free operator.
//!
//! Levels are found one at a time, lowest first; each level runs Lanczos from a fresh seeded
//! random vector in the orthogonal complement of the levels already *locked*. This is what
//! makes exact degeneracies come out with their multiplicity: a single Krylov space sees one
//! vector per degenerate eigenspace, but the next random start has a generic component in the
//! rest of it. Within a run, orthogonality is kept by partial reorthogonalisation (Simon's
//! ω-recurrence: full reorthogonalisation only when the estimated loss exceeds √ε), which keeps
//! near-degenerate pairs resolvable at the cost of a few extra steps. Every returned pair is
//! checked by an explicit residual `‖Hψ − Eψ‖ ≤ tol`; a pair that fails is used as the start of
//! an explicit restart, and exhausting the budget is an error, never a silent answer.
//!
//! When the Krylov basis does not fit in memory the *two-pass* variant keeps only three
//! vectors: the first pass computes the tridiagonal coefficients, the second regenerates the
//! (bitwise identical, the kernels being deterministic) basis vectors to accumulate the
//! eigenvector.

use serde::Serialize;

use crate::operator::{LinearOperator, XMaskOperator};
use crate::scalar::{Scalar, C64};
use crate::state::{axpy, dot, memory, norm, normalize, project_out, random_amplitudes, scale};

use super::dense::{eigh_dense, eigh_tridiagonal};
use super::SolverError;

/// How the Krylov basis is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum BasisMemory {
    /// Store it if it fits in half the available memory, else two passes.
    #[default]
    Auto,
    /// Store the basis (fast, with partial reorthogonalisation).
    Store,
    /// Keep three vectors; regenerate the basis in a second pass (no reorthogonalisation).
    TwoPass,
}

/// Which algorithm computes the spectrum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Dense diagonalisation up to [`DENSE_AUTO_DIM`], Lanczos above.
    #[default]
    Auto,
    /// Always Lanczos.
    Lanczos,
    /// Always dense (≤ 12 qubits).
    Dense,
}

/// Vectors the Lanczos solver holds besides the locked levels and the stored basis:
/// `v_prev`, `v`, `w`, the cycle's start, the Ritz vector, a fresh random start.
const WORK_VECTORS: usize = 6;

/// The buffers [`lowest_eigenpairs`] allocates on `n` qubits with `elem_bytes`-byte amplitudes
/// (8 real, 16 complex), at the least: the dense matrices on the dense path; on the Lanczos
/// path its work vectors and locked levels, plus the whole Krylov cycle with
/// [`BasisMemory::Store`]. With [`BasisMemory::Auto`] the stored basis adapts to the memory
/// left once this plan is allocated (two passes when little is).
pub fn lanczos_memory(n: usize, elem_bytes: usize, params: &LanczosParams) -> memory::MemoryPlan {
    let dim = memory::state_bytes(n, 1);
    let wanted = (params.k + usize::from(params.gap)) as u128;
    let dense = match params.method {
        Method::Dense => true,
        Method::Lanczos => false,
        Method::Auto => dim <= DENSE_AUTO_DIM as u128,
    };
    let vec = memory::state_bytes(n, elem_bytes);
    let mut plan = memory::MemoryPlan::part("eigensolver");
    if dense {
        plan.extend(&dense_memory(n));
        plan.add_n("eigenvectors", wanted.min(dim) as usize, vec);
        return plan;
    }
    plan.add_n(
        "Lanczos vectors",
        WORK_VECTORS + wanted.min(dim) as usize,
        vec,
    );
    if params.memory == BasisMemory::Store {
        let c = (params.cycle as u128).min(dim + 1) as usize;
        plan.add_n("Krylov basis", c, vec);
    }
    plan
}

/// Dimension up to which [`Method::Auto`] diagonalises densely.
pub const DENSE_AUTO_DIM: usize = 256;

/// Settings of [`lowest_eigenpairs`].
#[derive(Clone, Debug, Serialize)]
pub struct LanczosParams {
    /// Number of lowest levels wanted (with multiplicity).
    pub k: usize,
    /// Absolute residual tolerance: every pair satisfies `‖Hψ − Eψ‖ ≤ tol`.
    pub tol: f64,
    /// Budget of operator applications over all levels and restarts.
    pub max_matvecs: usize,
    /// Lanczos steps per cycle before an explicit restart.
    pub cycle: usize,
    /// Seed of the random start vectors (level `j` uses `seed + j`).
    pub seed: u64,
    /// Also compute the level just above the `k` wanted, to report the gap above them.
    pub gap: bool,
    /// Basis storage.
    pub memory: BasisMemory,
    /// Algorithm.
    pub method: Method,
}

impl Default for LanczosParams {
    fn default() -> Self {
        Self {
            k: 1,
            tol: 1e-9,
            max_matvecs: 20_000,
            cycle: 300,
            seed: 0x9e37_79b9,
            gap: false,
            memory: BasisMemory::Auto,
            method: Method::Auto,
        }
    }
}

/// The k lowest eigenpairs with their evidence.
#[derive(Clone, Debug, Serialize)]
pub struct Spectrum<T: Scalar> {
    /// Energies, ascending, with multiplicity.
    pub energies: Vec<f64>,
    /// Normalised eigenvectors, one per energy.
    #[serde(skip)]
    pub vectors: Vec<Vec<T>>,
    /// Residual norms `‖Hψ − Eψ‖`, one per energy.
    pub residuals: Vec<f64>,
    /// The level just above the wanted ones (when [`LanczosParams::gap`]).
    pub next_energy: Option<f64>,
    /// Operator applications used.
    pub matvecs: usize,
    /// Explicit restarts (cycles beyond the first) over all levels.
    pub restarts: usize,
    /// Full reorthogonalisations triggered by the ω-recurrence.
    pub reorthogonalizations: usize,
    /// `"dense"`, `"lanczos"` or `"lanczos-two-pass"`.
    pub method: &'static str,
}

impl<T: Scalar> Spectrum<T> {
    /// `E_1 − E_0`, when at least two levels are known.
    pub fn gap(&self) -> Option<f64> {
        match (
            self.energies.first(),
            self.energies.get(1).or(self.next_energy.as_ref()),
        ) {
            (Some(e0), Some(e1)) => Some(e1 - e0),
            _ => None,
        }
    }

    /// The gap between the highest wanted level and the next one, when known.
    pub fn gap_above(&self) -> Option<f64> {
        Some(self.next_energy? - self.energies.last()?)
    }
}

/// Multiple of `ε Σ|c|` below which no residual `‖Hψ − Eψ‖` can be verified: the rounding
/// error of one `H·ψ` is about `ε Σ|c|` per amplitude, and the residual adds a few of them.
const FLOOR_ULPS: f64 = 16.0;

/// The smallest absolute residual tolerance that can be verified for `op`:
/// `16 ε Σ|c|` (a floor relative to the coefficients' scale; infinite if they overflow).
pub fn residual_floor(op: &XMaskOperator) -> f64 {
    floor_of(op.norm_bound())
}

/// `16 ε b` for an operator of norm bound `b`.
fn floor_of(norm_bound: f64) -> f64 {
    FLOOR_ULPS * f64::EPSILON * norm_bound
}

/// Checks that `tol` is a number the solver can verify for `op`.
fn check_tolerance<T: Scalar, A: LinearOperator<T> + ?Sized>(
    op: &A,
    tol: f64,
) -> Result<(), SolverError> {
    let floor = floor_of(op.norm_bound());
    if tol >= floor && tol.is_finite() && floor.is_finite() {
        return Ok(());
    }
    Err(SolverError::ToleranceBelowFloor {
        tol,
        floor,
        norm_bound: op.norm_bound(),
    })
}

/// Whether scalar type `T` can represent the operator (real path needs a real operator).
fn check_scalar<T: Scalar, A: LinearOperator<T> + ?Sized>(op: &A) -> Result<(), SolverError> {
    if !op.is_hermitian() {
        return Err(SolverError::NotHermitian);
    }
    if !T::IS_COMPLEX && !op.is_real() {
        return Err(SolverError::NotReal);
    }
    Ok(())
}

/// The `k` lowest eigenpairs of a Hermitian operator (see the module docs for the algorithm).
///
/// `start`, if given, is the first level's start vector (warm start, e.g. the previous
/// eigenvector when a parameter changed slightly); a small seeded random component is mixed in
/// so that a start confined to one symmetry sector cannot hide a lower level in another.
///
/// # Errors
/// [`SolverError::NotConverged`] when the budget runs out, [`SolverError::Memory`] when the
/// workspace does not fit, [`SolverError::NotHermitian`], [`SolverError::NotReal`] (real `T`
/// on a complex operator), [`SolverError::BadK`].
pub fn lowest_eigenpairs<T: Scalar>(
    op: &(impl LinearOperator<T> + ?Sized),
    params: &LanczosParams,
    start: Option<&[T]>,
) -> Result<Spectrum<T>, SolverError> {
    lowest_eigenpairs_with_progress(op, params, start, &|_, _| {})
}

/// As [`lowest_eigenpairs`], calling `on_level(found, wanted)` after each converged level
/// (the gap level included; for a progress bar with the time left).
///
/// # Errors
/// As [`lowest_eigenpairs`].
pub fn lowest_eigenpairs_with_progress<T: Scalar>(
    op: &(impl LinearOperator<T> + ?Sized),
    params: &LanczosParams,
    start: Option<&[T]>,
    on_level: &dyn Fn(usize, usize),
) -> Result<Spectrum<T>, SolverError> {
    check_scalar(op)?;
    check_tolerance(op, params.tol)?;
    let dim = op.dim();
    let wanted = params.k + usize::from(params.gap);
    if params.k == 0 || params.k > dim {
        return Err(SolverError::BadK { k: params.k, dim });
    }
    let wanted = wanted.min(dim);
    let dense = match params.method {
        Method::Dense => true,
        Method::Lanczos => false,
        Method::Auto => dim <= DENSE_AUTO_DIM,
    };
    if dense {
        return dense_pairs(op, params, wanted);
    }
    let elem = std::mem::size_of::<T>();
    let vec_bytes = dim * elem;
    let fixed = (WORK_VECTORS + wanted) as u128 * vec_bytes as u128;
    memory::check_alloc_u128(
        fixed.saturating_add(memory::resident_bytes()),
        &format!(
            "Lanczos workspace ({} vectors) and the memory already resident",
            WORK_VECTORS + wanted
        ),
    )?;
    let (avail, _) = memory::available_bytes();
    // The stored basis takes at most half of what is left after the workspace and what the
    // process already holds (operator diagonal, the caller's states), so that a command whose
    // plan fits never crosses the limit.
    let free = avail.saturating_sub(fixed.saturating_add(memory::resident_bytes()));
    let store_max = (free / 2 / vec_bytes as u128) as usize;
    let (two_pass, cycle) = match params.memory {
        BasisMemory::TwoPass => (true, params.cycle),
        BasisMemory::Store => {
            let c = params.cycle.min(dim + 1);
            memory::check_alloc_u128(
                (fixed + c as u128 * vec_bytes as u128).saturating_add(memory::resident_bytes()),
                &format!("Lanczos basis ({c} vectors), workspace and the memory already resident"),
            )?;
            (false, c)
        }
        BasisMemory::Auto => {
            let c = params.cycle.min(dim + 1);
            if store_max >= c.min(60) {
                (false, c.min(store_max))
            } else {
                (true, params.cycle)
            }
        }
    };
    let mut ws = Workspace::<T>::new(dim, if two_pass { 0 } else { cycle });
    let mut stats = Stats::default();
    let mut locked: Vec<Vec<T>> = Vec::with_capacity(wanted);
    let mut energies = Vec::with_capacity(wanted);
    let mut residuals = Vec::with_capacity(wanted);
    for level in 0..wanted {
        let mut v0 = random_vector::<T>(dim, params.seed.wrapping_add(level as u64));
        if level == 0 {
            if let Some(s) = start {
                assert_eq!(s.len(), dim, "start vector has the wrong length");
                let n0 = norm(s);
                if n0 > 0.0 {
                    // warm start + 1e-3 random, relative
                    scale(T::from_f64(1e-3), &mut v0);
                    axpy(T::from_f64(1.0 / n0), s, &mut v0);
                }
            }
        }
        let (e, y, r) = find_level(
            op, &locked, v0, params, cycle, two_pass, &mut ws, &mut stats,
        )
        .map_err(|e| match e {
            SolverError::NotConverged {
                iterations,
                residual,
                tol,
                ..
            } => SolverError::NotConverged {
                wanted,
                converged: level,
                iterations,
                residual,
                tol,
            },
            other => other,
        })?;
        energies.push(e);
        residuals.push(r);
        locked.push(y);
        on_level(level + 1, wanted);
    }
    // Sort (sequential deflation finds levels in order up to tolerance; sort to be exact).
    let mut order: Vec<usize> = (0..wanted).collect();
    order.sort_by(|&a, &b| energies[a].total_cmp(&energies[b]));
    let energies: Vec<f64> = order.iter().map(|&i| energies[i]).collect();
    let residuals: Vec<f64> = order.iter().map(|&i| residuals[i]).collect();
    let mut slots: Vec<Option<Vec<T>>> = locked.into_iter().map(Some).collect();
    let mut vectors: Vec<Vec<T>> = order
        .iter()
        .map(|&i| slots[i].take().unwrap_or_default())
        .collect();
    let k = params.k.min(wanted);
    let next_energy = (wanted > k).then(|| energies[k]);
    vectors.truncate(k);
    Ok(Spectrum {
        energies: energies[..k].to_vec(),
        vectors,
        residuals: residuals[..k].to_vec(),
        next_energy,
        matvecs: stats.matvecs,
        restarts: stats.restarts,
        reorthogonalizations: stats.reorth,
        method: if two_pass {
            "lanczos-two-pass"
        } else {
            "lanczos"
        },
    })
}

/// Ground state only: `lowest_eigenpairs` with `k = 1`, returning `(E0, ψ0, residual)`.
///
/// # Errors
/// As [`lowest_eigenpairs`].
pub fn ground_state<T: Scalar>(
    op: &(impl LinearOperator<T> + ?Sized),
    params: &LanczosParams,
    start: Option<&[T]>,
) -> Result<(f64, Vec<T>, f64), SolverError> {
    let p = LanczosParams {
        k: 1,
        ..params.clone()
    };
    let mut s = lowest_eigenpairs(op, &p, start)?;
    Ok((s.energies[0], s.vectors.swap_remove(0), s.residuals[0]))
}

fn dense_pairs<T: Scalar, A: LinearOperator<T> + ?Sized>(
    op: &A,
    params: &LanczosParams,
    wanted: usize,
) -> Result<Spectrum<T>, SolverError> {
    let k = params.k.min(wanted);
    // Each returned pair is verified by one H·ψ, which the budget must cover.
    if params.max_matvecs < k {
        return Err(SolverError::BudgetTooSmall {
            method: "dense",
            needed: k,
            budget: params.max_matvecs,
        });
    }
    let dim = op.dim();
    dense_memory_dim(dim).check()?;
    let m = op.to_dense()?;
    let (e, v) = eigh_dense(&m, dim)?;
    drop(m);
    let mut vectors = Vec::with_capacity(k);
    let mut residuals = Vec::with_capacity(k);
    let mut hy = vec![T::zero(); dim];
    for (j, vc) in v.iter().take(k).enumerate() {
        let y: Vec<T> = if T::IS_COMPLEX {
            vc.iter()
                .map(|&c| T::from_c64(c).unwrap_or_default())
                .collect()
        } else {
            // A real symmetric matrix has real eigenvectors up to a global phase: rotate the
            // largest component to the real axis.
            let (imax, _) = vc
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.norm().total_cmp(&b.1.norm()))
                .unwrap_or((0, &C64::new(1.0, 0.0)));
            let ph = vc[imax].conj() / vc[imax].norm();
            let mut y: Vec<T> = vc.iter().map(|&c| T::from_f64((c * ph).re)).collect();
            normalize(&mut y);
            y
        };
        op.apply(&y, &mut hy);
        let r = residual_norm(&hy, &y, e[j]);
        // Rounding in the dense solver is relative to ‖H‖; the tolerance is absolute, and an
        // answer whose residual misses it is not returned, as on the Lanczos path.
        if r > params.tol || r.is_nan() {
            return Err(SolverError::Unverified {
                method: "dense",
                level: j,
                residual: r,
                tol: params.tol,
            });
        }
        residuals.push(r);
        vectors.push(y);
    }
    Ok(Spectrum {
        energies: e[..k].to_vec(),
        vectors,
        residuals,
        next_energy: (wanted > k).then(|| e[k]),
        matvecs: k,
        restarts: 0,
        reorthogonalizations: 0,
        method: "dense",
    })
}

/// The buffers of the dense path on `n` qubits: the `2^n × 2^n` matrix, faer's copy of it,
/// its eigenvectors and their copy as columns (`16 · 4^n` bytes each).
pub(crate) fn dense_memory(n: usize) -> memory::MemoryPlan {
    let mut plan = memory::MemoryPlan::part(format!("dense eigensolver ({n} qubits)"));
    plan.add_n(
        "dense matrices",
        4,
        memory::state_bytes(n, 16).saturating_mul(memory::state_bytes(n, 1)),
    );
    plan
}

/// [`dense_memory`] for a space of dimension `dim` (qubits when `dim` is a power of two).
fn dense_memory_dim(dim: usize) -> memory::MemoryPlan {
    if dim.is_power_of_two() {
        return dense_memory(dim.trailing_zeros() as usize);
    }
    let mut plan = memory::MemoryPlan::part(format!("dense eigensolver (dimension {dim})"));
    plan.add_n(
        "dense matrices",
        4,
        (dim as u128 * 16).saturating_mul(dim as u128),
    );
    plan
}

#[derive(Default)]
struct Stats {
    matvecs: usize,
    restarts: usize,
    reorth: usize,
}

/// Buffers allocated once per solve.
struct Workspace<T> {
    v_prev: Vec<T>,
    v: Vec<T>,
    w: Vec<T>,
    basis: Vec<Vec<T>>,
}

impl<T: Scalar> Workspace<T> {
    fn new(dim: usize, basis_cap: usize) -> Self {
        let _ = basis_cap; // the basis grows on demand up to the cycle length
        Self {
            v_prev: memory::zeroed(dim),
            v: memory::zeroed(dim),
            w: memory::zeroed(dim),
            basis: Vec::new(),
        }
    }
}

/// A normalised seeded Gaussian vector (the workspace check in `lowest_eigenpairs` already
/// covered its size); bitwise the amplitudes of [`crate::state::StateVector::random`].
fn random_vector<T: Scalar>(dim: usize, seed: u64) -> Vec<T> {
    let mut v = random_amplitudes::<T>(dim, seed);
    normalize(&mut v);
    v
}

/// Removes the components along the locked vectors (classical Gram–Schmidt, twice).
fn deflate<T: Scalar>(w: &mut [T], locked: &[Vec<T>]) {
    for _ in 0..2 {
        project_out(locked, w);
    }
}

fn residual_norm<T: Scalar>(hy: &[T], y: &[T], e: f64) -> f64 {
    let mut s = 0.0;
    for (a, b) in hy.iter().zip(y) {
        s += (*a - b.scale(e)).abs2();
    }
    s.sqrt()
}

/// One level: Lanczos cycles with explicit restarts until the lowest pair of the deflated
/// operator has residual ≤ tol.
#[allow(clippy::too_many_arguments)]
fn find_level<T: Scalar, A: LinearOperator<T> + ?Sized>(
    op: &A,
    locked: &[Vec<T>],
    mut start: Vec<T>,
    params: &LanczosParams,
    cycle: usize,
    two_pass: bool,
    ws: &mut Workspace<T>,
    stats: &mut Stats,
) -> Result<(f64, Vec<T>, f64), SolverError> {
    let dim = op.dim();
    let remaining = dim - locked.len();
    let mut last_res = f64::INFINITY;
    let mut first = true;
    loop {
        if !first {
            stats.restarts += 1;
        }
        first = false;
        deflate(&mut start, locked);
        if normalize(&mut start) == 0.0 {
            start = random_vector(dim, params.seed ^ 0x5555 ^ stats.matvecs as u64);
            deflate(&mut start, locked);
            normalize(&mut start);
        }
        // Keep the cycle within the budget: its steps, the two-pass regeneration (steps − 1)
        // and the Ritz residual check (1) must fit in what is left.
        let budget = params.max_matvecs.saturating_sub(stats.matvecs);
        let affordable = if two_pass {
            budget / 2
        } else {
            budget.saturating_sub(1)
        };
        // Not even one step and its check fit: stop with the true count, never above it.
        if affordable == 0 {
            return Err(SolverError::NotConverged {
                wanted: 0,
                converged: 0,
                iterations: stats.matvecs,
                residual: last_res,
                tol: params.tol,
            });
        }
        let steps = cycle.min(remaining).min(affordable);
        let (theta, s) = run_cycle(op, locked, &start, params.tol, steps, two_pass, ws, stats)?;
        // Ritz vector y = Σ s_i v_i.
        let mut y: Vec<T> = memory::zeroed(dim);
        if two_pass {
            regenerate(op, locked, &start, &s, ws, stats, &mut y);
        } else {
            for (i, &si) in s.iter().enumerate() {
                axpy(T::from_f64(si), &ws.basis[i], &mut y);
            }
        }
        deflate(&mut y, locked);
        normalize(&mut y);
        op.apply(&y, &mut ws.w);
        stats.matvecs += 1;
        let e = dot(&y, &ws.w).re();
        let r = residual_norm(&ws.w, &y, e);
        let _ = theta;
        if r <= params.tol {
            return Ok((e, y, r));
        }
        if !r.is_finite() {
            return Err(SolverError::Unverified {
                method: "Lanczos",
                level: locked.len(),
                residual: r,
                tol: params.tol,
            });
        }
        last_res = last_res.min(r);
        // The smallest further cycle costs 2 applications (one step and the residual check).
        if stats.matvecs + 2 > params.max_matvecs {
            return Err(SolverError::NotConverged {
                wanted: 0,
                converged: 0,
                iterations: stats.matvecs,
                residual: last_res,
                tol: params.tol,
            });
        }
        start = y;
    }
}

/// One Lanczos cycle from `start` (normalised, deflated). Returns the lowest Ritz value and
/// its coefficient vector in the Krylov basis. Stores the basis in `ws.basis` unless
/// `two_pass`.
#[allow(clippy::too_many_arguments)]
fn run_cycle<T: Scalar, A: LinearOperator<T> + ?Sized>(
    op: &A,
    locked: &[Vec<T>],
    start: &[T],
    tol: f64,
    steps: usize,
    two_pass: bool,
    ws: &mut Workspace<T>,
    stats: &mut Stats,
) -> Result<(f64, Vec<f64>), SolverError> {
    let eps = f64::EPSILON;
    let sqrt_eps = eps.sqrt();
    let mut alpha: Vec<f64> = Vec::with_capacity(steps);
    let mut beta: Vec<f64> = Vec::with_capacity(steps);
    // ω-recurrence (Simon 1984): om_cur[j] ≈ ⟨v_i, v_j⟩, om_prev[j] ≈ ⟨v_{i−1}, v_j⟩.
    let mut om_prev: Vec<f64> = vec![0.0; steps + 2];
    let mut om_cur: Vec<f64> = vec![0.0; steps + 2];
    let mut om_next: Vec<f64> = vec![0.0; steps + 2];
    om_cur[0] = 1.0;
    let mut force_reorth = false;
    let mut anorm: f64 = 0.0;
    ws.v.copy_from_slice(start);
    ws.v_prev.iter_mut().for_each(|x| *x = T::zero());
    let check_every = 4;
    let mut best = (f64::INFINITY, Vec::new());
    for i in 0..steps {
        if !two_pass {
            if ws.basis.len() <= i {
                // Fresh memory through `zeroed` (huge pages): first touches of 4 KiB pages are
                // what a growing basis costs on this kind of VM, more than the H·ψ themselves.
                let mut v: Vec<T> = memory::zeroed(ws.v.len());
                v.copy_from_slice(&ws.v);
                ws.basis.push(v);
            } else {
                ws.basis[i].copy_from_slice(&ws.v);
            }
        }
        op.apply(&ws.v, &mut ws.w);
        stats.matvecs += 1;
        if !locked.is_empty() {
            deflate(&mut ws.w, locked);
        }
        if i > 0 {
            axpy(T::from_f64(-beta[i - 1]), &ws.v_prev, &mut ws.w);
        }
        let a = dot(&ws.v, &ws.w).re();
        axpy(T::from_f64(-a), &ws.v, &mut ws.w);
        let mut b = norm(&ws.w);
        alpha.push(a);
        anorm = anorm.max(a.abs() + b + if i > 0 { beta[i - 1] } else { 0.0 });
        if !two_pass && i > 0 {
            // ω_{i+1,j} for j ≤ i.
            let eps1 = eps * anorm * (op.dim() as f64).sqrt().max(1.0) * 0.5;
            let mut wmax: f64 = 0.0;
            for j in 0..i {
                let bj = beta[j];
                let bjm = if j > 0 { beta[j - 1] } else { 0.0 };
                let t = bj * om_cur[j + 1]
                    + (alpha[j] - a) * om_cur[j]
                    + bjm * if j > 0 { om_cur[j - 1] } else { 0.0 }
                    - beta[i - 1] * om_prev[j];
                let t = (t + eps1.copysign(t)) / b.max(f64::MIN_POSITIVE);
                om_next[j] = t;
                wmax = wmax.max(t.abs());
            }
            om_next[i] = eps1 / b.max(f64::MIN_POSITIVE);
            om_next[i + 1] = 1.0;
            if wmax > sqrt_eps || force_reorth {
                // Full reorthogonalisation of w against the stored basis (CGS2).
                for _ in 0..2 {
                    project_out(&ws.basis[..=i], &mut ws.w);
                }
                b = norm(&ws.w);
                for x in om_next.iter_mut().take(i + 1) {
                    *x = eps1;
                }
                stats.reorth += 1;
                force_reorth = !force_reorth;
            }
            std::mem::swap(&mut om_prev, &mut om_cur);
            std::mem::swap(&mut om_cur, &mut om_next);
        } else if !two_pass {
            om_prev[0] = 1.0;
            om_cur[0] = eps;
            om_cur[1] = 1.0;
        }
        let breakdown = b <= 1e-12 * anorm.max(1.0);
        let last = i + 1 == steps;
        if (i + 1) % check_every == 0 || breakdown || last {
            let (vals, vecs) = eigh_tridiagonal(&alpha, &beta)?;
            let m = alpha.len();
            let est = b * vecs[(m - 1, 0)].abs();
            let s: Vec<f64> = (0..m).map(|r| vecs[(r, 0)]).collect();
            best = (vals[0], s);
            if est <= 0.1 * tol || breakdown {
                return Ok(best);
            }
        }
        if last {
            break;
        }
        beta.push(b);
        // v_prev ← v, v ← w / b
        std::mem::swap(&mut ws.v_prev, &mut ws.v);
        std::mem::swap(&mut ws.v, &mut ws.w);
        scale(T::from_f64(1.0 / b), &mut ws.v);
    }
    Ok(best)
}

/// Second pass of the two-pass variant: regenerate the Lanczos vectors from `start` and
/// accumulate `y = Σ s_i v_i`. Only valid when no reorthogonalisation happened in the first
/// pass (the two-pass mode never reorthogonalises).
fn regenerate<T: Scalar, A: LinearOperator<T> + ?Sized>(
    op: &A,
    locked: &[Vec<T>],
    start: &[T],
    s: &[f64],
    ws: &mut Workspace<T>,
    stats: &mut Stats,
    y: &mut [T],
) {
    ws.v.copy_from_slice(start);
    ws.v_prev.iter_mut().for_each(|x| *x = T::zero());
    let mut b_prev = 0.0;
    for (i, &si) in s.iter().enumerate() {
        axpy(T::from_f64(si), &ws.v, y);
        if i + 1 == s.len() {
            break;
        }
        op.apply(&ws.v, &mut ws.w);
        stats.matvecs += 1;
        if !locked.is_empty() {
            deflate(&mut ws.w, locked);
        }
        if i > 0 {
            axpy(T::from_f64(-b_prev), &ws.v_prev, &mut ws.w);
        }
        let a = dot(&ws.v, &ws.w).re();
        axpy(T::from_f64(-a), &ws.v, &mut ws.w);
        let b = norm(&ws.w);
        b_prev = b;
        std::mem::swap(&mut ws.v_prev, &mut ws.v);
        std::mem::swap(&mut ws.v, &mut ws.w);
        scale(T::from_f64(1.0 / b), &mut ws.v);
    }
}
