//! [`ModelError`]: everything that can be wrong with a model file, a dataset, or the arguments
//! of [`Model::hamiltonian`](super::Model::hamiltonian).
//!
//! Every message that concerns a place in a file reads
//! `{file}:{line}:{col}: `{key}`: {problem}; expected {expected}` (lines and columns start at
//! 1, `key` is a path such as `params[2].pauli`); file-level errors read `{file}: {problem}`.

use std::fmt;
use std::path::PathBuf;

use super::suggest::{backticked, nearest, spaced_pauli_of, DidYouMean};
use crate::pauli::PauliError;

/// A place in a model file: the file, the 1-based line and column, and the key path.
///
/// Displays as ``{file}:{line}:{col}: `{key}` `` (the key path is `.` for the whole document).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pos {
    /// The model file as given to [`load`](super::load) or [`parse_str`](super::parse_str).
    pub file: PathBuf,
    /// Line, starting at 1.
    pub line: usize,
    /// Column, starting at 1.
    pub col: usize,
    /// Key path, e.g. `params[2].pauli` (`.` is the document itself).
    pub key: String,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: `{}`",
            self.file.display(),
            self.line,
            self.col,
            self.key
        )
    }
}

/// Errors from loading a model ([`load`](super::load), [`parse_str`](super::parse_str)) or
/// compiling it ([`Model::hamiltonian`](super::Model::hamiltonian)).
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The file cannot be read (missing, a directory, no permission, not UTF-8).
    #[error("{}: cannot read the model file: {source}; expected an existing, readable UTF-8 YAML file", file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file holds no YAML document (empty, blank or only comments).
    #[error("{}: the file is empty; expected a YAML mapping with at least `qubits` or `lattice`", file.display())]
    Empty {
        /// The file.
        file: PathBuf,
    },
    /// The model path is a directory, a device (`/dev/zero`), a FIFO or a socket: reading it
    /// would fail, never end or block.
    #[error("{}: the path is {kind}, not a regular file; expected a model file (YAML text)", file.display())]
    NotAFile {
        /// The path.
        file: PathBuf,
        /// What it is, with its article (`"a character device"`).
        kind: &'static str,
    },
    /// The model file is larger than [`Limits::max_model_bytes`](super::Limits).
    #[error("{}: the file has more than {max} bytes; expected a model file of at most {max} bytes (write large datasets as a CSV file)", file.display())]
    ModelTooLarge {
        /// The file.
        file: PathBuf,
        /// The limit in bytes.
        max: u64,
    },
    /// Mappings and lists nested deeper than [`MAX_DEPTH`](super::MAX_DEPTH) levels.
    #[error("{at}: the document nests deeper than {max} levels; expected at most {max} nested mappings and lists (a model needs fewer than 10)")]
    TooDeep {
        /// Where the nesting passed the limit; `at.key` is the top-level key it is under.
        at: Pos,
        /// The limit.
        max: usize,
    },
    /// Not well-formed YAML (bad indentation, unclosed bracket, tab, …).
    #[error("{at}: YAML syntax error: {problem}; expected well-formed YAML")]
    Syntax {
        /// Where the parser stopped.
        at: Pos,
        /// The parser's description.
        problem: String,
    },
    /// A key the schema does not know (a typo, or a key of a later schema version).
    ///
    /// The message suggests the allowed key the unknown one looks like a typo of
    /// (`` (did you mean `params`?) ``), if any.
    #[error(
        "{at}: unknown key `{name}`{}; expected {expected}",
        DidYouMean(nearest(name, &backticked(expected)))
    )]
    UnknownKey {
        /// Where the key is; `at.key` ends with the unknown key.
        at: Pos,
        /// The unknown key.
        name: String,
        /// The keys allowed at that place.
        expected: String,
    },
    /// A value of the wrong type or form, or a missing or repeated key.
    #[error("{at}: {problem}; expected {expected}")]
    Schema {
        /// Where.
        at: Pos,
        /// What was found.
        problem: String,
        /// What the schema wants there.
        expected: String,
    },
    /// `version` other than 1.
    #[error("{at}: unsupported schema version {version}; expected 1 (or no `version` key)")]
    Version {
        /// Where.
        at: Pos,
        /// The version written.
        version: i64,
    },
    /// `qubits` is zero or negative.
    #[error("{at}: {qubits} qubits is not a register; expected an integer ≥ 1")]
    QubitCount {
        /// Where.
        at: Pos,
        /// The value written.
        qubits: i64,
    },
    /// More qubits than a Pauli string can address.
    #[error("{at}: {qubits} qubits is more than qep supports; expected at most {max}")]
    TooManyQubits {
        /// Where (`qubits` or `lattice`).
        at: Pos,
        /// The number asked for.
        qubits: usize,
        /// The limit (64).
        max: usize,
    },
    /// `qubits` and the lattice disagree.
    #[error("{at}: `qubits` is {qubits} but the lattice has {lattice} sites; expected {lattice} (or leave `qubits` out)")]
    QubitMismatch {
        /// Where (`qubits`).
        at: Pos,
        /// The value of `qubits`.
        qubits: usize,
        /// The number of lattice sites.
        lattice: usize,
    },
    /// A Pauli string that does not parse (bad letter, bad index, repeated qubit).
    ///
    /// The message suggests the string with its letters spaced when they were run together
    /// (`"X0X1"` → `` (did you mean `X0 X1`?) ``).
    #[error("{at}: {source}{}", DidYouMean(spaced_pauli_of(source)))]
    Pauli {
        /// Where the string is.
        at: Pos,
        /// The parser's error (its message says what was expected).
        source: PauliError,
    },
    /// A qubit index `≥ qubits`.
    #[error("{at}: qubit {qubit} does not exist; expected an index < {qubits} (the model has {qubits} qubits)")]
    QubitOutOfRange {
        /// Where.
        at: Pos,
        /// The offending index.
        qubit: usize,
        /// The number of qubits.
        qubits: usize,
    },
    /// Two trainable terms with the same Pauli string.
    #[error("{at}: trainable term `{label}` is already a parameter (`{first}`); expected each Pauli string at most once among the parameters")]
    DuplicateParam {
        /// Where the second one is.
        at: Pos,
        /// Canonical label of the string.
        label: String,
        /// Key path of the first one.
        first: String,
    },
    /// A string appears twice among the strings tied to one parameter.
    #[error("{at}: `{label}` appears twice in one tied parameter (first at `{first}`); expected each string once per parameter (weight it with `coeffs` instead)")]
    DuplicateTiedString {
        /// Where the repeat is.
        at: Pos,
        /// The string's canonical label.
        label: String,
        /// The key path of its first occurrence.
        first: String,
    },
    /// A fixed term whose merged coefficient is not real: `H_fixed` would not be Hermitian.
    #[error("{at}: term `{label}` has a coefficient with imaginary part {imag} after merging equal strings; expected a real coefficient (a Hamiltonian is Hermitian)")]
    NonHermitian {
        /// Where the (first) term with that string is.
        at: Pos,
        /// Canonical label of the string.
        label: String,
        /// The surviving imaginary part.
        imag: f64,
    },
    /// The same qubit twice in one list (`inputs`, `outputs`, `on`, jump `qubits`).
    #[error("{at}: qubit {qubit} is listed twice (first at `{first}`); expected distinct qubits")]
    DuplicateQubit {
        /// Where the repetition is.
        at: Pos,
        /// The qubit.
        qubit: usize,
        /// Key path of the first occurrence.
        first: String,
    },
    /// A qubit that is both an input and an output.
    #[error("{at}: qubit {qubit} is both an output and an input (`{input}`); expected disjoint `inputs` and `outputs`")]
    InputOutputOverlap {
        /// Where the output is.
        at: Pos,
        /// The qubit.
        qubit: usize,
        /// Key path of the same qubit among the inputs.
        input: String,
    },
    /// A number outside its allowed range (`beta ≤ 0`, `shots = 0`, a negative rate, …).
    #[error("{at}: {value} is out of range; expected {expected}")]
    OutOfRange {
        /// Where.
        at: Pos,
        /// The value written.
        value: f64,
        /// The allowed range.
        expected: &'static str,
    },
    /// Keys that are each valid but do not fit together (e.g. `rows` on a chain, `on: edges`
    /// without a lattice, both `value` and `init`).
    #[error("{at}: {problem}; expected {expected}")]
    Conflict {
        /// Where.
        at: Pos,
        /// What does not fit.
        problem: String,
        /// What would.
        expected: String,
    },
    /// A dataset row of the wrong length.
    #[error("{at}: row {row} has {len} values; expected {expected} (one per model {what})")]
    RowLength {
        /// Where the row is.
        at: Pos,
        /// Row index (from 0).
        row: usize,
        /// Its length.
        len: usize,
        /// The number of model inputs or outputs.
        expected: usize,
        /// `"input"` or `"output"`.
        what: &'static str,
    },
    /// The CSV file of a dataset cannot be read.
    #[error("{at}: cannot read `{}`: {source}; expected a CSV file (path relative to the model file)", csv.display())]
    CsvRead {
        /// Where the `csv` key is.
        at: Pos,
        /// The resolved CSV path.
        csv: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The dataset's `csv` names a directory, a device (`/dev/zero`), a FIFO or a socket.
    #[error("{at}: `{}` is {kind}, not a regular file; expected a CSV file (path relative to the model file)", csv.display())]
    CsvNotAFile {
        /// Where the `csv` key is.
        at: Pos,
        /// The resolved CSV path.
        csv: PathBuf,
        /// What it is, with its article (`"a character device"`).
        kind: &'static str,
    },
    /// A CSV dataset beyond a limit of [`Limits`](super::Limits): too many bytes, rows or
    /// columns, or a line too long.
    #[error("{}:{line}: more than {max} {quantity}; expected a dataset of at most {max} {quantity}", csv.display())]
    CsvTooLarge {
        /// The CSV file.
        csv: PathBuf,
        /// Line in the CSV file (from 1) where the limit was passed.
        line: usize,
        /// What was counted: `"bytes"`, `"data rows"`, `"columns"` or `"bytes in one line"`.
        quantity: &'static str,
        /// The limit.
        max: u64,
    },
    /// A malformed CSV file: bad header, wrong number of fields, a non-numeric feature, a
    /// missing column, a class count that fits no encoding.
    #[error("{}:{line}: {problem}; expected {expected}", csv.display())]
    Csv {
        /// The CSV file.
        csv: PathBuf,
        /// Line in the CSV file (from 1).
        line: usize,
        /// What is wrong.
        problem: String,
        /// What would be right.
        expected: String,
    },
    /// `theta` passed to [`Model::hamiltonian`](super::Model::hamiltonian) has the wrong length.
    #[error(
        "model `{model}`: theta has {got} values; expected {expected}, one per trainable parameter"
    )]
    ThetaLength {
        /// Model name.
        model: String,
        /// Length given.
        got: usize,
        /// Number of parameters.
        expected: usize,
    },
    /// An example's inputs have the wrong length.
    #[error("model `{model}`: the example has {got} input values; expected {expected}, one per model input")]
    InputsLength {
        /// Model name.
        model: String,
        /// Length given.
        got: usize,
        /// Number of inputs.
        expected: usize,
    },
    /// An example's targets have the wrong length.
    #[error(
        "model `{model}`: the example has {got} targets; expected {expected}, one per model output"
    )]
    TargetsLength {
        /// Model name.
        model: String,
        /// Length given.
        got: usize,
        /// Number of outputs.
        expected: usize,
    },
    /// The coefficients are so large that no eigensolver can verify a result: their
    /// magnitudes sum past [`MAX_COEFF_SUM`](super::MAX_COEFF_SUM) (or overflow).
    #[error(
        "{at}: coefficient {value:.3e} brings the sum of |coefficients| of the Hamiltonian to \
         {sum:.3e}; expected a sum ≤ {max:.0e}: eigensolver residuals are absolute (--tol, \
         default 1e-9) while rounding alone leaves residuals near 16·ε·Σ|c| (relative to the \
         coefficients' scale); rescale the model (divide every coefficient by the largest)"
    )]
    CoefficientScale {
        /// Where the largest (or first non-finite) contribution is.
        at: Pos,
        /// That coefficient (or initial value, or input field).
        value: f64,
        /// Σ|c| over fixed terms, initial parameters and the largest example's input fields.
        sum: f64,
        /// The limit.
        max: f64,
    },
    /// A clamped Hamiltonian (`β ≠ 0`) was asked for without an example to take targets from.
    #[error("model `{model}`: beta = {beta} clamps the outputs to targets, but no example was given; expected beta = 0 without an example")]
    BetaWithoutExample {
        /// Model name.
        model: String,
        /// The β given.
        beta: f64,
    },
    /// A training example was asked for by an index the dataset does not have.
    #[error("{}: training example {index} does not exist; expected 0..{count}", file.display())]
    NoSuchExample {
        /// The model file.
        file: PathBuf,
        /// The index asked for.
        index: usize,
        /// Training examples in the dataset.
        count: usize,
    },
    /// A computation that compares gradients was given a model without parameters.
    #[error("{}: the model has no trainable parameters; expected at least one ({purpose})", file.display())]
    NoParameters {
        /// The model file.
        file: PathBuf,
        /// What the parameters are needed for.
        purpose: &'static str,
    },
}
