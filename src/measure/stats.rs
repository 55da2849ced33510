//! Statistics of samples: the one Welford accumulator (mean and variance in one pass,
//! numerically stable) that trajectory averages use, and the one delete-one jackknife
//! ([`jackknife`]) that typicality's ratio estimators use.

/// Running mean and sum of squared deviations of the samples pushed so far (Welford's
/// algorithm: one pass, no catastrophic cancellation). Deterministic for a given push order.
///
/// # Examples
/// ```
/// let mut w = qep::measure::stats::Welford::default();
/// for x in [1.0, 2.0, 3.0, 4.0] {
///     w.push(x);
/// }
/// assert_eq!(w.mean(), 2.5);
/// // s² = 5/3, standard error √(s²/4).
/// assert!((w.sem() - (5.0f64 / 3.0 / 4.0).sqrt()).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Welford {
    count: u64,
    mean: f64,
    m2: f64,
}

impl Welford {
    /// Adds one sample.
    pub fn push(&mut self, x: f64) {
        self.count += 1;
        let d = x - self.mean;
        self.mean += d / self.count as f64;
        self.m2 += d * (x - self.mean);
    }

    /// Samples pushed.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Their mean (0 before the first).
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// The unbiased sample variance `s² = Σ(x − x̄)²/(M − 1)`, 0 below two samples.
    pub fn variance(&self) -> f64 {
        if self.count < 2 {
            0.0
        } else {
            (self.m2 / (self.count as f64 - 1.0)).max(0.0)
        }
    }

    /// The standard error of the mean `s/√M`, 0 below two samples.
    pub fn sem(&self) -> f64 {
        if self.count < 2 {
            0.0
        } else {
            let m = self.count as f64;
            (self.m2 / (m - 1.0) / m).max(0.0).sqrt()
        }
    }
}

/// Delete-one jackknife of a smooth function of column totals: `f(Σ_r row_r)` is the estimate,
/// and with `θ_(i) = f(Σ_{r≠i} row_r)` (rescaled to `R` rows, which ratio estimators ignore)
/// the standard error is `√((R−1)/R · Σ_i (θ_(i) − θ̄)²)`. Returns `(estimate, std_err)`;
/// NaN standard errors with fewer than two rows.
///
/// # Panics
/// If the rows have different lengths (a caller bug).
#[track_caller]
pub fn jackknife(rows: &[Vec<f64>], f: impl Fn(&[f64]) -> Vec<f64>) -> (Vec<f64>, Vec<f64>) {
    let r = rows.len();
    let width = rows.first().map_or(0, Vec::len);
    assert!(rows.iter().all(|x| x.len() == width), "ragged rows");
    let mut total = vec![0.0; width];
    for row in rows {
        for (t, x) in total.iter_mut().zip(row) {
            *t += x;
        }
    }
    let est = f(&total);
    if r < 2 {
        return (est.clone(), vec![f64::NAN; est.len()]);
    }
    let scale_ = r as f64 / (r - 1) as f64;
    let leave: Vec<Vec<f64>> = rows
        .iter()
        .map(|row| {
            let t: Vec<f64> = total
                .iter()
                .zip(row)
                .map(|(t, x)| (t - x) * scale_)
                .collect();
            f(&t)
        })
        .collect();
    let std = (0..est.len())
        .map(|j| {
            let mean = leave.iter().map(|l| l[j]).sum::<f64>() / r as f64;
            let ss: f64 = leave.iter().map(|l| (l[j] - mean).powi(2)).sum();
            ((r - 1) as f64 / r as f64 * ss).sqrt()
        })
        .collect();
    (est, std)
}
