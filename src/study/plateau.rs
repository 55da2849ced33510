//! Barren plateaus: how the variance of `∂⟨C⟩/∂θ_k` over random initial parameters falls
//! with the number of qubits (`qep plateau`).
//!
//! For each size `N` a network of the chosen family is built — trainable XX and ZZ couplings
//! on the lattice's edges (uniform in `[−a, a]`), a fixed transverse field −1 on every site,
//! input qubit 0 with field `u = 0.5`, output qubit `N − 1` with target `d = 1` — and for
//! `samples` seeded draws of θ the exact gradient (the oracle of [`crate::ep::Engine::exact`])
//! is computed. The variance over draws of each component, averaged over the parameters, is
//! fitted as `Var ∝ e^{−r N}`: `r` is the decay rate, with the standard error of the
//! least-squares slope.

use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::cancel::Cancel;
use crate::ep::{Engine, EpParams};
use crate::hamiltonian::{parse_str, Example, Lattice, Model};
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
}

/// Variance of the gradient for one size, with its breakdown.
#[derive(Clone, Debug, Serialize)]
pub struct SizeResult {
    /// Qubits.
    pub qubits: usize,
    /// Trainable parameters.
    pub params: usize,
    /// Mean over parameters of the variance over draws of `∂⟨C⟩/∂θ_k`.
    pub variance: f64,
    /// The same, over the XX parameters only.
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
    /// Wall time of this size, seconds.
    pub seconds: f64,
}

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
            "family": self.family,
            "samples": self.samples,
            "per_size": self.per_size,
            "complete": self.complete,
            "seconds": seconds,
            "provenance": provenance,
        })
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
    };
    let mut y = format!(
        "lattice: {lattice}\ninputs: [0]\noutputs: [{}]\nparams:\n",
        n - 1
    );
    let edges = edges_of(family, n);
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
        Family::Chain => Lattice::Chain { n, periodic: false }.edges(),
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
    let ep = EpParams::default();
    let mut per_size = Vec::with_capacity(p.sizes.len());
    for (si, &n) in p.sizes.iter().enumerate() {
        let t0 = std::time::Instant::now();
        let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
        rng.set_stream(n as u64);
        let edges = edges_of(p.family, n);
        let m = edges.len();
        let (mut s1, mut s2) = (vec![0.0; 2 * m], vec![0.0; 2 * m]);
        let mut sq = Vec::with_capacity(p.samples);
        let (mut e1, mut e2) = (vec![0.0; 2 * m], vec![0.0; 2 * m]);
        let mut cancelled = false;
        for sample in 0..p.samples {
            if cancel.is_cancelled() {
                cancelled = true;
                break;
            }
            let model = network(p.family, n, p.init_range, &mut rng)?;
            let exact = Engine::Eigen.exact(&model, &model.theta(), &ex, &ep)?;
            for (k, v) in exact.iter().enumerate() {
                s1[k] += v;
                s2[k] += v * v;
            }
            sq.push(exact.iter().map(|v| v * v).sum::<f64>() / (2 * m) as f64);
            if let Some((shots, beta)) = p.ep_shots {
                let params = EpParams {
                    beta,
                    shots: Some(shots),
                    shot_seed: p.seed ^ ((n as u64) << 32) ^ sample as u64,
                    ..ep.clone()
                };
                let e = Engine::Eigen.gradient(&model, &model.theta(), &ex, &params)?;
                for (k, v) in e.ep.iter().enumerate() {
                    e1[k] += v;
                    e2[k] += v * v;
                }
            }
            progress(si, sample + 1);
        }
        if cancelled {
            break;
        }
        let s = p.samples as f64;
        let var: Vec<f64> = s1
            .iter()
            .zip(&s2)
            .map(|(a, b)| (b / s - (a / s).powi(2)) * s / (s - 1.0).max(1.0))
            .collect();
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        let dist = distances(n, &edges, n - 1);
        let mut by: std::collections::BTreeMap<usize, (f64, usize)> = Default::default();
        for (k, v) in var.iter().enumerate() {
            let (i, j) = edges[k % m];
            let e = by.entry(dist[i].min(dist[j])).or_default();
            e.0 += v;
            e.1 += 1;
        }
        per_size.push(SizeResult {
            qubits: n,
            params: 2 * m,
            variance: mean(&var),
            variance_xx: mean(&var[..m]),
            variance_zz: mean(&var[m..]),
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
            seconds: t0.elapsed().as_secs_f64(),
        });
    }
    let xs: Vec<f64> = per_size.iter().map(|r| r.qubits as f64).collect();
    let fit = |f: fn(&SizeResult) -> f64| {
        let ys: Vec<f64> = per_size
            .iter()
            .map(|r| f(r).max(f64::MIN_POSITIVE).ln())
            .collect();
        fit_line(&xs, &ys)
    };
    let (slope, err) = fit(|r| r.variance);
    let (sxx, _) = fit(|r| r.variance_xx);
    let (szz, _) = fit(|r| r.variance_zz);
    let (smed, emed) = fit(|r| r.median_sq);
    Ok(Plateau {
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
