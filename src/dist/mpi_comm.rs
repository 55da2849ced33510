//! [`Comm`] over MPI (the `mpi` crate, rsmpi, on OpenMPI): only with the cargo feature `mpi`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use mpi::collective::CommunicatorCollectives;
use mpi::environment::Universe;
use mpi::point_to_point::send_receive_into;
use mpi::topology::{Communicator, SimpleCommunicator};
use mpi::Threading;

use super::Comm;

/// MPI's counts are 32-bit: longer messages go in pieces of this many `f64`s (1 GiB).
const PIECE: usize = 1 << 27;

/// The processes started by `mpirun`, as one [`Comm`].
pub struct MpiComm {
    world: SimpleCommunicator,
    /// Every MPI call holds this lock: MPI is initialised with `Threading::Serialized`, which
    /// allows calls from any thread but never two at once.
    lock: Mutex<()>,
    sent: AtomicU64,
    rank: usize,
    size: usize,
    /// Finalises MPI when dropped: by [`MpiComm::finalize`], or with the communicator.
    universe: Mutex<Option<Universe>>,
}

// SAFETY: the communicator handle is only used under `lock`, and MPI was initialised with
// (at least) `Threading::Serialized`, so calls from different threads never overlap.
unsafe impl Send for MpiComm {}
// SAFETY: as above: shared references only reach MPI through `lock`.
unsafe impl Sync for MpiComm {}

impl MpiComm {
    /// Whether a process manager started this process (`mpirun`/`mpiexec` of OpenMPI, MPICH
    /// or MVAPICH, or `srun` with PMI/PMIx): each sets its rank in the environment. Outside
    /// one, initialising MPI only costs time (OpenMPI's singleton start-up takes about 0.3 s
    /// of wall time) for a world of one rank, which the plain one-process path gives for free.
    pub fn launched() -> bool {
        const VARS: [&str; 5] = [
            "OMPI_COMM_WORLD_SIZE",
            "PMIX_RANK",
            "PMI_RANK",
            "PMI_SIZE",
            "MV2_COMM_WORLD_SIZE",
        ];
        VARS.iter().any(|v| std::env::var_os(v).is_some())
    }

    /// Initialises MPI (once per process). `None` if MPI was initialised already or the
    /// library cannot give serialised multi-thread support.
    pub fn init() -> Option<Self> {
        let (universe, level) = mpi::initialize_with_threading(Threading::Serialized)?;
        if level < Threading::Serialized {
            return None;
        }
        let world = universe.world();
        let (rank, size) = (world.rank() as usize, world.size() as usize);
        Some(Self {
            world,
            lock: Mutex::new(()),
            sent: AtomicU64::new(0),
            rank,
            size,
            universe: Mutex::new(Some(universe)),
        })
    }

    /// Stops every rank with `code` (an error on one rank must not leave the others waiting
    /// for it in a collective call).
    pub fn abort(&self, code: i32) -> ! {
        self.world.abort(code)
    }

    /// Finalises MPI (`MPI_Finalize`) on a clean exit, for a communicator that lives for the
    /// whole process and is never dropped. No MPI call may follow; a second call does nothing.
    pub fn finalize(&self) {
        let _g = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        drop(
            self.universe
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
    }
}

impl Comm for MpiComm {
    fn rank(&self) -> usize {
        self.rank
    }

    fn size(&self) -> usize {
        self.size
    }

    fn sendrecv(&self, partner: usize, send: &[f64], recv: &mut [f64]) {
        assert_eq!(send.len(), recv.len(), "exchange of unequal blocks");
        if partner == self.rank {
            recv.copy_from_slice(send);
            return;
        }
        let _g = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        let p = self.world.process_at_rank(partner as i32);
        for (s, r) in send.chunks(PIECE).zip(recv.chunks_mut(PIECE)) {
            send_receive_into(s, &p, r, &p);
        }
        self.sent
            .fetch_add(std::mem::size_of_val(send) as u64, Ordering::Relaxed);
    }

    fn allgather(&self, local: &[f64], out: &mut [f64]) {
        assert_eq!(
            out.len(),
            local.len() * self.size,
            "allgather output length"
        );
        let _g = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        self.world.all_gather_into(local, out);
        self.sent.fetch_add(
            (std::mem::size_of_val(local) * (self.size - 1)) as u64,
            Ordering::Relaxed,
        );
    }

    fn barrier(&self) {
        let _g = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        self.world.barrier();
    }

    fn bytes_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }
}
