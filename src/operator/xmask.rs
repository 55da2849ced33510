//! The matrix-free operator: Pauli terms grouped by X-mask, with a cache-blocked pass plan.

use crate::pauli::{PauliSum, Phase};
use crate::scalar::C64;
use crate::state::memory;

use super::OperatorError;

/// One X-mask group: `(G ψ)[b] = Σ_t e_t (−1)^{|z_t ∧ b|} ψ[b ⊕ x]`, with the effective
/// coefficient `e_t = c_t · i^{n_Y} · (−1)^{|z_t ∧ x|}` (gather form of docs/DESIGN.md's action).
#[derive(Clone, Debug)]
pub(crate) struct Group {
    /// The X-mask shared by every term of the group.
    pub x: u64,
    /// `(z_t, e_t)` in complex form.
    pub terms_c: Vec<(u64, C64)>,
    /// `(z_t, e_t)` in real form, filled when every `e_t` is real: such a group acts on the
    /// real and imaginary parts of a complex ψ alike, so the kernels treat complex vectors as
    /// interleaved `f64` arrays (half the multiplications of complex arithmetic).
    pub terms_r: Vec<(u64, f64)>,
}

impl Group {
    /// Whether the coefficient is the same for every `b` (all `z_t = 0`, e.g. a field `X_i`).
    pub fn is_constant(&self) -> bool {
        self.terms_c.len() == 1 && self.terms_c[0].0 == 0
    }

    /// Whether every effective coefficient is real (see `terms_r`).
    pub fn is_real(&self) -> bool {
        !self.terms_r.is_empty()
    }
}

/// The diagonal (x = 0) part, stored once: real for Hermitian operators.
#[derive(Clone, Debug)]
pub(crate) enum Diagonal {
    /// No diagonal terms.
    Zero,
    /// Real diagonal (Hermitian operators).
    Real(Vec<f64>),
    /// Complex diagonal (non-Hermitian operators, e.g. jump operators).
    Complex(Vec<C64>),
}

/// How one streaming pass over the state is organised.
///
/// A *tile* is the set of basis indices whose bits outside `S` are fixed; `S` = the low `c`
/// bits (contiguous *chunks* of `2^c` amplitudes) plus the bits `high` above them. A tile of
/// ≈ 2^14 amplitudes stays in L2 while every group of the pass is applied to it, so each
/// pass reads ψ and writes the output once instead of once per group.
#[derive(Clone, Debug)]
pub(crate) struct Pass {
    /// Low bits: chunk length is `2^c`.
    pub c: u32,
    /// Bit positions outside the tile, ascending (they enumerate the tiles).
    pub outer: Vec<u32>,
    /// Offsets of the tile's chunks: `chunk_offsets[q]` = bits of `q` deposited on `high`.
    pub chunk_offsets: Vec<usize>,
    /// Indices into `groups` applied in this pass.
    pub groups: Vec<usize>,
    /// For each group of the pass, where its partner amplitudes are.
    pub flips: Vec<Flip>,
    /// Whether this pass writes `out = diag·ψ + …` (the first pass) rather than adding.
    pub first: bool,
}

/// Where a group's partner amplitudes `ψ[b ⊕ x]` live relative to the chunk of `b`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Flip {
    /// XOR on the chunk index `q` inside the tile (x's bits in `high`, compressed).
    pub xq: usize,
    /// XOR inside a chunk (x's bits below `c`).
    pub xl: usize,
    /// XOR on the global index for x's bits outside the tile (streaming fallback only).
    pub xo: usize,
}

/// A Hermitian (or general) Pauli sum prepared for fast `H·ψ`: terms grouped by X-mask, the
/// x = 0 group stored as one diagonal, and a plan of cache-blocked passes (docs/DESIGN.md, "Speed").
///
/// Build with [`XMaskOperator::new`]; apply with [`XMaskOperator::apply_into`].
#[derive(Clone, Debug)]
pub struct XMaskOperator {
    pub(crate) n: usize,
    pub(crate) hermitian: bool,
    pub(crate) real: bool,
    pub(crate) diag: Diagonal,
    pub(crate) groups: Vec<Group>,
    pub(crate) passes: Vec<Pass>,
    pub(crate) n_terms: usize,
    pub(crate) identity_shift: C64,
    pub(crate) kernel: Kernel,
    /// `Σ|c|` over the merged terms (see [`XMaskOperator::norm_bound`]).
    pub(crate) norm_bound: f64,
}

/// Which implementation of the hot loop `H·ψ` uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Kernel {
    /// The fastest the CPU supports (AVX-512 intrinsics, else AVX2/FMA or baseline code).
    #[default]
    Auto,
    /// Portable Rust only (the code every CPU runs; for tests and comparisons).
    Portable,
}

/// Bits per tile for an element size: 2^16 complex (2^17 real) amplitudes, 1 MiB of ψ per
/// tile. Measured on the 24-qubit TFIM grid (4×6) with the fused kernels: tiles of 2^14–2^17
/// complex amplitudes gave 0.141, 0.069, 0.057 and 0.064 s per H·ψ; smaller tiles fit L2 but
/// force 16-amplitude chunks (or a third pass) on the high bits, larger ones spill L3.
pub(super) fn tile_bits(elem_bytes: usize) -> u32 {
    if elem_bytes >= 16 {
        16
    } else {
        17
    }
}

/// Smallest chunk (2^3 amplitudes = 128 B complex, two cache lines) worth streaming.
const MIN_CHUNK_BITS: u32 = 3;

impl XMaskOperator {
    /// Groups the terms of `sum` by X-mask and computes the diagonal.
    ///
    /// Memory: one diagonal of `2^n` reals (complex if the operator is not Hermitian), checked
    /// against the machine's available memory before allocating.
    ///
    /// # Errors
    /// [`OperatorError::TooLarge`] (via the memory check) if the diagonal does not fit.
    pub fn new(sum: &PauliSum) -> Result<Self, OperatorError> {
        let n = sum.qubits();
        let s = sum.simplified(0.0);
        let hermitian = s.is_hermitian(0.0);
        let mut diag_terms: Vec<(u64, C64)> = Vec::new();
        let mut groups: Vec<Group> = Vec::new();
        let mut identity_shift = C64::new(0.0, 0.0);
        for &(p, c) in s.terms() {
            let e = c
                * Phase((p.n_y() % 4) as u8).to_complex()
                * if (p.z() & p.x()).count_ones() % 2 == 1 {
                    -1.0
                } else {
                    1.0
                };
            if p.x() == 0 {
                if p.z() == 0 {
                    identity_shift += e;
                }
                diag_terms.push((p.z(), e));
            } else {
                match groups.last_mut() {
                    Some(g) if g.x == p.x() => g.terms_c.push((p.z(), e)),
                    _ => groups.push(Group {
                        x: p.x(),
                        terms_c: vec![(p.z(), e)],
                        terms_r: Vec::new(),
                    }),
                }
            }
        }
        let real = diag_terms.iter().all(|(_, e)| e.im == 0.0)
            && groups
                .iter()
                .all(|g| g.terms_c.iter().all(|(_, e)| e.im == 0.0));
        for g in &mut groups {
            if g.terms_c.iter().all(|(_, e)| e.im == 0.0) {
                g.terms_r = g.terms_c.iter().map(|&(z, e)| (z, e.re)).collect();
            }
        }
        let dim = 1usize << n;
        let diag_real = diag_terms.iter().all(|(_, e)| e.im == 0.0);
        let diag = if diag_terms.is_empty() {
            Diagonal::Zero
        } else if diag_real {
            memory::check_alloc(dim * 8, "operator diagonal")?;
            Diagonal::Real(compute_diagonal(n, &diag_terms, |e| e.re))
        } else {
            memory::check_alloc(dim * 16, "operator diagonal")?;
            Diagonal::Complex(compute_diagonal(n, &diag_terms, |e| e))
        };
        let mut op = Self {
            n,
            hermitian,
            real,
            diag,
            groups,
            passes: Vec::new(),
            n_terms: s.len(),
            identity_shift,
            kernel: Kernel::Auto,
            norm_bound: s.norm_bound(),
        };
        op.passes = op.plan(tile_bits(if real { 8 } else { 16 }));
        Ok(op)
    }

    /// Chooses the implementation of `H·ψ` (results agree to rounding: FMAs round once).
    pub fn set_kernel(&mut self, kernel: Kernel) {
        self.kernel = kernel;
    }

    /// Number of qubits.
    pub fn qubits(&self) -> usize {
        self.n
    }

    /// Hilbert-space dimension `2^n`.
    pub fn dim(&self) -> usize {
        1usize << self.n
    }

    /// Whether the operator is Hermitian (all merged coefficients real).
    pub fn is_hermitian(&self) -> bool {
        self.hermitian
    }

    /// Whether `H·ψ` keeps real vectors real, so that `apply_into::<f64>` is allowed.
    pub fn is_real(&self) -> bool {
        self.real
    }

    /// Number of merged Pauli terms.
    pub fn n_terms(&self) -> usize {
        self.n_terms
    }

    /// Number of X-mask groups, counting the diagonal (x = 0) group if present.
    pub fn n_groups(&self) -> usize {
        self.groups.len() + usize::from(!matches!(self.diag, Diagonal::Zero))
    }

    /// Number of streaming passes one application makes over the state.
    pub fn n_passes(&self) -> usize {
        self.passes.len().max(1)
    }

    /// `Σ|c|` over the merged Pauli terms: an upper bound on the spectral norm, and the scale
    /// of the rounding error of `H·ψ` (about `ε Σ|c|` per amplitude).
    pub fn norm_bound(&self) -> f64 {
        self.norm_bound
    }

    /// The coefficient of the identity term (a constant energy shift).
    pub fn identity_shift(&self) -> C64 {
        self.identity_shift
    }

    /// Bytes of the operator's own storage (the diagonal).
    pub fn storage_bytes(&self) -> usize {
        match &self.diag {
            Diagonal::Zero => 0,
            Diagonal::Real(d) => d.len() * 8,
            Diagonal::Complex(d) => d.len() * 16,
        }
    }

    /// The minimal traffic of one `H·ψ` with `elem_bytes`-byte amplitudes: read ψ, read the
    /// diagonal, write the output, once each (the yardstick of `effective_gbps`).
    pub fn bytes_per_apply(&self, elem_bytes: usize) -> usize {
        let diag = match &self.diag {
            Diagonal::Zero => 0,
            Diagonal::Real(_) => 8,
            Diagonal::Complex(_) => 16,
        };
        (2 * elem_bytes + diag) * self.dim()
    }

    /// The diagonal entry `⟨b|H|b⟩`.
    pub fn diagonal_entry(&self, b: usize) -> C64 {
        match &self.diag {
            Diagonal::Zero => C64::new(0.0, 0.0),
            Diagonal::Real(d) => C64::new(d[b], 0.0),
            Diagonal::Complex(d) => d[b],
        }
    }

    /// Plans the passes: the first covers contiguous tiles of `2^k` amplitudes (the diagonal and
    /// every group whose mask lies below bit `k`); the remaining groups are packed greedily into
    /// passes whose tiles hold their mask bits plus as many low bits as fit.
    pub(super) fn plan(&self, k: u32) -> Vec<Pass> {
        let n = self.n as u32;
        let k = k.min(n);
        let low_mask: u64 = if k >= 64 { u64::MAX } else { (1u64 << k) - 1 };
        let mut first_groups = Vec::new();
        let mut rest = Vec::new();
        for (i, g) in self.groups.iter().enumerate() {
            if g.x & !low_mask == 0 {
                first_groups.push(i);
            } else {
                rest.push(i);
            }
        }
        let mut passes = vec![self.make_pass(k, 0, first_groups, true)];
        // Greedy packing of the remaining groups (already in ascending x order).
        let best_c = |u: u64| -> Option<u32> {
            (MIN_CHUNK_BITS.min(n)..=k)
                .rev()
                .find(|&c| c + (u >> c).count_ones() <= k)
        };
        let mut cur: Vec<usize> = Vec::new();
        let mut union = 0u64;
        for i in rest {
            let x = self.groups[i].x;
            if best_c(union | x).is_some() {
                union |= x;
                cur.push(i);
            } else {
                if !cur.is_empty() {
                    let c = best_c(union).unwrap_or(MIN_CHUNK_BITS.min(n));
                    passes.push(self.make_pass(c, union, std::mem::take(&mut cur), false));
                }
                if best_c(x).is_some() {
                    union = x;
                    cur.push(i);
                } else {
                    // A mask with too many high bits for any tile: stream it on its own,
                    // chunks of 2^{tz(x)} contiguous amplitudes.
                    let c = x.trailing_zeros().min(k);
                    passes.push(self.make_pass(c, 0, vec![i], false));
                    union = 0;
                }
            }
        }
        if !cur.is_empty() {
            let c = best_c(union).unwrap_or(MIN_CHUNK_BITS.min(n));
            passes.push(self.make_pass(c, union, cur, false));
        }
        passes
    }

    fn make_pass(&self, c: u32, union: u64, groups: Vec<usize>, first: bool) -> Pass {
        let n = self.n as u32;
        let high: Vec<u32> = (c..n).filter(|&b| (union >> b) & 1 == 1).collect();
        let outer: Vec<u32> = (c..n).filter(|&b| (union >> b) & 1 == 0).collect();
        let chunk_offsets: Vec<usize> = (0..1usize << high.len())
            .map(|q| deposit(q, &high))
            .collect();
        let flips = groups
            .iter()
            .map(|&gi| {
                let x = self.groups[gi].x;
                let xq = high
                    .iter()
                    .enumerate()
                    .filter(|(_, &b)| (x >> b) & 1 == 1)
                    .fold(0usize, |acc, (j, _)| acc | (1 << j));
                let lowm = if c >= 64 { u64::MAX } else { (1u64 << c) - 1 };
                let outer_mask = outer.iter().fold(0u64, |acc, &b| acc | (1 << b));
                // Bits of x outside the tile leave it: only the streaming fallback has them.
                Flip {
                    xq,
                    xl: (x & lowm) as usize,
                    xo: (x & outer_mask) as usize,
                }
            })
            .collect();
        Pass {
            c,
            outer,
            chunk_offsets,
            groups,
            flips,
            first,
        }
    }
}

/// `Σ_i bit_i(q) 2^{positions[i]}` (software PDEP; used when planning, never per amplitude).
pub(crate) fn deposit(q: usize, positions: &[u32]) -> usize {
    positions
        .iter()
        .enumerate()
        .filter(|(i, _)| (q >> i) & 1 == 1)
        .fold(0usize, |acc, (_, &b)| acc | (1usize << b))
}

/// The diagonal `d[b] = Σ_t e_t (−1)^{|z_t ∧ b|}`, built in parallel chunks.
pub(super) fn compute_diagonal<T: Copy + Send + Sync + Default + std::ops::AddAssign>(
    n: usize,
    terms: &[(u64, C64)],
    conv: impl Fn(C64) -> T + Sync,
) -> Vec<T> {
    use rayon::prelude::*;
    let dim = 1usize << n;
    let mut d: Vec<T> = memory::zeroed(dim);
    // Terms on low qubits vary inside a chunk; high-qubit parts are fixed per chunk.
    const CHUNK: usize = 1 << 12;
    let conv_terms: Vec<(u64, T, T)> = terms.iter().map(|&(z, e)| (z, conv(e), conv(-e))).collect();
    d.par_chunks_mut(CHUNK).enumerate().for_each(|(ci, chunk)| {
        let base = (ci * CHUNK) as u64;
        for (j, v) in chunk.iter_mut().enumerate() {
            let b = base | j as u64;
            let mut acc = T::default();
            for &(z, p, m) in &conv_terms {
                acc += if (z & b).count_ones() & 1 == 0 { p } else { m };
            }
            *v = acc;
        }
    });
    d
}
