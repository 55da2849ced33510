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
use serde::Serialize;

pub use crate::linalg::{scaled_bessel_i, ChebyshevExp, SpectralBounds};
pub use crate::measure::stats::jackknife;

use crate::linalg::{eigh_tridiagonal, ChebyshevError, SolverError};
use crate::operator::{OperatorError, XMaskOperator};
use crate::pauli::{PauliString, PauliSum};
use crate::state::memory::{check_alloc_u128, state_bytes, zeroed};
use crate::state::{axpy, dot, expectation_sum, matrix_element_pauli, norm, scale, MemoryError};
use crate::C64;

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
    /// The Chebyshev propagator failed (the spectrum leaked out of the Lanczos bounds, or
    /// its vectors do not fit in memory).
    #[error(transparent)]
    Chebyshev(#[from] ChebyshevError),
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
    /// Gauss–Legendre nodes of the Kubo–Mori integral over `s` ([`kubo_mori_nodes`]; two
    /// exponentials per node and vector in [`kubo_mori_samples`]).
    pub nodes: usize,
}

impl Default for TypicalityParams {
    fn default() -> Self {
        Self {
            samples: 8,
            seed: 0x7e57_ab1e,
            tol: 1e-12,
            lanczos_steps: 80,
            nodes: KUBO_MORI_NODES,
        }
    }
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

    /// The Kubo–Mori gradient `−(1/T)(I_k/Z − (A_k/Z)(A_C/Z))` from the rows of
    /// [`kubo_mori_samples`], with jackknife standard errors over the random vectors (the
    /// ratio's bias is `O(1/R)`, below its standard error for the `R` a variance needs).
    ///
    /// # Panics
    /// If the rows are not those of [`kubo_mori_samples`] (width `2K + 2`; a caller bug).
    #[track_caller]
    pub fn kubo_mori(&self) -> (Vec<f64>, Vec<f64>) {
        let width = self.rows.first().map_or(2, Vec::len);
        assert!(width >= 2 && width.is_multiple_of(2), "not Kubo–Mori rows");
        let k = (width - 2) / 2;
        let t = self.temperature;
        jackknife(&self.rows, |tot| {
            let z = tot[2 * k + 1];
            let cm = tot[2 * k] / z;
            (0..k)
                .map(|j| -(tot[j] / z - tot[k + j] / z * cm) / t)
                .collect()
        })
    }
}

/// The checks every typicality estimate makes before it allocates: a finite temperature
/// above 0, at least two random vectors (for a standard error), and every operator on the
/// Hamiltonian's qubits (the first that is not is named by its position).
fn check_inputs<'a>(
    h: &PauliSum,
    operators: impl Iterator<Item = &'a PauliSum>,
    temperature: f64,
    samples: usize,
) -> Result<(), TypicalityError> {
    if !(temperature > 0.0 && temperature.is_finite()) {
        return Err(TypicalityError::NotPositive {
            what: "temperature",
            value: temperature,
        });
    }
    if samples < 2 {
        return Err(TypicalityError::TooFewSamples { samples });
    }
    if let Some((index, a)) = operators
        .enumerate()
        .find(|(_, a)| a.qubits() != h.qubits())
    {
        return Err(TypicalityError::QubitMismatch {
            index,
            got: a.qubits(),
            expected: h.qubits(),
        });
    }
    Ok(())
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
/// [`TypicalityError::Memory`], [`TypicalityError::Chebyshev`], operator errors.
pub fn typical_samples(
    h: &PauliSum,
    observables: &[PauliSum],
    temperature: f64,
    params: &TypicalityParams,
    mut on_sample: impl FnMut(usize, usize),
) -> Result<TypicalSamples, TypicalityError> {
    let t0 = Instant::now();
    check_inputs(h, observables.iter(), temperature, params.samples)?;
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

/// Default number of Gauss–Legendre nodes of the Kubo–Mori integral ([`kubo_mori_nodes`]).
/// A pair of levels with `x = (E_n − E_m)/T` enters the integral through
/// `∫ cosh(x (s − ½))` ([`kubo_mori_nodes`]); eight nodes on `[½, 1]` integrate it to
/// `1.6·10⁻⁸` relative at `x = 20`, `2·10⁻⁶` at `x = 30`, `4·10⁻⁵` at `x = 40` and `10⁻³` at
/// `x = 60`. Matrix elements of local operators reach `|E_n − E_m| ≈ 10` on the networks of
/// the studies, so eight nodes suffice down to `T ≈ 0.3` (the dense tests check the gradient
/// there); colder runs need more (about `2.7/T`).
pub const KUBO_MORI_NODES: usize = 8;

/// Gauss–Legendre nodes and weights on `[−1, 1]` (`n ≥ 1` points, ascending): Newton's method
/// on the Legendre polynomial `P_n` from Tricomi's initial guesses, weights
/// `2/((1 − x²) P_n'(x)²)`. Exact for polynomials of degree `≤ 2n − 1`.
pub fn gauss_legendre(n: usize) -> Vec<(f64, f64)> {
    let n = n.max(1);
    let nf = n as f64;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        // The i-th largest root, guessed, then refined.
        let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (nf + 0.5)).cos();
        let mut dp = 1.0;
        for _ in 0..100 {
            // P_n(x) and P_{n−1}(x) by the three-term recurrence.
            let (mut p0, mut p1) = (1.0, x);
            for k in 2..=n {
                let kf = k as f64;
                let p2 = ((2.0 * kf - 1.0) * x * p1 - (kf - 1.0) * p0) / kf;
                p0 = p1;
                p1 = p2;
            }
            let pn = if n == 1 { x } else { p1 };
            let pm = if n == 1 { 1.0 } else { p0 };
            dp = nf * (x * pn - pm) / (x * x - 1.0);
            let dx = pn / dp;
            x -= dx;
            if dx.abs() < 1e-16 {
                break;
            }
        }
        out.push((x, 2.0 / ((1.0 - x * x) * dp * dp)));
    }
    out.reverse();
    out
}

/// The quadrature of the Kubo–Mori integral `∫₀¹ Re f(s) ds`, `f(s) = Tr(ρ^s P ρ^{1−s} C)`:
/// `n` Gauss–Legendre nodes `s_j ∈ (½, 1)` (ascending) with weights summing to 1.
///
/// For Hermitian `P` and `C`, `f(1 − s) = f(s)*` (take the adjoint inside the trace and
/// cycle), so `∫₀¹ Re f = 2 ∫_{½}^{1} Re f`: the nodes cover only the half where the random
/// vector of [`kubo_mori_samples`] is damped by at least `e^{−H/4T}` on each side. In the
/// eigenbasis the integrand is `Σ_{mn} P_mn C_nm p_m^s p_n^{1−s}`; a pair with
/// `x = (E_n − E_m)/T` contributes, symmetrised, `√(p_m p_n) cosh(x (s − ½))`, whose integral
/// `sinh(x/2)/(x/2)` (the logarithmic mean) the rule reproduces to the accuracy quoted at
/// [`KUBO_MORI_NODES`].
pub fn kubo_mori_nodes(n: usize) -> Vec<(f64, f64)> {
    gauss_legendre(n)
        .into_iter()
        .map(|(x, w)| (0.75 + 0.25 * x, 0.5 * w))
        .collect()
}

/// State vectors held by [`kubo_mori_samples`]: the random vector's chain `φ`, its next
/// step, `C φ`, `χ`, three Chebyshev vectors.
const KUBO_MORI_VECTORS: u128 = 7;

/// The raw samples of the Kubo–Mori gradient by typicality (Section IV's exact thermal
/// gradient `∂⟨C⟩_T/∂θ_k = −(1/T)(∫₀¹ Tr(ρ^s P_k ρ^{1−s} C) ds − ⟨P_k⟩⟨C⟩)` beyond the
/// dense limit). Row `r` holds, for `K` parameters,
/// `[I_1 … I_K, A_1 … A_K, A_C, Z_r]`:
///
/// * `I_k = Σ_j w_j Re⟨φ_j|P_k|χ_j⟩` with the nodes `(s_j, w_j)` of [`kubo_mori_nodes`],
///   `φ_j = e^{−s_j H/2T} r` and `χ_j = e^{−(1−s_j) H/T} C φ_j`, so that
///   `E⟨φ_j|P_k|χ_j⟩ = Tr(e^{−s_j H/2T} P_k e^{−(1−s_j)H/T} C e^{−s_j H/2T})
///   = Tr(e^{−s_j H/T} P_k e^{−(1−s_j)H/T} C)`;
/// * `A_k = ⟨ψ|P_k|ψ⟩`, `A_C = ⟨ψ|C|ψ⟩`, `Z_r = ⟨ψ|ψ⟩` with `ψ = e^{−H/2T} r` (the plain
///   estimates of `Tr(e^{−H/T} P_k)`, `Tr(e^{−H/T} C)`, `Z`);
///
/// all with the common factor `e^{E_s/T}` of the shifted propagators, which cancels in
/// [`TypicalSamples::kubo_mori`]. The splitting is symmetric: the random vector sits in the
/// middle of `e^{−s H/T}`, damped by `e^{−s H/2T}` on both sides, and only `s ≥ ½` is sampled
/// (`f(1 − s) = f(s)*`, [`kubo_mori_nodes`]). The plain splitting
/// `⟨e^{−sH/T} r|P_k|e^{−(1−s)H/T} C r⟩` leaves `r` undamped on one side as `s → 0` or `1`,
/// so its samples carry the high-energy part of the random vector (their variance is
/// `‖M_s‖_F²` of the sampled matrix `M_s`, largest when one side is `e^{0}`); here every
/// sampled matrix `e^{−sH/2T} P e^{−(1−s)H/T} C e^{−sH/2T}` spreads the damping over three
/// factors, at `s = 1` the plain typicality form `e^{−H/2T} P C e^{−H/2T}`. The two
/// exponentials per node serve every parameter: a parameter costs one matrix element per
/// node (`O(2^N)`), not an evolution. `φ_j` are chained (`φ_{j+1} = e^{−(s_{j+1}−s_j)H/2T}
/// φ_j`, then `ψ` from the last), so the chain costs one exponential of `τ = 1/2T` in total.
///
/// Memory: seven state vectors (`112·2^N` bytes), checked first. Cost per random vector:
/// Chebyshev orders of the `n + 1` chain steps and of the `n` exponentials `e^{−(1−s_j)H/T}`,
/// `n` applications of `C`, and `n·K + K + 1` passes for the matrix elements.
/// `on_sample(done, R)` is called after each vector.
///
/// # Errors
/// As [`typical_samples`], with `params` and `c` checked for their qubit count
/// ([`TypicalityError::QubitMismatch`], `c` counted last).
pub fn kubo_mori_samples(
    h: &PauliSum,
    c: &PauliSum,
    params: &[PauliSum],
    temperature: f64,
    tp: &TypicalityParams,
    mut on_sample: impl FnMut(usize, usize),
) -> Result<TypicalSamples, TypicalityError> {
    let t0 = Instant::now();
    check_inputs(
        h,
        params.iter().chain(std::iter::once(c)),
        temperature,
        tp.samples,
    )?;
    check_alloc_u128(
        KUBO_MORI_VECTORS * state_bytes(h.qubits(), 16),
        "Kubo–Mori typicality vectors",
    )?;
    let op = XMaskOperator::new(h)?;
    let c_op = XMaskOperator::new(c)?;
    let bounds = spectral_bounds(h, &op, tp.lanczos_steps, tp.seed)?;
    let dim = op.dim();
    let beta = 1.0 / temperature;
    let nodes = kubo_mori_nodes(tp.nodes);
    // The chain's steps in s (the last one to s = 1) and the exponentials across.
    let mut chain = Vec::with_capacity(nodes.len() + 1);
    let mut prev = 0.0;
    for &(s, _) in nodes.iter().chain(std::iter::once(&(1.0, 0.0))) {
        chain.push(ChebyshevExp::new(
            bounds,
            0.5 * (s - prev) * beta,
            tp.tol,
            dim,
        )?);
        prev = s;
    }
    let across = nodes
        .iter()
        .map(|&(s, _)| ChebyshevExp::new(bounds, (1.0 - s) * beta, tp.tol, dim))
        .collect::<Result<Vec<_>, _>>()?;
    let order_sum: usize = chain.iter().chain(&across).map(ChebyshevExp::order).sum();
    let k = params.len();
    let (mut phi, mut next, mut cphi, mut chi): (Vec<C64>, Vec<C64>, Vec<C64>, Vec<C64>) =
        (zeroed(dim), zeroed(dim), zeroed(dim), zeroed(dim));
    let element = |a: &[C64], p: &PauliSum, b: &[C64]| -> f64 {
        p.terms()
            .iter()
            .map(|&(q, w)| (w * matrix_element_pauli(a, q, b)).re)
            .sum()
    };
    let mut rows = Vec::with_capacity(tp.samples);
    for r in 0..tp.samples {
        let mut row = vec![0.0; 2 * k + 2];
        phi.copy_from_slice(&gaussian_vector(dim, tp.seed, r as u64));
        for (j, &(_, w)) in nodes.iter().enumerate() {
            chain[j].apply_into(&op, &phi, &mut next)?;
            std::mem::swap(&mut phi, &mut next);
            c_op.apply_into(&phi, &mut cphi);
            across[j].apply_into(&op, &cphi, &mut chi)?;
            for (acc, p) in row[..k].iter_mut().zip(params) {
                *acc += w * element(&phi, p, &chi);
            }
        }
        chain[nodes.len()].apply_into(&op, &phi, &mut next)?;
        for (acc, p) in row[k..2 * k].iter_mut().zip(params) {
            *acc = expectation_sum(&next, p).re;
        }
        row[2 * k] = expectation_sum(&next, c).re;
        row[2 * k + 1] = norm(&next).powi(2);
        rows.push(row);
        on_sample(r + 1, tp.samples);
    }
    let propagator = ChebyshevExp::new(bounds, 0.5 * beta, tp.tol, dim)?;
    Ok(TypicalSamples {
        temperature,
        rows,
        matvecs: bounds.steps + tp.samples * order_sum,
        propagator,
        params: tp.clone(),
        seconds: t0.elapsed().as_secs_f64(),
    })
}
