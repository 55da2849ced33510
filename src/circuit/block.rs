//! The kernels of the fast executor ([`super::fast`]): every op of a pass applied to one
//! cache block, generic over the register type ([`super::simd::Vector`]) and compiled once per
//! instruction set, and the coefficient tables they read.
//!
//! A dense `k`-qubit op is applied in the *XOR form*
//! `out[i] = Σ_x M[g(i)][g(i) ⊕ x] ψ[i ⊕ spread(x)]` (`g(i)`: the op's bits of `i`): targets at or
//! above the register width pick another register, targets inside it a lane permutation, so
//! one loop serves every position of the targets; the coefficients are precomputed per pass as
//! register-wide tables (real and imaginary parts apart: a complex product is two FMAs and one
//! permutation, a real or imaginary entry one, a zero entry none). Diagonals are one complex
//! product per amplitude, permutations move amplitudes and multiply nothing, wide controlled
//! gates skip every block whose control bits outside the block are not all set.

use num_complex::Complex;

use super::fuse::MAX_DENSE;
use super::precision::Float;
use super::simd::{Isa, One, Vector};
#[cfg(target_arch = "x86_64")]
use super::simd::{Y32, Y64, Z32, Z64};
use crate::C64;

/// Coefficient tables in the state's precision.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Coef {
    D(Vec<f64>),
    S(Vec<f32>),
}

/// An op of a pass, on the block's local bits.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Kern {
    /// XOR-form dense matrix: `kh` targets select registers (register-index bits `hi`), `kl`
    /// select lanes (`lx[xl]` = the lane XOR of pattern `xl`).
    Dense {
        kh: usize,
        kl: usize,
        hi: [usize; MAX_DENSE],
        lx: [usize; 1 << 3],
        real: bool,
        /// Per coefficient pair: bit 0 if its real table is nonzero in some lane, bit 1 if
        /// its imaginary one is (zero tables are skipped: real, imaginary and sparse entries
        /// cost less).
        nz: Vec<u8>,
        coef: Coef,
    },
    /// Diagonal: register `base + off[h]` (floats) is multiplied by coefficient pair `h`.
    Diag {
        hi: Vec<usize>,
        off: Vec<usize>,
        coef: Coef,
    },
    /// Pair exchange on local masks; the block takes part only if its position has the
    /// `nl_set` bits set and the `nl_clear` bits clear.
    Swap {
        set: usize,
        clear: usize,
        x: usize,
        nl_set: usize,
        nl_clear: usize,
    },
    /// Controlled target matrix on local targets, local control mask `ctrl`, controls
    /// outside the block `nl_ctrl`.
    Ctrl {
        targets: Vec<usize>,
        ctrl: usize,
        nl_ctrl: usize,
        m: Vec<C64>,
    },
}

pub(super) fn bits_of(m: usize) -> Vec<usize> {
    (0..usize::BITS as usize)
        .filter(|&b| m >> b & 1 == 1)
        .collect()
}

/// `x` with a zero bit inserted at position `p`.
#[inline(always)]
pub(super) fn insert_zero(x: usize, p: usize) -> usize {
    ((x >> p) << (p + 1)) | (x & ((1usize << p) - 1))
}

/// A float type the kernels run in, with its coefficient tables and per-ISA block entry.
pub(super) trait Lane: Float {
    fn tab(c: &Coef) -> &[Self];
    /// # Safety
    /// As [`block_ops`], with `isa` available on this CPU.
    unsafe fn block(isa: Isa, ops: &[Kern], buf: *mut Self, b: usize, base: usize);
}

impl Lane for f64 {
    fn tab(c: &Coef) -> &[f64] {
        match c {
            Coef::D(v) => v,
            Coef::S(_) => unreachable!("tables are built for the run's precision"),
        }
    }
    unsafe fn block(isa: Isa, ops: &[Kern], buf: *mut f64, b: usize, base: usize) {
        match isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => block_z64(ops, buf, b, base),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => block_y64(ops, buf, b, base),
            _ => block_ops::<One<f64>>(ops, buf, b, base),
        }
    }
}

impl Lane for f32 {
    fn tab(c: &Coef) -> &[f32] {
        match c {
            Coef::S(v) => v,
            Coef::D(_) => unreachable!("tables are built for the run's precision"),
        }
    }
    unsafe fn block(isa: Isa, ops: &[Kern], buf: *mut f32, b: usize, base: usize) {
        match isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => block_z32(ops, buf, b, base),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => block_y32(ops, buf, b, base),
            _ => block_ops::<One<f32>>(ops, buf, b, base),
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn block_z64(ops: &[Kern], buf: *mut f64, b: usize, base: usize) {
    block_ops::<Z64>(ops, buf, b, base)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn block_z32(ops: &[Kern], buf: *mut f32, b: usize, base: usize) {
    block_ops::<Z32>(ops, buf, b, base)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn block_y64(ops: &[Kern], buf: *mut f64, b: usize, base: usize) {
    block_ops::<Y64>(ops, buf, b, base)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn block_y32(ops: &[Kern], buf: *mut f32, b: usize, base: usize) {
    block_ops::<Y32>(ops, buf, b, base)
}

/// The XOR-form tables of the dense matrix `m` on local bits `lq` (matrix bit `j` = `lq[j]`)
/// for registers of `2^lanes` amplitudes.
pub(super) fn dense_kern(
    lq: &[usize],
    m: &[C64],
    lanes: usize,
    wrap: impl Fn(Vec<f64>) -> Coef,
) -> Kern {
    let k = lq.len();
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

/// The tables of the diagonal `d` on local bits `lq`.
pub(super) fn diag_kern(
    lq: &[usize],
    d: &[C64],
    lanes: usize,
    wrap: impl Fn(Vec<f64>) -> Coef,
) -> Kern {
    let k = lq.len();
    let hij: Vec<usize> = (0..k).filter(|&j| lq[j] >= lanes).collect();
    let nh = 1usize << hij.len();
    let nlanes = 1usize << lanes;
    let w = 2 * nlanes;
    let mut coef = Vec::with_capacity(nh * 2 * w);
    let mut off = Vec::with_capacity(nh);
    for h in 0..nh {
        let mut o = 0;
        let mut hbits = 0;
        for (i, &j) in hij.iter().enumerate() {
            o |= (h >> i & 1) << (lq[j] - lanes);
            hbits |= (h >> i & 1) << j;
        }
        off.push(o * w);
        let mut re = Vec::with_capacity(w);
        let mut im = Vec::with_capacity(w);
        for l in 0..nlanes {
            let mut idx = hbits;
            for (j, &q) in lq.iter().enumerate() {
                if q < lanes {
                    idx |= (l >> q & 1) << j;
                }
            }
            let z = d[idx];
            re.extend([z.re, z.re]);
            im.extend([-z.im, z.im]);
        }
        coef.extend(re);
        coef.extend(im);
    }
    let mut hi: Vec<usize> = hij.iter().map(|&j| lq[j] - lanes).collect();
    hi.sort_unstable();
    Kern::Diag {
        hi,
        off,
        coef: wrap(coef),
    }
}

fn coef_tab<F: Lane>(c: &Coef) -> &[F] {
    F::tab(c)
}

/// Applies every op of a pass to one block of `2^b` amplitudes at `buf` whose position bits
/// are `base`.
///
/// # Safety
/// `buf` holds `2^b` amplitudes (`2^{b+1}` floats); `V`'s instruction set is available and
/// the caller is compiled with it.
#[inline(always)]
pub(super) unsafe fn block_ops<V: Vector>(ops: &[Kern], buf: *mut V::F, b: usize, base: usize)
where
    V::F: Lane,
{
    for op in ops {
        match op {
            Kern::Dense {
                kh,
                kl,
                hi,
                lx,
                real,
                nz,
                coef,
            } => dense_dispatch::<V>(*kh, *kl, hi, lx, *real, nz, coef_tab::<V::F>(coef), buf, b),
            Kern::Diag { hi, off, coef } => {
                diagonal::<V>(hi, off, coef_tab::<V::F>(coef).as_ptr(), buf, b)
            }
            Kern::Swap {
                set,
                clear,
                x,
                nl_set,
                nl_clear,
            } => {
                if base & nl_set == *nl_set && base & nl_clear == 0 {
                    swap_pairs(buf as *mut Complex<V::F>, b, *set, *clear, *x)
                }
            }
            Kern::Ctrl {
                targets,
                ctrl,
                nl_ctrl,
                m,
            } => {
                if base & nl_ctrl == *nl_ctrl {
                    controlled(buf as *mut Complex<V::F>, b, targets, *ctrl, m)
                }
            }
        }
    }
}

/// Calls [`dense`] with `(kh, kl)` as constants.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn dense_dispatch<V: Vector>(
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

/// The diagonal kernel: each register times its coefficient pair.
///
/// # Safety
/// As [`block_ops`].
#[inline(always)]
unsafe fn diagonal<V: Vector>(
    hi: &[usize],
    off: &[usize],
    coef: *const V::F,
    buf: *mut V::F,
    b: usize,
) {
    let w = 2usize << V::LOG2;
    let nv = b - V::LOG2;
    let groups = 1usize << (nv - hi.len());
    for g in 0..groups {
        let mut base = g;
        for &p in hi {
            base = insert_zero(base, p);
        }
        let base = base * w;
        for (h, &o) in off.iter().enumerate() {
            let ptr = buf.add(base + o);
            let v = V::load(ptr);
            let c = coef.add(h * 2 * w);
            let r = V::load(c).mul(v);
            V::load(c.add(w)).fmadd(v.perm(0, true), r).store(ptr);
        }
    }
}

/// Exchanges `i` and `i ⊕ x` for every `i < 2^b` with the `set` bits 1 and the `clear` bits 0,
/// in contiguous runs below the lowest fixed bit.
///
/// # Safety
/// `buf` holds `2^b` amplitudes; every mask lies below bit `b`; `clear` holds the lowest bit
/// of `x` and `x ⊆ set | clear`.
unsafe fn swap_pairs<T>(buf: *mut T, b: usize, set: usize, clear: usize, x: usize) {
    let fixed = set | clear;
    let p0 = fixed.trailing_zeros() as usize;
    let run = 1usize << p0;
    let pos = bits_of(fixed);
    let runs = 1usize << (b - p0 - pos.len());
    for g in 0..runs {
        let mut i = g << p0;
        for &p in &pos {
            i = insert_zero(i, p);
        }
        i |= set;
        std::ptr::swap_nonoverlapping(buf.add(i), buf.add(i ^ x), run);
    }
}

/// A target matrix on local `targets` where the local `ctrl` bits are all 1 (the plain
/// gather kernel, in the block's precision).
///
/// # Safety
/// `buf` holds `2^b` amplitudes; targets and controls lie below bit `b`, distinct.
unsafe fn controlled<F: Float>(
    buf: *mut Complex<F>,
    b: usize,
    targets: &[usize],
    ctrl: usize,
    m: &[C64],
) {
    let k = targets.len();
    let dim = 1usize << k;
    let fixed = targets.iter().fold(ctrl, |a, &t| a | 1 << t);
    let pos = bits_of(fixed);
    let offs: Vec<usize> = (0..dim).map(|l| deposit_list(l, targets)).collect();
    let mut v = vec![C64::new(0.0, 0.0); dim];
    for g in 0..1usize << (b - pos.len()) {
        let mut base = g;
        for &p in &pos {
            base = insert_zero(base, p);
        }
        base |= ctrl;
        for l in 0..dim {
            let z = *buf.add(base + offs[l]);
            v[l] = C64::new(z.re.wide(), z.im.wide());
        }
        for r in 0..dim {
            let acc: C64 = (0..dim).map(|l| m[r * dim + l] * v[l]).sum();
            *buf.add(base + offs[r]) = Complex::new(F::of(acc.re), F::of(acc.im));
        }
    }
}

/// `Σ_j bit_j(l) 2^{t_j}` for an unsorted target list.
fn deposit_list(l: usize, t: &[usize]) -> usize {
    t.iter()
        .enumerate()
        .fold(0, |a, (j, &p)| a | (l >> j & 1) << p)
}
