//! The lowest eigenpairs of a Hamiltonian whose state vectors are split over ranks.

use crate::linalg::{
    lanczos_memory, lowest_eigenpairs_with_progress, AnySpectrum, BasisMemory, LanczosParams,
    Method,
};
use crate::pauli::PauliSum;
use crate::scalar::C64;
use crate::state::memory::{self, state_bytes, MemoryPlan};

use super::{Comm, DistError, DistOperator, Layout};

/// The result of [`lowest_eigenpairs`]: the energies and evidence every rank shares, and this
/// rank's block of each eigenvector.
#[derive(Clone, Debug)]
pub struct DistSpectrum {
    /// Energies, residuals and counters (the same on every rank). Its eigenvectors are this
    /// rank's blocks: rows [`Layout::offset`]`… + `[`Layout::local_dim`] of the whole vectors,
    /// so whole-vector helpers such as [`AnySpectrum::expectation`] do not apply to them.
    pub spectrum: AnySpectrum,
    /// Where this rank's blocks sit in the whole vectors.
    pub layout: Layout,
    /// Bytes this rank sent per `H·ψ` ([`DistOperator::bytes_per_apply`]).
    pub bytes_per_apply: usize,
}

impl DistSpectrum {
    /// This rank's block of eigenvector `j`, as complex amplitudes (copies on the real path).
    ///
    /// # Panics
    /// If `j` is not a computed level.
    #[track_caller]
    pub fn block_c64(&self, j: usize) -> Vec<C64> {
        self.spectrum.vector_c64(j)
    }
}

/// What [`lowest_eigenpairs`] allocates on each rank of `ranks` for `h`: the local part of the
/// operator's diagonal, the exchange buffers of [`DistOperator`] (two complex blocks) and the
/// Lanczos vectors and basis of one block of `n − log₂ ranks` qubits, on top of the process's
/// resident memory.
///
/// # Errors
/// As [`Layout::new`].
pub fn lowest_eigenpairs_memory(
    h: &PauliSum,
    ranks: usize,
    params: &LanczosParams,
) -> Result<MemoryPlan, DistError> {
    let layout = Layout::new(h.qubits(), ranks, 0)?;
    let mut plan = MemoryPlan::new(format!(
        "distributed eigensolve of {} qubits, per rank of {ranks} (each holds 2^{} amplitudes)",
        h.qubits(),
        layout.local_qubits()
    ));
    plan.extend(&lowest_eigenpairs_buffers(h, ranks, params)?);
    Ok(plan)
}

/// The buffers of [`lowest_eigenpairs_memory`] alone, without the process's resident memory:
/// the part a command that solves for a level within a larger job adds to its own plan.
///
/// # Errors
/// As [`Layout::new`].
pub fn lowest_eigenpairs_buffers(
    h: &PauliSum,
    ranks: usize,
    params: &LanczosParams,
) -> Result<MemoryPlan, DistError> {
    let layout = Layout::new(h.qubits(), ranks, 0)?;
    let l = layout.local_qubits();
    let real = h.is_real_in_z_basis(0.0);
    let mut plan = MemoryPlan::part("distributed eigensolve");
    let diag_real = h
        .terms()
        .iter()
        .filter(|(p, _)| p.x() == 0)
        .map(|(_, c)| c.im == 0.0)
        .reduce(|a, b| a && b);
    if let Some(r) = diag_real {
        plan.add("operator diagonal", state_bytes(l, if r { 8 } else { 16 }));
    }
    if ranks > 1 {
        plan.add_n("exchange buffers", 2, state_bytes(l, 16));
    }
    plan.extend(&lanczos_memory(
        l,
        if real { 8 } else { 16 },
        &distributed_params(params, ranks),
    ));
    Ok(plan)
}

/// The solver settings used on `ranks` ranks: a dense diagonalisation needs the whole matrix
/// on one process, so several ranks always run Lanczos.
pub(super) fn distributed_params(params: &LanczosParams, ranks: usize) -> LanczosParams {
    let mut p = params.clone();
    if ranks > 1 {
        p.method = Method::Lanczos;
    }
    p
}

/// The `params.k` lowest eigenpairs of `h` with every vector split over the ranks of `comm`
/// (top `log₂ size` qubits = rank, [`Layout`]): the one Lanczos of [`crate::linalg`] run on
/// the [`DistOperator`], its inner products summed over the ranks in rank order and its
/// random start drawn per global index, so the energies agree with one process to rounding
/// and are the same bits on every rank. Real arithmetic when `h` is real in the Z basis.
/// Every rank of `comm` must call it with the same arguments. The memory of one rank's share
/// ([`lowest_eigenpairs_memory`]) is checked before anything is allocated.
///
/// `on_level(found, wanted)` is called after each converged level (for a progress bar).
///
/// # Errors
/// [`DistError`] for a rank count that cannot split `h`'s qubits, the per-rank memory check,
/// and the solver's errors ([`crate::linalg::SolverError`]).
pub fn lowest_eigenpairs(
    h: &PauliSum,
    comm: &dyn Comm,
    params: &LanczosParams,
    on_level: &dyn Fn(usize, usize),
) -> Result<DistSpectrum, DistError> {
    lowest_eigenpairs_memory(h, comm.size(), params)?.check()?;
    let op = DistOperator::new(h, comm)?;
    let mut params = distributed_params(params, comm.size());
    if comm.size() > 1 && params.memory == BasisMemory::Auto {
        agree_on_basis(&mut params, h.qubits(), &op, comm);
    }
    let spectrum = if op.is_real() {
        lowest_eigenpairs_with_progress::<f64>(&op, &params, None, on_level).map(AnySpectrum::Real)
    } else {
        lowest_eigenpairs_with_progress::<C64>(&op, &params, None, on_level)
            .map(AnySpectrum::Complex)
    }?;
    Ok(DistSpectrum {
        spectrum,
        layout: op.layout(),
        bytes_per_apply: op.bytes_per_apply(if op.is_real() { 8 } else { 16 }),
    })
}

/// Fixes how the Krylov basis is kept, the same on every rank. [`BasisMemory::Auto`] decides
/// from the memory this process has left, which differs between ranks; ranks that chose
/// different cycle lengths would apply `H` a different number of times and wait for each
/// other's blocks for ever. So each rank counts the basis vectors it could store (half its
/// free memory, as the solver's own rule), the smallest count over the ranks sets the cycle,
/// and below 60 vectors every rank keeps two passes.
pub(super) fn agree_on_basis(
    params: &mut LanczosParams,
    qubits: usize,
    op: &DistOperator<'_>,
    comm: &dyn Comm,
) {
    let l = op.layout().local_qubits();
    let elem = if op.is_real() { 8 } else { 16 };
    let fixed = lanczos_memory(
        l,
        elem,
        &LanczosParams {
            memory: BasisMemory::TwoPass,
            ..params.clone()
        },
    )
    .total();
    let (avail, _) = memory::available_bytes();
    let free = avail.saturating_sub(fixed.saturating_add(memory::resident_bytes()));
    let vec_bytes = state_bytes(l, elem).max(1);
    let mine = (free / 2 / vec_bytes).saturating_sub(1).min(1 << 40) as f64;
    let mut all = vec![0.0; comm.size()];
    comm.allgather(&[mine], &mut all);
    let store_max = all.iter().copied().fold(f64::INFINITY, f64::min) as usize;
    let c = params.cycle.min((1usize << qubits.min(62)) + 1);
    if store_max >= c.min(60) {
        params.memory = BasisMemory::Store;
        params.cycle = c.min(store_max);
    } else {
        params.memory = BasisMemory::TwoPass;
    }
}
