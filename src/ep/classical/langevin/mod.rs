//! Classical thermal EP by Langevin sampling (Section IV of Massar & Mognetti,
//! arXiv:2405.08467, the classical limit case; docs/DESIGN.md, "Thermal case").
//!
//! # Sampling (Eq. 30, 33)
//!
//! The overdamped Langevin equation `dz = −∂f/∂z dt + √(2T) dW` (Eq. 33) has the Boltzmann
//! distribution `p(z) ∝ exp(−f(z)/T)` (Eq. 30) as its invariant measure. [`sample`] integrates it
//! with the Leimkuhler–Matthews scheme ([`Scheme::LeimkuhlerMatthews`], the default)
//!
//! ```text
//! z_{n+1} = z_n − h ∇f(z_n) + √(2Th) (ξ_n + ξ_{n+1}) / 2,      ξ_n ~ N(0, 1) i.i.d.
//! ```
//!
//! whose invariant measure is `O(h²)` from the Boltzmann one (Euler–Maruyama,
//! `z_{n+1} = z_n − h∇f + √(2Th) ξ_n`, is `O(h)`; it is kept for comparison). For a harmonic
//! well `f = ½kz²` the LM chain is an ARMA(1,1) process whose stationary variance is exactly
//! `T/k` for every stable `h < 2/k` (EM gives `T/(k(1 − hk/2))`).
//!
//! The core sampler is generic over a [`Potential`] (any `Fn(&[f64], &mut [f64]) -> f64`
//! through [`from_fn`]); [`ThermalNet`] is the potential of a classical EP network (Eq. 1, see
//! [`crate::ep::classical`]) at given `θ`, example and one or several clamping strengths `β`.
//!
//! * **Chains and seeds.** `chains` independent chains run in parallel (rayon). Chain `c` draws
//!   from `ChaCha8Rng::seed_from_u64(seed)` on stream `c` (`set_stream(c)`), so each chain's
//!   numbers depend only on `(seed, c)` and the results do not depend on the thread count.
//! * **Burn-in, thinning.** `burn_in` steps are discarded; then every `thin`-th state is kept
//!   until `samples` states per chain are stored.
//! * **Errors bars.** Every mean is an [`Estimate`] whose standard error comes from the
//!   integrated autocorrelation time `τ` of its series ([`estimate`]: autocovariance pooled over
//!   chains around the grand mean, Sokal's automatic window `W ≥ 5τ(W)`), so
//!   `σ = √(Var · τ / N)` and the effective sample size is `N/τ`.
//! * **Replicas with common noise.** A potential may consist of `R` replicas of one system
//!   (e.g. the phases `β = 0, +β, −β`) driven by the *same* noise. Each replica still samples its
//!   own Boltzmann distribution, but differences between replicas (the clamped estimate, Eq. 42)
//!   have far less variance than with independent chains.
//!
//! # Thermal EP gradients (Eq. 42, 43)
//!
//! With `A_k = ∂f/∂θ_k` ([`crate::ep::classical::ClassicalNet::theta_derivatives`]) and the
//! free energy `F = −T log ∫ e^{−f/T} dz`, `∂F/∂θ_k = ⟨A_k⟩_T` and `∂F/∂β = ⟨C⟩_T`, so
//! `d⟨C⟩_T/dθ_k = ∂/∂β ⟨A_k⟩_T` and, differentiating the Boltzmann weight,
//!
//! ```text
//! d⟨C⟩_T/dθ_k ≈ (⟨A_k⟩_{T,+β} − ⟨A_k⟩_{T,−β}) / 2β              (Eq. 42, bias O(β²))
//! d⟨C⟩_T/dθ_k = −(1/T) Cov_T[A_k, C]        at β = 0             (Eq. 43, exact)
//! ```
//!
//! **Signs.** `θ_k` enters `f` as `+θ_k Π ρ`, so neither formula has an extra sign; the
//! paper's minus in the classical Eq. 13/14 comes from writing couplings as `−W ρρ`
//! (docs/DESIGN.md, "Known slips"). [`ThermalNet::thermal_gradient`] computes both from one run with
//! the replicas `β = 0, +β, −β` and reports their paired difference.

use std::f64::consts::TAU;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

use super::ClassicalError;

mod estimate;
mod net;

pub use estimate::*;
pub use net::*;

/// Sokal's window constant: the autocorrelation sum stops at the first lag `W ≥ c·τ(W)`.
pub const WINDOW_C: f64 = 5.0;

/// Largest number of units a [`NetPotential`] evaluates without allocating (= the largest
/// model, 64 qubits).
const MAX_UNITS: usize = 64;

/// Errors of Langevin sampling and thermal EP.
#[derive(Debug, thiserror::Error)]
pub enum LangevinError {
    /// A setting out of range.
    #[error("{name} = {value} is not valid; expected {expected}")]
    BadParam {
        /// The setting.
        name: &'static str,
        /// The value given.
        value: f64,
        /// What is accepted.
        expected: &'static str,
    },
    /// The start point does not fit the potential.
    #[error("the start point has {got} values; the potential has dimension {expected}")]
    StartLength {
        /// `z0.len()`.
        got: usize,
        /// `Potential::dim()`.
        expected: usize,
    },
    /// The dimension is not a whole number of replicas.
    #[error("dimension {dim} is not a multiple of the {replicas} replicas")]
    Replicas {
        /// `Potential::dim()`.
        dim: usize,
        /// `Potential::replicas()`.
        replicas: usize,
    },
    /// The chain left every finite value (step too large for the curvature of `f`).
    #[error("chain {chain} diverged at step {step}: f = {energy} (step h = {step_size} is too large for the curvature of f; the Langevin step needs h·max ∂²f/∂z² < 2)")]
    Diverged {
        /// The chain.
        chain: usize,
        /// The step at which `f` or `z` stopped being finite.
        step: usize,
        /// The energy there.
        energy: f64,
        /// `h`.
        step_size: f64,
    },
    /// The autocorrelation window did not close: the chains are too short for this observable.
    #[error("the autocorrelation window did not close within {limit} lags ({per_chain} samples per chain, {chains} chains; τ ≥ {tau:.1} samples): run longer chains or thin more")]
    NotMixed {
        /// `τ(limit)`, a lower bound.
        tau: f64,
        /// Samples per chain.
        per_chain: usize,
        /// Chains.
        chains: usize,
        /// Largest lag tried (`per_chain / 4`).
        limit: usize,
    },
    /// A classical-network error (model, θ, example, β, relaxation).
    #[error(transparent)]
    Classical(#[from] ClassicalError),
}

/// The time-stepping scheme of [`sample`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scheme {
    /// `z' = z − h∇f(z) + √(2Th)(ξ_n + ξ_{n+1})/2`: invariant measure biased by `O(h²)`
    /// (exact for a quadratic `f`). One gradient and one Gaussian vector per step.
    #[default]
    LeimkuhlerMatthews,
    /// `z' = z − h∇f(z) + √(2Th) ξ_n`: invariant measure biased by `O(h)`.
    EulerMaruyama,
}

/// Settings of [`sample`].
#[derive(Clone, Debug, Serialize)]
pub struct LangevinParams {
    /// Temperature `T > 0`.
    pub temperature: f64,
    /// Time step `h > 0`.
    pub step: f64,
    /// Steps discarded at the start of every chain.
    pub burn_in: usize,
    /// States kept per chain (`≥ 20`, so that an autocorrelation time can be estimated).
    pub samples: usize,
    /// Steps between kept states (`≥ 1`).
    pub thin: usize,
    /// Independent chains (`≥ 1`), run in parallel.
    pub chains: usize,
    /// Seed of every draw; chain `c` uses stream `c` of `ChaCha8Rng::seed_from_u64(seed)`.
    pub seed: u64,
    /// The integrator.
    pub scheme: Scheme,
}

impl Default for LangevinParams {
    fn default() -> Self {
        Self {
            temperature: 0.1,
            step: 0.01,
            burn_in: 10_000,
            samples: 10_000,
            thin: 10,
            chains: 4,
            seed: 0,
            scheme: Scheme::LeimkuhlerMatthews,
        }
    }
}

impl LangevinParams {
    /// Checks the settings.
    ///
    /// # Errors
    /// [`LangevinError::BadParam`] for `T ≤ 0`, `h ≤ 0` (or non-finite), `samples < 20`,
    /// `thin = 0` or `chains = 0`.
    pub fn validate(&self) -> Result<(), LangevinError> {
        let bad = |name, value: f64, expected| {
            Err(LangevinError::BadParam {
                name,
                value,
                expected,
            })
        };
        if !(self.temperature > 0.0 && self.temperature.is_finite()) {
            return bad("temperature", self.temperature, "a finite number > 0");
        }
        if !(self.step > 0.0 && self.step.is_finite()) {
            return bad("step", self.step, "a finite number > 0");
        }
        if self.samples < 20 {
            return bad("samples", self.samples as f64, "at least 20 per chain");
        }
        if self.thin == 0 {
            return bad("thin", 0.0, "at least 1");
        }
        if self.chains == 0 {
            return bad("chains", 0.0, "at least 1");
        }
        Ok(())
    }
}

/// An energy `f(z)` with its gradient: what [`sample`] needs.
///
/// Required: [`Potential::dim`], [`Potential::energy_gradient`]. Provided:
/// [`Potential::replicas`] (1).
pub trait Potential: Sync {
    /// Dimension of `z`.
    fn dim(&self) -> usize;

    /// Number of replicas sharing one noise: `z` is `replicas` blocks of `dim / replicas`
    /// values and every block receives the same Gaussian increments. Default 1.
    fn replicas(&self) -> usize {
        1
    }

    /// Writes `∂f/∂z` into `grad` (length [`Potential::dim`]) and returns `f(z)`. Called once
    /// per step: it should not allocate.
    fn energy_gradient(&self, z: &[f64], grad: &mut [f64]) -> f64;
}

/// A [`Potential`] from a closure `f(z, grad) -> energy` (see [`from_fn`]).
#[derive(Clone, Debug)]
pub struct FnPotential<F> {
    dim: usize,
    f: F,
}

/// Wraps a closure that writes `∂f/∂z` into its second argument and returns `f(z)` as a
/// one-replica [`Potential`] of dimension `dim`.
pub fn from_fn<F>(dim: usize, f: F) -> FnPotential<F>
where
    F: Fn(&[f64], &mut [f64]) -> f64 + Sync,
{
    FnPotential { dim, f }
}

impl<F> Potential for FnPotential<F>
where
    F: Fn(&[f64], &mut [f64]) -> f64 + Sync,
{
    fn dim(&self) -> usize {
        self.dim
    }

    fn energy_gradient(&self, z: &[f64], grad: &mut [f64]) -> f64 {
        (self.f)(z, grad)
    }
}

/// Standard normal deviates by the Box–Muller transform (two per pair of uniforms).
#[derive(Default)]
struct Gauss {
    spare: Option<f64>,
}

impl Gauss {
    fn next(&mut self, rng: &mut ChaCha8Rng) -> f64 {
        if let Some(x) = self.spare.take() {
            return x;
        }
        let u1 = 1.0 - rng.random::<f64>(); // (0, 1]
        let u2 = rng.random::<f64>();
        let r = (-2.0 * u1.ln()).sqrt();
        let (s, c) = (TAU * u2).sin_cos();
        self.spare = Some(r * s);
        r * c
    }
}

/// Samples `p(z) ∝ exp(−f(z)/T)` (Eq. 30) by the Langevin dynamics of Eq. 33 with
/// `params.scheme`, from `z0`, and records `observe(z, out)` (which writes `observables`
/// values) at every kept state. Chains run in parallel; see the [module docs](self) for the
/// seeds, burn-in, thinning and common-noise replicas.
///
/// Cost: `chains · (burn_in + samples · thin)` gradient evaluations. Allocates the kept rows
/// (`chains · samples · observables` values) and a few vectors of length `dim` per chain before
/// the loop, nothing inside it.
///
/// # Errors
/// Those of [`LangevinParams::validate`]; [`LangevinError::StartLength`],
/// [`LangevinError::Replicas`]; [`LangevinError::Diverged`] when `f` or `z` stops being finite.
pub fn sample<P, O>(
    potential: &P,
    observables: usize,
    observe: O,
    z0: &[f64],
    params: &LangevinParams,
) -> Result<Samples, LangevinError>
where
    P: Potential + ?Sized,
    O: Fn(&[f64], &mut [f64]) + Sync,
{
    params.validate()?;
    let dim = potential.dim();
    if z0.len() != dim {
        return Err(LangevinError::StartLength {
            got: z0.len(),
            expected: dim,
        });
    }
    let replicas = potential.replicas();
    if replicas == 0 || !dim.is_multiple_of(replicas) {
        return Err(LangevinError::Replicas { dim, replicas });
    }
    let data = (0..params.chains)
        .into_par_iter()
        .map(|c| run_chain(potential, observables, &observe, z0, params, c))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Samples {
        observables,
        per_chain: params.samples,
        data,
        params: params.clone(),
    })
}

fn run_chain<P, O>(
    potential: &P,
    m: usize,
    observe: &O,
    z0: &[f64],
    params: &LangevinParams,
    chain: usize,
) -> Result<Vec<f64>, LangevinError>
where
    P: Potential + ?Sized,
    O: Fn(&[f64], &mut [f64]) + Sync,
{
    let dim = potential.dim();
    let replicas = potential.replicas();
    let d = dim / replicas;
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
    rng.set_stream(chain as u64);
    let mut gauss = Gauss::default();
    let mut z = z0.to_vec();
    let mut grad = vec![0.0; dim];
    let mut xi: Vec<f64> = (0..d).map(|_| gauss.next(&mut rng)).collect();
    let mut xi_next = vec![0.0; d];
    let mut out = vec![0.0; params.samples * m];
    let h = params.step;
    let amp = (2.0 * params.temperature * h).sqrt();
    let total = params.burn_in + params.samples * params.thin;
    let mut kept = 0;
    let diverged = |step, energy| LangevinError::Diverged {
        chain,
        step,
        energy,
        step_size: h,
    };
    for step in 0..total {
        let energy = potential.energy_gradient(&z, &mut grad);
        if !energy.is_finite() {
            return Err(diverged(step, energy));
        }
        for x in xi_next.iter_mut() {
            *x = gauss.next(&mut rng);
        }
        match params.scheme {
            Scheme::LeimkuhlerMatthews => {
                let a = 0.5 * amp;
                for (zr, gr) in z.chunks_exact_mut(d).zip(grad.chunks_exact(d)) {
                    for i in 0..d {
                        zr[i] += -h * gr[i] + a * (xi[i] + xi_next[i]);
                    }
                }
            }
            Scheme::EulerMaruyama => {
                for (zr, gr) in z.chunks_exact_mut(d).zip(grad.chunks_exact(d)) {
                    for i in 0..d {
                        zr[i] += -h * gr[i] + amp * xi[i];
                    }
                }
            }
        }
        std::mem::swap(&mut xi, &mut xi_next);
        if step >= params.burn_in && (step + 1 - params.burn_in).is_multiple_of(params.thin) {
            if !z.iter().all(|x| x.is_finite()) {
                return Err(diverged(step + 1, f64::NAN));
            }
            observe(&z, &mut out[kept * m..(kept + 1) * m]);
            kept += 1;
        }
    }
    Ok(out)
}
