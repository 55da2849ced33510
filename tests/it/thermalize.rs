//! Thermalisation (src/evolve/davies.rs, cooling.rs, gibbs.rs; `qep thermalize`): the Davies
//! generator's fixed point is the Gibbs state, the collision-model cooling protocol gets close
//! to it, and the partial trace / trace distance against hand-made oracles.

use std::path::Path;

use predicates::prelude::*;
use qep::evolve::{
    cool, partial_trace, tensor_product, thermal_qubit, trace_distance, CoolingParams, Davies,
    DaviesParams, DensityMatrix, GibbsDensity, Options,
};
use qep::pauli::{PauliString, PauliSum};
use qep::C64;

use crate::common::{json_of, net3_model, qep};
use crate::oracle::{pauli_sum, tfim_chain};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn c(re: f64) -> C64 {
    C64::new(re, 0.0)
}

/// Random XX + ZZ couplings on a chain plus random X and Z fields (seeded).
fn random_xxzz(n: usize, seed: u64) -> PauliSum {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut s = PauliSum::new(n);
    for i in 0..n - 1 {
        for l in ["X", "Z"] {
            let v: f64 = rng.random_range(-1.0..1.0);
            s.add(
                PauliString::parse(&format!("{l}{i} {l}{}", i + 1)).unwrap(),
                v,
            );
        }
    }
    for i in 0..n {
        for l in ["X", "Z"] {
            let v: f64 = rng.random_range(-1.0..1.0);
            s.add(PauliString::parse(&format!("{l}{i}")).unwrap(), v);
        }
    }
    s
}

/// Heisenberg ring `Σ (X_i X_{i+1} + Y_i Y_{i+1} + Z_i Z_{i+1})`: degenerate multiplets.
fn heisenberg_ring(n: usize) -> PauliSum {
    let mut s = PauliSum::new(n);
    for i in 0..n {
        let j = (i + 1) % n;
        for l in ["X", "Y", "Z"] {
            s.add(PauliString::parse(&format!("{l}{i} {l}{j}")).unwrap(), 1.0);
        }
    }
    s
}

fn mixed(n: usize) -> DensityMatrix {
    let d = 1usize << n;
    let mut data = vec![c(0.0); d * d];
    for i in 0..d {
        data[i * d + i] = c(1.0 / d as f64);
    }
    DensityMatrix::from_entries(n, data)
}

fn basis(n: usize, b: usize) -> DensityMatrix {
    let mut psi = vec![c(0.0); 1 << n];
    psi[b] = c(1.0);
    DensityMatrix::from_pure(&psi).unwrap()
}

fn random_state(n: usize, seed: u64) -> DensityMatrix {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let d = 1usize << n;
    let m: Vec<C64> = (0..d * d)
        .map(|_| C64::new(rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)))
        .collect();
    let mut data = vec![c(0.0); d * d];
    for r in 0..d {
        for cc in 0..d {
            data[r * d + cc] = (0..d).map(|k| m[r * d + k] * m[cc * d + k].conj()).sum();
        }
    }
    let tr: f64 = (0..d).map(|i| data[i * d + i].re).sum();
    data.iter_mut().for_each(|x| *x /= tr);
    DensityMatrix::from_entries(n, data)
}

fn max_diff(a: &DensityMatrix, b: &DensityMatrix) -> f64 {
    a.as_slice()
        .iter()
        .zip(b.as_slice())
        .map(|(x, y)| (x - y).norm())
        .fold(0.0, f64::max)
}

// ---------- trace distance, partial trace, ancilla state ----------

#[test]
fn trace_distance_of_diagonal_states_is_half_l1() {
    let p: [f64; 4] = [0.5, 0.25, 0.125, 0.125];
    let q = [0.1, 0.2, 0.3, 0.4];
    let diag = |w: &[f64]| {
        let mut data = vec![c(0.0); 16];
        for (i, &x) in w.iter().enumerate() {
            data[i * 4 + i] = c(x);
        }
        DensityMatrix::from_entries(2, data)
    };
    let want: f64 = 0.5 * p.iter().zip(&q).map(|(a, b)| (a - b).abs()).sum::<f64>();
    let got = trace_distance(&diag(&p), &diag(&q)).unwrap();
    assert!((got - want).abs() < 1e-14, "{got} vs {want}");
    assert!((want - 0.45).abs() < 1e-15);
    // Pure states: D(|0⟩, |+⟩) = sqrt(1 − |⟨0|+⟩|²) = 1/√2.
    let s = 1.0 / 2f64.sqrt();
    let plus = DensityMatrix::from_pure(&[c(s), c(s)]).unwrap();
    let d = trace_distance(&basis(1, 0), &plus).unwrap();
    assert!((d - s).abs() < 1e-14, "{d}");
    assert!(trace_distance(&plus, &plus).unwrap() < 1e-15);
}

#[test]
fn partial_trace_undoes_the_kronecker_product() {
    let rho_s = random_state(3, 11);
    let tau_a = random_state(2, 12);
    let full = tensor_product(&rho_s, &tau_a).unwrap();
    assert_eq!(full.qubits(), 5);
    // Premise: the product is the dense Kronecker product (qubit 0 = lowest bit).
    let ds = 8usize;
    for r in 0..32 {
        for cc in 0..32 {
            let want = rho_s.get(r % ds, cc % ds) * tau_a.get(r / ds, cc / ds);
            assert!((full.get(r, cc) - want).norm() < 1e-15);
        }
    }
    let back = partial_trace(&full, &[0, 1, 2]).unwrap();
    assert!(
        max_diff(&back, &rho_s) < 1e-14,
        "{}",
        max_diff(&back, &rho_s)
    );
    let anc = partial_trace(&full, &[3, 4]).unwrap();
    assert!(max_diff(&anc, &tau_a) < 1e-14);
    // Non-contiguous: ρ0 ⊗ ρ1 ⊗ ρ2 ⊗ ρ3 kept on [1, 3] is ρ1 ⊗ ρ3.
    let q: Vec<DensityMatrix> = (0..4).map(|i| random_state(1, 20 + i)).collect();
    let all = tensor_product(
        &tensor_product(&tensor_product(&q[0], &q[1]).unwrap(), &q[2]).unwrap(),
        &q[3],
    )
    .unwrap();
    let kept = partial_trace(&all, &[1, 3]).unwrap();
    let want = tensor_product(&q[1], &q[3]).unwrap();
    assert!(max_diff(&kept, &want) < 1e-14);
    assert!(partial_trace(&all, &[3, 1]).is_err());
    assert!(partial_trace(&all, &[4]).is_err());
}

#[test]
fn thermal_ancilla_has_ground_state_one() {
    let (w, t) = (1.3, 0.7);
    let tau = thermal_qubit(w, t).unwrap();
    let (p0, p1) = (tau.get(0, 0).re, tau.get(1, 1).re);
    assert!((p0 + p1 - 1.0).abs() < 1e-15);
    assert!(p1 > p0, "|1⟩ is the ground state of (ω/2) Z");
    assert!((p0 / p1 - (-w / t).exp()).abs() < 1e-15);
    // No overflow far from T.
    let cold = thermal_qubit(1e3, 1e-3).unwrap();
    assert_eq!(cold.get(0, 0).re, 0.0);
    assert_eq!(cold.get(1, 1).re, 1.0);
    assert!(thermal_qubit(1.0, 0.0).is_err());
}

// ---------- Davies ----------

#[test]
fn davies_fixed_point_is_the_gibbs_state() {
    let models = [
        ("random 3", random_xxzz(3, 1)),
        ("random 4", random_xxzz(4, 2)),
        ("tfim 4", tfim_chain(4, 1.0, 1.0)),
        ("heisenberg ring 4", heisenberg_ring(4)),
    ];
    for (name, h) in &models {
        for &t in &[0.5, 2.0] {
            let dav = Davies::new(h, t, &DaviesParams::default()).unwrap();
            if name.starts_with("heisenberg") {
                // Premise: this model has degenerate levels (singlets, triplets, quintet).
                assert!(
                    dav.degeneracies().iter().any(|&m| m >= 3),
                    "{:?}",
                    dav.degeneracies()
                );
            }
            let fp = dav.fixed_point().unwrap();
            let gibbs = GibbsDensity::new(h, t).unwrap();
            let d = trace_distance(&fp.state, gibbs.rho()).unwrap();
            println!(
                "{name} T={t}: D(fixed point, Gibbs) = {:.2e} (eigenbasis {:.2e}), sector {} gap {:.4}, levels {:?}",
                d,
                fp.trace_distance,
                fp.sector_dim,
                fp.gap,
                dav.degeneracies()
            );
            assert!(d < 1e-8, "{name} T={t}: {d:e}");
            assert!(fp.trace_distance < 1e-8);
            assert!(fp.gap > 1e-3, "{name}: gap {}", fp.gap);
            // It is stationary: ‖L(ρ_G)‖ in the eigenbasis.
            let eig = dav.to_eigenbasis(gibbs.rho());
            let mut out = vec![c(0.0); eig.len()];
            dav.apply(&eig, &mut out);
            let r = out.iter().map(|z| z.norm()).fold(0.0, f64::max);
            assert!(r < 1e-12, "{name}: ‖L(ρ_G)‖ = {r:e}");
        }
    }
}

#[test]
fn davies_evolution_relaxes_to_gibbs() {
    for (name, h, t) in [
        ("random 3", random_xxzz(3, 5), 0.5),
        ("heisenberg ring 4", heisenberg_ring(4), 2.0),
    ] {
        let dav = Davies::new(&h, t, &DaviesParams::default()).unwrap();
        let gap = dav.fixed_point().unwrap().gap;
        let t_end = 20.0 / gap;
        let times: Vec<f64> = (1..=40).map(|i| t_end * i as f64 / 40.0).collect();
        let opts = Options {
            atol: 1e-12,
            rtol: 1e-10,
            ..Options::default()
        };
        let (rel, stats) = dav
            .evolve(
                &basis(h.qubits(), 0),
                &times,
                &[pauli_sum(h.qubits(), &[("Z0", 1.0)])],
                &opts,
            )
            .unwrap();
        let d = &rel.trace_distance;
        println!(
            "{name} T={t}: gap {gap:.4}, t_end {t_end:.1}, D: {:.3e} → {:.3e} → {:.3e}, {} steps",
            d[0], d[19], d[39], stats.steps
        );
        for w in d.windows(2) {
            assert!(w[1] <= w[0] * 1.05 + 1e-12, "not monotone: {w:?}");
        }
        assert!(d[39] < 1e-6, "{name}: final {:e}", d[39]);
        assert!((rel.energy[39] - rel.gibbs_energy).abs() < 1e-6);
        let gibbs = GibbsDensity::new(&h, t).unwrap();
        assert!(trace_distance(&rel.final_state, gibbs.rho()).unwrap() < 1e-6);
        let z0 = gibbs.expectation(&pauli_sum(h.qubits(), &[("Z0", 1.0)]));
        assert!((rel.observables[0][39] - z0).abs() < 1e-6);
    }
}

// ---------- cooling ----------

/// The stated bound of the default protocol on 4-qubit models: trace distance < 0.02 to the
/// Gibbs state at T = 0.5 and T = 2, energy within 0.02 of the Gibbs energy.
#[test]
fn cooling_reaches_the_gibbs_state_on_four_qubits() {
    for (name, h) in [
        ("tfim 4", tfim_chain(4, 1.0, 1.0)),
        ("random 4", random_xxzz(4, 3)),
    ] {
        let mut final_energy = Vec::new();
        for &t in &[0.5, 2.0] {
            let t0 = std::time::Instant::now();
            let r = cool(&h, t, &mixed(4), &[], &CoolingParams::default(), |_, _| {}).unwrap();
            let rel = &r.relaxation;
            let d = *rel.trace_distance.last().unwrap();
            let e = *rel.energy.last().unwrap();
            println!(
                "{name} T={t}: D {:.4} → {:.4} → {d:.4}, E = {e:.4} vs Gibbs {:.4}, {} frequencies, {} collisions, {:.2} s",
                rel.trace_distance[0],
                rel.trace_distance[5],
                rel.gibbs_energy,
                r.frequencies.len(),
                r.collisions,
                t0.elapsed().as_secs_f64()
            );
            assert!(
                rel.trace_distance[0] > 0.2,
                "premise: the start is far from Gibbs"
            );
            assert!(d < 0.02, "{name} T={t}: trace distance {d}");
            assert!(
                (e - rel.gibbs_energy).abs() < 0.02,
                "{name} T={t}: {e} vs {}",
                rel.gibbs_energy
            );
            final_energy.push(e);
        }
        assert!(final_energy[0] < final_energy[1] - 0.5, "{final_energy:?}");
    }
}

/// Weak coupling gets closer to Gibbs, but slower: the number of rounds to converge grows
/// like 1/g².
#[test]
fn cooling_weak_coupling_is_closer_but_slower() {
    let h = tfim_chain(4, 1.0, 1.0);
    let mut finals = Vec::new();
    let mut to_reach = Vec::new();
    for &(g, rounds) in &[(0.05, 30usize), (0.02, 60), (0.01, 200)] {
        let p = CoolingParams {
            coupling: g,
            duration: 100.0,
            rounds,
            ..CoolingParams::default()
        };
        let r = cool(&h, 0.5, &mixed(4), &[], &p, |_, _| {}).unwrap();
        let d = &r.relaxation.trace_distance;
        let fin = *d.last().unwrap();
        let reach = d.iter().position(|&x| x < 0.03).unwrap_or(usize::MAX);
        println!("g = {g}: final D = {fin:.4}, rounds to D < 0.03: {reach}");
        finals.push(fin);
        to_reach.push(reach);
    }
    assert!(finals[0] > finals[1] && finals[1] > finals[2], "{finals:?}");
    assert!(
        to_reach[0] < to_reach[1] && to_reach[1] < to_reach[2],
        "{to_reach:?}"
    );
}

#[test]
fn cooling_dense_and_lindblad_propagators_agree() {
    let h = random_xxzz(3, 9);
    let p = CoolingParams {
        coupling: 0.1,
        duration: 5.0,
        frequencies: vec![0.7, 1.3, 2.1],
        rounds: 1,
        ..CoolingParams::default()
    };
    let a = cool(&h, 1.0, &random_state(3, 4), &[], &p, |_, _| {}).unwrap();
    let q = CoolingParams {
        propagator: qep::evolve::Propagator::Lindblad,
        ..p
    };
    let b = cool(&h, 1.0, &random_state(3, 4), &[], &q, |_, _| {}).unwrap();
    let diff = max_diff(&a.relaxation.final_state, &b.relaxation.final_state);
    assert_eq!(a.collisions, 2); // [0.7, 1.3], then [2.1, 0.7]
    assert!(diff < 1e-7, "{diff:e}");
    assert!((a.relaxation.final_state.trace().re - 1.0).abs() < 1e-12);
}

// ---------- CLI ----------

/// `qep thermalize MODEL --temperature 0.5 --method METHOD --steps STEPS --observe "Z0,Z1 Z2"
/// --out OUT --json` with `extra` flags: its JSON, after checking the three files exist.
pub fn thermalize_json(
    model: &Path,
    out_dir: &Path,
    method: &str,
    steps: &str,
    extra: &[&str],
) -> serde_json::Value {
    let mut cmd = qep();
    cmd.args([
        "thermalize",
        model.to_str().unwrap(),
        "--temperature",
        "0.5",
    ])
    .args(["--method", method, "--steps", steps])
    .args(extra)
    .args(["--observe", "Z0,Z1 Z2", "--out", out_dir.to_str().unwrap()])
    .arg("--json");
    let v = json_of(&mut cmd);
    for f in ["thermalize.csv", "thermalize.json", "thermalize.svg"] {
        assert!(out_dir.join(f).exists(), "{f}");
    }
    // The PNG twin of the SVG: two panels (trace distance and ⟨H⟩) side by side, or one.
    let png = std::fs::read(out_dir.join("thermalize.png")).expect("thermalize.png");
    let (w, h) = crate::plots::png_size(&png);
    assert_eq!(h, qep::report::svg::PANEL_HEIGHT);
    assert!(
        w == qep::report::svg::PANEL_WIDTH || w == 2 * qep::report::svg::PANEL_WIDTH,
        "{w}"
    );
    v
}

#[test]
fn cli_thermalize_json_for_both_methods() {
    let tmp = tempfile::tempdir().unwrap();
    let model = net3_model(tmp.path());
    for method in ["cooling", "davies"] {
        let out_dir = tmp.path().join(method);
        let v = thermalize_json(&model, &out_dir, method, "20", &[]);
        let d = v["trace_distance"].as_f64().unwrap();
        let e = v["energy"].as_f64().unwrap();
        let eg = v["gibbs"]["energy"].as_f64().unwrap();
        println!("{method}: D = {d:.3e}, E = {e:.6} vs {eg:.6}");
        assert_eq!(v["trace"].as_array().unwrap().len(), 21);
        assert!(v["observables"]["Z0"].is_f64() && v["observables"]["Z1 Z2"].is_f64());
        assert!(v["cost"].is_f64() && v["gibbs"]["cost"].is_f64());
        assert!(v["provenance"]["input_sha256"].as_str().unwrap().len() == 64);
        let (bound, e_tol) = if method == "davies" {
            (1e-6, 1e-6)
        } else {
            (0.03, 0.03)
        };
        assert!(d < bound, "{method}: {d}");
        assert!((e - eg).abs() < e_tol, "{method}: {e} vs {eg}");
        let z0 = v["observables"]["Z0"].as_f64().unwrap();
        let z0g = v["gibbs"]["observables"]["Z0"].as_f64().unwrap();
        assert!(
            (z0 - z0g).abs() < 2.0 * bound.max(1e-6) * 2.0,
            "{z0} vs {z0g}"
        );
        let csv = std::fs::read_to_string(out_dir.join("thermalize.csv")).unwrap();
        assert_eq!(csv.lines().count(), 22);
    }
}

#[test]
fn cli_thermalize_rejects_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let model = net3_model(tmp.path());
    for t in ["0", "-1"] {
        qep()
            .args(["thermalize", model.to_str().unwrap(), "--temperature", t])
            .assert()
            .code(1)
            .stderr(
                predicates::str::contains("--temperature")
                    .and(predicates::str::contains("expected a finite number > 0")),
            );
    }
    qep()
        .args([
            "thermalize",
            model.to_str().unwrap(),
            "--temperature",
            "1",
            "--method",
            "trajectories",
            "--trajectories",
            "0",
        ])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("expected at least 1 trajectory"));
}

// ---------- library: the orchestration behind `qep thermalize` ----------

#[test]
fn library_thermalize_reaches_gibbs_with_both_methods_and_reports_progress() {
    use qep::evolve::thermalize::{thermalize, ThermalizeMethod, ThermalizeSettings};
    use qep::report::Progress;
    use std::sync::Mutex;

    let tmp = tempfile::tempdir().unwrap();
    let model = qep::hamiltonian::load(&net3_model(tmp.path())).unwrap();
    for (method, bound) in [
        (ThermalizeMethod::Cooling, 0.03),
        (ThermalizeMethod::Davies, 1e-6),
    ] {
        let settings = ThermalizeSettings {
            method,
            temperature: Some(0.5),
            steps: 20,
            observe: vec!["Z0".into(), "Z1 Z2".into()],
            ..ThermalizeSettings::default()
        };
        let reports = Mutex::new(Vec::new());
        let r = thermalize(&model, &settings, &|p| reports.lock().unwrap().push(p)).unwrap();
        assert_eq!(r.method, method.name());
        assert_eq!(r.trace.len(), 21);
        let d = r.trace_distance.unwrap();
        assert!(d < bound, "{method:?}: D = {d}");
        // The start (maximally mixed) is far from the Gibbs state at T = 0.5.
        assert!(r.trace[0].trace_distance.unwrap() > 0.1);
        assert!(
            (r.energy - r.gibbs.energy).abs() < bound.max(1e-6),
            "{method:?}"
        );
        let (z0, z0g) = (r.observables["Z0"], r.gibbs.observables["Z0"]);
        assert!((z0 - z0g).abs() < 4.0 * bound.max(1e-6), "{z0} vs {z0g}");
        assert!(r.cost.is_some() && r.gibbs.cost.is_some());
        assert_eq!(r.settings.temperature, Some(0.5));
        assert_eq!(r.csv().lines().count(), 22);
        assert!(r.svg().starts_with("<svg"));
        // The last report is the last step of a phase of known length.
        let reports = reports.into_inner().unwrap();
        match reports.last() {
            Some(Progress::Steps { done, total, .. }) => assert_eq!(done, total),
            other => panic!("{method:?}: last report {other:?}"),
        }
    }
}

#[test]
fn library_thermalize_refuses_bad_settings_before_work() {
    use qep::evolve::thermalize::{thermalize, ThermalizeSettings};
    use qep::evolve::EvolveError;

    let tmp = tempfile::tempdir().unwrap();
    let model = qep::hamiltonian::load(&net3_model(tmp.path())).unwrap();
    let no_progress = &qep::report::no_progress;
    let err = thermalize(&model, &ThermalizeSettings::default(), no_progress).unwrap_err();
    assert!(matches!(err, EvolveError::NoTemperature), "{err}");
    let bad = |s: ThermalizeSettings| thermalize(&model, &s, no_progress).unwrap_err();
    let s = || ThermalizeSettings {
        temperature: Some(1.0),
        ..ThermalizeSettings::default()
    };
    assert_eq!(
        bad(ThermalizeSettings {
            initial: "basis:8".into(),
            ..s()
        })
        .to_string(),
        "--initial \"basis:8\": expected mixed, plus, zero or basis:B with B < 2^3"
    );
    assert_eq!(
        bad(ThermalizeSettings {
            observe: vec!["Z3".into()],
            ..s()
        })
        .to_string(),
        "--observe \"Z3\": acts on a qubit ≥ 3, the model has 3 qubits"
    );
    assert_eq!(
        bad(ThermalizeSettings {
            temperature: Some(-1.0),
            ..s()
        })
        .to_string(),
        "temperature T = -1 is not valid; expected a finite number > 0"
    );
}
