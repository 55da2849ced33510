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

/// `⟨a|b⟩ = Σ conj(a_i) b_i`.
///
/// # Panics
/// If the lengths differ.
#[track_caller]
pub fn dot<T: Scalar>(a: &[T], b: &[T]) -> T {
    assert_eq!(a.len(), b.len(), "length mismatch");
    reduce(a.len(), |s, e| {
        let mut acc = T::zero();
        for (x, y) in a[s..e].iter().zip(&b[s..e]) {
            acc += x.conj() * *y;
        }
        acc
    })
}

/// `‖a‖₂`.
pub fn norm<T: Scalar>(a: &[T]) -> f64 {
    let s: f64 = reduce(a.len(), |s, e| {
        a[s..e].iter().map(|x| x.abs2()).sum::<f64>()
    });
    s.sqrt()
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
pub fn expectation_sum<T: Scalar>(psi: &[T], h: &PauliSum) -> C64 {
    h.terms()
        .iter()
        .map(|&(p, c)| c * expectation_pauli(psi, p))
        .sum()
}
