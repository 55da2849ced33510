//! Flags of `qep convert`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

/// A format of `qep convert` (`--from`, `--to`).
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ConvertFormat {
    /// Qiskit `SparsePauliOp.to_list()` as JSON: [["IXZ", 0.5], ["YII", [0.25, 0.0]]], qubit
    /// 0 rightmost (default for .json).
    Qiskit,
    /// OpenFermion `QubitOperator` text: 0.5 [X0 Z3] + -0.25 [Y1] (default for .txt, .of).
    Openfermion,
    /// A qep model file with `qubits` and `terms` (default for .yaml, .yml).
    Yaml,
}

/// `qep convert`.
#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// The input: Qiskit JSON, OpenFermion text or a qep model. A model with trainable
    /// parameters is converted at their current values (H_fixed + Σ θ_k P_k, β = 0, no input
    /// fields).
    #[arg(value_name = "IN")]
    pub input: PathBuf,
    /// The output file, written atomically (a temporary file renamed into place). An existing
    /// file is refused without --overwrite.
    #[arg(value_name = "OUT")]
    pub output: PathBuf,
    /// Format of IN (default: from its extension).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub from: Option<ConvertFormat>,
    /// Format of OUT (default: from its extension).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub to: Option<ConvertFormat>,
    /// Number of qubits of the output (default: what the input says; OpenFermion text has no
    /// width, so there it is the largest index plus one).
    #[arg(long, value_name = "N")]
    pub qubits: Option<usize>,
    /// Replace OUT if it exists.
    #[arg(long)]
    pub overwrite: bool,
    /// Print a machine-readable report (terms, qubits, formats, SHA-256 of IN) with
    /// provenance.
    #[arg(long)]
    pub json: bool,
}
