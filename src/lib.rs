//! # qep — quantum equilibrium propagation
//!
//! A quantum neural network is a Hamiltonian `H(β, θ, u, d)` (Eq. 16 of Massar & Mognetti,
//! arXiv:2405.08467); its eigenstate computes the answer and equilibrium propagation trains its
//! couplings. The library follows the data flow of docs/DESIGN.md:
//!
//! 1. [`hamiltonian`]: YAML model → [`hamiltonian::Model`] → [`pauli::PauliSum`] (`compile`);
//! 2. [`operator`]: the sum as a matrix-free operator grouped by X-mask (`H·ψ`), CSR export;
//! 3. [`state`]: state vectors, expectation values, memory checks before allocating;
//! 4. [`linalg`]: Lanczos (k lowest eigenpairs, residuals, gap) and the dense oracle;
//! 5. [`ep`]: the free phase (prediction and cost of one example), then EP gradients;
//! 6. [`report`]: provenance (version, input hash, seed, settings), model summaries, run
//!    folders and the one atomic writer of result files.
//!
//! Long computations (training, studies) check a [`cancel::Cancel`] flag at safe points.
//!
//! Conventions: qubit `i` is bit `i` of the basis index, `Z|0⟩ = |0⟩`, `Y = iXZ`.
#![deny(missing_docs)]

pub mod adiabatic;
pub mod cancel;
pub mod circuit;
pub mod ep;
pub mod error;
pub mod evolve;
pub mod finite;
pub mod hamiltonian;
pub mod input;
pub mod linalg;
pub mod measure;
pub mod operator;
pub mod pauli;
pub mod report;
pub mod scalar;
pub mod state;
pub mod study;

pub use error::Error;
pub use scalar::{Scalar, C64};
