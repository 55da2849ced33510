//! Gibbs expectations beyond the dense limit by *typicality* (thermal pure quantum states):
//! `⟨A⟩_T = Tr(e^{−H/T} A)/Tr e^{−H/T}` (Section IV of the paper, docs/DESIGN.md "Thermal case")
//! estimated from `R` random vectors, matrix-free, for any number of qubits that fits five
//! state vectors in memory.
//!
//! For a random vector `|r⟩` with i.i.d. complex Gaussian amplitudes (`E|r_b|² = 1`),
//! `E ⟨r|B|r⟩ = Tr B`. With `|φ_r⟩ = e^{−H/(2T)}|r⟩`, `⟨φ_r|A|φ_r⟩ = ⟨r|e^{−H/2T} A e^{−H/2T}|r⟩`
//! has mean `Tr(e^{−H/T} A)` and `⟨φ_r|φ_r⟩` has mean `Z = Tr e^{−H/T}`, so
//!
//! `⟨A⟩_T ≈ Σ_r ⟨φ_r|A|φ_r⟩ / Σ_r ⟨φ_r|φ_r⟩`,
//!
//! a ratio estimator whose relative error falls like `1/√(R·D_eff)`, `D_eff = Z(T)²/Z(T/2)`
//! up to the ground-energy factors: about `2^N` at high `T`, down to the ground-state
//! degeneracy as `T → 0` (typicality is worst at low `T`). The standard error comes from the
//! jackknife over the `R` samples ([`jackknife`]), which also serves any smooth function of
//! several such ratios (covariances, clamped differences).
//!
//! `e^{−τH}ψ` is a Chebyshev expansion on the matrix-free operator ([`ChebyshevExp`]): spectral
//! bounds from a short Lanczos run widened by a margin ([`spectral_bounds`]), coefficients from
//! exponentially scaled modified Bessel functions `e^{−x} I_k(x)`, the order chosen from the
//! bound on the truncation error, everything shifted by the lowest Ritz value so that nothing
//! overflows at low `T`.

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

use crate::linalg::{eigh_tridiagonal, SolverError};
use crate::operator::{OperatorError, XMaskOperator};
use crate::pauli::{PauliString, PauliSum};
use crate::state::memory::{check_alloc_u128, state_bytes, zeroed};
use crate::state::{axpy, dot, expectation_sum, norm, scale, MemoryError};
use crate::C64;

/// Amplitudes per rayon task in the Chebyshev update; below this the update is serial.
const CHUNK: usize = 1 << 14;
/// State vectors held during one evolution: the random vector, three Chebyshev vectors and
/// the result.
const VECTORS: u128 = 5;

/// Errors of the typicality estimates.
#[derive(Debug, thiserror::Error)]
pub enum TypicalityError {
    /// `τ` (or `1/2T`) must be a finite number ≥ 0; the temperature a finite number > 0.
    #[error("{what} = {value} is not valid; expected a finite number > 0")]
    NotPositive {
        /// `"temperature"` or `"tau"`.
        what: &'static str,
        /// The value given.
        value: f64,
    },
    /// A jackknife standard error needs at least two random vectors.
    #[error("{samples} random vector(s): typicality needs at least 2 for a standard error")]
    TooFewSamples {
        /// The number asked for.
        samples: usize,
    },
    /// The Hamiltonian is not Hermitian: `e^{−H/T}` is no Gibbs weight.
    #[error("the Hamiltonian is not Hermitian; the Gibbs state needs a Hermitian H")]
    NotHermitian,
    /// An observable acts on a different number of qubits than the Hamiltonian.
    #[error("observable {index} acts on {got} qubits; the Hamiltonian on {expected}")]
    QubitMismatch {
        /// Position of the observable in the list.
        index: usize,
        /// Its qubits.
        got: usize,
        /// The Hamiltonian's.
        expected: usize,
    },
    /// The Chebyshev series grew: the spectrum leaks out of the Lanczos bounds.
    #[error(
        "Chebyshev exponential: ‖e^(−τ(H−E_lo))ψ‖/‖ψ‖ = {ratio:.3e} > 1 with bounds \
         [{lower:.6}, {upper:.6}]; the spectrum leaks out of the bounds (raise lanczos_steps)"
    )]
    BoundsViolated {
        /// Norm ratio found (≤ 1 when the bounds hold).
        ratio: f64,
        /// Lower spectral bound used.
        lower: f64,
        /// Upper spectral bound used.
        upper: f64,
    },
    /// Not enough memory for the vectors.
    #[error(transparent)]
    Memory(#[from] MemoryError),
    /// Building the operator failed.
    #[error(transparent)]
    Operator(#[from] OperatorError),
    /// The tridiagonal eigensolver failed.
    #[error(transparent)]
    Solver(#[from] SolverError),
}

/// Settings of a typicality estimate.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TypicalityParams {
    /// Number `R ≥ 2` of random vectors.
    pub samples: usize,
    /// Seed: vector `r` is drawn from ChaCha8 seeded with `seed` on stream `r`.
    pub seed: u64,
    /// Relative accuracy of `e^{−τH}ψ` for a vector whose ground-state weight is at least
    /// `1/2^N` of its norm² (a random vector): the Chebyshev order makes the truncation error
    /// at most `tol · e^{−τ(E_0 − E_s)} ‖ψ‖ / √(2^N)` (see [`ChebyshevExp::new`]).
    pub tol: f64,
    /// Maximum Lanczos steps for the spectral bounds.
    pub lanczos_steps: usize,
}

impl Default for TypicalityParams {
    fn default() -> Self {
        Self {
            samples: 8,
            seed: 0x7e57_ab1e,
            tol: 1e-12,
            lanczos_steps: 80,
        }
    }
}

/// Bounds on the spectrum of `H` from a short Lanczos run: `[lower, upper] ⊇ [E_min, E_max]`
/// up to the margin's reliability (module docs).
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct SpectralBounds {
    /// Lowest Ritz value (≥ `E_min`, close to it after a few dozen steps).
    pub ritz_min: f64,
    /// Highest Ritz value (≤ `E_max`).
    pub ritz_max: f64,
    /// `ritz_min` minus the margin, clipped to the rigorous bound.
    pub lower: f64,
    /// `ritz_max` plus the margin, clipped to the rigorous bound.
    pub upper: f64,
    /// Lanczos steps (operator applications) used.
    pub steps: usize,
}

/// Spectral bounds of a Hermitian `H` (`op` built from `h`) from at most `max_steps` Lanczos
/// steps on a seeded random vector. Ritz values lie inside the spectrum and the extreme ones
/// converge first; the steps stop early when both extremes move by less than `1e-5` of the
/// width over 10 steps. Each extreme Ritz value `θ` is widened by its residual estimate
/// `r = β_m |s_m|` (an eigenvalue lies within `r` of `θ`) or a floor, whichever is larger:
/// `0.1%` of the Ritz width below (a loose lower bound costs precision at low `T`, since the
/// series then computes a number `e^{−τ·margin}` smaller than its terms) and `2%` above (a
/// loose upper bound only costs order), plus `1e-9·(1 + |θ|)`; then both are clipped to the
/// rigorous interval `c_I ± Σ_{P≠I} |c_P|` (triangle inequality on the Pauli sum). An
/// eigenvalue slightly outside the bounds is benign (`T_k` grows like `e^{k√(2ε)}` at
/// `1 + ε`); a large violation is caught by [`ChebyshevExp::apply_into`].
/// Cost: up to `max_steps` applications of `H`, three vectors (`48·2^N` bytes).
///
/// # Errors
/// [`TypicalityError::NotHermitian`], [`TypicalityError::Memory`], tridiagonal solver errors.
///
/// # Panics
/// If `op` and `h` act on different numbers of qubits (a caller bug).
#[track_caller]
pub fn spectral_bounds(
    h: &PauliSum,
    op: &XMaskOperator,
    max_steps: usize,
    seed: u64,
) -> Result<SpectralBounds, TypicalityError> {
    assert_eq!(h.qubits(), op.qubits(), "operator and sum differ");
    if !op.is_hermitian() {
        return Err(TypicalityError::NotHermitian);
    }
    let dim = op.dim();
    check_alloc_u128(3 * state_bytes(op.qubits(), 16), "Lanczos vectors")?;
    let mut v = gaussian_vector(dim, seed, u64::MAX);
    let n0 = norm(&v);
    scale(C64::new(1.0 / n0, 0.0), &mut v);
    let mut v_prev: Vec<C64> = zeroed(dim);
    let mut w: Vec<C64> = zeroed(dim);
    let steps_max = max_steps.clamp(2, dim.max(2)).min(dim);
    let (mut alpha, mut beta): (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
    let mut last = (f64::NAN, f64::NAN);
    // (lowest, highest) Ritz values and their residual estimates β_m |s_{m,j}|.
    let extremes = |a: &[f64], b: &[f64]| -> Result<[(f64, f64); 2], TypicalityError> {
        let m = a.len();
        let (e, u) = eigh_tridiagonal(a, &b[..m - 1])?;
        let res = |j: usize| b[m - 1] * u[(m - 1, j)].abs();
        Ok([(e[0], res(0)), (e[m - 1], res(m - 1))])
    };
    for j in 0..steps_max {
        op.apply_into(&v, &mut w);
        let a = dot(&v, &w).re;
        axpy(C64::new(-a, 0.0), &v, &mut w);
        if let Some(&b) = beta.last() {
            axpy(C64::new(-b, 0.0), &v_prev, &mut w);
        }
        alpha.push(a);
        let b = norm(&w);
        let scale_ = alpha.iter().fold(0.0f64, |m, x| m.max(x.abs())) + b;
        beta.push(b);
        if b <= 1e-12 * scale_ {
            break; // invariant subspace: its Ritz values are exact eigenvalues
        }
        if (j + 1) % 10 == 0 {
            let [(lo, _), (hi, _)] = extremes(&alpha, &beta)?;
            let width = (hi - lo).max(1e-300);
            if (lo - last.0).abs() < 1e-5 * width && (hi - last.1).abs() < 1e-5 * width {
                break;
            }
            last = (lo, hi);
        }
        std::mem::swap(&mut v_prev, &mut v);
        std::mem::swap(&mut v, &mut w);
        scale(C64::new(1.0 / b, 0.0), &mut v);
    }
    let [(ritz_min, res_min), (ritz_max, res_max)] = extremes(&alpha, &beta)?;
    let c_id = h
        .terms()
        .iter()
        .find(|(p, _)| p.is_identity())
        .map_or(0.0, |(_, c)| c.re);
    let rest: f64 = h
        .terms()
        .iter()
        .filter(|(p, _)| !p.is_identity())
        .map(|(_, c)| c.norm())
        .sum();
    let width = ritz_max - ritz_min;
    let tiny = |e: f64| 1e-9 * (1.0 + e.abs());
    Ok(SpectralBounds {
        ritz_min,
        ritz_max,
        lower: (ritz_min - res_min.max(1e-3 * width) - tiny(ritz_min)).max(c_id - rest),
        upper: (ritz_max + res_max.max(0.02 * width) + tiny(ritz_max)).min(c_id + rest),
        steps: alpha.len(),
    })
}

/// `e^{−x} I_k(x)` for `k = 0..len` (modified Bessel functions of the first kind, scaled), by
/// Miller's backward recurrence `I_{k−1} = (2k/x) I_k + I_{k+1}` from far above `max(len, x)`,
/// normalised by `I_0 + 2 Σ_{k≥1} I_k = e^x`. Stable: `I_k` is the solution that grows
/// backwards. `x ≥ 0`; `x = 0` gives `(1, 0, 0, …)`.
pub fn scaled_bessel_i(x: f64, len: usize) -> Vec<f64> {
    let mut out = vec![0.0; len.max(1)];
    if x <= 0.0 {
        out[0] = 1.0;
        return out;
    }
    let start = len.max((x + 10.0 * x.sqrt()).ceil() as usize) + 40;
    let (mut above, mut cur) = (0.0f64, 1e-300f64); // I_{k+1}, I_k at k = start
    let mut sum = 0.0; // Σ_{k≥1} I_k (unnormalised), plus I_0 at the end
    for k in (1..=start).rev() {
        if k < len {
            out[k] = cur;
        }
        sum += cur;
        let below = (2.0 * k as f64 / x) * cur + above;
        above = cur;
        cur = below;
        if cur > 1e250 {
            // Rescale everything computed so far; tiny values may underflow to 0 (harmless).
            let s = 1e-250;
            above *= s;
            cur *= s;
            sum *= s;
            out.iter_mut().for_each(|v| *v *= s);
        }
    }
    out[0] = cur;
    let total = cur + 2.0 * sum;
    out.iter_mut().for_each(|v| *v /= total);
    out
}

/// The Chebyshev expansion of `e^{−τ(H − E_s)}` on `[lower, upper]`, `E_s` the lowest Ritz
/// value: with `a = (upper − lower)/2`, `c = (upper + lower)/2`, `H̃ = (H − c)/a` and `x = τa`,
///
/// `e^{−τ(H − E_s)} = e^{τ(E_s − lower)} e^{−x} e^{−x H̃}
///  = e^{τ(E_s − lower)} Σ_k ε_k (−1)^k e^{−x} I_k(x) T_k(H̃)`, `ε_0 = 1`, `ε_k = 2`
///
/// (the generating function `e^{z t} = I_0(z) + 2 Σ_k I_k(z) T_k(t)`). On the spectrum
/// `|T_k(H̃)| ≤ 1`, so truncating after order `K` errs by at most
/// `e^{τ(E_s − lower)} Σ_{k>K} 2 e^{−x} I_k(x)` in operator norm.
#[derive(Clone, Debug, Serialize)]
pub struct ChebyshevExp {
    /// `τ ≥ 0`.
    pub tau: f64,
    /// The spectral bounds used.
    pub bounds: SpectralBounds,
    /// `E_s`: the result is `e^{−τ(H − E_s)}ψ`.
    pub shift: f64,
    /// Coefficients of `T_0 … T_K` (including `e^{τ(E_s − lower)}`).
    pub coeffs: Vec<f64>,
    /// Bound on `‖error‖/‖ψ‖` of the truncated series.
    pub truncation: f64,
}

impl ChebyshevExp {
    /// The expansion for `e^{−τ(H − E_s)}` with the smallest order `K` whose truncation bound
    /// is at most `tol · e^{−τ(E_s − lower)} / √dim`. For a vector with weight `≥ 1/dim` of its
    /// norm² on the ground level (a random vector), `‖e^{−τ(H − E_s)}ψ‖ ≳ e^{−τ(E_0 − E_s)}
    /// ‖ψ‖/√dim`, so the relative error is about `tol · e^{−τ(E_s − lower)}` at most when
    /// `E_s ≈ E_0` (the lowest Ritz value converges first).
    ///
    /// # Errors
    /// [`TypicalityError::NotPositive`] for `τ < 0` or not finite.
    pub fn new(
        bounds: SpectralBounds,
        tau: f64,
        tol: f64,
        dim: usize,
    ) -> Result<Self, TypicalityError> {
        if !(tau >= 0.0 && tau.is_finite()) {
            return Err(TypicalityError::NotPositive {
                what: "tau",
                value: tau,
            });
        }
        let a = (0.5 * (bounds.upper - bounds.lower)).max(1e-12 * (1.0 + bounds.upper.abs()));
        let x = tau * a;
        let lift = tau * (bounds.ritz_min - bounds.lower); // ≥ 0
        let target = tol.max(1e-300) * (-lift).exp() / (dim.max(1) as f64).sqrt();
        let big_l = -target.max(1e-300).ln();
        let mut len = (2.0 * (x * big_l).sqrt() + big_l + 20.0).ceil() as usize;
        loop {
            let b = scaled_bessel_i(x, len);
            // tails[k] = Σ_{j>k} 2 e^{−x} I_j(x), backwards.
            let mut tail = 0.0;
            let mut order = None;
            for k in (0..len).rev() {
                if tail > target {
                    break;
                }
                order = Some(k);
                if k > 0 {
                    tail += 2.0 * b[k];
                }
            }
            // `order` = smallest k whose tail beyond k is ≤ target, if one in range was found
            // below the top (the top entry's own tail is unknown, so require room above).
            match order {
                Some(k) if k + 1 < len => {
                    let truncation: f64 =
                        (k + 1..len).map(|j| 2.0 * b[j]).sum::<f64>() * lift.exp();
                    let coeffs = (0..=k)
                        .map(|j| {
                            let e = if j == 0 { 1.0 } else { 2.0 };
                            let s = if j % 2 == 0 { 1.0 } else { -1.0 };
                            e * s * b[j] * lift.exp()
                        })
                        .collect();
                    return Ok(Self {
                        tau,
                        bounds,
                        shift: bounds.ritz_min,
                        coeffs,
                        truncation,
                    });
                }
                _ => len *= 2,
            }
        }
    }

    /// Order `K` of the expansion (`K` applications of `H` per vector).
    pub fn order(&self) -> usize {
        self.coeffs.len() - 1
    }

    /// `out = e^{−τ(H − E_s)} ψ` by the three-term recurrence
    /// `T_{k+1}(H̃)ψ = 2H̃ T_k(H̃)ψ − T_{k−1}(H̃)ψ`. Allocates three state vectors (checked).
    /// Cost: [`ChebyshevExp::order`] applications of `H` and as many fused vector passes.
    ///
    /// # Errors
    /// [`TypicalityError::Memory`]; [`TypicalityError::BoundsViolated`] if the result's norm
    /// exceeds what the bounds allow (`‖e^{−τ(H − lower)}ψ‖ ≤ ‖ψ‖`).
    ///
    /// # Panics
    /// If the lengths differ from `op.dim()` (a caller bug).
    #[track_caller]
    pub fn apply_into(
        &self,
        op: &XMaskOperator,
        psi: &[C64],
        out: &mut [C64],
    ) -> Result<(), TypicalityError> {
        let dim = op.dim();
        assert_eq!(psi.len(), dim, "ψ has the wrong length");
        assert_eq!(out.len(), dim, "output has the wrong length");
        check_alloc_u128(3 * state_bytes(op.qubits(), 16), "Chebyshev vectors")?;
        let b = self.bounds;
        let center = 0.5 * (b.upper + b.lower);
        let inv_a = 1.0 / (0.5 * (b.upper - b.lower)).max(1e-12 * (1.0 + b.upper.abs()));
        let c = &self.coeffs;
        let mut prev: Vec<C64> = psi.to_vec();
        let mut cur: Vec<C64> = zeroed(dim);
        let mut tmp: Vec<C64> = zeroed(dim);
        for (o, p) in out.iter_mut().zip(psi) {
            *o = *p * c[0];
        }
        if c.len() > 1 {
            op.apply_into(psi, &mut tmp);
            par_zip3(&mut cur, &tmp, psi, out, |cu, t, p, o| {
                *cu = (t - p * center) * inv_a;
                *o += *cu * c[1];
            });
        }
        for &ck in &c[2.min(c.len())..] {
            op.apply_into(&cur, &mut tmp);
            // prev ← 2 H̃ cur − prev, out += c_k prev
            par_zip3(&mut prev, &tmp, &cur, out, |pv, t, cu, o| {
                *pv = (t - cu * center) * (2.0 * inv_a) - *pv;
                *o += *pv * ck;
            });
            std::mem::swap(&mut prev, &mut cur);
        }
        let ratio = norm(out) / norm(psi).max(f64::MIN_POSITIVE)
            * (-self.tau * (self.shift - b.lower)).exp();
        if ratio > 1.0 + 1e-3 + self.truncation {
            return Err(TypicalityError::BoundsViolated {
                ratio,
                lower: b.lower,
                upper: b.upper,
            });
        }
        Ok(())
    }
}

/// `f(a_i, b_i, c_i, d_i)` for every index, with `a` and `d` written: parallel over fixed
/// chunks above [`CHUNK`] amplitudes, elementwise hence deterministic.
fn par_zip3(
    a: &mut [C64],
    b: &[C64],
    c: &[C64],
    d: &mut [C64],
    f: impl Fn(&mut C64, C64, C64, &mut C64) + Sync,
) {
    type Chunks<'x> = (((&'x mut [C64], &'x [C64]), &'x [C64]), &'x mut [C64]);
    let body = |(((a, b), c), d): Chunks| {
        for (((a, b), c), d) in a.iter_mut().zip(b).zip(c).zip(d.iter_mut()) {
            f(a, *b, *c, d);
        }
    };
    if a.len() < 2 * CHUNK {
        body((((a, b), c), d));
    } else {
        a.par_chunks_mut(CHUNK)
            .zip(b.par_chunks(CHUNK))
            .zip(c.par_chunks(CHUNK))
            .zip(d.par_chunks_mut(CHUNK))
            .for_each(body);
    }
}

/// A vector of `dim` i.i.d. complex Gaussians with `E|r_b|² = 1` (Box–Muller), from ChaCha8
/// seeded with `seed` on stream `stream`: the same `(seed, stream)` gives the same bits.
pub fn gaussian_vector(dim: usize, seed: u64, stream: u64) -> Vec<C64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    let mut v: Vec<C64> = zeroed(dim);
    for a in v.iter_mut() {
        let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
        let u2: f64 = rng.random::<f64>();
        let r = (-u1.ln()).sqrt(); // |r|² ~ Exp(1): E|r|² = 1
        let (s, c) = (std::f64::consts::TAU * u2).sin_cos();
        *a = C64::new(r * c, r * s);
    }
    v
}

/// The raw samples of a typicality run: for every random vector `r`, the numerators
/// `⟨φ_r|A_j|φ_r⟩` (one per observable) followed by `⟨φ_r|φ_r⟩`, with
/// `|φ_r⟩ = e^{−(H − E_s)/(2T)}|r⟩` (the common factor `e^{E_s/T}` cancels in every ratio).
#[derive(Clone, Debug, Serialize)]
pub struct TypicalSamples {
    /// Temperature `T`.
    pub temperature: f64,
    /// One row per random vector: `J` numerators, then the norm².
    pub rows: Vec<Vec<f64>>,
    /// The Chebyshev propagator used (bounds, order, truncation bound).
    pub propagator: ChebyshevExp,
    /// Applications of `H` in total (Lanczos plus Chebyshev).
    pub matvecs: usize,
    /// The settings (samples, seed, tolerances).
    pub params: TypicalityParams,
    /// Wall time, seconds.
    pub seconds: f64,
}

impl TypicalSamples {
    /// The ratio estimates `Σ_r ⟨φ_r|A_j|φ_r⟩ / Σ_r ⟨φ_r|φ_r⟩` with jackknife standard errors.
    pub fn expectations(&self) -> (Vec<f64>, Vec<f64>) {
        jackknife(&self.rows, |tot| {
            let z = tot[tot.len() - 1];
            tot[..tot.len() - 1].iter().map(|a| a / z).collect()
        })
    }
}

/// Delete-one jackknife of a smooth function of column totals: `f(Σ_r row_r)` is the estimate,
/// and with `θ_(i) = f(Σ_{r≠i} row_r)` (rescaled to `R` rows, which ratio estimators ignore)
/// the standard error is `√((R−1)/R · Σ_i (θ_(i) − θ̄)²)`. Returns `(estimate, std_err)`;
/// NaN standard errors with fewer than two rows.
///
/// # Panics
/// If the rows have different lengths (a caller bug).
#[track_caller]
pub fn jackknife(rows: &[Vec<f64>], f: impl Fn(&[f64]) -> Vec<f64>) -> (Vec<f64>, Vec<f64>) {
    let r = rows.len();
    let width = rows.first().map_or(0, Vec::len);
    assert!(rows.iter().all(|x| x.len() == width), "ragged rows");
    let mut total = vec![0.0; width];
    for row in rows {
        for (t, x) in total.iter_mut().zip(row) {
            *t += x;
        }
    }
    let est = f(&total);
    if r < 2 {
        return (est.clone(), vec![f64::NAN; est.len()]);
    }
    let scale_ = r as f64 / (r - 1) as f64;
    let leave: Vec<Vec<f64>> = rows
        .iter()
        .map(|row| {
            let t: Vec<f64> = total
                .iter()
                .zip(row)
                .map(|(t, x)| (t - x) * scale_)
                .collect();
            f(&t)
        })
        .collect();
    let std = (0..est.len())
        .map(|j| {
            let mean = leave.iter().map(|l| l[j]).sum::<f64>() / r as f64;
            let ss: f64 = leave.iter().map(|l| (l[j] - mean).powi(2)).sum();
            ((r - 1) as f64 / r as f64 * ss).sqrt()
        })
        .collect();
    (est, std)
}

/// Evolves `R` seeded random vectors to `|φ_r⟩ = e^{−(H − E_s)/(2T)}|r⟩` and records
/// `⟨φ_r|A_j|φ_r⟩` for every observable (each a Pauli sum, evaluated term by term on the same
/// `φ_r`: no re-evolution per observable) and `⟨φ_r|φ_r⟩` ([`TypicalSamples`]).
/// Memory: five state vectors (`80·2^N` bytes), checked first. Cost: Lanczos steps plus
/// `R` × ([`ChebyshevExp::order`] applications of `H` + one pass per observable term).
/// `on_sample(done, R)` is called after each vector (for progress bars).
///
/// # Errors
/// [`TypicalityError::NotPositive`] (temperature), [`TypicalityError::TooFewSamples`],
/// [`TypicalityError::NotHermitian`], [`TypicalityError::QubitMismatch`],
/// [`TypicalityError::Memory`], [`TypicalityError::BoundsViolated`], operator errors.
pub fn typical_samples(
    h: &PauliSum,
    observables: &[PauliSum],
    temperature: f64,
    params: &TypicalityParams,
    mut on_sample: impl FnMut(usize, usize),
) -> Result<TypicalSamples, TypicalityError> {
    let t0 = Instant::now();
    if !(temperature > 0.0 && temperature.is_finite()) {
        return Err(TypicalityError::NotPositive {
            what: "temperature",
            value: temperature,
        });
    }
    if params.samples < 2 {
        return Err(TypicalityError::TooFewSamples {
            samples: params.samples,
        });
    }
    if let Some((index, a)) = observables
        .iter()
        .enumerate()
        .find(|(_, a)| a.qubits() != h.qubits())
    {
        return Err(TypicalityError::QubitMismatch {
            index,
            got: a.qubits(),
            expected: h.qubits(),
        });
    }
    check_alloc_u128(VECTORS * state_bytes(h.qubits(), 16), "typicality vectors")?;
    let op = XMaskOperator::new(h)?;
    let bounds = spectral_bounds(h, &op, params.lanczos_steps, params.seed)?;
    let prop = ChebyshevExp::new(bounds, 0.5 / temperature, params.tol, op.dim())?;
    let mut phi: Vec<C64> = zeroed(op.dim());
    let mut rows = Vec::with_capacity(params.samples);
    for r in 0..params.samples {
        let v = gaussian_vector(op.dim(), params.seed, r as u64);
        prop.apply_into(&op, &v, &mut phi)?;
        drop(v);
        let mut row: Vec<f64> = observables
            .iter()
            .map(|a| expectation_sum(&phi, a).re)
            .collect();
        row.push(norm(&phi).powi(2));
        rows.push(row);
        on_sample(r + 1, params.samples);
    }
    Ok(TypicalSamples {
        temperature,
        rows,
        matvecs: bounds.steps + params.samples * prop.order(),
        propagator: prop,
        params: params.clone(),
        seconds: t0.elapsed().as_secs_f64(),
    })
}

/// Typicality estimates of Gibbs expectations with their evidence.
#[derive(Clone, Debug, Serialize)]
pub struct ThermalEstimate {
    /// `⟨A_j⟩_T`, one per observable.
    pub values: Vec<f64>,
    /// Jackknife standard errors over the random vectors.
    pub std_err: Vec<f64>,
    /// Temperature `T`.
    pub temperature: f64,
    /// Random vectors used.
    pub samples: usize,
    /// Their seed.
    pub seed: u64,
    /// Chebyshev order per vector.
    pub order: usize,
    /// Spectral bounds.
    pub bounds: SpectralBounds,
    /// Applications of `H` in total.
    pub matvecs: usize,
    /// Wall time, seconds.
    pub seconds: f64,
}

/// `⟨A_j⟩_T = Tr(e^{−H/T} A_j)/Tr e^{−H/T}` for every observable by typicality (module docs;
/// Section IV's Gibbs state for `N` beyond the dense limit), with jackknife standard errors.
/// See [`typical_samples`] for the cost.
///
/// # Errors
/// As [`typical_samples`].
pub fn thermal_expectations(
    h: &PauliSum,
    observables: &[PauliSum],
    temperature: f64,
    params: &TypicalityParams,
) -> Result<ThermalEstimate, TypicalityError> {
    let s = typical_samples(h, observables, temperature, params, |_, _| {})?;
    let (values, std_err) = s.expectations();
    Ok(ThermalEstimate {
        values,
        std_err,
        temperature,
        samples: params.samples,
        seed: params.seed,
        order: s.propagator.order(),
        bounds: s.propagator.bounds,
        matvecs: s.matvecs,
        seconds: s.seconds,
    })
}

/// `½{P, C}` as a Pauli sum: the products `P·Q` of the terms of `C` that commute with `P`
/// (anticommuting pairs cancel in the anticommutator). Hermitian when `P` and `C` are.
pub fn anticommutator_half(p: PauliString, c: &PauliSum) -> PauliSum {
    let mut out = PauliSum::new(c.qubits());
    for &(q, coeff) in c.terms() {
        if p.commutes_with(q) {
            let (ph, r) = p.product(q);
            out.add(r, coeff * ph.to_complex());
        }
    }
    out.simplify(0.0);
    out
}
