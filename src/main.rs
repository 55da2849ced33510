//! The `qep` binary: parse the command line, call the library, print (STYLE.md §9).

mod cli;

use clap::Parser;

/// Exit code of a run stopped by Ctrl-C (128 + SIGINT, as shells report it).
const EXIT_INTERRUPTED: i32 = 130;

fn main() {
    keep_freed_memory();
    let world = World::start();
    handle_ctrl_c();
    let args = match cli::args::Cli::try_parse() {
        Ok(a) => a,
        Err(e) => {
            // --help and --version print to stdout and succeed; every usage error is bad
            // input: exit code 1, like every other error of qep.
            let code = if e.use_stderr() { 1 } else { 0 };
            if code == 1 && !world.prints() {
                world.fail(&e.render().to_string(), code);
            }
            let _ = e.print();
            world.exit(code);
        }
    };
    // Only fails if a pool exists already, which cannot happen this early.
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .stack_size(WORKER_STACK)
        .build_global();
    // The command runs on a worker of the pool, not on this thread: a parallel pass started
    // from a worker begins at once on that worker while the others join in, where one started
    // from outside the pool is handed over to a sleeping worker and waited for, two thread
    // wake-ups per pass. On this kind of VM a wake-up costs tens of microseconds, as much as
    // a 16-qubit H·ψ, so the Lanczos passes of small states ran at one thread's speed or
    // below on two.
    let command = args.command;
    if let Err(e) = rayon::scope(|_| cli::dispatch(command)) {
        if let Some(i) = e.downcast_ref::<cli::Interrupted>() {
            world.fail(&format!("{i}\n"), EXIT_INTERRUPTED);
        }
        if cli::is_cancelled(&e) {
            world.fail("interrupted\n", EXIT_INTERRUPTED);
        }
        world.fail(&format!("error: {}\n", cli::error_chain(&e)), 1);
    }
    world.finish();
}

/// The processes this run is one of: one process, or the ranks `mpirun` started (binary built
/// with the cargo feature `mpi`). Rank 0 alone prints: the other ranks' stdout and stderr go
/// to `/dev/null` from the start, so no command needs to know about ranks to print once (and
/// the library writes files on rank 0 only, see `qep::report::write_atomic`).
struct World {
    /// The MPI communicator, for the whole process (never dropped: see [`World::finish`]).
    #[cfg(feature = "mpi")]
    mpi: Option<&'static qep::dist::MpiComm>,
    /// On a rank other than 0: its own stderr, kept for the message of an error of its own.
    #[cfg(unix)]
    stderr: Option<std::os::fd::OwnedFd>,
}

impl World {
    /// Initialises MPI when built with it and started by a process manager (`mpirun`,
    /// `srun`; otherwise the run is one plain process) and installs its communicator as
    /// `qep::dist::world()` when there are several ranks.
    fn start() -> Self {
        #[cfg(feature = "mpi")]
        if let Some(c) = qep::dist::MpiComm::launched()
            .then(qep::dist::MpiComm::init)
            .flatten()
        {
            use qep::dist::Comm;
            let c: &'static qep::dist::MpiComm = Box::leak(Box::new(c));
            if c.size() > 1 {
                qep::dist::set_world(c);
            }
            return Self {
                mpi: Some(c),
                stderr: if c.rank() > 0 { silence() } else { None },
            };
        }
        Self {
            #[cfg(feature = "mpi")]
            mpi: None,
            #[cfg(unix)]
            stderr: None,
        }
    }

    /// Whether this process prints (rank 0, or the only process).
    fn prints(&self) -> bool {
        #[cfg(unix)]
        return self.stderr.is_none();
        #[cfg(not(unix))]
        true
    }

    /// A clean end: finalises MPI.
    fn finish(&self) {
        #[cfg(feature = "mpi")]
        if let Some(c) = self.mpi {
            c.finalize();
        }
    }

    /// Ends the process with `code`. Under MPI with several ranks, a failure aborts the whole
    /// job (`MPI_Abort`): the other ranks may be waiting for this one in a collective call.
    fn exit(&self, code: i32) -> ! {
        #[cfg(feature = "mpi")]
        if let Some(c) = self.mpi {
            use qep::dist::Comm;
            if code != 0 && c.size() > 1 {
                c.abort(code);
            }
        }
        self.finish();
        std::process::exit(code)
    }

    /// Prints `message` (which ends in a newline) once and ends the process with `code`.
    /// Rank 0 prints it. Another rank waits a moment first: when every rank fails on the same
    /// input, rank 0's abort ends the job in that moment and the message appears once; when
    /// only this rank fails, it prints its own message and aborts the job.
    fn fail(&self, message: &str, code: i32) -> ! {
        #[cfg(unix)]
        if let Some(fd) = &self.stderr {
            std::thread::sleep(std::time::Duration::from_secs(2));
            if let Ok(fd) = fd.try_clone() {
                use std::io::Write;
                let _ = std::fs::File::from(fd).write_all(message.as_bytes());
            }
            self.exit(code);
        }
        eprint!("{message}");
        self.exit(code)
    }
}

/// Sends this process's stdout and stderr to `/dev/null` and returns its former stderr
/// (`None`, and nothing changed, if that cannot be done).
#[cfg(all(unix, feature = "mpi"))]
fn silence() -> Option<std::os::fd::OwnedFd> {
    use std::fs::OpenOptions;
    use std::os::fd::{AsFd, AsRawFd};
    let null = OpenOptions::new().write(true).open("/dev/null").ok()?;
    let saved = std::io::stderr().as_fd().try_clone_to_owned().ok()?;
    // SAFETY: dup2 on open descriptors: 1 and 2 now refer to /dev/null, `null` stays valid.
    unsafe {
        libc::dup2(null.as_raw_fd(), 1);
        libc::dup2(null.as_raw_fd(), 2);
    }
    Some(saved)
}

/// Ctrl-C (SIGINT): a command that checks for it at safe points (training, studies, export)
/// gets the flag set and stops there, saving its state; any other command, and a second
/// Ctrl-C, ends the process at once with code 130.
fn handle_ctrl_c() {
    let flag = cli::cancel_flag().clone();
    // Fails only if a handler is installed already, which cannot happen this early; without
    // one, Ctrl-C keeps its default effect.
    let _ = ctrlc::set_handler(move || {
        if !cli::is_cooperative() || flag.is_cancelled() {
            std::process::exit(EXIT_INTERRUPTED);
        }
        flag.cancel();
        eprintln!("\ninterrupt: stopping at the next safe point (Ctrl-C again to quit at once)");
    });
}

/// Keeps freed state vectors in the process instead of returning them to the kernel: on this
/// kind of VM the first touch of fresh pages costs 0.5–2 GB/s (the host reclaims freed memory),
/// and successive eigensolves, EP phases and epochs allocate vectors of the same sizes again.
/// glibc caps the mmap threshold at 32 MiB, so vectors up to 2^21 complex amplitudes are reused.
/// One arena for all threads: the solves run on pool threads, and with an arena per thread a
/// vector freed by one thread is not reused by another, so the resident memory (which every
/// memory check counts) grew by whichever threads happened to allocate.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tunables; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// Stack of the pool's worker threads, on which every command runs: the main thread's usual
/// 8 MiB and more (only what is touched is mapped).
const WORKER_STACK: usize = 32 << 20;

/// Large blocks (state vectors, Krylov vectors) start on a cache line.
#[global_allocator]
static ALLOC: qep::state::memory::CacheLineAlloc = qep::state::memory::CacheLineAlloc;
