//! The communicator trait and its in-process implementations.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Condvar, Mutex, PoisonError};

use crate::scalar::Scalar;

/// What the distributed layer needs from a group of processes: point-to-point exchange with
/// one partner, an all-gather, and a barrier. Messages are `f64` slices (complex vectors are
/// sent as their real and imaginary parts, see [`sendrecv_scalars`]).
///
/// Implementations must be usable from the thread that calls them; they need not be called
/// from several threads at once (the kernels parallelise inside a rank with rayon, the
/// messages are sent by the calling thread only).
pub trait Comm: Sync {
    /// This process's rank, `0 ≤ rank < size`.
    fn rank(&self) -> usize;

    /// The number of ranks.
    fn size(&self) -> usize;

    /// Sends `send` to rank `partner` and receives `recv.len()` values from it (the partner
    /// calls this with the roles exchanged and the same length). `partner == rank` copies.
    fn sendrecv(&self, partner: usize, send: &[f64], recv: &mut [f64]);

    /// Every rank's `local` (all of the same length), concatenated in rank order into `out`
    /// (`out.len() == size · local.len()`), on every rank.
    fn allgather(&self, local: &[f64], out: &mut [f64]);

    /// Waits until every rank has called it.
    fn barrier(&self);

    /// Bytes this rank has sent so far (point-to-point and collective payloads).
    fn bytes_sent(&self) -> u64;

    /// `v ← Σ_ranks v`, added in rank order, so every rank holds the same bits and a given
    /// rank count always gives the same result.
    fn allreduce_sum(&self, v: &mut [f64]) {
        if self.size() == 1 {
            return;
        }
        let mut all = vec![0.0; v.len() * self.size()];
        self.allgather(v, &mut all);
        let n = v.len();
        for (i, x) in v.iter_mut().enumerate() {
            *x = (0..self.size()).map(|r| all[r * n + i]).sum();
        }
    }
}

/// A scalar slice viewed as `f64`s (a complex number is its real part followed by its
/// imaginary part, the layout of `num_complex::Complex64`).
pub(crate) fn as_f64<T: Scalar>(v: &[T]) -> &[f64] {
    bytemuck::cast_slice(v)
}

/// Mutable form of [`as_f64`].
pub(crate) fn as_f64_mut<T: Scalar>(v: &mut [T]) -> &mut [f64] {
    bytemuck::cast_slice_mut(v)
}

/// [`Comm::sendrecv`] for vectors of any [`Scalar`].
pub fn sendrecv_scalars<T: Scalar>(comm: &dyn Comm, partner: usize, send: &[T], recv: &mut [T]) {
    comm.sendrecv(partner, as_f64(send), as_f64_mut(recv));
}

/// One process alone: rank 0 of 1; nothing is ever sent.
#[derive(Debug, Default, Clone, Copy)]
pub struct SelfComm;

impl Comm for SelfComm {
    fn rank(&self) -> usize {
        0
    }
    fn size(&self) -> usize {
        1
    }
    fn sendrecv(&self, partner: usize, send: &[f64], recv: &mut [f64]) {
        assert_eq!(partner, 0, "a single process has no partner {partner}");
        recv.copy_from_slice(send);
    }
    fn allgather(&self, local: &[f64], out: &mut [f64]) {
        out.copy_from_slice(local);
    }
    fn barrier(&self) {}
    fn bytes_sent(&self) -> u64 {
        0
    }
}

/// Ranks simulated by the threads of one process, with the message semantics of MPI's
/// `Sendrecv`/`Allgather`/`Barrier`. The distributed algorithms are tested with it in the
/// ordinary test suite (no MPI installation needed), and the communication volume of a run
/// on many nodes can be counted on one machine.
///
/// Created only through [`ThreadComm::run`], which starts one thread per rank.
pub struct ThreadComm {
    rank: usize,
    shared: Arc<Shared>,
    sent: AtomicU64,
}

/// Messages in flight, per (from, to) rank pair, in the order sent.
type Mailboxes = HashMap<(usize, usize), VecDeque<Vec<f64>>>;

struct Shared {
    size: usize,
    mail: Mutex<Mailboxes>,
    arrived: Condvar,
    slots: Mutex<Vec<Vec<f64>>>,
    barrier: Barrier,
}

impl ThreadComm {
    /// Runs `f` on `size` ranks, one thread each, and returns their results in rank order.
    ///
    /// # Panics
    /// If `size == 0`, or if `f` panics on any rank (the panic is propagated once every
    /// rank has finished; a rank left waiting for a message from a panicked rank would wait
    /// for ever, so `f` must not panic between matched calls in tests that expect success).
    pub fn run<R: Send>(size: usize, f: impl Fn(&ThreadComm) -> R + Sync) -> Vec<R> {
        let comms = Self::group(size);
        std::thread::scope(|s| {
            let handles: Vec<_> = comms
                .into_iter()
                .map(|comm| {
                    let f = &f;
                    s.spawn(move || f(&comm))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        })
    }

    /// The communicators of `size` ranks that talk to each other, in rank order.
    ///
    /// # Panics
    /// If `size == 0`.
    pub(super) fn group(size: usize) -> Vec<ThreadComm> {
        assert!(size > 0, "at least one rank");
        let shared = Arc::new(Shared {
            size,
            mail: Mutex::new(HashMap::new()),
            arrived: Condvar::new(),
            slots: Mutex::new(vec![Vec::new(); size]),
            barrier: Barrier::new(size),
        });
        (0..size)
            .map(|rank| ThreadComm {
                rank,
                shared: Arc::clone(&shared),
                sent: AtomicU64::new(0),
            })
            .collect()
    }

    fn count(&self, values: usize) {
        self.sent.fetch_add(
            (values * std::mem::size_of::<f64>()) as u64,
            Ordering::Relaxed,
        );
    }
}

impl Comm for ThreadComm {
    fn rank(&self) -> usize {
        self.rank
    }

    fn size(&self) -> usize {
        self.shared.size
    }

    fn sendrecv(&self, partner: usize, send: &[f64], recv: &mut [f64]) {
        assert!(partner < self.shared.size, "no rank {partner}");
        if partner == self.rank {
            recv.copy_from_slice(send);
            return;
        }
        self.count(send.len());
        let sh = &self.shared;
        let mut mail = sh.mail.lock().unwrap_or_else(PoisonError::into_inner);
        mail.entry((self.rank, partner))
            .or_default()
            .push_back(send.to_vec());
        sh.arrived.notify_all();
        loop {
            if let Some(m) = mail
                .get_mut(&(partner, self.rank))
                .and_then(VecDeque::pop_front)
            {
                assert_eq!(m.len(), recv.len(), "message length mismatch");
                recv.copy_from_slice(&m);
                return;
            }
            mail = sh
                .arrived
                .wait(mail)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn allgather(&self, local: &[f64], out: &mut [f64]) {
        let sh = &self.shared;
        assert_eq!(out.len(), local.len() * sh.size, "allgather output length");
        self.count(local.len() * (sh.size - 1));
        sh.slots.lock().unwrap_or_else(PoisonError::into_inner)[self.rank] = local.to_vec();
        sh.barrier.wait();
        {
            let slots = sh.slots.lock().unwrap_or_else(PoisonError::into_inner);
            for (r, s) in slots.iter().enumerate() {
                assert_eq!(s.len(), local.len(), "allgather length differs on rank {r}");
                out[r * local.len()..(r + 1) * local.len()].copy_from_slice(s);
            }
        }
        // Nobody overwrites a slot until everyone has read all of them.
        sh.barrier.wait();
    }

    fn barrier(&self) {
        self.shared.barrier.wait();
    }

    fn bytes_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scalar::C64;

    #[test]
    fn allreduce_sums_in_rank_order_on_every_rank() {
        let out = ThreadComm::run(4, |c| {
            let mut v = vec![c.rank() as f64, 1.0, 0.1 * (c.rank() as f64 + 1.0)];
            c.allreduce_sum(&mut v);
            v
        });
        for v in &out {
            assert_eq!(v[0], 6.0);
            assert_eq!(v[1], 4.0);
            // Rank order: ((0.1 + 0.2) + 0.3) + 0.4, the same bits everywhere.
            assert_eq!(v[2], ((0.1 + 0.2) + 0.30000000000000004) + 0.4);
            assert_eq!(v[2].to_bits(), out[0][2].to_bits());
        }
    }

    #[test]
    fn pairwise_exchange_delivers_in_order_and_counts_bytes() {
        let out = ThreadComm::run(4, |c| {
            let partner = c.rank() ^ 2;
            let mut got = Vec::new();
            for round in 0..3 {
                let send = [C64::new(c.rank() as f64, round as f64); 5];
                let mut recv = [C64::new(0.0, 0.0); 5];
                sendrecv_scalars(c, partner, &send, &mut recv);
                got.push(recv[4]);
            }
            (got, c.bytes_sent())
        });
        for (rank, (got, bytes)) in out.iter().enumerate() {
            for (round, z) in got.iter().enumerate() {
                assert_eq!(*z, C64::new((rank ^ 2) as f64, round as f64));
            }
            assert_eq!(*bytes, 3 * 5 * 16);
        }
    }
}
