//! Inner products and norms of vectors that may be split over processes: each is a local
//! partial sum followed by one [`LinearOperator::reduce_sum`] (a no-op for a single-process
//! operator, an all-reduce for a distributed one). The solvers take every reduction through
//! these, batching the scalars of one reduction point into one call (under MPI each call is a
//! network round trip).

use crate::operator::LinearOperator;
use crate::scalar::{Scalar, C64};
use crate::state::{dot, norm2, project_coefficients, scale, subtract_combination};

/// `f64`s one scalar takes in a reduction buffer (2 for complex, 1 for real).
fn width<T: Scalar>() -> usize {
    if T::IS_COMPLEX {
        2
    } else {
        1
    }
}

/// Writes `xs` into `buf` as `f64`s ([`width`] each).
fn pack<T: Scalar>(xs: &[T], buf: &mut Vec<f64>) {
    for x in xs {
        let c = x.to_c64();
        buf.push(c.re);
        if T::IS_COMPLEX {
            buf.push(c.im);
        }
    }
}

/// Reads back scalars packed by [`pack`].
fn unpack<T: Scalar>(buf: &[f64], xs: &mut [T]) {
    for (x, c) in xs.iter_mut().zip(buf.chunks(width::<T>())) {
        let (re, im) = (c[0], c.get(1).copied().unwrap_or(0.0));
        *x = T::from_c64(C64::new(re, im)).unwrap_or_else(|| T::from_f64(re));
    }
}

/// Sums scalars over processes in one [`LinearOperator::reduce_sum`] call.
pub(crate) fn reduce_scalars<T: Scalar, A: LinearOperator<T> + ?Sized>(op: &A, xs: &mut [T]) {
    let mut buf = Vec::with_capacity(xs.len() * width::<T>());
    pack(xs, &mut buf);
    op.reduce_sum(&mut buf);
    unpack(&buf, xs);
}

/// `⟨a|b⟩` over the whole vector: the local inner product summed over the processes that hold
/// a part of `op`'s vectors (one reduction).
pub fn dot_all<T: Scalar, A: LinearOperator<T> + ?Sized>(op: &A, a: &[T], b: &[T]) -> T {
    let mut d = [dot(a, b)];
    reduce_scalars(op, &mut d);
    d[0]
}

/// `‖a‖₂²` over the whole vector (one reduction).
pub(crate) fn norm2_all<T: Scalar, A: LinearOperator<T> + ?Sized>(op: &A, a: &[T]) -> f64 {
    let mut s = [norm2(a)];
    op.reduce_sum(&mut s);
    s[0]
}

/// `‖a‖₂` over the whole vector (one reduction).
pub(crate) fn norm_all<T: Scalar, A: LinearOperator<T> + ?Sized>(op: &A, a: &[T]) -> f64 {
    norm2_all(op, a).sqrt()
}

/// Normalises `x` over the whole vector and returns its former norm (0 leaves `x` unchanged).
pub(crate) fn normalize_all<T: Scalar, A: LinearOperator<T> + ?Sized>(op: &A, x: &mut [T]) -> f64 {
    let n = norm_all(op, x);
    if n > 0.0 {
        scale(T::from_f64(1.0 / n), x);
    }
    n
}

/// One classical Gram–Schmidt pass against `basis` over the whole vector: the coefficients
/// `⟨v_j|w⟩` of all basis vectors are summed in one reduction, then subtracted locally.
/// Returns the coefficients.
pub(crate) fn project_out_all<T: Scalar, A: LinearOperator<T> + ?Sized>(
    op: &A,
    basis: &[Vec<T>],
    w: &mut [T],
) -> Vec<T> {
    if basis.is_empty() {
        return Vec::new();
    }
    let mut c = project_coefficients(basis, w);
    reduce_scalars(op, &mut c);
    subtract_combination(basis, &c, w);
    c
}
