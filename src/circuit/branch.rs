//! Shots: shot branching for dynamic circuits and sampling of final measurements.
//!
//! Final measurements (those no later op depends on, [`split_final_measurements`]) are drawn
//! from the final state, one draw per shot. Everything before them runs once per *distinct
//! measurement record*, not once per shot: at a mid-circuit measurement or reset the shots of
//! a branch are split by one binomial draw between the two outcomes, and each outcome that
//! received shots continues as its own branch (as Aer's shot branching). A circuit without
//! mid-circuit measurement, reset or condition is one branch: one state vector, as before.
//!
//! Branches are explored depth first, the outcome with fewer shots first: the pending
//! (larger) siblings then number at most `log2(shots) + 1`, and their states are kept only
//! while they fit in the memory available; a sibling whose state does not fit keeps its
//! record of outcomes instead and is recomputed from `|0…0⟩` with those outcomes forced. The
//! random draws happen in the same order either way, so counts for a seed do not depend on
//! the memory available or the thread count.

use std::collections::{BTreeMap, HashMap};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Binomial, Distribution};
use rayon::prelude::*;

use super::execute::{
    apply_unitary_step_from, branch_weights, check_size, collapse, compile_with, flip_qubit,
    set_bit, zero_state_of, MemoryPlan, RunOptions, Step,
};
use super::ir::{split_final_measurements, Circuit, Op, Register};
use super::kernels::PAR_MIN;
use super::precision::{Amp, Precision, C32};
use super::CircuitError;
use crate::state::memory::{available_bytes, state_bytes};
use crate::C64;

/// Shot counts: bitstring → number of shots; only outcomes that occurred appear. With several
/// classical registers the key is the registers separated by one space, the last register
/// leftmost, each with its bit 0 rightmost (Qiskit's `get_counts`).
pub type Counts = BTreeMap<String, u64>;

/// `bits` as a string, bit 0 rightmost.
pub fn bitstring(bits: impl DoubleEndedIterator<Item = bool>) -> String {
    bits.rev().map(|b| if b { '1' } else { '0' }).collect()
}

/// The counts key of the classical bits `bits` (bit `j` of word `j / 64` = clbit `j`) under
/// the register layout `regs` (Qiskit's `get_counts` format).
pub fn counts_key(bits: &[u64], regs: &[Register]) -> String {
    let bit = |j: usize| bits.get(j / 64).is_some_and(|w| w >> (j % 64) & 1 == 1);
    let mut s = String::with_capacity(regs.iter().map(|r| r.size + 1).sum());
    for (k, r) in regs.iter().rev().enumerate() {
        if k > 0 {
            s.push(' ');
        }
        s.extend(
            (r.start..r.start + r.size)
                .rev()
                .map(|j| if bit(j) { '1' } else { '0' }),
        );
    }
    s
}

/// Amplitudes per sampling chunk: the masses of the chunks are the only table the sampler
/// keeps (8 bytes per 2^12 amplitudes instead of 8 bytes per amplitude).
pub(crate) const SAMPLE_CHUNK: usize = 1 << 12;

/// `shots` indices drawn from `|ψ_i|²` (normalised by the total); each draw takes one `f64`
/// from `rng`. Returns index → count.
///
/// One parallel pass sums the probability of every chunk of `SAMPLE_CHUNK` (4096) amplitudes
/// (each chunk in index order, so the sums do not depend on the thread count); a draw picks
/// its chunk by binary search in the running sums of the chunk masses, and the draws that
/// land in one chunk are resolved together by one scan of it in index order (the first
/// index whose running sum exceeds the draw, so zero-probability outcomes are never drawn).
/// The state is read once more only where draws land, instead of being copied into a
/// cumulative table of 8 bytes per amplitude.
pub fn sample_indices<A: Amp>(psi: &[A], shots: u64, rng: &mut impl Rng) -> HashMap<usize, u64> {
    let mass = |c: &[A]| c.iter().fold(0.0, |a, z| a + z.norm2());
    let masses: Vec<f64> = if psi.len() < PAR_MIN {
        psi.chunks(SAMPLE_CHUNK).map(mass).collect()
    } else {
        psi.par_chunks(SAMPLE_CHUNK).map(mass).collect()
    };
    let (start, draws) = sorted_draws(&masses, shots, rng);
    let mut counts = HashMap::new();
    let mut d = 0;
    while d < draws.len() {
        // First chunk whose end exceeds the draw (chunks of zero mass are skipped).
        let k = chunk_of(&start, draws[d]);
        let lo = k * SAMPLE_CHUNK;
        let chunk = &psi[lo..(lo + SAMPLE_CHUNK).min(psi.len())];
        resolve_chunk(chunk, &start, k, &draws, &mut d, |i| {
            *counts.entry(lo + i).or_insert(0) += 1
        });
    }
    counts
}

/// The running sums of the chunk masses (`start[k]`: the mass before chunk `k`; the last
/// entry: the whole) and `shots` uniform draws below the whole, sorted. A distributed state
/// gathers every rank's chunk masses and calls this on every rank, so all ranks draw what one
/// process would.
pub(crate) fn sorted_draws(masses: &[f64], shots: u64, rng: &mut impl Rng) -> (Vec<f64>, Vec<f64>) {
    let mut start = Vec::with_capacity(masses.len() + 1);
    let mut acc = 0.0;
    start.push(acc);
    for m in masses {
        acc += m;
        start.push(acc);
    }
    let mut draws: Vec<f64> = (0..shots).map(|_| rng.random::<f64>() * acc).collect();
    draws.sort_by(f64::total_cmp);
    (start, draws)
}

/// The chunk a draw lands in: the first whose end exceeds it (chunks of zero mass are
/// skipped; the last chunk takes what rounding leaves above the whole).
pub(crate) fn chunk_of(start: &[f64], x: f64) -> usize {
    start[1..].partition_point(|&c| c <= x).min(start.len() - 2)
}

/// Resolves the sorted draws from `draws[*d]` on that land in chunk `k` (amplitudes `chunk`)
/// by one scan of it in index order, calling `hit` with the index inside the chunk of each and
/// advancing `*d` past them; the last chunk takes every remaining draw.
pub(crate) fn resolve_chunk<A: Amp>(
    chunk: &[A],
    start: &[f64],
    k: usize,
    draws: &[f64],
    d: &mut usize,
    mut hit: impl FnMut(usize),
) {
    let end = start[k + 1];
    let last = k + 2 == start.len();
    let mut run = start[k];
    let mut last_nonzero = 0;
    let mut j = 0;
    while *d < draws.len() && (draws[*d] < end || last) {
        while j < chunk.len() && run <= draws[*d] {
            let p = chunk[j].norm2();
            if p > 0.0 {
                last_nonzero = j;
            }
            run += p;
            j += 1;
        }
        // Rounding can leave the running sum of the chunk at or below a draw just under
        // its end: that draw takes the chunk's last outcome of nonzero probability.
        hit(if run > draws[*d] { j - 1 } else { last_nonzero });
        *d += 1;
    }
}

/// What the sampler reads the counts from: the circuit's classical registers, or (if it
/// measures nothing) every qubit as if measured at the end into one register.
struct Readout {
    regs: Vec<Register>,
    words: usize,
    /// `(qubit, clbit)` drawn from the final state.
    tail: Vec<(usize, usize)>,
    steps: Vec<Step>,
}

fn readout(circuit: &Circuit, opts: &RunOptions) -> Readout {
    if circuit.has_measurements() {
        let (body, tail) = split_final_measurements(&circuit.ops);
        Readout {
            regs: circuit.creg_layout(),
            words: circuit.clbits.div_ceil(64),
            tail,
            steps: compile_with(circuit.qubits, &body, opts),
        }
    } else {
        let n = circuit.qubits;
        Readout {
            regs: vec![Register {
                name: "q".into(),
                start: 0,
                size: n,
            }],
            words: n.div_ceil(64),
            tail: (0..n).map(|q| (q, q)).collect(),
            steps: compile_with(n, &circuit.ops, opts),
        }
    }
}

/// A branch waiting to be run: from step `step` on, with its shots, classical bits, record
/// of measurement outcomes and (if it fitted) its state.
struct Branch<A> {
    step: usize,
    shots: u64,
    bits: Vec<u64>,
    record: Vec<bool>,
    state: Option<Vec<A>>,
}

/// Re-runs `steps[..upto]` from `|0…0⟩` into `psi`, each measurement and reset taking the
/// next outcome of `record`; returns the classical bits.
fn replay<A: Amp>(
    steps: &[Step],
    upto: usize,
    record: &[bool],
    psi: &mut [A],
    words: usize,
) -> Vec<u64> {
    psi.fill(A::default());
    psi[0] = A::from_c64(C64::new(1.0, 0.0));
    let mut bits = vec![0u64; words];
    let mut next = record.iter();
    let mut support = 0;
    for step in &steps[..upto] {
        if apply_unitary_step_from(step, psi, &bits, &mut support) {
            continue;
        }
        match step {
            Step::Unitary(..) | Step::Run(..) | Step::Op(Op::Gate { .. }) => {}
            Step::Op(Op::Measure { q, cond, .. } | Op::Reset { q, cond }) => {
                if cond.is_none_or(|c| c.holds(&bits)) {
                    let one = *next.next().unwrap_or(&false);
                    let (w0, w1) = branch_weights(psi, *q);
                    collapse(psi, *q, one, 1.0 / (if one { w1 } else { w0 }).sqrt());
                    if let Step::Op(Op::Measure { c, .. }) = step {
                        set_bit(&mut bits, *c, one);
                    } else if one {
                        flip_qubit(psi, *q);
                    }
                }
            }
        }
    }
    bits
}

/// Runs `circuit` for `shots` shots from `|0…0⟩` and counts the outcomes, seeded by `seed`.
///
/// Keys are over the classical registers if the circuit measures (unwritten bits 0), else
/// over all qubits (as if every qubit were measured at the end). A circuit without
/// mid-circuit measurement, reset or condition is simulated once and all shots are drawn
/// from its final state; otherwise shots branch at each measurement and reset (module doc):
/// the cost is one state-vector run per distinct measurement record.
///
/// # Errors
/// [`CircuitError::TooManyQubits`] above [`super::MAX_QUBITS`]; [`CircuitError::Memory`] if
/// the [`MemoryPlan::sampling`] of the circuit does not fit.
/// # Examples
/// GHZ on three qubits: only `000` and `111`, each about half of the shots.
/// ```
/// use qep::circuit::{exact_distribution, parse_qasm, sample_counts};
/// let c = parse_qasm(
///     "OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[3];\ncreg c[3];\n\
///      h q[0];\ncx q[0],q[1];\ncx q[1],q[2];\nmeasure q -> c;\n",
/// )?;
/// let counts = sample_counts(&c, 2_000, 3)?;
/// assert_eq!(counts.keys().collect::<Vec<_>>(), ["000", "111"]);
/// assert!((counts["111"] as f64 - 1_000.0).abs() < 5.0 * 22.4); // 5σ, σ = √(2000/4)
/// let exact = exact_distribution(&c)?;
/// assert!((exact["000"] - 0.5).abs() < 1e-12);
/// # Ok::<(), qep::circuit::CircuitError>(())
/// ```
pub fn sample_counts(circuit: &Circuit, shots: u64, seed: u64) -> Result<Counts, CircuitError> {
    sample_counts_with(circuit, shots, seed, &RunOptions::default())
}

/// [`sample_counts`] with the executor and precision of `opts`. For a seed, the counts do not
/// depend on the thread count or the memory available.
///
/// # Errors
/// As [`sample_counts`], with the memory plan in `opts.precision`
/// ([`MemoryPlan::sampling_in`]).
///
/// # Panics
/// If `opts` asks for the plain executor in single precision.
pub fn sample_counts_with(
    circuit: &Circuit,
    shots: u64,
    seed: u64,
    opts: &RunOptions,
) -> Result<Counts, CircuitError> {
    match opts.precision {
        Precision::Double => counts_in::<C64>(circuit, shots, seed, opts),
        Precision::Single => counts_in::<C32>(circuit, shots, seed, opts),
    }
}

fn counts_in<A: Amp>(
    circuit: &Circuit,
    shots: u64,
    seed: u64,
    opts: &RunOptions,
) -> Result<Counts, CircuitError> {
    check_size(circuit)?;
    let plan = MemoryPlan::sampling_in(circuit, shots, A::PRECISION);
    plan.check()?;
    let mut counts = Counts::new();
    if shots == 0 {
        return Ok(counts);
    }
    let one_state = state_bytes(circuit.qubits, std::mem::size_of::<A>());
    let spare = available_bytes().0.saturating_sub(plan.total());
    let max_live = 1 + (spare / one_state.max(1)).min(1 << 20) as usize;
    let ro = readout(circuit, opts);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut pending: Vec<Branch<A>> = Vec::new();
    let mut live = 1usize;
    let mut cur = Branch {
        step: 0,
        shots,
        bits: vec![0; ro.words],
        record: Vec::new(),
        state: Some(zero_state_of::<A>(circuit.qubits)),
    };
    let mut spare_buffer: Option<Vec<A>> = None;
    loop {
        let mut psi = match cur.state.take() {
            Some(s) => s,
            None => {
                // Recompute the state from its record, in the buffer of the finished branch.
                let mut buf = spare_buffer.take().unwrap_or_else(|| {
                    live += 1;
                    zero_state_of::<A>(circuit.qubits)
                });
                cur.bits = replay(&ro.steps, cur.step, &cur.record, &mut buf, ro.words);
                buf
            }
        };
        // A branch from the first step holds the fresh |0…0⟩.
        let mut support = if cur.step == 0 { 0 } else { usize::MAX };
        for (i, step) in ro.steps.iter().enumerate().skip(cur.step) {
            if apply_unitary_step_from(step, &mut psi, &cur.bits, &mut support) {
                continue;
            }
            match step {
                Step::Unitary(..) | Step::Run(..) | Step::Op(Op::Gate { .. }) => {}
                Step::Op(Op::Measure { q, cond, .. } | Op::Reset { q, cond }) => {
                    if !cond.is_none_or(|c| c.holds(&cur.bits)) {
                        continue;
                    }
                    let (w0, w1) = branch_weights(&psi, *q);
                    let k1 = if w1 <= 0.0 {
                        0
                    } else if w0 <= 0.0 {
                        cur.shots
                    } else {
                        let p = (w1 / (w0 + w1)).clamp(0.0, 1.0);
                        Binomial::new(cur.shots, p).map_or(0, |b| b.sample(&mut rng))
                    };
                    let k0 = cur.shots - k1;
                    // The outcome continued now: the one with fewer shots if both occur.
                    let one = if k0 > 0 && k1 > 0 { k1 < k0 } else { k1 > 0 };
                    let outcome_bits = |bits: &[u64], v: bool| {
                        let mut b = bits.to_vec();
                        if let Step::Op(Op::Measure { c, .. }) = step {
                            set_bit(&mut b, *c, v);
                        }
                        b
                    };
                    if k0 > 0 && k1 > 0 {
                        let other = !one;
                        let state = (live < max_live).then(|| {
                            live += 1;
                            let mut s = psi.clone();
                            let w = if other { w1 } else { w0 };
                            collapse(&mut s, *q, other, 1.0 / w.sqrt());
                            if other && matches!(step, Step::Op(Op::Reset { .. })) {
                                flip_qubit(&mut s, *q);
                            }
                            s
                        });
                        let mut record = cur.record.clone();
                        record.push(other);
                        pending.push(Branch {
                            step: i + 1,
                            shots: if other { k1 } else { k0 },
                            bits: outcome_bits(&cur.bits, other),
                            record,
                            state,
                        });
                        cur.shots = if one { k1 } else { k0 };
                    }
                    let w = if one { w1 } else { w0 };
                    collapse(&mut psi, *q, one, 1.0 / w.sqrt());
                    if one && matches!(step, Step::Op(Op::Reset { .. })) {
                        flip_qubit(&mut psi, *q);
                    }
                    cur.bits = outcome_bits(&cur.bits, one);
                    cur.record.push(one);
                }
            }
        }
        // Final measurements: one draw per shot from this branch's state.
        let mut by_key: BTreeMap<String, u64> = BTreeMap::new();
        for (idx, k) in sample_indices(&psi, cur.shots, &mut rng) {
            let mut bits = cur.bits.clone();
            for &(q, c) in &ro.tail {
                set_bit(&mut bits, c, idx >> q & 1 == 1);
            }
            *by_key.entry(counts_key(&bits, &ro.regs)).or_insert(0) += k;
        }
        for (key, k) in by_key {
            *counts.entry(key).or_insert(0) += k;
        }
        match pending.pop() {
            Some(next) => {
                if next.state.is_some() {
                    live -= 1;
                } else {
                    spare_buffer = Some(psi);
                }
                cur = next;
            }
            None => break,
        }
    }
    Ok(counts)
}

/// The exact distribution of the counts keys of `circuit` (as [`sample_counts`] would
/// report them with infinitely many shots): every branch of nonzero weight is followed, each
/// holding its own state vector, and the final state's probabilities are added per key.
/// Meant for small circuits and tests: it keeps one state per pending branch.
///
/// # Errors
/// As [`sample_counts`].
pub fn exact_distribution(circuit: &Circuit) -> Result<BTreeMap<String, f64>, CircuitError> {
    exact_distribution_with(circuit, &RunOptions::default())
}

/// [`exact_distribution`] with the executor and precision of `opts`.
///
/// # Errors
/// As [`sample_counts`].
///
/// # Panics
/// If `opts` asks for the plain executor in single precision.
pub fn exact_distribution_with(
    circuit: &Circuit,
    opts: &RunOptions,
) -> Result<BTreeMap<String, f64>, CircuitError> {
    match opts.precision {
        Precision::Double => exact_in::<C64>(circuit, opts),
        Precision::Single => exact_in::<C32>(circuit, opts),
    }
}

fn exact_in<A: Amp>(
    circuit: &Circuit,
    opts: &RunOptions,
) -> Result<BTreeMap<String, f64>, CircuitError> {
    check_size(circuit)?;
    MemoryPlan::sampling_in(circuit, 1, A::PRECISION).check()?;
    let ro = readout(circuit, opts);
    let mut out: BTreeMap<String, f64> = BTreeMap::new();
    let mut stack = vec![(
        0usize,
        1.0f64,
        vec![0u64; ro.words],
        zero_state_of::<A>(circuit.qubits),
    )];
    'branch: while let Some((start, p, mut bits, mut psi)) = stack.pop() {
        // Only the root branch starts from the fresh |0…0⟩; a fused run there skips the
        // blocks that still hold only zeros.
        let mut support = if start == 0 { 0 } else { usize::MAX };
        for (i, step) in ro.steps.iter().enumerate().skip(start) {
            if apply_unitary_step_from(step, &mut psi, &bits, &mut support) {
                continue;
            }
            match step {
                Step::Unitary(..) | Step::Run(..) | Step::Op(Op::Gate { .. }) => {}
                Step::Op(Op::Measure { q, cond, .. } | Op::Reset { q, cond }) => {
                    if !cond.is_none_or(|c| c.holds(&bits)) {
                        continue;
                    }
                    let (w0, w1) = branch_weights(&psi, *q);
                    let t = w0 + w1;
                    let apply = |psi: &mut Vec<A>, bits: &mut Vec<u64>, one: bool, w: f64| {
                        collapse(psi, *q, one, 1.0 / w.sqrt());
                        match step {
                            Step::Op(Op::Measure { c, .. }) => set_bit(bits, *c, one),
                            _ if one => flip_qubit(psi, *q),
                            _ => {}
                        }
                    };
                    if w1 / t > 1e-15 && w0 / t > 1e-15 {
                        let (mut s, mut b) = (psi.clone(), bits.clone());
                        apply(&mut s, &mut b, true, w1);
                        stack.push((i + 1, p * w1 / t, b, s));
                        apply(&mut psi, &mut bits, false, w0);
                        stack.push((i + 1, p * w0 / t, bits, psi));
                        continue 'branch;
                    }
                    let one = w1 >= w0;
                    apply(&mut psi, &mut bits, one, if one { w1 } else { w0 });
                }
            }
        }
        leaf(&mut out, &ro, p, &bits, &psi);
    }
    Ok(out)
}

/// Adds the final-state probabilities of one branch of weight `p` to `out`.
fn leaf<A: Amp>(out: &mut BTreeMap<String, f64>, ro: &Readout, p: f64, bits: &[u64], psi: &[A]) {
    let norm: f64 = psi.iter().map(|z| z.norm2()).sum();
    for (idx, z) in psi.iter().enumerate() {
        let w = z.norm2();
        if w == 0.0 {
            continue;
        }
        let mut b = bits.to_vec();
        for &(q, c) in &ro.tail {
            set_bit(&mut b, c, idx >> q & 1 == 1);
        }
        *out.entry(counts_key(&b, &ro.regs)).or_insert(0.0) += p * w / norm;
    }
}
