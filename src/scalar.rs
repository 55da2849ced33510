//! The two scalar types state vectors are made of: `f64` (real arithmetic, for Hamiltonians that
//! are real in the Z basis) and `Complex64`.

use std::fmt::Debug;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Mul, MulAssign, Neg, Sub, SubAssign};

pub use num_complex::Complex64 as C64;

/// A field element of a state vector: `f64` or `C64`.
///
/// Real vectors halve the memory traffic of `H·ψ` and of Lanczos; they are valid when every
/// effective term coefficient `c · i^{n_Y}` is real (`PauliSum::is_real_in_z_basis`).
pub trait Scalar:
    bytemuck::Pod
    + Copy
    + Clone
    + Send
    + Sync
    + Debug
    + Default
    + PartialEq
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + Sum
    + 'static
{
    /// Whether the type is complex.
    const IS_COMPLEX: bool;
    /// Zero.
    fn zero() -> Self;
    /// Complex conjugate (identity for reals).
    fn conj(self) -> Self;
    /// `|x|²`.
    fn abs2(self) -> f64;
    /// Real part.
    fn re(self) -> f64;
    /// Embeds a real number.
    fn from_f64(x: f64) -> Self;
    /// Converts a complex number; `None` if it has an imaginary part and `Self` is real.
    fn from_c64(c: C64) -> Option<Self>;
    /// Embeds into the complex numbers.
    fn to_c64(self) -> C64;
    /// Multiplication by a real number.
    fn scale(self, s: f64) -> Self;
}

impl Scalar for f64 {
    const IS_COMPLEX: bool = false;
    #[inline(always)]
    fn zero() -> Self {
        0.0
    }
    #[inline(always)]
    fn conj(self) -> Self {
        self
    }
    #[inline(always)]
    fn abs2(self) -> f64 {
        self * self
    }
    #[inline(always)]
    fn re(self) -> f64 {
        self
    }
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn from_c64(c: C64) -> Option<Self> {
        (c.im == 0.0).then_some(c.re)
    }
    #[inline(always)]
    fn to_c64(self) -> C64 {
        C64::new(self, 0.0)
    }
    #[inline(always)]
    fn scale(self, s: f64) -> Self {
        self * s
    }
}

impl Scalar for C64 {
    const IS_COMPLEX: bool = true;
    #[inline(always)]
    fn zero() -> Self {
        C64::new(0.0, 0.0)
    }
    #[inline(always)]
    fn conj(self) -> Self {
        num_complex::Complex::conj(&self)
    }
    #[inline(always)]
    fn abs2(self) -> f64 {
        self.norm_sqr()
    }
    #[inline(always)]
    fn re(self) -> f64 {
        self.re
    }
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        C64::new(x, 0.0)
    }
    #[inline(always)]
    fn from_c64(c: C64) -> Option<Self> {
        Some(c)
    }
    #[inline(always)]
    fn to_c64(self) -> C64 {
        self
    }
    #[inline(always)]
    fn scale(self, s: f64) -> Self {
        C64::new(self.re * s, self.im * s)
    }
}

/// Single-precision complex amplitude (`num_complex::Complex32`).
pub use num_complex::Complex32 as C32;

/// A single-precision amplitude for `H·ψ` ([`crate::operator::XMaskOperator::apply_single`]):
/// `f32` (operators real in the Z basis) or [`C32`]. Half the bytes of [`Scalar`]'s types, so
/// a memory-bound `H·ψ` moves half the state traffic; coefficients, tables and the diagonal stay
/// in double precision and are rounded once per use, so each output amplitude carries about
/// `ε₃₂ · Σ|c| · ‖ψ‖∞` of rounding (ε₃₂ = 6·10⁻⁸). Solvers keep working in [`Scalar`]'s types.
pub trait SingleScalar:
    bytemuck::Pod + Copy + Send + Sync + Debug + Default + PartialEq + 'static
{
    /// Whether the type is complex.
    const IS_COMPLEX: bool;
    /// Rounds a complex number to single precision (the real part for `f32`).
    fn round_c64(c: C64) -> Self;
    /// Widens to double precision.
    fn to_c64(self) -> C64;
}

impl SingleScalar for f32 {
    const IS_COMPLEX: bool = false;
    #[inline(always)]
    fn round_c64(c: C64) -> Self {
        c.re as f32
    }
    #[inline(always)]
    fn to_c64(self) -> C64 {
        C64::new(f64::from(self), 0.0)
    }
}

impl SingleScalar for C32 {
    const IS_COMPLEX: bool = true;
    #[inline(always)]
    fn round_c64(c: C64) -> Self {
        C32::new(c.re as f32, c.im as f32)
    }
    #[inline(always)]
    fn to_c64(self) -> C64 {
        C64::new(f64::from(self.re), f64::from(self.im))
    }
}
