//! Adiabatic preparation of a network's ground state: fidelity against sweep time.
//!
//! `hamiltonians/xor_adiabatic.yaml` prepares the ground state of the XOR network for the first
//! example by sweeping `H(s) = (1 − s) H_start + s H_target` (a transverse field to the
//! network) in a time `T`, integrated by the Krylov/Magnus propagator and verified against
//! the Lanczos eigenstates of the target. The adiabatic theorem says the diabatic error falls
//! as a power of `T` — `1 − F ∝ T⁻²` for the linear ramp — once `T` is long against the
//! inverse gap squared. The example scans `T`, prints the fidelity, and checks that power law
//! with a least-squares fit over the long sweeps.
//!
//! Run: `cargo run --release --example adiabatic_benchmark`

use qep::adiabatic::prepare::{infidelity_slope, ScheduleKind};
use qep::cancel::Cancel;
use qep::study::prepare::{prepare_study, PrepareStudySettings};
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let model = qep::hamiltonian::load(Path::new("hamiltonians/xor_adiabatic.yaml"))?;
    let times = vec![2.0, 5.0, 10.0, 20.0, 40.0, 80.0];
    let settings = PrepareStudySettings {
        times: Some(times.clone()),
        schedule: Some(ScheduleKind::Linear),
        gap_points: 40,
        ..PrepareStudySettings::default()
    };
    let study = prepare_study(
        &model,
        None,
        &settings,
        &Cancel::new(),
        &qep::report::no_progress,
    )?;
    let runs = study
        .runs
        .as_ref()
        .ok_or("several times give a list of runs")?;
    println!("{}: linear sweep of {} qubits", model.name, study.qubits);
    println!(
        "  {:>6}  {:>12}  {:>12}  {:>10}",
        "T", "fidelity", "1 − F", "E − E₀"
    );
    for r in runs {
        let v = &r.run.verification;
        println!(
            "  {:>6}  {:>12.8}  {:>12.3e}  {:>10.2e}",
            r.run.time,
            v.fidelity,
            1.0 - v.fidelity,
            v.energy_error
        );
        // A state's energy is never below the ground energy (variational principle).
        assert!(
            v.energy_error > -1e-9,
            "energy below the ground state: {}",
            v.energy_error
        );
    }
    if let Some(g) = runs[0].min_gap {
        println!("  smallest gap along the path: {g:.4}");
    }
    let first = 1.0 - runs[0].run.verification.fidelity;
    let last = 1.0 - runs[runs.len() - 1].run.verification.fidelity;
    assert!(
        last < 1e-2,
        "T = {} leaves an infidelity of {last}",
        times[times.len() - 1]
    );
    assert!(
        last < first / 10.0,
        "longer sweeps did not help: {first} → {last}"
    );
    // The power law over the long sweeps (the short ones are not yet adiabatic).
    let long: Vec<_> = runs.iter().skip(3).map(|r| r.run.clone()).collect();
    let slope = infidelity_slope(&long).ok_or("too few sweeps above round-off")?;
    println!(
        "  fitted 1 − F ∝ T^{slope:.2} over T ≥ {} (adiabatic theorem: T^-2)",
        long[0].time
    );
    assert!(
        (slope + 2.0).abs() < 0.7,
        "slope {slope} is not the adiabatic theorem's −2"
    );
    Ok(())
}
