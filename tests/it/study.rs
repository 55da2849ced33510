//! The barren-plateau scan against a brute-force recomputation of its variances.

use qep::ep::free_phase;
use qep::hamiltonian::Example;
use qep::linalg::{LanczosParams, Method};
use qep::study::plateau::{fit_line, network, plateau_scan, Family, PlateauParams};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

#[test]
fn plateau_variance_matches_brute_force_finite_differences() {
    let p = PlateauParams {
        family: Family::Chain,
        sizes: vec![3, 4, 5],
        samples: 12,
        init_range: 1.0,
        seed: 9,
        ep_shots: None,
        temperature: None,
    };
    let scan = plateau_scan(&p, |_, _| {}).unwrap();
    assert_eq!(scan.sizes, vec![3, 4, 5]);
    let ex = Example {
        inputs: vec![0.5],
        targets: vec![1.0],
    };
    let dense = LanczosParams {
        method: Method::Dense,
        ..LanczosParams::default()
    };
    for (si, &n) in p.sizes.iter().enumerate() {
        // The same draws, gradients by central differences of dense ground states.
        let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
        rng.set_stream(n as u64);
        let mut grads: Vec<Vec<f64>> = Vec::new();
        for _ in 0..p.samples {
            let m = network(Family::Chain, n, p.init_range, &mut rng).unwrap();
            let theta = m.theta();
            let cost = |t: &[f64]| free_phase(&m, t, Some(&ex), &dense).unwrap().cost.unwrap();
            let h = 1e-5;
            grads.push(
                (0..theta.len())
                    .map(|k| {
                        let (mut a, mut b) = (theta.clone(), theta.clone());
                        a[k] += h;
                        b[k] -= h;
                        (cost(&a) - cost(&b)) / (2.0 * h)
                    })
                    .collect(),
            );
        }
        let k = grads[0].len();
        let s = p.samples as f64;
        let var: f64 = (0..k)
            .map(|j| {
                let mean = grads.iter().map(|g| g[j]).sum::<f64>() / s;
                grads.iter().map(|g| (g[j] - mean).powi(2)).sum::<f64>() / (s - 1.0)
            })
            .sum::<f64>()
            / k as f64;
        let got = scan.variance[si];
        assert!(var > 0.0, "premise: the gradients vary");
        assert!(
            (got - var).abs() < 1e-6 * var.max(1e-3),
            "N = {n}: scan {got}, brute force {var}"
        );
    }
    // The reported rate is minus the least-squares slope of ln Var against N.
    let ln: Vec<f64> = scan.variance.iter().map(|v| v.ln()).collect();
    let (slope, _) = fit_line(&[3.0, 4.0, 5.0], &ln);
    assert!((scan.decay_rate + slope).abs() < 1e-12);
}

#[test]
fn fit_line_recovers_a_known_slope_and_error() {
    let x = [1.0, 2.0, 3.0, 4.0];
    let (s, e) = fit_line(&x, &[2.0, 4.0, 6.0, 8.0]);
    assert!((s - 2.0).abs() < 1e-12 && e.abs() < 1e-12);
    // y = x + (+0.1, −0.1, −0.1, +0.1): slope 1, residuals 0.1, sxx = 5.
    let (s, e) = fit_line(&x, &[1.1, 1.9, 2.9, 4.1]);
    assert!((s - 1.0).abs() < 1e-12);
    assert!((e - (0.04f64 / 2.0 / 5.0).sqrt()).abs() < 1e-12);
}

#[test]
fn shot_scan_separates_bias_and_noise() {
    use qep::study::shots::{shot_scan, ShotScanParams};
    let y = "qubits: 4\ninputs: [0]\noutputs: [3]\nparams:\n  - {pauli: \"X0 X1\", value: 0.4}\n  - {pauli: \"Z1 Z2\", value: -0.5}\n  - {pauli: \"X2 X3\", value: 0.3}\n  - {pauli: \"Z2 Z3\", value: 0.6}\n  - {pauli: \"Z0 Z3\", value: 0.2}\nterms:\n  - {pauli: X1, coeff: -1}\n  - {pauli: X2, coeff: -1}\n  - {pauli: X3, coeff: -1}\n";
    let m = qep::hamiltonian::parse_str(y, std::path::Path::new("s.yaml")).unwrap();
    let ex = Example {
        inputs: vec![0.5],
        targets: vec![1.0],
    };
    let p = ShotScanParams {
        shots: vec![1_000, 100_000],
        betas: vec![0.05, 0.2],
        repeats: 16,
        seed: 3,
    };
    let s = shot_scan(&m, &m.theta(), &ex, &p, |_, _| {}).unwrap();
    assert_eq!(s.cells.len(), 4);
    for c in &s.cells {
        // Noise ≈ c/(β√S): every cell within ±40 % of the fitted coefficient (16 repeats).
        let ratio = c.noise * c.beta * (c.shots as f64).sqrt() / s.noise_coefficient;
        assert!((ratio - 1.0).abs() < 0.4, "{c:?}: ratio {ratio}");
        // The reported standard errors describe the observed spread.
        assert!((c.reported_std / c.noise - 1.0).abs() < 0.4, "{c:?}");
        // 2 groups (X-type, Z-type) × 2 clamped states.
        assert_eq!(c.shots_per_gradient, 4 * c.shots);
    }
    // With many shots at the large β the error is the clamping bias, b β².
    let big = s
        .cells
        .iter()
        .find(|c| c.shots == 100_000 && c.beta == 0.2)
        .unwrap();
    assert!(
        big.bias > 2.0 * big.noise / 4.0,
        "premise: bias visible ({big:?})"
    );
    assert!(
        (big.bias / (s.bias_coefficient * 0.04) - 1.0).abs() < 0.5,
        "{big:?}"
    );
    // The model's best β shrinks like S^{-1/6}.
    let (b1, b2) = (s.optimal_beta[0].2, s.optimal_beta[1].2);
    assert!((b2 / b1 - 100f64.powf(-1.0 / 6.0)).abs() < 1e-9);
}

#[test]
fn plateau_from_shots_tracks_the_exact_variance() {
    let p = PlateauParams {
        family: Family::Chain,
        sizes: vec![3, 4],
        samples: 16,
        init_range: 1.0,
        seed: 2,
        ep_shots: Some((1_000_000, 0.02)),
        temperature: None,
    };
    let scan = plateau_scan(&p, |_, _| {}).unwrap();
    for r in &scan.per_size {
        let v = r.variance_ep_shots.unwrap();
        // Shot noise adds ≈ (0.5 / (β √S))² = 6e-4 per component; the β² bias is smaller.
        assert!(
            (v / r.variance - 1.0).abs() < 0.2,
            "N = {}: EP {v}, exact {}",
            r.qubits,
            r.variance
        );
    }
}

#[test]
fn plateau_refuses_a_model_file_together_with_family() {
    // The file's lattice is the family: a --family beside it used to be ignored silently.
    let err = crate::common::fails(crate::common::qep().args([
        "plateau",
        &crate::common::model("ising_grid.yaml"),
        "--family",
        "chain",
        "--sizes",
        "4,6",
    ]));
    assert!(
        err.contains("the argument '[FILE]' cannot be used with '--family <FAMILY>'"),
        "{err}"
    );
}
