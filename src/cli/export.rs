//! `qep export FILE --format mtx|json [-o OUT] [--max-size SIZE]`.

use std::io::{BufWriter, Write};

use anyhow::{bail, Context, Result};
use serde::Serialize;

use qep::cancel::Cancel;
use qep::operator::{matrix_market_bytes, XMaskOperator};
use qep::report::{free_space, write_atomic_with};
use qep::state::memory::{human_bytes, parse_bytes};

use super::args::{ExportArgs, ExportFormat};
use super::{cooperative, in_file, load, Interrupted};

/// Largest export written without `--max-size`.
const DEFAULT_MAX_BYTES: u128 = 1 << 30;

/// Exports from this size on (a second or more of writing) say so on stderr first.
const LOUD_BYTES: u128 = 64 << 20;

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

/// A writer that fails once the cancellation flag is set, so that a long export stops at the
/// next buffer it writes.
struct Cancellable<W> {
    inner: W,
    cancel: Cancel,
}

impl<W: Write> Write for Cancellable<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.cancel.is_cancelled() {
            return Err(std::io::Error::other("interrupted"));
        }
        self.inner.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

pub fn run(a: ExportArgs) -> Result<()> {
    let file = &a.file;
    let model = load(file)?;
    let h = in_file(file, model.hamiltonian(&model.theta(), None, 0.0))?;
    let target = a
        .out
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "standard output".into());
    // What is written is decided (and its size bounded) before anything is built or written.
    let json = match a.format {
        ExportFormat::Json => Some(json_text(&h, &model.source.sha256)?),
        ExportFormat::Mtx => None,
    };
    let estimate = json
        .as_ref()
        .map_or_else(|| matrix_market_bytes(&h), |t| t.len() as u128);
    check_size(&a, &target, h.qubits(), estimate)?;
    let cancel = cooperative();
    let op = match a.format {
        ExportFormat::Mtx => Some(in_file(file, XMaskOperator::new(&h))?),
        ExportFormat::Json => None,
    };
    if estimate >= LOUD_BYTES {
        eprintln!(
            "writing up to {} to {target} (Ctrl-C abandons it and leaves no partial file)",
            human_bytes(estimate)
        );
    }
    let write = |w: &mut dyn Write| -> std::io::Result<()> {
        let mut w = Cancellable {
            inner: w,
            cancel: cancel.clone(),
        };
        match (&op, &json) {
            (Some(op), _) => op.write_matrix_market(&mut w),
            (None, Some(t)) => w.write_all(t.as_bytes()),
            (None, None) => Ok(()),
        }
    };
    let result = match &a.out {
        Some(p) => write_atomic_with(p, |w| write(w)).map_err(anyhow::Error::from),
        None => {
            let mut w = BufWriter::new(std::io::stdout().lock());
            write(&mut w)
                .and_then(|()| w.flush())
                .map_err(anyhow::Error::from)
        }
    };
    if cancel.is_cancelled() {
        return Err(Interrupted(match &a.out {
            Some(p) => format!("interrupted; export abandoned, {} not written", p.display()),
            None => "interrupted; export to standard output abandoned".into(),
        })
        .into());
    }
    result.with_context(|| format!("{target}: write failed"))
}

/// The JSON export's text.
fn json_text(h: &qep::pauli::PauliSum, sha256: &str) -> Result<String> {
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
        input_sha256: sha256.to_string(),
    };
    Ok(serde_json::to_string_pretty(&out)? + "\n")
}

/// Refuses an export larger than `--max-size` (default 1 GiB, and never more than the free
/// space of the target's file system unless `--max-size` says so).
fn check_size(a: &ExportArgs, target: &str, qubits: usize, estimate: u128) -> Result<()> {
    let max = match &a.max_size {
        Some(s) => parse_bytes(s)
            .with_context(|| format!("--max-size {s:?}: expected a size such as 500M, 8G or 1T"))?,
        None => DEFAULT_MAX_BYTES,
    };
    if estimate > max {
        bail!(
            "{target}: the export of this {qubits}-qubit model would take up to {} ({estimate} \
             bytes), more than {}; expected --max-size {} or more to write it",
            human_bytes(estimate),
            human_bytes(max),
            suggest(estimate)
        );
    }
    if a.max_size.is_none() {
        if let Some(p) = &a.out {
            let dir = match p.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => std::path::Path::new("."),
            };
            if let Some(free) = free_space(dir) {
                if estimate > u128::from(free) {
                    bail!(
                        "{target}: the export would take up to {}, but {} has only {} free; \
                         expected more free space (or --max-size to try anyway)",
                        human_bytes(estimate),
                        dir.display(),
                        human_bytes(u128::from(free))
                    );
                }
            }
        }
    }
    Ok(())
}

/// A `--max-size` value (whole GiB, or MiB below one GiB) that admits `bytes`.
fn suggest(bytes: u128) -> String {
    if bytes >= 1 << 30 {
        format!("{}G", bytes.div_ceil(1 << 30))
    } else {
        format!("{}M", bytes.div_ceil(1 << 20))
    }
}
