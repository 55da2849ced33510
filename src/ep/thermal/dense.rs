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
use serde::Serialize;

use crate::hamiltonian::{Example, Model, ModelError, ThermalGradient};
use crate::linalg::{eigh_dense, SolverError};
use crate::measure::{sample_probabilities, MeasureError};
use crate::operator::{OperatorError, XMaskOperator, DENSE_MAX_QUBITS};
use crate::pauli::{Letter, PauliString, PauliSum};
use crate::scalar::C64;

use super::typicality::{
    anticommutator_half, jackknife, typical_samples, TypicalityError, TypicalityParams,
};

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
    /// `⟨B A⟩`-term of the covariance for every `B` from one matrix ([`trace_pauli`]).
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

/// The four estimates of `∂⟨C⟩_T/∂θ_k` at the free point (`β = 0`), one entry per model
/// parameter; every list estimates the same quantity.
#[derive(Clone, Debug, Serialize)]
pub struct ThermalGradients {
    /// Parameter labels, in model order.
    pub params: Vec<String>,
    /// Oracle: five-point central finite differences of `⟨C⟩_T` in `θ_k`.
    pub exact: Vec<f64>,
    /// Clamped (Eq. 42 analogue): `(⟨P_k⟩_{T,+β} − ⟨P_k⟩_{T,−β}) / 2β`.
    pub clamped: Vec<f64>,
    /// Plain covariance (Eq. 43) with its factor: `−(1/T)(½⟨{P_k, C}⟩_T − ⟨P_k⟩_T⟨C⟩_T)`.
    pub covariance: Vec<f64>,
    /// Kubo–Mori covariance with its factor: `−(1/T)(∫₀¹ Tr(ρ^s P_k ρ^{1−s} C) ds −
    /// ⟨P_k⟩_T⟨C⟩_T)`; exact.
    pub kubo_mori: Vec<f64>,
    /// Temperature `T`.
    pub temperature: f64,
    /// Clamping strength β of the clamped estimate.
    pub beta: f64,
    /// Free-state cost `⟨C⟩_T`.
    pub cost: f64,
    /// Free-state free energy `F`.
    pub free_energy: f64,
    /// Finite-difference step used for `exact`.
    pub step: f64,
}

/// `∂⟨C⟩_T/∂θ_k` for every parameter of `model` at `theta`, for one example, four ways
/// (see [`ThermalGradients`] and the module docs): the clamped estimate from the Gibbs states
/// of `H(±β)` (Eq. 42 analogue), the plain covariance of Eq. 43 and the Kubo–Mori
/// covariance from the free Gibbs state of `H(0, θ, u, d)` (Eq. 16), and the finite-difference
/// oracle (five-point stencil, step `h = 1e-3·min(1, T)`: truncation `O((h/T)⁴)`, rounding
/// `O(ε/h)`, both below 1e-9 relative for `T ≥ 0.02`).
///
/// Cost: `2 + 4K` dense diagonalisations of `2^N × 2^N` matrices (`K` parameters) and `K`
/// `O(8^N)` products; dense, `N ≤ 12`.
///
/// # Errors
/// [`ThermalError::TemperatureNotPositive`], [`ThermalError::BetaNotPositive`],
/// [`ThermalError::TooManyQubits`], [`ThermalError::NoTargets`]; model (θ or example
/// lengths), operator and eigensolver errors.
pub fn thermal_gradients(
    model: &Model,
    theta: &[f64],
    example: &Example,
    temperature: f64,
    beta: f64,
) -> Result<ThermalGradients, ThermalError> {
    check_temperature(temperature)?;
    check_beta(beta)?;
    check_qubits(model.qubits)?;
    if example.targets.is_empty() {
        return Err(ThermalError::NoTargets);
    }
    let h0 = model.hamiltonian(theta, Some(example), 0.0)?;
    let c = model.cost_operator(&example.targets);
    let free = GibbsState::new(&h0, temperature)?;
    let c_eig = free.eigenbasis_matrix(&c)?;
    let cost = free.expectation(&c)?;

    let plus = GibbsState::new(&model.hamiltonian(theta, Some(example), beta)?, temperature)?;
    let minus = GibbsState::new(
        &model.hamiltonian(theta, Some(example), -beta)?,
        temperature,
    )?;

    let cost_at = |th: &[f64]| -> Result<f64, ThermalError> {
        GibbsState::new(&model.hamiltonian(th, Some(example), 0.0)?, temperature)?.expectation(&c)
    };
    let step = 1e-3 * temperature.min(1.0);

    let k = model.params.len();
    let mut g = ThermalGradients {
        params: model.params.iter().map(|p| p.label.clone()).collect(),
        exact: Vec::with_capacity(k),
        clamped: Vec::with_capacity(k),
        covariance: Vec::with_capacity(k),
        kubo_mori: Vec::with_capacity(k),
        temperature,
        beta,
        cost,
        free_energy: free.free_energy,
        step,
    };
    for (j, p) in model.params.iter().enumerate() {
        let mut pk = PauliSum::new(model.qubits);
        pk.add(p.pauli, 1.0);
        let p_eig = free.eigenbasis_matrix(&pk)?;
        g.covariance
            .push(-free.symmetric_covariance(&p_eig, &c_eig) / temperature);
        g.kubo_mori
            .push(-free.kubo_mori_covariance(&p_eig, &c_eig) / temperature);
        g.clamped
            .push((plus.expectation(&pk)? - minus.expectation(&pk)?) / (2.0 * beta));
        let mut th = theta.to_vec();
        let mut at = |d: f64| -> Result<f64, ThermalError> {
            th[j] = theta[j] + d;
            cost_at(&th)
        };
        let (f2, f1, m1, m2) = (at(2.0 * step)?, at(step)?, at(-step)?, at(-2.0 * step)?);
        g.exact
            .push((-f2 + 8.0 * f1 - 8.0 * m1 + m2) / (12.0 * step));
    }
    Ok(g)
}

/// `Tr(P M)` for a Pauli string and a `dim × dim` matrix: `Σ_b phase(b) M_{b, b⊕x}` from
/// `P|b⟩ = phase(b)|b ⊕ x⟩` (docs/DESIGN.md conventions). Cost `O(dim)`.
///
/// # Panics
/// If `M` is not square or `P` acts beyond its dimension (a caller bug).
#[track_caller]
pub fn trace_pauli(m: &Mat<C64>, p: PauliString) -> C64 {
    let dim = m.nrows();
    assert_eq!(m.ncols(), dim, "square matrix expected");
    assert!(
        (1usize << p.min_qubits()) <= dim.max(1),
        "Pauli string beyond the matrix"
    );
    (0..dim)
        .map(|b| {
            let (ph, b2) = p.apply_to_basis(b as u64);
            ph.to_complex() * m[(b, b2 as usize)]
        })
        .sum()
}

/// `Tr(A M) = Σ_t c_t Tr(P_t M)` for a Pauli sum ([`trace_pauli`]).
#[track_caller]
pub fn trace_sum(m: &Mat<C64>, a: &PauliSum) -> C64 {
    a.terms().iter().map(|&(p, c)| c * trace_pauli(m, p)).sum()
}

/// How thermal expectations are computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ThermalMethod {
    /// Dense up to [`DENSE_MAX_QUBITS`], typicality above.
    #[default]
    Auto,
    /// The dense Gibbs state (exact; `N ≤ 12`).
    Dense,
    /// Typicality ([`super::typicality`]): random vectors, matrix-free, any `N`.
    Typicality,
}

/// Settings of thermal EP in training: the Gibbs state at `temperature` replaces the
/// eigenstate, and `estimator` gives the gradient (Section IV).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ThermalParams {
    /// Temperature `T > 0`.
    pub temperature: f64,
    /// Gradient estimator: clamped (Eq. 42 analogue, needs β), covariance (Eq. 43, biased
    /// for quantum models) or Kubo–Mori (exact, dense only).
    pub estimator: ThermalGradient,
    /// Dense or typicality.
    pub method: ThermalMethod,
    /// Random vectors and seed when the method is typicality.
    pub typicality: TypicalityParams,
}

impl ThermalParams {
    /// Settings at `temperature` with `estimator`, automatic method, default typicality
    /// settings seeded with `seed`.
    pub fn new(temperature: f64, estimator: ThermalGradient, seed: u64) -> Self {
        Self {
            temperature,
            estimator,
            method: ThermalMethod::Auto,
            typicality: TypicalityParams {
                seed,
                ..TypicalityParams::default()
            },
        }
    }

    /// The method used for a model of `qubits` qubits (`Dense` or `Typicality`).
    ///
    /// # Errors
    /// [`ThermalError::TooManyQubits`] for `Dense` above the limit;
    /// [`ThermalError::KuboMoriNeedsDense`] for the Kubo–Mori estimator without the dense
    /// state.
    pub fn resolve(&self, qubits: usize) -> Result<ThermalMethod, ThermalError> {
        let m = match self.method {
            ThermalMethod::Auto if qubits <= DENSE_MAX_QUBITS => ThermalMethod::Dense,
            ThermalMethod::Auto => ThermalMethod::Typicality,
            ThermalMethod::Dense => {
                check_qubits(qubits)?;
                ThermalMethod::Dense
            }
            ThermalMethod::Typicality => ThermalMethod::Typicality,
        };
        if m == ThermalMethod::Typicality && self.estimator == ThermalGradient::KuboMori {
            return Err(ThermalError::KuboMoriNeedsDense {
                qubits,
                max: DENSE_MAX_QUBITS,
            });
        }
        Ok(m)
    }
}

/// One example's thermal gradient estimate.
#[derive(Clone, Debug, Serialize)]
pub struct ThermalStep {
    /// The estimate of `∂⟨C⟩_T/∂θ_k`, in parameter order.
    pub gradient: Vec<f64>,
    /// Jackknife standard errors (typicality only).
    pub std_err: Option<Vec<f64>>,
    /// Estimator used.
    pub estimator: ThermalGradient,
    /// Method used (`dense` or `typicality`).
    pub method: ThermalMethod,
}

/// The estimate of `∂⟨C⟩_T/∂θ_k` that `params.estimator` names, for one example (Section IV):
///
/// * clamped: `(⟨P_k⟩_{T,+β} − ⟨P_k⟩_{T,−β}) / 2β` (Eq. 42 analogue, bias O(β²)); with
///   typicality both Gibbs states use the same random vectors, so the difference is not
///   drowned by sampling noise of order `1/β`;
/// * covariance: `−(1/T)(½⟨{P_k, C}⟩_T − ⟨P_k⟩_T⟨C⟩_T)` (Eq. 43), exact only for diagonal
///   `H` or `[C, H] = 0`;
/// * Kubo–Mori: `−(1/T)(∫₀¹ Tr(ρ^s P_k ρ^{1−s} C) ds − ⟨P_k⟩⟨C⟩)`, exact, dense only.
///
/// Dense cost: one (covariance, Kubo–Mori) or two (clamped) `O(8^N)` diagonalisations and a
/// few `O(8^N)` products, then `O(2^N)` per parameter. Typicality cost: one or two
/// [`typical_samples`] runs.
///
/// # Errors
/// [`ThermalError::TemperatureNotPositive`], [`ThermalError::BetaNotPositive`] (clamped),
/// [`ThermalError::NoTargets`], [`ThermalError::KuboMoriNeedsDense`],
/// [`ThermalError::TooManyQubits`]; model, operator, solver and typicality errors.
pub fn thermal_gradient(
    model: &Model,
    theta: &[f64],
    example: &Example,
    params: &ThermalParams,
    beta: f64,
) -> Result<ThermalStep, ThermalError> {
    let t = params.temperature;
    check_temperature(t)?;
    if params.estimator == ThermalGradient::Clamped {
        check_beta(beta)?;
    }
    if example.targets.is_empty() {
        return Err(ThermalError::NoTargets);
    }
    let method = params.resolve(model.qubits)?;
    let c = model.cost_operator(&example.targets);
    let strings: Vec<PauliSum> = model
        .params
        .iter()
        .map(|p| {
            let mut s = PauliSum::new(model.qubits);
            s.add(p.pauli, 1.0);
            s
        })
        .collect();
    let (gradient, std_err) = match (method, params.estimator) {
        (ThermalMethod::Typicality, ThermalGradient::Clamped) => {
            let typ = &params.typicality;
            let plus = typical_samples(
                &model.hamiltonian(theta, Some(example), beta)?,
                &strings,
                t,
                typ,
                |_, _| {},
            )?;
            let minus = typical_samples(
                &model.hamiltonian(theta, Some(example), -beta)?,
                &strings,
                t,
                typ,
                |_, _| {},
            )?;
            let rows: Vec<Vec<f64>> = plus
                .rows
                .iter()
                .zip(&minus.rows)
                .map(|(p, m)| p.iter().chain(m).copied().collect())
                .collect();
            let k = strings.len();
            let (g, s) = jackknife(&rows, |tot| {
                let (zp, zm) = (tot[k], tot[2 * k + 1]);
                (0..k)
                    .map(|j| (tot[j] / zp - tot[k + 1 + j] / zm) / (2.0 * beta))
                    .collect()
            });
            (g, Some(s))
        }
        (ThermalMethod::Typicality, _) => {
            // Observables: P_k, C, ½{P_k, C}.
            let mut obs = strings.clone();
            obs.push(c.clone());
            obs.extend(
                model
                    .params
                    .iter()
                    .map(|p| anticommutator_half(p.pauli, &c)),
            );
            let h0 = model.hamiltonian(theta, Some(example), 0.0)?;
            let s = typical_samples(&h0, &obs, t, &params.typicality, |_, _| {})?;
            let k = strings.len();
            let (g, sd) = jackknife(&s.rows, |tot| {
                let z = tot[2 * k + 1];
                let cm = tot[k] / z;
                (0..k)
                    .map(|j| -(tot[k + 1 + j] / z - tot[j] / z * cm) / t)
                    .collect()
            });
            (g, Some(sd))
        }
        (_, ThermalGradient::Clamped) => {
            let mean_p = |b: f64| -> Result<Vec<f64>, ThermalError> {
                let g = GibbsState::new(&model.hamiltonian(theta, Some(example), b)?, t)?;
                let rho = g.density_matrix();
                Ok(model
                    .params
                    .iter()
                    .map(|p| trace_pauli(&rho, p.pauli).re)
                    .collect())
            };
            let (p, m) = (mean_p(beta)?, mean_p(-beta)?);
            let g = p
                .iter()
                .zip(&m)
                .map(|(a, b)| (a - b) / (2.0 * beta))
                .collect();
            (g, None)
        }
        (_, est) => {
            let free = GibbsState::new(&model.hamiltonian(theta, Some(example), 0.0)?, t)?;
            let rho = free.density_matrix();
            let g = free.response_matrix(&c, est == ThermalGradient::KuboMori)?;
            let cm = trace_sum(&rho, &c).re;
            let grad = model
                .params
                .iter()
                .map(|p| -(trace_pauli(&g, p.pauli).re - trace_pauli(&rho, p.pauli).re * cm) / t)
                .collect();
            (grad, None)
        }
    };
    Ok(ThermalStep {
        gradient,
        std_err,
        estimator: params.estimator,
        method,
    })
}

/// The thermal prediction of one example: `⟨Z_i⟩_T` on the outputs and the cost `⟨C⟩_T`
/// (Eq. 18) in the free (`β = 0`) Gibbs state of `H(0, θ, u, d)`, dense or by typicality
/// (then with the settings' random vectors; the standard errors are dropped).
///
/// # Errors
/// [`ThermalError::TemperatureNotPositive`], [`ThermalError::NoTargets`],
/// [`ThermalError::TooManyQubits`] (dense forced); model, operator, solver and typicality
/// errors.
pub fn thermal_prediction(
    model: &Model,
    theta: &[f64],
    example: &Example,
    params: &ThermalParams,
) -> Result<(Vec<f64>, f64), ThermalError> {
    check_temperature(params.temperature)?;
    if example.targets.is_empty() {
        return Err(ThermalError::NoTargets);
    }
    let h0 = model.hamiltonian(theta, Some(example), 0.0)?;
    let c = model.cost_operator(&example.targets);
    let z = |q: usize| {
        let mut s = PauliSum::new(model.qubits);
        s.add(PauliString::single(Letter::Z, q), 1.0);
        s
    };
    let dense = match params.method {
        ThermalMethod::Auto => model.qubits <= DENSE_MAX_QUBITS,
        ThermalMethod::Dense => true,
        ThermalMethod::Typicality => false,
    };
    if dense {
        let rho = GibbsState::new(&h0, params.temperature)?.density_matrix();
        let zs = model
            .outputs
            .iter()
            .map(|&q| trace_pauli(&rho, PauliString::single(Letter::Z, q)).re)
            .collect();
        return Ok((zs, trace_sum(&rho, &c).re));
    }
    let mut obs: Vec<PauliSum> = model.outputs.iter().map(|&q| z(q)).collect();
    obs.push(c);
    let s = typical_samples(&h0, &obs, params.temperature, &params.typicality, |_, _| {})?;
    let (mut v, _) = s.expectations();
    let cost = v.pop().unwrap_or(f64::NAN);
    Ok((v, cost))
}

/// Eq. 43 from shots: `−(1/T) Cov[P_k, C]` estimated from `S` computational-basis shots of
/// the free Gibbs state (probabilities `⟨b|ρ|b⟩`), for every Z-type parameter `P_k`, with `C`
/// (diagonal, Eq. 18) read from the same shots.
///
/// A shot `b` gives `P_k` the value `(−1)^{|b ∧ z_k|}` and `C` the value
/// `½ Σ_{i∈out} (z_i(b) − d_i)²`, `z_i(b) = 1 − 2 b_i`. The sample covariance (divisor
/// `S − 1`) is unbiased for `⟨P_k C⟩ − ⟨P_k⟩⟨C⟩` = the plain covariance of Eq. 43 (both
/// operators diagonal, so `½{P_k, C} = P_k C`); its standard error is the delta-method
/// `√(Var[(P − m_P)(C − m_C)] / S)`.
///
/// X- or Y-type parameters get `None`: `P_k` does not commute with `C` qubit-wise (it acts on
/// an output) or at least needs a rotated basis in which `C` is not read, and
/// `½⟨{P_k, C}⟩` of non-commuting operators is no single-basis observable. Their covariance
/// would need a separate estimate of the anticommutator terms; it is not attempted here.
///
/// Dense (`N ≤ 12`) because the diagonal of `ρ` comes from the dense Gibbs state.
///
/// # Errors
/// [`ThermalError::TemperatureNotPositive`], [`ThermalError::NoTargets`],
/// [`ThermalError::TooManyQubits`], [`MeasureError::TooFewShots`] (`S < 2`); model, operator,
/// solver and sampling errors.
pub fn covariance_from_shots(
    model: &Model,
    theta: &[f64],
    example: &Example,
    temperature: f64,
    shots: u64,
    seed: u64,
) -> Result<ShotCovariance, ThermalError> {
    check_temperature(temperature)?;
    check_qubits(model.qubits)?;
    if example.targets.is_empty() {
        return Err(ThermalError::NoTargets);
    }
    if shots < 2 {
        return Err(MeasureError::TooFewShots { shots }.into());
    }
    let h0 = model.hamiltonian(theta, Some(example), 0.0)?;
    let free = GibbsState::new(&h0, temperature)?;
    let counts = sample_probabilities(&free.diagonal(), shots, seed)?;
    let cost_of = |b: u64| -> f64 {
        model
            .outputs
            .iter()
            .zip(&example.targets)
            .map(|(&q, &d)| {
                let z = 1.0 - 2.0 * ((b >> q) & 1) as f64;
                0.5 * (z - d) * (z - d)
            })
            .sum()
    };
    let s = shots as f64;
    let outcomes = counts.outcomes();
    let mean = |f: &dyn Fn(u64) -> f64| -> f64 {
        outcomes.iter().map(|&(b, n)| n as f64 * f(b)).sum::<f64>() / s
    };
    let mc = mean(&cost_of);
    let vc = outcomes
        .iter()
        .map(|&(b, n)| n as f64 * (cost_of(b) - mc).powi(2))
        .sum::<f64>()
        / (s - 1.0);
    let (mut covariance, mut std_err) = (Vec::new(), Vec::new());
    for p in &model.params {
        if !p.pauli.is_diagonal() {
            covariance.push(None);
            std_err.push(None);
            continue;
        }
        let z = p.pauli.z();
        let v = |b: u64| -> f64 {
            if (b & z).count_ones().is_multiple_of(2) {
                1.0
            } else {
                -1.0
            }
        };
        let mp = mean(&v);
        let u = |b: u64| (v(b) - mp) * (cost_of(b) - mc);
        let sum_u: f64 = outcomes.iter().map(|&(b, n)| n as f64 * u(b)).sum();
        let cov = sum_u / (s - 1.0);
        let mu = sum_u / s;
        let var_u = outcomes
            .iter()
            .map(|&(b, n)| n as f64 * (u(b) - mu).powi(2))
            .sum::<f64>()
            / (s - 1.0);
        covariance.push(Some(-cov / temperature));
        std_err.push(Some((var_u / s).sqrt() / temperature));
    }
    Ok(ShotCovariance {
        params: model.params.iter().map(|p| p.label.clone()).collect(),
        covariance,
        std_err,
        cost: mc,
        cost_std: (vc / s).sqrt(),
        temperature,
        shots,
        seed,
    })
}

/// Eq. 43 from Z-basis shots ([`covariance_from_shots`]).
#[derive(Clone, Debug, Serialize)]
pub struct ShotCovariance {
    /// Parameter labels, in model order.
    pub params: Vec<String>,
    /// `−(1/T) Cov[P_k, C]` from the shots; `None` for parameters that are not Z-type.
    pub covariance: Vec<Option<f64>>,
    /// Standard errors (delta method); `None` where `covariance` is.
    pub std_err: Vec<Option<f64>>,
    /// `⟨C⟩_T` from the same shots.
    pub cost: f64,
    /// Its standard error.
    pub cost_std: f64,
    /// Temperature `T`.
    pub temperature: f64,
    /// Shots `S`.
    pub shots: u64,
    /// Seed of the shots.
    pub seed: u64,
}

fn check_temperature(temperature: f64) -> Result<(), ThermalError> {
    crate::ep::params::check_temperature(temperature)
        .map_err(|_| ThermalError::TemperatureNotPositive { temperature })
}

/// [`crate::ep::params::check_beta`] as a thermal error.
fn check_beta(beta: f64) -> Result<(), ThermalError> {
    crate::ep::params::check_beta(beta).map_err(|_| ThermalError::BetaNotPositive { beta })
}

fn check_qubits(qubits: usize) -> Result<(), ThermalError> {
    if qubits > DENSE_MAX_QUBITS {
        Err(ThermalError::TooManyQubits {
            qubits,
            max: DENSE_MAX_QUBITS,
        })
    } else {
        Ok(())
    }
}
