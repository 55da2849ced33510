//! The two amplitude types a circuit runs in: complex128 ([`C64`], the default) and complex64
//! ([`C32`], `--precision single`: half the memory and half the memory traffic).
//!
//! Gate matrices are always computed and fused in double precision and rounded to the state's
//! type once per fused gate; norms, branch weights and the sampling table are always summed in
//! `f64`. A single-precision state therefore carries only the rounding of its own amplitudes:
//! about `6e-8` relative per fused gate, a few `1e-6` on the probabilities of a circuit of a
//! few hundred fused gates (tested to agree with double precision to `1e-5`).

use std::fmt::Debug;

use num_complex::Complex;

use crate::C64;

/// A complex64 amplitude (two `f32`): the crate's one single-precision complex type.
pub use crate::scalar::C32;

/// The floating-point type of a circuit's state vector.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Precision {
    /// complex128 amplitudes (16 bytes each).
    #[default]
    Double,
    /// complex64 amplitudes (8 bytes each): half the memory and traffic, ~7 significant digits.
    Single,
}

impl Precision {
    /// Bytes per amplitude.
    pub fn amp_bytes(self) -> usize {
        match self {
            Precision::Double => 16,
            Precision::Single => 8,
        }
    }

    /// `double` or `single`.
    pub fn name(self) -> &'static str {
        match self {
            Precision::Double => "double",
            Precision::Single => "single",
        }
    }
}

/// The real type of an amplitude's parts: `f32` or `f64`.
pub trait Float:
    Copy
    + Send
    + Sync
    + Default
    + Debug
    + PartialEq
    + PartialOrd
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Neg<Output = Self>
    + bytemuck::Zeroable
    + 'static
{
    /// The nearest value to `x`.
    fn of(x: f64) -> Self;
    /// The value as `f64` (exact).
    fn wide(self) -> f64;
}

impl Float for f64 {
    #[inline(always)]
    fn of(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn wide(self) -> f64 {
        self
    }
}

impl Float for f32 {
    #[inline(always)]
    fn of(x: f64) -> Self {
        x as f32
    }
    #[inline(always)]
    fn wide(self) -> f64 {
        f64::from(self)
    }
}

/// An amplitude of a circuit's state vector: `Complex<F>` for `F` = `f64` or `f32`.
pub trait Amp:
    Copy + Send + Sync + Default + Debug + PartialEq + bytemuck::Zeroable + 'static
{
    /// The real type of its parts.
    type F: Float;
    /// Which precision this is.
    const PRECISION: Precision;
    /// `|z|²`, computed in `f64`.
    fn norm2(self) -> f64;
    /// `z · s`.
    fn scaled(self, s: f64) -> Self;
    /// The nearest amplitude to `z`.
    fn from_c64(z: C64) -> Self;
    /// The amplitude as complex128 (exact).
    fn to_c64(self) -> C64;
}

impl<F: Float> Amp for Complex<F>
where
    Complex<F>: Default + Debug,
{
    type F = F;
    const PRECISION: Precision = if std::mem::size_of::<F>() == 8 {
        Precision::Double
    } else {
        Precision::Single
    };
    #[inline(always)]
    fn norm2(self) -> f64 {
        let (r, i) = (self.re.wide(), self.im.wide());
        r * r + i * i
    }
    #[inline(always)]
    fn scaled(self, s: f64) -> Self {
        Complex::new(F::of(self.re.wide() * s), F::of(self.im.wide() * s))
    }
    #[inline(always)]
    fn from_c64(z: C64) -> Self {
        Complex::new(F::of(z.re), F::of(z.im))
    }
    #[inline(always)]
    fn to_c64(self) -> C64 {
        C64::new(self.re.wide(), self.im.wide())
    }
}
