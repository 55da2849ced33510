//! Errors of classical EP.

/// Errors of classical EP.
#[derive(Debug, thiserror::Error)]
pub enum ClassicalError {
    /// A term with an X or Y letter.
    #[error("{place} `{term}` has an X or Y letter: classical models admit only Z-type terms")]
    NotDiagonal {
        /// The Pauli string, canonical form.
        term: String,
        /// Where it is (`fixed term`, `param 3`).
        place: String,
    },
    /// A tied parameter (several strings, or a coefficient, under one `θ`): the classical
    /// network couples one unit set per weight.
    #[error("{place} `{label}` ties {strings} strings to one parameter; the classical network gives every coupling its own weight, so expected one Z-type string per parameter with coefficient 1 (untie it into separate `params`)")]
    Tied {
        /// The parameter's label.
        label: String,
        /// Where it is (`param 3`).
        place: String,
        /// How many strings it ties.
        strings: usize,
    },
    /// A setting out of range.
    #[error("{name} = {value} is not valid; expected {expected}")]
    BadParam {
        /// The setting.
        name: &'static str,
        /// The value given.
        value: f64,
        /// What is accepted.
        expected: &'static str,
    },
    /// `θ` does not have one value per parameter.
    #[error("theta has {got} values; the model has {expected} parameters")]
    ThetaLength {
        /// `theta.len()`.
        got: usize,
        /// Number of parameters.
        expected: usize,
    },
    /// The example does not have one input per input unit.
    #[error("the example has {got} inputs; the model has {expected} input units")]
    InputsLength {
        /// Inputs given.
        got: usize,
        /// Input units.
        expected: usize,
    },
    /// The example does not have one target per output unit.
    #[error("the example has {got} targets; the model has {expected} output units")]
    TargetsLength {
        /// Targets given.
        got: usize,
        /// Output units.
        expected: usize,
    },
    /// A clamp or a cost without targets.
    #[error(
        "the example has no targets; a clamp (β ≠ 0) or a cost needs targets d_i on the outputs"
    )]
    NoTargets,
    /// EP needs `β > 0`.
    #[error("beta = {beta} is not a clamping strength; expected a finite number > 0")]
    BetaNotPositive {
        /// The value given.
        beta: f64,
    },
    /// `β ≤ −1` makes `f` unbounded below on the outputs.
    #[error("beta = {beta}: the energy f has no minimum (output curvature 1 + β ≤ 0); expected a finite β > −1")]
    BetaUnbounded {
        /// The value given.
        beta: f64,
    },
    /// The relaxation did not reach `‖∂f/∂z‖ ≤ tol`.
    #[error("relaxation at β = {beta} did not converge ({reason}): ‖∂f/∂z‖ = {grad_norm:.3e} > tol {tol:.2e} after {iterations} iterations, f = {energy}")]
    NotConverged {
        /// Clamping strength of the phase.
        beta: f64,
        /// Steps taken.
        iterations: usize,
        /// Final `‖∂f/∂z‖`.
        grad_norm: f64,
        /// Requested tolerance.
        tol: f64,
        /// Final energy.
        energy: f64,
        /// `iteration budget exhausted` or `no direction gives a decrease`.
        reason: &'static str,
    },
    /// The Hessian at the relaxed state is not positive definite.
    #[error("the Hessian of f at the relaxed state is not positive definite (Cholesky pivot {pivot:.3e} at unit {unit}): not a strict minimum, so dz/dθ is ill-defined")]
    NotMinimum {
        /// Unit at which the Cholesky factorisation failed.
        unit: usize,
        /// The failing pivot.
        pivot: f64,
    },
    /// Too many spins to enumerate.
    #[error("{qubits} spins: exhaustive enumeration is limited to {limit}")]
    TooManySpins {
        /// Spins of the model.
        qubits: usize,
        /// [`MAX_ISING_SPINS`](super::ising::MAX_ISING_SPINS).
        limit: usize,
    },
    /// The Ising ground state is degenerate.
    #[error("the Ising ground state at β = {beta} is degenerate: gap {gap:.2e} < {threshold:.2e} between {first} and {second} (bits, qubit 0 rightmost); EP is ill-defined at a degeneracy")]
    Degenerate {
        /// Clamping strength.
        beta: f64,
        /// `E_1 − E_0`.
        gap: f64,
        /// [`ISING_GAP_THRESHOLD`](super::ising::ISING_GAP_THRESHOLD).
        threshold: f64,
        /// Lowest configuration found.
        first: String,
        /// Its degenerate partner.
        second: String,
    },
}

/// [`crate::ep::params::check_beta`] as a classical error.
pub(crate) fn check_beta(beta: f64) -> Result<(), ClassicalError> {
    crate::ep::params::check_beta(beta).map_err(|_| ClassicalError::BetaNotPositive { beta })
}
