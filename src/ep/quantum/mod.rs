//! Quantum EP on eigenstates: the free phase (Eq. 18), the EP gradient from clamped
//! eigenstates (Eq. 27–29) with its MINRES oracle, and EP on adiabatically prepared states
//! ([`prepared`]).

mod eigen;
mod free;
pub mod prepared;

pub use eigen::*;
pub use free::*;

/// `⟨ψ|∂H/∂θ_k|ψ⟩` for every parameter of `model` (tied ones combined from their strings),
/// exactly: all the parameters' strings (`strings`, [`crate::hamiltonian::Model::param_strings`])
/// measured in one pass over `psi`.
pub(crate) fn param_expectations<T: crate::scalar::Scalar>(
    model: &crate::hamiltonian::Model,
    strings: &[crate::pauli::PauliString],
    psi: &[T],
) -> Vec<f64> {
    let per_string: Vec<f64> = crate::state::expectations_pauli(psi, strings)
        .iter()
        .map(|c| c.re)
        .collect();
    model.tie(&per_string)
}
