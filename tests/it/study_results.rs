//! The studies added for RESULTS.md, each against an independent computation on a tiny case:
//! thermal barren plateaus against finite differences of the dense Gibbs cost, the TFIM chain
//! family, the Lie-algebra dimension against known algebras, the bootstrap intervals against
//! data with a known rate, and the preparation study's tolerance time.

use qep::hamiltonian::Example;
use qep::state::Gibbs;
use qep::study::lie::lie_dimension;
use qep::study::plateau::{
    bootstrap_rates, network, plateau_scan, size_statistics, Family, PlateauParams,
};
use qep::study::reproduce::{prep_chart, time_within, PrepPoint};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::common::{json_of, qep};

fn params(family: Family, sizes: Vec<usize>, samples: usize, t: Option<f64>) -> PlateauParams {
    PlateauParams {
        family,
        sizes,
        samples,
        init_range: 1.0,
        seed: 4,
        ep_shots: None,
        temperature: t,
    }
}

/// The mean over parameters of the variance over draws of central finite differences of
/// `cost(model, θ)`, for the scan's own draws of size `n`.
fn brute_variance(
    p: &PlateauParams,
    n: usize,
    cost: &dyn Fn(&qep::hamiltonian::Model, &[f64]) -> f64,
) -> f64 {
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    rng.set_stream(n as u64);
    let mut grads: Vec<Vec<f64>> = Vec::new();
    for _ in 0..p.samples {
        let m = network(p.family, n, p.init_range, &mut rng).unwrap();
        let theta = m.theta();
        let h = 1e-5;
        grads.push(
            (0..theta.len())
                .map(|k| {
                    let (mut a, mut b) = (theta.clone(), theta.clone());
                    a[k] += h;
                    b[k] -= h;
                    (cost(&m, &a) - cost(&m, &b)) / (2.0 * h)
                })
                .collect(),
        );
    }
    let s = p.samples as f64;
    let k = grads[0].len();
    (0..k)
        .map(|j| {
            let mean = grads.iter().map(|g| g[j]).sum::<f64>() / s;
            grads.iter().map(|g| (g[j] - mean).powi(2)).sum::<f64>() / (s - 1.0)
        })
        .sum::<f64>()
        / k as f64
}

fn example() -> Example {
    Example {
        inputs: vec![0.5],
        targets: vec![1.0],
    }
}

#[test]
fn thermal_plateau_matches_finite_differences_of_the_gibbs_cost() {
    let t = 0.4;
    for family in [Family::Chain, Family::TfimChain] {
        let p = params(family, vec![3, 4], 6, Some(t));
        let scan = plateau_scan(&p, |_, _| {}).unwrap();
        assert_eq!(scan.temperature, Some(t));
        let ex = example();
        // ⟨C⟩_T from the dense Gibbs state of H(0, θ, u, d): no Kubo–Mori formula involved.
        let cost = |m: &qep::hamiltonian::Model, th: &[f64]| {
            let h = m.hamiltonian(th, Some(&ex), 0.0).unwrap();
            Gibbs::new(&h, t)
                .unwrap()
                .expectation_levels(&m.cost_operator(&ex.targets))
                .unwrap()
        };
        for (si, &n) in p.sizes.iter().enumerate() {
            let want = brute_variance(&p, n, &cost);
            let got = scan.variance[si];
            assert!(want > 1e-6, "premise: the gradients vary ({want})");
            assert!(
                (got - want).abs() < 1e-6 * want,
                "{family:?} N = {n}: scan {got}, finite differences {want}"
            );
        }
    }
}

#[test]
fn tfim_chain_family_is_zz_bonds_and_x_fields_and_its_ground_state_variance_is_right() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let m = network(Family::TfimChain, 5, 1.0, &mut rng).unwrap();
    let labels: Vec<&str> = m.params.iter().map(|p| p.label.as_str()).collect();
    assert_eq!(
        labels,
        ["Z0 Z1", "Z1 Z2", "Z2 Z3", "Z3 Z4", "X0", "X1", "X2", "X3", "X4"]
    );
    // No fixed terms: the transverse field is the trainable X_i.
    let h = m.hamiltonian(&m.theta(), None, 0.0).unwrap();
    assert_eq!(h.terms().len(), 9);
    let p = params(Family::TfimChain, vec![3, 4], 8, None);
    let scan = plateau_scan(&p, |_, _| {}).unwrap();
    let ex = example();
    let dense = qep::linalg::LanczosParams {
        method: qep::linalg::Method::Dense,
        ..Default::default()
    };
    let cost = |m: &qep::hamiltonian::Model, th: &[f64]| {
        qep::ep::free_phase(m, th, Some(&ex), &dense)
            .unwrap()
            .cost
            .unwrap()
    };
    for (si, &n) in p.sizes.iter().enumerate() {
        let want = brute_variance(&p, n, &cost);
        let got = scan.variance[si];
        assert!(
            (got - want).abs() < 1e-5 * want,
            "N = {n}: scan {got}, finite differences {want}"
        );
        // Bonds (second group, "ZZ") and fields (first group, reported as "XX").
        let r = &scan.per_size[si];
        assert_eq!(r.params, 2 * n - 1);
        let mean = (r.variance_xx * n as f64 + r.variance_zz * (n - 1) as f64) / r.params as f64;
        assert!((mean - r.variance).abs() < 1e-12 * r.variance);
    }
}

/// Above the dense size the scan takes the Kubo–Mori gradient by typicality: its observed
/// variance is the sample variance of the draws' gradients and its noise the mean of their
/// squared standard errors, both recomputed here from the engine draw by draw (same networks,
/// same random-vector seeds); the reported variance is their difference, and at T = 1 the
/// noise dominates the tiny variance, which the scan says in a warning.
#[test]
fn thermal_plateau_above_the_dense_size_subtracts_the_typicality_noise() {
    use qep::ep::thermal::{ThermalMethod, ThermalParams};
    use qep::ep::{Engine, EpParams};
    use qep::hamiltonian::ThermalGradient;
    use qep::study::plateau::{THERMAL_DENSE_MAX, THERMAL_VECTORS};
    let n = THERMAL_DENSE_MAX + 1;
    let p = params(Family::TfimChain, vec![n, n + 1], 3, Some(1.0));
    let r = plateau_scan(&p, |_, _| {}).unwrap();
    for s in &r.per_size {
        assert_eq!(s.method, "typicality");
        let (obs, noise) = (s.variance_observed.unwrap(), s.noise_variance.unwrap());
        assert!((s.variance - (obs - noise)).abs() <= 1e-15 * obs.abs().max(noise));
        assert!(noise > 0.0);
    }
    // The first size, draw by draw.
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    rng.set_stream(n as u64);
    let ex = example();
    let (mut g, mut e2) = (Vec::new(), Vec::new());
    for sample in 0..p.samples {
        let m = network(p.family, n, p.init_range, &mut rng).unwrap();
        let mut tp = ThermalParams::new(
            1.0,
            ThermalGradient::KuboMori,
            p.seed ^ ((n as u64) << 32) ^ sample as u64,
        );
        tp.method = ThermalMethod::Typicality;
        tp.typicality.samples = THERMAL_VECTORS;
        let ep = EpParams {
            thermal: Some(tp.clone()),
            ..EpParams::default()
        };
        let d = Engine::Thermal(tp)
            .gradient(&m, &m.theta(), &ex, &ep)
            .unwrap();
        e2.push(d.ep_std.unwrap().iter().map(|x| x * x).collect::<Vec<_>>());
        g.push(d.ep);
    }
    let k = g[0].len();
    let s = p.samples as f64;
    let obs: f64 = (0..k)
        .map(|j| {
            let m = g.iter().map(|x| x[j]).sum::<f64>() / s;
            g.iter().map(|x| (x[j] - m).powi(2)).sum::<f64>() / (s - 1.0)
        })
        .sum::<f64>()
        / k as f64;
    let noise: f64 = e2.iter().flatten().sum::<f64>() / (s * k as f64);
    let first = &r.per_size[0];
    assert!(
        (first.variance_observed.unwrap() / obs - 1.0).abs() < 1e-9,
        "{obs}"
    );
    assert!(
        (first.noise_variance.unwrap() / noise - 1.0).abs() < 1e-9,
        "{noise}"
    );
    assert!(
        r.warnings.iter().any(|w| w.contains("typicality noise")),
        "{:?}",
        r.warnings
    );
}

#[test]
fn lie_dimension_of_known_algebras() {
    use qep::pauli::PauliString;
    let s = |t: &str| PauliString::parse(t).unwrap();
    // su(2): {X, Z} → X, Z, Y.
    assert_eq!(lie_dimension(&[s("X0"), s("Z0")], 100).dimension, 3);
    // A universal two-qubit set generates su(4).
    let d = lie_dimension(&[s("X0"), s("Z0"), s("X1"), s("Z1"), s("Z0 Z1")], 100);
    assert_eq!((d.dimension, d.complete), (15, true));
    // Commuting generators: an abelian algebra of their own count.
    assert_eq!(
        lie_dimension(&[s("Z0"), s("Z1"), s("Z0 Z1")], 100).dimension,
        3
    );
    // The TFIM chain {Z_i Z_(i+1), X_i} is free fermions: so(2N), dimension N(2N − 1).
    for n in 2..=7 {
        let mut g: Vec<PauliString> = (0..n).map(|i| s(&format!("X{i}"))).collect();
        g.extend((0..n - 1).map(|i| s(&format!("Z{i} Z{}", i + 1))));
        let d = lie_dimension(&g, 100_000);
        assert!(d.complete);
        assert_eq!(d.dimension, n * (2 * n - 1), "N = {n}");
    }
    // The cap stops the closure with a lower bound.
    let d = lie_dimension(&[s("X0"), s("Z0"), s("X1"), s("Z1"), s("Z0 Z1")], 10);
    assert!(!d.complete && d.dimension > 10);
}

#[test]
fn plateau_scans_report_their_lie_algebra() {
    // With the input field u Z_0 and the cost on Z_(N-1) (boundary Majorana terms) the TFIM
    // algebra is so(2N + 2), of dimension (N + 1)(2N + 1); XX + ZZ bonds with a transverse
    // field and the same boundary terms generate all of su(2^N).
    let scan = |f| plateau_scan(&params(f, vec![3, 4, 5], 2, None), |_, _| {}).unwrap();
    let (tfim, chain) = (scan(Family::TfimChain), scan(Family::Chain));
    for (t, c) in tfim.per_size.iter().zip(&chain.per_size) {
        let n = t.qubits;
        assert!(t.lie_dimension.complete && c.lie_dimension.complete);
        assert_eq!(t.lie_dimension.dimension, (n + 1) * (2 * n + 1), "N = {n}");
        assert_eq!(
            c.lie_dimension.dimension,
            4usize.pow(n as u32) - 1,
            "N = {n}"
        );
    }
}

#[test]
fn bootstrap_interval_of_a_known_decay() {
    // Draws ±a_N (half each) with a_N² = e^{−0.7 N}: every draw's mean squared gradient is
    // exactly a_N², so the median's rate is 0.7 in every resample; the variance's rate
    // fluctuates only through the resampled signs.
    let sizes: [f64; 4] = [4.0, 6.0, 8.0, 10.0];
    let draws: Vec<Vec<Vec<f64>>> = sizes
        .iter()
        .map(|&n| {
            let a = (-0.35 * n).exp();
            (0..200)
                .map(|d| vec![if d % 2 == 0 { a } else { -a }; 3])
                .collect()
        })
        .collect();
    let (var, med) = bootstrap_rates(&sizes, &draws, 1);
    assert!(
        (med.0 - 0.7).abs() < 1e-9 && (med.1 - 0.7).abs() < 1e-9,
        "{med:?}"
    );
    assert!(
        var.0 < 0.7 && var.1 > 0.7 && var.1 - var.0 < 0.05,
        "{var:?}"
    );
    // The statistics themselves: variance a²·s/(s − 1) over an even split, median a².
    let idx: Vec<usize> = (0..200).collect();
    let (v, m) = size_statistics(&draws[0], &idx, &mut Vec::new());
    let a2 = (-0.7f64 * 4.0).exp();
    assert!((v - a2 * 200.0 / 199.0).abs() < 1e-12 * a2 && (m - a2).abs() < 1e-15);
    // The scan reports an interval around its own rate.
    let scan = plateau_scan(&params(Family::Chain, vec![3, 4, 5], 30, None), |_, _| {}).unwrap();
    let (lo, hi) = scan.decay_rate_median_ci95_bootstrap;
    assert!(
        lo <= scan.decay_rate_median && scan.decay_rate_median <= hi,
        "{lo} {hi}"
    );
    let (lo, hi) = scan.decay_rate_ci95_bootstrap;
    assert!(lo < hi && lo.is_finite() && hi.is_finite());
}

#[test]
fn plateau_cli_writes_thermal_tfim_scan_with_bootstrap() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p");
    let v = json_of(qep().args([
        "plateau",
        "--family",
        "tfim-chain",
        "--sizes",
        "3,4",
        "--samples",
        "4",
        "--temperature",
        "0.5",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]));
    assert_eq!(v["family"], "tfim-chain");
    assert_eq!(v["temperature"], 0.5);
    assert_eq!(v["bootstrap_resamples"], 1000);
    assert!(v["decay_rate_ci95_bootstrap"][0].as_f64().is_some());
    assert_eq!(v["per_size"][0]["lie_dimension"]["complete"], true);
    let csv = std::fs::read_to_string(out.join("plateau.csv")).unwrap();
    assert!(csv
        .lines()
        .next()
        .unwrap()
        .ends_with(",lie_dimension,lie_complete,method,variance_observed,noise_variance"));
    assert_eq!(v["per_size"][0]["method"], "dense");
    assert_eq!(
        &std::fs::read(out.join("plateau.png")).unwrap()[1..4],
        b"PNG"
    );
}

#[test]
fn time_within_tolerance_needs_every_longer_sweep_within() {
    let p = |time: f64, relative_error: f64| PrepPoint {
        time,
        relative_error,
        cosine: 1.0 - relative_error,
        fidelities: vec![1.0 - relative_error; 3],
    };
    // Dips below 1 % at T = 2, rises again at 4, stays from 8 on.
    let pts = [
        p(1.0, 0.5),
        p(2.0, 0.005),
        p(4.0, 0.02),
        p(8.0, 0.008),
        p(16.0, 1e-4),
    ];
    assert_eq!(time_within(&pts, 0.01), Some(8.0));
    assert_eq!(time_within(&pts[..3], 0.01), None);
    assert_eq!(time_within(&pts, 1.0), Some(1.0));
    let c = prep_chart("m", &pts, Some(0.3));
    assert!(c.log_x && c.log_y && c.title.contains("0.300"));
    assert_eq!(c.curves.len(), 6);
}
