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
