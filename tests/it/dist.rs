//! The distributed state vector, with ranks simulated by threads: every rank's block of `H·ψ`
//! equals the same rows of the one-process product.

use qep::dist::{DistError, DistOperator, Layout, SelfComm, ThreadComm};
use qep::operator::XMaskOperator;
use qep::pauli::{PauliString, PauliSum};
use qep::C64;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A random Hermitian Pauli sum on `n` qubits: `terms` strings with every letter on every
/// qubit possible (so terms flip, and read the sign of, the global qubits too).
fn random_sum(n: usize, terms: usize, real: bool, seed: u64) -> PauliSum {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut h = PauliSum::new(n);
    let mut added = 0;
    while added < terms {
        let (x, z) = (
            rng.random::<u64>() & ((1 << n) - 1),
            rng.random::<u64>() & ((1 << n) - 1),
        );
        // Real in the Z basis: an even number of Y letters.
        if real && (x & z).count_ones() % 2 == 1 {
            continue;
        }
        h.add(PauliString::from_masks(x, z), rng.random_range(-1.0..1.0));
        added += 1;
    }
    h
}

fn random_state(dim: usize, seed: u64) -> Vec<C64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..dim)
        .map(|_| C64::new(rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)))
        .collect()
}

#[test]
fn distributed_h_psi_equals_one_process_on_1_2_4_8_ranks() {
    let n = 7;
    let h = random_sum(n, 40, false, 3);
    let psi = random_state(1 << n, 4);
    let mut want = vec![C64::new(0.0, 0.0); 1 << n];
    XMaskOperator::new(&h).unwrap().apply_into(&psi, &mut want);
    for ranks in [1usize, 2, 4, 8] {
        let blocks = ThreadComm::run(ranks, |comm| {
            let op = DistOperator::new(&h, comm).unwrap();
            let lay = op.layout();
            let x = &psi[lay.offset()..lay.offset() + lay.local_dim()];
            let mut y = vec![C64::new(0.0, 0.0); lay.local_dim()];
            // Twice: buffers are reused and the exchanges pair up again.
            op.apply(x, &mut y);
            op.apply(x, &mut y);
            let e = op.dot(x, &y);
            (y, e, op.exchanges(), op.bytes_per_apply(16))
        });
        let got: Vec<C64> = blocks.iter().flat_map(|b| b.0.clone()).collect();
        let err = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).norm())
            .fold(0.0, f64::max);
        assert!(err < 1e-13, "{ranks} ranks: max error {err:e}");
        let e_one: C64 = psi.iter().zip(&want).map(|(a, b)| a.conj() * b).sum();
        for (_, e, ex, bytes) in &blocks {
            assert!((e - e_one).norm() < 1e-12 * e_one.norm().max(1.0));
            assert_eq!(*bytes, ex * (1 << n) / ranks * 16);
        }
        // With 40 random strings nearly every global flip pattern occurs.
        assert_eq!(
            blocks[0].2,
            if ranks == 1 { 0 } else { ranks - 1 },
            "{ranks} ranks"
        );
    }
}

#[test]
fn real_hamiltonians_stay_real_when_distributed() {
    let n = 6;
    let h = random_sum(n, 30, true, 9);
    let psi: Vec<f64> = random_state(1 << n, 10).iter().map(|z| z.re).collect();
    let one = XMaskOperator::new(&h).unwrap();
    assert!(one.is_real());
    let mut want = vec![0.0; 1 << n];
    one.apply_into(&psi, &mut want);
    let blocks = ThreadComm::run(4, |comm| {
        let op = DistOperator::new(&h, comm).unwrap();
        assert!(op.is_real());
        let lay = op.layout();
        let mut y = vec![0.0; lay.local_dim()];
        op.apply(&psi[lay.offset()..lay.offset() + lay.local_dim()], &mut y);
        y
    });
    let got: Vec<f64> = blocks.concat();
    for (a, b) in got.iter().zip(&want) {
        assert!((a - b).abs() < 1e-13);
    }
}

#[test]
fn layouts_that_cannot_split_the_state_are_refused() {
    assert!(matches!(
        Layout::new(5, 3, 0),
        Err(DistError::RanksNotPowerOfTwo { ranks: 3 })
    ));
    let e = Layout::new(3, 8, 0).unwrap_err();
    assert_eq!(
        e.to_string(),
        "8 ranks for 3 qubits: each rank needs at least one local qubit; use at most 4 ranks"
    );
    let one = Layout::of(&SelfComm, 10).unwrap();
    assert_eq!((one.local_dim(), one.offset()), (1024, 0));
    let four = Layout::new(10, 4, 3).unwrap();
    assert_eq!((four.local_qubits(), four.offset()), (8, 768));
}
