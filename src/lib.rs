//! # qep — quantum equilibrium propagation
//!
//! A quantum neural network is a Hamiltonian `H(β, θ, u, d)` (Eq. 16 of Massar & Mognetti,
//! arXiv:2405.08467; equation numbers below are the paper's, docs/DESIGN.md has the physics
//! on one page). Its eigenstate — or its Gibbs state — computes the answer `⟨Z_i⟩` on the
//! output qubits, and equilibrium propagation (EP) trains the couplings `θ` from the response
//! of that state to a small clamping `β` of the outputs.
//!
//! ```
//! use qep::ep::{Engine, EpOverrides, EpParams};
//! // YAML → Model → the EP engine the model asks for → one gradient, with its oracle.
//! let model = qep::hamiltonian::load(std::path::Path::new("hamiltonians/xor.yaml"))?;
//! let p = EpParams::from_model(&model, &EpOverrides { exact: true, ..Default::default() })?;
//! let engine = Engine::for_model(&model, &p)?;
//! let example = model.training_example(0)?;
//! let g = engine.gradient(&model, &model.theta(), &example, &p)?;
//! let exact = g.exact.as_ref().unwrap();
//! assert_eq!(engine.name(), "eigen");
//! for (ep, ex) in g.ep.iter().zip(exact) {
//!     assert!((ep - ex).abs() < 1e-3); // Eq. 28: bias O(β²)
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## A tour in data-flow order
//!
//! 1. **YAML → [`hamiltonian`]**: a model file (lattice, couplings, parameters, dataset,
//!    training, preparation, temperature) is read within bounds ([`input`]), validated with
//!    file:line:column errors, and becomes a [`hamiltonian::Model`];
//!    [`hamiltonian::Model::hamiltonian`] compiles `H(β, θ, u, d)` (Eq. 16) with the cost
//!    operator `C(d) = ½ Σ (Z_i − d_i)²` (Eq. 18) as its β term.
//! 2. **[`pauli`]**: that Hamiltonian is a [`pauli::PauliSum`] of [`pauli::PauliString`]s
//!    (X/Z bitmasks, `Y = iXZ`).
//! 3. **[`operator`]**: the sum grouped by X-mask is a matrix-free operator
//!    ([`operator::XMaskOperator`], `H·ψ` without a matrix); every operator (also the
//!    pencil `(1 − s)A + sB`, dense, shifted and projected ones) implements
//!    [`operator::LinearOperator`], the trait every solver takes. CSR and dense export.
//! 4. **[`state`]**: state vectors and the kernels on them (norms, `⟨ψ|P|ψ⟩` without
//!    temporaries), density matrices, the one Gibbs state `e^{−H/T}/Z` (exact dense or
//!    sampled by typicality, Section IV), and memory plans checked before allocating.
//! 5. **[`linalg`]**: Lanczos for the lowest eigenpairs with residuals and gap (the
//!    eigenstates of Eq. 22–25), MINRES for the first-order perturbation-theory oracle
//!    (`∂⟨C⟩/∂θ` exactly, Eq. 27), the Krylov propagator `e^{−iHτ}ψ`, the Chebyshev expansion
//!    of `e^{−H/2T}`, dense diagonalisation for oracles.
//! 6. **Physics on those states**:
//!    * [`ep`]: the free phase (prediction and cost, Eq. 18), then the one EP engine —
//!      [`ep::EpParams::from_model`] resolves β, level, shots and temperature once,
//!      [`ep::Engine::for_model`] picks *eigen* (Eq. 28), *prepared* (adiabatic states),
//!      *thermal* (clamped Eq. 42 analogue, covariance Eq. 43, Kubo–Mori) or *classical*
//!      (Section II: Eq. 1, 3, 14, implicit differentiation Eq. 49, Langevin, low
//!      temperature Eq. 44–51), and [`ep::Engine::gradient`] returns one [`ep::Gradient`];
//!      [`ep::Trainer`] trains with it.
//!    * [`adiabatic`]: sweeps `H(s) = (1 − s) H_start + s H_target`, Magnus/Krylov and
//!      Trotter integrators, the prepared state verified by Lanczos (fidelity, energy
//!      error, gap).
//!    * [`evolve`]: open systems — the Lindblad equation, quantum trajectories, Davies
//!      generators, collision cooling, and [`evolve::thermalize()`] which drives a state to the
//!      Gibbs state and reports the trace distance to it.
//! 7. **[`measure`]**: finite shots — qubit-wise commuting groups with their basis
//!    rotations, seeded sampling, estimates with standard errors, one Welford accumulator and
//!    one jackknife ([`measure::stats`]).
//! 8. **[`study`]**: studies built on the above and testable without a process — the barren
//!    plateau scan, shot noise against clamping bias, the preparation benchmark, the thermal
//!    gradient scan.
//! 9. **[`report`]**: provenance (version, input hash, seed, settings), run folders, SVG
//!    charts, and the one atomic writer of result files.
//! 10. **[`session`]**: one request in, one report out — the whole gradient of `qep grad`
//!     ([`session::grad_report`]) and the training run of `qep run` ([`session::run_report`]),
//!     used by the CLI and Python alike; it sits above every module it calls, so that no
//!     physics module depends on the crate-wide [`Error`].
//!
//! Beside the flow:
//! * [`circuit`]: OpenQASM 2 and 3 front ends, one gate table (Qiskit's conventions), the
//!   state-vector executor with shot branching;
//! * [`input`]: bounded reading of input files (regular files only, size limits);
//! * [`cancel`]: the cooperative cancellation flag long computations check at safe points;
//! * [`finite`]: the guard that no NaN or infinity is handed out as a result;
//! * [`scalar`] ([`Scalar`], [`C64`]): real or complex arithmetic; [`error`] ([`Error`]): the
//!   crate-wide error, one variant per module error.
//!
//! ARCHITECTURE.md (repository root) says where to add an engine, a gate or a command; the
//! `examples/` folder has runnable programs for each step of the flow.
//!
//! Conventions: qubit `i` is bit `i` of the basis index, `Z|0⟩ = |0⟩`, `Y = iXZ`.
#![deny(missing_docs)]

pub mod adiabatic;
pub mod cancel;
pub mod circuit;
pub mod dist;
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
pub mod session;
pub mod state;
pub mod study;

pub use error::Error;
pub use scalar::{Scalar, C64};
