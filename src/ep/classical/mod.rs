//! Classical EP (Section II), the limit case of quantum EP: the relaxed network and its
//! gradients (Eq. 14, implicit differentiation Eq. 49), Langevin sampling at a temperature
//! (Eq. 33, [`langevin`]) and the low-temperature expansion (Eq. 44–51, [`lowtemp`]).

mod error;
mod implicit;
mod ising;
pub mod langevin;
pub mod lowtemp;
mod network;
mod relax;

pub use error::*;
pub use ising::*;
pub use network::*;
