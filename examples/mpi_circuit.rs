//! A circuit's state vector split over MPI ranks, checked against one process.
//!
//! ```text
//! cargo build --release --features mpi --example mpi_circuit
//! mpirun -np 4 target/release/examples/mpi_circuit FILE.qasm
//! ```
//!
//! Every rank runs the circuit's gates on its block (global qubits swapped in by pairwise
//! exchange) and compares the block with the same rows of the one-process state (each rank
//! also runs the circuit whole, so keep it small). Rank 0 prints one JSON line; the exit code
//! is 1 if any rank's error exceeds 1e-12.

use qep::circuit::execute::unitary_part_state_with;
use qep::circuit::{parse_qasm_file, RunOptions};
use qep::dist::{Comm, MpiComm};

fn main() {
    let Some(comm) = MpiComm::init() else {
        eprintln!("error: MPI could not be initialised with serialised thread support");
        std::process::exit(1);
    };
    let fail = |e: &dyn std::fmt::Display| -> ! {
        eprintln!("error on rank {}: {e}", comm.rank());
        comm.abort(1)
    };
    let Some(file) = std::env::args().nth(1) else {
        fail(&"usage: mpi_circuit FILE.qasm")
    };
    let c = parse_qasm_file(std::path::Path::new(&file), &[]).unwrap_or_else(|e| fail(&e));
    let opts = RunOptions::default();
    let b = qep::dist::circuit_state(&c, &comm, &opts).unwrap_or_else(|e| fail(&e));
    let one = unitary_part_state_with(&c, &opts).unwrap_or_else(|e| fail(&e));
    let rows = b.layout.offset()..b.layout.offset() + b.layout.local_dim();
    let err = b
        .block
        .iter()
        .zip(&one[rows])
        .map(|(a, z)| (a - z).norm())
        .fold(0.0, f64::max);
    let mut all = vec![0.0; comm.size()];
    comm.allgather(&[err], &mut all);
    let worst = all.iter().copied().fold(0.0, f64::max);
    if comm.rank() == 0 {
        println!(
            "{{\"ranks\": {}, \"qubits\": {}, \"ops\": {}, \"exchanges\": {}, \
             \"bytes_sent\": {}, \"max_error\": {worst:e}}}",
            comm.size(),
            c.qubits,
            c.ops.len(),
            b.stats.exchanges,
            b.stats.bytes_sent
        );
    }
    if worst > 1e-12 {
        if comm.rank() == 0 {
            eprintln!("error: distributed circuit state differs from one process by {worst:e}");
        }
        std::process::exit(1);
    }
}
