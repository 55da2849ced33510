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
