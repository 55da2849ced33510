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
