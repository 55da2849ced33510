//! The process-wide communicator every command runs on, and the ordered work split over it.
//!
//! The `qep` binary built with the cargo feature `mpi` installs the MPI world once at start
//! ([`set_world`]); everything else asks [`world`]. Without the feature, or on one rank, that
//! is [`SelfComm`] and every code path is the one-process one, so library signatures carry no
//! communicator. Tests simulate ranks with [`ThreadComm::run_as_world`], which installs each
//! rank's communicator for its own thread.

use std::cell::Cell;
use std::sync::OnceLock;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{Comm, SelfComm, ThreadComm};

/// The communicator of the whole process (set once by the binary).
static WORLD: OnceLock<&'static dyn Comm> = OnceLock::new();

thread_local! {
    /// A communicator for this thread only (the simulated ranks of [`ThreadComm::run_as_world`]).
    static THREAD_WORLD: Cell<Option<&'static dyn Comm>> = const { Cell::new(None) };
}

/// The communicator of this process: this thread's simulated rank if there is one, else the
/// one the binary installed with [`set_world`], else [`SelfComm`] (one process).
pub fn world() -> &'static dyn Comm {
    THREAD_WORLD
        .with(Cell::get)
        .or_else(|| WORLD.get().copied())
        .unwrap_or(&SelfComm)
}

/// Installs `comm` as the process's communicator. Only the first call has an effect; it
/// returns whether this call installed it.
pub fn set_world(comm: &'static dyn Comm) -> bool {
    WORLD.set(comm).is_ok()
}

/// Whether this process is the one that prints and writes files: rank 0 of [`world`].
pub fn is_root() -> bool {
    world().rank() == 0
}

impl ThreadComm {
    /// [`ThreadComm::run`] with each rank's communicator installed as [`world`] for its
    /// thread, so library functions that split their work over the world's ranks run as they
    /// would under `mpirun -np size`. The communicators live for the rest of the process (a
    /// few hundred bytes per rank: this is for tests).
    ///
    /// # Panics
    /// As [`ThreadComm::run`].
    pub fn run_as_world<R: Send>(size: usize, f: impl Fn() -> R + Sync) -> Vec<R> {
        let comms: Vec<&'static ThreadComm> = ThreadComm::group(size)
            .into_iter()
            .map(|c| &*Box::leak(Box::new(c)))
            .collect();
        std::thread::scope(|s| {
            let handles: Vec<_> = comms
                .into_iter()
                .map(|comm| {
                    let f = &f;
                    s.spawn(move || {
                        THREAD_WORLD.with(|w| w.set(Some(comm)));
                        f()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        })
    }
}

/// The contiguous block of `0..n` that `rank` of `size` works on: rank `r` takes
/// `⌊r·n/size⌋ … ⌊(r+1)·n/size⌋`, so the blocks cover `0..n` in rank order and differ in
/// length by at most one.
pub fn block(n: usize, rank: usize, size: usize) -> std::ops::Range<usize> {
    let at = |r: usize| (r as u128 * n as u128 / size.max(1) as u128) as usize;
    at(rank)..at(rank + 1)
}

/// `f(0), f(1), …, f(n−1)` computed with the items split contiguously over the ranks of
/// `comm` ([`block`]), gathered on every rank in item order: the result is the list one
/// process computes, whatever the number of ranks (each item's value depends only on its
/// index, so a seeded study gives identical numbers on any rank count).
///
/// On one rank this is exactly `(0..n).map(f).collect()`. On several, each rank's results
/// travel as CBOR (bit-exact for `f64`, NaN and infinities included) in one all-gather of the
/// lengths and one of the payloads.
///
/// An error stops the rank at the failing item and is returned at once, without waiting for
/// the others: under MPI the binary then aborts the whole job (`MpiComm::abort`, with the
/// `mpi` feature), so the other ranks are never left waiting in the gather.
///
/// # Errors
/// The first error of `f` on this rank's items.
///
/// # Panics
/// If a gathered payload does not decode, which only a bug in the transport can cause (every
/// rank runs this same code on the same types).
pub fn map_ordered<T, E>(
    comm: &dyn Comm,
    n: usize,
    mut f: impl FnMut(usize) -> Result<T, E>,
) -> Result<Vec<T>, E>
where
    T: Serialize + DeserializeOwned,
{
    if comm.size() == 1 {
        return (0..n).map(f).collect();
    }
    // Each item is one rank's own work: inside it the world is this process alone, so a
    // library call that would split its state over the world's ranks (an EP gradient) runs
    // whole here instead of waiting for ranks busy with other items.
    let mine = {
        let _alone = Alone::enter();
        block(n, comm.rank(), comm.size())
            .map(&mut f)
            .collect::<Result<Vec<T>, E>>()
    }?;
    let mut bytes = Vec::new();
    ciborium::into_writer(&mine, &mut bytes)
        .unwrap_or_else(|e| panic!("rank {}: results do not encode: {e}", comm.rank()));
    let words = pack(&bytes);
    // Lengths first: the payload gather needs equal lengths, so every rank pads to the longest.
    let mut lens = vec![0.0; comm.size()];
    comm.allgather(&[bytes.len() as f64], &mut lens);
    let longest = lens
        .iter()
        .map(|&l| l as usize)
        .max()
        .unwrap_or(0)
        .div_ceil(8);
    let mut padded = words;
    padded.resize(longest, 0.0);
    let mut all = vec![0.0; longest * comm.size()];
    comm.allgather(&padded, &mut all);
    let mut out = Vec::with_capacity(n);
    for (r, (chunk, &len)) in all.chunks(longest.max(1)).zip(&lens).enumerate() {
        let bytes = unpack(chunk, len as usize);
        let part: Vec<T> = ciborium::from_reader(bytes.as_slice())
            .unwrap_or_else(|e| panic!("the results of rank {r} do not decode: {e}"));
        out.extend(part);
    }
    Ok(out)
}

/// [`world`] is [`SelfComm`] on this thread while it lives; the previous world comes back
/// when it is dropped (also on an early return or a panic).
struct Alone(Option<&'static dyn Comm>);

impl Alone {
    fn enter() -> Self {
        Alone(THREAD_WORLD.with(|w| w.replace(Some(&SelfComm))))
    }
}

impl Drop for Alone {
    fn drop(&mut self) {
        THREAD_WORLD.with(|w| w.set(self.0));
    }
}

/// Bytes as `f64` words (8 bytes each, little-endian, the last one zero-padded): the
/// communicator moves `f64` bit patterns unchanged.
fn pack(bytes: &[u8]) -> Vec<f64> {
    bytes
        .chunks(8)
        .map(|c| {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            f64::from_bits(u64::from_le_bytes(w))
        })
        .collect()
}

/// The first `len` bytes of `words` ([`pack`]'s inverse).
fn unpack(words: &[f64], len: usize) -> Vec<u8> {
    let mut b: Vec<u8> = words
        .iter()
        .flat_map(|w| w.to_bits().to_le_bytes())
        .collect();
    b.truncate(len);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_cover_the_items_in_rank_order() {
        for n in 0..20 {
            for size in 1..6 {
                let mut next = 0;
                for r in 0..size {
                    let b = block(n, r, size);
                    assert_eq!(b.start, next);
                    assert!(b.len() <= n / size + 1);
                    next = b.end;
                }
                assert_eq!(next, n);
            }
        }
    }

    #[test]
    fn ordered_map_gathers_every_item_bit_for_bit() {
        let f = |i: usize| -> Result<(usize, Vec<f64>), ()> {
            Ok((i, vec![0.1 * i as f64, f64::NAN, f64::NEG_INFINITY, -0.0]))
        };
        let one = map_ordered(&SelfComm, 7, f).unwrap_or_default();
        for size in [2, 3, 4] {
            let all = ThreadComm::run(size, |c| map_ordered(c, 7, f));
            for got in all {
                let got = got.unwrap_or_default();
                assert_eq!(got.len(), 7);
                for (a, b) in got.iter().zip(&one) {
                    assert_eq!(a.0, b.0);
                    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&a.1), bits(&b.1));
                }
            }
        }
    }
}
