//! The heat-kernel propagator `e^{−τ(H − E_s)}ψ` of a Hermitian operator by a Chebyshev
//! expansion ([`ChebyshevExp`]), written against [`LinearOperator`] like Lanczos, MINRES and
//! the Krylov propagator: coefficients from exponentially scaled modified Bessel functions
//! `e^{−x} I_k(x)` ([`scaled_bessel_i`]), the order chosen from the bound on the truncation
//! error, everything shifted by the lowest Ritz value so that nothing overflows at large `τ`.
//! Typicality (`crate::ep::typicality`) evolves its random vectors with it.

use rayon::prelude::*;
use serde::Serialize;

use crate::operator::LinearOperator;
use crate::state::memory::{check_alloc_u128, zeroed};
use crate::state::{norm2, MemoryError};
use crate::C64;

/// Amplitudes per rayon task in the Chebyshev update; below this the update is serial.
const CHUNK: usize = 1 << 14;

/// Errors of the Chebyshev propagator.
#[derive(Debug, thiserror::Error)]
pub enum ChebyshevError {
    /// `τ` must be a finite number ≥ 0.
    #[error("tau = {tau} is not valid; expected a finite number > 0")]
    BadTau {
        /// The value given.
        tau: f64,
    },
    /// The Chebyshev series grew: the spectrum leaks out of the bounds.
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
    /// Not enough memory for the three recurrence vectors.
    #[error(transparent)]
    Memory(#[from] MemoryError),
}

/// Bounds on the spectrum of a Hermitian `H`, `[lower, upper] ⊇ [E_min, E_max]`, with the
/// extreme Ritz values they were widened from (a short Lanczos run, e.g.
/// `crate::ep::typicality::spectral_bounds`).
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
    /// [`ChebyshevError::BadTau`] for `τ < 0` or not finite.
    pub fn new(
        bounds: SpectralBounds,
        tau: f64,
        tol: f64,
        dim: usize,
    ) -> Result<Self, ChebyshevError> {
        if !(tau >= 0.0 && tau.is_finite()) {
            return Err(ChebyshevError::BadTau { tau });
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
    /// [`ChebyshevError::Memory`]; [`ChebyshevError::BoundsViolated`] if the result's norm
    /// exceeds what the bounds allow (`‖e^{−τ(H − lower)}ψ‖ ≤ ‖ψ‖`).
    ///
    /// # Panics
    /// If the lengths differ from `op.dim()` (a caller bug), or if `op` is not Hermitian
    /// (the expansion assumes a real spectrum; checked by the caller).
    #[track_caller]
    pub fn apply_into<A: LinearOperator<C64> + ?Sized>(
        &self,
        op: &A,
        psi: &[C64],
        out: &mut [C64],
    ) -> Result<(), ChebyshevError> {
        let dim = op.dim();
        assert_eq!(psi.len(), dim, "ψ has the wrong length");
        assert_eq!(out.len(), dim, "output has the wrong length");
        check_alloc_u128(3 * 16 * dim as u128, "Chebyshev vectors")?;
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
            op.apply(psi, &mut tmp);
            par_zip3(&mut cur, &tmp, psi, out, |cu, t, p, o| {
                *cu = (t - p * center) * inv_a;
                *o += *cu * c[1];
            });
        }
        for &ck in &c[2.min(c.len())..] {
            op.apply(&cur, &mut tmp);
            // prev ← 2 H̃ cur − prev, out += c_k prev
            par_zip3(&mut prev, &tmp, &cur, out, |pv, t, cu, o| {
                *pv = (t - cu * center) * (2.0 * inv_a) - *pv;
                *o += *pv * ck;
            });
            std::mem::swap(&mut prev, &mut cur);
        }
        // Both norms over the whole vector, in one reduction.
        let mut n2 = [norm2(out), norm2(psi)];
        op.reduce_sum(&mut n2);
        let ratio = n2[0].sqrt() / n2[1].sqrt().max(f64::MIN_POSITIVE)
            * (-self.tau * (self.shift - b.lower)).exp();
        if ratio > 1.0 + 1e-3 + self.truncation {
            return Err(ChebyshevError::BoundsViolated {
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
