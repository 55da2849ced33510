//! Studies that say when not to trust them: the warnings of `qep plateau`, `qep shots` and
//! `qep prepare` (each with a case that triggers it and one that does not), their new result
//! columns, and the order of `qep circuit run`'s counts.

use qep::study::plateau::{plateau_scan, Family, PlateauParams};

use crate::common::{json, model, qep, succeeds};

fn scan(family: Family, sizes: Vec<usize>, samples: usize, a: f64) -> qep::study::plateau::Plateau {
    let p = PlateauParams {
        family,
        sizes,
        samples,
        init_range: a,
        seed: 0,
        ep_shots: None,
        temperature: None,
    };
    plateau_scan(&p, |_, _| {}).unwrap()
}

#[test]
fn plateau_warns_when_the_rate_interval_includes_zero_and_says_how_many_draws_resolve_it() {
    // Heavy-tailed draws (couplings up to ±1): Var(N = 6) > Var(N = 4) and a wide interval.
    let r = scan(Family::Chain, vec![4, 6, 8, 10], 50, 1.0);
    let (lo, hi) = r.decay_rate_ci95;
    assert!(lo < 0.0 && hi > 0.0 && r.decay_rate > 0.0, "{lo} {hi}");
    let w = r
        .warnings
        .iter()
        .find(|w| w.contains("includes 0"))
        .unwrap_or_else(|| panic!("{:?}", r.warnings));
    // The draws that would resolve it: samples · (half-width / r)², more than were run.
    let need: f64 = 50.0 * (0.5 * (hi - lo) / r.decay_rate).powi(2);
    assert!(
        w.contains(&format!("about {} draws per size", need.ceil() as u64)),
        "{w}"
    );
    assert!(need > 50.0);
    // Every size has a standard error, and the variance's error bars are honest: the fit's
    // sampling error alone is smaller than the residual interval here.
    assert!(r
        .per_size
        .iter()
        .all(|s| s.variance_err > 0.0 && s.variance_err < s.variance));
    assert!(r.decay_rate_stat_err > 0.0);
}

#[test]
fn plateau_warns_when_the_variance_grows_with_n() {
    let r = scan(Family::AllToAll, vec![4, 6, 8], 40, 0.3);
    assert!(
        r.decay_rate < 0.0 && r.decay_rate_ci95.1 < 0.0,
        "{:?}",
        r.decay_rate_ci95
    );
    assert!(
        r.warnings.iter().any(|w| w.contains("is negative")),
        "{:?}",
        r.warnings
    );
    assert!(!r.warnings.iter().any(|w| w.contains("includes 0")));
}

#[test]
fn plateau_with_a_clear_decay_has_no_warning() {
    let r = scan(Family::Chain, vec![4, 6, 8], 30, 0.3);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    let (lo, hi) = r.decay_rate_ci95;
    assert!(lo > 1.0 && hi > lo && r.decay_rate > lo && r.decay_rate < hi);
}

#[test]
fn plateau_csv_and_json_carry_every_per_size_number() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p");
    let v = json(&[
        "plateau",
        "--family",
        "chain",
        "--sizes",
        "3,4",
        "--samples",
        "6",
        "--out",
        out.to_str().unwrap(),
    ]);
    for key in ["decay_rate_ci95", "decay_rate_stat_err", "warnings"] {
        assert!(v.get(key).is_some(), "no {key}");
    }
    let csv = std::fs::read_to_string(out.join("plateau.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    for key in v["per_size"][0].as_object().unwrap().keys() {
        assert!(
            header.contains(&key.as_str()),
            "{key} missing from {header:?}"
        );
    }
    let row: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    let col = |k: &str| header.iter().position(|h| *h == k).unwrap();
    let median: f64 = row[col("median_sq")].parse().unwrap();
    let want = v["per_size"][0]["median_sq"].as_f64().unwrap();
    assert!((median - want).abs() <= 1e-9 * want, "{median} {want}");
    assert!(row[col("by_distance")].starts_with("0:"));
    assert!(out.join("plateau.png").exists() && out.join("plateau.svg").exists());
}

#[test]
fn circuit_run_prints_the_most_frequent_outcome_first() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("skew.qasm");
    // P(1) = sin²(1.25) ≈ 0.90: in bitstring order "0" would come first.
    std::fs::write(
        &path,
        "OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[1];\ncreg c[1];\nry(2.5) q[0];\nmeasure q -> c;\n",
    )
    .unwrap();
    let out = succeeds(qep().args(["circuit", "run", path.to_str().unwrap(), "--shots", "1000"]));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("  ")).collect();
    assert!(
        lines[0].starts_with("  1  ") && lines[1].starts_with("  0  "),
        "{text}"
    );
    let n = |l: &str| l.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap();
    assert!(n(lines[0]) > 800 && n(lines[0]) + n(lines[1]) == 1000);
}

#[test]
fn shots_separates_clamping_bias_from_noise_and_warns_outside_the_beta_grid() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s");
    let run = |betas: &str, shots: &str| {
        let o = succeeds(qep().args([
            "shots",
            &model("xor.yaml"),
            "--shots",
            shots,
            "--betas",
            betas,
            "--repeats",
            "4",
            "--overwrite",
            "--out",
            out.to_str().unwrap(),
            "--json",
        ]));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        (v, String::from_utf8(o.stderr).unwrap())
    };
    // A grid of small β: the model's β* lies above it.
    let (v, err) = run("0.01,0.02", "100,10000");
    let w: Vec<&str> = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        w.iter().any(|w| w.contains("outside the scanned range")),
        "{w:?}"
    );
    assert!(
        err.contains("warning: the model's optimal β lies outside"),
        "{err}"
    );
    // The clamping bias is the same at every budget for one β (it is that of exact
    // expectations), while `bias` (error of the mean of the repeats) still carries noise.
    let cells = v["cells"].as_array().unwrap();
    let at = |s: u64, b: f64| {
        cells
            .iter()
            .find(|c| c["shots"] == s && c["beta"].as_f64() == Some(b))
            .unwrap()
    };
    for b in [0.01, 0.02] {
        let (c1, c2) = (at(100, b), at(10000, b));
        assert_eq!(c1["clamping_bias"], c2["clamping_bias"]);
        let cb = c1["clamping_bias"].as_f64().unwrap();
        assert!(cb > 0.0 && cb < c1["bias"].as_f64().unwrap());
    }
    // Bias ∝ β²: doubling β multiplies it by ≈ 4.
    let ratio = at(100, 0.02)["clamping_bias"].as_f64().unwrap()
        / at(100, 0.01)["clamping_bias"].as_f64().unwrap();
    assert!((ratio - 4.0).abs() < 0.2, "{ratio}");
    assert!(out.join("shots.png").exists());
}

#[test]
fn the_main_job_starts_near_chance_and_learns_with_a_closing_summary() {
    let m = qep::hamiltonian::load(std::path::Path::new(&model("ising_grid.yaml"))).unwrap();
    let d = m.dataset.as_ref().unwrap();
    let p = qep::ep::TrainParams::from_model(&m);
    let all: Vec<_> = d.train.iter().chain(&d.test).cloned().collect();
    let (_, acc) = qep::ep::evaluate(&m, &m.theta(), &all, &p.ep).unwrap();
    assert!(acc <= 0.65, "the untrained network already scores {acc}");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("grid");
    let o = succeeds(qep().args([
        "run",
        &model("ising_grid.yaml"),
        "--out",
        out.to_str().unwrap(),
    ]));
    let text = String::from_utf8(o.stdout).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("summary: train accuracy "))
        .unwrap_or_else(|| panic!("{text}"));
    let nums: Vec<f64> = line
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter_map(|w| w.parse().ok())
        .collect();
    let (before, after) = (nums[0], nums[1]);
    assert!(before <= 0.65 && after >= 0.9, "{line}");
    assert!(
        text.contains("--resume --epochs N") && text.contains("training.png"),
        "{text}"
    );
    assert!(out.join("training.png").exists());
}

#[test]
fn shots_with_the_optimum_inside_the_grid_gives_no_range_warning() {
    let dir = tempfile::tempdir().unwrap();
    let v = json(&[
        "shots",
        &model("xor.yaml"),
        "--shots",
        "1000",
        "--betas",
        "0.1,0.3,0.9",
        "--repeats",
        "4",
        "--out",
        dir.path().join("s").to_str().unwrap(),
    ]);
    let model_beta = v["optimal_beta"][0][2].as_f64().unwrap();
    assert!((0.1..=0.9).contains(&model_beta), "{model_beta}");
    let w = v["warnings"].as_array().unwrap();
    assert!(
        !w.iter()
            .any(|w| w.as_str().unwrap().contains("outside the scanned range")),
        "{w:?}"
    );
    // The text output says what each error column is and in which units.
    let o = succeeds(qep().args([
        "shots",
        &model("xor.yaml"),
        "--shots",
        "1000",
        "--betas",
        "0.1,0.3",
        "--repeats",
        "2",
        "--overwrite",
        "--out",
        dir.path().join("t").to_str().unwrap(),
    ]));
    let text = String::from_utf8(o.stdout).unwrap();
    for needle in [
        "in units of ∂⟨C⟩/∂θ: rms = total error of one gradient",
        "clamping = bias alone, EP from exact expectations",
        "reported = the standard error a single run quotes from its own shots",
    ] {
        assert!(text.contains(needle), "no {needle:?} in\n{text}");
    }
}

#[test]
fn prepare_says_when_the_target_is_degenerate_and_measures_the_subspace() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("deg.yaml");
    // A ferromagnetic chain with a weak field on the ends: |000⟩ and |111⟩ split by ~1e-16.
    std::fs::write(
        &m,
        "qubits: 3\nterms:\n  - {pauli: Z0 Z1, coeff: -1.0}\n  - {pauli: Z1 Z2, coeff: -1.0}\n  - {pauli: X0, coeff: -0.02}\n  - {pauli: X2, coeff: -0.02}\n",
    )
    .unwrap();
    let run = |file: &str, json: bool| {
        let mut c = qep();
        c.args(["prepare", file, "--times", "5,20", "--overwrite", "--out"])
            .arg(dir.path().join("p"));
        if json {
            c.arg("--json");
        }
        succeeds(&mut c)
    };
    let v: serde_json::Value =
        serde_json::from_slice(&run(m.to_str().unwrap(), true).stdout).unwrap();
    assert_eq!(v["degenerate_levels"], serde_json::json!([0, 1]));
    let runs = v["runs"].as_array().unwrap();
    let last = &runs[1];
    let sub = last["subspace_fidelity"].as_f64().unwrap();
    assert!(
        sub > 0.999 && sub >= last["level_fidelity"].as_f64().unwrap(),
        "{last}"
    );
    let text = String::from_utf8(run(m.to_str().unwrap(), false).stdout).unwrap();
    assert!(
        text.contains("is (near-)degenerate: levels [0, 1]"),
        "{text}"
    );
    assert!(
        text.contains("--schedule linear, --method magnus"),
        "{text}"
    );
    // The quoted adiabatic exponent says where it comes from and that it is asymptotic.
    assert!(
        text.contains("the linear schedule's velocity jumps at both ends")
            && text.contains("1 − F as T⁻²; that is the asymptotic law for long sweeps")
            && text.contains("shorter sweeps are outside that regime"),
        "{text}"
    );
    let smooth = String::from_utf8(
        succeeds(
            qep()
                .args([
                    "prepare",
                    &model("xor.yaml"),
                    "--times",
                    "5,10",
                    "--schedule",
                    "smooth",
                    "--overwrite",
                    "--out",
                ])
                .arg(dir.path().join("s")),
        )
        .stdout,
    )
    .unwrap();
    assert!(
        smooth.contains("(adiabatic theorem: T^-6)")
            && smooth.contains("1 − F as T⁻⁶; that is the asymptotic law"),
        "{smooth}"
    );
    // A non-degenerate target: no such line, one level.
    let v: serde_json::Value = serde_json::from_slice(
        &succeeds(
            qep()
                .args([
                    "prepare",
                    &model("xor.yaml"),
                    "--times",
                    "5,10",
                    "--json",
                    "--out",
                ])
                .arg(dir.path().join("x")),
        )
        .stdout,
    )
    .unwrap();
    assert_eq!(v["degenerate_levels"], serde_json::json!([0]));
    let r = &v["runs"][0];
    assert!(
        (r["subspace_fidelity"].as_f64().unwrap() - r["fidelity"].as_f64().unwrap()).abs() < 1e-9
    );
}
