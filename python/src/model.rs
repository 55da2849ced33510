//! `qep.Model`: a network Hamiltonian `H(β, θ, u, d)` (Eq. 16) loaded from a YAML model file
//! or a dictionary of the same schema, over `qep::hamiltonian`.

use std::path::{Path, PathBuf};
use std::sync::RwLock;

use numpy::PyArray1;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use qep::hamiltonian::{self, Example};

use crate::errors::model_error;
use crate::operator::Operator;

/// A quantum neural network as a Hamiltonian `H(β, θ, u, d) = H_fixed + Σ_k θ_k P_k +
/// Σ_i u_i Z_i + (β/2) Σ_o (Z_o − d_o)²` (Eq. 16 of Massar & Mognetti, arXiv:2405.08467).
///
/// Load one with `Model.from_yaml("hamiltonians/xor.yaml")` or `Model.from_dict({...})`
/// (the YAML schema as a dictionary). `params` names the trainable terms P_k, `theta` holds
/// their values (settable), `hamiltonian(inputs, beta, targets)` builds the Operator of one
/// example, whose `spectrum()` gives the ground state that computes the answer.
#[pyclass(module = "qep", frozen)]
pub struct Model {
    model: hamiltonian::Model,
    theta: RwLock<Vec<f64>>,
}

fn theta_of(m: &Model) -> Vec<f64> {
    match m.theta.read() {
        Ok(t) => t.clone(),
        Err(p) => p.into_inner().clone(),
    }
}

impl Model {
    fn new(model: hamiltonian::Model) -> Self {
        let theta = model.theta();
        Self {
            model,
            theta: RwLock::new(theta),
        }
    }
}

fn vec_of(x: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Option<Vec<f64>>> {
    let Some(x) = x else { return Ok(None) };
    if x.is_none() {
        return Ok(None);
    }
    let np = x.py().import("numpy")?;
    let a = np
        .call_method1("asarray", (x, np.getattr("float64")?))?
        .call_method0("ravel")?;
    a.extract::<Vec<f64>>()
        .map(Some)
        .map_err(|_| PyValueError::new_err(format!("{what}: expected a list of numbers")))
}

#[pymethods]
impl Model {
    /// Loads a model file (docs/DESIGN.md has the schema). Raises ModelError with the file,
    /// line, column and key of the problem, and the CLI's message.
    #[staticmethod]
    fn from_yaml(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        match py.detach(|| hamiltonian::load(&path)) {
            Ok(m) => Ok(Self::new(m)),
            Err(e) => Err(model_error(py, &e).into()),
        }
    }

    /// Parses a model from YAML (or JSON) text; `path` names it in messages and is the
    /// directory CSV datasets are read relative to.
    #[staticmethod]
    #[pyo3(signature = (text, path=None))]
    fn from_yaml_text(py: Python<'_>, text: String, path: Option<PathBuf>) -> PyResult<Self> {
        let path = path.unwrap_or_else(|| Path::new("<text>.yaml").to_path_buf());
        match py.detach(|| hamiltonian::parse_str(&text, &path)) {
            Ok(m) => Ok(Self::new(m)),
            Err(e) => Err(model_error(py, &e).into()),
        }
    }

    /// A model from a dictionary with the YAML schema's keys, e.g.
    /// `{"qubits": 2, "inputs": [0], "outputs": [1], "params": [{"pauli": "Z0 Z1",
    /// "value": 0.5}]}`. Messages locate problems in the dictionary's JSON text;
    /// `path` is where CSV datasets are read relative to (default: the working directory).
    #[staticmethod]
    #[pyo3(signature = (d, path=None))]
    fn from_dict(py: Python<'_>, d: &Bound<'_, PyAny>, path: Option<PathBuf>) -> PyResult<Self> {
        let text: String = py
            .import("qep._convert")?
            .call_method1("model_json", (d,))?
            .extract()?;
        let path = path.unwrap_or_else(|| Path::new("<dict>").to_path_buf());
        Self::from_yaml_text(py, text, Some(path))
    }

    /// The model's name (`name`, else the file stem).
    #[getter]
    fn name(&self) -> String {
        self.model.name.clone()
    }

    /// The number of qubits N.
    #[getter]
    fn num_qubits(&self) -> usize {
        self.model.qubits
    }

    /// The trainable terms P_k as labels (`"Z0 Z1"`), in the order of `theta`.
    #[getter]
    fn params(&self) -> Vec<String> {
        self.model.params.iter().map(|p| p.label.clone()).collect()
    }

    /// The current parameter values θ_k (a copy; assign a new array to change them).
    #[getter]
    fn theta<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_vec(py, theta_of(self))
    }

    #[setter]
    fn set_theta(&self, theta: &Bound<'_, PyAny>) -> PyResult<()> {
        let new = vec_of(Some(theta), "theta")?.unwrap_or_default();
        if new.len() != self.model.params.len() {
            return Err(PyValueError::new_err(format!(
                "theta has {} values; the model `{}` has {} parameters",
                new.len(),
                self.model.name,
                self.model.params.len()
            )));
        }
        if let Some(x) = new.iter().find(|x| !x.is_finite()) {
            return Err(PyValueError::new_err(format!(
                "theta: {x} is not a finite number"
            )));
        }
        match self.theta.write() {
            Ok(mut t) => *t = new,
            Err(p) => *p.into_inner() = new,
        }
        Ok(())
    }

    /// The input qubits (they get the fields u_i Z_i), in the order of an example's inputs.
    #[getter]
    fn inputs(&self) -> Vec<usize> {
        self.model.inputs.clone()
    }

    /// The output qubits (cost and clamp), in the order of an example's targets.
    #[getter]
    fn outputs(&self) -> Vec<usize> {
        self.model.outputs.clone()
    }

    /// The training examples as `(inputs, targets)` pairs (empty without a dataset).
    #[getter]
    fn train_examples(&self) -> Vec<(Vec<f64>, Vec<f64>)> {
        self.model
            .dataset
            .as_ref()
            .map(|d| {
                d.train
                    .iter()
                    .map(|e| (e.inputs.clone(), e.targets.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The held-out examples as `(inputs, targets)` pairs.
    #[getter]
    fn test_examples(&self) -> Vec<(Vec<f64>, Vec<f64>)> {
        self.model
            .dataset
            .as_ref()
            .map(|d| {
                d.test
                    .iter()
                    .map(|e| (e.inputs.clone(), e.targets.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `H(β, θ, u, d)` of Eq. 16 at the current `theta` as an Operator: input fields
    /// `inputs` (one per input qubit), and for `beta != 0` the clamp towards `targets` (one
    /// per output qubit). Without inputs there are no fields and beta must be 0.
    #[pyo3(signature = (inputs=None, beta=0.0, targets=None))]
    fn hamiltonian(
        &self,
        py: Python<'_>,
        inputs: Option<&Bound<'_, PyAny>>,
        beta: f64,
        targets: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Operator> {
        let inputs = vec_of(inputs, "inputs")?;
        let targets = vec_of(targets, "targets")?;
        if beta != 0.0 && targets.is_none() {
            return Err(PyValueError::new_err(
                "beta != 0 clamps the outputs towards targets; pass targets=[...]",
            ));
        }
        let example = match (inputs, targets) {
            (None, None) => None,
            (i, t) => Some(Example {
                inputs: i.unwrap_or_else(|| vec![0.0; self.model.inputs.len()]),
                targets: t.unwrap_or_else(|| vec![0.0; self.model.outputs.len()]),
            }),
        };
        let theta = theta_of(self);
        match py.detach(|| self.model.hamiltonian(&theta, example.as_ref(), beta)) {
            Ok(h) => Ok(Operator::from_sum(h)),
            Err(e) => Err(model_error(py, &e).into()),
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "qep.Model(name={:?}, num_qubits={}, params={})",
            self.model.name,
            self.model.qubits,
            self.model.params.len()
        )
    }
}
