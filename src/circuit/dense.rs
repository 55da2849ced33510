//! The dense kernels of the block executor ([`super::block`]): a fused `k`-qubit matrix
//! applied to every group of `2^k` amplitudes of a cache block.
//!
//! Two forms. When every target lies above the register width (the common case: the targets
//! select whole registers), the matrix is held as `2 · 4^k` scalars, broadcast into every lane
//! as the kernel runs ([`dense_regs`]): the real parts and the imaginary parts multiply the
//! amplitudes into two sums, and per output register the imaginary sum, its real and
//! imaginary parts exchanged, is added with signs `(−1, +1)` by one multiply-add
//! (`re = Σ m_re v_re − Σ m_im v_im`, `im = Σ m_re v_im + Σ m_im v_re`). No shuffle in the
//! inner loop, and the coefficients of a
//! two-qubit op take 256 bytes instead of register-wide tables of 2 KiB, so every op of a pass
//! keeps its coefficients in the L1 cache beside the block's data. Zero parts are skipped
//! (real matrices such as `h`, `ry`, `cx` and their products cost half).
//!
//! When some target lies inside the register, the *XOR form* ([`dense`]) is used:
//! `out[i] = Σ_x M[g(i)][g(i) ⊕ x] ψ[i ⊕ spread(x)]` (`g(i)`: the op's bits of `i`): targets at
//! or above the register width pick another register, targets inside it a lane permutation,
//! so one loop serves every position of the targets; the coefficients are precomputed per pass
//! as register-wide tables (real and imaginary parts apart: a complex product is two FMAs and
//! one permutation, a real or imaginary entry one, a zero entry none).

use super::block::{insert_zero, Coef, Kern};
use super::fuse::MAX_DENSE;
use super::precision::Float;
use super::simd::Vector;
use crate::C64;

/// The kernel of the dense matrix `m` on local bits `lq` (matrix bit `j` = `lq[j]`) for
/// registers of `2^lanes` amplitudes: broadcast coefficients when every target selects
/// registers and `broadcast` is on, else the XOR-form tables (module doc).
pub(super) fn dense_kern(
    lq: &[usize],
    m: &[C64],
    lanes: usize,
    broadcast: bool,
    wrap: impl Fn(Vec<f64>) -> Coef,
) -> Kern {
    let k = lq.len();
    if broadcast && lq.iter().all(|&q| q >= lanes) {
        let mut hi = [0usize; MAX_DENSE];
        for (h, &q) in hi.iter_mut().zip(lq) {
            *h = q - lanes;
        }
        let coef: Vec<f64> = m.iter().flat_map(|z| [z.re, z.im]).collect();
        let nz: Vec<u8> = m
            .iter()
            .map(|z| u8::from(z.re != 0.0) | u8::from(z.im != 0.0) << 1)
            .collect();
        return Kern::DenseRegs {
            k,
            hi,
            real: nz.iter().all(|f| f & 2 == 0),
            nz,
            coef: wrap(coef),
        };
    }
    let lo: Vec<usize> = (0..k).filter(|&j| lq[j] < lanes).collect();
    let hij: Vec<usize> = (0..k).filter(|&j| lq[j] >= lanes).collect();
    let (kl, kh) = (lo.len(), hij.len());
    // Matrix index in the new bit order (lane targets first) → the original index.
    let old = |y: usize| -> usize {
        let mut o = 0;
        for (i, &j) in lo.iter().enumerate() {
            o |= (y >> i & 1) << j;
        }
        for (i, &j) in hij.iter().enumerate() {
            o |= (y >> (kl + i) & 1) << j;
        }
        o
    };
    let dim = 1usize << k;
    let lane_pattern = |l: usize| -> usize {
        lo.iter()
            .enumerate()
            .fold(0, |a, (i, &j)| a | (l >> lq[j] & 1) << i)
    };
    let mut hi = [0usize; MAX_DENSE];
    for (i, &j) in hij.iter().enumerate() {
        hi[i] = lq[j] - lanes;
    }
    let mut lx = [0usize; 8];
    for (xl, v) in lx.iter_mut().enumerate().take(1 << kl) {
        *v = lo
            .iter()
            .enumerate()
            .fold(0, |a, (i, &j)| a | (xl >> i & 1) << lq[j]);
    }
    let (nh, nl, nlanes) = (1usize << kh, 1usize << kl, 1usize << lanes);
    let mut coef = Vec::with_capacity(nh * nh * nl * 4 * nlanes);
    let mut nz = Vec::with_capacity(nh * nh * nl);
    for ho in 0..nh {
        for xh in 0..nh {
            for xl in 0..nl {
                let mut re = Vec::with_capacity(2 * nlanes);
                let mut im = Vec::with_capacity(2 * nlanes);
                for l in 0..nlanes {
                    let p = lane_pattern(l);
                    let r = p | ho << kl;
                    let c = (p ^ xl) | (ho ^ xh) << kl;
                    let z = m[old(r) * dim + old(c)];
                    re.extend([z.re, z.re]);
                    im.extend([-z.im, z.im]);
                }
                let flag = |v: &[f64], bit: u8| if v.iter().any(|&x| x != 0.0) { bit } else { 0 };
                nz.push(flag(&re, 1) | flag(&im, 2));
                coef.extend(re);
                coef.extend(im);
            }
        }
    }
    Kern::Dense {
        kh,
        kl,
        hi,
        lx,
        real: nz.iter().all(|f| f & 2 == 0),
        nz,
        coef: wrap(coef),
    }
}

/// Calls [`dense`] with `(kh, kl)` as constants.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn dense_dispatch<V: Vector>(
    kh: usize,
    kl: usize,
    hi: &[usize; MAX_DENSE],
    lx: &[usize; 8],
    real: bool,
    nz: &[u8],
    coef: &[V::F],
    buf: *mut V::F,
    b: usize,
) {
    debug_assert_eq!(
        nz.len(),
        1 << (2 * kh + kl),
        "one flag per coefficient pair"
    );
    macro_rules! go {
        ($($h:literal, $l:literal);*) => {
            match (kh, kl) {
                $(($h, $l) => dense::<V, $h, $l>(hi, lx, real, nz.as_ptr(), coef.as_ptr(), buf, b),)*
                _ => unreachable!("dense op with {kh} register and {kl} lane targets"),
            }
        };
    }
    go!(1, 0; 2, 0; 3, 0; 4, 0; 0, 1; 1, 1; 2, 1; 3, 1; 0, 2; 1, 2; 2, 2; 0, 3; 1, 3)
}

/// The XOR-form dense kernel with `KH` register targets and `KL` lane targets (module doc).
///
/// # Safety
/// As [`block_ops`]; the tables were built for `V`'s lane count.
#[inline(always)]
unsafe fn dense<V: Vector, const KH: usize, const KL: usize>(
    hi: &[usize; MAX_DENSE],
    lx: &[usize; 8],
    real: bool,
    nz: *const u8,
    coef: *const V::F,
    buf: *mut V::F,
    b: usize,
) {
    debug_assert!(KL <= V::LOG2, "lane targets beyond the register");
    let w = 2usize << V::LOG2;
    let (nh, nl) = (1usize << KH, 1usize << KL);
    let nv = b - V::LOG2;
    let mut off = [0usize; 16];
    for (h, o) in off.iter_mut().enumerate().take(nh) {
        *o = (0..KH).fold(0, |a, j| a | (h >> j & 1) << hi[j]) * w;
    }
    let mut sorted = [0usize; MAX_DENSE];
    sorted[..KH].copy_from_slice(&hi[..KH]);
    sorted[..KH].sort_unstable();
    let groups = 1usize << (nv - KH);
    let zero = V::zero();
    for g in 0..groups {
        let mut base = g;
        for &p in &sorted[..KH] {
            base = insert_zero(base, p);
        }
        let base = base * w;
        let mut p = [zero; 16];
        let mut s = [zero; 16];
        for h in 0..nh {
            let v = V::load(buf.add(base + off[h]));
            for xl in 0..nl {
                p[h * nl + xl] = v.perm(lx[xl], false);
                if !real {
                    s[h * nl + xl] = v.perm(lx[xl], true);
                }
            }
        }
        for (ho, &o) in off.iter().enumerate().take(nh) {
            // Four independent accumulators (real and imaginary tables, even and odd terms):
            // one chain of dependent multiply-adds would wait on the FMA latency at every
            // term; four keep the FMA units busy.
            let mut acc = [zero; 4];
            for xh in 0..nh {
                for xl in 0..nl {
                    let e = (ho * nh + xh) * nl + xl;
                    let t = e * 2 * w;
                    let src = (ho ^ xh) * nl + xl;
                    let f = *nz.add(e);
                    let a = 2 * (e & 1);
                    if f & 1 != 0 {
                        acc[a] = V::load(coef.add(t)).fmadd(p[src], acc[a]);
                    }
                    if f & 2 != 0 {
                        acc[a + 1] = V::load(coef.add(t + w)).fmadd(s[src], acc[a + 1]);
                    }
                }
            }
            acc[0]
                .add(acc[1])
                .add(acc[2].add(acc[3]))
                .store(buf.add(base + o));
        }
    }
}

/// Calls [`dense_regs`] with `k` and the tile width as constants: `V::TILE` groups at a
/// time when the block has that many groups, else one.
#[inline(always)]
pub(super) unsafe fn dense_regs_dispatch<V: Vector>(
    k: usize,
    hi: &[usize; MAX_DENSE],
    real: bool,
    nz: &[u8],
    coef: &[V::F],
    buf: *mut V::F,
    b: usize,
) {
    debug_assert_eq!(nz.len(), 1 << (2 * k), "one flag per matrix entry");
    debug_assert_eq!(coef.len(), 2 << (2 * k), "two scalars per matrix entry");
    // Full two-qubit matrices: every part of the class present, so the straight-line kernel
    // does no more multiply-adds than the sparse one.
    if k == 2 && full2(real, nz) {
        return if real {
            dense2::<V, true>(hi, coef.as_ptr(), buf, b)
        } else {
            dense2::<V, false>(hi, coef.as_ptr(), buf, b)
        };
    }
    let (nz, coef) = (nz.as_ptr(), coef.as_ptr());
    let groups = 1usize << (b - V::LOG2 - k);
    let tile = if groups >= V::TILE { V::TILE } else { 1 };
    macro_rules! go {
        ($($k:literal, $t:literal);*) => {
            match (k, tile) {
                $(($k, $t) => dense_regs::<V, $k, $t>(hi, real, nz, coef, buf, b),)*
                _ => unreachable!("dense op on {k} qubits, tile {tile}"),
            }
        };
    }
    go!(1, 1; 2, 1; 3, 1; 4, 1; 1, 2; 2, 2; 3, 2; 4, 2; 1, 4; 2, 4; 3, 4; 4, 4)
}

/// The dense kernel with broadcast coefficients, every one of the `K` targets selecting
/// registers (register-index bit `hi[j]` = matrix bit `j`; module doc), `T` groups at a time.
///
/// The sparsity flags of an entry are tested once per tile of `T` groups, and the multiply-
/// adds of the tile's groups follow each other without a branch between them (a test per
/// entry and group costs as much issue bandwidth as the multiply-add it guards). The
/// imaginary parts multiply the amplitudes as loaded and their sum is swapped once per output
/// register (`Σ m_im · swap(v) = swap(Σ m_im · v)`, the coefficient being the same in every
/// lane), so each amplitude register is loaded once per entry and never permuted. Each sum is
/// one chain of multiply-adds in column order (the `2T` sums of a tile are independent chains,
/// enough to cover the multiply-add latency), so the results do not depend on `T`; the sign
/// of the imaginary sum's contribution is one multiply-add by `(−1, +1, …)` (one instruction,
/// where an `fmaddsub` by one is split by the compiler into an add, a subtract and a blend).
///
/// # Safety
/// As [`super::block::block_ops`]; `nz` holds `4^K` flags and `coef` `2 · 4^K` scalars
/// (real, imaginary part of each entry, row-major); the block has at least `T` groups.
#[inline(always)]
unsafe fn dense_regs<V: Vector, const K: usize, const T: usize>(
    hi: &[usize; MAX_DENSE],
    real: bool,
    nz: *const u8,
    coef: *const V::F,
    buf: *mut V::F,
    b: usize,
) {
    let w = 2usize << V::LOG2;
    let n = 1usize << K;
    let nv = b - V::LOG2;
    let mut off = [0usize; 16];
    for (h, o) in off.iter_mut().enumerate().take(n) {
        *o = (0..K).fold(0, |a, j| a | (h >> j & 1) << hi[j]) * w;
    }
    let mut sorted = [0usize; MAX_DENSE];
    sorted[..K].copy_from_slice(&hi[..K]);
    sorted[..K].sort_unstable();
    let groups = 1usize << (nv - K);
    debug_assert!(
        groups >= T && groups.is_multiple_of(T),
        "{groups} groups, tile {T}"
    );
    let zero = V::zero();
    // −1 on real parts, +1 on imaginary parts.
    let signs = zero.fmaddsub(zero, V::splat(V::F::of(1.0)));
    let mut out = [[zero; 16]; T];
    for g0 in (0..groups).step_by(T) {
        let mut at = [buf; T];
        for (t, a) in at.iter_mut().enumerate() {
            let mut base = g0 + t;
            for &p in &sorted[..K] {
                base = insert_zero(base, p);
            }
            *a = buf.add(base * w);
        }
        // `r` indexes the matrix's rows and the tile's outputs alike.
        #[allow(clippy::needless_range_loop)]
        for r in 0..n {
            let mut re = [zero; T];
            let mut im = [zero; T];
            for (c, &o) in off.iter().enumerate().take(n) {
                let e = r * n + c;
                let f = *nz.add(e);
                match f {
                    1 => {
                        let m = V::splat(*coef.add(2 * e));
                        for t in 0..T {
                            re[t] = m.fmadd(V::load(at[t].add(o)), re[t]);
                        }
                    }
                    2 => {
                        let m = V::splat(*coef.add(2 * e + 1));
                        for t in 0..T {
                            im[t] = m.fmadd(V::load(at[t].add(o)), im[t]);
                        }
                    }
                    3 => {
                        let mr = V::splat(*coef.add(2 * e));
                        let mi = V::splat(*coef.add(2 * e + 1));
                        for t in 0..T {
                            let v = V::load(at[t].add(o));
                            re[t] = mr.fmadd(v, re[t]);
                            im[t] = mi.fmadd(v, im[t]);
                        }
                    }
                    _ => {}
                }
            }
            for t in 0..T {
                out[t][r] = if real {
                    re[t]
                } else {
                    signs.fmadd(im[t].perm(0, true), re[t])
                };
            }
        }
        for t in 0..T {
            for (r, &o) in off.iter().enumerate().take(n) {
                out[t][r].store(at[t].add(o));
            }
        }
    }
}

/// Whether a broadcast two-qubit op with flags `nz` goes to [`dense2`]: a real matrix with
/// every real part nonzero, or a complex one with every real and imaginary part nonzero.
#[inline(always)]
pub(super) fn full2(real: bool, nz: &[u8]) -> bool {
    let bits = if real { 1 } else { 3 };
    nz.iter().all(|&f| f & bits == bits)
}

/// The dense kernel of a full two-qubit matrix (every entry's real part nonzero, and its
/// imaginary part too unless `REAL`), register-blocked: the `2 · 16` broadcast coefficients
/// are splatted once per call and stay in registers (or are re-read from the stack as memory
/// operands) across every group; each group's four amplitude registers are loaded once, its
/// four outputs (eight sums) are independent chains of four multiply-adds each, enough to
/// cover the multiply-add latency on two pipes, and nothing is tested or branched on inside
/// the loop. The sums run in column order from zero and the imaginary sum is swapped and
/// signed by one multiply-add, as in [`dense_regs`], so both kernels give the same bits.
///
/// # Safety
/// As [`super::block::block_ops`]; `coef` holds `32` scalars (real, imaginary part of each
/// entry, row-major).
#[inline(always)]
unsafe fn dense2<V: Vector, const REAL: bool>(
    hi: &[usize; MAX_DENSE],
    coef: *const V::F,
    buf: *mut V::F,
    b: usize,
) {
    let w = 2usize << V::LOG2;
    let nv = b - V::LOG2;
    let off = [
        0,
        (1 << hi[0]) * w,
        (1 << hi[1]) * w,
        ((1 << hi[0]) | (1 << hi[1])) * w,
    ];
    let (lo, up) = (hi[0].min(hi[1]), hi[0].max(hi[1]));
    let zero = V::zero();
    let signs = zero.fmaddsub(zero, V::splat(V::F::of(1.0)));
    let mut mr = [zero; 16];
    let mut mi = [zero; 16];
    for (e, (r, i)) in mr.iter_mut().zip(mi.iter_mut()).enumerate() {
        *r = V::splat(*coef.add(2 * e));
        *i = V::splat(*coef.add(2 * e + 1));
    }
    for g in 0..1usize << (nv - 2) {
        let at = buf.add(insert_zero(insert_zero(g, lo), up) * w);
        let v = [
            V::load(at.add(off[0])),
            V::load(at.add(off[1])),
            V::load(at.add(off[2])),
            V::load(at.add(off[3])),
        ];
        let mut out = [zero; 4];
        #[allow(clippy::needless_range_loop)]
        for r in 0..4 {
            let mut re = zero;
            let mut im = zero;
            for c in 0..4 {
                re = mr[4 * r + c].fmadd(v[c], re);
                if !REAL {
                    im = mi[4 * r + c].fmadd(v[c], im);
                }
            }
            out[r] = if REAL {
                re
            } else {
                signs.fmadd(im.perm(0, true), re)
            };
        }
        for (o, &d) in out.iter().zip(&off) {
            o.store(at.add(d));
        }
    }
}
