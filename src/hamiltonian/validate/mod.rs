//! From the file schema ([`super::model`]) to the domain ([`Model`]): every check that needs
//! more than one key (qubit ranges, duplicates, overlaps, lattice placement, Hermiticity),
//! every random initial value, and the settings sections.
//!
//! Errors carry a key path; [`Ctx::at`] turns it into a file position only when an error is
//! reported.

use std::collections::HashMap;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::dataset;
use super::domain::{Model, Param, Source};
use super::error::ModelError;
use super::keypath::{Ctx, KeyPath};
use super::lattice::Lattice;
use super::model::{ModelFile, ParamFile};
use crate::pauli::{PauliString, PauliSum};

mod sections;
mod sites;

use sections::{build_settings, check_value_or_init, value_or_init};
use sites::{build_lattice, family_strings, io_key, io_sites, pauli, qubit_count};

/// Imaginary parts of merged fixed coefficients at most this (relative to `max(1, |c|)`) are
/// rounding, not input.
const HERMITIAN_TOL: f64 = 1e-12;

/// Largest sum of coefficient magnitudes `Σ|c|` a model may have (fixed terms, initial
/// parameter values and the largest example's input fields). `Σ|c|` bounds `‖H‖`, and the
/// rounding error of `H·ψ` is about `ε‖H‖`: above `1e12` even the loosest useful absolute
/// tolerance (1e-3) is below the rounding floor, and the squares in residual norms approach
/// overflow long before `f64::MAX`.
pub const MAX_COEFF_SUM: f64 = 1e12;

/// RNG streams of the model seed: `params[i]` draws from stream `i`, `couplings[k]` from
/// `COUPLING_STREAM + k` (so adding one family does not change the others' values).
const COUPLING_STREAM: u64 = 1 << 32;

/// The ChaCha8 generator of `seed`, positioned on `stream`.
pub(crate) fn rng_for(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// Builds the domain model from a deserialized file.
pub(crate) fn build(file: ModelFile, ctx: &Ctx<'_>, sha256: String) -> Result<Model, ModelError> {
    let root = KeyPath::root();
    let version = match file.version {
        None | Some(1) => 1,
        Some(v) => {
            return Err(ModelError::Version {
                at: ctx.at(&root.key("version")),
                version: v,
            })
        }
    };
    let lattice = file
        .lattice
        .as_ref()
        .map(|l| build_lattice(l, ctx))
        .transpose()?;
    let qubits = qubit_count(file.qubits, lattice, ctx)?;
    let geo = Geometry {
        qubits,
        lattice,
        inputs: Vec::new(),
        outputs: Vec::new(),
    };
    let inputs = io_sites(file.inputs.as_ref(), "inputs", &geo, ctx)?;
    let outputs = io_sites(file.outputs.as_ref(), "outputs", &geo, ctx)?;
    if let Some((j, &q)) = outputs.iter().enumerate().find(|(_, q)| inputs.contains(q)) {
        let i = inputs.iter().position(|&p| p == q).unwrap_or(0);
        return Err(ModelError::InputOutputOverlap {
            at: ctx.at(&io_key("outputs", file.outputs.as_ref(), j)),
            qubit: q,
            input: io_key("inputs", file.inputs.as_ref(), i).to_string(),
        });
    }
    let geo = Geometry {
        inputs,
        outputs,
        ..geo
    };
    let seed = file.seed.unwrap_or(0);

    // Fixed part: explicit terms, then fixed families.
    let mut fixed = PauliSum::new(qubits);
    let mut fixed_keys: Vec<(PauliString, KeyPath)> = Vec::new();
    // Every coefficient of H with the key it comes from, for the scale check.
    let mut scale = CoefficientScale::default();
    for (i, t) in file.terms.iter().enumerate() {
        let k = root.key("terms").index(i);
        let p = pauli(&t.pauli, qubits, &k.key("pauli"), ctx)?;
        fixed.add(p, t.coeff.0);
        scale.add(t.coeff.0.norm(), || k.key("coeff"));
        fixed_keys.push((p, k.key("coeff")));
    }

    // Trainable part: explicit params, then trainable families.
    let mut params = Vec::new();
    let mut seen: HashMap<PauliString, KeyPath> = HashMap::new();
    let mut claim = |p: PauliString, k: KeyPath| -> Result<(), ModelError> {
        if let Some(first) = seen.get(&p) {
            return Err(ModelError::DuplicateParam {
                at: ctx.at(&k),
                label: p.to_string(),
                first: first.to_string(),
            });
        }
        seen.insert(p, k);
        Ok(())
    };
    for (i, pf) in file.params.iter().enumerate() {
        let k = root.key("params").index(i);
        let strings = param_strings(pf, qubits, &k, ctx)?;
        for (j, &(p, _)) in strings.iter().enumerate() {
            claim(p, param_key(&k, pf, j))?;
        }
        let mut rng = rng_for(seed, i as u64);
        let value = value_or_init(pf.value, pf.init, &k, &mut rng, ctx)?;
        // A tied θ enters H once per string, scaled by its coefficient.
        let weight: f64 = strings.iter().map(|(_, c)| c.abs()).sum();
        scale.add(value.abs() * weight, || value_key(&k, pf.value));
        let label = match &pf.pauli {
            Some(text) => text.clone(),
            None => Param::tied_label(&strings),
        };
        params.push(Param {
            label,
            pauli: strings[0].0,
            value,
            family: None,
            strings,
        });
    }
    for (i, c) in file.couplings.iter().enumerate() {
        let k = root.key("couplings").index(i);
        let placements = family_strings(c, &k, &geo, ctx)?;
        let mut rng = rng_for(seed, COUPLING_STREAM + i as u64);
        check_value_or_init(c.value, c.init, &k, ctx)?;
        for tied in placements {
            let v = value_or_init(c.value, c.init, &k, &mut rng, ctx)?;
            scale.add(v.abs() * tied.len() as f64, || value_key(&k, c.value));
            if c.trainable {
                for &p in &tied {
                    claim(p, k.clone())?;
                }
                let strings: Vec<(PauliString, f64)> = tied.iter().map(|&p| (p, 1.0)).collect();
                params.push(Param {
                    label: Param::tied_label(&strings),
                    pauli: tied[0],
                    value: v,
                    family: Some(c.family.name().to_string()),
                    strings,
                });
            } else {
                for p in tied {
                    fixed.add(p, v);
                }
            }
        }
    }

    // H_fixed must be Hermitian: no imaginary part may survive merging.
    fixed.simplify(0.0);
    if let Some(&(p, c)) = fixed
        .terms()
        .iter()
        .find(|(_, c)| c.im.abs() > HERMITIAN_TOL * c.norm().max(1.0))
    {
        let key = fixed_keys
            .iter()
            .find(|(q, _)| *q == p)
            .map_or_else(|| root.key("terms"), |(_, k)| k.clone());
        return Err(ModelError::NonHermitian {
            at: ctx.at(&key),
            label: p.to_string(),
            imag: c.im,
        });
    }
    let mut real = PauliSum::new(qubits);
    for &(p, c) in fixed.terms() {
        real.add(p, c.re);
    }
    real.simplify(0.0);

    let settings = build_settings(&file, &geo, ctx)?;
    let dataset = file
        .dataset
        .as_ref()
        .map(|d| dataset::build(d, ctx, geo.inputs.len(), geo.outputs.len(), seed))
        .transpose()?;
    if let Some(d) = &dataset {
        // The input fields u_i Z_i of the example with the largest ones.
        let largest = d
            .train
            .iter()
            .chain(&d.test)
            .map(|ex| ex.inputs.iter().map(|u| u.abs()).sum::<f64>())
            .fold(0.0, |a: f64, b| {
                if b.is_nan() || a.is_nan() {
                    f64::NAN
                } else {
                    a.max(b)
                }
            });
        scale.add(largest, || root.key("dataset"));
    }
    scale.check(ctx)?;
    let name = match &file.name {
        Some(n) => {
            if let Some(problem) = label_problem(n) {
                return Err(ModelError::Schema {
                    at: ctx.at(&root.key("name")),
                    problem,
                    expected: "a label of letters, digits, `-`, `_` and `.`, not starting with \
                               a dot (it names the default output folder out/<name>)"
                        .into(),
                });
            }
            n.clone()
        }
        // A file stem is not the user's label: odd characters become `_` instead of an error.
        None => ctx
            .file
            .file_stem()
            .map_or_else(|| "model".to_string(), |s| safe_label(&s.to_string_lossy())),
    };
    Ok(Model {
        version,
        name,
        kind: file.kind.unwrap_or_default(),
        qubits,
        inputs: geo.inputs,
        outputs: geo.outputs,
        fixed: real,
        params,
        seed,
        source: Source {
            path: ctx.file.clone(),
            sha256,
        },
        lattice,
        dataset,
        settings,
    })
}

/// Longest model name accepted (a folder name must fit every file system).
const MAX_LABEL: usize = 100;

/// Whether `c` may appear in a model name: letters, digits, `-`, `_`, `.`.
fn label_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// Why `name` cannot be a model name, or `None` if it can. A name is a label that becomes one
/// folder name (`out/<name>`): no separators, no `..`, nothing hidden, nothing empty.
fn label_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("the name is empty".into());
    }
    if let Some(c) = name.chars().find(|&c| !label_char(c)) {
        return Some(format!("name {name:?} contains {c:?}"));
    }
    if name.starts_with('.') {
        return Some(format!("name {name:?} starts with a dot"));
    }
    if name.len() > MAX_LABEL {
        return Some(format!(
            "the name has {} characters, more than {MAX_LABEL}",
            name.len()
        ));
    }
    None
}

/// `s` made into a safe label: every character other than letters, digits, `-`, `_`, `.`
/// becomes `_`, a leading dot becomes `_`, the result is cut to 100 characters, and an empty
/// result is `model`. Valid names come back unchanged; the result always names one folder
/// inside its parent.
pub fn safe_label(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if label_char(c) { c } else { '_' })
        .take(MAX_LABEL)
        .collect();
    if out.starts_with('.') {
        out.replace_range(..1, "_");
    }
    if out.is_empty() {
        out.push_str("model");
    }
    out
}

/// The running sum `Σ|c|` of a model's coefficients and the key of its largest (or first
/// non-finite) contribution.
#[derive(Default)]
struct CoefficientScale {
    sum: f64,
    worst: Option<(f64, KeyPath)>,
}

impl CoefficientScale {
    fn add(&mut self, magnitude: f64, key: impl FnOnce() -> KeyPath) {
        self.sum += magnitude;
        let replace = match &self.worst {
            None => true,
            Some((w, _)) => w.is_finite() && (magnitude > *w || magnitude.is_nan()),
        };
        if replace {
            self.worst = Some((magnitude, key()));
        }
    }

    /// [`ModelError::CoefficientScale`] if the sum is not finite or above [`MAX_COEFF_SUM`].
    fn check(self, ctx: &Ctx<'_>) -> Result<(), ModelError> {
        if self.sum <= MAX_COEFF_SUM {
            return Ok(());
        }
        let (value, key) = self.worst.unwrap_or((self.sum, KeyPath::root()));
        Err(ModelError::CoefficientScale {
            at: ctx.at(&key),
            value,
            sum: self.sum,
            max: MAX_COEFF_SUM,
        })
    }
}

/// The key of string `j` of a parameter: `pauli`, or `paulis[j]` for a tied one.
fn param_key(k: &KeyPath, pf: &ParamFile, j: usize) -> KeyPath {
    if pf.pauli.is_some() {
        k.key("pauli")
    } else {
        k.key("paulis").index(j)
    }
}

/// The strings of one `params` entry with their coefficients: `pauli` (coefficient 1) or
/// `paulis` with `coeffs` (default all 1). Exactly one of `pauli` and `paulis`; `paulis`
/// non-empty and without repeats; `coeffs` only with `paulis`, one finite non-zero number per
/// string; every string on the model's qubits.
fn param_strings(
    pf: &ParamFile,
    qubits: usize,
    k: &KeyPath,
    ctx: &Ctx<'_>,
) -> Result<Vec<(PauliString, f64)>, ModelError> {
    let texts: Vec<&str> = match (&pf.pauli, &pf.paulis) {
        (Some(_), Some(_)) => {
            return Err(ModelError::Conflict {
                at: ctx.at(&k.key("paulis")),
                problem: "both `pauli` and `paulis` are given".to_string(),
                expected: "`pauli: \"X0 X1\"` for one string or `paulis: [...]` for strings \
                           tied to one parameter, not both"
                    .to_string(),
            })
        }
        (None, None) => {
            return Err(ModelError::Schema {
                at: ctx.at(k),
                problem: "neither `pauli` nor `paulis` is given".to_string(),
                expected: "`pauli: \"X0 X1\"` or `paulis: [\"X0 X1\", \"Y0 Y1\"]`".to_string(),
            })
        }
        (Some(t), None) => vec![t.as_str()],
        (None, Some(list)) if list.is_empty() => {
            return Err(ModelError::Conflict {
                at: ctx.at(&k.key("paulis")),
                problem: "`paulis` is empty".to_string(),
                expected: "at least one Pauli string".to_string(),
            })
        }
        (None, Some(list)) => list.iter().map(String::as_str).collect(),
    };
    let coeffs: Vec<f64> = match (&pf.coeffs, &pf.paulis) {
        (None, _) => vec![1.0; texts.len()],
        (Some(_), None) => {
            return Err(ModelError::Conflict {
                at: ctx.at(&k.key("coeffs")),
                problem: "`coeffs` with a single `pauli`".to_string(),
                expected: "`coeffs` only beside `paulis` (one number per string)".to_string(),
            })
        }
        (Some(c), Some(_)) if c.len() != texts.len() => {
            return Err(ModelError::Conflict {
                at: ctx.at(&k.key("coeffs")),
                problem: format!("{} coefficients for {} strings", c.len(), texts.len()),
                expected: format!("one coefficient per string of `paulis` ({})", texts.len()),
            })
        }
        (Some(c), Some(_)) => {
            for (j, &v) in c.iter().enumerate() {
                sections::check_range(
                    v,
                    v != 0.0,
                    "a finite non-zero coefficient",
                    &k.key("coeffs").index(j),
                    ctx,
                )?;
            }
            c.clone()
        }
    };
    let mut out: Vec<(PauliString, f64)> = Vec::with_capacity(texts.len());
    for (j, (text, c)) in texts.into_iter().zip(coeffs).enumerate() {
        let kj = param_key(k, pf, j);
        let p = pauli(text, qubits, &kj, ctx)?;
        if let Some(first) = out.iter().position(|&(q, _)| q == p) {
            return Err(ModelError::DuplicateTiedString {
                at: ctx.at(&kj),
                label: p.to_string(),
                first: param_key(k, pf, first).to_string(),
            });
        }
        out.push((p, c));
    }
    Ok(out)
}

/// The key of a family's or parameter's number: `value` if given, else `init`.
fn value_key(k: &KeyPath, value: Option<f64>) -> KeyPath {
    k.key(if value.is_some() { "value" } else { "init" })
}

/// What named site sets refer to.
struct Geometry {
    qubits: usize,
    lattice: Option<Lattice>,
    inputs: Vec<usize>,
    outputs: Vec<usize>,
}
