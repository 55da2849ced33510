//! Vectors of complex amplitudes for the block kernels ([`super::fast`]): one trait,
//! `Vector`, implemented per instruction set and precision (AVX-512 and AVX2 + FMA, `f64`
//! and `f32`) and once portably (one complex number per "vector"). The kernels are written
//! once, generic over `Vector`, and compiled per instruction set inside `target_feature`
//! functions, chosen at run time ([`Isa::detect`]), as the `H·ψ` kernel does.
//!
//! Amplitudes are stored interleaved (`re, im, re, im, …`). A vector holds `2^LOG2` complex
//! amplitudes; the kernels need only multiply-add and one permutation: lane `l` takes the
//! amplitude of lane `l ⊕ x`, with its real and imaginary parts exchanged or not.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use super::precision::Float;

/// The instruction set the block kernels run with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Isa {
    /// AVX-512F (8 `f64` or 16 `f32` per register).
    Avx512,
    /// AVX2 with FMA (4 `f64` or 8 `f32` per register).
    Avx2,
    /// Plain Rust, one complex amplitude at a time (any CPU).
    Portable,
}

impl Isa {
    /// The best instruction set of this CPU.
    pub fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx512f") {
                return Isa::Avx512;
            }
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                return Isa::Avx2;
            }
        }
        Isa::Portable
    }

    /// Whether this CPU can run `self`.
    pub fn available(self) -> bool {
        match self {
            Isa::Portable => true,
            Isa::Avx2 => matches!(Isa::detect(), Isa::Avx2 | Isa::Avx512),
            Isa::Avx512 => Isa::detect() == Isa::Avx512,
        }
    }

    /// log2 of the complex amplitudes per register for amplitudes of `bytes` bytes.
    pub fn log2_lanes(self, amp_bytes: usize) -> usize {
        match (self, amp_bytes) {
            (Isa::Portable, _) => 0,
            (Isa::Avx2, 16) => 1,
            (Isa::Avx2, _) => 2,
            (Isa::Avx512, 16) => 2,
            (Isa::Avx512, _) => 3,
        }
    }
}

/// `2^LOG2` complex amplitudes in registers.
///
/// # Safety
/// Implementations for an instruction set may only be used inside functions compiled with it
/// (`#[target_feature]`) on a CPU that has it.
pub(crate) trait Vector: Copy {
    /// The real type.
    type F: Float;
    /// log2 of the complex amplitudes per vector.
    const LOG2: usize;
    /// Groups of registers a dense kernel works on at once (its accumulators must fit in the
    /// register file: 16 for AVX2, 32 for AVX-512).
    const TILE: usize;
    /// All zeros.
    unsafe fn zero() -> Self;
    /// Loads `2^{LOG2+1}` floats.
    unsafe fn load(p: *const Self::F) -> Self;
    /// Stores `2^{LOG2+1}` floats.
    unsafe fn store(self, p: *mut Self::F);
    /// `self · b` (lane-wise on floats).
    unsafe fn mul(self, b: Self) -> Self;
    /// `self · b + c` (lane-wise on floats).
    unsafe fn fmadd(self, b: Self, c: Self) -> Self;
    /// `self + b` (lane-wise on floats).
    unsafe fn add(self, b: Self) -> Self;
    /// Lane `l` ← lane `l ⊕ x` (`x < 2^LOG2`), with real and imaginary parts exchanged if
    /// `swap`.
    unsafe fn perm(self, x: usize, swap: bool) -> Self;
    /// `x` in every float lane.
    unsafe fn splat(x: Self::F) -> Self;
    /// `self · b − c` on real parts (even floats), `self · b + c` on imaginary parts.
    unsafe fn fmaddsub(self, b: Self, c: Self) -> Self;
    /// Exchanges amplitude-lane bit `BIT` with the bit telling `self` (0) from `b` (1): lane
    /// `l` of the first result is `self[l]` if bit `BIT` of `l` is clear, else `b[l ⊕ 2^BIT]`;
    /// of the second, `self[l ⊕ 2^BIT]` if clear, else `b[l]` (a 2 × 2 transpose of
    /// half-registers; applied twice it is the identity).
    unsafe fn exch<const BIT: usize>(self, b: Self) -> (Self, Self);
}

/// One complex number: the portable "vector".
#[derive(Clone, Copy)]
pub(crate) struct One<F>([F; 2]);

impl<F: Float> Vector for One<F> {
    type F = F;
    const LOG2: usize = 0;
    const TILE: usize = 1;
    #[inline(always)]
    unsafe fn zero() -> Self {
        One([F::default(); 2])
    }
    #[inline(always)]
    unsafe fn load(p: *const F) -> Self {
        One([*p, *p.add(1)])
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut F) {
        *p = self.0[0];
        *p.add(1) = self.0[1];
    }
    #[inline(always)]
    unsafe fn mul(self, b: Self) -> Self {
        One([self.0[0] * b.0[0], self.0[1] * b.0[1]])
    }
    #[inline(always)]
    unsafe fn fmadd(self, b: Self, c: Self) -> Self {
        One([self.0[0] * b.0[0] + c.0[0], self.0[1] * b.0[1] + c.0[1]])
    }
    #[inline(always)]
    unsafe fn add(self, b: Self) -> Self {
        One([self.0[0] + b.0[0], self.0[1] + b.0[1]])
    }
    #[inline(always)]
    unsafe fn perm(self, _x: usize, swap: bool) -> Self {
        if swap {
            One([self.0[1], self.0[0]])
        } else {
            self
        }
    }
    #[inline(always)]
    unsafe fn splat(x: F) -> Self {
        One([x, x])
    }
    #[inline(always)]
    unsafe fn fmaddsub(self, b: Self, c: Self) -> Self {
        One([self.0[0] * b.0[0] - c.0[0], self.0[1] * b.0[1] + c.0[1]])
    }
    unsafe fn exch<const BIT: usize>(self, _b: Self) -> (Self, Self) {
        unreachable!("one amplitude per vector: no lane bit {BIT}")
    }
}

/// AVX-512, 4 complex128.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(crate) struct Z64(__m512d);

/// AVX-512, 8 complex64.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(crate) struct Z32(__m512);

/// AVX2, 2 complex128.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(crate) struct Y64(__m256d);

/// AVX2, 4 complex64.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(crate) struct Y32(__m256);

/// Float-lane source indices of the permutation `(x, swap)` for `c` complex lanes.
const fn perm_table<const L: usize>(c: usize) -> [[[i32; L]; 2]; 8] {
    let mut t = [[[0i32; L]; 2]; 8];
    let mut x = 0;
    while x < 8 {
        let mut s = 0;
        while s < 2 {
            let mut j = 0;
            while j < L {
                let lane = j / 2;
                let part = j % 2;
                t[x][s][j] = (((lane ^ (x % c)) * 2) + (part ^ s)) as i32;
                j += 1;
            }
            s += 1;
        }
        x += 1;
    }
    t
}

const fn widen<const L: usize>(t: [[[i32; L]; 2]; 8]) -> [[[i64; L]; 2]; 8] {
    let mut w = [[[0i64; L]; 2]; 8];
    let mut x = 0;
    while x < 8 {
        let mut s = 0;
        while s < 2 {
            let mut j = 0;
            while j < L {
                w[x][s][j] = t[x][s][j] as i64;
                j += 1;
            }
            s += 1;
        }
        x += 1;
    }
    w
}

static PERM_Z64: [[[i64; 8]; 2]; 8] = widen(perm_table::<8>(4));
static PERM_Z32: [[[i32; 16]; 2]; 8] = perm_table::<16>(8);
static PERM_Y32: [[[i32; 8]; 2]; 8] = perm_table::<8>(4);

/// The `Vector` impl of a register type: every method but the permutation is one intrinsic;
/// `perm` is the type's own `permute`.
macro_rules! vector {
    ($t:ident, $f:ty, $log2:expr, $tile:expr, $zero:ident, $load:ident, $store:ident, $mul:ident,
     $fmadd:ident, $add:ident, $set1:ident, $fmaddsub:ident) => {
        #[cfg(target_arch = "x86_64")]
        impl Vector for $t {
            type F = $f;
            const LOG2: usize = $log2;
            const TILE: usize = $tile;
            #[inline(always)]
            unsafe fn zero() -> Self {
                $t($zero())
            }
            #[inline(always)]
            unsafe fn load(p: *const $f) -> Self {
                $t($load(p))
            }
            #[inline(always)]
            unsafe fn store(self, p: *mut $f) {
                $store(p, self.0)
            }
            #[inline(always)]
            unsafe fn mul(self, b: Self) -> Self {
                $t($mul(self.0, b.0))
            }
            #[inline(always)]
            unsafe fn fmadd(self, b: Self, c: Self) -> Self {
                $t($fmadd(self.0, b.0, c.0))
            }
            #[inline(always)]
            unsafe fn add(self, b: Self) -> Self {
                $t($add(self.0, b.0))
            }
            #[inline(always)]
            unsafe fn perm(self, x: usize, swap: bool) -> Self {
                self.permute(x, swap)
            }
            #[inline(always)]
            unsafe fn splat(x: $f) -> Self {
                $t($set1(x))
            }
            #[inline(always)]
            unsafe fn fmaddsub(self, b: Self, c: Self) -> Self {
                $t($fmaddsub(self.0, b.0, c.0))
            }
            #[inline(always)]
            unsafe fn exch<const BIT: usize>(self, b: Self) -> (Self, Self) {
                let (x, y) = self.exchange::<BIT>(b);
                ($t(x), $t(y))
            }
        }
    };
}

vector! {
    Z64, f64, 2, 4,
    _mm512_setzero_pd, _mm512_loadu_pd, _mm512_storeu_pd,
    _mm512_mul_pd, _mm512_fmadd_pd, _mm512_add_pd, _mm512_set1_pd, _mm512_fmaddsub_pd
}

/// Float-pair (`f64`) indices of `_mm512_permutex2var_pd` exchanging 128-bit lane bit 0 of
/// two registers (8 and up: the second register).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn exch128_z(a: __m512d, b: __m512d) -> (__m512d, __m512d) {
    let lo = _mm512_set_epi64(13, 12, 5, 4, 9, 8, 1, 0);
    let hi = _mm512_set_epi64(15, 14, 7, 6, 11, 10, 3, 2);
    (
        _mm512_permutex2var_pd(a, lo, b),
        _mm512_permutex2var_pd(a, hi, b),
    )
}

#[cfg(target_arch = "x86_64")]
impl Z64 {
    /// [`Vector::exch`]: bit 0 selects 128-bit quarters, bit 1 halves.
    #[inline(always)]
    unsafe fn exchange<const BIT: usize>(self, b: Self) -> (__m512d, __m512d) {
        match BIT {
            0 => exch128_z(self.0, b.0),
            1 => (
                _mm512_shuffle_f64x2::<0x44>(self.0, b.0),
                _mm512_shuffle_f64x2::<0xEE>(self.0, b.0),
            ),
            _ => unreachable!("lane bit {BIT} of 4 amplitudes"),
        }
    }
    /// Lane `l` ← lane `l ⊕ x`, real and imaginary parts exchanged if `swap`.
    #[inline(always)]
    unsafe fn permute(self, x: usize, swap: bool) -> Self {
        match (x, swap) {
            (0, false) => self,
            (0, true) => Z64(_mm512_permute_pd::<0x55>(self.0)),
            _ => {
                let idx = _mm512_loadu_si512(PERM_Z64[x][swap as usize].as_ptr() as *const _);
                Z64(_mm512_permutexvar_pd(idx, self.0))
            }
        }
    }
}

vector! {
    Z32, f32, 3, 4,
    _mm512_setzero_ps, _mm512_loadu_ps, _mm512_storeu_ps,
    _mm512_mul_ps, _mm512_fmadd_ps, _mm512_add_ps, _mm512_set1_ps, _mm512_fmaddsub_ps
}

#[cfg(target_arch = "x86_64")]
impl Z32 {
    /// [`Vector::exch`]: bit 0 selects 64-bit amplitudes, bit 1 128-bit quarters, bit 2
    /// halves.
    #[inline(always)]
    unsafe fn exchange<const BIT: usize>(self, b: Self) -> (__m512, __m512) {
        let (a, b) = (_mm512_castps_pd(self.0), _mm512_castps_pd(b.0));
        let (x, y) = match BIT {
            0 => (_mm512_unpacklo_pd(a, b), _mm512_unpackhi_pd(a, b)),
            1 => exch128_z(a, b),
            2 => (
                _mm512_shuffle_f64x2::<0x44>(a, b),
                _mm512_shuffle_f64x2::<0xEE>(a, b),
            ),
            _ => unreachable!("lane bit {BIT} of 8 amplitudes"),
        };
        (_mm512_castpd_ps(x), _mm512_castpd_ps(y))
    }
    /// Lane `l` ← lane `l ⊕ x`, real and imaginary parts exchanged if `swap`.
    #[inline(always)]
    unsafe fn permute(self, x: usize, swap: bool) -> Self {
        match (x, swap) {
            (0, false) => self,
            (0, true) => Z32(_mm512_permute_ps::<0xB1>(self.0)),
            _ => {
                let idx = _mm512_loadu_si512(PERM_Z32[x][swap as usize].as_ptr() as *const _);
                Z32(_mm512_permutexvar_ps(idx, self.0))
            }
        }
    }
}

vector! {
    Y64, f64, 1, 2,
    _mm256_setzero_pd, _mm256_loadu_pd, _mm256_storeu_pd,
    _mm256_mul_pd, _mm256_fmadd_pd, _mm256_add_pd, _mm256_set1_pd, _mm256_fmaddsub_pd
}

#[cfg(target_arch = "x86_64")]
impl Y64 {
    /// [`Vector::exch`]: bit 0 selects halves.
    #[inline(always)]
    unsafe fn exchange<const BIT: usize>(self, b: Self) -> (__m256d, __m256d) {
        match BIT {
            0 => (
                _mm256_permute2f128_pd::<0x20>(self.0, b.0),
                _mm256_permute2f128_pd::<0x31>(self.0, b.0),
            ),
            _ => unreachable!("lane bit {BIT} of 2 amplitudes"),
        }
    }
    /// Lane `l` ← lane `l ⊕ x`, real and imaginary parts exchanged if `swap`.
    #[inline(always)]
    unsafe fn permute(self, x: usize, swap: bool) -> Self {
        match (x, swap) {
            (0, false) => self,
            (0, true) => Y64(_mm256_permute_pd::<0b0101>(self.0)),
            (_, false) => Y64(_mm256_permute4x64_pd::<0b0100_1110>(self.0)),
            (_, true) => Y64(_mm256_permute4x64_pd::<0b0001_1011>(self.0)),
        }
    }
}

vector! {
    Y32, f32, 2, 2,
    _mm256_setzero_ps, _mm256_loadu_ps, _mm256_storeu_ps,
    _mm256_mul_ps, _mm256_fmadd_ps, _mm256_add_ps, _mm256_set1_ps, _mm256_fmaddsub_ps
}

#[cfg(target_arch = "x86_64")]
impl Y32 {
    /// [`Vector::exch`]: bit 0 selects 64-bit amplitudes, bit 1 halves.
    #[inline(always)]
    unsafe fn exchange<const BIT: usize>(self, b: Self) -> (__m256, __m256) {
        let (a, b) = (_mm256_castps_pd(self.0), _mm256_castps_pd(b.0));
        let (x, y) = match BIT {
            0 => (_mm256_unpacklo_pd(a, b), _mm256_unpackhi_pd(a, b)),
            1 => (
                _mm256_permute2f128_pd::<0x20>(a, b),
                _mm256_permute2f128_pd::<0x31>(a, b),
            ),
            _ => unreachable!("lane bit {BIT} of 4 amplitudes"),
        };
        (_mm256_castpd_ps(x), _mm256_castpd_ps(y))
    }
    /// Lane `l` ← lane `l ⊕ x`, real and imaginary parts exchanged if `swap`.
    #[inline(always)]
    unsafe fn permute(self, x: usize, swap: bool) -> Self {
        match (x, swap) {
            (0, false) => self,
            (0, true) => Y32(_mm256_permute_ps::<0xB1>(self.0)),
            _ => {
                let idx = _mm256_loadu_si256(PERM_Y32[x][swap as usize].as_ptr() as *const _);
                Y32(_mm256_permutevar8x32_ps(self.0, idx))
            }
        }
    }
}
