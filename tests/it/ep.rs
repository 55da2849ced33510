//! Quantum EP (Eq. 24–29): the EP estimate against the exact-gradient oracle, the oracle
//! against finite differences of exact eigenstates, and Eq. 24 (`⟨C⟩ = ∂E/∂β`).

use std::path::Path;

use crate::ep_engine::{eigen_ep, eigen_oracle};
use crate::oracle::log_slope;
use qep::ep::{compare, free_phase, EpError, EpParams};
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

/// An open XYZ chain of `n` qubits (XX, YY, ZZ on every bond, distinct trainable values), the
/// input field `u Z₀` on qubit 0 and the output on the last qubit. For odd `n` and `u = 0`,
/// `∏X` and `∏Z` both commute with `H` and anticommute with each other, so every level is
/// exactly twofold degenerate (the doublets are split across the `∏Z` sectors); `u ≠ 0`
/// breaks `∏X` and splits each doublet by `O(u)`, keeping `∏Z`.
fn xyz_chain(n: usize) -> Model {
    let mut y = format!("qubits: {n}\ninputs: [0]\noutputs: [{}]\nparams:\n", n - 1);
    for i in 0..n - 1 {
        for (l, v) in [("X", 0.9), ("Y", 0.6), ("Z", 1.1)] {
            let v = v + 0.07 * i as f64;
            y.push_str(&format!(
                "  - {{pauli: \"{l}{i} {l}{}\", value: {v}}}\n",
                i + 1
            ));
        }
    }
    parse_str(&y, Path::new("xyz.yaml")).expect("test model parses")
}

/// `E₁ − E₀` of `H(0, θ, u)` by dense diagonalisation.
fn dense_gap(m: &Model, ex: &Example) -> f64 {
    let h = m.hamiltonian(&m.theta(), Some(ex), 0.0).unwrap();
    let op = XMaskOperator::new(&h).unwrap();
    let lp = LanczosParams {
        method: Method::Dense,
        k: 2,
        tol: 1e-12,
        ..LanczosParams::default()
    };
    let s = eigenpairs(&op, &lp, None).unwrap();
    s.energies()[1] - s.energies()[0]
}

/// [`params`] with Lanczos forced at every size: a free state from one Krylov run, which
/// cannot see an exact degeneracy (dense diagonalisation, the default up to 256 amplitudes,
/// would see it directly).
fn krylov_params() -> EpParams {
    let mut p = params(0.01, false, 0);
    p.lanczos.method = Method::Lanczos;
    p
}

#[test]
fn oracle_refuses_a_level_degenerate_across_symmetry_sectors() {
    let m = xyz_chain(7);
    let ex = Example {
        inputs: vec![0.0],
        targets: vec![1.0],
    };
    let gap = dense_gap(&m, &ex);
    assert!(gap < 1e-10, "premise: an exact doublet (dense gap {gap:e})");
    let p = krylov_params();
    match eigen_oracle(&m, &m.theta(), &ex, &p) {
        Err(EpError::Degenerate { gap, threshold, .. }) => {
            assert!(gap < threshold, "reported gap {gap:e} ≥ {threshold:e}")
        }
        other => panic!("a degenerate level must be refused, got {other:?}"),
    }
    // The EP estimate alone does not check (training reads no gap).
    assert!(eigen_ep(&m, &m.theta(), &ex, &p).is_ok());
}

/// The oracle at a near-degenerate (gap between 10⁻⁵ and 10⁻², ≫ the 10⁻⁸ threshold) level
/// of `m`: accepted, with no extra products, and equal to central differences of dense
/// ground states.
fn assert_near_degenerate_accepted(m: &Model, ex: &Example) {
    let gap = dense_gap(m, ex);
    assert!(
        (1e-5..1e-2).contains(&gap),
        "premise: a near-degenerate pair (dense gap {gap:e})"
    );
    let theta = m.theta();
    // The gap from the free run (its level above converged in energy, not in vector) is the
    // dense one to within the error it reports, which is within twice the tolerance.
    let mut with_gap = krylov_params();
    with_gap.gap = true;
    let g = eigen_ep(m, &theta, ex, &with_gap).unwrap();
    let (got, err) = (g.gap.unwrap(), g.gap_error.unwrap());
    assert!(err <= 2e-9, "gap error {err:e}");
    assert!(
        (got - gap).abs() <= 10.0 * err.max(1e-12),
        "gap {got} vs dense {gap}: {:e} beyond its error {err:e}",
        got - gap
    );
    let o = eigen_oracle(m, &theta, ex, &krylov_params()).unwrap();
    assert!(o.residual < 1e-10, "MINRES residual {}", o.residual);
    assert_eq!(o.gap_check_matvecs, 0);
    let scale = norm(&o.exact);
    assert!(scale > 1e-3, "premise: a non-trivial gradient ({scale})");
    // Small steps: the third derivative grows like 1/gap³.
    let h = 1e-6;
    for k in 0..theta.len() {
        let (mut tp, mut tm) = (theta.clone(), theta.clone());
        tp[k] += h;
        tm[k] -= h;
        let fd = (cost_dense(m, &tp, ex, 0) - cost_dense(m, &tm, ex, 0)) / (2.0 * h);
        assert!(
            (fd - o.exact[k]).abs() < 1e-6 * scale.max(1.0),
            "θ_{k}: finite difference {fd} vs oracle {}",
            o.exact[k]
        );
    }
}

#[test]
fn oracle_accepts_near_degenerate_levels_and_matches_finite_differences() {
    // The XYZ chain with u = 10⁻³: the doublet splits by O(10⁻³) and ∏Z is still a symmetry,
    // so the sector check runs on a state that close to a level of the other sector.
    let ex = Example {
        inputs: vec![1e-3],
        targets: vec![1.0],
    };
    assert_near_degenerate_accepted(&xyz_chain(7), &ex);
    // The free output qubit of the next test coupled weakly, 10⁻³ X₂X₃ (trainable) and
    // 10⁻³ Z₃: the pair splits by O(10⁻³), C couples the free state to its partner, so MINRES
    // solves a nearly singular system (an eigenvalue O(10⁻³) on C·ψ's span) and must not take
    // it for a singular one; the gradient is O(1/gap).
    let ex = Example {
        inputs: vec![0.6],
        targets: vec![1.0],
    };
    let m = parse_str(
        &FREE_OUTPUT.replace(
            "terms:\n",
            "- {pauli: \"X2 X3\", value: 1.0e-3}\nterms:\n- {pauli: Z3, coeff: 1.0e-3}\n",
        ),
        Path::new("weak_output.yaml"),
    )
    .unwrap();
    assert_near_degenerate_accepted(&m, &ex);
}

/// Qubit 3, the output, has no term.
const FREE_OUTPUT: &str = "qubits: 4\ninputs: [0]\noutputs: [3]\nparams:\n\
    - {pauli: \"X0 X1\", value: 0.5}\n- {pauli: \"Z1 Z2\", value: -0.7}\n\
    - {pauli: \"Z0 Z2\", value: 0.3}\nterms:\n\
    - {pauli: X1, coeff: -1.0}\n- {pauli: X2, coeff: -0.8}\n";

#[test]
fn oracle_refuses_a_hidden_degeneracy_the_cost_couples() {
    // Qubit 3, the output, has no term: every level is doubly degenerate, but the X fields and
    // the input's Z field leave no global Pauli symmetry, so only MINRES can see it: C = ½(Z₃ −
    // d)² couples the free state to its hidden partner and the system is inconsistent.
    let m = parse_str(FREE_OUTPUT, Path::new("free_output.yaml")).unwrap();
    let ex = Example {
        inputs: vec![0.6],
        targets: vec![1.0],
    };
    assert!(dense_gap(&m, &ex) < 1e-10, "premise: an exact doublet");
    match eigen_oracle(&m, &m.theta(), &ex, &krylov_params()) {
        Err(EpError::Degenerate { gap, threshold, .. }) => {
            assert!(gap < threshold, "reported gap {gap:e} ≥ {threshold:e}")
        }
        other => panic!("a degenerate level must be refused, got {other:?}"),
    }
}
