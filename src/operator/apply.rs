//! `H·ψ` without storing a matrix: a few cache-blocked streaming passes over ψ.

use std::any::TypeId;

use rayon::prelude::*;

use crate::scalar::{Scalar, C64};

use super::xmask::{Diagonal, Group, Pass, XMaskOperator};

/// Scalar types the kernels are instantiated for; sealed (f64 and C64 only).
trait KernelScalar: Scalar {
    fn terms(g: &Group) -> &[(u64, Self)];
    fn diag_mul(d: &Diagonal, b: usize, v: Self) -> Self;
}

impl KernelScalar for f64 {
    #[inline(always)]
    fn terms(g: &Group) -> &[(u64, f64)] {
        &g.terms_r
    }
    #[inline(always)]
    fn diag_mul(d: &Diagonal, b: usize, v: f64) -> f64 {
        match d {
            Diagonal::Zero => 0.0,
            Diagonal::Real(d) => d[b] * v,
            // Unreachable: a complex diagonal makes the operator non-real (checked on entry).
            Diagonal::Complex(d) => d[b].re * v,
        }
    }
}

impl KernelScalar for C64 {
    #[inline(always)]
    fn terms(g: &Group) -> &[(u64, C64)] {
        &g.terms_c
    }
    #[inline(always)]
    fn diag_mul(d: &Diagonal, b: usize, v: C64) -> C64 {
        match d {
            Diagonal::Zero => C64::new(0.0, 0.0),
            Diagonal::Real(d) => v.scale(d[b]),
            Diagonal::Complex(d) => d[b] * v,
        }
    }
}

/// A raw output pointer shared by the tile workers.
///
/// SAFETY: each tile writes a disjoint set of indices (the tiles partition `0..2^n`; each
/// index belongs to the tile given by its bits outside the pass's tile bits), and every read
/// of the output inside a tile touches only that tile's indices.
#[derive(Clone, Copy)]
struct OutPtr<T>(*mut T);
unsafe impl<T: Send> Send for OutPtr<T> {}
unsafe impl<T: Send> Sync for OutPtr<T> {}

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
        if TypeId::of::<T>() == TypeId::of::<f64>() {
            assert!(
                self.real,
                "real arithmetic on an operator with complex coefficients"
            );
            // SAFETY: T is f64 (checked by TypeId), so the slices are reinterpreted as themselves.
            let (p, o) = unsafe {
                (
                    std::slice::from_raw_parts(psi.as_ptr() as *const f64, psi.len()),
                    std::slice::from_raw_parts_mut(out.as_mut_ptr() as *mut f64, out.len()),
                )
            };
            self.apply_impl::<f64>(p, o);
        } else if TypeId::of::<T>() == TypeId::of::<C64>() {
            // SAFETY: T is C64 (checked by TypeId).
            let (p, o) = unsafe {
                (
                    std::slice::from_raw_parts(psi.as_ptr() as *const C64, psi.len()),
                    std::slice::from_raw_parts_mut(out.as_mut_ptr() as *mut C64, out.len()),
                )
            };
            self.apply_impl::<C64>(p, o);
        } else {
            unreachable!("Scalar is implemented for f64 and C64 only");
        }
    }

    fn apply_impl<T: KernelScalar>(&self, psi: &[T], out: &mut [T]) {
        let ptr = OutPtr(out.as_mut_ptr());
        for pass in &self.passes {
            let n_tiles = 1usize << pass.outer.len();
            let run = |o: usize| {
                let base = super::xmask::deposit(o, &pass.outer);
                // SAFETY: see `OutPtr`.
                unsafe { self.tile::<T>(pass, base, psi, ptr) }
            };
            if n_tiles == 1 {
                run(0);
            } else {
                (0..n_tiles).into_par_iter().for_each(run);
            }
        }
    }

    /// Applies one pass to the tile whose outer bits are `base`.
    ///
    /// # Safety
    /// `out` points to `2^n` amplitudes and no other thread touches this tile's indices.
    unsafe fn tile<T: KernelScalar>(&self, pass: &Pass, base: usize, psi: &[T], out: OutPtr<T>) {
        let len = 1usize << pass.c;
        if pass.first {
            for &off in &pass.chunk_offsets {
                let dst = base + off;
                let o = std::slice::from_raw_parts_mut(out.0.add(dst), len);
                for (j, v) in o.iter_mut().enumerate() {
                    *v = T::diag_mul(&self.diag, dst + j, psi[dst + j]);
                }
            }
        }
        for (gi, flip) in pass.groups.iter().zip(&pass.flips) {
            let g = &self.groups[*gi];
            let terms = T::terms(g);
            for (q, &off) in pass.chunk_offsets.iter().enumerate() {
                let dst = base + off;
                let src = (base + pass.chunk_offsets[q ^ flip.xq]) ^ flip.xo;
                let o = std::slice::from_raw_parts_mut(out.0.add(dst), len);
                let s = &psi[src..src + len];
                if g.is_constant() {
                    add_flipped_const(o, s, flip.xl, terms[0].1);
                } else {
                    add_flipped_signed(o, s, flip.xl, terms, dst as u64);
                }
            }
        }
    }
}

/// `o[j] += e · s[j ⊕ xl]`, in runs of `2^{tz(xl)}` contiguous amplitudes (vectorisable).
#[inline]
fn add_flipped_const<T: Scalar>(o: &mut [T], s: &[T], xl: usize, e: T) {
    if xl == 0 {
        for (a, &b) in o.iter_mut().zip(s) {
            *a += e * b;
        }
        return;
    }
    let run = 1usize << xl.trailing_zeros();
    if run == 1 {
        for (j, a) in o.iter_mut().enumerate() {
            *a += e * s[j ^ xl];
        }
        return;
    }
    for (a0, oc) in o.chunks_exact_mut(run).enumerate() {
        let start = (a0 * run) ^ xl;
        for (a, &b) in oc.iter_mut().zip(&s[start..start + run]) {
            *a += e * b;
        }
    }
}

/// `o[j] += (Σ_t e_t (−1)^{|z_t ∧ (b0 + j)|}) · s[j ⊕ xl]` for a chunk starting at index `b0`.
#[inline]
fn add_flipped_signed<T: Scalar>(o: &mut [T], s: &[T], xl: usize, terms: &[(u64, T)], b0: u64) {
    for (j, a) in o.iter_mut().enumerate() {
        let b = b0 | j as u64;
        let mut c = T::zero();
        for &(z, e) in terms {
            if (z & b).count_ones() & 1 == 0 {
                c += e;
            } else {
                c -= e;
            }
        }
        *a += c * s[j ^ xl];
    }
}
