//! The CSV dataset reader on arbitrary bytes: the input is written as the dataset of one of
//! three models (one-hot classes, a numeric target with a test split, two classes) and the
//! model is loaded. Any panic is a bug.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use qep::hamiltonian::{parse_str_with, Limits};

/// Models reading `data.csv`, picked by the first byte of the input.
const MODELS: [&str; 3] = [
    "qubits: 5\ninputs: [0, 1]\noutputs: [2, 3, 4]\ndataset: {csv: data.csv, features: [a, 1], target: c}\n",
    "qubits: 3\ninputs: [0, 1]\noutputs: [2]\nseed: 3\ndataset: {csv: data.csv, features: [0, b], target: 2, test_fraction: 0.3}\n",
    "qubits: 2\ninputs: [0]\noutputs: [1]\ndataset: {csv: data.csv, features: [a], target: c}\n",
];

/// A directory of this process for the dataset file.
fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("qep-fuzz-csv-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("a temporary directory");
        d
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, csv)) = data.split_first() else {
        return;
    };
    let dir = dir();
    if std::fs::write(dir.join("data.csv"), csv).is_err() {
        return;
    }
    let model = MODELS[usize::from(pick) % MODELS.len()];
    let limits = Limits {
        max_line_bytes: 4096,
        ..Limits::default()
    };
    let _ = parse_str_with(model, &dir.join("model.yaml"), &limits);
});
