//! The fast executor (fusion, cache blocking with qubit remapping, vectorised kernels, single
//! precision) against the plain per-gate executor, its oracle: random circuits drawn from the
//! whole gate table (controlled and multi-controlled gates included) and user definitions,
//! on every instruction set this CPU has, with blocks small enough to force remapping, every
//! fusion width, 1 and 2 threads; dynamic circuits' counts; complex64 against complex128.

use std::f64::consts::PI;

use qep::circuit::execute::unitary_part_state_with;
use qep::circuit::gates::{Arity, TABLE};
use qep::circuit::{
    exact_distribution_with, parse_qasm, parse_qasm_file, sample_counts_with, Circuit,
    ExecParams, FastRun, FuseParams, Isa, Op, Precision, RunOptions,
};
use qep::C64;
use rand::seq::SliceRandom;
use rand::Rng;

use crate::common::{json_of, qep, repo};
use crate::oracle::{in_pool, max_abs_diff, rng};

/// `gates` gates drawn uniformly from the whole table (random angles, multi-controlled
/// families on 2–5 qubits), on random distinct qubits of `n`.
fn random_table_circuit(n: usize, gates: usize, seed: u64) -> Circuit {
    let mut r = rng(seed);
    let mut c = Circuit::new(n, n);
    let mut placed = 0;
    while placed < gates {
        let spec = &TABLE[r.random_range(0..TABLE.len())];
        let k = match spec.qubits {
            Arity::Exactly(k) => k,
            Arity::AtLeast(k) => r.random_range(k..=5),
        };
        if k > n {
            continue;
        }
        let params: Vec<f64> = (0..spec.params)
            .map(|_| (r.random::<f64>() - 0.5) * 4.0 * PI)
            .collect();
        let mut qs: Vec<usize> = (0..n).collect();
        qs.shuffle(&mut r);
        c.gate(spec.make(&params, k), &qs[..k]);
        placed += 1;
    }
    c
}

/// The ISAs this CPU can run.
fn isas() -> Vec<Isa> {
    [Isa::Portable, Isa::Avx2, Isa::Avx512]
        .into_iter()
        .filter(|i| i.available())
        .collect()
}

fn fast(isa: Isa, block_bytes: usize, max_qubits: usize, precision: Precision) -> RunOptions {
    RunOptions {
        precision,
        params: ExecParams {
            fuse: FuseParams {
                max_qubits,
                ..FuseParams::default()
            },
            block_bytes,
            isa: Some(isa),
        },
        ..RunOptions::default()
    }
}

fn gates_of(c: &Circuit) -> Vec<(qep::circuit::Gate, Vec<usize>)> {
    c.ops
        .iter()
        .filter_map(|op| match op {
            Op::Gate { gate, qubits, .. } => Some((*gate, qubits.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn fast_executor_equals_the_plain_one_on_random_circuits_of_every_gate() {
    let mut checked = 0;
    for (n, gates) in [(1usize, 30usize), (2, 40), (3, 60), (5, 80), (8, 120), (13, 160)] {
        let c = random_table_circuit(n, gates, 900 + n as u64);
        let want = unitary_part_state_with(&c, &RunOptions::plain()).unwrap();
        // Premise: the circuit does something (not the identity on |0…0⟩).
        assert!((want[0] - C64::new(1.0, 0.0)).norm() > 1e-3, "n = {n}");
        for isa in isas() {
            // 16 KiB blocks (2^10 amplitudes) force passes with remapped high qubits at 13.
            for block in [1usize << 14, 1 << 19] {
                for k in 1..=4 {
                    let opts = fast(isa, block, k, Precision::Double);
                    let one = in_pool(1, || unitary_part_state_with(&c, &opts).unwrap());
                    let two = in_pool(2, || unitary_part_state_with(&c, &opts).unwrap());
                    assert_eq!(one, two, "n {n} {isa:?} block {block} k {k}: thread counts");
                    let d = max_abs_diff(&one, &want);
                    assert!(d < 1e-12, "n {n} {isa:?} block {block} k {k}: diff {d:e}");
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 6 * 2 * 4 * isas().len());
    // Premise of the blocking: at 13 qubits and 2^10-amplitude blocks the run needs several
    // passes, some with remapped qubits, and fusion leaves fewer ops than gates.
    let c = random_table_circuit(13, 160, 913);
    let g = gates_of(&c);
    let run = FastRun::compile(
        13,
        g.iter().map(|(g, q)| (*g, &q[..])),
        Precision::Double,
        &fast(Isa::Portable, 1 << 14, 3, Precision::Double).params,
    );
    assert!(run.passes() > 2, "{} passes", run.passes());
    assert!(run.fused_ops() < 160, "{} fused ops", run.fused_ops());
}
