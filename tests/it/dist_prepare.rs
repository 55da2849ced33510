//! `qep prepare` with one sweep split over ranks (simulated by threads): fidelity, energy,
//! residual and the overlaps with the target levels equal one process's to 1e-10 on 1, 2 and
//! 4 ranks, for the Krylov and Magnus integrators, the default start `|+…+⟩` and a start
//! level found by the distributed Lanczos.

use std::path::Path;

use qep::adiabatic::{KrylovParams, Method, PrepareSettings, Preparer, ScheduleKind};
use qep::cancel::Cancel;
use qep::dist::{self, DistError, ThreadComm};
use qep::pauli::PauliSum;
use qep::study::prepare::{prepare_study, PrepareStudySettings};

/// The target of `hamiltonians/prep_grid12.yaml` (12 qubits, ZZ and XX bonds, transverse
/// field) for its first example.
fn grid12() -> (qep::hamiltonian::Model, PauliSum) {
    let model = qep::hamiltonian::load(Path::new("hamiltonians/prep_grid12.yaml")).expect("model");
    let ex = model.training_example(0).expect("example");
    let h = model
        .hamiltonian(&model.theta(), Some(&ex), 0.0)
        .expect("target");
    (model, h)
}

fn settings(method: Method, schedule: ScheduleKind, eigen: usize) -> PrepareSettings {
    PrepareSettings {
        method,
        steps: 24,
        eigen,
        schedule,
        krylov: KrylovParams {
            tol: 1e-11,
            max_dim: 30,
        },
        gap_points: 0,
        ..PrepareSettings::default()
    }
}

/// Every number of the distributed record against one process's, to 1e-10.
fn assert_same(
    one: &qep::adiabatic::Prepared,
    got: &dist::DistPrepared,
    psi: &[qep::C64],
    spectrum: &qep::linalg::AnySpectrum,
    what: &str,
) {
    let (a, b) = (&one.verification, &got.run.verification);
    for (name, x, y) in [
        ("fidelity", a.fidelity, b.fidelity),
        ("energy", a.energy, b.energy),
        ("target_energy", a.target_energy, b.target_energy),
        ("energy_error", a.energy_error, b.energy_error),
        ("residual", a.residual, b.residual),
        ("level_fidelity", a.level_fidelity, b.level_fidelity),
        (
            "norm_error",
            one.propagation.norm_error,
            got.run.propagation.norm_error,
        ),
    ] {
        assert!((x - y).abs() <= 1e-10, "{what}: {name} {x} vs {y}");
    }
    assert_eq!(a.level, b.level, "{what}");
    assert_eq!(one.propagation.steps, got.run.propagation.steps);
    assert!(got.run.propagation.krylov.matvecs > 0, "{what}");
    // The final state itself: its overlap with every reference level.
    for (j, &o) in got.overlaps.iter().enumerate() {
        let want = qep::state::dot(&spectrum.vector_c64(j), psi).norm_sqr();
        assert!(
            (o - want).abs() <= 1e-10,
            "{what}: overlap {j}: {o} vs {want}"
        );
    }
    for (x, y) in spectrum.energies().iter().zip(&got.target_energies) {
        assert!((x - y).abs() <= 1e-10, "{what}: level {x} vs {y}");
    }
}

#[test]
fn one_sweep_split_over_1_2_4_ranks_equals_one_process() {
    let (_, target) = grid12();
    for (method, schedule, time) in [
        (Method::Krylov, ScheduleKind::Linear, 6.0),
        (Method::Magnus, ScheduleKind::Smooth, 6.0),
    ] {
        let s = settings(method, schedule, 0);
        let mut prep = Preparer::new(None, target.clone(), s.clone()).expect("preparer");
        let (one, psi) = prep.run(time).expect("one-process sweep");
        // A sweep this short is far from adiabatic: the fidelity is a number to match, not 1.
        let f = one.verification.fidelity;
        assert!(f > 0.2 && f < 0.99999, "{method:?}: fidelity {f}");
        assert!(one.verification.residual > 1e-3);
        for ranks in [1, 2, 4] {
            for got in ThreadComm::run(ranks, |comm| {
                dist::prepare_sweep(None, &target, &s, time, comm)
            }) {
                let got = got.expect("distributed sweep");
                assert!((got.start_energy - prep.start_energy()).abs() <= 1e-12);
                assert_same(
                    &one,
                    &got,
                    &psi,
                    prep.target_spectrum(),
                    &format!("{method:?} on {ranks} ranks"),
                );
            }
        }
    }
}

/// A 10-qubit start `−Σ h_i X_i` with distinct fields, so its level 1 is not degenerate, and
/// a 10-qubit chain target: the start state comes from the distributed Lanczos.
#[test]
fn excited_level_from_a_lanczos_start_equals_one_process() {
    let n = 10;
    let mut start = String::from("qubits: 10\nterms:\n");
    let mut target = String::from("qubits: 10\nterms:\n");
    for i in 0..n {
        start += &format!("  - {{pauli: X{i}, coeff: {}}}\n", -(1.0 + 0.13 * i as f64));
        target += &format!("  - {{pauli: X{i}, coeff: -0.6}}\n");
        target += &format!("  - {{pauli: Z{i}, coeff: {}}}\n", 0.05 * i as f64 - 0.2);
        if i + 1 < n {
            target += &format!(
                "  - {{pauli: Z{i} Z{}, coeff: {}}}\n",
                i + 1,
                -1.0 + 0.07 * i as f64
            );
        }
    }
    let ham = |y: &str| {
        let m = qep::hamiltonian::parse_str(y, Path::new("p.yaml")).expect("model");
        m.hamiltonian(&m.theta(), None, 0.0).expect("H")
    };
    let (start, target) = (ham(&start), ham(&target));
    let s = settings(Method::Magnus, ScheduleKind::Linear, 1);
    let time = 5.0;
    let mut prep = Preparer::new(Some(start.clone()), target.clone(), s.clone()).expect("prep");
    let (one, psi) = prep.run(time).expect("one-process sweep");
    assert!(one.verification.fidelity > 0.05 && one.verification.fidelity < 0.9999);
    for ranks in [1, 2, 4] {
        for got in ThreadComm::run(ranks, |comm| {
            dist::prepare_sweep(Some(&start), &target, &s, time, comm)
        }) {
            let got = got.expect("distributed sweep");
            assert!(
                (got.start_energy - prep.start_energy()).abs() <= 1e-10,
                "{} vs {}",
                got.start_energy,
                prep.start_energy()
            );
            assert_same(
                &one,
                &got,
                &psi,
                prep.target_spectrum(),
                &format!("level 1 on {ranks} ranks"),
            );
        }
    }
    // Level 1 of −Σ X_i is N-fold degenerate: refused on several ranks as on one process.
    let e = ThreadComm::run(2, |comm| dist::prepare_sweep(None, &target, &s, time, comm));
    for r in e {
        let err = r.expect_err("degenerate start");
        assert!(
            matches!(
                err,
                DistError::Adiabatic(ref a) if matches!(**a, qep::adiabatic::AdiabaticError::DegenerateStart { .. })
            ),
            "{err}"
        );
    }
    let trotter = settings(Method::Trotter { order: 2 }, ScheduleKind::Linear, 0);
    for r in ThreadComm::run(2, |comm| {
        dist::prepare_sweep(None, &target, &trotter, time, comm)
    }) {
        assert!(matches!(r, Err(DistError::PrepareTrotter)));
    }
}

/// `prepare_study` with one time under a 2-rank world takes the split sweep and reports one
/// process's record; with a path scan it runs the sweep whole on each rank, same numbers.
#[test]
fn prepare_study_on_two_ranks_reports_one_process_numbers() {
    let (model, _) = grid12();
    for gap_points in [0, 3] {
        let s = PrepareStudySettings {
            time: Some(5.0),
            steps: Some(20),
            gap_points,
            ..PrepareStudySettings::default()
        };
        let one = prepare_study(&model, None, &s, &Cancel::new(), &qep::report::no_progress)
            .expect("one process");
        let want = one.single.as_ref().expect("single run");
        for got in ThreadComm::run_as_world(2, || {
            assert_eq!(
                dist::prepare_split(model.qubits, &one.settings).is_some(),
                gap_points == 0
            );
            // As text: the error type is too large to move between threads by value.
            prepare_study(&model, None, &s, &Cancel::new(), &qep::report::no_progress)
                .map_err(|e| e.to_string())
        }) {
            let got = got.expect("two ranks");
            let r = got.single.as_ref().expect("single run");
            let (a, b) = (&want.run.verification, &r.run.verification);
            assert!((a.fidelity - b.fidelity).abs() <= 1e-10);
            assert!((a.energy - b.energy).abs() <= 1e-10);
            assert!((a.residual - b.residual).abs() <= 1e-10);
            assert!((want.subspace_fidelity - r.subspace_fidelity).abs() <= 1e-10);
            assert_eq!(one.degenerate_levels, got.degenerate_levels);
            assert_eq!(one.path.is_some(), got.path.is_some());
            assert!((one.start_energy - got.start_energy).abs() <= 1e-12);
        }
    }
}
