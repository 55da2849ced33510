//! `qep._qep.Circuit` (qep's op list, built from OpenQASM or from an instruction list) and
//! `run_qasm`, over `qep::circuit` (the executor is called through its public functions).

use std::collections::BTreeMap;
use std::path::Path;

use num_complex::Complex64 as C64;
use numpy::PyArray1;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use qep::circuit::{self, execute, gates, Condition, Op};

use crate::errors::{CircuitError, Result};

/// Largest circuit whose amplitudes `run_qasm(..., statevector=True)` returns, as the CLI.
const MAX_STATEVECTOR_QUBITS: usize = 30;

/// One instruction as the Python side sends it: name, qubits, clbits, parameters and an
/// optional condition `(first clbit, number of clbits, value)`.
type Instruction = (
    String,
    Vec<usize>,
    Vec<usize>,
    Vec<f64>,
    Option<(usize, usize, u64)>,
);

/// A circuit in qep's op list form: qubit i is bit i of the state's index, classical bit j
/// is bit j of an outcome (printed rightmost). Built by `Circuit.from_qasm(text)` or, from
/// Qiskit, by `qep.qiskit` (no text round trip).
#[pyclass(module = "qep", frozen)]
pub struct Circuit {
    inner: circuit::Circuit,
}

fn bad(msg: String) -> PyErr {
    CircuitError::new_err(msg)
}

fn check_index(i: usize, limit: usize, what: &str, name: &str) -> PyResult<()> {
    if i >= limit {
        return Err(bad(format!(
            "`{name}`: {what} {i} out of range; the circuit has {limit}"
        )));
    }
    Ok(())
}

fn condition(
    cond: Option<(usize, usize, u64)>,
    clbits: usize,
    name: &str,
) -> PyResult<Option<Condition>> {
    let Some((start, len, value)) = cond else {
        return Ok(None);
    };
    if len == 0 || start.checked_add(len).is_none_or(|end| end > clbits) {
        return Err(bad(format!(
            "`{name}`: condition on clbits {start}..{} out of range; the circuit has {clbits}",
            start.saturating_add(len)
        )));
    }
    if len < 64 && value >> len != 0 {
        return Err(bad(format!(
            "`{name}`: condition value {value} does not fit in {len} bits"
        )));
    }
    Ok(Some(Condition { start, len, value }))
}

fn build(qubits: usize, clbits: usize, ops: Vec<Instruction>) -> PyResult<circuit::Circuit> {
    if qubits > circuit::MAX_QUBITS {
        return Err(bad(format!(
            "{qubits} qubits exceed the executor's limit of {}",
            circuit::MAX_QUBITS
        )));
    }
    if clbits > circuit::MAX_CLBITS {
        return Err(bad(format!(
            "{clbits} classical bits exceed the limit of {}",
            circuit::MAX_CLBITS
        )));
    }
    let mut c = circuit::Circuit::new(qubits, clbits);
    for (name, qs, cs, params, cond) in ops {
        for &q in &qs {
            check_index(q, qubits, "qubit", &name)?;
        }
        for &j in &cs {
            check_index(j, clbits, "clbit", &name)?;
        }
        let cond = condition(cond, clbits, &name)?;
        let op = match name.as_str() {
            "measure" => match (qs.as_slice(), cs.as_slice()) {
                (&[q], &[j]) => Op::Measure { q, c: j, cond },
                _ => return Err(bad("`measure` takes one qubit and one clbit".into())),
            },
            "reset" => match qs.as_slice() {
                &[q] => Op::Reset { q, cond },
                _ => return Err(bad("`reset` takes one qubit".into())),
            },
            _ => {
                let spec = gates::lookup(&name).ok_or_else(|| {
                    bad(format!(
                        "unknown gate `{name}`; expected a gate of qep's table"
                    ))
                })?;
                if spec.params != params.len() || !spec.qubits.accepts(qs.len()) {
                    return Err(bad(format!(
                        "`{name}` takes {} parameter(s) on {:?} qubits, got {} on {}",
                        spec.params,
                        spec.qubits,
                        params.len(),
                        qs.len()
                    )));
                }
                if let Some(x) = params.iter().find(|x| !x.is_finite()) {
                    return Err(bad(format!("`{name}`: parameter {x} is not finite")));
                }
                for (k, q) in qs.iter().enumerate() {
                    if qs[..k].contains(q) {
                        return Err(bad(format!("`{name}` on qubit {q} twice")));
                    }
                }
                let gate = spec.make(&params, qs.len());
                Op::Gate {
                    gate,
                    qubits: qs,
                    cond,
                }
            }
        };
        c.ops.push(op);
    }
    Ok(c)
}

fn state_array<'py>(py: Python<'py>, v: Vec<C64>) -> Bound<'py, PyArray1<C64>> {
    PyArray1::from_vec(py, v)
}

/// The final state: all gates applied from |0…0⟩ when every measurement is final (so the
/// state is the one measured), else one run with mid-circuit draws seeded by `seed`.
fn final_state(c: &circuit::Circuit, seed: u64) -> Result<Vec<C64>> {
    if c.measurements_are_final() {
        Ok(execute::unitary_part_state(c)?)
    } else {
        Ok(execute::simulate(c, seed)?.state)
    }
}

#[pymethods]
impl Circuit {
    /// A circuit from `(name, qubits, clbits, params, condition)` tuples: `name` a gate of
    /// qep's table (`gate_names()`), `"measure"` or `"reset"`; `condition` None or
    /// `(first_clbit, num_clbits, value)`.
    #[new]
    fn new(num_qubits: usize, num_clbits: usize, instructions: Vec<Instruction>) -> PyResult<Self> {
        Ok(Self {
            inner: build(num_qubits, num_clbits, instructions)?,
        })
    }

    /// Parses an OpenQASM 2 or 3 program (errors name line and column).
    #[staticmethod]
    fn from_qasm(py: Python<'_>, text: String) -> PyResult<Self> {
        let inner = py.detach(|| -> Result<_> { Ok(circuit::parse_qasm(&text)?) })?;
        Ok(Self { inner })
    }

    /// The number of qubits.
    #[getter]
    fn num_qubits(&self) -> usize {
        self.inner.qubits
    }

    /// The number of classical bits.
    #[getter]
    fn num_clbits(&self) -> usize {
        self.inner.clbits
    }

    /// The number of operations.
    #[getter]
    fn num_ops(&self) -> usize {
        self.inner.ops.len()
    }

    /// Whether the circuit measures anything.
    #[getter]
    fn has_measurements(&self) -> bool {
        self.inner.has_measurements()
    }

    /// Whether every measurement is final and nothing is reset or classically controlled:
    /// the state before measurement is then fixed, and every shot is drawn from it.
    #[getter]
    fn measurements_are_final(&self) -> bool {
        self.inner.measurements_are_final()
    }

    /// Shot counts `{bitstring: count}` over the classical bits (over the qubits if nothing
    /// is measured), bit 0 rightmost; registers separated by a space, the last declared
    /// leftmost (Qiskit's `get_counts`). Mid-circuit measurements branch.
    #[pyo3(signature = (shots, seed=0))]
    fn sample(&self, py: Python<'_>, shots: u64, seed: u64) -> PyResult<BTreeMap<String, u64>> {
        Ok(crate::compute(py, || -> Result<_> {
            Ok(circuit::sample_counts(&self.inner, shots, seed)?)
        })?)
    }

    /// The final state (complex128, qubit i = bit i): the state before measurement when
    /// every measurement is final, else the state after one run whose mid-circuit draws are
    /// seeded by `seed`.
    #[pyo3(signature = (seed=0))]
    fn statevector<'py>(&self, py: Python<'py>, seed: u64) -> PyResult<Bound<'py, PyArray1<C64>>> {
        let v = crate::compute(py, || final_state(&self.inner, seed))?;
        Ok(state_array(py, v))
    }

    /// The exact distribution of the counts keys `{bitstring: probability}` (every branch of
    /// a mid-circuit measurement followed; meant for small circuits).
    fn probabilities(&self, py: Python<'_>) -> PyResult<BTreeMap<String, f64>> {
        Ok(crate::compute(py, || -> Result<_> {
            Ok(circuit::exact_distribution(&self.inner)?)
        })?)
    }

    /// The circuit as OpenQASM 2 text.
    fn to_qasm(&self) -> String {
        circuit::to_qasm(&self.inner)
    }

    fn __repr__(&self) -> String {
        format!(
            "qep.Circuit(num_qubits={}, num_clbits={}, num_ops={})",
            self.inner.qubits,
            self.inner.clbits,
            self.inner.ops.len()
        )
    }
}

/// Runs an OpenQASM 2 or 3 program as `qep circuit run --json` does: a dict with `qubits`,
/// `clbits`, `shots`, `seed`, `counts` ({bitstring: count}, bit 0 rightmost) and, with
/// `statevector=True`, `statevector` (complex128 array of the final state).
#[pyfunction]
#[pyo3(signature = (text, shots=1024, seed=0, statevector=false))]
pub fn run_qasm<'py>(
    py: Python<'py>,
    text: String,
    shots: u64,
    seed: u64,
    statevector: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let (c, counts, state) = py.detach(|| -> Result<_> {
        let c = circuit::parse_qasm_source(&text, Path::new("<qasm>"), &[])?;
        let mut plan = execute::MemoryPlan::sampling(&c, shots);
        if statevector {
            let sv = qep::state::memory::state_bytes(c.qubits, 16);
            plan = plan.with("statevector", sv);
        }
        plan.check()?;
        let state = if statevector && c.qubits <= MAX_STATEVECTOR_QUBITS {
            Some(final_state(&c, seed)?)
        } else {
            None
        };
        let counts = circuit::sample_counts(&c, shots, seed)?;
        Ok((c, counts, state))
    })?;
    let d = PyDict::new(py);
    d.set_item("qubits", c.qubits)?;
    d.set_item("clbits", c.clbits)?;
    d.set_item("shots", shots)?;
    d.set_item("seed", seed)?;
    d.set_item("counts", counts)?;
    if let Some(v) = state {
        d.set_item("statevector", state_array(py, v))?;
    }
    Ok(d)
}

/// The gate names qep's executor knows, with their parameter counts: `{name: params}`.
#[pyfunction]
pub fn gate_names() -> BTreeMap<&'static str, usize> {
    gates::TABLE.iter().map(|g| (g.name, g.params)).collect()
}
