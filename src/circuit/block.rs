//! The kernels of the fast executor ([`super::fast`]): every op of a pass applied to one
//! cache block, generic over the register type ([`super::simd::Vector`]) and compiled once per
//! instruction set, and the coefficient tables they read.
//!
//! Dense ops are in [`super::dense`]. Diagonals are one complex
//! product per amplitude, permutations move amplitudes and multiply nothing, wide controlled
//! gates skip every block whose control bits outside the block are not all set.

use num_complex::Complex;

use super::dense::{dense_dispatch, dense_regs_dispatch, Pat2};
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
    /// Dense matrix on `k` targets that all select registers (register-index bit `hi[j]` =
    /// matrix bit `j`), coefficients broadcast from `2 · 4^k` scalars.
    DenseRegs {
        k: usize,
        hi: [usize; MAX_DENSE],
        real: bool,
        /// A two-qubit op whose nonzero parts form a compiled pattern: run by the
        /// register-blocked kernel.
        pat: Option<Pat2>,
        /// Per matrix entry: bit 0 if its real part is nonzero, bit 1 if its imaginary one is.
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
    /// Exchange of local bit `lane` (inside a register) with local bit `reg` (selecting
    /// registers): amplitude `i` moves to `i` with the two bits swapped. Two registers in, two
    /// out, one shuffle each ([`Vector::exch`]).
    Exch { lane: usize, reg: usize },
}

impl Kern {
    /// Real floating-point operations per amplitude of the block (a multiply-add counts 2),
    /// as the kernel executes them: zero coefficient tables are skipped, permutations cost
    /// none.
    pub(super) fn flops_per_amp(&self) -> f64 {
        match self {
            // One vector multiply-add per nonzero table and output register: 4 flops per
            // amplitude (2 floats, 2 flops each), shared by the `2^kh` registers of a group.
            Kern::Dense { kh, nz, .. } => {
                let terms: u32 = nz.iter().map(|f| f.count_ones()).sum();
                4.0 * terms as f64 / (1usize << kh) as f64
            }
            // As above (the one `fmaddsub` per register that combines the sums is not
            // counted, as the XOR form's final additions are not).
            Kern::DenseRegs { k, nz, .. } => {
                let terms: u32 = nz.iter().map(|f| f.count_ones()).sum();
                4.0 * terms as f64 / (1usize << k) as f64
            }
            // One multiply and one multiply-add per register.
            Kern::Diag { .. } => 6.0,
            Kern::Swap { .. } | Kern::Exch { .. } => 0.0,
            Kern::Ctrl { targets, ctrl, .. } => {
                8.0 * (1usize << targets.len()) as f64 / (1usize << ctrl.count_ones()) as f64
            }
        }
    }
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
            Kern::DenseRegs {
                k,
                hi,
                real,
                pat,
                nz,
                coef,
            } => dense_regs_dispatch::<V>(*k, hi, *real, *pat, nz, coef_tab::<V::F>(coef), buf, b),
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
            Kern::Exch { lane, reg } => match lane {
                0 => exchange::<V, 0>(*reg, buf, b),
                1 => exchange::<V, 1>(*reg, buf, b),
                2 => exchange::<V, 2>(*reg, buf, b),
                _ => unreachable!("lane bit {lane} beyond every register"),
            },
        }
    }
}

/// Exchanges local bit `BIT` (inside the registers) with local bit `reg` (selecting
/// registers) in the block: every pair of registers that differ in `reg` is shuffled.
///
/// # Safety
/// As [`block_ops`]; `BIT < V::LOG2 <= reg < b`.
#[inline(always)]
unsafe fn exchange<V: Vector, const BIT: usize>(reg: usize, buf: *mut V::F, b: usize) {
    debug_assert!(
        BIT < V::LOG2 && V::LOG2 <= reg && reg < b,
        "{BIT} {reg} {b}"
    );
    let w = 2usize << V::LOG2;
    let h = reg - V::LOG2;
    let nv = b - V::LOG2;
    let step = (1usize << h) * w;
    for g in 0..1usize << (nv - 1) {
        let p0 = buf.add(insert_zero(g, h) * w);
        let p1 = p0.add(step);
        let (x, y) = V::load(p0).exch::<BIT>(V::load(p1));
        x.store(p0);
        y.store(p1);
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
/// `buf` holds `2^b` amplitudes; every mask lies below bit `b`; `x` is nonzero and
/// `x ⊆ set | clear` (which of `set` and `clear` holds its lowest bit does not matter: `i`
/// and `i ⊕ x` differ in a fixed bit, so each pair is met once, from the side that has the
/// `set` bits 1 and the `clear` bits 0, and its two runs, apart by `x ≥ 2^{p0}`, are
/// disjoint; a lane exchange may relabel the bits in either order).
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
