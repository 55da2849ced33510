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
//! Eq. 28 on those states, `(P_k(s⁺) − P_k(s⁻))/2β`, is what quantum EP on such a model must
//! give exactly (the eigen engine is tested against it).
//!
//! [`gradient_z`]: ClassicalNet::gradient_z

use serde::Serialize;

use super::ClassicalError;
use crate::hamiltonian::{Example, Model};
use crate::pauli::PauliString;

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

    pub(super) fn has_kinks(self) -> bool {
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
pub(super) enum Coef {
    Fixed(f64),
    Param(usize),
}

/// One term `c Π_{i∈sites} s_i` of `E_H`.
#[derive(Clone, Debug)]
pub(super) struct Term {
    pub(super) sites: Vec<usize>,
    pub(super) coef: Coef,
}

impl Term {
    pub(super) fn coef(&self, theta: &[f64]) -> f64 {
        match self.coef {
            Coef::Fixed(c) => c,
            Coef::Param(k) => theta[k],
        }
    }
}

/// The quadratic clamps `Σ_i (w_i/2)(z_i − c_i)²` of one phase: `w = α, c = u` on inputs,
/// `w = β, c = d` on outputs.
pub(super) struct Clamp {
    pub(super) w: Vec<f64>,
    pub(super) c: Vec<f64>,
}

/// How a unit of the hard sigmoid sits relative to a kink.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Side {
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
pub(super) struct Local {
    pub(super) s: Vec<f64>,
    pub(super) dr: Vec<f64>,
    pub(super) ddr: Vec<f64>,
    pub(super) field: Vec<f64>,
    pub(super) grad: Vec<f64>,
    pub(super) side: Vec<Side>,
}

/// A classical EP network compiled from a [`Model`]: every term as a list of units and a
/// coefficient (fixed, or `θ_k` passed per call). See the module docs of `qep::ep::classical`.
#[derive(Clone, Debug)]
pub struct ClassicalNet {
    pub(super) qubits: usize,
    pub(super) inputs: Vec<usize>,
    pub(super) outputs: Vec<usize>,
    pub(super) labels: Vec<String>,
    pub(super) terms: Vec<Term>,
    /// Index in `terms` of parameter `k`'s term.
    pub(super) param_terms: Vec<usize>,
    pub(super) params: ClassicalParams,
}

impl ClassicalNet {
    /// Compiles `model` into a classical network: `H_fixed` and the parameters `P_k` become
    /// lists of units. Allocates `O(terms · weight)`.
    ///
    /// # Errors
    /// [`ClassicalError::NotDiagonal`] for a term with an X or Y letter (naming it),
    /// [`ClassicalError::Tied`] for a tied parameter,
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
            if p.is_tied() {
                return Err(ClassicalError::Tied {
                    label: p.label.clone(),
                    place: format!("param {k}"),
                    strings: p.strings.len(),
                });
            }
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
    pub(super) fn checked_clamp(
        &self,
        theta: &[f64],
        example: &Example,
        beta: f64,
        z: &[f64],
    ) -> Clamp {
        if let Err(e) = self.check(theta, example, beta) {
            panic!("{e}");
        }
        assert_eq!(z.len(), self.qubits, "z has the wrong length");
        self.clamp(example, beta)
    }

    pub(super) fn clamp(&self, example: &Example, beta: f64) -> Clamp {
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

    pub(super) fn energy_at(&self, theta: &[f64], clamp: &Clamp, z: &[f64]) -> f64 {
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

    pub(super) fn local(&self, theta: &[f64], clamp: &Clamp, z: &[f64]) -> Local {
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

    pub(super) fn hessian_at(&self, theta: &[f64], clamp: &Clamp, loc: &Local) -> Vec<f64> {
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
}

/// The set bits of `mask`, ascending.
pub(super) fn ones(mut mask: u64) -> Vec<usize> {
    let mut v = Vec::with_capacity(mask.count_ones() as usize);
    while mask != 0 {
        v.push(mask.trailing_zeros() as usize);
        mask &= mask - 1;
    }
    v
}
