//! Shot noise against clamping bias (`qep shots`): how the error of the shot-based EP
//! gradient (Eq. 28 from finite measurements) splits into the O(β²) bias of the symmetric
//! estimate and the O(1/(β√S)) noise of the shots, and which β minimises their sum.

use serde::Serialize;

use crate::cancel::Cancel;
use crate::ep::{Engine, EpParams};
use crate::hamiltonian::{Example, Model};
use crate::report::svg::{Chart, Curve};
use crate::Error;

/// Settings of [`shot_scan`].
#[derive(Clone, Debug, Serialize)]
pub struct ShotScanParams {
    /// Shot budgets `S` (per commuting group and clamped state).
    pub shots: Vec<u64>,
    /// Clamping strengths β.
    pub betas: Vec<f64>,
    /// Repeats per (S, β), each with its own seed.
    pub repeats: usize,
    /// Seed of the first repeat.
    pub seed: u64,
}

/// One cell of the scan. Every error is a root mean square over the gradient's `K`
/// components, in the units of the gradient `∂⟨C⟩/∂θ` (cost per unit of coupling).
#[derive(Clone, Debug, Serialize)]
pub struct ShotCell {
    /// Shots per group and state.
    pub shots: u64,
    /// β.
    pub beta: f64,
    /// Total error of one shot-based gradient: `√(mean over repeats and components of
    /// (EP estimate − exact gradient)²)`, so `rms² ≈ clamping_bias² + noise²`.
    pub rms: f64,
    /// Error of the mean over the repeats against the exact gradient: the clamping bias plus
    /// the noise that survives averaging, `noise/√repeats` (so it still depends on `S`; the
    /// bias alone is `clamping_bias`).
    pub bias: f64,
    /// The clamping bias alone: the error of EP at this β from exact expectations (infinitely
    /// many shots), which does not depend on `S`.
    pub clamping_bias: f64,
    /// Spread of the repeats around their mean (the shot noise of one gradient).
    pub noise: f64,
    /// The error bar one run quotes: the mean over repeats of the RMS over components of the
    /// standard error each gradient reports from its own shots. It should match `noise`.
    pub reported_std: f64,
    /// Shots spent on one gradient.
    pub shots_per_gradient: u64,
}

/// The result: the cells, the fitted error model and the optimal β per budget.
#[derive(Clone, Debug, Serialize)]
pub struct ShotScan {
    /// Every (S, β) cell.
    pub cells: Vec<ShotCell>,
    /// `b` of the bias model `b β²`, from exact-expectation EP at each β.
    pub bias_coefficient: f64,
    /// `c` of the noise model `c / (β √S)`, the mean of `noise · β · √S` over cells.
    pub noise_coefficient: f64,
    /// Per budget: `(S, β with the smallest measured RMS, β* = (c² / (2 b² S))^{1/6} of the
    /// model)`.
    pub optimal_beta: Vec<(u64, f64, f64)>,
    /// Whether every cell asked for was computed (false when the scan was cancelled: `cells`
    /// then holds the cells completed before, and the fits use them).
    pub complete: bool,
    /// `(β, clamping bias)`: the RMS error of EP from exact expectations at each scanned β.
    pub clamping_bias: Vec<(f64, f64)>,
    /// When not to trust `optimal_beta`: a model β* outside the scanned β range, a best
    /// measured β at the edge of the grid (the optimum may lie beyond it). Empty when none
    /// applies.
    pub warnings: Vec<String>,
}

/// Runs the scan on one example; `progress(done, total)` after every gradient.
///
/// # Errors
/// [`crate::ep::EpError::NoEigenstates`] for a `kind: classical` model; model, memory,
/// solver and measurement errors.
pub fn shot_scan(
    model: &Model,
    theta: &[f64],
    example: &Example,
    p: &ShotScanParams,
    progress: impl FnMut(usize, usize),
) -> Result<ShotScan, Error> {
    shot_scan_until(model, theta, example, p, &Cancel::default(), progress)
}

/// [`shot_scan`] that stops before the next gradient once `cancel` is set and returns the
/// cells completed until then (a cell in progress is dropped: its statistics need all its
/// repeats) with `complete: false`.
///
/// # Errors
/// As [`shot_scan`]; [`Error::Cancelled`] if cancelled before the exact gradient and the
/// bias scan are done (nothing to report yet).
pub fn shot_scan_until(
    model: &Model,
    theta: &[f64],
    example: &Example,
    p: &ShotScanParams,
    cancel: &Cancel,
    mut progress: impl FnMut(usize, usize),
) -> Result<ShotScan, Error> {
    // Shots measure eigenstates: the study runs the eigen engine on any quantum model, and a
    // classical network has no state to measure.
    if model.kind == crate::hamiltonian::ModelKind::Classical {
        return Err(crate::ep::EpError::NoEigenstates {
            what: "the shot study",
        }
        .into());
    }
    let base = EpParams::default();
    let engine = Engine::Eigen;
    let exact = engine.exact(model, theta, example, &base)?;
    let k = exact.len().max(1) as f64;
    let rms_of = |v: &[f64], w: &[f64]| {
        (v.iter().zip(w).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / k).sqrt()
    };
    // The clamping bias alone, from exact expectations: b = mean of bias / β².
    let mut b_est = Vec::new();
    let mut clamping_bias = Vec::new();
    for &beta in &p.betas {
        cancel.check()?;
        let g = engine.gradient(
            model,
            theta,
            example,
            &EpParams {
                beta,
                ..base.clone()
            },
        )?;
        b_est.push(rms_of(&g.ep, &exact) / (beta * beta));
        clamping_bias.push((beta, rms_of(&g.ep, &exact)));
    }
    let bias_at = |beta: f64| {
        clamping_bias
            .iter()
            .find(|b| b.0 == beta)
            .map_or(f64::NAN, |b| b.1)
    };
    let bias_coefficient = b_est.iter().sum::<f64>() / b_est.len().max(1) as f64;
    let total = p.shots.len() * p.betas.len() * p.repeats;
    // Every (budget, β, repeat) gradient is one item, split over the ranks and gathered in
    // the one-process order (each depends on its seed only). `None`: cancelled before it.
    let runs_of = |i: usize| {
        let r = i % p.repeats.max(1);
        let cell = i / p.repeats.max(1);
        (
            p.shots[cell / p.betas.len()],
            p.betas[cell % p.betas.len()],
            r,
        )
    };
    let gradients = crate::dist::map_ordered(crate::dist::world(), total, |i| {
        if cancel.is_cancelled() {
            return Ok::<_, Error>(None);
        }
        let (s, beta, r) = runs_of(i);
        let params = EpParams {
            beta,
            shots: Some(s),
            shot_seed: p.seed.wrapping_add(r as u64 * 7919),
            ..base.clone()
        };
        let g = engine.gradient(model, theta, example, &params)?;
        let sd = g.ep_std.unwrap_or_default();
        progress(i + 1, total);
        Ok(Some((
            g.ep,
            (sd.iter().map(|x| x * x).sum::<f64>() / k).sqrt(),
            g.shots_total.unwrap_or(0),
        )))
    })?;
    let mut gradients = gradients.into_iter();
    let mut cells = Vec::new();
    'scan: for &s in &p.shots {
        for &beta in &p.betas {
            let mut runs: Vec<Vec<f64>> = Vec::with_capacity(p.repeats);
            let mut reported = 0.0;
            let mut spent = 0;
            for _ in 0..p.repeats {
                let Some(Some((g, sd, shots))) = gradients.next() else {
                    break 'scan;
                };
                reported += sd;
                spent = shots;
                runs.push(g);
            }
            let n = runs.len() as f64;
            let mean: Vec<f64> = (0..exact.len())
                .map(|j| runs.iter().map(|g| g[j]).sum::<f64>() / n)
                .collect();
            let rms = (runs.iter().map(|g| rms_of(g, &exact).powi(2)).sum::<f64>() / n).sqrt();
            let noise = (runs.iter().map(|g| rms_of(g, &mean).powi(2)).sum::<f64>()
                / (n - 1.0).max(1.0))
            .sqrt();
            cells.push(ShotCell {
                shots: s,
                beta,
                rms,
                bias: rms_of(&mean, &exact),
                clamping_bias: bias_at(beta),
                noise,
                reported_std: reported / n,
                shots_per_gradient: spent,
            });
        }
    }
    let c: Vec<f64> = cells
        .iter()
        .map(|c| c.noise * c.beta * (c.shots as f64).sqrt())
        .collect();
    let noise_coefficient = c.iter().sum::<f64>() / c.len().max(1) as f64;
    let complete = cells.len() == p.shots.len() * p.betas.len();
    let optimal_beta: Vec<(u64, f64, f64)> = p
        .shots
        .iter()
        .filter(|&&s| cells.iter().any(|c| c.shots == s))
        .map(|&s| {
            let best = cells
                .iter()
                .filter(|c| c.shots == s)
                .min_by(|a, b| a.rms.total_cmp(&b.rms))
                .map_or(f64::NAN, |c| c.beta);
            let model_beta = (noise_coefficient.powi(2)
                / (2.0 * bias_coefficient.powi(2) * s as f64))
                .powf(1.0 / 6.0);
            (s, best, model_beta)
        })
        .collect();
    let warnings = beta_warnings(&p.betas, &optimal_beta);
    Ok(ShotScan {
        cells,
        bias_coefficient,
        noise_coefficient,
        optimal_beta,
        complete,
        clamping_bias,
        warnings,
    })
}

impl ShotScan {
    /// `shots.csv`: one row per (S, β) cell with every number of the cell (the first seven
    /// columns are those of earlier versions, in the same order).
    pub fn csv(&self) -> String {
        let mut t = String::from(
            "shots,beta,rms,bias,noise,reported_std,shots_per_gradient,clamping_bias\n",
        );
        for c in &self.cells {
            t.push_str(&format!(
                "{},{},{:.8e},{:.8e},{:.8e},{:.8e},{},{:.8e}\n",
                c.shots,
                c.beta,
                c.rms,
                c.bias,
                c.noise,
                c.reported_std,
                c.shots_per_gradient,
                c.clamping_bias
            ));
        }
        t
    }

    /// The charts of `shots.svg` / `shots.png`: the total error against the shot budget, one
    /// curve per β; and its two parts against β, the clamping bias (from exact expectations)
    /// and the shot noise per budget with its standard error over `repeats` repeats.
    pub fn charts(&self, model: &str, repeats: usize) -> Vec<Chart> {
        let mut betas: Vec<f64> = self.cells.iter().map(|c| c.beta).collect();
        betas.sort_by(f64::total_cmp);
        betas.dedup();
        let mut shots: Vec<u64> = self.cells.iter().map(|c| c.shots).collect();
        shots.sort_unstable();
        shots.dedup();
        let by_beta = betas
            .iter()
            .map(|&b| {
                Curve::new(
                    format!("β = {b}"),
                    self.cells
                        .iter()
                        .filter(|c| c.beta == b)
                        .map(|c| (c.shots as f64, c.rms))
                        .collect(),
                )
            })
            .collect();
        let mut parts = vec![Curve::new("clamping bias", self.clamping_bias.clone())];
        let se = 1.0 / (2.0 * (repeats.max(2) - 1) as f64).sqrt();
        for &s in &shots {
            let cells: Vec<&ShotCell> = self.cells.iter().filter(|c| c.shots == s).collect();
            parts.push(
                Curve::new(
                    format!("noise, S = {s}"),
                    cells.iter().map(|c| (c.beta, c.noise)).collect(),
                )
                .with_errors(cells.iter().map(|c| c.noise * se).collect()),
            );
        }
        vec![
            Chart {
                title: format!("{model}: shot-based EP, {repeats} repeats per point"),
                x_label: "shots per commuting group and state, S".into(),
                y_label: "RMS error of the gradient".into(),
                log_x: true,
                log_y: true,
                y_range: None,
                curves: by_beta,
            },
            Chart {
                title: format!("{model}: clamping bias vs shot noise"),
                x_label: "clamping strength β".into(),
                y_label: "RMS error of the gradient".into(),
                log_x: true,
                log_y: true,
                y_range: None,
                curves: parts,
            },
        ]
    }
}

/// The caveats of the optimal β per budget (see [`ShotScan::warnings`]).
fn beta_warnings(betas: &[f64], optimal: &[(u64, f64, f64)]) -> Vec<String> {
    let (lo, hi) = betas
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    if betas.len() < 2 || !lo.is_finite() {
        return Vec::new();
    }
    let mut w = Vec::new();
    let outside: Vec<String> = optimal
        .iter()
        .filter(|o| o.2.is_finite() && (o.2 < lo || o.2 > hi))
        .map(|o| format!("β* = {:.3} at S = {}", o.2, o.0))
        .collect();
    if !outside.is_empty() {
        let (a, b) = optimal
            .iter()
            .filter(|o| o.2.is_finite())
            .fold((lo, hi), |(a, b), o| (a.min(o.2), b.max(o.2)));
        w.push(format!(
            "the model's optimal β lies outside the scanned range [{lo}, {hi}] ({}): it extrapolates the error model; scan --betas from about {:.2} to {:.2} to measure it",
            outside.join(", "),
            a / 1.5,
            b * 1.5
        ));
    }
    let edge: Vec<String> = optimal
        .iter()
        .filter(|o| o.1 == lo || o.1 == hi)
        .map(|o| format!("S = {} (β = {})", o.0, o.1))
        .collect();
    if !edge.is_empty() {
        w.push(format!(
            "the best measured β is at the edge of the scanned grid for {}: the optimum may lie beyond it",
            edge.join(", ")
        ));
    }
    w
}
