//! `qep.Model`: a network Hamiltonian `H(β, θ, u, d)` (Eq. 16) loaded from a YAML model file
//! or a dictionary of the same schema, over `qep::hamiltonian`.

use std::path::{Path, PathBuf};
use std::sync::RwLock;

use numpy::PyArray1;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use qep::hamiltonian::{self, Example};

use pyo3::exceptions::PyKeyboardInterrupt;
use qep::cancel::Cancel;

use crate::ep::{self, TrainRequest, TrainStop};
use crate::errors::model_error;
use crate::operator::Operator;

/// A quantum neural network as a Hamiltonian `H(β, θ, u, d) = H_fixed + Σ_k θ_k P_k +
/// Σ_i u_i Z_i + (β/2) Σ_o (Z_o − d_o)²` (Eq. 16 of Massar & Mognetti, arXiv:2405.08467).
///
/// Load one with `Model.from_yaml("hamiltonians/xor.yaml")` or `Model.from_dict({...})`
/// (the YAML schema as a dictionary). `params` names the trainable terms P_k, `theta` holds
/// their values (settable), `hamiltonian(inputs, beta, targets)` builds the Operator of one
/// example, whose `spectrum()` gives the ground state that computes the answer.
///
/// `grad(example)` is the EP gradient of one example (what `qep grad --json` prints) and
/// `train(epochs)` trains `theta` in place (what `qep run --json` prints), both through the
/// engine the model asks for: eigenstates, adiabatic preparation, the Gibbs state or the
/// classical network.
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
    /// The library model (for the studies).
    pub(crate) fn lib(&self) -> &hamiltonian::Model {
        &self.model
    }

    /// The current parameter values.
    pub(crate) fn theta_now(&self) -> Vec<f64> {
        theta_of(self)
    }

    fn store_theta(&self, new: Vec<f64>) {
        match self.theta.write() {
            Ok(mut t) => *t = new,
            Err(p) => *p.into_inner() = new,
        }
    }

    /// The example `grad` names: a training-example index (default 0), or an
    /// `(inputs, targets)` pair checked against the model's input and output qubits.
    pub(crate) fn example_of(&self, example: Option<&Bound<'_, PyAny>>) -> PyResult<Example> {
        let m = &self.model;
        let file = m.source.path.display();
        let index = match example {
            None => Some(0),
            Some(e) if e.is_none() => Some(0),
            Some(e) => e.extract::<usize>().ok(),
        };
        if let Some(i) = index {
            let Some(d) = &m.dataset else {
                return Err(PyValueError::new_err(format!(
                    "{file}: the model has no dataset; give the example as (inputs, targets)"
                )));
            };
            return d.train.get(i).cloned().ok_or_else(|| {
                PyValueError::new_err(format!(
                    "{file}: example {i} does not exist; expected 0..{} (training examples)",
                    d.train.len()
                ))
            });
        }
        let bad = || {
            PyValueError::new_err(
                "example: expected a training-example index or an (inputs, targets) pair",
            )
        };
        let e = example.ok_or_else(bad)?;
        let (i, t): (Bound<'_, PyAny>, Bound<'_, PyAny>) = e.extract().map_err(|_| bad())?;
        let inputs = vec_of(Some(&i), "inputs")?.unwrap_or_default();
        let targets = vec_of(Some(&t), "targets")?.unwrap_or_default();
        for (what, given, sites) in [
            ("inputs", inputs.len(), &m.inputs),
            ("targets", targets.len(), &m.outputs),
        ] {
            if given != sites.len() {
                return Err(PyValueError::new_err(format!(
                    "{file}: {what} has {given} values; expected {}, one per model {} {sites:?}",
                    sites.len(),
                    if what == "inputs" { "input" } else { "output" }
                )));
            }
        }
        Ok(Example { inputs, targets })
    }

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

    /// The trainable parameters with their ties, in the order of `theta`: one dict per θ_k
    /// with `label`, `paulis` (the strings θ_k multiplies), `coeffs` (their coefficients
    /// c_kj, all 1 unless written), `family` (the coupling family, or None) and `value` (the
    /// model file's initial value). H holds θ_k Σ_j c_kj P_kj, and every gradient has one
    /// entry per θ_k.
    #[getter]
    fn parameters<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        self.model
            .params
            .iter()
            .map(|p| {
                let d = PyDict::new(py);
                d.set_item("label", &p.label)?;
                let paulis: Vec<String> = p.strings.iter().map(|(s, _)| s.to_string()).collect();
                let coeffs: Vec<f64> = p.strings.iter().map(|&(_, c)| c).collect();
                d.set_item("paulis", paulis)?;
                d.set_item("coeffs", coeffs)?;
                d.set_item("family", p.family.clone())?;
                d.set_item("value", p.value)?;
                Ok(d)
            })
            .collect()
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
        self.store_theta(new);
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

    /// The EP gradient of one example, exactly as `qep grad FILE --json` computes and prints
    /// it: a dict with the same keys (`engine`, `example`, `params`, `ep`, `exact`, `ep_std`,
    /// `cosine`, … and `provenance`), every list of numbers a numpy array.
    ///
    /// The model's engine decides the keys: eigenstates (Eq. 16–29; `oracle` the MINRES
    /// gradient), adiabatically prepared states (`prepared`, per sweep time), the Gibbs state
    /// with a temperature (`clamped`, `covariance`, `kubo_mori`, `exact`; by typicality above
    /// 12 qubits) or the classical relaxed network (`kind: classical`).
    ///
    /// `example` is a training-example index or an `(inputs, targets)` pair; `beta` the
    /// clamping strength (default: the model's, else 0.01; with `shots` and no β chosen for
    /// them, the shot-aware β of the bias–noise error model, reported as `beta_source:
    /// "shot-aware"` with the fit in `shot_aware`); `shots` estimates every ⟨P_k⟩
    /// from that many shots per commuting group and state (`ep_std` then holds standard
    /// errors); `seed` seeds the eigensolver's start vectors, shots and random vectors (the
    /// CLI's default when None); `temperature` switches to the Gibbs state; `exact=False`
    /// skips the oracle. `one_sided`, `level`, `samples` and `prep_times` are `qep grad`'s
    /// `--one-sided`, `--eigen`, `--samples` and `--prep-times`. Uses the current `theta`.
    /// One gradient has no safe point to stop at: a Ctrl-C is raised when it is done.
    #[pyo3(signature = (example=None, beta=None, shots=None, seed=None, temperature=None,
                        exact=true, *, one_sided=false, level=None, samples=8, prep_times=None))]
    #[allow(clippy::too_many_arguments)]
    fn grad<'py>(
        &self,
        py: Python<'py>,
        example: Option<&Bound<'py, PyAny>>,
        beta: Option<f64>,
        shots: Option<u64>,
        seed: Option<u64>,
        temperature: Option<f64>,
        exact: bool,
        one_sided: bool,
        level: Option<usize>,
        samples: usize,
        prep_times: Option<Vec<f64>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ex = self.example_of(example)?;
        let mut r = ep::grad_request(ex, seed);
        r.beta = beta;
        r.shots = shots;
        r.temperature = temperature;
        r.exact = exact;
        r.one_sided = one_sided;
        r.level = level;
        r.samples = samples;
        r.prep_times = prep_times;
        let theta = theta_of(self);
        let v = crate::compute(py, || ep::grad(&self.model, &theta, &r))?;
        crate::json::to_py(py, &v)
    }

    /// Trains the network by equilibrium propagation exactly as `qep run FILE --json` does
    /// (the model's `training` section: optimiser, learning rate, batch size, epochs, seed)
    /// and returns the same summary dict (`model`, `epochs`, `final_cost`, `train_accuracy`,
    /// `test_accuracy`, `test_cost`, `wall_seconds`, `seconds_per_example`, `provenance`),
    /// plus `theta` (the trained parameters, numpy) and `history` (per-epoch metrics as numpy
    /// columns: `epoch`, `train_cost`, `train_accuracy`, `test_cost`, `grad_norm`, …).
    ///
    /// Starts from the current `theta` and leaves the trained values in it. `epochs`
    /// overrides the model's; `out=DIR` writes the run folder `qep run --out DIR` writes
    /// (checkpoint.json, params.json, summary.json) after every epoch, and `resume=True`
    /// continues the run saved there; `overwrite=True` replaces one. `progress` (on by default)
    /// shows a progress bar (tqdm when installed, else a line on stderr). Ctrl-C (KeyboardInterrupt) stops at the end of the
    /// current mini-batch; `theta` then holds the last completed epoch, saved in `out`.
    #[pyo3(signature = (epochs=None, out=None, resume=false, progress=true, *, overwrite=false))]
    fn train<'py>(
        &self,
        py: Python<'py>,
        epochs: Option<usize>,
        out: Option<PathBuf>,
        resume: bool,
        progress: bool,
        overwrite: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let r = TrainRequest {
            epochs,
            out,
            resume,
            overwrite,
        };
        let bar: Option<Py<PyAny>> = if progress {
            let name = format!("{}: training", self.model.name);
            Some(
                py.import("qep._progress")?
                    .call_method1("Bar", (name,))?
                    .unbind(),
            )
        } else {
            None
        };
        let cancel = Cancel::new();
        let theta0 = theta_of(self);
        // A Ctrl-C that lands while the display's Python code runs is raised there.
        let in_display: std::sync::Mutex<Option<PyErr>> = std::sync::Mutex::new(None);
        let (res, pending) = ep::interruptible(py, &cancel, |poll| {
            ep::train(&self.model, theta0, &r, &cancel, &mut |done, total| {
                if let Some(b) = &bar {
                    Python::attach(|py| {
                        // A broken progress display must not stop the training; an
                        // interrupt must.
                        if let Err(e) = b.call_method1(py, "update_to", (done, total)) {
                            if e.is_instance_of::<PyKeyboardInterrupt>(py) {
                                cancel.cancel();
                                if let Ok(mut p) = in_display.lock() {
                                    *p = Some(e);
                                }
                            }
                        }
                    });
                }
                poll();
            })
        });
        let pending = pending.or(in_display.into_inner().unwrap_or_else(|p| p.into_inner()));
        if let Some(b) = &bar {
            b.call_method0(py, "close")?;
        }
        match res {
            Ok(t) => {
                self.store_theta(t.theta.clone());
                let d = crate::json::to_py(py, &t.summary)?;
                d.set_item("theta", PyArray1::from_vec(py, t.theta))?;
                d.set_item("history", crate::json::to_py(py, &t.history)?)?;
                Ok(d)
            }
            Err(TrainStop::Interrupted(i)) => {
                self.store_theta(i.theta);
                Err(match pending {
                    Some(e) if e.is_instance_of::<PyKeyboardInterrupt>(py) => {
                        PyKeyboardInterrupt::new_err(i.message)
                    }
                    Some(e) => e,
                    None => PyKeyboardInterrupt::new_err(i.message),
                })
            }
            Err(TrainStop::Failed(e)) => Err(pending.unwrap_or_else(|| e.into())),
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
