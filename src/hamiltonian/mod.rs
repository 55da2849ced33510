//! Models: YAML files → [`Model`] → the network Hamiltonian `H(β, θ, u, d)` of Eq. 16 as a
//! [`PauliSum`](crate::pauli::PauliSum) ([`Model::hamiltonian`]).
//!
//! * `yaml.rs` reads the file (the only file that names the YAML crate), `model.rs` is the
//!   versioned schema (`deny_unknown_fields` structs), `validate.rs` turns it into a
//!   [`Model`], [`lattice`] yields edge lists, `compile.rs` builds `H`.
//! * Every error names the file, the line and column, and the key path
//!   (`{file}:{line}:{col}: `{key}`: {problem}; expected {expected}`), see [`ModelError`]; a
//!   misspelt key or value gets the nearest allowed one (`` (did you mean `params`?) ``).
//! * What a load reads is bounded ([`Limits`]): the model file and a CSV dataset must be
//!   regular files (not devices, FIFOs or directories), of at most 16 MiB and 1 GiB by
//!   default, and mappings and lists may nest at most [`MAX_DEPTH`] levels.
//!
//! # Schema (version 1)
//!
//! Every key is optional except that the number of qubits must be known (`qubits` or a
//! `lattice`). Unknown keys are errors.
//!
//! ```yaml
//! version: 1                 # schema version; only 1 exists (default 1)
//! name: ising_grid           # default: the file stem
//! description: free text
//! kind: quantum              # quantum (default) | classical
//! qubits: 12                 # 1..=64; optional with a lattice (must then match it)
//! lattice: {shape: grid, rows: 3, cols: 4, periodic: false}
//!                            # or {shape: chain, sites: 8, periodic: true}
//!                            # or {shape: all-to-all, sites: 6}
//! inputs: left-column        # a list [0, 4, 8], or left-column / right-column of the lattice
//! outputs: right-column      # disjoint from inputs
//! seed: 7                    # seed of every random draw (default 0)
//!
//! terms:                     # fixed part H_fixed
//!   - {pauli: "X2", coeff: 0.7}            # coeff: number, [re, im] or {re: .., im: ..};
//!   - {pauli: "Z0 Z1", coeff: [-1.0, 0]}   # the merged sum must be real (Hermitian)
//! params:                    # trainable θ_k Σ_j c_kj P_kj, Pauli strings distinct
//!   - {pauli: "X0 X2", value: 0.3}
//!   - {pauli: "Z0 Z2", init: {normal: [0.0, 0.1]}}
//!   - {paulis: ["X1 X3", "Y1 Y3", "Z1 Z3"], coeffs: [1, 1, 0.5], value: 0.1}  # tied
//! couplings:                 # families placed on the lattice, after `params` in θ order
//!   - {type: ZZ, on: edges, trainable: true, init: {uniform: [-0.5, 0.5]}}
//!   - {type: XX, trainable: true, value: 0.1}     # `on` defaults to edges (pairs) / sites
//!   - {type: X, on: hidden, value: 1.0}           # fixed field on the hidden qubits
//!   - {type: ZZ, on: [[0, 5], [2, 7]], value: -1} # explicit pairs
//!   - {type: heisenberg, trainable: true, value: 0.2}  # XX + YY + ZZ per bond, one θ each
//!
//! # Settings used by later stages (validated now)
//! state: ground              # or {eigen: K}, K < 2^qubits
//! beta: 0.01                 # clamping strength > 0
//! temperature: 0.1           # > 0, thermal case
//! thermal_gradient: kubo-mori # clamped | covariance | kubo-mori
//! shots: 1000                # > 0
//! preparation: exact         # exact | cooling | {adiabatic: {time: 10, steps: 100, schedule: linear}}
//!                            #   schedule: linear | smooth | local
//! training: {epochs: 100, optimizer: sgd, learning_rate: 0.1, momentum: 0.0,
//!            batch_size: 1, lr_decay: 1.0, weight_decay: 0.0}
//!                            # optimizer: sgd | adam; weight_decay: λ of λ‖θ‖²; all optional
//! lindblad:
//!   jumps:
//!     - {op: sigma-, qubits: all, rate: 0.05}     # sigma- | sigma+ | X | Y | Z; qubits: list or
//!                                                 # a site set; default all
//!     - {op: [{pauli: "X0 X1", coeff: 1}], rate: 0.01}  # explicit operator, no `qubits`
//! dataset:                   # see the `dataset` docs: inline rows or a CSV file
//!   inputs:  [[1, -1, 1], [-1, -1, 1]]   # one value per input qubit
//!   targets: [[1], [-1]]                 # one value per output qubit
//! ```
//!
//! Tied parameters: `paulis` (instead of `pauli`) lists strings that one `θ` multiplies,
//! `coeffs` (optional, one finite non-zero number per string, default all 1) their
//! coefficients `c_kj`, so that `∂H/∂θ_k = Σ_j c_kj P_kj` and every EP estimate of `θ_k` is
//! the c-weighted sum of its strings' estimates. Exactly one of `pauli` and `paulis`; an
//! empty list, a repeated string, a string of another parameter and a qubit out of range are
//! errors at `params[i].paulis[j]`. A tied parameter is labelled by its strings joined with
//! ` + `, coefficients other than 1 written before their string (`"X1 X3 + 0.5 Z1 Z3"`).
//!
//! Couplings: `type` is `ZZ`, `XX`, `YY`, `heisenberg` (on pairs; `heisenberg` ties
//! `X_iX_j + Y_iY_j + Z_iZ_j` on each bond to one coefficient, one parameter per bond when
//! trainable) or `X`, `Y`, `Z` (on single qubits).
//! `on` is `edges` (the lattice's, the default for pairs) or a list of `[i, j]` pairs for
//! two-body families; for fields a site set — `sites` (= `all`, the default), `hidden`,
//! `inputs`, `outputs`, `left-column`, `right-column` — or a list of qubits. Each family takes
//! exactly one of `value` (the same for every term) or `init` (one draw per term:
//! `{uniform: [lo, hi]}` or `{normal: [mean, std]}`); `trainable` (default `false`) decides
//! whether its terms join the parameters or `H_fixed`. Trainable terms get the canonical
//! label of their string (`"Z0 Z1"`, `"X0 X1 + Y0 Y1 + Z0 Z1"` for a Heisenberg bond) and
//! the family name.
//!
//! Random initial values come from ChaCha8 seeded with `seed`: `params[i]` uses stream `i`,
//! `couplings[k]` stream `2³² + k`, each drawing in placement order — the same seed gives
//! the same values, and editing one family leaves the others' draws unchanged.

mod compile;
pub mod convert;
mod dataset;
mod domain;
mod error;
mod keypath;
pub mod lattice;
mod limits;
mod model;
mod settings;
mod suggest;
mod validate;
mod yaml;

use std::path::Path;

use sha2::{Digest, Sha256};

pub use compile::Example;
pub use dataset::Dataset;
pub use domain::{Model, Param, Source};
pub use error::{ModelError, Pos};
pub use lattice::Lattice;
pub use limits::{Limits, MAX_DEPTH};
pub use settings::{
    Adiabatic, Jump, ModelKind, Optimizer, Preparation, Schedule, Settings, StateChoice,
    ThermalGradient, Training,
};
pub use validate::safe_label;
pub use validate::MAX_COEFF_SUM;

use keypath::Ctx;

/// Reads and parses a model file (see the [module docs](self) for the schema), within the
/// default [`Limits`].
///
/// # Errors
/// Every error of [`load_with`].
/// # Examples
/// ```
/// let model = qep::hamiltonian::load(std::path::Path::new("hamiltonians/xor.yaml"))?;
/// assert_eq!((model.name.as_str(), model.qubits), ("xor", 5));
/// assert_eq!(model.theta().len(), model.params.len());
/// assert_eq!(model.dataset.as_ref().map(|d| d.train.len()), Some(4));
/// # Ok::<(), qep::hamiltonian::ModelError>(())
/// ```
pub fn load(path: &Path) -> Result<Model, ModelError> {
    load_with(path, &Limits::default())
}

/// Reads and parses a model file within `limits`: the file must be a regular file of at most
/// `limits.max_model_bytes` bytes, and its CSV dataset (if any) must fit the dataset limits.
///
/// # Errors
/// [`ModelError::NotAFile`] for a directory, device, FIFO or socket,
/// [`ModelError::ModelTooLarge`] beyond the size limit, [`ModelError::Read`] if the file cannot
/// be read or is not UTF-8, and every error of [`parse_str_with`].
pub fn load_with(path: &Path, limits: &Limits) -> Result<Model, ModelError> {
    let read_err = |source| ModelError::Read {
        file: path.to_path_buf(),
        source,
    };
    let max = limits.max_model_bytes;
    let text = crate::input::read_text(path, max).map_err(|e| match e {
        crate::input::ReadError::NotRegular(kind) => ModelError::NotAFile {
            file: path.to_path_buf(),
            kind,
        },
        crate::input::ReadError::TooLarge { max } => ModelError::ModelTooLarge {
            file: path.to_path_buf(),
            max,
        },
        crate::input::ReadError::Io(source) => read_err(source),
    })?;
    parse_str_with(&text, path, limits)
}

/// Parses a model from `text`; `path` names the file in messages, gives the default name
/// (its stem) and the directory CSV datasets are relative to. `Source::sha256` is the hash
/// of `text`'s bytes.
///
/// # Errors
/// [`ModelError::Empty`], [`ModelError::Syntax`], [`ModelError::UnknownKey`],
/// [`ModelError::Schema`] while reading; the semantic variants ([`ModelError::QubitOutOfRange`],
/// [`ModelError::DuplicateParam`], [`ModelError::NonHermitian`], …) while validating; CSV
/// errors while loading a dataset.
/// # Examples
/// A misspelt key is reported with its file, line and column, and the nearest allowed key.
/// ```
/// use std::path::Path;
/// let ok = qep::hamiltonian::parse_str("qubits: 1\nterms:\n  - {pauli: X0, coeff: 1.0}\n", Path::new("x.yaml"))?;
/// assert_eq!(ok.name, "x"); // the file stem
/// let err = qep::hamiltonian::parse_str("qubits: 1\nterm:\n  - {pauli: X0, coeff: 1.0}\n", Path::new("x.yaml"))
///     .unwrap_err()
///     .to_string();
/// assert!(err.starts_with("x.yaml:2:"), "{err}");
/// assert!(err.contains("did you mean `terms`?"), "{err}");
/// # Ok::<(), qep::hamiltonian::ModelError>(())
/// ```
pub fn parse_str(text: &str, path: &Path) -> Result<Model, ModelError> {
    parse_str_with(text, path, &Limits::default())
}

/// [`parse_str`] with the CSV dataset (if any) read within `limits` (`max_model_bytes` is not
/// applied: `text` is already in memory). Mappings and lists nested deeper than [`MAX_DEPTH`]
/// are refused before the document is deserialized.
///
/// # Errors
/// [`ModelError::TooDeep`], [`ModelError::CsvNotAFile`], [`ModelError::CsvTooLarge`] and every
/// error of [`parse_str`].
pub fn parse_str_with(text: &str, path: &Path, limits: &Limits) -> Result<Model, ModelError> {
    let ctx = Ctx::new(path, text, *limits);
    let file: model::ModelFile = yaml::parse(&ctx)?;
    let sha256 = Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    validate::build(file, &ctx, sha256)
}
