//! The OpenQASM parser on arbitrary text. Any panic is a bug.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = qep::circuit::parse_qasm(text);
    }
});
