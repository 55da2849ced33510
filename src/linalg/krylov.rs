//! The Krylov (Lanczos) propagator `ψ ← exp(−i A τ) ψ` for a Hermitian matrix-free `A`, with
//! Saad's a-posteriori error estimate and adaptive sub-steps (the scheme of Expokit, written
//! for the X-mask operator: no crate offers a matrix-free Krylov exponential over our kernels).
//!
//! For a Krylov space of dimension `m` with Lanczos coefficients `T_m` and next coefficient
//! `β_m`, the error of `‖ψ‖ V_m exp(−iτT_m) e₁` is estimated by
//! `err(τ) = ‖ψ‖ β_m |e_mᵀ exp(−iτT_m) e₁|` (Saad 1992, Hochbruck–Lubich 1997). The space
//! grows until `err(τ) ≤ tol·τ`; if it reaches `max_dim` first, the step is cut to the largest
//! `τ' < τ` that meets the bound (cheap: `T_m`'s eigenpairs are already known) and the rest of
//! the step restarts from the new state. No full reorthogonalisation: for the exponential,
//! Lanczos in finite precision converges like exact Lanczos (Druskin–Knizhnerman), and the
//! estimate (checked against dense exponentials in the tests) stays reliable.
//!
//! Works on any Hermitian [`LinearOperator`] over complex vectors (static dispatch: the
//! operator's `apply` is inlined into the Lanczos loop).

use rayon::prelude::*;
use serde::Serialize;

use super::{eigh_tridiagonal, SolverError};
use crate::operator::LinearOperator;
use crate::scalar::C64;
use crate::state::{memory, scale};

use super::reduce::{dot_all, norm_all};

/// Settings of the Krylov propagator.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct KrylovParams {
    /// Error allowed per unit time: each sub-step of length `τ` keeps `err(τ) ≤ tol·τ`, so an
    /// evolution over time `t` has an estimated error `≤ tol·t` (default 1e-10).
    pub tol: f64,
    /// Largest Krylov dimension (memory: `max_dim + 1` state vectors; default 30).
    pub max_dim: usize,
}

impl Default for KrylovParams {
    fn default() -> Self {
        Self {
            tol: 1e-10,
            max_dim: 30,
        }
    }
}

/// Counters of a propagation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct KrylovStats {
    /// Operator applications.
    pub matvecs: usize,
    /// Krylov sub-steps (one Lanczos run each).
    pub substeps: usize,
    /// Sum of the error estimates of all sub-steps (a bound on the accumulated error in
    /// `‖·‖₂`, to the extent the estimate holds).
    pub error_estimate: f64,
}

/// The Krylov workspace: `max_dim + 1` vectors allocated once, reused for every step.
#[derive(Debug)]
pub struct Krylov {
    params: KrylovParams,
    basis: Vec<Vec<C64>>,
    alpha: Vec<f64>,
    beta: Vec<f64>,
    coeff: Vec<C64>,
    /// Step length that worked last time (the next step starts from it).
    tau_hint: Option<f64>,
    /// Krylov dimension the last sub-step needed: the (cheap but not free) error estimate is
    /// only evaluated from one below it, since consecutive sub-steps need similar dimensions.
    m_hint: usize,
    /// Per-chunk partial sums of [`orthogonalize`].
    parts: Vec<f64>,
}

/// Breakdown threshold relative to the scale of `T_m`: the Krylov space is invariant.
const HAPPY: f64 = 1e-13;

/// The Krylov basis [`Krylov::new`] allocates for states of `n` qubits:
/// `min(max_dim, 2^n) + 1` complex vectors.
pub fn krylov_memory(n: usize, params: &KrylovParams) -> memory::MemoryPlan {
    let m = (params.max_dim as u128).min(memory::state_bytes(n, 1).max(1)) + 1;
    let mut plan = memory::MemoryPlan::part("Krylov propagator");
    plan.add_n("Krylov basis", m as usize, memory::state_bytes(n, 16));
    plan
}

impl Krylov {
    /// A workspace for states of dimension `dim`.
    ///
    /// # Errors
    /// [`SolverError::BadKrylov`] for `max_dim < 2` or a non-positive tolerance;
    /// [`SolverError::Memory`] if the vectors do not fit.
    pub fn new(dim: usize, params: KrylovParams) -> Result<Self, SolverError> {
        if params.max_dim < 2 || !(params.tol.is_finite() && params.tol > 0.0) {
            return Err(SolverError::BadKrylov {
                max_dim: params.max_dim,
                tol: params.tol,
            });
        }
        let m = params.max_dim.min(dim.max(1));
        memory::check_alloc_u128(
            (m as u128 + 1) * dim as u128 * 16,
            "Krylov basis (lower --krylov-dim to use less memory)",
        )?;
        let basis = (0..=m).map(|_| memory::zeroed(dim)).collect();
        Ok(Self {
            params: KrylovParams {
                max_dim: m,
                ..params
            },
            basis,
            alpha: Vec::with_capacity(m),
            beta: Vec::with_capacity(m),
            coeff: vec![C64::new(0.0, 0.0); m],
            tau_hint: None,
            m_hint: 2,
            parts: Vec::with_capacity(dim.div_ceil(1 << 12)),
        })
    }

    /// The settings in use (`max_dim` capped at the dimension).
    pub fn params(&self) -> KrylovParams {
        self.params
    }

    /// `ψ ← exp(−i A τ) ψ` with `A = op` (Hermitian), in adaptive sub-steps.
    ///
    /// # Errors
    /// [`SolverError::KrylovStalled`] if a sub-step would have to be shorter than
    /// `1e-12·τ` (the tolerance is below round-off for this operator norm).
    ///
    /// # Panics
    /// If `ψ` does not have the workspace's dimension (a caller bug).
    #[track_caller]
    pub fn step(
        &mut self,
        op: &(impl LinearOperator<C64> + ?Sized),
        psi: &mut [C64],
        tau: f64,
        stats: &mut KrylovStats,
    ) -> Result<(), SolverError> {
        assert_eq!(psi.len(), self.basis[0].len(), "state has the wrong length");
        let mut done = 0.0;
        while done < tau {
            let remaining = tau - done;
            let mut h = self.tau_hint.map_or(remaining, |t| t.min(remaining));
            let nrm = norm_all(op, psi);
            if nrm == 0.0 {
                return Ok(());
            }
            // v₀ = ψ/‖ψ‖.
            {
                let inv = 1.0 / nrm;
                self.basis[0].copy_from_slice(psi);
                scale(C64::new(inv, 0.0), &mut self.basis[0]);
            }
            self.alpha.clear();
            self.beta.clear();
            let mut beta_m = 0.0;
            let mut eig: Option<(Vec<f64>, faer::Mat<f64>)> = None;
            let max = self.params.max_dim;
            for j in 0..max {
                let (head, tail) = self.basis.split_at_mut(j + 1);
                let w = &mut tail[0];
                op.apply(&head[j], w);
                stats.matvecs += 1;
                let a = dot_all(op, &head[j], w).re;
                let prev = (j > 0).then(|| (self.beta[j - 1], &head[j - 1][..]));
                let mut b2 = [orthogonalize(w, a, &head[j], prev, &mut self.parts)];
                op.reduce_sum(&mut b2);
                let b = b2[0].sqrt();
                self.alpha.push(a);
                let t_scale = self.alpha.iter().map(|x| x.abs()).fold(0.0, f64::max)
                    + self.beta.iter().fold(0.0, |m: f64, &x| m.max(x));
                let happy = b <= HAPPY * t_scale.max(1e-300);
                if !happy && j + 2 < self.m_hint && j + 1 < max {
                    // Too early to be converged, judging by the last sub-step.
                    self.beta.push(b);
                    let inv = 1.0 / b;
                    scale(C64::new(inv, 0.0), w);
                    continue;
                }
                let e = eigh_tridiagonal(&self.alpha, &self.beta)?;
                if happy {
                    // Invariant subspace: the projection is exact for any τ.
                    beta_m = 0.0;
                    eig = Some(e);
                    break;
                }
                beta_m = b;
                let err = nrm * b * last_component(&e, h).norm();
                eig = Some(e);
                if err <= self.params.tol * h || j + 1 == max {
                    break;
                }
                self.beta.push(b);
                let inv = 1.0 / b;
                scale(C64::new(inv, 0.0), w);
            }
            let Some(e) = eig else {
                unreachable!("max_dim ≥ 2")
            };
            let m = self.alpha.len();
            let err_of = |h: f64| nrm * beta_m * last_component(&e, h).norm();
            let mut err = err_of(h);
            if err > self.params.tol * h {
                // Cut the step: the error grows like h^m, so shrink geometrically.
                let floor = 1e-12 * tau;
                while err > self.params.tol * h {
                    h *= 0.5 * (self.params.tol * h / err).powf(1.0 / m as f64).min(1.0);
                    if h < floor {
                        return Err(SolverError::KrylovStalled {
                            tau,
                            tol: self.params.tol,
                            max_dim: self.params.max_dim,
                        });
                    }
                    err = err_of(h);
                }
                self.tau_hint = Some(h);
            } else if h < remaining {
                // The hint was conservative: let the next step try longer.
                self.tau_hint = Some(h * 2.0);
            }
            // c = exp(−i h T_m) e₁ = Q exp(−ihΛ) Qᵀ e₁.
            let (lam, q) = &e;
            for (i, c) in self.coeff[..m].iter_mut().enumerate() {
                *c = (0..m)
                    .map(|k| C64::from_polar(q[(0, k)] * q[(i, k)], -h * lam[k]))
                    .sum();
            }
            let basis = &self.basis[..m];
            let coeff = &self.coeff[..m];
            // Below 2^14 amplitudes one thread does it (a fork costs more than the work).
            const CHUNK: usize = 1 << 12;
            let combine = |(ci, out): (usize, &mut [C64])| {
                let off = ci * CHUNK;
                for (i, o) in out.iter_mut().enumerate() {
                    let mut acc = C64::new(0.0, 0.0);
                    for (v, &c) in basis.iter().zip(coeff) {
                        acc += v[off + i] * c;
                    }
                    *o = acc * nrm;
                }
            };
            if psi.len() < 1 << 14 {
                psi.chunks_mut(CHUNK).enumerate().for_each(combine);
            } else {
                psi.par_chunks_mut(CHUNK).enumerate().for_each(combine);
            }
            stats.substeps += 1;
            stats.error_estimate += err;
            done += h;
            if h >= remaining {
                break;
            }
        }
        Ok(())
    }
}

/// `e_mᵀ exp(−iτT) e₁` from the eigenpairs of `T` (the last component of the Krylov solution).
fn last_component(e: &(Vec<f64>, faer::Mat<f64>), tau: f64) -> C64 {
    let (lam, q) = e;
    let m = lam.len();
    (0..m)
        .map(|k| C64::from_polar(q[(0, k)] * q[(m - 1, k)], -tau * lam[k]))
        .sum()
}

/// The Lanczos three-term step fused into one pass: `w ← w − a·v − b·v_prev` and the local
/// `‖w‖²` (one read of each vector and one write, instead of two `axpy` and a norm); the
/// caller sums it over processes.
fn orthogonalize(
    w: &mut [C64],
    a: f64,
    v: &[C64],
    prev: Option<(f64, &[C64])>,
    parts: &mut Vec<f64>,
) -> f64 {
    const CHUNK: usize = 1 << 12;
    let part = |(ci, wc): (usize, &mut [C64])| -> f64 {
        let off = ci * CHUNK;
        let vc = &v[off..off + wc.len()];
        let mut acc = 0.0;
        match prev {
            Some((b, p)) => {
                let pc = &p[off..off + wc.len()];
                for ((x, &y), &z) in wc.iter_mut().zip(vc).zip(pc) {
                    *x -= y * a + z * b;
                    acc += x.norm_sqr();
                }
            }
            None => {
                for (x, &y) in wc.iter_mut().zip(vc) {
                    *x -= y * a;
                    acc += x.norm_sqr();
                }
            }
        }
        acc
    };
    // Chunks are summed in index order on both paths: the result does not depend on threads.
    // `parts` is the workspace's buffer: no allocation once it has grown to dim/CHUNK.
    if w.len() < 1 << 14 {
        parts.clear();
        parts.extend(w.chunks_mut(CHUNK).enumerate().map(part));
    } else {
        w.par_chunks_mut(CHUNK)
            .enumerate()
            .map(part)
            .collect_into_vec(parts);
    }
    parts.iter().sum::<f64>()
}
