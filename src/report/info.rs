//! A model's vital statistics (`qep info`): size, structure and memory needs.

use serde::Serialize;

use crate::hamiltonian::Model;
use crate::operator::XMaskOperator;
use crate::state::memory;

/// What a model is and what it will cost to simulate.
#[derive(Clone, Debug, Serialize)]
pub struct ModelInfo {
    /// Model name.
    pub name: String,
    /// `quantum` or `classical`.
    pub kind: String,
    /// Number of qubits.
    pub qubits: usize,
    /// Merged Pauli terms of `H(0, θ)` (fixed + trainable, no input fields).
    pub terms: usize,
    /// X-mask groups of the matrix-free operator (the diagonal counts as one).
    pub x_mask_groups: usize,
    /// Streaming passes over ψ per `H·ψ` (computed for ≤ 20 qubits).
    pub passes: Option<usize>,
    /// Whether the real-arithmetic path applies.
    pub real: bool,
    /// Trainable parameters.
    pub params: usize,
    /// Input qubits.
    pub inputs: Vec<usize>,
    /// Output qubits.
    pub outputs: Vec<usize>,
    /// Training / test examples, if the model has a dataset.
    pub examples: Option<(usize, usize)>,
    /// Memory estimates, bytes.
    pub memory: MemoryEstimate,
}

/// Memory one needs for a model, estimated before allocating anything.
#[derive(Clone, Debug, Serialize)]
pub struct MemoryEstimate {
    /// One state vector in the arithmetic qep will use (8 B real or 16 B complex amplitudes).
    pub state_vector: u128,
    /// The operator's diagonal.
    pub operator: u128,
    /// A ground-state search storing the Krylov basis it chooses by itself (the whole cycle
    /// for small vectors, else 16–32 vectors, see [`crate::linalg::short_basis`]) besides its
    /// work vectors: the plan `--memory store` checks, with the operator diagonal.
    pub lanczos_stored: u128,
    /// The two-pass Lanczos that keeps no basis: the plan `qep spectrum --k 1 --no-gap`
    /// checks before allocating (work vectors and operator diagonal), less what the process
    /// already holds.
    pub lanczos_two_pass: u128,
    /// What the process may allocate now.
    pub available: u128,
}

impl ModelInfo {
    /// Summarises `model` at its initial parameters. Builds no operator: the grouping is
    /// computed from the Pauli sum alone, so this works for models too large to simulate.
    ///
    /// # Errors
    /// Those of [`Model::hamiltonian`] (none for a model that loaded).
    pub fn new(model: &Model) -> Result<Self, crate::Error> {
        let h = model.hamiltonian(&model.theta(), None, 0.0)?;
        let s = h.simplified(0.0);
        let groups = s.x_masks();
        let has_diag = groups.first() == Some(&0);
        let real = s.is_real_in_z_basis(0.0);
        let elem = if real { 8 } else { 16 };
        let n = model.qubits;
        let sv = memory::state_bytes(n, elem);
        let diag = memory::state_bytes(n, 8) * u128::from(has_diag);
        // The ground state's memory plan, as `qep spectrum --k 1 --no-gap` checks it (its
        // work vectors, the operator diagonal), without what the process already holds.
        let lanczos = crate::linalg::LanczosParams {
            method: crate::linalg::Method::Lanczos,
            ..Default::default()
        };
        let two_pass = crate::linalg::lanczos_memory(n, elem, &lanczos)
            .total()
            .saturating_add(diag);
        let stored = crate::linalg::lanczos_memory(
            n,
            elem,
            &crate::linalg::LanczosParams {
                memory: crate::linalg::BasisMemory::Store,
                ..lanczos
            },
        )
        .total()
        .saturating_add(diag);
        // The pass plan comes with the operator, whose diagonal costs 8·2^n bytes: only for
        // models small enough that this is instant.
        let passes = (n <= 20)
            .then(|| XMaskOperator::new(&s).ok().map(|op| op.n_passes()))
            .flatten();
        Ok(Self {
            name: model.name.clone(),
            kind: format!("{:?}", model.kind).to_lowercase(),
            qubits: n,
            terms: s.len(),
            x_mask_groups: groups.len(),
            passes,
            real,
            params: model.params.len(),
            inputs: model.inputs.clone(),
            outputs: model.outputs.clone(),
            examples: model
                .dataset
                .as_ref()
                .map(|d| (d.train.len(), d.test.len())),
            memory: MemoryEstimate {
                state_vector: sv,
                operator: diag,
                lanczos_stored: stored,
                lanczos_two_pass: two_pass,
                available: memory::available_bytes().0,
            },
        })
    }
}
