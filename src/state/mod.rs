//! States: vectors and the slice kernels that operate on them (inner products, norms,
//! expectation values of Pauli strings and sums without temporaries), density matrices
//! ([`DensityMatrix`]), the Gibbs state `e^{−H/T}/Z` ([`Gibbs`]), and memory checks.

pub mod density;
mod error;
pub mod gibbs;
pub mod memory;
mod ops;
mod vector;

pub use density::DensityMatrix;
pub use error::StateError;
pub use gibbs::{log_mean_weight, trace_distance, Gibbs};
pub use memory::{MemoryError, MemoryPlan};
pub use ops::{
    axpy, dot, expectation_pauli, expectation_sum, expectations_pauli, matrix_element_pauli, norm,
    norm2, normalize, project_coefficients, project_out, scale, subtract_combination,
};
pub use vector::{random_amplitudes, StateVector};
