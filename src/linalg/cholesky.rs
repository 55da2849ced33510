//! The Cholesky factorisation `A = L Lᵀ` of a small dense symmetric matrix and the solve
//! `L Lᵀ x = b`: the one copy the classical network's Newton steps, its implicit gradient
//! (Eq. 49) and the low-temperature expansion (Eq. 44–51) share.
//!
//! Hand-written rather than faer's: the systems are tiny (`n ≤ 64` units), one per Newton
//! step, and the failing pivot is itself what callers need (the positive-definiteness test of
//! a minimum, and with the partial factor a direction of negative curvature).

/// A Cholesky factorisation that stopped: the pivot at `index` was `pivot ≤ 0` (or NaN), so
/// the matrix is not positive definite; `factor` holds the first `index` columns of `L`.
#[derive(Clone, Debug, thiserror::Error)]
#[error("Cholesky: pivot {index} is {pivot:e}; the matrix is not positive definite")]
pub struct NotPositiveDefinite {
    /// The row/column whose pivot failed.
    pub index: usize,
    /// `A_jj − Σ_{k<j} L_jk²` at that row (≤ 0 or NaN).
    pub pivot: f64,
    /// The partial factor, row-major `n × n`, columns `0..index` filled.
    pub factor: Vec<f64>,
}

/// The lower Cholesky factor `L` (row-major `n × n`) of a symmetric row-major `n × n`
/// matrix, `A = L Lᵀ` (only the lower triangle of `A` is read). Cost `n³/3` flops.
///
/// # Errors
/// [`NotPositiveDefinite`] with the first pivot that is not positive.
///
/// # Panics
/// If `a.len() != n²` (a caller bug).
#[track_caller]
pub fn cholesky(a: &[f64], n: usize) -> Result<Vec<f64>, NotPositiveDefinite> {
    assert_eq!(a.len(), n * n, "matrix is not {n} × {n}");
    let mut l = vec![0.0; n * n];
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= l[j * n + k] * l[j * n + k];
        }
        if d.is_nan() || d <= 0.0 {
            return Err(NotPositiveDefinite {
                index: j,
                pivot: d,
                factor: l,
            });
        }
        let ljj = d.sqrt();
        l[j * n + j] = ljj;
        for i in j + 1..n {
            let mut v = a[i * n + j];
            for k in 0..j {
                v -= l[i * n + k] * l[j * n + k];
            }
            l[i * n + j] = v / ljj;
        }
    }
    Ok(l)
}

/// Solves `L Lᵀ x = b` for the factor `L` of [`cholesky`]: forward substitution with `L`,
/// back substitution with `Lᵀ`. Cost `2n²` flops.
///
/// # Panics
/// If `l.len() != n²` or `b.len() != n` (a caller bug).
#[track_caller]
pub fn solve_cholesky(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    assert_eq!(l.len(), n * n, "factor is not {n} × {n}");
    assert_eq!(b.len(), n, "right-hand side has length {} ≠ {n}", b.len());
    let mut y = b.to_vec();
    for i in 0..n {
        for k in 0..i {
            y[i] -= l[i * n + k] * y[k];
        }
        y[i] /= l[i * n + i];
    }
    for i in (0..n).rev() {
        for k in i + 1..n {
            y[i] -= l[k * n + i] * y[k];
        }
        y[i] /= l[i * n + i];
    }
    y
}
