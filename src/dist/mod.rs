//! Distributed state vectors: the amplitudes of an `n`-qubit state split over `2^g` processes
//! (ranks) on the top `g` qubits, and the operations that need other ranks' amplitudes.
//!
//! Rank `r` owns the global indices `r·2^L … (r+1)·2^L − 1` with `L = n − g` local qubits, so
//! a global index is `(rank, local)` = (its top `g` bits, its low `L` bits). A Pauli term whose
//! X-mask touches only local qubits maps each rank's block into itself; a term that flips
//! global qubits `gx` reads the block of rank `r ⊕ gx`, which is exchanged pairwise.
//! [`DistOperator`] groups a Hamiltonian's terms by that global flip pattern and compiles each
//! group into an ordinary [`XMaskOperator`](crate::operator::XMaskOperator) on the `L` local
//! qubits, so every rank runs the same tuned `H·ψ` kernels as one process does.
//!
//! Communication goes through the [`Comm`] trait: [`SelfComm`] (one process, no messages),
//! [`ThreadComm`] (ranks simulated by threads of one process — the whole exchange logic is
//! tested without an MPI installation), and, with the cargo feature `mpi`, `MpiComm` over
//! the `mpi` crate (OpenMPI).
//!
//! EP gradients of the eigen engine run on the same split ([`ep_gradient`]): the free and
//! clamped ground states by the one Lanczos on [`DistOperator`] blocks, every `⟨P_k⟩` a
//! distributed matrix element ([`DistPaulis`]).
//!
//! The communicator of the whole run is [`world`]: the MPI world the `qep` binary installs
//! at start under `mpirun`, [`SelfComm`] otherwise. Work made of independent items (the
//! samples of a study, the examples of a mini-batch) is split over its ranks by
//! [`map_ordered`], which returns every rank the one-process list of results.

mod circuit;
mod comm;
mod eigen;
mod ep;
mod evolve;
#[cfg(feature = "mpi")]
mod mpi_comm;
mod operator;
mod prepare;
mod timing;
mod world;

pub use circuit::{
    circuit_memory, circuit_state, gather_state, sample_counts, DistCircuitState, DistCircuitStats,
};
pub use comm::{sendrecv_scalars, Comm, SelfComm, ThreadComm};
pub use eigen::{
    lowest_eigenpairs, lowest_eigenpairs_buffers, lowest_eigenpairs_memory, DistSpectrum,
};
pub use ep::{
    ep_gradient, ep_gradient_memory, ep_split, ep_split_checked, split_world, splitting_states,
    DistPaulis,
};
pub use evolve::{evolve_krylov, evolve_krylov_memory};
#[cfg(feature = "mpi")]
pub use mpi_comm::MpiComm;
pub use operator::{DistOperator, Layout};
pub use prepare::{prepare_split, prepare_sweep, prepare_sweep_memory, DistPrepared};
pub use timing::{random_block, time_apply, DistTiming};
pub use world::{block, is_root, map_ordered, set_world, world};

/// Errors of the distributed layer.
#[derive(Debug, thiserror::Error)]
pub enum DistError {
    /// The number of ranks is not a power of two.
    #[error("{ranks} ranks: the state vector is split on whole qubits, so the number of ranks must be a power of two (1, 2, 4, 8, …)")]
    RanksNotPowerOfTwo {
        /// The number of ranks.
        ranks: usize,
    },
    /// More ranks than the state can be split over.
    #[error("{ranks} ranks for {qubits} qubits: each rank needs at least one local qubit; use at most {max} ranks")]
    TooManyRanks {
        /// The number of ranks.
        ranks: usize,
        /// Qubits of the state.
        qubits: usize,
        /// The largest allowed number of ranks.
        max: usize,
    },
    /// A Pauli sum could not be compiled into local operators.
    #[error(transparent)]
    Operator(#[from] crate::operator::OperatorError),
    /// One rank's share does not fit in its memory (the message names the per-rank figure).
    #[error(transparent)]
    Memory(#[from] crate::state::MemoryError),
    /// A circuit that could not be read or run.
    #[error(transparent)]
    Circuit(Box<crate::circuit::CircuitError>),
    /// A gate on more qubits than one rank's block holds.
    #[error("gate `{gate}` acts on {arity} qubits but each rank holds only {local} local qubits; use fewer ranks")]
    GateTooWide {
        /// The gate's name.
        gate: &'static str,
        /// Its qubits.
        arity: usize,
        /// Local qubits per rank.
        local: usize,
    },
    /// A circuit construct the distributed executor does not run.
    #[error("{what} is not supported on more than one rank (shot branching needs the whole state); run this circuit without mpirun or with one rank")]
    CircuitUnsupported {
        /// The construct.
        what: &'static str,
    },
    /// An evolution the distributed state vector does not run.
    #[error("the model has {jumps} jump operators or a method other than krylov was asked: on more than one rank qep evolve runs the Schrödinger equation (--method krylov) only; run open systems without mpirun")]
    EvolveUnsupported {
        /// Jump operators of the model.
        jumps: usize,
    },
    /// A Trotter preparation asked of the distributed sweep.
    #[error("qep prepare --method trotter runs its circuit on the whole state: on more than one rank a single sweep is split over the ranks with --method krylov or magnus only")]
    PrepareTrotter,
    /// The model's Hamiltonian could not be built.
    #[error(transparent)]
    Model(Box<crate::hamiltonian::ModelError>),
    /// A bad start state or observable.
    #[error(transparent)]
    Evolve(Box<crate::evolve::EvolveError>),
    /// A non-Hermitian Hamiltonian or a bad time.
    #[error(transparent)]
    Adiabatic(Box<crate::adiabatic::AdiabaticError>),
    /// The solver on the distributed vectors failed.
    #[error(transparent)]
    Solver(#[from] crate::linalg::SolverError),
}

impl From<crate::circuit::CircuitError> for DistError {
    fn from(e: crate::circuit::CircuitError) -> Self {
        DistError::Circuit(Box::new(e))
    }
}

impl From<crate::hamiltonian::ModelError> for DistError {
    fn from(e: crate::hamiltonian::ModelError) -> Self {
        DistError::Model(Box::new(e))
    }
}

impl From<crate::evolve::EvolveError> for DistError {
    fn from(e: crate::evolve::EvolveError) -> Self {
        DistError::Evolve(Box::new(e))
    }
}

impl From<crate::adiabatic::AdiabaticError> for DistError {
    fn from(e: crate::adiabatic::AdiabaticError) -> Self {
        DistError::Adiabatic(Box::new(e))
    }
}
