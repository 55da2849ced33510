//! `H + s·D` for a diagonal Pauli sum `D`: the clamped Hamiltonians of EP from the free one.

use crate::pauli::PauliSum;
use crate::scalar::C64;
use crate::state::memory;

use super::xmask::{compute_diagonal, Diagonal, XMaskOperator};
use super::OperatorError;

impl XMaskOperator {
    /// `H + s·D` as an operator of its own, for a `D` made of Z strings and the identity only
    /// (EP's cost operator, Eq. 18): the same groups, tables and pass plan as `H`, with `s`
    /// times `D`'s diagonal added to `H`'s. The clamped Hamiltonians `H(±β) = H(0) ± βC` of a
    /// gradient (Eq. 28) are built from the free one this way: one pass over the diagonal
    /// instead of compiling the whole sum again (at 16 qubits that took as long as 13
    /// products). The result equals `XMaskOperator::new(H + s·D)` up to the rounding of the
    /// diagonal's sum, which is added in another order (`H`'s terms, then `D`'s).
    /// [`XMaskOperator::n_terms`] counts `D`'s terms as new, and [`XMaskOperator::norm_bound`]
    /// adds `|s|·Σ|d|`: both bounds where a term of `D` merges with one of `H`.
    ///
    /// # Errors
    /// [`OperatorError::NotDiagonal`] if `D` has an X or Y letter or another qubit count;
    /// [`OperatorError::TooLarge`] if the new diagonal does not fit in memory.
    ///
    /// # Examples
    /// ```
    /// use qep::operator::XMaskOperator;
    /// use qep::pauli::{PauliString, PauliSum};
    /// let mut h = PauliSum::new(1);
    /// h.add(PauliString::parse("X0")?, 1.0);
    /// let mut c = PauliSum::new(1);
    /// c.add(PauliString::parse("Z0")?, 0.5);
    /// let op = XMaskOperator::new(&h)?.plus_diagonal(2.0, &c)?; // X0 + Z0
    /// let mut out = [0.0; 2];
    /// op.apply_into(&[1.0, 3.0], &mut out);
    /// assert_eq!(out, [3.0 + 1.0, 1.0 - 3.0]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn plus_diagonal(&self, s: f64, d: &PauliSum) -> Result<Self, OperatorError> {
        if d.qubits() != self.n || d.terms().iter().any(|(p, _)| p.x() != 0) {
            return Err(OperatorError::NotDiagonal);
        }
        // A Z string's matrix entry ⟨b|Z_z|b⟩ = (−1)^{|z ∧ b|}: the term's contribution at
        // b is +e or −e, both precomputed.
        let terms: Vec<(u64, C64)> = d
            .terms()
            .iter()
            .filter(|(_, c)| *c != C64::new(0.0, 0.0))
            .map(|&(p, c)| (p.z(), c * s))
            .collect();
        let added_real = terms.iter().all(|(_, e)| e.im == 0.0);
        let (n, zero) = (self.n, C64::new(0.0, 0.0));
        let complex = !added_real || matches!(self.diag, Diagonal::Complex(_));
        if !terms.is_empty() || !matches!(self.diag, Diagonal::Zero) {
            let bytes = if complex { 16 } else { 8 };
            memory::check_alloc(self.dim() * bytes, "operator diagonal")?;
        }
        let diag = match (&self.diag, complex) {
            (Diagonal::Zero, _) if terms.is_empty() => Diagonal::Zero,
            (Diagonal::Zero, false) => {
                Diagonal::Real(compute_diagonal(n, |_| 0.0, &terms, |e| e.re))
            }
            (Diagonal::Zero, true) => {
                Diagonal::Complex(compute_diagonal(n, |_| zero, &terms, |e| e))
            }
            (Diagonal::Real(h), false) => {
                Diagonal::Real(compute_diagonal(n, |b| h[b], &terms, |e| e.re))
            }
            (Diagonal::Real(h), true) => {
                Diagonal::Complex(compute_diagonal(n, |b| C64::new(h[b], 0.0), &terms, |e| e))
            }
            (Diagonal::Complex(h), _) => {
                Diagonal::Complex(compute_diagonal(n, |b| h[b], &terms, |e| e))
            }
        };
        let identity: C64 = terms.iter().filter(|(z, _)| *z == 0).map(|&(_, e)| e).sum();
        Ok(Self {
            n: self.n,
            hermitian: self.hermitian && added_real,
            real: self.real && added_real,
            diag,
            groups: self.groups.clone(),
            passes: self.passes.clone(),
            n_terms: self.n_terms + terms.len(),
            identity_shift: self.identity_shift + identity,
            kernel: self.kernel,
            norm_bound: self.norm_bound + terms.iter().map(|(_, e)| e.norm()).sum::<f64>(),
        })
    }
}
