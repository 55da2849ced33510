//! The numbers `qep reproduce` derives from the studies' results for `RESULTS.md`: how the
//! gradient variance decays with size (exponential against polynomial fits, compared by
//! their residuals), the clamping strength with the smallest measured error per shot budget
//! and its power law in the budget, a mean with its spread over seeds, and the sweep time
//! the state-preparation study needs for a gradient within a tolerance (with its chart).

use serde::Serialize;

use super::plateau::fit_line;
use crate::report::svg::{Chart, Curve};

/// Two fits of a variance decay `Var(N)`: exponential `ln Var = a − r N` and polynomial
/// `ln Var = a − p ln N`, each with the RMS of its residuals in `ln Var` (the smaller residual
/// is the better description, on the same data and with the same two parameters).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DecayFits {
    /// Rate `r` of the exponential fit.
    pub exp_rate: f64,
    /// Standard error of `r` (NaN with two sizes).
    pub exp_rate_err: f64,
    /// RMS residual of the exponential fit, in `ln Var`.
    pub exp_rms: f64,
    /// Power `p` of the polynomial fit.
    pub poly_power: f64,
    /// Standard error of `p` (NaN with two sizes).
    pub poly_power_err: f64,
    /// RMS residual of the polynomial fit, in `ln Var`.
    pub poly_rms: f64,
}

impl DecayFits {
    /// `"exponential"` or `"polynomial"`: the fit with the smaller residual, or
    /// `"undecided"` when the residuals differ by less than 20 % (or there are only two sizes,
    /// which both fits pass through exactly).
    pub fn better(&self) -> &'static str {
        let (e, p) = (self.exp_rms, self.poly_rms);
        // Both ~0: two sizes (or exact data) that both fits pass through.
        let exact = e.max(p) < 1e-9;
        if !(e.is_finite() && p.is_finite()) || exact || (e - p).abs() <= 0.2 * e.max(p) {
            "undecided"
        } else if e < p {
            "exponential"
        } else {
            "polynomial"
        }
    }
}

/// Fits `variance` against `sizes` both ways ([`DecayFits`]); `None` with fewer than two
/// positive finite variances.
pub fn decay_fits(sizes: &[usize], variance: &[f64]) -> Option<DecayFits> {
    let pts: Vec<(f64, f64)> = sizes
        .iter()
        .zip(variance)
        .filter(|(_, v)| v.is_finite() && **v > 0.0)
        .map(|(&n, &v)| (n as f64, v.ln()))
        .collect();
    if pts.len() < 2 {
        return None;
    }
    let n: Vec<f64> = pts.iter().map(|p| p.0).collect();
    let ln_n: Vec<f64> = n.iter().map(|x| x.ln()).collect();
    let y: Vec<f64> = pts.iter().map(|p| p.1).collect();
    let (se, ee) = fit_line(&n, &y);
    let (sp, ep) = fit_line(&ln_n, &y);
    Some(DecayFits {
        exp_rate: -se,
        exp_rate_err: ee,
        exp_rms: rms_residual(&n, &y, se),
        poly_power: -sp,
        poly_power_err: ep,
        poly_rms: rms_residual(&ln_n, &y, sp),
    })
}

/// RMS of the residuals of the least-squares line of slope `slope` through `(x, y)`.
fn rms_residual(x: &[f64], y: &[f64], slope: f64) -> f64 {
    let k = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / k, y.iter().sum::<f64>() / k);
    let ss: f64 = x
        .iter()
        .zip(y)
        .map(|(a, b)| (b - my - slope * (a - mx)).powi(2))
        .sum();
    (ss / k).sqrt()
}

/// The clamping strength with the smallest measured error at one shot budget.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BestBeta {
    /// Shots per group and state.
    pub shots: u64,
    /// The scanned β with the smallest RMS error.
    pub scanned: f64,
    /// The minimum of the parabola through `(ln β, ln rms)` at the best scanned β and its two
    /// neighbours; the scanned β itself when it is at the edge of the grid.
    pub interpolated: f64,
    /// Whether the best scanned β has a neighbour on both sides (else the optimum may lie
    /// beyond the grid and `interpolated` is only a bound).
    pub interior: bool,
}

/// Per shot budget, the β of smallest measured RMS error among `cells` = `(shots, β, rms)`
/// ([`BestBeta`]), budgets in increasing order.
pub fn best_betas(cells: &[(u64, f64, f64)]) -> Vec<BestBeta> {
    let mut budgets: Vec<u64> = cells.iter().map(|c| c.0).collect();
    budgets.sort_unstable();
    budgets.dedup();
    budgets
        .into_iter()
        .filter_map(|s| {
            let mut row: Vec<(f64, f64)> = cells
                .iter()
                .filter(|c| c.0 == s && c.1 > 0.0 && c.2 > 0.0 && c.2.is_finite())
                .map(|c| (c.1, c.2))
                .collect();
            row.sort_by(|a, b| a.0.total_cmp(&b.0));
            let i = (0..row.len()).min_by(|&a, &b| row[a].1.total_cmp(&row[b].1))?;
            let scanned = row[i].0;
            let interior = i > 0 && i + 1 < row.len();
            let interpolated = if interior {
                vertex([row[i - 1], row[i], row[i + 1]].map(|(b, r)| (b.ln(), r.ln())))
                    .map_or(scanned, f64::exp)
            } else {
                scanned
            };
            Some(BestBeta {
                shots: s,
                scanned,
                interpolated,
                interior,
            })
        })
        .collect()
}

/// The abscissa of the extremum of the parabola through three points (`None` if they are on
/// a line); clamped to the outer two abscissae.
fn vertex(p: [(f64, f64); 3]) -> Option<f64> {
    let [(x0, y0), (x1, y1), (x2, y2)] = p;
    let d = (x0 - x1) * (x0 - x2) * (x1 - x2);
    let a = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / d;
    let b = (x2 * x2 * (y0 - y1) + x1 * x1 * (y2 - y0) + x0 * x0 * (y1 - y2)) / d;
    if !(a.is_finite() && b.is_finite()) || a <= 0.0 {
        return None;
    }
    Some((-b / (2.0 * a)).clamp(x0.min(x2), x0.max(x2)))
}

/// The exponent `k` of `y ∝ x^k` by least squares on logarithms, with its standard error
/// (NaN with two points); `None` with fewer than two positive points.
pub fn power_law(x: &[f64], y: &[f64]) -> Option<(f64, f64)> {
    let (lx, ly): (Vec<f64>, Vec<f64>) = x
        .iter()
        .zip(y)
        .filter(|(a, b)| **a > 0.0 && **b > 0.0)
        .map(|(a, b)| (a.ln(), b.ln()))
        .unzip();
    (lx.len() >= 2).then(|| fit_line(&lx, &ly))
}

/// Mean and sample standard deviation (0 for one value); `None` for none.
pub fn mean_std(xs: &[f64]) -> Option<(f64, f64)> {
    if xs.is_empty() {
        return None;
    }
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let var = if xs.len() > 1 {
        xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    Some((m, var.sqrt()))
}

/// One sweep time of the state-preparation study: how far the EP gradient from prepared
/// states is from the one from exact eigenstates (`qep grad --prep-times`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PrepPoint {
    /// Sweep time `T`.
    pub time: f64,
    /// `‖ep − ep_exact_states‖ / ‖ep_exact_states‖`.
    pub relative_error: f64,
    /// Cosine of the two gradients.
    pub cosine: f64,
    /// Fidelities of the prepared free, `+β` and `−β` states with the exact eigenstates.
    pub fidelities: Vec<f64>,
}

/// The shortest sweep time from which on (this one and every longer one scanned) the
/// relative error is at most `tol`; `None` if the longest does not reach it.
pub fn time_within(points: &[PrepPoint], tol: f64) -> Option<f64> {
    let mut p: Vec<&PrepPoint> = points.iter().collect();
    p.sort_by(|a, b| a.time.total_cmp(&b.time));
    let mut best = None;
    for x in p.iter().rev() {
        if x.relative_error <= tol {
            best = Some(x.time);
        } else {
            break;
        }
    }
    best
}

/// The chart of the preparation study (`prep.svg`, `prep.png`): against the sweep time, the
/// relative error and `1 − cosine` of the EP gradient from prepared states, the infidelities
/// `1 − F` of the free and clamped states, and the 1 % line; log–log.
pub fn prep_chart(model: &str, points: &[PrepPoint], min_gap: Option<f64>) -> Chart {
    let pts = |f: &dyn Fn(&PrepPoint) -> f64| -> Vec<(f64, f64)> {
        points.iter().map(|p| (p.time, f(p))).collect()
    };
    let fid =
        |i: usize| move |p: &PrepPoint| 1.0 - p.fidelities.get(i).copied().unwrap_or(f64::NAN);
    let (lo, hi) = points.iter().fold((f64::INFINITY, 0.0f64), |(a, b), p| {
        (a.min(p.time), b.max(p.time))
    });
    let gap = min_gap.map_or(String::new(), |g| format!(", min gap {g:.3}"));
    Chart {
        title: format!("{model}: EP on adiabatically prepared states{gap}"),
        x_label: "sweep time T".into(),
        y_label: "error (prepared vs exact eigenstates)".into(),
        log_x: true,
        log_y: true,
        y_range: None,
        curves: vec![
            Curve::new("gradient rel. error", pts(&|p| p.relative_error)),
            Curve::new("1 − cosine", pts(&|p| 1.0 - p.cosine)),
            Curve::new("1 − F free", pts(&fid(0))),
            Curve::new("1 − F clamped +β", pts(&fid(1))),
            Curve::new("1 − F clamped −β", pts(&fid(2))),
            Curve::new("1 % target", vec![(lo, 0.01), (hi, 0.01)]),
        ],
    }
}
