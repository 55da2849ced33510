//! Tied parameters: one `θ_k` multiplying several Pauli strings `Σ_j c_kj P_kj` (explicit
//! `paulis`/`coeffs`, the `heisenberg` family). Their EP gradient against the exact gradient
//! and finite differences, against the same model untied, from shots, in training, and the
//! validation of the YAML form.

use std::path::Path;

use qep::ep::thermal::{ThermalMethod, ThermalParams};
use qep::ep::{Engine, EpOverrides, EpParams, RunStamp, TrainParams};
use qep::hamiltonian::{load, parse_str, Example, Model, ThermalGradient};
use qep::linalg::{LanczosParams, MinresParams};
use qep::measure::{best_grouping, estimate_paulis, estimate_weighted};
use qep::pauli::PauliString;
use qep::state::StateVector;

use crate::common::{floats, json, model, qep, succeeds};

fn heisenberg_xor() -> Model {
    load(Path::new(&model("heisenberg_xor.yaml"))).unwrap()
}

/// Eigen settings tight enough for 1e-6 comparisons (the 32-dimensional space is solved
/// densely; MINRES to 1e-13).
fn tight(beta: f64) -> EpParams {
    EpParams {
        beta,
        exact: true,
        lanczos: LanczosParams {
            tol: 1e-13,
            ..LanczosParams::default()
        },
        minres: MinresParams {
            tol: 1e-13,
            ..MinresParams::default()
        },
        ..EpParams::default()
    }
}

fn example0(m: &Model) -> Example {
    m.dataset.as_ref().unwrap().train[0].clone()
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// The shipped Heisenberg network: each bond is one parameter tied to XX, YY and ZZ; its EP
/// gradient at β = 1e-4 equals the exact gradient (MINRES oracle) and both equal central
/// finite differences of the cost (h = 1e-4) to 1e-6.
#[test]
fn heisenberg_gradient_matches_exact_and_finite_differences() {
    let m = heisenberg_xor();
    let bonds: Vec<_> = m
        .params
        .iter()
        .filter(|p| p.family.as_deref() == Some("heisenberg"))
        .collect();
    assert_eq!(
        bonds.len(),
        10,
        "premise: one tied parameter per bond of 5 sites"
    );
    assert_eq!(bonds[0].label, "X0 X1 + Y0 Y1 + Z0 Z1");
    assert_eq!(bonds[0].strings.len(), 3);
    assert!(m.params[0].is_tied() && m.params[0].strings[1].1 == 0.5);
    let p = tight(1e-4);
    let theta = m.theta();
    for ex in &m.dataset.as_ref().unwrap().train[..2] {
        let g = Engine::Eigen.gradient(&m, &theta, ex, &p).unwrap();
        let exact = Engine::Eigen.exact(&m, &theta, ex, &p).unwrap();
        let norm = exact.iter().map(|x| x * x).sum::<f64>().sqrt();
        assert!(norm > 1e-2, "premise: a non-zero gradient, ‖g‖ = {norm}");
        let d = max_diff(&g.ep, &exact);
        assert!(d < 1e-6, "EP vs exact: {d:e}");
        let h = 1e-4;
        let cost = |th: &[f64]| Engine::Eigen.predict(&m, th, ex, &p).unwrap().cost;
        let fd: Vec<f64> = (0..theta.len())
            .map(|k| {
                let (mut a, mut b) = (theta.clone(), theta.clone());
                a[k] += h;
                b[k] -= h;
                (cost(&a) - cost(&b)) / (2.0 * h)
            })
            .collect();
        let d = max_diff(&exact, &fd);
        assert!(d < 1e-6, "exact vs finite differences: {d:e}");
    }
}

/// A 4-qubit network written tied (`paulis`, `coeffs: [1, 1, 0.5]`) and untied (one param per
/// string, `θ_k c_kj` as its value): the same Hamiltonian, and the tied gradient is the
/// c-weighted sum of the untied one's, for the EP estimate, the oracle and the thermal
/// estimators.
#[test]
fn tied_gradient_is_the_weighted_sum_of_the_untied_gradients() {
    let head = "qubits: 4\ninputs: [0]\noutputs: [3]\nterms:\n  - {pauli: X0, coeff: -1.0}\n  - {pauli: X1, coeff: -0.8}\n  - {pauli: X2, coeff: -0.9}\n  - {pauli: X3, coeff: -0.7}\ndataset:\n  inputs: [[0.6]]\n  targets: [[1]]\n";
    let tied = parse_str(
        &format!("{head}params:\n  - {{paulis: [\"X0 X1\", \"Y0 Y1\", \"Z0 Z1\"], coeffs: [1, 1, 0.5], value: 0.3}}\n  - {{paulis: [\"X1 X2\", \"Y1 Y2\", \"Z1 Z2\"], value: -0.4}}\n  - {{paulis: [\"X2 X3\", \"Z2 Z3\"], coeffs: [2, -1], value: 0.25}}\n  - {{pauli: \"Z3\", value: 0.2}}\n"),
        Path::new("tied.yaml"),
    )
    .unwrap();
    let untied = parse_str(
        &format!("{head}params:\n  - {{pauli: \"X0 X1\", value: 0.3}}\n  - {{pauli: \"Y0 Y1\", value: 0.3}}\n  - {{pauli: \"Z0 Z1\", value: 0.15}}\n  - {{pauli: \"X1 X2\", value: -0.4}}\n  - {{pauli: \"Y1 Y2\", value: -0.4}}\n  - {{pauli: \"Z1 Z2\", value: -0.4}}\n  - {{pauli: \"X2 X3\", value: 0.5}}\n  - {{pauli: \"Z2 Z3\", value: -0.25}}\n  - {{pauli: \"Z3\", value: 0.2}}\n"),
        Path::new("untied.yaml"),
    )
    .unwrap();
    let ex = example0(&tied);
    let (ht, hu) = (
        tied.hamiltonian(&tied.theta(), Some(&ex), 0.1).unwrap(),
        untied.hamiltonian(&untied.theta(), Some(&ex), 0.1).unwrap(),
    );
    assert_eq!(ht, hu, "premise: the same Hamiltonian");
    assert_eq!(tied.params.len(), 4);
    // c-weights of the untied strings, parameter by parameter.
    let weights: [&[f64]; 4] = [&[1.0, 1.0, 0.5], &[1.0, 1.0, 1.0], &[2.0, -1.0], &[1.0]];
    let fold = |g: &[f64]| -> Vec<f64> {
        let mut it = g.iter();
        weights
            .iter()
            .map(|w| w.iter().map(|c| c * it.next().unwrap()).sum())
            .collect()
    };
    let p = tight(0.05);
    let gt = Engine::Eigen
        .gradient(&tied, &tied.theta(), &ex, &p)
        .unwrap();
    let gu = Engine::Eigen
        .gradient(&untied, &untied.theta(), &ex, &p)
        .unwrap();
    assert!(gt.ep.iter().all(|x| x.abs() > 1e-4), "premise: {:?}", gt.ep);
    assert!(max_diff(&gt.ep, &fold(&gu.ep)) < 1e-10, "EP");
    let (xt, xu) = (gt.exact.unwrap(), gu.exact.unwrap());
    assert!(max_diff(&xt, &fold(&xu)) < 1e-10, "oracle");
    for estimator in [ThermalGradient::Clamped, ThermalGradient::KuboMori] {
        let t = ThermalParams {
            method: ThermalMethod::Dense,
            ..ThermalParams::new(0.5, estimator, 1)
        };
        let engine = Engine::Thermal(t);
        let a = engine.gradient(&tied, &tied.theta(), &ex, &p).unwrap();
        let b = engine.gradient(&untied, &untied.theta(), &ex, &p).unwrap();
        assert!(
            max_diff(&a.ep, &fold(&b.ep)) < 1e-10,
            "{estimator:?}: {:?} vs {:?}",
            a.ep,
            fold(&b.ep)
        );
        // Exact thermal gradient (Kubo–Mori) of the tied model: the weighted sum as well.
        let (ea, eb) = (a.exact.unwrap(), b.exact.unwrap());
        assert!(max_diff(&ea, &fold(&eb)) < 1e-10, "{estimator:?} exact");
    }
}

/// The strings of a Heisenberg bond need three bases, X, Y and Z, shared by every bond: the
/// shots of a tied gradient are spent in 3 groups per state.
#[test]
fn heisenberg_strings_are_measured_in_three_bases() {
    let m = heisenberg_xor();
    let g = best_grouping(&m.param_strings());
    let bases: Vec<String> = g.groups().iter().map(|g| g.basis().label()).collect();
    assert_eq!(g.n_groups(), 3, "{bases:?}");
    assert_eq!(g.n_strings(), 35);
    let is = |f: fn(char) -> bool| bases.iter().filter(|b| b.chars().all(f)).count();
    assert_eq!(is(|c| "X 0123456789".contains(c)), 1, "{bases:?}");
    assert_eq!(is(|c| "Y 0123456789".contains(c)), 1, "{bases:?}");
    assert_eq!(is(|c| "Z 0123456789".contains(c)), 1, "{bases:?}");
}

/// `estimate_weighted` on untied operators is `estimate_paulis`, bit for bit; on tied ones
/// its mean is the weighted sum of the string means from the same shots.
#[test]
fn weighted_estimates_agree_with_string_estimates() {
    let m = heisenberg_xor();
    let ex = example0(&m);
    let h = m.hamiltonian(&m.theta(), Some(&ex), 0.0).unwrap();
    let spec = qep::linalg::eigenpairs(
        &qep::operator::XMaskOperator::new(&h).unwrap(),
        &LanczosParams::default(),
        None,
    )
    .unwrap();
    let psi = StateVector::from_amplitudes(m.qubits, spec.vector_c64(0));
    let strings = m.param_strings();
    let single: Vec<Vec<(PauliString, f64)>> = strings.iter().map(|&p| vec![(p, 1.0)]).collect();
    let a = estimate_paulis(&psi, &strings, 5_000, 3).unwrap();
    let b = estimate_weighted(&psi, &single, 5_000, 3).unwrap();
    assert_eq!(a, b);
    let ops: Vec<Vec<(PauliString, f64)>> = m.params.iter().map(|p| p.strings.clone()).collect();
    let w = estimate_weighted(&psi, &ops, 5_000, 3).unwrap();
    let folded = m.tie(&a.iter().map(|e| e.mean).collect::<Vec<_>>());
    for (k, (e, f)) in w.iter().zip(&folded).enumerate() {
        assert!((e.mean - f).abs() < 1e-12, "param {k}: {} vs {f}", e.mean);
        assert!(
            e.std_err > 0.0 && e.std_err < 0.1,
            "param {k}: {}",
            e.std_err
        );
    }
}

/// A shot-based tied gradient (2·10⁴ shots per group and state, seed 11) lies within 4σ of
/// the exact gradient for every parameter, with σ its own standard error; the shots spent are
/// 2 states × 3 groups × S.
#[test]
fn shot_based_tied_gradient_is_within_four_sigma_of_exact() {
    let m = heisenberg_xor();
    let ex = example0(&m);
    let s = 20_000;
    let p = EpParams {
        shots: Some(s),
        shot_seed: 11,
        ..tight(0.05)
    };
    let g = Engine::Eigen.gradient(&m, &m.theta(), &ex, &p).unwrap();
    let exact = g.exact.clone().unwrap();
    let std = g.ep_std.clone().unwrap();
    assert_eq!(g.shots_total, Some(2 * 3 * s));
    let mut z2 = 0.0;
    for k in 0..exact.len() {
        assert!(std[k] > 1e-3, "premise: param {k} is noisy, σ = {}", std[k]);
        let z = (g.ep[k] - exact[k]) / std[k];
        assert!(z.abs() < 4.0, "param {k} ({}): z = {z}", m.params[k].label);
        z2 += z * z;
    }
    // The standard errors are neither far too small nor far too large.
    let mean_z2 = z2 / exact.len() as f64;
    assert!(mean_z2 > 0.1 && mean_z2 < 3.0, "mean z² = {mean_z2}");
}

/// `qep run` trains the shipped Heisenberg network: the training loss falls by more than a
/// factor 10 in 100 epochs, from an untrained network that gets XOR wrong.
#[test]
fn qep_run_trains_the_heisenberg_network() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let v = json(&[
        "run",
        &model("heisenberg_xor.yaml"),
        "--epochs",
        "100",
        "--out",
        out,
    ]);
    let csv = std::fs::read_to_string(dir.path().join("metrics.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "train_cost").unwrap();
    let costs: Vec<f64> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(col).unwrap().parse().unwrap())
        .collect();
    assert_eq!(costs.len(), 100);
    let (first, last) = (costs[0], v["final_cost"].as_f64().unwrap());
    assert!(last < first / 10.0, "loss {first} → {last}");
    assert_eq!(v["train_accuracy"].as_f64(), Some(1.0), "{v}");
    let m = heisenberg_xor();
    let (_, acc0) = qep::ep::evaluate(
        &m,
        &m.theta(),
        &m.dataset.as_ref().unwrap().train,
        &TrainParams::from_model(&m).ep,
    )
    .unwrap();
    assert!(acc0 < 1.0, "premise: untrained accuracy {acc0}");
    // params.json holds one value per tied parameter.
    let params: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("params.json")).unwrap())
            .unwrap();
    assert_eq!(
        params["params"].as_array().map(Vec::len),
        Some(m.params.len())
    );
}

/// `qep grad --json` on a tied model: one entry per θ, labels that name the tie.
#[test]
fn grad_reports_one_entry_per_tied_parameter() {
    let v = json(&["grad", &model("heisenberg_xor.yaml"), "--beta", "0.001"]);
    let m = heisenberg_xor();
    assert_eq!(floats(&v["ep"]).len(), m.params.len());
    assert_eq!(v["params"][1], "X0 X1 + Y0 Y1 + Z0 Z1");
    assert_eq!(v["params"][0], "Z0 Z1 Z4 + 0.5 X2 X3 X4");
    assert!(v["cosine"].as_f64().unwrap() > 0.99999, "{}", v["cosine"]);
}

/// A parse that must fail: its message, which starts with the file, line and column.
fn err(text: &str) -> String {
    let e = parse_str(text, Path::new("t.yaml")).expect_err("rejected");
    e.to_string()
}

/// `head` is `"t.yaml:LINE: `KEY`"`: the message starts with the file and line, names the
/// key path after the column, and contains every needle.
#[track_caller]
fn assert_err(text: &str, head: &str, needles: &[&str]) {
    let msg = err(text);
    let (line, key) = head.split_once(' ').unwrap_or((head, ""));
    assert!(msg.starts_with(line), "{msg:?} should start with {line:?}");
    let after_col = msg[line.len()..]
        .split_once(": ")
        .map(|x| x.1)
        .unwrap_or("");
    assert!(after_col.starts_with(key), "{msg:?} should name {key:?}");
    for n in needles {
        assert!(msg.contains(n), "{msg:?} should contain {n:?}");
    }
}

/// Every malformed tie is refused with its file, line, column and key path.
#[test]
fn malformed_ties_are_located_errors() {
    let q = "qubits: 3\nparams:\n";
    assert_err(
        &format!("{q}  - {{paulis: [], value: 0.1}}\n"),
        "t.yaml:3: `params[0].paulis`",
        &["`paulis` is empty", "expected at least one Pauli string"],
    );
    assert_err(
        &format!("{q}  - {{pauli: \"X0 X1\", paulis: [\"Y0 Y1\"], value: 0.1}}\n"),
        "t.yaml:3: `params[0].paulis`",
        &["both `pauli` and `paulis` are given"],
    );
    assert_err(
        &format!("{q}  - {{value: 0.1}}\n"),
        "t.yaml:3: `params[0]`",
        &["neither `pauli` nor `paulis` is given"],
    );
    assert_err(
        &format!("{q}  - {{paulis: [\"X0 X1\", \"Y0 Y1\", \"X0  X1\"], value: 0.1}}\n"),
        "t.yaml:3: `params[0].paulis[2]`",
        &[
            "`X0 X1` appears twice in one tied parameter",
            "first at `params[0].paulis[0]`",
        ],
    );
    assert_err(
        &format!("{q}  - {{paulis: [\"X0 X1\", \"Y0 Y5\"], value: 0.1}}\n"),
        "t.yaml:3: `params[0].paulis[1]`",
        &["qubit 5 does not exist", "the model has 3 qubits"],
    );
    assert_err(
        &format!("{q}  - {{paulis: [\"X0 X1\", \"Y0 Y1\"], coeffs: [1], value: 0.1}}\n"),
        "t.yaml:3: `params[0].coeffs`",
        &["1 coefficients for 2 strings"],
    );
    assert_err(
        &format!("{q}  - {{paulis: [\"X0 X1\", \"Y0 Y1\"], coeffs: [1, 0], value: 0.1}}\n"),
        "t.yaml:3: `params[0].coeffs[1]`",
        &["0 is out of range", "a finite non-zero coefficient"],
    );
    assert_err(
        &format!("{q}  - {{pauli: \"X0 X1\", coeffs: [2], value: 0.1}}\n"),
        "t.yaml:3: `params[0].coeffs`",
        &["`coeffs` with a single `pauli`"],
    );
    // A string tied to one parameter cannot be another parameter's.
    assert_err(
        &format!(
            "{q}  - {{paulis: [\"X0 X1\", \"Y0 Y1\"], value: 0.1}}\n  - {{pauli: \"Y0 Y1\", value: 0.2}}\n"
        ),
        "t.yaml:4: `params[1].pauli`",
        &["`Y0 Y1` is already a parameter", "`params[0].paulis[1]`"],
    );
    // The Heisenberg family couples pairs.
    assert_err(
        "qubits: 3\ncouplings:\n  - {type: heisenberg, on: [0, 1], trainable: true, value: 0.1}\n",
        "t.yaml:3:",
        &["a single qubit in the two-body family heisenberg"],
    );
}

/// A fixed Heisenberg family adds XX + YY + ZZ on every bond to `H_fixed`: the shipped
/// `heisenberg_ring.yaml` written with one family instead of three.
#[test]
fn fixed_heisenberg_family_is_the_three_exchange_terms() {
    let three = load(Path::new(&model("heisenberg_ring.yaml"))).unwrap();
    let one = parse_str(
        "lattice: {shape: chain, sites: 8, periodic: true}\ncouplings:\n  - {type: heisenberg, value: 1.0}\n",
        Path::new("ring.yaml"),
    )
    .unwrap();
    assert_eq!(one.fixed.len(), 24);
    assert_eq!(one.fixed, three.fixed);
}

/// The run stamp (what `--resume` checks) changes with a tie's coefficients; an untied model's
/// parameters serialize with `paulis`/`coeffs` of one string.
#[test]
fn the_tie_is_part_of_the_run_stamp_and_the_json() {
    let text = |c: &str| {
        format!("qubits: 2\noutputs: [1]\nparams:\n  - {{paulis: [\"X0 X1\", \"Z0 Z1\"], coeffs: [1, {c}], value: 0.1}}\ndataset:\n  inputs: [[]]\n  targets: [[1]]\n")
    };
    let stamp = |c: &str| {
        let m = parse_str(&text(c), Path::new("s.yaml")).unwrap();
        let tp = TrainParams::from_model(&m);
        RunStamp::new(&m, &tp, &m.theta()).hamiltonian_sha256
    };
    assert_ne!(stamp("0.5"), stamp("0.25"));
    let m = parse_str(&text("0.5"), Path::new("s.yaml")).unwrap();
    let v = serde_json::to_value(&m.params[0]).unwrap();
    assert_eq!(v["paulis"], serde_json::json!(["X0 X1", "Z0 Z1"]));
    assert_eq!(v["coeffs"], serde_json::json!([1.0, 0.5]));
    assert_eq!(v["pauli"], "X0 X1");
    let xor = load(Path::new(&model("xor.yaml"))).unwrap();
    assert!(!xor.is_tied());
    let v = serde_json::to_value(&xor.params[0]).unwrap();
    assert_eq!(v["paulis"], serde_json::json!(["Z0 Z1 Z4"]));
}

/// The classical network refuses a tied parameter with a message that names it; the quantum
/// engines take the same model.
#[test]
fn classical_engine_refuses_a_tie_clearly() {
    let m = parse_str(
        "kind: classical\nqubits: 3\ninputs: [0]\noutputs: [2]\nparams:\n  - {paulis: [\"Z0 Z1\", \"Z1 Z2\"], value: 0.3}\ndataset:\n  inputs: [[1]]\n  targets: [[1]]\n",
        Path::new("c.yaml"),
    )
    .unwrap();
    let p = EpParams::from_model(&m, &EpOverrides::default()).unwrap();
    let e = Engine::for_model(&m, &p).unwrap_err().to_string();
    assert!(
        e.contains("param 0 `Z0 Z1 + Z1 Z2` ties 2 strings to one parameter"),
        "{e}"
    );
    let out = succeeds(
        qep()
            .args(["info", "--json"])
            .arg(model("heisenberg_xor.yaml")),
    );
    assert!(out.status.success());
}
