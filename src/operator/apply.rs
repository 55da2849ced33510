//! `H·ψ` without storing a matrix: a few cache-blocked streaming passes over ψ.
//!
//! Within a pass, each *tile* (see [`Pass`]) is processed in L1-sized sub-blocks of the
//! output: a sub-block is written once from the diagonal (first pass) or read once, then every
//! X-mask group of the pass adds its flipped source block into it while it sits in L1, and it
//! is written back once. Groups with real coefficients (all of them for a real Hermitian `H`,
//! whatever the vector's type) work on interleaved `f64` arrays, `W` floats per amplitude, so
//! that complex vectors need no complex multiplications.

use std::any::TypeId;

use rayon::prelude::*;

use crate::scalar::{Scalar, C64};

use super::xmask::{deposit, Diagonal, Pass, XMaskOperator};

/// Amplitudes per output sub-block: 512 complex amplitudes are 8 KiB, which stay in the 48 KiB
/// L1 while up to a few dozen groups add into them.
const SUB: usize = 512;

/// A raw output pointer shared by the tile workers.
///
/// SAFETY: each tile writes a disjoint set of indices (the tiles partition `0..2^n`; each
/// index belongs to the tile given by its bits outside the pass's tile bits), and every read
/// of the output inside a tile touches only that tile's indices.
#[derive(Clone, Copy)]
struct OutPtr(*mut f64);
unsafe impl Send for OutPtr {}
unsafe impl Sync for OutPtr {}

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
            self.run::<1>(p, o);
        } else {
            self.run::<2>(p, o);
        }
    }

    fn run<const W: usize>(&self, psi: &[f64], out: &mut [f64]) {
        let ptr = OutPtr(out.as_mut_ptr());
        for pass in &self.passes {
            let n_tiles = 1usize << pass.outer.len();
            let tile = |o: usize| {
                let base = deposit(o, &pass.outer);
                // SAFETY: see `OutPtr`; `out` has 2^n amplitudes.
                unsafe { self.tile::<W>(pass, base, psi, ptr) }
            };
            if n_tiles == 1 {
                tile(0);
            } else {
                (0..n_tiles).into_par_iter().for_each(tile);
            }
        }
    }

    /// Applies one pass to the tile whose outer bits are `base`.
    ///
    /// # Safety
    /// `out` points to `2^n · W` floats and no other thread touches this tile's indices.
    unsafe fn tile<const W: usize>(&self, pass: &Pass, base: usize, psi: &[f64], out: OutPtr) {
        let len = 1usize << pass.c;
        let sub = len.min(SUB);
        for (q, &off) in pass.chunk_offsets.iter().enumerate() {
            let dst = base + off;
            for sb in (0..len).step_by(sub) {
                let b0 = dst + sb;
                let o = std::slice::from_raw_parts_mut(out.0.add(b0 * W), sub * W);
                if pass.first {
                    self.diag_block::<W>(b0, &psi[b0 * W..(b0 + sub) * W], o);
                }
                for (gi, flip) in pass.groups.iter().zip(&pass.flips) {
                    let g = &self.groups[*gi];
                    let chunk = (base + pass.chunk_offsets[q ^ flip.xq]) ^ flip.xo;
                    let xl_lo = flip.xl & (sub - 1);
                    let s0 = chunk + (sb ^ (flip.xl & !(sub - 1)));
                    let s = &psi[s0 * W..(s0 + sub) * W];
                    if g.is_real() {
                        if g.is_constant() {
                            add_const(o, s, xl_lo * W, g.terms_r[0].1);
                        } else {
                            add_signed_real::<W>(o, s, xl_lo, &g.terms_r, b0 as u64);
                        }
                    } else {
                        // A complex coefficient makes the operator complex, so W = 2 here.
                        add_signed_complex(as_c64_mut(o), as_c64(s), xl_lo, &g.terms_c, b0 as u64);
                    }
                }
            }
        }
    }

    /// `o = diag · ψ` on the sub-block starting at amplitude `b0`.
    fn diag_block<const W: usize>(&self, b0: usize, psi: &[f64], o: &mut [f64]) {
        match &self.diag {
            Diagonal::Zero => o.fill(0.0),
            Diagonal::Real(d) => {
                let d = &d[b0..b0 + o.len() / W];
                for ((oc, pc), &dv) in o.chunks_exact_mut(W).zip(psi.chunks_exact(W)).zip(d) {
                    for r in 0..W {
                        oc[r] = dv * pc[r];
                    }
                }
            }
            Diagonal::Complex(d) => {
                // A complex diagonal makes the operator complex, so W = 2 here.
                let d = &d[b0..b0 + o.len() / 2];
                for ((ov, &pv), &dv) in as_c64_mut(o).iter_mut().zip(as_c64(psi)).zip(d) {
                    *ov = dv * pv;
                }
            }
        }
    }
}

fn as_c64(x: &[f64]) -> &[C64] {
    // SAFETY: C64 is repr(C) {re, im}; callers pass slices of complex vectors (even length).
    unsafe { std::slice::from_raw_parts(x.as_ptr() as *const C64, x.len() / 2) }
}

fn as_c64_mut(x: &mut [f64]) -> &mut [C64] {
    // SAFETY: as `as_c64`.
    unsafe { std::slice::from_raw_parts_mut(x.as_mut_ptr() as *mut C64, x.len() / 2) }
}

/// `o[k] += e · s[k ⊕ xf]` over floats (`xf` = the in-block flip in float units), in runs of
/// `2^{tz(xf)}` contiguous floats (vectorised).
#[inline]
fn add_const(o: &mut [f64], s: &[f64], xf: usize, e: f64) {
    if xf == 0 {
        for (a, &b) in o.iter_mut().zip(s) {
            *a += e * b;
        }
        return;
    }
    let run = 1usize << xf.trailing_zeros();
    for (i, oc) in o.chunks_exact_mut(run).enumerate() {
        let start = (i * run) ^ xf;
        for (a, &b) in oc.iter_mut().zip(&s[start..start + run]) {
            *a += e * b;
        }
    }
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
#[inline]
fn add_signed_real<const W: usize>(
    o: &mut [f64],
    s: &[f64],
    xl: usize,
    terms: &[(u64, f64)],
    b0: u64,
) {
    for (j, oc) in o.chunks_exact_mut(W).enumerate() {
        let c = coefficient(terms, b0 | j as u64);
        let sj = (j ^ xl) * W;
        for r in 0..W {
            oc[r] += c * s[sj + r];
        }
    }
}

/// `o[j] += c(b0 + j) · s[j ⊕ xl]` with a complex coefficient.
#[inline]
fn add_signed_complex(o: &mut [C64], s: &[C64], xl: usize, terms: &[(u64, C64)], b0: u64) {
    for (j, a) in o.iter_mut().enumerate() {
        *a += coefficient(terms, b0 | j as u64) * s[j ^ xl];
    }
}
