//! The output folder of a training run (`qep run --out DIR`): `metrics.csv`, `params.json`,
//! `checkpoint.json`, `summary.json` and `training.svg`.
//!
//! Every file is written by [`super::write_atomic`] before the first epoch and after each
//! one, so an interrupted run (Ctrl-C, a kill) leaves the last completed epoch's files intact
//! and never a half-written one; `checkpoint.json` lets `--resume` continue from there.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::ep::{Checkpoint, EpochMetrics};
use crate::hamiltonian::Model;

use super::svg::{render, Panel, Series};
use super::Provenance;

/// Errors reading or writing a run folder.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file cannot be written or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A JSON file that does not parse as expected.
    #[error("{}: {source}; expected a file written by qep", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        source: serde_json::Error,
    },
    /// An output folder that already holds results of an earlier run.
    #[error("{}: already holds `{file}` from an earlier run; expected a new or empty folder ({remedy})", dir.display())]
    Exists {
        /// The folder.
        dir: PathBuf,
        /// The result file found there.
        file: String,
        /// How to go on (which flags continue or replace the earlier results).
        remedy: &'static str,
    },
    /// A parameter file that does not match the model.
    #[error("{}: {problem}; expected the parameters of model `{model}`", path.display())]
    ParamsMismatch {
        /// The file.
        path: PathBuf,
        /// The model.
        model: String,
        /// What differs.
        problem: String,
    },
}

/// One trained parameter in `params.json`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ParamValue {
    /// The parameter's label, as in the model file.
    pub label: String,
    /// Its value.
    pub value: f64,
}

/// `params.json`: the trained θ, loadable again as initial values (`--params`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ParamsFile {
    /// Model name.
    pub model: String,
    /// Epochs completed when written.
    pub epoch: usize,
    /// `θ_k` with labels, in model order.
    pub params: Vec<ParamValue>,
}

impl ParamsFile {
    /// Reads a `params.json` and orders its values as `model.params` (matched by label).
    ///
    /// # Errors
    /// [`ReportError::Io`], [`ReportError::Json`], [`ReportError::ParamsMismatch`] when a label
    /// is missing or unknown.
    pub fn load_theta(path: &Path, model: &Model) -> Result<Vec<f64>, ReportError> {
        let f: ParamsFile = read_json(path)?;
        let mismatch = |problem: String| ReportError::ParamsMismatch {
            path: path.to_path_buf(),
            model: model.name.clone(),
            problem,
        };
        if f.params.len() != model.params.len() {
            return Err(mismatch(format!(
                "{} parameters, the model has {}",
                f.params.len(),
                model.params.len()
            )));
        }
        model
            .params
            .iter()
            .map(|p| {
                f.params
                    .iter()
                    .find(|v| v.label == p.label)
                    .map(|v| v.value)
                    .ok_or_else(|| mismatch(format!("no value for parameter `{}`", p.label)))
            })
            .collect()
    }
}

/// `summary.json`: the outcome of a run with its provenance.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Model name.
    pub model: String,
    /// Epochs completed.
    pub epochs: usize,
    /// Mean training cost after the last epoch.
    pub final_cost: f64,
    /// Training accuracy in [0, 1].
    pub train_accuracy: f64,
    /// Test accuracy in [0, 1] (NaN → null without a test set).
    pub test_accuracy: Option<f64>,
    /// Mean test cost.
    pub test_cost: Option<f64>,
    /// Wall time of the whole run (this invocation), seconds.
    pub wall_seconds: f64,
    /// The epoch this invocation resumed from (`--resume`), if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resumed_from: Option<usize>,
    /// With `--resume --force`: what differed from the checkpointed run's settings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub forced_changes: Vec<String>,
    /// Seconds per training example and epoch (free + two clamped states).
    pub seconds_per_example: f64,
    /// Settings, seed, version, input hash.
    pub provenance: Provenance,
}

/// A run's output folder.
pub struct RunDir {
    path: PathBuf,
    /// The untrained network's metrics (epoch 0), drawn before the first epoch's point.
    start: Option<EpochMetrics>,
}

/// The files of a run folder that mark a run (finished or not).
pub const RUN_FILES: [&str; 2] = ["checkpoint.json", "summary.json"];

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ReportError + '_ {
    move |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, ReportError> {
    let text = fs::read_to_string(path).map_err(io(path))?;
    serde_json::from_str(&text).map_err(|source| ReportError::Json {
        path: path.to_path_buf(),
        source,
    })
}

impl RunDir {
    /// Creates the folder (and its parents) if needed.
    ///
    /// # Errors
    /// [`ReportError::Io`].
    pub fn create(path: &Path) -> Result<Self, ReportError> {
        fs::create_dir_all(path).map_err(io(path))?;
        Ok(Self {
            path: path.to_path_buf(),
            start: None,
        })
    }

    /// The same folder, whose training chart starts at `m`: the cost and accuracy of the
    /// untrained network (epoch 0), so that the chart shows where learning started. Only the
    /// chart uses it; `metrics.csv` and the checkpoint keep one row per trained epoch.
    pub fn with_start(mut self, m: EpochMetrics) -> Self {
        self.start = Some(m);
        self
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The checkpoint of the last completed epoch, if the folder has one.
    ///
    /// # Errors
    /// [`ReportError::Json`] for a damaged checkpoint.
    pub fn checkpoint(&self) -> Result<Option<Checkpoint>, ReportError> {
        let p = self.path.join("checkpoint.json");
        if !p.exists() {
            return Ok(None);
        }
        read_json(&p).map(Some)
    }

    /// Writes `bytes` to `name` atomically ([`super::write_atomic`]).
    fn write(&self, name: &str, bytes: &[u8]) -> Result<(), ReportError> {
        super::write_atomic(&self.path.join(name), bytes)
    }

    /// Saves everything an epoch produced: checkpoint, parameters, metrics table and plot.
    ///
    /// # Errors
    /// [`ReportError::Io`].
    pub fn save_epoch(&self, model: &Model, ckpt: &Checkpoint) -> Result<(), ReportError> {
        self.write("checkpoint.json", pretty(ckpt).as_bytes())?;
        let params = ParamsFile {
            model: model.name.clone(),
            epoch: ckpt.epoch,
            params: model
                .params
                .iter()
                .zip(&ckpt.theta)
                .map(|(p, &value)| ParamValue {
                    label: p.label.clone(),
                    value,
                })
                .collect(),
        };
        self.write("params.json", pretty(&params).as_bytes())?;
        self.write("metrics.csv", metrics_csv(&ckpt.history).as_bytes())?;
        let charted: Vec<EpochMetrics> = self.start.iter().chain(&ckpt.history).cloned().collect();
        self.write("training.svg", training_svg(&charted).as_bytes())?;
        let png = training_png(&charted).map_err(|e| ReportError::Io {
            path: self.path.join("training.png"),
            source: std::io::Error::other(e.to_string()),
        })?;
        self.write("training.png", &png)
    }

    /// The `summary.json` of a finished run, if the folder has one.
    ///
    /// # Errors
    /// [`ReportError::Json`] for a damaged file.
    pub fn summary(&self) -> Result<Option<serde_json::Value>, ReportError> {
        let p = self.path.join("summary.json");
        if !p.exists() {
            return Ok(None);
        }
        read_json(&p).map(Some)
    }

    /// Writes `summary.json`.
    ///
    /// # Errors
    /// [`ReportError::Io`].
    pub fn save_summary(&self, summary: &Summary) -> Result<(), ReportError> {
        self.write("summary.json", pretty(summary).as_bytes())
    }
}

/// Pretty JSON with a final newline (our types always serialise).
fn pretty<T: Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default() + "\n"
}

/// `metrics.csv`: one row per epoch.
pub fn metrics_csv(history: &[EpochMetrics]) -> String {
    let mut s = String::from(
        "epoch,train_cost,train_accuracy,test_cost,test_accuracy,grad_norm,learning_rate,cosine,seconds,shots,snr\n",
    );
    let f = |x: f64| {
        if x.is_finite() {
            format!("{x:.10e}")
        } else {
            String::new()
        }
    };
    for m in history {
        s.push_str(&format!(
            "{},{},{},{},{},{},{},{},{:.4},{},{}\n",
            m.epoch,
            f(m.train_cost),
            f(m.train_accuracy),
            f(m.test_cost),
            f(m.test_accuracy),
            f(m.grad_norm),
            f(m.learning_rate),
            m.cosine.map(f).unwrap_or_default(),
            m.seconds,
            m.shots,
            m.snr.map(f).unwrap_or_default()
        ));
    }
    s
}

/// `training.png`: the chart of [`training_svg`] as a PNG image.
///
/// # Errors
/// [`super::svg::PlotError`] when drawing or encoding fails.
pub fn training_png(history: &[EpochMetrics]) -> Result<Vec<u8>, super::svg::PlotError> {
    super::svg::render_png(&training_panels(history))
}

/// `training.svg`: cost (log scale) and accuracy against the epoch, train and test.
pub fn training_svg(history: &[EpochMetrics]) -> String {
    render(&training_panels(history))
}

/// The two panels of the training chart.
fn training_panels(history: &[EpochMetrics]) -> Vec<Panel> {
    let pts = |f: fn(&EpochMetrics) -> f64| -> Vec<(f64, f64)> {
        history.iter().map(|m| (m.epoch as f64, f(m))).collect()
    };
    // Without a test set the test curves are empty: no legend entry for them.
    let has_test = history.iter().any(|m| m.test_cost.is_finite());
    let curves = |train: Series, test: Series| {
        if has_test {
            vec![train, test]
        } else {
            vec![train]
        }
    };
    vec![
        Panel {
            title: "cost ⟨C⟩".into(),
            x_label: "epoch".into(),
            y_label: "mean cost".into(),
            log_y: true,
            y_range: None,
            series: curves(
                Series::new("train", pts(|m| m.train_cost)),
                Series::new("test", pts(|m| m.test_cost)),
            ),
        },
        Panel {
            title: "accuracy".into(),
            x_label: "epoch".into(),
            y_label: "fraction correct".into(),
            log_y: false,
            y_range: Some((0.0, 1.0)),
            series: curves(
                Series::new("train", pts(|m| m.train_accuracy)),
                Series::new("test", pts(|m| m.test_accuracy)),
            ),
        },
    ]
}
