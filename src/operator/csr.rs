//! Explicit matrices derived from the operator: sprs CSR, dense, and Matrix Market text.

use std::io::Write;

use sprs::CsMat;

use crate::scalar::C64;
use crate::state::memory;

use super::xmask::{Diagonal, XMaskOperator};
use super::OperatorError;

/// Largest qubit count for which [`XMaskOperator::to_dense`] is allowed (2^12 × 2^12 × 16 B = 256 MiB).
pub const DENSE_MAX_QUBITS: usize = 12;

impl XMaskOperator {
    /// The entries of row `b`: `(column, value)` with `H[b, b ⊕ x] = Σ_t e_t (−1)^{|z_t∧b|}`,
    /// columns ascending, exact zeros dropped.
    pub fn row(&self, b: usize) -> Vec<(usize, C64)> {
        let mut row: Vec<(usize, C64)> = Vec::with_capacity(self.groups.len() + 1);
        let d = self.diagonal_entry(b);
        if !matches!(self.diag, Diagonal::Zero) && d != C64::new(0.0, 0.0) {
            row.push((b, d));
        }
        for g in &self.groups {
            let mut v = C64::new(0.0, 0.0);
            for &(z, e) in &g.terms_c {
                if (z & b as u64).count_ones() & 1 == 0 {
                    v += e;
                } else {
                    v -= e;
                }
            }
            if v != C64::new(0.0, 0.0) {
                row.push((b ^ g.x as usize, v));
            }
        }
        row.sort_by_key(|&(c, _)| c);
        row
    }

    /// The operator as a complex CSR matrix (sprs), rows = output index.
    ///
    /// # Errors
    /// [`OperatorError::TooLarge`] if the matrix would not fit in memory.
    pub fn to_csr(&self) -> Result<CsMat<C64>, OperatorError> {
        let dim = self.dim();
        let nnz_max = dim.saturating_mul(self.groups.len() + 1);
        memory::check_alloc(nnz_max.saturating_mul(16 + 8) + dim * 8, "CSR matrix")?;
        let mut indptr = Vec::with_capacity(dim + 1);
        let mut indices = Vec::with_capacity(nnz_max);
        let mut data = Vec::with_capacity(nnz_max);
        indptr.push(0);
        for b in 0..dim {
            for (c, v) in self.row(b) {
                indices.push(c);
                data.push(v);
            }
            indptr.push(indices.len());
        }
        Ok(CsMat::new((dim, dim), indptr, indices, data))
    }

    /// The operator as a dense row-major matrix (`dim × dim`), for tests and small systems.
    ///
    /// # Errors
    /// [`OperatorError::DenseTooLarge`] above [`DENSE_MAX_QUBITS`] qubits.
    pub fn to_dense(&self) -> Result<Vec<C64>, OperatorError> {
        if self.n > DENSE_MAX_QUBITS {
            return Err(OperatorError::DenseTooLarge {
                qubits: self.n,
                max: DENSE_MAX_QUBITS,
            });
        }
        let dim = self.dim();
        let mut m = vec![C64::new(0.0, 0.0); dim * dim];
        for b in 0..dim {
            for (c, v) in self.row(b) {
                m[b * dim + c] += v;
            }
        }
        Ok(m)
    }

    /// Writes the operator in Matrix Market coordinate format (1-based, `real` when the
    /// operator is real, else `complex`; `general` storage), readable by
    /// `scipy.io.mmread`. Written by hand rather than with `sprs::io` to stream rows without
    /// building the CSR first and to print 17 significant digits.
    ///
    /// # Errors
    /// I/O errors of `w`.
    pub fn write_matrix_market<W: Write>(&self, w: &mut W) -> std::io::Result<()> {
        let dim = self.dim();
        let nnz: usize = (0..dim).map(|b| self.row(b).len()).sum();
        let field = if self.real { "real" } else { "complex" };
        writeln!(w, "%%MatrixMarket matrix coordinate {field} general")?;
        writeln!(
            w,
            "% qep {}: {} qubits, qubit i = bit i of the basis index",
            env!("CARGO_PKG_VERSION"),
            self.n
        )?;
        writeln!(w, "{dim} {dim} {nnz}")?;
        for b in 0..dim {
            for (c, v) in self.row(b) {
                if self.real {
                    writeln!(w, "{} {} {:.17e}", b + 1, c + 1, v.re)?;
                } else {
                    writeln!(w, "{} {} {:.17e} {:.17e}", b + 1, c + 1, v.re, v.im)?;
                }
            }
        }
        Ok(())
    }
}
