//! `qep._qep`: the Python extension module of qep. Thin wrappers over the library: each
//! `#[pyclass]` holds a library value, arrays cross the boundary through the `numpy` crate,
//! the GIL is released around every computation and library errors become the exception
//! classes of [`errors`]. No physics here: the Python package `qep` re-exports these names
//! and adds the Qiskit primitives in plain Python.

mod circuit;
mod ep;
mod errors;
mod estimate;
mod json;
mod model;
mod operator;
mod study;

use pyo3::prelude::*;

/// The allocator of the `qep` binary: state and Krylov vectors start on a cache line (the
/// `H·ψ` and circuit kernels' 64-byte loads then never span two lines). Only this module's
/// allocations go through it; Python's and numpy's own are untouched.
#[global_allocator]
static ALLOC: qep::state::memory::CacheLineAlloc = qep::state::memory::CacheLineAlloc;

/// Runs `f` with the GIL released on a worker of rayon's pool: the library's parallel passes
/// then start at once on that worker while the others join in, where passes started from the
/// Python thread are handed to a sleeping worker and waited for (two thread wake-ups per
/// pass, on a small VM as long as a 16-qubit `H·ψ`). The numerical calls of the module go
/// through it (the interruptible runs through `ep::interruptible`, which keeps the calling
/// thread for Python's signal handlers); parsing stays on the calling thread, whose stack is
/// larger than a worker's.
pub(crate) fn compute<T: Send>(py: Python<'_>, f: impl FnOnce() -> T + Send) -> T {
    py.detach(|| rayon::scope(|_| f()))
}

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
    m.add_function(wrap_pyfunction!(study::plateau, m)?)?;
    m.add_function(wrap_pyfunction!(study::shots_study, m)?)?;
    m.add_function(wrap_pyfunction!(study::prepare, m)?)?;
    m.add_function(wrap_pyfunction!(study::thermalize, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
