//! The state-vector executor: ops lowered once to kernels ([`Step`]), one seeded run of a
//! circuit ([`run`], [`simulate`]), the unitary part of a circuit ([`unitary_part_state`]),
//! collapsing measurement, and the memory plan checked before anything is allocated.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::gates::{Gate, Matrix2, Matrix4};
use super::ir::{Circuit, Condition, Op};
use super::kernels::{apply_controlled, apply_matrix2, apply_matrix4, CHUNK, PAR_MIN};
use super::{CircuitError, MAX_QUBITS};
use crate::state::memory::{check_alloc_u128, human_bytes, state_bytes};
use crate::C64;

/// A gate lowered to the kernel that applies it.
#[derive(Clone, Debug, PartialEq)]
pub enum Kernel {
    /// The identity: nothing to do.
    Nop,
    /// An uncontrolled one-qubit gate.
    One {
        /// Target.
        q: usize,
        /// Its matrix.
        m: Matrix2,
    },
    /// An uncontrolled two-qubit gate on `(a, b)`, indexed by `bit_a + 2·bit_b`.
    Two {
        /// First qubit.
        a: usize,
        /// Second qubit.
        b: usize,
        /// Its matrix.
        m: Matrix4,
    },
    /// A `k`-target matrix applied where every bit of `ctrl` is set.
    Controlled {
        /// Targets, `targets[0]` = bit 0 of the matrix index.
        targets: Vec<usize>,
        /// Control mask (bit `q` set for each control qubit `q`).
        ctrl: usize,
        /// Row-major `2^k × 2^k`.
        m: Vec<C64>,
    },
}

impl Kernel {
    /// The kernel of `gate` on `qubits` (controls first).
    ///
    /// # Panics
    /// If the qubit count does not match the gate.
    #[track_caller]
    pub fn of(gate: Gate, qubits: &[usize]) -> Kernel {
        assert_eq!(qubits.len(), gate.num_qubits(), "{gate:?} on {qubits:?}");
        if gate.is_identity() {
            return Kernel::Nop;
        }
        let nc = gate.controls();
        match (nc, qubits) {
            (0, &[q]) => Kernel::One {
                q,
                m: gate.matrix2(),
            },
            // Two-qubit gates, controlled ones included (cx, cz, cp, …), take the dense 4×4
            // block kernel: contiguous, vectorised passes beat the masked gather for them.
            (0 | 1, &[a, b]) => Kernel::Two {
                a,
                b,
                m: gate.matrix4(),
            },
            _ => Kernel::Controlled {
                targets: qubits[nc..].to_vec(),
                ctrl: qubits[..nc].iter().map(|&q| 1usize << q).sum(),
                m: gate.target_matrix(),
            },
        }
    }

    /// Applies the kernel to `psi` in place.
    ///
    /// # Panics
    /// If a qubit lies outside `psi`.
    #[track_caller]
    pub fn apply(&self, psi: &mut [C64]) {
        match self {
            Kernel::Nop => {}
            Kernel::One { q, m } => apply_matrix2(psi, *q, m),
            Kernel::Two { a, b, m } => apply_matrix4(psi, *a, *b, m),
            Kernel::Controlled { targets, ctrl, m } => apply_controlled(psi, targets, *ctrl, m),
        }
    }
}

/// Applies `gate` to `qubits` of `psi` (controls first).
///
/// # Panics
/// If the number of qubits does not match the gate or a qubit lies outside `psi`.
#[track_caller]
pub fn apply_gate(psi: &mut [C64], gate: Gate, qubits: &[usize]) {
    Kernel::of(gate, qubits).apply(psi);
}

/// One op lowered for execution: gate matrices computed once.
// The matrices stay inline: steps are read in order, once per gate, and a box per step would
// add a pointer chase to every gate for no memory that matters (a few hundred bytes per op).
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// A gate.
    Unitary(Kernel, Option<Condition>),
    /// A measurement of `q` into clbit `c`.
    Measure {
        /// Qubit.
        q: usize,
        /// Classical bit.
        c: usize,
        /// Condition.
        cond: Option<Condition>,
    },
    /// A reset of `q`.
    Reset {
        /// Qubit.
        q: usize,
        /// Condition.
        cond: Option<Condition>,
    },
}

/// Lowers `ops` to [`Step`]s (identities dropped).
pub fn compile(ops: &[Op]) -> Vec<Step> {
    ops.iter()
        .filter_map(|op| match op {
            Op::Gate { gate, qubits, cond } => match Kernel::of(*gate, qubits) {
                Kernel::Nop => None,
                k => Some(Step::Unitary(k, *cond)),
            },
            Op::Measure { q, c, cond } => Some(Step::Measure {
                q: *q,
                c: *c,
                cond: *cond,
            }),
            Op::Reset { q, cond } => Some(Step::Reset { q: *q, cond: *cond }),
        })
        .collect()
}

/// `(Σ_{bit q = 0} |ψ_i|², Σ_{bit q = 1} |ψ_i|²)`: per-chunk partial sums added in index
/// order, so the result does not depend on the thread count.
pub fn branch_weights(psi: &[C64], q: usize) -> (f64, f64) {
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

/// Projects `psi` on `bit q = one` and multiplies by `scale` (`1/√weight` renormalises).
pub fn collapse(psi: &mut [C64], q: usize, one: bool, scale: f64) {
    let bit = 1usize << q;
    let f = |(k, c): (usize, &mut [C64])| {
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
        psi.chunks_mut(CHUNK).enumerate().for_each(f);
    } else {
        psi.par_chunks_mut(CHUNK).enumerate().for_each(f);
    }
}

/// Measures qubit `q`: draws the outcome from `rng` (one `f64`), zeroes the other branch and
/// renormalises. Returns the outcome. Allocates one partial sum per chunk.
pub fn measure_qubit(psi: &mut [C64], q: usize, rng: &mut impl Rng) -> bool {
    let (w0, w1) = branch_weights(psi, q);
    let one = rng.random::<f64>() * (w0 + w1) < w1;
    collapse(psi, q, one, 1.0 / (if one { w1 } else { w0 }).sqrt());
    one
}

/// Sets classical bit `c` of the bitset `bits` to `v`.
pub fn set_bit(bits: &mut [u64], c: usize, v: bool) {
    let w = &mut bits[c / 64];
    if v {
        *w |= 1 << (c % 64);
    } else {
        *w &= !(1 << (c % 64));
    }
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
    let mut bits = vec![0u64; circuit.clbits.div_ceil(64)];
    let ok = |cond: &Option<Condition>, bits: &[u64]| cond.is_none_or(|c| c.holds(bits));
    for step in compile(&circuit.ops) {
        match step {
            Step::Unitary(k, cond) => {
                if ok(&cond, &bits) {
                    k.apply(psi)
                }
            }
            Step::Measure { q, c, cond } => {
                if ok(&cond, &bits) {
                    let v = measure_qubit(psi, q, rng);
                    set_bit(&mut bits, c, v);
                }
            }
            Step::Reset { q, cond } => {
                if ok(&cond, &bits) && measure_qubit(psi, q, rng) {
                    apply_matrix2(psi, q, &Gate::X.matrix2());
                }
            }
        }
    }
    (0..circuit.clbits)
        .map(|c| bits[c / 64] >> (c % 64) & 1 == 1)
        .collect()
}

/// The result of one execution of a circuit.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The final state vector (collapsed by any measurement).
    pub state: Vec<C64>,
    /// The classical bits (bit `j` = clbit `j`; unwritten bits are 0).
    pub clbits: Vec<bool>,
}

/// Refuses circuits above [`MAX_QUBITS`].
pub fn check_size(circuit: &Circuit) -> Result<(), CircuitError> {
    if circuit.qubits > MAX_QUBITS {
        return Err(CircuitError::TooManyQubits {
            qubits: circuit.qubits,
            max: MAX_QUBITS,
        });
    }
    Ok(())
}

/// `|0…0⟩` on `qubits` qubits. Does not check memory: see [`MemoryPlan`].
pub fn zero_state(qubits: usize) -> Vec<C64> {
    let mut psi = crate::state::memory::zeroed::<C64>(1usize << qubits);
    psi[0] = C64::new(1.0, 0.0);
    psi
}

/// Runs `circuit` once from `|0…0⟩` with measurement draws seeded by `seed`.
///
/// # Errors
/// [`CircuitError::TooManyQubits`] above [`MAX_QUBITS`]; [`CircuitError::Memory`] if one
/// state vector does not fit.
/// # Examples
/// A Bell pair measured: both classical bits agree on every seed.
/// ```
/// use qep::circuit::{parse_qasm, simulate};
/// let c = parse_qasm(
///     "OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[2];\ncreg c[2];\n\
///      h q[0];\ncx q[0],q[1];\nmeasure q -> c;\n",
/// )?;
/// for seed in 0..8 {
///     let out = simulate(&c, seed)?;
///     assert_eq!(out.clbits[0], out.clbits[1]);
///     // The state collapsed to |00⟩ or |11⟩.
///     let p11 = out.state[3].norm_sqr();
///     assert!((p11 - if out.clbits[0] { 1.0 } else { 0.0 }).abs() < 1e-12);
/// }
/// # Ok::<(), qep::circuit::CircuitError>(())
/// ```
pub fn simulate(circuit: &Circuit, seed: u64) -> Result<Outcome, CircuitError> {
    check_size(circuit)?;
    MemoryPlan::one_state(circuit).check()?;
    let mut state = zero_state(circuit.qubits);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let clbits = run(circuit, &mut state, &mut rng);
    Ok(Outcome { state, clbits })
}

/// The state before measurement of a circuit whose measurements are final
/// ([`Circuit::measurements_are_final`]): every gate applied, every measurement skipped.
///
/// # Errors
/// As [`simulate`].
pub fn unitary_part_state(circuit: &Circuit) -> Result<Vec<C64>, CircuitError> {
    check_size(circuit)?;
    MemoryPlan::one_state(circuit).check()?;
    let mut psi = zero_state(circuit.qubits);
    for step in compile(&circuit.ops) {
        if let Step::Unitary(k, None) = step {
            k.apply(&mut psi);
        }
    }
    Ok(psi)
}

/// The buffers a circuit command holds at its peak, named, summed and checked against the
/// memory available before anything is allocated (the same check and message as models:
/// [`crate::state::memory::check_alloc_u128`]).
#[derive(Clone, Debug, PartialEq)]
pub struct MemoryPlan {
    /// What the plan is for, e.g. `circuit (20 qubits, 1024 shots)`.
    pub what: String,
    /// `(buffer, bytes)`.
    pub items: Vec<(String, u128)>,
}

/// Bytes per distinct outcome held in the counts map besides its key (map node, `String`
/// header, count) and in the sampler's index map.
const COUNT_ENTRY_BYTES: u128 = 96;

impl MemoryPlan {
    /// One state vector of the circuit's qubits.
    pub fn one_state(circuit: &Circuit) -> Self {
        MemoryPlan {
            what: format!("circuit ({} qubits)", circuit.qubits),
            items: vec![(
                "state vector".into(),
                state_bytes(circuit.qubits, std::mem::size_of::<C64>()),
            )],
        }
    }

    /// The peak of [`super::sample_counts`] on `circuit` with `shots` shots: one state vector
    /// (more are kept only while they fit, see [`super::branch`]), the sampling table, the
    /// counts (one key of every register's bits per distinct outcome, at most `shots` of
    /// them), the classical bits and measurement records of the pending branches.
    pub fn sampling(circuit: &Circuit, shots: u64) -> Self {
        let n = circuit.qubits;
        let mut plan = Self::one_state(circuit);
        plan.what = format!("circuit ({n} qubits, {shots} shots)");
        plan.items
            .push(("sampling table".into(), state_bytes(n, 8)));
        let measured = circuit.has_measurements();
        let (key_bits, regs) = if measured {
            (
                circuit.clbits as u128,
                circuit.creg_layout().len().max(1) as u128,
            )
        } else {
            (n as u128, 1)
        };
        let key_len = key_bits + regs - 1;
        let distinct = if key_bits < 64 {
            (shots as u128).min(1u128 << key_bits)
        } else {
            shots as u128
        }
        .min(if n < 64 { 1u128 << n } else { u128::MAX })
        .max(u128::from(shots > 0));
        plan.items.push((
            "counts".into(),
            distinct.saturating_mul(key_len + COUNT_ENTRY_BYTES),
        ));
        // Pending branches: at most one per halving of the shots (65), each with its
        // classical bits and its record of measurement outcomes.
        let records = circuit
            .ops
            .iter()
            .filter(|op| !matches!(op, Op::Gate { .. }))
            .count() as u128;
        let per_branch = (circuit.clbits as u128).div_ceil(64) * 8 + records.div_ceil(8) + 64;
        if !circuit.measurements_are_final() {
            plan.items
                .push(("branch records".into(), per_branch.saturating_mul(66)));
        }
        plan
    }

    /// Adds a buffer.
    pub fn with(mut self, name: &str, bytes: u128) -> Self {
        self.items.push((name.into(), bytes));
        self
    }

    /// Total bytes.
    pub fn total(&self) -> u128 {
        self.items
            .iter()
            .fold(0u128, |a, (_, b)| a.saturating_add(*b))
    }

    /// Checks the total against the memory available.
    ///
    /// # Errors
    /// [`CircuitError::Memory`] naming every buffer.
    pub fn check(&self) -> Result<(), CircuitError> {
        let list: Vec<String> = self
            .items
            .iter()
            .map(|(k, b)| format!("{k} {}", human_bytes(*b)))
            .collect();
        check_alloc_u128(
            self.total(),
            &format!("{}: {}", self.what, list.join(" + ")),
        )?;
        Ok(())
    }
}
