//! The versioned file schema: what a model file may contain, as `deny_unknown_fields` serde
//! structs. These types mirror the YAML one to one; [`super::validate`] checks them against
//! each other and turns them into the domain types ([`super::Model`], [`super::Settings`]).
//!
//! Forms that YAML writes in several ways (a coefficient as a number, `[re, im]` or
//! `{re, im}`; `state: ground` or `{eigen: K}`) have hand-written `Deserialize` impls whose
//! errors say every accepted form.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::settings::{Adiabatic, ModelKind, Preparation, StateChoice, ThermalGradient, Training};
use crate::scalar::C64;

/// A whole model file (schema version 1).
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a model: a YAML mapping with `qubits` or `lattice`, and `terms`, `params`, `couplings`, `inputs`, `outputs`, …"
)]
pub(crate) struct ModelFile {
    pub version: Option<i64>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub kind: Option<ModelKind>,
    pub qubits: Option<i64>,
    pub lattice: Option<LatticeFile>,
    pub inputs: Option<Selector>,
    pub outputs: Option<Selector>,
    pub seed: Option<u64>,
    #[serde(default)]
    pub couplings: Vec<CouplingFile>,
    #[serde(default)]
    pub terms: Vec<TermFile>,
    #[serde(default)]
    pub params: Vec<ParamFile>,
    pub state: Option<StateChoice>,
    pub beta: Option<f64>,
    pub dataset: Option<DatasetFile>,
    pub training: Option<Training>,
    pub preparation: Option<Preparation>,
    pub temperature: Option<f64>,
    pub thermal_gradient: Option<ThermalGradient>,
    pub shots: Option<u64>,
    pub lindblad: Option<LindbladFile>,
}

/// `lattice: {shape: chain|grid|all-to-all, sites, rows, cols, periodic}`.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a lattice: {shape: chain, sites: N} or {shape: grid, rows: R, cols: C} or {shape: all-to-all, sites: N}, with optional `periodic`"
)]
pub(crate) struct LatticeFile {
    pub shape: Shape,
    pub sites: Option<u64>,
    pub rows: Option<u64>,
    pub cols: Option<u64>,
    pub periodic: Option<bool>,
}

/// Lattice shapes.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Shape {
    Chain,
    Grid,
    AllToAll,
}

/// One entry of `terms` (fixed) : `{pauli: "X0 Z3", coeff: 0.7}`.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a term: {pauli: \"X0 Z3\", coeff: number | [re, im] | {re, im}}"
)]
pub(crate) struct TermFile {
    pub pauli: String,
    pub coeff: Coeff,
}

/// One entry of `params` (trainable): `{pauli: "X0 X2", value: 0.3}` or `init` instead of
/// `value`; a tied parameter names several strings one `θ` multiplies,
/// `{paulis: ["X0 X1", "Y0 Y1", "Z0 Z1"], coeffs: [1, 1, 0.5], value: 0.1}` (`coeffs`
/// optional, all 1 by default). Validation checks that exactly one of `pauli` and `paulis` is
/// given.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a parameter: {pauli: \"X0 X2\", value: 0.3}, {paulis: [\"X0 X1\", \"Y0 Y1\"], coeffs: [1, 1], value: 0.3} or {pauli: …, init: {uniform: [lo, hi]}}"
)]
pub(crate) struct ParamFile {
    pub pauli: Option<String>,
    pub paulis: Option<Vec<String>>,
    pub coeffs: Option<Vec<f64>>,
    pub value: Option<f64>,
    pub init: Option<Init>,
}

/// One entry of `couplings`: a family of terms of one type placed on lattice edges or sites.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a coupling family: {type: ZZ|XX|YY|heisenberg|X|Y|Z, on: …, trainable: bool, value: number | init: {…}}"
)]
pub(crate) struct CouplingFile {
    #[serde(rename = "type")]
    pub family: Family,
    pub on: Option<Selector>,
    #[serde(default)]
    pub trainable: bool,
    pub value: Option<f64>,
    pub init: Option<Init>,
}

/// Coupling families: two-body `ZZ XX YY`, the Heisenberg exchange `XX + YY + ZZ` on a
/// pair (one tied parameter per bond), one-body fields `X Y Z`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub(crate) enum Family {
    ZZ,
    XX,
    YY,
    #[serde(rename = "heisenberg")]
    Heisenberg,
    X,
    Y,
    Z,
}

impl Family {
    /// The name as written (`"ZZ"`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Family::ZZ => "ZZ",
            Family::XX => "XX",
            Family::YY => "YY",
            Family::Heisenberg => "heisenberg",
            Family::X => "X",
            Family::Y => "Y",
            Family::Z => "Z",
        }
    }

    /// Whether the family acts on pairs of qubits (edges) rather than single qubits.
    pub(crate) fn two_body(self) -> bool {
        matches!(
            self,
            Family::ZZ | Family::XX | Family::YY | Family::Heisenberg
        )
    }

    /// The Pauli letters of the family: one for `ZZ XX YY X Y Z`, all three (`X Y Z`) for
    /// the Heisenberg exchange, whose strings on one bond share one coefficient.
    pub(crate) fn letters(self) -> &'static [crate::pauli::Letter] {
        use crate::pauli::Letter;
        match self {
            Family::ZZ | Family::Z => &[Letter::Z],
            Family::XX | Family::X => &[Letter::X],
            Family::YY | Family::Y => &[Letter::Y],
            Family::Heisenberg => &[Letter::X, Letter::Y, Letter::Z],
        }
    }
}

/// `dataset`: inline `{inputs, targets}` or `{csv, features, target, encoding}`; validation
/// checks that exactly one form is used.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a dataset: {inputs: [[…]], targets: [[…]]} or {csv: file.csv, features: […], target: column}"
)]
pub(crate) struct DatasetFile {
    pub inputs: Option<Vec<Vec<f64>>>,
    pub targets: Option<Vec<Vec<f64>>>,
    pub csv: Option<String>,
    pub features: Option<Vec<Column>>,
    pub target: Option<Column>,
    pub test_fraction: Option<f64>,
    pub encoding: Option<EncodingFile>,
}

/// `encoding: {scale: [lo, hi]}`: the interval CSV features are mapped to.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an encoding: {scale: [lo, hi]}")]
pub(crate) struct EncodingFile {
    pub scale: [f64; 2],
}

/// `lindblad: {jumps: [...]}`.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "lindblad settings: {jumps: [{op, qubits, rate}, …]}"
)]
pub(crate) struct LindbladFile {
    pub jumps: Vec<JumpFile>,
}

/// One jump family: `{op: sigma-, qubits: all, rate: 0.1}` or `{op: [{pauli, coeff}, …],
/// rate: 0.1}`.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a jump: {op: sigma-|sigma+|X|Y|Z, qubits: [..] | all, rate: r} or {op: [{pauli, coeff}, …], rate: r}"
)]
pub(crate) struct JumpFile {
    pub op: JumpOpFile,
    pub qubits: Option<Selector>,
    pub rate: f64,
}

/// A jump operator: a named single-qubit operator or an explicit Pauli sum.
#[derive(Debug)]
pub(crate) enum JumpOpFile {
    Named(String),
    Explicit(Vec<TermFile>),
}

impl<'de> Deserialize<'de> for JumpOpFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = JumpOpFile;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("sigma-, sigma+, X, Y, Z or a list of {pauli, coeff} terms")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(JumpOpFile::Named(v.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
                let mut terms = Vec::new();
                while let Some(t) = s.next_element()? {
                    terms.push(t);
                }
                Ok(JumpOpFile::Explicit(terms))
            }
        }
        d.deserialize_any(V)
    }
}

/// A complex coefficient: `0.5`, `[re, im]` or `{re: .., im: ..}`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Coeff(pub C64);

impl<'de> Deserialize<'de> for Coeff {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Coeff;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number, [re, im] or {re: .., im: ..}")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Coeff, E> {
                Ok(Coeff(C64::new(v, 0.0)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Coeff, E> {
                Ok(Coeff(C64::new(v as f64, 0.0)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Coeff, E> {
                Ok(Coeff(C64::new(v as f64, 0.0)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Coeff, A::Error> {
                let re: f64 = s
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let im: f64 = s
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                if s.next_element::<de::IgnoredAny>()?.is_some() {
                    return Err(de::Error::invalid_length(3, &self));
                }
                Ok(Coeff(C64::new(re, im)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Coeff, A::Error> {
                let (mut re, mut im) = (None, None);
                while let Some(k) = m.next_key::<String>()? {
                    match k.as_str() {
                        "re" if re.is_none() => re = Some(m.next_value::<f64>()?),
                        "im" if im.is_none() => im = Some(m.next_value::<f64>()?),
                        "re" | "im" => return Err(de::Error::duplicate_field(static_key(&k))),
                        _ => return Err(de::Error::unknown_field(&k, &["re", "im"])),
                    }
                }
                Ok(Coeff(C64::new(re.unwrap_or(0.0), im.unwrap_or(0.0))))
            }
        }
        d.deserialize_any(V)
    }
}

fn static_key(k: &str) -> &'static str {
    if k == "re" {
        "re"
    } else {
        "im"
    }
}

/// The one entry `{key: value}` of a map whose key must be one of `keys` (the YAML forms
/// `{uniform: [lo, hi]}`, `{eigen: 2}`, `{adiabatic: {…}}`): the key and its value.
///
/// # Errors
/// serde's `invalid_length` for an empty map or one with a second entry, `unknown_field` for
/// a key not in `keys` (checked before the value is read), and the value's own errors.
fn single_entry<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    mut m: A,
    keys: &'static [&'static str],
    expected: &dyn de::Expected,
) -> Result<(String, T), A::Error> {
    let k: String = m
        .next_key()?
        .ok_or_else(|| de::Error::invalid_length(0, expected))?;
    if !keys.contains(&k.as_str()) {
        return Err(de::Error::unknown_field(&k, keys));
    }
    let v: T = m.next_value()?;
    if m.next_key::<de::IgnoredAny>()?.is_some() {
        return Err(de::Error::invalid_length(2, expected));
    }
    Ok((k, v))
}

/// A random initial value: `{uniform: [lo, hi]}` or `{normal: [mean, std]}`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Init {
    Uniform(f64, f64),
    Normal(f64, f64),
}

impl<'de> Deserialize<'de> for Init {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Init;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("{uniform: [lo, hi]} or {normal: [mean, std]}")
            }
            fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<Init, A::Error> {
                let (k, [a, b]) = single_entry(m, &["uniform", "normal"], &self)?;
                Ok(if k == "uniform" {
                    Init::Uniform(a, b)
                } else {
                    Init::Normal(a, b)
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// A column of a CSV file: its header name or its index (from 0).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Column {
    Name(String),
    Index(usize),
}

impl<'de> Deserialize<'de> for Column {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Column;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a column name or a column index (from 0)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Column, E> {
                Ok(Column::Name(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Column, E> {
                Ok(Column::Index(v as usize))
            }
        }
        d.deserialize_any(V)
    }
}

/// A set of qubits or edges as written: a name (`edges`, `sites`, `all`, `hidden`, `inputs`,
/// `outputs`, `left-column`, `right-column`; which names are allowed depends on the key, see
/// [`super::validate`]) or a list of qubits and `[i, j]` pairs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Selector {
    Named(String),
    List(Vec<Item>),
}

/// One element of a [`Selector`] list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Item {
    Site(usize),
    Pair(usize, usize),
}

impl<'de> Deserialize<'de> for Selector {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Selector;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a name such as `edges`, `hidden` or `left-column`, or a list of qubit indices or [i, j] pairs")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Selector, E> {
                Ok(Selector::Named(v.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Selector, A::Error> {
                let mut items = Vec::new();
                while let Some(i) = s.next_element()? {
                    items.push(i);
                }
                Ok(Selector::List(items))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Item;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a qubit index (integer ≥ 0) or a pair [i, j]")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Item, E> {
                Ok(Item::Site(usize::try_from(v).unwrap_or(usize::MAX)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Item, A::Error> {
                let i: u64 = s
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let j: u64 = s
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                if s.next_element::<de::IgnoredAny>()?.is_some() {
                    return Err(de::Error::invalid_length(3, &self));
                }
                let cast = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
                Ok(Item::Pair(cast(i), cast(j)))
            }
        }
        d.deserialize_any(V)
    }
}

/// `state: ground` or `state: {eigen: K}`.
impl<'de> Deserialize<'de> for StateChoice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StateChoice;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`ground` or {eigen: K} (K = 0 is the ground state)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StateChoice, E> {
                match v {
                    "ground" => Ok(StateChoice::Ground),
                    _ => Err(de::Error::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<StateChoice, A::Error> {
                let (_, n) = single_entry(m, &["eigen"], &self)?;
                Ok(StateChoice::Eigen(n))
            }
        }
        d.deserialize_any(V)
    }
}

/// `preparation: exact | cooling | {adiabatic: {time, steps, schedule}}`.
impl<'de> Deserialize<'de> for Preparation {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Preparation;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "`exact`, `cooling`, `adiabatic` or {adiabatic: {time, steps, schedule}}",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Preparation, E> {
                match v {
                    "exact" => Ok(Preparation::Exact),
                    "cooling" => Ok(Preparation::Cooling),
                    "adiabatic" => Ok(Preparation::Adiabatic(Adiabatic::default())),
                    _ => Err(de::Error::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<Preparation, A::Error> {
                let (_, a) = single_entry(m, &["adiabatic"], &self)?;
                Ok(Preparation::Adiabatic(a))
            }
        }
        d.deserialize_any(V)
    }
}
