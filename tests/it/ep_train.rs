//! Training by EP on the shipped task files: accuracy reached from the file's seed, and bit
//! for bit reproducibility.

use std::path::Path;

use qep::ep::{TrainParams, Trainer};
use qep::hamiltonian::{load, Model};

fn model(name: &str) -> Model {
    load(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("hamiltonians")
            .join(name),
    )
    .unwrap()
}

/// Trains to the file's epochs; returns the final θ and the last epoch's metrics.
fn train(m: &Model) -> (Vec<f64>, qep::ep::EpochMetrics) {
    let mut t = Trainer::new(m, TrainParams::from_model(m), None).unwrap();
    while !t.finished() {
        t.run_epoch(|_, _| {}).unwrap();
    }
    let c = t.checkpoint();
    (c.theta.clone(), c.history.last().unwrap().clone())
}

#[test]
fn xor_is_learned_and_reproducible_bit_for_bit() {
    let m = model("xor.yaml");
    let (theta, last) = train(&m);
    // Premise: the untrained network gets XOR wrong somewhere.
    let (_, acc0) = qep::ep::evaluate(
        &m,
        &m.theta(),
        &m.dataset.as_ref().unwrap().train,
        &TrainParams::from_model(&m).ep,
    )
    .unwrap();
    assert!(acc0 < 1.0, "premise: untrained accuracy {acc0}");
    assert_eq!(last.train_accuracy, 1.0, "{last:?}");
    assert!(last.train_cost < 0.05, "{last:?}");
    let (again, _) = train(&m);
    assert!(theta
        .iter()
        .zip(&again)
        .all(|(a, b)| a.to_bits() == b.to_bits()));
}

#[test]
fn parity3_and_the_grid_majority_are_learned() {
    for (name, cost) in [("parity3.yaml", 0.1), ("ising_grid.yaml", 0.01)] {
        let (_, last) = train(&model(name));
        assert_eq!(last.train_accuracy, 1.0, "{name}: {last:?}");
        assert!(last.train_cost < cost, "{name}: {last:?}");
    }
}

#[test]
fn iris_reaches_ninety_percent_on_the_test_set() {
    let m = model("iris.yaml");
    assert!(m.qubits <= 14);
    let d = m.dataset.as_ref().unwrap();
    assert_eq!((d.train.len(), d.test.len()), (105, 45));
    let (_, last) = train(&m);
    assert!(last.test_accuracy >= 0.9, "{last:?}");
    assert!(last.train_accuracy >= 0.9, "{last:?}");
}

#[test]
fn a_classical_network_learns_xor_through_the_same_trainer() {
    let m = model("xor_classical.yaml");
    assert_eq!(m.kind, qep::hamiltonian::ModelKind::Classical);
    let (_, last) = train(&m);
    assert_eq!(last.train_accuracy, 1.0, "{last:?}");
    assert!(last.train_cost < 0.01, "{last:?}");
}

#[test]
fn training_from_shots_learns_and_counts_its_shots() {
    let mut m = model("ising_grid.yaml");
    m.settings.shots = Some(20_000);
    m.settings.beta = Some(0.05);
    let mut p = TrainParams::from_model(&m);
    p.training.epochs = 40;
    let mut t = Trainer::new(&m, p, None).unwrap();
    while !t.finished() {
        t.run_epoch(|_, _| {}).unwrap();
    }
    let last = t.checkpoint().history.last().unwrap().clone();
    assert_eq!(last.train_accuracy, 1.0, "{last:?}");
    assert_eq!(last.test_accuracy, 1.0, "{last:?}");
    // 40 epochs × 16 examples × (X-type, Z-type) groups × (+β, −β) states × 20 000 shots.
    assert_eq!(last.shots, 40 * 16 * 2 * 2 * 20_000);
    let first = t.checkpoint().history[0].clone();
    assert!(first.snr.unwrap() > 1.0, "{first:?}");
    // The exact-expectation run logs no SNR.
    assert!(train(&model("ising_grid.yaml")).1.snr.is_none());
}

/// `xor.yaml` with plain SGD (no momentum) on its whole training set as one batch, for
/// `epochs` epochs, with weight decay `weight_decay`, β = 1e-4 and learning rate `lr`.
fn xor_sgd(weight_decay: f64, lr: f64) -> Model {
    let mut m = model("xor.yaml");
    m.settings.beta = Some(1e-4);
    m.settings.training = Some(qep::hamiltonian::Training {
        epochs: 1,
        optimizer: qep::hamiltonian::Optimizer::Sgd,
        learning_rate: lr,
        momentum: 0.0,
        batch_size: 4,
        lr_decay: 1.0,
        weight_decay,
    });
    m
}

/// θ after one epoch of `m`'s training from its initial θ.
fn one_epoch(m: &Model) -> Vec<f64> {
    let mut t = Trainer::new(m, TrainParams::from_model(m), None).unwrap();
    t.run_epoch(|_, _| {}).unwrap();
    t.checkpoint().theta.clone()
}

#[test]
fn weight_decay_descends_the_penalised_cost_checked_by_finite_differences() {
    // The step of one full-batch SGD epoch is −lr times the gradient the trainer descends.
    // With weight decay λ that must be the gradient of J(θ) = mean C(θ) + λ‖θ‖², here from
    // central differences of J evaluated by the free phase (β = 1e-4: EP's symmetric
    // estimate is within O(β²) of the exact gradient).
    let (lambda, lr, h) = (0.3, 0.5, 1e-4);
    let m = xor_sgd(lambda, lr);
    let theta0 = m.theta();
    let descended: Vec<f64> = theta0
        .iter()
        .zip(one_epoch(&m))
        .map(|(a, b)| (a - b) / lr)
        .collect();
    let train = &m.dataset.as_ref().unwrap().train;
    let ep = TrainParams::from_model(&m).ep;
    let j = |theta: &[f64], l: f64| {
        qep::ep::evaluate(&m, theta, train, &ep).unwrap().0
            + qep::ep::weight_decay_penalty(theta, l)
    };
    let fd = |l: f64| -> Vec<f64> {
        (0..theta0.len())
            .map(|k| {
                let (mut p, mut q) = (theta0.clone(), theta0.clone());
                p[k] += h;
                q[k] -= h;
                (j(&p, l) - j(&q, l)) / (2.0 * h)
            })
            .collect()
    };
    let (want, unpenalised) = (fd(lambda), fd(0.0));
    let max_diff = |a: &[f64], b: &[f64]| {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max)
    };
    let scale = want.iter().map(|x| x.abs()).fold(0.0, f64::max);
    assert!(
        max_diff(&descended, &want) <= 1e-4 * scale,
        "{descended:?} vs {want:?}"
    );
    // Premise: the penalty moves the gradient by far more than that tolerance (a missing
    // penalty, or λθ for 2λθ, would fail).
    assert!(max_diff(&want, &unpenalised) >= 0.05 * scale);
    // The penalty itself: λ‖θ‖² on a known vector.
    assert_eq!(qep::ep::weight_decay_penalty(&[3.0, -4.0], 0.5), 12.5);
}

#[test]
fn without_weight_decay_the_step_is_bit_for_bit_the_plain_ep_step() {
    // One example, one batch, SGD without momentum: the step is exactly −lr times the
    // engine's EP gradient (λ = 0: nothing added), and with λ exactly −lr (g + 2λθ).
    let lr = 0.5;
    for lambda in [0.0, 0.3] {
        let mut m = xor_sgd(lambda, lr);
        m.dataset.as_mut().unwrap().train.truncate(1);
        let example = m.dataset.as_ref().unwrap().train[0].clone();
        let theta0 = m.theta();
        let mut ep = TrainParams::from_model(&m).ep;
        ep.exact = false;
        ep.gap = false;
        let g = qep::ep::Engine::for_model(&m, &ep)
            .unwrap()
            .gradient(&m, &theta0, &example, &ep)
            .unwrap()
            .ep;
        let want: Vec<f64> = theta0
            .iter()
            .zip(&g)
            .map(|(t, g)| {
                let g = if lambda == 0.0 {
                    *g
                } else {
                    g + 2.0 * lambda * t
                };
                t - lr * g
            })
            .collect();
        let got = one_epoch(&m);
        assert!(
            got.iter()
                .zip(&want)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "λ = {lambda}: {got:?} vs {want:?}"
        );
    }
}

#[test]
fn weight_decay_is_recorded_only_when_set_and_a_change_refuses_resume() {
    // Off, the settings a checkpoint records are those of runs made before the option
    // existed, so their checkpoints still resume.
    let off = serde_json::to_value(qep::hamiltonian::Training::default()).unwrap();
    assert!(off.get("weight_decay").is_none(), "{off}");
    let on = xor_sgd(0.3, 0.5);
    let mut t = Trainer::new(&on, TrainParams::from_model(&on), None).unwrap();
    t.run_epoch(|_, _| {}).unwrap();
    let c = t.checkpoint().clone();
    let other = xor_sgd(0.1, 0.5);
    let Err(e) = Trainer::new(&other, TrainParams::from_model(&other), Some(c)) else {
        panic!("a checkpoint of λ = 0.3 resumed with λ = 0.1");
    };
    assert!(
        e.to_string().contains("training.weight_decay: 0.3 → 0.1"),
        "{e}"
    );
    // A negative λ from Rust (the file's is refused on load) is refused by the trainer.
    let bad = xor_sgd(-0.1, 0.5);
    let Err(e) = Trainer::new(&bad, TrainParams::from_model(&bad), None) else {
        panic!("λ < 0 accepted");
    };
    assert!(e.to_string().contains("expected a finite λ ≥ 0"), "{e}");
    let text = "qubits: 2\ntraining: {weight_decay: -1}\n";
    let e = qep::hamiltonian::parse_str(text, Path::new("t.yaml")).unwrap_err();
    assert!(e.to_string().contains("`training.weight_decay`"), "{e}");
    let m = qep::hamiltonian::parse_str(
        "qubits: 2\ntraining: {weight_decay: 0.25}\n",
        Path::new("t.yaml"),
    )
    .unwrap();
    assert_eq!(m.settings.training.unwrap().weight_decay, 0.25);
}
