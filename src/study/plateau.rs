//! Barren plateaus: how the variance of `∂⟨C⟩/∂θ_k` over random initial parameters falls
//! with the number of qubits (`qep plateau`).
//!
//! For each size `N` a network of the chosen family is built — trainable XX and ZZ couplings
//! on the lattice's edges (uniform in `[−a, a]`), a fixed transverse field −1 on every site,
//! input qubit 0 with field `u = 0.5`, output qubit `N − 1` with target `d = 1` — and for
//! `samples` seeded draws of θ the exact gradient (the oracle of [`crate::ep::Engine::exact`])
//! is computed. The variance over draws of each component, averaged over the parameters, is
//! fitted as `Var ∝ e^{−r N}`: `r` is the decay rate, with the standard error of the
//! least-squares slope and a 95 % bootstrap interval (draws resampled within each size).
//!
//! The `tfim-chain` family is the transverse-field Ising chain with every coupling trainable:
//! `θ_i Z_iZ_{i+1}` and `φ_i X_i`, the generators `{Z_iZ_{i+1}, X_i}` of a free-fermion
//! (O(N²)-dimensional) Lie algebra. With a temperature the gradient is that of the thermal
//! cost `⟨C⟩_T` (Section IV), the Kubo–Mori covariance: exact from the dense Gibbs state up to
//! [`THERMAL_DENSE_MAX`] qubits, by typicality above
//! ([`crate::ep::typicality::kubo_mori_samples`], [`THERMAL_VECTORS`] random vectors per draw).
//! A typicality gradient carries sampling noise that adds to the variance over draws, so
//! there the reported variance is noise-corrected: the observed variance minus the mean over
//! draws of the squared jackknife standard errors (both are reported, with a warning when the
//! noise is more than half of the observed variance).

use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::cancel::Cancel;
use crate::ep::thermal::{ThermalMethod, ThermalParams};
use crate::ep::{Engine, EpParams};
use crate::hamiltonian::{parse_str, Example, Lattice, Model, ThermalGradient};
use crate::report::svg::{Chart, Curve};
use crate::study::lie::{lie_dimension, LieDimension};
use crate::Error;

/// The lattice family of the scanned networks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// An open chain of `N` sites.
    Chain,
    /// An open `2 × N/2` grid (`N` even), else `1 × N`.
    Grid,
    /// Every pair coupled.
    AllToAll,
    /// The transverse-field Ising chain: trainable `Z_iZ_{i+1}` bonds and `X_i` fields, no
    /// XX bonds and no fixed field.
    TfimChain,
}

/// Settings of [`plateau_scan`].
#[derive(Clone, Debug, Serialize)]
pub struct PlateauParams {
    /// The lattice family.
    pub family: Family,
    /// Qubit counts to scan (each ≥ 2).
    pub sizes: Vec<usize>,
    /// Random parameter draws per size.
    pub samples: usize,
    /// Half-width `a` of the uniform distribution of the initial couplings.
    pub init_range: f64,
    /// Seed of every draw.
    pub seed: u64,
    /// Also estimate each draw's gradient by EP from shots: `(shots per group and state, β)`.
    pub ep_shots: Option<(u64, f64)>,
    /// Thermal EP at this temperature (the Kubo–Mori gradient of `⟨C⟩_T`: dense up to
    /// [`THERMAL_DENSE_MAX`] qubits, typicality above) instead of ground-state EP.
    pub temperature: Option<f64>,
}

/// The largest size whose thermal gradients a scan takes from the dense Gibbs state; larger
/// sizes use typicality. Dense costs `O(8^N)` per draw (about 3 s at `N = 10` and minutes at
/// 12 on this machine), typicality `O(2^N)` times the Chebyshev orders.
pub const THERMAL_DENSE_MAX: usize = 10;

/// Random vectors per draw of a thermal typicality gradient. The noise they leave falls as
/// 1/vectors and is subtracted from the variance ([`SizeResult::noise_variance`]); with 8 it
/// was larger than the variance itself at T = 0.3, N = 11–14 (chain), and below ~16 the
/// jackknife errors are themselves too noisy at low T.
pub const THERMAL_VECTORS: usize = 32;

/// Bootstrap resamples behind [`Plateau::decay_rate_ci95_bootstrap`].
pub const BOOTSTRAP_RESAMPLES: usize = 1000;

/// Variance of the gradient for one size, with its breakdown.
#[derive(Clone, Debug, Serialize)]
pub struct SizeResult {
    /// Qubits.
    pub qubits: usize,
    /// Trainable parameters.
    pub params: usize,
    /// Mean over parameters of the variance over draws of `∂⟨C⟩/∂θ_k` (with typicality
    /// gradients: noise-corrected, `variance_observed − noise_variance`).
    pub variance: f64,
    /// How the gradients were computed: `"exact"` (the ground-state oracle), `"dense"` (the
    /// dense Kubo–Mori gradient) or `"typicality"` (Kubo–Mori by random vectors).
    pub method: &'static str,
    /// With typicality: the variance over draws as observed, before the noise correction.
    pub variance_observed: Option<f64>,
    /// With typicality: the noise the gradients carry, the mean over draws and parameters of
    /// the squared jackknife standard errors; subtracted from the observed variance (and from
    /// the XX/ZZ parts, the distances and the median squared gradient alike).
    pub noise_variance: Option<f64>,
    /// Standard error of `variance` from the spread of the draws: the standard deviation over
    /// draws of `mean_k (∂⟨C⟩/∂θ_k)²` divided by `√samples` (the error of the second moment,
    /// which is the variance up to the square of the mean gradient, itself O(variance/samples)).
    /// It falls as `1/√samples`; heavy-tailed draws (nearly degenerate ground states) make it
    /// large, and it is what the error bars of `plateau.svg` show.
    pub variance_err: f64,
    /// The same, over the XX parameters only (the X fields in the `tfim-chain` family, which
    /// has no XX bonds).
    pub variance_xx: f64,
    /// The same, over the ZZ parameters only.
    pub variance_zz: f64,
    /// `(distance from the output in bonds, mean variance of the parameters at that distance)`.
    pub by_distance: Vec<(usize, f64)>,
    /// With `ep_shots`: the same variance, of the shot-based EP estimates (what an
    /// experiment would see: the true variance plus the shot noise).
    pub variance_ep_shots: Option<f64>,
    /// Median over draws of `mean_k (∂⟨C⟩/∂θ_k)²`: a robust companion of the variance, which
    /// draws with nearly degenerate ground states (huge gradients) can dominate.
    pub median_sq: f64,
    /// Dimension of the dynamical Lie algebra generated by the Pauli terms of the clamped
    /// Hamiltonian `H(β, θ, u, d)` of this size's networks, each term its own generator
    /// ([`crate::study::lie::lie_dimension`], stopped above [`LIE_CAP`] strings).
    pub lie_dimension: LieDimension,
    /// Wall time of this size, seconds.
    pub seconds: f64,
}

/// The largest Lie-algebra dimension a scan resolves exactly (above: a lower bound).
pub const LIE_CAP: usize = 100_000;

/// The result of a scan.
#[derive(Clone, Debug, Serialize)]
pub struct Plateau {
    /// The family scanned.
    pub family: Family,
    /// Sizes, as scanned.
    pub sizes: Vec<usize>,
    /// Mean gradient variance per size.
    pub variance: Vec<f64>,
    /// Fitted decay rate `r` of `Var ∝ e^{−r N}`.
    pub decay_rate: f64,
    /// Standard error of `r` (least squares on `ln Var`).
    pub decay_rate_err: f64,
    /// The fitted decay rate of the XX and ZZ parameters separately.
    pub decay_rate_xx: f64,
    /// See `decay_rate_xx`.
    pub decay_rate_zz: f64,
    /// Decay rate of the median squared gradient (robust to heavy tails), and its error.
    pub decay_rate_median: f64,
    /// See `decay_rate_median`.
    pub decay_rate_median_err: f64,
    /// Standard error of `decay_rate` propagated from the sampling errors of the variances
    /// (`variance_err`): what more draws per size would shrink, as `1/√samples`.
    pub decay_rate_stat_err: f64,
    /// 95 % interval of `decay_rate`: `r ± h` with `h` the wider of the Student-t interval of
    /// the fit's residuals (`decay_rate_err`, needs three sizes) and the normal interval of
    /// `decay_rate_stat_err`.
    pub decay_rate_ci95: (f64, f64),
    /// 95 % bootstrap interval of `decay_rate`: the 2.5 and 97.5 percentiles of the rate
    /// refitted on [`BOOTSTRAP_RESAMPLES`] resamples, each drawing every size's draws with
    /// replacement (seeded from `seed`). Unlike `decay_rate_ci95` it assumes no normal
    /// errors, so heavy-tailed draws widen it as they should.
    pub decay_rate_ci95_bootstrap: (f64, f64),
    /// The same for `decay_rate_median` (the median squared gradient).
    pub decay_rate_median_ci95_bootstrap: (f64, f64),
    /// The temperature of thermal EP (`None`: ground-state EP).
    pub temperature: Option<f64>,
    /// When not to trust the fit: a rate whose 95 % interval includes 0 (with the number of
    /// draws per size that would resolve it), a negative rate (the variance grows with N), a
    /// variance that grows between two sizes by more than two standard errors, a typicality
    /// size whose gradient noise is more than half of the observed variance. Empty when none
    /// applies.
    pub warnings: Vec<String>,
    /// Per-size details.
    pub per_size: Vec<SizeResult>,
    /// Draws per size.
    pub samples: usize,
    /// Whether every size asked for was scanned (false when the scan was cancelled: the
    /// fields then hold the sizes completed before).
    pub complete: bool,
}

impl Plateau {
    /// The object `qep plateau --json` prints (and Python's `qep.plateau` returns): every
    /// field of the scan, its wall time `seconds` and its `provenance`.
    pub fn report(
        &self,
        seconds: f64,
        provenance: &crate::report::Provenance,
    ) -> serde_json::Value {
        serde_json::json!({
            "sizes": self.sizes,
            "variance": self.variance,
            "decay_rate": self.decay_rate,
            "decay_rate_err": self.decay_rate_err,
            "decay_rate_xx": self.decay_rate_xx,
            "decay_rate_zz": self.decay_rate_zz,
            "decay_rate_median": self.decay_rate_median,
            "decay_rate_median_err": self.decay_rate_median_err,
            "decay_rate_stat_err": self.decay_rate_stat_err,
            "decay_rate_ci95": self.decay_rate_ci95,
            "decay_rate_ci95_bootstrap": self.decay_rate_ci95_bootstrap,
            "decay_rate_median_ci95_bootstrap": self.decay_rate_median_ci95_bootstrap,
            "bootstrap_resamples": BOOTSTRAP_RESAMPLES,
            "temperature": self.temperature,
            "warnings": self.warnings,
            "family": self.family,
            "samples": self.samples,
            "per_size": self.per_size,
            "complete": self.complete,
            "seconds": seconds,
            "provenance": provenance,
        })
    }
}

impl Plateau {
    /// `plateau.csv`: one row per size with every per-size number of the JSON (`by_distance`
    /// as `distance:variance` pairs joined by `;`, `variance_ep_shots` empty without shots,
    /// `lie_dimension` as its two columns `lie_dimension`, `lie_complete`; `method`, and
    /// `variance_observed`, `noise_variance` empty without typicality).
    /// The first six columns are those of earlier versions, in the same order.
    pub fn csv(&self) -> String {
        let opt = |v: Option<f64>| v.map(|v| format!("{v:.10e}")).unwrap_or_default();
        let mut s = String::from(
            "qubits,params,variance,variance_xx,variance_zz,seconds,median_sq,variance_err,variance_ep_shots,by_distance,lie_dimension,lie_complete,method,variance_observed,noise_variance\n",
        );
        for x in &self.per_size {
            let by: Vec<String> = x
                .by_distance
                .iter()
                .map(|(d, v)| format!("{d}:{v:.6e}"))
                .collect();
            s.push_str(&format!(
                "{},{},{:.10e},{:.10e},{:.10e},{:.3},{:.10e},{:.10e},{},{},{},{},{},{},{}\n",
                x.qubits,
                x.params,
                x.variance,
                x.variance_xx,
                x.variance_zz,
                x.seconds,
                x.median_sq,
                x.variance_err,
                x.variance_ep_shots
                    .map(|v| format!("{v:.10e}"))
                    .unwrap_or_default(),
                by.join(";"),
                x.lie_dimension.dimension,
                x.lie_dimension.complete,
                x.method,
                opt(x.variance_observed),
                opt(x.noise_variance),
            ));
        }
        s
    }

    /// The chart of `plateau.svg` / `plateau.png`: the variances against N on a log axis, the
    /// total with its standard-error bars, the XX and ZZ parts and the median squared gradient.
    pub fn chart(&self) -> Chart {
        let pts = |f: fn(&SizeResult) -> f64| -> Vec<(f64, f64)> {
            self.per_size
                .iter()
                .map(|x| (x.qubits as f64, f(x)))
                .collect()
        };
        let family = match self.family {
            Family::Chain => "chain",
            Family::Grid => "2-row grid",
            Family::AllToAll => "all-to-all",
            Family::TfimChain => "TFIM chain",
        };
        let (lo, hi) = self.decay_rate_ci95_bootstrap;
        let (state, y) = match self.temperature {
            Some(t) => (
                match self.per_size.iter().find(|x| x.method == "typicality") {
                    Some(x) => format!(
                        ", T = {t} (typicality from N = {}, noise-corrected)",
                        x.qubits
                    ),
                    None => format!(", T = {t}"),
                },
                format!("Var ∂⟨C⟩_T/∂θ (thermal EP, T = {t})"),
            ),
            None => (String::new(), "Var ∂⟨C⟩/∂θ (ground-state EP)".into()),
        };
        Chart {
            title: if self.decay_rate.is_finite() {
                format!(
                    "{family}{state}, {} draws/size: r = {:.3} (bootstrap 95 %: {:.2} … {:.2})",
                    self.samples, self.decay_rate, lo, hi
                )
            } else {
                format!(
                    "{family}{state}, {} draws/size: no rate fitted",
                    self.samples
                )
            },
            x_label: "qubits N".into(),
            y_label: y,
            log_x: false,
            log_y: true,
            y_range: None,
            curves: vec![
                Curve::new("all ± s.e.", pts(|x| x.variance))
                    .with_errors(self.per_size.iter().map(|x| x.variance_err).collect()),
                Curve::new(
                    if self.family == Family::TfimChain {
                        "X fields"
                    } else {
                        "XX"
                    },
                    pts(|x| x.variance_xx),
                ),
                Curve::new("ZZ", pts(|x| x.variance_zz)),
                Curve::new("median g²", pts(|x| x.median_sq)),
            ]
            .into_iter()
            .chain(self.typicality_curves())
            .collect(),
        }
    }

    /// With typicality sizes: the observed variance and the noise subtracted from it (the
    /// corrected variance is the `all` curve; where it is ≤ 0 only these two are drawn).
    fn typicality_curves(&self) -> Vec<Curve> {
        let typ: Vec<&SizeResult> = self
            .per_size
            .iter()
            .filter(|x| x.noise_variance.is_some())
            .collect();
        if typ.is_empty() {
            return Vec::new();
        }
        let pts = |f: fn(&SizeResult) -> Option<f64>| -> Vec<(f64, f64)> {
            typ.iter()
                .filter_map(|x| Some((x.qubits as f64, f(x)?)))
                .collect()
        };
        vec![
            Curve::new("observed (typicality)", pts(|x| x.variance_observed)),
            Curve::new("noise (mean σ²)", pts(|x| x.noise_variance)),
        ]
    }
}

/// The network of `n` qubits of `family`, with every coupling drawn from `rng` (YAML text
/// through the ordinary parser, so the scan uses exactly what a model file would). The scan
/// draws size `n`'s networks in sequence from ChaCha8 seeded with `seed`, stream `n`.
///
/// # Errors
/// None for `n ≥ 2` (the text is well formed); parse errors otherwise.
pub fn network(family: Family, n: usize, a: f64, rng: &mut ChaCha8Rng) -> Result<Model, Error> {
    let lattice = match family {
        Family::Chain => format!("{{shape: chain, sites: {n}}}"),
        Family::Grid if n.is_multiple_of(2) && n >= 4 => {
            format!("{{shape: grid, rows: 2, cols: {}}}", n / 2)
        }
        Family::Grid => format!("{{shape: grid, rows: 1, cols: {n}}}"),
        Family::AllToAll => format!("{{shape: all-to-all, sites: {n}}}"),
        Family::TfimChain => format!("{{shape: chain, sites: {n}}}"),
    };
    let mut y = format!(
        "lattice: {lattice}\ninputs: [0]\noutputs: [{}]\nparams:\n",
        n - 1
    );
    let edges = edges_of(family, n);
    if family == Family::TfimChain {
        // Bonds first, then fields: the parameter order of `edges_of` (m bonds, then n sites).
        for &(i, j) in &edges[..n - 1] {
            let v: f64 = rng.random_range(-a..=a);
            y.push_str(&format!("  - {{pauli: \"Z{i} Z{j}\", value: {v}}}\n"));
        }
        for i in 0..n {
            let v: f64 = rng.random_range(-a..=a);
            y.push_str(&format!("  - {{pauli: \"X{i}\", value: {v}}}\n"));
        }
        return Ok(parse_str(&y, Path::new("plateau.yaml"))?);
    }
    for l in ["X", "Z"] {
        for &(i, j) in &edges {
            let v: f64 = rng.random_range(-a..=a);
            y.push_str(&format!("  - {{pauli: \"{l}{i} {l}{j}\", value: {v}}}\n"));
        }
    }
    y.push_str("couplings:\n  - {type: X, on: sites, value: -1.0}\n");
    Ok(parse_str(&y, Path::new("plateau.yaml"))?)
}

fn edges_of(family: Family, n: usize) -> Vec<(usize, usize)> {
    match family {
        Family::Chain | Family::TfimChain => Lattice::Chain { n, periodic: false }.edges(),
        Family::Grid if n.is_multiple_of(2) && n >= 4 => Lattice::Grid {
            rows: 2,
            cols: n / 2,
            periodic: false,
        }
        .edges(),
        Family::Grid => Lattice::Grid {
            rows: 1,
            cols: n,
            periodic: false,
        }
        .edges(),
        Family::AllToAll => Lattice::AllToAll { n }.edges(),
    }
}

/// The sites of every parameter of the family's network, in parameter order (`(i, i)` for a
/// field), and how many of them form the first group (XX bonds; the X fields of the TFIM
/// chain, which come after its ZZ bonds): the second group is the ZZ bonds.
fn param_layout(family: Family, n: usize) -> (Vec<(usize, usize)>, std::ops::Range<usize>) {
    let edges = edges_of(family, n);
    let m = edges.len();
    if family == Family::TfimChain {
        let mut v = edges;
        v.extend((0..n).map(|i| (i, i)));
        return (v, m..m + n);
    }
    let mut v = edges.clone();
    v.extend(edges);
    (v, 0..m)
}

/// Graph distance (in bonds) from every site to `target` (breadth-first).
fn distances(n: usize, edges: &[(usize, usize)], target: usize) -> Vec<usize> {
    let mut d = vec![usize::MAX; n];
    d[target] = 0;
    let mut frontier = vec![target];
    while !frontier.is_empty() {
        let mut next = Vec::new();
        for &s in &frontier {
            for &(i, j) in edges {
                for (a, b) in [(i, j), (j, i)] {
                    if a == s && d[b] == usize::MAX {
                        d[b] = d[s] + 1;
                        next.push(b);
                    }
                }
            }
        }
        frontier = next;
    }
    d
}

/// Least-squares slope of `y` on `x` and its standard error.
pub fn fit_line(x: &[f64], y: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let sxx: f64 = x.iter().map(|a| (a - mx) * (a - mx)).sum();
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let slope = sxy / sxx;
    let resid: f64 = x
        .iter()
        .zip(y)
        .map(|(a, b)| (b - my - slope * (a - mx)).powi(2))
        .sum();
    let err = if x.len() > 2 {
        (resid / (n - 2.0) / sxx).sqrt()
    } else {
        f64::NAN
    };
    (slope, err)
}

/// Standard error of the least-squares slope of `y` on `x` when each `y_i` carries the
/// independent error `sigma_i` (the slope is `Σ c_i y_i` with `c_i = (x_i − x̄)/Σ(x − x̄)²`).
pub fn slope_stat_err(x: &[f64], sigma: &[f64]) -> f64 {
    let n = x.len() as f64;
    let mx = x.iter().sum::<f64>() / n;
    let sxx: f64 = x.iter().map(|a| (a - mx) * (a - mx)).sum();
    x.iter()
        .zip(sigma)
        .map(|(a, s)| ((a - mx) / sxx * s).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// The 97.5 % quantile of Student's t with `dof` degrees of freedom (NaN for none).
fn t975(dof: usize) -> f64 {
    const T: [f64; 10] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    ];
    match dof {
        0 => f64::NAN,
        1..=10 => T[dof - 1],
        11..=20 => 2.2 - 0.0065 * (dof - 10) as f64,
        21..=40 => 2.09 - 0.0025 * (dof - 20) as f64,
        _ => 1.96,
    }
}

/// The caveats of a scan (see [`Plateau::warnings`]).
fn trust_warnings(per: &[SizeResult], samples: usize, rate: f64, ci: (f64, f64)) -> Vec<String> {
    let mut w = Vec::new();
    for x in per {
        if let (Some(obs), Some(noise)) = (x.variance_observed, x.noise_variance) {
            if noise > 0.5 * obs {
                w.push(format!(
                    "N = {}: the typicality noise ({noise:.3e}, the mean squared standard error) is {:.0} % of the observed variance {obs:.3e}, so the corrected variance {:.3e} rests on the subtraction; more random vectors per draw would shrink the noise",
                    x.qubits,
                    100.0 * noise / obs,
                    x.variance
                ));
            }
        }
    }
    for pair in per.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let err = a.variance_err.hypot(b.variance_err);
        if b.variance - a.variance > 2.0 * err {
            w.push(format!(
                "the variance grows from N = {} to N = {} ({:.3e} → {:.3e}, more than two standard errors {:.1e})",
                a.qubits, b.qubits, a.variance, b.variance, err
            ));
        }
    }
    if rate < 0.0 {
        w.push(format!(
            "the fitted rate r = {rate:.3} is negative: over these sizes the variance does not decay with N (it grows, where the interval excludes 0), so they show no barren plateau"
        ));
    }
    let (lo, hi) = ci;
    if lo <= 0.0 && hi >= 0.0 {
        let half = 0.5 * (hi - lo);
        let need = if rate != 0.0 {
            let n = (samples as f64 * (half / rate).powi(2)).ceil();
            format!(
                "about {} draws per size would resolve r = {rate:.3} from 0 (the interval shrinks as 1/√draws)",
                n.min(1e12) as u64
            )
        } else {
            "no number of draws resolves a rate of exactly 0".to_string()
        };
        w.push(format!(
            "the 95 % interval of the rate, [{lo:.3}, {hi:.3}], includes 0: these {samples} draws per size do not show that the variance decays; {need}"
        ));
    }
    w
}

/// Runs the scan; `progress(size_index, sample)` is called after every draw.
///
/// # Errors
/// Model, memory and solver errors of the oracle (a degenerate draw is an error too: the
/// gradient is undefined there).
pub fn plateau_scan(
    p: &PlateauParams,
    progress: impl FnMut(usize, usize),
) -> Result<Plateau, Error> {
    plateau_scan_until(p, &Cancel::default(), progress)
}

/// [`plateau_scan`] that stops before the next draw once `cancel` is set, and returns the
/// sizes completed until then (the size in progress is dropped: its variance needs all its
/// draws) with `complete: false`; the fits then use those sizes (NaN below two).
///
/// # Errors
/// As [`plateau_scan`].
pub fn plateau_scan_until(
    p: &PlateauParams,
    cancel: &Cancel,
    mut progress: impl FnMut(usize, usize),
) -> Result<Plateau, Error> {
    let ex = Example {
        inputs: vec![0.5],
        targets: vec![1.0],
    };
    let (engine, ep) = match p.temperature {
        Some(t) => {
            crate::ep::check_temperature(t)?;
            let tp = ThermalParams::new(t, ThermalGradient::KuboMori, p.seed);
            let ep = EpParams {
                thermal: Some(tp.clone()),
                ..EpParams::default()
            };
            (Engine::Thermal(tp), ep)
        }
        None => (Engine::Eigen, EpParams::default()),
    };
    let mut per_size = Vec::with_capacity(p.sizes.len());
    let mut boot: Vec<Vec<Vec<f64>>> = Vec::with_capacity(p.sizes.len());
    let mut boot_noise: Vec<f64> = Vec::with_capacity(p.sizes.len());
    for (si, &n) in p.sizes.iter().enumerate() {
        let t0 = std::time::Instant::now();
        let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
        rng.set_stream(n as u64);
        let edges = edges_of(p.family, n);
        let (layout, first) = param_layout(p.family, n);
        let k_params = layout.len();
        let (mut s1, mut s2) = (vec![0.0; k_params], vec![0.0; k_params]);
        let mut sq = Vec::with_capacity(p.samples);
        let (mut e1, mut e2) = (vec![0.0; k_params], vec![0.0; k_params]);
        // Typicality above the dense size: every draw's gradient comes with its jackknife
        // standard errors, whose squares (summed over draws, per parameter) are its noise.
        let typical = p.temperature.filter(|_| n > THERMAL_DENSE_MAX);
        let mut noise = vec![0.0; k_params];
        // Every draw's exact gradient, kept for the bootstrap (samples × params numbers).
        let mut grads: Vec<Vec<f64>> = Vec::with_capacity(p.samples);
        // The networks are drawn in sequence from the size's stream (cheap); their gradients,
        // the work, are split over the ranks and gathered in sample order, so every rank count
        // accumulates the same numbers in the same order. `None`: cancelled before that draw.
        let models = (0..p.samples)
            .map(|_| network(p.family, n, p.init_range, &mut rng))
            .collect::<Result<Vec<_>, _>>()?;
        // Every draw has the same terms (only their coefficients differ): the first one's
        // clamped Hamiltonian gives the algebra of the size.
        let lie = match models.first() {
            Some(m) => {
                let h = m.hamiltonian(&m.theta(), Some(&ex), 1.0)?;
                let strings: Vec<_> = h.terms().iter().map(|t| t.0).collect();
                lie_dimension(&strings, LIE_CAP)
            }
            None => LieDimension {
                dimension: 0,
                complete: true,
            },
        };
        let draws = crate::dist::map_ordered(crate::dist::world(), models.len(), |sample| {
            if cancel.is_cancelled() {
                return Ok::<_, Error>(None);
            }
            let model = &models[sample];
            let (exact, std_err) = match typical {
                Some(t) => {
                    // Independent random vectors for every draw, so that the noise is
                    // independent of the draw and the mean squared error removes it.
                    let mut tp = ThermalParams::new(
                        t,
                        ThermalGradient::KuboMori,
                        p.seed ^ ((n as u64) << 32) ^ sample as u64,
                    );
                    tp.method = ThermalMethod::Typicality;
                    tp.typicality.samples = THERMAL_VECTORS;
                    let params = EpParams {
                        thermal: Some(tp.clone()),
                        exact: false,
                        ..ep.clone()
                    };
                    let g = Engine::Thermal(tp).gradient(model, &model.theta(), &ex, &params)?;
                    (g.ep, g.ep_std)
                }
                None => (engine.exact(model, &model.theta(), &ex, &ep)?, None),
            };
            let shot = match p.ep_shots {
                Some((shots, beta)) => {
                    let params = EpParams {
                        beta,
                        shots: Some(shots),
                        shot_seed: p.seed ^ ((n as u64) << 32) ^ sample as u64,
                        ..ep.clone()
                    };
                    Some(
                        Engine::Eigen
                            .gradient(model, &model.theta(), &ex, &params)?
                            .ep,
                    )
                }
                None => None,
            };
            progress(si, sample + 1);
            Ok(Some((exact, std_err, shot)))
        })?;
        let mut cancelled = false;
        for draw in draws {
            let Some((exact, std_err, shot)) = draw else {
                cancelled = true;
                break;
            };
            for (k, v) in exact.iter().enumerate() {
                s1[k] += v;
                s2[k] += v * v;
            }
            // E g̃² = g² + σ²: the draw's squared gradient less its noise.
            let mut own_noise = 0.0;
            for (k, e) in std_err.iter().flatten().enumerate() {
                noise[k] += e * e;
                own_noise += e * e;
            }
            sq.push((exact.iter().map(|v| v * v).sum::<f64>() - own_noise) / k_params as f64);
            grads.push(exact);
            for (k, v) in shot.iter().flatten().enumerate() {
                e1[k] += v;
                e2[k] += v * v;
            }
        }
        if cancelled {
            break;
        }
        let s = p.samples as f64;
        let observed: Vec<f64> = s1
            .iter()
            .zip(&s2)
            .map(|(a, b)| (b / s - (a / s).powi(2)) * s / (s - 1.0).max(1.0))
            .collect();
        let noise: Vec<f64> = noise.iter().map(|e| e / s).collect();
        let var: Vec<f64> = observed.iter().zip(&noise).map(|(v, e)| v - e).collect();
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        let dist = distances(n, &edges, n - 1);
        let mut by: std::collections::BTreeMap<usize, (f64, usize)> = Default::default();
        for (k, v) in var.iter().enumerate() {
            let (i, j) = layout[k];
            let e = by.entry(dist[i].min(dist[j])).or_default();
            e.0 += v;
            e.1 += 1;
        }
        let variance_err = {
            let mu = sq.iter().sum::<f64>() / s;
            let v = sq.iter().map(|q| (q - mu).powi(2)).sum::<f64>() / (s - 1.0).max(1.0);
            (v / s).sqrt()
        };
        let second: Vec<f64> = (0..k_params)
            .filter(|k| !first.contains(k))
            .map(|k| var[k])
            .collect();
        boot.push(grads);
        boot_noise.push(if typical.is_some() { mean(&noise) } else { 0.0 });
        per_size.push(SizeResult {
            qubits: n,
            params: k_params,
            variance: mean(&var),
            method: match (p.temperature, typical) {
                (None, _) => "exact",
                (Some(_), None) => "dense",
                (Some(_), Some(_)) => "typicality",
            },
            variance_observed: typical.map(|_| mean(&observed)),
            noise_variance: typical.map(|_| mean(&noise)),
            variance_err,
            variance_xx: mean(&var[first.clone()]),
            variance_zz: mean(&second),
            by_distance: by
                .into_iter()
                .map(|(d, (s, c))| (d, s / c as f64))
                .collect(),
            variance_ep_shots: p.ep_shots.map(|_| {
                let v: Vec<f64> = e1
                    .iter()
                    .zip(&e2)
                    .map(|(a, b)| (b / s - (a / s).powi(2)) * s / (s - 1.0).max(1.0))
                    .collect();
                mean(&v)
            }),
            median_sq: {
                sq.sort_by(f64::total_cmp);
                sq[sq.len() / 2]
            },
            lie_dimension: lie,
            seconds: t0.elapsed().as_secs_f64(),
        });
    }
    let xs: Vec<f64> = per_size.iter().map(|r| r.qubits as f64).collect();
    // A noise-corrected statistic can be ≤ 0 (the noise exceeded what was observed): it has no
    // logarithm, and the rates of that statistic are left undefined (NaN) rather than fitted
    // to a clipped number.
    let fit = |f: fn(&SizeResult) -> f64| {
        if per_size.iter().any(|r| f(r) <= 0.0) {
            return (f64::NAN, f64::NAN);
        }
        let ys: Vec<f64> = per_size.iter().map(|r| f(r).ln()).collect();
        fit_line(&xs, &ys)
    };
    let (slope, err) = fit(|r| r.variance);
    let (sxx, _) = fit(|r| r.variance_xx);
    let (szz, _) = fit(|r| r.variance_zz);
    let (smed, emed) = fit(|r| r.median_sq);
    let stat_err = slope_stat_err(
        &xs,
        &per_size
            .iter()
            .map(|r| r.variance_err / r.variance)
            .collect::<Vec<_>>(),
    );
    let half = [t975(xs.len().saturating_sub(2)) * err, 1.96 * stat_err]
        .into_iter()
        .filter(|h| h.is_finite())
        .fold(f64::NAN, f64::max);
    let rate = -slope;
    let ci = (rate - half, rate + half);
    let mut warnings = trust_warnings(&per_size, p.samples, rate, ci);
    let unresolved: Vec<String> = per_size
        .iter()
        .filter(|r| r.variance <= 0.0)
        .map(|r| r.qubits.to_string())
        .collect();
    let (mut boot_var, mut boot_med) = bootstrap_rates_with_noise(&xs, &boot, &boot_noise, p.seed);
    if !unresolved.is_empty() {
        warnings.push(format!(
            "the noise-corrected variance is ≤ 0 at N = {}: the noise of the typicality \
             gradients hides the variance there, so no decay rate is fitted (only that the \
             variance is below about the noise level)",
            unresolved.join(", ")
        ));
        boot_var = (f64::NAN, f64::NAN);
    }
    if per_size.iter().any(|r| r.median_sq <= 0.0) {
        boot_med = (f64::NAN, f64::NAN);
    }
    Ok(Plateau {
        decay_rate_ci95_bootstrap: boot_var,
        decay_rate_median_ci95_bootstrap: boot_med,
        temperature: p.temperature,
        decay_rate_stat_err: stat_err,
        decay_rate_ci95: ci,
        warnings,
        family: p.family,
        complete: per_size.len() == p.sizes.len(),
        sizes: per_size.iter().map(|r| r.qubits).collect(),
        variance: per_size.iter().map(|r| r.variance).collect(),
        decay_rate: -slope,
        decay_rate_err: err,
        decay_rate_xx: -sxx,
        decay_rate_zz: -szz,
        decay_rate_median: -smed,
        decay_rate_median_err: emed,
        per_size,
        samples: p.samples,
    })
}

/// The two per-size statistics the scan fits, from the draws `idx` of one size (`grads[d][k]`,
/// draw `d`, parameter `k`; `idx` may repeat draws, as a bootstrap resample does): the mean over
/// parameters of the variance over draws, and the median over draws of the mean squared
/// gradient. `sq` is scratch space (reused between calls, so a resampling loop allocates
/// nothing).
pub fn size_statistics(grads: &[Vec<f64>], idx: &[usize], sq: &mut Vec<f64>) -> (f64, f64) {
    let s = idx.len() as f64;
    let k = grads.first().map_or(0, Vec::len);
    let var: f64 = (0..k)
        .map(|j| {
            let m = idx.iter().map(|&d| grads[d][j]).sum::<f64>() / s;
            idx.iter().map(|&d| (grads[d][j] - m).powi(2)).sum::<f64>() / (s - 1.0).max(1.0)
        })
        .sum();
    sq.clear();
    sq.extend(
        idx.iter()
            .map(|&d| grads[d].iter().map(|v| v * v).sum::<f64>() / k.max(1) as f64),
    );
    sq.sort_by(f64::total_cmp);
    (
        var / k.max(1) as f64,
        sq.get(sq.len() / 2).copied().unwrap_or(f64::NAN),
    )
}

/// 95 % percentile-bootstrap intervals of the decay rates of the variance and of the median
/// squared gradient ([`size_statistics`]): [`BOOTSTRAP_RESAMPLES`] times, every size's draws
/// are resampled with replacement (ChaCha8 seeded from `seed`) and both rates refitted; NaN
/// with fewer than two sizes.
pub fn bootstrap_rates(xs: &[f64], draws: &[Vec<Vec<f64>>], seed: u64) -> ((f64, f64), (f64, f64)) {
    bootstrap_rates_with_noise(xs, draws, &vec![0.0; draws.len()], seed)
}

/// [`bootstrap_rates`] for noisy gradients: `noise[i]` (the size's mean squared standard
/// error, [`SizeResult::noise_variance`]) is subtracted from both statistics of size `i` in
/// every resample, as the scan subtracts it from its variance (held fixed over resamples: its
/// own spread is a small part of the interval).
pub fn bootstrap_rates_with_noise(
    xs: &[f64],
    draws: &[Vec<Vec<f64>>],
    noise: &[f64],
    seed: u64,
) -> ((f64, f64), (f64, f64)) {
    let nan = (f64::NAN, f64::NAN);
    if xs.len() < 2
        || draws.len() != xs.len()
        || noise.len() != xs.len()
        || draws.iter().any(Vec::is_empty)
    {
        return (nan, nan);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xB007_5742_u64);
    let (mut rv, mut rm) = (
        Vec::with_capacity(BOOTSTRAP_RESAMPLES),
        Vec::with_capacity(BOOTSTRAP_RESAMPLES),
    );
    let most = draws.iter().map(Vec::len).max().unwrap_or(0);
    let (mut idx, mut sq) = (Vec::with_capacity(most), Vec::with_capacity(most));
    let (mut yv, mut ym) = (vec![0.0; xs.len()], vec![0.0; xs.len()]);
    for _ in 0..BOOTSTRAP_RESAMPLES {
        let (mut ok_v, mut ok_m) = (true, true);
        for (i, d) in draws.iter().enumerate() {
            idx.clear();
            idx.extend((0..d.len()).map(|_| rng.random_range(0..d.len())));
            let (v, m) = size_statistics(d, &idx, &mut sq);
            ok_v &= noise[i] == 0.0 || v - noise[i] > 0.0;
            ok_m &= noise[i] == 0.0 || m - noise[i] > 0.0;
            yv[i] = (v - noise[i]).max(f64::MIN_POSITIVE).ln();
            ym[i] = (m - noise[i]).max(f64::MIN_POSITIVE).ln();
        }
        // A resample whose noise-corrected statistic is ≤ 0 has no rate: marked NaN (without
        // noise a zero variance, all draws alike, is clipped as before).
        rv.push(if ok_v { -fit_line(xs, &yv).0 } else { f64::NAN });
        rm.push(if ok_m { -fit_line(xs, &ym).0 } else { f64::NAN });
    }
    // More than 2.5 % of resamples without a rate: no 95 % interval (NaN); fewer are dropped.
    let ci = |mut r: Vec<f64>| {
        let total = r.len();
        r.retain(|x| x.is_finite());
        if r.len() * 40 < total * 39 || r.is_empty() {
            return (f64::NAN, f64::NAN);
        }
        r.sort_by(f64::total_cmp);
        let q = |p: f64| r[((p * (r.len() - 1) as f64).round() as usize).min(r.len() - 1)];
        (q(0.025), q(0.975))
    };
    (ci(rv), ci(rm))
}
