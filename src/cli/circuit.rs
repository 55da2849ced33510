//! `qep circuit run FILE.qasm`.

use std::io::Write;

use anyhow::{bail, Context, Result};
use serde::Serialize;
use serde_json::json;

use qep::circuit::{self, execute, Circuit};
use qep::report::{sha256_hex, Provenance};

use super::args::{CircuitArgs, CircuitCommand, CircuitRunArgs};
use super::{in_file, WithProvenance};

/// Largest circuit whose amplitudes `--statevector` prints.
const MAX_PRINTED_QUBITS: usize = 12;

/// The JSON result of `qep circuit run`.
#[derive(Serialize)]
struct RunResult {
    qubits: usize,
    clbits: usize,
    shots: u64,
    seed: u64,
    /// Over the classical bits (if measured) or the qubits; bit 0 rightmost.
    counts: circuit::Counts,
    /// `[re, im]` per basis index (qubit i = bit i), with `--statevector`.
    #[serde(skip_serializing_if = "Option::is_none")]
    statevector: Option<Vec<[f64; 2]>>,
}

pub fn run(a: CircuitArgs) -> Result<()> {
    match a.command {
        CircuitCommand::Run(r) => run_file(r),
    }
}

fn run_file(a: CircuitRunArgs) -> Result<()> {
    let file = &a.file;
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let text = String::from_utf8(bytes.clone())
        .with_context(|| format!("{}: not UTF-8 text", file.display()))?;
    let c: Circuit = in_file(file, circuit::parse_qasm(&text))?;
    let statevector = if a.statevector {
        if c.qubits > MAX_PRINTED_QUBITS {
            bail!(
                "{}: --statevector prints at most {MAX_PRINTED_QUBITS} qubits, the circuit has {}",
                file.display(),
                c.qubits
            );
        }
        let psi = if c.measurements_are_final() {
            in_file(file, execute::unitary_part_state(&c))?
        } else {
            in_file(file, execute::simulate(&c, a.seed))?.state
        };
        Some(psi.iter().map(|z| [z.re, z.im]).collect::<Vec<_>>())
    } else {
        None
    };
    let counts = in_file(file, circuit::sample_counts(&c, a.shots, a.seed))?;
    let result = RunResult {
        qubits: c.qubits,
        clbits: c.clbits,
        shots: a.shots,
        seed: a.seed,
        counts,
        statevector,
    };
    if a.json {
        let provenance = Provenance::new(
            Some(file),
            Some(sha256_hex(&bytes)),
            Some(a.seed),
            json!({"shots": a.shots, "statevector": a.statevector}),
        );
        let out = WithProvenance {
            result: &result,
            provenance,
        };
        let mut text = serde_json::to_string_pretty(&out)?;
        text.push('\n');
        return match std::io::stdout().lock().write_all(text.as_bytes()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
            _ => Ok(()),
        };
    }
    let over = if c.has_measurements() {
        format!("{} classical bits", c.clbits)
    } else {
        format!("{} qubits (no measurement in the circuit)", c.qubits)
    };
    println!(
        "circuit  {} qubits, {} clbits, {} ops",
        c.qubits,
        c.clbits,
        c.ops.len()
    );
    println!("shots    {} (seed {}), counts over {over}", a.shots, a.seed);
    for (bits, n) in &result.counts {
        println!("  {bits}  {n}");
    }
    if let Some(sv) = &result.statevector {
        println!("statevector (index: bitstring, qubit 0 rightmost)");
        for (i, [re, im]) in sv.iter().enumerate() {
            let bits = execute::bitstring((0..c.qubits).map(|q| i >> q & 1 == 1));
            println!("  {bits}  {re:+.12} {im:+.12}i");
        }
    }
    Ok(())
}
