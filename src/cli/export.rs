//! `qep export FILE --format mtx|json [-o OUT]`.

use std::fs::File;
use std::io::{BufWriter, Write};

use anyhow::{Context, Result};
use serde::Serialize;

use qep::operator::XMaskOperator;

use super::args::{ExportArgs, ExportFormat};
use super::{in_file, load};

/// One merged term in the JSON export.
#[derive(Serialize)]
struct TermOut {
    pauli: String,
    /// Real coefficient, or `[re, im]` when it has an imaginary part.
    coeff: serde_json::Value,
}

/// The JSON export: a plain Pauli-sum file, readable back as the explicit YAML form.
#[derive(Serialize)]
struct SumOut {
    qubits: usize,
    terms: Vec<TermOut>,
    qep_version: &'static str,
    input_sha256: String,
}

pub fn run(a: ExportArgs) -> Result<()> {
    let file = &a.file;
    let model = load(file)?;
    let h = in_file(file, model.hamiltonian(&model.theta(), None, 0.0))?;
    let sink: Box<dyn Write> = match &a.out {
        Some(p) => Box::new(
            File::create(p)
                .with_context(|| format!("{}: cannot create the output file", p.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut w = BufWriter::new(sink);
    let target = a
        .out
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "standard output".into());
    match a.format {
        ExportFormat::Mtx => {
            let op = in_file(file, XMaskOperator::new(&h))?;
            op.write_matrix_market(&mut w)
                .with_context(|| format!("{target}: write failed"))?;
        }
        ExportFormat::Json => {
            let out = SumOut {
                qubits: h.qubits(),
                terms: h
                    .terms()
                    .iter()
                    .map(|(p, c)| TermOut {
                        pauli: p.label(),
                        coeff: if c.im == 0.0 {
                            serde_json::json!(c.re)
                        } else {
                            serde_json::json!([c.re, c.im])
                        },
                    })
                    .collect(),
                qep_version: env!("CARGO_PKG_VERSION"),
                input_sha256: model.source.sha256.clone(),
            };
            serde_json::to_writer_pretty(&mut w, &out)?;
            writeln!(w)?;
        }
    }
    w.flush()
        .with_context(|| format!("{target}: write failed"))?;
    Ok(())
}
