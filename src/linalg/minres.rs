//! MINRES (Paige & Saunders 1975) for `Q (H − σ) Q x = b` on the matrix-free operator, with `Q`
//! the projector off a given vector: the linear system of first-order perturbation theory
//! around an eigenstate (the exact-gradient oracle of EP). `H − σ` is indefinite on `Q`'s range
//! for an excited state, so CG would not do; MINRES needs only a Hermitian operator.
//!
//! Written by hand: no maintained Rust crate offers MINRES over a matrix-free complex
//! operator with a projection, and the recurrence is short.

use serde::Serialize;

use crate::operator::{LinearOperator, Projected, Shifted};
use crate::scalar::Scalar;
use crate::state::{axpy, memory};

use super::reduce::{dot_all, norm_all};
use super::{LanczosWorkspace, SolverError};

/// Settings of [`minres_projected`].
#[derive(Clone, Debug, Serialize)]
pub struct MinresParams {
    /// Relative residual `‖b − A x‖ / ‖b‖` to reach.
    pub tol: f64,
    /// Maximum iterations (operator applications).
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
    /// Iterations used.
    pub iterations: usize,
    /// Explicit relative residual `‖b − A x‖ / ‖b‖`, recomputed at the end.
    pub residual: f64,
}

/// Solves `Q (H − σ) Q x = b` for `x ⊥ q` (`Q = 1 − |q⟩⟨q|`, `q` normalised), with `b` projected
/// onto `Q`'s range first. Allocates eight vectors (checked first).
///
/// # Errors
/// [`SolverError::Memory`] if the work vectors do not fit; [`SolverError::NotConverged`] if the
/// explicit residual misses `params.tol` after `params.max_iterations`;
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
    let result = minres_with(op, sigma, q, b, params, &mut bufs);
    for v in bufs {
        workspace.give(v);
    }
    result
}

/// The MINRES iteration in the seven work vectors `bufs` (contents arbitrary on entry).
fn minres_with<T: Scalar>(
    op: &(impl LinearOperator<T> + ?Sized),
    sigma: f64,
    q: &[T],
    b: &[T],
    params: &MinresParams,
    bufs: &mut [Vec<T>],
) -> Result<(Vec<T>, MinresInfo), SolverError> {
    let dim = op.dim();
    // A v = Q (H − σ) Q v; v stays in Q's range up to round-off, which the projections remove.
    let shifted = Shifted { inner: op, sigma };
    let a = Projected { inner: &shifted, q };
    let project = |v: &mut [T]| a.project(v);
    let apply = |v: &[T], out: &mut [T]| a.apply(v, out);
    let [r1, r2, y, v, w, w1, w2] = bufs else {
        panic!("MINRES needs seven work vectors");
    };
    let (mut r1, mut r2) = (r1, r2);
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
                residual: 0.0,
            },
        ));
    }
    r2.copy_from_slice(r1);
    y.copy_from_slice(r1);
    for buf in [&mut *w, &mut *w1, &mut *w2] {
        buf.iter_mut().for_each(|e| *e = T::zero());
    }
    let (mut oldb, mut beta, mut dbar, mut epsln, mut phibar) = (0.0, beta1, 0.0, 0.0, beta1);
    let (mut cs, mut sn) = (-1.0f64, 0.0f64);
    let mut iterations = 0;
    for itn in 1..=params.max_iterations {
        iterations = itn;
        // v = y / β; y = A v − (β/β_old) r1 − (α/β) r2 (Lanczos step of scipy's minres, M = I).
        v.copy_from_slice(y);
        crate::state::scale(T::from_f64(1.0 / beta), v);
        apply(v, y);
        if itn >= 2 {
            axpy(T::from_f64(-beta / oldb), r1, y);
        }
        let alfa = dot_all(op, v, y).re();
        axpy(T::from_f64(-alfa / beta), r2, y);
        std::mem::swap(&mut r1, &mut r2);
        r2.copy_from_slice(y);
        oldb = beta;
        beta = norm_all(op, r2);
        // Apply the previous rotation, then a new one that annihilates β.
        let oldeps = epsln;
        let delta = cs * dbar + sn * alfa;
        let gbar = sn * dbar - cs * alfa;
        epsln = sn * beta;
        dbar = -cs * beta;
        // ‖A r‖/‖r‖ of the current iterate's residual (Paige & Saunders: ‖A r_{k−1}‖ =
        // φ̄_{k−1} √(γ̄_k² + δ̄_{k+1}²)). For a consistent system it stays at or above the
        // smallest |eigenvalue| of A that b reaches; it falls to rounding level only when the
        // residual is left with a component along an exact null vector that b couples to.
        if let Some(g) = params.singular_below {
            if gbar.hypot(dbar) < g && phibar > params.tol * beta1 {
                // Confirmed on the explicit residual below.
                break;
            }
        }
        let gamma = gbar.hypot(beta).max(f64::EPSILON);
        cs = gbar / gamma;
        sn = beta / gamma;
        let phi = cs * phibar;
        phibar *= sn;
        // w = (v − ε w1 − δ w2) / γ, rotating (w1, w2, w) ← (w2, w, new).
        std::mem::swap(&mut w1, &mut w2);
        std::mem::swap(&mut w2, &mut w);
        w.copy_from_slice(v);
        axpy(T::from_f64(-oldeps), w1, w);
        axpy(T::from_f64(-delta), w2, w);
        crate::state::scale(T::from_f64(1.0 / gamma), w);
        axpy(T::from_f64(phi), w, &mut x);
        if phibar <= 0.1 * params.tol * beta1 || beta == 0.0 {
            break;
        }
    }
    project(&mut x);
    // Explicit residual: the recurrence's estimate drifts on long runs.
    apply(&x, y);
    r1.copy_from_slice(b);
    project(r1);
    axpy(T::from_f64(-1.0), y, r1);
    let rnorm = norm_all(op, r1);
    let residual = rnorm / beta1;
    if let Some(g) = params.singular_below.filter(|_| residual > params.tol) {
        // Stalled, or the Krylov space exhausted short of the tolerance: ‖A r‖ ≤ g‖r‖ on the
        // explicit residual proves an eigenvalue of A within g of 0 (A Hermitian) on r's
        // span, which is off q.
        apply(r1, y);
        let null = norm_all(op, y) / rnorm;
        if null < g {
            return Err(SolverError::Singular {
                null,
                residual,
                iterations: iterations + 1,
            });
        }
    }
    if residual > params.tol {
        return Err(SolverError::NotConverged {
            wanted: 1,
            converged: 0,
            iterations,
            residual,
            tol: params.tol,
        });
    }
    Ok((
        x,
        MinresInfo {
            iterations,
            residual,
        },
    ))
}
