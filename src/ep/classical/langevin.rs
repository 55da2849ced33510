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

use super::{Activation, ClassicalError, ClassicalNet, ClassicalParams, Relaxed};
use crate::hamiltonian::{Example, Model};

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

/// A mean with its error bar from correlated samples.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Estimate {
    /// The sample mean over all chains.
    pub mean: f64,
    /// `√(variance · τ / samples)`.
    pub std_error: f64,
    /// Per-sample variance (`1/N` normalisation).
    pub variance: f64,
    /// Integrated autocorrelation time in kept samples, `1 + 2 Σ_{t=1}^{W} ρ(t)`.
    pub tau: f64,
    /// Effective sample size `samples / τ`.
    pub ess: f64,
    /// Samples (all chains).
    pub samples: usize,
    /// The window `W` of the autocorrelation sum.
    pub window: usize,
}

/// The mean of equally long series (one per chain) with its standard error from the
/// integrated autocorrelation time.
///
/// `ρ(t) = C(t)/C(0)` with `C(t) = (1/N) Σ_c Σ_{i<n−t} (x_{c,i} − x̄)(x_{c,i+t} − x̄)`, `x̄` the
/// grand mean (chains stuck in different states thus show up as a long `τ`, not as a small
/// error bar); `τ = 1 + 2 Σ_{t=1}^{W} ρ(t)` with the first `W ≥ 5 τ(W)` (Sokal). A constant
/// series has error 0 and `τ = 1`. Cost `O(N · W)`; allocates one centred copy.
///
/// # Errors
/// [`LangevinError::NotMixed`] when no window `W ≤ n/4` qualifies (`τ ≳ n/20`).
///
/// # Panics
/// If there are no chains, the chains differ in length or are shorter than 2 samples.
#[track_caller]
pub fn estimate<S: AsRef<[f64]>>(chains: &[S]) -> Result<Estimate, LangevinError> {
    assert!(!chains.is_empty(), "no chains");
    let n = chains[0].as_ref().len();
    assert!(n >= 2, "chains of {n} samples");
    assert!(
        chains.iter().all(|c| c.as_ref().len() == n),
        "chains of different lengths"
    );
    let total = chains.len() * n;
    let mean = chains
        .iter()
        .map(|c| c.as_ref().iter().sum::<f64>())
        .sum::<f64>()
        / total as f64;
    let centred: Vec<Vec<f64>> = chains
        .iter()
        .map(|c| c.as_ref().iter().map(|x| x - mean).collect())
        .collect();
    let cov = |t: usize| -> f64 {
        centred
            .iter()
            .map(|c| {
                c[..n - t]
                    .iter()
                    .zip(&c[t..])
                    .map(|(a, b)| a * b)
                    .sum::<f64>()
            })
            .sum::<f64>()
            / total as f64
    };
    let c0 = cov(0);
    let done = |tau: f64, window| {
        let tau = tau.max(f64::MIN_POSITIVE);
        Estimate {
            mean,
            std_error: (c0 * tau / total as f64).sqrt(),
            variance: c0,
            tau,
            ess: total as f64 / tau,
            samples: total,
            window,
        }
    };
    if c0 <= 0.0 {
        return Ok(done(1.0, 0));
    }
    let limit = (n / 4).max(1);
    let mut tau = 1.0;
    for t in 1..=limit {
        tau += 2.0 * cov(t) / c0;
        if t as f64 >= WINDOW_C * tau {
            return Ok(done(tau, t));
        }
    }
    Err(LangevinError::NotMixed {
        tau,
        per_chain: n,
        chains: chains.len(),
        limit,
    })
}

/// Kept states of every chain, as rows of observables.
#[derive(Clone, Debug, Serialize)]
pub struct Samples {
    observables: usize,
    per_chain: usize,
    /// `data[c][s · observables + j]`: observable `j` of kept state `s` of chain `c`.
    data: Vec<Vec<f64>>,
    /// The settings used.
    pub params: LangevinParams,
}

impl Samples {
    /// Observables per state.
    pub fn observables(&self) -> usize {
        self.observables
    }

    /// Chains.
    pub fn chains(&self) -> usize {
        self.data.len()
    }

    /// Kept states per chain.
    pub fn per_chain(&self) -> usize {
        self.per_chain
    }

    /// The observables of kept state `sample` of chain `chain`.
    ///
    /// # Panics
    /// If out of range.
    #[track_caller]
    pub fn row(&self, chain: usize, sample: usize) -> &[f64] {
        assert!(sample < self.per_chain, "sample {sample} out of range");
        let m = self.observables;
        &self.data[chain][sample * m..(sample + 1) * m]
    }

    /// The series `g(row)` of every chain.
    pub fn series(&self, g: impl Fn(&[f64]) -> f64) -> Vec<Vec<f64>> {
        let m = self.observables.max(1);
        self.data
            .iter()
            .map(|c| c.chunks_exact(m).map(&g).collect())
            .collect()
    }

    /// `⟨g(row)⟩` with its error bar ([`estimate`] of [`Samples::series`]).
    ///
    /// # Errors
    /// [`LangevinError::NotMixed`].
    pub fn estimate_of(&self, g: impl Fn(&[f64]) -> f64) -> Result<Estimate, LangevinError> {
        estimate(&self.series(g))
    }

    /// `⟨x_j⟩` of observable `j`.
    ///
    /// # Errors
    /// [`LangevinError::NotMixed`].
    ///
    /// # Panics
    /// If `j` is out of range.
    #[track_caller]
    pub fn mean(&self, j: usize) -> Result<Estimate, LangevinError> {
        assert!(j < self.observables, "observable {j} out of range");
        self.estimate_of(|r| r[j])
    }

    /// `Cov[x_a, x_b]`: the mean of `(x_a − x̄_a)(x_b − x̄_b)` with the error bar of that
    /// series (the uncertainty of `x̄_a`, `x̄_b` enters only at second order).
    ///
    /// # Errors
    /// [`LangevinError::NotMixed`].
    ///
    /// # Panics
    /// If `a` or `b` is out of range.
    #[track_caller]
    pub fn covariance(&self, a: usize, b: usize) -> Result<Estimate, LangevinError> {
        assert!(a < self.observables && b < self.observables, "out of range");
        let (ma, mb) = (self.plain_mean(a), self.plain_mean(b));
        self.estimate_of(|r| (r[a] - ma) * (r[b] - mb))
    }

    /// The sample mean of observable `j` over every chain, without error analysis.
    pub fn plain_mean(&self, j: usize) -> f64 {
        let m = self.observables;
        let s: f64 = self
            .data
            .iter()
            .map(|c| c.chunks_exact(m).map(|r| r[j]).sum::<f64>())
            .sum();
        s / (self.per_chain * self.data.len()) as f64
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

/// Where a term's coefficient comes from.
#[derive(Clone, Copy, Debug)]
pub(crate) enum TermCoef {
    Fixed(f64),
    Param(usize),
}

/// One term `c Π_{i∈sites} ρ(z_i)` of `E_H(ρ(z))`.
#[derive(Clone, Debug)]
pub(crate) struct NetTerm {
    pub(crate) sites: Vec<usize>,
    pub(crate) coef: TermCoef,
}

impl NetTerm {
    pub(crate) fn coef(&self, theta: &[f64]) -> f64 {
        match self.coef {
            TermCoef::Fixed(c) => c,
            TermCoef::Param(k) => theta[k],
        }
    }
}

/// A classical EP network (Eq. 1, [`ClassicalNet`]) prepared for sampling: the same energy,
/// evaluated without allocation, at any number of clamping strengths at once.
#[derive(Clone, Debug)]
pub struct ThermalNet {
    net: ClassicalNet,
    pub(crate) units: usize,
    pub(crate) inputs: Vec<usize>,
    pub(crate) outputs: Vec<usize>,
    pub(crate) activation: Activation,
    pub(crate) alpha: f64,
    pub(crate) terms: Vec<NetTerm>,
    /// Index in `terms` of parameter `k`'s term.
    pub(crate) param_terms: Vec<usize>,
}

/// Which observable of a [`ThermalNet::sample`] row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetObservable {
    /// `A_k = ∂f/∂θ_k = Π_{i∈P_k} ρ(z_i)`.
    Derivative(usize),
    /// The cost `C(z) = ½ Σ_out (z_i − d_i)²`.
    Cost,
    /// The unit `z_i`.
    Unit(usize),
}

/// Thermal EP gradients of one example from one sampling run (Eq. 42, 43).
#[derive(Clone, Debug, Serialize)]
pub struct ThermalGradient {
    /// Parameter labels, in model order.
    pub params: Vec<String>,
    /// Temperature `T`.
    pub temperature: f64,
    /// Clamping strength `β` of the clamped estimate.
    pub beta: f64,
    /// Eq. 42: `(⟨A_k⟩_{T,+β} − ⟨A_k⟩_{T,−β})/2β`, from the paired `±β` replicas.
    pub clamped: Vec<Estimate>,
    /// Eq. 43: `−(1/T) Cov_T[A_k, C]` in the free (`β = 0`) replica.
    pub covariance: Vec<Estimate>,
    /// `clamped − covariance`, per sample (paired, so its error bar is that of the difference).
    pub difference: Vec<Estimate>,
    /// `⟨C⟩_T` in the free replica.
    pub cost: Estimate,
    /// `⟨z_i⟩_T` in the free replica.
    pub z_mean: Vec<Estimate>,
    /// The free minimum `z̄` every replica started from (after relaxing to its own `β`).
    pub minimum: Relaxed,
}

impl ThermalNet {
    /// Compiles `model` as [`ClassicalNet::new`] does (and keeps that network for relaxation
    /// and the Hessian).
    ///
    /// # Errors
    /// Those of [`ClassicalNet::new`].
    pub fn new(model: &Model, params: ClassicalParams) -> Result<Self, LangevinError> {
        let net = ClassicalNet::new(model, params.clone())?;
        let ones = |mut mask: u64| {
            let mut v = Vec::new();
            while mask != 0 {
                v.push(mask.trailing_zeros() as usize);
                mask &= mask - 1;
            }
            v
        };
        let mut terms: Vec<NetTerm> = model
            .fixed
            .terms()
            .iter()
            .map(|&(p, c)| NetTerm {
                sites: ones(p.z()),
                coef: TermCoef::Fixed(c.re),
            })
            .collect();
        let mut param_terms = Vec::with_capacity(model.params.len());
        for (k, p) in model.params.iter().enumerate() {
            param_terms.push(terms.len());
            terms.push(NetTerm {
                sites: ones(p.pauli.z()),
                coef: TermCoef::Param(k),
            });
        }
        Ok(Self {
            net,
            units: model.qubits,
            inputs: model.inputs.clone(),
            outputs: model.outputs.clone(),
            activation: params.activation,
            alpha: params.alpha,
            terms,
            param_terms,
        })
    }

    /// The underlying [`ClassicalNet`] (relaxation, Hessian, implicit gradient).
    pub fn net(&self) -> &ClassicalNet {
        &self.net
    }

    /// Number of parameters `θ_k`.
    pub fn n_params(&self) -> usize {
        self.param_terms.len()
    }

    /// The potential `Σ_r f_{β_r}(z_r)` of `betas.len()` replicas with common noise (see the
    /// module docs), each `f_β` the energy of Eq. 1 at `θ`, `example` and `β`.
    ///
    /// # Errors
    /// Those of [`ClassicalNet::check`] for every `β`; [`LangevinError::BadParam`] for no `β`.
    pub fn potential(
        &self,
        theta: &[f64],
        example: &Example,
        betas: &[f64],
    ) -> Result<NetPotential, LangevinError> {
        if betas.is_empty() {
            return Err(LangevinError::BadParam {
                name: "betas",
                value: 0.0,
                expected: "at least one clamping strength",
            });
        }
        let n = self.units;
        let mut w = vec![0.0; n * betas.len()];
        let mut c = vec![0.0; n * betas.len()];
        for (r, &beta) in betas.iter().enumerate() {
            self.net.check(theta, example, beta)?;
            for (&q, &u) in self.inputs.iter().zip(&example.inputs) {
                w[r * n + q] = self.alpha;
                c[r * n + q] = u;
            }
            if beta != 0.0 {
                for (&q, &d) in self.outputs.iter().zip(&example.targets) {
                    w[r * n + q] = beta;
                    c[r * n + q] = d;
                }
            }
        }
        let mut sites = Vec::new();
        let mut starts = vec![0];
        let mut coef = Vec::with_capacity(self.terms.len());
        for t in &self.terms {
            sites.extend_from_slice(&t.sites);
            starts.push(sites.len());
            coef.push(t.coef(theta));
        }
        Ok(NetPotential {
            units: n,
            replicas: betas.len(),
            activation: self.activation,
            sites,
            starts,
            coef,
            w,
            c,
        })
    }

    /// Index in a [`ThermalNet::sample`] row of observable `obs` of replica `replica`: each
    /// replica contributes `n_params + 1 + units` values, `[A_0 … A_{K−1}, C, z_0 … z_{n−1}]`.
    ///
    /// # Panics
    /// If a parameter or unit index is out of range.
    #[track_caller]
    pub fn observable(&self, replica: usize, obs: NetObservable) -> usize {
        let k = self.n_params();
        let base = replica * (k + 1 + self.units);
        match obs {
            NetObservable::Derivative(j) => {
                assert!(j < k, "parameter {j} out of range");
                base + j
            }
            NetObservable::Cost => base + k,
            NetObservable::Unit(i) => {
                assert!(i < self.units, "unit {i} out of range");
                base + k + 1 + i
            }
        }
    }

    /// Samples the replicas `betas` of the network with common noise (Eq. 33), every replica
    /// starting at its own relaxed minimum (relaxed from the free one), and records
    /// `[A_k, C, z]` for each (layout: [`ThermalNet::observable`]). Returns the samples and the
    /// free minimum.
    ///
    /// # Errors
    /// [`ClassicalError::NoTargets`] without targets; those of [`ThermalNet::potential`],
    /// [`ClassicalNet::relax`] and [`sample`].
    pub fn sample(
        &self,
        theta: &[f64],
        example: &Example,
        betas: &[f64],
        params: &LangevinParams,
    ) -> Result<(Samples, Relaxed), LangevinError> {
        if example.targets.is_empty() {
            return Err(ClassicalError::NoTargets.into());
        }
        params.validate()?;
        let pot = self.potential(theta, example, betas)?;
        let free = self.net.relax(theta, example, 0.0, None)?;
        let mut z0 = Vec::with_capacity(self.units * betas.len());
        for &beta in betas {
            if beta == 0.0 {
                z0.extend_from_slice(&free.z);
            } else {
                z0.extend(self.net.relax(theta, example, beta, Some(&free.z))?.z);
            }
        }
        let (n, k) = (self.units, self.n_params());
        let m = betas.len() * (k + 1 + n);
        let act = self.activation;
        let observe = |z: &[f64], out: &mut [f64]| {
            for (zr, o) in z.chunks_exact(n).zip(out.chunks_exact_mut(k + 1 + n)) {
                for (j, &t) in self.param_terms.iter().enumerate() {
                    o[j] = self.terms[t]
                        .sites
                        .iter()
                        .map(|&i| act.rho(zr[i]))
                        .product();
                }
                o[k] = self
                    .outputs
                    .iter()
                    .zip(&example.targets)
                    .map(|(&q, &d)| 0.5 * (zr[q] - d) * (zr[q] - d))
                    .sum();
                o[k + 1..].copy_from_slice(zr);
            }
        };
        let samples = sample(&pot, m, observe, &z0, params)?;
        Ok((samples, free))
    }

    /// Thermal EP gradients `d⟨C⟩_T/dθ_k` at temperature `params.temperature` from one run of
    /// the replicas `β = 0, +β, −β` with common noise: the clamped estimate (Eq. 42), the
    /// covariance estimate (Eq. 43) from the free replica, their paired difference, `⟨C⟩_T`
    /// and `⟨z⟩_T`, all with error bars.
    ///
    /// # Errors
    /// [`ClassicalError::BetaNotPositive`] for `β ≤ 0`, [`ClassicalError::BetaUnbounded`] for
    /// `β ≥ 1`; those of [`ThermalNet::sample`] and [`estimate`].
    pub fn thermal_gradient(
        &self,
        theta: &[f64],
        example: &Example,
        beta: f64,
        params: &LangevinParams,
    ) -> Result<ThermalGradient, LangevinError> {
        super::check_beta(beta)?;
        let (s, minimum) = self.sample(theta, example, &[0.0, beta, -beta], params)?;
        let t = params.temperature;
        let cost_ix = self.observable(0, NetObservable::Cost);
        let mc = s.plain_mean(cost_ix);
        let mut clamped = Vec::new();
        let mut covariance = Vec::new();
        let mut difference = Vec::new();
        for k in 0..self.n_params() {
            let a0 = self.observable(0, NetObservable::Derivative(k));
            let ap = self.observable(1, NetObservable::Derivative(k));
            let am = self.observable(2, NetObservable::Derivative(k));
            let ma = s.plain_mean(a0);
            let cl = move |r: &[f64]| (r[ap] - r[am]) / (2.0 * beta);
            let cv = move |r: &[f64]| -(r[a0] - ma) * (r[cost_ix] - mc) / t;
            clamped.push(s.estimate_of(cl)?);
            covariance.push(s.estimate_of(cv)?);
            difference.push(s.estimate_of(|r| cl(r) - cv(r))?);
        }
        let z_mean = (0..self.units)
            .map(|i| s.mean(self.observable(0, NetObservable::Unit(i))))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ThermalGradient {
            params: self.net.labels().to_vec(),
            temperature: t,
            beta,
            clamped,
            covariance,
            difference,
            cost: s.mean(cost_ix)?,
            z_mean,
            minimum,
        })
    }
}

/// The energy of a [`ThermalNet`] at fixed `θ`, example and `β` per replica, as a
/// [`Potential`]: `f = Σ_r [Σ_i z_i²/2 + Σ_i (w_i/2)(z_i − c_i)² + Σ_t c_t Π_{i∈t} ρ(z_i)]`.
/// The gradient allocates nothing (up to 64 units on the stack).
#[derive(Clone, Debug)]
pub struct NetPotential {
    units: usize,
    replicas: usize,
    activation: Activation,
    sites: Vec<usize>,
    starts: Vec<usize>,
    coef: Vec<f64>,
    /// Clamp weights per replica (`α` on inputs, `β` on outputs).
    w: Vec<f64>,
    /// Clamp centres per replica (`u`, `d`).
    c: Vec<f64>,
}

impl Potential for NetPotential {
    fn dim(&self) -> usize {
        self.units * self.replicas
    }

    fn replicas(&self) -> usize {
        self.replicas
    }

    fn energy_gradient(&self, z: &[f64], grad: &mut [f64]) -> f64 {
        let n = self.units;
        debug_assert!(n <= MAX_UNITS);
        let mut s = [0.0f64; MAX_UNITS];
        let mut dr = [0.0f64; MAX_UNITS];
        let mut field = [0.0f64; MAX_UNITS];
        let mut f = 0.0;
        for r in 0..self.replicas {
            let zr = &z[r * n..(r + 1) * n];
            let (w, c) = (&self.w[r * n..(r + 1) * n], &self.c[r * n..(r + 1) * n]);
            for i in 0..n {
                match self.activation {
                    Activation::Tanh => {
                        let t = zr[i].tanh();
                        s[i] = t;
                        dr[i] = 1.0 - t * t;
                    }
                    act => {
                        s[i] = act.rho(zr[i]);
                        dr[i] = act.rho_prime(zr[i]);
                    }
                }
                field[i] = 0.0;
            }
            for (t, &coef) in self.coef.iter().enumerate() {
                let sites = &self.sites[self.starts[t]..self.starts[t + 1]];
                let mut prod = coef;
                for &i in sites {
                    prod *= s[i];
                }
                f += prod;
                for (p, &i) in sites.iter().enumerate() {
                    let mut o = coef;
                    for (q, &j) in sites.iter().enumerate() {
                        if q != p {
                            o *= s[j];
                        }
                    }
                    field[i] += o;
                }
            }
            for i in 0..n {
                let dz = zr[i] - c[i];
                f += 0.5 * zr[i] * zr[i] + 0.5 * w[i] * dz * dz;
                grad[r * n + i] = zr[i] + w[i] * dz + dr[i] * field[i];
            }
        }
        f
    }
}
