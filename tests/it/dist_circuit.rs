//! Circuits on a state vector split over ranks (simulated by threads): every rank's block
//! equals the rows of the one-process state, and the counts of a seed are the one-process
//! counts exactly, whatever the number of ranks.

use std::f64::consts::PI;

use qep::circuit::execute::unitary_part_state_with;
use qep::circuit::gates::{Arity, TABLE};
use qep::circuit::{parse_qasm, sample_counts_with, Circuit, Gate, Precision, RunOptions};
use qep::dist::{self, DistError, ThreadComm};
use qep::C64;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `gates` gates drawn from the whole gate table (random angles, multi-controlled families on
/// 2–4 qubits) on random distinct qubits, followed by controlled gates whose control and
/// target lie on either side of the boundary between local and global qubits of 2 and 4
/// ranks (the top two qubits are global on 4 ranks, the top one on 2).
fn random_circuit(n: usize, gates: usize, seed: u64) -> Circuit {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let mut c = Circuit::new(n, n);
    for q in 0..n {
        c.gate1(Gate::H, q);
    }
    let mut placed = 0;
    while placed < gates {
        let spec = &TABLE[r.random_range(0..TABLE.len())];
        let k = match spec.qubits {
            Arity::Exactly(k) => k,
            Arity::AtLeast(k) => r.random_range(k..=4),
        };
        let params: Vec<f64> = (0..spec.params)
            .map(|_| (r.random::<f64>() - 0.5) * 4.0 * PI)
            .collect();
        let mut qs: Vec<usize> = (0..n).collect();
        qs.shuffle(&mut r);
        c.gate(spec.make(&params, k), &qs[..k]);
        placed += 1;
    }
    let (top, next) = (n - 1, n - 2);
    c.gate2(Gate::Cx, top, 0)
        .gate2(Gate::Cx, 1, top)
        .gate2(Gate::Crx(0.7), next, 2)
        .gate2(Gate::Cp(1.1), 3, next)
        .gate(Gate::Ccx, &[top, next, 4])
        .gate(Gate::Ccx, &[4, 5, top])
        .gate(Gate::Cswap, &[top, 2, next])
        .gate2(Gate::Swap, top, 0)
        .gate1(Gate::Ry(0.3), 0);
    c
}

fn max_diff(a: &[C64], b: &[C64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).norm())
        .fold(0.0, f64::max)
}

#[test]
fn distributed_circuit_state_equals_one_process_on_1_2_4_ranks() {
    let n = 12;
    let c = random_circuit(n, 150, 7);
    for opts in [RunOptions::plain(), RunOptions::fast(Precision::Double)] {
        let one = unitary_part_state_with(&c, &opts).expect("one-process state");
        for ranks in [1, 2, 4] {
            let blocks = ThreadComm::run(ranks, |comm| dist::circuit_state(&c, comm, &opts));
            let mut exchanges = Vec::new();
            for (r, b) in blocks.into_iter().enumerate() {
                let b = b.expect("distributed state");
                let rows = b.layout.offset()..b.layout.offset() + b.layout.local_dim();
                assert_eq!(rows.start, r << (n - ranks.trailing_zeros() as usize));
                let d = max_diff(&b.block, &one[rows]);
                assert!(d <= 1e-12, "{ranks} ranks, rank {r}, {opts:?}: {d:e}");
                exchanges.push(b.stats.exchanges);
            }
            // One rank never exchanges; several do (global qubits are touched), all alike.
            assert!(exchanges.iter().all(|&e| e == exchanges[0]));
            assert_eq!(exchanges[0] == 0, ranks == 1, "{exchanges:?}");
        }
    }
}

#[test]
fn single_precision_blocks_equal_the_one_process_single_precision_state() {
    let c = random_circuit(11, 80, 3);
    let opts = RunOptions::fast(Precision::Single);
    let one = unitary_part_state_with(&c, &opts).expect("one-process state");
    let blocks = ThreadComm::run(4, |comm| dist::circuit_state(&c, comm, &opts));
    for b in blocks {
        let b = b.expect("distributed state");
        let rows = b.layout.offset()..b.layout.offset() + b.layout.local_dim();
        // Complex64 rounding of differently fused runs: a few ulps of f32 per gate.
        let d = max_diff(&b.block, &one[rows]);
        assert!(d <= 1e-5, "{d:e}");
    }
}

/// `measure` statements for qubits `qs` into clbits `cs`.
fn with_measurements(mut c: Circuit, pairs: &[(usize, usize)]) -> Circuit {
    for &(q, cb) in pairs {
        c.measure(q, cb);
    }
    c
}

#[test]
fn distributed_counts_are_the_one_process_counts_for_every_seed() {
    // 14 qubits: blocks of 2^13 and 2^12 amplitudes on 2 and 4 ranks (the sampler's chunks
    // lie inside blocks: the prefix sum over ranks); 12 qubits on 4 ranks: blocks of 2^10,
    // smaller than a chunk (the gathered path). Measured qubits in a scrambled clbit order,
    // and no measurement at all.
    let cases: Vec<(Circuit, &str)> = vec![
        (
            with_measurements(
                random_circuit(14, 120, 11),
                &(0..14).map(|q| (q, (q * 5) % 14)).collect::<Vec<_>>(),
            ),
            "14 qubits, all measured",
        ),
        (
            with_measurements(
                random_circuit(14, 60, 12),
                &[(13, 0), (2, 1), (12, 2), (5, 3)],
            ),
            "14 qubits, some measured",
        ),
        (random_circuit(14, 40, 13), "14 qubits, no measurement"),
        (
            with_measurements(random_circuit(12, 100, 14), &[(11, 3), (0, 4), (6, 5)]),
            "12 qubits",
        ),
    ];
    for (c, what) in &cases {
        for seed in [1, 2, 99] {
            let shots = 5_000;
            let opts = RunOptions::fast(Precision::Double);
            let one = sample_counts_with(c, shots, seed, &opts).expect("one-process counts");
            assert_eq!(one.values().sum::<u64>(), shots);
            assert!(one.len() > 3, "{what}: a spread distribution");
            for ranks in [1, 2, 4] {
                let all = ThreadComm::run(ranks, |comm| {
                    dist::sample_counts(c, shots, seed, comm, &opts)
                });
                for (r, got) in all.into_iter().enumerate() {
                    let (got, _) = got.expect("distributed counts");
                    assert_eq!(got, one, "{what}, seed {seed}, {ranks} ranks, rank {r}");
                }
            }
        }
    }
}

#[test]
fn zero_probability_chunks_and_ranks_are_never_drawn() {
    // GHZ on 15 qubits: only |0…0⟩ and |1…1⟩, on the first and last rank; every chunk in
    // between has zero mass.
    let mut src =
        String::from("OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[15];\ncreg c[15];\nh q[0];\n");
    for q in 1..15 {
        src.push_str(&format!("cx q[{}],q[{q}];\n", q - 1));
    }
    src.push_str("measure q -> c;\n");
    let c = parse_qasm(&src).expect("GHZ circuit");
    let opts = RunOptions::default();
    let one = sample_counts_with(&c, 3_000, 5, &opts).expect("one-process counts");
    assert_eq!(one.len(), 2);
    for ranks in [2, 4, 8] {
        for got in ThreadComm::run(ranks, |comm| dist::sample_counts(&c, 3_000, 5, comm, &opts)) {
            let (got, stats) = got.expect("distributed counts");
            assert_eq!(got, one, "{ranks} ranks");
            assert!(stats.exchanges > 0);
        }
    }
}

#[test]
fn mid_circuit_measurement_and_wide_gates_are_refused_with_the_reason() {
    let c = parse_qasm(
        "OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[6];\ncreg c[6];\n\
         h q[0];\nmeasure q[0] -> c[0];\ncx q[0],q[5];\nmeasure q -> c;\n",
    )
    .expect("circuit");
    for r in ThreadComm::run(2, |comm| {
        dist::sample_counts(&c, 10, 1, comm, &RunOptions::default())
    }) {
        let e = r.expect_err("mid-circuit measurement on 2 ranks");
        assert!(matches!(e, DistError::CircuitUnsupported { .. }), "{e}");
        assert!(
            e.to_string()
                .contains("not supported on more than one rank"),
            "{e}"
        );
    }
    // A 5-qubit gate (c4x) needs 5 local qubits; 6 qubits on 4 ranks leave 4.
    let c = parse_qasm(
        "OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[6];\nc4x q[5],q[4],q[3],q[2],q[1];\n",
    )
    .expect("circuit");
    for r in ThreadComm::run(4, |comm| {
        dist::circuit_state(&c, comm, &RunOptions::default())
    }) {
        let e = r.expect_err("c4x with 4 local qubits");
        assert_eq!(
            e.to_string(),
            "gate `c4x` acts on 5 qubits but each rank holds only 4 local qubits; use fewer ranks"
        );
    }
    // On 2 ranks it fits, and equals one process.
    let one = unitary_part_state_with(&c, &RunOptions::default()).expect("state");
    for b in ThreadComm::run(2, |comm| {
        dist::circuit_state(&c, comm, &RunOptions::default())
    }) {
        let b = b.expect("c4x with 5 local qubits");
        let rows = b.layout.offset()..b.layout.offset() + b.layout.local_dim();
        assert!(max_diff(&b.block, &one[rows]) <= 1e-12);
    }
}

#[test]
fn gathered_state_is_the_whole_vector_on_every_rank() {
    let c = random_circuit(8, 40, 21);
    let one = unitary_part_state_with(&c, &RunOptions::plain()).expect("state");
    for whole in ThreadComm::run(4, |comm| {
        let b = dist::circuit_state(&c, comm, &RunOptions::plain()).expect("state");
        dist::gather_state(comm, &b.block)
    }) {
        assert_eq!(whole.len(), 256);
        assert!(max_diff(&whole, &one) <= 1e-12);
    }
}
