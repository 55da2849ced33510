//! The `qep` binary: parse the command line, call the library, print (STYLE.md §9).

mod cli;

use clap::Parser;

fn main() {
    keep_freed_memory();
    let args = match cli::args::Cli::try_parse() {
        Ok(args) => args,
        // `--help` and `--version` print to stdout and succeed; a usage error is bad input, so
        // it exits with 1 like every other bad input (clap's own default would be 2).
        Err(e) => {
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
        eprintln!("error: {}", cli::error_chain(&e));
        std::process::exit(1);
    }
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
