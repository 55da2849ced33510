//! Where terms act: the lattice, the qubit count, Pauli strings, the input/output sites and
//! the named site sets (`all`, `edges`, `inputs`, …) that families and jumps expand over.

use super::Geometry;
use crate::hamiltonian::domain::hidden;
use crate::hamiltonian::error::ModelError;
use crate::hamiltonian::keypath::{Ctx, KeyPath};
use crate::hamiltonian::lattice::Lattice;
use crate::hamiltonian::model::{CouplingFile, Item, LatticeFile, Selector, Shape};
use crate::hamiltonian::suggest::{self, DidYouMean};
use crate::pauli::{PauliString, MAX_QUBITS};

pub(super) fn build_lattice(l: &LatticeFile, ctx: &Ctx<'_>) -> Result<Lattice, ModelError> {
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

pub(super) fn qubit_count(
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
pub(super) fn pauli(
    text: &str,
    qubits: usize,
    k: &KeyPath,
    ctx: &Ctx<'_>,
) -> Result<PauliString, ModelError> {
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
pub(super) fn io_key(name: &str, sel: Option<&Selector>, i: usize) -> KeyPath {
    let k = KeyPath::root().key(name);
    match sel {
        Some(Selector::List(_)) => k.index(i),
        _ => k,
    }
}

/// Named site sets: `sites`/`all`, `hidden`, `inputs`, `outputs`, `left-column`,
/// `right-column`. `None` for an unknown name; `Err` if the name needs a lattice.
pub(super) fn named_sites(
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
pub(super) fn site_list(
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
pub(super) fn io_sites(
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
pub(super) const SITE_SETS: &[&str] = &[
    "sites",
    "all",
    "hidden",
    "inputs",
    "outputs",
    "left-column",
    "right-column",
];

/// The Pauli strings of a coupling family, in placement order: one list per edge or site,
/// holding the strings that share that placement's coefficient (one string, or `X_iX_j`,
/// `Y_iY_j`, `Z_iZ_j` for a Heisenberg bond).
pub(super) fn family_strings(
    c: &CouplingFile,
    k: &KeyPath,
    geo: &Geometry,
    ctx: &Ctx<'_>,
) -> Result<Vec<Vec<PauliString>>, ModelError> {
    let letters = c.family.letters();
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
                letters
                    .iter()
                    .map(|&l| {
                        PauliString::from_letters(&[(l, a), (l, b)]).expect("distinct qubits < 64")
                    })
                    .collect()
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
            .map(|q| letters.iter().map(|&l| PauliString::single(l, q)).collect())
            .collect())
    }
}

pub(super) fn lattice_edges(
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
