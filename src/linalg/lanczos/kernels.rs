//! The vector kernels of one Lanczos step, fused so that each step streams its vectors as few
//! times as possible: after `w = A v`, one pass for `α = ⟨v, w⟩` and one that forms
//! `w − α v − β v_prev` and its norm together (the unfused `axpy`, `dot`, `axpy`, `norm`
//! sequence reads or writes a vector eleven times). Deterministic: partial sums over fixed
//! chunks are added in index order, whatever the thread count.

use rayon::prelude::*;

use crate::scalar::{Scalar, C64};

/// Fixed chunks of a reduction.
pub(in crate::linalg) const PARTS: usize = 64;
/// Below this length the kernels run on one thread.
pub(in crate::linalg) const SERIAL_BELOW: usize = 1 << 15;
/// Amplitudes per parallel task of a random fill.
const RANDOM_BLOCK: usize = 1 << 14;

/// Most vectors [`dots`] and [`recurrence`] take besides their own (the converged Ritz
/// vectors a step orthogonalises against in the same pass).
pub(super) const MAX_FUSED: usize = 8;

/// `out[i] = ⟨vs[i], w⟩` for every `i`, in one pass over `w` (each `vs[i]` read once): a
/// Lanczos step's `α` and its selective-orthogonalisation coefficients together. Partial sums
/// over fixed chunks, added in index order: the same bits whatever the thread count.
///
/// # Panics
/// If more than `MAX_FUSED + 1` vectors are given, `out` is shorter, or lengths differ.
pub(in crate::linalg) fn dots<T: Scalar>(w: &[T], vs: &[&[T]], out: &mut [T]) {
    let m = vs.len();
    assert!(m <= MAX_FUSED + 1 && out.len() >= m, "too many vectors");
    assert!(vs.iter().all(|v| v.len() == w.len()), "length mismatch");
    let sums = chunk_sums(w, |start, wc| dots_chunk(vs, start, wc));
    out[..m].copy_from_slice(&sums[..m]);
}

/// `Σ work(start, chunk)` over `base` cut into [`PARTS`] fixed chunks (one chunk below
/// [`SERIAL_BELOW`]), `M` sums at once, the chunks' partial sums added in index order: the same
/// bits on any thread count. The reduction of the fused inner-product kernels.
pub(in crate::linalg) fn chunk_sums<T: Scalar, const M: usize>(
    base: &[T],
    work: impl Fn(usize, &[T]) -> [T; M] + Sync,
) -> [T; M] {
    let len = base.len();
    let mut parts = [[T::zero(); M]; PARTS];
    if len < SERIAL_BELOW {
        parts[0] = work(0, base);
    } else {
        let chunk = len.div_ceil(PARTS);
        base.par_chunks(chunk)
            .zip(parts.par_iter_mut())
            .enumerate()
            .for_each(|(i, (c, p))| *p = work(i * chunk, c));
    }
    let mut out = [T::zero(); M];
    for (k, o) in out.iter_mut().enumerate() {
        *o = parts.iter().fold(T::zero(), |s, p| s + p[k]);
    }
    out
}

crate::wide_kernel! {
    /// `⟨vs[i][start..], wc⟩` for every `i`: one chunk of [`dots`].
    fn dots_chunk<T>(vs: &[&[T]], start: usize, wc: &[T]) -> [T; MAX_FUSED + 1] => dots_chunk_impl;
}

#[inline(always)]
fn dots_chunk_impl<T: Scalar>(vs: &[&[T]], start: usize, wc: &[T]) -> [T; MAX_FUSED + 1] {
    let mut acc = [T::zero(); MAX_FUSED + 1];
    for (a, v) in acc.iter_mut().zip(vs) {
        let vc = &v[start..start + wc.len()];
        let mut lanes = [T::zero(); 4];
        let split = vc.len() - vc.len() % 4;
        for (x, y) in vc[..split].chunks_exact(4).zip(wc[..split].chunks_exact(4)) {
            for l in 0..4 {
                lanes[l] += x[l].conj() * y[l];
            }
        }
        for (k, (&x, &y)) in vc[split..].iter().zip(&wc[split..]).enumerate() {
            lanes[k] += x.conj() * y;
        }
        *a = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    }
    acc
}

/// One Lanczos step's update, in one pass, returning `‖w‖²` of the result:
/// `w ← inv·w − α·inv·u − β p − Σ_k c_k y_k`. Here `u` is the step's Lanczos vector as stored,
/// `1/inv` times the normalised one, and `w` its product `A u`: the stored vector is never
/// divided by its norm in a pass of its own (nor written here), the caller keeps the factor
/// and folds it into the coefficients that use the vector (a write of `u` would add a fifth
/// stream to the four this pass moves). `p` is the previous Lanczos vector with its
/// coefficient (absent on a run's first step), `y_k` are converged Ritz vectors with
/// coefficients `c_k = ⟨y_k, A v⟩` (selective orthogonalisation).
///
/// # Panics
/// If lengths differ, or more than `MAX_FUSED` vectors `ys` or fewer coefficients are given.
pub(in crate::linalg) fn recurrence<T: Scalar>(
    w: &mut [T],
    u: &[T],
    inv: f64,
    alpha: f64,
    prev: Option<(f64, &[T])>,
    ys: &[&[T]],
    cs: &[T],
) -> f64 {
    assert_eq!(w.len(), u.len(), "length mismatch");
    if let Some((_, p)) = prev {
        assert_eq!(p.len(), u.len(), "length mismatch");
    }
    assert!(
        ys.len() <= MAX_FUSED && cs.len() >= ys.len(),
        "too many vectors"
    );
    assert!(ys.iter().all(|y| y.len() == w.len()), "length mismatch");
    let a = T::from_f64(alpha * inv);
    let s = T::from_f64(inv);
    let len = w.len();
    let work = |start: usize, wc: &mut [T], uc: &[T]| -> f64 {
        recurrence_chunk(start, wc, uc, s, a, prev, ys, cs)
    };
    if len < SERIAL_BELOW {
        return work(0, w, u);
    }
    let chunk = len.div_ceil(PARTS);
    let mut parts = [0.0f64; PARTS];
    w.par_chunks_mut(chunk)
        .zip(u.par_chunks(chunk))
        .zip(parts.par_iter_mut())
        .enumerate()
        .for_each(|(i, ((wc, uc), p))| *p = work(i * chunk, wc, uc));
    parts.iter().sum()
}

crate::wide_kernel! {
    /// One chunk of [`recurrence`] (`wc`, `uc` from index `start`), returning its `‖w‖²`.
    fn recurrence_chunk<T>(
        start: usize,
        wc: &mut [T],
        uc: &[T],
        s: T,
        a: T,
        prev: Option<(f64, &[T])>,
        ys: &[&[T]],
        cs: &[T],
    ) -> f64 => recurrence_chunk_impl;
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn recurrence_chunk_impl<T: Scalar>(
    start: usize,
    wc: &mut [T],
    uc: &[T],
    s: T,
    a: T,
    prev: Option<(f64, &[T])>,
    ys: &[&[T]],
    cs: &[T],
) -> f64 {
    // Sub-blocks small enough to stay in L1 while the orthogonalisation and the norm go over
    // them again; every loop below is a plain zip, which vectorises.
    const BLOCK: usize = 512;
    let mut acc = [0.0f64; 4];
    for (bi, (wb, ub)) in wc.chunks_mut(BLOCK).zip(uc.chunks(BLOCK)).enumerate() {
        let at = start + bi * BLOCK;
        let n = wb.len();
        match prev {
            Some((beta, p)) => {
                let b = T::from_f64(beta);
                for ((x, &y), &z) in wb.iter_mut().zip(ub).zip(&p[at..at + n]) {
                    *x = *x * s - a * y - b * z;
                }
            }
            None => {
                for (x, &y) in wb.iter_mut().zip(ub) {
                    *x = *x * s - a * y;
                }
            }
        }
        for (y, &c) in ys.iter().zip(cs) {
            for (x, &z) in wb.iter_mut().zip(&y[at..at + n]) {
                *x -= c * z;
            }
        }
        // Four interleaved sums, entry `k` of the block into lane `k mod 4` (blocks start at
        // multiples of four).
        let split = n - n % 4;
        for q in wb[..split].chunks_exact(4) {
            for l in 0..4 {
                acc[l] += q[l].abs2();
            }
        }
        for (l, x) in wb[split..].iter().enumerate() {
            acc[l] += x.abs2();
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3])
}

/// `v_c ← Σ_r s[r·k + c] v_r` for `c < k`, over the `n = basis.len()` vectors, in place: the
/// first `k` vectors become the combinations (a thick restart's Ritz vectors), the others are
/// left as they were. Register-blocked: each block of [`ROT_ROWS`] rows is read from every
/// vector while its `k` results build up in registers, [`ROT_OUT`] at a time, then written over
/// the first `k` vectors' rows, so the basis is read once (for `k ≤ ROT_OUT`) and `k` vectors
/// written once, with no extra vector. Each entry is summed in the same order whatever the
/// thread count. At 16 qubits (17 real vectors into 4, one thread) a rotation takes 0.31 ms,
/// against 0.87 ms when the sums went through a buffer in L1 once per source and result.
///
/// # Panics
/// If `s` has fewer than `n·k` entries, `k > n`, or the vectors' lengths differ.
pub(super) fn rotate_front<T: Scalar>(basis: &mut [Vec<T>], s: &[f64], k: usize) {
    /// Rows per chunk.
    const CHUNK: usize = 1 << 10;
    let n = basis.len();
    assert!(
        k <= n && s.len() >= n * k,
        "coefficients do not match the basis"
    );
    if k == 0 {
        return;
    }
    let len = basis[0].len();
    assert!(basis.iter().all(|v| v.len() == len), "length mismatch");
    let (front, back) = basis.split_at_mut(k);
    let back: &[Vec<T>] = back;
    // The rows of chunk `ci` of every front vector, grouped by chunk.
    let mut groups: Vec<Vec<&mut [T]>> = (0..len.div_ceil(CHUNK))
        .map(|_| Vec::with_capacity(k))
        .collect();
    for v in front.iter_mut() {
        for (g, c) in groups.iter_mut().zip(v.chunks_mut(CHUNK)) {
            g.push(c);
        }
    }
    let work = |tmp: &mut Vec<T>, (ci, mut g): (usize, Vec<&mut [T]>)| {
        rotate_chunk(&mut g, back, ci * CHUNK, s, tmp);
    };
    if len < SERIAL_BELOW {
        let mut tmp = Vec::new();
        groups
            .into_iter()
            .enumerate()
            .for_each(|x| work(&mut tmp, x));
    } else {
        groups
            .into_par_iter()
            .enumerate()
            .for_each_init(Vec::new, work);
    }
}

crate::wide_kernel! {
    /// One chunk of [`rotate_front`]: the rows `off..` of the front vectors `g` (their number
    /// is `k`) become their combinations with those vectors and the rows of `back`.
    fn rotate_chunk<T>(g: &mut [&mut [T]], back: &[Vec<T>], off: usize, s: &[f64], tmp: &mut Vec<T>)
        => rotate_chunk_impl;
}

#[inline(always)]
fn rotate_chunk_impl<T: Scalar>(
    g: &mut [&mut [T]],
    back: &[Vec<T>],
    off: usize,
    s: &[f64],
    tmp: &mut Vec<T>,
) {
    let rows = g[0].len();
    tmp.clear();
    tmp.resize(g.len() * ROT_ROWS, T::zero());
    let mut lo = 0;
    while lo + ROT_ROWS <= rows {
        rotate_block::<T, ROT_ROWS>(g, back, off, lo, s, tmp);
        lo += ROT_ROWS;
    }
    // The last rows one at a time (chunks are whole blocks except at the end of the vector).
    while lo < rows {
        rotate_block::<T, 1>(g, back, off, lo, s, tmp);
        lo += 1;
    }
}

/// Rows of one register block of the restart's rotation: two AVX-512 registers of `f64`.
const ROT_ROWS: usize = 16;
/// Results one sweep over the sources builds up in registers (`ROT_OUT · ROT_ROWS` sums).
const ROT_OUT: usize = 4;

/// Rows `lo..lo + B` of [`rotate_chunk_impl`]: the `k` results in sweeps over the sources of
/// [`ROT_OUT`] results each (see [`rotate_sweep`]), kept in `tmp` until every source row of
/// the block has been read (the first `k` sources are the vectors being overwritten).
#[inline(always)]
fn rotate_block<T: Scalar, const B: usize>(
    g: &mut [&mut [T]],
    back: &[Vec<T>],
    off: usize,
    lo: usize,
    s: &[f64],
    tmp: &mut [T],
) {
    let k = g.len();
    let mut c0 = 0;
    while c0 < k {
        let kb = ROT_OUT.min(k - c0);
        let mut put = |sums: &[[T; B]]| {
            for (c, a) in sums.iter().enumerate() {
                tmp[(c0 + c) * ROT_ROWS..(c0 + c) * ROT_ROWS + B].copy_from_slice(a);
            }
        };
        match kb {
            1 => put(&rotate_sweep::<T, B, 1>(g, back, off, lo, s, c0)),
            2 => put(&rotate_sweep::<T, B, 2>(g, back, off, lo, s, c0)),
            3 => put(&rotate_sweep::<T, B, 3>(g, back, off, lo, s, c0)),
            _ => put(&rotate_sweep::<T, B, ROT_OUT>(g, back, off, lo, s, c0)),
        }
        c0 += kb;
    }
    for (c, dst) in g.iter_mut().enumerate() {
        dst[lo..lo + B].copy_from_slice(&tmp[c * ROT_ROWS..c * ROT_ROWS + B]);
    }
}

/// The results `c0..c0 + KB` of rows `lo..lo + B`: every source row times its coefficient,
/// added in source order into sums held in registers (a small fixed array the compiler keeps
/// there), rather than into a buffer in memory once per source and result, which made the
/// pass store-bound at about twice the time of its arithmetic.
#[inline(always)]
fn rotate_sweep<T: Scalar, const B: usize, const KB: usize>(
    g: &[&mut [T]],
    back: &[Vec<T>],
    off: usize,
    lo: usize,
    s: &[f64],
    c0: usize,
) -> [[T; B]; KB] {
    let k = g.len();
    let mut acc = [[T::zero(); B]; KB];
    let front = g.iter().map(|v| &v[lo..lo + B]);
    let rest = back.iter().map(|v| &v[off + lo..off + lo + B]);
    for (src, coef) in front.chain(rest).zip(s[c0..].chunks(k)) {
        let src: &[T; B] = src.try_into().expect("a whole block");
        let coef: &[f64; KB] = coef[..KB].try_into().expect("KB coefficients");
        for (a, &cf) in acc.iter_mut().zip(coef) {
            for (o, &x) in a.iter_mut().zip(src) {
                *o += x.scale(cf);
            }
        }
    }
    acc
}

/// Fills `v` with seeded standard Gaussian amplitudes (complex ones for complex `T`), not
/// normalised: entry `i` is a function of `(seed, offset + i)` alone, drawn from a
/// counter-based generator (the splitmix64 sequence of the seed, read at the entry's global
/// index), so the vector is the same whatever the thread count, and the parts that processes
/// holding `offset..offset + v.len()` fill make up the same whole vector however it is split.
pub(crate) fn random_fill<T: Scalar>(v: &mut [T], seed: u64, offset: usize) {
    let key = splitmix64(seed);
    let fill = |(b, c): (usize, &mut [T])| {
        let first = offset as u64 + (b * RANDOM_BLOCK) as u64;
        for (k, x) in c.iter_mut().enumerate() {
            let (re, im) = gaussian_pair(key, first + k as u64);
            *x = if T::IS_COMPLEX {
                T::from_c64(C64::new(re, im)).unwrap_or_default()
            } else {
                T::from_f64(re)
            };
        }
    };
    if v.len() < SERIAL_BELOW {
        v.chunks_mut(RANDOM_BLOCK).enumerate().for_each(fill);
    } else {
        v.par_chunks_mut(RANDOM_BLOCK).enumerate().for_each(fill);
    }
}

/// The splitmix64 output function (Steele, Lea, Flood 2014): a bijective 64-bit mix.
fn splitmix64(x: u64) -> u64 {
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A uniform deviate in `[0, 1)` from the top 53 bits of a 64-bit word.
fn unit(x: u64) -> f64 {
    (x >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Two standard normal deviates for global index `g` (Box–Muller on the splitmix64 words at
/// positions `2g + 1` and `2g + 2` of the sequence started at `key`).
fn gaussian_pair(key: u64, g: u64) -> (f64, f64) {
    const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;
    let at = |p: u64| splitmix64(key.wrapping_add(p.wrapping_mul(GAMMA)));
    let u1 = 1.0 - unit(at(2 * g + 1)); // (0, 1]
    let u2 = unit(at(2 * g + 2));
    let r = (-2.0 * u1.ln()).sqrt();
    let (s, c) = (std::f64::consts::TAU * u2).sin_cos();
    (r * c, r * s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recurrence_matches_the_unfused_steps() {
        let n = 1 << 16;
        let mut w = vec![0.0f64; n];
        let mut v = vec![0.0f64; n];
        let mut p = vec![0.0f64; n];
        random_fill(&mut w, 1, 0);
        random_fill(&mut v, 2, 0);
        random_fill(&mut p, 3, 0);
        let (a, b) = (0.3, -1.7);
        let mut expect = w.clone();
        for i in 0..n {
            expect[i] -= a * v[i] + b * p[i];
        }
        let n2: f64 = expect.iter().map(|x| x * x).sum();
        let got = recurrence(&mut w, &v, 1.0, a, Some((b, &p)), &[], &[]);
        assert!((got - n2).abs() <= 1e-12 * n2, "{got} vs {n2}");
        let diff = w
            .iter()
            .zip(&expect)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max);
        assert!(diff <= 1e-15, "{diff}");
    }

    #[test]
    fn recurrence_scales_and_orthogonalises_in_the_same_pass() {
        // Complex, parallel length, an odd tail: u unnormalised (norm 1/inv, left as it is),
        // two vectors y_k.
        let n = (1 << 16) + 5;
        let fill = |seed| {
            let mut v = vec![C64::new(0.0, 0.0); n];
            random_fill(&mut v, seed, 0);
            v
        };
        let (mut w, u, p, y0, y1) = (fill(11), fill(12), fill(13), fill(14), fill(15));
        let (inv, a, b) = (0.37, 0.8, -1.3);
        let cs = [C64::new(0.2, -0.5), C64::new(-1.1, 0.4)];
        let mut ew = w.clone();
        let eu = u.clone();
        for i in 0..n {
            ew[i] = w[i] * inv - u[i] * (inv * a) - p[i] * b - cs[0] * y0[i] - cs[1] * y1[i];
        }
        let n2: f64 = ew.iter().map(|x| x.norm_sqr()).sum();
        let got = recurrence(&mut w, &u, inv, a, Some((b, &p)), &[&y0, &y1], &cs);
        assert!((got - n2).abs() <= 1e-12 * n2, "{got} vs {n2}");
        for (x, e) in [(&w, &ew), (&u, &eu)] {
            let d = x
                .iter()
                .zip(e)
                .map(|(a, b)| (a - b).norm())
                .fold(0.0, f64::max);
            assert!(d <= 1e-14, "{d}");
        }
    }

    #[test]
    fn dots_are_the_inner_products_in_one_pass() {
        for n in [1000usize, (1 << 16) + 3] {
            let fill = |seed| {
                let mut v = vec![C64::new(0.0, 0.0); n];
                random_fill(&mut v, seed, 0);
                v
            };
            let w = fill(1);
            let vs: Vec<Vec<C64>> = (0..=MAX_FUSED as u64).map(|s| fill(20 + s)).collect();
            let refs: Vec<&[C64]> = vs.iter().map(|v| &v[..]).collect();
            let mut out = [C64::new(0.0, 0.0); MAX_FUSED + 1];
            dots(&w, &refs, &mut out);
            for (v, o) in vs.iter().zip(&out) {
                let want: C64 = v.iter().zip(&w).map(|(a, b)| a.conj() * b).sum();
                assert!(
                    (want - o).norm() <= 1e-10 * (n as f64).sqrt(),
                    "{want} vs {o}"
                );
                // ⟨v, w⟩ is conjugate-linear in v: not the same as ⟨w, v⟩.
                assert!((want.conj() - o).norm() > 1e-3);
            }
        }
    }

    /// `rotate_front` against the plain sum `Σ_r s[r·k + c] v_r`, on vectors whose length is
    /// not a multiple of the register block (the last rows take the one-row path).
    fn check_rotate_front<T: Scalar>(n: usize, k: usize, len: usize) {
        let mut basis: Vec<Vec<T>> = (0..n)
            .map(|i| {
                let mut v = vec![T::zero(); len];
                random_fill(&mut v, 40 + i as u64, 0);
                v
            })
            .collect();
        let s: Vec<f64> = (0..n * k).map(|i| ((i * 7 % 5) as f64) - 2.1).collect();
        let mut expect = vec![vec![T::zero(); len]; k];
        for (c, e) in expect.iter_mut().enumerate() {
            for (r, v) in basis.iter().enumerate() {
                for (x, &y) in e.iter_mut().zip(v) {
                    *x += y.scale(s[r * k + c]);
                }
            }
        }
        let tail: Vec<Vec<T>> = basis[k..].to_vec();
        rotate_front(&mut basis, &s, k);
        for (got, want) in basis.iter().zip(&expect) {
            // The same sums in the same order: the same bits.
            assert!(got == want, "n = {n}, k = {k}: the combinations differ");
        }
        assert!(
            basis[k..] == tail[..],
            "the vectors beyond k are left alone"
        );
    }

    #[test]
    fn rotate_front_forms_the_combinations_in_place() {
        // One sweep of three results; two sweeps (4 + 2); nine results (4 + 4 + 1); complex.
        check_rotate_front::<f64>(6, 3, (1 << 15) + 77);
        check_rotate_front::<f64>(11, 6, (1 << 15) + 5);
        check_rotate_front::<f64>(17, 9, 3000);
        check_rotate_front::<C64>(7, 5, (1 << 15) + 3);
    }

    #[test]
    fn random_fill_is_seeded_and_gaussian() {
        let mut a = vec![C64::new(0.0, 0.0); 1 << 16];
        let mut b = a.clone();
        random_fill(&mut a, 5, 0);
        random_fill(&mut b, 5, 0);
        assert_eq!(a, b);
        // Standard complex Gaussian entries: E|x|² = 2, real parts carry half of it.
        let n = a.len() as f64;
        let m2: f64 = a.iter().map(|x| x.norm_sqr()).sum::<f64>() / n;
        assert!((m2 - 2.0).abs() < 0.05, "{m2}");
        let re: f64 = a.iter().map(|x| x.re * x.re).sum::<f64>() / n;
        assert!((re - 1.0).abs() < 0.05, "{re}");
        // Blocks are independent draws: two blocks do not repeat each other.
        assert_ne!(a[..RANDOM_BLOCK], a[RANDOM_BLOCK..2 * RANDOM_BLOCK]);
        // Another seed gives another vector.
        random_fill(&mut b, 6, 0);
        assert_ne!(a, b);
    }

    #[test]
    fn random_fill_depends_only_on_the_global_index() {
        let whole = {
            let mut v = vec![0.0f64; 100_003];
            random_fill(&mut v, 9, 0);
            v
        };
        for parts in [2usize, 3, 7] {
            let step = whole.len().div_ceil(parts);
            let mut glued = Vec::with_capacity(whole.len());
            for p in 0..parts {
                let (s, e) = (p * step, ((p + 1) * step).min(whole.len()));
                let mut v = vec![0.0f64; e - s];
                random_fill(&mut v, 9, s);
                glued.extend(v);
            }
            assert_eq!(glued, whole, "{parts} parts");
        }
    }
}
