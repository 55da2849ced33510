//! Thermal EP (Section IV of the paper, docs/DESIGN.md "Thermal case"): the Gibbs state of a small
//! network by dense diagonalisation and four estimates of the thermal gradient
//! `∂⟨C⟩_T/∂θ_k`, side by side.
//!
//! The Gibbs state of `H = H(β, θ, u, d)` (Eq. 16) at temperature `T > 0` is
//! `ρ = e^{−H/T}/Z`, with free energy `F = −T log Tr e^{−H/T}`. Since `∂H/∂θ_k = P_k` and
//! `∂H/∂β = C` (Eq. 18), `∂F/∂θ_k = ⟨P_k⟩_T` and `∂F/∂β = ⟨C⟩_T` hold exactly, so
//!
//! * **clamped** (Eq. 42 analogue): `(⟨P_k⟩_{T,+β} − ⟨P_k⟩_{T,−β}) / 2β → ∂²F/∂β∂θ_k
//!   = ∂⟨C⟩_T/∂θ_k` as `β → 0`, bias O(β²);
//! * **covariance** (Eq. 43, "training for free"): `−(1/T) (½⟨{P_k, C}⟩_T − ⟨P_k⟩_T⟨C⟩_T)`
//!   from the free (`β = 0`) state only. Exact only if `H` is diagonal or `[C, H] = 0`
//!   (docs/DESIGN.md, "Known slips in the paper");
//! * **Kubo–Mori**: `−(1/T) (∫₀¹ Tr(ρ^s P_k ρ^{1−s} C) ds − ⟨P_k⟩_T⟨C⟩_T)`, the exact
//!   derivative of `⟨C⟩_T = Tr(e^{−H/T} C)/Z` (Duhamel's formula for `∂e^{−H/T}`);
//! * **exact**: finite differences of `⟨C⟩_T` in `θ_k`, the oracle.
//!
//! In the eigenbasis `H|n⟩ = E_n|n⟩`, `p_n = e^{−E_n/T}/Z`, both covariances are
//! `Σ_{m,n} (P_k)_{mn} C_{nm} w_{mn} − ⟨P_k⟩⟨C⟩` and differ only in the weight: the
//! arithmetic mean `w = (p_m + p_n)/2` for the plain one, the logarithmic mean
//! `w = ∫₀¹ p_m^s p_n^{1−s} ds = (p_m − p_n)/(ln p_m − ln p_n)` for Kubo–Mori. They agree on
//! the pairs with `E_m = E_n`, hence when `C` is diagonal in the eigenbasis.
//!
//! The comparison ([`thermal_gradients`]) is dense: `N ≤ 12` qubits
//! ([`crate::operator::DENSE_MAX_QUBITS`]), cost `O(4^N)` memory and `O(8^N)` time per
//! diagonalisation. Training ([`thermal_gradient`], [`thermal_prediction`]) computes one
//! estimator at a time, dense up to 12 qubits and by typicality ([`super::typicality`]) above,
//! where the clamped and covariance estimators remain available and Kubo–Mori does not.
//! [`covariance_from_shots`] is Eq. 43 as an experiment would do it: Z-basis shots of the free
//! Gibbs state, nothing else.

use faer::Mat;

use crate::hamiltonian::ModelError;
use crate::linalg::{eigh_dense, SolverError};
use crate::measure::MeasureError;
use crate::operator::{OperatorError, XMaskOperator, DENSE_MAX_QUBITS};
use crate::pauli::PauliSum;
use crate::scalar::C64;

use super::typicality::TypicalityError;

/// Errors of thermal EP.
#[derive(Debug, thiserror::Error)]
pub enum ThermalError {
    /// The temperature must be a positive finite number.
    #[error("temperature T = {temperature} is not valid; expected a finite number > 0")]
    TemperatureNotPositive {
        /// The value given.
        temperature: f64,
    },
    /// The clamping strength must be a positive finite number.
    #[error("beta = {beta} is not a clamping strength; expected a finite number > 0")]
    BetaNotPositive {
        /// The value given.
        beta: f64,
    },
    /// Too many qubits for the dense Gibbs state.
    #[error("{qubits} qubits: the dense Gibbs state is limited to {max} qubits")]
    TooManyQubits {
        /// Qubits of the model.
        qubits: usize,
        /// The dense limit.
        max: usize,
    },
    /// The example has no targets: there is no cost to differentiate.
    #[error("the example has no targets; thermal EP needs targets d_i on the outputs")]
    NoTargets,
    /// Building `H(β, θ, u, d)` failed (boxed: model errors carry a file position).
    #[error(transparent)]
    Model(Box<ModelError>),
    /// Building the dense operator failed.
    #[error(transparent)]
    Operator(#[from] OperatorError),
    /// The dense eigensolver failed.
    #[error(transparent)]
    Solver(#[from] SolverError),
    /// The Kubo–Mori (exact) gradient needs the eigenbasis, hence the dense Gibbs state.
    #[error(
        "{qubits} qubits: the Kubo–Mori (exact) thermal gradient needs the dense Gibbs state, \
         limited to {max} qubits; use thermal_gradient: clamped or covariance (typicality)"
    )]
    KuboMoriNeedsDense {
        /// Qubits of the model.
        qubits: usize,
        /// The dense limit.
        max: usize,
    },
    /// The typicality estimate failed.
    #[error(transparent)]
    Typicality(#[from] TypicalityError),
    /// Shot sampling failed.
    #[error(transparent)]
    Measure(#[from] MeasureError),
}

impl From<ModelError> for ThermalError {
    fn from(e: ModelError) -> Self {
        Self::Model(Box::new(e))
    }
}

/// The Gibbs state `ρ = e^{−H/T}/Z` of a Hermitian Pauli sum, stored as its full
/// eigendecomposition (dense, `N ≤ 12`).
#[derive(Clone, Debug)]
pub struct GibbsState {
    /// Temperature `T > 0`.
    pub temperature: f64,
    /// Energies `E_n`, ascending.
    pub energies: Vec<f64>,
    /// Boltzmann weights `p_n = e^{−(E_n − E_0)/T} / Σ_m e^{−(E_m − E_0)/T}` (sum to 1).
    pub weights: Vec<f64>,
    /// Free energy `F = E_0 − T log Σ_n e^{−(E_n − E_0)/T}` (`= −T log Tr e^{−H/T}`).
    pub free_energy: f64,
    /// Number of qubits.
    qubits: usize,
    /// Eigenvectors as the columns of a `dim × dim` matrix.
    vectors: Mat<C64>,
}

impl GibbsState {
    /// The Gibbs state of `h` at temperature `temperature` by dense diagonalisation; weights
    /// shifted by the ground energy `E_0` so that nothing overflows at small `T`.
    /// Cost: the dense matrix (`16·4^N` bytes) twice and one `O(8^N)` eigensolve.
    ///
    /// # Errors
    /// [`ThermalError::TemperatureNotPositive`], [`ThermalError::TooManyQubits`] above
    /// [`DENSE_MAX_QUBITS`], operator and eigensolver errors.
    pub fn new(h: &PauliSum, temperature: f64) -> Result<Self, ThermalError> {
        check_temperature(temperature)?;
        check_qubits(h.qubits())?;
        let op = XMaskOperator::new(h)?;
        let dim = op.dim();
        let (energies, vecs) = eigh_dense(&op.to_dense()?, dim)?;
        let e0 = energies[0];
        let boltzmann: Vec<f64> = energies
            .iter()
            .map(|e| (-(e - e0) / temperature).exp())
            .collect();
        let z: f64 = boltzmann.iter().sum();
        let weights = boltzmann.iter().map(|b| b / z).collect();
        let vectors = Mat::<C64>::from_fn(dim, dim, |i, j| vecs[j][i]);
        Ok(Self {
            temperature,
            free_energy: e0 - temperature * z.ln(),
            energies,
            weights,
            qubits: h.qubits(),
            vectors,
        })
    }

    /// Hilbert-space dimension `2^N`.
    pub fn dim(&self) -> usize {
        self.energies.len()
    }

    /// `⟨A⟩_T = Tr(ρ A) = Σ_n p_n ⟨n|A|n⟩` (real part; exact for Hermitian `A`). Levels with
    /// `p_n = 0` (underflow) are skipped. Cost: one application of `A` per level.
    ///
    /// # Errors
    /// Operator errors of `a`.
    ///
    /// # Panics
    /// If `a` acts on a different number of qubits (a caller bug).
    #[track_caller]
    pub fn expectation(&self, a: &PauliSum) -> Result<f64, ThermalError> {
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
    pub fn eigenbasis_matrix(&self, a: &PauliSum) -> Result<Mat<C64>, ThermalError> {
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

    /// `ρ = Σ_n p_n |n⟩⟨n|` in the computational basis, a `dim × dim` faer matrix. Cost: one
    /// `O(dim³)` product.
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
    /// `⟨B A⟩`-term of the covariance for every `B` from one matrix ([`trace_pauli`](super::gradient::trace_pauli)).
    /// Cost: three `O(dim³)` products.
    ///
    /// # Errors
    /// Operator errors of `a`.
    ///
    /// # Panics
    /// If `a` acts on a different number of qubits (a caller bug).
    #[track_caller]
    pub fn response_matrix(&self, a: &PauliSum, kubo_mori: bool) -> Result<Mat<C64>, ThermalError> {
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
    /// with `L` the logarithmic mean (see [`log_mean_weight`]), from eigenbasis matrices
    /// ([`GibbsState::eigenbasis_matrix`]). `∂⟨C⟩_T/∂θ_k = −(1/T)·kubo_mori(P_k, C)`.
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

    fn operator(&self, a: &PauliSum) -> Result<XMaskOperator, ThermalError> {
        assert_eq!(
            a.qubits(),
            self.qubits,
            "operator on {} qubits, Gibbs state on {}",
            a.qubits(),
            self.qubits
        );
        Ok(XMaskOperator::new(a)?)
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

pub(super) fn check_temperature(temperature: f64) -> Result<(), ThermalError> {
    crate::ep::params::check_temperature(temperature)
        .map_err(|_| ThermalError::TemperatureNotPositive { temperature })
}

/// [`crate::ep::params::check_beta`] as a thermal error.
pub(super) fn check_beta(beta: f64) -> Result<(), ThermalError> {
    crate::ep::params::check_beta(beta).map_err(|_| ThermalError::BetaNotPositive { beta })
}

pub(super) fn check_qubits(qubits: usize) -> Result<(), ThermalError> {
    if qubits > DENSE_MAX_QUBITS {
        Err(ThermalError::TooManyQubits {
            qubits,
            max: DENSE_MAX_QUBITS,
        })
    } else {
        Ok(())
    }
}
