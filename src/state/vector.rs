//! A normalised complex state vector on `n` qubits.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::pauli::{PauliString, PauliSum};
use crate::scalar::{Scalar, C64};

use super::memory::{self, MemoryError};

/// `|ψ⟩ = Σ_b ψ_b |b⟩` with qubit `i` = bit `i` of `b`; amplitudes of type `T` (`C64`, or
/// `f64` for real states of real Hamiltonians).
#[derive(Clone, Debug, PartialEq)]
pub struct StateVector<T: Scalar = C64> {
    n: usize,
    amps: Vec<T>,
}

impl<T: Scalar> StateVector<T> {
    fn alloc(n: usize, what: &str) -> Result<Vec<T>, MemoryError> {
        memory::check_alloc_u128(
            memory::state_bytes(n, std::mem::size_of::<T>()),
            &format!("{what} of {n} qubits"),
        )?;
        Ok(memory::zeroed(1usize << n))
    }

    /// The basis state `|b⟩`.
    ///
    /// # Errors
    /// [`MemoryError`] if the vector does not fit in memory.
    pub fn basis(n: usize, b: usize) -> Result<Self, MemoryError> {
        let mut amps = Self::alloc(n, "basis state")?;
        amps[b] = T::from_f64(1.0);
        Ok(Self { n, amps })
    }

    /// `|+…+⟩ = 2^{−n/2} Σ_b |b⟩`, the ground state of `−Σ X_i`.
    ///
    /// # Errors
    /// [`MemoryError`] if the vector does not fit in memory.
    pub fn plus(n: usize) -> Result<Self, MemoryError> {
        let mut amps = Self::alloc(n, "state")?;
        let a = T::from_f64((1.0 / (1u64 << n.min(63)) as f64).sqrt());
        amps.iter_mut().for_each(|v| *v = a);
        Ok(Self { n, amps })
    }

    /// A random normalised state from a fixed seed: Gaussian amplitudes (complex Gaussian for
    /// `C64`), drawn with ChaCha8, so the same seed gives the same bits.
    ///
    /// # Errors
    /// [`MemoryError`] if the vector does not fit in memory.
    pub fn random(n: usize, seed: u64) -> Result<Self, MemoryError> {
        memory::check_alloc_u128(
            memory::state_bytes(n, std::mem::size_of::<T>()),
            &format!("random state of {n} qubits"),
        )?;
        let mut amps = random_amplitudes(1usize << n, seed);
        super::normalize(&mut amps);
        Ok(Self { n, amps })
    }

    /// Wraps amplitudes (normalised in place).
    ///
    /// # Panics
    /// If `amps.len()` is not `2^n`.
    #[track_caller]
    pub fn from_amplitudes(n: usize, mut amps: Vec<T>) -> Self {
        assert_eq!(amps.len(), 1usize << n, "length is not 2^n");
        super::normalize(&mut amps);
        Self { n, amps }
    }

    /// Number of qubits.
    pub fn qubits(&self) -> usize {
        self.n
    }

    /// Dimension `2^n`.
    pub fn len(&self) -> usize {
        self.amps.len()
    }

    /// Always false (a state has at least one amplitude).
    pub fn is_empty(&self) -> bool {
        self.amps.is_empty()
    }

    /// The amplitudes.
    pub fn as_slice(&self) -> &[T] {
        &self.amps
    }

    /// The amplitudes, mutably.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.amps
    }

    /// Consumes the state into its amplitudes.
    pub fn into_vec(self) -> Vec<T> {
        self.amps
    }

    /// `⟨self|other⟩`.
    pub fn inner(&self, other: &Self) -> T {
        super::dot(&self.amps, &other.amps)
    }

    /// `‖ψ‖`.
    pub fn norm(&self) -> f64 {
        super::norm(&self.amps)
    }

    /// `⟨ψ|P|ψ⟩` (real for a Hermitian string).
    pub fn expectation(&self, p: PauliString) -> f64 {
        super::expectation_pauli(&self.amps, p).re
    }

    /// `⟨ψ|H|ψ⟩` for a Pauli sum (complex for non-Hermitian sums).
    pub fn expectation_sum(&self, h: &PauliSum) -> C64 {
        super::expectation_sum(&self.amps, h)
    }

    /// `|⟨self|other⟩|²`.
    pub fn fidelity(&self, other: &Self) -> f64 {
        self.inner(other).abs2()
    }

    /// The state with complex amplitudes.
    pub fn to_complex(&self) -> StateVector<C64> {
        StateVector {
            n: self.n,
            amps: self.amps.iter().map(|a| a.to_c64()).collect(),
        }
    }
}

/// `dim` seeded Gaussian amplitudes (complex Gaussian for `C64`), drawn with ChaCha8, not
/// normalised: the amplitudes of [`StateVector::random`] for any dimension (solvers on
/// operators whose dimension is not a power of two start from them). Allocates `dim` entries
/// unchecked: callers check the size first.
pub fn random_amplitudes<T: Scalar>(dim: usize, seed: u64) -> Vec<T> {
    let mut amps: Vec<T> = memory::zeroed(dim);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for v in amps.iter_mut() {
        let re = gaussian(&mut rng);
        *v = if T::IS_COMPLEX {
            T::from_c64(C64::new(re, gaussian(&mut rng))).unwrap_or_default()
        } else {
            T::from_f64(re)
        };
    }
    amps
}

/// A standard normal deviate (Box–Muller; one of the pair is discarded for simplicity).
fn gaussian<R: Rng>(rng: &mut R) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}
