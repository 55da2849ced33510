//! The one harness for tests that drive the `qep` binary: build a command, run it, check its
//! exit code and parse its JSON. Every CLI test uses these instead of its own copy.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

/// The `qep` binary of this build.
pub fn qep() -> Command {
    Command::cargo_bin("qep").expect("the qep binary is built")
}

/// A path inside the repository (`repo("hamiltonians/xor.yaml")`), as a string so that it can
/// stand in an argument list.
pub fn repo(rel: &str) -> String {
    format!("{}/{rel}", env!("CARGO_MANIFEST_DIR"))
}

/// A model file of `hamiltonians/` (`model("xor.yaml")`).
pub fn model(name: &str) -> String {
    repo(&format!("hamiltonians/{name}"))
}

/// Runs `qep ARGS --json`, asserts success, parses stdout.
pub fn json(args: &[&str]) -> Value {
    json_of(qep().args(args).arg("--json"))
}

/// Runs a prepared `qep` command, asserts success, parses its stdout as JSON.
pub fn json_of(cmd: &mut Command) -> Value {
    let out = cmd.output().expect("qep runs");
    assert!(
        out.status.success(),
        "qep failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

/// Runs a prepared `qep` command that must fail cleanly: exit code 1, a non-empty message
/// starting with `error: `, no panic. Returns stderr.
pub fn fails(cmd: &mut Command) -> String {
    let out = cmd.output().expect("qep runs");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "expected exit code 1: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.starts_with("error: ") && err.len() > 8, "{err:?}");
    err
}

/// A JSON array of numbers as `Vec<f64>`.
pub fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| x.as_f64().expect("a number"))
        .collect()
}

/// A 3-qubit network with one input, one output, three trainable couplings and one example
/// (so it has a cost), written as `net3.yaml` in `dir`.
pub fn net3_model(dir: &Path) -> PathBuf {
    let p = dir.join("net3.yaml");
    std::fs::write(
        &p,
        "qubits: 3\ninputs: [0]\noutputs: [2]\nterms:\n  - {pauli: \"X0\", coeff: -1.0}\n  - {pauli: \"X1\", coeff: -0.8}\n  - {pauli: \"X2\", coeff: -0.6}\nparams:\n  - {pauli: \"Z0 Z1\", value: 0.7}\n  - {pauli: \"Z1 Z2\", value: -0.5}\n  - {pauli: \"X1 X2\", value: 0.3}\ndataset:\n  inputs: [[0.4]]\n  targets: [[1]]\n",
    )
    .expect("writes the model");
    p
}

/// Runs `qep ARGS` with stderr piped, waits until a line of its stderr contains `needle`, then
/// sends it SIGINT (what Ctrl-C sends) and waits for it to end. Returns its exit code and its
/// whole stderr. Panics, with the stderr so far, if qep ends without printing `needle`.
pub fn interrupt_when(args: &[&str], needle: &str) -> (Option<i32>, String) {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_qep"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("qep starts");
    let stderr = child.stderr.take().expect("stderr is piped");
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = String::new();
    loop {
        match rx.recv_timeout(std::time::Duration::from_secs(900)) {
            Ok(line) => {
                seen.push_str(&line);
                seen.push('\n');
                if line.contains(needle) {
                    break;
                }
            }
            Err(_) => {
                let _ = child.kill();
                panic!("qep ended or stalled before printing {needle:?}; stderr:\n{seen}");
            }
        }
    }
    let pid = i32::try_from(child.id()).expect("a pid fits in i32");
    // SAFETY: kill(2) on the child we spawned and still own (not yet waited for).
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0, "SIGINT sent");
    let status = child.wait().expect("qep ends");
    let _ = reader.join();
    for line in rx.try_iter() {
        seen.push_str(&line);
        seen.push('\n');
    }
    (status.code(), seen)
}
