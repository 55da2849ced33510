//! From the file schema ([`super::model`]) to the domain ([`Model`]): every check that needs
//! more than one key (qubit ranges, duplicates, overlaps, lattice placement, Hermiticity),
//! every random initial value, and the settings sections.
//!
//! Errors carry a key path; [`Ctx::at`] turns it into a file position only when an error is
//! reported.

use std::collections::HashMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::dataset;
use super::domain::{hidden, Model, Param, Source};
use super::error::ModelError;
use super::keypath::{Ctx, KeyPath};
use super::lattice::Lattice;
use super::model::{
    CouplingFile, Init, Item, JumpFile, JumpOpFile, LatticeFile, ModelFile, Selector, Shape,
    TermFile,
};
use super::settings::{Jump, Preparation, Settings, StateChoice, Training};
use super::suggest::{self, DidYouMean};
use crate::pauli::{Letter, PauliString, PauliSum, MAX_QUBITS};
use crate::scalar::C64;

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
        let p = pauli(&pf.pauli, qubits, &k.key("pauli"), ctx)?;
        claim(p, k.key("pauli"))?;
        let mut rng = rng_for(seed, i as u64);
        let value = value_or_init(pf.value, pf.init, &k, &mut rng, ctx)?;
        scale.add(value.abs(), || value_key(&k, pf.value));
        params.push(Param {
            label: pf.pauli.clone(),
            pauli: p,
            value,
            family: None,
        });
    }
    for (i, c) in file.couplings.iter().enumerate() {
        let k = root.key("couplings").index(i);
        let strings = family_strings(c, &k, &geo, ctx)?;
        let mut rng = rng_for(seed, COUPLING_STREAM + i as u64);
        check_value_or_init(c.value, c.init, &k, ctx)?;
        for p in strings {
            let v = value_or_init(c.value, c.init, &k, &mut rng, ctx)?;
            scale.add(v.abs(), || value_key(&k, c.value));
            if c.trainable {
                claim(p, k.clone())?;
                params.push(Param {
                    label: p.to_string(),
                    pauli: p,
                    value: v,
                    family: Some(c.family.name().to_string()),
                });
            } else {
                fixed.add(p, v);
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

fn build_lattice(l: &LatticeFile, ctx: &Ctx<'_>) -> Result<Lattice, ModelError> {
    let k = KeyPath::root().key("lattice");
    let (needed, forbidden): (&[&str], &[&str]) = match l.shape {
        Shape::Chain => (&["sites"], &["rows", "cols"]),
        Shape::Grid => (&["rows", "cols"], &["sites"]),
        Shape::AllToAll => (&["sites"], &["rows", "cols", "periodic"]),
    };
    let given = |name: &str| match name {
        "sites" => l.sites.is_some(),
        "rows" => l.rows.is_some(),
        "cols" => l.cols.is_some(),
        _ => l.periodic.is_some(),
    };
    let shape = match l.shape {
        Shape::Chain => "chain",
        Shape::Grid => "grid",
        Shape::AllToAll => "all-to-all",
    };
    let expected = match l.shape {
        Shape::Chain => "{shape: chain, sites: N, periodic: bool}",
        Shape::Grid => "{shape: grid, rows: R, cols: C, periodic: bool}",
        Shape::AllToAll => "{shape: all-to-all, sites: N}",
    };
    if let Some(f) = forbidden.iter().find(|f| given(f)) {
        return Err(ModelError::Conflict {
            at: ctx.at(&k.key(f)),
            problem: format!("`{f}` does not apply to a {shape} lattice"),
            expected: expected.to_string(),
        });
    }
    if let Some(n) = needed.iter().find(|n| !given(n)) {
        return Err(ModelError::Schema {
            at: ctx.at(&k.key(n)),
            problem: format!("missing key `{n}` of a {shape} lattice"),
            expected: expected.to_string(),
        });
    }
    let positive = |name: &str, v: Option<u64>| -> Result<usize, ModelError> {
        let v = v.unwrap_or(0);
        if v == 0 {
            return Err(ModelError::OutOfRange {
                at: ctx.at(&k.key(name)),
                value: 0.0,
                expected: "a number of sites ≥ 1",
            });
        }
        // Anything beyond 64 qubits is rejected by the caller with its size.
        Ok(usize::try_from(v).unwrap_or(usize::MAX).min(1 << 20))
    };
    let periodic = l.periodic.unwrap_or(false);
    Ok(match l.shape {
        Shape::Chain => Lattice::Chain {
            n: positive("sites", l.sites)?,
            periodic,
        },
        Shape::Grid => Lattice::Grid {
            rows: positive("rows", l.rows)?,
            cols: positive("cols", l.cols)?,
            periodic,
        },
        Shape::AllToAll => Lattice::AllToAll {
            n: positive("sites", l.sites)?,
        },
    })
}

fn qubit_count(
    written: Option<i64>,
    lattice: Option<Lattice>,
    ctx: &Ctx<'_>,
) -> Result<usize, ModelError> {
    let root = KeyPath::root();
    let from_file = match written {
        None => None,
        Some(q) if q <= 0 => {
            return Err(ModelError::QubitCount {
                at: ctx.at(&root.key("qubits")),
                qubits: q,
            })
        }
        Some(q) => {
            let q = usize::try_from(q).unwrap_or(usize::MAX);
            if q > MAX_QUBITS {
                return Err(ModelError::TooManyQubits {
                    at: ctx.at(&root.key("qubits")),
                    qubits: q,
                    max: MAX_QUBITS,
                });
            }
            Some(q)
        }
    };
    match (from_file, lattice.map(|l| l.len())) {
        (Some(q), Some(n)) if q != n => Err(ModelError::QubitMismatch {
            at: ctx.at(&root.key("qubits")),
            qubits: q,
            lattice: n,
        }),
        (_, Some(n)) if n > MAX_QUBITS => Err(ModelError::TooManyQubits {
            at: ctx.at(&root.key("lattice")),
            qubits: n,
            max: MAX_QUBITS,
        }),
        (Some(q), _) | (None, Some(q)) => Ok(q),
        (None, None) => Err(ModelError::Schema {
            at: ctx.at(&root),
            problem: "missing key `qubits`".to_string(),
            expected: "`qubits: N` or a `lattice` (a model needs a number of qubits)".to_string(),
        }),
    }
}

/// Parses a Pauli string of a model with `qubits` qubits.
fn pauli(text: &str, qubits: usize, k: &KeyPath, ctx: &Ctx<'_>) -> Result<PauliString, ModelError> {
    let p = PauliString::parse(text).map_err(|source| match source {
        crate::pauli::PauliError::QubitOutOfRange { qubit, .. } => ModelError::QubitOutOfRange {
            at: ctx.at(k),
            qubit,
            qubits,
        },
        source => ModelError::Pauli {
            at: ctx.at(k),
            source,
        },
    })?;
    if p.min_qubits() > qubits {
        return Err(ModelError::QubitOutOfRange {
            at: ctx.at(k),
            qubit: p.min_qubits() - 1,
            qubits,
        });
    }
    Ok(p)
}

/// Key path of element `i` of an `inputs`/`outputs` selector (the key itself for names).
fn io_key(name: &str, sel: Option<&Selector>, i: usize) -> KeyPath {
    let k = KeyPath::root().key(name);
    match sel {
        Some(Selector::List(_)) => k.index(i),
        _ => k,
    }
}

/// Named site sets: `sites`/`all`, `hidden`, `inputs`, `outputs`, `left-column`,
/// `right-column`. `None` for an unknown name; `Err` if the name needs a lattice.
fn named_sites(
    name: &str,
    allowed: &[&str],
    geo: &Geometry,
    k: &KeyPath,
    ctx: &Ctx<'_>,
) -> Result<Vec<usize>, ModelError> {
    if !allowed.contains(&name) {
        return Err(ModelError::Conflict {
            at: ctx.at(k),
            problem: format!(
                "`{name}` is not a site set here{}",
                DidYouMean(suggest::nearest(name, allowed))
            ),
            expected: format!(
                "one of {} or a list of qubit indices",
                allowed
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    let need_lattice = || {
        geo.lattice.ok_or_else(|| ModelError::Conflict {
            at: ctx.at(k),
            problem: format!("`{name}` needs a `lattice`"),
            expected: "a `lattice` key, or an explicit list of qubits".to_string(),
        })
    };
    Ok(match name {
        "sites" | "all" => (0..geo.qubits).collect(),
        "hidden" => hidden(geo.qubits, &geo.inputs, &geo.outputs),
        "inputs" => geo.inputs.clone(),
        "outputs" => geo.outputs.clone(),
        "left-column" => need_lattice()?.left_column(),
        "right-column" => need_lattice()?.right_column(),
        _ => unreachable!("checked against `allowed`"),
    })
}

/// A list of single qubits: in range and distinct.
fn site_list(
    items: &[Item],
    geo: &Geometry,
    k: &KeyPath,
    ctx: &Ctx<'_>,
) -> Result<Vec<usize>, ModelError> {
    let mut out: Vec<usize> = Vec::with_capacity(items.len());
    for (j, it) in items.iter().enumerate() {
        let kj = k.index(j);
        let q = match *it {
            Item::Site(q) => q,
            Item::Pair(..) => {
                return Err(ModelError::Conflict {
                    at: ctx.at(&kj),
                    problem: "a pair [i, j] where single qubits are listed".to_string(),
                    expected: "a qubit index".to_string(),
                })
            }
        };
        if q >= geo.qubits {
            return Err(ModelError::QubitOutOfRange {
                at: ctx.at(&kj),
                qubit: q,
                qubits: geo.qubits,
            });
        }
        if let Some(first) = out.iter().position(|&p| p == q) {
            return Err(ModelError::DuplicateQubit {
                at: ctx.at(&kj),
                qubit: q,
                first: k.index(first).to_string(),
            });
        }
        out.push(q);
    }
    Ok(out)
}

/// `inputs` / `outputs`: a list of qubits, or `left-column` / `right-column` of the lattice.
fn io_sites(
    sel: Option<&Selector>,
    name: &str,
    geo: &Geometry,
    ctx: &Ctx<'_>,
) -> Result<Vec<usize>, ModelError> {
    let k = KeyPath::root().key(name);
    match sel {
        None => Ok(Vec::new()),
        Some(Selector::Named(s)) => named_sites(s, &["left-column", "right-column"], geo, &k, ctx),
        Some(Selector::List(items)) => site_list(items, geo, &k, ctx),
    }
}

/// Site-set names a one-body family or a jump may use.
const SITE_SETS: &[&str] = &[
    "sites",
    "all",
    "hidden",
    "inputs",
    "outputs",
    "left-column",
    "right-column",
];

/// The Pauli strings of a coupling family, in placement order.
fn family_strings(
    c: &CouplingFile,
    k: &KeyPath,
    geo: &Geometry,
    ctx: &Ctx<'_>,
) -> Result<Vec<PauliString>, ModelError> {
    let letter = c.family.letter();
    let kon = k.key("on");
    let fam = c.family.name();
    if c.family.two_body() {
        let pairs: Vec<(usize, usize)> = match &c.on {
            None => lattice_edges(geo, &kon, fam, ctx)?,
            Some(Selector::Named(s)) if s == "edges" => lattice_edges(geo, &kon, fam, ctx)?,
            Some(Selector::Named(s)) => {
                let problem = if SITE_SETS.contains(&s.as_str()) {
                    format!("`{s}` selects single qubits but {fam} couples pairs")
                } else {
                    let edges = suggest::nearest(s, &["edges"]).map(str::to_string);
                    format!("`{s}` is not a set of pairs{}", DidYouMean(edges))
                };
                return Err(ModelError::Conflict {
                    at: ctx.at(&kon),
                    problem,
                    expected: "`edges` or a list of [i, j] pairs".to_string(),
                });
            }
            Some(Selector::List(items)) => {
                let mut v = Vec::with_capacity(items.len());
                for (j, it) in items.iter().enumerate() {
                    let kj = kon.index(j);
                    let Item::Pair(a, b) = *it else {
                        return Err(ModelError::Conflict {
                            at: ctx.at(&kj),
                            problem: format!("a single qubit in the two-body family {fam}"),
                            expected: "a pair [i, j]".to_string(),
                        });
                    };
                    for q in [a, b] {
                        if q >= geo.qubits {
                            return Err(ModelError::QubitOutOfRange {
                                at: ctx.at(&kj),
                                qubit: q,
                                qubits: geo.qubits,
                            });
                        }
                    }
                    if a == b {
                        return Err(ModelError::Conflict {
                            at: ctx.at(&kj),
                            problem: format!("the pair [{a}, {b}] couples a qubit to itself"),
                            expected: "two different qubits".to_string(),
                        });
                    }
                    v.push((a.min(b), a.max(b)));
                }
                v
            }
        };
        Ok(pairs
            .into_iter()
            .map(|(a, b)| {
                PauliString::from_letters(&[(letter, a), (letter, b)])
                    .expect("distinct qubits < 64")
            })
            .collect())
    } else {
        let sites = match &c.on {
            None => (0..geo.qubits).collect(),
            Some(Selector::Named(s)) if s == "edges" => {
                return Err(ModelError::Conflict {
                    at: ctx.at(&kon),
                    problem: format!("`edges` selects pairs but {fam} is a single-qubit field"),
                    expected: format!("a site set ({}) or a list of qubits", SITE_SETS.join(", ")),
                })
            }
            Some(Selector::Named(s)) => named_sites(s, SITE_SETS, geo, &kon, ctx)?,
            Some(Selector::List(items)) => site_list(items, geo, &kon, ctx)?,
        };
        Ok(sites
            .into_iter()
            .map(|q| PauliString::single(letter, q))
            .collect())
    }
}

fn lattice_edges(
    geo: &Geometry,
    kon: &KeyPath,
    fam: &str,
    ctx: &Ctx<'_>,
) -> Result<Vec<(usize, usize)>, ModelError> {
    geo.lattice
        .map(|l| l.edges())
        .ok_or_else(|| ModelError::Conflict {
            at: ctx.at(kon),
            problem: format!("{fam} on `edges` needs a `lattice`"),
            expected: "a `lattice` key, or `on:` a list of [i, j] pairs".to_string(),
        })
}

/// Exactly one of `value` and `init`, and a valid `init`.
fn check_value_or_init(
    value: Option<f64>,
    init: Option<Init>,
    k: &KeyPath,
    ctx: &Ctx<'_>,
) -> Result<(), ModelError> {
    match (value, init) {
        (Some(_), Some(_)) => Err(ModelError::Conflict {
            at: ctx.at(&k.key("init")),
            problem: "both `value` and `init` are given".to_string(),
            expected: "one of them".to_string(),
        }),
        (None, None) => Err(ModelError::Schema {
            at: ctx.at(k),
            problem: "neither `value` nor `init` is given".to_string(),
            expected: "`value: number` or `init: {uniform: [lo, hi]}` / `{normal: [mean, std]}`"
                .to_string(),
        }),
        (Some(v), None) if !v.is_finite() => Err(ModelError::OutOfRange {
            at: ctx.at(&k.key("value")),
            value: v,
            expected: "a finite number",
        }),
        (None, Some(Init::Uniform(lo, hi))) if !(lo.is_finite() && hi.is_finite() && lo <= hi) => {
            Err(ModelError::Conflict {
                at: ctx.at(&k.key("init")),
                problem: format!("uniform [{lo}, {hi}] is not an interval"),
                expected: "[lo, hi] with finite lo ≤ hi".to_string(),
            })
        }
        (None, Some(Init::Normal(m, s))) if !(m.is_finite() && s.is_finite() && s >= 0.0) => {
            Err(ModelError::Conflict {
                at: ctx.at(&k.key("init")),
                problem: format!("normal [{m}, {s}] is not a distribution"),
                expected: "[mean, std] with finite mean and std ≥ 0".to_string(),
            })
        }
        _ => Ok(()),
    }
}

/// The value written, or a draw from `init`.
fn value_or_init(
    value: Option<f64>,
    init: Option<Init>,
    k: &KeyPath,
    rng: &mut ChaCha8Rng,
    ctx: &Ctx<'_>,
) -> Result<f64, ModelError> {
    check_value_or_init(value, init, k, ctx)?;
    Ok(match (value, init) {
        (Some(v), _) => v,
        (None, Some(Init::Uniform(lo, hi))) => lo + (hi - lo) * rng.random::<f64>(),
        (None, Some(Init::Normal(m, s))) => {
            // Box–Muller; 1 − U ∈ (0, 1] keeps the logarithm finite.
            let u1 = 1.0 - rng.random::<f64>();
            let u2: f64 = rng.random();
            m + s * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
        }
        (None, None) => unreachable!("checked"),
    })
}

/// A number in range, or [`ModelError::OutOfRange`] at `k`.
fn check_range(
    v: f64,
    ok: bool,
    expected: &'static str,
    k: &KeyPath,
    ctx: &Ctx<'_>,
) -> Result<(), ModelError> {
    if ok && v.is_finite() {
        Ok(())
    } else {
        Err(ModelError::OutOfRange {
            at: ctx.at(k),
            value: v,
            expected,
        })
    }
}

fn build_settings(file: &ModelFile, geo: &Geometry, ctx: &Ctx<'_>) -> Result<Settings, ModelError> {
    let root = KeyPath::root();
    if let Some(b) = file.beta {
        check_range(b, b > 0.0, "a finite number > 0", &root.key("beta"), ctx)?;
    }
    if let Some(t) = file.temperature {
        check_range(
            t,
            t > 0.0,
            "a finite temperature > 0",
            &root.key("temperature"),
            ctx,
        )?;
    }
    if let Some(s) = file.shots {
        check_range(
            s as f64,
            s > 0,
            "an integer number of shots ≥ 1",
            &root.key("shots"),
            ctx,
        )?;
    }
    let state = file.state.unwrap_or_default();
    if let StateChoice::Eigen(k) = state {
        let dim = if geo.qubits >= 64 {
            u64::MAX
        } else {
            1u64 << geo.qubits
        };
        check_range(
            k as f64,
            (k as u64) < dim,
            "an eigenstate index < 2^qubits",
            &root.key("state").key("eigen"),
            ctx,
        )?;
    }
    if let Some(t) = &file.training {
        check_training(t, &root.key("training"), ctx)?;
    }
    let preparation = file.preparation.clone().unwrap_or_default();
    if let Preparation::Adiabatic(a) = &preparation {
        let k = root.key("preparation").key("adiabatic");
        check_range(
            a.time,
            a.time > 0.0,
            "a finite sweep time > 0",
            &k.key("time"),
            ctx,
        )?;
        check_range(
            a.steps as f64,
            a.steps >= 1,
            "at least 1 step",
            &k.key("steps"),
            ctx,
        )?;
        if let Some(table) = &a.table {
            let k = k.key("table");
            check_range(
                table.len() as f64,
                table.len() >= 2,
                "at least two rows [t/T, s]",
                &k,
                ctx,
            )?;
            let last = table.len() - 1;
            for (i, row) in table.iter().enumerate() {
                let (u, sv) = (row[0], row[1]);
                let at = k.index(i);
                let (u_ok, u_what) = match i {
                    0 => (u == 0.0, "t/T = 0 in the first row"),
                    _ if i == last => (u == 1.0, "t/T = 1 in the last row"),
                    _ => (u > table[i - 1][0] && u < 1.0, "t/T increasing, below 1"),
                };
                check_range(u, u_ok, u_what, &at.index(0), ctx)?;
                let (s_ok, s_what) = match i {
                    0 => (sv == 0.0, "s = 0 in the first row"),
                    _ if i == last => (sv == 1.0, "s = 1 in the last row"),
                    _ => (
                        sv >= table[i - 1][1] && sv <= 1.0,
                        "s non-decreasing, at most 1",
                    ),
                };
                check_range(sv, s_ok, s_what, &at.index(1), ctx)?;
            }
        }
    }
    let jumps = match &file.lindblad {
        None => Vec::new(),
        Some(l) => {
            let k = root.key("lindblad").key("jumps");
            let mut v = Vec::new();
            for (i, j) in l.jumps.iter().enumerate() {
                v.extend(build_jump(j, &k.index(i), geo, ctx)?);
            }
            v
        }
    };
    Ok(Settings {
        description: file.description.clone(),
        state,
        beta: file.beta,
        training: file.training.clone(),
        preparation,
        temperature: file.temperature,
        thermal_gradient: file.thermal_gradient,
        shots: file.shots,
        jumps,
    })
}

fn check_training(t: &Training, k: &KeyPath, ctx: &Ctx<'_>) -> Result<(), ModelError> {
    check_range(
        t.epochs as f64,
        t.epochs >= 1,
        "at least 1 epoch",
        &k.key("epochs"),
        ctx,
    )?;
    check_range(
        t.learning_rate,
        t.learning_rate > 0.0,
        "a finite learning rate > 0",
        &k.key("learning_rate"),
        ctx,
    )?;
    check_range(
        t.momentum,
        (0.0..1.0).contains(&t.momentum),
        "a momentum in [0, 1)",
        &k.key("momentum"),
        ctx,
    )?;
    check_range(
        t.batch_size as f64,
        t.batch_size >= 1,
        "a batch size ≥ 1",
        &k.key("batch_size"),
        ctx,
    )?;
    check_range(
        t.lr_decay,
        t.lr_decay > 0.0 && t.lr_decay <= 1.0,
        "a decay factor in (0, 1]",
        &k.key("lr_decay"),
        ctx,
    )
}

/// One `lindblad.jumps` entry, expanded to one [`Jump`] per qubit for named operators.
fn build_jump(
    j: &JumpFile,
    k: &KeyPath,
    geo: &Geometry,
    ctx: &Ctx<'_>,
) -> Result<Vec<Jump>, ModelError> {
    check_range(
        j.rate,
        j.rate >= 0.0,
        "a finite rate ≥ 0",
        &k.key("rate"),
        ctx,
    )?;
    let kq = k.key("qubits");
    match &j.op {
        JumpOpFile::Explicit(terms) => {
            if j.qubits.is_some() {
                return Err(ModelError::Conflict {
                    at: ctx.at(&kq),
                    problem: "`qubits` with an explicit Pauli-sum operator".to_string(),
                    expected: "qubit indices inside the Pauli strings of `op`, no `qubits`"
                        .to_string(),
                });
            }
            if terms.is_empty() {
                return Err(ModelError::Conflict {
                    at: ctx.at(&k.key("op")),
                    problem: "an empty operator".to_string(),
                    expected: "at least one {pauli, coeff} term".to_string(),
                });
            }
            let mut op = PauliSum::new(geo.qubits);
            for (i, TermFile { pauli: text, coeff }) in terms.iter().enumerate() {
                let p = pauli(text, geo.qubits, &k.key("op").index(i).key("pauli"), ctx)?;
                op.add(p, coeff.0);
            }
            op.simplify(0.0);
            Ok(vec![Jump {
                label: "explicit".to_string(),
                operator: op,
                rate: j.rate,
            }])
        }
        JumpOpFile::Named(name) => {
            let half = 0.5;
            let parts: &[(Letter, C64)] = match name.as_str() {
                "sigma-" => &[
                    (Letter::X, C64::new(half, 0.0)),
                    (Letter::Y, C64::new(0.0, -half)),
                ],
                "sigma+" => &[
                    (Letter::X, C64::new(half, 0.0)),
                    (Letter::Y, C64::new(0.0, half)),
                ],
                "X" => &[(Letter::X, C64::new(1.0, 0.0))],
                "Y" => &[(Letter::Y, C64::new(1.0, 0.0))],
                "Z" => &[(Letter::Z, C64::new(1.0, 0.0))],
                _ => {
                    let ops = ["sigma-", "sigma+", "X", "Y", "Z"];
                    return Err(ModelError::Conflict {
                        at: ctx.at(&k.key("op")),
                        problem: format!(
                            "unknown jump operator `{name}`{}",
                            DidYouMean(suggest::nearest(name, &ops))
                        ),
                        expected: "sigma-, sigma+, X, Y, Z or a list of {pauli, coeff} terms"
                            .to_string(),
                    });
                }
            };
            let sites = match &j.qubits {
                None => (0..geo.qubits).collect(),
                Some(Selector::Named(s)) => named_sites(s, SITE_SETS, geo, &kq, ctx)?,
                Some(Selector::List(items)) => site_list(items, geo, &kq, ctx)?,
            };
            Ok(sites
                .into_iter()
                .map(|q| {
                    let mut op = PauliSum::new(geo.qubits);
                    for &(l, c) in parts {
                        op.add(PauliString::single(l, q), c);
                    }
                    Jump {
                        label: format!("{name}@{q}"),
                        operator: op,
                        rate: j.rate,
                    }
                })
                .collect())
        }
    }
}
