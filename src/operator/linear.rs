//! The operator trait every solver is written against: a linear map `y = A x` on vectors of
//! [`Scalar`]s, known only through its action (in the spirit of faer's `LinOp`).
//!
//! Required methods: [`LinearOperator::dim`], [`LinearOperator::apply`],
//! [`LinearOperator::is_real`], [`LinearOperator::is_hermitian`],
//! [`LinearOperator::norm_bound`], [`LinearOperator::cost_hint`]. Provided (override when a
//! cheaper form exists): [`LinearOperator::apply_dot`], [`LinearOperator::apply_add`], [`LinearOperator::apply_rows`],
//! [`LinearOperator::to_dense`], and for operators whose vectors are split over processes
//! [`LinearOperator::reduce_sum`], [`LinearOperator::global_offset`],
//! [`LinearOperator::global_dim`] (every solver takes its inner products and norms through
//! `reduce_sum`, so it runs unchanged on a distributed operator).
//!
//! Solvers take `&A` with `A: LinearOperator<T> + ?Sized`: with a concrete operator the call
//! is monomorphised and inlined (the hot loop pays nothing for the trait); `&dyn
//! LinearOperator<T>` works too where one virtual call per application is negligible.
//!
//! Implemented by [`XMaskOperator`] (`H·ψ` kernels), [`Pencil`] (`w_a A + w_b B`),
//! [`DenseOperator`] (a small explicit matrix, for tests and oracles), and the wrappers
//! [`Shifted`] (`A − σ`) and [`Projected`] (`Q A Q` with `Q = 1 − |q⟩⟨q|`).

use crate::scalar::{Scalar, C64};
use crate::state::{axpy, dot, memory};

use super::{OperatorError, Pencil, XMaskOperator, DENSE_MAX_QUBITS};

/// A linear operator `A` on `T^dim`, known through `y = A x`.
///
/// See the module docs for required and provided methods.
/// # Examples
/// A solver written once for every operator: the Rayleigh quotient `⟨x|A|x⟩/⟨x|x⟩`, applied to
/// a dense matrix and to a Pauli sum that is the same matrix.
/// ```
/// use qep::operator::{DenseOperator, LinearOperator, XMaskOperator};
/// use qep::pauli::{PauliString, PauliSum};
/// use qep::C64;
///
/// fn rayleigh(a: &(impl LinearOperator<C64> + ?Sized), x: &[C64]) -> f64 {
///     let mut y = vec![C64::new(0.0, 0.0); a.dim()];
///     a.apply(x, &mut y);
///     let num: C64 = x.iter().zip(&y).map(|(p, q)| p.conj() * q).sum();
///     num.re / x.iter().map(|p| p.norm_sqr()).sum::<f64>()
/// }
///
/// // X on one qubit, as a matrix and as a Pauli sum.
/// let (o, l) = (C64::new(0.0, 0.0), C64::new(1.0, 0.0));
/// let dense = DenseOperator::new(2, vec![o, l, l, o]);
/// let mut x = PauliSum::new(1);
/// x.add(PauliString::parse("X0")?, 1.0);
/// let pauli = XMaskOperator::new(&x)?;
/// let plus = [C64::new(1.0, 0.0), C64::new(1.0, 0.0)];
/// assert!((rayleigh(&dense, &plus) - 1.0).abs() < 1e-15);
/// assert!((rayleigh(&pauli, &plus) - 1.0).abs() < 1e-15);
/// assert!(<XMaskOperator as LinearOperator<f64>>::is_real(&pauli));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait LinearOperator<T: Scalar>: Sync {
    /// The dimension `dim` of the space `A` acts on (`2^n` for `n` qubits).
    fn dim(&self) -> usize;

    /// `y = A x`, without allocating.
    ///
    /// # Panics
    /// If `x` or `y` does not have length [`LinearOperator::dim`] (a caller bug), or if `T`
    /// is `f64` and [`LinearOperator::is_real`] is false.
    fn apply(&self, x: &[T], y: &mut [T]);

    /// `y = A x` and, in the same call, this process's part of `⟨x, y⟩ = Σᵢ x̄ᵢ yᵢ` (the
    /// Rayleigh numerator a Lanczos step needs as `α`), not yet summed over processes (see
    /// [`LinearOperator::reduce_sum`]). The provided version applies `A` and then takes the
    /// inner product in a second pass over both vectors; override it where the kernel can
    /// accumulate the product while it stores `y`, which saves that pass. Overrides must give
    /// the same bits on any thread count (a fixed reduction order).
    ///
    /// # Panics
    /// As [`LinearOperator::apply`].
    fn apply_dot(&self, x: &[T], y: &mut [T]) -> T {
        self.apply(x, y);
        dot(x, y)
    }

    /// `y += α A x`. The provided version allocates one temporary vector of `dim` entries per
    /// call (operators whose kernels overwrite their output cannot accumulate in place);
    /// override it where the operator can accumulate directly.
    ///
    /// # Panics
    /// As [`LinearOperator::apply`].
    fn apply_add(&self, alpha: T, x: &[T], y: &mut [T]) {
        let mut t: Vec<T> = memory::zeroed(self.dim());
        self.apply(x, &mut t);
        axpy(alpha, &t, y);
    }

    /// Whether `A` maps real vectors to real vectors in this basis, so that `T = f64` is
    /// allowed.
    fn is_real(&self) -> bool;

    /// Whether `A = A†` (eigensolvers and MINRES need it).
    fn is_hermitian(&self) -> bool;

    /// An upper bound on the spectral norm `‖A‖₂`, also the scale of the rounding error of
    /// one application (about `ε·norm_bound` per entry); `Σ|c|` for a Pauli sum.
    fn norm_bound(&self) -> f64;

    /// Entries of `A` touched per application (like the number of nonzeros): a cost hint for
    /// planning, not a promise.
    fn cost_hint(&self) -> usize;

    /// Sums `partial` element-wise, in place, over every process that holds a part of the
    /// vectors `A` acts on (an all-reduce, in a fixed rank order so every process gets the
    /// same bits). Vectors of a single-process operator are whole, so the provided version
    /// does nothing.
    fn reduce_sum(&self, partial: &mut [f64]) {
        let _ = partial;
    }

    /// Index, in the whole vector, of this process's first entry (0 unless distributed).
    fn global_offset(&self) -> usize {
        0
    }

    /// Length of the whole vector across processes ([`LinearOperator::dim`] unless
    /// distributed).
    fn global_dim(&self) -> usize {
        self.dim()
    }

    /// Rows `offset..offset + y.len()` of `A x`, `x` being the whole vector: the block one
    /// process of a distributed run owns. The provided version computes all of `A x` into a
    /// temporary (`dim` entries) and copies the rows out.
    ///
    /// # Panics
    /// If `x` does not have length `dim` or the rows run past `dim` (a caller bug).
    #[track_caller]
    fn apply_rows(&self, x: &[T], y: &mut [T], offset: usize) {
        let dim = self.dim();
        assert!(
            offset.checked_add(y.len()).is_some_and(|end| end <= dim),
            "rows {offset}..{offset}+{} run past the dimension {dim}",
            y.len()
        );
        let mut t: Vec<T> = memory::zeroed(dim);
        self.apply(x, &mut t);
        y.copy_from_slice(&t[offset..offset + y.len()]);
    }

    /// The matrix of `A`, row-major, `dim × dim` complex entries (`m[r·dim + c] = A_{rc}`),
    /// for dense oracles. The provided version applies `A` to every unit vector (`dim`
    /// applications); dense forms are limited to [`DENSE_MAX_QUBITS`] qubits.
    ///
    /// # Errors
    /// [`OperatorError::DenseTooLarge`] above the limit, [`OperatorError::TooLarge`] if the
    /// matrix does not fit in memory.
    fn to_dense(&self) -> Result<Vec<C64>, OperatorError> {
        let dim = self.dim();
        check_dense_dim(dim)?;
        memory::check_alloc_u128(
            (dim as u128) * (dim as u128) * 16,
            "dense matrix of the operator",
        )?;
        let mut m = vec![C64::new(0.0, 0.0); dim * dim];
        let mut e: Vec<T> = vec![T::zero(); dim];
        let mut col: Vec<T> = vec![T::zero(); dim];
        for c in 0..dim {
            e[c] = T::from_f64(1.0);
            self.apply(&e, &mut col);
            e[c] = T::zero();
            for (r, v) in col.iter().enumerate() {
                m[r * dim + c] = v.to_c64();
            }
        }
        Ok(m)
    }
}

/// Checks that a `dim × dim` dense form is within [`DENSE_MAX_QUBITS`].
fn check_dense_dim(dim: usize) -> Result<(), OperatorError> {
    let qubits = dim.next_power_of_two().trailing_zeros() as usize;
    if qubits > DENSE_MAX_QUBITS {
        return Err(OperatorError::DenseTooLarge {
            qubits,
            max: DENSE_MAX_QUBITS,
        });
    }
    Ok(())
}

impl<T: Scalar> LinearOperator<T> for XMaskOperator {
    fn dim(&self) -> usize {
        XMaskOperator::dim(self)
    }

    /// [`XMaskOperator::apply_into`]: the tuned kernels, called directly.
    #[inline]
    fn apply(&self, x: &[T], y: &mut [T]) {
        self.apply_into(x, y);
    }

    /// [`XMaskOperator::apply_dot_into`]: the inner product taken by the kernels' last pass.
    #[inline]
    fn apply_dot(&self, x: &[T], y: &mut [T]) -> T {
        self.apply_dot_into(x, y)
    }

    fn is_real(&self) -> bool {
        XMaskOperator::is_real(self)
    }

    fn is_hermitian(&self) -> bool {
        XMaskOperator::is_hermitian(self)
    }

    fn norm_bound(&self) -> f64 {
        XMaskOperator::norm_bound(self)
    }

    /// `dim` entries per X-mask group (each group is a permutation times a diagonal).
    fn cost_hint(&self) -> usize {
        XMaskOperator::dim(self).saturating_mul(self.n_groups().max(1))
    }

    /// [`XMaskOperator::to_dense`] (built row by row from the Pauli terms).
    fn to_dense(&self) -> Result<Vec<C64>, OperatorError> {
        XMaskOperator::to_dense(self)
    }
}

impl<T: Scalar> LinearOperator<T> for Pencil {
    fn dim(&self) -> usize {
        self.operator().dim()
    }

    #[inline]
    fn apply(&self, x: &[T], y: &mut [T]) {
        self.operator().apply_into(x, y);
    }

    #[inline]
    fn apply_dot(&self, x: &[T], y: &mut [T]) -> T {
        self.operator().apply_dot_into(x, y)
    }

    fn is_real(&self) -> bool {
        self.operator().is_real()
    }

    fn is_hermitian(&self) -> bool {
        self.operator().is_hermitian()
    }

    fn norm_bound(&self) -> f64 {
        self.operator().norm_bound()
    }

    fn cost_hint(&self) -> usize {
        LinearOperator::<T>::cost_hint(self.operator())
    }

    fn to_dense(&self) -> Result<Vec<C64>, OperatorError> {
        self.operator().to_dense()
    }
}

/// A small explicit matrix as an operator: row-major complex entries. Useful as an oracle in
/// tests and for operators given as matrices; every application costs `dim²` operations.
#[derive(Clone, Debug, PartialEq)]
pub struct DenseOperator {
    dim: usize,
    entries: Vec<C64>,
    real: bool,
    hermitian: bool,
    norm_bound: f64,
}

impl DenseOperator {
    /// Wraps the row-major `dim × dim` matrix `entries` (`entries[r·dim + c] = A_{rc}`).
    ///
    /// # Panics
    /// If `entries.len() != dim²` (a caller bug).
    #[track_caller]
    pub fn new(dim: usize, entries: Vec<C64>) -> Self {
        assert_eq!(entries.len(), dim * dim, "entries are not dim × dim");
        let real = entries.iter().all(|e| e.im == 0.0);
        let hermitian =
            (0..dim).all(|r| (0..dim).all(|c| entries[r * dim + c] == entries[c * dim + r].conj()));
        // Frobenius norm: an upper bound on the spectral norm.
        let norm_bound = entries.iter().map(|e| e.norm_sqr()).sum::<f64>().sqrt();
        Self {
            dim,
            entries,
            real,
            hermitian,
            norm_bound,
        }
    }

    /// The entries, row-major.
    pub fn entries(&self) -> &[C64] {
        &self.entries
    }
}

impl<T: Scalar> LinearOperator<T> for DenseOperator {
    fn dim(&self) -> usize {
        self.dim
    }

    #[track_caller]
    fn apply(&self, x: &[T], y: &mut [T]) {
        assert_eq!(x.len(), self.dim, "x has the wrong length");
        assert_eq!(y.len(), self.dim, "y has the wrong length");
        assert!(
            T::IS_COMPLEX || self.real,
            "real arithmetic on a complex matrix"
        );
        for (r, yr) in y.iter_mut().enumerate() {
            let row = &self.entries[r * self.dim..(r + 1) * self.dim];
            let mut s = C64::new(0.0, 0.0);
            for (a, v) in row.iter().zip(x) {
                s += a * v.to_c64();
            }
            *yr = T::from_c64(s).unwrap_or_else(|| T::from_f64(s.re));
        }
    }

    fn is_real(&self) -> bool {
        self.real
    }

    fn is_hermitian(&self) -> bool {
        self.hermitian
    }

    fn norm_bound(&self) -> f64 {
        self.norm_bound
    }

    fn cost_hint(&self) -> usize {
        self.dim.saturating_mul(self.dim)
    }

    fn to_dense(&self) -> Result<Vec<C64>, OperatorError> {
        Ok(self.entries.clone())
    }
}

/// `A − σ` for a real shift `σ`: what shift-and-solve methods (MINRES around an eigenvalue)
/// apply. Costs one application of `A` and one vector update.
#[derive(Clone, Copy, Debug)]
pub struct Shifted<'a, A: ?Sized> {
    /// The operator `A`.
    pub inner: &'a A,
    /// The shift `σ`.
    pub sigma: f64,
}

impl<T: Scalar, A: LinearOperator<T> + ?Sized> LinearOperator<T> for Shifted<'_, A> {
    fn dim(&self) -> usize {
        self.inner.dim()
    }

    #[inline]
    fn apply(&self, x: &[T], y: &mut [T]) {
        self.inner.apply(x, y);
        // No pass for no shift (an operator that carries its shift itself, e.g.
        // `XMaskOperator::shifted`).
        if self.sigma != 0.0 {
            axpy(T::from_f64(-self.sigma), x, y);
        }
    }

    fn is_real(&self) -> bool {
        self.inner.is_real()
    }

    fn is_hermitian(&self) -> bool {
        self.inner.is_hermitian()
    }

    fn norm_bound(&self) -> f64 {
        self.inner.norm_bound() + self.sigma.abs()
    }

    fn cost_hint(&self) -> usize {
        self.inner.cost_hint().saturating_add(self.inner.dim())
    }

    fn reduce_sum(&self, partial: &mut [f64]) {
        self.inner.reduce_sum(partial);
    }

    fn global_offset(&self) -> usize {
        self.inner.global_offset()
    }

    fn global_dim(&self) -> usize {
        self.inner.global_dim()
    }
}

/// `Q A` restricted to `Q`'s range, `Q = 1 − |q⟩⟨q|` with `q` normalised: `y = Q A x`. On
/// vectors already orthogonal to `q` this is `Q A Q`, the operator of first-order perturbation
/// theory around the eigenvector `q` (MINRES keeps its iterates there). Costs one application
/// of `A` and two vector passes.
#[derive(Clone, Copy, Debug)]
pub struct Projected<'a, T, A: ?Sized> {
    /// The operator `A`.
    pub inner: &'a A,
    /// The normalised vector `q` projected out.
    pub q: &'a [T],
}

impl<T: Scalar, A: LinearOperator<T> + ?Sized> Projected<'_, T, A> {
    /// `v ← Q v = v − q ⟨q, v⟩`, the inner product summed over every process that holds a
    /// part of the vectors ([`LinearOperator::reduce_sum`]).
    #[inline]
    pub fn project(&self, v: &mut [T]) {
        let c = crate::linalg::dot_all(self.inner, self.q, v);
        axpy(-c, self.q, v);
    }
}

impl<T: Scalar, A: LinearOperator<T> + ?Sized> LinearOperator<T> for Projected<'_, T, A> {
    fn dim(&self) -> usize {
        self.inner.dim()
    }

    #[inline]
    fn apply(&self, x: &[T], y: &mut [T]) {
        self.inner.apply(x, y);
        self.project(y);
    }

    fn is_real(&self) -> bool {
        self.inner.is_real()
    }

    fn is_hermitian(&self) -> bool {
        self.inner.is_hermitian()
    }

    fn norm_bound(&self) -> f64 {
        self.inner.norm_bound()
    }

    fn cost_hint(&self) -> usize {
        self.inner.cost_hint().saturating_add(2 * self.inner.dim())
    }

    fn reduce_sum(&self, partial: &mut [f64]) {
        self.inner.reduce_sum(partial);
    }

    fn global_offset(&self) -> usize {
        self.inner.global_offset()
    }

    fn global_dim(&self) -> usize {
        self.inner.global_dim()
    }
}
