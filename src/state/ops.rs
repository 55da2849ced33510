//! Slice kernels on state vectors: allocation-free, parallel above a threshold, and
//! deterministic (partial sums over fixed chunks are added in index order, whatever the
//! thread count).

use rayon::prelude::*;

use crate::pauli::{PauliString, PauliSum, Phase};
use crate::scalar::{Scalar, C64};

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

/// `Σ conj(a_i) b_i` over two equal-length slices with eight independent accumulators: a
/// single running sum is a chain of dependent additions (4 cycles each) that the compiler may
/// not reorder, eight let it vectorise. The lanes are combined in a fixed order.
#[inline]
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
#[inline]
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
    reduce(a.len(), |s, e| dot_lanes(&a[s..e], &b[s..e]))
}

/// `‖a‖₂`.
pub fn norm<T: Scalar>(a: &[T]) -> f64 {
    norm2(a).sqrt()
}

/// `‖a‖₂²`: the partial sum one process contributes to the squared norm of a vector split
/// over processes.
pub fn norm2<T: Scalar>(a: &[T]) -> f64 {
    reduce(a.len(), |s, e| norm2_lanes(&a[s..e]))
}

/// `y += alpha · x`.
///
/// # Panics
/// If the lengths differ.
#[track_caller]
pub fn axpy<T: Scalar>(alpha: T, x: &[T], y: &mut [T]) {
    assert_eq!(x.len(), y.len(), "length mismatch");
    if y.len() < SERIAL_BELOW {
        for (b, &a) in y.iter_mut().zip(x) {
            *b += alpha * a;
        }
        return;
    }
    let chunk = y.len().div_ceil(PARTS);
    y.par_chunks_mut(chunk)
        .zip(x.par_chunks(chunk))
        .for_each(|(yc, xc)| {
            for (b, &a) in yc.iter_mut().zip(xc) {
                *b += alpha * a;
            }
        });
}

/// `x *= alpha`.
pub fn scale<T: Scalar>(alpha: T, x: &mut [T]) {
    if x.len() < SERIAL_BELOW {
        x.iter_mut().for_each(|v| *v *= alpha);
        return;
    }
    let chunk = x.len().div_ceil(PARTS);
    x.par_chunks_mut(chunk)
        .for_each(|c| c.iter_mut().for_each(|v| *v *= alpha));
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
    // ⟨φ|P|ψ⟩ = Σ_b conj(φ_b) e (−1)^{|z∧b|} ψ_{b⊕x}, e = i^{n_Y} (−1)^{|z∧x|}.
    let e = Phase((p.n_y() % 4) as u8).to_complex()
        * if (z & x).count_ones() % 2 == 1 {
            -1.0
        } else {
            1.0
        };
    let s: C64 = reduce(psi.len(), |s, end| {
        let mut acc = C64::new(0.0, 0.0);
        for b in s..end {
            let v = (phi[b].conj() * psi[b ^ x]).to_c64();
            if (z & b).count_ones() & 1 == 0 {
                acc += v;
            } else {
                acc -= v;
            }
        }
        acc
    });
    e * s
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
    let m = basis.len();
    if m == 0 {
        return Vec::new();
    }
    let len = w.len();
    assert!(basis.iter().all(|v| v.len() == len), "length mismatch");
    let chunk = len.div_ceil(PARTS).max(1);
    let n_parts = len.div_ceil(chunk);
    let mut partial = vec![T::zero(); n_parts * m];
    let work = |(ci, p): (usize, &mut [T])| {
        let (s, e) = (ci * chunk, ((ci + 1) * chunk).min(len));
        let wc = &w[s..e];
        for (j, v) in basis.iter().enumerate() {
            p[j] = dot_lanes(&v[s..e], wc);
        }
    };
    if len < SERIAL_BELOW {
        partial.chunks_mut(m).enumerate().for_each(work);
    } else {
        partial.par_chunks_mut(m).enumerate().for_each(work);
    }
    let mut c = vec![T::zero(); m];
    for p in partial.chunks(m) {
        for (cj, &pj) in c.iter_mut().zip(p) {
            *cj += pj;
        }
    }
    c
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
    let sub = |(ci, wc): (usize, &mut [T])| {
        let (s, n) = (ci * chunk, wc.len());
        for (v, &cj) in basis.iter().zip(c) {
            for (a, &b) in wc.iter_mut().zip(&v[s..s + n]) {
                *a -= cj * b;
            }
        }
    };
    if len < SERIAL_BELOW {
        w.chunks_mut(chunk).enumerate().for_each(sub);
    } else {
        w.par_chunks_mut(chunk).enumerate().for_each(sub);
    }
}
