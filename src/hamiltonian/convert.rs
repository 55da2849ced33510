//! Pauli sums in the formats other tools read and write: Qiskit's
//! `SparsePauliOp.to_list()` as JSON, OpenFermion's `QubitOperator` text, and qep's own YAML
//! (a model with fixed `terms` only). What `qep convert IN OUT` runs.
//!
//! * **Qiskit JSON**: a list of `[label, coeff]` pairs, `coeff` a number or `[re, im]`, every
//!   label one letter `I X Y Z` per qubit with **qubit 0 rightmost** (Qiskit's order):
//!   `[["IXZ", 0.5], ["YII", [0.25, 0.0]]]` is `0.5 X1 Z0 + 0.25 Y2`.
//! * **OpenFermion text**: `COEFF [X0 Z3] + COEFF [Y1] + …` as `str(QubitOperator)` prints it
//!   (one term a line, ending in ` +`), coefficients as Python writes them (`0.5`, `-1e-05`,
//!   `(0.5+0j)`, `0.25j`); `[]` is the identity, a missing coefficient is 1, `0` alone is the
//!   zero operator. The qubit count is the largest index plus one.
//! * **qep YAML**: `qubits` and `terms`, read back by every qep command. A model read from
//!   YAML is converted at its current parameters: `H_fixed + Σ_k θ_k P_k` (Eq. 16 at β = 0,
//!   without input fields).
//!
//! Readers are bounded ([`ConvertLimits`]) and every error names the file and a place in it:
//! line and column for text, the entry index for JSON lists. Equal strings are merged (their
//! coefficients summed) in the order they first appear; explicit zero coefficients are kept.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::pauli::{Letter, PauliString, PauliSum, MAX_QUBITS};
use crate::scalar::C64;

use super::ModelError;

/// A format of `qep convert`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PauliFormat {
    /// Qiskit `SparsePauliOp.to_list()` as JSON (`.json`).
    Qiskit,
    /// OpenFermion `QubitOperator` text (`.txt`, `.of`).
    OpenFermion,
    /// A qep model file (`.yaml`, `.yml`).
    Yaml,
}

impl PauliFormat {
    /// The format a file name's extension stands for: `.json` Qiskit, `.txt`/`.of`
    /// OpenFermion, `.yaml`/`.yml` qep; `None` for any other (or no) extension.
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "json" => Some(Self::Qiskit),
            "txt" | "of" => Some(Self::OpenFermion),
            "yaml" | "yml" => Some(Self::Yaml),
            _ => None,
        }
    }

    /// The name printed and recorded in reports: `qiskit`, `openfermion`, `yaml`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Qiskit => "qiskit",
            Self::OpenFermion => "openfermion",
            Self::Yaml => "yaml",
        }
    }
}

/// How much a conversion reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvertLimits {
    /// Largest input file, in bytes (default 16 MiB, as for model files).
    pub max_bytes: u64,
    /// Most terms (default 2²⁰; counted before merging).
    pub max_terms: usize,
}

impl Default for ConvertLimits {
    fn default() -> Self {
        Self {
            max_bytes: 16 << 20,
            max_terms: 1 << 20,
        }
    }
}

/// What a conversion read: the Pauli sum and where it came from.
#[derive(Clone, Debug)]
pub struct PauliInput {
    /// The operator, equal strings merged in order of first appearance.
    pub sum: PauliSum,
    /// SHA-256 (hex) of the input file's bytes.
    pub sha256: String,
    /// Trainable parameters evaluated at their current values (YAML input only; 0 otherwise).
    pub params_at_theta: usize,
}

/// Errors of reading or writing a converted Pauli sum.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// The input could not be read (missing, not a regular file, too large, not UTF-8).
    #[error("{file}: cannot read: {reason}")]
    Read {
        /// The input file.
        file: PathBuf,
        /// What went wrong, in words.
        reason: String,
    },
    /// Malformed text at a line and column.
    #[error("{file}:{line}:{col}: {problem}; expected {expected}")]
    Syntax {
        /// The input file.
        file: PathBuf,
        /// Line, from 1.
        line: usize,
        /// Column (characters), from 1.
        col: usize,
        /// What was found.
        problem: String,
        /// What is accepted there.
        expected: &'static str,
    },
    /// A JSON list entry that is not a valid term.
    #[error("{file}: entry [{index}]: {problem}; expected {expected}")]
    Entry {
        /// The input file.
        file: PathBuf,
        /// Index of the entry in the list, from 0.
        index: usize,
        /// What is wrong with it.
        problem: String,
        /// What is accepted.
        expected: &'static str,
    },
    /// More terms than [`ConvertLimits::max_terms`].
    #[error("{file}: more than {max} terms; expected at most {max}")]
    TooManyTerms {
        /// The input file.
        file: PathBuf,
        /// The limit.
        max: usize,
    },
    /// A term with a complex coefficient, which a qep model (a Hermitian Hamiltonian) cannot
    /// hold.
    #[error("term `{label}` has coefficient {re} {im:+}i; expected a real coefficient for a qep model (a Hamiltonian is Hermitian)")]
    NotHermitian {
        /// Canonical label of the string.
        label: String,
        /// Real part.
        re: f64,
        /// Imaginary part.
        im: f64,
    },
    /// A qubit count too small for the operator or above 64.
    #[error(
        "{requested} qubits requested, but the operator acts on {needed}; expected {needed}..=64"
    )]
    Qubits {
        /// The count asked for.
        requested: usize,
        /// The count the operator needs.
        needed: usize,
    },
    /// A qep model file that does not load.
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// Reads the Pauli sum of `path` in `format`, within `limits`. A YAML model is evaluated at
/// its current parameters (see the module docs).
///
/// # Errors
/// [`ConvertError::Read`], [`ConvertError::Syntax`], [`ConvertError::Entry`],
/// [`ConvertError::TooManyTerms`]; [`ConvertError::Model`] for YAML.
pub fn read(
    path: &Path,
    format: PauliFormat,
    limits: &ConvertLimits,
) -> Result<PauliInput, ConvertError> {
    if format == PauliFormat::Yaml {
        let model = super::load_with(
            path,
            &super::Limits {
                max_model_bytes: limits.max_bytes,
                ..super::Limits::default()
            },
        )?;
        let theta = model.theta();
        let sum = model.hamiltonian(&theta, None, 0.0)?;
        return Ok(PauliInput {
            sum: merged(sum.qubits(), sum.terms().iter().copied()),
            sha256: model.source.sha256.clone(),
            params_at_theta: theta.len(),
        });
    }
    let text = crate::input::read_text(path, limits.max_bytes).map_err(|e| ConvertError::Read {
        file: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let sum = match format {
        PauliFormat::Qiskit => parse_qiskit_json(&text, path, limits)?,
        _ => parse_openfermion(&text, path, limits)?,
    };
    Ok(PauliInput {
        sum,
        sha256: crate::report::sha256_hex(text.as_bytes()),
        params_at_theta: 0,
    })
}

/// `sum` on `qubits` qubits (wider than it needs, e.g. for an OpenFermion operator whose last
/// qubits are idle).
///
/// # Errors
/// [`ConvertError::Qubits`] if `qubits` is below what the terms act on, or above 64.
pub fn with_qubits(sum: &PauliSum, qubits: usize) -> Result<PauliSum, ConvertError> {
    let needed = sum
        .terms()
        .iter()
        .map(|(p, _)| p.min_qubits())
        .max()
        .unwrap_or(0);
    if qubits < needed.max(1) || qubits > MAX_QUBITS {
        return Err(ConvertError::Qubits {
            requested: qubits,
            needed: needed.max(1),
        });
    }
    Ok(merged(qubits, sum.terms().iter().copied()))
}

/// The terms on `n` qubits, equal strings merged in order of first appearance.
fn merged(n: usize, terms: impl IntoIterator<Item = (PauliString, C64)>) -> PauliSum {
    let mut order: Vec<(PauliString, C64)> = Vec::new();
    let mut at: HashMap<PauliString, usize> = HashMap::new();
    for (p, c) in terms {
        match at.get(&p) {
            Some(&i) => order[i].1 += c,
            None => {
                at.insert(p, order.len());
                order.push((p, c));
            }
        }
    }
    let mut sum = PauliSum::new(n);
    for (p, c) in order {
        sum.add(p, c);
    }
    sum
}

/// Parses Qiskit's `SparsePauliOp.to_list()` written as JSON (module docs); `file` names the
/// input in messages.
///
/// # Errors
/// [`ConvertError::Syntax`] for text that is not JSON (with its line and column),
/// [`ConvertError::Entry`] for a list entry that is not `[label, coeff]`, a label of another
/// length than the first, a letter other than `I X Y Z` or a non-finite coefficient,
/// [`ConvertError::TooManyTerms`].
pub fn parse_qiskit_json(
    text: &str,
    file: &Path,
    limits: &ConvertLimits,
) -> Result<PauliSum, ConvertError> {
    const EXPECTED: &str =
        "[\"IXZ\", re] or [\"IXZ\", [re, im]] (SparsePauliOp.to_list(), qubit 0 rightmost)";
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| ConvertError::Syntax {
            file: file.to_path_buf(),
            line: e.line().max(1),
            col: e.column().max(1),
            problem: format!("not JSON ({e})")
                .replace(&format!(" at line {} column {}", e.line(), e.column()), ""),
            expected: "a JSON list of [label, coeff] pairs",
        })?;
    let Some(entries) = value.as_array() else {
        return Err(ConvertError::Syntax {
            file: file.to_path_buf(),
            line: 1,
            col: 1,
            problem: format!("the document is a JSON {}", json_kind(&value)),
            expected: "a JSON list of [label, coeff] pairs",
        });
    };
    if entries.len() > limits.max_terms {
        return Err(ConvertError::TooManyTerms {
            file: file.to_path_buf(),
            max: limits.max_terms,
        });
    }
    let bad = |index: usize, problem: String| ConvertError::Entry {
        file: file.to_path_buf(),
        index,
        problem,
        expected: EXPECTED,
    };
    let mut n = None;
    let mut terms = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let (label, coeff) = match entry.as_array().map(Vec::as_slice) {
            Some([serde_json::Value::String(l), c]) => (l, c),
            _ => return Err(bad(i, format!("found {}", short(entry)))),
        };
        let width = label.chars().count();
        if width == 0 || width > MAX_QUBITS {
            return Err(bad(
                i,
                format!("label \"{label}\" has {width} letters (1..=64 allowed)"),
            ));
        }
        match n {
            None => n = Some(width),
            Some(w) if w != width => {
                return Err(bad(
                    i,
                    format!(
                        "label \"{label}\" has {width} letters, entry [0] has {w} (one letter \
                         per qubit)"
                    ),
                ))
            }
            Some(_) => {}
        }
        let mut letters = Vec::new();
        // Qiskit writes qubit 0 last.
        for (q, ch) in label.chars().rev().enumerate() {
            match ch {
                'I' => {}
                'X' | 'Y' | 'Z' => letters.extend(Letter::from_char(ch).map(|l| (l, q))),
                _ => return Err(bad(i, format!("label \"{label}\" has letter `{ch}`"))),
            }
        }
        let p = PauliString::from_letters(&letters).map_err(|e| bad(i, e.to_string()))?;
        let c = json_coeff(coeff).ok_or_else(|| bad(i, format!("coefficient {}", short(coeff))))?;
        terms.push((p, c));
    }
    let Some(n) = n else {
        return Err(ConvertError::Syntax {
            file: file.to_path_buf(),
            line: 1,
            col: 1,
            problem: "the list is empty, so the number of qubits is unknown".into(),
            expected: "at least one [label, coeff] pair (an all-I label with coefficient 0 for \
                       the zero operator)",
        });
    };
    Ok(merged(n, terms))
}

/// A JSON coefficient: a finite number or `[re, im]` of finite numbers.
fn json_coeff(v: &serde_json::Value) -> Option<C64> {
    let c = match v {
        serde_json::Value::Number(x) => C64::new(x.as_f64()?, 0.0),
        serde_json::Value::Array(a) => match a.as_slice() {
            [re, im] => C64::new(re.as_f64()?, im.as_f64()?),
            _ => return None,
        },
        _ => return None,
    };
    (c.re.is_finite() && c.im.is_finite()).then_some(c)
}

/// `a list`, `an object`, … for messages.
fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "list",
        serde_json::Value::Object(_) => "object",
    }
}

/// A JSON value as text, cut to 60 characters.
fn short(v: &serde_json::Value) -> String {
    let t = v.to_string();
    match t.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &t[..i]),
        None => t,
    }
}

/// Parses OpenFermion `QubitOperator` text (module docs); `file` names the input in messages.
///
/// # Errors
/// [`ConvertError::Syntax`] with the line and column of a bad coefficient, letter, index, a
/// repeated qubit in one term, a missing `[`, `]` or `+`; [`ConvertError::TooManyTerms`].
pub fn parse_openfermion(
    text: &str,
    file: &Path,
    limits: &ConvertLimits,
) -> Result<PauliSum, ConvertError> {
    let mut terms = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    if text.trim() == "0" {
        return Ok(PauliSum::new(1));
    }
    let pos = |i: usize| {
        let before = &chars[..i.min(chars.len())];
        let line = before.iter().filter(|&&c| c == '\n').count() + 1;
        let col = before.iter().rev().take_while(|&&c| c != '\n').count() + 1;
        (line, col)
    };
    let err = |i: usize, problem: String, expected: &'static str| {
        let (line, col) = pos(i);
        ConvertError::Syntax {
            file: file.to_path_buf(),
            line,
            col,
            problem,
            expected,
        }
    };
    let skip_ws = |mut i: usize| {
        while chars.get(i).is_some_and(|c| c.is_whitespace()) {
            i += 1;
        }
        i
    };
    let mut i = skip_ws(0);
    if i == chars.len() {
        return Err(err(
            i,
            "the text is empty".into(),
            "terms such as `0.5 [X0 Z3] + -0.25 [Y1]` (or `0` for the zero operator)",
        ));
    }
    loop {
        // Coefficient: everything up to `[`.
        let start = i;
        while chars.get(i).is_some_and(|&c| c != '[' && c != ']') {
            i += 1;
        }
        if chars.get(i) != Some(&'[') {
            return Err(err(
                start,
                "a term without `[`".into(),
                "COEFF [LETTERS] (e.g. `0.5 [X0 Z3]`)",
            ));
        }
        let coeff_text: String = chars[start..i]
            .iter()
            .filter(|c| !c.is_whitespace())
            .collect();
        let c = python_coeff(&coeff_text).ok_or_else(|| {
            err(
                start,
                format!("bad coefficient `{coeff_text}`"),
                "a finite number as Python prints it: 0.5, -1e-05, (0.5+0j), 0.25j",
            )
        })?;
        i += 1;
        let open = i;
        while chars.get(i).is_some_and(|&c| c != ']' && c != '[') {
            i += 1;
        }
        if chars.get(i) != Some(&']') {
            return Err(err(
                open - 1,
                "`[` without its `]`".into(),
                "LETTERS between [ and ], e.g. [X0 Z3]",
            ));
        }
        let p = of_term(&chars, open, i, &err)?;
        if terms.len() == limits.max_terms {
            return Err(ConvertError::TooManyTerms {
                file: file.to_path_buf(),
                max: limits.max_terms,
            });
        }
        terms.push((p, c));
        i = skip_ws(i + 1);
        match chars.get(i) {
            None => break,
            Some('+') => i = skip_ws(i + 1),
            Some('-') => {}
            Some(&ch) => {
                return Err(err(
                    i,
                    format!("`{ch}` after a term"),
                    "`+` between terms, or the end of the text",
                ))
            }
        }
        if i == chars.len() {
            return Err(err(i, "the text ends after `+`".into(), "another term"));
        }
    }
    let n = terms
        .iter()
        .map(|(p, _)| p.min_qubits())
        .max()
        .unwrap_or(0)
        .max(1);
    Ok(merged(n, terms))
}

/// The Pauli string between `[` (before `open`) and `]` (at `close`): `X0 Z3`, letters
/// followed by indices, separated by spaces; empty is the identity.
fn of_term(
    chars: &[char],
    open: usize,
    close: usize,
    err: &dyn Fn(usize, String, &'static str) -> ConvertError,
) -> Result<PauliString, ConvertError> {
    const EXPECTED: &str = "X, Y or Z followed by a qubit index < 64, e.g. X0 Z3";
    let mut letters: Vec<(Letter, usize)> = Vec::new();
    let mut i = open;
    while i < close {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        while i < close && !chars[i].is_whitespace() {
            i += 1;
        }
        let token: String = chars[start..i].iter().collect();
        let mut it = token.chars();
        let letter = match it.next() {
            Some(ch @ ('X' | 'Y' | 'Z')) => Letter::from_char(ch),
            _ => None,
        };
        let index = it
            .as_str()
            .parse::<usize>()
            .ok()
            .filter(|&q| q < MAX_QUBITS);
        let (Some(l), Some(q)) = (letter, index) else {
            return Err(err(start, format!("bad factor `{token}`"), EXPECTED));
        };
        if letters.iter().any(|&(_, r)| r == q) {
            return Err(err(
                start,
                format!("qubit {q} appears twice in one term"),
                "each qubit at most once per term",
            ));
        }
        letters.push((l, q));
    }
    PauliString::from_letters(&letters).map_err(|e| err(open, e.to_string(), EXPECTED))
}

/// A coefficient as Python prints a float or a complex (`0.5`, `-1e-05`, `(0.5-1j)`, `0.25j`,
/// `-(1+2j)`), or `""`/`"-"` for ±1. `None` if malformed or not finite.
fn python_coeff(t: &str) -> Option<C64> {
    let (sign, body) = match t.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, t.strip_prefix('+').unwrap_or(t)),
    };
    let body = match body.strip_prefix('(') {
        Some(inner) => inner.strip_suffix(')')?,
        None => body,
    };
    let c = if body.is_empty() {
        C64::new(1.0, 0.0)
    } else if let Some(z) = body.strip_suffix('j') {
        // `a+bj`: split at the last sign that is not the first character or an exponent's.
        let b = z.as_bytes();
        let split = (1..b.len())
            .rev()
            .find(|&k| (b[k] == b'+' || b[k] == b'-') && !matches!(b[k - 1], b'e' | b'E'));
        match split {
            Some(k) => C64::new(real(&z[..k])?, real(&z[k..])?),
            None => C64::new(0.0, real(z)?),
        }
    } else {
        C64::new(real(body)?, 0.0)
    };
    let c = c * sign;
    (c.re.is_finite() && c.im.is_finite()).then_some(c)
}

/// A finite real written in decimal (no `inf`, `nan`).
fn real(t: &str) -> Option<f64> {
    let ok = !t.is_empty()
        && t.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    ok.then(|| t.parse::<f64>().ok())
        .flatten()
        .filter(|x| x.is_finite())
}

/// The sum as Qiskit `SparsePauliOp.to_list()` JSON: a real coefficient as a number, a
/// complex one as `[re, im]` (`SparsePauliOp.from_list` takes the pairs once the lists are
/// made complex).
pub fn qiskit_json(sum: &PauliSum) -> String {
    let n = sum.qubits();
    let mut out = String::from("[");
    for (k, (p, c)) in sum.terms().iter().enumerate() {
        let label: String = (0..n).rev().map(|q| p.letter(q).as_char()).collect();
        let coeff = if c.im == 0.0 {
            serde_json::json!(c.re)
        } else {
            serde_json::json!([c.re, c.im])
        };
        out.push_str(if k == 0 { "\n  " } else { ",\n  " });
        out.push_str(&serde_json::json!([label, coeff]).to_string());
    }
    out.push_str("\n]\n");
    out
}

/// The sum as OpenFermion `QubitOperator` text, one term a line as `str(QubitOperator)`
/// prints it (`0.5 [X0 Z3] +`), complex coefficients as `(re+imj)`.
pub fn openfermion_text(sum: &PauliSum) -> String {
    if sum.is_empty() {
        return "0\n".into();
    }
    let mut out = String::new();
    for (k, (p, c)) in sum.terms().iter().enumerate() {
        if k > 0 {
            out.push_str(" +\n");
        }
        let coeff = if c.im == 0.0 {
            format!("{:?}", c.re)
        } else {
            let sign = if c.im.is_sign_negative() { '-' } else { '+' };
            format!("({:?}{sign}{:?}j)", c.re, c.im.abs())
        };
        let term = if p.is_identity() {
            String::new()
        } else {
            p.label()
        };
        out.push_str(&format!("{coeff} [{term}]"));
    }
    out.push('\n');
    out
}

/// The sum as a qep model file (`qubits` and `terms`), after `header` (each line becomes a
/// `#` comment). Checked by parsing it back, so what is written loads in every qep command.
///
/// # Errors
/// [`ConvertError::NotHermitian`] for a coefficient with an imaginary part above rounding
/// (1e-12 relative); [`ConvertError::Model`] if the text does not load back (e.g. the
/// coefficients sum to more than [`super::MAX_COEFF_SUM`]).
pub fn yaml_text(sum: &PauliSum, header: &str, path: &Path) -> Result<String, ConvertError> {
    let mut out = String::new();
    for line in header.lines() {
        out.push_str(&format!("# {line}\n"));
    }
    out.push_str(&format!("qubits: {}\nterms:", sum.qubits()));
    if sum.is_empty() {
        out.push_str(" []");
    }
    out.push('\n');
    for (p, c) in sum.terms() {
        if c.im.abs() > 1e-12 * c.norm().max(1.0) {
            return Err(ConvertError::NotHermitian {
                label: p.label(),
                re: c.re,
                im: c.im,
            });
        }
        out.push_str(&format!(
            "  - {{pauli: \"{}\", coeff: {:?}}}\n",
            p.label(),
            c.re
        ));
    }
    super::parse_str(&out, path)?;
    Ok(out)
}
