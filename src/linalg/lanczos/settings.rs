//! The settings of the Lanczos eigensolver ([`LanczosParams`], [`BasisMemory`], [`Method`]),
//! its result with the evidence ([`Spectrum`]), and the memory it plans for.

use serde::Serialize;

use crate::scalar::Scalar;
use crate::state::memory;

#[cfg(doc)]
use super::lowest_eigenpairs;

/// How the Krylov basis is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum BasisMemory {
    /// Store it if it fits in half the available memory, else two passes.
    #[default]
    Auto,
    /// Store the basis (fast, with partial reorthogonalisation).
    Store,
    /// Keep three vectors; regenerate the basis in a second pass (no reorthogonalisation).
    TwoPass,
}

/// Which algorithm computes the spectrum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Dense diagonalisation up to [`DENSE_AUTO_DIM`], Lanczos above.
    #[default]
    Auto,
    /// Always Lanczos.
    Lanczos,
    /// Always dense (≤ 12 qubits).
    Dense,
}

/// Vectors the Lanczos solver holds besides the locked levels and the stored basis:
/// `v_prev`, `v`, `w`, the cycle's start, the Ritz vector, a fresh random start.
pub(super) const WORK_VECTORS: usize = 6;

/// The buffers [`lowest_eigenpairs`] allocates on `n` qubits with `elem_bytes`-byte amplitudes
/// (8 real, 16 complex), at the least: the dense matrices on the dense path; on the Lanczos
/// path its work vectors and locked levels, plus the whole Krylov cycle with
/// [`BasisMemory::Store`]. With [`BasisMemory::Auto`] the stored basis adapts to the memory
/// left once this plan is allocated (two passes when little is).
pub fn lanczos_memory(n: usize, elem_bytes: usize, params: &LanczosParams) -> memory::MemoryPlan {
    let dim = memory::state_bytes(n, 1);
    let wanted = (params.k + usize::from(params.gap)) as u128;
    let dense = match params.method {
        Method::Dense => true,
        Method::Lanczos => false,
        Method::Auto => dim <= DENSE_AUTO_DIM as u128,
    };
    let vec = memory::state_bytes(n, elem_bytes);
    let mut plan = memory::MemoryPlan::part("eigensolver");
    if dense {
        plan.extend(&dense_memory(n));
        plan.add_n("eigenvectors", wanted.min(dim) as usize, vec);
        return plan;
    }
    plan.add_n(
        "Lanczos vectors",
        WORK_VECTORS + wanted.min(dim) as usize,
        vec,
    );
    if params.memory == BasisMemory::Store {
        let c = basis_cap(params, dim.min(usize::MAX as u128) as usize, elem_bytes) + 1;
        plan.add_n("Krylov basis", c, vec);
    }
    plan
}

/// Bytes up to which the automatic basis ([`LanczosParams::basis`] = 0) stores the whole
/// cycle instead of restarting.
pub const FULL_BASIS_BYTES: u128 = 64 << 20;

/// The automatic basis for vectors whose cycle does not fit in [`FULL_BASIS_BYTES`], as long
/// as it fits in [`SHORT_BASIS_BYTES`] and the vectors are larger than
/// [`SMALL_VECTOR_BYTES`].
pub const SHORT_BASIS: usize = 32;

/// Bytes the automatic short basis may take before it shrinks (to 16 vectors at least).
pub const SHORT_BASIS_BYTES: u128 = 512 << 20;

/// Vectors up to this size (2^16 complex or 2^17 real amplitudes) get an automatic short
/// basis of [`SMALL_BASIS`] vectors.
pub const SMALL_VECTOR_BYTES: u128 = 1 << 20;

/// The automatic short basis for vectors of at most [`SMALL_VECTOR_BYTES`], and the fewest
/// vectors it takes for larger ones.
pub const SMALL_BASIS: usize = 16;

/// The automatic short basis for vectors of `dim` amplitudes of `elem_bytes` bytes:
/// [`SHORT_BASIS`] vectors, fewer (down to [`SMALL_BASIS`]) when they would take more than
/// [`SHORT_BASIS_BYTES`], and [`SMALL_BASIS`] for vectors of at most [`SMALL_VECTOR_BYTES`].
///
/// Every basis vector is fresh memory once per process, and on this kind of VM the first
/// touch of a page costs about what an `H·ψ` over it does: at 22 qubits (sensor family,
/// real) a basis of 16 instead of 32 took 13 % more products but 1.9 s less CPU of 18 s
/// (sys 3.0 → 0.7 s; peak memory 1.29 → 0.76 GB). Small vectors are the other end: at 16
/// qubits an `H·ψ` runs from the caches, cheaper per byte than a fresh page, and a basis of
/// 16 (8–16 MiB) takes at most half the 32 MiB L3 where one of 32 (16–32 MiB) takes up to
/// all of it. Whole 16-qubit EP gradients (`qep grad`, 25 alternated runs, the three
/// benchmark families) took 3–15 % less time with 16 vectors keeping 4 than with 32 keeping
/// 4, for 3–5 % more products. At 18 qubits (2 MiB real vectors) 16 was 4 % faster on the
/// TFIM grid but 3 and 12 % slower on the random net and the sensor; at 20 qubits 5 and 10 %
/// slower on the TFIM grid and the random net, 6 % faster on the sensor.
pub fn short_basis(dim: usize, elem_bytes: usize) -> usize {
    let vec = (dim as u128 * elem_bytes as u128).max(1);
    if vec <= SMALL_VECTOR_BYTES {
        return SMALL_BASIS;
    }
    ((SHORT_BASIS_BYTES / vec) as usize).clamp(SMALL_BASIS, SHORT_BASIS)
}

/// The basis cap a solve on vectors of `dim` amplitudes of `elem_bytes` bytes works with:
/// [`LanczosParams::basis`] if set, else as documented there; at least 8, at most the cycle
/// and `dim + 1`.
pub(super) fn basis_cap(params: &LanczosParams, dim: usize, elem_bytes: usize) -> usize {
    let full = (params.cycle as u128 + 1) * dim as u128 * elem_bytes as u128;
    let want = match params.basis {
        0 if full <= FULL_BASIS_BYTES => params.cycle,
        0 => short_basis(dim, elem_bytes),
        b => b,
    };
    want.min(params.cycle).max(super::MIN_BASIS).min(dim + 1)
}

/// Dimension up to which [`Method::Auto`] diagonalises densely.
pub const DENSE_AUTO_DIM: usize = 256;

/// Settings of [`lowest_eigenpairs`].
#[derive(Clone, Debug, Serialize)]
pub struct LanczosParams {
    /// Number of lowest levels wanted (with multiplicity).
    pub k: usize,
    /// Absolute residual tolerance: every pair satisfies `‖Hψ − Eψ‖ ≤ tol`.
    pub tol: f64,
    /// Budget of operator applications over all levels and restarts.
    pub max_matvecs: usize,
    /// Lanczos steps per cycle before an explicit restart.
    pub cycle: usize,
    /// Largest stored Krylov basis (at least 8): when it is full, a thick restart replaces it
    /// by its lowest Ritz vectors, so the memory and the cost of each step's passes over the
    /// basis stay bounded however many steps a level takes. 0 (the default) chooses: the
    /// whole cycle when its basis takes at most [`FULL_BASIS_BYTES`] (small vectors: no
    /// restart, the fewest products), else [`short_basis`] vectors.
    pub basis: usize,
    /// Seed of the random start vectors (level `j` uses `seed + j`).
    pub seed: u64,
    /// Also compute the level just above the `k` wanted, to report the gap above them.
    pub gap: bool,
    /// With `gap`: take the level above the wanted ones from the same thick-restarted run as
    /// the highest wanted level (its second-lowest Ritz pair, whose *energy* is converged and
    /// verified to `tol` — the residual `r` of its vector only to `r²/δ ≤ tol`, see
    /// [`Spectrum::next_error`]) instead of a deflated solve of its own from a random start, which
    /// costs about as many products again. A single Krylov space holds one vector of each
    /// eigenspace, so this level is the next *distinct* one the run sees: an exact
    /// degeneracy of the highest wanted level is not seen (it needs the deflated solve: leave
    /// this off when the gap decides whether a level is degenerate). Ignored by the dense and
    /// two-pass solvers.
    pub gap_from_run: bool,
    /// Basis storage.
    pub memory: BasisMemory,
    /// Algorithm.
    pub method: Method,
    /// Weight, relative to the warm start, of the seeded random vector mixed into it (so that
    /// a start confined to one symmetry sector cannot hide a lower level in another). A
    /// caller that knows its start has a large overlap with the wanted level, and no level
    /// can lie below it unseen, passes 0: the solve then starts from the warm state alone.
    pub warm_mix: f64,
}

impl Default for LanczosParams {
    fn default() -> Self {
        Self {
            k: 1,
            tol: 1e-9,
            max_matvecs: 20_000,
            cycle: 300,
            basis: 0,
            seed: 0x9e37_79b9,
            gap: false,
            gap_from_run: false,
            memory: BasisMemory::Auto,
            method: Method::Auto,
            warm_mix: 1e-3,
        }
    }
}

/// The k lowest eigenpairs with their evidence.
#[derive(Clone, Debug, Serialize)]
pub struct Spectrum<T: Scalar> {
    /// Energies, ascending, with multiplicity.
    pub energies: Vec<f64>,
    /// Normalised eigenvectors, one per energy.
    #[serde(skip)]
    pub vectors: Vec<Vec<T>>,
    /// Residual norms `‖Hψ − Eψ‖`, one per energy.
    pub residuals: Vec<f64>,
    /// The level just above the wanted ones (when [`LanczosParams::gap`]).
    pub next_energy: Option<f64>,
    /// How far `next_energy` may be from the true level: its explicit residual `‖Hψ − Eψ‖`
    /// (≤ `tol`) when that level was solved like the wanted ones; from the same run
    /// ([`LanczosParams::gap_from_run`]) the Kato–Temple estimate `r²/δ` (`δ` its separation
    /// from the Ritz value above), ≤ `tol`, its residual `r` being larger (a Ritz value is
    /// accurate long before its vector, and only the value is used). 0 on the dense path.
    pub next_error: Option<f64>,
    /// Operator applications used.
    pub matvecs: usize,
    /// Explicit restarts (cycles beyond the first) over all levels.
    pub restarts: usize,
    /// Full reorthogonalisations triggered by the ω-recurrence.
    pub reorthogonalizations: usize,
    /// Thick restarts (the basis was full and its lowest Ritz vectors replaced it).
    pub thick_restarts: usize,
    /// Most basis vectors held at once by the stored-basis solve, the slot the last product
    /// is written into included (`≤` [`LanczosParams::basis`]` + 1`; 0 on the dense and
    /// two-pass paths).
    pub basis_peak: usize,
    /// `"dense"`, `"lanczos"` or `"lanczos-two-pass"`.
    pub method: &'static str,
}

impl<T: Scalar> Spectrum<T> {
    /// `E_1 − E_0`, when at least two levels are known.
    pub fn gap(&self) -> Option<f64> {
        match (
            self.energies.first(),
            self.energies.get(1).or(self.next_energy.as_ref()),
        ) {
            (Some(e0), Some(e1)) => Some(e1 - e0),
            _ => None,
        }
    }

    /// The gap between the highest wanted level and the next one, when known.
    pub fn gap_above(&self) -> Option<f64> {
        Some(self.next_energy? - self.energies.last()?)
    }
}

/// The buffers of the dense path on `n` qubits: the `2^n × 2^n` matrix, faer's copy of it,
/// its eigenvectors and their copy as columns (`16 · 4^n` bytes each).
pub(super) fn dense_memory(n: usize) -> memory::MemoryPlan {
    let mut plan = memory::MemoryPlan::part(format!("dense eigensolver ({n} qubits)"));
    plan.add_n(
        "dense matrices",
        4,
        memory::state_bytes(n, 16).saturating_mul(memory::state_bytes(n, 1)),
    );
    plan
}

/// [`dense_memory`] for a space of dimension `dim` (qubits when `dim` is a power of two).
pub(super) fn dense_memory_dim(dim: usize) -> memory::MemoryPlan {
    if dim.is_power_of_two() {
        return dense_memory(dim.trailing_zeros() as usize);
    }
    let mut plan = memory::MemoryPlan::part(format!("dense eigensolver (dimension {dim})"));
    plan.add_n(
        "dense matrices",
        4,
        (dim as u128 * 16).saturating_mul(dim as u128),
    );
    plan
}
