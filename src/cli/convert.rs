//! `qep convert IN OUT [--from F] [--to F] [--qubits N] [--overwrite] [--json]`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Serialize;

use qep::hamiltonian::convert::{self, ConvertLimits, PauliFormat};
use qep::report::Provenance;

use super::args::{ConvertArgs, ConvertFormat};

/// What `--json` prints.
#[derive(Serialize)]
struct Report {
    input: PathBuf,
    output: PathBuf,
    from: &'static str,
    to: &'static str,
    qubits: usize,
    terms: usize,
    /// Trainable parameters of a YAML input, evaluated at their current values.
    params_at_theta: usize,
    input_sha256: String,
    output_sha256: String,
    provenance: Provenance,
}

pub fn run(a: ConvertArgs) -> Result<()> {
    let from = format_of(a.from, &a.input, "IN", "--from")?;
    let to = format_of(a.to, &a.output, "OUT", "--to")?;
    check_output(&a.input, &a.output, a.overwrite)?;
    let read = convert::read(&a.input, from, &ConvertLimits::default())?;
    let sum = match a.qubits {
        Some(n) => convert::with_qubits(&read.sum, n)
            .with_context(|| format!("--qubits {n}: {}", a.input.display()))?,
        None => read.sum,
    };
    let text = match to {
        PauliFormat::Qiskit => convert::qiskit_json(&sum),
        PauliFormat::OpenFermion => convert::openfermion_text(&sum),
        PauliFormat::Yaml => {
            let mut header = format!(
                "Converted by qep {} from {} ({}, sha256 {})",
                env!("CARGO_PKG_VERSION"),
                a.input.display(),
                from.name(),
                read.sha256
            );
            if read.params_at_theta > 0 {
                header.push_str(&format!(
                    "\nat the current values of its {} trainable parameters",
                    read.params_at_theta
                ));
            }
            convert::yaml_text(&sum, &header, &a.output)
                .with_context(|| format!("{}: cannot write as YAML", a.input.display()))?
        }
    };
    qep::report::write_atomic(&a.output, text.as_bytes())
        .with_context(|| format!("{}: write failed", a.output.display()))?;
    let report = Report {
        input: a.input.clone(),
        output: a.output.clone(),
        from: from.name(),
        to: to.name(),
        qubits: sum.qubits(),
        terms: sum.len(),
        params_at_theta: read.params_at_theta,
        input_sha256: read.sha256.clone(),
        output_sha256: qep::report::sha256_hex(text.as_bytes()),
        provenance: Provenance::new(
            Some(&a.input),
            Some(read.sha256),
            None,
            serde_json::json!({"from": from.name(), "to": to.name(), "qubits": a.qubits}),
        ),
    };
    if a.json {
        let text = serde_json::to_string_pretty(&report)? + "\n";
        // A reader that stops early (`| head`) is not an error.
        match std::io::stdout().lock().write_all(text.as_bytes()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
            _ => {}
        }
    } else {
        let at_theta = if report.params_at_theta > 0 {
            format!(
                " (at the current values of its {} parameters)",
                report.params_at_theta
            )
        } else {
            String::new()
        };
        println!(
            "{} ({}) → {} ({}): {} terms on {} qubits{at_theta}",
            a.input.display(),
            report.from,
            a.output.display(),
            report.to,
            report.terms,
            report.qubits
        );
    }
    Ok(())
}

/// The format of `path`: the flag if given, else its extension.
fn format_of(
    flag: Option<ConvertFormat>,
    path: &Path,
    what: &str,
    name: &str,
) -> Result<PauliFormat> {
    match flag {
        Some(ConvertFormat::Qiskit) => Ok(PauliFormat::Qiskit),
        Some(ConvertFormat::Openfermion) => Ok(PauliFormat::OpenFermion),
        Some(ConvertFormat::Yaml) => Ok(PauliFormat::Yaml),
        None => PauliFormat::from_path(path).with_context(|| {
            format!(
                "{}: {what}'s format is not known from its extension; expected .json (Qiskit), \
                 .txt or .of (OpenFermion), .yaml or .yml (qep), or {name} qiskit|openfermion|yaml",
                path.display()
            )
        }),
    }
}

/// Refuses an output that is a directory, the input itself, or an existing file without
/// `--overwrite`: checked before anything is read.
fn check_output(input: &Path, output: &Path, overwrite: bool) -> Result<()> {
    if output.is_dir() {
        bail!(
            "{}: OUT is a directory; expected a file name",
            output.display()
        );
    }
    let same = match (input.canonicalize(), output.canonicalize()) {
        (Ok(i), Ok(o)) => i == o,
        _ => false,
    };
    if same {
        bail!(
            "{}: OUT is the input file; expected another file name",
            output.display()
        );
    }
    if output.exists() && !overwrite {
        bail!(
            "{}: exists; expected --overwrite to replace it, or another file name",
            output.display()
        );
    }
    Ok(())
}
