//! The references algorithmic cooling is measured against (docs/DESIGN.md, "How states are
//! prepared"): the exact Gibbs state `e^{−H/T}/Z` as a density matrix, the trace distance, and
//! the per-step record ([`Relaxation`]) of a state relaxing towards it.

use super::density::{check_density_alloc, DensityMatrix};
use super::EvolveError;
use crate::linalg::eigh_dense;
use crate::operator::{XMaskOperator, DENSE_MAX_QUBITS};
use crate::pauli::PauliSum;
use crate::C64;

/// Trace distance `D(ρ, σ) = ½ ‖ρ − σ‖₁ = ½ Σ_i |λ_i|`, `λ_i` the eigenvalues of the Hermitian
/// part of `ρ − σ` (dense eigensolve). `0 ≤ D ≤ 1` for states; for commuting (e.g. diagonal)
/// states it is the total-variation distance `½ Σ_b |p_b − q_b|`.
/// Cost: one `2^n × 2^n` copy and an `O(8^n)` eigensolve.
///
/// # Errors
/// [`EvolveError::QubitMismatch`] if the qubit counts differ, [`EvolveError::TooManyQubits`]
/// above 12 qubits, [`EvolveError::Solver`] if the eigensolver fails.
pub fn trace_distance(rho: &DensityMatrix, sigma: &DensityMatrix) -> Result<f64, EvolveError> {
    if rho.qubits() != sigma.qubits() {
        return Err(EvolveError::QubitMismatch {
            what: "second state of the trace distance".into(),
            expected: rho.qubits(),
            found: sigma.qubits(),
        });
    }
    let n = rho.qubits();
    if n > DENSE_MAX_QUBITS {
        return Err(EvolveError::TooManyQubits {
            method: "trace distance (dense eigensolve)",
            qubits: n,
            max: DENSE_MAX_QUBITS,
        });
    }
    let diff: Vec<C64> = rho
        .as_slice()
        .iter()
        .zip(sigma.as_slice())
        .map(|(a, b)| a - b)
        .collect();
    half_trace_norm(&diff, rho.dim())
}

/// `½ Σ |λ_i|` of the Hermitian part of a row-major `dim × dim` matrix.
pub(crate) fn half_trace_norm(m: &[C64], dim: usize) -> Result<f64, EvolveError> {
    let herm: Vec<C64> = (0..dim * dim)
        .map(|i| {
            let (r, c) = (i / dim, i % dim);
            (m[r * dim + c] + m[c * dim + r].conj()) * 0.5
        })
        .collect();
    let (vals, _) = eigh_dense(&herm, dim)?;
    Ok(0.5 * vals.iter().map(|v| v.abs()).sum::<f64>())
}

/// Checks `T` is a finite number `> 0`.
pub(crate) fn check_temperature(temperature: f64) -> Result<(), EvolveError> {
    if temperature > 0.0 && temperature.is_finite() {
        Ok(())
    } else {
        Err(EvolveError::TemperatureNotPositive { temperature })
    }
}

/// The spectrum `H = Σ_n E_n |n⟩⟨n|` of a Hermitian Pauli sum by a dense eigensolve:
/// energies ascending and eigenvectors as columns of a row-major `dim × dim` matrix
/// (`v[i·dim + n] = ⟨i|n⟩`).
pub(crate) fn dense_eigen(
    h: &PauliSum,
    max: usize,
    method: &'static str,
) -> Result<(Vec<f64>, Vec<C64>), EvolveError> {
    let n = h.qubits();
    if n > max {
        return Err(EvolveError::TooManyQubits {
            method,
            qubits: n,
            max,
        });
    }
    if let Some((p, imag)) = h.worst_imaginary() {
        if imag.abs() > 1e-12 {
            return Err(EvolveError::NonHermitianHamiltonian {
                term: p.label(),
                imag,
            });
        }
    }
    check_density_alloc(n, 3, method)?;
    let op = XMaskOperator::new(h)?;
    let dim = op.dim();
    let (energies, vecs) = eigh_dense(&op.to_dense()?, dim)?;
    let mut v = vec![C64::new(0.0, 0.0); dim * dim];
    for (col, vec) in vecs.iter().enumerate() {
        for (i, x) in vec.iter().enumerate() {
            v[i * dim + col] = *x;
        }
    }
    Ok((energies, v))
}

/// Boltzmann weights `p_n = e^{−(E_n − E_0)/T} / Σ_m e^{−(E_m − E_0)/T}` (shifted by the lowest
/// energy so that nothing overflows at small `T`).
pub(crate) fn boltzmann(energies: &[f64], temperature: f64) -> Vec<f64> {
    let e0 = energies.iter().copied().fold(f64::INFINITY, f64::min);
    let w: Vec<f64> = energies
        .iter()
        .map(|e| (-(e - e0) / temperature).exp())
        .collect();
    let z: f64 = w.iter().sum();
    w.iter().map(|x| x / z).collect()
}

/// The Gibbs state `ρ_G = e^{−H/T}/Z` of a Hermitian Pauli sum as a density matrix in the
/// computational basis (dense: `N ≤ 12`), with its spectrum and energy: the exact target of
/// thermalisation (paper Section IV: the thermal state is the computation).
#[derive(Clone, Debug)]
pub struct GibbsDensity {
    /// Temperature `T > 0`.
    pub temperature: f64,
    /// Energies `E_n`, ascending.
    pub energies: Vec<f64>,
    /// Boltzmann weights `p_n` (sum to 1).
    pub weights: Vec<f64>,
    /// `⟨H⟩_T = Σ_n p_n E_n`.
    pub energy: f64,
    /// `ρ_G = Σ_n p_n |n⟩⟨n|`.
    pub rho: DensityMatrix,
}

impl GibbsDensity {
    /// Checks, before any work, that the dense Gibbs state of `n` qubits fits its limit
    /// [`DENSE_MAX_QUBITS`].
    ///
    /// # Errors
    /// [`EvolveError::TooManyQubits`] naming `n` and the limit.
    pub fn check_size(n: usize) -> Result<(), EvolveError> {
        if n > DENSE_MAX_QUBITS {
            return Err(EvolveError::TooManyQubits {
                method: "Gibbs state",
                qubits: n,
                max: DENSE_MAX_QUBITS,
            });
        }
        Ok(())
    }

    /// Diagonalises `h` densely and forms `ρ_G = Σ_n p_n |n⟩⟨n|`.
    /// Cost: three `16·4^N`-byte matrices (checked first) and an `O(8^N)` eigensolve.
    ///
    /// # Errors
    /// [`EvolveError::TemperatureNotPositive`], [`EvolveError::TooManyQubits`] above 12 qubits,
    /// [`EvolveError::NonHermitianHamiltonian`], memory, operator and eigensolver errors.
    pub fn new(h: &PauliSum, temperature: f64) -> Result<Self, EvolveError> {
        check_temperature(temperature)?;
        let (energies, v) = dense_eigen(h, DENSE_MAX_QUBITS, "Gibbs state")?;
        let dim = energies.len();
        let weights = boltzmann(&energies, temperature);
        let energy = weights.iter().zip(&energies).map(|(p, e)| p * e).sum();
        let mut rho = DensityMatrix::zeros(h.qubits())?;
        let data = rho.as_mut_slice();
        for (k, &p) in weights.iter().enumerate() {
            if p == 0.0 {
                continue;
            }
            for r in 0..dim {
                let a = v[r * dim + k] * p;
                if a.norm_sqr() == 0.0 {
                    continue;
                }
                let row = &mut data[r * dim..(r + 1) * dim];
                for (c, e) in row.iter_mut().enumerate() {
                    *e += a * v[c * dim + k].conj();
                }
            }
        }
        Ok(Self {
            temperature,
            energies,
            weights,
            energy,
            rho,
        })
    }

    /// `⟨A⟩_T = Re Tr ρ_G A` for a Pauli sum (matrix-free, see [`DensityMatrix::expectation`]).
    ///
    /// # Panics
    /// If `a` acts on more qubits than the state.
    #[track_caller]
    pub fn expectation(&self, a: &PauliSum) -> f64 {
        self.rho.expectation(a).re
    }

    /// Trace distance from `rho` to the Gibbs state ([`trace_distance`]).
    ///
    /// # Errors
    /// As [`trace_distance`].
    pub fn distance(&self, rho: &DensityMatrix) -> Result<f64, EvolveError> {
        trace_distance(rho, &self.rho)
    }
}

/// A state relaxing towards the Gibbs state, recorded at each step (a time for Davies
/// evolution, a round of collisions for the cooling protocol).
#[derive(Clone, Debug)]
pub struct Relaxation {
    /// The step coordinate: time `t` (Davies) or number of completed rounds (cooling).
    pub steps: Vec<f64>,
    /// Trace distance `D(ρ(step), ρ_G)` to the exact Gibbs state.
    pub trace_distance: Vec<f64>,
    /// `⟨H⟩` of the system at each step.
    pub energy: Vec<f64>,
    /// `observables[j][i] = Re Tr ρ(step_i) A_j`.
    pub observables: Vec<Vec<f64>>,
    /// The system's state after the last step (computational basis).
    pub final_state: DensityMatrix,
    /// The reference it was measured against.
    pub gibbs_energy: f64,
}
