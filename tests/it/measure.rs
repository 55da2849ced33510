//! Tests for `measure`: qubit-wise commuting groups (partition, EP natural grouping, greedy vs
//! brute-force optimum), basis rotations against explicit 2×2 matrices and against
//! `expectation_pauli`, the shot sampler (χ², thread-count independence) and the estimators
//! (unbiasedness, per-shot variance `1 − ⟨P⟩²`, reported standard errors). Statistical
//! tolerances are k·σ computed in each test; seeds are fixed.

use qep::measure::{
    best_grouping, ep_natural_grouping, estimate_group, estimate_paulis, group_qubitwise,
    rotate_to_z, sample_probabilities, sample_state, Counts, Grouping, MeasureError, ShotEstimate,
};
use qep::pauli::{Letter, PauliString, PauliSum};
use qep::state::{expectation_pauli, StateVector};
use qep::C64;

use crate::oracle::{c, dagger, in_pool, mat2, matmul, max_abs_diff, random_string, rng};

fn p(s: &str) -> PauliString {
    PauliString::parse(s).unwrap()
}

/// Every group pairwise qubit-wise commuting, its basis carrying each member's letters, and
/// every input index present exactly once.
fn assert_valid_partition(g: &Grouping, strings: &[PauliString]) {
    let mut seen = vec![0usize; strings.len()];
    for grp in g.groups() {
        assert!(!grp.is_empty());
        assert_eq!(grp.members().len(), grp.strings().len());
        for (&i, &s) in grp.members().iter().zip(grp.strings()) {
            assert_eq!(strings[i], s, "member index points at its string");
            seen[i] += 1;
            for q in 0..64 {
                let l = s.letter(q);
                if l != Letter::I {
                    assert_eq!(grp.basis_letter(q), l, "basis letter on qubit {q}");
                }
            }
            for &t in grp.strings() {
                assert!(s.qubitwise_commutes_with(t), "{s} and {t} in one group");
            }
        }
    }
    assert!(
        seen.iter().all(|&k| k == 1),
        "each string exactly once: {seen:?}"
    );
    assert_eq!(g.n_strings(), strings.len());
}

/// Minimum number of QWC groups by exhaustive search (tiny cases only).
fn brute_force_groups(strings: &[PauliString]) -> usize {
    fn place(
        strings: &[PauliString],
        i: usize,
        groups: &mut Vec<Vec<PauliString>>,
        best: &mut usize,
    ) {
        if groups.len() >= *best {
            return;
        }
        if i == strings.len() {
            *best = groups.len();
            return;
        }
        let s = strings[i];
        for k in 0..groups.len() {
            if groups[k].iter().all(|&t| t.qubitwise_commutes_with(s)) {
                groups[k].push(s);
                place(strings, i + 1, groups, best);
                groups[k].pop();
            }
        }
        groups.push(vec![s]);
        place(strings, i + 1, groups, best);
        groups.pop();
    }
    let mut best = strings.len().max(1) + 1;
    place(strings, 0, &mut Vec::new(), &mut best);
    best.min(strings.len())
}

/// X_iX_j and Z_iZ_j on the nearest-neighbour bonds of a 3×3 grid (qubit = 3·row + col).
fn ep_grid_strings() -> Vec<PauliString> {
    let mut bonds = Vec::new();
    for r in 0..3 {
        for col in 0..3 {
            let q = 3 * r + col;
            if col + 1 < 3 {
                bonds.push((q, q + 1));
            }
            if r + 1 < 3 {
                bonds.push((q, q + 3));
            }
        }
    }
    let mut out = Vec::new();
    for &(i, j) in &bonds {
        out.push(p(&format!("X{i} X{j}")));
        out.push(p(&format!("Z{i} Z{j}")));
    }
    out
}

// ---------------------------------------------------------------- grouping

#[test]
fn groupings_partition_random_strings_into_qwc_groups() {
    let mut r = rng(11);
    for n in [1usize, 3, 6, 10] {
        let mut strings: Vec<PauliString> = (0..40).map(|_| random_string(&mut r, n)).collect();
        strings.push(strings[3]); // a duplicate
        strings.push(PauliString::IDENTITY);
        for g in [
            group_qubitwise(&strings),
            ep_natural_grouping(&strings),
            best_grouping(&strings),
        ] {
            assert_valid_partition(&g, &strings);
            assert!(g.n_groups() >= 1 && g.n_groups() <= strings.len());
        }
    }
}

#[test]
fn ep_grid_parameters_form_two_natural_groups() {
    let strings = ep_grid_strings();
    assert_eq!(strings.len(), 24, "12 bonds, XX and ZZ");
    // Premise: XX and ZZ on a shared qubit do not qubit-wise commute, so one group is impossible.
    assert!(!p("X0 X1").qubitwise_commutes_with(p("Z1 Z2")));
    let g = ep_natural_grouping(&strings);
    assert_valid_partition(&g, &strings);
    assert_eq!(g.n_groups(), 2);
    assert_eq!(g.groups()[0].basis(), p("X0 X1 X2 X3 X4 X5 X6 X7 X8"));
    assert_eq!(g.groups()[1].basis(), p("Z0 Z1 Z2 Z3 Z4 Z5 Z6 Z7 Z8"));
    assert_eq!(g.groups()[0].len(), 12);
    let best = best_grouping(&strings);
    assert_eq!(best.n_groups(), 2);
    // The greedy colouring is valid too, with at least the optimum of 2 groups.
    let greedy = group_qubitwise(&strings);
    assert_valid_partition(&greedy, &strings);
    assert!(greedy.n_groups() >= 2);
}

#[test]
fn greedy_colouring_against_brute_force_on_tiny_cases() {
    let mut r = rng(5);
    let (mut cases, mut optimal) = (0, 0);
    for n in [2usize, 3] {
        for m in 1..=7 {
            for _ in 0..30 {
                let strings: Vec<PauliString> = (0..m).map(|_| random_string(&mut r, n)).collect();
                let greedy = group_qubitwise(&strings).n_groups();
                let opt = brute_force_groups(&strings);
                assert!(greedy <= strings.len());
                assert!(greedy >= opt, "greedy {greedy} below the optimum {opt}");
                cases += 1;
                optimal += usize::from(greedy == opt);
            }
        }
    }
    eprintln!("greedy optimal on {optimal}/{cases} tiny cases");
    assert!(
        optimal * 100 >= 95 * cases,
        "greedy optimal on {optimal}/{cases}"
    );
    // A case where the optimum is known: X0, Z0, Y0 are pairwise incompatible, X1 fits anywhere.
    let s = [p("X0"), p("Z0"), p("Y0"), p("X1")];
    assert_eq!(brute_force_groups(&s), 3);
    assert_eq!(group_qubitwise(&s).n_groups(), 3);
}

// ---------------------------------------------------------------- basis rotations

#[test]
fn rotations_are_h_and_h_sdagger_as_2x2_matrices() {
    let s = std::f64::consts::FRAC_1_SQRT_2;
    let h = [c(s, 0.0), c(s, 0.0), c(s, 0.0), c(-s, 0.0)];
    let sdg = [c(1.0, 0.0), c(0.0, 0.0), c(0.0, 0.0), c(0.0, -1.0)];
    let hs = matmul(&h, &sdg, 2); // apply S† first, then H
    for (letter, u) in [
        ("X0", h.to_vec()),
        ("Y0", hs.clone()),
        ("Z0", mat2('I').to_vec()),
    ] {
        // Columns of the rotation = images of |0⟩ and |1⟩.
        let mut got = vec![c(0.0, 0.0); 4];
        for col in 0..2 {
            let mut v = vec![c(0.0, 0.0); 2];
            v[col] = c(1.0, 0.0);
            rotate_to_z(p(letter), &mut v);
            got[col] = v[0];
            got[2 + col] = v[1];
        }
        assert!(max_abs_diff(&got, &u) < 1e-15, "{letter}: {got:?}");
        // U L U† = Z.
        let l = mat2(letter.chars().next().unwrap());
        let conj = matmul(&matmul(&u, &l, 2), &dagger(&u, 2), 2);
        assert!(
            max_abs_diff(&conj, &mat2('Z')) < 1e-15,
            "{letter}: {conj:?}"
        );
    }
    assert!(max_abs_diff(&hs, &[c(s, 0.0), c(0.0, -s), c(s, 0.0), c(0.0, s)]) < 1e-15);
}

#[test]
fn rotated_z_parities_reproduce_pauli_expectations() {
    let mut r = rng(21);
    // n = 16 exercises the parallel paths (2^14-amplitude chunks, split blocks for q ≥ 14).
    for (n, seed) in [(1usize, 1u64), (3, 2), (5, 3), (8, 4), (16, 5)] {
        let psi = StateVector::<C64>::random(n, seed).unwrap();
        let mut strings: Vec<PauliString> = (0..12).map(|_| random_string(&mut r, n)).collect();
        strings.push(PauliString::from_masks((1 << n) - 1, (1 << n) - 1)); // all Y
        strings.push(PauliString::from_masks((1 << n) - 1, 0)); // all X
        let g = group_qubitwise(&strings);
        for grp in g.groups() {
            let mut rotated = psi.as_slice().to_vec();
            grp.rotate(&mut rotated);
            for &s in grp.strings() {
                let want = expectation_pauli(psi.as_slice(), s).re;
                let z = PauliString::from_masks(0, s.support());
                let got = expectation_pauli(&rotated, z);
                assert!(got.im.abs() < 1e-12);
                assert!(
                    (got.re - want).abs() < 1e-12,
                    "n={n} {s}: {} vs {want}",
                    got.re
                );
            }
        }
    }
}

// ---------------------------------------------------------------- sampler

/// χ² statistic of counts against probabilities.
fn chi2(counts: &Counts, probs: &[f64]) -> f64 {
    let s = counts.shots() as f64;
    probs
        .iter()
        .enumerate()
        .map(|(b, &q)| {
            let d = counts.get(b as u64) as f64 - s * q;
            d * d / (s * q)
        })
        .sum()
}

/// 99.9 % quantile of χ² with 31 degrees of freedom (scipy.stats.chi2.ppf(0.999, 31) = 61.098).
const CHI2_31_999: f64 = 61.098;

#[test]
fn sampled_frequencies_pass_chi_squared_against_born_rule() {
    let psi = StateVector::<C64>::random(5, 77).unwrap();
    let probs: Vec<f64> = psi.as_slice().iter().map(|a| a.norm_sqr()).collect();
    let counts = sample_state(psi.as_slice(), 200_000, 2024).unwrap();
    assert_eq!(counts.shots(), 200_000);
    assert_eq!(
        counts.outcomes().iter().map(|&(_, k)| k).sum::<u64>(),
        200_000
    );
    assert!(counts.outcomes().windows(2).all(|w| w[0].0 < w[1].0));
    let x2 = chi2(&counts, &probs);
    eprintln!("chi2 = {x2:.2} (31 dof, 99.9% quantile {CHI2_31_999})");
    assert!(x2 < CHI2_31_999, "chi2 = {x2}");
    // Premise: the test can fail — the same counts against another state's |ψ|² are rejected.
    let other = StateVector::<C64>::random(5, 78).unwrap();
    let probs2: Vec<f64> = other.as_slice().iter().map(|a| a.norm_sqr()).collect();
    assert!(chi2(&counts, &probs2) > 100.0 * CHI2_31_999);
    // A probability vector (a density matrix's diagonal) samples the same way, same bits.
    let from_p = sample_probabilities(&probs, 200_000, 2024).unwrap();
    assert_eq!(from_p, counts);
}

#[test]
fn counts_do_not_depend_on_the_thread_count() {
    // 16 qubits (several prefix-sum chunks), 300 000 shots (five 2^16-draw blocks).
    let psi = StateVector::<C64>::random(16, 3).unwrap();
    let one = in_pool(1, || sample_state(psi.as_slice(), 300_000, 9).unwrap());
    let two = in_pool(2, || sample_state(psi.as_slice(), 300_000, 9).unwrap());
    assert_eq!(one, two);
    let other_seed = sample_state(psi.as_slice(), 300_000, 10).unwrap();
    assert_ne!(one, other_seed, "premise: the seed matters");
}

#[test]
fn basis_states_and_bitstrings() {
    let psi = StateVector::<C64>::basis(3, 5).unwrap();
    let counts = sample_state(psi.as_slice(), 1000, 1).unwrap();
    assert_eq!(counts.outcomes(), &[(5, 1000)]);
    assert_eq!(Counts::bitstring(1, 3), "001");
    assert_eq!(counts.to_bitstring_map(3).get("101"), Some(&1000));
    assert_eq!(counts.expand().unwrap().len(), 1000);
    // Zero-probability outcomes never appear, even at the ends of the distribution.
    let probs = [0.0, 0.5, 0.0, 0.5, 0.0];
    let counts = sample_probabilities(&probs, 100_000, 4).unwrap();
    assert_eq!(
        counts.to_map().keys().copied().collect::<Vec<_>>(),
        vec![1, 3]
    );
}

// ---------------------------------------------------------------- estimators

#[test]
fn estimator_is_unbiased_with_per_shot_variance_one_minus_mean_squared() {
    let psi = StateVector::<C64>::random(5, 31).unwrap();
    let strings = [p("X0 Y2 Z4"), p("Y1 Y3"), p("Z0 Z1"), p("X2")];
    let exact: Vec<f64> = strings.iter().map(|&s| psi.expectation(s)).collect();
    let (reps, shots) = (1000usize, 400u64);
    let mut sum = vec![0.0; strings.len()];
    let mut sum2 = vec![0.0; strings.len()];
    for seed in 0..reps as u64 {
        let est = estimate_paulis(&psi, &strings, shots, seed).unwrap();
        for (k, e) in est.iter().enumerate() {
            assert_eq!(e.shots, shots);
            sum[k] += e.mean;
            sum2[k] += e.mean * e.mean;
        }
    }
    let r = reps as f64;
    for k in 0..strings.len() {
        let var1 = 1.0 - exact[k] * exact[k]; // exact per-shot variance
        assert!(var1 > 0.1, "premise: a non-trivial variance");
        let mean = sum[k] / r;
        let sigma_mean = (var1 / shots as f64 / r).sqrt();
        let z = (mean - exact[k]) / sigma_mean;
        // Sample variance of the R estimates, times S, estimates the per-shot variance; its
        // relative standard deviation is √(2/(R−1)) for nearly Gaussian estimates.
        let var_est = (sum2[k] - r * mean * mean) / (r - 1.0) * shots as f64;
        let rel = var_est / var1 - 1.0;
        let tol = 5.0 * (2.0 / (r - 1.0)).sqrt();
        eprintln!(
            "{}: exact {:+.4}, mean {:+.4} ({z:+.2}σ), per-shot var {var_est:.4} vs {var1:.4} ({:+.1}%, tol {:.0}%)",
            strings[k], exact[k], mean, 100.0 * rel, 100.0 * tol
        );
        assert!(z.abs() < 5.0, "{}: bias {z}σ", strings[k]);
        assert!(rel.abs() < tol, "{}: variance off by {rel}", strings[k]);
    }
}

#[test]
fn reported_standard_error_matches_the_spread_over_seeds() {
    let psi = StateVector::<C64>::random(4, 8).unwrap();
    let strings = [p("X0 X1"), p("Z2 Z3"), p("Y0 Z1 X3")];
    let (reps, shots) = (200usize, 1000u64);
    let mut means = vec![Vec::new(); strings.len()];
    let mut errs = vec![0.0; strings.len()];
    for seed in 0..reps as u64 {
        for (k, e) in estimate_paulis(&psi, &strings, shots, 1000 + seed)
            .unwrap()
            .iter()
            .enumerate()
        {
            means[k].push(e.mean);
            errs[k] += e.std_err / reps as f64;
        }
    }
    for k in 0..strings.len() {
        let m = means[k].iter().sum::<f64>() / reps as f64;
        let sd =
            (means[k].iter().map(|v| (v - m).powi(2)).sum::<f64>() / (reps as f64 - 1.0)).sqrt();
        let rel = errs[k] / sd - 1.0;
        eprintln!(
            "{}: reported std_err {:.5}, empirical {sd:.5} ({:+.1}%)",
            strings[k],
            errs[k],
            100.0 * rel
        );
        assert!(rel.abs() < 0.2, "{}: {rel}", strings[k]);
    }
}

#[test]
fn estimate_group_counts_parities_on_the_support() {
    // Counts by hand: 3 shots of b=0b011, 1 of b=0b001.
    let psi = StateVector::<C64>::basis(2, 3).unwrap();
    let counts = sample_state(psi.as_slice(), 4, 0).unwrap();
    let est = estimate_group(&counts, &[p("Z0"), p("Z0 Z1"), p("I")]).unwrap();
    assert_eq!(est[0].mean, -1.0);
    assert_eq!(est[1].mean, 1.0);
    assert_eq!(est[2].mean, 1.0);
    assert_eq!(est[0].std_err, 0.0);
    let e = ShotEstimate::from_parities(4, 1).unwrap();
    assert_eq!(e.mean, 0.5);
    assert!((e.std_err - (0.75f64 / 3.0).sqrt()).abs() < 1e-15);
    let json = serde_json::to_string(&e).unwrap();
    assert_eq!(json, r#"{"mean":0.5,"std_err":0.5,"shots":4}"#);
}

#[test]
fn measure_errors_name_their_numbers() {
    let psi = StateVector::<C64>::random(2, 1).unwrap();
    let e = estimate_paulis(&psi, &[p("X3")], 100, 0).unwrap_err();
    assert_eq!(
        e,
        MeasureError::StringTooWide {
            string: "X3".into(),
            qubits: 2
        }
    );
    assert_eq!(
        e.to_string(),
        "Pauli string `X3` acts beyond the state's 2 qubits"
    );
    let e = estimate_paulis(&psi, &[p("X1")], 1, 0).unwrap_err();
    assert_eq!(
        e.to_string(),
        "1 shot(s) per group: a standard error needs at least 2"
    );
    let e = sample_probabilities(&[0.5, -0.1, 0.6], 10, 0).unwrap_err();
    assert_eq!(
        e.to_string(),
        "probability -1e-1 at index 1 is negative or not finite"
    );
    let e = sample_probabilities(&[0.0, 0.0], 10, 0).unwrap_err();
    assert_eq!(
        e.to_string(),
        "total probability 0e0 is not positive and finite; cannot sample"
    );
    let e: qep::Error = e.into();
    assert!(e.to_string().starts_with("total probability"));
    // A PauliSum's terms group the same way as the list of its strings.
    let mut h = PauliSum::new(3);
    h.add(p("X0 X1"), 1.0);
    h.add(p("Z1 Z2"), 1.0);
    assert_eq!(qep::measure::group_sum(&h).n_groups(), 2);
}

#[test]
fn ten_million_shots_stay_within_five_sigma_per_outcome() {
    let psi = StateVector::<C64>::random(3, 12).unwrap();
    let shots = 10_000_000u64;
    let counts = sample_state(psi.as_slice(), shots, 6).unwrap();
    assert_eq!(
        counts.outcomes().iter().map(|&(_, k)| k).sum::<u64>(),
        shots
    );
    for (b, a) in psi.as_slice().iter().enumerate() {
        let q = a.norm_sqr();
        let sigma = (shots as f64 * q * (1.0 - q)).sqrt();
        let dev = counts.get(b as u64) as f64 - shots as f64 * q;
        assert!(dev.abs() < 5.0 * sigma, "outcome {b}: {:.1}σ", dev / sigma);
    }
}

#[test]
fn welford_matches_the_two_pass_mean_and_standard_error_on_offset_data() {
    // A large offset is where a one-pass Σx² − (Σx)²/M loses every digit; Welford keeps them.
    let xs: Vec<f64> = (0..1000)
        .map(|i| 1e9 + ((i * 7919) % 1000) as f64 * 1e-3)
        .collect();
    let m = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / m;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (m - 1.0);
    let mut w = qep::measure::stats::Welford::default();
    xs.iter().for_each(|&x| w.push(x));
    assert_eq!(w.count(), 1000);
    assert!((w.mean() - mean).abs() < 1e-6, "{} vs {mean}", w.mean());
    assert!(
        (w.variance() - var).abs() < 1e-6 * var,
        "{} vs {var}",
        w.variance()
    );
    assert!((w.sem() - (var / m).sqrt()).abs() < 1e-6 * (var / m).sqrt());
    let mut one = qep::measure::stats::Welford::default();
    one.push(3.0);
    assert_eq!((one.mean(), one.variance(), one.sem()), (3.0, 0.0, 0.0));
}
