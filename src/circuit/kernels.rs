//! State-vector kernels: a `2^k × 2^k` matrix applied in place to `k` target qubits, only
//! where every control bit is set. Uncontrolled one- and two-qubit gates have the dedicated
//! block kernels below; every other gate goes through [`apply_controlled`].
//!
//! A gate on qubit `q` pairs amplitudes `i` and `i | 2^q` (bit `q` of `i` clear): the vector is
//! cut into blocks of `2^{q+1}` whose lower and upper halves hold the two members of each
//! pair; a two-qubit gate does this twice and updates quadruples. No allocation per gate; above
//! [`PAR_MIN`] amplitudes the blocks (or, for high qubits, the halves) are processed by rayon in
//! chunks of [`CHUNK`] amplitudes. Every amplitude is written by one fixed formula, so results
//! do not depend on the thread count.

use rayon::prelude::*;

use super::gates::{Matrix2, Matrix4};
use crate::C64;

/// Vectors shorter than this are processed serially.
pub const PAR_MIN: usize = 1 << 14;
/// Amplitudes per parallel task.
pub const CHUNK: usize = 1 << 13;

#[inline(always)]
fn pair(m: &Matrix2, lo: &mut [C64], hi: &mut [C64]) {
    for (x, y) in lo.iter_mut().zip(hi.iter_mut()) {
        let (a, b) = (*x, *y);
        *x = m[0][0] * a + m[0][1] * b;
        *y = m[1][0] * a + m[1][1] * b;
    }
}

/// All pairs of qubit `q` inside `v`, whose length is a multiple of `2^{q+1}`.
fn pairs_serial(m: &Matrix2, v: &mut [C64], q: usize) {
    let half = 1usize << q;
    for blk in v.chunks_exact_mut(2 * half) {
        let (lo, hi) = blk.split_at_mut(half);
        pair(m, lo, hi);
    }
}

/// Applies the 2×2 matrix `m` to qubit `q` of `psi` in place.
///
/// # Panics
/// If `psi.len()` is not a power of two larger than `2^q`.
#[track_caller]
pub fn apply_matrix2(psi: &mut [C64], q: usize, m: &Matrix2) {
    let n = psi.len();
    assert!(
        n.is_power_of_two() && (1usize << q) < n,
        "qubit {q} outside a vector of {n}"
    );
    let block = 2usize << q;
    if n < PAR_MIN {
        pairs_serial(m, psi, q);
    } else if block <= CHUNK {
        psi.par_chunks_mut(CHUNK)
            .for_each(|c| pairs_serial(m, c, q));
    } else {
        psi.par_chunks_mut(block).for_each(|blk| {
            let (lo, hi) = blk.split_at_mut(block / 2);
            lo.par_chunks_mut(CHUNK)
                .zip(hi.par_chunks_mut(CHUNK))
                .for_each(|(l, h)| pair(m, l, h));
        });
    }
}

/// `m` in the `(hi bit, lo bit)` order: index `2·h + l`.
#[inline(always)]
fn quad(m: &Matrix4, a00: &mut [C64], a01: &mut [C64], a10: &mut [C64], a11: &mut [C64]) {
    for (((w, x), y), z) in a00
        .iter_mut()
        .zip(a01.iter_mut())
        .zip(a10.iter_mut())
        .zip(a11.iter_mut())
    {
        let v = [*w, *x, *y, *z];
        let r = |k: usize| m[k][0] * v[0] + m[k][1] * v[1] + m[k][2] * v[2] + m[k][3] * v[3];
        *w = r(0);
        *x = r(1);
        *y = r(2);
        *z = r(3);
    }
}

/// The quadruples of qubits `lo < hi` inside the two halves `x0` (bit `hi` clear) and `x1`.
fn quads_in_halves(m: &Matrix4, x0: &mut [C64], x1: &mut [C64], lo: usize) {
    let half = 1usize << lo;
    for (y0, y1) in x0
        .chunks_exact_mut(2 * half)
        .zip(x1.chunks_exact_mut(2 * half))
    {
        let (a00, a01) = y0.split_at_mut(half);
        let (a10, a11) = y1.split_at_mut(half);
        quad(m, a00, a01, a10, a11);
    }
}

fn quads_serial(m: &Matrix4, v: &mut [C64], lo: usize, hi: usize) {
    let half = 1usize << hi;
    for blk in v.chunks_exact_mut(2 * half) {
        let (x0, x1) = blk.split_at_mut(half);
        quads_in_halves(m, x0, x1, lo);
    }
}

/// Applies the 4×4 matrix `m` (indexed by `bit_a + 2·bit_b`) to qubits `(a, b)` of `psi`.
///
/// # Panics
/// If `a == b` or a qubit lies outside the vector.
#[track_caller]
pub fn apply_matrix4(psi: &mut [C64], a: usize, b: usize, m: &Matrix4) {
    let n = psi.len();
    assert!(a != b, "two-qubit gate on qubit {a} twice");
    assert!(
        n.is_power_of_two() && (1usize << a.max(b)) < n,
        "qubits ({a}, {b}) outside a vector of {n}"
    );
    let (lo, hi) = (a.min(b), a.max(b));
    // Reorder to index 2·bit_hi + bit_lo: the identity if a is the low qubit, else swap 1 ↔ 2.
    let p = |k: usize| if a == lo { k } else { [0, 2, 1, 3][k] };
    let mut mm = [[C64::new(0.0, 0.0); 4]; 4];
    for (r, row) in mm.iter_mut().enumerate() {
        for (c, x) in row.iter_mut().enumerate() {
            *x = m[p(r)][p(c)];
        }
    }
    let m = &mm;
    let block = 2usize << hi;
    if n < PAR_MIN {
        quads_serial(m, psi, lo, hi);
    } else if block <= CHUNK {
        psi.par_chunks_mut(CHUNK)
            .for_each(|c| quads_serial(m, c, lo, hi));
    } else if (2usize << lo) <= CHUNK {
        psi.par_chunks_mut(block).for_each(|blk| {
            let (x0, x1) = blk.split_at_mut(block / 2);
            x0.par_chunks_mut(CHUNK)
                .zip(x1.par_chunks_mut(CHUNK))
                .for_each(|(c0, c1)| quads_in_halves(m, c0, c1, lo));
        });
    } else {
        let lblock = 2usize << lo;
        psi.par_chunks_mut(block).for_each(|blk| {
            let (x0, x1) = blk.split_at_mut(block / 2);
            x0.par_chunks_mut(lblock)
                .zip(x1.par_chunks_mut(lblock))
                .for_each(|(y0, y1)| {
                    let (a00, a01) = y0.split_at_mut(lblock / 2);
                    let (a10, a11) = y1.split_at_mut(lblock / 2);
                    a00.par_chunks_mut(CHUNK)
                        .zip(a01.par_chunks_mut(CHUNK))
                        .zip(a10.par_chunks_mut(CHUNK))
                        .zip(a11.par_chunks_mut(CHUNK))
                        .for_each(|(((w, x), y), z)| quad(m, w, x, y, z));
                });
        });
    }
}

/// Most targets [`apply_controlled`] takes (the widest gate of the table, `rc3x`, has 4).
pub const MAX_TARGETS: usize = 4;

/// A raw pointer that rayon tasks may share: every task writes a disjoint set of amplitudes.
#[derive(Clone, Copy)]
struct Shared(*mut C64);
// SAFETY: `apply_controlled` hands each amplitude index to exactly one task.
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

/// `x` with a zero bit inserted at position `p` (bits `≥ p` move up by one).
#[inline(always)]
fn insert_zero(x: usize, p: usize) -> usize {
    let low = x & ((1usize << p) - 1);
    ((x >> p) << (p + 1)) | low
}

/// Applies the `2^k × 2^k` matrix `m` (row-major, indexed by the targets' bits, `targets[0]`
/// = bit 0) to `targets` of `psi`, on the amplitudes whose bits in `ctrl` are all set; the
/// others are left alone. One group of `2^k` amplitudes per free index, no allocation per
/// group; parallel over groups above [`PAR_MIN`] amplitudes, each amplitude written by one
/// fixed formula whatever the thread count.
///
/// # Panics
/// If `k` is 0 or above [`MAX_TARGETS`], `m` has the wrong size, a target repeats, lies in
/// `ctrl` or outside the vector, or `psi.len()` is not a power of two.
#[track_caller]
pub fn apply_controlled(psi: &mut [C64], targets: &[usize], ctrl: usize, m: &[C64]) {
    let n = psi.len();
    let k = targets.len();
    assert!(n.is_power_of_two(), "state of length {n}");
    assert!((1..=MAX_TARGETS).contains(&k), "{k} targets");
    let dim = 1usize << k;
    assert_eq!(m.len(), dim * dim, "matrix for {k} targets");
    let mut fixed_mask = ctrl;
    for &t in targets {
        assert!(1usize << t < n, "target {t} outside a vector of {n}");
        assert!(fixed_mask >> t & 1 == 0, "target {t} repeated or a control");
        fixed_mask |= 1 << t;
    }
    assert!(ctrl < n, "controls outside a vector of {n}");
    let mut fixed: Vec<usize> = (0..usize::BITS as usize)
        .filter(|&b| fixed_mask >> b & 1 == 1)
        .collect();
    fixed.sort_unstable();
    let groups = n >> fixed.len();
    let mut offsets = [0usize; 1 << MAX_TARGETS];
    for (l, off) in offsets.iter_mut().enumerate().take(dim) {
        *off = targets
            .iter()
            .enumerate()
            .map(|(j, &t)| (l >> j & 1) << t)
            .sum();
    }
    let ptr = Shared(psi.as_mut_ptr());
    let group = move |g: usize| {
        let ptr = ptr;
        let mut base = g;
        for &p in &fixed {
            base = insert_zero(base, p);
        }
        base |= ctrl;
        let mut v = [C64::new(0.0, 0.0); 1 << MAX_TARGETS];
        // SAFETY: `base + offsets[l]` < n (every bit is below log2 n) and the groups of
        // distinct `g` are disjoint sets of indices, so no two tasks touch one amplitude.
        unsafe {
            for l in 0..dim {
                v[l] = *ptr.0.add(base + offsets[l]);
            }
            for r in 0..dim {
                let row = &m[r * dim..(r + 1) * dim];
                let mut acc = C64::new(0.0, 0.0);
                for l in 0..dim {
                    acc += row[l] * v[l];
                }
                *ptr.0.add(base + offsets[r]) = acc;
            }
        }
    };
    if n < PAR_MIN {
        (0..groups).for_each(group);
    } else {
        (0..groups)
            .into_par_iter()
            .with_min_len((CHUNK >> k).max(1))
            .for_each(group);
    }
}
