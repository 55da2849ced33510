//! `qep circuit run FILE.qasm`: OpenQASM 2 or 3 in, shot counts (and amplitudes) out.

use std::io::Write;

use anyhow::{bail, Context, Result};
use serde::Serialize;
use serde_json::json;

use qep::circuit::{self, execute, Circuit, MemoryPlan};
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
    /// `double` (complex128) or `single` (complex64) amplitudes.
    precision: &'static str,
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

/// `NAME=VALUE` pairs of `--param`.
fn parse_params(raw: &[String]) -> Result<Vec<(String, f64)>> {
    raw.iter()
        .map(|p| {
            let (k, v) = p
                .split_once('=')
                .with_context(|| format!("--param {p}: expected NAME=VALUE"))?;
            let x: f64 = v
                .trim()
                .parse()
                .ok()
                .filter(|x: &f64| x.is_finite())
                .with_context(|| format!("--param {p}: `{v}` is not a finite number"))?;
            Ok((k.trim().to_string(), x))
        })
        .collect()
}

/// Prefixes a located parse error with the file name as `file:line:col: …`.
fn located(file: &std::path::Path, e: circuit::CircuitError) -> anyhow::Error {
    use circuit::CircuitError as E;
    match e {
        E::InFile { .. } | E::Read { .. } | E::Memory(_) | E::TooManyQubits { .. } => {
            anyhow::Error::new(e)
        }
        e => anyhow::anyhow!("{}:{e}", file.display()),
    }
}

fn run_file(a: CircuitRunArgs) -> Result<()> {
    let file = &a.file;
    let params = parse_params(&a.params)?;
    let text = circuit::read_qasm(file)?;
    let c: Circuit =
        circuit::parse_qasm_source(&text, file, &params).map_err(|e| located(file, e))?;
    if a.statevector && c.qubits > MAX_PRINTED_QUBITS {
        bail!(
            "{}: --statevector prints at most {MAX_PRINTED_QUBITS} qubits, the circuit has {}",
            file.display(),
            c.qubits
        );
    }
    let opts = execute::RunOptions::fast(if a.precision == "single" {
        circuit::Precision::Single
    } else {
        circuit::Precision::Double
    });
    let world = qep::dist::world();
    let (statevector, counts) = if world.size() > 1 {
        run_distributed(&a, &c, &opts, world)?
    } else {
        run_one_process(&a, &c, &opts)?
    };
    let result = RunResult {
        qubits: c.qubits,
        clbits: c.clbits,
        shots: a.shots,
        seed: a.seed,
        precision: opts.precision.name(),
        counts,
        statevector,
    };
    print_result(&a, &c, &text, &result)
}

/// Amplitudes (with `--statevector`) and counts.
type StateAndCounts = (Option<Vec<[f64; 2]>>, circuit::Counts);

/// `qep circuit run` in one process.
fn run_one_process(
    a: &CircuitRunArgs,
    c: &Circuit,
    opts: &execute::RunOptions,
) -> Result<StateAndCounts> {
    let file = &a.file;
    // The whole peak, checked before anything is allocated: the sampler's buffers, plus the
    // printed amplitudes and the state they come from.
    let mut plan = MemoryPlan::sampling_in(c, a.shots, opts.precision);
    if a.statevector {
        let sv = qep::state::memory::state_bytes(c.qubits, 16);
        plan = plan
            .with("--statevector state", sv)
            .with("--statevector output", sv);
    }
    in_file(file, plan.check())?;
    let statevector = if a.statevector {
        let psi = if c.measurements_are_final() {
            in_file(file, execute::unitary_part_state_with(c, opts))?
        } else {
            in_file(file, execute::simulate_with(c, a.seed, opts))?.state
        };
        Some(psi.iter().map(|z| [z.re, z.im]).collect::<Vec<_>>())
    } else {
        None
    };
    let counts = in_file(file, circuit::sample_counts_with(c, a.shots, a.seed, opts))?;
    Ok((statevector, counts))
}

/// `qep circuit run` under `mpirun` with several ranks: the amplitudes split over the ranks
/// ([`qep::dist::sample_counts`]), the counts of one process for the same seed; the printed
/// amplitudes are gathered from every rank.
fn run_distributed(
    a: &CircuitRunArgs,
    c: &Circuit,
    opts: &execute::RunOptions,
    world: &dyn qep::dist::Comm,
) -> Result<StateAndCounts> {
    let file = &a.file;
    let statevector = if a.statevector {
        let b = in_file(file, qep::dist::circuit_state(c, world, opts))?;
        let whole = qep::dist::gather_state(world, &b.block);
        Some(whole.iter().map(|z| [z.re, z.im]).collect::<Vec<_>>())
    } else {
        None
    };
    let (counts, _) = in_file(
        file,
        qep::dist::sample_counts(c, a.shots, a.seed, world, opts),
    )?;
    Ok((statevector, counts))
}

/// Prints the result as text or (`--json`) JSON with provenance.
fn print_result(a: &CircuitRunArgs, c: &Circuit, text: &str, result: &RunResult) -> Result<()> {
    let file = &a.file;
    if a.json {
        let provenance = Provenance::new(
            Some(file),
            Some(sha256_hex(text.as_bytes())),
            Some(a.seed),
            json!({"shots": a.shots, "statevector": a.statevector, "params": a.params, "precision": a.precision}),
        );
        let out = WithProvenance { result, provenance };
        let mut text = serde_json::to_string_pretty(&out)?;
        text.push('\n');
        return match std::io::stdout().lock().write_all(text.as_bytes()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
            _ => Ok(()),
        };
    }
    let over = if c.has_measurements() {
        let regs: Vec<String> = c
            .creg_layout()
            .iter()
            .rev()
            .map(|r| format!("{}[{}]", r.name, r.size))
            .collect();
        format!("{} classical bits ({})", c.clbits, regs.join(" "))
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
    // Most frequent first (ties in bitstring order): the outcome a reader looks for is on top.
    let mut counts: Vec<(&String, &u64)> = result.counts.iter().collect();
    counts.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    for (bits, n) in counts {
        println!("  {bits}  {n}");
    }
    if let Some(sv) = &result.statevector {
        println!("statevector (index: bitstring, qubit 0 rightmost)");
        for (i, [re, im]) in sv.iter().enumerate() {
            let bits = circuit::branch::bitstring((0..c.qubits).map(|q| i >> q & 1 == 1));
            println!("  {bits}  {re:+.12} {im:+.12}i");
        }
    }
    Ok(())
}
