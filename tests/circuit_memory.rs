//! The memory check of `qep circuit run`, with the child's peak resident size.
//!
//! This is a test binary of its own (not a module of `tests/it`): a child's `ru_maxrss`
//! includes the memory of the process it was forked from, so the parent must be small and
//! not running other tests.

use qep::circuit::parse_qasm_file;

/// Runs `cmd` and returns its exit code, stderr and peak resident size in bytes (wait4).
// The child is reaped by `wait4` (for its rusage), not by `Child::wait`.
#[allow(clippy::zombie_processes)]
fn run_with_peak_rss(cmd: &mut std::process::Command) -> (Option<i32>, String, u64) {
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut stderr = child.stderr.take().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut err).unwrap();
    let mut status = 0;
    // SAFETY: plain FFI call with valid pointers to locals; `pid` is our child.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    assert_eq!(r, pid);
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    (code, err, ru.ru_maxrss as u64 * 1024)
}

#[test]
fn circuits_are_memory_checked_before_allocating_and_stay_under_the_limit() {
    // 21 qubits, 1000 shots: state 32 MiB + sampling tables (chunk masses and the draws,
    // 15.8 KiB) + counts.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("big.qasm");
    std::fs::write(
        &f,
        "OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[21];\nh q;\n",
    )
    .unwrap();
    let c = parse_qasm_file(&f, &[]).unwrap();
    let est = qep::circuit::MemoryPlan::sampling(&c, 1000).total() as u64;
    assert!(est > 32 << 20 && est < 34 << 20, "{est}");
    let p = f.to_str().unwrap();
    let below = est - 1024;
    let (code, err, peak) = run_with_peak_rss(
        std::process::Command::new(env!("CARGO_BIN_EXE_qep"))
            .args(["circuit", "run", p, "--shots", "1000"])
            .env("QEP_MEMORY_LIMIT", below.to_string()),
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains(
            "circuit (21 qubits, 1000 shots): state vector 32.0 MiB + sampling table 15.8 KiB"
        ) && err.contains("(limit set by QEP_MEMORY_LIMIT)"),
        "{err}"
    );
    assert!(peak < below, "peak {peak} ≥ limit {below}");
    // Just above the estimate it runs.
    let (code, err, _) = run_with_peak_rss(
        std::process::Command::new(env!("CARGO_BIN_EXE_qep"))
            .args(["circuit", "run", p, "--shots", "1000"])
            .env("QEP_MEMORY_LIMIT", (est + 1024).to_string()),
    );
    assert_eq!(code, Some(0), "{err}");
    // 27 qubits under 1 GiB: refused at once (the state alone is 2 GiB).
    std::fs::write(
        &f,
        "OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[27];\nh q;\n",
    )
    .unwrap();
    let (code, err, peak) = run_with_peak_rss(
        std::process::Command::new(env!("CARGO_BIN_EXE_qep"))
            .args(["circuit", "run", p])
            .env("QEP_MEMORY_LIMIT", "1G"),
    );
    assert_eq!(code, Some(1));
    assert!(err.contains("state vector 2.0 GiB"), "{err}");
    assert!(peak < 1 << 30, "{peak}");
}
