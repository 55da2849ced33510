//! Tests for `pauli`: the algebra of strings and sums against dense 2×2 Kronecker products
//! (qubit `i` = bit `i`, `Y = [[0, −i], [i, 0]]`), named product cases and parse errors.

use proptest::prelude::*;
use qep::pauli::{Letter, PauliError, PauliString, PauliSum, Phase};
use qep::C64;

use crate::oracle::{
    c, dagger, i_pow, kron_matrix, kron_string, letter_char, matmul, max_abs_diff, prop_config,
    random_sum, Coeffs, MAT_X, MAT_Y, MAT_Z,
};

/// A string on `n` qubits from letters `0..4` = I, X, Y, Z (qubit 0 first), via the masks.
fn from_codes(codes: &[u8]) -> PauliString {
    let (mut x, mut z) = (0u64, 0u64);
    for (q, &l) in codes.iter().enumerate() {
        match l {
            0 => {}
            1 => x |= 1 << q,
            2 => {
                x |= 1 << q;
                z |= 1 << q;
            }
            _ => z |= 1 << q,
        }
    }
    PauliString::from_masks(x, z)
}

/// `(n, a, b)`: two random strings on the same `n ≤ 5` qubits.
fn two_strings() -> impl Strategy<Value = (usize, PauliString, PauliString)> {
    (1usize..=5).prop_flat_map(|n| {
        (
            Just(n),
            prop::collection::vec(0u8..4, n).prop_map(|v| from_codes(&v)),
            prop::collection::vec(0u8..4, n).prop_map(|v| from_codes(&v)),
        )
    })
}

fn scaled(m: &[C64], s: C64) -> Vec<C64> {
    m.iter().map(|&v| v * s).collect()
}

// ---------------------------------------------------------------- the oracle itself

#[test]
fn oracle_matrices_follow_the_conventions() {
    // Y = iXZ on one qubit (DESIGN.md), Z|0⟩ = +|0⟩.
    let ixz = scaled(&matmul(&MAT_X, &MAT_Z, 2), c(0.0, 1.0));
    assert_eq!(ixz, MAT_Y.to_vec());
    assert_eq!(MAT_Z[0], c(1.0, 0.0));
    // Qubit 0 is the least significant bit: X0 on 2 qubits maps |00⟩ (0) ↔ |01⟩ (1).
    let x0 = kron_string(PauliString::from_masks(0b01, 0), 2);
    assert_eq!(x0[4], c(1.0, 0.0), "⟨1|X0|0⟩");
    assert_eq!(x0[2], c(0.0, 0.0), "⟨0|X0|2⟩");
    // Z1 on 2 qubits: diag(1, 1, −1, −1).
    let z1 = kron_string(PauliString::from_masks(0, 0b10), 2);
    let diag: Vec<f64> = (0..4).map(|i| z1[i * 4 + i].re).collect();
    assert_eq!(diag, [1.0, 1.0, -1.0, -1.0]);
}

// ---------------------------------------------------------------- properties of strings

proptest! {
    #![proptest_config(prop_config(128))]

    #[test]
    fn product_phase_times_matrix_is_the_matrix_product((n, a, b) in two_strings()) {
        let (ph, p) = a.product(b);
        prop_assert!(ph.0 < 4);
        let lhs = scaled(&kron_string(p, n), ph.to_complex());
        let d = 1usize << n;
        let rhs = matmul(&kron_string(a, n), &kron_string(b, n), d);
        prop_assert_eq!(max_abs_diff(&lhs, &rhs), 0.0, "{} · {} = i^{} {}", a, b, ph.0, p);
        // The library's phase is i^k exactly.
        prop_assert_eq!(ph.to_complex(), i_pow(ph.0 as u32));
    }

    #[test]
    fn commutes_with_iff_the_matrices_commute((n, a, b) in two_strings()) {
        let d = 1usize << n;
        let (ma, mb) = (kron_string(a, n), kron_string(b, n));
        let commute = max_abs_diff(&matmul(&ma, &mb, d), &matmul(&mb, &ma, d)) == 0.0;
        prop_assert_eq!(a.commutes_with(b), commute, "{} vs {}", a, b);
        prop_assert_eq!(b.commutes_with(a), commute);
    }

    #[test]
    fn qubitwise_commutation_is_letterwise((n, a, b) in two_strings()) {
        let expected = (0..n).all(|q| {
            let (la, lb) = (letter_char(a, q), letter_char(b, q));
            la == 'I' || lb == 'I' || la == lb
        });
        prop_assert_eq!(a.qubitwise_commutes_with(b), expected, "{} vs {}", a, b);
        // Qubit-wise commuting implies commuting.
        if expected {
            prop_assert!(a.commutes_with(b));
        }
    }

    #[test]
    fn apply_to_basis_is_the_matrix_column((n, a, _b) in two_strings()) {
        let d = 1usize << n;
        let m = kron_string(a, n);
        for b in 0..d {
            let (ph, b2) = a.apply_to_basis(b as u64);
            prop_assert!((b2 as usize) < d);
            for row in 0..d {
                let want = if row == b2 as usize { ph.to_complex() } else { c(0.0, 0.0) };
                prop_assert_eq!(m[row * d + b], want, "{} on |{}⟩, row {}", a, b, row);
            }
        }
    }

    #[test]
    fn label_round_trips_and_dense_equals_sparse(
        codes in prop::collection::vec(0u8..4, 1..=12),
        order in prop::collection::vec(any::<u32>(), 12),
    ) {
        let p = from_codes(&codes);
        let label = p.to_string();
        prop_assert_eq!(PauliString::parse(&label), Ok(p), "label {:?}", label);
        prop_assert_eq!(label.parse::<PauliString>(), Ok(p));
        // Dense form, qubit 0 leftmost, written in the test from the letter codes.
        let dense: String = codes.iter().map(|&l| ['I', 'X', 'Y', 'Z'][l as usize]).collect();
        prop_assert_eq!(PauliString::parse(&dense), Ok(p), "dense {:?}", dense);
        // Sparse form in a shuffled order, some letters in lower case.
        let mut tokens: Vec<(u32, String)> = codes
            .iter()
            .enumerate()
            .filter(|(_, &l)| l != 0)
            .map(|(q, &l)| {
                let ch = ['I', 'X', 'Y', 'Z'][l as usize];
                let ch = if order[q] % 3 == 0 { ch.to_ascii_lowercase() } else { ch };
                (order[q], format!("{ch}{q}"))
            })
            .collect();
        tokens.sort();
        let sparse = tokens.into_iter().map(|t| t.1).collect::<Vec<_>>().join(" ");
        prop_assert_eq!(PauliString::parse(&sparse), Ok(p), "sparse {:?}", sparse);
        // The label lists qubits in increasing order, one token per non-identity letter.
        if p.is_identity() {
            prop_assert_eq!(label.as_str(), "I");
        } else {
            let qs: Vec<usize> = label.split(' ').map(|t| t[1..].parse().unwrap()).collect();
            prop_assert!(qs.windows(2).all(|w| w[0] < w[1]), "{:?}", label);
            prop_assert_eq!(qs.len() as u32, p.weight());
        }
    }

    #[test]
    fn sum_product_and_adjoint_match_matrices(n in 1usize..=4, seed in any::<u64>()) {
        let a = random_sum(n, 6, Coeffs::Complex, seed);
        let b = random_sum(n, 5, Coeffs::Complex, seed ^ 0xabcdef);
        let d = 1usize << n;
        let ab = kron_matrix(&a.product(&b));
        let want = matmul(&kron_matrix(&a), &kron_matrix(&b), d);
        prop_assert!(max_abs_diff(&ab, &want) <= 1e-12, "product");
        let adj = kron_matrix(&a.adjoint());
        prop_assert!(max_abs_diff(&adj, &dagger(&kron_matrix(&a), d)) <= 1e-15, "adjoint");
        // Hermitian iff the matrix is (merged coefficients real).
        let m = kron_matrix(&a);
        let herm = max_abs_diff(&m, &dagger(&m, d)) <= 1e-12;
        prop_assert_eq!(a.is_hermitian(1e-12), herm);
        let mut hsum = random_sum(n, 6, Coeffs::Hermitian, seed);
        prop_assert!(hsum.is_hermitian(0.0));
        let mh = kron_matrix(&hsum);
        prop_assert!(max_abs_diff(&mh, &dagger(&mh, d)) <= 1e-15);
        // simplify: same matrix, distinct sorted strings, no tiny coefficients.
        hsum.simplify(0.0);
        prop_assert!(max_abs_diff(&kron_matrix(&hsum), &mh) <= 1e-12);
        let keys: Vec<(u64, u64)> = hsum.terms().iter().map(|(p, _)| (p.x(), p.z())).collect();
        prop_assert!(keys.windows(2).all(|w| w[0] < w[1]), "{:?}", keys);
    }

    #[test]
    fn sum_real_in_z_basis_iff_the_matrix_is_real(n in 1usize..=4, seed in any::<u64>()) {
        for kind in [Coeffs::Hermitian, Coeffs::Complex, Coeffs::RealInZ] {
            let h = random_sum(n, 5, kind, seed);
            let m = kron_matrix(&h);
            let real = m.iter().all(|v| v.im.abs() <= 1e-12);
            prop_assert_eq!(h.is_real_in_z_basis(1e-12), real, "{:?}: {}", kind, h);
            if kind == Coeffs::RealInZ {
                prop_assert!(real);
            }
        }
    }

    #[test]
    fn sum_apply_to_basis_is_the_matrix_column(n in 1usize..=4, seed in any::<u64>()) {
        let h = random_sum(n, 6, Coeffs::Complex, seed);
        let m = kron_matrix(&h);
        let d = 1usize << n;
        for b in 0..d {
            let mut col = vec![c(0.0, 0.0); d];
            let entries = h.apply_to_basis(b as u64);
            prop_assert_eq!(entries.len(), h.len());
            for (amp, b2) in entries {
                col[b2 as usize] += amp;
            }
            let want: Vec<C64> = (0..d).map(|r| m[r * d + b]).collect();
            prop_assert!(max_abs_diff(&col, &want) <= 1e-14, "column {}", b);
        }
    }
}

// ---------------------------------------------------------------- named cases

#[test]
fn single_qubit_product_table() {
    // (a, b, k, c): a · b = i^k c.
    let table: [(&str, &str, u8, &str); 16] = [
        ("X0", "Y0", 1, "Z0"), // XY = iZ
        ("Y0", "Z0", 1, "X0"), // YZ = iX
        ("Z0", "X0", 1, "Y0"), // ZX = iY
        ("Y0", "X0", 3, "Z0"), // YX = −iZ
        ("Z0", "Y0", 3, "X0"), // ZY = −iX
        ("X0", "Z0", 3, "Y0"), // XZ = −iY
        ("X0", "X0", 0, "I"),  // X² = I
        ("Y0", "Y0", 0, "I"),  // Y² = I
        ("Z0", "Z0", 0, "I"),  // Z² = I
        ("I", "X0", 0, "X0"),  // IX = X
        ("Y0", "I", 0, "Y0"),  // YI = Y
        ("I", "I", 0, "I"),    // I² = I
        ("X3", "Y3", 1, "Z3"), // the same on another qubit
        ("Z7", "Y7", 3, "X7"),
        ("X0", "Y1", 0, "X0 Y1"), // disjoint supports: no phase
        ("Y1", "X0", 0, "X0 Y1"),
    ];
    for (a, b, k, want) in table {
        let (pa, pb) = (
            PauliString::parse(a).unwrap(),
            PauliString::parse(b).unwrap(),
        );
        let (ph, p) = pa.product(pb);
        assert_eq!(
            (ph, p),
            (Phase(k), PauliString::parse(want).unwrap()),
            "{a} · {b} should be i^{k} {want}, got i^{} {p}",
            ph.0
        );
    }
}

#[test]
fn multi_qubit_product_table() {
    let table: [(&str, &str, u8, &str); 6] = [
        // (XY) ⊗ (YX) = (iZ)(−iZ) = Z0 Z1
        ("X0 Y1", "Y0 X1", 0, "Z0 Z1"),
        // (XX)(YY) = (iZ)(iZ) = −Z0 Z1
        ("X0 X1", "Y0 Y1", 2, "Z0 Z1"),
        // (XX)(ZZ) = (−iY)(−iY) = −Y0 Y1
        ("X0 X1", "Z0 Z1", 2, "Y0 Y1"),
        // Y5 Z0 · X0 X15 = (ZX)_0 Y5 X15 = i Y0 Y5 X15
        ("Y5 Z0", "X0 X15", 1, "Y0 Y5 X15"),
        // (XYZ)(ZXY) = (−iY)(−iZ)(−iX)... = i·(−1)^? : XZ=−iY, YX=−iZ, ZY=−iX → (−i)³ = i
        ("X0 Y1 Z2", "Z0 X1 Y2", 1, "Y0 Z1 X2"),
        // high qubits: Y63 · Z63 = iX63
        ("Y63", "Z63", 1, "X63"),
    ];
    for (a, b, k, want) in table {
        let (ph, p) = PauliString::parse(a)
            .unwrap()
            .product(PauliString::parse(b).unwrap());
        assert_eq!(
            (ph, p),
            (Phase(k), PauliString::parse(want).unwrap()),
            "{a} · {b}"
        );
    }
}

#[test]
fn letters_masks_and_labels() {
    let p = PauliString::parse("X0 Z3 Y5").unwrap();
    assert_eq!((p.x(), p.z()), (0b100001, 0b101000));
    assert_eq!(p.to_string(), "X0 Z3 Y5");
    assert_eq!(p.label(), "X0 Z3 Y5");
    assert_eq!(
        [
            p.letter(0),
            p.letter(1),
            p.letter(3),
            p.letter(5),
            p.letter(64)
        ],
        [Letter::X, Letter::I, Letter::Z, Letter::Y, Letter::I]
    );
    assert_eq!((p.weight(), p.n_y(), p.min_qubits()), (3, 1, 6));
    assert_eq!(PauliString::parse("XZIY").unwrap().to_string(), "X0 Z1 Y3");
    assert_eq!(PauliString::parse("xziy").unwrap().to_string(), "X0 Z1 Y3");
    assert_eq!(
        PauliString::parse("X0,Z1*Y3").unwrap().to_string(),
        "X0 Z1 Y3"
    );
    assert_eq!(PauliString::parse("X_0 Z_1").unwrap().to_string(), "X0 Z1");
    for id in ["", "I", "  ", "III", "I4"] {
        let p = PauliString::parse(id).unwrap();
        assert!(p.is_identity(), "{id:?}");
        assert_eq!(p.to_string(), "I");
    }
    assert_eq!(PauliString::IDENTITY.min_qubits(), 0);
    let y = PauliString::single(Letter::Y, 63);
    assert_eq!((y.x(), y.z()), (1 << 63, 1 << 63));
    assert_eq!(y.to_string(), "Y63");
    assert_eq!(
        PauliString::from_letters(&[(Letter::Z, 2), (Letter::X, 0)]),
        Ok(PauliString::from_masks(1, 4))
    );
}

#[test]
fn apply_to_basis_named_cases() {
    // Y|0⟩ = i|1⟩, Y|1⟩ = −i|0⟩, Z|1⟩ = −|1⟩, X1 Z0 |01⟩ = −|11⟩.
    let cases: [(&str, u64, u8, u64); 5] = [
        ("Y0", 0, 1, 1),
        ("Y0", 1, 3, 0),
        ("Z0", 1, 2, 1),
        ("X1 Z0", 0b01, 2, 0b11),
        ("Y0 Y1", 0b00, 2, 0b11),
    ];
    for (s, b, k, b2) in cases {
        assert_eq!(
            PauliString::parse(s).unwrap().apply_to_basis(b),
            (Phase(k), b2),
            "{s} |{b}⟩"
        );
    }
}

// ---------------------------------------------------------------- parse errors

#[test]
fn parse_errors_name_the_problem() {
    let e = PauliString::parse("X0 Q1").unwrap_err();
    assert_eq!(
        e,
        PauliError::BadLetter {
            text: "X0 Q1".into(),
            letter: 'Q'
        }
    );
    assert_eq!(
        e.to_string(),
        "bad Pauli letter `Q` in \"X0 Q1\"; expected one of I, X, Y, Z"
    );
    assert_eq!(
        PauliString::parse("XAZ").unwrap_err(),
        PauliError::BadLetter {
            text: "XAZ".into(),
            letter: 'A'
        }
    );
    assert!(matches!(
        PauliString::parse("3X").unwrap_err(),
        PauliError::BadLetter { letter: '3', .. }
    ));

    let e = PauliString::parse("X0 Z3 Y0").unwrap_err();
    assert_eq!(e, PauliError::RepeatedQubit { qubit: 0 });
    assert_eq!(
        e.to_string(),
        "qubit 0 appears twice; write each qubit once (multiply letters by hand)"
    );
    assert_eq!(
        PauliString::parse("Z12 Z12").unwrap_err(),
        PauliError::RepeatedQubit { qubit: 12 }
    );

    for (text, token) in [
        ("X0 Y", "Y"),
        ("X1a", "X1a"),
        ("Z-1 X0", "Z-1"),
        ("X0 Z1.5", "Z1.5"),
    ] {
        let e = PauliString::parse(text).unwrap_err();
        assert_eq!(
            e,
            PauliError::BadIndex {
                text: text.into(),
                token: token.into()
            },
            "{text:?}"
        );
        assert_eq!(
            e.to_string(),
            format!("bad qubit index in `{token}` of \"{text}\"; expected a letter followed by a qubit number, e.g. X3")
        );
    }

    let e = PauliString::parse("X64").unwrap_err();
    assert_eq!(
        e,
        PauliError::QubitOutOfRange {
            qubit: 64,
            limit: 64
        }
    );
    assert_eq!(
        e.to_string(),
        "qubit 64 out of range; expected an index < 64"
    );
    assert_eq!(
        PauliString::parse("I70").unwrap_err(),
        PauliError::QubitOutOfRange {
            qubit: 70,
            limit: 64
        }
    );
}

#[test]
fn sum_rejects_strings_beyond_its_qubits() {
    let mut h = PauliSum::new(3);
    let e = h
        .try_add(PauliString::parse("X0 Z3").unwrap(), c(1.0, 0.0))
        .unwrap_err();
    assert_eq!(e, PauliError::QubitOutOfRange { qubit: 3, limit: 3 });
    assert!(h.is_empty());
    h.try_add(PauliString::parse("X0 Z2").unwrap(), c(1.0, 0.0))
        .unwrap();
    assert_eq!(h.len(), 1);
}

#[test]
#[should_panic(expected = "qubit 3 out of range; expected an index < 3")]
fn sum_add_panics_beyond_its_qubits() {
    PauliSum::new(3).add(PauliString::parse("Z3").unwrap(), 1.0);
}

// ---------------------------------------------------------------- sums: named cases

#[test]
fn simplify_merges_drops_and_sorts() {
    let mut h = PauliSum::new(3);
    h.add(PauliString::parse("Z2").unwrap(), 1.0);
    h.add(PauliString::parse("X0").unwrap(), 0.5);
    h.add(PauliString::parse("Z2").unwrap(), -1.0); // cancels exactly
    h.add(PauliString::parse("X0").unwrap(), 0.25);
    h.add(PauliString::parse("Y1").unwrap(), 1e-14);
    h.add(PauliString::IDENTITY, 2.0);
    h.simplify(1e-12);
    let terms: Vec<(String, C64)> = h.terms().iter().map(|(p, c)| (p.to_string(), *c)).collect();
    assert_eq!(
        terms,
        [
            ("I".to_string(), c(2.0, 0.0)),
            ("X0".to_string(), c(0.75, 0.0))
        ]
    );
}

#[test]
fn hermiticity_is_judged_after_merging() {
    // (1 + i) X0 + (1 − i) X0 = 2 X0 is Hermitian although no single term is.
    let mut h = PauliSum::new(1);
    h.add(PauliString::parse("X0").unwrap(), c(1.0, 1.0));
    assert!(!h.is_hermitian(1e-12));
    assert_eq!(
        h.worst_imaginary(),
        Some((PauliString::parse("X0").unwrap(), 1.0))
    );
    h.add(PauliString::parse("X0").unwrap(), c(1.0, -1.0));
    assert!(h.is_hermitian(0.0));
    assert_eq!(h.worst_imaginary(), None);
    // i·Y0 is real in the Z basis ([[0, 1], [−1, 0]]) but not Hermitian; Y0 is the reverse.
    let mut iy = PauliSum::new(1);
    iy.add(PauliString::parse("Y0").unwrap(), c(0.0, 1.0));
    assert!(iy.is_real_in_z_basis(0.0) && !iy.is_hermitian(0.0));
    let mut y = PauliSum::new(1);
    y.add(PauliString::parse("Y0").unwrap(), 1.0);
    assert!(!y.is_real_in_z_basis(0.0) && y.is_hermitian(0.0));
    // Y0 Y1 is real: i² = −1.
    let mut yy = PauliSum::new(2);
    yy.add(PauliString::parse("Y0 Y1").unwrap(), 1.0);
    assert!(yy.is_real_in_z_basis(0.0));
}

#[test]
fn sum_product_named_case() {
    // (X0 + Z0)² = 2·I (XZ + ZX = 0).
    let mut h = PauliSum::new(1);
    h.add(PauliString::parse("X0").unwrap(), 1.0);
    h.add(PauliString::parse("Z0").unwrap(), 1.0);
    let sq = h.product(&h);
    assert_eq!(sq.terms(), &[(PauliString::IDENTITY, c(2.0, 0.0))]);
    assert_eq!(h.norm_bound(), 2.0);
    assert_eq!(h.x_masks(), vec![0, 1]);
}
