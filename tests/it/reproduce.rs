//! `qep reproduce`: the fits behind `RESULTS.md`, and the quick run end to end.

use qep::study::reproduce::{best_betas, decay_fits, mean_std, power_law};

use crate::common::{json_of, qep, repo};

#[test]
fn exponential_and_polynomial_decays_are_told_apart_by_their_residuals() {
    let sizes = [4, 6, 8, 10, 12, 14];
    let exp: Vec<f64> = sizes
        .iter()
        .map(|&n| 3.0 * (-0.7 * n as f64).exp())
        .collect();
    let f = decay_fits(&sizes, &exp).expect("fits");
    assert!((f.exp_rate - 0.7).abs() < 1e-12, "{f:?}");
    assert!(f.exp_rms < 1e-12 && f.poly_rms > 0.1, "{f:?}");
    assert_eq!(f.better(), "exponential");
    let poly: Vec<f64> = sizes.iter().map(|&n| 5.0 * (n as f64).powf(-3.0)).collect();
    let g = decay_fits(&sizes, &poly).expect("fits");
    assert!((g.poly_power - 3.0).abs() < 1e-12, "{g:?}");
    assert!(g.poly_rms < 1e-12 && g.exp_rms > 0.05, "{g:?}");
    assert_eq!(g.better(), "polynomial");
    // Two sizes: both fits pass through both points; nothing to decide.
    let h = decay_fits(&[4, 6], &[1e-2, 1e-3]).expect("fits");
    assert_eq!(h.better(), "undecided");
    assert!(decay_fits(&[4, 6], &[1e-2, 0.0]).is_none());
}

#[test]
fn best_beta_follows_the_error_model_and_its_power_law() {
    // rms(β, S) = √((bβ²)² + (c/(β√S))²): the optimum is β* = (c²/(2b²S))^(1/6).
    let (b, c) = (0.8, 0.5);
    let betas: Vec<f64> = (0..25).map(|i| 0.01 * 1.25f64.powi(i)).collect();
    let budgets = [100u64, 1_000, 10_000, 100_000, 1_000_000];
    let mut cells = Vec::new();
    for &s in &budgets {
        for &beta in &betas {
            let rms = ((b * beta * beta).powi(2) + (c / (beta * (s as f64).sqrt())).powi(2)).sqrt();
            cells.push((s, beta, rms));
        }
    }
    let best = best_betas(&cells);
    assert_eq!(best.len(), budgets.len());
    for x in &best {
        let want = (c * c / (2.0 * b * b * x.shots as f64)).powf(1.0 / 6.0);
        assert!(x.interior, "{x:?}");
        assert!(
            (x.interpolated / want - 1.0).abs() < 0.03,
            "{x:?} vs {want}"
        );
    }
    let s: Vec<f64> = best.iter().map(|x| x.shots as f64).collect();
    let y: Vec<f64> = best.iter().map(|x| x.interpolated).collect();
    let (k, _) = power_law(&s, &y).expect("fit");
    assert!((k + 1.0 / 6.0).abs() < 0.01, "exponent {k}");
    // An optimum beyond the grid is flagged, not interpolated.
    let edge = best_betas(&[(100, 0.1, 3.0), (100, 0.2, 2.0), (100, 0.4, 1.0)]);
    assert!(!edge[0].interior && edge[0].interpolated == 0.4, "{edge:?}");
}

#[test]
fn mean_and_sample_standard_deviation() {
    let (m, s) = mean_std(&[0.9, 1.0, 0.95]).expect("values");
    assert!(
        (m - 0.95).abs() < 1e-12 && (s - 0.05).abs() < 1e-12,
        "{m} {s}"
    );
    assert_eq!(mean_std(&[0.5]), Some((0.5, 0.0)));
    assert_eq!(mean_std(&[]), None);
}

#[test]
fn quick_reproduce_writes_every_study_and_a_report_with_numbers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("results");
    let report = dir.path().join("RESULTS.md");
    // `qep reproduce --quick` into this folder and report, with `extra` arguments.
    let reproduce = |extra: &[&str]| {
        json_of(
            qep()
                .args([
                    "reproduce",
                    "--quick",
                    "--repo",
                    &repo(""),
                    "--out",
                    out.to_str().expect("utf-8"),
                    "--report",
                    report.to_str().expect("utf-8"),
                    "--json",
                ])
                .args(extra),
        )
    };
    let v = reproduce(&[]);
    let studies = v["studies"].as_array().expect("studies");
    let names: Vec<&str> = studies.iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "plateau-chain",
            "plateau-grid",
            "plateau-all-to-all",
            "plateau-tfim-chain",
            "plateau-chain-large",
            "thermal-chain-T1",
            "thermal-chain-T0.3",
            "thermal-tfim-chain-T1",
            "thermal-tfim-chain-T0.3-typicality",
            "shots-xor",
            "shots-parity3",
            "shots-ising_grid",
            "thermal-scan-xor",
            "thermal-scan-parity3",
            "prep-xor_adiabatic",
            "prep-xor_adiabatic/path",
            "iris/seed-1",
            "iris/seed-2",
            "digits/exact/seed-1",
            "digits/shots/seed-1",
            "digits/exact/seed-2",
            "digits/shots/seed-2"
        ]
    );
    for (name, json, png) in [
        ("plateau-chain", "plateau.json", "plateau.png"),
        ("plateau-grid", "plateau.json", "plateau.png"),
        ("plateau-all-to-all", "plateau.json", "plateau.png"),
        ("plateau-tfim-chain", "plateau.json", "plateau.png"),
        ("thermal-chain-T1", "plateau.json", "plateau.png"),
        ("thermal-chain-T0.3", "plateau.json", "plateau.png"),
        ("thermal-tfim-chain-T1", "plateau.json", "plateau.png"),
        (
            "thermal-tfim-chain-T0.3-typicality",
            "plateau.json",
            "plateau.png",
        ),
        ("shots-xor", "shots.json", "shots.png"),
        ("shots-parity3", "shots.json", "shots.png"),
        ("shots-ising_grid", "shots.json", "shots.png"),
        ("thermal-scan-xor", "thermal-scan.json", "thermal-scan.png"),
        (
            "thermal-scan-parity3",
            "thermal-scan.json",
            "thermal-scan.png",
        ),
        ("prep-xor_adiabatic", "grad.json", "prep.png"),
        ("prep-xor_adiabatic/path", "prepare.json", "prepare.png"),
        ("iris/seed-1", "summary.json", "training.png"),
        ("iris/seed-2", "summary.json", "training.png"),
        ("digits/exact/seed-1", "summary.json", "training.png"),
        ("digits/shots/seed-2", "summary.json", "training.png"),
    ] {
        let d = out.join(name);
        let j: serde_json::Value =
            serde_json::from_slice(&std::fs::read(d.join(json)).expect("json")).expect("JSON");
        let number = match json {
            "plateau.json" => j["decay_rate"].as_f64(),
            "shots.json" => j["noise_coefficient"].as_f64(),
            "thermal-scan.json" => j["rows"][0]["kubo_mori"].as_f64(),
            "grad.json" => j["prepared"][0]["relative_error"].as_f64(),
            "prepare.json" => j["min_gap"].as_f64(),
            _ => j["test_accuracy"].as_f64(),
        };
        assert!(number.is_some_and(f64::is_finite), "{name}: {j}");
        let png_bytes = std::fs::read(d.join(png)).expect("png");
        assert_eq!(&png_bytes[1..4], b"PNG", "{name}");
    }
    let md = std::fs::read_to_string(&report).expect("RESULTS.md");
    for needle in [
        "## 1. Barren plateaus of ground-state EP",
        "| chain | 4–8 | 20 |",
        // The scan at larger sizes is labelled apart from the main scan of its family, in
        // the summary and Lie tables and in the findings.
        "| chain, N = 8–10 | 8–10 | 4 |",
        "| chain, N = 8–10 | 8: 65535, 9: > 100000, 10: > 100000 |",
        "* chain, N = 8–10 (EP): the mean gradient variance",
        "## 2. Barren plateaus of thermal EP",
        "| chain, T = 0.3 | 4–6 | 10 |",
        "## 3. The Lie-algebraic check",
        "| tfim-chain | 4: 45, 6: 91, 8: 153 |",
        "## 4. Shot noise against clamping bias",
        "## 5. Covariance vs Kubo–Mori",
        "## 6. State preparation and gradients",
        "](results/prep-xor_adiabatic/prep.png)",
        "## 7. Training on Iris",
        "Test accuracy ",
        "## 8. Training on the 8×8 digits",
        "](results/digits/digits.png)",
        "| 2 | ",
        "## Wall time of each study",
        "| **total** |",
        "## Findings, one sentence each",
        "## What a referee would caveat",
        "](results/plateau-chain/plateau.png)",
    ] {
        assert!(md.contains(needle), "no {needle:?} in\n{md}");
    }
    // Every finding carries a number.
    let findings: Vec<&str> = md
        .split("## Findings, one sentence each")
        .nth(1)
        .expect("findings")
        .lines()
        .take_while(|l| !l.starts_with("## "))
        .filter(|l| l.starts_with("* "))
        .collect();
    // Ground (five scans) and thermal plateaus (two each; the typicality scan one more, its noise, and the
    // summary over typicality sizes), the TFIM Lie checks (dense and typicality), shots,
    // covariance scans, preparation, Iris, digits.
    assert_eq!(
        findings.len(),
        10 + 10 + 3 + 3 + 2 + 1 + 1 + 1,
        "{findings:?}"
    );
    assert!(
        findings
            .iter()
            .all(|l| l.chars().any(|c| c.is_ascii_digit())),
        "{findings:?}"
    );
    let png = std::fs::read(out.join("digits/digits.png")).expect("digits.png");
    assert_eq!(&png[1..4], b"PNG");
    // The typicality scan says how much of its variance was noise.
    assert!(
        md.contains("Noise correction (Kubo–Mori by typicality"),
        "{md}"
    );
    // --only reruns one study and keeps every other section, from the saved results.
    let v = reproduce(&["--only", "thermal-scan-xor"]);
    assert_eq!(v["studies"].as_array().map(Vec::len), Some(1));
    // This run's time is the one study's; the report's total adds the saved studies' times.
    let (rerun, total) = (
        v["rerun_seconds"].as_f64().expect("rerun_seconds"),
        v["total_seconds"].as_f64().expect("total_seconds"),
    );
    assert_eq!(Some(rerun), v["studies"][0]["seconds"].as_f64());
    assert!(total > rerun, "total {total} s, rerun {rerun} s");
    let merged = std::fs::read_to_string(&report).expect("RESULTS.md");
    assert!(
        merged.contains("This report merges a rerun of 1 study (")
            && merged.contains("Regenerated in part by"),
        "{merged}"
    );
    // The report it replaced was made from scratch: no earlier partial rerun to name.
    assert!(!merged.contains("Earlier partial reruns"), "{merged}");
    // A second partial rerun names the first one too, with its count and time, so the header
    // accounts for every study newer than the run from scratch.
    let first = v["rerun_seconds"].as_f64().expect("rerun_seconds");
    let w = reproduce(&["--only", "thermal-scan-xor"]);
    let twice = std::fs::read_to_string(&report).expect("RESULTS.md");
    assert!(
        twice.contains(&format!(
            "Earlier partial reruns since the last run from scratch, latest first: \
             `--only thermal-scan-xor` (1 study, {first:.0} s)."
        )),
        "{twice}"
    );
    let second = w["rerun_seconds"].as_f64().expect("rerun_seconds");
    let list: serde_json::Value = serde_json::from_str(
        twice
            .split("<!-- qep reproduce --only reruns: ")
            .nth(1)
            .and_then(|t| t.split(" -->").next())
            .expect("the list of reruns"),
    )
    .expect("JSON");
    assert_eq!(
        list,
        serde_json::json!([
            {"only": "thermal-scan-xor", "studies": 1, "seconds": second},
            {"only": "thermal-scan-xor", "studies": 1, "seconds": first},
        ])
    );
    // A report written before the list existed still yields its latest rerun, from the note.
    let legacy = twice
        .lines()
        .filter(|l| !l.starts_with("<!-- qep reproduce"))
        .map(|l| {
            if l.starts_with("This report merges") {
                "This report merges a rerun of 5 studies (`qep reproduce --only iris`, 803 s) \
                 with the saved results of the other 36."
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&report, legacy).expect("write");
    reproduce(&["--only", "thermal-scan-xor"]);
    let third = std::fs::read_to_string(&report).expect("RESULTS.md");
    assert!(
        third.contains("latest first: `--only iris` (5 studies, 803 s)."),
        "{third}"
    );
    let merged = third;
    for needle in [
        "| chain | 4–8 | 20 |",
        "## 7. Training on Iris",
        "## 8. Training on the 8×8 digits",
        "| iris/seed-2 | ",
    ] {
        assert!(
            merged.contains(needle),
            "--only dropped {needle:?}:\n{merged}"
        );
    }
    let reduced = std::fs::read_to_string(out.join("digits/digits-pca.csv")).expect("csv");
    assert_eq!(
        reduced.lines().count(),
        2 + 180,
        "comment, header, 180 images"
    );
    // The shot-based runs used the shot-aware β, recorded in their provenance.
    let s: serde_json::Value = serde_json::from_slice(
        &std::fs::read(out.join("digits/shots/seed-1/summary.json")).expect("summary"),
    )
    .expect("JSON");
    assert_eq!(
        s["provenance"]["settings"]["ep"]["beta_source"],
        "shot-aware"
    );
}

#[test]
fn reproduce_only_runs_the_named_studies_and_refuses_an_unknown_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("results");
    let e = crate::common::fails(
        qep()
            .args(["reproduce", "--repo", &repo(""), "--only", "nope", "--out"])
            .arg(&out)
            .arg("--report")
            .arg(dir.path().join("R.md")),
    );
    assert!(e.contains("--only nope: no study has such a name"), "{e}");
}
