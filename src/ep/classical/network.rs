//! Classical equilibrium propagation, the limit case of quantum EP (Section II of Massar &
//! Mognetti, arXiv:2405.08467; docs/DESIGN.md, "Classical EP (Section II) is the limit case").
//!
//! # The network
//!
//! One real unit `z_i` per qubit of a [`Model`], read through an activation `s_i = ρ(z_i)`.
//! The energy (Eq. 1) is
//!
//! ```text
//! f(z) = Σ_i z_i²/2 + E_H(ρ(z)) + (α/2) Σ_{i∈I_in} (z_i − u_i)² + β · ½ Σ_{i∈I_out} (z_i − d_i)²
//! ```
//!
//! where `E_H(s)` is the model's Hamiltonian `H(0, θ)` *without* input fields — `H_fixed` plus
//! `Σ_k θ_k P_k` — evaluated with every Pauli `Z_i` replaced by `s_i`: a term `c Z_a Z_b …`
//! contributes `c s_a s_b …` (the identity contributes `c`). Terms with an X or Y letter have no
//! classical meaning and are rejected ([`ClassicalError::NotDiagonal`]). The inputs enter by the
//! stiff clamp `α` (default 10), not by fields; the cost is `C(z) = ½ Σ_{i∈I_out} (z_i − d_i)²`,
//! so `∂f/∂β = C`. `model.kind` is not checked: any model whose terms are all Z-type defines a
//! classical network, so a quantum model can be compared with its classical limit directly.
//!
//! **Signs.** `∂f/∂θ_k = Π_{i∈P_k} ρ(z_i)` and, exactly as in the quantum Eq. 27–28,
//! `dC/dθ_k = ∂/∂β (∂f/∂θ_k)` at the free minimum, so the EP estimate carries **no** minus sign:
//! `g_k = (Π ρ(z⁺) − Π ρ(z⁻)) / 2β → +dC/dθ_k`. The paper's Eq. 1 writes the couplings as
//! `−W_ij ρ_i ρ_j` and the biases as `−b_i ρ_i`, so a term `θ_k Z_a Z_b` is `W_ab = −θ_k` (and
//! `θ_k Z_a` is `b_a = −θ_k`); that is why the classical Eq. 13/14 read
//! `∂C/∂W_ij ≈ −(ρ_iρ_j|₊ − ρ_iρ_j|₋)/2β` (docs/DESIGN.md, "Known slips in the paper").
//!
//! # Activations
//!
//! [`Activation::Tanh`] (default) is smooth. [`Activation::HardSigmoid`] `ρ(z) = clamp(z, −1, 1)`
//! has `ρ'' = 0` almost everywhere and a `ρ'` that jumps from 1 to 0 at `z = ±1`: `f` has kinks
//! there, a minimum may sit exactly on one (a saturated unit, `s_i = ±1`), and [`gradient_z`]
//! reports the one-sided derivative along which `f` decreases, or 0 when both one-sided
//! derivatives point back to the kink (the unit is *pinned*; its `ρ'` counts as 0 in the Hessian,
//! which is what implicit differentiation needs: a pinned unit stays pinned under a small change
//! of `θ`).
//!
//! # Phases and gradients
//!
//! * Relaxation (Eq. 3) is the gradient flow `dz/dt = −∂f/∂z` to a minimum of `f`.
//!   [`ClassicalNet::relax`] gets there faster: damped Newton with the Hessian, a step capped
//!   at `|Δz_i| ≤ 1` and a backtracking (Armijo) line search; where the Hessian is not positive
//!   definite, a shifted (Levenberg) Newton step, then a direction of negative curvature, then
//!   the gradient step. Every accepted step lowers `f`, as the flow does, and a small step cap
//!   keeps it near the flow's basin (not a guarantee: a Newton step can cross a low ridge that
//!   the flow would go around). It stops when `‖∂f/∂z‖ ≤ tol` at a point whose Hessian has no
//!   negative pivot; anything else is an error.
//! * Nudging (Eq. 13/14): the clamped phases `±β` are relaxed from the free minimum, so they
//!   follow it; [`ClassicalNet::ep_gradient`] returns the symmetric estimate (bias O(β²)) or the
//!   one-sided `(Π ρ(z^β) − Π ρ(z̄))/β` (bias O(β)).
//! * The exact gradient by implicit differentiation (Eq. 49): at the free minimum `z̄`,
//!   `dz̄/dθ_k = −H⁻¹ ∂²f/∂z∂θ_k`, so `dC/dθ_k = −λ·∂²f/∂z∂θ_k` with the *adjoint* `H λ = ∂C/∂z`:
//!   one solve for every parameter ([`ClassicalNet::implicit_gradient`]).
//! * The Hessian (App. A1, with the `h''(z) = 1` the paper omits on input and output nodes):
//!   `H_ii = 1 + α[i∈I_in] + β[i∈I_out] + ρ''(z_i) ∂E_H/∂s_i` and, for `i ≠ j`,
//!   `H_ij = ρ'(z_i) ρ'(z_j) ∂²E_H/∂s_i∂s_j`; a pair term has `∂²E_H/∂s_a∂s_b = θ_k = −W_ab`,
//!   a three-body term `c s_a s_b s_c` gives `c s_c` to `(a, b)` ([`ClassicalNet::hessian`]).
//!
//! # The Ising limit
//!
//! A quantum model with only Z-type terms is diagonal: its eigenstates are basis states, spin
//! `s_i = +1` on bit `i = 0` (`Z|0⟩ = +|0⟩`). [`ising_ground_state`] enumerates all `2^N` spin
//! configurations of `H(β, θ, u, d)` (Eq. 16),
//! `E(s) = H_fixed(s) + Σ θ_k P_k(s) + Σ_{i∈I_in} u_i s_i + β ½ Σ_{i∈I_out} (s_i − d_i)²`, and
//! [`ising_ep_gradient`] is Eq. 28 on those states, `(P_k(s⁺) − P_k(s⁻))/2β`: quantum EP on such a
//! model must give exactly this.
//!
//! [`gradient_z`]: ClassicalNet::gradient_z

use serde::Serialize;

use crate::hamiltonian::{Example, Model};
use crate::pauli::PauliString;

/// Largest `N` [`ising_ground_state`] enumerates (`2^20` configurations).
pub const MAX_ISING_SPINS: usize = 20;

/// Energy gaps below this make an Ising ground state degenerate (an error).
pub const ISING_GAP_THRESHOLD: f64 = 1e-8;

/// Largest change of one unit in one relaxation step (limits how far a step can jump from the
/// basin it starts in).
const MAX_STEP: f64 = 1.0;

/// Units of the hard sigmoid this close to a kink are put on it.
const KINK_SNAP: f64 = 1e-12;

/// Errors of classical EP.
#[derive(Debug, thiserror::Error)]
pub enum ClassicalError {
    /// A term with an X or Y letter.
    #[error("{place} `{term}` has an X or Y letter: classical models admit only Z-type terms")]
    NotDiagonal {
        /// The Pauli string, canonical form.
        term: String,
        /// Where it is (`fixed term`, `param 3`).
        place: String,
    },
    /// A setting out of range.
    #[error("{name} = {value} is not valid; expected {expected}")]
    BadParam {
        /// The setting.
        name: &'static str,
        /// The value given.
        value: f64,
        /// What is accepted.
        expected: &'static str,
    },
    /// `θ` does not have one value per parameter.
    #[error("theta has {got} values; the model has {expected} parameters")]
    ThetaLength {
        /// `theta.len()`.
        got: usize,
        /// Number of parameters.
        expected: usize,
    },
    /// The example does not have one input per input unit.
    #[error("the example has {got} inputs; the model has {expected} input units")]
    InputsLength {
        /// Inputs given.
        got: usize,
        /// Input units.
        expected: usize,
    },
    /// The example does not have one target per output unit.
    #[error("the example has {got} targets; the model has {expected} output units")]
    TargetsLength {
        /// Targets given.
        got: usize,
        /// Output units.
        expected: usize,
    },
    /// A clamp or a cost without targets.
    #[error(
        "the example has no targets; a clamp (β ≠ 0) or a cost needs targets d_i on the outputs"
    )]
    NoTargets,
    /// EP needs `β > 0`.
    #[error("beta = {beta} is not a clamping strength; expected a finite number > 0")]
    BetaNotPositive {
        /// The value given.
        beta: f64,
    },
    /// `β ≤ −1` makes `f` unbounded below on the outputs.
    #[error("beta = {beta}: the energy f has no minimum (output curvature 1 + β ≤ 0); expected a finite β > −1")]
    BetaUnbounded {
        /// The value given.
        beta: f64,
    },
    /// The relaxation did not reach `‖∂f/∂z‖ ≤ tol`.
    #[error("relaxation at β = {beta} did not converge ({reason}): ‖∂f/∂z‖ = {grad_norm:.3e} > tol {tol:.2e} after {iterations} iterations, f = {energy}")]
    NotConverged {
        /// Clamping strength of the phase.
        beta: f64,
        /// Steps taken.
        iterations: usize,
        /// Final `‖∂f/∂z‖`.
        grad_norm: f64,
        /// Requested tolerance.
        tol: f64,
        /// Final energy.
        energy: f64,
        /// `iteration budget exhausted` or `no direction gives a decrease`.
        reason: &'static str,
    },
    /// The Hessian at the relaxed state is not positive definite.
    #[error("the Hessian of f at the relaxed state is not positive definite (Cholesky pivot {pivot:.3e} at unit {unit}): not a strict minimum, so dz/dθ is ill-defined")]
    NotMinimum {
        /// Unit at which the Cholesky factorisation failed.
        unit: usize,
        /// The failing pivot.
        pivot: f64,
    },
    /// Too many spins to enumerate.
    #[error("{qubits} spins: exhaustive enumeration is limited to {limit}")]
    TooManySpins {
        /// Spins of the model.
        qubits: usize,
        /// [`MAX_ISING_SPINS`].
        limit: usize,
    },
    /// The Ising ground state is degenerate.
    #[error("the Ising ground state at β = {beta} is degenerate: gap {gap:.2e} < {threshold:.2e} between {first} and {second} (bits, qubit 0 rightmost); EP is ill-defined at a degeneracy")]
    Degenerate {
        /// Clamping strength.
        beta: f64,
        /// `E_1 − E_0`.
        gap: f64,
        /// [`ISING_GAP_THRESHOLD`].
        threshold: f64,
        /// Lowest configuration found.
        first: String,
        /// Its degenerate partner.
        second: String,
    },
}

/// The activation `ρ` of the units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Activation {
    /// `ρ(z) = tanh z`, smooth.
    #[default]
    Tanh,
    /// `ρ(z) = clamp(z, −1, 1)`: `ρ'' = 0` almost everywhere, `ρ'` jumps from 1 to 0 at `±1`.
    HardSigmoid,
}

impl Activation {
    /// `ρ(z)`.
    pub fn rho(self, z: f64) -> f64 {
        match self {
            Activation::Tanh => z.tanh(),
            Activation::HardSigmoid => z.clamp(-1.0, 1.0),
        }
    }

    /// `ρ'(z)`. For the hard sigmoid this is 1 on `[−1, 1]` (the inner value at the kinks; the
    /// network's gradient picks the one-sided value, see the module docs) and 0 outside.
    pub fn rho_prime(self, z: f64) -> f64 {
        match self {
            Activation::Tanh => {
                let t = z.tanh();
                1.0 - t * t
            }
            Activation::HardSigmoid => {
                if z.abs() <= 1.0 {
                    1.0
                } else {
                    0.0
                }
            }
        }
    }

    /// `ρ''(z)` (0 for the hard sigmoid, away from its kinks).
    pub fn rho_second(self, z: f64) -> f64 {
        match self {
            Activation::Tanh => {
                let t = z.tanh();
                -2.0 * t * (1.0 - t * t)
            }
            Activation::HardSigmoid => 0.0,
        }
    }

    fn has_kinks(self) -> bool {
        matches!(self, Activation::HardSigmoid)
    }
}

/// Settings of a classical network.
#[derive(Clone, Debug, Serialize)]
pub struct ClassicalParams {
    /// Input clamp `α ≥ 0` in `(α/2) Σ_in (z_i − u_i)²`.
    pub alpha: f64,
    /// The activation `ρ`.
    pub activation: Activation,
    /// Relaxation stops when `‖∂f/∂z‖ ≤ tol` (Euclidean norm).
    pub tol: f64,
    /// Budget of relaxation steps.
    pub max_iterations: usize,
}

impl Default for ClassicalParams {
    fn default() -> Self {
        Self {
            alpha: 10.0,
            activation: Activation::Tanh,
            tol: 1e-10,
            max_iterations: 500,
        }
    }
}

/// A relaxed state (a minimum of `f`) with its evidence.
#[derive(Clone, Debug, Serialize)]
pub struct Relaxed {
    /// The units `z`.
    pub z: Vec<f64>,
    /// `f(z)`.
    pub energy: f64,
    /// `‖∂f/∂z‖ ≤ tol`.
    pub grad_norm: f64,
    /// Steps taken.
    pub iterations: usize,
}

/// The EP estimate of `dC/dθ_k` (Eq. 14) with the states it came from.
#[derive(Clone, Debug, Serialize)]
pub struct ClassicalGradient {
    /// Parameter labels, in model order.
    pub params: Vec<String>,
    /// `(Π ρ(z⁺) − Π ρ(z⁻))/2β`, or `(Π ρ(z^β) − Π ρ(z̄))/β` one-sided.
    pub gradient: Vec<f64>,
    /// β used.
    pub beta: f64,
    /// Whether the one-sided estimate was used.
    pub one_sided: bool,
    /// Free-phase cost `C(z̄)`.
    pub cost: f64,
    /// Free-phase `z̄` on the outputs (the prediction).
    pub z_outputs: Vec<f64>,
    /// The free phase.
    pub free: Relaxed,
    /// The clamped phases: `+β`, then `−β` unless one-sided.
    pub clamped: Vec<Relaxed>,
}

/// The exact `dC/dθ_k` at the free minimum (Eq. 49) with its evidence.
#[derive(Clone, Debug, Serialize)]
pub struct ImplicitGradient {
    /// Parameter labels, in model order.
    pub params: Vec<String>,
    /// `dC/dθ_k`.
    pub gradient: Vec<f64>,
    /// `C(z̄)`.
    pub cost: f64,
    /// `z̄` on the outputs.
    pub z_outputs: Vec<f64>,
    /// The free phase.
    pub free: Relaxed,
    /// `‖Hλ − ∂C/∂z‖ / ‖∂C/∂z‖` of the adjoint solve (0 when `∂C/∂z = 0`).
    pub residual: f64,
}

/// The free phase of one example: the prediction and its cost.
#[derive(Clone, Debug, Serialize)]
pub struct Prediction {
    /// `z̄` on the outputs, in `model.outputs` order.
    pub z_outputs: Vec<f64>,
    /// `C(z̄)` when the example has targets.
    pub cost: Option<f64>,
    /// The relaxed state.
    pub state: Relaxed,
}

/// Where a term's coefficient comes from.
#[derive(Clone, Copy, Debug)]
enum Coef {
    Fixed(f64),
    Param(usize),
}

/// One term `c Π_{i∈sites} s_i` of `E_H`.
#[derive(Clone, Debug)]
struct Term {
    sites: Vec<usize>,
    coef: Coef,
}

impl Term {
    fn coef(&self, theta: &[f64]) -> f64 {
        match self.coef {
            Coef::Fixed(c) => c,
            Coef::Param(k) => theta[k],
        }
    }
}

/// The quadratic clamps `Σ_i (w_i/2)(z_i − c_i)²` of one phase: `w = α, c = u` on inputs,
/// `w = β, c = d` on outputs.
struct Clamp {
    w: Vec<f64>,
    c: Vec<f64>,
}

/// How a unit of the hard sigmoid sits relative to a kink.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    /// Not on a kink (always, for tanh).
    Free,
    /// On a kink, `f` decreases upwards.
    Up,
    /// On a kink, `f` decreases downwards.
    Down,
    /// On a kink that is a minimum along the unit.
    Pinned,
}

/// `s`, `ρ'`, `ρ''`, `∂E_H/∂s` and `∂f/∂z` at one point.
#[derive(Clone)]
struct Local {
    s: Vec<f64>,
    dr: Vec<f64>,
    ddr: Vec<f64>,
    field: Vec<f64>,
    grad: Vec<f64>,
    side: Vec<Side>,
}

/// A classical EP network compiled from a [`Model`]: every term as a list of units and a
/// coefficient (fixed, or `θ_k` passed per call). See the [module docs](self).
#[derive(Clone, Debug)]
pub struct ClassicalNet {
    qubits: usize,
    inputs: Vec<usize>,
    outputs: Vec<usize>,
    labels: Vec<String>,
    terms: Vec<Term>,
    /// Index in `terms` of parameter `k`'s term.
    param_terms: Vec<usize>,
    params: ClassicalParams,
}

impl ClassicalNet {
    /// Compiles `model` into a classical network: `H_fixed` and the parameters `P_k` become
    /// lists of units. Allocates `O(terms · weight)`.
    ///
    /// # Errors
    /// [`ClassicalError::NotDiagonal`] for a term with an X or Y letter (naming it),
    /// [`ClassicalError::BadParam`] for `α < 0`, `tol ≤ 0` or non-finite settings.
    pub fn new(model: &Model, params: ClassicalParams) -> Result<Self, ClassicalError> {
        if !(params.alpha >= 0.0 && params.alpha.is_finite()) {
            return Err(ClassicalError::BadParam {
                name: "alpha",
                value: params.alpha,
                expected: "a finite number ≥ 0",
            });
        }
        if !(params.tol > 0.0 && params.tol.is_finite()) {
            return Err(ClassicalError::BadParam {
                name: "tol",
                value: params.tol,
                expected: "a finite number > 0",
            });
        }
        let sites = |p: PauliString, place: String| -> Result<Vec<usize>, ClassicalError> {
            if p.x() != 0 {
                return Err(ClassicalError::NotDiagonal {
                    term: p.label(),
                    place,
                });
            }
            Ok(ones(p.z()))
        };
        let mut terms = Vec::with_capacity(model.fixed.len() + model.params.len());
        for &(p, c) in model.fixed.terms() {
            terms.push(Term {
                sites: sites(p, "fixed term".into())?,
                coef: Coef::Fixed(c.re),
            });
        }
        let mut param_terms = Vec::with_capacity(model.params.len());
        for (k, p) in model.params.iter().enumerate() {
            param_terms.push(terms.len());
            terms.push(Term {
                sites: sites(p.pauli, format!("param {k}"))?,
                coef: Coef::Param(k),
            });
        }
        Ok(Self {
            qubits: model.qubits,
            inputs: model.inputs.clone(),
            outputs: model.outputs.clone(),
            labels: model.params.iter().map(|p| p.label.clone()).collect(),
            terms,
            param_terms,
            params,
        })
    }

    /// Number of units (= qubits of the model).
    pub fn units(&self) -> usize {
        self.qubits
    }

    /// Parameter labels, in model order.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The settings.
    pub fn params(&self) -> &ClassicalParams {
        &self.params
    }

    /// Checks that `theta`, `example` and `beta` fit the network.
    ///
    /// # Errors
    /// [`ClassicalError::ThetaLength`], [`ClassicalError::InputsLength`],
    /// [`ClassicalError::TargetsLength`] (targets may be empty, or one per output),
    /// [`ClassicalError::BetaUnbounded`] for `β ≤ −1` or non-finite,
    /// [`ClassicalError::NoTargets`] for `β ≠ 0` without targets.
    pub fn check(&self, theta: &[f64], example: &Example, beta: f64) -> Result<(), ClassicalError> {
        if theta.len() != self.labels.len() {
            return Err(ClassicalError::ThetaLength {
                got: theta.len(),
                expected: self.labels.len(),
            });
        }
        if example.inputs.len() != self.inputs.len() {
            return Err(ClassicalError::InputsLength {
                got: example.inputs.len(),
                expected: self.inputs.len(),
            });
        }
        if !example.targets.is_empty() && example.targets.len() != self.outputs.len() {
            return Err(ClassicalError::TargetsLength {
                got: example.targets.len(),
                expected: self.outputs.len(),
            });
        }
        if !(beta > -1.0 && beta.is_finite()) {
            return Err(ClassicalError::BetaUnbounded { beta });
        }
        if beta != 0.0 && example.targets.is_empty() {
            return Err(ClassicalError::NoTargets);
        }
        Ok(())
    }

    #[track_caller]
    fn checked_clamp(&self, theta: &[f64], example: &Example, beta: f64, z: &[f64]) -> Clamp {
        if let Err(e) = self.check(theta, example, beta) {
            panic!("{e}");
        }
        assert_eq!(z.len(), self.qubits, "z has the wrong length");
        self.clamp(example, beta)
    }

    fn clamp(&self, example: &Example, beta: f64) -> Clamp {
        let n = self.qubits;
        let mut w = vec![0.0; n];
        let mut c = vec![0.0; n];
        for (&q, &u) in self.inputs.iter().zip(&example.inputs) {
            w[q] = self.params.alpha;
            c[q] = u;
        }
        if beta != 0.0 {
            for (&q, &d) in self.outputs.iter().zip(&example.targets) {
                w[q] = beta;
                c[q] = d;
            }
        }
        Clamp { w, c }
    }

    /// The energy `f(z)` of Eq. 1 (see the module docs) at clamping strength `beta`.
    /// Allocates `s`.
    ///
    /// # Panics
    /// If the arguments do not fit the network (see [`ClassicalNet::check`]) or
    /// `z.len() != units()`.
    #[track_caller]
    pub fn energy(&self, theta: &[f64], example: &Example, beta: f64, z: &[f64]) -> f64 {
        let clamp = self.checked_clamp(theta, example, beta, z);
        self.energy_at(theta, &clamp, z)
    }

    fn energy_at(&self, theta: &[f64], clamp: &Clamp, z: &[f64]) -> f64 {
        let act = self.params.activation;
        let s: Vec<f64> = z.iter().map(|&x| act.rho(x)).collect();
        let mut f = 0.0;
        for (i, &x) in z.iter().enumerate() {
            let dz = x - clamp.c[i];
            f += 0.5 * x * x + 0.5 * clamp.w[i] * dz * dz;
        }
        for t in &self.terms {
            f += t.coef(theta) * t.sites.iter().map(|&i| s[i]).product::<f64>();
        }
        f
    }

    /// `∂f/∂z_i = z_i + ρ'(z_i) ∂E_H/∂s_i + α[in](z_i − u_i) + β[out](z_i − d_i)` (Eq. 3 is
    /// `dz/dt = −∂f/∂z`). For the hard sigmoid on a kink: the one-sided derivative along which
    /// `f` decreases, or 0 for a pinned unit (module docs).
    ///
    /// # Panics
    /// As [`ClassicalNet::energy`].
    #[track_caller]
    pub fn gradient_z(&self, theta: &[f64], example: &Example, beta: f64, z: &[f64]) -> Vec<f64> {
        let clamp = self.checked_clamp(theta, example, beta, z);
        self.local(theta, &clamp, z).grad
    }

    /// The Hessian `∂²f/∂z_i∂z_j`, row-major `units × units` (App. A1 with the `h'' = 1` on
    /// every node): `H_ii = 1 + α[in] + β[out] + ρ''(z_i) ∂E_H/∂s_i`,
    /// `H_ij = ρ'(z_i) ρ'(z_j) ∂²E_H/∂s_i∂s_j` for `i ≠ j` (for a term `c Π_{k∈t} s_k`,
    /// `∂²/∂s_i∂s_j = c Π_{k∈t∖{i,j}} s_k`). For the hard sigmoid on a kink, `ρ'` is the
    /// one-sided value [`ClassicalNet::gradient_z`] uses (0 for a pinned unit).
    ///
    /// # Panics
    /// As [`ClassicalNet::energy`].
    #[track_caller]
    pub fn hessian(&self, theta: &[f64], example: &Example, beta: f64, z: &[f64]) -> Vec<f64> {
        let clamp = self.checked_clamp(theta, example, beta, z);
        let loc = self.local(theta, &clamp, z);
        self.hessian_at(theta, &clamp, &loc)
    }

    /// `∂f/∂θ_k = Π_{i∈P_k} ρ(z_i)` for every parameter (what Eq. 14 differences).
    ///
    /// # Panics
    /// If `z.len() != units()`.
    #[track_caller]
    pub fn theta_derivatives(&self, z: &[f64]) -> Vec<f64> {
        assert_eq!(z.len(), self.qubits, "z has the wrong length");
        let act = self.params.activation;
        self.param_terms
            .iter()
            .map(|&t| self.terms[t].sites.iter().map(|&i| act.rho(z[i])).product())
            .collect()
    }

    /// The cost `C(z) = ½ Σ_{i∈I_out} (z_i − d_i)²`.
    ///
    /// # Panics
    /// If the example's targets are not one per output or `z.len() != units()`.
    #[track_caller]
    pub fn cost(&self, example: &Example, z: &[f64]) -> f64 {
        assert_eq!(z.len(), self.qubits, "z has the wrong length");
        assert_eq!(
            example.targets.len(),
            self.outputs.len(),
            "one target per output needed"
        );
        self.outputs
            .iter()
            .zip(&example.targets)
            .map(|(&q, &d)| 0.5 * (z[q] - d) * (z[q] - d))
            .sum()
    }

    fn local(&self, theta: &[f64], clamp: &Clamp, z: &[f64]) -> Local {
        let n = self.qubits;
        let act = self.params.activation;
        let s: Vec<f64> = z.iter().map(|&x| act.rho(x)).collect();
        let mut dr: Vec<f64> = z.iter().map(|&x| act.rho_prime(x)).collect();
        let ddr: Vec<f64> = z.iter().map(|&x| act.rho_second(x)).collect();
        let mut field = vec![0.0; n];
        let mut prefix = Vec::new();
        for t in &self.terms {
            let c = t.coef(theta);
            // prefix[p] = Π_{q<p} s, running suffix: Π_{q≠p} s without division (s may be 0).
            prefix.clear();
            let mut acc = 1.0;
            for &i in &t.sites {
                prefix.push(acc);
                acc *= s[i];
            }
            let mut suffix = 1.0;
            for (p, &i) in t.sites.iter().enumerate().rev() {
                field[i] += c * prefix[p] * suffix;
                suffix *= s[i];
            }
        }
        let mut grad = vec![0.0; n];
        let mut side = vec![Side::Free; n];
        for i in 0..n {
            let a = z[i] + clamp.w[i] * (z[i] - clamp.c[i]);
            if act.has_kinks() && z[i].abs() == 1.0 {
                // One-sided derivatives: inside the kink ρ' = 1, outside ρ' = 0.
                let inner = a + field[i];
                let (right, left) = if z[i] > 0.0 { (a, inner) } else { (inner, a) };
                let up = right < 0.0;
                let down = left > 0.0;
                let chosen = match (up, down) {
                    (true, true) if -right >= left => Side::Up,
                    (true, true) => Side::Down,
                    (true, false) => Side::Up,
                    (false, true) => Side::Down,
                    (false, false) => Side::Pinned,
                };
                side[i] = chosen;
                let outward = (chosen == Side::Up) == (z[i] > 0.0);
                match chosen {
                    Side::Pinned => {
                        grad[i] = 0.0;
                        dr[i] = 0.0;
                    }
                    _ if outward => {
                        grad[i] = a;
                        dr[i] = 0.0;
                    }
                    _ => {
                        grad[i] = inner;
                        dr[i] = 1.0;
                    }
                }
            } else {
                grad[i] = a + dr[i] * field[i];
            }
        }
        Local {
            s,
            dr,
            ddr,
            field,
            grad,
            side,
        }
    }

    fn hessian_at(&self, theta: &[f64], clamp: &Clamp, loc: &Local) -> Vec<f64> {
        let n = self.qubits;
        let mut h = vec![0.0; n * n];
        for i in 0..n {
            h[i * n + i] = 1.0 + clamp.w[i] + loc.ddr[i] * loc.field[i];
        }
        for t in &self.terms {
            let m = t.sites.len();
            if m < 2 {
                continue;
            }
            let c = t.coef(theta);
            for p in 0..m {
                for q in p + 1..m {
                    let (a, b) = (t.sites[p], t.sites[q]);
                    let others: f64 = t
                        .sites
                        .iter()
                        .enumerate()
                        .filter(|&(r, _)| r != p && r != q)
                        .map(|(_, &k)| loc.s[k])
                        .product();
                    let v = c * loc.dr[a] * loc.dr[b] * others;
                    h[a * n + b] += v;
                    h[b * n + a] += v;
                }
            }
        }
        h
    }

    /// Relaxes to a minimum of `f` at clamping strength `beta` (Eq. 3), from `z0` (e.g. the
    /// free minimum, so that the clamped phases follow it) or from `z = 0`.
    ///
    /// Gradient flow `dz/dt = −∂f/∂z` reaches the same minimum, slowly (the input clamp makes
    /// the problem stiff); this is a damped Newton method instead. Each step tries, in order,
    /// until a backtracking (Armijo) line search finds a decrease of `f`:
    /// 1. the Newton step `−H⁻¹∇f` when the Hessian is positive definite;
    /// 2. otherwise the shifted step `−(H + μ)⁻¹∇f` with the smallest `μ = 10⁻⁴·4^k·‖H‖_max`
    ///    that makes `H + μ` positive definite (a Levenberg step: it follows the directions of
    ///    negative curvature out of a saddle region while staying a descent direction);
    /// 3. a direction of negative curvature from the failed Cholesky factorisation;
    /// 4. the gradient step `−∇f`.
    ///
    /// Steps are capped at `|Δz_i| ≤ 1`; near convergence, where `f` changes below rounding, a
    /// Newton step that lowers `‖∇f‖` is accepted. For the hard sigmoid a step stops on the first
    /// kink it meets, and a unit on a kink whose (shifted) Newton step would cross back is held
    /// there for that step. Converged when `‖∂f/∂z‖ ≤ tol` and the Hessian has no negative pivot
    /// (a saddle with zero gradient is left along its negative curvature). Allocates
    /// `O(units²)` per step.
    ///
    /// # Errors
    /// Those of [`ClassicalNet::check`]; [`ClassicalError::NotConverged`] when the budget runs
    /// out or no direction gives a decrease.
    ///
    /// # Panics
    /// If `z0` has the wrong length.
    pub fn relax(
        &self,
        theta: &[f64],
        example: &Example,
        beta: f64,
        z0: Option<&[f64]>,
    ) -> Result<Relaxed, ClassicalError> {
        self.check(theta, example, beta)?;
        let n = self.qubits;
        let clamp = self.clamp(example, beta);
        let tol = self.params.tol;
        let mut z = match z0 {
            Some(z0) => {
                assert_eq!(z0.len(), n, "z0 has the wrong length");
                z0.to_vec()
            }
            None => vec![0.0; n],
        };
        self.snap(&mut z);
        let mut f = self.energy_at(theta, &clamp, &z);
        let mut gnorm = f64::INFINITY;
        let fail = |iterations, grad_norm, energy, reason| ClassicalError::NotConverged {
            beta,
            iterations,
            grad_norm,
            tol,
            energy,
            reason,
        };
        for it in 0..=self.params.max_iterations {
            let loc = self.local(theta, &clamp, &z);
            gnorm = norm(&loc.grad);
            let hess = self.hessian_at(theta, &clamp, &loc);
            let hscale = 1.0 + hess.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let chol = cholesky(&hess, n);
            let saddle = match &chol {
                Ok(_) => false,
                Err(nf) => nf.pivot < -1e-12 * hscale,
            };
            if gnorm <= tol && !saddle {
                return Ok(Relaxed {
                    z,
                    energy: f,
                    grad_norm: gnorm,
                    iterations: it,
                });
            }
            if it == self.params.max_iterations {
                break;
            }
            let mut step = None;
            for stage in 0..4 {
                let (d, newton) = match stage {
                    0 if chol.is_ok() => (self.newton_direction(theta, &clamp, &loc, 0.0), true),
                    1 if chol.is_err() && gnorm > tol => {
                        let mut d = None;
                        let mut mu = 1e-4 * hscale;
                        for _ in 0..40 {
                            d = self.newton_direction(theta, &clamp, &loc, mu);
                            if d.is_some() {
                                break;
                            }
                            mu *= 4.0;
                        }
                        (d, false)
                    }
                    2 => match &chol {
                        Err(nf) if nf.pivot < 0.0 => {
                            (Some(negative_curvature(&hess, n, nf)), false)
                        }
                        _ => (None, false),
                    },
                    3 => (Some(loc.grad.iter().map(|g| -g).collect()), false),
                    _ => (None, false),
                };
                if let Some(d) = d {
                    step = self.line_search(theta, &clamp, &z, f, &loc.grad, gnorm, d, newton);
                    if step.is_some() {
                        break;
                    }
                }
            }
            match step {
                Some((z_new, f_new)) => {
                    z = z_new;
                    f = f_new;
                }
                None => return Err(fail(it, gnorm, f, "no direction gives a decrease")),
            }
        }
        Err(fail(
            self.params.max_iterations,
            gnorm,
            f,
            "iteration budget exhausted",
        ))
    }

    /// Puts units of the hard sigmoid within [`KINK_SNAP`] of a kink on it.
    fn snap(&self, z: &mut [f64]) {
        if self.params.activation.has_kinks() {
            for x in z.iter_mut() {
                if (x.abs() - 1.0).abs() <= KINK_SNAP {
                    *x = x.signum();
                }
            }
        }
    }

    /// `−(H + μ)⁻¹∇f`, or `None` if `H + μ` is not positive definite. Units on a kink whose
    /// step would cross back are held (their `ρ'` and gradient set to 0, which keeps the
    /// matrix positive definite: the rest is a principal submatrix) and the step recomputed.
    fn newton_direction(
        &self,
        theta: &[f64],
        clamp: &Clamp,
        loc: &Local,
        mu: f64,
    ) -> Option<Vec<f64>> {
        let n = self.qubits;
        let mut cur = loc.clone();
        for _ in 0..=n {
            let mut h = self.hessian_at(theta, clamp, &cur);
            for i in 0..n {
                h[i * n + i] += mu;
            }
            let l = cholesky(&h, n).ok()?;
            let d: Vec<f64> = solve_cholesky(&l, n, &cur.grad)
                .into_iter()
                .map(|x| -x)
                .collect();
            let wrong: Vec<usize> = (0..n)
                .filter(|&i| match cur.side[i] {
                    Side::Up => d[i] < 0.0,
                    Side::Down => d[i] > 0.0,
                    _ => false,
                })
                .collect();
            if wrong.is_empty() {
                return Some(d);
            }
            for i in wrong {
                cur.side[i] = Side::Pinned;
                cur.grad[i] = 0.0;
                cur.dr[i] = 0.0;
            }
        }
        None
    }

    /// Backtracking line search along `d` (capped at `|d_i| ≤ 1`, stopped at the first kink):
    /// the new point and energy, or `None` if no step of length `≥ 10⁻¹⁴` decreases `f`.
    #[allow(clippy::too_many_arguments)]
    fn line_search(
        &self,
        theta: &[f64],
        clamp: &Clamp,
        z: &[f64],
        f: f64,
        grad: &[f64],
        gnorm: f64,
        mut d: Vec<f64>,
        newton: bool,
    ) -> Option<(Vec<f64>, f64)> {
        let n = self.qubits;
        let mut slope = dot(grad, &d);
        if slope > 0.0 {
            d.iter_mut().for_each(|x| *x = -*x);
            slope = -slope;
        }
        let dmax = d.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        if !(dmax > 0.0 && dmax.is_finite()) {
            return None;
        }
        if dmax > MAX_STEP {
            let r = MAX_STEP / dmax;
            d.iter_mut().for_each(|x| *x *= r);
            slope *= r;
        }
        // The first kink on the way (hard sigmoid).
        let mut t_max = 1.0;
        let mut kink: Option<(usize, f64)> = None;
        if self.params.activation.has_kinks() {
            for i in 0..n {
                if d[i] == 0.0 {
                    continue;
                }
                for k in [-1.0, 1.0] {
                    if z[i] != k {
                        let t = (k - z[i]) / d[i];
                        if t > 0.0 && t < t_max {
                            t_max = t;
                            kink = Some((i, k));
                        }
                    }
                }
            }
        }
        let mut t = t_max;
        let mut z_new = vec![0.0; n];
        while t >= 1e-14 {
            for i in 0..n {
                z_new[i] = z[i] + t * d[i];
            }
            if t == t_max {
                if let Some((i, k)) = kink {
                    z_new[i] = k;
                }
            }
            self.snap(&mut z_new);
            let f_new = self.energy_at(theta, clamp, &z_new);
            let armijo = if slope < 0.0 {
                f_new <= f + 1e-4 * t * slope
            } else {
                f_new < f
            };
            let flat = newton
                && t == t_max
                && (f_new - f).abs() <= 64.0 * f64::EPSILON * (1.0 + f.abs())
                && norm(&self.local(theta, clamp, &z_new).grad) < gnorm;
            if armijo || flat {
                return Some((z_new, f_new));
            }
            t *= 0.5;
        }
        None
    }

    /// The free phase (β = 0) of one example: `z̄` on the outputs and, with targets, `C(z̄)`.
    ///
    /// # Errors
    /// Those of [`ClassicalNet::relax`].
    pub fn predict(&self, theta: &[f64], example: &Example) -> Result<Prediction, ClassicalError> {
        let state = self.relax(theta, example, 0.0, None)?;
        Ok(Prediction {
            z_outputs: self.outputs.iter().map(|&q| state.z[q]).collect(),
            cost: (!example.targets.is_empty()).then(|| self.cost(example, &state.z)),
            state,
        })
    }

    /// The EP estimate of `dC/dθ_k` (Eq. 13/14 in this sign convention, see the module docs):
    /// relaxes the free phase from `z = 0`, then the clamped phases `±β` from it, and returns
    /// `(Π ρ(z⁺) − Π ρ(z⁻))/2β` (bias O(β²)) or, `one_sided`, `(Π ρ(z^β) − Π ρ(z̄))/β` (O(β)).
    ///
    /// # Errors
    /// [`ClassicalError::BetaNotPositive`], [`ClassicalError::NoTargets`],
    /// [`ClassicalError::BetaUnbounded`] for `β ≥ 1` (the `−β` phase), and those of
    /// [`ClassicalNet::relax`].
    pub fn ep_gradient(
        &self,
        theta: &[f64],
        example: &Example,
        beta: f64,
        one_sided: bool,
    ) -> Result<ClassicalGradient, ClassicalError> {
        check_beta(beta)?;
        if example.targets.is_empty() {
            return Err(ClassicalError::NoTargets);
        }
        let free = self.relax(theta, example, 0.0, None)?;
        let plus = self.relax(theta, example, beta, Some(&free.z))?;
        let dp = self.theta_derivatives(&plus.z);
        let (gradient, clamped) = if one_sided {
            let d0 = self.theta_derivatives(&free.z);
            let g = dp.iter().zip(&d0).map(|(p, q)| (p - q) / beta).collect();
            (g, vec![plus])
        } else {
            let minus = self.relax(theta, example, -beta, Some(&free.z))?;
            let dm = self.theta_derivatives(&minus.z);
            let g = dp
                .iter()
                .zip(&dm)
                .map(|(p, m)| (p - m) / (2.0 * beta))
                .collect();
            (g, vec![plus, minus])
        };
        Ok(ClassicalGradient {
            params: self.labels.clone(),
            gradient,
            beta,
            one_sided,
            cost: self.cost(example, &free.z),
            z_outputs: self.outputs.iter().map(|&q| free.z[q]).collect(),
            free,
            clamped,
        })
    }

    /// The exact `dC/dθ_k` at the free minimum by implicit differentiation (Eq. 49):
    /// `dz̄/dθ_k = −H⁻¹ ∂²f/∂z∂θ_k` with `∂²f/∂z_i∂θ_k = ρ'(z_i) Π_{j∈P_k∖i} ρ(z_j)`, so
    /// `dC/dθ_k = Σ_out (z̄_i − d_i) dz̄_i/dθ_k = −λ·∂²f/∂z∂θ_k` with the adjoint `H λ = ∂C/∂z`,
    /// one Cholesky solve for every parameter.
    ///
    /// # Errors
    /// [`ClassicalError::NoTargets`], [`ClassicalError::NotMinimum`] if the Hessian at `z̄` is
    /// not positive definite, and those of [`ClassicalNet::relax`].
    pub fn implicit_gradient(
        &self,
        theta: &[f64],
        example: &Example,
    ) -> Result<ImplicitGradient, ClassicalError> {
        if example.targets.is_empty() {
            return Err(ClassicalError::NoTargets);
        }
        let free = self.relax(theta, example, 0.0, None)?;
        let n = self.qubits;
        let clamp = self.clamp(example, 0.0);
        let loc = self.local(theta, &clamp, &free.z);
        let hess = self.hessian_at(theta, &clamp, &loc);
        let l = cholesky(&hess, n).map_err(|nf| ClassicalError::NotMinimum {
            unit: nf.index,
            pivot: nf.pivot,
        })?;
        let mut dc = vec![0.0; n];
        for (&q, &d) in self.outputs.iter().zip(&example.targets) {
            dc[q] = free.z[q] - d;
        }
        let lambda = solve_cholesky(&l, n, &dc);
        let res: f64 = (0..n)
            .map(|i| {
                let r = dot(&hess[i * n..(i + 1) * n], &lambda) - dc[i];
                r * r
            })
            .sum::<f64>()
            .sqrt();
        let dcn = norm(&dc);
        let residual = if dcn > 0.0 { res / dcn } else { res };
        let gradient = self
            .param_terms
            .iter()
            .map(|&t| {
                let sites = &self.terms[t].sites;
                -sites
                    .iter()
                    .enumerate()
                    .map(|(p, &i)| {
                        let others: f64 = sites
                            .iter()
                            .enumerate()
                            .filter(|&(r, _)| r != p)
                            .map(|(_, &j)| loc.s[j])
                            .product();
                        lambda[i] * loc.dr[i] * others
                    })
                    .sum::<f64>()
            })
            .collect();
        Ok(ImplicitGradient {
            params: self.labels.clone(),
            gradient,
            cost: self.cost(example, &free.z),
            z_outputs: self.outputs.iter().map(|&q| free.z[q]).collect(),
            free,
            residual,
        })
    }
}

/// The failure of a Cholesky factorisation: the pivot at `index` was `pivot ≤ 0`; `l` holds
/// the first `index` columns.
struct NotPositive {
    index: usize,
    pivot: f64,
    l: Vec<f64>,
}

/// Lower Cholesky factor `L` (row-major) of a symmetric `n × n` matrix, `A = L Lᵀ`.
///
/// Hand-written rather than faer's: the systems are tiny (`n ≤ 64`), one per Newton step, and
/// the failing pivot is itself what the relaxation needs (the positive-definiteness test and a
/// direction of negative curvature, [`negative_curvature`]).
fn cholesky(a: &[f64], n: usize) -> Result<Vec<f64>, NotPositive> {
    let mut l = vec![0.0; n * n];
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= l[j * n + k] * l[j * n + k];
        }
        if d.is_nan() || d <= 0.0 {
            return Err(NotPositive {
                index: j,
                pivot: d,
                l,
            });
        }
        let ljj = d.sqrt();
        l[j * n + j] = ljj;
        for i in j + 1..n {
            let mut v = a[i * n + j];
            for k in 0..j {
                v -= l[i * n + k] * l[j * n + k];
            }
            l[i * n + j] = v / ljj;
        }
    }
    Ok(l)
}

/// Solves `L Lᵀ x = b`.
fn solve_cholesky(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    let mut y = b.to_vec();
    for i in 0..n {
        for k in 0..i {
            y[i] -= l[i * n + k] * y[k];
        }
        y[i] /= l[i * n + i];
    }
    for i in (0..n).rev() {
        for k in i + 1..n {
            y[i] -= l[k * n + i] * y[k];
        }
        y[i] /= l[i * n + i];
    }
    y
}

/// With `A = H[..j, ..j] = L Lᵀ` and `b = H[..j, j]` where the pivot `j` failed,
/// `d = (−A⁻¹b, 1, 0, …)` has `dᵀHd` = the pivot `< 0`: a direction of negative curvature.
fn negative_curvature(h: &[f64], n: usize, nf: &NotPositive) -> Vec<f64> {
    let j = nf.index;
    let mut sub = vec![0.0; j * j];
    for r in 0..j {
        sub[r * j..(r + 1) * j].copy_from_slice(&nf.l[r * n..r * n + j]);
    }
    let b: Vec<f64> = (0..j).map(|r| h[r * n + j]).collect();
    let x = solve_cholesky(&sub, j, &b);
    let mut d = vec![0.0; n];
    for r in 0..j {
        d[r] = -x[r];
    }
    d[j] = 1.0;
    d
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

/// The set bits of `mask`, ascending.
fn ones(mut mask: u64) -> Vec<usize> {
    let mut v = Vec::with_capacity(mask.count_ones() as usize);
    while mask != 0 {
        v.push(mask.trailing_zeros() as usize);
        mask &= mask - 1;
    }
    v
}

/// A ground configuration of the diagonal Hamiltonian, with its evidence.
#[derive(Clone, Debug, Serialize)]
pub struct IsingGround {
    /// `s_i = ±1` (`+1` ⟺ bit `i` = 0).
    pub spins: Vec<i8>,
    /// The basis index `b = Σ_i b_i 2^i`.
    pub bits: u64,
    /// `E(s) = ⟨b|H(β, θ, u, d)|b⟩`.
    pub energy: f64,
    /// Distance to the next configuration's energy (`≥` [`ISING_GAP_THRESHOLD`]).
    pub gap: f64,
}

/// Eq. 28 on Ising ground states, with the states.
#[derive(Clone, Debug, Serialize)]
pub struct IsingGradient {
    /// Parameter labels, in model order.
    pub params: Vec<String>,
    /// `(P_k(s⁺) − P_k(s⁻))/2β`.
    pub gradient: Vec<f64>,
    /// β used.
    pub beta: f64,
    /// Ground state of `H(0)`.
    pub free: IsingGround,
    /// Ground state of `H(+β)`.
    pub plus: IsingGround,
    /// Ground state of `H(−β)`.
    pub minus: IsingGround,
}

/// `H(β, θ, u, d)` (Eq. 16) of a Z-only model as `(Z-mask, coefficient)` pairs.
fn diagonal_terms(
    model: &Model,
    theta: &[f64],
    example: &Example,
    beta: f64,
) -> Result<Vec<(u64, f64)>, ClassicalError> {
    if model.qubits > MAX_ISING_SPINS {
        return Err(ClassicalError::TooManySpins {
            qubits: model.qubits,
            limit: MAX_ISING_SPINS,
        });
    }
    if theta.len() != model.params.len() {
        return Err(ClassicalError::ThetaLength {
            got: theta.len(),
            expected: model.params.len(),
        });
    }
    if example.inputs.len() != model.inputs.len() {
        return Err(ClassicalError::InputsLength {
            got: example.inputs.len(),
            expected: model.inputs.len(),
        });
    }
    if !example.targets.is_empty() && example.targets.len() != model.outputs.len() {
        return Err(ClassicalError::TargetsLength {
            got: example.targets.len(),
            expected: model.outputs.len(),
        });
    }
    if !beta.is_finite() {
        return Err(ClassicalError::BadParam {
            name: "beta",
            value: beta,
            expected: "a finite number",
        });
    }
    if beta != 0.0 && example.targets.is_empty() {
        return Err(ClassicalError::NoTargets);
    }
    let mut terms = Vec::new();
    for &(p, c) in model.fixed.terms() {
        if p.x() != 0 {
            return Err(ClassicalError::NotDiagonal {
                term: p.label(),
                place: "fixed term".into(),
            });
        }
        terms.push((p.z(), c.re));
    }
    for (k, (p, &t)) in model.params.iter().zip(theta).enumerate() {
        if p.pauli.x() != 0 {
            return Err(ClassicalError::NotDiagonal {
                term: p.pauli.label(),
                place: format!("param {k}"),
            });
        }
        terms.push((p.pauli.z(), t));
    }
    for (&q, &u) in model.inputs.iter().zip(&example.inputs) {
        terms.push((1u64 << q, u));
    }
    if beta != 0.0 {
        // β ½ (s − d)² = β [½(1 + d²) − d s] for s = ±1.
        for (&q, &d) in model.outputs.iter().zip(&example.targets) {
            terms.push((0, 0.5 * beta * (1.0 + d * d)));
            terms.push((1u64 << q, -beta * d));
        }
    }
    Ok(terms)
}

/// The ground configuration of a Z-only model's `H(β, θ, u, d)` (Eq. 16) by exhaustive
/// enumeration of the `2^N` basis states, `E(s) = ⟨b|H|b⟩ = H_fixed(s) + Σ θ_k P_k(s)
/// + Σ_in u_i s_i + β ½ Σ_out (s_i − d_i)²`, with `s_i = +1` ⟺ bit `i` = 0 (`Z|0⟩ = +|0⟩`).
/// Cost `O(2^N · terms)`, no allocation per state.
///
/// # Errors
/// [`ClassicalError::TooManySpins`] above [`MAX_ISING_SPINS`], [`ClassicalError::NotDiagonal`]
/// for a term with X or Y, the length errors of [`ClassicalNet::check`],
/// [`ClassicalError::NoTargets`] for `β ≠ 0` without targets, and
/// [`ClassicalError::Degenerate`] when the two lowest energies are closer than
/// [`ISING_GAP_THRESHOLD`] (never broken by accident).
pub fn ising_ground_state(
    model: &Model,
    theta: &[f64],
    example: &Example,
    beta: f64,
) -> Result<IsingGround, ClassicalError> {
    let terms = diagonal_terms(model, theta, example, beta)?;
    let n = model.qubits;
    let energy = |b: u64| -> f64 {
        terms
            .iter()
            .map(|&(m, c)| {
                if (b & m).count_ones().is_multiple_of(2) {
                    c
                } else {
                    -c
                }
            })
            .sum()
    };
    let (mut e0, mut b0) = (energy(0), 0u64);
    let (mut e1, mut b1) = (f64::INFINITY, 0u64);
    for b in 1..(1u64 << n) {
        let e = energy(b);
        if e < e0 {
            (e1, b1) = (e0, b0);
            (e0, b0) = (e, b);
        } else if e < e1 {
            (e1, b1) = (e, b);
        }
    }
    let gap = e1 - e0;
    if gap < ISING_GAP_THRESHOLD {
        return Err(ClassicalError::Degenerate {
            beta,
            gap,
            threshold: ISING_GAP_THRESHOLD,
            first: format!("{b0:0n$b}"),
            second: format!("{b1:0n$b}"),
        });
    }
    Ok(IsingGround {
        spins: (0..n)
            .map(|i| if (b0 >> i) & 1 == 0 { 1 } else { -1 })
            .collect(),
        bits: b0,
        energy: e0,
        gap,
    })
}

/// Eq. 28 on the Ising ground states of a Z-only model: `(P_k(s⁺) − P_k(s⁻))/2β` with
/// `P_k(s) = Π_{i∈P_k} s_i` and `s^±` the ground configurations of `H(±β)`. Quantum EP on
/// such a (diagonal) model must return exactly this.
///
/// # Errors
/// [`ClassicalError::BetaNotPositive`], [`ClassicalError::NoTargets`], and those of
/// [`ising_ground_state`] for `β = 0, ±β` (all three ground states must be non-degenerate).
pub fn ising_ep_gradient(
    model: &Model,
    theta: &[f64],
    example: &Example,
    beta: f64,
) -> Result<IsingGradient, ClassicalError> {
    check_beta(beta)?;
    if example.targets.is_empty() {
        return Err(ClassicalError::NoTargets);
    }
    let free = ising_ground_state(model, theta, example, 0.0)?;
    let plus = ising_ground_state(model, theta, example, beta)?;
    let minus = ising_ground_state(model, theta, example, -beta)?;
    let value = |g: &IsingGround, p: PauliString| -> f64 {
        if (g.bits & p.z()).count_ones().is_multiple_of(2) {
            1.0
        } else {
            -1.0
        }
    };
    let gradient = model
        .params
        .iter()
        .map(|p| (value(&plus, p.pauli) - value(&minus, p.pauli)) / (2.0 * beta))
        .collect();
    Ok(IsingGradient {
        params: model.params.iter().map(|p| p.label.clone()).collect(),
        gradient,
        beta,
        free,
        plus,
        minus,
    })
}

/// [`crate::ep::params::check_beta`] as a classical error.
pub(crate) fn check_beta(beta: f64) -> Result<(), ClassicalError> {
    crate::ep::params::check_beta(beta).map_err(|_| ClassicalError::BetaNotPositive { beta })
}
