//! Training the XOR network with equilibrium propagation.
//!
//! `hamiltonians/xor.yaml` (5 qubits, Adam) is trained through the library's [`Trainer`]: each
//! epoch shuffles the four examples, computes the mean EP gradient of each mini-batch through
//! the one EP engine, updates `θ` and reports the mean cost `⟨C⟩` and the accuracy. A few
//! epochs are enough to see the cost fall; `qep run hamiltonians/xor.yaml` runs the whole
//! schedule and writes the run folder.
//!
//! Run: `cargo run --release --example train_xor`

use qep::ep::{TrainParams, Trainer};
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let model = qep::hamiltonian::load(Path::new("hamiltonians/xor.yaml"))?;
    let epochs = 15;
    let mut params = TrainParams::from_model(&model);
    params.training.epochs = epochs;
    let mut trainer = Trainer::new(&model, params, None)?;
    println!(
        "{}: engine {}, {} parameters",
        model.name,
        trainer.engine().name(),
        model.params.len()
    );
    // The cost before any update, from the same metric the epochs report.
    let (c0, a0) = qep::ep::evaluate(
        &model,
        &model.theta(),
        &model.dataset.as_ref().ok_or("no dataset")?.train,
        &trainer.params().ep,
    )?;
    println!("  epoch  0: cost {c0:.5}, accuracy {a0:.2}");
    let mut last = c0;
    while !trainer.finished() {
        let m = trainer.run_epoch(|_, _| {})?;
        println!(
            "  epoch {:>2}: cost {:.5}, accuracy {:.2}, |g| {:.4}",
            m.epoch, m.train_cost, m.train_accuracy, m.grad_norm
        );
        last = m.train_cost;
    }
    assert!(last < 0.9 * c0, "the cost did not fall: {c0} → {last}");
    Ok(())
}
