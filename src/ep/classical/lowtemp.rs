//! The low-temperature expansion of classical thermal EP (Eq. 44–51 of Massar & Mognetti,
//! arXiv:2405.08467), analytic: everything follows from the free minimum `z̄` of `f` at the
//! phase's `β`, the Hessian `H` there (App. A1 with the full diagonal, docs/DESIGN.md) and the third
//! derivatives `f_{abc}`.
//!
//! Write `z = z̄ + x`, `f = f̄ + ½ xᵀHx + (1/6) f_{abc} x_a x_b x_c + …` and expand the
//! Boltzmann weight `e^{−f/T}` (Eq. 30) around the Gaussian of covariance `T H⁻¹`:
//!
//! * **Free energy (Eq. 46).** With `Z = ∫ dⁿz e^{−f/T}` (plain Lebesgue measure, no
//!   normalising constant), `F = −T log Z = f(z̄) − (nT/2) log(2πT) + (T/2) log det H + O(T²)`.
//! * **Mean shift (Eq. 51).** Second-order perturbation of the Gaussian by the cubic term:
//!   `⟨x_i⟩ = −(T/2) Σ_{jkl} (H⁻¹)_{ij} f_{jkl} (H⁻¹)_{kl} + O(T²)`, i.e.
//!   `⟨z⟩ − z̄ = −(T/2) H⁻¹ ∇_z log det H` (`∂_j log det H = tr(H⁻¹ ∂H/∂z_j)`).
//! * **Any smooth observable.** `⟨A⟩_T = A(z̄) + T [½ tr(H⁻¹ ∇²A) + ∇A · m] + O(T²)` with
//!   `m = ⟨z⟩ − z̄` per unit `T`. For the cost this is Eq. 47:
//!   `⟨C⟩_T = C(z̄) + T [½ Σ_out (H⁻¹)_oo + ∇C · m]`, the same as `∂F/∂β` of Eq. 46.
//! * **Gradient (Eq. 49, 50).** `d⟨C⟩_T/dθ_k = ∂/∂β ⟨A_k⟩_T` (`A_k = ∂f/∂θ_k`). At `T = 0`
//!   it is the implicit-differentiation gradient `−∇A_k · H⁻¹ ∇C` (Eq. 49, computed here from
//!   the analytic derivatives of `A_k`, not by calling `implicit_gradient`). The `O(T)`
//!   coefficient is `∂/∂β` of the `O(T)` coefficient of `⟨A_k⟩_T`, taken by a five-point
//!   central difference in `β` (step [`BETA_STEP`]) of the analytic coefficient at the relaxed
//!   minima `z̄(β ± b)`, `z̄(β ± 2b)`. Truncation error `O(b⁴) ≈ 10⁻¹²`, rounding about
//!   `tol / b` with the relaxation tolerance `tol` (10⁻¹⁰ by default): ≈ 10⁻⁷, far below any
//!   sampling error. The paper's Eq. 50 has the wrong overall sign on its first line
//!   (docs/DESIGN.md, "Known slips"); the code follows the derivation above, and the tests check it
//!   against sampling.
//!
//! Third derivatives are analytic: a term `c Π_{m∈t} ρ(z_m)` has
//! `∂³/∂z_a∂z_b∂z_c = c Π_{m∈t} ρ^{(μ_m)}(z_m)` with `μ_m` the multiplicity of `m` in
//! `(a, b, c)` (zero if an index is outside `t`); the quadratic parts of `f` contribute nothing.
//! Only `ρ = tanh` is smooth; the hard sigmoid is rejected.

use serde::Serialize;

use super::langevin::ThermalNet;
use super::{Activation, ClassicalError, Relaxed};
use crate::hamiltonian::Example;
use crate::linalg::{cholesky, solve_cholesky};

/// Step `b` in `β` of the five-point difference that gives the `O(T)` gradient coefficient.
pub const BETA_STEP: f64 = 1e-3;

/// Errors of the low-temperature expansion.
#[derive(Debug, thiserror::Error)]
pub enum LowTempError {
    /// The activation has kinks.
    #[error("the low-temperature expansion needs a smooth activation (tanh); the hard sigmoid has kinks where f has no Taylor expansion")]
    NotSmooth,
    /// The Hessian at the minimum is not positive definite.
    #[error("the Hessian of f at the minimum for β = {beta} is not positive definite (Cholesky pivot {pivot:.3e} at unit {unit}): the Gaussian approximation (Eq. 44) does not exist")]
    NotMinimum {
        /// The phase.
        beta: f64,
        /// Unit of the failing pivot.
        unit: usize,
        /// The pivot.
        pivot: f64,
    },
    /// A classical-network error (θ, example, β, relaxation).
    #[error(transparent)]
    Classical(#[from] ClassicalError),
}

/// The low-temperature expansion of one example at one phase `β` (Eq. 44–51), each quantity
/// as its `T → 0` value and its `O(T)` coefficient.
#[derive(Clone, Debug, Serialize)]
pub struct LowTemperature {
    /// Parameter labels, in model order.
    pub params: Vec<String>,
    /// The phase `β` of the expansion.
    pub beta: f64,
    /// The minimum `z̄` of `f` at `β` and `f(z̄)`.
    pub minimum: Relaxed,
    /// `H = ∂²f/∂z∂z` at `z̄`, row-major.
    pub hessian: Vec<f64>,
    /// `log det H`.
    pub log_det_hessian: f64,
    /// `m` with `⟨z⟩_T − z̄ = T m + O(T²)` (Eq. 51).
    pub mean_shift: Vec<f64>,
    /// `A_k(z̄) = ∂f/∂θ_k` at the minimum (`= ∂F/∂θ_k` at `T = 0`).
    pub derivatives: Vec<f64>,
    /// The `O(T)` coefficient of `⟨A_k⟩_T = ∂F/∂θ_k`.
    pub derivatives_t: Vec<f64>,
    /// `C(z̄)`.
    pub cost: f64,
    /// The `O(T)` coefficient of `⟨C⟩_T` (Eq. 47).
    pub cost_t: f64,
    /// `d⟨C⟩_T/dθ_k` at `T = 0`: `−∇A_k · H⁻¹ ∇C` (Eq. 49).
    pub gradient: Vec<f64>,
    /// The `O(T)` coefficient of `d⟨C⟩_T/dθ_k` (Eq. 50, sign as derived in the module docs).
    pub gradient_t: Vec<f64>,
}

impl LowTemperature {
    /// `F(T) ≈ f(z̄) − (nT/2) log(2πT) + (T/2) log det H` (Eq. 46, `Z = ∫ dⁿz e^{−f/T}`).
    pub fn free_energy(&self, t: f64) -> f64 {
        let n = self.minimum.z.len() as f64;
        self.minimum.energy - 0.5 * n * t * (2.0 * std::f64::consts::PI * t).ln()
            + 0.5 * t * self.log_det_hessian
    }

    /// `⟨z⟩_T ≈ z̄ + T m` (Eq. 51).
    pub fn mean_z(&self, t: f64) -> Vec<f64> {
        self.minimum
            .z
            .iter()
            .zip(&self.mean_shift)
            .map(|(z, m)| z + t * m)
            .collect()
    }

    /// `⟨C⟩_T` to first order in `T` (Eq. 47).
    pub fn cost_at(&self, t: f64) -> f64 {
        self.cost + t * self.cost_t
    }

    /// `⟨∂f/∂θ_k⟩_T = ∂F/∂θ_k` to first order in `T`.
    pub fn derivatives_at(&self, t: f64) -> Vec<f64> {
        first_order(&self.derivatives, &self.derivatives_t, t)
    }

    /// `d⟨C⟩_T/dθ_k` to first order in `T` (Eq. 49 + Eq. 50).
    pub fn gradient_at(&self, t: f64) -> Vec<f64> {
        first_order(&self.gradient, &self.gradient_t, t)
    }
}

fn first_order(a: &[f64], b: &[f64], t: f64) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x + t * y).collect()
}

/// The low-temperature expansion (Eq. 44–51) of `example` at phase `beta`: relaxes the free
/// minimum, then the one at `β` from it, and evaluates every quantity of [`LowTemperature`];
/// the `O(T)` gradient needs four more relaxations (`β ± b`, `β ± 2b`, [`BETA_STEP`]).
/// Allocates `O(n³)` (the third-derivative tensor).
///
/// # Errors
/// [`LowTempError::NotSmooth`] for the hard sigmoid, [`ClassicalError::NoTargets`] without
/// targets, [`LowTempError::NotMinimum`], and those of
/// [`crate::ep::classical::ClassicalNet::relax`].
pub fn low_temperature(
    net: &ThermalNet,
    theta: &[f64],
    example: &Example,
    beta: f64,
) -> Result<LowTemperature, LowTempError> {
    if net.activation != Activation::Tanh {
        return Err(LowTempError::NotSmooth);
    }
    if example.targets.is_empty() {
        return Err(ClassicalError::NoTargets.into());
    }
    let free = net.net().relax(theta, example, 0.0, None)?;
    let e = expand(net, theta, example, beta, &free.z)?;
    let b = BETA_STEP;
    let mut gradient_t = vec![0.0; net.n_params()];
    for (s, w) in [(-2.0, 1.0), (-1.0, -8.0), (1.0, 8.0), (2.0, -1.0)] {
        let side = expand(net, theta, example, beta + s * b, &e.minimum.z)?;
        for (g, c) in gradient_t.iter_mut().zip(&side.derivatives_t) {
            *g += w * c / (12.0 * b);
        }
    }
    Ok(LowTemperature {
        params: net.net().labels().to_vec(),
        beta,
        gradient_t,
        ..e
    })
}

/// Everything but the `O(T)` gradient, at the minimum relaxed from `z_start`.
fn expand(
    net: &ThermalNet,
    theta: &[f64],
    example: &Example,
    beta: f64,
    z_start: &[f64],
) -> Result<LowTemperature, LowTempError> {
    let n = net.units;
    let minimum = net.net().relax(theta, example, beta, Some(z_start))?;
    let z = &minimum.z;
    let hessian = net.net().hessian(theta, example, beta, z);
    let l = cholesky(&hessian, n).map_err(|nf| LowTempError::NotMinimum {
        beta,
        unit: nf.index,
        pivot: nf.pivot,
    })?;
    let log_det_hessian = 2.0 * (0..n).map(|i| l[i * n + i].ln()).sum::<f64>();
    let mut hinv = vec![0.0; n * n];
    for j in 0..n {
        let mut e = vec![0.0; n];
        e[j] = 1.0;
        let col = solve_cholesky(&l, n, &e);
        for i in 0..n {
            hinv[i * n + j] = col[i];
        }
    }
    let f3 = third_at(net, theta, z);
    // v_a = Σ_bc f_abc (H⁻¹)_bc = ∂_a log det H;  m = −½ H⁻¹ v.
    let v: Vec<f64> = (0..n)
        .map(|a| dot(&f3[a * n * n..(a + 1) * n * n], &hinv))
        .collect();
    let mean_shift: Vec<f64> = (0..n)
        .map(|i| -0.5 * dot(&hinv[i * n..(i + 1) * n], &v))
        .collect();
    let mut grad_c = vec![0.0; n];
    let mut cost = 0.0;
    let mut cost_t = 0.0;
    for (&q, &d) in net.outputs.iter().zip(&example.targets) {
        grad_c[q] = z[q] - d;
        cost += 0.5 * (z[q] - d) * (z[q] - d);
        cost_t += 0.5 * hinv[q * n + q];
    }
    cost_t += dot(&grad_c, &mean_shift);
    let u = solve_cholesky(&l, n, &grad_c);
    let jets = jets(z);
    let k = net.n_params();
    let (mut derivatives, mut derivatives_t, mut gradient) =
        (vec![0.0; k], vec![0.0; k], vec![0.0; k]);
    for (j, &t) in net.param_terms.iter().enumerate() {
        let sites = &net.terms[t].sites;
        let (mut ga, mut ha) = (vec![0.0; n], vec![0.0; n * n]);
        for (p, &a) in sites.iter().enumerate() {
            ga[a] = product(sites, &jets, &[p]);
            for (q, &b) in sites.iter().enumerate() {
                ha[a * n + b] = product(sites, &jets, &[p, q]);
            }
        }
        derivatives[j] = product(sites, &jets, &[]);
        derivatives_t[j] = 0.5 * dot(&hinv, &ha) + dot(&ga, &mean_shift);
        gradient[j] = -dot(&ga, &u);
    }
    Ok(LowTemperature {
        params: Vec::new(),
        beta,
        minimum,
        hessian,
        log_det_hessian,
        mean_shift,
        derivatives,
        derivatives_t,
        cost,
        cost_t,
        gradient,
        gradient_t: Vec::new(),
    })
}

/// The third derivatives `f_{abc} = ∂³f/∂z_a∂z_b∂z_c` of the energy (Eq. 1) at `z`, row-major
/// `n × n × n` (index `(a·n + b)·n + c`), analytic (module docs). They do not depend on `β` or
/// the example (the clamps are quadratic). Allocates `n³` values.
///
/// # Errors
/// [`LowTempError::NotSmooth`] for the hard sigmoid; [`ClassicalError::ThetaLength`].
///
/// # Panics
/// If `z.len()` is not the number of units.
#[track_caller]
pub fn third_derivatives(
    net: &ThermalNet,
    theta: &[f64],
    z: &[f64],
) -> Result<Vec<f64>, LowTempError> {
    if net.activation != Activation::Tanh {
        return Err(LowTempError::NotSmooth);
    }
    if theta.len() != net.n_params() {
        return Err(ClassicalError::ThetaLength {
            got: theta.len(),
            expected: net.n_params(),
        }
        .into());
    }
    assert_eq!(z.len(), net.units, "z has the wrong length");
    Ok(third_at(net, theta, z))
}

fn third_at(net: &ThermalNet, theta: &[f64], z: &[f64]) -> Vec<f64> {
    let n = net.units;
    let jets = jets(z);
    let mut f3 = vec![0.0; n * n * n];
    for t in &net.terms {
        let c = t.coef(theta);
        let s = &t.sites;
        for (p, &a) in s.iter().enumerate() {
            for (q, &b) in s.iter().enumerate() {
                for (r, &d) in s.iter().enumerate() {
                    f3[(a * n + b) * n + d] += c * product(s, &jets, &[p, q, r]);
                }
            }
        }
    }
    f3
}

/// `[ρ, ρ', ρ'', ρ''']` of tanh at every unit.
fn jets(z: &[f64]) -> Vec<[f64; 4]> {
    z.iter()
        .map(|&x| {
            let t = x.tanh();
            let d1 = 1.0 - t * t;
            [t, d1, -2.0 * t * d1, d1 * (6.0 * t * t - 2.0)]
        })
        .collect()
}

/// `∂^{|pos|} Π_{m∈sites} ρ(z_m)` with respect to the units at positions `pos` of `sites`
/// (repetitions allowed, at most 3).
fn product(sites: &[usize], jets: &[[f64; 4]], pos: &[usize]) -> f64 {
    sites
        .iter()
        .enumerate()
        .map(|(e, &m)| jets[m][pos.iter().filter(|&&p| p == e).count()])
        .product()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
