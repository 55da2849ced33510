//! The distributed state vector, with ranks simulated by threads: every rank's block of `H·ψ`
//! equals the same rows of the one-process product.

use qep::dist::{DistError, DistOperator, Layout, SelfComm, ThreadComm};
use qep::operator::XMaskOperator;
use qep::pauli::{PauliString, PauliSum};
use qep::C64;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A random Hermitian Pauli sum on `n` qubits: `terms` strings with every letter on every
/// qubit possible (so terms flip, and read the sign of, the global qubits too).
fn random_sum(n: usize, terms: usize, real: bool, seed: u64) -> PauliSum {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut h = PauliSum::new(n);
    let mut added = 0;
    while added < terms {
        let (x, z) = (
            rng.random::<u64>() & ((1 << n) - 1),
            rng.random::<u64>() & ((1 << n) - 1),
        );
        // Real in the Z basis: an even number of Y letters.
        if real && (x & z).count_ones() % 2 == 1 {
            continue;
        }
        h.add(PauliString::from_masks(x, z), rng.random_range(-1.0..1.0));
        added += 1;
    }
    h
}

fn random_state(dim: usize, seed: u64) -> Vec<C64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..dim)
        .map(|_| C64::new(rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)))
        .collect()
}

#[test]
fn distributed_h_psi_equals_one_process_on_1_2_4_8_ranks() {
    let n = 7;
    let h = random_sum(n, 40, false, 3);
    let psi = random_state(1 << n, 4);
    let mut want = vec![C64::new(0.0, 0.0); 1 << n];
    XMaskOperator::new(&h).unwrap().apply_into(&psi, &mut want);
    for ranks in [1usize, 2, 4, 8] {
        let blocks = ThreadComm::run(ranks, |comm| {
            let op = DistOperator::new(&h, comm).unwrap();
            let lay = op.layout();
            let x = &psi[lay.offset()..lay.offset() + lay.local_dim()];
            let mut y = vec![C64::new(0.0, 0.0); lay.local_dim()];
            // Twice: buffers are reused and the exchanges pair up again.
            op.apply(x, &mut y);
            op.apply(x, &mut y);
            let e = op.dot(x, &y);
            (y, e, op.exchanges(), op.bytes_per_apply(16))
        });
        let got: Vec<C64> = blocks.iter().flat_map(|b| b.0.clone()).collect();
        let err = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).norm())
            .fold(0.0, f64::max);
        assert!(err < 1e-13, "{ranks} ranks: max error {err:e}");
        let e_one: C64 = psi.iter().zip(&want).map(|(a, b)| a.conj() * b).sum();
        for (_, e, ex, bytes) in &blocks {
            assert!((e - e_one).norm() < 1e-12 * e_one.norm().max(1.0));
            assert_eq!(*bytes, ex * (1 << n) / ranks * 16);
        }
        // With 40 random strings nearly every global flip pattern occurs.
        assert_eq!(
            blocks[0].2,
            if ranks == 1 { 0 } else { ranks - 1 },
            "{ranks} ranks"
        );
    }
}

#[test]
fn real_hamiltonians_stay_real_when_distributed() {
    let n = 6;
    let h = random_sum(n, 30, true, 9);
    let psi: Vec<f64> = random_state(1 << n, 10).iter().map(|z| z.re).collect();
    let one = XMaskOperator::new(&h).unwrap();
    assert!(one.is_real());
    let mut want = vec![0.0; 1 << n];
    one.apply_into(&psi, &mut want);
    let blocks = ThreadComm::run(4, |comm| {
        let op = DistOperator::new(&h, comm).unwrap();
        assert!(op.is_real());
        let lay = op.layout();
        let mut y = vec![0.0; lay.local_dim()];
        op.apply(&psi[lay.offset()..lay.offset() + lay.local_dim()], &mut y);
        y
    });
    let got: Vec<f64> = blocks.concat();
    for (a, b) in got.iter().zip(&want) {
        assert!((a - b).abs() < 1e-13);
    }
}

#[test]
fn layouts_that_cannot_split_the_state_are_refused() {
    assert!(matches!(
        Layout::new(5, 3, 0),
        Err(DistError::RanksNotPowerOfTwo { ranks: 3 })
    ));
    let e = Layout::new(3, 8, 0).unwrap_err();
    assert_eq!(
        e.to_string(),
        "8 ranks for 3 qubits: each rank needs at least one local qubit; use at most 4 ranks"
    );
    let one = Layout::of(&SelfComm, 10).unwrap();
    assert_eq!((one.local_dim(), one.offset()), (1024, 0));
    let four = Layout::new(10, 4, 3).unwrap();
    assert_eq!((four.local_qubits(), four.offset()), (8, 768));
}

// ---- Work split over ranks: the studies and training give one process's numbers ----

/// The bits of a list of floats (NaN-safe exact comparison).
fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn plateau_scan_split_over_2_3_4_ranks_equals_one_process_bit_for_bit() {
    use qep::study::plateau::{plateau_scan, Family, PlateauParams};
    let p = PlateauParams {
        family: Family::Chain,
        sizes: vec![3, 4, 5],
        samples: 7,
        init_range: 1.0,
        seed: 5,
        ep_shots: Some((2_000, 0.1)),
        temperature: None,
    };
    let one = plateau_scan(&p, |_, _| {}).unwrap();
    let key = |s: &qep::study::plateau::Plateau| {
        let mut k = bits(&s.variance);
        for r in &s.per_size {
            k.extend(bits(&[r.variance_xx, r.variance_zz, r.median_sq]));
            k.extend(bits(&[r.variance_ep_shots.unwrap_or(f64::NAN)]));
            k.extend(
                r.by_distance
                    .iter()
                    .flat_map(|&(d, v)| [d as u64, v.to_bits()]),
            );
        }
        k.extend(bits(&[s.decay_rate, s.decay_rate_err]));
        k
    };
    assert_eq!(one.variance.len(), 3);
    assert!(one.variance.iter().all(|v| *v > 0.0), "{:?}", one.variance);
    for ranks in [2, 3, 4] {
        let runs = ThreadComm::run_as_world(ranks, || {
            let mut draws = 0;
            let scan = plateau_scan(&p, |_, _| draws += 1).unwrap();
            (scan, draws)
        });
        // Each rank solved its own share of the 3 × 7 draws, and all of them were solved.
        let draws: Vec<usize> = runs.iter().map(|r| r.1).collect();
        assert_eq!(draws.iter().sum::<usize>(), 21, "{ranks} ranks: {draws:?}");
        assert!(
            draws.iter().all(|&d| d <= 3 * 7usize.div_ceil(ranks)),
            "{draws:?}"
        );
        for (rank, (got, _)) in runs.iter().enumerate() {
            assert_eq!(key(got), key(&one), "{ranks} ranks, rank {rank}");
        }
    }
}

#[test]
fn shot_scan_split_over_2_and_3_ranks_equals_one_process_bit_for_bit() {
    use qep::hamiltonian::Example;
    use qep::study::shots::{shot_scan, ShotScanParams};
    let y = "qubits: 3\ninputs: [0]\noutputs: [2]\nparams:\n  - {pauli: \"X0 X1\", value: 0.4}\n  - {pauli: \"Z1 Z2\", value: -0.5}\n  - {pauli: \"Z0 Z2\", value: 0.2}\nterms:\n  - {pauli: X1, coeff: -1}\n  - {pauli: X2, coeff: -1}\n";
    let m = qep::hamiltonian::parse_str(y, std::path::Path::new("s.yaml")).unwrap();
    let ex = Example {
        inputs: vec![0.5],
        targets: vec![1.0],
    };
    // 2 budgets × 2 β × 3 repeats = 12 gradients: blocks that cut through cells.
    let p = ShotScanParams {
        shots: vec![500, 5_000],
        betas: vec![0.05, 0.2],
        repeats: 3,
        seed: 3,
    };
    let key = |s: &qep::study::shots::ShotScan| {
        let mut k: Vec<u64> = s
            .cells
            .iter()
            .flat_map(|c| {
                bits(&[c.rms, c.bias, c.noise, c.reported_std, c.beta])
                    .into_iter()
                    .chain([c.shots, c.shots_per_gradient])
            })
            .collect();
        k.extend(bits(&[s.bias_coefficient, s.noise_coefficient]));
        k
    };
    let one = shot_scan(&m, &m.theta(), &ex, &p, |_, _| {}).unwrap();
    assert_eq!(one.cells.len(), 4);
    assert!(one.cells.iter().all(|c| c.noise > 0.0));
    for ranks in [2, 3] {
        for got in ThreadComm::run_as_world(ranks, || {
            shot_scan(&m, &m.theta(), &ex, &p, |_, _| {}).unwrap()
        }) {
            assert_eq!(key(&got), key(&one), "{ranks} ranks");
        }
    }
}

#[test]
fn thermal_scan_split_over_2_ranks_equals_one_process_bit_for_bit() {
    use qep::cancel::Cancel;
    use qep::report::no_progress;
    use qep::study::thermal_scan::{thermal_scan, ThermalScanSettings};
    let m =
        qep::hamiltonian::load(std::path::Path::new(&crate::common::model("xor.yaml"))).unwrap();
    let settings = ThermalScanSettings {
        temperatures: vec![0.1, 0.5, 3.0],
        beta: 0.01,
        example: 0,
    };
    let key = |s: &qep::study::thermal_scan::ThermalScan| -> Vec<u64> {
        s.rows
            .iter()
            .flat_map(|r| {
                bits(&[
                    r.temperature,
                    r.covariance_xx.unwrap_or(f64::NAN),
                    r.covariance_zz.unwrap_or(f64::NAN),
                    r.covariance,
                    r.clamped,
                    r.kubo_mori,
                    r.exact_norm,
                ])
            })
            .collect()
    };
    let one = thermal_scan(&m, &settings, &Cancel::new(), &no_progress).unwrap();
    assert_eq!(one.rows.len(), 3);
    for got in ThreadComm::run_as_world(2, || {
        thermal_scan(&m, &settings, &Cancel::new(), &no_progress).unwrap()
    }) {
        assert!(got.complete);
        assert_eq!(key(&got), key(&one));
    }
}

#[test]
fn data_parallel_training_on_2_and_3_ranks_equals_one_process() {
    use qep::ep::{TrainParams, Trainer};
    let m =
        qep::hamiltonian::load(std::path::Path::new(&crate::common::model("xor.yaml"))).unwrap();
    let train = || {
        let mut t = Trainer::new(&m, TrainParams::from_model(&m), None).unwrap();
        for _ in 0..2 {
            t.run_epoch(|_, _| {}).unwrap();
        }
        let c = t.checkpoint();
        let metrics: Vec<f64> = c
            .history
            .iter()
            .flat_map(|e| {
                [
                    e.train_cost,
                    e.train_accuracy,
                    e.test_cost,
                    e.test_accuracy,
                    e.grad_norm,
                ]
            })
            .collect();
        (c.theta.clone(), metrics)
    };
    let (theta, metrics) = train();
    assert_eq!(metrics.len(), 10);
    assert!(metrics[0].is_finite() && metrics[4] > 0.0, "{metrics:?}");
    for ranks in [2, 3] {
        for (got_theta, got_metrics) in ThreadComm::run_as_world(ranks, train) {
            for (a, b) in got_theta
                .iter()
                .zip(&theta)
                .chain(got_metrics.iter().zip(&metrics))
            {
                // NaN where there is no test set: NaN on every rank count.
                let same = (a - b).abs() <= 1e-12 || (a.is_nan() && b.is_nan());
                assert!(same, "{ranks} ranks: {a} vs {b}");
            }
            assert_eq!(got_theta.len(), theta.len());
        }
    }
}

#[test]
fn only_rank_0_writes_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("result.txt");
    ThreadComm::run_as_world(3, || {
        let rank = qep::dist::world().rank();
        qep::report::write_atomic(&path, format!("rank {rank}\n").as_bytes()).unwrap();
    });
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "rank 0\n");
    // No rank left a temporary file behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn json_provenance_names_one_rank_without_mpi() {
    let v = crate::common::json(&["info", &crate::common::model("xor.yaml")]);
    assert_eq!(v["provenance"]["ranks"], 1, "{v}");
    assert_eq!(
        v["provenance"]["threads"].as_u64().map(|t| t > 0),
        Some(true)
    );
}

// ---- Solvers on the distributed vectors ----

/// The Hamiltonian of a model in `hamiltonians/` at its initial parameters.
fn model_hamiltonian(rel: &str) -> PauliSum {
    let m = qep::hamiltonian::load(std::path::Path::new(&crate::common::repo(rel))).unwrap();
    m.hamiltonian(&m.theta(), None, 0.0).unwrap()
}

/// Every rank's blocks of level `j`, concatenated in rank order: the whole eigenvector.
fn gathered(spectra: &[qep::dist::DistSpectrum], j: usize) -> Vec<C64> {
    spectra.iter().flat_map(|s| s.block_c64(j)).collect()
}

#[test]
fn distributed_eigensolve_on_1_2_4_ranks_equals_one_process() {
    use qep::linalg::{eigenpairs, LanczosParams};
    let h = model_hamiltonian("hamiltonians/bench/randnet_12.yaml");
    let params = LanczosParams {
        k: 3,
        ..LanczosParams::default()
    };
    let one = eigenpairs(&XMaskOperator::new(&h).unwrap(), &params, None).unwrap();
    assert!(one.is_real());
    // Three distinct levels: each eigenvector is defined up to its sign.
    let e = one.energies();
    assert!(e[1] - e[0] > 1e-3 && e[2] - e[1] > 1e-3, "{e:?}");
    for ranks in [1usize, 2, 4] {
        let spectra = ThreadComm::run(ranks, |comm| {
            qep::dist::lowest_eigenpairs(&h, comm, &params, &|_, _| {}).unwrap()
        });
        for s in &spectra {
            assert_eq!(s.layout.local_dim(), 4096 / ranks);
            // The same bits on every rank (sums in rank order).
            assert_eq!(
                bits(s.spectrum.energies()),
                bits(spectra[0].spectrum.energies())
            );
            for (a, b) in s.spectrum.energies().iter().zip(e) {
                assert!((a - b).abs() < 1e-10, "{ranks} ranks: {a} vs {b}");
            }
            assert!(s.spectrum.residuals().iter().all(|&r| r <= 1e-9));
        }
        for j in 0..3 {
            let got = gathered(&spectra, j);
            let want = one.vector_c64(j);
            let overlap = got
                .iter()
                .zip(&want)
                .map(|(a, b)| a.conj() * b)
                .sum::<C64>()
                .norm_sqr();
            assert!(
                (overlap - 1.0).abs() < 1e-10,
                "{ranks} ranks, level {j}: overlap {overlap}"
            );
        }
    }
}

#[test]
fn distributed_eigensolve_of_a_complex_hamiltonian_on_4_ranks_equals_one_process() {
    use qep::linalg::{eigenpairs, LanczosParams};
    let h = random_sum(9, 30, false, 21);
    assert!(!h.is_real_in_z_basis(0.0));
    let params = LanczosParams {
        k: 2,
        ..LanczosParams::default()
    };
    let one = eigenpairs(&XMaskOperator::new(&h).unwrap(), &params, None).unwrap();
    let spectra = ThreadComm::run(4, |comm| {
        qep::dist::lowest_eigenpairs(&h, comm, &params, &|_, _| {}).unwrap()
    });
    assert!(!spectra[0].spectrum.is_real());
    for (a, b) in spectra[0].spectrum.energies().iter().zip(one.energies()) {
        assert!((a - b).abs() < 1e-10, "{a} vs {b}");
    }
    let got = gathered(&spectra, 0);
    let overlap = got
        .iter()
        .zip(&one.vector_c64(0))
        .map(|(a, b)| a.conj() * b)
        .sum::<C64>()
        .norm_sqr();
    assert!((overlap - 1.0).abs() < 1e-10, "overlap {overlap}");
}

#[test]
fn distributed_timing_counts_one_block_per_global_flip_pattern() {
    use qep::operator::ApplyTimingParams;
    // TFIM chain of 10: with 4 ranks the X terms on qubits 8 and 9 flip global qubits, each
    // its own pattern, and ZZ terms flip nothing: 2 exchanges of a 2^8-amplitude block.
    let mut h = PauliSum::new(10);
    for i in 0..10 {
        h.add(PauliString::from_masks(1 << i, 0), -1.0);
        if i + 1 < 10 {
            h.add(PauliString::from_masks(0, 0b11 << i), -1.0);
        }
    }
    let p = ApplyTimingParams {
        reps: 2,
        warmup: 1,
        seed: 7,
        real: false,
    };
    let one = ThreadComm::run(1, |c| qep::dist::time_apply(&h, c, &p).unwrap());
    let four = ThreadComm::run(4, |c| qep::dist::time_apply(&h, c, &p).unwrap());
    assert_eq!(one[0].mpi_bytes_per_apply, 0);
    for t in &four {
        assert_eq!(t.exchanges, 2);
        assert_eq!(t.mpi_bytes_per_apply, 2 * (1 << 8) * 16);
        assert_eq!(t.apply.qubits, 10);
        assert_eq!(t.apply.times.len(), 2);
        // The random state is drawn per global index: the same ⟨ψ|H|ψ⟩ on any rank count.
        let (a, b) = (t.apply.check_value, one[0].apply.check_value);
        assert!((a - b).abs() < 1e-12 * b.abs(), "{a} vs {b}");
    }
}

#[test]
fn prepare_sweeps_do_not_depend_on_the_sweeps_before_them() {
    use qep::study::prepare::{prepare_study, PrepareStudySettings};
    let model = qep::hamiltonian::load(std::path::Path::new(&crate::common::repo(
        "hamiltonians/bench/anneal_2x4.yaml",
    )))
    .unwrap();
    let study = |times: Vec<f64>| {
        let settings = PrepareStudySettings {
            times: Some(times),
            // Long time steps and a small Krylov space: the propagator cuts each step into
            // adaptive sub-steps, so a step length carried over from an earlier sweep would
            // change the numbers.
            steps: Some(8),
            krylov: qep::adiabatic::KrylovParams {
                tol: 1e-10,
                max_dim: 6,
            },
            gap_points: 0,
            ..PrepareStudySettings::default()
        };
        let cancel = qep::cancel::Cancel::new();
        prepare_study(&model, None, &settings, &cancel, &qep::report::no_progress).unwrap()
    };
    let key = |s: &qep::study::prepare::PrepareStudy| -> Vec<u64> {
        s.all_runs()
            .flat_map(|r| {
                let v = &r.run.verification;
                let mut k = bits(&[r.run.time, v.fidelity, v.energy, v.residual]);
                k.extend(bits(&[r.subspace_fidelity, r.run.propagation.norm_error]));
                k.push(r.run.propagation.krylov.matvecs as u64);
                k
            })
            .collect()
    };
    let all = study(vec![8.0, 32.0, 16.0]);
    assert_eq!(all.all_runs().count(), 3);
    // Magnus: two Krylov steps per time step, each cut into sub-steps.
    for r in all.all_runs() {
        assert!(r.run.propagation.krylov.substeps > 2 * 8, "{r:?}");
    }
    // Each sweep alone gives the bits it gives after the others (no step length carried over).
    let alone: Vec<u64> = [8.0, 32.0, 16.0]
        .into_iter()
        .flat_map(|t| key(&study(vec![t])))
        .collect();
    assert_eq!(key(&all), alone);
    // Split over 2 and 3 ranks: one process's runs, on every rank.
    for ranks in [2, 3] {
        for got in ThreadComm::run_as_world(ranks, || study(vec![8.0, 32.0, 16.0])) {
            assert_eq!(key(&got), key(&all), "{ranks} ranks");
            assert!(got.complete);
            assert_eq!(
                got.infidelity_slope.map(f64::to_bits),
                all.infidelity_slope.map(f64::to_bits)
            );
        }
    }
}
