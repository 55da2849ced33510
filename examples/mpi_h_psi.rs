//! `H·ψ` on a state vector split over MPI ranks, checked against one process.
//!
//! ```text
//! cargo build --release --features mpi --example mpi_h_psi
//! mpirun -np 4 target/release/examples/mpi_h_psi [qubits] [terms]
//! ```
//!
//! Every rank builds the same random Hamiltonian (every letter on every qubit, so terms flip
//! and read the global qubits) and the same random state, keeps its block, and applies `H`
//! by block exchange; each block is compared with the same rows of the one-process product.
//! Rank 0 prints one JSON line; the exit code is 1 if any rank's error exceeds 1e-12.

use qep::dist::{Comm, DistOperator, MpiComm};
use qep::operator::XMaskOperator;
use qep::pauli::{PauliString, PauliSum};
use qep::C64;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn main() {
    let Some(comm) = MpiComm::init() else {
        eprintln!("error: MPI could not be initialised with serialised thread support");
        std::process::exit(1);
    };
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(14);
    let terms: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(60);
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let mask = (1u64 << n) - 1;
    let mut h = PauliSum::new(n);
    for _ in 0..terms {
        let p = PauliString::from_masks(rng.random::<u64>() & mask, rng.random::<u64>() & mask);
        h.add(p, rng.random_range(-1.0..1.0));
    }
    let psi: Vec<C64> = (0..1usize << n)
        .map(|_| C64::new(rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)))
        .collect();
    let op = match DistOperator::new(&h, &comm) {
        Ok(op) => op,
        Err(e) => {
            eprintln!("error on rank {}: {e}", comm.rank());
            comm.abort(1);
        }
    };
    let lay = op.layout();
    let rows = lay.offset()..lay.offset() + lay.local_dim();
    let mut y = vec![C64::new(0.0, 0.0); lay.local_dim()];
    let before = comm.bytes_sent();
    op.apply(&psi[rows.clone()], &mut y);
    let sent = comm.bytes_sent() - before;

    let mut want = vec![C64::new(0.0, 0.0); 1 << n];
    let one = XMaskOperator::new(&h).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        comm.abort(1)
    });
    one.apply_into(&psi, &mut want);
    let err = y
        .iter()
        .zip(&want[rows])
        .map(|(a, b)| (a - b).norm())
        .fold(0.0, f64::max);
    let mut all = vec![0.0; comm.size()];
    comm.allgather(&[err], &mut all);
    let worst = all.iter().copied().fold(0.0, f64::max);
    if comm.rank() == 0 {
        println!(
            "{{\"ranks\": {}, \"qubits\": {n}, \"terms\": {terms}, \"exchanges\": {}, \
             \"mpi_bytes_per_apply\": {sent}, \"max_error\": {worst:e}}}",
            comm.size(),
            op.exchanges()
        );
    }
    if worst > 1e-12 {
        if comm.rank() == 0 {
            eprintln!("error: distributed H·ψ differs from one process by {worst:e}");
        }
        std::process::exit(1);
    }
}
