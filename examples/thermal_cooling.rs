//! Cooling a small network to its Gibbs state.
//!
//! A 3-qubit transverse-field Ising chain starts in `|000⟩` and is cooled at temperature
//! `T = 0.5` by repeated collisions with fresh thermal ancillas (the cooling method of
//! `qep thermalize`). The example prints the trace distance `½‖ρ − ρ_G‖₁` to the exact Gibbs
//! state `ρ_G = e^{−H/T}/Z` along the way, checks that it falls, and compares the final
//! energy with `Tr(ρ_G H)`, which it also computes itself from the dense spectrum of `H`
//! (the Boltzmann average `Σ E_n e^{−E_n/T} / Σ e^{−E_n/T}`) — no code shared with the
//! thermalizer.
//!
//! Run: `cargo run --release --example thermal_cooling`

use qep::evolve::thermalize::{thermalize, ThermalizeSettings};
use qep::linalg::dense_spectrum;
use qep::operator::XMaskOperator;
use std::path::Path;

const MODEL: &str = "\
name: tfim3
qubits: 3
terms:
  - {pauli: Z0 Z1, coeff: -1.0}
  - {pauli: Z1 Z2, coeff: -1.0}
  - {pauli: X0, coeff: -0.7}
  - {pauli: X1, coeff: -0.7}
  - {pauli: X2, coeff: -0.7}
";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let model = qep::hamiltonian::parse_str(MODEL, Path::new("tfim3.yaml"))?;
    let temperature = 0.5;
    let settings = ThermalizeSettings {
        temperature: Some(temperature),
        steps: 200,
        initial: "zero".into(),
        ..ThermalizeSettings::default()
    };
    let r = thermalize(&model, &settings, &qep::report::no_progress)?;
    println!(
        "{}: method {}, {} qubits at T = {temperature}",
        model.name, r.method, r.qubits
    );
    let every = (r.trace.len() / 8).max(1);
    for s in r.trace.iter().step_by(every) {
        println!(
            "  {} {:>6}: trace distance {:.4}, energy {:+.5}",
            r.step_unit,
            s.step,
            s.trace_distance.unwrap_or(f64::NAN),
            s.energy
        );
    }
    let d0 = r.trace[0]
        .trace_distance
        .ok_or("no trace distance at the start")?;
    let d1 = r.trace_distance.ok_or("no final trace distance")?;
    println!("  final: trace distance {d1:.2e}, energy {:+.6}", r.energy);

    // The Gibbs energy from the dense spectrum, computed here.
    let h = model.hamiltonian(&model.theta(), None, 0.0)?;
    let (energies, _) = dense_spectrum(&XMaskOperator::new(&h)?)?;
    let e0 = energies.iter().cloned().fold(f64::INFINITY, f64::min);
    let weights: Vec<f64> = energies
        .iter()
        .map(|e| (-(e - e0) / temperature).exp())
        .collect();
    let z: f64 = weights.iter().sum();
    let gibbs_energy: f64 = energies
        .iter()
        .zip(&weights)
        .map(|(e, w)| e * w)
        .sum::<f64>()
        / z;
    println!("  Gibbs energy Σ E e^(−E/T)/Z = {gibbs_energy:+.6}");
    assert!(
        d1 < d0 / 5.0,
        "cooling did not approach the Gibbs state: {d0} → {d1}"
    );
    assert!(
        (r.energy - gibbs_energy).abs()
            < 2.0 * d1 * energies.iter().map(|e| e.abs()).fold(0.0, f64::max) + 1e-6,
        "final energy {} against the Gibbs energy {gibbs_energy}",
        r.energy
    );
    Ok(())
}
