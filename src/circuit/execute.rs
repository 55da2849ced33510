//! The state-vector executor: ops lowered once to kernels ([`Step`]), one seeded run of a
//! circuit ([`run`], [`simulate`]), the unitary part of a circuit ([`unitary_part_state`]),
//! collapsing measurement, and the memory plan checked before anything is allocated.
//!
//! Two executors share the steps: [`Executor::Fast`] (the default) compiles every maximal run
//! of unconditional gates into one fused, cache-blocked [`FastRun`] (and every conditional
//! gate into a run of its own), in double or single precision; [`Executor::Plain`] applies
//! each gate as its own pass with the kernels of [`super::kernels`], in double precision. The
//! plain executor is the oracle the fast one is tested against.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::fast::{ExecParams, FastRun};
use super::gates::{Gate, Matrix2, Matrix4};
use super::ir::{Circuit, Condition, Op};
use super::kernels::{apply_controlled, apply_matrix2, apply_matrix4, CHUNK, PAR_MIN};
pub use super::memory_plan::MemoryPlan;
use super::precision::{Amp, Precision, C32};
use super::{CircuitError, MAX_QUBITS};
use crate::C64;

/// Which executor applies the gates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Executor {
    /// Fused, cache-blocked, vectorised runs ([`FastRun`]).
    #[default]
    Fast,
    /// One pass per gate with the plain kernels (double precision only): the oracle.
    Plain,
}

/// How a circuit is executed: the executor, the state's precision and the fast executor's
/// settings.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RunOptions {
    /// The executor.
    pub executor: Executor,
    /// The state's precision ([`Executor::Plain`] runs in double precision only).
    pub precision: Precision,
    /// Settings of [`Executor::Fast`].
    pub params: ExecParams,
}

impl RunOptions {
    /// The plain per-gate executor in double precision (the oracle).
    pub fn plain() -> Self {
        RunOptions {
            executor: Executor::Plain,
            ..Self::default()
        }
    }

    /// The fast executor in `precision`.
    pub fn fast(precision: Precision) -> Self {
        RunOptions {
            precision,
            ..Self::default()
        }
    }
}

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

/// One op lowered for execution: gate matrices computed once (or a whole run of gates fused).
// The matrices stay inline: steps are read in order, once per gate, and a box per step would
// add a pointer chase to every gate for no memory that matters (a few hundred bytes per op).
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// A gate (plain executor).
    Unitary(Kernel, Option<Condition>),
    /// A fused run of gates (fast executor): every unconditional gate between two
    /// measurements, resets or conditional gates, or one conditional gate.
    Run(Box<FastRun>, Option<Condition>),
    /// A measurement or a reset, as the op list has it ([`Op::Measure`], [`Op::Reset`]; never
    /// a gate).
    Op(Op),
}

/// Lowers `ops` to [`Step`]s (identities dropped).
pub fn compile(ops: &[Op]) -> Vec<Step> {
    ops.iter()
        .filter_map(|op| match op {
            Op::Gate { gate, qubits, cond } => match Kernel::of(*gate, qubits) {
                Kernel::Nop => None,
                k => Some(Step::Unitary(k, *cond)),
            },
            Op::Measure { .. } | Op::Reset { .. } => Some(Step::Op(op.clone())),
        })
        .collect()
}

/// Lowers `ops` on `qubits` qubits to [`Step`]s for `opts`: with [`Executor::Fast`], each
/// maximal run of unconditional gates becomes one [`Step::Run`] and each conditional gate a
/// run of its own; with [`Executor::Plain`], [`compile`].
///
/// # Panics
/// If `opts` asks for the plain executor in single precision (it runs in double only).
#[track_caller]
pub fn compile_with(qubits: usize, ops: &[Op], opts: &RunOptions) -> Vec<Step> {
    if opts.executor == Executor::Plain {
        assert_eq!(
            opts.precision,
            Precision::Double,
            "the plain executor runs in double precision"
        );
        return compile(ops);
    }
    let run = |gates: &[&Op]| {
        FastRun::compile(
            qubits,
            gates.iter().filter_map(|op| match op {
                Op::Gate { gate, qubits, .. } => Some((*gate, &qubits[..])),
                _ => None,
            }),
            opts.precision,
            &opts.params,
        )
    };
    let mut steps = Vec::new();
    let mut pending: Vec<&Op> = Vec::new();
    let flush = |pending: &mut Vec<&Op>, steps: &mut Vec<Step>| {
        if !pending.is_empty() {
            let r = run(pending);
            if r.fused_ops() > 0 {
                steps.push(Step::Run(Box::new(r), None));
            }
            pending.clear();
        }
    };
    for op in ops {
        match op {
            Op::Gate { cond: None, .. } => pending.push(op),
            Op::Gate { cond: Some(c), .. } => {
                flush(&mut pending, &mut steps);
                let r = run(&[op]);
                if r.fused_ops() > 0 {
                    steps.push(Step::Run(Box::new(r), Some(*c)));
                }
            }
            Op::Measure { .. } | Op::Reset { .. } => {
                flush(&mut pending, &mut steps);
                steps.push(Step::Op(op.clone()));
            }
        }
    }
    flush(&mut pending, &mut steps);
    steps
}

/// Applies a [`Step::Unitary`] or [`Step::Run`] to `psi` if its condition holds on the
/// classical bits `bits`; returns `false` for measurements and resets (not applied).
///
/// # Panics
/// If a plain [`Kernel`] meets a single-precision state, or the state does not fit the step.
#[track_caller]
pub fn apply_unitary_step<A: Amp>(step: &Step, psi: &mut [A], bits: &[u64]) -> bool {
    let mut any = usize::MAX;
    apply_unitary_step_from(step, psi, bits, &mut any)
}

/// [`apply_unitary_step`] to a state that vanishes outside the position mask `*support`
/// (`0` for a fresh `|0…0⟩`): a fused run skips the blocks that hold only zeros
/// ([`FastRun::apply_from`]); `*support` becomes the support after the step (every
/// position after a plain gate, a measurement or a reset).
///
/// # Panics
/// As [`apply_unitary_step`].
#[track_caller]
pub fn apply_unitary_step_from<A: Amp>(
    step: &Step,
    psi: &mut [A],
    bits: &[u64],
    support: &mut usize,
) -> bool {
    if let Step::Run(r, None) = step {
        *support = r.apply_from(psi, *support);
        return true;
    }
    *support = usize::MAX;
    match step {
        Step::Unitary(k, cond) => {
            if cond.is_none_or(|c| c.holds(bits)) {
                assert_eq!(A::PRECISION, Precision::Double, "plain kernels are double");
                // SAFETY: `A` is `Complex<f64>` = `C64` (checked just above).
                let psi = unsafe {
                    std::slice::from_raw_parts_mut(psi.as_mut_ptr() as *mut C64, psi.len())
                };
                k.apply(psi);
            }
            true
        }
        Step::Run(r, cond) => {
            if cond.is_none_or(|c| c.holds(bits)) {
                r.apply(psi);
            }
            true
        }
        Step::Op(_) => false,
    }
}

/// Exchanges the halves `bit q = 0` and `bit q = 1` of `psi` (the X gate, for resets).
pub fn flip_qubit<A: Amp>(psi: &mut [A], q: usize) {
    let half = 1usize << q;
    let f = |blk: &mut [A]| {
        let (lo, hi) = blk.split_at_mut(half);
        lo.swap_with_slice(hi);
    };
    if psi.len() < PAR_MIN {
        psi.chunks_exact_mut(2 * half).for_each(f);
    } else if 2 * half <= CHUNK {
        psi.par_chunks_mut(CHUNK)
            .for_each(|c| c.chunks_exact_mut(2 * half).for_each(f));
    } else {
        psi.par_chunks_mut(2 * half).for_each(|blk| {
            let (lo, hi) = blk.split_at_mut(half);
            lo.par_chunks_mut(CHUNK)
                .zip(hi.par_chunks_mut(CHUNK))
                .for_each(|(a, b)| a.swap_with_slice(b));
        });
    }
}

/// `(Σ_{bit q = 0} |ψ_i|², Σ_{bit q = 1} |ψ_i|²)`: per-chunk partial sums added in index
/// order, so the result does not depend on the thread count.
pub fn branch_weights<A: Amp>(psi: &[A], q: usize) -> (f64, f64) {
    let bit = 1usize << q;
    let part = |(k, c): (usize, &[A])| {
        let base = k * CHUNK;
        c.iter().enumerate().fold((0.0, 0.0), |(w0, w1), (j, z)| {
            if (base + j) & bit == 0 {
                (w0 + z.norm2(), w1)
            } else {
                (w0, w1 + z.norm2())
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
pub fn collapse<A: Amp>(psi: &mut [A], q: usize, one: bool, scale: f64) {
    let bit = 1usize << q;
    let f = |(k, c): (usize, &mut [A])| {
        let base = k * CHUNK;
        for (j, z) in c.iter_mut().enumerate() {
            *z = if ((base + j) & bit != 0) == one {
                z.scaled(scale)
            } else {
                A::default()
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
pub fn measure_qubit<A: Amp>(psi: &mut [A], q: usize, rng: &mut impl Rng) -> bool {
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

/// Runs `circuit` on `psi` in place (measurements and resets draw from `rng`) with the fast
/// executor and returns the classical bits.
///
/// # Panics
/// If `psi.len() != 2^circuit.qubits`, or an op names a qubit or classical bit outside the
/// circuit (impossible for circuits built by [`Circuit`]'s methods or by QASM import).
#[track_caller]
pub fn run(circuit: &Circuit, psi: &mut [C64], rng: &mut impl Rng) -> Vec<bool> {
    run_with(circuit, psi, rng, &RunOptions::default())
}

/// [`run`] with the plain per-gate executor (the oracle).
///
/// # Panics
/// As [`run`].
#[track_caller]
pub fn run_plain(circuit: &Circuit, psi: &mut [C64], rng: &mut impl Rng) -> Vec<bool> {
    run_with(circuit, psi, rng, &RunOptions::plain())
}

/// [`run`] with the executor and precision of `opts` (`psi` of that precision).
///
/// # Panics
/// As [`run`], and if `opts.precision` is not `psi`'s.
#[track_caller]
pub fn run_with<A: Amp>(
    circuit: &Circuit,
    psi: &mut [A],
    rng: &mut impl Rng,
    opts: &RunOptions,
) -> Vec<bool> {
    assert_eq!(
        psi.len(),
        1usize << circuit.qubits,
        "state length vs circuit qubits"
    );
    assert_eq!(A::PRECISION, opts.precision, "state precision vs options");
    let mut bits = vec![0u64; circuit.clbits.div_ceil(64)];
    let ok = |cond: &Option<Condition>, bits: &[u64]| cond.is_none_or(|c| c.holds(bits));
    for step in compile_with(circuit.qubits, &circuit.ops, opts) {
        if apply_unitary_step(&step, psi, &bits) {
            continue;
        }
        match step {
            Step::Op(Op::Measure { q, c, cond }) => {
                if ok(&cond, &bits) {
                    let v = measure_qubit(psi, q, rng);
                    set_bit(&mut bits, c, v);
                }
            }
            Step::Op(Op::Reset { q, cond }) => {
                if ok(&cond, &bits) && measure_qubit(psi, q, rng) {
                    flip_qubit(psi, q);
                }
            }
            Step::Unitary(..) | Step::Run(..) | Step::Op(Op::Gate { .. }) => {}
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
    zero_state_of(qubits)
}

/// `|0…0⟩` on `qubits` qubits in the precision of `A`. Does not check memory.
pub fn zero_state_of<A: Amp>(qubits: usize) -> Vec<A> {
    let mut psi = crate::state::memory::zeroed_populated::<A>(1usize << qubits);
    psi[0] = A::from_c64(C64::new(1.0, 0.0));
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
    simulate_with(circuit, seed, &RunOptions::default())
}

/// [`simulate`] with the executor and precision of `opts`; the state is returned in double
/// precision (a single-precision state widened exactly).
///
/// # Errors
/// As [`simulate`].
pub fn simulate_with(
    circuit: &Circuit,
    seed: u64,
    opts: &RunOptions,
) -> Result<Outcome, CircuitError> {
    check_size(circuit)?;
    MemoryPlan::one_state_in(circuit, opts.precision).check()?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    match opts.precision {
        Precision::Double => {
            let mut state = zero_state(circuit.qubits);
            let clbits = run_with(circuit, &mut state, &mut rng, opts);
            Ok(Outcome { state, clbits })
        }
        Precision::Single => {
            let mut state = zero_state_of::<C32>(circuit.qubits);
            let clbits = run_with(circuit, &mut state, &mut rng, opts);
            Ok(Outcome {
                state: state.iter().map(|z| z.to_c64()).collect(),
                clbits,
            })
        }
    }
}

/// The state before measurement of a circuit whose measurements are final
/// ([`Circuit::measurements_are_final`]): every gate applied, every measurement skipped.
///
/// # Errors
/// As [`simulate`].
pub fn unitary_part_state(circuit: &Circuit) -> Result<Vec<C64>, CircuitError> {
    unitary_part_state_with(circuit, &RunOptions::default())
}

/// [`unitary_part_state`] with the executor and precision of `opts`, returned in double
/// precision.
///
/// # Errors
/// As [`simulate`].
pub fn unitary_part_state_with(
    circuit: &Circuit,
    opts: &RunOptions,
) -> Result<Vec<C64>, CircuitError> {
    check_size(circuit)?;
    MemoryPlan::one_state_in(circuit, opts.precision).check()?;
    let gates: Vec<Op> = circuit
        .ops
        .iter()
        .filter(|op| matches!(op, Op::Gate { cond: None, .. }))
        .cloned()
        .collect();
    let steps = compile_with(circuit.qubits, &gates, opts);
    match opts.precision {
        Precision::Double => {
            let mut psi = zero_state(circuit.qubits);
            let mut support = 0;
            for step in &steps {
                apply_unitary_step_from(step, &mut psi, &[], &mut support);
            }
            Ok(psi)
        }
        Precision::Single => {
            let mut psi = zero_state_of::<C32>(circuit.qubits);
            let mut support = 0;
            for step in &steps {
                apply_unitary_step_from(step, &mut psi, &[], &mut support);
            }
            Ok(psi.iter().map(|z| z.to_c64()).collect())
        }
    }
}
