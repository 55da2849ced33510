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
    register_blocked: bool,
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
            pat: if k == 2 && register_blocked {
                Pat2::find(&nz)
            } else {
                None
            },
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

/// Calls [`dense2`] for an op with a compiled pattern `pat`, else [`dense_regs`] with `k`
/// and the tile width as constants: `V::TILE` groups at a time when the block has that many
/// groups, else one.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn dense_regs_dispatch<V: Vector>(
    k: usize,
    hi: &[usize; MAX_DENSE],
    real: bool,
    pat: Option<Pat2>,
    nz: &[u8],
    coef: &[V::F],
    buf: *mut V::F,
    b: usize,
) {
    debug_assert_eq!(nz.len(), 1 << (2 * k), "one flag per matrix entry");
    debug_assert_eq!(coef.len(), 2 << (2 * k), "two scalars per matrix entry");
    if let Some(p) = pat {
        debug_assert_eq!(k, 2, "patterns are of two-qubit ops");
        macro_rules! go {
            ($($i:literal),*) => {
                match p.class {
                    $($i => dense2::<V, { PATTERNS2[$i].0 }, { PATTERNS2[$i].1 }>(
                        hi,
                        &p,
                        coef.as_ptr(),
                        buf,
                        b,
                    ),)*
                    c => unreachable!("pattern class {c}"),
                }
            };
        }
        return go!(0, 1, 2, 3, 4, 5, 6, 7);
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

/// The nonzero patterns the register-blocked two-qubit kernel ([`dense2`]) is compiled for,
/// in slot coordinates: bit `4s + j` of the first mask says that output slot `s`'s real sum
/// takes loaded slot `j`, of the second that its imaginary sum does. An op's rows and columns
/// are mapped to slots by [`Pat2`] (each sum keeping column order), so one class serves every
/// placement of its pattern, e.g. before or after a `cx`.
pub(super) const PATTERNS2: [(u16, u16); 8] = [
    // Every real part: `h`/`ry` pairs.
    (0xFFFF, 0x0000),
    // Every real and imaginary part: `u3`-like pairs.
    (0xFFFF, 0xFFFF),
    // Every entry real or imaginary, which columns are real alternating between row pairs:
    // `rx` beside `h`, `ry` or `rx`, with or without a `cx`.
    (0xCC33, 0x33CC),
    // Every entry real or imaginary, the same columns real in every row (a real matrix times
    // a phase of ±i on a column pair).
    (0x3333, 0xCCCC),
    // Two complex entries per row: `rz` (or a phase) beside a dense one-qubit gate.
    (0xCC33, 0xCC33),
    // Two real entries per row: `h` or `ry` on one of the two qubits.
    (0xCC33, 0x0000),
    // One complex entry per row: phases times a permutation (`rz` pairs around a `cx`).
    (0x8421, 0x8421),
    // One real and one imaginary entry per row: `rx` on one of the two qubits.
    (0x8421, 0x4812),
];

/// Where a two-qubit op's matrix is of a class of [`PATTERNS2`]: output slot `s` is row
/// `rows[s]`, loaded slot `j` is column `cols[j]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Pat2 {
    /// Index into [`PATTERNS2`].
    pub class: usize,
    rows: [u8; 4],
    cols: [u8; 4],
}

/// The 24 orders of four slots.
fn orders4() -> Vec<[u8; 4]> {
    let mut all = Vec::with_capacity(24);
    for a in 0..4u8 {
        for b in 0..4u8 {
            for c in 0..4u8 {
                let d = 6 - a - b - c;
                if a != b && a != c && b != c && d < 4 && d != a && d != b && d != c {
                    all.push([a, b, c, d]);
                }
            }
        }
    }
    all
}

impl Pat2 {
    /// The first class of [`PATTERNS2`] (and slot maps) whose pattern is exactly the nonzero
    /// parts `nz` of a 4×4 matrix (bit 0: real part, bit 1: imaginary part; row-major) with
    /// every sum's columns in ascending slot order, so [`dense2`] adds the same terms in the
    /// same order as [`dense_regs`] and gives the same bits.
    pub(super) fn find(nz: &[u8]) -> Option<Pat2> {
        debug_assert_eq!(nz.len(), 16, "a two-qubit op");
        let orders = orders4();
        for (class, &(re, im)) in PATTERNS2.iter().enumerate() {
            for cols in &orders {
                // Each sum's columns must rise with the slot: the sums keep column order.
                let rising = |mask: u16| {
                    (0..4).all(|s| {
                        let taken: Vec<u8> = (0..4)
                            .filter(|&j| mask >> (4 * s + j) & 1 == 1)
                            .map(|j| cols[j])
                            .collect();
                        taken.windows(2).all(|w| w[0] < w[1])
                    })
                };
                if !rising(re) || !rising(im) {
                    continue;
                }
                for rows in &orders {
                    let fits = (0..4).all(|s| {
                        (0..4).all(|j| {
                            let f = nz[4 * rows[s] as usize + cols[j] as usize];
                            let bit = 4 * s + j;
                            u16::from(f & 1) == re >> bit & 1
                                && u16::from(f >> 1 & 1) == im >> bit & 1
                        })
                    });
                    if fits {
                        return Some(Pat2 {
                            class,
                            rows: *rows,
                            cols: *cols,
                        });
                    }
                }
            }
        }
        None
    }

    /// Whether the class is a full matrix (every part of its kind nonzero).
    pub(super) fn full(&self) -> bool {
        PATTERNS2[self.class].0 == 0xFFFF
    }
}

/// The register-blocked kernel of a two-qubit op whose nonzero parts are the pattern
/// `(RE, IM)` of [`PATTERNS2`] in the slots of `pat`: the op's coefficients are splatted once
/// per call and stay in registers (or are re-read from the stack as memory operands) across
/// every group; each group's four amplitude registers are loaded once, in slot order, and
/// each output slot's sums are independent chains of multiply-adds over exactly the pattern's
/// terms, unrolled at compile time: no flag test or branch inside the loop, no multiply by a
/// zero. The sums run in column order from zero and the imaginary sum is swapped and signed
/// by one multiply-add (unless the class is real), as in [`dense_regs`], so both kernels
/// give the same bits.
///
/// # Safety
/// As [`super::block::block_ops`]; `coef` holds `32` scalars (real, imaginary part of each
/// entry, row-major) whose nonzero parts are `pat`'s.
#[inline(always)]
unsafe fn dense2<V: Vector, const RE: u16, const IM: u16>(
    hi: &[usize; MAX_DENSE],
    pat: &Pat2,
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
    let load_at: [usize; 4] = std::array::from_fn(|j| off[pat.cols[j] as usize]);
    let store_at: [usize; 4] = std::array::from_fn(|s| off[pat.rows[s] as usize]);
    let (lo, up) = (hi[0].min(hi[1]), hi[0].max(hi[1]));
    let zero = V::zero();
    let signs = zero.fmaddsub(zero, V::splat(V::F::of(1.0)));
    let mut mr = [zero; 16];
    let mut mi = [zero; 16];
    for s in 0..4 {
        for j in 0..4 {
            let e = 4 * pat.rows[s] as usize + pat.cols[j] as usize;
            if RE >> (4 * s + j) & 1 == 1 {
                mr[4 * s + j] = V::splat(*coef.add(2 * e));
            }
            if IM >> (4 * s + j) & 1 == 1 {
                mi[4 * s + j] = V::splat(*coef.add(2 * e + 1));
            }
        }
    }
    for g in 0..1usize << (nv - 2) {
        let at = buf.add(insert_zero(insert_zero(g, lo), up) * w);
        let v = [
            V::load(at.add(load_at[0])),
            V::load(at.add(load_at[1])),
            V::load(at.add(load_at[2])),
            V::load(at.add(load_at[3])),
        ];
        let mut out = [zero; 4];
        #[allow(clippy::needless_range_loop)]
        for s in 0..4 {
            let mut re = zero;
            let mut im = zero;
            for j in 0..4 {
                if RE >> (4 * s + j) & 1 == 1 {
                    re = mr[4 * s + j].fmadd(v[j], re);
                }
                if IM >> (4 * s + j) & 1 == 1 {
                    im = mi[4 * s + j].fmadd(v[j], im);
                }
            }
            out[s] = if IM == 0 {
                re
            } else {
                signs.fmadd(im.perm(0, true), re)
            };
        }
        for (o, &d) in out.iter().zip(&store_at) {
            o.store(at.add(d));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nonzero-part flags of `A ⊗ B` (`A` on matrix bit 0) with its columns permuted by `cx`
    /// (control bit 0, target bit 1) when `cx_after`, as `fuse` builds `(A ⊗ B) · CX`.
    fn flags(a: [C64; 4], b: [C64; 4], cx_after: bool) -> Vec<u8> {
        let cx = |c: usize| if c & 1 == 1 { c ^ 2 } else { c };
        let mut nz = Vec::with_capacity(16);
        for r in 0..4 {
            for c in 0..4 {
                let c = if cx_after { cx(c) } else { c };
                let z = a[2 * (r & 1) + (c & 1)] * b[2 * (r >> 1) + (c >> 1)];
                nz.push(u8::from(z.re != 0.0) | u8::from(z.im != 0.0) << 1);
            }
        }
        nz
    }

    /// The class's masks read back through the slot maps must be the flags, and every sum's
    /// columns must rise (the general kernel's order).
    fn check(nz: &[u8], p: Pat2) {
        let (re, im) = PATTERNS2[p.class];
        for s in 0..4 {
            let (mut last_re, mut last_im) = (None, None);
            for j in 0..4 {
                let f = nz[4 * p.rows[s] as usize + p.cols[j] as usize];
                let bit = 4 * s + j;
                assert_eq!(u16::from(f & 1), re >> bit & 1, "{p:?}");
                assert_eq!(u16::from(f >> 1), im >> bit & 1, "{p:?}");
                for (mask, last) in [(re, &mut last_re), (im, &mut last_im)] {
                    if mask >> bit & 1 == 1 {
                        assert!(*last < Some(p.cols[j]), "{p:?}: columns out of order");
                        *last = Some(p.cols[j]);
                    }
                }
            }
        }
    }

    #[test]
    fn the_peer_workloads_pairs_find_their_classes_and_mixed_kinds_find_none() {
        let z = |re: f64, im: f64| C64::new(re, im);
        let (c, s) = (0.8, 0.6);
        let real = [z(c, 0.0), z(-s, 0.0), z(s, 0.0), z(c, 0.0)]; // ry
        let rx = [z(c, 0.0), z(0.0, -s), z(0.0, -s), z(c, 0.0)];
        let rz = [z(c, -s), z(0.0, 0.0), z(0.0, 0.0), z(c, s)];
        // Another angle: rz(φ) ⊗ rz(φ) has real entries (e^0) beside complex ones.
        let rz2 = [z(0.28, -0.96), z(0.0, 0.0), z(0.0, 0.0), z(0.28, 0.96)];
        let one = [z(1.0, 0.0), z(0.0, 0.0), z(0.0, 0.0), z(1.0, 0.0)];
        let u3 = [z(c, 0.1), z(-s, 0.2), z(s, 0.3), z(c, 0.4)];
        let cases = [
            (real, real, 0),
            (u3, real, 1),
            (rx, real, 2),
            (rx, rx, 2),
            (real, rx, 2),
            (rz, real, 4),
            (real, rz, 4),
            (rz, rx, 4),
            (real, one, 5),
            (rz, rz2, 6),
            (rx, one, 7),
        ];
        for (a, b, class) in cases {
            for cx_after in [false, true] {
                let nz = flags(a, b, cx_after);
                let p = Pat2::find(&nz).unwrap_or_else(|| panic!("no class for {nz:?}"));
                assert_eq!(p.class, class, "{nz:?} cx {cx_after}");
                check(&nz, p);
            }
        }
        // One row of mixed kinds (real, imaginary and complex entries): no class.
        let mut nz = flags(rx, real, true);
        nz[0] = 3;
        assert_eq!(Pat2::find(&nz), None);
    }
}
