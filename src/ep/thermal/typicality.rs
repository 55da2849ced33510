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
use crate::state::{axpy, dot, expectation_sum, norm, scale, MemoryError};
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
