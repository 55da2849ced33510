//! The state-vector executor: in-place bit-trick kernels for one- and two-qubit gates,
//! collapsing measurement and reset, and a seeded shot sampler.
//!
//! A gate on qubit `q` pairs amplitudes `i` and `i | 2^q` (bit `q` of `i` clear): the vector is
//! cut into blocks of `2^{q+1}` whose lower and upper halves hold the two members of each
//! pair; a two-qubit gate does this twice and updates quadruples. No allocation per gate; above
//! [`PAR_MIN`] amplitudes the blocks (or, for high qubits, the halves) are processed by rayon in
//! chunks of [`CHUNK`] amplitudes. Every amplitude is written by one fixed formula, so results
//! do not depend on the thread count.

use std::collections::{BTreeMap, HashMap};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::gate::{Gate, Matrix2, Matrix4};
use super::{Circuit, CircuitError, Op, MAX_QUBITS};
use crate::C64;

/// Vectors shorter than this are processed serially.
pub const PAR_MIN: usize = 1 << 14;
/// Amplitudes per parallel task.
pub const CHUNK: usize = 1 << 13;

/// Shot counts: bitstring (qubit/clbit 0 rightmost) → number of shots; only outcomes that
/// occurred appear.
pub type Counts = BTreeMap<String, u64>;

/// The result of one execution of a circuit.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The final state vector (collapsed by any measurement).
    pub state: Vec<C64>,
    /// The classical bits (bit `j` = clbit `j`; unwritten bits are 0).
    pub clbits: Vec<bool>,
}

#[inline(always)]
fn pair(m: &Matrix2, lo: &mut [C64], hi: &mut [C64]) {
    for (x, y) in lo.iter_mut().zip(hi.iter_mut()) {
        let (a, b) = (*x, *y);
        *x = m[0][0] * a + m[0][1] * b;
        *y = m[1][0] * a + m[1][1] * b;
    }
}

/// All pairs of qubit `q` inside `v`, whose length is a multiple of `2^{q+1}`.
fn pairs_serial(m: &Matrix2, v: &mut [C64], q: usize) {
    let half = 1usize << q;
    for blk in v.chunks_exact_mut(2 * half) {
        let (lo, hi) = blk.split_at_mut(half);
        pair(m, lo, hi);
    }
}

/// Applies the 2×2 matrix `m` to qubit `q` of `psi` in place.
///
/// # Panics
/// If `psi.len()` is not a power of two larger than `2^q`.
#[track_caller]
pub fn apply_matrix2(psi: &mut [C64], q: usize, m: &Matrix2) {
    let n = psi.len();
    assert!(
        n.is_power_of_two() && (1usize << q) < n,
        "qubit {q} outside a vector of {n}"
    );
    let block = 2usize << q;
    if n < PAR_MIN {
        pairs_serial(m, psi, q);
    } else if block <= CHUNK {
        psi.par_chunks_mut(CHUNK)
            .for_each(|c| pairs_serial(m, c, q));
    } else {
        psi.par_chunks_mut(block).for_each(|blk| {
            let (lo, hi) = blk.split_at_mut(block / 2);
            lo.par_chunks_mut(CHUNK)
                .zip(hi.par_chunks_mut(CHUNK))
                .for_each(|(l, h)| pair(m, l, h));
        });
    }
}

/// `m` in the `(hi bit, lo bit)` order: index `2·h + l`.
#[inline(always)]
fn quad(m: &Matrix4, a00: &mut [C64], a01: &mut [C64], a10: &mut [C64], a11: &mut [C64]) {
    for (((w, x), y), z) in a00
        .iter_mut()
        .zip(a01.iter_mut())
        .zip(a10.iter_mut())
        .zip(a11.iter_mut())
    {
        let v = [*w, *x, *y, *z];
        let r = |k: usize| m[k][0] * v[0] + m[k][1] * v[1] + m[k][2] * v[2] + m[k][3] * v[3];
        *w = r(0);
        *x = r(1);
        *y = r(2);
        *z = r(3);
    }
}

/// The quadruples of qubits `lo < hi` inside the two halves `x0` (bit `hi` clear) and `x1`.
fn quads_in_halves(m: &Matrix4, x0: &mut [C64], x1: &mut [C64], lo: usize) {
    let half = 1usize << lo;
    for (y0, y1) in x0
        .chunks_exact_mut(2 * half)
        .zip(x1.chunks_exact_mut(2 * half))
    {
        let (a00, a01) = y0.split_at_mut(half);
        let (a10, a11) = y1.split_at_mut(half);
        quad(m, a00, a01, a10, a11);
    }
}

fn quads_serial(m: &Matrix4, v: &mut [C64], lo: usize, hi: usize) {
    let half = 1usize << hi;
    for blk in v.chunks_exact_mut(2 * half) {
        let (x0, x1) = blk.split_at_mut(half);
        quads_in_halves(m, x0, x1, lo);
    }
}

/// Applies the 4×4 matrix `m` (indexed by `bit_a + 2·bit_b`) to qubits `(a, b)` of `psi`.
///
/// # Panics
/// If `a == b` or a qubit lies outside the vector.
#[track_caller]
pub fn apply_matrix4(psi: &mut [C64], a: usize, b: usize, m: &Matrix4) {
    let n = psi.len();
    assert!(a != b, "two-qubit gate on qubit {a} twice");
    assert!(
        n.is_power_of_two() && (1usize << a.max(b)) < n,
        "qubits ({a}, {b}) outside a vector of {n}"
    );
    let (lo, hi) = (a.min(b), a.max(b));
    // Reorder to index 2·bit_hi + bit_lo: the identity if a is the low qubit, else swap 1 ↔ 2.
    let p = |k: usize| if a == lo { k } else { [0, 2, 1, 3][k] };
    let mut mm = [[C64::new(0.0, 0.0); 4]; 4];
    for (r, row) in mm.iter_mut().enumerate() {
        for (c, x) in row.iter_mut().enumerate() {
            *x = m[p(r)][p(c)];
        }
    }
    let m = &mm;
    let block = 2usize << hi;
    if n < PAR_MIN {
        quads_serial(m, psi, lo, hi);
    } else if block <= CHUNK {
        psi.par_chunks_mut(CHUNK)
            .for_each(|c| quads_serial(m, c, lo, hi));
    } else if (2usize << lo) <= CHUNK {
        psi.par_chunks_mut(block).for_each(|blk| {
            let (x0, x1) = blk.split_at_mut(block / 2);
            x0.par_chunks_mut(CHUNK)
                .zip(x1.par_chunks_mut(CHUNK))
                .for_each(|(c0, c1)| quads_in_halves(m, c0, c1, lo));
        });
    } else {
        let lblock = 2usize << lo;
        psi.par_chunks_mut(block).for_each(|blk| {
            let (x0, x1) = blk.split_at_mut(block / 2);
            x0.par_chunks_mut(lblock)
                .zip(x1.par_chunks_mut(lblock))
                .for_each(|(y0, y1)| {
                    let (a00, a01) = y0.split_at_mut(lblock / 2);
                    let (a10, a11) = y1.split_at_mut(lblock / 2);
                    a00.par_chunks_mut(CHUNK)
                        .zip(a01.par_chunks_mut(CHUNK))
                        .zip(a10.par_chunks_mut(CHUNK))
                        .zip(a11.par_chunks_mut(CHUNK))
                        .for_each(|(((w, x), y), z)| quad(m, w, x, y, z));
                });
        });
    }
}

/// Applies a gate to `qubits` (one or two entries, `qubits[0]` the control of CX).
///
/// # Panics
/// If the number of qubits does not match the gate's arity, or as [`apply_matrix2`] /
/// [`apply_matrix4`].
#[track_caller]
pub fn apply_gate(psi: &mut [C64], gate: Gate, qubits: &[usize]) {
    assert_eq!(qubits.len(), gate.arity(), "{gate:?} on {qubits:?}");
    match *qubits {
        [q] => apply_matrix2(psi, q, &gate.matrix2()),
        [a, b] => apply_matrix4(psi, a, b, &gate.matrix4()),
        _ => unreachable!(),
    }
}

/// `(Σ_{bit q = 0} |ψ_i|², Σ_{bit q = 1} |ψ_i|²)`: per-chunk partial sums added in index
/// order, so the result does not depend on the thread count.
fn branch_weights(psi: &[C64], q: usize) -> (f64, f64) {
    let bit = 1usize << q;
    let part = |(k, c): (usize, &[C64])| {
        let base = k * CHUNK;
        c.iter().enumerate().fold((0.0, 0.0), |(w0, w1), (j, z)| {
            if (base + j) & bit == 0 {
                (w0 + z.norm_sqr(), w1)
            } else {
                (w0, w1 + z.norm_sqr())
            }
        })
    };
    let parts: Vec<(f64, f64)> = if psi.len() < PAR_MIN {
        psi.chunks(CHUNK).enumerate().map(part).collect()
    } else {
        psi.par_chunks(CHUNK).enumerate().map(part).collect()
    };
    parts
        .into_iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y))
}

/// Measures qubit `q`: draws the outcome from `rng` (one `f64`), zeroes the other branch and
/// renormalises. Returns the outcome. Allocates one partial sum per chunk.
pub fn measure_qubit(psi: &mut [C64], q: usize, rng: &mut impl Rng) -> bool {
    let (w0, w1) = branch_weights(psi, q);
    let one = rng.random::<f64>() * (w0 + w1) < w1;
    let scale = 1.0 / (if one { w1 } else { w0 }).sqrt();
    let bit = 1usize << q;
    let collapse = |(k, c): (usize, &mut [C64])| {
        let base = k * CHUNK;
        for (j, z) in c.iter_mut().enumerate() {
            *z = if ((base + j) & bit != 0) == one {
                *z * scale
            } else {
                C64::new(0.0, 0.0)
            };
        }
    };
    if psi.len() < PAR_MIN {
        psi.chunks_mut(CHUNK).enumerate().for_each(collapse);
    } else {
        psi.par_chunks_mut(CHUNK).enumerate().for_each(collapse);
    }
    one
}

/// Runs `circuit` on `psi` in place (measurements and resets draw from `rng`) and returns the
/// classical bits.
///
/// # Panics
/// If `psi.len() != 2^circuit.qubits`, or an op names a qubit or classical bit outside the
/// circuit (impossible for circuits built by [`Circuit`]'s methods or by QASM import).
#[track_caller]
pub fn run(circuit: &Circuit, psi: &mut [C64], rng: &mut impl Rng) -> Vec<bool> {
    assert_eq!(
        psi.len(),
        1usize << circuit.qubits,
        "state length vs circuit qubits"
    );
    let mut clbits = vec![false; circuit.clbits];
    for op in &circuit.ops {
        match *op {
            Op::One { gate, q } => apply_matrix2(psi, q, &gate.matrix2()),
            Op::Two { gate, a, b } => apply_matrix4(psi, a, b, &gate.matrix4()),
            Op::Measure { q, c } => clbits[c] = measure_qubit(psi, q, rng),
            Op::Reset { q } => {
                if measure_qubit(psi, q, rng) {
                    apply_matrix2(psi, q, &Gate::X.matrix2());
                }
            }
        }
    }
    clbits
}

fn check_size(circuit: &Circuit) -> Result<(), CircuitError> {
    if circuit.qubits > MAX_QUBITS {
        return Err(CircuitError::TooManyQubits {
            qubits: circuit.qubits,
            max: MAX_QUBITS,
        });
    }
    Ok(())
}

/// `|0…0⟩` on `qubits` qubits.
pub fn zero_state(qubits: usize) -> Vec<C64> {
    let mut psi = vec![C64::new(0.0, 0.0); 1usize << qubits];
    psi[0] = C64::new(1.0, 0.0);
    psi
}

/// Runs `circuit` once from `|0…0⟩` with measurement draws seeded by `seed`.
///
/// # Errors
/// [`CircuitError::TooManyQubits`] above [`MAX_QUBITS`].
pub fn simulate(circuit: &Circuit, seed: u64) -> Result<Outcome, CircuitError> {
    check_size(circuit)?;
    let mut state = zero_state(circuit.qubits);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let clbits = run(circuit, &mut state, &mut rng);
    Ok(Outcome { state, clbits })
}

/// The state before measurement of a circuit whose measurements are final
/// ([`Circuit::measurements_are_final`]): every gate applied, every measurement skipped.
///
/// # Errors
/// [`CircuitError::TooManyQubits`] above [`MAX_QUBITS`].
pub fn unitary_part_state(circuit: &Circuit) -> Result<Vec<C64>, CircuitError> {
    check_size(circuit)?;
    let mut psi = zero_state(circuit.qubits);
    for op in &circuit.ops {
        match *op {
            Op::One { gate, q } => apply_matrix2(&mut psi, q, &gate.matrix2()),
            Op::Two { gate, a, b } => apply_matrix4(&mut psi, a, b, &gate.matrix4()),
            Op::Measure { .. } | Op::Reset { .. } => {}
        }
    }
    Ok(psi)
}

/// `bits` as a string, bit 0 rightmost.
pub fn bitstring(bits: impl DoubleEndedIterator<Item = bool>) -> String {
    bits.rev().map(|b| if b { '1' } else { '0' }).collect()
}

/// `shots` indices drawn from `|ψ_i|²` (normalised by the total), by binary search in the
/// cumulative distribution; each draw takes one `f64` from `rng`. Returns index → count.
pub fn sample_indices(psi: &[C64], shots: u64, rng: &mut impl Rng) -> HashMap<usize, u64> {
    let mut cdf = Vec::with_capacity(psi.len());
    let mut acc = 0.0;
    for z in psi {
        acc += z.norm_sqr();
        cdf.push(acc);
    }
    let mut counts = HashMap::new();
    for _ in 0..shots {
        let u = rng.random::<f64>() * acc;
        // First i with cdf[i] > u; skips zero-probability outcomes.
        let i = cdf.partition_point(|&c| c <= u).min(psi.len() - 1);
        *counts.entry(i).or_insert(0) += 1;
    }
    counts
}

/// Runs `circuit` `shots` times from `|0…0⟩` and counts the outcomes, seeded by `seed`.
///
/// Bitstrings are over the classical bits if the circuit measures, else over all qubits (as
/// if every qubit were measured at the end); bit 0 is rightmost. If every measurement is final
/// ([`Circuit::measurements_are_final`]) the state is computed once and `shots` indices are
/// drawn from `|ψ|²`; otherwise the circuit is re-run per shot (cost `shots ×` one run).
///
/// # Errors
/// [`CircuitError::TooManyQubits`] above [`MAX_QUBITS`].
pub fn sample_counts(circuit: &Circuit, shots: u64, seed: u64) -> Result<Counts, CircuitError> {
    check_size(circuit)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut counts = Counts::new();
    if !circuit.has_measurements() {
        let psi = unitary_part_state(circuit)?;
        for (i, k) in sample_indices(&psi, shots, &mut rng) {
            let s = bitstring((0..circuit.qubits).map(|q| i >> q & 1 == 1));
            *counts.entry(s).or_insert(0) += k;
        }
    } else if circuit.measurements_are_final() {
        // The last measurement into each clbit decides it.
        let mut source: Vec<Option<usize>> = vec![None; circuit.clbits];
        for op in &circuit.ops {
            if let Op::Measure { q, c } = *op {
                source[c] = Some(q);
            }
        }
        let psi = unitary_part_state(circuit)?;
        for (i, k) in sample_indices(&psi, shots, &mut rng) {
            let s = bitstring(source.iter().map(|q| q.is_some_and(|q| i >> q & 1 == 1)));
            *counts.entry(s).or_insert(0) += k;
        }
    } else {
        let mut psi = zero_state(circuit.qubits);
        for _ in 0..shots {
            psi.fill(C64::new(0.0, 0.0));
            psi[0] = C64::new(1.0, 0.0);
            let bits = run(circuit, &mut psi, &mut rng);
            *counts.entry(bitstring(bits.into_iter())).or_insert(0) += 1;
        }
    }
    Ok(counts)
}
