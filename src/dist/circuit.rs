//! Circuits on a state vector split over ranks: the gates of [`crate::circuit`] applied to
//! each rank's block by the ordinary executor, global qubits brought into the block by qubit
//! swaps, and shots drawn by a global prefix sum so that the counts of a seed are those of
//! one process.
//!
//! Rank `r` holds `2^L` amplitudes (`L = n − g` local qubits, [`Layout`]). The circuit's
//! *logical* qubits sit on *physical* bit positions: positions `0 … L−1` are the bits of the
//! local index, positions `L … n−1` the bits of the rank. A gate whose qubits all sit on local
//! positions runs on the block with the executor of one process (fused runs included), its
//! qubits renamed to their positions. A gate that touches a qubit on a global position first
//! swaps that position with a local one the gate does not use — the local position whose
//! qubit is next needed furthest in the future — by one pairwise exchange of half a block, and
//! the permutation is remembered rather than undone (as QuEST and qsim do), so a run of gates
//! on the same global qubit costs one exchange, not one per gate. At the end the canonical
//! order (logical qubit `q` on position `q`) is restored, so the blocks are the rows of the
//! one-process state vector.
//!
//! Counts: every rank draws the same sorted uniforms from the seed as
//! [`sample_indices`] does; the probability masses of the sampler's chunks are gathered from
//! all ranks, so every rank holds the same running sums (the global prefix sum) bit for bit,
//! and each rank resolves the draws that land in its own chunks with the same scan. With the
//! same amplitudes the counts are identical to one process.
//!
//! Mid-circuit measurements and resets (shot branching) are refused on more than one rank
//! ([`DistError::CircuitUnsupported`]); measurements at the end (no later op depends on them)
//! are sampled as above.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::circuit::branch::{
    chunk_of, counts_key, resolve_chunk, sample_indices, sorted_draws, SAMPLE_CHUNK,
};
use crate::circuit::execute::{apply_unitary_step, compile_with, RunOptions};
use crate::circuit::ir::split_final_measurements;
use crate::circuit::precision::{Amp, Precision, C32};
use crate::circuit::{Circuit, Counts, Gate, Op, Register};
use crate::state::memory::{state_bytes, MemoryPlan};
use crate::C64;

use super::{map_ordered, Comm, DistError, Layout};

/// Gates and their qubits, in program order.
type GateList = Vec<(Gate, Vec<usize>)>;

/// One step of a distributed circuit: gates on local positions, or a qubit swap.
#[derive(Clone, Debug, PartialEq)]
enum Segment {
    /// Gates whose qubits are all local positions (already renamed to positions).
    Local(Vec<Op>),
    /// Exchange local position `local` with global position `L + rank_bit`.
    Swap { local: usize, rank_bit: usize },
}

/// The plan of a gate list on `qubits` qubits with `local` local positions: the segments in
/// order, ending in the canonical qubit order.
fn plan(
    qubits: usize,
    local: usize,
    gates: &[(Gate, Vec<usize>)],
) -> Result<Vec<Segment>, DistError> {
    if let Some((g, qs)) = gates.iter().find(|(_, qs)| qs.len() > local) {
        return Err(DistError::GateTooWide {
            gate: g.name(),
            arity: qs.len(),
            local,
        });
    }
    // `uses[q]`: the indices of the gates on logical qubit `q`, ascending.
    let mut uses = vec![Vec::new(); qubits];
    for (i, (_, qs)) in gates.iter().enumerate() {
        for &q in qs {
            uses[q].push(i);
        }
    }
    let next_use = |q: usize, after: usize| -> usize {
        let u = &uses[q];
        u.get(u.partition_point(|&i| i <= after))
            .copied()
            .unwrap_or(usize::MAX)
    };
    let mut pos: Vec<usize> = (0..qubits).collect(); // logical → physical
    let mut at: Vec<usize> = (0..qubits).collect(); // physical → logical
    let mut segs = Vec::new();
    let mut pending: Vec<Op> = Vec::new();
    let swap = |pos: &mut Vec<usize>, at: &mut Vec<usize>, p: usize, g: usize| {
        let (a, b) = (at[p], at[g]);
        at.swap(p, g);
        pos[a] = g;
        pos[b] = p;
    };
    for (i, (gate, qs)) in gates.iter().enumerate() {
        for &q in qs {
            if pos[q] < local {
                continue;
            }
            // The local position whose qubit this gate does not use and is needed last.
            let victim = (0..local)
                .filter(|&p| !qs.contains(&at[p]))
                .max_by_key(|&p| (next_use(at[p], i), p))
                .unwrap_or(0);
            if !pending.is_empty() {
                segs.push(Segment::Local(std::mem::take(&mut pending)));
            }
            let g = pos[q];
            segs.push(Segment::Swap {
                local: victim,
                rank_bit: g - local,
            });
            swap(&mut pos, &mut at, victim, g);
        }
        pending.push(Op::Gate {
            gate: *gate,
            qubits: qs.iter().map(|&q| pos[q]).collect(),
            cond: None,
        });
    }
    // Back to the canonical order: the global positions first (by exchanges), then the local
    // ones (by swap gates on the block).
    for g in local..qubits {
        if at[g] == g {
            continue;
        }
        if !pending.is_empty() {
            segs.push(Segment::Local(std::mem::take(&mut pending)));
        }
        let mut p = pos[g];
        if p >= local {
            // Logical `g` sits on another global position (above `g`, since the positions
            // below are done): bring it into the block first, through position 0.
            segs.push(Segment::Swap {
                local: 0,
                rank_bit: p - local,
            });
            swap(&mut pos, &mut at, 0, p);
            p = 0;
        }
        segs.push(Segment::Swap {
            local: p,
            rank_bit: g - local,
        });
        swap(&mut pos, &mut at, p, g);
    }
    for p in 0..local {
        if at[p] != p {
            let s = pos[p];
            pending.push(Op::Gate {
                gate: Gate::Swap,
                qubits: vec![p, s],
                cond: None,
            });
            swap(&mut pos, &mut at, p, s);
        }
    }
    if !pending.is_empty() {
        segs.push(Segment::Local(pending));
    }
    debug_assert!(at.iter().enumerate().all(|(p, &q)| p == q));
    Ok(segs)
}

/// Exchanges local bit `l` with rank bit `j` of the distributed state: amplitude `(r, i)`
/// moves to the rank and local index with those two bits swapped. The half of the block
/// whose bit `l` differs from this rank's bit `j` is sent to the partner `r ⊕ 2^j`, which
/// sends the matching half back; the other half stays.
fn swap_qubits<A: Amp + bytemuck::Pod>(
    comm: &dyn Comm,
    block: &mut [A],
    l: usize,
    j: usize,
    send: &mut [A],
    recv: &mut [A],
) {
    let rank = comm.rank();
    let partner = rank ^ (1 << j);
    // The runs of 2^l amplitudes whose bit l is the other value than this rank's bit j.
    let run = 1usize << l;
    let first = if rank >> j & 1 == 1 { 0 } else { run };
    for (k, s) in send.chunks_exact_mut(run).enumerate() {
        let at = (k << (l + 1)) + first;
        s.copy_from_slice(&block[at..at + run]);
    }
    comm.sendrecv(
        partner,
        bytemuck::cast_slice(send),
        bytemuck::cast_slice_mut(recv),
    );
    for (k, r) in recv.chunks_exact(run).enumerate() {
        let at = (k << (l + 1)) + first;
        block[at..at + run].copy_from_slice(r);
    }
}

/// The counts of a distributed run, and what it cost in communication.
#[derive(Clone, Debug, PartialEq)]
pub struct DistCircuitStats {
    /// Qubit swaps that exchanged half blocks between ranks.
    pub exchanges: usize,
    /// Bytes this rank sent (swaps and gathers).
    pub bytes_sent: u64,
}

/// This rank's block of a circuit's state, in the canonical qubit order.
#[derive(Clone, Debug, PartialEq)]
pub struct DistCircuitState {
    /// Rows [`Layout::offset`]`…+`[`Layout::local_dim`] of the one-process state vector
    /// (complex128; a single-precision run is widened exactly).
    pub block: Vec<C64>,
    /// Where the block sits.
    pub layout: Layout,
    /// Communication of the run.
    pub stats: DistCircuitStats,
}

/// The per-rank memory of a distributed run of `circuit` on `ranks` ranks in `precision`,
/// sampling `shots` shots (0: the state only): the block, the two half-block exchange
/// buffers, the chunk masses of the whole state and the sorted draws.
///
/// # Errors
/// As [`Layout::new`].
pub fn circuit_memory(
    circuit: &Circuit,
    ranks: usize,
    shots: u64,
    precision: Precision,
) -> Result<MemoryPlan, DistError> {
    let layout = Layout::new(circuit.qubits, ranks, 0)?;
    let l = layout.local_qubits();
    let amp = precision.amp_bytes();
    let mut plan = MemoryPlan::new(format!(
        "distributed circuit of {} qubits, per rank of {ranks} (each holds 2^{l} amplitudes)",
        circuit.qubits
    ));
    plan.add("state block", state_bytes(l, amp));
    if ranks > 1 {
        plan.add_n(
            "exchange buffers (half a block)",
            2,
            state_bytes(l, amp) / 2,
        );
    }
    if shots > 0 {
        let chunks = (1u128 << circuit.qubits).div_ceil(SAMPLE_CHUNK as u128);
        plan.add("chunk masses of the whole state", chunks * 8)
            .add("sorted draws", u128::from(shots) * 8)
            .add("counts", u128::from(shots.min(1 << 40)) * 32);
    }
    Ok(plan)
}

/// The gates of the unitary part of `circuit`, for ranks: measurements at the end are left
/// to the sampler; a mid-circuit measurement or reset is refused. Conditional gates read
/// classical bits that no measurement has written yet (all 0): `sampled` keeps those whose
/// condition holds then (as the one-process sampler applies them), otherwise they are dropped
/// (as the one-process unitary part does).
fn unitary_gates(
    circuit: &Circuit,
    sampled: bool,
) -> Result<(GateList, Vec<(usize, usize)>), DistError> {
    let (body, tail) = if circuit.has_measurements() {
        split_final_measurements(&circuit.ops)
    } else {
        (
            circuit.ops.clone(),
            (0..circuit.qubits).map(|q| (q, q)).collect(),
        )
    };
    let zeros = vec![0u64; circuit.clbits.div_ceil(64)];
    let mut gates = Vec::with_capacity(body.len());
    for op in body {
        match op {
            Op::Gate { gate, qubits, cond } => {
                let keep = match cond {
                    None => true,
                    Some(c) => sampled && c.holds(&zeros),
                };
                if keep && !gate.is_identity() {
                    gates.push((gate, qubits));
                }
            }
            Op::Measure { .. } => {
                return Err(DistError::CircuitUnsupported {
                    what: "a measurement followed by operations on its qubit or bit",
                })
            }
            Op::Reset { .. } => return Err(DistError::CircuitUnsupported { what: "a reset" }),
        }
    }
    Ok((gates, tail))
}

/// Runs `gates` from `|0…0⟩` on this rank's block; returns the block (canonical order) and
/// the number of exchanges.
fn run_blocks<A: Amp + bytemuck::Pod>(
    comm: &dyn Comm,
    layout: Layout,
    gates: &[(Gate, Vec<usize>)],
    opts: &RunOptions,
) -> Result<(Vec<A>, usize), DistError> {
    let l = layout.local_qubits();
    let segs = plan(layout.qubits(), l, gates)?;
    let mut block = crate::state::memory::zeroed::<A>(layout.local_dim());
    if layout.rank() == 0 {
        block[0] = A::from_c64(C64::new(1.0, 0.0));
    }
    let half = layout.local_dim() / 2;
    let (mut send, mut recv) = if comm.size() > 1 {
        (vec![A::default(); half], vec![A::default(); half])
    } else {
        (Vec::new(), Vec::new())
    };
    let mut exchanges = 0;
    for seg in &segs {
        match seg {
            Segment::Local(ops) => {
                for step in compile_with(l, ops, opts) {
                    apply_unitary_step(&step, &mut block, &[]);
                }
            }
            Segment::Swap { local, rank_bit } => {
                swap_qubits(comm, &mut block, *local, *rank_bit, &mut send, &mut recv);
                exchanges += 1;
            }
        }
    }
    Ok((block, exchanges))
}

/// This rank's block of the state before measurement of `circuit` (every gate applied,
/// conditional gates and final measurements skipped: the distributed form of
/// [`crate::circuit::execute::unitary_part_state_with`]), with the amplitudes split over the
/// ranks of `comm`. Every rank must call it with the same arguments. The per-rank memory
/// ([`circuit_memory`]) is checked before anything is allocated.
///
/// # Errors
/// [`DistError`] for a rank count that cannot split the circuit, a gate on more qubits than a
/// block holds, a mid-circuit measurement or reset, or the memory check.
pub fn circuit_state(
    circuit: &Circuit,
    comm: &dyn Comm,
    opts: &RunOptions,
) -> Result<DistCircuitState, DistError> {
    let layout = Layout::of(comm, circuit.qubits)?;
    check_local_size(layout)?;
    circuit_memory(circuit, comm.size(), 0, opts.precision)?.check()?;
    let (gates, _) = unitary_gates(circuit, false)?;
    let before = comm.bytes_sent();
    let (block, exchanges) = match opts.precision {
        Precision::Double => run_blocks::<C64>(comm, layout, &gates, opts)?,
        Precision::Single => {
            let (b, e) = run_blocks::<C32>(comm, layout, &gates, opts)?;
            (b.iter().map(|z| z.to_c64()).collect(), e)
        }
    };
    Ok(DistCircuitState {
        block,
        layout,
        stats: DistCircuitStats {
            exchanges,
            bytes_sent: comm.bytes_sent() - before,
        },
    })
}

/// Refuses blocks larger than one process's executor takes.
fn check_local_size(layout: Layout) -> Result<(), DistError> {
    if layout.local_qubits() > crate::circuit::MAX_QUBITS {
        return Err(crate::circuit::CircuitError::TooManyQubits {
            qubits: layout.local_qubits(),
            max: crate::circuit::MAX_QUBITS,
        }
        .into());
    }
    Ok(())
}

/// The whole state vector from every rank's block (rank order), on every rank: for printing
/// small states.
pub fn gather_state(comm: &dyn Comm, block: &[C64]) -> Vec<C64> {
    let mut all = vec![C64::new(0.0, 0.0); block.len() * comm.size()];
    comm.allgather(
        bytemuck::cast_slice(block),
        bytemuck::cast_slice_mut(&mut all),
    );
    all
}

/// `shots` shots of `circuit` from `|0…0⟩`, seeded by `seed`, with the state split over the
/// ranks of `comm`: the counts [`crate::circuit::sample_counts_with`] gives on one process
/// for the same seed (module doc), on every rank. Every rank must call it with the same
/// arguments; the per-rank memory ([`circuit_memory`]) is checked before anything is
/// allocated.
///
/// # Errors
/// As [`circuit_state`].
pub fn sample_counts(
    circuit: &Circuit,
    shots: u64,
    seed: u64,
    comm: &dyn Comm,
    opts: &RunOptions,
) -> Result<(Counts, DistCircuitStats), DistError> {
    let layout = Layout::of(comm, circuit.qubits)?;
    check_local_size(layout)?;
    circuit_memory(circuit, comm.size(), shots, opts.precision)?.check()?;
    let (gates, tail) = unitary_gates(circuit, true)?;
    let regs = if circuit.has_measurements() {
        circuit.creg_layout()
    } else {
        vec![Register {
            name: "q".into(),
            start: 0,
            size: circuit.qubits,
        }]
    };
    let words = if circuit.has_measurements() {
        circuit.clbits
    } else {
        circuit.qubits
    }
    .div_ceil(64);
    let before = comm.bytes_sent();
    let mut counts = Counts::new();
    if shots == 0 {
        return Ok((
            counts,
            DistCircuitStats {
                exchanges: 0,
                bytes_sent: 0,
            },
        ));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (hits, exchanges) = match opts.precision {
        Precision::Double => {
            let (b, e) = run_blocks::<C64>(comm, layout, &gates, opts)?;
            (sample_global(comm, layout, &b, shots, &mut rng), e)
        }
        Precision::Single => {
            let (b, e) = run_blocks::<C32>(comm, layout, &gates, opts)?;
            (sample_global(comm, layout, &b, shots, &mut rng), e)
        }
    };
    let mut bits = vec![0u64; words];
    for (idx, k) in hits {
        bits.fill(0);
        for &(q, c) in &tail {
            let w = &mut bits[c / 64];
            if idx >> q & 1 == 1 {
                *w |= 1 << (c % 64);
            } else {
                *w &= !(1 << (c % 64));
            }
        }
        *counts.entry(counts_key(&bits, &regs)).or_insert(0) += k;
    }
    Ok((
        counts,
        DistCircuitStats {
            exchanges,
            bytes_sent: comm.bytes_sent() - before,
        },
    ))
}

/// `shots` global indices drawn from `|ψ_i|²` of the distributed state (this rank's block in
/// `block`), as [`sample_indices`] draws them from the whole vector: the same `f64` per shot
/// from `rng`, the same sorted draws, the same chunk masses and running sums, the same scan.
/// Returns `(index, count)` of every rank's draws, on every rank.
fn sample_global<A: Amp + bytemuck::Pod>(
    comm: &dyn Comm,
    layout: Layout,
    block: &[A],
    shots: u64,
    rng: &mut impl Rng,
) -> Vec<(usize, u64)> {
    let dim = layout.local_dim();
    if comm.size() == 1 || dim < SAMPLE_CHUNK {
        // A chunk spans several ranks (or there is one rank): the whole state is small, so
        // every rank gathers it and runs the one-process sampler.
        let whole: Vec<A> = if comm.size() == 1 {
            block.to_vec()
        } else {
            let mut all = vec![A::default(); dim * comm.size()];
            comm.allgather(
                bytemuck::cast_slice(block),
                bytemuck::cast_slice_mut(&mut all),
            );
            all
        };
        let mut v: Vec<(usize, u64)> = sample_indices(&whole, shots, rng).into_iter().collect();
        v.sort_unstable();
        return v;
    }
    // Each chunk's mass summed in index order, as the one-process sampler does.
    let mine: Vec<f64> = block
        .par_chunks(SAMPLE_CHUNK)
        .map(|c| c.iter().fold(0.0, |a, z| a + z.norm2()))
        .collect();
    let per_rank = mine.len();
    let mut masses = vec![0.0; per_rank * comm.size()];
    comm.allgather(&mine, &mut masses);
    drop(mine);
    let (start, draws) = sorted_draws(&masses, shots, rng);
    let (k0, k1) = (layout.rank() * per_rank, (layout.rank() + 1) * per_rank);
    // Only the draws landing in this rank's chunks are resolved here.
    let lo_d = draws.partition_point(|&x| chunk_of(&start, x) < k0);
    let hi_d = draws.partition_point(|&x| chunk_of(&start, x) < k1);
    let mut hits: Vec<(usize, u64)> = Vec::new();
    let mut d = lo_d;
    while d < hi_d {
        let k = chunk_of(&start, draws[d]);
        let lo = (k - k0) * SAMPLE_CHUNK;
        let chunk = &block[lo..lo + SAMPLE_CHUNK];
        resolve_chunk(chunk, &start, k, &draws[..hi_d], &mut d, |i| {
            let idx = layout.offset() + lo + i;
            match hits.last_mut() {
                Some((at, n)) if *at == idx => *n += 1,
                _ => hits.push((idx, 1)),
            }
        });
    }
    drop(draws);
    let gathered: Result<Vec<Vec<(usize, u64)>>, std::convert::Infallible> =
        map_ordered(comm, comm.size(), |_| Ok(std::mem::take(&mut hits)));
    gathered
        .unwrap_or_else(|e| match e {})
        .into_iter()
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies a plan's swaps and local gates to a whole vector of basis labels: the final
    /// order must be the canonical one whatever the gates.
    #[test]
    fn plans_end_in_the_canonical_order_and_keep_gates_local() {
        let gates: Vec<(Gate, Vec<usize>)> = vec![
            (Gate::Cx, vec![5, 0]),
            (Gate::Cx, vec![4, 5]),
            (Gate::Cz, vec![3, 4]),
            (Gate::Ccx, vec![5, 4, 3]),
            (Gate::H, vec![1]),
        ];
        for local in 3..6 {
            let segs = plan(6, local, &gates).unwrap_or_default();
            let mut pos: Vec<usize> = (0..6).collect();
            let mut at: Vec<usize> = (0..6).collect();
            for s in &segs {
                match s {
                    Segment::Swap { local: p, rank_bit } => {
                        assert!(*p < local);
                        let g = local + rank_bit;
                        let (a, b) = (at[*p], at[g]);
                        at.swap(*p, g);
                        pos[a] = g;
                        pos[b] = *p;
                    }
                    Segment::Local(ops) => {
                        for op in ops {
                            if let Op::Gate { qubits, gate, .. } = op {
                                assert!(qubits.iter().all(|&q| q < local), "{ops:?}");
                                if *gate == Gate::Swap && qubits.len() == 2 {
                                    let (p, s) = (qubits[0], qubits[1]);
                                    let (a, b) = (at[p], at[s]);
                                    at.swap(p, s);
                                    pos[a] = s;
                                    pos[b] = p;
                                }
                            }
                        }
                    }
                }
            }
            assert_eq!(at, (0..6).collect::<Vec<_>>(), "local = {local}: {segs:?}");
        }
    }
}
