//! Density matrices `ρ` (row-major, `4^n` entries) and matrix-free Pauli-sum actions on them.

use rayon::prelude::*;

use super::StateError;
use crate::pauli::{PauliSum, Phase};
use crate::state::memory::{check_alloc_u128, zeroed, MemoryPlan};
use crate::C64;

/// Qubits up to which [`DensityMatrix::min_eigenvalue`] runs a dense eigensolve.
pub const MAX_EIGEN_QUBITS: usize = 8;

/// Entries (`4^n`) from which row loops run in parallel with rayon.
pub(crate) const PAR_FROM: usize = 1 << 12;

/// Bytes of an `n`-qubit density matrix: `16 · 4^n` (saturating).
pub fn density_bytes(n: usize) -> u128 {
    if 2 * n + 4 >= 128 {
        u128::MAX
    } else {
        16u128 << (2 * n)
    }
}

/// A plan of `copies` density matrices of `n` qubits named `what`.
fn density_plan(what: &str, parts: &[(&str, usize, usize)]) -> MemoryPlan {
    let mut plan = MemoryPlan::part(what);
    for &(name, copies, n) in parts {
        plan.add_n(
            &format!("{name} ({n}-qubit density matrices)"),
            copies,
            density_bytes(n),
        );
    }
    plan
}

/// The dense Gibbs state of `n` qubits ([`super::Gibbs::new`]): the matrix of `H`,
/// the eigensolver's copy, its eigenvectors twice, and `ρ_G`.
pub fn gibbs_memory(n: usize) -> MemoryPlan {
    density_plan("Gibbs state", &[("dense eigensolve and ρ_G", 5, n)])
}

/// [`crate::evolve::evolve_lindblad`] on `n` qubits: the start, seven Dormand–Prince stages, the
/// stage, new and scratch states, the recorded final state and the caller's copy.
pub fn lindblad_memory(n: usize) -> MemoryPlan {
    density_plan(
        "Lindblad integrator",
        &[("ρ and Dormand–Prince stages", 14, n)],
    )
}

/// Bytes of the dense collision propagators a cooling simulation of `n` network qubits, `k`
/// ancillas and `ops` system operators caches within `budget`: at most one per (frequency
/// group, operator), with groups ≤ ⌈#Bohr frequencies/k⌉ and #Bohr frequencies ≤ d(d − 1)/2,
/// `d = 2^n`; each `16·4^{n+k}` bytes.
pub fn propagator_cache_bytes(n: usize, k: usize, ops: usize, budget: usize) -> u128 {
    let d = 1u128 << n.min(60);
    let groups = (d * d.saturating_sub(1) / 2)
        .div_ceil(k.max(1) as u128)
        .max(1);
    let each = density_bytes(n + k);
    groups
        .saturating_mul(ops.max(1) as u128)
        .saturating_mul(each)
        .min((budget as u128 / each).max(1) * each)
}

/// [`crate::evolve::cool`] of `n` qubits with `k` ancillas and `ops` system operators: the exact
/// Gibbs state of the network, the working states of network + ancillas, the dense
/// eigensolve of a collision Hamiltonian and the cached propagators.
pub fn cooling_memory(n: usize, k: usize, ops: usize) -> MemoryPlan {
    let mut plan = density_plan(
        "cooling",
        &[
            ("network Gibbs state", 5, n),
            ("collision states", 6, n + k),
            ("collision propagator (eigensolve and products)", 9, n + k),
        ],
    );
    let cache = propagator_cache_bytes(n, k, ops, crate::evolve::cooling::COOLING_CACHE_BYTES);
    // The propagators are built between temporaries of the same size, and the allocator
    // keeps the freed blocks between them (see `keep_freed_memory` in main.rs): measured on
    // 7 + 2 qubits, the heap holds about twice the cache (553 MB peak for a 256 MiB cache).
    plan.add(
        "cached propagators and the freed blocks between them (2 × cache)",
        cache.saturating_mul(2),
    );
    plan
}

/// The Davies generator of `n` qubits with `couplings` coupling operators: the Gibbs state,
/// the generator's matrices and its Dormand–Prince integrator.
pub fn davies_memory(n: usize, couplings: usize) -> MemoryPlan {
    density_plan(
        "Davies generator",
        &[
            ("Gibbs state", 5, n),
            ("generator", 3 + couplings, n),
            ("integrator", 14, n),
        ],
    )
}

/// Checks that `copies` density matrices of `n` qubits (`copies · 16 · 4^n` bytes) can be
/// allocated for `what`.
///
/// # Errors
/// [`StateError::Memory`] naming the size.
pub fn check_density_alloc(n: usize, copies: usize, what: &str) -> Result<(), StateError> {
    let bytes = density_bytes(n).saturating_mul(copies as u128);
    check_alloc_u128(
        bytes,
        &format!("{what} ({copies} × {n}-qubit density matrix, 16·4^{n} bytes each)"),
    )?;
    Ok(())
}

/// A density matrix on `n` qubits: `4^n` complex entries, row-major, `ρ[r][c]` at `r·2^n + c`,
/// qubit `i` = bit `i` of the row/column index (docs/DESIGN.md).
#[derive(Clone, Debug, PartialEq)]
pub struct DensityMatrix {
    n: usize,
    data: Vec<C64>,
}

impl DensityMatrix {
    /// The zero matrix on `n` qubits; memory is checked before allocating.
    ///
    /// # Errors
    /// [`StateError::Memory`] if `16 · 4^n` bytes are not available (e.g. 16 TiB for n = 20).
    pub fn zeros(n: usize) -> Result<Self, StateError> {
        check_density_alloc(n, 1, "density matrix")?;
        Ok(Self {
            n,
            data: zeroed(1usize << (2 * n)),
        })
    }

    /// `|ψ⟩⟨ψ|` for a state vector of length `2^n` (not normalised here).
    ///
    /// # Errors
    /// [`StateError::Memory`] if the matrix does not fit.
    ///
    /// # Panics
    /// If `psi.len()` is not a power of two.
    #[track_caller]
    pub fn from_pure(psi: &[C64]) -> Result<Self, StateError> {
        assert!(
            psi.len().is_power_of_two(),
            "state length {} is not 2^n",
            psi.len()
        );
        let n = psi.len().trailing_zeros() as usize;
        let mut rho = Self::zeros(n)?;
        let d = psi.len();
        rho.data.chunks_mut(d).zip(psi).for_each(|(row, &a)| {
            row.iter_mut()
                .zip(psi)
                .for_each(|(e, &b)| *e = a * b.conj())
        });
        Ok(rho)
    }

    /// Wraps row-major entries (`4^n` of them).
    ///
    /// # Panics
    /// If `data.len() != 4^n`.
    #[track_caller]
    pub fn from_entries(n: usize, data: Vec<C64>) -> Self {
        assert_eq!(data.len(), 1usize << (2 * n), "need 4^{n} entries");
        Self { n, data }
    }

    /// Number of qubits.
    pub fn qubits(&self) -> usize {
        self.n
    }

    /// Dimension `2^n` of the Hilbert space.
    pub fn dim(&self) -> usize {
        1 << self.n
    }

    /// The entries, row-major.
    pub fn as_slice(&self) -> &[C64] {
        &self.data
    }

    /// The entries, row-major, mutable.
    pub fn as_mut_slice(&mut self) -> &mut [C64] {
        &mut self.data
    }

    /// The entry `ρ[r][c]`.
    pub fn get(&self, r: usize, c: usize) -> C64 {
        self.data[r * self.dim() + c]
    }

    /// `Tr ρ` (should stay 1).
    pub fn trace(&self) -> C64 {
        trace(&self.data, self.dim())
    }

    /// Purity `Tr ρ²`, computed as `Σ_{rc} ρ[r][c] ρ[c][r]` (real part).
    pub fn purity(&self) -> f64 {
        purity(&self.data, self.dim())
    }

    /// `Tr ρA` for a Pauli sum `A`, matrix-free: `Σ_t a_t Σ_c ρ[c⊕x_t][c] P_t[c][c⊕x_t]`.
    /// Cost: one pass over `2^n` entries per term; allocates nothing.
    ///
    /// # Panics
    /// If `A` acts on more qubits than `ρ`.
    #[track_caller]
    pub fn expectation(&self, a: &PauliSum) -> C64 {
        assert!(
            a.qubits() <= self.n,
            "operator on {} qubits > {}",
            a.qubits(),
            self.n
        );
        expectation(&self.data, self.dim(), a)
    }

    /// Hermiticity defect `max_{rc} |ρ[r][c] − conj(ρ[c][r])|`.
    pub fn hermiticity_defect(&self) -> f64 {
        hermiticity_defect(&self.data, self.dim())
    }

    /// Smallest eigenvalue of the Hermitian part `(ρ + ρ†)/2` by a dense eigensolve, for the
    /// positivity report (negative values mean the integrator left the set of states).
    ///
    /// # Errors
    /// [`StateError::EigenTooLarge`] for `n > 8`, [`StateError::Solver`] if the solver fails.
    pub fn min_eigenvalue(&self) -> Result<f64, StateError> {
        min_eigenvalue(&self.data, self.n)
    }

    /// `Aρ` as a new matrix (`A` acts on the row index as on a vector).
    ///
    /// # Errors
    /// [`StateError::Memory`] if the result does not fit.
    pub fn left_mul(&self, a: &PauliSum) -> Result<Self, StateError> {
        let mut out = Self::zeros(self.n)?;
        GroupedOperator::new(a, self.n).left_acc(&self.data, &mut out.data, C64::new(1.0, 0.0));
        Ok(out)
    }

    /// `ρA` as a new matrix (`(ρA)[r][c] = Σ_c' ρ[r][c'] A[c'][c]`, on the column index).
    ///
    /// # Errors
    /// [`StateError::Memory`] if the result does not fit.
    pub fn right_mul(&self, a: &PauliSum) -> Result<Self, StateError> {
        let mut out = Self::zeros(self.n)?;
        GroupedOperator::new(a, self.n).right_acc(&self.data, &mut out.data, C64::new(1.0, 0.0));
        Ok(out)
    }
}

pub(crate) fn trace(rho: &[C64], d: usize) -> C64 {
    (0..d).map(|r| rho[r * d + r]).sum()
}

pub(crate) fn purity(rho: &[C64], d: usize) -> f64 {
    let row = |r: usize| -> f64 { (0..d).map(|c| (rho[r * d + c] * rho[c * d + r]).re).sum() };
    if d * d >= PAR_FROM {
        let parts: Vec<f64> = (0..d).into_par_iter().map(row).collect();
        parts.iter().sum()
    } else {
        (0..d).map(row).sum()
    }
}

pub(crate) fn hermiticity_defect(rho: &[C64], d: usize) -> f64 {
    let mut worst = 0.0f64;
    for r in 0..d {
        for c in r..d {
            worst = worst.max((rho[r * d + c] - rho[c * d + r].conj()).norm());
        }
    }
    worst
}

pub(crate) fn expectation(rho: &[C64], d: usize, a: &PauliSum) -> C64 {
    let mut total = C64::new(0.0, 0.0);
    for &(p, coef) in a.terms() {
        let (x, z) = (p.x() as usize, p.z() as usize);
        let ph = coef * Phase((p.n_y() % 4) as u8).to_complex();
        // P[c][c⊕x] = i^{nY} (−1)^{|(c⊕x)∧z|}
        let s: C64 = (0..d)
            .map(|c| {
                let v = rho[(c ^ x) * d + c];
                if ((c ^ x) & z).count_ones() % 2 == 1 {
                    -v
                } else {
                    v
                }
            })
            .sum();
        total += ph * s;
    }
    total
}

pub(crate) fn min_eigenvalue(rho: &[C64], n: usize) -> Result<f64, StateError> {
    let d = 1usize << n;
    if n > MAX_EIGEN_QUBITS {
        return Err(StateError::EigenTooLarge {
            n,
            dim: d,
            max: MAX_EIGEN_QUBITS,
        });
    }
    // Eigenvalues only: the vectors would cost three times as much, at every output time.
    let herm =
        faer::Mat::<C64>::from_fn(d, d, |r, c| (rho[r * d + c] + rho[c * d + r].conj()) * 0.5);
    let vals = herm
        .self_adjoint_eigenvalues(faer::Side::Lower)
        .map_err(|e| crate::linalg::SolverError::Dense {
            detail: format!("{e:?}"),
        })?;
    Ok(vals.iter().copied().fold(f64::INFINITY, f64::min))
}

/// A Pauli sum `A` grouped by X-mask: `A[r][r⊕x] = D_x[r]` for each distinct mask `x`, with
/// `D_x[r] = Σ_{t: x_t = x} a_t i^{n_Y} (−1)^{|(r⊕x)∧z_t|}` stored densely (`2^n` per group).
/// Applying `A` to `ρ` from either side is then one streaming pass per group.
#[derive(Clone, Debug)]
pub struct GroupedOperator {
    n: usize,
    /// `(x, D_x)`, the diagonal group (x = 0) first if present.
    groups: Vec<(usize, Vec<C64>)>,
}

impl GroupedOperator {
    /// Groups `a` on `n` qubits (`n ≥ a.qubits()`). Allocates `2^n` entries per X-mask.
    ///
    /// # Panics
    /// If `a` acts on more than `n` qubits.
    #[track_caller]
    pub fn new(a: &PauliSum, n: usize) -> Self {
        assert!(a.qubits() <= n, "operator on {} qubits > {n}", a.qubits());
        let d = 1usize << n;
        let mut groups: Vec<(usize, Vec<C64>)> = Vec::new();
        for x in a.x_masks() {
            let x = x as usize;
            let mut diag = vec![C64::new(0.0, 0.0); d];
            for &(p, coef) in a.terms().iter().filter(|(p, _)| p.x() as usize == x) {
                let ph = coef * Phase((p.n_y() % 4) as u8).to_complex();
                let z = p.z() as usize;
                for (r, e) in diag.iter_mut().enumerate() {
                    if ((r ^ x) & z).count_ones() % 2 == 1 {
                        *e -= ph;
                    } else {
                        *e += ph;
                    }
                }
            }
            if diag.iter().any(|v| v.norm() != 0.0) {
                groups.push((x, diag));
            }
        }
        Self { n, groups }
    }

    /// Number of qubits.
    pub fn qubits(&self) -> usize {
        self.n
    }

    /// The groups `(x, D_x)` with `A[r][r⊕x] = D_x[r]`.
    pub fn groups(&self) -> &[(usize, Vec<C64>)] {
        &self.groups
    }

    /// `out += s · Aρ`: `(Aρ)[r][c] = Σ_x D_x[r] ρ[r⊕x][c]`. Parallel over rows above 4096
    /// entries; allocates nothing.
    ///
    /// # Panics
    /// If the slices are not `4^n` long.
    #[track_caller]
    pub fn left_acc(&self, rho: &[C64], out: &mut [C64], s: C64) {
        let d = 1usize << self.n;
        assert!(rho.len() == d * d && out.len() == d * d, "need 4^n entries");
        let row = |(r, orow): (usize, &mut [C64])| {
            for (x, dx) in &self.groups {
                let f = s * dx[r];
                if f.norm_sqr() == 0.0 {
                    continue;
                }
                let src = &rho[(r ^ x) * d..(r ^ x) * d + d];
                orow.iter_mut().zip(src).for_each(|(o, &v)| *o += f * v);
            }
        };
        if d * d >= PAR_FROM {
            out.par_chunks_mut(d).enumerate().for_each(row);
        } else {
            out.chunks_mut(d).enumerate().for_each(row);
        }
    }

    /// `out += s · ρA`: `(ρA)[r][c] = Σ_x ρ[r][c⊕x] D_x[c⊕x]` (the transposed action on the
    /// column index). Parallel over rows above 4096 entries; allocates nothing.
    ///
    /// # Panics
    /// If the slices are not `4^n` long.
    #[track_caller]
    pub fn right_acc(&self, rho: &[C64], out: &mut [C64], s: C64) {
        self.right_generic(rho, out, s, false);
    }

    /// `out += s · ρA†`: `(ρA†)[r][c] = Σ_x ρ[r][c⊕x] conj(D_x[c])`.
    ///
    /// # Panics
    /// If the slices are not `4^n` long.
    #[track_caller]
    pub fn right_adjoint_acc(&self, rho: &[C64], out: &mut [C64], s: C64) {
        self.right_generic(rho, out, s, true);
    }

    #[track_caller]
    fn right_generic(&self, rho: &[C64], out: &mut [C64], s: C64, adjoint: bool) {
        let d = 1usize << self.n;
        assert!(rho.len() == d * d && out.len() == d * d, "need 4^n entries");
        let row = |(r, orow): (usize, &mut [C64])| {
            let src = &rho[r * d..r * d + d];
            for (x, dx) in &self.groups {
                for (c, o) in orow.iter_mut().enumerate() {
                    let f = if adjoint { dx[c].conj() } else { dx[c ^ x] };
                    *o += s * f * src[c ^ x];
                }
            }
        };
        if d * d >= PAR_FROM {
            out.par_chunks_mut(d).enumerate().for_each(row);
        } else {
            out.chunks_mut(d).enumerate().for_each(row);
        }
    }
}
