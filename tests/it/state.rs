//! Tests for `state`: expectation values against `⟨ψ|M|ψ⟩` with the Kronecker oracle, the
//! slice kernels (sequential and parallel paths) against naive loops, seeded random states,
//! and memory checks made before allocating.

use proptest::prelude::*;
use qep::pauli::{PauliString, PauliSum};
use qep::state::memory::{check_alloc_u128, human_bytes, parse_bytes, state_bytes};
use qep::state::{axpy, dot, expectation_pauli, expectation_sum, norm, StateVector};
use qep::C64;

use crate::oracle::{
    c, in_pool, kron_matrix, kron_string, prop_config, random_cvec, random_rvec, random_string,
    random_sum, rng, sandwich, Coeffs,
};

fn p(s: &str) -> PauliString {
    PauliString::parse(s).unwrap()
}

/// Lengths on both sides of the parallel threshold (2^15), including ones not divisible by
/// the 64 partial sums.
const LENGTHS: [usize; 6] = [1, 1000, (1 << 15) - 1, 1 << 15, (1 << 15) + 1, 200_003];

// ---------------------------------------------------------------- expectation values

proptest! {
    #![proptest_config(prop_config(96))]

    #[test]
    fn expectation_pauli_matches_the_sandwich(n in 1usize..=6, seed in any::<u64>()) {
        let mut r = rng(seed);
        let d = 1usize << n;
        let psi = random_cvec(d, seed ^ 7); // not normalised on purpose
        let psi_r = random_rvec(d, seed ^ 8);
        let psi_rc: Vec<C64> = psi_r.iter().map(|&x| c(x, 0.0)).collect();
        for _ in 0..8 {
            let s = random_string(&mut r, n);
            let m = kron_string(s, n);
            let want = sandwich(&m, &psi);
            let got = expectation_pauli(&psi, s);
            let scale = psi.iter().map(|a| a.norm_sqr()).sum::<f64>();
            prop_assert!((got - want).norm() <= 1e-12 * scale, "{}: {} vs {}", s, got, want);
            // A Pauli string is Hermitian: the expectation is real.
            prop_assert!(got.im.abs() <= 1e-12 * scale);
            let want_r = sandwich(&m, &psi_rc);
            let got_r = expectation_pauli(&psi_r, s);
            let scale_r = psi_r.iter().map(|a| a * a).sum::<f64>();
            prop_assert!((got_r - want_r).norm() <= 1e-12 * scale_r, "real ψ, {}", s);
        }
    }

    #[test]
    fn expectation_sum_matches_the_sandwich(n in 1usize..=6, seed in any::<u64>()) {
        for kind in [Coeffs::Hermitian, Coeffs::Complex] {
            let h = random_sum(n, 12, kind, seed);
            let psi = StateVector::<C64>::random(n, seed).unwrap();
            let want = sandwich(&kron_matrix(&h), psi.as_slice());
            let got = expectation_sum(psi.as_slice(), &h);
            prop_assert!((got - want).norm() <= 1e-12 * h.norm_bound().max(1.0),
                "{:?}: {} vs {}", kind, got, want);
            prop_assert_eq!(psi.expectation_sum(&h), got);
            if kind == Coeffs::Hermitian {
                prop_assert!(got.im.abs() <= 1e-12 * h.norm_bound().max(1.0));
            }
        }
    }
}

#[test]
fn expectation_on_the_parallel_path_matches_a_naive_loop() {
    // 17 qubits: above the 2^15 threshold. Naive ⟨ψ|P|ψ⟩ = Σ_b conj(ψ[b ⊕ x]) i^{n_Y}
    // (−1)^{|b∧z|} ψ[b] (P|b⟩ lands on b ⊕ x).
    let n = 17;
    let psi = StateVector::<C64>::random(n, 99).unwrap();
    let a = psi.as_slice();
    for label in ["Z0", "X16", "Y3 Z16", "X0 Y8 Z9 Y16", "Z0 Z1 Z2 Z3 Z4 Z5"] {
        let s = p(label);
        let (x, z) = (s.x() as usize, s.z() as usize);
        let ph = crate::oracle::i_pow((x & z).count_ones());
        let mut want = c(0.0, 0.0);
        for b in 0..a.len() {
            let sign = if (b & z).count_ones() % 2 == 0 {
                1.0
            } else {
                -1.0
            };
            want += a[b ^ x].conj() * ph * a[b] * sign;
        }
        let got = expectation_pauli(a, s);
        assert!((got - want).norm() <= 1e-13, "{label}: {got} vs {want}");
        assert_eq!(psi.expectation(s), got.re);
        // Bitwise the same on one and on two threads.
        let g1 = in_pool(1, || expectation_pauli(a, s));
        let g2 = in_pool(2, || expectation_pauli(a, s));
        assert_eq!(
            (g1.re.to_bits(), g1.im.to_bits()),
            (g2.re.to_bits(), g2.im.to_bits())
        );
    }
}

#[test]
fn named_expectations_on_product_states() {
    // |+…+⟩: ⟨X_i⟩ = 1, ⟨Z_i⟩ = ⟨Y_i⟩ = 0.
    let plus = StateVector::<C64>::plus(5).unwrap();
    assert!((plus.norm() - 1.0).abs() < 1e-15);
    for q in 0..5 {
        assert!((plus.expectation(p(&format!("X{q}"))) - 1.0).abs() < 1e-14);
        assert!(plus.expectation(p(&format!("Z{q}"))).abs() < 1e-14);
        assert!(plus.expectation(p(&format!("Y{q}"))).abs() < 1e-14);
    }
    // |b⟩ with b = 0b10110: ⟨Z_i⟩ = +1 if bit i is 0 (Z|0⟩ = |0⟩), −1 if it is 1.
    let b = 0b10110;
    let s = StateVector::<f64>::basis(5, b).unwrap();
    for q in 0..5 {
        let want = if (b >> q) & 1 == 0 { 1.0 } else { -1.0 };
        assert_eq!(s.expectation(p(&format!("Z{q}"))), want, "Z{q}");
        assert_eq!(s.expectation(p(&format!("X{q}"))), 0.0, "X{q}");
    }
    assert_eq!(s.expectation(p("Z1 Z2")), 1.0);
    assert_eq!(s.expectation(p("Z0 Z1")), -1.0);
    // Y on (|0⟩ + i|1⟩)/√2 is +1.
    let y_plus = StateVector::from_amplitudes(1, vec![c(1.0, 0.0), c(0.0, 1.0)]);
    assert!((y_plus.expectation(p("Y0")) - 1.0).abs() < 1e-15);
    // An energy: ⟨+…+| (−Σ X_i) |+…+⟩ = −5.
    let mut h = PauliSum::new(5);
    for q in 0..5 {
        h.add(PauliString::from_masks(1 << q, 0), -1.0);
    }
    assert!((plus.expectation_sum(&h) - c(-5.0, 0.0)).norm() < 1e-13);
}

// ---------------------------------------------------------------- slice kernels

#[test]
fn dot_norm_axpy_match_naive_loops() {
    for (i, &len) in LENGTHS.iter().enumerate() {
        let a = random_cvec(len, 100 + i as u64);
        let b = random_cvec(len, 200 + i as u64);
        let want: C64 = a.iter().zip(&b).map(|(x, y)| x.conj() * y).sum();
        let got = dot(&a, &b);
        let scale = (len as f64).sqrt() * 2.0;
        assert!(
            (got - want).norm() <= 1e-13 * scale,
            "dot, len {len}: {got} vs {want}"
        );
        let want_n = a.iter().map(|x| x.norm_sqr()).sum::<f64>().sqrt();
        assert!(
            (norm(&a) - want_n).abs() <= 1e-14 * want_n,
            "norm, len {len}"
        );
        // ⟨a|a⟩ is real and equals ‖a‖².
        let aa = dot(&a, &a);
        assert!(aa.im == 0.0 || aa.im.abs() <= 1e-14 * aa.re, "len {len}");

        let alpha = c(0.3, -1.7);
        let mut y = b.clone();
        axpy(alpha, &a, &mut y);
        for k in 0..len {
            let want = b[k] + alpha * a[k];
            assert!(
                (y[k] - want).norm() <= 1e-15 * want.norm().max(1.0),
                "axpy[{k}]"
            );
        }

        let ar = random_rvec(len, 300 + i as u64);
        let br = random_rvec(len, 400 + i as u64);
        let want_r: f64 = ar.iter().zip(&br).map(|(x, y)| x * y).sum();
        assert!(
            (dot(&ar, &br) - want_r).abs() <= 1e-13 * scale,
            "real dot, len {len}"
        );
        let want_nr = ar.iter().map(|x| x * x).sum::<f64>().sqrt();
        assert!((norm(&ar) - want_nr).abs() <= 1e-14 * want_nr.max(1e-300));
        let mut yr = br.clone();
        axpy(-0.25, &ar, &mut yr);
        assert!(yr
            .iter()
            .zip(ar.iter().zip(&br))
            .all(|(y, (a, b))| *y == b - 0.25 * a));
    }
}

#[test]
fn reductions_are_identical_on_one_and_two_threads() {
    let len = 300_001;
    let a = random_cvec(len, 1);
    let b = random_cvec(len, 2);
    let d1 = in_pool(1, || dot(&a, &b));
    let d2 = in_pool(2, || dot(&a, &b));
    assert_eq!(
        (d1.re.to_bits(), d1.im.to_bits()),
        (d2.re.to_bits(), d2.im.to_bits())
    );
    assert_eq!(
        in_pool(1, || norm(&a)).to_bits(),
        in_pool(2, || norm(&a)).to_bits()
    );
    let mut y1 = b.clone();
    let mut y2 = b.clone();
    in_pool(1, || axpy(c(0.5, 0.5), &a, &mut y1));
    in_pool(2, || axpy(c(0.5, 0.5), &a, &mut y2));
    assert_eq!(y1, y2);
}

#[test]
#[should_panic(expected = "length mismatch")]
fn dot_of_different_lengths_panics() {
    dot(&[1.0, 2.0], &[1.0]);
}

// ---------------------------------------------------------------- random states

#[test]
fn random_states_are_reproducible_and_normalised() {
    for n in [1, 4, 16] {
        let a = StateVector::<C64>::random(n, 42).unwrap();
        let b = StateVector::<C64>::random(n, 42).unwrap();
        let other = StateVector::<C64>::random(n, 43).unwrap();
        assert_eq!(a, b, "same seed, n = {n}");
        assert_ne!(a, other, "different seed, n = {n}");
        assert_eq!((a.qubits(), a.len()), (n, 1 << n));
        assert!(
            (a.norm() - 1.0).abs() <= 1e-14,
            "n = {n}: norm {}",
            a.norm()
        );
        let r = StateVector::<f64>::random(n, 42).unwrap();
        assert_eq!(r, StateVector::<f64>::random(n, 42).unwrap());
        assert!((r.norm() - 1.0).abs() <= 1e-14);
        assert!(a.fidelity(&a) > 1.0 - 1e-14);
    }
    // Reproducible across thread counts too (the normalisation is a parallel reduction).
    let a = in_pool(1, || StateVector::<C64>::random(17, 7).unwrap());
    let b = in_pool(2, || StateVector::<C64>::random(17, 7).unwrap());
    assert_eq!(a, b);
}

#[test]
fn random_states_use_both_real_and_imaginary_parts() {
    // For a complex Gaussian vector of dimension D, the weight of the real parts
    // f = Σ re² / Σ |ψ|² has mean ½ and standard deviation ≈ 1/(2√D).
    let n = 16;
    let d = (1usize << n) as f64;
    let psi = StateVector::<C64>::random(n, 2024).unwrap();
    let f: f64 = psi.as_slice().iter().map(|a| a.re * a.re).sum();
    let sigma = 1.0 / (2.0 * d.sqrt());
    assert!((f - 0.5).abs() < 4.0 * sigma, "f = {f}, σ = {sigma:.2e}");
    // Each component of the unit vector has variance ≈ 1/D (1/(2D) per part), so the mean of
    // the D amplitudes has |mean| of order 1/D.
    let mean: C64 = psi.as_slice().iter().sum::<C64>() / d;
    let sigma_mean = 1.0 / d;
    assert!(mean.norm() < 4.0 * sigma_mean, "mean {mean}");
}

// ---------------------------------------------------------------- memory checks

#[test]
fn sixty_qubits_is_an_error_not_an_abort() {
    // 16 bytes × 2^60 = 16 EiB.
    let e = check_alloc_u128(state_bytes(60, 16), "state of 60 qubits").unwrap_err();
    assert_eq!(e.needed, 16u128 << 60);
    let msg = e.to_string();
    assert!(
        msg.starts_with("state of 60 qubits needs 16.0 EiB but only "),
        "{msg}"
    );
    assert!(msg.ends_with("; use fewer qubits or free memory"), "{msg}");
    assert!(msg.contains(&human_bytes(e.available)), "{msg}");

    let e = StateVector::<C64>::random(60, 1).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("random state of 60 qubits needs 16.0 EiB"),
        "{e}"
    );
    let e = StateVector::<f64>::plus(60).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("state of 60 qubits needs 8.0 EiB"),
        "{e}"
    );
    let e = StateVector::<C64>::basis(60, 0).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("basis state of 60 qubits needs 16.0 EiB"),
        "{e}"
    );
    // Beyond u128 it saturates instead of overflowing.
    assert_eq!(state_bytes(130, 16), u128::MAX);
    assert_eq!(state_bytes(64, 16), 16u128 << 64);
    assert!(check_alloc_u128(state_bytes(130, 16), "x").is_err());
    // A small allocation passes.
    assert!(check_alloc_u128(state_bytes(10, 16), "small").is_ok());
}

#[test]
fn byte_counts_print_and_parse() {
    assert_eq!(human_bytes(0), "0 B");
    assert_eq!(human_bytes(1023), "1023 B");
    assert_eq!(human_bytes(1024), "1.0 KiB");
    assert_eq!(human_bytes(3 << 29), "1.5 GiB");
    assert_eq!(human_bytes(16u128 << 60), "16.0 EiB");
    assert_eq!(parse_bytes("8G"), Some(8 << 30));
    assert_eq!(parse_bytes("512m"), Some(512 << 20));
    assert_eq!(parse_bytes("1.5k"), Some(1536));
    assert_eq!(parse_bytes(" 1024 "), Some(1024));
    assert_eq!(parse_bytes("-1G"), None);
    assert_eq!(parse_bytes("lots"), None);
    assert_eq!(parse_bytes(""), None);
}

/// `H = J Z0 Z1 + h (X0 + X1)` on two qubits.
fn two_spin(j: f64, h: f64) -> PauliSum {
    let mut s = PauliSum::new(2);
    s.add(PauliString::parse("Z0 Z1").unwrap(), j);
    s.add(PauliString::parse("X0").unwrap(), h);
    s.add(PauliString::parse("X1").unwrap(), h);
    s
}

#[test]
fn gibbs_state_serves_density_levels_and_eigenbasis_views_alike() {
    use qep::state::Gibbs;
    let h = two_spin(1.0, 0.6);
    let t = 0.7;
    let g = Gibbs::new(&h, t).unwrap();
    assert_eq!((g.qubits(), g.dim()), (2, 4));
    // Free energy: F = −T log Σ e^{−E_n/T}, from the energies directly.
    let z: f64 = g.energies.iter().map(|e| (-e / t).exp()).sum();
    assert!(
        (g.free_energy + t * z.ln()).abs() < 1e-12,
        "{}",
        g.free_energy
    );
    // ⟨H⟩ three ways: the weights, Tr ρH (density matrix) and Σ p_n ⟨n|H|n⟩ (levels).
    let from_levels = g.expectation_levels(&h).unwrap();
    assert!((g.expectation(&h) - g.energy).abs() < 1e-12);
    assert!((from_levels - g.energy).abs() < 1e-12);
    // The faer density matrix and the DensityMatrix agree; the diagonal is a distribution.
    let m = g.density_matrix();
    let rho = g.rho();
    for r in 0..4 {
        for col in 0..4 {
            assert!((m[(r, col)] - rho.get(r, col)).norm() < 1e-12);
        }
    }
    let diag = g.diagonal();
    assert!((diag.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    for (b, p) in diag.iter().enumerate() {
        assert!((p - rho.get(b, b).re).abs() < 1e-12);
    }
    // H is diagonal in its own eigenbasis, with the energies on the diagonal.
    let he = g.eigenbasis_matrix(&h).unwrap();
    for n in 0..4 {
        assert!((he[(n, n)].re - g.energies[n]).abs() < 1e-10);
    }
    // Var(H) = ⟨H²⟩ − ⟨H⟩² from both covariances (they agree on a commuting pair).
    let var: f64 = g
        .weights
        .iter()
        .zip(&g.energies)
        .map(|(p, e)| p * (e - g.energy).powi(2))
        .sum();
    assert!((g.symmetric_covariance(&he, &he) - var).abs() < 1e-10);
    assert!((g.kubo_mori_covariance(&he, &he) - var).abs() < 1e-10);
    // The trace distance to itself is zero, to the maximally mixed state positive.
    assert!(g.distance(rho).unwrap() < 1e-12);
    let mixed = qep::state::DensityMatrix::from_entries(
        2,
        (0..16)
            .map(|i| {
                if i % 5 == 0 {
                    c(0.25, 0.0)
                } else {
                    c(0.0, 0.0)
                }
            })
            .collect(),
    );
    assert!(g.distance(&mixed).unwrap() > 0.1);
}

#[test]
fn gibbs_state_is_reachable_under_its_former_path_and_name() {
    let h = two_spin(0.5, 0.2);
    let old = qep::evolve::GibbsDensity::new(&h, 2.0).unwrap();
    let new = qep::state::Gibbs::new(&h, 2.0).unwrap();
    assert_eq!(old.energies, new.energies);
    assert_eq!(old.weights, new.weights);
    assert_eq!(old.rho(), new.rho());
}

/// The state's errors keep their words in the errors that wrap them: the evolution error of
/// the same variant, thermal EP's own wording for the dense limit and the temperature, and
/// the crate-wide error.
#[test]
fn state_errors_convert_with_their_messages() {
    use qep::ep::thermal::ThermalError;
    use qep::evolve::EvolveError;
    use qep::state::{DensityMatrix, Gibbs, StateError};

    let e = DensityMatrix::zeros(20).unwrap_err();
    assert!(matches!(e, StateError::Memory(_)), "{e:?}");
    let msg = e.to_string();
    let ev = EvolveError::from(e);
    assert!(
        matches!(ev, EvolveError::State(StateError::Memory(_))),
        "{ev:?}"
    );
    assert_eq!(ev.to_string(), msg);

    let mut h = PauliSum::new(13);
    h.add(p("X0 X12"), 0.3);
    let e = Gibbs::new(&h, 1.0).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Gibbs state: 13 qubits; limited to 12 (dense matrices)"
    );
    assert!(matches!(
        EvolveError::from(Gibbs::new(&h, 1.0).unwrap_err()),
        EvolveError::State(StateError::TooManyQubits {
            qubits: 13,
            max: 12,
            method: "Gibbs state"
        })
    ));
    assert_eq!(
        ThermalError::from(e).to_string(),
        "13 qubits: the dense Gibbs state is limited to 12 qubits"
    );

    let mut z = PauliSum::new(1);
    z.add(p("Z0"), 1.0);
    let e = Gibbs::new(&z, f64::INFINITY).unwrap_err();
    let want = "temperature T = inf is not valid; expected a finite number > 0";
    assert_eq!(e.to_string(), want);
    let lib: qep::Error = Gibbs::new(&z, 0.0).unwrap_err().into();
    assert_eq!(
        lib.to_string(),
        "temperature T = 0 is not valid; expected a finite number > 0"
    );
    assert_eq!(ThermalError::from(e).to_string(), want);
}

/// The allocator of qep's binaries: large blocks start on a cache line, keep their contents
/// through every kind of `realloc` (growing and shrinking, across the threshold both ways,
/// moved by the system or not), zeroed blocks are zero, and small or over-aligned layouts are
/// the system's. Checked against the bytes written, on blocks up to 64 MiB (past glibc's
/// `mmap` threshold).
#[test]
fn cache_line_allocator_aligns_large_blocks_and_keeps_their_contents() {
    use qep::state::memory::CacheLineAlloc;
    use std::alloc::{GlobalAlloc, Layout};
    let a = CacheLineAlloc;
    let pattern = |i: usize| (i.wrapping_mul(2654435761) >> 7) as u8;
    let sizes = [
        16usize,
        4095,
        4096,
        5000,
        1 << 16,
        (1 << 20) + 8,
        40 << 20,
        64 << 20,
    ];
    for &size in &sizes {
        for align in [8usize, 16, 64] {
            let l = Layout::from_size_align(size, align).unwrap();
            unsafe {
                let z = a.alloc_zeroed(l);
                assert!(!z.is_null());
                assert_eq!(z as usize % align, 0);
                if size >= CacheLineAlloc::FROM {
                    assert_eq!(z as usize % 64, 0, "size {size}");
                }
                let zs = std::slice::from_raw_parts(z, size);
                assert!(zs.iter().step_by(4093).all(|&b| b == 0) && zs[size - 1] == 0);
                a.dealloc(z, l);

                let p = a.alloc(l);
                assert!(!p.is_null());
                let fill = |q: *mut u8, from: usize, to: usize| {
                    let qs = std::slice::from_raw_parts_mut(q, to);
                    for (i, b) in qs.iter_mut().enumerate().skip(from) {
                        *b = pattern(i);
                    }
                };
                fill(p, 0, size);
                // Through every other size: grow, shrink, across the threshold both ways.
                let mut cur = (p, size);
                for &next in sizes.iter().rev().chain(&[size]) {
                    let q = a.realloc(cur.0, Layout::from_size_align(cur.1, align).unwrap(), next);
                    assert!(!q.is_null());
                    assert_eq!(q as usize % align, 0);
                    if next >= CacheLineAlloc::FROM {
                        assert_eq!(q as usize % 64, 0, "{} -> {next}", cur.1);
                    }
                    let kept = cur.1.min(next);
                    let qs = std::slice::from_raw_parts(q, kept);
                    for i in (0..kept).step_by(97).chain(kept.saturating_sub(64)..kept) {
                        assert_eq!(qs[i], pattern(i), "byte {i} after {} -> {next}", cur.1);
                    }
                    // Bytes past the old contents are unspecified: write the pattern again.
                    fill(q, kept, next);
                    cur = (q, next);
                }
                a.dealloc(cur.0, Layout::from_size_align(cur.1, align).unwrap());
            }
        }
    }
    // An over-aligned large layout is the system's, aligned as asked.
    let l = Layout::from_size_align(1 << 16, 4096).unwrap();
    unsafe {
        let p = a.alloc(l);
        assert_eq!(p as usize % 4096, 0);
        a.dealloc(p, l);
    }
    // What the test binary itself allocates goes through it too.
    let v = vec![1.0f64; 1 << 20];
    assert_eq!(v.as_ptr() as usize % 64, 0);
    let w = qep::state::memory::zeroed::<qep::C64>(1 << 18);
    assert_eq!(w.as_ptr() as usize % 64, 0);
}
