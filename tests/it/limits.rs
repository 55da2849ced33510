//! Results are finite and verified, limits and memory are checked before any work, budgets are
//! exact: the CLI under hostile inputs (overflowing coefficients, tolerances below rounding,
//! memory limits just below and just above a command's plan).

use std::path::{Path, PathBuf};

use crate::common::{
    fails, floats, json, json_of, model, needed_bytes, qep, repo, run_with_peak, PeakRun,
};

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p: PathBuf = dir.join(name);
    std::fs::write(&p, text).expect("writes the model");
    p.display().to_string()
}

#[test]
fn overflowing_coefficients_are_rejected_on_load_with_their_place() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "big.yaml",
        "qubits: 2\nterms:\n  - {pauli: \"X0 X1\", coeff: 1e300}\n  - {pauli: \"Z0\", coeff: 1}\n",
    );
    let err = fails(qep().args(["spectrum", &f]));
    assert!(
        err.contains("big.yaml:3:29: `terms[0].coeff`: coefficient 1.000e300"),
        "{err}"
    );
    assert!(err.contains("expected a sum ≤ 1e12"), "{err}");
    assert!(err.contains("16·ε·Σ|c|"), "{err}");
    // A family on the Heisenberg ring: the place is the family's value.
    let ring = std::fs::read_to_string(model("heisenberg_ring.yaml")).unwrap();
    let ring = ring.replacen("{type: XX, value: 1.0}", "{type: XX, value: 1e308}", 1);
    assert!(ring.contains("1e308"), "premise: the ring has an XX family");
    let f = write(dir.path(), "ring.yaml", &ring);
    let err = fails(qep().args(["spectrum", &f]));
    assert!(
        err.contains("`couplings[0].value`: coefficient 1.000e308"),
        "{err}"
    );
    // Random initial values that overflow when summed (each is finite).
    let f = write(
        dir.path(),
        "uniform.yaml",
        "qubits: 3\nparams:\n  - {pauli: \"X0 X1\", init: {uniform: [0, 1e308]}}\n  - {pauli: \"Z1 Z2\", init: {uniform: [0, 1e308]}}\n  - {pauli: \"X2\", init: {uniform: [0, 1e308]}}\n",
    );
    for cmd in ["spectrum", "info"] {
        let err = fails(qep().args([cmd, &f]));
        assert!(err.contains("uniform.yaml:"), "{err}");
        assert!(err.contains("].init`: coefficient "), "{err}");
    }
    // Input fields of a dataset count too.
    let f = write(
        dir.path(),
        "inputs.yaml",
        "qubits: 2\ninputs: [0]\noutputs: [1]\nterms:\n  - {pauli: \"X0 X1\", coeff: 1}\ndataset:\n  inputs: [[1e13]]\n  targets: [[1]]\n",
    );
    let err = fails(qep().args(["grad", &f]));
    assert!(err.contains("`dataset`: coefficient 1.000e13"), "{err}");
    // Just below the limit loads.
    let f = write(
        dir.path(),
        "fine.yaml",
        "qubits: 1\nterms:\n  - {pauli: \"X0\", coeff: 1e11}\n",
    );
    let v = json(&["info", &f]);
    assert_eq!(v["qubits"], 1);
}

#[test]
fn a_tolerance_below_the_rounding_floor_is_an_error_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    let ring = std::fs::read_to_string(model("heisenberg_ring.yaml")).unwrap();
    let ring = ring.replace("value: 1.0}", "value: 1e9}");
    let f = write(dir.path(), "ring.yaml", &ring);
    // Σ|c| = 3 · 8 · 1e9, floor 16 ε Σ|c| = 8.53e-5: the default 1e-9 cannot be verified,
    // on the dense path as on Lanczos (the old dense path printed residual 9e-5, exit 0).
    for method in ["dense", "lanczos"] {
        let err = fails(qep().args(["spectrum", &f, "--k", "1", "--method", method]));
        assert!(
            err.contains("tol 1.00e-9 is below the rounding floor 8.53e-5"),
            "{err}"
        );
        assert!(err.contains("Σ|c| = 2.400e10"), "{err}");
    }
    // Above the floor, every reported residual meets the tolerance.
    let v = json(&[
        "spectrum", &f, "--k", "2", "--method", "dense", "--tol", "1e-3",
    ]);
    assert_eq!(v["method"], "dense");
    for r in floats(&v["residuals"]) {
        assert!(r <= 1e-3 && r > 1e-6, "dense residual {r}");
    }
}

#[test]
fn the_dense_path_refuses_a_pair_above_the_tolerance() {
    let dir = tempfile::tempdir().unwrap();
    let ring = std::fs::read_to_string(model("heisenberg_ring.yaml")).unwrap();
    let ring = ring.replace("value: 1.0}", "value: 1e9}");
    let f = write(dir.path(), "ring.yaml", &ring);
    // Just above the floor (8.53e-5): the dense residual of this ring is about 9e-5.
    let out = qep()
        .args([
            "spectrum", &f, "--k", "1", "--method", "dense", "--tol", "8.6e-5",
        ])
        .arg("--json")
        .output()
        .unwrap();
    if out.status.success() {
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        for r in floats(&v["residuals"]) {
            assert!(
                r <= 8.6e-5,
                "a residual {r} above --tol was printed as an answer"
            );
        }
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            err.contains("dense: level 0 has residual ‖Hψ − Eψ‖ = ")
                && err.contains("> tol 8.60e-5"),
            "{err}"
        );
    }
}

#[test]
fn matvec_budgets_are_exact() {
    let f = model("tfim_chain.yaml");
    // The lowest level of the chain by Lanczos, under a budget of `budget` matvecs.
    let lanczos = |budget: usize| {
        let mut cmd = qep();
        cmd.args([
            "spectrum", &f, "--k", "1", "--no-gap", "--method", "lanczos",
        ])
        .args(["--max-matvecs", &budget.to_string()]);
        cmd
    };
    // A budget of 1 cannot pay for a step and its check; nothing is applied.
    let err = fails(&mut lanczos(1));
    assert!(err.contains("after 0 operator applications"), "{err}");
    for budget in [2usize, 3, 7, 40] {
        let err = fails(&mut lanczos(budget));
        let used: usize = err
            .split("after ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{err}"));
        assert!(used <= budget, "budget {budget}, used {used}: {err}");
        assert!(
            used + 1 >= budget,
            "budget {budget}, used only {used}: {err}"
        );
    }
    for memory in ["store", "two-pass"] {
        let v = json_of(lanczos(400).args(["--memory", memory, "--json"]));
        let used = v["matvecs"].as_u64().unwrap();
        assert!(used <= 400, "{memory}: {used}");
    }
    // Dense: k verified pairs cost k applications, counted.
    let small = model("heisenberg_ring.yaml");
    let v = json(&[
        "spectrum",
        &small,
        "--k",
        "3",
        "--no-gap",
        "--max-matvecs",
        "3",
    ]);
    assert_eq!(v["method"], "dense");
    assert_eq!(v["matvecs"], 3);
    let err = fails(qep().args(["spectrum", &small, "--k", "3", "--max-matvecs", "2"]));
    assert!(
        err.contains(
            "dense: verifying 3 pair(s) needs 3 operator applications but the budget is 2"
        ),
        "{err}"
    );
}

#[test]
fn non_finite_results_are_never_printed() {
    // The library's guard names the first non-finite number of any result.
    #[derive(serde::Serialize)]
    struct Out {
        energies: Vec<f64>,
        gap: Option<f64>,
        observables: std::collections::BTreeMap<String, Vec<f64>>,
    }
    let mut obs = std::collections::BTreeMap::new();
    obs.insert("Z0".to_string(), vec![0.5, f64::NAN]);
    let out = Out {
        energies: vec![-1.0, 2.0],
        gap: None,
        observables: obs,
    };
    let e = qep::finite::check_finite(&out, "m.yaml").unwrap_err();
    assert_eq!(e.path, "observables.Z0[1]");
    assert!(e.value.is_nan());
    assert!(e
        .to_string()
        .starts_with("m.yaml: `observables.Z0[1]` = NaN; expected a finite number"));
    let out = Out {
        energies: vec![-1.0, f64::INFINITY],
        gap: Some(1.0),
        observables: Default::default(),
    };
    assert_eq!(
        qep::finite::check_finite(&out, "x").unwrap_err().path,
        "energies[1]"
    );
    let ok = Out {
        energies: vec![-1.0],
        gap: None,
        observables: Default::default(),
    };
    assert!(qep::finite::check_finite(&ok, "x").is_ok());
}

/// `QEP_MEMORY_LIMIT` values just below and just above a command's memory plan: below, it
/// fails before allocating and its peak stays under the limit; above, it succeeds and its peak
/// still stays under the limit. The plan is read from the command's own message at a tiny
/// limit, and must be at least `min_plan` bytes (so that it, not the program, dominates).
fn memory_plan_holds(args: &[&str], min_plan: u64) -> (PeakRun, PeakRun) {
    // The same command runs three times into one output folder: later runs replace the results.
    let mut args = args.to_vec();
    if args.contains(&"--out") {
        args.push("--overwrite");
    }
    let args = args.as_slice();
    let probe = run_with_peak(args, &[("QEP_MEMORY_LIMIT", "1K")]);
    assert_eq!(probe.code, Some(1), "{args:?}: {}", probe.stderr);
    let plan = needed_bytes(&probe.stderr)
        .unwrap_or_else(|| panic!("{args:?}: no plan in {:?}", probe.stderr));
    assert!(
        plan >= min_plan,
        "{args:?}: plan {plan} < {min_plan}: {}",
        probe.stderr
    );
    assert!(
        probe.stderr.contains("already resident"),
        "{}",
        probe.stderr
    );
    let below = plan / 100 * 97;
    let run_below = run_with_peak(args, &[("QEP_MEMORY_LIMIT", &below.to_string())]);
    assert_eq!(run_below.code, Some(1), "{args:?}: {}", run_below.stderr);
    assert!(run_below.stderr.contains(" needs "), "{}", run_below.stderr);
    assert!(
        run_below.peak_bytes < below,
        "{args:?}: peak {} ≥ limit {below} before failing",
        run_below.peak_bytes
    );
    let above = plan / 100 * 103;
    let run_above = run_with_peak(args, &[("QEP_MEMORY_LIMIT", &above.to_string())]);
    assert_eq!(run_above.code, Some(0), "{args:?}: {}", run_above.stderr);
    assert!(
        run_above.peak_bytes < above,
        "{args:?}: peak {} ≥ limit {above} (plan {plan}): the plan misses a buffer",
        run_above.peak_bytes
    );
    (run_below, run_above)
}

/// An open TFIM chain of `n` sites (J = 1, h = 0.9), optionally with decay on every site.
fn chain(dir: &Path, n: usize, decay: bool) -> String {
    let mut text = format!(
        "lattice: {{shape: chain, sites: {n}, periodic: false}}\ncouplings:\n  - {{type: ZZ, value: -1.0}}\n  - {{type: X, value: -0.9}}\n"
    );
    if decay {
        text.push_str("lindblad: {jumps: [{op: sigma-, qubits: all, rate: 0.1}]}\n");
    }
    write(
        dir,
        &format!("chain{n}{}.yaml", if decay { "d" } else { "" }),
        &text,
    )
}

#[test]
fn spectrum_memory_is_planned_before_allocating() {
    let f = repo("hamiltonians/bench/tfim_4x5.yaml");
    let (_, ok) = memory_plan_holds(
        &["spectrum", &f, "--k", "1", "--no-gap", "--json"],
        60 << 20,
    );
    let v: serde_json::Value = serde_json::from_str(&ok.stdout).unwrap();
    // Squeezed to its plan, Lanczos keeps no basis.
    assert_eq!(v["method"], "lanczos-two-pass");
    assert!((v["energies"][0].as_f64().unwrap() + 63.5937141492).abs() < 1e-8);
}

#[test]
fn evolve_memory_is_planned_before_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let f = chain(dir.path(), 18, false);
    memory_plan_holds(
        &["evolve", &f, "--times", "0.1", "--observe", "Z0", "--json"],
        100 << 20,
    );
    // The density matrix on 9 qubits and four trajectories on 17, both with jumps.
    for (qubits, method) in [
        (9, &["rho"][..]),
        (17, &["trajectories", "--trajectories", "4"]),
    ] {
        let f = chain(dir.path(), qubits, true);
        let mut args = vec!["evolve", f.as_str(), "--method"];
        args.extend_from_slice(method);
        args.extend(["--times", "0.05", "--observe", "Z0", "--json"]);
        memory_plan_holds(&args, 50 << 20);
    }
}

#[test]
fn evolve_on_26_qubits_under_1g_fails_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let f = chain(dir.path(), 26, false);
    let r = run_with_peak(
        &["evolve", &f, "--times", "1", "--observe", "Z0"],
        &[("QEP_MEMORY_LIMIT", "1G")],
    );
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(
        r.stderr.contains("qep evolve --method krylov ["),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("Krylov basis"), "{}", r.stderr);
    assert!(
        r.peak_bytes < 100 << 20,
        "peak {} before failing",
        r.peak_bytes
    );
}

#[test]
fn thermalize_limits_are_checked_before_any_work() {
    // 12 network qubits + 2 ancillas exceed the cooling limit of 10: the old code computed
    // the 12-qubit Gibbs state for minutes first.
    let f = model("tfim_chain.yaml");
    let out = tempfile::tempdir().unwrap();
    let o = out.path().display().to_string();
    let refused_at_once = |method: &str, message: &str| {
        let r = run_with_peak(
            &[
                "thermalize",
                &f,
                "--temperature",
                "0.5",
                "--method",
                method,
                "--out",
                &o,
            ],
            &[],
        );
        assert_eq!(r.code, Some(1), "{}", r.stderr);
        assert!(r.stderr.contains(message), "{}", r.stderr);
        assert!(
            r.peak_bytes < 64 << 20,
            "peak {}: work started",
            r.peak_bytes
        );
    };
    refused_at_once(
        "cooling",
        "cooling (network + ancillas): 14 qubits; limited to 10 (dense matrices)",
    );
    refused_at_once("davies", "Davies generator: 12 qubits; limited to 7");
}

/// Splits a shell line into words (double and single quotes, no escapes) up to an unquoted
/// `#`; returns the words and the comment.
fn shell_words(line: &str) -> (Vec<String>, String) {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '#') if !in_word => return (words, line[i + 1..].trim().to_string()),
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    (words, String::new())
}

/// Whether a README comment says the command takes minutes (`6 min`, `2 min`).
fn takes_minutes(comment: &str) -> bool {
    let w: Vec<&str> = comment
        .split(|c: char| c.is_whitespace() || c == ',' || c == ':' || c == ';')
        .collect();
    w.windows(2)
        .any(|p| p[0].parse::<f64>().is_ok() && p[1].starts_with("min"))
}

#[test]
fn the_readme_examples_run_and_finish() {
    let readme = std::fs::read_to_string(repo("README.md")).unwrap();
    let block: Vec<&str> = readme
        .split("\nExamples:")
        .nth(1)
        .and_then(|rest| rest.split("```bash\n").nth(1))
        .and_then(|b| b.split("```").next())
        .expect("README has an `Examples:` block")
        .lines()
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    let mut skipped = Vec::new();
    for (i, line) in block.iter().enumerate() {
        let (words, comment) = shell_words(line);
        if words.is_empty() {
            continue;
        }
        assert_eq!(words[0], "qep", "one qep command per line: {line}");
        if takes_minutes(&comment) {
            skipped.push(format!("{line}  (the README says it takes minutes)"));
            continue;
        }
        // Outputs go to the temporary folder.
        let mut args: Vec<String> = Vec::new();
        let mut it = words[1..].iter();
        let mut has_out = false;
        while let Some(w) = it.next() {
            args.push(w.clone());
            if ["-o", "--out", "--qasm"].contains(&w.as_str()) {
                has_out |= w == "--out";
                let v = it.next().expect("a value after an output flag");
                let name = std::path::Path::new(v).file_name().unwrap();
                let dir = tmp.path().join(format!("{i}"));
                std::fs::create_dir_all(&dir).unwrap();
                args.push(dir.join(name).display().to_string());
            }
        }
        let writes_folder = [
            "run",
            "prepare",
            "thermalize",
            "thermal-scan",
            "shots",
            "plateau",
        ]
        .contains(&args[0].as_str());
        if writes_folder && !has_out {
            args.push("--out".into());
            args.push(tmp.path().join(format!("out{i}")).display().to_string());
        }
        let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("qep"))
            .args(&args)
            .current_dir(repo(""))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        runs.push((line.to_string(), child));
    }
    assert!(
        runs.len() >= 10,
        "premise: the block has examples ({})",
        runs.len()
    );
    assert!(
        !skipped.is_empty(),
        "premise: the 28-qubit example is marked as taking minutes"
    );
    for s in &skipped {
        eprintln!("skipped: {s}");
    }
    for (line, child) in runs {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "README example failed: {line}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn shell_words_follow_the_readme_quoting() {
    let (w, c) = shell_words(r#"qep evolve m.yaml --observe "Z0 Z1"   # 20 qubits"#);
    assert_eq!(w, ["qep", "evolve", "m.yaml", "--observe", "Z0 Z1"]);
    assert_eq!(c, "20 qubits");
    assert!(takes_minutes("28 qubits: 6 min, 12 GiB"));
    assert!(!takes_minutes("20 qubits"));
    assert!(!takes_minutes("Ctrl-C, then --resume"));
}

/// A network on an open chain of `n` sites: input 0, output `n − 1`, trainable ZZ bonds, fixed
/// transverse fields, one training example.
fn network(dir: &Path, n: usize) -> String {
    let text = format!(
        "lattice: {{shape: chain, sites: {n}, periodic: false}}\ninputs: [0]\noutputs: [{}]\nseed: 3\ncouplings:\n  - {{type: ZZ, trainable: true, init: {{uniform: [-0.5, 0.5]}}}}\n  - {{type: XX, on: [[0, 1]], trainable: true, value: 0.2}}\n  - {{type: X, value: -0.8}}\ndataset:\n  inputs: [[0.5]]\n  targets: [[1]]\n",
        n - 1
    );
    write(dir, &format!("net{n}.yaml"), &text)
}

#[test]
fn ep_commands_plan_their_memory() {
    let dir = tempfile::tempdir().unwrap();
    let f = network(dir.path(), 18);
    memory_plan_holds(&["grad", &f, "--json"], 80 << 20);
    let out = dir.path().join("run").display().to_string();
    memory_plan_holds(
        &["run", &f, "--epochs", "1", "--out", &out, "--json"],
        80 << 20,
    );
    let out = dir.path().join("shots").display().to_string();
    memory_plan_holds(
        &[
            "shots",
            &f,
            "--shots",
            "1000",
            "--betas",
            "0.1",
            "--repeats",
            "2",
            "--out",
            &out,
        ],
        80 << 20,
    );
    let out = dir.path().join("plateau").display().to_string();
    memory_plan_holds(
        &[
            "plateau",
            "--sizes",
            "14,16",
            "--samples",
            "2",
            "--out",
            &out,
        ],
        20 << 20,
    );
    let f8 = network(dir.path(), 8);
    let out = dir.path().join("scan").display().to_string();
    memory_plan_holds(
        &["thermal-scan", &f8, "--temperatures", "0.5", "--out", &out],
        12 << 20,
    );
}

#[test]
fn preparation_bench_and_thermal_states_plan_their_memory() {
    let dir = tempfile::tempdir().unwrap();
    let f = chain(dir.path(), 18, false);
    let out = dir.path().join("prep").display().to_string();
    memory_plan_holds(
        &[
            "prepare",
            &f,
            "--time",
            "1",
            "--steps",
            "4",
            "--gap-points",
            "0",
            "--out",
            &out,
        ],
        100 << 20,
    );
    memory_plan_holds(
        &["bench", &f, "--reps", "2", "--shots", "100000", "--json"],
        20 << 20,
    );
    // Small networks: the number of Bohr frequencies (collisions per round) grows as 4^N.
    let f4 = chain(dir.path(), 4, false);
    let f7 = chain(dir.path(), 7, false);
    // One folder per run: a folder that already holds results is refused.
    let out = dir.path().join("th").display().to_string();
    let out_davies = dir.path().join("th-davies").display().to_string();
    let out_traj = dir.path().join("th-trajectories").display().to_string();
    memory_plan_holds(
        &[
            "thermalize",
            &f4,
            "--temperature",
            "1",
            "--ancillas",
            "2",
            "--steps",
            "2",
            "--out",
            &out,
        ],
        12 << 20,
    );
    memory_plan_holds(
        &[
            "thermalize",
            &f7,
            "--temperature",
            "1",
            "--method",
            "davies",
            "--steps",
            "2",
            "--out",
            &out_davies,
        ],
        10 << 20,
    );

    memory_plan_holds(
        &[
            "thermalize",
            &f4,
            "--temperature",
            "1",
            "--method",
            "trajectories",
            "--trajectories",
            "8",
            "--steps",
            "1",
            "--out",
            &out_traj,
        ],
        12 << 20,
    );
}

#[test]
fn info_reports_the_memory_spectrum_checks() {
    let f = repo("hamiltonians/bench/tfim_4x5.yaml");
    let v = json(&["info", &f]);
    let two_pass = v["memory"]["lanczos_two_pass"].as_u64().unwrap();
    let probe = run_with_peak(
        &[
            "spectrum", &f, "--k", "1", "--no-gap", "--method", "lanczos",
        ],
        &[("QEP_MEMORY_LIMIT", "1K")],
    );
    let plan = needed_bytes(&probe.stderr).unwrap();
    // The plan adds only the resident memory and the small-buffer margin to info's figure.
    assert!(
        plan > two_pass && plan < two_pass + (24 << 20),
        "{plan} vs {two_pass}"
    );
    assert!(
        two_pass == 64 << 20,
        "8 MiB diagonal + 7 vectors of 8 MiB: {two_pass}"
    );
    // And the stored basis as a solve keeps it at 20 qubits: 32 vectors and the slot of the
    // next product, which is what `--memory store` checks.
    let stored = v["memory"]["lanczos_stored"].as_u64().unwrap();
    assert_eq!(stored, two_pass + 33 * (8 << 20));
    let probe = run_with_peak(
        &[
            "spectrum", &f, "--k", "1", "--no-gap", "--method", "lanczos", "--memory", "store",
        ],
        &[("QEP_MEMORY_LIMIT", "1K")],
    );
    let plan = needed_bytes(&probe.stderr).unwrap();
    assert!(
        plan > stored && plan < stored + (24 << 20),
        "{plan} vs {stored}"
    );
}

#[test]
fn a_plateau_without_a_rate_says_so_instead_of_printing_nan() {
    // Three draws of thermal gradients by typicality at N = 11, 12: the noise hides the
    // variance at N = 12, so fewer than two sizes keep a positive variance and no rate exists.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plateau").display().to_string();
    let o = std::process::Command::new(assert_cmd::cargo::cargo_bin("qep"))
        .args([
            "plateau",
            "--family",
            "chain",
            "--sizes",
            "11,12",
            "--samples",
            "3",
            "--temperature",
            "1",
            "--seed",
            "1",
            "--out",
            &out,
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{text}");
    assert!(text.contains("Var ∝ exp(−r N): no rate fitted"), "{text}");
    assert!(!text.contains("NaN"), "{text}");
}
