//! The buffers of the Krylov solvers, kept from one solve to the next.

use crate::scalar::Scalar;
use crate::state::memory;

/// The vectors Lanczos ([`super::lowest_eigenpairs_in`]) and MINRES
/// ([`crate::linalg::minres_projected_in`]) work in, owned by the caller and reused across
/// solves: the free and clamped solves of an EP gradient, its oracle, the examples of an epoch
/// and the epochs of a run share one.
///
/// Every vector is allocated through [`memory::zeroed`], which writes it once: its pages are
/// faulted in when it is first made and never again, so a solve after the first touches no
/// fresh memory (on this kind of VM a first touch costs more than the `H·ψ` that fills it).
/// The Krylov basis grows on demand up to the longest cycle run so far and stays allocated;
/// vectors lent out ([`LanczosWorkspace::take`]) and given back ([`LanczosWorkspace::give`])
/// come from the same store. A solve on another dimension drops what it holds and starts over.
#[derive(Debug, Default)]
pub struct LanczosWorkspace<T> {
    dim: usize,
    pub(super) v_prev: Vec<T>,
    pub(super) v: Vec<T>,
    pub(super) w: Vec<T>,
    /// The Krylov basis of the current cycle (its first `steps` entries), longer when an
    /// earlier cycle was.
    pub(super) basis: Vec<Vec<T>>,
    /// Vectors given back, ready to be lent again.
    spare: Vec<Vec<T>>,
    /// The next solve's warm start, handed over by value ([`LanczosWorkspace::set_start`]).
    pub(super) pending_start: Option<Vec<T>>,
    /// Most basis vectors the current run may hold (its planned cap plus the product's
    /// slot): fresh vectors are made ahead of need up to this, never beyond.
    pub(super) basis_limit: usize,
}

impl<T: Scalar> LanczosWorkspace<T> {
    /// An empty workspace (it allocates on the first solve).
    pub fn new() -> Self {
        Self {
            dim: 0,
            v_prev: Vec::new(),
            v: Vec::new(),
            w: Vec::new(),
            basis: Vec::new(),
            spare: Vec::new(),
            pending_start: None,
            basis_limit: 0,
        }
    }

    /// Hands over the warm start of the next solve in this workspace that is given none
    /// (`start = None`) by value: its vector becomes that run's first Lanczos vector (mixed
    /// and normalised as a borrowed start is), where a borrowed start is copied into one of
    /// the workspace's, so the caller holds no vector of its own during the solve. A solve
    /// given a start of its own, or on the dense path, takes it back as a spare vector.
    pub fn set_start(&mut self, v: Vec<T>) {
        if let Some(old) = self.pending_start.replace(v) {
            self.give(old);
        }
    }

    /// Makes the work vector `w` `dim` long, dropping everything held for another dimension.
    /// The caller has checked that `dim` vectors fit.
    pub(crate) fn prepare(&mut self, dim: usize) {
        if self.dim != dim || self.w.len() != dim {
            let pending = self.pending_start.take().filter(|v| v.len() == dim);
            *self = Self::new();
            self.pending_start = pending;
            self.dim = dim;
            self.w = fresh(dim);
        }
    }

    /// Makes `v` and `v_prev` `dim` long as well: only the two-pass solver uses them (the
    /// stored-basis one works in the basis), and a vector never used is a vector whose pages
    /// are never cleared.
    pub(super) fn prepare_two_pass(&mut self) {
        if self.v.len() != self.dim {
            self.v = fresh(self.dim);
            self.v_prev = fresh(self.dim);
        }
    }

    /// Whether it holds vectors of `dim` amplitudes.
    pub(super) fn holds(&self, dim: usize) -> bool {
        self.dim == dim && self.w.len() == dim
    }

    /// Bytes held (work vectors, basis and spare vectors).
    pub fn bytes(&self) -> u128 {
        let work = (self.v_prev.len() + self.v.len() + self.w.len()) as u128;
        let pending = usize::from(
            self.pending_start
                .as_ref()
                .is_some_and(|v| v.len() == self.dim),
        );
        let vectors = (self.basis.len() + self.spare.len() + pending) as u128;
        (work + vectors * self.dim as u128) * std::mem::size_of::<T>() as u128
    }

    /// Vectors of the stored Krylov basis currently allocated.
    pub fn basis_len(&self) -> usize {
        self.basis.len()
    }

    /// Lends a `dim`-long vector with arbitrary contents (the caller overwrites it): a spare
    /// one, else a basis vector beyond `keep` (the basis vectors a solve in progress uses),
    /// else a fresh zeroed one. The caller has checked that it fits.
    pub fn take(&mut self, dim: usize, keep: usize) -> Vec<T> {
        if dim == self.dim {
            if let Some(v) = self.spare.pop() {
                return v;
            }
            if self.basis.len() > keep {
                if let Some(v) = self.basis.pop() {
                    return v;
                }
            }
        }
        fresh(dim)
    }

    /// Gives a vector back for later solves (dropped unless it has this workspace's length).
    pub fn give(&mut self, v: Vec<T>) {
        if v.len() == self.dim && self.dim > 0 {
            self.spare.push(v);
        }
    }

    /// Makes the stored basis at least `len` vectors long: spare vectors first, then fresh
    /// zeroed ones, made ahead of need in batches that double (up to [`GROW_BATCH`] vectors,
    /// within [`LanczosWorkspace::basis_limit`]) and faulted in together by all threads. A run
    /// asks for one more vector per step; making them one by one left the other threads idle
    /// while one thread faulted in each vector's pages, a fork and a wake-up per step.
    pub(super) fn grow_basis(&mut self, len: usize) {
        while self.basis.len() < len {
            match self.spare.pop() {
                Some(v) => self.basis.push(v),
                None => break,
            }
        }
        let have = self.basis.len();
        if have < len {
            let ahead = have.min(GROW_BATCH);
            let count = (len - have).max(ahead.min(self.basis_limit.saturating_sub(have)));
            self.basis
                .extend(memory::zeroed_populated_n::<T>(count, self.dim));
        }
    }
}

/// Most fresh basis vectors [`LanczosWorkspace::grow_basis`] makes ahead of need at once: a
/// run that stops early leaves at most this many unused.
const GROW_BATCH: usize = 16;

/// A zeroed vector of `len` amplitudes whose pages are all mapped before it is used
/// ([`memory::zeroed_populated`]): no trap per page in its first pass, and no zeroing pass
/// (the allocator's fresh pages are zero).
fn fresh<T: Scalar>(len: usize) -> Vec<T> {
    memory::zeroed_populated(len)
}
