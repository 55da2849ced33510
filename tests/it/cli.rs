//! The `qep` binary end to end: JSON contracts of each command, numbers checked against
//! independent formulas, and every YAML error class giving a clean, located message and a
//! non-zero exit (never a panic).

use std::path::Path;

use serde_json::Value;

use crate::common::{decay_model, floats, json, model, qep};

#[test]
fn info_reports_structure_and_memory() {
    let v = json(&["info", &model("ising_grid.yaml")]);
    assert_eq!(v["qubits"], 9);
    assert_eq!(v["params"], 24); // 12 bonds × (ZZ, XX)
    assert_eq!(v["inputs"], serde_json::json!([0, 3, 6]));
    assert_eq!(v["outputs"], serde_json::json!([5]));
    // 12 ZZ bonds + 12 XX bonds + 9 fields: 33 terms; X-masks: 12 XX + 9 X + diagonal = 22.
    assert_eq!(v["terms"], 33);
    assert_eq!(v["x_mask_groups"], 22);
    assert_eq!(v["memory"]["state_vector"], 8 * 512); // real arithmetic
    assert_eq!(v["provenance"]["qep_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["provenance"]["input_sha256"].as_str().unwrap().len(), 64);
}

#[test]
fn spectrum_heisenberg_ring_has_the_triplet() {
    let v = json(&["spectrum", &model("heisenberg_ring.yaml"), "--k", "5"]);
    assert_eq!(v["qubits"], 8);
    let e = floats(&v["energies"]);
    let r = floats(&v["residuals"]);
    assert_eq!(e.len(), 5);
    assert!(r.iter().all(|&x| x < 1e-9), "residuals {r:?}");
    // Premise: the ground state is a singlet below the triplet.
    assert!(e[1] - e[0] > 1.0);
    assert!(
        (e[1] - e[2]).abs() < 1e-9 && (e[2] - e[3]).abs() < 1e-9,
        "{e:?}"
    );
    assert!(e[4] - e[3] > 1e-3);
    // Known value for the N = 8 XXX ring with Pauli matrices (4× the spin-½ value −3.651093…).
    assert!((e[0] - (-14.604373635748)).abs() < 1e-9, "{}", e[0]);
}

#[test]
fn spectrum_lanczos_matches_dense() {
    // 8 qubits: the dense oracle stays cheap even in an unoptimised (dev-profile) binary.
    let f = model("heisenberg_ring.yaml");
    let f = f.as_str();
    let l = json(&["spectrum", f, "--k", "6", "--method", "lanczos"]);
    let d = json(&["spectrum", f, "--k", "6", "--method", "dense"]);
    assert_eq!(l["method"], "lanczos");
    assert_eq!(d["method"], "dense");
    for (a, b) in floats(&l["energies"]).iter().zip(floats(&d["energies"])) {
        assert!((a - b).abs() < 1e-9, "{a} vs {b}");
    }
    let two = json(&[
        "spectrum", f, "--k", "1", "--memory", "two-pass", "--method", "lanczos",
    ]);
    assert_eq!(two["method"], "lanczos-two-pass");
    assert!((floats(&two["energies"])[0] - floats(&d["energies"])[0]).abs() < 1e-9);
}

#[test]
fn export_mtx_round_trips_to_the_spectrum() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("H.mtx");
    qep()
        .args(["export", &model("explicit.yaml"), "--format", "mtx", "-o"])
        .arg(&out)
        .assert()
        .success();
    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines = text.lines().filter(|l| !l.starts_with('%'));
    let header: Vec<usize> = lines
        .next()
        .unwrap()
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    assert_eq!(&header[..2], &[32, 32]);
    // H = 0.7 X2 + 0.3 X0X2 − 0.2 Z0Z2, real: rebuild it densely and compare with the
    // definition entry by entry (qubit i = bit i of the index).
    let mut m = vec![0.0; 32 * 32];
    let mut nnz = 0;
    for l in lines {
        let f: Vec<&str> = l.split_whitespace().collect();
        let (i, j): (usize, usize) = (f[0].parse().unwrap(), f[1].parse().unwrap());
        m[(i - 1) * 32 + (j - 1)] += f[2].parse::<f64>().unwrap();
        nnz += 1;
    }
    assert_eq!(nnz, header[2]);
    for b in 0..32usize {
        let zz = if (b ^ (b >> 2)) & 1 == 0 { 1.0 } else { -1.0 };
        assert!((m[b * 32 + b] - (-0.2 * zz)).abs() < 1e-15);
        assert!((m[b * 32 + (b ^ 0b100)] - 0.7).abs() < 1e-15);
        assert!((m[b * 32 + (b ^ 0b101)] - 0.3).abs() < 1e-15);
    }
    let v = qep()
        .args(["export", &model("explicit.yaml"), "--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&v.stdout).unwrap();
    assert_eq!(v["qubits"], 5);
    assert_eq!(v["terms"].as_array().unwrap().len(), 3);
}

#[test]
fn bench_reports_time_and_bandwidth() {
    let v = json(&["bench", &model("tfim_chain.yaml"), "--reps", "3"]);
    assert_eq!(v["qubits"], 12);
    let t = v["apply_seconds"].as_f64().unwrap();
    assert!(t > 0.0 && t < 1.0);
    let gbps = v["effective_gbps"].as_f64().unwrap();
    let bytes = v["bytes_per_apply"].as_f64().unwrap();
    assert_eq!(bytes, (16.0 + 8.0 + 16.0) * 4096.0);
    assert!((gbps - bytes / t / 1e9).abs() < 1e-9 * gbps.max(1.0));
    assert_eq!(v["times"].as_array().unwrap().len(), 3);
    assert!(v.get("sample_seconds").is_none());
    let v = json(&[
        "bench",
        &model("tfim_chain.yaml"),
        "--reps",
        "3",
        "--shots",
        "100000",
    ]);
    assert!(v["sample_seconds"].as_f64().unwrap() > 0.0);
    assert_eq!(v["shots"], 100000);
    // 10^5 shots over the 4096 outcomes of a random state (Porter–Thomas weights p, mean
    // 1/4096): an outcome is missed with probability E[e^{−S p}] = 1/(1 + S/4096), so about
    // 4096 · (1 − 1/25.4) ≈ 3935 occur (spread ≈ 12).
    let distinct = v["distinct_outcomes"].as_u64().unwrap();
    assert!((3880..=3990).contains(&distinct), "{distinct}");
}

#[test]
fn bench_dot_times_the_fused_and_the_separate_inner_product() {
    let f = model("tfim_chain.yaml");
    for real in [false, true] {
        let mut args = vec!["bench", f.as_str(), "--reps", "3"];
        if real {
            args.push("--real");
        }
        let plain = json(&args);
        assert!(plain.get("apply_dot_seconds").is_none());
        args.push("--dot");
        let v = json(&args);
        for key in ["apply_dot_seconds", "apply_then_dot_seconds"] {
            let t = v[key].as_f64().unwrap();
            assert!(t > 0.0 && t < 1.0, "{key} {t}");
        }
        // Both inner products are ⟨ψ|H|ψ⟩ of the same seeded state as check_value.
        let want = v["check_value"].as_f64().unwrap();
        for key in ["fused_dot_value", "separate_dot_value"] {
            let got = v[key].as_f64().unwrap();
            assert!(
                (got - want).abs() < 1e-12 * want.abs().max(1.0),
                "{key} {got} vs {want}"
            );
        }
        assert!(want.abs() > 1e-3, "premise: a nonzero ⟨ψ|H|ψ⟩ {want}");
    }
    // Single precision has no apply_dot: refused with a message, not ignored.
    let out = qep()
        .args([
            "bench",
            f.as_str(),
            "--reps",
            "2",
            "--dot",
            "--precision",
            "single",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--dot"));
}

#[test]
fn bench_in_single_precision_reports_it_and_agrees_with_double() {
    let f = model("tfim_chain.yaml");
    for real in [false, true] {
        let mut args = vec!["bench", f.as_str(), "--reps", "2"];
        if real {
            args.push("--real");
        }
        let double = json(&args);
        args.extend(["--precision", "single"]);
        let single = json(&args);
        assert_eq!(double["precision"], "double");
        assert_eq!(single["precision"], "single");
        // ψ and H·ψ in 4 / 8 bytes per amplitude, the diagonal in 8.
        let amp = if real { 4.0 } else { 8.0 };
        assert_eq!(
            single["bytes_per_apply"].as_f64().unwrap(),
            (2.0 * amp + 8.0) * 4096.0
        );
        // ⟨ψ|H|ψ⟩ of the same seeded state, rounded to single precision.
        let (d, s) = (
            double["check_value"].as_f64().unwrap(),
            single["check_value"].as_f64().unwrap(),
        );
        assert!(d.abs() > 1e-3, "premise: {d}");
        assert!((s - d).abs() <= 1e-5 * d.abs(), "real {real}: {s} vs {d}");
    }
}

#[test]
fn run_without_dataset_reports_the_free_phase() {
    // One qubit, H = 0.3 Z0 − 0.4 X0: E0 = −0.5 and ⟨Z0⟩ = −0.3/0.5 in the ground state.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("one.yaml");
    std::fs::write(
        &f,
        "qubits: 1\noutputs: [0]\nterms:\n  - {pauli: Z0, coeff: 0.3}\n  - {pauli: X0, coeff: -0.4}\n",
    )
    .unwrap();
    let v = json(&["run", f.to_str().unwrap()]);
    assert_eq!(v["level"], 0);
    assert!((v["energy"].as_f64().unwrap() + 0.5).abs() < 1e-12);
    assert!((floats(&v["z_outputs"])[0] + 0.6).abs() < 1e-12);
    assert!((v["gap"].as_f64().unwrap() - 1.0).abs() < 1e-12);
    assert!(v["cost"].is_null());
}

#[test]
fn run_trains_writes_its_files_and_resumes_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let f = model("ising_grid.yaml");
    let f = f.as_str();
    let full = dir.path().join("full");
    let part = dir.path().join("part");
    let s = json(&["run", f, "--epochs", "2", "--out", full.to_str().unwrap()]);
    assert_eq!(s["epochs"], 2);
    for key in ["train_accuracy", "test_accuracy"] {
        let a = s[key].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&a), "{key} = {a}");
    }
    assert!(s["final_cost"].as_f64().unwrap() > 0.0);
    assert_eq!(s["provenance"]["seed"], 7);
    for name in [
        "metrics.csv",
        "params.json",
        "summary.json",
        "training.svg",
        "checkpoint.json",
    ] {
        assert!(full.join(name).exists(), "{name} missing");
    }
    let csv = std::fs::read_to_string(full.join("metrics.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(std::fs::read_to_string(full.join("training.svg"))
        .unwrap()
        .starts_with("<svg"));
    // Interrupted after one epoch, then resumed: the same parameters to the last bit.
    json(&["run", f, "--epochs", "1", "--out", part.to_str().unwrap()]);
    json(&[
        "run",
        f,
        "--epochs",
        "2",
        "--resume",
        "--out",
        part.to_str().unwrap(),
    ]);
    let a: Value =
        serde_json::from_str(&std::fs::read_to_string(full.join("params.json")).unwrap()).unwrap();
    let b: Value =
        serde_json::from_str(&std::fs::read_to_string(part.join("params.json")).unwrap()).unwrap();
    assert_eq!(a["params"], b["params"]);
    assert_ne!(
        a["params"][0]["value"].as_f64().unwrap(),
        qep::hamiltonian::load(Path::new(f)).unwrap().params[0].value,
        "premise: training moved the parameters"
    );
}

/// Writes `text` to `name` in a temporary folder, runs `qep ARGS FILE`, and checks the
/// failure: exit code 1, stderr `error: FILE:LINE:COL…` containing `needles`, no panic.
fn fails_with(
    cmd: &str,
    name: &str,
    text: Option<&str>,
    at: Option<(usize, usize)>,
    needles: &[&str],
) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    if let Some(t) = text {
        std::fs::write(&path, t).unwrap();
    }
    let out = qep().args([cmd]).arg(&path).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{name}: {err}");
    assert!(!err.contains("panicked"), "{name}: {err}");
    let prefix = match at {
        Some((l, c)) => format!("error: {}:{l}:{c}: ", path.display()),
        None => format!("error: {}: ", path.display()),
    };
    assert!(
        err.starts_with(&prefix),
        "{name}: {err:?} should start with {prefix:?}"
    );
    for n in needles {
        assert!(err.contains(n), "{name}: {err:?} should contain {n:?}");
    }
}

#[test]
fn every_yaml_error_class_is_located_and_clean() {
    fails_with("run", "missing.yaml", None, None, &["cannot read"]);
    fails_with("spectrum", "empty.yaml", Some(""), None, &["empty"]);
    fails_with(
        "info",
        "syntax.yaml",
        Some("qubits: 3\nterms: [\n"),
        Some((3, 1)),
        &["YAML syntax"],
    );
    fails_with(
        "run",
        "unknown.yaml",
        Some("qubits: 3\nfoo: 1\n"),
        Some((2, 1)),
        &["unknown key `foo`"],
    );
    fails_with(
        "run",
        "letter.yaml",
        Some("qubits: 3\nterms:\n  - {pauli: \"X0 Q1\", coeff: 1}\n"),
        Some((3, 13)),
        &["`terms[0].pauli`", "bad Pauli letter `Q`"],
    );
    fails_with(
        "spectrum",
        "index.yaml",
        Some("qubits: 3\nterms:\n  - {pauli: \"X0 X3\", coeff: 1}\n"),
        Some((3, 13)),
        &["qubit 3 does not exist", "< 3"],
    );
    fails_with(
        "info",
        "coeff.yaml",
        Some("qubits: 3\nterms:\n  - {pauli: \"X0\", coeff: abc}\n"),
        Some((3, 26)),
        &["`terms[0].coeff`", "expected a number"],
    );
    fails_with(
        "info",
        "zero.yaml",
        Some("qubits: 0\n"),
        Some((1, 9)),
        &["expected an integer ≥ 1"],
    );
    fails_with(
        "info",
        "negative.yaml",
        Some("qubits: -2\n"),
        Some((1, 9)),
        &["-2 qubits"],
    );
}

#[test]
fn a_model_too_large_for_memory_fails_before_allocating() {
    let big =
        "qubits: 60\nterms:\n  - {pauli: \"Z0 Z59\", coeff: 1}\n  - {pauli: \"X7\", coeff: 1}\n";
    for cmd in ["spectrum", "run", "bench"] {
        fails_with(
            cmd,
            "big.yaml",
            Some(big),
            None,
            &["needs", "EiB", "available"],
        );
    }
}

#[test]
fn grad_reports_ep_and_the_thermal_gradients() {
    let f = model("xor.yaml");
    let f = f.as_str();
    let v = json(&["grad", f, "--example", "1", "--beta", "0.001"]);
    assert_eq!(v["params"][0], "Z0 Z1 Z4"); // labels exactly as written, in file order
    assert!(v["cosine"].as_f64().unwrap() > 0.999999);
    let s = json(&["grad", f, "--shots", "1000", "--seed", "4", "--no-exact"]);
    assert_eq!(s["shots_total"], 1000 * 2 * 2);
    assert_eq!(
        s["ep_std"].as_array().unwrap().len(),
        s["ep"].as_array().unwrap().len()
    );
    let t = json(&["grad", f, "--temperature", "0.5"]);
    let (exact, km) = (floats(&t["exact"]), floats(&t["kubo_mori"]));
    for key in ["clamped", "covariance"] {
        assert_eq!(floats(&t[key]).len(), exact.len());
    }
    let err: f64 = exact
        .iter()
        .zip(&km)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(err < 1e-8, "Kubo–Mori vs exact: {err}");
}

#[test]
fn evolve_follows_decay_and_rabi_oscillation() {
    // Qubit 1 decays at γ = 0.5 (σ⁻ drives it to |1⟩: ⟨Z1⟩ = 2e^{−γt} − 1); qubit 0 is driven by
    // 0.65 X0 from |0⟩ (⟨Z0⟩ = cos 1.3t); the two are uncoupled.
    let dir = tempfile::tempdir().unwrap();
    let f = decay_model(dir.path());
    let v = json(&[
        "evolve",
        f.to_str().unwrap(),
        "--initial",
        "zero",
        "--times",
        "0.5,1,2",
        "--observe",
        "Z1,Z0",
    ]);
    let (z1, z0) = (
        floats(&v["observables"]["Z1"]),
        floats(&v["observables"]["Z0"]),
    );
    for (i, t) in [0.5f64, 1.0, 2.0].into_iter().enumerate() {
        assert!(
            (z1[i] - (2.0 * (-0.5 * t).exp() - 1.0)).abs() < 1e-8,
            "Z1({t}) = {}",
            z1[i]
        );
        assert!(
            (z0[i] - (1.3 * t).cos()).abs() < 1e-8,
            "Z0({t}) = {}",
            z0[i]
        );
    }
    assert!(floats(&v["purity"]).iter().all(|&p| p < 1.0 && p > 0.25));
    assert!(floats(&v["trace"]).iter().all(|&t| (t - 1.0).abs() < 1e-12));
}

#[test]
fn thermal_scan_shows_the_covariance_failing_at_low_temperature() {
    let dir = tempfile::tempdir().unwrap();
    let v = json(&[
        "thermal-scan",
        &model("xor.yaml"),
        "--temperatures",
        "0.1,3",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for r in rows {
        assert!(r["kubo_mori"].as_f64().unwrap() < 1e-8, "{r}");
    }
    let cov = |i: usize, k: &str| rows[i][k].as_f64().unwrap();
    // Eq. 43 misses on this quantum network, more the colder it is, for XX and ZZ alike.
    for k in ["covariance_xx", "covariance_zz"] {
        assert!(
            cov(0, k) > 1.0 && cov(0, k) > 5.0 * cov(1, k),
            "{k}: {} vs {}",
            cov(0, k),
            cov(1, k)
        );
    }
    assert!(dir.path().join("thermal-scan.svg").exists());
    let png = std::fs::read(dir.path().join("thermal-scan.png")).expect("thermal-scan.png");
    assert_eq!(
        crate::plots::png_size(&png),
        (
            qep::report::svg::PANEL_WIDTH,
            qep::report::svg::PANEL_HEIGHT
        )
    );
}
