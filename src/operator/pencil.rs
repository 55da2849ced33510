//! A two-operator pencil `w_a A + w_b B` whose weights change without rebuilding the operator:
//! the workhorse of adiabatic sweeps `H(s) = (1 − s) H_start + s H_target`, where the weights
//! change at every time step but the X-masks (and so the cache-blocked pass plan) never do.

use rayon::prelude::*;

use crate::pauli::{PauliString, PauliSum, Phase};
use crate::scalar::C64;
use crate::state::memory;

use super::xmask::{compute_diagonal, tile_bits, Diagonal};
use super::{OperatorError, XMaskOperator};

/// `w_a A + w_b B` as an [`XMaskOperator`] over the union of the two operators' Pauli strings.
///
/// [`Pencil::set_weights`] rewrites the group coefficients (a few numbers) and the diagonal
/// (one streaming pass over `2^n` reals, skipped when only one side has diagonal terms and it
/// is the only one that changes scale), so a new point of the sweep costs about a third of one
/// `H·ψ` instead of a full rebuild.
#[derive(Clone, Debug)]
pub struct Pencil {
    op: XMaskOperator,
    /// Per group, per term: the effective coefficients `(e_a, e_b)` of the string in `A`, `B`.
    coeffs: Vec<Vec<(C64, C64)>>,
    diag_a: Option<Vec<C64>>,
    diag_b: Option<Vec<C64>>,
    shift: (C64, C64),
    /// `(Σ|a_t|, Σ|b_t|)`: the operator's norm bound is `|w_a| Σ|a| + |w_b| Σ|b|`.
    norms: (f64, f64),
    weights: (f64, f64),
}

/// `e = c · i^{n_Y} · (−1)^{|z ∧ x|}`: the gather-form coefficient the kernels use.
fn effective(p: PauliString, c: C64) -> C64 {
    let sign = if (p.z() & p.x()).count_ones() % 2 == 1 {
        -1.0
    } else {
        1.0
    };
    c * Phase((p.n_y() % 4) as u8).to_complex() * sign
}

impl Pencil {
    /// Prepares `w_a A + w_b B` for any later weights; starts at `(w_a, w_b) = (1, 0)`.
    ///
    /// Memory: the diagonals of `A` and `B` (`2^n` complex each, when present) plus the
    /// operator's own, checked before allocating.
    ///
    /// # Errors
    /// [`OperatorError::TooLarge`] if the diagonals do not fit.
    ///
    /// # Panics
    /// If `A` and `B` act on different numbers of qubits (a caller bug).
    #[track_caller]
    pub fn new(a: &PauliSum, b: &PauliSum) -> Result<Self, OperatorError> {
        assert_eq!(
            a.qubits(),
            b.qubits(),
            "pencil of operators on different qubits"
        );
        let n = a.qubits();
        let (a, b) = (a.simplified(0.0), b.simplified(0.0));
        // The union of strings with nonzero coefficients, so no term cancels by accident.
        let mut union = PauliSum::new(n);
        for &(p, _) in a.terms().iter().chain(b.terms()) {
            union.add(p, 1.0);
        }
        let mut op = XMaskOperator::new(&union)?;
        let lookup = |s: &PauliSum, p: PauliString| -> C64 {
            s.terms()
                .iter()
                .find(|(q, _)| *q == p)
                .map_or(C64::new(0.0, 0.0), |&(q, c)| effective(q, c))
        };
        let coeffs: Vec<Vec<(C64, C64)>> = op
            .groups
            .iter()
            .map(|g| {
                g.terms_c
                    .iter()
                    .map(|&(z, _)| {
                        let p = PauliString::from_masks(g.x, z);
                        (lookup(&a, p), lookup(&b, p))
                    })
                    .collect()
            })
            .collect();
        let diag_of = |s: &PauliSum| -> Result<Option<Vec<C64>>, OperatorError> {
            let terms: Vec<(u64, C64)> = s
                .terms()
                .iter()
                .filter(|(p, _)| p.x() == 0)
                .map(|&(p, c)| (p.z(), c))
                .collect();
            if terms.is_empty() {
                return Ok(None);
            }
            memory::check_alloc((1usize << n) * 16, "pencil diagonal")?;
            Ok(Some(compute_diagonal(
                n,
                |_| C64::new(0.0, 0.0),
                &terms,
                |e| e,
            )))
        };
        let diag_a = diag_of(&a)?;
        let diag_b = diag_of(&b)?;
        let shift_of = |s: &PauliSum| {
            s.terms()
                .iter()
                .filter(|(p, _)| p.is_identity())
                .map(|&(_, c)| c)
                .sum::<C64>()
        };
        let real_coeffs = coeffs
            .iter()
            .flatten()
            .all(|(x, y)| x.im == 0.0 && y.im == 0.0)
            && [&diag_a, &diag_b]
                .iter()
                .all(|d| d.as_ref().is_none_or(|d| d.iter().all(|e| e.im == 0.0)));
        op.real = real_coeffs;
        op.hermitian = a.is_hermitian(0.0) && b.is_hermitian(0.0);
        op.n_terms = union.simplified(0.0).len();
        op.passes = op.plan(tile_bits(if op.real { 8 } else { 16 }));
        let mut pencil = Self {
            op,
            coeffs,
            diag_a,
            diag_b,
            shift: (shift_of(&a), shift_of(&b)),
            norms: (a.norm_bound(), b.norm_bound()),
            weights: (f64::NAN, f64::NAN),
        };
        pencil.set_weights(1.0, 0.0);
        Ok(pencil)
    }

    /// Sets the operator to `w_a A + w_b B`.
    pub fn set_weights(&mut self, wa: f64, wb: f64) {
        if self.weights == (wa, wb) {
            return;
        }
        self.weights = (wa, wb);
        let real = self.op.real;
        for (g, cs) in self.op.groups.iter_mut().zip(&self.coeffs) {
            for (j, &(ea, eb)) in cs.iter().enumerate() {
                let e = ea * wa + eb * wb;
                g.terms_c[j].1 = e;
                // Kernels read `terms_r` whenever it is filled (every coefficient real).
                if let Some(r) = g.terms_r.get_mut(j) {
                    r.1 = e.re;
                }
            }
            g.build_tables();
        }
        self.op.identity_shift = self.shift.0 * wa + self.shift.1 * wb;
        self.op.norm_bound = wa.abs() * self.norms.0 + wb.abs() * self.norms.1;
        let dim = self.op.dim();
        let combine = |i: usize| -> C64 {
            let da = self.diag_a.as_ref().map_or(C64::new(0.0, 0.0), |d| d[i]);
            let db = self.diag_b.as_ref().map_or(C64::new(0.0, 0.0), |d| d[i]);
            da * wa + db * wb
        };
        if self.diag_a.is_none() && self.diag_b.is_none() {
            self.op.diag = Diagonal::Zero;
            return;
        }
        const CHUNK: usize = 1 << 14;
        let mut diag = std::mem::replace(&mut self.op.diag, Diagonal::Zero);
        let all_real = real
            || [&self.diag_a, &self.diag_b]
                .iter()
                .all(|d| d.as_ref().is_none_or(|d| d.iter().all(|e| e.im == 0.0)));
        if all_real {
            let mut d = match diag {
                Diagonal::Real(d) if d.len() == dim => d,
                _ => memory::zeroed(dim),
            };
            d.par_chunks_mut(CHUNK).enumerate().for_each(|(ci, ch)| {
                for (j, v) in ch.iter_mut().enumerate() {
                    *v = combine(ci * CHUNK + j).re;
                }
            });
            diag = Diagonal::Real(d);
        } else {
            let mut d = match diag {
                Diagonal::Complex(d) if d.len() == dim => d,
                _ => memory::zeroed(dim),
            };
            d.par_chunks_mut(CHUNK).enumerate().for_each(|(ci, ch)| {
                for (j, v) in ch.iter_mut().enumerate() {
                    *v = combine(ci * CHUNK + j);
                }
            });
            diag = Diagonal::Complex(d);
        }
        self.op.diag = diag;
    }

    /// The current weights `(w_a, w_b)`.
    pub fn weights(&self) -> (f64, f64) {
        self.weights
    }

    /// The operator `w_a A + w_b B` at the current weights.
    pub fn operator(&self) -> &XMaskOperator {
        &self.op
    }
}
