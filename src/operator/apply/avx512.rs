//! The fused kernel in AVX-512 intrinsics: the portable version leaves the accumulators on the
//! stack and splits them into scalar and 256-bit pieces (seen in perf), four times slower.

use std::arch::x86_64::*;

use super::{Ahead, Float, Init, Src, LANES, PREFETCH_FLOATS};

/// The accumulator start for the 8 floats at `k` of the block: `o[k..]`, or `d · ψ`.
#[inline(always)]
unsafe fn start<F: Float>(op: *mut F, kb: usize, init: Option<Init<F>>) -> __m512d {
    match init {
        None => F::load8(op.add(kb)),
        Some(i) if i.w == 1 => {
            _mm512_mul_pd(_mm512_loadu_pd(i.diag.add(kb)), F::load8(i.psi.add(kb)))
        }
        Some(i) => {
            // Complex: amplitudes kb/2 … kb/2 + 3, each diagonal entry used twice.
            let d4 = _mm256_loadu_pd(i.diag.add(kb / 2));
            let d = _mm512_permutexvar_pd(
                _mm512_set_epi64(3, 3, 2, 2, 1, 1, 0, 0),
                _mm512_castpd256_pd512(d4),
            );
            _mm512_mul_pd(d, F::load8(i.psi.add(kb)))
        }
    }
}

/// The in-register permutation of a flip's low bits `lo` (`None` for 0). Not a closure:
/// closures do not inherit the caller's instruction set, and the intrinsics would become
/// calls.
#[inline(always)]
unsafe fn flip_permutation(lo: i64) -> Option<__m512i> {
    if lo == 0 {
        None
    } else {
        Some(_mm512_xor_si512(
            _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0),
            _mm512_set1_epi64(lo),
        ))
    }
}

/// The 8 source floats for the output floats at `k`: `ψ[k ⊕ flip]`, whole vectors moved
/// by the flip's high bits, then permuted within the register by its low bits.
#[inline(always)]
unsafe fn source<F: Float>(p: *const F, k: usize, hi: usize, perm: Option<__m512i>) -> __m512d {
    let v = F::load8(p.add(k ^ hi));
    match perm {
        Some(idx) => _mm512_permutexvar_pd(idx, v),
        None => v,
    }
}

/// The coefficients of the output floats at `k` (`w` floats per amplitude) from a table
/// source: 8 consecutive entries from the vector's index, arranged by the lane pattern.
#[inline(always)]
unsafe fn coefficients<F>(g: &Src<F>, k: usize, w: usize, pattern: __m512i) -> __m512d {
    let j0 = *g.lo.add(k / w) as usize;
    if g.uniform {
        _mm512_set1_pd(*g.table.add(j0))
    } else {
        _mm512_permutexvar_pd(pattern, _mm512_loadu_pd(g.table.add(j0)))
    }
}

/// Prefetches (into L1) the lines of every stream of `ahead` that the step of the output
/// floats `k .. k + 4·LANES` of an `n`-float block reads (`w` floats per amplitude); `k ≥ n`
/// falls into the next block.
#[inline(always)]
unsafe fn prefetch(ahead: &Ahead, k: usize, n: usize, w: usize) {
    let (k, next) = if k < n { (k, false) } else { (k - n, true) };
    if k >= n {
        return;
    }
    for s in 0..ahead.n {
        let p = if next { ahead.next[s] } else { ahead.cur[s] };
        if p.is_null() {
            continue;
        }
        let bpa = ahead.bpa[s];
        let (from, to) = (k / w * bpa, (k + 4 * LANES) / w * bpa);
        let mut at = from;
        while at < to {
            _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(at) as *const i8);
            at += 64;
        }
    }
}

/// Stores the 8 floats at `p`, non-temporally with `STREAM`.
///
/// # Safety
/// As [`Float::store8`]; with `STREAM`, `p` is aligned to the 8 floats' size.
#[inline(always)]
unsafe fn store<F: Float, const STREAM: bool>(p: *mut F, v: __m512d) {
    if STREAM {
        F::stream8(p, v)
    } else {
        F::store8(p, v)
    }
}

/// As [`super::add_fused`]: four independent 8-float accumulators per step, one
/// `vpermpd` for in-register flips, one FMA per group and register; table sources add one
/// load and one `vpermpd` per register for their coefficients. With `STREAM` the output is
/// written by non-temporal stores.
///
/// # Safety
/// As [`super::add_fused`], and the CPU supports AVX-512F (the caller is compiled with it);
/// a table source's `table` has 8 readable entries from every index its `lo` and
/// `pattern` produce, and its `lo` covers the sub-block's amplitudes; with `STREAM`, `o`
/// starts on a 64-byte boundary.
#[inline(always)]
pub(super) unsafe fn add_fused<F: Float, const STREAM: bool>(
    o: &mut [F],
    srcs: &[Src<F>],
    init: Option<Init<F>>,
    w: usize,
    ahead: &Ahead,
) {
    let n = o.len();
    let op = o.as_mut_ptr();
    let mut kb = 0;
    while kb + 4 * LANES <= n {
        prefetch(ahead, kb + PREFETCH_FLOATS, n, w);
        let mut a0 = start(op, kb, init);
        let mut a1 = start(op, kb + LANES, init);
        let mut a2 = start(op, kb + 2 * LANES, init);
        let mut a3 = start(op, kb + 3 * LANES, init);
        for g in srcs {
            let hi = g.flip & !(LANES - 1);
            let lo = (g.flip & (LANES - 1)) as i64;
            let perm = flip_permutation(lo);
            let p = g.ptr;
            let v0 = source(p, kb, hi, perm);
            let v1 = source(p, kb + LANES, hi, perm);
            let v2 = source(p, kb + 2 * LANES, hi, perm);
            let v3 = source(p, kb + 3 * LANES, hi, perm);
            if g.table.is_null() {
                let e = _mm512_set1_pd(g.e);
                a0 = _mm512_fmadd_pd(e, v0, a0);
                a1 = _mm512_fmadd_pd(e, v1, a1);
                a2 = _mm512_fmadd_pd(e, v2, a2);
                a3 = _mm512_fmadd_pd(e, v3, a3);
            } else if g.step_uniform {
                let e = _mm512_set1_pd(*g.table.add(*g.lo.add(kb / w) as usize));
                a0 = _mm512_fmadd_pd(e, v0, a0);
                a1 = _mm512_fmadd_pd(e, v1, a1);
                a2 = _mm512_fmadd_pd(e, v2, a2);
                a3 = _mm512_fmadd_pd(e, v3, a3);
            } else {
                let pat = _mm512_cvtepu8_epi64(_mm_loadl_epi64(g.pattern.as_ptr() as *const _));
                a0 = _mm512_fmadd_pd(coefficients(g, kb, w, pat), v0, a0);
                a1 = _mm512_fmadd_pd(coefficients(g, kb + LANES, w, pat), v1, a1);
                a2 = _mm512_fmadd_pd(coefficients(g, kb + 2 * LANES, w, pat), v2, a2);
                a3 = _mm512_fmadd_pd(coefficients(g, kb + 3 * LANES, w, pat), v3, a3);
            }
        }
        store::<F, STREAM>(op.add(kb), a0);
        store::<F, STREAM>(op.add(kb + LANES), a1);
        store::<F, STREAM>(op.add(kb + 2 * LANES), a2);
        store::<F, STREAM>(op.add(kb + 3 * LANES), a3);
        kb += 4 * LANES;
    }
    while kb < n {
        let mut a = start(op, kb, init);
        for g in srcs {
            let hi = g.flip & !(LANES - 1);
            let lo = (g.flip & (LANES - 1)) as i64;
            let perm = flip_permutation(lo);
            let v = source(g.ptr, kb, hi, perm);
            let e = if g.table.is_null() {
                _mm512_set1_pd(g.e)
            } else {
                let pat = _mm512_cvtepu8_epi64(_mm_loadl_epi64(g.pattern.as_ptr() as *const _));
                coefficients(g, kb, w, pat)
            };
            a = _mm512_fmadd_pd(e, v, a);
        }
        store::<F, STREAM>(op.add(kb), a);
        kb += LANES;
    }
}
