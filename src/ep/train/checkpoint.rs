//! What a training run saves: the metrics of each epoch, the stamp of the run's settings
//! (so that `--resume` refuses another run's checkpoint), and the checkpoint itself, every
//! float written so that it reads back bit for bit.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::optimizer::OptimizerState;
use super::trainer::TrainParams;
use crate::hamiltonian::Model;

/// The metrics of one epoch (a row of `metrics.csv`). In `checkpoint.json` every float
/// round-trips exactly, NaN and ±∞ included (written as `"NaN"`, `"inf"`, `"-inf"`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct EpochMetrics {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Mean free-phase cost `⟨C⟩` over the training set, after the epoch's updates.
    #[serde(with = "json_float")]
    pub train_cost: f64,
    /// Fraction of training examples classified right (sign, or argmax for one-hot targets).
    #[serde(with = "json_float")]
    pub train_accuracy: f64,
    /// Mean cost over the test set (NaN without a test set).
    #[serde(with = "json_float")]
    pub test_cost: f64,
    /// Test accuracy (NaN without a test set).
    #[serde(with = "json_float")]
    pub test_accuracy: f64,
    /// Mean norm of the batch gradients of the epoch (of the data cost: without the
    /// weight-decay term).
    #[serde(with = "json_float")]
    pub grad_norm: f64,
    /// Learning rate used in the epoch.
    #[serde(with = "json_float")]
    pub learning_rate: f64,
    /// EP-vs-exact cosine similarity of the epoch's first batch, when computed.
    #[serde(default, with = "json_float_opt")]
    pub cosine: Option<f64>,
    /// Wall time of the epoch, seconds.
    #[serde(with = "json_float")]
    pub seconds: f64,
    /// Measurement shots spent so far in the run (0 with exact expectations).
    #[serde(default)]
    pub shots: u64,
    /// With shots: the mean over batches of the signal-to-noise ratio `‖g‖ / ‖σ_g‖` of the
    /// batch gradient, `σ_g` from the shots' own standard errors.
    #[serde(default, with = "json_float_opt")]
    pub snr: Option<f64>,
}

/// What a run was started with, recorded in its checkpoint so that `--resume` can refuse to
/// continue it under other conditions (which would not give the run the checkpoint belongs
/// to): the model's Hamiltonian, its dataset, the initial parameters and every training
/// setting except the number of epochs.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RunStamp {
    /// SHA-256 of the model file's bytes (provenance; not compared: comments may change).
    pub model_sha256: String,
    /// SHA-256 of the compiled network: qubits, kind, inputs, outputs, fixed terms with their
    /// coefficients' bits, and the trainable Pauli strings.
    pub hamiltonian_sha256: String,
    /// SHA-256 of the training and test examples (inputs and targets, bit for bit).
    pub dataset_sha256: String,
    /// `θ` at epoch 0.
    #[serde(with = "json_floats")]
    pub initial_theta: Vec<f64>,
    /// The training settings ([`TrainParams`] without `epochs` and `cosine_every`, plus the
    /// model's `preparation`), as JSON.
    pub settings: serde_json::Value,
}

/// Feeds `x` to a hash as its exact bits.
fn hash_f64(h: &mut Sha256, x: f64) {
    h.update(x.to_bits().to_le_bytes());
}

/// Feeds a string to a hash, length first (so that concatenations cannot collide).
fn hash_str(h: &mut Sha256, s: &str) {
    h.update((s.len() as u64).to_le_bytes());
    h.update(s.as_bytes());
}

fn hex(h: Sha256) -> String {
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

impl RunStamp {
    /// The stamp of a run of `model` with `params`, started from `theta0`.
    pub fn new(model: &Model, params: &TrainParams, theta0: &[f64]) -> Self {
        let mut h = Sha256::new();
        h.update((model.qubits as u64).to_le_bytes());
        hash_str(&mut h, &format!("{:?}", model.kind));
        for list in [&model.inputs, &model.outputs] {
            h.update((list.len() as u64).to_le_bytes());
            for &q in list {
                h.update((q as u64).to_le_bytes());
            }
        }
        for (p, c) in model.fixed.terms() {
            hash_str(&mut h, &p.to_string());
            hash_f64(&mut h, c.re);
            hash_f64(&mut h, c.im);
        }
        hash_str(&mut h, "params");
        for p in &model.params {
            hash_str(&mut h, &p.label);
            hash_str(&mut h, &p.pauli.to_string());
            // Untied parameters hash as they always did, so their checkpoints stay valid.
            if p.is_tied() {
                hash_str(&mut h, "tied");
                h.update((p.strings.len() as u64).to_le_bytes());
                for &(s, c) in &p.strings {
                    hash_str(&mut h, &s.to_string());
                    hash_f64(&mut h, c);
                }
            }
        }
        let mut d = Sha256::new();
        if let Some(ds) = &model.dataset {
            for (part, rows) in [("train", &ds.train), ("test", &ds.test)] {
                hash_str(&mut d, part);
                d.update((rows.len() as u64).to_le_bytes());
                for ex in rows.iter() {
                    for v in [&ex.inputs, &ex.targets] {
                        d.update((v.len() as u64).to_le_bytes());
                        v.iter().for_each(|&x| hash_f64(&mut d, x));
                    }
                }
            }
        }
        Self {
            model_sha256: model.source.sha256.clone(),
            hamiltonian_sha256: hex(h),
            dataset_sha256: hex(d),
            initial_theta: theta0.to_vec(),
            settings: settings_json(model, params),
        }
    }

    /// What differs between the run this stamp records and `now`, one line per difference
    /// (`training.learning_rate: 0.1 → 0.2`); empty when `now` continues the same run.
    pub fn changes(&self, now: &RunStamp) -> Vec<String> {
        let mut out = Vec::new();
        if self.hamiltonian_sha256 != now.hamiltonian_sha256 {
            out.push("the network (qubits, inputs, outputs, terms or parameters) changed".into());
        }
        if self.dataset_sha256 != now.dataset_sha256 {
            out.push("the dataset changed".into());
        }
        if self.initial_theta.len() != now.initial_theta.len() {
            out.push(format!(
                "parameters: {} → {}",
                self.initial_theta.len(),
                now.initial_theta.len()
            ));
        } else {
            let differ: Vec<String> = self
                .initial_theta
                .iter()
                .zip(&now.initial_theta)
                .enumerate()
                .filter(|(_, (a, b))| a.to_bits() != b.to_bits())
                .map(|(k, (a, b))| format!("initial θ[{k}]: {a} → {b}"))
                .collect();
            // A new seed redraws every value: name a few, count the rest.
            out.extend(differ.iter().take(3).cloned());
            if differ.len() > 3 {
                out.push(format!("{} more initial values", differ.len() - 3));
            }
        }
        diff_json("", &self.settings, &now.settings, &mut out);
        out
    }
}

/// The settings of a run as JSON, normalised by one round trip through text (so that a stamp
/// read back from a checkpoint compares equal to a fresh one).
fn settings_json(model: &Model, params: &TrainParams) -> serde_json::Value {
    let mut v = serde_json::to_value(params).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.remove("cosine_every");
        if let Some(t) = o.get_mut("training").and_then(|t| t.as_object_mut()) {
            t.remove("epochs");
        }
        o.insert(
            "preparation".into(),
            serde_json::to_value(&model.settings.preparation).unwrap_or_default(),
        );
    }
    serde_json::to_string(&v)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(v)
}

/// Appends `path: old → new` for every leaf where `a` and `b` differ.
fn diff_json(path: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value;
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let null = Value::Null;
                diff_json(
                    &join(k),
                    x.get(k).unwrap_or(&null),
                    y.get(k).unwrap_or(&null),
                    out,
                );
            }
        }
        _ if a != b => out.push(format!(
            "{}: {a} → {b}",
            if path.is_empty() { "settings" } else { path }
        )),
        _ => {}
    }
}

/// Everything needed to continue a run after its last completed epoch.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Checkpoint {
    /// Completed epochs.
    pub epoch: usize,
    /// Parameters after that epoch.
    #[serde(with = "json_floats")]
    pub theta: Vec<f64>,
    /// Optimiser state after that epoch.
    pub optimizer: OptimizerState,
    /// Metrics of every completed epoch.
    pub history: Vec<EpochMetrics>,
    /// What the run was started with (`None` in checkpoints of older qep versions).
    #[serde(default)]
    pub stamp: Option<RunStamp>,
}

impl Checkpoint {
    /// Epoch 0 of a run of `model` with `params` from `theta0`: zero optimiser state, no
    /// history, the run's [`RunStamp`].
    pub fn start(model: &Model, params: &TrainParams, theta0: Vec<f64>) -> Self {
        let k = theta0.len();
        Self {
            epoch: 0,
            stamp: Some(RunStamp::new(model, params, &theta0)),
            theta: theta0,
            optimizer: OptimizerState {
                step: 0,
                m: vec![0.0; k],
                v: vec![0.0; k],
            },
            history: Vec::new(),
        }
    }
}

/// `f64` in JSON as a number, or `"NaN"`, `"inf"`, `"-inf"` (JSON has no such numbers and
/// serde_json would write `null`, which does not read back as a float); `null` reads as NaN.
pub(super) mod json_float {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        if x.is_finite() {
            s.serialize_f64(*x)
        } else if x.is_nan() {
            s.serialize_str("NaN")
        } else if *x > 0.0 {
            s.serialize_str("inf")
        } else {
            s.serialize_str("-inf")
        }
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Number(f64),
        Text(String),
    }

    fn from_repr<E: serde::de::Error>(r: Option<Repr>) -> Result<f64, E> {
        match r {
            None => Ok(f64::NAN),
            Some(Repr::Number(x)) => Ok(x),
            Some(Repr::Text(t)) => match t.as_str() {
                "NaN" => Ok(f64::NAN),
                "inf" => Ok(f64::INFINITY),
                "-inf" => Ok(f64::NEG_INFINITY),
                _ => Err(E::custom(format!(
                    "{t:?} is not a number; expected a number, \"NaN\", \"inf\" or \"-inf\""
                ))),
            },
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        from_repr(Option::<Repr>::deserialize(d)?)
    }

    /// One float of a list, for [`super::json_floats`].
    #[derive(serde::Serialize, Deserialize)]
    pub(super) struct Item(#[serde(with = "super::json_float")] pub f64);
}

/// `Option<f64>` in JSON: `null` for `None`, else as [`json_float`].
pub(super) mod json_float_opt {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        match x {
            None => s.serialize_none(),
            Some(v) => super::json_float::serialize(v, s),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        Ok(Option::<super::json_float::Item>::deserialize(d)?.map(|i| i.0))
    }
}

/// `Vec<f64>` in JSON, each element as [`json_float`].
pub(super) mod json_floats {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::json_float::Item;

    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|&x| Item(x)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        Ok(Vec::<Item>::deserialize(d)?
            .into_iter()
            .map(|i| i.0)
            .collect())
    }
}
