//! The `qep` binary: parse the command line, call the library, print (STYLE.md §9).

mod cli;

use clap::Parser;

fn main() {
    let args = cli::args::Cli::parse();
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
