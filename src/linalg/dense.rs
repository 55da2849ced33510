//! Dense Hermitian eigensolver (faer): the exact oracle for small systems.

use faer::{Mat, Side};

use crate::operator::{OperatorError, XMaskOperator};
use crate::scalar::C64;

use super::SolverError;

/// All eigenpairs of a dense Hermitian matrix (row-major `dim × dim`), energies ascending,
/// eigenvectors as columns returned one `Vec` each. Only the lower triangle is read.
///
/// # Errors
/// [`SolverError::Dense`] if faer's QR iteration fails to converge.
pub fn eigh_dense(m: &[C64], dim: usize) -> Result<(Vec<f64>, Vec<Vec<C64>>), SolverError> {
    assert_eq!(m.len(), dim * dim, "matrix is not dim × dim");
    let a = Mat::<C64>::from_fn(dim, dim, |i, j| m[i * dim + j]);
    let evd = a
        .self_adjoint_eigen(Side::Lower)
        .map_err(|e| SolverError::Dense {
            detail: format!("{e:?}"),
        })?;
    let s = evd.S().column_vector();
    let u = evd.U();
    let energies: Vec<f64> = (0..dim).map(|i| s[i].re).collect();
    let vectors = (0..dim)
        .map(|j| (0..dim).map(|i| u[(i, j)]).collect())
        .collect();
    Ok((energies, vectors))
}

/// Eigenvalues and eigenvectors of a real symmetric tridiagonal matrix (diagonal `alpha`,
/// off-diagonal `beta`, `beta.len() = alpha.len() − 1`): the Lanczos projection. Ascending.
pub fn eigh_tridiagonal(alpha: &[f64], beta: &[f64]) -> Result<(Vec<f64>, Mat<f64>), SolverError> {
    let m = alpha.len();
    let t = Mat::<f64>::from_fn(m, m, |i, j| {
        if i == j {
            alpha[i]
        } else if i == j + 1 {
            beta[j]
        } else if j == i + 1 {
            beta[i]
        } else {
            0.0
        }
    });
    let evd = t
        .self_adjoint_eigen(Side::Lower)
        .map_err(|e| SolverError::Dense {
            detail: format!("{e:?}"),
        })?;
    let s = evd.S().column_vector();
    Ok(((0..m).map(|i| s[i]).collect(), evd.U().to_owned()))
}

/// Eigenvalues (ascending) of the symmetric tridiagonal matrix with diagonal `alpha` and
/// off-diagonal `beta` (its first `alpha.len() − 1` entries), with the last component of each
/// normalised eigenvector (up to sign): all a Lanczos convergence check needs (the residual
/// estimates `β |s_{n−1,i}|`), in `O(n²)` operations.
///
/// Implicit QL with Wilkinson shifts (the EISPACK `tql2` iteration), tracking only the last
/// row of the accumulated rotations, as Golub and Welsch do for the first row. Written here
/// because a dense eigensolver forms every eigenvector: faer's takes 70 µs at 32 × 32 and
/// 18 µs at 16 × 16, and a 12-qubit EP gradient checks convergence on projections of up to
/// 60 vectors some 25 times, which made faer's functions over a third of the samples of a
/// loop of such gradients (whole `qep grad --no-exact` at 12 qubits, medians of 21: phase
/// sensor 12.2 → 10.4 ms, random net 15.6 → 12.4 ms).
///
/// `None` if an eigenvalue takes more than 60 iterations (the caller then uses the dense
/// solver).
pub(crate) fn tridiagonal_values_last(alpha: &[f64], beta: &[f64]) -> Option<(Vec<f64>, Vec<f64>)> {
    let n = alpha.len();
    assert!(
        beta.len() + 1 >= n,
        "{} couplings for {n} diagonal entries",
        beta.len()
    );
    let mut d = alpha.to_vec();
    // e[i] couples i and i + 1; e[n − 1] = 0.
    let mut e: Vec<f64> = (0..n)
        .map(|i| if i + 1 < n { beta[i] } else { 0.0 })
        .collect();
    let mut z = vec![0.0f64; n];
    if n == 0 {
        return Some((d, z));
    }
    z[n - 1] = 1.0;
    for l in 0..n {
        let mut iter = 0;
        loop {
            // The first negligible coupling at or after l ends the unreduced block.
            let mut m = l;
            while m + 1 < n {
                let dd = d[m].abs() + d[m + 1].abs();
                if e[m].abs() <= f64::EPSILON * dd {
                    break;
                }
                m += 1;
            }
            if m == l {
                break;
            }
            iter += 1;
            if iter > 60 {
                return None;
            }
            // Wilkinson shift from the leading 2 × 2 block, then the chase from m up to l.
            let mut g = (d[l + 1] - d[l]) / (2.0 * e[l]);
            let mut r = pythag(g, 1.0);
            g = d[m] - d[l] + e[l] / (g + r.copysign(g));
            let (mut s, mut c, mut p) = (1.0f64, 1.0f64, 0.0f64);
            let mut i = m;
            let mut deflated = false;
            while i > l {
                i -= 1;
                let f = s * e[i];
                let b = c * e[i];
                r = pythag(f, g);
                e[i + 1] = r;
                if r == 0.0 {
                    // Underflow: the block splits here; start over on it.
                    d[i + 1] -= p;
                    e[m] = 0.0;
                    deflated = true;
                    break;
                }
                s = f / r;
                c = g / r;
                g = d[i + 1] - p;
                r = (d[i] - g) * s + 2.0 * c * b;
                p = s * r;
                d[i + 1] = g + p;
                g = c * r - b;
                // The rotation on columns i, i + 1 of the eigenvector matrix, last row only.
                let zf = z[i + 1];
                z[i + 1] = s * z[i] + c * zf;
                z[i] = c * z[i] - s * zf;
            }
            if deflated {
                continue;
            }
            d[l] -= p;
            e[l] = g;
            e[m] = 0.0;
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| d[a].total_cmp(&d[b]));
    Some((
        order.iter().map(|&i| d[i]).collect(),
        order.iter().map(|&i| z[i]).collect(),
    ))
}

/// `√(a² + b²)`: the plain formula, which cannot overflow on a Lanczos projection (entries
/// of the order of the operator's norm), with `hypot` (careful, and slow: it was most of the
/// QL iteration's time) only when the squares overflow.
#[inline]
fn pythag(a: f64, b: f64) -> f64 {
    let r = (a * a + b * b).sqrt();
    if r.is_finite() {
        r
    } else {
        a.hypot(b)
    }
}

/// Eigenvalues (ascending) and eigenvectors (columns) of the leading `n × n` block of a real
/// symmetric matrix stored row-major with row stride `stride`: the projection of a
/// thick-restarted Lanczos run (an arrowhead block followed by a tridiagonal one). Only the
/// lower triangle is read.
///
/// # Errors
/// [`SolverError::Dense`] if faer's QR iteration fails to converge.
pub(crate) fn eigh_symmetric(
    t: &[f64],
    stride: usize,
    n: usize,
) -> Result<(Vec<f64>, Mat<f64>), SolverError> {
    let a = Mat::<f64>::from_fn(n, n, |i, j| t[i * stride + j]);
    let evd = a
        .self_adjoint_eigen(Side::Lower)
        .map_err(|e| SolverError::Dense {
            detail: format!("{e:?}"),
        })?;
    let s = evd.S().column_vector();
    Ok(((0..n).map(|i| s[i]).collect(), evd.U().to_owned()))
}

/// The full spectrum of an operator on ≤ 12 qubits by dense diagonalisation.
///
/// # Errors
/// [`SolverError::Operator`] above 12 qubits; [`SolverError::Dense`] on failure.
pub fn dense_spectrum(op: &XMaskOperator) -> Result<(Vec<f64>, Vec<Vec<C64>>), SolverError> {
    let m = op
        .to_dense()
        .map_err(|e: OperatorError| SolverError::Operator(e))?;
    eigh_dense(&m, op.dim())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Eigenvalues and |last components| against faer's dense eigensolver.
    fn check(d: &[f64], e: &[f64], what: &str) {
        let n = d.len();
        let (vals, last) = tridiagonal_values_last(d, e).expect("converges");
        let (want, vecs) = eigh_tridiagonal(d, e).expect("faer converges");
        let scale = d.iter().chain(e).fold(1.0f64, |m, x| m.max(x.abs()));
        for i in 0..n {
            assert!(
                (vals[i] - want[i]).abs() <= 1e-13 * scale * n as f64,
                "{what}: value {i}: {} vs {}",
                vals[i],
                want[i]
            );
        }
        // The last row of an orthogonal matrix has norm 1.
        let norm: f64 = last.iter().map(|z| z * z).sum();
        assert!(
            (norm - 1.0).abs() < 1e-13,
            "{what}: last row's norm² {norm}"
        );
        // Components of well-separated levels are unique up to sign.
        for i in 0..n {
            let gap = (0..n)
                .filter(|&j| j != i)
                .map(|j| (want[j] - want[i]).abs())
                .fold(f64::INFINITY, f64::min);
            if gap > 1e-3 * scale {
                let z = vecs[(n - 1, i)].abs();
                assert!(
                    (last[i].abs() - z).abs() < 1e-10,
                    "{what}: component {i}: {} vs {z}",
                    last[i]
                );
            }
        }
    }

    #[test]
    fn tridiagonal_values_and_last_components_match_the_dense_solver() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        for n in [1usize, 2, 3, 5, 16, 17, 33, 64] {
            let d: Vec<f64> = (0..n).map(|_| 10.0 * next()).collect();
            let e: Vec<f64> = (1..n).map(|_| 3.0 * next()).collect();
            check(&d, &e, &format!("random n = {n}"));
        }
        // A Lanczos-like projection: growing diagonal, couplings from 1e-9 to 1.
        let d: Vec<f64> = (0..40).map(|i| -20.0 + i as f64 * 0.9).collect();
        let e: Vec<f64> = (1..40).map(|i| 10f64.powi(-(i % 10))).collect();
        check(&d, &e, "graded couplings");
        // Exactly split blocks (zero couplings) and a zero matrix.
        check(&[1.0, 2.0, 3.0, 4.0], &[0.5, 0.0, 0.25], "split");
        check(&[0.0; 6], &[0.0; 5], "zero");
        // Wilkinson's W21+: pairs of eigenvalues agreeing to 1e-13 and more.
        let d: Vec<f64> = (0..21).map(|i: i32| (10 - i).abs() as f64).collect();
        check(&d, &[1.0; 20], "W21+");
        // The path graph: eigenvalues 2 cos(kπ/(n+1)), last components known in closed form.
        let n = 30;
        let (vals, last) =
            tridiagonal_values_last(&vec![0.0; n], &vec![1.0; n - 1]).expect("converges");
        let h = std::f64::consts::PI / (n + 1) as f64;
        for k in 1..=n {
            // Ascending: the k-th from the top is 2 cos(kh); its vector's entries are
            // sqrt(2/(n+1)) sin(j k h), the last (j = n) sqrt(2/(n+1)) sin(n k h).
            let i = n - k;
            assert!(
                (vals[i] - 2.0 * (k as f64 * h).cos()).abs() < 1e-13,
                "path {k}"
            );
            let want = (2.0 / (n + 1) as f64).sqrt() * (n as f64 * k as f64 * h).sin();
            assert!(
                (last[i].abs() - want.abs()).abs() < 1e-13,
                "path component {k}"
            );
        }
    }
}
