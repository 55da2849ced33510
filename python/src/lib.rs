//! `qep._qep`: the Python extension module of qep. Thin wrappers over the library: each
//! `#[pyclass]` holds a library value, arrays cross the boundary through the `numpy` crate,
//! the GIL is released around every computation and library errors become the exception
//! classes of [`errors`]. No physics here: the Python package `qep` re-exports these names
//! and adds the Qiskit primitives in plain Python.

mod circuit;
mod errors;
mod estimate;
mod model;
mod operator;

use pyo3::prelude::*;

/// The extension module `qep._qep`.
#[pymodule]
fn _qep(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    m.add_class::<operator::Operator>()?;
    m.add_class::<operator::Spectrum>()?;
    m.add_class::<model::Model>()?;
    m.add_class::<circuit::Circuit>()?;
    m.add_function(wrap_pyfunction!(circuit::run_qasm, m)?)?;
    m.add_function(wrap_pyfunction!(circuit::gate_names, m)?)?;
    m.add_function(wrap_pyfunction!(estimate::estimate_expectation, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
