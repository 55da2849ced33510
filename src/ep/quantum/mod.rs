//! Quantum EP on eigenstates: the free phase (Eq. 18), the EP gradient from clamped
//! eigenstates (Eq. 27–29) with its MINRES oracle, and EP on adiabatically prepared states
//! ([`prepared`]).

mod eigen;
mod free;
pub mod prepared;

pub use eigen::*;
pub use free::*;
