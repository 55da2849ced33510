//! Matrix-free operators: a [`PauliSum`](crate::pauli::PauliSum) grouped by X-mask
//! ([`XMaskOperator`]), applied to state vectors in cache-blocked passes, and exported as CSR,
//! dense or Matrix Market. Every operator implements [`LinearOperator`], the trait the solvers
//! of [`crate::linalg`] are written against.

mod apply;
mod csr;
mod linear;
mod pencil;
mod sum;
mod timing;
mod xmask;

pub use csr::{matrix_market_bytes, DENSE_MAX_QUBITS};
pub use linear::{DenseOperator, LinearOperator, Projected, Shifted};
pub use pencil::Pencil;
pub use timing::{ApplyTiming, ApplyTimingParams, DotTiming};
pub use xmask::{Kernel, XMaskOperator};

use crate::state::MemoryError;

/// Errors from building or exporting operators.
#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    /// Not enough memory for the requested object (checked before allocating).
    #[error(transparent)]
    TooLarge(#[from] MemoryError),
    /// Real arithmetic was requested for an operator that is complex in the Z basis.
    #[error("real arithmetic requested but the operator is complex in the Z basis (complex coefficients or an odd number of Y letters); drop --real")]
    NotReal,
    /// A dense matrix was requested for too many qubits.
    #[error("dense matrix of {qubits} qubits requested; dense forms are limited to {max} qubits")]
    DenseTooLarge {
        /// Qubits requested.
        qubits: usize,
        /// The limit.
        max: usize,
    },
    /// A sum meant to be diagonal has an X or Y letter, or another qubit count.
    #[error(
        "the added sum must be diagonal (Z strings and the identity) on the operator's qubits"
    )]
    NotDiagonal,
}
