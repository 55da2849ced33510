//! The dense thermal gradients side by side (clamped, plain covariance Eq. 43, Kubo–Mori)
//! against finite differences of Gibbs states, on seeded random 4-qubit models; the single
//! estimators of the thermal engine against that comparison; Eq. 43 from Z-basis shots.

use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{thermal_gradients, ThermalError};
use crate::ep::quantum::exact_gradient;
use crate::ep::EpParams;
use crate::hamiltonian::{parse_str, Example, Model};
use crate::operator::XMaskOperator;
use crate::pauli::{PauliString, PauliSum};
use crate::state::{Gibbs, StateError};
use crate::C64;

/// Least-squares slope of `ln y` against `ln x`: the order of a power law `y ∝ x^p`.
fn log_slope(x: &[f64], y: &[f64]) -> f64 {
    let lx: Vec<f64> = x.iter().map(|v| v.ln()).collect();
    let ly: Vec<f64> = y.iter().map(|v| v.ln()).collect();
    let n = lx.len() as f64;
    let (mx, my) = (lx.iter().sum::<f64>() / n, ly.iter().sum::<f64>() / n);
    let sxy: f64 = lx.iter().zip(&ly).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = lx.iter().map(|a| (a - mx) * (a - mx)).sum();
    sxy / sxx
}

/// Which couplings a random 4-qubit model (input 0, output 3) has.
#[derive(Clone, Copy)]
enum Kind {
    /// Trainable XX and ZZ on every pair, transverse field −1 on qubits 1–3: generic quantum.
    Quantum,
    /// Trainable ZZ on every pair, Z biases only: H diagonal (classical).
    Classical,
    /// XX and ZZ among qubits 0–2 with a transverse field there, only ZZ couplings and a Z
    /// bias on the output qubit 3: `[C, H] = 0` although `H` is not diagonal.
    Commuting,
}

fn model(kind: Kind, seed: u64) -> Model {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let mut y = String::from("qubits: 4\ninputs: [0]\noutputs: [3]\nparams:\n");
    for i in 0..4 {
        for j in i + 1..4 {
            for l in ["X", "Z"] {
                let keep = match kind {
                    Kind::Quantum => true,
                    Kind::Classical => l == "Z",
                    Kind::Commuting => l == "Z" || j < 3,
                };
                let v: f64 = r.random_range(-0.8..0.8);
                if keep {
                    y.push_str(&format!("  - {{pauli: \"{l}{i} {l}{j}\", value: {v}}}\n"));
                }
            }
        }
    }
    y.push_str("terms:\n");
    for q in 1..4 {
        let b: f64 = r.random_range(-0.3..0.3);
        y.push_str(&format!("  - {{pauli: Z{q}, coeff: {b}}}\n"));
        let field = match kind {
            Kind::Quantum => true,
            Kind::Classical => false,
            Kind::Commuting => q < 3,
        };
        if field {
            y.push_str(&format!("  - {{pauli: X{q}, coeff: -1.0}}\n"));
        }
    }
    if let Kind::Commuting = kind {
        y.push_str("  - {pauli: X0, coeff: -0.7}\n");
    }
    parse_str(&y, Path::new("thermal.yaml")).expect("test model parses")
}

fn example() -> Example {
    Example {
        inputs: vec![0.6],
        targets: vec![1.0],
    }
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// `‖a − b‖ / ‖b‖` over the entries selected by `keep`.
fn rel_err(a: &[f64], b: &[f64], keep: &[bool]) -> f64 {
    let (mut d, mut n) = (0.0, 0.0);
    for ((x, y), &k) in a.iter().zip(b).zip(keep) {
        if k {
            d += (x - y) * (x - y);
            n += y * y;
        }
    }
    (d / n).sqrt()
}

/// Frobenius norm of `[A, B]` from dense matrices.
fn commutator_norm(a: &PauliSum, b: &PauliSum) -> f64 {
    let ma = XMaskOperator::new(a).unwrap().to_dense().unwrap();
    let mb = XMaskOperator::new(b).unwrap().to_dense().unwrap();
    let dim = 1usize << a.qubits();
    let mut s = 0.0;
    for i in 0..dim {
        for j in 0..dim {
            let mut c = C64::new(0.0, 0.0);
            for k in 0..dim {
                c += ma[i * dim + k] * mb[k * dim + j] - mb[i * dim + k] * ma[k * dim + j];
            }
            s += c.norm_sqr();
        }
    }
    s.sqrt()
}

#[test]
fn kubo_mori_equals_finite_differences() {
    for seed in [1, 2, 3] {
        let m = model(Kind::Quantum, seed);
        for t in [0.3, 1.0, 3.0] {
            let g = thermal_gradients(&m, &m.theta(), &example(), t, 0.01).unwrap();
            let n = norm(&g.exact);
            let rel = rel_err(&g.kubo_mori, &g.exact, &vec![true; g.exact.len()]);
            eprintln!("seed {seed} T = {t}: ‖g‖ = {n:.3e}, Kubo–Mori rel. error {rel:.2e}");
            assert!(n > 1e-3, "premise: a non-trivial gradient, ‖g‖ = {n}");
            assert!(
                rel < 1e-8,
                "seed {seed} T = {t}: Kubo–Mori off by {rel:.2e}"
            );
        }
    }
}

#[test]
fn clamped_converges_quadratically_in_beta() {
    let m = model(Kind::Quantum, 4);
    let t = 1.0;
    let betas = [0.08, 0.04, 0.02, 0.01];
    let mut errs = Vec::new();
    for &b in &betas {
        let g = thermal_gradients(&m, &m.theta(), &example(), t, b).unwrap();
        errs.push(rel_err(&g.clamped, &g.exact, &vec![true; g.exact.len()]));
    }
    let s = log_slope(&betas, &errs);
    eprintln!("clamped rel. errors at β = {betas:?}: {errs:?}; slope {s:.3}");
    assert!(errs[3] < 1e-3, "clamped off by {:.2e} at β = 0.01", errs[3]);
    assert!((s - 2.0).abs() < 0.3, "slope {s}, expected 2 ± 0.3");
}

#[test]
fn plain_covariance_is_exact_for_classical_and_commuting_models() {
    for (kind, name) in [(Kind::Classical, "classical"), (Kind::Commuting, "[C,H]=0")] {
        let m = model(kind, 5);
        let ex = example();
        let h = m.hamiltonian(&m.theta(), Some(&ex), 0.0).unwrap();
        let comm = commutator_norm(&h, &m.cost_operator(&ex.targets));
        assert!(
            comm < 1e-12,
            "premise: ‖[C, H]‖ = {comm:.2e} for the {name} model"
        );
        if let Kind::Commuting = kind {
            assert!(
                !h.terms().iter().all(|(p, _)| p.is_diagonal()),
                "premise: H not diagonal"
            );
        }
        for t in [0.3, 1.0, 3.0] {
            let g = thermal_gradients(&m, &m.theta(), &ex, t, 0.01).unwrap();
            let rel = rel_err(&g.covariance, &g.exact, &vec![true; g.exact.len()]);
            eprintln!("{name} T = {t}: covariance rel. error {rel:.2e}");
            assert!(norm(&g.exact) > 1e-3, "premise: a non-trivial gradient");
            assert!(rel < 1e-8, "{name} T = {t}: covariance off by {rel:.2e}");
        }
    }
}

#[test]
fn plain_covariance_misses_for_xx_and_zz_on_a_quantum_model() {
    let m = model(Kind::Quantum, 6);
    let ex = example();
    let h = m.hamiltonian(&m.theta(), Some(&ex), 0.0).unwrap();
    let comm = commutator_norm(&h, &m.cost_operator(&ex.targets));
    assert!(
        comm > 0.1,
        "premise: C does not commute with H, ‖[C, H]‖ = {comm}"
    );
    let xx: Vec<bool> = m
        .params
        .iter()
        .map(|p| p.pauli.label().contains('X'))
        .collect();
    let zz: Vec<bool> = xx.iter().map(|x| !x).collect();
    eprintln!("plain covariance (Eq. 43) vs exact, ‖cov − exact‖/‖exact‖ per parameter type:");
    eprintln!("   T      XX         ZZ        Kubo–Mori (all)");
    for t in [0.3, 1.0, 3.0] {
        let g = thermal_gradients(&m, &m.theta(), &ex, t, 0.01).unwrap();
        let (ex_, ez) = (
            rel_err(&g.covariance, &g.exact, &xx),
            rel_err(&g.covariance, &g.exact, &zz),
        );
        let km = rel_err(&g.kubo_mori, &g.exact, &vec![true; xx.len()]);
        eprintln!("  {t:<4}  {ex_:.3e}  {ez:.3e}  {km:.1e}");
        assert!(ex_ > 1e-3, "T = {t}: XX covariance error only {ex_:.2e}");
        assert!(ez > 1e-3, "T = {t}: ZZ covariance error only {ez:.2e}");
        assert!(km < 1e-8, "T = {t}: Kubo–Mori off by {km:.2e}");
    }
}

#[test]
fn low_temperature_limit_matches_the_ground_state_oracle() {
    let m = model(Kind::Quantum, 7);
    let ex = example();
    let theta = m.theta();
    let h = m.hamiltonian(&theta, Some(&ex), 0.0).unwrap();
    let gs = Gibbs::new(&h, 0.02).unwrap();
    let gap = gs.energies[1] - gs.energies[0];
    assert!(gap > 0.4, "premise: a gapped ground state, gap = {gap}");
    let oracle = exact_gradient(&m, &theta, &ex, &EpParams::default())
        .unwrap()
        .exact;
    let cold = thermal_gradients(&m, &theta, &ex, 0.02, 0.01).unwrap();
    let warm = thermal_gradients(&m, &theta, &ex, 0.1, 0.01).unwrap();
    let dev = |v: &[f64]| {
        v.iter()
            .zip(&oracle)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max)
    };
    let (dk, de) = (dev(&cold.kubo_mori), dev(&cold.exact));
    let ratio = norm(&cold.covariance) / norm(&warm.covariance);
    eprintln!(
        "T = 0.02, gap {gap:.3}: max |KM − oracle| = {dk:.2e}, max |exact − oracle| = {de:.2e}; \
         ‖cov‖ = {:.3e} (T = 0.02) vs {:.3e} (T = 0.1), ratio {ratio:.2}, ‖oracle‖ = {:.3e}",
        norm(&cold.covariance),
        norm(&warm.covariance),
        norm(&oracle)
    );
    assert!(
        dk < 1e-4,
        "Kubo–Mori at T = 0.02 is {dk:.2e} from the T = 0 oracle"
    );
    assert!(
        de < 1e-4,
        "finite differences at T = 0.02 are {de:.2e} from the T = 0 oracle"
    );
    assert!(
        ratio > 3.0,
        "covariance grew only by {ratio:.2} from T = 0.1 to 0.02"
    );
}

#[test]
fn errors_carry_their_numbers() {
    let m = model(Kind::Quantum, 1);
    let theta = m.theta();
    let ex = example();
    for t in [0.0, -0.5, f64::NAN] {
        let e = thermal_gradients(&m, &theta, &ex, t, 0.01).unwrap_err();
        assert!(
            matches!(e, ThermalError::TemperatureNotPositive { .. }),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            format!("temperature T = {t} is not valid; expected a finite number > 0")
        );
    }
    let e = thermal_gradients(&m, &theta, &ex, 1.0, -0.25).unwrap_err();
    assert_eq!(
        e.to_string(),
        "beta = -0.25 is not a clamping strength; expected a finite number > 0"
    );
    let none = Example {
        inputs: vec![0.6],
        targets: vec![],
    };
    let e = thermal_gradients(&m, &theta, &none, 1.0, 0.01).unwrap_err();
    assert!(matches!(e, ThermalError::NoTargets), "{e:?}");
    assert!(e.to_string().contains("no targets"), "{e}");

    let big = parse_str(
        "qubits: 13\ninputs: [0]\noutputs: [12]\nparams:\n  - {pauli: \"X0 X12\", value: 0.3}\n",
        Path::new("big.yaml"),
    )
    .unwrap();
    let e = thermal_gradients(&big, &big.theta(), &ex, 1.0, 0.01).unwrap_err();
    assert_eq!(
        e.to_string(),
        "13 qubits: the dense Gibbs state is limited to 12 qubits"
    );
    let h = big.hamiltonian(&big.theta(), Some(&ex), 0.0).unwrap();
    let e = Gibbs::new(&h, 1.0).unwrap_err();
    assert!(
        matches!(
            e,
            StateError::TooManyQubits {
                qubits: 13,
                max: 12,
                ..
            }
        ),
        "{e:?}"
    );
    // The state's error reaches thermal EP in thermal EP's words.
    let e = ThermalError::from(e);
    assert_eq!(
        e.to_string(),
        "13 qubits: the dense Gibbs state is limited to 12 qubits"
    );
    let e = Gibbs::new(&m.hamiltonian(&theta, Some(&ex), 0.0).unwrap(), -2.0).unwrap_err();
    assert!(e.to_string().contains("T = -2"), "{e}");
}

#[test]
fn single_estimators_equal_the_side_by_side_comparison() {
    use crate::ep::thermal::{thermal_gradient, thermal_prediction, ThermalMethod, ThermalParams};
    use crate::hamiltonian::ThermalGradient;
    let m = model(Kind::Quantum, 1);
    let ex = example();
    let theta = m.theta();
    for t in [0.3, 1.0] {
        let all = thermal_gradients(&m, &theta, &ex, t, 0.01).unwrap();
        for (est, want) in [
            (ThermalGradient::Clamped, &all.clamped),
            (ThermalGradient::Covariance, &all.covariance),
            (ThermalGradient::KuboMori, &all.kubo_mori),
        ] {
            let p = ThermalParams::new(t, est, 0);
            let g = thermal_gradient(&m, &theta, &ex, &p, 0.01).unwrap();
            assert_eq!(g.method, ThermalMethod::Dense);
            assert!(g.std_err.is_none());
            let rel = rel_err(&g.gradient, want, &vec![true; want.len()]);
            assert!(
                rel < 1e-10,
                "T = {t} {est:?}: {rel:.2e} from the comparison"
            );
        }
        let (z, cost) = thermal_prediction(
            &m,
            &theta,
            &ex,
            &ThermalParams::new(t, ThermalGradient::Clamped, 0),
        )
        .unwrap();
        let g = Gibbs::new(&m.hamiltonian(&theta, Some(&ex), 0.0).unwrap(), t).unwrap();
        let mut z3 = PauliSum::new(4);
        z3.add(PauliString::parse("Z3").unwrap(), 1.0);
        assert!((z[0] - g.expectation_levels(&z3).unwrap()).abs() < 1e-12);
        assert!((cost - all.cost).abs() < 1e-12);
    }
}

/// The Z-type entries of the shot covariance against the dense plain covariance (Eq. 43):
/// returns the largest |deviation|/σ and the mean σ.
fn shot_check(m: &Model, t: f64, shots: u64, seed: u64) -> (f64, f64) {
    use crate::ep::thermal::covariance_from_shots;
    let ex = example();
    let dense = thermal_gradients(m, &m.theta(), &ex, t, 0.01).unwrap();
    let s = covariance_from_shots(m, &m.theta(), &ex, t, shots, seed).unwrap();
    let (mut worst, mut sum_sd, mut n) = (0.0f64, 0.0, 0);
    for (k, p) in m.params.iter().enumerate() {
        match (s.covariance[k], s.std_err[k]) {
            (Some(c), Some(sd)) => {
                assert!(
                    p.pauli.is_diagonal(),
                    "{}: estimated but not Z-type",
                    p.label
                );
                let z = (c - dense.covariance[k]) / sd;
                worst = worst.max(z.abs());
                sum_sd += sd;
                n += 1;
            }
            (None, None) => assert!(!p.pauli.is_diagonal(), "{}: Z-type but null", p.label),
            other => panic!("{}: mismatched {other:?}", p.label),
        }
    }
    assert!(n > 0, "premise: some Z-type parameters");
    assert!(
        (s.cost - dense.cost).abs() < 5.0 * s.cost_std,
        "⟨C⟩ from shots"
    );
    (worst, sum_sd / n as f64)
}

#[test]
fn covariance_from_z_shots_is_within_five_sigma_and_scales_as_one_over_root_s() {
    for (kind, name) in [(Kind::Classical, "diagonal"), (Kind::Quantum, "generic")] {
        let m = model(kind, 5);
        let t = 1.0;
        let (w1, s1) = shot_check(&m, t, 20_000, 1);
        let (w2, s2) = shot_check(&m, t, 320_000, 2);
        eprintln!(
            "{name}: S = 20 000: worst {w1:.2}σ, mean σ {s1:.3e}; S = 320 000: worst {w2:.2}σ, \
             mean σ {s2:.3e}; σ ratio {:.3} (expected 4)",
            s1 / s2
        );
        assert!(w1 < 5.0 && w2 < 5.0, "{name}: {w1:.2}σ, {w2:.2}σ");
        assert!(
            (s1 / s2 - 4.0).abs() < 0.4,
            "{name}: σ ratio {:.3}",
            s1 / s2
        );
    }
    // The diagonal model's covariance is the exact gradient; the generic one's is not.
    let m = model(Kind::Classical, 5);
    let g = thermal_gradients(&m, &m.theta(), &example(), 1.0, 0.01).unwrap();
    assert!(rel_err(&g.covariance, &g.exact, &vec![true; g.exact.len()]) < 1e-8);
    let e = crate::ep::thermal::covariance_from_shots(&m, &m.theta(), &example(), 1.0, 1, 0)
        .unwrap_err();
    assert!(e.to_string().contains("at least 2"), "{e}");
}
