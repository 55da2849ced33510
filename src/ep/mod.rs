//! Equilibrium propagation on quantum networks (DESIGN.md, Eq. 16–29).
//!
//! * [`free_phase`]: the free (β = 0) eigenstate of `H(0, θ, u)` for one example, its energy,
//!   gap, the prediction `⟨Z_i⟩` on the outputs and the cost `⟨C⟩` (Eq. 18).
//!
//! Clamped phases, gradients and training extend this module.

mod quantum;

pub use quantum::{free_phase, FreePhase};
