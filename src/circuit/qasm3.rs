//! OpenQASM 3 import through Qiskit's own front end (`oq3_semantics`).

use super::ir::Circuit;
use super::CircuitError;

/// Parses an OpenQASM 3 program (the subset `qiskit.qasm3.dumps` writes).
///
/// # Errors
/// A located [`CircuitError`].
pub fn parse_qasm3(_src: &str, _params: &[(String, f64)]) -> Result<Circuit, CircuitError> {
    Err(CircuitError::Unsupported {
        line: 1,
        col: 1,
        construct: "OPENQASM 3".into(),
        expected: "OPENQASM 2.0",
    })
}
