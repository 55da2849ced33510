//! `H·ψ` on a state vector split over ranks.

use std::sync::{Mutex, PoisonError};

use crate::operator::{LinearOperator, OperatorError, XMaskOperator, DENSE_MAX_QUBITS};
use crate::pauli::{PauliString, PauliSum, Phase};
use crate::scalar::{Scalar, C64};
use crate::state::{axpy, dot};

use super::comm::sendrecv_scalars;
use super::{Comm, DistError};

/// Where one rank's amplitudes sit in the global state vector: the top `global_bits` qubits
/// select the rank, the low `qubits − global_bits` are local.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    qubits: usize,
    global_bits: usize,
    rank: usize,
}

impl Layout {
    /// The layout of rank `rank` of `ranks` for an `qubits`-qubit state.
    ///
    /// # Errors
    /// [`DistError::RanksNotPowerOfTwo`], or [`DistError::TooManyRanks`] when fewer than one
    /// local qubit would remain.
    pub fn new(qubits: usize, ranks: usize, rank: usize) -> Result<Self, DistError> {
        if !ranks.is_power_of_two() {
            return Err(DistError::RanksNotPowerOfTwo { ranks });
        }
        let global_bits = ranks.trailing_zeros() as usize;
        if global_bits >= qubits.max(1) && ranks > 1 {
            return Err(DistError::TooManyRanks {
                ranks,
                qubits,
                max: 1usize << qubits.saturating_sub(1),
            });
        }
        debug_assert!(rank < ranks);
        Ok(Self {
            qubits,
            global_bits,
            rank,
        })
    }

    /// The layout of the calling rank of `comm`.
    ///
    /// # Errors
    /// As [`Layout::new`].
    pub fn of(comm: &dyn Comm, qubits: usize) -> Result<Self, DistError> {
        Self::new(qubits, comm.size(), comm.rank())
    }

    /// Qubits of the whole state.
    pub fn qubits(&self) -> usize {
        self.qubits
    }

    /// Qubits stored in each rank's block (`n − g`).
    pub fn local_qubits(&self) -> usize {
        self.qubits - self.global_bits
    }

    /// Amplitudes per rank, `2^(n−g)`.
    pub fn local_dim(&self) -> usize {
        1usize << self.local_qubits()
    }

    /// The global index of this rank's first amplitude.
    pub fn offset(&self) -> usize {
        self.rank << self.local_qubits()
    }

    /// This rank.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// The number of ranks, `2^g`.
    pub fn ranks(&self) -> usize {
        1 << self.global_bits
    }
}

/// A Pauli Hamiltonian applied to a state vector distributed by [`Layout`].
///
/// The terms are grouped by the part of their X-mask on global qubits, `gx`. For rank `r`,
/// the group `gx` reads the block of rank `s = r ⊕ gx`: a term `c·P_hi ⊗ P_lo` maps
/// `|s, lo⟩` to `i^{y_hi} (−1)^{|s ∧ z_hi|} |r⟩ ⊗ c·P_lo|lo⟩`, so the group is an ordinary
/// Pauli sum on the local qubits with the global factor folded into its coefficients,
/// compiled to an [`XMaskOperator`] once. One application costs one local `H·ψ` per group and
/// one block exchange per group with `gx ≠ 0` (in the same order on every rank, so the
/// exchanges pair up).
pub struct DistOperator<'c> {
    comm: &'c dyn Comm,
    layout: Layout,
    /// `(partner rank, operator on the local qubits)`, the local group (`partner == rank`) first.
    parts: Vec<(usize, XMaskOperator)>,
    /// The partner's block and one product, as raw `f64`s (enough for complex vectors).
    buffers: Mutex<(Vec<f64>, Vec<f64>)>,
    hermitian: bool,
    real: bool,
    norm_bound: f64,
    cost: usize,
}

impl<'c> DistOperator<'c> {
    /// Compiles this rank's share of `sum` for the ranks of `comm`.
    ///
    /// # Errors
    /// [`DistError`] for a layout that cannot split `sum`'s qubits, or an operator error
    /// (memory) from compiling the local groups.
    pub fn new(sum: &PauliSum, comm: &'c dyn Comm) -> Result<Self, DistError> {
        let layout = Layout::of(comm, sum.qubits())?;
        Ok(Self::with_layout(sum, comm, layout)?)
    }

    /// [`DistOperator::new`] for a layout already checked (the calling rank's layout of
    /// `comm` for `sum`'s qubits).
    ///
    /// # Errors
    /// An operator error (memory) from compiling the local groups.
    pub(super) fn with_layout(
        sum: &PauliSum,
        comm: &'c dyn Comm,
        layout: Layout,
    ) -> Result<Self, OperatorError> {
        debug_assert_eq!(layout, Layout::of(comm, sum.qubits()).unwrap_or(layout));
        let l = layout.local_qubits();
        let lo_mask = if l >= 64 { u64::MAX } else { (1u64 << l) - 1 };
        let rank = layout.rank as u64;
        // The global part of a mask (`l` may be 64 with one rank: nothing is global then).
        let high = |m: u64| m.checked_shr(l as u32).unwrap_or(0);
        let mut patterns: Vec<u64> = sum.terms().iter().map(|(p, _)| high(p.x())).collect();
        patterns.push(0);
        patterns.sort_unstable();
        patterns.dedup();
        let mut parts = Vec::with_capacity(patterns.len());
        let mut cost = 0;
        for &gx in &patterns {
            let source = rank ^ gx;
            let mut local = PauliSum::new(l);
            for &(p, c) in sum.terms() {
                if high(p.x()) != gx {
                    continue;
                }
                let (xh, zh) = (high(p.x()), high(p.z()));
                let k = (xh & zh).count_ones() + 2 * ((source & zh).count_ones() % 2);
                let factor = Phase((k % 4) as u8).to_complex();
                local.add(
                    PauliString::from_masks(p.x() & lo_mask, p.z() & lo_mask),
                    c * factor,
                );
            }
            let op = XMaskOperator::new(&local)?;
            cost += op.n_groups() + 1;
            parts.push((source as usize, op));
        }
        let dim = layout.local_dim();
        let real = parts.iter().all(|(_, op)| op.is_real());
        Ok(Self {
            comm,
            layout,
            parts,
            buffers: Mutex::new((vec![0.0; 2 * dim], vec![0.0; 2 * dim])),
            hermitian: sum.is_hermitian(0.0),
            real,
            norm_bound: sum.norm_bound(),
            cost: cost << l,
        })
    }

    /// This rank's layout.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Whether real vectors stay real (as for the undistributed operator).
    pub fn is_real(&self) -> bool {
        self.real
    }

    /// Whether the whole operator is Hermitian.
    pub fn is_hermitian(&self) -> bool {
        self.hermitian
    }

    /// An upper bound on `‖H‖₂` (`Σ|c|`).
    pub fn norm_bound(&self) -> f64 {
        self.norm_bound
    }

    /// Entries touched per application on this rank (a cost hint).
    pub fn cost_hint(&self) -> usize {
        self.cost
    }

    /// Block exchanges per application (groups that flip a global qubit).
    pub fn exchanges(&self) -> usize {
        self.parts.len() - 1
    }

    /// Bytes this rank sends per application with scalars of `elem_bytes` bytes.
    pub fn bytes_per_apply(&self, elem_bytes: usize) -> usize {
        self.exchanges() * self.layout.local_dim() * elem_bytes
    }

    /// Minimal memory traffic of one application on this rank: each local operator's
    /// [`XMaskOperator::bytes_per_apply`], for scalars of `elem_bytes` bytes.
    pub fn local_bytes_per_apply(&self, elem_bytes: usize) -> usize {
        self.parts
            .iter()
            .map(|(_, op)| op.bytes_per_apply(elem_bytes))
            .sum()
    }

    /// Streaming passes over a block per application (all local operators).
    pub fn local_passes(&self) -> usize {
        self.parts.iter().map(|(_, op)| op.n_passes()).sum()
    }

    /// X-mask groups of the local operators (including their diagonals).
    pub fn local_groups(&self) -> usize {
        self.parts.iter().map(|(_, op)| op.n_groups()).sum()
    }

    /// This rank's block of `y = H x`, from this rank's block of `x`. Every rank must call it
    /// (the blocks of other ranks arrive by exchange).
    ///
    /// # Panics
    /// If a block does not have [`Layout::local_dim`] entries, or `T = f64` for a complex
    /// operator (caller bugs).
    pub fn apply<T: Scalar>(&self, x: &[T], y: &mut [T]) {
        let dim = self.layout.local_dim();
        assert_eq!(x.len(), dim, "x block has the wrong length");
        assert_eq!(y.len(), dim, "y block has the wrong length");
        let mut guard = self.buffers.lock().unwrap_or_else(PoisonError::into_inner);
        let (recv_raw, prod_raw) = &mut *guard;
        let words = dim * std::mem::size_of::<T>() / std::mem::size_of::<f64>();
        let recv: &mut [T] = bytemuck::cast_slice_mut(&mut recv_raw[..words]);
        let prod: &mut [T] = bytemuck::cast_slice_mut(&mut prod_raw[..words]);
        for (i, (partner, op)) in self.parts.iter().enumerate() {
            if i == 0 {
                op.apply_into(x, y);
                continue;
            }
            sendrecv_scalars(self.comm, *partner, x, recv);
            if op.n_terms() > 0 {
                op.apply_into(recv, prod);
                axpy(T::from_f64(1.0), prod, y);
            }
        }
    }

    /// `⟨x|y⟩` over the whole distributed vectors (every rank gets the same value).
    pub fn dot<T: Scalar>(&self, x: &[T], y: &[T]) -> C64 {
        let d = dot(x, y).to_c64();
        let mut v = [d.re, d.im];
        self.comm.allreduce_sum(&mut v);
        C64::new(v[0], v[1])
    }
}

/// The distributed operator as every solver sees it: vectors are this rank's blocks
/// (`dim` = [`Layout::local_dim`]), inner products and norms are completed over the ranks by
/// [`LinearOperator::reduce_sum`], and seeded start vectors are drawn per global index from
/// [`LinearOperator::global_offset`] and [`LinearOperator::global_dim`], so Lanczos, MINRES
/// and Krylov evolution run unchanged and every rank count starts from the same vector.
/// Every rank must make the same calls in the same order (each application exchanges blocks).
impl<T: Scalar> LinearOperator<T> for DistOperator<'_> {
    fn dim(&self) -> usize {
        self.layout.local_dim()
    }

    /// [`DistOperator::apply`]: one local `H·ψ` per global flip pattern and one block
    /// exchange per pattern that flips a global qubit.
    fn apply(&self, x: &[T], y: &mut [T]) {
        DistOperator::apply(self, x, y);
    }

    fn is_real(&self) -> bool {
        self.real
    }

    fn is_hermitian(&self) -> bool {
        self.hermitian
    }

    fn norm_bound(&self) -> f64 {
        self.norm_bound
    }

    fn cost_hint(&self) -> usize {
        self.cost
    }

    /// [`Comm::allreduce_sum`]: added in rank order, the same bits on every rank.
    fn reduce_sum(&self, partial: &mut [f64]) {
        self.comm.allreduce_sum(partial);
    }

    fn global_offset(&self) -> usize {
        self.layout.offset()
    }

    fn global_dim(&self) -> usize {
        1usize << self.layout.qubits()
    }

    // `apply_rows` is the trait's: rows of this rank's block (offsets relative to it), from
    // one whole distributed application.

    /// No rank holds the whole matrix; a dense form is refused above one rank (dense oracles
    /// use the undistributed operator).
    fn to_dense(&self) -> Result<Vec<C64>, OperatorError> {
        if self.comm.size() > 1 {
            return Err(OperatorError::DenseTooLarge {
                qubits: self.layout.qubits(),
                max: DENSE_MAX_QUBITS.min(self.layout.local_qubits()),
            });
        }
        self.parts[0].1.to_dense()
    }
}

// The raw buffers are reinterpreted as `T` blocks: both scalar types are made of `f64` words.
const _: () = assert!(std::mem::align_of::<C64>() == std::mem::align_of::<f64>());
