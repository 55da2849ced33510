//! MINRES (Paige & Saunders 1975) for `Q (H − σ) Q x = b` on the matrix-free operator, with `Q`
//! the projector off a given vector: the linear system of first-order perturbation theory
//! around an eigenstate (the exact-gradient oracle of EP). `H − σ` is indefinite on `Q`'s range
//! for an excited state, so CG would not do; MINRES needs only a Hermitian operator.
//!
//! Written by hand: no maintained Rust crate offers MINRES over a matrix-free complex
//! operator with a projection, and the recurrence is short.

use rayon::prelude::*;
use serde::Serialize;

use crate::operator::{LinearOperator, Projected, Shifted};
use crate::scalar::Scalar;
use crate::state::{axpy, memory};

use super::lanczos::kernels::{chunk_sums, recurrence, PARTS, SERIAL_BELOW};
use super::reduce::{dot_all, norm_all, reduce_scalars};
use super::{LanczosWorkspace, SolverError};

/// Settings of [`minres_projected`].
#[derive(Clone, Debug, Serialize)]
pub struct MinresParams {
    /// Relative residual `‖b − A x‖ / ‖b‖` to reach.
    pub tol: f64,
    /// Budget of operator applications, never exceeded: the MINRES steps (one each, summed
    /// over the restarts on the explicit residual) and the products of the checks, which are
    /// counted too — the explicit residual at the end of each cycle (one), with
    /// `singular_below` its null-vector test (one more) and each singularity suspicion's
    /// confirmation (two). A cycle stops early enough to leave its end-of-cycle checks their
    /// products; a suspicion the budget cannot pay for is left to the end-of-cycle test.
    /// [`MinresInfo::matvecs`] reports what was spent.
    pub max_iterations: usize,
    /// Refuse a singular, inconsistent system: stop with [`SolverError::Singular`] when the
    /// residual `r` has not met `tol` but has become an approximate null vector of the
    /// operator, `‖A r‖ ≤ singular_below · ‖r‖` (read off the recurrence, `‖A r‖/‖r‖` is the
    /// norm of the last column of the rotated tridiagonal, then checked on the explicit
    /// residual). For `A = Q(H − E)Q` around an eigenstate this proves a level of `H` within
    /// `singular_below` of `E` (besides `q`'s) that `b` couples to. `None`: no such test (a
    /// stalled solve then runs to `max_iterations`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub singular_below: Option<f64>,
}

impl Default for MinresParams {
    fn default() -> Self {
        Self {
            tol: 1e-10,
            max_iterations: 5_000,
            singular_below: None,
        }
    }
}

/// A converged solve and its evidence.
#[derive(Clone, Debug, Serialize)]
pub struct MinresInfo {
    /// MINRES steps, over all cycles (one operator application each).
    pub iterations: usize,
    /// Every operator application: the steps and the explicit-residual checks (at most
    /// [`MinresParams::max_iterations`]).
    pub matvecs: usize,
    /// Explicit relative residual `‖b − A x‖ / ‖b‖`, recomputed at the end.
    pub residual: f64,
    /// MINRES cycles run: 1, plus one per restart on the explicit residual when the
    /// recurrence's estimate had met the tolerance but the explicit residual had not.
    pub cycles: usize,
    /// Singularity suspicions read off the recurrence ([`MinresParams::singular_below`])
    /// that the explicit residual dismissed (two products each, in `matvecs`, not in
    /// `iterations`); the solve went on after each.
    pub dismissed: usize,
}

/// Solves `Q (H − σ) Q x = b` for `x ⊥ q` (`Q = 1 − |q⟩⟨q|`, `q` normalised), with `b` projected
/// onto `Q`'s range first. Allocates eight vectors (checked first). Each step applies `H` once
/// and, for `σ ≠ 0`, makes one pass over three vectors for the shift: an operator that carries
/// the shift itself ([`crate::operator::XMaskOperator::shifted`]) with `σ = 0` saves that pass.
///
/// # Errors
/// [`SolverError::Memory`] if the work vectors do not fit;
/// [`SolverError::MinresNotConverged`] if the explicit residual misses `params.tol` after
/// `params.max_iterations` operator applications, or a restart on it fails to halve it;
/// [`SolverError::Singular`] (with [`MinresParams::singular_below`]) if the system is singular
/// and inconsistent.
pub fn minres_projected<T: Scalar>(
    op: &(impl LinearOperator<T> + ?Sized),
    sigma: f64,
    q: &[T],
    b: &[T],
    params: &MinresParams,
) -> Result<(Vec<T>, MinresInfo), SolverError> {
    minres_projected_in(op, sigma, q, b, params, &mut LanczosWorkspace::new())
}

/// As [`minres_projected`], with its work vectors lent by `workspace` (the Krylov basis and
/// spare vectors an eigensolve left there, already in memory) and given back at the end; only
/// the solution `x` leaves it. The result is the same, bit for bit, as with a fresh workspace.
///
/// # Errors
/// As [`minres_projected`].
pub fn minres_projected_in<T: Scalar>(
    op: &(impl LinearOperator<T> + ?Sized),
    sigma: f64,
    q: &[T],
    b: &[T],
    params: &MinresParams,
    workspace: &mut LanczosWorkspace<T>,
) -> Result<(Vec<T>, MinresInfo), SolverError> {
    let dim = op.dim();
    assert_eq!(q.len(), dim, "q has the wrong length");
    assert_eq!(b.len(), dim, "b has the wrong length");
    memory::check_alloc(8 * dim * std::mem::size_of::<T>(), "MINRES work vectors")?;
    workspace.prepare(dim);
    let mut bufs: Vec<Vec<T>> = (0..7).map(|_| workspace.take(dim, 0)).collect();
    let result = minres_with(
        op,
        sigma,
        q,
        b,
        params,
        Mode {
            kernels: Kernels::Fused,
            suspect: 1.0,
        },
        &mut bufs,
    );
    for v in bufs {
        workspace.give(v);
    }
    result
}

/// How a MINRES step streams its vectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kernels {
    /// Three passes besides `(H − σ) v` (whose shift takes a pass of its own unless `σ = 0`):
    /// the step's inner products ([`step_dots`]); the three-term update of `y` with the
    /// projection and its norm ([`recurrence`]); the new direction `w`, `x += φ w` and the next
    /// `v = r₂/β` ([`direction`]).
    Fused,
    /// The textbook sequence of copies, scalings, `axpy`s, dots and norms (about fifteen
    /// passes): the oracle the fused kernels are tested against.
    #[cfg_attr(not(test), allow(dead_code))]
    Plain,
}

/// How [`minres_with`] runs: its vector kernels, and `suspect` (see there).
#[derive(Clone, Copy, Debug)]
struct Mode {
    kernels: Kernels,
    suspect: f64,
}

/// The MINRES iteration in the seven work vectors `bufs` (contents arbitrary on entry).
/// `mode.suspect` scales the recurrence's singularity test (`‖A r‖/‖r‖ < suspect · singular_below`
/// raises the suspicion that the explicit residual then confirms or dismisses): 1 in use;
/// the tests raise it to make every eligible step a suspicion to dismiss.
///
/// Runs cycles of MINRES on `A d = r` from `d = 0`, each adding its `d` to `x`: the first on
/// `r = Q b`, each next on the explicit residual `r = Q b − A x` the previous cycle left
/// (iterative refinement). A cycle ends when the recurrence's residual estimate `φ̄` reaches a
/// tenth of the tolerance, but that estimate drifts from the true residual on long runs
/// (rounding in `x` and in the lost orthogonality of the Lanczos vectors): when the explicit
/// residual still misses the tolerance, the next cycle starts from it, as long as the
/// budget lasts and each cycle at least halves the explicit residual.
fn minres_with<T: Scalar>(
    op: &(impl LinearOperator<T> + ?Sized),
    sigma: f64,
    q: &[T],
    b: &[T],
    params: &MinresParams,
    Mode { kernels, suspect }: Mode,
    bufs: &mut [Vec<T>],
) -> Result<(Vec<T>, MinresInfo), SolverError> {
    let dim = op.dim();
    // A v = Q (H − σ) Q v; v stays in Q's range up to round-off, which the projections remove.
    let shifted = Shifted { inner: op, sigma };
    let a = Projected { inner: &shifted, q };
    let project = |v: &mut [T]| a.project(v);
    let apply = |v: &[T], out: &mut [T]| a.apply(v, out);
    // out = Q b − A x, the explicit residual (A's output is in Q's range, so projecting
    // b − A x is Q b − A x); returns its norm.
    let explicit_residual = |x: &[T], out: &mut [T]| {
        apply(x, out);
        for (o, bi) in out.iter_mut().zip(b) {
            *o = *bi - *o;
        }
        project(out);
        norm_all(op, out)
    };
    let [r1, r2, y, v, w, w1, w2] = bufs else {
        panic!("MINRES needs seven work vectors");
    };
    let (mut r1, mut r2, mut y) = (r1, r2, y);
    let (mut w, mut w1, mut w2) = (w, w1, w2);
    r1.copy_from_slice(b);
    project(r1);
    let beta1 = norm_all(op, r1);
    // x is the answer and leaves the solver: a fresh zeroed vector.
    let mut x: Vec<T> = memory::zeroed(dim);
    if beta1 == 0.0 {
        return Ok((
            x,
            MinresInfo {
                iterations: 0,
                matvecs: 0,
                residual: 0.0,
                cycles: 0,
                dismissed: 0,
            },
        ));
    }
    // The singularity suspicion read off the recurrence is confirmed on the explicit residual
    // (two products); once dismissed, it is not tested again for `skip` steps, doubled at
    // each dismissal up to 32, so that a consistent but ill-conditioned system pays a few
    // products while a genuine singularity, which keeps the recurrence's test true once the
    // residual has become a null vector, is still caught within 32 steps.
    let (mut test_from, mut skip) = (1usize, 8usize);
    let mut iterations = 0;
    // Every application of `a`, steps and checks, against `params.max_iterations`; `reserve`
    // is what the end of a cycle needs (its explicit residual, and the null-vector test).
    let mut products = 0usize;
    let reserve = 1 + usize::from(params.singular_below.is_some());
    let budget = params.max_iterations;
    if budget < 1 + reserve {
        // Not one step with its check: refused before any product.
        return Err(SolverError::MinresNotConverged {
            iterations: 0,
            cycles: 0,
            residual: 1.0,
            tol: params.tol,
        });
    }
    let mut cycles = 0;
    let mut dismissed = 0;
    // ‖r‖ / β₁ at the start of the cycle: the first starts from r = Q b.
    let mut start_residual = 1.0;
    let residual = loop {
        cycles += 1;
        // r1 holds this cycle's right-hand side r (in Q's range), ‖r‖ = φ̄₀.
        let rnorm0 = norm_all(op, r1);
        r2.copy_from_slice(r1);
        if kernels == Kernels::Fused {
            // The first step's v = r/β; the fused steps form each next v in their last pass.
            v.copy_from_slice(r1);
            crate::state::scale(T::from_f64(1.0 / rnorm0), v);
        }
        for buf in [&mut *w, &mut *w1, &mut *w2] {
            buf.iter_mut().for_each(|e| *e = T::zero());
        }
        let (mut oldb, mut beta, mut dbar, mut epsln, mut phibar) = (0.0, rnorm0, 0.0, 0.0, rnorm0);
        let (mut cs, mut sn) = (-1.0f64, 0.0f64);
        while products + 1 + reserve <= budget {
            iterations += 1;
            products += 1;
            let first = oldb == 0.0;
            // v = r2 / β; y = A v − (β/β_old) r1 − (α/β) r2, α = ⟨v, A v − (β/β_old) r1⟩
            // (Lanczos step of scipy's minres, M = I); then (r1, r2) ← (r2, y).
            let c1 = if first { 0.0 } else { beta / oldb };
            let alfa;
            let beta_next;
            match kernels {
                Kernels::Plain => {
                    v.copy_from_slice(r2);
                    crate::state::scale(T::from_f64(1.0 / beta), v);
                    apply(v, y);
                    if !first {
                        axpy(T::from_f64(-c1), r1, y);
                    }
                    alfa = dot_all(op, v, y).re();
                    axpy(T::from_f64(-alfa / beta), r2, y);
                    beta_next = norm_all(op, y);
                }
                Kernels::Fused => {
                    // y = (H − σ) v; the projection that makes it A v = Q (H − σ) v folds into
                    // the two passes below, A v = y − c q with c = ⟨q, y⟩. The shift is not
                    // folded likewise: c must be the projection of y as rounded, or the
                    // rounding of a difference of two terms of size |σ| leaves y a component
                    // along q of order ε|σ| each step, which the recurrence carries on and a
                    // near-degenerate system amplifies (the oracle then stalls).
                    shifted.apply(v, y);
                    let mut d = step_dots(v, y, r1, q);
                    reduce_scalars(op, &mut d);
                    let [yv, rv, qy, qv] = d;
                    // α = ⟨A v − c₁ r₁, v⟩ (real: ⟨v, A v⟩ is), ⟨A v, v⟩ = ⟨y, v⟩ − c̄ ⟨q, v⟩.
                    alfa = yv.re() - (qy.conj() * qv).re() - c1 * rv.re();
                    // y ← y − c q − c₁ r₁ − (α/β) r₂ with its ‖y‖², in one pass: the Lanczos
                    // step's own kernel, with q in the place of a converged Ritz vector.
                    let prev = (!first).then_some((c1, &r1[..]));
                    let mut s2 = [recurrence(y, r2, 1.0, alfa / beta, prev, &[q], &[qy])];
                    op.reduce_sum(&mut s2);
                    beta_next = s2[0].sqrt();
                }
            }
            // (r1, r2, y) ← (r2, y, r1): the old r1 is free scratch until the next A v.
            std::mem::swap(&mut r1, &mut r2);
            std::mem::swap(&mut r2, &mut y);
            oldb = beta;
            beta = beta_next;
            // Apply the previous rotation, then a new one that annihilates β.
            let oldeps = epsln;
            let delta = cs * dbar + sn * alfa;
            let gbar = sn * dbar - cs * alfa;
            epsln = sn * beta;
            dbar = -cs * beta;
            // ‖A r‖/‖r‖ of the current iterate's residual (Paige & Saunders: ‖A r_{k−1}‖ =
            // φ̄_{k−1} √(γ̄_k² + δ̄_{k+1}²)). For a consistent system it stays at or above the
            // smallest |eigenvalue| of A that b reaches; it falls to rounding level only when
            // the residual is left with a component along an exact null vector that b
            // couples to.
            if let Some(g) = params.singular_below {
                if iterations >= test_from
                    && products + 2 + reserve <= budget
                    && gbar.hypot(dbar) < suspect * g
                    && phibar > params.tol * beta1
                {
                    // Confirm on the explicit residual of the current x (that of step k − 1),
                    // in scratch: y is free until the next A v, and w1 is the oldest
                    // direction, which the update below overwrites without reading.
                    project(&mut x);
                    let rnorm = explicit_residual(&x, y);
                    apply(y, w1);
                    products += 2;
                    let null = norm_all(op, w1) / rnorm;
                    if rnorm > params.tol * beta1 && null < g {
                        return Err(SolverError::Singular {
                            null,
                            residual: rnorm / beta1,
                            iterations: products,
                        });
                    }
                    if rnorm <= params.tol * beta1 {
                        // The suspicion came from a residual already small enough.
                        break;
                    }
                    dismissed += 1;
                    test_from = iterations + skip;
                    skip = (2 * skip).min(32);
                }
            }
            let gamma = gbar.hypot(beta).max(f64::EPSILON);
            cs = gbar / gamma;
            sn = beta / gamma;
            let phi = cs * phibar;
            phibar *= sn;
            // w = (v − ε w1 − δ w2) / γ, rotating (w1, w2, w) ← (w2, w, new); x += φ w.
            std::mem::swap(&mut w1, &mut w2);
            std::mem::swap(&mut w2, &mut w);
            match kernels {
                Kernels::Plain => {
                    w.copy_from_slice(v);
                    axpy(T::from_f64(-oldeps), w1, w);
                    axpy(T::from_f64(-delta), w2, w);
                    crate::state::scale(T::from_f64(1.0 / gamma), w);
                    axpy(T::from_f64(phi), w, &mut x);
                }
                Kernels::Fused => {
                    let next = (beta > 0.0).then(|| (1.0 / beta, &r2[..]));
                    let coef = [oldeps, delta, 1.0 / gamma, phi];
                    direction(w, v, w1, w2, &mut x, coef, next);
                }
            }
            if phibar <= 0.1 * params.tol * beta1 || beta == 0.0 {
                break;
            }
        }
        project(&mut x);
        // Explicit residual: the recurrence's estimate drifts on long runs.
        let rnorm = explicit_residual(&x, r1);
        products += 1;
        let residual = rnorm / beta1;
        if residual <= params.tol {
            break residual;
        }
        if let Some(g) = params.singular_below {
            // Stalled, or the Krylov space exhausted short of the tolerance: ‖A r‖ ≤ g‖r‖ on
            // the explicit residual proves an eigenvalue of A within g of 0 (A Hermitian) on
            // r's span, which is off q.
            apply(r1, y);
            products += 1;
            let null = norm_all(op, y) / rnorm;
            if null < g {
                return Err(SolverError::Singular {
                    null,
                    residual,
                    iterations: products,
                });
            }
        }
        // Refine on the explicit residual (in r1) while the budget lasts and cycles pay.
        if products + 1 + reserve > budget || residual > 0.5 * start_residual {
            return Err(SolverError::MinresNotConverged {
                iterations: products,
                cycles,
                residual,
                tol: params.tol,
            });
        }
        start_residual = residual;
    };
    Ok((
        x,
        MinresInfo {
            iterations,
            matvecs: products,
            residual,
            cycles,
            dismissed,
        },
    ))
}

/// The inner products of a fused MINRES step in one pass over its four vectors:
/// `[⟨y, v⟩, ⟨r₁, v⟩, ⟨q, y⟩, ⟨q, v⟩]` (`⟨a, b⟩ = Σ ā b`), from partial sums over fixed chunks
/// added in index order (the same bits on any thread count). With `y = (H − σ) v` they give
/// `α` and the projection's coefficient `⟨q, y⟩` without the two passes that projecting `y`
/// first would take.
fn step_dots<T: Scalar>(v: &[T], y: &[T], r1: &[T], q: &[T]) -> [T; 4] {
    let len = v.len();
    assert!(
        [y.len(), r1.len(), q.len()].iter().all(|&l| l == len),
        "length mismatch"
    );
    chunk_sums(v, |start, vc| {
        let end = start + vc.len();
        step_dots_chunk(vc, &y[start..end], &r1[start..end], &q[start..end])
    })
}

crate::wide_kernel! {
    /// One chunk of [`step_dots`], compiled for the widest instruction set.
    fn step_dots_chunk<T>(vc: &[T], yc: &[T], rc: &[T], qc: &[T]) -> [T; 4] => step_dots_chunk_impl;
}

#[inline(always)]
fn step_dots_chunk_impl<T: Scalar>(vc: &[T], yc: &[T], rc: &[T], qc: &[T]) -> [T; 4] {
    // Four interleaved partial sums per product, entry `k` into lane `k mod 4`, so that the
    // loop vectorises across lanes.
    let mut lanes = [[T::zero(); 4]; 4];
    let n = vc.len();
    let split = n - n % 4;
    let quads = vc[..split]
        .chunks_exact(4)
        .zip(yc[..split].chunks_exact(4))
        .zip(rc[..split].chunks_exact(4))
        .zip(qc[..split].chunks_exact(4));
    for (((v, y), r), q) in quads {
        for l in 0..4 {
            lanes[0][l] += y[l].conj() * v[l];
            lanes[1][l] += r[l].conj() * v[l];
            lanes[2][l] += q[l].conj() * y[l];
            lanes[3][l] += q[l].conj() * v[l];
        }
    }
    for k in split..n {
        let l = k - split;
        lanes[0][l] += yc[k].conj() * vc[k];
        lanes[1][l] += rc[k].conj() * vc[k];
        lanes[2][l] += qc[k].conj() * yc[k];
        lanes[3][l] += qc[k].conj() * vc[k];
    }
    lanes.map(|s| (s[0] + s[1]) + (s[2] + s[3]))
}

/// One pass for the end of a MINRES step: `w ← (v − ε w₁ − δ w₂)·(1/γ)`, `x += φ w`, and,
/// with `next = (1/β, r₂)`, the next step's `v ← r₂/β` (after `v` is read). `coef` is
/// `[ε, δ, 1/γ, φ]`; `w`'s old contents are not read.
fn direction<T: Scalar>(
    w: &mut [T],
    v: &mut [T],
    w1: &[T],
    w2: &[T],
    x: &mut [T],
    coef: [f64; 4],
    next: Option<(f64, &[T])>,
) {
    let len = w.len();
    assert!(
        [v.len(), w1.len(), w2.len(), x.len()]
            .iter()
            .all(|&l| l == len)
            && next.is_none_or(|(_, r)| r.len() == len),
        "length mismatch"
    );
    let work = |start: usize, wc: &mut [T], vc: &mut [T], xc: &mut [T]| {
        let n = wc.len();
        let next = next.map(|(s, r2)| (s, &r2[start..start + n]));
        direction_chunk(
            wc,
            vc,
            xc,
            &w1[start..start + n],
            &w2[start..start + n],
            coef,
            next,
        );
    };
    if len < SERIAL_BELOW {
        work(0, w, v, x);
        return;
    }
    let chunk = len.div_ceil(PARTS);
    w.par_chunks_mut(chunk)
        .zip(v.par_chunks_mut(chunk))
        .zip(x.par_chunks_mut(chunk))
        .enumerate()
        .for_each(|(i, ((wc, vc), xc))| work(i * chunk, wc, vc, xc));
}

crate::wide_kernel! {
    /// One chunk of [`direction`], compiled for the widest instruction set.
    fn direction_chunk<T>(
        wc: &mut [T],
        vc: &mut [T],
        xc: &mut [T],
        w1c: &[T],
        w2c: &[T],
        coef: [f64; 4],
        next: Option<(f64, &[T])>,
    ) => direction_chunk_impl;
}

#[inline(always)]
fn direction_chunk_impl<T: Scalar>(
    wc: &mut [T],
    vc: &mut [T],
    xc: &mut [T],
    w1c: &[T],
    w2c: &[T],
    coef: [f64; 4],
    next: Option<(f64, &[T])>,
) {
    let [eps, delta, inv_gamma, phi] = coef.map(T::from_f64);
    for ((((e, &vi), &a), &b), xi) in wc
        .iter_mut()
        .zip(vc.iter())
        .zip(w1c)
        .zip(w2c)
        .zip(xc.iter_mut())
    {
        let d = (vi - eps * a - delta * b) * inv_gamma;
        *e = d;
        *xi += phi * d;
    }
    if let Some((inv_beta, r2c)) = next {
        let s = T::from_f64(inv_beta);
        for (vi, &r) in vc.iter_mut().zip(r2c) {
            *vi = r * s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operator::DenseOperator;
    use crate::scalar::C64;

    /// A deterministic real symmetric `n × n` matrix with entries in (−1, 1) and a spread
    /// diagonal (so that `A = Q(H − σ)Q` is well away from singular on `Q`'s range).
    fn matrix(n: usize, seed: u64) -> (Vec<C64>, Vec<C64>, Vec<C64>) {
        let mut s = seed;
        let mut next = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        };
        let mut h = vec![C64::new(0.0, 0.0); n * n];
        for r in 0..n {
            for c in 0..=r {
                let v = 0.3 * next()
                    + if r == c {
                        3.0 * r as f64 / n as f64
                    } else {
                        0.0
                    };
                h[r * n + c] = C64::new(v, 0.0);
                h[c * n + r] = C64::new(v, 0.0);
            }
        }
        let mut q: Vec<C64> = (0..n).map(|_| C64::new(next(), next())).collect();
        let nq = q.iter().map(|z| z.norm_sqr()).sum::<f64>().sqrt();
        q.iter_mut().for_each(|z| *z /= nq);
        let b = (0..n).map(|_| C64::new(next(), next())).collect();
        (h, q, b)
    }

    /// `‖Q b − Q(H − σ)Q x‖ / ‖Q b‖` by dense products, independent of the solver.
    fn dense_residual(h: &[C64], q: &[C64], sigma: f64, b: &[C64], x: &[C64]) -> f64 {
        let n = q.len();
        let proj = |v: &[C64]| -> Vec<C64> {
            let c: C64 = q.iter().zip(v).map(|(a, b)| a.conj() * b).sum();
            v.iter().zip(q).map(|(v, q)| v - c * q).collect()
        };
        let qx = proj(x);
        let hx: Vec<C64> = (0..n)
            .map(|r| (0..n).map(|c| h[r * n + c] * qx[c]).sum::<C64>() - qx[r] * sigma)
            .collect();
        let ax = proj(&hx);
        let qb = proj(b);
        let num: f64 = qb.iter().zip(&ax).map(|(a, b)| (a - b).norm_sqr()).sum();
        let den: f64 = qb.iter().map(|z| z.norm_sqr()).sum();
        (num / den).sqrt()
    }

    fn solve(
        op: &impl LinearOperator<C64>,
        sigma: f64,
        q: &[C64],
        b: &[C64],
        p: &MinresParams,
        suspect: f64,
    ) -> Result<(Vec<C64>, MinresInfo), SolverError> {
        let mut bufs: Vec<Vec<C64>> = (0..7).map(|_| vec![C64::new(0.0, 0.0); q.len()]).collect();
        let mode = Mode {
            kernels: Kernels::Fused,
            suspect,
        };
        minres_with(op, sigma, q, b, p, mode, &mut bufs)
    }

    #[test]
    fn a_dismissed_singularity_suspicion_lets_the_solve_go_on_to_the_same_solution() {
        let n = 60;
        let (h, q, b) = matrix(n, 7);
        let op = DenseOperator::new(n, h.clone());
        let sigma = 1.1;
        let p = MinresParams {
            singular_below: Some(1e-8),
            ..MinresParams::default()
        };
        let (x0, i0) = solve(&op, sigma, &q, &b, &p, 1.0).unwrap();
        assert_eq!(
            i0.dismissed, 0,
            "a well-conditioned system raised a suspicion"
        );
        // Every eligible step suspects a singularity; each is confirmed on the explicit
        // residual (‖A r‖/‖r‖ ≥ the smallest |eigenvalue| of A, far above 1e-8) and dismissed.
        let (x1, i1) = solve(&op, sigma, &q, &b, &p, 1e300).unwrap();
        assert!(
            i1.dismissed >= 2,
            "only {} suspicions dismissed",
            i1.dismissed
        );
        // The scratch vectors of the checks leave the recurrence as it was.
        assert_eq!(i0.iterations, i1.iterations);
        for (name, x, info) in [("plain", &x0, &i0), ("suspicious", &x1, &i1)] {
            let r = dense_residual(&h, &q, sigma, &b, x);
            assert!(r <= 1e-10, "{name}: residual {r:e}");
            assert!(
                (r - info.residual).abs() < 1e-12,
                "{name}: {r:e} vs {:e}",
                info.residual
            );
        }
        let diff = x0
            .iter()
            .zip(&x1)
            .map(|(a, b)| (a - b).norm())
            .fold(0.0, f64::max);
        assert!(diff < 1e-9, "solutions differ by {diff:e}");
    }

    #[test]
    fn a_singular_inconsistent_system_is_still_refused() {
        // H with an exact zero mode off q at σ: the diagonal of `matrix` replaced so that the
        // last basis vector is an eigenvector of H at σ, and b reaches it.
        let n = 40;
        let (mut h, _, b) = matrix(n, 3);
        let sigma = 0.5;
        for k in 0..n - 1 {
            h[(n - 1) * n + k] = C64::new(0.0, 0.0);
            h[k * n + n - 1] = C64::new(0.0, 0.0);
        }
        h[(n - 1) * n + n - 1] = C64::new(sigma, 0.0);
        // q: the first basis vector (not the zero mode).
        let mut q = vec![C64::new(0.0, 0.0); n];
        q[0] = C64::new(1.0, 0.0);
        let op = DenseOperator::new(n, h);
        let p = MinresParams {
            singular_below: Some(1e-8),
            ..MinresParams::default()
        };
        match solve(&op, sigma, &q, &b, &p, 1.0) {
            Err(SolverError::Singular { null, residual, .. }) => {
                assert!(null < 1e-8, "null {null:e}");
                // What is left is b's component along the zero mode.
                let qb2: f64 = b[1..].iter().map(|z| z.norm_sqr()).sum();
                let want = b[n - 1].norm() / qb2.sqrt();
                assert!((residual - want).abs() < 1e-9, "{residual} vs {want}");
            }
            other => panic!("expected Singular, got {other:?}"),
        }
    }

    #[test]
    fn a_cycle_that_cannot_halve_the_explicit_residual_is_refused_as_minres() {
        // A budget too short for the tolerance: one cycle, then the error names MINRES.
        let n = 60;
        let (h, q, b) = matrix(n, 11);
        let op = DenseOperator::new(n, h);
        let p = MinresParams {
            max_iterations: 5,
            ..MinresParams::default()
        };
        let e = solve(&op, 1.1, &q, &b, &p, 1.0).unwrap_err();
        match &e {
            SolverError::MinresNotConverged {
                iterations,
                cycles,
                residual,
                ..
            } => {
                assert_eq!((*iterations, *cycles), (5, 1));
                assert!(*residual > 1e-10 && *residual < 1.0, "residual {residual}");
            }
            other => panic!("expected MinresNotConverged, got {other:?}"),
        }
        assert!(
            e.to_string().starts_with("MINRES: relative residual"),
            "{e}"
        );
    }

    #[test]
    fn the_budget_counts_every_operator_application_and_is_never_exceeded() {
        let n = 60;
        let (h, q, b) = matrix(n, 7);
        let sigma = 1.1;
        for (singular, suspect) in [(false, 1.0), (true, 1.0), (true, 1e300)] {
            let p = MinresParams {
                singular_below: singular.then_some(1e-8),
                ..MinresParams::default()
            };
            // Counted by the operator itself, independently of the solver's bookkeeping.
            let op = Counting::new(DenseOperator::new(n, h.clone()));
            let (x, info) = solve(&op, sigma, &q, &b, &p, suspect).unwrap();
            let spent = op.count();
            assert_eq!(
                info.matvecs, spent,
                "singular {singular}, suspect {suspect}"
            );
            // A step each, and at least the explicit residual of each cycle; two more per
            // dismissed suspicion.
            assert!(spent >= info.iterations + info.cycles + 2 * info.dismissed);
            assert_eq!(suspect > 1.0, info.dismissed > 0);
            assert!(dense_residual(&h, &q, sigma, &b, &x) <= 1e-10);
            // That budget suffices (the cycle may stop a step or two earlier: it keeps the
            // products of a null-vector test a converged cycle does not need) ...
            let exact = MinresParams {
                max_iterations: spent,
                ..p.clone()
            };
            let op = Counting::new(DenseOperator::new(n, h.clone()));
            let (x2, i2) = solve(&op, sigma, &q, &b, &exact, suspect).unwrap();
            assert_eq!(i2.matvecs, op.count());
            assert!(
                op.count() <= spent && op.count() + 3 >= spent,
                "{}",
                op.count()
            );
            assert!(dense_residual(&h, &q, sigma, &b, &x2) <= 1e-10);
            // ... and a smaller one never spends more than it allows: it either meets the
            // tolerance all the same (the recurrence's stop, a tenth of the tolerance, is
            // stricter than the explicit check) or fails as MINRES; one too small for a step
            // with its checks fails before any product.
            for budget in [spent - 1, spent / 2, 2, 1, 0] {
                let tight = MinresParams {
                    max_iterations: budget,
                    ..p.clone()
                };
                let op = Counting::new(DenseOperator::new(n, h.clone()));
                let r = solve(&op, sigma, &q, &b, &tight, suspect);
                let count = op.count();
                assert!(count <= budget, "budget {budget}: {count}");
                match r {
                    Ok((x, info)) => {
                        assert!(budget > 2, "budget {budget} converged");
                        assert_eq!(info.matvecs, count);
                        assert!(dense_residual(&h, &q, sigma, &b, &x) <= 1e-10);
                    }
                    Err(SolverError::MinresNotConverged { iterations, .. }) => {
                        assert_eq!(iterations, count, "budget {budget}");
                    }
                    Err(e) => panic!("budget {budget}: {e}"),
                }
                if budget < 1 + usize::from(singular) + 1 {
                    assert_eq!(count, 0, "budget {budget}");
                }
            }
        }
    }

    /// A dense operator that counts its applications.
    struct Counting {
        inner: DenseOperator,
        count: std::sync::atomic::AtomicUsize,
    }

    impl Counting {
        fn new(inner: DenseOperator) -> Self {
            Self {
                inner,
                count: std::sync::atomic::AtomicUsize::new(0),
            }
        }

        fn count(&self) -> usize {
            self.count.load(std::sync::atomic::Ordering::Relaxed)
        }
    }

    impl LinearOperator<C64> for Counting {
        fn dim(&self) -> usize {
            <DenseOperator as LinearOperator<C64>>::dim(&self.inner)
        }

        fn apply(&self, x: &[C64], out: &mut [C64]) {
            self.count
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            <DenseOperator as LinearOperator<C64>>::apply(&self.inner, x, out)
        }

        fn is_real(&self) -> bool {
            <DenseOperator as LinearOperator<C64>>::is_real(&self.inner)
        }

        fn is_hermitian(&self) -> bool {
            <DenseOperator as LinearOperator<C64>>::is_hermitian(&self.inner)
        }

        fn norm_bound(&self) -> f64 {
            <DenseOperator as LinearOperator<C64>>::norm_bound(&self.inner)
        }

        fn cost_hint(&self) -> usize {
            <DenseOperator as LinearOperator<C64>>::cost_hint(&self.inner)
        }
    }

    /// Fused and plain kernels on `op`: the same iteration count and solutions within 1e-12
    /// (`‖Δx‖/‖x‖`), and the fused one bit for bit the same on one thread and on two.
    fn fused_matches_plain<T: Scalar>(op: &impl LinearOperator<T>, sigma: f64, q: &[T], b: &[T]) {
        let p = MinresParams {
            singular_below: Some(1e-8),
            ..MinresParams::default()
        };
        let run = |kernels, threads| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let mut bufs: Vec<Vec<T>> = (0..7).map(|_| vec![T::zero(); q.len()]).collect();
                minres_with(
                    op,
                    sigma,
                    q,
                    b,
                    &p,
                    Mode {
                        kernels,
                        suspect: 1.0,
                    },
                    &mut bufs,
                )
                .unwrap()
            })
        };
        let (xp, ip) = run(Kernels::Plain, 2);
        let (xf, i_f) = run(Kernels::Fused, 2);
        let (x1, i1) = run(Kernels::Fused, 1);
        assert!(
            ip.iterations > 10,
            "a trivial solve: {} iterations",
            ip.iterations
        );
        assert_eq!(
            ip.iterations, i_f.iterations,
            "plain and fused iteration counts"
        );
        assert!(ip.residual <= 1e-10 && i_f.residual <= 1e-10);
        let norm = xp.iter().map(|z| z.abs2()).sum::<f64>().sqrt();
        let diff = xp
            .iter()
            .zip(&xf)
            .map(|(a, b)| (*a - *b).abs2())
            .sum::<f64>()
            .sqrt();
        // Rounding in a different order moves x by up to ~ε·κ(A)·‖x‖ per step: the bound is
        // 1e-12·‖x‖ for a well-conditioned system, scaled by the condition estimate
        // κ̂ = ‖A‖·‖x‖/‖b‖ ≥ ‖A‖/|λ| (b's part along A's eigenvalue λ) above 10.
        let nb = b.iter().map(|z| z.abs2()).sum::<f64>().sqrt();
        let kappa = (op.norm_bound() + sigma.abs()) * norm / nb;
        assert!(
            diff <= 1e-13 * kappa.max(10.0) * norm,
            "fused vs plain: ‖Δx‖ = {diff:e}, ‖x‖ = {norm:e}, κ̂ = {kappa:.1}"
        );
        assert_eq!(i1.iterations, i_f.iterations);
        assert!(
            x1.iter().zip(&xf).all(|(a, b)| a == b),
            "1 vs 2 threads differ"
        );
    }

    #[test]
    fn the_fused_kernels_follow_the_plain_recurrence_on_an_indefinite_dense_system() {
        let n = 60;
        let (h, q, b) = matrix(n, 5);
        let op = DenseOperator::new(n, h);
        // σ inside the spectrum: A is indefinite on Q's range.
        fused_matches_plain::<C64>(&op, 1.1, &q, &b);
    }

    #[test]
    fn the_fused_kernels_follow_the_plain_recurrence_on_parallel_chunks() {
        // 16 qubits: vectors above the kernels' serial size, split into chunks over threads.
        use crate::operator::XMaskOperator;
        use crate::pauli::{PauliString, PauliSum};
        let n = 16;
        let mut h = PauliSum::new(n);
        for i in 0..n {
            let j = (i + 1) % n;
            h.add(
                PauliString::parse(&format!("Z{i} Z{j}")).unwrap(),
                1.0 + 0.1 * i as f64,
            );
            h.add(PauliString::parse(&format!("X{i}")).unwrap(), 0.7);
            h.add(PauliString::parse(&format!("X{i} Z{j}")).unwrap(), 0.2);
        }
        let op = XMaskOperator::new(&h).unwrap();
        let dim = 1usize << n;
        let mut q: Vec<f64> = (0..dim)
            .map(|i| ((i * 7919) % 1013) as f64 / 1013.0 - 0.4)
            .collect();
        let nq = q.iter().map(|v| v * v).sum::<f64>().sqrt();
        q.iter_mut().for_each(|v| *v /= nq);
        let b: Vec<f64> = (0..dim)
            .map(|i| ((i * 104729) % 997) as f64 / 997.0 - 0.5)
            .collect();
        // Below the spectrum (|σ| > Σ|c|): A positive definite on Q's range, a short solve.
        let sigma = -40.0;
        fused_matches_plain::<f64>(&op, sigma, &q, &b);
        let qc: Vec<C64> = q.iter().map(|&v| C64::new(v, 0.0)).collect();
        let bc: Vec<C64> = b
            .iter()
            .enumerate()
            .map(|(i, &v)| C64::new(v, 0.01 * (i % 13) as f64))
            .collect();
        fused_matches_plain::<C64>(&op, sigma, &qc, &bc);
    }
}
