//! Estimates from correlated chains: the mean with its standard error (batch means over
//! chains), and the stored samples of a Langevin run.

use serde::Serialize;

use super::{LangevinError, LangevinParams, WINDOW_C};

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
    pub(super) observables: usize,
    pub(super) per_chain: usize,
    /// `data[c][s · observables + j]`: observable `j` of kept state `s` of chain `c`.
    pub(super) data: Vec<Vec<f64>>,
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
