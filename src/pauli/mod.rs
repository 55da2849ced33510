//! Pauli algebra: strings as X/Z bitmasks ([`PauliString`]) and complex linear combinations
//! ([`PauliSum`]). Conventions (docs/DESIGN.md): qubit `i` is bit `i`, `Y = iXZ`,
//! `P|b⟩ = i^{n_Y} (−1)^{|b∧z|} |b⊕x⟩`.

mod string;
mod sum;

pub use string::{Letter, PauliString, Phase, MAX_QUBITS};
pub use sum::PauliSum;

/// Errors from parsing or building Pauli strings and sums.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PauliError {
    /// A character that is not one of `I X Y Z`.
    #[error("bad Pauli letter `{letter}` in \"{text}\"; expected one of I, X, Y, Z")]
    BadLetter {
        /// The whole text being parsed.
        text: String,
        /// The offending character.
        letter: char,
    },
    /// A token whose qubit index is not a non-negative integer.
    #[error("bad qubit index in `{token}` of \"{text}\"; expected a letter followed by a qubit number, e.g. X3")]
    BadIndex {
        /// The whole text being parsed.
        text: String,
        /// The offending token.
        token: String,
    },
    /// The same qubit appears twice in one string.
    #[error("qubit {qubit} appears twice; write each qubit once (multiply letters by hand)")]
    RepeatedQubit {
        /// The repeated qubit.
        qubit: usize,
    },
    /// A qubit index at or beyond the register size.
    #[error("qubit {qubit} out of range; expected an index < {limit}")]
    QubitOutOfRange {
        /// The offending index.
        qubit: usize,
        /// The number of qubits available.
        limit: usize,
    },
}
