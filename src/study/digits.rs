//! The 8×8 digits as a small quantum-network task: a few classes of the UCI handwritten
//! digits (`data/digits.csv`, 64 pixel intensities and a `class` column), projected on their
//! leading principal components so that each image becomes as many input fields as the
//! network has input qubits. [`pca`] is the projection (the covariance matrix's
//! eigen-decomposition by qep's dense eigensolver); [`digits_pca_csv`] writes the reduced data
//! set that `hamiltonians/digits.yaml` reads.

use std::fmt::Write as _;

use crate::linalg::{eigh_dense, SolverError};
use crate::report::svg::{Chart, Curve};
use crate::scalar::C64;

/// The digits `hamiltonians/digits.yaml` learns (one output qubit each).
pub const CLASSES: [u32; 3] = [0, 1, 2];
/// Images kept per class (the first in file order): 180 in all, 126 to train on.
pub const PER_CLASS: usize = 60;
/// Principal components kept (one input qubit each).
pub const COMPONENTS: usize = 4;

/// A data set that cannot be reduced.
#[derive(Debug, thiserror::Error)]
pub enum DigitsError {
    /// The CSV text is not `p0,…,p63,class` rows of numbers.
    #[error("digits CSV, line {line}: {problem}")]
    Csv {
        /// Line number, from 1.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// Fewer rows than needed, or more components than features.
    #[error("cannot reduce the data: {0}")]
    Shape(String),
    /// The eigensolver failed.
    #[error(transparent)]
    Solver(#[from] SolverError),
}

/// Principal components of a set of rows: the eigenvectors of the sample covariance
/// `C = Σ_r (x_r − x̄)(x_r − x̄)ᵀ / (n − 1)` with the largest eigenvalues.
#[derive(Clone, Debug, PartialEq)]
pub struct Pca {
    /// Column means `x̄`.
    pub mean: Vec<f64>,
    /// The leading `k` unit eigenvectors of `C`, largest eigenvalue first; each signed so that
    /// its entry of largest magnitude is positive (an eigenvector's sign is arbitrary).
    pub components: Vec<Vec<f64>>,
    /// Every eigenvalue of `C` (the variance along each principal axis), largest first.
    pub variances: Vec<f64>,
}

impl Pca {
    /// The fraction of the total variance carried by the `k` kept components.
    pub fn explained(&self) -> f64 {
        let total: f64 = self.variances.iter().sum();
        let kept: f64 = self.variances[..self.components.len()].iter().sum();
        if total > 0.0 {
            kept / total
        } else {
            0.0
        }
    }

    /// The coordinates of `row` on the kept components, `(x − x̄)·v_j`.
    pub fn project(&self, row: &[f64]) -> Vec<f64> {
        self.components
            .iter()
            .map(|v| {
                v.iter()
                    .zip(row.iter().zip(&self.mean))
                    .map(|(a, (x, m))| a * (x - m))
                    .sum()
            })
            .collect()
    }
}

/// The `k` leading principal components of `rows` (all of one length `d`, at least two rows,
/// `1 ≤ k ≤ d`).
///
/// # Errors
/// [`DigitsError::Shape`] for ragged rows, fewer than two rows or `k` out of range;
/// [`DigitsError::Solver`] if the eigensolver fails.
pub fn pca(rows: &[Vec<f64>], k: usize) -> Result<Pca, DigitsError> {
    let n = rows.len();
    let d = rows.first().map_or(0, Vec::len);
    if n < 2 || d == 0 || rows.iter().any(|r| r.len() != d) {
        return Err(DigitsError::Shape(format!(
            "need at least two rows of one nonzero length, got {n} rows"
        )));
    }
    if k == 0 || k > d {
        return Err(DigitsError::Shape(format!(
            "{k} components of {d} features"
        )));
    }
    let mean: Vec<f64> = (0..d)
        .map(|j| rows.iter().map(|r| r[j]).sum::<f64>() / n as f64)
        .collect();
    let mut cov = vec![C64::new(0.0, 0.0); d * d];
    for r in rows {
        for i in 0..d {
            let a = r[i] - mean[i];
            for j in 0..=i {
                cov[i * d + j].re += a * (r[j] - mean[j]);
            }
        }
    }
    for i in 0..d {
        for j in 0..=i {
            let c = cov[i * d + j].re / (n - 1) as f64;
            cov[i * d + j] = C64::new(c, 0.0);
            cov[j * d + i] = C64::new(c, 0.0);
        }
    }
    // Ascending from the solver: reverse for largest first.
    let (values, vectors) = eigh_dense(&cov, d)?;
    let variances: Vec<f64> = values.iter().rev().map(|v| v.max(0.0)).collect();
    let components = vectors
        .iter()
        .rev()
        .take(k)
        .map(|v| {
            let re: Vec<f64> = v.iter().map(|z| z.re).collect();
            let big = re
                .iter()
                .fold(0.0f64, |m, &x| if x.abs() > m.abs() { x } else { m });
            let norm = re.iter().map(|x| x * x).sum::<f64>().sqrt();
            let s = if big < 0.0 { -1.0 } else { 1.0 } / norm;
            re.iter().map(|x| s * x).collect()
        })
        .collect();
    Ok(Pca {
        mean,
        components,
        variances,
    })
}

/// How the reduced digits were made and what they hold.
#[derive(Clone, Debug, PartialEq)]
pub struct DigitsPca {
    /// The reduced data set: comment lines saying how it was made, a header `pc1,…,pck,class`,
    /// one row per kept image.
    pub csv: String,
    /// The projection (fitted on the kept images only).
    pub pca: Pca,
    /// Rows kept per class, in the order of the classes asked for.
    pub rows_per_class: Vec<usize>,
}

/// Reduces the digits CSV `text` (header `p0,…,p63,class`): keeps the first `per_class` images
/// of each of `classes` (in file order), fits [`pca`] with `k` components on them and writes
/// their coordinates, 6 decimals, with the class.
///
/// # Errors
/// [`DigitsError::Csv`] for a malformed file, [`DigitsError::Shape`] if a class has fewer
/// than `per_class` images, [`DigitsError::Solver`] from the eigensolver.
pub fn digits_pca_csv(
    text: &str,
    classes: &[u32],
    per_class: usize,
    k: usize,
) -> Result<DigitsPca, DigitsError> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
    let (_, header) = lines.next().ok_or(DigitsError::Csv {
        line: 1,
        problem: "no header".into(),
    })?;
    let cols: Vec<&str> = header.split(',').map(str::trim).collect();
    if cols.last() != Some(&"class") || cols.len() < 2 {
        return Err(DigitsError::Csv {
            line: 1,
            problem: "the last column is not `class`".into(),
        });
    }
    let d = cols.len() - 1;
    let mut rows: Vec<Vec<f64>> = Vec::new();
    let mut labels: Vec<u32> = Vec::new();
    let mut count = vec![0usize; classes.len()];
    for (i, l) in lines {
        let f: Vec<&str> = l.split(',').map(str::trim).collect();
        let bad = |problem: String| DigitsError::Csv {
            line: i + 1,
            problem,
        };
        if f.len() != d + 1 {
            return Err(bad(format!("{} fields, the header has {}", f.len(), d + 1)));
        }
        let c: u32 = f[d]
            .parse()
            .map_err(|_| bad(format!("class `{}` is not a digit", f[d])))?;
        let Some(slot) = classes.iter().position(|&x| x == c) else {
            continue;
        };
        if count[slot] >= per_class {
            continue;
        }
        let row = f[..d]
            .iter()
            .map(|x| {
                x.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| bad(format!("`{x}` is not a number")))
            })
            .collect::<Result<Vec<f64>, _>>()?;
        count[slot] += 1;
        rows.push(row);
        labels.push(c);
    }
    if let Some(i) = count.iter().position(|&c| c < per_class) {
        return Err(DigitsError::Shape(format!(
            "class {} has {} images, {per_class} asked for",
            classes[i], count[i]
        )));
    }
    let p = pca(&rows, k)?;
    let mut csv = String::new();
    let _ = writeln!(
        csv,
        "# The 8×8 digits (UCI optical recognition of handwritten digits, the copy in \
         data/digits.csv), classes {classes:?}: the first {per_class} images of each in file \
         order, projected on the {k} leading principal components of their pixel covariance \
         (fitted on these {} images; {:.1} % of the variance). Written by `qep reproduce` \
         (qep::study::digits::digits_pca_csv).",
        rows.len(),
        100.0 * p.explained()
    );
    let names: Vec<String> = (1..=k).map(|j| format!("pc{j}")).collect();
    let _ = writeln!(csv, "{},class", names.join(","));
    for (r, c) in rows.iter().zip(&labels) {
        let x: Vec<String> = p.project(r).iter().map(|v| format!("{v:.6}")).collect();
        let _ = writeln!(csv, "{},{c}", x.join(","));
    }
    Ok(DigitsPca {
        csv,
        pca: p,
        rows_per_class: count,
    })
}

/// Per epoch, the mean and sample standard deviation over runs of one quantity (`runs[r][e]`
/// = epoch `e + 1` of run `r`), over the epochs every run has.
pub fn mean_curve(runs: &[Vec<f64>]) -> Vec<(f64, f64)> {
    let epochs = runs.iter().map(Vec::len).min().unwrap_or(0);
    (0..epochs)
        .filter_map(|e| {
            let xs: Vec<f64> = runs.iter().map(|r| r[e]).collect();
            super::reproduce::mean_std(&xs)
        })
        .collect()
}

/// One gradient estimator's learning curves: its label and, per seed, the train and the test
/// accuracy of each epoch.
pub type Estimator = (String, Vec<Vec<f64>>, Vec<Vec<f64>>);

/// The learning-curve chart of the digits study (`digits.svg`, `digits.png`): train and test
/// accuracy against the epoch, means over seeds (± the standard deviation on the test
/// curves), for each gradient
/// estimator `(label, train runs, test runs)` (e.g. exact and from S shots).
pub fn learning_chart(title: &str, estimators: &[Estimator]) -> Chart {
    let mut curves = Vec::new();
    for (label, train, test) in estimators {
        for (what, runs) in [("test", test), ("train", train)] {
            let c = mean_curve(runs);
            let points = c
                .iter()
                .enumerate()
                .map(|(e, m)| ((e + 1) as f64, m.0))
                .collect();
            // Error bars on the test curves only: four sets of bars would hide the curves.
            let curve = Curve::new(format!("{label}, {what}"), points);
            curves.push(if what == "test" {
                curve.with_errors(c.iter().map(|m| m.1).collect())
            } else {
                curve
            });
        }
    }
    Chart {
        title: title.to_string(),
        x_label: "epoch".into(),
        y_label: "accuracy (mean over seeds; test ± std)".into(),
        log_x: false,
        log_y: false,
        y_range: None,
        curves,
    }
}
