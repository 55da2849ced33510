//! The fast executor (fusion, cache blocking with qubit remapping, vectorised kernels, single
//! precision) against the plain per-gate executor, its oracle: random circuits drawn from the
//! whole gate table (controlled and multi-controlled gates included) and user definitions,
//! on every instruction set this CPU has, with blocks small enough to force remapping, every
//! fusion width, 1 and 2 threads; dynamic circuits' counts; complex64 against complex128.

use std::f64::consts::PI;

use qep::circuit::execute::unitary_part_state_with;
use qep::circuit::gates::{Arity, TABLE};
use qep::circuit::{
    exact_distribution_with, parse_qasm, parse_qasm_file, sample_counts_with, Circuit, ExecParams,
    FastRun, FuseParams, Isa, KernelMix, Op, Precision, RunOptions,
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
            ..ExecParams::default()
        },
        ..RunOptions::default()
    }
}

/// The kernels `FastRun` plans for the gates `g` on `n` qubits.
fn mix_of(
    n: usize,
    g: &[(qep::circuit::Gate, Vec<usize>)],
    precision: Precision,
    params: &ExecParams,
) -> KernelMix {
    FastRun::compile(n, g.iter().map(|(g, q)| (*g, &q[..])), precision, params).mix()
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
    for (n, gates) in [
        (1usize, 30usize),
        (2, 40),
        (3, 60),
        (5, 80),
        (8, 120),
        (13, 160),
    ] {
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

/// Qiskit's random dynamic circuits (mid-circuit measurement, reset, conditions) and
/// user-defined gates, with 2^4-amplitude blocks so that every pass remaps qubits.
fn dynamic_cases() -> Vec<Circuit> {
    let fx: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo("tests/fixtures/random_circuits.json")).unwrap(),
    )
    .unwrap();
    let mut out: Vec<Circuit> = fx
        .as_array()
        .unwrap()
        .iter()
        .take(8)
        .map(|case| parse_qasm(case["qasm2"].as_str().unwrap()).unwrap())
        .collect();
    for f in ["teleport", "ipe", "adder", "qft"] {
        let path = repo(&format!("tests/fixtures/circuits/{f}.qasm"));
        out.push(parse_qasm_file(std::path::Path::new(&path), &[]).unwrap());
    }
    out
}

#[test]
fn dynamic_circuits_have_the_plain_executors_distribution_and_counts_on_any_thread_count() {
    let cases = dynamic_cases();
    assert_eq!(cases.len(), 12);
    for (i, c) in cases.iter().enumerate() {
        let want = exact_distribution_with(c, &RunOptions::plain()).unwrap();
        let plain_counts = sample_counts_with(c, 4000, 7 + i as u64, &RunOptions::plain()).unwrap();
        for isa in isas() {
            let opts = fast(isa, 1 << 8, 3, Precision::Double);
            let got = exact_distribution_with(c, &opts).unwrap();
            let keys: Vec<&String> = want.keys().chain(got.keys()).collect();
            let d = keys
                .iter()
                .map(|k| (want.get(*k).unwrap_or(&0.0) - got.get(*k).unwrap_or(&0.0)).abs())
                .fold(0.0, f64::max);
            assert!(d < 1e-12, "case {i} {isa:?}: distributions differ by {d:e}");
            let one = in_pool(1, || {
                sample_counts_with(c, 4000, 7 + i as u64, &opts).unwrap()
            });
            let two = in_pool(2, || {
                sample_counts_with(c, 4000, 7 + i as u64, &opts).unwrap()
            });
            assert_eq!(
                one, two,
                "case {i} {isa:?}: counts depend on the thread count"
            );
            assert_eq!(
                one, plain_counts,
                "case {i} {isa:?}: counts differ from the oracle's"
            );
        }
    }
}

#[test]
fn user_definitions_and_wide_controlled_gates_go_through_the_fast_executor() {
    let text = "OPENQASM 2.0;\ninclude \"qelib1.inc\";\n\
        gate mine(a) x, y { h x; cu1(a) x, y; ry(a/2) y; cx y, x; }\n\
        gate outer(a, b) p, q, r { mine(a) p, q; mine(b) q, r; ccx p, q, r; }\n\
        qreg q[12];\n\
        h q[0]; h q[5]; h q[11]; x q[3];\n\
        outer(0.3, -1.1) q[0], q[6], q[11];\n\
        c3x q[11], q[0], q[5], q[9];\n\
        c3sqrtx q[5], q[11], q[1], q[10];\n\
        c4x q[0], q[3], q[5], q[11], q[7];\n\
        mine(2.2) q[10], q[2];\n\
        cswap q[11], q[2], q[8];\n\
        rccx q[7], q[10], q[4];\n\
        rc3x q[4], q[9], q[11], q[6];\n\
        outer(0.9, 0.4) q[4], q[8], q[1];\n";
    let c = parse_qasm(text).unwrap();
    let want = unitary_part_state_with(&c, &RunOptions::plain()).unwrap();
    // Premise: the circuit spreads the state over many basis states.
    let support = want.iter().filter(|z| z.norm() > 1e-6).count();
    assert!(support > 16, "support {support}");
    for isa in isas() {
        for block in [1usize << 8, 1 << 19] {
            let opts = fast(isa, block, 4, Precision::Double);
            let got = in_pool(2, || unitary_part_state_with(&c, &opts).unwrap());
            let d = max_abs_diff(&got, &want);
            assert!(d < 1e-12, "{isa:?} block {block}: diff {d:e}");
        }
    }
}

#[test]
fn single_precision_agrees_with_double_to_1e_5() {
    for (n, gates) in [(6usize, 200usize), (12, 400), (16, 300)] {
        let c = random_table_circuit(n, gates, 77 + n as u64);
        let want = unitary_part_state_with(&c, &RunOptions::plain()).unwrap();
        for isa in isas() {
            for block in [1usize << 10, 1 << 19] {
                let got =
                    unitary_part_state_with(&c, &fast(isa, block, 3, Precision::Single)).unwrap();
                let d = max_abs_diff(&got, &want);
                // Premise: the state really is complex64 (rounding shows), yet within 1e-5.
                assert!(d > 1e-10, "n {n} {isa:?}: diff {d:e} is double's");
                assert!(d < 1e-5, "n {n} {isa:?} block {block}: diff {d:e}");
                let norm: f64 = got.iter().map(|z| z.norm_sqr()).sum();
                assert!((norm - 1.0).abs() < 1e-5, "n {n} {isa:?}: norm {norm}");
            }
        }
    }
    // Counts of a dynamic circuit: the same distribution within 1e-5.
    let c = &dynamic_cases()[0];
    let want = exact_distribution_with(c, &RunOptions::plain()).unwrap();
    let got = exact_distribution_with(c, &RunOptions::fast(Precision::Single)).unwrap();
    for (k, p) in &want {
        let q = got.get(k).copied().unwrap_or(0.0);
        assert!((p - q).abs() < 1e-5, "{k}: {p} vs {q}");
    }
}

#[test]
fn cli_runs_in_single_precision_and_reports_it() {
    let file = repo("tests/fixtures/circuits/qft.qasm");
    let double = json_of(qep().args(["circuit", "run", &file, "--shots", "2000", "--json"]));
    let single = json_of(qep().args([
        "circuit",
        "run",
        &file,
        "--shots",
        "2000",
        "--json",
        "--precision",
        "single",
    ]));
    assert_eq!(double["precision"], "double");
    assert_eq!(single["precision"], "single");
    assert_eq!(double["counts"], single["counts"]);
    let err = crate::common::fails(qep().args(["circuit", "run", &file, "--precision", "half"]));
    assert!(err.contains("half"), "{err}");
}

/// The peers' layered workload: `depth` layers of h/rx/ry/rz on every qubit (random angles)
/// and a brick of cx.
fn layered(n: usize, depth: usize, seed: u64) -> Circuit {
    let mut r = rng(seed);
    let mut c = Circuit::new(n, 0);
    for d in 0..depth {
        for q in 0..n {
            let a = r.random::<f64>() * 2.0 * PI;
            let g = match r.random_range(0..4) {
                0 => qep::circuit::Gate::H,
                1 => qep::circuit::Gate::Rx(a),
                2 => qep::circuit::Gate::Ry(a),
                _ => qep::circuit::Gate::Rz(a),
            };
            c.gate(g, &[q]);
        }
        for q in (d % 2..n - 1).step_by(2) {
            c.gate(qep::circuit::Gate::Cx, &[q, q + 1]);
        }
    }
    c
}

#[test]
fn passes_follow_the_light_cone_of_layered_circuits() {
    // 24 qubits in blocks of 2^15 amplitudes (the default 512 KiB in complex128): taking the
    // positions the first waiting op asks for cost 22 passes over the 256 MiB state (about one
    // per layer); choosing them by lookahead takes several layers per pass.
    let c = layered(24, 20, 1258);
    let g = gates_of(&c);
    let compile = |precision, block_bytes| {
        FastRun::compile(
            24,
            g.iter().map(|(g, q)| (*g, &q[..])),
            precision,
            &ExecParams {
                block_bytes,
                ..ExecParams::default()
            },
        )
    };
    let double = compile(Precision::Double, 1 << 19);
    assert!(double.passes() <= 12, "{} passes", double.passes());
    let single = compile(Precision::Single, 1 << 19);
    assert!(single.passes() <= 12, "{} passes", single.passes());
    // Every fused op lands in some pass: the same ops whatever the blocking.
    assert_eq!(
        double.fused_ops(),
        compile(Precision::Double, 1 << 40).fused_ops()
    );
    assert_eq!(compile(Precision::Double, 1 << 40).passes(), 1);
}

#[test]
fn lookahead_passes_with_wide_fused_ops_equal_the_plain_executor() {
    // Layered circuits with random table gates between the layers, on 14 qubits in blocks of
    // 2^10 amplitudes: 3- and 4-qubit fused ops whose qubits are brought into the block from
    // above it, across many passes.
    let mut c = layered(14, 12, 31);
    let extra = random_table_circuit(14, 120, 32);
    for op in extra.ops {
        c.ops.push(op);
    }
    for op in layered(14, 6, 33).ops {
        c.ops.push(op);
    }
    let want = unitary_part_state_with(&c, &RunOptions::plain()).unwrap();
    let g = gates_of(&c);
    for isa in isas() {
        for k in [2, 3, 4] {
            let opts = fast(isa, 1 << 12, k, Precision::Double);
            let run = FastRun::compile(
                14,
                g.iter().map(|(g, q)| (*g, &q[..])),
                opts.precision,
                &opts.params,
            );
            // Premise: several passes, so high qubits are remapped into the block.
            assert!(run.passes() > 3, "{isa:?} k {k}: {} passes", run.passes());
            let one = in_pool(1, || unitary_part_state_with(&c, &opts).unwrap());
            let two = in_pool(2, || unitary_part_state_with(&c, &opts).unwrap());
            assert_eq!(one, two, "{isa:?} k {k}: thread counts");
            let d = max_abs_diff(&one, &want);
            assert!(d < 1e-12, "{isa:?} k {k}: diff {d:e}");
        }
    }
}

#[test]
fn chunked_sampling_draws_what_a_cumulative_table_draws() {
    use qep::circuit::branch::sample_indices;
    use rand::SeedableRng;
    // A random 16-qubit state with whole zero chunks and scattered zero amplitudes.
    let mut r = rng(5);
    let psi: Vec<C64> = (0..1usize << 16)
        .map(|i| {
            if (i >> 12) % 3 == 1 || i % 7 == 0 {
                C64::new(0.0, 0.0)
            } else {
                C64::new(r.random::<f64>() - 0.5, r.random::<f64>() - 0.5)
            }
        })
        .collect();
    let shots = 20_000;
    // The reference: one cumulative table, a binary search per draw, in draw order.
    let mut cdf = Vec::new();
    let mut acc = 0.0;
    for z in &psi {
        acc += z.norm_sqr();
        cdf.push(acc);
    }
    let mut draws = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let mut want = std::collections::HashMap::new();
    for _ in 0..shots {
        let u = draws.random::<f64>() * acc;
        let i = cdf.partition_point(|&c| c <= u).min(psi.len() - 1);
        *want.entry(i).or_insert(0u64) += 1;
    }
    let got = in_pool(2, || {
        sample_indices(&psi, shots, &mut rand_chacha::ChaCha8Rng::seed_from_u64(11))
    });
    assert!(
        got.keys().all(|&i| psi[i].norm_sqr() > 0.0),
        "a zero amplitude drawn"
    );
    assert_eq!(got.values().sum::<u64>(), shots);
    assert_eq!(got, want);
    let one = in_pool(1, || {
        sample_indices(&psi, shots, &mut rand_chacha::ChaCha8Rng::seed_from_u64(11))
    });
    assert_eq!(one, got, "thread counts");
}

#[test]
fn broadcast_and_table_dense_kernels_equal_the_plain_executor_on_every_isa() {
    // 12 qubits, blocks of 2^10 amplitudes: most passes bring high qubits into the block, so
    // dense ops land on remapped bits, on lane bits (table kernel) and on register bits
    // (broadcast kernel), in both precisions and at every fusion width.
    let c = random_table_circuit(12, 260, 4242);
    let want = unitary_part_state_with(&c, &RunOptions::plain()).unwrap();
    let g = gates_of(&c);
    for isa in isas() {
        for precision in [Precision::Double, Precision::Single] {
            for broadcast in [true, false] {
                for k in 1..=4 {
                    let mut opts = fast(isa, precision.amp_bytes() << 10, k, precision);
                    opts.params.broadcast = broadcast;
                    // Ops on lane bits keep the table kernel (no lane exchange).
                    opts.params.lane_exchange = false;
                    let run = FastRun::compile(
                        12,
                        g.iter().map(|(g, q)| (*g, &q[..])),
                        precision,
                        &opts.params,
                    );
                    let mix = run.mix();
                    let dense: usize = mix.dense.iter().sum();
                    // Premise: both kernels run when broadcast is on, only tables when off.
                    let label = format!("{isa:?} {precision:?} broadcast {broadcast} k {k}");
                    assert!(run.passes() > 3, "{label}: {} passes", run.passes());
                    if broadcast {
                        assert!(mix.dense_broadcast > 0, "{label}: {mix:?}");
                        if isa != Isa::Portable {
                            assert!(mix.dense_broadcast < dense, "{label}: {mix:?}");
                        }
                    } else {
                        assert_eq!(mix.dense_broadcast, 0, "{label}");
                    }
                    let one = in_pool(1, || unitary_part_state_with(&c, &opts).unwrap());
                    let two = in_pool(2, || unitary_part_state_with(&c, &opts).unwrap());
                    assert_eq!(one, two, "{label}: thread counts");
                    let d = max_abs_diff(&one, &want);
                    let tol = if precision == Precision::Double {
                        1e-12
                    } else {
                        1e-5
                    };
                    assert!(d < tol, "{label}: diff {d:e}");
                }
            }
        }
    }
}

/// A Trotter-shaped random circuit: an `h` layer, then `gates` gates from the mix of the
/// adiabatic export (one-qubit rotations, two-qubit Pauli rotations) with controlled
/// rotations, phases and permutations, on qubits spread over the whole register (targets at
/// lane, register and remapped positions alike).
fn trotter_like_circuit(n: usize, gates: usize, seed: u64) -> Circuit {
    use qep::circuit::Gate as G;
    let mut r = rng(seed);
    let mut c = Circuit::new(n, n);
    for q in 0..n {
        c.gate1(G::H, q);
    }
    for _ in 0..gates {
        let a = (r.random::<f64>() - 0.5) * 2.0 * PI;
        let mut qs: Vec<usize> = (0..n).collect();
        qs.shuffle(&mut r);
        let g = match r.random_range(0..14) {
            0 => G::Rx(a),
            1 => G::Ry(a),
            2 => G::Rz(a),
            3 => G::H,
            4 => G::Rzz(a),
            5 => G::Rxx(a),
            6 => G::Ryy(a),
            7 => G::Cx,
            8 => G::Crx(a),
            9 => G::Cry(a),
            10 => G::Cp(a),
            11 => G::U(a, 0.3 * a, -0.7 * a),
            12 => G::Ccx,
            _ => G::Rzx(a),
        };
        let k = g.num_qubits();
        c.gate(g, &qs[..k]);
    }
    c
}

/// The broadcast dense kernel (on by default) against the plain per-gate executor, seeded
/// over Trotter-shaped random circuits: 4–11 qubits, one in-place block (the whole state, as
/// in an 8-qubit adiabatic export) or 2^6-amplitude blocks (every pass gathers remapped
/// qubits), every ISA, fusion widths 2–4, double and single precision, 1 and 2 threads; and
/// the register-wide table kernel it replaces must give the same amplitudes to round-off.
#[test]
fn broadcast_kernel_equals_the_plain_executor_on_trotter_shaped_circuits() {
    assert!(
        ExecParams::default().broadcast,
        "the default takes the broadcast kernel"
    );
    let mut broadcast_ops = 0;
    let mut mixed = 0;
    for seed in 0..16u64 {
        let n = 4 + (seed as usize % 8);
        let c = trotter_like_circuit(n, 12 * n, 7000 + seed);
        let want = unitary_part_state_with(&c, &RunOptions::plain()).unwrap();
        assert!((want[0] - C64::new(1.0, 0.0)).norm() > 1e-3, "seed {seed}");
        let g = gates_of(&c);
        for isa in isas() {
            for precision in [Precision::Double, Precision::Single] {
                for (block_amps, k) in [
                    (1usize << 19, 2usize),
                    (1 << 6, 2),
                    (1 << 6, 4),
                    (1 << 19, 3),
                ] {
                    let mut opts = fast(isa, precision.amp_bytes() * block_amps, k, precision);
                    opts.params.broadcast = true;
                    let label =
                        format!("seed {seed} n {n} {isa:?} {precision:?} block {block_amps} k {k}");
                    let run = FastRun::compile(
                        n,
                        g.iter().map(|(g, q)| (*g, &q[..])),
                        precision,
                        &opts.params,
                    );
                    let mix = run.mix();
                    broadcast_ops += mix.dense_broadcast;
                    if mix.dense_broadcast > 0 && mix.dense_broadcast < mix.dense.iter().sum() {
                        mixed += 1;
                    }
                    let one = in_pool(1, || unitary_part_state_with(&c, &opts).unwrap());
                    let two = in_pool(2, || unitary_part_state_with(&c, &opts).unwrap());
                    assert_eq!(one, two, "{label}: thread counts");
                    let tol = if precision == Precision::Double {
                        1e-12
                    } else {
                        1e-5
                    };
                    let d = max_abs_diff(&one, &want);
                    assert!(d < tol, "{label}: diff {d:e}");
                    opts.params.broadcast = false;
                    let tables = unitary_part_state_with(&c, &opts).unwrap();
                    let d = max_abs_diff(&one, &tables);
                    let tol = if precision == Precision::Double {
                        1e-13
                    } else {
                        1e-5
                    };
                    assert!(d < tol, "{label}: broadcast vs tables {d:e}");
                }
            }
        }
    }
    // Premise: the broadcast kernel ran, and passes mixed it with lane-target table ops.
    assert!(broadcast_ops > 100, "{broadcast_ops} broadcast ops");
    if isas().len() > 1 {
        assert!(mixed > 10, "{mixed} runs mixing broadcast and table ops");
    }
}

/// The adiabatic Trotter export (8 qubits: one block, `h`/`rx`/`rzz` fused into complex
/// two-qubit ops on register bits) gives the plain executor's amplitudes to round-off with
/// the broadcast kernel, in double and single precision.
#[test]
fn exported_trotter_circuit_runs_as_the_plain_executor_with_broadcast() {
    use qep::adiabatic::{transverse_field, trotter_circuit, Profile, Sweep};
    use qep::pauli::{PauliString, PauliSum};
    let n = 8;
    let mut target = PauliSum::new(n);
    for (a, b) in [
        (0, 1),
        (1, 2),
        (2, 3),
        (0, 4),
        (1, 5),
        (4, 5),
        (2, 6),
        (5, 6),
        (3, 7),
        (6, 7),
    ] {
        target.add(
            PauliString::parse(&format!("Z{a} Z{b}")).unwrap(),
            C64::new(-1.0, 0.0),
        );
    }
    let sweep = Sweep::new(transverse_field(n), target, 5.0, Profile::Linear).unwrap();
    let mut c = Circuit::new(n, 0);
    for q in 0..n {
        c.gate1(qep::circuit::Gate::H, q);
    }
    c.ops.extend(trotter_circuit(&sweep, 20, 2).unwrap().ops);
    let want = unitary_part_state_with(&c, &RunOptions::plain()).unwrap();
    for isa in isas() {
        for precision in [Precision::Double, Precision::Single] {
            let mut opts = fast(isa, 1 << 19, 2, precision);
            opts.params.broadcast = true;
            let got = unitary_part_state_with(&c, &opts).unwrap();
            let d = max_abs_diff(&got, &want);
            let tol = if precision == Precision::Double {
                1e-14
            } else {
                1e-5
            };
            assert!(d < tol, "{isa:?} {precision:?}: diff {d:e}");
            if isa != Isa::Portable {
                assert!(mix_of(n, &gates_of(&c), precision, &opts.params).dense_broadcast > 0);
            }
        }
    }
}

/// The peer benchmark's layer shape on `n` qubits: one of `h`, `rx`, `ry`, `rz`, `u3` on every
/// qubit, then a brick of `cx` (even pairs on even layers, odd pairs on odd ones).
fn layered_circuit(n: usize, layers: usize, seed: u64) -> Circuit {
    use qep::circuit::Gate as G;
    let mut r = rng(seed);
    let mut c = Circuit::new(n, n);
    for l in 0..layers {
        for q in 0..n {
            let kind = r.random_range(0..5);
            let a: [f64; 3] = std::array::from_fn(|_| (r.random::<f64>() - 0.5) * 2.0 * PI);
            let g = match kind {
                0 => G::H,
                1 => G::Rx(a[0]),
                2 => G::Ry(a[0]),
                3 => G::Rz(a[0]),
                _ => G::U(a[0], a[1], a[2]),
            };
            c.gate1(g, q);
        }
        for q in (l % 2..n - 1).step_by(2) {
            c.gate(G::Cx, &[q, q + 1]);
        }
    }
    c
}

#[test]
fn register_blocked_two_qubit_kernel_equals_the_plain_executor_on_every_isa() {
    // Layers of one-qubit gates and a cx brick fuse into two-qubit ops, many of them full
    // (h and ry pairs: real; u3 pairs: complex), which the register-blocked kernel runs; 2^10-
    // amplitude blocks at 12 qubits put their targets on remapped bits too.
    let c = layered_circuit(12, 8, 77);
    let want = unitary_part_state_with(&c, &RunOptions::plain()).unwrap();
    let g = gates_of(&c);
    for isa in isas() {
        for precision in [Precision::Double, Precision::Single] {
            for block in [precision.amp_bytes() << 10, 1 << 19] {
                let opts = fast(isa, block, 2, precision);
                let run = FastRun::compile(
                    12,
                    g.iter().map(|(g, q)| (*g, &q[..])),
                    precision,
                    &opts.params,
                );
                let mix = run.mix();
                let label = format!("{isa:?} {precision:?} block {block}");
                // Premise: the kernel runs, beside the sparse one.
                assert!(mix.dense_full2 >= 5, "{label}: {mix:?}");
                assert!(mix.dense_full2 < mix.dense[2], "{label}: {mix:?}");
                let one = in_pool(1, || unitary_part_state_with(&c, &opts).unwrap());
                let two = in_pool(2, || unitary_part_state_with(&c, &opts).unwrap());
                assert_eq!(one, two, "{label}: thread counts");
                let d = max_abs_diff(&one, &want);
                let tol = if precision == Precision::Double {
                    1e-12
                } else {
                    1e-5
                };
                assert!(d < tol, "{label}: diff {d:e}");
            }
        }
    }
}

#[test]
fn sparse_two_qubit_patterns_run_register_blocked_with_the_general_kernels_bits() {
    // The peers' layer shape (h/rx/ry/rz and a cx brick) and the one with u3: fused two-qubit
    // ops whose entries are real or imaginary (rx), half zero (rz) or both; the register-
    // blocked kernel must take many of them and give the general broadcast kernel's bits
    // (same terms, same order), and the plain executor's state. 2^10-amplitude blocks at 12
    // qubits put targets on remapped bits too.
    let cases = [layered(12, 10, 5), layered_circuit(12, 8, 91)];
    for (i, c) in cases.iter().enumerate() {
        let want = unitary_part_state_with(c, &RunOptions::plain()).unwrap();
        let g = gates_of(c);
        for isa in isas() {
            for precision in [Precision::Double, Precision::Single] {
                for block in [precision.amp_bytes() << 10, 1 << 19] {
                    let opts = fast(isa, block, 2, precision);
                    let mut general = opts;
                    general.params.register_blocked = false;
                    let compile = |o: &RunOptions| mix_of(12, &g, precision, &o.params);
                    let (mix, mix_general) = (compile(&opts), compile(&general));
                    let label = format!("case {i} {isa:?} {precision:?} block {block}");
                    // Premise: most two-qubit ops are register-blocked, many of them sparse;
                    // switched off, none is.
                    assert!(mix.dense_sparse2 >= 10, "{label}: {mix:?}");
                    assert!(
                        2 * (mix.dense_sparse2 + mix.dense_full2) > mix.dense[2],
                        "{label}: {mix:?}"
                    );
                    assert_eq!(mix_general.dense_sparse2 + mix_general.dense_full2, 0);
                    assert_eq!(mix.flops_per_amp, mix_general.flops_per_amp, "{label}");
                    let got = in_pool(2, || unitary_part_state_with(c, &opts).unwrap());
                    let gen = in_pool(2, || unitary_part_state_with(c, &general).unwrap());
                    assert!(got == gen, "{label}: bits differ from the general kernel");
                    let d = max_abs_diff(&got, &want);
                    let tol = if precision == Precision::Double {
                        1e-12
                    } else {
                        1e-5
                    };
                    assert!(d < tol, "{label}: diff {d:e}");
                }
            }
        }
    }
}

#[test]
fn lane_exchanges_run_ops_on_the_lowest_qubits_with_broadcast_kernels() {
    // Fused two-qubit ops on the lowest qubits have targets inside the registers. With lane
    // exchanges every dense op runs a broadcast kernel (most register-blocked) and the state
    // is the plain executor's; without, those ops take the XOR-form kernel. 2^10-amplitude
    // blocks at 12 qubits put the exchanges into passes with remapped high qubits too, and
    // the random gates between layers bring diagonals, permutations and controlled gates
    // whose bits the exchanges relabel.
    let mut mixed = layered(12, 8, 17);
    let extra = random_table_circuit(12, 60, 4242);
    mixed.ops.extend(extra.ops);
    mixed.ops.extend(layered(12, 4, 18).ops);
    let cases = [layered(12, 10, 7), layered_circuit(12, 8, 93), mixed];
    for (i, c) in cases.iter().enumerate() {
        let want = unitary_part_state_with(c, &RunOptions::plain()).unwrap();
        let g = gates_of(c);
        for isa in isas().into_iter().filter(|&i| i != Isa::Portable) {
            for precision in [Precision::Double, Precision::Single] {
                for block in [precision.amp_bytes() << 10, 1 << 19] {
                    let opts = fast(isa, block, 2, precision);
                    let mut xor = opts;
                    xor.params.lane_exchange = false;
                    let compile = |o: &RunOptions| mix_of(12, &g, precision, &o.params);
                    let (mix, mix_xor) = (compile(&opts), compile(&xor));
                    let label = format!("case {i} {isa:?} {precision:?} block {block}");
                    let dense: usize = mix.dense.iter().sum();
                    // Premise: without exchanges some ops take the XOR form; with them none
                    // does, and the pattern kernel takes more ops.
                    assert!(
                        mix_xor.dense_broadcast < dense,
                        "{label}: {mix_xor:?} {mix:?}"
                    );
                    assert_eq!(mix_xor.exchange, 0, "{label}");
                    assert!(mix.exchange >= 2, "{label}: {mix:?}");
                    if i < 2 {
                        assert_eq!(mix.dense_broadcast, dense, "{label}: {mix:?}");
                        assert!(
                            mix.dense_full2 + mix.dense_sparse2
                                > mix_xor.dense_full2 + mix_xor.dense_sparse2,
                            "{label}: {mix:?} {mix_xor:?}"
                        );
                    }
                    let one = in_pool(1, || unitary_part_state_with(c, &opts).unwrap());
                    let two = in_pool(2, || unitary_part_state_with(c, &opts).unwrap());
                    assert_eq!(one, two, "{label}: thread counts");
                    let tol = if precision == Precision::Double {
                        1e-12
                    } else {
                        1e-5
                    };
                    let d = max_abs_diff(&one, &want);
                    assert!(d < tol, "{label}: diff {d:e}");
                    let old = in_pool(2, || unitary_part_state_with(c, &xor).unwrap());
                    let d = max_abs_diff(&old, &want);
                    assert!(d < tol, "{label}: XOR form diff {d:e}");
                }
            }
        }
    }
}

#[test]
fn a_run_from_a_known_support_leaves_the_zero_blocks_untouched() {
    // h on qubits 0..9 of 12, blocks of 2^10 amplitudes: one pass over positions 0..9. From
    // support 0 (|0…0⟩) only the block at position 0 is computed; a NaN planted in another
    // block (which the caller promised to be zero) proves that block was neither read nor
    // written, where a full run spreads it over its block.
    let n = 12;
    let qs: Vec<[usize; 1]> = (0..10).map(|q| [q]).collect();
    for isa in isas() {
        for precision in [Precision::Double, Precision::Single] {
            let params = ExecParams {
                block_bytes: precision.amp_bytes() << 10,
                isa: Some(isa),
                ..ExecParams::default()
            };
            let run = FastRun::compile(
                n,
                qs.iter().map(|q| (qep::circuit::Gate::H, &q[..])),
                precision,
                &params,
            );
            assert_eq!(run.passes(), 1, "{isa:?} {precision:?}");
            let planted = 1usize << 11;
            let mut psi = vec![C64::new(0.0, 0.0); 1 << n];
            psi[0] = C64::new(1.0, 0.0);
            psi[planted] = C64::new(f64::NAN, 0.0);
            let (got, support) = match precision {
                Precision::Double => {
                    let mut p = psi.clone();
                    let s = run.apply_from(&mut p, 0);
                    (p, s)
                }
                Precision::Single => {
                    let mut p: Vec<qep::circuit::C32> = psi
                        .iter()
                        .map(|z| qep::circuit::C32::new(z.re as f32, z.im as f32))
                        .collect();
                    let s = run.apply_from(&mut p, 0);
                    (
                        p.iter()
                            .map(|z| C64::new(z.re as f64, z.im as f64))
                            .collect(),
                        s,
                    )
                }
            };
            let label = format!("{isa:?} {precision:?}");
            assert_eq!(support, (1 << 10) - 1, "{label}");
            let amp = 1.0 / 32.0; // 2^{-10/2}
            for (i, z) in got.iter().enumerate() {
                if i == planted {
                    assert!(z.re.is_nan(), "{label}: the planted NaN was overwritten");
                } else if i < 1 << 10 {
                    assert!((z.re - amp).abs() < 1e-6 && z.im == 0.0, "{label} {i}: {z}");
                } else {
                    assert_eq!(*z, C64::new(0.0, 0.0), "{label} {i}: skipped block touched");
                }
            }
            // The full run reads the planted block and spreads the NaN through it.
            let mut full = psi.clone();
            if precision == Precision::Double {
                run.apply(&mut full);
                assert!(full[planted + 1].re.is_nan(), "{label}");
            }
        }
    }
}

/// A run large enough for its start state's pages to be populated in parallel chunks (16 MiB
/// in double, 8 MiB in single) equals the plain executor (the zero state itself:
/// `circuit::zero_states_are_exact_on_fresh_pages_in_both_precisions`).
#[test]
fn a_run_from_a_populated_state_equals_the_plain_executor() {
    // A 20-qubit run from the populated state, fast (both precisions) against the plain
    // executor.
    let c = random_table_circuit(20, 40, 2207);
    let want = unitary_part_state_with(&c, &RunOptions::plain()).unwrap();
    let got = in_pool(2, || {
        unitary_part_state_with(&c, &RunOptions::default()).unwrap()
    });
    assert!(max_abs_diff(&got, &want) < 1e-12);
    let single = RunOptions {
        precision: Precision::Single,
        ..RunOptions::default()
    };
    let got = in_pool(2, || unitary_part_state_with(&c, &single).unwrap());
    assert!(max_abs_diff(&got, &want) < 1e-5);
}
