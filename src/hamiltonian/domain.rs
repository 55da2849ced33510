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

/// One trainable term `θ_k P_k`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Param {
    /// For explicit `params`, the Pauli text exactly as written (e.g. `"X0 X2"`); for
    /// generated families the canonical [`PauliString`] label (`"Z0 Z1"`).
    pub label: String,
    /// The Pauli string `P_k`.
    #[serde(serialize_with = "serialize_label")]
    pub pauli: PauliString,
    /// Initial value of `θ_k` (written, or drawn from the model's seed).
    pub value: f64,
    /// The coupling family that generated it (`"ZZ"`, `"X"`, …); `None` for explicit params.
    pub family: Option<String>,
}

fn serialize_label<S: serde::Serializer>(p: &PauliString, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&p.to_string())
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
