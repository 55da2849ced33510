//! The crate-wide error: one variant per module error.

use crate::ep::classical::ClassicalError;
use crate::ep::{EpError, TrainError};
use crate::hamiltonian::ModelError;
use crate::linalg::SolverError;
use crate::operator::OperatorError;
use crate::pauli::PauliError;
use crate::report::run_dir::ReportError;
use crate::state::MemoryError;

/// Any error of the qep library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Model files: reading, schema, validation, compilation.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// Pauli parsing or algebra.
    #[error(transparent)]
    Pauli(#[from] PauliError),
    /// Operators.
    #[error(transparent)]
    Operator(#[from] OperatorError),
    /// Eigensolvers.
    #[error(transparent)]
    Solver(#[from] SolverError),
    /// Equilibrium propagation.
    #[error(transparent)]
    Ep(#[from] EpError),
    /// Classical EP networks.
    #[error(transparent)]
    Classical(#[from] ClassicalError),
    /// Training.
    #[error(transparent)]
    Train(#[from] TrainError),
    /// Result files.
    #[error(transparent)]
    Report(#[from] ReportError),
    /// Memory checks.
    #[error(transparent)]
    Memory(#[from] MemoryError),
    /// Density matrices and the Gibbs state.
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    /// Shot sampling and estimation.
    #[error(transparent)]
    Measure(#[from] crate::measure::MeasureError),
    /// Circuits: QASM import, execution.
    #[error(transparent)]
    Circuit(#[from] crate::circuit::CircuitError),
    /// Density-matrix evolution (Lindblad).
    #[error(transparent)]
    Evolve(#[from] crate::evolve::EvolveError),
    /// Thermal EP.
    #[error(transparent)]
    Thermal(#[from] crate::ep::thermal::ThermalError),
    /// Classical Langevin sampling (Eq. 33).
    #[error(transparent)]
    Langevin(#[from] crate::ep::langevin::LangevinError),
    /// Low-temperature expansion (Eq. 44–51).
    #[error(transparent)]
    LowTemp(#[from] crate::ep::lowtemp::LowTempError),
    /// Adiabatic state preparation.
    #[error(transparent)]
    Adiabatic(#[from] crate::adiabatic::AdiabaticError),
    /// Gibbs expectations by typicality.
    #[error(transparent)]
    Typicality(#[from] crate::ep::typicality::TypicalityError),
    /// A computation with its state vectors split over MPI ranks.
    #[error(transparent)]
    Dist(Box<crate::dist::DistError>),
    /// A computation stopped at a safe point because its cancellation flag was set.
    #[error(transparent)]
    Cancelled(#[from] crate::cancel::Cancelled),
    /// A result that is not a finite number.
    #[error(transparent)]
    Finite(#[from] crate::finite::NonFiniteError),
}

impl From<crate::dist::DistError> for Error {
    fn from(e: crate::dist::DistError) -> Self {
        Error::Dist(Box::new(e))
    }
}
