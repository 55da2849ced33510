//! Gibbs expectations by typicality: the Chebyshev exponential against a
//! dense one, typicality estimates against the dense Gibbs state within their standard errors,
//! the standard error's `1/√(R·2^N)` scaling at high temperature, and the thermal gradients
//! computed by typicality against their dense values.

use std::path::Path;

use crate::ep_engine::thermal_ep;
use qep::ep::thermal::{ThermalMethod, ThermalParams};
use qep::ep::typicality::{
    gauss_legendre, kubo_mori_nodes, kubo_mori_samples, scaled_bessel_i, spectral_bounds,
    thermal_expectations, ChebyshevExp, TypicalityError, TypicalityParams, KUBO_MORI_NODES,
};
use qep::hamiltonian::{parse_str, Example, ThermalGradient};
use qep::linalg::eigh_dense;
use qep::operator::XMaskOperator;
use qep::pauli::{PauliString, PauliSum};
use qep::state::Gibbs;
use qep::state::StateVector;
use qep::C64;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A generic `n`-qubit chain: transverse field, random Z fields, ZZ and XX neighbours, and an
/// `X_i Y_{i+1}` term (complex in the Z basis).
fn chain(n: usize, seed: u64) -> PauliSum {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let mut h = PauliSum::new(n);
    let mut add = |s: String, c: f64| h.add(PauliString::parse(&s).unwrap(), c);
    for i in 0..n {
        add(format!("X{i}"), -1.0);
        add(format!("Z{i}"), r.random_range(-0.5..0.5));
        if i + 1 < n {
            add(format!("Z{i} Z{}", i + 1), r.random_range(-1.0..1.0));
            add(format!("X{i} X{}", i + 1), r.random_range(-0.5..0.5));
            add(format!("X{i} Y{}", i + 1), r.random_range(-0.3..0.3));
        }
    }
    h
}

fn single(n: usize, s: &str) -> PauliSum {
    let mut a = PauliSum::new(n);
    a.add(PauliString::parse(s).unwrap(), 1.0);
    a
}

#[test]
fn scaled_bessel_matches_reference_values() {
    // e^{−1} I_0(1), e^{−1} I_1(1), e^{−10} I_5(10) (Abramowitz & Stegun, table 9.8/9.11).
    let b = scaled_bessel_i(1.0, 4);
    assert!((b[0] - 1.266_065_877_752_008 * (-1f64).exp()).abs() < 1e-15);
    assert!((b[1] - 0.565_159_103_992_485 * (-1f64).exp()).abs() < 1e-15);
    let b = scaled_bessel_i(10.0, 8);
    assert!(
        (b[5] - 777.188_286_403_259 * (-10f64).exp()).abs() < 1e-13,
        "{}",
        b[5]
    );
    // Large argument: the sum rule and the asymptote e^{−x} I_0(x) ≈ (1 + 1/8x)/√(2πx).
    let b = scaled_bessel_i(5000.0, 4000);
    let s: f64 = b[0] + 2.0 * b[1..].iter().sum::<f64>();
    assert!((s - 1.0).abs() < 1e-12, "{s}");
    let asym = (1.0 + 1.0 / 40000.0) / (2.0 * std::f64::consts::PI * 5000.0).sqrt();
    assert!((b[0] / asym - 1.0).abs() < 1e-7, "{} vs {asym}", b[0]);
    assert_eq!(scaled_bessel_i(0.0, 3), vec![1.0, 0.0, 0.0]);
}

#[test]
fn chebyshev_exponential_matches_a_dense_one() {
    let n = 8;
    let h = chain(n, 11);
    let op = XMaskOperator::new(&h).unwrap();
    assert!(!op.is_real(), "premise: a complex operator");
    let dim = op.dim();
    let (e, v) = eigh_dense(&op.to_dense().unwrap(), dim).unwrap();
    let bounds = spectral_bounds(&h, &op, 80, 3).unwrap();
    eprintln!(
        "spectrum [{:.6}, {:.6}], Ritz [{:.6}, {:.6}] after {} steps, bounds [{:.4}, {:.4}]",
        e[0],
        e[dim - 1],
        bounds.ritz_min,
        bounds.ritz_max,
        bounds.steps,
        bounds.lower,
        bounds.upper
    );
    assert!(bounds.lower <= e[0] && bounds.upper >= e[dim - 1]);
    assert!((bounds.ritz_min - e[0]).abs() < 1e-3, "ground Ritz value");
    let psi = StateVector::<C64>::random(n, 5).unwrap().into_vec();
    for tau in [0.0, 0.01, 0.5, 2.5, 10.0, 40.0] {
        let cheb = ChebyshevExp::new(bounds, tau, 1e-13, dim).unwrap();
        let mut out = vec![C64::new(0.0, 0.0); dim];
        cheb.apply_into(&op, &psi, &mut out).unwrap();
        // Dense: Σ_n e^{−τ(E_n − E_s)} ⟨n|ψ⟩ |n⟩.
        let mut exact = vec![C64::new(0.0, 0.0); dim];
        for (en, vn) in e.iter().zip(&v) {
            let ov: C64 = vn.iter().zip(&psi).map(|(a, b)| a.conj() * b).sum();
            let f = (-tau * (en - cheb.shift)).exp();
            for (x, a) in exact.iter_mut().zip(vn) {
                *x += a * ov * f;
            }
        }
        let err: f64 = out
            .iter()
            .zip(&exact)
            .map(|(a, b)| (a - b).norm_sqr())
            .sum::<f64>()
            .sqrt();
        let nrm: f64 = exact.iter().map(|a| a.norm_sqr()).sum::<f64>().sqrt();
        eprintln!(
            "τ = {tau:>5}: order {:>4}, truncation bound {:.1e}, relative error {:.2e}",
            cheb.order(),
            cheb.truncation,
            err / nrm
        );
        assert!(
            err / nrm < 1e-10,
            "τ = {tau}: relative error {:.2e}",
            err / nrm
        );
    }
}

/// One observable: name, typicality estimate, its jackknife σ, the dense value, and the σ
/// predicted from the dense state (see [`predicted_sigma`]).
type Row = (String, f64, f64, f64, f64);

/// The standard error of the ratio estimator to first order (delta method): with complex
/// Gaussian `r`, `Var⟨r|B|r⟩ = Tr B²`, here `B = ρ^{1/2}(A − ⟨A⟩)ρ^{1/2}`, so
/// `σ² = Σ_{m,n} p_m p_n |A_{mn} − ⟨A⟩δ_{mn}|² / R`. At high T (`p = 1/2^N`) this is
/// `(⟨A²⟩ − ⟨A⟩²)/(R·2^N)` on average; as `T → 0` with a unique ground state it vanishes
/// (every `φ_r` is the ground state).
fn predicted_sigma(g: &Gibbs, a: &PauliSum, mean: f64, r: usize) -> f64 {
    let m = g.eigenbasis_matrix(a).unwrap();
    let d = g.dim();
    let mut s = 0.0;
    for i in 0..d {
        for j in 0..d {
            let x = m[(i, j)]
                - if i == j {
                    C64::new(mean, 0.0)
                } else {
                    C64::new(0.0, 0.0)
                };
            s += g.weights[i] * g.weights[j] * x.norm_sqr();
        }
    }
    (s / r as f64).sqrt()
}

/// Typicality vs dense for the observables of `chain(n)`, one [`Row`] per observable.
fn compare_at(n: usize, t: f64, samples: usize, seed: u64) -> Vec<Row> {
    let h = chain(n, 21);
    let names = ["Z0", "X1 X2", "Z3 Z4", "X0 Y1", "Y2 Y3 Z5"];
    let mut obs: Vec<PauliSum> = names.iter().map(|s| single(n, s)).collect();
    obs.push(h.clone());
    let est = thermal_expectations(
        &h,
        &obs,
        t,
        &TypicalityParams {
            samples,
            seed,
            ..TypicalityParams::default()
        },
    )
    .unwrap();
    let g = Gibbs::new(&h, t).unwrap();
    names
        .iter()
        .map(|s| s.to_string())
        .chain(["H".to_string()])
        .zip(&obs)
        .enumerate()
        .map(|(j, (name, a))| {
            let exact = g.expectation_levels(a).unwrap();
            (
                name,
                est.values[j],
                est.std_err[j],
                exact,
                predicted_sigma(&g, a, exact, samples),
            )
        })
        .collect()
}

/// Root mean square of the standard errors of the Pauli observables (not `H`).
fn rms_sigma(rows: &[Row]) -> f64 {
    let p = &rows[..rows.len() - 1];
    (p.iter().map(|r| r.2 * r.2).sum::<f64>() / p.len() as f64).sqrt()
}

#[test]
fn typicality_agrees_with_the_dense_gibbs_state_within_five_sigma() {
    let r = 16;
    for n in [8, 10] {
        for t in [0.1, 0.5, 1.0, 4.0] {
            let rows = compare_at(n, t, r, 7);
            for (name, v, s, ex, pred) in &rows {
                let z = (v - ex) / s;
                eprintln!(
                    "N = {n:>2} T = {t:<3} ⟨{name}⟩: typicality {v:+.6} ± {s:.2e} (predicted \
                     {pred:.2e}), dense {ex:+.6}, {z:+.2}σ, σ·√(R·2^N) = {:.3}",
                    s * ((r << n) as f64).sqrt()
                );
                assert!(*s > 0.0 && s.is_finite(), "a standard error");
                assert!(z.abs() < 5.0, "N = {n} T = {t} ⟨{name}⟩: {z:.2}σ off");
                // The jackknife σ (R = 16: ±20 % itself for Gaussian samples, more for the
                // skewed ones of few effective states) against the delta-method prediction.
                assert!(
                    (1.0 / 3.0..3.0).contains(&(s / pred)),
                    "N = {n} T = {t} ⟨{name}⟩: σ {s:.2e} vs predicted {pred:.2e}"
                );
            }
        }
    }
}

#[test]
fn standard_error_falls_like_one_over_root_r_times_dimension() {
    // High temperature: D_eff ≈ 2^N, so σ ≈ c/√(R·2^N) with c = O(1) for a Pauli string.
    let t = 4.0;
    let s8 = rms_sigma(&compare_at(8, t, 16, 3));
    let s10 = rms_sigma(&compare_at(10, t, 16, 3));
    let s10_4r = rms_sigma(&compare_at(10, t, 64, 3));
    let c = |s: f64, n: usize, r: usize| s * ((r << n) as f64).sqrt();
    eprintln!(
        "RMS σ: N = 8, R = 16: {s8:.3e} (c = {:.3}); N = 10, R = 16: {s10:.3e} (c = {:.3}); \
         N = 10, R = 64: {s10_4r:.3e} (c = {:.3}); ratios {:.2} (N: 8 → 10), {:.2} (R: 16 → 64)",
        c(s8, 8, 16),
        c(s10, 10, 16),
        c(s10_4r, 10, 64),
        s8 / s10,
        s10 / s10_4r
    );
    for (ratio, what) in [(s8 / s10, "N 8 → 10"), (s10 / s10_4r, "R 16 → 64")] {
        assert!(
            (1.4..2.8).contains(&ratio),
            "{what}: σ ratio {ratio:.2}, expected ≈ 2"
        );
    }
    for (s, n, r) in [(s8, 8, 16), (s10, 10, 16), (s10_4r, 10, 64)] {
        let k = c(s, n, r);
        assert!(
            (0.3..3.0).contains(&k),
            "σ·√(R·2^N) = {k:.3} at N = {n}, R = {r}"
        );
    }
}

/// An 8-qubit quantum network (input 0, output 4 in the middle): trainable XX and ZZ on the
/// chain, a transverse field and a random Z field on every qubit.
fn network() -> qep::hamiltonian::Model {
    let mut r = ChaCha8Rng::seed_from_u64(9);
    let mut y = String::from("qubits: 8\ninputs: [0]\noutputs: [4]\nparams:\n");
    for i in 0..7 {
        for l in ["X", "Z"] {
            let v: f64 = r.random_range(-0.8..0.8);
            y.push_str(&format!(
                "  - {{pauli: \"{l}{i} {l}{}\", value: {v}}}\n",
                i + 1
            ));
        }
    }
    y.push_str("terms:\n");
    for q in 0..8 {
        let b: f64 = r.random_range(-0.6..0.6);
        y.push_str(&format!(
            "  - {{pauli: X{q}, coeff: -0.7}}\n  - {{pauli: Z{q}, coeff: {b}}}\n"
        ));
    }
    parse_str(&y, Path::new("network8.yaml")).unwrap()
}

#[test]
fn typicality_gradients_agree_with_dense_ones() {
    let m = network();
    let ex = Example {
        inputs: vec![0.8],
        targets: vec![1.0],
    };
    let theta = m.theta();
    let (t, beta) = (1.0, 0.05);
    for est in [
        ThermalGradient::Clamped,
        ThermalGradient::Covariance,
        ThermalGradient::KuboMori,
    ] {
        let mut p = ThermalParams::new(t, est, 17);
        p.method = ThermalMethod::Dense;
        let dense = thermal_ep(&m, &theta, &ex, &p, beta).unwrap();
        p.method = ThermalMethod::Typicality;
        p.typicality.samples = 32;
        let typ = thermal_ep(&m, &theta, &ex, &p, beta).unwrap();
        let sd = typ.std_err.clone().unwrap();
        let mut worst = 0.0f64;
        for (k, &sk) in sd.iter().enumerate() {
            let z = (typ.gradient[k] - dense.gradient[k]) / sk;
            worst = worst.max(z.abs());
            assert!(
                z.abs() < 5.0,
                "{est:?} {}: typicality {} ± {}, dense {}",
                m.params[k].label,
                typ.gradient[k],
                sk,
                dense.gradient[k]
            );
        }
        let norm = dense.gradient.iter().map(|g| g * g).sum::<f64>().sqrt();
        let mean_sd = sd.iter().sum::<f64>() / sd.len() as f64;
        eprintln!(
            "{est:?}: ‖g_dense‖ = {norm:.3e}, mean σ = {mean_sd:.2e}, worst deviation {worst:.2}σ"
        );
        assert!(
            mean_sd < 0.2 * norm,
            "premise: σ {mean_sd:.2e} small against ‖g‖ {norm:.2e}"
        );
        assert_eq!(typ.method, ThermalMethod::Typicality);
    }
}

#[test]
fn errors_name_their_numbers() {
    let h = chain(4, 1);
    let z = single(4, "Z0");
    let p = |samples| TypicalityParams {
        samples,
        ..TypicalityParams::default()
    };
    let e = thermal_expectations(&h, std::slice::from_ref(&z), 1.0, &p(1)).unwrap_err();
    assert!(matches!(e, TypicalityError::TooFewSamples { samples: 1 }));
    assert_eq!(
        e.to_string(),
        "1 random vector(s): typicality needs at least 2 for a standard error"
    );
    let e = thermal_expectations(&h, std::slice::from_ref(&z), -1.0, &p(4)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "temperature = -1 is not valid; expected a finite number > 0"
    );
    let e = thermal_expectations(&h, &[z, single(3, "Z0")], 1.0, &p(4)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "observable 1 acts on 3 qubits; the Hamiltonian on 4"
    );
    let mut skew = PauliSum::new(2);
    skew.add(PauliString::parse("X0").unwrap(), C64::new(0.0, 1.0));
    let e = thermal_expectations(&skew, &[], 1.0, &p(4)).unwrap_err();
    assert!(matches!(e, TypicalityError::NotHermitian), "{e:?}");

    let e: qep::Error = TypicalityError::TooFewSamples { samples: 0 }.into();
    assert!(e.to_string().contains("at least 2"), "{e}");
}

#[test]
#[ignore = "timing figure for the report: cargo test --release --test it -- --ignored typicality_speed"]
fn typicality_speed() {
    for n in [16, 18, 20] {
        let h = chain(n, 5);
        let obs = vec![single(n, "Z0"), single(n, "X3 X4"), h.clone()];
        for t in [1.0, 0.25] {
            let est = thermal_expectations(
                &h,
                &obs,
                t,
                &TypicalityParams {
                    samples: 4,
                    ..TypicalityParams::default()
                },
            )
            .unwrap();
            eprintln!(
                "N = {n}, T = {t}, R = 4: {:.2} s, order {}, {} matvecs, ⟨Z0⟩ = {:.4} ± {:.1e}, \
                 ⟨H⟩/N = {:.4} ± {:.1e}",
                est.seconds,
                est.order,
                est.matvecs,
                est.values[0],
                est.std_err[0],
                est.values[2] / n as f64,
                est.std_err[2] / n as f64
            );
        }
    }
}

#[test]
fn gauss_legendre_is_exact_to_degree_two_n_minus_one() {
    for n in [1, 2, 5, 8, 13] {
        let q = gauss_legendre(n);
        assert_eq!(q.len(), n);
        assert!(q.windows(2).all(|w| w[0].0 < w[1].0), "ascending nodes");
        for deg in 0..2 * n {
            let got: f64 = q.iter().map(|(x, w)| w * x.powi(deg as i32)).sum();
            let want = if deg % 2 == 1 {
                0.0
            } else {
                2.0 / (deg as f64 + 1.0)
            };
            assert!(
                (got - want).abs() < 1e-14,
                "n = {n}, x^{deg}: {got} vs {want}"
            );
        }
        // Degree 2n is not integrated exactly (the rule has n points).
        let got: f64 = q.iter().map(|(x, w)| w * x.powi(2 * n as i32)).sum();
        assert!(
            (got - 2.0 / (2.0 * n as f64 + 1.0)).abs() > 1e-12,
            "n = {n}"
        );
    }
    // The Kubo–Mori rule: nodes in (½, 1), weights summing to 1.
    let km = kubo_mori_nodes(KUBO_MORI_NODES);
    assert!(km.iter().all(|&(s, w)| s > 0.5 && s < 1.0 && w > 0.0));
    assert!((km.iter().map(|p| p.1).sum::<f64>() - 1.0).abs() < 1e-14);
}

/// The quadrature alone, on the dense Gibbs state: `Σ_j w_j Re Tr(ρ^{s_j} P ρ^{1−s_j} C)`
/// with the default nodes against the exact (logarithmic-mean) Kubo–Mori covariance, for every
/// parameter of the 8-qubit network at T = 1 and 0.3 — the test that chose the node count.
#[test]
fn kubo_mori_quadrature_matches_the_log_mean_on_the_dense_state() {
    let m = network();
    let ex = Example {
        inputs: vec![0.8],
        targets: vec![1.0],
    };
    let h = m.hamiltonian(&m.theta(), Some(&ex), 0.0).unwrap();
    let c = m.cost_operator(&ex.targets);
    // (T, nodes, bound on the error): the default rule is exact to rounding at T = 1 and to
    // 1e-6 at T = 0.3; four nodes at T = 0.3 are visibly off (so the test can fail).
    for (t, nodes, tol) in [
        (1.0, KUBO_MORI_NODES, 1e-9),
        (0.3, KUBO_MORI_NODES, 1e-6),
        (0.3, 4, f64::INFINITY),
    ] {
        let g = Gibbs::new(&h, t).unwrap();
        let c_eig = g.eigenbasis_matrix(&c).unwrap();
        let p = &g.weights;
        let dim = p.len();
        let q = kubo_mori_nodes(nodes);
        let mut worst = 0.0f64;
        for par in &m.params {
            let p_eig = g.eigenbasis_matrix(&par.operator(m.qubits)).unwrap();
            let exact = g.kubo_mori_covariance(&p_eig, &c_eig);
            let mut integral = 0.0;
            for &(s, w) in &q {
                let mut f = 0.0;
                for a in 0..dim {
                    for b in 0..dim {
                        let wt = p[a].powf(s) * p[b].powf(1.0 - s);
                        f += (p_eig[(a, b)] * c_eig[(b, a)]).re * wt;
                    }
                }
                integral += w * f;
            }
            let mean_p: f64 = (0..dim).map(|a| p[a] * p_eig[(a, a)].re).sum();
            let mean_c: f64 = (0..dim).map(|a| p[a] * c_eig[(a, a)].re).sum();
            let err = (integral - mean_p * mean_c - exact).abs();
            worst = worst.max(err);
        }
        eprintln!("T = {t}, {nodes} nodes: worst |error| {worst:.2e}");
        assert!(worst < tol, "T = {t}: quadrature error {worst:.2e}");
        if nodes < KUBO_MORI_NODES {
            assert!(worst > 1e-7, "T = {t}, {nodes} nodes: {worst:.2e}");
        }
    }
}

/// The Kubo–Mori gradient by typicality against the dense one on the 8-qubit network (within
/// four jackknife σ for every parameter, at T = 1 and 0.3), its σ falling like `1/√R`, and a
/// one-qubit case against the analytic derivative.
#[test]
fn kubo_mori_by_typicality_agrees_with_dense_and_analytic_values() {
    let m = network();
    let ex = Example {
        inputs: vec![0.8],
        targets: vec![1.0],
    };
    let theta = m.theta();
    for t in [1.0, 0.3] {
        let mut p = ThermalParams::new(t, ThermalGradient::KuboMori, 5);
        p.method = ThermalMethod::Dense;
        let dense = thermal_ep(&m, &theta, &ex, &p, 0.05).unwrap();
        p.method = ThermalMethod::Typicality;
        let mut mean_sd = Vec::new();
        // Below ~16 vectors the jackknife σ itself is too noisy at T = 0.3 (the plain
        // covariance estimator shows the same 5σ outliers at 8 vectors).
        for r in [32, 128] {
            p.typicality.samples = r;
            let typ = thermal_ep(&m, &theta, &ex, &p, 0.05).unwrap();
            assert_eq!(typ.method, ThermalMethod::Typicality);
            let sd = typ.std_err.clone().unwrap();
            let mut worst = 0.0f64;
            for (k, &sk) in sd.iter().enumerate() {
                let z = (typ.gradient[k] - dense.gradient[k]) / sk;
                worst = worst.max(z.abs());
                assert!(
                    z.abs() < 4.0,
                    "T = {t}, R = {r}, {}: typicality {} ± {sk}, dense {}",
                    m.params[k].label,
                    typ.gradient[k],
                    dense.gradient[k]
                );
            }
            let norm = dense.gradient.iter().map(|g| g * g).sum::<f64>().sqrt();
            let msd = sd.iter().sum::<f64>() / sd.len() as f64;
            eprintln!("T = {t}, R = {r}: ‖g‖ = {norm:.3e}, mean σ = {msd:.2e}, worst {worst:.2}σ");
            mean_sd.push(msd);
        }
        // Four times the vectors: σ halves.
        let ratio = mean_sd[0] / mean_sd[1];
        assert!(
            (1.5..2.7).contains(&ratio),
            "T = {t}: σ(32)/σ(128) = {ratio:.2}"
        );
    }

    // One qubit, H = a Z + b X, C = Z: ⟨Z⟩_T = −(a/E) tanh(E/T), E = √(a² + b²), so
    // ∂⟨Z⟩/∂b = a b/E³ tanh(E/T) − a b/(E² T) sech²(E/T).
    let (a, b, t) = (0.7, -0.4, 0.5);
    let mut h = PauliSum::new(1);
    h.add(PauliString::parse("Z0").unwrap(), a);
    h.add(PauliString::parse("X0").unwrap(), b);
    let e = (a * a + b * b).sqrt();
    let th = (e / t).tanh();
    let want = a * b / e.powi(3) * th - a * b / (e * e * t) * (1.0 - th * th);
    let s = kubo_mori_samples(
        &h,
        &single(1, "Z0"),
        &[single(1, "X0")],
        t,
        &TypicalityParams {
            samples: 4000,
            seed: 3,
            ..TypicalityParams::default()
        },
        |_, _| {},
    )
    .unwrap();
    let (g, sd) = s.kubo_mori();
    eprintln!("one qubit: {} ± {} vs analytic {want}", g[0], sd[0]);
    assert!(
        (g[0] - want).abs() < 4.0 * sd[0],
        "{} ± {} vs {want}",
        g[0],
        sd[0]
    );
    assert!(
        sd[0] < 0.1 * want.abs(),
        "premise: σ {} resolves {want}",
        sd[0]
    );
}
