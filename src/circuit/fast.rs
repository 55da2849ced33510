//! The fast executor of a run of unconditional gates: fused ([`super::fuse`]), cache-blocked
//! with the high qubits brought into the block, and applied by vectorised kernels
//! ([`super::simd`]).
//!
//! **Cache blocking.** The fused ops are grouped into *passes*. A pass chooses `B` of the
//! state's qubit positions (2^B amplitudes, [`ExecParams::block_bytes`] = half an L2 cache):
//! the low positions `0..L` and up to `B − L` high positions, taken greedily for the ops in
//! program order (an op whose qubits do not fit, and every later op sharing a qubit with it,
//! waits for a later pass). The state is then swept block by block: the `2^{B−L}` runs of
//! `2^L` contiguous amplitudes that differ only in the chosen high positions are gathered
//! into a per-thread buffer, in which those high qubits are local bits `L..B` (qubit
//! remapping, tracked per pass in software), every op of the pass is applied there while the
//! buffer sits in cache, and the runs are written back. One pass costs one read and one write
//! of the state whatever the number of its ops, instead of one per gate. Runs are at least
//! 4 KiB long, so the gather streams at full memory bandwidth.
//!
//! **Kernels.** A dense `k`-qubit op is applied in the *XOR form*
//! `out[i] = Σ_x M[g(i)][g(i) ⊕ x] ψ[i ⊕ spread(x)]` (`g(i)`: the op's bits of `i`): targets at or
//! above the register width pick another register, targets inside it a lane permutation, so
//! one loop serves every position of the targets; the coefficients are precomputed per pass as
//! register-wide tables (real and imaginary parts apart: a complex product is two FMAs and one
//! permutation, a real matrix needs half of that). Diagonals are one complex product per
//! amplitude, permutations move amplitudes and multiply nothing, wide controlled gates skip
//! every block whose control bits outside the block are not all set.
//!
//! Results do not depend on the thread count: every amplitude is computed by one fixed
//! sequence of operations in its block, whatever thread holds the block.

use num_complex::Complex;
use rayon::prelude::*;

use super::fuse::{fuse, FuseParams, FusedOp, MAX_DENSE};
use super::gates::Gate;
use super::precision::{Amp, Float, Precision};
use super::simd::{Isa, One, Vector};
#[cfg(target_arch = "x86_64")]
use super::simd::{Y32, Y64, Z32, Z64};
use crate::C64;

/// Settings of the fast executor.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExecParams {
    /// Fusion settings.
    pub fuse: FuseParams,
    /// Bytes of one cache block (rounded down to a power of two of amplitudes); about half
    /// the L2 cache of a core.
    pub block_bytes: usize,
    /// The instruction set (`None`: the best this CPU has).
    pub isa: Option<Isa>,
}

impl Default for ExecParams {
    fn default() -> Self {
        ExecParams {
            fuse: FuseParams::default(),
            block_bytes: 1 << 19,
            isa: None,
        }
    }
}

/// Bytes of the shortest contiguous run a pass gathers (one page: full-speed streaming).
const MIN_RUN_BYTES: usize = 1 << 12;

/// Coefficient tables in the state's precision.
#[derive(Clone, Debug, PartialEq)]
enum Coef {
    D(Vec<f64>),
    S(Vec<f32>),
}

/// An op of a pass, on the block's local bits.
#[derive(Clone, Debug, PartialEq)]
enum Kern {
    /// XOR-form dense matrix: `kh` targets select registers (register-index bits `hi`), `kl`
    /// select lanes (`lx[xl]` = the lane XOR of pattern `xl`).
    Dense {
        kh: usize,
        kl: usize,
        hi: [usize; MAX_DENSE],
        lx: [usize; 1 << 3],
        real: bool,
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

/// One sweep over the state.
#[derive(Clone, Debug, PartialEq)]
struct Pass {
    /// Positions `0..low` are the block's low bits (contiguous runs of `2^low`).
    low: usize,
    /// Further positions gathered into the block, ascending: local bit `low + j`.
    high: Vec<usize>,
    /// Positions outside the block, ascending (the block's number is deposited on them).
    free: Vec<usize>,
    ops: Vec<Kern>,
}

/// A compiled run of unconditional gates: fused, planned into passes, with coefficient tables
/// for one precision and instruction set. Built once per circuit, applied to any state of its
/// qubit count and precision.
#[derive(Clone, Debug, PartialEq)]
pub struct FastRun {
    qubits: usize,
    precision: Precision,
    isa: Isa,
    passes: Vec<Pass>,
    fused: usize,
}

fn bits_of(m: usize) -> Vec<usize> {
    (0..usize::BITS as usize)
        .filter(|&b| m >> b & 1 == 1)
        .collect()
}

/// `x` with a zero bit inserted at position `p`.
#[inline(always)]
fn insert_zero(x: usize, p: usize) -> usize {
    ((x >> p) << (p + 1)) | (x & ((1usize << p) - 1))
}

/// The bits of `x` placed, in order, on the ascending positions `pos`.
#[inline(always)]
fn deposit(x: usize, pos: &[usize]) -> usize {
    pos.iter()
        .enumerate()
        .fold(0, |a, (j, &p)| a | (x >> j & 1) << p)
}

impl FastRun {
    /// Compiles `gates` (in program order, controls first in each qubit list) on `qubits`
    /// qubits for states of `precision`.
    ///
    /// # Panics
    /// If a gate's qubit count does not match it or a qubit is out of range (caller bug).
    #[track_caller]
    pub fn compile<'a>(
        qubits: usize,
        gates: impl IntoIterator<Item = (Gate, &'a [usize])>,
        precision: Precision,
        params: &ExecParams,
    ) -> FastRun {
        let ops: Vec<FusedOp> = gates
            .into_iter()
            .filter_map(|(g, qs)| {
                assert_eq!(g.num_qubits(), qs.len(), "{g:?} on {qs:?}");
                assert!(qs.iter().all(|&q| q < qubits), "{g:?} on {qs:?}");
                FusedOp::of(g, qs)
            })
            .collect();
        let fused = fuse(ops, qubits, &params.fuse);
        let amp = precision.amp_bytes();
        let mut isa = params.isa.unwrap_or_else(Isa::detect);
        // A block must hold a whole register (and tiny states gain nothing from vectors).
        if qubits < 4 || !isa.available() {
            isa = Isa::Portable;
        }
        let lanes = isa.log2_lanes(amp);
        let block = (params.block_bytes / amp).max(1 << (MAX_DENSE + 6)).ilog2() as usize;
        let b = block.min(qubits);
        let low_min = ((MIN_RUN_BYTES / amp).ilog2() as usize)
            .min(b.saturating_sub(super::fuse::MAX_DIAGONAL))
            .max(lanes);
        let passes = plan(&fused, qubits, b, low_min)
            .into_iter()
            .map(|(s, idx)| build_pass(&fused, &idx, s, qubits, lanes, precision))
            .collect();
        FastRun {
            qubits,
            precision,
            isa,
            passes,
            fused: fused.len(),
        }
    }

    /// Number of sweeps over the state.
    pub fn passes(&self) -> usize {
        self.passes.len()
    }

    /// Number of fused ops.
    pub fn fused_ops(&self) -> usize {
        self.fused
    }

    /// The instruction set the run was compiled for.
    pub fn isa(&self) -> Isa {
        self.isa
    }

    /// Applies the run to `psi` in place (`2^qubits` amplitudes of the run's precision).
    ///
    /// # Panics
    /// If the length or the precision does not match.
    #[track_caller]
    pub fn apply<A: Amp>(&self, psi: &mut [A]) {
        assert_eq!(psi.len(), 1usize << self.qubits, "state length");
        assert_eq!(A::PRECISION, self.precision, "state precision");
        assert_eq!(std::mem::size_of::<A>(), self.precision.amp_bytes());
        let len = psi.len();
        match self.precision {
            Precision::Double => {
                // SAFETY: `A` is `Complex<f64>` (the only amplitude of double precision and
                // 16 bytes), so the slice is one of `Complex<f64>`.
                let psi = unsafe {
                    std::slice::from_raw_parts_mut(psi.as_mut_ptr() as *mut Complex<f64>, len)
                };
                for pass in &self.passes {
                    run_pass(pass, psi, self.isa);
                }
            }
            Precision::Single => {
                // SAFETY: as above, `Complex<f32>`.
                let psi = unsafe {
                    std::slice::from_raw_parts_mut(psi.as_mut_ptr() as *mut Complex<f32>, len)
                };
                for pass in &self.passes {
                    run_pass(pass, psi, self.isa);
                }
            }
        }
    }
}

/// Groups `ops` into passes: `(chosen position mask, op indices)` (module doc).
fn plan(ops: &[FusedOp], n: usize, b: usize, low_min: usize) -> Vec<(usize, Vec<usize>)> {
    let all = if n >= usize::BITS as usize {
        usize::MAX
    } else {
        (1usize << n) - 1
    };
    let mut remaining: Vec<usize> = (0..ops.len()).collect();
    let mut out = Vec::new();
    while !remaining.is_empty() {
        let mut s = if n <= b { all } else { (1usize << low_min) - 1 };
        let mut blocked = 0usize;
        let (mut take, mut rest) = (Vec::new(), Vec::new());
        let mut scanned_after_block = 0usize;
        for (k, &i) in remaining.iter().enumerate() {
            let (need, touch) = (ops[i].need(), ops[i].touch());
            if blocked != 0 {
                scanned_after_block += 1;
            }
            if blocked & all == all || scanned_after_block > 1 << 14 {
                rest.extend_from_slice(&remaining[k..]);
                break;
            }
            if touch & blocked != 0 || (s | need).count_ones() as usize > b {
                rest.push(i);
                blocked |= touch;
                continue;
            }
            s |= need;
            take.push(i);
        }
        // Fill the block up with the lowest free positions: longer contiguous runs.
        let mut p = 0;
        while (s.count_ones() as usize) < b && p < n {
            s |= 1 << p;
            p += 1;
        }
        out.push((s, take));
        remaining = rest;
    }
    out
}

/// A float type the kernels run in, with its coefficient tables and per-ISA block entry.
trait Lane: Float {
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

/// Builds the kernels of one pass over the positions `s`.
fn build_pass(
    fused: &[FusedOp],
    idx: &[usize],
    s: usize,
    n: usize,
    lanes: usize,
    precision: Precision,
) -> Pass {
    let mut low = 0;
    while low < n && s >> low & 1 == 1 {
        low += 1;
    }
    let high: Vec<usize> = bits_of(s).into_iter().filter(|&p| p >= low).collect();
    let free: Vec<usize> = (0..n).filter(|&p| s >> p & 1 == 0).collect();
    let local = |q: usize| -> usize {
        if q < low {
            q
        } else {
            low + high
                .iter()
                .position(|&p| p == q)
                .expect("qubit in the block")
        }
    };
    let local_mask = |m: usize| {
        bits_of(m & s)
            .into_iter()
            .fold(0usize, |a, q| a | 1 << local(q))
    };
    let wrap = |v: Vec<f64>| match precision {
        Precision::Double => Coef::D(v),
        Precision::Single => Coef::S(v.into_iter().map(|x| x as f32).collect()),
    };
    let ops = idx
        .iter()
        .map(|&i| match &fused[i] {
            FusedOp::Dense { qubits, m } => {
                let lq: Vec<usize> = qubits.iter().map(|&q| local(q)).collect();
                dense_kern(&lq, m, lanes, wrap)
            }
            FusedOp::Diagonal { qubits, d } => {
                let lq: Vec<usize> = qubits.iter().map(|&q| local(q)).collect();
                diag_kern(&lq, d, lanes, wrap)
            }
            FusedOp::Swap { set, clear, x } => Kern::Swap {
                set: local_mask(*set),
                clear: local_mask(*clear),
                x: local_mask(*x),
                nl_set: set & !s,
                nl_clear: clear & !s,
            },
            FusedOp::Controlled { targets, ctrl, m } => Kern::Ctrl {
                targets: targets.iter().map(|&q| local(q)).collect(),
                ctrl: local_mask(*ctrl),
                nl_ctrl: ctrl & !s,
                m: m.clone(),
            },
        })
        .collect();
    Pass {
        low,
        high,
        free,
        ops,
    }
}

/// The XOR-form tables of the dense matrix `m` on local bits `lq` (matrix bit `j` = `lq[j]`)
/// for registers of `2^lanes` amplitudes.
fn dense_kern(lq: &[usize], m: &[C64], lanes: usize, wrap: impl Fn(Vec<f64>) -> Coef) -> Kern {
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
        real: m.iter().all(|z| z.im == 0.0),
        coef: wrap(coef),
    }
}

/// The tables of the diagonal `d` on local bits `lq`.
fn diag_kern(lq: &[usize], d: &[C64], lanes: usize, wrap: impl Fn(Vec<f64>) -> Coef) -> Kern {
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

/// A raw state pointer shared by the block workers: each block owns a disjoint set of
/// amplitudes (its position bits differ), so no two tasks touch one amplitude.
#[derive(Clone, Copy)]
struct Shared<T>(*mut T);
// SAFETY: see the type's doc; the pointee outlives the parallel loop that uses it.
unsafe impl<T> Send for Shared<T> {}
unsafe impl<T> Sync for Shared<T> {}

impl<T> Shared<T> {
    /// The pointer (a method, so that closures capture the whole `Send` wrapper).
    #[inline(always)]
    fn get(self) -> *mut T {
        self.0
    }
}

fn run_pass<F: Lane>(pass: &Pass, psi: &mut [Complex<F>], isa: Isa) {
    let ops = &pass.ops[..];
    let low = pass.low;
    let b = low + pass.high.len();
    let outer = 1usize << pass.free.len();
    let ptr = Shared(psi.as_mut_ptr());
    if pass.high.is_empty() {
        // The block is contiguous: work in place.
        let task = |o: usize| {
            let base = deposit(o, &pass.free);
            // SAFETY: the block `base..base + 2^b` lies in `psi` and belongs to this task.
            unsafe { F::block(isa, ops, ptr.get().add(base) as *mut F, b, base) }
        };
        if outer == 1 {
            task(0);
        } else {
            (0..outer).into_par_iter().for_each(task);
        }
        return;
    }
    let run = 1usize << low;
    let runs = 1usize << pass.high.len();
    (0..outer).into_par_iter().for_each_init(
        || vec![Complex::<F>::default(); 1 << b],
        |buf, o| {
            let base = deposit(o, &pass.free);
            for c in 0..runs {
                let start = base | deposit(c, &pass.high);
                // SAFETY: `start..start + run` lies in `psi` (positions below `low` are
                // free in `start`) and belongs to this block.
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        ptr.get().add(start),
                        buf.as_mut_ptr().add(c * run),
                        run,
                    )
                };
            }
            // SAFETY: `buf` holds 2^b amplitudes.
            unsafe { F::block(isa, ops, buf.as_mut_ptr() as *mut F, b, base) };
            for c in 0..runs {
                let start = base | deposit(c, &pass.high);
                // SAFETY: as the gather.
                unsafe {
                    std::ptr::copy_nonoverlapping(buf.as_ptr().add(c * run), ptr.get().add(start), run)
                };
            }
        },
    );
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
unsafe fn block_ops<V: Vector>(ops: &[Kern], buf: *mut V::F, b: usize, base: usize)
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
                coef,
            } => dense_dispatch::<V>(*kh, *kl, hi, lx, *real, coef_tab::<V::F>(coef), buf, b),
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
    coef: &[V::F],
    buf: *mut V::F,
    b: usize,
) {
    macro_rules! go {
        ($($h:literal, $l:literal);*) => {
            match (kh, kl) {
                $(($h, $l) => dense::<V, $h, $l>(hi, lx, real, coef.as_ptr(), buf, b),)*
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
            let mut acc = zero;
            for xh in 0..nh {
                for xl in 0..nl {
                    let t = ((ho * nh + xh) * nl + xl) * 2 * w;
                    let src = (ho ^ xh) * nl + xl;
                    let cr = V::load(coef.add(t));
                    acc = if xh == 0 && xl == 0 {
                        cr.mul(p[src])
                    } else {
                        cr.fmadd(p[src], acc)
                    };
                    if !real {
                        acc = V::load(coef.add(t + w)).fmadd(s[src], acc);
                    }
                }
            }
            acc.store(buf.add(base + o));
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
