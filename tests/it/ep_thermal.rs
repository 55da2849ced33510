//! Thermal EP (Section IV, DESIGN.md "Thermal case"): the dense Gibbs state against analytic
//! results; training on a Gibbs state with each estimator; the shot covariance of `qep grad`.
//! (The estimators against finite differences of Gibbs states are unit tests of
//! `ep::thermal`, beside the comparison they call.)

use std::path::Path;

use qep::pauli::{PauliString, PauliSum};
use qep::state::{log_mean_weight, Gibbs};

#[test]
fn gibbs_state_of_one_spin_is_analytic() {
    // H = h Z: ⟨Z⟩ = −tanh(h/T), F = −T ln(2 cosh(h/T)); at T = 1e-3 with h = 50 the
    // unshifted weights would underflow.
    for (h, t) in [(0.7, 0.5), (-1.3, 2.0), (50.0, 1e-3)] {
        let mut hz = PauliSum::new(1);
        hz.add(PauliString::parse("Z0").unwrap(), h);
        let g = Gibbs::new(&hz, t).unwrap();
        let mut z = PauliSum::new(1);
        z.add(PauliString::parse("Z0").unwrap(), 1.0);
        let ez = g.expectation_levels(&z).unwrap();
        assert!(
            (ez + (h / t).tanh()).abs() < 1e-14,
            "⟨Z⟩ = {ez}, h = {h}, T = {t}"
        );
        let a = (h / t).abs();
        let f = -t * (a + (1.0 + (-2.0 * a).exp()).ln());
        assert!(
            (g.free_energy - f).abs() < 1e-12 * (1.0 + f.abs()),
            "F = {}",
            g.free_energy
        );
        assert!((g.weights.iter().sum::<f64>() - 1.0).abs() < 1e-15);
    }
}

/// A Gibbs state's error reaches the crate-wide error with its message.
#[test]
fn gibbs_errors_reach_the_crate_error() {
    let mut hz = PauliSum::new(1);
    hz.add(PauliString::parse("Z0").unwrap(), 0.7);
    let e = Gibbs::new(&hz, -2.0).unwrap_err();
    assert!(e.to_string().contains("T = -2"), "{e}");
    let e: qep::Error = e.into();
    assert!(e.to_string().contains("T = -2"), "{e}");
}

#[test]
fn kubo_mori_weight_is_the_logarithmic_mean() {
    // ∫₀¹ p_m^s p_n^{1−s} ds by Simpson, across the series/expm1 switch and a large gap.
    let t = 0.7;
    for de in [0.0, 1e-9, 5e-7, 2e-6, 1e-3, 0.5, 30.0] {
        let (em, en): (f64, f64) = (0.2, 0.2 + de);
        let (pm, pn) = ((-em / t).exp(), (-en / t).exp());
        let k = 20000;
        let f = |s: f64| pm.powf(s) * pn.powf(1.0 - s);
        let mut quad = f(0.0) + f(1.0);
        for i in 1..k {
            let s = i as f64 / k as f64;
            quad += if i % 2 == 1 { 4.0 } else { 2.0 } * f(s);
        }
        quad /= 3.0 * k as f64;
        let w = log_mean_weight(em, en, pm, pn, t);
        assert!((w - quad).abs() < 1e-12 * pm, "ΔE = {de}: {w} vs {quad}");
        assert_eq!(w, log_mean_weight(en, em, pn, pm, t), "symmetric");
    }
}

#[test]
fn xor_trains_on_its_gibbs_state_and_each_estimator_is_compared_at_epoch_zero() {
    use qep::ep::thermal::ThermalMethod;
    use qep::ep::{TrainParams, Trainer};
    use qep::hamiltonian::ThermalGradient;
    let m = qep::hamiltonian::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("hamiltonians/xor_thermal.yaml"),
    )
    .unwrap();
    let p = TrainParams::from_model(&m);
    let th = p.thermal.clone().expect("premise: a thermal model");
    assert_eq!(
        (th.temperature, th.estimator),
        (0.3, ThermalGradient::Clamped)
    );
    assert_eq!(th.resolve(m.qubits).unwrap(), ThermalMethod::Dense);
    // Cosine of each estimator against the exact (Kubo–Mori) gradient on the first batch.
    let mut cos = Vec::new();
    for est in [
        ThermalGradient::Clamped,
        ThermalGradient::Covariance,
        ThermalGradient::KuboMori,
    ] {
        let mut q = p.clone();
        q.cosine_every = 1;
        q.training.epochs = 1;
        q.thermal.as_mut().unwrap().estimator = est;
        let mut t = Trainer::new(&m, q, None).unwrap();
        let c = t.run_epoch(|_, _| {}).unwrap().cosine.unwrap();
        eprintln!("epoch 0 cosine vs exact at T = 0.3: {est:?} {c:.8}");
        cos.push(c);
    }
    assert!(cos[0] > 0.99999, "clamped cosine {}", cos[0]);
    assert!(
        (0.95..0.999).contains(&cos[1]),
        "covariance (Eq. 43) cosine {}: expected biased but aligned",
        cos[1]
    );
    assert!(cos[2] > 1.0 - 1e-12, "Kubo–Mori is the oracle: {}", cos[2]);

    let mut t = Trainer::new(&m, p, None).unwrap();
    while !t.finished() {
        t.run_epoch(|_, _| {}).unwrap();
    }
    let h = &t.checkpoint().history;
    let (first, last) = (&h[0], h.last().unwrap());
    eprintln!(
        "xor at T = 0.3: epoch 1 cost {:.4} acc {:.2}; epoch {} cost {:.5} acc {:.2}",
        first.train_cost, first.train_accuracy, last.epoch, last.train_cost, last.train_accuracy
    );
    assert!(
        first.train_cost > 0.9 && first.train_accuracy <= 0.5,
        "{first:?}"
    );
    assert_eq!(last.train_accuracy, 1.0, "{last:?}");
    assert!(last.train_cost < 0.01, "{last:?}");
}

#[test]
fn grad_json_carries_the_shot_covariance() {
    let f = crate::common::model("xor_thermal.yaml");
    let v = crate::common::json_of(crate::common::qep().args([
        "grad",
        &f,
        "--temperature",
        "0.5",
        "--shots",
        "50000",
        "--seed",
        "3",
        "--json",
    ]));
    let labels = v["params"].as_array().unwrap();
    let cs = v["covariance_shots"].as_array().unwrap();
    let sd = v["covariance_shots_std"].as_array().unwrap();
    let cov = v["covariance"].as_array().unwrap();
    assert_eq!(cs.len(), labels.len());
    let mut z_type = 0;
    for (i, l) in labels.iter().enumerate() {
        let l = l.as_str().unwrap();
        if l.contains('X') || l.contains('Y') {
            assert!(cs[i].is_null() && sd[i].is_null(), "{l}: {}", cs[i]);
        } else {
            z_type += 1;
            let (c, s, d) = (
                cs[i].as_f64().unwrap(),
                sd[i].as_f64().unwrap(),
                cov[i].as_f64().unwrap(),
            );
            assert!((c - d).abs() < 5.0 * s, "{l}: {c} ± {s} vs {d}");
        }
    }
    assert!(z_type >= 10, "premise: ZZ and Z parameters, {z_type}");
    assert_eq!(v["provenance"]["seed"], 3);
}
