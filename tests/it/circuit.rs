//! Tests for `circuit`: every gate against an explicit matrix written here (Kronecker products,
//! qubit i = bit i), random circuits against products of dense unitaries, the parallel kernels
//! against a naive per-index loop, QASM import/export round trips and located errors, shot
//! counts (exact and within 5σ), and `qep circuit run` end to end.

use std::f64::consts::{FRAC_1_SQRT_2, PI};

use qep::circuit::branch::bitstring;
use qep::circuit::execute::{measure_qubit, unitary_part_state};
use qep::circuit::kernels::{apply_matrix2, apply_matrix4};
use qep::circuit::{apply_gate, parse_qasm, sample_counts, simulate, to_qasm, Circuit, Gate, Op};
use qep::C64;
use rand::Rng;
use serde_json::Value;

use crate::common::{qep, succeeds};
use crate::oracle::{c, in_pool, kron, matmul, matvec, max_abs_diff, random_cvec, rng};

const O: C64 = C64::new(0.0, 0.0);
const ONE: C64 = C64::new(1.0, 0.0);
const I2: [C64; 4] = [ONE, O, O, ONE];
const X: [C64; 4] = [O, ONE, ONE, O];
const Y: [C64; 4] = [O, C64::new(0.0, -1.0), C64::new(0.0, 1.0), O];
const Z: [C64; 4] = [ONE, O, O, C64::new(-1.0, 0.0)];
/// `|0⟩⟨0|` and `|1⟩⟨1|`.
const P0: [C64; 4] = [ONE, O, O, O];
const P1: [C64; 4] = [O, O, O, ONE];

fn cis(phi: f64) -> C64 {
    C64::from_polar(1.0, phi)
}

fn lin(a: C64, m: &[C64], b: C64, n: &[C64]) -> Vec<C64> {
    m.iter().zip(n).map(|(x, y)| a * x + b * y).collect()
}

/// The explicit 2×2 matrices (row-major), written from their textbook definitions.
fn explicit1(g: Gate) -> Vec<C64> {
    let h = FRAC_1_SQRT_2;
    match g {
        Gate::H => vec![c(h, 0.), c(h, 0.), c(h, 0.), c(-h, 0.)],
        Gate::X => X.to_vec(),
        Gate::Y => Y.to_vec(),
        Gate::Z => Z.to_vec(),
        Gate::S => vec![ONE, O, O, c(0., 1.)],
        Gate::Sdg => vec![ONE, O, O, c(0., -1.)],
        Gate::T => vec![ONE, O, O, cis(PI / 4.)],
        Gate::Tdg => vec![ONE, O, O, cis(-PI / 4.)],
        // exp(−iθP/2) = cos(θ/2) I − i sin(θ/2) P
        Gate::Rx(t) => lin(c((t / 2.).cos(), 0.), &I2, c(0., -(t / 2.).sin()), &X),
        Gate::Ry(t) => lin(c((t / 2.).cos(), 0.), &I2, c(0., -(t / 2.).sin()), &Y),
        Gate::Rz(t) => lin(c((t / 2.).cos(), 0.), &I2, c(0., -(t / 2.).sin()), &Z),
        Gate::U(t, p, l) => vec![
            c((t / 2.).cos(), 0.),
            -cis(l) * (t / 2.).sin(),
            cis(p) * (t / 2.).sin(),
            cis(p + l) * (t / 2.).cos(),
        ],
        _ => unreachable!(),
    }
}

/// The full `2^n` matrix of a sum of products: each product gives one 2×2 factor per listed
/// qubit (identity elsewhere), Kronecker-multiplied as `q_{n−1} ⊗ … ⊗ q_0`.
/// A coefficient times 2×2 factors on the listed qubits.
type Product = (C64, Vec<(usize, [C64; 4])>);

fn full(n: usize, terms: &[Product]) -> Vec<C64> {
    let d = 1usize << n;
    let mut m = vec![O; d * d];
    for (coef, factors) in terms {
        let mut k = vec![ONE];
        let mut dk = 1;
        for q in (0..n).rev() {
            let f = factors
                .iter()
                .find(|(p, _)| *p == q)
                .map(|(_, f)| *f)
                .unwrap_or(I2);
            k = kron(&k, dk, &f, 2);
            dk *= 2;
        }
        for (a, b) in m.iter_mut().zip(k) {
            *a += coef * b;
        }
    }
    m
}

/// The full matrix of `gate` on `qubits` of `n`, built here from Pauli/projector products.
fn explicit_full(n: usize, g: Gate, qs: &[usize]) -> Vec<C64> {
    let one = c(1., 0.);
    match (g, qs) {
        (_, &[q]) => {
            let m = explicit1(g);
            full(n, &[(one, vec![(q, [m[0], m[1], m[2], m[3]])])])
        }
        (Gate::Cx, &[a, b]) => full(n, &[(one, vec![(a, P0)]), (one, vec![(a, P1), (b, X)])]),
        (Gate::Cz, &[a, b]) => full(n, &[(one, vec![(a, P0)]), (one, vec![(a, P1), (b, Z)])]),
        // SWAP = (I + XX + YY + ZZ)/2
        (Gate::Swap, &[a, b]) => {
            let h = c(0.5, 0.);
            full(
                n,
                &[
                    (h, vec![]),
                    (h, vec![(a, X), (b, X)]),
                    (h, vec![(a, Y), (b, Y)]),
                    (h, vec![(a, Z), (b, Z)]),
                ],
            )
        }
        (Gate::Rxx(t) | Gate::Ryy(t) | Gate::Rzz(t), &[a, b]) => {
            let p = match g {
                Gate::Rxx(_) => X,
                Gate::Ryy(_) => Y,
                _ => Z,
            };
            full(
                n,
                &[
                    (c((t / 2.).cos(), 0.), vec![]),
                    (c(0., -(t / 2.).sin()), vec![(a, p), (b, p)]),
                ],
            )
        }
        _ => unreachable!(),
    }
}

fn all_gates(r: &mut impl Rng) -> Vec<Gate> {
    let mut a = || (r.random::<f64>() - 0.5) * 4.0 * PI;
    vec![
        Gate::H,
        Gate::X,
        Gate::Y,
        Gate::Z,
        Gate::S,
        Gate::Sdg,
        Gate::T,
        Gate::Tdg,
        Gate::Rx(a()),
        Gate::Ry(a()),
        Gate::Rz(a()),
        Gate::U(a(), a(), a()),
        Gate::Cx,
        Gate::Cz,
        Gate::Swap,
        Gate::Rxx(a()),
        Gate::Ryy(a()),
        Gate::Rzz(a()),
    ]
}

#[test]
fn every_gate_matches_its_explicit_matrix_on_every_position() {
    let mut r = rng(11);
    let mut checked = 0;
    for n in [3usize, 4] {
        for (k, g) in all_gates(&mut r).into_iter().enumerate() {
            let positions: Vec<Vec<usize>> = if g.arity() == 1 {
                (0..n).map(|q| vec![q]).collect()
            } else {
                (0..n)
                    .flat_map(|a| (0..n).filter(move |&b| b != a).map(move |b| vec![a, b]))
                    .collect()
            };
            for qs in positions {
                let psi = random_cvec(1 << n, 100 * n as u64 + k as u64);
                let want = matvec(&explicit_full(n, g, &qs), &psi);
                let mut got = psi.clone();
                apply_gate(&mut got, g, &qs);
                let d = max_abs_diff(&got, &want);
                assert!(d < 1e-13, "{g:?} on {qs:?} of {n}: diff {d:e}");
                checked += 1;
            }
        }
    }
    // 12 one-qubit gates × (3 + 4) positions + 6 two-qubit gates × (6 + 12) ordered pairs.
    assert_eq!(checked, 12 * 7 + 6 * 18);
}

#[test]
fn qelib1_u1_u2_and_named_gates_agree_with_u3() {
    // u1(λ) = diag(1, e^{iλ}) exactly; u2(φ,λ) = (1/√2)[[1, −e^{iλ}], [e^{iφ}, e^{i(φ+λ)}]];
    // S = u1(π/2), T = u1(π/4), X = u3(π, 0, π), H = u2(0, π): no global phase anywhere.
    let src = "OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[1];\n\
               u1(0.7) q[0];\nu2(0.3, -1.1) q[0];\n";
    let circ = parse_qasm(src).unwrap();
    let m = |op: &Op| match op {
        Op::Gate { gate, .. } => gate.matrix2(),
        _ => unreachable!(),
    };
    let u1 = m(&circ.ops[0]);
    assert_eq!(circ.ops[0], op1(Gate::P(0.7), 0));
    assert!((u1[0][0] - ONE).norm() < 1e-15 && (u1[1][1] - cis(0.7)).norm() < 1e-15);
    assert!(u1[0][1].norm() < 1e-15 && u1[1][0].norm() < 1e-15);
    let u2 = m(&circ.ops[1]);
    let h = FRAC_1_SQRT_2;
    let want = [
        [c(h, 0.), -cis(-1.1) * h],
        [cis(0.3) * h, cis(0.3 - 1.1) * h],
    ];
    for i in 0..2 {
        for j in 0..2 {
            assert!((u2[i][j] - want[i][j]).norm() < 1e-15, "u2[{i}][{j}]");
        }
    }
    let close = |a: Gate, b: Gate| {
        let (x, y) = (a.matrix2(), b.matrix2());
        (0..4).all(|k| (x[k / 2][k % 2] - y[k / 2][k % 2]).norm() < 1e-15)
    };
    assert!(close(Gate::S, Gate::U(0., 0., PI / 2.)));
    assert!(close(Gate::T, Gate::U(0., 0., PI / 4.)));
    assert!(close(Gate::X, Gate::U(PI, 0., PI)));
    assert!(close(Gate::H, Gate::U(PI / 2., 0., PI)));
}

/// A random circuit of `gates` gates on `n` qubits (every gate kind, random positions).
fn random_circuit(n: usize, gates: usize, seed: u64) -> Circuit {
    let mut r = rng(seed);
    let mut circ = Circuit::new(n, n);
    for _ in 0..gates {
        let set = all_gates(&mut r);
        let g = set[r.random_range(0..set.len())];
        if g.arity() == 2 && n >= 2 {
            let a = r.random_range(0..n);
            let b = (a + r.random_range(1..n)) % n;
            circ.gate2(g, a, b);
        } else if g.arity() == 1 {
            circ.gate1(g, r.random_range(0..n));
        }
    }
    circ
}

#[test]
fn random_circuits_equal_products_of_dense_unitaries() {
    for n in 1..=8usize {
        let gates = if n <= 6 { 40 } else { 20 };
        let circ = random_circuit(n, gates, 7000 + n as u64);
        let d = 1usize << n;
        let mut u = full(n, &[(c(1., 0.), vec![])]);
        for op in &circ.ops {
            let g = match op {
                Op::Gate { gate, qubits, .. } => explicit_full(n, *gate, qubits),
                _ => unreachable!(),
            };
            u = matmul(&g, &u, d);
        }
        let want: Vec<C64> = (0..d).map(|i| u[i * d]).collect(); // U|0…0⟩
        let got = simulate(&circ, 0).unwrap().state;
        let diff = max_abs_diff(&got, &want);
        assert!(diff < 1e-12, "n = {n}: diff {diff:e}");
        // And on a random start state.
        let psi = random_cvec(d, n as u64);
        let mut got = psi.clone();
        qep::circuit::run(&circ, &mut got, &mut rng(0));
        let diff = max_abs_diff(&got, &matvec(&u, &psi));
        assert!(diff < 1e-11, "n = {n}, random start: diff {diff:e}");
    }
}

/// `m` applied to qubits `qs` by the definition, index by index (no blocks).
fn naive(psi: &[C64], qs: &[usize], m: &dyn Fn(usize, usize) -> C64) -> Vec<C64> {
    let local =
        |i: usize| -> usize { qs.iter().enumerate().map(|(k, &q)| (i >> q & 1) << k).sum() };
    let clear: usize = !qs.iter().map(|&q| 1usize << q).sum::<usize>();
    (0..psi.len())
        .map(|i| {
            (0..1usize << qs.len())
                .map(|cl| {
                    let j = (i & clear)
                        | qs.iter()
                            .enumerate()
                            .map(|(k, &q)| (cl >> k & 1) << q)
                            .sum::<usize>();
                    m(local(i), cl) * psi[j]
                })
                .sum()
        })
        .collect()
}

#[test]
fn parallel_kernels_match_the_naive_loop_at_every_qubit_height() {
    // 17 qubits = 2^17 amplitudes: above the parallel threshold (2^14); targets below, at and
    // above the chunk size (2^13) take the three code paths; run with 1 and 2 threads.
    let n = 17;
    let psi = random_cvec(1 << n, 5);
    let u = Gate::U(0.3, -1.2, 2.1).matrix2();
    let rxx = Gate::Rxx(0.77).matrix4();
    let cx = Gate::Cx.matrix4();
    for threads in [1, 2] {
        for q in [0, 5, 12, 13, 16] {
            let mut got = psi.clone();
            in_pool(threads, || apply_matrix2(&mut got, q, &u));
            let want = naive(&psi, &[q], &|r, c| u[r][c]);
            assert!(
                max_abs_diff(&got, &want) < 1e-14,
                "u3 on {q}, {threads} threads"
            );
        }
        for (a, b) in [(0, 1), (3, 12), (14, 2), (13, 16), (16, 15)] {
            for m in [&rxx, &cx] {
                let mut got = psi.clone();
                in_pool(threads, || apply_matrix4(&mut got, a, b, m));
                let want = naive(&psi, &[a, b], &|r, c| m[r][c]);
                assert!(
                    max_abs_diff(&got, &want) < 1e-14,
                    "({a}, {b}), {threads} threads"
                );
            }
        }
    }
}

#[test]
fn measurement_collapses_large_states_the_same_on_any_thread_count() {
    // 16 qubits (parallel path): the outcome frequency of qubit q over 400 seeded draws
    // follows P(1) computed here, and 1 and 2 threads give bitwise identical states.
    let n = 16;
    let mut psi = random_cvec(1 << n, 21);
    let norm = psi.iter().map(|z| z.norm_sqr()).sum::<f64>().sqrt();
    psi.iter_mut().for_each(|z| *z /= norm);
    for q in [0usize, 9, 15] {
        let p1: f64 = (0..psi.len())
            .filter(|i| i >> q & 1 == 1)
            .map(|i| psi[i].norm_sqr())
            .sum();
        let mut ones = 0;
        for seed in 0..400 {
            let (mut a, mut b) = (psi.clone(), psi.clone());
            let oa = in_pool(1, || measure_qubit(&mut a, q, &mut rng(seed)));
            let ob = in_pool(2, || measure_qubit(&mut b, q, &mut rng(seed)));
            assert_eq!((oa, &a), (ob, &b));
            if seed < 3 {
                let kept: f64 = a.iter().map(|z| z.norm_sqr()).sum();
                assert!((kept - 1.0).abs() < 1e-12);
                assert!((0..a.len()).all(|i| (i >> q & 1 == 1) == oa || a[i] == O));
            }
            ones += oa as u32;
        }
        let sigma = (400.0 * p1 * (1.0 - p1)).sqrt(); // p1 ≈ ½: σ ≈ 10
        assert!(
            (ones as f64 - 400.0 * p1).abs() < 5.0 * sigma,
            "q {q}: {ones} vs {p1}"
        );
    }
}

const HEADER: &str = "OPENQASM 2.0;\ninclude \"qelib1.inc\";\n";

/// An unconditional one-qubit gate op.
fn op1(gate: Gate, q: usize) -> Op {
    Op::Gate {
        gate,
        qubits: vec![q],
        cond: None,
    }
}

#[test]
fn qasm_import_export_import_round_trips() {
    // Random circuits with measurements: the same ops bit for bit after the round trip.
    for n in [1usize, 3, 8] {
        let mut circ = random_circuit(n, 60, 300 + n as u64);
        circ.reset(0);
        for q in 0..n {
            circ.measure(q, n - 1 - q);
        }
        let text = to_qasm(&circ);
        let back = parse_qasm(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(
            (back.qubits, back.clbits, &back.ops),
            (circ.qubits, circ.clbits, &circ.ops),
            "n = {n}"
        );
        assert_eq!(to_qasm(&back), text);
    }
    // A hand-written program: several registers, every qelib1 name, expressions, broadcast.
    let src = format!(
        "{HEADER}// comment\nqreg a[2];\nqreg b[3];\ncreg m[2];\ncreg n[3];\n\
         h a;\nx b[0]; y b[1]; z b[2];\ns a[0]; sdg a[1]; t b[0]; tdg b[1]; id b[2];\n\
         rx(pi/2) a[0];\nry(-pi/4 + 0.1) a[1];\nrz(2*(pi - 1)/3) b[2];\n\
         u1(-0.5) b[0];\nu2(0.1, pi) b[1];\nu3(1, 2, 3) b[2];\nu(0.5, -0.5, 1e-3) a[0];\n\
         U(.25, 2.5e-1, -(0.25)) a[1];\n\
         cx a[0], b[0];\nCX a, b[1:0];\n"
    );
    // (The slice syntax on the last line is not QASM 2.0: check that it is refused first.)
    let err = parse_qasm(&src).unwrap_err().to_string();
    assert!(err.starts_with("20:10: found `:`"), "{err}");
    let src = src.replace("CX a, b[1:0];\n", "CX a[1], b[1];\n") + "cz a[0], b[2];\nswap a[1], b[0];\nrxx(0.3) a[0], a[1];\nryy(-0.4) b[1], b[2];\nrzz(pi^2/10) a[1], b[1];\nbarrier a, b;\nmeasure a -> m;\nmeasure b[2] -> n[0];\nreset b[0];\n";
    let c1 = parse_qasm(&src).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((c1.qubits, c1.clbits), (5, 5));
    // h a → two ops; x b[0] is qubit 2; measure a -> m gives (0 → 0), (1 → 1).
    assert_eq!(c1.ops[0], op1(Gate::H, 0));
    assert_eq!(c1.ops[1], op1(Gate::H, 1));
    assert_eq!(c1.ops[2], op1(Gate::X, 2));
    assert!(c1.ops.contains(&op1(Gate::Rz(2.0 * (PI - 1.0) / 3.0), 4)));
    assert!(c1.ops.contains(&op1(Gate::U(PI / 2.0, 0.1, PI), 3)));
    assert!(c1.ops.contains(&op1(Gate::U(0.25, 0.25, -0.25), 1)));
    assert!(c1.ops.contains(&Op::Gate {
        gate: Gate::Rzz(PI * PI / 10.0),
        qubits: vec![1, 3],
        cond: None
    }));
    assert!(c1.ops.contains(&Op::Measure {
        q: 1,
        c: 1,
        cond: None
    }));
    assert!(c1.ops.contains(&Op::Measure {
        q: 4,
        c: 2,
        cond: None
    }));
    assert_eq!(c1.ops.last(), Some(&Op::Reset { q: 2, cond: None }));
    // h a: 2, x y z: 3, s sdg t tdg id: 5, rotations and u*: 8, cx CX: 2, cz swap
    // rxx ryy rzz: 5, measures: 3, reset: 1.
    assert_eq!(c1.ops.len(), 2 + 3 + 5 + 8 + 2 + 5 + 3 + 1);
    let c2 = parse_qasm(&to_qasm(&c1)).unwrap();
    assert_eq!(c2, c1);
    let (s1, s2) = (simulate(&c1, 9).unwrap(), simulate(&c2, 9).unwrap());
    assert_eq!(s1, s2);
    let norm: f64 = s1.state.iter().map(|z| z.norm_sqr()).sum();
    assert!((norm - 1.0).abs() < 1e-12);
}

#[test]
fn errors_name_line_and_column() {
    let cases = [
        (
            format!("{HEADER}qreg q[2];\nh q[0];\n  foo q[1];\n"),
            "5:3: unknown gate `foo`; expected a gate of qelib1.inc",
        ),
        (
            format!("{HEADER}qreg q[2];\nh q[0]\nx q[1];\n"),
            "5:1: found `x`; expected `;`",
        ),
        (
            format!("{HEADER}qreg q[3];\ncreg c[3];\ncx q[0], q[3];\n"),
            "5:12: index 3 out of range for register `q[3]`",
        ),
        (
            format!("{HEADER}qreg q[1];\ngate g a {{ h a; g a; }}\n"),
            "4:17: unknown gate `g`",
        ),
        (
            format!("{HEADER}qreg q[1];\ncreg c[1];\nif (d == 1) x q[0];\n"),
            "5:5: `d` is not a declared classical register",
        ),
        (
            format!("{HEADER}qreg q[2];\nsxx q[0];\n"),
            "4:1: unknown gate `sxx` (did you mean `sx`?)",
        ),
        (
            format!("{HEADER}qreg q[2];\nopaque magic(a) x, y;\nmagic(1) q[0], q[1];\n"),
            "5:1: `magic` is an opaque gate",
        ),
        (
            "OPENQASM 2.0;\ninclude \"other.inc\";\n".to_string(),
            "2:9: `include \"other.inc\"` is not supported; expected include \"qelib1.inc\"",
        ),
        (
            format!("{HEADER}qreg q[1];\nrx q[0];\n"),
            "4:1: `rx` takes 1 parameter(s), got 0",
        ),
        (
            format!("{HEADER}qreg q[2];\ncx q[0];\n"),
            "4:1: `cx` acts on 2 qubit(s), got 1",
        ),
        (
            format!("{HEADER}qreg q[1];\nmeasure q[0] -> c[0];\n"),
            "4:17: `c` is not a declared classical register",
        ),
        (
            format!("{HEADER}qreg q[1];\nrz(pi/) q[0];\n"),
            "4:7: found `)`; expected a number, `pi`",
        ),
        (format!("{HEADER}qreg q[1];\nh q[0]; $\n"), "4:9: found `$`"),
    ];
    for (src, want) in &cases {
        let err = parse_qasm(src).expect_err(want).to_string();
        assert!(err.starts_with(want), "got {err:?}, want {want:?}");
    }
}

#[test]
fn x_on_qubit_0_gives_001_for_every_shot() {
    let src = format!("{HEADER}qreg q[3];\ncreg c[3];\nx q[0];\nmeasure q -> c;\n");
    let circ = parse_qasm(&src).unwrap();
    assert!(circ.measurements_are_final());
    let counts = sample_counts(&circ, 1000, 1).unwrap();
    assert_eq!(
        counts.into_iter().collect::<Vec<_>>(),
        vec![("001".to_string(), 1000)]
    );
    // Without measurements the counts are over all qubits, same order.
    let mut bare = Circuit::new(3, 0);
    bare.gate1(Gate::X, 0);
    let counts = sample_counts(&bare, 10, 1).unwrap();
    assert_eq!(counts.get("001"), Some(&10));
    assert_eq!(bitstring([true, false, false].into_iter()), "001");
}

#[test]
fn bell_counts_are_00_and_11_within_5_sigma() {
    let src = format!("{HEADER}qreg q[2];\ncreg c[2];\nh q[0];\ncx q[0], q[1];\nmeasure q -> c;\n");
    let circ = parse_qasm(&src).unwrap();
    let shots = 20_000u64;
    let counts = sample_counts(&circ, shots, 42).unwrap();
    assert_eq!(counts.keys().collect::<Vec<_>>(), ["00", "11"]);
    let n00 = counts["00"] as f64;
    assert_eq!(counts["00"] + counts["11"], shots);
    let sigma = (shots as f64 * 0.25).sqrt(); // binomial, p = ½: 70.7
    assert!(
        (n00 - shots as f64 / 2.0).abs() < 5.0 * sigma,
        "n00 = {n00}"
    );
    // Same seed, same counts; another seed, different counts (the premise of a seeded test).
    assert_eq!(sample_counts(&circ, shots, 42).unwrap(), counts);
    assert_ne!(sample_counts(&circ, shots, 43).unwrap(), counts);
}

#[test]
fn ry_probabilities_and_mid_circuit_measurement_statistics() {
    // ry(θ)|0⟩: P(1) = sin²(θ/2) = 0.3 for θ = 2 asin(√0.3).
    let theta = 2.0 * 0.3f64.sqrt().asin();
    let mut circ = Circuit::new(1, 1);
    circ.gate1(Gate::Ry(theta), 0).measure(0, 0);
    let shots = 50_000u64;
    let n1 = sample_counts(&circ, shots, 3).unwrap()["1"] as f64;
    let sigma = (shots as f64 * 0.3 * 0.7).sqrt(); // 102.5
    assert!((n1 - 0.3 * shots as f64).abs() < 5.0 * sigma, "n1 = {n1}");

    // Mid-circuit: measure a |+⟩ into c[0], reset it, then copy |1⟩ into c[1] through the
    // reset qubit: c[1] must always be 1 (reset worked), c[0] ½/½. Re-run per shot.
    let src = format!(
        "{HEADER}qreg q[2];\ncreg c[2];\nh q[0];\nmeasure q[0] -> c[0];\nreset q[0];\n\
         x q[0];\ncx q[0], q[1];\nmeasure q[1] -> c[1];\n"
    );
    let circ = parse_qasm(&src).unwrap();
    assert!(!circ.measurements_are_final());
    let shots = 4000u64;
    let counts = sample_counts(&circ, shots, 8).unwrap();
    assert_eq!(counts.keys().collect::<Vec<_>>(), ["10", "11"]);
    let sigma = (shots as f64 * 0.25).sqrt();
    assert!(
        (counts["11"] as f64 - shots as f64 / 2.0).abs() < 5.0 * sigma,
        "{counts:?}"
    );
    // After one run the state is |q1 q0⟩ = |11⟩ exactly.
    let out = simulate(&circ, 8).unwrap();
    assert!((out.state[3] - ONE).norm() < 1e-12);
    assert!(out.clbits[1]);
    // Collapse leaves a normalised state with the measured qubit in the drawn value.
    let mut ghz = Circuit::new(3, 1);
    ghz.gate1(Gate::H, 0)
        .gate2(Gate::Cx, 0, 1)
        .gate2(Gate::Cx, 1, 2)
        .measure(2, 0);
    let out = simulate(&ghz, 1).unwrap();
    let k = if out.clbits[0] { 7 } else { 0 };
    assert!((out.state[k].norm() - 1.0).abs() < 1e-12);
    assert_eq!(unitary_part_state(&ghz).unwrap()[7], c(FRAC_1_SQRT_2, 0.0));
}

#[test]
fn cli_circuit_run_prints_counts_and_provenance() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bell.qasm");
    let src = format!("{HEADER}qreg q[2];\ncreg c[2];\nh q[0];\ncx q[0], q[1];\nmeasure q -> c;\n");
    std::fs::write(&path, &src).unwrap();
    let out = succeeds(
        qep()
            .args([
                "circuit",
                "run",
                path.to_str().unwrap(),
                "--shots",
                "1000",
                "--seed",
                "5",
            ])
            .args(["--statevector", "--json"]),
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["shots"], 1000);
    assert_eq!(v["seed"], 5);
    let counts = v["counts"].as_object().unwrap();
    assert_eq!(counts.keys().collect::<Vec<_>>(), ["00", "11"]);
    let total: u64 = counts.values().map(|n| n.as_u64().unwrap()).sum();
    assert_eq!(total, 1000);
    let library = sample_counts(&parse_qasm(&src).unwrap(), 1000, 5).unwrap();
    assert_eq!(counts["00"].as_u64(), library.get("00").copied());
    let sv = v["statevector"].as_array().unwrap();
    assert_eq!(sv.len(), 4);
    assert!((sv[3][0].as_f64().unwrap() - FRAC_1_SQRT_2).abs() < 1e-15);
    assert_eq!(v["provenance"]["seed"], 5);
    assert_eq!(
        v["provenance"]["input_sha256"],
        qep::report::sha256_hex(src.as_bytes())
    );

    // Text output, and a located error with the file name and a non-zero exit.
    let out = qep()
        .args(["circuit", "run", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("  00  ") && text.contains("  11  "), "{text}");
    let bad = dir.path().join("bad.qasm");
    std::fs::write(&bad, format!("{HEADER}qreg q[1];\ncxx q[0];\n")).unwrap();
    let out = qep()
        .args(["circuit", "run", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("bad.qasm:4:1: unknown gate `cxx` (did you mean `cx`?)"),
        "{err}"
    );
}

/// `|0…0⟩` is exactly 1 then zeros, also when the state is large enough to come from fresh
/// pages (64 MiB in double, 32 MiB in single) instead of recycled heap memory.
#[test]
fn zero_states_are_exact_on_fresh_pages_in_both_precisions() {
    for n in [3usize, 22] {
        let psi = qep::circuit::execute::zero_state_of::<C64>(n);
        assert_eq!(psi.len(), 1 << n);
        assert_eq!(psi[0], C64::new(1.0, 0.0));
        assert!(
            psi[1..].iter().all(|a| a.re == 0.0 && a.im == 0.0),
            "n = {n}"
        );
        let psi = qep::circuit::execute::zero_state_of::<qep::circuit::C32>(n);
        assert_eq!(psi.len(), 1 << n);
        assert_eq!((psi[0].re, psi[0].im), (1.0, 0.0));
        assert!(
            psi[1..].iter().all(|a| a.re == 0.0 && a.im == 0.0),
            "n = {n}"
        );
    }
}
