//! Quantum EP (Eq. 24–29): the EP estimate against the exact-gradient oracle, the oracle
//! against finite differences of exact eigenstates, and Eq. 24 (`⟨C⟩ = ∂E/∂β`).

use std::path::Path;

use crate::ep_engine::{eigen_ep, eigen_oracle};
use crate::oracle::log_slope;
use qep::ep::{compare, free_phase, EpParams};
use qep::hamiltonian::{parse_str, Example, Model};
use qep::linalg::{eigenpairs, LanczosParams, Method};
use qep::operator::XMaskOperator;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A random all-to-all network of `n` qubits: inputs 0 and 1, output `n − 1`, trainable XX and
/// ZZ on every pair (uniform ±0.8), a fixed transverse field −1 on the non-inputs and Z biases.
fn network(n: usize, seed: u64) -> Model {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let mut y = format!(
        "qubits: {n}\ninputs: [0, 1]\noutputs: [{}]\nparams:\n",
        n - 1
    );
    for i in 0..n {
        for j in i + 1..n {
            for l in ["X", "Z"] {
                let v: f64 = r.random_range(-0.8..0.8);
                y.push_str(&format!("  - {{pauli: \"{l}{i} {l}{j}\", value: {v}}}\n"));
            }
        }
    }
    y.push_str("terms:\n");
    for q in 2..n {
        let b: f64 = r.random_range(-0.3..0.3);
        y.push_str(&format!(
            "  - {{pauli: X{q}, coeff: -1.0}}\n  - {{pauli: Z{q}, coeff: {b}}}\n"
        ));
    }
    parse_str(&y, Path::new("network.yaml")).expect("test model parses")
}

fn example() -> Example {
    Example {
        inputs: vec![0.7, -0.4],
        targets: vec![1.0],
    }
}

fn params(beta: f64, one_sided: bool, level: usize) -> EpParams {
    EpParams {
        beta,
        one_sided,
        level,
        lanczos: LanczosParams {
            tol: 1e-12,
            ..LanczosParams::default()
        },
        ..EpParams::default()
    }
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// `⟨C⟩` of level `level` of `H(0, θ, u)` by dense diagonalisation (an independent path).
fn cost_dense(m: &Model, theta: &[f64], ex: &Example, level: usize) -> f64 {
    let lp = LanczosParams {
        method: Method::Dense,
        tol: 1e-12,
        ..LanczosParams::default()
    };
    let m2 = Model {
        settings: qep::hamiltonian::Settings {
            state: if level == 0 {
                qep::hamiltonian::StateChoice::Ground
            } else {
                qep::hamiltonian::StateChoice::Eigen(level)
            },
            ..m.settings.clone()
        },
        ..m.clone()
    };
    free_phase(&m2, theta, Some(ex), &lp).unwrap().cost.unwrap()
}

#[test]
fn ep_converges_to_the_oracle_with_the_predicted_bias() {
    for (n, seed) in [(4, 1), (6, 2), (8, 3)] {
        let m = network(n, seed);
        let theta = m.theta();
        let ex = example();
        let exact = eigen_oracle(&m, &theta, &ex, &params(0.01, false, 0)).unwrap();
        assert!(exact.residual < 1e-10, "MINRES residual {}", exact.residual);
        let g = norm(&exact.exact);
        assert!(g > 1e-3, "premise: a non-trivial gradient ({g})");
        let betas = [0.08, 0.04, 0.02, 0.01];
        let mut sym = Vec::new();
        let mut one = Vec::new();
        for &b in &betas {
            let s = eigen_ep(&m, &theta, &ex, &params(b, false, 0)).unwrap();
            let o = eigen_ep(&m, &theta, &ex, &params(b, true, 0)).unwrap();
            sym.push(compare(&s.ep, &exact.exact).1);
            one.push(compare(&o.ep, &exact.exact).1);
            if b == 0.01 {
                let (cos, _) = compare(&s.ep, &exact.exact);
                assert!(cos > 0.999, "n = {n}: cosine {cos} at β = 0.01");
            }
        }
        let (ks, ko) = (log_slope(&betas, &sym), log_slope(&betas, &one));
        assert!(
            (ks - 2.0).abs() < 0.25,
            "n = {n}: symmetric bias slope {ks} ({sym:?})"
        );
        assert!(
            (ko - 1.0).abs() < 0.2,
            "n = {n}: one-sided bias slope {ko} ({one:?})"
        );
    }
}

#[test]
fn oracle_matches_finite_differences_of_exact_ground_states() {
    let m = network(6, 7);
    let theta = m.theta();
    let ex = example();
    let exact = eigen_oracle(&m, &theta, &ex, &params(0.01, false, 0)).unwrap();
    let h = 1e-5;
    for k in [0, 3, 8, 17, theta.len() - 1] {
        let mut tp = theta.clone();
        let mut tm = theta.clone();
        tp[k] += h;
        tm[k] -= h;
        let fd = (cost_dense(&m, &tp, &ex, 0) - cost_dense(&m, &tm, &ex, 0)) / (2.0 * h);
        let scale = norm(&exact.exact).max(1e-3);
        assert!(
            (fd - exact.exact[k]).abs() < 1e-6 * scale.max(1.0),
            "θ_{k}: finite difference {fd} vs oracle {}",
            exact.exact[k]
        );
    }
}

#[test]
fn excited_state_ep_matches_its_oracle() {
    let m = network(5, 11);
    let theta = m.theta();
    let ex = example();
    let exact = eigen_oracle(&m, &theta, &ex, &params(0.001, false, 1)).unwrap();
    // Premise: the excited level's gradient differs from the ground state's.
    let ground = eigen_oracle(&m, &theta, &ex, &params(0.001, false, 0)).unwrap();
    assert!(compare(&exact.exact, &ground.exact).1 > 0.1);
    let s = eigen_ep(&m, &theta, &ex, &params(0.001, false, 1)).unwrap();
    assert!(
        s.overlaps.iter().all(|&o| o > 0.99),
        "followed levels: {:?}",
        s.overlaps
    );
    let (cos, rel) = compare(&s.ep, &exact.exact);
    assert!(
        cos > 0.9999 && rel < 1e-3,
        "cosine {cos}, relative error {rel}"
    );
    let h = 1e-5;
    let k = 4;
    let mut tp = theta.clone();
    let mut tm = theta.clone();
    tp[k] += h;
    tm[k] -= h;
    let fd = (cost_dense(&m, &tp, &ex, 1) - cost_dense(&m, &tm, &ex, 1)) / (2.0 * h);
    assert!(
        (fd - exact.exact[k]).abs() < 1e-6,
        "fd {fd} vs oracle {}",
        exact.exact[k]
    );
}

#[test]
fn cost_is_the_beta_derivative_of_the_energy() {
    // Eq. 24: ∂E_0/∂β = ⟨C⟩ at β = 0.
    let m = network(6, 5);
    let theta = m.theta();
    let ex = example();
    let energy = |beta: f64| {
        let h = m.hamiltonian(&theta, Some(&ex), beta).unwrap();
        let op = XMaskOperator::new(&h).unwrap();
        let lp = LanczosParams {
            tol: 1e-12,
            ..LanczosParams::default()
        };
        eigenpairs(&op, &lp, None).unwrap().energies()[0]
    };
    let h = 1e-4;
    let de = (energy(h) - energy(-h)) / (2.0 * h);
    let c = cost_dense(&m, &theta, &ex, 0);
    assert!(c > 1e-3, "premise: a non-zero cost");
    assert!((de - c).abs() < 1e-7, "∂E/∂β = {de}, ⟨C⟩ = {c}");
}

fn with_shots(beta: f64, shots: u64, seed: u64) -> EpParams {
    EpParams {
        shots: Some(shots),
        shot_seed: seed,
        ..params(beta, false, 0)
    }
}

#[test]
fn shot_based_ep_converges_as_one_over_root_shots() {
    let m = network(4, 1);
    let theta = m.theta();
    let ex = example();
    let beta = 0.1;
    let exact = eigen_ep(&m, &theta, &ex, &params(beta, false, 0)).unwrap();
    assert!(exact.ep_std.is_none() && exact.shots_total.is_none());
    // Same seed, same bits; another seed, other numbers.
    let a = eigen_ep(&m, &theta, &ex, &with_shots(beta, 2000, 5)).unwrap();
    let b = eigen_ep(&m, &theta, &ex, &with_shots(beta, 2000, 5)).unwrap();
    let c = eigen_ep(&m, &theta, &ex, &with_shots(beta, 2000, 6)).unwrap();
    assert_eq!(a.ep, b.ep);
    assert_ne!(a.ep, c.ep);
    // X-type and Z-type strings: 2 groups × 2 clamped states.
    assert_eq!(a.shots_total, Some(2000 * 2 * 2));
    let budgets = [500u64, 5_000, 50_000];
    let repeats = 24;
    let mut rms = Vec::new();
    for &s in &budgets {
        let mut sq = 0.0;
        let mut reported = 0.0;
        for r in 0..repeats {
            let g = eigen_ep(&m, &theta, &ex, &with_shots(beta, s, 100 + r)).unwrap();
            sq +=
                g.ep.iter()
                    .zip(&exact.ep)
                    .map(|(x, y)| (x - y).powi(2))
                    .sum::<f64>();
            reported += g.ep_std.unwrap().iter().map(|x| x * x).sum::<f64>();
        }
        let (emp, rep) = (
            (sq / repeats as f64).sqrt(),
            (reported / repeats as f64).sqrt(),
        );
        // The reported standard errors describe the observed spread (24 repeats: ±30 %).
        assert!(
            (emp / rep - 1.0).abs() < 0.3,
            "S = {s}: empirical {emp}, reported {rep}"
        );
        rms.push(emp);
    }
    let xs: Vec<f64> = budgets.iter().map(|&s| s as f64).collect();
    let k = log_slope(&xs, &rms);
    assert!((k + 0.5).abs() < 0.1, "error ∝ S^{k} ({rms:?})");
}
