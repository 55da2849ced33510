//! Values and settings: `value`/`init` of families and parameters, and the settings sections
//! (state, training, preparation, jumps) with their range checks.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::sites::{named_sites, pauli, site_list, SITE_SETS};
use super::Geometry;
use crate::hamiltonian::error::ModelError;
use crate::hamiltonian::keypath::{Ctx, KeyPath};
use crate::hamiltonian::model::{Init, JumpFile, JumpOpFile, ModelFile, Selector, TermFile};
use crate::hamiltonian::settings::{Jump, Preparation, Settings, StateChoice, Training};
use crate::hamiltonian::suggest::{self, DidYouMean};
use crate::pauli::{Letter, PauliString, PauliSum};
use crate::scalar::C64;

/// Exactly one of `value` and `init`, and a valid `init`.
pub(super) fn check_value_or_init(
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
pub(super) fn value_or_init(
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
pub(super) fn check_range(
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

pub(super) fn build_settings(
    file: &ModelFile,
    geo: &Geometry,
    ctx: &Ctx<'_>,
) -> Result<Settings, ModelError> {
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

pub(super) fn check_training(t: &Training, k: &KeyPath, ctx: &Ctx<'_>) -> Result<(), ModelError> {
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
    )?;
    check_range(
        t.weight_decay,
        t.weight_decay >= 0.0,
        "a finite weight decay ≥ 0",
        &k.key("weight_decay"),
        ctx,
    )
}

/// One `lindblad.jumps` entry, expanded to one [`Jump`] per qubit for named operators.
pub(super) fn build_jump(
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
