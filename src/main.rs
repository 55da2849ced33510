//! The `qep` binary: parse the command line, call the library, print (STYLE.md §9).

mod cli;

use clap::Parser;

/// Exit code of a run stopped by Ctrl-C (128 + SIGINT, as shells report it).
const EXIT_INTERRUPTED: i32 = 130;

fn main() {
    keep_freed_memory();
    handle_ctrl_c();
    let args = match cli::args::Cli::try_parse() {
        Ok(a) => a,
        Err(e) => {
            // --help and --version print to stdout and succeed; every usage error is bad
            // input: exit code 1, like every other error of qep.
            let _ = e.print();
            std::process::exit(if e.use_stderr() { 1 } else { 0 });
        }
    };
    if let Some(n) = args.threads {
        // Only fails if a pool exists already, which cannot happen this early.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global();
    }
    if let Err(e) = cli::dispatch(args.command) {
        if let Some(i) = e.downcast_ref::<cli::Interrupted>() {
            eprintln!("{i}");
            std::process::exit(EXIT_INTERRUPTED);
        }
        if cli::is_cancelled(&e) {
            eprintln!("interrupted");
            std::process::exit(EXIT_INTERRUPTED);
        }
        eprintln!("error: {}", cli::error_chain(&e));
        std::process::exit(1);
    }
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
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tunables; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
    }
}
