//! `qep.Operator` (a Pauli sum with its matrix-free form) and `qep.Spectrum` (eigenpairs with
//! their residuals), over `qep::pauli`, `qep::operator::XMaskOperator` and `qep::linalg`.

use std::sync::OnceLock;

use num_complex::Complex64 as C64;
use numpy::ndarray::Array2;
use numpy::{
    IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyUntypedArrayMethods,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyList;

use qep::linalg::{self, AnySpectrum, LanczosParams};
use qep::operator::XMaskOperator;
use qep::pauli::{PauliString, PauliSum, MAX_QUBITS};
use qep::state::MemoryPlan;

use crate::errors::{QepError, Result};

/// Largest operator `to_scipy` converts: a 20-qubit CSR matrix of a few hundred X-masks
/// already holds hundreds of millions of entries.
const MAX_SCIPY_QUBITS: usize = 20;

/// A complex state vector argument as a contiguous `complex128` array: the caller's own
/// buffer when it already is one (no copy), else `numpy.ascontiguousarray(x, complex128)`.
pub(crate) fn complex_array<'py>(x: &Bound<'py, PyAny>) -> PyResult<PyReadonlyArray1<'py, C64>> {
    if let Ok(a) = x.extract::<PyReadonlyArray1<'py, C64>>() {
        if a.is_c_contiguous() {
            return Ok(a);
        }
    }
    let np = x.py().import("numpy")?;
    let c = np.getattr("complex128")?;
    let a = np.call_method1("ascontiguousarray", (x, c))?;
    a.extract::<PyReadonlyArray1<'py, C64>>()
        .map_err(|_| PyValueError::new_err("expected a one-dimensional array of amplitudes"))
}

/// A Hermitian (or general) linear combination of Pauli strings on `num_qubits` qubits,
/// qubit `i` being bit `i` of the basis index (Qiskit's order). Built from qep's sparse Pauli
/// syntax (`Operator.from_terms`) or a Qiskit `SparsePauliOp`; applied matrix-free.
#[pyclass(module = "qep", frozen)]
pub struct Operator {
    sum: PauliSum,
    /// The matrix-free form, built on first use (its diagonal takes `8·2^n` bytes).
    op: OnceLock<XMaskOperator>,
}

impl Operator {
    pub(crate) fn from_sum(sum: PauliSum) -> Self {
        Self {
            sum,
            op: OnceLock::new(),
        }
    }

    /// The matrix-free operator (built once, GIL released by the caller).
    fn xmask(&self) -> Result<&XMaskOperator> {
        if let Some(op) = self.op.get() {
            return Ok(op);
        }
        let op = XMaskOperator::new(&self.sum)?;
        Ok(self.op.get_or_init(|| op))
    }

    pub(crate) fn sum(&self) -> &PauliSum {
        &self.sum
    }

    fn check_len(&self, len: usize) -> PyResult<()> {
        let dim = 1usize << self.sum.qubits();
        if self.sum.qubits() >= usize::BITS as usize - 1 || len != dim {
            return Err(PyValueError::new_err(format!(
                "state has {len} amplitudes; expected 2**{} = {dim} for this operator",
                self.sum.qubits()
            )));
        }
        Ok(())
    }

    /// `⟨ψ|H|ψ⟩` for a caller's buffer, GIL released.
    pub(crate) fn expectation_of(&self, py: Python<'_>, psi: &[C64]) -> Result<C64> {
        crate::compute(py, || -> Result<C64> {
            let op = self.xmask()?;
            qep::state::memory::check_alloc(psi.len().saturating_mul(16), "H·ψ output")?;
            let mut out = vec![C64::new(0.0, 0.0); psi.len()];
            op.apply_into(psi, &mut out);
            Ok(qep::state::dot(psi, &out))
        })
    }
}

/// Splits a Qiskit label's phase prefix (`""`, `"-"`, `"i"`, `"-i"`) from its letters.
fn strip_phase(label: &str) -> (C64, &str) {
    for (prefix, phase) in [
        ("-i", C64::new(0.0, -1.0)),
        ("-j", C64::new(0.0, -1.0)),
        ("i", C64::new(0.0, 1.0)),
        ("j", C64::new(0.0, 1.0)),
        ("-", C64::new(-1.0, 0.0)),
        ("+", C64::new(1.0, 0.0)),
    ] {
        if let Some(rest) = label.strip_prefix(prefix) {
            return (phase, rest);
        }
    }
    (C64::new(1.0, 0.0), label)
}

fn check_qubits(num_qubits: usize) -> PyResult<()> {
    if num_qubits > MAX_QUBITS {
        return Err(QepError::new_err(format!(
            "{num_qubits} qubits requested; expected at most {MAX_QUBITS}"
        )));
    }
    Ok(())
}

#[pymethods]
impl Operator {
    /// The operator `Σ c_t P_t` from `(pauli, coefficient)` pairs in qep's sparse Pauli
    /// syntax (`"X0 Z3"`, `"Y2"`, `""` for the identity; qubit indices, any order), e.g.
    /// `Operator.from_terms([("Z0 Z1", 1.0), ("X0", 0.5)], 2)`. Terms are kept as given
    /// (equal strings are added when the operator is applied).
    ///
    /// Raises QepError for a malformed string or a qubit index >= num_qubits.
    #[staticmethod]
    fn from_terms(terms: Vec<(String, C64)>, num_qubits: usize) -> PyResult<Self> {
        check_qubits(num_qubits)?;
        let mut sum = PauliSum::new(num_qubits);
        for (text, c) in terms {
            let p = PauliString::parse(&text).map_err(crate::errors::Error::from)?;
            if p.min_qubits() > num_qubits {
                return Err(QepError::new_err(format!(
                    "term \"{text}\" acts on qubit {}; expected indices < {num_qubits}",
                    p.min_qubits() - 1
                )));
            }
            sum.add(p, c);
        }
        Ok(Self::from_sum(sum))
    }

    /// The operator of a Qiskit `SparsePauliOp` (labels in Qiskit's order: qubit 0 is the
    /// rightmost letter). Coefficients must be numbers, not Parameters.
    #[staticmethod]
    fn from_sparse_pauli_op(op: &Bound<'_, PyAny>) -> PyResult<Self> {
        let num_qubits: usize = op.getattr("num_qubits")?.extract()?;
        check_qubits(num_qubits)?;
        let labels: Vec<String> = op.getattr("paulis")?.call_method0("to_labels")?.extract()?;
        let coeffs: Vec<C64> = op
            .getattr("coeffs")?
            .call_method1("astype", ("complex128",))
            .map_err(|_| {
                QepError::new_err(
                    "SparsePauliOp coefficients must be numbers (bind its Parameters first)",
                )
            })?
            .call_method0("tolist")?
            .extract()?;
        let mut sum = PauliSum::new(num_qubits);
        for (label, c) in labels.iter().zip(coeffs) {
            let (phase, letters) = strip_phase(label);
            let dense: String = letters.chars().rev().collect();
            let p = PauliString::parse(&dense).map_err(crate::errors::Error::from)?;
            sum.add(p, phase * c);
        }
        Ok(Self::from_sum(sum))
    }

    /// The operator as a Qiskit `SparsePauliOp` (terms in the order stored; needs qiskit).
    fn to_sparse_pauli_op<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let n = self.sum.qubits();
        let spo = py.import("qiskit.quantum_info")?.getattr("SparsePauliOp")?;
        let list = PyList::empty(py);
        for (p, c) in self.terms_qiskit() {
            list.append((p, c))?;
        }
        if self.sum.is_empty() {
            list.append(("I".repeat(n), C64::new(0.0, 0.0)))?;
        }
        let kwargs = pyo3::types::PyDict::new(py);
        kwargs.set_item("num_qubits", n)?;
        spo.call_method("from_list", (list,), Some(&kwargs))
    }

    /// The number of qubits `n` (states have `2**n` amplitudes).
    #[getter]
    fn num_qubits(&self) -> usize {
        self.sum.qubits()
    }

    /// The number of stored terms.
    #[getter]
    fn num_terms(&self) -> usize {
        self.sum.len()
    }

    /// The terms as `(label, coefficient)` pairs in qep's sparse syntax (`"X0 Z3"`).
    #[getter]
    fn terms(&self) -> Vec<(String, C64)> {
        self.sum
            .terms()
            .iter()
            .map(|&(p, c)| (p.label(), c))
            .collect()
    }

    /// Whether every coefficient is real (the operator is Hermitian).
    #[getter]
    fn is_hermitian(&self) -> bool {
        self.sum.is_hermitian(0.0)
    }

    /// `H ψ` as a new complex128 array (qubit i is bit i of the index, as in Qiskit). psi is
    /// any array-like of `2**n` amplitudes; a contiguous complex128 array is read in place.
    fn apply<'py>(
        &self,
        py: Python<'py>,
        psi: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray1<C64>>> {
        let psi = complex_array(psi)?;
        self.check_len(psi.len())?;
        let n = psi.len();
        let src = psi.as_slice()?;
        qep::state::memory::check_alloc(n.saturating_mul(16), "H·ψ output")
            .map_err(crate::errors::Error::from)?;
        let out = unsafe { PyArray1::<C64>::new(py, n, false) };
        {
            let mut w = out.readwrite();
            let dst = w.as_slice_mut()?;
            crate::compute(py, || -> Result<()> {
                self.xmask()?.apply_into(src, dst);
                Ok(())
            })?;
        }
        Ok(out)
    }

    /// `⟨ψ|H|ψ⟩` (psi is not normalised first): a float for a Hermitian operator, a complex
    /// number otherwise.
    fn expectation<'py>(&self, py: Python<'py>, psi: &Bound<'py, PyAny>) -> PyResult<Py<PyAny>> {
        let psi = complex_array(psi)?;
        self.check_len(psi.len())?;
        let v = self.expectation_of(py, psi.as_slice()?)?;
        if self.sum.is_hermitian(0.0) {
            Ok(v.re.into_pyobject(py)?.into_any().unbind())
        } else {
            Ok(v.into_pyobject(py)?.into_any().unbind())
        }
    }

    /// The `k` lowest eigenpairs by Lanczos (dense diagonalisation up to 256 dimensions),
    /// each verified: `‖Hψ − Eψ‖ ≤ tol` (residuals reported). The level above them is also
    /// computed, so `gap` is known even for `k = 1`.
    ///
    /// Raises NotConvergedError when the budget of `max_matvecs` operator applications runs
    /// out, MemoryLimitError when the Krylov workspace does not fit, QepError for a
    /// non-Hermitian operator or a tolerance below the rounding floor.
    #[pyo3(signature = (k=1, tol=1e-9, max_matvecs=20_000, seed=0x9e37_79b9))]
    fn spectrum(
        &self,
        py: Python<'_>,
        k: usize,
        tol: f64,
        max_matvecs: usize,
        seed: u64,
    ) -> PyResult<Spectrum> {
        let params = LanczosParams {
            k,
            tol,
            max_matvecs,
            seed,
            gap: true,
            ..LanczosParams::default()
        };
        let s = crate::compute(py, || -> Result<AnySpectrum> {
            let mut plan = MemoryPlan::new("Operator.spectrum");
            plan.extend(&linalg::operator_memory(&self.sum))
                .extend(&linalg::eigenpairs_memory(&self.sum, &params));
            plan.check()?;
            Ok(linalg::eigenpairs(self.xmask()?, &params, None)?)
        })?;
        Ok(Spectrum::new(s, 1usize << self.sum.qubits()))
    }

    /// The operator as a `scipy.sparse.csr_matrix` (complex128), for at most 20 qubits
    /// (larger matrices are refused: apply the operator matrix-free instead).
    fn to_scipy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let n = self.sum.qubits();
        if n > MAX_SCIPY_QUBITS {
            return Err(QepError::new_err(format!(
                "a CSR matrix of {n} qubits requested; to_scipy converts at most \
                 {MAX_SCIPY_QUBITS} qubits (apply the operator matrix-free instead)"
            )));
        }
        let csr = py.detach(|| -> Result<_> { Ok(self.xmask()?.to_csr()?) })?;
        let dim = 1usize << n;
        let (indptr, indices, data) = csr.into_raw_storage();
        let sparse = py.import("scipy.sparse")?;
        let data = data.into_pyarray(py);
        let indices = indices
            .into_iter()
            .map(|i| i as i64)
            .collect::<Vec<_>>()
            .into_pyarray(py);
        let indptr = indptr
            .into_iter()
            .map(|i| i as i64)
            .collect::<Vec<_>>()
            .into_pyarray(py);
        sparse.call_method1("csr_matrix", ((data, indices, indptr), (dim, dim)))
    }

    fn __repr__(&self) -> String {
        format!(
            "qep.Operator(num_qubits={}, num_terms={})",
            self.sum.qubits(),
            self.sum.len()
        )
    }
}

impl Operator {
    /// The terms with Qiskit labels (qubit 0 rightmost).
    fn terms_qiskit(&self) -> Vec<(String, C64)> {
        let n = self.sum.qubits();
        self.sum
            .terms()
            .iter()
            .map(|&(p, c)| {
                let label: String = (0..n).rev().map(|q| p.letter(q).as_char()).collect();
                (label, c)
            })
            .collect()
    }
}

/// The lowest eigenpairs of an operator with their evidence (see `Operator.spectrum`).
#[pyclass(module = "qep", frozen)]
pub struct Spectrum {
    inner: AnySpectrum,
    dim: usize,
}

impl Spectrum {
    fn new(inner: AnySpectrum, dim: usize) -> Self {
        Self { inner, dim }
    }
}

#[pymethods]
impl Spectrum {
    /// Energies, ascending, with multiplicity (float64 array of length k).
    #[getter]
    fn energies<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, self.inner.energies())
    }

    /// Residual norms `‖Hψ − Eψ‖`, one per energy.
    #[getter]
    fn residuals<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, self.inner.residuals())
    }

    /// Normalised eigenvectors as the columns of a complex128 array of shape `(2**n, k)`.
    #[getter]
    fn states<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<C64>> {
        let k = self.inner.energies().len();
        let a = match &self.inner {
            AnySpectrum::Real(s) => {
                Array2::from_shape_fn((self.dim, k), |(i, j)| C64::new(s.vectors[j][i], 0.0))
            }
            AnySpectrum::Complex(s) => {
                Array2::from_shape_fn((self.dim, k), |(i, j)| s.vectors[j][i])
            }
        };
        a.into_pyarray(py)
    }

    /// `E_1 − E_0` (None for a one-dimensional space).
    #[getter]
    fn gap(&self) -> Option<f64> {
        self.inner.gap()
    }

    /// The level just above the k wanted ones, when the space has one.
    #[getter]
    fn next_energy(&self) -> Option<f64> {
        self.inner.next_energy()
    }

    /// Operator applications used.
    #[getter]
    fn matvecs(&self) -> usize {
        match &self.inner {
            AnySpectrum::Real(s) => s.matvecs,
            AnySpectrum::Complex(s) => s.matvecs,
        }
    }

    /// `"dense"`, `"lanczos"` or `"lanczos-two-pass"`.
    #[getter]
    fn method(&self) -> &'static str {
        match &self.inner {
            AnySpectrum::Real(s) => s.method,
            AnySpectrum::Complex(s) => s.method,
        }
    }

    fn __repr__(&self) -> String {
        let gap = self
            .inner
            .gap()
            .map_or_else(|| "None".to_string(), |g| format!("{g}"));
        format!(
            "qep.Spectrum(energies={:?}, gap={gap}, method={:?})",
            self.inner.energies(),
            self.method()
        )
    }
}
