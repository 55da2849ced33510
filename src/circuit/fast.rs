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
//! The kernels and their coefficient tables are in `block.rs`.
//!
//! Results do not depend on the thread count: every amplitude is computed by one fixed
//! sequence of operations in its block, whatever thread holds the block.

use num_complex::Complex;
use rayon::prelude::*;

use super::block::{bits_of, diag_kern, Coef, Kern, Lane};
use super::dense::dense_kern;
use super::fuse::{fuse, FuseParams, FusedOp, MAX_DENSE};
use super::gates::Gate;
use super::plan::plan;
use super::precision::{Amp, Precision};
use super::simd::Isa;

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
    /// Dense ops whose targets all select whole registers take their coefficients as
    /// broadcast scalars (the default; off: register-wide tables for every dense op, the
    /// kernel before them, kept for before/after benchmarks).
    pub broadcast: bool,
    /// Broadcast two-qubit ops whose nonzero real and imaginary parts form one of the
    /// compiled patterns run by the register-blocked kernel (the default; off: the general
    /// broadcast kernel, which gives the same bits, for before/after benchmarks).
    pub register_blocked: bool,
    /// A dense op with a target in the lanes of a register has that lane bit exchanged with
    /// a register bit first (tracked through the rest of the pass), so that the broadcast
    /// and register-blocked kernels run it (the default; off: the XOR-form kernel, for
    /// before/after benchmarks).
    pub lane_exchange: bool,
}

impl Default for ExecParams {
    fn default() -> Self {
        ExecParams {
            fuse: FuseParams::default(),
            block_bytes: 1 << 19,
            isa: None,
            broadcast: true,
            register_blocked: true,
            lane_exchange: true,
        }
    }
}

/// Bytes of the shortest contiguous run a pass gathers (one page: full-speed streaming).
const MIN_RUN_BYTES: usize = 1 << 12;

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
            .map(|(s, idx)| build_pass(&fused, &idx, s, qubits, lanes, precision, params))
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
        self.apply_from(psi, usize::MAX);
    }

    /// [`FastRun::apply`] to a state known to vanish outside `support`: `psi[i] = 0` whenever
    /// `i` has a bit outside the mask `support` (`0` for `|0…0⟩`, `usize::MAX` for any
    /// state). A block all of whose amplitudes vanish stays zero under the pass's ops, so it
    /// is skipped, neither read nor written: the first pass of a run from `|0…0⟩` computes one
    /// block, and the fresh pages of the others are first touched by a later pass. Returns the
    /// support after the run (`support` with every position of every pass).
    ///
    /// # Panics
    /// If the length or the precision does not match.
    #[track_caller]
    pub fn apply_from<A: Amp>(&self, psi: &mut [A], support: usize) -> usize {
        assert_eq!(psi.len(), 1usize << self.qubits, "state length");
        assert_eq!(A::PRECISION, self.precision, "state precision");
        assert_eq!(std::mem::size_of::<A>(), self.precision.amp_bytes());
        let len = psi.len();
        let all = len - 1;
        let mut support = support & all;
        match self.precision {
            Precision::Double => {
                // SAFETY: `A` is `Complex<f64>` (the only amplitude of double precision and
                // 16 bytes), so the slice is one of `Complex<f64>`.
                let psi = unsafe {
                    std::slice::from_raw_parts_mut(psi.as_mut_ptr() as *mut Complex<f64>, len)
                };
                for pass in &self.passes {
                    run_pass(pass, psi, self.isa, support);
                    support |= pass.positions(all);
                }
            }
            Precision::Single => {
                // SAFETY: as above, `Complex<f32>`.
                let psi = unsafe {
                    std::slice::from_raw_parts_mut(psi.as_mut_ptr() as *mut Complex<f32>, len)
                };
                for pass in &self.passes {
                    run_pass(pass, psi, self.isa, support);
                    support |= pass.positions(all);
                }
            }
        }
        support
    }
}

impl Pass {
    /// The positions the pass's block holds (of the state's positions `all`).
    fn positions(&self, all: usize) -> usize {
        self.free.iter().fold(all, |a, &p| a & !(1 << p))
    }
}

/// What the kernels of a compiled run do: the op mix and the arithmetic per amplitude (for
/// benchmarks: achieved flop rate against the CPU's peak).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KernelMix {
    /// Dense ops by their number of qubits (index 0 unused).
    pub dense: [usize; MAX_DENSE + 1],
    /// Dense ops whose coefficients are broadcast scalars (every target selects registers).
    pub dense_broadcast: usize,
    /// Dense ops whose every entry is real or imaginary (one multiply-add per entry instead
    /// of two).
    pub dense_half: usize,
    /// Two-qubit broadcast ops with every part of their class nonzero (all real parts of a
    /// real matrix, or all real and imaginary parts), run by the register-blocked kernel.
    pub dense_full2: usize,
    /// Two-qubit broadcast ops with a sparse pattern of nonzero parts (entries real or
    /// imaginary, half the entries zero, …) run by the register-blocked kernel.
    pub dense_sparse2: usize,
    /// Diagonal ops.
    pub diagonal: usize,
    /// Permutations (pair exchanges).
    pub swap: usize,
    /// Wide controlled matrices.
    pub controlled: usize,
    /// Exchanges of a lane bit with a register bit ([`ExecParams::lane_exchange`]).
    pub exchange: usize,
    /// Real floating-point operations per amplitude of the state, summed over every op (a
    /// multiply-add counts 2).
    pub flops_per_amp: f64,
}

impl FastRun {
    /// The op mix and arithmetic of the compiled kernels.
    pub fn mix(&self) -> KernelMix {
        let mut m = KernelMix::default();
        for op in self.passes.iter().flat_map(|p| &p.ops) {
            m.flops_per_amp += op.flops_per_amp();
            match op {
                Kern::Dense { kh, kl, nz, .. } => {
                    m.dense[(kh + kl).min(MAX_DENSE)] += 1;
                    if nz.iter().all(|f| f.count_ones() <= 1) {
                        m.dense_half += 1;
                    }
                }
                Kern::DenseRegs { k, nz, pat, .. } => {
                    m.dense[(*k).min(MAX_DENSE)] += 1;
                    m.dense_broadcast += 1;
                    match pat {
                        Some(p) if p.full() => m.dense_full2 += 1,
                        Some(_) => m.dense_sparse2 += 1,
                        None => {}
                    }
                    if nz.iter().all(|f| f.count_ones() <= 1) {
                        m.dense_half += 1;
                    }
                }
                Kern::Diag { .. } => m.diagonal += 1,
                Kern::Swap { .. } => m.swap += 1,
                Kern::Ctrl { .. } => m.controlled += 1,
                Kern::Exch { .. } => m.exchange += 1,
            }
        }
        m
    }
}

/// Builds the kernels of one pass over the positions `s`.
fn build_pass(
    fused: &[FusedOp],
    idx: &[usize],
    s: usize,
    n: usize,
    lanes: usize,
    precision: Precision,
    params: &ExecParams,
) -> Pass {
    let mut low = 0;
    while low < n && s >> low & 1 == 1 {
        low += 1;
    }
    let high: Vec<usize> = bits_of(s).into_iter().filter(|&p| p >= low).collect();
    let free: Vec<usize> = (0..n).filter(|&p| s >> p & 1 == 0).collect();
    let b = low + high.len();
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
    let wrap = |v: Vec<f64>| match precision {
        Precision::Double => Coef::D(v),
        Precision::Single => Coef::S(v.into_iter().map(|x| x as f32).collect()),
    };
    // Local bits a dense op multiplies (`need` of the later ops: when to move them into lanes).
    let dense_targets: Vec<usize> = idx
        .iter()
        .map(|&i| match &fused[i] {
            FusedOp::Dense { qubits, .. } => qubits.iter().fold(0, |a, &q| a | 1 << local(q)),
            _ => 0,
        })
        .collect();
    let mut lay = Layout::new(b);
    let exchange = params.lane_exchange && params.broadcast && lanes > 0;
    let mut ops = Vec::with_capacity(idx.len() + 2);
    for (k, &i) in idx.iter().enumerate() {
        if exchange {
            lay.free_lanes(dense_targets[k], &dense_targets[k + 1..], lanes, &mut ops);
        }
        let pos = |q: usize| lay.at[local(q)];
        let pos_mask = |m: usize| {
            bits_of(m & s)
                .into_iter()
                .fold(0usize, |a, q| a | 1 << pos(q))
        };
        ops.push(match &fused[i] {
            FusedOp::Dense { qubits, m } => {
                let lq: Vec<usize> = qubits.iter().map(|&q| pos(q)).collect();
                dense_kern(
                    &lq,
                    m,
                    lanes,
                    params.broadcast,
                    params.register_blocked,
                    wrap,
                )
            }
            FusedOp::Diagonal { qubits, d } => {
                let lq: Vec<usize> = qubits.iter().map(|&q| pos(q)).collect();
                diag_kern(&lq, d, lanes, wrap)
            }
            FusedOp::Swap { set, clear, x } => Kern::Swap {
                set: pos_mask(*set),
                clear: pos_mask(*clear),
                x: pos_mask(*x),
                nl_set: set & !s,
                nl_clear: clear & !s,
            },
            FusedOp::Controlled { targets, ctrl, m } => Kern::Ctrl {
                targets: targets.iter().map(|&q| pos(q)).collect(),
                ctrl: pos_mask(*ctrl),
                nl_ctrl: ctrl & !s,
                m: m.clone(),
            },
        });
    }
    lay.restore(lanes, &mut ops);
    Pass {
        low,
        high,
        free,
        ops,
    }
}

/// Where each local bit of a block currently lies (a permutation of the block's bit
/// positions, tracked in software): a dense op with a target in the lanes of a register would
/// need the XOR-form kernel (a lane permutation per term and register-wide coefficient
/// tables); exchanging that lane bit with a register bit first ([`Kern::Exch`], one shuffle
/// per register, no arithmetic) lets the broadcast and register-blocked kernels run it. The
/// exchanged layout is kept for the later ops of the pass (each op's bits are read through
/// it) and undone once at the end of the pass.
struct Layout {
    /// `at[bit]`: the position of local bit `bit`.
    at: Vec<usize>,
    /// `who[position]`: the local bit at `position`.
    who: Vec<usize>,
}

impl Layout {
    fn new(b: usize) -> Layout {
        Layout {
            at: (0..b).collect(),
            who: (0..b).collect(),
        }
    }

    /// Exchanges lane position `lane` with register position `reg`, and records the kernel.
    fn exch(&mut self, lane: usize, reg: usize, ops: &mut Vec<Kern>) {
        let (u, v) = (self.who[lane], self.who[reg]);
        self.who.swap(lane, reg);
        self.at[u] = reg;
        self.at[v] = lane;
        ops.push(Kern::Exch { lane, reg });
    }

    /// Moves every local bit of `targets` (a mask of local bits) that lies in a lane
    /// position (below `lanes`) to a register position, taking the positions whose bits the
    /// later dense ops (`later`, masks of local bits in order) multiply last or never (the
    /// bits moved into the lanes are the ones least soon needed outside them). Moves nothing
    /// when the block has too few register positions.
    fn free_lanes(&mut self, targets: usize, later: &[usize], lanes: usize, ops: &mut Vec<Kern>) {
        let b = self.at.len();
        let in_lanes: Vec<usize> = bits_of(targets)
            .into_iter()
            .filter(|&t| self.at[t] < lanes)
            .collect();
        if in_lanes.is_empty() {
            return;
        }
        // Register positions not holding a target of this op, by next use (never = MAX).
        let mut cands: Vec<(usize, usize)> = (lanes..b)
            .filter(|&p| targets >> self.who[p] & 1 == 0)
            .map(|p| {
                let next = later
                    .iter()
                    .position(|&m| m >> self.who[p] & 1 == 1)
                    .unwrap_or(usize::MAX);
                (next, p)
            })
            .collect();
        if cands.len() < in_lanes.len() {
            return;
        }
        // Farthest next use first; among equals the highest position (fixed order).
        cands.sort_unstable_by(|x, y| y.cmp(x));
        for (t, &(_, p)) in in_lanes.into_iter().zip(&cands) {
            self.exch(self.at[t], p, ops);
        }
    }

    /// Exchanges back to the identity layout (the block is written back in its own order).
    fn restore(&mut self, lanes: usize, ops: &mut Vec<Kern>) {
        let b = self.at.len();
        // Register positions in rising order: a position once holding its own bit is not
        // touched again (the bit to bring home lies at a higher position or in a lane).
        for r in lanes..b {
            if self.who[r] == r {
                continue;
            }
            if self.at[r] >= lanes {
                let p = self.at[r];
                self.exch(0, p, ops);
            }
            let a = self.at[r];
            self.exch(a, r, ops);
        }
        // Lane bits permuted among the lanes: a lane swap is three exchanges through one
        // register position.
        for a in 0..lanes.min(b) {
            if self.who[a] != a && b > lanes {
                let p = self.at[a];
                self.exch(a, lanes, ops);
                self.exch(p, lanes, ops);
                self.exch(a, lanes, ops);
            }
        }
        debug_assert!(
            self.who.iter().enumerate().all(|(p, &w)| p == w),
            "layout restored: {:?}",
            self.who
        );
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

/// Bytes to which a pass's block buffer is aligned: a cache line, the width of an AVX-512
/// register.
const BUF_ALIGN: usize = 64;

/// The `len` elements of `v` from its first address aligned to [`BUF_ALIGN`] bytes (`v` holds
/// at least `BUF_ALIGN / size_of::<T>()` more). The amplitudes are 8 or 16 bytes and the
/// allocator's addresses multiples of that, so the padding is a whole number of elements;
/// were an address not, the block would only be unaligned (the kernels' loads allow it).
fn aligned_block<T>(v: &mut [T], len: usize) -> &mut [T] {
    let sz = std::mem::size_of::<T>();
    let off = (BUF_ALIGN - v.as_ptr() as usize % BUF_ALIGN) % BUF_ALIGN / sz;
    &mut v[off..off + len]
}

/// One pass over `psi`, skipping the blocks whose position has a bit outside `support`
/// (they hold only zeros: [`FastRun::apply_from`]).
fn run_pass<F: Lane>(pass: &Pass, psi: &mut [Complex<F>], isa: Isa, support: usize) {
    let ops = &pass.ops[..];
    let low = pass.low;
    let b = low + pass.high.len();
    let outer = 1usize << pass.free.len();
    let ptr = Shared(psi.as_mut_ptr());
    if pass.high.is_empty() {
        // The block is contiguous: work in place.
        let task = |o: usize| {
            let base = deposit(o, &pass.free);
            if base & !support != 0 {
                return;
            }
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
    // The buffer is over-allocated by one cache line and used from its first 64-byte
    // boundary: the allocator aligns it to 16 bytes only, and at an offset of 16 or 48 every
    // 64-byte register load and store of the kernels splits across two cache lines.
    let pad = BUF_ALIGN / std::mem::size_of::<Complex<F>>();
    (0..outer).into_par_iter().for_each_init(
        || vec![Complex::<F>::default(); (1 << b) + pad],
        |buf, o| {
            let base = deposit(o, &pass.free);
            if base & !support != 0 {
                return;
            }
            let buf = aligned_block(buf, 1 << b);
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
                    std::ptr::copy_nonoverlapping(
                        buf.as_ptr().add(c * run),
                        ptr.get().add(start),
                        run,
                    )
                };
            }
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_buffers_start_on_a_cache_line() {
        for shift in 0..4 {
            let mut v = vec![Complex::<f64>::default(); 64 + BUF_ALIGN / 16];
            let b = aligned_block(&mut v[shift..], 60);
            assert_eq!(b.as_ptr() as usize % BUF_ALIGN, 0, "shift {shift}");
            assert_eq!(b.len(), 60);
            let mut w = vec![Complex::<f32>::default(); 64 + BUF_ALIGN / 8];
            let b = aligned_block(&mut w[shift..], 56);
            assert_eq!(b.as_ptr() as usize % BUF_ALIGN, 0, "shift {shift}");
        }
    }

    /// Replays the recorded exchanges on a list of amplitude labels.
    fn replay(ops: &[Kern], b: usize) -> Vec<usize> {
        let mut v: Vec<usize> = (0..1 << b).collect();
        for op in ops {
            let Kern::Exch { lane, reg } = *op else {
                panic!("only exchanges recorded")
            };
            let mut w = v.clone();
            for (i, &x) in v.iter().enumerate() {
                let (p, q) = (i >> lane & 1, i >> reg & 1);
                w[i & !(1 << lane) & !(1 << reg) | q << lane | p << reg] = x;
            }
            v = w;
        }
        v
    }

    #[test]
    fn lane_moves_follow_the_layout_and_the_restore_undoes_them() {
        // Ops on lane bits (0..2) of a 6-bit block with 2 lane bits, in an order that moves
        // a bit out of the lanes, back in, and permutes the lanes among themselves.
        let (b, lanes) = (6usize, 2usize);
        let seq: [usize; 7] = [
            0b000011, 0b000110, 0b110000, 0b000101, 0b001001, 0b000001, 0b1,
        ];
        let mut lay = Layout::new(b);
        let mut ops = Vec::new();
        for (k, &t) in seq.iter().enumerate() {
            lay.free_lanes(t, &seq[k + 1..], lanes, &mut ops);
            for q in bits_of(t) {
                assert!(lay.at[q] >= lanes, "op {k}: bit {q} still in a lane");
            }
            // The recorded exchanges move amplitudes as the layout says: the amplitude with
            // local bit q set sits where position at[q] is set.
            let v = replay(&ops, b);
            for q in 0..b {
                assert_eq!(v[1 << lay.at[q]], 1 << q, "op {k}: bit {q}");
            }
        }
        assert!(ops.len() >= 4, "{ops:?}");
        lay.restore(lanes, &mut ops);
        assert!(lay.who.iter().enumerate().all(|(p, &w)| p == w));
        assert_eq!(replay(&ops, b), (0..1 << b).collect::<Vec<_>>());
        // A bit used next is not moved into a lane: with bits 2 and 3 used by the next op,
        // bit 0 goes to a position used later or never (4 or 5 here), not 2 or 3.
        let mut lay = Layout::new(b);
        let mut ops = Vec::new();
        lay.free_lanes(0b1, &[0b1100, 0b10000], lanes, &mut ops);
        assert_eq!(lay.at[0], 5, "{ops:?}");
        // Too few register positions for the op's lane targets: nothing moves.
        let mut lay = Layout::new(3);
        let mut ops = Vec::new();
        lay.free_lanes(0b011, &[], 2, &mut ops);
        assert!(ops.is_empty());
    }
}
