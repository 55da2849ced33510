//! Lanczos for the k lowest eigenpairs of a Hermitian matrix-free operator.
//!
//! Levels are found one at a time, lowest first; each level runs Lanczos from a fresh seeded
//! random vector in the orthogonal complement of the levels already *locked*. This is what
//! makes exact degeneracies come out with their multiplicity: a single Krylov space sees one
//! vector per degenerate eigenspace, but the next random start has a generic component in the
//! rest of it. A run keeps a short stored basis ([`LanczosParams::basis`]) and, when it is
//! full, restarts thickly: the lowest Ritz vectors replace it and the run goes on from the last
//! residual (Wu & Simon 2000), so memory and the passes over the basis stay bounded. Within a
//! run, orthogonality is kept by partial reorthogonalisation (Simon's ω-recurrence: full
//! reorthogonalisation against the short basis only when the estimated loss exceeds √ε) and by
//! selective orthogonalisation against the kept Ritz vectors that have converged, which keeps
//! near-degenerate pairs resolvable at the cost of a few extra steps. The Lanczos vectors are the stored basis itself and each step streams them through
//! two fused kernels: one pass for `α` together with the coefficients along the converged
//! Ritz vectors (or `α` from the product's own pass, [`LinearOperator::apply_dot`], when there
//! are none), one for the recurrence, that orthogonalisation and `β`. A stored vector is
//! never divided by its norm in place: each slot keeps its factor, which every later use
//! folds into its coefficients (a write of the slot would be a fifth stream of the update
//! pass). So a step costs its `H·ψ` and two passes over its vectors (one where the operator
//! fuses the dot), with no copy. With
//! [`LanczosParams::gap_from_run`] the level above the wanted ones is the second Ritz pair
//! of the last wanted level's run, converged in the same Krylov space as far as its energy
//! needs (`r²/δ ≤ tol`, see [`Spectrum::next_error`]). Every returned pair is
//! checked by an explicit residual `‖Hψ − Eψ‖ ≤ tol`; a pair that fails is used as the start of
//! an explicit restart, and exhausting the budget is an error, never a silent answer.
//!
//! When the Krylov basis does not fit in memory the *two-pass* variant keeps only three
//! vectors: the first pass computes the tridiagonal coefficients, the second regenerates the
//! (bitwise identical, the kernels being deterministic) basis vectors to accumulate the
//! eigenvector.

use crate::operator::{LinearOperator, XMaskOperator};
use crate::scalar::{Scalar, C64};
use crate::state::{axpy, memory, normalize, project_coefficients, scale, subtract_combination};

use super::dense::{eigh_dense, eigh_symmetric, eigh_tridiagonal, tridiagonal_values_last};
use super::reduce::{dot_all, norm_all, normalize_all, project_out_all, reduce_scalars};
use super::SolverError;

pub(super) mod kernels;
mod settings;
mod workspace;

use settings::{dense_memory_dim, WORK_VECTORS};
pub use settings::{
    lanczos_memory, short_basis, BasisMemory, LanczosParams, Method, Spectrum, DENSE_AUTO_DIM,
    FULL_BASIS_BYTES, SHORT_BASIS, SHORT_BASIS_BYTES, SMALL_BASIS, SMALL_VECTOR_BYTES,
};
pub use workspace::LanczosWorkspace;

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
/// eigenvector when a parameter changed slightly); a small seeded random component
/// ([`LanczosParams::warm_mix`]) is mixed in so that a start confined to one symmetry sector
/// cannot hide a lower level in another.
///
/// # Errors
/// [`SolverError::NotConverged`] when the budget runs out, [`SolverError::Memory`] when the
/// workspace does not fit, [`SolverError::NotHermitian`], [`SolverError::NotReal`] (real `T`
/// on a complex operator), [`SolverError::BadK`].
/// # Examples
/// Two spins, `H = −Z0 Z1 − X0 − X1`: the ground energy is `−√5`, the next level `−1`.
/// ```
/// use qep::linalg::{lowest_eigenpairs, LanczosParams};
/// use qep::operator::XMaskOperator;
/// use qep::pauli::{PauliString, PauliSum};
/// let mut h = PauliSum::new(2);
/// for (p, c) in [("Z0 Z1", -1.0), ("X0", -1.0), ("X1", -1.0)] {
///     h.add(PauliString::parse(p)?, c);
/// }
/// let op = XMaskOperator::new(&h)?;
/// let params = LanczosParams { k: 2, tol: 1e-12, ..LanczosParams::default() };
/// let s = lowest_eigenpairs::<f64>(&op, &params, None)?;
/// assert!((s.energies[0] + 5f64.sqrt()).abs() < 1e-10);
/// assert!((s.energies[1] + 1.0).abs() < 1e-10);
/// assert!(s.residuals[0] < 1e-8);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
    solve(op, params, start, &mut LanczosWorkspace::new(), on_level)
}

/// As [`lowest_eigenpairs`], working in the caller's `workspace`: its vectors and Krylov basis
/// are reused (no allocation and no fresh page once it has grown to the longest cycle), and
/// what the solve allocates stays in it for the next one. The result is the same, bit for
/// bit, as with a fresh workspace.
///
/// # Errors
/// As [`lowest_eigenpairs`].
pub fn lowest_eigenpairs_in<T: Scalar>(
    op: &(impl LinearOperator<T> + ?Sized),
    params: &LanczosParams,
    start: Option<&[T]>,
    workspace: &mut LanczosWorkspace<T>,
) -> Result<Spectrum<T>, SolverError> {
    solve(op, params, start, workspace, &|_, _| {})
}

fn solve<T: Scalar>(
    op: &(impl LinearOperator<T> + ?Sized),
    params: &LanczosParams,
    start: Option<&[T]>,
    ws: &mut LanczosWorkspace<T>,
    on_level: &dyn Fn(usize, usize),
) -> Result<Spectrum<T>, SolverError> {
    check_scalar(op)?;
    check_tolerance(op, params.tol)?;
    let dim = op.dim();
    // The whole vector's length: levels, cycle lengths and the dense fallback are counted on
    // it; `dim` is this process's part (the same unless the operator is distributed).
    let gdim = op.global_dim();
    let wanted = params.k + usize::from(params.gap);
    if params.k == 0 || params.k > gdim {
        return Err(SolverError::BadK {
            k: params.k,
            dim: gdim,
        });
    }
    let wanted = wanted.min(gdim);
    // A dense form needs the whole vector in this process.
    let dense = gdim == dim
        && match params.method {
            Method::Dense => true,
            Method::Lanczos => false,
            Method::Auto => dim <= DENSE_AUTO_DIM,
        };
    // A warm start handed over by value serves a solve given none; otherwise it is a spare.
    let mut owned = ws.pending_start.take();
    if dense || start.is_some() {
        if let Some(v) = owned.take() {
            ws.give(v);
        }
    }
    if dense {
        return dense_pairs(op, params, wanted);
    }
    let (two_pass, cap) = plan_basis(op, params, wanted, ws)?;
    let mut owned = owned.filter(|v| v.len() == dim);
    let mut stats = Stats::default();
    let mut locked: Vec<Vec<T>> = Vec::with_capacity(wanted);
    let mut energies = Vec::with_capacity(wanted);
    let mut residuals = Vec::with_capacity(wanted);
    // The error of the gap level's energy when it came from the run (else its residual).
    let mut next_error = None;
    // The level above the wanted ones from the last wanted level's run (see
    // `LanczosParams::gap_from_run`); a stored basis is needed to form its Ritz vector.
    let gap_in_run = params.gap_from_run && params.gap && wanted == params.k + 1 && !two_pass;
    let mut level = 0;
    while level < wanted {
        let second = gap_in_run && level + 2 == wanted;
        let v0 = match owned.take() {
            Some(v) if level == 0 => owned_start(op, params, v, ws),
            _ => start_vector(op, params, start, level, ws),
        };
        let ((e, y, r), next) = find_level(
            op, &locked, v0, params, cap, two_pass, second, ws, &mut stats,
        )
        .map_err(|e| level_error(e, wanted, level))?;
        energies.push(e);
        residuals.push(r);
        locked.push(y);
        level += 1;
        on_level(level, wanted);
        // A second pair that missed its explicit residual check is dropped: its level gets the
        // deflated solve from the seeded random start, as without `gap_from_run`. (Restarting
        // from that nearly converged Ritz vector saves a few products but puts the run right
        // at its stopping threshold, where a long run of one-step cycles was seen.)
        if let Some((e1, y1, r1, err1)) = next {
            next_error = Some(err1);
            energies.push(e1);
            residuals.push(r1);
            locked.push(y1);
            level += 1;
            on_level(level, wanted);
        }
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
    let next_error = next_energy.map(|_| next_error.unwrap_or(residuals[k]));
    vectors.truncate(k);
    Ok(Spectrum {
        energies: energies[..k].to_vec(),
        vectors,
        residuals: residuals[..k].to_vec(),
        next_energy,
        next_error,
        matvecs: stats.matvecs,
        restarts: stats.restarts,
        reorthogonalizations: stats.reorth,
        thick_restarts: stats.thick_restarts,
        basis_peak: stats.basis_peak,
        method: if two_pass {
            "lanczos-two-pass"
        } else {
            "lanczos"
        },
    })
}

/// The start vector of level `level` (one of the workspace's: a new vector's first touch
/// costs more than an H·ψ; it goes back there when the level is found): the caller's warm
/// start for level 0 (mixed with `warm_mix` of a seeded random vector), else a seeded random
/// vector.
fn start_vector<T: Scalar, A: LinearOperator<T> + ?Sized>(
    op: &A,
    params: &LanczosParams,
    start: Option<&[T]>,
    level: usize,
    ws: &mut LanczosWorkspace<T>,
) -> Vec<T> {
    let dim = op.dim();
    let mut v0 = ws.take(dim, 0);
    let warm = match start {
        Some(s) if level == 0 => {
            assert_eq!(s.len(), dim, "start vector has the wrong length");
            Some((s, norm_all(op, s))).filter(|&(_, n0)| n0 > 0.0)
        }
        _ => None,
    };
    let offset = op.global_offset();
    match warm {
        Some((s, n0)) if params.warm_mix <= 0.0 => {
            v0.copy_from_slice(s);
            scale(T::from_f64(1.0 / n0), &mut v0);
        }
        Some((s, n0)) => {
            // warm start + `warm_mix` random, relative
            kernels::random_fill(&mut v0, params.seed, offset);
            normalize_all(op, &mut v0);
            scale(T::from_f64(params.warm_mix), &mut v0);
            axpy(T::from_f64(1.0 / n0), s, &mut v0);
        }
        None => {
            kernels::random_fill(&mut v0, params.seed.wrapping_add(level as u64), offset);
            normalize_all(op, &mut v0);
        }
    }
    v0
}

/// [`start_vector`] for level 0 from a warm start given by value (see
/// [`LanczosWorkspace::set_start`]): the same vector, bit for bit, as from the same start
/// borrowed; unmixed, normalised in the start's own vector instead of a copy.
fn owned_start<T: Scalar, A: LinearOperator<T> + ?Sized>(
    op: &A,
    params: &LanczosParams,
    mut s: Vec<T>,
    ws: &mut LanczosWorkspace<T>,
) -> Vec<T> {
    let n0 = norm_all(op, &s);
    if params.warm_mix <= 0.0 && n0 > 0.0 {
        scale(T::from_f64(1.0 / n0), &mut s);
        return s;
    }
    let v0 = start_vector(op, params, Some(&s), 0, ws);
    ws.give(s);
    v0
}

/// A level's non-convergence, with the count of levels wanted and found.
fn level_error(e: SolverError, wanted: usize, level: usize) -> SolverError {
    match e {
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
    }
}

/// Plans the stored basis of a Lanczos solve for `wanted` levels (checking that its vectors
/// fit) and readies `ws` for it: `(two_pass, cap)`.
fn plan_basis<T: Scalar, A: LinearOperator<T> + ?Sized>(
    op: &A,
    params: &LanczosParams,
    wanted: usize,
    ws: &mut LanczosWorkspace<T>,
) -> Result<(bool, usize), SolverError> {
    let dim = op.dim();
    let gdim = op.global_dim();
    let elem = std::mem::size_of::<T>();
    let vec_bytes = dim * elem;
    let fixed = (WORK_VECTORS + wanted) as u128 * vec_bytes as u128;
    // What the workspace already holds is resident but is this solve's own memory, reused:
    // it counts once, as part of the plan, not again as memory other buffers took.
    let held = if ws.holds(dim) { ws.bytes() } else { 0 };
    let resident = memory::resident_bytes().saturating_sub(held);
    memory::check_alloc_u128(
        fixed.saturating_add(resident),
        &format!(
            "Lanczos workspace ({} vectors) and the memory already resident",
            WORK_VECTORS + wanted
        ),
    )?;
    let (avail, _) = memory::available_bytes();
    // The stored basis takes at most half of what is left after the workspace and what the
    // process already holds (operator diagonal, the caller's states), so that a command whose
    // plan fits never crosses the limit.
    let free = avail.saturating_sub(fixed.saturating_add(resident));
    // A basis of `c` vectors holds `c + 1` (the last step writes its product into the next
    // slot); thick restarts keep it at `c` however long the run.
    let store_max = ((free / 2 / vec_bytes as u128) as usize).saturating_sub(1);
    let c = settings::basis_cap(params, gdim, elem);
    let (two_pass, cap) = match params.memory {
        BasisMemory::TwoPass => (true, c),
        BasisMemory::Store => {
            memory::check_alloc_u128(
                (fixed + (c as u128 + 1) * vec_bytes as u128).saturating_add(resident),
                &format!("Lanczos basis ({c} vectors), workspace and the memory already resident"),
            )?;
            (false, c)
        }
        BasisMemory::Auto => {
            if store_max >= c.min(MIN_BASIS) {
                (false, c.min(store_max))
            } else {
                (true, c)
            }
        }
    };
    ws.prepare(dim);
    if two_pass {
        ws.prepare_two_pass();
    }
    Ok((two_pass, cap))
}

/// The lowest eigenpair of `op` in the orthogonal complement of `locked` (orthonormal
/// eigenvectors found before, e.g. a ground state): the level above them, by a deflated solve
/// from the seeded random start the next level of [`lowest_eigenpairs`] would use, in
/// `workspace`. Unlike the level above from the same run ([`LanczosParams::gap_from_run`]) it
/// sees an exact degeneracy with one of `locked`. Returns `(E, ψ, residual, products)`.
///
/// # Errors
/// As [`lowest_eigenpairs`].
pub fn next_level_in<T: Scalar>(
    op: &(impl LinearOperator<T> + ?Sized),
    params: &LanczosParams,
    locked: &[Vec<T>],
    workspace: &mut LanczosWorkspace<T>,
) -> Result<(f64, Vec<T>, f64, usize), SolverError> {
    check_scalar(op)?;
    check_tolerance(op, params.tol)?;
    let level = locked.len();
    if level >= op.global_dim() {
        return Err(SolverError::BadK {
            k: level + 1,
            dim: op.global_dim(),
        });
    }
    let (two_pass, cap) = plan_basis(op, params, level + 1, workspace)?;
    let mut stats = Stats::default();
    let v0 = start_vector(op, params, None, level, workspace);
    let ((e, y, r), _) = find_level(
        op, locked, v0, params, cap, two_pass, false, workspace, &mut stats,
    )
    .map_err(|e| level_error(e, level + 1, level))?;
    Ok((e, y, r, stats.matvecs))
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
        let r = residual_norm(op, &hy, &y, e[j]);
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
        next_error: (wanted > k).then_some(0.0),
        matvecs: k,
        restarts: 0,
        reorthogonalizations: 0,
        thick_restarts: 0,
        basis_peak: 0,
        method: "dense",
    })
}

#[derive(Default)]
struct Stats {
    matvecs: usize,
    restarts: usize,
    reorth: usize,
    thick_restarts: usize,
    basis_peak: usize,
}

/// Removes the components along the locked vectors (classical Gram–Schmidt, twice; one
/// reduction per pass).
fn deflate<T: Scalar, A: LinearOperator<T> + ?Sized>(op: &A, w: &mut [T], locked: &[Vec<T>]) {
    for _ in 0..2 {
        project_out_all(op, locked, w);
    }
}

/// `y_c += Σ_i s_c[i] v_i` for every output `c`, cache-blocked: each chunk of the outputs
/// stays in cache while every `v_i` streams past it, so the basis is read once and each `y_c`
/// once (an `axpy` per vector reads and writes all of `y` for each of them: three passes per
/// basis vector instead of one). The same operations in the same order per entry as that
/// loop, hence the same bits, whatever the thread count and however many outputs.
fn combine<T: Scalar>(basis: &[Vec<T>], s: &[Vec<f64>], ys: &mut [Vec<T>]) {
    use rayon::prelude::*;
    /// Entries per chunk (32 KiB of complex amplitudes).
    const CHUNK: usize = 1 << 11;
    let Some(len) = ys.first().map(Vec::len) else {
        return;
    };
    // The chunks of every output, grouped by chunk index.
    let mut groups: Vec<Vec<&mut [T]>> = (0..len.div_ceil(CHUNK))
        .map(|_| Vec::with_capacity(ys.len()))
        .collect();
    for y in ys.iter_mut() {
        for (g, c) in groups.iter_mut().zip(y.chunks_mut(CHUNK)) {
            g.push(c);
        }
    }
    let work = |(ci, mut g): (usize, Vec<&mut [T]>)| combine_chunk(basis, s, ci * CHUNK, &mut g);
    if len < 1 << 15 {
        groups.into_iter().enumerate().for_each(work);
    } else {
        groups.into_par_iter().enumerate().for_each(work);
    }
}

crate::wide_kernel! {
    /// One chunk of [`combine`]: the rows `off..` of every output.
    fn combine_chunk<T>(basis: &[Vec<T>], s: &[Vec<f64>], off: usize, g: &mut [&mut [T]])
        => combine_chunk_impl;
}

#[inline(always)]
fn combine_chunk_impl<T: Scalar>(basis: &[Vec<T>], s: &[Vec<f64>], off: usize, g: &mut [&mut [T]]) {
    for (i, v) in basis.iter().enumerate() {
        for (yc, sc) in g.iter_mut().zip(s) {
            let a = T::from_f64(sc[i]);
            let n = yc.len();
            for (b, &x) in yc.iter_mut().zip(&v[off..off + n]) {
                *b += a * x;
            }
        }
    }
}

/// `‖Hy − e y‖` over the whole vector (one reduction).
fn residual_norm<T: Scalar, A: LinearOperator<T> + ?Sized>(
    op: &A,
    hy: &[T],
    y: &[T],
    e: f64,
) -> f64 {
    let mut s = [0.0];
    for (a, b) in hy.iter().zip(y) {
        s[0] += (*a - b.scale(e)).abs2();
    }
    op.reduce_sum(&mut s);
    s[0].sqrt()
}

/// A level's pair `(E, ψ, residual)` and, when asked for and its energy verified to the
/// tolerance, the next level's from the same run `(E, ψ, residual, error of E)`.
type Found<T> = ((f64, Vec<T>, f64), Option<(f64, Vec<T>, f64, f64)>);

/// One level: Lanczos cycles with explicit restarts until the lowest pair of the deflated
/// operator has residual ≤ tol. With `second` (stored basis only), the run goes on until the
/// second-lowest Ritz pair has converged as well and returns it as the next level: one
/// Krylov space serves both, instead of a second deflated solve from a random start.
#[allow(clippy::too_many_arguments)]
fn find_level<T: Scalar, A: LinearOperator<T> + ?Sized>(
    op: &A,
    locked: &[Vec<T>],
    mut start: Vec<T>,
    params: &LanczosParams,
    cap: usize,
    two_pass: bool,
    second: bool,
    ws: &mut LanczosWorkspace<T>,
    stats: &mut Stats,
) -> Result<Found<T>, SolverError> {
    let dim = op.dim();
    let remaining = op.global_dim() - locked.len();
    let mut last_res = f64::INFINITY;
    let mut first = true;
    // The fraction of the tolerance the residual estimate must reach: tightened tenfold after
    // each Ritz pair whose explicit residual missed the tolerance (near the rounding floor the
    // estimate runs below the explicit residual, and a restart that stopped at the same
    // estimate would stop at once, again and again).
    let mut stop = STOP_FRACTION;
    // The Ritz value above the run's last pair (the estimate of the level after a gap level).
    let mut above = None;
    loop {
        if !first {
            stats.restarts += 1;
        }
        first = false;
        deflate(op, &mut start, locked);
        if normalize_all(op, &mut start) == 0.0 {
            kernels::random_fill(
                &mut start,
                params.seed ^ 0x5555 ^ stats.matvecs as u64,
                op.global_offset(),
            );
            deflate(op, &mut start, locked);
            normalize_all(op, &mut start);
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
        let cols = if two_pass {
            let steps = params.cycle.min(remaining).min(affordable);
            vec![run_two_pass(op, locked, &start, params.tol, steps, ws, stats)?.1]
        } else {
            // The second pair's residual check needs one more product.
            let pairs = if second { 2 } else { 1 };
            let steps = params
                .cycle
                .min(affordable.saturating_sub(pairs - 1).max(1));
            let run = run_thick(
                op,
                locked,
                &start,
                stop * params.tol,
                steps,
                cap,
                pairs,
                ws,
                stats,
            )?;
            above = run.above;
            run.cols
        };
        // Ritz vectors y = Σ s_i v_i (in vectors the workspace has spare, if any), all in one
        // pass over the basis.
        let keep = ws.basis.len();
        let mut ys: Vec<Vec<T>> = cols.iter().map(|_| ws.take(dim, keep)).collect();
        for y in ys.iter_mut() {
            y.iter_mut().for_each(|x| *x = T::zero());
        }
        if two_pass {
            regenerate(op, locked, &start, &cols[0], ws, stats, &mut ys[0]);
        } else {
            combine(&ws.basis[..cols[0].len()], &cols, &mut ys);
        }
        let mut ys = ys.into_iter();
        let mut y = ys.next().expect("at least one Ritz vector");
        deflate(op, &mut y, locked);
        normalize_all(op, &mut y);
        op.apply(&y, &mut ws.w);
        stats.matvecs += 1;
        let e = dot_all(op, &y, &ws.w).re();
        let r = residual_norm(op, &ws.w, &y, e);
        if r <= params.tol {
            ws.give(start);
            // The next level from the same run, verified like the first (else `None`: the
            // caller solves it on its own).
            let next = ys.next().and_then(|mut y1| {
                deflate(op, &mut y1, locked);
                project_out_all(op, std::slice::from_ref(&y), &mut y1);
                if normalize_all(op, &mut y1) == 0.0 || stats.matvecs >= params.max_matvecs {
                    ws.give(y1);
                    return None;
                }
                op.apply(&y1, &mut ws.w);
                stats.matvecs += 1;
                let e1 = dot_all(op, &y1, &ws.w).re();
                let r1 = residual_norm(op, &ws.w, &y1, e1);
                // The level's energy is what the caller wants (a gap), and it is known to
                // r1²/δ (Kato–Temple, δ the separation from the Ritz value above): accepted
                // when that is within the tolerance, as the run's stopping rule aimed for.
                let err1 = match above {
                    Some(up) if up > e1 => r1.min(r1 * r1 / (up - e1)),
                    _ => r1,
                };
                if r1.is_finite()
                    && (r1 <= params.tol || (err1 <= params.tol && r1 <= 0.25 * (e1 - e)))
                {
                    Some((e1, y1, r1, err1))
                } else {
                    ws.give(y1);
                    None
                }
            });
            return Ok(((e, y, r), next));
        }
        for y1 in ys {
            ws.give(y1);
        }
        if !r.is_finite() {
            return Err(SolverError::Unverified {
                method: "Lanczos",
                level: locked.len(),
                residual: r,
                tol: params.tol,
            });
        }
        // A cycle that did not halve the residual of the one before cannot make progress
        // from its Ritz vector (it sits at the run's stopping threshold): the next one starts
        // from a fresh random vector instead (deflated at the top of the loop).
        let stalled = r > 0.5 * last_res;
        last_res = last_res.min(r);
        stop = (stop * 0.1).max(1e-6);
        if stalled {
            kernels::random_fill(
                &mut y,
                params.seed ^ FRESH_START_SEED ^ stats.restarts as u64,
                op.global_offset(),
            );
        }
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
        ws.give(std::mem::replace(&mut start, y));
    }
}

/// One classical Gram–Schmidt pass of `w` against the Lanczos vectors `scales[i] · basis[i]`
/// (a thick-restarted run's slots with their factors): [`project_out_all`] with each
/// coefficient `⟨basis[i], w⟩` taken `scales[i]²` times, so that no slot is written.
fn project_out_scaled<T: Scalar, A: LinearOperator<T> + ?Sized>(
    op: &A,
    basis: &[Vec<T>],
    scales: &[f64],
    w: &mut [T],
) {
    let mut c = project_coefficients(basis, w);
    reduce_scalars(op, &mut c);
    for (ci, &f) in c.iter_mut().zip(scales) {
        *ci = ci.scale(f * f);
    }
    subtract_combination(basis, &c, w);
}

/// One three-term step: `w = A v` (deflated against the locked levels), `α = ⟨v, w⟩` (from
/// the product's own pass, [`LinearOperator::apply_dot`], when nothing is deflated), then
/// `w −= α v + β_prev v_prev` (when there is a previous vector) in the same pass as `‖w‖`.
/// Returns `(α, ‖w‖)`; the caller decides on reorthogonalisation and the next vector.
fn lanczos_step<T: Scalar, A: LinearOperator<T> + ?Sized>(
    op: &A,
    locked: &[Vec<T>],
    v: &mut [T],
    prev: Option<(f64, &[T])>,
    w: &mut [T],
    stats: &mut Stats,
) -> (f64, f64) {
    let a = if locked.is_empty() {
        let mut d = [op.apply_dot(v, w)];
        reduce_scalars(op, &mut d);
        stats.matvecs += 1;
        d[0].re()
    } else {
        op.apply(v, w);
        stats.matvecs += 1;
        deflate(op, w, locked);
        dot_all(op, v, w).re()
    };
    let mut b2 = [kernels::recurrence(w, v, 1.0, a, prev, &[], &[])];
    op.reduce_sum(&mut b2);
    (a, b2[0].sqrt())
}

/// One two-pass Lanczos cycle from `start` (normalised, deflated): three vectors, no
/// reorthogonalisation. Returns the lowest Ritz value and its coefficient vector in the
/// Krylov basis, which [`regenerate`] rebuilds.
fn run_two_pass<T: Scalar, A: LinearOperator<T> + ?Sized>(
    op: &A,
    locked: &[Vec<T>],
    start: &[T],
    tol: f64,
    steps: usize,
    ws: &mut LanczosWorkspace<T>,
    stats: &mut Stats,
) -> Result<(f64, Vec<f64>), SolverError> {
    let mut alpha: Vec<f64> = Vec::with_capacity(steps);
    let mut beta: Vec<f64> = Vec::with_capacity(steps);
    let mut anorm: f64 = 0.0;
    ws.v.copy_from_slice(start);
    let check_every = 4;
    let mut best = (f64::INFINITY, Vec::new());
    for i in 0..steps {
        let beta_prev = (i > 0).then(|| beta[i - 1]);
        let prev = beta_prev.map(|bp| (bp, &ws.v_prev[..]));
        let (a, b) = lanczos_step(op, locked, &mut ws.v, prev, &mut ws.w, stats);
        alpha.push(a);
        anorm = anorm.max(a.abs() + b + beta_prev.unwrap_or(0.0));
        let breakdown = is_breakdown(b, anorm, 0.1 * tol);
        let last = i + 1 == steps;
        if (i + 1) % check_every == 0 || breakdown || last {
            // A check that goes on needs only the lowest Ritz value's last component.
            let goes_on = !(breakdown || last)
                && tridiagonal_values_last(&alpha, &beta)
                    .is_some_and(|(_, lasts)| b * lasts[0].abs() > 0.1 * tol);
            if !goes_on {
                let (vals, vecs) = eigh_tridiagonal(&alpha, &beta)?;
                let m = alpha.len();
                let est = b * vecs[(m - 1, 0)].abs();
                best = (vals[0], (0..m).map(|r| vecs[(r, 0)]).collect());
                if est <= 0.1 * tol || breakdown {
                    return Ok(best);
                }
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

/// Ritz vectors a thick restart keeps for a basis of `cap` vectors: the lowest eighth, at
/// least 4, at most half the basis less one. A restart costs `keep · cap` multiply-adds per
/// amplitude, and keeping a few besides the wanted one (their directions are not searched
/// again) already gives about the products of an unrestarted run: at 16–20 qubits on the EP
/// benchmark families a basis of 32 keeping 4 takes within 3 % of the products of one
/// keeping 10 of 40 or 8 of 56. A basis of 16 needs its 4 as much: keeping 3 took 1–5 % more
/// products on the 16-qubit EP gradients.
fn restart_keep(cap: usize) -> usize {
    (cap / 8).max(4).min(cap / 2 - 1)
}

/// Steps between two convergence checks of a run on vectors of `dim` amplitudes in a basis
/// of at most `cap` vectors. A check diagonalises the projected matrix (`cap × cap` at most);
/// for a short basis and from 2^17 amplitudes on that is small next to the `H·ψ` of a step,
/// and checking every step saves the up to three products a run would otherwise go on past
/// its convergence.
fn check_interval(dim: usize, cap: usize) -> usize {
    if dim >= 1 << 17 && cap <= 64 {
        1
    } else {
        4
    }
}

/// The fraction of the tolerance a Ritz pair's residual estimate `β |s_{m,i}|` must reach
/// before a stored-basis run stops and the pair's residual is computed explicitly. With a
/// semi-orthogonal basis (partial and selective reorthogonalisation) the estimate tracks the
/// explicit residual closely, so half the tolerance leaves a margin without running the
/// steps a tenth would take; should the explicit residual miss the tolerance all the same
/// (near the rounding floor), the level's solve restarts from the Ritz vector with a ten
/// times smaller fraction.
const STOP_FRACTION: f64 = 0.5;

/// Whether `β = b` ends a run as an invariant subspace, for a run that stops when its
/// residual estimates reach `stop`: `β ≤ 10⁻¹²‖T‖`, but always a hundred times below `stop`.
/// A threshold above `stop` would end a run restarted from a Ritz vector whose residual lies
/// between the two after its first step, and every restart after it the same way. Rounding
/// keeps `β` of a true invariant subspace near `ε‖T‖`, which ends the run whatever `stop`.
fn is_breakdown(b: f64, anorm: f64, stop: f64) -> bool {
    let anorm = anorm.max(1.0);
    b <= (1e-12 * anorm).min(0.01 * stop) || b <= 4.0 * f64::EPSILON * anorm
}

/// Seed stream of the fresh random start of a level whose restarts stalled (see
/// [`find_level`]), apart from the levels' own start vectors (`seed + level`).
const FRESH_START_SEED: u64 = 0x9e37_79b9_7f4a_7c15;

/// The smallest stored basis a thick-restarted run works with.
pub(super) const MIN_BASIS: usize = 8;

/// The ω-recurrence of partial reorthogonalisation (Simon 1984) among the Lanczos vectors of
/// one run since its last restart: `cur[j] ≈ ⟨v_i, v_j⟩`, `prev[j] ≈ ⟨v_{i−1}, v_j⟩` in the
/// run's own indices, with the run's `α` and `β`.
struct Omega {
    prev: Vec<f64>,
    cur: Vec<f64>,
    next: Vec<f64>,
    alpha: Vec<f64>,
    beta: Vec<f64>,
    force: bool,
}

impl Omega {
    fn new(len: usize) -> Self {
        Self {
            prev: vec![0.0; len + 2],
            cur: vec![0.0; len + 2],
            next: vec![0.0; len + 2],
            alpha: Vec::with_capacity(len),
            beta: Vec::with_capacity(len),
            force: false,
        }
    }

    /// Forgets the run (after a restart the next vector is orthogonalised explicitly).
    fn reset(&mut self) {
        self.prev.iter_mut().for_each(|x| *x = 0.0);
        self.cur.iter_mut().for_each(|x| *x = 0.0);
        self.alpha.clear();
        self.beta.clear();
        self.force = false;
    }

    /// Step `i` of the run (`a = α_i`, `b = ‖w‖`): updates the estimates and says whether `w`
    /// must be reorthogonalised (estimated loss above √ε, or the step after one that was).
    fn step(&mut self, a: f64, b: f64, eps1: f64) -> bool {
        let i = self.alpha.len();
        self.alpha.push(a);
        if i == 0 {
            self.prev[0] = 1.0;
            self.cur[0] = f64::EPSILON;
            self.cur[1] = 1.0;
            return false;
        }
        let mut wmax: f64 = 0.0;
        for j in 0..i {
            let bj = self.beta[j];
            let bjm = if j > 0 { self.beta[j - 1] } else { 0.0 };
            let t = bj * self.cur[j + 1]
                + (self.alpha[j] - a) * self.cur[j]
                + bjm * if j > 0 { self.cur[j - 1] } else { 0.0 }
                - self.beta[i - 1] * self.prev[j];
            let t = (t + eps1.copysign(t)) / b.max(f64::MIN_POSITIVE);
            self.next[j] = t;
            wmax = wmax.max(t.abs());
        }
        self.next[i] = eps1 / b.max(f64::MIN_POSITIVE);
        self.next[i + 1] = 1.0;
        let reorth = wmax > f64::EPSILON.sqrt() || self.force;
        if reorth {
            for x in self.next.iter_mut().take(i + 1) {
                *x = eps1;
            }
            self.force = !self.force;
        }
        std::mem::swap(&mut self.prev, &mut self.cur);
        std::mem::swap(&mut self.cur, &mut self.next);
        reorth
    }

    /// Records `β_i`, the norm the step's vector was normalised by.
    fn push_beta(&mut self, b: f64) {
        self.beta.push(b);
    }
}

/// What a thick-restarted run ends with: the coefficients of its lowest Ritz vectors in the
/// basis it ends with, and the Ritz value just above them (if the basis holds one).
struct Thick {
    cols: Vec<Vec<f64>>,
    above: Option<f64>,
}

/// Safety factor of [`value_converged`]: the Ritz value above a gap level converges from
/// above (it is an upper bound of the level after that), so the separation it gives can be
/// too large while it is still moving; a tenth of the tolerance leaves room for that.
const VALUE_MARGIN: f64 = 0.1;

/// Whether Ritz pair `c > 0` (a gap level, whose vector nobody uses) with residual estimate
/// `est` has a Ritz *value* accurate to `stop` although its vector is not: a Ritz value with
/// residual `r`, isolated by `δ` from the rest of the spectrum, is within `r²/δ` of an
/// eigenvalue (Kato–Temple), so `r ≈ √(stop · δ)` already gives the value, hence the gap, to
/// `stop` — about half the steps of running the vector to `stop` too. Asks for
/// `est² ≤ 0.1 · stop · (θ_{c+1} − θ_c)` with the Ritz value above as the estimate of the next
/// level, and `est ≤ (θ_c − θ_{c−1})/4` so that the pair is separated from the one below.
fn value_converged(est: f64, vals: &[f64], c: usize, stop: f64) -> bool {
    let (Some(&up), Some(&low)) = (vals.get(c + 1), c.checked_sub(1).map(|i| &vals[i])) else {
        return false;
    };
    let (delta, below) = (up - vals[c], vals[c] - low);
    est * est <= VALUE_MARGIN * stop * delta && est <= 0.25 * below
}

/// One thick-restarted Lanczos run (Wu & Simon 2000) from `start` (normalised, deflated), for
/// at most `steps` products, in a stored basis of at most `cap + 1` vectors. Returns the
/// coefficients of the lowest `pairs` Ritz vectors in the basis the run ends with
/// (`ws.basis[..len]`) and the Ritz value above them.
///
/// The Lanczos vectors are the stored basis itself (`ws.basis[j]` is `v_j`; the step writes
/// `A v_j` straight into the slot of `v_{j+1}`, no copy). When the basis is full, the lowest
/// [`restart_keep`] Ritz vectors replace it in place (one cache-blocked pass), the last
/// residual becomes the next Lanczos vector, and the projected matrix becomes their Ritz
/// values with an arrow of couplings `β s_{m,i}` to it: only the first step after a restart
/// subtracts the kept vectors (in its update pass, as selective orthogonalisation does), the
/// others are three-term steps. Orthogonality is kept by
/// partial reorthogonalisation among the run's Lanczos vectors (the ω-recurrence, against the
/// whole short basis when it fires) and by selective orthogonalisation (Parlett & Scott)
/// against the kept Ritz vectors that have converged to √ε, the only directions along which
/// round-off grows.
#[allow(clippy::too_many_arguments)]
fn run_thick<T: Scalar, A: LinearOperator<T> + ?Sized>(
    op: &A,
    locked: &[Vec<T>],
    start: &[T],
    stop: f64,
    steps: usize,
    cap: usize,
    pairs: usize,
    ws: &mut LanczosWorkspace<T>,
    stats: &mut Stats,
) -> Result<Thick, SolverError> {
    let cap = cap.max(MIN_BASIS);
    ws.basis_limit = cap + 1;
    let sqrt_eps = f64::EPSILON.sqrt();
    let keep = restart_keep(cap);
    // The projected matrix on basis[..=j], row-major with stride `cap`.
    let mut t = vec![0.0f64; cap * cap];
    // Kept Ritz vectors at the front of the basis, and how many of them (a prefix, the lowest)
    // have converged to √ε.
    let (mut kept, mut conv) = (0usize, 0usize);
    let mut omega = Omega::new(cap);
    let mut anorm: f64 = 0.0;
    ws.grow_basis(1);
    ws.basis[0].copy_from_slice(start);
    let check_every = check_interval(op.global_dim(), cap);
    let mut best = Thick {
        cols: Vec::new(),
        above: None,
    };
    let mut since_check = 0;
    let mut j = 0;
    // The Lanczos vector of slot i is `scales[i] ·` what the slot holds: a step leaves its
    // product `β v_{j+1}` unnormalised, and the factor `1/β` goes into the coefficients of
    // every later use of the slot (the update passes, the restart's rotation, the Ritz
    // vectors' combination), not into a pass that would write the slot again.
    let mut scales = vec![1.0f64; cap + 1];
    for step in 0..steps {
        let inv = scales[j];
        ws.grow_basis(j + 2);
        stats.basis_peak = stats.basis_peak.max(j + 2);
        let (head, tail) = ws.basis.split_at_mut(j + 1);
        let w = &mut tail[0];
        let arrow = j == kept && kept > 0;
        let fused = if arrow || conv > kernels::MAX_FUSED {
            0
        } else {
            conv
        };
        let mut d = [T::zero(); kernels::MAX_FUSED + 1];
        // α from the product's own pass when nothing else needs a dot with `w` (no locked
        // levels to deflate first, no converged Ritz vectors to fuse).
        let with_dot = fused == 0 && locked.is_empty();
        if with_dot {
            d[0] = op.apply_dot(&head[j], w);
        } else {
            op.apply(&head[j], w);
        }
        stats.matvecs += 1;
        if !locked.is_empty() {
            deflate(op, w, locked);
        }
        // `α` (with the product, or with the coefficients along the converged Ritz vectors
        // of selective orthogonalisation, when few enough to fuse, in one pass over `w`),
        // then the update in one more pass. After a restart, slot j holds the residual and
        // the arrow of couplings to the kept Ritz vectors takes the previous vector's place.
        if with_dot {
            reduce_scalars(op, &mut d[..1]);
        } else {
            let mut vs: [&[T]; kernels::MAX_FUSED + 1] = [&[]; kernels::MAX_FUSED + 1];
            vs[0] = &head[j][..];
            for (slot, y) in vs[1..].iter_mut().zip(&head[..fused]) {
                *slot = &y[..];
            }
            kernels::dots(w, &vs[..=fused], &mut d);
            reduce_scalars(op, &mut d[..=fused]);
        }
        // α = ⟨v_j, A v_j⟩ with v_j = inv · (slot j).
        let a = d[0].re() * inv * inv;
        t[j * cap + j] = a;
        let mut b = if arrow && kept > kernels::MAX_FUSED {
            // The first step after a restart, with more kept Ritz vectors than the update
            // pass fuses: w −= Σ_i β s_{m,i} y_i + α v_j, on the normalised v_j.
            let u = &mut head[j];
            if inv != 1.0 {
                scale(T::from_f64(inv), u);
                scale(T::from_f64(inv), w);
                scales[j] = 1.0;
            }
            let c: Vec<T> = (0..=j)
                .map(|i| T::from_f64(if i == j { a } else { t[j * cap + i] }))
                .collect();
            subtract_combination(head, &c, w);
            norm_all(op, w)
        } else if arrow {
            // The first step after a restart: w −= Σ_i β s_{m,i} y_i + α v_j, the arrow of
            // couplings to the kept Ritz vectors taking the place of the previous vector, in
            // the one update pass that also applies v_j's factor and gives ‖w‖.
            let (before, rest) = head.split_at(j);
            let u = &rest[0];
            let mut ys: [&[T]; kernels::MAX_FUSED] = [&[]; kernels::MAX_FUSED];
            let mut cs = [T::zero(); kernels::MAX_FUSED];
            for (i, y) in before.iter().enumerate() {
                ys[i] = &y[..];
                cs[i] = T::from_f64(t[j * cap + i]);
            }
            let mut b2 = [kernels::recurrence(w, u, inv, a, None, &ys[..j], &cs[..j])];
            op.reduce_sum(&mut b2);
            b2[0].sqrt()
        } else {
            let (before, rest) = head.split_at(j);
            let u = &rest[0];
            // β_{j−1} v_{j−1}, the previous slot with its own factor.
            let prev = (j > kept).then(|| (t[j * cap + j - 1] * scales[j - 1], &before[j - 1][..]));
            let mut ys: [&[T]; kernels::MAX_FUSED] = [&[]; kernels::MAX_FUSED];
            let mut cs = [T::zero(); kernels::MAX_FUSED];
            for (k, y) in before[..fused].iter().enumerate() {
                ys[k] = &y[..];
                // ⟨y_k, A v_j⟩; the components ⟨y_k, v_j⟩ and ⟨y_k, v_{j−1}⟩ that the
                // update also moves are at round-off level, as the previous steps left them.
                cs[k] = d[k + 1].scale(inv);
            }
            let mut b2 = [kernels::recurrence(
                w,
                u,
                inv,
                a,
                prev,
                &ys[..fused],
                &cs[..fused],
            )];
            op.reduce_sum(&mut b2);
            b2[0].sqrt()
        };
        if conv > fused {
            project_out_all(op, &head[..conv], w);
            b = norm_all(op, w);
        }
        let b_prev = if j > kept { t[j * cap + j - 1] } else { 0.0 };
        anorm = anorm.max(a.abs() + b + b_prev);
        let eps1 = f64::EPSILON * anorm * (op.global_dim() as f64).sqrt().max(1.0) * 0.5;
        if omega.step(a, b, eps1) {
            // Full reorthogonalisation of w against the short basis: classical Gram–Schmidt,
            // repeated only when the first pass removed more than a third of w's length
            // (Daniel–Gragg–Kaufman–Stewart).
            project_out_scaled(op, head, &scales, w);
            let after = norm_all(op, w);
            if after < std::f64::consts::FRAC_1_SQRT_2 * b {
                project_out_scaled(op, head, &scales, w);
                b = norm_all(op, w);
            } else {
                b = after;
            }
            stats.reorth += 1;
        }
        let n = j + 1;
        let breakdown = is_breakdown(b, anorm, stop);
        let last = step + 1 == steps;
        let full = n == cap;
        since_check += 1;
        if since_check >= check_every || breakdown || last || full {
            since_check = 0;
            // The lowest `pairs` Ritz pairs, each with its residual estimate `β |s_{m,i}|`:
            // the run stops when all of them have converged, the first to `stop`, those above
            // it (a gap level) as far as their Ritz values need (see `value_converged`).
            let p = pairs.min(n);
            let all_converged = |vals: &[f64], last_component: &dyn Fn(usize) -> f64| {
                (0..p).all(|c| {
                    let est = b * last_component(c).abs();
                    est <= stop || (c > 0 && value_converged(est, &vals[..n], c, stop))
                })
            };
            // A check that goes on needs only the Ritz values and their vectors' last
            // components: from the tridiagonal projection (no restart yet) they take O(n²)
            // operations, where the dense solver forms every vector in O(n³).
            if kept == 0 && !(breakdown || last || full) {
                let alpha: Vec<f64> = (0..n).map(|i| t[i * cap + i]).collect();
                let beta: Vec<f64> = (1..n).map(|i| t[i * cap + i - 1]).collect();
                if let Some((vals, lasts)) = tridiagonal_values_last(&alpha, &beta) {
                    if !all_converged(&vals, &|c| lasts[c]) {
                        continue_run(&mut t, cap, j, b, &mut omega, &mut scales);
                        j += 1;
                        continue;
                    }
                }
            }
            let (vals, vecs) = eigh_symmetric(&t, cap, n)?;
            let converged = all_converged(&vals, &|c| vecs[(n - 1, c)]);
            // Coefficients of the slots as stored: the Ritz vectors' in the Lanczos vectors
            // times each slot's factor.
            best = Thick {
                cols: (0..p)
                    .map(|c| (0..n).map(|r| vecs[(r, c)] * scales[r]).collect())
                    .collect(),
                above: vals[..n].get(p).copied(),
            };
            if converged || breakdown || last {
                return Ok(best);
            }
            if full {
                // Thick restart: the lowest Ritz vectors replace the basis, the residual
                // w / b is the next Lanczos vector.
                let k = keep.min(n - 2).max(1);
                let coeffs: Vec<f64> = (0..n)
                    .flat_map(|r| (0..k).map(move |c| (r, c)))
                    .map(|(r, c)| vecs[(r, c)] * scales[r])
                    .collect();
                kernels::rotate_front(&mut ws.basis[..n], &coeffs, k);
                ws.basis.swap(k, n);
                let (front, rest) = ws.basis.split_at_mut(k);
                let v = &mut rest[0];
                // In exact arithmetic the residual is orthogonal to the Ritz vectors; make it
                // so in floating point, once per restart. Its norm is divided out by its
                // factor in `scales`, as after every other step.
                project_out_all(op, front, v);
                let nv = norm_all(op, v);
                t.iter_mut().for_each(|x| *x = 0.0);
                conv = 0;
                for c in 0..k {
                    let arrow = b * vecs[(n - 1, c)];
                    t[c * cap + c] = vals[c];
                    t[k * cap + c] = arrow;
                    t[c * cap + k] = arrow;
                    anorm = anorm.max(vals[c].abs() + arrow.abs());
                    if conv == c && arrow.abs() <= sqrt_eps * anorm {
                        conv += 1;
                    }
                }
                kept = k;
                j = k;
                omega.reset();
                stats.thick_restarts += 1;
                // The Ritz vectors are normalised; the residual's norm is divided out later.
                scales[..k].iter_mut().for_each(|f| *f = 1.0);
                scales[k] = if nv > 0.0 { 1.0 / nv } else { 1.0 };
                continue;
            }
        }
        continue_run(&mut t, cap, j, b, &mut omega, &mut scales);
        j += 1;
    }
    Ok(best)
}

/// Ends step `j` of a run that goes on: `β = b` couples `v_j` and `v_{j+1} = w / b` in the
/// projection, and slot `j + 1` (the product left as it is) keeps the factor `1/b`.
fn continue_run(
    t: &mut [f64],
    cap: usize,
    j: usize,
    b: f64,
    omega: &mut Omega,
    scales: &mut [f64],
) {
    t[(j + 1) * cap + j] = b;
    t[j * cap + j + 1] = b;
    omega.push_beta(b);
    scales[j + 1] = 1.0 / b;
}

/// Second pass of the two-pass variant: regenerate the Lanczos vectors from `start` and
/// accumulate `y = Σ s_i v_i`. Only valid when no reorthogonalisation happened in the first
/// pass (the two-pass mode never reorthogonalises).
fn regenerate<T: Scalar, A: LinearOperator<T> + ?Sized>(
    op: &A,
    locked: &[Vec<T>],
    start: &[T],
    s: &[f64],
    ws: &mut LanczosWorkspace<T>,
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
        let prev = (i > 0).then_some((b_prev, &ws.v_prev[..]));
        let (_, b) = lanczos_step(op, locked, &mut ws.v, prev, &mut ws.w, stats);
        b_prev = b;
        std::mem::swap(&mut ws.v_prev, &mut ws.v);
        std::mem::swap(&mut ws.v, &mut ws.w);
        scale(T::from_f64(1.0 / b), &mut ws.v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operator::DenseOperator;

    /// Gram–Schmidt against slots stored as `v_i / s_i` with their factors `s_i` removes
    /// exactly the components along the normalised `v_i`, whatever the factors.
    #[test]
    fn scaled_projection_removes_the_normalised_vectors_components() {
        let d = 300;
        let op = DenseOperator::new(d, vec![C64::new(0.0, 0.0); d * d]);
        let mut vs: Vec<Vec<f64>> = Vec::new();
        for seed in 0..5 {
            let mut v = vec![0.0f64; d];
            kernels::random_fill(&mut v, seed, 0);
            crate::state::project_out(&vs, &mut v);
            crate::state::project_out(&vs, &mut v);
            normalize(&mut v);
            vs.push(v);
        }
        let scales = [1.0, 0.5, 3.0, 1e-3, 7.0];
        let slots: Vec<Vec<f64>> = vs
            .iter()
            .zip(scales)
            .map(|(v, s)| v.iter().map(|x| x / s).collect())
            .collect();
        let mut rest = vec![0.0f64; d];
        kernels::random_fill(&mut rest, 99, 0);
        crate::state::project_out(&vs, &mut rest);
        let mut w = rest.clone();
        for (i, v) in vs.iter().enumerate() {
            axpy(1.0 + i as f64, v, &mut w);
        }
        project_out_scaled(&op, &slots, &scales, &mut w);
        let diff = w
            .iter()
            .zip(&rest)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(diff < 1e-12, "{diff:e}");
    }
}
