//! Shot noise against clamping bias (`qep shots`): how the error of the shot-based EP
//! gradient (Eq. 28 from finite measurements) splits into the O(β²) bias of the symmetric
//! estimate and the O(1/(β√S)) noise of the shots, and which β minimises their sum.

use serde::Serialize;

use crate::cancel::Cancel;
use crate::ep::{Engine, EpParams};
use crate::hamiltonian::{Example, Model};
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

/// One cell of the scan. Errors are root-mean-square over the gradient's components.
#[derive(Clone, Debug, Serialize)]
pub struct ShotCell {
    /// Shots per group and state.
    pub shots: u64,
    /// β.
    pub beta: f64,
    /// RMS error against the exact gradient, over repeats and components.
    pub rms: f64,
    /// Error of the mean over repeats (the clamping bias, plus what of the noise survives
    /// averaging).
    pub bias: f64,
    /// Spread of the repeats around their mean (the shot noise).
    pub noise: f64,
    /// Mean reported standard error of the components (from the shots themselves).
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
    }
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
    let optimal_beta = p
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
    Ok(ShotScan {
        cells,
        bias_coefficient,
        noise_coefficient,
        optimal_beta,
        complete,
    })
}
