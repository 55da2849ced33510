//! The loaded model: what the rest of qep uses ([`Model`], [`Param`], [`Source`]).

use std::path::PathBuf;

use serde::Serialize;

use super::dataset::Dataset;
use super::lattice::Lattice;
use super::settings::{ModelKind, Settings};
use crate::pauli::{PauliString, PauliSum};

/// A network Hamiltonian `H(β, θ, u, d)` (Eq. 16) as loaded from a model file: the fixed part,
/// the trainable terms, the input and output qubits, plus the file's dataset and settings.
/// Build the operator with [`Model::hamiltonian`].
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// Schema version of the file (1).
    pub version: u32,
    /// `name`, else the file stem.
    pub name: String,
    /// Quantum or classical EP.
    pub kind: ModelKind,
    /// Number of qubits `N` (1..=64).
    pub qubits: usize,
    /// Input qubits `I_in` (get `u_i Z_i`), in the order the example's `inputs` are given.
    pub inputs: Vec<usize>,
    /// Output qubits `I_out` (cost and clamp), in the order of the example's `targets`.
    pub outputs: Vec<usize>,
    /// `H_fixed`: explicit `terms` plus fixed coupling families, simplified (tolerance 0),
    /// real coefficients.
    pub fixed: PauliSum,
    /// Trainable terms `θ_k P_k` in file order: explicit `params` first, then the generated
    /// families in the order written (edges or sites in lattice order).
    pub params: Vec<Param>,
    /// Seed of every random draw made for this model (initial values, dataset split).
    pub seed: u64,
    /// Where the model came from.
    pub source: Source,
    /// The lattice, if the file has one.
    pub lattice: Option<Lattice>,
    /// The examples, if the file has a `dataset`.
    pub dataset: Option<Dataset>,
    /// The settings sections, typed and validated.
    pub settings: Settings,
}

impl Model {
    /// Every string of every parameter, in parameter order then string order (distinct: a
    /// string belongs to at most one parameter). For an untied model this is `P_1, …, P_K`.
    pub fn param_strings(&self) -> Vec<PauliString> {
        self.params
            .iter()
            .flat_map(|p| p.strings.iter().map(|&(s, _)| s))
            .collect()
    }

    /// Whether some parameter is tied ([`Param::is_tied`]).
    pub fn is_tied(&self) -> bool {
        self.params.iter().any(Param::is_tied)
    }

    /// Per-parameter values `Σ_j c_kj v_kj` from per-string values `v` in
    /// [`Model::param_strings`] order (the identity for an untied model).
    ///
    /// # Panics
    /// If `per_string.len()` is not the number of parameter strings (a caller bug).
    #[track_caller]
    pub fn tie(&self, per_string: &[f64]) -> Vec<f64> {
        let n: usize = self.params.iter().map(|p| p.strings.len()).sum();
        assert_eq!(per_string.len(), n, "one value per parameter string");
        let mut it = per_string.iter();
        self.params
            .iter()
            .map(|p| p.combine(|_| it.next().copied().unwrap_or(f64::NAN)))
            .collect()
    }
}

/// One trainable parameter `θ_k` and the operator it multiplies, `θ_k Σ_j c_kj P_kj`: one
/// Pauli string with coefficient 1 (`{pauli: "X0 X2"}` and the one-string families), or
/// several tied strings (`{paulis: [...], coeffs: [...]}`, a Heisenberg bond
/// `X_iX_j + Y_iY_j + Z_iZ_j`). Since `∂H/∂θ_k = Σ_j c_kj P_kj`, every EP estimate of
/// `θ_k` (Eq. 25–28) is the `c`-weighted sum of the estimates of its strings.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// For explicit `params`, the Pauli text exactly as written (e.g. `"X0 X2"`); for tied
    /// and generated parameters the canonical labels of the strings joined by ` + `, each
    /// coefficient other than 1 written before its string (`"X0 X1 + Y0 Y1 + 0.5 Z0 Z1"`).
    pub label: String,
    /// The first string `P_k1` (the only one of an untied parameter).
    pub pauli: PauliString,
    /// Initial value of `θ_k` (written, or drawn from the model's seed).
    pub value: f64,
    /// The coupling family that generated it (`"ZZ"`, `"X"`, `"heisenberg"`, …); `None` for
    /// explicit params.
    pub family: Option<String>,
    /// The strings `P_kj` with their coefficients `c_kj`, in the order written; distinct
    /// strings, at least one, `[(pauli, 1.0)]` for an untied parameter.
    pub strings: Vec<(PauliString, f64)>,
}

impl Param {
    /// An untied parameter `θ P` (coefficient 1).
    pub fn single(label: String, pauli: PauliString, value: f64, family: Option<String>) -> Self {
        Self {
            label,
            pauli,
            value,
            family,
            strings: vec![(pauli, 1.0)],
        }
    }

    /// Whether `θ_k` multiplies more than one string, or one string with a coefficient
    /// other than 1.
    pub fn is_tied(&self) -> bool {
        !matches!(self.strings[..], [(_, c)] if c == 1.0)
    }

    /// `Σ_j c_kj f(P_kj)`: a linear functional of the parameter's operator (an expectation,
    /// a trace, a matrix element) from its value on each string. For an untied parameter this
    /// is `f(P_k)` exactly, so untied models keep their numbers bit for bit.
    pub fn combine(&self, mut f: impl FnMut(PauliString) -> f64) -> f64 {
        if let [(p, c)] = self.strings[..] {
            if c == 1.0 {
                return f(p);
            }
        }
        self.strings.iter().map(|&(p, c)| c * f(p)).sum()
    }

    /// The operator `∂H/∂θ_k = Σ_j c_kj P_kj` as a sum on `qubits` qubits.
    pub fn operator(&self, qubits: usize) -> PauliSum {
        let mut s = PauliSum::new(qubits);
        for &(p, c) in &self.strings {
            s.add(p, c);
        }
        s
    }

    /// The canonical label of a tied parameter (see [`Param::label`]).
    pub fn tied_label(strings: &[(PauliString, f64)]) -> String {
        strings
            .iter()
            .map(|&(p, c)| {
                if c == 1.0 {
                    p.to_string()
                } else {
                    format!("{c} {p}")
                }
            })
            .collect::<Vec<_>>()
            .join(" + ")
    }
}

/// JSON form: `label`, `pauli` (the first string), `value`, `family`, and the tie as
/// `paulis` (labels) and `coeffs`.
impl Serialize for Param {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Param", 6)?;
        st.serialize_field("label", &self.label)?;
        st.serialize_field("pauli", &self.pauli.to_string())?;
        st.serialize_field("value", &self.value)?;
        st.serialize_field("family", &self.family)?;
        let paulis: Vec<String> = self.strings.iter().map(|(p, _)| p.to_string()).collect();
        let coeffs: Vec<f64> = self.strings.iter().map(|&(_, c)| c).collect();
        st.serialize_field("paulis", &paulis)?;
        st.serialize_field("coeffs", &coeffs)?;
        st.end()
    }
}

/// The origin of a model: its file and the SHA-256 of the bytes parsed (for provenance).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Source {
    /// The file as given.
    pub path: PathBuf,
    /// SHA-256 of the file's bytes, lower-case hex.
    pub sha256: String,
}

impl Model {
    /// Qubits that are neither inputs nor outputs, in increasing order.
    pub fn hidden(&self) -> Vec<usize> {
        hidden(self.qubits, &self.inputs, &self.outputs)
    }
}

/// `0..qubits` minus inputs and outputs.
pub(crate) fn hidden(qubits: usize, inputs: &[usize], outputs: &[usize]) -> Vec<usize> {
    (0..qubits)
        .filter(|q| !inputs.contains(q) && !outputs.contains(q))
        .collect()
}
