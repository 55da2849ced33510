//! Finite-shot measurement: qubit-wise commuting groups of Pauli strings with their
//! basis rotations ([`grouping`]), seeded shot sampling from `|ψ|²` or a probability vector in
//! `O(2^N + S)` ([`shots`]), and estimates of every string of a group from the same shots with
//! standard errors ([`estimate`]).
//!
//! Conventions (docs/DESIGN.md): qubit `i` is bit `i` of the basis index; a shot is a basis index
//! `b`, printed with qubit 0 rightmost ([`shots::Counts::bitstring`]). A group is measured by
//! rotating each qubit to the Z basis: `H` where the group needs X, `H·S†` (apply `S†` first,
//! then `H`) where it needs Y, nothing where it needs Z or I.

pub mod estimate;
pub mod grouping;
pub mod shots;
pub mod stats;
pub mod timing;

pub use estimate::{estimate_group, estimate_paulis, estimate_weighted, ShotEstimate};
pub use grouping::{
    best_grouping, ep_natural_grouping, group_qubitwise, group_sum, rotate_to_z, Grouping,
    MeasurementGroup,
};
pub use shots::{sample_probabilities, sample_state, Counts};
pub use timing::{time_sampling, SamplingTiming};

use crate::state::MemoryError;

/// Errors of shot sampling and estimation (inputs from the world, memory).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MeasureError {
    /// Not enough memory for a buffer (cumulative distribution, state copy).
    #[error(transparent)]
    Memory(#[from] MemoryError),
    /// A probability is negative beyond rounding, or not finite.
    #[error("probability {value:e} at index {index} is negative or not finite")]
    BadProbability {
        /// Basis index of the entry.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// The probabilities (or `|ψ|²`) sum to zero or to a non-finite number.
    #[error("total probability {total:e} is not positive and finite; cannot sample")]
    BadTotal {
        /// The sum of the probabilities.
        total: f64,
    },
    /// A standard error needs at least two shots.
    #[error("{shots} shot(s) per group: a standard error needs at least 2")]
    TooFewShots {
        /// The number of shots given.
        shots: u64,
    },
    /// A Pauli string acts on a qubit the state does not have.
    #[error("Pauli string `{string}` acts beyond the state's {qubits} qubits")]
    StringTooWide {
        /// The string's label.
        string: String,
        /// Qubits of the state.
        qubits: usize,
    },
}
