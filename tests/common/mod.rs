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
    serde_json::from_slice(&succeeds(cmd).stdout).expect("stdout is JSON")
}

/// Runs a prepared `qep` command and asserts that it succeeds (with its stderr as the
/// message if not). Returns its output.
pub fn succeeds(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().expect("qep runs");
    assert!(
        out.status.success(),
        "qep failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
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

/// Two uncoupled qubits: qubit 1 decays at γ = 0.5 (σ⁻ drives it to |1⟩: ⟨Z1⟩ = 2e^{−γt} − 1);
/// qubit 0 is driven by 0.65 X0 (from |0⟩: ⟨Z0⟩ = cos 1.3t).
pub const DECAY_YAML: &str = "qubits: 2\nterms:\n  - {pauli: X0, coeff: 0.65}\nlindblad:\n  jumps:\n    - {op: sigma-, qubits: [1], rate: 0.5}\n";

/// [`DECAY_YAML`] written as `decay.yaml` in `dir`.
pub fn decay_model(dir: &Path) -> PathBuf {
    let p = dir.join("decay.yaml");
    std::fs::write(&p, DECAY_YAML).expect("writes the model");
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

/// What a `qep` run left behind: exit code, stdout, stderr and the child's peak resident size.
pub struct PeakRun {
    /// Exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Peak resident set size of the child in bytes (`VmHWM` of `/proc/<pid>/status`).
    pub peak_bytes: u64,
}

/// `VmHWM` of a live process in bytes, `None` once it has released its memory (exited).
fn vm_hwm(pid: u32) -> Option<u64> {
    let t = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: u64 = t
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// Runs `qep ARGS` with the extra environment `env` and measures its peak resident size:
/// `VmHWM` of `/proc/<pid>/status`, read every millisecond while the child is alive. `VmHWM` is
/// a high-water mark, so any read after the peak sees it. (`wait4`'s `ru_maxrss` would not do:
/// it keeps the high-water mark of the test process the child was forked from.)
pub fn run_with_peak(args: &[&str], env: &[(&str, &str)]) -> PeakRun {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("qep"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("qep starts");
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let pid = child.id();
    let mut peak = 0;
    let status = loop {
        if let Some(h) = vm_hwm(pid) {
            peak = peak.max(h);
        }
        if let Some(st) = child.try_wait().expect("waits for qep") {
            break st;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    };
    PeakRun {
        code: status.code(),
        stdout: t_out.join().expect("stdout reader"),
        stderr: t_err.join().expect("stderr reader"),
        peak_bytes: peak,
    }
}
/// Parses the `needs 1.5 GiB` of a memory error into bytes (binary units, as printed).
pub fn needed_bytes(stderr: &str) -> Option<u64> {
    let rest = stderr.split(" needs ").nth(1)?;
    let mut it = rest.split_whitespace();
    let v: f64 = it.next()?.parse().ok()?;
    let unit = match it.next()? {
        "B" => 1u64,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "TiB" => 1 << 40,
        _ => return None,
    };
    Some((v * unit as f64) as u64)
}
