//! Tests for `ep::classical`: the classical EP limit case (Section II of the paper; DESIGN.md,
//! "Classical EP (Section II) is the limit case"). Finite differences check the energy's
//! derivatives and the implicit gradient (Eq. 49); the EP estimate (Eq. 14) is checked against
//! it with its bias exponents; a small network learns XOR; quantum EP on a diagonal model is
//! checked against the Ising enumeration.

use std::path::Path;

use crate::ep_engine::{classical_ep, classical_oracle, eigen_ep};
use crate::oracle::log_slope;
use qep::ep::classical::{
    ising_ground_state, Activation, ClassicalError, ClassicalNet, ClassicalParams, IsingGround,
};
use qep::ep::EpParams;
use qep::hamiltonian::{parse_str, Example, Model};
use qep::pauli::PauliString;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn model(yaml: &str) -> Model {
    parse_str(yaml, Path::new("test.yaml")).expect("test model parses")
}

fn list(v: &[usize]) -> String {
    let s: Vec<String> = v.iter().map(|q| q.to_string()).collect();
    format!("[{}]", s.join(", "))
}

/// A network on `n` units with all-to-all `ZZ` parameters (uniform in `±scale`) and `Z`
/// parameters (uniform in `±0.3`) on the hidden and output units.
fn all_to_all(
    rng: &mut ChaCha8Rng,
    kind: &str,
    n: usize,
    inputs: &[usize],
    outputs: &[usize],
    scale: f64,
    extra_terms: &str,
) -> Model {
    let mut params = String::new();
    for i in 0..n {
        for j in i + 1..n {
            let v: f64 = rng.random_range(-scale..scale);
            params += &format!("  - {{pauli: \"Z{i} Z{j}\", value: {v}}}\n");
        }
    }
    for i in (0..n).filter(|i| !inputs.contains(i)) {
        let v: f64 = rng.random_range(-0.3..0.3);
        params += &format!("  - {{pauli: \"Z{i}\", value: {v}}}\n");
    }
    model(&format!(
        "kind: {kind}\nqubits: {n}\ninputs: {}\noutputs: {}\n{extra_terms}params:\n{params}",
        list(inputs),
        list(outputs)
    ))
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

fn sci(v: &[f64]) -> String {
    let s: Vec<String> = v.iter().map(|x| format!("{x:.3e}")).collect();
    s.join(" ")
}

fn max_abs(a: &[f64]) -> f64 {
    a.iter().map(|x| x.abs()).fold(0.0, f64::max)
}

/// Smallest eigenvalue of a symmetric row-major `n × n` matrix (faer).
fn min_eigenvalue(h: &[f64], n: usize) -> f64 {
    let m = faer::Mat::<f64>::from_fn(n, n, |i, j| h[i * n + j]);
    m.self_adjoint_eigenvalues(faer::Side::Lower).unwrap()[0]
}

/// Five units with 2- and 3-body terms, fixed and trainable, and a constant.
pub(crate) const SMALL: &str = r#"
kind: classical
qubits: 5
inputs: [0, 1]
outputs: [4]
terms:
  - {pauli: "I", coeff: 0.5}
  - {pauli: "Z0 Z3", coeff: 0.4}
  - {pauli: "Z1 Z2 Z4", coeff: -0.35}
  - {pauli: "Z2", coeff: 0.2}
params:
  - {pauli: "Z0 Z2", value: 0.3}
  - {pauli: "Z1 Z3", value: -0.6}
  - {pauli: "Z2 Z3 Z4", value: 0.45}
  - {pauli: "Z0 Z1 Z2 Z4", value: -0.25}
  - {pauli: "Z3 Z4", value: 0.7}
  - {pauli: "Z4", value: -0.15}
"#;

pub(crate) fn small_example() -> Example {
    Example {
        inputs: vec![0.8, -1.0],
        targets: vec![0.6],
    }
}

#[test]
fn gradient_and_hessian_match_finite_differences() {
    let m = model(SMALL);
    let net = ClassicalNet::new(&m, ClassicalParams::default()).unwrap();
    let theta = m.theta();
    let ex = small_example();
    let n = net.units();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let (mut worst_g, mut worst_h) = (0.0f64, 0.0f64);
    for beta in [0.0, 0.3, -0.2] {
        for _ in 0..4 {
            let z: Vec<f64> = (0..n).map(|_| rng.random_range(-1.5..1.5)).collect();
            let f = |z: &[f64]| net.energy(&theta, &ex, beta, z);
            // ∂f/∂z by central differences of f.
            let g = net.gradient_z(&theta, &ex, beta, &z);
            let h1 = 1e-5;
            let g_fd: Vec<f64> = (0..n)
                .map(|i| {
                    let (mut a, mut b) = (z.clone(), z.clone());
                    a[i] += h1;
                    b[i] -= h1;
                    (f(&a) - f(&b)) / (2.0 * h1)
                })
                .collect();
            let rel_g = max_abs_diff(&g, &g_fd) / max_abs(&g);
            assert!(rel_g < 1e-6, "β = {beta}: gradient rel. error {rel_g:.2e}");
            worst_g = worst_g.max(rel_g);
            // Hessian by second central differences of f.
            let hess = net.hessian(&theta, &ex, beta, &z);
            let h2 = 3e-4;
            let mut h_fd = vec![0.0; n * n];
            for i in 0..n {
                for j in 0..n {
                    let shifted = |si: f64, sj: f64| {
                        let mut y = z.clone();
                        y[i] += si * h2;
                        y[j] += sj * h2;
                        f(&y)
                    };
                    h_fd[i * n + j] = if i == j {
                        (shifted(1.0, 0.0) - 2.0 * f(&z) + shifted(-1.0, 0.0)) / (h2 * h2)
                    } else {
                        (shifted(1.0, 1.0) - shifted(1.0, -1.0) - shifted(-1.0, 1.0)
                            + shifted(-1.0, -1.0))
                            / (4.0 * h2 * h2)
                    };
                }
            }
            let rel_h = max_abs_diff(&hess, &h_fd) / max_abs(&hess);
            assert!(rel_h < 1e-6, "β = {beta}: Hessian rel. error {rel_h:.2e}");
            worst_h = worst_h.max(rel_h);
            // The Hessian is symmetric and carries the 1 + α (inputs), 1 + β (output) diagonal
            // beyond ρ''·field: check it against differences of the gradient too (tighter).
            let h3 = 1e-6;
            for j in 0..n {
                let (mut a, mut b) = (z.clone(), z.clone());
                a[j] += h3;
                b[j] -= h3;
                let (ga, gb) = (
                    net.gradient_z(&theta, &ex, beta, &a),
                    net.gradient_z(&theta, &ex, beta, &b),
                );
                for i in 0..n {
                    let fd = (ga[i] - gb[i]) / (2.0 * h3);
                    assert!(
                        (hess[i * n + j] - fd).abs() < 1e-7 * max_abs(&hess),
                        "β = {beta}: H[{i}][{j}] = {} vs {fd}",
                        hess[i * n + j]
                    );
                    assert_eq!(hess[i * n + j], hess[j * n + i]);
                }
            }
        }
    }
    eprintln!("finite differences: gradient {worst_g:.2e}, Hessian {worst_h:.2e}");
}

#[test]
fn relax_reaches_a_strict_minimum() {
    let m = model(SMALL);
    let net = ClassicalNet::new(&m, ClassicalParams::default()).unwrap();
    let theta = m.theta();
    let ex = small_example();
    let n = net.units();
    for beta in [0.0, 0.5, -0.5] {
        let r = net.relax(&theta, &ex, beta, None).unwrap();
        let g = net.gradient_z(&theta, &ex, beta, &r.z);
        assert!(norm(&g) <= 1e-10, "β = {beta}: ‖∇f‖ = {:.2e}", norm(&g));
        assert!(r.grad_norm <= 1e-10);
        assert_eq!(r.energy, net.energy(&theta, &ex, beta, &r.z));
        assert!(
            r.iterations > 0 && r.iterations < 50,
            "{} steps",
            r.iterations
        );
        let lmin = min_eigenvalue(&net.hessian(&theta, &ex, beta, &r.z), n);
        assert!(lmin > 0.1, "β = {beta}: λ_min = {lmin}");
        // A minimum: no random nearby point is lower.
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for _ in 0..20 {
            let y: Vec<f64> =
                r.z.iter()
                    .map(|x| x + rng.random_range(-1e-3..1e-3))
                    .collect();
            assert!(net.energy(&theta, &ex, beta, &y) > r.energy);
        }
    }
    // Warm start from the free minimum lands on the same clamped minimum.
    let free = net.relax(&theta, &ex, 0.0, None).unwrap();
    let cold = net.relax(&theta, &ex, 0.05, None).unwrap();
    let warm = net.relax(&theta, &ex, 0.05, Some(&free.z)).unwrap();
    assert!(max_abs_diff(&cold.z, &warm.z) < 1e-9);
    assert!(warm.iterations <= cold.iterations);
}

#[test]
fn relax_leaves_a_saddle_along_negative_curvature() {
    // No inputs and no fields: z = 0 is stationary, but with W = 2 (θ = −2) its Hessian
    // [[1, −2], [−2, 1]] has the eigenvalue −1. Relaxation must leave it for an aligned minimum
    // z_0 = z_1 = a with a = 2 tanh(a) (1 − tanh² a).
    let m = model(
        "kind: classical\nqubits: 2\noutputs: [1]\nparams:\n  - {pauli: \"Z0 Z1\", value: -2}\n",
    );
    let net = ClassicalNet::new(&m, ClassicalParams::default()).unwrap();
    let ex = Example {
        inputs: vec![],
        targets: vec![],
    };
    let theta = m.theta();
    assert_eq!(
        net.gradient_z(&theta, &ex, 0.0, &[0.0, 0.0]),
        vec![0.0, 0.0]
    );
    assert!(min_eigenvalue(&net.hessian(&theta, &ex, 0.0, &[0.0, 0.0]), 2) < -0.99);
    let r = net.relax(&theta, &ex, 0.0, None).unwrap();
    assert!(r.grad_norm <= 1e-10);
    let a = r.z[0];
    assert!((r.z[1] - a).abs() < 1e-12, "{:?}", r.z);
    let t = a.tanh();
    assert!(
        a.abs() > 0.5 && (a - 2.0 * t * (1.0 - t * t)).abs() < 1e-10,
        "{a}"
    );
    assert!(min_eigenvalue(&net.hessian(&theta, &ex, 0.0, &r.z), 2) > 0.0);
}

/// The 7-unit network of the EP tests: inputs 0, 1; hidden 2–4; outputs 5, 6.
fn seven_units(seed: u64) -> (Model, Example) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let m = all_to_all(&mut rng, "classical", 7, &[0, 1], &[5, 6], 0.5, "");
    let ex = Example {
        inputs: vec![rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)],
        targets: vec![rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)],
    };
    (m, ex)
}

#[test]
fn ep_converges_to_the_implicit_gradient_with_the_right_order() {
    let betas = [0.1, 0.05, 0.02, 0.01];
    for seed in [3, 4] {
        let (m, ex) = seven_units(seed);
        assert_eq!(m.params.len(), 21 + 5);
        let net = ClassicalNet::new(&m, ClassicalParams::default()).unwrap();
        let theta = m.theta();
        let exact = classical_oracle(&net, &m, &theta, &ex).unwrap();
        assert!(
            exact.residual < 1e-12,
            "adjoint residual {:.2e}",
            exact.residual
        );
        let gn = norm(&exact.gradient);
        assert!(gn > 1e-2, "premise: a non-trivial gradient, ‖g‖ = {gn}");
        let mut sym = Vec::new();
        let mut one = Vec::new();
        for &b in &betas {
            let s = classical_ep(&net, &m, &theta, &ex, b, false).unwrap();
            let o = classical_ep(&net, &m, &theta, &ex, b, true).unwrap();
            assert_eq!(s.clamped.len(), 2);
            assert_eq!(o.clamped.len(), 1);
            assert!((s.cost - exact.cost).abs() < 1e-12);
            let diff = |g: &[f64]| {
                let d: Vec<f64> = g.iter().zip(&exact.gradient).map(|(a, b)| a - b).collect();
                norm(&d) / gn
            };
            sym.push(diff(&s.gradient));
            one.push(diff(&o.gradient));
        }
        eprintln!(
            "seed {seed}: ‖g‖ = {gn:.4}, symmetric rel. errors {}, one-sided {}",
            sci(&sym),
            sci(&one)
        );
        assert!(sym[3] < 1e-4, "symmetric at β = 0.01: {:.2e}", sym[3]);
        let (ps, po) = (log_slope(&betas, &sym), log_slope(&betas, &one));
        eprintln!("seed {seed}: slopes symmetric {ps:.3}, one-sided {po:.3}");
        assert!((ps - 2.0).abs() < 0.3, "symmetric bias slope {ps}");
        assert!((po - 1.0).abs() < 0.2, "one-sided bias slope {po}");
    }
}

#[test]
fn implicit_gradient_matches_finite_differences_of_the_relaxed_cost() {
    let (m, ex) = seven_units(8);
    let net = ClassicalNet::new(
        &m,
        ClassicalParams {
            tol: 1e-13,
            ..ClassicalParams::default()
        },
    )
    .unwrap();
    let theta = m.theta();
    let exact = classical_oracle(&net, &m, &theta, &ex).unwrap();
    let zbar = exact.free.z.clone();
    let cost_at = |th: &[f64]| {
        let r = net.relax(th, &ex, 0.0, Some(&zbar)).unwrap();
        net.cost(&ex, &r.z)
    };
    let h = 1e-4;
    let fd: Vec<f64> = (0..theta.len())
        .map(|k| {
            let (mut a, mut b) = (theta.clone(), theta.clone());
            a[k] += h;
            b[k] -= h;
            (cost_at(&a) - cost_at(&b)) / (2.0 * h)
        })
        .collect();
    let rel = max_abs_diff(&fd, &exact.gradient) / norm(&exact.gradient);
    eprintln!("implicit vs finite differences: rel. error {rel:.2e}");
    assert!(rel < 1e-6, "rel. error {rel:.2e}");
    assert!(norm(&exact.gradient) > 1e-2);
}

#[test]
fn sgd_with_ep_learns_xor() {
    // Inputs 0, 1; hidden 2–5; output 6. All-to-all ZZ and Z biases on hidden/output.
    let n = 7;
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    let m = all_to_all(&mut rng, "classical", n, &[0, 1], &[6], 0.5, "");
    let net = ClassicalNet::new(&m, ClassicalParams::default()).unwrap();
    let mut theta = m.theta();
    let examples: Vec<Example> = [(-1.0, -1.0), (-1.0, 1.0), (1.0, -1.0), (1.0, 1.0)]
        .iter()
        .map(|&(a, b): &(f64, f64)| Example {
            inputs: vec![a, b],
            targets: vec![if a != b { 1.0 } else { -1.0 }],
        })
        .collect();
    let mean_cost = |th: &[f64]| {
        examples
            .iter()
            .map(|ex| net.predict(th, ex).unwrap().cost.unwrap())
            .sum::<f64>()
            / 4.0
    };
    let c0 = mean_cost(&theta);
    let (lr, beta) = (0.2, 0.05);
    let mut epochs = 0;
    while epochs < 400 && mean_cost(&theta) > 1e-3 {
        for ex in &examples {
            let g = classical_ep(&net, &m, &theta, ex, beta, false).unwrap();
            for (t, gk) in theta.iter_mut().zip(&g.gradient) {
                *t -= lr * gk;
            }
        }
        epochs += 1;
    }
    let c1 = mean_cost(&theta);
    eprintln!("XOR: mean cost {c0:.4} → {c1:.2e} in {epochs} epochs");
    assert!(
        c0 > 0.3,
        "premise: the initial network does not know XOR ({c0})"
    );
    assert!(c1 < 1e-2, "mean cost {c1}");
    for ex in &examples {
        let p = net.predict(&theta, ex).unwrap();
        assert_eq!(
            p.z_outputs[0].signum(),
            ex.targets[0],
            "{:?} → {:?}",
            ex.inputs,
            p.z_outputs
        );
    }
}

/// Eq. 28 on the Ising ground states of a Z-only model, by enumeration:
/// `(P_k(s⁺) − P_k(s⁻))/2β` with `P_k(s) = Π_{i∈P_k} s_i`.
struct IsingEp {
    gradient: Vec<f64>,
    free: IsingGround,
    plus: IsingGround,
    minus: IsingGround,
}

fn ising_ep(m: &Model, theta: &[f64], ex: &Example, beta: f64) -> Result<IsingEp, ClassicalError> {
    let free = ising_ground_state(m, theta, ex, 0.0)?;
    let plus = ising_ground_state(m, theta, ex, beta)?;
    let minus = ising_ground_state(m, theta, ex, -beta)?;
    let value = |g: &IsingGround, p: PauliString| -> f64 {
        if (g.bits & p.z()).count_ones().is_multiple_of(2) {
            1.0
        } else {
            -1.0
        }
    };
    let gradient = m
        .params
        .iter()
        .map(|p| (value(&plus, p.pauli) - value(&minus, p.pauli)) / (2.0 * beta))
        .collect();
    Ok(IsingEp {
        gradient,
        free,
        plus,
        minus,
    })
}

#[test]
fn quantum_ep_on_a_diagonal_model_is_ising_ep() {
    let beta = 0.5;
    let (mut cases, mut flipped, mut redrawn, mut worst) = (0, 0, 0, 0.0f64);
    for draw in 0..60u64 {
        if cases == 10 {
            break;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(900 + draw);
        let n = 4 + (draw as usize % 5);
        let outputs: Vec<usize> = if n >= 6 {
            vec![n - 2, n - 1]
        } else {
            vec![n - 1]
        };
        let fixed = format!(
            "terms:\n  - {{pauli: \"Z0 Z{}\", coeff: {}}}\n  - {{pauli: \"Z1 Z2 Z3\", coeff: {}}}\n",
            n - 1,
            rng.random_range(-1.0..1.0f64),
            rng.random_range(-1.0..1.0f64)
        );
        let m = all_to_all(&mut rng, "quantum", n, &[0, 1], &outputs, 1.0, &fixed);
        let theta = m.theta();
        let inputs = vec![rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)];
        let probe = Example {
            inputs: inputs.clone(),
            targets: vec![],
        };
        // Targets opposite to the free prediction, so that +β pushes the outputs to flip.
        let Ok(free) = ising_ground_state(&m, &theta, &probe, 0.0) else {
            redrawn += 1;
            continue;
        };
        let ex = Example {
            inputs,
            targets: outputs.iter().map(|&q| -f64::from(free.spins[q])).collect(),
        };
        let ising = match ising_ep(&m, &theta, &ex, beta) {
            Ok(g) => g,
            Err(ClassicalError::Degenerate { .. }) => {
                redrawn += 1;
                continue;
            }
            Err(e) => panic!("{e}"),
        };
        assert_eq!(ising.free.bits, free.bits);
        if ising.plus.bits != free.bits || ising.minus.bits != free.bits {
            flipped += 1;
        }
        let q = eigen_ep(
            &m,
            &theta,
            &ex,
            &EpParams {
                beta,
                ..EpParams::default()
            },
        )
        .unwrap();
        let dg = max_abs_diff(&q.ep, &ising.gradient);
        assert!(
            dg < 1e-9,
            "draw {draw}: quantum vs Ising EP differ by {dg:.2e}"
        );
        worst = worst.max(dg).max((q.energy - ising.free.energy).abs());
        assert!(
            (q.energy - ising.free.energy).abs() < 1e-9,
            "draw {draw}: E = {} vs {}",
            q.energy,
            ising.free.energy
        );
        for (k, &qz) in outputs.iter().zip(&q.z_outputs) {
            assert!((qz - f64::from(free.spins[*k])).abs() < 1e-9);
        }
        cases += 1;
    }
    eprintln!(
        "Ising limit: {cases} cases, {flipped} with a flipped clamped state, {redrawn} redrawn, worst difference {worst:.1e}"
    );
    assert_eq!(cases, 10, "too many degenerate draws ({redrawn})");
    assert!(
        flipped >= 5,
        "premise: β flips the clamped state in {flipped}/10 cases"
    );
}

#[test]
fn hard_sigmoid_relaxes_onto_kinks_and_ep_still_converges() {
    // Saturated units sit exactly on a kink of ρ (pinned); the output must stay inside so that
    // the gradient is not trivially 0.
    let params = ClassicalParams {
        activation: Activation::HardSigmoid,
        ..ClassicalParams::default()
    };
    let (mut cases, mut most_pinned, mut most_steps) = (0, 0, 0);
    for seed in 0..40u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(100 + seed);
        let m = all_to_all(&mut rng, "classical", 6, &[0, 1], &[5], 0.8, "");
        let net = ClassicalNet::new(&m, params.clone()).unwrap();
        let theta = m.theta();
        let ex = Example {
            inputs: vec![rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)],
            targets: vec![rng.random_range(-0.5..0.5)],
        };
        let free = net.relax(&theta, &ex, 0.0, None).unwrap();
        assert!(free.grad_norm <= 1e-10);
        let pinned = free.z.iter().filter(|z| z.abs() == 1.0).count();
        if pinned == 0 || free.z[5].abs() >= 1.0 - 1e-3 {
            continue;
        }
        most_pinned = most_pinned.max(pinned);
        most_steps = most_steps.max(free.iterations);
        // The Hessian there (pinned units decoupled) is positive definite.
        assert!(min_eigenvalue(&net.hessian(&theta, &ex, 0.0, &free.z), 6) > 0.0);
        let exact = classical_oracle(&net, &m, &theta, &ex).unwrap();
        let gn = norm(&exact.gradient);
        assert!(gn > 1e-3, "seed {seed}: ‖g‖ = {gn}");
        let ep = classical_ep(&net, &m, &theta, &ex, 1e-3, false).unwrap();
        let rel = max_abs_diff(&ep.gradient, &exact.gradient) / gn;
        assert!(
            rel < 1e-5,
            "seed {seed}: hard sigmoid EP vs implicit: {rel:.2e}"
        );
        cases += 1;
    }
    eprintln!(
        "hard sigmoid: {cases} cases with pinned units (up to {most_pinned}), ≤ {most_steps} steps"
    );
    assert!(cases >= 5, "premise: {cases} networks with a pinned unit");
}

#[test]
fn errors_name_the_problem() {
    // An X term, trainable or fixed, is named.
    let bad = model("kind: classical\nqubits: 2\nparams:\n  - {pauli: \"Z0\", value: 0.1}\n  - {pauli: \"X0 Z1\", value: 0.2}\n");
    let e = ClassicalNet::new(&bad, ClassicalParams::default()).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, ClassicalError::NotDiagonal { .. }), "{msg}");
    assert!(msg.contains("X0 Z1"), "{msg}");
    assert!(msg.contains("param 1"), "{msg}");
    assert!(
        msg.contains("classical models admit only Z-type terms"),
        "{msg}"
    );
    let bad = model("kind: classical\nqubits: 3\nterms:\n  - {pauli: \"Y2\", coeff: 0.5}\n");
    let msg = ClassicalNet::new(&bad, ClassicalParams::default())
        .unwrap_err()
        .to_string();
    assert!(msg.contains("fixed term `Y2`"), "{msg}");
    let msg = ising_ground_state(
        &bad,
        &[],
        &Example {
            inputs: vec![],
            targets: vec![],
        },
        0.0,
    )
    .unwrap_err()
    .to_string();
    assert!(msg.contains("Y2") && msg.contains("Z-type"), "{msg}");

    // A relaxation that runs out of steps is an error with its numbers.
    let m = model(SMALL);
    let theta = m.theta();
    let ex = small_example();
    let net = ClassicalNet::new(
        &m,
        ClassicalParams {
            max_iterations: 1,
            ..ClassicalParams::default()
        },
    )
    .unwrap();
    match net.relax(&theta, &ex, 0.0, None) {
        Err(e @ ClassicalError::NotConverged { .. }) => {
            let msg = e.to_string();
            if let ClassicalError::NotConverged {
                iterations,
                grad_norm,
                tol,
                ..
            } = e
            {
                assert_eq!(iterations, 1);
                assert!(grad_norm > tol && tol == 1e-10);
            }
            assert!(msg.contains("after 1 iterations"), "{msg}");
            assert!(msg.contains("iteration budget exhausted"), "{msg}");
        }
        other => panic!("expected NotConverged, got {other:?}"),
    }
    assert!(classical_ep(&net, &m, &theta, &ex, 0.01, false).is_err());
    assert!(classical_oracle(&net, &m, &theta, &ex).is_err());

    // β ≤ −1 has no minimum; EP needs β > 0 and targets; lengths are checked.
    let net = ClassicalNet::new(&m, ClassicalParams::default()).unwrap();
    let e = net.relax(&theta, &ex, -1.0, None).unwrap_err();
    assert!(
        matches!(e, ClassicalError::BetaUnbounded { beta } if beta == -1.0),
        "{e}"
    );
    let e = classical_ep(&net, &m, &theta, &ex, 0.0, false).unwrap_err();
    assert!(matches!(e, ClassicalError::BetaNotPositive { .. }), "{e}");
    let e = classical_ep(&net, &m, &theta, &ex, 1.5, false).unwrap_err();
    assert!(matches!(e, ClassicalError::BetaUnbounded { .. }), "{e}");
    let no_targets = Example {
        inputs: ex.inputs.clone(),
        targets: vec![],
    };
    let e = classical_ep(&net, &m, &theta, &no_targets, 0.1, false).unwrap_err();
    assert!(matches!(e, ClassicalError::NoTargets), "{e}");
    assert!(net.predict(&theta, &no_targets).unwrap().cost.is_none());
    let e = net.relax(&theta[1..], &ex, 0.0, None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "theta has 5 values; the model has 6 parameters"
    );
    let e = ClassicalNet::new(
        &m,
        ClassicalParams {
            alpha: -1.0,
            ..ClassicalParams::default()
        },
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "alpha = -1 is not valid; expected a finite number ≥ 0"
    );

    // Ising: a degenerate ground state is reported, not broken; the size is limited.
    let flat = model(
        "qubits: 3\ninputs: [0]\noutputs: [2]\nparams:\n  - {pauli: \"Z0 Z1\", value: 0.4}\n",
    );
    let ex1 = Example {
        inputs: vec![0.3],
        targets: vec![1.0],
    };
    let e = ising_ground_state(&flat, &[0.4], &ex1, 0.0).unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(e, ClassicalError::Degenerate { gap, .. } if gap == 0.0),
        "{msg}"
    );
    assert!(msg.contains("degenerate"), "{msg}");
    // The clamp lifts the output's degeneracy: s0 = −1 (u > 0), s1 = +1, s2 = d = +1.
    let g = ising_ground_state(&flat, &[0.4], &ex1, 0.2).unwrap();
    assert_eq!(g.spins, vec![-1, 1, 1]);
    assert_eq!(g.bits, 0b001);
    assert!((g.energy + 0.7).abs() < 1e-12, "{}", g.energy);
    assert!((g.gap - 0.4).abs() < 1e-12, "{}", g.gap);
    let big = model("qubits: 21\n");
    let e = ising_ground_state(
        &big,
        &[],
        &Example {
            inputs: vec![],
            targets: vec![],
        },
        0.0,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "21 spins: exhaustive enumeration is limited to 20"
    );
}
