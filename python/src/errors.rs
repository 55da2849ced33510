//! The exception classes: `QepError` and one subclass per kind of library error, raised with
//! the library's own message (the text the CLI prints after `error:`).

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

use qep::circuit::CircuitError as LibCircuitError;
use qep::hamiltonian::{ModelError as LibModelError, Pos};
use qep::linalg::SolverError;
use qep::measure::MeasureError;
use qep::operator::OperatorError;
use qep::pauli::PauliError;
use qep::state::MemoryError;

create_exception!(
    qep,
    QepError,
    PyException,
    "Base class of every error qep raises; the message is the one the `qep` CLI prints."
);
create_exception!(
    qep,
    ModelError,
    QepError,
    "A model file or dictionary that does not fit the schema, or arguments that do not fit \
     the model. `file`, `line`, `column` and `key` locate the problem when it is in a file \
     (else they are None)."
);
create_exception!(
    qep,
    NotConvergedError,
    QepError,
    "An eigensolver that did not reach its tolerance within its budget, or whose result \
     failed its residual check: the result is not verified, so none is returned."
);
create_exception!(
    qep,
    MemoryLimitError,
    QepError,
    "The buffers a computation needs do not fit in the memory available (or in \
     QEP_MEMORY_LIMIT); raised before anything is allocated."
);
create_exception!(
    qep,
    CircuitError,
    QepError,
    "An OpenQASM program or a circuit that qep cannot parse or run."
);

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("QepError", py.get_type::<QepError>())?;
    m.add("ModelError", py.get_type::<ModelError>())?;
    m.add("NotConvergedError", py.get_type::<NotConvergedError>())?;
    m.add("MemoryLimitError", py.get_type::<MemoryLimitError>())?;
    m.add("CircuitError", py.get_type::<CircuitError>())?;
    Ok(())
}

/// A library error converted at the boundary.
pub(crate) struct Error(PyErr);

impl From<Error> for PyErr {
    fn from(e: Error) -> PyErr {
        e.0
    }
}

impl From<PyErr> for Error {
    fn from(e: PyErr) -> Self {
        Error(e)
    }
}

/// `Result` of binding code.
pub(crate) type Result<T> = std::result::Result<T, Error>;

fn memory(e: &MemoryError) -> Error {
    Error(MemoryLimitError::new_err(e.to_string()))
}

impl From<MemoryError> for Error {
    fn from(e: MemoryError) -> Self {
        memory(&e)
    }
}

impl From<OperatorError> for Error {
    fn from(e: OperatorError) -> Self {
        match &e {
            OperatorError::TooLarge(m) => memory(m),
            _ => Error(QepError::new_err(e.to_string())),
        }
    }
}

impl From<SolverError> for Error {
    fn from(e: SolverError) -> Self {
        match &e {
            SolverError::Memory(m) | SolverError::Operator(OperatorError::TooLarge(m)) => memory(m),
            SolverError::NotConverged { .. } | SolverError::Unverified { .. } => {
                Error(NotConvergedError::new_err(e.to_string()))
            }
            _ => Error(QepError::new_err(e.to_string())),
        }
    }
}

impl From<PauliError> for Error {
    fn from(e: PauliError) -> Self {
        Error(QepError::new_err(e.to_string()))
    }
}

impl From<MeasureError> for Error {
    fn from(e: MeasureError) -> Self {
        match &e {
            MeasureError::Memory(m) => memory(m),
            _ => Error(QepError::new_err(e.to_string())),
        }
    }
}

impl From<LibCircuitError> for Error {
    fn from(e: LibCircuitError) -> Self {
        match &e {
            LibCircuitError::Memory(m) => memory(m),
            _ => Error(CircuitError::new_err(e.to_string())),
        }
    }
}

/// Where a model error is, when it concerns a place in a file.
fn model_pos(e: &LibModelError) -> Option<&Pos> {
    use LibModelError as E;
    match e {
        E::TooDeep { at, .. }
        | E::Syntax { at, .. }
        | E::UnknownKey { at, .. }
        | E::Schema { at, .. }
        | E::Version { at, .. }
        | E::QubitCount { at, .. }
        | E::TooManyQubits { at, .. }
        | E::QubitMismatch { at, .. }
        | E::Pauli { at, .. }
        | E::QubitOutOfRange { at, .. }
        | E::DuplicateParam { at, .. }
        | E::NonHermitian { at, .. }
        | E::DuplicateQubit { at, .. }
        | E::InputOutputOverlap { at, .. }
        | E::OutOfRange { at, .. }
        | E::Conflict { at, .. }
        | E::RowLength { at, .. }
        | E::CsvRead { at, .. }
        | E::CsvNotAFile { at, .. }
        | E::CoefficientScale { at, .. } => Some(at),
        _ => None,
    }
}

/// The file a model error names, located or not.
fn model_file(e: &LibModelError) -> Option<String> {
    use LibModelError as E;
    if let Some(p) = model_pos(e) {
        return Some(p.file.display().to_string());
    }
    match e {
        E::Read { file, .. }
        | E::Empty { file }
        | E::NotAFile { file, .. }
        | E::ModelTooLarge { file, .. } => Some(file.display().to_string()),
        _ => None,
    }
}

/// A [`LibModelError`] as `qep.ModelError` with `file`, `line`, `column`, `key` attributes.
pub(crate) fn model_error(py: Python<'_>, e: &LibModelError) -> Error {
    let err = ModelError::new_err(e.to_string());
    let value = err.value(py);
    let pos = model_pos(e);
    let set = || -> PyResult<()> {
        value.setattr("file", model_file(e))?;
        value.setattr("line", pos.map(|p| p.line))?;
        value.setattr("column", pos.map(|p| p.col))?;
        value.setattr("key", pos.map(|p| p.key.clone()))?;
        Ok(())
    };
    match set() {
        Ok(()) => Error(err),
        Err(other) => Error(other),
    }
}
