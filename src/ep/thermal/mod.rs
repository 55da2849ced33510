//! Thermal EP (Section IV): the Gibbs state at a temperature replaces the eigenstate.
//!
//! * [`dense`](self#reexports): the dense Gibbs state and the clamped, covariance (Eq. 43)
//!   and Kubo–Mori gradients, side by side with a finite-difference oracle; Eq. 43 from shots;
//! * [`typicality`]: the same expectations from random vectors, matrix-free, any size.

mod dense;
mod gradient;
mod shots;
pub mod typicality;

pub use dense::*;
pub use gradient::*;
pub use shots::*;

#[cfg(test)]
mod tests;
