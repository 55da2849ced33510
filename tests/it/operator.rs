//! Tests for `operator`: the matrix-free `H·ψ` against the Kronecker oracle (small systems) and
//! the naive per-term loop (large systems with many X-masks on high qubits, where the
//! cache-blocked multi-pass plan matters), the explicit forms (dense, CSR, Matrix Market), and
//! determinism across thread counts.

use proptest::prelude::*;
use qep::operator::{Kernel, OperatorError, XMaskOperator, DENSE_MAX_QUBITS};
use qep::pauli::{PauliString, PauliSum};
use qep::C64;

use crate::oracle::{
    assert_close, c, in_pool, kron_matrix, matvec, max_abs, max_abs_diff, naive_apply, prop_config,
    random_cvec, random_rvec, random_sum, tfim_chain, Coeffs,
};

fn p(s: &str) -> PauliString {
    PauliString::parse(s).unwrap()
}

/// `H·ψ` with the library, complex path; the output starts as NaN so that every amplitude
/// must be written.
fn apply_c(op: &XMaskOperator, psi: &[C64]) -> Vec<C64> {
    let mut out = vec![c(f64::NAN, f64::NAN); psi.len()];
    op.apply_into(psi, &mut out);
    out
}

/// `H·ψ` with the library, real path (output pre-filled with NaN).
fn apply_r(op: &XMaskOperator, psi: &[f64]) -> Vec<f64> {
    let mut out = vec![f64::NAN; psi.len()];
    op.apply_into(psi, &mut out);
    out
}

fn to_c(v: &[f64]) -> Vec<C64> {
    v.iter().map(|&x| c(x, 0.0)).collect()
}

/// Dense row-major matrix from a CSR export (duplicates summed).
fn csr_to_dense(op: &XMaskOperator) -> Vec<C64> {
    let csr = op.to_csr().unwrap();
    let d = op.dim();
    assert!(csr.is_csr());
    assert_eq!(csr.shape(), (d, d));
    let mut m = vec![c(0.0, 0.0); d * d];
    for (&v, (r, col)) in csr.iter() {
        m[r * d + col] += v;
    }
    m
}

/// A minimal Matrix Market reader (coordinate, real or complex, general): returns whether
/// the field is `real` and the dense matrix (1-based indices, duplicates summed).
fn read_matrix_market(text: &str) -> (bool, usize, Vec<C64>) {
    let mut lines = text.lines();
    let header = lines.next().expect("empty file");
    let words: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(
        &words[..3],
        ["%%MatrixMarket", "matrix", "coordinate"],
        "header {header:?}"
    );
    assert_eq!(words[4], "general", "header {header:?}");
    let real = match words[3] {
        "real" => true,
        "complex" => false,
        f => panic!("unknown field {f}"),
    };
    let mut lines = lines.filter(|l| !l.starts_with('%') && !l.trim().is_empty());
    let size: Vec<usize> = lines
        .next()
        .expect("size line")
        .split_whitespace()
        .map(|w| w.parse().unwrap())
        .collect();
    let (rows, cols, nnz) = (size[0], size[1], size[2]);
    assert_eq!(rows, cols);
    let mut m = vec![c(0.0, 0.0); rows * cols];
    let mut count = 0;
    for l in lines {
        let w: Vec<&str> = l.split_whitespace().collect();
        assert_eq!(w.len(), if real { 3 } else { 4 }, "entry line {l:?}");
        let (i, j): (usize, usize) = (w[0].parse().unwrap(), w[1].parse().unwrap());
        assert!((1..=rows).contains(&i) && (1..=cols).contains(&j), "{l:?}");
        let re: f64 = w[2].parse().unwrap();
        let im: f64 = if real { 0.0 } else { w[3].parse().unwrap() };
        m[(i - 1) * cols + (j - 1)] += c(re, im);
        count += 1;
    }
    assert_eq!(count, nnz, "entry count");
    (real, rows, m)
}

/// `(n, terms, kind, seed)` for random operators on 1..=8 qubits.
fn random_operator() -> impl Strategy<Value = (usize, usize, Coeffs, u64)> {
    (
        1usize..=8,
        1usize..=24,
        prop_oneof![
            Just(Coeffs::Hermitian),
            Just(Coeffs::Complex),
            Just(Coeffs::RealInZ)
        ],
        any::<u64>(),
    )
}

proptest! {
    #![proptest_config(prop_config(96))]

    #[test]
    fn apply_matches_the_kronecker_oracle((n, terms, kind, seed) in random_operator()) {
        let h = random_sum(n, terms, kind, seed);
        let op = XMaskOperator::new(&h).unwrap();
        let m = kron_matrix(&h);
        let d = 1usize << n;
        prop_assert_eq!(op.dim(), d);
        if kind == Coeffs::Hermitian {
            prop_assert!(op.is_hermitian());
        }
        prop_assert_eq!(op.is_hermitian(), h.is_hermitian(0.0));
        prop_assert_eq!(op.is_real(), h.is_real_in_z_basis(0.0), "{}", h);

        let psi = random_cvec(d, seed ^ 1);
        let want = matvec(&m, &psi);
        assert_close(&apply_c(&op, &psi), &want, 1e-12, "complex H·ψ vs oracle");
        assert_close(&apply_c(&op, &psi), &naive_apply(&h, &psi), 1e-12, "complex H·ψ vs naive");

        if kind == Coeffs::RealInZ {
            prop_assert!(op.is_real());
            prop_assert!(m.iter().all(|v| v.im == 0.0), "oracle is real");
            let psi_r = random_rvec(d, seed ^ 2);
            let want = matvec(&m, &to_c(&psi_r));
            assert_close(&to_c(&apply_r(&op, &psi_r)), &want, 1e-12, "real H·ψ vs oracle");
        }

        // Explicit forms.
        prop_assert!(max_abs_diff(&op.to_dense().unwrap(), &m) <= 1e-12 * max_abs(&m).max(1.0));
        prop_assert!(max_abs_diff(&csr_to_dense(&op), &m) <= 1e-12 * max_abs(&m).max(1.0));
        let mut buf = Vec::new();
        op.write_matrix_market(&mut buf).unwrap();
        let (real, rows, mm) = read_matrix_market(std::str::from_utf8(&buf).unwrap());
        prop_assert_eq!(real, op.is_real());
        prop_assert_eq!(rows, d);
        // 17 digits after the point: the text round-trips the library's own entries exactly.
        prop_assert_eq!(max_abs_diff(&mm, &op.to_dense().unwrap()), 0.0);
        prop_assert!(max_abs_diff(&mm, &m) <= 1e-12 * max_abs(&m).max(1.0));
    }
}

#[test]
fn explicit_forms_of_a_named_operator() {
    // H = 0.5 X0 Z1 − 2 Y1 + 0.25 I on 2 qubits, written out by hand (qubit 0 = low bit):
    // X0 Z1 = Z ⊗ X = diag-blocks (X, −X); Y1 = Y ⊗ I.
    let mut h = PauliSum::new(2);
    h.add(p("X0 Z1"), 0.5);
    h.add(p("Y1"), -2.0);
    h.add(PauliString::IDENTITY, 0.25);
    let i2 = c(0.0, 2.0);
    #[rustfmt::skip]
    let want = vec![
        c(0.25, 0.0), c(0.5, 0.0),  i2,            c(0.0, 0.0),
        c(0.5, 0.0),  c(0.25, 0.0), c(0.0, 0.0),   i2,
        -i2,          c(0.0, 0.0),  c(0.25, 0.0),  c(-0.5, 0.0),
        c(0.0, 0.0),  -i2,          c(-0.5, 0.0),  c(0.25, 0.0),
    ];
    assert_eq!(kron_matrix(&h), want, "oracle");
    let op = XMaskOperator::new(&h).unwrap();
    assert_eq!(op.to_dense().unwrap(), want);
    assert!(op.is_hermitian() && !op.is_real());
    assert_eq!((op.n_terms(), op.n_groups()), (3, 3));
    assert_eq!(op.identity_shift(), c(0.25, 0.0));
    let mut buf = Vec::new();
    op.write_matrix_market(&mut buf).unwrap();
    let text = String::from_utf8(buf).unwrap();
    assert!(text.starts_with("%%MatrixMarket matrix coordinate complex general\n"));
    assert!(text.contains("\n4 4 12\n"), "{text}");
    assert!(
        text.contains("\n1 3 0.00000000000000000e0 2.00000000000000000e0\n"),
        "{text}"
    );
}

#[test]
fn groups_terms_and_traffic_of_the_ising_chain() {
    // 3 ZZ bonds (one diagonal group) + 4 fields X_i (4 groups).
    let h = tfim_chain(4, 1.0, 0.7);
    let op = XMaskOperator::new(&h).unwrap();
    assert_eq!((op.n_terms(), op.n_groups()), (7, 5));
    assert!(op.is_real() && op.is_hermitian());
    // Read ψ, write out, read the real diagonal: (8 + 8 + 8) bytes per amplitude in f64.
    assert_eq!(op.bytes_per_apply(8), 24 * 16);
    assert_eq!(op.bytes_per_apply(16), 40 * 16);
    // Merged duplicates count once.
    let mut h2 = h.clone();
    h2.add(p("X0"), -0.3);
    assert_eq!(XMaskOperator::new(&h2).unwrap().n_terms(), 7);
    // Without a diagonal: only X groups, no diagonal storage.
    let mut x = PauliSum::new(3);
    x.add(p("X0 X2"), 1.0);
    let op = XMaskOperator::new(&x).unwrap();
    assert_eq!((op.n_groups(), op.storage_bytes()), (1, 0));
    assert_eq!(op.bytes_per_apply(16), 32 * 8);
}

#[test]
fn zero_operator_overwrites_the_output() {
    for n in [1, 5, 16] {
        let op = XMaskOperator::new(&PauliSum::new(n)).unwrap();
        let psi = random_cvec(1 << n, 3);
        let out = apply_c(&op, &psi);
        assert!(out.iter().all(|v| *v == c(0.0, 0.0)), "n = {n}");
        assert_eq!(op.n_groups(), 0);
    }
}

#[test]
fn dense_export_is_refused_above_the_limit() {
    let n = DENSE_MAX_QUBITS + 1;
    let op = XMaskOperator::new(&tfim_chain(n, 1.0, 1.0)).unwrap();
    let e = op.to_dense().unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("dense matrix of {n} qubits requested; dense forms are limited to {DENSE_MAX_QUBITS} qubits")
    );
}

#[test]
#[should_panic(expected = "real arithmetic on an operator with complex coefficients")]
fn real_path_on_a_complex_operator_panics() {
    let mut h = PauliSum::new(2);
    h.add(p("Y0"), 1.0);
    let op = XMaskOperator::new(&h).unwrap();
    let psi = vec![1.0; 4];
    let mut out = vec![0.0; 4];
    op.apply_into(&psi, &mut out);
}

#[test]
#[should_panic(expected = "ψ has the wrong length")]
fn wrong_length_panics() {
    let op = XMaskOperator::new(&tfim_chain(3, 1.0, 1.0)).unwrap();
    let mut out = vec![c(0.0, 0.0); 8];
    op.apply_into(&[c(1.0, 0.0); 4], &mut out);
}

// ---------------------------------------------------------------- large, many X-masks

/// Operators on `n` qubits (14..=16) whose X-masks reach the high qubits: pairs across the
/// tile boundary, masks with many high bits (the streaming fallback), Y and Z letters mixed in,
/// a diagonal, and random dense strings.
fn high_mask_operator(n: usize, kind: Coeffs, seed: u64) -> PauliSum {
    let t = n - 1; // top qubit
    let mut h = random_sum(n, 24, kind, seed);
    // Complex: a small imaginary part; RealInZ: `i·re` on strings with an odd number of Y.
    let coef = |s: PauliString, re: f64, k: usize| match kind {
        Coeffs::Complex => c(re, 0.1 * k as f64),
        Coeffs::RealInZ if s.n_y() % 2 == 1 => c(0.0, re),
        _ => c(re, 0.0),
    };
    let labels = [
        format!("X{} X{}", t - 2, t - 1),
        format!("Y{t} Z0"),
        format!("X0 X{t}"),
        format!("Y{} Y{t} Z3", t - 1),
        format!("Z0 Z{t}"),
        format!("X{t}"),
        format!("X7 X{t} Z2"),
        format!("Y0 Y1 X{} Z{t}", t - 3),
    ];
    for (k, l) in labels.iter().enumerate() {
        h.add(p(l), coef(p(l), 0.3 + 0.1 * k as f64, k));
    }
    // Every qubit from 3 to the top flipped at once: too many high bits for any tile.
    let all_high: String = (3..n).map(|q| format!("X{q} ")).collect();
    h.add(p(&all_high), coef(p(&all_high), -0.7, 9));
    // The same with a Z on qubit 1 and a Y pair (even n_Y keeps it real).
    let mut y_high = all_high.replacen("X3", "Y3", 1).replacen("X5", "Y5", 1);
    y_high.push_str("Z1");
    h.add(p(&y_high), coef(p(&y_high), 0.45, 10));
    h
}

/// Premise of the high-mask tests: among the cases, the plan of at least one has several
/// passes (tiles, then passes for the high masks, then the streaming fallback for the mask
/// flipping every qubit from 3 up). The tile size is an internal tuning parameter
/// (operator/xmask.rs: 2^14..2^17 amplitudes), so the cases go up to 18 qubits rather than
/// relying on one threshold.
#[track_caller]
fn assert_some_multi_pass(passes: &[(String, usize)]) {
    assert!(
        passes.iter().any(|(_, p)| *p >= 3),
        "premise: no case has a multi-pass plan: {passes:?}"
    );
}

#[test]
fn high_masks_match_the_naive_loop() {
    let mut passes = Vec::new();
    for (n, kind, seed) in [
        (14, Coeffs::Complex, 11),
        (15, Coeffs::Hermitian, 12),
        (16, Coeffs::Complex, 13),
        (16, Coeffs::Hermitian, 14),
        (17, Coeffs::Complex, 15),
        (18, Coeffs::Complex, 16),
    ] {
        let h = high_mask_operator(n, kind, seed);
        let op = XMaskOperator::new(&h).unwrap();
        assert!(!op.is_real(), "premise: complex arithmetic");
        let what = format!("n = {n}, {kind:?}");
        assert!(op.n_groups() >= 25, "{what}: {} groups", op.n_groups());
        let psi = random_cvec(1 << n, seed);
        let want = naive_apply(&h, &psi);
        assert_close(&apply_c(&op, &psi), &want, 1e-12, &what);
        passes.push((what, op.n_passes()));
    }
    assert_some_multi_pass(&passes);
}

#[test]
fn high_masks_real_path_matches_the_naive_loop() {
    let mut passes = Vec::new();
    for (n, seed) in [(14, 21), (16, 22), (18, 23)] {
        let h = high_mask_operator(n, Coeffs::RealInZ, seed);
        let op = XMaskOperator::new(&h).unwrap();
        assert!(op.is_real(), "premise: real in the Z basis");
        let what = format!("real n = {n}");
        let psi = random_rvec(1 << n, seed);
        let want = naive_apply(&h, &to_c(&psi));
        assert_close(&to_c(&apply_r(&op, &psi)), &want, 1e-12, &what);
        // And the complex path on the same real operator agrees with the real one.
        assert_close(&apply_c(&op, &to_c(&psi)), &want, 1e-12, "complex path");
        passes.push((what, op.n_passes()));
    }
    assert_some_multi_pass(&passes);
}

#[test]
fn every_single_x_mask_on_sixteen_qubits() {
    // One group per X-mask up to 2^16 would be slow; take all 2-bit masks plus every single
    // bit: 136 groups spread over every pass shape.
    let n = 16;
    let mut h = PauliSum::new(n);
    for a in 0..n {
        h.add(
            PauliString::from_masks(1 << a, 1 << ((a + 5) % n)),
            0.1 + a as f64 * 0.01,
        );
        for b in a + 1..n {
            h.add(
                PauliString::from_masks((1 << a) | (1 << b), 1 << ((a * b) % n)),
                c(0.01 * (a + b) as f64, 0.003 * a as f64),
            );
        }
    }
    let op = XMaskOperator::new(&h).unwrap();
    assert_eq!(op.n_groups(), 136);
    let psi = random_cvec(1 << n, 5);
    assert_close(
        &apply_c(&op, &psi),
        &naive_apply(&h, &psi),
        1e-12,
        "all 2-bit masks",
    );
}

/// The bit patterns of a complex vector: equal iff two vectors agree to the last bit.
fn bits(v: &[C64]) -> Vec<[u64; 2]> {
    v.iter().map(|a| [a.re.to_bits(), a.im.to_bits()]).collect()
}

/// Asserts that `op` gives the same bits on one thread and on two, for the complex vector `psi`.
fn assert_threads_agree_c(op: &XMaskOperator, psi: &[C64], what: &str) {
    let one = in_pool(1, || apply_c(op, psi));
    let two = in_pool(2, || apply_c(op, psi));
    assert!(
        bits(&one) == bits(&two),
        "{what}: complex, 1 and 2 threads differ"
    );
}

/// Asserts that `op` gives the same bits on one thread and on two, for the real vector `psi`.
fn assert_threads_agree_r(op: &XMaskOperator, psi: &[f64], what: &str) {
    let one = in_pool(1, || apply_r(op, psi));
    let two = in_pool(2, || apply_r(op, psi));
    let rbits = |v: &[f64]| v.iter().map(|a| a.to_bits()).collect::<Vec<_>>();
    assert!(
        rbits(&one) == rbits(&two),
        "{what}: real, 1 and 2 threads differ"
    );
}

/// The operator of `h`, after checking the premise of the thread tests: several passes.
fn multi_pass(h: &PauliSum) -> XMaskOperator {
    let op = XMaskOperator::new(h).unwrap();
    assert!(op.n_passes() >= 3, "premise: {} passes", op.n_passes());
    op
}

#[test]
fn one_and_two_threads_give_identical_bits() {
    // 18 qubits: several passes and many tiles per pass whatever the tile size.
    let h = high_mask_operator(18, Coeffs::Complex, 31);
    let op = multi_pass(&h);
    assert_threads_agree_c(&op, &random_cvec(1 << 18, 32), "multi-pass");
    let opr = multi_pass(&high_mask_operator(18, Coeffs::RealInZ, 33));
    assert_threads_agree_r(&opr, &random_rvec(1 << 18, 34), "multi-pass");
    // The diagonal is built in parallel too: construction inside each pool agrees.
    let a = in_pool(1, || XMaskOperator::new(&h).unwrap());
    let b = in_pool(2, || XMaskOperator::new(&h).unwrap());
    let psi = random_cvec(1 << 18, 35);
    assert!(bits(&apply_c(&a, &psi)) == bits(&apply_c(&b, &psi)));
}

#[test]
fn csr_columns_of_a_fourteen_qubit_operator_match_the_naive_loop() {
    // Column b of H is H|b⟩: check a few columns of the CSR export against the naive loop.
    let h = high_mask_operator(14, Coeffs::Complex, 41);
    let op = XMaskOperator::new(&h).unwrap();
    let csr = op.to_csr().unwrap();
    let d = op.dim();
    for b in [0usize, 1, 4097, d - 1, 12345] {
        let mut e = vec![c(0.0, 0.0); d];
        e[b] = c(1.0, 0.0);
        let want = naive_apply(&h, &e);
        let mut col = vec![c(0.0, 0.0); d];
        for (&v, (r, cc)) in csr.iter() {
            if cc == b {
                col[r] += v;
            }
        }
        assert_close(&col, &want, 1e-13, &format!("column {b}"));
    }
}

// ---------------------------------------------------------------- kernels

/// The portable kernel and the one the CPU selects (AVX-512 intrinsics on this machine, whose
/// fused sweep also folds in the diagonal) agree to rounding, on a TFIM grid (every group a
/// constant real X-field: all fused) and on the high-mask operators (fused, signed and complex
/// groups mixed), with complex and real vectors, on 1 and 2 threads.
#[test]
fn portable_and_selected_kernels_agree() {
    let mut tfim = PauliSum::new(16);
    for r in 0..4 {
        for col in 0..4 {
            let q = r * 4 + col;
            tfim.add(p(&format!("X{q}")), -3.04);
            if col + 1 < 4 {
                tfim.add(p(&format!("Z{q} Z{}", q + 1)), -1.0);
            }
            if r + 1 < 4 {
                tfim.add(p(&format!("Z{q} Z{}", q + 4)), -1.0);
            }
        }
    }
    let cases = [
        (tfim, Coeffs::RealInZ),
        (high_mask_operator(16, Coeffs::RealInZ, 5), Coeffs::RealInZ),
        (high_mask_operator(15, Coeffs::Complex, 6), Coeffs::Complex),
    ];
    for (h, kind) in cases {
        let auto = XMaskOperator::new(&h).unwrap();
        let mut portable = auto.clone();
        portable.set_kernel(Kernel::Portable);
        let d = auto.dim();
        let psi = random_cvec(d, 11);
        let want = naive_apply(&h, &psi);
        for threads in [1, 2] {
            let a = in_pool(threads, || apply_c(&auto, &psi));
            let b = in_pool(threads, || apply_c(&portable, &psi));
            assert_close(&a, &want, 1e-12, "selected kernel vs naive");
            assert_close(&b, &want, 1e-12, "portable kernel vs naive");
        }
        if kind == Coeffs::RealInZ {
            let psi_r = random_rvec(d, 12);
            let want = naive_apply(&h, &to_c(&psi_r));
            assert_close(
                &to_c(&apply_r(&auto, &psi_r)),
                &want,
                1e-12,
                "selected, real",
            );
            assert_close(
                &to_c(&apply_r(&portable, &psi_r)),
                &want,
                1e-12,
                "portable, real",
            );
        }
    }
}

// ---------------------------------------------------------------- coefficient tables

/// A Pauli sum whose X-mask groups mostly have Z-dependent signs: `groups` random X-masks, each
/// with `per_group` strings whose Z/Y letters are random (a letter on an X qubit is Y, so Y
/// letters come in every group), plus a constant field, a few diagonal terms and, with
/// `wide`, strings whose Z bits cover every qubit but the X ones (more bits than one table).
fn z_dependent_sum(
    n: usize,
    groups: usize,
    per_group: usize,
    kind: Coeffs,
    wide: bool,
    seed: u64,
) -> PauliSum {
    use crate::oracle::{gauss, rng};
    use rand::Rng;
    let mut r = rng(seed);
    let all = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
    let coef = |r: &mut rand_chacha::ChaCha8Rng, s: PauliString| {
        let a = gauss(r);
        match kind {
            Coeffs::Hermitian => c(a, 0.0),
            Coeffs::Complex => c(a, gauss(r)),
            Coeffs::RealInZ if s.n_y() % 2 == 1 => c(0.0, a),
            Coeffs::RealInZ => c(a, 0.0),
        }
    };
    let mut h = PauliSum::new(n);
    for _ in 0..groups {
        let x = loop {
            let x = r.random::<u64>() & all & r.random::<u64>();
            if x != 0 {
                break x;
            }
        };
        for _ in 0..per_group {
            let z = r.random::<u64>() & all;
            let s = PauliString::from_masks(x, z);
            let e = coef(&mut r, s);
            h.add(s, e);
        }
        if wide {
            let s = PauliString::from_masks(x, all & !x);
            let e = coef(&mut r, s);
            h.add(s, e);
        }
    }
    let field = PauliString::from_masks(1, 0);
    let e = coef(&mut r, field);
    h.add(field, e);
    for _ in 0..3 {
        let s = PauliString::from_masks(0, r.random::<u64>() & all);
        let e = coef(&mut r, s);
        h.add(s, e);
    }
    h
}

/// The table kernels (selected and portable) against the term-by-term oracle kernel and the
/// naive loop: complex vectors, and real ones where the operator is real.
fn check_against_the_term_oracle(h: &PauliSum, kind: Coeffs, seed: u64, what: &str) {
    let auto = XMaskOperator::new(h).unwrap();
    let mut portable = auto.clone();
    portable.set_kernel(Kernel::Portable);
    let mut terms = auto.clone();
    terms.set_kernel(Kernel::Terms);
    let d = auto.dim();
    let psi = random_cvec(d, seed);
    let want = apply_c(&terms, &psi);
    assert_close(
        &want,
        &naive_apply(h, &psi),
        1e-12,
        &format!("{what}: oracle vs naive"),
    );
    assert_close(
        &apply_c(&auto, &psi),
        &want,
        1e-12,
        &format!("{what}: selected"),
    );
    assert_close(
        &apply_c(&portable, &psi),
        &want,
        1e-12,
        &format!("{what}: portable"),
    );
    if kind == Coeffs::RealInZ {
        assert!(auto.is_real(), "{what}: premise: real operator");
        let psi_r = random_rvec(d, seed ^ 7);
        let want = to_c(&apply_r(&terms, &psi_r));
        assert_close(
            &want,
            &naive_apply(h, &to_c(&psi_r)),
            1e-12,
            &format!("{what}: real oracle"),
        );
        assert_close(
            &to_c(&apply_r(&auto, &psi_r)),
            &want,
            1e-12,
            &format!("{what}: real selected"),
        );
        assert_close(
            &to_c(&apply_r(&portable, &psi_r)),
            &want,
            1e-12,
            &format!("{what}: real portable"),
        );
    }
}

/// `(n, groups, terms per group, kind, wide, seed)` on 1..=13 qubits.
fn z_dependent_case() -> impl Strategy<Value = (usize, usize, usize, Coeffs, bool, u64)> {
    (
        1usize..=13,
        1usize..=12,
        1usize..=6,
        prop_oneof![
            Just(Coeffs::Hermitian),
            Just(Coeffs::Complex),
            Just(Coeffs::RealInZ)
        ],
        any::<bool>(),
        any::<u64>(),
    )
}

proptest! {
    #![proptest_config(prop_config(64))]

    #[test]
    fn table_kernels_match_the_term_oracle(
        (n, groups, per, kind, wide, seed) in z_dependent_case()
    ) {
        let h = z_dependent_sum(n, groups, per, kind, wide, seed);
        check_against_the_term_oracle(&h, kind, seed ^ 3, &format!("n = {n}, {kind:?}"));
    }
}

#[test]
fn groups_wider_than_a_table_are_split_and_match_the_oracle() {
    // 18 qubits: groups whose Z bits cover up to 16 qubits (several tables each), strings with
    // Z on every non-X qubit (a table over the in-block bits and a parity above), several
    // passes with X-masks on high qubits.
    for (kind, seed) in [
        (Coeffs::RealInZ, 51),
        (Coeffs::Complex, 52),
        (Coeffs::Hermitian, 53),
    ] {
        let h = z_dependent_sum(18, 10, 8, kind, true, seed);
        let op = XMaskOperator::new(&h).unwrap();
        let constant = 1; // the field X0 (the diagonal is no group with tables)
        assert!(
            op.n_tables() > op.n_groups() - constant,
            "premise: some group is split ({} tables, {} groups)",
            op.n_tables(),
            op.n_groups()
        );
        assert!(op.n_passes() >= 2, "premise: {} passes", op.n_passes());
        check_against_the_term_oracle(&h, kind, seed, &format!("18 qubits, {kind:?}"));
    }
}

#[test]
fn the_phase_sensor_shape_uses_one_small_table_per_signed_group() {
    // Cluster-Ising chain Z X Z + Z Z + X on 10 qubits, coupled to 2 sensor qubits by
    // X·X, X·Z, Z·X, Z·Z terms: every chain site's group has signs that depend on Z, each
    // fits one table.
    let (ns, a, b) = (10, 10, 11);
    let mut h = PauliSum::new(12);
    for j in 0..ns {
        let (k, l) = ((j + 1) % ns, (j + 2) % ns);
        h.add(p(&format!("Z{j} X{k} Z{l}")), 0.7 + 0.01 * j as f64);
        h.add(p(&format!("Z{j} Z{k}")), -0.9);
        h.add(p(&format!("X{j}")), -1.1);
    }
    for (q, s) in [(0, a), (0, b), (1, a), (1, b)] {
        for (lq, ls, v) in [
            ("X", "X", 0.3),
            ("X", "Z", -0.2),
            ("Z", "X", 0.25),
            ("Z", "Z", 0.1),
        ] {
            h.add(p(&format!("{lq}{q} {ls}{s}")), v + 0.01 * q as f64);
        }
    }
    let op = XMaskOperator::new(&h).unwrap();
    // Groups: the 10 chain sites (signed), sensors a and b (signed, Z0/Z1 · X), the 4 constant
    // X·X pairs, and the diagonal.
    assert_eq!(op.n_groups(), 10 + 2 + 4 + 1);
    assert_eq!(op.n_tables(), 12);
    check_against_the_term_oracle(&h, Coeffs::RealInZ, 61, "phase sensor");
    // Bit-identical on one and two threads, complex and real vectors.
    assert_threads_agree_c(&op, &random_cvec(op.dim(), 62), "phase sensor");
    assert_threads_agree_r(&op, &random_rvec(op.dim(), 63), "phase sensor");
}

#[test]
fn states_past_the_prefetch_threshold_match_the_oracle() {
    // 22 qubits: ψ is 32 MiB real and 64 MiB complex, large enough that the fused kernel
    // prefetches the streams of the sub-blocks ahead (output, ψ, diagonal, every source),
    // over several passes with sources on high qubits; bit-identical on one and two threads.
    let h = z_dependent_sum(22, 8, 3, Coeffs::RealInZ, false, 81);
    let op = XMaskOperator::new(&h).unwrap();
    assert!(op.n_passes() >= 2, "premise: {} passes", op.n_passes());
    assert!(op.n_tables() >= 1, "premise: {} tables", op.n_tables());
    check_against_the_term_oracle(&h, Coeffs::RealInZ, 82, "22 qubits, tables");
    assert_threads_agree_r(&op, &random_rvec(op.dim(), 83), "22 qubits, tables");
    // Constant groups only (a TFIM chain: fields on the high qubits make a second pass).
    assert_passes_match_naive(&tfim_chain(22, 1.0, 0.7), 84, "TFIM chain, 22 qubits");
}

/// `h` needs two passes or more, and its product matches the naive loop on a random state.
fn assert_passes_match_naive(h: &PauliSum, seed: u64, what: &str) {
    let op = XMaskOperator::new(h).unwrap();
    assert!(
        op.n_passes() >= 2,
        "{what}: premise: {} passes",
        op.n_passes()
    );
    let psi = random_cvec(op.dim(), seed);
    assert_close(&apply_c(&op, &psi), &naive_apply(h, &psi), 1e-12, what);
}

/// A 20-qubit TFIM chain with Z-dependent and Y terms whose X letters above qubit 15 are one of
/// qubits 16 to 19, alone or with qubits inside a 2^11-amplitude sub-block, so that the
/// single-pass plan takes them (`kind`: complex or real in the Z basis).
fn few_high_sources(kind: Coeffs) -> PauliSum {
    let mut h = tfim_chain(20, 1.0, 0.7);
    let labels = [
        "Z16 X17 Z18",
        "Y19 Z0",
        "X0 X19 Z5",
        "Y1 Y18 Z2",
        "X3 X17",
        "X5 Z9 X18 Z19",
        "X2 Y4 Z11",
        "Y0 Y1 X16 Z19",
    ];
    for (k, l) in labels.iter().enumerate() {
        let s = p(l);
        let re = 0.3 + 0.1 * k as f64;
        let v = match kind {
            Coeffs::Complex => c(re, 0.1 * k as f64),
            _ if s.n_y() % 2 == 1 => c(0.0, re),
            _ => c(re, 0.0),
        };
        h.add(s, v);
    }
    h
}

#[test]
fn twenty_qubit_single_pass_plans_match_the_oracle() {
    // 20 qubits with few groups above the 2^17-amplitude tiles: every group is applied in one
    // pass that reads those groups' sources from other tiles. Against the naive loop and the
    // term-by-term kernel, complex and real vectors, single precision, the fused inner
    // product, and 1 and 2 threads.
    for (kind, seed) in [(Coeffs::Complex, 121), (Coeffs::RealInZ, 122)] {
        let h = few_high_sources(kind);
        let op = XMaskOperator::new(&h).unwrap();
        let what = format!("20 qubits, {kind:?}");
        assert_eq!(op.n_passes(), 1, "{what}: premise: one pass");
        check_against_the_term_oracle(&h, kind, seed + 10, &what);
        assert_threads_agree_c(&op, &random_cvec(op.dim(), seed + 20), &what);
        check_fused_dot(&op, &random_cvec(op.dim(), seed + 30), &what);
        check_single_against_double(&h, seed + 40, &what);
        if kind == Coeffs::RealInZ {
            assert_threads_agree_r(&op, &random_rvec(op.dim(), seed + 50), &what);
        }
    }
    // Constant groups only (the fields on qubits 17–19 fuse with the rest).
    let h = tfim_chain(20, 1.0, 0.7);
    let op = XMaskOperator::new(&h).unwrap();
    assert_eq!(op.n_passes(), 1, "TFIM chain: premise: one pass");
    let psi = random_cvec(op.dim(), 131);
    assert_close(
        &apply_c(&op, &psi),
        &naive_apply(&h, &psi),
        1e-12,
        "TFIM chain, 20 qubits",
    );
    // Masks on many qubits above the tiles (high_mask_operator: random pairs and the mask
    // flipping every qubit from 3 up) keep their further passes, and match the naive loop.
    let h = high_mask_operator(20, Coeffs::Complex, 132);
    assert_passes_match_naive(&h, 133, "high masks, 20 qubits");
}

#[test]
fn table_kernels_give_identical_bits_on_one_and_two_threads() {
    for (kind, seed) in [(Coeffs::Complex, 71), (Coeffs::RealInZ, 72)] {
        let h = z_dependent_sum(18, 12, 6, kind, true, seed);
        let op = XMaskOperator::new(&h).unwrap();
        assert!(op.n_tables() >= 12, "premise: {} tables", op.n_tables());
        let what = format!("{kind:?} tables");
        assert_threads_agree_c(&op, &random_cvec(op.dim(), seed), &what);
        if kind == Coeffs::RealInZ {
            assert_threads_agree_r(&op, &random_rvec(op.dim(), seed), &what);
        }
    }
}

#[test]
fn pencil_tables_follow_the_weights() {
    // A pencil whose groups have Z-dependent signs: after each change of weights the tables
    // must be rebuilt, or H·ψ would use the coefficients of the previous point.
    use qep::operator::Pencil;
    let a = z_dependent_sum(12, 6, 4, Coeffs::Hermitian, false, 81);
    let b = z_dependent_sum(12, 6, 4, Coeffs::Hermitian, true, 82);
    let mut pencil = Pencil::new(&a, &b).unwrap();
    let psi = random_cvec(1 << 12, 83);
    for (wa, wb) in [(1.0, 0.0), (0.3, 0.7), (0.0, 1.0), (-0.5, 2.0)] {
        pencil.set_weights(wa, wb);
        let mut h = PauliSum::new(12);
        for &(s, e) in a.terms() {
            h.add(s, e * wa);
        }
        for &(s, e) in b.terms() {
            h.add(s, e * wb);
        }
        let what = format!("weights ({wa}, {wb})");
        assert_close(
            &apply_c(pencil.operator(), &psi),
            &naive_apply(&h, &psi),
            1e-12,
            &what,
        );
    }
}

/// A 3-qubit operator with a Y letter (complex in the Z basis) and X-masks on every qubit.
fn mixed3() -> PauliSum {
    let mut h = PauliSum::new(3);
    for (s, c) in [
        ("Z0 Z1", 1.0),
        ("Z1 Z2", 0.5),
        ("X0", -0.7),
        ("X1", -0.3),
        ("Y2", 0.2),
        ("X2 Z0", -0.4),
    ] {
        h.add(p(s), c);
    }
    h
}

fn cvec(f: impl Fn(usize) -> C64) -> Vec<C64> {
    (0..8).map(f).collect()
}

#[test]
fn dense_operator_agrees_with_the_xmask_kernels() {
    use qep::operator::{DenseOperator, LinearOperator};
    let h = XMaskOperator::new(&mixed3()).unwrap();
    let d = DenseOperator::new(8, kron_matrix(&mixed3()));
    let x = cvec(|i| c(i as f64 - 3.0, 0.5 * i as f64));
    let mut a = vec![c(0.0, 0.0); 8];
    let mut b = vec![c(0.0, 0.0); 8];
    LinearOperator::apply(&h, &x, &mut a);
    LinearOperator::apply(&d, &x, &mut b);
    assert!(max_abs_diff(&a, &b) < 1e-12, "{a:?} vs {b:?}");
    assert!(LinearOperator::<C64>::is_hermitian(&d));
    assert!(
        !LinearOperator::<C64>::is_real(&d),
        "Y2 is imaginary in the Z basis"
    );
    assert!(!LinearOperator::<C64>::is_real(&h));
    // The provided dense form (unit vectors through `apply`) is the matrix itself.
    let m = LinearOperator::<C64>::to_dense(&d).unwrap();
    assert_eq!(m, kron_matrix(&mixed3()));
    // Three X-masks (X0; X1; Y2 and X2 Z0 share x = 4) and the diagonal.
    assert_eq!(LinearOperator::<C64>::cost_hint(&h), 8 * h.n_groups());
    assert_eq!(h.n_groups(), 4);
}

#[test]
fn apply_dot_gives_the_product_and_its_rayleigh_numerator() {
    use qep::operator::{DenseOperator, LinearOperator};
    // ⟨x, A x⟩ from the explicit matrix, summed here term by term: the independent oracle.
    let m = kron_matrix(&mixed3());
    let x = cvec(|i| c(0.3 * i as f64 - 1.0, 0.2 - 0.1 * i as f64));
    let mut want = c(0.0, 0.0);
    for r in 0..8 {
        for col in 0..8 {
            want += x[r].conj() * m[r * 8 + col] * x[col];
        }
    }
    assert!(want.im.abs() < 1e-12, "a Hermitian form is real: {want}");
    let h = XMaskOperator::new(&mixed3()).unwrap();
    let d = DenseOperator::new(8, m.clone());
    for (name, op) in [
        ("xmask", &h as &dyn LinearOperator<C64>),
        ("dense", &d as &dyn LinearOperator<C64>),
    ] {
        let mut y = vec![c(0.0, 0.0); 8];
        let got = op.apply_dot(&x, &mut y);
        assert!((got - want).norm() < 1e-12, "{name}: {got} vs {want}");
        let mut ax = vec![c(0.0, 0.0); 8];
        op.apply(&x, &mut ax);
        assert!(max_abs_diff(&y, &ax) < 1e-15, "{name}: y is A x");
    }
    // The real path of a real operator (the Ising part of mixed3 without Y2).
    let mut real = PauliSum::new(3);
    for (s, v) in [("Z0 Z1", 1.0), ("X0", -0.7), ("X2 Z0", -0.4)] {
        real.add(p(s), v);
    }
    let hr = XMaskOperator::new(&real).unwrap();
    let mr = kron_matrix(&real);
    let xr: Vec<f64> = (0..8).map(|i| 1.0 - 0.25 * i as f64).collect();
    let want_r: f64 = (0..8)
        .flat_map(|r| (0..8).map(move |col| (r, col)))
        .map(|(r, col)| xr[r] * mr[r * 8 + col].re * xr[col])
        .sum();
    let mut yr = vec![0.0; 8];
    let got_r = LinearOperator::<f64>::apply_dot(&hr, &xr, &mut yr);
    assert!((got_r - want_r).abs() < 1e-12, "{got_r} vs {want_r}");
}

#[test]
fn apply_add_and_apply_rows_follow_apply() {
    use qep::operator::LinearOperator;
    let h = XMaskOperator::new(&mixed3()).unwrap();
    let x = cvec(|i| c(1.0 + i as f64, -0.25 * i as f64));
    let mut ax = vec![c(0.0, 0.0); 8];
    h.apply_into(&x, &mut ax);
    let y0 = cvec(|i| c(0.0, i as f64));
    let mut y = y0.clone();
    let alpha = c(0.5, -2.0);
    h.apply_add(alpha, &x, &mut y);
    let want: Vec<C64> = y0.iter().zip(&ax).map(|(a, b)| a + alpha * b).collect();
    assert!(max_abs_diff(&y, &want) < 1e-12);
    let mut rows = vec![c(0.0, 0.0); 3];
    h.apply_rows(&x, &mut rows, 4);
    assert_eq!(&rows[..], &ax[4..7]);
}

#[test]
#[should_panic(expected = "run past the dimension")]
fn apply_rows_past_the_end_is_a_caller_bug() {
    use qep::operator::LinearOperator;
    let h = XMaskOperator::new(&mixed3()).unwrap();
    let x = vec![c(1.0, 0.0); 8];
    let mut rows = vec![c(0.0, 0.0); 3];
    h.apply_rows(&x, &mut rows, 6);
}

#[test]
fn shifted_and_projected_wrappers_compose() {
    use qep::operator::{LinearOperator, Projected, Shifted};
    let h = XMaskOperator::new(&mixed3()).unwrap();
    let x = cvec(|i| c(i as f64, 1.0));
    let mut q = cvec(|i| c(1.0, i as f64));
    qep::state::normalize(&mut q);
    let s = Shifted {
        inner: &h,
        sigma: 1.5,
    };
    let pq = Projected { inner: &s, q: &q };
    let mut y = vec![c(0.0, 0.0); 8];
    pq.apply(&x, &mut y);
    let mut hx = vec![c(0.0, 0.0); 8];
    h.apply_into(&x, &mut hx);
    let mut want: Vec<C64> = hx.iter().zip(&x).map(|(a, b)| a - b * 1.5).collect();
    let overlap = qep::state::dot(&q, &want);
    qep::state::axpy(-overlap, &q, &mut want);
    assert!(max_abs_diff(&y, &want) < 1e-12);
    assert!(
        qep::state::dot(&q, &y).norm() < 1e-12,
        "Q A x is orthogonal to q"
    );
    assert_eq!(LinearOperator::<C64>::norm_bound(&s), h.norm_bound() + 1.5);
    // Through a trait object as well.
    let dynop: &dyn LinearOperator<C64> = &pq;
    let mut z = vec![c(0.0, 0.0); 8];
    dynop.apply(&x, &mut z);
    assert_eq!(z, y);
}

/// `H·ψ` in single precision against the double-precision product of the same (rounded)
/// vector, `‖Δ‖∞ ≤ 10⁻⁵ ‖Hψ‖∞`, on every kernel (selected, portable, term by term), complex
/// and (where the operator is real) real vectors; bit-identical on one and two threads.
fn check_single_against_double(h: &PauliSum, seed: u64, what: &str) {
    use qep::scalar::C32;
    let auto = XMaskOperator::new(h).unwrap();
    let d = auto.dim();
    let psi32: Vec<C32> = random_cvec(d, seed)
        .iter()
        .map(|z| C32::new(z.re as f32, z.im as f32))
        .collect();
    let wide: Vec<C64> = psi32
        .iter()
        .map(|z| c(f64::from(z.re), f64::from(z.im)))
        .collect();
    let want = apply_c(&auto, &wide);
    let scale = max_abs(&want);
    assert!(scale > 0.0, "{what}: premise: H ψ ≠ 0");
    let psi_r: Vec<f32> = random_rvec(d, seed ^ 5).iter().map(|&x| x as f32).collect();
    let want_r = auto.is_real().then(|| {
        to_c(&apply_r(
            &auto,
            &psi_r.iter().map(|&x| f64::from(x)).collect::<Vec<_>>(),
        ))
    });
    for kernel in [Kernel::Auto, Kernel::Portable, Kernel::Terms] {
        let mut op = auto.clone();
        op.set_kernel(kernel);
        let run = |threads| {
            in_pool(threads, || {
                let mut out = vec![C32::new(f32::NAN, f32::NAN); d];
                op.apply_single(&psi32, &mut out);
                out
            })
        };
        let (one, two) = (run(1), run(2));
        assert!(
            one.iter()
                .zip(&two)
                .all(|(a, b)| a.re.to_bits() == b.re.to_bits() && a.im.to_bits() == b.im.to_bits()),
            "{what} {kernel:?}: 1 and 2 threads differ"
        );
        let got: Vec<C64> = one
            .iter()
            .map(|z| c(f64::from(z.re), f64::from(z.im)))
            .collect();
        let err = max_abs_diff(&got, &want) / scale;
        assert!(
            err <= 1e-5,
            "{what} {kernel:?}: complex64 relative error {err:e}"
        );
        if let Some(want_r) = &want_r {
            let run = |threads| {
                in_pool(threads, || {
                    let mut out = vec![f32::NAN; d];
                    op.apply_single(&psi_r, &mut out);
                    out
                })
            };
            let (one, two) = (run(1), run(2));
            assert!(
                one.iter()
                    .zip(&two)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{what} {kernel:?}: real, 1 and 2 threads differ"
            );
            let got: Vec<C64> = one.iter().map(|&x| c(f64::from(x), 0.0)).collect();
            let err = max_abs_diff(&got, want_r) / max_abs(want_r);
            assert!(err <= 1e-5, "{what} {kernel:?}: f32 relative error {err:e}");
        }
    }
}

#[test]
fn single_precision_matches_double_on_the_bench_families() {
    for name in [
        "tfim_3x4",
        "sensor_12",
        "randnet_12",
        "tfim_3x6",
        "sensor_18",
        "randnet_18",
    ] {
        let path = crate::common::repo(&format!("hamiltonians/bench/{name}.yaml"));
        let m = qep::hamiltonian::load(std::path::Path::new(&path)).unwrap();
        let h = m.hamiltonian(&m.theta(), None, 0.0).unwrap();
        let op = XMaskOperator::new(&h).unwrap();
        assert!(op.is_real(), "{name}: premise: a real model");
        if name.ends_with("18") || name == "tfim_3x6" {
            assert!(op.n_passes() >= 2, "{name}: premise: several passes");
        }
        check_single_against_double(&h, 81, name);
    }
}

#[test]
fn single_precision_matches_double_with_complex_tables() {
    // Complex coefficients (complex tables, complex diagonal), several passes, and groups
    // wider than one table.
    let h = z_dependent_sum(18, 12, 6, Coeffs::Complex, true, 83);
    let op = XMaskOperator::new(&h).unwrap();
    assert!(!op.is_real() && op.n_passes() >= 2 && op.n_tables() >= 12);
    check_single_against_double(&h, 84, "complex 18 qubits");
    let h = z_dependent_sum(13, 8, 4, Coeffs::RealInZ, false, 85);
    check_single_against_double(&h, 86, "Y letters, 13 qubits");
}

#[test]
#[should_panic(expected = "real arithmetic on an operator with complex coefficients")]
fn single_real_path_on_a_complex_operator_panics() {
    let mut h = PauliSum::new(2);
    h.add(p("Y0"), 1.0);
    let op = XMaskOperator::new(&h).unwrap();
    let mut out = [0.0f32; 4];
    op.apply_single(&[1.0f32, 0.0, 0.0, 0.0], &mut out);
}

// ---------------------------------------------------------------- fused inner product

/// `⟨x, A x⟩` by the provided form of `apply_dot` (apply, then a separate dot pass), as the
/// oracle of the kernels' fused one, and the scale `Σ |x_i| |y_i|` its rounding is relative to.
fn apply_then_dot<T: qep::Scalar>(op: &XMaskOperator, x: &[T]) -> (Vec<T>, T, f64) {
    let mut y = vec![T::zero(); x.len()];
    op.apply_into(x, &mut y);
    let d = qep::state::dot(x, &y);
    let scale = x
        .iter()
        .zip(&y)
        .map(|(a, b)| (a.abs2() * b.abs2()).sqrt())
        .sum();
    (y, d, scale)
}

/// The fused `apply_dot` of every kernel class on `op` against [`apply_then_dot`], on 1 and 2
/// threads: `y` has the bits of `apply`, the inner product agrees to 1e-12 of its scale, and
/// both are bit-identical across thread counts.
fn check_fused_dot<T: qep::Scalar>(op: &XMaskOperator, x: &[T], what: &str) {
    use qep::operator::LinearOperator;
    for kernel in [Kernel::Auto, Kernel::Portable, Kernel::Terms] {
        let mut op = op.clone();
        op.set_kernel(kernel);
        let (want_y, want, scale) = apply_then_dot(&op, x);
        assert!(scale > 0.0, "{what}: premise: a nonzero product");
        let mut runs = Vec::new();
        for threads in [1, 2] {
            let (y, d) = in_pool(threads, || {
                let mut y = vec![T::from_f64(f64::NAN); x.len()];
                let d = LinearOperator::apply_dot(&op, x, &mut y);
                (y, d)
            });
            let same_y = y.iter().zip(&want_y).all(|(a, b)| {
                a.to_c64().re.to_bits() == b.to_c64().re.to_bits()
                    && a.to_c64().im.to_bits() == b.to_c64().im.to_bits()
            });
            assert!(
                same_y,
                "{what} {kernel:?} {threads} threads: y is not apply's"
            );
            let err = (d.to_c64() - want.to_c64()).norm();
            assert!(
                err <= 1e-12 * scale,
                "{what} {kernel:?} {threads} threads: {} vs {} (scale {scale:e})",
                d.to_c64(),
                want.to_c64()
            );
            runs.push(d.to_c64());
        }
        assert!(
            runs[0].re.to_bits() == runs[1].re.to_bits()
                && runs[0].im.to_bits() == runs[1].im.to_bits(),
            "{what} {kernel:?}: 1 and 2 threads differ: {} vs {}",
            runs[0],
            runs[1]
        );
    }
}

#[test]
fn fused_apply_dot_matches_apply_then_dot_on_the_bench_families() {
    // Single-pass (12 qubits) and multi-pass (18) operators of the three families; real and
    // complex vectors (real coefficients: complex vectors run as interleaved floats).
    for (i, name) in [
        "tfim_3x4",
        "sensor_12",
        "randnet_12",
        "tfim_3x6",
        "sensor_18",
        "randnet_18",
    ]
    .into_iter()
    .enumerate()
    {
        let path = crate::common::repo(&format!("hamiltonians/bench/{name}.yaml"));
        let m = qep::hamiltonian::load(std::path::Path::new(&path)).unwrap();
        let h = m.hamiltonian(&m.theta(), None, 0.0).unwrap();
        let op = XMaskOperator::new(&h).unwrap();
        assert!(op.is_real(), "{name}: premise: a real model");
        if name.ends_with("18") || name == "tfim_3x6" {
            assert!(op.n_passes() >= 2, "{name}: premise: several passes");
        }
        let seed = 90 + 2 * i as u64;
        check_fused_dot(&op, &random_rvec(op.dim(), seed), &format!("{name} real"));
        check_fused_dot(
            &op,
            &random_cvec(op.dim(), seed + 1),
            &format!("{name} complex"),
        );
    }
}

#[test]
fn fused_apply_dot_matches_apply_then_dot_on_complex_operators() {
    // Non-Hermitian operators: ⟨x, A x⟩ has an imaginary part, so its sign convention
    // (conj on x) is checked too. Complex tables and groups wider than a table; X-masks on
    // high qubits (three or more passes); a 3-qubit operator (blocks shorter than a register).
    let h = z_dependent_sum(18, 12, 6, Coeffs::Complex, true, 101);
    let op = XMaskOperator::new(&h).unwrap();
    assert!(!op.is_real() && op.n_passes() >= 2 && op.n_tables() >= 12);
    let x = random_cvec(op.dim(), 102);
    let (_, want, _) = apply_then_dot(&op, &x);
    assert!(
        want.im.abs() > 1e-3 * want.norm(),
        "premise: a complex inner product, {want}"
    );
    check_fused_dot(&op, &x, "complex tables, 18 qubits");
    let op = multi_pass(&high_mask_operator(18, Coeffs::Complex, 103));
    check_fused_dot(&op, &random_cvec(op.dim(), 104), "high masks, 18 qubits");
    let op = XMaskOperator::new(&mixed3()).unwrap();
    check_fused_dot(&op, &random_cvec(8, 105), "3 qubits");
    let mut real = PauliSum::new(3);
    for (s, v) in [("Z0 Z1", 1.0), ("X0", -0.7), ("X2 Z0", -0.4)] {
        real.add(p(s), v);
    }
    let op = XMaskOperator::new(&real).unwrap();
    check_fused_dot(&op, &random_rvec(8, 106), "3 qubits, real");
}

/// `H − σ` built as one operator (`XMaskOperator::shifted`) against the naive per-term loop
/// applied to the Pauli sum with an identity term `−σ` added: with and without diagonal terms
/// in `H`, real and complex coefficients, on 1-pass and multi-pass sizes.
#[test]
fn a_shifted_operator_applies_h_minus_sigma() {
    let sigma = 2.75;
    let mut cases = vec![
        tfim_chain(14, 1.0, 0.7),
        random_sum(13, 30, Coeffs::Complex, 5),
    ];
    // No diagonal terms at all: the shift creates the diagonal.
    let mut xs = PauliSum::new(12);
    for i in 0..12 {
        xs.add(p(&format!("X{i}")), 0.3 + 0.1 * i as f64);
    }
    cases.push(xs);
    for h in cases {
        let n = h.qubits();
        let op = XMaskOperator::new(&h).unwrap();
        let sh = op.shifted(sigma).unwrap();
        let mut hs = h.clone();
        hs.add(PauliString::IDENTITY, c(-sigma, 0.0));
        let psi = random_cvec(1 << n, 11);
        let want = naive_apply(&hs, &psi);
        let got = apply_c(&sh, &psi);
        let scale = max_abs(&want);
        assert!(
            max_abs_diff(&got, &want) <= 1e-13 * scale,
            "{n} qubits: {}",
            max_abs_diff(&got, &want)
        );
        assert_eq!(sh.identity_shift(), op.identity_shift() - sigma);
        assert_eq!(sh.norm_bound(), op.norm_bound() + sigma);
        if op.is_real() {
            let psi = random_rvec(1 << n, 12);
            let want = naive_apply(&hs, &to_c(&psi));
            let got = to_c(&apply_r(&sh, &psi));
            assert!(max_abs_diff(&got, &want) <= 1e-13 * max_abs(&want));
        }
    }
}

#[test]
fn an_operator_plus_a_diagonal_sum_applies_h_plus_s_d() {
    // EP's cost operator: the identity and Z strings on the outputs, here with a ZZ as well.
    let cost = |n: usize, im: f64| {
        let mut d = PauliSum::new(n);
        d.add(PauliString::IDENTITY, 1.25);
        d.add(p("Z0"), c(-0.7, im));
        d.add(p(&format!("Z{}", n - 1)), 0.4);
        d.add(p("Z1 Z2"), -0.3);
        d
    };
    let mut xs = PauliSum::new(12);
    for i in 0..12 {
        xs.add(p(&format!("X{i}")), 0.3 + 0.1 * i as f64);
    }
    let cases = [
        (tfim_chain(14, 1.0, 0.7), 0.0),
        (tfim_chain(12, 1.0, 0.7), 0.2), // a complex term makes the diagonal complex
        (random_sum(13, 30, Coeffs::Complex, 5), 0.0),
        (xs, 0.0), // no diagonal of its own: the sum creates it
    ];
    for (h, im) in cases {
        let n = h.qubits();
        let d = cost(n, im);
        let op = XMaskOperator::new(&h).unwrap();
        for s in [0.01, -0.37] {
            let sum = op.plus_diagonal(s, &d).unwrap();
            let mut hs = h.clone();
            hs.add_sum(&d, c(s, 0.0));
            let compiled = XMaskOperator::new(&hs).unwrap();
            assert_eq!(sum.is_real(), compiled.is_real(), "{n} qubits");
            assert_eq!(sum.n_passes(), op.n_passes());
            assert!((sum.identity_shift() - compiled.identity_shift()).norm() <= 1e-15);
            assert!(sum.norm_bound() >= compiled.norm_bound() - 1e-12);
            assert!(sum.norm_bound() <= op.norm_bound() + s.abs() * d.norm_bound() + 1e-12);
            let psi = random_cvec(1 << n, 21);
            let want = naive_apply(&hs, &psi);
            let got = apply_c(&sum, &psi);
            assert!(
                max_abs_diff(&got, &want) <= 1e-13 * max_abs(&want),
                "{n} qubits, s = {s}: {}",
                max_abs_diff(&got, &want)
            );
            if sum.is_real() {
                let psi = random_rvec(1 << n, 22);
                let want = naive_apply(&hs, &to_c(&psi));
                let got = to_c(&apply_r(&sum, &psi));
                assert!(max_abs_diff(&got, &want) <= 1e-13 * max_abs(&want));
            }
        }
    }
    // Only diagonal sums on the same qubits are accepted.
    let op = XMaskOperator::new(&tfim_chain(6, 1.0, 0.7)).unwrap();
    let mut x = PauliSum::new(6);
    x.add(p("X1"), 1.0);
    assert!(matches!(
        op.plus_diagonal(0.1, &x),
        Err(OperatorError::NotDiagonal)
    ));
    assert!(matches!(
        op.plus_diagonal(0.1, &cost(7, 0.0)),
        Err(OperatorError::NotDiagonal)
    ));
}
