//! The programs of `examples/` run and pass their own checks (each asserts its result against
//! an independent value and exits non-zero if they disagree). `cargo test` builds the examples
//! beside this test binary; a filtered `cargo test --test it` does not, so a missing binary is
//! reported and skipped rather than rebuilt here.

use std::path::PathBuf;
use std::process::Command;

/// Runs `target/<profile>/examples/<name>` from the repository root and returns its stdout,
/// or `None` (with a message) when the example was not built.
fn run_example(name: &str) -> Option<String> {
    let exe = std::env::current_exe().expect("the test binary has a path");
    // target/<profile>/deps/it-… → target/<profile>/examples/<name>
    let dir: PathBuf = exe.parent()?.parent()?.join("examples");
    let bin = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !bin.is_file() {
        eprintln!("skipped: {} not built (run `cargo test --release` or `cargo build --release --examples`)", bin.display());
        return None;
    }
    let out = Command::new(&bin)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the example starts");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "example {name} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Some(stdout)
}

#[test]
fn ground_state_matches_free_fermions() {
    if let Some(out) = run_example("ground_state") {
        assert!(out.contains("free fermions: E₀ = -"), "{out}");
    }
}

#[test]
fn ep_gradient_matches_oracle_and_finite_differences() {
    if let Some(out) = run_example("ep_gradient") {
        assert!(out.contains("engine eigen"), "{out}");
        assert!(out.contains("max |EP − exact|"), "{out}");
    }
}

#[test]
fn train_xor_lowers_the_cost() {
    if let Some(out) = run_example("train_xor") {
        assert!(out.contains("epoch 15:"), "{out}");
    }
}

#[test]
fn adiabatic_benchmark_follows_the_adiabatic_theorem() {
    if let Some(out) = run_example("adiabatic_benchmark") {
        assert!(out.contains("adiabatic theorem: T^-2"), "{out}");
    }
}

#[test]
fn thermal_cooling_reaches_the_gibbs_state() {
    if let Some(out) = run_example("thermal_cooling") {
        assert!(out.contains("Gibbs energy"), "{out}");
    }
}
