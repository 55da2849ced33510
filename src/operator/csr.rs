//! Explicit matrices derived from the operator: sprs CSR, dense, and Matrix Market text.

use std::io::Write;

use sprs::CsMat;

use crate::pauli::PauliSum;
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

/// Widest `{:.17e}` rendering of an `f64`: sign, 19 mantissa characters, `e`, exponent `-308`.
const MTX_VALUE_BYTES: u128 = 25;

/// Groups whose terms touch at most this many distinct Z bits are counted exactly.
const EXACT_Z_BITS: u32 = 16;

/// The bytes [`XMaskOperator::write_matrix_market`] writes for `sum`, estimated from the
/// Pauli terms alone (nothing of size 2^N is built, so it is instant at any qubit count).
///
/// Row `b` of the group with X-mask `x` holds `Σ_t e_t (−1)^{|z_t∧b|}`, which depends only on
/// the bits of `b` under `U = ∨_t z_t`: when `U` has at most 16 bits, every pattern of those
/// bits is evaluated, giving the exact number of non-zero entries (terms that cancel, as
/// XX + YY does on aligned spins, are not counted) and their exact printed widths. Larger
/// groups (a diagonal over many qubits) count one entry per row at the widest value (25 bytes),
/// an upper bound. Row and column indices count their average decimal width over all rows.
/// Within 1 % of the real size when every group is exact.
pub fn matrix_market_bytes(sum: &PauliSum) -> u128 {
    let n = sum.qubits();
    let dim: u128 = 1u128 << n;
    let real = sum.is_real_in_z_basis(0.0);
    let mut groups: std::collections::BTreeMap<u64, Vec<(u64, C64)>> = Default::default();
    for &(p, c) in sum.simplified(0.0).terms() {
        let sign = if (p.z() & p.x()).count_ones() % 2 == 1 {
            -1.0
        } else {
            1.0
        };
        let e = c * crate::pauli::Phase((p.n_y() % 4) as u8).to_complex() * sign;
        groups.entry(p.x()).or_default().push((p.z(), e));
    }
    let width = |v: f64| format!("{v:.17e}").len() as u128;
    let (mut entries, mut value_bytes) = (0u128, 0u128);
    for terms in groups.values() {
        let u = terms.iter().fold(0u64, |a, &(z, _)| a | z);
        if u.count_ones() > EXACT_Z_BITS {
            entries += dim;
            value_bytes += dim
                * if real {
                    MTX_VALUE_BYTES
                } else {
                    2 * MTX_VALUE_BYTES
                };
            continue;
        }
        let mult = dim >> u.count_ones();
        // Every sub-mask `a` of `u`, from 0 up (the standard sub-mask walk).
        let mut a = 0u64;
        loop {
            let v: C64 = terms
                .iter()
                .map(|&(z, e)| {
                    if (z & a).count_ones().is_multiple_of(2) {
                        e
                    } else {
                        -e
                    }
                })
                .sum();
            if v != C64::new(0.0, 0.0) {
                entries += mult;
                value_bytes += mult * (width(v.re) + if real { 0 } else { width(v.im) });
            }
            a = a.wrapping_sub(u) & u;
            if a == 0 {
                break;
            }
        }
    }
    // Σ_{b=1..dim} (decimal digits of b): the index bytes of one entry per row.
    let mut digits: u128 = 0;
    let (mut lo, mut d) = (1u128, 1u128);
    while lo <= dim {
        let hi = (lo * 10 - 1).min(dim);
        digits += (hi - lo + 1) * d;
        lo *= 10;
        d += 1;
    }
    let index_bytes = (entries * 2 * digits).div_ceil(dim);
    // Separators and newline: `r c v\n`, plus one space before the imaginary part.
    let separators = entries * if real { 3 } else { 4 };
    let header = format!(
        "%%MatrixMarket matrix coordinate {} general\n% qep {}: {n} qubits, qubit i = bit i of \
         the basis index\n{dim} {dim} {entries}\n",
        if real { "real" } else { "complex" },
        env!("CARGO_PKG_VERSION"),
    );
    header.len() as u128 + index_bytes + value_bytes + separators
}
