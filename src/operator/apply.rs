//! `H·ψ` without storing a matrix: a few cache-blocked streaming passes over ψ.
//!
//! Within a pass, each *tile* (see [`Pass`]) is processed in sub-blocks of the output (at
//! most L1's size): a sub-block is written once from the diagonal (first pass) or read once,
//! then every X-mask group of the pass adds its flipped source block into it, and it is
//! written back once. Groups with real coefficients (all of them for a real Hermitian `H`,
//! whatever the vector's type) work on interleaved `f64` arrays, `W` floats per amplitude, so
//! that complex vectors need no complex multiplications.

use std::any::TypeId;
use std::ops::Range;

use rayon::prelude::*;

use num_complex::Complex;

use crate::scalar::{Scalar, SingleScalar, C32, C64};

use super::xmask::{
    deposit, pext_soft, Diagonal, Flip, Group, Kernel, Pass, Table, XMaskOperator, SUB_BITS,
};

/// Amplitudes per output sub-block (see [`SUB_BITS`]): 2048 complex amplitudes are 32 KiB,
/// the size of L1, for the groups that add into the block one at a time (complex tables, the
/// term-by-term oracle); the fused kernel reads and writes each output vector once.
const SUB: usize = 1 << SUB_BITS;

/// Fewest amplitudes one parallel task of a pass covers (256 KiB of complex output): below
/// that, rayon's hand-off costs more than the work it shares.
const MIN_TASK: usize = 1 << 14;

/// Fixed partial sums of the inner product of [`XMaskOperator::apply_dot_into`] (a stack
/// array, as in `state::dot`): at most this many ranges of the last pass, whatever the
/// thread count.
const DOT_PARTS: usize = 64;

/// A raw output pointer shared by the tile workers.
///
/// SAFETY: each tile writes a disjoint set of indices (the tiles partition `0..2^n`; each
/// index belongs to the tile given by its bits outside the pass's tile bits), and every read
/// of the output inside a tile touches only that tile's indices.
struct OutPtr<F>(*mut F);
impl<F> Clone for OutPtr<F> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<F> Copy for OutPtr<F> {}
unsafe impl<F> Send for OutPtr<F> {}
unsafe impl<F> Sync for OutPtr<F> {}

impl XMaskOperator {
    /// `out = H ψ`, allocation-free, parallel over tiles (rayon), deterministic: every output
    /// amplitude is computed by one thread in a fixed order, whatever the thread count.
    ///
    /// `T` is `f64` (allowed when [`XMaskOperator::is_real`]) or `C64`.
    ///
    /// # Panics
    /// If the lengths differ from `2^n`, or if `T = f64` on an operator that is not real.
    #[track_caller]
    pub fn apply_into<T: Scalar>(&self, psi: &[T], out: &mut [T]) {
        self.apply_double(psi, out, false);
    }

    /// `out = H ψ` and `⟨ψ, out⟩ = Σ_b conj(ψ_b) out_b` in the same call: the last pass adds
    /// each output sub-block's share while the block is still in L1 (and its ψ block in L2),
    /// so the inner product costs no pass over memory of its own (a Lanczos step's `α`).
    ///
    /// Deterministic: the last pass is cut into fixed ranges of sub-blocks whatever the thread
    /// count, each range summed in block order and the ranges in index order, so 1 and 2
    /// threads give the same bits. `out` has the bits of [`XMaskOperator::apply_into`]; the
    /// inner product agrees with `state::dot(ψ, out)` to rounding (another summation order).
    ///
    /// # Panics
    /// As [`XMaskOperator::apply_into`].
    ///
    /// # Examples
    /// ```
    /// use qep::operator::XMaskOperator;
    /// use qep::pauli::{PauliString, PauliSum};
    /// let mut h = PauliSum::new(1);
    /// h.add(PauliString::parse("X0")?, 1.0);
    /// h.add(PauliString::parse("Z0")?, 0.5);
    /// let op = XMaskOperator::new(&h)?;
    /// let psi = [1.0, 1.0];
    /// let mut out = [0.0; 2];
    /// // H (1, 1) = (1.5, 0.5); ⟨ψ, Hψ⟩ = 2.
    /// assert_eq!(op.apply_dot_into(&psi, &mut out), 2.0);
    /// assert_eq!(out, [1.5, 0.5]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[track_caller]
    pub fn apply_dot_into<T: Scalar>(&self, psi: &[T], out: &mut [T]) -> T {
        let [re, im] = self.apply_double(psi, out, true);
        T::from_c64(C64::new(re, im)).unwrap_or_else(|| T::from_f64(re))
    }

    /// The body of [`XMaskOperator::apply_into`] (`dot` false: returns zeros) and
    /// [`XMaskOperator::apply_dot_into`] (the real and imaginary parts of `⟨ψ, out⟩`).
    #[track_caller]
    fn apply_double<T: Scalar>(&self, psi: &[T], out: &mut [T], dot: bool) -> [f64; 2] {
        assert_eq!(psi.len(), self.dim(), "ψ has the wrong length");
        assert_eq!(out.len(), self.dim(), "output has the wrong length");
        let w = if TypeId::of::<T>() == TypeId::of::<f64>() {
            assert!(
                self.real,
                "real arithmetic on an operator with complex coefficients"
            );
            1
        } else if TypeId::of::<T>() == TypeId::of::<C64>() {
            2
        } else {
            unreachable!("Scalar is implemented for f64 and C64 only");
        };
        // SAFETY: T is f64 (w = 1) or C64 = {re: f64, im: f64} (repr(C), w = 2), checked by
        // TypeId, so both slices are arrays of `w · len` f64.
        let (p, o) = unsafe {
            (
                std::slice::from_raw_parts(psi.as_ptr() as *const f64, psi.len() * w),
                std::slice::from_raw_parts_mut(out.as_mut_ptr() as *mut f64, out.len() * w),
            )
        };
        if w == 1 {
            self.run::<f64, 1>(p, o, dot)
        } else {
            self.run::<f64, 2>(p, o, dot)
        }
    }

    /// `out = H ψ` in single precision: `T` is `f32` (allowed when
    /// [`XMaskOperator::is_real`]) or [`C32`]. The same pass plan, tiles and coefficient tables
    /// as [`XMaskOperator::apply_into`], with half the bytes per amplitude; coefficients and
    /// the diagonal are read in double precision and rounded once per use, so the result
    /// agrees with the double-precision product to about `10⁻⁷ · Σ|c| · max|ψ|` per amplitude.
    /// Allocation-free, parallel over tiles, deterministic (independent of the thread count).
    /// The kernels are those of the double-precision product, generic over the stored float:
    /// the AVX-512 one widens each 8 loaded floats to `f64`, accumulates every fused group in
    /// double precision and rounds once when it stores the output block.
    ///
    /// # Panics
    /// If the lengths differ from `2^n`, or if `T = f32` on an operator that is not real.
    ///
    /// # Examples
    /// ```
    /// use qep::operator::XMaskOperator;
    /// use qep::pauli::{PauliString, PauliSum};
    /// use qep::scalar::C32;
    /// let mut h = PauliSum::new(2);
    /// h.add(PauliString::parse("Z0 Z1")?, -1.0);
    /// h.add(PauliString::parse("Y0")?, 0.5);
    /// let op = XMaskOperator::new(&h)?;
    /// let psi = [C32::new(1.0, 0.0), C32::new(0.0, 0.0), C32::new(0.0, 0.0), C32::new(0.0, 0.0)];
    /// let mut out = [C32::new(0.0, 0.0); 4];
    /// op.apply_single(&psi, &mut out); // Y0|00⟩ = i|01⟩ (qubit 0 is bit 0)
    /// assert_eq!(out[0], C32::new(-1.0, 0.0));
    /// assert_eq!(out[1], C32::new(0.0, 0.5));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[track_caller]
    pub fn apply_single<T: SingleScalar>(&self, psi: &[T], out: &mut [T]) {
        assert_eq!(psi.len(), self.dim(), "ψ has the wrong length");
        assert_eq!(out.len(), self.dim(), "output has the wrong length");
        let w = if T::IS_COMPLEX {
            2
        } else {
            assert!(
                self.real,
                "real arithmetic on an operator with complex coefficients"
            );
            1
        };
        let p: &[f32] = bytemuck::cast_slice(psi);
        let o: &mut [f32] = bytemuck::cast_slice_mut(out);
        debug_assert_eq!(p.len(), w * self.dim());
        if w == 1 {
            self.run::<f32, 1>(p, o, false);
        } else {
            self.run::<f32, 2>(p, o, false);
        }
    }

    fn isa(&self) -> Isa {
        match self.kernel {
            Kernel::Auto => Isa::detect(),
            Kernel::Portable | Kernel::Terms => Isa::Base,
        }
    }

    /// Applies every pass; with `dot`, returns `⟨ψ, out⟩` (real, imaginary part) accumulated
    /// by the last pass (zeros without).
    fn run<F: Float, const W: usize>(&self, psi: &[F], out: &mut [F], dot: bool) -> [f64; 2] {
        let ptr = OutPtr(out.as_mut_ptr());
        let isa = self.isa();
        self.each_task(dot, |pass, base, run, dot| {
            // SAFETY: see `OutPtr`; `out` has 2^n amplitudes; `isa` was detected on this CPU.
            unsafe {
                match isa {
                    #[cfg(target_arch = "x86_64")]
                    Isa::Avx512 => self.tile_avx512::<F, W>(pass, base, run, psi, ptr, dot),
                    #[cfg(target_arch = "x86_64")]
                    Isa::Avx2 => self.tile_avx2::<F, W>(pass, base, run, psi, ptr, dot),
                    // The portable fused kernel, compiled for the baseline target.
                    Isa::Base => self.tile_with::<F, W, false>(pass, base, run, psi, ptr, dot),
                }
            }
        })
    }

    /// Runs `task(pass, base, sub-blocks, false)` over every pass, in order, and over its tiles
    /// in parallel (each tile and run of sub-blocks by one thread). With `dot`, the last pass
    /// runs as [`Self::dot_pass`] and its inner product is returned (zeros without).
    fn each_task(
        &self,
        dot: bool,
        task: impl Fn(&Pass, usize, Range<usize>, bool) -> [f64; 2] + Sync,
    ) -> [f64; 2] {
        let threads = rayon::current_num_threads();
        for (i, pass) in self.passes.iter().enumerate() {
            let n_tiles = 1usize << pass.outer.len();
            let sub = (1usize << pass.c).min(SUB);
            let blocks = pass.chunk_offsets.len() * ((1usize << pass.c) / sub);
            if dot && i + 1 == self.passes.len() {
                return Self::dot_pass(pass, n_tiles, blocks, sub, &task);
            }
            // Tiles split into runs of sub-blocks when there are too few of them to keep every
            // thread busy (one tile holds a whole 16-qubit state): a few tasks per thread, none
            // under MIN_TASK amplitudes. Sub-blocks are computed alike whatever the split.
            let parts = (blocks * sub / MIN_TASK)
                .min((4 * threads).div_ceil(n_tiles))
                .max(1);
            let one = |t: usize| {
                let (o, p) = (t / parts, t % parts);
                let base = deposit(o, &pass.outer);
                task(
                    pass,
                    base,
                    p * blocks / parts..(p + 1) * blocks / parts,
                    false,
                );
            };
            if n_tiles * parts == 1 {
                one(0);
            } else {
                (0..n_tiles * parts).into_par_iter().for_each(one);
            }
        }
        [0.0; 2]
    }

    /// The last pass of [`XMaskOperator::apply_dot_into`]: its `n_tiles · blocks` sub-blocks,
    /// numbered tile by tile, are cut into [`DOT_PARTS`] (fewer for small states) fixed ranges
    /// that do not depend on the thread count; `task` returns each run's share of `⟨ψ, out⟩`
    /// summed in block order, a range adds its runs in order, and the ranges are added in
    /// index order: the same bits on any number of threads (like `state::dot`).
    fn dot_pass(
        pass: &Pass,
        n_tiles: usize,
        blocks: usize,
        sub: usize,
        task: &(impl Fn(&Pass, usize, Range<usize>, bool) -> [f64; 2] + Sync),
    ) -> [f64; 2] {
        let total = n_tiles * blocks;
        let units = (total * sub / MIN_TASK).clamp(1, DOT_PARTS);
        let unit = |u: usize| {
            let (mut i, end) = (u * total / units, (u + 1) * total / units);
            let mut acc = [0.0f64; 2];
            while i < end {
                let tile = i / blocks;
                let stop = end.min((tile + 1) * blocks);
                let first = tile * blocks;
                let r = task(
                    pass,
                    deposit(tile, &pass.outer),
                    i - first..stop - first,
                    true,
                );
                acc[0] += r[0];
                acc[1] += r[1];
                i = stop;
            }
            acc
        };
        let mut parts = [[0.0f64; 2]; DOT_PARTS];
        if units == 1 {
            parts[0] = unit(0);
        } else {
            parts[..units]
                .par_iter_mut()
                .enumerate()
                .for_each(|(u, p)| *p = unit(u));
        }
        let mut sum = [0.0f64; 2];
        for p in &parts[..units] {
            sum[0] += p[0];
            sum[1] += p[1];
        }
        sum
    }

    /// [`Self::tile_with`] compiled for AVX-512 (the kernels are streams of FMAs on `f64`).
    ///
    /// # Safety
    /// As [`Self::tile_with`], and the CPU must support AVX-512F and BMI2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx2,fma,bmi2")]
    unsafe fn tile_avx512<F: Float, const W: usize>(
        &self,
        pass: &Pass,
        base: usize,
        run: Range<usize>,
        psi: &[F],
        out: OutPtr<F>,
        dot: bool,
    ) -> [f64; 2] {
        self.tile_with::<F, W, true>(pass, base, run, psi, out, dot)
    }

    /// [`Self::tile_with`] compiled for AVX2 + FMA.
    ///
    /// # Safety
    /// As [`Self::tile_with`], and the CPU must support AVX2 and FMA.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn tile_avx2<F: Float, const W: usize>(
        &self,
        pass: &Pass,
        base: usize,
        run: Range<usize>,
        psi: &[F],
        out: OutPtr<F>,
        dot: bool,
    ) -> [f64; 2] {
        self.tile_with::<F, W, false>(pass, base, run, psi, out, dot)
    }

    /// Applies one pass to the sub-blocks `run` (numbered chunk by chunk) of the tile whose outer
    /// bits are `base`. Inlined into the
    /// `target_feature` variants, so the same source is compiled once per instruction set;
    /// `AVX512` selects the intrinsic fused kernel (and the BMI2 `pext` instruction).
    ///
    /// # Safety
    /// `out` points to `2^n · W` floats and no other thread touches this tile's indices; with
    /// `AVX512` the CPU must support AVX-512F and BMI2.
    #[inline(always)]
    unsafe fn tile_with<F: Float, const W: usize, const AVX512: bool>(
        &self,
        pass: &Pass,
        base: usize,
        run: Range<usize>,
        psi: &[F],
        out: OutPtr<F>,
        dot: bool,
    ) -> [f64; 2] {
        let len = 1usize << pass.c;
        let sub = len.min(SUB);
        let plain = self.kernel == Kernel::Terms;
        // Real groups are fused: each 8-float vector of the output is loaded once, receives
        // every such group's contribution in a register, and is stored once (the gather form
        // of H·ψ), which cuts the L1 traffic per group from load + store + load to one load.
        // Constant groups (fields X_i, couplings X_iX_j, …: all of a TFIM) fuse in every
        // kernel; groups with Z-dependent signs fuse in the intrinsic kernel, which reads their
        // coefficients from the group's tables (one load and one in-register permutation per
        // vector and table).
        let fusable = sub * W >= LANES;
        let fuses = |g: &Group| fusable && g.is_real() && (g.is_constant() || (AVX512 && !plain));
        // With the intrinsic kernel the first pass also fuses `diag · ψ` into the accumulators'
        // initial values, saving a store and a reload of every output block.
        let diag_ptr = match &self.diag {
            Diagonal::Real(d) if AVX512 && fusable && pass.first => Some(d.as_ptr()),
            _ => None,
        };
        let mut srcs = [Src::<F>::EMPTY; FUSE_MAX];
        let per_chunk = len / sub;
        let mut acc = [0.0f64; 2];
        let prefetch =
            AVX512 && !plain && fusable && std::mem::size_of_val(psi) >= PREFETCH_MIN_BYTES;
        let end = run.end;
        // The output of a one-pass plan is final when the fused sweep stores it: on states
        // whose output fills half the L3 or more, non-temporal stores write it straight to
        // memory, with no read for ownership and without evicting the ψ tiles the high groups
        // still read. Not with `dot`, which reads each block back while it is in L1.
        let stream = AVX512
            && !plain
            && !dot
            && fusable
            && pass.first
            && self.passes.len() == 1
            && std::mem::size_of_val(psi) >= STREAM_MIN_BYTES
            && (out.0 as usize).is_multiple_of(64)
            && pass.groups.iter().all(|gi| fuses(&self.groups[*gi]));
        for block in run {
            let (q, sb) = (block / per_chunk, block % per_chunk * sub);
            // The streams of this sub-block and the next, fetched a fixed distance ahead of
            // the kernel's reads: its output, its ψ and diagonal (first pass), and every
            // group's source block.
            let mut ahead = Ahead::EMPTY;
            if prefetch {
                let b0 = base + pass.chunk_offsets[q] + sb;
                let next = (block + 1 < end).then(|| {
                    let (nq, nsb) = ((block + 1) / per_chunk, (block + 1) % per_chunk * sub);
                    (nq, nsb, base + pass.chunk_offsets[nq] + nsb)
                });
                let nb0 = next.map(|(_, _, nb0)| nb0);
                let at = |p: *const F, b: Option<usize>| {
                    b.map_or(std::ptr::null(), |b| p.add(b * W) as *const u8)
                };
                let bpa = W * std::mem::size_of::<F>();
                ahead.push(at(out.0, Some(b0)), at(out.0, nb0), bpa);
                if pass.first {
                    ahead.push(at(psi.as_ptr(), Some(b0)), at(psi.as_ptr(), nb0), bpa);
                    if let Diagonal::Real(d) = &self.diag {
                        let dp = |b: Option<usize>| {
                            b.map_or(std::ptr::null(), |b| d.as_ptr().add(b) as *const u8)
                        };
                        ahead.push(dp(Some(b0)), dp(nb0), 8);
                    }
                }
                for flip in &pass.flips {
                    let src = |q: usize, sb: usize| {
                        let chunk = (base + pass.chunk_offsets[q ^ flip.xq]) ^ flip.xo;
                        chunk + (sb ^ (flip.xl & !(sub - 1)))
                    };
                    ahead.push(
                        at(psi.as_ptr(), Some(src(q, sb))),
                        at(psi.as_ptr(), next.map(|(nq, nsb, _)| src(nq, nsb))),
                        bpa,
                    );
                }
            }
            {
                let b0 = base + pass.chunk_offsets[q] + sb;
                let o = std::slice::from_raw_parts_mut(out.0.add(b0 * W), sub * W);
                if pass.first && diag_ptr.is_none() {
                    self.diag_block::<F, W>(b0, &psi[b0 * W..(b0 + sub) * W], o);
                }
                let source = |flip: &Flip| {
                    let chunk = (base + pass.chunk_offsets[q ^ flip.xq]) ^ flip.xo;
                    let s0 = chunk + (sb ^ (flip.xl & !(sub - 1)));
                    (&psi[s0 * W..(s0 + sub) * W], flip.xl & (sub - 1))
                };
                // Fused groups first (they may initialise `o` from the diagonal), then the rest.
                let mut init = diag_ptr.map(|d| Init {
                    diag: d.add(b0),
                    psi: psi.as_ptr().add(b0 * W),
                    w: W,
                });
                // No closure may call the fused kernel: closures do not inherit the
                // instruction set of the `target_feature` function they are written in.
                let mut n_src = 0;
                for (gi, flip) in pass.groups.iter().zip(&pass.flips) {
                    let g = &self.groups[*gi];
                    if !fuses(g) {
                        continue;
                    }
                    let (s, xl_lo) = source(flip);
                    let parts = if g.is_constant() { 1 } else { g.tables.len() };
                    for k in 0..parts {
                        srcs[n_src] = if g.is_constant() {
                            Src {
                                ptr: s.as_ptr(),
                                flip: xl_lo * W,
                                e: g.terms_r[0].1,
                                ..Src::EMPTY
                            }
                        } else {
                            let t = &g.tables[k];
                            let (hi, neg) = table_start::<AVX512>(t, b0);
                            let at = hi + if neg { t.neg_offset() } else { 0 };
                            let pattern = if W == 1 {
                                t.pattern_real
                            } else {
                                t.pattern_complex
                            };
                            if t.mask & (sub as u64 - 1) == 0 {
                                // No Z bit inside the sub-block: one coefficient for all of it.
                                Src {
                                    ptr: s.as_ptr(),
                                    flip: xl_lo * W,
                                    e: t.values_r[at],
                                    ..Src::EMPTY
                                }
                            } else {
                                Src {
                                    ptr: s.as_ptr(),
                                    flip: xl_lo * W,
                                    e: 0.0,
                                    table: t.values_r.as_ptr().add(at),
                                    lo: t.lo_idx.as_ptr(),
                                    // No Z bit inside a register: one entry for all its lanes.
                                    uniform: pattern == [0; LANES],
                                    // No Z bit inside a step of the fused kernel (4
                                    // registers): one entry for the whole step.
                                    step_uniform: t.mask & (4 * LANES as u64 / W as u64 - 1) == 0,
                                    pattern,
                                }
                            }
                        };
                        n_src += 1;
                        if n_src == FUSE_MAX {
                            add_fused::<F, AVX512>(
                                o,
                                &srcs[..n_src],
                                init.take(),
                                W,
                                &ahead,
                                false,
                            );
                            ahead.n = 0;
                            n_src = 0;
                        }
                    }
                }
                if n_src > 0 || init.is_some() {
                    add_fused::<F, AVX512>(o, &srcs[..n_src], init.take(), W, &ahead, stream);
                }
                for (gi, flip) in pass.groups.iter().zip(&pass.flips) {
                    let g = &self.groups[*gi];
                    if fuses(g) {
                        continue;
                    }
                    let (s, xl_lo) = source(flip);
                    add_group::<F, W, AVX512>(g, o, s, xl_lo, b0, plain);
                }
                if dot {
                    // The block is final (this is the last pass) and still in L1.
                    let d = dot_block::<F, W>(&psi[b0 * W..(b0 + sub) * W], o);
                    acc[0] += d[0];
                    acc[1] += d[1];
                }
            }
        }
        #[cfg(target_arch = "x86_64")]
        if stream {
            // Non-temporal stores are weakly ordered: drain them before the task ends.
            std::arch::x86_64::_mm_sfence();
        }
        acc
    }

    /// `o = diag · ψ` on the sub-block starting at amplitude `b0`.
    #[inline(always)]
    fn diag_block<F: Float, const W: usize>(&self, b0: usize, psi: &[F], o: &mut [F]) {
        match &self.diag {
            Diagonal::Zero => o.fill(F::default()),
            Diagonal::Real(d) => {
                let d = &d[b0..b0 + o.len() / W];
                for ((oc, pc), &dv) in o.chunks_exact_mut(W).zip(psi.chunks_exact(W)).zip(d) {
                    let dv = F::of(dv);
                    for r in 0..W {
                        oc[r] = dv * pc[r];
                    }
                }
            }
            Diagonal::Complex(d) => {
                // A complex diagonal makes the operator complex, so W = 2 here.
                let d = &d[b0..b0 + o.len() / 2];
                for ((ov, &pv), &dv) in as_cplx_mut(o).iter_mut().zip(as_cplx(psi)).zip(d) {
                    *ov = F::mul_c(F::c(dv), pv);
                }
            }
        }
    }
}

/// The instruction set the kernels run with, detected once per application (a cached CPUID
/// read): the crate is built for baseline x86-64 (SSE2) so that the binary runs anywhere, and
/// the hot loop picks AVX2/FMA or AVX-512 at run time where the CPU has them.
#[derive(Clone, Copy)]
enum Isa {
    #[cfg(target_arch = "x86_64")]
    Avx512,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    Base,
}

impl Isa {
    fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            // Every CPU with AVX-512 has BMI2, and a fast `pext` (the slow microcoded one of
            // AMD Zen 1/2 comes without AVX-512).
            if is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("bmi2") {
                return Isa::Avx512;
            }
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                return Isa::Avx2;
            }
        }
        Isa::Base
    }
}

/// The float type of a kernel: `f64` (the double-precision paths) or `f32` (single precision,
/// [`XMaskOperator::apply_single`]). Coefficients stay `f64` and are rounded once per use.
pub(super) trait Float:
    Copy + Default + Send + Sync + std::ops::Mul<Output = Self> + std::ops::AddAssign + 'static
{
    /// Rounds a coefficient to this precision.
    fn of(x: f64) -> Self;
    /// Widens to `f64` (exact).
    fn to_f64(self) -> f64;
    /// Rounds a complex coefficient to this precision.
    #[inline(always)]
    fn c(x: C64) -> Complex<Self> {
        Complex::new(Self::of(x.re), Self::of(x.im))
    }
    /// The complex product `a · b` (num-complex's, in this precision).
    fn mul_c(a: Complex<Self>, b: Complex<Self>) -> Complex<Self>;
    /// `a += b` on complex numbers.
    fn add_c(a: &mut Complex<Self>, b: Complex<Self>);
    /// Loads 8 floats at `p` into a register of 8 `f64` (widened from `f32`): the AVX-512
    /// kernel computes in double precision whatever the storage.
    ///
    /// # Safety
    /// 8 readable floats at `p`; the CPU supports AVX-512F (inlined into such a caller).
    #[cfg(target_arch = "x86_64")]
    unsafe fn load8(p: *const Self) -> std::arch::x86_64::__m512d;
    /// Stores a register of 8 `f64` as 8 floats at `p` (rounded to `f32`).
    ///
    /// # Safety
    /// 8 writable floats at `p`; the CPU supports AVX-512F (inlined into such a caller).
    #[cfg(target_arch = "x86_64")]
    unsafe fn store8(p: *mut Self, v: std::arch::x86_64::__m512d);
    /// As [`Float::store8`] with a non-temporal store (past the caches, no read for
    /// ownership).
    ///
    /// # Safety
    /// As [`Float::store8`], and `p` is aligned to the 8 floats' size.
    #[cfg(target_arch = "x86_64")]
    unsafe fn stream8(p: *mut Self, v: std::arch::x86_64::__m512d);
}

impl Float for f64 {
    #[inline(always)]
    fn of(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn mul_c(a: C64, b: C64) -> C64 {
        a * b
    }
    #[inline(always)]
    fn add_c(a: &mut C64, b: C64) {
        *a += b;
    }
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn load8(p: *const f64) -> std::arch::x86_64::__m512d {
        std::arch::x86_64::_mm512_loadu_pd(p)
    }
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn store8(p: *mut f64, v: std::arch::x86_64::__m512d) {
        std::arch::x86_64::_mm512_storeu_pd(p, v)
    }
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn stream8(p: *mut f64, v: std::arch::x86_64::__m512d) {
        std::arch::x86_64::_mm512_stream_pd(p, v)
    }
}

impl Float for f32 {
    #[inline(always)]
    fn of(x: f64) -> Self {
        x as f32
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    #[inline(always)]
    fn mul_c(a: C32, b: C32) -> C32 {
        a * b
    }
    #[inline(always)]
    fn add_c(a: &mut C32, b: C32) {
        *a += b;
    }
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn load8(p: *const f32) -> std::arch::x86_64::__m512d {
        use std::arch::x86_64::*;
        _mm512_cvtps_pd(_mm256_loadu_ps(p))
    }
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn store8(p: *mut f32, v: std::arch::x86_64::__m512d) {
        use std::arch::x86_64::*;
        _mm256_storeu_ps(p, _mm512_cvtpd_ps(v))
    }
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn stream8(p: *mut f32, v: std::arch::x86_64::__m512d) {
        use std::arch::x86_64::*;
        _mm256_stream_ps(p, _mm512_cvtpd_ps(v))
    }
}

fn as_cplx<F: Float>(x: &[F]) -> &[Complex<F>] {
    // SAFETY: Complex<F> is repr(C) {re, im}; callers pass slices of complex vectors (even
    // length).
    unsafe { std::slice::from_raw_parts(x.as_ptr() as *const Complex<F>, x.len() / 2) }
}

fn as_cplx_mut<F: Float>(x: &mut [F]) -> &mut [Complex<F>] {
    // SAFETY: as `as_cplx`.
    unsafe { std::slice::from_raw_parts_mut(x.as_mut_ptr() as *mut Complex<F>, x.len() / 2) }
}

/// Adds one group's contribution `o[j] += c(b0 + j) · s[j ⊕ xl]` to an output sub-block (the
/// path of every group the fused kernel does not take): a constant coefficient, the group's
/// tables, or with `plain` the term-by-term signs (the oracle). `W` floats per amplitude;
/// `BMI2` selects the `pext` instruction.
///
/// # Safety
/// With `BMI2` the CPU supports it (the caller is compiled with it).
#[inline(always)]
unsafe fn add_group<F: Float, const W: usize, const BMI2: bool>(
    g: &Group,
    o: &mut [F],
    s: &[F],
    xl_lo: usize,
    b0: usize,
    plain: bool,
) {
    let sub = o.len() / W;
    if g.is_real() && g.is_constant() {
        add_const(o, s, xl_lo * W, F::of(g.terms_r[0].1));
    } else if plain {
        if g.is_real() {
            add_signed_real::<F, W>(o, s, xl_lo, &g.terms_r, b0 as u64);
        } else {
            // A complex coefficient makes the operator complex, so W = 2 here.
            add_signed_complex(as_cplx_mut(o), as_cplx(s), xl_lo, &g.terms_c, b0 as u64);
        }
    } else {
        for t in &g.tables {
            let (hi, neg) = table_start::<BMI2>(t, b0);
            let lo = &t.lo_idx[..sub];
            if g.is_real() {
                let at = hi + if neg { t.neg_offset() } else { 0 };
                add_table_real::<F, W>(o, s, xl_lo, &t.values_r[at..], lo);
            } else {
                add_table_complex(
                    as_cplx_mut(o),
                    as_cplx(s),
                    xl_lo,
                    &t.values_c[hi..],
                    lo,
                    if neg { -1.0 } else { 1.0 },
                );
            }
        }
    }
}

/// `o[k] += e · s[k ⊕ xf]` over floats (`xf` = the in-block flip in float units), in runs of
/// `2^{tz(xf)}` contiguous floats (vectorised).
#[inline(always)]
fn add_const<F: Float>(o: &mut [F], s: &[F], xf: usize, e: F) {
    match xf {
        0 => {
            for (a, &b) in o.iter_mut().zip(s) {
                *a += e * b;
            }
            return;
        }
        // Single low-bit flips swap neighbouring runs shorter than a vector: spell the swap
        // out with a constant run length so that it compiles to shuffles, not scalar loops.
        1 => return add_swapped::<1, F>(o, s, e),
        2 => return add_swapped::<2, F>(o, s, e),
        4 => return add_swapped::<4, F>(o, s, e),
        8 => return add_swapped::<8, F>(o, s, e),
        _ => {}
    }
    let run = 1usize << xf.trailing_zeros();
    for (i, oc) in o.chunks_exact_mut(run).enumerate() {
        let start = (i * run) ^ xf;
        for (a, &b) in oc.iter_mut().zip(&s[start..start + run]) {
            *a += e * b;
        }
    }
}

/// `o[k] += e · s[k ⊕ R]` for a single flipped bit `R` (a power of two): in each block of
/// `2R` floats the two halves trade places.
#[inline(always)]
fn add_swapped<const R: usize, F: Float>(o: &mut [F], s: &[F], e: F) {
    for (oc, sc) in o.chunks_exact_mut(2 * R).zip(s.chunks_exact(2 * R)) {
        let (o_lo, o_hi) = oc.split_at_mut(R);
        let (s_lo, s_hi) = sc.split_at(R);
        for (a, &b) in o_lo.iter_mut().zip(s_hi) {
            *a += e * b;
        }
        for (a, &b) in o_hi.iter_mut().zip(s_lo) {
            *a += e * b;
        }
    }
}

/// Floats per register block of the fused kernel (one AVX-512 register, two AVX2 ones).
const LANES: usize = 8;
/// Groups fused per sweep over a sub-block (a stack array; more are done in further sweeps).
const FUSE_MAX: usize = 32;

/// One fused source: the sub-block-sized source slice of a group (`ptr`, as many floats as the
/// output sub-block), the in-block flip in float units and the coefficient: the constant `e`
/// if `table` is null, else per vector of 8 floats starting at amplitude `j0`, the entries
/// `table[lo[j0] + pattern[f]]` for its floats `f` (see [`Table`]; `step_uniform` if the entry
/// is the same for the 4 registers of a step of the intrinsic kernel, `uniform` if the pattern is
/// all zero; only the intrinsic kernel takes table sources).
struct Src<F> {
    ptr: *const F,
    flip: usize,
    e: f64,
    table: *const f64,
    lo: *const u16,
    pattern: [u8; LANES],
    uniform: bool,
    step_uniform: bool,
}

/// Smallest state (bytes of ψ, and of the output) whose one-pass product stores its output
/// with non-temporal stores: half the 32 MiB L3, from which the output could not stay in cache
/// beside ψ and the diagonal anyway (20-qubit complex vectors on one thread, `qep bench`
/// alternated under load ~3: TFIM grid 0.94×, phase sensor 0.94× the time with ordinary
/// stores).
const STREAM_MIN_BYTES: usize = 16 << 20;

/// Most streams [`Ahead`] prefetches (the rest are left to the hardware).
const AHEAD_MAX: usize = 16;

/// Smallest state (bytes of ψ) for which the fused kernel prefetches: below it ψ and the output
/// stay in the 32 MiB L3 between passes, the hardware prefetchers keep up, and the extra
/// instructions cost more than they save (20-qubit TFIM grid, real: 4.5 ms without, 5.3 ms with).
const PREFETCH_MIN_BYTES: usize = 32 << 20;

/// How far ahead of the kernel's reads each stream is prefetched, in floats of the output
/// (1 KiB of `f64`): measured on the 24-qubit TFIM grid (complex) and phase sensor (real) on one
/// thread, 512 B–1 KiB gave 0.17–0.18 s and 0.125–0.13 s per product against 0.19–0.20 s and
/// 0.15 s without; 4 KiB was slower than none.
const PREFETCH_FLOATS: usize = 128;

/// The streams the fused kernel prefetches [`PREFETCH_FLOATS`] ahead of its reads: for each,
/// where it starts in the current sub-block and in the next one (null: none), so that the
/// last steps of a block fetch the start of the next. Software prefetch, because the
/// hardware's does not keep up with the kernel's pattern: a pass reads up to a dozen
/// interleaved runs of one sub-block (4–8 KiB) each, starting afresh every sub-block (in-block
/// flips read the block's own ψ out of order; the high masks' sources lie 2^16 amplitudes
/// apart).
struct Ahead {
    cur: [*const u8; AHEAD_MAX],
    next: [*const u8; AHEAD_MAX],
    /// Bytes per amplitude of the stream (ψ and the output: `W` floats; the diagonal: 8).
    bpa: [usize; AHEAD_MAX],
    n: usize,
}

impl Ahead {
    const EMPTY: Ahead = Ahead {
        cur: [std::ptr::null(); AHEAD_MAX],
        next: [std::ptr::null(); AHEAD_MAX],
        bpa: [0; AHEAD_MAX],
        n: 0,
    };

    /// Adds a stream unless it is already there (groups flipping only bits inside the
    /// sub-block share the block's own ψ) or the list is full.
    fn push(&mut self, cur: *const u8, next: *const u8, bpa: usize) {
        if self.n < AHEAD_MAX && !self.cur[..self.n].contains(&cur) {
            self.cur[self.n] = cur;
            self.next[self.n] = next;
            self.bpa[self.n] = bpa;
            self.n += 1;
        }
    }
}

/// Where a fused sweep starts from: `o = diag · ψ` (`w` floats per amplitude share one
/// diagonal entry) instead of the current `o`.
struct Init<F> {
    diag: *const f64,
    psi: *const F,
    w: usize,
}

// Manual impls: the derives would require `F: Copy` for raw pointers to `F`.
impl<F> Clone for Src<F> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<F> Copy for Src<F> {}
impl<F> Clone for Init<F> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<F> Copy for Init<F> {}

impl<F> Src<F> {
    const EMPTY: Src<F> = Src {
        ptr: std::ptr::null(),
        flip: 0,
        e: 0.0,
        table: std::ptr::null(),
        lo: std::ptr::null(),
        pattern: [0; LANES],
        uniform: false,
        step_uniform: false,
    };
}

/// `o[k] += Σ_g e_g · s_g[k ⊕ flip_g]` for every float `k` of the sub-block, one register
/// block of [`LANES`] floats at a time: the flip's bits above the block select a whole source
/// block; its bits inside (`flip mod LANES`) permute within it, a constant shuffle per case.
///
/// # Safety
/// Every `ptr` points to `o.len()` readable floats; `o.len()` is a multiple of [`LANES`] and
/// every `flip < o.len()`.
#[inline(always)]
unsafe fn add_fused<F: Float, const AVX512: bool>(
    o: &mut [F],
    srcs: &[Src<F>],
    init: Option<Init<F>>,
    w: usize,
    ahead: &Ahead,
    stream: bool,
) {
    #[cfg(target_arch = "x86_64")]
    if AVX512 {
        return if stream {
            avx512::add_fused::<F, true>(o, srcs, init, w, ahead)
        } else {
            avx512::add_fused::<F, false>(o, srcs, init, w, ahead)
        };
    }
    debug_assert!(!stream, "only the intrinsic kernel streams its stores");
    let _ = ahead; // the portable kernel leaves prefetching to the hardware
    debug_assert!(
        init.is_none(),
        "the portable kernel never fuses the diagonal"
    );
    debug_assert!(
        srcs.iter().all(|g| g.table.is_null()),
        "the portable kernel never fuses tables"
    );
    // BLOCK floats per step: several independent register blocks per group keep the FMA
    // pipelines busy (one block alone is a chain of dependent FMAs, one per group).
    const BLOCK: usize = 4 * LANES;
    let n = o.len();
    let mut kb = 0;
    while kb + BLOCK <= n {
        fused_step::<F, BLOCK>(o, srcs, kb);
        kb += BLOCK;
    }
    while kb < n {
        fused_step::<F, LANES>(o, srcs, kb);
        kb += LANES;
    }
}

/// One step of [`add_fused`] over `B` floats from `kb` (`B` a multiple of [`LANES`]).
#[inline(always)]
unsafe fn fused_step<F: Float, const B: usize>(o: &mut [F], srcs: &[Src<F>], kb: usize) {
    let mut acc = [F::default(); B];
    acc.copy_from_slice(o.get_unchecked(kb..kb + B));
    for g in srcs {
        // The flip's bits at or above LANES move whole register blocks; within the B-float
        // step, block `i` reads the source block at `(kb + i·LANES) ⊕ hi`.
        let hi = g.flip & !(LANES - 1);
        for i in 0..B / LANES {
            let v = &*(g.ptr.add((kb + i * LANES) ^ hi) as *const [F; LANES]);
            let a = &mut *(acc.as_mut_ptr().add(i * LANES) as *mut [F; LANES]);
            let e = F::of(g.e);
            match g.flip & (LANES - 1) {
                0 => lane_fma::<0, F>(a, v, e),
                1 => lane_fma::<1, F>(a, v, e),
                2 => lane_fma::<2, F>(a, v, e),
                3 => lane_fma::<3, F>(a, v, e),
                4 => lane_fma::<4, F>(a, v, e),
                5 => lane_fma::<5, F>(a, v, e),
                6 => lane_fma::<6, F>(a, v, e),
                _ => lane_fma::<7, F>(a, v, e),
            }
        }
    }
    o.get_unchecked_mut(kb..kb + B).copy_from_slice(&acc);
}

/// The fused kernel in AVX-512 intrinsics: the portable version leaves the accumulators on the
/// stack and splits them into scalar and 256-bit pieces (seen in perf), four times slower.
#[cfg(target_arch = "x86_64")]
mod avx512;

/// `acc[j] += e · v[j ⊕ F]`.
#[inline(always)]
fn lane_fma<const X: usize, F: Float>(acc: &mut [F; LANES], v: &[F; LANES], e: F) {
    for j in 0..LANES {
        acc[j] += e * v[j ^ X];
    }
}

/// One sub-block's share of `⟨x, y⟩`, `W` floats per amplitude: `[Σ_k x_k y_k, 0]` for real
/// vectors, `[Σ (x_re y_re + x_im y_im), Σ (x_re y_im − x_im y_re)]` for complex ones (the
/// real and imaginary parts of `Σ conj(x) y`). Eight independent accumulators per part, as in
/// `state::dot`, combined in a fixed order.
#[inline(always)]
fn dot_block<F: Float, const W: usize>(x: &[F], y: &[F]) -> [f64; 2] {
    let mut re = [0.0f64; LANES];
    let mut im = [0.0f64; LANES];
    let whole = x.len() - x.len() % LANES;
    for (xc, yc) in x[..whole]
        .chunks_exact(LANES)
        .zip(y[..whole].chunks_exact(LANES))
    {
        for j in 0..LANES {
            re[j] += xc[j].to_f64() * yc[j].to_f64();
        }
        if W == 2 {
            // Float j pairs with j ^ 1, the other part of its amplitude: even j is a real
            // part (+ x_re y_im), odd j an imaginary one (− x_im y_re).
            for j in 0..LANES {
                let s = xc[j].to_f64() * yc[j ^ 1].to_f64();
                im[j] += if j & 1 == 0 { s } else { -s };
            }
        }
    }
    let mut sum = [0.0f64; 2];
    // Blocks shorter than a register (states of a few qubits): `whole` is even, so the pairs
    // of a complex amplitude stay together.
    for k in whole..x.len() {
        sum[0] += x[k].to_f64() * y[k].to_f64();
        if W == 2 {
            let s = x[k].to_f64() * y[k ^ 1].to_f64();
            sum[1] += if k & 1 == 0 { s } else { -s };
        }
    }
    for j in 0..LANES {
        sum[0] += re[j];
        sum[1] += im[j];
    }
    sum
}

/// `Σ_t e_t (−1)^{|z_t ∧ b|}`.
#[inline(always)]
fn coefficient<T: Scalar>(terms: &[(u64, T)], b: u64) -> T {
    let mut c = T::zero();
    for &(z, e) in terms {
        if (z & b).count_ones() & 1 == 0 {
            c += e;
        } else {
            c -= e;
        }
    }
    c
}

/// `o[j] += c(b0 + j) · s[j ⊕ xl]` with a real, index-dependent coefficient, `W` floats per
/// amplitude.
#[inline(always)]
fn add_signed_real<F: Float, const W: usize>(
    o: &mut [F],
    s: &[F],
    xl: usize,
    terms: &[(u64, f64)],
    b0: u64,
) {
    for (j, oc) in o.chunks_exact_mut(W).enumerate() {
        let c = F::of(coefficient(terms, b0 | j as u64));
        let sj = (j ^ xl) * W;
        for r in 0..W {
            oc[r] += c * s[sj + r];
        }
    }
}

/// `o[j] += c(b0 + j) · s[j ⊕ xl]` with a complex coefficient.
#[inline(always)]
fn add_signed_complex<F: Float>(
    o: &mut [Complex<F>],
    s: &[Complex<F>],
    xl: usize,
    terms: &[(u64, C64)],
    b0: u64,
) {
    for (j, a) in o.iter_mut().enumerate() {
        F::add_c(
            a,
            F::mul_c(F::c(coefficient(terms, b0 | j as u64)), s[j ^ xl]),
        );
    }
}

/// `o[j] += T[lo[j]] · s[j ⊕ xl]`, `W` floats per amplitude: a real group's coefficient read
/// from its table (`t` starts at the sub-block's entries, see [`Table`]).
#[inline(always)]
fn add_table_real<F: Float, const W: usize>(
    o: &mut [F],
    s: &[F],
    xl: usize,
    t: &[f64],
    lo: &[u16],
) {
    for (j, (oc, &l)) in o.chunks_exact_mut(W).zip(lo).enumerate() {
        let c = F::of(t[l as usize]);
        let sj = (j ^ xl) * W;
        for r in 0..W {
            oc[r] += c * s[sj + r];
        }
    }
}

/// `o[j] += sign · T[lo[j]] · s[j ⊕ xl]` with a complex table.
#[inline(always)]
fn add_table_complex<F: Float>(
    o: &mut [Complex<F>],
    s: &[Complex<F>],
    xl: usize,
    t: &[C64],
    lo: &[u16],
    sign: f64,
) {
    for (j, (a, &l)) in o.iter_mut().zip(lo).enumerate() {
        F::add_c(a, F::mul_c(F::c(t[l as usize] * sign), s[j ^ xl]));
    }
}

/// `pext(x, mask)` with the BMI2 instruction.
///
/// # Safety
/// The CPU supports BMI2 (the caller is compiled with it).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn pext_hw(x: u64, mask: u64) -> u64 {
    std::arch::x86_64::_pext_u64(x, mask)
}

/// `pext(x, mask)` (no BMI2 off x86-64).
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
unsafe fn pext_hw(x: u64, mask: u64) -> u64 {
    pext_soft(x, mask)
}

/// Where a table's entries for the sub-block starting at `b0` begin: `pext(b0, mask)` (with
/// the BMI2 instruction if `BMI2`), and whether the parity of the bits above the block flips
/// the sign.
///
/// # Safety
/// With `BMI2` the CPU supports it (the caller is compiled with it).
#[inline(always)]
unsafe fn table_start<const BMI2: bool>(t: &Table, b0: usize) -> (usize, bool) {
    let hi = if BMI2 {
        pext_hw(b0 as u64, t.mask)
    } else {
        pext_soft(b0 as u64, t.mask)
    };
    (hi as usize, (t.parity & b0 as u64).count_ones() & 1 == 1)
}
