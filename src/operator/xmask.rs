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
    /// The coefficient `Σ_t e_t (−1)^{|z_t ∧ b|}` as lookup tables over the bits it depends
    /// on (one table per part of the terms; see [`Table`]); rebuilt by [`Group::build_tables`]
    /// whenever the coefficients change.
    pub tables: Vec<Table>,
}

/// Bits of the basis index spanned by one output sub-block of the kernels (`2^11` amplitudes):
/// the tables keep the index of every in-block offset precomputed.
///
/// The fused kernel keeps its sums in registers and writes each output vector once, so the
/// block need not stay in L1; what the size sets is how long every source stream runs before
/// the kernel moves on (and sets up every group again). Products of one thread, `qep bench
/// --real`, fastest of 5 alternated runs of 400, 2^9 → 2^11: TFIM grid 16 qubits 92.5 → 76 µs,
/// phase sensor 16 qubits 170 → 153 µs, random net 16 qubits 189 → 162 µs; on two threads at
/// 24 qubits (4 products) TFIM grid complex 80 → 73 ms, sensor real 53 → 46 ms. Smaller
/// blocks (2^7, 2^8) were slower on every family; 2^12 was within 7 % of 2^11 either way
/// except on the 24-qubit sensor (19 % slower).
pub(crate) const SUB_BITS: u32 = 11;

/// Largest number of Z bits one table covers: `2^12` entries are 32 KiB (real) or 64 KiB
/// (complex), of which a sub-block touches at most `2^11`. A group whose Z-masks span more
/// bits is split into parts with a table each.
pub(crate) const TABLE_BITS: u32 = 12;

/// Entries beyond the end of a real table, so that the AVX-512 kernel may load 8 entries
/// from any valid index.
const TABLE_PAD: usize = 8;

/// One part of a group's coefficient, `c_p(b) = (−1)^{|parity ∧ b|} · T[pext(b, mask)]`, with
/// `T[k] = Σ_{t ∈ part} e_t (−1)^{|pext(z_t, mask) ∧ k|}` (pext = bit extraction: the bits of
/// `b` at the positions of `mask`, packed). A group's coefficient is the sum over its parts.
///
/// Within a sub-block `b = b0 | j` (`j < 2^SUB_BITS`, `b0` with no bit below the sub-block
/// size), `pext(b, mask) = pext(b0, mask) + pext(j, mask)`: the first term and the sign are
/// computed once per sub-block, the second is read from [`Table::lo_idx`], so each amplitude
/// costs one table load instead of one sign evaluation per term.
#[derive(Clone, Debug)]
pub(crate) struct Table {
    /// The Z bits the table is indexed by (the union of the part's Z-masks, ≤ [`TABLE_BITS`]).
    pub mask: u64,
    /// Z bits above the sub-block whose parity flips the sign (only for a single string with
    /// more than [`TABLE_BITS`] Z bits: its table covers the bits inside a sub-block).
    pub parity: u64,
    /// `pext(j, mask)` for every in-block offset `j < 2^SUB_BITS`.
    pub lo_idx: Vec<u16>,
    /// `T` in complex form (`2^m` entries).
    pub values_c: Vec<C64>,
    /// `T` in real form when the group is real: `2^m` entries, padded, then (with a parity)
    /// `−T`, so that a sub-block picks its sign by an offset.
    pub values_r: Vec<f64>,
    /// For a vector of 8 real amplitudes: the index offset of each lane from the vector's
    /// first (`pext(lane, mask)`: the mask's bits below 8).
    pub pattern_real: [u8; 8],
    /// The same for 4 complex amplitudes (8 floats, two per amplitude).
    pub pattern_complex: [u8; 8],
}

impl Table {
    /// Where `−T` starts in `values_r` (0 without a parity: the sign never flips).
    pub fn neg_offset(&self) -> usize {
        if self.parity == 0 {
            0
        } else {
            self.values_r.len() / 2
        }
    }

    /// Builds the table of `terms` (all with `z & !mask` inside `parity`), real form if given.
    fn new(mask: u64, parity: u64, terms: &[(u64, C64)], real: Option<&[(u64, f64)]>) -> Self {
        let m = mask.count_ones();
        let size = 1usize << m;
        // pext(j, mask) = pext(j without its lowest bit, mask) | the lowest bit's packed place.
        let mut lo_idx = vec![0u16; 1 << SUB_BITS];
        for j in 1..lo_idx.len() {
            let low = j & j.wrapping_neg();
            let bit = if mask & low as u64 != 0 {
                1u16 << (mask & (low as u64 - 1)).count_ones()
            } else {
                0
            };
            lo_idx[j] = lo_idx[j ^ low] | bit;
        }
        let packed: Vec<u64> = terms.iter().map(|&(z, _)| pext_soft(z, mask)).collect();
        // Summed in term order with `+=` / `−=`, as the per-term evaluation does, so that both
        // give bit-identical coefficients.
        let values_c = (0..size as u64)
            .map(|k| {
                let mut c = C64::new(0.0, 0.0);
                for (&(_, e), &zp) in terms.iter().zip(&packed) {
                    if (zp & k).count_ones() & 1 == 0 {
                        c += e;
                    } else {
                        c -= e;
                    }
                }
                c
            })
            .collect();
        let values_r = match real {
            None => Vec::new(),
            Some(terms_r) => {
                let half = size + TABLE_PAD;
                let mut v = vec![0.0; if parity == 0 { half } else { 2 * half }];
                for k in 0..size as u64 {
                    let mut c = 0.0;
                    for (&(_, e), &zp) in terms_r.iter().zip(&packed) {
                        if (zp & k).count_ones() & 1 == 0 {
                            c += e;
                        } else {
                            c -= e;
                        }
                    }
                    v[k as usize] = c;
                    if parity != 0 {
                        v[half + k as usize] = -c;
                    }
                }
                v
            }
        };
        let pattern = |w: u64| std::array::from_fn(|f| pext_soft(f as u64 / w, mask) as u8);
        Self {
            mask,
            parity,
            lo_idx,
            values_c,
            values_r,
            pattern_real: pattern(1),
            pattern_complex: pattern(2),
        }
    }
}

impl Group {
    /// (Re)builds [`Group::tables`] from the current coefficients: terms are packed greedily,
    /// in order, into parts whose Z bits fit one table; a string with more Z bits than that
    /// gets a part of its own whose table covers its bits inside a sub-block and whose sign
    /// comes from the parity of the rest.
    pub fn build_tables(&mut self) {
        let lo_bits: u64 = (1 << SUB_BITS) - 1;
        let real = self.is_real();
        let mut tables = Vec::new();
        let mut start = 0;
        let mut union = 0u64;
        let flush = |tables: &mut Vec<Table>, a: usize, b: usize, mask: u64| {
            if b > a {
                let r = if real {
                    Some(&self.terms_r[a..b])
                } else {
                    None
                };
                tables.push(Table::new(mask, 0, &self.terms_c[a..b], r));
            }
        };
        for (i, &(z, _)) in self.terms_c.iter().enumerate() {
            if z.count_ones() > TABLE_BITS {
                flush(&mut tables, start, i, union);
                let r = if real {
                    Some(&self.terms_r[i..=i])
                } else {
                    None
                };
                tables.push(Table::new(
                    z & lo_bits,
                    z & !lo_bits,
                    &self.terms_c[i..=i],
                    r,
                ));
                start = i + 1;
                union = 0;
            } else if (union | z).count_ones() > TABLE_BITS {
                flush(&mut tables, start, i, union);
                start = i;
                union = z;
            } else {
                union |= z;
            }
        }
        flush(&mut tables, start, self.terms_c.len(), union);
        self.tables = tables;
    }

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
    /// XOR on the global index for x's bits outside the tile: its partner tile (a single-pass
    /// plan, see `single_pass`, or the streaming fallback of a mask with too many high bits).
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
    /// The plain term-by-term evaluation: each amplitude sums the signs `±e_t` of every term
    /// of its group instead of reading a table (portable code; the oracle of the kernel tests).
    Terms,
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

/// Last-level cache the pass plan assumes (this AMD EPYC's L3, shared by its cores).
const L3_BYTES: usize = 32 << 20;

/// Whether an `n`-qubit operator applies every group in one pass over tiles of the low bits,
/// the groups on higher bits reading their sources from other tiles, instead of a second
/// pass over the output. Chosen where the second pass's data cannot be in cache but ψ can:
/// the two passes move ψ, the output and the diagonal (40 B per complex amplitude) through
/// memory twice once that exceeds the L3, while the partner tiles one pass reads stay in it as
/// long as ψ (16 B) fills at most half of it. That is 20 qubits on a 32 MiB L3, where one pass
/// took 0.91–0.94× the time of two for the complex TFIM grid and phase sensor and 0.91–0.94×
/// for their real vectors on one thread (`qep bench`, alternated, medians under load ~3; the
/// random net within the noise). Smaller states keep their two passes in L3; larger ones
/// would read ψ from memory once per partner tile.
pub(super) fn single_pass(n: usize) -> bool {
    n < 40 && {
        let dim = 1usize << n;
        40 * dim > L3_BYTES && 16 * dim <= L3_BYTES / 2
    }
}

/// Most distinct source blocks outside the tile a single-pass plan reads per output block:
/// the TFIM grid and the phase sensor have 3 (X on qubits 17, 18, 19, with low bits) and run
/// faster in one pass; the random net's 9 (pairs such as X10 X17, X12 X19) ran no faster on one
/// thread and slower in the median (12.6 → 14.1 ms, 20 qubits complex, under load ~3).
const MAX_FAR_STREAMS: usize = 4;

/// Smallest chunk (2^3 amplitudes = 128 B complex, two cache lines) worth streaming.
const MIN_CHUNK_BITS: u32 = 3;

/// Chunks a pass keeps when packing groups (2^8 amplitudes = 4 KiB complex): the high masks of
/// a 24-qubit TFIM (8 single bits above the 2^16 tile) still share one pass.
const GOOD_CHUNK_BITS: u32 = 8;

impl XMaskOperator {
    /// Groups the terms of `sum` by X-mask and computes the diagonal.
    ///
    /// Memory: one diagonal of `2^n` reals (complex if the operator is not Hermitian), checked
    /// against the machine's available memory before allocating.
    ///
    /// # Errors
    /// [`OperatorError::TooLarge`] (via the memory check) if the diagonal does not fit.
    /// # Examples
    /// `H·ψ` for `H = −Z0 Z1 − X0` on `|00⟩`: `−|00⟩ − |01⟩` (qubit 0 is bit 0 of the index).
    /// ```
    /// use qep::operator::{LinearOperator, XMaskOperator};
    /// use qep::pauli::{PauliString, PauliSum};
    /// let mut h = PauliSum::new(2);
    /// h.add(PauliString::parse("Z0 Z1")?, -1.0);
    /// h.add(PauliString::parse("X0")?, -1.0);
    /// let op = XMaskOperator::new(&h)?;
    /// assert_eq!((op.qubits(), op.n_groups()), (2, 2));
    /// let psi = [1.0, 0.0, 0.0, 0.0];
    /// let mut out = [0.0; 4];
    /// op.apply(&psi, &mut out); // real arithmetic: H is real in the Z basis
    /// assert_eq!(out, [-1.0, -1.0, 0.0, 0.0]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
                        tables: Vec::new(),
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
            g.build_tables();
        }
        let dim = 1usize << n;
        let diag_real = diag_terms.iter().all(|(_, e)| e.im == 0.0);
        let diag = if diag_terms.is_empty() {
            Diagonal::Zero
        } else if diag_real {
            memory::check_alloc(dim * 8, "operator diagonal")?;
            Diagonal::Real(compute_diagonal(n, |_| 0.0, &diag_terms, |e| e.re))
        } else {
            memory::check_alloc(dim * 16, "operator diagonal")?;
            Diagonal::Complex(compute_diagonal(
                n,
                |_| C64::new(0.0, 0.0),
                &diag_terms,
                |e| e,
            ))
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

    /// Number of coefficient tables the kernels read: one per part of every X-mask group whose
    /// coefficient depends on the basis state (Z or Y letters), more than one where a group's
    /// Z bits do not fit one table. Constant groups (no Z bits) need none.
    pub fn n_tables(&self) -> usize {
        self.groups
            .iter()
            .filter(|g| !g.is_constant())
            .map(|g| g.tables.len())
            .sum()
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

    /// `H − σ` as an operator of its own: the same groups, tables and pass plan, the diagonal
    /// lowered by `σ` (one created when `H` has none). Its product costs what `H`'s does —
    /// the shift rides on the first pass's diagonal term — where applying `H` and then
    /// subtracting `σ ψ` takes one more pass over three vectors: what a shift-and-solve method
    /// around an eigenvalue (MINRES) applies at every step.
    ///
    /// Memory: a diagonal of `2^n` reals (complex if `H`'s is), checked before allocating.
    ///
    /// # Errors
    /// [`OperatorError::TooLarge`] (via the memory check) if the diagonal does not fit.
    ///
    /// # Examples
    /// ```
    /// use qep::operator::XMaskOperator;
    /// use qep::pauli::{PauliString, PauliSum};
    /// let mut h = PauliSum::new(1);
    /// h.add(PauliString::parse("X0")?, 1.0);
    /// let op = XMaskOperator::new(&h)?.shifted(2.0)?;
    /// let mut out = [0.0; 2];
    /// op.apply_into(&[1.0, 3.0], &mut out);
    /// assert_eq!(out, [3.0 - 2.0, 1.0 - 6.0]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shifted(&self, sigma: f64) -> Result<Self, OperatorError> {
        let mut identity = crate::pauli::PauliSum::new(self.n);
        identity.add(crate::pauli::PauliString::IDENTITY, 1.0);
        self.plus_diagonal(-sigma, &identity)
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
    /// passes whose tiles hold their mask bits plus as many low bits as fit. When
    /// [`single_pass`] says so and the groups above the tile read at most [`MAX_FAR_STREAMS`]
    /// distinct source blocks, every group joins the first pass instead, those reading their
    /// partner tile at the fixed offset [`Flip::xo`].
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
        // The sub-block sources the high groups would read from other tiles (their mask bits
        // from the sub-block size up), each one more stream from L3 per output block.
        let mut far: Vec<u64> = rest
            .iter()
            .map(|&i| self.groups[i].x & !((1u64 << SUB_BITS) - 1))
            .collect();
        far.sort_unstable();
        far.dedup();
        if !rest.is_empty() && far.len() <= MAX_FAR_STREAMS && single_pass(self.n) {
            first_groups.extend(rest);
            return vec![self.make_pass(k, 0, first_groups, true)];
        }
        let mut passes = vec![self.make_pass(k, 0, first_groups, true)];
        // Greedy packing of the remaining groups (already in ascending x order).
        let best_c = |u: u64| -> Option<u32> {
            (MIN_CHUNK_BITS.min(n)..=k)
                .rev()
                .find(|&c| c + (u >> c).count_ones() <= k)
        };
        // A group joins the current pass only if the chunks stay long: runs of at least
        // 2^GOOD_CHUNK_BITS contiguous amplitudes, unless the pass or the mask alone already
        // forces shorter ones. Masks mixing low and high qubits (X_2 X_17) would otherwise drag
        // a whole pass down to 8-amplitude chunks scattered over the state (10× slower than
        // one more streaming pass).
        let fits = |union: u64, x: u64| match (best_c(union | x), best_c(x)) {
            (Some(c), Some(cx)) => {
                c >= GOOD_CHUNK_BITS.min(cx).min(best_c(union).unwrap_or(k)) || union == 0
            }
            _ => false,
        };
        let mut cur: Vec<usize> = Vec::new();
        let mut union = 0u64;
        for i in rest {
            let x = self.groups[i].x;
            if fits(union, x) {
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
                // Bits of x outside the tile leave it: a single-pass plan's high groups and the
                // streaming fallback read their sources from another tile.
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

/// `pext(x, mask)`: the bits of `x` at the positions set in `mask`, packed into the low bits
/// (software PEXT; the kernels use the BMI2 instruction where it is fast).
#[inline]
pub(crate) fn pext_soft(x: u64, mut mask: u64) -> u64 {
    let mut r = 0u64;
    let mut k = 0;
    while mask != 0 {
        let low = mask & mask.wrapping_neg();
        if x & low != 0 {
            r |= 1 << k;
        }
        k += 1;
        mask &= mask - 1;
    }
    r
}

/// `Σ_i bit_i(q) 2^{positions[i]}` (software PDEP; used when planning, never per amplitude).
pub(crate) fn deposit(q: usize, positions: &[u32]) -> usize {
    positions
        .iter()
        .enumerate()
        .filter(|(i, _)| (q >> i) & 1 == 1)
        .fold(0usize, |acc, (_, &b)| acc | (1usize << b))
}

/// The diagonal `d[b] = base(b) + Σ_t e_t (−1)^{|z_t ∧ b|}`, built in parallel chunks: an
/// operator's own (`base` zero) or one added to another's ([`XMaskOperator::plus_diagonal`]).
/// The caller has checked that `2^n` entries fit.
pub(super) fn compute_diagonal<T: Copy + Default + Send + Sync + std::ops::AddAssign>(
    n: usize,
    base: impl Fn(usize) -> T + Sync,
    terms: &[(u64, C64)],
    conv: impl Fn(C64) -> T + Sync,
) -> Vec<T> {
    let dim = 1usize << n;
    let conv_terms: Vec<(u64, T, T)> = terms.iter().map(|&(z, e)| (z, conv(e), conv(-e))).collect();
    // Written once, by the threads that compute it: no zeroing pass first (on this kind of VM
    // the first touch of the 2^n fresh entries costs about an H·ψ).
    memory::filled_with(dim, |off, chunk: &mut [T]| {
        for (j, v) in chunk.iter_mut().enumerate() {
            let b = off + j;
            let mut acc = base(b);
            for &(z, p, m) in &conv_terms {
                acc += if (z & b as u64).count_ones() & 1 == 0 {
                    p
                } else {
                    m
                };
            }
            *v = acc;
        }
    })
}
