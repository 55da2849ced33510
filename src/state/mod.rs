//! State vectors and the slice kernels that operate on them (inner products, norms, expectation
//! values of Pauli strings and sums without temporaries), plus memory checks.

pub mod memory;
mod ops;
mod vector;

pub use memory::{MemoryError, MemoryPlan};
pub use ops::{
    axpy, dot, expectation_pauli, expectation_sum, matrix_element_pauli, norm, normalize,
    project_out, scale,
};
pub use vector::{random_amplitudes, StateVector};
