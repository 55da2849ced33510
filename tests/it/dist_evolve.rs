//! `qep evolve` (Krylov) with the state vector split over ranks (simulated by threads): the
//! observables equal one process's to 1e-10 for every start state, on 1, 2 and 4 ranks.

use std::path::Path;

use qep::dist::{self, DistError, ThreadComm};
use qep::evolve::runner::{evolve, Evolution, EvolveMethod, EvolveSettings};

/// 9 qubits, complex in the Z basis (Y letters), with terms that flip the top two qubits
/// (global on 2 and 4 ranks) and read their signs.
const MODEL: &str = r"qubits: 9
terms:
  - {pauli: X0, coeff: 0.7}
  - {pauli: Y8, coeff: 0.4}
  - {pauli: Z3 Z8, coeff: -1.0}
  - {pauli: X7 X8, coeff: 0.5}
  - {pauli: Y2 Z7, coeff: 0.3}
  - {pauli: Z0 Z1, coeff: 0.8}
  - {pauli: X4, coeff: 0.6}
  - {pauli: Y5 Y6, coeff: 0.2}
  - {pauli: X1 Y8 Z7, coeff: 0.35}
  - {pauli: Z2, coeff: 0.25}
  - {pauli: X3 X6, coeff: -0.45}
";

fn settings(initial: &str) -> EvolveSettings {
    EvolveSettings {
        initial: initial.into(),
        times: vec![0.0, 0.4, 1.3, 2.0],
        observe: ["Z0", "X8", "Z7 Z8", "X0 Y8", "Y7", "Z4"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        ..EvolveSettings::default()
    }
}

#[test]
fn distributed_evolution_equals_one_process_on_1_2_4_ranks() {
    let model = qep::hamiltonian::parse_str(MODEL, Path::new("dist.yaml")).expect("model");
    for initial in ["plus", "zero", "basis:389", "ground"] {
        let s = settings(initial);
        let Ok(Evolution::Krylov(one)) = evolve(&model, &s, &qep::report::no_progress) else {
            panic!("one-process Krylov evolution of {initial}");
        };
        // The observables move (a test of a constant would pass by accident), except from the
        // ground state, where they stay put.
        let moved = one
            .observables
            .values()
            .map(|v| (v[0] - v[3]).abs())
            .fold(0.0, f64::max);
        assert_eq!(
            moved > 1e-2,
            initial != "ground",
            "{initial}: {:?}",
            one.observables
        );
        for ranks in [1, 2, 4] {
            for got in ThreadComm::run(ranks, |comm| dist::evolve_krylov(&model, &s, comm)) {
                let got = got.expect("distributed evolution");
                assert_eq!(got.times, one.times);
                for (label, want) in &one.observables {
                    for (t, (a, b)) in got.observables[label].iter().zip(want).enumerate() {
                        assert!(
                            (a - b).abs() <= 1e-10,
                            "{initial}, {ranks} ranks, {label} at t[{t}]: {a} vs {b}"
                        );
                    }
                }
                for e in &got.norm_error {
                    assert!(e.abs() <= 1e-10, "{e}");
                }
                assert!(got.matvecs > 0 || initial == "ground");
            }
        }
    }
}

#[test]
fn open_systems_are_refused_on_several_ranks() {
    let model = qep::hamiltonian::parse_str(MODEL, Path::new("dist.yaml")).expect("model");
    let s = EvolveSettings {
        method: Some(EvolveMethod::Rho),
        ..settings("plus")
    };
    for r in ThreadComm::run(2, |comm| dist::evolve_krylov(&model, &s, comm)) {
        let e = r.expect_err("rho on 2 ranks");
        assert!(matches!(e, DistError::EvolveUnsupported { .. }), "{e}");
    }
}

#[test]
fn the_ground_start_memory_plan_is_the_larger_phase_not_the_sum() {
    let model = qep::hamiltonian::parse_str(MODEL, Path::new("dist.yaml")).expect("model");
    let h = model.hamiltonian(&model.theta(), None, 0.0).expect("H");
    let own = |plan: &qep::state::memory::MemoryPlan| -> u128 {
        plan.items()
            .iter()
            .filter(|(n, _)| n != "already resident" && !n.starts_with("thread stacks"))
            .map(|(_, b)| b)
            .sum()
    };
    for ranks in [1usize, 2, 4] {
        let plus = own(&dist::evolve_krylov_memory(&h, ranks, &settings("plus")).expect("plan"));
        let ground =
            own(&dist::evolve_krylov_memory(&h, ranks, &settings("ground")).expect("plan"));
        let solve =
            own(
                &dist::lowest_eigenpairs_memory(&h, ranks, &qep::linalg::LanczosParams::default())
                    .expect("plan"),
            );
        let block = qep::state::memory::state_bytes(9 - ranks.trailing_zeros() as usize, 16);
        // The eigensolve (plus the start block copied out of it) and the evolution never
        // hold their buffers at once, and the resident memory is counted once.
        assert_eq!(ground, plus.max(solve + block), "{ranks} ranks");
        assert!(
            ground < plus + solve,
            "{ranks} ranks: {ground} vs {plus} + {solve}"
        );
        let resident = dist::evolve_krylov_memory(&h, ranks, &settings("ground"))
            .expect("plan")
            .items()
            .iter()
            .filter(|(n, _)| n == "already resident")
            .count();
        assert_eq!(resident, 1, "{ranks} ranks");
    }
}
