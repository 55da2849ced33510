//! Fixes to the studies: sweeps of different times keep the model's time step (`qep grad
//! --prep-times` on a long sweep converges to the exact-state EP gradient, where the model's
//! fixed step count did not); `qep thermal-scan` sorts tied parameters by all their strings
//! and draws T on a logarithmic axis; classical Langevin and relaxed runs refuse tied
//! parameters with a message that names them.

use qep::adiabatic::sweep_steps;
use qep::study::thermal_scan::two_body;

use crate::common::{json_of, model, qep};

#[test]
fn the_step_count_keeps_the_reference_time_step() {
    // The reference dt = 4/8 = 0.5: T = 128 needs 256 steps, a shorter sweep keeps 8.
    assert_eq!(sweep_steps(128.0, Some((4.0, 8))), 256);
    assert_eq!(sweep_steps(1.0, Some((4.0, 8))), 8);
    assert_eq!(sweep_steps(80.0, Some((80.0, 160))), 160);
    assert_eq!(sweep_steps(100.5, Some((80.0, 160))), 201);
    // No reference: dt ≤ 0.2, at least 100 steps.
    assert_eq!(sweep_steps(10.0, None), 100);
    assert_eq!(sweep_steps(64.0, None), 320);
    assert_eq!(sweep_steps(f64::NAN, Some((0.0, 8))), 100);
}

/// The `prepared` entry of `qep grad FILE --example 1 --prep-times 128 [EXTRA] --json`:
/// (relative error, cosine, EP gradient).
fn long_sweep(file: &std::path::Path, extra: &[&str]) -> (f64, f64, Vec<f64>) {
    let j = json_of(
        qep()
            .arg("grad")
            .arg(file)
            .args(["--example", "1", "--prep-times", "128", "--json"])
            .args(extra),
    );
    let p = &j["prepared"][0];
    assert_eq!(p["time"].as_f64(), Some(128.0));
    let ep = p["ep"]
        .as_array()
        .expect("ep")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect();
    (
        p["relative_error"].as_f64().expect("relative_error"),
        p["cosine"].as_f64().expect("cosine"),
        ep,
    )
}

#[test]
fn a_long_sweep_converges_to_the_exact_state_gradient() {
    // xor_adiabatic with a short reference sweep, T = 4 in 8 steps (dt = 0.5).
    let text = std::fs::read_to_string(model("xor_adiabatic.yaml")).expect("model");
    let from = "preparation: {adiabatic: {time: 80, steps: 160, schedule: smooth}}";
    assert!(
        text.contains(from),
        "xor_adiabatic.yaml changed its preparation line"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("xa.yaml");
    std::fs::write(
        &file,
        text.replace(
            from,
            "preparation: {adiabatic: {time: 4, steps: 8, schedule: smooth}}",
        ),
    )
    .expect("write");
    // Default: 256 steps for T = 128. The adiabatic error at T = 128 is ~3e-4 (measured with
    // 4000 steps), and the default is as close to the exact-state gradient.
    let (rel, cos, ep) = long_sweep(&file, &[]);
    let (rel_fine, _, ep_fine) = long_sweep(&file, &["--prep-steps", "4000"]);
    assert!(
        rel < 1e-3 && cos > 0.99999,
        "default steps: rel {rel}, cosine {cos}"
    );
    assert!(rel_fine < 1e-3, "4000 steps: rel {rel_fine}");
    let diff = ep
        .iter()
        .zip(&ep_fine)
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        .sqrt();
    let norm = ep_fine.iter().map(|b| b * b).sum::<f64>().sqrt();
    assert!(
        diff < 1e-3 * norm,
        "default vs 4000 steps: {diff} of {norm}"
    );
    // The model's 8 steps for all 128 time units (what every T got before): far off.
    let (rel_coarse, cos_coarse, _) = long_sweep(&file, &["--prep-steps", "8"]);
    assert!(
        rel_coarse > 1.0 && cos_coarse < 0.5,
        "8 steps: rel {rel_coarse}, cosine {cos_coarse}"
    );
}

#[test]
fn thermal_scan_sorts_tied_parameters_by_all_their_strings() {
    let m = qep::hamiltonian::parse_str(
        "qubits: 4\ninputs: [0]\noutputs: [3]\n\
         params:\n\
         \x20 - {pauli: X0 X1, value: 0.1}\n\
         \x20 - {pauli: Z1 Z2, value: 0.2}\n\
         \x20 - {paulis: [X0 X2, Y0 Y2, Z0 Z2], value: 0.3}\n\
         \x20 - {paulis: [Z0 Z1, X1 X2], value: 0.4}\n\
         \x20 - {paulis: [X2 X3, X0 X3], value: 0.5}\n\
         \x20 - {paulis: [Z2 Z3, Z0 Z3], value: 0.6}\n\
         \x20 - {pauli: X1, value: 0.7}\n\
         dataset:\n  inputs: [[0.3]]\n  targets: [[1]]\n",
        std::path::Path::new("tied.yaml"),
    )
    .expect("model");
    assert_eq!(m.params.len(), 7);
    // A Heisenberg bond (first string X0 X1) and a ZZ+XX bond are neither XX nor ZZ.
    assert_eq!(two_body(&m, true), vec![0, 4]);
    assert_eq!(two_body(&m, false), vec![1, 5]);
}

#[test]
fn thermal_scan_chart_has_a_log_temperature_axis() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("scan");
    json_of(
        qep()
            .arg("thermal-scan")
            .arg(model("xor.yaml"))
            .args(["--temperatures", "0.05,0.5,5", "--json", "--out"])
            .arg(&out),
    );
    let svg = std::fs::read_to_string(out.join("thermal-scan.svg")).expect("svg");
    // The texts of the chart, one per <text> element.
    let texts: Vec<&str> = svg
        .split("<text")
        .skip(1)
        .filter_map(|t| Some(t.split_once('>')?.1.split_once("</text>")?.0.trim()))
        .collect();
    assert!(
        texts.contains(&"temperature T") && !svg.contains("log10"),
        "{texts:?}"
    );
    // Ticks at 1, 2, 5 × 10^k over 0.05…5, not log10 T = −1.3 … 0.7.
    for tick in ["0.05", "0.1", "0.2", "0.5", "1", "2", "5"] {
        assert!(texts.contains(&tick), "no tick {tick}: {texts:?}");
    }
    assert!(
        !texts
            .iter()
            .any(|t| t.starts_with('-') || t.starts_with('−')),
        "{texts:?}"
    );
}

#[test]
fn classical_langevin_runs_refuse_a_tied_parameter_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("ct.yaml");
    std::fs::write(
        &file,
        "kind: classical\nqubits: 3\ninputs: [0]\noutputs: [2]\nparams:\n  \
         - {paulis: [\"Z0 Z1\", \"Z1 Z2\"], value: 0.3}\ndataset:\n  inputs: [[1]]\n  \
         targets: [[1]]\n",
    )
    .expect("write");
    let want = "param 0 `Z0 Z1 + Z1 Z2` ties 2 strings to one parameter";
    // Langevin sampling (a classical model at a temperature) in grad and in training, and
    // the relaxed network at T = 0.
    for extra in [
        &["grad", "--temperature", "0.5"][..],
        &["run", "--temperature", "0.5", "--epochs", "1", "--out"][..],
        &["run", "--epochs", "1", "--out"][..],
    ] {
        let mut cmd = qep();
        cmd.args(&extra[..1]).arg(&file).args(&extra[1..]);
        if extra.last() == Some(&"--out") {
            cmd.arg(dir.path().join("out"));
        }
        let e = crate::common::fails(&mut cmd);
        assert!(e.contains(want), "{extra:?}: {e}");
    }
}
