//! Datasets: the examples `(u, d)` a model is trained on, written inline or read from a CSV
//! file when the model is loaded.
//!
//! ```yaml
//! dataset:                       # inline: u_i per model input, d_i per model output
//!   inputs:  [[1, 1, -1], [-1, -1, 1]]
//!   targets: [[1], [-1]]
//!   test_fraction: 0.0           # optional, default 0: share of examples held out
//! dataset:                       # CSV (path relative to the model file)
//!   csv: iris.csv
//!   features: [sepal_length, 1]  # header names or 0-based column indices, one per input
//!   target: species              # class names or numbers
//!   test_fraction: 0.25
//!   encoding: {scale: [-1, 1]}   # optional, default [-1, 1]
//! ```
//!
//! CSV reading: the first non-blank line that does not start with `#` is the header; fields
//! are separated by commas (quoted fields may not contain commas); every row has as many
//! fields as the header. Each feature column is mapped linearly from its `[min, max]` to the
//! `scale` interval (a constant column to its midpoint). Targets:
//! * as many classes as outputs (≥ 2): one-hot ±1, classes sorted (numerically if all are
//!   numbers), output `k` is `+1` for class `k`;
//! * one output and a numeric column: mapped linearly from `[min, max]` to `[−1, 1]`;
//! * one output and two non-numeric classes: the first (sorted) is `−1`, the second `+1`.
//!
//! Limits ([`Limits`](super::Limits)): the `csv` path must be a regular file (a directory,
//! a device such as `/dev/zero` or a FIFO is refused before it is opened for reading) of at
//! most 1 GiB, 10⁷ data rows, 10 000 columns and 1 MiB per line by default; the file is read
//! line by line and a limit passed is an error at its line.
//!
//! With `test_fraction > 0` the examples are shuffled by a ChaCha8 stream of the model's seed
//! and the first `round(fraction · n)` go to the test set; both sets keep file order.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use rand::seq::SliceRandom;
use serde::Serialize;

use super::compile::Example;
use super::error::ModelError;
use super::keypath::{Ctx, KeyPath};
use super::limits::{open_regular, Limits, OpenError};
use super::model::{Column, DatasetFile};
use super::suggest::{nearest, DidYouMean};
use super::validate::rng_for;

/// RNG stream (of the model seed) that shuffles the train/test split.
const SPLIT_STREAM: u64 = 2 << 32;

/// The examples of a model, split into a training and a test set.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Dataset {
    /// Training examples.
    pub train: Vec<Example>,
    /// Held-out examples (empty when `test_fraction` is 0).
    pub test: Vec<Example>,
    /// For class targets, the class names in output order (one-hot) or `[−1 class, +1 class]`
    /// (binary); empty for inline and numeric targets.
    pub classes: Vec<String>,
    /// The CSV file read (resolved against the model file's directory), if any.
    pub csv: Option<PathBuf>,
}

/// Validates a `dataset` section and reads its CSV file, for a model with `n_in` inputs and
/// `n_out` outputs.
pub(crate) fn build(
    d: &DatasetFile,
    ctx: &Ctx<'_>,
    n_in: usize,
    n_out: usize,
    seed: u64,
) -> Result<Dataset, ModelError> {
    let key = KeyPath::root().key("dataset");
    let conflict = |k: &KeyPath, problem: String, expected: &str| ModelError::Conflict {
        at: ctx.at(k),
        problem,
        expected: expected.to_string(),
    };
    let inline = d.inputs.is_some() || d.targets.is_some();
    let (examples, classes, csv) = match (&d.csv, inline) {
        (Some(_), true) => {
            let k = if d.inputs.is_some() {
                "inputs"
            } else {
                "targets"
            };
            return Err(conflict(
                &key.key(k),
                "both a `csv` file and inline rows are given".into(),
                "either `csv` or `inputs` and `targets`",
            ));
        }
        (None, false) => {
            return Err(conflict(
                &key,
                "no examples: neither `inputs`/`targets` nor `csv` is given".into(),
                "`inputs` and `targets`, or `csv`, `features` and `target`",
            ))
        }
        (None, true) => {
            for (k, present) in [
                ("features", d.features.is_some()),
                ("target", d.target.is_some()),
                ("encoding", d.encoding.is_some()),
            ] {
                if present {
                    return Err(conflict(
                        &key.key(k),
                        format!("`{k}` applies to CSV datasets only"),
                        "`csv` with it, or inline `inputs` and `targets` alone",
                    ));
                }
            }
            (
                inline_examples(d, ctx, &key, n_in, n_out)?,
                Vec::new(),
                None,
            )
        }
        (Some(file), false) => {
            let (ex, cl, path) = csv_examples(d, file, ctx, &key, n_in, n_out)?;
            (ex, cl, Some(path))
        }
    };
    let fraction = d.test_fraction.unwrap_or(0.0);
    let n = examples.len();
    let n_test = (fraction * n as f64).round() as usize;
    if !(0.0..1.0).contains(&fraction) || n_test >= n {
        return Err(ModelError::OutOfRange {
            at: ctx.at(&key.key("test_fraction")),
            value: fraction,
            expected: "a fraction in [0, 1) that leaves at least one training example",
        });
    }
    let mut order: Vec<usize> = (0..n).collect();
    if n_test > 0 {
        order.shuffle(&mut rng_for(seed, SPLIT_STREAM));
    }
    let mut test_idx = order[..n_test].to_vec();
    let mut train_idx = order[n_test..].to_vec();
    test_idx.sort_unstable();
    train_idx.sort_unstable();
    Ok(Dataset {
        train: train_idx.iter().map(|&i| examples[i].clone()).collect(),
        test: test_idx.iter().map(|&i| examples[i].clone()).collect(),
        classes,
        csv,
    })
}

fn inline_examples(
    d: &DatasetFile,
    ctx: &Ctx<'_>,
    key: &KeyPath,
    n_in: usize,
    n_out: usize,
) -> Result<Vec<Example>, ModelError> {
    let missing = |k: &str| ModelError::Schema {
        at: ctx.at(&key.key(k)),
        problem: format!("missing key `{k}`"),
        expected: format!("`{k}` beside `inputs`/`targets`: one row per example"),
    };
    let inputs = d.inputs.as_ref().ok_or_else(|| missing("inputs"))?;
    let targets = d.targets.as_ref().ok_or_else(|| missing("targets"))?;
    for (rows, k, want, what) in [
        (inputs, "inputs", n_in, "input"),
        (targets, "targets", n_out, "output"),
    ] {
        if let Some((row, r)) = rows.iter().enumerate().find(|(_, r)| r.len() != want) {
            return Err(ModelError::RowLength {
                at: ctx.at(&key.key(k).index(row)),
                row,
                len: r.len(),
                expected: want,
                what,
            });
        }
    }
    if inputs.len() != targets.len() || inputs.is_empty() {
        return Err(ModelError::Conflict {
            at: ctx.at(&key.key("targets")),
            problem: format!(
                "{} target rows for {} input rows",
                targets.len(),
                inputs.len()
            ),
            expected: "the same number (≥ 1) of `inputs` and `targets` rows".to_string(),
        });
    }
    Ok(inputs
        .iter()
        .zip(targets)
        .map(|(u, t)| Example {
            inputs: u.clone(),
            targets: t.clone(),
        })
        .collect())
}

/// Splits a CSV line into trimmed fields, removing one pair of surrounding double quotes.
fn fields(line: &str) -> Vec<String> {
    line.split(',')
        .map(|f| {
            let f = f.trim();
            f.strip_prefix('"')
                .and_then(|g| g.strip_suffix('"'))
                .unwrap_or(f)
                .to_string()
        })
        .collect()
}

type CsvExamples = (Vec<Example>, Vec<String>, PathBuf);

/// The lines of a CSV file that carry data (not blank, not `#` comments), read one at a time
/// within the dataset limits: total bytes, bytes per line, UTF-8 checked per line.
struct CsvLines<'p, R> {
    reader: R,
    path: &'p Path,
    limits: Limits,
    /// Lines read so far (the number of the last one, from 1).
    line: usize,
    /// Bytes read so far.
    bytes: u64,
    buf: Vec<u8>,
}

impl<R: BufRead> CsvLines<'_, R> {
    /// The next data line and its number (from 1), `None` at the end of the file.
    fn next(&mut self) -> Result<Option<(usize, String)>, ModelError> {
        let max_line = self.limits.max_line_bytes;
        loop {
            self.buf.clear();
            // Room for the longest allowed line and its `\r\n`, no more.
            let n = (&mut self.reader)
                .take((max_line as u64).saturating_add(2))
                .read_until(b'\n', &mut self.buf)
                .map_err(|e| self.error(self.line + 1, format!("cannot read the line: {e}")))?;
            if n == 0 {
                return Ok(None);
            }
            self.line += 1;
            self.bytes += n as u64;
            let too_large = |line, quantity, max| ModelError::CsvTooLarge {
                csv: self.path.to_path_buf(),
                line,
                quantity,
                max,
            };
            if self.bytes > self.limits.max_dataset_bytes {
                return Err(too_large(self.line, "bytes", self.limits.max_dataset_bytes));
            }
            let mut content = self.buf.as_slice();
            if self.line == 1 {
                // Spreadsheets often start a UTF-8 file with a byte-order mark.
                content = content.strip_prefix(b"\xef\xbb\xbf").unwrap_or(content);
            }
            if let Some(c) = content.strip_suffix(b"\n") {
                content = c.strip_suffix(b"\r").unwrap_or(c);
            }
            if content.len() > max_line {
                return Err(too_large(self.line, "bytes in one line", max_line as u64));
            }
            let text = std::str::from_utf8(content).map_err(|e| {
                self.error(
                    self.line,
                    format!("byte {} of the line is not UTF-8 text", e.valid_up_to() + 1),
                )
            })?;
            let t = text.trim();
            if !t.is_empty() && !t.starts_with('#') {
                return Ok(Some((self.line, text.to_string())));
            }
        }
    }

    fn error(&self, line: usize, problem: String) -> ModelError {
        ModelError::Csv {
            csv: self.path.to_path_buf(),
            line,
            problem,
            expected: "a UTF-8 text file of comma-separated lines".to_string(),
        }
    }
}

fn csv_examples(
    d: &DatasetFile,
    file: &str,
    ctx: &Ctx<'_>,
    key: &KeyPath,
    n_in: usize,
    n_out: usize,
) -> Result<CsvExamples, ModelError> {
    let missing = |k: &str| ModelError::Schema {
        at: ctx.at(&key.key(k)),
        problem: format!("missing key `{k}`"),
        expected: format!("`{k}` beside `csv`"),
    };
    let features = d.features.as_ref().ok_or_else(|| missing("features"))?;
    let target = d.target.as_ref().ok_or_else(|| missing("target"))?;
    let [lo, hi] = d.encoding.as_ref().map_or([-1.0, 1.0], |e| e.scale);
    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
        return Err(ModelError::Conflict {
            at: ctx.at(&key.key("encoding").key("scale")),
            problem: format!("scale [{lo}, {hi}] is not an interval"),
            expected: "[lo, hi] with finite lo < hi".to_string(),
        });
    }
    if features.len() != n_in {
        return Err(ModelError::Conflict {
            at: ctx.at(&key.key("features")),
            problem: format!("{} feature columns for {n_in} model inputs", features.len()),
            expected: "one feature column per model input".to_string(),
        });
    }

    let base = ctx.file.parent().unwrap_or(Path::new(""));
    let path = base.join(file);
    let limits = ctx.limits;
    let (handle, len) = open_regular(&path).map_err(|e| match e {
        OpenError::NotRegular(kind) => ModelError::CsvNotAFile {
            at: ctx.at(&key.key("csv")),
            csv: path.clone(),
            kind,
        },
        OpenError::Io(source) => ModelError::CsvRead {
            at: ctx.at(&key.key("csv")),
            csv: path.clone(),
            source,
        },
    })?;
    if len > limits.max_dataset_bytes {
        return Err(ModelError::CsvTooLarge {
            csv: path.clone(),
            line: 1,
            quantity: "bytes",
            max: limits.max_dataset_bytes,
        });
    }
    let csv_err = |line: usize, problem: String, expected: &str| ModelError::Csv {
        csv: path.clone(),
        line,
        problem,
        expected: expected.to_string(),
    };
    let mut lines = CsvLines {
        // One byte past the cap, so that a file that grew since `len` was read is caught.
        reader: BufReader::new(handle.take(limits.max_dataset_bytes.saturating_add(1))),
        path: &path,
        limits,
        line: 0,
        bytes: 0,
        buf: Vec::new(),
    };
    let (header_line, header) = lines.next()?.map(|(i, l)| (i, fields(&l))).ok_or_else(|| {
        csv_err(
            1,
            "the file has no header row".into(),
            "a header row of column names, then data rows",
        )
    })?;
    if header.len() > limits.max_columns {
        return Err(ModelError::CsvTooLarge {
            csv: path.clone(),
            line: header_line,
            quantity: "columns",
            max: limits.max_columns as u64,
        });
    }

    let resolve = |c: &Column, k: KeyPath| -> Result<usize, ModelError> {
        let found = match c {
            Column::Name(n) => header.iter().position(|h| h == n),
            Column::Index(i) => (*i < header.len()).then_some(*i),
        };
        found.ok_or_else(|| ModelError::Conflict {
            at: ctx.at(&k),
            problem: format!(
                "column {}{} is not in the header of {} ({})",
                match c {
                    Column::Name(n) => format!("`{n}`"),
                    Column::Index(i) => i.to_string(),
                },
                DidYouMean(match c {
                    Column::Name(n) => {
                        let names: Vec<&str> = header.iter().map(String::as_str).collect();
                        nearest(n, &names).map(str::to_string)
                    }
                    Column::Index(_) => None,
                }),
                path.display(),
                header.join(", ")
            ),
            expected: format!("one of the header names or an index < {}", header.len()),
        })
    };
    let feat_cols = features
        .iter()
        .enumerate()
        .map(|(i, c)| resolve(c, key.key("features").index(i)))
        .collect::<Result<Vec<_>, _>>()?;
    let target_col = resolve(target, key.key("target"))?;

    let mut raw: Vec<Vec<f64>> = Vec::new();
    let mut labels: Vec<String> = Vec::new();
    while let Some((line, l)) = lines.next()? {
        if raw.len() >= limits.max_rows {
            return Err(ModelError::CsvTooLarge {
                csv: path.clone(),
                line,
                quantity: "data rows",
                max: limits.max_rows as u64,
            });
        }
        let f = fields(&l);
        if f.len() != header.len() {
            return Err(csv_err(
                line,
                format!(
                    "the row has {} fields but the header has {}",
                    f.len(),
                    header.len()
                ),
                "as many comma-separated fields as header columns",
            ));
        }
        let mut row = Vec::with_capacity(feat_cols.len());
        for &c in &feat_cols {
            let v: f64 = f[c].parse().map_err(|_| {
                csv_err(
                    line,
                    format!("`{}` in column `{}` is not a number", f[c], header[c]),
                    "a number in every feature column",
                )
            })?;
            row.push(v);
        }
        raw.push(row);
        labels.push(f[target_col].clone());
    }
    if raw.is_empty() {
        return Err(csv_err(
            header_line,
            "the file has a header but no data rows".into(),
            "at least one data row",
        ));
    }

    // Features: [min, max] of each column → [lo, hi].
    for j in 0..feat_cols.len() {
        let (mn, mx) = raw
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), r| {
                (a.min(r[j]), b.max(r[j]))
            });
        for r in &mut raw {
            r[j] = if mx > mn {
                lo + (hi - lo) * (r[j] - mn) / (mx - mn)
            } else {
                0.5 * (lo + hi)
            };
        }
    }

    // Targets.
    let numbers: Option<Vec<f64>> = labels.iter().map(|s| s.parse().ok()).collect();
    let mut classes: Vec<String> = labels.clone();
    match &numbers {
        Some(_) => classes.sort_by(|a, b| {
            let (x, y): (f64, f64) = (a.parse().unwrap_or(0.0), b.parse().unwrap_or(0.0));
            x.total_cmp(&y)
        }),
        None => classes.sort(),
    }
    classes.dedup();
    let k = classes.len();
    let targets: Vec<Vec<f64>> = if n_out == k && k >= 2 {
        labels
            .iter()
            .map(|l| {
                classes
                    .iter()
                    .map(|c| if c == l { 1.0 } else { -1.0 })
                    .collect()
            })
            .collect()
    } else if let (1, Some(x)) = (n_out, &numbers) {
        let (mn, mx) = x
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        classes.clear();
        x.iter()
            .map(|&v| {
                vec![if mx > mn {
                    -1.0 + 2.0 * (v - mn) / (mx - mn)
                } else {
                    0.0
                }]
            })
            .collect()
    } else if n_out == 1 && k == 2 {
        labels
            .iter()
            .map(|l| vec![if *l == classes[0] { -1.0 } else { 1.0 }])
            .collect()
    } else {
        return Err(ModelError::Conflict {
            at: ctx.at(&key.key("target")),
            problem: format!(
                "column `{}` has {k} classes ({}) but the model has {n_out} outputs",
                header[target_col],
                classes.join(", ")
            ),
            expected: format!(
                "{k} outputs (one-hot), or 1 output with a numeric or two-class target"
            ),
        });
    };
    let examples = raw
        .into_iter()
        .zip(targets)
        .map(|(inputs, targets)| Example { inputs, targets })
        .collect();
    Ok((examples, classes, path))
}
