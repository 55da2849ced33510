//! Cooling trajectories (src/evolve/cooling_trajectories.rs; `qep thermalize --method
//! trajectories`): the pure-state unravelling of the collision model reproduces the
//! density-matrix protocol within its standard errors, is deterministic for any thread count,
//! and its ancilla statistics are those of thermal qubits.

use qep::evolve::{
    cool, cool_trajectories, thermal_qubit, CollisionPropagator, CoolingParams,
    CoolingTrajectories, CoolingTrajectoryParams, DensityMatrix, InitialEnsemble,
};
use qep::pauli::PauliSum;
use qep::C64;

use crate::common::net3_model;
use crate::oracle::{in_pool, pauli_sum, tfim_chain};
use crate::thermalize::thermalize_json;

fn mixed(n: usize) -> DensityMatrix {
    let d = 1usize << n;
    let mut data = vec![C64::new(0.0, 0.0); d * d];
    for i in 0..d {
        data[i * d + i] = C64::new(1.0 / d as f64, 0.0);
    }
    DensityMatrix::from_entries(n, data)
}

fn observables(n: usize) -> Vec<PauliSum> {
    vec![
        pauli_sum(n, &[("Z0", 1.0)]),
        pauli_sum(n, &[("X1", 1.0)]),
        pauli_sum(n, &[("Z0 Z1", 1.0)]),
    ]
}

/// A protocol that moves a lot in few rounds (strong, short collisions).
fn fast_protocol(rounds: usize) -> CoolingParams {
    CoolingParams {
        coupling: 0.15,
        duration: 12.0,
        rounds,
        ..CoolingParams::default()
    }
}

/// The main check: after every round, ⟨H⟩ and three observables of the trajectory average
/// agree with the density-matrix collision model within 5σ, at two temperatures, from the
/// maximally mixed start (random basis states) and from a pure start.
#[test]
fn trajectories_reproduce_the_density_matrix_cooling() {
    let n = 3;
    let h = tfim_chain(n, 1.0, 0.7);
    let obs = observables(n);
    let plus: Vec<C64> = vec![C64::new((1.0 / 8f64).sqrt(), 0.0); 8];
    for (t, pure) in [(0.4, false), (2.0, false), (0.4, true)] {
        let rounds = 6;
        let cp = fast_protocol(rounds);
        let rho0 = if pure {
            DensityMatrix::from_pure(&plus).unwrap()
        } else {
            mixed(n)
        };
        let exact = cool(&h, t, &rho0, &obs, &cp, |_, _| {}).unwrap();
        let p = CoolingTrajectoryParams {
            cooling: cp,
            trajectories: 1000,
            seed: 11,
            ..CoolingTrajectoryParams::default()
        };
        let init = if pure {
            InitialEnsemble::Pure(&plus)
        } else {
            InitialEnsemble::MaximallyMixed
        };
        let t0 = std::time::Instant::now();
        let tr = cool_trajectories(&h, t, init, &obs, &p, |_, _| {}).unwrap();
        let rel = &exact.relaxation;
        assert_eq!(tr.steps.len(), rounds + 1);
        assert_eq!(tr.collisions, exact.collisions);
        assert_eq!(tr.frequencies, exact.frequencies);
        let mut worst = 0.0f64;
        for r in 0..=rounds {
            let se = tr.energy_std_errors[r];
            let z = (tr.energy[r] - rel.energy[r]).abs() / se.max(1e-12);
            worst = worst.max(z);
            assert!(
                (tr.energy[r] - rel.energy[r]).abs() < 5.0 * se + 1e-9,
                "T={t} pure={pure} round {r}: E {} ± {se} vs {}",
                tr.energy[r],
                rel.energy[r]
            );
            for j in 0..obs.len() {
                let se = tr.std_errors[j][r];
                let d = (tr.observables[j][r] - rel.observables[j][r]).abs();
                worst = worst.max(d / se.max(1e-12));
                assert!(
                    d < 5.0 * se + 1e-9,
                    "T={t} pure={pure} round {r} obs {j}: {} ± {se} vs {}",
                    tr.observables[j][r],
                    rel.observables[j][r]
                );
            }
        }
        // The test is not vacuous: the energy moved by many standard errors, and the
        // errors are O(1/√M).
        let moved = (rel.energy[rounds] - rel.energy[0]).abs();
        assert!(
            moved > 10.0 * tr.energy_std_errors[rounds],
            "T={t}: moved {moved}"
        );
        assert!(tr.energy_std_errors[rounds] < 0.05);
        // Reconstructed mean state: a density matrix, near the exact ρ_S within the floor.
        let rho = tr.final_state.as_ref().unwrap();
        assert!((rho.trace().re - 1.0).abs() < 1e-12);
        let d_traj = *tr.trace_distance.as_ref().unwrap().last().unwrap();
        let d_exact = *rel.trace_distance.last().unwrap();
        let floor = tr.trace_distance_floor.unwrap();
        let d_between = qep::evolve::trace_distance(rho, &rel.final_state).unwrap();
        println!(
            "T={t} pure={pure}: E {:.4} ± {:.4} vs {:.4} (Gibbs {:.4}); worst |z| = {worst:.2}; \
             D(ρ̂, Gibbs) = {d_traj:.4}, D(ρ_exact, Gibbs) = {d_exact:.4}, D(ρ̂, ρ_exact) = \
             {d_between:.4}, floor {floor:.4}; {:.2} s",
            tr.energy[rounds],
            tr.energy_std_errors[rounds],
            rel.energy[rounds],
            rel.gibbs_energy,
            t0.elapsed().as_secs_f64()
        );
        assert!(d_between < 2.0 * floor, "{d_between} vs floor {floor}");
        assert!((d_traj - d_exact).abs() <= d_between + 1e-12);
    }
}

/// Same numbers with 1 and 2 rayon threads, for the dense and the Krylov propagator; and the
/// two propagators agree (same random numbers, unitaries equal to ~1e-8).
#[test]
fn trajectories_are_deterministic_and_propagators_agree() {
    let h = tfim_chain(3, 1.0, 0.7);
    let obs = observables(3);
    let cool = |p: &CoolingTrajectoryParams| {
        cool_trajectories(&h, 0.7, InitialEnsemble::MaximallyMixed, &obs, p, |_, _| {})
    };
    let run = |threads: usize, propagator: CollisionPropagator| -> CoolingTrajectories {
        let p = CoolingTrajectoryParams {
            cooling: CoolingParams {
                frequencies: vec![0.8, 1.6, 2.4],
                ..fast_protocol(2)
            },
            trajectories: 24,
            seed: 5,
            propagator,
            ..CoolingTrajectoryParams::default()
        };
        in_pool(threads, || cool(&p)).unwrap()
    };
    for prop in [CollisionPropagator::Dense, CollisionPropagator::Krylov] {
        let a = run(1, prop);
        let b = run(2, prop);
        assert_eq!(a.propagator, prop);
        assert_eq!(a.energy, b.energy, "{prop:?}");
        assert_eq!(a.energy_std_errors, b.energy_std_errors);
        assert_eq!(a.observables, b.observables);
        assert_eq!(a.trace_distance, b.trace_distance);
        assert_eq!(a.ancillas, b.ancillas);
    }
    let d = run(2, CollisionPropagator::Dense);
    let k = run(2, CollisionPropagator::Krylov);
    assert!(k.krylov.matvecs > 0 && d.krylov.matvecs == 0);
    assert_eq!(d.ancillas, k.ancillas, "same outcomes");
    for (x, y) in d.energy.iter().zip(&k.energy) {
        assert!((x - y).abs() < 1e-6, "{x} vs {y}");
    }
    // A different seed gives different numbers.
    let p = CoolingTrajectoryParams {
        cooling: fast_protocol(1),
        trajectories: 24,
        seed: 6,
        ..CoolingTrajectoryParams::default()
    };
    let e = cool(&p).unwrap();
    assert_ne!(e.energy[1], d.energy[1]);
}

/// With g = 0 the ancillas are untouched: measured = prepared, and the prepared excited
/// fraction is the thermal p₀ within 5σ. With g > 0 and a hot (maximally mixed) network at
/// low T, the ancillas absorb energy: more are found excited than were prepared.
#[test]
fn ancilla_outcomes_have_thermal_statistics() {
    let h = tfim_chain(3, 1.0, 0.7);
    let t = 1.0;
    let freqs = vec![0.5, 1.5];
    let p = CoolingTrajectoryParams {
        cooling: CoolingParams {
            coupling: 0.0,
            frequencies: freqs.clone(),
            rounds: 1,
            ..CoolingParams::default()
        },
        trajectories: 4000,
        seed: 3,
        ..CoolingTrajectoryParams::default()
    };
    let r = cool_trajectories(&h, t, InitialEnsemble::MaximallyMixed, &[], &p, |_, _| {}).unwrap();
    assert_eq!(r.collisions, 1);
    for (s, &w) in r.ancillas.iter().zip(&freqs) {
        let p0 = thermal_qubit(w, t).unwrap().get(0, 0).re;
        assert!((s.thermal_excited - p0).abs() < 1e-15);
        assert_eq!(s.count, 4000);
        assert_eq!(s.measured_excited, s.prepared_excited, "g = 0: no dynamics");
        let f = s.prepared_excited as f64 / s.count as f64;
        let sigma = (p0 * (1.0 - p0) / s.count as f64).sqrt();
        println!("ω = {w}: excited fraction {f:.4} vs p₀ = {p0:.4} (σ = {sigma:.4})");
        assert!((f - p0).abs() < 5.0 * sigma, "ω = {w}: {f} vs {p0}");
    }
    // Energy unchanged with g = 0 (each trajectory's state only picks up a phase... up to
    // rounding): the same numbers as the start.
    assert!((r.energy[1] - r.energy[0]).abs() < 1e-9);

    // Heat flows into cold ancillas from a hot network.
    let p = CoolingTrajectoryParams {
        cooling: CoolingParams {
            frequencies: vec![],
            ..fast_protocol(1)
        },
        trajectories: 400,
        seed: 4,
        ..CoolingTrajectoryParams::default()
    };
    let r =
        cool_trajectories(&h, 0.3, InitialEnsemble::MaximallyMixed, &[], &p, |_, _| {}).unwrap();
    let prepared: u64 = r.ancillas.iter().map(|s| s.prepared_excited).sum();
    let measured: u64 = r.ancillas.iter().map(|s| s.measured_excited).sum();
    let count: u64 = r.ancillas.iter().map(|s| s.count).sum();
    println!("hot network, T = 0.3: {count} ancillas, {prepared} prepared excited, {measured} measured excited");
    assert!(
        measured as f64 > prepared as f64 + 5.0 * (measured as f64).sqrt(),
        "{measured} vs {prepared}"
    );
}

#[test]
fn trajectories_reject_bad_input() {
    let h = tfim_chain(3, 1.0, 0.7);
    let p = CoolingTrajectoryParams {
        trajectories: 0,
        ..CoolingTrajectoryParams::default()
    };
    let e = cool_trajectories(&h, 1.0, InitialEnsemble::MaximallyMixed, &[], &p, |_, _| {});
    assert!(e.unwrap_err().to_string().contains("0 trajectories"));
    let p = CoolingTrajectoryParams::default();
    let short = vec![C64::new(1.0, 0.0); 4];
    let e = cool_trajectories(&h, 1.0, InitialEnsemble::Pure(&short), &[], &p, |_, _| {});
    assert!(e.unwrap_err().to_string().contains("initial state"));
    let zero = vec![C64::new(0.0, 0.0); 8];
    let e = cool_trajectories(&h, 1.0, InitialEnsemble::Pure(&zero), &[], &p, |_, _| {});
    assert!(e.unwrap_err().to_string().contains("norm"));
    let e = cool_trajectories(
        &h,
        -1.0,
        InitialEnsemble::MaximallyMixed,
        &[],
        &p,
        |_, _| {},
    );
    assert!(e.is_err());
    let p = CoolingTrajectoryParams {
        propagator: CollisionPropagator::Dense,
        ..CoolingTrajectoryParams::default()
    };
    let big = tfim_chain(9, 1.0, 0.7);
    let e = cool_trajectories(
        &big,
        1.0,
        InitialEnsemble::MaximallyMixed,
        &[],
        &p,
        |_, _| {},
    );
    assert!(e.unwrap_err().to_string().contains("limited to 10"));
}

// ---------- CLI ----------

#[test]
fn cli_thermalize_trajectories_json() {
    let tmp = tempfile::tempdir().unwrap();
    let model = net3_model(tmp.path());
    let run = |method: &str, dir: &str| -> serde_json::Value {
        let extra = [
            "--coupling",
            "0.1",
            "--duration",
            "20",
            "--trajectories",
            "300",
            "--seed",
            "9",
        ];
        thermalize_json(&model, &tmp.path().join(dir), method, "8", &extra)
    };
    let v = run("trajectories", "t1");
    let c = run("cooling", "c");
    assert_eq!(v["method"], "trajectories");
    assert_eq!(v["trace"].as_array().unwrap().len(), 9);
    let d = v["trace_distance"].as_f64().unwrap();
    let e = v["energy"].as_f64().unwrap();
    let se = v["std_errors"]["energy"].as_f64().unwrap();
    let ec = c["energy"].as_f64().unwrap();
    let eg = v["gibbs"]["energy"].as_f64().unwrap();
    let floor = v["trajectories"]["trace_distance_floor"].as_f64().unwrap();
    println!("trajectories: D = {d:.4} (floor {floor:.4}), E = {e:.5} ± {se:.5}; cooling {ec:.5}; Gibbs {eg:.5}");
    assert!(se > 0.0 && se < 0.1);
    assert!((e - ec).abs() < 5.0 * se, "{e} ± {se} vs {ec}");
    for l in ["Z0", "Z1 Z2"] {
        let x = v["observables"][l].as_f64().unwrap();
        let s = v["std_errors"]["observables"][l].as_f64().unwrap();
        let y = c["observables"][l].as_f64().unwrap();
        assert!((x - y).abs() < 5.0 * s, "{l}: {x} ± {s} vs {y}");
    }
    assert!(v["cost"].is_f64() && v["std_errors"]["cost"].is_f64());
    assert!(v["trace"][3]["std_errors"]["energy"].is_f64());
    assert!(d < 0.5 && floor > 0.0);
    assert_eq!(v["trajectories"]["trajectories"], 300);
    assert_eq!(
        v["trajectories"]["collisions"], c["cooling"]["collisions"],
        "same schedule"
    );
    assert!(
        v["trajectories"]["ancilla_outcomes"]
            .as_array()
            .unwrap()
            .len()
            > 1
    );
    // The same seed gives the same numbers.
    let w = run("trajectories", "t2");
    assert_eq!(v["energy"], w["energy"]);
    assert_eq!(v["observables"], w["observables"]);
    let csv = std::fs::read_to_string(tmp.path().join("t1").join("thermalize.csv")).unwrap();
    assert_eq!(csv.lines().count(), 10);
    assert!(csv.lines().next().unwrap().contains("energy_sem"));
}
