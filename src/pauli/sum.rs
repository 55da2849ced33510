//! A linear combination of Pauli strings with complex coefficients.

use std::collections::BTreeMap;
use std::fmt;

use num_complex::Complex64 as C64;

use super::{PauliError, PauliString};

/// `Σ_t c_t P_t` on `n` qubits: the one source of truth from which the matrix-free, CSR and
/// dense forms of an operator derive (STYLE.md §1).
///
/// Terms are kept in insertion order until [`PauliSum::simplify`] merges equal strings (summing
/// coefficients), drops coefficients below a tolerance and sorts by `(x, z)`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct PauliSum {
    n: usize,
    terms: Vec<(PauliString, C64)>,
}

impl PauliSum {
    /// The zero operator on `n` qubits.
    ///
    /// # Panics
    /// If `n > 64`.
    #[track_caller]
    pub fn new(n: usize) -> Self {
        assert!(n <= super::MAX_QUBITS, "{n} qubits > 64");
        Self {
            n,
            terms: Vec::new(),
        }
    }

    /// Number of qubits the operator acts on.
    pub fn qubits(&self) -> usize {
        self.n
    }

    /// The terms `(P_t, c_t)`.
    pub fn terms(&self) -> &[(PauliString, C64)] {
        &self.terms
    }

    /// Number of stored terms.
    pub fn len(&self) -> usize {
        self.terms.len()
    }

    /// Whether there are no terms (the zero operator).
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Adds `c · P`.
    ///
    /// # Errors
    /// [`PauliError::QubitOutOfRange`] if `P` acts on a qubit `≥ n`.
    pub fn try_add(&mut self, p: PauliString, c: C64) -> Result<(), PauliError> {
        if p.min_qubits() > self.n {
            return Err(PauliError::QubitOutOfRange {
                qubit: p.min_qubits() - 1,
                limit: self.n,
            });
        }
        self.terms.push((p, c));
        Ok(())
    }

    /// Adds `c · P`.
    ///
    /// # Panics
    /// If `P` acts on a qubit `≥ n` (a caller bug; use [`PauliSum::try_add`] for input).
    /// # Examples
    /// ```
    /// use qep::pauli::{PauliString, PauliSum};
    /// let mut h = PauliSum::new(2);
    /// h.add(PauliString::parse("Z0 Z1")?, -1.0);
    /// h.add(PauliString::parse("X0")?, -0.5);
    /// h.add(PauliString::parse("X0")?, -0.5); // merges with the equal string
    /// h.simplify(1e-12);
    /// assert_eq!(h.len(), 2);
    /// assert!(h.is_hermitian(1e-12));
    /// assert_eq!(h.norm_bound(), 2.0);
    /// # Ok::<(), qep::pauli::PauliError>(())
    /// ```
    #[track_caller]
    pub fn add(&mut self, p: PauliString, c: impl Into<C64>) {
        let c = c.into();
        if let Err(e) = self.try_add(p, c) {
            panic!("{e}");
        }
    }

    /// Adds every term of `other` scaled by `s`.
    ///
    /// # Panics
    /// If the qubit counts differ.
    #[track_caller]
    pub fn add_sum(&mut self, other: &PauliSum, s: C64) {
        assert_eq!(self.n, other.n, "qubit counts differ");
        self.terms
            .extend(other.terms.iter().map(|&(p, c)| (p, c * s)));
    }

    /// Merges equal strings, drops terms with `|c| ≤ tol` and sorts by `(x, z)`.
    pub fn simplify(&mut self, tol: f64) {
        let mut map: BTreeMap<(u64, u64), C64> = BTreeMap::new();
        for &(p, c) in &self.terms {
            *map.entry((p.x(), p.z())).or_default() += c;
        }
        self.terms = map
            .into_iter()
            .filter(|(_, c)| c.norm() > tol)
            .map(|((x, z), c)| (PauliString::from_masks(x, z), c))
            .collect();
    }

    /// A simplified copy (see [`PauliSum::simplify`]).
    pub fn simplified(&self, tol: f64) -> Self {
        let mut s = self.clone();
        s.simplify(tol);
        s
    }

    /// Whether the operator is Hermitian: every Pauli string is Hermitian, so after merging,
    /// all coefficients must be real (within `tol`).
    pub fn is_hermitian(&self, tol: f64) -> bool {
        self.simplified(0.0)
            .terms
            .iter()
            .all(|(_, c)| c.im.abs() <= tol)
    }

    /// The largest imaginary part among merged coefficients and its string, if any is
    /// non-zero (for error messages about non-Hermitian input).
    pub fn worst_imaginary(&self) -> Option<(PauliString, f64)> {
        self.simplified(0.0)
            .terms
            .iter()
            .map(|&(p, c)| (p, c.im))
            .filter(|(_, im)| *im != 0.0)
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
    }

    /// The adjoint `Σ c̄_t P_t` (every Pauli string is Hermitian).
    pub fn adjoint(&self) -> Self {
        Self {
            n: self.n,
            terms: self.terms.iter().map(|&(p, c)| (p, c.conj())).collect(),
        }
    }

    /// The product `self · rhs`, simplified with tolerance 0.
    ///
    /// # Panics
    /// If the qubit counts differ.
    #[track_caller]
    pub fn product(&self, rhs: &PauliSum) -> Self {
        assert_eq!(self.n, rhs.n, "qubit counts differ");
        let mut out = Self::new(self.n);
        for &(p, a) in &self.terms {
            for &(q, b) in &rhs.terms {
                let (ph, r) = p.product(q);
                out.terms.push((r, a * b * ph.to_complex()));
            }
        }
        out.simplify(0.0);
        out
    }

    /// Whether `H·ψ` has real entries for real `ψ`: every term's effective coefficient
    /// `c · i^{n_Y}` is real (within `tol`). Such operators admit the real-arithmetic path.
    pub fn is_real_in_z_basis(&self, tol: f64) -> bool {
        self.simplified(0.0).terms.iter().all(|&(p, c)| {
            let e = c * super::Phase((p.n_y() % 4) as u8).to_complex();
            e.im.abs() <= tol
        })
    }

    /// Sum of `|c_t|`: an upper bound on the spectral norm.
    pub fn norm_bound(&self) -> f64 {
        self.terms.iter().map(|(_, c)| c.norm()).sum()
    }

    /// Action on a basis state `|b⟩`: the list of `(amplitude, b')` with `H|b⟩ = Σ amp |b'⟩`
    /// (one entry per term, not merged).
    pub fn apply_to_basis(&self, b: u64) -> Vec<(C64, u64)> {
        self.terms
            .iter()
            .map(|&(p, c)| {
                let (ph, b2) = p.apply_to_basis(b);
                (c * ph.to_complex(), b2)
            })
            .collect()
    }

    /// Distinct X-masks among the terms (the number of permutation groups of the operator).
    pub fn x_masks(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self.terms.iter().map(|(p, _)| p.x()).collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

impl fmt::Display for PauliSum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.terms.is_empty() {
            return f.write_str("0");
        }
        for (i, (p, c)) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(" + ")?;
            }
            if c.im == 0.0 {
                write!(f, "{} [{}]", c.re, p)?;
            } else {
                write!(f, "({}{:+}i) [{}]", c.re, c.im, p)?;
            }
        }
        Ok(())
    }
}
