//! Relaxation of the classical network to a local minimum of `f` (damped Newton with a line
//! search, kink-aware for the hard sigmoid), and the small Cholesky it needs.

use super::*;
use crate::hamiltonian::Example;
use crate::linalg::{cholesky, solve_cholesky, NotPositiveDefinite};

/// Units of the hard sigmoid this close to a kink are put on it.
const KINK_SNAP: f64 = 1e-12;

/// Largest change of one unit in one relaxation step (limits how far a step can jump from the
/// basin it starts in).
const MAX_STEP: f64 = 1.0;

impl ClassicalNet {
    /// Relaxes to a minimum of `f` at clamping strength `beta` (Eq. 3), from `z0` (e.g. the
    /// free minimum, so that the clamped phases follow it) or from `z = 0`.
    ///
    /// Gradient flow `dz/dt = −∂f/∂z` reaches the same minimum, slowly (the input clamp makes
    /// the problem stiff); this is a damped Newton method instead. Each step tries, in order,
    /// until a backtracking (Armijo) line search finds a decrease of `f`:
    /// 1. the Newton step `−H⁻¹∇f` when the Hessian is positive definite;
    /// 2. otherwise the shifted step `−(H + μ)⁻¹∇f` with the smallest `μ = 10⁻⁴·4^k·‖H‖_max`
    ///    that makes `H + μ` positive definite (a Levenberg step: it follows the directions of
    ///    negative curvature out of a saddle region while staying a descent direction);
    /// 3. a direction of negative curvature from the failed Cholesky factorisation;
    /// 4. the gradient step `−∇f`.
    ///
    /// Steps are capped at `|Δz_i| ≤ 1`; near convergence, where `f` changes below rounding, a
    /// Newton step that lowers `‖∇f‖` is accepted. For the hard sigmoid a step stops on the first
    /// kink it meets, and a unit on a kink whose (shifted) Newton step would cross back is held
    /// there for that step. Converged when `‖∂f/∂z‖ ≤ tol` and the Hessian has no negative pivot
    /// (a saddle with zero gradient is left along its negative curvature). Allocates
    /// `O(units²)` per step.
    ///
    /// # Errors
    /// Those of [`ClassicalNet::check`]; [`ClassicalError::NotConverged`] when the budget runs
    /// out or no direction gives a decrease.
    ///
    /// # Panics
    /// If `z0` has the wrong length.
    pub fn relax(
        &self,
        theta: &[f64],
        example: &Example,
        beta: f64,
        z0: Option<&[f64]>,
    ) -> Result<Relaxed, ClassicalError> {
        self.check(theta, example, beta)?;
        let n = self.qubits;
        let clamp = self.clamp(example, beta);
        let tol = self.params.tol;
        let mut z = match z0 {
            Some(z0) => {
                assert_eq!(z0.len(), n, "z0 has the wrong length");
                z0.to_vec()
            }
            None => vec![0.0; n],
        };
        self.snap(&mut z);
        let mut f = self.energy_at(theta, &clamp, &z);
        let mut gnorm = f64::INFINITY;
        let fail = |iterations, grad_norm, energy, reason| ClassicalError::NotConverged {
            beta,
            iterations,
            grad_norm,
            tol,
            energy,
            reason,
        };
        for it in 0..=self.params.max_iterations {
            let loc = self.local(theta, &clamp, &z);
            gnorm = norm(&loc.grad);
            let hess = self.hessian_at(theta, &clamp, &loc);
            let hscale = 1.0 + hess.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let chol = cholesky(&hess, n);
            let saddle = match &chol {
                Ok(_) => false,
                Err(nf) => nf.pivot < -1e-12 * hscale,
            };
            if gnorm <= tol && !saddle {
                return Ok(Relaxed {
                    z,
                    energy: f,
                    grad_norm: gnorm,
                    iterations: it,
                });
            }
            if it == self.params.max_iterations {
                break;
            }
            let mut step = None;
            for stage in 0..4 {
                let (d, newton) = match stage {
                    0 if chol.is_ok() => (self.newton_direction(theta, &clamp, &loc, 0.0), true),
                    1 if chol.is_err() && gnorm > tol => {
                        let mut d = None;
                        let mut mu = 1e-4 * hscale;
                        for _ in 0..40 {
                            d = self.newton_direction(theta, &clamp, &loc, mu);
                            if d.is_some() {
                                break;
                            }
                            mu *= 4.0;
                        }
                        (d, false)
                    }
                    2 => match &chol {
                        Err(nf) if nf.pivot < 0.0 => {
                            (Some(negative_curvature(&hess, n, nf)), false)
                        }
                        _ => (None, false),
                    },
                    3 => (Some(loc.grad.iter().map(|g| -g).collect()), false),
                    _ => (None, false),
                };
                if let Some(d) = d {
                    step = self.line_search(theta, &clamp, &z, f, &loc.grad, gnorm, d, newton);
                    if step.is_some() {
                        break;
                    }
                }
            }
            match step {
                Some((z_new, f_new)) => {
                    z = z_new;
                    f = f_new;
                }
                None => return Err(fail(it, gnorm, f, "no direction gives a decrease")),
            }
        }
        Err(fail(
            self.params.max_iterations,
            gnorm,
            f,
            "iteration budget exhausted",
        ))
    }

    /// Puts units of the hard sigmoid within [`KINK_SNAP`] of a kink on it.
    fn snap(&self, z: &mut [f64]) {
        if self.params.activation.has_kinks() {
            for x in z.iter_mut() {
                if (x.abs() - 1.0).abs() <= KINK_SNAP {
                    *x = x.signum();
                }
            }
        }
    }

    /// `−(H + μ)⁻¹∇f`, or `None` if `H + μ` is not positive definite. Units on a kink whose
    /// step would cross back are held (their `ρ'` and gradient set to 0, which keeps the
    /// matrix positive definite: the rest is a principal submatrix) and the step recomputed.
    fn newton_direction(
        &self,
        theta: &[f64],
        clamp: &Clamp,
        loc: &Local,
        mu: f64,
    ) -> Option<Vec<f64>> {
        let n = self.qubits;
        let mut cur = loc.clone();
        for _ in 0..=n {
            let mut h = self.hessian_at(theta, clamp, &cur);
            for i in 0..n {
                h[i * n + i] += mu;
            }
            let l = cholesky(&h, n).ok()?;
            let d: Vec<f64> = solve_cholesky(&l, n, &cur.grad)
                .into_iter()
                .map(|x| -x)
                .collect();
            let wrong: Vec<usize> = (0..n)
                .filter(|&i| match cur.side[i] {
                    Side::Up => d[i] < 0.0,
                    Side::Down => d[i] > 0.0,
                    _ => false,
                })
                .collect();
            if wrong.is_empty() {
                return Some(d);
            }
            for i in wrong {
                cur.side[i] = Side::Pinned;
                cur.grad[i] = 0.0;
                cur.dr[i] = 0.0;
            }
        }
        None
    }

    /// Backtracking line search along `d` (capped at `|d_i| ≤ 1`, stopped at the first kink):
    /// the new point and energy, or `None` if no step of length `≥ 10⁻¹⁴` decreases `f`.
    #[allow(clippy::too_many_arguments)]
    fn line_search(
        &self,
        theta: &[f64],
        clamp: &Clamp,
        z: &[f64],
        f: f64,
        grad: &[f64],
        gnorm: f64,
        mut d: Vec<f64>,
        newton: bool,
    ) -> Option<(Vec<f64>, f64)> {
        let n = self.qubits;
        let mut slope = dot(grad, &d);
        if slope > 0.0 {
            d.iter_mut().for_each(|x| *x = -*x);
            slope = -slope;
        }
        let dmax = d.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        if !(dmax > 0.0 && dmax.is_finite()) {
            return None;
        }
        if dmax > MAX_STEP {
            let r = MAX_STEP / dmax;
            d.iter_mut().for_each(|x| *x *= r);
            slope *= r;
        }
        // The first kink on the way (hard sigmoid).
        let mut t_max = 1.0;
        let mut kink: Option<(usize, f64)> = None;
        if self.params.activation.has_kinks() {
            for i in 0..n {
                if d[i] == 0.0 {
                    continue;
                }
                for k in [-1.0, 1.0] {
                    if z[i] != k {
                        let t = (k - z[i]) / d[i];
                        if t > 0.0 && t < t_max {
                            t_max = t;
                            kink = Some((i, k));
                        }
                    }
                }
            }
        }
        let mut t = t_max;
        let mut z_new = vec![0.0; n];
        while t >= 1e-14 {
            for i in 0..n {
                z_new[i] = z[i] + t * d[i];
            }
            if t == t_max {
                if let Some((i, k)) = kink {
                    z_new[i] = k;
                }
            }
            self.snap(&mut z_new);
            let f_new = self.energy_at(theta, clamp, &z_new);
            let armijo = if slope < 0.0 {
                f_new <= f + 1e-4 * t * slope
            } else {
                f_new < f
            };
            let flat = newton
                && t == t_max
                && (f_new - f).abs() <= 64.0 * f64::EPSILON * (1.0 + f.abs())
                && norm(&self.local(theta, clamp, &z_new).grad) < gnorm;
            if armijo || flat {
                return Some((z_new, f_new));
            }
            t *= 0.5;
        }
        None
    }
}

/// With `A = H[..j, ..j] = L Lᵀ` and `b = H[..j, j]` where the pivot `j` failed,
/// `d = (−A⁻¹b, 1, 0, …)` has `dᵀHd` = the pivot `< 0`: a direction of negative curvature.
pub(super) fn negative_curvature(h: &[f64], n: usize, nf: &NotPositiveDefinite) -> Vec<f64> {
    let j = nf.index;
    let mut sub = vec![0.0; j * j];
    for r in 0..j {
        sub[r * j..(r + 1) * j].copy_from_slice(&nf.factor[r * n..r * n + j]);
    }
    let b: Vec<f64> = (0..j).map(|r| h[r * n + j]).collect();
    let x = solve_cholesky(&sub, j, &b);
    let mut d = vec![0.0; n];
    for r in 0..j {
        d[r] = -x[r];
    }
    d[j] = 1.0;
    d
}

pub(super) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

pub(super) fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}
