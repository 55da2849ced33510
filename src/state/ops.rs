//! Slice kernels on state vectors: allocation-free, parallel above a threshold, and
//! deterministic (partial sums over fixed chunks are added in index order, whatever the
//! thread count).

use rayon::prelude::*;

use crate::pauli::{PauliString, PauliSum, Phase};
use crate::scalar::{Scalar, C64};

/// Defines a kernel `$name` that runs `$imp` (an `#[inline(always)]` function with the same
/// arguments) compiled for the widest instruction set the CPU has: AVX-512, else AVX2 + FMA,
/// else the build's baseline. The loops of these kernels are plain slice arithmetic that the
/// compiler vectorises; at the baseline (SSE2) a multiply-add over two `f64`s per instruction
/// left the Lanczos basis passes compute-bound on vectors that sit in cache. The compiler
/// does not contract `a * b + c` into an FMA, so every variant computes the same bits.
/// (Exported, hidden, only so that the Lanczos kernels can use it through `crate::`.)
#[doc(hidden)]
#[macro_export]
macro_rules! wide_kernel {
    ($(#[$m:meta])* $vis:vis fn $name:ident<$T:ident>($($arg:ident: $ty:ty),* $(,)?)
        $(-> $ret:ty)? => $imp:path;) => {
        $(#[$m])*
        #[allow(clippy::too_many_arguments)]
        $vis fn $name<$T: $crate::scalar::Scalar>($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn avx512<$T: $crate::scalar::Scalar>($($arg: $ty),*) $(-> $ret)? {
                    $imp($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn avx2<$T: $crate::scalar::Scalar>($($arg: $ty),*) $(-> $ret)? {
                    $imp($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU supports AVX-512F, which implies AVX2 and FMA here.
                    return unsafe { avx512::<$T>($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    // SAFETY: the CPU supports AVX2 and FMA.
                    return unsafe { avx2::<$T>($($arg),*) };
                }
            }
            $imp($($arg),*)
        }
    };
}

/// Number of fixed partial sums of a reduction (a stack array: no allocation).
const PARTS: usize = 64;
/// Below this length, reductions and updates run on one thread.
const SERIAL_BELOW: usize = 1 << 15;

/// Sums `f(chunk_start, chunk)` over `PARTS` fixed chunks of `len` indices, in index order.
#[inline]
fn reduce<R, F>(len: usize, f: F) -> R
where
    R: Scalar,
    F: Fn(usize, usize) -> R + Sync,
{
    if len < SERIAL_BELOW {
        return f(0, len);
    }
    let chunk = len.div_ceil(PARTS);
    let mut parts = [R::zero(); PARTS];
    parts.par_iter_mut().enumerate().for_each(|(i, p)| {
        let start = (i * chunk).min(len);
        let end = ((i + 1) * chunk).min(len);
        *p = f(start, end);
    });
    let mut acc = R::zero();
    for p in parts {
        acc += p;
    }
    acc
}

/// `m` sums at once over `len` indices: `f(start, end, out)` adds (or writes) one chunk's `m`
/// partial sums into the zeroed `out`; the chunks are the fixed ones of [`reduce`] (on one
/// thread below [`SERIAL_BELOW`], the same chunks), their partial sums added in index order:
/// the same bits whatever the thread count.
fn reduce_many<R, F>(len: usize, m: usize, f: F) -> Vec<R>
where
    R: Scalar,
    F: Fn(usize, usize, &mut [R]) + Sync,
{
    if m == 0 {
        return Vec::new();
    }
    let chunk = len.div_ceil(PARTS).max(1);
    let n_parts = len.div_ceil(chunk);
    let mut partial = vec![R::zero(); n_parts * m];
    let work = |(ci, p): (usize, &mut [R])| f(ci * chunk, ((ci + 1) * chunk).min(len), p);
    if len < SERIAL_BELOW {
        partial.chunks_mut(m).enumerate().for_each(work);
    } else {
        partial.par_chunks_mut(m).enumerate().for_each(work);
    }
    let mut sums = vec![R::zero(); m];
    for p in partial.chunks(m) {
        for (s, &x) in sums.iter_mut().zip(p) {
            *s += x;
        }
    }
    sums
}

/// `Σ conj(a_i) b_i` over two equal-length slices with eight independent accumulators: a
/// single running sum is a chain of dependent additions (4 cycles each) that the compiler may
/// not reorder, eight let it vectorise. The lanes are combined in a fixed order.
#[inline(always)]
fn dot_lanes<T: Scalar>(a: &[T], b: &[T]) -> T {
    const L: usize = 8;
    let mut acc = [T::zero(); L];
    let (ac, at) = a.split_at(a.len() - a.len() % L);
    let (bc, bt) = b.split_at(ac.len());
    for (x, y) in ac.chunks_exact(L).zip(bc.chunks_exact(L)) {
        for j in 0..L {
            acc[j] += x[j].conj() * y[j];
        }
    }
    let mut tail = T::zero();
    for (x, y) in at.iter().zip(bt) {
        tail += x.conj() * *y;
    }
    let mut sum = tail;
    for v in acc {
        sum += v;
    }
    sum
}

/// `Σ |a_i|²` with eight independent accumulators (see [`dot_lanes`]).
#[inline(always)]
fn norm2_lanes<T: Scalar>(a: &[T]) -> f64 {
    const L: usize = 8;
    let mut acc = [0.0f64; L];
    let (ac, at) = a.split_at(a.len() - a.len() % L);
    for x in ac.chunks_exact(L) {
        for j in 0..L {
            acc[j] += x[j].abs2();
        }
    }
    let mut sum: f64 = at.iter().map(|x| x.abs2()).sum();
    for v in acc {
        sum += v;
    }
    sum
}

/// `⟨a|b⟩ = Σ conj(a_i) b_i`.
///
/// # Panics
/// If the lengths differ.
#[track_caller]
pub fn dot<T: Scalar>(a: &[T], b: &[T]) -> T {
    assert_eq!(a.len(), b.len(), "length mismatch");
    reduce(a.len(), |s, e| dot_chunk(&a[s..e], &b[s..e]))
}

wide_kernel! {
    /// [`dot_lanes`] compiled for the widest instruction set: one chunk of [`dot`].
    fn dot_chunk<T>(a: &[T], b: &[T]) -> T => dot_lanes;
}

wide_kernel! {
    /// [`norm2_lanes`] compiled for the widest instruction set: one chunk of [`norm2`].
    fn norm2_chunk<T>(a: &[T]) -> f64 => norm2_lanes;
}

wide_kernel! {
    /// `y += alpha · x` on one chunk of [`axpy`].
    fn axpy_chunk<T>(alpha: T, x: &[T], y: &mut [T]) => axpy_impl;
}

#[inline(always)]
fn axpy_impl<T: Scalar>(alpha: T, x: &[T], y: &mut [T]) {
    for (b, &a) in y.iter_mut().zip(x) {
        *b += alpha * a;
    }
}

wide_kernel! {
    /// `x *= alpha` on one chunk of [`scale`].
    fn scale_chunk<T>(alpha: T, x: &mut [T]) => scale_impl;
}

#[inline(always)]
fn scale_impl<T: Scalar>(alpha: T, x: &mut [T]) {
    x.iter_mut().for_each(|v| *v *= alpha);
}

/// `‖a‖₂`.
pub fn norm<T: Scalar>(a: &[T]) -> f64 {
    norm2(a).sqrt()
}

/// `‖a‖₂²`: the partial sum one process contributes to the squared norm of a vector split
/// over processes.
pub fn norm2<T: Scalar>(a: &[T]) -> f64 {
    reduce(a.len(), |s, e| norm2_chunk(&a[s..e]))
}

/// `y += alpha · x`.
///
/// # Panics
/// If the lengths differ.
#[track_caller]
pub fn axpy<T: Scalar>(alpha: T, x: &[T], y: &mut [T]) {
    assert_eq!(x.len(), y.len(), "length mismatch");
    if y.len() < SERIAL_BELOW {
        axpy_chunk(alpha, x, y);
        return;
    }
    let chunk = y.len().div_ceil(PARTS);
    y.par_chunks_mut(chunk)
        .zip(x.par_chunks(chunk))
        .for_each(|(yc, xc)| axpy_chunk(alpha, xc, yc));
}

/// `x *= alpha`.
pub fn scale<T: Scalar>(alpha: T, x: &mut [T]) {
    if x.len() < SERIAL_BELOW {
        scale_chunk(alpha, x);
        return;
    }
    let chunk = x.len().div_ceil(PARTS);
    x.par_chunks_mut(chunk).for_each(|c| scale_chunk(alpha, c));
}

/// Normalises `x` in place and returns its former norm (0 leaves `x` unchanged).
pub fn normalize<T: Scalar>(x: &mut [T]) -> f64 {
    let n = norm(x);
    if n > 0.0 {
        scale(T::from_f64(1.0 / n), x);
    }
    n
}

/// `⟨ψ|P|ψ⟩` for one Pauli string, without a temporary vector (ψ need not be normalised).
/// Real for Hermitian `P`; returned as complex for generality.
///
/// # Panics
/// If `P` acts on a qubit beyond `log2(len)`.
#[track_caller]
pub fn expectation_pauli<T: Scalar>(psi: &[T], p: PauliString) -> C64 {
    matrix_element_pauli(psi, p, psi)
}

/// `⟨φ|P|ψ⟩` for one Pauli string, without a temporary vector: one pass over both states.
///
/// # Panics
/// If the lengths differ or `P` acts on a qubit beyond `log2(len)`.
#[track_caller]
pub fn matrix_element_pauli<T: Scalar>(phi: &[T], p: PauliString, psi: &[T]) -> C64 {
    assert_eq!(phi.len(), psi.len(), "length mismatch");
    assert!(
        (1usize << p.min_qubits()) <= psi.len().max(1),
        "Pauli string beyond the state's qubits"
    );
    let (x, z) = (p.x() as usize, p.z() as usize);
    let s: C64 = reduce(psi.len(), |s, end| pauli_chunk(phi, psi, x, z, s, end));
    pauli_phase(p) * s
}

/// The phase `e` of `⟨φ|P|ψ⟩ = Σ_b conj(φ_b) e (−1)^{|z∧b|} ψ_{b⊕x}`: `e = i^{n_Y} (−1)^{|z∧x|}`.
fn pauli_phase(p: PauliString) -> C64 {
    let (x, z) = (p.x(), p.z());
    Phase((p.n_y() % 4) as u8).to_complex()
        * if (z & x).count_ones() % 2 == 1 {
            -1.0
        } else {
            1.0
        }
}

/// `⟨ψ|P_k|ψ⟩` for every string of `ps`, in one pass over `ψ` (ψ need not be normalised):
/// what [`expectation_pauli`] gives string by string, but each block of `ψ` is read from
/// memory once and goes through every string while it is in L1, and the whole is one
/// parallel pass instead of one per string (an EP gradient measures every parameter's string
/// on each of its states: at 16 qubits, 24 passes of their own took as long as 15 `H·ψ`).
/// Deterministic: fixed chunks, each string's partial sums added in index order.
///
/// # Panics
/// If a string acts on a qubit beyond `log2(len)`.
#[track_caller]
pub fn expectations_pauli<T: Scalar>(psi: &[T], ps: &[PauliString]) -> Vec<C64> {
    /// Amplitudes of one block all strings go over in turn (16–32 KiB).
    const BLOCK: usize = 1 << 11;
    for p in ps {
        assert!(
            (1usize << p.min_qubits()) <= psi.len().max(1),
            "Pauli string beyond the state's qubits"
        );
    }
    let mut sums = reduce_many(psi.len(), ps.len(), |s, end, out: &mut [C64]| {
        let mut a = s;
        while a < end {
            let b = (a + BLOCK).min(end);
            for (o, p) in out.iter_mut().zip(ps) {
                *o += pauli_chunk(psi, psi, p.x() as usize, p.z() as usize, a, b);
            }
            a = b;
        }
    });
    for (s, &p) in sums.iter_mut().zip(ps) {
        *s *= pauli_phase(p);
    }
    sums
}

wide_kernel! {
    /// `Σ_{b ∈ s..end} conj(φ_b) (−1)^{|z∧b|} ψ_{b⊕x}`: one chunk of [`matrix_element_pauli`].
    fn pauli_chunk<T>(phi: &[T], psi: &[T], x: usize, z: usize, s: usize, end: usize) -> C64
        => pauli_chunk_impl;
}

/// [`pauli_chunk`] on aligned blocks of eight amplitudes: in block `B`, `b ⊕ x` is entry
/// `j ⊕ (x mod 8)` of the aligned block at `B ⊕ (x − x mod 8)`, a fixed permutation of eight
/// contiguous amplitudes, and the sign is that of the block's high bits times that of `j`;
/// with `x mod 8` a constant of the instantiation, the loop is a vector multiply by a table of
/// eight signs with an in-register permutation, where the entry-by-entry form took a parity
/// and a branch per amplitude. Ends not aligned to eight go entry by entry.
#[inline(always)]
fn pauli_chunk_impl<T: Scalar>(
    phi: &[T],
    psi: &[T],
    x: usize,
    z: usize,
    s: usize,
    end: usize,
) -> C64 {
    let one = |b: usize| {
        let v = phi[b].conj() * psi[b ^ x];
        if (z & b).count_ones() & 1 == 0 {
            v
        } else {
            -v
        }
    };
    let mut tail = T::zero();
    let head_end = s.next_multiple_of(8).min(end);
    let body_end = head_end.max(end - end % 8);
    for b in (s..head_end).chain(body_end..end) {
        tail += one(b);
    }
    let body = match x & 7 {
        0 => pauli_blocks::<T, 0>(phi, psi, x, z, head_end, body_end),
        1 => pauli_blocks::<T, 1>(phi, psi, x, z, head_end, body_end),
        2 => pauli_blocks::<T, 2>(phi, psi, x, z, head_end, body_end),
        3 => pauli_blocks::<T, 3>(phi, psi, x, z, head_end, body_end),
        4 => pauli_blocks::<T, 4>(phi, psi, x, z, head_end, body_end),
        5 => pauli_blocks::<T, 5>(phi, psi, x, z, head_end, body_end),
        6 => pauli_blocks::<T, 6>(phi, psi, x, z, head_end, body_end),
        _ => pauli_blocks::<T, 7>(phi, psi, x, z, head_end, body_end),
    };
    (body + tail).to_c64()
}

/// The aligned blocks `lo..hi` of [`pauli_chunk_impl`] for `x mod 8 = XL`, in eight lanes
/// added in a fixed order.
#[inline(always)]
fn pauli_blocks<T: Scalar, const XL: usize>(
    phi: &[T],
    psi: &[T],
    x: usize,
    z: usize,
    lo: usize,
    hi: usize,
) -> T {
    let lane_sign: [f64; 8] = std::array::from_fn(|j| {
        if (z & j).count_ones() & 1 == 0 {
            1.0
        } else {
            -1.0
        }
    });
    let mut acc = [T::zero(); 8];
    let xh = x & !7;
    for blk in (lo..hi).step_by(8) {
        // The block's sign as arithmetic, not a branch: a select per block kept the lanes
        // below scalar.
        let high = 1.0 - 2.0 * ((z & blk).count_ones() & 1) as f64;
        let sign: [f64; 8] = std::array::from_fn(|j| high * lane_sign[j]);
        let f: &[T; 8] = phi[blk..blk + 8].try_into().expect("eight amplitudes");
        let src = blk ^ xh;
        let p: &[T; 8] = psi[src..src + 8].try_into().expect("eight amplitudes");
        for j in 0..8 {
            acc[j] += (f[j].conj() * p[j ^ XL]).scale(sign[j]);
        }
    }
    let mut sum = T::zero();
    for a in acc {
        sum += a;
    }
    sum
}

/// `⟨ψ|H|ψ⟩` for a Pauli sum, term by term without a temporary vector.
/// # Examples
/// On `|+⟩ = (|0⟩ + |1⟩)/√2`, `⟨X0 − 2 Z0⟩ = 1`.
/// ```
/// use qep::pauli::{PauliString, PauliSum};
/// use qep::state::{expectation_sum, StateVector};
/// let mut h = PauliSum::new(1);
/// h.add(PauliString::parse("X0")?, 1.0);
/// h.add(PauliString::parse("Z0")?, -2.0);
/// let plus = StateVector::<f64>::plus(1)?;
/// let e = expectation_sum(plus.as_slice(), &h);
/// assert!((e.re - 1.0).abs() < 1e-15 && e.im == 0.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn expectation_sum<T: Scalar>(psi: &[T], h: &PauliSum) -> C64 {
    h.terms()
        .iter()
        .map(|&(p, c)| c * expectation_pauli(psi, p))
        .sum()
}

/// One classical Gram–Schmidt pass, cache-blocked: `w ← w − Σ_j ⟨v_j|w⟩ v_j`.
///
/// The coefficients are computed in one sweep (each fixed chunk of `w` stays in cache while
/// every `v_j` streams past it), then subtracted in a second: two reads of the basis instead of
/// the five vector passes per basis vector of a `dot` + `axpy` loop. Call twice for CGS2.
/// Deterministic: per-chunk partial sums are added in index order. Allocates the `PARTS × m`
/// partial sums (small). The two sweeps are [`project_coefficients`] and
/// [`subtract_combination`], for callers that sum the coefficients over processes between them.
///
/// # Panics
/// If a basis vector's length differs from `w`'s.
#[track_caller]
pub fn project_out<T: Scalar>(basis: &[Vec<T>], w: &mut [T]) {
    let c = project_coefficients(basis, w);
    subtract_combination(basis, &c, w);
}

/// The coefficients `c_j = ⟨v_j|w⟩` of [`project_out`], in one cache-blocked sweep over the
/// basis (deterministic: per-chunk partial sums added in index order).
///
/// # Panics
/// If a basis vector's length differs from `w`'s.
#[track_caller]
pub fn project_coefficients<T: Scalar>(basis: &[Vec<T>], w: &[T]) -> Vec<T> {
    let len = w.len();
    assert!(basis.iter().all(|v| v.len() == len), "length mismatch");
    reduce_many(len, basis.len(), |s, e, p| {
        coefficients_chunk(basis, w, s, e, p)
    })
}

/// `w ← w − Σ_j c_j v_j`, cache-blocked (each chunk of `w` stays in cache while the basis
/// streams past it).
///
/// # Panics
/// If a basis vector's length differs from `w`'s, or `c` is shorter than the basis.
#[track_caller]
pub fn subtract_combination<T: Scalar>(basis: &[Vec<T>], c: &[T], w: &mut [T]) {
    if basis.is_empty() {
        return;
    }
    let len = w.len();
    assert!(basis.iter().all(|v| v.len() == len), "length mismatch");
    assert!(
        c.len() >= basis.len(),
        "fewer coefficients than basis vectors"
    );
    let chunk = len.div_ceil(PARTS).max(1);
    let sub = |(ci, wc): (usize, &mut [T])| subtract_chunk(basis, c, ci * chunk, wc);
    if len < SERIAL_BELOW {
        w.chunks_mut(chunk).enumerate().for_each(sub);
    } else {
        w.par_chunks_mut(chunk).enumerate().for_each(sub);
    }
}

wide_kernel! {
    /// `p[j] = ⟨v_j[s..e], w[s..e]⟩` for every basis vector: one chunk of
    /// [`project_coefficients`].
    fn coefficients_chunk<T>(basis: &[Vec<T>], w: &[T], s: usize, e: usize, p: &mut [T])
        => coefficients_chunk_impl;
}

#[inline(always)]
fn coefficients_chunk_impl<T: Scalar>(basis: &[Vec<T>], w: &[T], s: usize, e: usize, p: &mut [T]) {
    let wc = &w[s..e];
    for (j, v) in basis.iter().enumerate() {
        p[j] = dot_lanes(&v[s..e], wc);
    }
}

wide_kernel! {
    /// `wc −= Σ_j c_j v_j[s..]`: one chunk of [`subtract_combination`].
    fn subtract_chunk<T>(basis: &[Vec<T>], c: &[T], s: usize, wc: &mut [T])
        => subtract_chunk_impl;
}

#[inline(always)]
fn subtract_chunk_impl<T: Scalar>(basis: &[Vec<T>], c: &[T], s: usize, wc: &mut [T]) {
    let n = wc.len();
    for (v, &cj) in basis.iter().zip(c) {
        for (a, &b) in wc.iter_mut().zip(&v[s..s + n]) {
            *a -= cj * b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::random_amplitudes;

    /// `⟨φ|P|ψ⟩` entry by entry from the definition, with the phase of `P` applied to `ψ`.
    fn plain<T: Scalar>(phi: &[T], p: PauliString, psi: &[T]) -> C64 {
        let (x, z) = (p.x() as usize, p.z() as usize);
        let mut s = C64::new(0.0, 0.0);
        for (b, f) in phi.iter().enumerate() {
            // P|ψ⟩ at b: the letters act qubit by qubit; Y = i X Z.
            let mut c = psi[b ^ x].to_c64();
            for q in 0..usize::BITS as usize {
                let (xq, zq) = ((x >> q) & 1, (z >> q) & 1);
                let bit = ((b ^ x) >> q) & 1;
                c *= match (xq, zq) {
                    (_, 0) => C64::new(1.0, 0.0),
                    (0, _) => C64::new(if bit == 0 { 1.0 } else { -1.0 }, 0.0),
                    // Y|0⟩ = i|1⟩, Y|1⟩ = −i|0⟩: the factor read from the source bit.
                    _ => C64::new(0.0, if bit == 0 { 1.0 } else { -1.0 }),
                };
            }
            s += f.to_c64().conj() * c;
        }
        s
    }

    #[test]
    fn pauli_matrix_elements_match_the_definition_on_every_low_flip() {
        let strings = [
            "Z0",
            "X0",
            "Y1",
            "X0 X1",
            "X2 Z0",
            "X0 X1 X2",
            "Y0 Z4 X9",
            "X3 Z1 Z2",
            "Z5 Z12",
            "X12 Y2 Z0",
            "Y0 Y1 Y2 X5",
            "X1 X2 Z7",
            "X0 X2 Z3",
        ];
        for n in [1usize, 2, 3, 5, 13, 16] {
            let phi: Vec<C64> = random_amplitudes(1 << n, 3);
            let psi: Vec<C64> = random_amplitudes(1 << n, 4);
            let (phr, psr): (Vec<f64>, Vec<f64>) = (
                phi.iter().map(|c| c.re).collect(),
                psi.iter().map(|c| c.im).collect(),
            );
            let mut seen_low = [false; 8];
            for s in strings {
                let p = PauliString::parse(s).expect("valid string");
                if (1usize << p.min_qubits()) > phi.len() {
                    continue;
                }
                seen_low[p.x() as usize & 7] |= n >= 13;
                let scale = (1usize << n) as f64;
                let (got, want) = (matrix_element_pauli(&phi, p, &psi), plain(&phi, p, &psi));
                assert!(
                    (got - want).norm() <= 1e-12 * scale,
                    "{s} on {n}: {got} vs {want}"
                );
                let (got, want) = (matrix_element_pauli(&phr, p, &psr), plain(&phr, p, &psr));
                assert!(
                    (got - want).norm() <= 1e-12 * scale,
                    "{s} on {n}: {got} vs {want}"
                );
            }
            if n >= 13 {
                assert!(seen_low.iter().all(|&s| s), "every x mod 8 exercised");
            }
        }
    }

    #[test]
    fn all_expectations_in_one_pass_match_the_definition() {
        let strings: Vec<PauliString> = [
            "Z0",
            "X0",
            "Y1",
            "X0 X1",
            "X2 Z0",
            "Y0 Z4 X9",
            "Z5 Z12",
            "X12 Y2 Z0",
            "X0 X2 Z3",
            "Z15",
            "X15 Z14",
            "Y15 Y3",
        ]
        .iter()
        .map(|s| PauliString::parse(s).expect("valid string"))
        .collect();
        // 13 qubits: one thread; 16: parallel, one block per chunk; 18: two blocks per chunk.
        for n in [13usize, 16, 18] {
            let ps: Vec<PauliString> = strings
                .iter()
                .copied()
                .filter(|p| (1usize << p.min_qubits()) <= 1 << n)
                .collect();
            let psi: Vec<C64> = random_amplitudes(1 << n, 5);
            let psr: Vec<f64> = psi.iter().map(|c| c.re - c.im).collect();
            let (got, gotr) = (expectations_pauli(&psi, &ps), expectations_pauli(&psr, &ps));
            assert_eq!(got.len(), ps.len());
            let scale = (1usize << n) as f64;
            for (k, &p) in ps.iter().enumerate() {
                let (want, wantr) = (plain(&psi, p, &psi), plain(&psr, p, &psr));
                assert!((got[k] - want).norm() <= 1e-12 * scale, "{p:?} on {n}");
                assert!((gotr[k] - wantr).norm() <= 1e-12 * scale, "{p:?} on {n}");
            }
        }
        assert!(expectations_pauli::<f64>(&[1.0, 0.0], &[]).is_empty());
    }
}
