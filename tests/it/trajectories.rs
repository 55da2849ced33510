//! Quantum trajectories (src/evolve/trajectories.rs): statistical agreement with the density
//! matrix (`evolve_lindblad`), analytic decay and its jump-time law, the jump-free limit,
//! determinism across thread counts, the big-state (parallel-kernel) path, and the CLI.

use qep::evolve::{
    evolve_lindblad, evolve_trajectories, DensityMatrix, EvolveError, Options, TrajectoryOptions,
    TrajectoryResult,
};
use qep::pauli::{Letter, PauliString, PauliSum};
use qep::state::StateError;
use qep::C64;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::common::decay_model;
use crate::oracle::{c, pauli, sigma_minus, tfim_chain};

fn plus(n: usize) -> Vec<C64> {
    let d = 1usize << n;
    vec![c(1.0 / (d as f64).sqrt(), 0.0); d]
}

fn basis(n: usize, b: usize) -> Vec<C64> {
    let mut v = vec![c(0.0, 0.0); 1 << n];
    v[b] = c(1.0, 0.0);
    v
}

/// The uniform draw `r ∈ (0, 1]` that trajectory `j` uses for its first waiting time.
fn first_draw(seed: u64, j: usize) -> f64 {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(j as u64);
    1.0 - rng.random::<f64>()
}

/// `(mean − exact)/SEM` for every observable and time of a trajectory run.
fn z_scores(tr: &TrajectoryResult, exact: &[Vec<f64>]) -> Vec<f64> {
    let mut z = Vec::new();
    for (j, ex) in exact.iter().enumerate() {
        for (i, &e) in ex.iter().enumerate() {
            let sem = tr.std_errors[j][i];
            assert!(sem > 0.0, "observable {j} time {i}: SEM is {sem}");
            z.push((tr.observables[j][i] - e) / sem);
        }
    }
    z
}

#[test]
fn four_qubit_chains_match_the_density_matrix_within_five_sigma() {
    let n = 4;
    let h = tfim_chain(n, 1.0, 1.0);
    let decay: Vec<(PauliSum, f64)> = (0..n).map(|q| (sigma_minus(n, q), 0.2)).collect();
    let mut dephasing = decay.clone();
    dephasing.push((pauli(n, "Z2"), 0.3));
    // An explicit, non-Hermitian Pauli-sum jump with complex coefficients.
    let mut odd = PauliSum::new(n);
    odd.add(PauliString::parse("X0 X1").unwrap(), c(0.5, 0.0));
    odd.add(PauliString::parse("Y1 Z2").unwrap(), c(0.0, 0.3));
    odd.add(PauliString::parse("Z3").unwrap(), c(0.2, -0.1));
    let mut complex = decay.clone();
    complex.push((odd, 0.25));
    let obs = [
        pauli(n, "Z0"),
        pauli(n, "X1"),
        pauli(n, "Z0 Z1"),
        pauli(n, "Y2"),
    ];
    let times = [0.5, 1.0, 2.0, 3.5];
    let rho0 = DensityMatrix::from_pure(&plus(n)).unwrap();
    let lopts = Options {
        positivity: false,
        ..Options::default()
    };
    let topts = TrajectoryOptions {
        ntraj: 2000,
        seed: 11,
        ..TrajectoryOptions::default()
    };
    let mut all = Vec::new();
    for (name, jumps) in [
        ("decay", &decay),
        ("dephasing", &dephasing),
        ("complex", &complex),
    ] {
        let exact = evolve_lindblad(&h, jumps, &rho0, &times, &obs, &lopts).unwrap();
        let t0 = std::time::Instant::now();
        let tr = evolve_trajectories(&h, jumps, &plus(n), &times, &obs, &topts).unwrap();
        let z = z_scores(&tr, &exact.observables);
        let pz: Vec<f64> = {
            let (p, ps) = (
                tr.purity.as_ref().unwrap(),
                tr.purity_std_errors.as_ref().unwrap(),
            );
            (0..times.len())
                .map(|i| (p[i] - exact.purity[i]) / ps[i])
                .collect()
        };
        eprintln!(
            "{name}: {:.2} s, {} traj, {:.2} jumps/traj, max |z| {:.2}, purity z {:?}, \
             ⟨Z0⟩(3.5) = {:.4} ± {:.4} (ρ: {:.4}), {:?}",
            t0.elapsed().as_secs_f64(),
            tr.ntraj,
            tr.jumps_mean,
            z.iter().fold(0.0f64, |a, v| a.max(v.abs())),
            pz.iter()
                .map(|v| (v * 100.0).round() / 100.0)
                .collect::<Vec<_>>(),
            tr.observables[0][3],
            tr.std_errors[0][3],
            exact.observables[0][3],
            tr.stats
        );
        // Premise: the jumps happen and the state mixes (purity well below 1).
        assert!(tr.jumps_mean > 1.0 && exact.purity[3] < 0.8);
        assert!(pz.iter().all(|v| v.abs() < 5.0), "{name}: purity z {pz:?}");
        // The complex channel did fire.
        if name == "complex" {
            assert!(tr.jumps_per_channel[n] > 100, "{:?}", tr.jumps_per_channel);
        }
        all.extend(z);
    }
    let worst = all.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    let rms = (all.iter().map(|v| v * v).sum::<f64>() / all.len() as f64).sqrt();
    eprintln!(
        "{} points: max |z| = {worst:.2}, RMS z = {rms:.3}",
        all.len()
    );
    assert!(worst < 5.0, "max |z| = {worst}");
    assert!((0.5..=1.6).contains(&rms), "RMS z = {rms}");
}

#[test]
fn single_qubit_decay_has_exponential_waiting_times() {
    // H = 0, σ⁻ at rate γ from |0⟩: one jump to |1⟩ at an Exp(γ) time, ⟨Z⟩ = 2e^{−γt} − 1.
    let gamma = 0.5;
    let m = 4000;
    let times = [0.5, 1.0, 2.0, 4.0, 40.0];
    let opts = TrajectoryOptions {
        ntraj: m,
        seed: 3,
        ..TrajectoryOptions::default()
    };
    let tr = evolve_trajectories(
        &PauliSum::new(1),
        &[(sigma_minus(1, 0), gamma)],
        &basis(1, 0),
        &times,
        &[pauli(1, "Z0")],
        &opts,
    )
    .unwrap();
    assert_eq!(tr.ntraj, m);
    assert_eq!(tr.jumps_per_channel, vec![m as u64]); // P(no jump by t = 40) = e^{−20}
    let mut jt: Vec<f64> = tr.first_jump_times.iter().map(|t| t.unwrap()).collect();
    // With H = 0, ‖ψ(t)‖² = e^{−γt} exactly: the jump time is −ln(r)/γ for the trajectory's
    // own first draw r, so the located time can be checked one by one. The root finding on
    // the dense output is exact to 1e-15 in θ; what remains is the integrator's error in
    // ‖ψ‖² (default rtol 1e-6, accumulated over up to ~20/γ), hence 2e-5.
    let worst = jt
        .iter()
        .enumerate()
        .map(|(j, &t)| (t - (-first_draw(3, j).ln() / gamma)).abs())
        .fold(0.0f64, f64::max);
    let mean = jt.iter().sum::<f64>() / m as f64;
    let sigma = 1.0 / gamma / (m as f64).sqrt();
    jt.sort_by(|a, b| a.total_cmp(b));
    let ks = jt
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            let f = 1.0 - (-gamma * t).exp();
            (f - i as f64 / m as f64)
                .abs()
                .max(((i + 1) as f64 / m as f64 - f).abs())
        })
        .fold(0.0f64, f64::max);
    let ks_crit = 1.95 / (m as f64).sqrt(); // α = 0.001
    eprintln!(
        "decay: mean jump time {mean:.4} (1/γ = {}, σ = {sigma:.4}), KS D = {ks:.4} \
         (crit {ks_crit:.4}), worst |t − (−ln r/γ)| = {worst:.2e}",
        1.0 / gamma
    );
    assert!(worst < 2e-5, "jump-time location error {worst:e}");
    assert!((mean - 1.0 / gamma).abs() < 5.0 * sigma);
    assert!(ks < ks_crit, "KS D = {ks}");
    for (i, &t) in times.iter().enumerate().take(4) {
        let exact = 2.0 * (-gamma * t).exp() - 1.0;
        let (z, s) = (tr.observables[0][i], tr.std_errors[0][i]);
        eprintln!("  t = {t}: ⟨Z⟩ = {z:.4} ± {s:.4}, exact {exact:.4}");
        assert!((z - exact).abs() < 5.0 * s, "t = {t}: {z} vs {exact} ± {s}");
    }
}

#[test]
fn without_jumps_a_trajectory_is_the_schrodinger_evolution() {
    let n = 4;
    let mut h = tfim_chain(n, 0.8, 0.6);
    h.add(PauliString::parse("Y1 Y2").unwrap(), c(0.3, 0.0));
    h.add(PauliString::parse("Z3").unwrap(), c(0.45, 0.0));
    let psi0: Vec<C64> = (0..1 << n)
        .map(|b| c(1.0 + 0.1 * b as f64, 0.05 * (b as f64).sin()))
        .collect();
    let norm = psi0.iter().map(|v| v.norm_sqr()).sum::<f64>().sqrt();
    let psi0: Vec<C64> = psi0.iter().map(|v| v / norm).collect();
    let times = [0.0, 0.3, 1.0, 2.5, 2.5, 6.0];
    let obs = [pauli(n, "Z0"), pauli(n, "X1 Y2"), pauli(n, "Z3")];
    let exact = evolve_lindblad(
        &h,
        &[],
        &DensityMatrix::from_pure(&psi0).unwrap(),
        &times,
        &obs,
        &Options {
            atol: 1e-13,
            rtol: 1e-11,
            ..Options::default()
        },
    )
    .unwrap();
    let opts = TrajectoryOptions {
        atol: 1e-12,
        rtol: 1e-10,
        ..TrajectoryOptions::default()
    };
    // No jump at all, and a jump of rate 0: both are one deterministic trajectory.
    for jumps in [vec![], vec![(sigma_minus(n, 1), 0.0)]] {
        let tr = evolve_trajectories(&h, &jumps, &psi0, &times, &obs, &opts).unwrap();
        assert_eq!(tr.ntraj, 1);
        assert_eq!(tr.jumps_mean, 0.0);
        let mut worst = 0.0f64;
        for (a, b) in tr.observables.iter().zip(&exact.observables) {
            for (x, y) in a.iter().zip(b) {
                worst = worst.max((x - y).abs());
            }
        }
        eprintln!("no jumps: max |traj − ρ| = {worst:.2e}, {:?}", tr.stats);
        assert!(worst < 1e-8, "{worst:e}");
        // Premise: the observables moved.
        assert!((exact.observables[0][5] - exact.observables[0][0]).abs() > 0.05);
        assert!(tr.std_errors.iter().flatten().all(|&s| s == 0.0));
        assert_eq!(tr.purity.as_deref(), Some(&[1.0; 6][..]));
    }
}

#[test]
fn same_seed_gives_the_same_bits_on_one_and_two_threads() {
    let n = 4;
    let h = tfim_chain(n, 1.0, 0.7);
    let mut jumps: Vec<(PauliSum, f64)> = (0..n).map(|q| (sigma_minus(n, q), 0.3)).collect();
    jumps.push((pauli(n, "Z1"), 0.2));
    let times = [0.5, 1.0, 2.0];
    let obs = [pauli(n, "Z0"), pauli(n, "X2 X3")];
    let run = |threads: usize, seed: u64| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let opts = TrajectoryOptions {
            ntraj: 301, // three batches, an odd trajectory out of the purity pairs
            seed,
            ..TrajectoryOptions::default()
        };
        pool.install(|| evolve_trajectories(&h, &jumps, &plus(n), &times, &obs, &opts))
            .unwrap()
    };
    let (a, b, other) = (run(1, 5), run(2, 5), run(2, 6));
    let bits = |t: &TrajectoryResult| {
        let mut v: Vec<u64> = t
            .observables
            .iter()
            .chain(&t.std_errors)
            .flatten()
            .chain(t.purity.iter().flatten())
            .map(|x| x.to_bits())
            .collect();
        v.extend(
            t.first_jump_times
                .iter()
                .map(|t| t.unwrap_or(-1.0).to_bits()),
        );
        v
    };
    assert_eq!(bits(&a), bits(&b));
    assert_eq!(a.jumps_per_channel, b.jumps_per_channel);
    assert_eq!(a.stats, b.stats);
    // Premise: the seed matters.
    assert_ne!(bits(&a), bits(&other));
}

#[test]
fn seventeen_qubits_use_the_parallel_kernels() {
    // Above 16 qubits trajectories run one by one with parallel vector kernels. Qubits 0..15
    // are driven by h_q X_q from |0⟩ (⟨Z_q⟩ = cos 2h_q t in every trajectory); qubit 16 has no
    // field and decays (σ⁻, γ = 2), so its jump time is −ln(r)/γ exactly.
    let n = 17;
    let gamma = 2.0;
    let mut h = PauliSum::new(n);
    for q in 0..16 {
        h.add(
            PauliString::single(Letter::X, q),
            c(0.3 + 0.05 * q as f64, 0.0),
        );
    }
    let times = [0.25, 1.0];
    let obs = [pauli(n, "Z0"), pauli(n, "Z15")];
    let opts = TrajectoryOptions {
        ntraj: 4,
        seed: 9,
        atol: 1e-12,
        rtol: 1e-10,
        ..TrajectoryOptions::default()
    };
    let tr = evolve_trajectories(
        &h,
        &[(sigma_minus(n, 16), gamma)],
        &basis(n, 0),
        &times,
        &obs,
        &opts,
    )
    .unwrap();
    for (i, &t) in times.iter().enumerate() {
        for (j, hq) in [(0usize, 0.3), (1, 0.3 + 0.05 * 15.0)] {
            let exact = (2.0f64 * hq * t).cos();
            assert!(
                (tr.observables[j][i] - exact).abs() < 1e-8,
                "t = {t}, obs {j}: {} vs {exact}",
                tr.observables[j][i]
            );
        }
    }
    let mut jumped = 0;
    for (j, ft) in tr.first_jump_times.iter().enumerate() {
        let expect = -first_draw(9, j).ln() / gamma;
        match ft {
            Some(t) => {
                jumped += 1;
                assert!((t - expect).abs() < 1e-6, "trajectory {j}: {t} vs {expect}");
            }
            None => assert!(expect > 1.0, "trajectory {j} should jump at {expect}"),
        }
    }
    eprintln!("17 qubits: {jumped}/4 jumped, {:?}", tr.stats);
    assert!(jumped > 0);
}

#[test]
fn invalid_inputs_are_errors() {
    let h = tfim_chain(2, 1.0, 1.0);
    let jumps = [(sigma_minus(2, 0), 0.1)];
    let zero = TrajectoryOptions {
        ntraj: 0,
        ..TrajectoryOptions::default()
    };
    let e = evolve_trajectories(&h, &jumps, &plus(2), &[1.0], &[], &zero);
    assert!(matches!(e, Err(EvolveError::NoTrajectories)), "{e:?}");
    let opts = TrajectoryOptions::default();
    let e = evolve_trajectories(&h, &jumps, &[c(0.0, 0.0); 4], &[1.0], &[], &opts);
    assert!(matches!(e, Err(EvolveError::ZeroNormState { .. })), "{e:?}");
    let e = evolve_trajectories(&h, &jumps, &plus(3), &[1.0], &[], &opts);
    assert!(
        matches!(e, Err(EvolveError::State(StateError::QubitMismatch { .. }))),
        "{e:?}"
    );
    let e = evolve_trajectories(
        &h,
        &[(sigma_minus(2, 0), f64::NAN)],
        &plus(2),
        &[1.0],
        &[],
        &opts,
    );
    assert!(
        matches!(e, Err(EvolveError::BadRate { index: 0, .. })),
        "{e:?}"
    );
    let e = evolve_trajectories(&h, &jumps, &plus(2), &[1.0, 0.5], &[], &opts);
    assert!(
        matches!(e, Err(EvolveError::BadTimes { index: 1, .. })),
        "{e:?}"
    );
    let e = evolve_trajectories(&h, &jumps, &plus(2), &[1.0], &[sigma_minus(2, 1)], &opts);
    assert!(
        matches!(e, Err(EvolveError::NonHermitianObservable { index: 0, .. })),
        "{e:?}"
    );
    let tight = TrajectoryOptions {
        max_steps: 3,
        ..TrajectoryOptions::default()
    };
    let e = evolve_trajectories(&h, &jumps, &plus(2), &[10.0], &[], &tight);
    assert!(matches!(e, Err(EvolveError::TooManySteps { .. })), "{e:?}");
    assert_eq!(
        EvolveError::NoTrajectories.to_string(),
        "0 trajectories requested; expected at least 1"
    );
}

#[test]
fn cli_trajectories_json_has_means_errors_and_jumps() {
    let dir = tempfile::tempdir().unwrap();
    let f = decay_model(dir.path());
    let run = |extra: &[&str]| -> serde_json::Value {
        crate::common::json_of(
            crate::common::qep()
                .args(["evolve", f.to_str().unwrap(), "--initial", "zero"])
                .args(["--times", "0.5,1,2", "--observe", "Z1,Z0", "--json"])
                .args(["--method", "trajectories", "--trajectories", "400"])
                .args(extra),
        )
    };
    let v = run(&["--seed", "7"]);
    assert_eq!(v["method"], "trajectories");
    assert_eq!(v["trajectories"], 400);
    assert_eq!(v["provenance"]["seed"], 7);
    let arr = |x: &serde_json::Value| -> Vec<f64> {
        x.as_array()
            .unwrap()
            .iter()
            .map(|y| y.as_f64().unwrap())
            .collect()
    };
    assert_eq!(arr(&v["times"]), vec![0.5, 1.0, 2.0]);
    for key in ["Z0", "Z1"] {
        assert_eq!(arr(&v["observables"][key]).len(), 3);
        assert_eq!(arr(&v["std_errors"][key]).len(), 3);
    }
    assert_eq!(arr(&v["purity"]).len(), 3);
    assert!(v["jumps"].as_f64().unwrap() > 0.3);
    // Qubit 1 decays at γ = 0.5; qubit 0 rotates deterministically (⟨Z0⟩ = cos 1.3t).
    let (z1, s1, z0) = (
        arr(&v["observables"]["Z1"]),
        arr(&v["std_errors"]["Z1"]),
        arr(&v["observables"]["Z0"]),
    );
    for (i, t) in [0.5f64, 1.0, 2.0].into_iter().enumerate() {
        let e = 2.0 * (-0.5 * t).exp() - 1.0;
        assert!(
            (z1[i] - e).abs() < 5.0 * s1[i],
            "Z1({t}) = {} vs {e}",
            z1[i]
        );
        assert!(
            (z0[i] - (1.3 * t).cos()).abs() < 1e-5,
            "Z0({t}) = {}",
            z0[i]
        );
    }
    // The same seed reproduces the numbers.
    assert_eq!(run(&["--seed", "7"])["observables"], v["observables"]);
}
