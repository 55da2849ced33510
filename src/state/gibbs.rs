//! The Gibbs state `ρ_G = e^{−H/T}/Z` (paper Section IV: the thermal state is the computation),
//! exact by dense diagonalisation ([`Gibbs`]): the one type thermalisation, cooling, Davies
//! evolution, thermal EP and thermal scans measure against. Also the trace distance and the
//! per-step record ([`Relaxation`]) of a state relaxing towards it (docs/DESIGN.md, "How states
//! are prepared").

use std::sync::OnceLock;

use faer::Mat;

use super::density::{check_density_alloc, DensityMatrix};
use super::StateError;
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
/// [`StateError::QubitMismatch`] if the qubit counts differ, [`StateError::TooManyQubits`]
/// above 12 qubits, [`StateError::Solver`] if the eigensolver fails.
pub fn trace_distance(rho: &DensityMatrix, sigma: &DensityMatrix) -> Result<f64, StateError> {
    if rho.qubits() != sigma.qubits() {
        return Err(StateError::QubitMismatch {
            what: "second state of the trace distance".into(),
            expected: rho.qubits(),
            found: sigma.qubits(),
        });
    }
    let n = rho.qubits();
    if n > DENSE_MAX_QUBITS {
        return Err(StateError::TooManyQubits {
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
pub(crate) fn half_trace_norm(m: &[C64], dim: usize) -> Result<f64, StateError> {
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
pub(crate) fn check_temperature(temperature: f64) -> Result<(), StateError> {
    if temperature > 0.0 && temperature.is_finite() {
        Ok(())
    } else {
        Err(StateError::TemperatureNotPositive { temperature })
    }
}

/// The spectrum `H = Σ_n E_n |n⟩⟨n|` of a Hermitian Pauli sum by a dense eigensolve:
/// energies ascending and eigenvectors as columns of a row-major `dim × dim` matrix
/// (`v[i·dim + n] = ⟨i|n⟩`).
pub(crate) fn dense_eigen(
    h: &PauliSum,
    max: usize,
    method: &'static str,
) -> Result<(Vec<f64>, Vec<C64>), StateError> {
    let n = h.qubits();
    if n > max {
        return Err(StateError::TooManyQubits {
            method,
            qubits: n,
            max,
        });
    }
    if let Some((p, imag)) = h.worst_imaginary() {
        if imag.abs() > 1e-12 {
            return Err(StateError::NonHermitianHamiltonian {
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

/// The Gibbs state `ρ_G = e^{−H/T}/Z = Σ_n p_n |n⟩⟨n|` of a Hermitian Pauli sum at temperature
/// `T > 0`, stored as its full eigendecomposition (dense: `N ≤ 12` qubits): energies `E_n`,
/// Boltzmann weights `p_n = e^{−(E_n − E_0)/T} / Σ_m e^{−(E_m − E_0)/T}` (shifted by the ground
/// energy so that nothing overflows at small `T`), the energy `⟨H⟩_T`, the free energy
/// `F = −T log Tr e^{−H/T}` and the eigenvectors.
///
/// What it offers, and to whom:
/// * the density matrix in the computational basis: [`Gibbs::rho`] (a [`DensityMatrix`],
///   built on first use and kept) or [`Gibbs::density_matrix`] (a faer matrix, `V P V†`);
/// * expectations: [`Gibbs::expectation`] (`Re Tr ρ_G A`, matrix-free on `ρ_G`) and
///   [`Gibbs::expectation_levels`] (`Σ_n p_n ⟨n|A|n⟩`, no density matrix needed);
/// * the eigenbasis for thermal EP: [`Gibbs::eigenbasis_matrix`], [`Gibbs::response_matrix`],
///   [`Gibbs::kubo_mori_covariance`], [`Gibbs::symmetric_covariance`];
/// * [`Gibbs::diagonal`], the distribution of Z-basis shots;
/// * [`Gibbs::distance`], the trace distance of a state to `ρ_G`.
///
/// Typicality-sampled Gibbs expectations (beyond the dense limit) are estimated without
/// forming the state, by `crate::ep::typicality`.
#[derive(Clone, Debug)]
pub struct Gibbs {
    /// Temperature `T > 0`.
    pub temperature: f64,
    /// Energies `E_n`, ascending.
    pub energies: Vec<f64>,
    /// Boltzmann weights `p_n` (sum to 1).
    pub weights: Vec<f64>,
    /// `⟨H⟩_T = Σ_n p_n E_n`.
    pub energy: f64,
    /// Free energy `F = E_0 − T log Σ_n e^{−(E_n − E_0)/T}` (`= −T log Tr e^{−H/T}`).
    pub free_energy: f64,
    /// Number of qubits.
    qubits: usize,
    /// Eigenvectors as the columns of a `dim × dim` matrix (`vectors[(i, n)] = ⟨i|n⟩`).
    vectors: Mat<C64>,
    /// `ρ_G` in the computational basis, formed on first use.
    rho: OnceLock<DensityMatrix>,
}

/// The Gibbs state under its former name (thermalisation and cooling call it so).
pub type GibbsDensity = Gibbs;

impl Gibbs {
    /// Checks, before any work, that the dense Gibbs state of `n` qubits fits its limit
    /// [`DENSE_MAX_QUBITS`].
    ///
    /// # Errors
    /// [`StateError::TooManyQubits`] naming `n` and the limit.
    pub fn check_size(n: usize) -> Result<(), StateError> {
        if n > DENSE_MAX_QUBITS {
            return Err(StateError::TooManyQubits {
                method: "Gibbs state",
                qubits: n,
                max: DENSE_MAX_QUBITS,
            });
        }
        Ok(())
    }

    /// Diagonalises `h` densely and weighs its levels at temperature `temperature`.
    /// Cost: three `16·4^N`-byte matrices (checked first) and an `O(8^N)` eigensolve;
    /// [`Gibbs::rho`] adds one more matrix and an `O(8^N)` sum when first called.
    ///
    /// # Errors
    /// [`StateError::TemperatureNotPositive`], [`StateError::TooManyQubits`] above 12 qubits,
    /// [`StateError::NonHermitianHamiltonian`], memory, operator and eigensolver errors.
    ///
    /// # Examples
    /// ```
    /// use qep::pauli::{PauliString, PauliSum};
    /// use qep::state::Gibbs;
    ///
    /// // H = Z on one qubit at T = 1: p_0 / p_1 = e^{-(−1 − 1)/1} = e².
    /// let mut h = PauliSum::new(1);
    /// h.add(PauliString::parse("Z0").unwrap(), 1.0);
    /// let g = Gibbs::new(&h, 1.0).unwrap();
    /// assert_eq!(g.energies, vec![-1.0, 1.0]);
    /// assert!((g.weights[0] / g.weights[1] - 2f64.exp()).abs() < 1e-12);
    /// assert!((g.energy + (1f64).tanh()).abs() < 1e-12);
    /// assert!((g.expectation(&h) - g.energy).abs() < 1e-12);
    /// ```
    pub fn new(h: &PauliSum, temperature: f64) -> Result<Self, StateError> {
        check_temperature(temperature)?;
        let (energies, v) = dense_eigen(h, DENSE_MAX_QUBITS, "Gibbs state")?;
        let dim = energies.len();
        let weights = boltzmann(&energies, temperature);
        let energy = weights.iter().zip(&energies).map(|(p, e)| p * e).sum();
        let e0 = energies.first().copied().unwrap_or(0.0);
        let z: f64 = energies
            .iter()
            .map(|e| (-(e - e0) / temperature).exp())
            .sum();
        let vectors = Mat::<C64>::from_fn(dim, dim, |i, n| v[i * dim + n]);
        Ok(Self {
            temperature,
            energies,
            weights,
            energy,
            free_energy: e0 - temperature * z.ln(),
            qubits: h.qubits(),
            vectors,
            rho: OnceLock::new(),
        })
    }

    /// Number of qubits.
    pub fn qubits(&self) -> usize {
        self.qubits
    }

    /// Hilbert-space dimension `2^N`.
    pub fn dim(&self) -> usize {
        self.energies.len()
    }

    /// The eigenvector `|n⟩` of level `n` (computational-basis amplitudes).
    ///
    /// # Panics
    /// If `n ≥ dim` (a caller bug).
    #[track_caller]
    pub fn eigenvector(&self, n: usize) -> Vec<C64> {
        (0..self.dim()).map(|i| self.vectors[(i, n)]).collect()
    }

    /// `ρ_G = Σ_n p_n |n⟩⟨n|` as a [`DensityMatrix`], formed on the first call (one
    /// `16·4^N`-byte matrix, covered by the check in [`Gibbs::new`], and an `O(8^N)` sum
    /// skipping levels of zero weight) and kept.
    pub fn rho(&self) -> &DensityMatrix {
        self.rho.get_or_init(|| {
            let dim = self.dim();
            let mut data = vec![C64::new(0.0, 0.0); dim * dim];
            for (k, &p) in self.weights.iter().enumerate() {
                if p == 0.0 {
                    continue;
                }
                for r in 0..dim {
                    let a = self.vectors[(r, k)] * p;
                    if a.norm_sqr() == 0.0 {
                        continue;
                    }
                    let row = &mut data[r * dim..(r + 1) * dim];
                    for (c, e) in row.iter_mut().enumerate() {
                        *e += a * self.vectors[(c, k)].conj();
                    }
                }
            }
            DensityMatrix::from_entries(self.qubits, data)
        })
    }

    /// `⟨A⟩_T = Re Tr ρ_G A` for a Pauli sum (matrix-free on [`Gibbs::rho`], see
    /// [`DensityMatrix::expectation`]).
    ///
    /// # Panics
    /// If `a` acts on more qubits than the state.
    #[track_caller]
    pub fn expectation(&self, a: &PauliSum) -> f64 {
        self.rho().expectation(a).re
    }

    /// `⟨A⟩_T = Σ_n p_n ⟨n|A|n⟩` from the levels (real part; exact for Hermitian `A`), without
    /// forming `ρ_G`. Levels with `p_n = 0` (underflow) are skipped. Cost: one application of
    /// `A` per level.
    ///
    /// # Errors
    /// Operator errors of `a`.
    ///
    /// # Panics
    /// If `a` acts on a different number of qubits (a caller bug).
    #[track_caller]
    pub fn expectation_levels(&self, a: &PauliSum) -> Result<f64, StateError> {
        let op = self.operator(a)?;
        let dim = self.dim();
        let mut col = vec![C64::new(0.0, 0.0); dim];
        let mut out = vec![C64::new(0.0, 0.0); dim];
        let mut sum = 0.0;
        for (n, &p) in self.weights.iter().enumerate() {
            if p == 0.0 {
                continue;
            }
            for (i, c) in col.iter_mut().enumerate() {
                *c = self.vectors[(i, n)];
            }
            op.apply_into(&col, &mut out);
            let an: f64 = col.iter().zip(&out).map(|(v, w)| (v.conj() * w).re).sum();
            sum += p * an;
        }
        Ok(sum)
    }

    /// The matrix `A_{mn} = ⟨m|A|n⟩` of `a` in the eigenbasis, as a `dim × dim` faer matrix.
    /// Cost: `dim` applications of `A` and one `O(dim³)` product.
    ///
    /// # Errors
    /// Operator errors of `a`.
    ///
    /// # Panics
    /// If `a` acts on a different number of qubits (a caller bug).
    #[track_caller]
    pub fn eigenbasis_matrix(&self, a: &PauliSum) -> Result<Mat<C64>, StateError> {
        let op = self.operator(a)?;
        let dim = self.dim();
        let mut col = vec![C64::new(0.0, 0.0); dim];
        let mut out = vec![C64::new(0.0, 0.0); dim];
        let mut av = Mat::<C64>::zeros(dim, dim);
        for n in 0..dim {
            for (i, c) in col.iter_mut().enumerate() {
                *c = self.vectors[(i, n)];
            }
            op.apply_into(&col, &mut out);
            for (i, o) in out.iter().enumerate() {
                av[(i, n)] = *o;
            }
        }
        Ok(self.vectors.adjoint() * &av)
    }

    /// `ρ = V P V†` in the computational basis as a `dim × dim` faer matrix (one `O(dim³)`
    /// product; agrees with [`Gibbs::rho`] to rounding).
    pub fn density_matrix(&self) -> Mat<C64> {
        let dim = self.dim();
        let scaled = Mat::<C64>::from_fn(dim, dim, |i, n| self.vectors[(i, n)] * self.weights[n]);
        &scaled * self.vectors.adjoint()
    }

    /// The diagonal of `ρ` in the computational basis, `⟨b|ρ|b⟩ = Σ_n p_n |⟨b|n⟩|²`: the
    /// distribution of Z-basis shots. Cost `O(dim²)`.
    pub fn diagonal(&self) -> Vec<f64> {
        let dim = self.dim();
        (0..dim)
            .map(|b| {
                (0..dim)
                    .map(|n| self.weights[n] * self.vectors[(b, n)].norm_sqr())
                    .sum()
            })
            .collect()
    }

    /// The response matrix `G = V (A_eig ∘ W) V†` in the computational basis, with `A_eig` the
    /// matrix of `a` in the eigenbasis and `W_{mn}` the logarithmic mean of `p_m, p_n`
    /// (`kubo_mori`) or their arithmetic mean. Then for any `B`,
    /// `Tr(B G) = Σ_{m,n} B_{mn} A_{nm} W_{mn}`: the Kubo–Mori resp. symmetrised
    /// `⟨B A⟩`-term of the covariance for every `B` from one matrix. Cost: three `O(dim³)`
    /// products.
    ///
    /// # Errors
    /// Operator errors of `a`.
    ///
    /// # Panics
    /// If `a` acts on a different number of qubits (a caller bug).
    #[track_caller]
    pub fn response_matrix(&self, a: &PauliSum, kubo_mori: bool) -> Result<Mat<C64>, StateError> {
        let a_eig = self.eigenbasis_matrix(a)?;
        let dim = self.dim();
        let b = Mat::<C64>::from_fn(dim, dim, |n, m| {
            let w = if kubo_mori {
                self.log_mean(m, n)
            } else {
                0.5 * (self.weights[m] + self.weights[n])
            };
            a_eig[(n, m)] * w
        });
        Ok(&self.vectors * &b * self.vectors.adjoint())
    }

    /// The Kubo–Mori (Duhamel) covariance
    /// `∫₀¹ Tr(ρ^s A ρ^{1−s} B) ds − ⟨A⟩⟨B⟩ = Σ_{m,n} A_{mn} B_{nm} L(p_m, p_n) − ⟨A⟩⟨B⟩`
    /// with `L` the logarithmic mean ([`log_mean_weight`]), from eigenbasis matrices
    /// ([`Gibbs::eigenbasis_matrix`]). `∂⟨C⟩_T/∂θ_k = −(1/T)·kubo_mori(P_k, C)`.
    ///
    /// # Panics
    /// If the matrices are not `dim × dim` (a caller bug).
    #[track_caller]
    pub fn kubo_mori_covariance(&self, a: &Mat<C64>, b: &Mat<C64>) -> f64 {
        self.weighted_covariance(a, b, |m, n| self.log_mean(m, n))
    }

    /// The plain symmetrised covariance `½⟨{A, B}⟩ − ⟨A⟩⟨B⟩
    /// = Σ_{m,n} A_{mn} B_{nm} (p_m + p_n)/2 − ⟨A⟩⟨B⟩` (Eq. 43 uses it for `A = P_k`,
    /// `B = C`), from eigenbasis matrices.
    ///
    /// # Panics
    /// If the matrices are not `dim × dim` (a caller bug).
    #[track_caller]
    pub fn symmetric_covariance(&self, a: &Mat<C64>, b: &Mat<C64>) -> f64 {
        self.weighted_covariance(a, b, |m, n| 0.5 * (self.weights[m] + self.weights[n]))
    }

    /// `Re Σ_{m,n} A_{mn} B_{nm} w(m, n) − ⟨A⟩⟨B⟩`, `⟨A⟩ = Σ p_m A_{mm}`.
    #[track_caller]
    fn weighted_covariance(
        &self,
        a: &Mat<C64>,
        b: &Mat<C64>,
        w: impl Fn(usize, usize) -> f64,
    ) -> f64 {
        let dim = self.dim();
        assert!(
            a.nrows() == dim && a.ncols() == dim && b.nrows() == dim && b.ncols() == dim,
            "eigenbasis matrices must be {dim} × {dim}"
        );
        let mut s = 0.0;
        for m in 0..dim {
            for n in 0..dim {
                s += (a[(m, n)] * b[(n, m)]).re * w(m, n);
            }
        }
        let mean = |x: &Mat<C64>| -> f64 { (0..dim).map(|m| self.weights[m] * x[(m, m)].re).sum() };
        s - mean(a) * mean(b)
    }

    /// `L(p_m, p_n) = ∫₀¹ p_m^s p_n^{1−s} ds`, see [`log_mean_weight`].
    fn log_mean(&self, m: usize, n: usize) -> f64 {
        log_mean_weight(
            self.energies[m],
            self.energies[n],
            self.weights[m],
            self.weights[n],
            self.temperature,
        )
    }

    #[track_caller]
    fn operator(&self, a: &PauliSum) -> Result<XMaskOperator, StateError> {
        assert_eq!(
            a.qubits(),
            self.qubits,
            "operator on {} qubits, Gibbs state on {}",
            a.qubits(),
            self.qubits
        );
        Ok(XMaskOperator::new(a)?)
    }

    /// Trace distance from `rho` to the Gibbs state ([`trace_distance`]).
    ///
    /// # Errors
    /// As [`trace_distance`].
    pub fn distance(&self, rho: &DensityMatrix) -> Result<f64, StateError> {
        trace_distance(rho, self.rho())
    }
}

/// The Kubo–Mori weight of a pair of levels, `∫₀¹ p_m^s p_n^{1−s} ds` with
/// `p = e^{−E/T}/Z`: the logarithmic mean `(p_m − p_n)/(ln p_m − ln p_n)`, where
/// `ln p_m − ln p_n = −(E_m − E_n)/T`. Evaluated from the larger weight `p_a` (lower energy)
/// as `p_a (1 − e^{−y})/y` with `y = |E_m − E_n|/T ≥ 0` (`expm1`, no cancellation, no
/// overflow), and by its series `p_a (1 − y/2 + y²/6)` for `y < 1e-6` (`p_a` at `y = 0`).
pub fn log_mean_weight(e_m: f64, e_n: f64, p_m: f64, p_n: f64, temperature: f64) -> f64 {
    let (p_a, y) = if e_m <= e_n {
        (p_m, (e_n - e_m) / temperature)
    } else {
        (p_n, (e_m - e_n) / temperature)
    };
    if y < 1e-6 {
        p_a * (1.0 - y / 2.0 + y * y / 6.0)
    } else {
        p_a * (-(-y).exp_m1() / y)
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
