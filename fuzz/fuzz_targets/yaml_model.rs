//! The model loader on arbitrary text: YAML syntax, the schema, validation, and the summary
//! of every model that loads. Any panic (or stack overflow, or leak of time) is a bug.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use qep::hamiltonian::{parse_str_with, Limits};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // A CSV path in the input resolves against the working directory; small limits keep a
    // dataset the fuzzer happens to name from slowing it down.
    let limits = Limits {
        max_dataset_bytes: 1 << 20,
        max_rows: 10_000,
        ..Limits::default()
    };
    if let Ok(model) = parse_str_with(text, Path::new("fuzz.yaml"), &limits) {
        let _ = qep::report::ModelInfo::new(&model);
    }
});
